/* Unit tests for ringfenced's command line (server/config.c): defaults, the
 * environment, flags overriding it, each command's words and flags, and that
 * every refusal names the setting. The environment is a fake table. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static const char *const *fake_env;

static const char *env_get(const char *name)
{
    for (size_t i = 0; fake_env && fake_env[i]; i += 2)
        if (strcmp(fake_env[i], name) == 0)
            return fake_env[i + 1];
    return NULL;
}

/* Parses a NULL-terminated argument list (without argv[0]). */
static rf_err parse(const char *const *env, const char *const *args, config_cli *out, rf_error *e)
{
    char *argv[32];
    int argc = 0;

    fake_env = env;
    argv[argc++] = "ringfenced";
    for (size_t i = 0; args[i] && argc < 31; i++)
        argv[argc++] = (char *)args[i];
    argv[argc] = NULL;
    return config_parse(argc, argv, env_get, out, e);
}

START_TEST(test_defaults)
{
    const char *args[] = {NULL};
    config_cli c;
    rf_error e = {0};

    ck_assert_int_eq(parse(NULL, args, &c, &e), RF_OK);
    ck_assert_int_eq(c.cmd, CMD_SERVE);
    ck_assert_str_eq(c.cfg.listen, "127.0.0.1:8080");
    ck_assert_int_eq(c.cfg.pool_size, 8);
    ck_assert_int_eq(c.cfg.threads, 2);
    ck_assert_uint_eq(c.cfg.max_body, 1u << 20);
    ck_assert_uint_eq(c.cfg.max_bundle, 64u << 20);
    ck_assert_int_eq(c.cfg.eval_interval_ms, 1000);
    ck_assert_int_eq(c.cfg.assignment_ttl_s, 86400);
    ck_assert_str_eq(c.cfg.log_level, "info");
    ck_assert_str_eq(c.cfg.database_url, "");
    /* serve without a database URL is refused, naming the setting. */
    ck_assert_int_eq(config_check(&c, &e), RF_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(e.message, "RINGFENCE_DATABASE_URL"));
}
END_TEST

START_TEST(test_env_then_flags)
{
    const char *env[] = {"RINGFENCE_DATABASE_URL",
                         "postgresql://a@h/db",
                         "RINGFENCE_LISTEN",
                         "0.0.0.0:9000",
                         "RINGFENCE_POOL_SIZE",
                         "4",
                         "RINGFENCE_THREADS",
                         "3",
                         "RINGFENCE_MAX_BUNDLE_BYTES",
                         "1000",
                         "RINGFENCE_EVAL_INTERVAL_MS",
                         "250",
                         "RINGFENCE_LOG_LEVEL",
                         "debug",
                         "RINGFENCE_ENROLL_KEY",
                         "enroll-key-1",
                         "RINGFENCE_KEYS_DIR",
                         "/k",
                         NULL};
    const char *args[] = {"serve",       "--listen", "127.0.0.1:0", "--pool-size=16",
                          "--port-file", "/tmp/p",   NULL};
    config_cli c;
    rf_error e = {0};

    ck_assert_int_eq(parse(env, args, &c, &e), RF_OK);
    ck_assert_str_eq(c.cfg.database_url, "postgresql://a@h/db");
    ck_assert_str_eq(c.cfg.listen, "127.0.0.1:0");
    ck_assert_int_eq(c.cfg.pool_size, 16);
    ck_assert_int_eq(c.cfg.threads, 3);
    ck_assert_uint_eq(c.cfg.max_bundle, 1000);
    ck_assert_int_eq(c.cfg.eval_interval_ms, 250);
    ck_assert_str_eq(c.cfg.log_level, "debug");
    ck_assert_str_eq(c.cfg.enroll_key, "enroll-key-1");
    ck_assert_str_eq(c.cfg.keys_dir, "/k");
    ck_assert_str_eq(c.port_file, "/tmp/p");
    ck_assert_int_eq(config_check(&c, &e), RF_OK);
}
END_TEST

START_TEST(test_commands)
{
    static const struct {
        const char *args[4];
        config_cmd cmd;
    } cases[] = {
        {{"serve"}, CMD_SERVE},
        {{"migrate"}, CMD_MIGRATE},
        {{"token", "create"}, CMD_TOKEN_CREATE},
        {{"keys", "init"}, CMD_KEYS_INIT},
        {{"keys", "rotate-root"}, CMD_KEYS_ROTATE_ROOT},
        {{"keys", "rotate"}, CMD_KEYS_ROTATE},
        {{"keys", "show-root"}, CMD_KEYS_SHOW_ROOT},
        {{"help"}, CMD_HELP},
        {{"--version"}, CMD_VERSION},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        config_cli c;
        rf_error e = {0};
        ck_assert_int_eq(parse(NULL, cases[i].args, &c, &e), RF_OK);
        ck_assert_int_eq(c.cmd, cases[i].cmd);
        ck_assert_int_eq(c.help, 0);
    }
}
END_TEST

