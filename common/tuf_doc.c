/* TUF documents: the envelope, the common header, key objects, the root's
 * roles and the signature threshold. Everything parsed here came from the
 * network: sizes are capped before parsing, duplicate JSON keys are refused,
 * every field is type-checked, and a signature counts only when it verifies
 * over the canonical JSON of "signed" by a distinct key of the role. This file
 * must never count a key twice or accept a key whose keyid is not the hash
 * of its own key object. */
#include "rf_cjson.h"
#include "rf_util.h"
#include "tuf_internal.h"

#include <stdio.h>
#include <string.h>

/* Ed25519 SubjectPublicKeyInfo DER prefix (RFC 8410): the raw key follows. */
static const uint8_t SPKI_PREFIX[12] = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
                                        0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};

bool tuf_hex64(const char *s)
{
    size_t i;

    if (!s)
        return false;
    for (i = 0; i < RF_SHA256_HEX_LEN; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return s[i] == '\0';
}

void tuf_doc_cleanup(tuf_doc *d)
{
    if (!d)
        return;
    json_decref(d->root);
    rf_buf_cleanup(&d->canon);
    memset(d, 0, sizeof(*d));
}

rf_err tuf_doc_parse(const void *data, size_t len, size_t cap, const char *type, const char *what,
                     tuf_doc *d, rf_error *err)
{
    json_error_t jerr;
    const char *t;

    memset(d, 0, sizeof(*d));
    rf_buf_init(&d->canon, cap);
    if (len > cap)
        return rf_error_set(err, RF_ERR_TOO_LARGE, "tuf: %s is larger than %zu bytes", what, cap);
    d->root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!d->root)
        return rf_error_set(err, RF_ERR_VERIFY, "tuf: %s is not valid JSON (%.80s)", what,
                            jerr.text);
    d->signed_obj = json_object_get(d->root, "signed");
    d->sigs = json_object_get(d->root, "signatures");
    if (!json_is_object(d->root) || !json_is_object(d->signed_obj) || !json_is_array(d->sigs))
        return rf_error_set(err, RF_ERR_VERIFY,
                            "tuf: %s is not a {\"signed\": {...}, \"signatures\": [...]} document",
                            what);
    if (json_array_size(d->sigs) > RF_TUF_MAX_SIGNATURES)
        return rf_error_set(err, RF_ERR_VERIFY, "tuf: %s carries more than %d signatures", what,
                            RF_TUF_MAX_SIGNATURES);
    t = json_string_value(json_object_get(d->signed_obj, "_type"));
    if (!t || strcmp(t, type) != 0)
        return rf_error_set(err, RF_ERR_VERIFY, "tuf: %s has _type '%.32s', not '%s'", what,
                            t ? t : "(none)", type);
    if (rf_cjson_encode(d->signed_obj, &d->canon, NULL) != RF_OK)
        return rf_error_set(err, RF_ERR_VERIFY,
                            "tuf: %s has no canonical JSON form (reals or control characters)",
                            what);
    return RF_OK;
}

rf_err tuf_doc_header(tuf_doc *d, const char *what, rf_error *err)
{
    const json_t *sv = json_object_get(d->signed_obj, "spec_version");
    const json_t *v = json_object_get(d->signed_obj, "version");
    const char *exp = json_string_value(json_object_get(d->signed_obj, "expires"));

    if (!json_is_string(sv) || strncmp(json_string_value(sv), "1.", 2) != 0)
        return rf_error_set(err, RF_ERR_VERIFY, "tuf: %s: spec_version must be 1.x", what);
    if (!json_is_integer(v) || json_integer_value(v) < 1)
        return rf_error_set(err, RF_ERR_VERIFY, "tuf: %s: version must be an integer >= 1", what);
    if (!exp || rf_time_parse_iso(exp, &d->expires_s) != RF_OK)
        return rf_error_set(err, RF_ERR_VERIFY, "tuf: %s: expires must be YYYY-MM-DDTHH:MM:SSZ",
                            what);
    d->version = json_integer_value(v);
    return RF_OK;
}

