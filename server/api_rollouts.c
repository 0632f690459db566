/* The rollout routes: create, list, read with live figures, gates and holds,
 * health, the transitions start, promote, pause, resume, halt, revert (and
 * abort, its other name), and approve. This file maps JSON to the structs of
 * rollout.h, plan.h and store_rollout.h and back; it decides nothing about
 * states itself. Long-polls are woken only after a change that alters
 * assignments has been committed. A conflict answers with the rollout as it
 * is now. */
#include "api.h"
#include "api_common.h"
#include "api_dash.h"
#include "api_rollout.h"
#include "plan_json.h"
#include "rf_util.h"
#include "store_rollout.h"
#include "store_series.h"
#include "validate.h"

#include <stdlib.h>
#include <string.h>

#define ACQUIRE_MS 2000
#define MAX_ID 9007199254740992LL
#define MAX_REASON 256
#define MAX_FAILURES 1000
#define MAX_SERIES 1000

/* ---- create ---- */

static rf_err parse_create(const json_t *body, long long *bundle_id, health_policy *pol,
                           plan_stage *plan, int *nplan, rf_error *err)
{
    static const char *const allowed[] = {"bundle_id", "policy", "stages", NULL};
    rf_err rc = validate_known_fields(body, allowed, err);
    if (rc != RF_OK)
        return rc;
    if (json_object_get(body, "bundle_id") == NULL)
        return rf_error_set(err, RF_ERR_INVALID, "field 'bundle_id': missing");
    rc = validate_int("bundle_id", json_object_get(body, "bundle_id"), 1, MAX_ID, bundle_id, err);
    health_policy_default(pol);
    if (rc == RF_OK)
        rc = health_policy_parse(json_object_get(body, "policy"), "policy", pol, err);
    const json_t *stages = json_object_get(body, "stages");
    *nplan = 0;
    if (rc != RF_OK || stages == NULL || json_is_null(stages))
        return rc;
    return plan_stages_from_json(stages, plan, nplan, err);
}

/* Reads one rollout with its figures and holds and answers it with status. */
static rf_http_result answer_one(rf_server *srv, rf_resp *resp, long long id, int status)
{
    rf_db *db = NULL;
    rf_error e = {0};
    json_t *j = NULL;
    rf_err rc = store_acquire(srv->store, ACQUIRE_MS, &db);
    if (rc == RF_OK) {
        j = api_rollout_current(db, id);
        /* Tell "no such rollout" from a failure: a plain read names it. */
        if (j == NULL) {
            store_rollout *r = calloc(1, sizeof(*r));
            rc = r ? store_rollout_get(db, id, 0, r, &e) : RF_ERR_NOMEM;
            if (rc == RF_OK)
                rc = rf_error_set(&e, RF_ERR_INTERNAL, "cannot read rollout %lld", id);
            store_rollout_cleanup(r);
            free(r);
        }
    }
    store_release(srv->store, db);
    if (rc != RF_OK)
        return api_fail(resp, rc, &e);
    int version = (int)json_integer_value(json_object_get(j, "version"));
    rf_resp_json(resp, status, j);
    api_etag(resp, version);
    return RF_HTTP_DONE;
}

static rf_http_result create(rf_server *srv, rf_req *req, rf_resp *resp)
{
    plan_stage plan[ROLLOUT_MAX_STAGES];
    health_policy pol;
    long long bundle_id = 0, id = 0;
    int nplan = 0;
    rf_db *db = NULL;
    rf_error e = {0};
    if (!rf_require_role(req, resp, RF_ROLE_RELEASE))
        return RF_HTTP_DONE;
    json_t *body = rf_req_json_object(req, resp);
    if (body == NULL)
        return RF_HTTP_DONE;
    rf_err rc = parse_create(body, &bundle_id, &pol, plan, &nplan, &e);
    json_decref(body);
    if (rc == RF_OK)
        rc = store_acquire(srv->store, ACQUIRE_MS, &db);
    if (rc == RF_OK)
        rc = store_rollout_create(db, bundle_id, &pol, plan, nplan, req->who.name, &id, &e);
    store_release(srv->store, db);
    if (rc != RF_OK)
        return api_fail(resp, rc, &e);
    return answer_one(srv, resp, id, 201);
}

