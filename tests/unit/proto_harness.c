/* The scripted world of the agent's protocol unit tests (see proto_harness.h).
 * Test code only: it answers the machine's routine actions and checks the
 * invariants every scenario shares (heartbeat sequence numbers are persisted
 * before they are sent). */
#include "proto_harness.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

harness H;

static void on_note(void *arg, rf_log_level lvl, const char *what, const char *ch,
                    const char *detail)
{
    harness *h = arg;
    size_t n = strlen(h->notes);
    (void)lvl;
    snprintf(h->notes + n, sizeof(h->notes) - n, "%s|%s|%s\n", what, ch ? ch : "-", detail);
}

void feed(proto_event *ev)
{
    proto_step(&H.p, H.now, ev, &H.act);
}

proto_channel *content(void)
{
    return proto_channel_get(&H.p, "content", false);
}

const char *state_of(void)
{
    return content() ? proto_reported_state(content()) : "none";
}

/* Answers the routine actions; false when act needs the test's own answer. */
bool auto_answer(void)
{
    proto_event ev = {0};

    switch (H.act.kind) {
    case PROTO_ACT_PERSIST:
        ev.kind = PROTO_EV_PERSISTED;
        H.persists++;
        break;
    case PROTO_ACT_OBSERVE_BOOT:
        ev.kind = PROTO_EV_BOOT;
        ev.boot_id = "boot-1";
        ev.boot_class = H.boot;
        break;
    case PROTO_ACT_ENROLL:
        ev.kind = PROTO_EV_ENROLLED;
        ev.device_id = DEV;
        break;
    case PROTO_ACT_CHECK_HEALTH:
        ev.kind = PROTO_EV_HEALTH;
        ev.new_crashes = H.crashes;
        H.crashes = 0;
        break;
    case PROTO_ACT_HEARTBEAT:
        ck_assert_int_le(H.act.seq, H.p.seq); /* handed out and persisted first */
        H.seqs[H.nhb % 256] = H.act.seq;
        snprintf(H.states[H.nhb % 256], sizeof(H.states[0]), "%s", state_of());
        H.nhb++;
        ev.kind = PROTO_EV_HEARTBEAT;
        ev.seq = H.act.seq;
        ev.result = H.hb_ok ? PROTO_OK : PROTO_FAIL_IO;
        ev.error = "connection refused";
        break;
    case PROTO_ACT_POLL:
        H.now += (int64_t)H.act.wait_s * 1000;
        ev.kind = PROTO_EV_ASSIGNMENT;
        ev.result = H.have_asg ? PROTO_OK : PROTO_FAIL_IO;
        ev.assignment = H.have_asg ? &H.asg : NULL;
        break;
    case PROTO_ACT_REFRESH:
        H.refreshes++;
        ev.kind = PROTO_EV_REFRESHED;
        ev.channel = H.act.channel;
        ev.bundle_id = H.act.bundle->id;
        ev.result = H.refresh_result;
        ev.error = H.refresh_error;
        H.target.length = H.act.bundle->length + H.refresh_length_delta;
        snprintf(H.target.sha256, sizeof(H.target.sha256), "%s",
                 H.refresh_sha ? H.refresh_sha : H.act.bundle->sha256);
        ev.target = H.refresh_result == PROTO_OK ? &H.target : NULL;
        break;
    case PROTO_ACT_SLEEP:
        ck_assert_int_ge(H.act.until_ms, H.now);
        H.now = H.act.until_ms;
        ev.kind = PROTO_EV_TIMER;
        break;
    default:
        return false;
    }
    feed(&ev);
    return true;
}

/* Runs routine answers until the machine asks for want; false if it does not
 * within max steps (or asks for something that needs the test). */
bool reach(proto_act_kind want, int max)
{
    for (int i = 0; i < max; i++) {
        if (H.act.kind == want)
            return true;
        if (!auto_answer())
            return false;
    }
    return H.act.kind == want;
}

void until(proto_act_kind want)
{
    if (!reach(want, 2000))
        ck_abort_msg("wanted %s, machine asks for %s", proto_act_name(want),
                     proto_act_name(H.act.kind));
}

/* Runs routine answers until the clock reaches t (the machine must not ask
 * for anything but routine actions meanwhile). */
void run_to(int64_t t)
{
    while (H.now < t)
        if (!auto_answer())
            ck_abort_msg("unexpected %s at %lld", proto_act_name(H.act.kind), (long long)H.now);
}

void set_asg(const char *dev, int64_t counter, int64_t id, proto_want_action action)
{
    proto_assign_channel *c = &H.asg.ch[0];

    memset(&H.asg, 0, sizeof(H.asg));
    snprintf(H.asg.device_id, sizeof(H.asg.device_id), "%s", dev);
    H.asg.counter = counter;
    H.asg.issued_s = H.now / 1000;
    H.asg.expires_s = H.now / 1000 + 86400;
    H.asg.nch = 1;
    snprintf(c->name, sizeof(c->name), "content");
    c->want.present = true;
    c->want.action = action;
    c->want.bundle.id = id;
    if (id) {
        c->want.bundle.length = 100 + id;
        snprintf(c->want.bundle.sha256, sizeof(c->want.bundle.sha256), "%s",
                 id % 2 ? SHA_A : SHA_B);
        snprintf(c->want.bundle.version, sizeof(c->want.bundle.version), "v%lld", (long long)id);
        snprintf(c->want.bundle.name, sizeof(c->want.bundle.name), "sensor");
    }
    H.have_asg = true;
}

void answer(proto_ev_kind kind, proto_result r, const char *error)
{
    proto_event ev = {.kind = kind, .result = r, .error = error};
    ev.channel = H.act.channel;
    ev.bundle_id = H.act.bundle ? H.act.bundle->id : 0;
    feed(&ev);
}

void setup(void)
{
    proto_config cfg = {HB_MS, WINDOW_MS};
    proto_event start = {.kind = PROTO_EV_START};

    memset(&H, 0, sizeof(H));
    proto_init(&H.p, &cfg);
    H.p.note = on_note;
    H.p.note_arg = &H;
    H.now = T0;
    H.hb_ok = true;
    H.boot = PROTO_BOOT_FIRST;
    feed(&start);
}

void teardown(void)
{
    proto_cleanup(&H.p);
}

/* Downloads, acknowledges and activates bundle id (assigned with counter). */
void install(int64_t counter, int64_t id)
{
    set_asg(DEV, counter, id, PROTO_WANT_INSTALL);
    until(PROTO_ACT_DOWNLOAD);
    ck_assert_int_eq(H.act.bundle->id, id);
    answer(PROTO_EV_DOWNLOADED, PROTO_OK, NULL);
    until(PROTO_ACT_INSTALL);
    answer(PROTO_EV_INSTALLED, PROTO_OK, NULL);
    ck_assert_int_eq(content()->current.id, id);
}
