/* Unit tests for the TUF client core (common/tuf*.c), part two: timestamp
 * (signatures, rollback of itself and of the snapshot it names, freeze,
 * malformed documents, size limit), snapshot (length and hash against the
 * timestamp, version, targets rollback, freeze, order, cap), targets
 * (mix-and-match, hash, freeze, every entry well-formed), target lookup and
 * check. Table-driven; the signed test metadata is in tuf_fixture.c. */
#include "tuf_fixture.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ts_case {
    const char *name;
    int64_t version, snap_version, expires_rel;
    int signers[4];
    const char *want;
} ts_case;

static const ts_case TS_CASES[] = {
    {"newer", 6, 6, DAY, {K_TS, -1}, NULL},
    {"same version", 5, 5, DAY, {K_TS, -1}, NULL},
    {"rollback", 3, 6, DAY, {K_TS, -1}, "timestamp version 3 is older than trusted 5 (rollback)"},
    {"snapshot rollback",
     6,
     4,
     DAY,
     {K_TS, -1},
     "timestamp names snapshot version 4, older than trusted 5 (rollback)"},
    {"expired", 6, 6, -1, {K_TS, -1}, "timestamp expired at"},
    {"expires now", 6, 6, 0, {K_TS, -1}, "(freeze)"},
    {"key not in root", 6, 6, DAY, {K_EVIL, -1}, "0 of 1 required signatures by timestamp keys"},
    {"another role's key", 6, 6, DAY, {K_SNAP, -1}, "is not one of them"},
    {"unsigned", 6, 6, DAY, {-1}, "no signature by one of them"},
    {"extra unknown signature", 6, 6, DAY, {K_EVIL, K_TS, -1}, NULL},
};

START_TEST(test_timestamp)
{
    const ts_case *tc = &TS_CASES[_i];
    blob b;
    rf_error e = {0};
    rf_err rc;

    trust_versions();
    b = sign_with(meta_signed("timestamp", tc->version, NOW + tc->expires_rel, "snapshot.json",
                              meta_entry(tc->snap_version, NULL, false, false)),
                  tc->signers);
    rc = rf_tuf_update_timestamp(&C, b.data, b.len, NOW, &e);
    expect(rc, &e, tc->want, tc->name);
    ck_assert_int_eq(C.timestamp_version, tc->want ? 5 : tc->version);
    ck_assert_int_eq(C.snapshot_version, tc->want ? 5 : tc->snap_version);
    ck_assert_int_eq(C.step, tc->want ? 0 : 1);
    free(b.data);
}
END_TEST

/* Raw documents that are not valid timestamps. */
typedef struct raw_case {
    const char *name;
    const char *text;
    const char *want;
} raw_case;

static const raw_case RAW_TS[] = {
    {"not JSON", "{\"signed\":", "not valid JSON"},
    {"duplicate key", "{\"signed\":{},\"signed\":{},\"signatures\":[]}", "not valid JSON"},
    {"no signatures", "{\"signed\":{\"_type\":\"timestamp\"}}", "is not a {\"signed\""},
    {"array", "[1]", "is not a {\"signed\""},
    {"wrong type", "{\"signed\":{\"_type\":\"snapshot\"},\"signatures\":[]}", "has _type"},
    {"control character",
     "{\"signed\":{\"_type\":\"timestamp\",\"x\":\"\\u0001\"},\"signatures\":[]}",
     "no canonical JSON form"},
};

START_TEST(test_timestamp_raw)
{
    const raw_case *tc = &RAW_TS[_i];
    rf_error e = {0};

    expect(rf_tuf_update_timestamp(&C, tc->text, strlen(tc->text), NOW, &e), &e, tc->want,
           tc->name);
}
END_TEST

START_TEST(test_timestamp_without_snapshot_meta)
{
    int ts[] = {K_TS, -1};
    json_t *s =
        meta_signed("timestamp", 1, NOW + DAY, "other.json", json_pack("{s:i}", "version", 1));
    blob b = sign_with(s, ts);
    rf_error e = {0};

    expect(rf_tuf_update_timestamp(&C, b.data, b.len, NOW, &e), &e,
           "timestamp does not list snapshot.json", "no snapshot meta");
    free(b.data);
}
END_TEST

