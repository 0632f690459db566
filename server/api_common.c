/* Helpers shared by the route files (see api_common.h). The error body keeps
 * the shape of http_error.c ({"error": {"code", "message"}}); a conflict may
 * add the object as it is now, so a client can retry without another read. */
#include "api_common.h"
#include "rf_util.h"

#include <string.h>

rf_http_result api_fail(rf_resp *resp, rf_err rc, const rf_error *e)
{
    rf_resp_error(resp, rc, e != NULL && e->code == rc ? e->message : NULL);
    return RF_HTTP_DONE;
}

rf_http_result api_fail_current(rf_resp *resp, rf_err rc, const rf_error *e, json_t *current)
{
    if (rc != RF_ERR_CONFLICT || current == NULL) {
        json_decref(current);
        return api_fail(resp, rc, e);
    }
    const char *msg = e != NULL && e->code == rc ? e->message : "conflict";
    rf_resp_json(resp, rf_http_status_of(rc),
                 json_pack("{s:{s:s, s:s}, s:o}", "error", "code", "conflict", "message", msg,
                           "current", current));
    return RF_HTTP_DONE;
}

rf_err api_if_match(const rf_req *req, int *version)
{
    char buf[32];
    long long v = 0;
    const char *s = req->if_match;
    *version = -1;
    if (s == NULL || strcmp(s, "*") == 0)
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

void api_etag(rf_resp *resp, int version)
{
    char etag[24];
    rf_snprintf(etag, sizeof(etag), "\"%d\"", version);
    rf_resp_add_header(resp, "ETag", etag);
}
