/* Named queries for rollouts, read side: one or a list with their stages and
 * live figures, and the gates of the current stage (creation is in
 * store_rollout_new.c, transitions in store_transition.c). The decisions are
 * rollout.c's and health.c's; this file loads their inputs and stores their
 * outcome, every write inside one transaction with its audit event. It never
 * builds SQL from input: parameters only (array literals hold integers). */
#include "store_rollout.h"
#include "store_internal.h"
#include "stage_series.h"
#include "store_series.h"
#include "rf_buf.h"
#include "rf_log.h"
#include "rf_util.h"

#include <stdlib.h>
#include <string.h>

#define ROLLOUT_COLS                                                                               \
    "r.id, r.bundle_id, r.previous_bundle_id, r.channel, r.state, r.stage, r.policy::text, "       \
    "r.halt::text, r.version, "                                                                    \
    "coalesce(floor(extract(epoch FROM r.created_at))::bigint, 0), "                               \
    "coalesce(floor(extract(epoch FROM r.started_at))::bigint, 0), "                               \
    "coalesce(floor(extract(epoch FROM r.updated_at))::bigint, 0), "                               \
    "r.created_by, floor(extract(epoch FROM now()))::bigint, r.salt"
#define STAGES_SQL                                                                                 \
    "SELECT s.rollout_id, s.idx, s.ring_id, g.name, s.state, s.bake_s, s.auto_promote, "           \
    "coalesce(floor(extract(epoch FROM s.started_at))::bigint, 0), s.percent, s.min_healthy, "     \
    "coalesce(s.max_failure_rate, 0), s.require_approval, coalesce(s.approved_by, ''), "           \
    "coalesce(floor(extract(epoch FROM s.approved_at))::bigint, 0), s.cut_bucket, s.cut_device "   \
    "FROM rollout_stages s JOIN rings g ON g.id = s.ring_id "                                      \
    "WHERE s.rollout_id = ANY($1::bigint[]) ORDER BY s.rollout_id, s.idx"

void store_rollout_cleanup(store_rollout *r)
{
    if (r == NULL)
        return;
    json_decref(r->halt);
    r->halt = NULL;
}

void store_rollout_free_list(store_rollout *rows, int n)
{
    for (int i = 0; rows != NULL && i < n; i++)
        store_rollout_cleanup(&rows[i]);
    free(rows);
}

/* Fills *out from row i of a ROLLOUT_COLS result (stages not yet). */
static void parse_row(const PGresult *res, int i, store_rollout *out)
{
    memset(out, 0, sizeof(*out));
    out->id = store_get_ll(res, i, 0);
    out->bundle_id = store_get_ll(res, i, 1);
    out->previous_bundle_id = store_get_ll(res, i, 2);
    rf_copy_str(out->channel, sizeof(out->channel), store_get(res, i, 3));
    if (rollout_state_parse(store_get(res, i, 4), &out->sm.state) != 0)
        out->sm.state = ROLLOUT_HALTED; /* the CHECK constraint makes this unreachable */
    out->sm.stage = (int)store_get_ll(res, i, 5);
    health_policy_default(&out->policy);
    json_t *pol = json_loads(store_get(res, i, 6) ? store_get(res, i, 6) : "{}", 0, NULL);
    rf_error e = {0};
    if (health_policy_parse(pol, "policy", &out->policy, &e) != RF_OK)
        rf_log(RF_LOG_WARN, "stored rollout policy unreadable; using defaults", "error", e.message,
               NULL);
    json_decref(pol);
    if (!store_is_null(res, i, 7))
        out->halt = json_loads(store_get(res, i, 7), 0, NULL);
    out->version = (int)store_get_ll(res, i, 8);
    out->created_s = store_get_ll(res, i, 9);
    out->started_s = store_get_ll(res, i, 10);
    out->updated_s = store_get_ll(res, i, 11);
    rf_copy_str(out->created_by, sizeof(out->created_by), store_get(res, i, 12));
    out->now_s = store_get_ll(res, i, 13);
    rf_copy_str(out->salt, sizeof(out->salt), store_get(res, i, 14));
    for (int k = 0; k < ROLLOUT_MAX_STAGES; k++)
        out->info[k].devices = -1;
}

