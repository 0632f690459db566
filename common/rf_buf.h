/* rf_buf: the one growable byte buffer, with a hard size cap.
 * Every buffer that grows with outside input goes through it, so no input can
 * make a process allocate without bound. The buffer is always NUL-terminated. */
#ifndef RF_BUF_H
#define RF_BUF_H

#include "rf_err.h"
#include <stddef.h>

typedef struct rf_buf {
    char *data; /* NUL-terminated; NULL until the first append */
    size_t len;
    size_t alloc;
    size_t cap; /* appending past cap fails with RF_ERR_TOO_LARGE */
} rf_buf;

void rf_buf_init(rf_buf *b, size_t cap);
/* Frees the storage and resets the struct (cap kept); NULL-safe. */
void rf_buf_cleanup(rf_buf *b);
void rf_buf_reset(rf_buf *b); /* len = 0, storage kept */
rf_err rf_buf_append(rf_buf *b, const void *data, size_t len);
rf_err rf_buf_append_str(rf_buf *b, const char *s);
rf_err rf_buf_printf(rf_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands the storage to the caller (free() it); the buffer is left empty. */
char *rf_buf_steal(rf_buf *b, size_t *len);

#endif
