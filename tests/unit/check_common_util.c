/* Unit tests for rf_util: ISO times, strict integer parsing, bounded
 * formatting, UTF-8 sequences, and the file helpers (atomic write leaves no
 * temporary files behind, reads respect the buffer cap). */
#include "rf_util.h"

#include <check.h>
#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Epoch values from python3: calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ")). */
static const struct {
    int64_t epoch;
    const char *iso;
} times[] = {
    {0, "1970-01-01T00:00:00Z"},
    {1700000000, "2023-11-14T22:13:20Z"},
    {951825600, "2000-02-29T12:00:00Z"},
    {1709251199, "2024-02-29T23:59:59Z"},
    {-1, "1969-12-31T23:59:59Z"},
    {253402300799LL, "9999-12-31T23:59:59Z"},
    {-62167219200LL, "0000-01-01T00:00:00Z"},
};

START_TEST(test_time_iso_table)
{
    char out[32];
    rf_time_iso(times[_i].epoch, out);
    ck_assert_str_eq(out, times[_i].iso);
    int64_t back = 12345;
    ck_assert_int_eq(rf_time_parse_iso(times[_i].iso, &back), RF_OK);
    ck_assert_int_eq(back, times[_i].epoch);
}
END_TEST

START_TEST(test_time_round_trip_sweep)
{
    char out[32];
    for (int64_t t = -2000000000LL; t < 4000000000LL; t += 7777777) {
        int64_t back = 0;
        rf_time_iso(t, out);
        ck_assert_int_eq(rf_time_parse_iso(out, &back), RF_OK);
        ck_assert_int_eq(back, t);
    }
    /* Out of the four-digit range: clamped, still parseable. */
    rf_time_iso(INT64_MAX, out);
    ck_assert_str_eq(out, "9999-12-31T23:59:59Z");
    rf_time_iso(INT64_MIN, out);
    ck_assert_str_eq(out, "0000-01-01T00:00:00Z");
}
END_TEST

static const char *const bad_times[] = {
    "",
    "2023-11-14T22:13:20",
    "2023-11-14 22:13:20Z",
    "2023-11-14T22:13:20.000Z",
    "2023-11-14T22:13:20+00:00",
    "2023-11-14t22:13:20Z",
    "2023-11-14T22:13:20z",
    " 2023-11-14T22:13:20Z",
    "2023-11-14T22:13:20Z ",
    "2023-11-14T22:13:20ZZ",
    "2023-1-14T22:13:20Z",
    "23-11-14T22:13:20Z",
    "+023-11-14T22:13:20Z",
    "2023-11-1aT22:13:20Z",
    "2023/11/14T22:13:20Z",
    "2023-00-14T22:13:20Z",
    "2023-13-14T22:13:20Z",
    "2023-11-00T22:13:20Z",
    "2023-11-31T22:13:20Z",
    "2023-02-29T00:00:00Z",
    "1900-02-29T00:00:00Z",
    "2024-02-30T00:00:00Z",
    "2023-11-14T24:00:00Z",
    "2023-11-14T23:60:00Z",
    "2023-11-14T23:59:60Z",
    "2023-11-14T-1:59:59Z",
};

START_TEST(test_time_rejects)
{
    int64_t v = 42;
    ck_assert_int_eq(rf_time_parse_iso(bad_times[_i], &v), RF_ERR_INVALID);
    ck_assert_int_eq(v, 42);
}
END_TEST

