/* The process-wide metrics registry and its Prometheus text rendering (see
 * metrics.h). Every family sits behind one mutex held only for a few loads
 * and stores; series tables are fixed-size, and a series that does not fit
 * is counted under route "other" rather than allocated. It never labels a
 * series with anything a client chose beyond the bounded route templates,
 * standard methods and status codes. */
#include "metrics.h"
#include "rf_util.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define MAX_ROUTE_SERIES 512
#define MAX_LAT_SERIES 256
#define MAX_STAGES 256
#define LAT_NB 15
#define BATCH_NB 10
#define POOL_NB 10
#define TICK_NB 10

static const double lat_bounds[LAT_NB] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                          0.5,   1,      2.5,   5,    10,    30,   60};
static const double batch_bounds[BATCH_NB] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000};
static const double pool_bounds[POOL_NB] = {0.0001, 0.0005, 0.001, 0.005, 0.01,
                                            0.05,   0.1,    0.5,   1,     5};
static const double tick_bounds[TICK_NB] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5};

static const char *const methods[] = {"GET", "POST", "PUT", "DELETE", "HEAD", "OTHER"};
#define NMETHODS 6
static const char *const decisions[METRICS_NDECISIONS] = {"hold", "promote", "halt", "silent",
                                                          "error"};
static const char *const gauge_names[METRICS_NGAUGES][2] = {
    {"ringfence_longpoll_connections", "Requests held open by a long-poll now."},
    {"ringfence_event_streams", "Server-Sent Events streams open now."},
};

typedef struct hist {
    uint64_t counts[LAT_NB + 1];
    double sum;
} hist;

typedef struct route_series {
    const char *route; /* static; NULL = unmatched */
    int method, status;
    uint64_t n;
} route_series;

typedef struct lat_series {
    const char *route;
    int method;
    hist h;
} lat_series;

typedef struct stage_entry {
    metrics_stage s;
    uint64_t tick;
} stage_entry;

static struct registry {
    pthread_mutex_t mu;
    route_series routes[MAX_ROUTE_SERIES];
    int nroutes;
    uint64_t routes_dropped;
    lat_series lat[MAX_LAT_SERIES];
    int nlat;
    long long gauges[METRICS_NGAUGES];
    uint64_t hb_stored, hb_dup, hb_rejected;
    hist hb_batch;
    uint64_t decisions[METRICS_NDECISIONS];
    hist ticks;
    uint64_t nticks;
    hist pool_wait;
    uint64_t pool_exhausted;
    stage_entry stages[MAX_STAGES];
    int nstages;
} reg = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* ---- pure formatting ---- */

static rf_err escape(rf_buf *b, const char *s, int quote)
{
    rf_err rc = RF_OK;

    for (; s && *s && rc == RF_OK; s++) {
        if (*s == '\\')
            rc = rf_buf_append_str(b, "\\\\");
        else if (*s == '\n')
            rc = rf_buf_append_str(b, "\\n");
        else if (*s == '"' && quote)
            rc = rf_buf_append_str(b, "\\\"");
        else
            rc = rf_buf_append(b, s, 1);
    }
    return rc;
}

rf_err metrics_fmt_family(rf_buf *b, const char *name, const char *type, const char *help)
{
    rf_err rc = rf_buf_printf(b, "# HELP %s ", name);

    if (rc == RF_OK)
        rc = escape(b, help, 0);
    if (rc == RF_OK)
        rc = rf_buf_printf(b, "\n# TYPE %s %s\n", name, type);
    return rc;
}

static rf_err fmt_value(rf_buf *b, double v)
{
    if (isnan(v))
        return rf_buf_append_str(b, "NaN");
    if (isinf(v))
        return rf_buf_append_str(b, v > 0 ? "+Inf" : "-Inf");
    if (v > -1e15 && v < 1e15 && v == (double)(long long)v)
        return rf_buf_printf(b, "%lld", (long long)v);
    return rf_buf_printf(b, "%.15g", v);
}

static rf_err fmt_labels(rf_buf *b, const metrics_label *labels, int n, const char *le)
{
    rf_err rc = RF_OK;
    int any = 0;

    for (int i = 0; rc == RF_OK && i < n; i++) {
        rc = rf_buf_printf(b, "%s%s=\"", any ? "," : "{", labels[i].name);
        if (rc == RF_OK)
            rc = escape(b, labels[i].value, 1);
        if (rc == RF_OK)
            rc = rf_buf_append_str(b, "\"");
        any = 1;
    }
    if (rc == RF_OK && le)
        rc = rf_buf_printf(b, "%sle=\"%s\"", any ? "," : "{", le);
    if (rc == RF_OK && (any || le))
        rc = rf_buf_append_str(b, "}");
    return rc;
}

