/* Unit tests for the pieces of the fast agent path that need no database:
 * PostgreSQL array literals (escaping, NULLs, the size cap), the device token
 * cache (hits, expiry, eviction, clearing) and the assignment answer cache
 * (generation, age, forgetting, the epoch guard against storing stale answers). */
#include "assign_cache.h"
#include "auth_cache.h"
#include "pg_array.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- pg_array ---- */

typedef struct array_case {
    const char *in[4];
    int n;
    const char *want;
} array_case;

static const array_case array_cases[] = {
    {{0}, 0, "{}"},
    {{"a"}, 1, "{\"a\"}"},
    {{"a", NULL, "b"}, 3, "{\"a\",NULL,\"b\"}"},
    {{""}, 1, "{\"\"}"},
    {{"NULL"}, 1, "{\"NULL\"}"},
    {{"say \"hi\""}, 1, "{\"say \\\"hi\\\"\"}"},
    {{"back\\slash"}, 1, "{\"back\\\\slash\"}"},
    {{"{\"k\":[1,2]}", "x,y"}, 2, "{\"{\\\"k\\\":[1,2]}\",\"x,y\"}"},
    {{"\\\"", "\"\\"}, 2, "{\"\\\\\\\"\",\"\\\"\\\\\"}"},
};

START_TEST(test_array_cases)
{
    const array_case *c = &array_cases[_i];
    pg_array a;
    pg_array_init(&a, 1 << 10);
    for (int i = 0; i < c->n; i++)
        pg_array_add(&a, c->in[i]);
    ck_assert_str_eq(pg_array_text(&a), c->want);
    ck_assert_str_eq(pg_array_text(&a), c->want); /* closing twice changes nothing */
    pg_array_cleanup(&a);
}
END_TEST

START_TEST(test_array_numbers)
{
    pg_array a;
    pg_array_init(&a, 1 << 10);
    pg_array_add_ll(&a, -5);
    pg_array_add_id(&a, 0);
    pg_array_add_id(&a, 42);
    pg_array_add_ll(&a, 9007199254740992LL);
    ck_assert_str_eq(pg_array_text(&a), "{\"-5\",NULL,\"42\",\"9007199254740992\"}");
    pg_array_cleanup(&a);
}
END_TEST

START_TEST(test_array_cap)
{
    pg_array a;
    pg_array_init(&a, 16);
    pg_array_add(&a, "0123456789");
    pg_array_add(&a, "0123456789"); /* over 16 bytes: the literal is unusable */
    ck_assert_ptr_null(pg_array_text(&a));
    pg_array_cleanup(&a);
    pg_array_init(&a, 16);
    pg_array_add(&a, "x");
    ck_assert_str_eq(pg_array_text(&a), "{\"x\"}");
    pg_array_add(&a, "y"); /* after the text was taken: refused */
    ck_assert_ptr_null(pg_array_text(&a));
    pg_array_cleanup(&a);
}
END_TEST

/* ---- auth_cache ---- */

static void digest_of(int i, uint8_t d[32])
{
    memset(d, 0, 32);
    for (int k = 0; k < 32; k++)
        d[k] = (uint8_t)((i * 2654435761u) >> (k % 4 * 8)) ^ (uint8_t)k;
    d[31] = (uint8_t)i;
    d[30] = (uint8_t)(i >> 8);
}

static void id_of(int i, char id[33])
{
    snprintf(id, 33, "%032x", (unsigned)i);
}

START_TEST(test_auth_hit_and_expiry)
{
    auth_cache *c = NULL;
    uint8_t d[32], other[32];
    char id[33], got[33];
    ck_assert_int_eq(auth_cache_new(1000, 60000, &c), RF_OK);
    digest_of(1, d);
    digest_of(2, other);
    id_of(1, id);
    ck_assert_int_eq(auth_cache_get(c, d, 1000, got), 0);
    auth_cache_put(c, d, id, 1000);
    ck_assert_int_eq(auth_cache_get(c, d, 1000 + 59999, got), 1);
    ck_assert_str_eq(got, id);
    ck_assert_int_eq(auth_cache_get(c, other, 2000, got), 0);
    ck_assert_int_eq(auth_cache_get(c, d, 1000 + 60000, got), 0); /* expired */
    ck_assert_int_eq(auth_cache_get(c, d, 1000 + 1, got), 0);     /* and forgotten */
    auth_cache_put(c, d, id, 5000);
    auth_cache_put(c, d, "short", 5000); /* not a device id: ignored */
    ck_assert_int_eq(auth_cache_get(c, d, 5000, got), 1);
    ck_assert_str_eq(got, id);
    auth_cache_clear(c);
    ck_assert_int_eq(auth_cache_get(c, d, 5000, got), 0);
    auth_cache_free(c);
    auth_cache_free(NULL);
}
END_TEST

START_TEST(test_auth_bounded)
{
    auth_cache *c = NULL;
    uint8_t d[32];
    char id[33], got[33];
    int hits = 0;
    ck_assert_int_eq(auth_cache_new(64, 60000, &c), RF_OK);
    for (int i = 0; i < 10000; i++) {
        digest_of(i, d);
        id_of(i, id);
        auth_cache_put(c, d, id, 1000 + i);
    }
    for (int i = 0; i < 10000; i++) {
        digest_of(i, d);
        if (auth_cache_get(c, d, 20000, got)) {
            id_of(i, id);
            ck_assert_str_eq(got, id); /* never another device's id */
            hits++;
        }
    }
    ck_assert_int_le(hits, 64);
    ck_assert_int_gt(hits, 0);
    auth_cache_free(c);
}
END_TEST

