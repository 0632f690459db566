/* A bounded in-memory cache of the signed assignment answers served lately,
 * per device, so that a device polling again when nothing changed costs no
 * database query and no signature. An answer is reused only while the
 * assignment generation (rf_server_generation: every rollout, ring, hold or
 * window change, on any instance) is the one it was computed under, nothing
 * about the device itself changed since (assign_cache_forget: its heartbeats
 * moved what it runs or its exposure, on any instance), and it is younger
 * than max_age_ms. It never grows: a full set evicts its oldest entry. */
#ifndef RF_ASSIGN_CACHE_H
#define RF_ASSIGN_CACHE_H

#include "rf_err.h"
#include <stddef.h>
#include <stdint.h>

typedef struct assign_cache assign_cache;

/* Room for about `entries` devices; answers reused for at most max_age_ms. */
rf_err assign_cache_new(size_t entries, int max_age_ms, assign_cache **out);
void assign_cache_free(assign_cache *c); /* NULL-safe */

/* The epoch to pass to assign_cache_put: read it before reading what the
 * answer is computed from, so that a device forgotten meanwhile is not
 * stored stale. */
uint64_t assign_cache_epoch(assign_cache *c);

/* 1 when device_id has a fresh answer for gen: *counter, and a malloc'd copy
 * of the body in *body (*len bytes, NUL-terminated; the caller frees it). */
int assign_cache_get(assign_cache *c, const char *device_id, uint64_t gen, int64_t now_ms,
                     long long *counter, char **body, size_t *len);
/* Remembers the answer (copied) computed under gen, unless a device was
 * forgotten since epoch. */
void assign_cache_put(assign_cache *c, const char *device_id, uint64_t gen, uint64_t epoch,
                      int64_t now_ms, long long counter, const char *body, size_t len);
/* Drops device_id's answer (something about the device changed). */
void assign_cache_forget(assign_cache *c, const char *device_id);

#endif
