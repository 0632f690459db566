/* The one dispatcher: matches a request's path against the route table,
 * answers 404 for an unknown route and 405 (with Allow) for a known route with
 * the wrong method, and otherwise calls the route's handler. It also serves
 * /healthz, /readyz, /metrics and the dashboard (/ and /assets/), and hands
 * /tuf/ (the TUF repository) to api_tuf.c. It checks no roles itself: every
 * handler checks its own first. */
#include "api.h"
#include "rf_util.h"
#include "webhook.h"

#include <string.h>

typedef rf_http_result (*route_fn)(rf_server *, rf_req *, rf_resp *);

typedef struct route {
    const char *pattern; /* parts after /v1 joined by '/'; '*' matches one part */
    const char *methods; /* space-separated */
    route_fn fn;
} route;

static const route routes[] = {
    {"agent/enroll", "POST", api_agent_enroll},
    {"agent/assignment", "GET", api_agent_assignment},
    {"agent/heartbeat", "POST", api_agent_heartbeat},
    {"bundles", "GET POST", api_bundles},
    {"bundles/*", "GET", api_bundles},
    {"bundles/*/content", "GET", api_bundles},
    {"rings", "GET POST", api_rings},
    {"rings/*", "GET PUT DELETE", api_rings},
    {"rings/preview", "POST", api_rings},
    {"rollouts", "GET POST", api_rollouts},
    {"rollouts/*", "GET", api_rollouts},
    {"rollouts/*/health", "GET", api_rollouts},
    {"rollouts/*/health/series", "GET", api_rollout_series},
    {"rollouts/*/start", "POST", api_rollouts},
    {"rollouts/*/promote", "POST", api_rollouts},
    {"rollouts/*/pause", "POST", api_rollouts},
    {"rollouts/*/resume", "POST", api_rollouts},
    {"rollouts/*/halt", "POST", api_rollouts},
    {"rollouts/*/revert", "POST", api_rollouts},
    {"rollouts/*/abort", "POST", api_rollouts},
    {"rollouts/*/approve", "POST", api_rollouts},
    {"channels", "GET", api_channels},
    {"channels/*/plan", "GET PUT DELETE", api_channels},
    {"pins", "GET POST", api_holds},
    {"pins/*", "DELETE", api_holds},
    {"exclusions", "GET POST", api_holds},
    {"exclusions/*", "DELETE", api_holds},
    {"devices", "GET", api_devices},
    {"devices/*", "GET", api_devices},
    {"events", "GET", api_events},
    {"events/stream", "GET", api_events_stream},
    {"whoami", "GET", api_whoami},
    {"fleet", "GET", api_fleet},
    {"webhooks", "GET POST", api_webhooks},
    {"webhooks/deliveries", "GET", api_webhooks},
    {"webhooks/*", "GET PATCH DELETE", api_webhooks},
    {"webhooks/*/deliveries", "GET", api_webhooks},
    {"webhooks/*/test", "POST", api_webhooks},
    {"webhooks/*/rotate-secret", "POST", api_webhooks},
};

/* 1 when parts[0..n) match pattern. */
static int pattern_matches(const char *pattern, const char *const *parts, int n)
{
    const char *p = pattern;

    for (int i = 0; i < n; i++) {
        size_t len = strcspn(p, "/");
        if (len == 0)
            return 0;
        if (!(len == 1 && p[0] == '*') && (strlen(parts[i]) != len || memcmp(p, parts[i], len)))
            return 0;
        p += len;
        if (*p == '/')
            p++;
        else if (i + 1 < n)
            return 0;
    }
    return *p == '\0';
}

static int method_in(const char *methods, const char *m)
{
    size_t ml = strlen(m);
    const char *p = methods;

    while (*p) {
        size_t len = strcspn(p, " ");
        if (len == ml && memcmp(p, m, len) == 0)
            return 1;
        p += len;
        while (*p == ' ')
            p++;
    }
    return 0;
}

