/* A/B slots on disk. A bundle reaches a slot only after its bytes were checked
 * against the signed SHA-256 and length (again, here, right before the rename),
 * the active slot is never modified, and the switch between slots is one
 * rename() of a symlink followed by an fsync of the directory — so a power cut
 * leaves either the old or the new bundle active, never a mix. */
#include "slots.h"
#include "boothealth.h"
#include "rf_crypto.h"
#include "rf_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

rf_err slots_channel_dir(const char *data, const char *ch, char *out, size_t len)
{
    if (!proto_channel_name_valid(ch))
        return RF_ERR_INVALID;
    return rf_snprintf(out, len, "%s/channels/%s", data, ch);
}

rf_err slots_download_path(const char *data, const char *ch, char *out, size_t len)
{
    if (!proto_channel_name_valid(ch))
        return RF_ERR_INVALID;
    return rf_snprintf(out, len, "%s/channels/%s/download.tmp", data, ch);
}

rf_err slots_bundle_path(const char *data, const char *ch, proto_slot slot, char *out, size_t len)
{
    if (!proto_channel_name_valid(ch) || slot == PROTO_SLOT_NONE)
        return RF_ERR_INVALID;
    return rf_snprintf(out, len, "%s/channels/%s/slot-%c/bundle", data, ch, proto_slot_char(slot));
}

rf_err slots_prepare(const char *data, const char *ch, rf_error *err)
{
    char dir[SLOTS_PATH_MAX];

    if (slots_channel_dir(data, ch, dir, sizeof(dir)) != RF_OK)
        return rf_error_set(err, RF_ERR_INVALID, "channel '%s': bad name or path too long", ch);
    return rf_mkdirs(dir, 0700, err);
}

rf_err slots_file_sha256(const char *path, int64_t cap, char hex[65], int64_t *len, rf_error *err)
{
    char buf[65536];
    rf_sha256_ctx *h = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    rf_err rc = RF_OK;
    ssize_t n;

    *len = 0;
    if (fd < 0)
        return rf_error_set(err, errno == ENOENT ? RF_ERR_NOT_FOUND : RF_ERR_IO, "%s: %s", path,
                            strerror(errno));
    if (!(h = rf_sha256_new())) {
        rc = rf_error_set(err, RF_ERR_NOMEM, "out of memory");
        goto out;
    }
    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        *len += n;
        if (*len > cap) {
            rc = rf_error_set(err, RF_ERR_TOO_LARGE, "%s is larger than %lld bytes", path,
                              (long long)cap);
            goto out;
        }
        rf_sha256_update(h, buf, (size_t)n);
    }
    if (n < 0) {
        rc = rf_error_set(err, RF_ERR_IO, "read %s: %s", path, strerror(errno));
        goto out;
    }
    rf_sha256_final_hex(h, hex);
out:
    rf_sha256_free(h);
    close(fd);
    return rc;
}

static rf_err check_file(const char *path, const proto_bundle *b, rf_error *err)
{
    char hex[65] = "";
    int64_t len = 0;
    rf_err rc = slots_file_sha256(path, b->length, hex, &len, err);

    if (rc == RF_ERR_IO || rc == RF_ERR_NOMEM)
        return rc;
    if (rc != RF_OK || len != b->length || strcmp(hex, b->sha256) != 0)
        return rf_error_set(err, RF_ERR_VERIFY, "%s does not hold bundle %lld (sha256 %.12s…)",
                            path, (long long)b->id, b->sha256);
    return RF_OK;
}

rf_err slots_verify(const char *data, const char *ch, proto_slot slot, const proto_bundle *b,
                    rf_error *err)
{
    char path[SLOTS_PATH_MAX];

    if (slots_bundle_path(data, ch, slot, path, sizeof(path)) != RF_OK)
        return rf_error_set(err, RF_ERR_INVALID, "bad slot path");
    return check_file(path, b, err);
}

static rf_err fsync_path(const char *path, rf_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    rf_err rc = RF_OK;

    if (fd < 0)
        return rf_error_set(err, RF_ERR_IO, "%s: %s", path, strerror(errno));
    if (fsync(fd) != 0)
        rc = rf_error_set(err, RF_ERR_IO, "fsync %s: %s", path, strerror(errno));
    close(fd);
    return rc;
}

static rf_err write_meta(const char *slotdir, const char *ch, const proto_bundle *b, rf_error *err)
{
    char path[SLOTS_PATH_MAX];
    char text[1024];
    rf_err rc;

    if ((rc = rf_snprintf(path, sizeof(path), "%s/meta.json", slotdir)) != RF_OK ||
        (rc = rf_snprintf(text, sizeof(text),
                          "{\"bundle_id\": %lld, \"channel\": \"%s\", \"name\": \"%s\", "
                          "\"version\": \"%s\", \"sha256\": \"%s\", \"length\": %lld}\n",
                          (long long)b->id, ch, b->name, b->version, b->sha256,
                          (long long)b->length)) != RF_OK)
        return rf_error_set(err, rc, "meta.json too long");
    return rf_file_write_atomic(path, text, strlen(text), 0600, err);
}

