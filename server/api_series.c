/* GET /v1/rollouts/ID/health/series: each started stage's health over time —
 * exposed, healthy, failed and silent devices, the failure rate, the
 * control's rate and the halt threshold — plus the halt, so a chart can mark
 * it. Viewer role. Read-only: the evaluator records the points
 * (stage_series.c). */
#include "api.h"
#include "plan.h"
#include "rf_util.h"
#include "store_rollout.h"
#include "store_series.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DB_WAIT_MS 2000
#define SERIES_DEFAULT 1000
#define SERIES_MAX 10000

static json_t *series_json(const store_rollout *r, json_t *points)
{
    json_t *stages = json_array();

    for (int i = 0; i < r->sm.nstages; i++) {
        char key[12];
        json_t *pts;
        snprintf(key, sizeof(key), "%d", i);
        pts = json_object_get(points, key);
        pts = pts ? json_incref(pts) : json_array();
        json_array_append_new(
            stages,
            json_pack("{s:i,s:I,s:s,s:s,s:f,s:o}", "index", i, "ring_id",
                      (json_int_t)r->sm.stages[i].ring_id, "ring", r->info[i].ring_name, "state",
                      stage_state_name(r->sm.stages[i].state), "threshold",
                      plan_stage_max_failure_rate(&r->sm.stages[i], r->policy.max_failure_rate),
                      "points", pts));
    }
    return json_pack("{s:I,s:s,s:s,s:i,s:o,s:o}", "rollout_id", (json_int_t)r->id, "channel",
                     r->channel, "state", rollout_state_name(r->sm.state), "stage", r->sm.stage,
                     "halt", r->halt ? json_incref(r->halt) : json_null(), "stages", stages);
}

static rf_err parse_query(const rf_req *req, long long *since, long long *limit, rf_error *err)
{
    const char *v = req->query(req, "since");

    *since = 0;
    *limit = SERIES_DEFAULT;
    if (v && rf_parse_ll(v, 0, INT64_MAX / 2, since) != RF_OK)
        return rf_error_set(err, RF_ERR_INVALID,
                            "parameter 'since': must be seconds since the epoch (an integer)");
    v = req->query(req, "limit");
    if (v && rf_parse_ll(v, 1, SERIES_MAX, limit) != RF_OK)
        return rf_error_set(err, RF_ERR_INVALID, "parameter 'limit': must be an integer 1-%d",
                            SERIES_MAX);
    return RF_OK;
}

rf_http_result api_rollout_series(rf_server *srv, rf_req *req, rf_resp *resp)
{
    long long id = 0, since = 0, limit = 0;
    store_rollout *r = NULL;
    json_t *points = NULL;
    rf_db *db = NULL;
    rf_error e = {0};
    rf_err rc;

    if (!rf_require_role(req, resp, RF_ROLE_VIEWER))
        return RF_HTTP_DONE;
    if (!validate_path_id(req->parts[1], &id)) {
        rf_resp_error(resp, RF_ERR_NOT_FOUND, "rollout not found: ids are integers");
        return RF_HTTP_DONE;
    }
    if (parse_query(req, &since, &limit, &e) != RF_OK) {
        rf_resp_error_e(resp, &e);
        return RF_HTTP_DONE;
    }
    r = calloc(1, sizeof(*r));
    rc = r ? store_acquire(srv->store, DB_WAIT_MS, &db) : RF_ERR_NOMEM;
    if (rc == RF_OK)
        rc = store_rollout_get(db, id, 0, r, &e);
    if (rc == RF_OK)
        rc = store_series_list(db, id, since, (int)limit, &points, &e);
    store_release(srv->store, db);
    if (rc == RF_OK)
        rf_resp_json(resp, 200, series_json(r, points));
    else
        rf_resp_error(resp, rc, e.code == rc ? e.message : NULL);
    json_decref(points);
    store_rollout_cleanup(r);
    free(r);
    return RF_HTTP_DONE;
}