/* ---- list ---- */

#define LIST_CHUNK 500

/* Reads the next rows of f (from f->before on), with their figures, and
 * appends at most `room` of them to page; *rows gets how many were read, and
 * f->before moves past the last one appended. */
static rf_err list_chunk(rf_db *db, store_rollout_filter *f, json_t *page, int room, int *rows,
                         rf_error *e)
{
    store_rollout *list = NULL;
    int n = 0;
    rf_err rc = store_rollout_list(db, f, &list, &n, e);
    int take = n < room ? n : room;
    if (rc == RF_OK)
        rc = store_rollout_fill_counts(db, list, take, 1, e); /* the page's rows only */
    for (int i = 0; rc == RF_OK && i < take; i++) {
        if (json_array_append_new(page, api_rollout_json(&list[i], NULL)) != 0)
            rc = rf_error_set(e, RF_ERR_NOMEM, "out of memory");
        f->before = list[i].id;
    }
    *rows = n;
    store_rollout_free_list(list, n);
    return rc;
}

/* One page (q->limit) or, without a limit, the whole list read in chunks.
 * *more is set when another page follows. */
static rf_err list_page(rf_db *db, const api_page_query *q, json_t *page, int *more, rf_error *e)
{
    store_rollout_filter f = {.channel = q->channel,
                              .state = q->state,
                              .bundle_id = q->bundle_id,
                              .version = q->version,
                              .ring = q->ring,
                              .ring_id = q->ring_id,
                              .before = q->cursor_id};
    int rows = 0;
    rf_err rc = RF_OK;
    *more = 0;
    if (q->limit > 0) {
        f.limit = (int)q->limit + 1;
        rc = list_chunk(db, &f, page, (int)q->limit, &rows, e);
        *more = rows > q->limit;
        return rc;
    }
    f.limit = LIST_CHUNK;
    do
        rc = list_chunk(db, &f, page, LIST_CHUNK, &rows, e);
    while (rc == RF_OK && rows == LIST_CHUNK);
    return rc;
}

static rf_http_result list(rf_server *srv, rf_req *req, rf_resp *resp)
{
    const char *channel = req->query ? req->query(req, "channel") : NULL;
    const char *state = req->query ? req->query(req, "state") : NULL;
    api_page_query q;
    json_t *page = NULL;
    int more = 0;
    char last[API_PAGE_KEY_MAX];
    rf_db *db = NULL;
    rf_error e = {0};
    rollout_state st;
    if (!rf_require_role(req, resp, RF_ROLE_VIEWER))
        return RF_HTTP_DONE;
    if (channel != NULL && validate_slug("channel", channel, &e) != RF_OK)
        return api_fail(resp, RF_ERR_INVALID, &e);
    if (state != NULL && rollout_state_parse(state, &st) != 0) {
        rf_resp_error(resp, RF_ERR_INVALID,
                      "parameter 'state': must be one of draft, active, paused, halted, "
                      "reverted, completed");
        return RF_HTTP_DONE;
    }
    rf_err rc = api_page_parse(req, API_PAGE_ROLLOUTS, &q, &e);
    if (rc == RF_OK)
        rc = (page = json_array()) ? RF_OK : RF_ERR_NOMEM;
    if (rc == RF_OK)
        rc = store_acquire(srv->store, ACQUIRE_MS, &db);
    if (rc == RF_OK)
        rc = list_page(db, &q, page, &more, &e);
    store_release(srv->store, db);
    api_page_query_cleanup(&q);
    if (rc != RF_OK) {
        json_decref(page);
        return api_fail(resp, rc, &e);
    }
    if (more)
        rf_snprintf(last, sizeof(last), "%lld",
                    (long long)json_integer_value(
                        json_object_get(json_array_get(page, json_array_size(page) - 1), "id")));
    api_page_reply(resp, API_PAGE_ROLLOUTS, "rollouts", page, more ? last : NULL);
    return RF_HTTP_DONE;
}

