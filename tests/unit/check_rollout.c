/* Unit tests for the rollout state machine (server/rollout.c): every (state,
 * action) pair against the table of docs/api.md, the stage bookkeeping of
 * each transition, automatic promotion at its bake boundary, and the
 * approval a stage may require (plans and gates: check_plan.c). */
#include "rollout.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NST 3
#define T0 1700000000

/* A three-stage rollout in state s, current stage k, with coherent stages. */
static rollout_sm make(rollout_state s, int k)
{
    rollout_sm r;
    memset(&r, 0, sizeof(r));
    r.state = s;
    r.nstages = NST;
    r.stage = s == ROLLOUT_DRAFT ? -1 : k;
    for (int i = 0; i < NST; i++) {
        r.stages[i].ring_id = 10 + i;
        r.stages[i].bake_s = 60;
        r.stages[i].state = STAGE_PENDING;
        if (s == ROLLOUT_DRAFT || i > k)
            continue;
        r.stages[i].started_s = T0 + 100 * i;
        if (i < k || s == ROLLOUT_COMPLETED)
            r.stages[i].state = STAGE_DONE;
        else if (s == ROLLOUT_HALTED || s == ROLLOUT_REVERTED)
            r.stages[i].state = STAGE_HALTED;
        else
            r.stages[i].state = STAGE_ACTIVE;
    }
    return r;
}

/* expected[state][action]: the resulting state, or -1 for a refusal. The
 * promote column depends on the stage: see promote_result(). */
static const int expected[ROLLOUT_NSTATES][ROLLOUT_NACTIONS] = {
    [ROLLOUT_DRAFT] = {ROLLOUT_ACTIVE, -1, -1, -1, -1, -1},
    [ROLLOUT_ACTIVE] = {-1, ROLLOUT_ACTIVE, ROLLOUT_PAUSED, -1, ROLLOUT_HALTED, ROLLOUT_REVERTED},
    [ROLLOUT_PAUSED] = {-1, -1, -1, ROLLOUT_ACTIVE, ROLLOUT_HALTED, ROLLOUT_REVERTED},
    [ROLLOUT_HALTED] = {-1, -1, -1, -1, -1, ROLLOUT_REVERTED},
    [ROLLOUT_REVERTED] = {-1, -1, -1, -1, -1, -1},
    [ROLLOUT_COMPLETED] = {-1, -1, -1, -1, -1, -1},
};

static int promote_result(int k)
{
    return k == NST - 1 ? ROLLOUT_COMPLETED : ROLLOUT_ACTIVE;
}

/* Checks the stages after a successful transition from `before`. */
static void check_stages(const rollout_sm *before, const rollout_sm *after, rollout_action a,
                         int64_t now)
{
    switch (a) {
    case ROLLOUT_START:
        ck_assert_int_eq(after->stage, 0);
        ck_assert_int_eq(after->stages[0].state, STAGE_ACTIVE);
        ck_assert_int_eq(after->stages[0].started_s, now);
        ck_assert_int_eq(after->stages[1].state, STAGE_PENDING);
        break;
    case ROLLOUT_PROMOTE:
        ck_assert_int_eq(after->stages[before->stage].state, STAGE_DONE);
        if (after->state == ROLLOUT_COMPLETED) {
            ck_assert_int_eq(after->stage, before->stage);
        } else {
            ck_assert_int_eq(after->stage, before->stage + 1);
            ck_assert_int_eq(after->stages[after->stage].state, STAGE_ACTIVE);
            ck_assert_int_eq(after->stages[after->stage].started_s, now);
        }
        break;
    case ROLLOUT_PAUSE:
    case ROLLOUT_RESUME:
        ck_assert_mem_eq(after->stages, before->stages, sizeof(before->stages));
        ck_assert_int_eq(after->stage, before->stage);
        break;
    case ROLLOUT_HALT:
    case ROLLOUT_REVERT:
        ck_assert_int_eq(after->stage, before->stage);
        ck_assert_int_eq(after->stages[after->stage].state, STAGE_HALTED);
        for (int i = 0; i < NST; i++)
            if (i != after->stage)
                ck_assert_int_eq(after->stages[i].state, before->stages[i].state);
        break;
    }
}

