/* `ringfence rollout …`: create, list, status and the six transitions.
 * Pure. The status view is what a release engineer watches during a
 * rollout: a header line (id, bundle, channel, state, current stage), the
 * policy, a table of stages and, once halted, the figures that halted it.
 * Every string from the server goes through the cleaning helpers. */
#include "cmd.h"

#include <string.h>

static const char *const rollout_states[] = {"draft",    "active",    "paused", "halted",
                                             "reverted", "completed", NULL};

static rf_err nomem(rf_error *err)
{
    return rf_error_set(err, RF_ERR_NOMEM, "out of memory");
}

/* The policy overrides given as flags; *out stays NULL when none is. */
static rf_err policy_from_flags(const cli_args *a, json_t **out, rf_error *err)
{
    long long n = 0;
    int has = 0;
    double rate = 0;
    json_t *p = json_object();
    rf_err rc = p ? RF_OK : nomem(err);
    const char *s = cli_opt_get(a, "max-failure-rate");
    if (rc == RF_OK && s != NULL && (rc = cli_parse_rate("max-failure-rate", s, &rate, err)) == 0) {
        rc = json_object_set_new(p, "max_failure_rate", json_real(rate)) ? nomem(err) : RF_OK;
    }
    if (rc == RF_OK && (rc = cli_opt_ll(a, "min-failed", 1, 1000000, &n, &has, err)) == 0 && has) {
        rc = json_object_set_new(p, "min_failed_devices", json_integer(n)) ? nomem(err) : RF_OK;
    }
    s = cli_opt_get(a, "on-halt");
    if (rc == RF_OK && s != NULL) {
        if (strcmp(s, "revert") != 0 && strcmp(s, "pause") != 0) {
            rc = rf_error_set(err, RF_ERR_INVALID, "--on-halt: '%s' is not revert or pause", s);
        } else {
            rc = json_object_set_new(p, "on_halt", json_string(s)) ? nomem(err) : RF_OK;
        }
    }
    if (rc == RF_OK && (rc = cli_opt_ll(a, "health-window", 1, 7LL * 86400, &n, &has, err)) == 0 &&
        has) {
        rc = json_object_set_new(p, "health_window_s", json_integer(n)) ? nomem(err) : RF_OK;
    }
    if (rc != RF_OK || json_object_size(p) == 0) {
        json_decref(p);
        p = NULL;
    }
    *out = p;
    return rc;
}

rf_err cmd_rollout_create_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                                rf_error *err)
{
    (void)cmd;
    long long bundle = 0;
    json_t *policy = NULL;
    rf_err rc = cli_parse_id("--bundle", cli_opt_get(a, "bundle"), &bundle, err);
    if (rc == RF_OK) {
        rc = policy_from_flags(a, &policy, err);
    }
    if (rc == RF_OK) {
        rc = cli_request_set(req, "POST", err, "/v1/rollouts");
    }
    if (rc == RF_OK) {
        req->body = json_pack("{sI}", "bundle_id", (json_int_t)bundle);
        rc = req->body ? RF_OK : nomem(err);
    }
    if (rc == RF_OK && policy != NULL) {
        rc = json_object_set(req->body, "policy", policy) ? nomem(err) : RF_OK;
    }
    json_decref(policy);
    return rc;
}

rf_err cmd_rollout_list_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                              rf_error *err)
{
    (void)cmd;
    const char *state = cli_opt_get(a, "state");
    size_t i = 0;
    while (state != NULL && rollout_states[i] != NULL && strcmp(rollout_states[i], state) != 0) {
        i++;
    }
    if (state != NULL && rollout_states[i] == NULL) {
        return rf_error_set(err, RF_ERR_INVALID,
                            "--state: '%s' is not one of draft, active, paused, halted, "
                            "reverted, completed",
                            state);
    }
    rf_err rc = cli_request_set(req, "GET", err, "/v1/rollouts");
    if (rc == RF_OK && (cli_query_add(&req->path, "channel", cli_opt_get(a, "channel")) ||
                        cli_query_add(&req->path, "state", state))) {
        rc = rf_error_set(err, RF_ERR_TOO_LARGE, "the request URL is too long");
    }
    return rc;
}

rf_err cmd_rollout_status_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                                rf_error *err)
{
    (void)cmd;
    long long id = 0;
    rf_err rc = cli_parse_id("ID", a->pos[0], &id, err);
    if (rc == RF_OK) {
        rc = cli_request_set(req, "GET", err, "/v1/rollouts/%lld", id);
    }
    return rc;
}

