/* `ringfence ring list|create|show|update|delete|pin|unpin`: requests and
 * human output for rings. Pure. A ring's selector (labels, bucket range,
 * explicit members) and start windows are checked here so a typo is a usage
 * error naming the flag; the server stays the authority. An update reads
 * the ring first and sends it whole, changed by the flags, with its version
 * as If-Match (PUT replaces a ring). Previews live in cmd_preview.c. */
#include "cmd.h"
#include "rf_util.h"

#include <stdint.h>
#include <string.h>

#define RING_MAX_MEMBERS 1000
#define RING_MAX_WINDOWS 14

static rf_err nomem(rf_error *err)
{
    return rf_error_set(err, RF_ERR_NOMEM, "out of memory");
}

rf_err cmd_ring_list_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                           rf_error *err)
{
    (void)cmd;
    (void)a;
    return cli_request_set(req, "GET", err, "/v1/rings");
}

/* --label k=v…: a new label set (replaces the ring's), or --no-labels. */
static rf_err apply_labels(const cli_args *a, json_t *body, int *changed, rf_error *err)
{
    json_t *labels = json_object();
    rf_err rc = labels ? RF_OK : nomem(err);
    int given = 0;
    for (size_t i = 0; rc == RF_OK && i < a->nopts; i++) {
        if (strcmp(a->opt_name[i], "label") == 0) {
            given = 1;
            rc = cli_parse_label(a->opt_val[i], labels, err);
        }
    }
    if (rc == RF_OK && given && cli_opt_has(a, "no-labels")) {
        rc = rf_error_set(err, RF_ERR_INVALID, "--label and --no-labels exclude each other");
    }
    if (rc == RF_OK && (given || cli_opt_has(a, "no-labels"))) {
        *changed = 1;
        rc = json_object_set(body, "labels", labels) == 0 ? RF_OK : nomem(err);
    }
    json_decref(labels);
    return rc;
}

/* --buckets LO-HI or --all-buckets. */
static rf_err apply_buckets(const cli_args *a, json_t *body, int *changed, rf_error *err)
{
    const char *b = cli_opt_get(a, "buckets");
    int lo = 0, hi = 0;
    rf_err rc = RF_OK;
    if (b != NULL && cli_opt_has(a, "all-buckets")) {
        return rf_error_set(err, RF_ERR_INVALID, "--buckets and --all-buckets exclude each other");
    }
    if (b != NULL && (rc = cli_parse_buckets(b, &lo, &hi, err)) == RF_OK) {
        *changed = 1;
        rc = json_object_set_new(body, "buckets", json_pack("[ii]", lo, hi)) ? nomem(err) : RF_OK;
    } else if (cli_opt_has(a, "all-buckets")) {
        *changed = 1;
        (void)json_object_del(body, "buckets");
    }
    return rc;
}

/* Index of device id s in members, or -1. */
static long member_index(const json_t *members, const char *s)
{
    for (size_t i = 0; i < json_array_size(members); i++) {
        const char *m = json_string_value(json_array_get(members, i));
        if (m != NULL && strcmp(m, s) == 0) {
            return (long)i;
        }
    }
    return -1;
}

/* One --member/--add-member/--remove-member value into members. */
static rf_err member_change(const char *flag, const char *val, json_t *members, rf_error *err)
{
    long at = 0;
    if (!cli_device_id_ok(val)) {
        return rf_error_set(err, RF_ERR_INVALID,
                            "--%s: '%.40s' is not a device id (32 lowercase hex digits)", flag,
                            val);
    }
    at = member_index(members, val);
    if (strcmp(flag, "remove-member") == 0) {
        if (at < 0) {
            return rf_error_set(err, RF_ERR_INVALID, "--remove-member: %s is not a member", val);
        }
        return json_array_remove(members, (size_t)at) == 0 ? RF_OK : nomem(err);
    }
    if (at >= 0) {
        return strcmp(flag, "member") == 0
                   ? rf_error_set(err, RF_ERR_INVALID, "--member: %s given twice", val)
                   : RF_OK;
    }
    if (json_array_size(members) >= RING_MAX_MEMBERS) {
        return rf_error_set(err, RF_ERR_INVALID, "a ring has at most %d members", RING_MAX_MEMBERS);
    }
    return json_array_append_new(members, json_string(val)) == 0 ? RF_OK : nomem(err);
}