/* ---- health ---- */

static rf_http_result health(rf_server *srv, rf_req *req, rf_resp *resp, long long id)
{
    store_rollout *r = NULL;
    json_t *failures = NULL, *points = NULL, *out = NULL;
    rf_db *db = NULL;
    rf_error e = {0};
    if (!rf_require_role(req, resp, RF_ROLE_VIEWER))
        return RF_HTTP_DONE;
    r = calloc(1, sizeof(*r));
    rf_err rc = r ? store_acquire(srv->store, ACQUIRE_MS, &db) : RF_ERR_NOMEM;
    if (rc == RF_OK)
        rc = store_rollout_get(db, id, 0, r, &e);
    if (rc == RF_OK)
        rc = store_rollout_fill_counts(db, r, 1, 0, &e);
    if (rc == RF_OK)
        rc = store_rollout_failures(db, id, MAX_FAILURES, &failures, &e);
    if (rc == RF_OK)
        rc = store_series_control(db, r, &e);
    if (rc == RF_OK)
        rc = store_series_list(db, id, 0, MAX_SERIES, &points, &e);
    store_release(srv->store, db);
    if (rc == RF_OK && (out = api_rollout_health_json(r, failures)) != NULL)
        api_rollout_health_add_stats(out, r, points);
    if (rc == RF_OK)
        rf_resp_json(resp, 200, out);
    else
        json_decref(failures);
    json_decref(points);
    store_rollout_cleanup(r);
    free(r);
    return rc == RF_OK ? RF_HTTP_DONE : api_fail(resp, rc, &e);
}

/* ---- changes ---- */

/* The optional body of a change: {"reason"} and, for approve, {"stage"}. */
typedef struct change_body {
    char reason[MAX_REASON + 1];
    int stage; /* -1: the current one */
} change_body;

static rf_err check_reason(const json_t *r, change_body *out, rf_error *err)
{
    if (r == NULL || json_is_null(r))
        return RF_OK;
    const char *s = json_string_value(r);
    int ok = s != NULL && strlen(s) == json_string_length(r) && strlen(s) <= MAX_REASON;
    for (size_t i = 0; ok && s[i]; i++)
        ok = (unsigned char)s[i] >= 0x20 && s[i] != 0x7f;
    if (!ok)
        return rf_error_set(err, RF_ERR_INVALID,
                            "field 'reason': must be a string of at most %d printable characters",
                            MAX_REASON);
    memcpy(out->reason, s, strlen(s) + 1);
    return RF_OK;
}

/* Parses the body; on failure the answer is filled and *answered set. */
static rf_err parse_change(const rf_req *req, rf_resp *resp, int with_stage, change_body *out)
{
    static const char *const plain[] = {"reason", NULL};
    static const char *const staged[] = {"reason", "stage", NULL};
    rf_error e = {0};
    long long st = -1;
    memset(out, 0, sizeof(*out));
    out->stage = -1;
    if (req->body == NULL || req->body_len == 0)
        return RF_OK;
    json_t *body = rf_req_json_object(req, resp);
    if (body == NULL)
        return RF_ERR_INVALID;
    rf_err rc = validate_known_fields(body, with_stage ? staged : plain, &e);
    if (rc == RF_OK)
        rc = check_reason(json_object_get(body, "reason"), out, &e);
    if (rc == RF_OK && with_stage && json_object_get(body, "stage") != NULL)
        rc = validate_int("stage", json_object_get(body, "stage"), 0, ROLLOUT_MAX_STAGES - 1, &st,
                          &e);
    out->stage = (int)st;
    json_decref(body);
    if (rc != RF_OK)
        api_fail(resp, rc, &e);
    return rc;
}

