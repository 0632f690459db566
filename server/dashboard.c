/* GET / and GET /assets/NAME: the web dashboard, a static page with its own
 * script and style and uPlot, all embedded at build time (web_assets.h). The
 * files hold no data and no secret, so they need no token: the page asks for
 * one and sends it only in the Authorization header of its API calls. The
 * HTTP layer adds the Content-Security-Policy (no inline script) and the
 * other security headers. Every answer carries an ETag; a matching
 * If-None-Match is answered 304. */
#include "api.h"
#include "dashboard.h"
#include "web_assets.h"

#include <stdlib.h>
#include <string.h>

rf_err dashboard_escape(rf_buf *b, const char *s)
{
    rf_err rc = RF_OK;

    for (; s && *s && rc == RF_OK; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '&':
            rc = rf_buf_append_str(b, "&amp;");
            break;
        case '<':
            rc = rf_buf_append_str(b, "&lt;");
            break;
        case '>':
            rc = rf_buf_append_str(b, "&gt;");
            break;
        case '"':
            rc = rf_buf_append_str(b, "&quot;");
            break;
        case '\'':
            rc = rf_buf_append_str(b, "&#39;");
            break;
        default:
            if (c >= 0x20 && c != 0x7f)
                rc = rf_buf_append(b, s, 1);
            break;
        }
    }
    return rc;
}

const web_asset *dashboard_find(const char *path)
{
    for (const web_asset *a = web_assets; path && a->path; a++)
        if (strcmp(a->path, path) == 0)
            return a;
    return NULL;
}

rf_http_result api_dashboard(rf_server *srv, rf_req *req, rf_resp *resp)
{
    const web_asset *a = dashboard_find(req->path);
    const char *inm = req->header ? req->header(req, "If-None-Match") : NULL;

    (void)srv;
    if (!a) {
        rf_resp_error(resp, RF_ERR_NOT_FOUND, "no such file");
        return RF_HTTP_DONE;
    }
    rf_resp_add_header(resp, "ETag", a->etag);
    rf_resp_add_header(resp, "Cache-Control", "no-cache");
    resp->content_type = a->content_type;
    if (inm && strcmp(inm, a->etag) == 0) {
        resp->status = 304;
        return RF_HTTP_DONE;
    }
    resp->body = malloc(a->len ? a->len : 1);
    if (!resp->body) {
        rf_resp_error(resp, RF_ERR_NOMEM, NULL);
        return RF_HTTP_DONE;
    }
    memcpy(resp->body, a->data, a->len);
    resp->body_len = a->len;
    resp->status = 200;
    return RF_HTTP_DONE;
}
