/* Builders of the TUF repository's signed metadata, the envelope signer, the
 * root parser and the re-signing plan. Pure: plain structs in, JSON or bytes
 * out; no SQL, no files, no clock. Signed bytes are always rf_cjson's
 * canonical form, and the envelope itself is stored canonical too, so the
 * bytes hashed into timestamp and snapshot are the bytes clients receive. */
#include "tuf_repo.h"
#include "rf_cjson.h"
#include "rf_util.h"

#include <stdlib.h>
#include <string.h>

#define TUF_META_MAX (8 * 1024 * 1024)
#define TUF_ROOT_MAX 512000
#define DAY_S 86400

static const char *const role_names[TUF_NROLES] = {"root", "targets", "snapshot", "timestamp",
                                                   "director"};

const char *tuf_role_name(tuf_role r)
{
    return (unsigned)r < TUF_NROLES ? role_names[r] : "?";
}

int tuf_role_parse(const char *s, tuf_role *out)
{
    for (int i = 0; s != NULL && i < TUF_NROLES; i++) {
        if (strcmp(s, role_names[i]) == 0) {
            *out = (tuf_role)i;
            return 0;
        }
    }
    return -1;
}

static json_t *key_object(const char *public_hex)
{
    return json_pack("{s:s, s:s, s:{s:s}}", "keytype", "ed25519", "scheme", "ed25519", "keyval",
                     "public", public_hex);
}

