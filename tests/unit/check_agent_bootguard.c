/* Unit tests for the boot guard's pure decision (table-driven over trial,
 * record, boot, clean end, crashes and limit; and a simulated boot loop) and
 * for its record's strict JSON round trip. */
#include "bootguard.h"

#include <check.h>
#include <string.h>

typedef struct decide_case {
    bootguard_input in;
    bootguard_verdict want;
    int64_t want_attempts;
} decide_case;

/* on_trial, bundle, rec_bundle, rec_attempts, new_boot, prev_clean, crashes, limit */
static const decide_case CASES[] = {
    {{false, 0, 0, 0, true, false, 0, 3}, BOOTGUARD_NONE, 0},     /* nothing installed */
    {{false, 7, 7, 2, true, false, 5, 3}, BOOTGUARD_NONE, 0},     /* committed: never guarded */
    {{true, 7, 0, 0, true, false, 0, 3}, BOOTGUARD_COUNTED, 1},   /* first unclean boot */
    {{true, 7, 7, 1, true, false, 0, 3}, BOOTGUARD_COUNTED, 2},   /* second */
    {{true, 7, 7, 2, true, false, 0, 3}, BOOTGUARD_ROLLBACK, 3},  /* third: the limit */
    {{true, 7, 7, 2, true, true, 0, 3}, BOOTGUARD_COUNTED, 0},    /* a clean end resets */
    {{true, 7, 7, 2, false, false, 0, 3}, BOOTGUARD_NONE, 2},     /* same boot: not again */
    {{true, 7, 6, 2, true, false, 0, 3}, BOOTGUARD_COUNTED, 1},   /* another bundle's count */
    {{true, 7, 0, 0, true, true, 1, 3}, BOOTGUARD_ROLLBACK, 0},   /* a crash record */
    {{true, 7, 7, 1, false, true, 2, 3}, BOOTGUARD_ROLLBACK, 1},  /* crash, same boot too */
    {{true, 7, 0, 0, true, false, 0, 1}, BOOTGUARD_ROLLBACK, 1},  /* limit 1 */
    {{true, 7, 0, 0, true, false, 0, 0}, BOOTGUARD_ROLLBACK, 1},  /* limit < 1 means 1 */
    {{true, 7, 7, -4, true, false, 0, 3}, BOOTGUARD_COUNTED, 1},  /* a bad count is 0 */
    {{true, 7, 7, 9, true, false, 0, 3}, BOOTGUARD_ROLLBACK, 10}, /* past the limit */
};

START_TEST(test_decide)
{
    const decide_case *c = &CASES[_i];
    int64_t attempts = -1;
    char why[256];

    ck_assert_int_eq(bootguard_decide(&c->in, &attempts, why, sizeof(why)), c->want);
    ck_assert_int_eq(attempts, c->want_attempts);
    if (c->want == BOOTGUARD_ROLLBACK)
        ck_assert_ptr_nonnull(strstr(why, "bundle 7"));
    else
        ck_assert_str_eq(why, "");
}
END_TEST

/* A boot loop as the guard sees it: each boot feeds the previous boot's record. */
START_TEST(test_boot_loop)
{
    bootguard_record rec = {0};
    int boots = 0;

    for (;;) {
        const bootguard_chan *r = bootguard_find(&rec, "content");
        bootguard_input in = {true, 12, r ? r->bundle_id : 0, r ? r->attempts : 0, true, false,
                              0,    3};
        int64_t n = 0;
        char why[256];
        bootguard_verdict v = bootguard_decide(&in, &n, why, sizeof(why));
        boots++;
        ck_assert(bootguard_set(&rec, "content", 12, n));
        if (v == BOOTGUARD_ROLLBACK)
            break;
        ck_assert_int_eq(v, BOOTGUARD_COUNTED);
        ck_assert_int_lt(boots, 10);
    }
    ck_assert_int_eq(boots, 3);
    ck_assert_int_eq(bootguard_find(&rec, "content")->attempts, 3);
}
END_TEST

START_TEST(test_record_roundtrip)
{
    bootguard_record a = {0}, b;
    rf_error e = {0};
    json_t *j;

    memcpy(a.boot_id, "b-1", 4);
    ck_assert(bootguard_set(&a, "content", 12, 2));
    ck_assert(bootguard_set(&a, "driver", 3, 0));
    ck_assert(bootguard_set(&a, "content", 13, 1)); /* replaces */
    ck_assert(!bootguard_set(&a, "../x", 1, 1));
    ck_assert_uint_eq(a.n, 2);
    j = bootguard_encode(&a);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(bootguard_decode(j, &b, &e), RF_OK);
    ck_assert_str_eq(b.boot_id, "b-1");
    ck_assert_uint_eq(b.n, 2);
    ck_assert_int_eq(bootguard_find(&b, "content")->bundle_id, 13);
    ck_assert_int_eq(bootguard_find(&b, "content")->attempts, 1);
    ck_assert_int_eq(bootguard_find(&b, "driver")->bundle_id, 3);
    ck_assert_ptr_null(bootguard_find(&b, "other"));
    json_decref(j);
}
END_TEST

START_TEST(test_record_strict)
{
    static const char *const BAD[] = {
        "[]",
        "{\"format\":1,\"boot_id\":\"b\"}",
        "{\"format\":2,\"boot_id\":\"b\",\"channels\":{}}",
        "{\"format\":1,\"boot_id\":7,\"channels\":{}}",
        "{\"format\":1,\"boot_id\":\"b\",\"channels\":{},\"x\":1}",
        "{\"format\":1,\"boot_id\":\"b\",\"channels\":{\"c\":{\"bundle_id\":1}}}",
        "{\"format\":1,\"boot_id\":\"b\",\"channels\":{\"c\":{\"bundle_id\":1,\"attempts\":-1}}}",
        "{\"format\":1,\"boot_id\":\"b\",\"channels\":{\"..\":{\"bundle_id\":1,\"attempts\":1}}}",
        "{\"format\":1,\"boot_id\":\"b\",\"channels\":{\"c\":{\"bundle_id\":\"1\",\"attempts\":1}}"
        "}",
    };
    for (size_t i = 0; i < sizeof(BAD) / sizeof(BAD[0]); i++) {
        bootguard_record r;
        rf_error e = {0};
        json_t *j = json_loads(BAD[i], 0, NULL);
        ck_assert_ptr_nonnull(j);
        ck_assert_int_eq(bootguard_decode(j, &r, &e), RF_ERR_INVALID);
        ck_assert(e.message[0] != '\0');
        json_decref(j);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("agent_bootguard");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_loop_test(tc, test_decide, 0, (int)(sizeof(CASES) / sizeof(CASES[0])));
    tcase_add_test(tc, test_boot_loop);
    tcase_add_test(tc, test_record_roundtrip);
    tcase_add_test(tc, test_record_strict);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