/* --member D… (a new list), --add-member, --remove-member, --no-members. */
static rf_err apply_members(const cli_args *a, json_t *body, int *changed, rf_error *err)
{
    int replace = cli_opt_has(a, "member") || cli_opt_has(a, "no-members");
    int edited = replace;
    const json_t *have = json_object_get(body, "members");
    json_t *members = replace || !json_is_array(have) ? json_array() : json_deep_copy(have);
    rf_err rc = members ? RF_OK : nomem(err);
    if (rc == RF_OK && cli_opt_has(a, "member") && cli_opt_has(a, "no-members")) {
        rc = rf_error_set(err, RF_ERR_INVALID, "--member and --no-members exclude each other");
    }
    for (size_t i = 0; rc == RF_OK && i < a->nopts; i++) {
        const char *f = a->opt_name[i];
        if (strcmp(f, "member") == 0 || strcmp(f, "add-member") == 0 ||
            strcmp(f, "remove-member") == 0) {
            edited = 1;
            rc = member_change(f, a->opt_val[i], members, err);
        }
    }
    if (rc == RF_OK && edited) {
        *changed = 1;
        rc = json_object_set(body, "members", members) == 0 ? RF_OK : nomem(err);
    }
    json_decref(members);
    return rc;
}

/* --window W… (a new list) or --no-windows (always open). */
static rf_err apply_windows(const cli_args *a, json_t *body, rf_error *err)
{
    int given = cli_opt_has(a, "window");
    if (given && cli_opt_has(a, "no-windows")) {
        return rf_error_set(err, RF_ERR_INVALID, "--window and --no-windows exclude each other");
    }
    if (!given && !cli_opt_has(a, "no-windows")) {
        return RF_OK;
    }
    json_t *windows = json_array();
    rf_err rc = windows ? RF_OK : nomem(err);
    for (size_t i = 0; rc == RF_OK && i < a->nopts; i++) {
        cli_window w;
        if (strcmp(a->opt_name[i], "window") == 0 &&
            (rc = cli_parse_window("--window", a->opt_val[i], &w, err)) == RF_OK) {
            rc = cli_window_json(&w, windows, err);
        }
    }
    if (rc == RF_OK && json_array_size(windows) > RING_MAX_WINDOWS) {
        rc = rf_error_set(err, RF_ERR_INVALID,
                          "a ring has at most %d windows (one past midnight "
                          "counts twice)",
                          RING_MAX_WINDOWS);
    }
    if (rc == RF_OK) {
        rc = json_object_set(body, "windows", windows) == 0 ? RF_OK : nomem(err);
    }
    json_decref(windows);
    return rc;
}

/* --name, --order and --members-only yes|no. */
static rf_err apply_scalars(const cli_args *a, json_t *body, int selector_changed, rf_error *err)
{
    long long order = 0;
    int has_order = 0;
    json_t *name = NULL;
    const char *n = cli_opt_get(a, "name");
    rf_err rc = n ? cli_json_text("--name", n, &name, err) : RF_OK;
    if (rc == RF_OK && name != NULL) {
        rc = json_object_set_new(body, "name", name) == 0 ? RF_OK : nomem(err);
    }
    rc = rc ? rc : cli_opt_ll(a, "order", 0, INT32_MAX, &order, &has_order, err);
    if (rc == RF_OK && has_order) {
        rc = json_object_set_new(body, "order", json_integer(order)) == 0 ? RF_OK : nomem(err);
    }
    const char *mo = cli_opt_get(a, "members-only");
    if (rc == RF_OK && mo != NULL) {
        int yes = strcmp(mo, "yes") == 0;
        if (!yes && strcmp(mo, "no") != 0) {
            return rf_error_set(err, RF_ERR_INVALID, "--members-only: '%s' is not yes or no", mo);
        }
        rc = json_object_set_new(body, "members_only", json_boolean(yes)) ? nomem(err) : RF_OK;
    } else if (rc == RF_OK && selector_changed) {
        /* The selector changed: let the server's default decide (members
         * alone select only members; with labels or buckets, both count). */
        (void)json_object_del(body, "members_only");
    }
    return rc;
}

