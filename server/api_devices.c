/* /v1/devices, /v1/events and /v1/fleet: read-only views of the fleet for
 * viewers (and, for GET /v1/devices/ID, the device itself). Each device is
 * shown with the ring that selects it now (ring_index: members, labels,
 * buckets), its exclusion and the pins that hold it. /v1/events long-polls
 * for new events when asked to wait. Nothing here writes. */
#include "api.h"
#include "api_agent.h"
#include "api_common.h"
#include "api_dash.h"
#include "ring_index.h"
#include "rf_util.h"
#include "store_device.h"
#include "store_event.h"
#include "store_hold.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DB_WAIT_MS 5000
#define DEVICE_LIST_MAX 100000
#define DEVICE_CHUNK 500
#define EVENTS_DEFAULT 100
#define EVENTS_MAX 1000

static int ring_of(const ring_index *ix, const store_device *d)
{
    return ring_index_of(ix, d->id, d->labels, d->bucket);
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

/* The holds of one device: its exclusion (or null) and the pins that apply
 * to it (its own and its ring's). */
static void add_holds(rf_db *db, const char *device_id, long long ring_id, json_t *dev)
{
    json_t *pins = NULL, *excl = NULL;
    if (store_hold_pins(db, NULL, device_id, ring_id > 0 ? ring_id : -1, &pins, NULL) != RF_OK)
        pins = json_array();
    if (store_hold_exclusions(db, device_id, &excl, NULL) != RF_OK)
        excl = json_array();
    json_t *first = json_array_get(excl, 0);
    json_object_set_new(dev, "excluded", first ? json_incref(first) : json_null());
    json_object_set_new(dev, "pins", pins);
    json_decref(excl);
}

static json_t *device_json(rf_db *db, const store_device *d, const ring_index *ix)
{
    int k = ring_of(ix, d);
    json_t *ring = k >= 0 ? json_string(ix->rings.items[k].name) : json_null();
    json_t *ring_id = k >= 0 ? json_integer(ix->rings.items[k].id) : json_null();
    json_t *channels = d->channels ? json_incref(d->channels) : json_object();

    merge_assignment(db, d->id, channels);
    json_t *j = json_pack("{s:s,s:s,s:O,s:i,s:o,s:o,s:s,s:o,s:b,s:o}", "id", d->id, "hostname",
                          d->hostname, "labels", d->labels, "bucket", d->bucket, "ring", ring,
                          "ring_id", ring_id, "enrolled", d->enrolled, "last_seen",
                          d->last_seen[0] ? json_string(d->last_seen) : json_null(), "online",
                          d->online, "channels", channels);
    if (j != NULL)
        add_holds(db, d->id, k >= 0 ? ix->rings.items[k].id : 0, j);
    return j;
}

/* Appends to page the devices of one chunk that the ring filter keeps, until
 * the page holds cap; *more is set when one more would follow. */
static void page_append(rf_db *db, const ring_index *ix, const api_page_query *q,
                        const store_device_list *devs, size_t cap, json_t *page, int *more)
{
    for (size_t i = 0; i < devs->n && !*more; i++) {
        int k = ring_of(ix, &devs->items[i]);
        if (!api_page_ring_matches(q, k >= 0 ? ix->rings.items[k].name : NULL,
                                   k >= 0 ? ix->rings.items[k].id : 0))
            continue;
        if (json_array_size(page) == cap)
            *more = 1;
        else
            json_array_append_new(page, device_json(db, &devs->items[i], ix));
    }
}

/* One page: the filters but the ring are applied in SQL, a page at a time;
 * a device's assignment and holds are read only for the devices shown. */
static rf_err list_page(rf_db *db, const ring_index *ix, const api_page_query *q, json_t *page,
                        int *more, rf_error *e)
{
    store_device_filter f = {.channel = q->channel,
                             .state = q->state,
                             .version = q->version,
                             .bundle_id = q->bundle_id,
                             .labels = q->labels,
                             .online = q->online,
                             .after = q->cursor[0] ? q->cursor : NULL};
    size_t cap = q->limit > 0 ? (size_t)q->limit : DEVICE_LIST_MAX;
    char after[33];
    store_device_list devs = {0};
    rf_err rc = RF_OK;

    *more = 0;
    while (rc == RF_OK && !*more) {
        size_t want = q->ring ? DEVICE_CHUNK : cap + 1 - json_array_size(page);
        f.limit = want < DEVICE_CHUNK ? want : DEVICE_CHUNK;
        rc = store_device_page(db, &f, &devs, e);
        if (rc != RF_OK)
            break;
        page_append(db, ix, q, &devs, cap, page, more);
        if (devs.n < f.limit || (q->limit == 0 && json_array_size(page) == cap)) {
            store_device_list_cleanup(&devs);
            break;
        }
        rf_snprintf(after, sizeof(after), "%s", devs.items[devs.n - 1].id);
        f.after = after;
        store_device_list_cleanup(&devs);
    }
    if (q->limit == 0)
        *more = 0; /* the whole list, as far as it goes */
    return rc;
}

static void list_devices(const rf_req *req, rf_resp *resp, rf_db *db, const ring_index *ix)
{
    api_page_query q;
    rf_error e = {0};
    json_t *page = NULL;
    int more = 0;
    rf_err rc = api_page_parse(req, API_PAGE_DEVICES, &q, &e);

    if (rc == RF_OK)
        rc = (page = json_array()) ? RF_OK : rf_error_set(&e, RF_ERR_NOMEM, "out of memory");
    if (rc == RF_OK && !q.match_none)
        rc = list_page(db, ix, &q, page, &more, &e);
    api_page_query_cleanup(&q);
    if (rc != RF_OK) {
        json_decref(page);
        rf_resp_error_e(resp, &e);
        return;
    }
    api_page_reply(resp, API_PAGE_DEVICES, "devices", page,
                   more ? json_string_value(json_object_get(
                              json_array_get(page, json_array_size(page) - 1), "id"))
                        : NULL);
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
            list_devices(req, resp, db, &ix);
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

#define EVENTS_MAX_WAIT_S 60
#define EVENTS_RECHECK_MS 1000

/* Per-request state of a waiting GET /v1/events. */
typedef struct events_wait {
    int64_t deadline_ms; /* monotonic */
} events_wait;

/* 1 when the request should wait (and is set up to) instead of answering an
 * empty list: it re-reads at least once a second, since events recorded by
 * heartbeats or by another server instance wake nobody here. */
static int events_keep_waiting(rf_req *req, long long wait_s)
{
    events_wait *st = req->handler_state;
    int64_t now = rf_monotonic_ms();
    if (wait_s <= 0)
        return 0;
    if (st == NULL) {
        st = calloc(1, sizeof(*st));
        if (st == NULL)
            return 0;
        st->deadline_ms = now + wait_s * 1000;
        req->handler_state = st;
        req->handler_state_free = free;
    }
    if (now >= st->deadline_ms)
        return 0;
    req->wait_until_ms =
        st->deadline_ms - now > EVENTS_RECHECK_MS ? now + EVENTS_RECHECK_MS : st->deadline_ms;
    return 1;
}

rf_http_result api_events(rf_server *srv, rf_req *req, rf_resp *resp)
{
    long long after, limit, rollout_id, wait_s;
    rf_db *db = NULL;
    rf_error e = {0};
    json_t *events = NULL;

    if (!rf_require_role(req, resp, RF_ROLE_VIEWER))
        return RF_HTTP_DONE;
    if (query_int(req, "after", 0, INT64_MAX, 0, &after, &e) != RF_OK ||
        query_int(req, "limit", 1, EVENTS_MAX, EVENTS_DEFAULT, &limit, &e) != RF_OK ||
        query_int(req, "rollout_id", 1, INT64_MAX, 0, &rollout_id, &e) != RF_OK ||
        query_int(req, "wait", 0, EVENTS_MAX_WAIT_S, 0, &wait_s, &e) != RF_OK) {
        rf_resp_error_e(resp, &e);
        return RF_HTTP_DONE;
    }
    if (store_acquire(srv->store, DB_WAIT_MS, &db) != RF_OK) {
        rf_resp_error(resp, RF_ERR_UNAVAILABLE, "database unavailable");
        return RF_HTTP_DONE;
    }
    rf_err rc = store_event_list(db, after, (int)limit, rollout_id, &events, &e);
    store_release(srv->store, db);
    if (rc == RF_OK && json_array_size(events) == 0 && events_keep_waiting(req, wait_s)) {
        json_decref(events);
        return RF_HTTP_SUSPEND;
    }
    if (rc == RF_OK)
        rf_resp_json(resp, 200, json_pack("{s:o}", "events", events));
    else
        rf_resp_error_e(resp, &e);
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
    if (fleet_json(db, &j, &e) == RF_OK && api_fleet_add_groups(db, j, &e) == RF_OK)
        rf_resp_json(resp, 200, j);
    else
        rf_resp_error_e(resp, &e);
    if (resp->status != 200)
        json_decref(j); /* NULL, or an answer left without its groups */
    store_release(srv->store, db);
    return RF_HTTP_DONE;
}
