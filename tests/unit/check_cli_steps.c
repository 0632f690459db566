/* Unit tests for the CLI's two-step requests and the pure helpers behind
 * them: ring update and preview (read the ring, apply the flags), unpin
 * (find the pin to delete), plan files (display members dropped), short
 * device ids, and the one-line summary of an event's before/after.
 * Table-driven; the "server" answers are fixtures, nothing touches a
 * network. */
#include "cli.h"
#include "cmd.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define D1 "9f0123456789abcdef0123456789abcd"
#define D2 "00aa00aa00aa00aa00aa00aa00aa00aa"
#define MAXV 16

static json_t *load(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    ck_assert_msg(j != NULL, "bad fixture: %s", e.text);
    return j;
}

static char *dump(const json_t *j)
{
    return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
}

/* ---- requests of issue 4's commands ------------------------------------ */

typedef struct build_case {
    const char *argv[MAXV];
    const char *method, *path;
    const char *body;  /* compact JSON with sorted keys, or NULL for none */
    const char *error; /* substring, for a usage error from the builder */
} build_case;

static const build_case build_cases[] = {
    {{"events", "--follow", "--after", "7"}, "GET", "/v1/events?after=7", NULL, NULL},
    /* rings: members, windows, update, preview, pins */
    {{"ring", "create", "early", "--order", "1", "--member", D1, "--member", D2, "--window",
      "mon-fri 09-17", "--window", "sat 22-06"},
     "POST",
     "/v1/rings",
     "{\"members\":[\"" D1 "\",\"" D2 "\"],\"name\":\"early\",\"order\":1,\"windows\":["
     "{\"days\":[\"mon\",\"tue\",\"wed\",\"thu\",\"fri\"],\"hours\":[9,17]},"
     "{\"days\":[\"sat\"],\"hours\":[22,24]},{\"days\":[\"sun\"],\"hours\":[0,6]}]}",
     NULL},
    {{"ring", "create", "c", "--order", "0", "--member", D1, "--members-only", "no"},
     "POST",
     "/v1/rings",
     "{\"members\":[\"" D1 "\"],\"members_only\":false,\"name\":\"c\",\"order\":0}",
     NULL},
    {{"ring", "create", "c", "--order", "0", "--member", "9F0123456789ABCDEF0123456789ABCD"},
     NULL,
     NULL,
     NULL,
     "--member: '9F0123456789ABCDEF0123456789ABCD' is not a device id"},
    {{"ring", "create", "c", "--order", "0", "--member", D1, "--member", D1},
     NULL,
     NULL,
     NULL,
     "--member: " D1 " given twice"},
    {{"ring", "create", "c", "--order", "0", "--window", "weekdays 9-5"},
     NULL,
     NULL,
     NULL,
     "--window: 'weekdays 9-5' is not DAYS HOURS"},
    {{"ring", "create", "c", "--order", "0", "--members-only", "maybe"},
     NULL,
     NULL,
     NULL,
     "--members-only: 'maybe' is not yes or no"},
    {{"ring", "update", "2", "--window", "mon 01-02"}, "PUT", "/v1/rings/2", NULL, NULL},
    {{"ring", "update", "2"}, NULL, NULL, NULL, "needs at least one change"},
    {{"ring", "update", "2", "--label", "a=1", "--no-labels"},
     NULL,
     NULL,
     NULL,
     "--label and --no-labels exclude each other"},
    {{"ring", "update", "2", "--buckets", "0-9", "--all-buckets"},
     NULL,
     NULL,
     NULL,
     "exclude each other"},
    {{"ring", "update", "2", "--window", "mon 01-02", "--no-windows"},
     NULL,
     NULL,
     NULL,
     "exclude each other"},
    {{"ring", "update", "2", "--remove-member", "xyz"}, NULL, NULL, NULL, "is not a device id"},
    {{"ring", "preview", "early", "--order", "1", "--buckets", "0-999"},
     "POST",
     "/v1/rings/preview",
     "{\"ring\":{\"buckets\":[0,999],\"name\":\"early\",\"order\":1}}",
     NULL},
    {{"ring", "preview", "--delete", "3"}, "POST", "/v1/rings/preview", "{\"delete\":3}", NULL},
    {{"ring", "preview", "--id", "3", "--window", "daily 00-24"},
     "POST",
     "/v1/rings/preview",
     NULL,
     NULL},
    {{"ring", "preview"}, "POST", "/v1/rings/preview", NULL, NULL},
    {{"ring", "preview", "--delete", "3", "--order", "1"}, NULL, NULL, NULL, "--delete takes no"},
    {{"ring", "preview", "x", "--id", "3"}, NULL, NULL, NULL, "not both"},
    {{"ring", "preview", "x"}, NULL, NULL, NULL, "a new ring needs --order K"},
    {{"ring", "preview", "--label", "a=b"}, NULL, NULL, NULL, "ring flags need NAME"},
    {{"ring", "pin", "3", "--channel", "content", "--bundle", "11", "--reason", "hold"},
     "POST",
     "/v1/pins",
     "{\"bundle_id\":11,\"channel\":\"content\",\"reason\":\"hold\",\"ring_id\":3}",
     NULL},
    {{"ring", "pin", "3", "--channel", "content"},
     "POST",
     "/v1/pins",
     "{\"channel\":\"content\",\"ring_id\":3}",
     NULL},
    {{"ring", "pin", "3", "--channel", "content", "--bundle", "0"}, NULL, NULL, NULL, "--bundle"},
    {{"ring", "unpin", "3", "--channel", "content"}, "DELETE", "/v1/pins/0", NULL, NULL},
    {{"device", "pin", D1, "--channel", "driver"},
     "POST",
     "/v1/pins",
     "{\"channel\":\"driver\",\"device_id\":\"" D1 "\"}",
     NULL},
    {{"device", "pin", "9f01", "--channel", "driver"}, NULL, NULL, NULL, "DEVICE: '9f01'"},
    {{"device", "unpin", D1, "--channel", "driver"}, "DELETE", "/v1/pins/0", NULL, NULL},
    {{"device", "exclude", D1, "--reason", "lab"},
     "POST",
     "/v1/exclusions",
     "{\"device_id\":\"" D1 "\",\"reason\":\"lab\"}",
     NULL},
    {{"device", "include", D1}, "DELETE", "/v1/exclusions/" D1, NULL, NULL},
    {{"device", "include", "../x"}, NULL, NULL, NULL, "DEVICE: '../x' is not a device id"},
    {{"device", "show", D1}, "GET", "/v1/devices/" D1, NULL, NULL},
    {{"device", "list"}, "GET", "/v1/devices", NULL, NULL},
    {{"device", "exclusions"}, "GET", "/v1/exclusions", NULL, NULL},
    {{"pin", "list", "--channel", "content", "--ring", "2"},
     "GET",
     "/v1/pins?channel=content&ring_id=2",
     NULL,
     NULL},
    {{"pin", "list", "--device", D1}, "GET", "/v1/pins?device_id=" D1, NULL, NULL},
    {{"pin", "list", "--device", "abc"}, NULL, NULL, NULL, "--device: 'abc'"},
    {{"pin", "delete", "7"}, "DELETE", "/v1/pins/7", NULL, NULL},
    {{"fleet"}, "GET", "/v1/fleet", NULL, NULL},
    /* plans */
    {{"rollout", "create", "--bundle", "12", "--stage",
      "ring=canary,percent=100,bake=10m,min-healthy=2,max-failure-rate=0.2,promotion=auto,approval",
      "--stage", "ring=2,bake=1h"},
     "POST",
     "/v1/rollouts",
     "{\"bundle_id\":12,\"stages\":[{\"auto_promote\":true,\"bake_s\":600,"
     "\"max_failure_rate\":0.2,\"min_healthy\":2,\"percent\":100,\"require_approval\":true,"
     "\"ring\":\"canary\"},{\"bake_s\":3600,\"ring_id\":2}]}",
     NULL},
    {{"rollout", "create", "--bundle", "12", "--plan", "p.json"},
     "POST",
     "/v1/rollouts",
     "{\"bundle_id\":12}",
     NULL},
    {{"rollout", "create", "--bundle", "12", "--plan", "p.json", "--stage", "ring=a"},
     NULL,
     NULL,
     NULL,
     "--plan and --stage exclude each other"},
    {{"rollout", "create", "--bundle", "12", "--stage", "ring=a,bake=forever"},
     NULL,
     NULL,
     NULL,
     "--stage bake: 'forever' is not a duration"},
    {{"channel", "list"}, "GET", "/v1/channels", NULL, NULL},
    {{"channel", "plan", "show", "content"}, "GET", "/v1/channels/content/plan", NULL, NULL},
    {{"channel", "plan", "show", "Content/x"}, NULL, NULL, NULL, "is not a channel name"},
    {{"channel", "plan", "set", "content", "--stage", "ring=canary,bake=5m,promotion=auto",
      "--stage", "ring=broad,approval=no"},
     "PUT",
     "/v1/channels/content/plan",
     "{\"stages\":[{\"auto_promote\":true,\"bake_s\":300,\"ring\":\"canary\"},"
     "{\"require_approval\":false,\"ring\":\"broad\"}]}",
     NULL},
    {{"channel", "plan", "set", "content"}, NULL, NULL, NULL, "needs --stage SPEC... or --plan"},
    {{"channel", "plan", "reset", "driver"}, "DELETE", "/v1/channels/driver/plan", NULL, NULL},
    /* rollout control */
    {{"rollout", "approve", "4", "--stage", "1", "--reason", "ok"},
     "POST",
     "/v1/rollouts/4/approve",
     "{\"reason\":\"ok\",\"stage\":1}",
     NULL},
    {{"rollout", "approve", "4", "--stage", "64"}, NULL, NULL, NULL, "--stage: '64'"},
    {{"rollout", "abort", "4"}, "POST", "/v1/rollouts/4/abort", NULL, NULL},
    {{"rollout", "health", "4"}, "GET", "/v1/rollouts/4/health", NULL, NULL},
    {{"events", "--rollout", "abc"}, NULL, NULL, NULL, "--rollout: 'abc'"},
};

