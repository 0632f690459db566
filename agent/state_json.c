/* The state file's JSON form, both ways. Decoding is strict: every field must
 * be present with its type and range, unknown fields are refused, and each
 * error names the field — the file is input like any other and a damaged one
 * must stop the agent with a clear message, not be half-believed. No I/O here
 * (state.c reads and writes the file). */
#include "state.h"

#include <stdio.h>
#include <string.h>

static const char *const RUN_NAMES[] = {"idle", "trial", "committed"};
static const char *const OP_NAMES[] = {"none", "installing", "install_failed", "verify_failed",
                                       "rolled_back"};
static const char *const PHASE_NAMES[] = {"none",    "download", "await_ack",
                                          "install", "revert",   "refresh"};
static const char *const ACTION_NAMES[] = {"install", "revert"};
static const char *const FAILED_NAMES[] = {"own", "reverted"};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- encoding ---------------------------------------------------------- */

static json_t *slot_json(proto_slot s)
{
    return s == PROTO_SLOT_NONE ? json_null() : json_sprintf("%c", proto_slot_char(s));
}

static json_t *bundle_json(const proto_bundle *b)
{
    if (!b->id)
        return json_null();
    return json_pack("{s:I, s:s, s:s, s:s, s:I, s:o}", "id", (json_int_t)b->id, "name", b->name,
                     "version", b->version, "sha256", b->sha256, "length", (json_int_t)b->length,
                     "slot", slot_json(b->slot));
}

static json_t *want_json(const proto_want *w)
{
    if (!w->present)
        return json_null();
    return json_pack("{s:s, s:o, s:o}", "action", ACTION_NAMES[w->action], "rollout_id",
                     w->rollout_id ? json_integer(w->rollout_id) : json_null(), "bundle",
                     bundle_json(&w->bundle));
}

