/* Unit tests for server/assign.c: every rollout state × current stage × ring
 * position × exposure × local failure × on_halt policy × previous bundle,
 * checked against the rules written out independently, and the safety rule
 * (no device outside a started ring is ever assigned the bundle) checked on
 * its own over the same space. */
#include "assign.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define B 12
#define PREV 7
#define NST 3

static assign_rollout make(rollout_state s, int stage, int on_halt_revert, long long prev)
{
    assign_rollout r;
    memset(&r, 0, sizeof(r));
    r.state = s;
    r.stage = s == ROLLOUT_DRAFT ? -1 : stage;
    r.nstages = NST;
    for (int i = 0; i < NST; i++)
        r.stage_ring_pos[i] = i; /* the plan visits rings 0, 1, 2 */
    r.on_halt_revert = on_halt_revert;
    r.bundle_id = B;
    r.previous_bundle_id = prev;
    return r;
}

/* The rules, written from the specification rather than from assign.c. */
static assign_result oracle(rollout_state s, int stage, int on_halt_revert, long long prev, int pos,
                            int exposed, int failed)
{
    assign_result none = {ASSIGN_OMIT, 0};
    int in_plan = pos >= 0 && pos < NST;
    int started = in_plan && (s == ROLLOUT_COMPLETED || pos <= stage);
    int keeps = s == ROLLOUT_ACTIVE || s == ROLLOUT_PAUSED || s == ROLLOUT_COMPLETED ||
                (s == ROLLOUT_HALTED && !on_halt_revert);
    if (s == ROLLOUT_DRAFT)
        return none;
    if (keeps && started && !failed)
        return (assign_result){ASSIGN_INSTALL, B};
    int saw_it = started || exposed || failed;
    if (saw_it)
        return (assign_result){ASSIGN_REVERT, prev};
    if (prev > 0)
        return (assign_result){ASSIGN_INSTALL, prev};
    return none;
}

START_TEST(exhaustive_against_rules)
{
    int n = 0;
    for (int s = 0; s < ROLLOUT_NSTATES; s++)
        for (int stage = 0; stage < NST; stage++)
            for (int ohr = 0; ohr <= 1; ohr++)
                for (int pv = 0; pv <= 1; pv++)
                    for (int pos = -1; pos <= NST + 1; pos++)
                        for (int exposed = 0; exposed <= 1; exposed++)
                            for (int failed = 0; failed <= 1; failed++) {
                                long long prev = pv ? PREV : 0;
                                assign_rollout r = make((rollout_state)s, stage, ohr, prev);
                                assign_device d = {pos, exposed, failed};
                                assign_result got = assign_decide(&r, &d);
                                assign_result want = oracle((rollout_state)s, stage, ohr, prev, pos,
                                                            exposed, failed);
                                ck_assert_msg(got.action == want.action &&
                                                  got.bundle_id == want.bundle_id,
                                              "%s stage %d ohr %d prev %lld pos %d exp %d "
                                              "fail %d: got %d/%lld want %d/%lld",
                                              rollout_state_name((rollout_state)s), stage, ohr,
                                              prev, pos, exposed, failed, got.action, got.bundle_id,
                                              want.action, want.bundle_id);
                                n++;
                            }
    ck_assert_int_eq(n, ROLLOUT_NSTATES * NST * 2 * 2 * (NST + 3) * 2 * 2);
}
END_TEST

/* The safety rule on its own, over plans whose stages map to rings in any
 * order and any device position: the bundle goes only to a device whose ring
 * is the ring of a stage at or below the current one, in a state that offers
 * it, and never to a device that failed it itself. */
