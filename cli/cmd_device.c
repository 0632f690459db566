/* `ringfence devices`, `device list|show`, and `fleet`: what the fleet
 * runs, where each device sits and what holds it (pins, exclusion). Pure
 * builders and renderers, plus the pure matching of a short device id (the
 * 8 digits the tables show) against the device list. Device-supplied text
 * (hostnames, labels) is shown cleaned, never raw. */
#include "cmd.h"
#include "rf_util.h"

#include <stdlib.h>
#include <string.h>

rf_err cmd_device_arg(const char *s, rf_error *err)
{
    if (!cli_device_id_ok(s)) {
        return rf_error_set(err, RF_ERR_INVALID,
                            "DEVICE: '%.40s' is not a device id (32 hex digits, or a unique "
                            "prefix of one as 'ringfence devices' shows)",
                            s);
    }
    return RF_OK;
}

rf_err cmd_device_match(const json_t *answer, const char *prefix, char out[33], rf_error *err)
{
    const json_t *list = json_object_get(answer, "devices");
    size_t len = strlen(prefix), found = 0;
    if (len == 0 || len > 32 || strspn(prefix, "0123456789abcdef") != len) {
        return cmd_device_arg(prefix, err);
    }
    for (size_t i = 0; i < json_array_size(list); i++) {
        const char *id = cli_jstr(json_array_get(list, i), "id");
        if (id != NULL && strncmp(id, prefix, len) == 0 && cli_device_id_ok(id)) {
            if (found++ == 0) {
                memcpy(out, id, 33);
            }
        }
    }
    if (found == 0) {
        return rf_error_set(err, RF_ERR_NOT_FOUND, "no device id starts with '%s'", prefix);
    }
    if (found > 1) {
        return rf_error_set(err, RF_ERR_INVALID,
                            "'%s' is the start of %zu device ids; give more digits", prefix, found);
    }
    return RF_OK;
}

rf_err cmd_devices_build(const cli_command *cmd, const cli_args *a, cli_request *req, rf_error *err)
{
    (void)cmd;
    (void)a;
    return cli_request_set(req, "GET", err, "/v1/devices");
}

rf_err cmd_device_show_build(const cli_command *cmd, const cli_args *a, cli_request *req,
                             rf_error *err)
{
    (void)cmd;
    rf_err rc = cmd_device_arg(a->pos[0], err);
    return rc ? rc : cli_request_set(req, "GET", err, "/v1/devices/%s", a->pos[0]);
}

