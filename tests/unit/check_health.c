/* Unit tests for server/health.c: each failure classification, exposure and
 * activation, the health window, "once failed stays failed", silence at its
 * boundary, the halt decision at its boundaries, and policy parsing. */
#include "health.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define B 12   /* the rollout's bundle */
#define PREV 7 /* the previous bundle */
#define T0 1700000000

static health_report rep(long long bundle, health_dev_state st, long long target)
{
    health_report r;
    memset(&r, 0, sizeof(r));
    r.bundle_id = bundle;
    r.state = st;
    r.target_bundle_id = target;
    return r;
}

struct fail_case {
    long long bundle, target;
    health_dev_state state;
    long long unclean, crashes;
    health_failure want;
    int exposes;
};

static const struct fail_case fail_cases[] = {
    /* reports about the bundle as a target */
    {PREV, B, HEALTH_DEV_INSTALLING, 0, 0, HEALTH_FAIL_NONE, 1},
    {PREV, B, HEALTH_DEV_INSTALL_FAILED, 0, 0, HEALTH_FAIL_INSTALL_FAILED, 1},
    {PREV, B, HEALTH_DEV_VERIFY_FAILED, 0, 0, HEALTH_FAIL_VERIFY_FAILED, 1},
    {PREV, B, HEALTH_DEV_ROLLED_BACK, 0, 0, HEALTH_FAIL_ROLLED_BACK, 1},
    {0, B, HEALTH_DEV_INSTALL_FAILED, 0, 0, HEALTH_FAIL_INSTALL_FAILED, 1},
    /* counters of the previous bundle are not this bundle's failures */
    {PREV, B, HEALTH_DEV_INSTALLING, 3, 2, HEALTH_FAIL_NONE, 1},
    /* failures of another target are not this bundle's */
    {PREV, 99, HEALTH_DEV_INSTALL_FAILED, 0, 0, HEALTH_FAIL_NONE, 0},
    {PREV, 99, HEALTH_DEV_ROLLED_BACK, 0, 0, HEALTH_FAIL_NONE, 0},
    {PREV, 99, HEALTH_DEV_VERIFY_FAILED, 0, 0, HEALTH_FAIL_NONE, 0},
    {PREV, 0, HEALTH_DEV_COMMITTED, 1, 1, HEALTH_FAIL_NONE, 0},
    {0, 0, HEALTH_DEV_IDLE, 0, 0, HEALTH_FAIL_NONE, 0},
    /* running the bundle */
    {B, 0, HEALTH_DEV_TRIAL, 0, 0, HEALTH_FAIL_NONE, 1},
    {B, 0, HEALTH_DEV_COMMITTED, 0, 0, HEALTH_FAIL_NONE, 1},
    {B, 0, HEALTH_DEV_TRIAL, 1, 0, HEALTH_FAIL_UNCLEAN_BOOT, 1},
    {B, 0, HEALTH_DEV_TRIAL, 0, 1, HEALTH_FAIL_CRASH, 1},
    {B, 0, HEALTH_DEV_COMMITTED, 2, 5, HEALTH_FAIL_UNCLEAN_BOOT, 1},
    {B, 0, HEALTH_DEV_IDLE, 0, 1, HEALTH_FAIL_CRASH, 1},
    /* running it while installing something else: its counters still count */
    {B, 99, HEALTH_DEV_INSTALLING, 0, 1, HEALTH_FAIL_CRASH, 1},
    /* a state naming the bundle as target wins over counters */
    {B, B, HEALTH_DEV_ROLLED_BACK, 1, 1, HEALTH_FAIL_ROLLED_BACK, 1},
    /* installing something else, not running the bundle */
    {PREV, 99, HEALTH_DEV_INSTALLING, 0, 0, HEALTH_FAIL_NONE, 0},
};

START_TEST(failure_classification)
{
    for (size_t i = 0; i < sizeof(fail_cases) / sizeof(fail_cases[0]); i++) {
        const struct fail_case *c = &fail_cases[i];
        health_report r = rep(c->bundle, c->state, c->target);
        r.unclean_shutdowns = c->unclean;
        r.crashes = c->crashes;
        ck_assert_msg(health_report_failure(B, &r) == c->want, "case %zu: got %s", i,
                      health_failure_name(health_report_failure(B, &r)));
        ck_assert_msg(health_report_exposes(B, &r) == c->exposes, "case %zu exposes", i);
        /* the same through health_observe on a fresh exposure */
        health_policy p;
        health_policy_default(&p);
        health_exposure ex = {0};
        unsigned chg = health_observe(&p, B, &r, T0, &ex);
        ck_assert_int_eq(ex.exposed, c->exposes);
        ck_assert_int_eq(ex.failure, c->want);
        ck_assert_int_eq((chg & HEALTH_CHG_FAILED) != 0, c->want != HEALTH_FAIL_NONE);
        ck_assert_int_eq(ex.failed_at, c->want != HEALTH_FAIL_NONE ? T0 : 0);
    }
}
END_TEST

