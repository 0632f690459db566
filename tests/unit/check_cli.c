/* Unit tests for the CLI's pure input side: the command-line parser, option
 * values (labels, buckets, rates, ids), connection settings, URL escaping,
 * and the requests each command builds. Table-driven; no network. */
#include "cli.h"
#include "rf_util.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define MAXV 24

static int argc_of(const char *const *v)
{
    int n = 0;
    while (v[n] != NULL) {
        n++;
    }
    return n;
}

/* Parses {"ringfence", v...}. */
static rf_err parse(const char *const *v, cli_parsed *p, rf_error *err)
{
    char *argv[MAXV + 2];
    argv[0] = "ringfence";
    int n = argc_of(v);
    ck_assert_int_le(n, MAXV);
    for (int i = 0; i < n; i++) {
        argv[i + 1] = (char *)v[i];
    }
    argv[n + 1] = NULL;
    memset(err, 0, sizeof *err);
    return cli_parse(n + 1, argv, cli_commands, cli_ncommands, p, err);
}

/* ---- parser ------------------------------------------------------------ */

typedef struct parse_case {
    const char *argv[MAXV];
    const char *cmd;   /* expected command name, NULL for none */
    const char *error; /* substring of the expected message, NULL for success */
    int json, help;
    const char *pos0;
} parse_case;

