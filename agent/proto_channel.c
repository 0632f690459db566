/* One channel of the protocol state machine: deciding to fetch a bundle
 * (refresh the trusted TUF metadata, compare its target with the assignment,
 * download), asking for the "installing" acknowledgement, activating into the
 * inactive slot, reverting, refusing, backing off, and judging an install or
 * revert that a restart interrupted. Like proto.c it never does I/O and never
 * reads a clock; it never installs bytes the verified targets metadata did not
 * vouch for, and never activates a bundle whose "installing" report was not
 * acknowledged (reverts excepted: going back to known-good must not wait for
 * the server). */
#include "proto.h"
#include "proto_internal.h"

#include <stdio.h>
#include <string.h>

static uint32_t chan_index(const proto *p, const proto_channel *c)
{
    return (uint32_t)(c - p->ch);
}

/* Keeps printable ASCII only, so the message is valid JSON text as is. */
static void set_error(proto_channel *c, const char *msg)
{
    size_t n = 0;

    for (; msg && msg[n] && n < sizeof(c->error) - 1; n++) {
        unsigned char ch = (unsigned char)msg[n];
        c->error[n] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
    }
    c->error[n] = '\0';
}

static const proto_failed *find_failed(const proto_channel *c, int64_t id)
{
    for (uint32_t i = 0; i < c->nfailed; i++)
        if (c->failed[i].bundle_id == id)
            return &c->failed[i];
    return NULL;
}

static void mark_failed(proto *p, proto_channel *c, int64_t id, proto_failed_kind kind)
{
    proto_failed *f = (proto_failed *)find_failed(c, id);

    if (!id)
        return;
    if (!f) {
        if (c->nfailed == PROTO_MAX_FAILED) {
            memmove(&c->failed[0], &c->failed[1], (PROTO_MAX_FAILED - 1) * sizeof(c->failed[0]));
            c->nfailed--;
        }
        f = &c->failed[c->nfailed++];
        f->kind = kind;
    } else if (kind == PROTO_FAILED_OWN) {
        f->kind = PROTO_FAILED_OWN; /* a failure here outweighs a revert */
    }
    f->bundle_id = id;
    f->counter = p->counter;
    p->dirty = true;
}

/* A bundle that failed here is never installed again; one reverted from is
 * blocked until a newer assignment than the revert offers it. */
static bool is_blocked(const proto *p, const proto_channel *c, int64_t id)
{
    const proto_failed *f = find_failed(c, id);

    if (!f)
        return false;
    return f->kind == PROTO_FAILED_OWN || p->counter <= f->counter;
}

static proto_slot inactive_slot(const proto_channel *c)
{
    if (c->current.slot == PROTO_SLOT_A)
        return PROTO_SLOT_B;
    if (c->current.slot == PROTO_SLOT_B)
        return PROTO_SLOT_A;
    return c->previous.slot == PROTO_SLOT_A ? PROTO_SLOT_B : PROTO_SLOT_A;
}

static void set_backoff(proto_channel *c, int64_t id, int64_t now, int64_t min, int64_t max)
{
    if (c->retry_bundle_id != id)
        c->backoff_ms = 0;
    c->retry_bundle_id = id;
    c->retry_at_ms = now + proto_backoff(&c->backoff_ms, min, max);
}

static void clear_backoff(proto_channel *c)
{
    c->retry_bundle_id = 0;
    c->retry_at_ms = 0;
    c->backoff_ms = 0;
}

/* Makes b (id 0: nothing) the active bundle in slot, keeping what ran before
 * as the previous bundle, and starts its trial. */
static void activate(proto *p, proto_channel *c, int64_t now, const proto_bundle *b,
                     proto_slot slot)
{
    proto_bundle next = *b;
    proto_bundle old = c->current;

    next.slot = next.id ? slot : PROTO_SLOT_NONE;
    c->current = next;
    if (old.id && old.slot != PROTO_SLOT_NONE && old.slot != next.slot)
        c->previous = old;
    else if (c->previous.slot == next.slot && next.slot != PROTO_SLOT_NONE)
        memset(&c->previous, 0, sizeof(c->previous));
    c->run = next.id ? PROTO_RUN_TRIAL : PROTO_RUN_IDLE;
    c->activated_ms = now;
    c->boots = c->unclean_shutdowns = c->crashes = 0;
    c->op = PROTO_OP_NONE;
    c->phase = PROTO_PHASE_NONE;
    c->phase_slot = PROTO_SLOT_NONE;
    c->hook_revert = false;
    set_error(c, NULL);
    clear_backoff(c);
    p->hb_next_ms = now; /* report the activation at once */
    proto_touch(p);
}

