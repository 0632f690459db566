/* JSON shapes of the agent protocol (docs/api.md) mapped to and from plain
 * structs. Everything read here comes from the network: every field is
 * type-checked and bounded, strings are copied only after their length is
 * known, and errors name the field. This file must never do I/O; signatures
 * are checked before anything reaches it (rf_tuf_assignment_verify). */
#include "wire.h"
#include "rf_util.h"

#include <stdio.h>
#include <string.h>

bool wire_label_key_valid(const char *k)
{
    return proto_channel_name_valid(k) || (k && (strcmp(k, ".") == 0 || strcmp(k, "..") == 0));
}

bool wire_token_valid(const char *t)
{
    static const char ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    size_t n = t ? strnlen(t, WIRE_TOKEN_MAX) : 0;

    return n > 0 && n < WIRE_TOKEN_MAX && strspn(t, ok) == n;
}

bool wire_label_value_valid(const char *v)
{
    size_t chars = 0;

    if (!v)
        return false;
    for (const unsigned char *s = (const unsigned char *)v; *s; s++) {
        if (*s < 0x20 || *s == 0x7f)
            return false;
        if ((*s & 0xc0) != 0x80)
            chars++;
    }
    return chars <= 128;
}

static bool is_hex64(const char *s)
{
    size_t i;

    for (i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return s[i] == '\0';
}

static bool version_valid(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > PROTO_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '+' || c == '-'))
            return false;
    }
    return true;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Field readers: path names the object for the error message. */
static rf_err get_int(const json_t *o, const char *path, const char *key, int64_t min, int64_t max,
                      int64_t *out, rf_error *err)
{
    const json_t *v = json_object_get(o, key);
    json_int_t x;

    if (!json_is_integer(v))
        return rf_error_set(err, RF_ERR_INVALID, "field '%s%s': must be an integer", path, key);
    x = json_integer_value(v);
    if (x < min || x > max)
        return rf_error_set(err, RF_ERR_INVALID, "field '%s%s': out of range [%lld, %lld]", path,
                            key, (long long)min, (long long)max);
    *out = x;
    return RF_OK;
}

static rf_err get_str(const json_t *o, const char *path, const char *key, const char **out,
                      rf_error *err)
{
    const json_t *v = json_object_get(o, key);

    if (!json_is_string(v))
        return rf_error_set(err, RF_ERR_INVALID, "field '%s%s': must be a string", path, key);
    *out = json_string_value(v);
    return RF_OK;
}

rf_err wire_enroll_request(const char *hostname, const json_t *labels, rf_buf *out, rf_error *err)
{
    json_t *o = json_object();
    char *s = NULL;
    rf_err rc = RF_ERR_NOMEM;

    if (!o)
        goto out;
    if (hostname && json_object_set_new(o, "hostname", json_string(hostname)) != 0)
        goto out;
    if (labels && json_object_set(o, "labels", (json_t *)labels) != 0)
        goto out;
    s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    if (!s)
        goto out;
    rc = rf_buf_append_str(out, s);
out:
    if (rc != RF_OK)
        rf_error_set(err, rc, "cannot build the enrollment request");
    free(s);
    json_decref(o);
    return rc;
}

rf_err wire_enroll_answer(const char *body, size_t len, char device_id[PROTO_DEVICE_ID_LEN + 1],
                          char token[WIRE_TOKEN_MAX], rf_error *err)
{
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    const char *id = NULL, *tok = NULL;
    rf_err rc;

    if (!json_is_object(root)) {
        rc = rf_error_set(err, RF_ERR_INVALID, "enrollment answer is not a JSON object");
        goto out;
    }
    if ((rc = get_str(root, "", "device_id", &id, err)) != RF_OK ||
        (rc = get_str(root, "", "token", &tok, err)) != RF_OK)
        goto out;
    if (strlen(id) != PROTO_DEVICE_ID_LEN ||
        strspn(id, "0123456789abcdef") != PROTO_DEVICE_ID_LEN) {
        rc = rf_error_set(err, RF_ERR_INVALID, "field 'device_id': must be 32 hex digits");
        goto out;
    }
    if (!wire_token_valid(tok)) {
        rc = rf_error_set(err, RF_ERR_INVALID, "field 'token': malformed");
        goto out;
    }
    memcpy(device_id, id, PROTO_DEVICE_ID_LEN + 1);
    copy_str(token, WIRE_TOKEN_MAX, tok);
out:
    json_decref(root);
    return rc;
}

