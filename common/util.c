/* Small helpers shared by every part: clocks, ISO times, whole-file reads and
 * atomic writes, directory creation, strict number parsing, bounded formatting.
 * These are the only clock reads in common/. Nothing here may write a file in
 * place: a crash mid-write must leave either the old or the new content. */
#include "rf_util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RF_READ_CHUNK 16384

int64_t rf_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t rf_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The range rf_time_parse_iso accepts: 0000-01-01T00:00:00Z to 9999-12-31T23:59:59Z. */
#define RF_ISO_MIN_S (-62167219200LL)
#define RF_ISO_MAX_S 253402300799LL

void rf_time_iso(int64_t epoch_s, char out[32])
{
    /* Clamp so that every output parses back; gmtime_r cannot fail in range. */
    if (epoch_s < RF_ISO_MIN_S)
        epoch_s = RF_ISO_MIN_S;
    if (epoch_s > RF_ISO_MAX_S)
        epoch_s = RF_ISO_MAX_S;
    time_t t = (time_t)epoch_s;
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL) {
        memcpy(out, "1970-01-01T00:00:00Z", 21);
        return;
    }
    /* In the clamped range this is always 20 characters. */
    (void)rf_snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                      tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Parses n decimal digits at s; -1 if any is not a digit. */
static int iso_digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static int days_in_month(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

rf_err rf_time_parse_iso(const char *s, int64_t *epoch_s)
{
    if (s == NULL || strlen(s) != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
        s[13] != ':' || s[16] != ':' || s[19] != 'Z')
        return RF_ERR_INVALID;
    int year = iso_digits(s, 4), mon = iso_digits(s + 5, 2), day = iso_digits(s + 8, 2);
    int hour = iso_digits(s + 11, 2), min = iso_digits(s + 14, 2), sec = iso_digits(s + 17, 2);
    if (year < 0 || mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon) || hour < 0 ||
        hour > 23 || min < 0 || min > 59 || sec < 0 || sec > 59)
        return RF_ERR_INVALID;
    struct tm tm = {0};
    tm.tm_year = year - 1900;
    tm.tm_mon = mon - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = min;
    tm.tm_sec = sec;
    /* Every field was checked above, so (time_t)-1 here is 1969-12-31T23:59:59Z. */
    *epoch_s = (int64_t)timegm(&tm);
    return RF_OK;
}

/* Splits path into its directory ("." if none) and base name. */
static rf_err split_path(const char *path, char *dir, size_t dirlen, const char **base)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        *base = path;
        return rf_snprintf(dir, dirlen, ".");
    }
    *base = slash + 1;
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    if (n >= dirlen)
        return RF_ERR_TOO_LARGE;
    memcpy(dir, path, n);
    dir[n] = '\0';
    return RF_OK;
}

static rf_err write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return RF_ERR_IO;
        p += w;
        len -= (size_t)w;
    }
    return RF_OK;
}

static rf_err fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return RF_ERR_IO;
    int rc = fsync(fd);
    close(fd);
    return rc == 0 ? RF_OK : RF_ERR_IO;
}

rf_err rf_file_write_atomic(const char *path, const void *data, size_t len, int mode, rf_error *err)
{
    rf_err rc = RF_OK;
    char dir[PATH_MAX], tmp[PATH_MAX];
    const char *base = NULL;
    int fd = -1, created = 0;
    const char *step = "create temporary file";
    if (split_path(path, dir, sizeof(dir), &base) != RF_OK || base[0] == '\0' ||
        rf_snprintf(tmp, sizeof(tmp), "%s/.%s.tmp.XXXXXX", dir, base) != RF_OK) {
        rc = rf_error_set(err, RF_ERR_INVALID, "%s: not a usable file path", path);
        goto out;
    }
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        goto fail;
    created = 1;
    /* The mode is set before the data goes in so that the fsync below makes
     * both durable, and a secret never sits in a file wider than 0600
     * (mkostemp creates it 0600). */
    step = "chmod";
    if (fchmod(fd, (mode_t)mode) != 0)
        goto fail;
    step = "write";
    if (write_all(fd, data, len) != RF_OK)
        goto fail;
    step = "fsync";
    if (fsync(fd) != 0)
        goto fail;
    step = "close";
    int crc = close(fd);
    fd = -1;
    if (crc != 0)
        goto fail;
    step = "rename";
    if (rename(tmp, path) != 0)
        goto fail;
    created = 0;
    /* Without this the rename itself may be lost on a crash. */
    step = "fsync of the directory";
    if (fsync_dir(dir) != RF_OK)
        goto fail;
    goto out;
fail:
    rc = rf_error_set(err, RF_ERR_IO, "%s: %s failed: %s", path, step, strerror(errno));
out:
    if (fd >= 0)
        close(fd);
    if (created)
        unlink(tmp);
    return rc;
}

