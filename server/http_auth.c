/* Who is asking: turns the Authorization header into an rf_principal by
 * looking the SHA-256 of the token up in the database (user tokens, device
 * tokens) or comparing it, in constant time, with the enrollment key. It never
 * logs or keeps a token. Device tokens found are remembered by digest for a
 * minute (auth_cache.h); user tokens are looked up every time, so a revoked
 * user token stops working on the next request. */
#include "auth_cache.h"
#include "http_internal.h"
#include "rf_crypto.h"
#include "rf_util.h"
#include "store_device.h"
#include "store_token.h"

#include <string.h>

#define AUTH_DB_TIMEOUT_MS 2000

static rf_role role_of(const char *s)
{
    if (strcmp(s, "viewer") == 0)
        return RF_ROLE_VIEWER;
    if (strcmp(s, "release") == 0)
        return RF_ROLE_RELEASE;
    if (strcmp(s, "admin") == 0)
        return RF_ROLE_ADMIN;
    return RF_ROLE_NONE;
}

static int is_enroll_key(const rf_config *cfg, const char *tok, size_t len)
{
    uint8_t a[RF_SHA256_LEN], b[RF_SHA256_LEN];
    int eq;

    if (!cfg->enroll_key[0])
        return 0;
    /* Comparing digests keeps the comparison constant-time whatever the lengths. */
    rf_sha256(tok, len, a);
    rf_sha256(cfg->enroll_key, strlen(cfg->enroll_key), b);
    eq = rf_ct_equal(a, b, sizeof(a));
    return eq;
}

static rf_err lookup(rf_server *srv, const char *tok, size_t len, rf_principal *out)
{
    char hash[RF_SHA256_HEX_LEN + 1];
    char role[16], name[128];
    rf_db *db = NULL;
    rf_error e = {0};
    rf_err rc;

    uint8_t digest[RF_SHA256_LEN];
    rf_sha256(tok, len, digest);
    if (strncmp(tok, "rfd_", 4) == 0 &&
        auth_cache_get(srv->auth_cache, digest, rf_monotonic_ms(), out->device_id)) {
        out->kind = RF_PRINCIPAL_DEVICE;
        memcpy(out->name, out->device_id, sizeof(out->device_id));
        return RF_OK;
    }
    rf_hex_encode(digest, sizeof(digest), hash);
    rc = store_acquire(srv->store, AUTH_DB_TIMEOUT_MS, &db);
    if (rc != RF_OK)
        return RF_ERR_UNAVAILABLE;
    if (strncmp(tok, "rfu_", 4) == 0) {
        rc = store_token_lookup(db, hash, role, name, &e);
        if (rc == RF_OK && role_of(role) != RF_ROLE_NONE) {
            out->kind = RF_PRINCIPAL_USER;
            out->role = role_of(role);
            memcpy(out->name, name, sizeof(out->name));
        }
    } else {
        rc = store_device_auth(db, hash, out->device_id, &e);
        if (rc == RF_OK) {
            out->kind = RF_PRINCIPAL_DEVICE;
            memcpy(out->name, out->device_id, sizeof(out->device_id));
            auth_cache_put(srv->auth_cache, digest, out->device_id, rf_monotonic_ms());
        }
    }
    store_release(srv->store, db);
    if (rc == RF_ERR_NOT_FOUND)
        rc = RF_OK; /* stays BAD */
    return rc == RF_ERR_UNAVAILABLE ? rc : RF_OK;
}

rf_err http_auth_resolve(rf_server *srv, const char *authorization, rf_principal *out)
{
    const char *tok;
    size_t len = 0;

    memset(out, 0, sizeof(*out));
    out->kind = RF_PRINCIPAL_ANON;
    if (!authorization)
        return RF_OK;
    out->kind = RF_PRINCIPAL_BAD;
    tok = http_bearer_token(authorization, &len);
    if (!tok)
        return RF_OK;
    /* A token that carries a user or device prefix the enrollment key does
     * not carry cannot be the enrollment key: no need to hash both. */
    int prefixed = len >= 4 && (strncmp(tok, "rfu_", 4) == 0 || strncmp(tok, "rfd_", 4) == 0);
    int may_enroll = !prefixed || strncmp(srv->cfg.enroll_key, tok, 4) == 0;
    if (may_enroll && is_enroll_key(&srv->cfg, tok, len)) {
        out->kind = RF_PRINCIPAL_ENROLL;
        memcpy(out->name, "enrollment", sizeof("enrollment"));
        return RF_OK;
    }
    if (len < 8 || (strncmp(tok, "rfu_", 4) != 0 && strncmp(tok, "rfd_", 4) != 0))
        return RF_OK;
    return lookup(srv, tok, len, out);
}
