/* Building assign_ring selectors from stored rings (see ring_index.h):
 * members become a sorted pointer array for bsearch, windows become
 * assign_window values. Stored windows were validated when written; one that
 * no longer parses is treated as "always closed" rather than "always open",
 * since a window only ever holds installs back. */
#include "ring_index.h"

#include <stdlib.h>
#include <string.h>

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static rf_err parse_window(const char *field, size_t i, const json_t *w, assign_window *out,
                           rf_error *err)
{
    const json_t *days = json_object_get(w, "days"), *hours = json_object_get(w, "hours");
    const char *key;
    json_t *v;
    if (!json_is_object(w))
        return rf_error_set(err, RF_ERR_INVALID,
                            "field '%s[%zu]': must be {\"days\": [...], \"hours\": [from, to]}",
                            field, i);
    json_object_foreach((json_t *)w, key, v)
    {
        (void)v;
        if (strcmp(key, "days") != 0 && strcmp(key, "hours") != 0)
            return rf_error_set(err, RF_ERR_INVALID, "field '%s[%zu].%.32s': unknown field", field,
                                i, key);
    }
    memset(out, 0, sizeof(*out));
    if (!json_is_array(days) || json_array_size(days) < 1 || json_array_size(days) > 7)
        return rf_error_set(err, RF_ERR_INVALID,
                            "field '%s[%zu].days': must be a list of mon tue wed thu fri sat sun",
                            field, i);
    for (size_t d = 0; d < json_array_size(days); d++) {
        int day = assign_day_parse(json_string_value(json_array_get(days, d)));
        if (day < 0)
            return rf_error_set(err, RF_ERR_INVALID,
                                "field '%s[%zu].days[%zu]': must be one of mon tue wed thu fri "
                                "sat sun",
                                field, i, d);
        out->days |= 1u << day;
    }
    const json_t *f = json_array_get(hours, 0), *t = json_array_get(hours, 1);
    if (!json_is_array(hours) || json_array_size(hours) != 2 || !json_is_integer(f) ||
        !json_is_integer(t) || json_integer_value(f) < 0 || json_integer_value(t) > 24 ||
        json_integer_value(f) >= json_integer_value(t))
        return rf_error_set(err, RF_ERR_INVALID,
                            "field '%s[%zu].hours': must be [from, to] with 0 <= from < to <= 24 "
                            "(UTC)",
                            field, i);
    out->from_h = (int)json_integer_value(f);
    out->to_h = (int)json_integer_value(t);
    return RF_OK;
}

rf_err ring_windows_parse(const char *field, const json_t *v, assign_window *out, int *n,
                          rf_error *err)
{
    *n = 0;
    if (v == NULL || json_is_null(v))
        return RF_OK;
    if (!json_is_array(v) || json_array_size(v) > ASSIGN_MAX_WINDOWS)
        return rf_error_set(err, RF_ERR_INVALID, "field '%s': must be a list of at most %d windows",
                            field, ASSIGN_MAX_WINDOWS);
    for (size_t i = 0; i < json_array_size(v); i++) {
        rf_err rc = parse_window(field, i, json_array_get(v, i), &out[i], err);
        if (rc != RF_OK)
            return rc;
        (*n)++;
    }
    return RF_OK;
}

void ring_index_cleanup(ring_index *ix)
{
    if (ix == NULL)
        return;
    free(ix->sel);
    free(ix->members);
    free(ix->windows);
    store_ring_list_cleanup(&ix->rings);
    memset(ix, 0, sizeof(*ix));
}

/* Fills ix->sel[i] from ring i, using members[*m..] and windows[*w..]. */
static void build_one(ring_index *ix, size_t i, size_t *m, size_t *w)
{
    const store_ring *g = &ix->rings.items[i];
    assign_ring *s = &ix->sel[i];
    s->sel = (rf_ring_sel){g->id, g->order, g->labels, g->bucket_lo, g->bucket_hi};
    s->members_only = g->members_only;
    s->members = ix->members + *m;
    for (size_t k = 0; k < json_array_size(g->members); k++) {
        const char *id = json_string_value(json_array_get(g->members, k));
        if (id != NULL)
            ix->members[(*m)++] = id;
    }
    s->nmembers = (size_t)(ix->members + *m - s->members);
    qsort((void *)s->members, s->nmembers, sizeof(*s->members), cmp_str);
    int n = 0;
    s->windows = ix->windows + *w;
    if (ring_windows_parse("windows", g->windows, ix->windows + *w, &n, NULL) != RF_OK) {
        /* unreadable: a window that never opens */
        ix->windows[*w] = (assign_window){0, 0, 1};
        n = 1;
    }
    s->nwindows = n;
    *w += (size_t)n;
}

rf_err ring_index_take(ring_index *ix, store_ring_list *rings, rf_error *err)
{
    size_t nm = 0, m = 0, w = 0;
    memset(ix, 0, sizeof(*ix));
    ix->rings = *rings;
    memset(rings, 0, sizeof(*rings));
    for (size_t i = 0; i < ix->rings.n; i++)
        nm += json_array_size(ix->rings.items[i].members);
    ix->sel = calloc(ix->rings.n ? ix->rings.n : 1, sizeof(*ix->sel));
    ix->members = calloc(nm ? nm : 1, sizeof(*ix->members));
    ix->windows = calloc(ix->rings.n * ASSIGN_MAX_WINDOWS + 1, sizeof(*ix->windows));
    if (ix->sel == NULL || ix->members == NULL || ix->windows == NULL) {
        ring_index_cleanup(ix);
        return rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < ix->rings.n; i++)
        build_one(ix, i, &m, &w);
    return RF_OK;
}

rf_err ring_index_load(rf_db *db, ring_index *ix, rf_error *err)
{
    store_ring_list rings;
    memset(ix, 0, sizeof(*ix));
    rf_err rc = store_ring_list_all(db, &rings, err);
    if (rc != RF_OK)
        return rc;
    return ring_index_take(ix, &rings, err);
}

int ring_index_of(const ring_index *ix, const char *device_id, const json_t *labels, int bucket)
{
    return assign_ring_of(ix->sel, ix->rings.n, device_id, labels, (uint32_t)bucket);
}

int ring_index_pos(const ring_index *ix, long long ring_id)
{
    for (size_t i = 0; i < ix->rings.n; i++)
        if (ix->rings.items[i].id == ring_id)
            return (int)i;
    return -1;
}
