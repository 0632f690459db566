/* /v1/rings: list and read (viewer), create and replace (release), delete
 * (admin). A ring a live rollout (active, paused, halted) uses keeps its
 * membership: changes to its labels, buckets, members or order are refused,
 * not deferred; its name and start windows may change. Every change bumps
 * the ring's version (If-Match), records an event with before and after and
 * wakes long-polls. Device counts use ring_index (assign.c): a device
 * belongs to the first ring, by order, that selects it. */
#include "api.h"
#include "api_common.h"
#include "api_ring.h"
#include "rf_cohort.h"
#include "rf_util.h"
#include "store_device.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DB_WAIT_MS 5000
#define RING_ORDER_MAX 1000000
#define MAX_MEMBERS 1000
#define ALL_DEVICES 100000000

json_t *api_ring_json(const store_ring *g, long long devices, const json_t *live_rollouts,
                      int64_t now_s)
{
    assign_window w[ASSIGN_MAX_WINDOWS];
    int nw = 0, open = 1;
    if (ring_windows_parse("windows", g->windows, w, &nw, NULL) == RF_OK)
        open = assign_windows_open(w, nw, now_s);
    else
        open = 0;
    return json_pack(
        "{s:I,s:s,s:i,s:O,s:[i,i],s:O,s:b,s:O,s:b,s:i,s:I,s:o,s:s}", "id", (json_int_t)g->id,
        "name", g->name, "order", g->order, "labels", g->labels, "buckets", g->bucket_lo,
        g->bucket_hi, "members", g->members, "members_only", g->members_only, "windows", g->windows,
        "window_open", open, "version", g->version, "devices", (json_int_t)devices, "live_rollouts",
        live_rollouts ? json_incref((json_t *)live_rollouts) : json_array(), "created", g->created);
}

rf_err api_ring_counts(rf_db *db, const ring_index *ix, long long *counts, long long *unassigned,
                       rf_error *err)
{
    store_device_list devs;
    memset(counts, 0, (ix->rings.n ? ix->rings.n : 1) * sizeof(*counts));
    *unassigned = 0;
    rf_err rc = store_device_list_all(db, ALL_DEVICES, 0, &devs, err);
    if (rc != RF_OK)
        return rc;
    for (size_t d = 0; d < devs.n; d++) {
        const store_device *dv = &devs.items[d];
        int k = ring_index_of(ix, dv->id, dv->labels, dv->bucket);
        if (k >= 0)
            counts[k]++;
        else
            (*unassigned)++;
    }
    store_device_list_cleanup(&devs);
    return RF_OK;
}

/* Answers every ring (list) or ring id only (id > 0), with its count. */
static rf_err answer(rf_resp *resp, rf_db *db, long long id, int status, rf_error *err)
{
    ring_index ix;
    long long *counts = NULL, unassigned = 0;
    json_t *arr = NULL, *one = NULL;
    int64_t now = (int64_t)time(NULL);
    rf_err rc = ring_index_load(db, &ix, err);
    if (rc != RF_OK)
        return rc;
    counts = calloc(ix.rings.n ? ix.rings.n : 1, sizeof(*counts));
    rc = counts ? api_ring_counts(db, &ix, counts, &unassigned, err)
                : rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    arr = json_array();
    for (size_t i = 0; rc == RF_OK && i < ix.rings.n; i++) {
        const store_ring *g = &ix.rings.items[i];
        json_t *live = NULL;
        if (id > 0 && g->id != id)
            continue;
        rc = store_ring_live_rollouts(db, g->id, &live, err);
        if (rc == RF_OK && id > 0)
            one = api_ring_json(g, counts[i], live, now);
        else if (rc == RF_OK)
            json_array_append_new(arr, api_ring_json(g, counts[i], live, now));
        if (rc == RF_OK && id > 0)
            api_etag(resp, g->version);
        json_decref(live);
    }
    if (rc == RF_OK && id > 0 && one == NULL)
        rc = rf_error_set(err, RF_ERR_NOT_FOUND, "ring %lld not found", id);
    if (rc == RF_OK)
        rf_resp_json(resp, status, id > 0 ? one : json_pack("{s:O}", "rings", arr));
    else
        json_decref(one);
    json_decref(arr);
    free(counts);
    ring_index_cleanup(&ix);
    return rc;
}

/* ---- parsing ---- */

