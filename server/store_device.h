/* Devices, read side (store_device.c): authentication by token hash, the
 * device list and one device with what it reports per channel, and fleet
 * counts. Enrollment and heartbeats are written by store_agent.c. */
#ifndef RF_STORE_DEVICE_H
#define RF_STORE_DEVICE_H

#include "store.h"
#include <stddef.h>

typedef struct store_device {
    char id[33];
    char hostname[256];
    json_t *labels; /* owned: object of string → string */
    int bucket;
    char enrolled[32];
    char last_seen[32]; /* "" when never seen */
    int online;         /* seen within 3 heartbeat intervals */
    /* owned, NULL unless asked for: channel → {"bundle_id", "state",
     * "target_bundle_id", "error", "updated"} as last reported */
    json_t *channels;
} store_device;

typedef struct store_device_list {
    store_device *items;
    size_t n;
} store_device_list;

/* Finds the device whose token has SHA-256 hash_hex; RF_ERR_NOT_FOUND if none. */
rf_err store_device_auth(rf_db *db, const char *hash_hex, char device_id[33], rf_error *err);

/* Every device ordered by id (at most limit), with channels when
 * with_channels != 0. The caller cleans *out up. */
rf_err store_device_list_all(rf_db *db, size_t limit, int with_channels, store_device_list *out,
                             rf_error *err);
/* Which devices a list page reads (NULL / 0 / -1: no filter) and where it
 * starts. The channel filters select a device that reports a channel
 * matching all of them (channel, install state, running bundle, running a
 * bundle of `version`). */
typedef struct store_device_filter {
    const char *channel, *state, *version;
    long long bundle_id;
    const char *labels; /* JSON object the device's labels must contain */
    int online;         /* -1: any; 0 or 1 */
    const char *after;  /* ids after this one (byte order); NULL: from the first */
    size_t limit;
} store_device_filter;

/* The devices f selects, ordered by id (keyset paging in SQL), at most
 * f->limit, each with its channels. The caller cleans *out up. */
rf_err store_device_page(rf_db *db, const store_device_filter *f, store_device_list *out,
                         rf_error *err);
/* One device with its channels; RF_ERR_NOT_FOUND if none. */
rf_err store_device_get(rf_db *db, const char *id, store_device *out, rf_error *err);
void store_device_cleanup(store_device *d);           /* NULL-safe */
void store_device_list_cleanup(store_device_list *l); /* NULL-safe */

/* Per channel and running bundle, how many devices report it:
 * {"content": [{"bundle_id": 12, "devices": 5}, {"bundle_id": null, …}]}.
 * *out is a new reference. Also fills *total and *online. */
rf_err store_device_fleet_counts(rf_db *db, json_t **out, long long *total, long long *online,
                                 rf_error *err);

#endif