/* Parses {"ringfence", v...} into p. */
static rf_err parse(const char *const *v, cli_parsed *p, rf_error *err)
{
    char *argv[MAXV + 2] = {"ringfence"};
    int argc = 1;
    while (argc <= MAXV && v[argc - 1] != NULL) {
        argv[argc] = (char *)v[argc - 1];
        argc++;
    }
    return cli_parse(argc, argv, cli_commands, cli_ncommands, p, err);
}

START_TEST(test_build)
{
    const build_case *c = &build_cases[_i];
    cli_parsed p;
    rf_error err = {RF_OK, ""};
    ck_assert_msg(parse(c->argv, &p, &err) == RF_OK, "case %d: %s", _i, err.message);
    cli_request req;
    cli_request_init(&req);
    rf_err rc = p.cmd->build(p.cmd, &p.args, &req, &err);
    if (c->error != NULL) {
        ck_assert_int_eq(rc, RF_ERR_INVALID);
        ck_assert_msg(strstr(err.message, c->error) != NULL, "case %d: '%s' lacks '%s'", _i,
                      err.message, c->error);
        cli_request_cleanup(&req);
        return;
    }
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
    /* Every change to a rollout, ring or plan is guarded by its version. */
    int changes = strcmp(req.method, "GET") != 0;
    int versioned = strcmp(p.cmd->group, "rollout") == 0 || strcmp(p.cmd->group, "channel") == 0 ||
                    (strcmp(p.cmd->group, "ring") == 0 &&
                     (strcmp(p.cmd->name, "update") == 0 || strcmp(p.cmd->name, "delete") == 0));
    ck_assert_msg(req.guard == (changes && versioned && strcmp(p.cmd->name, "create") != 0),
                  "case %d: guard %d", _i, req.guard);
    if (req.guard) {
        ck_assert_ptr_nonnull(req.state_render);
        ck_assert_msg(strncmp(req.fetch_path, "/v1/", 4) == 0, "case %d", _i);
    }
    cli_request_cleanup(&req);
}
END_TEST

