/* Heartbeat ingest: one transaction per heartbeat that stores it raw
 * (idempotent by device and sequence number through heartbeat_keys), updates the device and what it
 * reports per channel, and folds the reports into its exposures to every
 * live rollout (health.c decides). A heartbeat seen before changes nothing;
 * nothing is answered before the commit; a failed device is never un-failed,
 * even by a report racing the evaluator. */
#include "store_agent.h"
#include "store_agent_internal.h"
#include "store_internal.h"
#include "rf_buf.h"
#include "rf_log.h"
#include "rf_util.h"

#include <stdlib.h>
#include <string.h>

/* One exposure, times as epoch seconds (0 for NULL). */
#define EXPOSURE_SQL                                                                               \
    "SELECT stage, coalesce(floor(extract(epoch FROM exposed_at))::bigint, 0), "                   \
    "coalesce(floor(extract(epoch FROM activated_at))::bigint, 0), "                               \
    "coalesce(floor(extract(epoch FROM healthy_at))::bigint, 0), "                                 \
    "coalesce(floor(extract(epoch FROM failed_at))::bigint, 0), failure "                          \
    "FROM exposures WHERE rollout_id = $1 AND device_id = $2"

/* What the transaction learned about the device up front. */
typedef struct hb_device {
    const char *id;
    long long last_seq;
    int64_t now_s;
    json_t *labels; /* owned */
    int bucket;
} hb_device;

static rf_err lock_device(rf_db *db, hb_device *d, rf_error *err)
{
    const char *p[] = {d->id};
    PGresult *res = NULL;
    rf_err rc = store_exec(db, "hb_lock_device",
                           "SELECT last_seq, floor(extract(epoch FROM now()))::bigint, "
                           "labels::text, bucket FROM devices WHERE id = $1 FOR UPDATE",
                           1, p, &res, err);
    if (rc == RF_OK && PQntuples(res) != 1)
        rc = rf_error_set(err, RF_ERR_NOT_FOUND, "device %s not found", d->id);
    if (rc == RF_OK) {
        d->last_seq = store_get_ll(res, 0, 0);
        d->now_s = store_get_ll(res, 0, 1);
        d->labels = json_loads(store_get(res, 0, 2) ? store_get(res, 0, 2) : "{}", 0, NULL);
        d->bucket = (int)store_get_ll(res, 0, 3);
    }
    PQclear(res);
    return rc;
}

/* Claims (device, seq) in heartbeat_keys and, only for a new key, stores the
 * raw body in the partitioned heartbeats table (same transaction, same
 * received_at); *inserted is 0 when (device, seq) was seen. */
static rf_err insert_raw(rf_db *db, const char *device_id, const agent_heartbeat *hb, int *inserted,
                         rf_error *err)
{
    char seq[24];
    const char *p[] = {device_id, seq, hb->body};
    PGresult *res = NULL;
    rf_snprintf(seq, sizeof(seq), "%lld", hb->seq);
    rf_err rc = store_exec(db, "hb_insert_key",
                           "INSERT INTO heartbeat_keys (device_id, seq) VALUES ($1, $2) "
                           "ON CONFLICT (device_id, seq) DO NOTHING RETURNING seq",
                           2, p, &res, err);
    *inserted = rc == RF_OK && PQntuples(res) == 1;
    PQclear(res);
    res = NULL;
    if (rc == RF_OK && *inserted)
        rc = store_exec(db, "hb_insert",
                        "INSERT INTO heartbeats (device_id, seq, received_at, body) "
                        "VALUES ($1, $2, now(), $3::jsonb)",
                        3, p, &res, err);
    PQclear(res);
    return rc;
}

