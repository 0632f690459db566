/* Unit tests for the TUF client core (common/tuf*.c), part one: the root
 * chain (thresholds of the old and the new root, exact N+1, rotations, keys
 * counted once, unknown keys ignored, malformed roots, size limit, expiry
 * after the chain), remote file names, and the director check of
 * assignments. Table-driven; timestamp, snapshot and targets are in
 * check_common_tuf_meta.c, the signed test metadata in tuf_fixture.c. */
#include "tuf_fixture.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- root chain ------------------------------------------------------- */

typedef struct root_case {
    const char *name;
    root_spec spec;
    int signers[6];
    const char *want; /* NULL: accepted */
} root_case;

#define NEWROOT(v)                                                                                 \
    {                                                                                              \
        v, NOW + 365 * DAY, {K_N1, K_N2, K_N3, -1}, 2, K_TS, K_SNAP, K_TARG, K_DIR                 \
    }
#define SAMEROOT(v)                                                                                \
    {                                                                                              \
        v, NOW + 365 * DAY, {K_R1, K_R2, K_R3, -1}, 2, K_TS, K_SNAP, K_TARG, K_DIR                 \
    }

static const root_case ROOT_CASES[] = {
    {"same keys, threshold", SAMEROOT(2), {K_R1, K_R3, -1}, NULL},
    {"all three", SAMEROOT(2), {K_R1, K_R2, K_R3, -1}, NULL},
    {"below threshold",
     SAMEROOT(2),
     {K_R1, -1},
     "1 of 2 required signatures by root version 1's root keys (no more signatures by them)"},
    {"one key twice", SAMEROOT(2), {K_R1, K_R1, -1}, "signed more than once; counted once"},
    {"unknown key ignored", SAMEROOT(2), {K_R1, K_EVIL, -1}, "is not one of them"},
    {"unknown key plus threshold", SAMEROOT(2), {K_EVIL, K_R1, K_R2, -1}, NULL},
    {"unsigned", SAMEROOT(2), {-1}, "0 of 2 required signatures"},
    {"skips a version", SAMEROOT(3), {K_R1, K_R2, -1}, "has version 3; only 2 may follow"},
    {"same version again", SAMEROOT(1), {K_R1, K_R2, -1}, "has version 1; only 2 may follow"},
    {"rotation by both", NEWROOT(2), {K_R1, K_R2, K_N1, K_N3, -1}, NULL},
    {"rotation without the old threshold",
     NEWROOT(2),
     {K_R1, K_N1, K_N2, -1},
     "1 of 2 required signatures by root version 1's root"},
    {"rotation by the new keys only", NEWROOT(2), {K_N1, K_N2, K_N3, -1}, "0 of 2 required"},
    {"rotation without the new threshold",
     NEWROOT(2),
     {K_R1, K_R2, K_N1, -1},
     "1 of 2 required signatures by its own root"},
};

START_TEST(test_root_update)
{
    const root_case *tc = &ROOT_CASES[_i];
    blob b = sign_with(root_signed(&tc->spec), tc->signers);
    rf_error e = {0};
    rf_err rc = rf_tuf_update_root(&C, b.data, b.len, &e);

    expect(rc, &e, tc->want, tc->name);
    ck_assert_int_eq(C.root.version, tc->want ? 1 : 2);
    free(b.data);
}
END_TEST

