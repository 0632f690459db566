/* /v1/devices, /v1/events and /v1/fleet: read-only views of the fleet for
 * viewers (and, for GET /v1/devices/ID, the device itself). Each device is
 * shown with the ring that selects it now, computed with rf_ring_of from the
 * ring definitions. Nothing here writes. */
#include "api.h"
#include "api_agent.h"
#include "rf_cohort.h"
#include "rf_util.h"
#include "store_device.h"
#include "store_event.h"
#include "store_ring.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DB_WAIT_MS 5000
#define DEVICE_LIST_MAX 100000
#define EVENTS_DEFAULT 100
#define EVENTS_MAX 1000

typedef struct ring_index {
    store_ring_list rings;
    rf_ring_sel *sel;
} ring_index;

static rf_err ring_index_load(rf_db *db, ring_index *ix, rf_error *err)
{
    rf_err rc;

    memset(ix, 0, sizeof(*ix));
    rc = store_ring_list_all(db, &ix->rings, err);
    if (rc != RF_OK)
        return rc;
    ix->sel = calloc(ix->rings.n ? ix->rings.n : 1, sizeof(*ix->sel));
    if (!ix->sel) {
        store_ring_list_cleanup(&ix->rings);
        return rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < ix->rings.n; i++) {
        const store_ring *g = &ix->rings.items[i];
        ix->sel[i] = (rf_ring_sel){g->id, g->order, g->labels, g->bucket_lo, g->bucket_hi};
    }
    return RF_OK;
}

static void ring_index_cleanup(ring_index *ix)
{
    free(ix->sel);
    ix->sel = NULL;
    store_ring_list_cleanup(&ix->rings);
}

static int ring_of(const ring_index *ix, const store_device *d)
{
    return rf_ring_of(ix->sel, ix->rings.n, d->labels, (uint32_t)d->bucket);
}

/* Adds "assigned_bundle_id" to each reported channel from the assignment
 * computed now (null when nothing is assigned), and an entry for an assigned
 * channel the device has not reported yet. channels is borrowed and changed. */
static void merge_assignment(rf_db *db, const char *device_id, json_t *channels)
{
    json_t *assigned = NULL, *entry, *a;
    const char *ch;
    rf_error e = {0};

    if (api_agent_channels(db, device_id, &assigned, &e) != RF_OK)
        assigned = json_object(); /* shown as unassigned rather than failing the view */
    json_object_foreach(channels, ch, entry)
    {
        a = json_object_get(json_object_get(assigned, ch), "bundle_id");
        json_object_set_new(entry, "assigned_bundle_id", a ? json_incref(a) : json_null());
    }
    json_object_foreach(assigned, ch, a)
    {
        if (json_object_get(channels, ch))
            continue;
        json_object_set_new(channels, ch,
                            json_pack("{s:n,s:n,s:n,s:n,s:O}", "bundle_id", "state",
                                      "target_bundle_id", "error", "assigned_bundle_id",
                                      json_object_get(a, "bundle_id")
                                          ? json_object_get(a, "bundle_id")
                                          : json_null()));
    }
    json_decref(assigned);
}

static json_t *device_json(rf_db *db, const store_device *d, const ring_index *ix)
{
    int k = ring_of(ix, d);
    json_t *ring = k >= 0 ? json_string(ix->rings.items[k].name) : json_null();
    json_t *ring_id = k >= 0 ? json_integer(ix->rings.items[k].id) : json_null();
    json_t *channels = d->channels ? json_incref(d->channels) : json_object();

    merge_assignment(db, d->id, channels);
    return json_pack("{s:s,s:s,s:O,s:i,s:o,s:o,s:s,s:o,s:b,s:o}", "id", d->id, "hostname",
                     d->hostname, "labels", d->labels, "bucket", d->bucket, "ring", ring, "ring_id",
                     ring_id, "enrolled", d->enrolled, "last_seen",
                     d->last_seen[0] ? json_string(d->last_seen) : json_null(), "online", d->online,
                     "channels", channels);
}

static void list_devices(rf_resp *resp, rf_db *db, const ring_index *ix)
{
    store_device_list devs;
    rf_error e = {0};
    json_t *arr;

    if (store_device_list_all(db, DEVICE_LIST_MAX, 1, &devs, &e) != RF_OK) {
        rf_resp_error_e(resp, &e);
        return;
    }
    arr = json_array();
    for (size_t i = 0; i < devs.n; i++)
        json_array_append_new(arr, device_json(db, &devs.items[i], ix));
    store_device_list_cleanup(&devs);
    rf_resp_json(resp, 200, json_pack("{s:o}", "devices", arr));
}

static void get_device(rf_resp *resp, rf_db *db, const ring_index *ix, const char *id)
{
    store_device d;
    rf_error e = {0};

    if (store_device_get(db, id, &d, &e) != RF_OK) {
        rf_resp_error_e(resp, &e);
        return;
    }
    rf_resp_json(resp, 200, device_json(db, &d, ix));
    store_device_cleanup(&d);
}

/* GET /v1/devices/ID is open to viewers and to the device itself. */
static int may_read_device(const rf_req *req, rf_resp *resp, const char *id)
{
    if (req->who.kind != RF_PRINCIPAL_DEVICE)
        return rf_require_role(req, resp, RF_ROLE_VIEWER);
    if (strcmp(req->who.device_id, id) == 0)
        return 1;
    rf_resp_error(resp, RF_ERR_FORBIDDEN, "a device token may only read its own device");
    return 0;
}

