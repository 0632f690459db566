/* Flags and the `key = value` configuration file of ringfence-agent. One table
 * of keys serves both sources, so they cannot drift apart. Values are checked
 * when they are set (numbers in range, labels well-formed), every error names
 * its source line or flag, and nothing here prints the enrollment key. */
#include "config.h"
#include "rf_buf.h"
#include "rf_util.h"
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef enum key_id {
    K_SERVER,
    K_ENROLL_KEY,
    K_DATA_DIR,
    K_TRUSTED_ROOT,
    K_INSTALL_HOOK,
    K_LABEL,
    K_HEARTBEAT,
    K_HEALTH,
    K_HOOK_TIMEOUT,
    K_BOOT_ID_FILE,
    K_CRASH_DIR,
    K_HOSTNAME,
    K_LOG_LEVEL,
    K_BOOT_LIMIT,
    K_COUNT
} key_id;

static const char *const KEY_NAMES[K_COUNT] = {
    "server",    "enroll-key",         "data-dir",      "trusted-root", "install-hook",
    "label",     "heartbeat-interval", "health-window", "hook-timeout", "boot-id-file",
    "crash-dir", "hostname",           "log-level",     "boot-limit"};

static const char USAGE[] =
    "usage: ringfence-agent run [options]\n"
    "       ringfence-agent bootguard [options]   (early boot: roll back a failing trial)\n"
    "       ringfence-agent version\n"
    "\n"
    "options (a --config file takes the same keys without the dashes, `key = value`):\n"
    "  --server URL               ringfenced base URL (http:// or https://)\n"
    "  --enroll-key KEY           fleet enrollment key (or RINGFENCE_ENROLL_KEY); needed once\n"
    "  --data-dir DIR             identity, state and install slots\n"
    "  --trusted-root FILE        TUF root.json trusted at installation (keys of the\n"
    "                             repository and of the assignment director)\n"
    "  --install-hook PATH        program run to install or revert a bundle (optional)\n"
    "  --label k=v                device label at enrollment (repeatable)\n"
    "  --heartbeat-interval SEC   default 30\n"
    "  --health-window SEC        trial time after activation before commit, default 300\n"
    "  --hook-timeout SEC         default 300\n"
    "  --boot-id-file PATH        default /proc/sys/kernel/random/boot_id\n"
    "  --crash-dir DIR            repeatable; default /sys/fs/pstore and /var/crash\n"
    "  --hostname NAME            default: the system's host name\n"
    "  --boot-limit N             bootguard: unclean boots of a bundle on trial before it is\n"
    "                             rolled back locally, default 3\n"
    "  --log-level LEVEL          debug, info, warn or error; default info\n"
    "  --config FILE              read settings from FILE; flags override it\n"
    "  --help                     this text\n";

const char *config_usage(void)
{
    return USAGE;
}

void config_init(agent_config *c)
{
    memset(c, 0, sizeof(*c));
    c->log_level = RF_LOG_INFO;
    c->health_window_s = -1; /* unset: 0 is a valid choice */
}

static void free_str(char **s, bool wipe)
{
    if (*s && wipe)
        explicit_bzero(*s, strlen(*s));
    free(*s);
    *s = NULL;
}

void config_cleanup(agent_config *c)
{
    if (!c)
        return;
    free_str(&c->server, false);
    free_str(&c->enroll_key, true);
    free_str(&c->data_dir, false);
    free_str(&c->trusted_root, false);
    free_str(&c->install_hook, false);
    free_str(&c->boot_id_file, false);
    free_str(&c->hostname, false);
    for (size_t i = 0; i < c->nlabels; i++)
        free_str(&c->labels[i], false);
    for (size_t i = 0; i < c->ncrash_dirs; i++)
        free_str(&c->crash_dirs[i], false);
    c->nlabels = c->ncrash_dirs = 0;
}

static int find_key(const char *name)
{
    for (int i = 0; i < K_COUNT; i++)
        if (strcmp(KEY_NAMES[i], name) == 0)
            return i;
    return -1;
}

static rf_err set_string(char **slot, const char *v, rf_error *err)
{
    char *copy = strdup(v);

    if (!copy)
        return rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    free(*slot);
    *slot = copy;
    return RF_OK;
}

static rf_err add_label(agent_config *c, const char *v, const char *where, rf_error *err)
{
    const char *eq = strchr(v, '=');
    char key[80];
    size_t klen = eq ? (size_t)(eq - v) : 0;

    if (!eq || klen == 0 || klen >= sizeof(key))
        return rf_error_set(err, RF_ERR_INVALID, "%s: label must be k=v", where);
    memcpy(key, v, klen);
    key[klen] = '\0';
    if (!wire_label_key_valid(key))
        return rf_error_set(err, RF_ERR_INVALID, "%s: label key '%s' must be 1-64 of [a-z0-9._-]",
                            where, key);
    if (!wire_label_value_valid(eq + 1))
        return rf_error_set(err, RF_ERR_INVALID,
                            "%s: label value must be up to 128 printable characters", where);
    for (size_t i = 0; i < c->nlabels; i++)
        if (strncmp(c->labels[i], v, klen + 1) == 0)
            return rf_error_set(err, RF_ERR_INVALID, "%s: label '%s' given twice", where, key);
    if (c->nlabels == CONFIG_MAX_LABELS)
        return rf_error_set(err, RF_ERR_INVALID, "%s: more than %d labels", where,
                            CONFIG_MAX_LABELS);
    if (!(c->labels[c->nlabels] = strdup(v)))
        return rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    c->nlabels++;
    return RF_OK;
}

