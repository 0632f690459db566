/* Unit tests for the agent's protocol state machine where it meets the trust
 * chain: every fetch starts with a TUF refresh; a refresh that fails
 * verification, or whose target differs from the assignment, is refused and
 * reported with its reason, with nothing downloaded and a long back-off; a
 * transport failure is only retried; a revert to the kept slot needs the
 * same bytes; and every refused assignment (another device, a replayed
 * counter, expired, a bad signature) reaches the heartbeat as verify_failed
 * until an assignment is accepted again. Table-driven where the cases are
 * many; the scripted world is proto_harness.c. */
#include "proto_harness.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

/* Table: how a REFRESH fails, and what the channel reports then. */
typedef struct refresh_case {
    const char *name;
    proto_result result;
    const char *error;
    int64_t length_delta;
    const char *sha;
    const char *state;  /* reported afterwards */
    const char *errsub; /* in the reported error (NULL: none) */
    int64_t retry_ms;   /* the next REFRESH comes no earlier than this */
} refresh_case;

static const refresh_case REFRESH_CASES[] = {
    {"rollback", PROTO_FAIL_VERIFY, "tuf: timestamp version 3 is older than trusted 5 (rollback)",
     0, NULL, "verify_failed", "(rollback)", 60000},
    {"not in targets", PROTO_FAIL_VERIFY, "tuf: target content/sensor-v12 is not in targets", 0,
     NULL, "verify_failed", "is not in targets", 60000},
    {"length differs", PROTO_OK, NULL, 1, NULL, "verify_failed", "differs from the assignment",
     60000},
    {"sha256 differs", PROTO_OK, NULL, 0, SHA_A, "verify_failed", "differs from the assignment",
     60000},
    {"server away", PROTO_FAIL_IO, "tuf: timestamp.json: HTTP 503", 0, NULL, "idle", NULL, 5000},
};

START_TEST(test_refresh_failures)
{
    const refresh_case *tc = &REFRESH_CASES[_i];
    int64_t failed_at;

    until(PROTO_ACT_POLL);
    set_asg(DEV, 1, 12, PROTO_WANT_INSTALL); /* sha256 SHA_B */
    H.refresh_result = tc->result;
    H.refresh_error = tc->error;
    H.refresh_length_delta = tc->length_delta;
    H.refresh_sha = tc->sha;
    until(PROTO_ACT_REFRESH);
    ck_assert_int_eq(H.act.bundle->id, 12);
    auto_answer();
    failed_at = H.now;
    ck_assert_msg(strcmp(state_of(), tc->state) == 0, "%s: %s", tc->name, state_of());
    if (tc->errsub)
        ck_assert_msg(strstr(content()->error, tc->errsub) != NULL, "%s: %s", tc->name,
                      content()->error);
    ck_assert_int_eq(content()->current.id, 0);
    /* Nothing is downloaded (until() fails on a DOWNLOAD), and the next
     * attempt waits for the back-off. */
    until(PROTO_ACT_REFRESH);
    ck_assert_int_ge(H.now, failed_at + tc->retry_ms);
    if (tc->result == PROTO_FAIL_VERIFY || tc->errsub)
        ck_assert_ptr_nonnull(strstr(H.notes, "bundle refused|content|bundle 12: tuf: "));
    /* Once the repository is sound again the bundle is fetched. */
    H.refresh_result = PROTO_OK;
    H.refresh_length_delta = 0;
    H.refresh_sha = NULL;
    auto_answer();
    ck_assert_int_eq(H.act.kind, PROTO_ACT_DOWNLOAD);
}
END_TEST

START_TEST(test_every_fetch_refreshes_first)
{
    until(PROTO_ACT_POLL);
    install(1, 11);
    ck_assert_int_eq(H.refreshes, 1);
    install(2, 12);
    ck_assert_int_eq(H.refreshes, 2);
    /* A revert whose bundle is not on disk goes through the refresh too. */
    set_asg(DEV, 3, 13, PROTO_WANT_REVERT);
    until(PROTO_ACT_REFRESH);
    auto_answer();
    ck_assert_int_eq(H.act.kind, PROTO_ACT_DOWNLOAD);
    ck_assert_int_eq(H.act.bundle->id, 13);
}
END_TEST

