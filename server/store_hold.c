/* Named queries for pins and exclusions (see store_hold.h). Each write
 * runs in one transaction with its event, checks what it refers to first so
 * the answer names the missing thing, and relies on the unique indexes of
 * migrations/0003_plans.sql for "one pin per device (or ring) and channel". */
#include "store_hold.h"
#include "store_internal.h"
#include "rf_util.h"

#include <stdlib.h>
#include <string.h>

#define PIN_SQL                                                                                    \
    "SELECT p.id, p.channel, p.bundle_id, p.device_id, p.ring_id, g.name, p.reason, "              \
    "" STORE_ISO(                                                                                  \
        "p.created_at") ", p.created_by FROM pins p LEFT JOIN rings g ON g.id = p.ring_id "
#define EXCL_SQL                                                                                   \
    "SELECT device_id, reason, " STORE_ISO("created_at") ", created_by FROM exclusions "

static json_t *pin_of(const PGresult *r, int i)
{
    return json_pack(
        "{s:I, s:s, s:I, s:o, s:o, s:o, s:s, s:s, s:s}", "id", (json_int_t)store_get_ll(r, i, 0),
        "channel", store_get(r, i, 1), "bundle_id", (json_int_t)store_get_ll(r, i, 2), "device_id",
        store_is_null(r, i, 3) ? json_null() : json_string(store_get(r, i, 3)), "ring_id",
        store_is_null(r, i, 4) ? json_null() : json_integer(store_get_ll(r, i, 4)), "ring",
        store_is_null(r, i, 5) ? json_null() : json_string(store_get(r, i, 5)), "reason",
        store_get(r, i, 6), "created", store_get(r, i, 7), "created_by", store_get(r, i, 8));
}

static json_t *excl_of(const PGresult *r, int i)
{
    return json_pack("{s:s, s:s, s:s, s:s}", "device_id", store_get(r, i, 0), "reason",
                     store_get(r, i, 1), "created", store_get(r, i, 2), "created_by",
                     store_get(r, i, 3));
}

/* Runs sql and collects every row through conv into a new array. */
static rf_err collect(rf_db *db, const char *name, const char *sql, int np, const char *const *p,
                      json_t *(*conv)(const PGresult *, int), json_t **out, rf_error *err)
{
    PGresult *res = NULL;
    *out = NULL;
    rf_err rc = store_exec(db, name, sql, np, p, &res, err);
    json_t *arr = rc == RF_OK ? json_array() : NULL;
    for (int i = 0; arr != NULL && i < PQntuples(res); i++)
        json_array_append_new(arr, conv(res, i));
    if (rc == RF_OK && arr == NULL)
        rc = rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    *out = arr;
    PQclear(res);
    return rc;
}

rf_err store_hold_pins(rf_db *db, const char *channel, const char *device_id, long long ring_id,
                       json_t **out, rf_error *err)
{
    char ring[24];
    rf_snprintf(ring, sizeof(ring), "%lld", ring_id);
    const char *p[] = {channel, device_id, ring};
    return collect(db, "hold_pins",
                   PIN_SQL "WHERE ($1::text IS NULL OR p.channel = $1) AND "
                           "(($2::text IS NULL AND $3::bigint = 0) OR p.device_id = $2 OR "
                           "($3::bigint > 0 AND p.ring_id = $3::bigint)) ORDER BY p.id LIMIT 10000",
                   3, p, pin_of, out, err);
}

rf_err store_hold_exclusions(rf_db *db, const char *device_id, json_t **out, rf_error *err)
{
    const char *p[] = {device_id};
    return collect(db, "hold_exclusions",
                   EXCL_SQL "WHERE $1::text IS NULL OR device_id = $1 ORDER BY created_at, "
                            "device_id LIMIT 100000",
                   1, p, excl_of, out, err);
}

/* 1 row or RF_ERR_NOT_FOUND with msg. */
static rf_err exists(rf_db *db, const char *name, const char *sql, const char *param,
                     const char *what, rf_error *err)
{
    const char *p[] = {param};
    PGresult *res = NULL;
    rf_err rc = store_exec(db, name, sql, 1, p, &res, err);
    if (rc == RF_OK && PQntuples(res) != 1)
        rc = rf_error_set(err, RF_ERR_NOT_FOUND, "%s not found", what);
    PQclear(res);
    return rc;
}

/* The bundle to pin at: bundle_id checked against the channel, or the
 * channel's known-good one. */
