/* Unit tests for server/plan.c: plan validation (every ring in order from
 * the canary ring, shares of a ring growing to 100 %, ranges) as a table and
 * over every permutation, the built-in channel plans, the gates of a stage
 * with what each waits for, the harm gate per verdict, durations in words, and the two-person rule.
 */
#include "plan.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 1700000000

/* Rings: canary(0) early(1) broad(2), deliberately with ids out of order. */
static const rollout_ring rings[] = {{7, 0, "canary"}, {3, 1, "early"}, {5, 2, "broad"}};

struct plan_case {
    long long ring[6];
    int pct[6]; /* 0: 100 */
    int n;
    rf_err want;
    const char *needle;
};

static const struct plan_case plan_cases[] = {
    {{7, 3, 5}, {0}, 3, RF_OK, NULL},
    {{7, 3, 3, 3, 5}, {0, 10, 50, 100, 0}, 5, RF_OK, NULL},
    {{7, 7, 3, 5, 5}, {25, 100, 100, 1, 100}, 5, RF_OK, NULL},
    {{0}, {0}, 0, RF_ERR_INVALID, "at least one stage"},
    {{7}, {0}, 1, RF_ERR_INVALID, "ends before ring 'early'"},
    {{7, 3}, {0}, 2, RF_ERR_INVALID, "ends before ring 'broad'"},
    {{3, 7, 5},
     {0},
     3,
     RF_ERR_INVALID,
     "field 'stages[0].ring_id': a plan must start with the "
     "lowest ring 'canary'"},
    {{5}, {0}, 1, RF_ERR_INVALID, "lowest ring 'canary'"},
    {{7, 5},
     {0},
     2,
     RF_ERR_INVALID,
     "field 'stages[1].ring_id': ring 'broad' (order 2) skips "
     "ring 'early'"},
    {{7, 5, 3}, {0}, 3, RF_ERR_INVALID, "skips ring 'early'"},
    {{7, 5}, {0}, 2, RF_ERR_INVALID, "starting with the canary ring"},
    {{7, 7, 3, 5},
     {0},
     4,
     RF_ERR_INVALID,
     "field 'stages[1].percent': ring 'canary' is already at "
     "100 % in stage 0"},
    {{7, 3, 5, 3},
     {0},
     4,
     RF_ERR_INVALID,
     "field 'stages[3].ring_id': ring 'early' is already "
     "stage 1"},
    {{7, 3, 99}, {0}, 3, RF_ERR_INVALID, "field 'stages[2].ring_id': no ring 99"},
    {{-1, 3, 5}, {0}, 3, RF_ERR_INVALID, "field 'stages[0].ring_id': no ring -1"},
    {{7, 3, 3, 5}, {0, 50, 50, 0}, 4, RF_ERR_INVALID, "stages of a ring must grow in percent"},
    {{7, 3, 3, 5}, {0, 50, 20, 0}, 4, RF_ERR_INVALID, "ring 'early' is already at 50 %"},
    {{7, 3, 5},
     {0, 50, 0},
     3,
     RF_ERR_INVALID,
     "field 'stages[1].percent': ring 'early' ends at "
     "50 %"},
    {{7, 3, 5},
     {0, 0, 99},
     3,
     RF_ERR_INVALID,
     "field 'stages[2].percent': ring 'broad' ends at "
     "99 %"},
    {{7, 3, 3, 5}, {10, 50, 100, 0}, 4, RF_ERR_INVALID, "ring 'canary' ends at 10 %"},
    {{7, 3, 5}, {-1, 0, 0}, 3, RF_ERR_INVALID, "field 'stages[0].percent': must be 1-100"},
    {{7, 3, 5}, {0, 101, 0}, 3, RF_ERR_INVALID, "field 'stages[1].percent': must be 1-100"},
};

static void fill(plan_stage *st, const struct plan_case *c)
{
    for (int i = 0; i < c->n; i++) {
        plan_stage_default(&st[i]);
        st[i].ring_id = c->ring[i];
        st[i].percent = c->pct[i] == 0 ? 100 : c->pct[i] < 0 ? 0 : c->pct[i];
    }
}