START_TEST(test_root_chain_follows_rotation)
{
    root_spec v2 = NEWROOT(2), v3 = NEWROOT(3);
    int by_both[] = {K_R1, K_R2, K_N1, K_N2, -1}, by_old[] = {K_R1, K_R2, K_R3, -1};
    int by_new[] = {K_N2, K_N3, -1};
    blob b2 = sign_with(root_signed(&v2), by_both);
    blob b3old = sign_with(root_signed(&v3), by_old);
    blob b3 = sign_with(root_signed(&v3), by_new);
    rf_error e = {0};

    ck_assert_int_eq(rf_tuf_update_root(&C, b2.data, b2.len, &e), RF_OK);
    /* The old root keys no longer count after the rotation. */
    expect(rf_tuf_update_root(&C, b3old.data, b3old.len, &e), &e,
           "0 of 2 required signatures by root version 2's root", "old keys after rotation");
    ck_assert_int_eq(rf_tuf_update_root(&C, b3.data, b3.len, &e), RF_OK);
    ck_assert_int_eq(C.root.version, 3);
    ck_assert_str_eq(C.root.roles[RF_TUF_ROOT].keys[0].keyid, KID[K_N1]);
    free(b2.data);
    free(b3old.data);
    free(b3.data);
}
END_TEST

START_TEST(test_root_rotating_timestamp_key_forgets_versions)
{
    root_spec same = SAMEROOT(2), rotated = SAMEROOT(3);
    int signers[] = {K_R1, K_R2, -1};
    blob b2, b3;
    rf_error e = {0};

    rotated.ts = K_TS2;
    b2 = sign_with(root_signed(&same), signers);
    b3 = sign_with(root_signed(&rotated), signers);
    C.timestamp_version = 40;
    C.snapshot_version = 41;
    C.targets_version = 42;
    ck_assert_int_eq(rf_tuf_update_root(&C, b2.data, b2.len, &e), RF_OK);
    ck_assert_int_eq(C.timestamp_version, 40); /* keys unchanged: kept */
    ck_assert_int_eq(rf_tuf_update_root(&C, b3.data, b3.len, &e), RF_OK);
    ck_assert_int_eq(C.timestamp_version, 0);
    ck_assert_int_eq(C.snapshot_version, 0);
    ck_assert_int_eq(C.targets_version, 42);
    free(b2.data);
    free(b3.data);
}
END_TEST

START_TEST(test_root_expiry_after_chain)
{
    rf_error e = {0};

    ck_assert_int_eq(rf_tuf_check_root(&C, NOW, &e), RF_OK);
    expect(rf_tuf_check_root(&C, NOW + 365 * DAY, &e), &e, "root version 1 expired at",
           "root expiry");
    ck_assert_ptr_nonnull(strstr(e.message, "(freeze)"));
}
END_TEST

/* Malformed roots, each refused by rf_tuf_root_load with its reason. */
typedef struct bad_root_case {
    const char *name;
    const char *path; /* member of signed to replace: "a.b" */
    const char *json; /* the replacement (NULL: delete) */
    const char *want;
} bad_root_case;

static const bad_root_case BAD_ROOTS[] = {
    {"no director", RF_TUF_DIRECTOR_FIELD, NULL, "x-ringfence-director is missing"},
    {"director threshold", RF_TUF_DIRECTOR_FIELD, "{\"keys\": {}, \"threshold\": 1}",
     "threshold 1 but only 0 key(s)"},
    {"role missing", "roles.snapshot", NULL, "role snapshot is missing"},
    {"threshold zero", "roles.timestamp.threshold", "0", "threshold must be >= 1"},
    {"threshold unreachable", "roles.root.threshold", "4", "threshold 4 but only 3 key(s)"},
    {"unknown keyid in role", "roles.targets.keyids",
     "[\"0000000000000000000000000000000000000000000000000000000000000000\"]", "names unknown key"},
    {"duplicate keyid in role", "roles.targets.keyids", "DUPTARG", "must be distinct"},
    {"wrong keytype", "KEYTS.keytype", "\"rsa\"", "is not an ed25519 key"},
    {"wrong public", "KEYTS.keyval.public", "\"00\"", "public must be 64 hex digits"},
    {"keyid not its hash", "KEYTS.keyval.extra", "\"x\"", "is not the SHA-256 of its key object"},
    {"spec version 2", "spec_version", "\"2.0.0\"", "spec_version must be 1.x"},
    {"version zero", "version", "0", "version must be an integer >= 1"},
    {"bad expiry", "expires", "\"tomorrow\"", "expires must be"},
    {"real number", "version", "1.5", "no canonical JSON form"},
    {"wrong type", "_type", "\"targets\"", "has _type 'targets', not 'root'"},
    {"no consistent_snapshot", "consistent_snapshot", NULL, "consistent_snapshot"},
};

