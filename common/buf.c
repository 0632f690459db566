/* rf_buf: the one growable byte buffer, with a hard size cap.
 * Growth is geometric but never past cap (plus the terminating NUL), so input
 * from outside can never make a process allocate without bound. This file must
 * never let len exceed cap, nor leave data unterminated once allocated. */
#include "rf_buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RF_BUF_MIN_ALLOC 64

void rf_buf_init(rf_buf *b, size_t cap)
{
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    b->cap = cap;
}

void rf_buf_cleanup(rf_buf *b)
{
    if (b == NULL)
        return;
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
}

void rf_buf_reset(rf_buf *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

/* Makes room for extra more bytes plus the NUL; the caller checked the cap. */
static rf_err buf_reserve(rf_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (b->data != NULL && need <= b->alloc)
        return RF_OK;
    if (need < b->len || need > SIZE_MAX / 2)
        return RF_ERR_NOMEM;
    size_t n = b->alloc < RF_BUF_MIN_ALLOC ? RF_BUF_MIN_ALLOC : b->alloc;
    while (n < need)
        n *= 2;
    /* Never allocate more than the cap allows; cap + 1 cannot overflow here
     * because need <= cap + 1 and need <= SIZE_MAX / 2. */
    if (b->cap < SIZE_MAX && n > b->cap + 1)
        n = b->cap + 1;
    if (n < need)
        n = need;
    char *p = realloc(b->data, n);
    if (p == NULL)
        return RF_ERR_NOMEM;
    if (b->data == NULL)
        p[0] = '\0';
    b->data = p;
    b->alloc = n;
    return RF_OK;
}

rf_err rf_buf_append(rf_buf *b, const void *data, size_t len)
{
    if (b->len > b->cap || len > b->cap - b->len)
        return RF_ERR_TOO_LARGE;
    rf_err rc = buf_reserve(b, len);
    if (rc != RF_OK)
        return rc;
    if (len > 0)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return RF_OK;
}

rf_err rf_buf_append_str(rf_buf *b, const char *s)
{
    return rf_buf_append(b, s, strlen(s));
}

rf_err rf_buf_printf(rf_buf *b, const char *fmt, ...)
{
    rf_err rc = RF_OK;
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    size_t room = b->data != NULL ? b->alloc - b->len : 0;
    int n = vsnprintf(room > 0 ? b->data + b->len : NULL, room, fmt, ap);
    if (n < 0) {
        rc = RF_ERR_INTERNAL;
        goto out;
    }
    size_t add = (size_t)n;
    if (b->len > b->cap || add > b->cap - b->len) {
        rc = RF_ERR_TOO_LARGE;
        goto out;
    }
    if (add >= room) {
        /* It did not fit: grow and format again from the copy of the list. */
        rc = buf_reserve(b, add);
        if (rc != RF_OK)
            goto out;
        if (vsnprintf(b->data + b->len, add + 1, fmt, ap2) != n) {
            rc = RF_ERR_INTERNAL;
            goto out;
        }
    }
    b->len += add;
out:
    /* A failed attempt may have written into the spare room; restore the NUL. */
    if (b->data != NULL)
        b->data[b->len] = '\0';
    va_end(ap2);
    va_end(ap);
    return rc;
}

char *rf_buf_steal(rf_buf *b, size_t *len)
{
    if (b->data == NULL && buf_reserve(b, 0) != RF_OK)
        return NULL;
    char *p = b->data;
    if (len != NULL)
        *len = b->len;
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    return p;
}
