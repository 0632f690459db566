/* GET /: a plain, read-only HTML page of recent rollouts and, per stage,
 * the ring and its exposed / healthy / failed counts. It refreshes itself
 * every 5 seconds with a meta refresh and carries no JavaScript. Every value
 * that comes from the database is HTML-escaped; the page never shows a token
 * or a key and has no controls that change anything. */
#include "api.h"
#include "dashboard.h"
#include "rf_util.h"
#include "store_dashboard.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define DB_WAIT_MS 3000
#define DASH_ROLLOUTS 50
#define DASH_MAX_BYTES (4u << 20)

static const char page_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<meta http-equiv=\"refresh\" content=\"5\">"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    "<title>ringfence</title><style>"
    "body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em}"
    "td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}"
    "th{background:#f4f4f4}.n{text-align:right}"
    ".active{color:#06c}.completed{color:#080}.halted,.reverted{color:#c00}.paused{color:#b80}"
    ".muted{color:#777}</style></head><body>\n"
    "<h1>ringfence</h1><p class=\"muted\">Rollouts and their rings. Refreshes every 5 s.</p>\n";

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

/* Appends "<td class=C>escaped</td>". */
static rf_err cell(rf_buf *b, const char *cls, const char *text)
{
    rf_err rc = rf_buf_append_str(b, "<td");

    if (rc == RF_OK && cls && *cls) {
        rc = rf_buf_append_str(b, " class=\"");
        if (rc == RF_OK)
            rc = dashboard_escape(b, cls);
        if (rc == RF_OK)
            rc = rf_buf_append_str(b, "\"");
    }
    if (rc == RF_OK)
        rc = rf_buf_append_str(b, ">");
    if (rc == RF_OK)
        rc = dashboard_escape(b, text);
    if (rc == RF_OK)
        rc = rf_buf_append_str(b, "</td>");
    return rc;
}

static rf_err stage_rows(rf_buf *b, const dash_rollout *d)
{
    rf_err rc = rf_buf_append_str(b, "<table><tr><th>stage</th><th>ring</th><th>state</th>"
                                     "<th>exposed</th><th>healthy</th><th>failed</th></tr>\n");

    for (size_t i = 0; rc == RF_OK && i < d->nstages; i++) {
        const dash_stage *s = &d->stages[i];
        char idx[16], ex[24], ok[24], bad[24];
        snprintf(idx, sizeof(idx), "%d", s->idx);
        snprintf(ex, sizeof(ex), "%lld", s->exposed);
        snprintf(ok, sizeof(ok), "%lld", s->healthy);
        snprintf(bad, sizeof(bad), "%lld", s->failed);
        rc = rf_buf_append_str(b, "<tr>");
        if (rc == RF_OK)
            rc = cell(b, "n", idx);
        if (rc == RF_OK)
            rc = cell(b, NULL, s->ring);
        if (rc == RF_OK)
            rc = cell(b, s->state, s->state);
        if (rc == RF_OK)
            rc = cell(b, "n", ex);
        if (rc == RF_OK)
            rc = cell(b, "n", ok);
        if (rc == RF_OK)
            rc = cell(b, "n", bad);
        if (rc == RF_OK)
            rc = rf_buf_append_str(b, "</tr>\n");
    }
    if (rc == RF_OK)
        rc = rf_buf_append_str(b, "</table>\n");
    return rc;
}

static rf_err rollout_section(rf_buf *b, const dash_rollout *d)
{
    char title[64];
    rf_err rc;

    snprintf(title, sizeof(title), "Rollout %lld", d->id);
    rc = rf_buf_append_str(b, "<h2>");
    if (rc == RF_OK)
        rc = dashboard_escape(b, title);
    if (rc == RF_OK)
        rc = rf_buf_append_str(b, " <span class=\"");
    if (rc == RF_OK)
        rc = dashboard_escape(b, d->state);
    if (rc == RF_OK)
        rc = rf_buf_append_str(b, "\">");
    if (rc == RF_OK)
        rc = dashboard_escape(b, d->state);
    if (rc == RF_OK)
        rc = rf_buf_append_str(b, "</span></h2>\n<p>channel <b>");
    if (rc == RF_OK)
        rc = dashboard_escape(b, d->channel);
    if (rc == RF_OK)
        rc = rf_buf_append_str(b, "</b>, bundle <b>");
    if (rc == RF_OK)
        rc = dashboard_escape(b, d->bundle);
    if (rc == RF_OK)
        rc = rf_buf_append_str(b, "</b>, created ");
    if (rc == RF_OK)
        rc = dashboard_escape(b, d->created);
    if (rc == RF_OK && d->halt_reason[0]) {
        rc = rf_buf_append_str(b, "<br>halted: ");
        if (rc == RF_OK)
            rc = dashboard_escape(b, d->halt_reason);
    }
    if (rc == RF_OK)
        rc = rf_buf_append_str(b, "</p>\n");
    if (rc == RF_OK)
        rc = stage_rows(b, d);
    return rc;
}

static rf_err render(rf_buf *b, const dash_rollout *items, size_t n)
{
    char now[32];
    rf_err rc = rf_buf_append_str(b, page_head);

    if (rc == RF_OK && n == 0)
        rc = rf_buf_append_str(b, "<p>No rollouts yet.</p>\n");
    for (size_t i = 0; rc == RF_OK && i < n; i++)
        rc = rollout_section(b, &items[i]);
    rf_time_iso(rf_now_ms() / 1000, now);
    if (rc == RF_OK)
        rc = rf_buf_append_str(b, "<p class=\"muted\">as of ");
    if (rc == RF_OK)
        rc = dashboard_escape(b, now);
    if (rc == RF_OK)
        rc = rf_buf_append_str(b, "</p>\n</body></html>\n");
    return rc;
}

rf_http_result api_dashboard(rf_server *srv, rf_req *req, rf_resp *resp)
{
    dash_rollout *items = NULL;
    size_t n = 0;
    rf_db *db = NULL;
    rf_error e = {0};
    rf_buf b;

    (void)req;
    if (store_acquire(srv->store, DB_WAIT_MS, &db) != RF_OK) {
        rf_resp_error(resp, RF_ERR_UNAVAILABLE, "database unavailable");
        return RF_HTTP_DONE;
    }
    if (store_dashboard_rollouts(db, DASH_ROLLOUTS, &items, &n, &e) != RF_OK) {
        store_release(srv->store, db);
        rf_resp_error_e(resp, &e);
        return RF_HTTP_DONE;
    }
    store_release(srv->store, db);
    rf_buf_init(&b, DASH_MAX_BYTES);
    if (render(&b, items, n) != RF_OK) {
        rf_buf_cleanup(&b);
        store_dashboard_free(items, n);
        rf_resp_error(resp, RF_ERR_INTERNAL, "cannot render the page");
        return RF_HTTP_DONE;
    }
    store_dashboard_free(items, n);
    resp->status = 200;
    resp->content_type = "text/html; charset=utf-8";
    resp->body = rf_buf_steal(&b, &resp->body_len);
    return RF_HTTP_DONE;
}
