/* ringfenced's command line and configuration (config.c): defaults, then
 * the environment, then flags, which win. Pure: the environment is read
 * through a callback so tests can drive every case. Every refusal names the
 * setting ("--pool-size / RINGFENCE_POOL_SIZE: must be an integer 1-256"). */
#ifndef RF_CONFIG_H
#define RF_CONFIG_H

#include "server.h"

typedef enum config_cmd {
    CMD_SERVE = 0,
    CMD_MIGRATE,
    CMD_TOKEN_CREATE,
    CMD_KEYS_INIT,        /* keys init --out DIR [--root-keys N --threshold T] */
    CMD_KEYS_ROTATE_ROOT, /* keys rotate-root --old DIR --new DIR [--root-keys N --threshold T] */
    CMD_KEYS_ROTATE,      /* keys rotate --role R --root-keys DIR */
    CMD_KEYS_SHOW_ROOT,   /* keys show-root */
    CMD_HELP,
    CMD_VERSION,
} config_cmd;

typedef struct config_cli {
    rf_config cfg;
    config_cmd cmd;
    int help;            /* --help: print the command's usage and exit 0 */
    char port_file[512]; /* serve: write the bound port here */
    char role[16];       /* token create: the user role; keys rotate: the TUF role */
    char name[128];      /* token create */
    char out_dir[512];   /* keys init --out */
    char old_dir[512];   /* keys rotate-root --old */
    char new_dir[512];   /* keys rotate-root --new */
    char root_keys[512]; /* --root-keys: a count (init, rotate-root) or a directory (rotate) */
    char threshold[16];  /* --threshold */
} config_cli;

typedef const char *(*config_getenv_fn)(const char *name);

void config_defaults(rf_config *cfg);
/* Fills *out from defaults, getenv_fn (may be NULL: no environment) and
 * argv[1..argc). RF_ERR_INVALID with a message naming the setting. */
rf_err config_parse(int argc, char **argv, config_getenv_fn getenv_fn, config_cli *out,
                    rf_error *err);
/* Checks that the settings the command needs are present. */
rf_err config_check(const config_cli *cli, rf_error *err);
/* The usage text of cmd (static). */
const char *config_usage(config_cmd cmd);

#endif
