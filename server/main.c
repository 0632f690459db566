/* ringfenced: the entry point. Parses the command line, then serves (the
 * default), migrates the database, creates a user token, or runs one of the
 * TUF key commands (keys_cmd.c). Bad configuration exits 2 with a message
 * naming the setting; other failures exit 1. It never prints a secret except
 * the new token, once, on the last line of `token create`. */
#include "api.h"
#include "config.h"
#include "http_internal.h"
#include "keys_cmd.h"
#include "pg_listen.h"
#include "webhook.h"
#include "assign_cache.h"
#include "auth_cache.h"
#include "hb_batch.h"
#include "hb_retention.h"
#include "rf_crypto.h"
#include "rf_log.h"
#include "rf_util.h"
#include "store_token.h"
#include "tuf_keys.h"
#include "tuf_refresh.h"
#include "validate.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_CONFIG 2
#define DRAIN_MS 5000
#define AUTH_CACHE_ENTRIES 131072  /* device tokens remembered (about 11 MiB) */
#define ASSIGN_CACHE_ENTRIES 32768 /* assignment answers remembered (about 1 KiB each) */
#define ASSIGN_CACHE_MAX_AGE_MS 30000

static const char *env_get(const char *name)
{
    return getenv(name);
}

static void fail(const char *what, const rf_error *e)
{
    fprintf(stderr, "ringfenced: %s%s%s\n", what, e && e->message[0] ? ": " : "",
            e ? e->message : "");
}

static rf_log_level level_of(const char *s)
{
    if (strcmp(s, "debug") == 0)
        return RF_LOG_DEBUG;
    if (strcmp(s, "warn") == 0)
        return RF_LOG_WARN;
    if (strcmp(s, "error") == 0)
        return RF_LOG_ERROR;
    return RF_LOG_INFO;
}

static int open_db(const rf_config *cfg, int size, rf_store **store, rf_db **db)
{
    rf_error e = {0};

    *db = NULL;
    if (store_open(cfg->database_url, size, store, &e) != RF_OK) {
        fail("cannot connect to the database", &e);
        return 1;
    }
    if (store_acquire(*store, 10000, db) != RF_OK) {
        fail("cannot connect to the database", NULL);
        store_close(*store);
        *store = NULL;
        return 1;
    }
    return 0;
}

static int cmd_migrate(const rf_config *cfg)
{
    rf_store *store = NULL;
    rf_db *db = NULL;
    rf_error e = {0};
    int code = 1;

    if (open_db(cfg, 1, &store, &db))
        return 1;
    if (store_migrate(db, &e) != RF_OK) {
        fail("migration failed", &e);
        goto out;
    }
    if (store_migrations_check(db, &e) != RF_OK) {
        fail("migration check failed", &e);
        goto out;
    }
    printf("database schema is up to date\n");
    code = 0;
out:
    store_release(store, db);
    store_close(store);
    return code;
}

static int cmd_token_create(const config_cli *cli)
{
    char token[128], hash[RF_SHA256_HEX_LEN + 1];
    rf_store *store = NULL;
    rf_db *db = NULL;
    rf_error e = {0};
    int code = 1;

    if (validate_token_name("--name", cli->name, &e) != RF_OK) {
        fprintf(stderr, "ringfenced: --name: must be 1-64 characters [A-Za-z0-9._@-]\n");
        return EXIT_CONFIG;
    }
    if (open_db(&cli->cfg, 1, &store, &db))
        return 1;
    if (store_migrations_check(db, &e) != RF_OK) {
        fail("database not ready", &e);
        goto out;
    }
    if (rf_token_new("rfu_", token, sizeof(token)) != RF_OK) {
        fail("cannot generate a token", NULL);
        goto out;
    }
    rf_sha256_hex(token, strlen(token), hash);
    if (store_token_create(db, cli->name, cli->role, hash, &e) != RF_OK) {
        fail("cannot create the token", &e);
        goto out;
    }
    printf("created %s token '%s'; it is shown once, only its SHA-256 is stored:\n", cli->role,
           cli->name);
    printf("%s\n", token);
    fflush(stdout);
    code = 0;
out:
    rf_random(token, sizeof(token)); /* do not leave the token in memory */
    store_release(store, db);
    store_close(store);
    return code;
}