static const struct {
    const char *s;
    long long min, max;
    rf_err rc;
    long long want;
} lls[] = {
    {"0", 0, 10, RF_OK, 0},
    {"-0", -5, 5, RF_OK, 0},
    {"42", 0, 100, RF_OK, 42},
    {"-42", -100, 0, RF_OK, -42},
    {"007", 0, 10, RF_OK, 7},
    {"9223372036854775807", LLONG_MIN, LLONG_MAX, RF_OK, LLONG_MAX},
    {"-9223372036854775808", LLONG_MIN, LLONG_MAX, RF_OK, LLONG_MIN},
    {"9223372036854775808", LLONG_MIN, LLONG_MAX, RF_ERR_INVALID, 0},
    {"-9223372036854775809", LLONG_MIN, LLONG_MAX, RF_ERR_INVALID, 0},
    {"10", 0, 10, RF_OK, 10},
    {"11", 0, 10, RF_ERR_INVALID, 0},
    {"-1", 0, 10, RF_ERR_INVALID, 0},
    {"", 0, 10, RF_ERR_INVALID, 0},
    {" 1", 0, 10, RF_ERR_INVALID, 0},
    {"1 ", 0, 10, RF_ERR_INVALID, 0},
    {"+1", 0, 10, RF_ERR_INVALID, 0},
    {"1a", 0, 10, RF_ERR_INVALID, 0},
    {"0x10", 0, 100, RF_ERR_INVALID, 0},
    {"--1", -10, 10, RF_ERR_INVALID, 0},
    {"-", -10, 10, RF_ERR_INVALID, 0},
    {"1.0", 0, 10, RF_ERR_INVALID, 0},
    {"1e3", 0, 10000, RF_ERR_INVALID, 0},
    {"\n1", 0, 10, RF_ERR_INVALID, 0},
};

START_TEST(test_parse_ll)
{
    long long v = 777;
    ck_assert_int_eq(rf_parse_ll(lls[_i].s, lls[_i].min, lls[_i].max, &v), lls[_i].rc);
    ck_assert_int_eq(v, lls[_i].rc == RF_OK ? lls[_i].want : 777);
}
END_TEST

START_TEST(test_parse_ll_null)
{
    long long v = 1;
    ck_assert_int_eq(rf_parse_ll(NULL, 0, 10, &v), RF_ERR_INVALID);
}
END_TEST

START_TEST(test_snprintf)
{
    char out[6];
    ck_assert_int_eq(rf_snprintf(out, sizeof(out), "%s", "abcde"), RF_OK);
    ck_assert_str_eq(out, "abcde");
    ck_assert_int_eq(rf_snprintf(out, sizeof(out), "%s", "abcdef"), RF_ERR_TOO_LARGE);
    ck_assert_str_eq(out, "abcde");
    ck_assert_int_eq(rf_snprintf(out, 0, "x"), RF_ERR_TOO_LARGE);
}
END_TEST

static const struct {
    const char *s;
    size_t avail, want;
} utf8[] = {
    {"a", 1, 1},
    {"\x7f", 1, 1},
    {"\xc3\xa9", 2, 2},
    {"\xc3\xa9", 1, 0},
    {"\xc2\x80", 2, 2},
    {"\xc1\xbf", 2, 0},
    {"\xc3(", 2, 0},
    {"\xe2\x98\x83", 3, 3},
    {"\xe0\x80\x80", 3, 0},
    {"\xe0\xa0\x80", 3, 3},
    {"\xed\x9f\xbf", 3, 3},
    {"\xed\xa0\x80", 3, 0},
    {"\xf0\x9f\x98\x80", 4, 4},
    {"\xf0\x8f\xbf\xbf", 4, 0},
    {"\xf4\x8f\xbf\xbf", 4, 4},
    {"\xf4\x90\x80\x80", 4, 0},
    {"\xf5\x80\x80\x80", 4, 0},
    {"\x80", 1, 0},
    {"\xff", 1, 0},
    {"\xf0\x9f\x98", 3, 0},
    {"", 0, 0},
};

START_TEST(test_utf8_char_len)
{
    ck_assert_uint_eq(rf_utf8_char_len(utf8[_i].s, utf8[_i].avail), utf8[_i].want);
}
END_TEST

START_TEST(test_clocks)
{
    ck_assert_int_gt(rf_now_ms(), 1577836800000LL); /* after 2020-01-01 */
    int64_t a = rf_monotonic_ms(), b = rf_monotonic_ms();
    ck_assert_int_ge(b, a);
}
END_TEST

