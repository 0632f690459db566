/* Unit tests for the periodic background thread (server/ticker.c): the first
 * tick runs at once, later ticks keep the interval, a wake-up brings the next
 * tick forward, stop is prompt even with a long interval and no tick runs
 * after it, a second start is refused, and stop/wake without start are safe.
 * Bounds are generous so a loaded sanitizer build does not make them flaky. */
#include "rf_util.h"
#include "ticker.h"

#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#define MAX_TICKS 64
#define LONG_MS 60000 /* an interval no test may ever wait out */

typedef struct probe {
    pthread_mutex_t mu;
    int n;
    int64_t at[MAX_TICKS];
    ticker *tk;        /* set by tests whose callback polls ticker_stopping */
    int slow_first_ms; /* the first tick lasts this long */
    int saw_stop;
} probe;

static void probe_init(probe *p)
{
    *p = (probe){.mu = PTHREAD_MUTEX_INITIALIZER};
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void on_tick(void *arg)
{
    probe *p = arg;
    pthread_mutex_lock(&p->mu);
    if (p->n < MAX_TICKS)
        p->at[p->n] = rf_monotonic_ms();
    int first = p->n++ == 0;
    pthread_mutex_unlock(&p->mu);
    if (first && p->slow_first_ms > 0)
        sleep_ms(p->slow_first_ms);
}

/* A tick that lasts until a stop is requested. */
static void on_tick_until_stop(void *arg)
{
    probe *p = arg;
    on_tick(p);
    while (!ticker_stopping(p->tk)) {
        struct timespec ts = {0, 5L * 1000000L};
        nanosleep(&ts, NULL);
    }
    pthread_mutex_lock(&p->mu);
    p->saw_stop = 1;
    pthread_mutex_unlock(&p->mu);
}

static int ticks(probe *p)
{
    pthread_mutex_lock(&p->mu);
    int n = p->n;
    pthread_mutex_unlock(&p->mu);
    return n;
}

/* Waits up to limit_ms for at least n ticks; returns the count seen. */
static int wait_ticks(probe *p, int n, int limit_ms)
{
    int64_t end = rf_monotonic_ms() + limit_ms;
    int got;
    while ((got = ticks(p)) < n && rf_monotonic_ms() < end) {
        struct timespec ts = {0, 2L * 1000000L};
        nanosleep(&ts, NULL);
    }
    return got;
}

START_TEST(test_first_tick_at_once_and_prompt_stop)
{
    ticker tk = TICKER_INIT;
    probe p;
    probe_init(&p);
    int64_t t0 = rf_monotonic_ms();
    ck_assert_int_eq(ticker_start(&tk, LONG_MS, on_tick, &p), RF_OK);
    ck_assert_int_eq(wait_ticks(&p, 1, 2000), 1);
    ck_assert_int_lt(p.at[0] - t0, 1000);
    int64_t s0 = rf_monotonic_ms();
    ticker_stop(&tk);
    ck_assert_int_lt(rf_monotonic_ms() - s0, 1000);
    sleep_ms(50);
    ck_assert_int_eq(ticks(&p), 1); /* nothing after stop, no second tick */
}
END_TEST

START_TEST(test_interval_kept)
{
    ticker tk = TICKER_INIT;
    probe p;
    probe_init(&p);
    ck_assert_int_eq(ticker_start(&tk, 100, on_tick, &p), RF_OK);
    ck_assert_int_ge(wait_ticks(&p, 4, 3000), 4);
    ticker_stop(&tk);
    int n = ticks(&p);
    ck_assert_int_ge(n, 4);
    for (int i = 1; i < n && i < MAX_TICKS; i++)
        ck_assert_int_ge(p.at[i] - p.at[i - 1], 99);
}
END_TEST

START_TEST(test_wake_brings_tick_forward)
{
    ticker tk = TICKER_INIT;
    probe p;
    probe_init(&p);
    ck_assert_int_eq(ticker_start(&tk, LONG_MS, on_tick, &p), RF_OK);
    ck_assert_int_eq(wait_ticks(&p, 1, 2000), 1);
    sleep_ms(20);
    ck_assert_int_eq(ticks(&p), 1);
    int64_t w0 = rf_monotonic_ms();
    ticker_wake(&tk);
    ck_assert_int_eq(wait_ticks(&p, 2, 2000), 2);
    ck_assert_int_lt(p.at[1] - w0, 1000);
    sleep_ms(50);
    ck_assert_int_eq(ticks(&p), 2); /* one wake, one extra tick */
    ticker_stop(&tk);
}
END_TEST

START_TEST(test_wake_during_tick_not_lost)
{
    ticker tk = TICKER_INIT;
    probe p;
    probe_init(&p);
    p.slow_first_ms = 200;
    ck_assert_int_eq(ticker_start(&tk, LONG_MS, on_tick, &p), RF_OK);
    ck_assert_int_eq(wait_ticks(&p, 1, 2000), 1);
    ticker_wake(&tk); /* while the first tick still runs */
    ticker_wake(&tk); /* wake-ups do not queue: still one more tick */
    ck_assert_int_eq(wait_ticks(&p, 2, 2000), 2);
    sleep_ms(50);
    ck_assert_int_eq(ticks(&p), 2);
    ticker_stop(&tk);
}
END_TEST

START_TEST(test_double_start_refused_and_restart)
{
    ticker tk = TICKER_INIT;
    probe p, q;
    probe_init(&p);
    probe_init(&q);
    ck_assert_int_eq(ticker_start(&tk, LONG_MS, on_tick, &p), RF_OK);
    ck_assert_int_eq(ticker_start(&tk, LONG_MS, on_tick, &q), RF_ERR_CONFLICT);
    ck_assert_int_eq(wait_ticks(&p, 1, 2000), 1);
    ticker_stop(&tk);
    ck_assert_int_eq(ticks(&q), 0);
    ck_assert_int_eq(ticker_start(&tk, LONG_MS, on_tick, &q), RF_OK);
    ck_assert_int_eq(wait_ticks(&q, 1, 2000), 1);
    ticker_stop(&tk);
    ck_assert_int_eq(ticks(&p), 1);
}
END_TEST

START_TEST(test_stop_without_start)
{
    ticker tk = TICKER_INIT;
    probe p;
    probe_init(&p);
    ticker_stop(&tk);
    ticker_wake(&tk);
    ck_assert_int_eq(ticker_stopping(&tk), 0);
    ticker_stop(NULL);
    ticker_wake(NULL);
    ck_assert_int_eq(ticker_stopping(NULL), 0);
    ck_assert_int_eq(ticker_start(NULL, 10, on_tick, &p), RF_ERR_INVALID);
    ck_assert_int_eq(ticker_start(&tk, 10, NULL, &p), RF_ERR_INVALID);
    /* Still startable afterwards, and stop twice is harmless. */
    ck_assert_int_eq(ticker_start(&tk, LONG_MS, on_tick, &p), RF_OK);
    ck_assert_int_eq(wait_ticks(&p, 1, 2000), 1);
    ticker_stop(&tk);
    ticker_stop(&tk);
    ck_assert_int_eq(ticks(&p), 1);
}
END_TEST

START_TEST(test_long_tick_sees_stop)
{
    ticker tk = TICKER_INIT;
    probe p;
    probe_init(&p);
    p.tk = &tk;
    ck_assert_int_eq(ticker_start(&tk, 10, on_tick_until_stop, &p), RF_OK);
    ck_assert_int_eq(wait_ticks(&p, 1, 2000), 1);
    sleep_ms(30);
    ck_assert_int_eq(ticks(&p), 1); /* never two callbacks at once */
    int64_t s0 = rf_monotonic_ms();
    ticker_stop(&tk);
    ck_assert_int_lt(rf_monotonic_ms() - s0, 1000);
    ck_assert_int_eq(p.saw_stop, 1);
    ck_assert_int_eq(ticks(&p), 1);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("ticker");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_first_tick_at_once_and_prompt_stop);
    tcase_add_test(tc, test_interval_kept);
    tcase_add_test(tc, test_wake_brings_tick_forward);
    tcase_add_test(tc, test_wake_during_tick_not_lost);
    tcase_add_test(tc, test_double_start_refused_and_restart);
    tcase_add_test(tc, test_stop_without_start);
    tcase_add_test(tc, test_long_tick_sees_stop);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