static rf_err pin_bundle(rf_db *db, const char *channel, long long *bundle_id, rf_error *err)
{
    char bid[24];
    const char *p[] = {bid};
    const char *q[] = {channel};
    PGresult *res = NULL;
    rf_err rc;
    if (*bundle_id <= 0) {
        rc = store_exec(db, "pin_default_bundle",
                        "SELECT bundle_id FROM rollouts WHERE channel = $1 AND state = 'completed' "
                        "ORDER BY updated_at DESC, id DESC LIMIT 1",
                        1, q, &res, err);
        if (rc == RF_OK && PQntuples(res) != 1)
            rc = rf_error_set(err, RF_ERR_CONFLICT,
                              "channel '%s' has no completed rollout: name the bundle to pin "
                              "(field 'bundle_id')",
                              channel);
        if (rc == RF_OK)
            *bundle_id = store_get_ll(res, 0, 0);
        PQclear(res);
        return rc;
    }
    rf_snprintf(bid, sizeof(bid), "%lld", *bundle_id);
    rc = store_exec(db, "pin_bundle_channel", "SELECT channel FROM bundles WHERE id = $1", 1, p,
                    &res, err);
    if (rc == RF_OK && PQntuples(res) != 1)
        rc = rf_error_set(err, RF_ERR_NOT_FOUND, "field 'bundle_id': bundle %lld not found",
                          *bundle_id);
    else if (rc == RF_OK && strcmp(store_get(res, 0, 0), channel) != 0)
        rc = rf_error_set(err, RF_ERR_INVALID,
                          "field 'bundle_id': bundle %lld is of channel '%s', not '%s'", *bundle_id,
                          store_get(res, 0, 0), channel);
    PQclear(res);
    return rc;
}

static rf_err record(rf_db *db, const char *kind, const char *actor, const char *device_id,
                     json_t *before, json_t *after)
{
    json_t *data = json_pack("{s:o, s:o}", "before", before ? json_incref(before) : json_null(),
                             "after", after ? json_incref(after) : json_null());
    rf_err rc = data ? store_event_add(db, kind, actor, 0, device_id, data) : RF_ERR_NOMEM;
    json_decref(data);
    return rc;
}

static rf_err insert_pin(rf_db *db, const char *channel, const char *device_id, long long ring_id,
                         long long bundle_id, const char *reason, const char *actor,
                         json_t **pin_out, rf_error *err)
{
    char ring[24], bid[24];
    PGresult *res = NULL;
    rf_snprintf(ring, sizeof(ring), "%lld", ring_id);
    rf_snprintf(bid, sizeof(bid), "%lld", bundle_id);
    const char *p[] = {channel, device_id, device_id ? NULL : ring, bid, reason ? reason : "",
                       actor};
    rf_err rc = store_exec(db, "pin_insert",
                           "WITH n AS (INSERT INTO pins (channel, device_id, ring_id, bundle_id, "
                           "reason, created_by) VALUES ($1, $2, $3::bigint, $4, $5, $6) "
                           "RETURNING *) SELECT n.id, n.channel, n.bundle_id, n.device_id, "
                           "n.ring_id, g.name, n.reason, " STORE_ISO(
                               "n.created_at") ", n.created_by FROM n "
                                               "LEFT JOIN rings g ON g.id = n.ring_id",
                           6, p, &res, err);
    if (rc == RF_ERR_CONFLICT)
        rc = rf_error_set(err, RF_ERR_CONFLICT,
                          "%s %s%s already has a pin on channel '%s': remove it first",
                          device_id ? "device" : "ring", device_id ? device_id : "",
                          device_id ? "" : ring, channel);
    if (rc == RF_OK)
        *pin_out = pin_of(res, 0);
    PQclear(res);
    return rc;
}

rf_err store_hold_pin_add(rf_db *db, const char *channel, const char *device_id, long long ring_id,
                          long long bundle_id, const char *reason, const char *actor,
                          json_t **pin_out, rf_error *err)
{
    char ring[24];
    char what[80];
    *pin_out = NULL;
    rf_snprintf(ring, sizeof(ring), "%lld", ring_id);
    rf_snprintf(what, sizeof(what), device_id ? "device %s" : "ring %s",
                device_id ? device_id : ring);
    rf_err rc = store_begin(db);
    if (rc == RF_OK && device_id != NULL)
        rc = exists(db, "pin_device_exists", "SELECT 1 FROM devices WHERE id = $1", device_id, what,
                    err);
    else if (rc == RF_OK)
        rc = exists(db, "pin_ring_exists", "SELECT 1 FROM rings WHERE id = $1::bigint", ring, what,
                    err);
    if (rc == RF_OK)
        rc = pin_bundle(db, channel, &bundle_id, err);
    if (rc == RF_OK)
        rc = insert_pin(db, channel, device_id, ring_id, bundle_id, reason, actor, pin_out, err);
    if (rc == RF_OK)
        rc = record(db, "pin.created", actor, device_id, NULL, *pin_out);
    if (rc == RF_OK)
        rc = store_commit(db);
    if (rc != RF_OK) {
        store_rollback(db);
        json_decref(*pin_out);
        *pin_out = NULL;
    }
    return rc;
}

