/* The commands' builders and renderers, one cmd_*.c file per command group,
 * and the few run functions of commands that do their own talking (live.c,
 * download.c, cmd_device_run). Builders and renderers are pure: builders
 * turn parsed arguments into a request, renderers turn the server's answer
 * into text. The table that ties names, options and help to them is in
 * commands.c. */
#ifndef CLI_CMD_H
#define CLI_CMD_H

#include "cli.h"

/* cmd_bundle.c */
rf_err cmd_bundle_push_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                             rf_error *err);
rf_err cmd_bundle_list_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                             rf_error *err);
rf_err cmd_bundle_show_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                             rf_error *err);
rf_err cmd_bundle_list_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err);
rf_err cmd_bundle_show_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err);

/* cmd_ring.c */
rf_err cmd_ring_list_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                           rf_error *err);
rf_err cmd_ring_create_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                             rf_error *err);
rf_err cmd_ring_show_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                           rf_error *err);
rf_err cmd_ring_delete_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                             rf_error *err);
/* ring update: reads the ring, applies the flags, PUTs it with If-Match. */
rf_err cmd_ring_update_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                             rf_error *err);
/* Applies the ring flags (--label, --no-labels, --buckets, --all-buckets,
 * --member, --add-member, --remove-member, --no-members, --members-only,
 * --window, --no-windows, --name, --order) to a ring body (borrowed). */
rf_err cmd_ring_apply_flags(const cli_args *a, json_t *body, rf_error *err);
/* Judges the ring flags' values before the ring is read: RF_ERR_INVALID
 * naming the flag (membership of --remove-member is checked later). */
rf_err cmd_ring_check_flags(const cli_args *a, rf_error *err);
/* The members of ring that a PUT body carries (new reference in *out). */
rf_err cmd_ring_editable(const json_t *ring, json_t **out, rf_error *err);
rf_err cmd_ring_list_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err);
rf_err cmd_ring_show_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err);
rf_err cmd_ring_delete_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err);

/* cmd_preview.c: ring preview (nothing is saved). */
rf_err cmd_ring_preview_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                              rf_error *err);
rf_err cmd_ring_preview_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err);

/* cmd_plan.c: stages from --stage/--plan, channels and their default plans. */
/* --stage specs into the body's "stages", or --plan FILE for run.c to read. */
rf_err cmd_plan_from_flags(const cli_args *a, cli_request *req, rf_error *err);
rf_err cmd_channel_list_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                              rf_error *err);
rf_err cmd_plan_show_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                           rf_error *err);
rf_err cmd_plan_set_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                          rf_error *err);
rf_err cmd_plan_reset_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                            rf_error *err);
rf_err cmd_channel_list_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err);
rf_err cmd_plan_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err);
/* The plan columns of stage s: PERCENT, BAKE, MIN HEALTHY, MAX FAILURES,
 * PROMOTION, APPROVAL. */
rf_err cmd_stage_cells(cli_table *t, const json_t *s);

/* cmd_rollout.c */
rf_err cmd_rollout_create_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                                rf_error *err);
rf_err cmd_rollout_list_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                              rf_error *err);
rf_err cmd_rollout_status_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                                rf_error *err);
/* start, promote, pause, resume, halt, revert, abort, approve: the action
 * is cmd->name; --reason and (approve) --stage go in the body. */
rf_err cmd_rollout_action_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                                rf_error *err);
rf_err cmd_rollout_list_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err);
rf_err cmd_rollout_status_render(const json_t *answer, const cli_view *v, rf_buf *out,
                                 rf_error *err);
rf_err cmd_rollout_health_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                                rf_error *err);
rf_err cmd_rollout_health_render(const json_t *answer, const cli_view *v, rf_buf *out,
                                 rf_error *err);
/* "2 (broad)": the current stage and its ring; "-" before the first starts. */
rf_err cmd_rollout_stage_text(const json_t *rollout, rf_buf *out);

/* cmd_status.c: what rollout status and watch show. */
/* The current stage's gates, one a line with "passed" or "waiting" and
 * what it waits for, then "Waiting for: …" and the rollout's "next". */