/* ---- two-step requests ------------------------------------------------- */

typedef struct step_case {
    const char *argv[MAXV];
    const char *fetch_path; /* what is read first */
    int guard;
    const char *fetched; /* the answer to it */
    const char *path;    /* the request's path once prepared */
    const char *body;    /* and its body (NULL for none) */
    const char *error;   /* or a substring of prepare's message */
} step_case;

static const char *const ring2 =
    "{\"id\": 2, \"name\": \"broad\", \"order\": 1, \"labels\": {\"ring\": \"broad\"},"
    " \"buckets\": [0, 9999], \"members\": [\"" D1 "\"], \"members_only\": false,"
    " \"windows\": [], \"window_open\": true, \"version\": 4, \"devices\": 3,"
    " \"live_rollouts\": [], \"created\": \"2026-11-25T00:00:00Z\"}";
static const char *const ring3 =
    "{\"id\": 3, \"name\": \"lab\", \"order\": 2, \"labels\": {}, \"buckets\": [0, 9999],"
    " \"members\": [\"" D1 "\", \"" D2 "\"], \"members_only\": true, \"windows\": [{\"days\":"
    " [\"sat\"], \"hours\": [1, 2]}], \"version\": 9, \"devices\": 2}";
static const char *const pins =
    "{\"pins\": [{\"id\": 4, \"channel\": \"driver\", \"bundle_id\": 2, \"device_id\": \"" D1 "\","
    " \"ring_id\": null},"
    " {\"id\": 5, \"channel\": \"content\", \"bundle_id\": 11, \"device_id\": \"" D1 "\","
    " \"ring_id\": null},"
    " {\"id\": 6, \"channel\": \"content\", \"bundle_id\": 11, \"device_id\": null,"
    " \"ring_id\": 3, \"ring\": \"lab\"}]}";

