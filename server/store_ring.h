/* Rings (store_ring.c): stable cohorts of devices, selected by explicit
 * members, labels and a bucket range, ordered by "ord", with start windows. */
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
    json_t *members;  /* owned: array of device ids, sorted ascending */
    int members_only; /* select the members and nobody else */
    json_t *windows;  /* owned: array of {"days": [...], "hours": [from, to]} */
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

/* The live rollout (active, paused or halted) using a ring whose order is
 * above `order` (> order, or >= when inclusive), if any: *rollout_id (0:
 * none), its state and the ring's name, for the refusal message. */
rf_err store_ring_live_above(rf_db *db, int order, int inclusive, long long *rollout_id,
                             char state[16], char ring[65], rf_error *err);

/* Ids of the live rollouts (active, paused, halted) whose plan uses ring id,
 * as a new reference to a JSON array. */
rf_err store_ring_live_rollouts(rf_db *db, long long id, json_t **out, rf_error *err);

#endif
