/* The dashboard's one read (store_dashboard.c): recent rollouts with, per
 * stage, its ring and its exposure counts from the exposures table. */
#ifndef RF_STORE_DASHBOARD_H
#define RF_STORE_DASHBOARD_H

#include "store.h"
#include <stddef.h>

typedef struct dash_stage {
    int idx;
    char ring[65];
    char state[16];
    long long exposed, healthy, failed;
} dash_stage;

typedef struct dash_rollout {
    long long id;
    char channel[65];
    char bundle[140]; /* "name version" */
    long long bundle_id;
    char state[16];
    int stage;
    char created[32];
    char halt_reason[200]; /* "" unless halted */
    dash_stage *stages;    /* owned */
    size_t nstages;
} dash_rollout;

/* The newest `limit` rollouts, newest first. Free with store_dashboard_free. */
rf_err store_dashboard_rollouts(rf_db *db, int limit, dash_rollout **out, size_t *n, rf_error *err);
void store_dashboard_free(dash_rollout *items, size_t n); /* NULL-safe */

#endif
