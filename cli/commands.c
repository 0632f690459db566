/* The command table: every command's words, options, help text, example and
 * the functions that build its request and render its answer (or, for the
 * few that keep talking, run it). Adding a command means one entry here,
 * its options in options.c and its functions in a cmd_*.c file. Pure data;
 * no I/O. Examples are parsed and built by the unit tests, so they work. */
#include "cmd.h"
#include "options.h"

#include <stddef.h>

#define ACTION(verb, text, details, ex)                                                            \
    {                                                                                              \
        "rollout", verb, "ID", 1, 1, opts_reason, text, details, ex, cmd_rollout_action_build,     \
            cmd_rollout_status_render, NULL                                                        \
    }

#define GUARDED_TEXT                                                                               \
    "The CLI sends the rollout's version as If-Match: the one read just before, or with "          \
    "--if-version the one you last saw (in 'rollout status'). If someone else changed the "        \
    "rollout since, the server refuses (409) and the rollout is shown as it is now."

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
    {"bundle", "download", "ID", 1, 1, opts_download, "Download a bundle's bytes into a file",
     "The bytes are checked against the bundle's length and SHA-256 before FILE is written "
     "(through a temporary file next to it, renamed into place).",
     "ringfence bundle download 12 --output sensor-291.bin", NULL, NULL, cmd_bundle_download_run},

    {"ring", "list", "", 0, 0, NULL, "List rings in order: selector, start windows, devices", NULL,
     "ringfence ring list", cmd_ring_list_build, cmd_ring_list_render, NULL},
    {"ring", "create", "NAME", 1, 1, opts_ring_create, "Create a ring; prints its id",
     "A device belongs to the first ring, by order, that selects it: one of its --member "
     "devices, or (unless --members-only yes) a device whose labels include every --label and "
     "whose bucket is in --buckets. Without any of them the ring selects every device. Start "
     "windows are UTC; outside them no device of the ring begins an install (reverts always "
     "go through). Try 'ringfence ring preview' first to see what the ring would hold.",
     "ringfence ring create canary --order 0 --label ring=canary --window \"mon-fri 09-17\"",
     cmd_ring_create_build, cli_render_id, NULL},
    {"ring", "show", "ID", 1, 1, NULL, "Show one ring: selector, members, windows, devices", NULL,
     "ringfence ring show 1", cmd_ring_show_build, cmd_ring_show_render, NULL},
    {"ring", "update", "ID", 1, 1, opts_ring_update, "Change a ring; only the flags given change",
     "Reads the ring, applies the flags and sends it back whole with its version as If-Match "
     "(409 with the ring as it is now if someone changed it meanwhile). --label, --member and "
     "--window replace the ring's labels, members and windows; --add-member and --remove-member "
     "edit the members. While a live rollout uses the ring, its membership (labels, buckets, "
     "members, order) cannot change and the server refuses, saying which rollout holds it; its "
     "name and windows can always change.",
     "ringfence ring update 2 --window \"mon-thu 02-06\" --add-member "
     "9f0123456789abcdef0123456789abcd",
     cmd_ring_update_build, cmd_ring_show_render, NULL},
    {"ring", "delete", "ID", 1, 1, opts_if_version, "Delete a ring (admin)",
     "Refused while any rollout refers to the ring.", "ringfence ring delete 3",
     cmd_ring_delete_build, cmd_ring_delete_render, NULL},
    {"ring", "preview", "[NAME]", 0, 1, opts_ring_preview,
     "Show what a ring change would do, saving nothing",
     "Devices per ring now and after, devices that would change ring, and overlaps (devices "
     "two rings select; the later ring loses them). With NAME and --order: a new ring. With "
     "--id ID and flags: a change to ring ID. With --delete ID: deleting it. With nothing: the "
     "rings as they are. Says so when saving the change would be refused.",
     "ringfence ring preview early --order 1 --buckets 0-999", cmd_ring_preview_build,
     cmd_ring_preview_render, NULL},
    {"ring", "pin", "ID", 1, 1, opts_pin, "Hold every device of a ring at one bundle (N-1 pin)",
     "Devices of the ring run the pinned bundle of the channel whatever rollouts do, until "
     "'ring unpin'. A device's own pin wins over its ring's.",
     "ringfence ring pin 3 --channel content --bundle 11 --reason \"hold broad at 290\"",
     cmd_ring_pin_build, cmd_pin_render, NULL},
    {"ring", "unpin", "ID", 1, 1, opts_unpin, "Remove a ring's pin on a channel", NULL,
     "ringfence ring unpin 3 --channel content", cmd_unpin_build, cmd_unpin_render, NULL},

    {"channel", "list", "", 0, 0, NULL, "List channels: plan source, live rollout, bundles", NULL,
     "ringfence channel list", cmd_channel_list_build, cmd_channel_list_render, NULL},
    {"channel", "plan show", "NAME", 1, 1, NULL, "Show a channel's default plan",
     "The plan a rollout of the channel follows when it is created without --stage or --plan: "
     "the stored one, or the built-in one (every ring in order; driver bakes a day per stage, "
     "content ten minutes).",
     "ringfence channel plan show content", cmd_plan_show_build, cmd_plan_render, NULL},
    {"channel", "plan set", "NAME", 1, 1, opts_plan_set, "Store a channel's default plan",
     "Stages visit every ring in order from the canary ring, skipping none; a ring may take "
     "several stages with growing percent, its last at 100. Parts of a --stage: ring=NAME|ID, "
     "percent=1-100, bake=DURATION (90s, 10m, 2h, 1d), min-healthy=N, max-failure-rate=RATE "
     "(0.2 or 20%), promotion=auto|manual, approval (a second person must approve). Sent with "
     "the plan's version as If-Match.",
     "ringfence channel plan set content --stage ring=canary,bake=5m,promotion=auto "
     "--stage ring=broad,bake=10m,approval",
     cmd_plan_set_build, cmd_plan_render, NULL},
    {"channel", "plan reset", "NAME", 1, 1, opts_if_version, "Go back to the built-in default plan",
     NULL, "ringfence channel plan reset content", cmd_plan_reset_build, cmd_plan_render, NULL},

    {"rollout", "create", "", 0, 0, opts_rollout_create, "Create a draft rollout; prints its id",
     "Without --stage or --plan the plan is the channel's default ('ringfence channel plan "
     "show'). Parts of a --stage: ring=NAME|ID, percent=1-100, bake=DURATION (90s, 10m, 2h, "
     "1d), min-healthy=N, max-failure-rate=RATE, promotion=auto|manual, approval. Policy flags "
     "override the server's defaults.",
     "ringfence rollout create --bundle 12 --stage "
     "ring=canary,percent=100,bake=10m,min-healthy=2,max-failure-rate=0.2,promotion=auto,"
     "approval --stage ring=broad,bake=1h",
     cmd_rollout_create_build, cli_render_id, NULL},
    {"rollout", "list", "", 0, 0, opts_rollout_list, "List rollouts", NULL,
     "ringfence rollout list --channel content --state active", cmd_rollout_list_build,
     cmd_rollout_list_render, NULL},
    {"rollout", "status", "ID", 1, 1, NULL,
     "Show a rollout: stages, gates and what they wait for, pins and exclusions",
     "Each gate of the current stage (bake, healthy, failures, harm, approval) says whether it "
     "passes and what it waits for, e.g. \"31/50 healthy, need 40\", \"12m left (bake 30m)\", "
     "\"approval pending\".",
     "ringfence rollout status 4", cmd_rollout_status_build, cmd_rollout_status_render, NULL},
    {"rollout", "watch", "ID", 1, 1, NULL, "Follow a rollout live until it ends (Ctrl-C stops)",
     "Redraws the status every second on a terminal; when the output is not a terminal, prints "
     "a new block each time something changes (with --json, one line of JSON). Ends when the "
     "rollout is completed or reverted.",
     "ringfence rollout watch 4", NULL, NULL, cmd_rollout_watch_run},
    {"rollout", "health", "ID", 1, 1, NULL, "Show a rollout's health figures and failed devices",
     NULL, "ringfence rollout health 4", cmd_rollout_health_build, cmd_rollout_health_render, NULL},
    ACTION("start", "Start a draft rollout at its first stage",
           "Refused while another rollout of the channel is live. " GUARDED_TEXT,
           "ringfence rollout start 4"),
    ACTION("promote", "Promote to the next stage; on the last stage, complete",
           "By hand, a promotion overrides the bake, healthy, failures and harm gates (the event "
           "records them as they stood) but never a missing approval. " GUARDED_TEXT,
           "ringfence rollout promote 4 --reason \"canary healthy for 30 minutes\""),
    {"rollout", "approve", "ID", 1, 1, opts_approve,
     "Approve a stage (two-person rule: not by the rollout's creator)",
     "Needed by stages planned with 'approval' before they may leave, by hand or "
     "automatically. " GUARDED_TEXT,
     "ringfence rollout approve 4 --reason \"checked canary crash dashboards\"",
     cmd_rollout_action_build, cmd_rollout_status_render, NULL},
    ACTION("pause", "Pause: no device begins a new install", GUARDED_TEXT,
           "ringfence rollout pause 4"),
    ACTION("resume", "Resume a paused rollout", GUARDED_TEXT, "ringfence rollout resume 4"),
    ACTION("halt", "Halt now; by policy, reverts exposed devices", GUARDED_TEXT,
           "ringfence rollout halt 4 --reason \"crash reports from canary\""),
    ACTION("revert", "Send every exposed device back to the previous bundle", GUARDED_TEXT,
           "ringfence rollout revert 4"),
    ACTION("abort", "Stop for good and send exposed devices back (like revert)", GUARDED_TEXT,
           "ringfence rollout abort 4 --reason \"wrong bundle\""),

    {"devices", NULL, "", 0, 0, NULL, "List devices: ring, labels, bundles, holds, last seen",
     "Device ids are shortened to 8 digits in the table (any command taking DEVICE accepts "
     "them); --json shows them whole.",
     "ringfence devices", cmd_devices_build, cmd_devices_render, NULL},
    {"device", "list", "", 0, 0, NULL, "List devices (same as 'ringfence devices')", NULL,
     "ringfence device list", cmd_devices_build, cmd_devices_render, NULL},
    {"device", "show", "DEVICE", 1, 1, NULL, "Show one device: ring, bundles, pins, exclusion",
     NULL, "ringfence device show 9f0123456789abcdef0123456789abcd", cmd_device_show_build,
     cmd_device_show_render, cmd_device_run},
    {"device", "pin", "DEVICE", 1, 1, opts_pin, "Hold a device at one bundle of a channel",
     "The device runs the pinned bundle whatever rollouts do (sent back to it if it runs "
     "another), until 'device unpin'. DEVICE is the whole id or a unique prefix of it, such as "
     "the 8 digits 'ringfence devices' shows.",
     "ringfence device pin 9f0123456789abcdef0123456789abcd --channel content --bundle 11",
     cmd_device_pin_build, cmd_pin_render, cmd_device_run},
    {"device", "unpin", "DEVICE", 1, 1, opts_unpin, "Remove a device's pin on a channel", NULL,
     "ringfence device unpin 9f0123456789abcdef0123456789abcd --channel content", cmd_unpin_build,
     cmd_unpin_render, cmd_device_run},
    {"device", "exclude", "DEVICE", 1, 1, opts_exclude, "Keep a device out of every rollout",
     "An excluded device that may hold a rollout's bundle is sent back to the previous one; "
     "any other keeps what it runs.",
     "ringfence device exclude 9f0123456789abcdef0123456789abcd --reason \"lab machine\"",
     cmd_exclude_build, cmd_exclude_render, cmd_device_run},
    {"device", "include", "DEVICE", 1, 1, NULL, "Let an excluded device take part again", NULL,
     "ringfence device include 9f0123456789abcdef0123456789abcd", cmd_include_build,
     cmd_include_render, cmd_device_run},
    {"device", "exclusions", "", 0, 0, NULL, "List excluded devices", NULL,
     "ringfence device exclusions", cmd_exclusions_build, cmd_exclusions_render, NULL},
    {"pin", "list", "", 0, 0, opts_pin_list, "List pins of devices and rings", NULL,
     "ringfence pin list --channel content", cmd_pin_list_build, cmd_pin_list_render, NULL},
    {"pin", "delete", "PIN", 1, 1, NULL, "Remove a pin by its id", NULL, "ringfence pin delete 3",
     cmd_pin_delete_build, cmd_unpin_render, NULL},
    {"fleet", NULL, "", 0, 0, NULL, "Count devices per ring and bundles per channel", NULL,
     "ringfence fleet", cmd_fleet_build, cmd_fleet_render, NULL},

    {"events", NULL, "", 0, 0, opts_events, "List events, oldest first; --follow streams them",
     "Each change shows its actor and what changed (before -> after). With --follow, the last "
     "10 events (or those after --after) and then every new one as it is recorded, until "
     "Ctrl-C; with --json, one JSON object a line.",
     "ringfence events --follow --rollout 4", cmd_events_build, cmd_events_render, cmd_events_run},
    {"version", NULL, "", 0, 0, NULL, "Print the CLI's version", NULL, "ringfence version", NULL,
     NULL, cmd_version_run},
};

const size_t cli_ncommands = sizeof cli_commands / sizeof cli_commands[0];
