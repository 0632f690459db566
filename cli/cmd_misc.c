/* `ringfence events` and `ringfence version`. The builders and renderers
 * are pure; version is the one command that needs no server. Text that
 * devices or users supplied (failure reasons, labels, before/after values)
 * is shown cleaned, never raw. */
#include "cmd.h"
#include "rf_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

rf_err cmd_events_path(rf_buf *path, long long after, long long limit, int wait_s,
                       long long rollout)
{
    char num[24];
    rf_buf_reset(path);
    rf_err rc = rf_buf_append_str(path, "/v1/events");
    if (rc == RF_OK && after >= 0) {
        (void)rf_snprintf(num, sizeof num, "%lld", after);
        rc = cli_query_add(path, "after", num);
    }
    if (rc == RF_OK && limit > 0) {
        (void)rf_snprintf(num, sizeof num, "%lld", limit);
        rc = cli_query_add(path, "limit", num);
    }
    if (rc == RF_OK && wait_s > 0) {
        (void)rf_snprintf(num, sizeof num, "%d", wait_s);
        rc = cli_query_add(path, "wait", num);
    }
    if (rc == RF_OK && rollout > 0) {
        (void)rf_snprintf(num, sizeof num, "%lld", rollout);
        rc = cli_query_add(path, "rollout_id", num);
    }
    return rc;
}

rf_err cmd_events_build(const cli_command *cmd, const cli_args *a, cli_request *req, rf_error *err)
{
    (void)cmd;
    long long rollout = 0, after = 0, limit = 0;
    int has_rollout = 0, has_after = 0, has_limit = 0;
    rf_err rc = cli_opt_ll(a, "rollout", 1, INT64_MAX, &rollout, &has_rollout, err);
    rc = rc ? rc : cli_opt_ll(a, "after", 0, INT64_MAX, &after, &has_after, err);
    rc = rc ? rc : cli_opt_ll(a, "limit", 1, 1000000, &limit, &has_limit, err);
    rc = rc ? rc : cli_request_set(req, "GET", err, "/v1/events");
    if (rc == RF_OK &&
        cmd_events_path(&req->path, has_after ? after : -1, limit, 0, rollout) != RF_OK) {
        rc = rf_error_set(err, RF_ERR_TOO_LARGE, "the request URL is too long");
    }
    return rc;
}

#define DETAIL_VALUE_MAX 60 /* characters of one value shown in an event's details */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Scalar or compact JSON, cut to DETAIL_VALUE_MAX characters with "...". */
static rf_err detail_value(const json_t *v, rf_buf *out)
{
    rf_buf b;
    rf_buf_init(&b, CLI_MAX_OUTPUT);
    rf_err rc = cli_json_scalar_text(v, &b);
    const char *s = b.data ? b.data : "";
    if (rc == RF_OK && cli_text_width(s) > DETAIL_VALUE_MAX) {
        size_t n = 0, chars = 0;
        while (s[n] != '\0' && chars < DETAIL_VALUE_MAX - 3) {
            n++;
            while ((s[n] & 0xc0) == 0x80) {
                n++; /* never cut a character in two */
            }
            chars++;
        }
        rc = rf_buf_append(out, s, n);
        rc = rc ? rc : rf_buf_append_str(out, "...");
    } else if (rc == RF_OK) {
        rc = rf_buf_append_str(out, s);
    }
    rf_buf_cleanup(&b);
    return rc;
}

/* The union of the keys of a and b (objects or not), sorted; free the array. */
static const char **union_keys(const json_t *a, const json_t *b, size_t *n)
{
    size_t cap = json_object_size(a) + json_object_size(b);
    const char **keys = calloc(cap ? cap : 1, sizeof *keys);
    const json_t *objs[2] = {a, b};
    *n = 0;
    for (size_t o = 0; keys != NULL && o < 2; o++) {
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)objs[o], key, val)
        {
            if (o == 0 || json_object_get(a, key) == NULL) {
                keys[(*n)++] = key;
            }
        }
    }
    if (keys != NULL) {
        qsort(keys, *n, sizeof *keys, cmp_str);
    }
    return keys;
}

