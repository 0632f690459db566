/* `ringfence ring preview`: what a ring change would do to the fleet before
 * anything is saved — devices per ring now and after, devices that move,
 * overlaps between rings, and whether saving would be refused. Pure: the
 * request is built from the same flags as ring create/update, and the
 * answer of POST /v1/rings/preview is rendered as text. */
#include "cmd.h"

#include <string.h>

static rf_err nomem(rf_error *err)
{
    return rf_error_set(err, RF_ERR_NOMEM, "out of memory");
}

/* Wraps body as {"ring": body} in the request (steals body). */
static rf_err set_ring(cli_request *req, json_t *body, rf_error *err)
{
    json_decref(req->body);
    req->body = json_pack("{so}", "ring", body);
    return req->body ? RF_OK : nomem(err);
}

/* --id ID: the ring as it is, changed by the flags, with its id. */
static rf_err preview_one_prepare(const cli_args *a, const json_t *ring, cli_request *req,
                                  rf_error *err)
{
    json_t *body = NULL;
    rf_err rc = cmd_ring_editable(ring, &body, err);
    rc = rc ? rc : cmd_ring_apply_flags(a, body, err);
    if (rc == RF_OK && json_object_set(body, "id", json_object_get(ring, "id")) != 0) {
        rc = nomem(err);
    }
    if (rc != RF_OK) {
        json_decref(body);
        return rc;
    }
    return set_ring(req, body, err);
}

/* No ring named: the current set as it is, to see counts and overlaps. */
static rf_err preview_all_prepare(const cli_args *a, const json_t *answer, cli_request *req,
                                  rf_error *err)
{
    (void)a;
    const json_t *list = json_object_get(answer, "rings");
    json_t *rings = json_array();
    rf_err rc = rings ? RF_OK : nomem(err);
    for (size_t i = 0; rc == RF_OK && i < json_array_size(list); i++) {
        const json_t *r = json_array_get(list, i);
        json_t *body = NULL;
        rc = cmd_ring_editable(r, &body, err);
        if (rc == RF_OK && (json_object_set(body, "id", json_object_get(r, "id")) != 0 ||
                            json_array_append(rings, body) != 0)) {
            rc = nomem(err);
        }
        json_decref(body);
    }
    json_decref(req->body);
    req->body = rc == RF_OK ? json_pack("{so}", "rings", rings) : NULL;
    if (rc != RF_OK) {
        json_decref(rings);
    }
    return rc != RF_OK ? rc : req->body ? RF_OK : nomem(err);
}

rf_err cmd_ring_preview_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                              rf_error *err)
{
    (void)cmd;
    long long id = 0, del = 0;
    int has_id = 0, has_del = 0;
    rf_err rc = cli_opt_ll(a, "id", 1, INT64_MAX, &id, &has_id, err);
    rc = rc ? rc : cli_opt_ll(a, "delete", 1, INT64_MAX, &del, &has_del, err);
    rc = rc ? rc : cli_request_set(req, "POST", err, "/v1/rings/preview");
    if (rc != RF_OK) {
        return rc;
    }
    int flags = (int)a->nopts - has_id - has_del;
    if (has_del && (has_id || a->npos > 0 || flags > 0)) {
        return rf_error_set(err, RF_ERR_INVALID, "--delete takes no NAME and no other flag");
    }
    if (has_id && a->npos > 0) {
        return rf_error_set(err, RF_ERR_INVALID,
                            "give NAME (a new ring) or --id ID (a change to ring ID), not both");
    }
    if (a->npos > 0 && !cli_opt_has(a, "order")) {
        return rf_error_set(err, RF_ERR_INVALID, "a new ring needs --order K");
    }
    if (a->npos == 0 && !has_id && !has_del && flags > 0) {
        return rf_error_set(err, RF_ERR_INVALID,
                            "ring flags need NAME (a new ring) or --id ID (a change to ring ID)");
    }
    /* Check the flags now so a typo is a usage error. */
    json_t *body = json_object();
    rc = body ? cmd_ring_check_flags(a, err) : nomem(err);
    if (rc == RF_OK && has_del) {
        json_decref(body);
        req->body = json_pack("{sI}", "delete", (json_int_t)del);
        return req->body ? RF_OK : nomem(err);
    }
    if (rc == RF_OK && a->npos > 0) {
        json_t *name = NULL;
        rc = cmd_ring_apply_flags(a, body, err);
        rc = rc ? rc : cli_json_text("NAME", a->pos[0], &name, err);
        if (rc == RF_OK && json_object_set_new(body, "name", name) != 0) {
            rc = nomem(err);
        }
        if (rc == RF_OK) {
            return set_ring(req, body, err);
        }
    }
    json_decref(body);
    if (rc == RF_OK && has_id) {
        rc = cli_request_fetch(req, preview_one_prepare, err, "/v1/rings/%lld", id);
    } else if (rc == RF_OK) {
        rc = cli_request_fetch(req, preview_all_prepare, err, "/v1/rings");
    }
    return rc;
}

