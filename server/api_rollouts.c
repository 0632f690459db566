/* The rollout routes: create, list, read with live figures, health, and the
 * transitions start, promote, pause, resume, halt and revert. This file maps
 * JSON to the structs of rollout.h, health.h and store_rollout.h and back; it
 * decides nothing about states itself. Long-polls are woken only after a
 * transition that changes assignments has been committed. */
#include "api.h"
#include "rf_util.h"
#include "store_rollout.h"
#include "validate.h"

#include <stdlib.h>
#include <string.h>

#define ACQUIRE_MS 2000
#define MAX_ID 9007199254740992LL
#define MAX_REASON 256
#define MAX_FAILURES 1000

static rf_http_result fail(rf_resp *resp, rf_err rc, const rf_error *e)
{
    rf_resp_error(resp, rc, e != NULL && e->code == rc ? e->message : NULL);
    return RF_HTTP_DONE;
}

static json_t *time_or_null(int64_t s)
{
    char iso[32];
    if (s <= 0)
        return json_null();
    rf_time_iso(s, iso);
    return json_string(iso);
}

static json_t *id_or_null(long long id)
{
    return id > 0 ? json_integer(id) : json_null();
}

static json_t *stage_json(const store_rollout *r, int i)
{
    const rollout_stage *s = &r->sm.stages[i];
    const store_stage_info *in = &r->info[i];
    return json_pack("{s:i, s:I, s:s, s:s, s:o, s:i, s:b, s:I, s:I, s:I, s:I, s:I}", "index", i,
                     "ring_id", (json_int_t)s->ring_id, "ring", in->ring_name, "state",
                     stage_state_name(s->state), "started", time_or_null(s->started_s), "bake_s",
                     s->bake_s, "auto_promote", s->auto_promote, "exposed",
                     (json_int_t)in->counts.exposed, "healthy", (json_int_t)in->counts.healthy,
                     "failed", (json_int_t)in->counts.failed, "silent",
                     (json_int_t)in->counts.silent, "devices", (json_int_t)in->devices);
}

/* The rollout object of docs/api.md (new reference). */
static json_t *rollout_json(const store_rollout *r)
{
    json_t *stages = json_array();
    for (int i = 0; stages != NULL && i < r->sm.nstages; i++)
        json_array_append_new(stages, stage_json(r, i));
    return json_pack("{s:I, s:I, s:s, s:s, s:i, s:o, s:o, s:s, s:o, s:o, s:i, s:o, s:o, s:o}", "id",
                     (json_int_t)r->id, "bundle_id", (json_int_t)r->bundle_id, "channel",
                     r->channel, "state", rollout_state_name(r->sm.state), "stage", r->sm.stage,
                     "previous_bundle_id", id_or_null(r->previous_bundle_id), "created",
                     time_or_null(r->created_s), "created_by", r->created_by, "started",
                     time_or_null(r->started_s), "updated", time_or_null(r->updated_s), "version",
                     r->version, "policy", health_policy_to_json(&r->policy), "stages", stages,
                     "halt", r->halt ? json_incref(r->halt) : json_null());
}

/* ---- create ---- */