rf_err slots_install(const char *data, const char *ch, proto_slot slot, const proto_bundle *b,
                     rf_error *err)
{
    char chdir_[SLOTS_PATH_MAX], slotdir[SLOTS_PATH_MAX], tmp[SLOTS_PATH_MAX],
        bundle[SLOTS_PATH_MAX];
    rf_err rc;

    if (slots_channel_dir(data, ch, chdir_, sizeof(chdir_)) != RF_OK ||
        slots_download_path(data, ch, tmp, sizeof(tmp)) != RF_OK ||
        slots_bundle_path(data, ch, slot, bundle, sizeof(bundle)) != RF_OK ||
        rf_snprintf(slotdir, sizeof(slotdir), "%s/slot-%c", chdir_, proto_slot_char(slot)) != RF_OK)
        return rf_error_set(err, RF_ERR_INVALID, "bad channel, slot or path");
    if ((rc = rf_mkdirs(slotdir, 0700, err)) != RF_OK)
        return rc;
    if (access(tmp, F_OK) == 0) {
        if ((rc = check_file(tmp, b, err)) != RF_OK) {
            unlink(tmp);
            return rc == RF_ERR_VERIFY ? RF_ERR_IO : rc;
        }
        if (rename(tmp, bundle) != 0)
            return rf_error_set(err, RF_ERR_IO, "rename %s: %s", tmp, strerror(errno));
    } else if (check_file(bundle, b, err) != RF_OK) {
        return rf_error_set(err, RF_ERR_IO, "the downloaded bundle %lld is gone", (long long)b->id);
    }
    if ((rc = fsync_path(bundle, err)) != RF_OK ||
        (rc = write_meta(slotdir, ch, b, err)) != RF_OK ||
        (rc = boothealth_fsync_dir(slotdir, err)) != RF_OK ||
        (rc = boothealth_fsync_dir(chdir_, err)) != RF_OK)
        return rc;
    return RF_OK;
}

rf_err slots_switch(const char *data, const char *ch, proto_slot slot, rf_error *err)
{
    char dir[SLOTS_PATH_MAX], link[SLOTS_PATH_MAX], tmp[SLOTS_PATH_MAX], target[16];

    if (slots_channel_dir(data, ch, dir, sizeof(dir)) != RF_OK ||
        rf_snprintf(link, sizeof(link), "%s/current", dir) != RF_OK ||
        rf_snprintf(tmp, sizeof(tmp), "%s/current.tmp", dir) != RF_OK)
        return rf_error_set(err, RF_ERR_INVALID, "bad channel or path");
    if (slot == PROTO_SLOT_NONE) {
        if (unlink(link) != 0 && errno != ENOENT)
            return rf_error_set(err, RF_ERR_IO, "unlink %s: %s", link, strerror(errno));
        return boothealth_fsync_dir(dir, err);
    }
    snprintf(target, sizeof(target), "slot-%c", proto_slot_char(slot));
    if (unlink(tmp) != 0 && errno != ENOENT)
        return rf_error_set(err, RF_ERR_IO, "unlink %s: %s", tmp, strerror(errno));
    if (symlink(target, tmp) != 0)
        return rf_error_set(err, RF_ERR_IO, "symlink %s: %s", tmp, strerror(errno));
    if (rename(tmp, link) != 0) {
        rf_error_set(err, RF_ERR_IO, "rename %s: %s", tmp, strerror(errno));
        unlink(tmp);
        return RF_ERR_IO;
    }
    return boothealth_fsync_dir(dir, err);
}

rf_err slots_current(const char *data, const char *ch, proto_slot *out, rf_error *err)
{
    char dir[SLOTS_PATH_MAX], link[SLOTS_PATH_MAX], target[64];
    ssize_t n;

    *out = PROTO_SLOT_NONE;
    if (slots_channel_dir(data, ch, dir, sizeof(dir)) != RF_OK ||
        rf_snprintf(link, sizeof(link), "%s/current", dir) != RF_OK)
        return rf_error_set(err, RF_ERR_INVALID, "bad channel or path");
    n = readlink(link, target, sizeof(target) - 1);
    if (n < 0) {
        if (errno == ENOENT)
            return RF_OK;
        return rf_error_set(err, RF_ERR_IO, "readlink %s: %s", link, strerror(errno));
    }
    target[n] = '\0';
    if (strcmp(target, "slot-a") == 0)
        *out = PROTO_SLOT_A;
    else if (strcmp(target, "slot-b") == 0)
        *out = PROTO_SLOT_B;
    else
        return rf_error_set(err, RF_ERR_INVALID, "%s points to '%s'", link, target);
    return RF_OK;
}