/* The plan fields of one stage row (columns 8 on of STAGES_SQL). */
static void parse_stage_plan(const PGresult *res, int i, rollout_stage *st, store_stage_info *in)
{
    st->percent = (int)store_get_ll(res, i, 8);
    st->min_healthy = (int)store_get_ll(res, i, 9);
    const char *rate = store_get(res, i, 10);
    st->max_failure_rate = rate != NULL ? strtod(rate, NULL) : 0.0;
    st->require_approval = store_get(res, i, 11) != NULL && store_get(res, i, 11)[0] == 't';
    rf_copy_str(in->approved_by, sizeof(in->approved_by), store_get(res, i, 12));
    st->approved = in->approved_by[0] != '\0';
    in->approved_s = store_get_ll(res, i, 13);
    in->has_cut = !store_is_null(res, i, 14) && !store_is_null(res, i, 15);
    memset(&in->cut, 0, sizeof(in->cut));
    if (in->has_cut) {
        in->cut.salted = (uint32_t)store_get_ll(res, i, 14);
        rf_copy_str(in->cut.id, sizeof(in->cut.id), store_get(res, i, 15));
    }
}

/* "{1,2,3}" for the ids of rows, as a bigint[] parameter. */
static rf_err ids_literal(const store_rollout *rows, int n, rf_buf *b)
{
    rf_err rc = rf_buf_append_str(b, "{");
    for (int i = 0; rc == RF_OK && i < n; i++)
        rc = rf_buf_printf(b, "%s%lld", i ? "," : "", rows[i].id);
    if (rc == RF_OK)
        rc = rf_buf_append_str(b, "}");
    return rc;
}

static store_rollout *find_row(store_rollout *rows, int n, long long id)
{
    for (int i = 0; i < n; i++)
        if (rows[i].id == id)
            return &rows[i];
    return NULL;
}

static rf_err load_stages(rf_db *db, store_rollout *rows, int n, rf_error *err)
{
    rf_buf ids;
    PGresult *res = NULL;
    rf_buf_init(&ids, 1 << 16);
    rf_err rc = ids_literal(rows, n, &ids);
    if (rc != RF_OK)
        goto out;
    const char *p[] = {ids.data};
    rc = store_exec(db, "rollout_stages", STAGES_SQL, 1, p, &res, err);
    if (rc != RF_OK)
        goto out;
    for (int i = 0; i < PQntuples(res); i++) {
        store_rollout *r = find_row(rows, n, store_get_ll(res, i, 0));
        int idx = (int)store_get_ll(res, i, 1);
        if (r == NULL || idx < 0 || idx >= ROLLOUT_MAX_STAGES)
            continue;
        rollout_stage *st = &r->sm.stages[idx];
        st->ring_id = store_get_ll(res, i, 2);
        rf_copy_str(r->info[idx].ring_name, sizeof(r->info[idx].ring_name), store_get(res, i, 3));
        if (stage_state_parse(store_get(res, i, 4), &st->state) != 0)
            st->state = STAGE_HALTED;
        st->bake_s = (int)store_get_ll(res, i, 5);
        st->auto_promote = (int)store_get_ll(res, i, 6);
        st->started_s = store_get_ll(res, i, 7);
        parse_stage_plan(res, i, st, &r->info[idx]);
        if (idx + 1 > r->sm.nstages)
            r->sm.nstages = idx + 1;
    }
out:
    PQclear(res);
    rf_buf_cleanup(&ids);
    return rc;
}