static const step_case step_cases[] = {
    /* ring update: the ring as read, changed by the flags, sent whole */
    {{"ring", "update", "2", "--window", "mon 01-02"},
     "/v1/rings/2",
     1,
     NULL,
     "/v1/rings/2",
     "{\"buckets\":[0,9999],\"labels\":{\"ring\":\"broad\"},\"members\":[\"" D1 "\"],"
     "\"members_only\":false,\"name\":\"broad\",\"order\":1,\"windows\":[{\"days\":[\"mon\"],"
     "\"hours\":[1,2]}]}",
     NULL},
    {{"ring", "update", "2", "--name", "wide", "--order", "7", "--no-windows"},
     "/v1/rings/2",
     1,
     NULL,
     "/v1/rings/2",
     "{\"buckets\":[0,9999],\"labels\":{\"ring\":\"broad\"},\"members\":[\"" D1 "\"],"
     "\"members_only\":false,\"name\":\"wide\",\"order\":7,\"windows\":[]}",
     NULL},
    /* a selector change lets the server's members_only default apply */
    {{"ring", "update", "3", "--add-member", D2, "--add-member",
      "11111111111111111111111111111111"},
     "/v1/rings/3",
     1,
     "r3",
     "/v1/rings/3",
     "{\"buckets\":[0,9999],\"labels\":{},\"members\":[\"" D1 "\",\"" D2
     "\",\"11111111111111111111111111111111\"],\"name\":\"lab\",\"order\":2,\"windows\":[{"
     "\"days\":[\"sat\"],\"hours\":[1,2]}]}",
     NULL},
    {{"ring", "update", "3", "--remove-member", D1, "--label", "site=fra", "--members-only", "no"},
     "/v1/rings/3",
     1,
     "r3",
     "/v1/rings/3",
     "{\"buckets\":[0,9999],\"labels\":{\"site\":\"fra\"},\"members\":[\"" D2 "\"],"
     "\"members_only\":false,\"name\":\"lab\",\"order\":2,\"windows\":[{\"days\":[\"sat\"],"
     "\"hours\":[1,2]}]}",
     NULL},
    {{"ring", "update", "3", "--no-members", "--all-buckets", "--no-labels"},
     "/v1/rings/3",
     1,
     "r3",
     "/v1/rings/3",
     "{\"labels\":{},\"members\":[],\"name\":\"lab\",\"order\":2,\"windows\":[{\"days\":[\"sat\"],"
     "\"hours\":[1,2]}]}",
     NULL},
    {{"ring", "update", "3", "--remove-member", "22222222222222222222222222222222"},
     "/v1/rings/3",
     1,
     "r3",
     NULL,
     NULL,
     "--remove-member: 22222222222222222222222222222222 is not a member"},
    /* preview of a change to a ring: its body with its id */
    {{"ring", "preview", "--id", "2", "--buckets", "0-4999"},
     "/v1/rings/2",
     0,
     NULL,
     "/v1/rings/preview",
     "{\"ring\":{\"buckets\":[0,4999],\"id\":2,\"labels\":{\"ring\":\"broad\"},\"members\":[\"" D1
     "\"],\"name\":\"broad\",\"order\":1,\"windows\":[]}}",
     NULL},
    /* preview of the rings as they are */
    {{"ring", "preview"},
     "/v1/rings",
     0,
     "rings",
     "/v1/rings/preview",
     "{\"rings\":[{\"buckets\":[0,9999],\"id\":2,\"labels\":{\"ring\":\"broad\"},\"members\":[\"" D1
     "\"],\"members_only\":false,\"name\":\"broad\",\"order\":1,\"windows\":[]},{\"buckets\":["
     "0,9999],\"id\":3,\"labels\":{},\"members\":[\"" D1 "\",\"" D2 "\"],\"members_only\":true,"
     "\"name\":\"lab\",\"order\":2,\"windows\":[{\"days\":[\"sat\"],\"hours\":[1,2]}]}]}",
     NULL},
    /* unpin: the device's own pin on that channel, not its ring's */
    {{"device", "unpin", D1, "--channel", "content"},
     "/v1/pins?channel=content&device_id=" D1,
     0,
     "pins",
     "/v1/pins/5",
     NULL,
     NULL},
    {{"ring", "unpin", "3", "--channel", "content"},
     "/v1/pins?channel=content&ring_id=3",
     0,
     "pins",
     "/v1/pins/6",
     NULL,
     NULL},
    {{"ring", "unpin", "2", "--channel", "content"},
     "/v1/pins?channel=content&ring_id=2",
     0,
     "pins",
     NULL,
     NULL,
     "ring 2 has no pin on channel 'content'"},
    {{"device", "unpin", D2, "--channel", "driver"},
     "/v1/pins?channel=driver&device_id=" D2,
     0,
     "pins",
     NULL,
     NULL,
     "device " D2 " has no pin on channel 'driver' (a pin of its ring"},
    /* guarded without a second step: the version is all that is read */
    {{"rollout", "promote", "4"}, "/v1/rollouts/4", 1, NULL, "/v1/rollouts/4/promote", NULL, NULL},
    {{"channel", "plan", "set", "content", "--plan", "p.json"},
     "/v1/channels/content/plan",
     1,
     NULL,
     "/v1/channels/content/plan",
     NULL,
     NULL},
    {{"ring", "delete", "3"}, "/v1/rings/3", 1, NULL, "/v1/rings/3", NULL, NULL},
};

