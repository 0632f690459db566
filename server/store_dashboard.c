/* Named queries behind the dashboard's views of the API: the newest event id
 * (the event stream polls it), one row per device and reported channel with
 * the bundle's version and failure counters (the fleet summary), and the
 * bundles of a version (list filters). Read-only; parameters only. */
#include "store_dashboard.h"
#include "store_internal.h"

#include <stdlib.h>

rf_err store_dash_last_event_id(rf_db *db, long long *out, rf_error *err)
{
    PGresult *r = NULL;
    rf_err rc = store_exec(db, "dash_last_event", "SELECT coalesce(max(id), 0) FROM events", 0,
                           NULL, &r, err);

    *out = rc == RF_OK ? store_get_ll(r, 0, 0) : 0;
    PQclear(r);
    return rc;
}

#define FLEET_SQL                                                                                  \
    "SELECT d.id, d.labels::text, d.bucket, "                                                      \
    "COALESCE(d.last_seen_at > now() - make_interval(secs => 3 * "                                 \
    "GREATEST(d.heartbeat_interval_s, 1)), false), "                                               \
    "c.channel, c.bundle_id, b.version, COALESCE(c.state, ''), COALESCE(c.crashes, 0), "           \
    "COALESCE(c.unclean_shutdowns, 0), COALESCE(c.local_rollbacks, 0) "                            \
    "FROM devices d LEFT JOIN device_channels c ON c.device_id = d.id "                            \
    "LEFT JOIN bundles b ON b.id = c.bundle_id ORDER BY d.id COLLATE \"C\", c.channel"

rf_err store_dash_fleet_scan(rf_db *db, dash_fleet_cb cb, void *arg, rf_error *err)
{
    PGresult *r = NULL;
    json_t *labels = NULL;
    rf_err rc = store_exec(db, "dash_fleet", FLEET_SQL, 0, NULL, &r, err);

    for (int i = 0; rc == RF_OK && i < PQntuples(r); i++) {
        dash_fleet_row row;
        labels = json_loads(store_get(r, i, 1) ? store_get(r, i, 1) : "{}", 0, NULL);
        row.device_id = store_get(r, i, 0);
        row.labels = json_is_object(labels) ? labels : NULL;
        row.bucket = (int)store_get_ll(r, i, 2);
        row.online = store_get(r, i, 3) && store_get(r, i, 3)[0] == 't';
        row.channel = store_is_null(r, i, 4) ? NULL : store_get(r, i, 4);
        row.bundle_id = store_get_ll(r, i, 5);
        row.version = store_is_null(r, i, 6) ? NULL : store_get(r, i, 6);
        row.state = store_get(r, i, 7);
        row.crashes = store_get_ll(r, i, 8);
        row.unclean_shutdowns = store_get_ll(r, i, 9);
        row.local_rollbacks = store_get_ll(r, i, 10);
        rc = cb(arg, &row, err);
        json_decref(labels);
        labels = NULL;
    }
    PQclear(r);
    return rc;
}

rf_err store_dash_bundles_of_version(rf_db *db, const char *version, const char *channel,
                                     json_t **out, rf_error *err)
{
    const char *p[] = {version, channel};
    PGresult *r = NULL;
    rf_err rc = store_exec(db, "dash_bundles_of_version",
                           "SELECT id FROM bundles WHERE version = $1 "
                           "AND ($2::text IS NULL OR channel = $2) ORDER BY id",
                           2, p, &r, err);

    *out = NULL;
    if (rc == RF_OK) {
        *out = json_array();
        for (int i = 0; i < PQntuples(r); i++)
            json_array_append_new(*out, json_integer(store_get_ll(r, i, 0)));
    }
    PQclear(r);
    return rc;
}
