/* Holds: pins (a device or a whole ring held at one bundle of a channel,
 * typically the known-good N-1) and exclusions (a device kept out of every
 * rollout). `device pin|unpin|exclude|include|exclusions`, `ring pin|unpin`,
 * `pin list|delete`. Builders and renderers are pure (unpinning reads the
 * pins first and deletes the one that matches); the one piece of I/O is
 * cmd_device_run, which turns a short device id into the whole one before
 * a builder ever sees it. */
#include "cmd.h"
#include "run.h"
#include "rf_util.h"

#include <string.h>

static rf_err nomem(rf_error *err)
{
    return rf_error_set(err, RF_ERR_NOMEM, "out of memory");
}

/* {"channel": C, <target>: id, "bundle_id"?: B, "reason"?: R} */
static rf_err pin_body(const cli_args *a, json_t *target_key_val, const char *target_key,
                       cli_request *req, rf_error *err)
{
    long long bundle = 0;
    int has_bundle = 0;
    json_t *reason = NULL;
    const char *r = cli_opt_get(a, "reason");
    rf_err rc = cli_opt_ll(a, "bundle", 1, INT64_MAX, &bundle, &has_bundle, err);
    rc = rc ? rc : (r ? cli_json_text("--reason", r, &reason, err) : RF_OK);
    rc = rc ? rc : cli_request_set(req, "POST", err, "/v1/pins");
    if (rc == RF_OK) {
        req->body = json_pack("{s:s,s:O}", "channel", cli_opt_get(a, "channel"), target_key,
                              target_key_val);
        rc = req->body ? RF_OK : nomem(err);
    }
    if (rc == RF_OK && has_bundle &&
        json_object_set_new(req->body, "bundle_id", json_integer(bundle)) != 0) {
        rc = nomem(err);
    }
    if (rc == RF_OK && reason != NULL) {
        rc = json_object_set_new(req->body, "reason", reason) ? nomem(err) : RF_OK;
        reason = NULL;
    }
    json_decref(reason);
    return rc;
}

rf_err cmd_device_pin_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                            rf_error *err)
{
    (void)cmd;
    rf_err rc = cmd_device_arg(a->pos[0], err);
    json_t *id = rc == RF_OK ? json_string(a->pos[0]) : NULL;
    rc = rc ? rc : (id ? pin_body(a, id, "device_id", req, err) : nomem(err));
    json_decref(id);
    return rc;
}

rf_err cmd_ring_pin_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                          rf_error *err)
{
    (void)cmd;
    long long ring = 0;
    rf_err rc = cli_parse_id("ID", a->pos[0], &ring, err);
    json_t *id = rc == RF_OK ? json_integer(ring) : NULL;
    rc = rc ? rc : (id ? pin_body(a, id, "ring_id", req, err) : nomem(err));
    json_decref(id);
    return rc;
}

/* Finds, among the pins read, the one of this device (or ring) and channel. */
static rf_err unpin_prepare(const cli_args *a, const json_t *answer, cli_request *req,
                            rf_error *err)
{
    const json_t *pins = json_object_get(answer, "pins");
    const char *channel = cli_opt_get(a, "channel");
    int by_device = cli_device_id_ok(a->pos[0]);
    long long ring_id = 0;
    if (!by_device && cli_parse_id("ID", a->pos[0], &ring_id, err) != RF_OK) {
        return RF_ERR_INVALID;
    }
    for (size_t i = 0; i < json_array_size(pins); i++) {
        const json_t *p = json_array_get(pins, i);
        const char *ch = cli_jstr(p, "channel");
        const char *dev = cli_jstr(p, "device_id");
        int mine = by_device ? dev != NULL && strcmp(dev, a->pos[0]) == 0
                             : dev == NULL && cli_jint(p, "ring_id", 0) == ring_id;
        if (mine && ch != NULL && strcmp(ch, channel) == 0) {
            return cli_request_set(req, "DELETE", err, "/v1/pins/%lld", cli_jint(p, "id", 0));
        }
    }
    return rf_error_set(err, RF_ERR_NOT_FOUND, "%s %s has no pin on channel '%s'%s",
                        by_device ? "device" : "ring", a->pos[0], channel,
                        by_device ? " (a pin of its ring is removed with 'ring unpin')" : "");
}

rf_err cmd_unpin_build(const cli_command *cmd, const cli_args *a, cli_request *req, rf_error *err)
{
    long long ring = 0;
    rf_buf q;
    rf_buf_init(&q, 512);
    int device = strcmp(cmd->group, "device") == 0;
    rf_err rc = device ? cmd_device_arg(a->pos[0], err) : cli_parse_id("ID", a->pos[0], &ring, err);
    rc = rc ? rc : rf_buf_append_str(&q, "/v1/pins");
    rc = rc ? rc : cli_query_add(&q, "channel", cli_opt_get(a, "channel"));
    rc = rc ? rc : cli_query_add(&q, device ? "device_id" : "ring_id", a->pos[0]);
    rc = rc ? rc : cli_request_fetch(req, unpin_prepare, err, "%s", q.data);
    /* Until the pin is found the request has no path: prepare sets it. */
    rc = rc ? rc : cli_request_set(req, "DELETE", err, "/v1/pins/0");
    rf_buf_cleanup(&q);
    return rc;
}

