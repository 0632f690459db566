/* Named queries of the per-stage health time series: the control group's
 * figures, one conditional insert per stage and tick, and the read behind
 * GET /v1/rollouts/ID/health/series. Points are only ever added (and go with
 * their rollout); nothing here decides anything about health. */
#include "store_series.h"
#include "health.h"
#include "store_internal.h"
#include "store_rollout.h"
#include "rf_util.h"

#include <stdio.h>
#include <stdlib.h>

/* The first exposure of each stage of rollout $1, in seconds. */
#define FIRST_EXPOSURES_SQL                                                                        \
    "SELECT stage, floor(extract(epoch FROM min(exposed_at)))::bigint FROM exposures "             \
    "WHERE rollout_id = $1 GROUP BY stage"

/* Per window start of $3 (seconds, in order): the control devices of
 * rollout $1 on channel $2, and those whose last new failure is in the
 * window. The control set is read once for every window. */
#define CONTROL_SQL                                                                                \
    "WITH c AS MATERIALIZED (SELECT c.last_failure_at AS f FROM device_channels c "                \
    "WHERE c.channel = $2 AND NOT EXISTS (SELECT 1 FROM exposures e WHERE e.rollout_id = $1 "      \
    "AND e.device_id = c.device_id)) "                                                             \
    "SELECT w.i, (SELECT count(*) FROM c), "                                                       \
    "(SELECT count(*) FROM c WHERE c.f >= to_timestamp(w.s)) "                                     \
    "FROM unnest($3::bigint[]) WITH ORDINALITY AS w(s, i) ORDER BY w.i"

/* Sets r->info[s].control_since_s of every stage from its first exposure. */
static rf_err control_windows(rf_db *db, store_rollout *r, const char *rid, rf_error *err)
{
    int64_t first[ROLLOUT_MAX_STAGES] = {0};
    const char *p[] = {rid};
    PGresult *res = NULL;
    rf_err rc = store_exec(db, "series_first_exposures", FIRST_EXPOSURES_SQL, 1, p, &res, err);
    for (int i = 0; rc == RF_OK && i < PQntuples(res); i++) {
        long long st = store_get_ll(res, i, 0);
        if (st >= 0 && st < r->sm.nstages)
            first[st] = store_get_ll(res, i, 1);
    }
    PQclear(res);
    for (int s = 0; rc == RF_OK && s < r->sm.nstages; s++)
        r->info[s].control_since_s =
            health_control_since(r->sm.stages[s].started_s, first[s], r->now_s);
    return rc;
}

rf_err store_series_control(rf_db *db, store_rollout *r, rf_error *err)
{
    char rid[24];
    rf_buf starts;
    PGresult *res = NULL;
    rf_err rc;

    for (int s = 0; s < r->sm.nstages; s++)
        r->info[s].control_devices = r->info[s].control_failed = 0;
    if (r->sm.nstages <= 0)
        return RF_OK;
    rf_snprintf(rid, sizeof(rid), "%lld", r->id);
    rf_buf_init(&starts, 32 * ROLLOUT_MAX_STAGES);
    rc = control_windows(db, r, rid, err);
    for (int s = 0; rc == RF_OK && s < r->sm.nstages; s++)
        if (rf_buf_printf(&starts, "%s%lld", s ? "," : "{",
                          (long long)r->info[s].control_since_s) != RF_OK)
            rc = rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    if (rc == RF_OK && rf_buf_append_str(&starts, "}") != RF_OK)
        rc = rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    const char *p[] = {rid, r->channel, starts.data};
    if (rc == RF_OK)
        rc = store_exec(db, "series_control", CONTROL_SQL, 3, p, &res, err);
    for (int i = 0; rc == RF_OK && i < PQntuples(res); i++) {
        long long s = store_get_ll(res, i, 0) - 1;
        if (s < 0 || s >= r->sm.nstages)
            continue;
        r->info[s].control_devices = store_get_ll(res, i, 1);
        r->info[s].control_failed = store_get_ll(res, i, 2);
    }
    PQclear(res);
    rf_buf_cleanup(&starts);
    return rc;
}

#define RECORD_SQL                                                                                 \
    "INSERT INTO stage_health_points (rollout_id, stage, at_s, exposed, healthy, failed, "         \
    "silent, failure_rate, control_devices, control_failed, control_rate, threshold, "             \
    "statistic, statistic_threshold, safe_statistic, safe_threshold, verdict) "                    \
    "SELECT $1, $2, floor(extract(epoch FROM now()))::bigint, $3, $4, $5, $6, $7, $8, $9, $10, "   \
    "$11, $13, $14, $15, $16, $17 WHERE NOT EXISTS (SELECT 1 FROM (SELECT * FROM "                 \
    "stage_health_points "                                                                         \
    "WHERE rollout_id = $1 AND stage = $2 ORDER BY at_s DESC LIMIT 1) p "                          \
    "WHERE p.exposed = $3 AND p.healthy = $4 AND p.failed = $5 AND p.silent = $6 "                 \
    "AND p.control_devices = $8 AND p.control_failed = $9 AND p.threshold = $11 "                  \
    "AND p.verdict = $17 "                                                                         \
    "AND p.at_s > floor(extract(epoch FROM now()))::bigint - $12) "                                \
    "ON CONFLICT (rollout_id, stage, at_s) DO UPDATE SET exposed = $3, healthy = $4, "             \
    "failed = $5, silent = $6, failure_rate = $7, control_devices = $8, control_failed = $9, "     \
    "control_rate = $10, threshold = $11, statistic = $13, statistic_threshold = $14, "            \
    "safe_statistic = $15, safe_threshold = $16, verdict = $17"

