/* What `rollout status` and `rollout watch` show: a header line, the
 * policy, a table of stages (share, bake, promotion, approval, devices and
 * their health), the gates of the current stage with what each waits for,
 * the one-sentence "next", the pins and exclusions that hold devices back,
 * and the halt figures once halted. Pure; every string from the server is
 * shown cleaned, and a missing member shows as "-" rather than failing. */
#include "cmd.h"

#include <string.h>

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
    rc = rc ? rc : cmd_rollout_stage_text(r, out);
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

/* "pending", "by bob", or "-" for a stage needing no approval. */
static rf_err approval_text(const json_t *s, rf_buf *out)
{
    if (!json_is_true(json_object_get(s, "require_approval"))) {
        return rf_buf_append_str(out, "-");
    }
    if (json_is_string(json_object_get(s, "approved_by"))) {
        rf_err rc = rf_buf_append_str(out, "by ");
        return rc ? rc : cli_json_clean_text(json_object_get(s, "approved_by"), out);
    }
    return rf_buf_append_str(out, "pending");
}

/* "active", or "pending, window closed" while its ring's windows are shut. */
static rf_err stage_state_text(const json_t *s, rf_buf *out)
{
    const char *st = cli_jstr(s, "state");
    rf_err rc = cli_json_clean_text(json_object_get(s, "state"), out);
    int live = st != NULL && (strcmp(st, "active") == 0 || strcmp(st, "pending") == 0);
    if (rc == RF_OK && live && json_is_false(json_object_get(s, "window_open"))) {
        rc = rf_buf_append_str(out, ", window closed");
    }
    return rc;
}

static rf_err stage_row(cli_table *t, const json_t *s)
{
    static const char *const counts[] = {"devices", "exposed", "healthy", "failed", "silent"};
    char bake[32];
    rf_buf b;
    rf_buf_init(&b, CLI_MAX_OUTPUT);
    rf_err rc = cli_table_add_json(t, json_object_get(s, "index"));
    rc = rc ? rc : cli_table_add_json(t, json_object_get(s, "ring"));
    rc = rc ? rc : stage_state_text(s, &b);
    rc = rc ? rc : cli_table_add(t, b.data);
    rf_buf_reset(&b);
    const json_t *pct = json_object_get(s, "percent");
    rc = rc ? rc
            : (json_is_integer(pct)
                   ? cli_table_addf(t, "%" JSON_INTEGER_FORMAT "%%", json_integer_value(pct))
                   : cli_table_add(t, NULL));
    cli_duration_text(cli_jint(s, "bake_s", 0), bake, sizeof bake);
    rc = rc ? rc : cli_table_add(t, json_is_integer(json_object_get(s, "bake_s")) ? bake : NULL);
    rc =
        rc ? rc
           : cli_table_add(t, json_is_true(json_object_get(s, "auto_promote")) ? "auto" : "manual");
    rc = rc ? rc : approval_text(s, &b);
    rc = rc ? rc : cli_table_add(t, b.data);
    for (size_t k = 0; k < 5 && rc == RF_OK; k++) {
        rc = cli_table_add_json(t, json_object_get(s, counts[k]));
    }
    rf_buf_cleanup(&b);
    return rc;
}

static rf_err status_stages(const json_t *r, rf_buf *out)
{
    static const char *const head[] = {"STAGE",   "RING",    "STATE",    "SHARE",
                                       "BAKE",    "PROMOTE", "APPROVAL", "DEVICES",
                                       "EXPOSED", "HEALTHY", "FAILED",   "SILENT"};
    const json_t *stages = json_object_get(r, "stages");
    cli_table t;
    rf_err rc = cli_table_init(&t, 12, head);
    cli_table_align_right(&t, 3);
    cli_table_align_right(&t, 4);
    for (size_t c = 7; c < 12; c++) {
        cli_table_align_right(&t, c);
    }
    for (size_t i = 0; rc == RF_OK && i < json_array_size(stages); i++) {
        rc = stage_row(&t, json_array_get(stages, i));
    }
    rc = rc ? rc : rf_buf_append_str(out, "\n");
    rc = rc ? rc : cli_table_render(&t, out);
    cli_table_cleanup(&t);
    return rc;
}

