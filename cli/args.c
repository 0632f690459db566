/* The command line: finds the command named by argv's leading words and
 * parses the rest against that command's options and the global ones, which
 * may come before or after the command. Pure: it reads only argv and the
 * command table, prints nothing, and keeps pointers into argv rather than
 * copying; every usage error names the flag or word at fault. */
#include "cli.h"
#include "rf_util.h"

#include <string.h>

const cli_opt cli_global_opts[] = {
    {"url", CLI_OPT_VALUE, "URL", 0, "server URL (default $RINGFENCE_URL or " CLI_DEFAULT_URL ")"},
    {"token", CLI_OPT_VALUE, "TOKEN", 0,
     "API token (default $RINGFENCE_TOKEN, then $RINGFENCE_ADMIN_TOKEN)"},
    {"json", CLI_OPT_FLAG, NULL, 0, "print the server's JSON answer instead of a table"},
    {"help", CLI_OPT_FLAG, NULL, 0, "show help for the command"},
    {NULL, CLI_OPT_FLAG, NULL, 0, NULL},
};

void cli_command_name(const cli_command *cmd, char *out, size_t outlen)
{
    if (outlen == 0) {
        return;
    }
    if (cmd->name != NULL) {
        (void)rf_snprintf(out, outlen, "%s %s", cmd->group, cmd->name);
    } else {
        (void)rf_snprintf(out, outlen, "%s", cmd->group);
    }
}

static const cli_opt *opt_find(const cli_opt *opts, const char *name, size_t namelen)
{
    for (size_t i = 0; opts != NULL && opts[i].name != NULL; i++) {
        if (strlen(opts[i].name) == namelen && memcmp(opts[i].name, name, namelen) == 0) {
            return &opts[i];
        }
    }
    return NULL;
}

static int is_option(const char *s)
{
    return s[0] == '-' && s[1] != '\0';
}

/* Records a parsed option. Global ones go to their own fields; a value
 * option given twice is refused, as it is almost always a mistake. */
static rf_err store_opt(cli_args *a, const cli_opt *o, int global, const char *val, rf_error *err)
{
    if (global) {
        const char **slot = strcmp(o->name, "url") == 0 ? &a->url : &a->token;
        if (o->kind == CLI_OPT_FLAG) {
            *(strcmp(o->name, "json") == 0 ? &a->json : &a->help) = 1;
            return RF_OK;
        }
        if (*slot != NULL) {
            return rf_error_set(err, RF_ERR_INVALID, "flag --%s given twice", o->name);
        }
        *slot = val;
        return RF_OK;
    }
    if (o->kind == CLI_OPT_VALUE) {
        for (size_t i = 0; i < a->nopts; i++) {
            if (a->opt_name[i] == o->name) {
                return rf_error_set(err, RF_ERR_INVALID, "flag --%s given twice", o->name);
            }
        }
    }
    if (a->nopts >= CLI_MAX_ARGS) {
        return rf_error_set(err, RF_ERR_INVALID, "too many flags (at most %d)", CLI_MAX_ARGS);
    }
    a->opt_name[a->nopts] = o->name;
    a->opt_val[a->nopts] = val;
    a->nopts++;
    return RF_OK;
}

/* Parses the option at argv[*i] ("--name", "--name=value", "--name value"
 * or "-h") against opts (may be NULL) and then the global options; advances
 * *i past any value it consumed. where names the command for messages. */