/* "state: active -> paused, version: 3 -> 4" for what changed. */
static rf_err changes_text(const json_t *before, const json_t *after, rf_buf *out)
{
    if (json_is_null(before) || before == NULL) {
        return rf_buf_append_str(out, "created");
    }
    if (json_is_null(after) || after == NULL) {
        return rf_buf_append_str(out, "deleted");
    }
    size_t n = 0, shown = 0;
    const char **keys = union_keys(before, after, &n);
    rf_err rc = keys ? RF_OK : RF_ERR_NOMEM;
    for (size_t i = 0; rc == RF_OK && i < n; i++) {
        const json_t *b = json_object_get(before, keys[i]), *a = json_object_get(after, keys[i]);
        if ((a == NULL && b == NULL) || (a != NULL && b != NULL && json_equal(a, b))) {
            continue;
        }
        rc = rf_buf_printf(out, "%s%s: ", shown++ ? ", " : "", keys[i]);
        rc = rc ? rc : detail_value(b, out);
        rc = rc ? rc : rf_buf_append_str(out, " -> ");
        rc = rc ? rc : detail_value(a, out);
    }
    if (rc == RF_OK && shown == 0) {
        rc = rf_buf_append_str(out, "no change");
    }
    free(keys);
    return rc;
}

rf_err cmd_event_details(const json_t *data, rf_buf *out)
{
    if (!json_is_object(data) || json_object_size(data) == 0) {
        return rf_buf_append_str(out, "-");
    }
    size_t n = 0, shown = 0;
    const char **keys = union_keys(data, NULL, &n);
    rf_err rc = keys ? RF_OK : RF_ERR_NOMEM;
    for (size_t i = 0; rc == RF_OK && i < n; i++) {
        if (strcmp(keys[i], "before") == 0 || strcmp(keys[i], "after") == 0) {
            continue;
        }
        rc = rf_buf_printf(out, "%s%s=", shown++ ? " " : "", keys[i]);
        rc = rc ? rc : detail_value(json_object_get(data, keys[i]), out);
    }
    if (rc == RF_OK && (json_object_get(data, "before") || json_object_get(data, "after"))) {
        rc = rf_buf_append_str(out, shown ? "; " : "");
        rc =
            rc ? rc
               : changes_text(json_object_get(data, "before"), json_object_get(data, "after"), out);
    }
    free(keys);
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
    rf_buf b;
    rf_buf_init(&b, CLI_MAX_OUTPUT);
    rc = rc ? rc : cmd_event_details(data, &b);
    rc = rc ? rc : cli_table_add(t, b.data);
    rf_buf_cleanup(&b);
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

rf_err cmd_event_line(const json_t *e, rf_buf *out)
{
    const char *dev = cli_jstr(e, "device_id");
    const json_t *data = json_object_get(e, "data");
    const json_t *rollout = json_object_get(e, "rollout_id");
    rf_buf line;
    rf_buf_init(&line, CLI_MAX_OUTPUT);
    rf_err rc = cli_json_scalar_text(json_object_get(e, "id"), &line);
    rc = rc ? rc : rf_buf_append_str(&line, "  ");
    rc = rc ? rc : cli_json_scalar_text(json_object_get(e, "at"), &line);
    rc = rc ? rc : rf_buf_append_str(&line, "  ");
    rc = rc ? rc : cli_json_scalar_text(json_object_get(e, "kind"), &line);
    rc = rc ? rc : rf_buf_append_str(&line, "  by ");
    rc = rc ? rc : cli_json_scalar_text(json_object_get(e, "actor"), &line);
    if (rc == RF_OK && json_is_integer(rollout)) {
        rc = rf_buf_printf(&line, "  rollout %" JSON_INTEGER_FORMAT, json_integer_value(rollout));
    }
    if (rc == RF_OK && dev != NULL) {
        rc = rf_buf_printf(&line, "  device %.*s", CLI_SHORT_ID, dev);
    }
    if (rc == RF_OK && json_is_object(data) && json_object_size(data) > 0) {
        rc = rf_buf_append_str(&line, "  ");
        rc = rc ? rc : cmd_event_details(data, &line);
    }
    /* Everything the server sent is shown with control characters as '?'. */
    rc = rc ? rc : cli_text_clean(out, line.data ? line.data : "", (size_t)-1, 0);
    rc = rc ? rc : rf_buf_append_str(out, "\n");
    rf_buf_cleanup(&line);
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