/* The bundle fields of an assignment channel. */
static rf_err parse_bundle_fields(const json_t *o, const char *path, proto_bundle *b, rf_error *err)
{
    const char *sha = NULL, *version = NULL, *name = NULL;
    rf_err rc;

    if ((rc = get_int(o, path, "length", 0, PROTO_MAX_BUNDLE_BYTES, &b->length, err)) != RF_OK ||
        (rc = get_str(o, path, "sha256", &sha, err)) != RF_OK ||
        (rc = get_str(o, path, "version", &version, err)) != RF_OK)
        return rc;
    if (!is_hex64(sha))
        return rf_error_set(err, RF_ERR_INVALID,
                            "field '%ssha256': must be 64 lower-case hex digits", path);
    if (!version_valid(version))
        return rf_error_set(err, RF_ERR_INVALID,
                            "field '%sversion': must be 1-64 of [A-Za-z0-9._+-]", path);
    if ((rc = get_str(o, path, "name", &name, err)) != RF_OK)
        return rc;
    if (!proto_channel_name_valid(name))
        return rf_error_set(err, RF_ERR_INVALID, "field '%sname': must be 1-64 of [a-z0-9._-]",
                            path);
    copy_str(b->name, sizeof(b->name), name);
    copy_str(b->sha256, sizeof(b->sha256), sha);
    copy_str(b->version, sizeof(b->version), version);
    return RF_OK;
}

rf_err wire_target_path(const char *channel, const proto_bundle *b, char *out, size_t len)
{
    return rf_snprintf(out, len, "%s/%s-%s", channel, b->name, b->version);
}

/* The target path the director signed must be the one the bundle's fields
 * name: the agent looks that path up in the TUF targets metadata. */
static rf_err check_target(const json_t *o, const char *path, const char *channel,
                           const proto_bundle *b, rf_error *err)
{
    char want[WIRE_TARGET_PATH_MAX + 1];
    const char *target = NULL;
    rf_err rc;

    if ((rc = get_str(o, path, "target", &target, err)) != RF_OK)
        return rc;
    if (wire_target_path(channel, b, want, sizeof(want)) != RF_OK || strcmp(target, want) != 0)
        return rf_error_set(err, RF_ERR_INVALID, "field '%starget': must be '%s'", path, want);
    return RF_OK;
}

static rf_err parse_assign_channel(const char *name, const json_t *o, proto_assign_channel *ac,
                                   rf_error *err)
{
    char path[PROTO_NAME_MAX + 16];
    const char *action = NULL;
    const json_t *jid = json_object_get(o, "bundle_id");
    const json_t *jro = json_object_get(o, "rollout_id");
    rf_err rc;

    snprintf(path, sizeof(path), "channels.%s.", name);
    memset(ac, 0, sizeof(*ac));
    if (!proto_channel_name_valid(name))
        return rf_error_set(err, RF_ERR_INVALID,
                            "channel name '%.64s': must be 1-64 of [a-z0-9._-]", name);
    if (!json_is_object(o))
        return rf_error_set(err, RF_ERR_INVALID, "field 'channels.%s': must be an object", name);
    copy_str(ac->name, sizeof(ac->name), name);
    ac->want.present = true;
    if ((rc = get_str(o, path, "action", &action, err)) != RF_OK)
        return rc;
    if (strcmp(action, "install") == 0)
        ac->want.action = PROTO_WANT_INSTALL;
    else if (strcmp(action, "revert") == 0)
        ac->want.action = PROTO_WANT_REVERT;
    else
        return rf_error_set(err, RF_ERR_INVALID, "field '%saction': must be install or revert",
                            path);
    if (jro && !json_is_null(jro) &&
        (rc = get_int(o, path, "rollout_id", 1, INT64_MAX, &ac->want.rollout_id, err)) != RF_OK)
        return rc;
    if (json_is_null(jid)) {
        if (ac->want.action != PROTO_WANT_REVERT)
            return rf_error_set(err, RF_ERR_INVALID, "field '%sbundle_id': null only with revert",
                                path);
        return RF_OK; /* run nothing on this channel */
    }
    if ((rc = get_int(o, path, "bundle_id", 1, INT64_MAX, &ac->want.bundle.id, err)) != RF_OK ||
        (rc = parse_bundle_fields(o, path, &ac->want.bundle, err)) != RF_OK)
        return rc;
    return check_target(o, path, name, &ac->want.bundle, err);
}

