/* Unit tests for the agent's wire formats: signed assignments and bundle
 * metadata through a real signature and the pinned-key check (valid, tampered,
 * wrong key, wrong type), strict field parsing, the metadata-against-
 * assignment comparison (table-driven), and the enrollment answer. */
#include "rf_signed.h"
#include "wire.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define DEV "0123456789abcdef0123456789abcdef"
#define SHA "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"

static rf_key *key, *other;

static void setup(void)
{
    ck_assert_int_eq(rf_key_generate(&key), RF_OK);
    ck_assert_int_eq(rf_key_generate(&other), RF_OK);
}

static void teardown(void)
{
    rf_key_free(key);
    rf_key_free(other);
}

static json_t *assignment(void)
{
    return json_pack("{s:s, s:s, s:i, s:s, s:s, s:{s:{s:i, s:s, s:s, s:s, s:i, s:i, s:s},"
                     " s:{s:n, s:s}}}",
                     "_type", "assignment", "device_id", DEV, "counter", 7, "issued",
                     "2026-11-25T01:44:27Z", "expires", "2026-11-26T01:44:27Z", "channels",
                     "content", "bundle_id", 12, "name", "sensor-content", "version", "291",
                     "sha256", SHA, "length", 40960, "rollout_id", 4, "action", "install", "driver",
                     "bundle_id", "action", "revert");
}

/* Signs s with k and returns the envelope as text (free() it). */
static char *envelope_text(json_t *s, const rf_key *k)
{
    rf_error e = {0};
    json_t *env = rf_signed_wrap(s, k, &e);
    char *text;

    ck_assert_msg(env != NULL, "%s", e.message);
    text = json_dumps(env, JSON_COMPACT);
    json_decref(env);
    return text;
}

START_TEST(test_assignment_verified_and_parsed)
{
    json_t *s = assignment(), *root = NULL, *signed_obj = NULL;
    char *text = envelope_text(s, key);
    proto_assignment a;
    rf_error e = {0};

    ck_assert_int_eq(
        wire_verify_envelope(text, strlen(text), key, "assignment", &root, &signed_obj, &e), RF_OK);
    ck_assert_msg(wire_assignment_parse(signed_obj, &a, &e) == RF_OK, "%s", e.message);
    ck_assert_str_eq(a.device_id, DEV);
    ck_assert_int_eq(a.counter, 7);
    ck_assert_int_eq(a.expires_s - a.issued_s, 86400);
    ck_assert_uint_eq(a.nch, 2);
    for (uint32_t i = 0; i < a.nch; i++) {
        const proto_want *w = &a.ch[i].want;
        ck_assert(w->present);
        if (strcmp(a.ch[i].name, "content") == 0) {
            ck_assert_int_eq(w->action, PROTO_WANT_INSTALL);
            ck_assert_int_eq(w->bundle.id, 12);
            ck_assert_int_eq(w->bundle.length, 40960);
            ck_assert_str_eq(w->bundle.sha256, SHA);
            ck_assert_str_eq(w->bundle.version, "291");
            ck_assert_int_eq(w->rollout_id, 4);
        } else {
            ck_assert_str_eq(a.ch[i].name, "driver");
            ck_assert_int_eq(w->action, PROTO_WANT_REVERT);
            ck_assert_int_eq(w->bundle.id, 0);
        }
    }
    json_decref(root);
    json_decref(s);
    free(text);
}
END_TEST

START_TEST(test_envelope_refusals)
{
    json_t *s = assignment(), *root = NULL, *signed_obj = NULL;
    char *good = envelope_text(s, key), *foreign = envelope_text(s, other), *tampered;
    rf_error e = {0};
    char *at;

    /* Signed by a key that is not pinned. */
    ck_assert_int_eq(
        wire_verify_envelope(foreign, strlen(foreign), key, "assignment", &root, &signed_obj, &e),
        RF_ERR_VERIFY);
    ck_assert_ptr_null(root);
    ck_assert_ptr_nonnull(strstr(e.message, "signature"));
    /* One signed byte changed. */
    tampered = strdup(good);
    at = strstr(tampered, "\"counter\":7");
    ck_assert_ptr_nonnull(at);
    at[10] = '9';
    ck_assert_int_eq(
        wire_verify_envelope(tampered, strlen(tampered), key, "assignment", &root, &signed_obj, &e),
        RF_ERR_VERIFY);
    /* Valid, but a different kind of document. */
    ck_assert_int_eq(
        wire_verify_envelope(good, strlen(good), key, "bundle", &root, &signed_obj, &e),
        RF_ERR_VERIFY);
    ck_assert_ptr_nonnull(strstr(e.message, "bundle"));
    /* Not JSON at all, and unsigned. */
    ck_assert_int_eq(
        wire_verify_envelope("{\"signed\":", 10, key, "assignment", &root, &signed_obj, &e),
        RF_ERR_VERIFY);
    ck_assert_int_eq(wire_verify_envelope("{\"signed\":{},\"signatures\":[]}", 29, key,
                                          "assignment", &root, &signed_obj, &e),
                     RF_ERR_VERIFY);
    json_decref(s);
    free(good);
    free(foreign);
    free(tampered);
}
END_TEST

typedef struct field_case {
    const char *path; /* "channels.content.<key>" or a top-level key */
    const char *value;
    const char *named;
} field_case;

