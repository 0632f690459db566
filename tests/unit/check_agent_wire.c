/* Unit tests for the agent's wire formats: the signed assignment's strict
 * field parsing (table-driven, each error naming its field), the TUF target
 * path it must carry, the heartbeat's report of a refused assignment, and the
 * enrollment answer. Signatures are checked before parsing, by
 * rf_tuf_assignment_verify (tests/unit/check_common_tuf.c). */
#include "wire.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEV "0123456789abcdef0123456789abcdef"
#define SHA "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"

static json_t *assignment(void)
{
    return json_pack("{s:s, s:s, s:i, s:s, s:s, s:{s:{s:i, s:s, s:s, s:s, s:s, s:i, s:i, s:s},"
                     " s:{s:n, s:n, s:s}}}",
                     "_type", "assignment", "device_id", DEV, "counter", 7, "issued",
                     "2026-11-25T01:44:27Z", "expires", "2026-11-26T01:44:27Z", "channels",
                     "content", "bundle_id", 12, "target", "content/sensor-content-291", "name",
                     "sensor-content", "version", "291", "sha256", SHA, "length", 40960,
                     "rollout_id", 4, "action", "install", "driver", "bundle_id", "target",
                     "action", "revert");
}

START_TEST(test_assignment_parsed)
{
    json_t *s = assignment();
    proto_assignment a;
    rf_error e = {0};
    char path[WIRE_TARGET_PATH_MAX + 1];

    ck_assert_msg(wire_assignment_parse(s, &a, &e) == RF_OK, "%s", e.message);
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
            ck_assert_str_eq(w->bundle.name, "sensor-content");
            ck_assert_int_eq(w->rollout_id, 4);
            ck_assert_int_eq(wire_target_path("content", &w->bundle, path, sizeof(path)), RF_OK);
            ck_assert_str_eq(path, "content/sensor-content-291");
        } else {
            ck_assert_str_eq(a.ch[i].name, "driver");
            ck_assert_int_eq(w->action, PROTO_WANT_REVERT);
            ck_assert_int_eq(w->bundle.id, 0);
        }
    }
    json_decref(s);
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
    {"content.name", NULL, "channels.content.name"},
    {"content.target", NULL, "channels.content.target"},
    {"content.target", "\"content/other-291\"", "must be 'content/sensor-content-291'"},
    {"content.target", "\"driver/sensor-content-291\"", "channels.content.target"},
    {"content.target", "7", "channels.content.target"},
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
    if (fc->value)
        json_object_set_new(target, key_name, json_loads(fc->value, JSON_DECODE_ANY, NULL));
    else
        json_object_del(target, key_name);
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

/* A refused assignment shows as verify_failed with its reason while the
 * channel reports nothing else; an operation in progress wins. */
START_TEST(test_heartbeat_reports_refusal)
{
    proto p;
    proto_config cfg = {30000, 300000};
    proto_channel *c;
    json_t *hb, *ch;

    proto_init(&p, &cfg);
    c = proto_channel_get(&p, "content", true);
    c->current.id = 11;
    c->current.slot = PROTO_SLOT_A;
    c->run = PROTO_RUN_COMMITTED;
    snprintf(c->refusal, sizeof(c->refusal), "assignment refused: counter 3 is lower");
    hb = wire_heartbeat(&p, 1, 5, "0.1.0");
    ch = json_object_get(json_object_get(hb, "channels"), "content");
    ck_assert_str_eq(json_string_value(json_object_get(ch, "state")), "verify_failed");
    ck_assert_int_eq(json_integer_value(json_object_get(ch, "bundle_id")), 11);
    ck_assert(json_is_null(json_object_get(ch, "target_bundle_id")));
    ck_assert_str_eq(json_string_value(json_object_get(ch, "error")),
                     "assignment refused: counter 3 is lower");
    json_decref(hb);
    c->op = PROTO_OP_INSTALLING;
    c->target.id = 12;
    p.agent_restarts = 4;
    hb = wire_heartbeat(&p, 2, 5, "0.1.0");
    ck_assert_int_eq(json_integer_value(json_object_get(hb, "agent_restarts")), 4);
    ch = json_object_get(json_object_get(hb, "channels"), "content");
    ck_assert_str_eq(json_string_value(json_object_get(ch, "state")), "installing");
    ck_assert(json_is_null(json_object_get(ch, "error")));
    json_decref(hb);
    proto_cleanup(&p);
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

    tcase_add_test(tc, test_assignment_parsed);
    tcase_add_loop_test(tc, test_assignment_bad_fields, 0,
                        (int)(sizeof(BAD_FIELDS) / sizeof(BAD_FIELDS[0])));
    tcase_add_test(tc, test_assignment_channel_names);
    tcase_add_test(tc, test_heartbeat_reports_refusal);
    tcase_add_test(tc, test_enroll_answer);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
