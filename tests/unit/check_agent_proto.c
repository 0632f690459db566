/* Unit tests for the agent's protocol state machine, driven through whole
 * scenarios with a fake clock and a scripted "server" (proto_harness.c):
 * enroll, heartbeat, assignment, refresh, download, verify, the acknowledged
 * "installing" report, install, trial, commit; and every way it must refuse
 * or hold back (verify and hook failures, reverts, heartbeat failures,
 * replayed, expired and foreign assignments, bundles that failed here
 * before). The trust chain's scenarios are in check_agent_proto_trust.c. */
#include "proto_harness.h"
#include "wire.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

START_TEST(test_full_path_to_commit)
{
    int installing_hb = -1;
    proto_slot slot;

    until(PROTO_ACT_ENROLL);
    ck_assert_str_eq(H.p.device_id, "");
    auto_answer();
    until(PROTO_ACT_HEARTBEAT);
    ck_assert_int_eq(H.act.seq, 1);
    auto_answer();
    until(PROTO_ACT_POLL);
    ck_assert_int_eq(H.act.wait_s, 0); /* nothing known yet: answer at once */
    set_asg(DEV, 1, 12, PROTO_WANT_INSTALL);
    until(PROTO_ACT_DOWNLOAD);
    ck_assert_uint_eq(H.act.channel, 0);
    ck_assert_str_eq(H.act.bundle->sha256, SHA_B);
    answer(PROTO_EV_DOWNLOADED, PROTO_OK, NULL);
    ck_assert_str_eq(state_of(), "installing");
    /* Nothing is activated before a heartbeat saying "installing" is acknowledged. */
    until(PROTO_ACT_HEARTBEAT);
    installing_hb = H.nhb;
    auto_answer();
    ck_assert_str_eq(H.states[installing_hb], "installing");
    until(PROTO_ACT_INSTALL);
    ck_assert(!H.act.hook_revert);
    slot = H.act.slot;
    ck_assert_int_eq(slot, PROTO_SLOT_A);
    answer(PROTO_EV_INSTALLED, PROTO_OK, NULL);
    ck_assert_str_eq(state_of(), "trial");
    ck_assert_int_eq(content()->current.slot, slot);
    ck_assert_int_eq(content()->activated_ms, H.now);
    until(PROTO_ACT_HEARTBEAT); /* the activation is reported at once */
    auto_answer();
    ck_assert_str_eq(LAST_STATE, "trial");
    run_to(content()->activated_ms + WINDOW_MS - 1000);
    ck_assert_str_eq(state_of(), "trial");
    run_to(content()->activated_ms + WINDOW_MS + 1000);
    ck_assert_str_eq(state_of(), "committed");
    ck_assert_ptr_nonnull(strstr(H.notes, "committed|content|"));
    ck_assert_int_lt(H.nhb, 256);
    for (int i = 1; i < H.nhb; i++) /* sequence numbers never go back */
        ck_assert_int_ge(H.seqs[i], H.seqs[i - 1]);
}
END_TEST

START_TEST(test_verify_failure_refused_and_backed_off)
{
    int64_t failed_at;

    until(PROTO_ACT_POLL);
    set_asg(DEV, 1, 12, PROTO_WANT_INSTALL);
    until(PROTO_ACT_DOWNLOAD);
    answer(PROTO_EV_DOWNLOADED, PROTO_FAIL_VERIFY, "content: sha256 differs");
    failed_at = H.now;
    ck_assert_str_eq(state_of(), "verify_failed");
    ck_assert_int_eq(proto_reported_target(content()), 12);
    ck_assert_int_eq(content()->current.id, 0);
    ck_assert_str_eq(content()->error, "content: sha256 differs");
    until(PROTO_ACT_HEARTBEAT); /* reported at once */
    auto_answer();
    ck_assert_str_eq(LAST_STATE, "verify_failed");
    /* No tight loop: nothing but routine work until the back-off passes. */
    run_to(failed_at + 59000);
    until(PROTO_ACT_DOWNLOAD);
    ck_assert_int_ge(H.now, failed_at + 60000);
    answer(PROTO_EV_DOWNLOADED, PROTO_FAIL_VERIFY, "again");
    failed_at = H.now;
    run_to(failed_at + 119000); /* the back-off doubles */
    until(PROTO_ACT_DOWNLOAD);
    ck_assert_int_ge(H.now, failed_at + 120000);
    ck_assert_ptr_nonnull(strstr(H.notes, "bundle refused|content|bundle 12: content: sha256"));
}
END_TEST

