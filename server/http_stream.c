/* Streamed answers (Server-Sent Events) on libmicrohttpd: a callback
 * response whose reader asks the handler's rf_stream for bytes and, when
 * there are none, suspends the connection through the long-poll waiter list
 * (from inside the reader, the one place libmicrohttpd allows it) and returns
 * 0. The waiter list resumes it on a notify, a deadline or shutdown, so a
 * parked stream never outlives the daemon and its deadline (at most 15 s by
 * default) is also when a silent client's disconnect is noticed. */
#include "http_internal.h"
#include "metrics.h"
#include "rf_util.h"

#include <microhttpd.h>
#include <stdlib.h>

#define STREAM_BLOCK 16384
#define STREAM_DEFAULT_WAKE_MS 15000
#define STREAM_MAX_RETRIES 16

typedef struct http_stream {
    http_waiters *w;
    struct MHD_Connection *conn;
    http_waiter waiter;
    rf_stream src;
    int ended;
} http_stream;

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    http_stream *s = cls;

    (void)pos;
    for (int i = 0; !s->ended && i < STREAM_MAX_RETRIES; i++) {
        uint64_t gen = http_waiters_generation(s->w);
        int64_t wake = rf_monotonic_ms() + STREAM_DEFAULT_WAKE_MS;
        long n = s->src.fill(s->src.state, buf, max, &wake);
        if (n > 0)
            return (ssize_t)(n <= (long)max ? n : (long)max);
        if (n < 0)
            break;
        switch (http_waiters_suspend(s->w, &s->waiter, s->conn, wake, gen)) {
        case HTTP_WAIT_SUSPENDED:
            return 0; /* called again once resumed */
        case HTTP_WAIT_CLOSING:
            s->ended = 1;
            break;
        case HTTP_WAIT_CHANGED:
        default:
            break; /* something moved meanwhile: ask again now */
        }
    }
    /* Ended, shutting down, or the generation kept moving: end the stream;
     * the client reconnects and resumes from the last event id. */
    s->ended = 1;
    return MHD_CONTENT_READER_END_OF_STREAM;
}

static void stream_free(void *cls)
{
    http_stream *s = cls;

    if (!s)
        return;
    http_waiters_forget(s->w, &s->waiter);
    if (s->src.free)
        s->src.free(s->src.state);
    metrics_gauge_add(METRICS_STREAMS, -1);
    free(s);
}

struct MHD_Response *http_stream_response(http_waiters *w, struct MHD_Connection *conn,
                                          const rf_stream *src)
{
    http_stream *s = calloc(1, sizeof(*s));
    struct MHD_Response *mr = NULL;

    if (!s || !src->fill) {
        free(s);
        if (src->free)
            src->free(src->state);
        return NULL;
    }
    s->w = w;
    s->conn = conn;
    s->src = *src;
    metrics_gauge_add(METRICS_STREAMS, 1);
    mr = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK, stream_read, s,
                                           stream_free);
    if (!mr)
        stream_free(s);
    return mr;
}
