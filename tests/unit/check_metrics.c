/* Unit tests of the dashboard's pure parts: the Prometheus text formatting
 * and the registry's rendering (metrics.c), route labels, the fleet health
 * classification (api_fleet.c), the health points of a stage
 * (stage_series.c) and the embedded dashboard files (dashboard.c). */
#include "api_dash.h"
#include "dashboard.h"
#include "metrics.h"
#include "stage_series.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static rf_buf buf;

static void setup(void)
{
    rf_buf_init(&buf, 1 << 20);
    metrics_reset();
}

static void teardown(void)
{
    rf_buf_cleanup(&buf);
}

static const char *text(void)
{
    return buf.data ? buf.data : "";
}

START_TEST(sample_escapes_and_formats)
{
    metrics_label l[] = {{"route", "a\"b\\c\nd"}, {"code", "200"}};

    ck_assert_int_eq(metrics_fmt_sample(&buf, "x_total", NULL, l, 2, 42), RF_OK);
    ck_assert_str_eq(text(), "x_total{route=\"a\\\"b\\\\c\\nd\",code=\"200\"} 42\n");
    rf_buf_reset(&buf);
    ck_assert_int_eq(metrics_fmt_sample(&buf, "y", "_sum", NULL, 0, 0.25), RF_OK);
    ck_assert_str_eq(text(), "y_sum 0.25\n");
    rf_buf_reset(&buf);
    metrics_fmt_sample(&buf, "z", NULL, NULL, 0, NAN);
    metrics_fmt_sample(&buf, "z", NULL, NULL, 0, INFINITY);
    metrics_fmt_sample(&buf, "z", NULL, NULL, 0, -3);
    ck_assert_str_eq(text(), "z NaN\nz +Inf\nz -3\n");
}
END_TEST

START_TEST(family_escapes_help)
{
    ck_assert_int_eq(metrics_fmt_family(&buf, "m", "gauge", "one\\two\nthree \"q\""), RF_OK);
    ck_assert_str_eq(text(), "# HELP m one\\\\two\\nthree \"q\"\n# TYPE m gauge\n");
}
END_TEST

START_TEST(histogram_is_cumulative)
{
    const double bounds[] = {0.1, 1};
    const uint64_t counts[] = {2, 3, 1};
    metrics_label l[] = {{"route", "/x"}};

    ck_assert_int_eq(metrics_fmt_histogram(&buf, "h", l, 1, bounds, 2, counts, 4.5), RF_OK);
    ck_assert_str_eq(text(), "h_bucket{route=\"/x\",le=\"0.1\"} 2\n"
                             "h_bucket{route=\"/x\",le=\"1\"} 5\n"
                             "h_bucket{route=\"/x\",le=\"+Inf\"} 6\n"
                             "h_sum{route=\"/x\"} 4.5\n"
                             "h_count{route=\"/x\"} 6\n");
}
END_TEST

START_TEST(buffer_cap_is_an_error)
{
    rf_buf small;

    rf_buf_init(&small, 8);
    ck_assert_int_eq(metrics_fmt_sample(&small, "a_long_name", NULL, NULL, 0, 1), RF_ERR_TOO_LARGE);
    rf_buf_cleanup(&small);
}
END_TEST

static const struct {
    const char *tmpl, *want;
} route_cases[] = {
    {"rollouts/*/health/series", "/v1/rollouts/{id}/health/series"},
    {"fleet", "/v1/fleet"},
    {"/metrics", "/metrics"},
    {"/tuf/{path}", "/tuf/{path}"},
    {NULL, "unmatched"},
};

START_TEST(route_labels)
{
    char out[64];

    metrics_route_label(route_cases[_i].tmpl, out, sizeof(out));
    ck_assert_str_eq(out, route_cases[_i].want);
}
END_TEST

START_TEST(route_label_truncates)
{
    char out[8];

    metrics_route_label("rollouts/*/start", out, sizeof(out));
    ck_assert_str_eq(out, "/v1/rol");
}
END_TEST

