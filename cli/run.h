/* Running a command against the server: configuration from flags and the
 * environment, the request, the answer and the exit status. */
#ifndef CLI_RUN_H
#define CLI_RUN_H

#include "cli.h"
#include "client.h"

/* Builds cmd's request from a, sends it, prints the answer (the server's
 * JSON with --json, else the rendered table) and returns the exit status:
 * CLI_EXIT_OK, CLI_EXIT_FAIL (server error, connection or file problem) or
 * CLI_EXIT_USAGE (bad flags, no token). Messages go to stderr. */
int cli_run(const cli_command *cmd, const cli_args *a);

/* The pieces of cli_run, for commands with their own run function (issue
 * 4's events --follow, rollout watch). cli_connect resolves the URL and token
 * (flags, then environment) and opens a client (*client: free with
 * cli_client_free); cli_exchange sends one request and prints its answer.
 * Both return an exit status and report on stderr. */
int cli_connect(const cli_command *cmd, const cli_args *a, cli_client **client);
int cli_exchange(const cli_command *cmd, const cli_args *a, cli_client *client,
                 const cli_request *req);

/* Prints "ringfence: msg" and a pointer to the command's help on stderr;
 * returns CLI_EXIT_USAGE. cmd may be NULL. */
int cli_usage_error(const cli_command *cmd, const char *msg);

#endif
