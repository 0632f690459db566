/* Small helpers: time, files, parsing. The only clock reads in common/ are here. */
#ifndef RF_UTIL_H
#define RF_UTIL_H

#include "rf_buf.h"
#include <stdint.h>
#include <stddef.h>
#include <time.h>

int64_t rf_now_ms(void);       /* wall clock, milliseconds since the epoch */
int64_t rf_monotonic_ms(void); /* CLOCK_MONOTONIC in milliseconds */

/* "2026-11-25T01:44:27Z" for a time in seconds since the epoch (UTC). */
void rf_time_iso(int64_t epoch_s, char out[32]);
/* Parses the form above; RF_ERR_INVALID otherwise. */
rf_err rf_time_parse_iso(const char *s, int64_t *epoch_s);

/* Writes data to path atomically: temp file in the same directory, fsync,
 * rename, fsync of the directory. mode is applied to the new file. */
rf_err rf_file_write_atomic(const char *path, const void *data, size_t len, int mode,
                            rf_error *err);
/* Reads a whole file into out, replacing what it held (respecting out->cap:
 * RF_ERR_TOO_LARGE past it). A missing file is RF_ERR_NOT_FOUND. */
rf_err rf_file_read(const char *path, rf_buf *out, rf_error *err);
/* mkdir -p with mode. */
rf_err rf_mkdirs(const char *path, int mode, rf_error *err);

/* Strict integer parse of a whole string within [min, max]: an optional '-'
 * then decimal digits, nothing else (no blanks, no '+'). *out is set on RF_OK only. */
rf_err rf_parse_ll(const char *s, long long min, long long max, long long *out);

/* Copies src (NULL counts as "") into dst of size n >= 1, cutting it to
 * n - 1 bytes; dst is always NUL-terminated. For fields read from the
 * database or the network into fixed-size struct members. */
void rf_copy_str(char *dst, size_t n, const char *src);

/* snprintf that reports truncation as RF_ERR_TOO_LARGE. */
rf_err rf_snprintf(char *out, size_t outlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Length (1-4) of the well-formed UTF-8 sequence at the start of s (at most
 * avail bytes are read), or 0 if it is not well-formed (overlong forms,
 * surrogates and code points past U+10FFFF are not). */
size_t rf_utf8_char_len(const char *s, size_t avail);

#endif
