/* Unit tests for signed envelopes: wrap, verify, and every way verification
 * must fail (tampered content, wrong key, malformed envelope, bad signature).
 * Envelopes also go through text and back, as they do between server and agent. */
#include "rf_cjson.h"
#include "rf_signed.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static rf_key *key_a, *key_b;

static void setup(void)
{
    ck_assert_int_eq(rf_key_generate(&key_a), RF_OK);
    ck_assert_int_eq(rf_key_generate(&key_b), RF_OK);
}

static void teardown(void)
{
    rf_key_free(key_a);
    rf_key_free(key_b);
}

static json_t *sample_signed(void)
{
    return json_pack("{s:s, s:i, s:{s:{s:s, s:I}}, s:s}", "_type", "assignment", "version", 7,
                     "channels", "content", "sha256", "ab12", "length", (json_int_t)4096, "expires",
                     "2030-01-01T00:00:00Z");
}

/* Serialises and parses back, as the agent receives it. */
static json_t *through_text(const json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT);
    ck_assert_ptr_nonnull(text);
    json_error_t je;
    json_t *back = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    ck_assert_ptr_nonnull(back);
    free(text);
    return back;
}

START_TEST(test_wrap_verify)
{
    json_t *sd = sample_signed();
    rf_error e = {0};
    json_t *env = rf_signed_wrap(sd, key_a, &e);
    ck_assert_ptr_nonnull(env);
    /* The envelope holds a reference of its own. */
    ck_assert_int_eq(sd->refcount, 2);

    json_t *sigs = json_object_get(env, "signatures");
    ck_assert_uint_eq(json_array_size(sigs), 1);
    char keyid[RF_SHA256_HEX_LEN + 1];
    ck_assert_int_eq(rf_key_id(key_a, keyid), RF_OK);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(sigs, 0), "keyid")), keyid);

    /* The signature covers the canonical bytes of "signed", checked directly. */
    const char *sig_hex = json_string_value(json_object_get(json_array_get(sigs, 0), "sig"));
    ck_assert_uint_eq(strlen(sig_hex), 2 * RF_ED25519_SIG_LEN);
    uint8_t sig[RF_ED25519_SIG_LEN];
    ck_assert_int_eq(rf_hex_decode(sig_hex, sig, sizeof(sig)), RF_OK);
    rf_buf b;
    rf_buf_init(&b, 4096);
    ck_assert_int_eq(rf_cjson_encode(sd, &b, NULL), RF_OK);
    ck_assert_int_eq(rf_ed25519_verify(key_a, b.data, b.len, sig), RF_OK);
    rf_buf_cleanup(&b);

    json_t *out = NULL;
    ck_assert_int_eq(rf_signed_verify(env, key_a, &out, &e), RF_OK);
    ck_assert_ptr_eq(out, sd);

    json_t *received = through_text(env);
    out = NULL;
    ck_assert_int_eq(rf_signed_verify(received, key_a, &out, &e), RF_OK);
    ck_assert(json_equal(out, sd));
    ck_assert_int_eq(rf_signed_verify(received, key_a, NULL, &e), RF_OK);
    json_decref(received);
    json_decref(env);
    json_decref(sd);
}
END_TEST

START_TEST(test_tampered_signed_field)
{
    json_t *sd = sample_signed();
    json_t *env = rf_signed_wrap(sd, key_a, NULL);
    json_t *received = through_text(env);
    json_t *inner = json_object_get(
        json_object_get(json_object_get(received, "signed"), "channels"), "content");
    json_object_set_new(inner, "length", json_integer(4097));
    rf_error e = {0};
    json_t *out = NULL;
    ck_assert_int_eq(rf_signed_verify(received, key_a, &out, &e), RF_ERR_VERIFY);
    ck_assert_ptr_null(out);
    char keyid[RF_SHA256_HEX_LEN + 1];
    ck_assert_int_eq(rf_key_id(key_a, keyid), RF_OK);
    char want[64];
    snprintf(want, sizeof(want), "bad signature by key %.8s", keyid);
    ck_assert_str_eq(e.message, want);

    /* An added member is tampering too. */
    json_decref(received);
    received = through_text(env);
    json_object_set_new(json_object_get(received, "signed"), "extra", json_true());
    ck_assert_int_eq(rf_signed_verify(received, key_a, NULL, &e), RF_ERR_VERIFY);
    json_decref(received);
    json_decref(env);
    json_decref(sd);
}
END_TEST

START_TEST(test_wrong_key)
{
    json_t *sd = sample_signed();
    json_t *env = rf_signed_wrap(sd, key_a, NULL);
    rf_error e = {0};
    ck_assert_int_eq(rf_signed_verify(env, key_b, NULL, &e), RF_ERR_VERIFY);
    char keyid[RF_SHA256_HEX_LEN + 1], want[64];
    ck_assert_int_eq(rf_key_id(key_b, keyid), RF_OK);
    snprintf(want, sizeof(want), "no signature by key %.8s", keyid);
    ck_assert_str_eq(e.message, want);

    /* A signature claiming key b's id but made by key a fails as bad. */
    json_t *entry = json_array_get(json_object_get(env, "signatures"), 0);
    json_object_set_new(entry, "keyid", json_string(keyid));
    ck_assert_int_eq(rf_signed_verify(env, key_b, NULL, &e), RF_ERR_VERIFY);
    ck_assert_ptr_nonnull(strstr(e.message, "bad signature"));
    json_decref(env);
    json_decref(sd);
}
END_TEST

