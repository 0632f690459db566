/* Named queries of the webhook routes (see store_webhook.h). Changes take the
 * row lock, check the version, write, record the audit event and commit in
 * one transaction, so a refused change leaves nothing behind and two changes
 * at the same version cannot both pass. Creation is serialized by an
 * advisory lock so the count limit holds across server instances. It never
 * handles a secret: rows carry only the key id and generation. */
#include "store_webhook.h"
#include "rf_crypto.h"
#include "rf_util.h"
#include "store_internal.h"

#include <stdlib.h>
#include <string.h>

#define HOOK_COLS                                                                                  \
    "id, url, array_to_json(events)::text, description, enabled, secret_generation, version, "     \
    "" STORE_ISO("created_at") ", created_by, " STORE_ISO("updated_at") ", updated_by "

#define DELIVERY_COLS                                                                              \
    "id, webhook_id, url, event_id, kind, state, attempts, last_status, last_error, "              \
    "" STORE_ISO("created_at") ", " STORE_ISO("delivered_at") ", " STORE_ISO("next_attempt_at")

static json_t *hook_of(const PGresult *r, int i)
{
    json_t *events = json_loads(store_get(r, i, 2), 0, NULL);
    return json_pack("{s:I, s:s, s:o, s:s, s:b, s:i, s:i, s:s, s:s, s:s, s:s}", "id",
                     (json_int_t)store_get_ll(r, i, 0), "url", store_get(r, i, 1), "events",
                     events ? events : json_array(), "description", store_get(r, i, 3), "enabled",
                     strcmp(store_get(r, i, 4), "t") == 0, "secret_generation",
                     (int)store_get_ll(r, i, 5), "version", (int)store_get_ll(r, i, 6), "created",
                     store_get(r, i, 7), "created_by", store_get(r, i, 8), "updated",
                     store_get(r, i, 9), "updated_by", store_get(r, i, 10));
}

static json_t *opt_str(const PGresult *r, int i, int c)
{
    return store_is_null(r, i, c) ? json_null() : json_string(store_get(r, i, c));
}

static json_t *opt_int(const PGresult *r, int i, int c)
{
    return store_is_null(r, i, c) ? json_null() : json_integer(store_get_ll(r, i, c));
}

static json_t *delivery_of(const PGresult *r, int i)
{
    return json_pack("{s:I, s:o, s:s, s:I, s:s, s:s, s:i, s:o, s:o, s:s, s:o, s:s}", "id",
                     (json_int_t)store_get_ll(r, i, 0), "webhook_id", opt_int(r, i, 1), "url",
                     store_get(r, i, 2), "event_id", (json_int_t)store_get_ll(r, i, 3), "kind",
                     store_get(r, i, 4), "state", store_get(r, i, 5), "attempts",
                     (int)store_get_ll(r, i, 6), "last_status", opt_int(r, i, 7), "last_error",
                     opt_str(r, i, 8), "created_at", store_get(r, i, 9), "delivered_at",
                     opt_str(r, i, 10), "next_attempt_at", store_get(r, i, 11));
}

/* The object as the audit trail shows it (events are readable by viewers):
 * the URL without path and query, and a short hash of the whole URL so a
 * change of it still shows. New reference; NULL for NULL. */
static json_t *audit_of(const json_t *hook)
{
    char shown[WEBHOOK_REDACTED_MAX], hash[RF_SHA256_HEX_LEN + 1];
    const char *url = json_string_value(json_object_get(hook, "url"));
    json_t *a = hook ? json_deep_copy(hook) : NULL;
    if (a == NULL || url == NULL)
        return a;
    webhook_url_redact(url, shown, sizeof(shown));
    rf_sha256_hex(url, strlen(url), hash);
    hash[16] = '\0';
    json_object_set_new(a, "url", json_string(shown));
    json_object_set_new(a, "url_sha256", json_string(hash));
    return a;
}

static rf_err add_event(rf_db *db, const char *kind, const char *actor, long long id,
                        const json_t *before, const json_t *after)
{
    json_t *data = json_pack("{s:I, s:o, s:o}", "webhook_id", (json_int_t)id, "before",
                             before ? audit_of(before) : json_null(), "after",
                             after ? audit_of(after) : json_null());
    rf_err rc = data ? store_event_add(db, kind, actor, 0, NULL, data) : RF_ERR_NOMEM;
    json_decref(data);
    return rc;
}

/* Runs a statement that returns webhook rows; *out gets the first (NULL when
 * none). */
