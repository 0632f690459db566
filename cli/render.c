/* Helpers that turn members of the server's JSON answers into table cells
 * and short texts: scalars, label sets, ages and sizes. Pure: the current
 * time comes in as a parameter. Missing or null members show as "-" so a
 * newer server with fewer or more fields never breaks the output. */
#include "cli.h"
#include "rf_util.h"

#include <stdlib.h>
#include <string.h>

long long cli_jint(const json_t *o, const char *key, long long def)
{
    const json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (long long)json_integer_value(v) : def;
}

const char *cli_jstr(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

rf_err cli_json_scalar_text(const json_t *v, rf_buf *out)
{
    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_STRING:
        return rf_buf_append(out, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        return rf_buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    case JSON_REAL:
        return rf_buf_printf(out, "%g", json_real_value(v));
    case JSON_TRUE:
        return rf_buf_append_str(out, "yes");
    case JSON_FALSE:
        return rf_buf_append_str(out, "no");
    case JSON_NULL:
        return rf_buf_append_str(out, "-");
    default: {
        char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
        if (s == NULL) {
            return RF_ERR_NOMEM;
        }
        rf_err rc = rf_buf_append_str(out, s);
        free(s);
        return rc;
    }
    }
}

rf_err cli_json_clean_text(const json_t *v, rf_buf *out)
{
    rf_buf b;
    rf_buf_init(&b, CLI_MAX_OUTPUT);
    rf_err rc = cli_json_scalar_text(v, &b);
    if (rc == RF_OK) {
        rc = cli_text_clean(out, b.data ? b.data : "", (size_t)-1, 0);
    }
    rf_buf_cleanup(&b);
    return rc;
}

rf_err cli_buckets_text(const json_t *buckets, rf_buf *out)
{
    const json_t *lo = json_array_get(buckets, 0), *hi = json_array_get(buckets, 1);
    if (!json_is_integer(lo) || !json_is_integer(hi)) {
        return rf_buf_append_str(out, "-");
    }
    return rf_buf_printf(out, "%" JSON_INTEGER_FORMAT "-%" JSON_INTEGER_FORMAT,
                         json_integer_value(lo), json_integer_value(hi));
}

rf_err cli_table_add_json(cli_table *t, const json_t *v)
{
    rf_buf b;
    rf_buf_init(&b, CLI_MAX_OUTPUT);
    rf_err rc = cli_json_scalar_text(v, &b);
    if (rc == RF_OK) {
        rc = cli_table_add(t, b.data ? b.data : "");
    }
    rf_buf_cleanup(&b);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

rf_err cli_labels_text(const json_t *labels, rf_buf *out)
{
    size_t n = json_is_object(labels) ? json_object_size(labels) : 0;
    if (n == 0) {
        return rf_buf_append_str(out, "-");
    }
    const char **keys = calloc(n, sizeof *keys);
    if (keys == NULL) {
        return RF_ERR_NOMEM;
    }
    size_t k = 0;
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)labels, key, val)
    {
        if (k < n) {
            keys[k++] = key;
        }
    }
    qsort(keys, k, sizeof *keys, cmp_str);
    rf_err rc = RF_OK;
    for (size_t i = 0; i < k && rc == RF_OK; i++) {
        rc = rf_buf_printf(out, "%s%s=", i ? "," : "", keys[i]);
        if (rc == RF_OK) {
            rc = cli_json_scalar_text(json_object_get(labels, keys[i]), out);
        }
    }
    free(keys);
    return rc;
}

void cli_age_text(int64_t now_s, int64_t then_s, char *out, size_t outlen)
{
    int64_t d = now_s - then_s;
    if (d < 1) {
        (void)rf_snprintf(out, outlen, "just now");
    } else if (d < 120) {
        (void)rf_snprintf(out, outlen, "%llds ago", (long long)d);
    } else if (d < 2LL * 3600) {
        (void)rf_snprintf(out, outlen, "%lldm ago", (long long)(d / 60));
    } else if (d < 2LL * 86400) {
        (void)rf_snprintf(out, outlen, "%lldh ago", (long long)(d / 3600));
    } else {
        (void)rf_snprintf(out, outlen, "%lldd ago", (long long)(d / 86400));
    }
}

void cli_size_text(long long bytes, char *out, size_t outlen)
{
    static const char *const unit[] = {"KiB", "MiB", "GiB", "TiB"};
    if (bytes < 1024) {
        (void)rf_snprintf(out, outlen, "%lld B", bytes);
        return;
    }
    double v = (double)bytes / 1024.0;
    size_t u = 0;
    while (v >= 1024.0 && u + 1 < sizeof unit / sizeof unit[0]) {
        v /= 1024.0;
        u++;
    }
    (void)rf_snprintf(out, outlen, "%.1f %s", v, unit[u]);
}

rf_err cli_answer_array(const json_t *answer, const char *key, const json_t **out, rf_error *err)
{
    *out = json_object_get(answer, key);
    if (!json_is_array(*out)) {
        return rf_error_set(err, RF_ERR_INVALID, "the server's answer has no '%s' list", key);
    }
    return RF_OK;
}

rf_err cli_render_fields(const json_t *obj, const char *const *keys, rf_buf *out)
{
    cli_table t;
    rf_err rc = cli_table_init(&t, 2, NULL);
    for (size_t i = 0; keys[i] != NULL && rc == RF_OK; i++) {
        const json_t *v = json_object_get(obj, keys[i]);
        rc = cli_table_add(&t, keys[i]);
        if (rc != RF_OK) {
            break;
        }
        if (strcmp(keys[i], "labels") == 0 || strcmp(keys[i], "buckets") == 0) {
            rf_buf b;
            rf_buf_init(&b, CLI_MAX_OUTPUT);
            rc = keys[i][0] == 'l' ? cli_labels_text(v, &b) : cli_buckets_text(v, &b);
            if (rc == RF_OK) {
                rc = cli_table_add(&t, b.data);
            }
            rf_buf_cleanup(&b);
        } else {
            rc = cli_table_add_json(&t, v);
        }
    }
    if (rc == RF_OK) {
        rc = cli_table_render(&t, out);
    }
    cli_table_cleanup(&t);
    return rc;
}

rf_err cli_render_id(const json_t *answer, const cli_view *v, rf_buf *out, rf_error *err)
{
    (void)v;
    const json_t *id = json_object_get(answer, "id");
    if (!json_is_integer(id)) {
        return rf_error_set(err, RF_ERR_INVALID, "the server's answer has no 'id'");
    }
    return rf_buf_printf(out, "%" JSON_INTEGER_FORMAT "\n", json_integer_value(id));
}
