/* proto: the agent's protocol state machine, pure C over plain structs.
 * It is fed events (start, boot observed, answers to what it asked for, timer,
 * shutdown) with the current wall-clock time as a parameter, and answers with
 * exactly one action at a time (persist, enroll, heartbeat, poll, refresh the
 * trusted metadata, download, install, revert, check health, sleep, done). It never does I/O, never
 * reads a clock and never allocates except for its channel array, so the real agent (blocking
 * calls) and the fleet simulator (one event loop, many devices) drive the very same logic. */
#ifndef AGENT_PROTO_H
#define AGENT_PROTO_H

#include "rf_log.h"
#include <stdbool.h>
#include <stdint.h>

#define PROTO_MAX_CHANNELS 16
#define PROTO_MAX_FAILED 8     /* remembered failed bundles per channel (oldest dropped) */
#define PROTO_NAME_MAX 64      /* channel, bundle name, version */
#define PROTO_DEVICE_ID_LEN 32 /* hex digits */
#define PROTO_BOOT_ID_MAX 64
#define PROTO_ERROR_MAX 256
#define PROTO_MAX_WAIT_S 60                /* longest long-poll */
#define PROTO_MAX_BUNDLE_BYTES (1LL << 30) /* refuse larger bundles outright */

typedef enum proto_slot { PROTO_SLOT_NONE = 0, PROTO_SLOT_A, PROTO_SLOT_B } proto_slot;

/* A bundle as the agent knows it. id 0 means "no bundle". */
typedef struct proto_bundle {
    int64_t id;
    int64_t length;
    char sha256[65]; /* lower-case hex */
    char name[PROTO_NAME_MAX + 1];
    char version[PROTO_NAME_MAX + 1];
    proto_slot slot; /* where its bytes lie (current and previous only) */
} proto_bundle;

/* What the active slot's bundle is doing. */
typedef enum proto_run { PROTO_RUN_IDLE = 0, PROTO_RUN_TRIAL, PROTO_RUN_COMMITTED } proto_run;

/* An operation on a target bundle that overrides the reported state. */
typedef enum proto_op {
    PROTO_OP_NONE = 0,
    PROTO_OP_INSTALLING,
    PROTO_OP_INSTALL_FAILED,
    PROTO_OP_VERIFY_FAILED,
    PROTO_OP_ROLLED_BACK
} proto_op;

/* Where the channel is in its work. REFRESH (the TUF update cycle and the
 * target lookup), DOWNLOAD and AWAIT_ACK are transient (a restart fetches and
 * verifies again); INSTALL and REVERT are persisted before the driver touches
 * a slot, so a restart finishes or judges them. */
typedef enum proto_phase {
    PROTO_PHASE_NONE = 0,
    PROTO_PHASE_DOWNLOAD,
    PROTO_PHASE_AWAIT_ACK,
    PROTO_PHASE_INSTALL,
    PROTO_PHASE_REVERT,
    PROTO_PHASE_REFRESH
} proto_phase;

typedef enum proto_want_action { PROTO_WANT_INSTALL = 0, PROTO_WANT_REVERT } proto_want_action;

/* One channel of the last accepted assignment. bundle.id 0 = run nothing. */
typedef struct proto_want {
    bool present;
    proto_want_action action;
    int64_t rollout_id; /* 0 when none */
    proto_bundle bundle;
} proto_want;

typedef enum proto_failed_kind {
    PROTO_FAILED_OWN = 0, /* failed here (hook, interrupted install): never reinstalled */
    PROTO_FAILED_REVERTED /* reverted from: blocked until a newer assignment offers it */
} proto_failed_kind;

typedef struct proto_failed {
    int64_t bundle_id;
    int64_t counter; /* assignment counter when it was marked */
    proto_failed_kind kind;
} proto_failed;

typedef struct proto_channel {
    char name[PROTO_NAME_MAX + 1];
    proto_want want;
    proto_bundle current;  /* the active slot; id 0 = none */
    proto_bundle previous; /* kept in the other slot for revert; id 0 = none */
    proto_bundle target;   /* subject of op/phase */
    proto_run run;
    proto_op op;
    proto_phase phase;
    proto_slot phase_slot; /* INSTALL: slot written; REVERT: slot switched to (NONE = none) */
    bool hook_revert;      /* INSTALL: run the hook with RF_ACTION=revert */
    int64_t activated_ms;  /* wall clock of the current bundle's activation */
    int64_t boots, unclean_shutdowns, crashes, local_rollbacks; /* since activation */
    char error[PROTO_ERROR_MAX];
    /* Transient: why the last assignment was refused ("" = none); reported as
     * verify_failed while nothing else is, until an assignment is accepted. */
    char refusal[PROTO_ERROR_MAX];
    int64_t retry_bundle_id; /* bundle the back-off applies to */
    int64_t retry_at_ms;
    int64_t backoff_ms;
    uint64_t await_gen; /* report generation that carried "installing" */
    uint32_t nfailed;
    proto_failed failed[PROTO_MAX_FAILED];
} proto_channel;