rf_err store_rollout_get(rf_db *db, long long id, int for_update, store_rollout *out, rf_error *err)
{
    char ids[24];
    const char *p[] = {ids};
    PGresult *res = NULL;
    memset(out, 0, sizeof(*out));
    rf_snprintf(ids, sizeof(ids), "%lld", id);
    rf_err rc = store_exec(db, for_update ? "rollout_get_lock" : "rollout_get",
                           for_update ? "SELECT " ROLLOUT_COLS " FROM rollouts r WHERE r.id = $1 "
                                        "FOR UPDATE OF r"
                                      : "SELECT " ROLLOUT_COLS " FROM rollouts r WHERE r.id = $1",
                           1, p, &res, err);
    if (rc != RF_OK)
        goto out;
    if (PQntuples(res) != 1) {
        rc = rf_error_set(err, RF_ERR_NOT_FOUND, "rollout %lld not found", id);
        goto out;
    }
    parse_row(res, 0, out);
    rc = load_stages(db, out, 1, err);
out:
    PQclear(res);
    if (rc != RF_OK)
        store_rollout_cleanup(out);
    return rc;
}

#define ROLLOUT_PAGE_SQL                                                                           \
    "SELECT " ROLLOUT_COLS " FROM rollouts r "                                                     \
    "WHERE ($1::text IS NULL OR r.channel = $1) AND ($2::text IS NULL OR r.state = $2) "           \
    "AND ($3::bigint IS NULL OR r.bundle_id = $3) "                                                \
    "AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM bundles b WHERE b.id = r.bundle_id "           \
    "AND b.version = $4 AND ($1::text IS NULL OR b.channel = $1))) "                               \
    "AND ($5::text IS NULL OR EXISTS (SELECT 1 FROM rollout_stages s "                             \
    "JOIN rings g ON g.id = s.ring_id WHERE s.rollout_id = r.id "                                  \
    "AND (g.name = $5 OR g.id = $6::bigint))) "                                                    \
    "AND ($7::bigint IS NULL OR r.id < $7) ORDER BY r.id DESC LIMIT $8"

/* Text of a positive id parameter, or NULL (no filter) for 0. */
static const char *id_param(long long v, char buf[24])
{
    if (v <= 0)
        return NULL;
    rf_snprintf(buf, 24, "%lld", v);
    return buf;
}