static rf_err parse_option(int argc, char *const argv[], int *i, const cli_opt *opts,
                           const char *where, cli_args *a, rf_error *err)
{
    const char *arg = argv[*i];
    if (strcmp(arg, "-h") == 0) {
        a->help = 1;
        return RF_OK;
    }
    if (strcmp(arg, "--version") == 0 && where == NULL) {
        a->version = 1;
        return RF_OK;
    }
    if (arg[1] != '-' || arg[2] == '\0') {
        return rf_error_set(err, RF_ERR_INVALID, "unknown flag '%s'%s%s%s", arg,
                            where ? " for '" : "", where ? where : "", where ? "'" : "");
    }
    const char *name = arg + 2;
    const char *eq = strchr(name, '=');
    size_t namelen = eq ? (size_t)(eq - name) : strlen(name);
    int global = 0;
    const cli_opt *o = opt_find(opts, name, namelen);
    if (o == NULL) {
        o = opt_find(cli_global_opts, name, namelen);
        global = 1;
    }
    if (o == NULL) {
        return rf_error_set(err, RF_ERR_INVALID, "unknown flag '--%.*s'%s%s%s", (int)namelen, name,
                            where ? " for '" : "", where ? where : "", where ? "'" : "");
    }
    const char *val = NULL;
    if (o->kind == CLI_OPT_FLAG) {
        if (eq != NULL) {
            return rf_error_set(err, RF_ERR_INVALID, "flag --%s takes no value", o->name);
        }
    } else if (eq != NULL) {
        val = eq + 1;
    } else if (*i + 1 < argc) {
        *i += 1;
        val = argv[*i];
    } else {
        return rf_error_set(err, RF_ERR_INVALID, "flag --%s needs a value (%s)", o->name,
                            o->metavar);
    }
    if (val != NULL && val[0] == '\0') {
        return rf_error_set(err, RF_ERR_INVALID, "flag --%s needs a non-empty value (%s)", o->name,
                            o->metavar);
    }
    return store_opt(a, o, global, val, err);
}

/* Advances *i past global options to the next word; *word is NULL at the end. */
static rf_err next_word(int argc, char *const argv[], int *i, cli_args *a, const char **word,
                        rf_error *err)
{
    *word = NULL;
    for (; *i < argc; (*i)++) {
        if (strcmp(argv[*i], "--") == 0 || !is_option(argv[*i])) {
            break;
        }
        rf_err rc = parse_option(argc, argv, i, NULL, NULL, a, err);
        if (rc != RF_OK) {
            return rc;
        }
    }
    if (*i < argc && strcmp(argv[*i], "--") != 0) {
        *word = argv[*i];
        (*i)++;
    }
    return RF_OK;
}

static int group_exists(const cli_command *cmds, size_t n, const char *group)
{
    for (size_t k = 0; k < n; k++) {
        if (strcmp(cmds[k].group, group) == 0) {
            return 1;
        }
    }
    return 0;
}

static const cli_command *cmd_find(const cli_command *cmds, size_t n, const char *group,
                                   const char *name)
{
    for (size_t k = 0; k < n; k++) {
        if (strcmp(cmds[k].group, group) != 0) {
            continue;
        }
        if ((name == NULL && cmds[k].name == NULL) ||
            (name != NULL && cmds[k].name != NULL && strcmp(cmds[k].name, name) == 0)) {
            return &cmds[k];
        }
    }
    return NULL;
}

/* 1 when a command of group is named "sub …" (a three-word command). */
static int has_subgroup(const cli_command *cmds, size_t n, const char *group, const char *sub)
{
    size_t len = strlen(sub);
    for (size_t k = 0; k < n; k++) {
        if (strcmp(cmds[k].group, group) == 0 && cmds[k].name != NULL &&
            strncmp(cmds[k].name, sub, len) == 0 && cmds[k].name[len] == ' ') {
            return 1;
        }
    }
    return 0;
}