static int write_port_file(const char *path, int port)
{
    char buf[16];
    rf_error e = {0};

    rf_snprintf(buf, sizeof(buf), "%d\n", port);
    if (rf_file_write_atomic(path, buf, strlen(buf), 0644, &e) != RF_OK) {
        fail("cannot write the port file", &e);
        return 1;
    }
    return 0;
}

/* Checks the schema before serving: refuses pending or newer migrations. */
static int check_schema(rf_server *srv)
{
    rf_db *db = NULL;
    rf_error e = {0};
    rf_err rc;

    if (store_acquire(srv->store, 10000, &db) != RF_OK) {
        fail("cannot connect to the database", NULL);
        return 1;
    }
    rc = store_migrations_check(db, &e);
    store_release(srv->store, db);
    if (rc != RF_OK) {
        fail("refusing to start", &e);
        return 1;
    }
    return 0;
}

/* Loads the online keys, then checks them against the stored root and
 * publishes whatever metadata is missing or due, before anything is served. */
static int load_keys(rf_server *srv)
{
    tuf_keyset *ks = NULL;
    rf_error e = {0};

    if (tuf_keyset_load(srv->cfg.keys_dir, &ks, &e) != RF_OK) {
        fprintf(stderr,
                "ringfenced: refusing to start: no usable online keys in %s (%s); run "
                "`ringfenced keys init --out DIR` first\n",
                srv->cfg.keys_dir, e.message);
        return 1;
    }
    tuf_keys_install(srv, ks);
    return 0;
}

static int check_repository(rf_server *srv)
{
    rf_error e = {0};

    if (tuf_refresh_once(srv, &e) != RF_OK) {
        fail("refusing to start", &e);
        return 1;
    }
    return 0;
}

/* Runs the server until SIGTERM or SIGINT; the signals are blocked in every
 * thread and taken here with sigwait. */
static int serve_until_signal(rf_server *srv, const char *port_file)
{
    http_server *http = NULL;
    rf_error e = {0};
    sigset_t set;
    int port = 0, sig = 0, code = 1, evaluator = 0, refresher = 0, listener = 0;
    tuf_keyset *ks = tuf_keys_get(srv);
    char portstr[16];

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (hb_batch_start(srv) != RF_OK) {
        fail("cannot start the heartbeat writers", NULL);
        return 1;
    }
    if (http_server_start(srv, &http, &port, &e) != RF_OK) {
        fail("cannot start HTTP", &e);
        hb_batch_stop();
        return 1;
    }
    rf_snprintf(portstr, sizeof(portstr), "%d", port);
    rf_log(RF_LOG_INFO, "listening", "listen", srv->cfg.listen, "port", portstr, "director_keyid",
           ks != NULL ? ks->keyid[TUF_DIRECTOR] : "", NULL);
    tuf_keyset_put(ks);
    if (port_file && port_file[0] && write_port_file(port_file, port))
        goto out;
    if (rf_evaluator_start(srv) != RF_OK) {
        fail("cannot start the health evaluator", NULL);
        goto out;
    }
    evaluator = 1;
    if (tuf_refresh_start(srv) != RF_OK) {
        fail("cannot start the TUF re-signing task", NULL);
        goto out;
    }
    refresher = 1;
    if (pg_listen_start(srv) != RF_OK) {
        fail("cannot start the change listener", NULL);
        goto out;
    }
    listener = 1;
    if (webhook_start(srv) != RF_OK) {
        fail("cannot start webhook delivery", NULL);
        goto out;
    }
    if (hb_retention_start(srv) != RF_OK) {
        fail("cannot start heartbeat partition maintenance", NULL);
        goto out;
    }
    if (!srv->cfg.enroll_key[0])
        rf_log(RF_LOG_WARN, "no enrollment key set: devices cannot enroll", NULL);
    while (sigwait(&set, &sig) != 0)
        ;
    rf_log(RF_LOG_INFO, "shutting down", "signal", sig == SIGTERM ? "SIGTERM" : "SIGINT", NULL);
    code = 0;
out:
    http_server_stop(http, DRAIN_MS);
    hb_batch_stop(); /* after HTTP: no request is left parked on it */
    if (evaluator)
        rf_evaluator_stop(srv);
    if (refresher)
        tuf_refresh_stop(srv);
    if (listener)
        pg_listen_stop(srv);
    webhook_stop(srv);
    hb_retention_stop(srv);
    return code;
}

