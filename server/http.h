/* The request/response shape every route handler sees. Only http_*.c include
 * microhttpd.h; handlers in api_*.c work on these plain structs, so they can be
 * called from tests without a socket. */
#ifndef RF_HTTP_H
#define RF_HTTP_H

#include "rf_buf.h"
#include "rf_err.h"
#include <jansson.h>
#include <stdint.h>

typedef enum rf_role {
    RF_ROLE_NONE = 0,
    RF_ROLE_VIEWER = 1,
    RF_ROLE_RELEASE = 2,
    RF_ROLE_ADMIN = 3,
} rf_role;

typedef enum rf_principal_kind {
    RF_PRINCIPAL_ANON = 0, /* no Authorization header */
    RF_PRINCIPAL_USER,     /* a user token (rfu_…) with a role */
    RF_PRINCIPAL_DEVICE,   /* a device token (rfd_…) */
    RF_PRINCIPAL_ENROLL,   /* the fleet's enrollment key */
    RF_PRINCIPAL_BAD       /* a token was sent but is not known */
} rf_principal_kind;

typedef struct rf_principal {
    rf_principal_kind kind;
    rf_role role;   /* for users */
    char name[128]; /* user token name, or device id; used as the actor in events */
    char device_id[33];
} rf_principal;

typedef struct rf_header {
    const char *name; /* borrowed static string */
    char value[160];
} rf_header;

#define RF_MAX_PATH_PARTS 8

typedef struct rf_req {
    const char *method;                   /* "GET", "POST", … (borrowed) */
    const char *path;                     /* without the query string (borrowed) */
    const char *parts[RF_MAX_PATH_PARTS]; /* path split on '/', without "v1" */
    int nparts;
    const char *body; /* request body, NUL-terminated, may be NULL */
    size_t body_len;
    rf_principal who;
    const char *if_match; /* header or NULL */
    /* Query-string lookup; returns a borrowed value or NULL. */
    const char *(*query)(const struct rf_req *req, const char *key);
    /* Request-header lookup (case-insensitive); a borrowed value or NULL. */
    const char *(*header)(const struct rf_req *req, const char *name);
    void *impl; /* owned by http_server.c */
    /* Long-poll support: a handler that wants to wait sets wait_until_ms
     * (monotonic) and returns RF_HTTP_SUSPEND; it is called again with
     * resumed = 1 after a wake-up (see rf_server_notify) or the deadline. */
    int64_t wait_until_ms;
    int resumed;
    /* Background work: a handler that handed the request to another thread
     * returns RF_HTTP_PARK; that thread calls rf_park_done(req->park) once,
     * when the work is finished, and the handler is called again with
     * resumed = 1. NULL when the request did not come through the HTTP
     * server (the handler must then do the work itself). */
    struct rf_park *park;
    void *handler_state; /* handler-owned; freed with handler_state_free */
    void (*handler_state_free)(void *);
} rf_req;

/* A streamed answer (Server-Sent Events). fill is called from the HTTP
 * layer's threads, one call at a time per stream: it writes at most max bytes
 * to buf and returns how many (> 0); or returns 0 when it has nothing to send
 * now — it is called again after rf_server_notify, or at *wake_ms (monotonic,
 * preset to 15 s from now) at the latest; or returns -1 to end the stream.
 * When the server shuts down the stream ends without another call. free is
 * called exactly once, when the HTTP layer is done with the stream (also when
 * it could never be started). */
typedef struct rf_stream {
    long (*fill)(void *state, char *buf, size_t max, int64_t *wake_ms);
    void (*free)(void *state);
    void *state;
} rf_stream;

typedef struct rf_resp {
    int status;
    const char *content_type; /* static string; default application/json */
    char *body;               /* malloc'd, freed by the HTTP layer */
    size_t body_len;
    rf_header headers[4];
    int nheaders;
    rf_stream stream; /* fill != NULL: the body is streamed instead of body */
} rf_resp;

typedef enum rf_http_result {
    RF_HTTP_DONE = 0, /* resp is filled in */
    RF_HTTP_SUSPEND,  /* long-poll: call again later (see rf_req.wait_until_ms) */
    RF_HTTP_PARK      /* background work: call again after rf_park_done (see rf_req.park) */
} rf_http_result;

/* Ends a parked request's wait (any thread, exactly once per RF_HTTP_PARK);
 * park is an rf_req's park. The request may be gone when this returns. */
void rf_park_done(void *park);

/* Fills resp with json (steals the reference) and status. */
void rf_resp_json(rf_resp *resp, int status, json_t *json);
/* Fills resp with the standard error body for code and message; the status
 * comes from the one mapping table in http_error.c. */
void rf_resp_error(rf_resp *resp, rf_err code, const char *message);
void rf_resp_error_e(rf_resp *resp, const rf_error *e);
void rf_resp_add_header(rf_resp *resp, const char *name, const char *value);
int rf_http_status_of(rf_err code);

/* Parses the request body as a JSON object; on failure fills resp with a 400
 * naming the problem and returns NULL. Returns a new reference. */
json_t *rf_req_json_object(const rf_req *req, rf_resp *resp);

/* Role gate: returns 1 if req->who is a user with at least `min`; otherwise
 * fills resp with 401 (no/unknown token) or 403 and returns 0. */
int rf_require_role(const rf_req *req, rf_resp *resp, rf_role min);
/* Device gate: 1 if req->who is a device token; otherwise 401/403 and 0. */
int rf_require_device(const rf_req *req, rf_resp *resp);

#endif
