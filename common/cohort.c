/* Cohort bucketing and ring selection: which ring a device belongs to.
 * Pure functions of their arguments — no I/O, no clock, no randomness — so
 * anyone can recompute why a device received a bundle, and unit tests can
 * drive them exhaustively. Nothing here may depend on the order of keys in a
 * JSON object or on anything but the device's id, labels and bucket. */
#include "rf_cohort.h"
#include "rf_crypto.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

static uint32_t bucket_of_digest(const uint8_t d[RF_SHA256_LEN])
{
    uint32_t v = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
    return v % RF_BUCKETS;
}

uint32_t rf_bucket(const char *device_id)
{
    uint8_t d[RF_SHA256_LEN];
    const char *id = device_id != NULL ? device_id : "";
    rf_sha256(id, strlen(id), d);
    return bucket_of_digest(d);
}

uint32_t rf_bucket_salted(const char *salt, const char *device_id)
{
    uint8_t d[RF_SHA256_LEN];
    const char *s = salt != NULL ? salt : "";
    const char *id = device_id != NULL ? device_id : "";
    size_t sl = strlen(s), il = strlen(id);
    char small[512];
    /* Ids and salts are short, so the message is built on the stack; a longer
     * pair goes to the heap, and running out of memory there aborts like any
     * digest allocation does (see rf_crypto.h). */
    char *msg = sl + il + 1 <= sizeof(small) ? small : malloc(sl + il + 1);
    if (msg == NULL)
        abort();
    memcpy(msg, s, sl);
    msg[sl] = ':';
    memcpy(msg + sl + 1, id, il);
    rf_sha256(msg, sl + il + 1, d);
    if (msg != small)
        free(msg);
    return bucket_of_digest(d);
}

/* 1 if every label of want is present with the same string value in have. */
static int labels_match(const json_t *want, const json_t *have)
{
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)want, key, val)
    {
        json_t *got = json_object_get(have, key);
        /* A selector value that is not a string can never be met. */
        if (!json_is_string(val) || !json_is_string(got) ||
            json_string_length(val) != json_string_length(got) ||
            memcmp(json_string_value(val), json_string_value(got), json_string_length(val)) != 0)
            return 0;
    }
    return 1;
}

int rf_ring_matches(const rf_ring_sel *r, const json_t *device_labels, uint32_t bucket)
{
    if (r == NULL)
        return 0;
    if ((long long)bucket < r->bucket_lo || (long long)bucket > r->bucket_hi)
        return 0;
    if (r->labels == NULL)
        return 1;
    if (!json_is_object(r->labels))
        return 0;
    return labels_match(r->labels, device_labels);
}

int rf_ring_of(const rf_ring_sel *rings, size_t n, const json_t *device_labels, uint32_t bucket)
{
    int best = -1;
    /* The lowest order wins even if the caller's array is not sorted; among
     * equal orders, the earlier entry. */
    for (size_t i = 0; i < n && i <= (size_t)INT_MAX; i++) {
        if (!rf_ring_matches(&rings[i], device_labels, bucket))
            continue;
        if (best < 0 || rings[i].order < rings[best].order)
            best = (int)i;
    }
    return best;
}