rf_err cmd_gates_render(const json_t *r, rf_buf *out)
{
    const json_t *gates = json_object_get(r, "gates");
    long long stage = cli_jint(r, "stage", -1);
    const char *ring = NULL;
    for (size_t i = 0; i < json_array_size(json_object_get(r, "stages")); i++) {
        const json_t *s = json_array_get(json_object_get(r, "stages"), i);
        if (cli_jint(s, "index", (long long)i) == stage) {
            ring = cli_jstr(s, "ring");
        }
    }
    rf_err rc = RF_OK;
    if (json_array_size(gates) > 0) {
        cli_table t;
        rf_err rct = cli_table_init(&t, 4, NULL);
        rc = rct ? rct : rf_buf_printf(out, "\nGates of stage %lld", stage);
        if (rc == RF_OK && ring != NULL) {
            rc = rf_buf_append_str(out, " (");
            rc = rc ? rc : cli_text_clean(out, ring, 64, 0);
            rc = rc ? rc : rf_buf_append_str(out, ")");
        }
        rc = rc ? rc : rf_buf_append_str(out, ":\n");
        for (size_t i = 0; rc == RF_OK && i < json_array_size(gates); i++) {
            const json_t *g = json_array_get(gates, i);
            rc = cli_table_add(&t, "");
            rc = rc ? rc : cli_table_add_json(&t, json_object_get(g, "name"));
            rc = rc ? rc
                    : cli_table_add(&t,
                                    json_is_true(json_object_get(g, "ok")) ? "passed" : "waiting");
            rc = rc ? rc : cli_table_add_json(&t, json_object_get(g, "detail"));
        }
        rc = rc ? rc : cli_table_render(&t, out);
        cli_table_cleanup(&t);
        rc = rc ? rc : cmd_waits_for(r, out);
    }
    if (rc == RF_OK && json_is_string(json_object_get(r, "next"))) {
        rc = rf_buf_append_str(out, json_array_size(gates) > 0 ? "Next: " : "\nNext: ");
        rc = rc ? rc : cli_json_clean_text(json_object_get(r, "next"), out);
        rc = rc ? rc : rf_buf_append_str(out, "\n");
    }
    return rc;
}

rf_err cmd_waits_for(const json_t *r, rf_buf *out)
{
    const json_t *gates = json_object_get(r, "gates");
    size_t waiting = 0;
    rf_err rc = RF_OK;
    for (size_t i = 0; rc == RF_OK && i < json_array_size(gates); i++) {
        const json_t *g = json_array_get(gates, i);
        if (json_is_true(json_object_get(g, "ok"))) {
            continue;
        }
        rc = rf_buf_append_str(out, waiting++ ? ", " : "Waiting for: ");
        rc = rc ? rc : cli_json_clean_text(json_object_get(g, "detail"), out);
    }
    if (rc == RF_OK && json_array_size(gates) > 0) {
        rc = rf_buf_append_str(out, waiting ? "\n" : "Every gate passes.\n");
    }
    return rc;
}

/* The pins of the rollout's channel and the excluded devices. */
static rf_err status_holds(const json_t *r, rf_buf *out)
{
    const json_t *holds = json_object_get(r, "holds");
    const json_t *pins = json_object_get(holds, "pins");
    const json_t *ex = json_object_get(holds, "exclusions");
    rf_err rc = RF_OK;
    if (!json_is_object(holds)) {
        return RF_OK;
    }
    if (json_array_size(pins) == 0 && json_array_size(ex) == 0) {
        return rf_buf_append_str(out, "\nHolds: no pinned or excluded devices.\n");
    }
    if (json_array_size(pins) > 0) {
        rc = rf_buf_append_str(out, "\nPinned (never moved by this rollout):\n");
        rc = rc ? rc : cmd_pins_table(pins, out);
    }
    if (rc == RF_OK && json_array_size(ex) > 0) {
        rc = rf_buf_append_str(out, "\nExcluded devices (never offered a rollout's bundle):\n");
        rc = rc ? rc : cmd_exclusions_table(ex, out);
    }
    return rc;
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
    rc = rc ? rc : cmd_gates_render(answer, out);
    rc = rc ? rc : status_holds(answer, out);
    return rc ? rc : status_halt(answer, out);
}

