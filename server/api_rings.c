/* /v1/rings: list and read (viewer), create and replace (release), delete
 * (admin). A ring a live rollout (active, paused, halted) uses cannot be
 * changed or deleted; every change bumps the ring's version, records an event
 * and wakes long-polls. Device counts are computed with rf_ring_of over every
 * device: a device belongs to the first ring, by order, that selects it. */
#include "api.h"
#include "rf_cohort.h"
#include "rf_util.h"
#include "store_device.h"
#include "store_ring.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DB_WAIT_MS 5000
#define RING_ORDER_MAX 1000000
#define ALL_DEVICES 100000000

static json_t *ring_json(const store_ring *g, long long devices)
{
    return json_pack("{s:I,s:s,s:i,s:O,s:[i,i],s:i,s:I,s:s}", "id", (json_int_t)g->id, "name",
                     g->name, "order", g->order, "labels", g->labels, "buckets", g->bucket_lo,
                     g->bucket_hi, "version", g->version, "devices", (json_int_t)devices, "created",
                     g->created);
}

/* counts[i] = devices whose first selecting ring is rings->items[i]. */
static rf_err count_devices(rf_db *db, const store_ring_list *rings, long long *counts,
                            rf_error *err)
{
    store_device_list devs;
    rf_ring_sel *sel = NULL;
    rf_err rc;

    memset(counts, 0, rings->n * sizeof(*counts));
    if (rings->n == 0)
        return RF_OK;
    rc = store_device_list_all(db, ALL_DEVICES, 0, &devs, err);
    if (rc != RF_OK)
        return rc;
    sel = calloc(rings->n, sizeof(*sel));
    if (!sel) {
        store_device_list_cleanup(&devs);
        return rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < rings->n; i++) {
        const store_ring *g = &rings->items[i];
        sel[i] = (rf_ring_sel){g->id, g->order, g->labels, g->bucket_lo, g->bucket_hi};
    }
    for (size_t d = 0; d < devs.n; d++) {
        int k = rf_ring_of(sel, rings->n, devs.items[d].labels, (uint32_t)devs.items[d].bucket);
        if (k >= 0)
            counts[k]++;
    }
    free(sel);
    store_device_list_cleanup(&devs);
    return RF_OK;
}

/* The device count of one ring (needs every ring for first-match). */
static rf_err count_one(rf_db *db, long long id, long long *out, rf_error *err)
{
    store_ring_list rings;
    long long *counts = NULL;
    rf_err rc;

    *out = 0;
    rc = store_ring_list_all(db, &rings, err);
    if (rc != RF_OK)
        return rc;
    counts = calloc(rings.n ? rings.n : 1, sizeof(*counts));
    if (!counts)
        rc = rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    if (rc == RF_OK)
        rc = count_devices(db, &rings, counts, err);
    for (size_t i = 0; rc == RF_OK && i < rings.n; i++)
        if (rings.items[i].id == id)
            *out = counts[i];
    free(counts);
    store_ring_list_cleanup(&rings);
    return rc;
}

static void list(rf_resp *resp, rf_db *db)
{
    store_ring_list rings;
    long long *counts = NULL;
    rf_error e = {0};
    json_t *arr;

    if (store_ring_list_all(db, &rings, &e) != RF_OK) {
        rf_resp_error_e(resp, &e);
        return;
    }
    counts = calloc(rings.n ? rings.n : 1, sizeof(*counts));
    if (!counts || count_devices(db, &rings, counts, &e) != RF_OK) {
        rf_resp_error(resp, counts ? e.code : RF_ERR_NOMEM, counts ? e.message : NULL);
    } else {
        arr = json_array();
        for (size_t i = 0; i < rings.n; i++)
            json_array_append_new(arr, ring_json(&rings.items[i], counts[i]));
        rf_resp_json(resp, 200, json_pack("{s:o}", "rings", arr));
    }
    free(counts);
    store_ring_list_cleanup(&rings);
}

