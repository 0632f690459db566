/* hook: runs the operator's install hook with fork/exec (no shell), a small
 * clean environment carrying RF_ACTION, RF_BUNDLE_PATH, RF_CHANNEL,
 * RF_VERSION, RF_BUNDLE_ID and RF_SHA256, stdin from /dev/null, and a timeout
 * after which the hook's whole process group is killed. Exit status 0 is
 * success; anything else is a failure described in the error. */
#ifndef AGENT_HOOK_H
#define AGENT_HOOK_H

#include "rf_err.h"

typedef struct hook_env {
    const char *action;      /* "install" or "revert" */
    const char *bundle_path; /* "" when reverting to no bundle */
    const char *channel;
    const char *version;   /* "" when none */
    const char *bundle_id; /* decimal, "" when none */
    const char *sha256;    /* "" when none */
} hook_env;

/* RF_OK when the hook exited 0; RF_ERR_IO when it could not be started,
 * failed, was killed or timed out (err says which). */
rf_err hook_run(const char *path, const hook_env *env, int timeout_s, rf_error *err);

#endif