START_TEST(no_bundle_never_matches)
{
    health_report r = rep(0, HEALTH_DEV_INSTALL_FAILED, 0);
    r.crashes = 1;
    ck_assert_int_eq(health_report_failure(0, &r), HEALTH_FAIL_NONE);
    ck_assert_int_eq(health_report_exposes(0, &r), 0);
}
END_TEST

/* The normal path: installing → trial → healthy after the window. */
START_TEST(exposed_activated_healthy)
{
    health_policy p;
    health_policy_default(&p);
    p.health_window_s = 30;
    health_exposure ex = {0};
    health_report r = rep(PREV, HEALTH_DEV_INSTALLING, B);
    ck_assert_uint_eq(health_observe(&p, B, &r, T0, &ex), HEALTH_CHG_EXPOSED);
    ck_assert_int_eq(ex.exposed_at, T0);
    ck_assert_uint_eq(health_observe(&p, B, &r, T0 + 1, &ex), 0);
    r = rep(B, HEALTH_DEV_TRIAL, 0);
    ck_assert_uint_eq(health_observe(&p, B, &r, T0 + 5, &ex), HEALTH_CHG_ACTIVATED);
    ck_assert_int_eq(ex.activated_at, T0 + 5);
    ck_assert_uint_eq(health_observe(&p, B, &r, T0 + 34, &ex), 0); /* 29 s: not yet */
    ck_assert_int_eq(ex.healthy_at, 0);
    r.state = HEALTH_DEV_COMMITTED;
    ck_assert_uint_eq(health_observe(&p, B, &r, T0 + 35, &ex), HEALTH_CHG_HEALTHY); /* 30 s */
    ck_assert_int_eq(ex.healthy_at, T0 + 35);
    ck_assert_uint_eq(health_observe(&p, B, &r, T0 + 99, &ex), 0);
    ck_assert_int_eq(ex.healthy_at, T0 + 35);
    ck_assert_int_eq(ex.exposed_at, T0);
    /* a crash after the window still fails the device */
    r.crashes = 1;
    ck_assert_uint_eq(health_observe(&p, B, &r, T0 + 100, &ex), HEALTH_CHG_FAILED);
    ck_assert_int_eq(ex.failure, HEALTH_FAIL_CRASH);
}
END_TEST

START_TEST(first_report_running_it)
{
    health_policy p;
    health_policy_default(&p);
    p.health_window_s = 0;
    health_exposure ex = {0};
    health_report r = rep(B, HEALTH_DEV_COMMITTED, 0);
    ck_assert_uint_eq(health_observe(&p, B, &r, T0, &ex),
                      HEALTH_CHG_EXPOSED | HEALTH_CHG_ACTIVATED | HEALTH_CHG_HEALTHY);
    /* a failing first report: exposed, activated and failed at once, never healthy */
    health_exposure ex2 = {0};
    r.unclean_shutdowns = 1;
    ck_assert_uint_eq(health_observe(&p, B, &r, T0, &ex2),
                      HEALTH_CHG_EXPOSED | HEALTH_CHG_ACTIVATED | HEALTH_CHG_FAILED);
    ck_assert_int_eq(ex2.healthy_at, 0);
    ck_assert_int_eq(ex2.failure, HEALTH_FAIL_UNCLEAN_BOOT);
}
END_TEST

/* Healthy needs a report showing the bundle still active after the window. */
START_TEST(healthy_needs_active_report)
{
    health_policy p;
    health_policy_default(&p);
    health_exposure ex = {0};
    health_report r = rep(B, HEALTH_DEV_TRIAL, 0);
    health_observe(&p, B, &r, T0, &ex);
    health_report moved = rep(PREV, HEALTH_DEV_COMMITTED, 0); /* reverted by the server */
    ck_assert_uint_eq(health_observe(&p, B, &moved, T0 + 100, &ex), 0);
    ck_assert_int_eq(ex.healthy_at, 0);
    ck_assert_int_eq(ex.failed_at, 0);
    health_report installing = rep(B, HEALTH_DEV_INSTALLING, 99);
    ck_assert_uint_eq(health_observe(&p, B, &installing, T0 + 100, &ex), 0);
}
END_TEST

