/* Unit tests for the TUF repository's pure builders (server/tuf_repo.c):
 * keyids as the specification computes them, the exact canonical bytes of
 * each role, a known-answer signature, signature dedupe and order, the root
 * round trip through the parser and its refusals, target paths, and the
 * re-signing plan, table-driven. */
#include "rf_cjson.h"
#include "tuf_repo.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

/* RFC 8032 test 1. */
static const uint8_t SEED1[32] = {0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a,
                                  0xf4, 0x92, 0xec, 0x2c, 0xc4, 0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32,
                                  0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60};
#define PUB1 "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
#define KEYID1 "74c181c7ad8a0855d4b55e44d2ba87aabdddb196832571f15f92fece332e4916"
#define Y2030 1893456000 /* 2030-01-01T00:00:00Z */
#define HASH_AB "abababababababababababababababababababababababababababababababab"

static rf_key *key_from_seed(uint8_t fill)
{
    uint8_t seed[32];
    rf_key *k = NULL;

    memset(seed, fill, sizeof(seed));
    ck_assert_int_eq(rf_key_from_raw_private(fill ? seed : SEED1, &k), RF_OK);
    return k;
}

static char *canon(const json_t *v)
{
    rf_buf b;
    size_t n;

    rf_buf_init(&b, 1 << 20);
    ck_assert_int_eq(rf_cjson_encode(v, &b, NULL), RF_OK);
    return rf_buf_steal(&b, &n);
}

START_TEST(test_keyid)
{
    char id[65];
    tuf_pubkey pk;
    rf_key *k = key_from_seed(0);

    ck_assert_int_eq(tuf_keyid_of_hex(PUB1, id), RF_OK);
    ck_assert_str_eq(id, KEYID1);
    ck_assert_int_eq(tuf_pubkey_of(k, &pk), RF_OK);
    ck_assert_str_eq(pk.public_hex, PUB1);
    ck_assert_str_eq(pk.keyid, KEYID1);
    ck_assert_int_eq(rf_key_id(k, id), RF_OK); /* common/ agrees */
    ck_assert_str_eq(id, KEYID1);
    ck_assert_int_eq(tuf_keyid_of_hex("D75A", id), RF_ERR_INVALID);
    ck_assert_int_eq(tuf_keyid_of_hex(NULL, id), RF_ERR_INVALID);
    rf_key_free(k);
}
END_TEST

START_TEST(test_timestamp_known_answer)
{
    const char *want_signed =
        "{\"_type\":\"timestamp\",\"expires\":\"2030-01-01T00:00:00Z\",\"meta\":{\"snapshot.json\":"
        "{\"hashes\":{\"sha256\":\"" HASH_AB "\"},\"length\":123,\"version\":4}},"
        "\"spec_version\":\"1.0.31\",\"version\":7}";
    const char *want_sig = "5d0cd60d9dad7f6c1b7adee491bcda9c3f3f7f9b9d93f5301dbaa34d241b376ad715d83"
                           "dfd5f0652b4998dbbb5c390471342007bf3babdffab0cee2b09b7dc04";
    rf_key *k = key_from_seed(0);
    const rf_key *keys[] = {k};
    json_t *sd = tuf_timestamp_signed(7, Y2030, 4, 123, HASH_AB, NULL);
    char *text = canon(sd), want_env[1024];
    rf_buf out;

    ck_assert_str_eq(text, want_signed);
    rf_buf_init(&out, 1 << 20);
    ck_assert_int_eq(tuf_sign(sd, keys, 1, &out, NULL), RF_OK);
    snprintf(want_env, sizeof(want_env),
             "{\"signatures\":[{\"keyid\":\"" KEYID1 "\",\"sig\":\"%s\"}],\"signed\":%s}", want_sig,
             want_signed);
    ck_assert_str_eq(out.data, want_env);
    free(text);
    rf_buf_cleanup(&out);
    json_decref(sd);
    rf_key_free(k);
}
END_TEST

