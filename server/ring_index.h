/* The rings as assign.c sees them: selectors with sorted members and parsed
 * start windows, built from store_ring rows, so every view (ring counts,
 * previews, device lists, assignments, exposures) decides membership with
 * the same code. No SQL here beyond loading the rows through store_ring.c. */
#ifndef RF_RING_INDEX_H
#define RF_RING_INDEX_H

#include "assign.h"
#include "store_ring.h"

typedef struct ring_index {
    store_ring_list rings;  /* owned, by order ascending */
    assign_ring *sel;       /* rings.n entries */
    const char **members;   /* storage for every ring's sorted member pointers */
    assign_window *windows; /* storage for every ring's windows */
} ring_index;

/* Loads every ring and builds the index. The caller cleans *ix up. */
rf_err ring_index_load(rf_db *db, ring_index *ix, rf_error *err);
/* Builds the index over rings (taken over: *rings is emptied). */
rf_err ring_index_take(ring_index *ix, store_ring_list *rings, rf_error *err);
void ring_index_cleanup(ring_index *ix); /* NULL-safe */

/* Index of the device's ring, or -1. */
int ring_index_of(const ring_index *ix, const char *device_id, const json_t *labels, int bucket);
/* Index of ring id, or -1. */
int ring_index_pos(const ring_index *ix, long long ring_id);

/* Parses and checks a "windows" value (NULL: none) into out[] (room for
 * ASSIGN_MAX_WINDOWS); RF_ERR_INVALID naming the field under `field`. */
rf_err ring_windows_parse(const char *field, const json_t *v, assign_window *out, int *n,
                          rf_error *err);

#endif