START_TEST(failed_stays_failed)
{
    health_policy p;
    health_policy_default(&p);
    p.health_window_s = 0;
    health_exposure ex = {0};
    health_report r = rep(PREV, HEALTH_DEV_ROLLED_BACK, B);
    ck_assert_uint_eq(health_observe(&p, B, &r, T0, &ex), HEALTH_CHG_EXPOSED | HEALTH_CHG_FAILED);
    health_exposure before = ex;
    health_report later[] = {
        rep(B, HEALTH_DEV_COMMITTED, 0),
        rep(B, HEALTH_DEV_TRIAL, 0),
        rep(PREV, HEALTH_DEV_INSTALL_FAILED, B),
        rep(B, HEALTH_DEV_IDLE, 0),
    };
    later[3].crashes = 4;
    for (size_t i = 0; i < sizeof(later) / sizeof(later[0]); i++) {
        ck_assert_uint_eq(health_observe(&p, B, &later[i], T0 + 10 + (int64_t)i, &ex), 0);
        ck_assert_mem_eq(&ex, &before, sizeof(ex));
    }
    /* silence does not re-fail it either */
    ck_assert_uint_eq(health_check_silence(&p, &ex, T0, 1, T0 + 10000), 0);
    ck_assert_int_eq(ex.failure, HEALTH_FAIL_ROLLED_BACK);
}
END_TEST

struct silence_case {
    int exposed, healthy, failed;
    int64_t exposed_at, last_seen;
    int interval, intervals;
    int64_t now;
    int want;
};

static const struct silence_case silence_cases[] = {
    /* 3 × 10 s = 30 s allowed: silent only when strictly more has passed */
    {1, 0, 0, T0, T0 + 5, 10, 3, T0 + 35, 0},
    {1, 0, 0, T0, T0 + 5, 10, 3, T0 + 36, 1},
    {1, 0, 0, T0, T0 + 5, 10, 3, T0 + 34, 0},
    /* never seen since exposure: counted from exposed_at */
    {1, 0, 0, T0, 0, 10, 3, T0 + 30, 0},
    {1, 0, 0, T0, 0, 10, 3, T0 + 31, 1},
    /* a last_seen before the exposure counts from the exposure */
    {1, 0, 0, T0, T0 - 100, 10, 3, T0 + 30, 0},
    /* interval clamped to at least 1 s */
    {1, 0, 0, T0, T0, 0, 3, T0 + 3, 0},
    {1, 0, 0, T0, T0, 0, 3, T0 + 4, 1},
    {1, 0, 0, T0, T0, -5, 3, T0 + 4, 1},
    {1, 0, 0, T0, T0, 1, 1, T0 + 2, 1},
    {1, 0, 0, T0, T0, 3600, 3, T0 + 10800, 0},
    {1, 0, 0, T0, T0, 3600, 3, T0 + 10801, 1},
    /* only exposed devices that are neither healthy nor failed */
    {0, 0, 0, 0, 0, 10, 3, T0 + 1000, 0},
    {1, 1, 0, T0, T0, 10, 3, T0 + 1000, 0},
    {1, 0, 1, T0, T0, 10, 3, T0 + 1000, 0},
};

START_TEST(silence_boundaries)
{
    for (size_t i = 0; i < sizeof(silence_cases) / sizeof(silence_cases[0]); i++) {
        const struct silence_case *c = &silence_cases[i];
        health_policy p;
        health_policy_default(&p);
        p.silence_intervals = c->intervals;
        health_exposure ex = {0};
        ex.exposed = c->exposed;
        ex.exposed_at = c->exposed_at;
        ex.healthy_at = c->healthy ? T0 : 0;
        ex.failed_at = c->failed ? T0 : 0;
        ex.failure = c->failed ? HEALTH_FAIL_CRASH : HEALTH_FAIL_NONE;
        ck_assert_msg(health_is_silent(&p, &ex, c->last_seen, c->interval, c->now) == c->want,
                      "case %zu", i);
        unsigned chg = health_check_silence(&p, &ex, c->last_seen, c->interval, c->now);
        ck_assert_uint_eq(chg, c->want ? HEALTH_CHG_FAILED : 0);
        if (c->want) {
            ck_assert_int_eq(ex.failure, HEALTH_FAIL_SILENT);
            ck_assert_int_eq(ex.failed_at, c->now);
        } else {
            ck_assert_int_eq(ex.failure, c->failed ? HEALTH_FAIL_CRASH : HEALTH_FAIL_NONE);
        }
    }
}
END_TEST

