/* The agent routes: enrollment, the per-device assignment signed by the
 * director key (the key set root.json names in "x-ringfence-director") with
 * its long-poll, and heartbeats. Bodies are validated strictly here (every field
 * named in its error) before anything reaches the database. A device token
 * acts only for its own device: the device id always comes from the token,
 * never from the request. */
#include "api.h"
#include "api_agent.h"
#include "assign_cache.h"
#include "hb_batch.h"
#include "metrics.h"
#include "rf_cohort.h"
#include "rf_crypto.h"
#include "rf_cjson.h"
#include "rf_signed.h"
#include "rf_util.h"
#include "store_agent.h"
#include "tuf_keys.h"
#include "validate.h"

#include <stdlib.h>
#include <string.h>

#define ACQUIRE_MS 2000
#define MAX_WAIT_S 60

static rf_http_result fail(rf_resp *resp, rf_err rc, const rf_error *e)
{
    rf_resp_error(resp, rc, e != NULL && e->code == rc ? e->message : NULL);
    return RF_HTTP_DONE;
}

/* ---- enrollment ---- */

static int is_host_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '_';
}

static rf_err check_enroll_body(const json_t *body, const char **hostname, const json_t **labels,
                                rf_error *err)
{
    static const char *const allowed[] = {"hostname", "labels", NULL};
    rf_err rc = validate_known_fields(body, allowed, err);
    if (rc != RF_OK)
        return rc;
    const json_t *h = json_object_get(body, "hostname");
    if (h != NULL && !json_is_null(h)) {
        const char *s = json_string_value(h);
        size_t n = s ? strlen(s) : 0;
        int ok = s != NULL && n >= 1 && n <= 253 && n == json_string_length(h);
        for (size_t i = 0; ok && i < n; i++)
            ok = is_host_char((unsigned char)s[i]);
        if (!ok)
            return rf_error_set(err, RF_ERR_INVALID,
                                "field 'hostname': must be a string of 1-253 characters "
                                "[A-Za-z0-9._-]");
        *hostname = s;
    }
    const json_t *l = json_object_get(body, "labels");
    if (l != NULL && !json_is_null(l)) {
        rc = validate_labels("labels", l, err);
        if (rc != RF_OK)
            return rc;
        *labels = l;
    }
    return RF_OK;
}

rf_http_result api_agent_enroll(rf_server *srv, rf_req *req, rf_resp *resp)
{
    char token[80], hash[RF_SHA256_HEX_LEN + 1], id[33];
    uint8_t raw[16];
    const char *hostname = "";
    const json_t *labels = NULL;
    json_t *body = NULL;
    rf_db *db = NULL;
    rf_error e = {0};
    rf_err rc;
    if (req->who.kind != RF_PRINCIPAL_ENROLL) {
        /* Only the fleet's enrollment key enrolls; any other credential is
         * not one the route knows. */
        rf_resp_error(resp, RF_ERR_UNAUTHORIZED, "enrollment needs the fleet's enrollment key");
        return RF_HTTP_DONE;
    }
    if (req->body != NULL && req->body_len > 0) {
        body = rf_req_json_object(req, resp);
        if (body == NULL)
            return RF_HTTP_DONE;
    }
    rc = body ? check_enroll_body(body, &hostname, &labels, &e) : RF_OK;
    if (rc == RF_OK)
        rc = rf_random(raw, sizeof(raw));
    if (rc == RF_OK)
        rc = rf_token_new("rfd_", token, sizeof(token));
    if (rc != RF_OK)
        goto out;
    rf_hex_encode(raw, sizeof(raw), id);
    rf_sha256_hex(token, strlen(token), hash);
    uint32_t bucket = rf_bucket(id);
    rc = store_acquire(srv->store, ACQUIRE_MS, &db);
    if (rc == RF_OK)
        rc = store_agent_enroll(db, id, hash, hostname, labels, (int)bucket, &e);
    store_release(srv->store, db);
    if (rc == RF_OK)
        rf_resp_json(
            resp, 201,
            json_pack("{s:s, s:s, s:i}", "device_id", id, "token", token, "bucket", (int)bucket));
out:
    explicit_bzero(token, sizeof(token));
    json_decref(body);
    return rc == RF_OK ? RF_HTTP_DONE : fail(resp, rc, &e);
}

