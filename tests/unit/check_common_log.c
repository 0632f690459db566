/* Unit tests for rf_log: every line is one JSON object with ts, level,
 * component and msg; values are escaped so any input still parses; the level
 * filter works; lines from many threads never interleave. Output is captured
 * by pointing stderr at a temporary file. */
#include "rf_log.h"
#include "rf_buf.h"
#include "rf_util.h"

#include <check.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char cap_path[64];
static int saved_stderr = -1;

static void capture_start(void)
{
    ck_assert_int_eq(rf_snprintf(cap_path, sizeof(cap_path), "/tmp/rf_log_XXXXXX"), RF_OK);
    int fd = mkstemp(cap_path);
    ck_assert_int_ge(fd, 0);
    saved_stderr = dup(STDERR_FILENO);
    ck_assert_int_ge(dup2(fd, STDERR_FILENO), 0);
    close(fd);
}

/* Restores stderr and returns the captured lines as a JSON array of objects;
 * fails the test if any line is not a JSON object. */
static json_t *capture_end(size_t *nlines)
{
    ck_assert_int_ge(dup2(saved_stderr, STDERR_FILENO), 0);
    close(saved_stderr);
    rf_buf b;
    rf_buf_init(&b, 64 << 20);
    ck_assert_int_eq(rf_file_read(cap_path, &b, NULL), RF_OK);
    unlink(cap_path);
    json_t *lines = json_array();
    char *p = b.data;
    *nlines = 0;
    while (*p != '\0') {
        char *nl = strchr(p, '\n');
        ck_assert_msg(nl != NULL, "unterminated line: %s", p);
        *nl = '\0';
        json_error_t e;
        json_t *v = json_loads(p, JSON_REJECT_DUPLICATES, &e);
        ck_assert_msg(json_is_object(v), "not a JSON object line: %s (%s)", p, e.text);
        json_array_append_new(lines, v);
        (*nlines)++;
        p = nl + 1;
    }
    rf_buf_cleanup(&b);
    return lines;
}

static const char *field(json_t *line, const char *key)
{
    return json_string_value(json_object_get(line, key));
}

START_TEST(test_line_shape)
{
    rf_log_set_component("server");
    rf_log_set_level(RF_LOG_DEBUG);
    capture_start();
    rf_log(RF_LOG_INFO, "rollout halted", "rollout", "42", "failed", "2", (char *)NULL);
    size_t n = 0;
    json_t *lines = capture_end(&n);
    ck_assert_uint_eq(n, 1);
    json_t *l = json_array_get(lines, 0);
    ck_assert_str_eq(field(l, "level"), "info");
    ck_assert_str_eq(field(l, "component"), "server");
    ck_assert_str_eq(field(l, "msg"), "rollout halted");
    ck_assert_str_eq(field(l, "rollout"), "42");
    ck_assert_str_eq(field(l, "failed"), "2");
    ck_assert_uint_eq(json_object_size(l), 6);
    /* ts: "YYYY-MM-DDTHH:MM:SS.mmmZ" within a minute of now. */
    const char *ts = field(l, "ts");
    ck_assert_uint_eq(strlen(ts), 24);
    ck_assert_int_eq(ts[19], '.');
    ck_assert_int_eq(ts[23], 'Z');
    char secs[21];
    memcpy(secs, ts, 19);
    memcpy(secs + 19, "Z", 2);
    int64_t t = 0;
    ck_assert_int_eq(rf_time_parse_iso(secs, &t), RF_OK);
    ck_assert_int_lt(llabs(t - rf_now_ms() / 1000), 60);
    json_decref(lines);
}
END_TEST

START_TEST(test_escaping)
{
    rf_log_set_component("agent");
    capture_start();
    rf_log(RF_LOG_WARN, "quote \" backslash \\ newline \n tab \t", "ctl", "a\x01z\x7f", "utf8",
           "caf\xc3\xa9 \xe2\x98\x83", "broken", "x\xff\xc3y", "null", (char *)NULL, "k\"ey", "v",
           (char *)NULL);
    size_t n = 0;
    json_t *lines = capture_end(&n);
    ck_assert_uint_eq(n, 1);
    json_t *l = json_array_get(lines, 0);
    ck_assert_str_eq(field(l, "level"), "warn");
    ck_assert_str_eq(field(l, "msg"), "quote \" backslash \\ newline \n tab \t");
    ck_assert_str_eq(field(l, "ctl"), "a\x01z\x7f");
    ck_assert_str_eq(field(l, "utf8"), "caf\xc3\xa9 \xe2\x98\x83");
    ck_assert_str_eq(field(l, "broken"), "x\xef\xbf\xbd\xef\xbf\xbdy");
    ck_assert(json_is_null(json_object_get(l, "null")));
    ck_assert_str_eq(field(l, "k\"ey"), "v");
    json_decref(lines);
}
END_TEST