rf_err cmd_ring_apply_flags(const cli_args *a, json_t *body, rf_error *err)
{
    int selector = 0;
    rf_err rc = apply_labels(a, body, &selector, err);
    rc = rc ? rc : apply_buckets(a, body, &selector, err);
    rc = rc ? rc : apply_members(a, body, &selector, err);
    rc = rc ? rc : apply_windows(a, body, err);
    return rc ? rc : apply_scalars(a, body, selector, err);
}

rf_err cmd_ring_check_flags(const cli_args *a, rf_error *err)
{
    /* A ring holding every member the flags remove: only the values are
     * judged here; whether they are members is known once the ring is read. */
    json_t *members = json_array();
    json_t *probe = json_pack("{s:o}", "members", members);
    rf_err rc = probe ? RF_OK : nomem(err);
    for (size_t i = 0; rc == RF_OK && i < a->nopts; i++) {
        if (strcmp(a->opt_name[i], "remove-member") == 0 &&
            json_array_append_new(members, json_string(a->opt_val[i])) != 0) {
            rc = nomem(err);
        }
    }
    rc = rc ? rc : cmd_ring_apply_flags(a, probe, err);
    json_decref(probe);
    return rc;
}

rf_err cmd_ring_editable(const json_t *ring, json_t **out, rf_error *err)
{
    static const char *const keys[] = {"name",    "order",        "labels",  "buckets",
                                       "members", "members_only", "windows", NULL};
    json_t *body = json_object();
    if (body == NULL) {
        return nomem(err);
    }
    for (size_t i = 0; keys[i] != NULL; i++) {
        json_t *v = json_object_get(ring, keys[i]);
        if (v != NULL && !json_is_null(v) && json_object_set(body, keys[i], v) != 0) {
            json_decref(body);
            return nomem(err);
        }
    }
    *out = body;
    return RF_OK;
}

rf_err cmd_ring_create_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                             rf_error *err)
{
    (void)cmd;
    json_t *name = NULL;
    rf_err rc = cli_request_set(req, "POST", err, "/v1/rings");
    rc = rc ? rc : cli_request_object(req, err);
    rc = rc ? rc : cli_json_text("NAME", a->pos[0], &name, err);
    if (rc == RF_OK && json_object_set_new(req->body, "name", name) != 0) {
        rc = nomem(err);
    }
    return rc ? rc : cmd_ring_apply_flags(a, req->body, err);
}

/* The update's second step: the ring as read, changed by the flags. */
static rf_err ring_update_prepare(const cli_args *a, const json_t *ring, cli_request *req,
                                  rf_error *err)
{
    json_t *body = NULL;
    rf_err rc = cmd_ring_editable(ring, &body, err);
    rc = rc ? rc : cmd_ring_apply_flags(a, body, err);
    if (rc == RF_OK) {
        json_decref(req->body);
        req->body = body;
        body = NULL;
    }
    json_decref(body);
    return rc;
}

rf_err cmd_ring_update_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                             rf_error *err)
{
    (void)cmd;
    long long id = 0;
    rf_err rc = cli_parse_id("ID", a->pos[0], &id, err);
    if (rc == RF_OK && a->nopts == 0) {
        return rf_error_set(err, RF_ERR_INVALID, "'ring update' needs at least one change");
    }
    rc = rc ? rc : cmd_ring_check_flags(a, err);
    rc = rc ? rc : cli_request_set(req, "PUT", err, "/v1/rings/%lld", id);
    rc = rc ? rc : cli_request_guard(req, a, cmd_ring_show_render, err, "/v1/rings/%lld", id);
    req->prepare = ring_update_prepare;
    return rc;
}

