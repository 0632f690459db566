/* boothealth: the file side of boot health — the boot id file, the
 * clean-shutdown mark in the data dir, the crash dirs and the uptime. The
 * decisions are in boot.c; this file only reads and writes, boundedly. */
#ifndef AGENT_BOOTHEALTH_H
#define AGENT_BOOTHEALTH_H

#include "boot.h"
#include "rf_err.h"

#define BOOTHEALTH_MARK "clean-shutdown"

rf_err boothealth_read_boot_id(const char *path, char out[PROTO_BOOT_ID_MAX + 1], rf_error *err);
/* Reads DATA/clean-shutdown into mark (*present false when absent) and removes
 * it durably, so that a crash from here on counts as unclean. */
rf_err boothealth_take_mark(const char *data_dir, char mark[PROTO_BOOT_ID_MAX + 1], bool *present,
                            rf_error *err);
/* Reads DATA/clean-shutdown into mark without removing it (*present false
 * when absent or unreadable): the boot guard looks, the agent takes. */
rf_err boothealth_peek_mark(const char *data_dir, char mark[PROTO_BOOT_ID_MAX + 1], bool *present,
                            rf_error *err);
/* Writes DATA/clean-shutdown holding boot_id (atomically). */
rf_err boothealth_write_mark(const char *data_dir, const char *boot_id, rf_error *err);
/* Lists the entries of each crash dir as "<dir>/<name>" into out (emptied
 * first, sealed at the end). A missing dir is empty; an unreadable one is
 * skipped and named in warn (warn[0] == '\0' when all were read). Hidden
 * names are ignored. At most BOOT_CRASH_MAX names are kept. */
rf_err boothealth_scan(char *const *dirs, size_t ndirs, boot_crashset *out, char *warn,
                       size_t warnlen);
/* Seconds since the system booted (CLOCK_BOOTTIME). */
int64_t boothealth_uptime_s(void);
/* Takes the exclusive advisory lock DATA/lock (flock, non-blocking), held
 * until *fd is closed: one agent or boot guard works on a data dir at a time.
 * RF_ERR_CONFLICT when another process holds it. */
rf_err boothealth_lock(const char *data_dir, int *fd, rf_error *err);
/* fsyncs a directory so renames and unlinks in it are durable. */
rf_err boothealth_fsync_dir(const char *dir, rf_error *err);

#endif
