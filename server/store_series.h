/* The per-stage health time series (store_series.c, table
 * stage_health_points of migration 0004): the control figures of a rollout,
 * recording one point, and reading a rollout's points back. */
#ifndef RF_STORE_SERIES_H
#define RF_STORE_SERIES_H

#include "store.h"
#include <stdint.h>

typedef struct series_point {
    long long rollout_id;
    int stage;
    long long exposed, healthy, failed, silent;
    double failure_rate;
    long long control_devices, control_failed;
    double control_rate;
    double threshold;
    /* the sequential test (health_stat.h; 0 and "continue" when not run) */
    double statistic, statistic_threshold, safe_statistic, safe_threshold;
    const char *verdict; /* static string; NULL = "continue" */
} series_point;

/* The control group of every stage of r over that stage's window, into
 * r->info[s].control_devices, control_failed and control_since_s: the
 * devices reporting r's channel that are not exposed to the rollout, and how
 * many of them reported a new failure (device_channels.last_failure_at,
 * migration 0008: a crash, an unclean shutdown or a local rollback counted,
 * or a failed install or rollback) at or after the stage's window start
 * (health_control_since of the stage's start and first exposure, at the
 * database clock r->now_s). Reads the first exposures itself, so r needs
 * only its stages (store_rollout_get). */
struct store_rollout;
rf_err store_series_control(rf_db *db, struct store_rollout *r, rf_error *err);

/* Records p at the database's clock unless the stage's newest point has the
 * same figures and is younger than min_gap_s seconds; a point of the same
 * second is replaced (the last figures of a second win). *recorded tells
 * whether a row was written. */
rf_err store_series_record(rf_db *db, const series_point *p, int min_gap_s, int *recorded,
                           rf_error *err);

/* The points of rollout_id with at_s >= since_s, oldest first, at most limit
 * per stage (the newest ones), as a new reference to an object mapping the
 * stage index ("0", "1", …) to an array of point objects {"t", "at",
 * "exposed", "healthy", "failed", "silent", "failure_rate", "control_devices",
 * "control_failed", "control_rate", "threshold", "statistic",
 * "statistic_threshold", "safe_statistic", "safe_threshold", "verdict"}. */
rf_err store_series_list(rf_db *db, long long rollout_id, int64_t since_s, int limit, json_t **out,
                         rf_error *err);

#endif
