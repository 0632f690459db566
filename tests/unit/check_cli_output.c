/* Unit tests for the CLI's output side: aligned tables (widths, right
 * alignment, no trailing blanks, control characters neutralised), the
 * renderers of each answer, and the help texts (every command has an
 * example, and every example parses and builds). No network. */
#include "cli.h"
#include "cmd.h"
#include "rf_util.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static json_t *load(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    ck_assert_msg(j != NULL, "bad fixture: %s", e.text);
    return j;
}

/* Renders text with fn and compares with want exactly. */
static void expect_render(cli_render_fn fn, const char *answer, int64_t now, const char *want)
{
    json_t *j = load(answer);
    cli_args a;
    memset(&a, 0, sizeof a);
    cli_view v = {&a, now};
    rf_buf out;
    rf_buf_init(&out, 1 << 20);
    rf_error err = {RF_OK, ""};
    ck_assert_msg(fn(j, &v, &out, &err) == RF_OK, "%s", err.message);
    ck_assert_str_eq(out.data, want);
    rf_buf_cleanup(&out);
    json_decref(j);
}

static char *render_table(cli_table *t)
{
    rf_buf out;
    rf_buf_init(&out, 1 << 20);
    ck_assert_int_eq(cli_table_render(t, &out), RF_OK);
    return rf_buf_steal(&out, NULL);
}

/* ---- tables ------------------------------------------------------------ */

START_TEST(test_table_align)
{
    static const char *const head[] = {"ID", "NAME", "DEVICES"};
    cli_table t;
    ck_assert_int_eq(cli_table_init(&t, 3, head), RF_OK);
    cli_table_align_right(&t, 2);
    ck_assert_int_eq(cli_table_add(&t, "1"), RF_OK);
    ck_assert_int_eq(cli_table_add(&t, "canary"), RF_OK);
    ck_assert_int_eq(cli_table_addf(&t, "%d", 2), RF_OK);
    ck_assert_int_eq(cli_table_add(&t, "12"), RF_OK);
    ck_assert_int_eq(cli_table_add(&t, NULL), RF_OK);
    ck_assert_int_eq(cli_table_addf(&t, "%d", 12345678), RF_OK);
    char *s = render_table(&t);
    ck_assert_str_eq(s, "ID  NAME     DEVICES\n"
                        "1   canary         2\n"
                        "12  -       12345678\n");
    free(s);
    cli_table_cleanup(&t);
    cli_table_cleanup(&t); /* twice is harmless */
    cli_table_cleanup(NULL);
}
END_TEST

START_TEST(test_table_trailing_and_empty)
{
    cli_table t;
    ck_assert_int_eq(cli_table_init(&t, 3, NULL), RF_OK);
    ck_assert_int_eq(cli_table_add(&t, "a"), RF_OK);
    ck_assert_int_eq(cli_table_add(&t, "longer"), RF_OK);
    ck_assert_int_eq(cli_table_add(&t, ""), RF_OK);
    ck_assert_int_eq(cli_table_add(&t, "bbb"), RF_OK);
    ck_assert_int_eq(cli_table_add(&t, "c"), RF_OK);
    ck_assert_int_eq(cli_table_add(&t, "x"), RF_OK);
    char *s = render_table(&t);
    ck_assert_str_eq(s, "a    longer\n"
                        "bbb  c       x\n");
    free(s);
    /* an incomplete last row is a bug, reported rather than drawn */
    ck_assert_int_eq(cli_table_add(&t, "dangling"), RF_OK);
    rf_buf out;
    rf_buf_init(&out, 1024);
    ck_assert_int_ne(cli_table_render(&t, &out), RF_OK);
    rf_buf_cleanup(&out);
    cli_table_cleanup(&t);
    ck_assert_int_ne(cli_table_init(&t, 0, NULL), RF_OK);
    cli_table_cleanup(&t);
}
END_TEST

