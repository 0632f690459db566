/* A periodic background thread: it runs a callback once at start, then again
 * every interval (or sooner when woken), until stopped. It exists so the
 * server's background loops share one correct start/wait/stop sequence. It
 * must never run two callbacks at once, never run one after ticker_stop
 * returns, and never make a stop wait longer than the tick in progress. */
#ifndef RINGFENCE_SERVER_TICKER_H
#define RINGFENCE_SERVER_TICKER_H

#include "rf_err.h"

#include <pthread.h>

/* Fields are private to ticker.c. A ticker must start zeroed apart from its
 * mutex: declare it `ticker t = TICKER_INIT;` (static or automatic). */
typedef struct ticker {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    int running;
    int stop;
    int woken;
    int interval_ms;
    void (*tick_cb)(void *arg);
    void *arg;
} ticker;

#define TICKER_INIT                                                                                \
    {                                                                                              \
        .mu = PTHREAD_MUTEX_INITIALIZER                                                            \
    }

/* Starts the thread: tick_cb(arg) runs at once, then interval_ms after each
 * run ends (interval_ms <= 0 means 1000). tick_cb runs on the ticker's thread
 * without any ticker lock held; arg is borrowed and must outlive ticker_stop.
 * Returns RF_ERR_CONFLICT if t is already running, RF_ERR_INVALID if t or
 * tick_cb is NULL, RF_ERR_INTERNAL if the thread cannot be created. */
rf_err ticker_start(ticker *t, int interval_ms, void (*tick_cb)(void *), void *arg);

/* Makes the next tick start now rather than at its deadline (at once if the
 * thread is waiting, right after the current tick if one is running). Does
 * nothing if t is NULL or not running. Safe from any thread, and from tick_cb. */
void ticker_wake(ticker *t);

/* Nonzero once ticker_stop has been asked for: a long tick_cb may poll it to
 * give up early. Safe from any thread; 0 for NULL. */
int ticker_stopping(ticker *t);

/* Stops the thread and waits for it: a tick in progress completes, no new one
 * starts. Afterwards t may be started again. Does nothing if t is NULL or not
 * running. Must not be called from tick_cb. */
void ticker_stop(ticker *t);

#endif
