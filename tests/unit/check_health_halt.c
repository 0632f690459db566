/* Unit tests for the halt action as a policy: "pause", "revert" and
 * "revert_stage" parse and print, and assign_decide under a halted rollout
 * sends back every exposed device ("revert"), none ("pause"), or only the
 * devices of the halted stage ("revert_stage"). */
#include "assign.h"
#include "health.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define B 12
#define PREV 7

static assign_rollout halted(health_on_halt how, int halted_stage)
{
    assign_rollout r;
    memset(&r, 0, sizeof(r));
    r.state = ROLLOUT_HALTED;
    r.stage = 2;
    r.nstages = 3;
    for (int i = 0; i < 3; i++)
        r.stage_ring_pos[i] = i;
    r.on_halt_revert = how == HEALTH_ON_HALT_REVERT;
    r.on_halt_revert_stage = how == HEALTH_ON_HALT_REVERT_STAGE;
    r.halted_stage = halted_stage;
    r.bundle_id = B;
    r.previous_bundle_id = PREV;
    return r;
}

static assign_device on_bundle(int ring_pos)
{
    assign_device d;
    memset(&d, 0, sizeof(d));
    d.ring_pos = ring_pos;
    d.exposed = 1;
    d.current_bundle_id = B;
    return d;
}

struct halt_case {
    health_on_halt how;
    int halted_stage, ring_pos;
    assign_action want;
    long long want_bundle;
};

static const struct halt_case halt_cases[] = {
    {HEALTH_ON_HALT_REVERT, 1, 0, ASSIGN_REVERT, PREV},
    {HEALTH_ON_HALT_REVERT, 1, 1, ASSIGN_REVERT, PREV},
    {HEALTH_ON_HALT_REVERT, 1, 2, ASSIGN_REVERT, PREV},
    {HEALTH_ON_HALT_PAUSE, 1, 0, ASSIGN_INSTALL, B},
    {HEALTH_ON_HALT_PAUSE, 1, 1, ASSIGN_INSTALL, B},
    {HEALTH_ON_HALT_PAUSE, 1, 2, ASSIGN_INSTALL, B},
    {HEALTH_ON_HALT_REVERT_STAGE, 1, 0, ASSIGN_INSTALL, B},   /* an earlier stage keeps it */
    {HEALTH_ON_HALT_REVERT_STAGE, 1, 1, ASSIGN_REVERT, PREV}, /* the halted stage goes back */
    {HEALTH_ON_HALT_REVERT_STAGE, 1, 2, ASSIGN_INSTALL, B},
    {HEALTH_ON_HALT_REVERT_STAGE, 0, 0, ASSIGN_REVERT, PREV},
    {HEALTH_ON_HALT_REVERT_STAGE, -1, 1, ASSIGN_INSTALL, B}, /* no halted stage known */
};

START_TEST(halt_actions)
{
    const struct halt_case *c = &halt_cases[_i];
    assign_rollout r = halted(c->how, c->halted_stage);
    assign_device d = on_bundle(c->ring_pos);
    assign_result res = assign_decide(&r, &d);
    ck_assert_msg(res.action == c->want && res.bundle_id == c->want_bundle,
                  "case %d: action %d bundle %lld", _i, (int)res.action, res.bundle_id);
}
END_TEST

START_TEST(revert_stage_offers_nothing_new)
{
    /* a device of a later stage that never had the bundle is not offered it */
    assign_rollout r = halted(HEALTH_ON_HALT_REVERT_STAGE, 1);
    assign_device d;
    memset(&d, 0, sizeof(d));
    d.ring_pos = 2;
    d.current_bundle_id = PREV;
    assign_result res = assign_decide(&r, &d);
    ck_assert_int_eq(res.action, ASSIGN_OMIT);
}
END_TEST

START_TEST(policy_names)
{
    health_policy p;
    rf_error e = {0};
    const char *names[] = {"revert", "pause", "revert_stage"};
    health_on_halt want[] = {HEALTH_ON_HALT_REVERT, HEALTH_ON_HALT_PAUSE,
                             HEALTH_ON_HALT_REVERT_STAGE};
    for (int i = 0; i < 3; i++) {
        json_t *j = json_pack("{s:s}", "on_halt", names[i]);
        health_policy_default(&p);
        ck_assert_int_eq(health_policy_parse(j, "policy", &p, &e), RF_OK);
        ck_assert_int_eq(p.on_halt, want[i]);
        ck_assert_str_eq(health_on_halt_name(p.on_halt), names[i]);
        json_decref(j);
    }
    json_t *bad = json_pack("{s:s}", "on_halt", "revert_all");
    ck_assert_int_eq(health_policy_parse(bad, "policy", &p, &e), RF_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(e.message, "revert_stage"));
    json_decref(bad);
    health_policy_default(&p);
    ck_assert_int_eq(p.on_halt, HEALTH_ON_HALT_REVERT);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("health_halt");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, halt_actions, 0, (int)(sizeof(halt_cases) / sizeof(halt_cases[0])));
    tcase_add_test(tc, revert_stage_offers_nothing_new);
    tcase_add_test(tc, policy_names);
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