static int cmp_json_str(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

/* A sorted, de-duplicated copy of members (new reference), or NULL. */
static json_t *parse_members(const char *field, const json_t *v, rf_error *err)
{
    json_t *items[MAX_MEMBERS];
    size_t n = json_array_size(v);
    char f[96];
    if (!json_is_array(v) || n > MAX_MEMBERS) {
        rf_error_set(err, RF_ERR_INVALID, "field '%s': must be a list of at most %d device ids",
                     field, MAX_MEMBERS);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        items[i] = json_array_get(v, i);
        rf_snprintf(f, sizeof(f), "%s[%zu]", field, i);
        if (!json_is_string(items[i]) ||
            validate_device_id(f, json_string_value(items[i]), err) != RF_OK) {
            rf_error_set(err, RF_ERR_INVALID, "field '%s': must be a device id (32 hex digits)", f);
            return NULL;
        }
    }
    qsort(items, n, sizeof(items[0]), cmp_json_str);
    json_t *out = json_array();
    for (size_t i = 0; out != NULL && i < n; i++)
        if (i == 0 || strcmp(json_string_value(items[i]), json_string_value(items[i - 1])) != 0)
            json_array_append(out, items[i]);
    return out;
}

static rf_err parse_buckets(const char *path, const json_t *b, store_ring *g, rf_error *err)
{
    char f0[96], f1[96];
    long long lo = 0, hi = 0;
    if (!json_is_array(b) || json_array_size(b) != 2)
        return rf_error_set(err, RF_ERR_INVALID,
                            "field '%sbuckets': must be [lo, hi] with 0 <= lo <= hi <= 9999", path);
    rf_snprintf(f0, sizeof(f0), "%sbuckets[0]", path);
    rf_snprintf(f1, sizeof(f1), "%sbuckets[1]", path);
    rf_err rc = validate_int(f0, json_array_get(b, 0), 0, RF_BUCKETS - 1, &lo, err);
    if (rc == RF_OK)
        rc = validate_int(f1, json_array_get(b, 1), 0, RF_BUCKETS - 1, &hi, err);
    if (rc == RF_OK && lo > hi)
        return rf_error_set(err, RF_ERR_INVALID, "field '%sbuckets': lo must be <= hi", path);
    g->bucket_lo = (int)lo;
    g->bucket_hi = (int)hi;
    return rc;
}

static rf_err parse_selection(const json_t *body, const char *path, store_ring *g, rf_error *err)
{
    const json_t *labels = json_object_get(body, "labels"),
                 *buckets = json_object_get(body, "buckets");
    const json_t *members = json_object_get(body, "members"),
                 *mo = json_object_get(body, "members_only");
    char f[96];
    rf_err rc = RF_OK;
    rf_snprintf(f, sizeof(f), "%slabels", path);
    if (labels && (rc = validate_labels(f, labels, err)) != RF_OK)
        return rc;
    g->labels = labels ? json_incref((json_t *)labels) : json_object();
    g->bucket_lo = 0;
    g->bucket_hi = RF_BUCKETS - 1;
    if (buckets && (rc = parse_buckets(path, buckets, g, err)) != RF_OK)
        return rc;
    rf_snprintf(f, sizeof(f), "%smembers", path);
    g->members = members ? parse_members(f, members, err) : json_array();
    if (g->members == NULL)
        return err ? err->code : RF_ERR_INVALID;
    if (mo != NULL && !json_is_boolean(mo))
        return rf_error_set(err, RF_ERR_INVALID, "field '%smembers_only': must be true or false",
                            path);
    g->members_only =
        mo ? json_is_true(mo) : json_array_size(g->members) > 0 && !labels && !buckets;
    return RF_OK;
}

rf_err api_ring_parse(const json_t *body, const char *path, int allow_id, store_ring *g,
                      rf_error *err)
{
    static const char *const fields[] = {"name",    "order",        "labels",  "buckets",
                                         "members", "members_only", "windows", NULL};
    static const char *const fields_id[] = {
        "id", "name", "order", "labels", "buckets", "members", "members_only", "windows", NULL};
    const json_t *name = json_object_get(body, "name"), *id = json_object_get(body, "id");
    long long order = 0, idv = 0;
    char f[96];
    assign_window w[ASSIGN_MAX_WINDOWS];
    int nw = 0;
    rf_err rc;
    memset(g, 0, sizeof(*g));
    if (!json_is_object(body))
        return rf_error_set(err, RF_ERR_INVALID, "field '%.64s': must be a ring object",
                            path[0] ? path : "body");
    if ((rc = validate_known_fields(body, allow_id ? fields_id : fields, err)) != RF_OK)
        return rc;
    rf_snprintf(f, sizeof(f), "%sid", path);
    if (allow_id && id && !json_is_null(id) &&
        (rc = validate_int(f, id, 1, 9007199254740992LL, &idv, err)) != RF_OK)
        return rc;
    rf_snprintf(f, sizeof(f), "%sname", path);
    if (!json_is_string(name))
        return rf_error_set(err, RF_ERR_INVALID, "field '%s': required, a string", f);
    if ((rc = validate_slug(f, json_string_value(name), err)) != RF_OK)
        return rc;
    rf_snprintf(f, sizeof(f), "%sorder", path);
    if (!json_object_get(body, "order"))
        return rf_error_set(err, RF_ERR_INVALID, "field '%s': required, an integer", f);
    if ((rc = validate_int(f, json_object_get(body, "order"), 0, RING_ORDER_MAX, &order, err)) !=
        RF_OK)
        return rc;
    rf_snprintf(f, sizeof(f), "%swindows", path);
    if ((rc = ring_windows_parse(f, json_object_get(body, "windows"), w, &nw, err)) != RF_OK)
        return rc;
    g->id = idv;
    rf_snprintf(g->name, sizeof(g->name), "%s", json_string_value(name));
    g->order = (int)order;
    const json_t *wj = json_object_get(body, "windows");
    g->windows = wj && !json_is_null(wj) ? json_deep_copy(wj) : json_array();
    rc = parse_selection(body, path, g, err);
    if (rc != RF_OK)
        store_ring_cleanup(g);
    return rc;
}

/* ---- the live-rollout rule ---- */

static int same_membership(const store_ring *a, const store_ring *b)
{
    return a->order == b->order && a->bucket_lo == b->bucket_lo && a->bucket_hi == b->bucket_hi &&
           a->members_only == b->members_only && json_equal(a->labels, b->labels) &&
           json_equal(a->members, b->members);
}

rf_err api_ring_save_check(rf_db *db, const store_ring *have, const store_ring *want, rf_error *err)
{
    long long rid = 0;
    char state[16], ring[65];
    rf_err rc;
    if (have != NULL && want != NULL && same_membership(have, want))
        return RF_OK; /* name and windows may change at any time */
    if (have != NULL) {
        rc = store_ring_check_unused(db, have->id, 0, NULL);
        if (rc == RF_ERR_CONFLICT)
            return rf_error_set(
                err, RF_ERR_CONFLICT,
                "ring '%s' is used by a live rollout: its membership (labels, buckets, members, "
                "order) cannot change until the rollout completes or is reverted; name and "
                "windows can",
                have->name);
        if (rc != RF_OK)
            return rf_error_set(err, rc, "database unavailable");
    }
    int lowest = have && want ? (have->order < want->order ? have->order : want->order)
                 : have       ? have->order
                              : want->order;
    rc = store_ring_live_above(db, lowest, 0, &rid, state, ring, err);
    if (rc == RF_OK && rid > 0)
        rc = rf_error_set(err, RF_ERR_CONFLICT,
                          "live rollout %lld (%s) uses ring '%s', which comes after order %d: "
                          "%s a ring there would move devices between that rollout's rings",
                          rid, state, ring, lowest,
                          !have   ? "adding"
                          : !want ? "deleting"
                                  : "changing");
    return rc;
}

/* ---- changes ---- */

static json_t *event_side(const store_ring *g)
{
    return g ? api_ring_json(g, 0, NULL, (int64_t)time(NULL)) : json_null();
}

/* The transaction of POST, PUT or DELETE. */
static rf_err write_tx(rf_db *db, const rf_req *req, long long id, store_ring *g, rf_error *err)
{
    store_ring have = {0};
    int post = strcmp(req->method, "POST") == 0, del = strcmp(req->method, "DELETE") == 0;
    int expect = -1;
    const char *kind = post ? "ring.created" : del ? "ring.deleted" : "ring.updated";
    if (api_if_match(req, &expect) != RF_OK)
        return rf_error_set(err, RF_ERR_INVALID, "header 'If-Match': must be a ring version");
    rf_err rc = store_begin(db);
    if (rc != RF_OK)
        return rf_error_set(err, rc, "database unavailable");
    if (!post)
        rc = store_ring_get(db, id, 1, &have, err);
    if (rc == RF_OK && !post && expect >= 0 && have.version != expect)
        rc = rf_error_set(err, RF_ERR_CONFLICT,
                          "ring %lld is at version %d, not %d (If-Match); reload it", id,
                          have.version, expect);
    if (rc == RF_OK && del)
        rc = store_ring_check_unused(db, id, 1, err);
    if (rc == RF_OK)
        rc = api_ring_save_check(db, post ? NULL : &have, del ? NULL : g, err);
    if (rc == RF_OK && !del) {
        g->id = id;
        rc = store_ring_check_unique(db, g, id, err);
    }
    if (rc == RF_OK)
        rc = del    ? store_ring_delete(db, id, err)
             : post ? store_ring_insert(db, g, err)
                    : store_ring_update(db, g, err);
    if (rc == RF_OK) {
        json_t *data =
            json_pack("{s:I, s:s, s:o, s:o}", "ring_id", (json_int_t)(del ? id : g->id), "name",
                      del ? have.name : g->name, "before", event_side(post ? NULL : &have), "after",
                      event_side(del ? NULL : g));
        rc = data ? store_event_add(db, kind, req->who.name, 0, NULL, data) : RF_ERR_NOMEM;
        json_decref(data);
    }
    if (rc == RF_OK)
        rc = store_commit(db);
    if (rc != RF_OK)
        store_rollback(db);
    if (rc == RF_OK && del) {
        store_ring_cleanup(g);
        *g = have;
        memset(&have, 0, sizeof(have));
    }
    store_ring_cleanup(&have);
    return rc;
}

/* The ring as it is now, for a conflict's "current" (NULL if none). */
static json_t *current_ring(rf_db *db, long long id)
{
    rf_resp tmp = {0};
    json_t *j = NULL;
    if (id > 0 && answer(&tmp, db, id, 200, NULL) == RF_OK && tmp.body != NULL)
        j = json_loads(tmp.body, 0, NULL);
    free(tmp.body);
    return j;
}

static void change(rf_server *srv, rf_req *req, rf_resp *resp, rf_db *db, long long id)
{
    store_ring g = {0};
    json_t *body = NULL;
    rf_error e = {0};
    int del = strcmp(req->method, "DELETE") == 0, post = strcmp(req->method, "POST") == 0;
    rf_err rc = RF_OK;
    if (!del) {
        body = rf_req_json_object(req, resp);
        if (!body)
            return;
        rc = api_ring_parse(body, "", 0, &g, &e);
    }
    if (rc == RF_OK)
        rc = write_tx(db, req, id, &g, &e);
    if (rc != RF_OK) {
        api_fail_current(resp, rc, &e, post ? NULL : current_ring(db, id));
    } else {
        rf_server_notify(srv);
        if (del)
            rf_resp_json(resp, 200, api_ring_json(&g, 0, NULL, (int64_t)time(NULL)));
        else if (answer(resp, db, g.id, post ? 201 : 200, &e) != RF_OK)
            rf_resp_error_e(resp, &e);
    }
    json_decref(body);
    store_ring_cleanup(&g);
}

rf_http_result api_rings(rf_server *srv, rf_req *req, rf_resp *resp)
{
    rf_db *db = NULL;
    long long id = 0;
    int get = strcmp(req->method, "GET") == 0;
    int preview = req->nparts == 2 && strcmp(req->parts[1], "preview") == 0 &&
                  strcmp(req->method, "POST") == 0;
    rf_role need = get || preview                       ? RF_ROLE_VIEWER
                   : strcmp(req->method, "DELETE") == 0 ? RF_ROLE_ADMIN
                                                        : RF_ROLE_RELEASE;
    rf_error e = {0};
    char msg[96];

    if (!rf_require_role(req, resp, need))
        return RF_HTTP_DONE;
    if (req->nparts == 2 && !preview && !validate_path_id(req->parts[1], &id)) {
        snprintf(msg, sizeof(msg), "ring '%.40s' not found", req->parts[1]);
        rf_resp_error(resp, RF_ERR_NOT_FOUND, msg);
        return RF_HTTP_DONE;
    }
    if (store_acquire(srv->store, DB_WAIT_MS, &db) != RF_OK) {
        rf_resp_error(resp, RF_ERR_UNAVAILABLE, "database unavailable");
        return RF_HTTP_DONE;
    }
    if (preview)
        api_ring_preview(req, resp, db);
    else if (get && answer(resp, db, req->nparts == 1 ? 0 : id, 200, &e) != RF_OK)
        rf_resp_error_e(resp, &e);
    else if (!get)
        change(srv, req, resp, db, id);
    store_release(srv->store, db);
    return RF_HTTP_DONE;
}
