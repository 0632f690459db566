/* Parses ringfenced's commands, flags and environment into a config_cli.
 * One table lists every setting with its flag, its environment variable and
 * its bounds, so the two sources can never drift apart. It never reads files
 * or prints: main.c reports what it returns. Secrets (the enrollment key) are
 * never echoed back in messages. */
#include "config.h"
#include "rf_util.h"

#include <stddef.h>
#include <string.h>

typedef enum setting_kind { SET_STR, SET_INT, SET_SIZE, SET_LEVEL } setting_kind;

typedef struct setting {
    const char *flag;
    const char *env;
    setting_kind kind;
    size_t offset;
    size_t size; /* of the string field */
    long long min, max;
} setting;

#define DAY_S 86400
#define TUF_EXPIRY_MAX_S (10 * 365 * DAY_S)
#define KEYS_MAX 16 /* root keys: the most one role may list (TUF_MAX_ROLE_KEYS) */

#define STR(f) SET_STR, offsetof(rf_config, f), sizeof(((rf_config *)0)->f)
#define NUM(k, f) k, offsetof(rf_config, f), 0

static const setting settings[] = {
    {"--database-url", "RINGFENCE_DATABASE_URL", STR(database_url), 0, 0},
    {"--listen", "RINGFENCE_LISTEN", STR(listen), 0, 0},
    {"--keys-dir", "RINGFENCE_KEYS_DIR", STR(keys_dir), 0, 0},
    {"--enroll-key", "RINGFENCE_ENROLL_KEY", STR(enroll_key), 0, 0},
    {"--pool-size", "RINGFENCE_POOL_SIZE", NUM(SET_INT, pool_size), 1, 256},
    {"--threads", "RINGFENCE_THREADS", NUM(SET_INT, threads), 1, 64},
    {"--max-bundle-bytes", "RINGFENCE_MAX_BUNDLE_BYTES", NUM(SET_SIZE, max_bundle), 1, 1LL << 30},
    {"--eval-interval-ms", "RINGFENCE_EVAL_INTERVAL_MS", NUM(SET_INT, eval_interval_ms), 50, 60000},
    {"--assignment-ttl-s", "RINGFENCE_ASSIGNMENT_TTL_S", NUM(SET_INT, assignment_ttl_s), 60,
     30 * 86400},
    {"--tuf-root-expiry-s", "RINGFENCE_TUF_ROOT_EXPIRY_S", NUM(SET_INT, tuf_root_expiry_s), 2,
     TUF_EXPIRY_MAX_S},
    {"--tuf-targets-expiry-s", "RINGFENCE_TUF_TARGETS_EXPIRY_S", NUM(SET_INT, tuf_targets_expiry_s),
     2, TUF_EXPIRY_MAX_S},
    {"--tuf-snapshot-expiry-s", "RINGFENCE_TUF_SNAPSHOT_EXPIRY_S",
     NUM(SET_INT, tuf_snapshot_expiry_s), 2, TUF_EXPIRY_MAX_S},
    {"--tuf-timestamp-expiry-s", "RINGFENCE_TUF_TIMESTAMP_EXPIRY_S",
     NUM(SET_INT, tuf_timestamp_expiry_s), 2, TUF_EXPIRY_MAX_S},
    {"--heartbeat-retention-days", "RINGFENCE_HEARTBEAT_RETENTION_DAYS",
     NUM(SET_INT, heartbeat_retention_days), 1, 3650},
    {"--log-level", "RINGFENCE_LOG_LEVEL", SET_LEVEL, offsetof(rf_config, log_level),
     sizeof(((rf_config *)0)->log_level), 0, 0},
};

void config_defaults(rf_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    memcpy(cfg->listen, "127.0.0.1:8080", sizeof("127.0.0.1:8080"));
    memcpy(cfg->keys_dir, "/var/lib/ringfence/keys", sizeof("/var/lib/ringfence/keys"));
    cfg->pool_size = 8;
    cfg->threads = 2;
    cfg->max_body = 1u << 20;
    cfg->max_bundle = 64u << 20;
    cfg->eval_interval_ms = 1000;
    cfg->assignment_ttl_s = 86400;
    cfg->tuf_root_expiry_s = 365 * DAY_S;
    cfg->tuf_targets_expiry_s = 90 * DAY_S;
    cfg->tuf_snapshot_expiry_s = 7 * DAY_S;
    cfg->tuf_timestamp_expiry_s = DAY_S;
    cfg->heartbeat_retention_days = 14;
    memcpy(cfg->log_level, "info", sizeof("info"));
}

