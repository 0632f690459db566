/* Schema migrations: the SQL files of migrations/, embedded at build time,
 * applied in order, each in its own transaction together with its row in
 * rf_schema_migrations. A transaction-scoped advisory lock serialises
 * concurrent runs, so two `ringfenced migrate` never both apply one. It never
 * touches a database that is newer than this binary. */
#include "migrations.h"
#include "rf_log.h"
#include "rf_util.h"
#include "store_internal.h"

#include <stdlib.h>
#include <string.h>

#define MIGRATE_LOCK_KEY "7266001" /* "rf" + 1: ringfence schema migrations */

static int latest_embedded(void)
{
    int v = 0;

    for (const rf_migration *m = rf_migrations; m->version; m++)
        v = m->version;
    return v;
}

/* Runs a multi-statement script (no parameters) on db; maps failures. */
static rf_err run_script(rf_db *db, const rf_migration *m, rf_error *err)
{
    PGresult *r = PQexec(store_conn(db), m->sql);
    ExecStatusType st = PQresultStatus(r);
    rf_err rc = RF_OK;

    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
        const char *msg = PQresultErrorMessage(r);
        size_t n = strcspn(msg ? msg : "", "\n");
        if (PQstatus(store_conn(db)) != CONNECTION_OK)
            rc = rf_error_set(err, RF_ERR_UNAVAILABLE, "database unavailable");
        else
            rc = rf_error_set(err, RF_ERR_INTERNAL, "migration %04d_%s failed: %.*s", m->version,
                              m->name, (int)(n > 180 ? 180 : n), msg ? msg : "");
    }
    PQclear(r);
    return rc;
}

static rf_err lock_and_prepare(rf_db *db, rf_error *err)
{
    PGresult *r = NULL;
    rf_err rc;

    rc = store_exec(db, "migrate_lock", "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK_KEY ")", 0,
                    NULL, &r, err);
    PQclear(r);
    r = NULL;
    if (rc != RF_OK)
        return rc;
    rc = store_exec(db, "migrate_timeout", "SET LOCAL statement_timeout = 0", 0, NULL, &r, err);
    PQclear(r);
    r = NULL;
    if (rc != RF_OK)
        return rc;
    rc = store_exec(db, "migrate_table",
                    "CREATE TABLE IF NOT EXISTS rf_schema_migrations ("
                    "version integer PRIMARY KEY, name text NOT NULL, "
                    "applied_at timestamptz NOT NULL DEFAULT now())",
                    0, NULL, &r, err);
    PQclear(r);
    return rc;
}

/* Reads the applied versions in ascending order into a malloc'd array; a
 * recorded name that differs from the embedded one is a conflict. Needs the
 * table to exist. */
static rf_err read_applied(rf_db *db, int **versions, int *n, rf_error *err)
{
    PGresult *r = NULL;
    rf_err rc;
    int rows;

    *versions = NULL;
    *n = 0;
    rc = store_exec(db, "migrate_applied",
                    "SELECT version, name FROM rf_schema_migrations ORDER BY version", 0, NULL, &r,
                    err);
    if (rc != RF_OK)
        return rc;
    rows = PQntuples(r);
    *versions = calloc(rows ? (size_t)rows : 1, sizeof(int));
    if (!*versions) {
        PQclear(r);
        return rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < rows; i++) {
        int v = (int)store_get_ll(r, i, 0);
        for (const rf_migration *m = rf_migrations; m->version; m++) {
            if (m->version == v && strcmp(m->name, store_get(r, i, 1)) != 0) {
                rc = rf_error_set(err, RF_ERR_CONFLICT,
                                  "migration %04d is recorded as '%s' but this binary has '%s'", v,
                                  store_get(r, i, 1), m->name);
            }
        }
        (*versions)[i] = v;
    }
    *n = rows;
    PQclear(r);
    return rc;
}

static int contains(const int *v, int n, int x)
{
    for (int i = 0; i < n; i++)
        if (v[i] == x)
            return 1;
    return 0;
}

/* Compares applied versions with the embedded ones (see store.h). */
static rf_err compare(const int *applied, int n, rf_error *err)
{
    int latest = latest_embedded();

    if (n > 0 && applied[n - 1] > latest)
        return rf_error_set(err, RF_ERR_CONFLICT,
                            "database schema is at version %d, newer than this binary "
                            "(which knows up to %d): upgrade ringfenced",
                            applied[n - 1], latest);
    for (const rf_migration *m = rf_migrations; m->version; m++)
        if (!contains(applied, n, m->version))
            return rf_error_set(err, RF_ERR_CONFLICT,
                                "migration %04d_%s is pending: run `ringfenced migrate`",
                                m->version, m->name);
    return RF_OK;
}

static rf_err apply_one(rf_db *db, const rf_migration *m, int *applied_now, rf_error *err)
{
    char ver[16];
    const char *p[] = {ver, m->name};
    PGresult *r = NULL;
    int *applied = NULL, n = 0;
    rf_err rc;

    *applied_now = 0;
    rf_snprintf(ver, sizeof(ver), "%d", m->version);
    rc = store_begin(db);
    if (rc != RF_OK)
        return rf_error_set(err, rc, "database unavailable");
    rc = lock_and_prepare(db, err);
    if (rc == RF_OK)
        rc = read_applied(db, &applied, &n, err);
    if (rc == RF_OK && n > 0 && applied[n - 1] > latest_embedded())
        rc = compare(applied, n, err);
    if (rc != RF_OK || contains(applied, n, m->version))
        goto out;
    rc = run_script(db, m, err);
    if (rc == RF_OK)
        rc = store_exec(db, "migrate_record",
                        "INSERT INTO rf_schema_migrations (version, name) VALUES ($1::int, $2)", 2,
                        p, &r, err);
    if (rc == RF_OK)
        rc = store_commit(db);
    if (rc == RF_OK) {
        *applied_now = 1;
        rf_log(RF_LOG_INFO, "migration applied", "version", ver, "name", m->name, NULL);
    }
out:
    PQclear(r);
    free(applied);
    store_rollback(db);
    return rc;
}

rf_err store_migrate(rf_db *db, rf_error *err)
{
    rf_err rc = RF_OK;

    for (const rf_migration *m = rf_migrations; m->version && rc == RF_OK; m++) {
        int done = 0;
        rc = apply_one(db, m, &done, err);
    }
    return rc;
}

rf_err store_migrations_check(rf_db *db, rf_error *err)
{
    PGresult *r = NULL;
    int *applied = NULL, n = 0;
    rf_err rc;

    rc = store_exec(db, "migrate_exists", "SELECT to_regclass('rf_schema_migrations') IS NOT NULL",
                    0, NULL, &r, err);
    if (rc != RF_OK)
        goto out;
    if (!store_get_ll(r, 0, 0)) {
        rc = compare(NULL, 0, err);
        goto out;
    }
    rc = read_applied(db, &applied, &n, err);
    if (rc == RF_OK)
        rc = compare(applied, n, err);
out:
    PQclear(r);
    free(applied);
    return rc;
}
