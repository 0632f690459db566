/* /v1/pins and /v1/exclusions: holding a device or a ring at one bundle of
 * a channel, and keeping a device out of every rollout. Viewers read;
 * release users change. Every change wakes long-polls, since it changes
 * assignments at once (assign.c applies holds). */
#include "api.h"
#include "api_common.h"
#include "rf_util.h"
#include "store_hold.h"
#include "validate.h"

#include <string.h>

#define ACQUIRE_MS 2000
#define MAX_ID 9007199254740992LL
#define MAX_REASON 256

static rf_err opt_reason(const json_t *body, const char **out, rf_error *err)
{
    const json_t *r = json_object_get(body, "reason");
    *out = "";
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
    *out = s;
    return RF_OK;
}

/* Runs fn's answer: 200/201 with the object or the error. */
static rf_http_result finish(rf_server *srv, rf_resp *resp, rf_err rc, const rf_error *e,
                             json_t *obj, int status, int changed)
{
    if (rc != RF_OK) {
        json_decref(obj);
        return api_fail(resp, rc, e);
    }
    if (changed)
        rf_server_notify(srv);
    rf_resp_json(resp, status, obj);
    return RF_HTTP_DONE;
}

/* ---- pins ---- */

static rf_err parse_pin(const json_t *body, const char **channel, const char **device,
                        long long *ring, long long *bundle, const char **reason, rf_error *err)
{
    static const char *const allowed[] = {"channel",   "device_id", "ring_id",
                                          "bundle_id", "reason",    NULL};
    const json_t *ch = json_object_get(body, "channel"), *dv = json_object_get(body, "device_id");
    const json_t *rg = json_object_get(body, "ring_id"), *b = json_object_get(body, "bundle_id");
    rf_err rc = validate_known_fields(body, allowed, err);
    if (rc == RF_OK && !json_is_string(ch))
        rc = rf_error_set(err, RF_ERR_INVALID, "field 'channel': required, a channel name");
    if (rc == RF_OK)
        rc = validate_slug("channel", json_string_value(ch), err);
    if (rc == RF_OK && (dv == NULL) == (rg == NULL))
        rc = rf_error_set(err, RF_ERR_INVALID,
                          "fields 'device_id' and 'ring_id': give exactly one of them");
    if (rc == RF_OK && dv != NULL)
        rc = json_is_string(dv)
                 ? validate_device_id("device_id", json_string_value(dv), err)
                 : rf_error_set(err, RF_ERR_INVALID, "field 'device_id': must be a device id");
    if (rc == RF_OK && rg != NULL)
        rc = validate_int("ring_id", rg, 1, MAX_ID, ring, err);
    if (rc == RF_OK && b != NULL && !json_is_null(b))
        rc = validate_int("bundle_id", b, 1, MAX_ID, bundle, err);
    if (rc == RF_OK)
        rc = opt_reason(body, reason, err);
    *channel = json_string_value(ch);
    *device = dv ? json_string_value(dv) : NULL;
    return rc;
}