rf_err cmd_pin_list_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                          rf_error *err)
{
    (void)cmd;
    long long ring = 0;
    int has_ring = 0;
    const char *dev = cli_opt_get(a, "device");
    rf_err rc = cli_opt_ll(a, "ring", 1, INT64_MAX, &ring, &has_ring, err);
    if (rc == RF_OK && dev != NULL && !cli_device_id_ok(dev)) {
        rc = rf_error_set(err, RF_ERR_INVALID, "--device: '%.40s' is not a device id", dev);
    }
    rc = rc ? rc : cli_request_set(req, "GET", err, "/v1/pins");
    rc = rc ? rc : cli_query_add(&req->path, "channel", cli_opt_get(a, "channel"));
    rc = rc ? rc : cli_query_add(&req->path, "device_id", dev);
    rc = rc ? rc : cli_query_add(&req->path, "ring_id", has_ring ? cli_opt_get(a, "ring") : NULL);
    return rc;
}

rf_err cmd_pin_delete_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                            rf_error *err)
{
    (void)cmd;
    long long id = 0;
    rf_err rc = cli_parse_id("PIN", a->pos[0], &id, err);
    return rc ? rc : cli_request_set(req, "DELETE", err, "/v1/pins/%lld", id);
}

rf_err cmd_exclude_build(const cli_command *cmd, const cli_args *a, cli_request *req, rf_error *err)
{
    (void)cmd;
    json_t *reason = NULL;
    const char *r = cli_opt_get(a, "reason");
    rf_err rc = cmd_device_arg(a->pos[0], err);
    rc = rc ? rc : (r ? cli_json_text("--reason", r, &reason, err) : RF_OK);
    rc = rc ? rc : cli_request_set(req, "POST", err, "/v1/exclusions");
    if (rc == RF_OK) {
        req->body = json_pack("{s:s}", "device_id", a->pos[0]);
        rc = req->body ? RF_OK : nomem(err);
    }
    if (rc == RF_OK && reason != NULL) {
        rc = json_object_set_new(req->body, "reason", reason) ? nomem(err) : RF_OK;
        reason = NULL;
    }
    json_decref(reason);
    return rc;
}

rf_err cmd_include_build(const cli_command *cmd, const cli_args *a, cli_request *req, rf_error *err)
{
    (void)cmd;
    rf_err rc = cmd_device_arg(a->pos[0], err);
    return rc ? rc : cli_request_set(req, "DELETE", err, "/v1/exclusions/%s", a->pos[0]);
}

rf_err cmd_exclusions_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                            rf_error *err)
{
    (void)cmd;
    (void)a;
    return cli_request_set(req, "GET", err, "/v1/exclusions");
}

/* "pin 3 holds device 9f01… at bundle 11 on channel content" (or "ring broad"). */
static rf_err pin_line(const json_t *p, const char *verb, rf_buf *out)
{
    const char *dev = cli_jstr(p, "device_id");
    rf_err rc = rf_buf_append_str(out, "pin ");
    rc = rc ? rc : cli_json_clean_text(json_object_get(p, "id"), out);
    if (rc == RF_OK && dev != NULL) {
        rc = rf_buf_printf(out, "%s device ", verb);
        rc = rc ? rc : cli_text_clean(out, dev, 64, 0);
    } else if (rc == RF_OK) {
        rc = rf_buf_printf(out, "%s ring ", verb);
        rc = rc ? rc : cli_json_clean_text(json_object_get(p, "ring"), out);
    }
    rc = rc ? rc : rf_buf_append_str(out, " at bundle ");
    rc = rc ? rc : cli_json_clean_text(json_object_get(p, "bundle_id"), out);
    rc = rc ? rc : rf_buf_append_str(out, " on channel ");
    return rc ? rc : cli_json_clean_text(json_object_get(p, "channel"), out);
}

rf_err cmd_pin_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err)
{
    (void)v;
    (void)err;
    rf_err rc = pin_line(answer, " holds", out);
    return rc ? rc : rf_buf_append_str(out, "\n");
}

rf_err cmd_unpin_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err)
{
    (void)v;
    (void)err;
    rf_err rc = rf_buf_append_str(out, "removed ");
    rc = rc ? rc : pin_line(answer, ", which held", out);
    return rc ? rc : rf_buf_append_str(out, "\n");
}