START_TEST(test_steps)
{
    const step_case *c = &step_cases[_i];
    cli_parsed p;
    rf_error err = {RF_OK, ""};
    ck_assert_msg(parse(c->argv, &p, &err) == RF_OK, "%d: %s", _i, err.message);
    cli_request req;
    cli_request_init(&req);
    ck_assert_msg(p.cmd->build(p.cmd, &p.args, &req, &err) == RF_OK, "%d: %s", _i, err.message);
    ck_assert_str_eq(req.fetch_path, c->fetch_path);
    ck_assert_int_eq(req.guard, c->guard);
    if (c->fetched == NULL) {
        ck_assert_msg(strcmp(p.cmd->name, "update") != 0 || req.prepare != NULL, "%d", _i);
    }
    const char *text = c->fetched == NULL                 ? ring2
                       : strcmp(c->fetched, "r3") == 0    ? ring3
                       : strcmp(c->fetched, "pins") == 0  ? pins
                       : strcmp(c->fetched, "rings") == 0 ? NULL
                                                          : c->fetched;
    json_t *fetched = NULL;
    if (text != NULL) {
        fetched = load(text);
    } else {
        fetched = json_pack("{s:[oo]}", "rings", load(ring2), load(ring3));
    }
    rf_err rc = req.prepare != NULL ? req.prepare(&p.args, fetched, &req, &err) : RF_OK;
    if (c->error != NULL) {
        ck_assert_int_ne(rc, RF_OK);
        ck_assert_msg(strstr(err.message, c->error) != NULL, "%d: '%s'", _i, err.message);
    } else {
        ck_assert_msg(rc == RF_OK, "%d: %s", _i, err.message);
        ck_assert_str_eq(req.path.data, c->path);
        if (c->body == NULL) {
            ck_assert_ptr_null(req.body);
        } else {
            char *s = cli_request_body(&req);
            ck_assert_str_eq(s, c->body);
            free(s);
        }
    }
    if (strstr(c->fetch_path, "/plan") != NULL) {
        ck_assert_str_eq(req.plan_file, "p.json");
    }
    json_decref(fetched);
    cli_request_cleanup(&req);
}
END_TEST