static rf_err exec_hook(rf_db *db, const char *name, const char *sql, int np, const char *const *p,
                        json_t **out, rf_error *err)
{
    PGresult *res = NULL;
    rf_err rc = store_exec(db, name, sql, np, p, &res, err);
    *out = rc == RF_OK && PQntuples(res) > 0 ? hook_of(res, 0) : NULL;
    if (rc == RF_OK && PQntuples(res) > 0 && *out == NULL)
        rc = rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    PQclear(res);
    return rc;
}

/* Locks webhook id for this transaction and checks expect_version; *before
 * gets it. On a version conflict *current gets it too (a new reference). */
static rf_err lock_hook(rf_db *db, long long id, int expect_version, json_t **before,
                        json_t **current, rf_error *err)
{
    char ids[24];
    const char *p[] = {ids};
    rf_snprintf(ids, sizeof(ids), "%lld", id);
    rf_err rc = exec_hook(db, "webhook_lock",
                          "SELECT " HOOK_COLS "FROM webhooks WHERE id = $1 "
                          "FOR UPDATE",
                          1, p, before, err);
    if (rc == RF_OK && *before == NULL)
        return rf_error_set(err, RF_ERR_NOT_FOUND, "webhook %lld not found", id);
    int version = rc == RF_OK ? (int)json_integer_value(json_object_get(*before, "version")) : 0;
    if (rc == RF_OK && expect_version >= 0 && version != expect_version) {
        rc = rf_error_set(err, RF_ERR_CONFLICT,
                          "webhook %lld is at version %d, not %d (If-Match); reload it", id,
                          version, expect_version);
        if (current != NULL)
            *current = json_incref(*before);
    }
    return rc;
}

/* Ends the transaction: commit on RF_OK, else roll back; *out is released on
 * failure. */
