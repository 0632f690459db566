/* Named queries that read devices: token lookup, the list, one device and
 * fleet counts. It never writes devices (enrollment and heartbeats live in
 * store_agent.c) and never returns a token hash. */
#include "store_device.h"
#include "store_internal.h"
#include "rf_buf.h"
#include "rf_util.h"

#include <stdlib.h>
#include <string.h>

#define DEVICE_ONLINE                                                                              \
    "COALESCE(last_seen_at > now() - make_interval(secs => 3 * GREATEST(heartbeat_interval_s, "    \
    "1)), false)"

#define DEVICE_COLS                                                                                \
    "id, hostname, labels::text, bucket, " STORE_ISO("enrolled_at") ", " STORE_ISO(                \
        "last_seen_at") ", " DEVICE_ONLINE

/* $1 after, $2 labels, $3 online, $4 channel, $5 state, $6 bundle_id,
 * $7 version, $8 limit. */
#define DEVICE_PAGE_SQL                                                                            \
    "SELECT " DEVICE_COLS " FROM devices d "                                                       \
    "WHERE ($1::text IS NULL OR d.id > $1::text) "                                                 \
    "AND ($2::jsonb IS NULL OR d.labels @> $2::jsonb) "                                            \
    "AND ($3::boolean IS NULL OR " DEVICE_ONLINE " = $3::boolean) "                                \
    "AND (($4::text IS NULL AND $5::text IS NULL AND $6::bigint IS NULL AND $7::text IS NULL) "    \
    "OR EXISTS (SELECT 1 FROM device_channels c WHERE c.device_id = d.id "                         \
    "AND ($4::text IS NULL OR c.channel = $4) AND ($5::text IS NULL OR c.state = $5) "             \
    "AND ($6::bigint IS NULL OR c.bundle_id = $6) "                                                \
    "AND ($7::text IS NULL OR EXISTS (SELECT 1 FROM bundles b WHERE b.id = c.bundle_id "           \
    "AND b.version = $7 AND ($4::text IS NULL OR b.channel = $4))))) "                             \
    "ORDER BY d.id LIMIT $8"

#define CHANNEL_COLS                                                                               \
    "device_id, channel, bundle_id, state, target_bundle_id, error, " STORE_ISO("updated_at")

rf_err store_device_auth(rf_db *db, const char *hash_hex, char device_id[33], rf_error *err)
{
    const char *p[] = {hash_hex};
    PGresult *r = NULL;
    rf_err rc;

    device_id[0] = '\0';
    rc = store_exec(db, "device_auth",
                    "SELECT id FROM devices WHERE token_hash = decode($1, 'hex')", 1, p, &r, err);
    if (rc != RF_OK)
        goto out;
    if (PQntuples(r) != 1) {
        rc = rf_error_set(err, RF_ERR_NOT_FOUND, "unknown device token");
        goto out;
    }
    rc = rf_snprintf(device_id, 33, "%s", store_get(r, 0, 0));
out:
    PQclear(r);
    return rc;
}

static void fill_device(const PGresult *r, int row, store_device *d)
{
    json_t *labels;

    memset(d, 0, sizeof(*d));
    rf_copy_str(d->id, sizeof(d->id), store_get(r, row, 0));
    rf_copy_str(d->hostname, sizeof(d->hostname), store_get(r, row, 1));
    labels = json_loads(store_get(r, row, 2) ? store_get(r, row, 2) : "{}", 0, NULL);
    d->labels = json_is_object(labels) ? labels : json_object();
    if (!json_is_object(labels))
        json_decref(labels);
    d->bucket = (int)store_get_ll(r, row, 3);
    rf_copy_str(d->enrolled, sizeof(d->enrolled), store_get(r, row, 4));
    rf_copy_str(d->last_seen, sizeof(d->last_seen), store_get(r, row, 5));
    d->online = (int)store_get_ll(r, row, 6);
}

static json_t *id_or_null(const PGresult *r, int row, int col)
{
    return store_is_null(r, row, col) ? json_null() : json_integer(store_get_ll(r, row, col));
}

static json_t *str_or_null(const PGresult *r, int row, int col)
{
    return store_is_null(r, row, col) ? json_null() : json_string(store_get(r, row, col));
}

static json_t *channel_entry(const PGresult *r, int row)
{
    return json_pack("{s:o,s:s,s:o,s:o,s:s}", "bundle_id", id_or_null(r, row, 2), "state",
                     store_get(r, row, 3) ? store_get(r, row, 3) : "", "target_bundle_id",
                     id_or_null(r, row, 4), "error", str_or_null(r, row, 5), "updated",
                     store_get(r, row, 6) ? store_get(r, row, 6) : "");
}

