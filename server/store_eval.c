/* The evaluator's named queries: live rollouts, silence, a change
 * fingerprint, and the halt and auto-promotion writes. Every write is
 * conditional on what was read (the rollout's version, an exposure still
 * open), so several server instances evaluating at once apply each change
 * once. It decides nothing itself: health.c and rollout.c do. */
#include "store_rollout.h"
#include "health_stat.h"
#include "ring_index.h"
#include "store_internal.h"
#include "rf_log.h"
#include "rf_util.h"

#include <stdlib.h>
#include <string.h>

/* Exposures still open (neither healthy nor failed) with their device's
 * last report, interval, and the database clock. */
#define OPEN_EXPOSURES_SQL                                                                         \
    "SELECT e.device_id, coalesce(floor(extract(epoch FROM e.exposed_at))::bigint, 0), "           \
    "coalesce(floor(extract(epoch FROM d.last_seen_at))::bigint, 0), d.heartbeat_interval_s, "     \
    "floor(extract(epoch FROM now()))::bigint "                                                    \
    "FROM exposures e JOIN devices d ON d.id = e.device_id WHERE e.rollout_id = $1 "               \
    "AND e.failed_at IS NULL AND e.healthy_at IS NULL"

rf_err store_eval_live(rf_db *db, long long *ids, int max, int *n, rf_error *err)
{
    PGresult *res = NULL;
    *n = 0;
    rf_err rc = store_exec(db, "eval_live",
                           "SELECT id FROM rollouts WHERE state IN ('active', 'paused') "
                           "ORDER BY id",
                           0, NULL, &res, err);
    for (int i = 0; rc == RF_OK && i < PQntuples(res) && i < max; i++)
        ids[(*n)++] = store_get_ll(res, i, 0);
    PQclear(res);
    return rc;
}

rf_err store_eval_fingerprint(rf_db *db, char out[128], rf_error *err)
{
    PGresult *res = NULL;
    out[0] = '\0';
    rf_err rc = store_exec(db, "eval_fingerprint",
                           "SELECT (SELECT count(*) || ':' || coalesce(sum(version), 0) || ':' || "
                           "coalesce(max(updated_at)::text, '') FROM rollouts) || '/' || "
                           "(SELECT count(*) || ':' || coalesce(sum(version), 0) || ':' || "
                           "coalesce(max(id), 0) FROM rings) || '/' || "
                           "(SELECT count(*) || ':' || coalesce(max(id), 0) FROM pins) || '/' || "
                           "(SELECT count(*) || ':' || coalesce(max(created_at)::text, '') "
                           "FROM exclusions)",
                           0, NULL, &res, err);
    if (rc == RF_OK && PQntuples(res) == 1 && store_get(res, 0, 0) != NULL) {
        size_t len = strlen(store_get(res, 0, 0));
        if (len > 127)
            len = 127;
        memcpy(out, store_get(res, 0, 0), len);
        out[len] = '\0';
    }
    PQclear(res);
    return rc;
}

rf_err store_eval_windows(rf_db *db, uint64_t *state, rf_error *err)
{
    PGresult *res = NULL;
    *state = 1469598103934665603ULL; /* FNV-1a over (ring id, open) pairs */
    rf_err rc = store_exec(db, "eval_windows",
                           "SELECT id, windows::text, floor(extract(epoch FROM now()))::bigint "
                           "FROM rings WHERE windows <> '[]'::jsonb ORDER BY id",
                           0, NULL, &res, err);
    for (int i = 0; rc == RF_OK && i < PQntuples(res); i++) {
        assign_window w[ASSIGN_MAX_WINDOWS];
        int n = 0;
        json_t *v = json_loads(store_get(res, i, 1), 0, NULL);
        int ok = ring_windows_parse("windows", v, w, &n, NULL) == RF_OK;
        json_decref(v);
        uint64_t x = (uint64_t)store_get_ll(res, i, 0) * 2u +
                     (uint64_t)(ok && assign_windows_open(w, n, store_get_ll(res, i, 2)));
        for (int b = 0; b < 8; b++) {
            *state ^= (x >> (8 * b)) & 0xffu;
            *state *= 1099511628211ULL;
        }
    }
    PQclear(res);
    return rc;
}