START_TEST(test_download_io_failure_retried)
{
    until(PROTO_ACT_POLL);
    set_asg(DEV, 1, 12, PROTO_WANT_INSTALL);
    until(PROTO_ACT_DOWNLOAD);
    answer(PROTO_EV_DOWNLOADED, PROTO_FAIL_IO, "connection reset");
    ck_assert_str_eq(state_of(), "idle"); /* not a refusal */
    run_to(H.now + 4000);
    until(PROTO_ACT_DOWNLOAD);
    answer(PROTO_EV_DOWNLOADED, PROTO_OK, NULL);
    until(PROTO_ACT_INSTALL);
}
END_TEST

START_TEST(test_hook_failure_keeps_old_and_never_retries)
{
    until(PROTO_ACT_POLL);
    install(1, 11);
    set_asg(DEV, 2, 12, PROTO_WANT_INSTALL);
    until(PROTO_ACT_DOWNLOAD);
    answer(PROTO_EV_DOWNLOADED, PROTO_OK, NULL);
    until(PROTO_ACT_INSTALL);
    ck_assert_int_eq(H.act.slot, PROTO_SLOT_B); /* the inactive slot */
    answer(PROTO_EV_INSTALLED, PROTO_FAIL_HOOK, "hook exited with status 3");
    ck_assert_str_eq(state_of(), "install_failed");
    ck_assert_int_eq(content()->current.id, 11);
    ck_assert_int_eq(content()->current.slot, PROTO_SLOT_A);
    ck_assert_int_eq(proto_reported_target(content()), 12);
    /* Offered again under a newer counter: still not installed. */
    set_asg(DEV, 3, 12, PROTO_WANT_INSTALL);
    ck_assert(!reach(PROTO_ACT_DOWNLOAD, 400));
    ck_assert_int_ne(H.act.kind, PROTO_ACT_INSTALL);
    ck_assert_str_eq(state_of(), "install_failed");
    ck_assert_int_eq(H.p.counter, 3);
}
END_TEST

START_TEST(test_revert_to_previous_slot)
{
    until(PROTO_ACT_POLL);
    install(1, 11);
    install(2, 12);
    ck_assert_int_eq(content()->previous.id, 11);
    set_asg(DEV, 3, 11, PROTO_WANT_REVERT);
    until(PROTO_ACT_REVERT);
    ck_assert_int_eq(H.act.bundle->id, 11);
    ck_assert_int_eq(H.act.slot, PROTO_SLOT_A);
    answer(PROTO_EV_REVERTED, PROTO_OK, NULL);
    ck_assert_int_eq(content()->current.id, 11);
    ck_assert_int_eq(content()->current.slot, PROTO_SLOT_A);
    ck_assert_int_eq(content()->previous.id, 12); /* kept in the other slot */
    ck_assert_str_eq(state_of(), "trial");
    /* A replay of the older assignment that offered 12 is refused. */
    set_asg(DEV, 2, 12, PROTO_WANT_INSTALL);
    ck_assert(!reach(PROTO_ACT_DOWNLOAD, 300));
    ck_assert_int_eq(content()->current.id, 11);
    ck_assert_ptr_nonnull(strstr(H.notes, "lower than the last accepted 3"));
}
END_TEST

START_TEST(test_revert_to_none)
{
    until(PROTO_ACT_POLL);
    install(1, 12);
    set_asg(DEV, 2, 0, PROTO_WANT_REVERT);
    until(PROTO_ACT_REVERT);
    ck_assert_int_eq(H.act.bundle->id, 0);
    ck_assert_int_eq(H.act.slot, PROTO_SLOT_NONE);
    answer(PROTO_EV_REVERTED, PROTO_OK, NULL);
    ck_assert_int_eq(content()->current.id, 0);
    ck_assert_str_eq(state_of(), "idle");
    ck_assert_int_eq(content()->previous.id, 12);
}
END_TEST