static rf_err preview_row(cli_table *t, const json_t *r)
{
    rf_buf b;
    rf_buf_init(&b, CLI_MAX_OUTPUT);
    const json_t *now = json_object_get(r, "devices_now");
    const json_t *after = json_object_get(r, "devices");
    rf_err rc = cli_json_scalar_text(json_object_get(r, "name"), &b);
    if (rc == RF_OK && json_is_null(json_object_get(r, "id"))) {
        rc = rf_buf_append_str(&b, " (new)");
    }
    rc = rc ? rc : cli_table_add(t, b.data);
    rc = rc ? rc : cli_table_add_json(t, json_object_get(r, "order"));
    rc = rc ? rc : cli_table_add_json(t, now);
    rc = rc ? rc : cli_table_add_json(t, after);
    rf_buf_reset(&b);
    if (rc == RF_OK && json_is_integer(now) && json_is_integer(after)) {
        json_int_t d = json_integer_value(after) - json_integer_value(now);
        rc = d == 0 ? rf_buf_append_str(&b, "") : rf_buf_printf(&b, "%+" JSON_INTEGER_FORMAT, d);
    }
    rc = rc ? rc : cli_table_add(t, b.data ? b.data : "");
    rc = rc ? rc : cli_table_add_json(t, json_object_get(r, "selected"));
    rf_buf_cleanup(&b);
    return rc;
}

/* "canary & broad: 2 devices (broad loses them)" per overlapping pair. */
static rf_err overlaps_text(const json_t *answer, rf_buf *out)
{
    const json_t *ov = json_object_get(answer, "overlaps");
    rf_err rc = RF_OK;
    for (size_t i = 0; rc == RF_OK && i < json_array_size(ov); i++) {
        const json_t *o = json_array_get(ov, i);
        const json_t *names = json_object_get(o, "rings");
        rc =
            rf_buf_append_str(out, i == 0 ? "\nOverlaps (a device goes to the first ring):\n" : "");
        rc = rc ? rc : rf_buf_append_str(out, "  ");
        rc = rc ? rc : cli_json_clean_text(json_array_get(names, 0), out);
        rc = rc ? rc : rf_buf_append_str(out, " & ");
        rc = rc ? rc : cli_json_clean_text(json_array_get(names, 1), out);
        rc = rc ? rc : rf_buf_append_str(out, ": ");
        rc = rc ? rc : cli_json_clean_text(json_object_get(o, "devices"), out);
        rc = rc ? rc : rf_buf_append_str(out, " devices (");
        rc = rc ? rc : cli_json_clean_text(json_array_get(names, 1), out);
        rc = rc ? rc : rf_buf_append_str(out, " loses them)\n");
    }
    return rc;
}

rf_err cmd_ring_preview_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err)
{
    (void)v;
    static const char *const head[] = {"RING", "ORDER", "NOW", "WOULD HOLD", "CHANGE", "SELECTS"};
    const json_t *list = NULL;
    cli_table t;
    rf_err rc = cli_table_init(&t, 6, head);
    rc = rc ? rc : cli_answer_array(answer, "rings", &list, err);
    for (size_t c = 1; c < 6; c++) {
        cli_table_align_right(&t, c);
    }
    for (size_t i = 0; rc == RF_OK && i < json_array_size(list); i++) {
        rc = preview_row(&t, json_array_get(list, i));
    }
    rc = rc ? rc : cli_table_render(&t, out);
    cli_table_cleanup(&t);
    const json_t *refused = json_object_get(answer, "refused");
    rc = rc ? rc : rf_buf_append_str(out, "\n");
    rc = rc ? rc : cli_json_clean_text(json_object_get(answer, "total"), out);
    rc = rc ? rc : rf_buf_append_str(out, " devices: ");
    rc = rc ? rc : cli_json_clean_text(json_object_get(answer, "moved"), out);
    rc = rc ? rc : rf_buf_append_str(out, " would change ring, ");
    rc = rc ? rc : cli_json_clean_text(json_object_get(answer, "unassigned"), out);
    rc = rc ? rc : rf_buf_append_str(out, " in no ring, ");
    rc = rc ? rc : cli_json_clean_text(json_object_get(answer, "overlapping_devices"), out);
    rc = rc ? rc : rf_buf_append_str(out, " selected by more than one ring.\n");
    rc = rc ? rc : overlaps_text(answer, out);
    if (rc == RF_OK && json_is_string(refused)) {
        rc = rf_buf_append_str(out, "\nSaving this would be refused: ");
        rc = rc ? rc : cli_json_clean_text(refused, out);
        rc = rc ? rc : rf_buf_append_str(out, "\n");
    } else if (rc == RF_OK) {
        rc = rf_buf_append_str(out, "\nNothing was saved.\n");
    }
    return rc;
}