START_TEST(test_token_create)
{
    const char *env[] = {"RINGFENCE_DATABASE_URL", "x=y", NULL};
    const char *ok[] = {"token", "create", "--role", "release", "--name", "alice", NULL};
    const char *bad_role[] = {"token", "create", "--role", "root", "--name", "alice", NULL};
    const char *no_name[] = {"token", "create", "--role", "viewer", NULL};
    const char *help[] = {"token", "create", "--help", NULL};
    config_cli c;
    rf_error e = {0};

    ck_assert_int_eq(parse(env, ok, &c, &e), RF_OK);
    ck_assert_int_eq(config_check(&c, &e), RF_OK);
    ck_assert_str_eq(c.role, "release");
    ck_assert_str_eq(c.name, "alice");
    ck_assert_int_eq(parse(env, bad_role, &c, &e), RF_OK);
    ck_assert_int_eq(config_check(&c, &e), RF_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(e.message, "--role"));
    ck_assert_int_eq(parse(env, no_name, &c, &e), RF_OK);
    ck_assert_int_eq(config_check(&c, &e), RF_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(e.message, "--name"));
    ck_assert_int_eq(parse(env, help, &c, &e), RF_OK);
    ck_assert_int_eq(c.help, 1);
    ck_assert_int_eq(c.cmd, CMD_TOKEN_CREATE);
    ck_assert_ptr_nonnull(strstr(config_usage(c.cmd), "--role"));
}
END_TEST

/* The keys commands: what each requires, and the TUF expiry settings. */
START_TEST(test_keys_commands)
{
    static const struct {
        const char *args[9];
        rf_err want;
        const char *names; /* in the message when refused */
    } cases[] = {
        {{"keys", "init", "--out", "/r"}, RF_OK, NULL},
        {{"keys", "init", "--out", "/r", "--root-keys", "5", "--threshold", "3"}, RF_OK, NULL},
        {{"keys", "init"}, RF_ERR_INVALID, "--out"},
        {{"keys", "init", "--out", "/r", "--root-keys", "0"}, RF_ERR_INVALID, "--root-keys"},
        {{"keys", "init", "--out", "/r", "--root-keys", "17"}, RF_ERR_INVALID, "--root-keys"},
        {{"keys", "init", "--out", "/r", "--root-keys", "2", "--threshold", "3"},
         RF_ERR_INVALID,
         "--threshold"},
        {{"keys", "rotate-root", "--old", "/a", "--new", "/b"}, RF_OK, NULL},
        {{"keys", "rotate-root", "--old", "/a"}, RF_ERR_INVALID, "--new"},
        {{"keys", "rotate", "--role", "timestamp", "--root-keys", "/r"}, RF_OK, NULL},
        {{"keys", "rotate", "--role", "director", "--root-keys", "/r"}, RF_OK, NULL},
        {{"keys", "rotate", "--role", "root", "--root-keys", "/r"}, RF_ERR_INVALID, "--role"},
        {{"keys", "rotate", "--role", "targets"}, RF_ERR_INVALID, "--root-keys"},
        {{"keys", "show-root"}, RF_OK, NULL},
        {{"keys", "show-root", "--out", "/r"}, RF_ERR_INVALID, "--out"},
        {{"migrate", "--threshold", "2"}, RF_ERR_INVALID, "--threshold"},
    };
    const char *env[] = {"RINGFENCE_DATABASE_URL", "x=y", "RINGFENCE_KEYS_DIR", "/k", NULL};

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        config_cli c;
        rf_error e = {0};
        ck_assert_msg(parse(env, cases[i].args, &c, &e) == RF_OK, "case %zu: %s", i, e.message);
        ck_assert_msg(config_check(&c, &e) == cases[i].want, "case %zu: %s", i, e.message);
        if (cases[i].names != NULL)
            ck_assert_msg(strstr(e.message, cases[i].names) != NULL, "case %zu: %s", i, e.message);
    }
}
END_TEST