static rf_err apply(rf_config *cfg, const setting *s, const char *value, rf_error *err)
{
    char *base = (char *)cfg + s->offset;
    long long x = 0;

    switch (s->kind) {
    case SET_STR:
        if (strlen(value) >= s->size)
            return rf_error_set(err, RF_ERR_INVALID, "%s / %s: longer than %zu bytes", s->flag,
                                s->env, s->size - 1);
        memcpy(base, value, strlen(value) + 1);
        return RF_OK;
    case SET_LEVEL:
        if (strcmp(value, "debug") && strcmp(value, "info") && strcmp(value, "warn") &&
            strcmp(value, "error"))
            return rf_error_set(err, RF_ERR_INVALID,
                                "%s / %s: must be one of debug, info, warn, error", s->flag,
                                s->env);
        memcpy(base, value, strlen(value) + 1);
        return RF_OK;
    case SET_INT:
    case SET_SIZE:
    default:
        if (rf_parse_ll(value, s->min, s->max, &x) != RF_OK)
            return rf_error_set(err, RF_ERR_INVALID, "%s / %s: must be an integer %lld-%lld",
                                s->flag, s->env, s->min, s->max);
        if (s->kind == SET_INT)
            *(int *)(void *)base = (int)x;
        else
            *(size_t *)(void *)base = (size_t)x;
        return RF_OK;
    }
}

static rf_err check_listen(const char *listen, rf_error *err)
{
    const char *colon = strrchr(listen, ':');
    long long port;

    if (!colon || colon == listen || rf_parse_ll(colon + 1, 0, 65535, &port) != RF_OK)
        return rf_error_set(err, RF_ERR_INVALID,
                            "--listen / RINGFENCE_LISTEN: expected HOST:PORT (port 0-65535), "
                            "e.g. 127.0.0.1:8080");
    return RF_OK;
}

static int keys_subcommand(const char *w, config_cmd *cmd)
{
    static const struct {
        const char *word;
        config_cmd cmd;
    } subs[] = {{"init", CMD_KEYS_INIT},
                {"rotate-root", CMD_KEYS_ROTATE_ROOT},
                {"rotate", CMD_KEYS_ROTATE},
                {"show-root", CMD_KEYS_SHOW_ROOT}};

    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        if (strcmp(w, subs[i].word) == 0) {
            *cmd = subs[i].cmd;
            return 1;
        }
    }
    return 0;
}

static rf_err command_word(config_cli *out, const char *w, int *nwords, rf_error *err)
{
    if (*nwords == 0) {
        if (strcmp(w, "serve") == 0)
            out->cmd = CMD_SERVE;
        else if (strcmp(w, "migrate") == 0)
            out->cmd = CMD_MIGRATE;
        else if (strcmp(w, "token") == 0)
            out->cmd = CMD_TOKEN_CREATE;
        else if (strcmp(w, "keys") == 0)
            out->cmd = CMD_KEYS_INIT;
        else if (strcmp(w, "key") == 0)
            return rf_error_set(err, RF_ERR_INVALID,
                                "'key' is gone: the server signs as a TUF repository now; see "
                                "ringfenced keys --help");
        else if (strcmp(w, "help") == 0)
            out->cmd = CMD_HELP;
        else if (strcmp(w, "version") == 0)
            out->cmd = CMD_VERSION;
        else
            return rf_error_set(err, RF_ERR_INVALID,
                                "unknown command '%.32s' (try ringfenced --help)", w);
    } else if (*nwords == 1 && out->cmd == CMD_TOKEN_CREATE && strcmp(w, "create") == 0) {
        out->cmd = CMD_TOKEN_CREATE;
    } else if (*nwords == 1 && out->cmd == CMD_KEYS_INIT && keys_subcommand(w, &out->cmd)) {
        /* keys init | rotate-root | rotate | show-root */
    } else {
        return rf_error_set(err, RF_ERR_INVALID, "unexpected argument '%.32s'", w);
    }
    (*nwords)++;
    return RF_OK;
}