static const parse_case parse_cases[] = {
    {{"ring", "list"}, "ring list", NULL, 0, 0, NULL},
    {{"--json", "ring", "list"}, "ring list", NULL, 1, 0, NULL},
    {{"ring", "list", "--json"}, "ring list", NULL, 1, 0, NULL},
    {{"ring", "--json", "list"}, "ring list", NULL, 1, 0, NULL},
    {{"devices"}, "devices", NULL, 0, 0, NULL},
    {{"devices", "--json"}, "devices", NULL, 1, 0, NULL},
    {{"version"}, "version", NULL, 0, 0, NULL},
    {{"ring", "create", "canary", "--order", "0", "--label", "ring=canary", "--label", "s=f"},
     "ring create",
     NULL,
     0,
     0,
     "canary"},
    {{"ring", "create", "--order=3", "broad"}, "ring create", NULL, 0, 0, "broad"},
    {{"bundle", "push", "f.bin", "--channel", "c", "--name", "n", "--version", "1.0"},
     "bundle push",
     NULL,
     0,
     0,
     "f.bin"},
    {{"bundle", "push", "--channel", "c", "--name", "n", "--version", "1", "--", "-f"},
     "bundle push",
     NULL,
     0,
     0,
     "-f"},
    {{"rollout", "promote", "4", "--reason=looks good"}, "rollout promote", NULL, 0, 0, "4"},
    {{"rollout", "halt", "4", "--reason", "--json"}, "rollout halt", NULL, 0, 0, "4"},
    {{"events", "--rollout", "4", "--after", "10", "--limit", "5"}, "events", NULL, 0, 0, NULL},
    /* help never checks required flags or positionals */
    {{"ring", "create", "--help"}, "ring create", NULL, 0, 1, NULL},
    {{"ring", "create", "-h"}, "ring create", NULL, 0, 1, NULL},
    {{"help", "rollout", "status"}, "rollout status", NULL, 0, 1, NULL},
    {{"--help"}, NULL, NULL, 0, 1, NULL},
    {{"ring", "--help"}, NULL, NULL, 0, 1, NULL},
    /* usage errors name the flag or word */
    {{"ring", "create", "canary"}, "ring create", "'ring create' needs --order K", 0, 0, NULL},
    {{"ring", "create", "--order", "1"}, "ring create", "'ring create' needs NAME", 0, 0, NULL},
    {{"ring", "create", "a", "b", "--order", "1"},
     "ring create",
     "unexpected argument 'b'",
     0,
     0,
     NULL},
    {{"ring", "create", "a", "--order", "1", "--order", "2"},
     "ring create",
     "flag --order given twice",
     0,
     0,
     NULL},
    {{"ring", "create", "a", "--order"}, "ring create", "flag --order needs a value", 0, 0, NULL},
    {{"ring", "create", "a", "--order="},
     "ring create",
     "--order needs a non-empty value",
     0,
     0,
     NULL},
    {{"ring", "list", "--bogus"},
     "ring list",
     "unknown flag '--bogus' for 'ring list'",
     0,
     0,
     NULL},
    {{"ring", "list", "-x"}, "ring list", "unknown flag '-x'", 0, 0, NULL},
    {{"--channel", "c", "bundle", "list"}, NULL, "unknown flag '--channel'", 0, 0, NULL},
    {{"--json=1", "ring", "list"}, NULL, "flag --json takes no value", 0, 0, NULL},
    {{"--url", "http://a", "--url", "http://b", "ring", "list"},
     NULL,
     "--url given twice",
     0,
     0,
     NULL},
    {{"ring", "list", "--url"}, "ring list", "flag --url needs a value", 0, 0, NULL},
    {{"bogus"}, NULL, "unknown command 'bogus'", 0, 0, NULL},
    {{"channel", "plan", "show", "content"}, "channel plan show", NULL, 0, 0, "content"},
    {{"channel", "--json", "plan", "set", "driver", "--stage", "ring=canary"},
     "channel plan set",
     NULL,
     1,
     0,
     "driver"},
    {{"channel", "plan"}, NULL, "'channel plan' needs a subcommand", 0, 0, NULL},
    {{"channel", "plan", "bogus"}, NULL, "unknown command 'channel plan bogus'", 0, 0, NULL},
    {{"channel", "plan", "--help"}, NULL, NULL, 0, 1, NULL},
    {{"channel", "plan", "show", "--help"}, "channel plan show", NULL, 0, 1, NULL},
    {{"channel", "plan", "show"}, "channel plan show", "needs NAME", 0, 0, NULL},
    {{"rollout", "watch", "4"}, "rollout watch", NULL, 0, 0, "4"},
    {{"events", "--follow", "--rollout", "4"}, "events", NULL, 0, 0, NULL},
    {{"events", "--follow=yes"}, "events", "flag --follow takes no value", 0, 0, NULL},
    {{"ring", "preview"}, "ring preview", NULL, 0, 0, NULL},
    {{"device", "pin", "9f01", "--channel", "content"}, "device pin", NULL, 0, 0, "9f01"},
    {{"device", "pin", "9f01"}, "device pin", "needs --channel C", 0, 0, NULL},
    {{"ring", "bogus"}, NULL, "unknown command 'ring bogus'", 0, 0, NULL},
    {{"ring"}, NULL, "'ring' needs a subcommand", 0, 0, NULL},
    {{"--json"}, NULL, "missing command", 0, 0, NULL},
    {{NULL}, NULL, "missing command", 0, 0, NULL},
    {{"devices", "extra"}, "devices", "unexpected argument 'extra' for 'devices'", 0, 0, NULL},
    {{"bundle", "push", "--", "-f", "--channel"},
     "bundle push",
     "unexpected argument '--channel'",
     0,
     0,
     NULL},
    {{"bundle", "push", "f", "--channel", "c", "--name", "n"},
     "bundle push",
     "'bundle push' needs --version V",
     0,
     0,
     NULL},
    {{"rollout", "start"}, "rollout start", "'rollout start' needs ID", 0, 0, NULL},
};

START_TEST(test_parse)
{
    const parse_case *c = &parse_cases[_i];
    cli_parsed p;
    rf_error err;
    rf_err rc = parse(c->argv, &p, &err);
    if (c->error != NULL) {
        ck_assert_int_eq(rc, RF_ERR_INVALID);
        ck_assert_msg(strstr(err.message, c->error) != NULL, "case %d: '%s' lacks '%s'", _i,
                      err.message, c->error);
    } else {
        ck_assert_msg(rc == RF_OK, "case %d: %s", _i, err.message);
        ck_assert_int_eq(p.args.json, c->json);
        ck_assert_int_eq(p.args.help, c->help);
    }
    if (c->cmd == NULL) {
        ck_assert_ptr_null(p.cmd);
    } else {
        char name[64];
        ck_assert_ptr_nonnull(p.cmd);
        cli_command_name(p.cmd, name, sizeof name);
        ck_assert_str_eq(name, c->cmd);
    }
    if (c->pos0 != NULL) {
        ck_assert_uint_ge(p.args.npos, 1);
        ck_assert_str_eq(p.args.pos[0], c->pos0);
    }
}
END_TEST

