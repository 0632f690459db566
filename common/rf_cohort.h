/* Cohort bucketing and ring selection: pure functions, no I/O.
 * bucket = first 4 bytes of SHA-256(device id), big-endian, mod 10000.
 * Anyone can recompute why a device is in a ring. */
#ifndef RF_COHORT_H
#define RF_COHORT_H

#include <jansson.h>
#include <stdint.h>

#define RF_BUCKETS 10000

uint32_t rf_bucket(const char *device_id);

/* Salted order within a ring (for issue 4's share-of-ring stages):
 * first 4 bytes of SHA-256(salt ":" device_id) mod 10000. */
uint32_t rf_bucket_salted(const char *salt, const char *device_id);

/* A ring's selector. labels is a JSON object of string → string (borrowed);
 * a device matches when every label is equal on the device AND its bucket is
 * in [bucket_lo, bucket_hi]. An empty label object matches every device. */
typedef struct rf_ring_sel {
    long long id;
    int order;
    const json_t *labels;
    int bucket_lo, bucket_hi;
} rf_ring_sel;

int rf_ring_matches(const rf_ring_sel *r, const json_t *device_labels, uint32_t bucket);

/* Index into rings (sorted by order ascending) of the first ring that selects
 * the device, or -1 if none does. */
int rf_ring_of(const rf_ring_sel *rings, size_t n, const json_t *device_labels, uint32_t bucket);

#endif
