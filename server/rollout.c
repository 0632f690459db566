/* The rollout state machine (see rollout.h). Every rule
 * about which transition is allowed lives in the one table below, so the API,
 * the evaluator and the tests agree by construction. This file must never
 * read a clock, touch the database or let promotion pass a halted stage. */
#include "rollout.h"

#include <stddef.h>
#include <string.h>

static const char *const state_names[ROLLOUT_NSTATES] = {
    "draft", "active", "paused", "halted", "reverted", "completed",
};
static const char *const action_names[ROLLOUT_NACTIONS] = {
    "start", "promote", "pause", "resume", "halt", "revert",
};
static const char *const stage_names[STAGE_NSTATES] = {"pending", "active", "done", "halted"};

/* allowed[from][action]: the table of docs/api.md. */
static const unsigned char allowed[ROLLOUT_NSTATES][ROLLOUT_NACTIONS] = {
    /*               start promote pause resume halt revert */
    [ROLLOUT_DRAFT] = {1, 0, 0, 0, 0, 0},    [ROLLOUT_ACTIVE] = {0, 1, 1, 0, 1, 1},
    [ROLLOUT_PAUSED] = {0, 0, 0, 1, 1, 1},   [ROLLOUT_HALTED] = {0, 0, 0, 0, 0, 1},
    [ROLLOUT_REVERTED] = {0, 0, 0, 0, 0, 0}, [ROLLOUT_COMPLETED] = {0, 0, 0, 0, 0, 0},
};

const char *rollout_state_name(rollout_state s)
{
    return (unsigned)s < ROLLOUT_NSTATES ? state_names[s] : "unknown";
}

const char *rollout_action_name(rollout_action a)
{
    return (unsigned)a < ROLLOUT_NACTIONS ? action_names[a] : "unknown";
}

const char *stage_state_name(stage_state s)
{
    return (unsigned)s < STAGE_NSTATES ? stage_names[s] : "unknown";
}

static int name_index(const char *const *names, int n, const char *s)
{
    if (s == NULL)
        return -1;
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

int rollout_state_parse(const char *s, rollout_state *out)
{
    int i = name_index(state_names, ROLLOUT_NSTATES, s);
    if (i < 0)
        return -1;
    *out = (rollout_state)i;
    return 0;
}

int rollout_action_parse(const char *s, rollout_action *out)
{
    int i = name_index(action_names, ROLLOUT_NACTIONS, s);
    if (i < 0)
        return -1;
    *out = (rollout_action)i;
    return 0;
}

int stage_state_parse(const char *s, stage_state *out)
{
    int i = name_index(stage_names, STAGE_NSTATES, s);
    if (i < 0)
        return -1;
    *out = (stage_state)i;
    return 0;
}

int rollout_allows(rollout_state s, rollout_action a)
{
    if ((unsigned)s >= ROLLOUT_NSTATES || (unsigned)a >= ROLLOUT_NACTIONS)
        return 0;
    return allowed[s][a];
}

const char *rollout_event_kind(rollout_action a, rollout_state to)
{
    switch (a) {
    case ROLLOUT_START:
        return "rollout.started";
    case ROLLOUT_PROMOTE:
        return to == ROLLOUT_COMPLETED ? "rollout.completed" : "rollout.promoted";
    case ROLLOUT_PAUSE:
        return "rollout.paused";
    case ROLLOUT_RESUME:
        return "rollout.resumed";
    case ROLLOUT_HALT:
        return "rollout.halted";
    case ROLLOUT_REVERT:
        return "rollout.reverted";
    }
    return "rollout.unknown";
}

/* The current stage, or NULL when the rollout has none started. */
static rollout_stage *current_stage(rollout_sm *r)
{
    if (r->stage < 0 || r->stage >= r->nstages)
        return NULL;
    return &r->stages[r->stage];
}

static rf_err refuse(rf_error *err, rollout_action a, const rollout_sm *r, const char *why)
{
    if (why != NULL)
        return rf_error_set(err, RF_ERR_CONFLICT, "cannot %s: rollout is %s (%s)",
                            rollout_action_name(a), rollout_state_name(r->state), why);
    return rf_error_set(err, RF_ERR_CONFLICT, "cannot %s: rollout is %s", rollout_action_name(a),
                        rollout_state_name(r->state));
}

/* Checks the preconditions beyond the table: the stage bookkeeping must be
 * coherent for start and promote, so a corrupted row can never promote. */
static rf_err check_stage_invariants(rollout_sm *r, rollout_action a, rf_error *err)
{
    if (r->nstages <= 0 || r->nstages > ROLLOUT_MAX_STAGES)
        return refuse(err, a, r, "it has no stages");
    if (a == ROLLOUT_START)
        return r->stages[0].state == STAGE_PENDING ? RF_OK
                                                   : refuse(err, a, r, "stage 0 already started");
    if (a == ROLLOUT_PROMOTE) {
        rollout_stage *cur = current_stage(r);
        if (cur == NULL || cur->state != STAGE_ACTIVE)
            return refuse(err, a, r, "its current stage is not active");
        if (r->stage + 1 < r->nstages && r->stages[r->stage + 1].state != STAGE_PENDING)
            return refuse(err, a, r, "the next stage already started");
        if (cur->require_approval && !cur->approved)
            return rf_error_set(err, RF_ERR_CONFLICT,
                                "cannot promote: stage %d needs an approval by a release user "
                                "other than the rollout's creator (two-person rule)",
                                r->stage);
    }
    return RF_OK;
}

rf_err rollout_apply(rollout_sm *r, rollout_action a, int64_t now_s, rf_error *err)
{
    if (!rollout_allows(r->state, a))
        return refuse(err, a, r, NULL);
    rf_err rc = check_stage_invariants(r, a, err);
    if (rc != RF_OK)
        return rc;
    rollout_stage *cur = current_stage(r);
    switch (a) {
    case ROLLOUT_START:
        r->state = ROLLOUT_ACTIVE;
        r->stage = 0;
        r->stages[0].state = STAGE_ACTIVE;
        r->stages[0].started_s = now_s;
        break;
    case ROLLOUT_PROMOTE:
        cur->state = STAGE_DONE;
        if (r->stage + 1 >= r->nstages) {
            r->state = ROLLOUT_COMPLETED;
            break;
        }
        r->stage++;
        r->stages[r->stage].state = STAGE_ACTIVE;
        r->stages[r->stage].started_s = now_s;
        break;
    case ROLLOUT_PAUSE:
        r->state = ROLLOUT_PAUSED;
        break;
    case ROLLOUT_RESUME:
        r->state = ROLLOUT_ACTIVE;
        break;
    case ROLLOUT_HALT:
    case ROLLOUT_REVERT:
        r->state = a == ROLLOUT_HALT ? ROLLOUT_HALTED : ROLLOUT_REVERTED;
        if (cur != NULL && cur->state == STAGE_ACTIVE)
            cur->state = STAGE_HALTED;
        break;
    }
    return RF_OK;
}

int rollout_should_auto_promote(const rollout_sm *r, int64_t now_s, int gate_ok)
{
    if (r->state != ROLLOUT_ACTIVE || !gate_ok)
        return 0;
    if (r->stage < 0 || r->stage >= r->nstages)
        return 0;
    const rollout_stage *cur = &r->stages[r->stage];
    if (cur->state != STAGE_ACTIVE || !cur->auto_promote || cur->started_s <= 0)
        return 0;
    return now_s - cur->started_s >= (int64_t)cur->bake_s;
}
