/* /v1/bundles: upload (release), list and read (viewer), and the bytes
 * (device token or viewer). An uploaded bundle becomes a TUF target: the
 * bundle row, its target and the new targets, snapshot and timestamp metadata
 * are written in one transaction, and never change afterwards. It never
 * accepts a bundle the repository could not publish. Agents fetch signed
 * metadata and bytes from /tuf/ (api_tuf.c). */
#include "api.h"
#include "api_dash.h"
#include "rf_log.h"
#include "rf_util.h"
#include "store_bundle.h"
#include "tuf_publish.h"
#include "tuf_refresh.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DB_WAIT_MS 5000
#define BUNDLE_LIST_MAX 1000

static json_t *bundle_json(const store_bundle *b)
{
    return json_pack("{s:I,s:s,s:s,s:s,s:s,s:I,s:s,s:s}", "id", (json_int_t)b->id, "channel",
                     b->channel, "name", b->name, "version", b->version, "sha256", b->sha256,
                     "length", (json_int_t)b->length, "created", b->created, "created_by",
                     b->created_by);
}

/* Publishes b as a TUF target (inside the open transaction): its path, then
 * new targets, snapshot and timestamp signed with the online keys. */
static rf_err publish(rf_server *srv, rf_db *db, const store_bundle *b, rf_error *err)
{
    tuf_keyset *ks = NULL;
    tuf_periods p;
    tuf_target t;
    rf_err rc = tuf_keys_follow(srv, db, err); /* a rotation may have just happened */

    if (rc != RF_OK)
        return rc;
    ks = tuf_keys_get(srv);
    if (ks == NULL)
        return rf_error_set(err, RF_ERR_UNAVAILABLE, "the signing keys are not loaded");
    memset(&t, 0, sizeof(t));
    rc = tuf_target_path(b->channel, b->name, b->version, t.path, err);
    if (rc == RF_OK) {
        memcpy(t.channel, b->channel, sizeof(t.channel));
        memcpy(t.name, b->name, sizeof(t.name));
        memcpy(t.version, b->version, sizeof(t.version));
        memcpy(t.sha256, b->sha256, sizeof(t.sha256));
        t.length = b->length;
        t.bundle_id = b->id;
        tuf_periods_of(&srv->cfg, &p);
        rc = tuf_publish_target(db, ks, &p, rf_now_ms() / 1000, &t, err);
    }
    tuf_keyset_put(ks);
    return rc;
}

/* Answers for an existing bundle with the same triple: 200 if identical. */
static void answer_existing(rf_resp *resp, const store_bundle *have, const char *sha)
{
    char msg[256];

    if (strcmp(have->sha256, sha) == 0) {
        rf_resp_json(resp, 200, bundle_json(have));
        return;
    }
    snprintf(msg, sizeof(msg),
             "bundle %s/%s version %s exists already (id %lld) with different content",
             have->channel, have->name, have->version, have->id);
    rf_resp_error(resp, RF_ERR_CONFLICT, msg);
}

static rf_err insert_published(rf_server *srv, rf_db *db, const rf_req *req, store_bundle *b,
                               rf_error *err)
{
    rf_err rc = store_begin(db);

    if (rc != RF_OK)
        return rf_error_set(err, rc, "database unavailable");
    rc = store_bundle_insert(db, b, req->body, req->body_len, err);
    if (rc == RF_OK)
        rc = publish(srv, db, b, err);
    if (rc == RF_OK) {
        json_t *data = json_pack("{s:I,s:s,s:s,s:s,s:s,s:I}", "bundle_id", (json_int_t)b->id,
                                 "channel", b->channel, "name", b->name, "version", b->version,
                                 "sha256", b->sha256, "length", (json_int_t)b->length);
        rc = store_event_add(db, "bundle.created", req->who.name, 0, NULL, data);
        json_decref(data);
        if (rc != RF_OK)
            rf_error_set(err, rc, "cannot record the event");
    }
    if (rc == RF_OK)
        rc = store_commit(db);
    if (rc != RF_OK)
        store_rollback(db);
    return rc;
}

static rf_err upload_params(const rf_req *req, store_bundle *b, rf_error *err)
{
    const char *channel = req->query(req, "channel");
    const char *name = req->query(req, "name");
    const char *version = req->query(req, "version");
    rf_err rc;

    memset(b, 0, sizeof(*b));
    if ((rc = validate_slug("channel", channel, err)) != RF_OK ||
        (rc = validate_slug("name", name, err)) != RF_OK ||
        (rc = validate_version("version", version, err)) != RF_OK)
        return rc;
    if (!req->body || req->body_len == 0)
        return rf_error_set(err, RF_ERR_INVALID, "body: the bundle is empty");
    memcpy(b->channel, channel, strlen(channel) + 1);
    memcpy(b->name, name, strlen(name) + 1);
    memcpy(b->version, version, strlen(version) + 1);
    rf_snprintf(b->created_by, sizeof(b->created_by), "%s", req->who.name);
    rf_sha256_hex(req->body, req->body_len, b->sha256);
    return RF_OK;
}