rf_err metrics_fmt_sample(rf_buf *b, const char *name, const char *suffix,
                          const metrics_label *labels, int nlabels, double value)
{
    rf_err rc = rf_buf_printf(b, "%s%s", name, suffix ? suffix : "");

    if (rc == RF_OK)
        rc = fmt_labels(b, labels, nlabels, NULL);
    if (rc == RF_OK)
        rc = rf_buf_append_str(b, " ");
    if (rc == RF_OK)
        rc = fmt_value(b, value);
    if (rc == RF_OK)
        rc = rf_buf_append_str(b, "\n");
    return rc;
}

rf_err metrics_fmt_histogram(rf_buf *b, const char *name, const metrics_label *labels, int nlabels,
                             const double *bounds, int nbounds, const uint64_t *counts, double sum)
{
    uint64_t cum = 0;
    rf_err rc = RF_OK;

    for (int i = 0; rc == RF_OK && i <= nbounds; i++) {
        char le[40];
        cum += counts[i];
        if (i < nbounds)
            snprintf(le, sizeof(le), "%.15g", bounds[i]);
        else
            snprintf(le, sizeof(le), "+Inf");
        rc = rf_buf_printf(b, "%s_bucket", name);
        if (rc == RF_OK)
            rc = fmt_labels(b, labels, nlabels, le);
        if (rc == RF_OK)
            rc = rf_buf_printf(b, " %llu\n", (unsigned long long)cum);
    }
    if (rc == RF_OK)
        rc = metrics_fmt_sample(b, name, "_sum", labels, nlabels, sum);
    if (rc == RF_OK)
        rc = metrics_fmt_sample(b, name, "_count", labels, nlabels, (double)cum);
    return rc;
}

void metrics_route_label(const char *tmpl, char *out, size_t n)
{
    size_t j = 0;
    const char *p = tmpl ? tmpl : "unmatched";

    if (n == 0)
        return;
    if (tmpl && tmpl[0] != '/') {
        const char *pre = "/v1/";
        for (; *pre && j + 1 < n; pre++)
            out[j++] = *pre;
    }
    for (; *p && j + 1 < n; p++) {
        if (*p == '*' && j + 5 < n) {
            memcpy(out + j, "{id}", 4);
            j += 4;
        } else if (*p != '*') {
            out[j++] = *p;
        }
    }
    out[j] = '\0';
}

/* ---- recording ---- */

static void hist_add(hist *h, const double *bounds, int nb, double v)
{
    int i = 0;

    while (i < nb && v > bounds[i])
        i++;
    h->counts[i]++;
    h->sum += v;
}

static int method_idx(const char *m)
{
    for (int i = 0; m && i < NMETHODS - 1; i++)
        if (strcmp(m, methods[i]) == 0)
            return i;
    return NMETHODS - 1;
}

static route_series *route_slot(const char *route, int method, int status)
{
    for (int i = 0; i < reg.nroutes; i++) {
        route_series *s = &reg.routes[i];
        if (s->route == route && s->method == method && s->status == status)
            return s;
    }
    if (reg.nroutes == MAX_ROUTE_SERIES)
        return NULL;
    reg.routes[reg.nroutes] = (route_series){route, method, status, 0};
    return &reg.routes[reg.nroutes++];
}

static lat_series *lat_slot(const char *route, int method)
{
    for (int i = 0; i < reg.nlat; i++)
        if (reg.lat[i].route == route && reg.lat[i].method == method)
            return &reg.lat[i];
    if (reg.nlat == MAX_LAT_SERIES)
        return NULL;
    memset(&reg.lat[reg.nlat], 0, sizeof(reg.lat[0]));
    reg.lat[reg.nlat].route = route;
    reg.lat[reg.nlat].method = method;
    return &reg.lat[reg.nlat++];
}

