/* The HTTP front: libmicrohttpd with an epoll thread pool, turning each
 * request into an rf_req, calling the router and sending back its rf_resp.
 * Bodies are accumulated into a capped rf_buf and refused with 413 as soon as
 * they are known to be too large; long-polls suspend the connection. The
 * answer is always queued on the second or later call of the access handler
 * (queuing on the first makes libmicrohttpd close the connection). It must
 * never stop the daemon with a connection suspended. */
#include "http_internal.h"
#include "api.h"
#include "metrics.h"
#include "rf_log.h"
#include "rf_util.h"

#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define HTTP_CONN_TIMEOUT_S 90 /* longer than the longest long-poll (60 s) */
#define HTTP_CONN_LIMIT 16000
#define HTTP_MAX_RERUNS 16

struct http_server {
    rf_server *srv;
    struct MHD_Daemon *daemon;
    MHD_socket listen_fd; /* after quiesce: closed once the daemon has stopped */
    http_waiters *waiters;
    atomic_int closing;
    atomic_int in_flight;
};

/* A request parked for background work (rf_req.park). Its fields change
 * only under park_mu, which outlives every request. */
struct rf_park {
    struct MHD_Connection *conn;
    int done;      /* the work finished before the connection was suspended */
    int suspended; /* waiting for rf_park_done */
};

static pthread_mutex_t park_mu = PTHREAD_MUTEX_INITIALIZER;

typedef struct http_request {
    http_server *h;
    struct MHD_Connection *conn;
    rf_req req;
    rf_resp resp;
    rf_buf body;
    size_t discarded;
    int too_large;
    int path_err; /* rf_err from splitting the path */
    int authed;
    int suspended; /* the last handler call asked to wait */
    int parked;    /* the last handler call handed the request to background work */
    struct rf_park park;
    int queued;
    int status;
    int64_t started_ms;
    http_waiter waiter;
    char method[16];
    char path[HTTP_PATH_MAX + 1];     /* split in place into req.parts */
    char log_path[HTTP_PATH_MAX + 1]; /* whole, for req.path and the log line */
} http_request;

