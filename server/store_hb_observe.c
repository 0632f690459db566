/* The exposure side of heartbeat ingest: for a batch's newest reports, reads
 * the live rollouts of the channels reported and the devices' exposures to
 * them in two statements, lets health_observe decide, and writes only the
 * exposures that changed (with a device.failed event when one failed). It
 * never un-fails an exposure: an update only touches one not failed yet. */
#include "pg_array.h"
#include "store_agent_internal.h"
#include "store_hb_internal.h"
#include "store_internal.h"
#include "rf_util.h"

#include <stdlib.h>
#include <string.h>

#define ARRAY_CAP (16u << 20)

const agent_hb_channel *hb_find_channel(const agent_heartbeat *hb, const char *name)
{
    for (int i = 0; name != NULL && i < hb->n; i++)
        if (strcmp(hb->ch[i].name, name) == 0)
            return &hb->ch[i];
    return NULL;
}

/* One live rollout of a reported channel, as the heartbeat needs it. */
typedef struct hb_rollout {
    long long id;
    long long bundle_id;
    const char *channel; /* borrowed from the result */
    const char *plan;    /* AGENT_PLAN_SQL text; borrowed */
    const char *salt;    /* borrowed */
    health_policy policy;
} hb_rollout;

/* One (device, live rollout) pair and the device's exposure to it. */
typedef struct hb_pair {
    hb_item *it;
    const hb_rollout *r;
    const agent_hb_channel *c;
    health_exposure ex;
    int stage;
} hb_pair;

/* The stage of the device in a rollout's plan, or -1. */
static rf_err device_stage(rf_db *db, hb_batch *b, const hb_item *it, const hb_rollout *r,
                           int *stage, rf_error *err)
{
    assign_rollout ar;
    *stage = -1;
    memset(&ar, 0, sizeof(ar));
    if (b->ix == NULL) {
        b->ix = calloc(1, sizeof(*b->ix));
        if (b->ix == NULL)
            return rf_error_set(err, RF_ERR_NOMEM, "out of memory");
        rf_err rc = ring_index_load(db, b->ix, err);
        if (rc != RF_OK) {
            free(b->ix);
            b->ix = NULL;
            return rc;
        }
    }
    if (agent_plan_parse(b->ix, r->plan, &ar) > 0)
        *stage =
            agent_device_stage(b->ix, &ar, r->salt, it->job->device_id, it->labels, it->bucket);
    return RF_OK;
}

static void id_param(char *buf, size_t n, long long id, const char **param)
{
    rf_snprintf(buf, n, "%lld", id);
    *param = id > 0 ? buf : NULL;
}

/* Epoch seconds as parameters; 0 ("not yet") becomes NULL. */
typedef struct exposure_params {
    char ids[24], st[16], at[4][24];
} exposure_params;

static rf_err insert_exposure(rf_db *db, hb_batch *b, hb_pair *pr, int *written, rf_error *err)
{
    exposure_params ep;
    const char *p[8] = {ep.ids, pr->it->job->device_id, ep.st};
    PGresult *res = NULL;
    const health_exposure *ex = &pr->ex;
    int64_t times[4] = {ex->exposed_at, ex->activated_at, ex->healthy_at, ex->failed_at};
    rf_err rc = device_stage(db, b, pr->it, pr->r, &pr->stage, err);
    if (rc != RF_OK)
        return rc;
    rf_snprintf(ep.ids, sizeof(ep.ids), "%lld", pr->r->id);
    rf_snprintf(ep.st, sizeof(ep.st), "%d", pr->stage);
    for (int i = 0; i < 4; i++)
        id_param(ep.at[i], sizeof(ep.at[i]), (long long)times[i], &p[3 + i]);
    p[7] = ex->failure != HEALTH_FAIL_NONE ? health_failure_name(ex->failure) : NULL;
    rc = store_exec(db, "hb_exposure_insert",
                    "INSERT INTO exposures (rollout_id, device_id, stage, exposed_at, "
                    "activated_at, healthy_at, failed_at, failure) VALUES ($1, $2, $3, "
                    "to_timestamp($4::bigint), to_timestamp($5::bigint), "
                    "to_timestamp($6::bigint), to_timestamp($7::bigint), $8) "
                    "ON CONFLICT (rollout_id, device_id) DO NOTHING RETURNING stage",
                    8, p, &res, err);
    *written = rc == RF_OK && PQntuples(res) == 1;
    PQclear(res);
    return rc;
}