START_TEST(test_tuf_expiry_settings)
{
    const char *env[] = {"RINGFENCE_TUF_TIMESTAMP_EXPIRY_S", "30", NULL};
    const char *args[] = {"--tuf-snapshot-expiry-s", "120", NULL};
    config_cli c;
    rf_error e = {0};

    ck_assert_int_eq(parse(NULL, (const char *[]){NULL}, &c, &e), RF_OK);
    ck_assert_int_eq(c.cfg.tuf_root_expiry_s, 365 * 86400);
    ck_assert_int_eq(c.cfg.tuf_targets_expiry_s, 90 * 86400);
    ck_assert_int_eq(c.cfg.tuf_snapshot_expiry_s, 7 * 86400);
    ck_assert_int_eq(c.cfg.tuf_timestamp_expiry_s, 86400);
    ck_assert_int_eq(parse(env, args, &c, &e), RF_OK);
    ck_assert_int_eq(c.cfg.tuf_timestamp_expiry_s, 30);
    ck_assert_int_eq(c.cfg.tuf_snapshot_expiry_s, 120);
}
END_TEST

START_TEST(test_refusals)
{
    static const struct {
        const char *env[3];
        const char *args[4];
        const char *names;
    } cases[] = {
        {{NULL}, {"--pool-size", "0"}, "RINGFENCE_POOL_SIZE"},
        {{NULL}, {"--pool-size", "abc"}, "--pool-size"},
        {{"RINGFENCE_THREADS", "65"}, {NULL}, "RINGFENCE_THREADS"},
        {{"RINGFENCE_MAX_BUNDLE_BYTES", "-1"}, {NULL}, "RINGFENCE_MAX_BUNDLE_BYTES"},
        {{"RINGFENCE_EVAL_INTERVAL_MS", "10"}, {NULL}, "RINGFENCE_EVAL_INTERVAL_MS"},
        {{"RINGFENCE_LOG_LEVEL", "loud"}, {NULL}, "RINGFENCE_LOG_LEVEL"},
        {{"RINGFENCE_LISTEN", "8080"}, {NULL}, "RINGFENCE_LISTEN"},
        {{NULL}, {"--listen", "h:70000"}, "--listen"},
        {{NULL}, {"--listen"}, "--listen: needs a value"},
        {{NULL}, {"--frobnicate"}, "unknown option '--frobnicate'"},
        {{NULL}, {"explode"}, "unknown command 'explode'"},
        {{NULL}, {"keys"}, "missing subcommand"},
        {{NULL}, {"keys", "show"}, "unexpected argument 'show'"},
        {{NULL}, {"key", "init"}, "'key' is gone"},
        {{"RINGFENCE_TUF_TIMESTAMP_EXPIRY_S", "1"}, {NULL}, "RINGFENCE_TUF_TIMESTAMP_EXPIRY_S"},
        {{NULL}, {"--tuf-root-expiry-s", "x"}, "--tuf-root-expiry-s"},
        {{NULL}, {"migrate", "now"}, "unexpected argument 'now'"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        config_cli c;
        rf_error e = {0};
        ck_assert_msg(parse(cases[i].env, cases[i].args, &c, &e) == RF_ERR_INVALID, "case %zu", i);
        ck_assert_msg(strstr(e.message, cases[i].names) != NULL, "case %zu: %s", i, e.message);
    }
}
END_TEST

START_TEST(test_check_enroll_key)
{
    const char *env[] = {"RINGFENCE_DATABASE_URL", "x=y", "RINGFENCE_ENROLL_KEY", "short", NULL};
    const char *args[] = {NULL};
    const char *args_migrate[] = {"migrate", "--port-file", "/tmp/x", NULL};
    config_cli c;
    rf_error e = {0};

    ck_assert_int_eq(parse(env, args, &c, &e), RF_OK);
    ck_assert_int_eq(config_check(&c, &e), RF_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(e.message, "RINGFENCE_ENROLL_KEY"));
    ck_assert_ptr_null(strstr(e.message, "short")); /* never echo the secret */
    ck_assert_int_eq(parse(env, args_migrate, &c, &e), RF_OK);
    ck_assert_int_eq(config_check(&c, &e), RF_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(e.message, "--port-file"));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_env_then_flags);
    tcase_add_test(tc, test_commands);
    tcase_add_test(tc, test_token_create);
    tcase_add_test(tc, test_refusals);
    tcase_add_test(tc, test_check_enroll_key);
    tcase_add_test(tc, test_keys_commands);
    tcase_add_test(tc, test_tuf_expiry_settings);
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
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