static rf_err update_device(rf_db *db, const char *device_id, const agent_heartbeat *hb,
                            rf_error *err)
{
    char seq[24], iv[16];
    PGresult *res = NULL;
    rf_snprintf(seq, sizeof(seq), "%lld", hb->seq);
    rf_snprintf(iv, sizeof(iv), "%d", hb->interval_s);
    const char *p[] = {device_id, seq, hb->boot_id, iv};
    rf_err rc = store_exec(db, "hb_update_device",
                           "UPDATE devices SET last_seen_at = now(), "
                           "last_seq = GREATEST(last_seq, $2::bigint), "
                           "boot_id = CASE WHEN $2::bigint >= last_seq THEN "
                           "COALESCE($3, boot_id) ELSE boot_id END, "
                           "heartbeat_interval_s = CASE WHEN $2::bigint >= last_seq AND "
                           "$4::int > 0 THEN $4::int ELSE heartbeat_interval_s END "
                           "WHERE id = $1",
                           4, p, &res, err);
    PQclear(res);
    return rc;
}

static void id_param(char *buf, size_t n, long long id, const char **param)
{
    rf_snprintf(buf, n, "%lld", id);
    *param = id > 0 ? buf : NULL;
}

static rf_err upsert_channel(rf_db *db, const char *device_id, const agent_hb_channel *c,
                             rf_error *err)
{
    char bid[24], tid[24], boots[24], unclean[24], crashes[24], rb[24];
    const char *p[10] = {device_id, c->name, NULL, health_dev_state_name(c->rep.state)};
    PGresult *res = NULL;
    id_param(bid, sizeof(bid), c->rep.bundle_id, &p[2]);
    id_param(tid, sizeof(tid), c->rep.target_bundle_id, &p[4]);
    rf_snprintf(boots, sizeof(boots), "%lld", c->rep.boots);
    rf_snprintf(unclean, sizeof(unclean), "%lld", c->rep.unclean_shutdowns);
    rf_snprintf(crashes, sizeof(crashes), "%lld", c->rep.crashes);
    rf_snprintf(rb, sizeof(rb), "%lld", c->rep.local_rollbacks);
    p[5] = boots;
    p[6] = unclean;
    p[7] = crashes;
    p[8] = rb;
    p[9] = c->error;
    rf_err rc = store_exec(
        db, "hb_upsert_channel",
        "INSERT INTO device_channels (device_id, channel, bundle_id, state, target_bundle_id, "
        "boots, unclean_shutdowns, crashes, local_rollbacks, error, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now()) "
        "ON CONFLICT (device_id, channel) DO UPDATE SET bundle_id = EXCLUDED.bundle_id, "
        "state = EXCLUDED.state, target_bundle_id = EXCLUDED.target_bundle_id, "
        "boots = EXCLUDED.boots, unclean_shutdowns = EXCLUDED.unclean_shutdowns, "
        "crashes = EXCLUDED.crashes, local_rollbacks = EXCLUDED.local_rollbacks, "
        "error = EXCLUDED.error, updated_at = now()",
        10, p, &res, err);
    PQclear(res);
    return rc;
}