rf_err cmd_rollout_action_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                                rf_error *err)
{
    long long id = 0;
    json_t *reason = NULL;
    rf_err rc = cli_parse_id("ID", a->pos[0], &id, err);
    if (rc == RF_OK) {
        rc = cli_request_set(req, "POST", err, "/v1/rollouts/%lld/%s", id, cmd->name);
    }
    const char *r = cli_opt_get(a, "reason");
    if (rc == RF_OK && r != NULL && (rc = cli_json_text("--reason", r, &reason, err)) == RF_OK) {
        req->body = json_pack("{so}", "reason", reason); /* steals reason */
        rc = req->body ? RF_OK : nomem(err);
    }
    return rc;
}

/* The name of the ring at stage index `stage`, or NULL. */
static const char *stage_ring(const json_t *rollout, long long stage)
{
    const json_t *stages = json_object_get(rollout, "stages");
    for (size_t i = 0; i < json_array_size(stages); i++) {
        const json_t *s = json_array_get(stages, i);
        if (cli_jint(s, "index", (long long)i) == stage) {
            return cli_jstr(s, "ring");
        }
    }
    return NULL;
}

/* "2 (broad)", or "-" before the first stage starts. */
static rf_err stage_text(const json_t *rollout, rf_buf *out)
{
    long long stage = cli_jint(rollout, "stage", -1);
    if (stage < 0) {
        return rf_buf_append_str(out, "-");
    }
    const char *ring = stage_ring(rollout, stage);
    rf_err rc = rf_buf_printf(out, "%lld", stage);
    if (rc == RF_OK && ring != NULL) {
        rc = rf_buf_append_str(out, " (");
        rc = rc ? rc : cli_text_clean(out, ring, 64, 0);
        rc = rc ? rc : rf_buf_append_str(out, ")");
    }
    return rc;
}

static rf_err rollout_row(cli_table *t, const json_t *r)
{
    static const char *const keys[] = {"id", "bundle_id", "channel", "state"};
    rf_err rc = RF_OK;
    for (size_t k = 0; k < 4 && rc == RF_OK; k++) {
        rc = cli_table_add_json(t, json_object_get(r, keys[k]));
    }
    rf_buf b;
    rf_buf_init(&b, CLI_MAX_OUTPUT);
    if (rc == RF_OK && (rc = stage_text(r, &b)) == RF_OK) {
        rc = cli_table_add(t, b.data);
    }
    rf_buf_cleanup(&b);
    if (rc == RF_OK) {
        rc = cli_table_add_json(t, json_object_get(r, "created"));
    }
    if (rc == RF_OK) {
        rc = cli_table_add_json(t, json_object_get(r, "created_by"));
    }
    return rc;
}

rf_err cmd_rollout_list_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err)
{
    (void)v;
    static const char *const head[] = {"ID",    "BUNDLE",  "CHANNEL", "STATE",
                                       "STAGE", "CREATED", "BY"};
    const json_t *list = NULL;
    cli_table t;
    rf_err rc = cli_table_init(&t, 7, head);
    if (rc == RF_OK) {
        rc = cli_answer_array(answer, "rollouts", &list, err);
    }
    cli_table_align_right(&t, 0);
    cli_table_align_right(&t, 1);
    for (size_t i = 0; rc == RF_OK && i < json_array_size(list); i++) {
        rc = rollout_row(&t, json_array_get(list, i));
    }
    if (rc == RF_OK) {
        rc = cli_table_render(&t, out);
    }
    cli_table_cleanup(&t);
    return rc;
}

/* Appends prefix as is, then v as cleaned text. */
static rf_err put(rf_buf *out, const char *prefix, const json_t *v)
{
    rf_err rc = rf_buf_append_str(out, prefix);
    return rc ? rc : cli_json_clean_text(v, out);
}

/* rollout 4  bundle 12  channel content  state active  stage 0 (canary) */
static rf_err status_header(const json_t *r, rf_buf *out)
{
    rf_err rc = put(out, "rollout ", json_object_get(r, "id"));
    rc = rc ? rc : put(out, "  bundle ", json_object_get(r, "bundle_id"));
    rc = rc ? rc : put(out, "  channel ", json_object_get(r, "channel"));
    rc = rc ? rc : put(out, "  state ", json_object_get(r, "state"));
    rc = rc ? rc : rf_buf_append_str(out, "  stage ");
    rc = rc ? rc : stage_text(r, out);
    rc = rc ? rc : put(out, "\nprevious bundle ", json_object_get(r, "previous_bundle_id"));
    rc = rc ? rc : put(out, "  created ", json_object_get(r, "created"));
    rc = rc ? rc : put(out, " by ", json_object_get(r, "created_by"));
    rc = rc ? rc : put(out, "  version ", json_object_get(r, "version"));
    return rc ? rc : rf_buf_append_str(out, "\n");
}