START_TEST(test_refresh_answer_for_another_bundle_ignored)
{
    proto_event ev = {.kind = PROTO_EV_REFRESHED, .result = PROTO_OK, .bundle_id = 99};
    proto_target t = {100 + 12, SHA_B};

    until(PROTO_ACT_POLL);
    set_asg(DEV, 1, 12, PROTO_WANT_INSTALL);
    until(PROTO_ACT_REFRESH);
    ev.target = &t;
    feed(&ev); /* names bundle 99: not an answer for 12 */
    ck_assert_int_eq(content()->phase, PROTO_PHASE_REFRESH);
    ck_assert_str_eq(state_of(), "idle");
}
END_TEST

START_TEST(test_revert_slot_needs_same_sha)
{
    until(PROTO_ACT_POLL);
    install(1, 11);
    install(2, 12);
    /* The revert names bundle 11 with other bytes than the copy kept on disk. */
    set_asg(DEV, 3, 11, PROTO_WANT_REVERT);
    snprintf(H.asg.ch[0].want.bundle.sha256, sizeof(H.asg.ch[0].want.bundle.sha256), "%s", SHA_B);
    until(PROTO_ACT_REFRESH);
    ck_assert_int_eq(H.act.bundle->id, 11);
    ck_assert_str_eq(H.act.bundle->sha256, SHA_B);
}
END_TEST

/* Table: refused assignments reach the heartbeat with their reason. */
typedef struct report_case {
    const char *name;
    const char *dev;
    int64_t counter;
    int64_t expires_rel;
    bool bad_signature;
    const char *errsub;
} report_case;

static const report_case REPORTS[] = {
    {"another device", OTHER_DEV, 7, 3600, false, "is for device ffffffff"},
    {"replayed counter", DEV, 4, 3600, false, "counter 4 is lower than the last accepted 5"},
    {"expired", DEV, 7, -5, false, "expired"},
    {"bad signature", DEV, 7, 3600, true, "tuf: assignment: 0 of 1 required signatures"},
};

START_TEST(test_refused_assignment_reported)
{
    const report_case *tc = &REPORTS[_i];
    proto_event bad = {.kind = PROTO_EV_ASSIGNMENT,
                       .result = PROTO_FAIL_VERIFY,
                       .error = "tuf: assignment: 0 of 1 required signatures by director keys"};
    int before;

    until(PROTO_ACT_POLL);
    install(5, 11);
    run_to(H.now + WINDOW_MS + 1000);
    ck_assert_str_eq(state_of(), "committed");
    until(PROTO_ACT_POLL);
    before = H.nhb;
    if (tc->bad_signature) {
        feed(&bad);
    } else {
        set_asg(tc->dev, tc->counter, 12, PROTO_WANT_INSTALL);
        H.asg.expires_s = H.now / 1000 + tc->expires_rel;
        auto_answer();
    }
    ck_assert_str_eq(state_of(), "verify_failed");
    ck_assert_int_eq(proto_reported_target(content()), 0);
    ck_assert_msg(strstr(proto_reported_error(content()), tc->errsub) != NULL, "%s: %s", tc->name,
                  proto_reported_error(content()));
    until(PROTO_ACT_HEARTBEAT); /* reported at once */
    auto_answer();
    ck_assert_int_gt(H.nhb, before);
    ck_assert_str_eq(LAST_STATE, "verify_failed");
    /* Nothing changed: bundle 11 keeps running, nothing is fetched. */
    ck_assert_int_eq(content()->current.id, 11);
    ck_assert_int_eq(content()->want.bundle.id, 11);
    ck_assert_int_eq(H.p.counter, 5);
    ck_assert(!reach(PROTO_ACT_REFRESH, 20));
    /* The next accepted assignment clears the report. */
    set_asg(DEV, 5, 11, PROTO_WANT_INSTALL);
    until(PROTO_ACT_POLL);
    auto_answer();
    ck_assert_str_eq(state_of(), "committed");
    ck_assert_str_eq(proto_reported_error(content()), "");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("agent_proto_trust");
    TCase *tc = tcase_create("trust");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_refresh_failures, 0,
                        (int)(sizeof(REFRESH_CASES) / sizeof(REFRESH_CASES[0])));
    tcase_add_test(tc, test_every_fetch_refreshes_first);
    tcase_add_test(tc, test_refresh_answer_for_another_bundle_ignored);
    tcase_add_test(tc, test_revert_slot_needs_same_sha);
    tcase_add_loop_test(tc, test_refused_assignment_reported, 0,
                        (int)(sizeof(REPORTS) / sizeof(REPORTS[0])));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