/* ---- assignment ---- */

/* One channel's entry; "target" is the bundle's TUF target path, which the
 * agent looks up in the repository's targets.json before it downloads. */
static json_t *bundle_entry(const char *channel, const agent_bundle *b, long long rollout_id,
                            assign_action a)
{
    const char *action = a == ASSIGN_REVERT ? "revert" : "install";
    char target[TUF_TARGET_PATH_MAX + 1];
    if (b == NULL || b->id <= 0)
        return json_pack("{s:n, s:n, s:n, s:n, s:n, s:n, s:I, s:s}", "bundle_id", "target", "name",
                         "version", "sha256", "length", "rollout_id", (json_int_t)rollout_id,
                         "action", action);
    if (tuf_target_path(channel, b->name, b->version, target, NULL) != RF_OK)
        return NULL;
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:I, s:I, s:s}", "bundle_id", (json_int_t)b->id,
                     "target", target, "name", b->name, "version", b->version, "sha256", b->sha256,
                     "length", (json_int_t)b->length, "rollout_id", (json_int_t)rollout_id,
                     "action", action);
}

/* The bundle record for an id the decision named: the rollout's bundle, the
 * previous one or the one a pin holds the device at (NULL for none). */
static const agent_bundle *bundle_of(const agent_channel_input *c, long long id)
{
    if (id > 0 && id == c->bundle.id)
        return &c->bundle;
    if (id > 0 && id == c->previous.id)
        return &c->previous;
    if (id > 0 && id == c->pinned.id)
        return &c->pinned;
    return NULL;
}

rf_err api_agent_channels(rf_db *db, const char *device_id, json_t **out, rf_error *err)
{
    agent_assign_inputs in;
    json_t *channels = NULL;
    *out = NULL;
    rf_err rc = store_agent_assign_inputs(db, device_id, &in, err);
    if (rc != RF_OK)
        return rc;
    channels = json_object();
    for (int i = 0; channels != NULL && i < in.n; i++) {
        const agent_channel_input *c = &in.ch[i];
        assign_result a = assign_decide(&c->rollout, &c->device);
        if (a.action == ASSIGN_OMIT)
            continue;
        json_t *entry =
            bundle_entry(c->channel, bundle_of(c, a.bundle_id), c->rollout_id, a.action);
        if (entry == NULL || json_object_set_new(channels, c->channel, entry) != 0) {
            json_decref(channels);
            channels = NULL;
        }
    }
    store_agent_assign_inputs_cleanup(&in);
    if (channels == NULL)
        return rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    *out = channels;
    return RF_OK;
}

/* Computes the device's channels and the counter that goes with them. */
static rf_err current_assignment(rf_server *srv, const char *device_id, json_t **channels,
                                 long long *counter, rf_error *err)
{
    rf_db *db = NULL;
    rf_buf canon;
    char digest[RF_SHA256_HEX_LEN + 1];
    rf_buf_init(&canon, 1 << 20);
    *channels = NULL;
    rf_err rc = store_acquire(srv->store, ACQUIRE_MS, &db);
    if (rc == RF_OK)
        rc = api_agent_channels(db, device_id, channels, err);
    if (rc == RF_OK)
        rc = rf_cjson_encode(*channels, &canon, err);
    if (rc == RF_OK) {
        rf_sha256_hex(canon.data, canon.len, digest);
        rc = store_agent_counter(db, device_id, digest, counter, err);
    }
    store_release(srv->store, db);
    rf_buf_cleanup(&canon);
    if (rc != RF_OK) {
        json_decref(*channels);
        *channels = NULL;
    }
    return rc;
}

