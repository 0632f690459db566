/* PostgreSQL text array literals (see pg_array.h). Pure: no libpq, no I/O. */
#include "pg_array.h"
#include "rf_util.h"

#include <string.h>

void pg_array_init(pg_array *a, size_t cap)
{
    memset(a, 0, sizeof(*a));
    rf_buf_init(&a->buf, cap);
    a->rc = rf_buf_append_str(&a->buf, "{");
}

void pg_array_cleanup(pg_array *a)
{
    if (a == NULL)
        return;
    rf_buf_cleanup(&a->buf);
    a->n = 0;
}

static void put(pg_array *a, const char *s, size_t n)
{
    if (a->rc == RF_OK)
        a->rc = rf_buf_append(&a->buf, s, n);
}

void pg_array_add(pg_array *a, const char *s)
{
    if (a->rc != RF_OK || a->closed) {
        a->rc = a->rc != RF_OK ? a->rc : RF_ERR_INTERNAL;
        return;
    }
    if (a->n++ > 0)
        put(a, ",", 1);
    if (s == NULL) {
        put(a, "NULL", 4);
        return;
    }
    put(a, "\"", 1);
    for (const char *p = s; *p != '\0' && a->rc == RF_OK;) {
        size_t run = strcspn(p, "\"\\");
        put(a, p, run);
        p += run;
        if (*p != '\0') {
            char esc[2] = {'\\', *p++};
            put(a, esc, 2);
        }
    }
    put(a, "\"", 1);
}

void pg_array_add_ll(pg_array *a, long long v)
{
    char num[24];
    rf_snprintf(num, sizeof(num), "%lld", v);
    pg_array_add(a, num);
}

void pg_array_add_id(pg_array *a, long long v)
{
    if (v > 0)
        pg_array_add_ll(a, v);
    else
        pg_array_add(a, NULL);
}

const char *pg_array_text(pg_array *a)
{
    if (a->rc == RF_OK && !a->closed) {
        put(a, "}", 1);
        a->closed = 1;
    }
    return a->rc == RF_OK ? a->buf.data : NULL;
}