START_TEST(test_snapshot_and_targets_bytes)
{
    tuf_target t[2] = {{.path = "content/sensor-1",
                        .channel = "content",
                        .name = "sensor",
                        .version = "1",
                        .sha256 = HASH_AB,
                        .length = 5,
                        .bundle_id = 9},
                       {.path = "driver/d-2+x",
                        .channel = "driver",
                        .name = "d",
                        .version = "2+x",
                        .sha256 = HASH_AB,
                        .length = 0,
                        .bundle_id = 10}};
    json_t *s = tuf_snapshot_signed(3, Y2030, 2, NULL);
    json_t *g = tuf_targets_signed(2, Y2030, t, 2, NULL);
    json_t *empty = tuf_targets_signed(1, Y2030, NULL, 0, NULL);
    char *st = canon(s), *gt = canon(g), *et = canon(empty);

    ck_assert_str_eq(st, "{\"_type\":\"snapshot\",\"expires\":\"2030-01-01T00:00:00Z\",\"meta\":"
                         "{\"targets.json\":{\"version\":2}},\"spec_version\":\"1.0.31\","
                         "\"version\":3}");
    ck_assert_str_eq(gt, "{\"_type\":\"targets\",\"expires\":\"2030-01-01T00:00:00Z\","
                         "\"spec_version\":\"1.0.31\",\"targets\":{\"content/sensor-1\":{"
                         "\"custom\":{\"bundle_id\":9,\"channel\":\"content\",\"name\":\"sensor\","
                         "\"version\":\"1\"},\"hashes\":{\"sha256\":\"" HASH_AB "\"},\"length\":5},"
                         "\"driver/d-2+x\":{\"custom\":{\"bundle_id\":10,\"channel\":\"driver\","
                         "\"name\":\"d\",\"version\":\"2+x\"},\"hashes\":{\"sha256\":\"" HASH_AB
                         "\"},\"length\":0}},\"version\":2}");
    ck_assert_str_eq(et, "{\"_type\":\"targets\",\"expires\":\"2030-01-01T00:00:00Z\","
                         "\"spec_version\":\"1.0.31\",\"targets\":{},\"version\":1}");
    free(st);
    free(gt);
    free(et);
    json_decref(s);
    json_decref(g);
    json_decref(empty);
}
END_TEST

START_TEST(test_builder_refusals)
{
    rf_error e = {0};
    tuf_target bad = {.path = "c/x-1", .sha256 = "AB", .length = 1};

    ck_assert_ptr_null(tuf_snapshot_signed(0, Y2030, 1, &e));
    ck_assert_ptr_null(tuf_snapshot_signed(1, Y2030, 0, &e));
    ck_assert_ptr_null(tuf_timestamp_signed(1, Y2030, 1, 0, HASH_AB, &e));
    ck_assert_ptr_null(tuf_timestamp_signed(1, Y2030, 1, 10, "xyz", &e));
    ck_assert_ptr_null(tuf_targets_signed(1, Y2030, &bad, 1, &e));
    ck_assert_int_eq(e.code, RF_ERR_INVALID);
}
END_TEST

START_TEST(test_sign_dedupes_and_sorts)
{
    rf_key *a = key_from_seed(1), *b = key_from_seed(2);
    const rf_key *keys[] = {b, a, b, a};
    json_t *sd = tuf_snapshot_signed(1, Y2030, 1, NULL), *env, *sigs;
    char ida[65], idb[65];
    const char *first, *second;
    rf_buf out;

    rf_buf_init(&out, 1 << 20);
    ck_assert_int_eq(tuf_sign(sd, keys, 4, &out, NULL), RF_OK);
    env = json_loads(out.data, 0, NULL);
    sigs = json_object_get(env, "signatures");
    ck_assert_int_eq(json_array_size(sigs), 2);
    rf_key_id(a, ida);
    rf_key_id(b, idb);
    first = json_string_value(json_object_get(json_array_get(sigs, 0), "keyid"));
    second = json_string_value(json_object_get(json_array_get(sigs, 1), "keyid"));
    ck_assert_int_lt(strcmp(first, second), 0);
    ck_assert(strcmp(first, ida) == 0 || strcmp(first, idb) == 0);
    ck_assert_str_ne(first, second);
    ck_assert_int_eq(tuf_sign(sd, keys, 0, &out, NULL), RF_ERR_INVALID);
    json_decref(env);
    json_decref(sd);
    rf_buf_cleanup(&out);
    rf_key_free(a);
    rf_key_free(b);
}
END_TEST