static json_t *failed_json(const proto_channel *c)
{
    json_t *a = json_array();

    for (uint32_t i = 0; a && i < c->nfailed; i++) {
        const proto_failed *f = &c->failed[i];
        if (json_array_append_new(
                a, json_pack("{s:I, s:I, s:s}", "bundle_id", (json_int_t)f->bundle_id, "counter",
                             (json_int_t)f->counter, "kind", FAILED_NAMES[f->kind])) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *channel_json(const proto_channel *c)
{
    /* Download and acknowledgement waits do not survive a restart. */
    proto_phase phase = c->phase == PROTO_PHASE_INSTALL || c->phase == PROTO_PHASE_REVERT
                            ? c->phase
                            : PROTO_PHASE_NONE;
    json_t *o = json_pack("{s:o, s:o, s:o, s:o, s:s, s:s, s:s, s:o, s:b, s:I}", "want",
                          want_json(&c->want), "current", bundle_json(&c->current), "previous",
                          bundle_json(&c->previous), "target", bundle_json(&c->target), "run",
                          RUN_NAMES[c->run], "op", OP_NAMES[c->op], "phase", PHASE_NAMES[phase],
                          "phase_slot", slot_json(c->phase_slot), "hook_revert",
                          (int)c->hook_revert, "activated_ms", (json_int_t)c->activated_ms);
    json_t *more =
        json_pack("{s:I, s:I, s:I, s:I, s:o, s:I, s:I, s:I, s:o}", "boots", (json_int_t)c->boots,
                  "unclean_shutdowns", (json_int_t)c->unclean_shutdowns, "crashes",
                  (json_int_t)c->crashes, "local_rollbacks", (json_int_t)c->local_rollbacks,
                  "error", c->error[0] ? json_string(c->error) : json_null(), "retry_bundle_id",
                  (json_int_t)c->retry_bundle_id, "retry_at_ms", (json_int_t)c->retry_at_ms,
                  "backoff_ms", (json_int_t)c->backoff_ms, "failed", failed_json(c));

    if (!o || !more || json_object_update(o, more) != 0) {
        json_decref(o);
        o = NULL;
    }
    json_decref(more);
    return o;
}

json_t *state_encode(const proto *p, const boot_crashset *crashes)
{
    json_t *chans = json_object();
    json_t *snap = json_array();
    json_t *root = NULL;

    if (!chans || !snap)
        goto out;
    for (uint32_t i = 0; i < p->nch; i++)
        if (json_object_set_new(chans, p->ch[i].name, channel_json(&p->ch[i])) != 0)
            goto out;
    for (size_t i = 0; crashes && i < crashes->n; i++)
        if (json_array_append_new(snap, json_string(crashes->names[i])) != 0)
            goto out;
    root =
        json_pack("{s:i, s:s, s:s, s:I, s:o, s:I, s:O, s:O}", "format", STATE_FORMAT, "device_id",
                  p->device_id, "boot_id", p->boot_id, "seq", (json_int_t)p->seq, "counter",
                  p->have_counter ? json_integer(p->counter) : json_null(), "agent_restarts",
                  (json_int_t)p->agent_restarts, "channels", chans, "crash_snapshot", snap);
out:
    json_decref(chans);
    json_decref(snap);
    return root;
}

/* ---- decoding ---------------------------------------------------------- */

typedef struct rd {
    rf_error *err;
    const char *ctx; /* "channels.content.current." and the like */
} rd;

static rf_err bad(const rd *r, const char *key, const char *what)
{
    return rf_error_set(r->err, RF_ERR_INVALID, "field '%s%s': %s", r->ctx, key, what);
}

static rf_err only_keys(const rd *r, const json_t *o, const char *const *keys, size_t n)
{
    const char *k;
    json_t *v;

    if (!json_is_object(o))
        return bad(r, "", "must be an object");
    json_object_foreach((json_t *)o, k, v)
    {
        size_t i = 0;
        while (i < n && strcmp(keys[i], k) != 0)
            i++;
        if (i == n)
            return bad(r, k, "unknown field");
    }
    for (size_t i = 0; i < n; i++)
        if (!json_object_get(o, keys[i]))
            return bad(r, keys[i], "missing");
    return RF_OK;
}

static rf_err rd_int(const rd *r, const json_t *o, const char *key, int64_t min, int64_t *out)
{
    const json_t *v = json_object_get(o, key);

    if (!json_is_integer(v) || json_integer_value(v) < min)
        return bad(r, key, "must be an integer in range");
    *out = json_integer_value(v);
    return RF_OK;
}

static rf_err rd_str(const rd *r, const json_t *o, const char *key, char *out, size_t cap,
                     bool nullable)
{
    const json_t *v = json_object_get(o, key);
    size_t n;

    if (nullable && json_is_null(v)) {
        out[0] = '\0';
        return RF_OK;
    }
    if (!json_is_string(v))
        return bad(r, key, "must be a string");
    n = json_string_length(v);
    if (n >= cap || strlen(json_string_value(v)) != n)
        return bad(r, key, "too long or holds a NUL");
    memcpy(out, json_string_value(v), n + 1);
    return RF_OK;
}

static rf_err rd_enum(const rd *r, const json_t *o, const char *key, const char *const *names,
                      size_t n, int *out)
{
    const json_t *v = json_object_get(o, key);

    for (size_t i = 0; json_is_string(v) && i < n; i++)
        if (strcmp(json_string_value(v), names[i]) == 0) {
            *out = (int)i;
            return RF_OK;
        }
    return bad(r, key, "not one of the known values");
}

static rf_err rd_slot(const rd *r, const json_t *o, const char *key, proto_slot *out)
{
    const json_t *v = json_object_get(o, key);
    const char *s = json_string_value(v);

    if (json_is_null(v))
        *out = PROTO_SLOT_NONE;
    else if (s && strcmp(s, "a") == 0)
        *out = PROTO_SLOT_A;
    else if (s && strcmp(s, "b") == 0)
        *out = PROTO_SLOT_B;
    else
        return bad(r, key, "must be \"a\", \"b\" or null");
    return RF_OK;
}

static rf_err rd_bundle(const rd *parent, const json_t *o, const char *key, proto_bundle *b)
{
    static const char *const keys[] = {"id", "name", "version", "sha256", "length", "slot"};
    const json_t *v = json_object_get(o, key);
    char ctx[200];
    rd r = {parent->err, ctx};
    rf_err rc;

    memset(b, 0, sizeof(*b));
    if (!v)
        return bad(parent, key, "missing");
    if (json_is_null(v))
        return RF_OK;
    snprintf(ctx, sizeof(ctx), "%.150s%.20s.", parent->ctx, key);
    if ((rc = only_keys(&r, v, keys, NELEM(keys))) != RF_OK ||
        (rc = rd_int(&r, v, "id", 1, &b->id)) != RF_OK ||
        (rc = rd_str(&r, v, "name", b->name, sizeof(b->name), false)) != RF_OK ||
        (rc = rd_str(&r, v, "version", b->version, sizeof(b->version), false)) != RF_OK ||
        (rc = rd_str(&r, v, "sha256", b->sha256, sizeof(b->sha256), false)) != RF_OK ||
        (rc = rd_int(&r, v, "length", 0, &b->length)) != RF_OK ||
        (rc = rd_slot(&r, v, "slot", &b->slot)) != RF_OK)
        return rc;
    if (strlen(b->sha256) != 64 || strspn(b->sha256, "0123456789abcdef") != 64)
        return bad(&r, "sha256", "must be 64 lower-case hex digits");
    if (b->length > PROTO_MAX_BUNDLE_BYTES)
        return bad(&r, "length", "too large");
    return RF_OK;
}

static rf_err rd_want(const rd *parent, const json_t *o, proto_want *w)
{
    static const char *const keys[] = {"action", "rollout_id", "bundle"};
    const json_t *v = json_object_get(o, "want");
    char ctx[200];
    rd r = {parent->err, ctx};
    int action = 0;
    rf_err rc;

    memset(w, 0, sizeof(*w));
    if (!v)
        return bad(parent, "want", "missing");
    if (json_is_null(v))
        return RF_OK;
    snprintf(ctx, sizeof(ctx), "%.150swant.", parent->ctx);
    if ((rc = only_keys(&r, v, keys, NELEM(keys))) != RF_OK ||
        (rc = rd_enum(&r, v, "action", ACTION_NAMES, NELEM(ACTION_NAMES), &action)) != RF_OK ||
        (rc = rd_bundle(&r, v, "bundle", &w->bundle)) != RF_OK)
        return rc;
    if (!json_is_null(json_object_get(v, "rollout_id")) &&
        (rc = rd_int(&r, v, "rollout_id", 1, &w->rollout_id)) != RF_OK)
        return rc;
    w->present = true;
    w->action = (proto_want_action)action;
    return RF_OK;
}

static rf_err rd_failed(const rd *parent, const json_t *o, proto_channel *c)
{
    static const char *const keys[] = {"bundle_id", "counter", "kind"};
    const json_t *a = json_object_get(o, "failed");
    char ctx[200];
    rd r = {parent->err, ctx};
    size_t i;
    json_t *v;
    rf_err rc;

    if (!json_is_array(a) || json_array_size(a) > PROTO_MAX_FAILED)
        return bad(parent, "failed", "must be an array of at most 8 entries");
    json_array_foreach(a, i, v)
    {
        proto_failed *f = &c->failed[i];
        int kind = 0;
        snprintf(ctx, sizeof(ctx), "%.150sfailed[%zu].", parent->ctx, i);
        if ((rc = only_keys(&r, v, keys, NELEM(keys))) != RF_OK ||
            (rc = rd_int(&r, v, "bundle_id", 1, &f->bundle_id)) != RF_OK ||
            (rc = rd_int(&r, v, "counter", 0, &f->counter)) != RF_OK ||
            (rc = rd_enum(&r, v, "kind", FAILED_NAMES, NELEM(FAILED_NAMES), &kind)) != RF_OK)
            return rc;
        f->kind = (proto_failed_kind)kind;
        c->nfailed = (uint32_t)i + 1;
    }
    return RF_OK;
}

static rf_err rd_channel_state(const rd *r, const json_t *o, proto_channel *c)
{
    int run = 0, op = 0, phase = 0, hook;
    rf_err rc;

    if ((rc = rd_enum(r, o, "run", RUN_NAMES, NELEM(RUN_NAMES), &run)) != RF_OK ||
        (rc = rd_enum(r, o, "op", OP_NAMES, NELEM(OP_NAMES), &op)) != RF_OK ||
        (rc = rd_enum(r, o, "phase", PHASE_NAMES, NELEM(PHASE_NAMES), &phase)) != RF_OK ||
        (rc = rd_slot(r, o, "phase_slot", &c->phase_slot)) != RF_OK)
        return rc;
    if (phase != PROTO_PHASE_NONE && phase != PROTO_PHASE_INSTALL && phase != PROTO_PHASE_REVERT)
        return bad(r, "phase", "must be none, install or revert");
    if (phase == PROTO_PHASE_INSTALL && c->phase_slot == PROTO_SLOT_NONE)
        return bad(r, "phase_slot", "an install needs a slot");
    hook = json_is_true(json_object_get(o, "hook_revert"));
    if (!json_is_boolean(json_object_get(o, "hook_revert")))
        return bad(r, "hook_revert", "must be a boolean");
    if (c->current.id && c->current.slot == PROTO_SLOT_NONE)
        return bad(r, "current.slot", "an active bundle needs a slot");
    c->run = (proto_run)run;
    c->op = (proto_op)op;
    c->phase = (proto_phase)phase;
    c->hook_revert = hook;
    return RF_OK;
}

static rf_err rd_channel(const rd *parent, const char *name, const json_t *o, proto *p)
{
    static const char *const keys[] = {"want",        "current",
                                       "previous",    "target",
                                       "run",         "op",
                                       "phase",       "phase_slot",
                                       "hook_revert", "activated_ms",
                                       "boots",       "unclean_shutdowns",
                                       "crashes",     "local_rollbacks",
                                       "error",       "retry_bundle_id",
                                       "retry_at_ms", "backoff_ms",
                                       "failed"};
    char ctx[200];
    rd r = {parent->err, ctx};
    proto_channel *c;
    rf_err rc;

    snprintf(ctx, sizeof(ctx), "channels.%.64s.", name);
    if (proto_channel_get(p, name, false) || !(c = proto_channel_get(p, name, true)))
        return rf_error_set(parent->err, RF_ERR_INVALID,
                            "channel '%.64s': invalid name or too many channels", name);
    if ((rc = only_keys(&r, o, keys, NELEM(keys))) != RF_OK ||
        (rc = rd_want(&r, o, &c->want)) != RF_OK ||
        (rc = rd_bundle(&r, o, "current", &c->current)) != RF_OK ||
        (rc = rd_bundle(&r, o, "previous", &c->previous)) != RF_OK ||
        (rc = rd_bundle(&r, o, "target", &c->target)) != RF_OK ||
        (rc = rd_channel_state(&r, o, c)) != RF_OK ||
        (rc = rd_int(&r, o, "activated_ms", 0, &c->activated_ms)) != RF_OK ||
        (rc = rd_int(&r, o, "boots", 0, &c->boots)) != RF_OK ||
        (rc = rd_int(&r, o, "unclean_shutdowns", 0, &c->unclean_shutdowns)) != RF_OK ||
        (rc = rd_int(&r, o, "crashes", 0, &c->crashes)) != RF_OK ||
        (rc = rd_int(&r, o, "local_rollbacks", 0, &c->local_rollbacks)) != RF_OK ||
        (rc = rd_str(&r, o, "error", c->error, sizeof(c->error), true)) != RF_OK ||
        (rc = rd_int(&r, o, "retry_bundle_id", 0, &c->retry_bundle_id)) != RF_OK ||
        (rc = rd_int(&r, o, "retry_at_ms", 0, &c->retry_at_ms)) != RF_OK ||
        (rc = rd_int(&r, o, "backoff_ms", 0, &c->backoff_ms)) != RF_OK ||
        (rc = rd_failed(&r, o, c)) != RF_OK)
        return rc;
    return RF_OK;
}

static rf_err rd_top(const rd *r, const json_t *root, proto *p)
{
    const json_t *counter = json_object_get(root, "counter");
    int64_t format = 0;
    rf_err rc;

    if ((rc = rd_int(r, root, "format", 0, &format)) != RF_OK)
        return rc;
    if (format != STATE_FORMAT)
        return rf_error_set(r->err, RF_ERR_INVALID, "field 'format': %lld is not supported (%d is)",
                            (long long)format, STATE_FORMAT);
    if ((rc = rd_str(r, root, "device_id", p->device_id, sizeof(p->device_id), false)) != RF_OK ||
        (rc = rd_str(r, root, "boot_id", p->boot_id, sizeof(p->boot_id), false)) != RF_OK ||
        (rc = rd_int(r, root, "seq", 0, &p->seq)) != RF_OK ||
        (rc = rd_int(r, root, "agent_restarts", 0, &p->agent_restarts)) != RF_OK)
        return rc;
    if (p->device_id[0] && (strlen(p->device_id) != PROTO_DEVICE_ID_LEN ||
                            strspn(p->device_id, "0123456789abcdef") != PROTO_DEVICE_ID_LEN))
        return bad(r, "device_id", "must be 32 hex digits or empty");
    p->have_counter = !json_is_null(counter);
    if (p->have_counter && (rc = rd_int(r, root, "counter", 0, &p->counter)) != RF_OK)
        return rc;
    return RF_OK;
}

rf_err state_decode(const json_t *root, proto *p, boot_crashset *crashes, rf_error *err)
{
    static const char *const keys[] = {"format",    "seq",           "counter",
                                       "device_id", "boot_id",       "agent_restarts",
                                       "channels",  "crash_snapshot"};
    rd r = {err, ""};
    const json_t *chans, *snap;
    const char *name;
    json_t *v;
    size_t i;
    rf_err rc;

    if ((rc = only_keys(&r, root, keys, NELEM(keys))) != RF_OK ||
        (rc = rd_top(&r, root, p)) != RF_OK)
        return rc;
    chans = json_object_get(root, "channels");
    if (!json_is_object(chans) || json_object_size(chans) > PROTO_MAX_CHANNELS)
        return bad(&r, "channels", "must be an object of at most 16 channels");
    json_object_foreach((json_t *)chans, name, v)
    {
        if ((rc = rd_channel(&r, name, v, p)) != RF_OK)
            return rc;
    }
    snap = json_object_get(root, "crash_snapshot");
    if (!json_is_array(snap) || json_array_size(snap) > BOOT_CRASH_MAX)
        return bad(&r, "crash_snapshot", "must be an array of at most 4096 names");
    json_array_foreach(snap, i, v)
    {
        if (!json_is_string(v) || boot_crashset_add(crashes, json_string_value(v)) != RF_OK)
            return rf_error_set(err, RF_ERR_INVALID, "field 'crash_snapshot[%zu]': bad name", i);
    }
    boot_crashset_seal(crashes);
    return RF_OK;
}
