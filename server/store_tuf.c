/* Named queries of the TUF repository. Metadata bodies are text stored and
 * returned byte for byte (never jsonb, which would reformat them and break the
 * hashes timestamp and snapshot carry). Target bytes come from the bundle
 * row, in binary. It never signs, and never rewrites a stored version. */
#include "store_tuf.h"
#include "store_internal.h"
#include "rf_util.h"

#include <stdlib.h>
#include <string.h>

#define TUF_LOCK_KEY "7266003" /* "rf" + 3: the TUF repository */

rf_err store_tuf_lock(rf_db *db, rf_error *err)
{
    PGresult *r = NULL;
    rf_err rc = store_exec(db, "tuf_lock", "SELECT pg_advisory_xact_lock(" TUF_LOCK_KEY ")", 0,
                           NULL, &r, err);

    PQclear(r);
    return rc;
}

rf_err store_tuf_heads(rf_db *db, tuf_heads *out, rf_error *err)
{
    PGresult *r = NULL;
    rf_err rc;

    memset(out, 0, sizeof(*out));
    rc = store_exec(db, "tuf_heads",
                    "SELECT DISTINCT ON (role) role, version, "
                    "extract(epoch FROM expires_at)::bigint FROM tuf_metadata "
                    "ORDER BY role, version DESC",
                    0, NULL, &r, err);
    for (int i = 0; rc == RF_OK && i < PQntuples(r); i++) {
        tuf_role role;
        if (tuf_role_parse(store_get(r, i, 0), &role) != 0 || role >= TUF_DIRECTOR)
            continue;
        out->role[role].version = store_get_ll(r, i, 1);
        out->role[role].expires_s = store_get_ll(r, i, 2);
    }
    PQclear(r);
    return rc;
}

rf_err store_tuf_body(rf_db *db, tuf_role role, long long version, rf_buf *out,
                      long long *version_out, rf_error *err)
{
    char vs[24];
    const char *p[] = {tuf_role_name(role), vs};
    PGresult *r = NULL;
    rf_err rc;

    rf_snprintf(vs, sizeof(vs), "%lld", version);
    rc = store_exec(db, "tuf_body",
                    "SELECT version, body FROM tuf_metadata WHERE role = $1 "
                    "AND ($2::bigint = 0 OR version = $2::bigint) ORDER BY version DESC LIMIT 1",
                    2, p, &r, err);
    if (rc == RF_OK && PQntuples(r) != 1)
        rc = rf_error_set(err, RF_ERR_NOT_FOUND, "no %s metadata version %lld", p[0], version);
    if (rc == RF_OK) {
        rf_buf_reset(out);
        rc = rf_buf_append(out, PQgetvalue(r, 0, 1), (size_t)PQgetlength(r, 0, 1));
        if (rc != RF_OK)
            rf_error_set(err, rc, "%s metadata larger than %zu bytes", p[0], out->cap);
    }
    if (rc == RF_OK && version_out != NULL)
        *version_out = store_get_ll(r, 0, 0);
    PQclear(r);
    return rc;
}

rf_err store_tuf_put(rf_db *db, tuf_role role, long long version, int64_t expires_s,
                     const char *body, size_t len, int keep, rf_error *err)
{
    char vs[24], es[24], ks[24];
    const char *p[] = {tuf_role_name(role), vs, body, es};
    const char *q[] = {tuf_role_name(role), vs, ks};
    int lengths[] = {0, 0, (int)len, 0};
    int formats[] = {0, 0, 0, 0};
    PGresult *r = NULL;
    rf_err rc;

    if (len > 0x7fffffff || strlen(body) != len)
        return rf_error_set(err, RF_ERR_INVALID, "metadata body malformed");
    rf_snprintf(vs, sizeof(vs), "%lld", version);
    rf_snprintf(es, sizeof(es), "%lld", (long long)expires_s);
    rf_snprintf(ks, sizeof(ks), "%d", keep);
    rc = store_exec_params(db, "tuf_put",
                           "INSERT INTO tuf_metadata (role, version, body, expires_at) "
                           "VALUES ($1, $2::bigint, $3, to_timestamp($4::bigint))",
                           4, p, lengths, formats, 0, &r, err);
    PQclear(r);
    r = NULL;
    if (rc == RF_ERR_CONFLICT)
        return rf_error_set(err, rc, "%s version %lld exists already", p[0], version);
    if (rc == RF_OK && role != TUF_ROOT && keep > 0)
        rc = store_exec(db, "tuf_prune",
                        "DELETE FROM tuf_metadata WHERE role = $1 AND role <> 'root' "
                        "AND version <= $2::bigint - $3::bigint",
                        3, q, &r, err);
    PQclear(r);
    return rc;
}