void metrics_http_done(const char *route, const char *method, int status, double seconds)
{
    int m = method_idx(method);
    route_series *rs;
    lat_series *ls;

    if (status < 100 || status > 599)
        status = 0;
    pthread_mutex_lock(&reg.mu);
    rs = route_slot(route, m, status);
    if (rs)
        rs->n++;
    else
        reg.routes_dropped++;
    ls = lat_slot(route, m);
    if (ls)
        hist_add(&ls->h, lat_bounds, LAT_NB, seconds);
    pthread_mutex_unlock(&reg.mu);
}

void metrics_gauge_add(metrics_gauge g, int delta)
{
    if ((int)g < 0 || g >= METRICS_NGAUGES)
        return;
    pthread_mutex_lock(&reg.mu);
    reg.gauges[g] += delta;
    pthread_mutex_unlock(&reg.mu);
}

void metrics_heartbeat_batch(unsigned n, unsigned dup)
{
    pthread_mutex_lock(&reg.mu);
    reg.hb_stored += n >= dup ? n - dup : 0;
    reg.hb_dup += dup;
    hist_add(&reg.hb_batch, batch_bounds, BATCH_NB, (double)n);
    pthread_mutex_unlock(&reg.mu);
}

void metrics_heartbeat_rejected(void)
{
    pthread_mutex_lock(&reg.mu);
    reg.hb_rejected++;
    pthread_mutex_unlock(&reg.mu);
}

void metrics_evaluator_decision(metrics_decision d, unsigned count)
{
    if ((int)d < 0 || d >= METRICS_NDECISIONS)
        return;
    pthread_mutex_lock(&reg.mu);
    reg.decisions[d] += count;
    pthread_mutex_unlock(&reg.mu);
}

void metrics_evaluator_tick(double seconds)
{
    pthread_mutex_lock(&reg.mu);
    hist_add(&reg.ticks, tick_bounds, TICK_NB, seconds);
    reg.nticks++;
    pthread_mutex_unlock(&reg.mu);
}

void metrics_pool_acquire(double seconds, int ok)
{
    pthread_mutex_lock(&reg.mu);
    hist_add(&reg.pool_wait, pool_bounds, POOL_NB, seconds);
    if (!ok)
        reg.pool_exhausted++;
    pthread_mutex_unlock(&reg.mu);
}

void metrics_stage_set(const metrics_stage *s)
{
    int i;

    pthread_mutex_lock(&reg.mu);
    /* Drop what the last finished tick did not set, to make room. */
    for (i = 0; i < reg.nstages;) {
        if (reg.stages[i].tick + 1 < reg.nticks)
            reg.stages[i] = reg.stages[--reg.nstages];
        else
            i++;
    }
    for (i = 0; i < reg.nstages; i++)
        if (reg.stages[i].s.rollout_id == s->rollout_id && reg.stages[i].s.stage == s->stage)
            break;
    if (i < MAX_STAGES) {
        reg.stages[i].s = *s;
        reg.stages[i].tick = reg.nticks;
        if (i == reg.nstages)
            reg.nstages++;
    }
    pthread_mutex_unlock(&reg.mu);
}

void metrics_reset(void)
{
    pthread_mutex_lock(&reg.mu);
    reg.nroutes = reg.nlat = reg.nstages = 0;
    reg.routes_dropped = 0;
    memset(reg.gauges, 0, sizeof(reg.gauges));
    reg.hb_stored = reg.hb_dup = reg.hb_rejected = 0;
    memset(&reg.hb_batch, 0, sizeof(reg.hb_batch));
    memset(reg.decisions, 0, sizeof(reg.decisions));
    memset(&reg.ticks, 0, sizeof(reg.ticks));
    reg.nticks = 0;
    memset(&reg.pool_wait, 0, sizeof(reg.pool_wait));
    reg.pool_exhausted = 0;
    pthread_mutex_unlock(&reg.mu);
}

/* ---- rendering (under reg.mu) ---- */

