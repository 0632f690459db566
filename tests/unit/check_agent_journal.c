/* Unit tests for the heartbeat journal: file names (both ways, strict), the
 * replay order, the eviction rule at the entry and byte caps (table-driven),
 * and the file side in a temporary dir: durable append, reopen after a
 * simulated power cut (a leftover temp file), removal, eviction when full. */
#include "journal.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

START_TEST(test_names)
{
    char name[JOURNAL_NAME_MAX];
    int64_t seq = -1;

    ck_assert_int_eq(journal_entry_name(42, name), RF_OK);
    ck_assert_str_eq(name, "hb-00000000000000000042.json");
    ck_assert(journal_parse_name(name, &seq));
    ck_assert_int_eq(seq, 42);
    ck_assert_int_eq(journal_entry_name(INT64_MAX, name), RF_OK);
    ck_assert(journal_parse_name(name, &seq));
    ck_assert(seq == INT64_MAX);
    ck_assert_int_ne(journal_entry_name(-1, name), RF_OK);
    ck_assert(!journal_parse_name("hb-42.json", &seq));
    ck_assert(!journal_parse_name("hb-0000000000000000004x.json", &seq));
    ck_assert(!journal_parse_name("hb-00000000000000000042.jso", &seq));
    ck_assert(!journal_parse_name(".hb-00000000000000000042.json.tmp.abc", &seq));
    ck_assert(!journal_parse_name("hb-99999999999999999999.json", &seq)); /* overflow */
}
END_TEST

START_TEST(test_sort)
{
    journal_entry e[] = {{9, 1}, {2, 1}, {10, 1}, {1, 1}};
    journal_sort(e, 4);
    ck_assert_int_eq(e[0].seq, 1);
    ck_assert_int_eq(e[1].seq, 2);
    ck_assert_int_eq(e[2].seq, 9);
    ck_assert_int_eq(e[3].seq, 10);
}
END_TEST

typedef struct evict_case {
    size_t n;
    int64_t add, max_bytes;
    size_t max_entries, want;
} evict_case;

/* entries hold 10, 20, 30, 40 bytes (oldest first) */
static const evict_case EVICT[] = {
    {0, 5, 100, 4, 0},  {4, 0, 100, 5, 0},   {4, 0, 100, 4, 1},   {4, 5, 100, 5, 1},
    {4, 50, 100, 9, 3}, {4, 100, 100, 9, 4}, {4, 500, 100, 9, 4}, {2, 70, 100, 9, 0},
    {2, 71, 100, 9, 1}, {4, 1, 1000, 1, 4},  {3, 0, 60, 3, 1},
};

START_TEST(test_evict)
{
    static const journal_entry e[] = {{1, 10}, {2, 20}, {3, 30}, {4, 40}};
    const evict_case *c = &EVICT[_i];
    ck_assert_uint_eq(journal_evict_count(e, c->n, c->add, c->max_entries, c->max_bytes), c->want);
}
END_TEST

START_TEST(test_files)
{
    char dir[] = "/tmp/check_journal.XXXXXX";
    char path[256];
    journal j;
    rf_buf b;
    rf_error e = {0};
    size_t ev = 9;
    FILE *f;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_int_eq(journal_open(&j, dir, &e), RF_OK);
    ck_assert_uint_eq(j.n, 0);
    ck_assert_int_eq(journal_append(&j, 7, "{\"seq\":7}", 9, &ev, &e), RF_OK);
    ck_assert_uint_eq(ev, 0);
    ck_assert_int_eq(journal_append(&j, 3, "{\"seq\":3}", 9, &ev, &e), RF_OK);
    ck_assert_int_eq(journal_append(&j, 7, "other", 5, &ev, &e), RF_OK); /* kept as is */
    ck_assert(journal_has(&j, 7) && journal_has(&j, 3) && !journal_has(&j, 5));
    journal_close(&j);

    /* a power cut in the middle of a write leaves a hidden temp file */
    snprintf(path, sizeof(path), "%s/journal/.hb-00000000000000000008.json.tmp.x", dir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("{\"se", f);
    fclose(f);
    ck_assert_int_eq(journal_open(&j, dir, &e), RF_OK);
    ck_assert_uint_eq(j.n, 2);
    ck_assert_int_eq(j.e[0].seq, 3); /* replay order */
    ck_assert_int_eq(j.e[1].seq, 7);
    ck_assert_int_ne(access(path, F_OK), 0);
    rf_buf_init(&b, JOURNAL_ENTRY_MAX);
    ck_assert_int_eq(journal_read(&j, 7, &b, &e), RF_OK);
    ck_assert_uint_eq(b.len, 9);
    ck_assert(memcmp(b.data, "{\"seq\":7}", 9) == 0);
    rf_buf_cleanup(&b);
    ck_assert_int_eq(journal_remove(&j, 3, &e), RF_OK);
    ck_assert_int_eq(journal_remove(&j, 3, &e), RF_OK); /* already gone: fine */
    ck_assert_uint_eq(j.n, 1);
    ck_assert_int_eq(journal_remove(&j, 7, &e), RF_OK);
    journal_close(&j);
    ck_assert_int_eq(journal_open(&j, dir, &e), RF_OK);
    ck_assert_uint_eq(j.n, 0);

    /* full: the oldest go first (caps lowered to keep the test quick) */
    ck_assert_uint_eq(j.max_entries, JOURNAL_MAX_ENTRIES);
    j.max_entries = 5;
    j.max_bytes = 9;
    for (int64_t s = 1; s <= 8; s++)
        ck_assert_int_eq(journal_append(&j, s, "{}", 2, &ev, &e), RF_OK);
    ck_assert_uint_eq(j.n, 4); /* 9 bytes hold four entries of 2 */
    ck_assert_int_eq(j.dropped, 4);
    ck_assert_int_eq(j.e[0].seq, 5);
    ck_assert(!journal_has(&j, 4));
    ck_assert_int_eq(journal_append(&j, 9, "12345678", 8, &ev, &e), RF_OK);
    ck_assert_uint_eq(ev, 4);
    ck_assert_uint_eq(j.n, 1);
    ck_assert_int_eq(journal_append(&j, 99999, "x", JOURNAL_ENTRY_MAX + 1, &ev, &e),
                     RF_ERR_TOO_LARGE);
    ck_assert_int_eq(journal_remove(&j, 9, &e), RF_OK);
    journal_close(&j);
    snprintf(path, sizeof(path), "%s/journal", dir);
    ck_assert_int_eq(rmdir(path), 0);
    ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("agent_journal");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_names);
    tcase_add_test(tc, test_sort);
    tcase_add_loop_test(tc, test_evict, 0, (int)(sizeof(EVICT) / sizeof(EVICT[0])));
    tcase_add_test(tc, test_files);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
