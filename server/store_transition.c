/* Applying a rollout transition in the database: the row is locked, the state
 * machine (rollout.c) decides, the new state is written only if the row is
 * still at the version that was read, and the audit event is recorded in the
 * same transaction. It never decides a transition itself and never commits a
 * half-written one. */
#include "store_rollout.h"
#include "store_internal.h"
#include "store_series.h"
#include "rf_log.h"
#include "rf_util.h"

#include <stdlib.h>
#include <string.h>

/* A rollout's failed devices, oldest failure first. */
#define FAILURES_SQL                                                                               \
    "SELECT device_id, stage, failure, "                                                           \
    "to_char(failed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "                     \
    "FROM exposures WHERE rollout_id = $1 AND failed_at IS NOT NULL "                              \
    "ORDER BY failed_at, device_id LIMIT $2"

json_t *store_rollout_halt_json(int64_t at_s, const char *by, int stage, const health_counts *c,
                                const char *reason)
{
    char at[32];
    rf_time_iso(at_s, at);
    return json_pack("{s:s, s:s, s:i, s:I, s:I, s:f, s:s}", "at", at, "by", by ? by : "", "stage",
                     stage, "exposed", (json_int_t)c->exposed, "failed", (json_int_t)c->failed,
                     "failure_rate", health_failure_rate(c->exposed, c->failed), "reason",
                     reason ? reason : "");
}

json_t *store_rollout_event_data(rollout_state from, rollout_state to, int stage,
                                 const health_counts *c, const char *reason)
{
    json_t *d = json_pack("{s:s, s:s, s:i, s:I, s:I, s:I, s:I, s:f}", "from",
                          rollout_state_name(from), "to", rollout_state_name(to), "stage", stage,
                          "exposed", (json_int_t)c->exposed, "healthy", (json_int_t)c->healthy,
                          "failed", (json_int_t)c->failed, "silent", (json_int_t)c->silent,
                          "failure_rate", health_failure_rate(c->exposed, c->failed));
    if (d != NULL && reason != NULL && reason[0] != '\0')
        json_object_set_new(d, "reason", json_string(reason));
    return d;
}

static rf_err write_stage(rf_db *db, long long id, int idx, const rollout_stage *st, rf_error *err)
{
    char ids[24], ix[16], started[24];
    const char *p[] = {ids, ix, stage_state_name(st->state), started};
    PGresult *res = NULL;
    rf_snprintf(ids, sizeof(ids), "%lld", id);
    rf_snprintf(ix, sizeof(ix), "%d", idx);
    rf_snprintf(started, sizeof(started), "%lld", (long long)st->started_s);
    rf_err rc = store_exec(db, "rollout_stage_write",
                           "UPDATE rollout_stages SET state = $3, started_at = CASE WHEN "
                           "$4::bigint > 0 THEN to_timestamp($4::bigint) ELSE NULL END "
                           "WHERE rollout_id = $1 AND idx = $2",
                           4, p, &res, err);
    PQclear(res);
    return rc;
}

rf_err store_rollout_write(rf_db *db, const store_rollout *before, const rollout_sm *sm_after,
                           long long prev_bundle, const json_t *halt, rf_error *err)
{
    char ids[24], ver[16], stage[16], prev[24];
    char *halt_text = halt ? json_dumps(halt, JSON_COMPACT) : NULL;
    PGresult *res = NULL;
    rf_err rc = RF_OK;
    if (halt != NULL && halt_text == NULL)
        return rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    rf_snprintf(ids, sizeof(ids), "%lld", before->id);
    rf_snprintf(ver, sizeof(ver), "%d", before->version);
    rf_snprintf(stage, sizeof(stage), "%d", sm_after->stage);
    rf_snprintf(prev, sizeof(prev), "%lld", prev_bundle);
    int starting = before->sm.state == ROLLOUT_DRAFT && sm_after->state != ROLLOUT_DRAFT;
    const char *p[] = {ids,
                       ver,
                       rollout_state_name(sm_after->state),
                       stage,
                       starting ? "t" : "f",
                       prev_bundle >= 0 ? "t" : "f",
                       prev_bundle > 0 ? prev : NULL,
                       halt_text};
    rc = store_exec(db, "rollout_write",
                    "UPDATE rollouts SET state = $3, stage = $4, version = version + 1, "
                    "updated_at = now(), "
                    "started_at = CASE WHEN $5::bool THEN now() ELSE started_at END, "
                    "previous_bundle_id = CASE WHEN $6::bool THEN $7::bigint "
                    "ELSE previous_bundle_id END, "
                    "halt = COALESCE($8::jsonb, halt) "
                    "WHERE id = $1 AND version = $2 RETURNING version",
                    8, p, &res, err);
    if (rc != RF_OK)
        goto out;
    if (PQntuples(res) != 1) {
        rc = rf_error_set(err, RF_ERR_CONFLICT,
                          "rollout %lld changed while this request ran; try again", before->id);
        goto out;
    }
    for (int i = 0; rc == RF_OK && i < sm_after->nstages; i++) {
        const rollout_stage *a = &sm_after->stages[i], *b = &before->sm.stages[i];
        if (a->state != b->state || a->started_s != b->started_s)
            rc = write_stage(db, before->id, i, a, err);
    }
    if (rc == RF_OK) { /* delivered at commit: wakes long-polls on every instance */
        PQclear(res);
        res = NULL;
        const char *np[] = {ids};
        rc = store_exec(db, "rollout_notify", "SELECT pg_notify('ringfence_changes', $1)", 1, np,
                        &res, err);
    }
out:
    PQclear(res);
    free(halt_text);
    return rc;
}