START_TEST(every_state_action_pair)
{
    int checked = 0;
    for (int s = 0; s < ROLLOUT_NSTATES; s++) {
        for (int k = 0; k < NST; k++) {
            if (s == ROLLOUT_DRAFT && k > 0)
                continue;
            if (s == ROLLOUT_COMPLETED && k != NST - 1)
                continue;
            for (int a = 0; a < ROLLOUT_NACTIONS; a++) {
                rollout_sm before = make((rollout_state)s, k);
                rollout_sm r = before;
                rf_error e = {0};
                int want = expected[s][a];
                if (a == ROLLOUT_PROMOTE && want >= 0)
                    want = promote_result(k);
                rf_err rc = rollout_apply(&r, (rollout_action)a, T0 + 5000, &e);
                ck_assert_int_eq(rollout_allows((rollout_state)s, (rollout_action)a), want >= 0);
                if (want < 0) {
                    char msg[128];
                    snprintf(msg, sizeof(msg), "cannot %s: rollout is %s",
                             rollout_action_name((rollout_action)a),
                             rollout_state_name((rollout_state)s));
                    ck_assert_int_eq(rc, RF_ERR_CONFLICT);
                    ck_assert_int_eq(e.code, RF_ERR_CONFLICT);
                    ck_assert_str_eq(e.message, msg);
                    ck_assert_mem_eq(&r, &before, sizeof(r));
                } else {
                    ck_assert_msg(rc == RF_OK, "%s from %s: %s",
                                  rollout_action_name((rollout_action)a),
                                  rollout_state_name((rollout_state)s), e.message);
                    ck_assert_int_eq(r.state, want);
                    check_stages(&before, &r, (rollout_action)a, T0 + 5000);
                }
                checked++;
            }
        }
    }
    /* draft 1 + active 3 + paused 3 + halted 3 + reverted 3 + completed 1 = 14 */
    ck_assert_int_eq(checked, 14 * ROLLOUT_NACTIONS);
}
END_TEST

START_TEST(walk_to_completion)
{
    rollout_sm r = make(ROLLOUT_DRAFT, 0);
    rf_error e = {0};
    ck_assert_int_eq(rollout_apply(&r, ROLLOUT_START, T0, &e), RF_OK);
    ck_assert_int_eq(rollout_apply(&r, ROLLOUT_PAUSE, T0 + 1, &e), RF_OK);
    ck_assert_int_eq(rollout_apply(&r, ROLLOUT_PROMOTE, T0 + 2, &e), RF_ERR_CONFLICT);
    ck_assert_str_eq(e.message, "cannot promote: rollout is paused");
    ck_assert_int_eq(rollout_apply(&r, ROLLOUT_RESUME, T0 + 3, &e), RF_OK);
    for (int i = 1; i < NST; i++) {
        ck_assert_int_eq(rollout_apply(&r, ROLLOUT_PROMOTE, T0 + 10 * i, &e), RF_OK);
        ck_assert_int_eq(r.state, ROLLOUT_ACTIVE);
        ck_assert_int_eq(r.stage, i);
    }
    ck_assert_int_eq(rollout_apply(&r, ROLLOUT_PROMOTE, T0 + 99, &e), RF_OK);
    ck_assert_int_eq(r.state, ROLLOUT_COMPLETED);
    ck_assert_int_eq(r.stage, NST - 1);
    for (int i = 0; i < NST; i++)
        ck_assert_int_eq(r.stages[i].state, STAGE_DONE);
    ck_assert_int_eq(rollout_apply(&r, ROLLOUT_REVERT, T0 + 100, &e), RF_ERR_CONFLICT);
    ck_assert_str_eq(e.message, "cannot revert: rollout is completed");
}
END_TEST