/* Marks one device failed "silent" unless it reported after last_seen_s or
 * its exposure closed meanwhile; records device.failed when it did. */
static rf_err mark_silent(rf_db *db, const store_rollout *r, const char *device_id,
                          int64_t last_seen_s, int64_t now_s, int *marked, rf_error *err)
{
    char ids[24], seen[24], now[24];
    const char *p[] = {ids, device_id, now, seen};
    PGresult *res = NULL;
    *marked = 0;
    rf_snprintf(ids, sizeof(ids), "%lld", r->id);
    rf_snprintf(seen, sizeof(seen), "%lld", (long long)last_seen_s);
    rf_snprintf(now, sizeof(now), "%lld", (long long)now_s);
    rf_err rc = store_exec(db, "eval_mark_silent",
                           "UPDATE exposures e SET failed_at = to_timestamp($3::bigint), "
                           "failure = 'silent' WHERE e.rollout_id = $1 AND e.device_id = $2 "
                           "AND e.failed_at IS NULL AND e.healthy_at IS NULL AND EXISTS "
                           "(SELECT 1 FROM devices d WHERE d.id = e.device_id AND "
                           "coalesce(floor(extract(epoch FROM d.last_seen_at))::bigint, 0) "
                           "<= $4::bigint) RETURNING e.stage",
                           4, p, &res, err);
    if (rc != RF_OK || PQntuples(res) != 1)
        goto out;
    *marked = 1;
    json_t *data =
        json_pack("{s:s, s:s, s:I, s:i}", "reason", "silent", "channel", r->channel, "bundle_id",
                  (json_int_t)r->bundle_id, "stage", (int)store_get_ll(res, 0, 0));
    rc = store_event_add(db, "device.failed", "evaluator", r->id, device_id, data);
    json_decref(data);
out:
    PQclear(res);
    return rc;
}

rf_err store_eval_silence(rf_db *db, const store_rollout *r, int *newly, rf_error *err)
{
    char ids[24];
    const char *p[] = {ids};
    PGresult *res = NULL;
    int began = 0;
    *newly = 0;
    rf_snprintf(ids, sizeof(ids), "%lld", r->id);
    /* Read outside a transaction: most ticks find nobody silent. Each mark
     * re-checks its conditions, so a report arriving meanwhile wins. */
    rf_err rc = store_exec(db, "eval_open_exposures", OPEN_EXPOSURES_SQL, 1, p, &res, err);
    for (int i = 0; rc == RF_OK && i < PQntuples(res); i++) {
        health_exposure ex = {0};
        ex.exposed = 1;
        ex.exposed_at = store_get_ll(res, i, 1);
        int64_t seen = store_get_ll(res, i, 2);
        int interval = (int)store_get_ll(res, i, 3);
        int64_t now = store_get_ll(res, i, 4);
        if (!health_check_silence(&r->policy, &ex, seen, interval, now))
            continue;
        if (!began && (rc = store_begin(db)) == RF_OK)
            began = 1;
        int marked = 0;
        if (rc == RF_OK)
            rc = mark_silent(db, r, store_get(res, i, 0), seen, now, &marked, err);
        *newly += marked;
    }
    if (rc == RF_OK && began)
        rc = store_commit(db);
    if (rc != RF_OK) {
        store_rollback(db);
        *newly = 0;
    }
    PQclear(res);
    return rc;
}

/* The halt's reason in words, with the figures behind it. */
static void halt_reason(const store_rollout *r, int stage, const health_stat *st, char *out,
                        size_t size)
{
    const char *ring = stage >= 0 && stage < r->sm.nstages ? r->info[stage].ring_name : "";
    if (st->verdict == HEALTH_VERDICT_HARMFUL)
        rf_snprintf(out, size,
                    "stage %d (ring '%s'): %lld of %lld exposed devices failed (rate %.3f) "
                    "against %lld of %lld in the control (rate %.3f); sequential test %.2f >= "
                    "%.2f = ln(1/alpha), at least %d failed",
                    stage, ring, st->failed, st->exposed, st->failure_rate, st->control_failed,
                    st->control, st->control_rate, st->statistic, st->upper,
                    st->min_failed_devices);
    else
        rf_snprintf(out, size,
                    "stage %d (ring '%s'): %lld of %lld exposed devices failed, rate %.3f >= %.3f "
                    "with at least %d failed",
                    stage, ring, st->failed, st->exposed, st->failure_rate, st->max_failure_rate,
                    st->min_failed_devices);
}

