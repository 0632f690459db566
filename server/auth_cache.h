/* A bounded in-memory cache of device tokens already resolved: the SHA-256
 * of a token → its device id, for at most ttl_ms. It spares every agent
 * request a database round trip. It never holds a token (only its digest),
 * never holds user tokens or refusals (an unknown token always reaches the
 * database), and never grows: a full set evicts its oldest entry. */
#ifndef RF_AUTH_CACHE_H
#define RF_AUTH_CACHE_H

#include "rf_err.h"
#include <stddef.h>
#include <stdint.h>

#define AUTH_CACHE_TTL_MS 60000 /* a device removed by hand is refused after this at most */

typedef struct auth_cache auth_cache;

/* Room for about `entries` devices (rounded up to a power of two, at least 64). */
rf_err auth_cache_new(size_t entries, int ttl_ms, auth_cache **out);
void auth_cache_free(auth_cache *c); /* NULL-safe */

/* 1 and the device id in device_id when digest is cached and fresh at now_ms. */
int auth_cache_get(auth_cache *c, const uint8_t digest[32], int64_t now_ms, char device_id[33]);
/* Remembers digest → device_id (a 32-character id) from now_ms on. */
void auth_cache_put(auth_cache *c, const uint8_t digest[32], const char *device_id, int64_t now_ms);
/* Forgets everything (a device was removed or its token replaced). */
void auth_cache_clear(auth_cache *c);

#endif
