/* The periodic background thread behind the evaluator, the TUF refresher,
 * webhook delivery and the long-poll expiry (see ticker.h): one mutex and one
 * CLOCK_MONOTONIC condition variable per ticker, so wall-clock jumps never
 * shorten or stretch an interval. It must never hold its mutex while the
 * callback runs, and never lose a stop or a wake-up that arrives meanwhile. */
#include "ticker.h"

#include <time.h>

static void deadline_after(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void *ticker_main(void *arg)
{
    ticker *t = arg;

    pthread_mutex_lock(&t->mu);
    while (!t->stop) {
        struct timespec until;
        t->woken = 0;
        pthread_mutex_unlock(&t->mu);
        t->tick_cb(t->arg);
        pthread_mutex_lock(&t->mu);
        deadline_after(&until, t->interval_ms);
        while (!t->stop && !t->woken && pthread_cond_timedwait(&t->cv, &t->mu, &until) == 0)
            ; /* spurious wake-up: keep waiting for the deadline */
    }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

rf_err ticker_start(ticker *t, int interval_ms, void (*tick_cb)(void *), void *arg)
{
    pthread_condattr_t ca;
    rf_err rc = RF_OK;

    if (t == NULL || tick_cb == NULL)
        return RF_ERR_INVALID;
    pthread_mutex_lock(&t->mu);
    if (t->running) {
        rc = RF_ERR_CONFLICT;
        goto out;
    }
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&t->cv, &ca);
    pthread_condattr_destroy(&ca);
    t->stop = 0;
    t->woken = 0;
    t->interval_ms = interval_ms > 0 ? interval_ms : 1000;
    t->tick_cb = tick_cb;
    t->arg = arg;
    if (pthread_create(&t->thread, NULL, ticker_main, t) != 0) {
        pthread_cond_destroy(&t->cv);
        rc = RF_ERR_INTERNAL;
        goto out;
    }
    t->running = 1;
out:
    pthread_mutex_unlock(&t->mu);
    return rc;
}

void ticker_wake(ticker *t)
{
    if (t == NULL)
        return;
    pthread_mutex_lock(&t->mu);
    if (t->running) {
        t->woken = 1;
        pthread_cond_broadcast(&t->cv);
    }
    pthread_mutex_unlock(&t->mu);
}

int ticker_stopping(ticker *t)
{
    int stop;
    if (t == NULL)
        return 0;
    pthread_mutex_lock(&t->mu);
    stop = t->stop;
    pthread_mutex_unlock(&t->mu);
    return stop;
}

void ticker_stop(ticker *t)
{
    if (t == NULL)
        return;
    pthread_mutex_lock(&t->mu);
    if (!t->running || t->stop) {
        pthread_mutex_unlock(&t->mu);
        return;
    }
    t->stop = 1;
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
    pthread_join(t->thread, NULL);
    pthread_mutex_lock(&t->mu);
    t->running = 0;
    pthread_cond_destroy(&t->cv);
    pthread_mutex_unlock(&t->mu);
}