static const char *query_cb(const rf_req *req, const char *key)
{
    http_request *r = req->impl;

    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

static const char *header_cb(const rf_req *req, const char *name)
{
    http_request *r = req->impl;

    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

static int is_bundle_upload(const char *method, const char *url)
{
    return strcmp(method, "POST") == 0 && strcmp(url, "/v1/bundles") == 0;
}

static http_request *request_new(http_server *h, struct MHD_Connection *c, const char *url,
                                 const char *method)
{
    http_request *r = calloc(1, sizeof(*r));

    if (!r)
        return NULL;
    r->h = h;
    r->conn = c;
    r->started_ms = rf_monotonic_ms();
    rf_buf_init(&r->body,
                is_bundle_upload(method, url) ? h->srv->cfg.max_bundle : h->srv->cfg.max_body);
    snprintf(r->method, sizeof(r->method), "%s", method);
    snprintf(r->log_path, sizeof(r->log_path), "%s", url);
    /* HEAD is answered as GET; libmicrohttpd leaves the body out. */
    r->req.method = strcmp(method, "HEAD") == 0 ? "GET" : r->method;
    r->req.path = r->log_path;
    r->req.query = query_cb;
    r->req.header = header_cb;
    r->req.impl = r;
    r->park.conn = c;
    r->req.park = &r->park;
    r->path_err = http_path_split(url, r->path, sizeof(r->path), r->req.parts, RF_MAX_PATH_PARTS,
                                  &r->req.nparts, &(int){0});
    r->req.if_match = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-Match");
    atomic_fetch_add(&h->in_flight, 1);
    return r;
}

static void request_free(http_request *r)
{
    if (!r)
        return;
    if (r->waiter.listed)
        http_waiters_forget(r->h->waiters, &r->waiter);
    if (r->suspended)
        metrics_gauge_add(METRICS_LONGPOLL, -1);
    if (r->resp.stream.free)
        r->resp.stream.free(r->resp.stream.state); /* a stream that was never sent */
    if (r->req.handler_state && r->req.handler_state_free)
        r->req.handler_state_free(r->req.handler_state);
    rf_buf_cleanup(&r->body);
    free(r->resp.body);
    atomic_fetch_sub(&r->h->in_flight, 1);
    free(r);
}

static void add_security_headers(struct MHD_Response *mr, const char *ctype, const rf_resp *resp)
{
    int has_cache = 0;

    for (int i = 0; i < resp->nheaders; i++)
        if (strcasecmp(resp->headers[i].name, "Cache-Control") == 0)
            has_cache = 1;
    MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(mr, "Referrer-Policy", "no-referrer");
    if (!has_cache)
        MHD_add_response_header(mr, "Cache-Control", "no-store");
    if (strncmp(ctype, "text/html", 9) == 0) {
        /* The dashboard: its own scripts and styles only, no inline code, and
         * it talks to this server alone. */
        MHD_add_response_header(mr, "Content-Security-Policy",
                                "default-src 'none'; script-src 'self'; style-src 'self'; "
                                "img-src 'self' data:; connect-src 'self'; base-uri 'none'; "
                                "form-action 'none'; frame-ancestors 'none'");
        MHD_add_response_header(mr, "X-Frame-Options", "DENY");
        MHD_add_response_header(mr, "Cross-Origin-Opener-Policy", "same-origin");
        MHD_add_response_header(mr, "Permissions-Policy",
                                "camera=(), microphone=(), geolocation=(), payment=()");
    }
    MHD_add_response_header(mr, "Cross-Origin-Resource-Policy", "same-origin");
}

/* Queues r->resp (taking its body). Returns MHD_NO only when MHD refuses. */
static enum MHD_Result send_resp(http_request *r)
{
    rf_resp *resp = &r->resp;
    const char *ctype = resp->content_type ? resp->content_type : "application/json";
    struct MHD_Response *mr;
    enum MHD_Result ok;

    if (resp->status < 100 || resp->status > 599)
        rf_resp_error(resp, RF_ERR_INTERNAL, NULL);
    if (resp->stream.fill) {
        /* A streamed answer (Server-Sent Events): http_stream.c owns it now. */
        mr = http_stream_response(r->h->waiters, r->conn, &resp->stream);
        memset(&resp->stream, 0, sizeof(resp->stream));
    } else {
        mr = MHD_create_response_from_buffer(resp->body_len, resp->body,
                                             resp->body ? MHD_RESPMEM_MUST_FREE
                                                        : MHD_RESPMEM_PERSISTENT);
        if (mr)
            resp->body = NULL; /* owned by mr now */
    }
    if (!mr)
        return MHD_NO;
    MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    add_security_headers(mr, ctype, resp);
    for (int i = 0; i < resp->nheaders; i++)
        MHD_add_response_header(mr, resp->headers[i].name, resp->headers[i].value);
    ok = MHD_queue_response(r->conn, (unsigned)resp->status, mr);
    MHD_destroy_response(mr);
    r->queued = 1;
    r->status = resp->status;
    return ok;
}

static enum MHD_Result send_error(http_request *r, rf_err code, const char *msg)
{
    free(r->resp.body);
    memset(&r->resp, 0, sizeof(r->resp));
    rf_resp_error(&r->resp, code, msg);
    return send_resp(r);
}

static int64_t content_length(struct MHD_Connection *c)
{
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    long long n = -1;

    if (!v || rf_parse_ll(v, 0, INT64_MAX, &n) != RF_OK)
        return -1;
    return n;
}

static void too_large_msg(const http_request *r, char *out, size_t n)
{
    snprintf(out, n, "body: larger than the limit of %zu bytes", r->body.cap);
}

/* 1 when the connection is now suspended until rf_park_done; 0 when the
 * work is already done (call the handler again now). */
static int park(struct rf_park *p)
{
    int suspended = 0;
    pthread_mutex_lock(&park_mu);
    if (p->done) {
        p->done = 0;
    } else {
        p->suspended = suspended = 1;
        MHD_suspend_connection(p->conn);
    }
    pthread_mutex_unlock(&park_mu);
    return suspended;
}

void rf_park_done(void *arg)
{
    struct rf_park *p = arg;
    pthread_mutex_lock(&park_mu);
    if (p->suspended) {
        p->suspended = 0;
        MHD_resume_connection(p->conn); /* the request may be freed from here on */
    } else {
        p->done = 1;
    }
    pthread_mutex_unlock(&park_mu);
}

/* Calls the router (again after a wake-up) and either queues the answer,
 * suspends the connection for a long-poll, or parks it for background work. */
static enum MHD_Result run_handler(http_request *r)
{
    rf_server *srv = r->h->srv;

    if (r->parked) {
        r->parked = 0;
        r->req.resumed = 1;
    }
    if (r->suspended) {
        /* Called again by libmicrohttpd after a resume: a wake-up or the deadline. */
        r->suspended = 0;
        r->req.resumed = 1;
        metrics_gauge_add(METRICS_LONGPOLL, -1);
    }
    for (int i = 0; i < HTTP_MAX_RERUNS; i++) {
        uint64_t gen = http_waiters_generation(r->h->waiters);
        rf_http_result res;

        free(r->resp.body);
        memset(&r->resp, 0, sizeof(r->resp));
        res = rf_api_dispatch(srv, &r->req, &r->resp);
        if (res == RF_HTTP_DONE)
            return send_resp(r);
        if (res == RF_HTTP_PARK) {
            if (park(&r->park)) {
                r->parked = 1;
                return MHD_YES;
            }
            r->req.resumed = 1;
            continue;
        }
        switch (
            http_waiters_suspend(r->h->waiters, &r->waiter, r->conn, r->req.wait_until_ms, gen)) {
        case HTTP_WAIT_SUSPENDED:
            r->suspended = 1;
            metrics_gauge_add(METRICS_LONGPOLL, 1);
            return MHD_YES;
        case HTTP_WAIT_CLOSING:
            return send_error(r, RF_ERR_UNAVAILABLE, "server is shutting down");
        case HTTP_WAIT_CHANGED:
        default:
            r->req.resumed = 1;
            break;
        }
    }
    /* The generation keeps moving: let the client poll again. */
    return send_error(r, RF_ERR_UNAVAILABLE, "assignment changing; poll again");
}

static enum MHD_Result dispatch(http_request *r)
{
    if (r->path_err == RF_ERR_INVALID)
        return send_error(r, RF_ERR_INVALID, "path: longer than 512 bytes");
    if (r->path_err != RF_OK)
        return send_error(r, RF_ERR_NOT_FOUND, "no such route");
    if (r->too_large) {
        char msg[96];
        too_large_msg(r, msg, sizeof(msg));
        return send_error(r, RF_ERR_TOO_LARGE, msg);
    }
    if (atomic_load(&r->h->closing))
        return send_error(r, RF_ERR_UNAVAILABLE, "server is shutting down");
    if (!r->authed) {
        const char *auth = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Authorization");
        if (http_auth_resolve(r->h->srv, auth, &r->req.who) != RF_OK)
            return send_error(r, RF_ERR_UNAVAILABLE, "database unavailable");
        r->authed = 1;
        r->req.body = r->body.data;
        r->req.body_len = r->body.len;
    }
    return run_handler(r);
}

static enum MHD_Result on_upload(http_request *r, const char *data, size_t *size)
{
    if (!r->too_large && rf_buf_append(&r->body, data, *size) != RF_OK)
        r->too_large = 1;
    if (r->too_large) {
        /* Drop the rest; a client that keeps sending far past the cap is cut off. */
        r->discarded += *size;
        if (r->discarded > r->body.cap + (16u << 20))
            return MHD_NO;
    }
    *size = 0;
    return MHD_YES;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version, const char *data,
                                 size_t *size, void **con_cls)
{
    http_server *h = cls;
    http_request *r = *con_cls;

    (void)version;
    if (!r) {
        int64_t clen;
        r = request_new(h, c, url, method);
        if (!r)
            return MHD_NO;
        *con_cls = r;
        clen = content_length(c);
        if (clen >= 0 && (uint64_t)clen > r->body.cap) {
            /* Refuse before reading the body: the only answer queued on a first call. */
            char msg[96];
            r->too_large = 1;
            too_large_msg(r, msg, sizeof(msg));
            return send_error(r, RF_ERR_TOO_LARGE, msg);
        }
        return MHD_YES;
    }
    if (r->queued) {
        *size = 0; /* an early answer (413) is on its way; drop the body */
        return MHD_YES;
    }
    if (*size > 0)
        return on_upload(r, data, size);
    return dispatch(r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    http_request *r = *con_cls;
    char status[8], ms[24];

    (void)cls;
    (void)c;
    if (!r)
        return;
    snprintf(status, sizeof(status), "%d", r->queued ? r->status : 0);
    snprintf(ms, sizeof(ms), "%lld", (long long)(rf_monotonic_ms() - r->started_ms));
    metrics_http_done(r->path_err == RF_OK ? rf_api_route_of(&r->req) : NULL, r->method,
                      r->queued ? r->status : 0,
                      (double)(rf_monotonic_ms() - r->started_ms) / 1000.0);
    if (r->status >= 500 || toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
        rf_log(RF_LOG_WARN, "request", "method", r->req.method, "path", r->req.path, "status",
               status, "ms", ms, "ended",
               toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "ok" : "aborted", NULL);
    else
        rf_log(RF_LOG_DEBUG, "request", "method", r->req.method, "path", r->req.path, "status",
               status, "ms", ms, NULL);
    request_free(r);
    *con_cls = NULL;
}

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    char line[256];
    size_t n;

    (void)cls;
    vsnprintf(line, sizeof(line), fmt, ap);
    n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    rf_log(RF_LOG_WARN, "http", "detail", line, NULL);
}

/* Splits "host:port" / "[v6]:port" and resolves it. */
static rf_err resolve_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *sslen,
                             int *is_v6, rf_error *err)
{
    char host[128];
    const char *colon = strrchr(listen, ':');
    const char *h0 = listen;
    size_t hl;
    struct addrinfo hints = {0}, *ai = NULL;
    int rc;

    if (!colon)
        return rf_error_set(err, RF_ERR_INVALID, "listen address '%s': expected HOST:PORT", listen);
    hl = (size_t)(colon - listen);
    if (hl >= 2 && listen[0] == '[' && listen[hl - 1] == ']') {
        h0 = listen + 1;
        hl -= 2;
    }
    if (hl == 0 || hl >= sizeof(host))
        return rf_error_set(err, RF_ERR_INVALID, "listen address '%s': bad host", listen);
    memcpy(host, h0, hl);
    host[hl] = '\0';
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    rc = getaddrinfo(host, colon + 1, &hints, &ai);
    if (rc != 0 || !ai)
        return rf_error_set(err, RF_ERR_INVALID, "listen address '%s': %s", listen,
                            gai_strerror(rc));
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    *sslen = ai->ai_addrlen;
    *is_v6 = ai->ai_family == AF_INET6;
    freeaddrinfo(ai);
    return RF_OK;
}

rf_err http_server_start(rf_server *srv, http_server **out, int *port_out, rf_error *err)
{
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    int v6 = 0;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    http_server *h = NULL;
    const union MHD_DaemonInfo *info;
    rf_err rc;

    *out = NULL;
    rc = resolve_listen(srv->cfg.listen, &ss, &sslen, &v6, err);
    if (rc != RF_OK)
        return rc;
    if (!srv->notify_impl)
        return rf_error_set(err, RF_ERR_INTERNAL, "no waiter list");
    h = calloc(1, sizeof(*h));
    if (!h)
        return rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    h->srv = srv;
    h->waiters = srv->notify_impl;
    if (v6)
        flags |= MHD_USE_IPv6;
    /* The logger goes first so that every later option's complaint reaches it. */
    h->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_access, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, h,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)(srv->cfg.threads > 1 ? srv->cfg.threads : 1), MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)HTTP_CONN_TIMEOUT_S, MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONN_LIMIT,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_LISTENING_ADDRESS_REUSE,
        (unsigned)1, MHD_OPTION_END);
    if (!h->daemon) {
        free(h);
        return rf_error_set(err, RF_ERR_IO, "cannot listen on %s (in use, or not permitted)",
                            srv->cfg.listen);
    }
    info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    *port_out = info ? (int)info->port : 0;
    *out = h;
    return RF_OK;
}

void http_server_stop(http_server *h, int drain_ms)
{
    int64_t until;

    if (!h)
        return;
    atomic_store(&h->closing, 1);
    /* Stop accepting first, then wake every long-poll: they answer at once. */
    h->listen_fd = MHD_quiesce_daemon(h->daemon);
    http_waiters_close(h->waiters);
    until = rf_monotonic_ms() + drain_ms;
    while (atomic_load(&h->in_flight) > 0 && rf_monotonic_ms() < until) {
        http_waiters_close(h->waiters);
        usleep(20 * 1000);
    }
    if (http_waiters_count(h->waiters) > 0)
        http_waiters_close(h->waiters);
    MHD_stop_daemon(h->daemon);
    if (h->listen_fd != MHD_INVALID_SOCKET)
        close(h->listen_fd);
    free(h);
}
