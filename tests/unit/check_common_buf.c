/* Unit tests for rf_buf (cap enforcement, growth, printf, steal) and rf_err.
 * The cap is the security property: every test that fills a buffer checks the
 * exact boundary and that a refused append leaves the content untouched. */
#include "rf_buf.h"
#include "rf_err.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_append_grows_to_cap_exactly)
{
    rf_buf b;
    rf_buf_init(&b, 1000);
    ck_assert_ptr_null(b.data);
    for (int i = 0; i < 1000; i++) {
        char c = (char)('a' + i % 26);
        ck_assert_int_eq(rf_buf_append(&b, &c, 1), RF_OK);
        ck_assert_uint_eq(b.len, (size_t)i + 1);
        ck_assert_int_eq(b.data[b.len], '\0');
        ck_assert_uint_ge(b.alloc, b.len + 1);
    }
    /* Never allocates more than the cap and its NUL. */
    ck_assert_uint_le(b.alloc, 1001);
    ck_assert_int_eq(b.data[999], 'a' + 999 % 26);
    ck_assert_int_eq(rf_buf_append(&b, "x", 1), RF_ERR_TOO_LARGE);
    ck_assert_uint_eq(b.len, 1000);
    ck_assert_int_eq(b.data[1000], '\0');
    ck_assert_int_eq(rf_buf_append(&b, "", 0), RF_OK);
    rf_buf_cleanup(&b);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_uint_eq(b.cap, 1000);
}
END_TEST

START_TEST(test_append_large_chunk_refused_whole)
{
    rf_buf b;
    rf_buf_init(&b, 10);
    ck_assert_int_eq(rf_buf_append_str(&b, "hello"), RF_OK);
    ck_assert_int_eq(rf_buf_append_str(&b, "world!"), RF_ERR_TOO_LARGE);
    ck_assert_str_eq(b.data, "hello");
    ck_assert_int_eq(rf_buf_append_str(&b, "world"), RF_OK);
    ck_assert_str_eq(b.data, "helloworld");
    rf_buf_cleanup(&b);

    rf_buf z;
    rf_buf_init(&z, 0);
    ck_assert_int_eq(rf_buf_append(&z, "a", 1), RF_ERR_TOO_LARGE);
    ck_assert_int_eq(rf_buf_append(&z, "", 0), RF_OK);
    ck_assert_str_eq(z.data, "");
    rf_buf_cleanup(&z);
}
END_TEST

START_TEST(test_big_growth)
{
    rf_buf b;
    rf_buf_init(&b, 1 << 20);
    char block[4096];
    memset(block, 'q', sizeof(block));
    for (int i = 0; i < 256; i++)
        ck_assert_int_eq(rf_buf_append(&b, block, sizeof(block)), RF_OK);
    ck_assert_uint_eq(b.len, 1 << 20);
    ck_assert_int_eq(rf_buf_append(&b, "q", 1), RF_ERR_TOO_LARGE);
    for (size_t i = 0; i < b.len; i++)
        if (b.data[i] != 'q')
            ck_abort_msg("byte %zu is %d", i, b.data[i]);
    rf_buf_cleanup(&b);
}
END_TEST

START_TEST(test_printf)
{
    rf_buf b;
    rf_buf_init(&b, 200);
    ck_assert_int_eq(rf_buf_printf(&b, "%s=%d", "n", 42), RF_OK);
    ck_assert_str_eq(b.data, "n=42");
    /* Larger than the first allocation: must grow and format again. */
    ck_assert_int_eq(rf_buf_printf(&b, ";%0150d", 7), RF_OK);
    ck_assert_uint_eq(b.len, 4 + 151);
    ck_assert_int_eq(b.data[b.len - 1], '7');
    ck_assert_int_eq(b.data[5], '0');
    /* Past the cap: refused, content and terminator intact. */
    ck_assert_int_eq(rf_buf_printf(&b, "%050d", 1), RF_ERR_TOO_LARGE);
    ck_assert_uint_eq(b.len, 155);
    ck_assert_uint_eq(strlen(b.data), 155);
    ck_assert_int_eq(rf_buf_printf(&b, "%045d", 1), RF_OK);
    ck_assert_uint_eq(b.len, 200);
    rf_buf_cleanup(&b);
}
END_TEST

START_TEST(test_reset_and_steal)
{
    rf_buf b;
    rf_buf_init(&b, 100);
    ck_assert_int_eq(rf_buf_append_str(&b, "abc"), RF_OK);
    char *old = b.data;
    rf_buf_reset(&b);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_ptr_eq(b.data, old);
    ck_assert_str_eq(b.data, "");
    ck_assert_int_eq(rf_buf_append_str(&b, "xyz"), RF_OK);
    size_t len = 0;
    char *s = rf_buf_steal(&b, &len);
    ck_assert_str_eq(s, "xyz");
    ck_assert_uint_eq(len, 3);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_uint_eq(b.cap, 100);
    free(s);
    /* Stealing an empty buffer still gives a string to free. */
    s = rf_buf_steal(&b, NULL);
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s, "");
    free(s);
    rf_buf_cleanup(NULL);
}
END_TEST

START_TEST(test_error_set)
{
    rf_error e = {0};
    ck_assert_int_eq(rf_error_set(&e, RF_ERR_INVALID, "field %s: %d", "x", 3), RF_ERR_INVALID);
    ck_assert_int_eq(e.code, RF_ERR_INVALID);
    ck_assert_str_eq(e.message, "field x: 3");
    ck_assert_int_eq(rf_error_set(NULL, RF_ERR_IO, "ignored"), RF_ERR_IO);
    char big[600];
    memset(big, 'm', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    rf_error_set(&e, RF_ERR_TOO_LARGE, "%s", big);
    ck_assert_uint_eq(strlen(e.message), sizeof(e.message) - 1);
}
END_TEST

static const struct {
    rf_err code;
    const char *name;
} err_names[] = {
    {RF_OK, "ok"},
    {RF_ERR_INVALID, "invalid"},
    {RF_ERR_NOT_FOUND, "not_found"},
    {RF_ERR_CONFLICT, "conflict"},
    {RF_ERR_TOO_LARGE, "too_large"},
    {RF_ERR_UNAUTHORIZED, "unauthorized"},
    {RF_ERR_FORBIDDEN, "forbidden"},
    {RF_ERR_UNAVAILABLE, "unavailable"},
    {RF_ERR_VERIFY, "verify"},
    {RF_ERR_IO, "io"},
    {RF_ERR_NOMEM, "nomem"},
    {RF_ERR_INTERNAL, "internal"},
};

START_TEST(test_err_names)
{
    ck_assert_str_eq(rf_err_name(err_names[_i].code), err_names[_i].name);
}
END_TEST

static Suite *buf_suite(void)
{
    Suite *s = suite_create("common_buf");
    TCase *tc = tcase_create("buf");
    tcase_add_test(tc, test_append_grows_to_cap_exactly);
    tcase_add_test(tc, test_append_large_chunk_refused_whole);
    tcase_add_test(tc, test_big_growth);
    tcase_add_test(tc, test_printf);
    tcase_add_test(tc, test_reset_and_steal);
    tcase_add_test(tc, test_error_set);
    tcase_add_loop_test(tc, test_err_names, 0, sizeof(err_names) / sizeof(err_names[0]));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(buf_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
