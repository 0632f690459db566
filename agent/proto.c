/* The agent's protocol state machine: device-wide events (start, boot,
 * enrollment, heartbeats, assignments, health checks, shutdown) and the choice
 * of the single next action. Per-channel install and revert logic lives in
 * proto_channel.c. This file must never do I/O, read a clock or block: the time
 * comes in as a parameter and every effect goes out as an action. */
#include "proto.h"
#include "proto_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HB_BACKOFF_MIN_MS 1000LL
#define HB_BACKOFF_MAX_MS 30000LL
#define POLL_BACKOFF_MIN_MS 1000LL
#define POLL_BACKOFF_MAX_MS 30000LL
#define REFUSED_BACKOFF_MIN_MS 5000LL
#define REFUSED_BACKOFF_MAX_MS 60000LL
#define ENROLL_BACKOFF_MIN_MS 1000LL
#define ENROLL_BACKOFF_MAX_MS 300000LL
#define PERSIST_BACKOFF_MIN_MS 1000LL
#define PERSIST_BACKOFF_MAX_MS 30000LL

void proto_notef(proto *p, rf_log_level lvl, const char *what, const proto_channel *c,
                 const char *fmt, ...)
{
    char detail[320];
    va_list ap;

    if (!p->note)
        return;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    p->note(p->note_arg, lvl, what, c ? c->name : NULL, detail);
}

void proto_touch(proto *p)
{
    p->gen++;
    p->dirty = true;
}

int64_t proto_backoff(int64_t *cur, int64_t min, int64_t max)
{
    if (*cur < min)
        *cur = min;
    else if (*cur < max / 2)
        *cur *= 2;
    else
        *cur = max;
    return *cur;
}

static bool hex32_ok(const char *s)
{
    size_t i;

    if (!s)
        return false;
    for (i = 0; i < PROTO_DEVICE_ID_LEN; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return s[i] == '\0';
}

void proto_init(proto *p, const proto_config *cfg)
{
    memset(p, 0, sizeof(*p));
    p->cfg = *cfg;
    if (p->cfg.heartbeat_interval_ms <= 0)
        p->cfg.heartbeat_interval_ms = 30000;
    if (p->cfg.health_window_ms < 0)
        p->cfg.health_window_ms = 0;
    p->health_checked_ms = INT64_MIN;
}

void proto_cleanup(proto *p)
{
    if (!p)
        return;
    free(p->ch);
    p->ch = NULL;
    p->nch = 0;
}

bool proto_channel_name_valid(const char *name)
{
    size_t n;

    if (!name)
        return false;
    n = strlen(name);
    if (n == 0 || n > PROTO_NAME_MAX || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
              ch == '-'))
            return false;
    }
    return true;
}

proto_channel *proto_channel_get(proto *p, const char *name, bool add)
{
    proto_channel *grown;
    proto_channel *c;

    for (uint32_t i = 0; i < p->nch; i++)
        if (strcmp(p->ch[i].name, name) == 0)
            return &p->ch[i];
    if (!add || p->nch >= PROTO_MAX_CHANNELS || !proto_channel_name_valid(name))
        return NULL;
    grown = realloc(p->ch, (p->nch + 1) * sizeof(*grown));
    if (!grown)
        return NULL;
    p->ch = grown;
    c = &p->ch[p->nch++];
    memset(c, 0, sizeof(*c));
    memcpy(c->name, name, strlen(name) + 1);
    return c;
}

void proto_add_crashes(proto *p, int64_t n, const char *why)
{
    if (n <= 0)
        return;
    for (uint32_t i = 0; i < p->nch; i++) {
        proto_channel *c = &p->ch[i];
        if (!c->current.id)
            continue;
        c->crashes += n;
        proto_notef(p, RF_LOG_WARN, "crash recorded", c,
                    "%lld new crash record(s) %s; bundle %lld now has %lld since activation",
                    (long long)n, why, (long long)c->current.id, (long long)c->crashes);
    }
    proto_touch(p);
}

/* ---- events ---------------------------------------------------------- */

