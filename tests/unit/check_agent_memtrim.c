/* Unit tests for memtrim: the smaps parser keeps exactly the private,
 * read-only, file-backed mappings with resident pages and no anonymous,
 * swapped, dirty or locked page (table-driven, one mapping per case), keeps
 * several in order, stops at its capacity and skips a mapping with an
 * unreadable line; memtrim_run on this very process drops something and
 * leaves relocated data, the heap and library code working. */
#include "memtrim.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIB "7f0000001000-7f0000003000 r-xp 00002000 fe:00 4242    /usr/lib/libx.so.1"

typedef struct map_case {
    const char *header;
    const char *fields; /* "\n"-separated, each "Name: value kB" */
    bool kept;
} map_case;

static const char CLEAN[] = "Rss: 8 kB\nPrivate_Dirty: 0 kB\nAnonymous: 0 kB\nSwap: 0 kB\n"
                            "Locked: 0 kB\nVmFlags: rd ex mr mw me";

static const map_case MAPS[] = {
    {LIB, CLEAN, true},
    {"7f0000001000-7f0000003000 r--p 00000000 fe:00 4242 /usr/lib/libx.so.1", CLEAN, true},
    {"7f0000001000-7f0000003000 rw-p 00000000 fe:00 4242 /usr/lib/libx.so.1", CLEAN, false},
    {"7f0000001000-7f0000003000 r--s 00000000 fe:00 4242 /usr/lib/libx.so.1", CLEAN, false},
    {"7f0000001000-7f0000003000 rwxp 00000000 fe:00 4242 /usr/lib/libx.so.1", CLEAN, false},
    {"7f0000001000-7f0000003000 ---p 00000000 fe:00 4242 /usr/lib/libx.so.1", CLEAN, false},
    {"7f0000001000-7f0000003000 r--p 00000000 00:00 0 ", CLEAN, false},
    {"7f0000001000-7f0000003000 r-xp 00000000 00:00 0 [vdso]", CLEAN, false},
    {"7f0000001000-7f0000003000 r--p 00000000 fe:00 0 /usr/lib/libx.so.1", CLEAN, false},
    {"7f0000001000-7f0000003000 r-xp 00000000 fe:00 4242 /usr/lib/libx.so.1 (deleted)", CLEAN,
     false},
    {"7f0000001000-7f0000003000 r-xp 00000000 fe:00 4242 /tmp/a lib with spaces.so", CLEAN, true},
    {"7f0000003000-7f0000001000 r-xp 00000000 fe:00 4242 /usr/lib/libx.so.1", CLEAN, false},
    {"7f0000001000 r-xp 00000000 fe:00 4242 /usr/lib/libx.so.1", CLEAN, false},
    {LIB, "Rss: 8 kB\nAnonymous: 4 kB\nSwap: 0 kB\nLocked: 0 kB", false},
    {LIB, "Rss: 8 kB\nAnonymous: 0 kB\nSwap: 4 kB\nLocked: 0 kB", false},
    {LIB, "Rss: 8 kB\nAnonymous: 0 kB\nSwap: 0 kB\nLocked: 8 kB", false},
    {LIB, "Rss: 8 kB\nPrivate_Dirty: 4 kB\nAnonymous: 0 kB\nSwap: 0 kB", false},
    {LIB, "Rss: 0 kB\nAnonymous: 0 kB\nSwap: 0 kB\nLocked: 0 kB", false},
    {LIB, "Rss: 8 kB\nSwap: 0 kB\nLocked: 0 kB", false},      /* no Anonymous line */
    {LIB, "Rss: 8 kB\nAnonymous: 0 kB\nLocked: 0 kB", false}, /* no Swap line */
    {LIB, "Rss: 8 kB\nAnonymous: x kB\nSwap: 0 kB", false},
    {LIB, "Rss: 8 kB\nAnonymous: 0 kB\nSwap: 0 kB\nKSM: 0 kB\nTHPeligible: 0", true},
};

/* Feeds text line by line ("\n"-separated, no trailing newline needed). */
static void feed(memtrim_parser *p, const char *text)
{
    char line[512];

    while (*text) {
        size_t n = strcspn(text, "\n");
        ck_assert_uint_lt(n, sizeof(line));
        memcpy(line, text, n);
        line[n] = '\0';
        memtrim_parser_line(p, line);
        text += n + (text[n] == '\n');
    }
}