struct halt_case {
    double rate;
    int min_failed;
    long long exposed, failed;
    int want;
};

static const struct halt_case halt_cases[] = {
    {0.5, 1, 0, 0, 0},                       /* nothing exposed */
    {0.5, 1, 0, 1, 0},                       /* inconsistent figures never halt on zero exposed */
    {0.5, 1, 2, 1, 1},                       /* exactly at the rate */
    {0.5, 1, 2, 0, 0},                       /* no failure */
    {0.5, 1, 3, 1, 0},                       /* 0.33 below 0.5 */
    {0.5, 1, 1, 1, 1},                       /* 1/1 */
    {0.5, 2, 2, 1, 0},                       /* rate reached, min failed not */
    {0.5, 2, 4, 2, 1},                       /* both exactly */
    {0.5, 2, 5, 2, 0},                       /* min reached, rate not */
    {0.3, 1, 10, 3, 1},                      /* exactly 0.3 */
    {0.3, 1, 10, 2, 0},                      /* 0.2 */
    {0.1, 1, 10, 1, 1},                      /* exactly 0.1 */
    {0.7, 1, 10, 7, 1},                      /* exactly 0.7 */
    {1.0, 1, 5, 4, 0},                       /* rate 1 needs all failed */
    {1.0, 1, 5, 5, 1},    {0.9, 3, 3, 1, 0}, /* the silent test's policy */
    {0.01, 1, 100, 1, 1}, {0.01, 1, 101, 1, 0},
    {1.0, 99, 2, 2, 0}, /* the tampered test's policy never halts on 2 devices */
};

START_TEST(halt_decision)
{
    for (size_t i = 0; i < sizeof(halt_cases) / sizeof(halt_cases[0]); i++) {
        const struct halt_case *c = &halt_cases[i];
        health_policy p;
        health_policy_default(&p);
        p.max_failure_rate = c->rate;
        p.min_failed_devices = c->min_failed;
        ck_assert_msg(health_should_halt(&p, c->exposed, c->failed) == c->want, "case %zu", i);
    }
    ck_assert(health_failure_rate(0, 0) == 0.0);
    ck_assert(health_failure_rate(4, 1) == 0.25);
}
END_TEST

/* The rate boundary for every small fleet: halt exactly when failed*100 >=
 * rate_pct*exposed, computed in integers. */
START_TEST(halt_decision_exhaustive)
{
    static const int pcts[] = {1, 10, 20, 25, 30, 33, 40, 50, 60, 70, 75, 80, 90, 100};
    for (size_t k = 0; k < sizeof(pcts) / sizeof(pcts[0]); k++) {
        health_policy p;
        health_policy_default(&p);
        p.max_failure_rate = pcts[k] / 100.0;
        for (int min = 1; min <= 3; min++) {
            p.min_failed_devices = min;
            for (long long e = 0; e <= 40; e++)
                for (long long f = 0; f <= e; f++) {
                    int want = e > 0 && f >= min && f * 100 >= pcts[k] * e;
                    ck_assert_msg(health_should_halt(&p, e, f) == want, "%d%% min %d: %lld/%lld",
                                  pcts[k], min, f, e);
                }
        }
    }
}
END_TEST

struct policy_case {
    const char *json;
    rf_err want;
    const char *needle;
};

static const struct policy_case policy_cases[] = {
    {"{}", RF_OK, NULL},
    {"null", RF_OK, NULL},
    {"{\"max_failure_rate\": 0.25}", RF_OK, NULL},
    {"{\"max_failure_rate\": 1}", RF_OK, NULL},
    {"{\"max_failure_rate\": 2}", RF_ERR_INVALID, "policy.max_failure_rate"},
    {"{\"max_failure_rate\": 0}", RF_ERR_INVALID, "policy.max_failure_rate"},
    {"{\"max_failure_rate\": -0.1}", RF_ERR_INVALID, "policy.max_failure_rate"},
    {"{\"max_failure_rate\": \"0.5\"}", RF_ERR_INVALID, "policy.max_failure_rate"},
    {"{\"min_failed_devices\": 0}", RF_ERR_INVALID, "policy.min_failed_devices"},
    {"{\"min_failed_devices\": 1.5}", RF_ERR_INVALID, "policy.min_failed_devices"},
    {"{\"min_failed_devices\": 99}", RF_OK, NULL},
    {"{\"on_halt\": \"pause\"}", RF_OK, NULL},
    {"{\"on_halt\": \"explode\"}", RF_ERR_INVALID, "policy.on_halt"},
    {"{\"on_halt\": 1}", RF_ERR_INVALID, "policy.on_halt"},
    {"{\"health_window_s\": 0}", RF_OK, NULL},
    {"{\"health_window_s\": -1}", RF_ERR_INVALID, "policy.health_window_s"},
    {"{\"health_window_s\": 604801}", RF_ERR_INVALID, "policy.health_window_s"},
    {"{\"silence_intervals\": 0}", RF_ERR_INVALID, "policy.silence_intervals"},
    {"{\"silence_intervals\": true}", RF_ERR_INVALID, "policy.silence_intervals"},
    {"{\"bogus\": 1}", RF_ERR_INVALID, "field 'policy.bogus': unknown field"},
    {"{\"max_failure_rate\": 0.2, \"bogus\": 1}", RF_ERR_INVALID, "bogus"},
    {"[1]", RF_ERR_INVALID, "field 'policy': must be an object"},
};

