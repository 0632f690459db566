/* User tokens (store_token.c). Only the SHA-256 of a token is ever stored or
 * looked up; the token itself never reaches this layer. */
#ifndef RF_STORE_TOKEN_H
#define RF_STORE_TOKEN_H

#include "store.h"

/* Inserts a token row. role is "viewer", "release" or "admin"; hash_hex is the
 * 64-hex-digit SHA-256 of the token. RF_ERR_CONFLICT (with a message naming
 * it) when the name is taken. */
rf_err store_token_create(rf_db *db, const char *name, const char *role, const char *hash_hex,
                          rf_error *err);

/* Finds a token that is not revoked by the hash of its value. Fills role and
 * name; RF_ERR_NOT_FOUND when there is none. */
rf_err store_token_lookup(rf_db *db, const char *hash_hex, char role[16], char name[128],
                          rf_error *err);

#endif
