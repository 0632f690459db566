/* Heartbeat ingest, a batch at a time: one transaction stores every
 * heartbeat raw (idempotent by device and sequence number through
 * heartbeat_keys), updates the devices and what they report per channel, and
 * folds the reports into their exposures to every live rollout (health.c
 * decides). Each step is one statement for the whole batch, its rows passed
 * as array parameters (pg_array.h), so a batch costs a handful of round trips
 * however many heartbeats it holds. A heartbeat seen before changes nothing;
 * nothing is answered before the commit; a failed device is never un-failed,
 * even by a report racing the evaluator. */
#include "pg_array.h"
#include "store_agent.h"
#include "store_agent_internal.h"
#include "store_hb_internal.h"
#include "store_internal.h"
#include "rf_log.h"
#include "rf_util.h"

#include <stdlib.h>
#include <string.h>

#define ARRAY_CAP (64u << 20) /* the largest array parameter of one batch */

/* Runs a statement whose parameters are array literals (NULL: out of room). */
static rf_err exec_arrays(rf_db *db, const char *name, const char *sql, int n, pg_array *arrs,
                          PGresult **res, rf_error *err)
{
    const char *p[12];
    for (int i = 0; i < n && i < 12; i++) {
        p[i] = pg_array_text(&arrs[i]);
        if (p[i] == NULL)
            return rf_error_set(err, RF_ERR_TOO_LARGE, "heartbeat batch too large");
    }
    return store_exec(db, name, sql, n, p, res, err);
}

static void arrays_init(pg_array *arrs, int n)
{
    for (int i = 0; i < n; i++)
        pg_array_init(&arrs[i], ARRAY_CAP);
}

static void arrays_cleanup(pg_array *arrs, int n)
{
    for (int i = 0; i < n; i++)
        pg_array_cleanup(&arrs[i]);
}

static hb_item *find_item(hb_batch *b, const char *device_id)
{
    for (int i = 0; device_id != NULL && i < b->n; i++)
        if (strcmp(b->items[i].job->device_id, device_id) == 0)
            return &b->items[i];
    return NULL;
}

/* Locks every device row (in one order, so concurrent batches cannot
 * deadlock) and reads what the rest needs; unknown devices are refused. */
static rf_err lock_devices(rf_db *db, hb_batch *b, rf_error *err)
{
    pg_array ids;
    PGresult *res = NULL;
    pg_array_init(&ids, ARRAY_CAP);
    for (int i = 0; i < b->n; i++)
        pg_array_add(&ids, b->items[i].job->device_id);
    rf_err rc = exec_arrays(db, "hb_lock_devices",
                            "SELECT id, last_seq, floor(extract(epoch FROM now()))::bigint, "
                            "labels::text, bucket FROM devices WHERE id = ANY($1::text[]) "
                            "ORDER BY id FOR UPDATE",
                            1, &ids, &res, err);
    for (int r = 0; rc == RF_OK && r < PQntuples(res); r++) {
        hb_item *it = find_item(b, store_get(res, r, 0));
        if (it == NULL)
            continue;
        it->found = 1;
        it->last_seq = store_get_ll(res, r, 1);
        it->now_s = store_get_ll(res, r, 2);
        it->labels = json_loads(store_get(res, r, 3) ? store_get(res, r, 3) : "{}", 0, NULL);
        it->bucket = (int)store_get_ll(res, r, 4);
    }
    for (int i = 0; rc == RF_OK && i < b->n; i++)
        if (!b->items[i].found) {
            b->items[i].job->rc = rf_error_set(&b->items[i].job->err, RF_ERR_NOT_FOUND,
                                               "device %s not found", b->items[i].job->device_id);
        }
    PQclear(res);
    pg_array_cleanup(&ids);
    return rc;
}

/* In one statement: claims (device, seq) for every heartbeat (those claimed
 * before are duplicates and change nothing), stores the new ones raw (same
 * received_at: the transaction's) and moves their devices'
 * last_seen/seq/boot id/interval. One device per batch, so each device row
 * is updated at most once. */
