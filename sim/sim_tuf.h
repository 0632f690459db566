/* The simulator's shared TUF client: one verified copy of the repository's
 * metadata for every simulated device. A device's REFRESH is answered from it
 * while it is younger than a bound; otherwise the full update cycle (root
 * chain, timestamp, snapshot, targets) runs again, verified by common/tuf.c.
 * It never answers with anything that did not verify. */
#ifndef SIM_SIM_TUF_H
#define SIM_SIM_TUF_H

#include "client.h"
#include "proto.h"
#include "rf_tuf.h"

typedef struct sim_tuf {
    client cl;
    rf_tuf_client tuf;
    int64_t refreshed_ms; /* 0: never */
    int64_t max_age_ms;
    int64_t failed_ms; /* last failed cycle: others wait a second */
    int64_t cycles;    /* full update cycles run */
} sim_tuf;

/* root_path: the trusted root file. */
rf_err sim_tuf_open(sim_tuf *t, const char *base_url, const char *root_path, int64_t max_age_ms,
                    rf_error *err);
void sim_tuf_close(sim_tuf *t); /* NULL-safe */
/* The verified target of bundle b on channel ch, refreshing when stale. */
proto_result sim_tuf_lookup(sim_tuf *t, const char *ch, const proto_bundle *b, int64_t now_ms,
                            proto_target *out, char *msg, size_t len);

#endif