static bool answers(proto_act_kind asked, proto_ev_kind got)
{
    switch (asked) {
    case PROTO_ACT_OBSERVE_BOOT:
        return got == PROTO_EV_BOOT;
    case PROTO_ACT_PERSIST:
        return got == PROTO_EV_PERSISTED;
    case PROTO_ACT_ENROLL:
        return got == PROTO_EV_ENROLLED;
    case PROTO_ACT_CHECK_HEALTH:
        return got == PROTO_EV_HEALTH;
    case PROTO_ACT_HEARTBEAT:
        return got == PROTO_EV_HEARTBEAT;
    case PROTO_ACT_POLL:
        return got == PROTO_EV_ASSIGNMENT;
    case PROTO_ACT_REFRESH:
        return got == PROTO_EV_REFRESHED;
    case PROTO_ACT_DOWNLOAD:
        return got == PROTO_EV_DOWNLOADED;
    case PROTO_ACT_INSTALL:
        return got == PROTO_EV_INSTALLED;
    case PROTO_ACT_REVERT:
        return got == PROTO_EV_REVERTED;
    default:
        return false;
    }
}

/* Another identity means another server-side counter: forget the old one. */
static void set_device(proto *p, const char *id)
{
    if (strcmp(p->device_id, id) == 0)
        return;
    if (p->device_id[0]) {
        p->have_counter = false;
        p->counter = 0;
        proto_notef(p, RF_LOG_WARN, "identity changed", NULL,
                    "device %s replaces %s; assignment counter reset", id[0] ? id : "(none)",
                    p->device_id);
    }
    snprintf(p->device_id, sizeof(p->device_id), "%s", id);
    p->dirty = true;
}

static void on_start(proto *p, int64_t now, const proto_event *ev)
{
    if (p->started)
        return;
    p->started = true;
    set_device(p, hex32_ok(ev->device_id) ? ev->device_id : "");
    for (uint32_t i = 0; i < p->nch; i++) {
        proto_channel *c = &p->ch[i];
        /* A refresh, a download or an unacknowledged "installing" does not
         * survive a restart: the bundle is fetched and verified again. */
        if (c->phase == PROTO_PHASE_REFRESH || c->phase == PROTO_PHASE_DOWNLOAD ||
            c->phase == PROTO_PHASE_AWAIT_ACK)
            c->phase = PROTO_PHASE_NONE;
    }
    p->hb_next_ms = now;
}

static void on_boot(proto *p, int64_t now, const proto_event *ev)
{
    proto_boot_class cls = ev->boot_class;

    if (ev->boot_id) {
        size_t n = strnlen(ev->boot_id, PROTO_BOOT_ID_MAX);
        memcpy(p->boot_id, ev->boot_id, n);
        p->boot_id[n] = '\0';
    }
    for (uint32_t i = 0; i < p->nch; i++)
        chan_reconcile(p, &p->ch[i], now, ev->actual_slots ? &ev->actual_slots[i] : NULL, cls);
    if (cls == PROTO_BOOT_NEW_CLEAN || cls == PROTO_BOOT_NEW_UNCLEAN) {
        for (uint32_t i = 0; i < p->nch; i++) {
            proto_channel *c = &p->ch[i];
            if (!c->current.id)
                continue;
            c->boots++;
            if (cls == PROTO_BOOT_NEW_UNCLEAN)
                c->unclean_shutdowns++;
        }
    }
    if (cls == PROTO_BOOT_AGENT_RESTART) {
        p->agent_restarts++;
        proto_notef(p, RF_LOG_WARN, "agent restart", NULL,
                    "the agent stopped without a clean shutdown in this boot (%lld so far)",
                    (long long)p->agent_restarts);
    }
    proto_notef(p, cls == PROTO_BOOT_NEW_UNCLEAN ? RF_LOG_WARN : RF_LOG_INFO, "boot observed", NULL,
                "boot %s: %s", p->boot_id, proto_boot_class_name(cls));
    proto_add_crashes(p, ev->new_crashes, "found at start");
    p->booted = true;
    proto_touch(p);
}

static void on_persisted(proto *p, int64_t now, const proto_event *ev)
{
    if (ev->result == PROTO_OK) {
        p->dirty = false;
        p->persist_backoff_ms = 0;
        return;
    }
    proto_notef(p, RF_LOG_ERROR, "state not saved", NULL, "%s",
                ev->error ? ev->error : "unknown error");
    if (p->shutting_down) {
        p->done = true; /* nothing better to do on the way out */
        return;
    }
    p->persist_retry_ms =
        now + proto_backoff(&p->persist_backoff_ms, PERSIST_BACKOFF_MIN_MS, PERSIST_BACKOFF_MAX_MS);
}

