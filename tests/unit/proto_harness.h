/* The scripted world the agent's protocol unit tests run in: a fake clock, a
 * fake server answering the routine actions (persist, boot, enroll, health,
 * heartbeat, poll, refresh, sleep) as the fields of H say, and helpers that
 * run the state machine until it asks for something. Shared by
 * check_agent_proto.c and check_agent_proto_trust.c; test code only. */
#ifndef PROTO_HARNESS_H
#define PROTO_HARNESS_H

#include "proto.h"

#include <stdbool.h>
#include <stdint.h>

#define DEV "0123456789abcdef0123456789abcdef"
#define OTHER_DEV "ffffffffffffffffffffffffffffffff"
#define T0 1764000000000LL
#define HB_MS 30000LL
#define WINDOW_MS 300000LL
#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

typedef struct harness {
    proto p;
    int64_t now;
    proto_action act;
    proto_boot_class boot;
    int64_t crashes;   /* answered to the next CHECK_HEALTH */
    bool hb_ok;        /* how heartbeats are answered */
    int64_t seqs[256]; /* the last 256 heartbeats sent (ring) */
    char states[256][24];
    int nhb;
    proto_assignment asg; /* what polls are answered with */
    bool have_asg;
    int persists;
    int refreshes;
    proto_result refresh_result; /* how REFRESH is answered */
    const char *refresh_error;
    int64_t refresh_length_delta; /* the targets metadata's length minus the assignment's */
    const char *refresh_sha;      /* NULL: the assignment's */
    proto_target target;
    char notes[16384];
} harness;

extern harness H;

#define LAST_STATE (H.states[(H.nhb - 1) % 256])

void feed(proto_event *ev);
proto_channel *content(void); /* the "content" channel, NULL before it exists */
const char *state_of(void);   /* its reported state, "none" before it exists */
/* Answers the routine actions; false when act needs the test's own answer. */
bool auto_answer(void);
/* Runs routine answers until the machine asks for want; false if it does not
 * within max steps (or asks for something that needs the test). */
bool reach(proto_act_kind want, int max);
void until(proto_act_kind want); /* reach() or fail the test */
/* Runs routine answers until the clock reaches t (the machine must not ask
 * for anything but routine actions meanwhile). */
void run_to(int64_t t);
/* Polls are answered with an assignment of bundle id (0: none) on "content". */
void set_asg(const char *dev, int64_t counter, int64_t id, proto_want_action action);
/* Answers the current action with kind and r. */
void answer(proto_ev_kind kind, proto_result r, const char *error);
void setup(void); /* Check fixture: a fresh machine, started */
void teardown(void);
/* Refreshes, downloads, acknowledges and activates bundle id (with counter). */
void install(int64_t counter, int64_t id);

#endif