/* Handles one "--flag value" or "--flag=value" at argv[*i]. */
static rf_err parse_flag(int argc, char **argv, int *i, config_cli *out, rf_error *err)
{
    const char *arg = argv[*i];
    const char *eq = strchr(arg, '=');
    size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);
    const char *value = eq ? eq + 1 : NULL;
    static const char *const cmd_flags[] = {"--port-file", "--role", "--name",      "--out",
                                            "--old",       "--new",  "--root-keys", "--threshold"};
    char *const cmd_dst[] = {out->port_file, out->role,    out->name,      out->out_dir,
                             out->old_dir,   out->new_dir, out->root_keys, out->threshold};
    const size_t cmd_size[] = {sizeof(out->port_file), sizeof(out->role),     sizeof(out->name),
                               sizeof(out->out_dir),   sizeof(out->old_dir),  sizeof(out->new_dir),
                               sizeof(out->root_keys), sizeof(out->threshold)};
    const size_t ncmd = sizeof(cmd_flags) / sizeof(cmd_flags[0]);

    if ((nlen == 6 && strncmp(arg, "--help", 6) == 0) || strcmp(arg, "-h") == 0) {
        out->help = 1;
        return RF_OK;
    }
    if (nlen == 9 && strncmp(arg, "--version", 9) == 0) {
        out->cmd = CMD_VERSION;
        return RF_OK;
    }
    if (!value && *i + 1 < argc)
        value = argv[++*i];
    for (size_t k = 0; k < sizeof(settings) / sizeof(settings[0]); k++) {
        if (strlen(settings[k].flag) != nlen || strncmp(arg, settings[k].flag, nlen) != 0)
            continue;
        if (!value)
            return rf_error_set(err, RF_ERR_INVALID, "%s: needs a value", settings[k].flag);
        return apply(&out->cfg, &settings[k], value, err);
    }
    for (size_t k = 0; k < ncmd; k++) {
        if (strlen(cmd_flags[k]) != nlen || strncmp(arg, cmd_flags[k], nlen) != 0)
            continue;
        if (!value)
            return rf_error_set(err, RF_ERR_INVALID, "%s: needs a value", cmd_flags[k]);
        return rf_snprintf(cmd_dst[k], cmd_size[k], "%s", value) == RF_OK
                   ? RF_OK
                   : rf_error_set(err, RF_ERR_INVALID, "%s: too long", cmd_flags[k]);
    }
    return rf_error_set(err, RF_ERR_INVALID, "unknown option '%.*s' (try --help)",
                        (int)(nlen > 40 ? 40 : nlen), arg);
}

rf_err config_parse(int argc, char **argv, config_getenv_fn getenv_fn, config_cli *out,
                    rf_error *err)
{
    int nwords = 0;
    rf_err rc;

    memset(out, 0, sizeof(*out));
    config_defaults(&out->cfg);
    for (size_t k = 0; getenv_fn && k < sizeof(settings) / sizeof(settings[0]); k++) {
        const char *v = getenv_fn(settings[k].env);
        if (v && *v && (rc = apply(&out->cfg, &settings[k], v, err)) != RF_OK)
            return rc;
    }
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            rc = parse_flag(argc, argv, &i, out, err);
        else
            rc = command_word(out, argv[i], &nwords, err);
        if (rc != RF_OK)
            return rc;
    }
    if (nwords == 1 && (out->cmd == CMD_TOKEN_CREATE || out->cmd == CMD_KEYS_INIT) && !out->help)
        return rf_error_set(err, RF_ERR_INVALID, "%s",
                            out->cmd == CMD_TOKEN_CREATE
                                ? "missing subcommand: ringfenced token create --role R --name N"
                                : "missing subcommand: ringfenced keys "
                                  "init|rotate-root|rotate|show-root");
    return check_listen(out->cfg.listen, err);
}

static int is_keys_cmd(config_cmd c)
{
    return c == CMD_KEYS_INIT || c == CMD_KEYS_ROTATE_ROOT || c == CMD_KEYS_ROTATE ||
           c == CMD_KEYS_SHOW_ROOT;
}

/* --root-keys N (when a count) and --threshold T: 1 <= T <= N <= KEYS_MAX. */
static rf_err check_counts(const config_cli *cli, rf_error *err)
{
    long long n = KEYS_MAX, t = 1;

    if (cli->root_keys[0] && rf_parse_ll(cli->root_keys, 1, KEYS_MAX, &n) != RF_OK)
        return rf_error_set(err, RF_ERR_INVALID, "--root-keys: must be an integer 1-%d", KEYS_MAX);
    if (cli->threshold[0] && rf_parse_ll(cli->threshold, 1, n, &t) != RF_OK)
        return rf_error_set(err, RF_ERR_INVALID,
                            "--threshold: must be an integer from 1 to the number of root keys "
                            "(%lld)",
                            n);
    return RF_OK;
}