START_TEST(halted_never_promotes)
{
    rollout_sm r = make(ROLLOUT_ACTIVE, 0);
    rf_error e = {0};
    ck_assert_int_eq(rollout_apply(&r, ROLLOUT_HALT, T0, &e), RF_OK);
    ck_assert_int_eq(r.stages[0].state, STAGE_HALTED);
    ck_assert_int_eq(rollout_apply(&r, ROLLOUT_PROMOTE, T0, &e), RF_ERR_CONFLICT);
    ck_assert_str_eq(e.message, "cannot promote: rollout is halted");
    ck_assert_int_eq(rollout_apply(&r, ROLLOUT_RESUME, T0, &e), RF_ERR_CONFLICT);
    ck_assert_int_eq(rollout_should_auto_promote(&r, T0 + 100000, 1), 0);
    ck_assert_int_eq(rollout_apply(&r, ROLLOUT_REVERT, T0, &e), RF_OK);
    ck_assert_int_eq(r.state, ROLLOUT_REVERTED);
    ck_assert_int_eq(r.stages[0].state, STAGE_HALTED);
    ck_assert_int_eq(r.stages[1].state, STAGE_PENDING);
}
END_TEST

START_TEST(incoherent_rows_refused)
{
    rf_error e = {0};
    rollout_sm r = make(ROLLOUT_DRAFT, 0);
    r.nstages = 0;
    ck_assert_int_eq(rollout_apply(&r, ROLLOUT_START, T0, &e), RF_ERR_CONFLICT);
    ck_assert_ptr_nonnull(strstr(e.message, "no stages"));
    r = make(ROLLOUT_ACTIVE, 1);
    r.stages[1].state = STAGE_HALTED; /* active rollout on a halted stage */
    rollout_sm before = r;
    ck_assert_int_eq(rollout_apply(&r, ROLLOUT_PROMOTE, T0, &e), RF_ERR_CONFLICT);
    ck_assert_ptr_nonnull(strstr(e.message, "cannot promote: rollout is active"));
    ck_assert_mem_eq(&r, &before, sizeof(r));
    r = make(ROLLOUT_ACTIVE, 0);
    r.stages[1].state = STAGE_ACTIVE;
    ck_assert_int_eq(rollout_apply(&r, ROLLOUT_PROMOTE, T0, &e), RF_ERR_CONFLICT);
}
END_TEST

START_TEST(names_round_trip)
{
    for (int s = 0; s < ROLLOUT_NSTATES; s++) {
        rollout_state out;
        ck_assert_int_eq(rollout_state_parse(rollout_state_name((rollout_state)s), &out), 0);
        ck_assert_int_eq(out, s);
    }
    for (int a = 0; a < ROLLOUT_NACTIONS; a++) {
        rollout_action out;
        ck_assert_int_eq(rollout_action_parse(rollout_action_name((rollout_action)a), &out), 0);
        ck_assert_int_eq(out, a);
    }
    for (int s = 0; s < STAGE_NSTATES; s++) {
        stage_state out;
        ck_assert_int_eq(stage_state_parse(stage_state_name((stage_state)s), &out), 0);
        ck_assert_int_eq(out, s);
    }
    rollout_state st;
    ck_assert_int_eq(rollout_state_parse("Active", &st), -1);
    ck_assert_int_eq(rollout_state_parse(NULL, &st), -1);
    rollout_action ac;
    ck_assert_int_eq(rollout_action_parse("delete", &ac), -1);
    ck_assert_str_eq(rollout_event_kind(ROLLOUT_PROMOTE, ROLLOUT_ACTIVE), "rollout.promoted");
    ck_assert_str_eq(rollout_event_kind(ROLLOUT_PROMOTE, ROLLOUT_COMPLETED), "rollout.completed");
    ck_assert_str_eq(rollout_event_kind(ROLLOUT_START, ROLLOUT_ACTIVE), "rollout.started");
    ck_assert_str_eq(rollout_event_kind(ROLLOUT_RESUME, ROLLOUT_ACTIVE), "rollout.resumed");
    ck_assert_str_eq(rollout_event_kind(ROLLOUT_HALT, ROLLOUT_HALTED), "rollout.halted");
    ck_assert_str_eq(rollout_event_kind(ROLLOUT_REVERT, ROLLOUT_REVERTED), "rollout.reverted");
    ck_assert_str_eq(rollout_event_kind(ROLLOUT_PAUSE, ROLLOUT_PAUSED), "rollout.paused");
}
END_TEST