rf_err cmd_fleet_build(const cli_command *cmd, const cli_args *a, cli_request *req, rf_error *err)
{
    (void)cmd;
    (void)a;
    return cli_request_set(req, "GET", err, "/v1/fleet");
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of object o, sorted (free the array, not the strings). */
static const char **sorted_keys(const json_t *o, size_t *n)
{
    *n = json_is_object(o) ? json_object_size(o) : 0;
    const char **keys = *n ? calloc(*n, sizeof *keys) : NULL;
    size_t k = 0;
    const char *key;
    json_t *val;
    if (keys == NULL) {
        *n = 0;
        return NULL;
    }
    json_object_foreach((json_t *)o, key, val)
    {
        keys[k++] = key;
    }
    qsort(keys, k, sizeof *keys, cmp_str);
    return keys;
}

/* "content:12 committed, driver:3 installing ->4" with channels sorted. */
static rf_err channels_text(const json_t *channels, rf_buf *out)
{
    size_t n = 0;
    const char **keys = sorted_keys(channels, &n);
    if (n == 0) {
        return rf_buf_append_str(out, "-");
    }
    rf_err rc = RF_OK;
    for (size_t i = 0; i < n && rc == RF_OK; i++) {
        const json_t *c = json_object_get(channels, keys[i]);
        const json_t *running = json_object_get(c, "bundle_id");
        const json_t *assigned = json_object_get(c, "assigned_bundle_id");
        rc = rf_buf_printf(out, "%s%s:", i ? ", " : "", keys[i]);
        rc = rc ? rc : cli_json_scalar_text(running, out);
        rc = rc ? rc : rf_buf_append_str(out, " ");
        rc = rc ? rc : cli_json_scalar_text(json_object_get(c, "state"), out);
        if (rc == RF_OK && json_is_integer(assigned) && !json_equal(running, assigned)) {
            rc = rf_buf_printf(out, " ->%" JSON_INTEGER_FORMAT, json_integer_value(assigned));
        }
    }
    free(keys);
    return rc;
}

/* "4s ago", "12m ago, offline", "never". */
static rf_err seen_text(const json_t *d, int64_t now_s, rf_buf *out)
{
    const char *seen = cli_jstr(d, "last_seen");
    int64_t then = 0;
    char age[32];
    rf_err rc = RF_OK;
    if (seen == NULL) {
        rc = rf_buf_append_str(out, "never");
    } else if (rf_time_parse_iso(seen, &then) == RF_OK) {
        cli_age_text(now_s, then, age, sizeof age);
        rc = rf_buf_append_str(out, age);
    } else {
        rc = rf_buf_append_str(out, seen);
    }
    if (rc == RF_OK && json_is_false(json_object_get(d, "online"))) {
        rc = rf_buf_append_str(out, ", offline");
    }
    return rc;
}

rf_err cmd_pin_text(const json_t *p, rf_buf *out)
{
    rf_err rc = cli_json_clean_text(json_object_get(p, "channel"), out);
    rc = rc ? rc : rf_buf_append_str(out, " pinned at bundle ");
    rc = rc ? rc : cli_json_clean_text(json_object_get(p, "bundle_id"), out);
    if (rc == RF_OK && json_is_string(json_object_get(p, "ring"))) {
        rc = rf_buf_append_str(out, " (ring ");
        rc = rc ? rc : cli_json_clean_text(json_object_get(p, "ring"), out);
        rc = rc ? rc : rf_buf_append_str(out, ")");
    }
    return rc;
}

/* "excluded; content pinned at bundle 11 (ring broad)" or "-". */
static rf_err holds_text(const json_t *d, rf_buf *out)
{
    const json_t *pins = json_object_get(d, "pins");
    int excluded = json_is_object(json_object_get(d, "excluded"));
    rf_err rc = excluded ? rf_buf_append_str(out, "excluded") : RF_OK;
    for (size_t i = 0; rc == RF_OK && i < json_array_size(pins); i++) {
        rc = excluded || i > 0 ? rf_buf_append_str(out, "; ") : RF_OK;
        rc = rc ? rc : cmd_pin_text(json_array_get(pins, i), out);
    }
    if (rc == RF_OK && !excluded && json_array_size(pins) == 0) {
        rc = rf_buf_append_str(out, "-");
    }
    return rc;
}

static rf_err device_row(cli_table *t, const json_t *d, int64_t now_s)
{
    const char *id = cli_jstr(d, "id");
    rf_buf b;
    rf_buf_init(&b, CLI_MAX_OUTPUT);
    rf_err rc = id ? cli_table_addf(t, "%.*s", CLI_SHORT_ID, id) : cli_table_add(t, NULL);
    rc = rc ? rc : cli_table_add_json(t, json_object_get(d, "hostname"));
    rc = rc ? rc : cli_table_add_json(t, json_object_get(d, "ring"));
    rc = rc ? rc : cli_labels_text(json_object_get(d, "labels"), &b);
    rc = rc ? rc : cli_table_add(t, b.data);
    rf_buf_reset(&b);
    rc = rc ? rc : channels_text(json_object_get(d, "channels"), &b);
    rc = rc ? rc : cli_table_add(t, b.data);
    rf_buf_reset(&b);
    rc = rc ? rc : holds_text(d, &b);
    rc = rc ? rc : cli_table_add(t, b.data);
    rf_buf_reset(&b);
    rc = rc ? rc : seen_text(d, now_s, &b);
    rc = rc ? rc : cli_table_add(t, b.data);
    rf_buf_cleanup(&b);
    return rc;
}

rf_err cmd_devices_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err)
{
    static const char *const head[] = {"ID",      "HOSTNAME", "RING",     "LABELS",
                                       "BUNDLES", "HOLDS",    "LAST SEEN"};
    const json_t *list = NULL;
    cli_table t;
    rf_err rc = cli_table_init(&t, 7, head);
    rc = rc ? rc : cli_answer_array(answer, "devices", &list, err);
    for (size_t i = 0; rc == RF_OK && i < json_array_size(list); i++) {
        rc = device_row(&t, json_array_get(list, i), v->now_s);
    }
    rc = rc ? rc : cli_table_render(&t, out);
    cli_table_cleanup(&t);
    return rc;
}

/* One "label  value" row built by fn(d, now, out). */
static rf_err show_row(cli_table *t, const char *label, rf_buf *b, rf_err rc)
{
    rc = rc ? rc : cli_table_add(t, label);
    rc = rc ? rc : cli_table_add(t, b->data ? b->data : "");
    rf_buf_reset(b);
    return rc;
}

