/* Creating a rollout: its plan (the one sent, or the channel's default)
 * checked against the rings locked FOR SHARE, a fresh random salt for the
 * order within rings, and the rollout.created event, all in one transaction.
 * Also re-checking a stored plan against the rings at start. It never builds
 * SQL from input: parameters only (array literals hold numbers). */
#include "store_plan.h"
#include "store_rollout.h"
#include "plan_json.h"
#include "store_internal.h"
#include "rf_buf.h"
#include "rf_crypto.h"
#include "rf_util.h"

#include <stdlib.h>
#include <string.h>

static rf_err insert_rollout(rf_db *db, long long bundle_id, const char *channel,
                             const health_policy *policy, const char *actor, const char *salt,
                             long long *id, rf_error *err)
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
    const char *p[] = {bid, channel, pol, actor, salt};
    rf_err rc = store_exec(db, "rollout_insert",
                           "INSERT INTO rollouts (bundle_id, channel, state, policy, created_by, "
                           "salt) VALUES ($1, $2, 'draft', $3::jsonb, $4, $5) RETURNING id",
                           5, p, &res, err);
    if (rc == RF_OK)
        *id = store_get_ll(res, 0, 0);
    PQclear(res);
    free(pol);
    return rc;
}

/* The plan's columns as array literals: one rf_buf per column. */
enum { COL_RING, COL_BAKE, COL_AUTO, COL_PCT, COL_MINH, COL_RATE, COL_APPR, NCOLS };

static rf_err columns(const plan_stage *plan, int n, rf_buf *c)
{
    rf_err rc = RF_OK;
    for (int k = 0; rc == RF_OK && k < NCOLS; k++)
        rc = rf_buf_append_str(&c[k], "{");
    for (int i = 0; rc == RF_OK && i < n; i++) {
        const char *sep = i ? "," : "";
        const plan_stage *s = &plan[i];
        rc = rf_buf_printf(&c[COL_RING], "%s%lld", sep, s->ring_id);
        rc = rc ? rc : rf_buf_printf(&c[COL_BAKE], "%s%d", sep, s->bake_s);
        rc = rc ? rc : rf_buf_printf(&c[COL_AUTO], "%s%s", sep, s->auto_promote ? "t" : "f");
        rc = rc ? rc : rf_buf_printf(&c[COL_PCT], "%s%d", sep, s->percent);
        rc = rc ? rc : rf_buf_printf(&c[COL_MINH], "%s%d", sep, s->min_healthy);
        if (rc == RF_OK && s->max_failure_rate > 0.0)
            rc = rf_buf_printf(&c[COL_RATE], "%s%.17g", sep, s->max_failure_rate);
        else if (rc == RF_OK)
            rc = rf_buf_printf(&c[COL_RATE], "%sNULL", sep);
        rc = rc ? rc : rf_buf_printf(&c[COL_APPR], "%s%s", sep, s->require_approval ? "t" : "f");
    }
    for (int k = 0; rc == RF_OK && k < NCOLS; k++)
        rc = rf_buf_append_str(&c[k], "}");
    return rc;
}

static rf_err insert_stages(rf_db *db, long long id, const plan_stage *plan, int n, rf_error *err)
{
    rf_buf c[NCOLS];
    char ids[24];
    PGresult *res = NULL;
    for (int k = 0; k < NCOLS; k++)
        rf_buf_init(&c[k], 1 << 16);
    rf_snprintf(ids, sizeof(ids), "%lld", id);
    rf_err rc = columns(plan, n, c);
    if (rc != RF_OK) {
        rc = rf_error_set(err, rc, "stages: too many");
        goto out;
    }
    const char *p[] = {ids,
                       c[COL_RING].data,
                       c[COL_BAKE].data,
                       c[COL_AUTO].data,
                       c[COL_PCT].data,
                       c[COL_MINH].data,
                       c[COL_RATE].data,
                       c[COL_APPR].data};
    rc = store_exec(
        db, "rollout_stages_insert",
        "INSERT INTO rollout_stages (rollout_id, idx, ring_id, bake_s, auto_promote, "
        "percent, min_healthy, max_failure_rate, require_approval) "
        "SELECT $1, t.i - 1, t.r, t.b, t.a, t.p, t.m, t.f, t.q FROM unnest($2::bigint[], "
        "$3::int[], $4::bool[], $5::int[], $6::int[], $7::float8[], $8::bool[]) "
        "WITH ORDINALITY AS t(r, b, a, p, m, f, q, i)",
        8, p, &res, err);
out:
    PQclear(res);
    for (int k = 0; k < NCOLS; k++)
        rf_buf_cleanup(&c[k]);
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
        rf_snprintf(channel, 65, "%s", store_get(res, 0, 0));
    PQclear(res);
    return rc;
}