/* A public key object for OpenSSL: the raw key wrapped as a PEM SPKI. */
static rf_err key_open(const uint8_t pub[RF_ED25519_PUB_LEN], rf_key **out)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint8_t der[sizeof(SPKI_PREFIX) + RF_ED25519_PUB_LEN];
    char pem[160];
    size_t n;

    memcpy(der, SPKI_PREFIX, sizeof(SPKI_PREFIX));
    memcpy(der + sizeof(SPKI_PREFIX), pub, RF_ED25519_PUB_LEN);
    n = (size_t)snprintf(pem, sizeof(pem), "-----BEGIN PUBLIC KEY-----\n");
    for (size_t i = 0; i < sizeof(der); i += 3) { /* 44 bytes: the last group has 2 */
        uint32_t v = (uint32_t)der[i] << 16 | (i + 1 < sizeof(der) ? der[i + 1] : 0) << 8 |
                     (i + 2 < sizeof(der) ? der[i + 2] : 0);
        pem[n++] = b64[(v >> 18) & 63];
        pem[n++] = b64[(v >> 12) & 63];
        pem[n++] = i + 1 < sizeof(der) ? b64[(v >> 6) & 63] : '=';
        pem[n++] = i + 2 < sizeof(der) ? b64[v & 63] : '=';
    }
    n += (size_t)snprintf(pem + n, sizeof(pem) - n, "\n-----END PUBLIC KEY-----\n");
    return rf_key_public_from_pem(pem, n, out, NULL);
}

/* Why the first signature that did not count was ignored. */
typedef struct sig_note {
    char text[96];
} sig_note;

static void note_once(sig_note *n, const char *keyid, const char *why)
{
    if (n->text[0])
        return;
    snprintf(n->text, sizeof(n->text), "key %s %s", keyid, why);
}

static int key_index(const rf_tuf_keyset *ks, const char *keyid)
{
    for (uint32_t i = 0; i < ks->nkeys; i++)
        if (strcmp(ks->keys[i].keyid, keyid) == 0)
            return (int)i;
    return -1;
}

/* 1 when signature entry e is a valid signature by key k over d. */
static int sig_valid(const tuf_doc *d, const rf_tuf_key *k, const char *hex)
{
    uint8_t sig[RF_ED25519_SIG_LEN];
    rf_key *key = NULL;
    int ok;

    if (!hex || strlen(hex) != 2 * RF_ED25519_SIG_LEN ||
        rf_hex_decode(hex, sig, sizeof(sig)) != RF_OK)
        return 0;
    if (key_open(k->pub, &key) != RF_OK)
        return 0;
    ok = rf_ed25519_verify(key, d->canon.data, d->canon.len, sig) == RF_OK;
    rf_key_free(key);
    return ok;
}

rf_err tuf_doc_verify(const tuf_doc *d, const rf_tuf_keyset *ks, const char *what, const char *by,
                      rf_error *err)
{
    bool counted[RF_TUF_MAX_ROLE_KEYS] = {false};
    uint8_t seen[RF_TUF_MAX_ROLE_KEYS][RF_ED25519_PUB_LEN];
    uint32_t nseen = 0;
    sig_note note = {""};
    size_t i;
    json_t *e;

    json_array_foreach(d->sigs, i, e)
    {
        const char *kid = json_string_value(json_object_get(e, "keyid"));
        const char *hex = json_string_value(json_object_get(e, "sig"));
        char shortid[9] = "";
        int k;
        bool dup = false;

        if (kid)
            snprintf(shortid, sizeof(shortid), "%.8s", kid);
        if (!kid || (k = key_index(ks, kid)) < 0) {
            note_once(&note, kid ? shortid : "(none)", "is not one of them");
            continue;
        }
        for (uint32_t j = 0; j < nseen && !dup; j++)
            dup = memcmp(seen[j], ks->keys[k].pub, RF_ED25519_PUB_LEN) == 0;
        if (counted[k] || dup) {
            note_once(&note, shortid, "signed more than once; counted once");
            continue;
        }
        if (!sig_valid(d, &ks->keys[k], hex)) {
            note_once(&note, shortid, "made a signature that does not verify");
            continue;
        }
        counted[k] = true;
        memcpy(seen[nseen++], ks->keys[k].pub, RF_ED25519_PUB_LEN);
    }
    if ((int64_t)nseen >= ks->threshold && ks->threshold >= 1)
        return RF_OK;
    if (!note.text[0])
        snprintf(note.text, sizeof(note.text), "%s",
                 nseen ? "no more signatures by them" : "no signature by one of them");
    return rf_error_set(err, RF_ERR_VERIFY,
                        "tuf: %s: %u of %lld required signatures by %s keys (%s)", what, nseen,
                        (long long)ks->threshold, by, note.text);
}