void chan_set_want(proto *p, proto_channel *c, const proto_want *w)
{
    proto_want old = c->want;

    if (w)
        c->want = *w;
    else
        memset(&c->want, 0, sizeof(c->want));
    c->want.bundle.slot = PROTO_SLOT_NONE;
    if (old.present == c->want.present && old.action == c->want.action &&
        old.bundle.id == c->want.bundle.id)
        return;
    p->dirty = true;
    /* Work for a bundle that is no longer wanted stops here (a persisted
     * install or revert is finished first and then judged again). */
    if ((c->phase == PROTO_PHASE_REFRESH || c->phase == PROTO_PHASE_DOWNLOAD ||
         c->phase == PROTO_PHASE_AWAIT_ACK) &&
        (!c->want.present || c->target.id != c->want.bundle.id)) {
        c->phase = PROTO_PHASE_NONE;
        proto_notef(p, RF_LOG_INFO, "install cancelled", c, "bundle %lld is no longer assigned",
                    (long long)c->target.id);
    }
    if (c->retry_bundle_id != c->want.bundle.id)
        clear_backoff(c);
}

proto_stepr chan_activation(proto *p, proto_channel *c, int64_t now, proto_action *act)
{
    if (c->phase == PROTO_PHASE_INSTALL) {
        act->kind = PROTO_ACT_INSTALL;
        act->slot = c->phase_slot;
        act->hook_revert = c->hook_revert;
    } else if (c->phase == PROTO_PHASE_REVERT && now >= c->retry_at_ms) {
        act->kind = PROTO_ACT_REVERT;
        act->slot = c->phase_slot;
    } else {
        return STEPR_NOTHING;
    }
    act->channel = chan_index(p, c);
    act->bundle = &c->target;
    return STEPR_ACTED;
}

/* The wanted bundle already runs: drop a stale failure or install report. */
static proto_stepr settle(proto *p, proto_channel *c)
{
    if (c->op == PROTO_OP_NONE || c->target.id == c->want.bundle.id)
        return STEPR_NOTHING;
    proto_notef(p, RF_LOG_INFO, "settled", c, "running the assigned bundle %lld; clearing %s",
                (long long)c->current.id, proto_reported_state(c));
    c->op = PROTO_OP_NONE;
    set_error(c, NULL);
    proto_touch(p);
    return STEPR_CHANGED;
}

/* Asks for the action of the current fetch phase (REFRESH or DOWNLOAD). */
static proto_stepr fetch_action(proto *p, proto_channel *c, proto_action *act)
{
    act->kind = c->phase == PROTO_PHASE_REFRESH ? PROTO_ACT_REFRESH : PROTO_ACT_DOWNLOAD;
    act->channel = chan_index(p, c);
    act->bundle = &c->target;
    return STEPR_ACTED;
}

/* Fetching starts with the TUF update cycle: nothing is downloaded before the
 * trusted targets metadata names the bundle. */
static proto_stepr start_download(proto *p, proto_channel *c, proto_action *act, bool revert)
{
    c->target = c->want.bundle;
    c->target.slot = PROTO_SLOT_NONE;
    c->phase = PROTO_PHASE_REFRESH;
    c->hook_revert = revert;
    proto_notef(p, RF_LOG_INFO, "fetch", c, "bundle %lld version %s (%s): refreshing metadata",
                (long long)c->target.id, c->target.version, revert ? "revert" : "install");
    return fetch_action(p, c, act);
}

static proto_stepr refuse_blocked(proto *p, proto_channel *c, int64_t now)
{
    const proto_bundle *w = &c->want.bundle;
    char msg[PROTO_ERROR_MAX];

    if (c->op != PROTO_OP_NONE && c->target.id == w->id)
        return STEPR_NOTHING; /* already reporting why */
    snprintf(msg, sizeof(msg),
             "bundle %lld failed or was rolled back on this device; not reinstalled",
             (long long)w->id);
    proto_notef(p, RF_LOG_WARN, "install refused", c, "%s", msg);
    c->op = PROTO_OP_INSTALL_FAILED;
    c->target = *w;
    set_error(c, msg);
    proto_touch(p);
    p->hb_next_ms = now;
    return STEPR_CHANGED;
}

