/* The health evaluator: a thread that, every eval_interval_ms, marks silent
 * devices failed, counts every started stage of every active or paused
 * rollout, halts a rollout whose stage the sequential test against the
 * control (or the absolute backstop) finds harmful (health_stat.c), promotes a stage
 * with automatic promotion once every gate passes (plan.c), and wakes
 * long-polls when rollouts, rings, pins or exclusions changed (here or on
 * another server instance) or a ring's start window opened or closed. It must never crash or stop
 * on a database error (it logs and tries again next tick), and it stops promptly. */
#include "api.h"
#include "metrics.h"
#include "rf_log.h"
#include "rf_util.h"
#include "stage_series.h"
#include "store_rollout.h"
#include "ticker.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define EVAL_MAX_LIVE 4096
#define EVAL_ACQUIRE_MS 1000

/* One evaluator per process. */
static struct evaluator {
    pthread_mutex_t mu; /* guards srv: which server the ticker runs for */
    ticker tk;
    rf_server *srv;
    char fingerprint[128];
    int have_fingerprint;
    uint64_t windows;
    int db_down;
} ev = {.mu = PTHREAD_MUTEX_INITIALIZER, .tk = TICKER_INIT};

static void note_db(rf_err rc)
{
    if (rc == RF_ERR_UNAVAILABLE && !ev.db_down) {
        rf_log(RF_LOG_WARN, "evaluator: database unavailable; retrying every tick", NULL);
        ev.db_down = 1;
    } else if (rc == RF_OK && ev.db_down) {
        rf_log(RF_LOG_INFO, "evaluator: database back", NULL);
        ev.db_down = 0;
    }
}

static void log_rollout(rf_log_level lvl, const char *msg, long long id, const char *detail)
{
    char ids[24];
    rf_snprintf(ids, sizeof(ids), "%lld", id);
    rf_log(lvl, msg, "rollout", ids, "detail", detail ? detail : "", NULL);
}

/* The first started stage whose sequential test or backstop calls for a
 * halt, with its figures in *st, or -1 (st then holds nothing useful). */
static int stage_to_halt(const store_rollout *r, health_stat *st)
{
    for (int s = 0; s <= r->sm.stage && s < r->sm.nstages; s++) {
        stage_series_stat(r, s, r->info[s].control_devices, r->info[s].control_failed, st);
        if (health_verdict_halts(st->verdict))
            return s;
    }
    return -1;
}

/* Whether every gate of the current stage passes now (the harm gate among
 * them when the policy requires "not harmful"). */
static int gates_pass(const store_rollout *r)
{
    plan_gate g[PLAN_MAX_GATES];
    int n = store_rollout_gates(r, g);
    return plan_gates_pass(g, n);
}

/* Evaluates one rollout; sets *notify when assignments changed. */
static rf_err evaluate_one(rf_db *db, long long id, int *notify)
{
    store_rollout *r = calloc(1, sizeof(*r));
    rf_error e = {0};
    int newly = 0;
    health_stat st;
    if (r == NULL)
        return RF_ERR_NOMEM;
    rf_err rc = store_rollout_get(db, id, 0, r, &e);
    if (rc == RF_OK && r->sm.state != ROLLOUT_ACTIVE && r->sm.state != ROLLOUT_PAUSED)
        goto out; /* changed since it was listed */
    if (rc == RF_OK)
        rc = store_eval_silence(db, r, &newly, &e);
    if (rc == RF_OK && newly > 0) {
        char n[16];
        rf_snprintf(n, sizeof(n), "%d", newly);
        log_rollout(RF_LOG_INFO, "evaluator: silent devices counted as failed", id, n);
        metrics_evaluator_decision(METRICS_DECIDE_SILENT, (unsigned)newly);
    }
    if (rc == RF_OK)
        rc = store_rollout_fill_counts(db, r, 1, 0, &e);
    /* The control of each stage: devices of the same rings not on the bundle,
     * failures over the stage's window. One snapshot drives the halt, the
     * harm gate, the time series and the gauges. */
    if (rc == RF_OK)
        rc = store_series_control(db, r, &e);
    if (rc != RF_OK)
        goto out;
    stage_series_record(db, r);
    metrics_decision decision = METRICS_DECIDE_HOLD;
    int halt_stage = stage_to_halt(r, &st);
    if (halt_stage >= 0) {
        rc = store_eval_halt(db, r, halt_stage, &r->info[halt_stage].counts, &st, &e);
        if (rc == RF_OK) {
            decision = METRICS_DECIDE_HALT;
            *notify = 1;
            log_rollout(RF_LOG_WARN, "evaluator: rollout halted", id,
                        health_on_halt_name(r->policy.on_halt));
        }
    } else if (rollout_should_auto_promote(&r->sm, r->now_s, gates_pass(r))) {
        rc = store_eval_promote(db, r, &e);
        if (rc == RF_OK) {
            decision = METRICS_DECIDE_PROMOTE;
            *notify = 1;
            log_rollout(RF_LOG_INFO, "evaluator: stage promoted, every gate passed", id, NULL);
        }
    }
    if (rc == RF_ERR_CONFLICT) /* another instance changed it first: next tick sees it */
        rc = RF_OK;
    metrics_evaluator_decision(rc == RF_OK ? decision : METRICS_DECIDE_ERROR, 1);
out:
    if (rc != RF_OK && rc != RF_ERR_UNAVAILABLE && rc != RF_ERR_NOT_FOUND)
        log_rollout(RF_LOG_ERROR, "evaluator: rollout not evaluated", id, e.message);
    if (rc == RF_ERR_NOT_FOUND)
        rc = RF_OK;
    store_rollout_cleanup(r);
    free(r);
    return rc;
}