/* Parses and checks a POST/PUT body into *g (labels: a new reference). */
static rf_err parse_body(const json_t *body, store_ring *g, rf_error *err)
{
    static const char *const fields[] = {"name", "order", "labels", "buckets", NULL};
    const json_t *name = json_object_get(body, "name");
    const json_t *labels = json_object_get(body, "labels");
    const json_t *buckets = json_object_get(body, "buckets");
    long long order = 0, lo = 0, hi = RF_BUCKETS - 1;
    rf_err rc;

    if ((rc = validate_known_fields(body, fields, err)) != RF_OK)
        return rc;
    if (!json_is_string(name))
        return rf_error_set(err, RF_ERR_INVALID, "field 'name': required, a string");
    if ((rc = validate_slug("name", json_string_value(name), err)) != RF_OK)
        return rc;
    if (!json_object_get(body, "order"))
        return rf_error_set(err, RF_ERR_INVALID, "field 'order': required, an integer");
    if ((rc = validate_int("order", json_object_get(body, "order"), 0, RING_ORDER_MAX, &order,
                           err)) != RF_OK)
        return rc;
    if (labels && (rc = validate_labels("labels", labels, err)) != RF_OK)
        return rc;
    if (buckets) {
        if (!json_is_array(buckets) || json_array_size(buckets) != 2)
            return rf_error_set(err, RF_ERR_INVALID,
                                "field 'buckets': must be [lo, hi] with 0 <= lo <= hi <= 9999");
        if ((rc = validate_int("buckets[0]", json_array_get(buckets, 0), 0, RF_BUCKETS - 1, &lo,
                               err)) != RF_OK ||
            (rc = validate_int("buckets[1]", json_array_get(buckets, 1), 0, RF_BUCKETS - 1, &hi,
                               err)) != RF_OK)
            return rc;
        if (lo > hi)
            return rf_error_set(err, RF_ERR_INVALID, "field 'buckets': lo must be <= hi");
    }
    memcpy(g->name, json_string_value(name), strlen(json_string_value(name)) + 1);
    g->order = (int)order;
    g->labels = labels ? json_incref((json_t *)labels) : json_object();
    g->bucket_lo = (int)lo;
    g->bucket_hi = (int)hi;
    return RF_OK;
}

/* If-Match: "3", W/"3" or 3 must equal the ring's version when present. */
static rf_err check_if_match(const rf_req *req, const store_ring *have, rf_error *err)
{
    const char *v = req->if_match;
    char digits[16];
    size_t n = 0;
    long long want;

    if (!v || strcmp(v, "*") == 0)
        return RF_OK;
    if (strncmp(v, "W/", 2) == 0)
        v += 2;
    for (; *v && n + 1 < sizeof(digits); v++)
        if (*v != '"')
            digits[n++] = *v;
    digits[n] = '\0';
    if (rf_parse_ll(digits, 0, 2147483647LL, &want) != RF_OK)
        return rf_error_set(err, RF_ERR_INVALID, "header 'If-Match': must be a ring version");
    if (want != have->version)
        return rf_error_set(err, RF_ERR_CONFLICT,
                            "ring %lld is at version %d; If-Match asked for %lld", have->id,
                            have->version, want);
    return RF_OK;
}

static void answer_ring(rf_resp *resp, rf_db *db, const store_ring *g, int status)
{
    long long count = 0;
    rf_error e = {0};
    char etag[24];

    if (count_one(db, g->id, &count, &e) != RF_OK) {
        rf_resp_error_e(resp, &e);
        return;
    }
    rf_resp_json(resp, status, ring_json(g, count));
    snprintf(etag, sizeof(etag), "\"%d\"", g->version);
    rf_resp_add_header(resp, "ETag", etag);
}

static json_t *event_data(const store_ring *g)
{
    return json_pack("{s:I,s:s,s:i,s:O,s:[i,i],s:i}", "ring_id", (json_int_t)g->id, "name", g->name,
                     "order", g->order, "labels", g->labels, "buckets", g->bucket_lo, g->bucket_hi,
                     "version", g->version);
}

