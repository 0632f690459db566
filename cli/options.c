/* The options of each command: name, kind, metavar, whether required, and
 * the one-line help that --help prints. Pure data, shared by the command
 * table in commands.c; the parser and the help text both read it, so what
 * is documented is exactly what is accepted. */
#include "options.h"

#define END                                                                                        \
    {                                                                                              \
        NULL, CLI_OPT_FLAG, NULL, 0, NULL                                                          \
    }

#define IF_VERSION                                                                                 \
    {                                                                                              \
        "if-version", CLI_OPT_VALUE, "N", 0,                                                       \
            "only if it is still at version N, as last shown (default: the version read just "     \
            "before)"                                                                              \
    }

/* The flags that describe a ring, in the order --help lists them. */
#define RING_SELECT                                                                                \
    {"label", CLI_OPT_REPEAT, "k=v", 0, "select devices carrying this label (repeatable)"},        \
        {"buckets", CLI_OPT_VALUE, "LO-HI", 0,                                                     \
         "select devices whose bucket (0-9999) is in LO..HI"},                                     \
        {"member", CLI_OPT_REPEAT, "DEVICE", 0,                                                    \
         "an explicit member (32-hex device id; repeatable, at most 1000)"},                       \
        {"members-only", CLI_OPT_VALUE, "yes|no", 0,                                               \
         "select only the members (default: yes when only members are given)"},                    \
    {                                                                                              \
        "window", CLI_OPT_REPEAT, "'DAYS HH-HH'", 0,                                               \
            "UTC start window, e.g. 'mon-fri 09-17', 'daily 22-06' (repeatable)"                   \
    }
#define RING_CHANGE                                                                                \
    {"no-labels", CLI_OPT_FLAG, NULL, 0, "drop every label from the selector"},                    \
        {"all-buckets", CLI_OPT_FLAG, NULL, 0, "drop the bucket range (every bucket)"},            \
        {"add-member", CLI_OPT_REPEAT, "DEVICE", 0, "add a member, keeping the others"},           \
        {"remove-member", CLI_OPT_REPEAT, "DEVICE", 0, "remove a member"},                         \
        {"no-members", CLI_OPT_FLAG, NULL, 0, "drop every explicit member"},                       \
    {                                                                                              \
        "no-windows", CLI_OPT_FLAG, NULL, 0, "no start windows: installs may begin at any time"    \
    }
#define PLAN_FLAGS                                                                                 \
    {"stage", CLI_OPT_REPEAT, "SPEC", 0,                                                           \
     "a stage, e.g. 'ring=canary,percent=100,bake=10m,min-healthy=2,"                              \
     "max-failure-rate=0.2,promotion=auto,approval' (repeatable, in order)"},                      \
    {                                                                                              \
        "plan", CLI_OPT_VALUE, "FILE.json", 0,                                                     \
            "the stages from a file: a list, or {\"stages\": [...]} as 'channel plan show "        \
            "--json' "                                                                             \
            "prints"                                                                               \
    }

