/* The CLI's HTTP client: one libcurl easy handle reused across requests,
 * bearer token on every request, connect and transfer timeouts, answer
 * bodies capped through rf_buf, and uploads streamed from a file descriptor.
 * client.c is the only CLI file that includes curl. The token is held only
 * here, wiped when freed, and never appears in a message. */
#ifndef CLI_CLIENT_H
#define CLI_CLIENT_H

#include "rf_buf.h"
#include "rf_crypto.h"
#include "rf_err.h"

#include <signal.h>
#include <stdint.h>

typedef struct cli_client cli_client;

typedef struct cli_response {
    long status;    /* HTTP status, 0 if none arrived */
    rf_buf body;    /* capped at CLI_MAX_RESPONSE */
    char etag[130]; /* the ETag header without quotes, "" if none (for If-Match) */
    char retry_after[16];
} cli_response;

void cli_response_init(cli_response *r);
void cli_response_cleanup(cli_response *r); /* NULL-safe */

/* A file streamed as the request body. sha (borrowed, may be NULL) is fed
 * every byte sent, so the caller can compare with the server's hash. */
typedef struct cli_upload {
    int fd;
    uint64_t size;
    rf_sha256_ctx *sha;
} cli_upload;

/* Where a 2xx answer's body goes instead of memory (bundle downloads):
 * written to fd as it arrives, fed to sha (borrowed, may be NULL), at most
 * max bytes (more fails the transfer). Error answers still go to memory. */
typedef struct cli_sink {
    int fd;
    rf_sha256_ctx *sha;
    uint64_t max;
    uint64_t written;
    int write_errno; /* set when a write failed */
} cli_sink;

typedef struct cli_http_req {
    const char *method; /* "GET", "POST", "PUT", "DELETE" */
    const char *path;   /* "/v1/…", appended to the base URL */
    const char *body;   /* JSON body (borrowed) or NULL */
    size_t body_len;
    cli_upload *upload;   /* instead of body: stream this file (octet-stream) */
    const char *if_match; /* If-Match value or NULL */
    cli_sink *sink;       /* or NULL: the answer body goes to resp->body */
} cli_http_req;

/* base_url must already be checked by cli_base_url. The token is copied. */
rf_err cli_client_new(const char *base_url, const char *token, cli_client **out, rf_error *err);
void cli_client_free(cli_client *c); /* NULL-safe; wipes the token */
/* Whole-request timeout in milliseconds (0: none; uploads rely on a stall
 * limit instead). The connect timeout is fixed at 10 s. */
void cli_client_set_timeout(cli_client *c, long timeout_ms);

/* While *flag (borrowed, may be NULL to stop watching) is non-zero a
 * transfer in progress is abandoned within a second or two and fails with
 * RF_ERR_IO and an empty message: lets Ctrl-C end a long-poll at once. */
void cli_client_set_cancel(cli_client *c, const volatile sig_atomic_t *flag);

/* Sends one request. RF_OK whenever an HTTP answer arrived, whatever its
 * status (resp->status); RF_ERR_IO when the server could not be reached or
 * the transfer failed, RF_ERR_TOO_LARGE when the answer exceeded the cap;
 * err then says so, naming the server without any credentials. */
rf_err cli_client_send(cli_client *c, const cli_http_req *req, cli_response *resp, rf_error *err);

#endif
