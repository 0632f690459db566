/* What api_agent.c offers other route files: a device's assignment channels
 * as the assignment route computes them (for the device views). */
#ifndef RF_API_AGENT_H
#define RF_API_AGENT_H

#include "store.h"

/* The "channels" object of device_id's assignment, computed now from the
 * database through assign.c: channel → {"bundle_id", "name", "version",
 * "sha256", "length", "rollout_id", "action"}. *out is a new reference. */
rf_err api_agent_channels(rf_db *db, const char *device_id, json_t **out, rf_error *err);

#endif
