/* One simulated device: it answers agent/proto.c's actions the way the real
 * driver (agent/agent.c, agent_net.c) does, except that slots, hooks, crash
 * dirs and boots are simulated by the scenario: an install of a bundle with a
 * failure mode may crash the device for good, reboot it uncleanly later or in
 * a loop, or fail its hook. Transfers go through engine.c. It keeps the
 * counters of the report; it never overrides a decision of proto. */
#include "engine.h"
#include "rf_util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define SIM_CHANNEL "content"

bool dev_offline(const sim *s, const sim_dev *d, int64_t now)
{
    int64_t t = now - s->st.started_ms;

    return d->offline_pick && t >= s->sc->offline_at_ms &&
           t < s->sc->offline_at_ms + s->sc->offline_ms;
}

static int64_t next_background(sim *s, int64_t now)
{
    double rate = s->sc->background_per_hour / 3600000.0; /* per ms */

    if (rate <= 0)
        return INT64_MAX;
    return now + (int64_t)(-log(1.0 - sim_rand(s)) / rate);
}

int sim_rollout_slot(sim *s, int64_t rollout_id, int bundle)
{
    sim_stats *st = &s->st;

    for (uint32_t i = 0; i < st->nrollouts; i++)
        if (st->rollouts[i].rollout_id == rollout_id) {
            if (st->rollouts[i].bundle < 0)
                st->rollouts[i].bundle = bundle;
            return (int)i;
        }
    if (st->nrollouts == SIM_MAX_ROLLOUTS)
        return -1;
    memset(&st->rollouts[st->nrollouts], 0, sizeof(st->rollouts[0]));
    st->rollouts[st->nrollouts].rollout_id = rollout_id;
    st->rollouts[st->nrollouts].bundle = bundle;
    return (int)st->nrollouts++;
}

void dev_start(sim *s, uint32_t i, int64_t at)
{
    sim_dev *d = &s->dev[i];
    proto_config pc = {s->sc->heartbeat_ms, s->sc->health_window_ms};
    uint32_t ring = 0;
    int64_t acc = 0;

    for (ring = 0; ring < s->sc->nrings; ring++) {
        acc += s->sc->rings[ring].size;
        if (i < acc)
            break;
    }
    proto_init(&d->p, &pc);
    d->ring = (uint8_t)ring;
    d->offline_pick = sim_rand(s) < s->sc->offline_fraction;
    d->bad_version = -1;
    d->rollout_slot = -1;
    d->crash_at_ms = INT64_MAX;
    d->bg_crash_at_ms = next_background(s, at);
    d->boot_class = PROTO_BOOT_FIRST;
    snprintf(d->boot_id, sizeof(d->boot_id), "sim-%u-0", i);
    sim_timer_set(s, i, at); /* the first timer feeds START (see dev_run) */
}

/* The first crash a rollout's bundle causes, for the report. */
static void note_crash(sim *s, const sim_dev *d, int64_t now)
{
    if (d->rollout_slot >= 0 && !s->st.rollouts[d->rollout_slot].first_crash_ms)
        s->st.rollouts[d->rollout_slot].first_crash_ms = now;
}

/* An unclean reboot: what the state file holds survives (as state_load
 * restores it), everything transient is gone; the next boot is unclean. */
static void crash_restart(sim *s, uint32_t i, int64_t now)
{
    sim_dev *d = &s->dev[i];
    proto old = d->p;
    static unsigned boots;

    if (now >= d->crash_at_ms) /* the bundle's failure mode, not a background one */
        note_crash(s, d, now);

    proto_init(&d->p, &old.cfg);
    memcpy(d->p.device_id, old.device_id, sizeof(old.device_id));
    memcpy(d->p.boot_id, old.boot_id, sizeof(old.boot_id));
    d->p.seq = old.seq;
    d->p.counter = old.counter;
    d->p.have_counter = old.have_counter;
    d->p.agent_restarts = old.agent_restarts;
    d->p.nch = old.nch;
    d->p.ch = old.ch;
    for (uint32_t c = 0; c < d->p.nch; c++) {
        proto_channel *ch = &d->p.ch[c];
        if (ch->phase != PROTO_PHASE_INSTALL && ch->phase != PROTO_PHASE_REVERT)
            ch->phase = PROTO_PHASE_NONE;
        ch->refusal[0] = '\0';
        ch->await_gen = 0;
    }
    snprintf(d->boot_id, sizeof(d->boot_id), "sim-%u-%u", i, ++boots);
    d->boot_class = PROTO_BOOT_NEW_UNCLEAN;
    d->crash_at_ms = INT64_MAX;
    d->bg_crash_at_ms = next_background(s, now);
    s->st.crashes_injected++;
}

