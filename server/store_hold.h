/* Holds (store_hold.c): pins, which keep a device or every device of a ring
 * at one bundle of a channel, and exclusions, which keep a device out of
 * every rollout. assign.c decides what they do to an assignment; these
 * functions only keep them, each change with its audit event (before and
 * after) in one transaction. */
#ifndef RF_STORE_HOLD_H
#define RF_STORE_HOLD_H

#include "store.h"

/* Pins as a JSON array (new reference) of {"id", "channel", "bundle_id",
 * "device_id", "ring_id", "ring", "reason", "created", "created_by"}, by id.
 * Filters: channel (NULL: any); device_id and ring_id (NULL / 0: any) — when
 * both are given, pins of the device or of the ring. */
rf_err store_hold_pins(rf_db *db, const char *channel, const char *device_id, long long ring_id,
                       json_t **out, rf_error *err);

/* Adds a pin of device_id (or, when NULL, of ring_id) on channel at
 * bundle_id (0: the bundle of the channel's latest completed rollout).
 * RF_ERR_NOT_FOUND for an unknown device, ring or bundle; RF_ERR_INVALID for
 * a bundle of another channel; RF_ERR_CONFLICT when the device or ring
 * already has a pin on the channel, or no default bundle exists. *pin_out:
 * the new pin (new reference). Records pin.created. */
rf_err store_hold_pin_add(rf_db *db, const char *channel, const char *device_id, long long ring_id,
                          long long bundle_id, const char *reason, const char *actor,
                          json_t **pin_out, rf_error *err);
/* Removes pin id (RF_ERR_NOT_FOUND if none); *pin_out: the removed pin.
 * Records pin.deleted. */
rf_err store_hold_pin_delete(rf_db *db, long long id, const char *actor, json_t **pin_out,
                             rf_error *err);

/* Exclusions as a JSON array (new reference) of {"device_id", "reason",
 * "created", "created_by"}; device_id NULL: all of them. */
rf_err store_hold_exclusions(rf_db *db, const char *device_id, json_t **out, rf_error *err);
/* Excludes a device (RF_ERR_NOT_FOUND: no such device; RF_ERR_CONFLICT:
 * already excluded); records device.excluded. */
rf_err store_hold_exclude(rf_db *db, const char *device_id, const char *reason, const char *actor,
                          json_t **out, rf_error *err);
/* Ends an exclusion (RF_ERR_NOT_FOUND if none); records device.included. */
rf_err store_hold_include(rf_db *db, const char *device_id, const char *actor, json_t **out,
                          rf_error *err);

#endif