static rf_err render_http(rf_buf *b)
{
    char route[160], status[8];
    rf_err rc = metrics_fmt_family(b, "ringfence_http_requests_total", "counter",
                                   "HTTP requests answered, by route template, method and status.");

    for (int i = 0; rc == RF_OK && i < reg.nroutes; i++) {
        const route_series *s = &reg.routes[i];
        metrics_route_label(s->route, route, sizeof(route));
        snprintf(status, sizeof(status), "%d", s->status);
        metrics_label l[] = {{"route", route}, {"method", methods[s->method]}, {"code", status}};
        rc = metrics_fmt_sample(b, "ringfence_http_requests_total", NULL, l, 3, (double)s->n);
    }
    if (rc == RF_OK)
        rc = metrics_fmt_family(b, "ringfence_http_requests_dropped_total", "counter",
                                "HTTP requests not counted by route: the series table was full.");
    if (rc == RF_OK)
        rc = metrics_fmt_sample(b, "ringfence_http_requests_dropped_total", NULL, NULL, 0,
                                (double)reg.routes_dropped);
    if (rc == RF_OK)
        rc = metrics_fmt_family(b, "ringfence_http_request_duration_seconds", "histogram",
                                "Time from a request's arrival to its answer, by route "
                                "template and method (long-polls included).");
    for (int i = 0; rc == RF_OK && i < reg.nlat; i++) {
        const lat_series *s = &reg.lat[i];
        metrics_route_label(s->route, route, sizeof(route));
        metrics_label l[] = {{"route", route}, {"method", methods[s->method]}};
        rc = metrics_fmt_histogram(b, "ringfence_http_request_duration_seconds", l, 2, lat_bounds,
                                   LAT_NB, s->h.counts, s->h.sum);
    }
    return rc;
}

static rf_err render_counter(rf_buf *b, const char *name, const char *help, double v)
{
    rf_err rc = metrics_fmt_family(b, name, "counter", help);

    return rc == RF_OK ? metrics_fmt_sample(b, name, NULL, NULL, 0, v) : rc;
}

static rf_err render_gauge(rf_buf *b, const char *name, const char *help, double v)
{
    rf_err rc = metrics_fmt_family(b, name, "gauge", help);

    return rc == RF_OK ? metrics_fmt_sample(b, name, NULL, NULL, 0, v) : rc;
}

static rf_err render_ingest(rf_buf *b)
{
    static const char *hb = "ringfence_heartbeats_total";
    metrics_label stored[] = {{"result", "stored"}}, dup[] = {{"result", "duplicate"}},
                  rej[] = {{"result", "rejected"}};
    rf_err rc = metrics_fmt_family(b, hb, "counter",
                                   "Heartbeats received: stored, duplicate (already stored), "
                                   "rejected (bad input or refused).");

    if (rc == RF_OK)
        rc = metrics_fmt_sample(b, hb, NULL, stored, 1, (double)reg.hb_stored);
    if (rc == RF_OK)
        rc = metrics_fmt_sample(b, hb, NULL, dup, 1, (double)reg.hb_dup);
    if (rc == RF_OK)
        rc = metrics_fmt_sample(b, hb, NULL, rej, 1, (double)reg.hb_rejected);
    if (rc == RF_OK)
        rc = metrics_fmt_family(b, "ringfence_heartbeat_batch_size", "histogram",
                                "Heartbeats committed together in one database transaction.");
    if (rc == RF_OK)
        rc = metrics_fmt_histogram(b, "ringfence_heartbeat_batch_size", NULL, 0, batch_bounds,
                                   BATCH_NB, reg.hb_batch.counts, reg.hb_batch.sum);
    return rc;
}

static rf_err render_evaluator(rf_buf *b)
{
    static const char *dn = "ringfence_evaluator_decisions_total";
    rf_err rc = metrics_fmt_family(b, dn, "counter",
                                   "Evaluator decisions per rollout and tick: hold (nothing to "
                                   "do), promote, halt, silent (devices counted failed for "
                                   "silence), error.");

    for (int i = 0; rc == RF_OK && i < METRICS_NDECISIONS; i++) {
        metrics_label l[] = {{"decision", decisions[i]}};
        rc = metrics_fmt_sample(b, dn, NULL, l, 1, (double)reg.decisions[i]);
    }
    if (rc == RF_OK)
        rc = metrics_fmt_family(b, "ringfence_evaluator_tick_seconds", "histogram",
                                "Time one evaluator tick took, over every live rollout.");
    if (rc == RF_OK)
        rc = metrics_fmt_histogram(b, "ringfence_evaluator_tick_seconds", NULL, 0, tick_bounds,
                                   TICK_NB, reg.ticks.counts, reg.ticks.sum);
    return rc;
}

typedef struct stage_family {
    const char *name, *help;
    int field; /* 0 rate, 1 control, 2 threshold, 3 exposed, 4 failed, 5 healthy */
} stage_family;

