/* Staged plans: what a valid plan is (every ring in order, starting with the
 * canary ring, a ring's stages growing in share up to 100 %), the built-in
 * default plan of a channel, the gates a stage must pass before it leaves
 * (bake, healthy, failures, approval) with the words that say what each
 * waits for, and the two-person rule for approvals. Pure: no SQL, no clock
 * reads, no allocation; time is a parameter. It must never accept a plan
 * that skips a ring, nor call a gate passed that is not. */
#ifndef RF_PLAN_H
#define RF_PLAN_H

#include "health.h"
#include "health_stat.h"
#include "rollout.h"

#include <stddef.h>
#include <stdint.h>

#define PLAN_MAX_MIN_HEALTHY 1000000

/* One stage of a plan as sent by a client or stored for a channel. */
typedef struct plan_stage {
    long long ring_id; /* 0: look the ring up by ring_name */
    char ring_name[65];
    int percent;             /* 1..100 */
    int bake_s;              /* 0..ROLLOUT_MAX_BAKE_S */
    int min_healthy;         /* 0..PLAN_MAX_MIN_HEALTHY */
    double max_failure_rate; /* (0, 1]; 0: the rollout policy's */
    int auto_promote;
    int require_approval;
} plan_stage;

/* ring_id 0, no name, percent 100, bake 0, min_healthy 1, everything else off. */
void plan_stage_default(plan_stage *s);

/* Checks a plan against the rings (sorted by order ascending): stages visit
 * every ring in order, starting with the lowest, skipping none and ending
 * with the last; consecutive stages of one ring grow strictly in percent and
 * the last stage of each ring is 100 %; every number is in range.
 * RF_ERR_INVALID with a message naming the stage ("field 'stages[1]…': …");
 * RF_ERR_CONFLICT when there are no rings at all. */
rf_err plan_validate(const plan_stage *st, int n, const rollout_ring *rings, int nrings,
                     rf_error *err);

/* The bake time of a channel's built-in plan: driver 86400 s, content
 * 600 s, any other channel 3600 s. */
int plan_builtin_bake_s(const char *channel);
/* Fills out[] (room for ROLLOUT_MAX_STAGES) with the built-in plan of a
 * channel: every ring in order at 100 %, the channel's bake time, min_healthy
 * 1, manual promotion. Returns the number of stages. */
int plan_builtin(const char *channel, const rollout_ring *rings, int nrings, plan_stage *out);

/* ---- gates ---- */

#define PLAN_MAX_GATES 5

typedef struct plan_gate {
    char name[16]; /* "bake", "healthy", "failures", "harm", "approval" */
    int ok;
    char detail[128];
} plan_gate;

/* What the gates of one stage are judged on. */
typedef struct plan_gate_input {
    const rollout_stage *stage;
    health_counts counts;           /* the stage's figures */
    long long devices;              /* devices of the stage, -1 when unknown */
    double policy_max_failure_rate; /* used when the stage sets none */
    int64_t now_s;
    const char *creator;     /* the rollout's creator (borrowed) */
    const char *approved_by; /* NULL or "" while not approved (borrowed) */
    /* The stage's sequential test against its control (borrowed); NULL when
     * the policy does not require "not harmful" (no harm gate then). */
    const health_stat *harm;
    double min_ratio; /* the policy's smallest harmful ratio, for the detail */
} plan_gate_input;

/* The stage's effective failure-rate limit. */
double plan_stage_max_failure_rate(const rollout_stage *s, double policy_rate);

/* Fills out[] with the stage's gates, in the order bake, healthy, failures,
 * harm (only with in->harm: ok when the verdict is "not harmful") and
 * approval (only when the stage requires one); returns how many. */
int plan_gates(const plan_gate_input *in, plan_gate out[PLAN_MAX_GATES]);
/* 1 when every gate is ok. */
int plan_gates_pass(const plan_gate *g, int n);

/* A duration in words: "45s", "12m", "2h05m", "3d04h". */
void plan_duration(int64_t s, char *buf, size_t n);

/* The two-person rule and the approval's preconditions: r must be draft,
 * active or paused (RF_ERR_CONFLICT), stage in range (RF_ERR_INVALID), the
 * actor not the creator (RF_ERR_FORBIDDEN), and the stage pending or active,
 * requiring an approval and not approved yet (RF_ERR_CONFLICT). rollout_id
 * and approved_by (NULL or "") only serve the messages. */
rf_err plan_approve_check(const rollout_sm *r, long long rollout_id, int stage, const char *actor,
                          const char *creator, const char *approved_by, rf_error *err);

#endif
