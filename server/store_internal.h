/* Shared by the store_*.c files only (it includes libpq-fe.h). Thin helpers
 * over PQexecParams that map libpq failures to rf_err; every caller PQclear()s
 * the result it gets on every path. */
#ifndef RF_STORE_INTERNAL_H
#define RF_STORE_INTERNAL_H

#include "store.h"
#include <libpq-fe.h>

PGconn *store_conn(rf_db *db);

/* Runs a parameterized statement (text parameters, text results).
 * On RF_OK, *out holds a result with status PGRES_TUPLES_OK or
 * PGRES_COMMAND_OK (caller PQclear()s it). Otherwise *out is NULL and the
 * error is mapped: unique_violation (23505) → RF_ERR_CONFLICT, foreign key /
 * check / invalid text (23503, 23514, 22P02) → RF_ERR_INVALID, a broken
 * connection → RF_ERR_UNAVAILABLE (and the connection is marked for reset),
 * anything else → RF_ERR_INTERNAL (logged with the statement name). */
rf_err store_exec(rf_db *db, const char *stmt_name, const char *sql, int nparams,
                  const char *const *params, PGresult **out, rf_error *err);

/* Like store_exec, with per-parameter lengths and formats (1 = binary, for
 * bytea such as bundle content) and the result format (1 = binary). lengths and
 * formats may be NULL (all text). Same error mapping as store_exec. */
rf_err store_exec_params(rf_db *db, const char *stmt_name, const char *sql, int nparams,
                         const char *const *params, const int *lengths, const int *formats,
                         int result_format, PGresult **out, rf_error *err);

/* Convenience readers for a result cell; NULL-cells give NULL / 0. */
const char *store_get(const PGresult *r, int row, int col);
long long store_get_ll(const PGresult *r, int row, int col);
int store_is_null(const PGresult *r, int row, int col);

/* SQL expression rendering a timestamptz column as "2026-11-25T01:44:27Z". */
#define STORE_ISO(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

#endif