static const stage_family stage_families[] = {
    {"ringfence_stage_failure_rate", "Failed over exposed devices of a live rollout's stage.", 0},
    {"ringfence_stage_control_failure_rate",
     "Failure rate of the stage's control: devices on the channel not exposed to the rollout.", 1},
    {"ringfence_stage_halt_threshold", "The failure rate at which the stage halts.", 2},
    {"ringfence_stage_exposed_devices", "Devices exposed to the rollout in the stage.", 3},
    {"ringfence_stage_failed_devices", "Distinct failed devices of the stage.", 4},
    {"ringfence_stage_healthy_devices", "Healthy devices of the stage.", 5},
};

static double stage_value(const metrics_stage *s, int field)
{
    switch (field) {
    case 0:
        return s->failure_rate;
    case 1:
        return s->control_rate;
    case 2:
        return s->threshold;
    case 3:
        return (double)s->exposed;
    case 4:
        return (double)s->failed;
    default:
        return (double)s->healthy;
    }
}

static rf_err render_stages(rf_buf *b)
{
    rf_err rc = RF_OK;

    for (size_t f = 0; rc == RF_OK && f < sizeof(stage_families) / sizeof(stage_families[0]); f++) {
        rc = metrics_fmt_family(b, stage_families[f].name, "gauge", stage_families[f].help);
        for (int i = 0; rc == RF_OK && i < reg.nstages; i++) {
            const metrics_stage *s = &reg.stages[i].s;
            char rid[24], st[12];
            if (reg.stages[i].tick + 1 < reg.nticks)
                continue;
            snprintf(rid, sizeof(rid), "%lld", s->rollout_id);
            snprintf(st, sizeof(st), "%d", s->stage);
            metrics_label l[] = {
                {"rollout_id", rid}, {"stage", st}, {"channel", s->channel}, {"ring", s->ring}};
            rc = metrics_fmt_sample(b, stage_families[f].name, NULL, l, 4,
                                    stage_value(s, stage_families[f].field));
        }
    }
    return rc;
}

static rf_err render_pool(rf_buf *b, const metrics_pool *pool)
{
    static const char *pc = "ringfence_db_pool_connections";
    metrics_label used[] = {{"state", "in_use"}}, idle[] = {{"state", "idle"}};
    int size = pool ? pool->size : 0, in_use = pool ? pool->in_use : 0;
    rf_err rc =
        render_gauge(b, "ringfence_db_pool_size", "Database connections in the pool.", size);

    if (rc == RF_OK)
        rc = metrics_fmt_family(b, pc, "gauge", "Pool connections checked out or idle now.");
    if (rc == RF_OK)
        rc = metrics_fmt_sample(b, pc, NULL, used, 1, in_use);
    if (rc == RF_OK)
        rc = metrics_fmt_sample(b, pc, NULL, idle, 1, size - in_use);
    if (rc == RF_OK)
        rc = metrics_fmt_family(b, "ringfence_db_pool_acquire_seconds", "histogram",
                                "Time spent waiting for a pool connection.");
    if (rc == RF_OK)
        rc = metrics_fmt_histogram(b, "ringfence_db_pool_acquire_seconds", NULL, 0, pool_bounds,
                                   POOL_NB, reg.pool_wait.counts, reg.pool_wait.sum);
    if (rc == RF_OK)
        rc = render_counter(b, "ringfence_db_pool_exhausted_total",
                            "Checkouts that found no free connection in time.",
                            (double)reg.pool_exhausted);
    return rc;
}

rf_err metrics_render(rf_buf *b, const metrics_pool *pool)
{
    metrics_label ver[] = {{"version", RF_VERSION}};
    rf_err rc;

    pthread_mutex_lock(&reg.mu);
    rc = metrics_fmt_family(b, "ringfence_build_info", "gauge", "The running ringfenced version.");
    if (rc == RF_OK)
        rc = metrics_fmt_sample(b, "ringfence_build_info", NULL, ver, 1, 1);
    if (rc == RF_OK)
        rc = render_http(b);
    for (int g = 0; rc == RF_OK && g < METRICS_NGAUGES; g++)
        rc = render_gauge(b, gauge_names[g][0], gauge_names[g][1], (double)reg.gauges[g]);
    if (rc == RF_OK)
        rc = render_ingest(b);
    if (rc == RF_OK)
        rc = render_evaluator(b);
    if (rc == RF_OK)
        rc = render_stages(b);
    if (rc == RF_OK)
        rc = render_pool(b, pool);
    pthread_mutex_unlock(&reg.mu);
    return rc;
}