static rf_err store_new(rf_db *db, hb_batch *b, rf_error *err)
{
    pg_array a[5];
    PGresult *res = NULL;
    int any = 0;
    arrays_init(a, 5);
    for (int i = 0; i < b->n; i++) {
        const hb_item *it = &b->items[i];
        if (!it->found)
            continue;
        pg_array_add(&a[0], it->job->device_id);
        pg_array_add_ll(&a[1], it->job->hb->seq);
        pg_array_add(&a[2], it->job->hb->body);
        pg_array_add(&a[3], it->job->hb->boot_id);
        pg_array_add_ll(&a[4], it->job->hb->interval_s);
        any = 1;
    }
    rf_err rc = RF_OK;
    if (any)
        rc = exec_arrays(
            db, "hb_store_new",
            "WITH t AS (SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], "
            "$5::int[]) AS t(d, s, body, boot, iv)), "
            "k AS (INSERT INTO heartbeat_keys (device_id, seq) SELECT d, s FROM t "
            "ON CONFLICT (device_id, seq) DO NOTHING RETURNING device_id, seq), "
            "n AS (SELECT t.* FROM t JOIN k ON k.device_id = t.d AND k.seq = t.s), "
            "raw AS (INSERT INTO heartbeats (device_id, seq, received_at, body) "
            "SELECT d, s, now(), body::jsonb FROM n), "
            "upd AS (UPDATE devices dv SET last_seen_at = now(), "
            "last_seq = GREATEST(dv.last_seq, n.s), "
            "boot_id = CASE WHEN n.s >= dv.last_seq THEN COALESCE(n.boot, dv.boot_id) "
            "ELSE dv.boot_id END, "
            "heartbeat_interval_s = CASE WHEN n.s >= dv.last_seq AND n.iv > 0 "
            "THEN n.iv ELSE dv.heartbeat_interval_s END FROM n WHERE dv.id = n.d) "
            "SELECT d FROM n",
            5, a, &res, err);
    for (int r = 0; rc == RF_OK && res != NULL && r < PQntuples(res); r++) {
        hb_item *it = find_item(b, store_get(res, r, 0));
        if (it != NULL)
            it->inserted = 1;
    }
    for (int i = 0; rc == RF_OK && i < b->n; i++) {
        hb_item *it = &b->items[i];
        it->job->duplicate = it->found && !it->inserted;
        it->newest = it->inserted && it->job->hb->seq >= it->last_seq;
    }
    PQclear(res);
    arrays_cleanup(a, 5);
    return rc;
}

/* What the devices reported before: which channels were already reporting
 * verify_failed for the same target (so that the event is recorded once per
 * refusal, not once per heartbeat), and whether what a device runs or installs
 * changes now (its cached assignment answer must go, see assign_cache.h). */
static rf_err prev_channels(rf_db *db, hb_batch *b, rf_error *err)
{
    pg_array ids;
    PGresult *res = NULL;
    pg_array_init(&ids, ARRAY_CAP);
    for (int i = 0; i < b->n; i++)
        if (b->items[i].newest && b->items[i].job->hb->n > 0)
            pg_array_add(&ids, b->items[i].job->device_id);
    rf_err rc = exec_arrays(db, "hb_prev_channels",
                            "SELECT device_id, channel, coalesce(target_bundle_id, 0), state, "
                            "coalesce(bundle_id, 0) FROM device_channels "
                            "WHERE device_id = ANY($1::text[])",
                            1, &ids, &res, err);
    for (int i = 0; i < b->n; i++)
        b->items[i].job->changed = b->items[i].newest && b->items[i].job->hb->n > 0;
    int *seen = calloc((size_t)b->n * AGENT_MAX_HB_CHANNELS, sizeof(int));
    if (rc == RF_OK && seen == NULL)
        rc = rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    for (int r = 0; rc == RF_OK && r < PQntuples(res); r++) {
        hb_item *it = find_item(b, store_get(res, r, 0));
        const agent_hb_channel *c =
            it != NULL ? hb_find_channel(it->job->hb, store_get(res, r, 1)) : NULL;
        if (c == NULL)
            continue;
        int k = (int)(c - it->job->hb->ch);
        const char *state = store_get(res, r, 3);
        long long target = store_get_ll(res, r, 2);
        it->known[k] = strcmp(state, "verify_failed") == 0 && target == c->rep.target_bundle_id;
        seen[(it - b->items) * AGENT_MAX_HB_CHANNELS + k] =
            strcmp(state, health_dev_state_name(c->rep.state)) == 0 &&
            target == c->rep.target_bundle_id && store_get_ll(res, r, 4) == c->rep.bundle_id;
    }
    /* a device whose every channel reads as before keeps its answer */
    for (int i = 0; rc == RF_OK && i < b->n; i++) {
        int same = 1;
        for (int k = 0; k < b->items[i].job->hb->n; k++)
            same &= seen[i * AGENT_MAX_HB_CHANNELS + k];
        if (same)
            b->items[i].job->changed = 0;
    }
    free(seen);
    PQclear(res);
    pg_array_cleanup(&ids);
    return rc;
}