typedef enum proto_boot_class {
    PROTO_BOOT_FIRST = 0,     /* no boot recorded before: nothing to compare */
    PROTO_BOOT_SAME_CLEAN,    /* same boot, the agent stopped cleanly */
    PROTO_BOOT_AGENT_RESTART, /* same boot, no clean mark: the agent itself died */
    PROTO_BOOT_NEW_CLEAN,     /* new boot after a clean shutdown */
    PROTO_BOOT_NEW_UNCLEAN    /* new boot, no clean mark: crash or power loss */
} proto_boot_class;

typedef enum proto_act_kind {
    PROTO_ACT_NONE = 0,     /* feed PROTO_EV_START first */
    PROTO_ACT_OBSERVE_BOOT, /* answer PROTO_EV_BOOT */
    PROTO_ACT_PERSIST,      /* write the state file; answer PROTO_EV_PERSISTED */
    PROTO_ACT_ENROLL,       /* answer PROTO_EV_ENROLLED */
    PROTO_ACT_CHECK_HEALTH, /* scan crash dirs; answer PROTO_EV_HEALTH */
    PROTO_ACT_HEARTBEAT,    /* send wire_heartbeat(p, seq); answer PROTO_EV_HEARTBEAT */
    PROTO_ACT_POLL,         /* GET assignment?wait&known; answer PROTO_EV_ASSIGNMENT */
    PROTO_ACT_REFRESH,      /* TUF update cycle, then look up the bundle's target;
                               answer PROTO_EV_REFRESHED */
    PROTO_ACT_DOWNLOAD,     /* the bundle's target, checked against the verified targets
                               metadata; answer PROTO_EV_DOWNLOADED */
    PROTO_ACT_INSTALL,      /* write slot, hook, switch; answer PROTO_EV_INSTALLED */
    PROTO_ACT_REVERT,       /* hook, switch back; answer PROTO_EV_REVERTED */
    PROTO_ACT_SLEEP,        /* until until_ms; answer PROTO_EV_TIMER */
    PROTO_ACT_DONE          /* shut down: write the clean-shutdown mark and exit */
} proto_act_kind;

typedef struct proto_action {
    proto_act_kind kind;
    int64_t until_ms;           /* SLEEP */
    int64_t seq;                /* HEARTBEAT */
    int wait_s;                 /* POLL: 0..PROTO_MAX_WAIT_S */
    int64_t known;              /* POLL: last accepted counter */
    uint32_t channel;           /* REFRESH, DOWNLOAD, INSTALL, REVERT: index into p->ch */
    const proto_bundle *bundle; /* REFRESH/DOWNLOAD/INSTALL: the target; REVERT: bundle to run
                                   again (id 0 = none). Borrowed from p until the next step. */
    proto_slot slot;            /* INSTALL: slot to write; REVERT: slot to switch to */
    bool hook_revert;           /* INSTALL: RF_ACTION=revert instead of install */
} proto_action;

typedef enum proto_ev_kind {
    PROTO_EV_NONE = 0,
    PROTO_EV_START,
    PROTO_EV_BOOT,
    PROTO_EV_PERSISTED,
    PROTO_EV_ENROLLED,
    PROTO_EV_HEALTH,
    PROTO_EV_HEARTBEAT,
    PROTO_EV_ASSIGNMENT,
    PROTO_EV_REFRESHED,
    PROTO_EV_DOWNLOADED,
    PROTO_EV_INSTALLED,
    PROTO_EV_REVERTED,
    PROTO_EV_TIMER,
    PROTO_EV_SHUTDOWN
} proto_ev_kind;

typedef enum proto_result {
    PROTO_OK = 0,
    PROTO_FAIL_IO,     /* transport, server or disk trouble: retried with back-off */
    PROTO_FAIL_VERIFY, /* signature, threshold, version, expiry, hash, length or field
                          mismatch, or an answer over its size limit: refused */
    PROTO_FAIL_HOOK    /* the install hook failed */
} proto_result;

/* One channel of an assignment whose signature the driver has verified. */
typedef struct proto_assign_channel {
    char name[PROTO_NAME_MAX + 1];
    proto_want want;
} proto_assign_channel;

typedef struct proto_assignment {
    char device_id[PROTO_DEVICE_ID_LEN + 1];
    int64_t counter;
    int64_t issued_s, expires_s;
    uint32_t nch;
    proto_assign_channel ch[PROTO_MAX_CHANNELS];
} proto_assignment;