static void on_enrolled(proto *p, int64_t now, const proto_event *ev)
{
    if (ev->result == PROTO_OK && hex32_ok(ev->device_id)) {
        set_device(p, ev->device_id);
        p->enroll_backoff_ms = 0;
        p->hb_next_ms = now;
        proto_notef(p, RF_LOG_INFO, "enrolled", NULL, "device %s", p->device_id);
        return;
    }
    p->enroll_retry_ms =
        now + proto_backoff(&p->enroll_backoff_ms, ENROLL_BACKOFF_MIN_MS, ENROLL_BACKOFF_MAX_MS);
    proto_notef(p, RF_LOG_WARN, "enrollment failed", NULL, "%s; retrying in %lld s",
                ev->error ? ev->error : "no device id", (long long)(p->enroll_backoff_ms / 1000));
}

static void on_heartbeat(proto *p, int64_t now, const proto_event *ev)
{
    int64_t cap = p->cfg.heartbeat_interval_ms < HB_BACKOFF_MAX_MS ? p->cfg.heartbeat_interval_ms
                                                                   : HB_BACKOFF_MAX_MS;

    if (!p->hb_pending || ev->seq != p->hb_seq)
        return;
    if (ev->result != PROTO_OK) {
        p->hb_next_ms = now + proto_backoff(&p->hb_backoff_ms, HB_BACKOFF_MIN_MS,
                                            cap > HB_BACKOFF_MIN_MS ? cap : HB_BACKOFF_MIN_MS);
        proto_notef(p, RF_LOG_WARN, "heartbeat failed", NULL, "seq %lld: %s; retrying in %lld ms",
                    (long long)p->hb_seq, ev->error ? ev->error : "unknown error",
                    (long long)p->hb_backoff_ms);
        return;
    }
    p->hb_pending = false;
    p->hb_backoff_ms = 0;
    p->hb_next_ms = now + p->cfg.heartbeat_interval_ms;
    for (uint32_t i = 0; i < p->nch; i++) {
        proto_channel *c = &p->ch[i];
        if (c->phase == PROTO_PHASE_AWAIT_ACK && c->await_gen <= p->hb_gen)
            chan_installing_acked(p, c);
    }
}

static const char *assignment_refusal(const proto *p, int64_t now, const proto_assignment *a,
                                      char *why, size_t len)
{
    if (strcmp(a->device_id, p->device_id) != 0)
        snprintf(why, len, "assignment is for device %.32s, not this device", a->device_id);
    else if (p->have_counter && a->counter < p->counter)
        snprintf(why, len, "counter %lld is lower than the last accepted %lld (replay)",
                 (long long)a->counter, (long long)p->counter);
    else if (now / 1000 >= a->expires_s)
        snprintf(why, len, "assignment expired %lld s ago", (long long)(now / 1000 - a->expires_s));
    else
        return NULL;
    return why;
}

/* A refused assignment changes nothing but is reported: every channel shows
 * verify_failed with the reason in the next heartbeat (while it reports
 * nothing else), until an assignment is accepted again. */
static void report_refusal(proto *p, int64_t now, const char *why)
{
    char msg[PROTO_ERROR_MAX];
    size_t n = 0;

    snprintf(msg, sizeof(msg), "assignment refused: %s", why ? why : "unknown reason");
    for (; msg[n]; n++)
        if ((unsigned char)msg[n] < 0x20 || (unsigned char)msg[n] >= 0x7f)
            msg[n] = '?';
    for (uint32_t i = 0; i < p->nch; i++) {
        if (strcmp(p->ch[i].refusal, msg) == 0)
            continue;
        memcpy(p->ch[i].refusal, msg, n + 1);
        proto_touch(p);
        p->hb_next_ms = now;
    }
}

static void clear_refusals(proto *p)
{
    for (uint32_t i = 0; i < p->nch; i++) {
        if (!p->ch[i].refusal[0])
            continue;
        p->ch[i].refusal[0] = '\0';
        proto_touch(p);
    }
}

