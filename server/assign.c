/* The per-device, per-channel assignment decision (see assign.h). The
 * bundle of a rollout is handed out in exactly one place below, guarded by
 * assign_in_started_ring, so the safety rule is visible in one line. This
 * file must never do I/O and never widen who gets a bundle. */
#include "assign.h"

int assign_device_stage(const assign_rollout *r, int ring_pos)
{
    if (ring_pos < 0 || r->nstages <= 0 || r->nstages > ROLLOUT_MAX_STAGES)
        return -1;
    for (int i = 0; i < r->nstages; i++)
        if (r->stage_ring_pos[i] == ring_pos)
            return i;
    return -1;
}

/* States in which devices of started rings run the rollout's bundle. */
static int offers_bundle(const assign_rollout *r)
{
    switch (r->state) {
    case ROLLOUT_ACTIVE:
    case ROLLOUT_PAUSED:
    case ROLLOUT_COMPLETED:
        return 1;
    case ROLLOUT_HALTED:
        return !r->on_halt_revert;
    case ROLLOUT_DRAFT:
    case ROLLOUT_REVERTED:
        return 0;
    }
    return 0;
}

/* Whether the device's ring is a stage that has started, whatever the state. */
static int ring_started(const assign_rollout *r, const assign_device *d)
{
    int st = assign_device_stage(r, d->ring_pos);
    if (st < 0)
        return 0;
    if (r->state == ROLLOUT_COMPLETED)
        return 1;
    return r->state != ROLLOUT_DRAFT && st <= r->stage;
}

int assign_in_started_ring(const assign_rollout *r, const assign_device *d)
{
    return offers_bundle(r) && ring_started(r, d);
}

static assign_result result(assign_action a, long long bundle_id)
{
    assign_result res = {a, bundle_id};
    return res;
}

/* Where a device goes when it must not (or no longer) run the bundle:
 * the previous bundle, as a revert when it may hold the bundle now. */
static assign_result back_to_previous(const assign_rollout *r, int may_hold_bundle)
{
    if (may_hold_bundle)
        return result(ASSIGN_REVERT, r->previous_bundle_id > 0 ? r->previous_bundle_id : 0);
    if (r->previous_bundle_id > 0)
        return result(ASSIGN_INSTALL, r->previous_bundle_id);
    return result(ASSIGN_OMIT, 0);
}

assign_result assign_decide(const assign_rollout *r, const assign_device *d)
{
    if (r == NULL || r->state == ROLLOUT_DRAFT || r->bundle_id <= 0)
        return result(ASSIGN_OMIT, 0);
    /* The only place the rollout's bundle is handed out. */
    if (assign_in_started_ring(r, d) && !d->failed_itself)
        return result(ASSIGN_INSTALL, r->bundle_id);
    /* Offered means the bundle was (or is) in this device's assignment. */
    int offered = ring_started(r, d) && r->state != ROLLOUT_DRAFT;
    return back_to_previous(r, offered || d->exposed || d->failed_itself);
}
