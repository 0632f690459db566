/* Named queries for rings. Writes happen inside the caller's transaction;
 * every update bumps the ring's version so If-Match can detect a lost update.
 * It never deletes a ring a rollout still refers to: the foreign key would
 * refuse, and the caller is told which rollout first. */
#include "store_ring.h"
#include "store_internal.h"
#include "rf_util.h"

#include <stdlib.h>
#include <string.h>

#define RING_COLS                                                                                  \
    "id, name, ord, labels::text, bucket_lo, bucket_hi, version, " STORE_ISO(                      \
        "created_at") ", array_to_json(members)::text, members_only, windows::text"

/* A JSON array from text, or an empty one. New reference. */
static json_t *array_of(const char *text)
{
    json_t *a = json_loads(text ? text : "[]", 0, NULL);
    if (json_is_array(a))
        return a;
    json_decref(a);
    return json_array();
}

static void fill(const PGresult *r, int row, store_ring *g)
{
    const char *name = store_get(r, row, 1);
    size_t n = name ? strlen(name) : 0;
    json_t *labels = json_loads(store_get(r, row, 3) ? store_get(r, row, 3) : "{}", 0, NULL);
    const char *created = store_get(r, row, 7);

    memset(g, 0, sizeof(*g));
    g->id = store_get_ll(r, row, 0);
    if (n >= sizeof(g->name))
        n = sizeof(g->name) - 1;
    memcpy(g->name, name ? name : "", n);
    g->order = (int)store_get_ll(r, row, 2);
    g->labels = json_is_object(labels) ? labels : json_object();
    if (!json_is_object(labels))
        json_decref(labels);
    g->bucket_lo = (int)store_get_ll(r, row, 4);
    g->bucket_hi = (int)store_get_ll(r, row, 5);
    g->version = (int)store_get_ll(r, row, 6);
    rf_snprintf(g->created, sizeof(g->created), "%s", created ? created : "");
    g->members = array_of(store_get(r, row, 8));
    g->members_only = store_get(r, row, 9) != NULL && store_get(r, row, 9)[0] == 't';
    g->windows = array_of(store_get(r, row, 10));
}