/* After a boot, an install or a revert: when the running bundle's failure
 * mode makes the device reboot next (crash_later once after its install,
 * boot_loop after every boot). */
static void reschedule(sim *s, sim_dev *d, int64_t now, const proto_action *act)
{
    proto_act_kind why = act->kind;
    const proto_bundle *cur = why == PROTO_ACT_INSTALL ? act->bundle
                              : d->p.nch               ? &d->p.ch[0].current
                                                       : NULL;
    int b = cur && cur->id ? sim_bundle_find(s->sc, cur->version) : -1;

    d->crash_at_ms = INT64_MAX;
    if (b < 0)
        return;
    if (s->sc->bundles[b].mode == SIM_CRASH_LATER && why == PROTO_ACT_INSTALL)
        d->crash_at_ms = now + s->sc->bundles[b].after_ms;
    else if (s->sc->bundles[b].mode == SIM_BOOT_LOOP)
        d->crash_at_ms = now + 300;
}

static void track_back(sim *s, sim_dev *d, int64_t now)
{
    const proto_bundle *cur = d->p.nch ? &d->p.ch[0].current : NULL;

    if (d->bad_version < 0 || d->back_ms || !cur)
        return;
    if (cur->id == 0 || sim_bundle_find(s->sc, cur->version) != d->bad_version)
        d->back_ms = now;
}

static void on_install(sim *s, uint32_t i, const proto_action *act, proto_event *ev, int64_t now)
{
    sim_dev *d = &s->dev[i];
    const proto_channel *c = &d->p.ch[act->channel];
    int b = sim_bundle_find(s->sc, act->bundle->version);
    const sim_bundle *sb = b >= 0 ? &s->sc->bundles[b] : NULL;

    ev->kind = PROTO_EV_INSTALLED;
    ev->channel = act->channel;
    ev->bundle_id = act->bundle->id;
    ev->new_crashes = d->pending_crashes;
    d->pending_crashes = 0;
    if (!act->hook_revert) {
        int r = sim_rollout_slot(s, c->want.rollout_id, b);
        s->st.installs++;
        d->rollout_slot = (int8_t)r;
        if (r >= 0) {
            sim_rollout_seen *ro = &s->st.rollouts[r];
            if (!ro->first_install_ms) {
                ro->first_install_ms = now;
                memcpy(ro->version, act->bundle->version, sizeof(ro->version));
            }
            ro->installs[d->ring]++;
            if (!ro->halt_seen_ms)
                ro->installs_before_halt[d->ring]++;
        }
        if (sb && sb->mode != SIM_HEALTHY) {
            d->bad_version = (int8_t)b;
            d->exposed_ms = now;
            d->back_ms = 0;
        }
    }
    if (sb && sb->mode == SIM_HOOK_FAIL && !act->hook_revert && sim_rand(s) < sb->p) {
        ev->result = PROTO_FAIL_HOOK;
        ev->error = "simulated hook failure";
        return;
    }
    d->actual = act->slot;
}

/* Executes a local action at once (filling ev) or starts waiting; returns
 * false when the device now waits (timer, transfer or silence). */
static bool execute(sim *s, uint32_t i, const proto_action *act, proto_event *ev, int64_t now)
{
    sim_dev *d = &s->dev[i];
    static proto_slot actual[PROTO_MAX_CHANNELS];
    static char msg[PROTO_ERROR_MAX];

    switch (act->kind) {
    case PROTO_ACT_OBSERVE_BOOT:
        ev->kind = PROTO_EV_BOOT;
        ev->boot_id = d->boot_id;
        ev->boot_class = (proto_boot_class)d->boot_class;
        ev->new_crashes = d->pending_crashes;
        d->pending_crashes = 0;
        actual[0] = d->actual;
        ev->actual_slots = actual;
        return true;
    case PROTO_ACT_PERSIST:
        ev->kind = PROTO_EV_PERSISTED;
        return true;
    case PROTO_ACT_CHECK_HEALTH:
        ev->kind = PROTO_EV_HEALTH;
        ev->new_crashes = d->pending_crashes;
        d->pending_crashes = 0;
        return true;
    case PROTO_ACT_REFRESH:
        ev->kind = PROTO_EV_REFRESHED;
        ev->channel = act->channel;
        ev->bundle_id = act->bundle->id;
        s->st.refreshes++;
        ev->result = sim_tuf_lookup(&s->tuf, d->p.ch[act->channel].name, act->bundle, now,
                                    &s->target, msg, sizeof(msg));
        ev->target = &s->target;
        ev->error = msg;
        return true;
    case PROTO_ACT_DOWNLOAD: /* the bytes are not fetched per device (see README) */
        ev->kind = PROTO_EV_DOWNLOADED;
        ev->channel = act->channel;
        ev->bundle_id = act->bundle->id;
        return true;
    case PROTO_ACT_INSTALL:
        on_install(s, i, act, ev, now);
        return true;
    case PROTO_ACT_REVERT:
        ev->kind = PROTO_EV_REVERTED;
        ev->channel = act->channel;
        ev->bundle_id = act->bundle->id;
        d->actual = act->slot;
        s->st.reverts++;
        return true;
    default:
        return false;
    }
}