static void apply_assignment(proto *p, const proto_assignment *a)
{
    bool seen[PROTO_MAX_CHANNELS + 1] = {false};

    for (uint32_t i = 0; i < a->nch && i < PROTO_MAX_CHANNELS; i++) {
        proto_channel *c = proto_channel_get(p, a->ch[i].name, true);
        if (!c) {
            proto_notef(p, RF_LOG_WARN, "channel refused", NULL,
                        "channel '%s': invalid name or more than %d channels", a->ch[i].name,
                        PROTO_MAX_CHANNELS);
            continue;
        }
        seen[c - p->ch] = true;
        chan_set_want(p, c, &a->ch[i].want);
    }
    for (uint32_t i = 0; i < p->nch; i++)
        if (!seen[i])
            chan_set_want(p, &p->ch[i], NULL);
}

static void on_assignment(proto *p, int64_t now, const proto_event *ev)
{
    const proto_assignment *a = ev->assignment;
    char why[200];

    if (ev->result != PROTO_OK || !a) {
        bool refused = ev->result == PROTO_FAIL_VERIFY;
        p->poll_retry_ms =
            now + proto_backoff(&p->poll_backoff_ms,
                                refused ? REFUSED_BACKOFF_MIN_MS : POLL_BACKOFF_MIN_MS,
                                refused ? REFUSED_BACKOFF_MAX_MS : POLL_BACKOFF_MAX_MS);
        proto_notef(p, refused ? RF_LOG_ERROR : RF_LOG_WARN,
                    refused ? "assignment refused" : "assignment poll failed", NULL, "%s",
                    ev->error ? ev->error : "unknown error");
        if (refused)
            report_refusal(p, now, ev->error);
        return;
    }
    if (assignment_refusal(p, now, a, why, sizeof(why))) {
        p->poll_retry_ms = now + proto_backoff(&p->poll_backoff_ms, REFUSED_BACKOFF_MIN_MS,
                                               REFUSED_BACKOFF_MAX_MS);
        proto_notef(p, RF_LOG_ERROR, "assignment refused", NULL, "%s", why);
        report_refusal(p, now, why);
        return;
    }
    p->poll_backoff_ms = 0;
    clear_refusals(p);
    if (p->have_counter && a->counter == p->counter)
        return; /* nothing new */
    p->counter = a->counter;
    p->have_counter = true;
    p->dirty = true;
    proto_notef(p, RF_LOG_INFO, "assignment accepted", NULL, "counter %lld, %u channel(s)",
                (long long)a->counter, a->nch);
    apply_assignment(p, a);
}

static void on_health(proto *p, int64_t now, const proto_event *ev)
{
    p->health_checked_ms = now;
    proto_add_crashes(p, ev->new_crashes, "in a crash dir");
}

static void on_channel_answer(proto *p, int64_t now, const proto_event *ev)
{
    proto_channel *c;

    if (ev->channel >= p->nch)
        return;
    c = &p->ch[ev->channel];
    if (ev->kind == PROTO_EV_REFRESHED)
        chan_on_refreshed(p, c, now, ev);
    else if (ev->kind == PROTO_EV_DOWNLOADED)
        chan_on_downloaded(p, c, now, ev);
    else if (ev->kind == PROTO_EV_INSTALLED)
        chan_on_installed(p, c, now, ev);
    else
        chan_on_reverted(p, c, now, ev);
}

static void handle(proto *p, int64_t now, const proto_event *ev)
{
    if (ev->kind == PROTO_EV_START) {
        on_start(p, now, ev);
        return;
    }
    if (ev->kind == PROTO_EV_SHUTDOWN) {
        p->shutting_down = true;
        p->awaiting = PROTO_ACT_NONE;
        return;
    }
    if (!answers(p->awaiting, ev->kind))
        return; /* TIMER, or an answer to something not asked */
    p->awaiting = PROTO_ACT_NONE;
    switch (ev->kind) {
    case PROTO_EV_BOOT:
        on_boot(p, now, ev);
        break;
    case PROTO_EV_PERSISTED:
        on_persisted(p, now, ev);
        break;
    case PROTO_EV_ENROLLED:
        on_enrolled(p, now, ev);
        break;
    case PROTO_EV_HEALTH:
        on_health(p, now, ev);
        break;
    case PROTO_EV_HEARTBEAT:
        on_heartbeat(p, now, ev);
        break;
    case PROTO_EV_ASSIGNMENT:
        on_assignment(p, now, ev);
        break;
    default:
        on_channel_answer(p, now, ev);
        break;
    }
}

