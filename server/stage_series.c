/* Per-stage health points for the time series and /metrics, taken by the
 * evaluator after it has counted a live rollout (see stage_series.h). A point
 * is written only when a stage's figures changed or every 30 s, so a long
 * bake costs little; the database keeps at most one per stage and second. It
 * decides nothing and never fails the evaluator. */
#include "stage_series.h"
#include "health.h"
#include "metrics.h"
#include "plan.h"
#include "rf_log.h"
#include "rf_util.h"

#include <string.h>

#define SERIES_MIN_GAP_S 30

void stage_series_stat(const store_rollout *r, int stage, long long control_devices,
                       long long control_failed, health_stat *out)
{
    health_policy p = r->policy;
    p.max_failure_rate = plan_stage_max_failure_rate(&r->sm.stages[stage], p.max_failure_rate);
    health_stat_eval(&p, r->info[stage].counts.exposed, r->info[stage].counts.failed,
                     control_devices, control_failed, out);
    out->control_since_s = r->info[stage].control_since_s;
}

void stage_series_point(const store_rollout *r, int stage, long long control_devices,
                        long long control_failed, series_point *out)
{
    const health_counts *c = &r->info[stage].counts;
    health_stat st;

    memset(out, 0, sizeof(*out));
    out->rollout_id = r->id;
    out->stage = stage;
    out->exposed = c->exposed;
    out->healthy = c->healthy;
    out->failed = c->failed;
    out->silent = c->silent;
    out->failure_rate = health_failure_rate(c->exposed, c->failed);
    out->control_devices = control_devices;
    out->control_failed = control_failed;
    out->control_rate = health_failure_rate(control_devices, control_failed);
    out->threshold = plan_stage_max_failure_rate(&r->sm.stages[stage], r->policy.max_failure_rate);
    stage_series_stat(r, stage, control_devices, control_failed, &st);
    out->statistic = st.statistic;
    out->statistic_threshold = st.upper;
    out->safe_statistic = st.safe_statistic;
    out->safe_threshold = st.safe_threshold;
    out->verdict = health_verdict_name(st.verdict);
}

static void publish(const store_rollout *r, const series_point *p)
{
    metrics_stage m;

    memset(&m, 0, sizeof(m));
    m.rollout_id = r->id;
    m.stage = p->stage;
    rf_snprintf(m.channel, sizeof(m.channel), "%s", r->channel);
    rf_snprintf(m.ring, sizeof(m.ring), "%s", r->info[p->stage].ring_name);
    m.exposed = p->exposed;
    m.failed = p->failed;
    m.healthy = p->healthy;
    m.failure_rate = p->failure_rate;
    m.control_rate = p->control_rate;
    m.threshold = p->threshold;
    metrics_stage_set(&m);
}

void stage_series_record(rf_db *db, const store_rollout *r)
{
    rf_error e = {0};
    rf_err rc = RF_OK;

    for (int s = 0; rc == RF_OK && s <= r->sm.stage && s < r->sm.nstages; s++) {
        series_point p;
        int recorded = 0;
        stage_series_point(r, s, r->info[s].control_devices, r->info[s].control_failed, &p);
        publish(r, &p);
        rc = store_series_record(db, &p, SERIES_MIN_GAP_S, &recorded, &e);
    }
    if (rc != RF_OK && rc != RF_ERR_UNAVAILABLE) {
        char id[24];
        rf_snprintf(id, sizeof(id), "%lld", r->id);
        rf_log(RF_LOG_WARN, "evaluator: health point not recorded", "rollout", id, "detail",
               e.message, NULL);
    }
}