START_TEST(test_table_unsafe_text)
{
    static const char *const head[] = {"HOST", "X"};
    cli_table t;
    ck_assert_int_eq(cli_table_init(&t, 2, head), RF_OK);
    ck_assert_int_eq(cli_table_add(&t, "evil\x1b]0;pwned\x07\n\r\x7f"), RF_OK);
    ck_assert_int_eq(cli_table_add(&t, "1"), RF_OK);
    ck_assert_int_eq(cli_table_add(&t, "caf\xc3\xa9"), RF_OK); /* 4 columns wide, 5 bytes */
    ck_assert_int_eq(cli_table_add(&t, "2"), RF_OK);
    char *s = render_table(&t);
    ck_assert_str_eq(s, "HOST               X\n"
                        "evil?]0;pwned????  1\n"
                        "caf\xc3\xa9               2\n");
    free(s);
    cli_table_cleanup(&t);
}
END_TEST

START_TEST(test_text_helpers)
{
    ck_assert_uint_eq(cli_text_width(""), 0);
    ck_assert_uint_eq(cli_text_width("abc"), 3);
    ck_assert_uint_eq(cli_text_width("\xe2\x86\x92x"), 2);
    rf_buf b;
    rf_buf_init(&b, 1024);
    ck_assert_int_eq(cli_text_clean(&b, "a\x01\xc3\xa9z", 100, 1), RF_OK);
    ck_assert_str_eq(b.data, "a???z");
    rf_buf_reset(&b);
    ck_assert_int_eq(cli_text_clean(&b, "abcdef", 3, 0), RF_OK);
    ck_assert_str_eq(b.data, "abc");
    rf_buf_cleanup(&b);

    char out[32];
    static const struct {
        int64_t d;
        const char *want;
    } ages[] = {{0, "just now"}, {-5, "just now"},   {1, "1s ago"},    {119, "119s ago"},
                {120, "2m ago"}, {7199, "119m ago"}, {7200, "2h ago"}, {172800, "2d ago"}};
    for (size_t i = 0; i < sizeof ages / sizeof ages[0]; i++) {
        cli_age_text(1000000, 1000000 - ages[i].d, out, sizeof out);
        ck_assert_str_eq(out, ages[i].want);
    }
    static const struct {
        long long n;
        const char *want;
    } sizes[] = {{0, "0 B"},
                 {1023, "1023 B"},
                 {1024, "1.0 KiB"},
                 {40960, "40.0 KiB"},
                 {1536 * 1024, "1.5 MiB"},
                 {1LL << 30, "1.0 GiB"},
                 {1LL << 50, "1024.0 TiB"}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        cli_size_text(sizes[i].n, out, sizeof out);
        ck_assert_str_eq(out, sizes[i].want);
    }
}
END_TEST

START_TEST(test_labels_and_scalars)
{
    rf_buf b;
    rf_buf_init(&b, 1024);
    json_t *j = load("{\"site\":\"fra\",\"ring\":\"canary\",\"a\":\"1\"}");
    ck_assert_int_eq(cli_labels_text(j, &b), RF_OK);
    ck_assert_str_eq(b.data, "a=1,ring=canary,site=fra");
    json_decref(j);
    rf_buf_reset(&b);
    j = json_object();
    ck_assert_int_eq(cli_labels_text(j, &b), RF_OK);
    ck_assert_str_eq(b.data, "-");
    rf_buf_reset(&b);
    ck_assert_int_eq(cli_labels_text(NULL, &b), RF_OK);
    ck_assert_str_eq(b.data, "-");
    json_decref(j);

    static const char *const cases[][2] = {
        {"[\"x\"]", "x"},
        {"[12]", "12"},
        {"[0.5]", "0.5"},
        {"[true]", "yes"},
        {"[false]", "no"},
        {"[null]", "-"},
        {"[{\"b\":1,\"a\":[2]}]", "{\"a\":[2],\"b\":1}"},
        {"[[0, 9]]", "[0,9]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        j = load(cases[i][0]);
        rf_buf_reset(&b);
        ck_assert_int_eq(cli_json_scalar_text(json_array_get(j, 0), &b), RF_OK);
        ck_assert_str_eq(b.data, cases[i][1]);
        json_decref(j);
    }
    rf_buf_reset(&b);
    ck_assert_int_eq(cli_json_scalar_text(NULL, &b), RF_OK);
    ck_assert_str_eq(b.data, "-");
    rf_buf_cleanup(&b);
}
END_TEST

/* ---- renderers --------------------------------------------------------- */

START_TEST(test_render_id)
{
    expect_render(cli_render_id, "{\"id\": 12, \"name\": \"x\"}", 0, "12\n");
    json_t *j = load("{\"name\": \"x\"}");
    rf_buf out;
    rf_buf_init(&out, 1024);
    rf_error err = {RF_OK, ""};
    ck_assert_int_eq(cli_render_id(j, NULL, &out, &err), RF_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.message, "'id'"));
    rf_buf_cleanup(&out);
    json_decref(j);
}
END_TEST