START_TEST(test_parse_details)
{
    cli_parsed p;
    rf_error err;
    const char *v1[] = {"--url",   "http://h:1", "ring",    "create", "c",       "--label", "a=1",
                        "--token", "secret",     "--label", "b=2",    "--order", "7",       NULL};
    ck_assert_int_eq(parse(v1, &p, &err), RF_OK);
    ck_assert_str_eq(p.args.url, "http://h:1");
    ck_assert_str_eq(p.args.token, "secret");
    ck_assert_str_eq(cli_opt_get(&p.args, "order"), "7");
    ck_assert_str_eq(cli_opt_get(&p.args, "label"), "b=2"); /* the last one */
    ck_assert_uint_eq(p.args.nopts, 3);
    ck_assert_int_eq(cli_opt_has(&p.args, "buckets"), 0);

    /* --version is the CLI's own before a command, a bundle's after push */
    const char *v2[] = {"--version", NULL};
    ck_assert_int_eq(parse(v2, &p, &err), RF_OK);
    ck_assert_int_eq(p.args.version, 1);
    ck_assert_ptr_null(p.cmd);
    const char *v3[] = {"bundle", "push", "f",         "--channel", "c",
                        "--name", "n",    "--version", "2",         NULL};
    ck_assert_int_eq(parse(v3, &p, &err), RF_OK);
    ck_assert_int_eq(p.args.version, 0);
    ck_assert_str_eq(cli_opt_get(&p.args, "version"), "2");

    /* a group named without its subcommand still reports the group */
    const char *v4[] = {"rollout", NULL};
    ck_assert_int_eq(parse(v4, &p, &err), RF_ERR_INVALID);
    ck_assert_str_eq(p.group, "rollout");
}
END_TEST

/* ---- values ------------------------------------------------------------ */

typedef struct label_case {
    const char *in;
    const char *key, *value; /* expected, or NULL with error */
    const char *error;
} label_case;

static const label_case label_cases[] = {
    {"ring=canary", "ring", "canary", NULL},
    {"site.eu_1-a=fra 2", "site.eu_1-a", "fra 2", NULL},
    {"k=", "k", "", NULL},
    {"k=a=b", "k", "a=b", NULL},
    {"k=caf\xc3\xa9", "k", "caf\xc3\xa9", NULL},
    {"ring", NULL, NULL, "not of the form key=value"},
    {"=x", NULL, NULL, "key '' must be 1-64"},
    {"Ring=x", NULL, NULL, "key 'Ring' must be 1-64"},
    {"a b=x", NULL, NULL, "must be 1-64"},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=x", NULL, NULL,
     "must be 1-64"},
    {"k=a\tb", NULL, NULL, "printable"},
    {"k=\xff", NULL, NULL, "not valid UTF-8"},
};

START_TEST(test_label)
{
    const label_case *c = &label_cases[_i];
    json_t *labels = json_object();
    rf_error err = {RF_OK, ""};
    rf_err rc = cli_parse_label(c->in, labels, &err);
    if (c->error == NULL) {
        ck_assert_msg(rc == RF_OK, "%s: %s", c->in, err.message);
        ck_assert_str_eq(json_string_value(json_object_get(labels, c->key)), c->value);
        ck_assert_uint_eq(json_object_size(labels), 1);
    } else {
        ck_assert_int_eq(rc, RF_ERR_INVALID);
        ck_assert_msg(strstr(err.message, c->error) != NULL, "%s: %s", c->in, err.message);
        ck_assert_msg(strncmp(err.message, "--label: ", 9) == 0, "%s", err.message);
        ck_assert_uint_eq(json_object_size(labels), 0);
    }
    json_decref(labels);
}
END_TEST