rf_err cmd_device_show_render(const json_t *d, const cli_view *v, rf_buf *out, rf_error *err)
{
    (void)err;
    const json_t *ex = json_object_get(d, "excluded");
    cli_table t;
    rf_buf b;
    rf_buf_init(&b, CLI_MAX_OUTPUT);
    rf_err rc = cli_table_init(&t, 2, NULL);
    rc = show_row(&t, "id", &b, rc ? rc : cli_json_scalar_text(json_object_get(d, "id"), &b));
    rc = show_row(&t, "hostname", &b,
                  rc ? rc : cli_json_scalar_text(json_object_get(d, "hostname"), &b));
    rc = show_row(&t, "ring", &b, rc ? rc : cli_json_scalar_text(json_object_get(d, "ring"), &b));
    rc = show_row(&t, "bucket", &b,
                  rc ? rc : cli_json_scalar_text(json_object_get(d, "bucket"), &b));
    rc = show_row(&t, "labels", &b, rc ? rc : cli_labels_text(json_object_get(d, "labels"), &b));
    rc = show_row(&t, "bundles", &b, rc ? rc : channels_text(json_object_get(d, "channels"), &b));
    rc = show_row(&t, "holds", &b, rc ? rc : holds_text(d, &b));
    if (rc == RF_OK && json_is_object(ex)) {
        rc = cli_json_scalar_text(json_object_get(ex, "reason"), &b);
        rc = rc ? rc : rf_buf_append_str(&b, " (by ");
        rc = rc ? rc : cli_json_scalar_text(json_object_get(ex, "created_by"), &b);
        rc = rc ? rc : rf_buf_append_str(&b, ")");
        rc = show_row(&t, "excluded because", &b, rc);
    }
    rc = show_row(&t, "enrolled", &b,
                  rc ? rc : cli_json_scalar_text(json_object_get(d, "enrolled"), &b));
    rc = show_row(&t, "last seen", &b, rc ? rc : seen_text(d, v->now_s, &b));
    rc = rc ? rc : cli_table_render(&t, out);
    cli_table_cleanup(&t);
    rf_buf_cleanup(&b);
    return rc;
}

/* "  content: bundle 12 on 3 devices, bundle 11 on 17 devices" per channel. */
static rf_err fleet_channels(const json_t *channels, rf_buf *out)
{
    size_t n = 0;
    const char **keys = sorted_keys(channels, &n);
    rf_err rc = RF_OK;
    for (size_t i = 0; i < n && rc == RF_OK; i++) {
        const json_t *list = json_object_get(channels, keys[i]);
        rc = rf_buf_printf(out, "  %s:", keys[i]);
        for (size_t k = 0; rc == RF_OK && k < json_array_size(list); k++) {
            const json_t *e = json_array_get(list, k);
            rc = rf_buf_append_str(out, k ? ", bundle " : " bundle ");
            rc = rc ? rc : cli_json_clean_text(json_object_get(e, "bundle_id"), out);
            rc = rc ? rc : rf_buf_append_str(out, " on ");
            rc = rc ? rc : cli_json_clean_text(json_object_get(e, "devices"), out);
            rc = rc ? rc : rf_buf_append_str(out, " devices");
        }
        rc = rc ? rc : rf_buf_append_str(out, "\n");
    }
    free(keys);
    return rc;
}

rf_err cmd_fleet_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err)
{
    (void)v;
    static const char *const head[] = {"RING", "ORDER", "DEVICES"};
    const json_t *rings = NULL;
    cli_table t;
    rf_err rc = cli_table_init(&t, 3, head);
    rc = rc ? rc : cli_answer_array(answer, "rings", &rings, err);
    cli_table_align_right(&t, 1);
    cli_table_align_right(&t, 2);
    for (size_t i = 0; rc == RF_OK && i < json_array_size(rings); i++) {
        const json_t *r = json_array_get(rings, i);
        rc = cli_table_add_json(&t, json_object_get(r, "name"));
        rc = rc ? rc : cli_table_add_json(&t, json_object_get(r, "order"));
        rc = rc ? rc : cli_table_add_json(&t, json_object_get(r, "devices"));
    }
    rc = rc ? rc : cli_table_add(&t, "(no ring)");
    rc = rc ? rc : cli_table_add(&t, "");
    rc = rc ? rc : cli_table_add_json(&t, json_object_get(answer, "unassigned"));
    rc = rc ? rc : cli_json_clean_text(json_object_get(answer, "devices"), out);
    rc = rc ? rc : rf_buf_append_str(out, " devices, ");
    rc = rc ? rc : cli_json_clean_text(json_object_get(answer, "online"), out);
    rc = rc ? rc : rf_buf_append_str(out, " online\n\n");
    rc = rc ? rc : cli_table_render(&t, out);
    cli_table_cleanup(&t);
    if (rc == RF_OK && json_object_size(json_object_get(answer, "channels")) > 0) {
        rc = rf_buf_append_str(out, "\nBundles running:\n");
        rc = rc ? rc : fleet_channels(json_object_get(answer, "channels"), out);
    }
    return rc;
}