static rf_err check_keys(const config_cli *cli, rf_error *err)
{
    config_cmd c = cli->cmd;

    if (c != CMD_KEYS_INIT && cli->out_dir[0])
        return rf_error_set(err, RF_ERR_INVALID, "--out: only for keys init");
    if (c != CMD_KEYS_ROTATE_ROOT && (cli->old_dir[0] || cli->new_dir[0]))
        return rf_error_set(err, RF_ERR_INVALID, "--old / --new: only for keys rotate-root");
    if (c != CMD_KEYS_INIT && c != CMD_KEYS_ROTATE_ROOT && cli->threshold[0])
        return rf_error_set(err, RF_ERR_INVALID,
                            "--threshold: only for keys init and keys rotate-root");
    if (!is_keys_cmd(c) && cli->root_keys[0])
        return rf_error_set(err, RF_ERR_INVALID, "--root-keys: only for keys commands");
    if (c == CMD_KEYS_INIT && !cli->out_dir[0])
        return rf_error_set(err, RF_ERR_INVALID,
                            "--out: required (the directory that receives the offline root keys)");
    if (c == CMD_KEYS_ROTATE_ROOT && (!cli->old_dir[0] || !cli->new_dir[0]))
        return rf_error_set(err, RF_ERR_INVALID,
                            "--old and --new: required (the current and the next root keys)");
    if (c == CMD_KEYS_INIT || c == CMD_KEYS_ROTATE_ROOT)
        return check_counts(cli, err);
    if (c == CMD_KEYS_ROTATE) {
        if (strcmp(cli->role, "targets") && strcmp(cli->role, "snapshot") &&
            strcmp(cli->role, "timestamp") && strcmp(cli->role, "director"))
            return rf_error_set(err, RF_ERR_INVALID,
                                "--role: must be one of targets, snapshot, timestamp, director");
        if (!cli->root_keys[0])
            return rf_error_set(err, RF_ERR_INVALID,
                                "--root-keys: required (the directory holding the root keys)");
    }
    return RF_OK;
}

rf_err config_check(const config_cli *cli, rf_error *err)
{
    const rf_config *c = &cli->cfg;
    int needs_db = cli->cmd == CMD_SERVE || cli->cmd == CMD_MIGRATE ||
                   cli->cmd == CMD_TOKEN_CREATE || is_keys_cmd(cli->cmd);
    rf_err rc;

    if (needs_db && !c->database_url[0])
        return rf_error_set(err, RF_ERR_INVALID,
                            "--database-url / RINGFENCE_DATABASE_URL: not set (a libpq "
                            "connection string, e.g. postgresql://user@127.0.0.1:5432/ringfence)");
    if ((cli->cmd == CMD_SERVE || cli->cmd == CMD_KEYS_INIT || cli->cmd == CMD_KEYS_ROTATE) &&
        !c->keys_dir[0])
        return rf_error_set(err, RF_ERR_INVALID, "--keys-dir / RINGFENCE_KEYS_DIR: not set");
    if (cli->cmd == CMD_SERVE && c->enroll_key[0] && strlen(c->enroll_key) < 8)
        return rf_error_set(err, RF_ERR_INVALID,
                            "--enroll-key / RINGFENCE_ENROLL_KEY: must be at least 8 characters");
    if (cli->cmd == CMD_TOKEN_CREATE) {
        if (strcmp(cli->role, "viewer") && strcmp(cli->role, "release") &&
            strcmp(cli->role, "admin"))
            return rf_error_set(err, RF_ERR_INVALID,
                                "--role: must be one of viewer, release, admin");
        if (!cli->name[0])
            return rf_error_set(err, RF_ERR_INVALID, "--name: required (who the token is for)");
    }
    if (cli->cmd != CMD_SERVE && cli->port_file[0])
        return rf_error_set(err, RF_ERR_INVALID, "--port-file: only for serve");
    if ((rc = check_keys(cli, err)) != RF_OK)
        return rc;
    return RF_OK;
}