/* A root over keys seeded 1..8: three root keys (threshold 2), one per online role. */
static void make_root(tuf_root *r, rf_key **keys)
{
    memset(r, 0, sizeof(*r));
    r->version = 4;
    r->expires_s = Y2030;
    for (int i = 0; i < 7; i++)
        keys[i] = key_from_seed((uint8_t)(i + 1));
    r->role[TUF_ROOT].n = 3;
    r->role[TUF_ROOT].threshold = 2;
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(tuf_pubkey_of(keys[i], &r->role[TUF_ROOT].keys[i]), RF_OK);
    for (int role = TUF_TARGETS; role < TUF_NROLES; role++) {
        r->role[role].n = 1;
        r->role[role].threshold = 1;
        ck_assert_int_eq(tuf_pubkey_of(keys[2 + role], &r->role[role].keys[0]), RF_OK);
    }
}

static void free_keys(rf_key **keys)
{
    for (int i = 0; i < 7; i++)
        rf_key_free(keys[i]);
}

START_TEST(test_root_round_trip)
{
    rf_key *keys[7];
    tuf_root r, back;
    rf_buf out;
    json_t *sd, *env;

    make_root(&r, keys);
    sd = tuf_root_signed(&r, NULL);
    ck_assert_ptr_nonnull(sd);
    /* Only the four top-level roles; the director is the extra field. */
    ck_assert_int_eq(json_object_size(json_object_get(sd, "roles")), 4);
    ck_assert_ptr_null(json_object_get(json_object_get(sd, "roles"), "director"));
    ck_assert(json_is_true(json_object_get(sd, "consistent_snapshot")));
    ck_assert_int_eq(json_object_size(json_object_get(sd, "keys")), 6);
    env = json_object_get(sd, TUF_DIRECTOR_FIELD);
    ck_assert_int_eq(json_integer_value(json_object_get(env, "threshold")), 1);
    ck_assert_ptr_nonnull(
        json_object_get(json_object_get(env, "keys"), r.role[TUF_DIRECTOR].keys[0].keyid));
    rf_buf_init(&out, 1 << 20);
    ck_assert_int_eq(tuf_sign(sd, (const rf_key *const *)keys, 3, &out, NULL), RF_OK);
    ck_assert_int_eq(tuf_root_parse(out.data, out.len, &back, NULL), RF_OK);
    ck_assert_int_eq(back.version, 4);
    ck_assert_int_eq(back.expires_s, Y2030);
    for (int role = 0; role < TUF_NROLES; role++) {
        ck_assert_int_eq(back.role[role].n, r.role[role].n);
        ck_assert_int_eq(back.role[role].threshold, r.role[role].threshold);
        for (int i = 0; i < r.role[role].n; i++) {
            ck_assert_str_eq(back.role[role].keys[i].keyid, r.role[role].keys[i].keyid);
            ck_assert_str_eq(back.role[role].keys[i].public_hex, r.role[role].keys[i].public_hex);
        }
    }
    ck_assert(tuf_root_has_key(&back, TUF_DIRECTOR, r.role[TUF_DIRECTOR].keys[0].keyid));
    ck_assert(!tuf_root_has_key(&back, TUF_TARGETS, r.role[TUF_DIRECTOR].keys[0].keyid));
    json_decref(sd);
    rf_buf_cleanup(&out);
    free_keys(keys);
}
END_TEST