/* Network actions and sleeps: start waiting. */
static void wait_for(sim *s, uint32_t i, const proto_action *act, int64_t now)
{
    sim_dev *d = &s->dev[i];
    int64_t wake;
    int wait_s = act->kind == PROTO_ACT_POLL ? act->wait_s : 0;
    int64_t poll_ms = s->sc->rings[d->ring].poll_ms;

    switch (act->kind) {
    case PROTO_ACT_SLEEP:
        wake = act->until_ms;
        if (d->crash_at_ms < wake)
            wake = d->crash_at_ms;
        if (d->bg_crash_at_ms < wake)
            wake = d->bg_crash_at_ms;
        sim_timer_set(s, i, wake);
        return;
    case PROTO_ACT_POLL:
        if (poll_ms > 0 && d->p.have_counter) {
            /* polling instead of long-polling: at most one poll per period */
            if (now < d->last_poll_ms + poll_ms) {
                wake = d->last_poll_ms + poll_ms;
                if (wake > now + (int64_t)act->wait_s * 1000)
                    wake = now + (int64_t)act->wait_s * 1000;
                sim_timer_set(s, i, wake);
                return;
            }
            wait_s = 0;
        }
        d->last_poll_ms = now;
        s->st.polls++;
        break;
    case PROTO_ACT_ENROLL:
    case PROTO_ACT_HEARTBEAT:
        break;
    default: /* DONE (or NONE): the device is gone */
        d->wait = SIM_SILENT;
        return;
    }
    if (sim_http_start(s, i, act, wait_s) != RF_OK) {
        s->st.http_errors++;
        sim_timer_set(s, i, now + 1000);
        return;
    }
    if (wait_s > 0) { /* a crash does not wait for the long-poll to end */
        wake = d->crash_at_ms < d->bg_crash_at_ms ? d->crash_at_ms : d->bg_crash_at_ms;
        if (wake < now + (int64_t)wait_s * 1000 + 60000)
            sim_crash_timer_set(s, i, wake);
    }
}

void dev_run(sim *s, uint32_t i, const proto_event *first)
{
    sim_dev *d = &s->dev[i];
    proto_event ev, start = {.kind = PROTO_EV_START};
    const proto_event *feed = first;
    proto_action act;

    if (d->wait == SIM_SILENT)
        return;
    if (!d->p.started)
        feed = &start; /* the first timer: the agent starts */
    for (int guard = 0; guard < 256; guard++) {
        int64_t now = rf_now_ms();
        if (d->p.started && (now >= d->crash_at_ms || now >= d->bg_crash_at_ms)) {
            crash_restart(s, i, now);
            start.device_id = d->p.device_id;
            feed = &start;
        }
        if (feed == &start && !start.device_id)
            start.device_id = d->p.device_id[0] ? d->p.device_id : "";
        proto_step(&d->p, now, feed, &act);
        memset(&ev, 0, sizeof(ev));
        feed = NULL;
        track_back(s, d, now);
        if ((act.kind == PROTO_ACT_ENROLL || act.kind == PROTO_ACT_HEARTBEAT ||
             act.kind == PROTO_ACT_POLL) &&
            dev_offline(s, d, now)) {
            ev.kind = act.kind == PROTO_ACT_ENROLL      ? PROTO_EV_ENROLLED
                      : act.kind == PROTO_ACT_HEARTBEAT ? PROTO_EV_HEARTBEAT
                                                        : PROTO_EV_ASSIGNMENT;
            ev.seq = act.seq;
            ev.result = PROTO_FAIL_IO;
            ev.error = "simulated: offline";
            feed = &ev;
            continue;
        }
        if (!execute(s, i, &act, &ev, now)) {
            wait_for(s, i, &act, now);
            return;
        }
        if (act.kind == PROTO_ACT_INSTALL && ev.result == PROTO_OK && d->bad_version >= 0 &&
            s->sc->bundles[d->bad_version].mode == SIM_CRASH_BOOT &&
            sim_rand(s) < s->sc->bundles[d->bad_version].p) {
            d->wait = SIM_SILENT; /* boots into the bundle, crashes, never comes back */
            note_crash(s, d, now);
            s->st.silent++;
            s->st.crashes_injected++;
            return;
        }
        if (act.kind == PROTO_ACT_INSTALL || act.kind == PROTO_ACT_REVERT ||
            act.kind == PROTO_ACT_OBSERVE_BOOT)
            reschedule(s, d, now, &act);
        feed = &ev;
    }
    sim_timer_set(s, i, rf_now_ms() + 1000); /* a step storm: let the loop breathe */
}

