/* Unit tests for cohort bucketing and ring selection.
 * Bucket expectations were computed outside this code, so a change in the
 * hashing (which would silently move devices between rings) fails here. */
#include "rf_cohort.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Expected values computed with python3:
 *   int.from_bytes(hashlib.sha256(s.encode()).digest()[:4], "big") % 10000 */
static const struct {
    const char *id;
    uint32_t bucket;
} buckets[] = {
    {"", 2610},
    {"a", 6610},
    {"device-1", 8745},
    {"device-2", 8303},
    {"dev-0001", 3129},
    {"3f2504e0-4f89-11d3-9a0c-0305e82c3301", 394},
    {"h\xc3\xa9llo", 4365},
};

START_TEST(test_bucket_known)
{
    ck_assert_uint_eq(rf_bucket(buckets[_i].id), buckets[_i].bucket);
}
END_TEST

/* Same formula over salt + ":" + id (python3, as above). */
static const struct {
    const char *salt, *id;
    uint32_t bucket;
} salted[] = {
    {"r1", "device-1", 8942},
    {"rollout-42", "3f2504e0-4f89-11d3-9a0c-0305e82c3301", 7417},
    {"", "a", 8943},
    {NULL, "device-1", 3231}, /* NULL: 600 'x' characters, built in the test */
};

START_TEST(test_bucket_salted_known)
{
    char long_salt[601];
    const char *salt = salted[_i].salt;
    if (salt == NULL) {
        memset(long_salt, 'x', 600);
        long_salt[600] = '\0';
        salt = long_salt;
    }
    ck_assert_uint_eq(rf_bucket_salted(salt, salted[_i].id), salted[_i].bucket);
}
END_TEST

START_TEST(test_bucket_distribution)
{
    /* 100k synthetic ids: each decile of the bucket range holds 10 % of them
     * within ±2 % (relative: 9,800 to 10,200 ids). */
    int deciles[10] = {0};
    char id[64];
    for (int i = 0; i < 100000; i++) {
        snprintf(id, sizeof(id), "synthetic-device-%06d", i);
        uint32_t b = rf_bucket(id);
        ck_assert_uint_lt(b, RF_BUCKETS);
        deciles[b / 1000]++;
    }
    for (int d = 0; d < 10; d++) {
        ck_assert_msg(deciles[d] >= 9800 && deciles[d] <= 10200, "decile %d holds %d ids", d,
                      deciles[d]);
    }
}
END_TEST

static json_t *labels(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, 0, &e);
    ck_assert_ptr_nonnull(v);
    return v;
}

static const struct {
    const char *ring_labels; /* NULL: no label selector */
    int lo, hi;
    const char *device_labels; /* NULL: device without labels */
    uint32_t bucket;
    int want;
} matches[] = {
    {"{}", 0, 9999, "{}", 0, 1},
    {"{}", 0, 9999, NULL, 9999, 1},
    {NULL, 0, 9999, "{\"ring\":\"canary\"}", 5000, 1},
    {"{\"ring\":\"canary\"}", 0, 9999, "{\"ring\":\"canary\"}", 17, 1},
    {"{\"ring\":\"canary\"}", 0, 9999, "{\"ring\":\"canary\",\"site\":\"fra1\"}", 17, 1},
    {"{\"ring\":\"canary\",\"site\":\"fra1\"}", 0, 9999, "{\"ring\":\"canary\"}", 17, 0},
    {"{\"ring\":\"canary\"}", 0, 9999, "{\"ring\":\"broad\"}", 17, 0},
    {"{\"ring\":\"canary\"}", 0, 9999, "{\"ring\":\"canaryX\"}", 17, 0},
    {"{\"ring\":\"canary\"}", 0, 9999, "{\"ring\":\"Canary\"}", 17, 0},
    {"{\"ring\":\"canary\"}", 0, 9999, "{}", 17, 0},
    {"{\"ring\":\"canary\"}", 0, 9999, NULL, 17, 0},
    {"{\"ring\":\"canary\"}", 0, 9999, "{\"ring\":1}", 17, 0},
    {"{\"ring\":1}", 0, 9999, "{\"ring\":1}", 17, 0},
    {"{}", 100, 199, "{}", 99, 0},
    {"{}", 100, 199, "{}", 100, 1},
    {"{}", 100, 199, "{}", 199, 1},
    {"{}", 100, 199, "{}", 200, 0},
    {"{\"site\":\"fra1\"}", 0, 499, "{\"site\":\"fra1\"}", 500, 0},
    {"{\"site\":\"fra1\"}", 0, 499, "{\"site\":\"fra1\"}", 499, 1},
    {"{}", 5, 4, "{}", 5, 0},
};