rf_err cmd_pins_table(const json_t *pins, rf_buf *out)
{
    static const char *const head[] = {"PIN",  "CHANNEL", "BUNDLE", "DEVICE",
                                       "RING", "REASON",  "BY"};
    cli_table t;
    rf_err rc = cli_table_init(&t, 7, head);
    cli_table_align_right(&t, 0);
    cli_table_align_right(&t, 2);
    for (size_t i = 0; rc == RF_OK && i < json_array_size(pins); i++) {
        const json_t *p = json_array_get(pins, i);
        const char *dev = cli_jstr(p, "device_id");
        const char *reason = cli_jstr(p, "reason");
        rc = cli_table_add_json(&t, json_object_get(p, "id"));
        rc = rc ? rc : cli_table_add_json(&t, json_object_get(p, "channel"));
        rc = rc ? rc : cli_table_add_json(&t, json_object_get(p, "bundle_id"));
        rc = rc ? rc
                : (dev ? cli_table_addf(&t, "%.*s", CLI_SHORT_ID, dev) : cli_table_add(&t, NULL));
        rc = rc ? rc : cli_table_add_json(&t, json_object_get(p, "ring"));
        rc = rc ? rc : cli_table_add(&t, reason && reason[0] ? reason : NULL);
        rc = rc ? rc : cli_table_add_json(&t, json_object_get(p, "created_by"));
    }
    rc = rc ? rc : cli_table_render(&t, out);
    cli_table_cleanup(&t);
    return rc;
}

rf_err cmd_exclusions_table(const json_t *list, rf_buf *out)
{
    static const char *const head[] = {"DEVICE", "REASON", "SINCE", "BY"};
    cli_table t;
    rf_err rc = cli_table_init(&t, 4, head);
    for (size_t i = 0; rc == RF_OK && i < json_array_size(list); i++) {
        const json_t *e = json_array_get(list, i);
        const char *reason = cli_jstr(e, "reason");
        rc = cli_table_add_json(&t, json_object_get(e, "device_id"));
        rc = rc ? rc : cli_table_add(&t, reason && reason[0] ? reason : NULL);
        rc = rc ? rc : cli_table_add_json(&t, json_object_get(e, "created"));
        rc = rc ? rc : cli_table_add_json(&t, json_object_get(e, "created_by"));
    }
    rc = rc ? rc : cli_table_render(&t, out);
    cli_table_cleanup(&t);
    return rc;
}

rf_err cmd_pin_list_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err)
{
    (void)v;
    const json_t *list = NULL;
    rf_err rc = cli_answer_array(answer, "pins", &list, err);
    if (rc == RF_OK && json_array_size(list) == 0) {
        return rf_buf_append_str(out, "no pins\n");
    }
    return rc ? rc : cmd_pins_table(list, out);
}

rf_err cmd_exclusions_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err)
{
    (void)v;
    const json_t *list = NULL;
    rf_err rc = cli_answer_array(answer, "exclusions", &list, err);
    if (rc == RF_OK && json_array_size(list) == 0) {
        return rf_buf_append_str(out, "no excluded devices\n");
    }
    return rc ? rc : cmd_exclusions_table(list, out);
}

rf_err cmd_exclude_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err)
{
    (void)v;
    (void)err;
    rf_err rc = rf_buf_append_str(out, "device ");
    rc = rc ? rc : cli_json_clean_text(json_object_get(answer, "device_id"), out);
    return rc ? rc : rf_buf_append_str(out, " is excluded from every rollout\n");
}

rf_err cmd_include_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err)
{
    (void)v;
    (void)err;
    rf_err rc = rf_buf_append_str(out, "device ");
    rc = rc ? rc : cli_json_clean_text(json_object_get(answer, "device_id"), out);
    return rc ? rc : rf_buf_append_str(out, " takes part in rollouts again\n");
}

int cmd_device_run(const cli_command *cmd, const cli_args *a)
{
    const char *s = a->npos > 0 ? a->pos[0] : "";
    size_t len = strlen(s);
    if (cli_device_id_ok(s) || len == 0 || len > 32 || strspn(s, "0123456789abcdef") != len) {
        return cli_run_default(cmd, a); /* whole ids, and bad ones the builder names */
    }
    /* A short id: find the one device it starts. */
    cli_client *client = NULL;
    json_t *devices = NULL;
    char id[33];
    rf_error err = {RF_OK, ""};
    int status = cli_connect(cmd, a, &client);
    status = status ? status : cli_fetch(client, "/v1/devices", &devices, NULL);
    if (status == CLI_EXIT_OK && cmd_device_match(devices, s, id, &err) != RF_OK) {
        status = cli_usage_error(cmd, err.message);
    }
    json_decref(devices);
    cli_client_free(client);
    if (status != CLI_EXIT_OK) {
        return status;
    }
    cli_args whole = *a;
    whole.pos[0] = id;
    return cli_run_default(cmd, &whole);
}
