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
 * cli_client_free); cli_exchange carries out the request's first step, if
 * any (which may complete req), sends it and prints its answer.
 * Both return an exit status and report on stderr. */
int cli_connect(const cli_command *cmd, const cli_args *a, cli_client **client);
int cli_exchange(const cli_command *cmd, const cli_args *a, cli_client *client, cli_request *req);

/* GETs path and parses the answer: *answer is a new reference on
 * CLI_EXIT_OK; otherwise the failure (server message, connection) has been
 * reported on stderr and *answer is NULL. *http_status (may be NULL) gets
 * the answer's status, 0 when none arrived. */
int cli_fetch(cli_client *client, const char *path, json_t **answer, long *http_status);
/* cli_fetch that, with quiet, reports nothing (for retries already reported). */
int cli_fetch_ex(cli_client *client, const char *path, json_t **answer, long *http_status,
                 int quiet);

/* "ringfence: <server message> (HTTP <status>)" on stderr for an error
 * answer; returns CLI_EXIT_FAIL. */
int cli_print_server_error(const cli_response *r);

/* cli_run without the command's own run function: build, send, render.
 * For run functions that only sometimes do something else (events without
 * --follow). */
int cli_run_default(const cli_command *cmd, const cli_args *a);

/* Writes len bytes of data to stdout and flushes; adds a newline if data
 * does not end in one. CLI_EXIT_FAIL (reported) when stdout is closed. */
int cli_emit(const char *data, size_t len);

/* Prints "ringfence: msg" and a pointer to the command's help on stderr;
 * returns CLI_EXIT_USAGE. cmd may be NULL. */
int cli_usage_error(const cli_command *cmd, const char *msg);

#endif
