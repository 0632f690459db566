/* Unit tests for server/health_stat.c: the verdict at its boundaries (no
 * control, too few distinct failed devices, the backstop, "not harmful"),
 * and the sequential test's properties measured by seeded simulation: the
 * false-halt rate stays at most alpha when a stage as good as its control is
 * evaluated every second, and a stage failing three times as often is halted
 * within the stage. */
#include "health_stat.h"

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a seeded generator (splitmix64) ---- */

static uint64_t rng_state;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double rng_unit(void) /* (0, 1) */
{
    return ((double)(rng_next() >> 11) + 0.5) / 9007199254740992.0;
}

/* ---- the simulation ---- */

#define SIM_T 600     /* the stage lasts 10 minutes, evaluated every second */
#define SIM_STAGE 300 /* devices in the stage */
#define SIM_CTRL 2000 /* devices in the control */
#define SIM_BASE 0.05 /* a control device's chance to fail within the stage */

/* Adds, per second, how many of n devices with a per-device chance p of
 * failing within SIM_T seconds (a constant hazard) fail in that second. */
static void draw_failures(int n, double p, int *per_second)
{
    double h = -log1p(-p) / SIM_T; /* hazard per second */
    for (int i = 0; i < n; i++) {
        double t = -log(rng_unit()) / h;
        if (t < SIM_T)
            per_second[(int)t]++;
    }
}

/* One stage: returns the second it was halted at, or -1. */
static int sim_run(const health_policy *p, double ratio)
{
    int f1[SIM_T] = {0}, f0[SIM_T] = {0};
    long long x1 = 0, x0 = 0;
    draw_failures(SIM_STAGE, 1.0 - pow(1.0 - SIM_BASE, ratio), f1);
    draw_failures(SIM_CTRL, SIM_BASE, f0);
    for (int t = 0; t < SIM_T; t++) {
        health_stat s;
        x1 += f1[t];
        x0 += f0[t];
        health_stat_eval(p, SIM_STAGE, x1, SIM_CTRL, x0, &s);
        if (health_verdict_halts(s.verdict))
            return t;
    }
    return -1;
}

START_TEST(false_halt_rate_at_most_alpha)
{
    health_policy p;
    health_policy_default(&p);
    rng_state = 20261125;
    int runs = 10000, halts = 0;
    for (int i = 0; i < runs; i++)
        halts += sim_run(&p, 1.0) >= 0;
    ck_assert_msg(halts <= (int)(p.alpha * runs), "false halts %d of %d, alpha %.3f", halts, runs,
                  p.alpha);
    fprintf(stderr, "false halts: %d of %d\n", halts, runs);
    ck_assert_int_gt(halts, 0); /* the test is not simply blind */
}
END_TEST

START_TEST(triple_rate_detected_within_stage)
{
    health_policy p;
    health_policy_default(&p);
    rng_state = 7;
    int runs = 2000, detected = 0;
    long long when = 0;
    for (int i = 0; i < runs; i++) {
        int t = sim_run(&p, 3.0);
        if (t >= 0) {
            detected++;
            when += t;
        }
    }
    fprintf(stderr, "detected: %d of %d, mean second %lld\n", detected, runs,
            when / (detected ? detected : 1));
    ck_assert_msg(detected >= (int)((1.0 - p.beta) * runs), "detected %d of %d", detected, runs);
    ck_assert_int_lt(when / detected, SIM_T); /* on average well within the stage */
}
END_TEST

/* ---- the verdict at its boundaries ---- */

struct verdict_case {
    long long exposed, failed, control, control_failed;
    int min_failed;
    double max_rate;
    health_verdict want;
};

static const struct verdict_case verdict_cases[] = {
    {0, 0, 0, 0, 1, 0.5, HEALTH_VERDICT_CONTINUE},
    {10, 0, 0, 0, 1, 0.5, HEALTH_VERDICT_CONTINUE},      /* no control: no evidence */
    {10, 4, 0, 0, 1, 0.5, HEALTH_VERDICT_CONTINUE},      /* … and under the backstop */
    {10, 5, 0, 0, 1, 0.5, HEALTH_VERDICT_BACKSTOP},      /* the backstop alone */
    {10, 5, 0, 0, 6, 0.5, HEALTH_VERDICT_CONTINUE},      /* too few distinct failed */
    {100, 20, 1000, 10, 1, 0.5, HEALTH_VERDICT_HARMFUL}, /* 20 % against 1 % */
    {100, 20, 1000, 10, 21, 0.5, HEALTH_VERDICT_CONTINUE},
    {100, 5, 1000, 50, 1, 0.5, HEALTH_VERDICT_CONTINUE},        /* the same rate, little data */
    {1000, 50, 10000, 500, 1, 0.5, HEALTH_VERDICT_NOT_HARMFUL}, /* the same rate, much data */
    {1000, 0, 10000, 0, 1, 0.5, HEALTH_VERDICT_CONTINUE},       /* nothing failed anywhere */
    {100, 1, 100, 1, 1, 0.01, HEALTH_VERDICT_BACKSTOP},
    {5, 9, 5, 9, 1, 0.5, HEALTH_VERDICT_BACKSTOP}, /* inconsistent counts are clamped */
};

