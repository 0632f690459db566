/* /v1/webhooks: receivers of rollout events managed by admins — list,
 * create (the secret is shown once, in the answer), read, change, delete,
 * rotate the secret, queue a test delivery, and read the delivery log (also
 * the log of every webhook, environment URLs' included, at
 * /v1/webhooks/deliveries). Every route is admin-only and checks the role
 * before it reads anything else. It never logs a secret, and wipes the key
 * and every secret it derived before it returns. */
#include "api.h"
#include "api_common.h"
#include "api_dash.h"
#include "rf_log.h"
#include "rf_util.h"
#include "store_webhook.h"
#include "validate.h"
#include "webhook.h"
#include "webhook_key.h"

#include <string.h>

#define ACQUIRE_MS 2000
#define DELIVERIES_DEFAULT 100

/* Answers 200 or 201 with obj and its ETag, or the error (with "current"
 * for a conflict). */
static rf_http_result answer(rf_resp *resp, rf_err rc, const rf_error *e, json_t *obj, int status,
                             json_t *current)
{
    if (rc != RF_OK) {
        json_decref(obj);
        return api_fail_current(resp, rc, e, current);
    }
    json_decref(current);
    api_etag(resp, (int)json_integer_value(json_object_get(obj, "version")));
    rf_resp_json(resp, status, obj);
    return RF_HTTP_DONE;
}

/* A body that must carry nothing: none, or an empty object. */
static rf_err empty_body(const rf_req *req, rf_error *err)
{
    static const char *const none[] = {NULL};
    json_t *j;
    rf_err rc;
    if (req->body == NULL || req->body_len == 0)
        return RF_OK;
    j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(j))
        rc = rf_error_set(err, RF_ERR_INVALID, "body: must be empty or {}");
    else
        rc = validate_known_fields(j, none, err);
    json_decref(j);
    return rc;
}

/* Adds "secret" (the one showing) to hook: derived from key for the hook's
 * id at generation. */
static void add_secret(json_t *hook, const webhook_key *key, int generation)
{
    char secret[WEBHOOK_SECRET_LEN + 1];
    long long id = (long long)json_integer_value(json_object_get(hook, "id"));
    webhook_secret_derive(key->key, id, generation, secret);
    json_object_set_new(hook, "secret", json_string(secret));
    explicit_bzero(secret, sizeof(secret));
}

/* The master key, created on first use. */
static rf_err master_key(rf_server *srv, webhook_key *key, rf_error *e)
{
    int created = 0;
    rf_error why = {0};
    rf_err rc = webhook_key_ensure(srv->cfg.keys_dir, key, &created, &why);
    if (rc != RF_OK)
        return rf_error_set(e, RF_ERR_INTERNAL, "webhook master key: %s", why.message);
    if (created)
        rf_log(RF_LOG_INFO, "webhook: master key created", "file", WEBHOOK_KEY_FILE, "key_id",
               key->id, NULL);
    return RF_OK;
}

static rf_http_result create(rf_server *srv, rf_req *req, rf_resp *resp)
{
    webhook_spec spec;
    webhook_key key;
    json_t *body = rf_req_json_object(req, resp), *out = NULL;
    rf_db *db = NULL;
    rf_error e = {0};
    long long id = 0;
    memset(&key, 0, sizeof(key));
    if (body == NULL)
        return RF_HTTP_DONE;
    rf_err rc = webhook_spec_parse(body, 1, &spec, &e);
    json_decref(body);
    if (rc == RF_OK)
        rc = master_key(srv, &key, &e);
    if (rc == RF_OK)
        rc = store_acquire(srv->store, ACQUIRE_MS, &db);
    if (rc == RF_OK)
        rc = store_webhook_create(db, &spec, key.id, req->who.name, &out, &id, &e);
    store_release(srv->store, db);
    if (rc == RF_OK)
        add_secret(out, &key, 1);
    webhook_key_wipe(&key);
    return answer(resp, rc, &e, out, 201, NULL);
}

static rf_http_result list(rf_server *srv, rf_req *req, rf_resp *resp)
{
    api_page_query q;
    json_t *page = NULL;
    rf_db *db = NULL;
    rf_error e = {0};
    int more = 0;
    char last[24];
    rf_err rc = api_page_parse(req, API_PAGE_WEBHOOKS, &q, &e);
    if (rc == RF_OK)
        rc = store_acquire(srv->store, ACQUIRE_MS, &db);
    if (rc == RF_OK)
        rc = store_webhook_list(db, q.cursor_id, (int)q.limit, &page, &more, &e);
    store_release(srv->store, db);
    api_page_query_cleanup(&q);
    if (rc != RF_OK)
        return api_fail(resp, rc, &e);
    json_t *tail = json_array_get(page, json_array_size(page) - 1);
    rf_snprintf(last, sizeof(last), "%lld",
                (long long)json_integer_value(json_object_get(tail, "id")));
    api_page_reply(resp, API_PAGE_WEBHOOKS, "webhooks", page, more ? last : NULL);
    return RF_HTTP_DONE;
}