static rf_err add_crash_dir(agent_config *c, const char *v, const char *where, rf_error *err)
{
    if (c->ncrash_dirs == CONFIG_MAX_CRASH_DIRS)
        return rf_error_set(err, RF_ERR_INVALID, "%s: more than %d crash dirs", where,
                            CONFIG_MAX_CRASH_DIRS);
    if (!(c->crash_dirs[c->ncrash_dirs] = strdup(v)))
        return rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    c->ncrash_dirs++;
    return RF_OK;
}

static rf_err set_number(int64_t *slot, const char *v, long long min, long long max,
                         const char *where, const char *key, rf_error *err)
{
    long long x;

    if (rf_parse_ll(v, min, max, &x) != RF_OK)
        return rf_error_set(err, RF_ERR_INVALID, "%s: %s must be an integer in [%lld, %lld]", where,
                            key, min, max);
    *slot = x;
    return RF_OK;
}

static rf_err set_log_level(agent_config *c, const char *v, const char *where, rf_error *err)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};

    for (int i = 0; i < 4; i++)
        if (strcmp(v, names[i]) == 0) {
            c->log_level = (rf_log_level)i;
            return RF_OK;
        }
    return rf_error_set(err, RF_ERR_INVALID, "%s: log-level must be debug, info, warn or error",
                        where);
}

/* Sets one key. where names the source ("--server", "agent.conf line 3"). */
static rf_err set_key(agent_config *c, key_id k, const char *v, const char *where, rf_error *err)
{
    bool repeatable = k == K_LABEL || k == K_CRASH_DIR;

    if (v[0] == '\0')
        return rf_error_set(err, RF_ERR_INVALID, "%s: %s needs a value", where, KEY_NAMES[k]);
    if (!repeatable && (c->seen & (1u << k)))
        return rf_error_set(err, RF_ERR_INVALID, "%s: %s given twice", where, KEY_NAMES[k]);
    c->seen |= 1u << k;
    switch (k) {
    case K_SERVER:
        return set_string(&c->server, v, err);
    case K_ENROLL_KEY:
        free_str(&c->enroll_key, true);
        return set_string(&c->enroll_key, v, err);
    case K_DATA_DIR:
        return set_string(&c->data_dir, v, err);
    case K_TRUSTED_ROOT:
        return set_string(&c->trusted_root, v, err);
    case K_INSTALL_HOOK:
        return set_string(&c->install_hook, v, err);
    case K_BOOT_ID_FILE:
        return set_string(&c->boot_id_file, v, err);
    case K_HOSTNAME:
        return set_string(&c->hostname, v, err);
    case K_LABEL:
        return add_label(c, v, where, err);
    case K_CRASH_DIR:
        return add_crash_dir(c, v, where, err);
    case K_HEARTBEAT:
        return set_number(&c->heartbeat_interval_s, v, 1, 3600, where, KEY_NAMES[k], err);
    case K_HEALTH:
        return set_number(&c->health_window_s, v, 0, 30LL * 86400, where, KEY_NAMES[k], err);
    case K_HOOK_TIMEOUT:
        return set_number(&c->hook_timeout_s, v, 1, 86400, where, KEY_NAMES[k], err);
    case K_BOOT_LIMIT:
        return set_number(&c->boot_limit, v, 1, 100, where, KEY_NAMES[k], err);
    case K_LOG_LEVEL:
        return set_log_level(c, v, where, err);
    default:
        return rf_error_set(err, RF_ERR_INTERNAL, "unhandled key");
    }
}

static char *trim(char *s)
{
    char *e;

    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

static rf_err parse_line(agent_config *c, char *line, const char *where, rf_error *err)
{
    char *s = trim(line), *eq, *key, *val;
    int k;

    if (*s == '\0' || *s == '#')
        return RF_OK;
    if (!(eq = strchr(s, '=')))
        return rf_error_set(err, RF_ERR_INVALID, "%s: expected `key = value`", where);
    *eq = '\0';
    key = trim(s);
    val = trim(eq + 1);
    if ((k = find_key(key)) < 0)
        return rf_error_set(err, RF_ERR_INVALID, "%s: unknown key '%.64s'", where, key);
    if (c->from_flags & (1u << k))
        return RF_OK; /* the command line wins */
    return set_key(c, (key_id)k, val, where, err);
}

rf_err config_parse_text(agent_config *c, const char *text, const char *name, rf_error *err)
{
    char line[4096], where[300];
    const char *p = text;
    rf_err rc = RF_OK;
    int lineno = 0;

    c->seen = 0;
    while (*p && rc == RF_OK) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        lineno++;
        snprintf(where, sizeof(where), "%s line %d", name, lineno);
        if (len >= sizeof(line))
            return rf_error_set(err, RF_ERR_INVALID, "%s: line too long", where);
        memcpy(line, p, len);
        line[len] = '\0';
        if (strlen(line) != len)
            return rf_error_set(err, RF_ERR_INVALID, "%s: NUL byte", where);
        rc = parse_line(c, line, where, err);
        p = nl ? nl + 1 : p + len;
    }
    explicit_bzero(line, sizeof(line));
    return rc;
}

