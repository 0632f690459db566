/* `ringfence rollout …`: create (with a plan from --stage specs or a
 * file), list, status, health, approve and the transitions. Pure. Every
 * transition is guarded: the rollout's version is read first and sent as
 * If-Match, so two engineers acting at once cannot both win. What status
 * shows is drawn in cmd_status.c. */
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
    return rc ? rc : cmd_plan_from_flags(a, req, err);
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

rf_err cmd_rollout_health_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                                rf_error *err)
{
    (void)cmd;
    long long id = 0;
    rf_err rc = cli_parse_id("ID", a->pos[0], &id, err);
    return rc ? rc : cli_request_set(req, "GET", err, "/v1/rollouts/%lld/health", id);
}

rf_err cmd_rollout_action_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                                rf_error *err)
{
    long long id = 0, stage = 0;
    int has_stage = 0;
    json_t *reason = NULL;
    rf_err rc = cli_parse_id("ID", a->pos[0], &id, err);
    rc = rc ? rc : cli_opt_ll(a, "stage", 0, 63, &stage, &has_stage, err);
    rc = rc ? rc : cli_request_set(req, "POST", err, "/v1/rollouts/%lld/%s", id, cmd->name);
    rc = rc ? rc
            : cli_request_guard(req, a, cmd_rollout_status_render, err, "/v1/rollouts/%lld", id);
    const char *r = cli_opt_get(a, "reason");
    if (rc == RF_OK && r != NULL && (rc = cli_json_text("--reason", r, &reason, err)) == RF_OK) {
        rc = cli_request_object(req, err);
        if (rc == RF_OK && json_object_set_new(req->body, "reason", reason) != 0) {
            rc = nomem(err);
        }
    }
    if (rc == RF_OK && has_stage) {
        rc = cli_request_object(req, err);
        if (rc == RF_OK && json_object_set_new(req->body, "stage", json_integer(stage)) != 0) {
            rc = nomem(err);
        }
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

rf_err cmd_rollout_stage_text(const json_t *rollout, rf_buf *out)
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
    if (rc == RF_OK && (rc = cmd_rollout_stage_text(r, &b)) == RF_OK) {
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

int cmd_rollout_is_final(const json_t *rollout)
{
    const char *state = cli_jstr(rollout, "state");
    return state != NULL && (strcmp(state, "completed") == 0 || strcmp(state, "reverted") == 0 ||
                             strcmp(state, "aborted") == 0);
}