START_TEST(policy_parsing)
{
    for (size_t i = 0; i < sizeof(policy_cases) / sizeof(policy_cases[0]); i++) {
        const struct policy_case *c = &policy_cases[i];
        json_t *j = json_loads(c->json, JSON_DECODE_ANY, NULL);
        ck_assert_ptr_nonnull(j);
        health_policy p, before;
        health_policy_default(&p);
        before = p;
        rf_error e = {0};
        rf_err rc = health_policy_parse(j, "policy", &p, &e);
        ck_assert_msg(rc == c->want, "case %zu: %s", i, e.message);
        if (c->needle)
            ck_assert_msg(strstr(e.message, c->needle) != NULL, "case %zu: '%s'", i, e.message);
        if (rc != RF_OK)
            ck_assert_mem_eq(&p, &before, sizeof(p));
        json_decref(j);
    }
}
END_TEST

START_TEST(policy_round_trip)
{
    health_policy p;
    health_policy_default(&p);
    ck_assert(p.max_failure_rate == 0.5);
    ck_assert_int_eq(p.min_failed_devices, 1);
    ck_assert_int_eq(p.on_halt, HEALTH_ON_HALT_REVERT);
    ck_assert_int_eq(p.health_window_s, 30);
    ck_assert_int_eq(p.silence_intervals, 3);
    p.max_failure_rate = 0.25;
    p.min_failed_devices = 4;
    p.on_halt = HEALTH_ON_HALT_PAUSE;
    p.health_window_s = 120;
    p.silence_intervals = 5;
    json_t *j = health_policy_to_json(&p);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(json_string_value(json_object_get(j, "on_halt")), "pause");
    health_policy q;
    health_policy_default(&q);
    ck_assert_int_eq(health_policy_parse(j, "policy", &q, NULL), RF_OK);
    ck_assert_mem_eq(&p, &q, sizeof(p));
    json_decref(j);
}
END_TEST

START_TEST(names)
{
    for (int s = 0; s < HEALTH_DEV_NSTATES; s++) {
        health_dev_state out;
        ck_assert_int_eq(health_dev_state_parse(health_dev_state_name((health_dev_state)s), &out),
                         0);
        ck_assert_int_eq(out, s);
    }
    for (int f = 1; f < HEALTH_FAIL_N; f++) {
        health_failure out;
        ck_assert_int_eq(health_failure_parse(health_failure_name((health_failure)f), &out), 0);
        ck_assert_int_eq(out, f);
    }
    health_dev_state s;
    ck_assert_int_eq(health_dev_state_parse("exploded", &s), -1);
    health_failure f;
    ck_assert_int_eq(health_failure_parse("", &f), -1);
    ck_assert_str_eq(health_failure_name(HEALTH_FAIL_SILENT), "silent");
    ck_assert_str_eq(health_failure_name(HEALTH_FAIL_UNCLEAN_BOOT), "unclean_boot");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("health");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, failure_classification);
    tcase_add_test(tc, no_bundle_never_matches);
    tcase_add_test(tc, exposed_activated_healthy);
    tcase_add_test(tc, first_report_running_it);
    tcase_add_test(tc, healthy_needs_active_report);
    tcase_add_test(tc, failed_stays_failed);
    tcase_add_test(tc, silence_boundaries);
    tcase_add_test(tc, halt_decision);
    tcase_add_test(tc, halt_decision_exhaustive);
    tcase_add_test(tc, policy_parsing);
    tcase_add_test(tc, policy_round_trip);
    tcase_add_test(tc, names);
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