START_TEST(test_render_bundles)
{
    expect_render(cmd_bundle_list_render,
                  "{\"bundles\": [{\"id\": 12, \"channel\": \"content\", \"name\": \"sensor\","
                  " \"version\": \"291\", \"sha256\": \"0123456789abcdef0123\", \"length\": 40960,"
                  " \"created\": \"2026-11-25T01:44:27Z\", \"created_by\": \"alice\"},"
                  " {\"id\": 3, \"channel\": \"driver\", \"name\": \"d\", \"version\": \"1\"}]}",
                  0,
                  "ID  CHANNEL  NAME    VERSION      SIZE  SHA256        CREATED               BY\n"
                  "12  content  sensor  291      40.0 KiB  0123456789ab  2026-11-25T01:44:27Z  "
                  "alice\n"
                  " 3  driver   d       1               -  -             -                     "
                  "-\n");
    expect_render(cmd_bundle_list_render, "{\"bundles\": []}", 0,
                  "ID  CHANNEL  NAME  VERSION  SIZE  SHA256  CREATED  BY\n");
    expect_render(cmd_bundle_show_render,
                  "{\"id\": 12, \"channel\": \"content\", \"name\": \"sensor\", \"version\": "
                  "\"291\", \"sha256\": \"ab\", \"length\": 5, \"created\": \"t\"}",
                  0,
                  "id          12\nchannel     content\nname        sensor\nversion     291\n"
                  "sha256      ab\nlength      5\ncreated     t\ncreated_by  -\n");
}
END_TEST

START_TEST(test_render_rings)
{
    expect_render(cmd_ring_list_render,
                  "{\"rings\": [{\"id\": 1, \"name\": \"canary\", \"order\": 0, \"labels\": "
                  "{\"ring\": \"canary\"}, \"buckets\": [0, 9999], \"version\": 1, \"devices\": 2,"
                  " \"members\": [\"9f0123456789abcdef0123456789abcd\"], \"members_only\": false,"
                  " \"windows\": [{\"days\": [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"], "
                  "\"hours\": [9, 17]}], \"window_open\": false},"
                  " {\"id\": 2, \"name\": \"early\", \"order\": 5, \"labels\": {}, \"buckets\": "
                  "[0, 999], \"members\": [\"a\", \"b\"], \"members_only\": true, \"windows\": [],"
                  " \"devices\": 2},"
                  " {\"id\": 3, \"name\": \"broad\", \"order\": 10, \"labels\": {}, \"devices\": "
                  "18, \"windows\": [{\"days\": [\"sat\"], \"hours\": [22, 24]}, {\"days\": "
                  "[\"sun\"], \"hours\": [0, 6]}], \"window_open\": true}]}",
                  0,
                  "ID  ORDER  NAME    SELECTS                        WINDOWS                      "
                  "DEVICES\n"
                  " 1      0  canary  labels ring=canary + 1 member  mon-fri 09-17 (closed now)   "
                  "      2\n"
                  " 2      5  early   2 members only                 always                       "
                  "      2\n"
                  " 3     10  broad   every device                   sat 22-24; sun 00-06 (open)  "
                  "     18\n");
    expect_render(cmd_ring_show_render,
                  "{\"id\": 1, \"name\": \"canary\", \"order\": 0, \"labels\": {\"b\": \"2\", "
                  "\"a\": \"1\"}, \"buckets\": [5, 10], \"version\": 3, \"devices\": 2, "
                  "\"members\": [\"m1\", \"m2\"], \"members_only\": false, \"windows\": "
                  "[{\"days\": [\"mon\", \"wed\"], \"hours\": [2, 6]}], \"window_open\": true, "
                  "\"live_rollouts\": [4]}",
                  0,
                  "id             1\n"
                  "name           canary\n"
                  "order          0\n"
                  "selects        labels a=1,b=2, buckets 5-10 + 2 members\n"
                  "labels         a=1,b=2\n"
                  "buckets        5-10\n"
                  "members        m1 m2\n"
                  "members only   no\n"
                  "windows (UTC)  mon,wed 02-06 (open)\n"
                  "devices        2\n"
                  "live rollouts  4 (membership frozen until they end)\n"
                  "version        3\n");
}
END_TEST

