/* The rollout state machine: which transitions a rollout and its stages may
 * take and when a stage may promote itself (plans and gates: plan.h). Pure: no
 * SQL, no clock reads, no allocation; time is always a parameter. It must
 * never let a rollout pass a halted stage or skip a ring. */
#ifndef RF_ROLLOUT_H
#define RF_ROLLOUT_H

#include "rf_err.h"
#include <stdint.h>

#define ROLLOUT_MAX_STAGES 64
#define ROLLOUT_MAX_BAKE_S (30 * 86400)

typedef enum rollout_state {
    ROLLOUT_DRAFT = 0,
    ROLLOUT_ACTIVE,
    ROLLOUT_PAUSED,
    ROLLOUT_HALTED,
    ROLLOUT_REVERTED,
    ROLLOUT_COMPLETED,
} rollout_state;
#define ROLLOUT_NSTATES 6

typedef enum rollout_action {
    ROLLOUT_START = 0,
    ROLLOUT_PROMOTE,
    ROLLOUT_PAUSE,
    ROLLOUT_RESUME,
    ROLLOUT_HALT,
    ROLLOUT_REVERT,
} rollout_action;
#define ROLLOUT_NACTIONS 6

typedef enum stage_state {
    STAGE_PENDING = 0,
    STAGE_ACTIVE,
    STAGE_DONE,
    STAGE_HALTED,
} stage_state;
#define STAGE_NSTATES 4

typedef struct rollout_stage {
    long long ring_id;
    int bake_s;
    int auto_promote; /* 1: promote by itself once every gate passes (plan.h) */
    stage_state state;
    int64_t started_s; /* seconds since the epoch; 0 while pending */
    /* The rest of the stage's plan (plan.h); zero means "not set": percent
     * 0 is the whole ring, max_failure_rate 0 the policy's. */
    int percent;
    int min_healthy;
    double max_failure_rate;
    int require_approval;
    int approved; /* an approval is recorded for this stage */
} rollout_stage;

/* A rollout as the state machine sees it. stage is the index of the furthest
 * started stage, -1 in draft. */
typedef struct rollout_sm {
    rollout_state state;
    int stage;
    int nstages;
    rollout_stage stages[ROLLOUT_MAX_STAGES];
} rollout_sm;

/* Names as they appear in the API and the database ("active", "promote", …). */
const char *rollout_state_name(rollout_state s);
const char *rollout_action_name(rollout_action a);
const char *stage_state_name(stage_state s);
/* Return 0 and set *out when s names a value; -1 otherwise. */
int rollout_state_parse(const char *s, rollout_state *out);
int rollout_action_parse(const char *s, rollout_action *out);
int stage_state_parse(const char *s, stage_state *out);

/* Applies action a to r at time now_s. On RF_OK r holds the new state: start
 * activates stage 0; promote finishes the current stage and activates the
 * next, or completes the rollout on the last; halt marks the current stage
 * halted; revert marks it halted too (if it was active). On refusal r is left
 * unchanged and RF_ERR_CONFLICT comes back with a message naming the current
 * state ("cannot promote: rollout is halted"). A rollout with no stages, or
 * whose current stage is not active, cannot be started or promoted; nor can a
 * stage that requires an approval and has none be promoted. */
rf_err rollout_apply(rollout_sm *r, rollout_action a, int64_t now_s, rf_error *err);

/* 1 when action a is allowed from state s (the table in docs/api.md). */
int rollout_allows(rollout_state s, rollout_action a);

/* The event kind recorded for a transition that went from `from` to `to`
 * through a: "rollout.started", "rollout.promoted", "rollout.completed" (a
 * promote that finished the rollout), "rollout.paused", … (static string). */
const char *rollout_event_kind(rollout_action a, rollout_state to);

/* Whether the evaluator should promote r by itself at now_s: r is active, its
 * current stage is active with auto_promote set, the stage's bake time has
 * passed, and gate_ok (every gate of plan_gates passes, and the halt decision
 * found nothing) lets it through. */
int rollout_should_auto_promote(const rollout_sm *r, int64_t now_s, int gate_ok);

/* A ring as plan validation sees it. rings[] is sorted by order ascending. */
typedef struct rollout_ring {
    long long id;
    int order;
    const char *name; /* borrowed */
} rollout_ring;

#endif
