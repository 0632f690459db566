/* The device token cache (see auth_cache.h): a set-associative table, four
 * entries per set, each set chosen by the digest's first bytes and guarded by
 * one of a fixed number of mutexes. Pure apart from the locks: the time comes
 * from the caller. */
#include "auth_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define WAYS 4
#define LOCKS 64

typedef struct entry {
    uint8_t digest[32];
    int64_t stored_ms; /* 0: empty */
    char device_id[33];
} entry;

struct auth_cache {
    entry *slots; /* nsets * WAYS */
    size_t nsets; /* a power of two */
    int ttl_ms;
    pthread_mutex_t mu[LOCKS];
};

rf_err auth_cache_new(size_t entries, int ttl_ms, auth_cache **out)
{
    auth_cache *c = calloc(1, sizeof(*c));
    size_t nsets = 16;
    *out = NULL;
    if (c == NULL)
        return RF_ERR_NOMEM;
    while (nsets * WAYS < entries && nsets < ((size_t)1 << 24))
        nsets <<= 1;
    c->slots = calloc(nsets * WAYS, sizeof(*c->slots));
    if (c->slots == NULL) {
        free(c);
        return RF_ERR_NOMEM;
    }
    c->nsets = nsets;
    c->ttl_ms = ttl_ms;
    for (int i = 0; i < LOCKS; i++)
        pthread_mutex_init(&c->mu[i], NULL);
    *out = c;
    return RF_OK;
}

void auth_cache_free(auth_cache *c)
{
    if (c == NULL)
        return;
    for (int i = 0; i < LOCKS; i++)
        pthread_mutex_destroy(&c->mu[i]);
    free(c->slots);
    free(c);
}

static size_t set_of(const auth_cache *c, const uint8_t digest[32])
{
    uint64_t h;
    memcpy(&h, digest, sizeof(h)); /* a SHA-256: already uniform */
    return (size_t)(h & (c->nsets - 1));
}

int auth_cache_get(auth_cache *c, const uint8_t digest[32], int64_t now_ms, char device_id[33])
{
    if (c == NULL)
        return 0;
    size_t set = set_of(c, digest);
    entry *e = &c->slots[set * WAYS];
    int hit = 0;
    pthread_mutex_lock(&c->mu[set % LOCKS]);
    for (int i = 0; i < WAYS && !hit; i++)
        if (e[i].stored_ms != 0 && memcmp(e[i].digest, digest, 32) == 0) {
            if (now_ms - e[i].stored_ms < c->ttl_ms && now_ms >= e[i].stored_ms) {
                memcpy(device_id, e[i].device_id, 33);
                hit = 1;
            } else {
                e[i].stored_ms = 0; /* stale: forget it */
            }
        }
    pthread_mutex_unlock(&c->mu[set % LOCKS]);
    return hit;
}

void auth_cache_put(auth_cache *c, const uint8_t digest[32], const char *device_id, int64_t now_ms)
{
    if (c == NULL || device_id == NULL || strlen(device_id) != 32 || now_ms <= 0)
        return;
    size_t set = set_of(c, digest);
    entry *e = &c->slots[set * WAYS], *victim = &e[0];
    pthread_mutex_lock(&c->mu[set % LOCKS]);
    for (int i = 0; i < WAYS; i++) {
        if (e[i].stored_ms != 0 && memcmp(e[i].digest, digest, 32) == 0) {
            victim = &e[i]; /* the same token again: refresh it */
            break;
        }
        if (e[i].stored_ms < victim->stored_ms)
            victim = &e[i]; /* the oldest, or an empty one */
    }
    memcpy(victim->digest, digest, 32);
    memcpy(victim->device_id, device_id, 33);
    victim->stored_ms = now_ms;
    pthread_mutex_unlock(&c->mu[set % LOCKS]);
}

void auth_cache_clear(auth_cache *c)
{
    if (c == NULL)
        return;
    for (int l = 0; l < LOCKS; l++)
        pthread_mutex_lock(&c->mu[l]);
    memset(c->slots, 0, c->nsets * WAYS * sizeof(*c->slots));
    for (int l = LOCKS - 1; l >= 0; l--)
        pthread_mutex_unlock(&c->mu[l]);
}
