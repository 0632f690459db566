/* Webhook delivery (see webhook.h): a thread that every WEBHOOK_TICK_MS
 * queues new halt and revert events for each configured URL, leases the due
 * deliveries (so several instances never send one attempt twice), POSTs
 * them with their signature, and records each attempt. It must never log
 * the secret, never stop on a database or network error, and never hold a
 * database connection while it waits for a receiver. */
#include "webhook.h"
#include "rf_crypto.h"
#include "rf_log.h"
#include "rf_util.h"
#include "store.h"
#include "store_internal.h"
#include "ticker.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define WEBHOOK_TICK_MS 500
#define WEBHOOK_BATCH 16
#define WEBHOOK_TIMEOUT_S 5
#define WEBHOOK_ACQUIRE_MS 1000

static struct {
    pthread_mutex_t mu; /* guards srv (set while the ticker runs for it) */
    ticker tk;
    rf_server *srv;
    char urls[WEBHOOK_MAX_URLS][512];
    int nurls;
    char joined[WEBHOOK_MAX_URLS * 513]; /* urls, comma-separated; set before tk starts */
    char secret[256];
} wh = {.mu = PTHREAD_MUTEX_INITIALIZER, .tk = TICKER_INIT};

void webhook_sign(const char *secret, const char *body, size_t len, char out[72])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)body, len, mac, &maclen);
    rf_hex_encode(mac, maclen > 32 ? 32 : maclen, hex);
    rf_snprintf(out, 72, "sha256=%s", hex);
}

int webhook_backoff_s(int attempts)
{
    int s = 1;
    for (int i = 1; i < attempts && s < WEBHOOK_BACKOFF_MAX_S; i++)
        s *= 2;
    return s > WEBHOOK_BACKOFF_MAX_S ? WEBHOOK_BACKOFF_MAX_S : s;
}

/* Splits RINGFENCE_WEBHOOK_URLS into wh.urls; only http:// and https://. */
static void read_config(void)
{
    const char *list = getenv("RINGFENCE_WEBHOOK_URLS");
    const char *secret = getenv("RINGFENCE_WEBHOOK_SECRET");
    wh.nurls = 0;
    rf_snprintf(wh.secret, sizeof(wh.secret), "%s", secret ? secret : "");
    while (list != NULL && *list && wh.nurls < WEBHOOK_MAX_URLS) {
        const char *end = strchr(list, ',');
        size_t n = end ? (size_t)(end - list) : strlen(list);
        if (n > 0 && n < sizeof(wh.urls[0]) &&
            (strncmp(list, "http://", 7) == 0 || strncmp(list, "https://", 8) == 0)) {
            memcpy(wh.urls[wh.nurls], list, n);
            wh.urls[wh.nurls++][n] = '\0';
        } else if (n > 0) {
            rf_log(RF_LOG_WARN, "webhook: URL ignored (http:// or https://, < 512 bytes)", NULL);
        }
        list = end ? end + 1 : NULL;
    }
}

#define ENQUEUE_SQL                                                                                \
    "INSERT INTO webhook_deliveries (url, event_id, kind, payload) "                               \
    "SELECT $1, e.id, e.kind, jsonb_build_object('id', e.id, 'at', e.at, 'kind', e.kind, "         \
    "'actor', e.actor, 'rollout_id', e.rollout_id, 'data', e.data) FROM events e "                 \
    "WHERE e.kind IN ('rollout.halted', 'rollout.reverted') "                                      \
    "AND e.id > (SELECT coalesce(max(event_id), 0) FROM webhook_deliveries WHERE url = $1) "       \
    "AND e.at > now() - interval '1 hour' ORDER BY e.id ON CONFLICT (url, event_id) DO NOTHING"

#define LEASE_SQL                                                                                  \
    "UPDATE webhook_deliveries SET next_attempt_at = now() + interval '60 seconds' "               \
    "WHERE id IN (SELECT id FROM webhook_deliveries WHERE state = 'pending' "                      \
    "AND next_attempt_at <= now() AND url = ANY(string_to_array($1, ',')) ORDER BY id "            \
    "LIMIT " RF_STR(WEBHOOK_BATCH) " FOR UPDATE SKIP LOCKED) "                                     \
                                   "RETURNING id, url, payload::text, attempts"