/* Only an exposure that has not failed meanwhile (the evaluator may have
 * marked it silent since it was read) is updated. */
static rf_err update_exposure(rf_db *db, const hb_pair *pr, int *written, rf_error *err)
{
    exposure_params ep;
    const char *p[6] = {ep.ids, pr->it->job->device_id};
    PGresult *res = NULL;
    const health_exposure *ex = &pr->ex;
    int64_t times[3] = {ex->activated_at, ex->healthy_at, ex->failed_at};
    rf_snprintf(ep.ids, sizeof(ep.ids), "%lld", pr->r->id);
    for (int i = 0; i < 3; i++)
        id_param(ep.at[i], sizeof(ep.at[i]), (long long)times[i], &p[2 + i]);
    p[5] = ex->failure != HEALTH_FAIL_NONE ? health_failure_name(ex->failure) : NULL;
    rf_err rc = store_exec(db, "hb_exposure_update",
                           "UPDATE exposures SET "
                           "activated_at = COALESCE(activated_at, to_timestamp($3::bigint)), "
                           "healthy_at = COALESCE(healthy_at, to_timestamp($4::bigint)), "
                           "failed_at = to_timestamp($5::bigint), failure = $6 "
                           "WHERE rollout_id = $1 AND device_id = $2 AND failed_at IS NULL "
                           "RETURNING stage",
                           6, p, &res, err);
    *written = rc == RF_OK && PQntuples(res) == 1;
    PQclear(res);
    return rc;
}

/* Folds one report into the device's exposure (pr->ex, as read). */
static rf_err observe(rf_db *db, hb_batch *b, hb_pair *pr, rf_error *err)
{
    int written = 0;
    unsigned chg =
        health_observe(&pr->r->policy, pr->r->bundle_id, &pr->c->rep, pr->it->now_s, &pr->ex);
    if (chg == 0)
        return RF_OK;
    rf_err rc = (chg & HEALTH_CHG_EXPOSED) ? insert_exposure(db, b, pr, &written, err)
                                           : update_exposure(db, pr, &written, err);
    if (rc == RF_OK && written)
        pr->it->job->changed = 1; /* its assignment answer may differ now */
    if (rc != RF_OK || !written || !(chg & HEALTH_CHG_FAILED))
        return rc;
    json_t *data =
        json_pack("{s:s, s:s, s:I, s:i}", "reason", health_failure_name(pr->ex.failure), "channel",
                  pr->r->channel, "bundle_id", (json_int_t)pr->r->bundle_id, "stage", pr->stage);
    const char *dev = pr->it->job->device_id;
    rc = store_event_add(db, "device.failed", dev, pr->r->id, dev, data);
    json_decref(data);
    return rc;
}

/* The live rollouts (active, paused, halted) of every channel reported. */
static rf_err live_rollouts(rf_db *db, const hb_batch *b, PGresult **res, rf_error *err)
{
    pg_array chans;
    pg_array_init(&chans, ARRAY_CAP);
    for (int i = 0; i < b->n; i++)
        for (int k = 0; b->items[i].newest && k < b->items[i].job->hb->n; k++)
            pg_array_add(&chans, b->items[i].job->hb->ch[k].name);
    const char *p[] = {pg_array_text(&chans)};
    rf_err rc =
        p[0] == NULL
            ? rf_error_set(err, RF_ERR_TOO_LARGE, "heartbeat batch too large")
            : store_exec(db, "hb_live_rollouts",
                         "SELECT r.id, r.channel, r.bundle_id, r.policy::text, "
                         " " AGENT_PLAN_SQL("r") ", r.salt FROM rollouts r WHERE r.channel = "
                                                 "ANY($1::text[]) AND r.state IN ('active', "
                                                 "'paused', 'halted') ORDER BY r.id",
                         1, p, res, err);
    pg_array_cleanup(&chans);
    return rc;
}

static void parse_rollout(const PGresult *res, int i, hb_rollout *r)
{
    r->id = store_get_ll(res, i, 0);
    r->channel = store_get(res, i, 1);
    r->bundle_id = store_get_ll(res, i, 2);
    r->plan = store_get(res, i, 4);
    r->salt = store_get(res, i, 5);
    health_policy_default(&r->policy);
    json_t *pol = json_loads(store_get(res, i, 3) ? store_get(res, i, 3) : "{}", 0, NULL);
    if (health_policy_parse(pol, "policy", &r->policy, NULL) != RF_OK)
        health_policy_default(&r->policy);
    json_decref(pol);
}

