/* The commands' builders and renderers, one cmd_*.c file per command group.
 * All of them are pure: builders turn parsed arguments into a request,
 * renderers turn the server's answer into text. The table that ties names,
 * options and help to them is in commands.c. */
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
rf_err cmd_ring_list_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err);
rf_err cmd_ring_show_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err);
rf_err cmd_ring_delete_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err);

/* cmd_rollout.c */
rf_err cmd_rollout_create_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                                rf_error *err);
rf_err cmd_rollout_list_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                              rf_error *err);
rf_err cmd_rollout_status_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                                rf_error *err);
/* start, promote, pause, resume, halt, revert: the action is cmd->name. */
rf_err cmd_rollout_action_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                                rf_error *err);
rf_err cmd_rollout_list_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err);
rf_err cmd_rollout_status_render(const json_t *answer, const cli_view *v, rf_buf *out,
                                 rf_error *err);

/* cmd_misc.c */
rf_err cmd_devices_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                         rf_error *err);
rf_err cmd_events_build(const cli_command *cmd, const cli_args *a, cli_request *req, rf_error *err);
rf_err cmd_devices_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err);
rf_err cmd_events_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err);
/* Prints the version; the one command that needs no server. */
int cmd_version_run(const cli_command *cmd, const cli_args *a);

#endif
