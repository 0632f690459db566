/* Long-poll support: the list of suspended requests, the assignment
 * generation that rf_server_notify bumps, and a ticker thread that resumes
 * requests whose deadline has passed. A connection is suspended and listed
 * under one mutex, and resumed and unlisted under the same mutex, so a wake-up
 * can never be lost between a handler's check and its suspension. It must
 * never let a suspended connection outlive the daemon: close() resumes all. */
#include "http_internal.h"
#include "rf_log.h"
#include "rf_util.h"
#include "ticker.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#define TICK_MS 100

struct http_waiters {
    pthread_mutex_t mu;
    http_waiter *head;
    size_t count;
    _Atomic uint64_t generation;
    int closing;
    ticker tk;
};

static void unlist(http_waiters *w, http_waiter *e)
{
    if (!e->listed)
        return;
    if (e->prev)
        e->prev->next = e->next;
    else
        w->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    e->prev = e->next = NULL;
    e->listed = 0;
    w->count--;
}

/* Resumes (and unlists) every waiter past its deadline, or all when all != 0.
 * Called with w->mu held. */
static void resume_locked(http_waiters *w, int all)
{
    int64_t now = rf_monotonic_ms();
    http_waiter *e = w->head;

    while (e) {
        http_waiter *next = e->next;
        if (all || e->deadline_ms <= now) {
            struct MHD_Connection *c = e->conn;
            unlist(w, e);
            MHD_resume_connection(c);
        }
        e = next;
    }
}

/* Every TICK_MS: resumes the waiters whose deadline has passed. */
static void expire_tick(void *arg)
{
    http_waiters *w = arg;

    pthread_mutex_lock(&w->mu);
    if (w->head)
        resume_locked(w, 0);
    pthread_mutex_unlock(&w->mu);
}

rf_err http_waiters_new(http_waiters **out)
{
    http_waiters *w = calloc(1, sizeof(*w));

    *out = NULL;
    if (!w)
        return RF_ERR_NOMEM;
    pthread_mutex_init(&w->mu, NULL);
    w->tk = (ticker)TICKER_INIT;
    atomic_init(&w->generation, 1);
    if (ticker_start(&w->tk, TICK_MS, expire_tick, w) != RF_OK) {
        http_waiters_free(w);
        return RF_ERR_INTERNAL;
    }
    *out = w;
    return RF_OK;
}

void http_waiters_free(http_waiters *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->closing = 1;
    if (w->head) {
        rf_log(RF_LOG_WARN, "waiters freed while requests were suspended; resuming them", NULL);
        resume_locked(w, 1);
    }
    pthread_mutex_unlock(&w->mu);
    ticker_stop(&w->tk);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

http_wait_result http_waiters_suspend(http_waiters *w, http_waiter *e, struct MHD_Connection *conn,
                                      int64_t deadline_ms, uint64_t seen_gen)
{
    int64_t now = rf_monotonic_ms();
    http_wait_result res = HTTP_WAIT_SUSPENDED;

    if (deadline_ms > now + HTTP_MAX_WAIT_MS)
        deadline_ms = now + HTTP_MAX_WAIT_MS;
    pthread_mutex_lock(&w->mu);
    if (w->closing) {
        res = HTTP_WAIT_CLOSING;
    } else if (atomic_load(&w->generation) != seen_gen || deadline_ms <= now) {
        res = HTTP_WAIT_CHANGED;
    } else {
        e->conn = conn;
        e->deadline_ms = deadline_ms;
        e->prev = NULL;
        e->next = w->head;
        if (w->head)
            w->head->prev = e;
        w->head = e;
        e->listed = 1;
        w->count++;
        MHD_suspend_connection(conn);
    }
    pthread_mutex_unlock(&w->mu);
    return res;
}

void http_waiters_forget(http_waiters *w, http_waiter *e)
{
    if (!w || !e)
        return;
    pthread_mutex_lock(&w->mu);
    unlist(w, e);
    pthread_mutex_unlock(&w->mu);
}

void http_waiters_close(http_waiters *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->closing = 1;
    resume_locked(w, 1);
    pthread_mutex_unlock(&w->mu);
}

size_t http_waiters_count(http_waiters *w)
{
    size_t n;

    if (!w)
        return 0;
    pthread_mutex_lock(&w->mu);
    n = w->count;
    pthread_mutex_unlock(&w->mu);
    return n;
}

uint64_t http_waiters_generation(http_waiters *w)
{
    return w ? atomic_load(&w->generation) : 0;
}

void rf_server_notify(rf_server *srv)
{
    http_waiters *w = srv ? srv->notify_impl : NULL;

    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    atomic_fetch_add(&w->generation, 1);
    resume_locked(w, 1);
    pthread_mutex_unlock(&w->mu);
}

uint64_t rf_server_generation(rf_server *srv)
{
    return srv ? http_waiters_generation(srv->notify_impl) : 0;
}
