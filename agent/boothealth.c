/* Reading the boot id, taking and leaving the clean-shutdown mark, listing
 * crash dirs. Every read is bounded (small files, at most BOOT_CRASH_MAX
 * names); nothing here decides what a boot or a crash means (boot.c does).
 * The mark is removed durably at start, before anything else can fail. */
#include "boothealth.h"
#include "rf_buf.h"
#include "rf_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

rf_err boothealth_fsync_dir(const char *dir, rf_error *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    rf_err rc = RF_OK;

    if (fd < 0)
        return rf_error_set(err, RF_ERR_IO, "%s: %s", dir, strerror(errno));
    if (fsync(fd) != 0)
        rc = rf_error_set(err, RF_ERR_IO, "fsync %s: %s", dir, strerror(errno));
    close(fd);
    return rc;
}

rf_err boothealth_lock(const char *data_dir, int *fd, rf_error *err)
{
    char path[4096];
    int f;

    *fd = -1;
    if (rf_snprintf(path, sizeof(path), "%s/lock", data_dir) != RF_OK)
        return rf_error_set(err, RF_ERR_TOO_LARGE, "data dir path too long");
    f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (f < 0)
        return rf_error_set(err, RF_ERR_IO, "%s: %s", path, strerror(errno));
    if (flock(f, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(f);
        return rf_error_set(err, e == EWOULDBLOCK ? RF_ERR_CONFLICT : RF_ERR_IO,
                            "%s is held by another ringfence-agent: %s", path, strerror(e));
    }
    *fd = f;
    return RF_OK;
}

static rf_err read_small(const char *path, char out[PROTO_BOOT_ID_MAX + 1], rf_error *err)
{
    rf_buf b;
    rf_err rc;

    rf_buf_init(&b, 4096);
    rc = rf_file_read(path, &b, err);
    if (rc == RF_OK)
        rc = boot_id_normalize(b.data ? b.data : "", out, err);
    rf_buf_cleanup(&b);
    return rc;
}

rf_err boothealth_read_boot_id(const char *path, char out[PROTO_BOOT_ID_MAX + 1], rf_error *err)
{
    rf_error inner = {0};
    rf_err rc = read_small(path, out, &inner);

    if (rc != RF_OK)
        return rf_error_set(err, rc, "boot id file %s: %s", path, inner.message);
    return RF_OK;
}

rf_err boothealth_take_mark(const char *data_dir, char mark[PROTO_BOOT_ID_MAX + 1], bool *present,
                            rf_error *err)
{
    char path[4096];
    rf_error inner = {0};
    rf_err rc;

    *present = false;
    mark[0] = '\0';
    if ((rc = rf_snprintf(path, sizeof(path), "%s/%s", data_dir, BOOTHEALTH_MARK)) != RF_OK)
        return rf_error_set(err, rc, "data dir path too long");
    if (access(path, F_OK) != 0) {
        if (errno == ENOENT)
            return RF_OK;
        return rf_error_set(err, RF_ERR_IO, "%s: %s", path, strerror(errno));
    }
    /* A mark that cannot be read counts as no mark: the boot is unclean. */
    if (read_small(path, mark, &inner) == RF_OK)
        *present = true;
    else
        mark[0] = '\0';
    if (unlink(path) != 0)
        return rf_error_set(err, RF_ERR_IO, "cannot remove %s: %s", path, strerror(errno));
    return boothealth_fsync_dir(data_dir, err);
}

rf_err boothealth_peek_mark(const char *data_dir, char mark[PROTO_BOOT_ID_MAX + 1], bool *present,
                            rf_error *err)
{
    char path[4096];
    rf_error inner = {0};
    rf_err rc;

    *present = false;
    mark[0] = '\0';
    if ((rc = rf_snprintf(path, sizeof(path), "%s/%s", data_dir, BOOTHEALTH_MARK)) != RF_OK)
        return rf_error_set(err, rc, "data dir path too long");
    if (access(path, F_OK) != 0)
        return errno == ENOENT ? RF_OK
                               : rf_error_set(err, RF_ERR_IO, "%s: %s", path, strerror(errno));
    if (read_small(path, mark, &inner) == RF_OK)
        *present = true;
    else
        mark[0] = '\0';
    return RF_OK;
}

rf_err boothealth_write_mark(const char *data_dir, const char *boot_id, rf_error *err)
{
    char path[4096];
    char line[PROTO_BOOT_ID_MAX + 2];
    rf_err rc;

    if ((rc = rf_snprintf(path, sizeof(path), "%s/%s", data_dir, BOOTHEALTH_MARK)) != RF_OK ||
        (rc = rf_snprintf(line, sizeof(line), "%s\n", boot_id)) != RF_OK)
        return rf_error_set(err, rc, "path or boot id too long");
    return rf_file_write_atomic(path, line, strlen(line), 0600, err);
}

static void scan_dir(const char *dir, boot_crashset *out, char *warn, size_t warnlen)
{
    char name[BOOT_CRASH_NAME_MAX + 1];
    struct dirent *de;
    DIR *d = opendir(dir);

    if (!d) {
        if (errno != ENOENT && warn[0] == '\0')
            snprintf(warn, warnlen, "crash dir %s: %s", dir, strerror(errno));
        return;
    }
    while ((de = readdir(d)) != NULL && !out->truncated) {
        if (de->d_name[0] == '.')
            continue;
        if (rf_snprintf(name, sizeof(name), "%s/%s", dir, de->d_name) != RF_OK)
            continue;
        if (boot_crashset_add(out, name) != RF_OK)
            break;
    }
    closedir(d);
}

rf_err boothealth_scan(char *const *dirs, size_t ndirs, boot_crashset *out, char *warn,
                       size_t warnlen)
{
    boot_crashset_cleanup(out);
    boot_crashset_init(out);
    warn[0] = '\0';
    for (size_t i = 0; i < ndirs; i++)
        scan_dir(dirs[i], out, warn, warnlen);
    if (out->truncated && warn[0] == '\0')
        snprintf(warn, warnlen, "crash dirs hold more than %d entries; the rest are ignored",
                 BOOT_CRASH_MAX);
    boot_crashset_seal(out);
    return RF_OK;
}

int64_t boothealth_uptime_s(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_BOOTTIME, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec;
}