START_TEST(test_revert_fetches_missing_bundle_without_ack)
{
    until(PROTO_ACT_POLL);
    install(1, 12);
    set_asg(DEV, 2, 11, PROTO_WANT_REVERT); /* 11 is in no slot here */
    until(PROTO_ACT_DOWNLOAD);
    ck_assert_int_eq(H.act.bundle->id, 11);
    answer(PROTO_EV_DOWNLOADED, PROTO_OK, NULL);
    H.hb_ok = false; /* going back to known-good does not wait for the server */
    until(PROTO_ACT_INSTALL);
    ck_assert(H.act.hook_revert);
    answer(PROTO_EV_INSTALLED, PROTO_OK, NULL);
    ck_assert_int_eq(content()->current.id, 11);
}
END_TEST

START_TEST(test_heartbeat_failure_retries_same_seq)
{
    int64_t seq;

    until(PROTO_ACT_POLL);
    install(1, 12);
    run_to(H.now + 1000);
    H.hb_ok = false;
    until(PROTO_ACT_HEARTBEAT);
    seq = H.act.seq;
    ck_assert_int_eq(seq, H.p.seq); /* persisted before it is sent */
    for (int i = 0; i < 3; i++) {
        auto_answer();
        until(PROTO_ACT_HEARTBEAT);
        ck_assert_int_eq(H.act.seq, seq); /* the retry reuses it */
    }
    /* A change in what is reported takes a new number even while retrying. */
    auto_answer();
    H.crashes = 1;
    until(PROTO_ACT_HEARTBEAT);
    ck_assert_int_eq(H.act.seq, seq + 1);
    ck_assert_int_eq(content()->crashes, 1);
    H.hb_ok = true;
    auto_answer();
    until(PROTO_ACT_HEARTBEAT); /* the next report takes the next number */
    ck_assert_int_eq(H.act.seq, seq + 2);
}
END_TEST

START_TEST(test_installing_heartbeat_failure_blocks_activation)
{
    until(PROTO_ACT_POLL);
    set_asg(DEV, 1, 12, PROTO_WANT_INSTALL);
    until(PROTO_ACT_DOWNLOAD);
    answer(PROTO_EV_DOWNLOADED, PROTO_OK, NULL);
    H.hb_ok = false;
    for (int i = 0; i < 20; i++) { /* minutes of failures: never activates */
        ck_assert(!reach(PROTO_ACT_INSTALL, 50));
        ck_assert_int_ne(H.act.kind, PROTO_ACT_INSTALL);
    }
    ck_assert_str_eq(state_of(), "installing");
    ck_assert_int_eq(content()->current.id, 0);
    H.hb_ok = true;
    until(PROTO_ACT_INSTALL);
    ck_assert_str_eq(LAST_STATE, "installing");
}
END_TEST

/* Table: an assignment's device, counter and expiry against the last one. */
typedef struct refusal_case {
    const char *name;
    const char *dev;
    int64_t counter;     /* after an accepted counter 5 */
    int64_t expires_rel; /* seconds from now */
    bool accepted;
    const char *note;
} refusal_case;

static const refusal_case REFUSALS[] = {
    {"newer", DEV, 6, 3600, true, NULL},
    {"same counter", DEV, 5, 3600, true, NULL},
    {"counter rollback", DEV, 4, 3600, false, "lower than the last accepted 5"},
    {"expired", DEV, 7, -1, false, "expired"},
    {"expires now", DEV, 7, 0, false, "expired"},
    {"other device", OTHER_DEV, 7, 3600, false, "not this device"},
};

START_TEST(test_assignment_refusals)
{
    const refusal_case *tc = &REFUSALS[_i];

    until(PROTO_ACT_POLL);
    set_asg(DEV, 5, 11, PROTO_WANT_INSTALL);
    until(PROTO_ACT_DOWNLOAD);
    answer(PROTO_EV_DOWNLOADED, PROTO_FAIL_IO, "later"); /* keep 11 pending */
    H.notes[0] = '\0';
    set_asg(tc->dev, tc->counter, 12, PROTO_WANT_INSTALL);
    H.asg.expires_s = H.now / 1000 + tc->expires_rel;
    until(PROTO_ACT_POLL);
    auto_answer();
    if (tc->accepted) {
        ck_assert_msg(strstr(H.notes, "assignment refused") == NULL, "%s", tc->name);
        ck_assert_int_eq(content()->want.bundle.id, tc->counter == 5 ? 11 : 12);
        ck_assert_int_eq(H.p.counter, tc->counter);
    } else {
        ck_assert_msg(strstr(H.notes, "assignment refused") != NULL, "%s", tc->name);
        ck_assert_msg(strstr(H.notes, tc->note) != NULL, "%s: %s", tc->name, H.notes);
        ck_assert_int_eq(content()->want.bundle.id, 11);
        ck_assert_int_eq(H.p.counter, 5);
    }
}
END_TEST

