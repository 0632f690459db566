/* Unit tests for the agent's configuration: the `key = value` file (comments,
 * blank lines, every error naming its line), flags overriding the file
 * (repeatable keys replaced as a whole), ranges, labels and defaults. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char GOOD[] = "# ringfence agent\n"
                           "server = http://127.0.0.1:8080\n"
                           "\n"
                           "data-dir = /var/lib/ringfence\n"
                           "trusted-root=/etc/ringfence/root.json\n"
                           "label = ring=canary\n"
                           "label = site=fra\n"
                           "heartbeat-interval = 10\n"
                           "crash-dir = /var/crash\n"
                           "enroll-key = s3cret\n";

START_TEST(test_file_parsed)
{
    agent_config c;
    rf_error e = {0};
    json_t *labels;

    config_init(&c);
    ck_assert_msg(config_parse_text(&c, GOOD, "agent.conf", &e) == RF_OK, "%s", e.message);
    ck_assert_int_eq(config_finish(&c, &e), RF_OK);
    ck_assert_str_eq(c.server, "http://127.0.0.1:8080");
    ck_assert_str_eq(c.trusted_root, "/etc/ringfence/root.json");
    ck_assert_int_eq(c.heartbeat_interval_s, 10);
    ck_assert_int_eq(c.health_window_s, 300);
    ck_assert_int_eq(c.hook_timeout_s, 300);
    ck_assert_str_eq(c.boot_id_file, "/proc/sys/kernel/random/boot_id");
    ck_assert_uint_eq(c.ncrash_dirs, 1);
    ck_assert_str_eq(c.enroll_key, "s3cret");
    labels = config_labels_json(&c);
    ck_assert_str_eq(json_string_value(json_object_get(labels, "ring")), "canary");
    ck_assert_str_eq(json_string_value(json_object_get(labels, "site")), "fra");
    json_decref(labels);
    config_cleanup(&c);
}
END_TEST

typedef struct bad_case {
    const char *text;
    const char *named;
} bad_case;

static const bad_case BAD[] = {
    {"server = http://x\nfrobnicate = 1\n", "line 2: unknown key 'frobnicate'"},
    {"server http://x\n", "line 1: expected `key = value`"},
    {"server-key = /etc/ringfence/server.pub\n", "line 1: unknown key 'server-key'"},
    {"\n\nserver = http://x\nserver = http://y\n", "line 4: server given twice"},
    {"heartbeat-interval = 0\n", "line 1: heartbeat-interval must be an integer in [1, 3600]"},
    {"heartbeat-interval = 10s\n", "line 1: heartbeat-interval"},
    {"health-window = -1\n", "line 1: health-window"},
    {"label = ring\n", "line 1: label must be k=v"},
    {"label = Ring=x\n", "line 1: label key 'Ring'"},
    {"label = a=1\nlabel = a=2\n", "line 2: label 'a' given twice"},
    {"server =\n", "line 1: server needs a value"},
    {"log-level = loud\n", "line 1: log-level"},
};

START_TEST(test_file_errors_name_the_line)
{
    agent_config c;
    rf_error e = {0};

    config_init(&c);
    ck_assert_int_eq(config_parse_text(&c, BAD[_i].text, "agent.conf", &e), RF_ERR_INVALID);
    ck_assert_msg(strstr(e.message, BAD[_i].named) != NULL, "'%s' not in '%s'", BAD[_i].named,
                  e.message);
    ck_assert_ptr_nonnull(strstr(e.message, "agent.conf"));
    config_cleanup(&c);
}
END_TEST

START_TEST(test_flags_override_file)
{
    char path[] = "/tmp/check_agent_config.XXXXXX";
    int fd = mkstemp(path);
    char *argv[] = {
        "--server", "http://override:9",  "--label",  "ring=broad", "--crash-dir",
        "/tmp/a",   "--crash-dir=/tmp/b", "--config", path,         "--health-window=0"};
    agent_config c;
    rf_error e = {0};
    bool help = true;
    FILE *f = fdopen(fd, "w");

    fputs(GOOD, f);
    fclose(f);
    config_init(&c);
    ck_assert_msg(config_from_args(&c, 10, argv, &help, &e) == RF_OK, "%s", e.message);
    ck_assert(!help);
    ck_assert_int_eq(config_finish(&c, &e), RF_OK);
    ck_assert_str_eq(c.server, "http://override:9");
    ck_assert_str_eq(c.data_dir, "/var/lib/ringfence"); /* from the file */
    ck_assert_uint_eq(c.nlabels, 1);                    /* the flag list replaces the file's */
    ck_assert_str_eq(c.labels[0], "ring=broad");
    ck_assert_uint_eq(c.ncrash_dirs, 2);
    ck_assert_str_eq(c.crash_dirs[1], "/tmp/b");
    ck_assert_int_eq(c.health_window_s, 0); /* 0 is a choice, not "unset" */
    ck_assert_int_eq(c.heartbeat_interval_s, 10);
    config_cleanup(&c);
    unlink(path);
}
END_TEST

START_TEST(test_flag_errors)
{
    char *unknown[] = {"--serverr", "http://x"};
    char *dangling[] = {"--server"};
    char *stray[] = {"extra"};
    char *help_args[] = {"--server", "http://x", "--help"};
    char *missing[] = {"--server", "http://x", "--data-dir", "/tmp/d"};
    agent_config c;
    rf_error e = {0};
    bool help = false;

    config_init(&c);
    ck_assert_int_eq(config_from_args(&c, 2, unknown, &help, &e), RF_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(e.message, "--serverr"));
    config_cleanup(&c);
    config_init(&c);
    ck_assert_int_eq(config_from_args(&c, 1, dangling, &help, &e), RF_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(e.message, "--server needs a value"));
    config_cleanup(&c);
    config_init(&c);
    ck_assert_int_eq(config_from_args(&c, 1, stray, &help, &e), RF_ERR_INVALID);
    config_cleanup(&c);
    config_init(&c);
    ck_assert_int_eq(config_from_args(&c, 3, help_args, &help, &e), RF_OK);
    ck_assert(help);
    config_cleanup(&c);
    config_init(&c);
    ck_assert_int_eq(config_from_args(&c, 4, missing, &help, &e), RF_OK);
    ck_assert_int_eq(config_finish(&c, &e), RF_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(e.message, "--trusted-root is required"));
    config_cleanup(&c);
    config_cleanup(NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("agent_config");
    TCase *tc = tcase_create("config");
    SRunner *sr;
    int failed;

    unsetenv("RINGFENCE_ENROLL_KEY");
    tcase_add_test(tc, test_file_parsed);
    tcase_add_loop_test(tc, test_file_errors_name_the_line, 0, (int)(sizeof(BAD) / sizeof(BAD[0])));
    tcase_add_test(tc, test_flags_override_file);
    tcase_add_test(tc, test_flag_errors);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