/* Walks "a.b.c" inside o; KEYTS stands for keys.<timestamp keyid>. */
static json_t *walk(json_t *o, char *path, const char **last)
{
    char *dot;
    if (strncmp(path, "KEYTS.", 6) == 0) {
        o = json_object_get(json_object_get(o, "keys"), KID[K_TS]);
        path += 6;
    }
    while ((dot = strchr(path, '.')) != NULL) {
        *dot = '\0';
        o = json_object_get(o, path);
        path = dot + 1;
    }
    *last = path;
    return o;
}

START_TEST(test_root_malformed)
{
    const bad_root_case *tc = &BAD_ROOTS[_i];
    json_t *s = root_signed(&ROOT1);
    int signers[] = {K_R1, K_R2, -1};
    char path[128];
    const char *last;
    json_t *parent;
    rf_tuf_root r;
    rf_error e = {0};
    blob b;

    snprintf(path, sizeof(path), "%s", tc->path);
    parent = walk(s, path, &last);
    ck_assert_ptr_nonnull(parent);
    if (!tc->json)
        json_object_del(parent, last);
    else if (strcmp(tc->json, "DUPTARG") == 0)
        json_object_set_new(parent, last, json_pack("[s, s]", KID[K_TARG], KID[K_TARG]));
    else
        json_object_set_new(parent, last, json_loads(tc->json, JSON_DECODE_ANY, NULL));
    b = sign_with(s, signers);
    expect(rf_tuf_root_load(b.data, b.len, &r, &e), &e, tc->want, tc->name);
    free(b.data);
}
END_TEST

START_TEST(test_root_load_needs_own_threshold)
{
    int one[] = {K_R1, -1};
    blob b = sign_with(root_signed(&ROOT1), one);
    rf_tuf_root r;
    rf_error e = {0};

    expect(rf_tuf_root_load(b.data, b.len, &r, &e), &e, "1 of 2 required signatures by its own",
           "self-signature");
    free(b.data);
}
END_TEST

START_TEST(test_root_size_limit)
{
    char *big = malloc(RF_TUF_ROOT_MAX_BYTES + 1);
    rf_error e = {0};

    memset(big, ' ', RF_TUF_ROOT_MAX_BYTES + 1);
    expect(rf_tuf_update_root(&C, big, RF_TUF_ROOT_MAX_BYTES + 1, &e), &e,
           "larger than 524288 bytes", "root size");
    ck_assert_int_eq(e.code, RF_ERR_TOO_LARGE);
    free(big);
}
END_TEST

