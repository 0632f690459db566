/* Unit tests for the renderers of issue 4's answers: ring previews, plans
 * and channels, rollout health, pins and exclusions, the fleet, one
 * device, and the one-line messages of pin, unpin, exclude and include.
 * Each fixture is shaped as docs/api.md shows it; outputs compared whole. */
#include "cli.h"
#include "cmd.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define D1 "9f0123456789abcdef0123456789abcd"
#define NOW 1795571072 /* 2026-11-25T01:44:32Z */

typedef struct render_case {
    const char *name;
    cli_render_fn fn;
    const char *answer;
    const char *want;
} render_case;

static const render_case render_cases[] = {
    {"preview", cmd_ring_preview_render,
     "{\"total\": 20, \"unassigned\": 0, \"moved\": 2, \"overlapping_devices\": 2, \"rings\": "
     "[{\"id\": 1, \"name\": \"canary\", \"order\": 0, \"devices\": 4, \"devices_now\": 2, "
     "\"selected\": 4}, {\"id\": null, \"name\": \"early\", \"order\": 5, \"devices\": 3, "
     "\"devices_now\": null, \"selected\": 5}, {\"id\": 2, \"name\": \"broad\", \"order\": 10, "
     "\"devices\": 13, \"devices_now\": 18, \"selected\": 20}], \"overlaps\": [{\"rings\": "
     "[\"canary\", \"broad\"], \"devices\": 2}], \"refused\": null}",
     "RING         ORDER  NOW  WOULD HOLD  CHANGE  SELECTS\n"
     "canary           0    2           4      +2        4\n"
     "early (new)      5    -           3                5\n"
     "broad           10   18          13      -5       20\n"
     "\n"
     "20 devices: 2 would change ring, 0 in no ring, 2 selected by more than one ring.\n"
     "\n"
     "Overlaps (a device goes to the first ring):\n"
     "  canary & broad: 2 devices (broad loses them)\n"
     "\n"
     "Nothing was saved.\n"},
    {"preview refused", cmd_ring_preview_render,
     "{\"total\": 1, \"unassigned\": 1, \"moved\": 0, \"overlapping_devices\": 0, \"rings\": [], "
     "\"overlaps\": [], \"refused\": \"ring 3 is used by live rollout 4 (active)\\u001b\"}",
     "RING  ORDER  NOW  WOULD HOLD  CHANGE  SELECTS\n"
     "\n"
     "1 devices: 0 would change ring, 1 in no ring, 0 selected by more than one ring.\n"
     "\n"
     "Saving this would be refused: ring 3 is used by live rollout 4 (active)?\n"},
    {"plan", cmd_plan_render,
     "{\"channel\": \"content\", \"source\": \"stored\", \"version\": 2, \"stages\": "
     "[{\"ring_id\": "
     "1, \"ring\": \"canary\", \"percent\": 100, \"bake_s\": 300, \"min_healthy\": 1, "
     "\"max_failure_rate\": null, \"auto_promote\": true, \"require_approval\": false}, "
     "{\"ring_id\": 2, \"ring\": \"broad\", \"percent\": 50, \"bake_s\": 86400, \"min_healthy\": "
     "10, \"max_failure_rate\": 0.05, \"auto_promote\": false, \"require_approval\": true}], "
     "\"valid\": false, \"problem\": \"ring early (order 1) is missing\", \"updated\": "
     "\"2026-11-25T01:00:00Z\", \"updated_by\": \"alice\"}",
     "channel content  plan stored  version 2  updated 2026-11-25T01:00:00Z by alice\n"
     "\n"
     "STAGE  RING    PERCENT  BAKE  MIN HEALTHY  MAX FAILURES  PROMOTION  APPROVAL\n"
     "0      canary     100%    5m            1        policy  auto       -\n"
     "1      broad       50%    1d           10            5%  manual     required\n"
     "\n"
     "This plan no longer matches the rings: ring early (order 1) is missing\n"},
    {"builtin plan", cmd_plan_render,
     "{\"channel\": \"driver\", \"source\": \"builtin\", \"version\": 0, \"stages\": "
     "[{\"ring_id\": "
     "1, \"ring\": \"canary\", \"percent\": 100, \"bake_s\": 86400, \"min_healthy\": 1, "
     "\"max_failure_rate\": null, \"auto_promote\": false, \"require_approval\": false}], "
     "\"valid\": true, \"problem\": null, \"updated\": null, \"updated_by\": null}",
     "channel driver  plan builtin  version 0\n"
     "\n"
     "STAGE  RING    PERCENT  BAKE  MIN HEALTHY  MAX FAILURES  PROMOTION  APPROVAL\n"
     "0      canary     100%    1d            1        policy  manual     -\n"},
    {"channels", cmd_channel_list_render,
     "{\"channels\": [{\"name\": \"content\", \"plan_source\": \"stored\", \"live_rollout\": 4, "
     "\"bundles\": 3}, {\"name\": \"driver\", \"plan_source\": \"builtin\", \"live_rollout\": "
     "null, \"bundles\": 1}]}",
     "CHANNEL  PLAN     LIVE ROLLOUT  BUNDLES\n"
     "content  stored              4        3\n"
     "driver   builtin             -        1\n"},
    {"health", cmd_rollout_health_render,
     "{\"rollout_id\": 4, \"state\": \"halted\", \"stages\": [{\"index\": 0, \"exposed\": 4, "
     "\"healthy\": 1, \"failed\": 2, \"silent\": 1, \"failure_rate\": 0.5, \"max_failure_rate\": "
     "0.25, \"min_failed_devices\": 1, \"would_halt\": true}, {\"index\": 1, \"exposed\": 0, "
     "\"healthy\": 0, \"failed\": 0, \"silent\": 0, \"failure_rate\": 0, \"max_failure_rate\": "
     "0.25, \"min_failed_devices\": 1, \"would_halt\": false}], \"failures\": [{\"device_id\": "
     "\"" D1 "\", \"stage\": 0, \"reason\": \"crashed 2 times since install\", \"at\": "
     "\"2026-11-25T01:02:03Z\"}]}",
     "rollout 4  state halted\n"
     "\n"
     "STAGE  EXPOSED  HEALTHY  FAILED  SILENT  FAILED%  LIMIT  MIN FAILED  WOULD HALT\n"
     "0            4        1       2       1    50.0%  25.0%           1  yes\n"
     "1            0        0       0       0     0.0%  25.0%           1  no\n"
     "\n"
     "Failed devices:\n"
     "DEVICE                            STAGE  AT                    REASON\n"
     "9f0123456789abcdef0123456789abcd  0      2026-11-25T01:02:03Z  crashed 2 times since "
     "install\n"},
    {"health, no failure", cmd_rollout_health_render,
     "{\"rollout_id\": 5, \"state\": \"active\", \"stages\": [], \"failures\": []}",
     "rollout 5  state active\n"
     "\n"
     "STAGE  EXPOSED  HEALTHY  FAILED  SILENT  FAILED%  LIMIT  MIN FAILED  WOULD HALT\n"
     "\n"
     "No device has failed.\n"},
    {"pins", cmd_pin_list_render,
     "{\"pins\": [{\"id\": 3, \"channel\": \"content\", \"bundle_id\": 11, \"device_id\": \"" D1
     "\", \"ring_id\": null, \"ring\": null, \"reason\": \"\", \"created\": \"x\", "
     "\"created_by\": \"alice\"}, {\"id\": 12, \"channel\": \"driver\", \"bundle_id\": 2, "
     "\"device_id\": null, \"ring_id\": 2, \"ring\": \"broad\", \"reason\": \"N-1 hold\", "
     "\"created_by\": \"bob\"}]}",
     "PIN  CHANNEL  BUNDLE  DEVICE    RING   REASON    BY\n"
     "  3  content      11  9f012345  -      -         alice\n"
     " 12  driver        2  -         broad  N-1 hold  bob\n"},
    {"no pins", cmd_pin_list_render, "{\"pins\": []}", "no pins\n"},
    {"exclusions", cmd_exclusions_render,
     "{\"exclusions\": [{\"device_id\": \"" D1 "\", \"reason\": \"lab\", \"created\": "
     "\"2026-11-25T00:00:00Z\", \"created_by\": \"carol\"}]}",
     "DEVICE                            REASON  SINCE                 BY\n"
     "9f0123456789abcdef0123456789abcd  lab     2026-11-25T00:00:00Z  carol\n"},
    {"no exclusions", cmd_exclusions_render, "{\"exclusions\": []}", "no excluded devices\n"},
    {"fleet", cmd_fleet_render,
     "{\"devices\": 20, \"online\": 18, \"rings\": [{\"id\": 1, \"name\": \"canary\", \"order\": "
     "0, \"devices\": 2}, {\"id\": 2, \"name\": \"broad\", \"order\": 1, \"devices\": 17}], "
     "\"unassigned\": 1, \"channels\": {\"driver\": [{\"bundle_id\": 2, \"devices\": 20}], "
     "\"content\": [{\"bundle_id\": 12, \"devices\": 3}, {\"bundle_id\": 11, \"devices\": 17}]}}",
     "20 devices, 18 online\n"
     "\n"
     "RING       ORDER  DEVICES\n"
     "canary         0        2\n"
     "broad          1       17\n"
     "(no ring)               1\n"
     "\n"
     "Bundles running:\n"
     "  content: bundle 12 on 3 devices, bundle 11 on 17 devices\n"
     "  driver: bundle 2 on 20 devices\n"},
    {"device", cmd_device_show_render,
     "{\"id\": \"" D1 "\", \"hostname\": \"web-17\", \"labels\": {\"ring\": \"canary\"}, "
     "\"bucket\": 4711, \"ring\": \"canary\", \"ring_id\": 1, \"enrolled\": "
     "\"2026-11-25T00:00:00Z\", \"last_seen\": \"2026-11-25T01:44:27Z\", \"online\": true, "
     "\"excluded\": {\"device_id\": \"" D1 "\", \"reason\": \"lab machine\", \"created_by\": "
     "\"carol\"}, \"pins\": [{\"id\": 3, \"channel\": \"content\", \"bundle_id\": 11, "
     "\"device_id\": \"" D1 "\", \"ring\": null}], \"channels\": {\"content\": {\"bundle_id\": "
     "11, \"state\": \"committed\", \"assigned_bundle_id\": 11}}}",
     "id                9f0123456789abcdef0123456789abcd\n"
     "hostname          web-17\n"
     "ring              canary\n"
     "bucket            4711\n"
     "labels            ring=canary\n"
     "bundles           content:11 committed\n"
     "holds             excluded; content pinned at bundle 11\n"
     "excluded because  lab machine (by carol)\n"
     "enrolled          2026-11-25T00:00:00Z\n"
     "last seen         5s ago\n"},
    {"pin", cmd_pin_render,
     "{\"id\": 3, \"channel\": \"content\", \"bundle_id\": 11, \"device_id\": \"" D1 "\", "
     "\"ring_id\": null, \"ring\": null}",
     "pin 3 holds device " D1 " at bundle 11 on channel content\n"},
    {"unpin", cmd_unpin_render,
     "{\"id\": 6, \"channel\": \"content\", \"bundle_id\": 11, \"device_id\": null, \"ring_id\": "
     "3, \"ring\": \"lab\"}",
     "removed pin 6, which held ring lab at bundle 11 on channel content\n"},
    {"exclude", cmd_exclude_render, "{\"device_id\": \"" D1 "\", \"reason\": \"x\"}",
     "device " D1 " is excluded from every rollout\n"},
    {"include", cmd_include_render, "{\"device_id\": \"" D1 "\"}",
     "device " D1 " takes part in rollouts again\n"},
};

