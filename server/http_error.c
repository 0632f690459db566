/* Answers and gates shared by every route: the one table from rf_err to HTTP
 * status and error code, JSON bodies, request-body parsing and the role and
 * device checks. It never reveals internal details (SQL, paths, secrets) in an
 * answer: internal failures say only that something failed. */
#include "http.h"
#include "rf_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    rf_err err;
    int status;
    const char *code;
} status_table[] = {
    {RF_OK, 200, "ok"},
    {RF_ERR_INVALID, 400, "invalid"},
    {RF_ERR_NOT_FOUND, 404, "not_found"},
    {RF_ERR_CONFLICT, 409, "conflict"},
    {RF_ERR_TOO_LARGE, 413, "too_large"},
    {RF_ERR_UNAUTHORIZED, 401, "unauthorized"},
    {RF_ERR_FORBIDDEN, 403, "forbidden"},
    {RF_ERR_UNAVAILABLE, 503, "unavailable"},
    {RF_ERR_VERIFY, 400, "invalid"},
    {RF_ERR_IO, 500, "internal"},
    {RF_ERR_NOMEM, 503, "unavailable"},
    {RF_ERR_INTERNAL, 500, "internal"},
};

static const char *const role_names[] = {"none", "viewer", "release", "admin"};

int rf_http_status_of(rf_err code)
{
    for (size_t i = 0; i < sizeof(status_table) / sizeof(status_table[0]); i++)
        if (status_table[i].err == code)
            return status_table[i].status;
    return 500;
}

static const char *code_of(rf_err code)
{
    for (size_t i = 0; i < sizeof(status_table) / sizeof(status_table[0]); i++)
        if (status_table[i].err == code)
            return status_table[i].code;
    return "internal";
}

void rf_resp_json(rf_resp *resp, int status, json_t *json)
{
    static const char fallback[] =
        "{\"error\":{\"code\":\"internal\",\"message\":\"cannot encode the answer\"}}";
    char *body = json ? json_dumps(json, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;

    json_decref(json);
    free(resp->body);
    resp->content_type = "application/json";
    if (!body) {
        body = strdup(fallback);
        status = 500;
    }
    resp->status = status;
    resp->body = body;
    resp->body_len = body ? strlen(body) : 0;
}

void rf_resp_add_header(rf_resp *resp, const char *name, const char *value)
{
    size_t n;

    if (resp->nheaders >= (int)(sizeof(resp->headers) / sizeof(resp->headers[0]))) {
        rf_log(RF_LOG_WARN, "too many response headers; dropped one", "header", name, NULL);
        return;
    }
    n = strlen(value);
    if (n >= sizeof(resp->headers[0].value))
        n = sizeof(resp->headers[0].value) - 1;
    resp->headers[resp->nheaders].name = name;
    memcpy(resp->headers[resp->nheaders].value, value, n);
    resp->headers[resp->nheaders].value[n] = '\0';
    resp->nheaders++;
}

void rf_resp_error(rf_resp *resp, rf_err code, const char *message)
{
    json_t *j;

    if (code == RF_OK)
        code = RF_ERR_INTERNAL;
    if (!message || !*message)
        message = code == RF_ERR_INTERNAL ? "internal error" : code_of(code);
    j = json_pack("{s:{s:s,s:s}}", "error", "code", code_of(code), "message", message);
    rf_resp_json(resp, rf_http_status_of(code), j);
    if (code == RF_ERR_UNAVAILABLE || code == RF_ERR_NOMEM)
        rf_resp_add_header(resp, "Retry-After", "1");
    if (code == RF_ERR_UNAUTHORIZED)
        rf_resp_add_header(resp, "WWW-Authenticate", "Bearer");
}

void rf_resp_error_e(rf_resp *resp, const rf_error *e)
{
    if (!e) {
        rf_resp_error(resp, RF_ERR_INTERNAL, NULL);
        return;
    }
    rf_resp_error(resp, e->code, e->message);
}

json_t *rf_req_json_object(const rf_req *req, rf_resp *resp)
{
    json_error_t je;
    json_t *j;
    char msg[256];

    if (!req->body || req->body_len == 0) {
        rf_resp_error(resp, RF_ERR_INVALID, "body: missing; expected a JSON object");
        return NULL;
    }
    j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!j) {
        snprintf(msg, sizeof(msg), "body: malformed JSON at line %d column %d: %s", je.line,
                 je.column, je.text);
        rf_resp_error(resp, RF_ERR_INVALID, msg);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        rf_resp_error(resp, RF_ERR_INVALID, "body: must be a JSON object");
        return NULL;
    }
    return j;
}

static const char *role_name(rf_role r)
{
    if ((int)r < 0 || (size_t)r >= sizeof(role_names) / sizeof(role_names[0]))
        return "none";
    return role_names[r];
}

int rf_require_role(const rf_req *req, rf_resp *resp, rf_role min)
{
    char msg[256];

    switch (req->who.kind) {
    case RF_PRINCIPAL_USER:
        if (req->who.role >= min)
            return 1;
        snprintf(msg, sizeof(msg), "this route needs role %s; token '%s' has %s", role_name(min),
                 req->who.name, role_name(req->who.role));
        rf_resp_error(resp, RF_ERR_FORBIDDEN, msg);
        return 0;
    case RF_PRINCIPAL_DEVICE:
        snprintf(msg, sizeof(msg), "this route needs role %s; a device token may not use it",
                 role_name(min));
        rf_resp_error(resp, RF_ERR_FORBIDDEN, msg);
        return 0;
    case RF_PRINCIPAL_ENROLL:
        snprintf(msg, sizeof(msg),
                 "this route needs role %s; the enrollment key may only enroll devices",
                 role_name(min));
        rf_resp_error(resp, RF_ERR_FORBIDDEN, msg);
        return 0;
    case RF_PRINCIPAL_ANON:
    case RF_PRINCIPAL_BAD:
    default:
        rf_resp_error(resp, RF_ERR_UNAUTHORIZED, "missing or unknown token");
        return 0;
    }
}

int rf_require_device(const rf_req *req, rf_resp *resp)
{
    switch (req->who.kind) {
    case RF_PRINCIPAL_DEVICE:
        return 1;
    case RF_PRINCIPAL_USER:
        rf_resp_error(resp, RF_ERR_FORBIDDEN, "this route needs a device token");
        return 0;
    case RF_PRINCIPAL_ENROLL:
        rf_resp_error(resp, RF_ERR_FORBIDDEN,
                      "this route needs a device token; the enrollment key may only enroll");
        return 0;
    case RF_PRINCIPAL_ANON:
    case RF_PRINCIPAL_BAD:
    default:
        rf_resp_error(resp, RF_ERR_UNAUTHORIZED, "missing or unknown token");
        return 0;
    }
}