rf_err cmd_ring_show_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                           rf_error *err)
{
    (void)cmd;
    long long id = 0;
    rf_err rc = cli_parse_id("ID", a->pos[0], &id, err);
    return rc ? rc : cli_request_set(req, "GET", err, "/v1/rings/%lld", id);
}

rf_err cmd_ring_delete_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                             rf_error *err)
{
    (void)cmd;
    long long id = 0;
    rf_err rc = cli_parse_id("ID", a->pos[0], &id, err);
    rc = rc ? rc : cli_request_set(req, "DELETE", err, "/v1/rings/%lld", id);
    return rc ? rc : cli_request_guard(req, a, cmd_ring_show_render, err, "/v1/rings/%lld", id);
}

/* "labels ring=canary, buckets 0-4999, 3 members" — what selects devices. */
static rf_err selector_text(const json_t *r, rf_buf *out)
{
    size_t nmem = json_array_size(json_object_get(r, "members"));
    int only = json_is_true(json_object_get(r, "members_only"));
    const json_t *labels = json_object_get(r, "labels");
    const json_t *buckets = json_object_get(r, "buckets");
    int any_label = json_object_size(labels) > 0;
    int part_buckets =
        json_is_array(buckets) && !(json_integer_value(json_array_get(buckets, 0)) == 0 &&
                                    json_integer_value(json_array_get(buckets, 1)) == 9999);
    rf_err rc = RF_OK;
    if (!only && any_label) {
        rc = rf_buf_append_str(out, "labels ");
        rc = rc ? rc : cli_labels_text(labels, out);
    }
    if (rc == RF_OK && !only && part_buckets) {
        rc = rf_buf_append_str(out, any_label ? ", buckets " : "buckets ");
        rc = rc ? rc : cli_buckets_text(buckets, out);
    }
    if (rc == RF_OK && nmem > 0) {
        int first = only || (!any_label && !part_buckets);
        rc = rf_buf_printf(out, "%s%zu member%s%s", first ? "" : " + ", nmem, nmem == 1 ? "" : "s",
                           only ? " only" : "");
    }
    if (rc == RF_OK && !only && !any_label && !part_buckets && nmem == 0) {
        rc = rf_buf_append_str(out, "every device");
    }
    return rc;
}

/* "mon-fri 09-17 (open)" or "always". */
static rf_err windows_cell(const json_t *r, rf_buf *out)
{
    const json_t *w = json_object_get(r, "windows");
    const json_t *open = json_object_get(r, "window_open");
    rf_err rc = cli_windows_text(w, out);
    if (rc == RF_OK && json_array_size(w) > 0 && json_is_boolean(open)) {
        rc = rf_buf_append_str(out, json_is_true(open) ? " (open)" : " (closed now)");
    }
    return rc;
}

static rf_err ring_row(cli_table *t, const json_t *r)
{
    rf_buf b;
    rf_buf_init(&b, CLI_MAX_OUTPUT);
    rf_err rc = cli_table_add_json(t, json_object_get(r, "id"));
    rc = rc ? rc : cli_table_add_json(t, json_object_get(r, "order"));
    rc = rc ? rc : cli_table_add_json(t, json_object_get(r, "name"));
    rc = rc ? rc : selector_text(r, &b);
    rc = rc ? rc : cli_table_add(t, b.data);
    rf_buf_reset(&b);
    rc = rc ? rc : windows_cell(r, &b);
    rc = rc ? rc : cli_table_add(t, b.data);
    rc = rc ? rc : cli_table_add_json(t, json_object_get(r, "devices"));
    rf_buf_cleanup(&b);
    return rc;
}

rf_err cmd_ring_list_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err)
{
    (void)v;
    static const char *const head[] = {"ID", "ORDER", "NAME", "SELECTS", "WINDOWS", "DEVICES"};
    const json_t *list = NULL;
    cli_table t;
    rf_err rc = cli_table_init(&t, 6, head);
    rc = rc ? rc : cli_answer_array(answer, "rings", &list, err);
    cli_table_align_right(&t, 0);
    cli_table_align_right(&t, 1);
    cli_table_align_right(&t, 5);
    for (size_t i = 0; rc == RF_OK && i < json_array_size(list); i++) {
        rc = ring_row(&t, json_array_get(list, i));
    }
    rc = rc ? rc : cli_table_render(&t, out);
    cli_table_cleanup(&t);
    return rc;
}

