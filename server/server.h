/* The server-wide context handed to every route handler and background task:
 * configuration, the online TUF keys, the database pool and the long-poll notifier. */
#ifndef RF_SERVER_H
#define RF_SERVER_H

#include "http.h"
#include "rf_crypto.h"
#include "store.h"
#include <stdint.h>
#include <stddef.h>

typedef struct rf_config {
    char database_url[1024]; /* RINGFENCE_DATABASE_URL / --database-url */
    char listen[128];        /* RINGFENCE_LISTEN / --listen, "127.0.0.1:8080" */
    char keys_dir[512];      /* RINGFENCE_KEYS_DIR / --keys-dir: the online keys live here */
    char enroll_key[256];    /* RINGFENCE_ENROLL_KEY / --enroll-key */
    int pool_size;           /* RINGFENCE_POOL_SIZE, default 8 */
    int threads;             /* RINGFENCE_THREADS: MHD worker threads, default 2 */
    size_t max_body;         /* JSON bodies, default 1 MiB */
    size_t max_bundle;       /* RINGFENCE_MAX_BUNDLE_BYTES, default 64 MiB */
    int eval_interval_ms;    /* evaluator period, default 1000 */
    int assignment_ttl_s;    /* expiry of signed assignments, default 86400 */
    /* TUF metadata lifetimes (RINGFENCE_TUF_*_EXPIRY_S): root 365 d, targets
     * 90 d, snapshot 7 d, timestamp 1 d. */
    int tuf_root_expiry_s;
    int tuf_targets_expiry_s;
    int tuf_snapshot_expiry_s;
    int tuf_timestamp_expiry_s;
    char log_level[16];
    int heartbeat_retention_days; /* RINGFENCE_HEARTBEAT_RETENTION_DAYS, default 14, min 1 */
} rf_config;

typedef struct rf_server {
    rf_config cfg;
    /* The online keys (targets, snapshot, timestamp, director): owned, read
     * and swapped only through tuf_keys_get / tuf_keys_install (tuf_keys.h). */
    struct tuf_keyset *online_keys;
    rf_store *store; /* owned */
    /* generation: bumped whenever anything that changes assignments happens
     * (rollout transition, halt, ring change). Long-polls wait on it. */
    void *notify_impl;
    struct auth_cache *auth_cache;     /* device tokens resolved lately; owned; may be NULL */
    struct assign_cache *assign_cache; /* answers served lately; owned; may be NULL */
} rf_server;

/* Bumps the assignment generation and wakes every suspended long-poll so it
 * re-reads its assignment. Safe from any thread. */
void rf_server_notify(rf_server *srv);
/* The current generation (for handlers deciding whether to keep waiting). */
uint64_t rf_server_generation(rf_server *srv);

/* Route dispatch: implemented in api_router.c. */
rf_http_result rf_api_dispatch(rf_server *srv, rf_req *req, rf_resp *resp);

#endif