START_TEST(test_root_builder_refusals)
{
    rf_key *keys[7];
    tuf_root r;
    rf_error e = {0};

    make_root(&r, keys);
    for (int c = 0; c < 5; c++) {
        tuf_root bad = r;
        switch (c) {
        case 0:
            bad.role[TUF_ROOT].threshold = 0;
            break;
        case 1:
            bad.role[TUF_ROOT].threshold = 4;
            break;
        case 2:
            bad.role[TUF_DIRECTOR].n = 0;
            break;
        case 3:
            bad.role[TUF_TARGETS].keys[0].keyid[0] ^= 1;
            break;
        default:
            bad.role[TUF_ROOT].keys[1] = bad.role[TUF_ROOT].keys[0];
            break;
        }
        memset(&e, 0, sizeof(e));
        ck_assert_msg(tuf_root_signed(&bad, &e) == NULL, "case %d", c);
        ck_assert_int_eq(e.code, RF_ERR_INVALID);
    }
    free_keys(keys);
}
END_TEST

/* Replaces the first occurrence of from with to in s (same length). */
static void patch(char *s, const char *from, const char *to)
{
    char *p = strstr(s, from);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(strlen(from), strlen(to));
    memcpy(p, to, strlen(to));
}

START_TEST(test_root_parse_refusals)
{
    rf_key *keys[7];
    tuf_root r, back;
    rf_buf out;
    json_t *sd;
    char pub[80], other[80];

    make_root(&r, keys);
    sd = tuf_root_signed(&r, NULL);
    rf_buf_init(&out, 1 << 20);
    ck_assert_int_eq(tuf_sign(sd, (const rf_key *const *)keys, 1, &out, NULL), RF_OK);
    snprintf(pub, sizeof(pub), "\"public\":\"%s", r.role[TUF_TARGETS].keys[0].public_hex);
    memcpy(other, pub, strlen(pub) + 1);
    other[strlen(other) - 1] = other[strlen(other) - 1] == '0' ? '1' : '0';
    for (int c = 0; c < 6; c++) {
        char *t = strdup(out.data);
        size_t len = strlen(t);
        rf_error e = {0};
        if (c == 0)
            patch(t, "\"_type\":\"root\"", "\"_type\":\"rooT\"");
        else if (c == 1)
            patch(t, pub, other); /* a key that no longer hashes to its keyid */
        else if (c == 2)
            patch(t, "\"threshold\":2", "\"threshold\":5");
        else if (c == 3)
            patch(t, "2030-01-01T00:00:00Z", "2030-01-01 00:00:00Z");
        else if (c == 4)
            patch(t, "\"timestamp\":{", "\"timestamX\":{");
        else
            len = 0;
        ck_assert_msg(tuf_root_parse(t, len, &back, &e) == RF_ERR_INVALID, "case %d", c);
        free(t);
    }
    ck_assert_int_eq(tuf_root_parse("{}", 2, &back, NULL), RF_ERR_INVALID);
    ck_assert_int_eq(tuf_root_parse("not json", 8, &back, NULL), RF_ERR_INVALID);
    json_decref(sd);
    rf_buf_cleanup(&out);
    free_keys(keys);
}
END_TEST

START_TEST(test_target_path)
{
    char p[TUF_TARGET_PATH_MAX + 1], long_name[66];
    rf_error e = {0};

    ck_assert_int_eq(tuf_target_path("content", "sensor", "1.2", p, &e), RF_OK);
    ck_assert_str_eq(p, "content/sensor-1.2");
    ck_assert_int_eq(tuf_target_path("..", "x", "1", p, &e), RF_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(e.message, "channel"));
    ck_assert_int_eq(tuf_target_path(".", "x", "1", p, &e), RF_ERR_INVALID);
    memset(long_name, 'a', 65);
    long_name[65] = '\0';
    ck_assert_int_eq(tuf_target_path(long_name, long_name, long_name, p, &e), RF_OK); /* 197 */
    ck_assert_uint_eq(strlen(p), 197);
}
END_TEST