START_TEST(test_label_limits)
{
    json_t *labels = json_object();
    rf_error err = {RF_OK, ""};
    char buf[300];
    for (int i = 0; i < CLI_MAX_LABELS; i++) {
        ck_assert_int_eq(rf_snprintf(buf, sizeof buf, "k%d=v", i), RF_OK);
        ck_assert_int_eq(cli_parse_label(buf, labels, &err), RF_OK);
    }
    ck_assert_int_eq(cli_parse_label("one=more", labels, &err), RF_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.message, "at most 32"));
    ck_assert_int_eq(cli_parse_label("k1=again", labels, &err), RF_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.message, "given twice"));
    json_decref(labels);

    labels = json_object();
    memset(buf, 0, sizeof buf);
    memcpy(buf, "k=", 2);
    memset(buf + 2, 'v', 128);
    ck_assert_int_eq(cli_parse_label(buf, labels, &err), RF_OK); /* 128 is allowed */
    json_object_clear(labels);
    buf[2 + 128] = 'v';
    ck_assert_int_eq(cli_parse_label(buf, labels, &err), RF_ERR_INVALID); /* 129 is not */
    json_decref(labels);
}
END_TEST

typedef struct bucket_case {
    const char *in;
    int ok, lo, hi;
} bucket_case;

static const bucket_case bucket_cases[] = {
    {"0-9999", 1, 0, 9999},
    {"0-0", 1, 0, 0},
    {"17-17", 1, 17, 17},
    {"100-4999", 1, 100, 4999},
    {"5-1", 0, 0, 0},
    {"0-10000", 0, 0, 0},
    {"-1-5", 0, 0, 0},
    {"1", 0, 0, 0},
    {"1-", 0, 0, 0},
    {"-5", 0, 0, 0},
    {"a-b", 0, 0, 0},
    {" 1-2", 0, 0, 0},
    {"1-2 ", 0, 0, 0},
    {"1--2", 0, 0, 0},
    {"+1-2", 0, 0, 0},
    {"", 0, 0, 0},
    {"123456789012345678-1", 0, 0, 0},
};

START_TEST(test_buckets)
{
    const bucket_case *c = &bucket_cases[_i];
    int lo = -7, hi = -7;
    rf_error err = {RF_OK, ""};
    rf_err rc = cli_parse_buckets(c->in, &lo, &hi, &err);
    if (c->ok) {
        ck_assert_msg(rc == RF_OK, "%s: %s", c->in, err.message);
        ck_assert_int_eq(lo, c->lo);
        ck_assert_int_eq(hi, c->hi);
    } else {
        ck_assert_msg(rc == RF_ERR_INVALID, "'%s' accepted", c->in);
        ck_assert_ptr_nonnull(strstr(err.message, "--buckets"));
        ck_assert_int_eq(lo, -7);
    }
}
END_TEST

typedef struct rate_case {
    const char *in;
    int ok;
    double want;
} rate_case;

static const rate_case rate_cases[] = {
    {"0.5", 1, 0.5},    {"1", 1, 1.0},    {"50%", 1, 0.5}, {"100%", 1, 1.0}, {"0.001", 1, 0.001},
    {"2.5%", 1, 0.025}, {"0", 0, 0},      {"0%", 0, 0},    {"1.01", 0, 0},   {"101%", 0, 0},
    {"-0.5", 0, 0},     {"abc", 0, 0},    {"", 0, 0},      {"0.5x", 0, 0},   {"nan", 0, 0},
    {"inf", 0, 0},      {" 0.5", 0, 0},   {"50%%", 0, 0},  {"\t0.5", 0, 0},  {"+0.5", 0, 0},
    {".5", 1, 0.5},     {"1e-1", 1, 0.1},
};

START_TEST(test_rate)
{
    const rate_case *c = &rate_cases[_i];
    double v = -1;
    rf_error err = {RF_OK, ""};
    rf_err rc = cli_parse_rate("max-failure-rate", c->in, &v, &err);
    if (c->ok) {
        ck_assert_msg(rc == RF_OK, "%s: %s", c->in, err.message);
        ck_assert_double_eq_tol(v, c->want, 1e-12);
    } else {
        ck_assert_msg(rc == RF_ERR_INVALID, "'%s' accepted", c->in);
        ck_assert_ptr_nonnull(strstr(err.message, "--max-failure-rate"));
    }
}
END_TEST

