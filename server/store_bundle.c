/* Named queries for bundles. Bundle rows are immutable once their signed
 * metadata is set; nothing here deletes or rewrites content. Content travels
 * as a binary parameter and a binary result so a 64 MiB bundle is not doubled
 * into hex on the way. */
#include "store_bundle.h"
#include "store_internal.h"
#include "rf_util.h"

#include <stdlib.h>
#include <string.h>

#define BUNDLE_COLS                                                                                \
    "id, channel, name, version, sha256, length, " STORE_ISO("created_at") ", created_by"

static void fill(const PGresult *r, int row, store_bundle *b)
{
    memset(b, 0, sizeof(*b));
    b->id = store_get_ll(r, row, 0);
    rf_copy_str(b->channel, sizeof(b->channel), store_get(r, row, 1));
    rf_copy_str(b->name, sizeof(b->name), store_get(r, row, 2));
    rf_copy_str(b->version, sizeof(b->version), store_get(r, row, 3));
    rf_copy_str(b->sha256, sizeof(b->sha256), store_get(r, row, 4));
    b->length = store_get_ll(r, row, 5);
    rf_copy_str(b->created, sizeof(b->created), store_get(r, row, 6));
    rf_copy_str(b->created_by, sizeof(b->created_by), store_get(r, row, 7));
}

static rf_err one(rf_db *db, const char *name, const char *sql, int np, const char *const *p,
                  store_bundle *out, rf_error *err)
{
    PGresult *r = NULL;
    rf_err rc = store_exec(db, name, sql, np, p, &r, err);

    if (rc == RF_OK && PQntuples(r) != 1)
        rc = rf_error_set(err, RF_ERR_NOT_FOUND, "bundle not found");
    if (rc == RF_OK)
        fill(r, 0, out);
    PQclear(r);
    return rc;
}

rf_err store_bundle_find(rf_db *db, const char *channel, const char *name, const char *version,
                         store_bundle *out, rf_error *err)
{
    const char *p[] = {channel, name, version};

    return one(db, "bundle_find",
               "SELECT " BUNDLE_COLS " FROM bundles WHERE channel = $1 AND name = $2 "
               "AND version = $3",
               3, p, out, err);
}

rf_err store_bundle_get(rf_db *db, long long id, store_bundle *out, rf_error *err)
{
    char ids[24];
    const char *p[] = {ids};

    rf_snprintf(ids, sizeof(ids), "%lld", id);
    return one(db, "bundle_get", "SELECT " BUNDLE_COLS " FROM bundles WHERE id = $1", 1, p, out,
               err);
}

rf_err store_bundle_insert(rf_db *db, store_bundle *b, const void *content, size_t len,
                           rf_error *err)
{
    char lens[24];
    const char *p[] = {b->channel, b->name, b->version, b->sha256, lens, content, b->created_by};
    int lengths[] = {0, 0, 0, 0, 0, (int)len, 0};
    int formats[] = {0, 0, 0, 0, 0, 1, 0};
    PGresult *r = NULL;
    rf_err rc;

    if (len > 0x7fffffff)
        return rf_error_set(err, RF_ERR_TOO_LARGE, "bundle too large");
    rf_snprintf(lens, sizeof(lens), "%zu", len);
    rc = store_exec_params(db, "bundle_insert",
                           "INSERT INTO bundles (channel, name, version, sha256, length, content, "
                           "metadata, created_by) VALUES ($1, $2, $3, $4, $5::bigint, $6::bytea, "
                           "'{}'::jsonb, $7) RETURNING id, " STORE_ISO("created_at"),
                           7, p, lengths, formats, 0, &r, err);
    if (rc == RF_OK) {
        b->id = store_get_ll(r, 0, 0);
        rf_copy_str(b->created, sizeof(b->created), store_get(r, 0, 1));
        b->length = (long long)len;
    }
    PQclear(r);
    return rc;
}

