/* Publishing the TUF repository (tuf_publish.c): the thin shell that takes the
 * repository lock, reads what is stored, has tuf_repo.c build and sign the
 * next versions with the online keys, and stores them. Every function runs
 * inside the caller's open transaction, so a bundle and the metadata that
 * lists it commit together or not at all. It never signs with a key that the
 * newest root does not name for the role. */
#ifndef RF_TUF_PUBLISH_H
#define RF_TUF_PUBLISH_H

#include "store.h"
#include "tuf_keys.h"
#include "tuf_repo.h"

#define TUF_KEEP_VERSIONS 64 /* older targets/snapshot/timestamp versions are dropped */
#define TUF_META_CAP (8u << 20)

void tuf_periods_of(const rf_config *cfg, tuf_periods *out);

/* The newest root, parsed; RF_ERR_NOT_FOUND when the repository has none
 * (run `ringfenced keys init`). raw (may be NULL) gets its bytes. */
rf_err tuf_publish_latest_root(rf_db *db, tuf_root *out, rf_buf *raw, rf_error *err);

/* Re-signs the chain from `from` (TUF_TARGETS: targets, snapshot, timestamp;
 * TUF_SNAPSHOT: snapshot, timestamp; TUF_TIMESTAMP: timestamp), each version
 * one past the newest stored, expiring at now_s plus its period. Takes the
 * lock and checks ks against the newest root first. */
rf_err tuf_publish_chain(rf_db *db, tuf_keyset *ks, const tuf_periods *p, int64_t now_s,
                         tuf_role from, rf_error *err);

/* Adds t to the published targets and publishes the chain from targets. */
rf_err tuf_publish_target(rf_db *db, tuf_keyset *ks, const tuf_periods *p, int64_t now_s,
                          const tuf_target *t, rf_error *err);

/* Under the lock, re-signs what tuf_plan_refresh finds due (nothing when
 * another server did it first). *what gets the chain's first role, or
 * TUF_NROLES when nothing was due. */
rf_err tuf_publish_refresh(rf_db *db, tuf_keyset *ks, const tuf_periods *p, int64_t now_s,
                           tuf_role *what, rf_error *err);

/* Stores body, the signed root root->version, which must be exactly one past
 * the newest stored root (RF_ERR_CONFLICT otherwise). */
rf_err tuf_publish_root(rf_db *db, const tuf_root *root, const rf_buf *body, rf_error *err);

#endif
