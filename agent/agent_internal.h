/* Shared by agent.c (start-up, the loop, local actions) and agent_net.c
 * (actions that talk to the server). Only those two files include it. */
#ifndef AGENT_AGENT_INTERNAL_H
#define AGENT_AGENT_INTERNAL_H

#include "boot.h"
#include "client.h"
#include "config.h"
#include "proto.h"
#include "rf_crypto.h"
#include "state.h"
#include <limits.h>

#define AGENT_PATH_MAX 4096

typedef struct agent {
    const agent_config *cfg;
    proto p;
    client cl;
    rf_key *key; /* the pinned server key */
    state_identity id;
    boot_crashset known; /* crash-dir entries seen so far */
    bool baseline;       /* no state yet: the crash dirs' content is the baseline */
    proto_boot_class boot_class;
    char boot_id[PROTO_BOOT_ID_MAX + 1];
    char data[AGENT_PATH_MAX];
    char state_path[AGENT_PATH_MAX + 16];
    char identity_path[AGENT_PATH_MAX + 16];
    char hook[AGENT_PATH_MAX]; /* "" when no hook is configured */
    char crash_warn[256];
    char ev_error[320];
    char ev_device[PROTO_DEVICE_ID_LEN + 1];
    proto_assignment asg;
    proto_slot actual[PROTO_MAX_CHANNELS];
} agent;

/* Sets ev's result and error text (copied into a->ev_error). */
void agent_fail(agent *a, proto_event *ev, proto_result r, const char *msg);
/* Crash records found since the last look (0 while establishing a baseline). */
int64_t agent_scan_crashes(agent *a);

void agent_do_enroll(agent *a, proto_event *ev);
void agent_do_heartbeat(agent *a, const proto_action *act, proto_event *ev);
void agent_do_poll(agent *a, const proto_action *act, proto_event *ev);
void agent_do_download(agent *a, const proto_action *act, proto_event *ev);

#endif