static char tmpdir[64];

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void setup_dir(void)
{
    ck_assert_int_eq(rf_snprintf(tmpdir, sizeof(tmpdir), "/tmp/rf_util_XXXXXX"), RF_OK);
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown_dir(void)
{
    nftw(tmpdir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* Names in dir, sorted, joined with ',' (so leftovers show up in one string). */
static void list_dir(const char *dir, char *out, size_t outlen)
{
    struct dirent **ents = NULL;
    int n = scandir(dir, &ents, NULL, alphasort);
    ck_assert_int_ge(n, 0);
    out[0] = '\0';
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(ents[i]->d_name, ".") != 0 && strcmp(ents[i]->d_name, "..") != 0) {
            int w = snprintf(out + len, outlen - len, "%s%s", len > 0 ? "," : "", ents[i]->d_name);
            ck_assert(w > 0 && (size_t)w < outlen - len);
            len += (size_t)w;
        }
        free(ents[i]);
    }
    free(ents);
}

START_TEST(test_atomic_write)
{
    char path[128], names[512];
    rf_error e = {0};
    snprintf(path, sizeof(path), "%s/state.json", tmpdir);
    ck_assert_int_eq(rf_file_write_atomic(path, "first", 5, 0640, &e), RF_OK);
    ck_assert_int_eq(rf_file_write_atomic(path, "second!", 7, 0600, &e), RF_OK);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0600);
    ck_assert_int_eq(st.st_size, 7);
    rf_buf b;
    rf_buf_init(&b, 1024);
    ck_assert_int_eq(rf_file_read(path, &b, &e), RF_OK);
    ck_assert_str_eq(b.data, "second!");
    list_dir(tmpdir, names, sizeof(names));
    ck_assert_str_eq(names, "state.json");

    /* Failures: the target is a directory (rename fails late), or the
     * directory does not exist. Neither leaves a temporary file. */
    char sub[128], missing[128];
    snprintf(sub, sizeof(sub), "%s/adir", tmpdir);
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    ck_assert_int_eq(rf_file_write_atomic(sub, "x", 1, 0600, &e), RF_ERR_IO);
    ck_assert_ptr_nonnull(strstr(e.message, "rename"));
    snprintf(missing, sizeof(missing), "%s/nope/file", tmpdir);
    ck_assert_int_eq(rf_file_write_atomic(missing, "x", 1, 0600, &e), RF_ERR_IO);
    ck_assert_ptr_nonnull(strstr(e.message, missing));
    list_dir(tmpdir, names, sizeof(names));
    ck_assert_str_eq(names, "adir,state.json");
    list_dir(sub, names, sizeof(names));
    ck_assert_str_eq(names, "");
    ck_assert_int_eq(rf_file_write_atomic("", "x", 1, 0600, &e), RF_ERR_INVALID);
    rf_buf_cleanup(&b);
}
END_TEST

START_TEST(test_atomic_write_relative_path)
{
    char cwd[256], names[512];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
    ck_assert_int_eq(chdir(tmpdir), 0);
    ck_assert_int_eq(rf_file_write_atomic("plain", "p", 1, 0644, NULL), RF_OK);
    ck_assert_int_eq(chdir(cwd), 0);
    list_dir(tmpdir, names, sizeof(names));
    ck_assert_str_eq(names, "plain");
}
END_TEST

