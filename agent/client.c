/* libcurl, for the agent. Every transfer gets a connect timeout and a total
 * timeout; answers are capped (JSON and TUF metadata in an rf_buf with a hard
 * cap, bundles by the signed length): a body that runs past the cap is cut
 * off there (endless data), and for rf_buf answers an announced length over
 * the cap is refused before the body. Only http and https are allowed and redirects are not
 * followed. The Authorization header is built in a local buffer that is wiped
 * after use; nothing here logs. */
#include "client.h"
#include "rf_crypto.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

rf_err client_init(client *c, const char *base_url, const volatile sig_atomic_t *stop,
                   rf_error *err)
{
    size_t n = strlen(base_url);

    memset(c, 0, sizeof(*c));
    while (n > 0 && base_url[n - 1] == '/')
        n--;
    if (n == 0 || n >= sizeof(c->base) ||
        (strncmp(base_url, "http://", 7) != 0 && strncmp(base_url, "https://", 8) != 0))
        return rf_error_set(err, RF_ERR_INVALID, "server URL must start with http:// or https://");
    memcpy(c->base, base_url, n);
    c->base[n] = '\0';
    c->stop = stop;
    c->curl = curl_easy_init();
    if (!c->curl)
        return rf_error_set(err, RF_ERR_NOMEM, "curl_easy_init failed");
    return RF_OK;
}

void client_cleanup(client *c)
{
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    c->curl = NULL;
}

static int xfer_cb(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    const client *c = arg;

    (void)dt, (void)dn, (void)ut, (void)un;
    return c->stop && *c->stop ? 1 : 0;
}

/* Common options; *hdrs receives the header list (curl_slist_free_all it). */
static rf_err setup(client *c, const client_req *req, struct curl_slist **hdrs, char *errbuf,
                    rf_error *err)
{
    CURL *h = c->curl;
    char url[2048];
    char auth[512];
    struct curl_slist *l = NULL;
    rf_err rc = RF_OK;

    curl_easy_reset(h);
    if (snprintf(url, sizeof(url), "%s%s", c->base, req->path) >= (int)sizeof(url))
        return rf_error_set(err, RF_ERR_TOO_LARGE, "URL too long");
    if (req->token) {
        if (snprintf(auth, sizeof(auth), "Authorization: Bearer %s", req->token) >=
            (int)sizeof(auth)) {
            rc = rf_error_set(err, RF_ERR_TOO_LARGE, "token too long");
            goto out;
        }
        l = curl_slist_append(l, auth);
    }
    l = curl_slist_append(l, "Accept: application/json");
    l = curl_slist_append(l, "Expect:");
    if (req->body)
        l = curl_slist_append(l, "Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)CLIENT_CONNECT_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, req->timeout_s);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "ringfence-agent/" RF_VERSION);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, l);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    if (req->abortable) {
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, xfer_cb);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, c);
    }
    if (req->body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    } else if (strcmp(req->method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
    }
out:
    explicit_bzero(auth, sizeof(auth));
    *hdrs = l;
    return rc;
}

static rf_err transfer_error(client *c, CURLcode cc, const char *errbuf, rf_error *err)
{
    if (cc == CURLE_FILESIZE_EXCEEDED)
        return rf_error_set(err, RF_ERR_TOO_LARGE, "the announced answer is over the size limit");
    if (cc == CURLE_ABORTED_BY_CALLBACK && c->stop && *c->stop)
        return rf_error_set(err, RF_ERR_IO, "interrupted by shutdown");
    return rf_error_set(err, RF_ERR_IO, "%s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
}

typedef struct mem_sink {
    rf_buf *buf;
    bool overflow;
} mem_sink;

static size_t mem_write(char *data, size_t size, size_t n, void *arg)
{
    mem_sink *s = arg;

    if (rf_buf_append(s->buf, data, size * n) != RF_OK) {
        s->overflow = true;
        return 0;
    }
    return size * n;
}

rf_err client_call(client *c, const client_req *req, long *status, rf_buf *resp, rf_error *err)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *hdrs = NULL;
    mem_sink sink = {resp, false};
    CURLcode cc;
    rf_err rc;

    *status = 0;
    if ((rc = setup(c, req, &hdrs, errbuf, err)) != RF_OK)
        goto out;
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, mem_write);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c->curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)resp->cap);
    cc = curl_easy_perform(c->curl);
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status);
    if (sink.overflow)
        rc = rf_error_set(err, RF_ERR_TOO_LARGE, "answer larger than %zu bytes", resp->cap);
    else if (cc != CURLE_OK)
        rc = transfer_error(c, cc, errbuf, err);