/* Deletes with sql (returning the row as `conv` reads it) and records kind. */
static rf_err remove_one(rf_db *db, const char *name, const char *sql, const char *param,
                         json_t *(*conv)(const PGresult *, int), const char *kind,
                         const char *actor, const char *what, json_t **out, rf_error *err)
{
    const char *p[] = {param};
    PGresult *res = NULL;
    *out = NULL;
    rf_err rc = store_begin(db);
    if (rc == RF_OK)
        rc = store_exec(db, name, sql, 1, p, &res, err);
    if (rc == RF_OK && PQntuples(res) != 1)
        rc = rf_error_set(err, RF_ERR_NOT_FOUND, "%s not found", what);
    if (rc == RF_OK) {
        *out = conv(res, 0);
        json_t *dev = json_object_get(*out, "device_id");
        rc = record(db, kind, actor, json_is_string(dev) ? json_string_value(dev) : NULL, *out,
                    NULL);
    }
    if (rc == RF_OK)
        rc = store_commit(db);
    if (rc != RF_OK) {
        store_rollback(db);
        json_decref(*out);
        *out = NULL;
    }
    PQclear(res);
    return rc;
}

rf_err store_hold_pin_delete(rf_db *db, long long id, const char *actor, json_t **pin_out,
                             rf_error *err)
{
    char ids[24], what[48];
    rf_snprintf(ids, sizeof(ids), "%lld", id);
    rf_snprintf(what, sizeof(what), "pin %lld", id);
    return remove_one(
        db, "pin_delete",
        "WITH d AS (DELETE FROM pins WHERE id = $1::bigint RETURNING *) "
        "SELECT d.id, d.channel, d.bundle_id, d.device_id, d.ring_id, g.name, "
        "d.reason, " STORE_ISO("d.created_at") ", d.created_by FROM d "
                                               "LEFT JOIN rings g ON g.id = d.ring_id",
        ids, pin_of, "pin.deleted", actor, what, pin_out, err);
}

rf_err store_hold_exclude(rf_db *db, const char *device_id, const char *reason, const char *actor,
                          json_t **out, rf_error *err)
{
    char what[64];
    PGresult *res = NULL;
    *out = NULL;
    rf_snprintf(what, sizeof(what), "device %s", device_id);
    const char *p[] = {device_id, reason ? reason : "", actor};
    rf_err rc = store_begin(db);
    if (rc == RF_OK)
        rc = exists(db, "excl_device_exists", "SELECT 1 FROM devices WHERE id = $1", device_id,
                    what, err);
    if (rc == RF_OK)
        rc = store_exec(db, "excl_insert",
                        "INSERT INTO exclusions (device_id, reason, created_by) VALUES ($1, $2, "
                        "$3) RETURNING device_id, reason, " STORE_ISO("created_at") ", created_by",
                        3, p, &res, err);
    if (rc == RF_ERR_CONFLICT)
        rc = rf_error_set(err, RF_ERR_CONFLICT, "device %s is already excluded", device_id);
    if (rc == RF_OK) {
        *out = excl_of(res, 0);
        rc = record(db, "device.excluded", actor, device_id, NULL, *out);
    }
    if (rc == RF_OK)
        rc = store_commit(db);
    if (rc != RF_OK) {
        store_rollback(db);
        json_decref(*out);
        *out = NULL;
    }
    PQclear(res);
    return rc;
}

rf_err store_hold_include(rf_db *db, const char *device_id, const char *actor, json_t **out,
                          rf_error *err)
{
    char what[80];
    rf_snprintf(what, sizeof(what), "exclusion of device %s", device_id);
    return remove_one(db, "excl_delete",
                      "DELETE FROM exclusions WHERE device_id = $1 RETURNING device_id, reason, "
                      "" STORE_ISO("created_at") ", created_by",
                      device_id, excl_of, "device.included", actor, what, out, err);
}
