/* Channel plans and the ring set plans are checked against
 * (store_plan.c): the rings by order, resolving stage rings by name or id,
 * and each channel's default plan, stored or built-in. Decisions stay in
 * plan.c; these functions load their inputs and store their outcome, each
 * change with its audit event in one transaction. */
#ifndef RF_STORE_PLAN_H
#define RF_STORE_PLAN_H

#include "plan.h"
#include "store.h"

#define STORE_MAX_RINGS 1024

/* The rings by order (names live in names[]). Large: allocate it. */
typedef struct store_ring_set {
    rollout_ring rings[STORE_MAX_RINGS];
    char names[STORE_MAX_RINGS][65];
    int n;
} store_ring_set;

/* Loads the rings by order; lock takes them FOR SHARE in the current
 * transaction, so none changes before it commits. */
rf_err store_plan_rings(rf_db *db, int lock, store_ring_set *out, rf_error *err);

/* Gives each stage naming its ring by name that ring's id, and each stage
 * its ring's name. RF_ERR_INVALID naming the stage for an unknown name; an
 * unknown id is left for plan_validate to name. */
rf_err store_plan_resolve(const store_ring_set *rs, plan_stage *st, int n, rf_error *err);

typedef struct store_channel_plan {
    char channel[65];
    int stored;  /* 0: the built-in plan */
    int version; /* 0 for the built-in plan */
    plan_stage stages[ROLLOUT_MAX_STAGES];
    int n;
    int valid; /* the plan matches the rings as they are now */
    char problem[256];
    char updated[32];
    char updated_by[129];
} store_channel_plan;

/* The channel's plan: stored, else built-in; with valid/problem filled. */
rf_err store_plan_get(rf_db *db, const char *channel, store_channel_plan *out, rf_error *err);

/* Replaces the channel's stored plan (expect_version: the current version,
 * 0 while built-in; -1: any), after resolving ring names and checking it
 * with plan_validate; records channel.plan_updated with before and after.
 * On RF_OK *after holds the plan as stored. RF_ERR_CONFLICT when the version
 * moved. */
rf_err store_plan_put(rf_db *db, const char *channel, plan_stage *st, int n, int expect_version,
                      const char *actor, store_channel_plan *after, rf_error *err);

/* Drops the channel's stored plan (back to the built-in one), recording
 * channel.plan_reset; same version rule. */
rf_err store_plan_reset(rf_db *db, const char *channel, int expect_version, const char *actor,
                        store_channel_plan *after, rf_error *err);

/* {"channels": [{"name", "plan_source", "live_rollout", "bundles"}]} (new
 * reference): every channel with a bundle or a stored plan. */
rf_err store_plan_channels(rf_db *db, json_t **out, rf_error *err);

/* The plan as JSON (new reference): channel, source, version, stages (with
 * ring names), valid, problem, updated, updated_by. */
json_t *store_plan_json(const store_channel_plan *p);

#endif
