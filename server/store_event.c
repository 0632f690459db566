/* The audit timeline: appending one event row and reading events back in id
 * order. Events are only ever appended; nothing here updates or deletes one. */
#include "store_event.h"
#include "store_internal.h"
#include "rf_util.h"

#include <stdlib.h>

rf_err store_event_add(rf_db *db, const char *kind, const char *actor, long long rollout_id,
                       const char *device_id, const json_t *data)
{
    char rid[24];
    char *text = NULL;
    const char *p[5];
    PGresult *r = NULL;
    rf_err rc;

    rf_snprintf(rid, sizeof(rid), "%lld", rollout_id);
    if (data) {
        text = json_dumps(data, JSON_COMPACT);
        if (!text)
            return RF_ERR_NOMEM;
    }
    p[0] = kind;
    p[1] = actor ? actor : "";
    p[2] = rollout_id > 0 ? rid : NULL;
    p[3] = device_id;
    p[4] = text ? text : "{}";
    rc = store_exec(db, "event_add",
                    "INSERT INTO events (kind, actor, rollout_id, device_id, data) "
                    "VALUES ($1, $2, $3::bigint, $4, $5::jsonb)",
                    5, p, &r, NULL);
    PQclear(r);
    free(text);
    return rc;
}

static json_t *event_of(const PGresult *r, int i)
{
    json_t *data = json_loads(store_get(r, i, 6) ? store_get(r, i, 6) : "{}", 0, NULL);

    if (!data)
        data = json_object();
    return json_pack(
        "{s:I,s:s,s:s,s:s,s:o,s:o,s:o}", "id", (json_int_t)store_get_ll(r, i, 0), "at",
        store_get(r, i, 1), "kind", store_get(r, i, 2), "actor", store_get(r, i, 3), "rollout_id",
        store_is_null(r, i, 4) ? json_null() : json_integer(store_get_ll(r, i, 4)), "device_id",
        store_is_null(r, i, 5) ? json_null() : json_string(store_get(r, i, 5)), "data", data);
}

rf_err store_event_list(rf_db *db, long long after, int limit, long long rollout_id, json_t **out,
                        rf_error *err)
{
    char a[24], l[24], rid[24];
    const char *p[] = {a, l, rid};
    PGresult *r = NULL;
    json_t *arr = NULL;
    rf_err rc;

    *out = NULL;
    rf_snprintf(a, sizeof(a), "%lld", after);
    rf_snprintf(l, sizeof(l), "%d", limit);
    rf_snprintf(rid, sizeof(rid), "%lld", rollout_id);
    rc = store_exec(db, "event_list",
                    "SELECT id, " STORE_ISO(
                        "at") ", kind, actor, rollout_id, device_id, data::text "
                              "FROM events WHERE id > $1 AND ($3::bigint <= 0 OR rollout_id = $3) "
                              "ORDER BY id LIMIT $2",
                    3, p, &r, err);
    if (rc != RF_OK)
        goto out;
    arr = json_array();
    for (int i = 0; i < PQntuples(r); i++)
        json_array_append_new(arr, event_of(r, i));
    *out = arr;
out:
    PQclear(r);
    return rc;
}