static rf_err query_ll(const rf_req *req, const char *key, long long lo, long long hi,
                       long long dflt, long long *out, rf_error *err)
{
    const char *v = req->query ? req->query(req, key) : NULL;
    *out = dflt;
    if (v == NULL)
        return RF_OK;
    if (rf_parse_ll(v, lo, hi, out) != RF_OK)
        return rf_error_set(err, RF_ERR_INVALID,
                            "parameter '%s': must be an integer from %lld "
                            "to %lld",
                            key, lo, hi);
    return RF_OK;
}

typedef struct poll_state {
    int64_t deadline_ms; /* monotonic */
} poll_state;

/* 1 when the request should keep waiting for a change (and is set up to). */
static int keep_waiting(rf_req *req, long long wait_s)
{
    poll_state *st = req->handler_state;
    if (st == NULL) {
        st = calloc(1, sizeof(*st));
        if (st == NULL)
            return 0;
        st->deadline_ms = rf_monotonic_ms() + wait_s * 1000;
        req->handler_state = st;
        req->handler_state_free = free;
    }
    if (rf_monotonic_ms() >= st->deadline_ms)
        return 0; /* the deadline: answer with the assignment as it is */
    req->wait_until_ms = st->deadline_ms;
    return 1;
}

static rf_http_result answer_assignment(rf_server *srv, const rf_req *req, rf_resp *resp,
                                        json_t *channels, long long counter)
{
    char issued[32], expires[32];
    rf_error e = {0};
    int64_t now = rf_now_ms() / 1000;
    rf_time_iso(now, issued);
    rf_time_iso(now + srv->cfg.assignment_ttl_s, expires);
    json_t *signed_obj = json_pack("{s:s, s:s, s:I, s:s, s:s, s:O}", "_type", "assignment",
                                   "device_id", req->who.device_id, "counter", (json_int_t)counter,
                                   "issued", issued, "expires", expires, "channels", channels);
    tuf_keyset *ks = tuf_keys_get(srv);
    json_t *env = signed_obj != NULL && ks != NULL
                      ? rf_signed_wrap(signed_obj, ks->key[TUF_DIRECTOR], &e)
                      : NULL;
    tuf_keyset_put(ks);
    json_decref(signed_obj);
    if (env == NULL)
        return fail(resp, e.code ? e.code : RF_ERR_INTERNAL, &e);
    rf_resp_json(resp, 200, env);
    return RF_HTTP_DONE;
}

/* The answer served lately when nothing changed since (assign_cache.h):
 * RF_HTTP_DONE with resp filled, RF_HTTP_SUSPEND to keep waiting, or -1 for
 * a miss. */
static int cached_assignment(rf_server *srv, rf_req *req, rf_resp *resp, uint64_t gen,
                             long long wait_s, long long known)
{
    long long counter = 0;
    char *body = NULL;
    size_t len = 0;
    if (!assign_cache_get(srv->assign_cache, req->who.device_id, gen, rf_monotonic_ms(), &counter,
                          &body, &len))
        return -1;
    if (wait_s > 0 && known >= 0 && counter == known && keep_waiting(req, wait_s)) {
        free(body);
        return RF_HTTP_SUSPEND;
    }
    free(resp->body);
    resp->status = 200;
    resp->content_type = "application/json";
    resp->body = body;
    resp->body_len = len;
    return RF_HTTP_DONE;
}

