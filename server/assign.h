/* Assignment: which bundle one device should run on one channel, given the
 * channel's latest started rollout. Pure: no SQL, no clock, no allocation.
 * Its one promise: a device whose ring is not a started stage of the rollout
 * is never assigned the rollout's bundle. */
#ifndef RF_ASSIGN_H
#define RF_ASSIGN_H

#include "rollout.h"

typedef enum assign_action {
    ASSIGN_OMIT = 0, /* nothing for this channel: leave it out of the assignment */
    ASSIGN_INSTALL,  /* run bundle_id */
    ASSIGN_REVERT,   /* go back to bundle_id (0: run nothing on this channel) */
} assign_action;

/* The channel's latest started rollout (state other than draft). */
typedef struct assign_rollout {
    rollout_state state;
    int stage; /* furthest started stage */
    int nstages;
    /* Position of each stage's ring in the ring order (index into the rings
     * sorted by order), -1 for a ring that no longer exists. */
    int stage_ring_pos[ROLLOUT_MAX_STAGES];
    int on_halt_revert;           /* the policy's on_halt is "revert" */
    long long bundle_id;          /* > 0 */
    long long previous_bundle_id; /* 0: the channel had none */
} assign_rollout;

typedef struct assign_device {
    int ring_pos;      /* index of the device's ring in the ring order, -1 if none */
    int exposed;       /* the device has an exposure to this rollout (reported it) */
    int failed_itself; /* it reported a local rollback or failed install of the bundle */
} assign_device;

typedef struct assign_result {
    assign_action action;
    long long bundle_id; /* meaningful for INSTALL (> 0) and REVERT (>= 0) */
} assign_result;

/* The stage of r whose ring is at ring_pos, or -1 when none is. */
int assign_device_stage(const assign_rollout *r, int ring_pos);

/* 1 when the device's ring is a stage of r that has started (index <= stage)
 * and r's state can offer the bundle at all. */
int assign_in_started_ring(const assign_rollout *r, const assign_device *d);

/* The decision. r == NULL (no started rollout on the channel) gives OMIT.
 * - active, paused, or halted with on_halt "pause": a device in a started
 *   ring gets the bundle (install), unless it failed the bundle itself, then
 *   the previous bundle (revert); any other device gets the previous bundle
 *   (revert if it was exposed, install otherwise), or OMIT when there is
 *   none and it never saw the bundle (revert to 0 when it did);
 * - reverted, or halted with on_halt "revert": the previous bundle; revert
 *   for devices that were offered or exposed (bundle 0 when there is none),
 *   install for the others (OMIT when there is none);
 * - completed: like active at the last stage. */
assign_result assign_decide(const assign_rollout *r, const assign_device *d);

#endif