rf_http_result api_devices(rf_server *srv, rf_req *req, rf_resp *resp)
{
    ring_index ix;
    rf_db *db = NULL;
    rf_error e = {0};
    char msg[96];

    if (req->nparts == 1 && !rf_require_role(req, resp, RF_ROLE_VIEWER))
        return RF_HTTP_DONE;
    if (req->nparts == 2) {
        if (!may_read_device(req, resp, req->parts[1]))
            return RF_HTTP_DONE;
        if (validate_device_id("id", req->parts[1], &e) != RF_OK) {
            snprintf(msg, sizeof(msg), "device '%.40s' not found", req->parts[1]);
            rf_resp_error(resp, RF_ERR_NOT_FOUND, msg);
            return RF_HTTP_DONE;
        }
    }
    if (store_acquire(srv->store, DB_WAIT_MS, &db) != RF_OK) {
        rf_resp_error(resp, RF_ERR_UNAVAILABLE, "database unavailable");
        return RF_HTTP_DONE;
    }
    if (ring_index_load(db, &ix, &e) != RF_OK) {
        rf_resp_error_e(resp, &e);
    } else {
        if (req->nparts == 1)
            list_devices(resp, db, &ix);
        else
            get_device(resp, db, &ix, req->parts[1]);
        ring_index_cleanup(&ix);
    }
    store_release(srv->store, db);
    return RF_HTTP_DONE;
}

/* Reads an optional integer query parameter within [min, max]. */
static rf_err query_int(const rf_req *req, const char *key, long long min, long long max,
                        long long dflt, long long *out, rf_error *err)
{
    const char *v = req->query(req, key);

    *out = dflt;
    if (!v)
        return RF_OK;
    if (rf_parse_ll(v, min, max, out) != RF_OK)
        return rf_error_set(err, RF_ERR_INVALID, "query '%s': must be an integer %lld-%lld", key,
                            min, max);
    return RF_OK;
}

rf_http_result api_events(rf_server *srv, rf_req *req, rf_resp *resp)
{
    long long after, limit, rollout_id;
    rf_db *db = NULL;
    rf_error e = {0};
    json_t *events = NULL;

    if (!rf_require_role(req, resp, RF_ROLE_VIEWER))
        return RF_HTTP_DONE;
    if (query_int(req, "after", 0, INT64_MAX, 0, &after, &e) != RF_OK ||
        query_int(req, "limit", 1, EVENTS_MAX, EVENTS_DEFAULT, &limit, &e) != RF_OK ||
        query_int(req, "rollout_id", 1, INT64_MAX, 0, &rollout_id, &e) != RF_OK) {
        rf_resp_error_e(resp, &e);
        return RF_HTTP_DONE;
    }
    if (store_acquire(srv->store, DB_WAIT_MS, &db) != RF_OK) {
        rf_resp_error(resp, RF_ERR_UNAVAILABLE, "database unavailable");
        return RF_HTTP_DONE;
    }
    if (store_event_list(db, after, (int)limit, rollout_id, &events, &e) == RF_OK)
        rf_resp_json(resp, 200, json_pack("{s:o}", "events", events));
    else
        rf_resp_error_e(resp, &e);
    store_release(srv->store, db);
    return RF_HTTP_DONE;
}

/* {"devices", "online", "rings": [{id, name, order, devices}], "unassigned",
 *  "channels": {channel: [{bundle_id, devices}]}} */
static rf_err fleet_json(rf_db *db, json_t **out, rf_error *err)
{
    ring_index ix;
    store_device_list devs = {0};
    json_t *channels = NULL, *rings;
    long long total = 0, online = 0, unassigned = 0;
    long long *counts = NULL;
    rf_err rc;

    *out = NULL;
    if ((rc = ring_index_load(db, &ix, err)) != RF_OK)
        return rc;
    rc = store_device_list_all(db, DEVICE_LIST_MAX, 0, &devs, err);
    if (rc == RF_OK)
        rc = store_device_fleet_counts(db, &channels, &total, &online, err);
    counts = calloc(ix.rings.n ? ix.rings.n : 1, sizeof(*counts));
    if (rc == RF_OK && !counts)
        rc = rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    for (size_t i = 0; rc == RF_OK && i < devs.n; i++) {
        int k = ring_of(&ix, &devs.items[i]);
        if (k >= 0)
            counts[k]++;
        else
            unassigned++;
    }
    if (rc == RF_OK) {
        rings = json_array();
        for (size_t i = 0; i < ix.rings.n; i++)
            json_array_append_new(
                rings, json_pack("{s:I,s:s,s:i,s:I}", "id", (json_int_t)ix.rings.items[i].id,
                                 "name", ix.rings.items[i].name, "order", ix.rings.items[i].order,
                                 "devices", (json_int_t)counts[i]));
        *out = json_pack("{s:I,s:I,s:o,s:I,s:O}", "devices", (json_int_t)total, "online",
                         (json_int_t)online, "rings", rings, "unassigned", (json_int_t)unassigned,
                         "channels", channels);
    }
    json_decref(channels);
    free(counts);
    store_device_list_cleanup(&devs);
    ring_index_cleanup(&ix);
    return rc;
}

rf_http_result api_fleet(rf_server *srv, rf_req *req, rf_resp *resp)
{
    rf_db *db = NULL;
    rf_error e = {0};
    json_t *j = NULL;

    if (!rf_require_role(req, resp, RF_ROLE_VIEWER))
        return RF_HTTP_DONE;
    if (store_acquire(srv->store, DB_WAIT_MS, &db) != RF_OK) {
        rf_resp_error(resp, RF_ERR_UNAVAILABLE, "database unavailable");
        return RF_HTTP_DONE;
    }
    if (fleet_json(db, &j, &e) == RF_OK)
        rf_resp_json(resp, 200, j);
    else
        rf_resp_error_e(resp, &e);
    store_release(srv->store, db);
    return RF_HTTP_DONE;
}