rf_http_result api_agent_assignment(rf_server *srv, rf_req *req, rf_resp *resp)
{
    long long wait_s = 0, known = -1, counter = 0;
    json_t *channels = NULL;
    rf_error e = {0};
    if (!rf_require_device(req, resp))
        return RF_HTTP_DONE;
    rf_err rc = query_ll(req, "wait", 0, MAX_WAIT_S, 0, &wait_s, &e);
    if (rc == RF_OK)
        rc = query_ll(req, "known", 0, 0x3fffffffffffffffLL, -1, &known, &e);
    if (rc != RF_OK)
        return fail(resp, rc, &e);
    /* Both read before the inputs, so an answer computed from inputs that
     * change meanwhile is never reused. */
    uint64_t gen = rf_server_generation(srv);
    uint64_t epoch = assign_cache_epoch(srv->assign_cache);
    int hit = cached_assignment(srv, req, resp, gen, wait_s, known);
    if (hit >= 0)
        return (rf_http_result)hit;
    rc = current_assignment(srv, req->who.device_id, &channels, &counter, &e);
    if (rc != RF_OK)
        return fail(resp, rc, &e);
    if (wait_s > 0 && known >= 0 && counter == known && keep_waiting(req, wait_s)) {
        json_decref(channels);
        return RF_HTTP_SUSPEND;
    }
    rf_http_result res = answer_assignment(srv, req, resp, channels, counter);
    json_decref(channels);
    if (resp->status == 200 && resp->body != NULL)
        assign_cache_put(srv->assign_cache, req->who.device_id, gen, epoch, rf_monotonic_ms(),
                         counter, resp->body, resp->body_len);
    return res;
}

/* ---- heartbeat ---- */

#define HB_MAX_COUNT 1000000000LL
#define HB_MAX_ERROR 512
#define HB_MAX_ID 9007199254740992LL

static rf_err known_keys(const json_t *obj, const char *path, const char *const *allowed,
                         rf_error *err)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        int known = 0;
        (void)v;
        for (size_t i = 0; allowed[i] != NULL; i++)
            known |= strcmp(key, allowed[i]) == 0;
        if (!known)
            return rf_error_set(err, RF_ERR_INVALID, "field '%s%s%.64s': unknown field", path,
                                *path ? "." : "", key);
    }
    return RF_OK;
}

/* A bundle reference: a positive integer, or null / absent (0). */
static rf_err bundle_ref(const char *path, const json_t *v, long long *out, rf_error *err)
{
    *out = 0;
    if (v == NULL || json_is_null(v))
        return RF_OK;
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > HB_MAX_ID)
        return rf_error_set(err, RF_ERR_INVALID,
                            "field '%s': must be a bundle id (a positive integer) or null", path);
    *out = (long long)json_integer_value(v);
    return RF_OK;
}

static rf_err opt_count(const char *path, const json_t *v, long long *out, rf_error *err)
{
    *out = 0;
    return v == NULL ? RF_OK : validate_int(path, v, 0, HB_MAX_COUNT, out, err);
}

static rf_err parse_hb_channel(const char *name, const json_t *obj, agent_hb_channel *c,
                               rf_error *err)
{
    static const char *const allowed[] = {"bundle_id",
                                          "state",
                                          "target_bundle_id",
                                          "boots",
                                          "unclean_shutdowns",
                                          "crashes",
                                          "local_rollbacks",
                                          "error",
                                          NULL};
    char path[96], f[128];
    rf_snprintf(path, sizeof(path), "channels.%s", name);
    if (!json_is_object(obj))
        return rf_error_set(err, RF_ERR_INVALID, "field '%s': must be an object", path);
    rf_err rc = known_keys(obj, path, allowed, err);
#define FIELD(k) (rf_snprintf(f, sizeof(f), "%s.%s", path, k), f)
    if (rc == RF_OK)
        rc = bundle_ref(FIELD("bundle_id"), json_object_get(obj, "bundle_id"), &c->rep.bundle_id,
                        err);
    if (rc == RF_OK)
        rc = bundle_ref(FIELD("target_bundle_id"), json_object_get(obj, "target_bundle_id"),
                        &c->rep.target_bundle_id, err);
    if (rc == RF_OK)
        rc = opt_count(FIELD("boots"), json_object_get(obj, "boots"), &c->rep.boots, err);
    if (rc == RF_OK)
        rc = opt_count(FIELD("unclean_shutdowns"), json_object_get(obj, "unclean_shutdowns"),
                       &c->rep.unclean_shutdowns, err);
    if (rc == RF_OK)
        rc = opt_count(FIELD("crashes"), json_object_get(obj, "crashes"), &c->rep.crashes, err);
    if (rc == RF_OK)
        rc = opt_count(FIELD("local_rollbacks"), json_object_get(obj, "local_rollbacks"),
                       &c->rep.local_rollbacks, err);
    if (rc != RF_OK)
        return rc;
    const json_t *st = json_object_get(obj, "state");
    if (health_dev_state_parse(json_string_value(st), &c->rep.state) != 0)
        return rf_error_set(err, RF_ERR_INVALID,
                            "field '%s': must be one of idle, installing, trial, committed, "
                            "install_failed, rolled_back, verify_failed",
                            FIELD("state"));
    const json_t *e = json_object_get(obj, "error");
    if (e != NULL && !json_is_null(e) &&
        (!json_is_string(e) || json_string_length(e) > HB_MAX_ERROR ||
         strlen(json_string_value(e)) != json_string_length(e)))
        return rf_error_set(err, RF_ERR_INVALID,
                            "field '%s': must be a string of at most %d bytes, or null",
                            FIELD("error"), HB_MAX_ERROR);
#undef FIELD
    c->error = json_is_string(e) ? json_string_value(e) : NULL;
    memcpy(c->name, name, strlen(name) + 1); /* validated: at most 64 bytes */
    return RF_OK;
}