START_TEST(test_render_ring_delete)
{
    const char *argv[] = {"ringfence", "ring", "delete", "7", NULL};
    cli_parsed p;
    rf_error err = {RF_OK, ""};
    ck_assert_int_eq(cli_parse(4, (char *const *)argv, cli_commands, cli_ncommands, &p, &err),
                     RF_OK);
    cli_view v = {&p.args, 0};
    rf_buf out;
    rf_buf_init(&out, 1024);
    ck_assert_int_eq(cmd_ring_delete_render(NULL, &v, &out, &err), RF_OK);
    ck_assert_str_eq(out.data, "deleted ring 7\n");
    rf_buf_cleanup(&out);
}
END_TEST

static const char *const rollout_halted =
    "{\"id\": 4, \"bundle_id\": 12, \"channel\": \"content\", \"state\": \"reverted\","
    " \"stage\": 0, \"previous_bundle_id\": 11, \"created\": \"2026-11-25T01:00:00Z\","
    " \"created_by\": \"alice\", \"version\": 5,"
    " \"policy\": {\"max_failure_rate\": 0.5, \"min_failed_devices\": 1, \"on_halt\": \"revert\","
    "            \"health_window_s\": 30, \"silence_intervals\": 3},"
    " \"stages\": [{\"index\": 0, \"ring_id\": 1, \"ring\": \"canary\", \"state\": \"halted\","
    "              \"exposed\": 2, \"healthy\": 0, \"failed\": 2, \"devices\": 2},"
    "             {\"index\": 1, \"ring_id\": 2, \"ring\": \"broad\", \"state\": \"pending\","
    "              \"exposed\": 0, \"healthy\": 0, \"failed\": 0, \"devices\": 18}],"
    " \"halt\": {\"at\": \"2026-11-25T01:02:03Z\", \"by\": \"evaluator\", \"stage\": 0,"
    "           \"exposed\": 2, \"failed\": 2, \"failure_rate\": 1.0,"
    "           \"reason\": \"crash on 2 devices\\u001b[2J\"}}";

START_TEST(test_render_rollout_status)
{
    expect_render(cmd_rollout_status_render, rollout_halted, 0,
                  "rollout 4  bundle 12  channel content  state reverted  stage 0 (canary)\n"
                  "previous bundle 11  created 2026-11-25T01:00:00Z by alice  version 5\n"
                  "policy: halt when 50% of exposed devices fail (at least 1), then revert; "
                  "health window 30s\n"
                  "\n"
                  "STAGE  RING    STATE    SHARE  BAKE  PROMOTE  APPROVAL  DEVICES  EXPOSED  "
                  "HEALTHY  FAILED  SILENT\n"
                  "0      canary  halted       -     -  manual   -               2        2  "
                  "      0       2       -\n"
                  "1      broad   pending      -     -  manual   -              18        0  "
                  "      0       0       -\n"
                  "\n"
                  "halted 2026-11-25T01:02:03Z by evaluator at stage 0: 2 of 2 exposed devices "
                  "failed (100%)\n"
                  "reason: crash on 2 devices?[2J\n");
}
END_TEST