rf_err store_tuf_target_add(rf_db *db, const tuf_target *t, rf_error *err)
{
    char ids[24], lens[24];
    const char *p[] = {t->path, ids, lens, t->sha256};
    PGresult *r = NULL;
    rf_err rc;

    rf_snprintf(ids, sizeof(ids), "%lld", t->bundle_id);
    rf_snprintf(lens, sizeof(lens), "%lld", t->length);
    /* ON CONFLICT keeps the caller's transaction usable for a clear answer. */
    rc = store_exec(db, "tuf_target_add",
                    "INSERT INTO tuf_targets (path, bundle_id, length, sha256) "
                    "VALUES ($1, $2::bigint, $3::bigint, $4) ON CONFLICT DO NOTHING RETURNING path",
                    4, p, &r, err);
    if (rc == RF_OK && PQntuples(r) != 1)
        rc = rf_error_set(err, RF_ERR_CONFLICT,
                          "target path %s is taken by another bundle (a name and version that "
                          "read the same); choose another version",
                          t->path);
    PQclear(r);
    return rc;
}

static void fill_target(const PGresult *r, int row, tuf_target *t)
{
    memset(t, 0, sizeof(*t));
    rf_copy_str(t->path, sizeof(t->path), store_get(r, row, 0));
    rf_copy_str(t->channel, sizeof(t->channel), store_get(r, row, 1));
    rf_copy_str(t->name, sizeof(t->name), store_get(r, row, 2));
    rf_copy_str(t->version, sizeof(t->version), store_get(r, row, 3));
    rf_copy_str(t->sha256, sizeof(t->sha256), store_get(r, row, 4));
    t->length = store_get_ll(r, row, 5);
    t->bundle_id = store_get_ll(r, row, 6);
}

rf_err store_tuf_targets(rf_db *db, tuf_target **items, size_t *n, rf_error *err)
{
    char lim[16];
    const char *p[] = {lim};
    PGresult *r = NULL;
    rf_err rc;
    int rows;

    *items = NULL;
    *n = 0;
    rf_snprintf(lim, sizeof(lim), "%d", STORE_TUF_MAX_TARGETS + 1);
    rc = store_exec(db, "tuf_targets",
                    "SELECT t.path, b.channel, b.name, b.version, t.sha256, t.length, t.bundle_id "
                    "FROM tuf_targets t JOIN bundles b ON b.id = t.bundle_id "
                    "ORDER BY t.path LIMIT $1::int",
                    1, p, &r, err);
    if (rc != RF_OK)
        goto out;
    rows = PQntuples(r);
    if (rows > STORE_TUF_MAX_TARGETS) {
        rc = rf_error_set(err, RF_ERR_TOO_LARGE,
                          "the repository holds %d targets, the most one targets.json lists",
                          STORE_TUF_MAX_TARGETS);
        goto out;
    }
    *items = calloc(rows ? (size_t)rows : 1, sizeof(**items));
    if (*items == NULL) {
        rc = rf_error_set(err, RF_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < rows; i++)
        fill_target(r, i, &(*items)[i]);
    *n = (size_t)rows;
out:
    PQclear(r);
    return rc;
}

rf_err store_tuf_target_content(rf_db *db, const char *path, const char *sha256, char **data,
                                size_t *len, rf_error *err)
{
    const char *p[] = {path, sha256};
    PGresult *r = NULL;
    rf_err rc;
    int n;

    *data = NULL;
    *len = 0;
    rc = store_exec_params(db, "tuf_target_content",
                           "SELECT b.content FROM tuf_targets t JOIN bundles b ON b.id = "
                           "t.bundle_id WHERE t.path = $1 AND t.sha256 = $2",
                           2, p, NULL, NULL, 1, &r, err);
    if (rc == RF_OK && PQntuples(r) != 1)
        rc = rf_error_set(err, RF_ERR_NOT_FOUND, "no such target");
    if (rc != RF_OK)
        goto out;
    n = PQgetlength(r, 0, 0);
    *data = malloc(n > 0 ? (size_t)n : 1);
    if (*data == NULL) {
        rc = rf_error_set(err, RF_ERR_NOMEM, "out of memory");
        goto out;
    }
    memcpy(*data, PQgetvalue(r, 0, 0), (size_t)n);
    *len = (size_t)n;
out:
    PQclear(r);
    return rc;
}