/* A revert to the bundle kept in the other slot downloads nothing and so runs
 * no TUF refresh: its bytes were checked against the verified targets
 * metadata when they were installed, the director names the same SHA-256,
 * and the driver checks the slot against it again before switching. Going
 * back to known-good must not depend on the repository being reachable. */
static proto_stepr plan_revert(proto *p, proto_channel *c, int64_t now, proto_action *act)
{
    const proto_bundle *w = &c->want.bundle;

    if (!w->id || (c->previous.id == w->id && c->previous.slot != PROTO_SLOT_NONE &&
                   strcmp(c->previous.sha256, w->sha256) == 0)) {
        /* Back to the other slot, or to nothing. */
        if (c->current.id)
            mark_failed(p, c, c->current.id, PROTO_FAILED_REVERTED);
        if (w->id)
            c->target = c->previous;
        else
            memset(&c->target, 0, sizeof(c->target));
        c->phase = PROTO_PHASE_REVERT;
        c->phase_slot = w->id ? c->previous.slot : PROTO_SLOT_NONE;
        c->retry_at_ms = 0;
        p->dirty = true;
        proto_notef(p, RF_LOG_WARN, "revert", c, "from bundle %lld to %lld (slot %c)",
                    (long long)c->current.id, (long long)w->id, proto_slot_char(c->phase_slot));
        return STEPR_CHANGED;
    }
    /* The bundle to go back to is not on disk: fetch it and install it. */
    if (c->retry_bundle_id == w->id && now < c->retry_at_ms)
        return STEPR_NOTHING;
    return start_download(p, c, act, true);
}

proto_stepr chan_plan(proto *p, proto_channel *c, int64_t now, proto_action *act)
{
    const proto_want *w = &c->want;

    if (c->phase == PROTO_PHASE_REFRESH || c->phase == PROTO_PHASE_DOWNLOAD)
        return fetch_action(p, c, act);
    if (c->phase != PROTO_PHASE_NONE || !w->present)
        return STEPR_NOTHING;
    if (w->bundle.id == c->current.id)
        return settle(p, c);
    if (w->action == PROTO_WANT_REVERT)
        return plan_revert(p, c, now, act);
    if (!w->bundle.id)
        return STEPR_NOTHING; /* "install nothing" is not an instruction */
    if (is_blocked(p, c, w->bundle.id))
        return refuse_blocked(p, c, now);
    if (c->retry_bundle_id == w->bundle.id && now < c->retry_at_ms)
        return STEPR_NOTHING;
    return start_download(p, c, act, false);
}

static void enter_install(proto *p, proto_channel *c)
{
    c->phase = PROTO_PHASE_INSTALL;
    c->phase_slot = inactive_slot(c);
    /* The slot about to be written may hold the previous bundle: from now on
     * it can no longer be reverted to. */
    if (c->previous.slot == c->phase_slot)
        memset(&c->previous, 0, sizeof(c->previous));
    p->dirty = true;
}

void chan_installing_acked(proto *p, proto_channel *c)
{
    proto_notef(p, RF_LOG_INFO, "installing acknowledged", c,
                "bundle %lld; activating into slot %c", (long long)c->target.id,
                proto_slot_char(inactive_slot(c)));
    enter_install(p, c);
}

/* The bundle was refused (metadata, target or bytes): reported at once,
 * retried only after a long back-off. */
static void refuse_target(proto *p, proto_channel *c, int64_t now, const char *why)
{
    c->phase = PROTO_PHASE_NONE;
    c->op = PROTO_OP_VERIFY_FAILED;
    set_error(c, why ? why : "verification failed");
    set_backoff(c, c->target.id, now, PROTO_VERIFY_BACKOFF_MIN_MS, PROTO_VERIFY_BACKOFF_MAX_MS);
    proto_touch(p);
    p->hb_next_ms = now;
    proto_notef(p, RF_LOG_ERROR, "bundle refused", c,
                "bundle %lld: %s; nothing installed, bundle %lld keeps running; retry in %lld s",
                (long long)c->target.id, c->error, (long long)c->current.id,
                (long long)(c->backoff_ms / 1000));
}

static void fetch_failed(proto *p, proto_channel *c, int64_t now, const char *what, const char *why)
{
    c->phase = PROTO_PHASE_NONE;
    set_backoff(c, c->target.id, now, PROTO_IO_BACKOFF_MIN_MS, PROTO_IO_BACKOFF_MAX_MS);
    p->dirty = true;
    proto_notef(p, RF_LOG_WARN, what, c, "bundle %lld: %s; retry in %lld s",
                (long long)c->target.id, why ? why : "unknown error",
                (long long)(c->backoff_ms / 1000));
}