START_TEST(test_ids_and_ints)
{
    long long v = 0;
    int present = 1;
    rf_error err = {RF_OK, ""};
    ck_assert_int_eq(cli_parse_id("ID", "12", &v, &err), RF_OK);
    ck_assert_int_eq(v, 12);
    ck_assert_int_eq(cli_parse_id("ID", "9223372036854775807", &v, &err), RF_OK);
    const char *bad[] = {"0", "-1", "1.5", "", "12a", " 1", "+1", "9223372036854775808", NULL};
    for (size_t i = 0; bad[i] != NULL; i++) {
        ck_assert_msg(cli_parse_id("ID", bad[i], &v, &err) == RF_ERR_INVALID, "%s", bad[i]);
        ck_assert_ptr_nonnull(strstr(err.message, "ID: '"));
    }
    cli_args a;
    memset(&a, 0, sizeof a);
    a.opt_name[0] = "order";
    a.opt_val[0] = "42";
    a.nopts = 1;
    ck_assert_int_eq(cli_opt_ll(&a, "order", 0, 100, &v, &present, &err), RF_OK);
    ck_assert_int_eq(present, 1);
    ck_assert_int_eq(v, 42);
    ck_assert_int_eq(cli_opt_ll(&a, "order", 0, 41, &v, &present, &err), RF_ERR_INVALID);
    ck_assert_str_eq(err.message, "--order: '42' is not an integer from 0 to 41");
    ck_assert_int_eq(cli_opt_ll(&a, "limit", 0, 41, &v, &present, &err), RF_OK);
    ck_assert_int_eq(present, 0);
}
END_TEST

/* ---- connection settings ---------------------------------------------- */

typedef struct conf_case {
    cli_conf_in in;
    const char *url, *token; /* expected; token NULL means an error */
} conf_case;

static const conf_case conf_cases[] = {
    {{NULL, NULL, NULL, "t1", NULL}, CLI_DEFAULT_URL, "t1"},
    {{NULL, NULL, NULL, NULL, "adm"}, CLI_DEFAULT_URL, "adm"},
    {{NULL, NULL, NULL, "", "adm"}, CLI_DEFAULT_URL, "adm"},
    {{NULL, NULL, NULL, "t1", "adm"}, CLI_DEFAULT_URL, "t1"},
    {{NULL, "flag", NULL, "t1", "adm"}, CLI_DEFAULT_URL, "flag"},
    {{"http://f", NULL, "http://e", "t", NULL}, "http://f", "t"},
    {{NULL, NULL, "http://e", "t", NULL}, "http://e", "t"},
    {{NULL, NULL, "", "t", NULL}, CLI_DEFAULT_URL, "t"},
    {{NULL, NULL, NULL, NULL, NULL}, CLI_DEFAULT_URL, NULL},
    {{NULL, NULL, NULL, "", ""}, CLI_DEFAULT_URL, NULL},
    {{NULL, "rfu_bad token", NULL, NULL, NULL}, CLI_DEFAULT_URL, NULL},
    {{NULL, "rfu_bad\r\nX-Evil: 1", NULL, NULL, NULL}, CLI_DEFAULT_URL, NULL},
};

START_TEST(test_conf)
{
    const conf_case *c = &conf_cases[_i];
    const char *url = NULL, *token = NULL;
    rf_error err = {RF_OK, ""};
    rf_err rc = cli_resolve_conf(&c->in, &url, &token, &err);
    ck_assert_str_eq(url, c->url);
    if (c->token != NULL) {
        ck_assert_int_eq(rc, RF_OK);
        ck_assert_str_eq(token, c->token);
    } else {
        ck_assert_int_eq(rc, RF_ERR_INVALID);
        ck_assert_msg(strstr(err.message, "rfu_") == NULL, "token in message: %s", err.message);
        ck_assert_msg(strstr(err.message, "token") != NULL, "%s", err.message);
    }
}
END_TEST

/* ---- URLs -------------------------------------------------------------- */