static rf_err health_row(cli_table *t, const json_t *s)
{
    static const char *const keys[] = {"index", "exposed", "healthy", "failed", "silent"};
    const json_t *rate = json_object_get(s, "failure_rate");
    const json_t *max = json_object_get(s, "max_failure_rate");
    rf_err rc = RF_OK;
    for (size_t k = 0; k < 5 && rc == RF_OK; k++) {
        rc = cli_table_add_json(t, json_object_get(s, keys[k]));
    }
    rc = rc ? rc
            : (json_is_number(rate) ? cli_table_addf(t, "%.1f%%", json_number_value(rate) * 100.0)
                                    : cli_table_add(t, NULL));
    rc = rc ? rc
            : (json_is_number(max) ? cli_table_addf(t, "%.1f%%", json_number_value(max) * 100.0)
                                   : cli_table_add(t, NULL));
    rc = rc ? rc : cli_table_add_json(t, json_object_get(s, "min_failed_devices"));
    return rc ? rc : cli_table_add_json(t, json_object_get(s, "would_halt"));
}

rf_err cmd_rollout_health_render(const json_t *answer, const cli_view *v, rf_buf *out,
                                 rf_error *err)
{
    (void)v;
    static const char *const head[] = {"STAGE",   "EXPOSED", "HEALTHY",    "FAILED",    "SILENT",
                                       "FAILED%", "LIMIT",   "MIN FAILED", "WOULD HALT"};
    static const char *const fhead[] = {"DEVICE", "STAGE", "AT", "REASON"};
    const json_t *stages = NULL;
    const json_t *failures = json_object_get(answer, "failures");
    cli_table t, f;
    rf_err rc = cli_table_init(&t, 9, head);
    rf_err rcf = cli_table_init(&f, 4, fhead);
    rc = rc ? rc : rcf;
    rc = rc ? rc : cli_answer_array(answer, "stages", &stages, err);
    for (size_t c = 1; c < 8; c++) {
        cli_table_align_right(&t, c);
    }
    for (size_t i = 0; rc == RF_OK && i < json_array_size(stages); i++) {
        rc = health_row(&t, json_array_get(stages, i));
    }
    rc = rc ? rc : rf_buf_append_str(out, "rollout ");
    rc = rc ? rc : cli_json_clean_text(json_object_get(answer, "rollout_id"), out);
    rc = rc ? rc : rf_buf_append_str(out, "  state ");
    rc = rc ? rc : cli_json_clean_text(json_object_get(answer, "state"), out);
    rc = rc ? rc : rf_buf_append_str(out, "\n\n");
    rc = rc ? rc : cli_table_render(&t, out);
    cli_table_cleanup(&t);
    for (size_t i = 0; rc == RF_OK && i < json_array_size(failures); i++) {
        const json_t *e = json_array_get(failures, i);
        rc = cli_table_add_json(&f, json_object_get(e, "device_id"));
        rc = rc ? rc : cli_table_add_json(&f, json_object_get(e, "stage"));
        rc = rc ? rc : cli_table_add_json(&f, json_object_get(e, "at"));
        rc = rc ? rc : cli_table_add_json(&f, json_object_get(e, "reason"));
    }
    if (rc == RF_OK) {
        rc = rf_buf_append_str(out, json_array_size(failures) ? "\nFailed devices:\n"
                                                              : "\nNo device has failed.\n");
        rc = rc ? rc : (json_array_size(failures) ? cli_table_render(&f, out) : RF_OK);
    }
    cli_table_cleanup(&f);
    return rc;
}