/* An active rollout as docs/api.md shows it: gates, next, holds. */
static const char *const rollout_gated =
    "{\"id\": 4, \"bundle_id\": 12, \"channel\": \"content\", \"state\": \"active\","
    " \"stage\": 0, \"previous_bundle_id\": 11, \"created\": \"2026-11-25T01:00:00Z\","
    " \"created_by\": \"alice\", \"version\": 3,"
    " \"stages\": [{\"index\": 0, \"ring_id\": 1, \"ring\": \"canary\", \"state\": \"active\","
    "   \"percent\": 100, \"bake_s\": 600, \"min_healthy\": 2, \"max_failure_rate\": 0.5,"
    "   \"auto_promote\": true, \"require_approval\": true, \"approved_by\": null,"
    "   \"window_open\": true, \"exposed\": 2, \"healthy\": 1, \"failed\": 0, \"silent\": 0,"
    "   \"devices\": 2},"
    "  {\"index\": 1, \"ring_id\": 2, \"ring\": \"broad\", \"state\": \"pending\","
    "   \"percent\": 50, \"bake_s\": 5400, \"min_healthy\": 1, \"auto_promote\": false,"
    "   \"require_approval\": true, \"approved_by\": \"bob\", \"window_open\": false,"
    "   \"exposed\": 0, \"healthy\": 0, \"failed\": 0, \"silent\": 0, \"devices\": 9}],"
    " \"gates\": [{\"name\": \"bake\", \"ok\": false, \"detail\": \"12m left (bake 10m)\"},"
    "   {\"name\": \"healthy\", \"ok\": false, \"detail\": \"1/2 healthy, need 2\"},"
    "   {\"name\": \"failures\", \"ok\": true, \"detail\": \"0/2 failed (0.0%), limit 50.0%\"},"
    "   {\"name\": \"approval\", \"ok\": false,"
    "    \"detail\": \"approval pending (by anyone but alice)\"}],"
    " \"next\": \"promotes itself to stage 1 (ring 'broad') once every gate passes\","
    " \"holds\": {\"pins\": [{\"id\": 3, \"channel\": \"content\", \"bundle_id\": 11,"
    "   \"device_id\": \"9f0123456789abcdef0123456789abcd\", \"ring_id\": null, \"ring\": null,"
    "   \"reason\": \"lab\", \"created_by\": \"alice\"},"
    "  {\"id\": 5, \"channel\": \"content\", \"bundle_id\": 11, \"device_id\": null,"
    "   \"ring_id\": 2, \"ring\": \"broad\", \"reason\": \"\", \"created_by\": \"bob\"}],"
    "  \"exclusions\": [{\"device_id\": \"00aa\", \"reason\": \"kiosk\","
    "   \"created\": \"2026-11-25T00:00:00Z\", \"created_by\": \"carol\"}]},"
    " \"halt\": null}";

START_TEST(test_render_rollout_gates)
{
    expect_render(cmd_rollout_status_render, rollout_gated, 0,
                  "rollout 4  bundle 12  channel content  state active  stage 0 (canary)\n"
                  "previous bundle 11  created 2026-11-25T01:00:00Z by alice  version 3\n"
                  "\n"
                  "STAGE  RING    STATE                   SHARE   BAKE  PROMOTE  APPROVAL  "
                  "DEVICES  EXPOSED  HEALTHY  FAILED  SILENT\n"
                  "0      canary  active                   100%    10m  auto     pending   "
                  "      2        2        1       0       0\n"
                  "1      broad   pending, window closed    50%  1h30m  manual   by bob    "
                  "      9        0        0       0       0\n"
                  "\n"
                  "Gates of stage 0 (canary):\n"
                  "  bake      waiting  12m left (bake 10m)\n"
                  "  healthy   waiting  1/2 healthy, need 2\n"
                  "  failures  passed   0/2 failed (0.0%), limit 50.0%\n"
                  "  approval  waiting  approval pending (by anyone but alice)\n"
                  "Waiting for: 12m left (bake 10m), 1/2 healthy, need 2, approval pending (by "
                  "anyone but alice)\n"
                  "Next: promotes itself to stage 1 (ring 'broad') once every gate passes\n"
                  "\n"
                  "Pinned (never moved by this rollout):\n"
                  "PIN  CHANNEL  BUNDLE  DEVICE    RING   REASON  BY\n"
                  "  3  content      11  9f012345  -      lab     alice\n"
                  "  5  content      11  -         broad  -       bob\n"
                  "\n"
                  "Excluded devices (never offered a rollout's bundle):\n"
                  "DEVICE  REASON  SINCE                 BY\n"
                  "00aa    kiosk   2026-11-25T00:00:00Z  carol\n");
}
END_TEST

/* What the gates say they wait for, one line. */
typedef struct waits_case {
    const char *gates; /* JSON array */
    const char *want;
} waits_case;

