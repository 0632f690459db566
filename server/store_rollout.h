/* Rollouts in the database (store_rollout.c, store_eval.c): creating one with
 * its plan, reading one or a list with live per-stage figures, applying a
 * transition of rollout.c under a row lock with an optimistic version check,
 * and the evaluator's queries. Decisions stay in rollout.c and health.c; these
 * functions only load their inputs and store their outcome. */
#ifndef RF_STORE_ROLLOUT_H
#define RF_STORE_ROLLOUT_H

#include "assign.h"
#include "health.h"
#include "plan.h"
#include "rollout.h"
#include "store.h"

#include <stdint.h>

/* What a stage shows besides its state-machine fields. */
typedef struct store_stage_info {
    char ring_name[65];
    health_counts counts;  /* distinct devices of this stage: exposed, healthy, failed, silent */
    long long devices;     /* devices of the stage now (its share of its ring); -1: not counted */
    int window_open;       /* the ring's start windows now (filled with devices) */
    char approved_by[129]; /* "" while not approved */
    int64_t approved_s;
    int has_cut; /* the share cut fixed when the stage started */
    assign_key cut;
    /* The stage's control group over the stage's window (store_series_control):
     * devices reporting the channel that are not exposed to the rollout, and
     * how many of them reported a failure since control_since_s
     * (health_control_since). Filled where the statistics are needed; 0
     * otherwise. */
    long long control_devices, control_failed;
    int64_t control_since_s;
} store_stage_info;

/* One rollout row with its stages. Times are seconds since the epoch, 0 for
 * "never". */
typedef struct store_rollout {
    long long id;
    long long bundle_id;
    long long previous_bundle_id; /* 0: none */
    char channel[65];
    rollout_sm sm;
    store_stage_info info[ROLLOUT_MAX_STAGES];
    health_policy policy;
    json_t *halt; /* owned; NULL until halted */
    int version;
    int64_t created_s, started_s, updated_s;
    char created_by[129];
    char salt[33];
    int64_t now_s; /* the database clock when the row was read */
} store_rollout;

void store_rollout_cleanup(store_rollout *r);             /* NULL-safe; frees halt */
void store_rollout_free_list(store_rollout *rows, int n); /* cleans up and frees */

/* Creates a draft rollout of bundle_id with policy and plan (nplan == 0: the
 * channel's default plan, store_plan.c), a fresh random salt, and records
 * rollout.created, in one transaction. Stages naming their ring by name get
 * its id. RF_ERR_NOT_FOUND naming bundle_id when the bundle does not exist;
 * RF_ERR_INVALID naming the stage when the plan is not valid
 * (plan_validate); RF_ERR_CONFLICT when no ring exists or the channel's
 * stored plan no longer matches the rings. */
rf_err store_rollout_create(rf_db *db, long long bundle_id, const health_policy *policy,
                            plan_stage *plan, int nplan, const char *actor, long long *id_out,
                            rf_error *err);

/* One rollout with its stages (without figures); RF_ERR_NOT_FOUND naming it.
 * for_update locks the row for the current transaction. */
rf_err store_rollout_get(rf_db *db, long long id, int for_update, store_rollout *out,
                         rf_error *err);

/* Which rollouts a list reads (NULL / 0: no filter) and where its page
 * starts: ids below `before` (0: from the newest), at most `limit`. */
typedef struct store_rollout_filter {
    const char *channel, *state;
    long long bundle_id;
    const char *version; /* ships a bundle of this version (of `channel` if given) */
    const char *ring;    /* a stage uses the ring of this name, or of id ring_id */
    long long ring_id;
    long long before;
    int limit;
} store_rollout_filter;

/* Newest first, the rollouts f selects, with their stages (keyset paging in
 * SQL). *rows is malloc'd (free with store_rollout_free_list). */
rf_err store_rollout_list(rf_db *db, const store_rollout_filter *f, store_rollout **rows, int *n,
                          rf_error *err);

/* Fills info[].counts of every row, the control figures (info[].control_*)
 * of live rows whose policy requires "not harmful", and info[].devices and window_open when
 * with_devices (that one scans every device: the evaluator leaves it out). */
rf_err store_rollout_fill_counts(rf_db *db, store_rollout *rows, int n, int with_devices,
                                 rf_error *err);

/* Applies action (rollout.c) to rollout id in one transaction: locks the row,
 * checks expect_version (>= 0; -1: any), refuses a transition the state does
 * not allow (RF_ERR_CONFLICT naming the state), checks `start`'s channel rule
 * and plan, stores the new state with version + 1, records the event with the
 * current stage's figures, and commits. On RF_OK *after holds the rollout as
 * stored (with figures). *assignments_changed says whether devices'
 * assignments may have changed; it is set as soon as the transition is
 * committed, even if re-reading the rollout then fails, and the caller
 * notifies long-polls when it is set, whatever the return value. */
rf_err store_rollout_transition(rf_db *db, long long id, rollout_action action, const char *actor,
                                const char *reason, int expect_version, store_rollout *after,
                                int *assignments_changed, rf_error *err);

