/* Process-wide metrics for GET /metrics: counters, gauges and histograms that
 * the HTTP layer, the pool, heartbeat ingest, the evaluator and the streams
 * update from any thread, and the Prometheus text rendering of them. The
 * recording functions never fail and never allocate after a series exists;
 * label values are bounded (route templates, never raw paths or ids from
 * requests). The formatting helpers are pure, so tests can check the text. */
#ifndef RF_METRICS_H
#define RF_METRICS_H

#include "rf_buf.h"
#include <stddef.h>
#include <stdint.h>

/* ---- pure formatting (Prometheus text exposition format 0.0.4) ---- */

typedef struct metrics_label {
    const char *name;  /* [a-zA-Z_][a-zA-Z0-9_]* */
    const char *value; /* escaped on output: \ " and newline */
} metrics_label;

/* "# HELP name help\n# TYPE name type\n" (help escaped: \ and newline). */
rf_err metrics_fmt_family(rf_buf *b, const char *name, const char *type, const char *help);
/* One sample line: name[suffix]{labels} value. Integral values are written
 * without a fraction; NaN and infinities as Prometheus spells them. */
rf_err metrics_fmt_sample(rf_buf *b, const char *name, const char *suffix,
                          const metrics_label *labels, int nlabels, double value);
/* A histogram's lines: _bucket{…,le="…"} (cumulative, ending with +Inf),
 * _sum and _count. counts has nbounds + 1 entries, per bucket (not yet
 * cumulative); the last is the overflow above the largest bound. */
rf_err metrics_fmt_histogram(rf_buf *b, const char *name, const metrics_label *labels, int nlabels,
                             const double *bounds, int nbounds, const uint64_t *counts, double sum);
/* The label value of a route template: "rollouts/<star>/health" becomes
 * "/v1/rollouts/{id}/health"; a template already starting with '/' is kept. */
void metrics_route_label(const char *tmpl, char *out, size_t n);

/* ---- recording (thread-safe) ---- */

typedef enum metrics_gauge {
    METRICS_LONGPOLL = 0, /* suspended long-poll requests */
    METRICS_STREAMS,      /* open Server-Sent Events streams */
    METRICS_NGAUGES
} metrics_gauge;

typedef enum metrics_decision {
    METRICS_DECIDE_HOLD = 0, /* evaluated, nothing to do */
    METRICS_DECIDE_PROMOTE,
    METRICS_DECIDE_HALT,
    METRICS_DECIDE_SILENT, /* devices marked failed for silence */
    METRICS_DECIDE_ERROR,  /* the rollout could not be evaluated */
    METRICS_NDECISIONS
} metrics_decision;

/* One finished HTTP request. route is a static template from the router
 * (rf_api_route_of) or NULL for an unknown one; method is copied only when
 * it is a standard one (others count as "OTHER"). */
void metrics_http_done(const char *route, const char *method, int status, double seconds);
void metrics_gauge_add(metrics_gauge g, int delta);
/* One committed batch of heartbeats: n stored, dup duplicates; rejected ones
 * (bad input, refused) go through metrics_heartbeat_rejected. */
void metrics_heartbeat_batch(unsigned n, unsigned dup);
void metrics_heartbeat_rejected(void);
void metrics_evaluator_decision(metrics_decision d, unsigned count);
/* Ends one evaluator tick that took `seconds`. */
void metrics_evaluator_tick(double seconds);
/* One pool checkout: how long it waited and whether it got a connection. */
void metrics_pool_acquire(double seconds, int ok);

/* The latest figures of one stage of a live rollout, set by the evaluator
 * during every tick; a stage not set during the last finished tick (or the
 * one under way) is dropped from the output: its rollout is no longer live. */
typedef struct metrics_stage {
    long long rollout_id;
    int stage;
    char channel[65];
    char ring[65];
    long long exposed, failed, healthy;
    double failure_rate, control_rate, threshold;
} metrics_stage;
void metrics_stage_set(const metrics_stage *s);

/* Pool figures read at render time. */
typedef struct metrics_pool {
    int size, in_use;
} metrics_pool;

/* Renders every family into b. */
rf_err metrics_render(rf_buf *b, const metrics_pool *pool);

/* Forgets everything (tests). */
void metrics_reset(void);

#endif
