/* Pure computations behind the daily heartbeat partitions: partition names,
 * their UTC day ranges, which days to create ahead and which partitions the
 * retention drops. Time is a parameter; nothing here does I/O, so tests can
 * drive every case. It must never name a partition outside the
 * heartbeats_pYYYYMMDD pattern the database functions accept. */
#ifndef RF_HB_PARTITION_H
#define RF_HB_PARTITION_H

#include <stdint.h>

#define HB_PARTITION_AHEAD_DAYS 2 /* today and the next two days exist ahead of time */
#define HB_PARTITION_NAME_MAX 32
#define HB_PARTITION_TS_MAX 32
#define HB_RETENTION_DEFAULT_DAYS 14

/* One daily partition: [lo, hi) as "YYYY-MM-DD 00:00:00+00". */
typedef struct hb_partition {
    int64_t day; /* days since 1970-01-01 (UTC) */
    char name[HB_PARTITION_NAME_MAX];
    char lo[HB_PARTITION_TS_MAX];
    char hi[HB_PARTITION_TS_MAX];
} hb_partition;

/* The UTC day (days since the epoch) that holds epoch second now_s. */
int64_t hb_partition_day(int64_t now_s);

/* Fills *out for day; returns 0, or -1 if day is outside years 1970-9999. */
int hb_partition_of_day(int64_t day, hb_partition *out);

/* Parses "heartbeats_pYYYYMMDD" into its day; returns 0, or -1 for any other
 * name (the DEFAULT partition, an invalid date, trailing characters). */
int hb_partition_parse(const char *name, int64_t *day);

/* The first day whose rows the retention keeps at now_s: a partition (or a
 * key) of an earlier day holds only rows older than retention_days whole
 * days and is dropped. retention_days < 1 counts as 1. */
int64_t hb_partition_keep_from(int64_t now_s, int retention_days);

#endif