static rf_err parse_stage(const json_t *v, int i, store_plan_stage *out, rf_error *err)
{
    static const char *const allowed[] = {"ring_id", "bake_s", "auto_promote", NULL};
    char f[64];
    long long x = 0;
    if (!json_is_object(v))
        return rf_error_set(err, RF_ERR_INVALID, "field 'stages[%d]': must be an object", i);
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)v, key, val)
    {
        int known = 0;
        (void)val;
        for (int k = 0; allowed[k] != NULL; k++)
            known |= strcmp(key, allowed[k]) == 0;
        if (!known)
            return rf_error_set(err, RF_ERR_INVALID, "field 'stages[%d].%.64s': unknown field", i,
                                key);
    }
    *out = (store_plan_stage){0, 0, 0};
    rf_snprintf(f, sizeof(f), "stages[%d].ring_id", i);
    if (json_object_get(v, "ring_id") == NULL)
        return rf_error_set(err, RF_ERR_INVALID, "field '%s': missing", f);
    rf_err rc = validate_int(f, json_object_get(v, "ring_id"), 1, MAX_ID, &out->ring_id, err);
    if (rc == RF_OK && json_object_get(v, "bake_s") != NULL) {
        rf_snprintf(f, sizeof(f), "stages[%d].bake_s", i);
        rc = validate_int(f, json_object_get(v, "bake_s"), 0, ROLLOUT_MAX_BAKE_S, &x, err);
        out->bake_s = (int)x;
    }
    const json_t *ap = json_object_get(v, "auto_promote");
    if (rc == RF_OK && ap != NULL && !json_is_boolean(ap))
        return rf_error_set(err, RF_ERR_INVALID,
                            "field 'stages[%d].auto_promote': must be true "
                            "or false",
                            i);
    out->auto_promote = json_is_true(ap);
    return rc;
}

static rf_err parse_create(const json_t *body, long long *bundle_id, health_policy *pol,
                           store_plan_stage *plan, int *nplan, rf_error *err)
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
    if (!json_is_array(stages) || json_array_size(stages) == 0 ||
        json_array_size(stages) > ROLLOUT_MAX_STAGES)
        return rf_error_set(err, RF_ERR_INVALID,
                            "field 'stages': must be an array of 1-%d stages, or left out for "
                            "every ring in order",
                            ROLLOUT_MAX_STAGES);
    for (size_t i = 0; rc == RF_OK && i < json_array_size(stages); i++)
        rc = parse_stage(json_array_get(stages, i), (int)i, &plan[i], err);
    *nplan = (int)json_array_size(stages);
    return rc;
}

/* Reads one rollout with its figures and answers it with status. */
static rf_http_result answer_one(rf_server *srv, rf_resp *resp, long long id, int status)
{
    store_rollout *r = calloc(1, sizeof(*r));
    rf_db *db = NULL;
    rf_error e = {0};
    rf_err rc = r ? store_acquire(srv->store, ACQUIRE_MS, &db) : RF_ERR_NOMEM;
    if (rc == RF_OK)
        rc = store_rollout_get(db, id, 0, r, &e);
    if (rc == RF_OK)
        rc = store_rollout_fill_counts(db, r, 1, 1, &e);
    store_release(srv->store, db);
    if (rc == RF_OK)
        rf_resp_json(resp, status, rollout_json(r));
    store_rollout_cleanup(r);
    free(r);
    return rc == RF_OK ? RF_HTTP_DONE : fail(resp, rc, &e);
}

static rf_http_result create(rf_server *srv, rf_req *req, rf_resp *resp)
{
    store_plan_stage plan[ROLLOUT_MAX_STAGES];
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
        return fail(resp, rc, &e);
    return answer_one(srv, resp, id, 201);
}

/* ---- list ---- */

static rf_http_result list(rf_server *srv, rf_req *req, rf_resp *resp)
{
    const char *channel = req->query ? req->query(req, "channel") : NULL;
    const char *state = req->query ? req->query(req, "state") : NULL;
    store_rollout *rows = NULL;
    int n = 0;
    rf_db *db = NULL;
    rf_error e = {0};
    rollout_state st;
    if (!rf_require_role(req, resp, RF_ROLE_VIEWER))
        return RF_HTTP_DONE;
    if (channel != NULL && validate_slug("channel", channel, &e) != RF_OK)
        return fail(resp, RF_ERR_INVALID, &e);
    if (state != NULL && rollout_state_parse(state, &st) != 0) {
        rf_resp_error(resp, RF_ERR_INVALID,
                      "parameter 'state': must be one of draft, active, paused, halted, "
                      "reverted, completed");
        return RF_HTTP_DONE;
    }
    rf_err rc = store_acquire(srv->store, ACQUIRE_MS, &db);
    if (rc == RF_OK)
        rc = store_rollout_list(db, channel, state, &rows, &n, &e);
    if (rc == RF_OK)
        rc = store_rollout_fill_counts(db, rows, n, 1, &e);
    store_release(srv->store, db);
    if (rc == RF_OK) {
        json_t *arr = json_array();
        for (int i = 0; arr != NULL && i < n; i++)
            json_array_append_new(arr, rollout_json(&rows[i]));
        rf_resp_json(resp, 200, json_pack("{s:o}", "rollouts", arr));
    }
    store_rollout_free_list(rows, n);
    return rc == RF_OK ? RF_HTTP_DONE : fail(resp, rc, &e);
}

