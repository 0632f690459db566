/* The database pool and the one libpq wrapper every store_*.c file runs its
 * named queries through. A fixed number of connections is checked out under a
 * mutex and condition variable with a timeout; a broken connection is
 * reconnected at its next checkout, and a connection is never handed out with
 * a transaction left open. Each connection prepares the statements it runs
 * (up to STORE_PREPARED_MAX distinct texts), so a statement is parsed and
 * planned once per connection, not once per call. It never builds SQL from
 * input: parameters only. */
#include "store_internal.h"
#include "metrics.h"
#include "rf_log.h"
#include "rf_util.h"

#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STORE_STATEMENT_TIMEOUT_MS "10000"
#define STORE_CONNECT_TIMEOUT_S "5"
#define STORE_RETRY_AFTER_MS 1000 /* after a failed connect, fail fast this long */
#define STORE_PREPARED_MAX 256 /* statements prepared per connection; later ones run unprepared */

/* A statement prepared on one connection, named after the hash of its text. */
typedef struct store_prepared {
    uint64_t hash;
    char *sql; /* owned: compared in full, so a hash collision cannot mix statements */
} store_prepared;

struct rf_db {
    PGconn *conn;
    int broken;           /* reconnect before the next use */
    int64_t failed_at_ms; /* monotonic time of the last failed connect */
    store_prepared prepared[STORE_PREPARED_MAX];
    int nprepared;
};

/* Forgets the connection's prepared statements (it is being replaced). */
static void prepared_clear(rf_db *db)
{
    for (int i = 0; i < db->nprepared; i++)
        free(db->prepared[i].sql);
    db->nprepared = 0;
}

struct rf_store {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int size;
    int nfree;
    rf_db *dbs;   /* size entries */
    rf_db **free; /* stack of nfree available entries */
    char *conninfo;
};

PGconn *store_conn(rf_db *db)
{
    return db ? db->conn : NULL;
}

/* Server notices (warnings) go to the log, not to stderr as libpq would. */
static void on_notice(void *arg, const char *message)
{
    char line[200];
    size_t n = strcspn(message, "\n");

    (void)arg;
    if (n >= sizeof(line))
        n = sizeof(line) - 1;
    memcpy(line, message, n);
    line[n] = '\0';
    rf_log(RF_LOG_WARN, "database notice", "detail", line, NULL);
}

/* Connects (or reconnects) db; sets the per-session limits. */
static rf_err db_connect(rf_store *s, rf_db *db, rf_error *err)
{
    const char *keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *vals[] = {STORE_CONNECT_TIMEOUT_S, "ringfenced", s->conninfo, NULL};
    PGresult *r = NULL;
    rf_err rc = RF_OK;

    if (db->conn) {
        PQfinish(db->conn);
        db->conn = NULL;
    }
    prepared_clear(db);
    /* Entries before "dbname" may be overridden by the connection string. */
    db->conn = PQconnectdbParams(keys, vals, 1);
    if (!db->conn || PQstatus(db->conn) != CONNECTION_OK) {
        const char *m = db->conn ? PQerrorMessage(db->conn) : "out of memory";
        char msg[200];
        size_t n = strcspn(m, "\n");
        if (n >= sizeof(msg))
            n = sizeof(msg) - 1;
        memcpy(msg, m, n);
        msg[n] = '\0';
        rc = rf_error_set(err, RF_ERR_UNAVAILABLE, "database unavailable: %s", msg);
        goto out;
    }
    PQsetNoticeProcessor(db->conn, on_notice, NULL);
    r = PQexec(db->conn, "SET statement_timeout = " STORE_STATEMENT_TIMEOUT_MS
                         "; SET client_min_messages = warning");
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        rc = rf_error_set(err, RF_ERR_UNAVAILABLE, "database unavailable: cannot set timeout");
        goto out;
    }
    db->broken = 0;
out:
    PQclear(r);
    if (rc != RF_OK) {
        PQfinish(db->conn);
        db->conn = NULL;
        db->broken = 1;
        db->failed_at_ms = rf_monotonic_ms();
    }
    return rc;
}

