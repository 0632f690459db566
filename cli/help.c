/* Help texts, generated from the command table so they never drift from
 * what the parser accepts: the overview, a group's commands, and one
 * command's usage line, options and example. Pure: appends to an rf_buf;
 * main.c decides where it goes. */
#include "cli.h"

#include <string.h>

/* "ringfence ring create NAME --order K [--label k=v]... [--buckets LO-HI]" */
static rf_err usage_line(const cli_command *cmd, rf_buf *out)
{
    char name[64];
    cli_command_name(cmd, name, sizeof name);
    rf_err rc = rf_buf_printf(out, "ringfence %s", name);
    if (rc == RF_OK && cmd->synopsis[0] != '\0') {
        rc = rf_buf_printf(out, cmd->min_pos ? " %s" : " [%s]", cmd->synopsis);
    }
    for (size_t i = 0; cmd->opts != NULL && cmd->opts[i].name != NULL && rc == RF_OK; i++) {
        const cli_opt *o = &cmd->opts[i];
        rc = rf_buf_printf(out, " %s--%s%s%s%s%s", o->required ? "" : "[", o->name,
                           o->metavar ? " " : "", o->metavar ? o->metavar : "",
                           o->required ? "" : "]", o->kind == CLI_OPT_REPEAT ? "..." : "");
    }
    return rc;
}

/* Options as an indented two-column table. */
static rf_err options_table(const cli_opt *opts, rf_buf *out)
{
    cli_table t;
    rf_err rc = cli_table_init(&t, 3, NULL);
    for (size_t i = 0; opts != NULL && opts[i].name != NULL && rc == RF_OK; i++) {
        rc = cli_table_add(&t, "");
        if (rc == RF_OK) {
            rc = cli_table_addf(&t, "--%s%s%s", opts[i].name, opts[i].metavar ? " " : "",
                                opts[i].metavar ? opts[i].metavar : "");
        }
        if (rc == RF_OK) {
            rc = cli_table_add(&t, opts[i].help);
        }
    }
    if (rc == RF_OK) {
        rc = cli_table_render(&t, out);
    }
    cli_table_cleanup(&t);
    return rc;
}

/* Commands of group (or all when group is NULL) with their summaries. */
static rf_err commands_table(const cli_command *cmds, size_t n, const char *group, rf_buf *out)
{
    cli_table t;
    rf_err rc = cli_table_init(&t, 3, NULL);
    for (size_t i = 0; i < n && rc == RF_OK; i++) {
        if (group != NULL && strcmp(cmds[i].group, group) != 0) {
            continue;
        }
        char name[64];
        cli_command_name(&cmds[i], name, sizeof name);
        rc = cli_table_add(&t, "");
        if (rc == RF_OK) {
            rc = cli_table_addf(&t, "%s%s%s", name, cmds[i].synopsis[0] ? " " : "",
                                cmds[i].synopsis);
        }
        if (rc == RF_OK) {
            rc = cli_table_add(&t, cmds[i].summary);
        }
    }
    if (rc == RF_OK) {
        rc = cli_table_render(&t, out);
    }
    cli_table_cleanup(&t);
    return rc;
}

/* The global options; with the environment and exit status when full. */
static rf_err global_help(rf_buf *out, int full)
{
    rf_err rc = rf_buf_append_str(out, "\nGlobal options (before or after the command):\n");
    if (rc == RF_OK) {
        rc = options_table(cli_global_opts, out);
    }
    if (rc == RF_OK && full) {
        rc = rf_buf_append_str(
            out,
            "\nEnvironment:\n"
            "  RINGFENCE_URL    server URL when --url is not given (default " CLI_DEFAULT_URL ")\n"
            "  RINGFENCE_TOKEN  API token when --token is not given; "
            "RINGFENCE_ADMIN_TOKEN is used when it is unset\n"
            "\nExit status: 0 done; 1 the server refused or could not be reached; "
            "2 usage error.\n");
    }
    return rc;
}

rf_err cli_help_top(const cli_command *cmds, size_t n, rf_buf *out)
{
    rf_err rc = rf_buf_append_str(
        out, "ringfence: staged rollouts of driver and content bundles, ring by ring.\n\n"
             "Usage: ringfence [--url URL] [--token TOKEN] [--json] COMMAND [ARGS]\n\n"
             "Commands:\n");
    if (rc == RF_OK) {
        rc = commands_table(cmds, n, NULL, out);
    }
    if (rc == RF_OK) {
        rc = global_help(out, 1);
    }
    if (rc == RF_OK) {
        rc = rf_buf_append_str(out, "\nRun 'ringfence COMMAND --help' for a command's options "
                                    "and an example, e.g. 'ringfence rollout status --help'.\n");
    }
    return rc;
}

rf_err cli_help_group(const cli_command *cmds, size_t n, const char *group, rf_buf *out)
{
    rf_err rc = rf_buf_printf(out, "Usage: ringfence %s COMMAND [ARGS]\n\nCommands:\n", group);
    if (rc == RF_OK) {
        rc = commands_table(cmds, n, group, out);
    }
    if (rc == RF_OK) {
        rc = rf_buf_append_str(out, "\nExamples:\n");
    }
    for (size_t i = 0; i < n && rc == RF_OK; i++) {
        if (strcmp(cmds[i].group, group) == 0) {
            rc = rf_buf_printf(out, "  %s\n", cmds[i].example);
        }
    }
    if (rc == RF_OK) {
        rc = rf_buf_printf(out, "\nRun 'ringfence %s COMMAND --help' for a command's options.\n",
                           group);
    }
    return rc;
}

rf_err cli_wrap_text(rf_buf *out, const char *text, size_t width)
{
    rf_err rc = RF_OK;
    size_t col = 0;
    const char *p = text;
    while (*p != '\0' && rc == RF_OK) {
        while (*p == ' ') {
            p++;
        }
        size_t len = strcspn(p, " ");
        if (len == 0) {
            break;
        }
        char tmp[512];
        size_t n = len < sizeof tmp - 1 ? len : sizeof tmp - 1;
        memcpy(tmp, p, n);
        tmp[n] = '\0';
        size_t w = cli_text_width(tmp);
        if (col > 0 && col + 1 + w > width) {
            rc = rf_buf_append_str(out, "\n");
            col = 0;
        } else if (col > 0) {
            rc = rf_buf_append_str(out, " ");
            col++;
        }
        rc = rc ? rc : rf_buf_append(out, p, len);
        col += w;
        p += len;
    }
    return rc ? rc : rf_buf_append_str(out, "\n");
}

rf_err cli_help_command(const cli_command *cmd, rf_buf *out)
{
    rf_err rc = rf_buf_append_str(out, "Usage: ");
    if (rc == RF_OK) {
        rc = usage_line(cmd, out);
    }
    if (rc == RF_OK) {
        rc = rf_buf_printf(out, "\n\n%s.\n", cmd->summary);
    }
    if (rc == RF_OK && cmd->details != NULL) {
        rc = cli_wrap_text(out, cmd->details, 78);
    }
    if (rc == RF_OK && cmd->opts != NULL) {
        rc = rf_buf_append_str(out, "\nOptions:\n");
        if (rc == RF_OK) {
            rc = options_table(cmd->opts, out);
        }
    }
    if (rc == RF_OK) {
        rc = global_help(out, 0);
    }
    if (rc == RF_OK) {
        rc = rf_buf_printf(out, "\nExample:\n  %s\n", cmd->example);
    }
    return rc;
}