START_TEST(test_render)
{
    const render_case *c = &render_cases[_i];
    json_error_t e;
    json_t *j = json_loads(c->answer, 0, &e);
    ck_assert_msg(j != NULL, "%s: bad fixture: %s", c->name, e.text);
    cli_args a;
    memset(&a, 0, sizeof a);
    cli_view v = {&a, NOW};
    rf_buf out;
    rf_buf_init(&out, 1 << 20);
    rf_error err = {RF_OK, ""};
    ck_assert_msg(c->fn(j, &v, &out, &err) == RF_OK, "%s: %s", c->name, err.message);
    ck_assert_msg(strcmp(out.data, c->want) == 0, "%s:\n%s", c->name, out.data);
    rf_buf_cleanup(&out);
    json_decref(j);
}
END_TEST

/* A list answer without its list is an error naming it, not a crash. */
START_TEST(test_render_wrong_shape)
{
    static const struct {
        cli_render_fn fn;
        const char *key;
    } cases[] = {
        {cmd_ring_preview_render, "rings"},    {cmd_plan_render, "stages"},
        {cmd_channel_list_render, "channels"}, {cmd_rollout_health_render, "stages"},
        {cmd_pin_list_render, "pins"},         {cmd_exclusions_render, "exclusions"},
        {cmd_fleet_render, "rings"},
    };
    json_t *j = json_pack("{s:i}", "id", 1);
    cli_args a;
    memset(&a, 0, sizeof a);
    cli_view v = {&a, NOW};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rf_buf out;
        rf_buf_init(&out, 1 << 20);
        rf_error err = {RF_OK, ""};
        ck_assert_int_eq(cases[i].fn(j, &v, &out, &err), RF_ERR_INVALID);
        ck_assert_msg(strstr(err.message, cases[i].key) != NULL, "%s", err.message);
        rf_buf_cleanup(&out);
    }
    json_decref(j);
}
END_TEST