/* One key object {"keytype": "ed25519", "scheme": "ed25519", "keyval":
 * {"public": hex}} whose keyid must be the SHA-256 of its canonical form. */
static rf_err key_parse(const char *keyid, const json_t *o, const char *what, rf_tuf_key *out,
                        rf_error *err)
{
    const char *kt = json_string_value(json_object_get(o, "keytype"));
    const char *sc = json_string_value(json_object_get(o, "scheme"));
    const char *pub = json_string_value(json_object_get(json_object_get(o, "keyval"), "public"));
    char id[RF_SHA256_HEX_LEN + 1];
    rf_buf b;
    rf_err rc;

    if (!tuf_hex64(keyid))
        return rf_error_set(err, RF_ERR_VERIFY, "tuf: %s: keyid '%.16s' is not 64 hex digits", what,
                            keyid);
    if (!json_is_object(o) || !kt || !sc || strcmp(kt, "ed25519") != 0 ||
        strcmp(sc, "ed25519") != 0)
        return rf_error_set(err, RF_ERR_VERIFY, "tuf: %s: key %.8s is not an ed25519 key", what,
                            keyid);
    if (!pub || strlen(pub) != 2 * RF_ED25519_PUB_LEN ||
        rf_hex_decode(pub, out->pub, RF_ED25519_PUB_LEN) != RF_OK)
        return rf_error_set(err, RF_ERR_VERIFY, "tuf: %s: key %.8s: public must be 64 hex digits",
                            what, keyid);
    rf_buf_init(&b, 4096);
    rc = rf_cjson_encode(o, &b, NULL);
    if (rc == RF_OK)
        rf_sha256_hex(b.data, b.len, id);
    rf_buf_cleanup(&b);
    if (rc != RF_OK || strcmp(id, keyid) != 0)
        return rf_error_set(err, RF_ERR_VERIFY,
                            "tuf: %s: keyid %.8s is not the SHA-256 of its key object", what,
                            keyid);
    memcpy(out->keyid, keyid, sizeof(out->keyid));
    return RF_OK;
}

/* The threshold of a role object. */
static rf_err threshold_parse(const json_t *o, const char *what, const char *role, uint32_t nkeys,
                              int64_t *out, rf_error *err)
{
    const json_t *t = json_object_get(o, "threshold");

    if (!json_is_integer(t) || json_integer_value(t) < 1)
        return rf_error_set(err, RF_ERR_VERIFY, "tuf: %s: role %s: threshold must be >= 1", what,
                            role);
    if (json_integer_value(t) > (json_int_t)nkeys)
        return rf_error_set(err, RF_ERR_VERIFY,
                            "tuf: %s: role %s: threshold %lld but only %u key(s)", what, role,
                            (long long)json_integer_value(t), nkeys);
    *out = json_integer_value(t);
    return RF_OK;
}