static rf_err opt_text(const char *field, const json_t *v, size_t max, const char **out,
                       rf_error *err)
{
    *out = NULL;
    if (v == NULL || json_is_null(v))
        return RF_OK;
    const char *s = json_string_value(v);
    int ok = s != NULL && json_string_length(v) >= 1 && json_string_length(v) <= max &&
             strlen(s) == json_string_length(v);
    for (size_t i = 0; ok && s[i]; i++)
        ok = (unsigned char)s[i] > 0x20 && (unsigned char)s[i] < 0x7f;
    if (!ok)
        return rf_error_set(err, RF_ERR_INVALID,
                            "field '%s': must be a string of 1-%zu printable characters without "
                            "spaces, or null",
                            field, max);
    *out = s;
    return RF_OK;
}

static rf_err parse_hb_channels(const json_t *chans, agent_heartbeat *hb, rf_error *err)
{
    const char *key;
    json_t *v;
    if (!json_is_object(chans))
        return rf_error_set(err, RF_ERR_INVALID,
                            "field 'channels': must be an object of channel reports");
    if (json_object_size(chans) > AGENT_MAX_HB_CHANNELS)
        return rf_error_set(err, RF_ERR_INVALID, "field 'channels': at most %d channels",
                            AGENT_MAX_HB_CHANNELS);
    json_object_foreach((json_t *)chans, key, v)
    {
        rf_err rc = validate_slug("channels", key, NULL);
        if (rc != RF_OK)
            return rf_error_set(err, RF_ERR_INVALID,
                                "field 'channels': keys must be channel names of 1-64 "
                                "characters [a-z0-9._-]");
        rc = parse_hb_channel(key, v, &hb->ch[hb->n], err);
        if (rc != RF_OK)
            return rc;
        hb->n++;
    }
    return RF_OK;
}