START_TEST(test_event_line)
{
    json_t *e = json_loads("{\"id\": 31, \"at\": \"2026-11-25T01:44:27Z\", \"kind\": "
                           "\"rollout.paused\", \"actor\": \"alice\", \"rollout_id\": 4, "
                           "\"device_id\": null, \"data\": {\"before\": {\"state\": \"active\"}, "
                           "\"after\": {\"state\": \"paused\"}}}",
                           0, NULL);
    json_t *d = json_loads("{\"id\": 32, \"at\": \"x\", \"kind\": \"device.failed\", \"actor\": "
                           "\"evaluator\", \"rollout_id\": null, \"device_id\": \"" D1 "\", "
                           "\"data\": {\"reason\": \"boom\\u001b[2J\"}}",
                           0, NULL);
    rf_buf out;
    rf_buf_init(&out, 4096);
    ck_assert_int_eq(cmd_event_line(e, &out), RF_OK);
    ck_assert_int_eq(cmd_event_line(d, &out), RF_OK);
    ck_assert_str_eq(out.data, "31  2026-11-25T01:44:27Z  rollout.paused  by alice  rollout 4  "
                               "state: active -> paused\n"
                               "32  x  device.failed  by evaluator  device 9f012345  "
                               "reason=boom?[2J\n");
    rf_buf_cleanup(&out);
    json_decref(e);
    json_decref(d);
}
END_TEST