START_TEST(test_roles)
{
    tuf_role r;

    for (int i = 0; i < TUF_NROLES; i++) {
        ck_assert_int_eq(tuf_role_parse(tuf_role_name((tuf_role)i), &r), 0);
        ck_assert_int_eq(r, i);
    }
    ck_assert_int_eq(tuf_role_parse("mirror", &r), -1);
    ck_assert_int_eq(tuf_role_parse(NULL, &r), -1);
    ck_assert_str_eq(tuf_role_name(TUF_DIRECTOR), "director");
}
END_TEST

START_TEST(test_plan_refresh)
{
    /* periods: targets 100, snapshot 40, timestamp 10 */
    static const struct {
        long long tv, sv, tsv;
        int64_t te, se, tse, now;
        tuf_role want;
    } cases[] = {
        {0, 0, 0, 0, 0, 0, 1000, TUF_TARGETS},            /* nothing published yet */
        {1, 0, 0, 2000, 0, 0, 1000, TUF_SNAPSHOT},        /* snapshot missing */
        {1, 1, 0, 2000, 2000, 0, 1000, TUF_TIMESTAMP},    /* timestamp missing */
        {1, 1, 1, 2000, 2000, 2000, 1000, TUF_NROLES},    /* all fresh */
        {1, 1, 1, 2000, 2000, 1006, 1000, TUF_NROLES},    /* 6 of 10 left */
        {1, 1, 1, 2000, 2000, 1005, 1000, TUF_NROLES},    /* exactly half left */
        {1, 1, 1, 2000, 2000, 1004, 1000, TUF_TIMESTAMP}, /* less than half */
        {1, 1, 1, 2000, 2000, 900, 1000, TUF_TIMESTAMP},  /* expired */
        {1, 1, 1, 2000, 1019, 2000, 1000, TUF_SNAPSHOT},  /* snapshot due */
        {1, 1, 1, 1049, 1019, 1004, 1000, TUF_TARGETS},   /* everything due */
        {1, 1, 1, 1051, 1020, 1005, 1000, TUF_NROLES},    /* nothing quite due */
        {5, 9, 30, 1049, 5000, 5000, 1000, TUF_TARGETS},  /* targets due alone */
    };
    tuf_periods p = {.s = {1000, 100, 40, 10}};

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tuf_heads h = {0};
        h.role[TUF_TARGETS] = (tuf_head){cases[i].tv, cases[i].te};
        h.role[TUF_SNAPSHOT] = (tuf_head){cases[i].sv, cases[i].se};
        h.role[TUF_TIMESTAMP] = (tuf_head){cases[i].tsv, cases[i].tse};
        ck_assert_msg(tuf_plan_refresh(&h, &p, cases[i].now) == cases[i].want, "case %zu", i);
    }
}
END_TEST

START_TEST(test_root_expiring)
{
    const int64_t day = 86400;

    ck_assert(!tuf_root_expiring(1000 + 31 * day, 365 * day, 1000));
    ck_assert(tuf_root_expiring(1000 + 29 * day, 365 * day, 1000));
    ck_assert(!tuf_root_expiring(1000 + 26, 100, 1000)); /* a quarter of a short period */
    ck_assert(tuf_root_expiring(1000 + 24, 100, 1000));
    ck_assert(tuf_root_expiring(900, 100, 1000));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tuf_repo");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_keyid);
    tcase_add_test(tc, test_timestamp_known_answer);
    tcase_add_test(tc, test_snapshot_and_targets_bytes);
    tcase_add_test(tc, test_builder_refusals);
    tcase_add_test(tc, test_sign_dedupes_and_sorts);
    tcase_add_test(tc, test_root_round_trip);
    tcase_add_test(tc, test_root_builder_refusals);
    tcase_add_test(tc, test_root_parse_refusals);
    tcase_add_test(tc, test_target_path);
    tcase_add_test(tc, test_roles);
    tcase_add_test(tc, test_plan_refresh);
    tcase_add_test(tc, test_root_expiring);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