#define RF_STR2(x) #x
#define RF_STR(x) RF_STR2(x)

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

/* POSTs body to url; *status gets the HTTP status (0: no answer). */
static void post(const char *url, long long id, const char *kind, const char *body, long *status,
                 char *errbuf)
{
    char sig[72], hdr_sig[128], hdr_id[64], hdr_kind[96];
    struct curl_slist *h = NULL;
    CURL *c = curl_easy_init();
    *status = 0;
    errbuf[0] = '\0';
    if (c == NULL) {
        rf_snprintf(errbuf, CURL_ERROR_SIZE, "out of memory");
        return;
    }
    webhook_sign(wh.secret, body, strlen(body), sig);
    rf_snprintf(hdr_sig, sizeof(hdr_sig), "X-Ringfence-Signature: %s", sig);
    rf_snprintf(hdr_id, sizeof(hdr_id), "X-Ringfence-Delivery: %lld", id);
    rf_snprintf(hdr_kind, sizeof(hdr_kind), "X-Ringfence-Event: %.64s", kind);
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, hdr_sig);
    h = curl_slist_append(h, hdr_id);
    h = curl_slist_append(h, hdr_kind);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)WEBHOOK_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}

/* Records the outcome of one attempt. */
static void record(rf_server *srv, const char *id, int attempts, long status, const char *error)
{
    char st[16], att[16], back[16];
    int ok = status >= 200 && status < 300;
    rf_snprintf(st, sizeof(st), "%ld", status);
    rf_snprintf(att, sizeof(att), "%d", attempts);
    rf_snprintf(back, sizeof(back), "%d", webhook_backoff_s(attempts));
    const char *state = ok ? "delivered" : attempts >= WEBHOOK_MAX_ATTEMPTS ? "failed" : "pending";
    const char *p[] = {id, state, att, status > 0 ? st : NULL, ok ? NULL : error, back};
    rf_db *db = NULL;
    PGresult *res = NULL;
    if (store_acquire(srv->store, WEBHOOK_ACQUIRE_MS, &db) != RF_OK)
        return; /* the lease runs out and the attempt is made again */
    store_exec(db, "webhook_record",
               "UPDATE webhook_deliveries SET state = $2, attempts = $3::int, "
               "last_status = $4::int, last_error = $5, "
               "delivered_at = CASE WHEN $2 = 'delivered' THEN now() END, "
               "next_attempt_at = now() + make_interval(secs => $6::int) WHERE id = $1",
               6, p, &res, NULL);
    PQclear(res);
    store_release(srv->store, db);
}

/* Queues new events and leases the due deliveries into *out. */
static rf_err queue_and_lease(rf_server *srv, const char *urls, PGresult **out)
{
    rf_db *db = NULL;
    PGresult *res = NULL;
    *out = NULL;
    rf_err rc = store_acquire(srv->store, WEBHOOK_ACQUIRE_MS, &db);
    for (int i = 0; rc == RF_OK && i < wh.nurls; i++) {
        const char *p[] = {wh.urls[i]};
        rc = store_exec(db, "webhook_enqueue", ENQUEUE_SQL, 1, p, &res, NULL);
        PQclear(res);
        res = NULL;
    }
    const char *p[] = {urls};
    if (rc == RF_OK)
        rc = store_exec(db, "webhook_lease", LEASE_SQL, 1, p, out, NULL);
    store_release(srv->store, db);
    return rc;
}