START_TEST(test_bad_signature_refused_with_backoff)
{
    proto_event ev = {.kind = PROTO_EV_ASSIGNMENT,
                      .result = PROTO_FAIL_VERIFY,
                      .error = "assignment signature not valid"};

    until(PROTO_ACT_POLL);
    feed(&ev);
    ck_assert_int_eq(H.act.kind, PROTO_ACT_SLEEP);
    ck_assert_int_ge(H.act.until_ms, H.now + 5000);
    ck_assert_ptr_nonnull(strstr(H.notes, "assignment refused|-|assignment signature"));
    ck_assert(!H.p.have_counter);
}
END_TEST

START_TEST(test_rolled_back_bundle_not_reinstalled)
{
    until(PROTO_ACT_POLL);
    install(1, 11);
    run_to(H.now + WINDOW_MS + 1000);
    install(2, 12);
    ck_assert(proto_local_rollback(&H.p, content(), H.now, "boot limit reached"));
    ck_assert_int_eq(content()->current.id, 11);
    ck_assert_int_eq(content()->local_rollbacks, 1);
    ck_assert_str_eq(state_of(), "rolled_back");
    set_asg(DEV, 3, 12, PROTO_WANT_INSTALL); /* offered again, newer counter */
    ck_assert(!reach(PROTO_ACT_DOWNLOAD, 400));
    ck_assert_str_eq(state_of(), "rolled_back");
    ck_assert_int_eq(proto_reported_target(content()), 12);
    ck_assert_int_eq(content()->current.id, 11);
}
END_TEST

START_TEST(test_unclean_boot_and_crash_keep_trial)
{
    proto p2;
    proto_config cfg = {HB_MS, WINDOW_MS};
    proto_event start = {.kind = PROTO_EV_START, .device_id = DEV};
    proto_event boot = {.kind = PROTO_EV_BOOT,
                        .boot_id = "boot-2",
                        .boot_class = PROTO_BOOT_NEW_UNCLEAN,
                        .new_crashes = 1};
    proto_action act;

    until(PROTO_ACT_POLL);
    install(1, 12);
    /* Restart the machine state as a new process would after a crash. */
    proto_init(&p2, &cfg);
    p2.nch = H.p.nch;
    p2.ch = H.p.ch;
    p2.counter = H.p.counter;
    p2.have_counter = true;
    H.p.ch = NULL;
    H.p.nch = 0;
    proto_cleanup(&H.p);
    H.p = p2;
    proto_step(&H.p, H.now, &start, &act);
    ck_assert_int_eq(act.kind, PROTO_ACT_OBSERVE_BOOT);
    proto_step(&H.p, H.now, &boot, &H.act);
    ck_assert_int_eq(content()->boots, 1);
    ck_assert_int_eq(content()->unclean_shutdowns, 1);
    ck_assert_int_eq(content()->crashes, 1);
    run_to(H.now + 2 * WINDOW_MS);
    ck_assert_str_eq(state_of(), "trial"); /* a failing bundle is never committed */
}
END_TEST

START_TEST(test_restart_mid_install)
{
    proto_slot actual;
    proto_event start = {.kind = PROTO_EV_START, .device_id = DEV};
    proto_event boot = {.kind = PROTO_EV_BOOT, .boot_id = "boot-2", .actual_slots = &actual};

    until(PROTO_ACT_POLL);
    set_asg(DEV, 1, 12, PROTO_WANT_INSTALL);
    until(PROTO_ACT_DOWNLOAD);
    answer(PROTO_EV_DOWNLOADED, PROTO_OK, NULL);
    until(PROTO_ACT_INSTALL); /* phase install persisted; then the machine dies */
    H.p.started = H.p.booted = false;
    for (int variant = 0; variant < 3; variant++) {
        proto_channel saved = *content();
        actual = variant == 0 ? PROTO_SLOT_A : PROTO_SLOT_NONE;
        boot.boot_class = variant == 1 ? PROTO_BOOT_NEW_UNCLEAN : PROTO_BOOT_NEW_CLEAN;
        feed(&start);
        feed(&boot);
        if (variant == 0) /* the switch had happened: the bundle is active */
            ck_assert_int_eq(content()->current.id, 12);
        else if (variant == 1) /* a crash while installing: failed, not retried */
            ck_assert_str_eq(state_of(), "install_failed");
        else /* stopped cleanly before the switch: finish the install */
            ck_assert(reach(PROTO_ACT_INSTALL, 10));
        *content() = saved;
        H.p.started = H.p.booted = false;
    }
}
END_TEST

