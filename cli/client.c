/* HTTP for the CLI over libcurl; the only CLI file that includes curl.
 * One easy handle is reused so consecutive requests share a connection.
 * Every request carries the bearer token, has connect and transfer
 * timeouts, follows no redirects (the token must not travel to another
 * host) and collects its answer in a capped rf_buf. The token never reaches
 * a message or a log, and is wiped from our memory when we are done. */
#include "client.h"
#include "cli.h"
#include "rf_util.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define CLI_CONNECT_TIMEOUT_MS 10000L
#define CLI_DEFAULT_TIMEOUT_MS 60000L
#define CLI_UPLOAD_STALL_S 60L /* an upload that moves nothing this long fails */

struct cli_client {
    CURL *curl;
    char *base;
    char *token;
    size_t token_len;
    long timeout_ms;
    const volatile sig_atomic_t *cancel;
    char errbuf[CURL_ERROR_SIZE];
};

/* State of one transfer, seen by the callbacks. */
typedef struct xfer {
    CURL *curl;
    cli_response *resp;
    cli_upload *upload;
    cli_sink *sink;
    int too_large;
    int read_errno;
} xfer;

void cli_response_init(cli_response *r)
{
    r->status = 0;
    rf_buf_init(&r->body, CLI_MAX_RESPONSE);
    r->etag[0] = '\0';
    r->retry_after[0] = '\0';
}

void cli_response_cleanup(cli_response *r)
{
    if (r == NULL) {
        return;
    }
    rf_buf_cleanup(&r->body);
    r->status = 0;
    r->etag[0] = '\0';
    r->retry_after[0] = '\0';
}

rf_err cli_client_new(const char *base_url, const char *token, cli_client **out, rf_error *err)
{
    rf_err rc = RF_ERR_NOMEM;
    cli_client *c = calloc(1, sizeof *c);
    *out = NULL;
    if (c == NULL || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        free(c);
        return rf_error_set(err, RF_ERR_NOMEM, "cannot initialise libcurl");
    }
    c->timeout_ms = CLI_DEFAULT_TIMEOUT_MS;
    c->curl = curl_easy_init();
    c->base = strdup(base_url);
    c->token = strdup(token);
    if (c->curl == NULL || c->base == NULL || c->token == NULL) {
        rf_error_set(err, rc, "out of memory");
        goto out;
    }
    c->token_len = strlen(c->token);
    *out = c;
    c = NULL;
    rc = RF_OK;
out:
    cli_client_free(c);
    return rc;
}

void cli_client_free(cli_client *c)
{
    if (c == NULL) {
        return;
    }
    if (c->token != NULL) {
        explicit_bzero(c->token, c->token_len);
        free(c->token);
    }
    if (c->curl != NULL) {
        curl_easy_cleanup(c->curl);
    }
    free(c->base);
    explicit_bzero(c, sizeof *c);
    free(c);
    curl_global_cleanup();
}

void cli_client_set_timeout(cli_client *c, long timeout_ms)
{
    c->timeout_ms = timeout_ms < 0 ? 0 : timeout_ms;
}

void cli_client_set_cancel(cli_client *c, const volatile sig_atomic_t *flag)
{
    c->cancel = flag;
}

/* Called by curl about once a second and on progress: a non-zero return
 * aborts the transfer. */
static int progress_cb(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    const cli_client *c = userdata;
    return c->cancel != NULL && *c->cancel != 0;
}

/* A 2xx body into the sink's file; 0 (curl stops) on a write error or
 * past the sink's limit. */
static size_t sink_write(xfer *x, const char *ptr, size_t n)
{
    cli_sink *s = x->sink;
    if (s->written + n > s->max) {
        x->too_large = 1;
        return 0;
    }
    for (size_t done = 0; done < n;) {
        ssize_t w = write(s->fd, ptr + done, n - done);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            s->write_errno = w < 0 ? errno : EIO;
            return 0;
        }
        done += (size_t)w;
    }
    if (s->sha != NULL) {
        rf_sha256_update(s->sha, ptr, n);
    }
    s->written += n;
    return n;
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    xfer *x = userdata;
    size_t n = size * nmemb;
    long status = 0;
    if (x->sink != NULL) {
        curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
        if (status >= 200 && status <= 299) {
            return sink_write(x, ptr, n);
        }
    }
    if (rf_buf_append(&x->resp->body, ptr, n) != RF_OK) {
        x->too_large = 1;
        return 0; /* makes curl stop with CURLE_WRITE_ERROR */
    }
    return n;
}

