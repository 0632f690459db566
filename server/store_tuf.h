/* The TUF repository's storage (store_tuf.c): every signed metadata version
 * as the exact bytes served, with its expiry, and the published targets.
 * Writers take the repository's transaction-scoped advisory lock first
 * (store_tuf_lock), so several servers never race for a version number; the
 * primary key (role, version) backs that up. Nothing here signs or decides. */
#ifndef RF_STORE_TUF_H
#define RF_STORE_TUF_H

#include "rf_buf.h"
#include "store.h"
#include "tuf_repo.h"

#define STORE_TUF_MAX_TARGETS 10000 /* one targets.json; tuf-js reads at most 5 MB of it */

/* Takes the repository lock until the end of db's open transaction. */
rf_err store_tuf_lock(rf_db *db, rf_error *err);
/* The newest version of each role and its expiry (version 0: none yet). */
rf_err store_tuf_heads(rf_db *db, tuf_heads *out, rf_error *err);
/* The stored bytes of role at version (0: the newest) into out (replacing
 * what it held, within its cap); *version_out (may be NULL) gets the version.
 * RF_ERR_NOT_FOUND when there is none. */
rf_err store_tuf_body(rf_db *db, tuf_role role, long long version, rf_buf *out,
                      long long *version_out, rf_error *err);
/* Stores body as role's version (RF_ERR_CONFLICT if it exists) and forgets
 * versions of targets, snapshot and timestamp older than keep behind it
 * (root versions are kept forever: clients walk the chain). */
rf_err store_tuf_put(rf_db *db, tuf_role role, long long version, int64_t expires_s,
                     const char *body, size_t len, int keep, rf_error *err);

/* Records t as a published target. RF_ERR_CONFLICT (with a message naming
 * the path) when another bundle holds the path. */
rf_err store_tuf_target_add(rf_db *db, const tuf_target *t, rf_error *err);
/* Every published target, by path; *items is malloc'd (free() it).
 * RF_ERR_TOO_LARGE past STORE_TUF_MAX_TARGETS. */
rf_err store_tuf_targets(rf_db *db, tuf_target **items, size_t *n, rf_error *err);
/* The bytes of the target at path whose published SHA-256 is sha256:
 * *data is malloc'd (free() it). RF_ERR_NOT_FOUND when there is none. */
rf_err store_tuf_target_content(rf_db *db, const char *path, const char *sha256, char **data,
                                size_t *len, rf_error *err);

#endif
