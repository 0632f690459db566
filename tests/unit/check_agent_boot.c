/* Unit tests for the pure boot-health rules: how a start relates to the last
 * recorded boot (table-driven over boot id, new id and clean-shutdown mark),
 * boot id normalization, and crash-record set arithmetic with its bounds. */
#include "boot.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

typedef struct classify_case {
    const char *last, *now, *mark;
    proto_boot_class want;
} classify_case;

static const classify_case CASES[] = {
    {NULL, "b1", NULL, PROTO_BOOT_FIRST},         {"", "b1", "b1", PROTO_BOOT_FIRST},
    {"b1", "b1", "b1", PROTO_BOOT_SAME_CLEAN},    {"b1", "b1", NULL, PROTO_BOOT_AGENT_RESTART},
    {"b1", "b1", "b0", PROTO_BOOT_AGENT_RESTART}, /* a stale mark does not count */
    {"b1", "b2", "b1", PROTO_BOOT_NEW_CLEAN},     {"b1", "b2", NULL, PROTO_BOOT_NEW_UNCLEAN},
    {"b1", "b2", "b2", PROTO_BOOT_NEW_UNCLEAN}, /* a mark must name the boot that ended */
    {"b1", "b2", "", PROTO_BOOT_NEW_UNCLEAN},
};

START_TEST(test_classify)
{
    const classify_case *c = &CASES[_i];
    ck_assert_int_eq(boot_classify(c->last, c->now, c->mark), c->want);
}
END_TEST

START_TEST(test_boot_id_normalize)
{
    char out[PROTO_BOOT_ID_MAX + 1];
    char longer[100];
    rf_error e = {0};

    ck_assert_int_eq(boot_id_normalize("  3c0e6d2a-1b2c-4d5e-8f90-0123456789ab\n", out, &e), RF_OK);
    ck_assert_str_eq(out, "3c0e6d2a-1b2c-4d5e-8f90-0123456789ab");
    ck_assert_int_eq(boot_id_normalize("\n\t ", out, &e), RF_ERR_INVALID);
    ck_assert_int_eq(boot_id_normalize("a b", out, &e), RF_ERR_INVALID);
    ck_assert_int_eq(boot_id_normalize("a\"b", out, &e), RF_ERR_INVALID);
    memset(longer, 'x', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    ck_assert_int_eq(boot_id_normalize(longer, out, &e), RF_ERR_INVALID);
    longer[PROTO_BOOT_ID_MAX] = '\0';
    ck_assert_int_eq(boot_id_normalize(longer, out, &e), RF_OK);
}
END_TEST

static void fill(boot_crashset *s, const char *const *names, size_t n)
{
    boot_crashset_init(s);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(boot_crashset_add(s, names[i]), RF_OK);
    boot_crashset_seal(s);
}

START_TEST(test_crashset_new_entries)
{
    static const char *const before[] = {"/var/crash/a", "/sys/fs/pstore/dmesg-0", "/var/crash/a"};
    static const char *const after[] = {"/var/crash/b", "/var/crash/a", "/sys/fs/pstore/dmesg-1",
                                        "/sys/fs/pstore/dmesg-0"};
    boot_crashset known, now;

    fill(&known, before, 3);
    ck_assert_uint_eq(known.n, 2); /* duplicates removed */
    fill(&now, after, 4);
    ck_assert_uint_eq(boot_crashset_count_new(&known, &now), 2);
    ck_assert(boot_crashset_has(&now, "/var/crash/b"));
    ck_assert(!boot_crashset_has(&known, "/var/crash/b"));
    boot_crashset_move(&known, &now);
    ck_assert_uint_eq(now.n, 0);
    ck_assert_uint_eq(known.n, 4);
    fill(&now, before, 3); /* entries that disappeared are not crashes */
    ck_assert_uint_eq(boot_crashset_count_new(&known, &now), 0);
    boot_crashset_cleanup(&known);
    boot_crashset_cleanup(&now);
}
END_TEST

START_TEST(test_crashset_bounds)
{
    boot_crashset s;
    char name[BOOT_CRASH_NAME_MAX + 2];

    boot_crashset_init(&s);
    for (int i = 0; i < BOOT_CRASH_MAX + 10; i++) {
        snprintf(name, sizeof(name), "/var/crash/%05d", i);
        ck_assert_int_eq(boot_crashset_add(&s, name), RF_OK);
    }
    ck_assert_uint_eq(s.n, BOOT_CRASH_MAX);
    ck_assert(s.truncated);
    memset(name, 'x', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    ck_assert_int_eq(boot_crashset_add(&s, name), RF_ERR_TOO_LARGE);
    boot_crashset_cleanup(&s);
    boot_crashset_cleanup(NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("agent_boot");
    TCase *tc = tcase_create("boot");
    SRunner *sr;
    int failed;

    tcase_add_loop_test(tc, test_classify, 0, (int)(sizeof(CASES) / sizeof(CASES[0])));
    tcase_add_test(tc, test_boot_id_normalize);
    tcase_add_test(tc, test_crashset_new_entries);
    tcase_add_test(tc, test_crashset_bounds);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
