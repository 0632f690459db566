/* Heartbeat partition maintenance: creates the coming daily partitions of
 * `heartbeats` and drops the ones (and the idempotency keys) the retention no
 * longer keeps, once at start and then every few minutes. The day arithmetic
 * is in hb_partition.c; DDL runs only inside the migration's database
 * functions, which take an advisory lock so servers sharing a database never
 * race. It must never drop the DEFAULT partition or a day the retention keeps. */
#include "hb_retention.h"
#include "hb_partition.h"
#include "store_internal.h"
#include "ticker.h"
#include "rf_log.h"
#include "rf_util.h"

#include <stdlib.h>

#define RETENTION_TICK_MS (5 * 60 * 1000)
#define RETENTION_ACQUIRE_MS 2000

static ticker hb_tk = TICKER_INIT;

static rf_err db_now(rf_db *db, int64_t *now_s, rf_error *err)
{
    PGresult *res = NULL;
    rf_err rc = store_exec(db, "hbr_now", "SELECT floor(extract(epoch FROM now()))::bigint", 0,
                           NULL, &res, err);
    if (rc == RF_OK)
        *now_s = store_get_ll(res, 0, 0);
    PQclear(res);
    return rc;
}

static rf_err ensure_day(rf_db *db, int64_t day, rf_error *err)
{
    hb_partition p;
    PGresult *res = NULL;
    if (hb_partition_of_day(day, &p) != 0)
        return rf_error_set(err, RF_ERR_INTERNAL, "heartbeat partition day out of range");
    const char *params[] = {p.name, p.lo, p.hi};
    rf_err rc = store_begin(db);
    if (rc == RF_OK)
        rc = store_exec(db, "hbr_ensure",
                        "SELECT rf_heartbeat_partition_ensure($1, $2::timestamptz, "
                        "$3::timestamptz)",
                        3, params, &res, err);
    PQclear(res);
    if (rc == RF_OK)
        rc = store_commit(db);
    if (rc != RF_OK)
        store_rollback(db);
    return rc;
}

static rf_err drop_name(rf_db *db, const char *name, rf_error *err)
{
    const char *params[] = {name};
    PGresult *res = NULL;
    rf_err rc = store_begin(db);
    if (rc == RF_OK)
        rc = store_exec(db, "hbr_drop", "SELECT rf_heartbeat_partition_drop($1)", 1, params, &res,
                        err);
    PQclear(res);
    if (rc == RF_OK)
        rc = store_commit(db);
    if (rc != RF_OK)
        store_rollback(db);
    if (rc == RF_OK)
        rf_log(RF_LOG_INFO, "heartbeat partition dropped", "partition", name, NULL);
    return rc;
}

/* Drops every partition of a day before keep_from, then older keys and rows. */
static rf_err drop_old(rf_db *db, int64_t keep_from, rf_error *err)
{
    PGresult *res = NULL, *r2 = NULL;
    hb_partition cut;
    if (hb_partition_of_day(keep_from, &cut) != 0)
        return rf_error_set(err, RF_ERR_INTERNAL, "heartbeat retention day out of range");
    rf_err rc = store_exec(db, "hbr_list",
                           "SELECT c.relname FROM pg_inherits i JOIN pg_class c "
                           "ON c.oid = i.inhrelid WHERE i.inhparent = 'heartbeats'::regclass "
                           "ORDER BY 1",
                           0, NULL, &res, err);
    for (int i = 0; rc == RF_OK && i < PQntuples(res); i++) {
        int64_t day;
        const char *name = store_get(res, i, 0);
        if (hb_partition_parse(name, &day) == 0 && day < keep_from)
            rc = drop_name(db, name, err);
    }
    PQclear(res);
    const char *params[] = {cut.lo};
    if (rc == RF_OK)
        rc = store_exec(db, "hbr_keys", "DELETE FROM heartbeat_keys WHERE received_at < $1", 1,
                        params, &r2, err);
    PQclear(r2);
    r2 = NULL;
    if (rc == RF_OK)
        rc = store_exec(db, "hbr_default", "DELETE FROM heartbeats_default WHERE received_at < $1",
                        1, params, &r2, err);
    PQclear(r2);
    return rc;
}

rf_err hb_retention_run(rf_db *db, int retention_days, rf_error *err)
{
    int64_t now_s = 0;
    rf_err rc = db_now(db, &now_s, err);
    int64_t today = hb_partition_day(now_s);
    for (int64_t d = today; rc == RF_OK && d <= today + HB_PARTITION_AHEAD_DAYS; d++)
        rc = ensure_day(db, d, err);
    if (rc == RF_OK)
        rc = drop_old(db, hb_partition_keep_from(now_s, retention_days), err);
    return rc;
}

static void retention_tick(void *arg)
{
    rf_server *srv = arg;
    rf_db *db = NULL;
    rf_error e = {0};
    if (store_acquire(srv->store, RETENTION_ACQUIRE_MS, &db) != RF_OK) {
        rf_log(RF_LOG_WARN, "heartbeat partitions: database unavailable", NULL);
        return;
    }
    int days = srv->cfg.heartbeat_retention_days > 0 ? srv->cfg.heartbeat_retention_days
                                                     : HB_RETENTION_DEFAULT_DAYS;
    if (hb_retention_run(db, days, &e) != RF_OK)
        rf_log(RF_LOG_WARN, "heartbeat partition maintenance failed", "error", e.message, NULL);
    store_release(srv->store, db);
}

rf_err hb_retention_start(rf_server *srv)
{
    return ticker_start(&hb_tk, RETENTION_TICK_MS, retention_tick, srv);
}

void hb_retention_stop(rf_server *srv)
{
    (void)srv;
    ticker_stop(&hb_tk);
}