static rf_err parse_time(const json_t *o, const char *key, int64_t *out, rf_error *err)
{
    const char *s = NULL;
    rf_err rc = get_str(o, "", key, &s, err);

    if (rc != RF_OK)
        return rc;
    if (rf_time_parse_iso(s, out) != RF_OK)
        return rf_error_set(err, RF_ERR_INVALID, "field '%s': not an ISO 8601 UTC time", key);
    return RF_OK;
}

rf_err wire_assignment_parse(const json_t *s, proto_assignment *out, rf_error *err)
{
    const char *dev = NULL, *name;
    const json_t *chans, *v;
    rf_err rc;

    memset(out, 0, sizeof(*out));
    if ((rc = get_str(s, "", "device_id", &dev, err)) != RF_OK)
        return rc;
    if (strlen(dev) != PROTO_DEVICE_ID_LEN ||
        strspn(dev, "0123456789abcdef") != PROTO_DEVICE_ID_LEN)
        return rf_error_set(err, RF_ERR_INVALID, "field 'device_id': must be 32 hex digits");
    memcpy(out->device_id, dev, PROTO_DEVICE_ID_LEN + 1);
    if ((rc = get_int(s, "", "counter", 0, INT64_MAX, &out->counter, err)) != RF_OK ||
        (rc = parse_time(s, "issued", &out->issued_s, err)) != RF_OK ||
        (rc = parse_time(s, "expires", &out->expires_s, err)) != RF_OK)
        return rc;
    chans = json_object_get(s, "channels");
    if (!json_is_object(chans))
        return rf_error_set(err, RF_ERR_INVALID, "field 'channels': must be an object");
    if (json_object_size(chans) > PROTO_MAX_CHANNELS)
        return rf_error_set(err, RF_ERR_TOO_LARGE, "field 'channels': more than %d channels",
                            PROTO_MAX_CHANNELS);
    json_object_foreach((json_t *)chans, name, v)
    {
        if ((rc = parse_assign_channel(name, v, &out->ch[out->nch], err)) != RF_OK)
            return rc;
        out->nch++;
    }
    return RF_OK;
}

static json_t *id_or_null(int64_t id)
{
    return id ? json_integer(id) : json_null();
}

static json_t *heartbeat_channel(const proto_channel *c)
{
    return json_pack(
        "{s:o, s:s, s:o, s:I, s:I, s:I, s:I, s:o}", "bundle_id", id_or_null(c->current.id), "state",
        proto_reported_state(c), "target_bundle_id", id_or_null(proto_reported_target(c)), "boots",
        (json_int_t)c->boots, "unclean_shutdowns", (json_int_t)c->unclean_shutdowns, "crashes",
        (json_int_t)c->crashes, "local_rollbacks", (json_int_t)c->local_rollbacks, "error",
        proto_reported_error(c)[0] ? json_string(proto_reported_error(c)) : json_null());
}

json_t *wire_heartbeat(const proto *p, int64_t seq, int64_t uptime_s, const char *agent_version)
{
    json_t *chans = json_object();
    json_t *hb;

    if (!chans)
        return NULL;
    for (uint32_t i = 0; i < p->nch; i++) {
        json_t *c = heartbeat_channel(&p->ch[i]);
        if (!c || json_object_set_new(chans, p->ch[i].name, c) != 0) {
            json_decref(chans);
            return NULL;
        }
    }
    hb = json_pack("{s:I, s:s, s:I, s:I, s:s, s:I, s:o}", "seq", (json_int_t)seq, "boot_id",
                   p->boot_id, "uptime_s", (json_int_t)(uptime_s < 0 ? 0 : uptime_s),
                   "heartbeat_interval_s", (json_int_t)(p->cfg.heartbeat_interval_ms / 1000),
                   "agent_version", agent_version, "agent_restarts", (json_int_t)p->agent_restarts,
                   "channels", chans);
    return hb;
}
