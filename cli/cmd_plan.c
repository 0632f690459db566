/* Plans: the stages a rollout walks through, given as --stage specs or a
 * --plan file, and each channel's default plan (`ringfence channel list`,
 * `channel plan show|set|reset`). Pure: builders and renderers only; the
 * plan file is read by run.c. A plan change is guarded by the plan's
 * version like every other change. */
#include "cmd.h"

#include <string.h>

static rf_err nomem(rf_error *err)
{
    return rf_error_set(err, RF_ERR_NOMEM, "out of memory");
}

rf_err cmd_plan_from_flags(const cli_args *a, cli_request *req, rf_error *err)
{
    const char *file = cli_opt_get(a, "plan");
    int has_stage = cli_opt_has(a, "stage");
    if (file != NULL && has_stage) {
        return rf_error_set(err, RF_ERR_INVALID, "--plan and --stage exclude each other");
    }
    req->plan_file = file;
    if (!has_stage) {
        return RF_OK;
    }
    json_t *stages = json_array();
    rf_err rc = stages ? cli_request_object(req, err) : nomem(err);
    for (size_t i = 0; rc == RF_OK && i < a->nopts; i++) {
        cli_stage_spec st;
        json_t *s = NULL;
        if (strcmp(a->opt_name[i], "stage") != 0) {
            continue;
        }
        rc = cli_parse_stage("--stage", a->opt_val[i], &st, err);
        rc = rc ? rc : cli_stage_json(&st, &s, err);
        if (rc == RF_OK && json_array_append_new(stages, s) != 0) {
            rc = nomem(err);
        }
    }
    if (rc == RF_OK && json_object_set(req->body, "stages", stages) != 0) {
        rc = nomem(err);
    }
    json_decref(stages);
    return rc;
}

/* A channel name as the API spells them: 1-64 of [a-z0-9._-]. */
static rf_err channel_arg(const char *s, rf_error *err)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64 || strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-") != n) {
        return rf_error_set(err, RF_ERR_INVALID,
                            "NAME: '%.64s' is not a channel name (1-64 characters of [a-z0-9._-])",
                            s);
    }
    return RF_OK;
}

rf_err cmd_channel_list_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                              rf_error *err)
{
    (void)cmd;
    (void)a;
    return cli_request_set(req, "GET", err, "/v1/channels");
}

rf_err cmd_plan_show_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                           rf_error *err)
{
    (void)cmd;
    rf_err rc = channel_arg(a->pos[0], err);
    return rc ? rc : cli_request_set(req, "GET", err, "/v1/channels/%s/plan", a->pos[0]);
}

rf_err cmd_plan_set_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                          rf_error *err)
{
    (void)cmd;
    rf_err rc = channel_arg(a->pos[0], err);
    if (rc == RF_OK && !cli_opt_has(a, "stage") && !cli_opt_has(a, "plan")) {
        rc = rf_error_set(err, RF_ERR_INVALID,
                          "'channel plan set' needs --stage SPEC... or "
                          "--plan FILE");
    }
    rc = rc ? rc : cmd_plan_from_flags(a, req, err);
    rc = rc ? rc : cli_request_set(req, "PUT", err, "/v1/channels/%s/plan", a->pos[0]);
    return rc ? rc
              : cli_request_guard(req, a, cmd_plan_render, err, "/v1/channels/%s/plan", a->pos[0]);
}

rf_err cmd_plan_reset_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                            rf_error *err)
{
    (void)cmd;
    rf_err rc = channel_arg(a->pos[0], err);
    rc = rc ? rc : cli_request_set(req, "DELETE", err, "/v1/channels/%s/plan", a->pos[0]);
    return rc ? rc
              : cli_request_guard(req, a, cmd_plan_render, err, "/v1/channels/%s/plan", a->pos[0]);
}

rf_err cmd_channel_list_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err)
{
    (void)v;
    static const char *const head[] = {"CHANNEL", "PLAN", "LIVE ROLLOUT", "BUNDLES"};
    static const char *const keys[] = {"name", "plan_source", "live_rollout", "bundles"};
    const json_t *list = NULL;
    cli_table t;
    rf_err rc = cli_table_init(&t, 4, head);
    rc = rc ? rc : cli_answer_array(answer, "channels", &list, err);
    cli_table_align_right(&t, 2);
    cli_table_align_right(&t, 3);
    for (size_t i = 0; rc == RF_OK && i < json_array_size(list); i++) {
        for (size_t k = 0; k < 4 && rc == RF_OK; k++) {
            rc = cli_table_add_json(&t, json_object_get(json_array_get(list, i), keys[k]));
        }
    }
    rc = rc ? rc : cli_table_render(&t, out);
    cli_table_cleanup(&t);
    return rc;
}