START_TEST(plan_validation)
{
    for (size_t i = 0; i < sizeof(plan_cases) / sizeof(plan_cases[0]); i++) {
        const struct plan_case *c = &plan_cases[i];
        plan_stage st[6];
        rf_error e = {0};
        fill(st, c);
        rf_err rc = plan_validate(st, c->n, rings, 3, &e);
        ck_assert_msg(rc == c->want, "case %zu: rc %d (%s)", i, rc, e.message);
        if (c->needle != NULL)
            ck_assert_msg(strstr(e.message, c->needle) != NULL, "case %zu: message '%s'", i,
                          e.message);
    }
    plan_stage one;
    rf_error e = {0};
    plan_stage_default(&one);
    one.ring_id = 7;
    ck_assert_int_eq(plan_validate(&one, 1, rings, 0, &e), RF_ERR_CONFLICT);
    ck_assert_ptr_nonnull(strstr(e.message, "no rings"));
    ck_assert_int_eq(plan_validate(&one, 1, rings, 1, &e), RF_OK);
    plan_stage many[ROLLOUT_MAX_STAGES + 1];
    memset(many, 0, sizeof(many));
    ck_assert_int_eq(plan_validate(many, ROLLOUT_MAX_STAGES + 1, rings, 3, &e), RF_ERR_INVALID);
}
END_TEST

