/* Named queries for channel plans and the ring set plans are checked
 * against (see store_plan.h). A stored plan is kept as the JSON of its stages
 * with ring ids; names are looked up again on every read, so renaming a ring
 * never breaks a plan, while adding or removing one makes it stale (shown as
 * valid: false, and refused at rollout creation). Every change is
 * conditional on the version read and recorded with before and after. */
#include "store_plan.h"
#include "plan_json.h"
#include "store_internal.h"
#include "rf_util.h"

#include <stdlib.h>
#include <string.h>

rf_err store_plan_rings(rf_db *db, int lock, store_ring_set *out, rf_error *err)
{
    PGresult *res = NULL;
    out->n = 0;
    rf_err rc = store_exec(db, lock ? "plan_rings_lock" : "plan_rings",
                           lock ? "SELECT id, ord, name FROM rings ORDER BY ord FOR SHARE"
                                : "SELECT id, ord, name FROM rings ORDER BY ord",
                           0, NULL, &res, err);
    for (int i = 0; rc == RF_OK && i < PQntuples(res) && i < STORE_MAX_RINGS; i++) {
        rf_snprintf(out->names[i], sizeof(out->names[i]), "%s", store_get(res, i, 2));
        out->rings[i].id = store_get_ll(res, i, 0);
        out->rings[i].order = (int)store_get_ll(res, i, 1);
        out->rings[i].name = out->names[i];
        out->n++;
    }
    PQclear(res);
    return rc;
}

rf_err store_plan_resolve(const store_ring_set *rs, plan_stage *st, int n, rf_error *err)
{
    for (int i = 0; i < n; i++) {
        int found = -1;
        for (int k = 0; k < rs->n && found < 0; k++)
            if (st[i].ring_id > 0 ? rs->rings[k].id == st[i].ring_id
                                  : strcmp(rs->names[k], st[i].ring_name) == 0)
                found = k;
        if (found < 0 && st[i].ring_id <= 0)
            return rf_error_set(err, RF_ERR_INVALID, "field 'stages[%d].ring': no ring '%s'", i,
                                st[i].ring_name);
        if (found >= 0 && st[i].ring_id > 0 && st[i].ring_name[0] != '\0' &&
            strcmp(st[i].ring_name, rs->names[found]) != 0)
            return rf_error_set(err, RF_ERR_INVALID,
                                "field 'stages[%d].ring': ring %lld is '%s', not '%s'", i,
                                st[i].ring_id, rs->names[found], st[i].ring_name);
        if (found >= 0) {
            st[i].ring_id = rs->rings[found].id;
            rf_snprintf(st[i].ring_name, sizeof(st[i].ring_name), "%s", rs->names[found]);
        }
    }
    return RF_OK;
}

json_t *store_plan_json(const store_channel_plan *p)
{
    return json_pack("{s:s, s:s, s:i, s:o, s:b, s:o, s:o, s:o}", "channel", p->channel, "source",
                     p->stored ? "stored" : "builtin", "version", p->version, "stages",
                     plan_stages_to_json(p->stages, p->n), "valid", p->valid, "problem",
                     p->valid ? json_null() : json_string(p->problem), "updated",
                     p->updated[0] ? json_string(p->updated) : json_null(), "updated_by",
                     p->updated_by[0] ? json_string(p->updated_by) : json_null());
}

/* Reads the stored row (FOR UPDATE when lock) into *out; *found says
 * whether there was one. */