START_TEST(test_timestamp_size_limit)
{
    int ts[] = {K_TS, -1};
    json_t *s =
        meta_signed("timestamp", 6, NOW + DAY, "snapshot.json", meta_entry(6, NULL, false, false));
    char *pad = malloc(RF_TUF_TIMESTAMP_MAX_BYTES);
    rf_error e = {0};
    blob b;

    memset(pad, 'x', RF_TUF_TIMESTAMP_MAX_BYTES - 1);
    pad[RF_TUF_TIMESTAMP_MAX_BYTES - 1] = '\0';
    json_object_set_new(s, "padding", json_string(pad)); /* validly signed, too big */
    b = sign_with(s, ts);
    expect(rf_tuf_update_timestamp(&C, b.data, b.len, NOW, &e), &e, "larger than 16384 bytes",
           "timestamp size");
    free(pad);
    free(b.data);
}
END_TEST

typedef struct snap_case {
    const char *name;
    int64_t listed_version; /* what the timestamp names */
    bool list_length, list_hash;
    bool list_other_bytes; /* the timestamp lists another file's length/hash */
    int64_t version, targets_version, expires_rel;
    int signer;
    const char *want;
} snap_case;

static const snap_case SNAP_CASES[] = {
    {"good", 6, true, true, false, 6, 6, DAY, K_SNAP, NULL},
    {"good, nothing listed", 6, false, false, false, 6, 5, DAY, K_SNAP, NULL},
    {"hash differs", 6, false, true, true, 6, 6, DAY, K_SNAP, "differs from the",
     /* "… the timestamp lists" */},
    {"length differs", 6, true, false, true, 6, 6, DAY, K_SNAP, "the timestamp lists"},
    {"version differs", 6, false, false, false, 7, 6, DAY, K_SNAP,
     "snapshot version 7 differs from the 6 the timestamp names"},
    {"targets rollback", 6, true, true, false, 6, 4, DAY, K_SNAP,
     "snapshot names targets version 4, older than trusted 5 (rollback)"},
    {"expired", 6, true, true, false, 6, 6, -10, K_SNAP, "snapshot expired at"},
    {"timestamp key signs", 6, true, true, false, 6, 6, DAY, K_TS,
     "0 of 1 required signatures by snapshot keys"},
    {"key not in root", 6, true, true, false, 6, 6, DAY, K_EVIL, "is not one of them"},
};

START_TEST(test_snapshot)
{
    const snap_case *tc = &SNAP_CASES[_i];
    int signers[] = {tc->signer, -1};
    blob b, other;
    rf_error e = {0};
    rf_err rc;

    trust_versions();
    b = sign_with(meta_signed("snapshot", tc->version, NOW + tc->expires_rel, "targets.json",
                              meta_entry(tc->targets_version, NULL, false, false)),
                  signers);
    other = sign_with(meta_signed("snapshot", tc->version, NOW + DAY, "targets.json",
                                  meta_entry(tc->targets_version + 1000, NULL, false, false)),
                      signers);
    accept_timestamp(tc->listed_version, tc->list_other_bytes ? &other : &b, tc->list_length,
                     tc->list_hash);
    rc = rf_tuf_update_snapshot(&C, b.data, b.len, NOW, &e);
    expect(rc, &e, tc->want, tc->name);
    ck_assert_int_eq(C.targets_version, tc->want ? 5 : tc->targets_version);
    ck_assert_int_eq(C.step, tc->want ? 1 : 2);
    free(b.data);
    free(other.data);
}
END_TEST

START_TEST(test_snapshot_order_and_cap)
{
    int snap[] = {K_SNAP, -1};
    blob b = sign_with(
        meta_signed("snapshot", 6, NOW + DAY, "targets.json", meta_entry(6, NULL, false, false)),
        snap);
    blob small = {"{}", 2};
    rf_error e = {0};

    ck_assert_int_eq(rf_tuf_update_snapshot(&C, b.data, b.len, NOW, &e), RF_ERR_INTERNAL);
    accept_timestamp(6, &small, true, false); /* lists a 2-byte snapshot */
    ck_assert_uint_eq(rf_tuf_snapshot_cap(&C), 2);
    expect(rf_tuf_update_snapshot(&C, b.data, b.len, NOW, &e), &e, "larger than 2 bytes", "cap");
    free(b.data);
}
END_TEST

typedef struct targets_case {
    const char *name;
    int64_t listed, version, expires_rel;
    bool list_hash, other_bytes;
    int signer;
    const char *want;
} targets_case;

static const targets_case TARGETS_CASES[] = {
    {"good", 7, 7, DAY, true, false, K_TARG, NULL},
    {"good, no hash listed", 7, 7, DAY, false, false, K_TARG, NULL},
    {"mix-and-match", 7, 6, DAY, false, false, K_TARG,
     "targets version 6 differs from the 7 the snapshot names (mix-and-match)"},
    {"hash differs", 7, 7, DAY, true, true, K_TARG, "the snapshot lists"},
    {"expired", 7, 7, -1, true, false, K_TARG, "targets expired at"},
    {"snapshot key signs", 7, 7, DAY, true, false, K_SNAP, "required signatures by targets keys"},
    {"key not in root", 7, 7, DAY, true, false, K_EVIL, "is not one of them"},
};

