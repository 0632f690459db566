/* Named queries for rollouts: create with a plan, read with live figures, and
 * apply a transition of the state machine under a row lock. The decisions are
 * rollout.c's and health.c's; this file loads their inputs and stores their
 * outcome, every write inside one transaction with its audit event. It never
 * builds SQL from input: parameters only (array literals hold integers). */
#include "store_rollout.h"
#include "store_internal.h"
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
    "r.created_by, floor(extract(epoch FROM now()))::bigint"
#define STAGES_SQL                                                                                 \
    "SELECT s.rollout_id, s.idx, s.ring_id, g.name, s.state, s.bake_s, s.auto_promote, "           \
    "coalesce(floor(extract(epoch FROM s.started_at))::bigint, 0) "                                \
    "FROM rollout_stages s JOIN rings g ON g.id = s.ring_id "                                      \
    "WHERE s.rollout_id = ANY($1::bigint[]) ORDER BY s.rollout_id, s.idx"
#define MAX_RINGS 1024
#define STR_(x) #x
#define STR(x) STR_(x)

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

static void copy_str(char *dst, size_t n, const char *src)
{
    size_t len = src ? strlen(src) : 0;
    if (len >= n)
        len = n - 1;
    if (len)
        memcpy(dst, src, len);
    dst[len] = '\0';
}

