/* The evaluator's record of each live stage (stage_series.c): one health
 * point per started stage and tick for the time series, and the stage
 * gauges of /metrics. Kept apart from evaluator.c, which calls it once per
 * rollout after counting. */
#ifndef RF_STAGE_SERIES_H
#define RF_STAGE_SERIES_H

#include "health_stat.h"
#include "store_rollout.h"
#include "store_series.h"

/* The point of stage `stage` of r (figures filled in) with the control's
 * figures: failure rates (0 when nothing is exposed) and the stage's halt
 * threshold (its own max_failure_rate, else the policy's). Pure. */
void stage_series_point(const store_rollout *r, int stage, long long control_devices,
                        long long control_failed, series_point *out);

/* The sequential test of stage `stage` of r against the control (see
 * health_stat.h), under the policy with the stage's own max_failure_rate;
 * out->control_since_s is the stage's r->info[stage].control_since_s. Pure. */
void stage_series_stat(const store_rollout *r, int stage, long long control_devices,
                       long long control_failed, health_stat *out);

/* Records a point for every started stage of r, with each stage's control
 * figures as r->info[] holds them (store_series_control), and sets their
 * gauges. Errors are logged and otherwise ignored: the time series never
 * stops a halt. */
void stage_series_record(rf_db *db, const store_rollout *r);

#endif