static rf_err read_stored(rf_db *db, const char *channel, int lock, store_channel_plan *out,
                          int *found, rf_error *err)
{
    const char *p[] = {channel};
    PGresult *res = NULL;
    *found = 0;
    rf_err rc = store_exec(db, lock ? "plan_get_lock" : "plan_get",
                           lock ? "SELECT stages::text, version, " STORE_ISO(
                                      "updated_at") ", updated_by FROM channel_plans "
                                                    "WHERE channel = $1 FOR UPDATE"
                                : "SELECT stages::text, version, " STORE_ISO(
                                      "updated_at") ", updated_by FROM channel_plans "
                                                    "WHERE channel = $1",
                           1, p, &res, err);
    if (rc == RF_OK && PQntuples(res) == 1) {
        json_t *st = json_loads(store_get(res, 0, 0), 0, NULL);
        *found = 1;
        out->stored = 1;
        out->version = (int)store_get_ll(res, 0, 1);
        rf_snprintf(out->updated, sizeof(out->updated), "%s", store_get(res, 0, 2));
        rf_snprintf(out->updated_by, sizeof(out->updated_by), "%s", store_get(res, 0, 3));
        rf_error pe = {0};
        if (plan_stages_from_json(st, out->stages, &out->n, &pe) != RF_OK)
            out->n = 0; /* shown as not valid below */
        json_decref(st);
    }
    PQclear(res);
    return rc;
}

/* Fills valid/problem and the ring names of p against rs. */
static void judge(const store_ring_set *rs, store_channel_plan *p)
{
    rf_error e = {0};
    rf_err rc = store_plan_resolve(rs, p->stages, p->n, &e);
    if (rc == RF_OK)
        rc = plan_validate(p->stages, p->n, rs->rings, rs->n, &e);
    p->valid = rc == RF_OK;
    rf_snprintf(p->problem, sizeof(p->problem), "%s", rc == RF_OK ? "" : e.message);
}

static rf_err get_with(rf_db *db, const char *channel, int lock, const store_ring_set *rs,
                       store_channel_plan *out, rf_error *err)
{
    int found = 0;
    memset(out, 0, sizeof(*out));
    rf_snprintf(out->channel, sizeof(out->channel), "%s", channel);
    rf_err rc = read_stored(db, channel, lock, out, &found, err);
    if (rc != RF_OK)
        return rc;
    if (!found)
        out->n = plan_builtin(channel, rs->rings, rs->n, out->stages);
    judge(rs, out);
    return RF_OK;
}

rf_err store_plan_get(rf_db *db, const char *channel, store_channel_plan *out, rf_error *err)
{
    store_ring_set *rs = calloc(1, sizeof(*rs));
    if (rs == NULL)
        return rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    rf_err rc = store_plan_rings(db, 0, rs, err);
    if (rc == RF_OK)
        rc = get_with(db, channel, 0, rs, out, err);
    free(rs);
    return rc;
}

static rf_err check_version(const store_channel_plan *have, int expect, rf_error *err)
{
    if (expect >= 0 && have->version != expect)
        return rf_error_set(err, RF_ERR_CONFLICT,
                            "the plan of channel '%s' is at version %d, not %d (If-Match); "
                            "reload it",
                            have->channel, have->version, expect);
    return RF_OK;
}

static rf_err record(rf_db *db, const char *kind, const char *actor, const store_channel_plan *b,
                     const store_channel_plan *a)
{
    json_t *data = json_pack("{s:s, s:o, s:o}", "channel", a->channel, "before", store_plan_json(b),
                             "after", store_plan_json(a));
    rf_err rc = data ? store_event_add(db, kind, actor, 0, NULL, data) : RF_ERR_NOMEM;
    json_decref(data);
    return rc;
}

