/* The database pool. store_*.c are the only files that include libpq-fe.h;
 * each holds named queries for one concern and there is no general-purpose
 * query function outside them. Connections are checked out per request and
 * returned; a broken connection is replaced. Every function that can fail
 * returns RF_ERR_UNAVAILABLE when the database is away. */
#ifndef RF_STORE_H
#define RF_STORE_H

#include "rf_err.h"
#include <jansson.h>

typedef struct rf_store rf_store; /* the pool */
typedef struct rf_db rf_db;       /* one checked-out connection */

rf_err store_open(const char *conninfo, int size, rf_store **out, rf_error *err);
void store_close(rf_store *s); /* NULL-safe */
/* Blocks up to timeout_ms for a free connection; RF_ERR_UNAVAILABLE after. */
rf_err store_acquire(rf_store *s, int timeout_ms, rf_db **out);
void store_release(rf_store *s, rf_db *db);
/* The pool's size and how many connections are checked out now (metrics). */
void store_pool_stats(rf_store *s, int *size, int *in_use);

/* Transactions on a checked-out connection. */
rf_err store_begin(rf_db *db);
rf_err store_commit(rf_db *db);
void store_rollback(rf_db *db);

/* Migrations (store_migrate.c). The SQL files of migrations/ are embedded in
 * the binary at build time, so a binary knows exactly which schema it speaks.
 * store_migrate applies every pending one in order, each in its own
 * transaction, recorded in rf_schema_migrations (version, name, applied_at). */
rf_err store_migrate(rf_db *db, rf_error *err);
/* RF_OK when the database is exactly at this binary's latest migration;
 * RF_ERR_CONFLICT with a message naming the first pending migration, or saying
 * the database is newer than this binary (and which version). */
rf_err store_migrations_check(rf_db *db, rf_error *err);

/* Events (store_event.c): appends one audit/timeline row. rollout_id 0 and
 * device_id NULL mean "none"; data is borrowed (may be NULL). Runs on db's
 * current transaction if one is open. */

rf_err store_event_add(rf_db *db, const char *kind, const char *actor, long long rollout_id,
                       const char *device_id, const json_t *data);

#endif