START_TEST(test_rollout_final)
{
    static const struct {
        const char *state;
        int final;
    } cases[] = {{"draft", 0},    {"active", 0},    {"paused", 0}, {"halted", 0},
                 {"reverted", 1}, {"completed", 1}, {"aborted", 1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *r = json_pack("{s:s}", "state", cases[i].state);
        ck_assert_int_eq(cmd_rollout_is_final(r), cases[i].final);
        json_decref(r);
    }
    ck_assert_int_eq(cmd_rollout_is_final(NULL), 0);
}
END_TEST

typedef struct wrap_case {
    const char *text;
    size_t width;
    const char *want;
} wrap_case;

static const wrap_case wrap_cases[] = {
    {"", 10, "\n"},
    {"one", 10, "one\n"},
    {"one two three", 9, "one two\nthree\n"},
    {"one two three", 7, "one two\nthree\n"},
    {"one two three", 6, "one\ntwo\nthree\n"},
    {"  spaced   out  ", 20, "spaced out\n"},
    {"averyveryverylongword fits", 5, "averyveryverylongword\nfits\n"},
    {"\xc3\xa9\xc3\xa9\xc3\xa9 abc", 7, "\xc3\xa9\xc3\xa9\xc3\xa9 abc\n"}, /* width in characters */
};

START_TEST(test_wrap)
{
    const wrap_case *c = &wrap_cases[_i];
    rf_buf out;
    rf_buf_init(&out, 4096);
    ck_assert_int_eq(cli_wrap_text(&out, c->text, c->width), RF_OK);
    ck_assert_str_eq(out.data, c->want);
    rf_buf_cleanup(&out);
}
END_TEST

static Suite *render_suite(void)
{
    Suite *s = suite_create("cli_render");
    TCase *tc = tcase_create("render");
    tcase_add_loop_test(tc, test_render, 0, (int)(sizeof render_cases / sizeof render_cases[0]));
    tcase_add_test(tc, test_render_wrong_shape);
    tcase_add_test(tc, test_event_line);
    tcase_add_test(tc, test_rollout_final);
    tcase_add_loop_test(tc, test_wrap, 0, (int)(sizeof wrap_cases / sizeof wrap_cases[0]));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(render_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