static int is_lower_hex(const char *s, size_t n)
{
    if (s == NULL || strlen(s) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

rf_err tuf_keyid_of_hex(const char *public_hex, char out[RF_SHA256_HEX_LEN + 1])
{
    rf_buf b;
    json_t *obj;
    rf_err rc;

    if (!is_lower_hex(public_hex, 2 * RF_ED25519_PUB_LEN))
        return RF_ERR_INVALID;
    obj = key_object(public_hex);
    if (obj == NULL)
        return RF_ERR_NOMEM;
    rf_buf_init(&b, 1024);
    rc = rf_cjson_encode(obj, &b, NULL);
    if (rc == RF_OK)
        rf_sha256_hex(b.data, b.len, out);
    rf_buf_cleanup(&b);
    json_decref(obj);
    return rc;
}

rf_err tuf_pubkey_of(const rf_key *k, tuf_pubkey *out)
{
    rf_err rc;

    memset(out, 0, sizeof(*out));
    rc = rf_key_public_hex(k, out->public_hex);
    if (rc == RF_OK)
        rc = tuf_keyid_of_hex(out->public_hex, out->keyid);
    return rc;
}

int tuf_root_has_key(const tuf_root *root, tuf_role r, const char *keyid)
{
    if (root == NULL || (unsigned)r >= TUF_NROLES || keyid == NULL)
        return 0;
    for (int i = 0; i < root->role[r].n; i++)
        if (strcmp(root->role[r].keys[i].keyid, keyid) == 0)
            return 1;
    return 0;
}

rf_err tuf_target_path(const char *channel, const char *name, const char *version,
                       char out[TUF_TARGET_PATH_MAX + 1], rf_error *err)
{
    out[0] = '\0';
    if (strcmp(channel, ".") == 0 || strcmp(channel, "..") == 0)
        return rf_error_set(err, RF_ERR_INVALID,
                            "field 'channel': '%s' cannot name a directory of TUF targets",
                            channel);
    if (rf_snprintf(out, TUF_TARGET_PATH_MAX + 1, "%s/%s-%s", channel, name, version) != RF_OK)
        return rf_error_set(err, RF_ERR_INVALID, "target path: longer than %d bytes",
                            TUF_TARGET_PATH_MAX);
    return RF_OK;
}

/* ---- builders ---- */

/* The fields every role's "signed" starts with. */
static json_t *common_fields(const char *type, long long version, int64_t expires_s, rf_error *err)
{
    char expires[32];
    json_t *o;

    if (version < 1) {
        rf_error_set(err, RF_ERR_INVALID, "%s: version must be at least 1", type);
        return NULL;
    }
    rf_time_iso(expires_s, expires);
    o = json_pack("{s:s, s:s, s:I, s:s}", "_type", type, "spec_version", TUF_SPEC_VERSION,
                  "version", (json_int_t)version, "expires", expires);
    if (o == NULL)
        rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    return o;
}

static rf_err check_role_keys(const tuf_role_keys *rk, tuf_role r, rf_error *err)
{
    if (rk->n < 1 || rk->n > TUF_MAX_ROLE_KEYS)
        return rf_error_set(err, RF_ERR_INVALID, "root: role %s needs 1-%d keys (has %d)",
                            tuf_role_name(r), TUF_MAX_ROLE_KEYS, rk->n);
    if (rk->threshold < 1 || rk->threshold > rk->n)
        return rf_error_set(err, RF_ERR_INVALID,
                            "root: role %s threshold %d cannot be met by its %d keys",
                            tuf_role_name(r), rk->threshold, rk->n);
    for (int i = 0; i < rk->n; i++) {
        char want[RF_SHA256_HEX_LEN + 1];
        if (tuf_keyid_of_hex(rk->keys[i].public_hex, want) != RF_OK ||
            strcmp(want, rk->keys[i].keyid) != 0)
            return rf_error_set(err, RF_ERR_INVALID, "root: role %s key %d has a wrong keyid",
                                tuf_role_name(r), i);
        for (int j = 0; j < i; j++)
            if (strcmp(rk->keys[j].keyid, rk->keys[i].keyid) == 0)
                return rf_error_set(err, RF_ERR_INVALID, "root: role %s lists key %.8s twice",
                                    tuf_role_name(r), rk->keys[i].keyid);
    }
    return RF_OK;
}

/* {"keyids": [...], "threshold": T}, adding each key object to keys. */
static json_t *role_object(const tuf_role_keys *rk, json_t *keys)
{
    json_t *ids = json_array();
    int ok = ids != NULL;

    for (int i = 0; ok && i < rk->n; i++) {
        ok = json_array_append_new(ids, json_string(rk->keys[i].keyid)) == 0 &&
             json_object_set_new(keys, rk->keys[i].keyid, key_object(rk->keys[i].public_hex)) == 0;
    }
    if (!ok) {
        json_decref(ids);
        return NULL;
    }
    return json_pack("{s:o, s:i}", "keyids", ids, "threshold", rk->threshold);
}

json_t *tuf_root_signed(const tuf_root *root, rf_error *err)
{
    json_t *o, *keys = json_object(), *roles = json_object(), *dkeys = json_object();
    int ok;

    for (int r = 0; r < TUF_NROLES; r++)
        if (check_role_keys(&root->role[r], (tuf_role)r, err) != RF_OK)
            goto fail;
    o = common_fields("root", root->version, root->expires_s, err);
    ok = o != NULL && keys != NULL && roles != NULL && dkeys != NULL;
    for (int r = TUF_ROOT; ok && r < TUF_DIRECTOR; r++)
        ok = json_object_set_new(roles, role_names[r], role_object(&root->role[r], keys)) == 0;
    json_t *director = ok ? role_object(&root->role[TUF_DIRECTOR], dkeys) : NULL;
    ok = ok && director != NULL && json_object_set(director, "keys", dkeys) == 0 &&
         json_object_del(director, "keyids") == 0 &&
         json_object_set_new(o, "consistent_snapshot", json_true()) == 0 &&
         json_object_set(o, "keys", keys) == 0 && json_object_set(o, "roles", roles) == 0 &&
         json_object_set_new(o, TUF_DIRECTOR_FIELD, director) == 0;
    json_decref(keys);
    json_decref(roles);
    json_decref(dkeys);
    if (!ok) {
        json_decref(o);
        if (o != NULL)
            rf_error_set(err, RF_ERR_NOMEM, "out of memory");
        return NULL;
    }
    return o;
fail:
    json_decref(keys);
    json_decref(roles);
    json_decref(dkeys);
    return NULL;
}

json_t *tuf_targets_signed(long long version, int64_t expires_s, const tuf_target *targets,
                           size_t n, rf_error *err)
{
    json_t *o = common_fields("targets", version, expires_s, err);
    json_t *map = json_object();
    int ok = o != NULL && map != NULL;

    for (size_t i = 0; ok && i < n; i++) {
        const tuf_target *t = &targets[i];
        if (!is_lower_hex(t->sha256, RF_SHA256_HEX_LEN) || t->length < 0 || !t->path[0]) {
            rf_error_set(err, RF_ERR_INVALID, "targets: entry %zu is malformed", i);
            json_decref(o);
            json_decref(map);
            return NULL;
        }
        ok = json_object_set_new(map, t->path,
                                 json_pack("{s:I, s:{s:s}, s:{s:s, s:s, s:s, s:I}}", "length",
                                           (json_int_t)t->length, "hashes", "sha256", t->sha256,
                                           "custom", "channel", t->channel, "name", t->name,
                                           "version", t->version, "bundle_id",
                                           (json_int_t)t->bundle_id)) == 0;
    }
    if (ok)
        ok = json_object_set(o, "targets", map) == 0;
    json_decref(map);
    if (!ok && o != NULL) {
        json_decref(o);
        rf_error_set(err, RF_ERR_NOMEM, "out of memory");
        return NULL;
    }
    return o;
}

json_t *tuf_snapshot_signed(long long version, int64_t expires_s, long long targets_version,
                            rf_error *err)
{
    json_t *o = common_fields("snapshot", version, expires_s, err);

    if (o != NULL && targets_version < 1) {
        json_decref(o);
        rf_error_set(err, RF_ERR_INVALID, "snapshot: targets version must be at least 1");
        return NULL;
    }
    if (o != NULL && json_object_set_new(o, "meta",
                                         json_pack("{s:{s:I}}", "targets.json", "version",
                                                   (json_int_t)targets_version)) != 0) {
        json_decref(o);
        rf_error_set(err, RF_ERR_NOMEM, "out of memory");
        return NULL;
    }
    return o;
}

json_t *tuf_timestamp_signed(long long version, int64_t expires_s, long long snapshot_version,
                             long long snapshot_length, const char *snapshot_sha256, rf_error *err)
{
    json_t *o = common_fields("timestamp", version, expires_s, err);

    if (o != NULL && (snapshot_version < 1 || snapshot_length < 1 ||
                      !is_lower_hex(snapshot_sha256, RF_SHA256_HEX_LEN))) {
        json_decref(o);
        rf_error_set(err, RF_ERR_INVALID, "timestamp: snapshot version, length or hash missing");
        return NULL;
    }
    if (o != NULL && json_object_set_new(o, "meta",
                                         json_pack("{s:{s:I, s:I, s:{s:s}}}", "snapshot.json",
                                                   "version", (json_int_t)snapshot_version,
                                                   "length", (json_int_t)snapshot_length, "hashes",
                                                   "sha256", snapshot_sha256)) != 0) {
        json_decref(o);
        rf_error_set(err, RF_ERR_NOMEM, "out of memory");
        return NULL;
    }
    return o;
}

/* ---- signing ---- */

typedef struct sig_entry {
    char keyid[RF_SHA256_HEX_LEN + 1];
    char sig[2 * RF_ED25519_SIG_LEN + 1];
} sig_entry;

static int by_keyid(const void *a, const void *b)
{
    return strcmp(((const sig_entry *)a)->keyid, ((const sig_entry *)b)->keyid);
}

/* Signs msg with each key, once per distinct keyid, into sigs (sorted). */
static rf_err sign_all(const rf_buf *msg, const rf_key *const *keys, size_t n, sig_entry *sigs,
                       size_t *nsigs, rf_error *err)
{
    *nsigs = 0;
    for (size_t i = 0; i < n; i++) {
        sig_entry e;
        uint8_t raw[RF_ED25519_SIG_LEN];
        int dup = 0;
        rf_err rc = rf_key_id(keys[i], e.keyid);
        if (rc != RF_OK)
            return rf_error_set(err, rc, "cannot compute a key id");
        for (size_t j = 0; j < *nsigs; j++)
            dup |= strcmp(sigs[j].keyid, e.keyid) == 0;
        if (dup)
            continue;
        rc = rf_ed25519_sign(keys[i], msg->data, msg->len, raw);
        if (rc != RF_OK)
            return rf_error_set(err, rc, "signing with key %.8s failed", e.keyid);
        rf_hex_encode(raw, sizeof(raw), e.sig);
        sigs[(*nsigs)++] = e;
    }
    qsort(sigs, *nsigs, sizeof(*sigs), by_keyid);
    return RF_OK;
}

rf_err tuf_sign(const json_t *signed_obj, const rf_key *const *keys, size_t n, rf_buf *out,
                rf_error *err)
{
    sig_entry sigs[2 * TUF_MAX_ROLE_KEYS];
    size_t nsigs = 0;
    json_t *arr = NULL, *env = NULL;
    rf_buf msg;
    rf_err rc;

    rf_buf_reset(out);
    if (!json_is_object(signed_obj) || n == 0 || n > 2 * TUF_MAX_ROLE_KEYS)
        return rf_error_set(err, RF_ERR_INVALID, "tuf_sign: an object and 1-%d keys",
                            2 * TUF_MAX_ROLE_KEYS);
    rf_buf_init(&msg, TUF_META_MAX);
    rc = rf_cjson_encode_at(signed_obj, "signed", &msg, err);
    if (rc == RF_OK)
        rc = sign_all(&msg, keys, n, sigs, &nsigs, err);
    if (rc != RF_OK)
        goto out;
    arr = json_array();
    for (size_t i = 0; arr != NULL && i < nsigs; i++)
        if (json_array_append_new(
                arr, json_pack("{s:s, s:s}", "keyid", sigs[i].keyid, "sig", sigs[i].sig)) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    env = arr ? json_pack("{s:o, s:O}", "signatures", arr, "signed", signed_obj) : NULL;
    if (env == NULL) {
        rc = rf_error_set(err, RF_ERR_NOMEM, "out of memory");
        goto out;
    }
    rc = rf_cjson_encode(env, out, err);
out:
    json_decref(env);
    rf_buf_cleanup(&msg);
    return rc;
}

/* ---- root parse ---- */

static rf_err parse_key(const json_t *keys, const char *keyid, const char *where, tuf_pubkey *out,
                        rf_error *err)
{
    const json_t *k = json_object_get(keys, keyid);
    const char *pub = json_string_value(json_object_get(json_object_get(k, "keyval"), "public"));
    char want[RF_SHA256_HEX_LEN + 1];

    if (!json_is_object(k) || !json_is_string(json_object_get(k, "keytype")) ||
        strcmp(json_string_value(json_object_get(k, "keytype")), "ed25519") != 0 ||
        !json_is_string(json_object_get(k, "scheme")) ||
        strcmp(json_string_value(json_object_get(k, "scheme")), "ed25519") != 0)
        return rf_error_set(err, RF_ERR_INVALID, "root: %s key %.8s is missing or not ed25519",
                            where, keyid);
    if (tuf_keyid_of_hex(pub, want) != RF_OK || strcmp(want, keyid) != 0)
        return rf_error_set(err, RF_ERR_INVALID, "root: %s key %.8s does not hash to its keyid",
                            where, keyid);
    memcpy(out->keyid, want, sizeof(out->keyid));
    memcpy(out->public_hex, pub, sizeof(out->public_hex));
    return RF_OK;
}

static rf_err parse_role(const json_t *role, const json_t *keys, const json_t *keyids,
                         const char *where, tuf_role_keys *out, rf_error *err)
{
    const json_t *th = json_object_get(role, "threshold");
    size_t i;
    const json_t *id;

    if (!json_is_object(role) || !json_is_integer(th) || !json_is_array(keyids) ||
        !json_is_object(keys))
        return rf_error_set(err, RF_ERR_INVALID, "root: role %s is missing or malformed", where);
    if (json_array_size(keyids) < 1 || json_array_size(keyids) > TUF_MAX_ROLE_KEYS)
        return rf_error_set(err, RF_ERR_INVALID, "root: role %s needs 1-%d keys", where,
                            TUF_MAX_ROLE_KEYS);
    out->n = (int)json_array_size(keyids);
    if (json_integer_value(th) < 1 || json_integer_value(th) > out->n)
        return rf_error_set(err, RF_ERR_INVALID, "root: role %s threshold out of range", where);
    out->threshold = (int)json_integer_value(th);
    json_array_foreach(keyids, i, id)
    {
        if (!json_is_string(id))
            return rf_error_set(err, RF_ERR_INVALID, "root: role %s keyids must be strings", where);
        rf_err rc = parse_key(keys, json_string_value(id), where, &out->keys[i], err);
        if (rc != RF_OK)
            return rc;
    }
    return RF_OK;
}

/* The director set: {"keys": {id: key}, "threshold": T}; its keyids are the keys' ids. */
static rf_err parse_director(const json_t *d, tuf_role_keys *out, rf_error *err)
{
    const json_t *keys = json_object_get(d, "keys");
    json_t *ids = json_array();
    const char *kid;
    json_t *v;
    rf_err rc;

    if (ids == NULL)
        return rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    json_object_foreach((json_t *)keys, kid, v)
    {
        (void)v;
        json_array_append_new(ids, json_string(kid));
    }
    rc = parse_role(d, keys, ids, "director", out, err);
    json_decref(ids);
    return rc;
}

rf_err tuf_root_parse(const char *text, size_t len, tuf_root *out, rf_error *err)
{
    json_error_t je;
    json_t *env = NULL;
    const json_t *sd, *roles;
    const char *expires;
    rf_err rc = RF_OK;

    memset(out, 0, sizeof(*out));
    if (text == NULL || len == 0 || len > TUF_ROOT_MAX)
        return rf_error_set(err, RF_ERR_INVALID, "root: empty or larger than %d bytes",
                            TUF_ROOT_MAX);
    env = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    sd = json_object_get(env, "signed");
    roles = json_object_get(sd, "roles");
    expires = json_string_value(json_object_get(sd, "expires"));
    if (!json_is_object(sd) || !json_is_string(json_object_get(sd, "_type")) ||
        strcmp(json_string_value(json_object_get(sd, "_type")), "root") != 0) {
        rc = rf_error_set(err, RF_ERR_INVALID, "root: not a root envelope");
        goto out;
    }
    if (!json_is_integer(json_object_get(sd, "version")) ||
        json_integer_value(json_object_get(sd, "version")) < 1 || expires == NULL ||
        rf_time_parse_iso(expires, &out->expires_s) != RF_OK) {
        rc = rf_error_set(err, RF_ERR_INVALID, "root: version or expires malformed");
        goto out;
    }
    out->version = (long long)json_integer_value(json_object_get(sd, "version"));
    for (int r = TUF_ROOT; rc == RF_OK && r < TUF_DIRECTOR; r++) {
        const json_t *role = json_object_get(roles, role_names[r]);
        rc = parse_role(role, json_object_get(sd, "keys"), json_object_get(role, "keyids"),
                        role_names[r], &out->role[r], err);
    }
    if (rc == RF_OK)
        rc = parse_director(json_object_get(sd, TUF_DIRECTOR_FIELD), &out->role[TUF_DIRECTOR], err);
out:
    json_decref(env);
    return rc;
}

/* ---- re-signing plan ---- */

static int due(const tuf_head *h, int64_t period_s, int64_t now_s)
{
    return h->version < 1 || h->expires_s - now_s < period_s / 2;
}

tuf_role tuf_plan_refresh(const tuf_heads *h, const tuf_periods *p, int64_t now_s)
{
    for (int r = TUF_TARGETS; r <= TUF_TIMESTAMP; r++)
        if (due(&h->role[r], p->s[r], now_s))
            return (tuf_role)r;
    return TUF_NROLES;
}

int tuf_root_expiring(int64_t expires_s, int64_t period_s, int64_t now_s)
{
    int64_t margin = period_s / 4 < 30 * DAY_S ? period_s / 4 : 30 * DAY_S;

    return expires_s - now_s < margin;
}