START_TEST(render_counts_requests_and_gauges)
{
    metrics_pool pool = {8, 3};

    metrics_http_done("rollouts/*", "GET", 200, 0.003);
    metrics_http_done("rollouts/*", "GET", 200, 2.0);
    metrics_http_done("rollouts/*", "PATCH", 404, 0.001);
    metrics_http_done(NULL, "GET", 404, 0.001);
    metrics_gauge_add(METRICS_LONGPOLL, 2);
    metrics_gauge_add(METRICS_LONGPOLL, -1);
    metrics_heartbeat_batch(5, 1);
    metrics_heartbeat_rejected();
    metrics_evaluator_decision(METRICS_DECIDE_HALT, 1);
    metrics_pool_acquire(0.0002, 1);
    metrics_pool_acquire(2, 0);
    ck_assert_int_eq(metrics_render(&buf, &pool), RF_OK);
    ck_assert_ptr_nonnull(strstr(text(), "ringfence_http_requests_total{route=\"/v1/rollouts/"
                                         "{id}\",method=\"GET\",code=\"200\"} 2\n"));
    ck_assert_ptr_nonnull(strstr(text(), "method=\"OTHER\",code=\"404\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(text(), "{route=\"unmatched\",method=\"GET\",code=\"404\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(text(), "ringfence_http_request_duration_seconds_bucket{route=\"/"
                                         "v1/rollouts/{id}\",method=\"GET\",le=\"0.005\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(text(), "ringfence_http_request_duration_seconds_bucket{route=\"/"
                                         "v1/rollouts/{id}\",method=\"GET\",le=\"2.5\"} 2\n"));
    ck_assert_ptr_nonnull(strstr(text(), "ringfence_longpoll_connections 1\n"));
    ck_assert_ptr_nonnull(strstr(text(), "ringfence_heartbeats_total{result=\"stored\"} 4\n"));
    ck_assert_ptr_nonnull(strstr(text(), "ringfence_heartbeats_total{result=\"duplicate\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(text(), "ringfence_heartbeats_total{result=\"rejected\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(text(), "ringfence_heartbeat_batch_size_bucket{le=\"5\"} 1\n"));
    ck_assert_ptr_nonnull(
        strstr(text(), "ringfence_evaluator_decisions_total{decision=\"halt\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(text(), "ringfence_db_pool_connections{state=\"in_use\"} 3\n"));
    ck_assert_ptr_nonnull(strstr(text(), "ringfence_db_pool_connections{state=\"idle\"} 5\n"));
    ck_assert_ptr_nonnull(strstr(text(), "ringfence_db_pool_exhausted_total 1\n"));
}
END_TEST

START_TEST(stage_gauges_age_out_after_a_tick)
{
    metrics_stage s;
    metrics_pool pool = {1, 0};

    memset(&s, 0, sizeof(s));
    s.rollout_id = 4;
    s.stage = 1;
    snprintf(s.channel, sizeof(s.channel), "content");
    snprintf(s.ring, sizeof(s.ring), "early");
    s.failure_rate = 0.25;
    s.threshold = 0.5;
    metrics_stage_set(&s);
    metrics_evaluator_tick(0.01); /* the tick that set it ends */
    metrics_render(&buf, &pool);
    ck_assert_ptr_nonnull(strstr(text(),
                                 "ringfence_stage_failure_rate{rollout_id=\"4\",stage=\"1\","
                                 "channel=\"content\",ring=\"early\"} 0.25\n"));
    metrics_evaluator_tick(0.01); /* a whole tick without it: the rollout is no longer live */
    rf_buf_reset(&buf);
    metrics_render(&buf, &pool);
    ck_assert_ptr_null(strstr(text(), "rollout_id=\"4\""));
}
END_TEST

static const struct {
    const char *state;
    long long bundle, crashes, unclean, rollbacks;
    const char *want;
} health_cases[] = {
    {"committed", 3, 0, 0, 0, "healthy"},
    {"idle", 3, 0, 0, 0, "healthy"},
    {"trial", 3, 0, 0, 0, "trial"},
    {"installing", 0, 0, 0, 0, "installing"},
    {"idle", 0, 0, 0, 0, "none"},
    {"", 0, 0, 0, 0, "none"},
    {NULL, 0, 0, 0, 0, "none"},
    {"committed", 3, 1, 0, 0, "failed"},
    {"trial", 3, 0, 2, 0, "failed"},
    {"committed", 3, 0, 0, 1, "failed"},
    {"install_failed", 3, 0, 0, 0, "failed"},
    {"rolled_back", 3, 0, 0, 0, "failed"},
    {"verify_failed", 0, 0, 0, 0, "failed"},
};

START_TEST(fleet_health)
{
    const char *got =
        fleet_health_of(health_cases[_i].state, health_cases[_i].bundle, health_cases[_i].crashes,
                        health_cases[_i].unclean, health_cases[_i].rollbacks);
    ck_assert_str_eq(got, health_cases[_i].want);
}
END_TEST

START_TEST(series_point_rates_and_threshold)
{
    store_rollout *r = calloc(1, sizeof(*r));
    series_point p;

    ck_assert_ptr_nonnull(r);
    r->id = 9;
    r->policy.max_failure_rate = 0.5;
    r->sm.nstages = 2;
    r->sm.stage = 1;
    r->sm.stages[1].max_failure_rate = 0.1;
    r->info[0].counts = (health_counts){4, 2, 1, 0};
    r->info[1].counts = (health_counts){0, 0, 0, 0};
    stage_series_point(r, 0, 10, 1, &p);
    ck_assert_int_eq(p.rollout_id, 9);
    ck_assert_int_eq(p.exposed, 4);
    ck_assert(fabs(p.failure_rate - 0.25) < 1e-12);
    ck_assert(fabs(p.control_rate - 0.1) < 1e-12);
    ck_assert(fabs(p.threshold - 0.5) < 1e-12); /* the policy's */
    stage_series_point(r, 1, 0, 0, &p);
    ck_assert(p.failure_rate == 0 && p.control_rate == 0); /* nothing exposed: 0, not NaN */
    ck_assert(fabs(p.threshold - 0.1) < 1e-12);            /* the stage's own */
    free(r);
}
END_TEST

START_TEST(dashboard_files_are_embedded)
{
    const web_asset *page = dashboard_find("/");
    const web_asset *js = dashboard_find("/assets/app.js");
    const web_asset *uplot = dashboard_find("/assets/uPlot.iife.min.js");

    ck_assert_ptr_nonnull(page);
    ck_assert_str_eq(page->content_type, "text/html; charset=utf-8");
    ck_assert_ptr_nonnull(strstr((const char *)page->data, "/assets/app.js"));
    /* no inline script: every <script tag carries a src */
    for (const char *p = (const char *)page->data; (p = strstr(p, "<script")) != NULL; p++) {
        const char *src = strstr(p, "src="), *end = strchr(p, '>');
        ck_assert(src != NULL && end != NULL && src < end);
    }
    ck_assert_ptr_nonnull(js);
    ck_assert_str_eq(js->content_type, "text/javascript; charset=utf-8");
    ck_assert_ptr_nonnull(uplot);
    ck_assert_uint_gt(uplot->len, 10000);
    ck_assert_int_eq(strlen(page->etag), 34);
    ck_assert_ptr_null(dashboard_find("/assets/../index.html"));
    ck_assert_ptr_null(dashboard_find("/index.html"));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *t = tcase_create("core");

    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, sample_escapes_and_formats);
    tcase_add_test(t, family_escapes_help);
    tcase_add_test(t, histogram_is_cumulative);
    tcase_add_test(t, buffer_cap_is_an_error);
    tcase_add_loop_test(t, route_labels, 0, sizeof(route_cases) / sizeof(route_cases[0]));
    tcase_add_test(t, route_label_truncates);
    tcase_add_test(t, render_counts_requests_and_gauges);
    tcase_add_test(t, stage_gauges_age_out_after_a_tick);
    tcase_add_loop_test(t, fleet_health, 0, sizeof(health_cases) / sizeof(health_cases[0]));
    tcase_add_test(t, series_point_rates_and_threshold);
    tcase_add_test(t, dashboard_files_are_embedded);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(suite());
    int failed;

    srunner_run_all(r, CK_NORMAL);
    failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