/* A bundle's target as the verified TUF targets metadata lists it. */
typedef struct proto_target {
    int64_t length;
    char sha256[65];
} proto_target;

/* An event. Only the fields of its kind are read; pointers are borrowed for
 * the duration of proto_step. */
typedef struct proto_event {
    proto_ev_kind kind;
    proto_result result;                /* answers to actions */
    const char *error;                  /* why it failed (human text) */
    const char *device_id;              /* START ("" or NULL: not enrolled), ENROLLED */
    int64_t seq;                        /* HEARTBEAT: echo of the action */
    const proto_assignment *assignment; /* ASSIGNMENT with PROTO_OK */
    const proto_target *target;         /* REFRESHED with PROTO_OK */
    uint32_t channel;                   /* REFRESHED, DOWNLOADED, INSTALLED, REVERTED: echo */
    int64_t bundle_id;                  /* REFRESHED, DOWNLOADED, INSTALLED, REVERTED: echo */
    int64_t new_crashes;                /* BOOT, HEALTH, INSTALLED, REVERTED */
    const char *boot_id;                /* BOOT */
    proto_boot_class boot_class;        /* BOOT */
    const proto_slot *actual_slots;     /* BOOT: p->nch entries, what each `current` link
                                           points to; NULL when unknown */
} proto_event;

typedef struct proto_config {
    int64_t heartbeat_interval_ms;
    int64_t health_window_ms;
} proto_config;

/* Decision notes: every refusal and every state change is reported here, so a
 * driver can log it. level, what and detail are only valid during the call;
 * channel is NULL for device-wide notes. */
typedef void (*proto_note_cb)(void *arg, rf_log_level level, const char *what, const char *channel,
                              const char *detail);

typedef struct proto {
    proto_config cfg;
    proto_note_cb note;
    void *note_arg;

    /* Persistent (saved in the state file). */
    char device_id[PROTO_DEVICE_ID_LEN + 1];
    char boot_id[PROTO_BOOT_ID_MAX + 1];
    int64_t seq;       /* last heartbeat sequence number handed out */
    int64_t counter;   /* last accepted assignment counter */
    bool have_counter; /* an assignment was accepted at least once */
    int64_t agent_restarts;
    uint32_t nch;
    proto_channel *ch; /* owned; nch entries */

    /* Transient. */
    bool started, booted, shutting_down, done, dirty;
    proto_act_kind awaiting; /* the action whose answer is expected */
    uint64_t gen;            /* bumps on every change a heartbeat reports */
    bool hb_pending;         /* hb_seq handed out, not acknowledged yet */
    int64_t hb_seq;
    uint64_t hb_gen;
    int64_t hb_next_ms, hb_backoff_ms;
    int64_t poll_retry_ms, poll_backoff_ms;
    int64_t enroll_retry_ms, enroll_backoff_ms;
    int64_t persist_retry_ms, persist_backoff_ms;
    int64_t health_checked_ms;
} proto;

/* Sets p to the empty state (not enrolled, no channels) with cfg. */
void proto_init(proto *p, const proto_config *cfg);
/* Frees the channel array and resets p; NULL-safe. */
void proto_cleanup(proto *p);
/* Returns the channel named name, adding it (idle) when add is true and there
 * is room; NULL otherwise. The pointer is valid until the next add. */
proto_channel *proto_channel_get(proto *p, const char *name, bool add);
/* True for 1-64 characters of [a-z0-9._-] other than "." and "..": safe as a
 * directory name. */
bool proto_channel_name_valid(const char *name);

/* Feeds ev (NULL: nothing happened) at time now_ms and fills act with the one
 * thing to do next. The answer to act must be the next event fed (or
 * PROTO_EV_SHUTDOWN, or PROTO_EV_TIMER after SLEEP); answers that do not match
 * what was asked are ignored. */
void proto_step(proto *p, int64_t now_ms, const proto_event *ev, proto_action *act);

/* The state a heartbeat reports for c ("idle", "installing", "trial", …), the
 * target it names (0 = null) and its error ("" = null). */
const char *proto_reported_state(const proto_channel *c);
int64_t proto_reported_target(const proto_channel *c);
const char *proto_reported_error(const proto_channel *c);

/* The boot guard's decision applied to the state: the bundle on trial in c is
 * rolled back locally to the previous slot (or to none), counted, reported as
 * rolled_back and never reinstalled. Returns false when c has nothing on trial.
 * The caller switches the slot link itself. */
bool proto_local_rollback(proto *p, proto_channel *c, int64_t now_ms, const char *why);

const char *proto_act_name(proto_act_kind k);
const char *proto_boot_class_name(proto_boot_class c);
char proto_slot_char(proto_slot s); /* 'a', 'b' or '-' */

#endif