rf_err store_eval_halt(rf_db *db, const store_rollout *r, int stage, const health_counts *c,
                       const health_stat *st, rf_error *err)
{
    rollout_sm sm = r->sm;
    char reason[512];
    json_t *halt = NULL, *d1 = NULL, *d2 = NULL;
    rf_err rc = rollout_apply(&sm, ROLLOUT_HALT, r->now_s, err);
    if (rc == RF_OK && r->policy.on_halt == HEALTH_ON_HALT_REVERT)
        rc = rollout_apply(&sm, ROLLOUT_REVERT, r->now_s, err);
    if (rc != RF_OK)
        return rc;
    halt_reason(r, stage, st, reason, sizeof(reason));
    halt = store_rollout_halt_json(r->now_s, "evaluator", stage, c, reason);
    d1 = store_rollout_event_data(r->sm.state, ROLLOUT_HALTED, stage, c, reason);
    if (halt != NULL)
        json_object_set_new(halt, "statistics", health_stat_to_json(st));
    if (d1 != NULL) {
        json_object_set_new(d1, "statistics", health_stat_to_json(st));
        json_object_set_new(d1, "on_halt", json_string(health_on_halt_name(r->policy.on_halt)));
        json_object_set_new(d1, "before",
                            store_rollout_brief(r->sm.state, r->sm.stage, r->version));
        json_object_set_new(d1, "after", store_rollout_brief(sm.state, sm.stage, r->version + 1));
    }
    rc = store_begin(db);
    if (rc == RF_OK)
        rc = store_rollout_write(db, r, &sm, -1, halt, err);
    if (rc == RF_OK)
        rc = store_event_add(db, "rollout.halted", "evaluator", r->id, NULL, d1);
    if (rc == RF_OK && sm.state == ROLLOUT_REVERTED) {
        d2 = store_rollout_event_data(ROLLOUT_HALTED, ROLLOUT_REVERTED, stage, c,
                                      "the policy's on_halt is revert");
        rc = store_event_add(db, "rollout.reverted", "evaluator", r->id, NULL, d2);
    }
    if (rc == RF_OK)
        rc = store_commit(db);
    if (rc != RF_OK)
        store_rollback(db);
    json_decref(halt);
    json_decref(d1);
    json_decref(d2);
    return rc;
}

rf_err store_eval_promote(rf_db *db, const store_rollout *r, rf_error *err)
{
    rollout_sm sm = r->sm;
    health_counts c = {0};
    plan_gate g[PLAN_MAX_GATES];
    json_t *data = NULL;
    int ng = store_rollout_gates(r, g);
    rf_err rc = rollout_apply(&sm, ROLLOUT_PROMOTE, r->now_s, err);
    if (rc != RF_OK)
        return rc;
    rc = store_begin(db);
    if (rc == RF_OK)
        rc = store_rollout_stage_counts(db, r->id, r->sm.stage, &c, err);
    if (rc == RF_OK)
        rc = store_rollout_write(db, r, &sm, -1, NULL, err);
    if (rc == RF_OK)
        rc = store_fleet_fix_cut(db, r, &sm, err);
    if (rc == RF_OK) {
        data =
            store_rollout_event_data(r->sm.state, sm.state, r->sm.stage, &c, "every gate passed");
        if (data != NULL && sm.state != ROLLOUT_COMPLETED)
            json_object_set_new(data, "to_stage", json_integer(sm.stage));
        if (data != NULL) {
            json_object_set_new(data, "gates", store_rollout_gates_json(g, ng));
            json_object_set_new(data, "before",
                                store_rollout_brief(r->sm.state, r->sm.stage, r->version));
            json_object_set_new(data, "after",
                                store_rollout_brief(sm.state, sm.stage, r->version + 1));
        }
        rc = store_event_add(db, rollout_event_kind(ROLLOUT_PROMOTE, sm.state), "evaluator", r->id,
                             NULL, data);
    }
    if (rc == RF_OK)
        rc = store_commit(db);
    if (rc != RF_OK)
        store_rollback(db);
    json_decref(data);
    return rc;
}