/* The plan to create: the one sent (names resolved), or the channel's. */
static rf_err choose_plan(rf_db *db, const char *channel, const store_ring_set *rs,
                          plan_stage *plan, int *nplan, rf_error *err)
{
    if (*nplan > 0)
        return store_plan_resolve(rs, plan, *nplan, err);
    store_channel_plan *cp = calloc(1, sizeof(*cp));
    if (cp == NULL)
        return rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    rf_err rc = store_plan_get(db, channel, cp, err);
    if (rc == RF_OK && !cp->valid && cp->stored)
        rc = rf_error_set(err, RF_ERR_CONFLICT,
                          "the stored plan of channel '%s' no longer matches the rings (%.120s); "
                          "update it or send stages",
                          channel, cp->problem);
    if (rc == RF_OK) {
        memcpy(plan, cp->stages, (size_t)cp->n * sizeof(*plan));
        *nplan = cp->n;
        rc = store_plan_resolve(rs, plan, *nplan, err);
    }
    free(cp);
    return rc;
}

static json_t *created_data(long long bundle_id, const char *channel, const plan_stage *plan, int n,
                            const health_policy *policy)
{
    return json_pack("{s:I, s:s, s:i, s:o, s:o, s:n, s:o}", "bundle_id", (json_int_t)bundle_id,
                     "channel", channel, "stages", n, "plan", plan_stages_to_json(plan, n),
                     "policy", health_policy_to_json(policy), "before", "after",
                     store_rollout_brief(ROLLOUT_DRAFT, -1, 1));
}

rf_err store_rollout_create(rf_db *db, long long bundle_id, const health_policy *policy,
                            plan_stage *plan, int nplan, const char *actor, long long *id_out,
                            rf_error *err)
{
    char channel[65], salt[17];
    uint8_t raw[8];
    store_ring_set *rs = calloc(1, sizeof(*rs));
    long long id = 0;
    json_t *data = NULL;
    if (rs == NULL)
        return rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    rf_err rc = rf_random(raw, sizeof(raw));
    if (rc != RF_OK) {
        free(rs);
        return rf_error_set(err, rc, "no randomness for the rollout's salt");
    }
    rf_hex_encode(raw, sizeof(raw), salt);
    rc = store_begin(db);
    if (rc == RF_OK)
        rc = bundle_channel(db, bundle_id, channel, err);
    if (rc == RF_OK)
        rc = store_plan_rings(db, 1, rs, err);
    if (rc == RF_OK)
        rc = choose_plan(db, channel, rs, plan, &nplan, err);
    if (rc == RF_OK)
        rc = plan_validate(plan, nplan, rs->rings, rs->n, err);
    if (rc == RF_OK)
        rc = insert_rollout(db, bundle_id, channel, policy, actor, salt, &id, err);
    if (rc == RF_OK)
        rc = insert_stages(db, id, plan, nplan, err);
    if (rc != RF_OK)
        goto out;
    data = created_data(bundle_id, channel, plan, nplan, policy);
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
    plan_stage plan[ROLLOUT_MAX_STAGES];
    store_ring_set *rs = calloc(1, sizeof(*rs));
    if (rs == NULL)
        return rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    rf_err rc = store_plan_rings(db, 1, rs, err);
    for (int i = 0; rc == RF_OK && i < r->sm.nstages; i++) {
        const rollout_stage *s = &r->sm.stages[i];
        plan_stage_default(&plan[i]);
        plan[i].ring_id = s->ring_id;
        plan[i].percent = s->percent > 0 ? s->percent : 100;
        plan[i].bake_s = s->bake_s;
        plan[i].min_healthy = s->min_healthy;
        plan[i].max_failure_rate = s->max_failure_rate;
    }
    if (rc == RF_OK)
        rc = plan_validate(plan, r->sm.nstages, rs->rings, rs->n, err);
    free(rs);
    return rc;
}