rf_err store_bundle_set_metadata(rf_db *db, long long id, const char *metadata_json, rf_error *err)
{
    char ids[24];
    const char *p[] = {ids, metadata_json};
    PGresult *r = NULL;
    rf_err rc;

    rf_snprintf(ids, sizeof(ids), "%lld", id);
    rc = store_exec(db, "bundle_set_metadata",
                    "UPDATE bundles SET metadata = $2::jsonb WHERE id = $1", 2, p, &r, err);
    PQclear(r);
    return rc;
}

rf_err store_bundle_list(rf_db *db, const char *channel, const char *version, long long before,
                         int limit, store_bundle **items, size_t *n, rf_error *err)
{
    char lim[16], bef[24];
    const char *p[] = {channel, version, before > 0 ? bef : NULL, lim};
    PGresult *r = NULL;
    rf_err rc;
    int rows;

    *items = NULL;
    *n = 0;
    rf_snprintf(lim, sizeof(lim), "%d", limit);
    rf_snprintf(bef, sizeof(bef), "%lld", before);
    rc = store_exec(db, "bundle_page",
                    "SELECT " BUNDLE_COLS " FROM bundles WHERE ($1::text IS NULL OR channel = $1) "
                    "AND ($2::text IS NULL OR version = $2) AND ($3::bigint IS NULL OR id < $3) "
                    "ORDER BY id DESC LIMIT $4",
                    4, p, &r, err);
    if (rc != RF_OK)
        goto out;
    rows = PQntuples(r);
    *items = calloc(rows ? (size_t)rows : 1, sizeof(**items));
    if (!*items) {
        rc = rf_error_set(err, RF_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < rows; i++)
        fill(r, i, &(*items)[i]);
    *n = (size_t)rows;
out:
    PQclear(r);
    return rc;
}

rf_err store_bundle_content(rf_db *db, long long id, char **data, size_t *len, char sha256[65],
                            rf_error *err)
{
    char ids[24];
    const char *p[] = {ids};
    PGresult *r = NULL;
    rf_err rc;
    int n;

    *data = NULL;
    *len = 0;
    rf_snprintf(ids, sizeof(ids), "%lld", id);
    rc =
        store_exec_params(db, "bundle_content", "SELECT content, sha256 FROM bundles WHERE id = $1",
                          1, p, NULL, NULL, 1, &r, err);
    if (rc != RF_OK)
        goto out;
    if (PQntuples(r) != 1) {
        rc = rf_error_set(err, RF_ERR_NOT_FOUND, "bundle %lld not found", id);
        goto out;
    }
    n = PQgetlength(r, 0, 0);
    *data = malloc(n > 0 ? (size_t)n : 1);
    if (!*data) {
        rc = rf_error_set(err, RF_ERR_NOMEM, "out of memory");
        goto out;
    }
    memcpy(*data, PQgetvalue(r, 0, 0), (size_t)n);
    *len = (size_t)n;
    /* Binary text is the raw bytes without a terminator. */
    n = PQgetlength(r, 0, 1);
    if (n != 64) {
        rc = rf_error_set(err, RF_ERR_INTERNAL, "bundle %lld has a malformed digest", id);
        goto out;
    }
    memcpy(sha256, PQgetvalue(r, 0, 1), 64);
    sha256[64] = '\0';
out:
    PQclear(r);
    if (rc != RF_OK) {
        free(*data);
        *data = NULL;
        *len = 0;
    }
    return rc;
}

rf_err store_bundle_metadata(rf_db *db, long long id, char **json_text, rf_error *err)
{
    char ids[24];
    const char *p[] = {ids};
    PGresult *r = NULL;
    rf_err rc;

    *json_text = NULL;
    rf_snprintf(ids, sizeof(ids), "%lld", id);
    rc = store_exec(db, "bundle_metadata", "SELECT metadata::text FROM bundles WHERE id = $1", 1, p,
                    &r, err);
    if (rc != RF_OK)
        goto out;
    if (PQntuples(r) != 1) {
        rc = rf_error_set(err, RF_ERR_NOT_FOUND, "bundle %lld not found", id);
        goto out;
    }
    *json_text = strdup(store_get(r, 0, 0));
    if (!*json_text)
        rc = rf_error_set(err, RF_ERR_NOMEM, "out of memory");
out:
    PQclear(r);
    return rc;
}
