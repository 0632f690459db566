/* Unit tests for the agent's state file: a full round trip (JSON and real
 * files, mode 0600), and a table of damaged files, each of which must be an
 * error naming the field — never a silent reset. Also the identity file. */
#include "state.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static const proto_config CFG = {30000, 300000};
static char dir[256];

static void bundle(proto_bundle *b, int64_t id, const char *sha, proto_slot slot)
{
    memset(b, 0, sizeof(*b));
    b->id = id;
    b->length = 1000 + id;
    snprintf(b->sha256, sizeof(b->sha256), "%s", sha);
    snprintf(b->version, sizeof(b->version), "1.%lld", (long long)id);
    snprintf(b->name, sizeof(b->name), "sensor-content");
    b->slot = slot;
}

/* A state with every field away from its zero value. */
static void sample(proto *p, boot_crashset *cs)
{
    proto_channel *c, *d;

    proto_init(p, &CFG);
    snprintf(p->device_id, sizeof(p->device_id), "0123456789abcdef0123456789abcdef");
    snprintf(p->boot_id, sizeof(p->boot_id), "3c0e6d2a-1b2c-4d5e-8f90-0123456789ab");
    p->seq = 42;
    p->counter = 7;
    p->have_counter = true;
    p->agent_restarts = 2;
    c = proto_channel_get(p, "content", true);
    c->want.present = true;
    c->want.action = PROTO_WANT_REVERT;
    c->want.rollout_id = 4;
    bundle(&c->want.bundle, 11, SHA_A, PROTO_SLOT_NONE);
    bundle(&c->current, 12, SHA_B, PROTO_SLOT_B);
    bundle(&c->previous, 11, SHA_A, PROTO_SLOT_A);
    bundle(&c->target, 11, SHA_A, PROTO_SLOT_A);
    c->run = PROTO_RUN_TRIAL;
    c->op = PROTO_OP_INSTALL_FAILED;
    c->phase = PROTO_PHASE_REVERT;
    c->phase_slot = PROTO_SLOT_A;
    c->activated_ms = 1764000000123LL;
    c->boots = 3;
    c->unclean_shutdowns = 2;
    c->crashes = 1;
    c->local_rollbacks = 1;
    snprintf(c->error, sizeof(c->error), "hook exited with status 3");
    c->retry_bundle_id = 11;
    c->retry_at_ms = 1764000060000LL;
    c->backoff_ms = 10000;
    c->nfailed = 2;
    c->failed[0] = (proto_failed){13, 5, PROTO_FAILED_OWN};
    c->failed[1] = (proto_failed){12, 7, PROTO_FAILED_REVERTED};
    d = proto_channel_get(p, "driver", true);
    d->phase = PROTO_PHASE_INSTALL;
    d->phase_slot = PROTO_SLOT_B;
    d->hook_revert = true;
    bundle(&d->target, 20, SHA_B, PROTO_SLOT_NONE);
    boot_crashset_init(cs);
    ck_assert_int_eq(boot_crashset_add(cs, "/var/crash/x"), RF_OK);
    ck_assert_int_eq(boot_crashset_add(cs, "/sys/fs/pstore/dmesg-1"), RF_OK);
    boot_crashset_seal(cs);
}

static void same_bundle(const proto_bundle *a, const proto_bundle *b)
{
    ck_assert_int_eq(a->id, b->id);
    ck_assert_int_eq(a->length, b->length);
    ck_assert_str_eq(a->sha256, b->sha256);
    ck_assert_str_eq(a->name, b->name);
    ck_assert_str_eq(a->version, b->version);
    ck_assert_int_eq(a->slot, b->slot);
}

