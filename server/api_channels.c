/* /v1/channels and /v1/channels/NAME/plan: the channels there are and each
 * one's default plan (stored, or built-in: every ring in order, long bakes
 * for driver, short ones for content). A plan is checked like any rollout's
 * plan (plan.c): it may set any bake time but never skip a ring. Changes take
 * If-Match and answer a conflict with the plan as it is now. */
#include "api.h"
#include "api_common.h"
#include "plan_json.h"
#include "store_plan.h"
#include "validate.h"

#include <stdlib.h>
#include <string.h>

#define ACQUIRE_MS 2000

static rf_http_result list(rf_server *srv, rf_req *req, rf_resp *resp)
{
    rf_db *db = NULL;
    rf_error e = {0};
    json_t *out = NULL;
    if (!rf_require_role(req, resp, RF_ROLE_VIEWER))
        return RF_HTTP_DONE;
    rf_err rc = store_acquire(srv->store, ACQUIRE_MS, &db);
    if (rc == RF_OK)
        rc = store_plan_channels(db, &out, &e);
    store_release(srv->store, db);
    if (rc != RF_OK)
        return api_fail(resp, rc, &e);
    rf_resp_json(resp, 200, out);
    return RF_HTTP_DONE;
}

static void answer_plan(rf_resp *resp, const store_channel_plan *p)
{
    rf_resp_json(resp, 200, store_plan_json(p));
    api_etag(resp, p->version);
}

static rf_err parse_put(const rf_req *req, rf_resp *resp, plan_stage *st, int *n, int *answered,
                        rf_error *err)
{
    static const char *const allowed[] = {"stages", NULL};
    *answered = 0;
    json_t *body = rf_req_json_object(req, resp);
    if (body == NULL) {
        *answered = 1;
        return RF_ERR_INVALID;
    }
    rf_err rc = validate_known_fields(body, allowed, err);
    if (rc == RF_OK && json_object_get(body, "stages") == NULL)
        rc = rf_error_set(err, RF_ERR_INVALID, "field 'stages': missing");
    if (rc == RF_OK)
        rc = plan_stages_from_json(json_object_get(body, "stages"), st, n, err);
    json_decref(body);
    return rc;
}

static rf_http_result plan(rf_server *srv, rf_req *req, rf_resp *resp, const char *channel)
{
    int get = strcmp(req->method, "GET") == 0, del = strcmp(req->method, "DELETE") == 0;
    int expect = -1, n = 0, answered = 0;
    rf_db *db = NULL;
    rf_error e = {0};
    json_t *current = NULL;
    if (!rf_require_role(req, resp, get ? RF_ROLE_VIEWER : RF_ROLE_RELEASE))
        return RF_HTTP_DONE;
    if (validate_slug("channel", channel, &e) != RF_OK)
        return api_fail(resp, RF_ERR_INVALID, &e);
    if (api_if_match(req, &expect) != RF_OK) {
        rf_resp_error(resp, RF_ERR_INVALID, "header 'If-Match': must be the plan's version");
        return RF_HTTP_DONE;
    }
    store_channel_plan *p = calloc(1, sizeof(*p));
    plan_stage *st = calloc(ROLLOUT_MAX_STAGES, sizeof(*st));
    rf_err rc = p && st ? RF_OK : rf_error_set(&e, RF_ERR_NOMEM, "out of memory");
    if (rc == RF_OK && !get && !del)
        rc = parse_put(req, resp, st, &n, &answered, &e);
    if (rc == RF_OK)
        rc = store_acquire(srv->store, ACQUIRE_MS, &db);
    if (rc == RF_OK && get)
        rc = store_plan_get(db, channel, p, &e);
    else if (rc == RF_OK && del)
        rc = store_plan_reset(db, channel, expect, req->who.name, p, &e);
    else if (rc == RF_OK)
        rc = store_plan_put(db, channel, st, n, expect, req->who.name, p, &e);
    if (rc == RF_ERR_CONFLICT && store_plan_get(db, channel, p, NULL) == RF_OK)
        current = store_plan_json(p);
    store_release(srv->store, db);
    if (rc == RF_OK)
        answer_plan(resp, p);
    else if (!answered)
        api_fail_current(resp, rc, &e, current);
    else
        json_decref(current);
    free(p);
    free(st);
    return RF_HTTP_DONE;
}

rf_http_result api_channels(rf_server *srv, rf_req *req, rf_resp *resp)
{
    if (req->nparts == 1)
        return list(srv, req, resp);
    if (req->nparts == 3 && strcmp(req->parts[2], "plan") == 0)
        return plan(srv, req, resp, req->parts[1]);
    return api_fail(resp, RF_ERR_NOT_FOUND, NULL);
}
