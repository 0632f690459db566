/* Reading and writing the agent's state and identity files. Writes are atomic
 * (rf_file_write_atomic: temp file, fsync, rename, fsync of the directory) and
 * mode 0600, so a power cut leaves either the old or the new file. A missing
 * file is "first start"; a present but unreadable or malformed one is an error
 * with the path and the field — never a silent reset. Tokens are wiped. */
#include "state.h"
#include "rf_util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static rf_err read_json(const char *path, size_t cap, json_t **out, rf_error *err)
{
    struct stat st;
    json_error_t jerr;
    rf_buf b;
    rf_err rc;

    *out = NULL;
    rf_buf_init(&b, cap);
    if (stat(path, &st) != 0) {
        rc = errno == ENOENT ? RF_ERR_NOT_FOUND : RF_ERR_IO;
        rf_error_set(err, rc, "%s: %s", path, strerror(errno));
        goto out;
    }
    if ((rc = rf_file_read(path, &b, err)) != RF_OK)
        goto out;
    *out = json_loadb(b.data ? b.data : "", b.len, JSON_REJECT_DUPLICATES, &jerr);
    if (!*out) {
        rc = rf_error_set(err, RF_ERR_INVALID, "%s is not valid JSON (line %d: %s)", path,
                          jerr.line, jerr.text);
        goto out;
    }
out:
    if (b.data)
        memset(b.data, 0, b.len); /* may hold a token */
    rf_buf_cleanup(&b);
    return rc;
}

rf_err state_load(const char *path, proto *p, boot_crashset *crashes, rf_error *err)
{
    json_t *root = NULL;
    rf_error inner = {0};
    rf_err rc = read_json(path, STATE_MAX_BYTES, &root, err);

    if (rc != RF_OK)
        goto out;
    if ((rc = state_decode(root, p, crashes, &inner)) != RF_OK)
        rf_error_set(err, rc, "state file %s is corrupt: %s", path, inner.message);
out:
    json_decref(root);
    return rc;
}

rf_err state_save(const char *path, const proto *p, const boot_crashset *crashes, rf_error *err)
{
    json_t *root = state_encode(p, crashes);
    char *text = NULL;
    rf_err rc;

    if (!root || !(text = json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS))) {
        rc = rf_error_set(err, RF_ERR_NOMEM, "cannot encode the state");
        goto out;
    }
    rc = rf_file_write_atomic(path, text, strlen(text), 0600, err);
out:
    free(text);
    json_decref(root);
    return rc;
}

rf_err state_identity_load(const char *path, state_identity *id, rf_error *err)
{
    json_t *root = NULL;
    const json_t *jd, *jt;
    rf_err rc = read_json(path, 64 * 1024, &root, err);

    memset(id, 0, sizeof(*id));
    if (rc != RF_OK)
        goto out;
    jd = json_object_get(root, "device_id");
    jt = json_object_get(root, "token");
    if (!json_is_object(root) || json_object_size(root) != 2 || !json_is_string(jd) ||
        !json_is_string(jt) || json_string_length(jd) != PROTO_DEVICE_ID_LEN ||
        strspn(json_string_value(jd), "0123456789abcdef") != PROTO_DEVICE_ID_LEN ||
        !wire_token_valid(json_string_value(jt))) {
        rc = rf_error_set(err, RF_ERR_INVALID,
                          "identity file %s is corrupt: want {\"device_id\": 32 hex, \"token\": …}",
                          path);
        goto out;
    }
    memcpy(id->device_id, json_string_value(jd), PROTO_DEVICE_ID_LEN + 1);
    memcpy(id->token, json_string_value(jt), json_string_length(jt) + 1);
out:
    if (json_is_string(json_object_get(root, "token"))) {
        /* jansson owns the string; wipe it before it is freed. */
        char *t = (char *)json_string_value(json_object_get(root, "token"));
        memset(t, 0, strlen(t));
    }
    json_decref(root);
    return rc;
}

rf_err state_identity_save(const char *path, const state_identity *id, rf_error *err)
{
    rf_buf b;
    rf_err rc;

    rf_buf_init(&b, WIRE_TOKEN_MAX + 256);
    rc = rf_buf_printf(&b, "{\n \"device_id\": \"%s\",\n \"token\": \"%s\"\n}\n", id->device_id,
                       id->token);
    if (rc == RF_OK)
        rc = rf_file_write_atomic(path, b.data, b.len, 0600, err);
    else
        rf_error_set(err, rc, "cannot encode the identity");
    if (b.data)
        memset(b.data, 0, b.len);
    rf_buf_cleanup(&b);
    return rc;
}

void state_identity_wipe(state_identity *id)
{
    if (!id)
        return;
    explicit_bzero(id, sizeof(*id));
}