rf_err config_read_file(agent_config *c, const char *path, rf_error *err)
{
    rf_buf b;
    rf_err rc;

    rf_buf_init(&b, 256 * 1024);
    rc = rf_file_read(path, &b, err);
    if (rc == RF_OK)
        rc = config_parse_text(c, b.data ? b.data : "", path, err);
    if (b.data)
        explicit_bzero(b.data, b.len);
    rf_buf_cleanup(&b);
    return rc;
}

rf_err config_from_args(agent_config *c, int argc, char **argv, bool *help, rf_error *err)
{
    const char *config_file = NULL;
    char flag[80], where[90];
    rf_err rc;

    *help = false;
    c->seen = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *val, *eq;
        size_t n;
        int k;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            *help = true;
            return RF_OK;
        }
        if (strncmp(a, "--", 2) != 0)
            return rf_error_set(err, RF_ERR_INVALID, "unexpected argument '%.64s'", a);
        eq = strchr(a, '=');
        n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        if (n >= sizeof(flag))
            return rf_error_set(err, RF_ERR_INVALID, "unknown flag '%.64s'", a);
        memcpy(flag, a + 2, n);
        flag[n] = '\0';
        if (eq)
            val = eq + 1;
        else if (i + 1 < argc)
            val = argv[++i];
        else
            return rf_error_set(err, RF_ERR_INVALID, "--%s needs a value", flag);
        if (strcmp(flag, "config") == 0) {
            config_file = val;
            continue;
        }
        if ((k = find_key(flag)) < 0)
            return rf_error_set(err, RF_ERR_INVALID, "unknown flag '--%s'", flag);
        snprintf(where, sizeof(where), "--%s", flag);
        if ((rc = set_key(c, (key_id)k, val, where, err)) != RF_OK)
            return rc;
        c->from_flags |= 1u << k;
    }
    if (config_file)
        return config_read_file(c, config_file, err);
    return RF_OK;
}

rf_err config_finish(agent_config *c, rf_error *err)
{
#define MISSING_FMT "--%s is required (flag or config file)"
    const char *env_key = getenv("RINGFENCE_ENROLL_KEY");
    json_t *labels;
    char host[256];

    if (!c->server)
        return rf_error_set(err, RF_ERR_INVALID, MISSING_FMT, "server");
    if (!c->data_dir)
        return rf_error_set(err, RF_ERR_INVALID, MISSING_FMT, "data-dir");
    if (!c->trusted_root)
        return rf_error_set(err, RF_ERR_INVALID, MISSING_FMT, "trusted-root");
    if (strncmp(c->server, "http://", 7) != 0 && strncmp(c->server, "https://", 8) != 0)
        return rf_error_set(err, RF_ERR_INVALID, "--server must start with http:// or https://");
    if (!c->enroll_key && env_key && env_key[0] && !(c->enroll_key = strdup(env_key)))
        return rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    if (!c->heartbeat_interval_s)
        c->heartbeat_interval_s = 30;
    if (c->health_window_s < 0)
        c->health_window_s = 300;
    if (!c->hook_timeout_s)
        c->hook_timeout_s = 300;
    if (!c->boot_limit)
        c->boot_limit = 3;
    if (!c->boot_id_file && !(c->boot_id_file = strdup("/proc/sys/kernel/random/boot_id")))
        return rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    if (c->ncrash_dirs == 0 && (add_crash_dir(c, "/sys/fs/pstore", "default", err) != RF_OK ||
                                add_crash_dir(c, "/var/crash", "default", err) != RF_OK))
        return RF_ERR_NOMEM;
    labels = config_labels_json(c);
    if (!labels)
        return rf_error_set(err, RF_ERR_INVALID, "--label: values must be valid UTF-8");
    json_decref(labels);
    if (!c->hostname && gethostname(host, sizeof(host)) == 0) {
        host[sizeof(host) - 1] = '\0';
        if (!(c->hostname = strdup(host)))
            return rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    }
    return RF_OK;
}

json_t *config_labels_json(const agent_config *c)
{
    json_t *o = json_object();

    for (size_t i = 0; o && i < c->nlabels; i++) {
        const char *eq = strchr(c->labels[i], '=');
        char key[80];
        size_t n = (size_t)(eq - c->labels[i]);
        memcpy(key, c->labels[i], n);
        key[n] = '\0';
        if (json_object_set_new(o, key, json_string(eq + 1)) != 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}