static const waits_case waits_cases[] = {
    {"[]", ""},
    {"[{\"name\": \"bake\", \"ok\": true, \"detail\": \"baked 31m (bake 30m)\"}]",
     "Every gate passes.\n"},
    {"[{\"name\": \"healthy\", \"ok\": false, \"detail\": \"31/50 healthy, need 40\"},"
     " {\"name\": \"bake\", \"ok\": false, \"detail\": \"12m left (bake 30m)\"},"
     " {\"name\": \"approval\", \"ok\": false, \"detail\": \"approval pending\"}]",
     "Waiting for: 31/50 healthy, need 40, 12m left (bake 30m), approval pending\n"},
    {"[{\"name\": \"failures\", \"ok\": false, \"detail\": \"5/20 failed\\u001b[1m\"},"
     " {\"name\": \"bake\", \"ok\": true, \"detail\": \"baked\"}]",
     "Waiting for: 5/20 failed?[1m\n"},
    {"[{\"name\": \"approval\", \"ok\": false}]", "Waiting for: -\n"},
};

START_TEST(test_waits_for)
{
    const waits_case *c = &waits_cases[_i];
    json_t *gates = load(c->gates);
    json_t *r = json_pack("{s:o}", "gates", gates);
    rf_buf out;
    rf_buf_init(&out, 4096);
    ck_assert_int_eq(cmd_waits_for(r, &out), RF_OK);
    ck_assert_str_eq(out.data ? out.data : "", c->want);
    rf_buf_cleanup(&out);
    json_decref(r);
}
END_TEST

START_TEST(test_render_gates_paused)
{
    /* No gates (a paused or finished rollout): only "next". */
    json_t *r = load("{\"stage\": 1, \"gates\": [], \"next\": \"paused: resume to continue\"}");
    rf_buf out;
    rf_buf_init(&out, 4096);
    ck_assert_int_eq(cmd_gates_render(r, &out), RF_OK);
    ck_assert_str_eq(out.data, "\nNext: paused: resume to continue\n");
    rf_buf_cleanup(&out);
    json_decref(r);
}
END_TEST

START_TEST(test_render_rollout_list)
{
    expect_render(cmd_rollout_list_render,
                  "{\"rollouts\": [{\"id\": 4, \"bundle_id\": 12, \"channel\": \"content\","
                  " \"state\": \"active\", \"stage\": 1, \"created\": \"t1\", \"created_by\": "
                  "\"alice\", \"stages\": [{\"index\": 0, \"ring\": \"canary\"}, {\"index\": 1, "
                  "\"ring\": \"broad\"}]},"
                  " {\"id\": 10, \"bundle_id\": 9, \"channel\": \"driver\", \"state\": \"draft\","
                  " \"stage\": -1}]}",
                  0,
                  "ID  BUNDLE  CHANNEL  STATE   STAGE      CREATED  BY\n"
                  " 4      12  content  active  1 (broad)  t1       alice\n"
                  "10       9  driver   draft   -          -        -\n");
    json_t *j = load("{\"rings\": []}");
    rf_buf out;
    rf_buf_init(&out, 1024);
    rf_error err = {RF_OK, ""};
    ck_assert_int_eq(cmd_rollout_list_render(j, NULL, &out, &err), RF_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.message, "'rollouts'"));
    rf_buf_cleanup(&out);
    json_decref(j);
}
END_TEST