START_TEST(test_one_mapping)
{
    const map_case *c = &MAPS[_i];
    memtrim_range r[4];
    memtrim_parser p;

    memtrim_parser_init(&p, r, 4);
    feed(&p, c->header);
    feed(&p, c->fields);
    ck_assert_uint_eq(memtrim_parser_finish(&p), (c->kept ? 1u : 0u));
    if (c->kept) {
        ck_assert(r[0].lo == 0x7f0000001000u);
        ck_assert(r[0].hi == 0x7f0000003000u);
    }
}
END_TEST

START_TEST(test_several_and_capacity)
{
    static const char text[] =
        "1000-2000 r-xp 0 fe:00 7 /lib/a.so\nRss: 4 kB\nAnonymous: 0 kB\nSwap: 0 kB\n"
        "2000-3000 r--p 0 fe:00 7 /lib/a.so\nRss: 4 kB\nAnonymous: 4 kB\nSwap: 0 kB\n"
        "3000-5000 r--p 0 fe:00 7 /lib/a.so\nRss: 4 kB\nAnonymous: 0 kB\nSwap: 0 kB\n"
        "5000-6000 rw-p 0 fe:00 7 /lib/a.so\nRss: 4 kB\nAnonymous: 4 kB\nSwap: 0 kB\n"
        "6000-9000 r-xp 0 fe:00 8 /lib/b.so\nRss: 4 kB\nAnonymous: 0 kB\nSwap: 0 kB";
    memtrim_range r[3];
    memtrim_parser p;

    memtrim_parser_init(&p, r, 3);
    feed(&p, text);
    ck_assert_uint_eq(memtrim_parser_finish(&p), 3);
    ck_assert(r[0].lo == 0x1000 && r[0].hi == 0x2000);
    ck_assert(r[1].lo == 0x3000 && r[1].hi == 0x5000);
    ck_assert(r[2].lo == 0x6000 && r[2].hi == 0x9000);

    memtrim_parser_init(&p, r, 2); /* full: the rest is left alone */
    feed(&p, text);
    ck_assert_uint_eq(memtrim_parser_finish(&p), 2);
    ck_assert(r[1].lo == 0x3000);
}
END_TEST

START_TEST(test_unreadable_line)
{
    memtrim_range r[4];
    memtrim_parser p;

    /* A cut line disqualifies the mapping in hand and whatever the next
     * lines belong to until the next readable header. */
    memtrim_parser_init(&p, r, 4);
    feed(&p, "1000-2000 r-xp 0 fe:00 7 /lib/a.so\nRss: 4 kB\nAnonymous: 0 kB\nSwap: 0 kB");
    memtrim_parser_line(&p, NULL);
    feed(&p, "Locked: 0 kB\nVmFlags: rd ex");
    feed(&p, "2000-3000 r-xp 0 fe:00 7 /lib/a.so\nRss: 4 kB\nAnonymous: 0 kB\nSwap: 0 kB");
    ck_assert_uint_eq(memtrim_parser_finish(&p), 1);
    ck_assert(r[0].lo == 0x2000);

    memtrim_parser_init(&p, r, 4); /* fields before any header are ignored */
    feed(&p, "Rss: 4 kB\nAnonymous: 0 kB\nSwap: 0 kB");
    ck_assert_uint_eq(memtrim_parser_finish(&p), 0);
}
END_TEST

/* Relocated at load time (PIE): these pointers live in copy-on-write pages,
 * which memtrim must never drop. */
static const char *const RELOCATED[] = {"alpha", "beta", "gamma"};

START_TEST(test_run_in_process)
{
    const char *before[3];
    char *heap = malloc(64);
    char buf[64];

    memcpy(before, RELOCATED, sizeof(before));
    ck_assert_ptr_nonnull(heap);
    memcpy(heap, "kept", 5);
    ck_assert_uint_gt(memtrim_run(), 0);
    ck_assert_uint_gt(memtrim_run(), 0); /* again: the code it ran came back */
    ck_assert_mem_eq(before, RELOCATED, sizeof(before));
    ck_assert_str_eq(RELOCATED[1], "beta");
    ck_assert_str_eq(heap, "kept");
    snprintf(buf, sizeof(buf), "%s-%d", RELOCATED[2], 7);
    ck_assert_str_eq(buf, "gamma-7");
    free(heap);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("agent_memtrim");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_loop_test(tc, test_one_mapping, 0, (int)(sizeof(MAPS) / sizeof(MAPS[0])));
    tcase_add_test(tc, test_several_and_capacity);
    tcase_add_test(tc, test_unreadable_line);
    tcase_add_test(tc, test_run_in_process);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