static rf_http_result method_not_allowed(rf_resp *resp, const char *methods, const char *m)
{
    char msg[128], allow[64];
    size_t j = 0;

    /* "GET POST" → "GET, POST" for the Allow header. */
    for (size_t i = 0; methods[i] && j + 3 < sizeof(allow); i++) {
        if (methods[i] == ' ') {
            allow[j++] = ',';
            allow[j++] = ' ';
        } else {
            allow[j++] = methods[i];
        }
    }
    allow[j] = '\0';
    rf_snprintf(msg, sizeof(msg), "method %.16s not allowed here; use %s", m, allow);
    rf_resp_json(resp, 405,
                 json_pack("{s:{s:s,s:s}}", "error", "code", "method_not_allowed", "message", msg));
    rf_resp_add_header(resp, "Allow", allow);
    return RF_HTTP_DONE;
}

static rf_http_result not_found(rf_resp *resp)
{
    rf_resp_error(resp, RF_ERR_NOT_FOUND, "no such route");
    return RF_HTTP_DONE;
}

static rf_http_result readyz(rf_server *srv, rf_resp *resp)
{
    rf_db *db = NULL;
    rf_error e = {0};
    rf_err rc;

    rc = store_acquire(srv->store, 2000, &db);
    if (rc != RF_OK) {
        rf_resp_error(resp, RF_ERR_UNAVAILABLE, "database unavailable");
        return RF_HTTP_DONE;
    }
    rc = store_migrations_check(db, &e);
    store_release(srv->store, db);
    if (rc == RF_OK)
        rf_resp_json(resp, 200, json_pack("{s:s}", "status", "ready"));
    else
        rf_resp_error(resp, RF_ERR_UNAVAILABLE,
                      rc == RF_ERR_UNAVAILABLE ? "database unavailable" : e.message);
    return RF_HTTP_DONE;
}

static rf_http_result top_level(rf_server *srv, rf_req *req, rf_resp *resp)
{
    const char *m = req->method;
    const char *allowed = "GET";
    int get = strcmp(m, "GET") == 0;

    if (strcmp(req->path, "/healthz") == 0) {
        if (!get)
            return method_not_allowed(resp, allowed, m);
        rf_resp_json(resp, 200, json_pack("{s:s}", "status", "ok"));
        return RF_HTTP_DONE;
    }
    if (strcmp(req->path, "/readyz") == 0)
        return get ? readyz(srv, resp) : method_not_allowed(resp, allowed, m);
    if (strcmp(req->path, "/") == 0 || strncmp(req->path, "/assets/", 8) == 0)
        return get ? api_dashboard(srv, req, resp) : method_not_allowed(resp, allowed, m);
    if (strcmp(req->path, "/metrics") == 0)
        return get ? api_metrics(srv, req, resp) : method_not_allowed(resp, allowed, m);
    if (strncmp(req->path, "/tuf/", 5) == 0)
        return get ? api_tuf(srv, req, resp) : method_not_allowed(resp, allowed, m);
    return not_found(resp);
}

const char *rf_api_route_of(const rf_req *req)
{
    static const char *const top[] = {"/", "/healthz", "/readyz", "/metrics"};

    if (strncmp(req->path, "/v1/", 4) != 0) {
        for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++)
            if (strcmp(req->path, top[i]) == 0)
                return top[i];
        if (strncmp(req->path, "/tuf/", 5) == 0)
            return "/tuf/{path}";
        if (strncmp(req->path, "/assets/", 8) == 0)
            return "/assets/{path}";
        return NULL;
    }
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        if (pattern_matches(routes[i].pattern, req->parts, req->nparts))
            return routes[i].pattern;
    return NULL;
}

rf_http_result rf_api_dispatch(rf_server *srv, rf_req *req, rf_resp *resp)
{
    const char *allowed = NULL;

    if (strncmp(req->path, "/v1/", 4) != 0)
        return top_level(srv, req, resp);
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (!pattern_matches(routes[i].pattern, req->parts, req->nparts))
            continue;
        if (method_in(routes[i].methods, req->method))
            return routes[i].fn(srv, req, resp);
        allowed = routes[i].methods;
    }
    if (allowed)
        return method_not_allowed(resp, allowed, req->method);
    return not_found(resp);
}