START_TEST(test_render_devices)
{
    /* now = 2026-11-25T01:44:27Z + 5 s */
    int64_t then = 0;
    ck_assert_int_eq(rf_time_parse_iso("2026-11-25T01:44:27Z", &then), RF_OK);
    expect_render(cmd_devices_render,
                  "{\"devices\": [{\"id\": \"9f0123456789abcdef0123456789abcd\", \"hostname\": "
                  "\"web-17\", \"labels\": {\"ring\": \"canary\", \"site\": \"fra\"}, \"bucket\": "
                  "4711, \"ring\": \"canary\", \"ring_id\": 1, \"enrolled\": \"x\", \"last_seen\": "
                  "\"2026-11-25T01:44:27Z\", \"online\": true, \"channels\": {\"driver\": "
                  "{\"bundle_id\": 3, \"state\": \"installing\", \"assigned_bundle_id\": 4}, "
                  "\"content\": {\"bundle_id\": 12, \"state\": \"committed\", "
                  "\"assigned_bundle_id\": 12}}, \"excluded\": null, \"pins\": [{\"id\": 5, "
                  "\"channel\": \"content\", \"bundle_id\": 11, \"ring\": \"canary\"}]},"
                  " {\"id\": \"00aa\", \"hostname\": \"db\\u001b1\", \"labels\": {}, \"ring\": "
                  "null, \"last_seen\": \"2026-11-25T01:30:00Z\", \"online\": false, \"channels\": "
                  "{}, \"excluded\": {\"device_id\": \"00aa\"}, \"pins\": [{\"id\": 6, "
                  "\"channel\": \"driver\", \"bundle_id\": 2, \"device_id\": \"00aa\", \"ring\": "
                  "null}]},"
                  " {\"id\": \"11bb\", \"hostname\": null, \"last_seen\": null}]}",
                  then + 5,
                  "ID        HOSTNAME  RING    LABELS                BUNDLES                      "
                  "                  HOLDS                                      LAST SEEN\n"
                  "9f012345  web-17    canary  ring=canary,site=fra  content:12 committed, "
                  "driver:3 installing ->4  content pinned at bundle 11 (ring canary)  5s ago\n"
                  "00aa      db?1      -       -                     -                            "
                  "                  excluded; driver pinned at bundle 2        14m ago, offline\n"
                  "11bb      -         -       -                     -                            "
                  "                  -                                          never\n");
}
END_TEST

START_TEST(test_render_events)
{
    expect_render(
        cmd_events_render,
        "{\"events\": [{\"id\": 7, \"at\": \"2026-11-25T01:44:27Z\", \"kind\": "
        "\"rollout.halted\", \"actor\": \"evaluator\", \"rollout_id\": 4, \"device_id\": "
        "null, \"data\": {\"stage\": 0, \"failed\": 2}},"
        " {\"id\": 12, \"at\": \"2026-11-25T01:44:28Z\", \"kind\": \"device.failed\","
        " \"actor\": \"evaluator\", \"rollout_id\": 4, \"device_id\": "
        "\"9f0123456789abcdef0123456789abcd\", \"data\": {}}]}",
        0,
        "ID  AT                    KIND            ACTOR      ROLLOUT  DEVICE    DETAILS\n"
        " 7  2026-11-25T01:44:27Z  rollout.halted  evaluator        4  -         "
        "failed=2 stage=0\n"
        "12  2026-11-25T01:44:28Z  device.failed   evaluator        4  9f012345  -\n");
}
END_TEST

/* ---- help -------------------------------------------------------------- */

/* Splits an example line into words, honouring double quotes. */
static int split_words(const char *line, char *buf, size_t buflen, char **argv, int max)
{
    int n = 0;
    size_t o = 0;
    const char *p = line;
    while (*p != '\0') {
        while (*p == ' ') {
            p++;
        }
        if (*p == '\0') {
            break;
        }
        ck_assert_int_lt(n, max - 1);
        argv[n++] = buf + o;
        int quoted = 0;
        while (*p != '\0' && (quoted || *p != ' ')) {
            if (*p == '"') {
                quoted = !quoted;
            } else {
                ck_assert_uint_lt(o, buflen - 2);
                buf[o++] = *p;
            }
            p++;
        }
        buf[o++] = '\0';
    }
    argv[n] = NULL;
    return n;
}