/* Parses what follows the command words. */
static rf_err parse_rest(int argc, char *const argv[], int i, const cli_command *cmd, cli_args *a,
                         rf_error *err)
{
    char where[64];
    cli_command_name(cmd, where, sizeof where);
    int only_pos = 0;
    for (; i < argc; i++) {
        if (!only_pos && strcmp(argv[i], "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (!only_pos && is_option(argv[i])) {
            rf_err rc = parse_option(argc, argv, &i, cmd->opts, where, a, err);
            if (rc != RF_OK) {
                return rc;
            }
            continue;
        }
        if (a->npos >= CLI_MAX_ARGS) {
            return rf_error_set(err, RF_ERR_INVALID, "too many arguments");
        }
        a->pos[a->npos++] = argv[i];
    }
    return RF_OK;
}

/* Once the command is known: positional count and required flags. */
static rf_err check_args(const cli_command *cmd, const cli_args *a, rf_error *err)
{
    char where[64];
    cli_command_name(cmd, where, sizeof where);
    if (a->npos < cmd->min_pos) {
        return rf_error_set(err, RF_ERR_INVALID, "'%s' needs %s", where, cmd->synopsis);
    }
    if (a->npos > cmd->max_pos) {
        return rf_error_set(err, RF_ERR_INVALID, "unexpected argument '%s' for '%s'",
                            a->pos[cmd->max_pos], where);
    }
    for (size_t k = 0; cmd->opts != NULL && cmd->opts[k].name != NULL; k++) {
        if (cmd->opts[k].required && !cli_opt_has(a, cmd->opts[k].name)) {
            return rf_error_set(err, RF_ERR_INVALID, "'%s' needs --%s %s", where, cmd->opts[k].name,
                                cmd->opts[k].metavar);
        }
    }
    return RF_OK;
}

rf_err cli_parse(int argc, char *const argv[], const cli_command *cmds, size_t ncmds,
                 cli_parsed *out, rf_error *err)
{
    memset(out, 0, sizeof *out);
    cli_args *a = &out->args;
    int i = 1;
    const char *group = NULL;
    rf_err rc = next_word(argc, argv, &i, a, &group, err);
    if (rc == RF_OK && group != NULL && strcmp(group, "help") == 0) {
        a->help = 1;
        rc = next_word(argc, argv, &i, a, &group, err);
    }
    if (rc != RF_OK || group == NULL) {
        if (rc == RF_OK && !a->help && !a->version) {
            rc = rf_error_set(err, RF_ERR_INVALID, "missing command");
        }
        return rc;
    }
    if (!group_exists(cmds, ncmds, group)) {
        return rf_error_set(err, RF_ERR_INVALID, "unknown command '%s'", group);
    }
    const cli_command *cmd = cmd_find(cmds, ncmds, group, NULL);
    if (cmd == NULL) {
        const char *sub = NULL;
        rc = next_word(argc, argv, &i, a, &sub, err);
        if (rc != RF_OK) {
            return rc;
        }
        if (sub == NULL) {
            out->group = group;
            return a->help ? RF_OK
                           : rf_error_set(err, RF_ERR_INVALID, "'%s' needs a subcommand", group);
        }
        cmd = cmd_find(cmds, ncmds, group, sub);
        if (cmd == NULL && has_subgroup(cmds, ncmds, group, sub)) {
            /* Three words: "channel plan show". */
            const char *third = NULL;
            char two[64];
            rc = next_word(argc, argv, &i, a, &third, err);
            if (rc != RF_OK) {
                return rc;
            }
            if (third == NULL) {
                out->group = group;
                return a->help ? RF_OK
                               : rf_error_set(err, RF_ERR_INVALID, "'%s %s' needs a subcommand",
                                              group, sub);
            }
            if (rf_snprintf(two, sizeof two, "%s %s", sub, third) == RF_OK) {
                cmd = cmd_find(cmds, ncmds, group, two);
            }
            if (cmd == NULL) {
                out->group = group;
                return rf_error_set(err, RF_ERR_INVALID, "unknown command '%s %s %.32s'", group,
                                    sub, third);
            }
        }
        if (cmd == NULL) {
            out->group = group;
            return rf_error_set(err, RF_ERR_INVALID, "unknown command '%s %s'", group, sub);
        }
    }
    out->cmd = cmd;
    rc = parse_rest(argc, argv, i, cmd, a, err);
    if (rc != RF_OK || a->help) {
        return rc;
    }
    return check_args(cmd, a, err);
}