/* The transaction of a put (st != NULL) or a reset (st == NULL). */
static rf_err change(rf_db *db, const char *channel, plan_stage *st, int n, int expect,
                     const char *actor, store_channel_plan *before, store_channel_plan *after,
                     store_ring_set *rs, rf_error *err)
{
    char *text = NULL;
    PGresult *res = NULL;
    rf_err rc = store_plan_rings(db, 1, rs, err);
    if (rc == RF_OK)
        rc = get_with(db, channel, 1, rs, before, err);
    if (rc == RF_OK)
        rc = check_version(before, expect, err);
    if (rc == RF_OK && st != NULL)
        rc = store_plan_resolve(rs, st, n, err);
    if (rc == RF_OK && st != NULL)
        rc = plan_validate(st, n, rs->rings, rs->n, err);
    if (rc != RF_OK)
        return rc;
    if (st != NULL) {
        /* Stored by ring id only, so that renaming a ring keeps the plan. */
        for (int i = 0; i < n; i++)
            st[i].ring_name[0] = '\0';
        json_t *j = plan_stages_to_json(st, n);
        text = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        if (text == NULL)
            return rf_error_set(err, RF_ERR_NOMEM, "out of memory");
        const char *p[] = {channel, text, actor};
        rc = store_exec(db, "plan_put",
                        "INSERT INTO channel_plans (channel, stages, updated_by) "
                        "VALUES ($1, $2::jsonb, $3) ON CONFLICT (channel) DO UPDATE SET "
                        "stages = EXCLUDED.stages, version = channel_plans.version + 1, "
                        "updated_at = now(), updated_by = EXCLUDED.updated_by",
                        3, p, &res, err);
    } else {
        const char *p[] = {channel};
        rc = store_exec(db, "plan_reset", "DELETE FROM channel_plans WHERE channel = $1", 1, p,
                        &res, err);
    }
    PQclear(res);
    free(text);
    if (rc == RF_OK)
        rc = get_with(db, channel, 0, rs, after, err);
    if (rc == RF_OK)
        rc = record(db, st != NULL ? "channel.plan_updated" : "channel.plan_reset", actor, before,
                    after);
    return rc;
}

static rf_err change_tx(rf_db *db, const char *channel, plan_stage *st, int n, int expect,
                        const char *actor, store_channel_plan *after, rf_error *err)
{
    store_channel_plan *before = calloc(1, sizeof(*before));
    store_ring_set *rs = calloc(1, sizeof(*rs));
    rf_err rc = before && rs ? store_begin(db) : RF_ERR_NOMEM;
    if (rc == RF_ERR_NOMEM)
        rf_error_set(err, rc, "out of memory");
    if (rc == RF_OK)
        rc = change(db, channel, st, n, expect, actor, before, after, rs, err);
    if (rc == RF_OK)
        rc = store_commit(db);
    if (rc != RF_OK)
        store_rollback(db);
    free(before);
    free(rs);
    return rc;
}

rf_err store_plan_put(rf_db *db, const char *channel, plan_stage *st, int n, int expect_version,
                      const char *actor, store_channel_plan *after, rf_error *err)
{
    return change_tx(db, channel, st, n, expect_version, actor, after, err);
}

rf_err store_plan_reset(rf_db *db, const char *channel, int expect_version, const char *actor,
                        store_channel_plan *after, rf_error *err)
{
    return change_tx(db, channel, NULL, 0, expect_version, actor, after, err);
}

rf_err store_plan_channels(rf_db *db, json_t **out, rf_error *err)
{
    PGresult *res = NULL;
    *out = NULL;
    rf_err rc = store_exec(
        db, "plan_channels",
        "SELECT c.channel, EXISTS (SELECT 1 FROM channel_plans p WHERE p.channel = c.channel), "
        "(SELECT r.id FROM rollouts r WHERE r.channel = c.channel AND r.state IN "
        "('active', 'paused', 'halted') ORDER BY r.id DESC LIMIT 1), "
        "(SELECT count(*) FROM bundles b WHERE b.channel = c.channel) "
        "FROM (SELECT channel FROM bundles UNION SELECT channel FROM channel_plans) c "
        "ORDER BY c.channel LIMIT 1000",
        0, NULL, &res, err);
    json_t *arr = rc == RF_OK ? json_array() : NULL;
    for (int i = 0; arr != NULL && i < PQntuples(res); i++)
        json_array_append_new(
            arr, json_pack("{s:s, s:s, s:o, s:I}", "name", store_get(res, i, 0), "plan_source",
                           store_get(res, i, 1)[0] == 't' ? "stored" : "builtin", "live_rollout",
                           store_is_null(res, i, 2) ? json_null()
                                                    : json_integer(store_get_ll(res, i, 2)),
                           "bundles", (json_int_t)store_get_ll(res, i, 3)));
    if (rc == RF_OK && arr == NULL)
        rc = rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    if (rc == RF_OK)
        *out = json_pack("{s:o}", "channels", arr);
    PQclear(res);
    return rc;
}