START_TEST(test_ring_matches)
{
    json_t *rl = matches[_i].ring_labels ? labels(matches[_i].ring_labels) : NULL;
    json_t *dl = matches[_i].device_labels ? labels(matches[_i].device_labels) : NULL;
    rf_ring_sel r = {.id = 1,
                     .order = 0,
                     .labels = rl,
                     .bucket_lo = matches[_i].lo,
                     .bucket_hi = matches[_i].hi};
    ck_assert_int_eq(rf_ring_matches(&r, dl, matches[_i].bucket), matches[_i].want);
    json_decref(rl);
    json_decref(dl);
}
END_TEST

START_TEST(test_ring_of)
{
    json_t *canary = labels("{\"ring\":\"canary\"}"), *any = labels("{}");
    json_t *fra = labels("{\"site\":\"fra1\"}");
    rf_ring_sel rings[] = {
        {.id = 10, .order = 0, .labels = canary, .bucket_lo = 0, .bucket_hi = 9999},
        {.id = 11, .order = 1, .labels = fra, .bucket_lo = 0, .bucket_hi = 999},
        {.id = 12, .order = 2, .labels = any, .bucket_lo = 0, .bucket_hi = 4999},
    };
    json_t *dev_canary = labels("{\"ring\":\"canary\",\"site\":\"fra1\"}");
    json_t *dev_fra = labels("{\"site\":\"fra1\"}");
    json_t *dev_plain = labels("{\"site\":\"ams1\"}");
    /* Matches every ring: the first by order wins. */
    ck_assert_int_eq(rf_ring_of(rings, 3, dev_canary, 10), 0);
    ck_assert_int_eq(rf_ring_of(rings, 3, dev_fra, 10), 1);
    ck_assert_int_eq(rf_ring_of(rings, 3, dev_fra, 1000), 2);
    ck_assert_int_eq(rf_ring_of(rings, 3, dev_plain, 10), 2);
    ck_assert_int_eq(rf_ring_of(rings, 3, dev_plain, 5000), -1);
    ck_assert_int_eq(rf_ring_of(rings, 3, NULL, 4999), 2);
    ck_assert_int_eq(rf_ring_of(rings, 0, dev_canary, 10), -1);
    ck_assert_int_eq(rf_ring_of(NULL, 0, dev_canary, 10), -1);

    /* The lowest order wins even when the array is not in order. */
    rf_ring_sel rev[] = {rings[2], rings[1], rings[0]};
    ck_assert_int_eq(rf_ring_of(rev, 3, dev_canary, 10), 2);
    ck_assert_int_eq(rf_ring_of(rev, 3, dev_fra, 10), 1);
    json_decref(canary);
    json_decref(any);
    json_decref(fra);
    json_decref(dev_canary);
    json_decref(dev_fra);
    json_decref(dev_plain);
}
END_TEST

static Suite *cohort_suite(void)
{
    Suite *s = suite_create("common_cohort");
    TCase *tc = tcase_create("cohort");
    tcase_add_loop_test(tc, test_bucket_known, 0, sizeof(buckets) / sizeof(buckets[0]));
    tcase_add_loop_test(tc, test_bucket_salted_known, 0, sizeof(salted) / sizeof(salted[0]));
    tcase_add_test(tc, test_bucket_distribution);
    tcase_add_loop_test(tc, test_ring_matches, 0, sizeof(matches) / sizeof(matches[0]));
    tcase_add_test(tc, test_ring_of);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(cohort_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