rf_err store_rollout_list(rf_db *db, const store_rollout_filter *f, store_rollout **rows, int *n,
                          rf_error *err)
{
    char bid[24], rid[24], before[24], lim[24];
    const char *p[] = {f->channel,
                       f->state,
                       id_param(f->bundle_id, bid),
                       f->version,
                       f->ring,
                       f->ring ? id_param(f->ring_id, rid) : NULL,
                       id_param(f->before, before),
                       lim};
    PGresult *res = NULL;
    store_rollout *list = NULL;
    int count = 0;
    *rows = NULL;
    *n = 0;
    rf_snprintf(lim, sizeof(lim), "%d", f->limit > 0 ? f->limit : 1);
    rf_err rc = store_exec(db, "rollout_page", ROLLOUT_PAGE_SQL, 8, p, &res, err);
    if (rc != RF_OK)
        goto out;
    count = PQntuples(res);
    list = calloc(count > 0 ? (size_t)count : 1, sizeof(*list));
    if (list == NULL) {
        rc = rf_error_set(err, RF_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < count; i++)
        parse_row(res, i, &list[i]);
    if (count > 0)
        rc = load_stages(db, list, count, err);
    if (rc != RF_OK)
        goto out;
    *rows = list;
    *n = count;
    list = NULL;
out:
    PQclear(res);
    store_rollout_free_list(list, count);
    return rc;
}

rf_err store_rollout_fill_counts(rf_db *db, store_rollout *rows, int n, int with_devices,
                                 rf_error *err)
{
    rf_buf ids;
    PGresult *res = NULL;
    if (n <= 0)
        return RF_OK;
    rf_buf_init(&ids, 1 << 16);
    rf_err rc = ids_literal(rows, n, &ids);
    if (rc != RF_OK)
        goto out;
    const char *p[] = {ids.data};
    rc = store_exec(db, "rollout_counts",
                    "SELECT rollout_id, stage, count(*), "
                    "count(*) FILTER (WHERE healthy_at IS NOT NULL AND failed_at IS NULL), "
                    "count(*) FILTER (WHERE failed_at IS NOT NULL), "
                    "count(*) FILTER (WHERE failure = 'silent') "
                    "FROM exposures WHERE rollout_id = ANY($1::bigint[]) "
                    "GROUP BY rollout_id, stage",
                    1, p, &res, err);
    if (rc != RF_OK)
        goto out;
    for (int i = 0; i < PQntuples(res); i++) {
        store_rollout *r = find_row(rows, n, store_get_ll(res, i, 0));
        int st = (int)store_get_ll(res, i, 1);
        if (r == NULL || st < 0 || st >= r->sm.nstages)
            continue; /* exposures of devices outside the plan count nowhere */
        health_counts *c = &r->info[st].counts;
        c->exposed = store_get_ll(res, i, 2);
        c->healthy = store_get_ll(res, i, 3);
        c->failed = store_get_ll(res, i, 4);
        c->silent = store_get_ll(res, i, 5);
    }
    for (int i = 0; rc == RF_OK && i < n; i++)
        if (rows[i].policy.require_not_harmful &&
            (rows[i].sm.state == ROLLOUT_ACTIVE || rows[i].sm.state == ROLLOUT_PAUSED))
            rc = store_series_control(db, &rows[i], err);
    if (rc == RF_OK && with_devices)
        rc = store_fleet_stage_devices(db, rows, n, err);
out:
    PQclear(res);
    rf_buf_cleanup(&ids);
    return rc;
}

rf_err store_rollout_stage_counts(rf_db *db, long long id, int stage, health_counts *out,
                                  rf_error *err)
{
    char ids[24], st[16];
    const char *p[] = {ids, st};
    PGresult *res = NULL;
    memset(out, 0, sizeof(*out));
    if (stage < 0)
        return RF_OK;
    rf_snprintf(ids, sizeof(ids), "%lld", id);
    rf_snprintf(st, sizeof(st), "%d", stage);
    rf_err rc = store_exec(db, "rollout_stage_counts",
                           "SELECT count(*), count(*) FILTER (WHERE healthy_at IS NOT NULL AND "
                           "failed_at IS NULL), count(*) FILTER (WHERE failed_at IS NOT NULL), "
                           "count(*) FILTER (WHERE failure = 'silent') "
                           "FROM exposures WHERE rollout_id = $1 AND stage = $2",
                           2, p, &res, err);
    if (rc == RF_OK && PQntuples(res) == 1) {
        out->exposed = store_get_ll(res, 0, 0);
        out->healthy = store_get_ll(res, 0, 1);
        out->failed = store_get_ll(res, 0, 2);
        out->silent = store_get_ll(res, 0, 3);
    }
    PQclear(res);
    return rc;
}

json_t *store_rollout_brief(rollout_state state, int stage, int version)
{
    return json_pack("{s:s, s:i, s:i}", "state", rollout_state_name(state), "stage", stage,
                     "version", version);
}

int store_rollout_gates(const store_rollout *r, plan_gate out[PLAN_MAX_GATES])
{
    int s = r->sm.stage;
    health_stat st;
    if ((r->sm.state != ROLLOUT_ACTIVE && r->sm.state != ROLLOUT_PAUSED) || s < 0 ||
        s >= r->sm.nstages)
        return 0;
    if (r->policy.require_not_harmful)
        stage_series_stat(r, s, r->info[s].control_devices, r->info[s].control_failed, &st);
    plan_gate_input in = {.harm = r->policy.require_not_harmful ? &st : NULL,
                          .min_ratio = r->policy.min_ratio,
                          .stage = &r->sm.stages[s],
                          .counts = r->info[s].counts,
                          .devices = r->info[s].devices,
                          .policy_max_failure_rate = r->policy.max_failure_rate,
                          .now_s = r->now_s,
                          .creator = r->created_by,
                          .approved_by = r->info[s].approved_by};
    return plan_gates(&in, out);
}

json_t *store_rollout_gates_json(const plan_gate *g, int n)
{
    json_t *arr = json_array();
    for (int i = 0; arr != NULL && i < n; i++)
        json_array_append_new(arr, json_pack("{s:s, s:b, s:s}", "name", g[i].name, "ok", g[i].ok,
                                             "detail", g[i].detail));
    return arr;
}
