/* ringfence, the release engineers' CLI: parses the command line, answers
 * --help and --version itself, and hands every other command to run.c.
 * Exit status: 0 done, 1 the server refused or could not be reached, 2 usage
 * error. It never prints the token. */
#include "cli.h"
#include "run.h"

#include <stdio.h>

/* Help asked for: to stdout, exit 0. */
static int print_help(const cli_parsed *p)
{
    rf_buf out;
    rf_buf_init(&out, 1 << 20);
    rf_err rc;
    if (p->cmd != NULL) {
        rc = cli_help_command(p->cmd, &out);
    } else if (p->group != NULL) {
        rc = cli_help_group(cli_commands, cli_ncommands, p->group, &out);
    } else {
        rc = cli_help_top(cli_commands, cli_ncommands, &out);
    }
    int status = CLI_EXIT_OK;
    if (rc != RF_OK || fputs(out.data, stdout) == EOF || fflush(stdout) != 0) {
        fputs("ringfence: cannot write the help text\n", stderr);
        status = CLI_EXIT_FAIL;
    }
    rf_buf_cleanup(&out);
    return status;
}

int main(int argc, char **argv)
{
    cli_parsed p;
    rf_error err = {RF_OK, ""};
    if (cli_parse(argc, argv, cli_commands, cli_ncommands, &p, &err) != RF_OK) {
        if (argc <= 1) {
            rf_buf out;
            rf_buf_init(&out, 1 << 20);
            if (cli_help_top(cli_commands, cli_ncommands, &out) == RF_OK) {
                fputs(out.data, stderr);
            }
            rf_buf_cleanup(&out);
            return CLI_EXIT_USAGE;
        }
        if (p.group != NULL && p.cmd == NULL) {
            /* A group without its subcommand: show what it offers. */
            rf_buf out;
            rf_buf_init(&out, 1 << 20);
            if (cli_help_group(cli_commands, cli_ncommands, p.group, &out) == RF_OK) {
                fprintf(stderr, "ringfence: %s\n\n%s", err.message, out.data);
            }
            rf_buf_cleanup(&out);
            return CLI_EXIT_USAGE;
        }
        return cli_usage_error(p.cmd, err.message);
    }
    if (p.args.help) {
        return print_help(&p);
    }
    if (p.cmd == NULL) { /* only --version */
        printf("ringfence %s\n", RF_VERSION);
        return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    }
    return cli_run(p.cmd, &p.args);
}
