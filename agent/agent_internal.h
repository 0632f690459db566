/* Shared by agent.c (start-up, the loop, local actions), agent_net.c (actions
 * that talk to the server) and agent_tuf.c (the TUF client's files and update
 * cycle). Only those files include it. */
#ifndef AGENT_AGENT_INTERNAL_H
#define AGENT_AGENT_INTERNAL_H

#include "boot.h"
#include "client.h"
#include "config.h"
#include "journal.h"
#include "proto.h"
#include "rf_tuf.h"
#include "state.h"
#include <limits.h>

#define AGENT_PATH_MAX 4096

typedef struct agent {
    const agent_config *cfg;
    proto p;
    client cl;
    rf_tuf_client tuf; /* trusted root and metadata versions (agent_tuf.c) */
    state_identity id;
    boot_crashset known; /* crash-dir entries seen so far */
    bool baseline;       /* no state yet: the crash dirs' content is the baseline */
    journal jr;          /* heartbeats not acknowledged yet (DATA/journal) */
    int lock_fd;         /* DATA/lock, held while running (-1: none) */
    proto_boot_class boot_class;
    bool trim_due; /* transient work since the last memtrim_run (agent.c) */
    char boot_id[PROTO_BOOT_ID_MAX + 1];
    char data[AGENT_PATH_MAX];
    char state_path[AGENT_PATH_MAX + 16];
    char identity_path[AGENT_PATH_MAX + 16];
    char tuf_dir[AGENT_PATH_MAX + 16]; /* DATA/tuf: N.root.json and versions.json */
    char hook[AGENT_PATH_MAX];         /* "" when no hook is configured */
    char crash_warn[256];
    char ev_error[320];
    char ev_device[PROTO_DEVICE_ID_LEN + 1];
    proto_assignment asg;
    proto_target target; /* answer of the last REFRESH */
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

/* Fetches the TUF file /tuf/<path> into resp, bounded by cap. PROTO_OK with
 * *status (200, or 404 when allowed_404) or a failure with msg: transport and
 * server trouble is PROTO_FAIL_IO, an answer over cap PROTO_FAIL_VERIFY. */
proto_result agent_tuf_get(agent *a, const char *path, size_t cap, bool allowed_404, rf_buf *resp,
                           long *status, char *msg, size_t len);

/* agent_tuf.c. Opens the trusted state: the newer of the --trusted-root file
 * and the root kept in DATA/tuf, with the versions kept beside it. */
rf_err agent_tuf_open(agent *a, rf_error *err);
/* Follows the root chain (5.3): N+1.root.json until the server has none,
 * each one verified and kept. *changed tells whether the root moved. */
proto_result agent_tuf_update_root(agent *a, bool *changed, char *msg, size_t len);
/* The whole update cycle, then the lookup of the action's bundle target. */
void agent_do_refresh(agent *a, const proto_action *act, proto_event *ev);

#endif