/* A top-level role {"keyids": [...], "threshold": n} over the root's keys. */
static rf_err role_parse(const json_t *roles, const json_t *keys, rf_tuf_role r, const char *what,
                         rf_tuf_keyset *ks, rf_error *err)
{
    const char *name = rf_tuf_role_name(r);
    const json_t *o = json_object_get(roles, name);
    const json_t *ids = json_object_get(o, "keyids");
    size_t i;
    json_t *v;
    rf_err rc;

    memset(ks, 0, sizeof(*ks));
    if (!json_is_object(o) || !json_is_array(ids))
        return rf_error_set(err, RF_ERR_VERIFY, "tuf: %s: role %s is missing or malformed", what,
                            name);
    if (json_array_size(ids) > RF_TUF_MAX_ROLE_KEYS)
        return rf_error_set(err, RF_ERR_VERIFY, "tuf: %s: role %s has more than %d keys", what,
                            name, RF_TUF_MAX_ROLE_KEYS);
    json_array_foreach(ids, i, v)
    {
        const char *kid = json_string_value(v);
        if (!kid || key_index(ks, kid) >= 0)
            return rf_error_set(err, RF_ERR_VERIFY,
                                "tuf: %s: role %s: keyids must be distinct strings", what, name);
        if (!json_object_get(keys, kid))
            return rf_error_set(err, RF_ERR_VERIFY, "tuf: %s: role %s names unknown key %.8s", what,
                                name, kid);
        if ((rc = key_parse(kid, json_object_get(keys, kid), what, &ks->keys[ks->nkeys], err)) !=
            RF_OK)
            return rc;
        ks->nkeys++;
    }
    return threshold_parse(o, what, name, ks->nkeys, &ks->threshold, err);
}

/* The ringfence director: {"keys": {keyid: key}, "threshold": n}. */
static rf_err director_parse(const json_t *o, const char *what, rf_tuf_keyset *ks, rf_error *err)
{
    const json_t *keys = json_object_get(o, "keys");
    const char *kid;
    json_t *v;
    rf_err rc;

    memset(ks, 0, sizeof(*ks));
    if (!json_is_object(o) || !json_is_object(keys))
        return rf_error_set(err, RF_ERR_VERIFY, "tuf: %s: %s is missing or malformed", what,
                            RF_TUF_DIRECTOR_FIELD);
    if (json_object_size(keys) > RF_TUF_MAX_ROLE_KEYS)
        return rf_error_set(err, RF_ERR_VERIFY, "tuf: %s: %s has more than %d keys", what,
                            RF_TUF_DIRECTOR_FIELD, RF_TUF_MAX_ROLE_KEYS);
    json_object_foreach((json_t *)keys, kid, v)
    {
        if ((rc = key_parse(kid, v, what, &ks->keys[ks->nkeys], err)) != RF_OK)
            return rc;
        ks->nkeys++;
    }
    return threshold_parse(o, what, "director", ks->nkeys, &ks->threshold, err);
}

rf_err tuf_root_parse(const tuf_doc *d, rf_tuf_root *out, rf_error *err)
{
    static const rf_tuf_role top[] = {RF_TUF_ROOT, RF_TUF_TIMESTAMP, RF_TUF_SNAPSHOT,
                                      RF_TUF_TARGETS};
    const json_t *keys = json_object_get(d->signed_obj, "keys");
    const json_t *roles = json_object_get(d->signed_obj, "roles");
    const json_t *cs = json_object_get(d->signed_obj, "consistent_snapshot");
    char what[48];
    rf_err rc;

    memset(out, 0, sizeof(*out));
    snprintf(what, sizeof(what), "root version %lld", (long long)d->version);
    if (!json_is_object(keys) || !json_is_object(roles))
        return rf_error_set(err, RF_ERR_VERIFY, "tuf: %s: keys and roles must be objects", what);
    if (json_object_size(keys) > RF_TUF_MAX_ROOT_KEYS)
        return rf_error_set(err, RF_ERR_VERIFY, "tuf: %s: more than %d keys", what,
                            RF_TUF_MAX_ROOT_KEYS);
    if (!json_is_boolean(cs))
        return rf_error_set(err, RF_ERR_VERIFY, "tuf: %s: consistent_snapshot must be a boolean",
                            what);
    for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++)
        if ((rc = role_parse(roles, keys, top[i], what, &out->roles[top[i]], err)) != RF_OK)
            return rc;
    if ((rc = director_parse(json_object_get(d->signed_obj, RF_TUF_DIRECTOR_FIELD), what,
                             &out->roles[RF_TUF_DIRECTOR], err)) != RF_OK)
        return rc;
    out->version = d->version;
    out->expires_s = d->expires_s;
    out->consistent_snapshot = json_is_true(cs);
    return RF_OK;
}