static rf_http_result upload(rf_server *srv, rf_req *req, rf_resp *resp)
{
    store_bundle b, have;
    rf_db *db = NULL;
    rf_error e = {0};
    rf_err rc;

    if (!rf_require_role(req, resp, RF_ROLE_RELEASE))
        return RF_HTTP_DONE;
    if ((rc = upload_params(req, &b, &e)) != RF_OK) {
        rf_resp_error_e(resp, &e);
        return RF_HTTP_DONE;
    }
    if ((rc = store_acquire(srv->store, DB_WAIT_MS, &db)) != RF_OK) {
        rf_resp_error(resp, RF_ERR_UNAVAILABLE, "database unavailable");
        return RF_HTTP_DONE;
    }
    rc = store_bundle_find(db, b.channel, b.name, b.version, &have, &e);
    if (rc == RF_OK) {
        answer_existing(resp, &have, b.sha256);
        goto out;
    }
    if (rc != RF_ERR_NOT_FOUND)
        goto fail;
    rc = insert_published(srv, db, req, &b, &e);
    if (rc == RF_ERR_CONFLICT &&
        store_bundle_find(db, b.channel, b.name, b.version, &have, NULL) == RF_OK) {
        answer_existing(resp, &have, b.sha256); /* lost a race with an identical upload */
        goto out;
    }
    if (rc != RF_OK)
        goto fail;
    rf_resp_json(resp, 201, bundle_json(&b));
    goto out;
fail:
    rf_resp_error_e(resp, &e);
out:
    store_release(srv->store, db);
    return RF_HTTP_DONE;
}

/* One page of bundles (limit + 1 read to know whether another follows) or,
 * without `limit`, the newest BUNDLE_LIST_MAX. */
static rf_http_result list(rf_server *srv, rf_req *req, rf_resp *resp, rf_db *db)
{
    const char *channel = req->query(req, "channel");
    api_page_query q;
    store_bundle *items = NULL;
    size_t n = 0, take;
    rf_error e = {0};
    char last[API_PAGE_KEY_MAX];
    json_t *arr;

    (void)srv;
    if (channel && validate_slug("channel", channel, &e) != RF_OK) {
        rf_resp_error_e(resp, &e);
        return RF_HTTP_DONE;
    }
    if (api_page_parse(req, API_PAGE_BUNDLES, &q, &e) != RF_OK ||
        store_bundle_list(db, channel, q.version, q.cursor_id,
                          q.limit > 0 ? (int)q.limit + 1 : BUNDLE_LIST_MAX, &items, &n,
                          &e) != RF_OK) {
        api_page_query_cleanup(&q);
        rf_resp_error_e(resp, &e);
        return RF_HTTP_DONE;
    }
    take = q.limit > 0 && n > (size_t)q.limit ? (size_t)q.limit : n;
    arr = json_array();
    for (size_t i = 0; arr && i < take; i++)
        json_array_append_new(arr, bundle_json(&items[i]));
    if (take < n)
        rf_snprintf(last, sizeof(last), "%lld", items[take - 1].id);
    free(items);
    api_page_query_cleanup(&q);
    api_page_reply(resp, API_PAGE_BUNDLES, "bundles", arr, take < n ? last : NULL);
    return RF_HTTP_DONE;
}

static void content(rf_resp *resp, rf_db *db, long long id)
{
    char sha[65], etag[80];
    char *data = NULL;
    size_t len = 0;
    rf_error e = {0};

    if (store_bundle_content(db, id, &data, &len, sha, &e) != RF_OK) {
        rf_resp_error_e(resp, &e);
        return;
    }
    resp->status = 200;
    resp->content_type = "application/octet-stream";
    resp->body = data;
    resp->body_len = len;
    snprintf(etag, sizeof(etag), "\"%s\"", sha);
    rf_resp_add_header(resp, "ETag", etag);
    rf_resp_add_header(resp, "Cache-Control", "public, max-age=31536000, immutable");
}

/* GET /v1/bundles/ID[/content]. */
static rf_http_result read_one(rf_server *srv, rf_req *req, rf_resp *resp, rf_db *db)
{
    long long id;
    store_bundle b;
    rf_error e = {0};
    char msg[160];

    (void)srv;
    if (!validate_path_id(req->parts[1], &id)) {
        snprintf(msg, sizeof(msg), "bundle '%.64s' not found", req->parts[1]);
        rf_resp_error(resp, RF_ERR_NOT_FOUND, msg);
        return RF_HTTP_DONE;
    }
    if (req->nparts == 3)
        content(resp, db, id);
    else if (store_bundle_get(db, id, &b, &e) == RF_OK)
        rf_resp_json(resp, 200, bundle_json(&b));
    else
        rf_resp_error_e(resp, &e);
    if (resp->status == 404) {
        snprintf(msg, sizeof(msg), "bundle %lld not found", id);
        rf_resp_error(resp, RF_ERR_NOT_FOUND, msg);
    }
    return RF_HTTP_DONE;
}

rf_http_result api_bundles(rf_server *srv, rf_req *req, rf_resp *resp)
{
    rf_db *db = NULL;
    rf_http_result res;
    int download = req->nparts == 3;

    if (strcmp(req->method, "POST") == 0)
        return upload(srv, req, resp);
    /* Downloads: a device token or a viewer; everything else: a viewer. */
    if (!(download && req->who.kind == RF_PRINCIPAL_DEVICE) &&
        !rf_require_role(req, resp, RF_ROLE_VIEWER))
        return RF_HTTP_DONE;
    if (store_acquire(srv->store, DB_WAIT_MS, &db) != RF_OK) {
        rf_resp_error(resp, RF_ERR_UNAVAILABLE, "database unavailable");
        return RF_HTTP_DONE;
    }
    if (req->nparts == 1)
        res = list(srv, req, resp, db);
    else
        res = read_one(srv, req, resp, db);
    store_release(srv->store, db);
    return res;
}