/* ---- plan files -------------------------------------------------------- */

typedef struct plan_case {
    const char *file;
    const char *want;  /* the stages sent, NULL on error */
    const char *error; /* substring */
} plan_case;

static const plan_case plan_cases[] = {
    {"[{\"ring\": \"canary\", \"bake_s\": 60}]", "[{\"bake_s\":60,\"ring\":\"canary\"}]", NULL},
    /* what `channel plan show --json` prints round-trips */
    {"{\"channel\": \"content\", \"source\": \"stored\", \"version\": 2, \"stages\": "
     "[{\"ring_id\": "
     "1, \"ring\": \"canary\", \"percent\": 100, \"bake_s\": 300, \"min_healthy\": 1, "
     "\"max_failure_rate\": null, \"auto_promote\": true, \"require_approval\": false}], "
     "\"valid\": true, \"problem\": null}",
     "[{\"auto_promote\":true,\"bake_s\":300,\"min_healthy\":1,\"percent\":100,"
     "\"require_approval\":false,\"ring_id\":1}]",
     NULL},
    /* and so do a rollout's stages */
    {"{\"stages\": [{\"index\": 0, \"ring_id\": 1, \"ring\": \"canary\", \"state\": \"done\", "
     "\"started\": \"x\", \"exposed\": 2, \"healthy\": 2, \"failed\": 0, \"silent\": 0, "
     "\"devices\": 2, \"approved_by\": \"bob\", \"approved_at\": \"y\", \"window_open\": true, "
     "\"max_failure_rate\": 0.25}]}",
     "[{\"max_failure_rate\":0.25,\"ring_id\":1}]", NULL},
    /* unknown members are left for the server to name */
    {"[{\"ring\": \"a\", \"speed\": 3}]", "[{\"ring\":\"a\",\"speed\":3}]", NULL},
    {"[]", NULL, "expected a list of stages"},
    {"{\"stages\": 3}", NULL, "expected a list of stages"},
    {"\"canary\"", NULL, "expected a list of stages"},
    {"[{\"ring\": \"a\"}, 7]", NULL, "stages[1] is not an object"},
};