/* start's extra rules: no other live rollout on the channel, a plan that
 * still matches the rings, and the previous bundle = the channel's latest
 * completed rollout's bundle (0 if none). */
static rf_err check_start(rf_db *db, const store_rollout *r, long long *prev, rf_error *err)
{
    char ids[24];
    const char *p[] = {r->channel, ids};
    PGresult *res = NULL;
    rf_snprintf(ids, sizeof(ids), "%lld", r->id);
    rf_err rc = store_exec(db, "rollout_live_on_channel",
                           "SELECT id, state FROM rollouts WHERE channel = $1 AND id <> $2 AND "
                           "state IN ('active', 'paused', 'halted') ORDER BY id LIMIT 1",
                           2, p, &res, err);
    if (rc != RF_OK)
        goto out;
    if (PQntuples(res) == 1) {
        rc = rf_error_set(err, RF_ERR_CONFLICT,
                          "cannot start: rollout %lld on channel '%s' is %s; only one rollout "
                          "per channel may be live",
                          store_get_ll(res, 0, 0), r->channel, store_get(res, 0, 1));
        goto out;
    }
    rf_error pe = {0};
    rc = store_rollout_check_plan(db, r, &pe);
    if (rc == RF_ERR_INVALID || rc == RF_ERR_CONFLICT) {
        rc = rf_error_set(err, RF_ERR_CONFLICT,
                          "cannot start: the plan no longer matches the rings (%s); create a "
                          "new rollout",
                          pe.message);
        goto out;
    }
    if (rc != RF_OK) {
        if (err != NULL)
            *err = pe;
        goto out;
    }
    PQclear(res);
    res = NULL;
    const char *q[] = {r->channel};
    rc = store_exec(db, "rollout_last_completed",
                    "SELECT bundle_id FROM rollouts WHERE channel = $1 AND state = 'completed' "
                    "ORDER BY updated_at DESC, id DESC LIMIT 1",
                    1, q, &res, err);
    if (rc == RF_OK)
        *prev = PQntuples(res) == 1 ? store_get_ll(res, 0, 0) : 0;
out:
    PQclear(res);
    return rc;
}

/* Whether devices' assignments may change through this transition. */
static int changes_assignments(rollout_action a, const health_policy *p)
{
    switch (a) {
    case ROLLOUT_START:
    case ROLLOUT_PROMOTE:
    case ROLLOUT_REVERT:
        return 1;
    case ROLLOUT_HALT:
        return p->on_halt != HEALTH_ON_HALT_PAUSE;
    case ROLLOUT_PAUSE:
    case ROLLOUT_RESUME:
        return 0;
    }
    return 1;
}

/* The two-person rule before a promotion, with names in the message. */
static rf_err check_approval(const store_rollout *r, rollout_action action, rf_error *err)
{
    int s = r->sm.stage;
    if (action != ROLLOUT_PROMOTE || s < 0 || s >= r->sm.nstages ||
        !r->sm.stages[s].require_approval || r->sm.stages[s].approved ||
        !rollout_allows(r->sm.state, action))
        return RF_OK;
    return rf_error_set(err, RF_ERR_CONFLICT,
                        "cannot promote: stage %d (ring '%s') needs an approval by a release user "
                        "other than %s (two-person rule)",
                        s, r->info[s].ring_name, r->created_by);
}

/* The event data of a transition: figures, before/after, and what else the
 * action changed. New reference. */
