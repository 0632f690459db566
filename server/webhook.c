/* Webhook delivery (see webhook.h): a thread that every WEBHOOK_TICK_MS
 * queues new events for each environment URL and each enabled webhook of the
 * API, leases the due deliveries (so several instances never send one
 * attempt twice), POSTs them with their signature, and records each attempt.
 * It leases a webhook's deliveries only while this instance holds the master
 * key that derives its secret (same key id), so an instance without the key
 * file leaves them to one that has it. It must never log a secret or the
 * key, never stop on a database or network error, and never hold a database
 * connection while it waits for a receiver. */
#include "webhook.h"
#include "rf_crypto.h"
#include "rf_log.h"
#include "rf_util.h"
#include "store.h"
#include "store_internal.h"
#include "ticker.h"
#include "webhook_key.h"

#include <curl/curl.h>
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
    /* The master key of the API's webhooks: read on the ticker's thread
     * only, until it is found; wiped at stop. */
    webhook_key key;
    char key_problem[256]; /* the last key error logged, so it is logged once */
} wh = {.mu = PTHREAD_MUTEX_INITIALIZER, .tk = TICKER_INIT};

void webhook_sign(const char *secret, const char *body, size_t len, char out[72])
{
    uint8_t mac[RF_SHA256_LEN];
    char hex[RF_SHA256_HEX_LEN + 1];
    rf_hmac_sha256(secret, strlen(secret), body, len, mac);
    rf_hex_encode(mac, sizeof(mac), hex);
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
    "SELECT $1, e.id, e.kind, " PAYLOAD_SQL " FROM events e "                                      \
    "WHERE e.kind IN ('rollout.halted', 'rollout.reverted') "                                      \
    "AND e.id > (SELECT coalesce(max(event_id), 0) FROM webhook_deliveries "                       \
    "WHERE url = $1 AND webhook_id IS NULL) "                                                      \
    "AND e.at > now() - interval '1 hour' ORDER BY e.id "                                          \
    "ON CONFLICT (url, event_id) WHERE webhook_id IS NULL DO NOTHING"

#define PAYLOAD_SQL                                                                                \
    "jsonb_build_object('id', e.id, 'at', e.at, 'kind', e.kind, 'actor', e.actor, "                \
    "'rollout_id', e.rollout_id, 'data', e.data)"

/* Events of the kinds each enabled webhook asked for, recorded after it was
 * created (or enabled again) and after its newest queued event. */
#define ENQUEUE_HOOKS_SQL                                                                          \
    "INSERT INTO webhook_deliveries (webhook_id, url, event_id, kind, payload) "                   \
    "SELECT w.id, w.url, e.id, e.kind, " PAYLOAD_SQL " FROM webhooks w JOIN events e "             \
    "ON e.kind = ANY(w.events) AND e.id > greatest(w.since_event_id, (SELECT "                     \
    "coalesce(max(x.event_id), 0) FROM webhook_deliveries x WHERE x.webhook_id = w.id)) "          \
    "WHERE w.enabled AND e.at > now() - interval '1 hour' ORDER BY e.id "                          \
    "ON CONFLICT (webhook_id, event_id) WHERE webhook_id IS NOT NULL DO NOTHING"

#define LEASE_SQL                                                                                  \
    "UPDATE webhook_deliveries SET next_attempt_at = now() + interval '60 seconds' "               \
    "WHERE id IN (SELECT id FROM webhook_deliveries WHERE state = 'pending' "                      \
    "AND next_attempt_at <= now() AND webhook_id IS NULL "                                         \
    "AND url = ANY(string_to_array($1, ',')) ORDER BY id "                                         \
    "LIMIT " RF_STR(WEBHOOK_BATCH) " FOR UPDATE SKIP LOCKED) "                                     \
                                   "RETURNING id, url, payload::text, attempts, 0, 0"

/* The due deliveries of enabled webhooks whose secret this instance's key
 * ($1: its id) derives; the attempt goes to the webhook's URL as it is now. */
#define LEASE_HOOKS_SQL                                                                            \
    "UPDATE webhook_deliveries d SET next_attempt_at = now() + interval '60 seconds', "            \
    "url = w.url FROM webhooks w WHERE w.id = d.webhook_id AND d.id IN (SELECT x.id "              \
    "FROM webhook_deliveries x JOIN webhooks y ON y.id = x.webhook_id WHERE x.state = 'pending' "  \
    "AND x.next_attempt_at <= now() AND y.enabled AND y.key_id = $1 ORDER BY x.id "                \
    "LIMIT " RF_STR(WEBHOOK_BATCH) " FOR UPDATE OF x SKIP LOCKED) "                                \
                                   "RETURNING d.id, w.url, d.payload::text, d.attempts, w.id, "    \
                                   "w.secret_generation"

#define RF_STR2(x) #x
#define RF_STR(x) RF_STR2(x)

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

/* POSTs body to url; *status gets the HTTP status (0: no answer). */
static void post(const char *url, const char *secret, long long id, const char *kind,
                 const char *body, long *status, char *errbuf)
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
    webhook_sign(secret, body, strlen(body), sig);
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
               "next_attempt_at = now() + make_interval(secs => $6::int) "
               "WHERE id = $1 AND state = 'pending'",
               6, p, &res, NULL);
    PQclear(res);
    store_release(srv->store, db);
}