/* Attaches the rows of r (ordered by device_id) to the devices (ordered by id). */
static void merge_channels(store_device *items, size_t n, const PGresult *r)
{
    size_t i = 0;
    int rows = PQntuples(r);

    for (size_t k = 0; k < n; k++)
        items[k].channels = json_object();
    for (int row = 0; row < rows; row++) {
        const char *dev = store_get(r, row, 0);
        const char *ch = store_get(r, row, 1);
        while (i < n && strcmp(items[i].id, dev) < 0)
            i++;
        if (i >= n)
            break;
        if (strcmp(items[i].id, dev) == 0 && ch)
            json_object_set_new(items[i].channels, ch, channel_entry(r, row));
    }
}

rf_err store_device_list_all(rf_db *db, size_t limit, int with_channels, store_device_list *out,
                             rf_error *err)
{
    char lim[24];
    const char *p[] = {lim};
    PGresult *r = NULL, *c = NULL;
    rf_err rc;
    int rows;

    memset(out, 0, sizeof(*out));
    rf_snprintf(lim, sizeof(lim), "%zu", limit);
    rc = store_exec(db, "device_list",
                    "SELECT " DEVICE_COLS " FROM devices ORDER BY id COLLATE \"C\" LIMIT $1", 1, p,
                    &r, err);
    if (rc != RF_OK)
        goto out;
    rows = PQntuples(r);
    out->items = calloc(rows ? (size_t)rows : 1, sizeof(*out->items));
    if (!out->items) {
        rc = rf_error_set(err, RF_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < rows; i++)
        fill_device(r, i, &out->items[i]);
    out->n = (size_t)rows;
    if (!with_channels || rows == 0)
        goto out;
    rc = store_exec(db, "device_list_channels",
                    "SELECT " CHANNEL_COLS " FROM device_channels "
                    "ORDER BY device_id COLLATE \"C\", channel",
                    0, NULL, &c, err);
    if (rc != RF_OK)
        goto out;
    merge_channels(out->items, out->n, c);
out:
    PQclear(r);
    PQclear(c);
    if (rc != RF_OK)
        store_device_list_cleanup(out);
    return rc;
}

/* "{"id1","id2"}": the ids of items as a text[] parameter. */
static rf_err ids_literal(const store_device *items, size_t n, rf_buf *b)
{
    rf_err rc = rf_buf_append_str(b, "{");

    for (size_t i = 0; rc == RF_OK && i < n; i++) {
        rc = rf_buf_append_str(b, i ? ",\"" : "\"");
        for (const char *c = items[i].id; rc == RF_OK && *c; c++)
            rc = (*c == '"' || *c == '\\') ? rf_buf_printf(b, "\\%c", *c) : rf_buf_append(b, c, 1);
        if (rc == RF_OK)
            rc = rf_buf_append_str(b, "\"");
    }
    return rc == RF_OK ? rf_buf_append_str(b, "}") : rc;
}

/* Attaches the rows of r to the devices: both are in the database's order of
 * ids, and every row belongs to one of the devices. */
static void merge_page_channels(store_device *items, size_t n, const PGresult *r)
{
    size_t i = 0;

    for (size_t k = 0; k < n; k++)
        items[k].channels = json_object();
    for (int row = 0; row < PQntuples(r) && i < n; row++) {
        const char *dev = store_get(r, row, 0), *ch = store_get(r, row, 1);
        while (i < n && (!dev || strcmp(items[i].id, dev) != 0))
            i++;
        if (i < n && ch)
            json_object_set_new(items[i].channels, ch, channel_entry(r, row));
    }
}

/* Reads the channels of the devices of out (already read, ordered by id). */
static rf_err page_channels(rf_db *db, store_device_list *out, rf_error *err)
{
    rf_buf ids;
    PGresult *c = NULL;
    const char *p[1];
    rf_err rc;

    rf_buf_init(&ids, 1 << 20);
    rc = ids_literal(out->items, out->n, &ids);
    if (rc != RF_OK) {
        rc = rf_error_set(err, rc, "device page too large");
        goto out;
    }
    p[0] = ids.data;
    rc = store_exec(db, "device_page_channels",
                    "SELECT " CHANNEL_COLS " FROM device_channels "
                    "WHERE device_id = ANY($1::text[]) ORDER BY device_id, channel",
                    1, p, &c, err);
    if (rc == RF_OK)
        merge_page_channels(out->items, out->n, c);
out:
    PQclear(c);
    rf_buf_cleanup(&ids);
    return rc;
}

static const char *ll_param(long long v, char buf[24])
{
    if (v <= 0)
        return NULL;
    rf_snprintf(buf, 24, "%lld", v);
    return buf;
}

rf_err store_device_page(rf_db *db, const store_device_filter *f, store_device_list *out,
                         rf_error *err)
{
    char bid[24], lim[24];
    const char *p[] = {f->after,   f->labels, f->online < 0 ? NULL : (f->online ? "true" : "false"),
                       f->channel, f->state,  ll_param(f->bundle_id, bid),
                       f->version, lim};
    PGresult *r = NULL;
    rf_err rc;
    int rows;

    memset(out, 0, sizeof(*out));
    rf_snprintf(lim, sizeof(lim), "%zu", f->limit);
    rc = store_exec(db, "device_page", DEVICE_PAGE_SQL, 8, p, &r, err);
    if (rc != RF_OK)
        goto out;
    rows = PQntuples(r);
    out->items = calloc(rows ? (size_t)rows : 1, sizeof(*out->items));
    if (!out->items) {
        rc = rf_error_set(err, RF_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < rows; i++)
        fill_device(r, i, &out->items[i]);
    out->n = (size_t)rows;
    if (rows > 0)
        rc = page_channels(db, out, err);
out:
    PQclear(r);
    if (rc != RF_OK)
        store_device_list_cleanup(out);
    return rc;
}

rf_err store_device_get(rf_db *db, const char *id, store_device *out, rf_error *err)
{
    const char *p[] = {id};
    PGresult *r = NULL, *c = NULL;
    rf_err rc;

    memset(out, 0, sizeof(*out));
    rc = store_exec(db, "device_get", "SELECT " DEVICE_COLS " FROM devices WHERE id = $1", 1, p, &r,
                    err);
    if (rc != RF_OK)
        goto out;
    if (PQntuples(r) != 1) {
        rc = rf_error_set(err, RF_ERR_NOT_FOUND, "device '%s' not found", id);
        goto out;
    }
    fill_device(r, 0, out);
    rc = store_exec(db, "device_get_channels",
                    "SELECT " CHANNEL_COLS " FROM device_channels WHERE device_id = $1 "
                    "ORDER BY channel",
                    1, p, &c, err);
    if (rc != RF_OK)
        goto out;
    merge_channels(out, 1, c);
out:
    PQclear(r);
    PQclear(c);
    if (rc != RF_OK)
        store_device_cleanup(out);
    return rc;
}

void store_device_cleanup(store_device *d)
{
    if (!d)
        return;
    json_decref(d->labels);
    json_decref(d->channels);
    d->labels = d->channels = NULL;
}

void store_device_list_cleanup(store_device_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        store_device_cleanup(&l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

rf_err store_device_fleet_counts(rf_db *db, json_t **out, long long *total, long long *online,
                                 rf_error *err)
{
    PGresult *r = NULL, *c = NULL;
    json_t *o = NULL;
    rf_err rc;

    *out = NULL;
    *total = *online = 0;
    rc = store_exec(db, "fleet_totals",
                    "SELECT count(*), count(*) FILTER (WHERE last_seen_at > now() - "
                    "make_interval(secs => 3 * GREATEST(heartbeat_interval_s, 1))) FROM devices",
                    0, NULL, &r, err);
    if (rc != RF_OK)
        goto out;
    *total = store_get_ll(r, 0, 0);
    *online = store_get_ll(r, 0, 1);
    rc = store_exec(db, "fleet_channels",
                    "SELECT channel, bundle_id, count(*) FROM device_channels "
                    "GROUP BY channel, bundle_id ORDER BY channel, bundle_id NULLS FIRST",
                    0, NULL, &c, err);
    if (rc != RF_OK)
        goto out;
    o = json_object();
    for (int i = 0; i < PQntuples(c); i++) {
        const char *ch = store_get(c, i, 0);
        json_t *arr = json_object_get(o, ch);
        if (!arr) {
            arr = json_array();
            json_object_set_new(o, ch, arr);
        }
        json_array_append_new(arr, json_pack("{s:o,s:I}", "bundle_id", id_or_null(c, i, 1),
                                             "devices", (json_int_t)store_get_ll(c, i, 2)));
    }
    *out = o;
out:
    PQclear(r);
    PQclear(c);
    return rc;
}