/* Wakes long-polls when rollouts, rings, pins or exclusions changed since
 * the last tick, which catches changes made by other server instances, and
 * when a start window opened or closed (assignments depend on the clock
 * there, not on any row). */
static rf_err check_fingerprint(rf_db *db, int *notify)
{
    char fp[128];
    uint64_t windows = 0;
    rf_err rc = store_eval_fingerprint(db, fp, NULL);
    if (rc == RF_OK)
        rc = store_eval_windows(db, &windows, NULL);
    if (rc != RF_OK)
        return rc;
    if (ev.have_fingerprint && (strcmp(fp, ev.fingerprint) != 0 || windows != ev.windows))
        *notify = 1;
    memcpy(ev.fingerprint, fp, sizeof(fp));
    ev.windows = windows;
    ev.have_fingerprint = 1;
    return RF_OK;
}

static void tick(rf_server *srv)
{
    rf_db *db = NULL;
    long long *ids = NULL;
    int n = 0, notify = 0;
    int64_t t0 = rf_monotonic_ms();
    rf_err rc = store_acquire(srv->store, EVAL_ACQUIRE_MS, &db);
    if (rc != RF_OK)
        goto out;
    ids = malloc(EVAL_MAX_LIVE * sizeof(*ids));
    if (ids == NULL) {
        rc = RF_ERR_NOMEM;
        goto out;
    }
    rc = store_eval_live(db, ids, EVAL_MAX_LIVE, &n, NULL);
    for (int i = 0; rc == RF_OK && i < n; i++) {
        rc = evaluate_one(db, ids[i], &notify);
        if (rc != RF_ERR_UNAVAILABLE)
            rc = RF_OK; /* one bad rollout does not stop the others */
    }
    if (rc == RF_OK)
        rc = check_fingerprint(db, &notify);
out:
    if (db != NULL)
        store_release(srv->store, db);
    note_db(rc == RF_ERR_UNAVAILABLE ? rc : RF_OK);
    free(ids);
    if (notify)
        rf_server_notify(srv);
    metrics_evaluator_tick((double)(rf_monotonic_ms() - t0) / 1000.0);
}

static void evaluator_tick(void *arg)
{
    tick(arg);
}

rf_err rf_evaluator_start(rf_server *srv)
{
    rf_err rc = RF_OK;
    pthread_mutex_lock(&ev.mu);
    if (ev.srv != NULL) {
        rc = RF_ERR_CONFLICT;
        goto out;
    }
    ev.have_fingerprint = 0;
    ev.db_down = 0;
    rc = ticker_start(&ev.tk, srv->cfg.eval_interval_ms > 0 ? srv->cfg.eval_interval_ms : 1000,
                      evaluator_tick, srv);
    if (rc == RF_OK)
        ev.srv = srv;
out:
    pthread_mutex_unlock(&ev.mu);
    return rc;
}

void rf_evaluator_stop(rf_server *srv)
{
    pthread_mutex_lock(&ev.mu);
    if (srv != NULL && ev.srv == srv) {
        ticker_stop(&ev.tk);
        ev.srv = NULL;
    }
    pthread_mutex_unlock(&ev.mu);
}