START_TEST(test_plan_file)
{
    const plan_case *c = &plan_cases[_i];
    json_error_t e;
    json_t *doc = json_loads(c->file, JSON_DECODE_ANY, &e);
    ck_assert_msg(doc != NULL, "%s", e.text);
    json_t *stages = NULL;
    rf_error err = {RF_OK, ""};
    rf_err rc = cli_plan_stages(doc, &stages, &err);
    if (c->want == NULL) {
        ck_assert_int_eq(rc, RF_ERR_INVALID);
        ck_assert_ptr_null(stages);
        ck_assert_msg(strstr(err.message, c->error) != NULL, "%s", err.message);
    } else {
        ck_assert_msg(rc == RF_OK, "%s", err.message);
        char *s = dump(stages);
        ck_assert_str_eq(s, c->want);
        free(s);
    }
    json_decref(stages);
    json_decref(doc);
}
END_TEST

/* ---- short device ids -------------------------------------------------- */

typedef struct match_case {
    const char *prefix;
    const char *want;  /* the whole id */
    const char *error; /* substring */
} match_case;

static const match_case match_cases[] = {
    {"9f01", D1, NULL},
    {D1, D1, NULL},
    {"00aa00aa", D2, NULL},
    {"0", NULL, "is the start of 2 device ids"},
    {"ffff", NULL, "no device id starts with 'ffff'"},
    {"9F01", NULL, "is not a device id"},
    {"9f01-", NULL, "is not a device id"},
    {"", NULL, "is not a device id"},
};

START_TEST(test_device_match)
{
    const match_case *c = &match_cases[_i];
    json_t *devices = load("{\"devices\": [{\"id\": \"" D1 "\"}, {\"id\": \"" D2 "\"},"
                           " {\"id\": \"0bad0bad0bad0bad0bad0bad0bad0bad\"}, {\"id\": \"0bad\"},"
                           " {\"id\": null}]}");
    char out[33] = "";
    rf_error err = {RF_OK, ""};
    rf_err rc = cmd_device_match(devices, c->prefix, out, &err);
    if (c->want != NULL) {
        ck_assert_msg(rc == RF_OK, "%s", err.message);
        ck_assert_str_eq(out, c->want);
    } else {
        ck_assert_int_ne(rc, RF_OK);
        ck_assert_msg(strstr(err.message, c->error) != NULL, "%s", err.message);
    }
    json_decref(devices);
}
END_TEST

/* ---- event details ----------------------------------------------------- */

typedef struct details_case {
    const char *data;
    const char *want;
} details_case;

static const details_case details_cases[] = {
    {"null", "-"},
    {"{}", "-"},
    {"{\"stage\": 0, \"failed\": 2}", "failed=2 stage=0"},
    {"{\"before\": {\"state\": \"active\", \"stage\": 0, \"version\": 3},"
     " \"after\": {\"state\": \"paused\", \"stage\": 0, \"version\": 4}, \"reason\": \"night\"}",
     "reason=night; state: active -> paused, version: 3 -> 4"},
    {"{\"before\": null, \"after\": {\"id\": 3}}", "created"},
    {"{\"before\": {\"id\": 3}, \"after\": null}", "deleted"},
    {"{\"before\": {\"a\": 1}, \"after\": {\"a\": 1}}", "no change"},
    {"{\"before\": {\"windows\": []}, \"after\": {\"windows\": [{\"days\": [\"mon\"], "
     "\"hours\": [1, 2]}], \"new\": true}}",
     "new: - -> yes, windows: [] -> [{\"days\":[\"mon\"],\"hours\":[1,2]}]"},
    /* long values are cut, never in the middle of a character */
    {"{\"note\": "
     "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\\u00e9\\u00e9\\u00e9\\u00e9"
     "\\u00e9zzzz\"}",
     "note=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9\xc3\xa9..."},
};