START_TEST(verdicts)
{
    const struct verdict_case *c = &verdict_cases[_i];
    health_policy p;
    health_stat s;
    health_policy_default(&p);
    p.min_failed_devices = c->min_failed;
    p.max_failure_rate = c->max_rate;
    health_stat_eval(&p, c->exposed, c->failed, c->control, c->control_failed, &s);
    ck_assert_msg(s.verdict == c->want, "case %d: got %s (statistic %.3f, safe %.3f)", _i,
                  health_verdict_name(s.verdict), s.statistic, s.safe_statistic);
    ck_assert(s.failed <= s.exposed && s.control_failed <= s.control);
    ck_assert_double_eq_tol(s.upper, log(1.0 / p.alpha), 1e-12);
    ck_assert_double_eq_tol(s.safe_threshold, log(1.0 / p.beta), 1e-12);
}
END_TEST

START_TEST(statistic_grows_with_evidence)
{
    health_policy p;
    health_stat a, b;
    health_policy_default(&p);
    health_stat_eval(&p, 100, 10, 1000, 20, &a);
    health_stat_eval(&p, 100, 15, 1000, 20, &b);
    ck_assert(b.statistic > a.statistic);
    ck_assert(b.safe_statistic < a.safe_statistic);
    ck_assert_double_eq_tol(a.control_rate, 0.02, 1e-12);
    ck_assert_double_eq_tol(a.failure_rate, 0.1, 1e-12);
}
END_TEST

START_TEST(json_and_names)
{
    health_policy p;
    health_stat s;
    health_policy_default(&p);
    health_stat_eval(&p, 100, 20, 1000, 10, &s);
    json_t *j = health_stat_to_json(&s);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(json_string_value(json_object_get(j, "verdict")), "harmful");
    ck_assert_int_eq(json_integer_value(json_object_get(j, "control_devices")), 1000);
    ck_assert_double_eq_tol(json_real_value(json_object_get(j, "statistic")), s.statistic, 1e-9);
    json_decref(j);
    ck_assert_str_eq(health_verdict_name(HEALTH_VERDICT_NOT_HARMFUL), "not_harmful");
    ck_assert_str_eq(health_verdict_name((health_verdict)99), "unknown");
    ck_assert(health_verdict_halts(HEALTH_VERDICT_BACKSTOP));
    ck_assert(!health_verdict_halts(HEALTH_VERDICT_NOT_HARMFUL));
}
END_TEST

START_TEST(policy_statistics_fields)
{
    health_policy p;
    rf_error e = {0};
    health_policy_default(&p);
    json_t *ok = json_pack("{s:f, s:f, s:f}", "alpha", 0.05, "beta", 0.2, "min_ratio", 1.5);
    ck_assert_int_eq(health_policy_parse(ok, "policy", &p, &e), RF_OK);
    ck_assert_double_eq(p.alpha, 0.05);
    ck_assert_double_eq(p.beta, 0.2);
    ck_assert_double_eq(p.min_ratio, 1.5);
    json_decref(ok);
    const char *bad[] = {"{\"alpha\": 0}", "{\"alpha\": 0.6}", "{\"beta\": \"x\"}",
                         "{\"min_ratio\": 1}", "{\"min_ratio\": 101}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *j = json_loads(bad[i], 0, NULL);
        health_policy q = p;
        ck_assert_int_eq(health_policy_parse(j, "policy", &q, &e), RF_ERR_INVALID);
        ck_assert_double_eq(q.alpha, p.alpha);
        json_decref(j);
    }
    json_t *round = health_policy_to_json(&p);
    ck_assert_double_eq(json_real_value(json_object_get(round, "min_ratio")), 1.5);
    ck_assert(json_is_false(json_object_get(round, "require_not_harmful")));
    json_decref(round);
    json_t *gate = json_pack("{s:b}", "require_not_harmful", 1);
    ck_assert_int_eq(health_policy_parse(gate, "policy", &p, &e), RF_OK);
    ck_assert_int_eq(p.require_not_harmful, 1);
    json_decref(gate);
    gate = json_pack("{s:s}", "require_not_harmful", "yes");
    ck_assert_int_eq(health_policy_parse(gate, "policy", &p, &e), RF_ERR_INVALID);
    json_decref(gate);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("health_stat");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, verdicts, 0, (int)(sizeof(verdict_cases) / sizeof(verdict_cases[0])));
    tcase_add_test(tc, statistic_grows_with_evidence);
    tcase_add_test(tc, json_and_names);
    tcase_add_test(tc, policy_statistics_fields);
    suite_add_tcase(s, tc);
    TCase *sim = tcase_create("simulation");
    tcase_set_timeout(sim, 120);
    tcase_add_test(sim, false_halt_rate_at_most_alpha);
    tcase_add_test(sim, triple_rate_detected_within_stage);
    suite_add_tcase(s, sim);
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