static const field_case BAD_FIELDS[] = {
    {"device_id", "\"abc\"", "device_id"},
    {"counter", "-1", "counter"},
    {"counter", "\"7\"", "counter"},
    {"expires", "\"tomorrow\"", "expires"},
    {"channels", "[]", "channels"},
    {"content.sha256", "\"ABC\"", "channels.content.sha256"},
    {"content.length", "-5", "channels.content.length"},
    {"content.length", "2000000000000", "channels.content.length"},
    {"content.bundle_id", "0", "channels.content.bundle_id"},
    {"content.bundle_id", "null", "channels.content.bundle_id"},
    {"content.action", "\"upgrade\"", "channels.content.action"},
    {"content.version", "\"a b\"", "channels.content.version"},
    {"content.name", "\"../x\"", "channels.content.name"},
};

START_TEST(test_assignment_bad_fields)
{
    const field_case *fc = &BAD_FIELDS[_i];
    json_t *s = assignment(), *target = s;
    const char *key_name = fc->path;
    proto_assignment a;
    rf_error e = {0};

    if (strncmp(fc->path, "content.", 8) == 0) {
        target = json_object_get(json_object_get(s, "channels"), "content");
        key_name = fc->path + 8;
    }
    json_object_set_new(target, key_name, json_loads(fc->value, JSON_DECODE_ANY, NULL));
    ck_assert_int_ne(wire_assignment_parse(s, &a, &e), RF_OK);
    ck_assert_msg(strstr(e.message, fc->named) != NULL, "'%s' not in '%s'", fc->named, e.message);
    json_decref(s);
}
END_TEST

START_TEST(test_assignment_channel_names)
{
    json_t *s = assignment();
    json_t *chans = json_object_get(s, "channels");
    proto_assignment a;
    rf_error e = {0};

    json_object_set(chans, "..", json_object_get(chans, "driver"));
    ck_assert_int_eq(wire_assignment_parse(s, &a, &e), RF_ERR_INVALID);
    json_object_del(chans, "..");
    for (int i = 0; i < PROTO_MAX_CHANNELS; i++) {
        char name[16];
        snprintf(name, sizeof(name), "c%d", i);
        json_object_set(chans, name, json_object_get(chans, "driver"));
    }
    ck_assert_int_eq(wire_assignment_parse(s, &a, &e), RF_ERR_TOO_LARGE);
    json_decref(s);
}
END_TEST

typedef struct meta_case {
    const char *field;
    const char *value;
    rf_err want;
} meta_case;

static const meta_case META[] = {
    {NULL, NULL, RF_OK},
    {"id", "13", RF_ERR_VERIFY},
    {"channel", "\"driver\"", RF_ERR_VERIFY},
    {"sha256", "\"" SHA "\"", RF_OK},
    {"sha256", "\"0000000000000000000000000000000000000000000000000000000000000000\"",
     RF_ERR_VERIFY},
    {"length", "40961", RF_ERR_VERIFY},
    {"version", "\"292\"", RF_ERR_VERIFY},
    {"name", "\"other-name\"", RF_ERR_VERIFY},
};

START_TEST(test_metadata_against_assignment)
{
    const meta_case *mc = &META[_i];
    json_t *m = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:i, s:s}", "_type", "bundle", "id", 12,
                          "channel", "content", "name", "sensor-content", "version", "291",
                          "sha256", SHA, "length", 40960, "created", "2026-11-25T01:44:27Z");
    proto_bundle want = {
        .id = 12, .length = 40960, .sha256 = SHA, .name = "sensor-content", .version = "291"};
    wire_meta meta;
    rf_error e = {0};

    if (mc->field)
        json_object_set_new(m, mc->field, json_loads(mc->value, JSON_DECODE_ANY, NULL));
    ck_assert_msg(wire_meta_parse(m, &meta, &e) == RF_OK, "%s", e.message);
    ck_assert_int_eq(wire_meta_check(&meta, "content", &want, &e), mc->want);
    if (mc->want != RF_OK)
        ck_assert_ptr_nonnull(strstr(e.message, mc->field));
    json_decref(m);
}
END_TEST

START_TEST(test_enroll_answer)
{
    const char *ok = "{\"device_id\":\"" DEV "\",\"token\":\"rfd_abc-DEF_123\",\"bucket\":4711}";
    const char *short_id = "{\"device_id\":\"x\",\"token\":\"t\"}";
    const char *quote = "{\"device_id\":\"" DEV "\",\"token\":\"a\\\"b\"}";
    char id[PROTO_DEVICE_ID_LEN + 1], token[WIRE_TOKEN_MAX];
    rf_error e = {0};

    ck_assert_int_eq(wire_enroll_answer(ok, strlen(ok), id, token, &e), RF_OK);
    ck_assert_str_eq(id, DEV);
    ck_assert_str_eq(token, "rfd_abc-DEF_123");
    ck_assert_int_eq(wire_enroll_answer(short_id, strlen(short_id), id, token, &e), RF_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(e.message, "device_id"));
    ck_assert_int_eq(wire_enroll_answer(quote, strlen(quote), id, token, &e), RF_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(e.message, "token"));
    ck_assert(wire_label_key_valid("ring"));
    ck_assert(!wire_label_key_valid("Ring"));
    ck_assert(wire_label_value_valid("Frankfurt am Main"));
    ck_assert(!wire_label_value_valid("tab\there"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("agent_wire");
    TCase *tc = tcase_create("wire");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_assignment_verified_and_parsed);
    tcase_add_test(tc, test_envelope_refusals);
    tcase_add_loop_test(tc, test_assignment_bad_fields, 0,
                        (int)(sizeof(BAD_FIELDS) / sizeof(BAD_FIELDS[0])));
    tcase_add_test(tc, test_assignment_channel_names);
    tcase_add_loop_test(tc, test_metadata_against_assignment, 0,
                        (int)(sizeof(META) / sizeof(META[0])));
    tcase_add_test(tc, test_enroll_answer);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