rf_err store_ring_list_all(rf_db *db, store_ring_list *out, rf_error *err)
{
    PGresult *r = NULL;
    rf_err rc;
    int rows;

    memset(out, 0, sizeof(*out));
    rc = store_exec(db, "ring_list", "SELECT " RING_COLS " FROM rings ORDER BY ord", 0, NULL, &r,
                    err);
    if (rc != RF_OK)
        goto out;
    rows = PQntuples(r);
    out->items = calloc(rows ? (size_t)rows : 1, sizeof(*out->items));
    if (!out->items) {
        rc = rf_error_set(err, RF_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < rows; i++)
        fill(r, i, &out->items[i]);
    out->n = (size_t)rows;
out:
    PQclear(r);
    return rc;
}

rf_err store_ring_get(rf_db *db, long long id, int for_update, store_ring *out, rf_error *err)
{
    char ids[24];
    const char *p[] = {ids};
    PGresult *r = NULL;
    rf_err rc;

    memset(out, 0, sizeof(*out));
    rf_snprintf(ids, sizeof(ids), "%lld", id);
    rc = store_exec(db, for_update ? "ring_get_for_update" : "ring_get",
                    for_update ? "SELECT " RING_COLS " FROM rings WHERE id = $1 FOR UPDATE"
                               : "SELECT " RING_COLS " FROM rings WHERE id = $1",
                    1, p, &r, err);
    if (rc == RF_OK && PQntuples(r) != 1)
        rc = rf_error_set(err, RF_ERR_NOT_FOUND, "ring %lld not found", id);
    if (rc == RF_OK)
        fill(r, 0, out);
    PQclear(r);
    return rc;
}

void store_ring_cleanup(store_ring *r)
{
    if (!r)
        return;
    json_decref(r->labels);
    json_decref(r->members);
    json_decref(r->windows);
    r->labels = r->members = r->windows = NULL;
}

void store_ring_list_cleanup(store_ring_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        store_ring_cleanup(&l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

rf_err store_ring_check_unique(rf_db *db, const store_ring *g, long long except_id, rf_error *err)
{
    char ord[16], ex[24];
    const char *p[] = {g->name, ord, ex};
    PGresult *r = NULL;
    rf_err rc;

    rf_snprintf(ord, sizeof(ord), "%d", g->order);
    rf_snprintf(ex, sizeof(ex), "%lld", except_id);
    rc = store_exec(db, "ring_unique",
                    "SELECT id, name = $1, ord FROM rings WHERE (name = $1 OR ord = $2::int) "
                    "AND id <> $3::bigint ORDER BY id LIMIT 1",
                    3, p, &r, err);
    if (rc == RF_OK && PQntuples(r) == 1) {
        if (store_get_ll(r, 0, 1))
            rc = rf_error_set(err, RF_ERR_CONFLICT, "ring name '%s' is taken by ring %lld", g->name,
                              store_get_ll(r, 0, 0));
        else
            rc = rf_error_set(err, RF_ERR_CONFLICT, "ring order %d is taken by ring %lld", g->order,
                              store_get_ll(r, 0, 0));
    }
    PQclear(r);
    return rc;
}

/* A text[] literal of the members ("{\"a\",\"b\"}"): ids are hex, checked
 * by the caller, so quoting them is enough. */
static char *members_literal(const json_t *members)
{
    size_t n = json_array_size(members), cap = 3 + n * 36, at = 0;
    char *out = malloc(cap);
    if (out == NULL)
        return NULL;
    out[at++] = '{';
    for (size_t i = 0; i < n; i++) {
        const char *id = json_string_value(json_array_get(members, i));
        size_t len = id ? strlen(id) : 0;
        if (id == NULL || len > 32) {
            free(out);
            return NULL;
        }
        if (i > 0)
            out[at++] = ',';
        out[at++] = '"';
        memcpy(out + at, id, len);
        at += len;
        out[at++] = '"';
    }
    out[at++] = '}';
    out[at] = '\0';
    return out;
}

/* Runs an insert (8 parameters) or an update (9: the id last). */
static rf_err write_ring(rf_db *db, const char *stmt, const char *sql, int nparams, store_ring *g,
                         rf_error *err)
{
    char ord[16], lo[16], hi[16], ids[24];
    char *labels = json_dumps(g->labels, JSON_COMPACT);
    char *members = members_literal(g->members); /* NULL: none */
    char *windows = g->windows ? json_dumps(g->windows, JSON_COMPACT) : strdup("[]");
    const char *p[] = {g->name, ord,     labels ? labels : "{}",      lo,
                       hi,      members, g->members_only ? "t" : "f", windows,
                       ids};
    PGresult *r = NULL;
    rf_err rc;

    if (!labels || !members || !windows) {
        free(labels);
        free(members);
        free(windows);
        return rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    }
    rf_snprintf(ord, sizeof(ord), "%d", g->order);
    rf_snprintf(lo, sizeof(lo), "%d", g->bucket_lo);
    rf_snprintf(hi, sizeof(hi), "%d", g->bucket_hi);
    rf_snprintf(ids, sizeof(ids), "%lld", g->id);
    rc = store_exec(db, stmt, sql, nparams, p, &r, err);
    if (rc == RF_OK && PQntuples(r) != 1)
        rc = rf_error_set(err, RF_ERR_NOT_FOUND, "ring %lld not found", g->id);
    if (rc == RF_OK) {
        g->id = store_get_ll(r, 0, 0);
        g->version = (int)store_get_ll(r, 0, 1);
        rf_snprintf(g->created, sizeof(g->created), "%s", store_get(r, 0, 2));
    } else if (rc == RF_ERR_CONFLICT) {
        rc = rf_error_set(err, RF_ERR_CONFLICT, "ring name or order is taken");
    }
    PQclear(r);
    free(labels);
    free(members);
    free(windows);
    return rc;
}

rf_err store_ring_insert(rf_db *db, store_ring *g, rf_error *err)
{
    return write_ring(db, "ring_insert",
                      "INSERT INTO rings (name, ord, labels, bucket_lo, bucket_hi, members, "
                      "members_only, windows) VALUES ($1, $2::int, $3::jsonb, $4::int, $5::int, "
                      "$6::text[], $7::boolean, $8::jsonb) "
                      "RETURNING id, version, " STORE_ISO("created_at"),
                      8, g, err);
}

rf_err store_ring_update(rf_db *db, store_ring *g, rf_error *err)
{
    return write_ring(db, "ring_update",
                      "UPDATE rings SET name = $1, ord = $2::int, labels = $3::jsonb, "
                      "bucket_lo = $4::int, bucket_hi = $5::int, members = $6::text[], "
                      "members_only = $7::boolean, windows = $8::jsonb, version = version + 1 "
                      "WHERE id = $9::bigint RETURNING id, version, " STORE_ISO("created_at"),
                      9, g, err);
}

rf_err store_ring_delete(rf_db *db, long long id, rf_error *err)
{
    char ids[24];
    const char *p[] = {ids};
    PGresult *r = NULL;
    rf_err rc;

    rf_snprintf(ids, sizeof(ids), "%lld", id);
    rc = store_exec(db, "ring_delete", "DELETE FROM rings WHERE id = $1", 1, p, &r, err);
    if (rc == RF_OK && strcmp(PQcmdTuples(r), "0") == 0)
        rc = rf_error_set(err, RF_ERR_NOT_FOUND, "ring %lld not found", id);
    PQclear(r);
    return rc;
}

rf_err store_ring_check_unused(rf_db *db, long long id, int any_state, rf_error *err)
{
    char ids[24];
    const char *p[] = {ids, any_state ? "t" : "f"};
    PGresult *r = NULL;
    rf_err rc;

    rf_snprintf(ids, sizeof(ids), "%lld", id);
    rc = store_exec(db, "ring_in_use",
                    "SELECT r.id, r.state FROM rollout_stages s JOIN rollouts r "
                    "ON r.id = s.rollout_id WHERE s.ring_id = $1 AND ($2::boolean OR "
                    "r.state IN ('active', 'paused', 'halted')) ORDER BY r.id DESC LIMIT 1",
                    2, p, &r, err);
    if (rc == RF_OK && PQntuples(r) == 1)
        rc = rf_error_set(err, RF_ERR_CONFLICT, "ring %lld is used by rollout %lld (%s)", id,
                          store_get_ll(r, 0, 0), store_get(r, 0, 1));
    PQclear(r);
    return rc;
}

rf_err store_ring_live_above(rf_db *db, int order, int inclusive, long long *rollout_id,
                             char state[16], char ring[65], rf_error *err)
{
    char ord[16];
    const char *p[] = {ord, inclusive ? "t" : "f"};
    PGresult *r = NULL;
    rf_err rc;

    *rollout_id = 0;
    state[0] = ring[0] = '\0';
    rf_snprintf(ord, sizeof(ord), "%d", order);
    rc = store_exec(db, "ring_live_above",
                    "SELECT r.id, r.state, g.name FROM rollout_stages s "
                    "JOIN rollouts r ON r.id = s.rollout_id JOIN rings g ON g.id = s.ring_id "
                    "WHERE r.state IN ('active', 'paused', 'halted') AND "
                    "(g.ord > $1::int OR ($2::boolean AND g.ord = $1::int)) "
                    "ORDER BY r.id, g.ord LIMIT 1",
                    2, p, &r, err);
    if (rc == RF_OK && PQntuples(r) == 1) {
        *rollout_id = store_get_ll(r, 0, 0);
        rf_snprintf(state, 16, "%s", store_get(r, 0, 1));
        rf_snprintf(ring, 65, "%s", store_get(r, 0, 2));
    }
    PQclear(r);
    return rc;
}

rf_err store_ring_live_rollouts(rf_db *db, long long id, json_t **out, rf_error *err)
{
    char ids[24];
    const char *p[] = {ids};
    PGresult *r = NULL;
    rf_err rc;

    *out = NULL;
    rf_snprintf(ids, sizeof(ids), "%lld", id);
    rc = store_exec(db, "ring_live_rollouts",
                    "SELECT DISTINCT r.id FROM rollout_stages s JOIN rollouts r "
                    "ON r.id = s.rollout_id WHERE s.ring_id = $1 AND "
                    "r.state IN ('active', 'paused', 'halted') ORDER BY r.id",
                    1, p, &r, err);
    if (rc == RF_OK) {
        *out = json_array();
        for (int i = 0; *out != NULL && i < PQntuples(r); i++)
            json_array_append_new(*out, json_integer(store_get_ll(r, i, 0)));
        if (*out == NULL)
            rc = rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    }
    PQclear(r);
    return rc;
}