/* The transaction of POST, PUT or DELETE; method says which. */
static rf_err write_tx(rf_db *db, const rf_req *req, const char *method, long long id,
                       store_ring *g, rf_error *err)
{
    store_ring have = {0};
    const char *kind = "ring.created";
    json_t *data = NULL;
    rf_err rc = store_begin(db);

    if (rc != RF_OK)
        return rf_error_set(err, rc, "database unavailable");
    if (strcmp(method, "POST") != 0) {
        rc = store_ring_get(db, id, 1, &have, err);
        if (rc == RF_OK)
            rc = check_if_match(req, &have, err);
        if (rc == RF_OK)
            rc = store_ring_check_unused(db, id, strcmp(method, "DELETE") == 0, err);
    }
    if (rc == RF_OK && strcmp(method, "DELETE") == 0) {
        kind = "ring.deleted";
        rc = store_ring_delete(db, id, err);
        store_ring_cleanup(g);
        *g = have;
        have.labels = NULL;
    } else if (rc == RF_OK) {
        g->id = id;
        rc = store_ring_check_unique(db, g, id, err);
        if (rc == RF_OK && strcmp(method, "POST") == 0) {
            rc = store_ring_insert(db, g, err);
        } else if (rc == RF_OK) {
            kind = "ring.updated";
            rc = store_ring_update(db, g, err);
        }
    }
    if (rc == RF_OK) {
        data = event_data(g);
        rc = store_event_add(db, kind, req->who.name, 0, NULL, data);
        json_decref(data);
    }
    if (rc == RF_OK)
        rc = store_commit(db);
    if (rc != RF_OK)
        store_rollback(db);
    store_ring_cleanup(&have);
    return rc;
}

static void change(rf_server *srv, rf_req *req, rf_resp *resp, rf_db *db, long long id)
{
    store_ring g = {0};
    json_t *body = NULL;
    rf_error e = {0};
    int del = strcmp(req->method, "DELETE") == 0;

    if (!del) {
        body = rf_req_json_object(req, resp);
        if (!body)
            return;
        if (parse_body(body, &g, &e) != RF_OK)
            goto fail;
    }
    if (write_tx(db, req, req->method, id, &g, &e) != RF_OK)
        goto fail;
    rf_server_notify(srv);
    if (del)
        rf_resp_json(resp, 200, ring_json(&g, 0));
    else
        answer_ring(resp, db, &g, strcmp(req->method, "POST") == 0 ? 201 : 200);
    goto out;
fail:
    rf_resp_error_e(resp, &e);
out:
    json_decref(body);
    store_ring_cleanup(&g);
}

rf_http_result api_rings(rf_server *srv, rf_req *req, rf_resp *resp)
{
    rf_db *db = NULL;
    long long id = 0;
    int get = strcmp(req->method, "GET") == 0;
    rf_role need = get                                  ? RF_ROLE_VIEWER
                   : strcmp(req->method, "DELETE") == 0 ? RF_ROLE_ADMIN
                                                        : RF_ROLE_RELEASE;
    char msg[96];

    if (!rf_require_role(req, resp, need))
        return RF_HTTP_DONE;
    if (req->nparts == 2 && !validate_path_id(req->parts[1], &id)) {
        snprintf(msg, sizeof(msg), "ring '%.40s' not found", req->parts[1]);
        rf_resp_error(resp, RF_ERR_NOT_FOUND, msg);
        return RF_HTTP_DONE;
    }
    if (store_acquire(srv->store, DB_WAIT_MS, &db) != RF_OK) {
        rf_resp_error(resp, RF_ERR_UNAVAILABLE, "database unavailable");
        return RF_HTTP_DONE;
    }
    if (get && req->nparts == 1) {
        list(resp, db);
    } else if (get) {
        store_ring g;
        rf_error e = {0};
        if (store_ring_get(db, id, 0, &g, &e) == RF_OK)
            answer_ring(resp, db, &g, 200);
        else
            rf_resp_error_e(resp, &e);
        store_ring_cleanup(&g);
    } else {
        change(srv, req, resp, db, id);
    }
    store_release(srv->store, db);
    return RF_HTTP_DONE;
}