static void deliver_due(rf_server *srv, const char *urls)
{
    PGresult *res = NULL;
    if (queue_and_lease(srv, urls, &res) != RF_OK)
        return;
    for (int i = 0; i < PQntuples(res) && !ticker_stopping(&wh.tk); i++) {
        char errbuf[CURL_ERROR_SIZE];
        long status = 0;
        json_t *ev = json_loads(store_get(res, i, 2), 0, NULL);
        long long id = store_get_ll(res, i, 0);
        json_t *body = json_pack("{s:I, s:o*}", "delivery_id", (json_int_t)id, "event", ev);
        char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
        const char *kind = json_string_value(json_object_get(ev, "kind"));
        if (text != NULL)
            post(store_get(res, i, 1), id, kind ? kind : "", text, &status, errbuf);
        else
            rf_snprintf(errbuf, sizeof(errbuf), "out of memory");
        if (status == 0 && errbuf[0] == '\0')
            rf_snprintf(errbuf, sizeof(errbuf), "no answer");
        if (status > 0 && (status < 200 || status >= 300))
            rf_snprintf(errbuf, sizeof(errbuf), "HTTP %ld", status);
        record(srv, store_get(res, i, 0), (int)store_get_ll(res, i, 3) + 1, status, errbuf);
        free(text);
        json_decref(body);
    }
    PQclear(res);
}

/* Joins wh.urls into wh.joined for the lease query; skips any with a comma. */
static void join_urls(void)
{
    size_t used = 0;
    wh.joined[0] = '\0';
    for (int i = 0; i < wh.nurls; i++) {
        size_t n = strlen(wh.urls[i]);
        if (used + n + 2 > sizeof(wh.joined) || strchr(wh.urls[i], ',') != NULL)
            continue;
        if (used > 0)
            wh.joined[used++] = ',';
        memcpy(wh.joined + used, wh.urls[i], n + 1);
        used += n;
    }
}

static void webhook_tick(void *arg)
{
    deliver_due(arg, wh.joined);
}

rf_err webhook_start(rf_server *srv)
{
    rf_err rc = RF_OK;
    pthread_mutex_lock(&wh.mu);
    if (wh.srv != NULL)
        goto out;
    read_config();
    if (wh.nurls == 0)
        goto out;
    if (!wh.secret[0])
        rf_log(RF_LOG_WARN, "webhook: RINGFENCE_WEBHOOK_SECRET not set; signing with ''", NULL);
    join_urls();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = ticker_start(&wh.tk, WEBHOOK_TICK_MS, webhook_tick, srv);
    if (rc == RF_OK)
        wh.srv = srv;
out:
    pthread_mutex_unlock(&wh.mu);
    return rc;
}

void webhook_stop(rf_server *srv)
{
    pthread_mutex_lock(&wh.mu);
    if (srv != NULL && wh.srv == srv) {
        ticker_stop(&wh.tk);
        wh.srv = NULL;
    }
    OPENSSL_cleanse(wh.secret, sizeof(wh.secret));
    pthread_mutex_unlock(&wh.mu);
}

rf_http_result api_webhook_deliveries(rf_server *srv, rf_req *req, rf_resp *resp)
{
    rf_db *db = NULL;
    PGresult *res = NULL;
    if (!rf_require_role(req, resp, RF_ROLE_ADMIN))
        return RF_HTTP_DONE;
    rf_err rc = store_acquire(srv->store, 2000, &db);
    if (rc == RF_OK)
        rc = store_exec(db, "webhook_list",
                        "SELECT coalesce(json_agg(json_build_object('id', id, 'url', url, "
                        "'event_id', event_id, 'kind', kind, 'state', state, 'attempts', "
                        "attempts, 'last_status', last_status, 'last_error', last_error, "
                        "'created_at', created_at, 'delivered_at', delivered_at, "
                        "'next_attempt_at', next_attempt_at) ORDER BY id DESC), '[]')::text "
                        "FROM (SELECT * FROM webhook_deliveries ORDER BY id DESC LIMIT 100) d",
                        0, NULL, &res, NULL);
    store_release(srv->store, db);
    if (rc == RF_OK) {
        json_t *list = json_loads(store_get(res, 0, 0), 0, NULL);
        rf_resp_json(resp, 200, json_pack("{s:o*}", "deliveries", list));
    } else {
        rf_resp_error(resp, rc, NULL);
    }
    PQclear(res);
    return RF_HTTP_DONE;
}