/* The numbers of a stage, each out of range once. */
START_TEST(stage_ranges)
{
    struct {
        int field;
        double value;
        const char *needle;
    } cases[] = {
        {0, -1, "stages[1].bake_s"},
        {0, ROLLOUT_MAX_BAKE_S + 1.0, "stages[1].bake_s"},
        {1, -1, "stages[1].min_healthy"},
        {1, PLAN_MAX_MIN_HEALTHY + 1.0, "stages[1].min_healthy"},
        {2, -0.5, "stages[1].max_failure_rate"},
        {2, 1.5, "stages[1].max_failure_rate"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct plan_case c = {{7, 3, 5}, {0}, 3, RF_OK, NULL};
        plan_stage st[3];
        rf_error e = {0};
        fill(st, &c);
        if (cases[i].field == 0)
            st[1].bake_s = (int)cases[i].value;
        else if (cases[i].field == 1)
            st[1].min_healthy = (int)cases[i].value;
        else
            st[1].max_failure_rate = cases[i].value;
        ck_assert_int_eq(plan_validate(st, 3, rings, 3, &e), RF_ERR_INVALID);
        ck_assert_msg(strstr(e.message, cases[i].needle) != NULL, "case %zu: %s", i, e.message);
    }
}
END_TEST

/* Every sequence of up to four stages over three rings at 100 %: only the
 * one full, ordered plan passes. */
START_TEST(plan_permutations)
{
    long long ids[3] = {7, 3, 5};
    int ok = 0;
    for (int n = 1, total = 3; n <= 4; n++, total *= 3)
        for (int code = 0; code < total; code++) {
            plan_stage st[4];
            int pick[4] = {code % 3, code / 3 % 3, code / 9 % 3, code / 27 % 3};
            for (int i = 0; i < n; i++) {
                plan_stage_default(&st[i]);
                st[i].ring_id = ids[pick[i]];
            }
            rf_error e = {0};
            rf_err rc = plan_validate(st, n, rings, 3, &e);
            int good = n == 3 && pick[0] == 0 && pick[1] == 1 && pick[2] == 2;
            ck_assert_msg((rc == RF_OK) == good, "n %d code %d: %s", n, code, e.message);
            if (rc != RF_OK)
                ck_assert_int_eq(rc, RF_ERR_INVALID);
            ok += rc == RF_OK;
        }
    ck_assert_int_eq(ok, 1);
}
END_TEST

START_TEST(builtin_plans)
{
    struct {
        const char *channel;
        int bake;
    } cases[] = {{"driver", 86400}, {"content", 600}, {"firmware", 3600}, {NULL, 3600}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        plan_stage st[ROLLOUT_MAX_STAGES];
        int n = plan_builtin(cases[i].channel, rings, 3, st);
        ck_assert_int_eq(n, 3);
        ck_assert_int_eq(plan_builtin_bake_s(cases[i].channel), cases[i].bake);
        for (int k = 0; k < n; k++) {
            ck_assert_int_eq(st[k].ring_id, rings[k].id);
            ck_assert_int_eq(st[k].percent, 100);
            ck_assert_int_eq(st[k].bake_s, cases[i].bake);
            ck_assert_int_eq(st[k].min_healthy, 1);
            ck_assert_int_eq(st[k].auto_promote, 0);
        }
        ck_assert_int_eq(plan_validate(st, n, rings, 3, NULL), RF_OK);
    }
    /* content's bakes are shorter than driver's, and neither skips a ring */
    ck_assert_int_lt(plan_builtin_bake_s("content"), plan_builtin_bake_s("driver"));
}
END_TEST

/* ---- gates ---- */

struct gate_case {
    int bake_s;
    int64_t ran; /* seconds since the stage started; -1: not started */
    int min_healthy;
    long long exposed, healthy, failed, devices;
    double stage_rate; /* 0: the policy's 0.5 */
    int require_approval;
    const char *approved_by;
    int want_ok[4]; /* bake, healthy, failures, approval */
    const char *want_detail[4];
};

static const struct gate_case gate_cases[] = {
    {1800,
     1080,
     40,
     50,
     31,
     0,
     50,
     0,
     1,
     NULL,
     {0, 0, 1, 0},
     {"12m left (bake 30m)", "31/50 healthy, need 40", "0/50 failed (0.0%), limit 50.0%",
      "approval pending (by anyone but alice)"}},
    {1800,
     1860,
     40,
     50,
     45,
     2,
     50,
     0.1,
     1,
     "bob",
     {1, 1, 1, 1},
     {"baked 31m (bake 30m)", "45/50 healthy, need 40", "2/50 failed (4.0%), limit 10.0%",
      "approved by bob"}},
    {0,
     5,
     1,
     2,
     0,
     0,
     2,
     0,
     0,
     NULL,
     {1, 0, 1, -1},
     {"no bake time", "0/2 healthy, need 1", NULL, NULL}},
    {60, 59, 0, 0, 0, 0, 0, 0, 0, NULL, {0, 1, 1, -1}, {"1s left (bake 1m)", NULL, NULL, NULL}},
    {60, 60, 0, 0, 0, 0, 0, 0, 0, NULL, {1, 1, 1, -1}, {"baked 1m (bake 1m)", NULL, NULL, NULL}},
    {86400,
     3600,
     5,
     3,
     3,
     0,
     3,
     0,
     0,
     NULL,
     {0, 0, 1, -1},
     {"23h00m left (bake 1d00h)", "3/3 healthy, need 5; the stage holds only 3 devices", NULL,
      NULL}},
    {0,
     10,
     1,
     4,
     2,
     1,
     -1,
     0.2,
     0,
     NULL,
     {1, 1, 0, -1},
     {NULL, "2 healthy, need 1", "1/4 failed (25.0%), limit 20.0%", NULL}},
    {0,
     10,
     1,
     10,
     9,
     1,
     10,
     0.2,
     0,
     NULL,
     {1, 1, 1, -1},
     {NULL, NULL, "1/10 failed (10.0%), limit 20.0%", NULL}},
    {0, 10, 1, 2, 1, 1, 2, 0, 0, NULL, {1, 1, 0, -1}, {NULL, NULL, "limit 50.0%", NULL}},
    {30,
     -1,
     0,
     0,
     0,
     0,
     0,
     0,
     0,
     NULL,
     {0, 1, 1, -1},
     {"not started (bake 30s)", NULL, NULL, NULL}},
};

START_TEST(gate_evaluation)
{
    for (size_t i = 0; i < sizeof(gate_cases) / sizeof(gate_cases[0]); i++) {
        const struct gate_case *c = &gate_cases[i];
        rollout_stage st;
        memset(&st, 0, sizeof(st));
        st.state = STAGE_ACTIVE;
        st.bake_s = c->bake_s;
        st.started_s = c->ran >= 0 ? T0 : 0;
        st.min_healthy = c->min_healthy;
        st.max_failure_rate = c->stage_rate;
        st.require_approval = c->require_approval;
        st.approved = c->approved_by != NULL;
        plan_gate_input in = {.stage = &st,
                              .counts = {c->exposed, c->healthy, c->failed, 0},
                              .devices = c->devices,
                              .policy_max_failure_rate = 0.5,
                              .now_s = T0 + (c->ran >= 0 ? c->ran : 0),
                              .creator = "alice",
                              .approved_by = c->approved_by};
        plan_gate g[PLAN_MAX_GATES];
        int n = plan_gates(&in, g);
        ck_assert_int_eq(n, c->require_approval ? 4 : 3);
        static const char *const names[] = {"bake", "healthy", "failures", "approval"};
        int all = 1;
        for (int k = 0; k < n; k++) {
            ck_assert_str_eq(g[k].name, names[k]);
            ck_assert_msg(g[k].ok == c->want_ok[k], "case %zu gate %s: ok %d (%s)", i, names[k],
                          g[k].ok, g[k].detail);
            if (c->want_detail[k] != NULL)
                ck_assert_msg(strstr(g[k].detail, c->want_detail[k]) != NULL,
                              "case %zu gate %s: '%s'", i, names[k], g[k].detail);
            all &= g[k].ok;
        }
        ck_assert_int_eq(plan_gates_pass(g, n), all);
    }
    ck_assert_int_eq(plan_gates_pass(NULL, 0), 0);
}
END_TEST

/* The harm gate: one case per verdict of the sequential test, judged with
 * alpha 0.05, beta 0.2, min_ratio 2, backstop 50 %, 3 distinct failures. */
struct harm_case {
    long long exposed, failed, control, control_failed;
    int require_approval;
    health_verdict want_verdict;
    int want_ok;
    const char *want_detail;
};

static const struct harm_case harm_cases[] = {
    {0, 0, 0, 0, 0, HEALTH_VERDICT_CONTINUE, 0, "not harmful yet: no control devices"},
    {100, 0, 0, 0, 0, HEALTH_VERDICT_CONTINUE, 0, "not harmful yet: no control devices"},
    {100, 1, 1000, 10, 0, HEALTH_VERDICT_CONTINUE, 0, "not harmful yet: statistic 0.26 of 1.61"},
    {100, 0, 1000, 100, 0, HEALTH_VERDICT_NOT_HARMFUL, 1,
     "not harmful: statistic 8.70 reached 1.61 (ratio >= 2 excluded)"},
    {100, 0, 1000, 100, 1, HEALTH_VERDICT_NOT_HARMFUL, 1, "(ratio >= 2 excluded)"},
    {100, 30, 1000, 10, 0, HEALTH_VERDICT_HARMFUL, 0, "harmful: statistic "},
    {10, 6, 1000, 10, 1, HEALTH_VERDICT_BACKSTOP, 0, "harmful: 60.0% failed, backstop 50.0%"},
    {10, 2, 1000, 0, 0, HEALTH_VERDICT_CONTINUE, 0, "not harmful yet: statistic"},
};

START_TEST(harm_gate_evaluation)
{
    health_policy p;
    health_policy_default(&p);
    p.alpha = 0.05;
    p.beta = 0.2;
    p.min_ratio = 2.0;
    p.max_failure_rate = 0.5;
    p.min_failed_devices = 3;
    for (size_t i = 0; i < sizeof(harm_cases) / sizeof(harm_cases[0]); i++) {
        const struct harm_case *c = &harm_cases[i];
        rollout_stage st;
        health_stat hs;
        memset(&st, 0, sizeof(st));
        st.state = STAGE_ACTIVE;
        st.started_s = T0;
        st.require_approval = c->require_approval;
        health_stat_eval(&p, c->exposed, c->failed, c->control, c->control_failed, &hs);
        ck_assert_msg(hs.verdict == c->want_verdict, "case %zu: verdict %s", i,
                      health_verdict_name(hs.verdict));
        plan_gate_input in = {.stage = &st,
                              .counts = {c->exposed, c->exposed - c->failed, c->failed, 0},
                              .devices = c->exposed,
                              .policy_max_failure_rate = 1.0,
                              .now_s = T0,
                              .creator = "alice",
                              .harm = &hs,
                              .min_ratio = p.min_ratio};
        plan_gate g[PLAN_MAX_GATES];
        int n = plan_gates(&in, g);
        ck_assert_int_eq(n, c->require_approval ? 5 : 4);
        ck_assert_str_eq(g[3].name, "harm");
        ck_assert_msg(g[3].ok == c->want_ok, "case %zu: ok %d (%s)", i, g[3].ok, g[3].detail);
        ck_assert_msg(strstr(g[3].detail, c->want_detail) != NULL, "case %zu: '%s'", i,
                      g[3].detail);
        if (c->require_approval)
            ck_assert_str_eq(g[4].name, "approval");
        /* the gate decides: every other gate passes here but approval */
        int others = !c->require_approval;
        ck_assert_int_eq(plan_gates_pass(g, n), others && c->want_ok);
    }
}
END_TEST

START_TEST(durations)
{
    struct {
        int64_t s;
        const char *want;
    } cases[] = {{-5, "0s"},       {0, "0s"},          {59, "59s"},     {60, "1m"},
                 {3599, "59m"},    {3600, "1h00m"},    {3661, "1h01m"}, {86399, "23h59m"},
                 {86400, "1d00h"}, {2592000, "30d00h"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[32];
        plan_duration(cases[i].s, buf, sizeof(buf));
        ck_assert_str_eq(buf, cases[i].want);
    }
}
END_TEST

/* ---- two-person rule ---- */

struct approve_case {
    rollout_state state;
    int stage;
    const char *actor;
    int require;
    int approved;
    stage_state st;
    rf_err want;
    const char *needle;
};

static const struct approve_case approve_cases[] = {
    {ROLLOUT_ACTIVE, 0, "bob", 1, 0, STAGE_ACTIVE, RF_OK, NULL},
    {ROLLOUT_PAUSED, 0, "bob", 1, 0, STAGE_ACTIVE, RF_OK, NULL},
    {ROLLOUT_DRAFT, 0, "bob", 1, 0, STAGE_PENDING, RF_OK, NULL},
    {ROLLOUT_ACTIVE, 1, "bob", 1, 0, STAGE_PENDING, RF_OK, NULL},
    {ROLLOUT_ACTIVE, 0, "alice", 1, 0, STAGE_ACTIVE, RF_ERR_FORBIDDEN,
     "two-person rule: alice created rollout 4 and cannot approve it"},
    {ROLLOUT_DRAFT, 0, "alice", 1, 0, STAGE_PENDING, RF_ERR_FORBIDDEN, "two-person rule"},
    {ROLLOUT_ACTIVE, 0, NULL, 1, 0, STAGE_ACTIVE, RF_ERR_FORBIDDEN, "two-person rule"},
    {ROLLOUT_ACTIVE, 0, "bob", 0, 0, STAGE_ACTIVE, RF_ERR_CONFLICT, "needs no approval"},
    {ROLLOUT_ACTIVE, 0, "bob", 1, 1, STAGE_ACTIVE, RF_ERR_CONFLICT, "already approved by carol"},
    {ROLLOUT_ACTIVE, 0, "bob", 1, 0, STAGE_DONE, RF_ERR_CONFLICT, "stage 0 is done"},
    {ROLLOUT_HALTED, 0, "bob", 1, 0, STAGE_HALTED, RF_ERR_CONFLICT, "rollout is halted"},
    {ROLLOUT_COMPLETED, 0, "bob", 1, 0, STAGE_DONE, RF_ERR_CONFLICT, "rollout is completed"},
    {ROLLOUT_ACTIVE, 7, "bob", 1, 0, STAGE_ACTIVE, RF_ERR_INVALID, "field 'stage'"},
};

START_TEST(two_person_rule)
{
    for (size_t i = 0; i < sizeof(approve_cases) / sizeof(approve_cases[0]); i++) {
        const struct approve_case *c = &approve_cases[i];
        rollout_sm r;
        memset(&r, 0, sizeof(r));
        r.state = c->state;
        r.nstages = 2;
        r.stage = c->state == ROLLOUT_DRAFT ? -1 : 0;
        int s = c->stage < 2 ? c->stage : 0;
        r.stages[s].require_approval = c->require;
        r.stages[s].approved = c->approved;
        r.stages[s].state = c->st;
        rf_error e = {0};
        rf_err rc = plan_approve_check(&r, 4, c->stage, c->actor, "alice",
                                       c->approved ? "carol" : NULL, &e);
        ck_assert_msg(rc == c->want, "case %zu: rc %d (%s)", i, rc, e.message);
        if (c->needle != NULL)
            ck_assert_msg(strstr(e.message, c->needle) != NULL, "case %zu: '%s'", i, e.message);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("plan");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, plan_validation);
    tcase_add_test(tc, stage_ranges);
    tcase_add_test(tc, plan_permutations);
    tcase_add_test(tc, builtin_plans);
    tcase_add_test(tc, gate_evaluation);
    tcase_add_test(tc, harm_gate_evaluation);
    tcase_add_test(tc, durations);
    tcase_add_test(tc, two_person_rule);
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