/* ---- health ---- */

static json_t *health_json(const store_rollout *r, json_t *failures)
{
    json_t *stages = json_array();
    for (int i = 0; stages != NULL && i < r->sm.nstages; i++) {
        const health_counts *c = &r->info[i].counts;
        json_array_append_new(
            stages,
            json_pack("{s:i, s:s, s:s, s:I, s:I, s:I, s:I, s:f, s:f, s:i, s:b}", "index", i, "ring",
                      r->info[i].ring_name, "state", stage_state_name(r->sm.stages[i].state),
                      "exposed", (json_int_t)c->exposed, "healthy", (json_int_t)c->healthy,
                      "failed", (json_int_t)c->failed, "silent", (json_int_t)c->silent,
                      "failure_rate", health_failure_rate(c->exposed, c->failed),
                      "max_failure_rate", r->policy.max_failure_rate, "min_failed_devices",
                      r->policy.min_failed_devices, "would_halt",
                      health_should_halt(&r->policy, c->exposed, c->failed)));
    }
    return json_pack("{s:I, s:s, s:i, s:o, s:o, s:o}", "rollout_id", (json_int_t)r->id, "state",
                     rollout_state_name(r->sm.state), "stage", r->sm.stage, "policy",
                     health_policy_to_json(&r->policy), "stages", stages, "failures", failures);
}

static rf_http_result health(rf_server *srv, rf_req *req, rf_resp *resp, long long id)
{
    store_rollout *r = calloc(1, sizeof(*r));
    json_t *failures = NULL;
    rf_db *db = NULL;
    rf_error e = {0};
    if (r == NULL)
        return fail(resp, RF_ERR_NOMEM, NULL);
    rf_err rc = rf_require_role(req, resp, RF_ROLE_VIEWER) ? RF_OK : RF_ERR_FORBIDDEN;
    if (rc != RF_OK) {
        free(r);
        return RF_HTTP_DONE;
    }
    rc = store_acquire(srv->store, ACQUIRE_MS, &db);
    if (rc == RF_OK)
        rc = store_rollout_get(db, id, 0, r, &e);
    if (rc == RF_OK)
        rc = store_rollout_fill_counts(db, r, 1, 0, &e);
    if (rc == RF_OK)
        rc = store_rollout_failures(db, id, MAX_FAILURES, &failures, &e);
    store_release(srv->store, db);
    if (rc == RF_OK)
        rf_resp_json(resp, 200, health_json(r, failures));
    store_rollout_cleanup(r);
    free(r);
    return rc == RF_OK ? RF_HTTP_DONE : fail(resp, rc, &e);
}

/* ---- transitions ---- */