static rf_err upsert_channels(rf_db *db, hb_batch *b, rf_error *err)
{
    pg_array a[10];
    PGresult *res = NULL;
    arrays_init(a, 10);
    for (int i = 0; i < b->n; i++) {
        const hb_item *it = &b->items[i];
        for (int k = 0; it->newest && k < it->job->hb->n; k++) {
            const agent_hb_channel *c = &it->job->hb->ch[k];
            pg_array_add(&a[0], it->job->device_id);
            pg_array_add(&a[1], c->name);
            pg_array_add_id(&a[2], c->rep.bundle_id);
            pg_array_add(&a[3], health_dev_state_name(c->rep.state));
            pg_array_add_id(&a[4], c->rep.target_bundle_id);
            pg_array_add_ll(&a[5], c->rep.boots);
            pg_array_add_ll(&a[6], c->rep.unclean_shutdowns);
            pg_array_add_ll(&a[7], c->rep.crashes);
            pg_array_add_ll(&a[8], c->rep.local_rollbacks);
            pg_array_add(&a[9], c->error);
        }
    }
    rf_err rc = exec_arrays(
        db, "hb_upsert_channels",
        "INSERT INTO device_channels (device_id, channel, bundle_id, state, target_bundle_id, "
        "boots, unclean_shutdowns, crashes, local_rollbacks, error, updated_at) "
        "SELECT *, now() FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], "
        "$5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::text[]) "
        "ON CONFLICT (device_id, channel) DO UPDATE SET bundle_id = EXCLUDED.bundle_id, "
        "state = EXCLUDED.state, target_bundle_id = EXCLUDED.target_bundle_id, "
        "boots = EXCLUDED.boots, unclean_shutdowns = EXCLUDED.unclean_shutdowns, "
        "crashes = EXCLUDED.crashes, local_rollbacks = EXCLUDED.local_rollbacks, "
        "error = EXCLUDED.error, updated_at = now()",
        10, a, &res, err);
    PQclear(res);
    arrays_cleanup(a, 10);
    return rc;
}

static rf_err refusal_event(rf_db *db, const char *device_id, const agent_hb_channel *c,
                            long long rollout_id)
{
    json_t *data =
        json_pack("{s:s, s:o, s:o}", "channel", c->name, "target_bundle_id",
                  c->rep.target_bundle_id > 0 ? json_integer(c->rep.target_bundle_id) : json_null(),
                  "error", c->error ? json_string(c->error) : json_null());
    rf_err rc = store_event_add(db, "device.verify_failed", device_id, rollout_id, device_id, data);
    json_decref(data);
    return rc;
}

/* The per-channel part of the heartbeats that are the newest their devices sent. */
static rf_err ingest_channels(rf_db *db, hb_batch *b, rf_error *err)
{
    int any = 0;
    for (int i = 0; i < b->n; i++)
        any |= b->items[i].newest && b->items[i].job->hb->n > 0;
    if (!any)
        return RF_OK;
    rf_err rc = prev_channels(db, b, err);
    if (rc == RF_OK)
        rc = upsert_channels(db, b, err);
    if (rc == RF_OK)
        rc = hb_observe_live(db, b, err);
    for (int i = 0; rc == RF_OK && i < b->n; i++) {
        const hb_item *it = &b->items[i];
        for (int k = 0; rc == RF_OK && it->newest && k < it->job->hb->n; k++)
            if (it->job->hb->ch[k].rep.state == HEALTH_DEV_VERIFY_FAILED && !it->known[k])
                rc = refusal_event(db, it->job->device_id, &it->job->hb->ch[k], it->rids[k]);
    }
    return rc;
}

/* Tells every instance (on commit) which devices' assignment answers to
 * drop: ids comma-separated, a notification per STORE_DEVICES_NOTIFY_MAX bytes. */
static rf_err notify_changed(rf_db *db, hb_batch *b, rf_error *err)
{
    char payload[STORE_DEVICES_NOTIFY_MAX + 64];
    size_t len = 0;
    rf_err rc = RF_OK;
    for (int i = 0; rc == RF_OK && i <= b->n; i++) {
        const char *id = i < b->n && b->items[i].job->changed ? b->items[i].job->device_id : NULL;
        size_t idl = id != NULL ? strlen(id) : 0;
        if (len > 0 && (id == NULL ? i == b->n : len + 1 + idl > STORE_DEVICES_NOTIFY_MAX)) {
            const char *p[] = {payload};
            PGresult *res = NULL;
            rc = store_exec(db, "hb_notify_devices",
                            "SELECT pg_notify('" STORE_DEVICES_CHANNEL "', $1)", 1, p, &res, err);
            PQclear(res);
            len = 0;
        }
        if (id != NULL && idl < 64) {
            if (len > 0)
                payload[len++] = ',';
            memcpy(payload + len, id, idl + 1);
            len += idl;
        }
    }
    return rc;
}

