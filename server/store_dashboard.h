/* Reads behind the dashboard's views of the API (store_dashboard.c): the
 * newest event id, for the event stream, and a scan of every device with what
 * it reports per channel, for the fleet summary. Read-only. */
#ifndef RF_STORE_DASHBOARD_H
#define RF_STORE_DASHBOARD_H

#include "store.h"

/* The largest event id (0 when there is none). */
rf_err store_dash_last_event_id(rf_db *db, long long *out, rf_error *err);

/* One device with one channel it reports (channel NULL: it reports none).
 * Every pointer is borrowed for the duration of the callback only. */
typedef struct dash_fleet_row {
    const char *device_id;
    const json_t *labels;
    int bucket;
    int online;
    const char *channel; /* NULL when the device reports no channel */
    long long bundle_id; /* 0: none */
    const char *version; /* the bundle's version, NULL when none */
    const char *state;   /* reported install state, "" when none */
    long long crashes, unclean_shutdowns, local_rollbacks;
} dash_fleet_row;

typedef rf_err (*dash_fleet_cb)(void *arg, const dash_fleet_row *row, rf_error *err);

/* Calls cb for every device and reported channel, ordered by device id. A
 * callback error stops the scan and is returned. */
rf_err store_dash_fleet_scan(rf_db *db, dash_fleet_cb cb, void *arg, rf_error *err);

/* Ids of the bundles whose version is `version` (and channel, unless NULL),
 * as a new reference to a JSON array of integers. */
rf_err store_dash_bundles_of_version(rf_db *db, const char *version, const char *channel,
                                     json_t **out, rf_error *err);

#endif
