/* The boot guard's decision and its record's JSON, pure and bounded. A bundle
 * on trial is given `limit` boots that end without a clean shutdown (a boot
 * loop) and no crash record at all; past that it must not be used again on
 * this device. This file must never touch the file system or read a clock. */
#include "bootguard.h"

#include <stdio.h>
#include <string.h>

bootguard_verdict bootguard_decide(const bootguard_input *in, int64_t *attempts, char *why,
                                   size_t len)
{
    int64_t n = in->rec_bundle_id == in->bundle_id ? in->rec_attempts : 0;
    int64_t limit = in->limit < 1 ? 1 : in->limit;

    if (len)
        why[0] = '\0';
    if (!in->on_trial || !in->bundle_id) {
        *attempts = 0;
        return BOOTGUARD_NONE;
    }
    if (n < 0)
        n = 0;
    if (in->crashes > 0) {
        *attempts = n;
        snprintf(why, len, "bootguard: %lld crash record(s) since the install of bundle %lld",
                 (long long)in->crashes, (long long)in->bundle_id);
        return BOOTGUARD_ROLLBACK;
    }
    if (!in->new_boot) {
        *attempts = n;
        return BOOTGUARD_NONE;
    }
    n = in->prev_clean ? 0 : n + 1;
    *attempts = n;
    if (n >= limit) {
        snprintf(why, len,
                 "bootguard: %lld boot(s) of bundle %lld ended without a clean shutdown "
                 "(limit %lld)",
                 (long long)n, (long long)in->bundle_id, (long long)limit);
        return BOOTGUARD_ROLLBACK;
    }
    return BOOTGUARD_COUNTED;
}

const bootguard_chan *bootguard_find(const bootguard_record *r, const char *name)
{
    for (uint32_t i = 0; i < r->n; i++)
        if (strcmp(r->ch[i].name, name) == 0)
            return &r->ch[i];
    return NULL;
}

bool bootguard_set(bootguard_record *r, const char *name, int64_t bundle_id, int64_t attempts)
{
    bootguard_chan *c = (bootguard_chan *)bootguard_find(r, name);

    if (!c) {
        if (r->n >= PROTO_MAX_CHANNELS || !proto_channel_name_valid(name))
            return false;
        c = &r->ch[r->n++];
        memcpy(c->name, name, strlen(name) + 1);
    }
    c->bundle_id = bundle_id;
    c->attempts = attempts;
    return true;
}

json_t *bootguard_encode(const bootguard_record *r)
{
    json_t *chans = json_object();
    json_t *root;

    if (!chans)
        return NULL;
    for (uint32_t i = 0; i < r->n; i++) {
        json_t *c = json_pack("{s:I, s:I}", "bundle_id", (json_int_t)r->ch[i].bundle_id, "attempts",
                              (json_int_t)r->ch[i].attempts);
        if (!c || json_object_set_new(chans, r->ch[i].name, c) != 0) {
            json_decref(chans);
            return NULL;
        }
    }
    root = json_pack("{s:i, s:s, s:o}", "format", 1, "boot_id", r->boot_id, "channels", chans);
    return root;
}

static rf_err get_count(const json_t *o, const char *ch, const char *key, int64_t *out,
                        rf_error *err)
{
    const json_t *v = json_object_get(o, key);

    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return rf_error_set(err, RF_ERR_INVALID, "bootguard: channels.%s.%s: not a count", ch, key);
    *out = (int64_t)json_integer_value(v);
    return RF_OK;
}

rf_err bootguard_decode(const json_t *root, bootguard_record *r, rf_error *err)
{
    const json_t *boot = json_object_get(root, "boot_id");
    const json_t *chans = json_object_get(root, "channels");
    const json_t *fmt = json_object_get(root, "format");
    const char *name;
    json_t *c;
    rf_err rc;

    memset(r, 0, sizeof(*r));
    if (!json_is_object(root) || json_object_size(root) != 3)
        return rf_error_set(err, RF_ERR_INVALID, "bootguard: expected format, boot_id, channels");
    if (!json_is_integer(fmt) || json_integer_value(fmt) != 1)
        return rf_error_set(err, RF_ERR_INVALID, "bootguard: format: must be 1");
    if (!json_is_string(boot) || json_string_length(boot) > PROTO_BOOT_ID_MAX)
        return rf_error_set(err, RF_ERR_INVALID, "bootguard: boot_id: not a boot id");
    memcpy(r->boot_id, json_string_value(boot), json_string_length(boot) + 1);
    if (!json_is_object(chans) || json_object_size(chans) > PROTO_MAX_CHANNELS)
        return rf_error_set(err, RF_ERR_INVALID, "bootguard: channels: not an object of <= %d",
                            PROTO_MAX_CHANNELS);
    json_object_foreach((json_t *)chans, name, c)
    {
        int64_t id, n;
        if (!json_is_object(c) || json_object_size(c) != 2 || !proto_channel_name_valid(name))
            return rf_error_set(err, RF_ERR_INVALID, "bootguard: channels.%.64s: malformed", name);
        if ((rc = get_count(c, name, "bundle_id", &id, err)) != RF_OK ||
            (rc = get_count(c, name, "attempts", &n, err)) != RF_OK)
            return rc;
        bootguard_set(r, name, id, n);
    }
    return RF_OK;
}
