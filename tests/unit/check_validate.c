/* Unit tests for the input rules of docs/api.md (server/validate.c):
 * channel/name/version/token-name strings at and past their bounds, labels,
 * device ids, unknown fields, integers and path ids. Every refusal must name
 * the field. */
#include "validate.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef rf_err (*str_rule)(const char *field, const char *value, rf_error *err);

typedef struct str_case {
    const char *rule; /* "slug", "version", "token", "device" */
    const char *value;
    int ok;
} str_case;

static const char s64[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
static const char s65[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

static const str_case str_cases[] = {
    {"slug", "content", 1},
    {"slug", "sensor-content_v2.x", 1},
    {"slug", "a", 1},
    {"slug", s64, 1},
    {"slug", s65, 0},
    {"slug", "", 0},
    {"slug", NULL, 0},
    {"slug", "Content", 0},
    {"slug", "con tent", 0},
    {"slug", "con/tent", 0},
    {"slug", "1.2+3", 0},
    {"slug", "caf\xc3\xa9", 0},
    {"version", "291", 1},
    {"version", "1.2.3-rc.1+build.5", 1},
    {"version", "V2", 1},
    {"version", s64, 1},
    {"version", s65, 0},
    {"version", "", 0},
    {"version", "1 2", 0},
    {"version", "1/2", 0},
    {"version", "1:2", 0},
    {"token", "alice", 1},
    {"token", "Alice.Smith@corp", 1},
    {"token", "ci-bot_1", 1},
    {"token", "a b", 0},
    {"token", "", 0},
    {"token", s65, 0},
    {"device", "0123456789abcdef0123456789abcdef", 1},
    {"device", "0123456789ABCDEF0123456789abcdef", 0},
    {"device", "0123456789abcdef0123456789abcde", 0},
    {"device", "0123456789abcdef0123456789abcdef0", 0},
    {"device", "0123456789abcdef0123456789abcdeg", 0},
    {"device", "", 0},
};

static str_rule rule_of(const char *name)
{
    if (strcmp(name, "slug") == 0)
        return validate_slug;
    if (strcmp(name, "version") == 0)
        return validate_version;
    if (strcmp(name, "token") == 0)
        return validate_token_name;
    return validate_device_id;
}

START_TEST(test_strings)
{
    const str_case *c = &str_cases[_i];
    rf_error e = {0};
    rf_err rc = rule_of(c->rule)("channel", c->value, &e);

    ck_assert_msg((rc == RF_OK) == c->ok, "%s '%s': rc %d", c->rule, c->value ? c->value : "(null)",
                  rc);
    if (!c->ok) {
        ck_assert_int_eq(rc, RF_ERR_INVALID);
        ck_assert_int_eq(e.code, RF_ERR_INVALID);
        ck_assert_ptr_nonnull(strstr(e.message, "field 'channel'"));
    }
}
END_TEST

START_TEST(test_message_shape)
{
    rf_error e = {0};

    validate_slug("channel", "BAD", &e);
    ck_assert_str_eq(e.message, "field 'channel': must be a string of 1-64 characters [a-z0-9._-]");
    validate_version("version", "", &e);
    ck_assert_str_eq(e.message,
                     "field 'version': must be a string of 1-64 characters [A-Za-z0-9._+-]");
}
END_TEST

typedef struct labels_case {
    const char *json;
    int ok;
    const char *names; /* substring of the message */
} labels_case;

static const labels_case labels_cases[] = {
    {"{}", 1, NULL},
    {"{\"ring\":\"canary\",\"site\":\"fra-1\"}", 1, NULL},
    {"{\"note\":\"Hello, World! (ok)\"}", 1, NULL},
    {"{\"k\":\"caf\\u00e9\"}", 1, NULL},
    {"[]", 0, "must be an object"},
    {"{\"Ring\":\"x\"}", 0, "label keys"},
    {"{\"\":\"x\"}", 0, "label keys"},
    {"{\"ring\":1}", 0, "'labels.ring'"},
    {"{\"ring\":null}", 0, "'labels.ring'"},
    {"{\"ring\":\"a\\nb\"}", 0, "'labels.ring'"},
    {"{\"ring\":\"a\\u0000b\"}", 0, "'labels.ring'"},
};

START_TEST(test_labels)
{
    const labels_case *c = &labels_cases[_i];
    json_t *j = json_loads(c->json, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    rf_error e = {0};
    rf_err rc;

    ck_assert_ptr_nonnull(j);
    rc = validate_labels("labels", j, &e);
    ck_assert_msg((rc == RF_OK) == c->ok, "%s: rc %d (%s)", c->json, rc, e.message);
    if (!c->ok)
        ck_assert_msg(strstr(e.message, c->names) != NULL, "%s: %s", c->json, e.message);
    json_decref(j);
}
END_TEST

START_TEST(test_labels_bounds)
{
    json_t *j = json_object();
    char key[16], value[130];
    rf_error e = {0};

    for (int i = 0; i < VALIDATE_MAX_LABELS; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        json_object_set_new(j, key, json_string("v"));
    }
    ck_assert_int_eq(validate_labels("labels", j, &e), RF_OK);
    json_object_set_new(j, "one-more", json_string("v"));
    ck_assert_int_eq(validate_labels("labels", j, &e), RF_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(e.message, "at most 32 labels"));
    json_decref(j);

    j = json_object();
    memset(value, 'x', 128);
    value[128] = '\0';
    json_object_set_new(j, "k", json_string(value));
    ck_assert_int_eq(validate_labels("labels", j, &e), RF_OK);
    value[128] = 'x';
    value[129] = '\0';
    json_object_set_new(j, "k", json_string(value));
    ck_assert_int_eq(validate_labels("labels", j, &e), RF_ERR_INVALID);
    json_decref(j);

    j = json_object();
    json_object_set_new(j, s64, json_string("v"));
    ck_assert_int_eq(validate_labels("labels", j, &e), RF_OK);
    json_object_set_new(j, s65, json_string("v"));
    ck_assert_int_eq(validate_labels("labels", j, &e), RF_ERR_INVALID);
    json_decref(j);
}
END_TEST

START_TEST(test_known_fields)
{
    static const char *const allowed[] = {"name", "order", NULL};
    json_t *ok = json_pack("{s:s,s:i}", "name", "x", "order", 1);
    json_t *bad = json_pack("{s:s,s:i}", "name", "x", "colour", 1);
    rf_error e = {0};

    ck_assert_int_eq(validate_known_fields(ok, allowed, &e), RF_OK);
    ck_assert_int_eq(validate_known_fields(bad, allowed, &e), RF_ERR_INVALID);
    ck_assert_str_eq(e.message, "field 'colour': unknown field");
    json_decref(ok);
    json_decref(bad);
}
END_TEST

START_TEST(test_int)
{
    static const struct {
        const char *json;
        int ok;
        long long want;
    } cases[] = {
        {"5", 1, 5},   {"0", 1, 0},     {"10", 1, 10},  {"11", 0, 0},   {"-1", 0, 0},
        {"5.0", 0, 0}, {"\"5\"", 0, 0}, {"true", 0, 0}, {"null", 0, 0},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *j = json_loads(cases[i].json, JSON_DECODE_ANY, NULL);
        long long out = -99;
        rf_error e = {0};
        rf_err rc = validate_int("order", j, 0, 10, &out, &e);
        ck_assert_msg((rc == RF_OK) == cases[i].ok, "%s", cases[i].json);
        if (cases[i].ok)
            ck_assert_int_eq(out, cases[i].want);
        else
            ck_assert_ptr_nonnull(strstr(e.message, "field 'order'"));
        json_decref(j);
    }
}
END_TEST

START_TEST(test_path_id)
{
    long long id = 0;

    ck_assert_int_eq(validate_path_id("12", &id), 1);
    ck_assert_int_eq(id, 12);
    ck_assert_int_eq(validate_path_id("9007199254740992", &id), 1);
    ck_assert_int_eq(validate_path_id("9007199254740993", &id), 0);
    ck_assert_int_eq(validate_path_id("0", &id), 0);
    ck_assert_int_eq(validate_path_id("-1", &id), 0);
    ck_assert_int_eq(validate_path_id("1a", &id), 0);
    ck_assert_int_eq(validate_path_id("", &id), 0);
    ck_assert_int_eq(validate_path_id(" 1", &id), 0);
    ck_assert_int_eq(validate_path_id(NULL, &id), 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("validate");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, test_strings, 0, sizeof(str_cases) / sizeof(str_cases[0]));
    tcase_add_test(tc, test_message_shape);
    tcase_add_loop_test(tc, test_labels, 0, sizeof(labels_cases) / sizeof(labels_cases[0]));
    tcase_add_test(tc, test_labels_bounds);
    tcase_add_test(tc, test_known_fields);
    tcase_add_test(tc, test_int);
    tcase_add_test(tc, test_path_id);
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
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