rf_err store_open(const char *conninfo, int size, rf_store **out, rf_error *err)
{
    rf_store *s = NULL;
    pthread_condattr_t ca;
    rf_err rc = RF_OK;

    *out = NULL;
    if (size < 1 || size > 1024)
        return rf_error_set(err, RF_ERR_INVALID, "pool size %d out of range 1-1024", size);
    s = calloc(1, sizeof(*s));
    if (!s)
        return rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    s->size = size;
    s->dbs = calloc((size_t)size, sizeof(*s->dbs));
    s->free = calloc((size_t)size, sizeof(*s->free));
    s->conninfo = strdup(conninfo ? conninfo : "");
    if (!s->dbs || !s->free || !s->conninfo) {
        rc = rf_error_set(err, RF_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < size; i++) {
        s->dbs[i].broken = 1;
        s->free[i] = &s->dbs[size - 1 - i];
    }
    s->nfree = size;
    /* Connect one now so a wrong URL fails at start-up; the rest connect lazily. */
    rc = db_connect(s, &s->dbs[0], err);
    if (rc != RF_OK)
        goto out;
    *out = s;
out:
    if (rc != RF_OK)
        store_close(s);
    return rc;
}

void store_close(rf_store *s)
{
    if (!s)
        return;
    for (int i = 0; s->dbs && i < s->size; i++) {
        PQfinish(s->dbs[i].conn);
        prepared_clear(&s->dbs[i]);
    }
    free(s->dbs);
    free(s->free);
    free(s->conninfo);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static void deadline_in(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void push_free(rf_store *s, rf_db *db)
{
    pthread_mutex_lock(&s->mu);
    s->free[s->nfree++] = db;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

rf_err store_acquire(rf_store *s, int timeout_ms, rf_db **out)
{
    struct timespec until;
    rf_db *db = NULL;
    rf_err rc = RF_OK;

    int64_t t0 = rf_monotonic_ms();

    *out = NULL;
    if (!s)
        return RF_ERR_UNAVAILABLE;
    deadline_in(&until, timeout_ms < 0 ? 0 : timeout_ms);
    pthread_mutex_lock(&s->mu);
    while (s->nfree == 0) {
        if (pthread_cond_timedwait(&s->cv, &s->mu, &until) == ETIMEDOUT && s->nfree == 0)
            break;
    }
    if (s->nfree > 0)
        db = s->free[--s->nfree];
    pthread_mutex_unlock(&s->mu);
    metrics_pool_acquire((double)(rf_monotonic_ms() - t0) / 1000.0, db != NULL);
    if (!db) {
        rf_log(RF_LOG_WARN, "database pool exhausted", NULL);
        return RF_ERR_UNAVAILABLE;
    }
    if (db->conn && !db->broken && PQstatus(db->conn) != CONNECTION_OK)
        db->broken = 1;
    if (!db->conn || db->broken) {
        rf_error e = {0};
        if (db->failed_at_ms && rf_monotonic_ms() - db->failed_at_ms < STORE_RETRY_AFTER_MS) {
            rc = RF_ERR_UNAVAILABLE;
        } else {
            rc = db_connect(s, db, &e);
            if (rc != RF_OK)
                rf_log(RF_LOG_WARN, "database connect failed", "error", e.message, NULL);
        }
    }
    if (rc != RF_OK) {
        push_free(s, db);
        return rc;
    }
    *out = db;
    return RF_OK;
}

void store_pool_stats(rf_store *s, int *size, int *in_use)
{
    *size = *in_use = 0;
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    *size = s->size;
    *in_use = s->size - s->nfree;
    pthread_mutex_unlock(&s->mu);
}

void store_release(rf_store *s, rf_db *db)
{
    if (!s || !db)
        return;
    if (db->conn && !db->broken) {
        PGTransactionStatusType ts = PQtransactionStatus(db->conn);
        if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR) {
            rf_log(RF_LOG_WARN, "connection returned with an open transaction; rolled back", NULL);
            PQclear(PQexec(db->conn, "ROLLBACK"));
        } else if (ts != PQTRANS_IDLE) {
            db->broken = 1;
        }
    }
    push_free(s, db);
}

/* Maps a failed result to rf_err; see store_internal.h. */
static rf_err map_failure(rf_db *db, const char *stmt_name, const PGresult *r, rf_error *err)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *constraint = r ? PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME) : NULL;
    const char *msg = r ? PQresultErrorMessage(r) : PQerrorMessage(db->conn);

    if (PQstatus(db->conn) != CONNECTION_OK || !state || strncmp(state, "08", 2) == 0 ||
        strncmp(state, "57P", 3) == 0) {
        db->broken = 1;
        rf_log(RF_LOG_WARN, "database connection lost", "stmt", stmt_name, NULL);
        return rf_error_set(err, RF_ERR_UNAVAILABLE, "database unavailable");
    }
    if (strcmp(state, "23505") == 0)
        return rf_error_set(err, RF_ERR_CONFLICT, "conflicts with an existing row (%s)",
                            constraint ? constraint : "unique");
    if (strcmp(state, "23503") == 0 || strcmp(state, "23514") == 0 || strcmp(state, "22P02") == 0 ||
        strcmp(state, "23502") == 0 || strcmp(state, "22001") == 0 || strcmp(state, "22003") == 0)
        return rf_error_set(err, RF_ERR_INVALID, "rejected by the database (%s)",
                            constraint ? constraint : state);
    if (strcmp(state, "57014") == 0 || strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
        strcmp(state, "55P03") == 0) {
        /* Timeouts, serialization failures, deadlocks: retryable. */
        rf_log(RF_LOG_WARN, "database statement failed", "stmt", stmt_name, "sqlstate", state,
               NULL);
        return rf_error_set(err, RF_ERR_UNAVAILABLE, "database busy; try again");
    }
    {
        char line[200];
        size_t n = strcspn(msg ? msg : "", "\n");
        if (n >= sizeof(line))
            n = sizeof(line) - 1;
        memcpy(line, msg ? msg : "", n);
        line[n] = '\0';
        rf_log(RF_LOG_ERROR, "database statement failed", "stmt", stmt_name, "sqlstate", state,
               "error", line, NULL);
    }
    return rf_error_set(err, RF_ERR_INTERNAL, "internal database error (%s)", stmt_name);
}

/* FNV-1a over the statement text. */
static uint64_t sql_hash(const char *sql)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)sql; *p != '\0'; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return h;
}