/* Records an approval of stage (-1: the current one) of rollout id by actor
 * under the two-person rule (plan_approve_check), in one transaction with
 * the row locked and expect_version checked like a transition; bumps the
 * version and records rollout.approved. On RF_OK *after holds the rollout as
 * stored (with figures). */
rf_err store_rollout_approve(rf_db *db, long long id, int stage, const char *actor,
                             const char *reason, int expect_version, store_rollout *after,
                             rf_error *err);

/* The health answer's failure list: a new reference to an array of
 * {"device_id", "stage", "reason", "at"}, oldest first, at most limit. */
rf_err store_rollout_failures(rf_db *db, long long id, int limit, json_t **out, rf_error *err);

/* ---- the evaluator's queries (store_eval.c) ---- */

/* Ids of active and paused rollouts (at most max). */
rf_err store_eval_live(rf_db *db, long long *ids, int max, int *n, rf_error *err);

/* Marks failed "silent" every exposed device of r that is neither healthy nor
 * failed and has been silent too long (health.c), recording device.failed
 * for each, in one transaction. *newly gets how many were marked. */
rf_err store_eval_silence(rf_db *db, const store_rollout *r, int *newly, rf_error *err);

/* A short text that changes whenever any rollout or ring changes, so that
 * changes made by other server instances can be noticed. */
rf_err store_eval_fingerprint(rf_db *db, char out[128], rf_error *err);

/* A number that changes whenever a ring's start windows open or close (or
 * a ring with windows comes or goes), judged at the database's clock. */
rf_err store_eval_windows(rf_db *db, uint64_t *state, rf_error *err);

/* Halts r (read at r->version) at stage `stage` with the figures given (st:
 * the sequential test's reading, borrowed, kept in the halt figures and the
 * event as "statistics"): state halted (then reverted when the policy says
 * so), stage halted, events rollout.halted (and rollout.reverted) by
 * "evaluator". Only
 * applies when the row is still at r->version: RF_ERR_CONFLICT otherwise
 * (another instance got there first). */
struct health_stat;
rf_err store_eval_halt(rf_db *db, const store_rollout *r, int stage, const health_counts *c,
                       const struct health_stat *st, rf_error *err);

/* Promotes r by itself (bake time passed), conditional on r->version like
 * store_eval_halt; records rollout.promoted or rollout.completed. */
rf_err store_eval_promote(rf_db *db, const store_rollout *r, rf_error *err);

/* ---- shared by store_rollout.c and store_eval.c ---- */

/* The halt figures object: {"at", "by", "stage", "exposed", "failed",
 * "failure_rate", "reason"} (new reference). */
json_t *store_rollout_halt_json(int64_t at_s, const char *by, int stage, const health_counts *c,
                                const char *reason);

/* Writes the new state of before's row (sm_after), conditional on
 * before->version. prev_bundle >= 0 sets previous_bundle_id (0: NULL), -1
 * keeps it; halt (borrowed, may be NULL) sets the halt figures. Must run
 * inside a transaction. RF_ERR_CONFLICT when the version moved. */
rf_err store_rollout_write(rf_db *db, const store_rollout *before, const rollout_sm *sm_after,
                           long long prev_bundle, const json_t *halt, rf_error *err);

/* The event data for a transition: from, to, stage, reason (if any), and the
 * figures of the stage. New reference. */
json_t *store_rollout_event_data(rollout_state from, rollout_state to, int stage,
                                 const health_counts *c, const char *reason);

/* Checks r's stored plan against the rings as they are now (rings locked
 * FOR SHARE in the current transaction): plan_validate's answer. */
rf_err store_rollout_check_plan(rf_db *db, const store_rollout *r, rf_error *err);

/* {"state", "stage", "version"} of a rollout (new reference), for the
 * before/after of events. */
json_t *store_rollout_brief(rollout_state state, int stage, int version);

/* The gates of r's current stage now (plan_gates with r's figures and, when
 * r's policy requires "not harmful", the stage's sequential test against
 * r's control figures); returns how many (0 when r is neither active nor
 * paused). The evaluator promotes by this and nothing else. */
int store_rollout_gates(const store_rollout *r, plan_gate out[PLAN_MAX_GATES]);
/* The gates as a JSON array (new reference). */
json_t *store_rollout_gates_json(const plan_gate *g, int n);

/* ---- devices of stages (store_fleet.c) ---- */

/* Fills info[].devices and info[].window_open of every row from every
 * device and ring now (ring_index, assign_stage_of). */
rf_err store_fleet_stage_devices(rf_db *db, store_rollout *rows, int n, rf_error *err);

/* Fixes the share cut of stage idx of r (which sm_after has just started):
 * from the devices of its ring now, never below the previous stage's cut of
 * the same ring, written to the stage row inside the caller's transaction.
 * A stage at 100 % needs none. */
rf_err store_fleet_fix_cut(rf_db *db, const store_rollout *r, const rollout_sm *sm_after,
                           rf_error *err);

/* Figures of one stage of one rollout, read now. */
rf_err store_rollout_stage_counts(rf_db *db, long long id, int stage, health_counts *out,
                                  rf_error *err);

#endif