static rf_err sha256_entry(const json_t *hashes, const char *what, char out[65], bool required,
                           rf_error *err)
{
    const char *h;

    out[0] = '\0';
    if (!hashes && !required)
        return RF_OK;
    if (!json_is_object(hashes))
        return rf_error_set(err, RF_ERR_VERIFY, "tuf: %s: hashes must be an object", what);
    h = json_string_value(json_object_get(hashes, "sha256"));
    if (!tuf_hex64(h))
        return rf_error_set(err, RF_ERR_VERIFY, "tuf: %s: hashes.sha256 must be 64 hex digits",
                            what);
    memcpy(out, h, RF_SHA256_HEX_LEN + 1);
    return RF_OK;
}

rf_err tuf_meta_parse(const json_t *meta, const char *name, const char *what, int64_t cap,
                      rf_tuf_meta *out, rf_error *err)
{
    const json_t *m = json_object_get(meta, name);
    const json_t *v = json_object_get(m, "version");
    const json_t *l = json_object_get(m, "length");

    memset(out, 0, sizeof(*out));
    if (!json_is_object(meta) || !json_is_object(m))
        return rf_error_set(err, RF_ERR_VERIFY, "tuf: %s does not list %s", what, name);
    if (!json_is_integer(v) || json_integer_value(v) < 1)
        return rf_error_set(err, RF_ERR_VERIFY, "tuf: %s: %s version must be >= 1", what, name);
    if (l && (!json_is_integer(l) || json_integer_value(l) < 1))
        return rf_error_set(err, RF_ERR_VERIFY, "tuf: %s: %s length must be >= 1", what, name);
    if (l && json_integer_value(l) > cap)
        return rf_error_set(err, RF_ERR_VERIFY,
                            "tuf: %s lists %s of %lld bytes, over the %lld limit", what, name,
                            (long long)json_integer_value(l), (long long)cap);
    out->version = json_integer_value(v);
    out->length = l ? json_integer_value(l) : 0;
    return sha256_entry(json_object_get(m, "hashes"), what, out->sha256, false, err);
}

rf_err tuf_target_parse(const json_t *v, const char *path, rf_tuf_target *out, rf_error *err)
{
    const json_t *l = json_object_get(v, "length");
    char what[RF_TUF_PATH_MAX + 16];

    snprintf(what, sizeof(what), "target %.100s", path);
    if (!json_is_object(v) || !json_is_integer(l) || json_integer_value(l) < 0)
        return rf_error_set(err, RF_ERR_VERIFY, "tuf: %s: length must be an integer >= 0", what);
    out->length = json_integer_value(l);
    return sha256_entry(json_object_get(v, "hashes"), what, out->sha256, true, err);
}

bool tuf_keyset_equal(const rf_tuf_keyset *a, const rf_tuf_keyset *b)
{
    if (a->threshold != b->threshold || a->nkeys != b->nkeys)
        return false;
    for (uint32_t i = 0; i < a->nkeys; i++) {
        bool found = false;
        for (uint32_t j = 0; j < b->nkeys && !found; j++)
            found = strcmp(a->keys[i].keyid, b->keys[j].keyid) == 0;
        if (!found)
            return false;
    }
    return true;
}

const char *rf_tuf_role_name(rf_tuf_role r)
{
    static const char *const names[] = {"root", "timestamp", "snapshot", "targets", "director"};
    return (unsigned)r < RF_TUF_NROLES ? names[r] : "?";
}