/* Copies the value of header `name` in line (not NUL-terminated) to out. */
static void header_value(const char *line, size_t len, const char *name, char *out, size_t outlen)
{
    size_t nlen = strlen(name);
    if (len <= nlen || strncasecmp(line, name, nlen) != 0 || line[nlen] != ':') {
        return;
    }
    const char *v = line + nlen + 1;
    const char *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t' || *v == '"')) {
        v++;
    }
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '"')) {
        end--;
    }
    size_t vlen = (size_t)(end - v);
    if (vlen < outlen) {
        memcpy(out, v, vlen);
        out[vlen] = '\0';
    }
}

static size_t header_cb(char *buf, size_t size, size_t nitems, void *userdata)
{
    xfer *x = userdata;
    size_t n = size * nitems;
    header_value(buf, n, "ETag", x->resp->etag, sizeof x->resp->etag);
    header_value(buf, n, "Retry-After", x->resp->retry_after, sizeof x->resp->retry_after);
    return n;
}

static size_t read_cb(char *buf, size_t size, size_t nitems, void *userdata)
{
    xfer *x = userdata;
    ssize_t n;
    do {
        n = read(x->upload->fd, buf, size * nitems);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        x->read_errno = errno;
        return CURL_READFUNC_ABORT;
    }
    if (x->upload->sha != NULL) {
        rf_sha256_update(x->upload->sha, buf, (size_t)n);
    }
    return (size_t)n;
}

static void free_headers(struct curl_slist *h)
{
    if (h != NULL && h->data != NULL) {
        explicit_bzero(h->data, strlen(h->data)); /* the Authorization line */
    }
    curl_slist_free_all(h);
}

/* Headers for one request; the first node holds the token. */
static struct curl_slist *build_headers(const cli_client *c, const cli_http_req *req)
{
    struct curl_slist *h = NULL;
    size_t len = c->token_len + 32;
    char *auth = malloc(len);
    if (auth == NULL || rf_snprintf(auth, len, "Authorization: Bearer %s", c->token) != RF_OK) {
        free(auth);
        return NULL;
    }
    h = curl_slist_append(NULL, auth);
    explicit_bzero(auth, len);
    free(auth);
    const char *extra[4] = {"Accept: application/json", NULL, NULL, NULL};
    if (req->upload != NULL) {
        extra[1] = "Content-Type: application/octet-stream";
    } else if (req->body != NULL) {
        extra[1] = "Content-Type: application/json";
        extra[2] = "Expect:"; /* small JSON bodies go at once */
    } else {
        extra[1] = "Content-Type:"; /* no body: no (form) content type either */
    }
    for (size_t i = 0; i < 4 && h != NULL; i++) {
        if (extra[i] != NULL && curl_slist_append(h, extra[i]) == NULL) {
            goto fail;
        }
    }
    char im[200];
    if (h != NULL && req->if_match != NULL) {
        if (rf_snprintf(im, sizeof im, "If-Match: \"%s\"", req->if_match) != RF_OK ||
            curl_slist_append(h, im) == NULL) {
            goto fail;
        }
    }
    return h;
fail:
    free_headers(h);
    return NULL;
}