static json_t *transition_data(const store_rollout *before, const rollout_sm *sm,
                               rollout_action action, const health_counts *c, const char *reason,
                               long long prev)
{
    json_t *data =
        store_rollout_event_data(before->sm.state, sm->state, before->sm.stage, c, reason);
    if (data == NULL)
        return NULL;
    json_object_set_new(data, "before",
                        store_rollout_brief(before->sm.state, before->sm.stage, before->version));
    json_object_set_new(data, "after",
                        store_rollout_brief(sm->state, sm->stage, before->version + 1));
    if (action == ROLLOUT_START)
        json_object_set_new(data, "previous_bundle_id",
                            prev > 0 ? json_integer(prev) : json_null());
    if (action == ROLLOUT_PROMOTE) {
        plan_gate g[PLAN_MAX_GATES];
        store_rollout with = *before;
        with.info[before->sm.stage].counts = *c;
        int n = store_rollout_gates(&with, g);
        json_object_set_new(data, "to_stage", json_integer(sm->stage));
        json_object_set_new(data, "gates", store_rollout_gates_json(g, n));
    }
    return data;
}

/* Decides and writes the transition inside the open transaction. */
static rf_err apply_locked(rf_db *db, const store_rollout *before, rollout_action action,
                           const char *actor, const char *reason, rf_error *err)
{
    rollout_sm sm = before->sm;
    long long prev = -1;
    health_counts c = {0};
    json_t *halt = NULL, *data = NULL;
    rf_err rc = check_approval(before, action, err);
    if (rc == RF_OK)
        rc = rollout_apply(&sm, action, before->now_s, err);
    if (rc == RF_OK && action == ROLLOUT_START)
        rc = check_start(db, before, &prev, err);
    if (rc == RF_OK)
        rc = store_rollout_stage_counts(db, before->id, before->sm.stage, &c, err);
    if (rc != RF_OK)
        return rc;
    if (action == ROLLOUT_HALT) {
        char why[300];
        if (reason == NULL || reason[0] == '\0')
            rf_snprintf(why, sizeof(why), "halted by %s", actor);
        halt = store_rollout_halt_json(before->now_s, actor, sm.stage, &c,
                                       reason && reason[0] ? reason : why);
    }
    rc = store_rollout_write(db, before, &sm, prev, halt, err);
    if (rc == RF_ERR_CONFLICT && action == ROLLOUT_START)
        /* the partial unique index: another start on this channel won the race */
        rc = rf_error_set(err, RF_ERR_CONFLICT,
                          "cannot start: another rollout on channel '%s' is live", before->channel);
    if (rc == RF_OK && (action == ROLLOUT_START || action == ROLLOUT_PROMOTE))
        rc = store_fleet_fix_cut(db, before, &sm, err);
    if (rc != RF_OK)
        goto out;
    data = transition_data(before, &sm, action, &c, reason, prev);
    rc = store_event_add(db, rollout_event_kind(action, sm.state), actor, before->id, NULL, data);
out:
    json_decref(halt);
    json_decref(data);
    return rc;
}

rf_err store_rollout_transition(rf_db *db, long long id, rollout_action action, const char *actor,
                                const char *reason, int expect_version, store_rollout *after,
                                int *assignments_changed, rf_error *err)
{
    store_rollout *before = calloc(1, sizeof(*before));
    *assignments_changed = 0;
    memset(after, 0, sizeof(*after));
    if (before == NULL)
        return rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    rf_err rc = store_begin(db);
    if (rc == RF_OK)
        rc = store_rollout_get(db, id, 1, before, err);
    if (rc != RF_OK)
        goto out;
    if (expect_version >= 0 && before->version != expect_version) {
        rc = rf_error_set(err, RF_ERR_CONFLICT,
                          "rollout %lld is at version %d, not %d (If-Match); reload it", id,
                          before->version, expect_version);
        goto out;
    }
    if (action == ROLLOUT_PROMOTE && before->policy.require_not_harmful) /* the harm gate */
        rc = store_series_control(db, before, err);
    if (rc == RF_OK)
        rc = apply_locked(db, before, action, actor, reason, err);
    if (rc == RF_OK)
        rc = store_commit(db);
    if (rc != RF_OK)
        goto out;
    *assignments_changed = changes_assignments(action, &before->policy);
    /* The answer shows the rollout as committed, with its figures. */
    rc = store_rollout_get(db, id, 0, after, err);
    if (rc == RF_OK)
        rc = store_rollout_fill_counts(db, after, 1, 1, err);
out:
    if (rc != RF_OK)
        store_rollback(db);
    store_rollout_cleanup(before);
    free(before);
    return rc;
}

