/* Raw heartbeat partition maintenance (hb_retention.c): a background ticker
 * that keeps daily partitions of `heartbeats` created ahead (today and the
 * next HB_PARTITION_AHEAD_DAYS days) and drops partitions, idempotency keys
 * and DEFAULT-partition rows older than the configured retention. Safe with
 * several servers on one database (advisory lock in the database functions). */
#ifndef RF_HB_RETENTION_H
#define RF_HB_RETENTION_H

#include "server.h"
#include "store.h"

/* One maintenance pass on db at the database's clock: creates the coming
 * partitions, then drops what retention_days no longer keeps. */
rf_err hb_retention_run(rf_db *db, int retention_days, rf_error *err);

rf_err hb_retention_start(rf_server *srv);
void hb_retention_stop(rf_server *srv); /* waits for the thread; safe if not started */

#endif