START_TEST(test_other_signatures_ignored_but_ours_must_hold)
{
    json_t *sd = sample_signed();
    json_t *env_a = rf_signed_wrap(sd, key_a, NULL);
    json_t *env_b = rf_signed_wrap(sd, key_b, NULL);
    json_t *sig_b = json_array_get(json_object_get(env_b, "signatures"), 0);
    json_t *sigs = json_object_get(env_a, "signatures");
    /* b first, then a: verifying with either key succeeds. */
    json_array_insert(sigs, 0, sig_b);
    ck_assert_int_eq(rf_signed_verify(env_a, key_a, NULL, NULL), RF_OK);
    ck_assert_int_eq(rf_signed_verify(env_a, key_b, NULL, NULL), RF_OK);
    /* A second, broken signature under a's id makes a's check fail. */
    json_t *bad = json_deep_copy(json_array_get(sigs, 1));
    char zeros[2 * RF_ED25519_SIG_LEN + 1];
    memset(zeros, '0', sizeof(zeros) - 1);
    zeros[sizeof(zeros) - 1] = '\0';
    json_object_set_new(bad, "sig", json_string(zeros));
    json_array_append_new(sigs, bad);
    ck_assert_int_eq(rf_signed_verify(env_a, key_a, NULL, NULL), RF_ERR_VERIFY);
    ck_assert_int_eq(rf_signed_verify(env_a, key_b, NULL, NULL), RF_OK);
    json_decref(env_a);
    json_decref(env_b);
    json_decref(sd);
}
END_TEST

/* Malformed envelopes; "KEYID" is replaced by key a's id before parsing. */
static const struct {
    const char *text;
    rf_err code;
    const char *message;
} malformed[] = {
    {"[]", RF_ERR_INVALID, "envelope: must be an object"},
    {"{\"signatures\":[]}", RF_ERR_INVALID, "signed: missing or not an object"},
    {"{\"signed\":[],\"signatures\":[]}", RF_ERR_INVALID, "signed: missing or not an object"},
    {"{\"signed\":{}}", RF_ERR_INVALID, "signatures: missing or not an array"},
    {"{\"signed\":{},\"signatures\":{}}", RF_ERR_INVALID, "signatures: missing or not an array"},
    {"{\"signed\":{},\"signatures\":[1]}", RF_ERR_INVALID, "signatures[0]: must be an object"},
    {"{\"signed\":{},\"signatures\":[{\"sig\":\"00\"}]}", RF_ERR_INVALID,
     "signatures[0].keyid: must be a string"},
    {"{\"signed\":{},\"signatures\":[{\"keyid\":\"KEYID\",\"sig\":5}]}", RF_ERR_INVALID,
     "signatures[0].sig: must be a string"},
    {"{\"signed\":{},\"signatures\":[{\"keyid\":\"KEYID\",\"sig\":\"zz\"}]}", RF_ERR_VERIFY,
     "signatures[0].sig: not 64 hex bytes"},
    {"{\"signed\":{\"n\":1.5},\"signatures\":[]}", RF_ERR_INVALID,
     "signed.n: real numbers are not allowed"},
    {"{\"signed\":{},\"signatures\":[]}", RF_ERR_VERIFY, NULL},
};

START_TEST(test_malformed)
{
    char keyid[RF_SHA256_HEX_LEN + 1], text[512];
    ck_assert_int_eq(rf_key_id(key_a, keyid), RF_OK);
    const char *src = malformed[_i].text, *at = strstr(src, "KEYID");
    if (at != NULL)
        snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - src), src, keyid, at + 5);
    else
        snprintf(text, sizeof(text), "%s", src);
    json_error_t je;
    json_t *env = json_loads(text, 0, &je);
    ck_assert_ptr_nonnull(env);
    rf_error e = {0};
    json_t *out = NULL;
    ck_assert_int_eq(rf_signed_verify(env, key_a, &out, &e), malformed[_i].code);
    ck_assert_ptr_null(out);
    if (malformed[_i].message != NULL)
        ck_assert_str_eq(e.message, malformed[_i].message);
    json_decref(env);
}
END_TEST

START_TEST(test_wrap_refusals)
{
    rf_error e = {0};
    json_t *arr = json_array();
    ck_assert_ptr_null(rf_signed_wrap(arr, key_a, &e));
    ck_assert_int_eq(e.code, RF_ERR_INVALID);
    json_decref(arr);

    json_t *sd = json_pack("{s:{s:f}}", "channels", "length", 1.5);
    ck_assert_ptr_null(rf_signed_wrap(sd, key_a, &e));
    ck_assert_str_eq(e.message, "signed.channels.length: real numbers are not allowed");
    ck_assert_int_eq(sd->refcount, 1);
    json_decref(sd);

    /* A key that can only verify cannot sign. */
    char *pem = rf_key_public_pem(key_a);
    rf_key *pub = NULL;
    ck_assert_int_eq(rf_key_public_from_pem(pem, strlen(pem), &pub, NULL), RF_OK);
    sd = sample_signed();
    ck_assert_ptr_null(rf_signed_wrap(sd, pub, &e));
    ck_assert_int_eq(e.code, RF_ERR_INVALID);
    /* ...but verifies what the private half signed. */
    json_t *env = rf_signed_wrap(sd, key_a, NULL);
    ck_assert_int_eq(rf_signed_verify(env, pub, NULL, &e), RF_OK);
    json_decref(env);
    json_decref(sd);
    rf_key_free(pub);
    free(pem);
}
END_TEST

static Suite *signed_suite(void)
{
    Suite *s = suite_create("common_signed");
    TCase *tc = tcase_create("signed");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_wrap_verify);
    tcase_add_test(tc, test_tampered_signed_field);
    tcase_add_test(tc, test_wrong_key);
    tcase_add_test(tc, test_other_signatures_ignored_but_ours_must_hold);
    tcase_add_loop_test(tc, test_malformed, 0, sizeof(malformed) / sizeof(malformed[0]));
    tcase_add_test(tc, test_wrap_refusals);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(signed_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
