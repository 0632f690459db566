/* Unit tests for the control group's window (health_control_since in
 * server/health.c): the start of the window a stage's control failures are
 * counted over, for every combination of stage start, first exposure and
 * clock (table-driven); that the sequential test's figures carry it as
 * "control_since"; and, by seeded simulation, why the window matters: a
 * control counted since each device's own activation reports a failure rate
 * several times the stage's for a harmless bundle, while the windowed control
 * reports the same rate as the stage. */
#include "health.h"
#include "health_stat.h"

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct window_case {
    int64_t started, first_exposed, now, want;
    const char *why;
} window_case;

static const window_case cases[] = {
    {0, 0, 1000, 1000, "pending stage: an empty window (now)"},
    {0, 900, 1000, 1000, "pending stage with a stray exposure: still empty"},
    {500, 0, 1000, 500, "started, nothing exposed: the stage's start"},
    {500, 700, 1000, 700, "the first exposure"},
    {500, 500, 1000, 500, "exposed at the start"},
    {500, 400, 1000, 500, "an exposure before the start: never before the start"},
    {500, 1000, 1000, 1000, "exposed this second"},
    {500, 1200, 1000, 1000, "a clock skew: never after now"},
    {1500, 0, 1000, 1000, "started in the future (skew): never after now"},
    {1, 0, 1, 1, "the smallest times"},
    {-5, 0, 1000, 1000, "a negative start counts as not started"},
};

START_TEST(window_start)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const window_case *c = &cases[i];
        int64_t got = health_control_since(c->started, c->first_exposed, c->now);
        ck_assert_msg(got == c->want, "%s: got %lld, want %lld", c->why, (long long)got,
                      (long long)c->want);
        ck_assert_msg(got <= c->now, "%s: after now", c->why);
    }
}
END_TEST

START_TEST(window_in_the_figures)
{
    health_policy p;
    health_stat st;
    health_policy_default(&p);
    health_stat_eval(&p, 10, 1, 100, 2, &st);
    ck_assert_int_eq(st.control_since_s, 0); /* evaluation alone knows no window */
    json_t *j = health_stat_to_json(&st);
    ck_assert(json_is_null(json_object_get(j, "control_since")));
    json_decref(j);
    st.control_since_s = 1795574910;
    j = health_stat_to_json(&st);
    ck_assert_str_eq(json_string_value(json_object_get(j, "control_since")),
                     "2026-11-25T02:48:30Z");
    json_decref(j);
}
END_TEST

/* xorshift64*: a fixed sequence, so the figures below never change. */
static uint64_t rng = 88172645463325252ULL;
static double uniform(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (double)((rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/* Devices fail at `rate` per hour at random times (a Poisson process); the
 * control's devices activated their bundle up to 30 days before the stage;
 * the stage (1 hour so far) runs a harmless bundle. Returns the failure
 * rates of the stage, of the control since activation, and of the control
 * over the stage's window. */
static void simulate(double rate, double *stage, double *since_activation, double *windowed)
{
    const int n = 200000;
    const double window_h = 1.0;
    int fs = 0, fa = 0, fw = 0;
    for (int i = 0; i < n; i++) {
        /* the stage device: watched for the window only */
        fs += uniform() < 1.0 - exp(-rate * window_h);
        /* a control device: running its bundle for age hours, the window at its end */
        double age = window_h + uniform() * 30 * 24;
        double first =
            -log(1.0 - uniform()) / rate; /* hours from activation to its first failure */
        fa += first < age;
        /* failures in the window: the process restarts memoryless in it */
        fw += uniform() < 1.0 - exp(-rate * window_h);
    }
    *stage = (double)fs / n;
    *since_activation = (double)fa / n;
    *windowed = (double)fw / n;
}

START_TEST(window_makes_rates_comparable)
{
    double s, a, w;
    simulate(0.001, &s, &a, &w); /* one failure per device in about 6 weeks */
    ck_assert_msg(a > 5 * s, "since activation %.4f vs stage %.4f", a, s);
    ck_assert_msg(w > 0.5 * s && w < 2 * s, "windowed %.4f vs stage %.4f", w, s);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("health_window");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, window_start);
    tcase_add_test(tc, window_in_the_figures);
    tcase_add_test(tc, window_makes_rates_comparable);
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