rf_err store_series_record(rf_db *db, const series_point *p, int min_gap_s, int *recorded,
                           rf_error *err)
{
    char v[17][32];
    const char *params[17];
    PGresult *r = NULL;
    rf_err rc;

    snprintf(v[0], sizeof(v[0]), "%lld", p->rollout_id);
    snprintf(v[1], sizeof(v[1]), "%d", p->stage);
    snprintf(v[2], sizeof(v[2]), "%lld", p->exposed);
    snprintf(v[3], sizeof(v[3]), "%lld", p->healthy);
    snprintf(v[4], sizeof(v[4]), "%lld", p->failed);
    snprintf(v[5], sizeof(v[5]), "%lld", p->silent);
    snprintf(v[6], sizeof(v[6]), "%.17g", p->failure_rate);
    snprintf(v[7], sizeof(v[7]), "%lld", p->control_devices);
    snprintf(v[8], sizeof(v[8]), "%lld", p->control_failed);
    snprintf(v[9], sizeof(v[9]), "%.17g", p->control_rate);
    snprintf(v[10], sizeof(v[10]), "%.17g", p->threshold);
    snprintf(v[11], sizeof(v[11]), "%d", min_gap_s);
    snprintf(v[12], sizeof(v[12]), "%.17g", p->statistic);
    snprintf(v[13], sizeof(v[13]), "%.17g", p->statistic_threshold);
    snprintf(v[14], sizeof(v[14]), "%.17g", p->safe_statistic);
    snprintf(v[15], sizeof(v[15]), "%.17g", p->safe_threshold);
    snprintf(v[16], sizeof(v[16]), "%s", p->verdict ? p->verdict : "continue");
    for (int i = 0; i < 17; i++)
        params[i] = v[i];
    *recorded = 0;
    rc = store_exec(db, "series_record", RECORD_SQL, 17, params, &r, err);
    if (rc == RF_OK)
        *recorded = PQcmdTuples(r)[0] == '1';
    PQclear(r);
    return rc;
}

static json_t *point_json(const PGresult *r, int i)
{
    char iso[32];

    rf_time_iso(store_get_ll(r, i, 1), iso);
    json_t *j = json_pack(
        "{s:I,s:s,s:I,s:I,s:I,s:I,s:f,s:I,s:I,s:f,s:f}", "t", (json_int_t)store_get_ll(r, i, 1),
        "at", iso, "exposed", (json_int_t)store_get_ll(r, i, 2), "healthy",
        (json_int_t)store_get_ll(r, i, 3), "failed", (json_int_t)store_get_ll(r, i, 4), "silent",
        (json_int_t)store_get_ll(r, i, 5), "failure_rate", strtod(store_get(r, i, 6), NULL),
        "control_devices", (json_int_t)store_get_ll(r, i, 7), "control_failed",
        (json_int_t)store_get_ll(r, i, 8), "control_rate", strtod(store_get(r, i, 9), NULL),
        "threshold", strtod(store_get(r, i, 10), NULL));
    if (j != NULL)
        json_object_update_new(
            j, json_pack("{s:f,s:f,s:f,s:f,s:s}", "statistic", strtod(store_get(r, i, 11), NULL),
                         "statistic_threshold", strtod(store_get(r, i, 12), NULL), "safe_statistic",
                         strtod(store_get(r, i, 13), NULL), "safe_threshold",
                         strtod(store_get(r, i, 14), NULL), "verdict", store_get(r, i, 15)));
    return j;
}

rf_err store_series_list(rf_db *db, long long rollout_id, int64_t since_s, int limit, json_t **out,
                         rf_error *err)
{
    char rid[24], since[24], lim[16];
    const char *p[] = {rid, since, lim};
    PGresult *r = NULL;
    rf_err rc;

    *out = NULL;
    rf_snprintf(rid, sizeof(rid), "%lld", rollout_id);
    rf_snprintf(since, sizeof(since), "%lld", (long long)since_s);
    rf_snprintf(lim, sizeof(lim), "%d", limit);
    rc = store_exec(db, "series_list",
                    "SELECT stage, at_s, exposed, healthy, failed, silent, failure_rate, "
                    "control_devices, control_failed, control_rate, threshold, statistic, "
                    "statistic_threshold, safe_statistic, safe_threshold, verdict FROM "
                    "(SELECT *, row_number() OVER (PARTITION BY stage ORDER BY at_s DESC) AS n "
                    "FROM stage_health_points WHERE rollout_id = $1 AND at_s >= $2) q "
                    "WHERE n <= $3 ORDER BY stage, at_s",
                    3, p, &r, err);
    if (rc != RF_OK)
        return rc;
    *out = json_object();
    for (int i = 0; i < PQntuples(r); i++) {
        const char *stage = store_get(r, i, 0);
        json_t *arr = json_object_get(*out, stage);
        if (!arr) {
            arr = json_array();
            json_object_set_new(*out, stage, arr);
        }
        json_array_append_new(arr, point_json(r, i));
    }
    PQclear(r);
    return RF_OK;
}