out:
    curl_slist_free_all(hdrs);
    return rc;
}

typedef struct file_sink {
    client *c;
    int fd;
    int64_t cap, got;
    rf_sha256_ctx *sha;
    rf_buf errbody;
    bool overflow, io_error, not_ok;
} file_sink;

static size_t file_write(char *data, size_t size, size_t n, void *arg)
{
    file_sink *s = arg;
    size_t len = size * n, off = 0;
    long code = 0;

    curl_easy_getinfo(s->c->curl, CURLINFO_RESPONSE_CODE, &code);
    if (code != 200) {
        s->not_ok = true;
        (void)rf_buf_append(&s->errbody, data, len); /* capped: the rest is dropped */
        return len;
    }
    if (s->got + (int64_t)len > s->cap) {
        s->overflow = true;
        return 0;
    }
    while (off < len) {
        ssize_t w = write(s->fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            s->io_error = true;
            return 0;
        }
        off += (size_t)w;
    }
    rf_sha256_update(s->sha, data, len);
    s->got += (int64_t)len;
    return len;
}

rf_err client_download(client *c, const client_req *req, int fd, int64_t cap, char sha_hex[65],
                       int64_t *got, long *status, rf_error *err)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *hdrs = NULL;
    file_sink s = {.c = c, .fd = fd, .cap = cap};
    char text[300];
    CURLcode cc;
    rf_err rc;

    *status = 0;
    *got = 0;
    sha_hex[0] = '\0';
    rf_buf_init(&s.errbody, 4096);
    if (!(s.sha = rf_sha256_new())) {
        rc = rf_error_set(err, RF_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = setup(c, req, &hdrs, errbuf, err)) != RF_OK)
        goto out;
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, file_write);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(c->curl, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(c->curl, CURLOPT_LOW_SPEED_TIME, 30L);
    cc = curl_easy_perform(c->curl);
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status);
    *got = s.got;
    if (s.overflow)
        rc = rf_error_set(err, RF_ERR_TOO_LARGE, "more than the signed %lld bytes", (long long)cap);
    else if (s.io_error)
        rc = rf_error_set(err, RF_ERR_IO, "writing the bundle: %s", strerror(errno));
    else if (cc != CURLE_OK)
        rc = transfer_error(c, cc, errbuf, err);
    else if (s.not_ok || *status != 200) {
        client_error_text(*status, &s.errbody, text, sizeof(text));
        rc = rf_error_set(err, RF_ERR_IO, "%s", text);
    } else
        rf_sha256_final_hex(s.sha, sha_hex);
out:
    rf_sha256_free(s.sha);
    rf_buf_cleanup(&s.errbody);
    curl_slist_free_all(hdrs);
    return rc;
}

static void printable(const char *in, char *out, size_t len)
{
    size_t i = 0;

    for (; in && in[i] && i + 1 < len; i++)
        out[i] = ((unsigned char)in[i] >= 0x20 && (unsigned char)in[i] < 0x7f) ? in[i] : '?';
    if (len)
        out[i] = '\0';
}

void client_error_text(long status, const rf_buf *resp, char *out, size_t len)
{
    json_t *root = resp->data ? json_loadb(resp->data, resp->len, 0, NULL) : NULL;
    json_t *e = json_object_get(root, "error");
    const char *code = json_string_value(json_object_get(e, "code"));
    const char *msg = json_string_value(json_object_get(e, "message"));
    char clean[256];

    if (msg) {
        printable(msg, clean, sizeof(clean));
        snprintf(out, len, "HTTP %ld %s: %s", status, code ? code : "error", clean);
    } else {
        printable(resp->data ? resp->data : "", clean, 120 < sizeof(clean) ? 120 : sizeof(clean));
        snprintf(out, len, "HTTP %ld%s%s", status, clean[0] ? ": " : "", clean);
    }
    json_decref(root);
}