/* ---- deciding what to do next ----------------------------------------- */

static proto_stepr act_sleep(proto_action *act, int64_t until)
{
    act->kind = PROTO_ACT_SLEEP;
    act->until_ms = until;
    return STEPR_ACTED;
}

static proto_stepr act_simple(proto_action *act, proto_act_kind kind)
{
    act->kind = kind;
    return STEPR_ACTED;
}

static proto_stepr step_trials(proto *p, int64_t now, proto_action *act)
{
    for (uint32_t i = 0; i < p->nch; i++) {
        proto_channel *c = &p->ch[i];
        int64_t deadline = c->activated_ms + p->cfg.health_window_ms;
        if (c->run != PROTO_RUN_TRIAL || !c->current.id || now < deadline)
            continue;
        if (c->unclean_shutdowns || c->crashes)
            continue; /* stays on trial; the heartbeat shows why */
        if (p->health_checked_ms < deadline)
            return act_simple(act, PROTO_ACT_CHECK_HEALTH);
        c->run = PROTO_RUN_COMMITTED;
        proto_touch(p);
        proto_notef(p, RF_LOG_INFO, "committed", c,
                    "bundle %lld healthy for the health window (%lld boot(s))",
                    (long long)c->current.id, (long long)c->boots);
        return STEPR_CHANGED;
    }
    return STEPR_NOTHING;
}

static proto_stepr step_heartbeat(proto *p, int64_t now, proto_action *act)
{
    if (now < p->hb_next_ms)
        return STEPR_NOTHING;
    if (p->health_checked_ms < p->hb_next_ms)
        return act_simple(act, PROTO_ACT_CHECK_HEALTH);
    if (!p->hb_pending || p->hb_gen != p->gen) {
        /* A new report takes a new sequence number, saved before it is sent;
         * an unchanged report is retried under the same one. */
        p->seq++;
        p->hb_seq = p->seq;
        p->hb_gen = p->gen;
        p->hb_pending = true;
        p->dirty = true;
        return STEPR_CHANGED;
    }
    act->kind = PROTO_ACT_HEARTBEAT;
    act->seq = p->hb_seq;
    return STEPR_ACTED;
}

static int64_t next_deadline(const proto *p, int64_t now)
{
    int64_t d = p->hb_next_ms;

    for (uint32_t i = 0; i < p->nch; i++) {
        int64_t cd = chan_deadline(p, &p->ch[i], now);
        if (cd < d)
            d = cd;
    }
    return d;
}

static proto_stepr step_poll(proto *p, int64_t now, proto_action *act)
{
    int64_t deadline = next_deadline(p, now);
    int64_t wait_s;

    if (now < p->poll_retry_ms)
        return act_sleep(act, p->poll_retry_ms < deadline ? p->poll_retry_ms : deadline);
    act->kind = PROTO_ACT_POLL;
    if (!p->have_counter) {
        act->wait_s = 0; /* first fetch: answer at once */
        act->known = 0;
        return STEPR_ACTED;
    }
    wait_s = (deadline - now) / 1000;
    if (wait_s < 1)
        return act_sleep(act, deadline);
    act->wait_s = wait_s > PROTO_MAX_WAIT_S ? PROTO_MAX_WAIT_S : (int)wait_s;
    act->known = p->counter;
    return STEPR_ACTED;
}

static proto_stepr step_channels(proto *p, int64_t now, proto_action *act, bool activation)
{
    for (uint32_t i = 0; i < p->nch; i++) {
        proto_stepr r = activation ? chan_activation(p, &p->ch[i], now, act)
                                   : chan_plan(p, &p->ch[i], now, act);
        if (r != STEPR_NOTHING)
            return r;
    }
    return STEPR_NOTHING;
}