struct auto_case {
    rollout_state state;
    int auto_promote;
    int bake_s;
    int64_t elapsed;
    int gate_ok;
    int want;
};

static const struct auto_case auto_cases[] = {
    {ROLLOUT_ACTIVE, 1, 60, 59, 1, 0},   {ROLLOUT_ACTIVE, 1, 60, 60, 1, 1},
    {ROLLOUT_ACTIVE, 1, 60, 61, 1, 1},   {ROLLOUT_ACTIVE, 1, 0, 0, 1, 1},
    {ROLLOUT_ACTIVE, 0, 60, 600, 1, 0},  {ROLLOUT_ACTIVE, 1, 60, 600, 0, 0},
    {ROLLOUT_PAUSED, 1, 60, 600, 1, 0},  {ROLLOUT_HALTED, 1, 60, 600, 1, 0},
    {ROLLOUT_REVERTED, 1, 0, 600, 1, 0}, {ROLLOUT_COMPLETED, 1, 0, 600, 1, 0},
    {ROLLOUT_DRAFT, 1, 0, 600, 1, 0},
};

START_TEST(auto_promotion)
{
    for (size_t i = 0; i < sizeof(auto_cases) / sizeof(auto_cases[0]); i++) {
        const struct auto_case *c = &auto_cases[i];
        for (int k = 0; k < NST; k++) {
            if (c->state == ROLLOUT_DRAFT && k > 0)
                continue;
            rollout_sm r = make(c->state, c->state == ROLLOUT_COMPLETED ? NST - 1 : k);
            int cur = r.stage < 0 ? 0 : r.stage;
            r.stages[cur].auto_promote = c->auto_promote;
            r.stages[cur].bake_s = c->bake_s;
            int64_t started = r.stages[cur].started_s ? r.stages[cur].started_s : T0;
            ck_assert_msg(rollout_should_auto_promote(&r, started + c->elapsed, c->gate_ok) ==
                              c->want,
                          "case %zu stage %d", i, k);
        }
    }
}
END_TEST

/* The two-person rule in the state machine: a stage that requires an
 * approval cannot be promoted until one is recorded, whatever else holds. */
START_TEST(approval_blocks_promotion)
{
    for (int k = 0; k < NST; k++) {
        rollout_sm r = make(ROLLOUT_ACTIVE, k);
        r.stages[k].require_approval = 1;
        rollout_sm before = r;
        rf_error e = {0};
        ck_assert_int_eq(rollout_apply(&r, ROLLOUT_PROMOTE, T0 + 10000, &e), RF_ERR_CONFLICT);
        ck_assert_ptr_nonnull(strstr(e.message, "two-person rule"));
        ck_assert_mem_eq(&r, &before, sizeof(r));
        r.stages[k].approved = 1;
        ck_assert_int_eq(rollout_apply(&r, ROLLOUT_PROMOTE, T0 + 10000, &e), RF_OK);
        ck_assert_int_eq(r.stages[k].state, STAGE_DONE);
    }
    /* other stages requiring approval do not block this one */
    rollout_sm r = make(ROLLOUT_ACTIVE, 0);
    r.stages[1].require_approval = 1;
    ck_assert_int_eq(rollout_apply(&r, ROLLOUT_PROMOTE, T0 + 10000, NULL), RF_OK);
    /* pause, halt and revert never need one */
    for (int a = ROLLOUT_PAUSE; a <= ROLLOUT_REVERT; a++) {
        if (a == ROLLOUT_RESUME)
            continue;
        rollout_sm q = make(ROLLOUT_ACTIVE, 0);
        q.stages[0].require_approval = 1;
        ck_assert_int_eq(rollout_apply(&q, (rollout_action)a, T0, NULL), RF_OK);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("rollout");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, every_state_action_pair);
    tcase_add_test(tc, walk_to_completion);
    tcase_add_test(tc, halted_never_promotes);
    tcase_add_test(tc, incoherent_rows_refused);
    tcase_add_test(tc, names_round_trip);
    tcase_add_test(tc, auto_promotion);
    tcase_add_test(tc, approval_blocks_promotion);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