const char *config_usage(config_cmd cmd)
{
    switch (cmd) {
    case CMD_MIGRATE:
        return "usage: ringfenced migrate [--database-url URL]\n"
               "Applies every pending schema migration, each in its own transaction.\n";
    case CMD_TOKEN_CREATE:
        return "usage: ringfenced token create --role viewer|release|admin --name NAME\n"
               "       [--database-url URL]\n"
               "Creates a user token and prints it once, alone on the last line.\n"
               "Only its SHA-256 is stored. NAME is 1-64 characters [A-Za-z0-9._@-].\n";
    case CMD_KEYS_INIT:
        return "usage: ringfenced keys init --out DIR [--root-keys N] [--threshold T]\n"
               "       [--keys-dir DIR] [--database-url URL]\n"
               "Creates the TUF repository: N offline root keys (default 3) as DIR/root-1.pem\n"
               "..., the online keys in --keys-dir (targets, snapshot, timestamp, director .pem,\n"
               "mode 0600) and 1.root.json signed by every root key (threshold T, default 2),\n"
               "written to DIR and stored in the database. Leaves an initialised repository\n"
               "alone. Move DIR to offline storage afterwards.\n";
    case CMD_KEYS_ROTATE_ROOT:
        return "usage: ringfenced keys rotate-root --old DIR --new DIR [--root-keys N]\n"
               "       [--threshold T] [--database-url URL]\n"
               "Writes the next root version with the root keys of --new (created there, N of\n"
               "them, when it holds none), signed by the current root's threshold from --old\n"
               "and by the new threshold; stores it and writes it to --new.\n";
    case CMD_KEYS_ROTATE:
        return "usage: ringfenced keys rotate --role targets|snapshot|timestamp|director\n"
               "       --root-keys DIR [--keys-dir DIR] [--database-url URL]\n"
               "Replaces one online key: a new key file in --keys-dir, a new root version\n"
               "naming it (signed by the root keys in DIR), and new metadata signed with it.\n"
               "Running servers that share --keys-dir pick the key up within seconds.\n";
    case CMD_KEYS_SHOW_ROOT:
        return "usage: ringfenced keys show-root [--database-url URL]\n"
               "Prints the newest root.json, the file agents trust with --trusted-root.\n";
    case CMD_SERVE:
    case CMD_HELP:
    case CMD_VERSION:
    default:
        return "usage: ringfenced [serve] [options]\n"
               "       ringfenced migrate | token create | keys init | keys rotate-root |\n"
               "                  keys rotate | keys show-root  (--help each)\n"
               "\n"
               "options (flags override the environment):\n"
               "  --database-url URL      RINGFENCE_DATABASE_URL     libpq connection string\n"
               "  --listen HOST:PORT      RINGFENCE_LISTEN           default 127.0.0.1:8080; "
               "port 0 = any\n"
               "  --port-file PATH                                   serve: write the bound "
               "port here\n"
               "  --keys-dir DIR          RINGFENCE_KEYS_DIR         holds the online keys\n"
               "  --enroll-key KEY        RINGFENCE_ENROLL_KEY       fleet enrollment key\n"
               "  --pool-size N           RINGFENCE_POOL_SIZE        database connections "
               "(8)\n"
               "  --threads N             RINGFENCE_THREADS          HTTP worker threads (2)\n"
               "  --max-bundle-bytes N    RINGFENCE_MAX_BUNDLE_BYTES bundle upload cap (64 "
               "MiB)\n"
               "  --eval-interval-ms N    RINGFENCE_EVAL_INTERVAL_MS health evaluator period "
               "(1000)\n"
               "  --assignment-ttl-s N    RINGFENCE_ASSIGNMENT_TTL_S signed assignment "
               "lifetime (86400)\n"
               "  --log-level LEVEL       RINGFENCE_LOG_LEVEL        debug|info|warn|error "
               "(info)\n"
               "  --heartbeat-retention-days N RINGFENCE_HEARTBEAT_RETENTION_DAYS raw heartbeats "
               "kept (14)\n"
               "  --tuf-root-expiry-s N   RINGFENCE_TUF_ROOT_EXPIRY_S       (31536000, 365 d)\n"
               "  --tuf-targets-expiry-s N RINGFENCE_TUF_TARGETS_EXPIRY_S   (7776000, 90 d)\n"
               "  --tuf-snapshot-expiry-s N RINGFENCE_TUF_SNAPSHOT_EXPIRY_S (604800, 7 d)\n"
               "  --tuf-timestamp-expiry-s N RINGFENCE_TUF_TIMESTAMP_EXPIRY_S (86400, 1 d)\n"
               "                          lifetimes of signed TUF metadata; the server re-signs\n"
               "                          each when less than half of it is left\n";
    }
}
