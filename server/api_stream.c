/* GET /v1/events/stream: the event timeline as Server-Sent Events, for live
 * views. Each event is one message, `id: <event id>` and `data: <the event
 * as JSON>`; a client resumes after the last id it saw (Last-Event-ID header
 * or ?after=). New events are found by polling the newest event id at most
 * twice a second per process (shared by every stream), so events recorded by
 * other server instances arrive too, at most about a second late. A comment
 * line every 15 s keeps proxies from closing an idle stream and lets the
 * server notice a client that went away; a stream ends after 10 minutes (the
 * client reconnects). It must never hold a database connection while parked. */
#include "api.h"
#include "rf_util.h"
#include "store_dashboard.h"
#include "store_event.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define STREAM_MAX 1000           /* open streams per process */
#define STREAM_LIFETIME_MS 600000 /* then the client reconnects */
#define STREAM_PING_MS 15000      /* a comment line at least this often */
#define STREAM_POLL_MS 500        /* how often the newest id is read */
#define STREAM_GAP_WAIT_MS 2000   /* how long a hole in the ids is waited for */
#define STREAM_BATCH 200          /* events read at once */
#define STREAM_PENDING_MAX (4u << 20)
#define DB_WAIT_MS 1000

static atomic_int open_streams;

/* The newest event id, read at most every STREAM_POLL_MS for all streams. */
static struct {
    pthread_mutex_t mu;
    rf_server *srv;
    long long last_id;
    int64_t read_ms;
} newest = {.mu = PTHREAD_MUTEX_INITIALIZER};

typedef struct sse_state {
    rf_server *srv;
    long long last_id;    /* the last event id sent (or skipped) */
    long long rollout_id; /* 0: every event */
    int64_t started_ms, ping_ms, gap_since_ms;
    rf_buf out; /* formatted, not yet sent */
    size_t off;
    int hello;
} sse_state;

static long long newest_event_id(rf_server *srv, int64_t now)
{
    long long id;

    pthread_mutex_lock(&newest.mu);
    if (newest.srv != srv || now - newest.read_ms >= STREAM_POLL_MS) {
        rf_db *db = NULL;
        long long v = 0;
        if (store_acquire(srv->store, DB_WAIT_MS, &db) == RF_OK &&
            store_dash_last_event_id(db, &v, NULL) == RF_OK) {
            newest.srv = srv;
            newest.last_id = v;
            newest.read_ms = now;
        }
        store_release(srv->store, db);
    }
    id = newest.srv == srv ? newest.last_id : 0;
    pthread_mutex_unlock(&newest.mu);
    return id;
}

/* Appends one event as an SSE message. */
static rf_err append_event(sse_state *s, const json_t *ev)
{
    char *text = json_dumps(ev, JSON_COMPACT);
    rf_err rc;

    if (!text)
        return RF_ERR_NOMEM;
    rc = rf_buf_printf(&s->out, "id: %lld\ndata: %s\n\n",
                       (long long)json_integer_value(json_object_get(ev, "id")), text);
    free(text);
    return rc;
}

/* Formats the events after s->last_id into s->out. Ids are handed out before
 * commit, so a hole may be an event still being committed: the stream waits
 * for it up to STREAM_GAP_WAIT_MS, then goes on (the id was rolled back). */
static rf_err read_events(sse_state *s, int64_t now)
{
    rf_db *db = NULL;
    json_t *events = NULL;
    rf_err rc = store_acquire(s->srv->store, DB_WAIT_MS, &db);

    if (rc == RF_OK)
        rc = store_event_list(db, s->last_id, STREAM_BATCH, 0, &events, NULL);
    store_release(s->srv->store, db);
    for (size_t i = 0; rc == RF_OK && i < json_array_size(events); i++) {
        const json_t *ev = json_array_get(events, i);
        long long id = json_integer_value(json_object_get(ev, "id"));
        long long rid = json_integer_value(json_object_get(ev, "rollout_id"));
        if (id != s->last_id + 1) {
            if (s->gap_since_ms == 0)
                s->gap_since_ms = now;
            if (now - s->gap_since_ms < STREAM_GAP_WAIT_MS)
                break;
        }
        s->gap_since_ms = 0;
        if (s->rollout_id == 0 || rid == s->rollout_id)
            rc = append_event(s, ev);
        s->last_id = id;
    }
    json_decref(events);
    return rc;
}