START_TEST(test_help_examples)
{
    const cli_command *cmd = &cli_commands[_i];
    char name[64], prefix[80];
    cli_command_name(cmd, name, sizeof name);
    ck_assert_int_eq(rf_snprintf(prefix, sizeof prefix, "ringfence %s", name), RF_OK);
    ck_assert_msg(strncmp(cmd->example, prefix, strlen(prefix)) == 0, "%s: %s", name, cmd->example);

    /* the example parses to this very command and builds a request */
    char buf[512], *argv[32];
    int argc = split_words(cmd->example, buf, sizeof buf, argv, 32);
    cli_parsed p;
    rf_error err = {RF_OK, ""};
    ck_assert_msg(cli_parse(argc, argv, cli_commands, cli_ncommands, &p, &err) == RF_OK, "%s: %s",
                  cmd->example, err.message);
    ck_assert_ptr_eq(p.cmd, cmd);
    if (cmd->build != NULL) {
        cli_request req;
        cli_request_init(&req);
        ck_assert_msg(cmd->build(cmd, &p.args, &req, &err) == RF_OK, "%s: %s", cmd->example,
                      err.message);
        cli_request_cleanup(&req);
    } else {
        ck_assert_ptr_nonnull(cmd->run);
    }

    rf_buf out;
    rf_buf_init(&out, 1 << 20);
    ck_assert_int_eq(cli_help_command(cmd, &out), RF_OK);
    ck_assert_ptr_nonnull(strstr(out.data, "Usage: ringfence "));
    ck_assert_ptr_nonnull(strstr(out.data, "Example:\n  ringfence "));
    ck_assert_ptr_nonnull(strstr(out.data, "--json"));
    for (size_t k = 0; cmd->opts != NULL && cmd->opts[k].name != NULL; k++) {
        char flag[80];
        ck_assert_int_eq(rf_snprintf(flag, sizeof flag, "--%s", cmd->opts[k].name), RF_OK);
        ck_assert_msg(strstr(out.data, flag) != NULL, "%s help lacks %s", name, flag);
    }
    rf_buf_reset(&out);
    ck_assert_int_eq(cli_help_top(cli_commands, cli_ncommands, &out), RF_OK);
    ck_assert_msg(strstr(out.data, name) != NULL, "overview lacks %s", name);
    ck_assert_ptr_nonnull(strstr(out.data, "RINGFENCE_ADMIN_TOKEN"));
    rf_buf_cleanup(&out);
}
END_TEST

START_TEST(test_help_usage_line)
{
    for (size_t i = 0; i < cli_ncommands; i++) {
        const cli_command *cmd = &cli_commands[i];
        if (cmd->name == NULL || strcmp(cmd->group, "ring") != 0 ||
            strcmp(cmd->name, "create") != 0) {
            continue;
        }
        rf_buf out;
        rf_buf_init(&out, 1 << 20);
        ck_assert_int_eq(cli_help_command(cmd, &out), RF_OK);
        ck_assert_ptr_nonnull(strstr(out.data, "Usage: ringfence ring create NAME --order K "
                                               "[--label k=v]... [--buckets LO-HI] "
                                               "[--member DEVICE]... [--members-only yes|no] "
                                               "[--window 'DAYS HH-HH']...\n"));
        rf_buf_reset(&out);
        ck_assert_int_eq(cli_help_group(cli_commands, cli_ncommands, "ring", &out), RF_OK);
        ck_assert_ptr_nonnull(strstr(out.data, "ring delete ID"));
        ck_assert_ptr_null(strstr(out.data, "rollout"));
        rf_buf_cleanup(&out);
        return;
    }
    ck_abort_msg("no ring create command");
}
END_TEST

static Suite *output_suite(void)
{
    Suite *s = suite_create("cli_output");
    TCase *tc = tcase_create("table");
    tcase_add_test(tc, test_table_align);
    tcase_add_test(tc, test_table_trailing_and_empty);
    tcase_add_test(tc, test_table_unsafe_text);
    tcase_add_test(tc, test_text_helpers);
    tcase_add_test(tc, test_labels_and_scalars);
    suite_add_tcase(s, tc);
    tc = tcase_create("render");
    tcase_add_test(tc, test_render_id);
    tcase_add_test(tc, test_render_bundles);
    tcase_add_test(tc, test_render_rings);
    tcase_add_test(tc, test_render_ring_delete);
    tcase_add_test(tc, test_render_rollout_status);
    tcase_add_test(tc, test_render_rollout_gates);
    tcase_add_loop_test(tc, test_waits_for, 0, (int)(sizeof waits_cases / sizeof waits_cases[0]));
    tcase_add_test(tc, test_render_gates_paused);
    tcase_add_test(tc, test_render_rollout_list);
    tcase_add_test(tc, test_render_devices);
    tcase_add_test(tc, test_render_events);
    suite_add_tcase(s, tc);
    tc = tcase_create("help");
    tcase_add_loop_test(tc, test_help_examples, 0, (int)cli_ncommands);
    tcase_add_test(tc, test_help_usage_line);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(output_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