/* Appends the bake of stage s ("10m", "0s") to out. */
static rf_err bake_text(const json_t *s, rf_buf *out)
{
    char d[32];
    if (!json_is_integer(json_object_get(s, "bake_s"))) {
        return rf_buf_append_str(out, "-");
    }
    cli_duration_text(cli_jint(s, "bake_s", 0), d, sizeof d);
    return rf_buf_append_str(out, d);
}

/* A stage's percent, "100%"; "-" when missing. */
static rf_err percent_text(const json_t *s, rf_buf *out)
{
    const json_t *p = json_object_get(s, "percent");
    return json_is_integer(p)
               ? rf_buf_printf(out, "%" JSON_INTEGER_FORMAT "%%", json_integer_value(p))
               : rf_buf_append_str(out, "-");
}

/* "20%", or "policy" for null (the rollout policy's limit). */
static rf_err rate_text(const json_t *s, rf_buf *out)
{
    const json_t *r = json_object_get(s, "max_failure_rate");
    return json_is_number(r) ? rf_buf_printf(out, "%.4g%%", json_number_value(r) * 100.0)
                             : rf_buf_append_str(out, "policy");
}

rf_err cmd_stage_cells(cli_table *t, const json_t *s)
{
    rf_buf b;
    rf_buf_init(&b, 256);
    rf_err rc = percent_text(s, &b);
    rc = rc ? rc : cli_table_add(t, b.data);
    rf_buf_reset(&b);
    rc = rc ? rc : bake_text(s, &b);
    rc = rc ? rc : cli_table_add(t, b.data);
    rc = rc ? rc : cli_table_add_json(t, json_object_get(s, "min_healthy"));
    rf_buf_reset(&b);
    rc = rc ? rc : rate_text(s, &b);
    rc = rc ? rc : cli_table_add(t, b.data);
    rc =
        rc ? rc
           : cli_table_add(t, json_is_true(json_object_get(s, "auto_promote")) ? "auto" : "manual");
    rc = rc ? rc
            : cli_table_add(t, json_is_true(json_object_get(s, "require_approval")) ? "required"
                                                                                    : "-");
    rf_buf_cleanup(&b);
    return rc;
}

rf_err cmd_plan_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err)
{
    (void)v;
    static const char *const head[] = {"STAGE",       "RING",         "PERCENT",   "BAKE",
                                       "MIN HEALTHY", "MAX FAILURES", "PROMOTION", "APPROVAL"};
    const json_t *stages = NULL;
    cli_table t;
    rf_err rc = cli_table_init(&t, 8, head);
    rc = rc ? rc : cli_answer_array(answer, "stages", &stages, err);
    for (size_t c = 2; c < 6; c++) {
        cli_table_align_right(&t, c);
    }
    rc = rc ? rc : rf_buf_append_str(out, "channel ");
    rc = rc ? rc : cli_json_clean_text(json_object_get(answer, "channel"), out);
    rc = rc ? rc : rf_buf_append_str(out, "  plan ");
    rc = rc ? rc : cli_json_clean_text(json_object_get(answer, "source"), out);
    rc = rc ? rc : rf_buf_append_str(out, "  version ");
    rc = rc ? rc : cli_json_clean_text(json_object_get(answer, "version"), out);
    if (rc == RF_OK && json_is_string(json_object_get(answer, "updated_by"))) {
        rc = rf_buf_append_str(out, "  updated ");
        rc = rc ? rc : cli_json_clean_text(json_object_get(answer, "updated"), out);
        rc = rc ? rc : rf_buf_append_str(out, " by ");
        rc = rc ? rc : cli_json_clean_text(json_object_get(answer, "updated_by"), out);
    }
    rc = rc ? rc : rf_buf_append_str(out, "\n\n");
    for (size_t i = 0; rc == RF_OK && i < json_array_size(stages); i++) {
        const json_t *s = json_array_get(stages, i);
        const json_t *ring = json_object_get(s, "ring");
        rc = cli_table_addf(&t, "%zu", i);
        rc = rc ? rc : cli_table_add_json(&t, ring ? ring : json_object_get(s, "ring_id"));
        rc = rc ? rc : cmd_stage_cells(&t, s);
    }
    rc = rc ? rc : cli_table_render(&t, out);
    cli_table_cleanup(&t);
    if (rc == RF_OK && json_is_false(json_object_get(answer, "valid"))) {
        rc = rf_buf_append_str(out, "\nThis plan no longer matches the rings: ");
        rc = rc ? rc : cli_json_clean_text(json_object_get(answer, "problem"), out);
        rc = rc ? rc : rf_buf_append_str(out, "\n");
    }
    return rc;
}