/* 1 with the statement's name in name when sql is (now) prepared on db; 0
 * to run it unprepared (the table is full, or preparing failed: running it
 * then reports the error the usual way). */
static int prepare(rf_db *db, const char *sql, int nparams, char name[24])
{
    uint64_t h = sql_hash(sql);
    snprintf(name, 24, "rf_%016llx", (unsigned long long)h);
    for (int i = 0; i < db->nprepared; i++)
        if (db->prepared[i].hash == h && strcmp(db->prepared[i].sql, sql) == 0)
            return 1;
    for (int i = 0; i < db->nprepared; i++)
        if (db->prepared[i].hash == h)
            return 0; /* another text with the same name: never prepared twice */
    if (db->nprepared >= STORE_PREPARED_MAX)
        return 0;
    char *copy = strdup(sql);
    if (copy == NULL)
        return 0;
    PGresult *r = PQprepare(db->conn, name, sql, nparams, NULL);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) {
        free(copy);
        return 0;
    }
    db->prepared[db->nprepared++] = (store_prepared){.hash = h, .sql = copy};
    return 1;
}

rf_err store_exec_params(rf_db *db, const char *stmt_name, const char *sql, int nparams,
                         const char *const *params, const int *lengths, const int *formats,
                         int result_format, PGresult **out, rf_error *err)
{
    PGresult *r = NULL;
    rf_err rc = RF_OK;
    ExecStatusType st;

    *out = NULL;
    if (!db || !db->conn || db->broken)
        return rf_error_set(err, RF_ERR_UNAVAILABLE, "database unavailable");
    char name[24];
    if (prepare(db, sql, nparams, name))
        r = PQexecPrepared(db->conn, name, nparams, params, lengths, formats, result_format);
    else
        r = PQexecParams(db->conn, sql, nparams, NULL, params, lengths, formats, result_format);
    st = PQresultStatus(r);
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
        *out = r;
        return RF_OK;
    }
    rc = map_failure(db, stmt_name, r, err);
    PQclear(r);
    return rc;
}

rf_err store_exec(rf_db *db, const char *stmt_name, const char *sql, int nparams,
                  const char *const *params, PGresult **out, rf_error *err)
{
    return store_exec_params(db, stmt_name, sql, nparams, params, NULL, NULL, 0, out, err);
}

const char *store_get(const PGresult *r, int row, int col)
{
    if (!r || row >= PQntuples(r) || col >= PQnfields(r) || PQgetisnull(r, row, col))
        return NULL;
    return PQgetvalue(r, row, col);
}

long long store_get_ll(const PGresult *r, int row, int col)
{
    const char *v = store_get(r, row, col);
    long long x = 0;

    if (!v)
        return 0;
    if (strcmp(v, "t") == 0)
        return 1;
    if (rf_parse_ll(v, -0x7fffffffffffffffLL - 1, 0x7fffffffffffffffLL, &x) != RF_OK)
        return 0;
    return x;
}

int store_is_null(const PGresult *r, int row, int col)
{
    if (!r || row >= PQntuples(r) || col >= PQnfields(r))
        return 1;
    return PQgetisnull(r, row, col);
}

static rf_err simple(rf_db *db, const char *name, const char *sql)
{
    PGresult *r = NULL;
    rf_err rc = store_exec(db, name, sql, 0, NULL, &r, NULL);
    PQclear(r);
    return rc;
}

rf_err store_begin(rf_db *db)
{
    return simple(db, "begin", "BEGIN");
}

rf_err store_commit(rf_db *db)
{
    /* COMMIT of a failed transaction "succeeds" as a ROLLBACK: refuse it. */
    if (db && db->conn && PQtransactionStatus(db->conn) == PQTRANS_INERROR) {
        store_rollback(db);
        rf_log(RF_LOG_ERROR, "commit of a failed transaction", NULL);
        return RF_ERR_INTERNAL;
    }
    return simple(db, "commit", "COMMIT");
}

void store_rollback(rf_db *db)
{
    if (!db || !db->conn || db->broken)
        return;
    if (PQtransactionStatus(db->conn) == PQTRANS_IDLE)
        return;
    (void)simple(db, "rollback", "ROLLBACK");
}
