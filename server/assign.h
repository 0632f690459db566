/* Assignment: which ring a device belongs to, which stage of a rollout holds
 * it (the share of its ring, ordered by a per-rollout salted hash), when its
 * ring's start windows are open, and which bundle it should run on one
 * channel given the channel's latest started rollout, its pins and its
 * exclusion. Pure: no SQL, no clock, no allocation; time is a parameter.
 * Its one promise: a device whose ring share is not a started stage of the
 * rollout is never assigned the rollout's bundle. */
#ifndef RF_ASSIGN_H
#define RF_ASSIGN_H

#include "rf_cohort.h"
#include "rollout.h"

#include <stddef.h>
#include <stdint.h>

typedef enum assign_action {
    ASSIGN_OMIT = 0, /* nothing for this channel: leave it out of the assignment */
    ASSIGN_INSTALL,  /* run bundle_id */
    ASSIGN_REVERT,   /* go back to bundle_id (0: run nothing on this channel) */
} assign_action;

/* ---- start windows ---- */

#define ASSIGN_MAX_WINDOWS 14

/* Open on the days of `days` (bit 0 = Monday … bit 6 = Sunday), UTC, from
 * from_h:00 until to_h:00 (0 <= from_h < to_h <= 24). */
typedef struct assign_window {
    unsigned days;
    int from_h, to_h;
} assign_window;

/* 1 when any window is open at now_s (seconds since the epoch, UTC); a ring
 * without windows (n == 0) is always open. */
int assign_windows_open(const assign_window *w, int n, int64_t now_s);
/* The first time >= now_s at which a window is open (now_s when one is), or
 * -1 when no window can ever open (n > 0 but no day set). */
int64_t assign_windows_next_open(const assign_window *w, int n, int64_t now_s);
/* "mon".."sun" → 0..6; -1 for anything else. */
int assign_day_parse(const char *s);
const char *assign_day_name(int day); /* 0..6 → "mon".."sun" */

/* ---- rings ---- */

/* A ring's selector: its explicit members (sorted ascending by strcmp,
 * borrowed), then, unless members_only, its labels and bucket range
 * (rf_ring_matches); and its start windows (borrowed). */
typedef struct assign_ring {
    rf_ring_sel sel;
    const char *const *members;
    size_t nmembers;
    int members_only;
    const assign_window *windows;
    int nwindows;
} assign_ring;

/* 1 when ring g selects the device. */
int assign_ring_selects(const assign_ring *g, const char *device_id, const json_t *labels,
                        uint32_t bucket);
/* Index of the first ring, by order (lowest order wins; among equal orders
 * the earlier entry), that selects the device, or -1. */
int assign_ring_of(const assign_ring *rings, size_t n, const char *device_id, const json_t *labels,
                   uint32_t bucket);

/* ---- share of a ring ---- */

/* A device's place in a rollout's salted order within its ring:
 * rf_bucket_salted(salt, id), then the id. */
typedef struct assign_key {
    uint32_t salted;
    char id[33];
} assign_key;

/* The share of a ring one stage reaches. percent <= 0 or >= 100: the whole
 * ring. Otherwise a device is in the share when its key is <= cut (has_cut),
 * or, with no cut (the stage has not started, or its ring was empty when it
 * did), when its salted bucket is below percent × 100. */
typedef struct assign_share {
    int percent;
    int has_cut;
    assign_key cut;
} assign_share;

void assign_key_make(const char *salt, const char *device_id, assign_key *out);
int assign_key_cmp(const assign_key *a, const assign_key *b); /* <0, 0, >0 */
int assign_in_share(const assign_share *s, const assign_key *k);
/* Fixes the cut of a stage reaching `percent` of a ring whose devices have
 * keys[0..n) (sorted in place): the first ceil(n × percent / 100) devices,
 * at least one when n > 0, and never below *floor (the previous stage's cut
 * of the same ring, or NULL), so shares only grow. Returns 1 and fills *cut,
 * or 0 when there is no cut to fix (n == 0 and no floor, or percent >= 100). */