/* ---- assign_cache ---- */

START_TEST(test_assign_generation_and_age)
{
    assign_cache *c = NULL;
    long long counter = 0;
    char *body = NULL;
    size_t len = 0;
    const char *dev = "0123456789abcdef0123456789abcdef";
    ck_assert_int_eq(assign_cache_new(100, 30000, &c), RF_OK);
    uint64_t ep = assign_cache_epoch(c);
    ck_assert_int_eq(assign_cache_get(c, dev, 7, 1000, &counter, &body, &len), 0);
    assign_cache_put(c, dev, 7, ep, 1000, 12, "{\"a\":1}", 7);
    ck_assert_int_eq(assign_cache_get(c, dev, 7, 1000 + 29999, &counter, &body, &len), 1);
    ck_assert_int_eq(counter, 12);
    ck_assert_uint_eq(len, 7);
    ck_assert_str_eq(body, "{\"a\":1}");
    free(body);
    body = NULL;
    ck_assert_int_eq(
        assign_cache_get(c, "ffffffffffffffffffffffffffffffff", 7, 1000, &counter, &body, &len), 0);
    /* another generation: gone for good */
    ck_assert_int_eq(assign_cache_get(c, dev, 8, 2000, &counter, &body, &len), 0);
    ck_assert_int_eq(assign_cache_get(c, dev, 7, 2000, &counter, &body, &len), 0);
    /* too old */
    assign_cache_put(c, dev, 8, ep, 1000, 13, "x", 1);
    ck_assert_int_eq(assign_cache_get(c, dev, 8, 1000 + 30000, &counter, &body, &len), 0);
    assign_cache_free(c);
    assign_cache_free(NULL);
}
END_TEST

START_TEST(test_assign_forget_and_epoch)
{
    assign_cache *c = NULL;
    long long counter = 0;
    char *body = NULL;
    size_t len = 0;
    const char *a = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", *b = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    ck_assert_int_eq(assign_cache_new(100, 30000, &c), RF_OK);
    uint64_t ep = assign_cache_epoch(c);
    assign_cache_put(c, a, 1, ep, 1000, 1, "A", 1);
    assign_cache_put(c, b, 1, ep, 1000, 2, "B", 1);
    assign_cache_forget(c, a);
    ck_assert_int_eq(assign_cache_get(c, a, 1, 1000, &counter, &body, &len), 0);
    ck_assert_int_eq(assign_cache_get(c, b, 1, 1000, &counter, &body, &len), 1);
    ck_assert_str_eq(body, "B");
    free(body);
    /* computed before a forget, stored after it: not stored */
    assign_cache_put(c, a, 1, ep, 1000, 3, "stale", 5);
    ck_assert_int_eq(assign_cache_get(c, a, 1, 1000, &counter, &body, &len), 0);
    assign_cache_put(c, a, 1, assign_cache_epoch(c), 1000, 4, "fresh", 5);
    ck_assert_int_eq(assign_cache_get(c, a, 1, 1000, &counter, &body, &len), 1);
    ck_assert_int_eq(counter, 4);
    ck_assert_str_eq(body, "fresh");
    free(body);
    /* replacing an answer keeps one entry per device */
    assign_cache_put(c, a, 2, assign_cache_epoch(c), 1000, 5, "newer", 5);
    ck_assert_int_eq(assign_cache_get(c, a, 2, 1000, &counter, &body, &len), 1);
    ck_assert_int_eq(counter, 5);
    free(body);
    assign_cache_free(c);
}
END_TEST

START_TEST(test_assign_bounded)
{
    assign_cache *c = NULL;
    long long counter = 0;
    char *body = NULL, id[33];
    size_t len = 0;
    int hits = 0;
    ck_assert_int_eq(assign_cache_new(64, 30000, &c), RF_OK);
    uint64_t ep = assign_cache_epoch(c);
    for (int i = 0; i < 5000; i++) {
        id_of(i, id);
        assign_cache_put(c, id, 1, ep, 1000 + i, i, id, 32);
    }
    for (int i = 0; i < 5000; i++) {
        id_of(i, id);
        if (assign_cache_get(c, id, 1, 7000, &counter, &body, &len)) {
            ck_assert_str_eq(body, id); /* never another device's answer */
            ck_assert_int_eq(counter, i);
            free(body);
            hits++;
        }
    }
    ck_assert_int_le(hits, 64);
    ck_assert_int_gt(hits, 0);
    assign_cache_free(c);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("caches");
    TCase *tc = tcase_create("all");
    tcase_add_loop_test(tc, test_array_cases, 0, (int)(sizeof(array_cases) / sizeof(*array_cases)));
    tcase_add_test(tc, test_array_numbers);
    tcase_add_test(tc, test_array_cap);
    tcase_add_test(tc, test_auth_hit_and_expiry);
    tcase_add_test(tc, test_auth_bounded);
    tcase_add_test(tc, test_assign_generation_and_age);
    tcase_add_test(tc, test_assign_forget_and_epoch);
    tcase_add_test(tc, test_assign_bounded);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
