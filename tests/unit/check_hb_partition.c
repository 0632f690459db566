/* Unit tests for the pure heartbeat partition arithmetic
 * (server/hb_partition.c): UTC day of an instant (before and after midnight,
 * before the epoch), partition names and [lo, hi) ranges across month, year
 * and leap-day boundaries, name parsing (round trip and refusals), and the
 * retention cut-off that decides which days are dropped. */
#include "hb_partition.h"

#include <check.h>
#include <stdlib.h>

#define DAY_S 86400
/* 2026-11-25 00:00:00 UTC */
#define D20261125 20782

START_TEST(day_of_instant)
{
    ck_assert_int_eq(hb_partition_day(0), 0);
    ck_assert_int_eq(hb_partition_day(DAY_S - 1), 0);
    ck_assert_int_eq(hb_partition_day(DAY_S), 1);
    ck_assert_int_eq(hb_partition_day(-1), -1);
    ck_assert_int_eq(hb_partition_day(1795564800), D20261125);
    ck_assert_int_eq(hb_partition_day(1795564800 + DAY_S - 1), D20261125);
}
END_TEST

static const struct {
    int64_t day;
    const char *name, *lo, *hi;
} ranges[] = {
    {0, "heartbeats_p19700101", "1970-01-01 00:00:00+00", "1970-01-02 00:00:00+00"},
    {D20261125, "heartbeats_p20261125", "2026-11-25 00:00:00+00", "2026-11-26 00:00:00+00"},
    {D20261125 + 5, "heartbeats_p20261130", "2026-11-30 00:00:00+00", "2026-12-01 00:00:00+00"},
    {D20261125 + 36, "heartbeats_p20261231", "2026-12-31 00:00:00+00", "2027-01-01 00:00:00+00"},
    {11015, "heartbeats_p20000228", "2000-02-28 00:00:00+00", "2000-02-29 00:00:00+00"},
    {11016, "heartbeats_p20000229", "2000-02-29 00:00:00+00", "2000-03-01 00:00:00+00"},
    {20877, "heartbeats_p20270228", "2027-02-28 00:00:00+00", "2027-03-01 00:00:00+00"},
};

START_TEST(names_and_ranges)
{
    hb_partition p;
    int64_t day = -1;
    ck_assert_int_eq(hb_partition_of_day(ranges[_i].day, &p), 0);
    ck_assert_str_eq(p.name, ranges[_i].name);
    ck_assert_str_eq(p.lo, ranges[_i].lo);
    ck_assert_str_eq(p.hi, ranges[_i].hi);
    ck_assert_int_eq(p.day, ranges[_i].day);
    ck_assert_int_eq(hb_partition_parse(p.name, &day), 0);
    ck_assert_int_eq(day, ranges[_i].day);
}
END_TEST

START_TEST(out_of_range_days)
{
    hb_partition p;
    ck_assert_int_eq(hb_partition_of_day(-1, &p), -1);
    ck_assert_int_eq(hb_partition_of_day(3000000, &p), -1);
}
END_TEST

START_TEST(round_trip_every_day)
{
    hb_partition p;
    for (int64_t d = 0; d < 40000; d++) {
        int64_t back = -1;
        ck_assert_int_eq(hb_partition_of_day(d, &p), 0);
        ck_assert_int_eq(hb_partition_parse(p.name, &back), 0);
        ck_assert_int_eq(back, d);
    }
}
END_TEST

START_TEST(parse_refuses)
{
    static const char *bad[] = {
        "heartbeats_default",
        "heartbeats_p2026112",
        "heartbeats_p202611250",
        "heartbeats_p2026x125",
        "heartbeats_p20261325",
        "heartbeats_p20261100",
        "heartbeats_p20260230",
        "heartbeats_p19691231",
        "heartbeats_p20270229",
        "Heartbeats_p20261125",
        "",
        "heartbeats_p",
    };
    int64_t day = 7;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(hb_partition_parse(bad[i], &day) == -1, "accepted %s", bad[i]);
    ck_assert_int_eq(hb_partition_parse(NULL, &day), -1);
    ck_assert_int_eq(day, 7);
}
END_TEST

static const struct {
    int64_t now_s;
    int days;
    int64_t keep_from;
} cutoffs[] = {
    /* at 2026-11-25 00:00 with 1 day kept, 2026-11-24 is kept (it ends just now - 0) */
    {(int64_t)D20261125 * DAY_S, 1, D20261125 - 1},
    {(int64_t)D20261125 * DAY_S + 1, 1, D20261125 - 1},
    {(int64_t)D20261125 * DAY_S + DAY_S - 1, 1, D20261125 - 1},
    {(int64_t)D20261125 * DAY_S + 12 * 3600, 14, D20261125 - 14},
    {(int64_t)D20261125 * DAY_S, 0, D20261125 - 1}, /* below the minimum: 1 */
    {(int64_t)D20261125 * DAY_S, -5, D20261125 - 1},
    {(int64_t)D20261125 * DAY_S, 30, D20261125 - 30},
};

START_TEST(retention_cutoff)
{
    int64_t keep = hb_partition_keep_from(cutoffs[_i].now_s, cutoffs[_i].days);
    int days = cutoffs[_i].days < 1 ? 1 : cutoffs[_i].days;
    ck_assert_int_eq(keep, cutoffs[_i].keep_from);
    /* every row of a dropped day is older than the retention; the kept day
     * before it is not entirely so */
    ck_assert_int_le((keep - 1 + 1) * DAY_S, cutoffs[_i].now_s - (int64_t)days * DAY_S);
    ck_assert_int_gt((keep + 1) * DAY_S, cutoffs[_i].now_s - (int64_t)days * DAY_S);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hb_partition");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, day_of_instant);
    tcase_add_loop_test(tc, names_and_ranges, 0, (int)(sizeof(ranges) / sizeof(ranges[0])));
    tcase_add_test(tc, out_of_range_days);
    tcase_add_test(tc, round_trip_every_day);
    tcase_add_test(tc, parse_refuses);
    tcase_add_loop_test(tc, retention_cutoff, 0, (int)(sizeof(cutoffs) / sizeof(cutoffs[0])));
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
