/* Signed TUF metadata for the unit tests of the TUF client core (see
 * tuf_fixture.h): fixed test keys, roots, timestamps, snapshots and targets,
 * signed over canonical JSON like the repository signs them. Test code only. */
#include "tuf_fixture.h"
#include "rf_cjson.h"
#include "rf_util.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const root_spec ROOT1 = {1,    NOW + 365 * DAY, {K_R1, K_R2, K_R3, -1}, 2, K_TS, K_SNAP, K_TARG,
                         K_DIR};

rf_key *KEYS[NKEYS];
char KID[NKEYS][65];

static void keys_setup(void)
{
    for (int i = 0; i < NKEYS; i++) {
        uint8_t seed[32];
        memset(seed, 0x11 * (i + 1), sizeof(seed));
        seed[0] = (uint8_t)i;
        ck_assert_int_eq(rf_key_from_raw_private(seed, &KEYS[i]), RF_OK);
        ck_assert_int_eq(rf_key_id(KEYS[i], KID[i]), RF_OK);
    }
}

static void keys_teardown(void)
{
    for (int i = 0; i < NKEYS; i++)
        rf_key_free(KEYS[i]);
}

json_t *key_obj(int k)
{
    char pub[65];
    ck_assert_int_eq(rf_key_public_hex(KEYS[k], pub), RF_OK);
    return json_pack("{s:s, s:s, s:{s:s}}", "keytype", "ed25519", "scheme", "ed25519", "keyval",
                     "public", pub);
}

char *iso(int64_t t)
{
    static char buf[4][32];
    static int n;
    char *b = buf[n++ % 4];
    rf_time_iso(t, b);
    return b;
}

blob sign_with(json_t *signed_obj, const int *signers)
{
    json_t *sigs = json_array();
    json_t *env;
    rf_buf b;
    blob out;

    rf_buf_init(&b, 32 * 1024 * 1024);
    if (rf_cjson_encode(signed_obj, &b, NULL) != RF_OK)
        signers = NULL; /* not signable: sent unsigned, refused before signatures */
    for (int i = 0; signers && signers[i] >= 0; i++) {
        uint8_t sig[64];
        char hex[129];
        ck_assert_int_eq(rf_ed25519_sign(KEYS[signers[i]], b.data, b.len, sig), RF_OK);
        rf_hex_encode(sig, sizeof(sig), hex);
        json_array_append_new(sigs, json_pack("{s:s, s:s}", "keyid", KID[signers[i]], "sig", hex));
    }
    env = json_pack("{s:o, s:o}", "signed", signed_obj, "signatures", sigs);
    out.data = json_dumps(env, JSON_COMPACT);
    out.len = strlen(out.data);
    json_decref(env);
    rf_buf_cleanup(&b);
    return out;
}

json_t *role(const int *keys, int threshold)
{
    json_t *ids = json_array();
    for (int i = 0; keys[i] >= 0; i++)
        json_array_append_new(ids, json_string(KID[keys[i]]));
    return json_pack("{s:o, s:i}", "keyids", ids, "threshold", threshold);
}

json_t *root_signed(const root_spec *s)
{
    json_t *keys = json_object();
    json_t *dkeys = json_object();
    int one[4][2] = {{s->ts, -1}, {s->snap, -1}, {s->targ, -1}};

    for (int i = 0; s->rk[i] >= 0; i++)
        json_object_set_new(keys, KID[s->rk[i]], key_obj(s->rk[i]));
    json_object_set_new(keys, KID[s->ts], key_obj(s->ts));
    json_object_set_new(keys, KID[s->snap], key_obj(s->snap));
    json_object_set_new(keys, KID[s->targ], key_obj(s->targ));
    json_object_set_new(dkeys, KID[s->dir], key_obj(s->dir));
    return json_pack("{s:s, s:s, s:I, s:s, s:b, s:o, s:{s:o, s:o, s:o, s:o}, s:{s:o, s:i}}",
                     "_type", "root", "spec_version", "1.0.31", "version", (json_int_t)s->version,
                     "expires", iso(s->expires), "consistent_snapshot", 1, "keys", keys, "roles",
                     "root", role(s->rk, s->rt), "timestamp", role(one[0], 1), "snapshot",
                     role(one[1], 1), "targets", role(one[2], 1), RF_TUF_DIRECTOR_FIELD, "keys",
                     dkeys, "threshold", 1);
}