START_TEST(test_clock_jump_back_does_not_stall)
{
    int64_t jumped;

    until(PROTO_ACT_POLL);
    set_asg(DEV, 1, 12, PROTO_WANT_INSTALL);
    until(PROTO_ACT_DOWNLOAD);
    answer(PROTO_EV_DOWNLOADED, PROTO_FAIL_VERIFY, "sha256 differs");
    H.now -= 86400 * 1000LL; /* the wall clock is set back a day */
    jumped = H.now;
    H.asg.issued_s = H.now / 1000; /* the server's clock moved too */
    H.asg.expires_s = H.now / 1000 + 3600;
    until(PROTO_ACT_HEARTBEAT);
    ck_assert_int_le(H.now, jumped + HB_MS);
    until(PROTO_ACT_DOWNLOAD); /* the back-off is not stretched by the jump */
    ck_assert_int_le(H.now, jumped + 60000);
}
END_TEST

START_TEST(test_shutdown_persists_then_done)
{
    proto_event stop = {.kind = PROTO_EV_SHUTDOWN};
    proto_event persisted = {.kind = PROTO_EV_PERSISTED};

    until(PROTO_ACT_POLL);
    H.p.dirty = true;
    feed(&stop);
    ck_assert_int_eq(H.act.kind, PROTO_ACT_PERSIST);
    feed(&persisted);
    ck_assert_int_eq(H.act.kind, PROTO_ACT_DONE);
}
END_TEST

START_TEST(test_heartbeat_body_shape)
{
    json_t *hb, *ch;

    until(PROTO_ACT_POLL);
    install(1, 12);
    hb = wire_heartbeat(&H.p, 9, 311, "0.1.0");
    ck_assert_ptr_nonnull(hb);
    ck_assert_int_eq(json_integer_value(json_object_get(hb, "seq")), 9);
    ck_assert_str_eq(json_string_value(json_object_get(hb, "boot_id")), "boot-1");
    ck_assert_int_eq(json_integer_value(json_object_get(hb, "heartbeat_interval_s")), 30);
    ch = json_object_get(json_object_get(hb, "channels"), "content");
    ck_assert_int_eq(json_integer_value(json_object_get(ch, "bundle_id")), 12);
    ck_assert_str_eq(json_string_value(json_object_get(ch, "state")), "trial");
    ck_assert(json_is_null(json_object_get(ch, "target_bundle_id")));
    ck_assert(json_is_null(json_object_get(ch, "error")));
    ck_assert_uint_eq(json_object_size(ch), 8);
    ck_assert_int_eq(json_integer_value(json_object_get(hb, "agent_restarts")), 0);
    ck_assert_uint_eq(json_object_size(hb), 7);
    json_decref(hb);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("agent_proto");
    TCase *tc = tcase_create("scenarios");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_full_path_to_commit);
    tcase_add_test(tc, test_verify_failure_refused_and_backed_off);
    tcase_add_test(tc, test_download_io_failure_retried);
    tcase_add_test(tc, test_hook_failure_keeps_old_and_never_retries);
    tcase_add_test(tc, test_revert_to_previous_slot);
    tcase_add_test(tc, test_revert_to_none);
    tcase_add_test(tc, test_revert_fetches_missing_bundle_without_ack);
    tcase_add_test(tc, test_heartbeat_failure_retries_same_seq);
    tcase_add_test(tc, test_installing_heartbeat_failure_blocks_activation);
    tcase_add_loop_test(tc, test_assignment_refusals, 0,
                        (int)(sizeof(REFUSALS) / sizeof(REFUSALS[0])));
    tcase_add_test(tc, test_bad_signature_refused_with_backoff);
    tcase_add_test(tc, test_rolled_back_bundle_not_reinstalled);
    tcase_add_test(tc, test_unclean_boot_and_crash_keep_trial);
    tcase_add_test(tc, test_restart_mid_install);
    tcase_add_test(tc, test_clock_jump_back_does_not_stall);
    tcase_add_test(tc, test_shutdown_persists_then_done);
    tcase_add_test(tc, test_heartbeat_body_shape);
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