/* The whole batch in one transaction; on RF_OK every job has its own rc
 * (RF_OK, or a refusal of that heartbeat alone such as an unknown device). */
static rf_err run_batch(rf_db *db, hb_batch *b, rf_error *err)
{
    rf_err rc = store_begin(db);
    if (rc != RF_OK)
        return rf_error_set(err, rc, "heartbeat not stored: cannot begin");
    for (int i = 0; i < b->n; i++) {
        b->items[i].job->rc = RF_OK;
        b->items[i].job->duplicate = 0;
        b->items[i].job->changed = 0;
    }
    rc = lock_devices(db, b, err);
    if (rc == RF_OK)
        rc = store_new(db, b, err);
    if (rc == RF_OK)
        rc = ingest_channels(db, b, err);
    if (rc == RF_OK)
        rc = notify_changed(db, b, err);
    if (rc == RF_OK)
        rc = store_commit(db);
    if (rc != RF_OK)
        store_rollback(db);
    return rc;
}

static void batch_free(hb_batch *b)
{
    for (int i = 0; i < b->n; i++)
        json_decref(b->items[i].labels);
    free(b->items);
    ring_index_cleanup(b->ix);
    free(b->ix);
    memset(b, 0, sizeof(*b));
}

static rf_err batch_alloc(hb_batch *b, int n, agent_hb_job *jobs)
{
    memset(b, 0, sizeof(*b));
    b->items = calloc((size_t)n, sizeof(*b->items));
    if (b->items == NULL)
        return RF_ERR_NOMEM;
    b->n = n;
    for (int i = 0; i < n; i++)
        b->items[i].job = &jobs[i];
    return RF_OK;
}

static int devices_unique(int n, const agent_hb_job *jobs)
{
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (strcmp(jobs[i].device_id, jobs[j].device_id) == 0)
                return 0;
    return 1;
}

/* One attempt at jobs as one batch; fills every job's rc. */
static rf_err attempt(rf_db *db, int n, agent_hb_job *jobs)
{
    hb_batch b;
    rf_error e = {0};
    rf_err rc = batch_alloc(&b, n, jobs);
    if (rc == RF_OK)
        rc = run_batch(db, &b, &e);
    else
        rf_error_set(&e, rc, "out of memory");
    for (int i = 0; rc != RF_OK && i < n; i++) {
        jobs[i].rc = rc;
        jobs[i].duplicate = 0;
        jobs[i].err = e;
    }
    batch_free(&b);
    return rc;
}

rf_err store_agent_heartbeats(rf_db *db, int n, agent_hb_job *jobs)
{
    for (int i = 0; i < n; i++)
        if (jobs[i].hb->n < 0 || jobs[i].hb->n > AGENT_MAX_HB_CHANNELS) {
            /* validated by the route; a caller breaking that gets nothing stored */
            for (int k = 0; k < n; k++)
                jobs[k].rc =
                    rf_error_set(&jobs[k].err, RF_ERR_INVALID,
                                 "field 'channels': at most %d channels", AGENT_MAX_HB_CHANNELS);
            return RF_ERR_INVALID;
        }
    rf_err rc = devices_unique(n, jobs) ? attempt(db, n, jobs) : RF_ERR_CONFLICT;
    if (rc == RF_OK || rc == RF_ERR_UNAVAILABLE || n == 1)
        return rc;
    /* One heartbeat broke the batch (or a device came twice): each alone, so
     * that only the one at fault fails. */
    rf_err last = RF_OK;
    for (int i = 0; i < n; i++) {
        rf_err one = attempt(db, 1, &jobs[i]);
        if (one == RF_ERR_UNAVAILABLE)
            last = one;
    }
    return last;
}

rf_err store_agent_heartbeat(rf_db *db, const char *device_id, const agent_heartbeat *hb,
                             int *duplicate, rf_error *err)
{
    agent_hb_job job = {.device_id = device_id, .hb = hb};
    store_agent_heartbeats(db, 1, &job);
    *duplicate = job.duplicate;
    if (job.rc != RF_OK && err != NULL)
        *err = job.err;
    return job.rc;
}