START_TEST(test_file_names)
{
    char out[300];
    char sha[65];

    memset(sha, 'a', 64);
    sha[64] = '\0';
    C.snapshot_meta.version = 12;
    C.targets_meta.version = 9;
    ck_assert_int_eq(rf_tuf_root_file(4, out, sizeof(out)), RF_OK);
    ck_assert_str_eq(out, "4.root.json");
    ck_assert_int_eq(rf_tuf_snapshot_file(&C, out, sizeof(out)), RF_OK);
    ck_assert_str_eq(out, "12.snapshot.json");
    ck_assert_int_eq(rf_tuf_targets_file(&C, out, sizeof(out)), RF_OK);
    ck_assert_str_eq(out, "9.targets.json");
    ck_assert_int_eq(rf_tuf_target_file(&C, "content/sensor-2", sha, out, sizeof(out)), RF_OK);
    ck_assert_str_eq(out, "content/"
                          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                          ".sensor-2");
    ck_assert_int_eq(rf_tuf_target_file(&C, "flat", sha, out, sizeof(out)), RF_OK);
    ck_assert_str_eq(out, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.flat");
    ck_assert_int_eq(rf_tuf_target_file(&C, "x", "nothex", out, sizeof(out)), RF_ERR_INVALID);
    C.root.consistent_snapshot = false;
    ck_assert_int_eq(rf_tuf_snapshot_file(&C, out, sizeof(out)), RF_OK);
    ck_assert_str_eq(out, "snapshot.json");
    ck_assert_int_eq(rf_tuf_target_file(&C, "content/sensor-2", sha, out, sizeof(out)), RF_OK);
    ck_assert_str_eq(out, "content/sensor-2");
}
END_TEST

/* ---- assignments ------------------------------------------------------ */

typedef struct asg_case {
    const char *name;
    const char *type;
    int signers[4];
    const char *want;
} asg_case;

static const asg_case ASG_CASES[] = {
    {"director", "assignment", {K_DIR, -1}, NULL},
    {"director and unknown", "assignment", {K_EVIL, K_DIR, -1}, NULL},
    {"key not in root", "assignment", {K_EVIL, -1}, "0 of 1 required signatures by director keys"},
    {"targets key", "assignment", {K_TARG, -1}, "is not one of them"},
    {"root key", "assignment", {K_R1, K_R2, -1}, "required signatures by director keys"},
    {"unsigned", "assignment", {-1}, "no signature"},
    {"wrong type", "bundle", {K_DIR, -1}, "has _type 'bundle', not 'assignment'"},
};

START_TEST(test_assignment)
{
    const asg_case *tc = &ASG_CASES[_i];
    json_t *s = json_pack("{s:s, s:s, s:i}", "_type", tc->type, "device_id",
                          "0123456789abcdef0123456789abcdef", "counter", 3);
    blob b = sign_with(s, tc->signers);
    json_t *doc = NULL, *sd = NULL;
    rf_error e = {0};
    rf_err rc = rf_tuf_assignment_verify(&C.root, b.data, b.len, &doc, &sd, &e);

    expect(rc, &e, tc->want, tc->name);
    if (!tc->want)
        ck_assert_int_eq(json_integer_value(json_object_get(sd, "counter")), 3);
    else
        ck_assert_ptr_null(doc);
    json_decref(doc);
    free(b.data);
}
END_TEST

START_TEST(test_assignment_tampered)
{
    int dir[] = {K_DIR, -1};
    json_t *s = json_pack("{s:s, s:i}", "_type", "assignment", "counter", 3);
    blob b = sign_with(s, dir);
    char *p = strstr(b.data, "\"counter\":3");
    json_t *doc = NULL, *sd = NULL;
    rf_error e = {0};

    ck_assert_ptr_nonnull(p);
    p[10] = '4';
    expect(rf_tuf_assignment_verify(&C.root, b.data, b.len, &doc, &sd, &e), &e,
           "made a signature that does not verify", "tampered");
    free(b.data);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("common_tuf");
    TCase *tc = tcase_create("client");

    tcase_add_checked_fixture(tc, client_setup, client_teardown);
    tcase_add_loop_test(tc, test_root_update, 0, sizeof(ROOT_CASES) / sizeof(ROOT_CASES[0]));
    tcase_add_test(tc, test_root_chain_follows_rotation);
    tcase_add_test(tc, test_root_rotating_timestamp_key_forgets_versions);
    tcase_add_test(tc, test_root_expiry_after_chain);
    tcase_add_loop_test(tc, test_root_malformed, 0, sizeof(BAD_ROOTS) / sizeof(BAD_ROOTS[0]));
    tcase_add_test(tc, test_root_load_needs_own_threshold);
    tcase_add_test(tc, test_root_size_limit);
    tcase_add_test(tc, test_file_names);
    tcase_add_loop_test(tc, test_assignment, 0, sizeof(ASG_CASES) / sizeof(ASG_CASES[0]));
    tcase_add_test(tc, test_assignment_tampered);
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
