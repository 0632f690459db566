/* Named queries for user tokens. Tokens are matched by the SHA-256 of their
 * value, decoded from hex in SQL; the token itself never reaches the database
 * and is never logged. */
#include "store_token.h"
#include "store_internal.h"

#include "rf_util.h"

#include <string.h>

rf_err store_token_create(rf_db *db, const char *name, const char *role, const char *hash_hex,
                          rf_error *err)
{
    const char *p[] = {name, role, hash_hex};
    PGresult *r = NULL;
    rf_err rc;

    rc =
        store_exec(db, "token_create",
                   "INSERT INTO tokens (name, role, token_hash) VALUES ($1, $2, decode($3, 'hex'))",
                   3, p, &r, err);
    PQclear(r);
    if (rc == RF_ERR_CONFLICT)
        rc = rf_error_set(err, RF_ERR_CONFLICT, "a token named '%s' already exists", name);
    return rc;
}

rf_err store_token_lookup(rf_db *db, const char *hash_hex, char role[16], char name[128],
                          rf_error *err)
{
    const char *p[] = {hash_hex};
    PGresult *r = NULL;
    rf_err rc;

    role[0] = name[0] = '\0';
    rc = store_exec(db, "token_lookup",
                    "SELECT role, name FROM tokens WHERE token_hash = decode($1, 'hex') "
                    "AND revoked_at IS NULL",
                    1, p, &r, err);
    if (rc != RF_OK)
        goto out;
    if (PQntuples(r) != 1) {
        rc = rf_error_set(err, RF_ERR_NOT_FOUND, "unknown token");
        goto out;
    }
    rc = rf_snprintf(role, 16, "%s", store_get(r, 0, 0));
    if (rc == RF_OK)
        rc = rf_snprintf(name, 128, "%s", store_get(r, 0, 1));
out:
    PQclear(r);
    return rc;
}