static rf_err write_approval(rf_db *db, const store_rollout *r, int stage, const char *actor,
                             rf_error *err)
{
    char ids[24], st[16], ver[16];
    const char *p[] = {ids, st, actor, ver};
    PGresult *res = NULL;
    rf_snprintf(ids, sizeof(ids), "%lld", r->id);
    rf_snprintf(st, sizeof(st), "%d", stage);
    rf_snprintf(ver, sizeof(ver), "%d", r->version);
    rf_err rc =
        store_exec(db, "rollout_approve",
                   "WITH v AS (UPDATE rollouts SET version = version + 1, updated_at = now() "
                   "WHERE id = $1 AND version = $4::int RETURNING id) "
                   "UPDATE rollout_stages s SET approved_by = $3, approved_at = now() "
                   "FROM v WHERE s.rollout_id = v.id AND s.idx = $2::int "
                   "AND s.approved_by IS NULL RETURNING s.idx",
                   4, p, &res, err);
    if (rc == RF_OK && PQntuples(res) != 1)
        rc = rf_error_set(err, RF_ERR_CONFLICT,
                          "rollout %lld changed while this request ran; try again", r->id);
    PQclear(res);
    return rc;
}

static rf_err approve_locked(rf_db *db, const store_rollout *r, int stage, const char *actor,
                             const char *reason, rf_error *err)
{
    int s = stage >= 0 ? stage : r->sm.stage < 0 ? 0 : r->sm.stage;
    rf_err rc =
        plan_approve_check(&r->sm, r->id, s, actor, r->created_by,
                           s >= 0 && s < r->sm.nstages ? r->info[s].approved_by : NULL, err);
    if (rc == RF_OK)
        rc = write_approval(db, r, s, actor, err);
    if (rc != RF_OK)
        return rc;
    json_t *data = json_pack("{s:i, s:s, s:{s:n}, s:{s:s}, s:i}", "stage", s, "ring",
                             r->info[s].ring_name, "before", "approved_by", "after", "approved_by",
                             actor, "version", r->version + 1);
    if (data != NULL && reason != NULL && reason[0] != '\0')
        json_object_set_new(data, "reason", json_string(reason));
    rc = data ? store_event_add(db, "rollout.approved", actor, r->id, NULL, data) : RF_ERR_NOMEM;
    json_decref(data);
    return rc;
}

rf_err store_rollout_approve(rf_db *db, long long id, int stage, const char *actor,
                             const char *reason, int expect_version, store_rollout *after,
                             rf_error *err)
{
    store_rollout *before = calloc(1, sizeof(*before));
    memset(after, 0, sizeof(*after));
    if (before == NULL)
        return rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    rf_err rc = store_begin(db);
    if (rc == RF_OK)
        rc = store_rollout_get(db, id, 1, before, err);
    if (rc == RF_OK && expect_version >= 0 && before->version != expect_version)
        rc = rf_error_set(err, RF_ERR_CONFLICT,
                          "rollout %lld is at version %d, not %d (If-Match); reload it", id,
                          before->version, expect_version);
    if (rc == RF_OK)
        rc = approve_locked(db, before, stage, actor, reason, err);
    if (rc == RF_OK)
        rc = store_commit(db);
    if (rc == RF_OK)
        rc = store_rollout_get(db, id, 0, after, err);
    if (rc == RF_OK)
        rc = store_rollout_fill_counts(db, after, 1, 1, err);
    if (rc != RF_OK)
        store_rollback(db);
    store_rollout_cleanup(before);
    free(before);
    return rc;
}

rf_err store_rollout_failures(rf_db *db, long long id, int limit, json_t **out, rf_error *err)
{
    char ids[24], lim[16];
    const char *p[] = {ids, lim};
    PGresult *res = NULL;
    *out = NULL;
    rf_snprintf(ids, sizeof(ids), "%lld", id);
    rf_snprintf(lim, sizeof(lim), "%d", limit);
    rf_err rc = store_exec(db, "rollout_failures", FAILURES_SQL, 2, p, &res, err);
    if (rc != RF_OK)
        goto out;
    json_t *arr = json_array();
    for (int i = 0; arr != NULL && i < PQntuples(res); i++)
        json_array_append_new(arr,
                              json_pack("{s:s, s:i, s:s, s:s}", "device_id", store_get(res, i, 0),
                                        "stage", (int)store_get_ll(res, i, 1), "reason",
                                        store_get(res, i, 2) ? store_get(res, i, 2) : "", "at",
                                        store_get(res, i, 3)));
    *out = arr;
    if (arr == NULL)
        rc = rf_error_set(err, RF_ERR_NOMEM, "out of memory");
out:
    PQclear(res);
    return rc;
}