static rf_err parse_heartbeat(const json_t *body, agent_heartbeat *hb, rf_error *err)
{
    static const char *const allowed[] = {
        "seq",           "boot_id",  "uptime_s",       "heartbeat_interval_s",
        "agent_version", "channels", "agent_restarts", NULL};
    long long seq = 0, uptime = 0, interval = 0, restarts = 0;
    const char *agent_version = NULL;
    const json_t *v;
    memset(hb, 0, sizeof(*hb));
    rf_err rc = known_keys(body, "", allowed, err);
    if (rc == RF_OK && json_object_get(body, "seq") == NULL)
        return rf_error_set(err, RF_ERR_INVALID, "field 'seq': missing");
    if (rc == RF_OK)
        rc = validate_int("seq", json_object_get(body, "seq"), 0, HB_MAX_ID, &seq, err);
    if (rc == RF_OK)
        rc = opt_text("boot_id", json_object_get(body, "boot_id"), 128, &hb->boot_id, err);
    if (rc == RF_OK && (v = json_object_get(body, "uptime_s")) != NULL)
        rc = validate_int("uptime_s", v, 0, HB_MAX_ID, &uptime, err);
    /* Kept in the raw heartbeat only (body->'agent_restarts'). */
    if (rc == RF_OK && (v = json_object_get(body, "agent_restarts")) != NULL)
        rc = validate_int("agent_restarts", v, 0, HB_MAX_ID, &restarts, err);
    if (rc == RF_OK && (v = json_object_get(body, "heartbeat_interval_s")) != NULL) {
        rc = validate_int("heartbeat_interval_s", v, -HB_MAX_ID, HB_MAX_ID, &interval, err);
        /* Clamped, not refused: a device may ask for anything, the server
         * counts silence with a sane interval. */
        interval = interval < 1 ? 1 : interval > 3600 ? 3600 : interval;
    }
    if (rc == RF_OK)
        rc = opt_text("agent_version", json_object_get(body, "agent_version"), 64, &agent_version,
                      err);
    if (rc == RF_OK && json_object_get(body, "channels") == NULL)
        return rf_error_set(err, RF_ERR_INVALID, "field 'channels': missing");
    if (rc == RF_OK)
        rc = parse_hb_channels(json_object_get(body, "channels"), hb, err);
    hb->seq = seq;
    hb->interval_s = (int)interval;
    return rc;
}

/* A heartbeat between its two handler calls: queued, then answered. */
typedef struct hb_state {
    agent_heartbeat hb;
    json_t *body;
    char *text;
    agent_hb_job job;
} hb_state;

static void hb_state_free(void *arg)
{
    hb_state *st = arg;
    if (st == NULL)
        return;
    json_decref(st->body);
    free(st->text);
    free(st);
}

/* The answer once the heartbeat's batch has been committed (or failed). */
static rf_http_result hb_answer(rf_resp *resp, const hb_state *st)
{
    if (st->job.rc != RF_OK) {
        metrics_heartbeat_rejected();
        return fail(resp, st->job.rc, &st->job.err);
    }
    rf_resp_json(
        resp, 200,
        json_pack("{s:I, s:b}", "seq", (json_int_t)st->hb.seq, "duplicate", st->job.duplicate));
    return RF_HTTP_DONE;
}

rf_http_result api_agent_heartbeat(rf_server *srv, rf_req *req, rf_resp *resp)
{
    hb_state *st = req->handler_state;
    rf_error e = {0};
    (void)srv;
    if (st != NULL) /* called again: the batch holding it is done */
        return hb_answer(resp, st);
    if (!rf_require_device(req, resp))
        return RF_HTTP_DONE;
    st = calloc(1, sizeof(*st));
    if (st == NULL)
        return fail(resp, RF_ERR_NOMEM, NULL);
    st->body = rf_req_json_object(req, resp);
    if (st->body == NULL) {
        hb_state_free(st);
        return RF_HTTP_DONE;
    }
    rf_err rc = parse_heartbeat(st->body, &st->hb, &e);
    if (rc == RF_OK && (st->text = json_dumps(st->body, JSON_COMPACT)) == NULL)
        rc = rf_error_set(&e, RF_ERR_NOMEM, "out of memory");
    if (rc != RF_OK) {
        metrics_heartbeat_rejected();
        hb_state_free(st);
        return fail(resp, rc, &e);
    }
    st->hb.body = st->text;
    st->job.device_id = req->who.device_id;
    st->job.hb = &st->hb;
    req->handler_state = st;
    req->handler_state_free = hb_state_free;
    /* stored with the other heartbeats arriving now, answered after the commit */
    if (req->park == NULL) /* only the HTTP server can park a request */
        return fail(resp, RF_ERR_UNAVAILABLE, NULL);
    hb_batch_enqueue(&st->job, rf_park_done, req->park);
    return RF_HTTP_PARK;
}