/* Halts are seen from the devices: the first assignment that asks any device
 * to revert a rollout. */
static void note_reverts(sim *s, const proto_assignment *a, int64_t now)
{
    for (uint32_t c = 0; c < a->nch; c++) {
        const proto_want *w = &a->ch[c].want;
        int r;
        if (!w->present || w->action != PROTO_WANT_REVERT || !w->rollout_id)
            continue;
        r = sim_rollout_slot(s, w->rollout_id, -1);
        if (r >= 0 && !s->st.rollouts[r].halt_seen_ms)
            s->st.rollouts[r].halt_seen_ms = now;
    }
}

static void poll_done(sim *s, sim_xfer *x, long status, proto_event *ev, char *msg, size_t len)
{
    json_t *doc = NULL, *signed_obj = NULL;
    rf_error err = {0};

    ev->kind = PROTO_EV_ASSIGNMENT;
    if (status != 200) {
        snprintf(msg, len, "assignment: HTTP %ld", status);
        ev->result = PROTO_FAIL_IO;
        s->st.polls_failed++;
    } else if (rf_tuf_assignment_verify(&s->tuf.tuf.root, x->resp.data ? x->resp.data : "",
                                        x->resp.len, &doc, &signed_obj, &err) != RF_OK ||
               wire_assignment_parse(signed_obj, &s->asg, &err) != RF_OK) {
        snprintf(msg, len, "%s", err.message);
        ev->result = PROTO_FAIL_VERIFY;
        s->st.polls_failed++;
    } else {
        ev->assignment = &s->asg;
        note_reverts(s, &s->asg, rf_now_ms());
    }
    json_decref(doc);
}

void dev_http_done(sim *s, sim_xfer *x, CURLcode cc)
{
    sim_dev *d = &s->dev[x->dev];
    static char msg[PROTO_ERROR_MAX], id[PROTO_DEVICE_ID_LEN + 1];
    proto_event ev = {.error = msg};
    long status = 0;
    rf_error err = {0};

    msg[0] = '\0';
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    if (x->kind == PROTO_ACT_HEARTBEAT) {
        s->st.hb_latency_ms += rf_now_ms() - x->started_ms;
        s->st.hb_done++;
    } else if (x->kind == PROTO_ACT_POLL) {
        s->st.poll_latency_ms += rf_now_ms() - x->started_ms;
        s->st.poll_done++;
    }
    if (cc != CURLE_OK) {
        s->st.http_errors++;
        snprintf(msg, sizeof(msg), "transport: %s", curl_easy_strerror(cc));
        status = 0;
    }
    switch (x->kind) {
    case PROTO_ACT_ENROLL:
        ev.kind = PROTO_EV_ENROLLED;
        if ((status != 200 && status != 201) ||
            wire_enroll_answer(x->resp.data ? x->resp.data : "", x->resp.len, id, d->token, &err) !=
                RF_OK) {
            ev.result = PROTO_FAIL_IO;
            if (!msg[0])
                snprintf(msg, sizeof(msg), "enroll: HTTP %ld %.200s", status, err.message);
        } else {
            ev.device_id = id;
            s->st.enrolled++;
        }
        break;
    case PROTO_ACT_HEARTBEAT:
        ev.kind = PROTO_EV_HEARTBEAT;
        ev.seq = x->seq;
        if (status / 100 != 2) {
            ev.result = PROTO_FAIL_IO;
            s->st.heartbeats_failed++;
        } else {
            s->st.heartbeats_ok++;
        }
        break;
    default:
        poll_done(s, x, status, &ev, msg, sizeof(msg));
        break;
    }
    if (cc != CURLE_OK)
        ev.result = PROTO_FAIL_IO;
    d->wait = SIM_READY;
    dev_run(s, x->dev, &ev);
}
