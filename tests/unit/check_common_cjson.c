/* Unit tests for the canonical JSON encoder: the bytes signatures cover.
 * The tables hold the exact expected output for accepted values and the exact
 * message for refused ones; inputs are parsed with jansson as received data is. */
#include "rf_cjson.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
    ck_assert_msg(v != NULL, "test input does not parse: %s (%s)", text, e.text);
    return v;
}

static const struct {
    const char *in;
    const char *out;
} good[] = {
    {"{}", "{}"},
    {"[]", "[]"},
    {"{ \"a\" : { }, \"b\" : [ ] }", "{\"a\":{},\"b\":[]}"},
    {"{\"b\":1,\"a\":2,\"c\":3}", "{\"a\":2,\"b\":1,\"c\":3}"},
    /* Byte order: "" < "A" < "a" < "aa" < "b" < "z" < U+00E9 (c3 a9). */
    {"{\"z\":0,\"\\u00e9\":1,\"b\":2,\"aa\":3,\"a\":4,\"A\":5,\"\":6}",
     "{\"\":6,\"A\":5,\"a\":4,\"aa\":3,\"b\":2,\"z\":0,\"\xc3\xa9\":1}"},
    /* U+FF5E (ef bd 9e) sorts before U+1F600 (f0 9f 98 80) by UTF-8 bytes,
     * although UTF-16 code units would put the emoji (d83d) first. */
    {"{\"\\ud83d\\ude00\":1,\"\\uff5e\":2}", "{\"\xef\xbd\x9e\":2,\"\xf0\x9f\x98\x80\":1}"},
    {"{\"b\":[1,{\"d\":true,\"c\":null}],\"a\":{\"y\":false,\"x\":-5}}",
     "{\"a\":{\"x\":-5,\"y\":false},\"b\":[1,{\"c\":null,\"d\":true}]}"},
    {"[3, 1, 2]", "[3,1,2]"},
    /* Only backslash and double quote are escaped; '/' and DEL pass through. */
    {"{\"k\":\"a\\\"b\\\\c/d\"}", "{\"k\":\"a\\\"b\\\\c/d\"}"},
    {"{\"q\\\"k\":\"\\u007f\"}", "{\"q\\\"k\":\"\x7f\"}"},
    {"\"snow \\u2603 \\u00e9 \\ud83d\\ude00\"", "\"snow \xe2\x98\x83 \xc3\xa9 \xf0\x9f\x98\x80\""},
    {"\"raw \xe2\x98\x83\"", "\"raw \xe2\x98\x83\""},
    {"0", "0"},
    {"-1", "-1"},
    {"9223372036854775807", "9223372036854775807"},
    {"-9223372036854775808", "-9223372036854775808"},
    {"true", "true"},
    {"false", "false"},
    {"null", "null"},
    {"[true,false,null,\"\"]", "[true,false,null,\"\"]"},
    {"{\"a\":{\"b\":{\"c\":{\"d\":[[[]]]}}}}", "{\"a\":{\"b\":{\"c\":{\"d\":[[[]]]}}}}"},
};

START_TEST(test_canonical_table)
{
    json_t *v = parse(good[_i].in);
    rf_buf b;
    rf_buf_init(&b, 4096);
    rf_error e = {0};
    ck_assert_int_eq(rf_cjson_encode(v, &b, &e), RF_OK);
    ck_assert_str_eq(b.data, good[_i].out);
    ck_assert_uint_eq(b.len, strlen(good[_i].out));
    rf_buf_cleanup(&b);
    json_decref(v);
}
END_TEST

static const struct {
    const char *in;
    const char *prefix; /* passed to rf_cjson_encode_at, NULL for rf_cjson_encode */
    const char *message;
} bad[] = {
    {"{\"channels\":{\"content\":{\"length\":1.5}}}", "signed",
     "signed.channels.content.length: real numbers are not allowed"},
    {"{\"channels\":{\"content\":{\"length\":1.5}}}", NULL,
     "channels.content.length: real numbers are not allowed"},
    {"{\"n\":1.0}", NULL, "n: real numbers are not allowed"},
    {"{\"n\":1e3}", NULL, "n: real numbers are not allowed"},
    {"1.5", NULL, "real numbers are not allowed"},
    {"1.5", "signed", "signed: real numbers are not allowed"},
    {"{\"list\":[1,2,{\"x\":0.0}]}", NULL, "list[2].x: real numbers are not allowed"},
    {"{\"a\":{\"b\":\"x\\ny\"}}", NULL, "a.b: control characters are not allowed in strings"},
    {"{\"a\":\"\\u001f\"}", NULL, "a: control characters are not allowed in strings"},
    {"{\"a\":[\"ok\",\"tab\\there\"]}", "signed",
     "signed.a[1]: control characters are not allowed in strings"},
    {"{\"k\\u0001\":1}", NULL, "k\x01: control characters are not allowed in strings"},
    {"[\"\\r\"]", NULL, "[0]: control characters are not allowed in strings"},
};

START_TEST(test_refusal_table)
{
    json_t *v = parse(bad[_i].in);
    rf_buf b;
    rf_buf_init(&b, 4096);
    rf_error e = {0};
    rf_err rc = bad[_i].prefix != NULL ? rf_cjson_encode_at(v, bad[_i].prefix, &b, &e)
                                       : rf_cjson_encode(v, &b, &e);
    ck_assert_int_eq(rc, RF_ERR_INVALID);
    ck_assert_int_eq(e.code, RF_ERR_INVALID);
    ck_assert_str_eq(e.message, bad[_i].message);
    rf_buf_cleanup(&b);
    json_decref(v);
}
END_TEST