static rf_http_result pins(rf_server *srv, rf_req *req, rf_resp *resp)
{
    int get = strcmp(req->method, "GET") == 0, del = strcmp(req->method, "DELETE") == 0;
    long long id = 0, ring = 0, bundle = 0;
    const char *channel = NULL, *device = NULL, *reason = "";
    json_t *body = NULL, *out = NULL;
    rf_db *db = NULL;
    rf_error e = {0};
    rf_err rc = RF_OK;
    if (!rf_require_role(req, resp, get ? RF_ROLE_VIEWER : RF_ROLE_RELEASE))
        return RF_HTTP_DONE;
    if (del && !validate_path_id(req->parts[1], &id))
        return api_fail(resp, rf_error_set(&e, RF_ERR_NOT_FOUND, "pin not found"), &e);
    if (get) {
        const char *q;
        channel = req->query ? req->query(req, "channel") : NULL;
        device = req->query ? req->query(req, "device_id") : NULL;
        q = req->query ? req->query(req, "ring_id") : NULL;
        if ((channel && validate_slug("channel", channel, &e) != RF_OK) ||
            (device && validate_device_id("device_id", device, &e) != RF_OK) ||
            (q && rf_parse_ll(q, 1, MAX_ID, &ring) != RF_OK &&
             rf_error_set(&e, RF_ERR_INVALID, "parameter 'ring_id': must be a ring id")))
            return api_fail(resp, RF_ERR_INVALID, &e);
    } else if (!del) {
        if ((body = rf_req_json_object(req, resp)) == NULL)
            return RF_HTTP_DONE;
        rc = parse_pin(body, &channel, &device, &ring, &bundle, &reason, &e);
    }
    if (rc == RF_OK)
        rc = store_acquire(srv->store, ACQUIRE_MS, &db);
    if (rc == RF_OK && get)
        rc = store_hold_pins(db, channel, device, ring, &out, &e);
    else if (rc == RF_OK && del)
        rc = store_hold_pin_delete(db, id, req->who.name, &out, &e);
    else if (rc == RF_OK)
        rc = store_hold_pin_add(db, channel, device, ring, bundle, reason, req->who.name, &out, &e);
    store_release(srv->store, db);
    if (get && rc == RF_OK)
        out = json_pack("{s:o}", "pins", out);
    rf_http_result res = finish(srv, resp, rc, &e, out, get || del ? 200 : 201, !get);
    json_decref(body);
    return res;
}

/* ---- exclusions ---- */

static rf_http_result exclusions(rf_server *srv, rf_req *req, rf_resp *resp)
{
    static const char *const allowed[] = {"device_id", "reason", NULL};
    int get = strcmp(req->method, "GET") == 0, del = strcmp(req->method, "DELETE") == 0;
    const char *device = del ? req->parts[1] : NULL, *reason = "";
    json_t *body = NULL, *out = NULL;
    rf_db *db = NULL;
    rf_error e = {0};
    rf_err rc = RF_OK;
    if (!rf_require_role(req, resp, get ? RF_ROLE_VIEWER : RF_ROLE_RELEASE))
        return RF_HTTP_DONE;
    if (del && validate_device_id("device_id", device, &e) != RF_OK)
        return api_fail(resp, rf_error_set(&e, RF_ERR_NOT_FOUND, "exclusion not found"), &e);
    if (!get && !del) {
        if ((body = rf_req_json_object(req, resp)) == NULL)
            return RF_HTTP_DONE;
        const json_t *d = json_object_get(body, "device_id");
        rc = validate_known_fields(body, allowed, &e);
        if (rc == RF_OK)
            rc = json_is_string(d)
                     ? validate_device_id("device_id", json_string_value(d), &e)
                     : rf_error_set(&e, RF_ERR_INVALID, "field 'device_id': required, a device id");
        if (rc == RF_OK)
            rc = opt_reason(body, &reason, &e);
        device = json_string_value(d);
    }
    if (rc == RF_OK)
        rc = store_acquire(srv->store, ACQUIRE_MS, &db);
    if (rc == RF_OK && get)
        rc = store_hold_exclusions(db, NULL, &out, &e);
    else if (rc == RF_OK && del)
        rc = store_hold_include(db, device, req->who.name, &out, &e);
    else if (rc == RF_OK)
        rc = store_hold_exclude(db, device, reason, req->who.name, &out, &e);
    store_release(srv->store, db);
    if (get && rc == RF_OK)
        out = json_pack("{s:o}", "exclusions", out);
    rf_http_result res = finish(srv, resp, rc, &e, out, get || del ? 200 : 201, !get);
    json_decref(body);
    return res;
}

rf_http_result api_holds(rf_server *srv, rf_req *req, rf_resp *resp)
{
    if (strcmp(req->parts[0], "pins") == 0)
        return pins(srv, req, resp);
    return exclusions(srv, req, resp);
}