void chan_on_refreshed(proto *p, proto_channel *c, int64_t now, const proto_event *ev)
{
    const proto_target *t = ev->target;
    char why[512]; /* set_error keeps what fits */

    if (c->phase != PROTO_PHASE_REFRESH || c->target.id != ev->bundle_id)
        return;
    if (ev->result == PROTO_FAIL_IO) {
        fetch_failed(p, c, now, "metadata refresh failed", ev->error);
        return;
    }
    if (ev->result != PROTO_OK || !t) {
        refuse_target(p, c, now, ev->error);
        return;
    }
    /* The director's assignment and the repository's targets metadata are
     * signed by different keys; both must name the same bytes. */
    if (t->length != c->target.length || strcmp(t->sha256, c->target.sha256) != 0) {
        snprintf(why, sizeof(why),
                 "tuf: target %s/%s-%s in targets metadata (%lld bytes, sha256 %.12s...) "
                 "differs from the assignment (%lld bytes, sha256 %.12s...)",
                 c->name, c->target.name, c->target.version, (long long)t->length, t->sha256,
                 (long long)c->target.length, c->target.sha256);
        refuse_target(p, c, now, why);
        return;
    }
    c->phase = PROTO_PHASE_DOWNLOAD;
    proto_notef(p, RF_LOG_INFO, "download", c,
                "bundle %lld version %s: the verified targets metadata lists it (%lld bytes)",
                (long long)c->target.id, c->target.version, (long long)t->length);
}

void chan_on_downloaded(proto *p, proto_channel *c, int64_t now, const proto_event *ev)
{
    if (c->phase != PROTO_PHASE_DOWNLOAD || c->target.id != ev->bundle_id)
        return;
    c->phase = PROTO_PHASE_NONE;
    if (ev->result == PROTO_OK) {
        clear_backoff(c);
        if (c->hook_revert) {
            if (c->current.id)
                mark_failed(p, c, c->current.id, PROTO_FAILED_REVERTED);
            enter_install(p, c);
            return;
        }
        c->op = PROTO_OP_INSTALLING;
        set_error(c, NULL);
        c->phase = PROTO_PHASE_AWAIT_ACK;
        proto_touch(p);
        c->await_gen = p->gen;
        p->hb_next_ms = now;
        proto_notef(p, RF_LOG_INFO, "verified", c,
                    "bundle %lld matches its signed metadata; reporting installing",
                    (long long)c->target.id);
        return;
    }
    if (ev->result == PROTO_FAIL_VERIFY)
        refuse_target(p, c, now, ev->error);
    else
        fetch_failed(p, c, now, "download failed", ev->error);
}

void chan_on_installed(proto *p, proto_channel *c, int64_t now, const proto_event *ev)
{
    if (c->phase != PROTO_PHASE_INSTALL || c->target.id != ev->bundle_id)
        return;
    proto_add_crashes(p, ev->new_crashes, "before activation");
    if (ev->result == PROTO_OK) {
        proto_notef(p, RF_LOG_INFO, "activated", c, "bundle %lld version %s in slot %c (%s)",
                    (long long)c->target.id, c->target.version, proto_slot_char(c->phase_slot),
                    c->hook_revert ? "revert" : "install");
        activate(p, c, now, &c->target, c->phase_slot);
        return;
    }
    c->phase = PROTO_PHASE_NONE;
    proto_touch(p);
    p->hb_next_ms = now;
    if (c->hook_revert || ev->result != PROTO_FAIL_HOOK) {
        /* Disk trouble, or a revert that must still happen: try again later. */
        set_error(c, ev->error ? ev->error : "install failed");
        if (!c->hook_revert)
            c->op = PROTO_OP_INSTALL_FAILED;
        set_backoff(c, c->target.id, now, PROTO_IO_BACKOFF_MIN_MS, PROTO_IO_BACKOFF_MAX_MS);
        proto_notef(p, RF_LOG_ERROR, "install failed", c, "bundle %lld: %s; retry in %lld s",
                    (long long)c->target.id, c->error, (long long)(c->backoff_ms / 1000));
        return;
    }
    c->op = PROTO_OP_INSTALL_FAILED;
    set_error(c, ev->error ? ev->error : "install hook failed");
    mark_failed(p, c, c->target.id, PROTO_FAILED_OWN);
    proto_notef(p, RF_LOG_ERROR, "install failed", c,
                "bundle %lld: %s; bundle %lld stays active; not retried", (long long)c->target.id,
                c->error, (long long)c->current.id);
}