static rf_err finish(rf_db *db, rf_err rc, json_t **out)
{
    if (rc == RF_OK)
        rc = store_commit(db);
    if (rc != RF_OK) {
        store_rollback(db);
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

static rf_err url_taken(rf_err rc, const webhook_spec *spec, rf_error *err)
{
    if (rc == RF_ERR_CONFLICT)
        return rf_error_set(err, RF_ERR_CONFLICT,
                            "field 'url': another webhook already posts to %.200s", spec->url);
    return rc;
}

rf_err store_webhook_create(rf_db *db, const webhook_spec *spec, const char *key_id,
                            const char *actor, json_t **out, long long *id, rf_error *err)
{
    char events[512], enabled[2];
    PGresult *res = NULL;
    const char *p[] = {spec->url, events, spec->description, enabled, key_id, actor};
    webhook_spec_events_literal(spec, events, sizeof(events));
    rf_snprintf(enabled, sizeof(enabled), "%s", spec->enabled ? "t" : "f");
    *out = NULL;
    *id = 0;
    rf_err rc = store_begin(db);
    if (rc != RF_OK)
        return rc;
    rc = store_exec(db, "webhook_count",
                    "SELECT pg_advisory_xact_lock(hashtext('ringfence.webhooks')), "
                    "(SELECT count(*) FROM webhooks)",
                    0, NULL, &res, err);
    if (rc == RF_OK && store_get_ll(res, 0, 1) >= WEBHOOK_MAX_HOOKS)
        rc = rf_error_set(err, RF_ERR_CONFLICT,
                          "there are %d webhooks already, the most there may be; delete one first",
                          WEBHOOK_MAX_HOOKS);
    PQclear(res);
    if (rc == RF_OK)
        rc = url_taken(exec_hook(db, "webhook_create",
                                 "INSERT INTO webhooks (url, events, description, enabled, key_id, "
                                 "since_event_id, created_by, updated_by) VALUES ($1, "
                                 "$2::text[], $3, $4::boolean, $5, "
                                 "(SELECT coalesce(max(id), 0) FROM events), $6, $6) "
                                 "RETURNING " HOOK_COLS,
                                 6, p, out, err),
                       spec, err);
    if (rc == RF_OK && *out == NULL)
        rc = rf_error_set(err, RF_ERR_INTERNAL, "webhook not created");
    if (rc == RF_OK) {
        *id = (long long)json_integer_value(json_object_get(*out, "id"));
        rc = add_event(db, "webhook.created", actor, *id, NULL, *out);
    }
    return finish(db, rc, out);
}

rf_err store_webhook_get(rf_db *db, long long id, json_t **out, rf_error *err)
{
    char ids[24];
    const char *p[] = {ids};
    rf_snprintf(ids, sizeof(ids), "%lld", id);
    rf_err rc = exec_hook(db, "webhook_get", "SELECT " HOOK_COLS "FROM webhooks WHERE id = $1", 1,
                          p, out, err);
    if (rc == RF_OK && *out == NULL)
        rc = rf_error_set(err, RF_ERR_NOT_FOUND, "webhook %lld not found", id);
    return rc;
}

/* Collects the rows of a list statement: at most limit (0: all) into a new
 * array *out; *more when a further row came back. */
static rf_err collect(rf_db *db, const char *name, const char *sql, int np, const char *const *p,
                      json_t *(*conv)(const PGresult *, int), int limit, json_t **out, int *more,
                      rf_error *err)
{
    PGresult *res = NULL;
    rf_err rc = store_exec(db, name, sql, np, p, &res, err);
    int n = rc == RF_OK ? PQntuples(res) : 0;
    *more = limit > 0 && n > limit;
    *out = rc == RF_OK ? json_array() : NULL;
    for (int i = 0; *out != NULL && i < n && (limit <= 0 || i < limit); i++)
        json_array_append_new(*out, conv(res, i));
    if (rc == RF_OK && *out == NULL)
        rc = rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    PQclear(res);
    return rc;
}

rf_err store_webhook_list(rf_db *db, long long after_id, int limit, json_t **out, int *more,
                          rf_error *err)
{
    char after[24], lim[16];
    const char *p[] = {after, lim};
    rf_snprintf(after, sizeof(after), "%lld", after_id);
    rf_snprintf(lim, sizeof(lim), "%d", limit > 0 ? limit + 1 : WEBHOOK_MAX_HOOKS * 4);
    return collect(db, "webhook_list",
                   "SELECT " HOOK_COLS "FROM webhooks WHERE id > $1 ORDER BY id LIMIT $2", 2, p,
                   hook_of, limit, out, more, err);
}

static rf_err cancel_pending(rf_db *db, long long id, const char *why, rf_error *err)
{
    char ids[24];
    const char *p[] = {ids, why};
    PGresult *res = NULL;
    rf_snprintf(ids, sizeof(ids), "%lld", id);
    rf_err rc = store_exec(db, "webhook_cancel",
                           "UPDATE webhook_deliveries SET state = 'cancelled', last_error = $2 "
                           "WHERE webhook_id = $1 AND state = 'pending'",
                           2, p, &res, err);
    PQclear(res);
    return rc;
}

#define UPDATE_SQL                                                                                 \
    "UPDATE webhooks SET url = coalesce($2, url), events = coalesce($3::text[], events), "         \
    "description = coalesce($4, description), enabled = coalesce($5::boolean, enabled), "          \
    "since_event_id = CASE WHEN NOT enabled AND $5::boolean "                                      \
    "THEN (SELECT coalesce(max(id), 0) FROM events) ELSE since_event_id END, "                     \
    "version = version + 1, updated_at = now(), updated_by = $6 WHERE id = $1 "                    \
    "RETURNING " HOOK_COLS

rf_err store_webhook_update(rf_db *db, long long id, const webhook_spec *spec, int expect_version,
                            const char *actor, json_t **out, json_t **current, rf_error *err)
{
    char ids[24], events[512];
    json_t *before = NULL;
    const char *p[] = {ids,
                       spec->has_url ? spec->url : NULL,
                       spec->has_events ? events : NULL,
                       spec->has_description ? spec->description : NULL,
                       spec->has_enabled ? (spec->enabled ? "t" : "f") : NULL,
                       actor};
    rf_snprintf(ids, sizeof(ids), "%lld", id);
    webhook_spec_events_literal(spec, events, sizeof(events));
    *out = NULL;
    *current = NULL;
    rf_err rc = store_begin(db);
    if (rc != RF_OK)
        return rc;
    rc = lock_hook(db, id, expect_version, &before, current, err);
    if (rc == RF_OK)
        rc = url_taken(exec_hook(db, "webhook_update", UPDATE_SQL, 6, p, out, err), spec, err);
    if (rc == RF_OK && *out == NULL)
        rc = rf_error_set(err, RF_ERR_NOT_FOUND, "webhook %lld not found", id);
    if (rc == RF_OK && spec->has_enabled && !spec->enabled)
        rc = cancel_pending(db, id, "webhook disabled", err);
    if (rc == RF_OK)
        rc = add_event(db, "webhook.updated", actor, id, before, *out);
    json_decref(before);
    return finish(db, rc, out);
}

rf_err store_webhook_delete(rf_db *db, long long id, int expect_version, const char *actor,
                            json_t **out, json_t **current, rf_error *err)
{
    char ids[24];
    const char *p[] = {ids};
    PGresult *res = NULL;
    rf_snprintf(ids, sizeof(ids), "%lld", id);
    *out = NULL;
    *current = NULL;
    rf_err rc = store_begin(db);
    if (rc != RF_OK)
        return rc;
    rc = lock_hook(db, id, expect_version, out, current, err);
    if (rc == RF_OK)
        rc =
            store_exec(db, "webhook_delete", "DELETE FROM webhooks WHERE id = $1", 1, p, &res, err);
    PQclear(res);
    if (rc == RF_OK)
        rc = cancel_pending(db, id, "webhook deleted", err);
    if (rc == RF_OK)
        rc = add_event(db, "webhook.deleted", actor, id, *out, NULL);
    return finish(db, rc, out);
}

rf_err store_webhook_rotate(rf_db *db, long long id, const char *key_id, int expect_version,
                            const char *actor, json_t **out, int *generation, json_t **current,
                            rf_error *err)
{
    char ids[24];
    json_t *before = NULL;
    const char *p[] = {ids, key_id, actor};
    rf_snprintf(ids, sizeof(ids), "%lld", id);
    *out = NULL;
    *current = NULL;
    *generation = 0;
    rf_err rc = store_begin(db);
    if (rc != RF_OK)
        return rc;
    rc = lock_hook(db, id, expect_version, &before, current, err);
    if (rc == RF_OK)
        rc = exec_hook(db, "webhook_rotate",
                       "UPDATE webhooks SET secret_generation = secret_generation + 1, "
                       "key_id = $2, version = version + 1, updated_at = now(), updated_by = $3 "
                       "WHERE id = $1 RETURNING " HOOK_COLS,
                       3, p, out, err);
    if (rc == RF_OK && *out == NULL)
        rc = rf_error_set(err, RF_ERR_NOT_FOUND, "webhook %lld not found", id);
    if (rc == RF_OK) {
        *generation = (int)json_integer_value(json_object_get(*out, "secret_generation"));
        rc = add_event(db, "webhook.secret_rotated", actor, id, before, *out);
    }
    json_decref(before);
    return finish(db, rc, out);
}

#define TEST_SQL                                                                                   \
    "WITH e AS (INSERT INTO events (kind, actor, data) VALUES ('webhook.test', $2, "               \
    "jsonb_build_object('webhook_id', $1::bigint, 'message', 'a test delivery asked for by ' || "  \
    "$2)) RETURNING id, at, kind, actor, rollout_id, data), "                                      \
    "d AS (INSERT INTO webhook_deliveries (webhook_id, url, event_id, kind, payload) "             \
    "SELECT w.id, w.url, e.id, e.kind, jsonb_build_object('id', e.id, 'at', e.at, 'kind', "        \
    "e.kind, 'actor', e.actor, 'rollout_id', e.rollout_id, 'data', e.data) FROM webhooks w, e "    \
    "WHERE w.id = $1 RETURNING *) "                                                                \
    "SELECT " DELIVERY_COLS " FROM d"

rf_err store_webhook_test(rf_db *db, long long id, const char *actor, json_t **out, rf_error *err)
{
    char ids[24];
    json_t *hook = NULL;
    const char *p[] = {ids, actor};
    PGresult *res = NULL;
    rf_snprintf(ids, sizeof(ids), "%lld", id);
    *out = NULL;
    rf_err rc = store_begin(db);
    if (rc != RF_OK)
        return rc;
    rc = lock_hook(db, id, -1, &hook, NULL, err);
    if (rc == RF_OK && !json_is_true(json_object_get(hook, "enabled")))
        rc = rf_error_set(err, RF_ERR_CONFLICT,
                          "webhook %lld is disabled: enable it (PATCH {\"enabled\": true}) to test "
                          "it",
                          id);
    if (rc == RF_OK)
        rc = store_exec(db, "webhook_test", TEST_SQL, 2, p, &res, err);
    if (rc == RF_OK && PQntuples(res) == 1)
        *out = delivery_of(res, 0);
    else if (rc == RF_OK)
        rc = rf_error_set(err, RF_ERR_INTERNAL, "test delivery not queued");
    PQclear(res);
    json_decref(hook);
    return finish(db, rc, out);
}

rf_err store_webhook_deliveries(rf_db *db, long long webhook_id, const char *state,
                                long long before_id, int limit, json_t **out, int *more,
                                rf_error *err)
{
    char hid[24], before[24], lim[16];
    const char *p[] = {hid, state, before, lim};
    rf_snprintf(hid, sizeof(hid), "%lld", webhook_id);
    rf_snprintf(before, sizeof(before), "%lld", before_id);
    rf_snprintf(lim, sizeof(lim), "%d", limit + 1);
    return collect(db, "webhook_deliveries",
                   "SELECT " DELIVERY_COLS " FROM webhook_deliveries WHERE ($1::bigint = 0 OR "
                   "webhook_id = $1::bigint) AND ($2::text IS NULL OR state = $2) AND "
                   "($3::bigint = 0 OR id < $3::bigint) ORDER BY id DESC LIMIT $4",
                   4, p, delivery_of, limit, out, more, err);
}