/* Reads the master key file at every tick (65 bytes), so a key created on
 * first use, or given to this instance later, is taken up at once; a key
 * that is there but unusable is logged once per distinct problem, and the
 * key already held stays. */
static void load_key(rf_server *srv)
{
    rf_error e = {0};
    webhook_key k;
    rf_err rc = webhook_key_load(srv->cfg.keys_dir, &k, &e);
    if (rc == RF_OK && (!wh.key.loaded || strcmp(k.id, wh.key.id) != 0)) {
        rf_log(RF_LOG_INFO, "webhook: master key loaded", "key_id", k.id, NULL);
        wh.key = k;
        wh.key_problem[0] = '\0';
    } else if (rc != RF_OK && rc != RF_ERR_NOT_FOUND && strcmp(e.message, wh.key_problem) != 0) {
        rf_log(RF_LOG_WARN,
               "webhook: master key unusable; deliveries of API webhooks are left to "
               "instances that hold it",
               "detail", e.message, NULL);
        rf_copy_str(wh.key_problem, sizeof(wh.key_problem), e.message);
    }
    webhook_key_wipe(&k);
}

/* Queues new events and leases the due deliveries: env gets those of the
 * environment URLs, hooks those of the API's webhooks (NULL when none). */
static rf_err queue_and_lease(rf_server *srv, const char *urls, PGresult **env, PGresult **hooks)
{
    rf_db *db = NULL;
    PGresult *res = NULL;
    *env = *hooks = NULL;
    rf_err rc = store_acquire(srv->store, WEBHOOK_ACQUIRE_MS, &db);
    for (int i = 0; rc == RF_OK && i < wh.nurls; i++) {
        const char *p[] = {wh.urls[i]};
        rc = store_exec(db, "webhook_enqueue", ENQUEUE_SQL, 1, p, &res, NULL);
        PQclear(res);
        res = NULL;
    }
    if (rc == RF_OK)
        rc = store_exec(db, "webhook_enqueue_hooks", ENQUEUE_HOOKS_SQL, 0, NULL, &res, NULL);
    PQclear(res);
    const char *p[] = {urls};
    if (rc == RF_OK && wh.nurls > 0)
        rc = store_exec(db, "webhook_lease", LEASE_SQL, 1, p, env, NULL);
    const char *k[] = {wh.key.id};
    if (rc == RF_OK && wh.key.loaded)
        rc = store_exec(db, "webhook_lease_hooks", LEASE_HOOKS_SQL, 1, k, hooks, NULL);
    store_release(srv->store, db);
    return rc;
}

/* Makes one attempt at each leased row of res (see the lease queries' columns). */
static void deliver_rows(rf_server *srv, PGresult *res)
{
    for (int i = 0; res != NULL && i < PQntuples(res) && !ticker_stopping(&wh.tk); i++) {
        char errbuf[CURL_ERROR_SIZE], secret[WEBHOOK_SECRET_LEN + 1];
        long status = 0;
        long long hook = store_get_ll(res, i, 4);
        json_t *ev = json_loads(store_get(res, i, 2), 0, NULL);
        long long id = store_get_ll(res, i, 0);
        json_t *body = json_pack("{s:I, s:o*}", "delivery_id", (json_int_t)id, "event", ev);
        char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
        const char *kind = json_string_value(json_object_get(ev, "kind"));
        if (hook > 0)
            webhook_secret_derive(wh.key.key, hook, (int)store_get_ll(res, i, 5), secret);
        else
            rf_copy_str(secret, sizeof(secret), wh.secret);
        if (text != NULL)
            post(store_get(res, i, 1), secret, id, kind ? kind : "", text, &status, errbuf);
        else
            rf_snprintf(errbuf, sizeof(errbuf), "out of memory");
        explicit_bzero(secret, sizeof(secret));
        if (status == 0 && errbuf[0] == '\0')
            rf_snprintf(errbuf, sizeof(errbuf), "no answer");
        if (status > 0 && (status < 200 || status >= 300))
            rf_snprintf(errbuf, sizeof(errbuf), "HTTP %ld", status);
        record(srv, store_get(res, i, 0), (int)store_get_ll(res, i, 3) + 1, status, errbuf);
        free(text);
        json_decref(body);
    }
}

static void deliver_due(rf_server *srv, const char *urls)
{
    PGresult *env = NULL, *hooks = NULL;
    load_key(srv);
    (void)queue_and_lease(srv, urls, &env, &hooks); /* what was leased is attempted */
    deliver_rows(srv, env);
    deliver_rows(srv, hooks);
    PQclear(env);
    PQclear(hooks);
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
    if (wh.nurls > 0 && !wh.secret[0])
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
    explicit_bzero(wh.secret, sizeof(wh.secret));
    webhook_key_wipe(&wh.key);
    pthread_mutex_unlock(&wh.mu);
}

void webhook_wake(void)
{
    ticker_wake(&wh.tk);
}
