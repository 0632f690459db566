/* The command table: every command's words, options, help text, example and
 * the functions that build its request and render its answer. Adding a
 * command (issue 4's ring preview, events --follow, rollout watch) means one
 * entry here and its functions in a cmd_*.c file. Pure data plus the small
 * cli_request helpers; no I/O. */
#include "cmd.h"

#include <stdarg.h>
#include <stdio.h>

void cli_request_init(cli_request *r)
{
    r->method = NULL;
    rf_buf_init(&r->path, 8192);
    r->body = NULL;
    r->upload = NULL;
    r->if_match[0] = '\0';
}

void cli_request_cleanup(cli_request *r)
{
    if (r == NULL) {
        return;
    }
    rf_buf_cleanup(&r->path);
    json_decref(r->body);
    r->body = NULL;
    r->method = NULL;
    r->upload = NULL;
}

char *cli_request_body(const cli_request *r)
{
    if (r->body == NULL) {
        return NULL;
    }
    return json_dumps(r->body, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
}

rf_err cli_request_set(cli_request *r, const char *method, rf_error *err, const char *fmt, ...)
{
    char path[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    r->method = method;
    rf_buf_reset(&r->path);
    if (n < 0 || (size_t)n >= sizeof path || rf_buf_append_str(&r->path, path) != RF_OK) {
        return rf_error_set(err, RF_ERR_TOO_LARGE, "the request URL is too long");
    }
    return RF_OK;
}

static const cli_opt opts_bundle_push[] = {
    {"channel", CLI_OPT_VALUE, "C", 1, "channel the bundle belongs to, e.g. content or driver"},
    {"name", CLI_OPT_VALUE, "N", 1, "bundle name, e.g. sensor-content"},
    {"version", CLI_OPT_VALUE, "V", 1, "bundle version, e.g. 291"},
    {NULL, CLI_OPT_FLAG, NULL, 0, NULL},
};
static const cli_opt opts_channel[] = {
    {"channel", CLI_OPT_VALUE, "C", 0, "only this channel"},
    {NULL, CLI_OPT_FLAG, NULL, 0, NULL},
};
static const cli_opt opts_ring_create[] = {
    {"order", CLI_OPT_VALUE, "K", 1, "position among the rings; the lowest is the canary ring"},
    {"label", CLI_OPT_REPEAT, "k=v", 0, "select devices carrying this label (repeatable)"},
    {"buckets", CLI_OPT_VALUE, "LO-HI", 0, "select devices whose bucket (0-9999) is in LO..HI"},
    {NULL, CLI_OPT_FLAG, NULL, 0, NULL},
};
static const cli_opt opts_rollout_create[] = {
    {"bundle", CLI_OPT_VALUE, "ID", 1, "the bundle to roll out"},
    {"max-failure-rate", CLI_OPT_VALUE, "F", 0,
     "halt when this share of exposed devices fails (0.5 or 50%)"},
    {"min-failed", CLI_OPT_VALUE, "N", 0, "... and at least N distinct devices failed"},
    {"on-halt", CLI_OPT_VALUE, "revert|pause", 0, "what a halt does to exposed devices"},
    {"health-window", CLI_OPT_VALUE, "S", 0, "seconds a device must stay up to count as healthy"},
    {NULL, CLI_OPT_FLAG, NULL, 0, NULL},
};
static const cli_opt opts_rollout_list[] = {
    {"channel", CLI_OPT_VALUE, "C", 0, "only this channel"},
    {"state", CLI_OPT_VALUE, "S", 0,
     "only this state: draft, active, paused, halted, reverted, completed"},
    {NULL, CLI_OPT_FLAG, NULL, 0, NULL},
};
static const cli_opt opts_reason[] = {
    {"reason", CLI_OPT_VALUE, "TEXT", 0, "why; recorded in the event log"},
    {NULL, CLI_OPT_FLAG, NULL, 0, NULL},
};
static const cli_opt opts_events[] = {
    {"rollout", CLI_OPT_VALUE, "ID", 0, "only events of this rollout"},
    {"after", CLI_OPT_VALUE, "ID", 0, "only events after this event id"},
    {"limit", CLI_OPT_VALUE, "N", 0, "at most N events"},
    {NULL, CLI_OPT_FLAG, NULL, 0, NULL},
};

#define ACTION(verb, text, ex)                                                                     \
    {                                                                                              \
        "rollout", verb, "ID", 1, 1, opts_reason, text, NULL, ex, cmd_rollout_action_build,        \
            cmd_rollout_status_render, NULL                                                        \
    }

const cli_command cli_commands[] = {
    {"bundle", "push", "FILE", 1, 1, opts_bundle_push, "Upload a bundle file; prints its id",
     "Sends the file's bytes; the server hashes and signs them. Pushing the same "
     "channel/name/version with the same bytes again returns the existing bundle. "
     "Files over 1 GiB are refused before reading.",
     "ringfence bundle push sensor-291.bin --channel content --name sensor-content --version 291",
     cmd_bundle_push_build, cli_render_id, NULL},
    {"bundle", "list", "", 0, 0, opts_channel, "List bundles, newest first", NULL,
     "ringfence bundle list --channel content", cmd_bundle_list_build, cmd_bundle_list_render,
     NULL},
    {"bundle", "show", "ID", 1, 1, NULL, "Show one bundle", NULL, "ringfence bundle show 12",
     cmd_bundle_show_build, cmd_bundle_show_render, NULL},
    {"ring", "list", "", 0, 0, NULL, "List rings in order, with their device counts", NULL,
     "ringfence ring list", cmd_ring_list_build, cmd_ring_list_render, NULL},
    {"ring", "create", "NAME", 1, 1, opts_ring_create, "Create a ring; prints its id",
     "A device belongs to the first ring, by order, whose labels and bucket range all match. "
     "Without --label and --buckets the ring selects every device.",
     "ringfence ring create canary --order 0 --label ring=canary", cmd_ring_create_build,
     cli_render_id, NULL},
    {"ring", "show", "ID", 1, 1, NULL, "Show one ring", NULL, "ringfence ring show 1",
     cmd_ring_show_build, cmd_ring_show_render, NULL},
    {"ring", "delete", "ID", 1, 1, NULL, "Delete a ring (admin)",
     "Refused while an active, paused or halted rollout uses the ring.", "ringfence ring delete 3",
     cmd_ring_delete_build, cmd_ring_delete_render, NULL},
    {"rollout", "create", "", 0, 0, opts_rollout_create, "Create a draft rollout; prints its id",
     "The plan is the channel's default: every ring in order, promotion by hand. "
     "Policy flags override the server's defaults.",
     "ringfence rollout create --bundle 12 --max-failure-rate 0.5 --on-halt revert",
     cmd_rollout_create_build, cli_render_id, NULL},
    {"rollout", "list", "", 0, 0, opts_rollout_list, "List rollouts", NULL,
     "ringfence rollout list --channel content --state active", cmd_rollout_list_build,
     cmd_rollout_list_render, NULL},
    {"rollout", "status", "ID", 1, 1, NULL, "Show a rollout: state, stages, health, halt figures",
     NULL, "ringfence rollout status 4", cmd_rollout_status_build, cmd_rollout_status_render, NULL},
    ACTION("start", "Start a draft rollout at its first stage", "ringfence rollout start 4"),
    ACTION("promote", "Promote to the next stage; on the last stage, complete",
           "ringfence rollout promote 4 --reason \"canary healthy for 30 minutes\""),
    ACTION("pause", "Pause: no device begins a new install", "ringfence rollout pause 4"),
    ACTION("resume", "Resume a paused rollout", "ringfence rollout resume 4"),
    ACTION("halt", "Halt now; by policy, reverts exposed devices",
           "ringfence rollout halt 4 --reason \"crash reports from canary\""),
    ACTION("revert", "Send every exposed device back to the previous bundle",
           "ringfence rollout revert 4"),
    {"devices", NULL, "", 0, 0, NULL, "List devices: ring, labels, bundles and state, last seen",
     "Device ids are shortened to 8 digits in the table; --json shows them whole.",
     "ringfence devices", cmd_devices_build, cmd_devices_render, NULL},
    {"events", NULL, "", 0, 0, opts_events, "List events, oldest first", NULL,
     "ringfence events --rollout 4 --limit 50", cmd_events_build, cmd_events_render, NULL},
    {"version", NULL, "", 0, 0, NULL, "Print the CLI's version", NULL, "ringfence version", NULL,
     NULL, cmd_version_run},
};

const size_t cli_ncommands = sizeof cli_commands / sizeof cli_commands[0];
