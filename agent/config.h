/* config: the agent's settings from command-line flags and an optional
 * `key = value` file (--config FILE) with the same keys; flags win, and a
 * repeatable key given as a flag replaces the file's list. Parsing is strict:
 * unknown keys, bad numbers and malformed lines are errors naming the line.
 * The enrollment key is wiped in config_cleanup and never printed. */
#ifndef AGENT_CONFIG_H
#define AGENT_CONFIG_H

#include "rf_err.h"
#include "rf_log.h"
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define CONFIG_MAX_LABELS 32
#define CONFIG_MAX_CRASH_DIRS 16

typedef struct agent_config {
    char *server, *enroll_key, *data_dir, *trusted_root, *install_hook, *boot_id_file, *hostname;
    char *labels[CONFIG_MAX_LABELS]; /* "k=v" */
    size_t nlabels;
    char *crash_dirs[CONFIG_MAX_CRASH_DIRS];
    size_t ncrash_dirs;
    int64_t heartbeat_interval_s, health_window_s, hook_timeout_s;
    int64_t boot_limit; /* bootguard: failed boots of a trial bundle tolerated */
    rf_log_level log_level;
    uint32_t from_flags; /* bit per key: set on the command line */
    uint32_t seen;       /* bit per key: set while reading the current source */
} agent_config;

void config_init(agent_config *c);
void config_cleanup(agent_config *c); /* NULL-safe; wipes the enrollment key */

/* Parses the flags that follow `run` (or `bootguard`), then the --config file if one was
 * named. *help is set (and RF_OK returned) for --help. */
rf_err config_from_args(agent_config *c, int argc, char **argv, bool *help, rf_error *err);
/* Reads `key = value` lines from text; name is used in error messages. Keys
 * set by flags are skipped. */
rf_err config_parse_text(agent_config *c, const char *text, const char *name, rf_error *err);
rf_err config_read_file(agent_config *c, const char *path, rf_error *err);
/* Applies defaults and checks that everything needed is there. */
rf_err config_finish(agent_config *c, rf_error *err);

/* The labels as a JSON object (a new reference). */
json_t *config_labels_json(const agent_config *c);
const char *config_usage(void);

#endif
