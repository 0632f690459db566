/* Bundles (store_bundle.c): immutable artifacts with their signed metadata.
 * Content is passed to and from PostgreSQL in binary, never as hex text. */
#ifndef RF_STORE_BUNDLE_H
#define RF_STORE_BUNDLE_H

#include "store.h"
#include <stddef.h>

typedef struct store_bundle {
    long long id;
    char channel[65];
    char name[65];
    char version[65];
    char sha256[65];
    long long length;
    char created[32];
    char created_by[128];
} store_bundle;

/* The bundle with this channel/name/version; RF_ERR_NOT_FOUND if none. */
rf_err store_bundle_find(rf_db *db, const char *channel, const char *name, const char *version,
                         store_bundle *out, rf_error *err);
/* Inserts b (everything but id and created) with content and a placeholder
 * metadata; fills b->id and b->created. RF_ERR_CONFLICT when the triple
 * exists already (the caller's transaction is then aborted). */
rf_err store_bundle_insert(rf_db *db, store_bundle *b, const void *content, size_t len,
                           rf_error *err);
/* Stores the signed envelope (JSON text) of bundle id. */
rf_err store_bundle_set_metadata(rf_db *db, long long id, const char *metadata_json, rf_error *err);
rf_err store_bundle_get(rf_db *db, long long id, store_bundle *out, rf_error *err);
/* Newest first, at most limit, ids below `before` (0: from the newest); only
 * channel's and version's when they are not NULL. *items is malloc'd (free()
 * it). */
rf_err store_bundle_list(rf_db *db, const char *channel, const char *version, long long before,
                         int limit, store_bundle **items, size_t *n, rf_error *err);
/* The bytes of bundle id: *data is malloc'd (free() it); sha256 filled. */
rf_err store_bundle_content(rf_db *db, long long id, char **data, size_t *len, char sha256[65],
                            rf_error *err);
/* The signed metadata of bundle id as JSON text (malloc'd). */
rf_err store_bundle_metadata(rf_db *db, long long id, char **json_text, rf_error *err);

#endif
