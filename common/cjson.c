/* Canonical JSON encoder: the exact bytes that signatures cover.
 * Keys are sorted by their raw UTF-8 bytes, nothing but '\\' and '"' is
 * escaped, and numbers are integers. Anything another canonical-JSON
 * implementation could encode differently (reals, control characters,
 * malformed UTF-8) is refused with the key path, never silently rewritten. */
#include "rf_cjson.h"
#include "rf_util.h"

#include <stdlib.h>
#include <string.h>

/* The key path of the value being encoded, for error messages only. A path
 * too long for the buffer is cut and marked, which is enough to find it. */
typedef struct cj_path {
    char s[200];
    size_t len;
} cj_path;

typedef struct cj_member {
    const char *key;
    size_t key_len;
    json_t *value;
} cj_member;

static rf_err encode_value(const json_t *v, cj_path *path, int depth, rf_buf *out, rf_error *err);

static void path_push(cj_path *p, const char *sep, const char *seg, size_t seg_len)
{
    size_t sep_len = strlen(sep);
    if (p->len >= 3 && memcmp(p->s + p->len - 3, "...", 3) == 0)
        return; /* already cut */
    /* Room for "..." and the NUL is always kept, so the cut mark fits. */
    if (sep_len + seg_len + 4 > sizeof(p->s) - p->len) {
        memcpy(p->s + p->len, "...", 4);
        p->len += 3;
        return;
    }
    memcpy(p->s + p->len, sep, sep_len);
    memcpy(p->s + p->len + sep_len, seg, seg_len);
    p->len += sep_len + seg_len;
    p->s[p->len] = '\0';
}

static rf_err cj_fail(rf_error *err, const cj_path *p, const char *why)
{
    if (p->len == 0)
        return rf_error_set(err, RF_ERR_INVALID, "%s", why);
    return rf_error_set(err, RF_ERR_INVALID, "%s: %s", p->s, why);
}

/* Writes s as a JSON string, escaping only '\\' and '"'. */
static rf_err encode_string(const char *s, size_t len, const cj_path *p, rf_buf *out, rf_error *err)
{
    size_t i = 0, run = 0;
    rf_err rc = rf_buf_append(out, "\"", 1);
    while (rc == RF_OK && i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20)
            return cj_fail(err, p, "control characters are not allowed in strings");
        size_t n = rf_utf8_char_len(s + i, len - i);
        if (n == 0)
            return cj_fail(err, p, "strings must be valid UTF-8");
        if (c == '\\' || c == '"') {
            rc = rf_buf_append(out, s + run, i - run);
            if (rc == RF_OK)
                rc = rf_buf_append(out, c == '\\' ? "\\\\" : "\\\"", 2);
            run = i + 1;
        }
        i += n;
    }
    if (rc == RF_OK)
        rc = rf_buf_append(out, s + run, len - run);
    if (rc == RF_OK)
        rc = rf_buf_append(out, "\"", 1);
    return rc;
}

static int member_cmp(const void *a, const void *b)
{
    const cj_member *x = a, *y = b;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = memcmp(x->key, y->key, n);
    if (c != 0)
        return c;
    return x->key_len < y->key_len ? -1 : x->key_len > y->key_len;
}

static rf_err encode_object(const json_t *v, cj_path *path, int depth, rf_buf *out, rf_error *err)
{
    rf_err rc = RF_OK;
    size_t n = json_object_size(v), i = 0;
    cj_member *m = n > 0 ? calloc(n, sizeof(*m)) : NULL;
    if (n > 0 && m == NULL)
        return rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    /* jansson keeps keys in insertion order; collect and sort them. */
    json_t *obj = (json_t *)v;
    for (void *it = json_object_iter(obj); it != NULL && i < n;
         it = json_object_iter_next(obj, it), i++) {
        m[i].key = json_object_iter_key(it);
        m[i].key_len = json_object_iter_key_len(it);
        m[i].value = json_object_iter_value(it);
    }
    if (i > 1)
        qsort(m, i, sizeof(*m), member_cmp);
    rc = rf_buf_append(out, "{", 1);
    for (size_t k = 0; rc == RF_OK && k < i; k++) {
        size_t saved = path->len;
        path_push(path, path->len > 0 ? "." : "", m[k].key, m[k].key_len);
        if (k > 0)
            rc = rf_buf_append(out, ",", 1);
        if (rc == RF_OK)
            rc = encode_string(m[k].key, m[k].key_len, path, out, err);
        if (rc == RF_OK)
            rc = rf_buf_append(out, ":", 1);
        if (rc == RF_OK)
            rc = encode_value(m[k].value, path, depth + 1, out, err);
        path->len = saved;
        path->s[saved] = '\0';
    }
    if (rc == RF_OK)
        rc = rf_buf_append(out, "}", 1);
    free(m);
    return rc;
}

static rf_err encode_array(const json_t *v, cj_path *path, int depth, rf_buf *out, rf_error *err)
{
    rf_err rc = rf_buf_append(out, "[", 1);
    size_t n = json_array_size(v);
    for (size_t i = 0; rc == RF_OK && i < n; i++) {
        char idx[32];
        size_t saved = path->len;
        int len = snprintf(idx, sizeof(idx), "%zu]", i);
        path_push(path, "[", idx, (size_t)len);
        if (i > 0)
            rc = rf_buf_append(out, ",", 1);
        if (rc == RF_OK)
            rc = encode_value(json_array_get(v, i), path, depth + 1, out, err);
        path->len = saved;
        path->s[saved] = '\0';
    }
    if (rc == RF_OK)
        rc = rf_buf_append(out, "]", 1);
    return rc;
}

static rf_err encode_value(const json_t *v, cj_path *path, int depth, rf_buf *out, rf_error *err)
{
    if (v == NULL)
        return cj_fail(err, path, "missing value");
    if (depth > RF_CJSON_MAX_DEPTH)
        return cj_fail(err, path, "nested too deeply");
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return encode_object(v, path, depth, out, err);
    case JSON_ARRAY:
        return encode_array(v, path, depth, out, err);
    case JSON_STRING:
        return encode_string(json_string_value(v), json_string_length(v), path, out, err);
    case JSON_INTEGER:
        return rf_buf_printf(out, "%lld", (long long)json_integer_value(v));
    case JSON_REAL:
        return cj_fail(err, path, "real numbers are not allowed");
    case JSON_TRUE:
        return rf_buf_append(out, "true", 4);
    case JSON_FALSE:
        return rf_buf_append(out, "false", 5);
    case JSON_NULL:
        return rf_buf_append(out, "null", 4);
    }
    return cj_fail(err, path, "unknown JSON type");
}

rf_err rf_cjson_encode_at(const json_t *v, const char *path, rf_buf *out, rf_error *err)
{
    cj_path p = {.len = 0};
    p.s[0] = '\0';
    if (path != NULL)
        path_push(&p, "", path, strlen(path));
    rf_err rc = encode_value(v, &p, 0, out, err);
    /* Every refusal of the value is RF_ERR_INVALID with its message set;
     * anything else came from the buffer and has no message yet. */
    if (rc == RF_ERR_TOO_LARGE)
        rc = rf_error_set(err, rc, "canonical JSON is larger than %zu bytes", out->cap);
    else if (rc != RF_OK && rc != RF_ERR_INVALID)
        rc = rf_error_set(err, rc, "canonical JSON encoding failed: %s", rf_err_name(rc));
    return rc;
}

rf_err rf_cjson_encode(const json_t *v, rf_buf *out, rf_error *err)
{
    return rf_cjson_encode_at(v, NULL, out, err);
}