/* Fills *out from row i of a ROLLOUT_COLS result (stages not yet). */
static void parse_row(const PGresult *res, int i, store_rollout *out)
{
    memset(out, 0, sizeof(*out));
    out->id = store_get_ll(res, i, 0);
    out->bundle_id = store_get_ll(res, i, 1);
    out->previous_bundle_id = store_get_ll(res, i, 2);
    copy_str(out->channel, sizeof(out->channel), store_get(res, i, 3));
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
    copy_str(out->created_by, sizeof(out->created_by), store_get(res, i, 12));
    out->now_s = store_get_ll(res, i, 13);
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
        copy_str(r->info[idx].ring_name, sizeof(r->info[idx].ring_name), store_get(res, i, 3));
        if (stage_state_parse(store_get(res, i, 4), &st->state) != 0)
            st->state = STAGE_HALTED;
        st->bake_s = (int)store_get_ll(res, i, 5);
        st->auto_promote = (int)store_get_ll(res, i, 6);
        st->started_s = store_get_ll(res, i, 7);
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

rf_err store_rollout_list(rf_db *db, const char *channel, const char *state, store_rollout **rows,
                          int *n, rf_error *err)
{
    const char *p[] = {channel, state};
    PGresult *res = NULL;
    store_rollout *list = NULL;
    int count = 0;
    *rows = NULL;
    *n = 0;
    rf_err rc = store_exec(db, "rollout_list",
                           "SELECT " ROLLOUT_COLS " FROM rollouts r "
                           "WHERE ($1::text IS NULL OR r.channel = $1) "
                           "AND ($2::text IS NULL OR r.state = $2) "
                           "ORDER BY r.id DESC LIMIT " STR(STORE_ROLLOUT_LIST_MAX),
                           2, p, &res, err);
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

/* Devices per ring now: each device belongs to the first ring, by order,
 * whose labels it carries and whose bucket range holds it (rf_ring_of). */
static rf_err fill_devices(rf_db *db, store_rollout *rows, int n, rf_error *err)
{
    PGresult *res = NULL;
    rf_err rc = store_exec(db, "ring_device_counts",
                           "SELECT m.ring_id, count(*) FROM devices d CROSS JOIN LATERAL "
                           "(SELECT g.id AS ring_id FROM rings g WHERE d.labels @> g.labels "
                           "AND d.bucket BETWEEN g.bucket_lo AND g.bucket_hi "
                           "ORDER BY g.ord LIMIT 1) m GROUP BY m.ring_id",
                           0, NULL, &res, err);
    if (rc != RF_OK)
        goto out;
    for (int i = 0; i < PQntuples(res); i++) {
        long long ring = store_get_ll(res, i, 0), count = store_get_ll(res, i, 1);
        for (int k = 0; k < n; k++)
            for (int s = 0; s < rows[k].sm.nstages; s++)
                if (rows[k].sm.stages[s].ring_id == ring)
                    rows[k].info[s].devices = count;
    }
out:
    PQclear(res);
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
    if (with_devices)
        rc = fill_devices(db, rows, n, err);
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

/* Rings by order, for plan validation; names live in names[]. */
typedef struct ring_set {
    rollout_ring rings[MAX_RINGS];
    char names[MAX_RINGS][65];
    int n;
} ring_set;

static rf_err load_rings(rf_db *db, int lock, ring_set *out, rf_error *err)
{
    PGresult *res = NULL;
    out->n = 0;
    rf_err rc = store_exec(db, lock ? "rings_for_plan_lock" : "rings_for_plan",
                           lock ? "SELECT id, ord, name FROM rings ORDER BY ord FOR SHARE"
                                : "SELECT id, ord, name FROM rings ORDER BY ord",
                           0, NULL, &res, err);
    if (rc != RF_OK)
        goto out;
    for (int i = 0; i < PQntuples(res) && i < MAX_RINGS; i++) {
        copy_str(out->names[i], sizeof(out->names[i]), store_get(res, i, 2));
        out->rings[i].id = store_get_ll(res, i, 0);
        out->rings[i].order = (int)store_get_ll(res, i, 1);
        out->rings[i].name = out->names[i];
        out->n++;
    }
out:
    PQclear(res);
    return rc;
}

static rf_err insert_rollout(rf_db *db, long long bundle_id, const char *channel,
                             const health_policy *policy, const char *actor, long long *id,
                             rf_error *err)
{
    char bid[24];
    char *pol = NULL;
    PGresult *res = NULL;
    json_t *pj = health_policy_to_json(policy);
    rf_snprintf(bid, sizeof(bid), "%lld", bundle_id);
    pol = pj ? json_dumps(pj, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(pj);
    if (pol == NULL)
        return rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    const char *p[] = {bid, channel, pol, actor};
    rf_err rc = store_exec(db, "rollout_insert",
                           "INSERT INTO rollouts (bundle_id, channel, state, policy, created_by) "
                           "VALUES ($1, $2, 'draft', $3::jsonb, $4) RETURNING id",
                           4, p, &res, err);
    if (rc == RF_OK)
        *id = store_get_ll(res, 0, 0);
    PQclear(res);
    free(pol);
    return rc;
}

static rf_err insert_stages(rf_db *db, long long id, const store_plan_stage *plan, int n,
                            rf_error *err)
{
    rf_buf rings, bakes, autos;
    char ids[24];
    PGresult *res = NULL;
    rf_err rc = RF_OK;
    rf_buf_init(&rings, 1 << 16);
    rf_buf_init(&bakes, 1 << 16);
    rf_buf_init(&autos, 1 << 16);
    rf_snprintf(ids, sizeof(ids), "%lld", id);
    rc = rf_buf_append_str(&rings, "{");
    rc = rc ? rc : rf_buf_append_str(&bakes, "{");
    rc = rc ? rc : rf_buf_append_str(&autos, "{");
    for (int i = 0; rc == RF_OK && i < n; i++) {
        const char *sep = i ? "," : "";
        rc = rf_buf_printf(&rings, "%s%lld", sep, plan[i].ring_id);
        rc = rc ? rc : rf_buf_printf(&bakes, "%s%d", sep, plan[i].bake_s);
        rc = rc ? rc : rf_buf_printf(&autos, "%s%s", sep, plan[i].auto_promote ? "t" : "f");
    }
    rc = rc ? rc : rf_buf_append_str(&rings, "}");
    rc = rc ? rc : rf_buf_append_str(&bakes, "}");
    rc = rc ? rc : rf_buf_append_str(&autos, "}");
    if (rc != RF_OK) {
        rc = rf_error_set(err, rc, "stages: too many");
        goto out;
    }
    const char *p[] = {ids, rings.data, bakes.data, autos.data};
    rc = store_exec(db, "rollout_stages_insert",
                    "INSERT INTO rollout_stages (rollout_id, idx, ring_id, bake_s, auto_promote) "
                    "SELECT $1, t.i - 1, t.r, t.b, t.a FROM unnest($2::bigint[], $3::int[], "
                    "$4::bool[]) WITH ORDINALITY AS t(r, b, a, i)",
                    4, p, &res, err);
out:
    PQclear(res);
    rf_buf_cleanup(&rings);
    rf_buf_cleanup(&bakes);
    rf_buf_cleanup(&autos);
    return rc;
}

/* The bundle's channel; RF_ERR_NOT_FOUND naming bundle_id when it does not exist. */
static rf_err bundle_channel(rf_db *db, long long bundle_id, char channel[65], rf_error *err)
{
    char bid[24];
    const char *p[] = {bid};
    PGresult *res = NULL;
    rf_snprintf(bid, sizeof(bid), "%lld", bundle_id);
    rf_err rc = store_exec(db, "bundle_channel", "SELECT channel FROM bundles WHERE id = $1", 1, p,
                           &res, err);
    if (rc == RF_OK && PQntuples(res) != 1)
        rc = rf_error_set(err, RF_ERR_NOT_FOUND, "field 'bundle_id': bundle %lld not found",
                          bundle_id);
    if (rc == RF_OK)
        copy_str(channel, 65, store_get(res, 0, 0));
    PQclear(res);
    return rc;
}

static rf_err validate_plan(const ring_set *rs, const store_plan_stage *plan, int n, rf_error *err)
{
    long long ids[ROLLOUT_MAX_STAGES];
    if (n > ROLLOUT_MAX_STAGES)
        return rf_error_set(err, RF_ERR_INVALID, "stages: at most %d stages", ROLLOUT_MAX_STAGES);
    for (int i = 0; i < n; i++)
        ids[i] = plan[i].ring_id;
    return rollout_plan_validate(ids, n, rs->rings, rs->n, err);
}

rf_err store_rollout_create(rf_db *db, long long bundle_id, const health_policy *policy,
                            const store_plan_stage *plan, int nplan, const char *actor,
                            long long *id_out, rf_error *err)
{
    char channel[65];
    ring_set *rs = calloc(1, sizeof(*rs));
    store_plan_stage def[ROLLOUT_MAX_STAGES];
    long long id = 0;
    json_t *data = NULL;
    if (rs == NULL)
        return rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    rf_err rc = store_begin(db);
    if (rc != RF_OK)
        goto out;
    rc = bundle_channel(db, bundle_id, channel, err);
    if (rc == RF_OK)
        rc = load_rings(db, 1, rs, err);
    if (rc != RF_OK)
        goto out;
    if (nplan == 0) {
        for (int i = 0; i < rs->n && i < ROLLOUT_MAX_STAGES; i++)
            def[i] = (store_plan_stage){rs->rings[i].id, 0, 0};
        plan = def;
        nplan = rs->n < ROLLOUT_MAX_STAGES ? rs->n : ROLLOUT_MAX_STAGES;
    }
    rc = validate_plan(rs, plan, nplan, err);
    if (rc == RF_OK)
        rc = insert_rollout(db, bundle_id, channel, policy, actor, &id, err);
    if (rc == RF_OK)
        rc = insert_stages(db, id, plan, nplan, err);
    if (rc != RF_OK)
        goto out;
    data = json_pack("{s:I, s:s, s:i, s:o}", "bundle_id", (json_int_t)bundle_id, "channel", channel,
                     "stages", nplan, "policy", health_policy_to_json(policy));
    rc = store_event_add(db, "rollout.created", actor, id, NULL, data);
    if (rc == RF_OK)
        rc = store_commit(db);
    if (rc == RF_OK)
        *id_out = id;
out:
    if (rc != RF_OK)
        store_rollback(db);
    json_decref(data);
    free(rs);
    return rc;
}

rf_err store_rollout_check_plan(rf_db *db, const store_rollout *r, rf_error *err)
{
    store_plan_stage plan[ROLLOUT_MAX_STAGES];
    ring_set *rs = calloc(1, sizeof(*rs));
    if (rs == NULL)
        return rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    rf_err rc = load_rings(db, 1, rs, err);
    for (int i = 0; rc == RF_OK && i < r->sm.nstages; i++)
        plan[i] = (store_plan_stage){r->sm.stages[i].ring_id, r->sm.stages[i].bake_s,
                                     r->sm.stages[i].auto_promote};
    if (rc == RF_OK)
        rc = validate_plan(rs, plan, r->sm.nstages, err);
    free(rs);
    return rc;
}