rf_tuf_client C;

void client_setup(void)
{
    int signers[] = {K_R1, K_R2, -1};
    blob b;
    rf_tuf_root r;
    rf_error e = {0};

    keys_setup();
    b = sign_with(root_signed(&ROOT1), signers);
    ck_assert_msg(rf_tuf_root_load(b.data, b.len, &r, &e) == RF_OK, "%s", e.message);
    free(b.data);
    rf_tuf_client_init(&C, &r);
}

void client_teardown(void)
{
    rf_tuf_client_cleanup(&C);
    keys_teardown();
}

void expect(rf_err rc, const rf_error *e, const char *want, const char *name)
{
    if (!want) {
        ck_assert_msg(rc == RF_OK, "%s: unexpected refusal: %s", name, e->message);
        return;
    }
    ck_assert_msg(rc != RF_OK, "%s: accepted, wanted '%s'", name, want);
    ck_assert_msg(strstr(e->message, want) != NULL, "%s: '%s' lacks '%s'", name, e->message, want);
    ck_assert_msg(strncmp(e->message, "tuf: ", 5) == 0, "%s: '%s'", name, e->message);
}

json_t *meta_entry(int64_t version, const blob *of, bool length, bool hash)
{
    json_t *m = json_pack("{s:I}", "version", (json_int_t)version);
    char sha[65];

    if (of && length)
        json_object_set_new(m, "length", json_integer((json_int_t)of->len));
    if (of && hash) {
        rf_sha256_hex(of->data, of->len, sha);
        json_object_set_new(m, "hashes", json_pack("{s:s}", "sha256", sha));
    }
    return m;
}

json_t *meta_signed(const char *type, int64_t version, int64_t expires, const char *name,
                    json_t *entry)
{
    return json_pack("{s:s, s:s, s:I, s:s, s:{s:o}}", "_type", type, "spec_version", "1.0.31",
                     "version", (json_int_t)version, "expires", iso(expires), "meta", name, entry);
}

json_t *targets_signed(int64_t version, int64_t expires)
{
    char sha[65];
    rf_sha256_hex(TARGET_BYTES, strlen(TARGET_BYTES), sha);
    return json_pack("{s:s, s:s, s:I, s:s, s:{s:{s:i, s:{s:s}, s:{s:s}}}}", "_type", "targets",
                     "spec_version", "1.0.31", "version", (json_int_t)version, "expires",
                     iso(expires), "targets", "content/sensor-2", "length",
                     (int)strlen(TARGET_BYTES), "hashes", "sha256", sha, "custom", "channel",
                     "content");
}

/* Trusted so far: timestamp 5 naming snapshot 5, snapshot naming targets 5. */
void trust_versions(void)
{
    C.timestamp_version = 5;
    C.snapshot_version = 5;
    C.targets_version = 5;
}

/* Verifies a timestamp naming snapshot version v with a listing of of. */
void accept_timestamp(int64_t v, const blob *of, bool length, bool hash)
{
    int ts[] = {K_TS, -1};
    blob b = sign_with(
        meta_signed("timestamp", 6, NOW + DAY, "snapshot.json", meta_entry(v, of, length, hash)),
        ts);
    rf_error e = {0};

    ck_assert_msg(rf_tuf_update_timestamp(&C, b.data, b.len, NOW, &e) == RF_OK, "%s", e.message);
    free(b.data);
}

/* Verifies timestamp and snapshot naming targets version tv (listing of). */
void accept_snapshot(int64_t tv, const blob *of, bool length, bool hash)
{
    int snap[] = {K_SNAP, -1};
    blob b = sign_with(
        meta_signed("snapshot", 6, NOW + DAY, "targets.json", meta_entry(tv, of, length, hash)),
        snap);
    rf_error e = {0};

    accept_timestamp(6, &b, true, true);
    ck_assert_msg(rf_tuf_update_snapshot(&C, b.data, b.len, NOW, &e) == RF_OK, "%s", e.message);
    free(b.data);
}