/* A transition (approve == 0) or an approval. */
static rf_http_result change(rf_server *srv, rf_req *req, rf_resp *resp, long long id,
                             rollout_action action, int approve)
{
    change_body b;
    int expect = -1, changed = 0;
    rf_db *db = NULL;
    rf_error e = {0};
    json_t *current = NULL;
    if (!rf_require_role(req, resp, RF_ROLE_RELEASE))
        return RF_HTTP_DONE;
    if (parse_change(req, resp, approve, &b) != RF_OK)
        return RF_HTTP_DONE;
    if (api_if_match(req, &expect) != RF_OK) {
        rf_resp_error(resp, RF_ERR_INVALID, "header 'If-Match': must be the rollout's version");
        return RF_HTTP_DONE;
    }
    store_rollout *after = calloc(1, sizeof(*after));
    rf_err rc = after ? store_acquire(srv->store, ACQUIRE_MS, &db) : RF_ERR_NOMEM;
    if (rc == RF_OK && approve)
        rc = store_rollout_approve(db, id, b.stage, req->who.name, b.reason, expect, after, &e);
    else if (rc == RF_OK)
        rc = store_rollout_transition(db, id, action, req->who.name, b.reason, expect, after,
                                      &changed, &e);
    if (rc == RF_ERR_CONFLICT)
        current = api_rollout_current(db, id);
    json_t *j = rc == RF_OK ? api_rollout_with_holds(db, after) : NULL;
    store_release(srv->store, db);
    if (changed)
        rf_server_notify(srv); /* after the commit, whatever happened next */
    if (rc == RF_OK && j == NULL)
        rc = rf_error_set(&e, RF_ERR_UNAVAILABLE, "the change is saved; reading it back failed");
    if (rc == RF_OK) {
        rf_resp_json(resp, 200, j);
        api_etag(resp, after->version);
    }
    store_rollout_cleanup(after);
    free(after);
    return rc == RF_OK ? RF_HTTP_DONE : api_fail_current(resp, rc, &e, current);
}

rf_http_result api_rollouts(rf_server *srv, rf_req *req, rf_resp *resp)
{
    long long id = 0;
    int get = strcmp(req->method, "GET") == 0, post = strcmp(req->method, "POST") == 0;
    if (req->nparts == 1)
        return get ? list(srv, req, resp) : create(srv, req, resp);
    if (req->nparts < 2 || req->nparts > 3)
        return api_fail(resp, RF_ERR_NOT_FOUND, NULL);
    if (!validate_path_id(req->parts[1], &id)) {
        /* Roles first: an unauthenticated caller learns nothing about ids. */
        if (rf_require_role(req, resp, RF_ROLE_VIEWER))
            rf_resp_error(resp, RF_ERR_NOT_FOUND, "rollout not found: ids are integers");
        return RF_HTTP_DONE;
    }
    if (req->nparts == 2 && get) {
        if (!rf_require_role(req, resp, RF_ROLE_VIEWER))
            return RF_HTTP_DONE;
        return answer_one(srv, resp, id, 200);
    }
    if (req->nparts == 3 && get && strcmp(req->parts[2], "health") == 0)
        return health(srv, req, resp, id);
    rollout_action action;
    if (req->nparts == 3 && post && strcmp(req->parts[2], "approve") == 0)
        return change(srv, req, resp, id, ROLLOUT_PROMOTE, 1);
    if (req->nparts == 3 && post && strcmp(req->parts[2], "abort") == 0)
        return change(srv, req, resp, id, ROLLOUT_REVERT, 0);
    if (req->nparts == 3 && post && rollout_action_parse(req->parts[2], &action) == 0)
        return change(srv, req, resp, id, action, 0);
    return api_fail(resp, RF_ERR_NOT_FOUND, NULL);
}
