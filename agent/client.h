/* client: the agent's HTTP client, the only file that includes curl.h. One
 * reused libcurl handle (keep-alive), connect timeout 5 s and a total timeout
 * on every transfer, http/https only, no redirects, every answer bounded.
 * Transfers marked abortable end early when *stop becomes non-zero (so a long
 * poll or a download does not hold up a shutdown). Tokens are never logged. */
#ifndef AGENT_CLIENT_H
#define AGENT_CLIENT_H

#include "rf_buf.h"
#include "rf_err.h"
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#define CLIENT_CONNECT_TIMEOUT_S 5

typedef struct client {
    void *curl; /* CURL *, owned */
    char base[1024];
    const volatile sig_atomic_t *stop;
} client;

typedef struct client_req {
    const char *method; /* "GET" or "POST" */
    const char *path;   /* "/v1/…", appended to the base URL */
    const char *token;  /* bearer token (borrowed); NULL: none */
    const char *body;   /* POST: JSON body */
    size_t body_len;
    long timeout_s; /* whole transfer */
    bool abortable;
} client_req;

/* curl_global_init must have run. stop (borrowed) may be NULL. */
rf_err client_init(client *c, const char *base_url, const volatile sig_atomic_t *stop,
                   rf_error *err);
void client_cleanup(client *c); /* NULL-safe */

/* Performs req; *status gets the HTTP status (0 when none), resp the body
 * (bounded by resp->cap: more, announced or sent, is RF_ERR_TOO_LARGE and the
 * transfer stops there). A transport failure is
 * RF_ERR_IO; any HTTP status is RF_OK here (the caller judges it). */
rf_err client_call(client *c, const client_req *req, long *status, rf_buf *resp, rf_error *err);

/* Streams the answer of a GET into fd while hashing it. More than cap bytes
 * aborts with RF_ERR_TOO_LARGE. sha_hex and *got describe what was written.
 * A non-200 answer is not written and is RF_ERR_IO with the server's text. */
rf_err client_download(client *c, const client_req *req, int fd, int64_t cap, char sha_hex[65],
                       int64_t *got, long *status, rf_error *err);

/* "HTTP 401 unauthorized: <server message>" from an error answer, printable
 * ASCII only. */
void client_error_text(long status, const rf_buf *resp, char *out, size_t len);

#endif