static int cmd_serve(const config_cli *cli)
{
    rf_server *srv = calloc(1, sizeof(*srv));
    http_waiters *waiters = NULL;
    rf_error e = {0};
    sigset_t set;
    int code = 1;

    if (!srv)
        return 1;
    srv->cfg = cli->cfg;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* before any thread starts */
    signal(SIGPIPE, SIG_IGN);
    if (store_open(srv->cfg.database_url, srv->cfg.pool_size, &srv->store, &e) != RF_OK) {
        fail("cannot connect to the database", &e);
        goto out;
    }
    if (check_schema(srv) || load_keys(srv) || check_repository(srv))
        goto out;
    if (http_waiters_new(&waiters) != RF_OK) {
        fail("cannot start the long-poll ticker", NULL);
        goto out;
    }
    srv->notify_impl = waiters;
    if (auth_cache_new(AUTH_CACHE_ENTRIES, AUTH_CACHE_TTL_MS, &srv->auth_cache) != RF_OK ||
        assign_cache_new(ASSIGN_CACHE_ENTRIES, ASSIGN_CACHE_MAX_AGE_MS, &srv->assign_cache) !=
            RF_OK) {
        fail("out of memory", NULL);
        goto out;
    }
    code = serve_until_signal(srv, cli->port_file);
out:
    auth_cache_free(srv->auth_cache);
    assign_cache_free(srv->assign_cache);
    srv->notify_impl = NULL;
    http_waiters_free(waiters);
    store_close(srv->store);
    tuf_keys_install(srv, NULL); /* wipes the online keys */
    rf_random(srv->cfg.enroll_key, sizeof(srv->cfg.enroll_key));
    free(srv);
    if (code == 0)
        rf_log(RF_LOG_INFO, "stopped", NULL);
    return code;
}

int main(int argc, char **argv)
{
    config_cli cli;
    rf_error e = {0};
    int code;

    rf_log_set_component("server");
    if (config_parse(argc, argv, env_get, &cli, &e) != RF_OK) {
        fprintf(stderr, "ringfenced: %s\n", e.message);
        return EXIT_CONFIG;
    }
    if (cli.help || cli.cmd == CMD_HELP) {
        fputs(config_usage(cli.cmd), stdout);
        return 0;
    }
    if (cli.cmd == CMD_VERSION) {
        printf("ringfenced %s\n", RF_VERSION);
        return 0;
    }
    if (config_check(&cli, &e) != RF_OK) {
        fprintf(stderr, "ringfenced: %s\n", e.message);
        return EXIT_CONFIG;
    }
    rf_log_set_level(level_of(cli.cfg.log_level));
    switch (cli.cmd) {
    case CMD_MIGRATE:
        code = cmd_migrate(&cli.cfg);
        break;
    case CMD_TOKEN_CREATE:
        code = cmd_token_create(&cli);
        break;
    case CMD_KEYS_INIT:
        code = keys_cmd_init(&cli);
        break;
    case CMD_KEYS_ROTATE_ROOT:
        code = keys_cmd_rotate_root(&cli);
        break;
    case CMD_KEYS_ROTATE:
        code = keys_cmd_rotate(&cli);
        break;
    case CMD_KEYS_SHOW_ROOT:
        code = keys_cmd_show_root(&cli);
        break;
    case CMD_SERVE:
    default:
        code = cmd_serve(&cli);
        break;
    }
    /* Wipe secrets held in the configuration. */
    rf_random(cli.cfg.enroll_key, sizeof(cli.cfg.enroll_key));
    rf_random(cli.cfg.database_url, sizeof(cli.cfg.database_url));
    return code;
}
