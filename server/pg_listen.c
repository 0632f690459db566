/* The change listener (see pg_listen.h): connect, LISTEN, wake long-polls on
 * every notification, and on any connection trouble reconnect with back-off;
 * after every (re)connection it wakes long-polls too, because notifications
 * sent while it was away are lost and waiters must re-read their state. It
 * never touches the pool, never blocks longer than LISTEN_POLL_MS between
 * checks of its stop flag, and never stops on a database error. */
#include "pg_listen.h"
#include "assign_cache.h"
#include "rf_log.h"
#include "store_agent.h"

#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#define LISTEN_POLL_MS 250
#define LISTEN_RETRY_MAX_MS 5000

static struct {
    pthread_mutex_t mu;
    pthread_t thread;
    int running;
    _Atomic int stop;
    rf_server *srv;
} lt = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void sleep_checked(int ms)
{
    for (int waited = 0; waited < ms && !lt.stop; waited += LISTEN_POLL_MS) {
        struct timespec ts = {0, (long)LISTEN_POLL_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static PGconn *connect_and_listen(const char *url)
{
    PGconn *c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK) {
        PQfinish(c);
        return NULL;
    }
    PGresult *r = PQexec(c, "LISTEN " PG_LISTEN_CHANNEL "; LISTEN " STORE_DEVICES_CHANNEL);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) {
        PQfinish(c);
        return NULL;
    }
    return c;
}

/* Drops the cached assignment answers of the devices named in payload
 * ("id,id,…"); the generation is left alone, so no long-poll wakes up. */
static void forget_devices(rf_server *srv, const char *payload)
{
    char id[64];
    while (payload != NULL && *payload != '\0') {
        size_t n = strcspn(payload, ",");
        if (n > 0 && n < sizeof(id)) {
            memcpy(id, payload, n);
            id[n] = '\0';
            assign_cache_forget(srv->assign_cache, id);
        }
        payload += n + (payload[n] == ',');
    }
}

/* Waits for notifications until the connection fails or stop is set. */
static void listen_loop(rf_server *srv, PGconn *c)
{
    while (!lt.stop) {
        struct pollfd pfd = {.fd = PQsocket(c), .events = POLLIN};
        if (pfd.fd < 0 || poll(&pfd, 1, LISTEN_POLL_MS) < 0)
            return;
        if (pfd.revents == 0)
            continue;
        if (!PQconsumeInput(c))
            return;
        int got = 0;
        PGnotify *n;
        while ((n = PQnotifies(c)) != NULL) {
            if (strcmp(n->relname, STORE_DEVICES_CHANNEL) == 0)
                forget_devices(srv, n->extra);
            else
                got = 1;
            PQfreemem(n);
        }
        if (got)
            rf_server_notify(srv);
    }
}

static void *listen_main(void *arg)
{
    rf_server *srv = arg;
    int backoff = LISTEN_POLL_MS, warned = 0;
    while (!lt.stop) {
        PGconn *c = connect_and_listen(srv->cfg.database_url);
        if (c == NULL) {
            if (!warned++)
                rf_log(RF_LOG_WARN, "change listener: cannot listen; retrying", NULL);
            sleep_checked(backoff);
            backoff = backoff * 2 > LISTEN_RETRY_MAX_MS ? LISTEN_RETRY_MAX_MS : backoff * 2;
            continue;
        }
        if (warned)
            rf_log(RF_LOG_INFO, "change listener: listening again", NULL);
        warned = 0;
        backoff = LISTEN_POLL_MS;
        rf_server_notify(srv); /* changes missed while away: waiters re-read */
        listen_loop(srv, c);
        PQfinish(c);
    }
    return NULL;
}

rf_err pg_listen_start(rf_server *srv)
{
    rf_err rc = RF_OK;
    pthread_mutex_lock(&lt.mu);
    if (lt.running) {
        rc = RF_ERR_CONFLICT;
        goto out;
    }
    lt.stop = 0;
    lt.srv = srv;
    if (pthread_create(&lt.thread, NULL, listen_main, srv) != 0) {
        rc = RF_ERR_INTERNAL;
        goto out;
    }
    lt.running = 1;
out:
    pthread_mutex_unlock(&lt.mu);
    return rc;
}

void pg_listen_stop(rf_server *srv)
{
    pthread_mutex_lock(&lt.mu);
    if (!lt.running || lt.srv != srv) {
        pthread_mutex_unlock(&lt.mu);
        return;
    }
    lt.stop = 1;
    pthread_join(lt.thread, NULL);
    lt.running = 0;
    lt.srv = NULL;
    pthread_mutex_unlock(&lt.mu);
}