const cli_opt opts_bundle_push[] = {
    {"channel", CLI_OPT_VALUE, "C", 1, "channel the bundle belongs to, e.g. content or driver"},
    {"name", CLI_OPT_VALUE, "N", 1, "bundle name, e.g. sensor-content"},
    {"version", CLI_OPT_VALUE, "V", 1, "bundle version, e.g. 291"},
    END,
};
const cli_opt opts_download[] = {
    {"output", CLI_OPT_VALUE, "FILE", 1, "where to write the bundle (replaced only once verified)"},
    END,
};
const cli_opt opts_channel[] = {
    {"channel", CLI_OPT_VALUE, "C", 0, "only this channel"},
    END,
};
const cli_opt opts_ring_create[] = {
    {"order", CLI_OPT_VALUE, "K", 1, "position among the rings; the lowest is the canary ring"},
    RING_SELECT,
    END,
};
const cli_opt opts_ring_update[] = {
    {"name", CLI_OPT_VALUE, "N", 0, "rename the ring"},
    {"order", CLI_OPT_VALUE, "K", 0, "move the ring (refused while a live rollout uses it)"},
    RING_SELECT,
    RING_CHANGE,
    IF_VERSION,
    END,
};
const cli_opt opts_if_version[] = {
    IF_VERSION,
    END,
};
const cli_opt opts_ring_preview[] = {
    {"id", CLI_OPT_VALUE, "ID", 0, "preview a change to ring ID (the flags say what changes)"},
    {"delete", CLI_OPT_VALUE, "ID", 0, "preview deleting ring ID"},
    {"name", CLI_OPT_VALUE, "N", 0, "with --id: a new name"},
    {"order", CLI_OPT_VALUE, "K", 0, "the (new) ring's order"},
    RING_SELECT,
    RING_CHANGE,
    END,
};
const cli_opt opts_pin[] = {
    {"channel", CLI_OPT_VALUE, "C", 1, "the channel to hold, e.g. content"},
    {"bundle", CLI_OPT_VALUE, "ID", 0,
     "the bundle to hold at (default: the channel's last completed rollout, the N-1)"},
    {"reason", CLI_OPT_VALUE, "TEXT", 0, "why; shown with the pin and in the event log"},
    END,
};
const cli_opt opts_unpin[] = {
    {"channel", CLI_OPT_VALUE, "C", 1, "the channel whose pin to remove"},
    END,
};
const cli_opt opts_pin_list[] = {
    {"channel", CLI_OPT_VALUE, "C", 0, "only pins of this channel"},
    {"device", CLI_OPT_VALUE, "DEVICE", 0, "only pins of this device (32-hex id)"},
    {"ring", CLI_OPT_VALUE, "ID", 0, "only pins of this ring"},
    END,
};
const cli_opt opts_exclude[] = {
    {"reason", CLI_OPT_VALUE, "TEXT", 0, "why; shown with the exclusion and in the event log"},
    END,
};
const cli_opt opts_rollout_create[] = {
    {"bundle", CLI_OPT_VALUE, "ID", 1, "the bundle to roll out"},
    PLAN_FLAGS,
    {"max-failure-rate", CLI_OPT_VALUE, "F", 0,
     "halt when this share of exposed devices fails (0.5 or 50%)"},
    {"min-failed", CLI_OPT_VALUE, "N", 0, "... and at least N distinct devices failed"},
    {"on-halt", CLI_OPT_VALUE, "revert|pause", 0, "what a halt does to exposed devices"},
    {"health-window", CLI_OPT_VALUE, "S", 0, "seconds a device must stay up to count as healthy"},
    END,
};
const cli_opt opts_plan_set[] = {
    PLAN_FLAGS,
    IF_VERSION,
    END,
};
const cli_opt opts_rollout_list[] = {
    {"channel", CLI_OPT_VALUE, "C", 0, "only this channel"},
    {"state", CLI_OPT_VALUE, "S", 0,
     "only this state: draft, active, paused, halted, reverted, completed"},
    END,
};
const cli_opt opts_reason[] = {
    {"reason", CLI_OPT_VALUE, "TEXT", 0, "why; recorded in the event log"},
    IF_VERSION,
    END,
};
const cli_opt opts_approve[] = {
    {"stage", CLI_OPT_VALUE, "K", 0, "the stage to approve (default: the current one)"},
    {"reason", CLI_OPT_VALUE, "TEXT", 0, "why; recorded in the event log"},
    IF_VERSION,
    END,
};
const cli_opt opts_events[] = {
    {"rollout", CLI_OPT_VALUE, "ID", 0, "only events of this rollout"},
    {"after", CLI_OPT_VALUE, "ID", 0, "only events after this event id"},
    {"limit", CLI_OPT_VALUE, "N", 0, "at most N events (not with --follow)"},
    {"follow", CLI_OPT_FLAG, NULL, 0,
     "keep printing new events as they happen (long-polls; Ctrl-C stops)"},
    END,
};