static void same_state(const proto *a, const proto *b)
{
    ck_assert_str_eq(a->device_id, b->device_id);
    ck_assert_str_eq(a->boot_id, b->boot_id);
    ck_assert_int_eq(a->seq, b->seq);
    ck_assert_int_eq(a->counter, b->counter);
    ck_assert_int_eq(a->have_counter, b->have_counter);
    ck_assert_int_eq(a->agent_restarts, b->agent_restarts);
    ck_assert_uint_eq(a->nch, b->nch);
    for (uint32_t i = 0; i < a->nch; i++) {
        const proto_channel *x = &a->ch[i], *y = proto_channel_get((proto *)b, x->name, false);
        ck_assert_ptr_nonnull(y);
        ck_assert_int_eq(x->want.present, y->want.present);
        ck_assert_int_eq(x->want.action, y->want.action);
        ck_assert_int_eq(x->want.rollout_id, y->want.rollout_id);
        same_bundle(&x->want.bundle, &y->want.bundle);
        same_bundle(&x->current, &y->current);
        same_bundle(&x->previous, &y->previous);
        same_bundle(&x->target, &y->target);
        ck_assert_int_eq(x->run, y->run);
        ck_assert_int_eq(x->op, y->op);
        ck_assert_int_eq(x->phase, y->phase);
        ck_assert_int_eq(x->phase_slot, y->phase_slot);
        ck_assert_int_eq(x->hook_revert, y->hook_revert);
        ck_assert_int_eq(x->activated_ms, y->activated_ms);
        ck_assert_int_eq(x->boots, y->boots);
        ck_assert_int_eq(x->unclean_shutdowns, y->unclean_shutdowns);
        ck_assert_int_eq(x->crashes, y->crashes);
        ck_assert_int_eq(x->local_rollbacks, y->local_rollbacks);
        ck_assert_str_eq(x->error, y->error);
        ck_assert_int_eq(x->retry_bundle_id, y->retry_bundle_id);
        ck_assert_int_eq(x->retry_at_ms, y->retry_at_ms);
        ck_assert_int_eq(x->backoff_ms, y->backoff_ms);
        ck_assert_uint_eq(x->nfailed, y->nfailed);
        ck_assert_mem_eq(x->failed, y->failed, x->nfailed * sizeof(x->failed[0]));
    }
}

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/check_agent_state.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_round_trip_json)
{
    proto p, q;
    boot_crashset cs, cs2;
    rf_error e = {0};
    json_t *j = NULL;

    sample(&p, &cs);
    j = state_encode(&p, &cs);
    ck_assert_ptr_nonnull(j);
    proto_init(&q, &CFG);
    boot_crashset_init(&cs2);
    ck_assert_msg(state_decode(j, &q, &cs2, &e) == RF_OK, "%s", e.message);
    same_state(&p, &q);
    ck_assert_uint_eq(cs2.n, 2);
    ck_assert(boot_crashset_has(&cs2, "/var/crash/x"));
    json_decref(j);
    proto_cleanup(&p);
    proto_cleanup(&q);
    boot_crashset_cleanup(&cs);
    boot_crashset_cleanup(&cs2);
}
END_TEST

START_TEST(test_round_trip_file)
{
    proto p, q;
    boot_crashset cs, cs2;
    rf_error e = {0};
    char path[300];
    struct stat st;

    snprintf(path, sizeof(path), "%s/state.json", dir);
    sample(&p, &cs);
    p.ch[0].phase = PROTO_PHASE_AWAIT_ACK; /* transient: saved as "none" */
    ck_assert_msg(state_save(path, &p, &cs, &e) == RF_OK, "%s", e.message);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    proto_init(&q, &CFG);
    boot_crashset_init(&cs2);
    ck_assert_msg(state_load(path, &q, &cs2, &e) == RF_OK, "%s", e.message);
    ck_assert_int_eq(q.ch[0].phase, PROTO_PHASE_NONE);
    p.ch[0].phase = PROTO_PHASE_NONE;
    same_state(&p, &q);
    proto_cleanup(&p);
    proto_cleanup(&q);
    boot_crashset_cleanup(&cs);
    boot_crashset_cleanup(&cs2);
}
END_TEST

START_TEST(test_missing_file_is_first_start)
{
    proto q;
    boot_crashset cs;
    rf_error e = {0};
    char path[300];

    snprintf(path, sizeof(path), "%s/none.json", dir);
    proto_init(&q, &CFG);
    boot_crashset_init(&cs);
    ck_assert_int_eq(state_load(path, &q, &cs, &e), RF_ERR_NOT_FOUND);
    proto_cleanup(&q);
}
END_TEST

/* Damage: set key path (dot-separated) to a value, or write raw text. */
typedef struct damage {
    const char *path;  /* NULL: write raw instead */
    const char *value; /* JSON text; NULL: delete the key */
    const char *raw;
    const char *named; /* the error message must contain this */
} damage;

