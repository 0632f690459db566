/* The fleet simulator's shared types: the scenario (fleet, rings, per-bundle
 * failure modes, offline windows, speed-up), one simulated device (the agent's
 * own proto state machine plus what the simulation knows about the device) and
 * the run's counters. Nothing here decides protocol behaviour: proto.c does,
 * exactly as in the real agent. */
#ifndef SIM_SIM_H
#define SIM_SIM_H

#include "proto.h"
#include "rf_err.h"
#include "wire.h"
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define SIM_MAX_RINGS 16
#define SIM_MAX_BUNDLES 32
#define SIM_MAX_ROLLOUTS 64

typedef enum sim_mode {
    SIM_HEALTHY = 0,
    SIM_CRASH_BOOT,  /* crashes at boot with probability p, then stays silent */
    SIM_CRASH_LATER, /* an unclean reboot after_s after activation, repeatedly */
    SIM_BOOT_LOOP,   /* an unclean reboot right after every boot */
    SIM_HOOK_FAIL    /* the install hook fails with probability p */
} sim_mode;

typedef struct sim_ring {
    char name[PROTO_NAME_MAX + 1];
    int64_t size;
    int64_t poll_ms; /* this ring's assignment poll period; 0: long-poll */
    json_t *labels;  /* owned; object of string → string */
} sim_ring;

typedef struct sim_bundle {
    char version[PROTO_NAME_MAX + 1];
    sim_mode mode;
    double p;
    int64_t after_ms;
} sim_bundle;

typedef struct sim_scenario {
    uint32_t nrings;
    sim_ring rings[SIM_MAX_RINGS];
    uint32_t nbundles;
    sim_bundle bundles[SIM_MAX_BUNDLES];
    int64_t heartbeat_ms, health_window_ms;
    int64_t poll_ms;            /* default assignment poll period; 0: long-poll */
    double background_per_hour; /* unclean reboots per device-hour, any bundle */
    double offline_fraction;    /* devices unreachable during [offline_at, +duration) */
    int64_t offline_at_ms, offline_ms;
    int64_t max_connections; /* pooled, shared by every request but long-polls */
    int64_t long_pollers;    /* devices of rings that long-poll: a connection each */
    int64_t enroll_per_s;    /* enrollment pacing */
    uint64_t seed;
} sim_scenario;

/* Per-device simulation state (the proto lives beside it). */
typedef enum sim_wait { SIM_READY = 0, SIM_TIMER, SIM_HTTP, SIM_SILENT } sim_wait;

typedef struct sim_dev {
    proto p;
    char token[WIRE_TOKEN_MAX];
    char boot_id[24];
    uint8_t ring;
    uint8_t wait;           /* sim_wait */
    uint8_t boot_class;     /* next OBSERVE_BOOT answer */
    proto_slot actual;      /* channel 0's slot link */
    bool offline_pick;      /* belongs to the offline share */
    int8_t bad_version;     /* bundle index it installed with a failure mode; -1 none */
    int8_t rollout_slot;    /* st.rollouts index of the rollout it installed last; -1 none */
    int64_t crash_at_ms;    /* next unclean reboot (INT64_MAX: none) */
    int64_t bg_crash_at_ms; /* next background reboot */
    int64_t last_poll_ms;
    int64_t exposed_ms; /* installed a failing bundle at (0: never) */
    int64_t back_ms;    /* left it again at (0: not yet) */
    uint32_t timer_gen;
    uint32_t pending_crashes;
} sim_dev;

typedef struct sim_rollout_seen {
    int64_t rollout_id;
    int bundle; /* index into scenario bundles; -1 unknown */
    char version[PROTO_NAME_MAX + 1];
    int64_t first_install_ms, halt_seen_ms;
    int64_t first_crash_ms;          /* first crash its bundle caused (0: none) */
    int64_t installs[SIM_MAX_RINGS]; /* devices that installed it */
    int64_t installs_before_halt[SIM_MAX_RINGS];
} sim_rollout_seen;

typedef struct sim_stats {
    int64_t started_ms;
    int64_t enrolled, heartbeats_ok, heartbeats_failed, polls, polls_failed, http_errors;
    int64_t refreshes, installs, reverts, crashes_injected, silent;
    int64_t hb_done, hb_latency_ms, poll_done, poll_latency_ms; /* queueing included */
    uint32_t nrollouts;
    sim_rollout_seen rollouts[SIM_MAX_ROLLOUTS];
} sim_stats;

rf_err sim_scenario_load(const char *path, int64_t devices_override, sim_scenario *out,
                         rf_error *err);
void sim_scenario_cleanup(sim_scenario *s);
/* Connections one process may hold here (see the open-file limit in DESIGN.md). */
#define SIM_MAX_CONNECTIONS 19000

/* Index of the bundle with version v in the scenario, -1 when it has none (healthy). */
int sim_bundle_find(const sim_scenario *s, const char *version);

#endif