START_TEST(test_targets)
{
    const targets_case *tc = &TARGETS_CASES[_i];
    int signers[] = {tc->signer, -1};
    blob b = sign_with(targets_signed(tc->version, NOW + tc->expires_rel), signers);
    blob other = sign_with(targets_signed(tc->version + 50, NOW + DAY), signers);
    rf_tuf_target t;
    rf_error e = {0};
    rf_err rc;

    trust_versions();
    accept_snapshot(tc->listed, tc->other_bytes ? &other : &b, false, tc->list_hash);
    rc = rf_tuf_update_targets(&C, b.data, b.len, NOW, &e);
    expect(rc, &e, tc->want, tc->name);
    ck_assert_int_eq(C.step, tc->want ? 2 : 3);
    if (!tc->want) {
        ck_assert_int_eq(rf_tuf_target_get(&C, "content/sensor-2", &t, &e), RF_OK);
        ck_assert_int_eq(t.length, (int64_t)strlen(TARGET_BYTES));
    } else {
        ck_assert_int_eq(rf_tuf_target_get(&C, "content/sensor-2", &t, &e), RF_ERR_INTERNAL);
    }
    free(b.data);
    free(other.data);
}
END_TEST

START_TEST(test_targets_malformed_entry)
{
    int targ[] = {K_TARG, -1};
    json_t *s = targets_signed(7, NOW + DAY);
    blob b;
    rf_error e = {0};

    json_object_set_new(json_object_get(s, "targets"), "content/other",
                        json_pack("{s:i, s:{s:s}}", "length", 3, "hashes", "sha512", "00"));
    b = sign_with(s, targ);
    accept_snapshot(7, NULL, false, false);
    expect(rf_tuf_update_targets(&C, b.data, b.len, NOW, &e), &e,
           "target content/other: hashes.sha256 must be 64 hex digits", "malformed entry");
    free(b.data);
}
END_TEST

START_TEST(test_target_lookup_and_check)
{
    int targ[] = {K_TARG, -1};
    blob b = sign_with(targets_signed(7, NOW + DAY), targ);
    char sha[65], wrong[65];
    rf_tuf_target t;
    rf_error e = {0};

    accept_snapshot(7, &b, true, true);
    ck_assert_int_eq(rf_tuf_update_targets(&C, b.data, b.len, NOW, &e), RF_OK);
    expect(rf_tuf_target_get(&C, "content/sensor-3", &t, &e), &e,
           "target content/sensor-3 is not in targets version 7", "missing target");
    ck_assert_int_eq(rf_tuf_target_get(&C, "content/sensor-2", &t, &e), RF_OK);
    rf_sha256_hex(TARGET_BYTES, strlen(TARGET_BYTES), sha);
    ck_assert_str_eq(t.sha256, sha);
    ck_assert_int_eq(rf_tuf_target_check(&t, "content/sensor-2", t.length, sha, &e), RF_OK);
    expect(rf_tuf_target_check(&t, "content/sensor-2", t.length + 1, sha, &e), &e,
           "is 17 bytes; the targets metadata says 16", "length");
    rf_sha256_hex("tampered", 8, wrong);
    expect(rf_tuf_target_check(&t, "content/sensor-2", t.length, wrong, &e), &e, "differs from the",
           "hash");
    free(b.data);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("common_tuf_meta");
    TCase *tc = tcase_create("client");

    tcase_add_checked_fixture(tc, client_setup, client_teardown);
    tcase_add_loop_test(tc, test_timestamp, 0, sizeof(TS_CASES) / sizeof(TS_CASES[0]));
    tcase_add_loop_test(tc, test_timestamp_raw, 0, sizeof(RAW_TS) / sizeof(RAW_TS[0]));
    tcase_add_test(tc, test_timestamp_without_snapshot_meta);
    tcase_add_test(tc, test_timestamp_size_limit);
    tcase_add_loop_test(tc, test_snapshot, 0, sizeof(SNAP_CASES) / sizeof(SNAP_CASES[0]));
    tcase_add_test(tc, test_snapshot_order_and_cap);
    tcase_add_loop_test(tc, test_targets, 0, sizeof(TARGETS_CASES) / sizeof(TARGETS_CASES[0]));
    tcase_add_test(tc, test_targets_malformed_entry);
    tcase_add_test(tc, test_target_lookup_and_check);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