START_TEST(test_nul_and_bad_utf8_refused)
{
    rf_buf b;
    rf_buf_init(&b, 4096);
    rf_error e = {0};
    json_t *v = json_pack("{s:o}", "s", json_stringn("a\0b", 3));
    ck_assert_int_eq(rf_cjson_encode(v, &b, &e), RF_ERR_INVALID);
    ck_assert_str_eq(e.message, "s: control characters are not allowed in strings");
    json_decref(v);

    /* Invalid UTF-8 can only be built with jansson's unchecked constructor. */
    static const char *const bad_utf8[] = {"\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                                           "ok\xff"};
    for (size_t i = 0; i < sizeof(bad_utf8) / sizeof(bad_utf8[0]); i++) {
        rf_buf_reset(&b);
        v = json_pack("{s:o}", "u", json_string_nocheck(bad_utf8[i]));
        ck_assert_int_eq(rf_cjson_encode(v, &b, &e), RF_ERR_INVALID);
        ck_assert_str_eq(e.message, "u: strings must be valid UTF-8");
        json_decref(v);
    }
    rf_buf_cleanup(&b);
}
END_TEST

static json_t *nest(int depth)
{
    json_t *v = json_array();
    for (int i = 0; i < depth; i++) {
        json_t *outer = json_array();
        json_array_append_new(outer, v);
        v = outer;
    }
    return v;
}

START_TEST(test_depth_limit)
{
    rf_buf b;
    rf_buf_init(&b, 4096);
    rf_error e = {0};
    json_t *ok = nest(RF_CJSON_MAX_DEPTH);
    ck_assert_int_eq(rf_cjson_encode(ok, &b, &e), RF_OK);
    ck_assert_uint_eq(b.len, 2 * (RF_CJSON_MAX_DEPTH + 1));
    json_decref(ok);
    rf_buf_reset(&b);
    json_t *deep = nest(RF_CJSON_MAX_DEPTH + 1);
    ck_assert_int_eq(rf_cjson_encode(deep, &b, &e), RF_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(e.message, "nested too deeply"));
    json_decref(deep);
    rf_buf_cleanup(&b);
}
END_TEST

START_TEST(test_long_path_is_cut)
{
    char key[300];
    memset(key, 'k', sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';
    json_t *v = json_pack("{s:{s:f}}", "outer", key, 2.5);
    rf_buf b;
    rf_buf_init(&b, 4096);
    rf_error e = {0};
    ck_assert_int_eq(rf_cjson_encode(v, &b, &e), RF_ERR_INVALID);
    ck_assert_str_eq(e.message, "outer...: real numbers are not allowed");
    json_decref(v);
    rf_buf_cleanup(&b);
}
END_TEST

START_TEST(test_output_cap)
{
    json_t *v = parse("{\"abc\":12345}");
    rf_buf b;
    rf_buf_init(&b, 8);
    rf_error e = {0};
    ck_assert_int_eq(rf_cjson_encode(v, &b, &e), RF_ERR_TOO_LARGE);
    ck_assert_int_eq(e.code, RF_ERR_TOO_LARGE);
    json_decref(v);
    rf_buf_cleanup(&b);
}
END_TEST

START_TEST(test_appends_and_same_for_any_insertion_order)
{
    json_t *x = json_object(), *y = json_object();
    static const char *const keys[] = {"delta", "alpha", "charlie", "bravo", "echo"};
    for (int i = 0; i < 5; i++) {
        json_object_set_new(x, keys[i], json_integer(i));
        json_object_set_new(y, keys[4 - i], json_integer(4 - i));
    }
    rf_buf a, b;
    rf_buf_init(&a, 4096);
    rf_buf_init(&b, 4096);
    ck_assert_int_eq(rf_buf_append_str(&a, "prefix:"), RF_OK);
    ck_assert_int_eq(rf_cjson_encode(x, &a, NULL), RF_OK);
    ck_assert_int_eq(rf_cjson_encode(y, &b, NULL), RF_OK);
    ck_assert_str_eq(a.data + 7, b.data);
    ck_assert_str_eq(b.data, "{\"alpha\":1,\"bravo\":3,\"charlie\":2,\"delta\":0,\"echo\":4}");
    json_decref(x);
    json_decref(y);
    rf_buf_cleanup(&a);
    rf_buf_cleanup(&b);
}
END_TEST

static Suite *cjson_suite(void)
{
    Suite *s = suite_create("common_cjson");
    TCase *tc = tcase_create("cjson");
    tcase_add_loop_test(tc, test_canonical_table, 0, sizeof(good) / sizeof(good[0]));
    tcase_add_loop_test(tc, test_refusal_table, 0, sizeof(bad) / sizeof(bad[0]));
    tcase_add_test(tc, test_nul_and_bad_utf8_refused);
    tcase_add_test(tc, test_depth_limit);
    tcase_add_test(tc, test_long_path_is_cut);
    tcase_add_test(tc, test_output_cap);
    tcase_add_test(tc, test_appends_and_same_for_any_insertion_order);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(cjson_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