/* GET /v1/webhooks/deliveries (webhook_id 0) and /v1/webhooks/ID/deliveries. */
static rf_http_result deliveries(rf_server *srv, rf_req *req, rf_resp *resp, long long webhook_id)
{
    api_page_query q;
    json_t *page = NULL, *hook = NULL;
    rf_db *db = NULL;
    rf_error e = {0};
    int more = 0;
    char last[24];
    rf_err rc = api_page_parse(req, API_PAGE_DELIVERIES, &q, &e);
    int limit = q.limit > 0 ? (int)q.limit : DELIVERIES_DEFAULT;
    if (rc == RF_OK)
        rc = store_acquire(srv->store, ACQUIRE_MS, &db);
    if (rc == RF_OK && webhook_id > 0)
        rc = store_webhook_get(db, webhook_id, &hook, &e);
    if (rc == RF_OK)
        rc =
            store_webhook_deliveries(db, webhook_id, q.state, q.cursor_id, limit, &page, &more, &e);
    store_release(srv->store, db);
    api_page_query_cleanup(&q);
    json_decref(hook);
    if (rc != RF_OK)
        return api_fail(resp, rc, &e);
    json_t *tail = json_array_get(page, json_array_size(page) - 1);
    rf_snprintf(last, sizeof(last), "%lld",
                (long long)json_integer_value(json_object_get(tail, "id")));
    api_page_reply(resp, API_PAGE_DELIVERIES, "deliveries", page, more ? last : NULL);
    return RF_HTTP_DONE;
}

static rf_http_result one(rf_server *srv, rf_req *req, rf_resp *resp, long long id)
{
    webhook_spec spec;
    json_t *out = NULL, *current = NULL, *body = NULL;
    rf_db *db = NULL;
    rf_error e = {0};
    int version = -1;
    int get = strcmp(req->method, "GET") == 0, del = strcmp(req->method, "DELETE") == 0;
    rf_err rc = RF_OK;
    if (!get && api_if_match(req, &version) != RF_OK)
        return api_fail(
            resp, rf_error_set(&e, RF_ERR_INVALID, "header 'If-Match': must be \"<version>\" or *"),
            &e);
    if (!get && !del) {
        if ((body = rf_req_json_object(req, resp)) == NULL)
            return RF_HTTP_DONE;
        rc = webhook_spec_parse(body, 0, &spec, &e);
        json_decref(body);
    }
    if (rc == RF_OK)
        rc = store_acquire(srv->store, ACQUIRE_MS, &db);
    if (rc == RF_OK && get)
        rc = store_webhook_get(db, id, &out, &e);
    else if (rc == RF_OK && del)
        rc = store_webhook_delete(db, id, version, req->who.name, &out, &current, &e);
    else if (rc == RF_OK)
        rc = store_webhook_update(db, id, &spec, version, req->who.name, &out, &current, &e);
    store_release(srv->store, db);
    return answer(resp, rc, &e, out, 200, current);
}

static rf_http_result rotate(rf_server *srv, rf_req *req, rf_resp *resp, long long id)
{
    webhook_key key;
    json_t *out = NULL, *current = NULL;
    rf_db *db = NULL;
    rf_error e = {0};
    int version = -1, generation = 0;
    memset(&key, 0, sizeof(key));
    rf_err rc = empty_body(req, &e);
    if (rc == RF_OK && api_if_match(req, &version) != RF_OK)
        rc = rf_error_set(&e, RF_ERR_INVALID, "header 'If-Match': must be \"<version>\" or *");
    if (rc == RF_OK)
        rc = master_key(srv, &key, &e);
    if (rc == RF_OK)
        rc = store_acquire(srv->store, ACQUIRE_MS, &db);
    if (rc == RF_OK)
        rc = store_webhook_rotate(db, id, key.id, version, req->who.name, &out, &generation,
                                  &current, &e);
    store_release(srv->store, db);
    if (rc == RF_OK)
        add_secret(out, &key, generation);
    webhook_key_wipe(&key);
    return answer(resp, rc, &e, out, 200, current);
}

static rf_http_result test(rf_server *srv, rf_req *req, rf_resp *resp, long long id)
{
    json_t *out = NULL;
    rf_db *db = NULL;
    rf_error e = {0};
    rf_err rc = empty_body(req, &e);
    if (rc == RF_OK)
        rc = store_acquire(srv->store, ACQUIRE_MS, &db);
    if (rc == RF_OK)
        rc = store_webhook_test(db, id, req->who.name, &out, &e);
    store_release(srv->store, db);
    if (rc != RF_OK)
        return api_fail(resp, rc, &e);
    webhook_wake();
    rf_resp_json(resp, 202, json_pack("{s:o}", "delivery", out));
    return RF_HTTP_DONE;
}

rf_http_result api_webhooks(rf_server *srv, rf_req *req, rf_resp *resp)
{
    rf_error e = {0};
    long long id = 0;
    if (!rf_require_role(req, resp, RF_ROLE_ADMIN))
        return RF_HTTP_DONE;
    if (req->nparts == 1)
        return strcmp(req->method, "POST") == 0 ? create(srv, req, resp) : list(srv, req, resp);
    if (req->nparts == 2 && strcmp(req->parts[1], "deliveries") == 0 &&
        strcmp(req->method, "GET") == 0)
        return deliveries(srv, req, resp, 0);
    if (!validate_path_id(req->parts[1], &id))
        return api_fail(resp, rf_error_set(&e, RF_ERR_NOT_FOUND, "webhook not found"), &e);
    if (req->nparts == 2)
        return one(srv, req, resp, id);
    if (strcmp(req->parts[2], "deliveries") == 0)
        return deliveries(srv, req, resp, id);
    if (strcmp(req->parts[2], "rotate-secret") == 0)
        return rotate(srv, req, resp, id);
    return test(srv, req, resp, id);
}