START_TEST(test_url_escape)
{
    static const char *const cases[][2] = {
        {"content", "content"},       {"a b", "a%20b"}, {"A-z_0.9~", "A-z_0.9~"},
        {"x&y=z", "x%26y%3Dz"},       {"1+b", "1%2Bb"}, {"a/b?c#d%", "a%2Fb%3Fc%23d%25"},
        {"caf\xc3\xa9", "caf%C3%A9"}, {"\n", "%0A"},    {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rf_buf b;
        rf_buf_init(&b, 1024);
        ck_assert_int_eq(cli_url_escape(&b, cases[i][0]), RF_OK);
        ck_assert_str_eq(b.data ? b.data : "", cases[i][1]);
        rf_buf_cleanup(&b);
    }
}
END_TEST

START_TEST(test_query)
{
    rf_buf b;
    rf_buf_init(&b, 1024);
    ck_assert_int_eq(rf_buf_append_str(&b, "/v1/x"), RF_OK);
    ck_assert_int_eq(cli_query_add(&b, "a", NULL), RF_OK);
    ck_assert_str_eq(b.data, "/v1/x");
    ck_assert_int_eq(cli_query_add(&b, "channel", "c d"), RF_OK);
    ck_assert_int_eq(cli_query_add(&b, "name", "n&x=1"), RF_OK);
    ck_assert_str_eq(b.data, "/v1/x?channel=c%20d&name=n%26x%3D1");
    rf_buf_cleanup(&b);

    rf_buf_init(&b, 16); /* a path that would not fit fails, not truncates */
    ck_assert_int_eq(rf_buf_append_str(&b, "/v1/x"), RF_OK);
    ck_assert_int_ne(cli_query_add(&b, "channel", "0123456789"), RF_OK);
    rf_buf_cleanup(&b);
}
END_TEST

typedef struct base_case {
    const char *in, *out, *error;
} base_case;

static const base_case base_cases[] = {
    {"http://127.0.0.1:8080", "http://127.0.0.1:8080", NULL},
    {"http://127.0.0.1:8080/", "http://127.0.0.1:8080", NULL},
    {"https://rf.example.com//", "https://rf.example.com", NULL},
    {"http://h/prefix/", "http://h/prefix", NULL},
    {"ftp://h", NULL, "http:// or https://"},
    {"127.0.0.1:8080", NULL, "http:// or https://"},
    {"http://", NULL, "no host"},
    {"http:///x", NULL, "no host"},
    {"http://h/?x=1", NULL, "not allowed"},
    {"http://h/#f", NULL, "not allowed"},
    {"http://h x", NULL, "not allowed"},
    {"http://h\n", NULL, "not allowed"},
};

START_TEST(test_base_url)
{
    const base_case *c = &base_cases[_i];
    rf_buf b;
    rf_buf_init(&b, 4096);
    rf_error err = {RF_OK, ""};
    rf_err rc = cli_base_url(c->in, &b, &err);
    if (c->out != NULL) {
        ck_assert_msg(rc == RF_OK, "%s: %s", c->in, err.message);
        ck_assert_str_eq(b.data, c->out);
    } else {
        ck_assert_int_eq(rc, RF_ERR_INVALID);
        ck_assert_msg(strstr(err.message, c->error) != NULL, "%s: %s", c->in, err.message);
        ck_assert_ptr_nonnull(strstr(err.message, "--url"));
    }
    rf_buf_cleanup(&b);
}
END_TEST

START_TEST(test_redact)
{
    char out[128];
    cli_url_redact("http://127.0.0.1:8080", out, sizeof out);
    ck_assert_str_eq(out, "http://127.0.0.1:8080");
    cli_url_redact("https://alice:s3cret@h:1/p", out, sizeof out);
    ck_assert_str_eq(out, "https://...@h:1/p");
    cli_url_redact("http://h/p@q", out, sizeof out); /* '@' in the path is not userinfo */
    ck_assert_str_eq(out, "http://h/p@q");
}
END_TEST

/* ---- requests ---------------------------------------------------------- */

typedef struct build_case {
    const char *argv[MAXV];
    const char *method, *path;
    const char *body;  /* compact JSON with sorted keys, or NULL for none */
    const char *error; /* substring, for a usage error from the builder */
} build_case;

static const build_case build_cases[] = {
    {{"bundle", "push", "f.bin", "--channel", "content", "--name", "a b&c=d/\xc3\xa9", "--version",
      "1+b"},
     "POST",
     "/v1/bundles?channel=content&name=a%20b%26c%3Dd%2F%C3%A9&version=1%2Bb",
     NULL,
     NULL},
    {{"bundle", "list"}, "GET", "/v1/bundles", NULL, NULL},
    {{"bundle", "list", "--channel", "driver"}, "GET", "/v1/bundles?channel=driver", NULL, NULL},
    {{"bundle", "show", "12"}, "GET", "/v1/bundles/12", NULL, NULL},
    {{"bundle", "show", "0"}, NULL, NULL, NULL, "ID: '0' is not a positive integer"},
    {{"bundle", "show", "../rings"}, NULL, NULL, NULL, "ID: '../rings'"},
    {{"ring", "list"}, "GET", "/v1/rings", NULL, NULL},
    {{"ring", "create", "canary", "--order", "0", "--label", "ring=canary"},
     "POST",
     "/v1/rings",
     "{\"labels\":{\"ring\":\"canary\"},\"name\":\"canary\",\"order\":0}",
     NULL},
    {{"ring", "create", "broad", "--order", "1", "--buckets", "0-4999", "--label", "a=1", "--label",
      "b=2"},
     "POST",
     "/v1/rings",
     "{\"buckets\":[0,4999],\"labels\":{\"a\":\"1\",\"b\":\"2\"},\"name\":\"broad\",\"order\":1}",
     NULL},
    {{"ring", "create", "x", "--order", "-1"}, NULL, NULL, NULL, "--order: '-1' is not an integer"},
    {{"ring", "create", "x", "--order", "1", "--label", "a=1", "--label", "a=2"},
     NULL,
     NULL,
     NULL,
     "--label: key 'a' given twice"},
    {{"ring", "create", "x", "--order", "1", "--buckets", "9-2"}, NULL, NULL, NULL, "--buckets"},
    {{"ring", "create", "\xff", "--order", "1"}, NULL, NULL, NULL, "NAME: not valid UTF-8"},
    {{"rollout", "halt", "4", "--reason", "\xc3"}, NULL, NULL, NULL, "--reason: not valid UTF-8"},
    {{"ring", "show", "3"}, "GET", "/v1/rings/3", NULL, NULL},
    {{"ring", "delete", "3"}, "DELETE", "/v1/rings/3", NULL, NULL},
    {{"rollout", "create", "--bundle", "12"}, "POST", "/v1/rollouts", "{\"bundle_id\":12}", NULL},
    {{"rollout", "create", "--bundle", "12", "--max-failure-rate", "25%", "--min-failed", "2",
      "--on-halt", "pause", "--health-window", "30"},
     "POST",
     "/v1/rollouts",
     "{\"bundle_id\":12,\"policy\":{\"health_window_s\":30,\"max_failure_rate\":0.25,"
     "\"min_failed_devices\":2,\"on_halt\":\"pause\"}}",
     NULL},
    {{"rollout", "create", "--bundle", "12", "--max-failure-rate", "0.3"},
     "POST",
     "/v1/rollouts",
     "{\"bundle_id\":12,\"policy\":{\"max_failure_rate\":0.3}}",
     NULL},
    {{"rollout", "create", "--bundle", "x"}, NULL, NULL, NULL, "--bundle: 'x'"},
    {{"rollout", "create", "--bundle", "1", "--max-failure-rate", "1.5"},
     NULL,
     NULL,
     NULL,
     "--max-failure-rate"},
    {{"rollout", "create", "--bundle", "1", "--min-failed", "0"}, NULL, NULL, NULL, "--min-failed"},
    {{"rollout", "create", "--bundle", "1", "--on-halt", "stop"}, NULL, NULL, NULL, "--on-halt"},
    {{"rollout", "create", "--bundle", "1", "--health-window", "0"},
     NULL,
     NULL,
     NULL,
     "--health-window"},
    {{"rollout", "list"}, "GET", "/v1/rollouts", NULL, NULL},
    {{"rollout", "list", "--state", "active", "--channel", "content"},
     "GET",
     "/v1/rollouts?channel=content&state=active",
     NULL,
     NULL},
    {{"rollout", "list", "--state", "running"}, NULL, NULL, NULL, "--state: 'running'"},
    {{"rollout", "status", "4"}, "GET", "/v1/rollouts/4", NULL, NULL},
    {{"rollout", "start", "4"}, "POST", "/v1/rollouts/4/start", NULL, NULL},
    {{"rollout", "promote", "4"}, "POST", "/v1/rollouts/4/promote", NULL, NULL},
    {{"rollout", "pause", "4"}, "POST", "/v1/rollouts/4/pause", NULL, NULL},
    {{"rollout", "resume", "4"}, "POST", "/v1/rollouts/4/resume", NULL, NULL},
    {{"rollout", "revert", "4"}, "POST", "/v1/rollouts/4/revert", NULL, NULL},
    {{"rollout", "halt", "4", "--reason", "crash \"reports\""},
     "POST",
     "/v1/rollouts/4/halt",
     "{\"reason\":\"crash \\\"reports\\\"\"}",
     NULL},
    {{"rollout", "halt", "x"}, NULL, NULL, NULL, "ID: 'x'"},
    {{"devices"}, "GET", "/v1/devices", NULL, NULL},
    {{"events"}, "GET", "/v1/events", NULL, NULL},
    {{"events", "--rollout", "4", "--after", "10", "--limit", "5"},
     "GET",
     "/v1/events?after=10&limit=5&rollout_id=4",
     NULL,
     NULL},
    {{"events", "--after", "0"}, "GET", "/v1/events?after=0", NULL, NULL},
    {{"events", "--limit", "0"}, NULL, NULL, NULL, "--limit: '0'"},
};

START_TEST(test_build)
{
    const build_case *c = &build_cases[_i];
    cli_parsed p;
    rf_error err;
    ck_assert_msg(parse(c->argv, &p, &err) == RF_OK, "case %d: %s", _i, err.message);
    cli_request req;
    cli_request_init(&req);
    rf_err rc = p.cmd->build(p.cmd, &p.args, &req, &err);
    if (c->error != NULL) {
        ck_assert_int_eq(rc, RF_ERR_INVALID);
        ck_assert_msg(strstr(err.message, c->error) != NULL, "case %d: '%s' lacks '%s'", _i,
                      err.message, c->error);
    } else {
        ck_assert_msg(rc == RF_OK, "case %d: %s", _i, err.message);
        ck_assert_str_eq(req.method, c->method);
        ck_assert_str_eq(req.path.data, c->path);
        if (c->body == NULL) {
            ck_assert_ptr_null(req.body);
        } else {
            char *s = cli_request_body(&req);
            ck_assert_str_eq(s, c->body);
            free(s);
        }
        if (strcmp(p.cmd->group, "bundle") == 0 && strcmp(p.cmd->name, "push") == 0) {
            ck_assert_str_eq(req.upload, "f.bin");
        } else {
            ck_assert_ptr_null(req.upload);
        }
    }
    cli_request_cleanup(&req);
}
END_TEST

static Suite *cli_suite(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("parse");
    tcase_add_loop_test(tc, test_parse, 0, (int)(sizeof parse_cases / sizeof parse_cases[0]));
    tcase_add_test(tc, test_parse_details);
    suite_add_tcase(s, tc);
    tc = tcase_create("values");
    tcase_add_loop_test(tc, test_label, 0, (int)(sizeof label_cases / sizeof label_cases[0]));
    tcase_add_test(tc, test_label_limits);
    tcase_add_loop_test(tc, test_buckets, 0, (int)(sizeof bucket_cases / sizeof bucket_cases[0]));
    tcase_add_loop_test(tc, test_rate, 0, (int)(sizeof rate_cases / sizeof rate_cases[0]));
    tcase_add_test(tc, test_ids_and_ints);
    tcase_add_loop_test(tc, test_conf, 0, (int)(sizeof conf_cases / sizeof conf_cases[0]));
    suite_add_tcase(s, tc);
    tc = tcase_create("url");
    tcase_add_test(tc, test_url_escape);
    tcase_add_test(tc, test_query);
    tcase_add_loop_test(tc, test_base_url, 0, (int)(sizeof base_cases / sizeof base_cases[0]));
    tcase_add_test(tc, test_redact);
    suite_add_tcase(s, tc);
    tc = tcase_create("build");
    tcase_add_loop_test(tc, test_build, 0, (int)(sizeof build_cases / sizeof build_cases[0]));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(cli_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
