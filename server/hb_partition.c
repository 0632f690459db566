/* Pure partition arithmetic for raw heartbeats (hb_partition.h): civil dates
 * from day numbers and back, names, ranges and the retention cut-off. It
 * never reads the clock or the database, and never produces a name that the
 * parser would refuse. */
#include "hb_partition.h"
#include "rf_util.h"

#include <string.h>

#define DAY_S 86400

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Days since 1970-01-01 of y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

int64_t hb_partition_day(int64_t now_s)
{
    return floor_div(now_s, DAY_S);
}

static int format_day(int64_t day, char *ts, size_t n, char *compact, size_t cn)
{
    int64_t y;
    int m, d;
    civil_from_days(day, &y, &m, &d);
    if (y < 1970 || y > 9999)
        return -1;
    if (ts)
        rf_snprintf(ts, n, "%04d-%02d-%02d 00:00:00+00", (int)y, m, d);
    if (compact)
        rf_snprintf(compact, cn, "%04d%02d%02d", (int)y, m, d);
    return 0;
}

int hb_partition_of_day(int64_t day, hb_partition *out)
{
    char compact[16];
    memset(out, 0, sizeof(*out));
    if (format_day(day, out->lo, sizeof(out->lo), compact, sizeof(compact)) != 0 ||
        format_day(day + 1, out->hi, sizeof(out->hi), NULL, 0) != 0)
        return -1;
    out->day = day;
    rf_snprintf(out->name, sizeof(out->name), "heartbeats_p%s", compact);
    return 0;
}

int hb_partition_parse(const char *name, int64_t *day)
{
    static const char prefix[] = "heartbeats_p";
    size_t plen = sizeof(prefix) - 1;
    int v[8];

    if (name == NULL || strncmp(name, prefix, plen) != 0 || strlen(name) != plen + 8)
        return -1;
    for (int i = 0; i < 8; i++) {
        char c = name[plen + (size_t)i];
        if (c < '0' || c > '9')
            return -1;
        v[i] = c - '0';
    }
    int y = v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3];
    int m = v[4] * 10 + v[5];
    int d = v[6] * 10 + v[7];
    if (y < 1970 || m < 1 || m > 12 || d < 1 || d > 31)
        return -1;
    int64_t z = days_from_civil(y, m, d);
    int64_t cy;
    int cm, cd;
    civil_from_days(z, &cy, &cm, &cd);
    if (cy != y || cm != m || cd != d) /* 2026-02-30 and the like */
        return -1;
    *day = z;
    return 0;
}

int64_t hb_partition_keep_from(int64_t now_s, int retention_days)
{
    if (retention_days < 1)
        retention_days = 1;
    /* day X ends at (X + 1) * DAY_S; it goes once that is at most now - retention */
    return hb_partition_day(now_s - (int64_t)retention_days * DAY_S);
}