static const damage DAMAGES[] = {
    {NULL, NULL, "", "not valid JSON"},
    {NULL, NULL, "{\"format\": 1, \"seq\": ", "not valid JSON"},
    {NULL, NULL, "[1, 2]", "must be an object"},
    {"format", "2", NULL, "format"},
    {"seq", "\"42\"", NULL, "'seq'"},
    {"seq", "-1", NULL, "'seq'"},
    {"seq", NULL, NULL, "'seq': missing"},
    {"surprise", "1", NULL, "'surprise': unknown field"},
    {"device_id", "\"xyz\"", NULL, "device_id"},
    {"channels.content.current.sha256", "\"abc\"", NULL, "channels.content.current.sha256"},
    {"channels.content.current.slot", "\"c\"", NULL, "channels.content.current.slot"},
    {"channels.content.current.slot", "null", NULL, "current.slot"},
    {"channels.content.run", "\"happy\"", NULL, "channels.content.run"},
    {"channels.content.boots", "1.5", NULL, "channels.content.boots"},
    {"channels.content.failed", "{}", NULL, "channels.content.failed"},
    {"channels.content.failed.0.kind", "\"maybe\"", NULL, "failed[0].kind"},
    {"channels.content.want.action", "\"sideways\"", NULL, "want.action"},
    {"channels.content.extra", "true", NULL, "channels.content.extra"},
    {"channels.driver.phase_slot", "null", NULL, "channels.driver.phase_slot"},
    {"channels.driver.phase", "\"download\"", NULL, "channels.driver.phase"},
    {"channels.driver.hook_revert", "1", NULL, "hook_revert"},
    {"crash_snapshot", "[1]", NULL, "crash_snapshot[0]"},
};

static void set_path(json_t *root, const char *path, const char *value)
{
    char buf[200], *tok = buf, *dot;
    json_t *o = root;

    snprintf(buf, sizeof(buf), "%s", path);
    while ((dot = strchr(tok, '.')) != NULL) {
        *dot = '\0';
        o = json_is_array(o) ? json_array_get(o, (size_t)(tok[0] - '0')) : json_object_get(o, tok);
        ck_assert_ptr_nonnull(o);
        tok = dot + 1;
    }
    if (!value) {
        json_object_del(o, tok);
        return;
    }
    ck_assert_int_eq(json_object_set_new(o, tok, json_loads(value, JSON_DECODE_ANY, NULL)), 0);
}

START_TEST(test_corrupt_files_refused)
{
    const damage *d = &DAMAGES[_i];
    proto p, q;
    boot_crashset cs, cs2;
    rf_error e = {0};
    char path[300];
    FILE *f;

    snprintf(path, sizeof(path), "%s/state.json", dir);
    sample(&p, &cs);
    if (d->path) {
        json_t *j = state_encode(&p, &cs);
        char *text;
        set_path(j, d->path, d->value);
        text = json_dumps(j, 0);
        f = fopen(path, "w");
        fputs(text, f);
        fclose(f);
        free(text);
        json_decref(j);
    } else {
        f = fopen(path, "w");
        fputs(d->raw, f);
        fclose(f);
    }
    proto_init(&q, &CFG);
    boot_crashset_init(&cs2);
    ck_assert_int_eq(state_load(path, &q, &cs2, &e), RF_ERR_INVALID);
    ck_assert_msg(strstr(e.message, d->named) != NULL, "case %d: '%s' not in '%s'", _i, d->named,
                  e.message);
    ck_assert_msg(strstr(e.message, path) != NULL, "the path is named: %s", e.message);
    proto_cleanup(&p);
    proto_cleanup(&q);
    boot_crashset_cleanup(&cs);
    boot_crashset_cleanup(&cs2);
}
END_TEST

START_TEST(test_identity)
{
    state_identity id = {0}, back;
    rf_error e = {0};
    char path[300];
    struct stat st;
    FILE *f;

    snprintf(path, sizeof(path), "%s/identity.json", dir);
    ck_assert_int_eq(state_identity_load(path, &back, &e), RF_ERR_NOT_FOUND);
    snprintf(id.device_id, sizeof(id.device_id), "0123456789abcdef0123456789abcdef");
    snprintf(id.token, sizeof(id.token), "rfd_AbC-123_xyz");
    ck_assert_int_eq(state_identity_save(path, &id, &e), RF_OK);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(state_identity_load(path, &back, &e), RF_OK);
    ck_assert_str_eq(back.device_id, id.device_id);
    ck_assert_str_eq(back.token, id.token);
    state_identity_wipe(&back);
    ck_assert_str_eq(back.token, "");
    f = fopen(path, "w");
    fputs("{\"device_id\": \"0123\", \"token\": \"rfd_x\"}", f);
    fclose(f);
    ck_assert_int_eq(state_identity_load(path, &back, &e), RF_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(e.message, "identity"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("agent_state");
    TCase *tc = tcase_create("state");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_round_trip_json);
    tcase_add_test(tc, test_round_trip_file);
    tcase_add_test(tc, test_missing_file_is_first_start);
    tcase_add_loop_test(tc, test_corrupt_files_refused, 0,
                        (int)(sizeof(DAMAGES) / sizeof(DAMAGES[0])));
    tcase_add_test(tc, test_identity);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