static rf_err parse_reason(const rf_req *req, rf_resp *resp, char *reason, size_t n, int *answered)
{
    static const char *const allowed[] = {"reason", NULL};
    rf_error e = {0};
    *answered = 0;
    reason[0] = '\0';
    if (req->body == NULL || req->body_len == 0)
        return RF_OK;
    json_t *body = rf_req_json_object(req, resp);
    if (body == NULL) {
        *answered = 1;
        return RF_ERR_INVALID;
    }
    rf_err rc = validate_known_fields(body, allowed, &e);
    const json_t *r = json_object_get(body, "reason");
    if (rc == RF_OK && r != NULL && !json_is_null(r)) {
        const char *s = json_string_value(r);
        int ok = s != NULL && strlen(s) == json_string_length(r) && strlen(s) <= MAX_REASON &&
                 strlen(s) < n;
        for (size_t i = 0; ok && s[i]; i++)
            ok = (unsigned char)s[i] >= 0x20 && s[i] != 0x7f;
        if (ok)
            memcpy(reason, s, strlen(s) < n ? strlen(s) + 1 : 0);
        else
            rc = rf_error_set(&e, RF_ERR_INVALID,
                              "field 'reason': must be a string of at most %d printable "
                              "characters",
                              MAX_REASON);
    }
    json_decref(body);
    if (rc != RF_OK) {
        fail(resp, rc, &e);
        *answered = 1;
    }
    return rc;
}

/* If-Match: the version the client last saw ("3", "\"3\"" or W/"3"); -1 for none. */
static rf_err parse_if_match(const rf_req *req, int *version)
{
    char buf[32];
    long long v = 0;
    const char *s = req->if_match;
    *version = -1;
    if (s == NULL)
        return RF_OK;
    if (strncmp(s, "W/", 2) == 0)
        s += 2;
    size_t len = strlen(s);
    if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
        s++;
        len -= 2;
    }
    if (len == 0 || len >= sizeof(buf))
        return RF_ERR_INVALID;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (rf_parse_ll(buf, 0, 0x7fffffff, &v) != RF_OK)
        return RF_ERR_INVALID;
    *version = (int)v;
    return RF_OK;
}

static rf_http_result transition(rf_server *srv, rf_req *req, rf_resp *resp, long long id,
                                 rollout_action action)
{
    char reason[MAX_REASON + 1];
    int answered = 0, expect = -1, changed = 0;
    rf_db *db = NULL;
    rf_error e = {0};
    if (!rf_require_role(req, resp, RF_ROLE_RELEASE))
        return RF_HTTP_DONE;
    if (parse_reason(req, resp, reason, sizeof(reason), &answered) != RF_OK)
        return RF_HTTP_DONE;
    if (parse_if_match(req, &expect) != RF_OK) {
        rf_resp_error(resp, RF_ERR_INVALID, "header 'If-Match': must be the rollout's version");
        return RF_HTTP_DONE;
    }
    store_rollout *after = calloc(1, sizeof(*after));
    rf_err rc = after ? store_acquire(srv->store, ACQUIRE_MS, &db) : RF_ERR_NOMEM;
    if (rc == RF_OK)
        rc = store_rollout_transition(db, id, action, req->who.name, reason, expect, after,
                                      &changed, &e);
    store_release(srv->store, db);
    if (changed)
        rf_server_notify(srv); /* after the commit, whatever happened next */
    if (rc == RF_OK)
        rf_resp_json(resp, 200, rollout_json(after));
    store_rollout_cleanup(after);
    free(after);
    return rc == RF_OK ? RF_HTTP_DONE : fail(resp, rc, &e);
}

rf_http_result api_rollouts(rf_server *srv, rf_req *req, rf_resp *resp)
{
    long long id = 0;
    int get = strcmp(req->method, "GET") == 0, post = strcmp(req->method, "POST") == 0;
    if (req->nparts == 1)
        return get ? list(srv, req, resp) : create(srv, req, resp);
    if (req->nparts < 2 || req->nparts > 3)
        return fail(resp, RF_ERR_NOT_FOUND, NULL);
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
    if (req->nparts == 3 && post && rollout_action_parse(req->parts[2], &action) == 0)
        return transition(srv, req, resp, id, action);
    return fail(resp, RF_ERR_NOT_FOUND, NULL);
}