static long sse_fill(void *state, char *buf, size_t max, int64_t *wake_ms)
{
    sse_state *s = state;
    int64_t now = rf_monotonic_ms();

    if (s->off >= s->out.len) {
        rf_buf_reset(&s->out);
        s->off = 0;
        if (!s->hello) {
            /* The client's reconnection delay, then a first comment so the
             * client sees the stream open at once. */
            s->hello = 1;
            rf_buf_append_str(&s->out, "retry: 2000\n: ringfence events\n\n");
        } else if (now - s->started_ms >= STREAM_LIFETIME_MS) {
            return -1;
        } else if (newest_event_id(s->srv, now) > s->last_id && read_events(s, now) != RF_OK) {
            return -1; /* the client reconnects and resumes */
        }
        if (s->out.len == 0 && now >= s->ping_ms)
            rf_buf_append_str(&s->out, ": ping\n\n");
        if (s->out.len > 0)
            s->ping_ms = now + STREAM_PING_MS;
    }
    if (s->off < s->out.len) {
        size_t n = s->out.len - s->off;
        if (n > max)
            n = max;
        memcpy(buf, s->out.data + s->off, n);
        s->off += n;
        return (long)n;
    }
    *wake_ms = now + (s->gap_since_ms ? 200 : STREAM_POLL_MS);
    if (*wake_ms > s->ping_ms)
        *wake_ms = s->ping_ms;
    return 0;
}

static void sse_free(void *state)
{
    sse_state *s = state;

    if (!s)
        return;
    rf_buf_cleanup(&s->out);
    free(s);
    atomic_fetch_sub(&open_streams, 1);
}

/* The id to resume after: Last-Event-ID (sent by a reconnecting client) wins
 * over ?after=; neither means "from now on", or, with ?last=N, from the N
 * newest event ids on (a timeline's first screen). */
static rf_err resume_point(rf_server *srv, const rf_req *req, long long *after, rf_error *err)
{
    const char *v = req->header ? req->header(req, "Last-Event-ID") : NULL;
    const char *what = "header 'Last-Event-ID'";
    const char *lastq = req->query(req, "last");
    long long last = 0;

    if (lastq && rf_parse_ll(lastq, 0, STREAM_BATCH * 5, &last) != RF_OK)
        return rf_error_set(err, RF_ERR_INVALID, "parameter 'last': must be an integer 0-%d",
                            STREAM_BATCH * 5);
    if (!v || !*v) {
        v = req->query(req, "after");
        what = "parameter 'after'";
    }
    if (v && rf_parse_ll(v, 0, INT64_MAX, after) != RF_OK)
        return rf_error_set(err, RF_ERR_INVALID, "%s: must be an event id (an integer >= 0)", what);
    if (!v) {
        rf_db *db = NULL;
        rf_err rc = store_acquire(srv->store, DB_WAIT_MS, &db);
        if (rc == RF_OK)
            rc = store_dash_last_event_id(db, after, err);
        store_release(srv->store, db);
        if (rc != RF_OK)
            return rf_error_set(err, RF_ERR_UNAVAILABLE, "database unavailable");
        *after = *after > last ? *after - last : 0;
    }
    return RF_OK;
}

rf_http_result api_events_stream(rf_server *srv, rf_req *req, rf_resp *resp)
{
    const char *rid = req->query(req, "rollout_id");
    long long after = 0, rollout = 0;
    sse_state *s;
    rf_error e = {0};

    if (!rf_require_role(req, resp, RF_ROLE_VIEWER))
        return RF_HTTP_DONE;
    if (rid && rf_parse_ll(rid, 1, INT64_MAX, &rollout) != RF_OK) {
        rf_resp_error(resp, RF_ERR_INVALID, "parameter 'rollout_id': must be a rollout id");
        return RF_HTTP_DONE;
    }
    if (resume_point(srv, req, &after, &e) != RF_OK) {
        rf_resp_error_e(resp, &e);
        return RF_HTTP_DONE;
    }
    if (atomic_fetch_add(&open_streams, 1) >= STREAM_MAX) {
        atomic_fetch_sub(&open_streams, 1);
        rf_resp_json(resp, 429,
                     json_pack("{s:{s:s,s:s}}", "error", "code", "too_many_requests", "message",
                               "too many event streams open; try again later"));
        rf_resp_add_header(resp, "Retry-After", "5");
        return RF_HTTP_DONE;
    }
    s = calloc(1, sizeof(*s));
    if (!s) {
        atomic_fetch_sub(&open_streams, 1);
        rf_resp_error(resp, RF_ERR_NOMEM, NULL);
        return RF_HTTP_DONE;
    }
    s->srv = srv;
    s->last_id = after;
    s->rollout_id = rollout;
    s->started_ms = rf_monotonic_ms();
    s->ping_ms = s->started_ms + STREAM_PING_MS;
    rf_buf_init(&s->out, STREAM_PENDING_MAX);
    resp->status = 200;
    resp->content_type = "text/event-stream";
    rf_resp_add_header(resp, "X-Accel-Buffering", "no");
    resp->stream = (rf_stream){sse_fill, sse_free, s};
    return RF_HTTP_DONE;
}