/* One "key  value" row of the ring view, value built by fn or from key. */
static rf_err show_row(cli_table *t, const char *label, const json_t *r,
                       rf_err (*fn)(const json_t *, rf_buf *), const char *key)
{
    rf_buf b;
    rf_buf_init(&b, CLI_MAX_OUTPUT);
    rf_err rc = cli_table_add(t, label);
    if (rc == RF_OK) {
        rc = fn != NULL ? fn(r, &b) : cli_json_scalar_text(json_object_get(r, key), &b);
    }
    rc = rc ? rc : cli_table_add(t, b.data ? b.data : "");
    rf_buf_cleanup(&b);
    return rc;
}

static rf_err labels_of(const json_t *r, rf_buf *out)
{
    return cli_labels_text(json_object_get(r, "labels"), out);
}

static rf_err buckets_of(const json_t *r, rf_buf *out)
{
    return cli_buckets_text(json_object_get(r, "buckets"), out);
}

/* Every member id, space-separated; "-" for none. */
static rf_err members_of(const json_t *r, rf_buf *out)
{
    const json_t *m = json_object_get(r, "members");
    rf_err rc = json_array_size(m) == 0 ? rf_buf_append_str(out, "-") : RF_OK;
    for (size_t i = 0; rc == RF_OK && i < json_array_size(m); i++) {
        rc = i ? rf_buf_append_str(out, " ") : RF_OK;
        rc = rc ? rc : cli_json_scalar_text(json_array_get(m, i), out);
    }
    return rc;
}

/* Live rollouts that use the ring: "4, 7" or "-". */
static rf_err live_of(const json_t *r, rf_buf *out)
{
    const json_t *l = json_object_get(r, "live_rollouts");
    rf_err rc = json_array_size(l) == 0 ? rf_buf_append_str(out, "-") : RF_OK;
    for (size_t i = 0; rc == RF_OK && i < json_array_size(l); i++) {
        rc = i ? rf_buf_append_str(out, ", ") : RF_OK;
        rc = rc ? rc : cli_json_scalar_text(json_array_get(l, i), out);
    }
    if (rc == RF_OK && json_array_size(l) > 0) {
        rc = rf_buf_append_str(out, " (membership frozen until they end)");
    }
    return rc;
}

rf_err cmd_ring_show_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err)
{
    (void)v;
    (void)err;
    cli_table t;
    rf_err rc = cli_table_init(&t, 2, NULL);
    rc = rc ? rc : show_row(&t, "id", answer, NULL, "id");
    rc = rc ? rc : show_row(&t, "name", answer, NULL, "name");
    rc = rc ? rc : show_row(&t, "order", answer, NULL, "order");
    rc = rc ? rc : show_row(&t, "selects", answer, selector_text, NULL);
    rc = rc ? rc : show_row(&t, "labels", answer, labels_of, NULL);
    rc = rc ? rc : show_row(&t, "buckets", answer, buckets_of, NULL);
    rc = rc ? rc : show_row(&t, "members", answer, members_of, NULL);
    rc = rc ? rc : show_row(&t, "members only", answer, NULL, "members_only");
    rc = rc ? rc : show_row(&t, "windows (UTC)", answer, windows_cell, NULL);
    rc = rc ? rc : show_row(&t, "devices", answer, NULL, "devices");
    rc = rc ? rc : show_row(&t, "live rollouts", answer, live_of, NULL);
    rc = rc ? rc : show_row(&t, "version", answer, NULL, "version");
    rc = rc ? rc : cli_table_render(&t, out);
    cli_table_cleanup(&t);
    return rc;
}

rf_err cmd_ring_delete_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err)
{
    (void)answer;
    long long id = 0;
    rf_err rc = cli_parse_id("ID", v->args->pos[0], &id, err);
    return rc == RF_OK ? rf_buf_printf(out, "deleted ring %lld\n", id) : rc;
}