/* policy: halt when 50% of exposed devices fail (at least 1), then revert, … */
static rf_err status_policy(const json_t *r, rf_buf *out)
{
    const json_t *p = json_object_get(r, "policy");
    if (!json_is_object(p)) {
        return RF_OK;
    }
    const json_t *rate = json_object_get(p, "max_failure_rate");
    rf_err rc = rf_buf_append_str(out, "policy: halt when ");
    if (rc == RF_OK && json_is_number(rate)) {
        rc = rf_buf_printf(out, "%.4g%%", json_number_value(rate) * 100.0);
    } else if (rc == RF_OK) {
        rc = rf_buf_append_str(out, "-");
    }
    rc = rc ? rc
            : put(out, " of exposed devices fail (at least ",
                  json_object_get(p, "min_failed_devices"));
    rc = rc ? rc : put(out, "), then ", json_object_get(p, "on_halt"));
    rc = rc ? rc : put(out, "; health window ", json_object_get(p, "health_window_s"));
    return rc ? rc : rf_buf_append_str(out, "s\n");
}

static rf_err status_stages(const json_t *r, rf_buf *out)
{
    static const char *const head[] = {"STAGE",   "RING",    "STATE", "DEVICES",
                                       "EXPOSED", "HEALTHY", "FAILED"};
    static const char *const keys[] = {"index",   "ring",    "state", "devices",
                                       "exposed", "healthy", "failed"};
    const json_t *stages = json_object_get(r, "stages");
    cli_table t;
    rf_err rc = cli_table_init(&t, 7, head);
    for (size_t c = 3; c < 7; c++) {
        cli_table_align_right(&t, c);
    }
    for (size_t i = 0; rc == RF_OK && i < json_array_size(stages); i++) {
        const json_t *s = json_array_get(stages, i);
        for (size_t k = 0; k < 7 && rc == RF_OK; k++) {
            rc = cli_table_add_json(&t, json_object_get(s, keys[k]));
        }
    }
    rc = rc ? rc : rf_buf_append_str(out, "\n");
    rc = rc ? rc : cli_table_render(&t, out);
    cli_table_cleanup(&t);
    return rc;
}

/* halted 2026-…Z by evaluator at stage 0: 1 of 2 exposed devices failed (50%) */
static rf_err status_halt(const json_t *r, rf_buf *out)
{
    const json_t *h = json_object_get(r, "halt");
    if (!json_is_object(h)) {
        return RF_OK;
    }
    const json_t *rate = json_object_get(h, "failure_rate");
    rf_err rc = put(out, "\nhalted ", json_object_get(h, "at"));
    rc = rc ? rc : put(out, " by ", json_object_get(h, "by"));
    rc = rc ? rc : put(out, " at stage ", json_object_get(h, "stage"));
    rc = rc ? rc : put(out, ": ", json_object_get(h, "failed"));
    rc = rc ? rc : put(out, " of ", json_object_get(h, "exposed"));
    rc = rc ? rc : rf_buf_append_str(out, " exposed devices failed");
    if (rc == RF_OK && json_is_number(rate)) {
        rc = rf_buf_printf(out, " (%.4g%%)", json_number_value(rate) * 100.0);
    }
    if (rc == RF_OK && json_is_string(json_object_get(h, "reason"))) {
        rc = put(out, "\nreason: ", json_object_get(h, "reason"));
    }
    return rc ? rc : rf_buf_append_str(out, "\n");
}

rf_err cmd_rollout_status_render(const json_t *answer, const cli_view *v, rf_buf *out,
                                 rf_error *err)
{
    (void)v;
    if (!json_is_object(answer) || json_object_get(answer, "id") == NULL) {
        return rf_error_set(err, RF_ERR_INVALID, "the server's answer is not a rollout");
    }
    rf_err rc = status_header(answer, out);
    rc = rc ? rc : status_policy(answer, out);
    rc = rc ? rc : status_stages(answer, out);
    return rc ? rc : status_halt(answer, out);
}