void chan_on_reverted(proto *p, proto_channel *c, int64_t now, const proto_event *ev)
{
    if (c->phase != PROTO_PHASE_REVERT || c->target.id != ev->bundle_id)
        return;
    proto_add_crashes(p, ev->new_crashes, "before the revert");
    if (ev->result == PROTO_OK) {
        proto_notef(p, RF_LOG_INFO, "reverted", c, "bundle %lld is active again (slot %c)",
                    (long long)c->target.id, proto_slot_char(c->phase_slot));
        activate(p, c, now, &c->target, c->phase_slot);
        return;
    }
    if (ev->result == PROTO_FAIL_VERIFY) {
        /* The kept copy is damaged: forget it; planning fetches the bundle. */
        proto_notef(p, RF_LOG_ERROR, "revert refused", c, "slot %c: %s",
                    proto_slot_char(c->phase_slot), ev->error ? ev->error : "damaged");
        memset(&c->previous, 0, sizeof(c->previous));
        c->phase = PROTO_PHASE_NONE;
        c->phase_slot = PROTO_SLOT_NONE;
        p->dirty = true;
        return;
    }
    set_error(c, ev->error ? ev->error : "revert failed");
    set_backoff(c, c->target.id, now, PROTO_IO_BACKOFF_MIN_MS, PROTO_IO_BACKOFF_MAX_MS);
    proto_touch(p);
    proto_notef(p, RF_LOG_ERROR, "revert failed", c, "%s; retry in %lld s", c->error,
                (long long)(c->backoff_ms / 1000));
}

void chan_reconcile(proto *p, proto_channel *c, int64_t now, const proto_slot *actual,
                    proto_boot_class cls)
{
    if (c->phase == PROTO_PHASE_INSTALL || c->phase == PROTO_PHASE_REVERT) {
        bool install = c->phase == PROTO_PHASE_INSTALL;
        if (actual && *actual == c->phase_slot) {
            proto_notef(p, RF_LOG_WARN, "finished before restart", c,
                        "the %s of bundle %lld had switched slots before the agent stopped",
                        install ? "install" : "revert", (long long)c->target.id);
            activate(p, c, now, &c->target, c->phase_slot);
        } else if (install && !c->hook_revert && cls == PROTO_BOOT_NEW_UNCLEAN) {
            c->phase = PROTO_PHASE_NONE;
            c->op = PROTO_OP_INSTALL_FAILED;
            set_error(c, "install interrupted by an unclean shutdown");
            mark_failed(p, c, c->target.id, PROTO_FAILED_OWN);
            proto_touch(p);
            proto_notef(p, RF_LOG_ERROR, "install failed", c,
                        "bundle %lld: install interrupted by an unclean shutdown; not retried",
                        (long long)c->target.id);
        }
        return; /* otherwise the install or revert runs again */
    }
    if (actual && *actual != c->current.slot)
        proto_notef(p, RF_LOG_WARN, "slot mismatch", c,
                    "the current link points to slot %c but the state says %c; the state wins",
                    proto_slot_char(*actual), proto_slot_char(c->current.slot));
}

int64_t chan_deadline(const proto *p, const proto_channel *c, int64_t now)
{
    int64_t d = INT64_MAX;

    if (c->run == PROTO_RUN_TRIAL && c->current.id && !c->unclean_shutdowns && !c->crashes)
        d = c->activated_ms + p->cfg.health_window_ms;
    if (c->retry_at_ms > now && c->retry_at_ms < d)
        d = c->retry_at_ms;
    return d;
}

bool proto_local_rollback(proto *p, proto_channel *c, int64_t now, const char *why)
{
    proto_bundle from = c->current;
    proto_bundle to;
    int64_t rollbacks = c->local_rollbacks + 1;

    if (!from.id || c->run != PROTO_RUN_TRIAL)
        return false;
    if (c->previous.id && c->previous.slot != PROTO_SLOT_NONE)
        to = c->previous;
    else
        memset(&to, 0, sizeof(to));
    activate(p, c, now, &to, to.slot);
    mark_failed(p, c, from.id, PROTO_FAILED_OWN);
    c->op = PROTO_OP_ROLLED_BACK;
    c->target = from;
    c->local_rollbacks = rollbacks;
    set_error(c, why);
    proto_notef(p, RF_LOG_WARN, "rolled back", c, "bundle %lld rolled back locally to %lld: %s",
                (long long)from.id, (long long)to.id, why ? why : "");
    return true;
}