START_TEST(test_event_details)
{
    const details_case *c = &details_cases[_i];
    json_error_t e;
    json_t *data = json_loads(c->data, JSON_DECODE_ANY, &e);
    ck_assert_msg(data != NULL, "%s", e.text);
    rf_buf out;
    rf_buf_init(&out, 4096);
    ck_assert_int_eq(cmd_event_details(data, &out), RF_OK);
    ck_assert_str_eq(out.data, c->want);
    rf_buf_cleanup(&out);
    json_decref(data);
}
END_TEST

START_TEST(test_events_path)
{
    rf_buf p;
    rf_buf_init(&p, 1024);
    ck_assert_int_eq(cmd_events_path(&p, 17, 500, 25, 4), RF_OK);
    ck_assert_str_eq(p.data, "/v1/events?after=17&limit=500&wait=25&rollout_id=4");
    ck_assert_int_eq(cmd_events_path(&p, -1, 0, 0, 0), RF_OK);
    ck_assert_str_eq(p.data, "/v1/events");
    ck_assert_int_eq(cmd_events_path(&p, 0, 0, 30, 0), RF_OK);
    ck_assert_str_eq(p.data, "/v1/events?after=0&wait=30");
    rf_buf_cleanup(&p);
}
END_TEST

/* --if-version pins If-Match to what the user saw; without it the CLI
 * reads the version just before sending (if_match left empty here). */
START_TEST(test_if_version)
{
    static const struct {
        const char *argv[MAXV];
        const char *if_match; /* NULL: a usage error */
    } cases[] = {
        {{"rollout", "promote", "4", "--if-version", "3"}, "3"},
        {{"rollout", "approve", "4", "--if-version=12"}, "12"},
        {{"ring", "update", "2", "--name", "x", "--if-version", "0"}, "0"},
        {{"ring", "delete", "2", "--if-version", "7"}, "7"},
        {{"channel", "plan", "reset", "content", "--if-version", "2"}, "2"},
        {{"rollout", "pause", "4"}, ""},
        {{"rollout", "pause", "4", "--if-version", "-1"}, NULL},
        {{"rollout", "pause", "4", "--if-version", "3a"}, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cli_parsed p;
        rf_error err = {RF_OK, ""};
        ck_assert_msg(parse(cases[i].argv, &p, &err) == RF_OK, "%zu: %s", i, err.message);
        cli_request req;
        cli_request_init(&req);
        rf_err rc = p.cmd->build(p.cmd, &p.args, &req, &err);
        if (cases[i].if_match == NULL) {
            ck_assert_int_eq(rc, RF_ERR_INVALID);
            ck_assert_ptr_nonnull(strstr(err.message, "--if-version"));
        } else {
            ck_assert_msg(rc == RF_OK, "%zu: %s", i, err.message);
            ck_assert_int_eq(req.guard, 1);
            ck_assert_str_eq(req.if_match, cases[i].if_match);
        }
        cli_request_cleanup(&req);
    }
}
END_TEST

static Suite *steps_suite(void)
{
    Suite *s = suite_create("cli_steps");
    TCase *tc = tcase_create("steps");
    tcase_add_loop_test(tc, test_build, 0, (int)(sizeof build_cases / sizeof build_cases[0]));
    tcase_add_loop_test(tc, test_steps, 0, (int)(sizeof step_cases / sizeof step_cases[0]));
    tcase_add_loop_test(tc, test_plan_file, 0, (int)(sizeof plan_cases / sizeof plan_cases[0]));
    tcase_add_loop_test(tc, test_device_match, 0,
                        (int)(sizeof match_cases / sizeof match_cases[0]));
    tcase_add_loop_test(tc, test_event_details, 0,
                        (int)(sizeof details_cases / sizeof details_cases[0]));
    tcase_add_test(tc, test_events_path);
    tcase_add_test(tc, test_if_version);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(steps_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
