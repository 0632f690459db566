/* `ringfence ring list|create|show|delete`: requests and human output for
 * rings. Pure. Labels and the bucket range are checked here so a typo is a
 * usage error naming the flag; the server still validates everything. */
#include "cmd.h"

#include <stdint.h>
#include <string.h>

static const char *const ring_fields[] = {"id",      "name",    "order",   "labels",
                                          "buckets", "devices", "version", NULL};

rf_err cmd_ring_list_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                           rf_error *err)
{
    (void)cmd;
    (void)a;
    return cli_request_set(req, "GET", err, "/v1/rings");
}

/* {"name": …, "order": K, "labels": {…}, "buckets": [lo, hi]} from the flags. */
static rf_err ring_body(const cli_args *a, json_t *body, rf_error *err)
{
    long long order = 0;
    int has_order = 0;
    json_t *name = NULL;
    rf_err rc = cli_json_text("NAME", a->pos[0], &name, err);
    if (rc == RF_OK) {
        rc = json_object_set_new(body, "name", name) == 0 ? RF_OK : RF_ERR_NOMEM;
    }
    if (rc == RF_OK) {
        rc = cli_opt_ll(a, "order", 0, INT32_MAX, &order, &has_order, err);
    }
    if (rc == RF_OK) {
        rc = json_object_set_new(body, "order", json_integer(order)) == 0 ? RF_OK : RF_ERR_NOMEM;
    }
    json_t *labels = json_object();
    for (size_t i = 0; rc == RF_OK && i < a->nopts; i++) {
        if (strcmp(a->opt_name[i], "label") == 0) {
            rc = cli_parse_label(a->opt_val[i], labels, err);
        }
    }
    if (rc == RF_OK && json_object_size(labels) > 0) {
        rc = json_object_set(body, "labels", labels) == 0 ? RF_OK : RF_ERR_NOMEM;
    }
    json_decref(labels);
    const char *b = cli_opt_get(a, "buckets");
    int lo = 0, hi = 0;
    if (rc == RF_OK && b != NULL) {
        rc = cli_parse_buckets(b, &lo, &hi, err);
        if (rc == RF_OK) {
            rc = json_object_set_new(body, "buckets", json_pack("[ii]", lo, hi)) == 0
                     ? RF_OK
                     : RF_ERR_NOMEM;
        }
    }
    return rc;
}

rf_err cmd_ring_create_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                             rf_error *err)
{
    (void)cmd;
    rf_err rc = cli_request_set(req, "POST", err, "/v1/rings");
    if (rc == RF_OK) {
        req->body = json_object();
        rc = req->body ? ring_body(a, req->body, err) : RF_ERR_NOMEM;
    }
    return rc;
}

rf_err cmd_ring_show_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                           rf_error *err)
{
    (void)cmd;
    long long id = 0;
    rf_err rc = cli_parse_id("ID", a->pos[0], &id, err);
    if (rc == RF_OK) {
        rc = cli_request_set(req, "GET", err, "/v1/rings/%lld", id);
    }
    return rc;
}

rf_err cmd_ring_delete_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                             rf_error *err)
{
    (void)cmd;
    long long id = 0;
    rf_err rc = cli_parse_id("ID", a->pos[0], &id, err);
    if (rc == RF_OK) {
        rc = cli_request_set(req, "DELETE", err, "/v1/rings/%lld", id);
    }
    return rc;
}

static rf_err ring_row(cli_table *t, const json_t *r)
{
    rf_buf b;
    rf_buf_init(&b, CLI_MAX_OUTPUT);
    rf_err rc = cli_table_add_json(t, json_object_get(r, "id"));
    if (rc == RF_OK) {
        rc = cli_table_add_json(t, json_object_get(r, "order"));
    }
    if (rc == RF_OK) {
        rc = cli_table_add_json(t, json_object_get(r, "name"));
    }
    if (rc == RF_OK) {
        rc = cli_labels_text(json_object_get(r, "labels"), &b);
    }
    if (rc == RF_OK) {
        rc = cli_table_add(t, b.data);
        rf_buf_reset(&b);
    }
    if (rc == RF_OK) {
        rc = cli_buckets_text(json_object_get(r, "buckets"), &b);
    }
    if (rc == RF_OK) {
        rc = cli_table_add(t, b.data);
    }
    if (rc == RF_OK) {
        rc = cli_table_add_json(t, json_object_get(r, "devices"));
    }
    rf_buf_cleanup(&b);
    return rc;
}

rf_err cmd_ring_list_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err)
{
    (void)v;
    static const char *const head[] = {"ID", "ORDER", "NAME", "LABELS", "BUCKETS", "DEVICES"};
    const json_t *list = NULL;
    cli_table t;
    rf_err rc = cli_table_init(&t, 6, head);
    if (rc == RF_OK) {
        rc = cli_answer_array(answer, "rings", &list, err);
    }
    cli_table_align_right(&t, 0);
    cli_table_align_right(&t, 1);
    cli_table_align_right(&t, 5);
    for (size_t i = 0; rc == RF_OK && i < json_array_size(list); i++) {
        rc = ring_row(&t, json_array_get(list, i));
    }
    if (rc == RF_OK) {
        rc = cli_table_render(&t, out);
    }
    cli_table_cleanup(&t);
    return rc;
}

rf_err cmd_ring_show_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err)
{
    (void)v;
    (void)err;
    return cli_render_fields(answer, ring_fields, out);
}

rf_err cmd_ring_delete_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err)
{
    (void)answer;
    long long id = 0;
    rf_err rc = cli_parse_id("ID", v->args->pos[0], &id, err);
    return rc == RF_OK ? rf_buf_printf(out, "deleted ring %lld\n", id) : rc;
}