START_TEST(never_outside_started_ring)
{
    int offered = 0;
    for (int s = 0; s < ROLLOUT_NSTATES; s++)
        for (int stage = 0; stage < NST; stage++)
            for (int perm = 0; perm < 6; perm++) {
                static const int perms[6][NST] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
                                                  {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
                for (int ohr = 0; ohr <= 1; ohr++)
                    for (int pos = -1; pos <= NST + 1; pos++)
                        for (int flags = 0; flags < 4; flags++) {
                            assign_rollout r = make((rollout_state)s, stage, ohr, PREV);
                            memcpy(r.stage_ring_pos, perms[perm], sizeof(perms[perm]));
                            assign_device d = {pos, flags & 1, (flags >> 1) & 1};
                            assign_result got = assign_decide(&r, &d);
                            if (got.bundle_id != B)
                                continue;
                            offered++;
                            int dev_stage = -1;
                            for (int i = 0; i < NST; i++)
                                if (perms[perm][i] == pos)
                                    dev_stage = i;
                            ck_assert_int_ge(dev_stage, 0);
                            if (s != ROLLOUT_COMPLETED)
                                ck_assert_int_le(dev_stage, stage);
                            ck_assert(s == ROLLOUT_ACTIVE || s == ROLLOUT_PAUSED ||
                                      s == ROLLOUT_COMPLETED || (s == ROLLOUT_HALTED && !ohr));
                            ck_assert_int_eq(d.failed_itself, 0);
                            ck_assert_int_eq(got.action, ASSIGN_INSTALL);
                            ck_assert_int_eq(assign_in_started_ring(&r, &d), 1);
                        }
            }
    ck_assert_int_gt(offered, 0);
}
END_TEST

START_TEST(no_rollout_omits)
{
    assign_device d = {0, 1, 0};
    assign_result got = assign_decide(NULL, &d);
    ck_assert_int_eq(got.action, ASSIGN_OMIT);
    assign_rollout r = make(ROLLOUT_ACTIVE, 0, 1, PREV);
    r.bundle_id = 0; /* corrupt: no bundle */
    got = assign_decide(&r, &d);
    ck_assert_int_eq(got.action, ASSIGN_OMIT);
}
END_TEST

/* The scenarios of the integration tests, spelled out. */
START_TEST(named_scenarios)
{
    assign_device canary = {0, 0, 0}, broad = {1, 0, 0}, none = {-1, 0, 0};
    /* first rollout of a channel, canary stage: broad gets nothing at all */
    assign_rollout r = make(ROLLOUT_ACTIVE, 0, 1, 0);
    r.nstages = 2;
    assign_result a = assign_decide(&r, &canary);
    ck_assert_int_eq(a.action, ASSIGN_INSTALL);
    ck_assert_int_eq(a.bundle_id, B);
    ck_assert_int_eq(assign_decide(&r, &broad).action, ASSIGN_OMIT);
    ck_assert_int_eq(assign_decide(&r, &none).action, ASSIGN_OMIT);
    /* halted and reverted by the evaluator: canary back to nothing, broad untouched */
    r.state = ROLLOUT_REVERTED;
    a = assign_decide(&r, &canary);
    ck_assert_int_eq(a.action, ASSIGN_REVERT);
    ck_assert_int_eq(a.bundle_id, 0);
    ck_assert_int_eq(assign_decide(&r, &broad).action, ASSIGN_OMIT);
    /* second rollout with a known-good previous bundle */
    r = make(ROLLOUT_ACTIVE, 0, 1, PREV);
    r.nstages = 2;
    a = assign_decide(&r, &broad);
    ck_assert_int_eq(a.action, ASSIGN_INSTALL);
    ck_assert_int_eq(a.bundle_id, PREV);
    r.state = ROLLOUT_REVERTED;
    a = assign_decide(&r, &canary);
    ck_assert_int_eq(a.action, ASSIGN_REVERT);
    ck_assert_int_eq(a.bundle_id, PREV);
    a = assign_decide(&r, &broad);
    ck_assert_int_eq(a.action, ASSIGN_INSTALL); /* unchanged for broad: no wake-up */
    ck_assert_int_eq(a.bundle_id, PREV);
    /* halted under a pause policy: canary keeps the bundle, nobody else gets it */
    r.state = ROLLOUT_HALTED;
    r.on_halt_revert = 0;
    ck_assert_int_eq(assign_decide(&r, &canary).bundle_id, B);
    ck_assert_int_eq(assign_decide(&r, &broad).bundle_id, PREV);
    /* a device that rolled back locally is not offered the bundle again */
    assign_device rolled = {0, 1, 1};
    r.state = ROLLOUT_ACTIVE;
    a = assign_decide(&r, &rolled);
    ck_assert_int_eq(a.action, ASSIGN_REVERT);
    ck_assert_int_eq(a.bundle_id, PREV);
    /* completed: every ring of the plan; a ring added later is not in the plan */
    r.state = ROLLOUT_COMPLETED;
    r.stage = 1;
    ck_assert_int_eq(assign_decide(&r, &broad).bundle_id, B);
    assign_device later = {2, 0, 0};
    a = assign_decide(&r, &later);
    ck_assert_int_eq(a.action, ASSIGN_INSTALL);
    ck_assert_int_eq(a.bundle_id, PREV);
    ck_assert_int_eq(assign_device_stage(&r, 2), -1);
    ck_assert_int_eq(assign_device_stage(&r, 1), 1);
    ck_assert_int_eq(assign_device_stage(&r, -1), -1);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("assign");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, exhaustive_against_rules);
    tcase_add_test(tc, never_outside_started_ring);
    tcase_add_test(tc, no_rollout_omits);
    tcase_add_test(tc, named_scenarios);
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
