/* state: the agent's files in the data dir that must survive restarts —
 * state.json (everything the protocol state machine needs to resume, plus the
 * crash-dir snapshot) and identity.json (device id and token). Both are
 * written atomically (temp file, fsync, rename, fsync of the dir) with mode
 * 0600. A state file that cannot be parsed is an error naming the field, never
 * a silent reset. The token is never logged and is wiped after use. */
#ifndef AGENT_STATE_H
#define AGENT_STATE_H

#include "boot.h"
#include "proto.h"
#include "rf_err.h"
#include "wire.h"
#include <jansson.h>

#define STATE_FORMAT 1
#define STATE_MAX_BYTES (4 * 1024 * 1024)

/* The state as JSON (a new reference; NULL on allocation failure). */
json_t *state_encode(const proto *p, const boot_crashset *crashes);
/* Fills the persistent fields of p (already proto_init()ed, no channels) and
 * crashes (empty) from root. On error p and crashes may be partly filled: the
 * caller cleans them up. Unknown and missing fields are errors. */
rf_err state_decode(const json_t *root, proto *p, boot_crashset *crashes, rf_error *err);

/* RF_ERR_NOT_FOUND when path does not exist (a first start); any other error
 * means the file exists but cannot be trusted. */
rf_err state_load(const char *path, proto *p, boot_crashset *crashes, rf_error *err);
rf_err state_save(const char *path, const proto *p, const boot_crashset *crashes, rf_error *err);

typedef struct state_identity {
    char device_id[PROTO_DEVICE_ID_LEN + 1];
    char token[WIRE_TOKEN_MAX];
} state_identity;

/* RF_ERR_NOT_FOUND when not enrolled yet. */
rf_err state_identity_load(const char *path, state_identity *id, rf_error *err);
rf_err state_identity_save(const char *path, const state_identity *id, rf_error *err);
void state_identity_wipe(state_identity *id); /* NULL-safe */

#endif