START_TEST(test_file_read)
{
    char path[128];
    rf_error e = {0};
    rf_buf b;
    rf_buf_init(&b, 100);
    snprintf(path, sizeof(path), "%s/empty", tmpdir);
    ck_assert_int_eq(rf_file_write_atomic(path, "", 0, 0600, &e), RF_OK);
    ck_assert_int_eq(rf_buf_append_str(&b, "stale"), RF_OK);
    ck_assert_int_eq(rf_file_read(path, &b, &e), RF_OK);
    ck_assert_ptr_nonnull(b.data);
    ck_assert_str_eq(b.data, "");
    ck_assert_uint_eq(b.len, 0);

    char big[101];
    memset(big, 'b', sizeof(big));
    snprintf(path, sizeof(path), "%s/big", tmpdir);
    ck_assert_int_eq(rf_file_write_atomic(path, big, 100, 0600, &e), RF_OK);
    ck_assert_int_eq(rf_file_read(path, &b, &e), RF_OK);
    ck_assert_uint_eq(b.len, 100);
    ck_assert_int_eq(rf_file_write_atomic(path, big, 101, 0600, &e), RF_OK);
    ck_assert_int_eq(rf_file_read(path, &b, &e), RF_ERR_TOO_LARGE);
    ck_assert_ptr_nonnull(strstr(e.message, "larger than 100 bytes"));

    snprintf(path, sizeof(path), "%s/missing", tmpdir);
    ck_assert_int_eq(rf_file_read(path, &b, &e), RF_ERR_NOT_FOUND);
    ck_assert_int_eq(rf_file_read(tmpdir, &b, &e), RF_ERR_IO);
    rf_buf_cleanup(&b);
}
END_TEST

START_TEST(test_copy_str)
{
    char d[4];

    rf_copy_str(d, sizeof(d), "ab");
    ck_assert_str_eq(d, "ab");
    rf_copy_str(d, sizeof(d), "abcdef"); /* cut to n - 1 bytes */
    ck_assert_str_eq(d, "abc");
    rf_copy_str(d, sizeof(d), NULL);
    ck_assert_str_eq(d, "");
    rf_copy_str(d, 1, "x");
    ck_assert_str_eq(d, "");
}
END_TEST

START_TEST(test_mkdirs)
{
    char path[160], file[160];
    rf_error e = {0};
    snprintf(path, sizeof(path), "%s/a/b//c/", tmpdir);
    ck_assert_int_eq(rf_mkdirs(path, 0700, &e), RF_OK);
    ck_assert_int_eq(rf_mkdirs(path, 0700, &e), RF_OK);
    struct stat st;
    snprintf(path, sizeof(path), "%s/a/b/c", tmpdir);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
    snprintf(file, sizeof(file), "%s/a/f", tmpdir);
    ck_assert_int_eq(rf_file_write_atomic(file, "f", 1, 0600, &e), RF_OK);
    snprintf(path, sizeof(path), "%s/a/f/g", tmpdir);
    ck_assert_int_ne(rf_mkdirs(path, 0700, &e), RF_OK);
    ck_assert_int_eq(rf_mkdirs(file, 0700, &e), RF_ERR_IO);
    ck_assert_ptr_nonnull(strstr(e.message, "not a directory"));
    ck_assert_int_eq(rf_mkdirs("", 0700, &e), RF_ERR_INVALID);
}
END_TEST

static Suite *util_suite(void)
{
    Suite *s = suite_create("common_util");
    TCase *tc = tcase_create("util");
    tcase_add_loop_test(tc, test_time_iso_table, 0, sizeof(times) / sizeof(times[0]));
    tcase_add_test(tc, test_time_round_trip_sweep);
    tcase_add_loop_test(tc, test_time_rejects, 0, sizeof(bad_times) / sizeof(bad_times[0]));
    tcase_add_loop_test(tc, test_parse_ll, 0, sizeof(lls) / sizeof(lls[0]));
    tcase_add_test(tc, test_parse_ll_null);
    tcase_add_test(tc, test_snprintf);
    tcase_add_loop_test(tc, test_utf8_char_len, 0, sizeof(utf8) / sizeof(utf8[0]));
    tcase_add_test(tc, test_clocks);
    suite_add_tcase(s, tc);

    TCase *files = tcase_create("files");
    tcase_add_checked_fixture(files, setup_dir, teardown_dir);
    tcase_add_test(files, test_atomic_write);
    tcase_add_test(files, test_atomic_write_relative_path);
    tcase_add_test(files, test_file_read);
    tcase_add_test(files, test_mkdirs);
    tcase_add_test(files, test_copy_str);
    suite_add_tcase(s, files);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(util_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