rf_err rf_file_read(const char *path, rf_buf *out, rf_error *err)
{
    rf_err rc = RF_OK;
    char chunk[RF_READ_CHUNK];
    rf_buf_reset(out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = rf_error_set(err, errno == ENOENT ? RF_ERR_NOT_FOUND : RF_ERR_IO, "%s: %s", path,
                          strerror(errno));
        goto out;
    }
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = rf_error_set(err, RF_ERR_IO, "%s: %s", path, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        rc = rf_buf_append(out, chunk, (size_t)n);
        if (rc == RF_ERR_TOO_LARGE) {
            rc = rf_error_set(err, rc, "%s: larger than %zu bytes", path, out->cap);
            goto out;
        }
        if (rc != RF_OK) {
            rc = rf_error_set(err, rc, "%s: out of memory", path);
            goto out;
        }
    }
    /* An empty file still yields a terminated, non-NULL string. */
    rc = rf_buf_append(out, "", 0);
    if (rc != RF_OK)
        rc = rf_error_set(err, rc, "%s: out of memory", path);
out:
    /* The file may be a private key: leave no copy of it on the stack. */
    explicit_bzero(chunk, sizeof(chunk));
    if (fd >= 0)
        close(fd);
    return rc;
}

rf_err rf_mkdirs(const char *path, int mode, rf_error *err)
{
    char p[PATH_MAX];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof(p))
        return rf_error_set(err, RF_ERR_INVALID, "%s: not a usable directory path", path);
    memcpy(p, path, n + 1);
    /* Create each prefix in turn; one that already exists must be a directory. */
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char saved = p[i];
        p[i] = '\0';
        if (mkdir(p, (mode_t)mode) != 0 && errno != EEXIST) {
            rf_err rc = rf_error_set(err, RF_ERR_IO, "%s: mkdir failed: %s", p, strerror(errno));
            p[i] = saved;
            return rc;
        }
        struct stat st;
        if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode))
            return rf_error_set(err, RF_ERR_IO, "%s: exists and is not a directory", p);
        p[i] = saved;
    }
    return RF_OK;
}

rf_err rf_parse_ll(const char *s, long long min, long long max, long long *out)
{
    /* strtoll would accept leading blanks and a '+'; a strict parse does not. */
    if (s == NULL || !(s[0] == '-' || (s[0] >= '0' && s[0] <= '9')))
        return RF_ERR_INVALID;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return RF_ERR_INVALID;
    *out = v;
    return RF_OK;
}

rf_err rf_snprintf(char *out, size_t outlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, outlen, fmt, ap);
    va_end(ap);
    if (n < 0)
        return RF_ERR_INTERNAL;
    return (size_t)n >= outlen ? RF_ERR_TOO_LARGE : RF_OK;
}

size_t rf_utf8_char_len(const char *s, size_t avail)
{
    const unsigned char *u = (const unsigned char *)s;
    if (avail == 0)
        return 0;
    if (u[0] < 0x80)
        return 1;
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;
    /* Shortest forms only, no surrogates, nothing past U+10FFFF (RFC 3629). */
    if (u[0] >= 0xC2 && u[0] <= 0xDF) {
        n = 2;
    } else if (u[0] >= 0xE0 && u[0] <= 0xEF) {
        n = 3;
        if (u[0] == 0xE0)
            lo = 0xA0;
        if (u[0] == 0xED)
            hi = 0x9F;
    } else if (u[0] >= 0xF0 && u[0] <= 0xF4) {
        n = 4;
        if (u[0] == 0xF0)
            lo = 0x90;
        if (u[0] == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    if (avail < n || u[1] < lo || u[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (u[i] < 0x80 || u[i] > 0xBF)
            return 0;
    return n;
}

void rf_copy_str(char *dst, size_t n, const char *src)
{
    size_t len = src ? strlen(src) : 0;

    if (len >= n)
        len = n - 1;
    if (len)
        memcpy(dst, src, len);
    dst[len] = '\0';
}
