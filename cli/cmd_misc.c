/* `ringfence devices`, `ringfence events` and `ringfence version`. The
 * builders and renderers are pure (the time for "last seen" comes in the
 * view); version is the one command that needs no server. Device-supplied
 * text (hostnames, labels, failure reasons) is shown cleaned, never raw. */
#include "cmd.h"
#include "rf_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLI_SHORT_ID 8 /* hex digits of a device id shown in tables */

rf_err cmd_devices_build(const cli_command *cmd, const cli_args *a, cli_request *req, rf_error *err)
{
    (void)cmd;
    (void)a;
    return cli_request_set(req, "GET", err, "/v1/devices");
}

rf_err cmd_events_build(const cli_command *cmd, const cli_args *a, cli_request *req, rf_error *err)
{
    (void)cmd;
    long long rollout = 0, after = 0, limit = 0;
    int has_rollout = 0, has_after = 0, has_limit = 0;
    char num[24];
    rf_err rc = cli_opt_ll(a, "rollout", 1, INT64_MAX, &rollout, &has_rollout, err);
    rc = rc ? rc : cli_opt_ll(a, "after", 0, INT64_MAX, &after, &has_after, err);
    rc = rc ? rc : cli_opt_ll(a, "limit", 1, 1000000, &limit, &has_limit, err);
    rc = rc ? rc : cli_request_set(req, "GET", err, "/v1/events");
    if (rc == RF_OK && has_after) {
        (void)rf_snprintf(num, sizeof num, "%lld", after);
        rc = cli_query_add(&req->path, "after", num);
    }
    if (rc == RF_OK && has_limit) {
        (void)rf_snprintf(num, sizeof num, "%lld", limit);
        rc = cli_query_add(&req->path, "limit", num);
    }
    if (rc == RF_OK && has_rollout) {
        (void)rf_snprintf(num, sizeof num, "%lld", rollout);
        rc = cli_query_add(&req->path, "rollout_id", num);
    }
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "content:12 committed, driver:3 installing ->4" with channels sorted. */
static rf_err channels_text(const json_t *channels, rf_buf *out)
{
    size_t n = json_is_object(channels) ? json_object_size(channels) : 0;
    const char **keys = n ? calloc(n, sizeof *keys) : NULL;
    if (n == 0 || keys == NULL) {
        return n == 0 ? rf_buf_append_str(out, "-") : RF_ERR_NOMEM;
    }
    size_t k = 0;
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)channels, key, val)
    {
        keys[k++] = key;
    }
    qsort(keys, k, sizeof *keys, cmp_str);
    rf_err rc = RF_OK;
    for (size_t i = 0; i < k && rc == RF_OK; i++) {
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
    rc = rc ? rc : seen_text(d, now_s, &b);
    rc = rc ? rc : cli_table_add(t, b.data);
    rf_buf_cleanup(&b);
    return rc;
}

rf_err cmd_devices_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err)
{
    static const char *const head[] = {"ID", "HOSTNAME", "RING", "LABELS", "BUNDLES", "LAST SEEN"};
    const json_t *list = NULL;
    cli_table t;
    rf_err rc = cli_table_init(&t, 6, head);
    rc = rc ? rc : cli_answer_array(answer, "devices", &list, err);
    for (size_t i = 0; rc == RF_OK && i < json_array_size(list); i++) {
        rc = device_row(&t, json_array_get(list, i), v->now_s);
    }
    rc = rc ? rc : cli_table_render(&t, out);
    cli_table_cleanup(&t);
    return rc;
}

static rf_err event_row(cli_table *t, const json_t *e)
{
    const char *dev = cli_jstr(e, "device_id");
    const json_t *data = json_object_get(e, "data");
    rf_err rc = cli_table_add_json(t, json_object_get(e, "id"));
    rc = rc ? rc : cli_table_add_json(t, json_object_get(e, "at"));
    rc = rc ? rc : cli_table_add_json(t, json_object_get(e, "kind"));
    rc = rc ? rc : cli_table_add_json(t, json_object_get(e, "actor"));
    rc = rc ? rc : cli_table_add_json(t, json_object_get(e, "rollout_id"));
    if (rc == RF_OK) {
        rc = dev ? cli_table_addf(t, "%.*s", CLI_SHORT_ID, dev) : cli_table_add(t, NULL);
    }
    if (rc == RF_OK) {
        int empty = data == NULL || json_is_null(data) ||
                    (json_is_object(data) && json_object_size(data) == 0);
        rc = cli_table_add_json(t, empty ? NULL : data);
    }
    return rc;
}

rf_err cmd_events_render(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err)
{
    (void)v;
    static const char *const head[] = {"ID", "AT", "KIND", "ACTOR", "ROLLOUT", "DEVICE", "DETAILS"};
    const json_t *list = NULL;
    cli_table t;
    rf_err rc = cli_table_init(&t, 7, head);
    rc = rc ? rc : cli_answer_array(answer, "events", &list, err);
    cli_table_align_right(&t, 0);
    cli_table_align_right(&t, 4);
    for (size_t i = 0; rc == RF_OK && i < json_array_size(list); i++) {
        rc = event_row(&t, json_array_get(list, i));
    }
    rc = rc ? rc : cli_table_render(&t, out);
    cli_table_cleanup(&t);
    return rc;
}

int cmd_version_run(const cli_command *cmd, const cli_args *a)
{
    (void)cmd;
    if (a->json) {
        printf("{\"version\": \"%s\"}\n", RF_VERSION);
    } else {
        printf("ringfence %s\n", RF_VERSION);
    }
    return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}
