/* Private to the http_*.c files: the long-poll waiter list, the daemon's
 * life cycle and the pure request helpers (path splitting, bearer parsing).
 * Nothing outside http_*.c and main.c includes this header. */
#ifndef RF_HTTP_INTERNAL_H
#define RF_HTTP_INTERNAL_H

#include "server.h"
#include <stddef.h>
#include <stdint.h>

struct MHD_Connection;

#define HTTP_PATH_MAX 512
#define HTTP_MAX_WAIT_MS 65000 /* no long-poll is held longer than this */

/* ---- long-poll waiters (http_longpoll.c) ---- */

typedef struct http_waiters http_waiters;

/* One suspended request; embedded in the per-request state. */
typedef struct http_waiter {
    struct MHD_Connection *conn;
    int64_t deadline_ms; /* monotonic */
    struct http_waiter *prev, *next;
    int listed;
} http_waiter;

typedef enum http_wait_result {
    HTTP_WAIT_SUSPENDED = 0, /* the connection is suspended and listed */
    HTTP_WAIT_CHANGED,       /* the generation moved or the deadline passed: call again now */
    HTTP_WAIT_CLOSING        /* shutting down: answer now */
} http_wait_result;

/* Creates the waiter list and starts its deadline ticker (every 100 ms). */
rf_err http_waiters_new(http_waiters **out);
/* Stops the ticker and frees; every waiter must have been resumed (see close). */
void http_waiters_free(http_waiters *w);
/* Suspends conn (from inside the access handler) unless the generation has
 * moved past seen_gen, the deadline has passed, or the list is closing. */
http_wait_result http_waiters_suspend(http_waiters *w, http_waiter *e, struct MHD_Connection *conn,
                                      int64_t deadline_ms, uint64_t seen_gen);
/* Removes e if it is still listed (without resuming it). */
void http_waiters_forget(http_waiters *w, http_waiter *e);
/* Refuses every later suspension and resumes every listed connection. */
void http_waiters_close(http_waiters *w);
size_t http_waiters_count(http_waiters *w);
uint64_t http_waiters_generation(http_waiters *w);

/* ---- streamed answers (http_stream.c) ---- */

struct MHD_Response;

/* A libmicrohttpd response (chunked, of unknown length) whose body is what
 * src->fill produces (rf_stream in http.h). While fill has nothing to send,
 * the connection is suspended through w like a long-poll, so it is woken by
 * rf_server_notify, its deadline, or http_waiters_close (then the stream
 * ends). Takes src over: src->free runs when the response is destroyed, or
 * before returning NULL when it cannot be created. */
struct MHD_Response *http_stream_response(http_waiters *w, struct MHD_Connection *conn,
                                          const rf_stream *src);

/* ---- the daemon (http_server.c) ---- */

typedef struct http_server http_server;

/* Starts listening on srv->cfg.listen ("host:port", port 0 = ephemeral);
 * srv->notify_impl must already hold an http_waiters. *port_out gets the
 * bound port. */
rf_err http_server_start(rf_server *srv, http_server **out, int *port_out, rf_error *err);
/* Stops accepting, resumes every suspended request (they answer at once),
 * waits up to drain_ms for requests in flight, then stops the daemon and frees. */
void http_server_stop(http_server *h, int drain_ms);

/* ---- authentication (http_auth.c) ---- */

/* Resolves the Authorization header value (NULL when absent) into *out:
 * rfu_ → a user token with its role, rfd_ → a device, the enrollment key →
 * ENROLL, anything else → BAD, none → ANON. RF_ERR_UNAVAILABLE when the
 * database cannot be asked. Nothing is cached. */
rf_err http_auth_resolve(rf_server *srv, const char *authorization, rf_principal *out);

/* ---- pure helpers (http_path.c) ---- */

/* Splits path into parts after a leading "/v1" (parts point into buf, which
 * receives a copy of the path). *is_v1 tells whether the path is under /v1.
 * RF_ERR_INVALID for a path over HTTP_PATH_MAX bytes, RF_ERR_NOT_FOUND for an
 * empty segment or more than max parts. */
rf_err http_path_split(const char *path, char *buf, size_t buflen, const char **parts, int max,
                       int *nparts, int *is_v1);

/* Extracts the token from an Authorization header value "Bearer <token>"
 * (scheme case-insensitive). Returns a pointer into value, its length in
 * *len, or NULL when the header is not a well-formed bearer credential. */
const char *http_bearer_token(const char *value, size_t *len);

#endif