static proto_stepr decide_once(proto *p, int64_t now, proto_action *act)
{
    proto_stepr r;

    if (p->done)
        return act_simple(act, PROTO_ACT_DONE);
    if (!p->started)
        return act_simple(act, PROTO_ACT_NONE);
    if (!p->booted)
        return act_simple(act, PROTO_ACT_OBSERVE_BOOT);
    if (p->dirty) {
        if (!p->shutting_down && now < p->persist_retry_ms)
            return act_sleep(act, p->persist_retry_ms);
        return act_simple(act, PROTO_ACT_PERSIST);
    }
    if (p->shutting_down) {
        p->done = true;
        return act_simple(act, PROTO_ACT_DONE);
    }
    if (!p->device_id[0])
        return now < p->enroll_retry_ms ? act_sleep(act, p->enroll_retry_ms)
                                        : act_simple(act, PROTO_ACT_ENROLL);
    if ((r = step_channels(p, now, act, true)) != STEPR_NOTHING)
        return r;
    if ((r = step_trials(p, now, act)) != STEPR_NOTHING)
        return r;
    if ((r = step_heartbeat(p, now, act)) != STEPR_NOTHING)
        return r;
    if ((r = step_channels(p, now, act, false)) != STEPR_NOTHING)
        return r;
    return step_poll(p, now, act);
}

static void clamp(int64_t *t, int64_t latest)
{
    if (*t > latest)
        *t = latest;
}

/* A wall clock that jumped back must not postpone heartbeats, retries or
 * commits by the size of the jump: no wait is ever longer than its period. */
static void clamp_clock(proto *p, int64_t now)
{
    clamp(&p->hb_next_ms, now + p->cfg.heartbeat_interval_ms);
    clamp(&p->poll_retry_ms, now + p->poll_backoff_ms);
    clamp(&p->enroll_retry_ms, now + p->enroll_backoff_ms);
    clamp(&p->persist_retry_ms, now + p->persist_backoff_ms);
    for (uint32_t i = 0; i < p->nch; i++) {
        proto_channel *c = &p->ch[i];
        clamp(&c->retry_at_ms, now + c->backoff_ms);
        if (c->current.id && c->activated_ms > now) {
            c->activated_ms = now;
            p->dirty = true;
        }
    }
}

void proto_step(proto *p, int64_t now, const proto_event *ev, proto_action *act)
{
    memset(act, 0, sizeof(*act));
    if (ev && ev->kind != PROTO_EV_NONE)
        handle(p, now, ev);
    clamp_clock(p, now);
    for (int guard = 0; guard < 64; guard++) {
        if (decide_once(p, now, act) == STEPR_ACTED) {
            p->awaiting = act->kind;
            return;
        }
        memset(act, 0, sizeof(*act));
    }
    /* Unreachable unless a planning rule keeps changing state: back off. */
    act->kind = PROTO_ACT_SLEEP;
    act->until_ms = now + 1000;
    p->awaiting = act->kind;
}

/* ---- names ------------------------------------------------------------ */

const char *proto_reported_state(const proto_channel *c)
{
    switch (c->op) {
    case PROTO_OP_INSTALLING:
        return "installing";
    case PROTO_OP_INSTALL_FAILED:
        return "install_failed";
    case PROTO_OP_VERIFY_FAILED:
        return "verify_failed";
    case PROTO_OP_ROLLED_BACK:
        return "rolled_back";
    case PROTO_OP_NONE:
        break;
    }
    if (c->refusal[0])
        return "verify_failed";
    if (!c->current.id)
        return "idle";
    return c->run == PROTO_RUN_COMMITTED ? "committed" : "trial";
}

int64_t proto_reported_target(const proto_channel *c)
{
    return c->op == PROTO_OP_NONE ? 0 : c->target.id;
}

const char *proto_reported_error(const proto_channel *c)
{
    return c->op == PROTO_OP_NONE && c->refusal[0] ? c->refusal : c->error;
}

const char *proto_act_name(proto_act_kind k)
{
    static const char *const names[] = {
        "none",    "observe_boot", "persist", "enroll", "check_health", "heartbeat", "poll",
        "refresh", "download",     "install", "revert", "sleep",        "done"};
    return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}

const char *proto_boot_class_name(proto_boot_class c)
{
    static const char *const names[] = {"first start", "same boot, clean agent stop",
                                        "same boot, agent restarted without a clean stop",
                                        "new boot after a clean shutdown",
                                        "new boot after an unclean shutdown"};
    return (unsigned)c < sizeof(names) / sizeof(names[0]) ? names[c] : "?";
}

char proto_slot_char(proto_slot s)
{
    return s == PROTO_SLOT_A ? 'a' : s == PROTO_SLOT_B ? 'b' : '-';
}
