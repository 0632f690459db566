/* Test keys, the fixed trusted root and re-signing for the TUF fuzz targets.
 * Keys come from fixed seeds so runs are reproducible; nothing here is used
 * outside the fuzzers. */
#include "fuzz_support.h"
#include "rf_cjson.h"
#include "rf_util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static rf_key *KEYS[RF_TUF_NROLES];
static char KIDS[RF_TUF_NROLES][RF_SHA256_HEX_LEN + 1];
static rf_tuf_root ROOT;
static int READY;

static json_t *key_obj(rf_tuf_role r)
{
    char pub[2 * RF_ED25519_PUB_LEN + 1];

    if (rf_key_public_hex(KEYS[r], pub) != RF_OK)
        abort();
    return json_pack("{s:s, s:s, s:{s:s}}", "keytype", "ed25519", "scheme", "ed25519", "keyval",
                     "public", pub);
}

/* Signs the canonical form of signed_obj with role's key into a new envelope. */
static json_t *envelope(json_t *signed_obj, rf_tuf_role role)
{
    uint8_t sig[RF_ED25519_SIG_LEN];
    char hex[2 * RF_ED25519_SIG_LEN + 1];
    json_t *env = NULL;
    rf_buf b;

    rf_buf_init(&b, RF_TUF_TARGETS_MAX_BYTES * 2);
    if (rf_cjson_encode(signed_obj, &b, NULL) == RF_OK &&
        rf_ed25519_sign(KEYS[role], b.data, b.len, sig) == RF_OK) {
        rf_hex_encode(sig, sizeof(sig), hex);
        env = json_pack("{s:O, s:[{s:s, s:s}]}", "signed", signed_obj, "signatures", "keyid",
                        KIDS[role], "sig", hex);
    }
    rf_buf_cleanup(&b);
    return env;
}

static void dump(json_t *doc, rf_buf *out)
{
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;

    rf_buf_reset(out);
    if (text && rf_buf_append_str(out, text) != RF_OK)
        rf_buf_reset(out);
    free(text);
}

static void setup(void)
{
    char exp[32];
    json_t *keys, *roles, *dir, *s, *env;
    rf_buf b;

    for (int r = 0; r < RF_TUF_NROLES; r++) {
        uint8_t seed[32];
        memset(seed, 0x5a, sizeof(seed));
        seed[0] = (uint8_t)r;
        if (rf_key_from_raw_private(seed, &KEYS[r]) != RF_OK ||
            rf_key_id(KEYS[r], KIDS[r]) != RF_OK)
            abort();
    }
    keys = json_object();
    roles = json_object();
    for (int r = RF_TUF_ROOT; r <= RF_TUF_TARGETS; r++) {
        json_object_set_new(keys, KIDS[r], key_obj((rf_tuf_role)r));
        json_object_set_new(roles, rf_tuf_role_name((rf_tuf_role)r),
                            json_pack("{s:[s], s:i}", "keyids", KIDS[r], "threshold", 1));
    }
    dir = json_pack("{s:{s:o}, s:i}", "keys", KIDS[RF_TUF_DIRECTOR], key_obj(RF_TUF_DIRECTOR),
                    "threshold", 1);
    rf_time_iso(FUZZ_NOW + 365 * 86400LL, exp);
    s = json_pack("{s:s, s:s, s:i, s:s, s:b, s:o, s:o, s:o}", "_type", "root", "spec_version",
                  "1.0.31", "version", 1, "expires", exp, "consistent_snapshot", 1, "keys", keys,
                  "roles", roles, RF_TUF_DIRECTOR_FIELD, dir);
    env = envelope(s, RF_TUF_ROOT);
    rf_buf_init(&b, RF_TUF_ROOT_MAX_BYTES);
    dump(env, &b);
    if (rf_tuf_root_load(b.data, b.len, &ROOT, NULL) != RF_OK)
        abort();
    rf_buf_cleanup(&b);
    json_decref(env);
    json_decref(s);
    READY = 1;
}

const rf_tuf_root *fuzz_root(void)
{
    if (!READY)
        setup();
    return &ROOT;
}

int fuzz_resign(const uint8_t *data, size_t len, rf_tuf_role role, rf_buf *out)
{
    json_t *doc, *env;
    int rc = -1;

    fuzz_root();
    doc = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, NULL);
    if (json_is_object(json_object_get(doc, "signed"))) {
        env = envelope(json_object_get(doc, "signed"), role);
        if (env) {
            dump(env, out);
            rc = out->len ? 0 : -1;
        }
        json_decref(env);
    }
    json_decref(doc);
    return rc;
}

void fuzz_fixed_meta(const char *type, int64_t names, rf_buf *out)
{
    bool ts = strcmp(type, "timestamp") == 0;
    char exp[32];
    json_t *s, *env;

    fuzz_root();
    rf_time_iso(FUZZ_NOW + 86400, exp);
    s = json_pack("{s:s, s:s, s:i, s:s, s:{s:{s:I}}}", "_type", type, "spec_version", "1.0.31",
                  "version", 1, "expires", exp, "meta", ts ? "snapshot.json" : "targets.json",
                  "version", (json_int_t)(names > 0 ? names : 1));
    env = envelope(s, ts ? RF_TUF_TIMESTAMP : RF_TUF_SNAPSHOT);
    dump(env, out);
    json_decref(env);
    json_decref(s);
}
