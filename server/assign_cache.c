/* The assignment answer cache (see assign_cache.h): a set-associative table,
 * four entries per set chosen by a hash of the device id, guarded by one of a
 * fixed number of mutexes. Pure apart from the locks: the time and the
 * generation come from the caller. */
#include "assign_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define WAYS 4
#define LOCKS 64
#define ID_MAX 33

typedef struct entry {
    char device_id[ID_MAX]; /* "" when empty */
    uint64_t gen;
    int64_t stored_ms;
    long long counter;
    char *body; /* owned */
    size_t len;
} entry;

struct assign_cache {
    entry *slots;
    size_t nsets; /* a power of two */
    int max_age_ms;
    _Atomic uint64_t epoch; /* bumped by every forget */
    pthread_mutex_t mu[LOCKS];
};

rf_err assign_cache_new(size_t entries, int max_age_ms, assign_cache **out)
{
    assign_cache *c = calloc(1, sizeof(*c));
    size_t nsets = 16;
    *out = NULL;
    if (c == NULL)
        return RF_ERR_NOMEM;
    while (nsets * WAYS < entries && nsets < ((size_t)1 << 22))
        nsets <<= 1;
    c->slots = calloc(nsets * WAYS, sizeof(*c->slots));
    if (c->slots == NULL) {
        free(c);
        return RF_ERR_NOMEM;
    }
    c->nsets = nsets;
    c->max_age_ms = max_age_ms;
    atomic_init(&c->epoch, 1);
    for (int i = 0; i < LOCKS; i++)
        pthread_mutex_init(&c->mu[i], NULL);
    *out = c;
    return RF_OK;
}

void assign_cache_free(assign_cache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->nsets * WAYS; i++)
        free(c->slots[i].body);
    for (int i = 0; i < LOCKS; i++)
        pthread_mutex_destroy(&c->mu[i]);
    free(c->slots);
    free(c);
}

uint64_t assign_cache_epoch(assign_cache *c)
{
    return c != NULL ? atomic_load(&c->epoch) : 0;
}

/* FNV-1a of the id: device ids are random hex, but nothing relies on it. */
static size_t set_of(const assign_cache *c, const char *id)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)id; *p != '\0'; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return (size_t)(h & (c->nsets - 1));
}

static void clear_entry(entry *e)
{
    free(e->body);
    memset(e, 0, sizeof(*e));
}

int assign_cache_get(assign_cache *c, const char *device_id, uint64_t gen, int64_t now_ms,
                     long long *counter, char **body, size_t *len)
{
    if (c == NULL || device_id == NULL || strlen(device_id) >= ID_MAX)
        return 0;
    size_t set = set_of(c, device_id);
    entry *e = &c->slots[set * WAYS];
    int hit = 0;
    pthread_mutex_lock(&c->mu[set % LOCKS]);
    for (int i = 0; i < WAYS; i++) {
        if (e[i].body == NULL || strcmp(e[i].device_id, device_id) != 0)
            continue;
        if (e[i].gen != gen || now_ms < e[i].stored_ms ||
            now_ms - e[i].stored_ms >= c->max_age_ms) {
            clear_entry(&e[i]);
            break;
        }
        *body = malloc(e[i].len + 1);
        if (*body != NULL) {
            memcpy(*body, e[i].body, e[i].len + 1);
            *len = e[i].len;
            *counter = e[i].counter;
            hit = 1;
        }
        break;
    }
    pthread_mutex_unlock(&c->mu[set % LOCKS]);
    return hit;
}

void assign_cache_put(assign_cache *c, const char *device_id, uint64_t gen, uint64_t epoch,
                      int64_t now_ms, long long counter, const char *body, size_t len)
{
    if (c == NULL || device_id == NULL || strlen(device_id) >= ID_MAX || body == NULL)
        return;
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return;
    memcpy(copy, body, len);
    copy[len] = '\0';
    size_t set = set_of(c, device_id);
    entry *e = &c->slots[set * WAYS], *victim = &e[0];
    pthread_mutex_lock(&c->mu[set % LOCKS]);
    if (atomic_load(&c->epoch) != epoch) {
        pthread_mutex_unlock(&c->mu[set % LOCKS]);
        free(copy); /* a device was forgotten meanwhile: maybe this one */
        return;
    }
    int same = -1;
    for (int i = 0; i < WAYS && same < 0; i++)
        if (e[i].body != NULL && strcmp(e[i].device_id, device_id) == 0)
            same = i;
    for (int i = 0; i < WAYS && same < 0; i++) /* else an empty one, else the oldest */
        if (victim->body != NULL && (e[i].body == NULL || e[i].stored_ms < victim->stored_ms))
            victim = &e[i];
    if (same >= 0)
        victim = &e[same];
    clear_entry(victim);
    memcpy(victim->device_id, device_id, strlen(device_id) + 1);
    victim->gen = gen;
    victim->stored_ms = now_ms;
    victim->counter = counter;
    victim->body = copy;
    victim->len = len;
    pthread_mutex_unlock(&c->mu[set % LOCKS]);
}

void assign_cache_forget(assign_cache *c, const char *device_id)
{
    if (c == NULL || device_id == NULL)
        return;
    size_t set = set_of(c, device_id);
    entry *e = &c->slots[set * WAYS];
    pthread_mutex_lock(&c->mu[set % LOCKS]);
    atomic_fetch_add(&c->epoch, 1);
    for (int i = 0; i < WAYS; i++)
        if (e[i].body != NULL && strcmp(e[i].device_id, device_id) == 0)
            clear_entry(&e[i]);
    pthread_mutex_unlock(&c->mu[set % LOCKS]);
}
