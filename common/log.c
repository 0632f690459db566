/* JSON log lines on stderr, one object per line, for people and log shippers.
 * Each line is built in memory and written with a single write(2) under a
 * lock, so lines from different threads never interleave. Values are escaped
 * and cut to a bounded size; this file never decides what is secret, so
 * callers must never pass tokens or keys. */
#include "rf_log.h"
#include "rf_buf.h"
#include "rf_util.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RF_LOG_LINE_MAX (64 * 1024) /* a longer line is replaced by a short notice */
#define RF_LOG_VALUE_MAX 8192       /* input bytes of one value kept before cutting */
#define RF_LOG_MSG_MAX 4096         /* formatted rf_logf message */

static atomic_int g_level = RF_LOG_INFO;
static _Atomic(const char *) g_component = NULL;
static pthread_mutex_t g_write_lock = PTHREAD_MUTEX_INITIALIZER;

void rf_log_set_level(rf_log_level min)
{
    atomic_store(&g_level, (int)min);
}

void rf_log_set_component(const char *name)
{
    atomic_store(&g_component, name);
}

static const char *level_name(rf_log_level lvl)
{
    switch (lvl) {
    case RF_LOG_DEBUG:
        return "debug";
    case RF_LOG_INFO:
        return "info";
    case RF_LOG_WARN:
        return "warn";
    case RF_LOG_ERROR:
        return "error";
    }
    return "error";
}

/* Appends s as a JSON string: control characters escaped, malformed UTF-8
 * replaced by U+FFFD, and anything past RF_LOG_VALUE_MAX bytes cut. */
static rf_err append_json_string(rf_buf *b, const char *s)
{
    if (s == NULL)
        return rf_buf_append(b, "null", 4);
    rf_err rc = rf_buf_append(b, "\"", 1);
    size_t len = strlen(s), i = 0;
    while (rc == RF_OK && i < len) {
        if (i >= RF_LOG_VALUE_MAX) {
            rc = rf_buf_append_str(b, "...(cut)");
            break;
        }
        unsigned char c = (unsigned char)s[i];
        size_t n = rf_utf8_char_len(s + i, len - i);
        if (c == '"' || c == '\\')
            rc = rf_buf_printf(b, "\\%c", c);
        else if (c == '\n')
            rc = rf_buf_append(b, "\\n", 2);
        else if (c == '\t')
            rc = rf_buf_append(b, "\\t", 2);
        else if (c == '\r')
            rc = rf_buf_append(b, "\\r", 2);
        else if (c < 0x20 || c == 0x7f)
            rc = rf_buf_printf(b, "\\u%04x", c);
        else if (n == 0)
            rc = rf_buf_append(b, "\\ufffd", 6);
        else
            rc = rf_buf_append(b, s + i, n);
        i += n > 0 ? n : 1;
    }
    if (rc == RF_OK)
        rc = rf_buf_append(b, "\"", 1);
    return rc;
}

static void format_ts(char out[64])
{
    int64_t ms = rf_now_ms();
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL) {
        memcpy(out, "1970-01-01T00:00:00.000Z", 25);
        return;
    }
    snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* The fields every line starts with: ts, level, component and msg. */
static rf_err append_head(rf_buf *b, rf_log_level lvl, const char *msg)
{
    char ts[64];
    format_ts(ts);
    rf_err rc = rf_buf_printf(b, "{\"ts\":\"%s\",\"level\":\"%s\"", ts, level_name(lvl));
    const char *comp = atomic_load(&g_component);
    if (rc == RF_OK && comp != NULL) {
        rc = rf_buf_append_str(b, ",\"component\":");
        if (rc == RF_OK)
            rc = append_json_string(b, comp);
    }
    if (rc == RF_OK)
        rc = rf_buf_append_str(b, ",\"msg\":");
    if (rc == RF_OK)
        rc = append_json_string(b, msg);
    return rc;
}

static void write_line(const char *p, size_t len)
{
    pthread_mutex_lock(&g_write_lock);
    while (len > 0) {
        ssize_t w = write(STDERR_FILENO, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break; /* nowhere left to report a failing log */
        p += w;
        len -= (size_t)w;
    }
    pthread_mutex_unlock(&g_write_lock);
}

static void emit(rf_log_level lvl, const char *msg, va_list kv)
{
    rf_buf b;
    rf_buf_init(&b, RF_LOG_LINE_MAX);
    rf_err rc = append_head(&b, lvl, msg);
    for (const char *key = va_arg(kv, const char *); rc == RF_OK && key != NULL;
         key = va_arg(kv, const char *)) {
        const char *val = va_arg(kv, const char *);
        rc = rf_buf_append(&b, ",", 1);
        if (rc == RF_OK)
            rc = append_json_string(&b, key);
        if (rc == RF_OK)
            rc = rf_buf_append(&b, ":", 1);
        if (rc == RF_OK)
            rc = append_json_string(&b, val);
    }
    if (rc == RF_OK)
        rc = rf_buf_append(&b, "}\n", 2);
    if (rc != RF_OK) {
        /* Too long (or no memory): say so in a line that surely fits. */
        rf_buf_reset(&b);
        rc = append_head(&b, lvl, "log line dropped: too long");
        if (rc == RF_OK)
            rc = rf_buf_append(&b, "}\n", 2);
    }
    if (rc == RF_OK)
        write_line(b.data, b.len);
    rf_buf_cleanup(&b);
}

void rf_log(rf_log_level lvl, const char *msg, ...)
{
    if ((int)lvl < atomic_load(&g_level))
        return;
    int saved = errno;
    va_list ap;
    va_start(ap, msg);
    emit(lvl, msg, ap);
    va_end(ap);
    errno = saved;
}

/* emit() reads key/value pairs from a va_list; this gives it an empty one. */
static void emit_plain(rf_log_level lvl, const char *msg, ...)
{
    va_list ap;
    va_start(ap, msg);
    emit(lvl, msg, ap);
    va_end(ap);
}

void rf_logf(rf_log_level lvl, const char *fmt, ...)
{
    if ((int)lvl < atomic_load(&g_level))
        return;
    int saved = errno;
    char msg[RF_LOG_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    /* A longer message is cut; the escaper repairs a cut UTF-8 sequence. */
    if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
        msg[0] = '\0';
    va_end(ap);
    emit_plain(lvl, msg, (const char *)NULL);
    errno = saved;
}
