/* Ring membership, shares of rings, start windows and the per-device,
 * per-channel assignment decision (see assign.h). The bundle of a rollout is
 * handed out in exactly one place below, guarded by assign_in_started_ring,
 * and the holds (pins, exclusions, windows) can only narrow or replace what
 * the rollout's rule gives, so the safety rule is visible in one line. This
 * file must never do I/O and never widen who gets a bundle. */
#include "assign.h"

#include <stdlib.h>
#include <string.h>

/* ---- start windows ---- */

static const char *const day_names[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

int assign_day_parse(const char *s)
{
    for (int i = 0; s != NULL && i < 7; i++)
        if (strcmp(s, day_names[i]) == 0)
            return i;
    return -1;
}

const char *assign_day_name(int day)
{
    return day >= 0 && day < 7 ? day_names[day] : "?";
}

/* Day of the week (0 = Monday) and hour of day of an epoch time, UTC. The
 * epoch began on a Thursday. */
static void day_hour(int64_t t, int *day, int *hour)
{
    int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    int64_t secs = t - days * 86400;
    *day = (int)(((days % 7) + 7 + 3) % 7);
    *hour = (int)(secs / 3600);
}

int assign_windows_open(const assign_window *w, int n, int64_t now_s)
{
    int day = 0, hour = 0;
    if (n <= 0 || w == NULL)
        return 1;
    day_hour(now_s, &day, &hour);
    for (int i = 0; i < n; i++)
        if ((w[i].days >> day & 1u) && hour >= w[i].from_h && hour < w[i].to_h)
            return 1;
    return 0;
}

int64_t assign_windows_next_open(const assign_window *w, int n, int64_t now_s)
{
    if (assign_windows_open(w, n, now_s))
        return now_s;
    /* Windows start on the hour: look at each hour of the coming week. */
    int64_t t = now_s - (now_s % 3600 + 3600) % 3600 + 3600;
    for (int i = 0; i < 7 * 24 + 1; i++, t += 3600)
        if (assign_windows_open(w, n, t))
            return t;
    return -1;
}

/* ---- rings ---- */

static int cmp_member(const void *key, const void *elem)
{
    return strcmp((const char *)key, *(const char *const *)elem);
}

int assign_ring_selects(const assign_ring *g, const char *device_id, const json_t *labels,
                        uint32_t bucket)
{
    if (g == NULL)
        return 0;
    if (device_id != NULL && g->nmembers > 0 && g->members != NULL &&
        bsearch(device_id, g->members, g->nmembers, sizeof(*g->members), cmp_member) != NULL)
        return 1;
    if (g->members_only)
        return 0;
    return rf_ring_matches(&g->sel, labels, bucket);
}

int assign_ring_of(const assign_ring *rings, size_t n, const char *device_id, const json_t *labels,
                   uint32_t bucket)
{
    int best = -1;
    for (size_t i = 0; i < n && i < (size_t)0x7fffffff; i++) {
        if (!assign_ring_selects(&rings[i], device_id, labels, bucket))
            continue;
        if (best < 0 || rings[i].sel.order < rings[best].sel.order)
            best = (int)i;
    }
    return best;
}

/* ---- share of a ring ---- */

void assign_key_make(const char *salt, const char *device_id, assign_key *out)
{
    size_t len = device_id != NULL ? strlen(device_id) : 0;
    memset(out, 0, sizeof(*out));
    out->salted = rf_bucket_salted(salt, device_id);
    if (len >= sizeof(out->id))
        len = sizeof(out->id) - 1;
    if (len > 0)
        memcpy(out->id, device_id, len);
}

int assign_key_cmp(const assign_key *a, const assign_key *b)
{
    if (a->salted != b->salted)
        return a->salted < b->salted ? -1 : 1;
    return strcmp(a->id, b->id);
}

static int key_qsort_cmp(const void *a, const void *b)
{
    return assign_key_cmp(a, b);
}

int assign_in_share(const assign_share *s, const assign_key *k)
{
    if (s == NULL || s->percent <= 0 || s->percent >= 100)
        return 1;
    if (s->has_cut)
        return assign_key_cmp(k, &s->cut) <= 0;
    return k->salted < (uint32_t)s->percent * (RF_BUCKETS / 100);
}

int assign_share_cut(assign_key *keys, size_t n, int percent, const assign_key *floor,
                     assign_key *cut)
{
    if (percent >= 100 || percent <= 0)
        return 0;
    if (n == 0) {
        if (floor == NULL)
            return 0;
        *cut = *floor;
        return 1;
    }
    qsort(keys, n, sizeof(*keys), key_qsort_cmp);
    /* ceil(n × percent / 100), at least one */
    size_t k = (n * (size_t)percent + 99) / 100;
    if (k == 0)
        k = 1;
    *cut = keys[k - 1];
    if (floor != NULL && assign_key_cmp(floor, cut) > 0)
        *cut = *floor;
    return 1;
}

/* ---- the decision ---- */

int assign_device_stage(const assign_rollout *r, int ring_pos)
{
    if (ring_pos < 0 || r->nstages <= 0 || r->nstages > ROLLOUT_MAX_STAGES)
        return -1;
    for (int i = 0; i < r->nstages; i++)
        if (r->stage_ring_pos[i] == ring_pos)
            return i;
    return -1;
}

int assign_stage_of(const assign_rollout *r, const assign_device *d)
{
    if (d->ring_pos < 0 || r->nstages <= 0 || r->nstages > ROLLOUT_MAX_STAGES)
        return -1;
    for (int i = 0; i < r->nstages; i++)
        if (r->stage_ring_pos[i] == d->ring_pos && assign_in_share(&r->share[i], &d->key))
            return i;
    return -1;
}

/* States in which devices of started stages run the rollout's bundle. */
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

/* Whether the device's stage has started, whatever the state. */
static int ring_started(const assign_rollout *r, const assign_device *d)
{
    int st = assign_stage_of(r, d);
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

/* Halted under "revert_stage" and in the halted stage. */
static int stage_reverted(const assign_rollout *r, const assign_device *d)
{
    return r->state == ROLLOUT_HALTED && r->on_halt_revert_stage && !r->on_halt_revert &&
           r->halted_stage >= 0 && assign_stage_of(r, d) == r->halted_stage;
}

/* The rollout's own rule, before holds and windows. */
static assign_result rollout_rule(const assign_rollout *r, const assign_device *d)
{
    /* The only place the rollout's bundle is handed out. */
    if (assign_in_started_ring(r, d) && !d->failed_itself && !stage_reverted(r, d))
        return result(ASSIGN_INSTALL, r->bundle_id);
    /* Offered means the bundle was (or is) in this device's assignment. */
    int offered = ring_started(r, d) && r->state != ROLLOUT_DRAFT;
    return back_to_previous(r, offered || d->exposed || d->failed_itself);
}

/* Whether the device is known to hold (or be installing) the rollout's
 * bundle: then leaving it is a revert. */
static int holds_bundle(const assign_rollout *r, const assign_device *d)
{
    return d->exposed || d->failed_itself ||
           (r->bundle_id > 0 &&
            (d->current_bundle_id == r->bundle_id || d->installing_bundle_id == r->bundle_id));
}

assign_result assign_decide(const assign_rollout *r, const assign_device *d)
{
    if (r == NULL || r->state == ROLLOUT_DRAFT || r->bundle_id <= 0)
        return result(ASSIGN_OMIT, 0);
    assign_result res = rollout_rule(r, d);
    /* Paused (or halted under a pause policy): nobody begins to install the
     * bundle; devices that hold it keep it. */
    if ((r->state == ROLLOUT_PAUSED || r->state == ROLLOUT_HALTED) &&
        res.action == ASSIGN_INSTALL && res.bundle_id == r->bundle_id && !holds_bundle(r, d))
        res = result(ASSIGN_OMIT, 0);
    if (d->pin_bundle_id > 0) {
        int back = d->pin_bundle_id != r->bundle_id && holds_bundle(r, d);
        res = result(back ? ASSIGN_REVERT : ASSIGN_INSTALL, d->pin_bundle_id);
    } else if (d->excluded) {
        /* Out of rollouts: back from the bundle if it holds it, else as is. */
        res = holds_bundle(r, d) ? back_to_previous(r, 1) : result(ASSIGN_OMIT, 0);
    }
    if (res.action == ASSIGN_INSTALL && res.bundle_id != d->current_bundle_id &&
        res.bundle_id != d->installing_bundle_id &&
        !assign_windows_open(d->windows, d->nwindows, d->now_s))
        res = result(ASSIGN_OMIT, 0);
    return res;
}