/* Options for one request on a freshly reset handle. */
static CURLcode set_options(cli_client *c, const cli_http_req *req, const char *url, xfer *x,
                            struct curl_slist *headers)
{
    CURL *h = c->curl;
    CURLcode rc = CURLE_OK;
#define SET(opt, val)                                                                              \
    do {                                                                                           \
        if (rc == CURLE_OK) {                                                                      \
            rc = curl_easy_setopt(h, opt, val);                                                    \
        }                                                                                          \
    } while (0)
    SET(CURLOPT_URL, url);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_USERAGENT, "ringfence/" RF_VERSION);
    SET(CURLOPT_ERRORBUFFER, c->errbuf);
    SET(CURLOPT_CONNECTTIMEOUT_MS, CLI_CONNECT_TIMEOUT_MS);
    SET(CURLOPT_HTTPHEADER, headers);
    SET(CURLOPT_WRITEFUNCTION, write_cb);
    SET(CURLOPT_WRITEDATA, x);
    SET(CURLOPT_HEADERFUNCTION, header_cb);
    SET(CURLOPT_HEADERDATA, x);
    if (c->cancel != NULL) {
        SET(CURLOPT_XFERINFOFUNCTION, progress_cb);
        SET(CURLOPT_XFERINFODATA, c);
        SET(CURLOPT_NOPROGRESS, 0L);
    }
    if (req->upload != NULL) {
        SET(CURLOPT_POST, 1L);
        SET(CURLOPT_READFUNCTION, read_cb);
        SET(CURLOPT_READDATA, x);
        SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->upload->size);
        SET(CURLOPT_TIMEOUT_MS, 0L);
        SET(CURLOPT_LOW_SPEED_LIMIT, 1L);
        SET(CURLOPT_LOW_SPEED_TIME, CLI_UPLOAD_STALL_S);
    } else {
        SET(CURLOPT_TIMEOUT_MS, c->timeout_ms);
        if (req->body != NULL || strcmp(req->method, "POST") == 0) {
            SET(CURLOPT_POSTFIELDS, req->body != NULL ? req->body : "");
            SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(req->body != NULL ? req->body_len : 0));
        } else {
            SET(CURLOPT_HTTPGET, 1L);
        }
    }
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "POST") != 0) {
        SET(CURLOPT_CUSTOMREQUEST, req->method);
    }
#undef SET
    return rc;
}

/* Turns a failed transfer into a message naming the server, never the token. */
static rf_err transfer_error(const cli_client *c, CURLcode cc, const xfer *x, rf_error *err)
{
    char where[256];
    cli_url_redact(c->base, where, sizeof where);
    const char *why = c->errbuf[0] != '\0' ? c->errbuf : curl_easy_strerror(cc);
    if (x->sink != NULL && x->sink->write_errno != 0) {
        return rf_error_set(err, RF_ERR_IO, "writing the download failed: %s",
                            strerror(x->sink->write_errno));
    }
    if (x->too_large) {
        return rf_error_set(err, RF_ERR_TOO_LARGE, "the answer from %s is larger than %s", where,
                            x->sink != NULL ? "the bundle's length" : "16 MiB");
    }
    if (x->read_errno != 0) {
        return rf_error_set(err, RF_ERR_IO, "reading the bundle file failed: %s",
                            strerror(x->read_errno));
    }
    switch (cc) {
    case CURLE_ABORTED_BY_CALLBACK:
        /* Cancelled (Ctrl-C): the caller knows; nothing worth saying. */
        return rf_error_set(err, RF_ERR_IO, "%s", "");
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return rf_error_set(err, RF_ERR_IO, "cannot connect to %s: %s (is the server running?)",
                            where, why);
    case CURLE_OPERATION_TIMEDOUT:
        return rf_error_set(err, RF_ERR_IO, "no answer from %s in time: %s", where, why);
    default:
        return rf_error_set(err, RF_ERR_IO, "request to %s failed: %s", where, why);
    }
}

rf_err cli_client_send(cli_client *c, const cli_http_req *req, cli_response *resp, rf_error *err)
{
    rf_err rc = RF_OK;
    xfer x = {c->curl, resp, req->upload, req->sink, 0, 0};
    rf_buf url;
    rf_buf_init(&url, 16384);
    struct curl_slist *headers = NULL;
    rf_buf_reset(&resp->body);
    resp->status = 0;
    resp->etag[0] = '\0';
    resp->retry_after[0] = '\0';
    c->errbuf[0] = '\0';
    if (rf_buf_append_str(&url, c->base) != RF_OK || rf_buf_append_str(&url, req->path) != RF_OK) {
        rc = rf_error_set(err, RF_ERR_TOO_LARGE, "the request URL is too long");
        goto out;
    }
    headers = build_headers(c, req);
    curl_easy_reset(c->curl);
    if (headers == NULL || set_options(c, req, url.data, &x, headers) != CURLE_OK) {
        rc = rf_error_set(err, RF_ERR_NOMEM, "cannot prepare the request");
        goto out;
    }
    CURLcode cc = curl_easy_perform(c->curl);
    long status = 0;
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
    resp->status = status;
    /* A server may answer an upload early (413) and close while we still
     * send: that answer is what the user needs to see. */
    int early_answer = cc == CURLE_SEND_ERROR && status >= 400 && !x.too_large;
    if (cc != CURLE_OK && !early_answer) {
        rc = transfer_error(c, cc, &x, err);
    }
out:
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
    free_headers(headers);
    rf_buf_cleanup(&url);
    return rc;
}