/* Reads the exposures of every pair in one statement into pr[].ex. */
static rf_err read_exposures(rf_db *db, hb_pair *pairs, int np, rf_error *err)
{
    pg_array a[2];
    PGresult *res = NULL;
    pg_array_init(&a[0], ARRAY_CAP);
    pg_array_init(&a[1], ARRAY_CAP);
    for (int i = 0; i < np; i++) {
        pg_array_add_ll(&a[0], pairs[i].r->id);
        pg_array_add(&a[1], pairs[i].it->job->device_id);
    }
    const char *p[] = {pg_array_text(&a[0]), pg_array_text(&a[1])};
    rf_err rc =
        p[0] == NULL || p[1] == NULL
            ? rf_error_set(err, RF_ERR_TOO_LARGE, "heartbeat batch too large")
            : store_exec(db, "hb_exposures_get",
                         "SELECT e.rollout_id, e.device_id, e.stage, "
                         "coalesce(floor(extract(epoch FROM e.exposed_at))::bigint, 0), "
                         "coalesce(floor(extract(epoch FROM e.activated_at))::bigint, 0), "
                         "coalesce(floor(extract(epoch FROM e.healthy_at))::bigint, 0), "
                         "coalesce(floor(extract(epoch FROM e.failed_at))::bigint, 0), e.failure "
                         "FROM exposures e JOIN unnest($1::bigint[], $2::text[]) AS t(r, d) "
                         "ON e.rollout_id = t.r AND e.device_id = t.d",
                         2, p, &res, err);
    for (int row = 0; rc == RF_OK && row < PQntuples(res); row++) {
        long long rid = store_get_ll(res, row, 0);
        const char *dev = store_get(res, row, 1);
        for (int i = 0; i < np; i++) {
            hb_pair *pr = &pairs[i];
            if (pr->r->id != rid || strcmp(pr->it->job->device_id, dev) != 0)
                continue;
            pr->ex.exposed = 1;
            pr->stage = (int)store_get_ll(res, row, 2);
            pr->ex.exposed_at = store_get_ll(res, row, 3);
            pr->ex.activated_at = store_get_ll(res, row, 4);
            pr->ex.healthy_at = store_get_ll(res, row, 5);
            pr->ex.failed_at = store_get_ll(res, row, 6);
            if (health_failure_parse(store_get(res, row, 7), &pr->ex.failure) != 0)
                pr->ex.failure = HEALTH_FAIL_NONE;
        }
    }
    PQclear(res);
    pg_array_cleanup(&a[0]);
    pg_array_cleanup(&a[1]);
    return rc;
}

/* Every (device, live rollout of a channel it reports), device by device. */
static int make_pairs(hb_batch *b, const hb_rollout *rs, int nr, hb_pair *pairs)
{
    int np = 0;
    for (int i = 0; i < b->n; i++) {
        hb_item *it = &b->items[i];
        for (int k = 0; it->newest && k < nr; k++) {
            const agent_hb_channel *c = hb_find_channel(it->job->hb, rs[k].channel);
            if (c == NULL)
                continue;
            if (c->rep.target_bundle_id == rs[k].bundle_id)
                it->rids[c - it->job->hb->ch] = rs[k].id;
            pairs[np++] = (hb_pair){.it = it, .r = &rs[k], .c = c, .stage = -1};
        }
    }
    return np;
}

rf_err hb_observe_live(rf_db *db, hb_batch *b, rf_error *err)
{
    PGresult *res = NULL;
    hb_rollout *rs = NULL;
    hb_pair *pairs = NULL;
    rf_err rc = live_rollouts(db, b, &res, err);
    int nr = rc == RF_OK ? PQntuples(res) : 0;
    if (nr == 0)
        goto out;
    rs = calloc((size_t)nr, sizeof(*rs));
    pairs = calloc((size_t)nr * (size_t)b->n, sizeof(*pairs));
    if (rs == NULL || pairs == NULL) {
        rc = rf_error_set(err, RF_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < nr; i++)
        parse_rollout(res, i, &rs[i]);
    int np = make_pairs(b, rs, nr, pairs);
    if (np > 0)
        rc = read_exposures(db, pairs, np, err);
    for (int i = 0; rc == RF_OK && i < np; i++)
        rc = observe(db, b, &pairs[i], err);
out:
    free(pairs);
    free(rs);
    PQclear(res);
    return rc;
}