int assign_share_cut(assign_key *keys, size_t n, int percent, const assign_key *floor,
                     assign_key *cut);

/* ---- the decision ---- */

/* The channel's latest started rollout (state other than draft). */
typedef struct assign_rollout {
    rollout_state state;
    int stage; /* furthest started stage */
    int nstages;
    /* Position of each stage's ring in the ring order (index into the rings
     * sorted by order), -1 for a ring that no longer exists. */
    int stage_ring_pos[ROLLOUT_MAX_STAGES];
    assign_share share[ROLLOUT_MAX_STAGES]; /* zero: the whole ring */
    int on_halt_revert;                     /* the policy's on_halt is "revert" */
    /* Halted with on_halt "revert_stage": only the devices of stage
     * halted_stage go back; the others stay as under "pause". */
    int on_halt_revert_stage;
    int halted_stage;
    long long bundle_id;          /* > 0 */
    long long previous_bundle_id; /* 0: the channel had none */
} assign_rollout;

typedef struct assign_device {
    int ring_pos;      /* index of the device's ring in the ring order, -1 if none */
    int exposed;       /* the device has an exposure to this rollout (reported it) */
    int failed_itself; /* it reported a local rollback or failed install of the bundle */
    /* Everything below may stay zero: no share key (whole rings only), no
     * pin, not excluded, always-open windows, nothing reported. */
    assign_key key;
    long long pin_bundle_id; /* > 0: held at this bundle (device pin, else ring pin) */
    int excluded;
    const assign_window *windows; /* of the device's ring (borrowed) */
    int nwindows;
    int64_t now_s;
    long long current_bundle_id;    /* what the device reports running on the channel */
    long long installing_bundle_id; /* what it reports installing, 0 for none */
} assign_device;

typedef struct assign_result {
    assign_action action;
    long long bundle_id; /* meaningful for INSTALL (> 0) and REVERT (>= 0) */
} assign_result;

/* The first stage of r whose ring is at ring_pos, or -1 when none is. */
int assign_device_stage(const assign_rollout *r, int ring_pos);
/* The stage of r that holds device d: the first stage of d's ring whose
 * share contains d's key, or -1. */
int assign_stage_of(const assign_rollout *r, const assign_device *d);

/* 1 when the device's stage has started (index <= stage) and r's state can
 * offer the bundle at all. Exclusions and pins are not considered here. */
int assign_in_started_ring(const assign_rollout *r, const assign_device *d);

/* The decision. r == NULL (no started rollout on the channel) gives OMIT.
 * The rollout's rule first:
 * - active, paused, or halted with on_halt "pause": a device whose stage has
 *   started gets the bundle (install), unless it failed the bundle itself,
 *   then the previous bundle (revert); any other device gets the previous
 *   bundle (revert if it was exposed, install otherwise), or OMIT when there
 *   is none and it never saw the bundle (revert to 0 when it did);
 * - halted with on_halt "revert_stage": like "pause", except that the
 *   devices of the halted stage get the previous bundle as under "revert";
 * - reverted, or halted with on_halt "revert": the previous bundle; revert
 *   for devices that were offered or exposed (bundle 0 when there is none),
 *   install for the others (OMIT when there is none);
 * - completed: like active at the last stage.
 * While the rollout is paused (or halted under a pause policy) a device that
 * does not hold the bundle yet is not offered it (OMIT). Then the holds: a
 * pinned device runs its pin (revert when it is known to hold or install the
 * rollout's bundle, install otherwise); an excluded device that holds the
 * bundle goes back to the previous one (revert), any other keeps what it
 * runs (OMIT). Last, a closed start window turns an install of a bundle the
 * device neither runs nor installs into OMIT; reverts always go through. */
assign_result assign_decide(const assign_rollout *r, const assign_device *d);

#endif
