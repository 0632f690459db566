/* `ringfence bundle push|list|show`: requests and human output for bundles.
 * Pure: push only names the file here; run.c opens it, checks its size and
 * streams it. Query values are always escaped through cli_query_add. */
#include "cmd.h"

static const char *const bundle_fields[] = {"id",     "channel", "name",       "version", "sha256",
                                            "length", "created", "created_by", NULL};

rf_err cmd_bundle_push_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                             rf_error *err)
{
    (void)cmd;
    rf_err rc = cli_request_set(req, "POST", err, "/v1/bundles");
    if (rc == RF_OK) {
        rc = cli_query_add(&req->path, "channel", cli_opt_get(a, "channel"));
    }
    if (rc == RF_OK) {
        rc = cli_query_add(&req->path, "name", cli_opt_get(a, "name"));
    }
    if (rc == RF_OK) {
        rc = cli_query_add(&req->path, "version", cli_opt_get(a, "version"));
    }
    if (rc != RF_OK) {
        return rf_error_set(err, rc, "the request URL is too long");
    }
    req->upload = a->pos[0];
    return RF_OK;
}

rf_err cmd_bundle_list_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                             rf_error *err)
{
    (void)cmd;
    rf_err rc = cli_request_set(req, "GET", err, "/v1/bundles");
    if (rc == RF_OK && cli_query_add(&req->path, "channel", cli_opt_get(a, "channel")) != RF_OK) {
        rc = rf_error_set(err, RF_ERR_TOO_LARGE, "the request URL is too long");
    }
    return rc;
}

rf_err cmd_bundle_show_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                             rf_error *err)
{
    (void)cmd;
    long long id = 0;
    rf_err rc = cli_parse_id("ID", a->pos[0], &id, err);
    if (rc == RF_OK) {
        rc = cli_request_set(req, "GET", err, "/v1/bundles/%lld", id);
    }
    return rc;
}

/* One row per bundle; the hash is cut to 12 digits, enough to tell apart. */
static rf_err bundle_row(cli_table *t, const json_t *b)
{
    char size[32];
    const char *sha = cli_jstr(b, "sha256");
    cli_size_text(cli_jint(b, "length", 0), size, sizeof size);
    rf_err rc = cli_table_add_json(t, json_object_get(b, "id"));
    if (rc == RF_OK) {
        rc = cli_table_add_json(t, json_object_get(b, "channel"));
    }
    if (rc == RF_OK) {
        rc = cli_table_add_json(t, json_object_get(b, "name"));
    }
    if (rc == RF_OK) {
        rc = cli_table_add_json(t, json_object_get(b, "version"));
    }
    if (rc == RF_OK) {
        rc = json_is_integer(json_object_get(b, "length")) ? cli_table_add(t, size)
                                                           : cli_table_add(t, NULL);
    }
    if (rc == RF_OK) {
        rc = sha ? cli_table_addf(t, "%.12s", sha) : cli_table_add(t, NULL);
    }
    if (rc == RF_OK) {
        rc = cli_table_add_json(t, json_object_get(b, "created"));
    }
    if (rc == RF_OK) {
        rc = cli_table_add_json(t, json_object_get(b, "created_by"));
    }
    return rc;
}

rf_err cmd_bundle_list_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err)
{
    (void)v;
    static const char *const head[] = {"ID",   "CHANNEL", "NAME",    "VERSION",
                                       "SIZE", "SHA256",  "CREATED", "BY"};
    const json_t *list = NULL;
    cli_table t;
    rf_err rc = cli_table_init(&t, 8, head);
    if (rc == RF_OK) {
        rc = cli_answer_array(answer, "bundles", &list, err);
    }
    cli_table_align_right(&t, 0);
    cli_table_align_right(&t, 4);
    for (size_t i = 0; rc == RF_OK && i < json_array_size(list); i++) {
        rc = bundle_row(&t, json_array_get(list, i));
    }
    if (rc == RF_OK) {
        rc = cli_table_render(&t, out);
    }
    cli_table_cleanup(&t);
    return rc;
}

rf_err cmd_bundle_show_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err)
{
    (void)v;
    (void)err;
    return cli_render_fields(answer, bundle_fields, out);
}
