/* Rings (store_ring.c): stable cohorts of devices, selected by labels and a
 * bucket range, ordered by "ord". */
#ifndef RF_STORE_RING_H
#define RF_STORE_RING_H

#include "store.h"
#include <stddef.h>

typedef struct store_ring {
    long long id;
    char name[65];
    int order;
    json_t *labels; /* owned: object of string → string */
    int bucket_lo, bucket_hi;
    int version;
    char created[32];
} store_ring;

typedef struct store_ring_list {
    store_ring *items;
    size_t n;
} store_ring_list;

/* Every ring, by order ascending. The caller cleans *out up. */
rf_err store_ring_list_all(rf_db *db, store_ring_list *out, rf_error *err);
/* One ring; RF_ERR_NOT_FOUND if none. for_update locks the row (inside a
 * transaction). */
rf_err store_ring_get(rf_db *db, long long id, int for_update, store_ring *out, rf_error *err);
void store_ring_cleanup(store_ring *r);           /* NULL-safe */
void store_ring_list_cleanup(store_ring_list *l); /* NULL-safe */

/* RF_ERR_CONFLICT (naming the clash) when another ring than except_id has
 * r's name or order. */
rf_err store_ring_check_unique(rf_db *db, const store_ring *r, long long except_id, rf_error *err);
/* Inserts r; fills r->id, r->version and r->created. */
rf_err store_ring_insert(rf_db *db, store_ring *r, rf_error *err);
/* Replaces name, order, labels and buckets of ring r->id and bumps its
 * version; fills r->version and r->created. */
rf_err store_ring_update(rf_db *db, store_ring *r, rf_error *err);
rf_err store_ring_delete(rf_db *db, long long id, rf_error *err);
/* RF_ERR_CONFLICT when a rollout in active, paused or halted state uses ring
 * id (or, when any_state, any rollout at all), naming it. */
rf_err store_ring_check_unused(rf_db *db, long long id, int any_state, rf_error *err);

#endif
