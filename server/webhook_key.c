/* The webhook master key file and the derivations from it (see
 * webhook_key.h). The file is created without ever replacing one that exists
 * (written to a private temporary file, then hard-linked into place), so two
 * servers sharing a keys directory agree on one key. It must never log or
 * print the key or a derived secret, and it wipes every copy it makes. */
#include "webhook_key.h"
#include "rf_buf.h"
#include "rf_crypto.h"
#include "rf_util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* HMAC-SHA256(key, msg) into out (32 bytes). */
static void hmac32(const uint8_t key[WEBHOOK_KEY_LEN], const char *msg, uint8_t out[32])
{
    rf_hmac_sha256(key, WEBHOOK_KEY_LEN, msg, strlen(msg), out);
}

void webhook_key_id_of(const uint8_t key[WEBHOOK_KEY_LEN], char out[WEBHOOK_KEY_ID_LEN + 1])
{
    uint8_t mac[32];
    hmac32(key, "ringfence webhook key id", mac);
    rf_hex_encode(mac, WEBHOOK_KEY_ID_LEN / 2, out);
}

void webhook_secret_derive(const uint8_t key[WEBHOOK_KEY_LEN], long long id, int generation,
                           char out[WEBHOOK_SECRET_LEN + 1])
{
    char msg[96];
    uint8_t mac[32];
    rf_snprintf(msg, sizeof(msg), "ringfence webhook secret:%lld:%d", id, generation);
    hmac32(key, msg, mac);
    memcpy(out, "rfw_", 4);
    rf_hex_encode(mac, sizeof(mac), out + 4);
    explicit_bzero(mac, sizeof(mac));
}

void webhook_key_wipe(webhook_key *k)
{
    if (k != NULL)
        explicit_bzero(k, sizeof(*k));
}

static rf_err key_path(const char *keys_dir, char *out, size_t n, rf_error *err)
{
    if (keys_dir == NULL || keys_dir[0] == '\0')
        return rf_error_set(
            err, RF_ERR_INVALID,
            "no keys directory (RINGFENCE_KEYS_DIR / --keys-dir) for the webhook key");
    if (rf_snprintf(out, n, "%s/%s", keys_dir, WEBHOOK_KEY_FILE) != RF_OK)
        return rf_error_set(err, RF_ERR_INVALID, "the keys directory path is too long");
    return RF_OK;
}

rf_err webhook_key_load(const char *keys_dir, webhook_key *out, rf_error *err)
{
    char path[PATH_MAX];
    struct stat st;
    rf_buf b;
    rf_err rc = key_path(keys_dir, path, sizeof(path), err);
    memset(out, 0, sizeof(*out));
    if (rc != RF_OK)
        return rc;
    if (stat(path, &st) != 0)
        return errno == ENOENT
                   ? rf_error_set(err, RF_ERR_NOT_FOUND, "%s does not exist", path)
                   : rf_error_set(err, RF_ERR_INTERNAL, "%s: %s", path, strerror(errno));
    if ((st.st_mode & 077) != 0)
        return rf_error_set(err, RF_ERR_INVALID,
                            "%s is readable or writable by others: it must be mode 0600", path);
    rf_buf_init(&b, 256);
    rc = rf_file_read(path, &b, err);
    size_t len = b.len;
    while (rc == RF_OK && len > 0 && (b.data[len - 1] == '\n' || b.data[len - 1] == '\r'))
        len--;
    if (rc == RF_OK && len == 2 * WEBHOOK_KEY_LEN)
        b.data[len] = '\0'; /* the line end goes */
    if (rc == RF_OK &&
        (len != 2 * WEBHOOK_KEY_LEN || rf_hex_decode(b.data, out->key, WEBHOOK_KEY_LEN) != RF_OK))
        rc = rf_error_set(err, RF_ERR_INVALID, "%s: not a webhook key (64 hex digits)", path);
    if (b.data != NULL)
        explicit_bzero(b.data, b.alloc);
    rf_buf_cleanup(&b);
    if (rc != RF_OK) {
        webhook_key_wipe(out);
        return rc;
    }
    webhook_key_id_of(out->key, out->id);
    out->loaded = 1;
    return RF_OK;
}

/* Writes a fresh key to a temporary file and links it to path unless path
 * exists (then *made = 0 and the other key stands). */
static rf_err create_key(const char *keys_dir, const char *path, int *made, rf_error *err)
{
    char tmp[PATH_MAX], hex[2 * WEBHOOK_KEY_LEN + 2];
    uint8_t key[WEBHOOK_KEY_LEN];
    rf_err rc = rf_mkdirs(keys_dir, 0700, err);
    int fd = -1;
    *made = 0;
    if (rc == RF_OK && rf_snprintf(tmp, sizeof(tmp), "%s/.webhook.key.XXXXXX", keys_dir) != RF_OK)
        rc = rf_error_set(err, RF_ERR_INVALID, "the keys directory path is too long");
    if (rc == RF_OK && (rc = rf_random(key, sizeof(key))) != RF_OK)
        rf_error_set(err, rc, "no random bytes for the webhook key");
    if (rc == RF_OK && (fd = mkostemp(tmp, O_CLOEXEC)) < 0)
        rc = rf_error_set(err, RF_ERR_INTERNAL, "%s: %s", tmp, strerror(errno));
    if (rc == RF_OK) {
        rf_hex_encode(key, sizeof(key), hex);
        hex[2 * WEBHOOK_KEY_LEN] = '\n';
        ssize_t w = write(fd, hex, 2 * WEBHOOK_KEY_LEN + 1);
        if (fchmod(fd, 0600) != 0 || w != 2 * WEBHOOK_KEY_LEN + 1 || fsync(fd) != 0)
            rc = rf_error_set(err, RF_ERR_INTERNAL, "%s: cannot write the webhook key", tmp);
    }
    if (fd >= 0 && close(fd) != 0 && rc == RF_OK)
        rc = rf_error_set(err, RF_ERR_INTERNAL, "%s: %s", tmp, strerror(errno));
    if (rc == RF_OK && link(tmp, path) == 0)
        *made = 1;
    else if (rc == RF_OK && errno != EEXIST)
        rc = rf_error_set(err, RF_ERR_INTERNAL, "%s: %s", path, strerror(errno));
    if (fd >= 0)
        unlink(tmp);
    explicit_bzero(key, sizeof(key));
    explicit_bzero(hex, sizeof(hex));
    return rc;
}

rf_err webhook_key_ensure(const char *keys_dir, webhook_key *out, int *created, rf_error *err)
{
    char path[PATH_MAX];
    int made = 0;
    rf_err rc = webhook_key_load(keys_dir, out, err);
    if (created != NULL)
        *created = 0;
    if (rc != RF_ERR_NOT_FOUND)
        return rc;
    rc = key_path(keys_dir, path, sizeof(path), err);
    if (rc == RF_OK)
        rc = create_key(keys_dir, path, &made, err);
    if (rc == RF_OK)
        rc = webhook_key_load(keys_dir, out, err);
    if (rc == RF_OK && created != NULL)
        *created = made;
    return rc;
}