/* The stage of the device in a rollout's plan (AGENT_PLAN_SQL text), or -1. */
static rf_err device_stage(rf_db *db, hb_device *d, const char *plan, const char *salt, int *stage,
                           rf_error *err)
{
    ring_index ix;
    assign_rollout r;
    *stage = -1;
    memset(&r, 0, sizeof(r));
    rf_err rc = ring_index_load(db, &ix, err);
    if (rc != RF_OK)
        return rc;
    if (agent_plan_parse(&ix, plan, &r) > 0)
        *stage = agent_device_stage(&ix, &r, salt, d->id, d->labels, d->bucket);
    ring_index_cleanup(&ix);
    return RF_OK;
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

/* Epoch seconds as parameters; 0 ("not yet") becomes NULL. */
typedef struct exposure_params {
    char ids[24], st[16], at[4][24];
} exposure_params;

static rf_err insert_exposure(rf_db *db, hb_device *d, const hb_rollout *r,
                              const health_exposure *ex, int *stage, int *written, rf_error *err)
{
    exposure_params ep;
    const char *p[8] = {ep.ids, d->id, ep.st};
    PGresult *res = NULL;
    int64_t times[4] = {ex->exposed_at, ex->activated_at, ex->healthy_at, ex->failed_at};
    rf_err rc = device_stage(db, d, r->plan, r->salt, stage, err);
    if (rc != RF_OK)
        return rc;
    rf_snprintf(ep.ids, sizeof(ep.ids), "%lld", r->id);
    rf_snprintf(ep.st, sizeof(ep.st), "%d", *stage);
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
static rf_err update_exposure(rf_db *db, const hb_device *d, const hb_rollout *r,
                              const health_exposure *ex, int *written, rf_error *err)
{
    exposure_params ep;
    const char *p[6] = {ep.ids, d->id};
    PGresult *res = NULL;
    int64_t times[3] = {ex->activated_at, ex->healthy_at, ex->failed_at};
    rf_snprintf(ep.ids, sizeof(ep.ids), "%lld", r->id);
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

/* Folds the report into the device's exposure to r. */
static rf_err observe(rf_db *db, hb_device *d, const hb_rollout *r, const health_report *rep,
                      rf_error *err)
{
    char ids[24];
    const char *p[] = {ids, d->id};
    PGresult *res = NULL;
    health_exposure ex = {0};
    int stage = -1, written = 0;
    json_t *data = NULL;
    rf_snprintf(ids, sizeof(ids), "%lld", r->id);
    rf_err rc = store_exec(db, "hb_exposure_get", EXPOSURE_SQL, 2, p, &res, err);
    if (rc != RF_OK)
        goto out;
    if (PQntuples(res) == 1) {
        ex.exposed = 1;
        stage = (int)store_get_ll(res, 0, 0);
        ex.exposed_at = store_get_ll(res, 0, 1);
        ex.activated_at = store_get_ll(res, 0, 2);
        ex.healthy_at = store_get_ll(res, 0, 3);
        ex.failed_at = store_get_ll(res, 0, 4);
        if (health_failure_parse(store_get(res, 0, 5), &ex.failure) != 0)
            ex.failure = HEALTH_FAIL_NONE;
    }
    unsigned chg = health_observe(&r->policy, r->bundle_id, rep, d->now_s, &ex);
    if (chg == 0)
        goto out;
    if (chg & HEALTH_CHG_EXPOSED)
        rc = insert_exposure(db, d, r, &ex, &stage, &written, err);
    else
        rc = update_exposure(db, d, r, &ex, &written, err);
    if (rc != RF_OK || !written || !(chg & HEALTH_CHG_FAILED))
        goto out;
    data = json_pack("{s:s, s:s, s:I, s:i}", "reason", health_failure_name(ex.failure), "channel",
                     r->channel, "bundle_id", (json_int_t)r->bundle_id, "stage", stage);
    rc = store_event_add(db, "device.failed", d->id, r->id, d->id, data);
out:
    json_decref(data);
    PQclear(res);
    return rc;
}

/* The live rollouts (active, paused, halted) of the channels reported. */
static rf_err live_rollouts(rf_db *db, const agent_heartbeat *hb, PGresult **res, rf_error *err)
{
    rf_buf arr;
    rf_buf_init(&arr, 1 << 14);
    /* Channel names are [a-z0-9._-] (validated), so quoting them is enough. */
    rf_err rc = rf_buf_append_str(&arr, "{");
    for (int i = 0; rc == RF_OK && i < hb->n; i++)
        rc = rf_buf_printf(&arr, "%s\"%s\"", i ? "," : "", hb->ch[i].name);
    if (rc == RF_OK)
        rc = rf_buf_append_str(&arr, "}");
    if (rc != RF_OK) {
        rf_buf_cleanup(&arr);
        return rf_error_set(err, RF_ERR_INTERNAL, "channel list too long");
    }
    const char *p[] = {arr.data};
    rc = store_exec(db, "hb_live_rollouts",
                    "SELECT r.id, r.channel, r.bundle_id, r.policy::text, " AGENT_PLAN_SQL(
                        "r") ", r.salt FROM rollouts r WHERE r.channel = ANY($1::text[]) "
                             "AND r.state IN ('active', 'paused', 'halted') ORDER BY r.id",
                    1, p, res, err);
    rf_buf_cleanup(&arr);
    return rc;
}

static const agent_hb_channel *find_channel(const agent_heartbeat *hb, const char *name)
{
    for (int i = 0; name != NULL && i < hb->n; i++)
        if (strcmp(hb->ch[i].name, name) == 0)
            return &hb->ch[i];
    return NULL;
}

static rf_err observe_live(rf_db *db, hb_device *d, const agent_heartbeat *hb, long long *rids,
                           rf_error *err)
{
    PGresult *res = NULL;
    rf_err rc = live_rollouts(db, hb, &res, err);
    for (int i = 0; rc == RF_OK && i < PQntuples(res); i++) {
        const agent_hb_channel *c = find_channel(hb, store_get(res, i, 1));
        if (c == NULL)
            continue;
        hb_rollout r;
        r.id = store_get_ll(res, i, 0);
        r.bundle_id = store_get_ll(res, i, 2);
        r.channel = store_get(res, i, 1);
        r.plan = store_get(res, i, 4);
        r.salt = store_get(res, i, 5);
        health_policy_default(&r.policy);
        json_t *pol = json_loads(store_get(res, i, 3) ? store_get(res, i, 3) : "{}", 0, NULL);
        if (health_policy_parse(pol, "policy", &r.policy, NULL) != RF_OK)
            health_policy_default(&r.policy);
        json_decref(pol);
        if (c->rep.target_bundle_id == r.bundle_id)
            rids[c - hb->ch] = r.id;
        rc = observe(db, d, &r, &c->rep, err);
    }
    PQclear(res);
    return rc;
}

/* Which channels were already reporting verify_failed for the same target,
 * so that the event is recorded once per refusal, not once per heartbeat. */
static rf_err known_refusals(rf_db *db, const hb_device *d, const agent_heartbeat *hb,
                             int known[AGENT_MAX_HB_CHANNELS], rf_error *err)
{
    const char *p[] = {d->id};
    PGresult *res = NULL;
    memset(known, 0, sizeof(int) * AGENT_MAX_HB_CHANNELS);
    rf_err rc = store_exec(db, "hb_prev_channels",
                           "SELECT channel, state, coalesce(target_bundle_id, 0) "
                           "FROM device_channels WHERE device_id = $1",
                           1, p, &res, err);
    for (int i = 0; rc == RF_OK && i < PQntuples(res); i++) {
        const agent_hb_channel *c = find_channel(hb, store_get(res, i, 0));
        if (c != NULL && strcmp(store_get(res, i, 1), "verify_failed") == 0 &&
            store_get_ll(res, i, 2) == c->rep.target_bundle_id)
            known[c - hb->ch] = 1;
    }
    PQclear(res);
    return rc;
}

static rf_err refusal_event(rf_db *db, const hb_device *d, const agent_hb_channel *c,
                            long long rollout_id)
{
    json_t *data =
        json_pack("{s:s, s:o, s:o}", "channel", c->name, "target_bundle_id",
                  c->rep.target_bundle_id > 0 ? json_integer(c->rep.target_bundle_id) : json_null(),
                  "error", c->error ? json_string(c->error) : json_null());
    rf_err rc = store_event_add(db, "device.verify_failed", d->id, rollout_id, d->id, data);
    json_decref(data);
    return rc;
}

/* The per-channel part of a heartbeat that is the newest the device sent. */
static rf_err ingest_channels(rf_db *db, hb_device *d, const agent_heartbeat *hb, rf_error *err)
{
    int known[AGENT_MAX_HB_CHANNELS];
    long long rids[AGENT_MAX_HB_CHANNELS] = {0};
    rf_err rc = known_refusals(db, d, hb, known, err);
    for (int i = 0; rc == RF_OK && i < hb->n; i++)
        rc = upsert_channel(db, d->id, &hb->ch[i], err);
    if (rc == RF_OK && hb->n > 0)
        rc = observe_live(db, d, hb, rids, err);
    for (int i = 0; rc == RF_OK && i < hb->n; i++)
        if (hb->ch[i].rep.state == HEALTH_DEV_VERIFY_FAILED && !known[i])
            rc = refusal_event(db, d, &hb->ch[i], rids[i]);
    return rc;
}

/* The work of one heartbeat inside an open transaction. A duplicate sets
 * *duplicate after changing nothing but the insert that did nothing. */
static rf_err heartbeat_body(rf_db *db, const char *device_id, const agent_heartbeat *hb,
                             int *duplicate, rf_error *err)
{
    hb_device d = {.id = device_id};
    int inserted = 0;
    *duplicate = 0;
    if (hb->n < 0 || hb->n > AGENT_MAX_HB_CHANNELS)
        return rf_error_set(err, RF_ERR_INVALID, "field 'channels': at most %d channels",
                            AGENT_MAX_HB_CHANNELS);
    rf_err rc = lock_device(db, &d, err);
    if (rc == RF_OK)
        rc = insert_raw(db, device_id, hb, &inserted, err);
    if (rc == RF_OK && !inserted)
        *duplicate = 1; /* seen before: answer as before and change nothing at all */
    if (rc == RF_OK && inserted)
        rc = update_device(db, device_id, hb, err);
    if (rc == RF_OK && inserted && hb->seq >= d.last_seq)
        rc = ingest_channels(db, &d, hb, err);
    json_decref(d.labels);
    return rc;
}

rf_err store_agent_heartbeat(rf_db *db, const char *device_id, const agent_heartbeat *hb,
                             int *duplicate, rf_error *err)
{
    rf_err rc = store_begin(db);
    if (rc == RF_OK)
        rc = heartbeat_body(db, device_id, hb, duplicate, err);
    if (rc == RF_OK && *duplicate)
        store_rollback(db);
    else if (rc == RF_OK)
        rc = store_commit(db);
    if (rc != RF_OK)
        store_rollback(db);
    return rc;
}

static rf_err simple_stmt(rf_db *db, const char *name, const char *sql)
{
    PGresult *res = NULL;
    rf_err rc = store_exec(db, name, sql, 0, NULL, &res, NULL);
    PQclear(res);
    return rc;
}

rf_err store_agent_heartbeats(rf_db *db, int n, agent_hb_job *jobs)
{
    rf_err rc = store_begin(db);
    for (int i = 0; i < n; i++) {
        agent_hb_job *j = &jobs[i];
        j->rc = rc;
        if (rc != RF_OK)
            continue;
        rc = simple_stmt(db, "hb_savepoint", "SAVEPOINT hb");
        if (rc == RF_OK)
            j->rc = heartbeat_body(db, j->device_id, j->hb, &j->duplicate, &j->err);
        if (rc == RF_OK && j->rc == RF_OK && !j->duplicate)
            rc = simple_stmt(db, "hb_release", "RELEASE SAVEPOINT hb");
        else if (rc == RF_OK) /* a duplicate or a refused one leaves no trace */
            rc = simple_stmt(db, "hb_rollback_to", "ROLLBACK TO SAVEPOINT hb");
        if (j->rc == RF_ERR_UNAVAILABLE)
            rc = RF_ERR_UNAVAILABLE;
    }
    if (rc == RF_OK)
        rc = store_commit(db);
    if (rc != RF_OK) {
        store_rollback(db); /* nothing was committed: every heartbeat fails */
        for (int i = 0; i < n; i++)
            if (jobs[i].rc == RF_OK) {
                jobs[i].rc = rc;
                rf_error_set(&jobs[i].err, rc, "heartbeat not stored: the batch failed");
            }
    }
    return rc;
}