START_TEST(test_levels_and_logf)
{
    rf_log_set_component(NULL);
    rf_log_set_level(RF_LOG_WARN);
    capture_start();
    rf_log(RF_LOG_DEBUG, "hidden", (char *)NULL);
    rf_log(RF_LOG_INFO, "hidden", (char *)NULL);
    rf_logf(RF_LOG_INFO, "hidden %d", 1);
    rf_log(RF_LOG_WARN, "shown", (char *)NULL);
    rf_logf(RF_LOG_ERROR, "listening on %s:%d", "127.0.0.1", 8080);
    rf_log_set_level(RF_LOG_DEBUG);
    rf_log(RF_LOG_DEBUG, "now shown", (char *)NULL);
    size_t n = 0;
    json_t *lines = capture_end(&n);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(field(json_array_get(lines, 0), "msg"), "shown");
    ck_assert_str_eq(field(json_array_get(lines, 1), "msg"), "listening on 127.0.0.1:8080");
    ck_assert_str_eq(field(json_array_get(lines, 1), "level"), "error");
    ck_assert_str_eq(field(json_array_get(lines, 2), "level"), "debug");
    ck_assert_ptr_null(json_object_get(json_array_get(lines, 0), "component"));
    json_decref(lines);
}
END_TEST

START_TEST(test_long_values_are_cut)
{
    size_t big = 100000;
    char *v = malloc(big + 1);
    memset(v, 'v', big);
    v[big] = '\0';
    rf_log_set_level(RF_LOG_INFO);
    capture_start();
    rf_log(RF_LOG_INFO, "big", "v", v, (char *)NULL);
    rf_log(RF_LOG_INFO, "many", "a", v, "b", v, "c", v, "d", v, "e", v, "f", v, "g", v, "h", v, "i",
           v, "j", v, (char *)NULL);
    size_t n = 0;
    json_t *lines = capture_end(&n);
    ck_assert_uint_eq(n, 2);
    const char *got = field(json_array_get(lines, 0), "v");
    ck_assert_ptr_nonnull(got);
    ck_assert_uint_lt(strlen(got), 9000);
    ck_assert_ptr_nonnull(strstr(got, "(cut)"));
    /* Ten cut values still exceed the line limit: replaced by a notice. */
    ck_assert_str_eq(field(json_array_get(lines, 1), "msg"), "log line dropped: too long");
    json_decref(lines);
    free(v);
}
END_TEST

#define LOG_THREADS 4
#define LOG_PER_THREAD 300

static void *log_worker(void *arg)
{
    /* Longer than PIPE_BUF, so the kernel alone would not keep lines whole. */
    char id[16], pad[6000];
    snprintf(id, sizeof(id), "%d", (int)(intptr_t)arg);
    memset(pad, 'p', sizeof(pad) - 1);
    pad[sizeof(pad) - 1] = '\0';
    for (int i = 0; i < LOG_PER_THREAD; i++)
        rf_log(RF_LOG_INFO, "tick", "thread", id, "pad", pad, (char *)NULL);
    return NULL;
}

typedef struct pipe_reader {
    int fd;
    rf_buf out;
} pipe_reader;

static void *pipe_drain(void *arg)
{
    pipe_reader *r = arg;
    char chunk[1024]; /* small reads, so the writers often block mid-line */
    ssize_t n;
    while ((n = read(r->fd, chunk, sizeof(chunk))) > 0)
        ck_assert_int_eq(rf_buf_append(&r->out, chunk, (size_t)n), RF_OK);
    return NULL;
}

START_TEST(test_threads_do_not_interleave)
{
    rf_log_set_level(RF_LOG_INFO);
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pipe_reader r = {.fd = fds[0]};
    rf_buf_init(&r.out, 64 << 20);
    pthread_t reader, th[LOG_THREADS];
    ck_assert_int_eq(pthread_create(&reader, NULL, pipe_drain, &r), 0);
    int saved = dup(STDERR_FILENO);
    ck_assert_int_ge(dup2(fds[1], STDERR_FILENO), 0);
    close(fds[1]);
    for (int i = 0; i < LOG_THREADS; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, log_worker, (void *)(intptr_t)i), 0);
    for (int i = 0; i < LOG_THREADS; i++)
        pthread_join(th[i], NULL);
    ck_assert_int_ge(dup2(saved, STDERR_FILENO), 0); /* closes the last write end */
    close(saved);
    pthread_join(reader, NULL);
    close(fds[0]);

    int per[LOG_THREADS] = {0};
    size_t n = 0;
    for (char *p = r.out.data, *nl; p != NULL && *p != '\0'; p = nl + 1, n++) {
        nl = strchr(p, '\n');
        ck_assert_ptr_nonnull(nl);
        *nl = '\0';
        json_t *v = json_loads(p, 0, NULL);
        ck_assert_msg(json_is_object(v), "torn line %zu", n);
        per[field(v, "thread")[0] - '0']++;
        ck_assert_uint_eq(strlen(field(v, "pad")), 5999);
        json_decref(v);
    }
    ck_assert_uint_eq(n, LOG_THREADS * LOG_PER_THREAD);
    for (int i = 0; i < LOG_THREADS; i++)
        ck_assert_int_eq(per[i], LOG_PER_THREAD);
    rf_buf_cleanup(&r.out);
}
END_TEST

static Suite *log_suite(void)
{
    Suite *s = suite_create("common_log");
    TCase *tc = tcase_create("log");
    tcase_add_test(tc, test_line_shape);
    tcase_add_test(tc, test_escaping);
    tcase_add_test(tc, test_levels_and_logf);
    tcase_add_test(tc, test_long_values_are_cut);
    tcase_add_test(tc, test_threads_do_not_interleave);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(log_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