rf_err cmd_gates_render(const json_t *rollout, rf_buf *out);
/* "Waiting for: 12m left (bake 30m), approval pending\n" from the gates
 * that do not pass; "Every gate passes.\n"; nothing without gates. */
rf_err cmd_waits_for(const json_t *rollout, rf_buf *out);

/* 1 when the rollout can no longer change by itself or by hand: completed,
 * reverted or aborted. */
int cmd_rollout_is_final(const json_t *rollout);

/* download.c: bundle download ID --output FILE (verified, then renamed). */
int cmd_bundle_download_run(const cli_command *cmd, const cli_args *a);

/* live.c: the commands that keep talking until stopped. */
int cmd_events_run(const cli_command *cmd, const cli_args *a);
int cmd_rollout_watch_run(const cli_command *cmd, const cli_args *a);

/* cmd_device.c: devices and the fleet. */
#define CLI_SHORT_ID 8 /* hex digits of a device id shown in tables */
/* A whole device id as positional DEVICE, or a usage error naming it. */
rf_err cmd_device_arg(const char *s, rf_error *err);
/* The one id in a GET /v1/devices answer that starts with prefix (hex):
 * RF_ERR_NOT_FOUND for none, RF_ERR_INVALID when several or not hex. */
rf_err cmd_device_match(const json_t *answer, const char *prefix, char out[33], rf_error *err);
rf_err cmd_devices_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                         rf_error *err);
rf_err cmd_device_show_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                             rf_error *err);
rf_err cmd_fleet_build(const cli_command *cmd, const cli_args *a, cli_request *req, rf_error *err);
rf_err cmd_devices_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err);
rf_err cmd_device_show_render(const json_t *d, const cli_view *v, rf_buf *out, rf_error *err);
rf_err cmd_fleet_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err);
/* "content pinned at bundle 11 (ring broad)" for a pin object. */
rf_err cmd_pin_text(const json_t *p, rf_buf *out);

/* cmd_hold.c: pins and exclusions. */
rf_err cmd_device_pin_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                            rf_error *err);
rf_err cmd_ring_pin_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                          rf_error *err);
/* device unpin / ring unpin (by cmd->group): reads the pins, deletes the match. */
rf_err cmd_unpin_build(const cli_command *cmd, const cli_args *a, cli_request *req, rf_error *err);
rf_err cmd_pin_list_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                          rf_error *err);
rf_err cmd_pin_delete_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                            rf_error *err);
rf_err cmd_exclude_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                         rf_error *err);
rf_err cmd_include_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                         rf_error *err);
rf_err cmd_exclusions_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                            rf_error *err);
rf_err cmd_pin_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err);
rf_err cmd_unpin_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err);
rf_err cmd_pin_list_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err);
rf_err cmd_exclusions_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err);
rf_err cmd_exclude_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err);
rf_err cmd_include_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err);
/* Tables of pin and exclusion objects (arrays, borrowed). */
rf_err cmd_pins_table(const json_t *pins, rf_buf *out);
rf_err cmd_exclusions_table(const json_t *list, rf_buf *out);
/* Runs a device command, first resolving a short DEVICE id (8 digits, as
 * the tables show) against the device list. */
int cmd_device_run(const cli_command *cmd, const cli_args *a);

/* cmd_misc.c */
rf_err cmd_events_build(const cli_command *cmd, const cli_args *a, cli_request *req, rf_error *err);
rf_err cmd_events_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err);
/* "/v1/events?after=A&limit=L&wait=W&rollout_id=R" into path (reset
 * first); after is left out when negative, limit, wait and rollout when 0. */
rf_err cmd_events_path(rf_buf *path, long long after, long long limit, int wait_s,
                       long long rollout);
/* An event's data in short: "k=v …; state: active -> paused, version: 3 -> 4"
 * (what changed between data.before and data.after), "-" when empty. */
rf_err cmd_event_details(const json_t *data, rf_buf *out);
/* One event as one line: "17  2026-…Z  rollout.promoted  alice  rollout 4  {…}". */
rf_err cmd_event_line(const json_t *e, rf_buf *out);
/* Prints the version; the one command that needs no server. */
int cmd_version_run(const cli_command *cmd, const cli_args *a);

#endif
