/* The agent's actions that talk to the server: enroll, heartbeat, poll the
 * director-signed assignment, fetch TUF files and download a bundle's target.
 * Each turns the HTTP outcome into one event: transport trouble and error
 * statuses are PROTO_FAIL_IO (retried); anything that fails a signature,
 * threshold, hash, length, size-limit or field check is PROTO_FAIL_VERIFY
 * (refused). Nothing from the network is believed before the trusted root's
 * keys vouched for it; tokens are never logged and never sent to /tuf/. */
#include "agent_internal.h"
#include "boothealth.h"
#include "journal.h"
#include "rf_log.h"
#include "rf_util.h"
#include "slots.h"
#include "wire.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define JSON_ANSWER_CAP (1024 * 1024)
#define SHORT_TIMEOUT_S 15L
#define TUF_TIMEOUT_S 60L

static void fail_status(agent *a, proto_event *ev, const char *what, long status,
                        const rf_buf *resp)
{
    char text[300], msg[340];

    client_error_text(status, resp, text, sizeof(text));
    snprintf(msg, sizeof(msg), "%s: %s", what, text);
    agent_fail(a, ev, PROTO_FAIL_IO, msg);
}

static void fail_err(agent *a, proto_event *ev, proto_result r, const char *what,
                     const rf_error *err)
{
    char msg[340];

    snprintf(msg, sizeof(msg), "%s: %s", what, err->message);
    agent_fail(a, ev, r, msg);
}

void agent_do_enroll(agent *a, proto_event *ev)
{
    json_t *labels = config_labels_json(a->cfg);
    rf_buf body, resp;
    client_req req = {"POST", "/v1/agent/enroll", a->cfg->enroll_key, NULL, 0, SHORT_TIMEOUT_S,
                      true};
    rf_error err = {0};
    long status = 0;

    ev->kind = PROTO_EV_ENROLLED;
    rf_buf_init(&body, JSON_ANSWER_CAP);
    rf_buf_init(&resp, 64 * 1024);
    if (!labels || wire_enroll_request(a->cfg->hostname, labels, &body, &err) != RF_OK) {
        agent_fail(a, ev, PROTO_FAIL_IO, "cannot build the enrollment request");
        goto out;
    }
    req.body = body.data;
    req.body_len = body.len;
    if (client_call(&a->cl, &req, &status, &resp, &err) != RF_OK)
        fail_err(a, ev, PROTO_FAIL_IO, "enroll", &err);
    else if (status != 201 && status != 200)
        fail_status(a, ev, "enroll", status, &resp);
    else if (wire_enroll_answer(resp.data ? resp.data : "", resp.len, a->id.device_id, a->id.token,
                                &err) != RF_OK)
        fail_err(a, ev, PROTO_FAIL_IO, "enroll answer", &err);
    else if (state_identity_save(a->identity_path, &a->id, &err) != RF_OK)
        fail_err(a, ev, PROTO_FAIL_IO, "saving the identity", &err);
    else {
        memcpy(a->ev_device, a->id.device_id, sizeof(a->ev_device));
        ev->device_id = a->ev_device;
    }
out:
    if (resp.data)
        explicit_bzero(resp.data, resp.len);
    rf_buf_cleanup(&resp);
    rf_buf_cleanup(&body);
    json_decref(labels);
}

/* POSTs one heartbeat body: 1 acknowledged, 0 refused for good (the server
 * will never take it: it is dropped), -1 failed for now (ev says why). */
static int post_heartbeat(agent *a, int64_t seq, const char *body, size_t len, proto_event *ev)
{
    client_req req = {"POST", "/v1/agent/heartbeat", a->id.token, body,
                      len,    SHORT_TIMEOUT_S,       false};
    rf_buf resp;
    rf_error err = {0};
    long status = 0;
    char num[32];
    int r = -1;

    rf_buf_init(&resp, 64 * 1024);
    snprintf(num, sizeof(num), "%lld", (long long)seq);
    if (client_call(&a->cl, &req, &status, &resp, &err) != RF_OK) {
        fail_err(a, ev, PROTO_FAIL_IO, "heartbeat", &err);
    } else if (status / 100 == 2) {
        rf_log(RF_LOG_DEBUG, "heartbeat acknowledged", "seq", num, NULL);
        r = 1;
    } else {
        fail_status(a, ev, "heartbeat", status, &resp);
        if (status == 400 || status == 413 || status == 422) {
            rf_log(RF_LOG_ERROR, "heartbeat refused by the server; dropped", "seq", num, "detail",
                   a->ev_error, NULL);
            r = 0;
        }
    }
    rf_buf_cleanup(&resp);
    return r;
}

/* Journals seq's report durably before it is first sent; when the journal
 * cannot take it, *direct gets the body to send unjournalled (caller frees). */
static bool journal_current(agent *a, int64_t seq, char **direct)
{
    json_t *hb = wire_heartbeat(&a->p, seq, boothealth_uptime_s(), RF_VERSION);
    char *body = hb ? json_dumps(hb, JSON_COMPACT) : NULL;
    rf_error err = {0};
    size_t evicted = 0;

    json_decref(hb);
    if (!body)
        return false;
    if (journal_append(&a->jr, seq, body, strlen(body), &evicted, &err) != RF_OK) {
        rf_log(RF_LOG_ERROR, "heartbeat not journalled; sent directly", "detail", err.message,
               NULL);
        *direct = body;
        return true;
    }
    if (evicted) {
        char n[32];
        snprintf(n, sizeof(n), "%zu", evicted);
        rf_log(RF_LOG_WARN, "journal full: oldest heartbeats dropped", "count", n, NULL);
    }
    free(body);
    return true;
}

/* Sends one journalled report; false when the replay must stop here. */
static bool replay_one(agent *a, int64_t seq, int64_t current, proto_event *ev)
{
    rf_buf body;
    rf_error err = {0};
    int r;

    rf_buf_init(&body, JOURNAL_ENTRY_MAX);
    if (journal_read(&a->jr, seq, &body, &err) != RF_OK) {
        rf_log(RF_LOG_ERROR, "journal entry unreadable; dropped", "detail", err.message, NULL);
        journal_remove(&a->jr, seq, &err);
        rf_buf_cleanup(&body);
        if (seq == current)
            agent_fail(a, ev, PROTO_FAIL_IO, "journal entry unreadable");
        return seq != current;
    }
    r = post_heartbeat(a, seq, body.data ? body.data : "", body.len, ev);
    rf_buf_cleanup(&body);
    if (r >= 0 && journal_remove(&a->jr, seq, &err) != RF_OK)
        rf_log(RF_LOG_WARN, "journal entry not removed", "detail", err.message, NULL);
    return r > 0 || (r == 0 && seq != current);
}

/* Every journalled report goes out oldest first, each removed once
 * acknowledged; the action succeeds when act->seq's report did. */
void agent_do_heartbeat(agent *a, const proto_action *act, proto_event *ev)
{
    char *direct = NULL;

    ev->kind = PROTO_EV_HEARTBEAT;
    ev->seq = act->seq;
    if (!journal_has(&a->jr, act->seq) && !journal_current(a, act->seq, &direct)) {
        agent_fail(a, ev, PROTO_FAIL_IO, "cannot build the heartbeat");
        return;
    }
    while (a->jr.n > 0) {
        int64_t seq = a->jr.e[0].seq;
        if (!replay_one(a, seq, act->seq, ev))
            break; /* the rest waits for the next attempt, in order */
        ev->result = PROTO_OK;
    }
    if (direct && ev->result == PROTO_OK &&
        post_heartbeat(a, act->seq, direct, strlen(direct), ev) == 0)
        ev->result = PROTO_FAIL_IO;
    free(direct);
}

/* The director check; when it fails, the root may have rotated the director
 * key: the root chain is followed once and the check repeated. */
static rf_err verify_assignment(agent *a, const rf_buf *resp, json_t **doc, json_t **signed_obj,
                                rf_error *err)
{
    rf_err rc = rf_tuf_assignment_verify(&a->tuf.root, resp->data ? resp->data : "", resp->len, doc,
                                         signed_obj, err);
    char msg[PROTO_ERROR_MAX];
    bool changed = false;

    if (rc != RF_ERR_VERIFY)
        return rc;
    if (agent_tuf_update_root(a, &changed, msg, sizeof(msg)) != PROTO_OK)
        rf_log(RF_LOG_WARN, "root update failed", "detail", msg, NULL);
    if (!changed)
        return rc;
    return rf_tuf_assignment_verify(&a->tuf.root, resp->data ? resp->data : "", resp->len, doc,
                                    signed_obj, err);
}

void agent_do_poll(agent *a, const proto_action *act, proto_event *ev)
{
    char path[128];
    client_req req = {"GET", path, a->id.token, NULL, 0, act->wait_s + 10L, true};
    json_t *root = NULL, *signed_obj = NULL;
    rf_buf resp;
    rf_error err = {0};
    long status = 0;
    rf_err rc;

    ev->kind = PROTO_EV_ASSIGNMENT;
    rf_buf_init(&resp, RF_TUF_ASSIGNMENT_MAX_BYTES);
    snprintf(path, sizeof(path), "/v1/agent/assignment?wait=%d&known=%lld", act->wait_s,
             (long long)act->known);
    if ((rc = client_call(&a->cl, &req, &status, &resp, &err)) != RF_OK)
        fail_err(a, ev, rc == RF_ERR_TOO_LARGE ? PROTO_FAIL_VERIFY : PROTO_FAIL_IO, "assignment",
                 &err);
    else if (status != 200)
        fail_status(a, ev, "assignment", status, &resp);
    else if (verify_assignment(a, &resp, &root, &signed_obj, &err) != RF_OK)
        agent_fail(a, ev, PROTO_FAIL_VERIFY, err.message);
    else if (wire_assignment_parse(signed_obj, &a->asg, &err) != RF_OK)
        fail_err(a, ev, PROTO_FAIL_VERIFY, "signed assignment malformed", &err);
    else
        ev->assignment = &a->asg;
    json_decref(root);
    rf_buf_cleanup(&resp);
}

proto_result agent_tuf_get(agent *a, const char *path, size_t cap, bool allowed_404, rf_buf *resp,
                           long *status, char *msg, size_t len)
{
    char url[160], text[300];
    client_req req = {"GET", url, NULL, NULL, 0, TUF_TIMEOUT_S, true};
    const char *file = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    rf_error err = {0};
    rf_err rc;

    resp->cap = cap;
    if (rf_snprintf(url, sizeof(url), "/tuf/%s", path) != RF_OK) {
        snprintf(msg, len, "tuf: %.60s: path too long", file);
        return PROTO_FAIL_VERIFY;
    }
    rc = client_call(&a->cl, &req, status, resp, &err);
    if (rc == RF_ERR_TOO_LARGE) {
        snprintf(msg, len, "tuf: %s is larger than its %zu-byte limit (answer cut off)", file, cap);
        return PROTO_FAIL_VERIFY;
    }
    if (rc != RF_OK) {
        snprintf(msg, len, "tuf: %s: %s", file, err.message);
        return PROTO_FAIL_IO;
    }
    if (*status == 200 || (allowed_404 && *status == 404))
        return PROTO_OK;
    client_error_text(*status, resp, text, sizeof(text));
    snprintf(msg, len, "tuf: %s: %s", file, text);
    return PROTO_FAIL_IO;
}

/* Streams the target of b (channel ch) into tmp, bounded by its signed
 * length, and checks length and SHA-256 against the verified targets
 * metadata (which the REFRESH before found equal to b's). */
static proto_result fetch_content(agent *a, const char *ch, const proto_bundle *b, const char *tmp,
                                  char *msg, size_t len)
{
    char target[WIRE_TARGET_PATH_MAX + 1], file[WIRE_TARGET_PATH_MAX + 80], url[sizeof(file) + 16];
    char sha[65];
    long timeout = 60 + (long)(b->length / (64 * 1024));
    client_req req = {"GET", url, NULL, NULL, 0, timeout > 3600 ? 3600 : timeout, true};
    rf_tuf_target t = {.length = b->length};
    rf_error err = {0};
    int64_t got = 0;
    long status = 0;
    proto_result r = PROTO_FAIL_VERIFY;
    int fd;
    rf_err rc;

    memcpy(t.sha256, b->sha256, sizeof(t.sha256));
    if (wire_target_path(ch, b, target, sizeof(target)) != RF_OK ||
        rf_tuf_target_file(&a->tuf, target, b->sha256, file, sizeof(file)) != RF_OK ||
        rf_snprintf(url, sizeof(url), "/tuf/targets/%s", file) != RF_OK) {
        snprintf(msg, len, "tuf: the target path of bundle %lld is malformed", (long long)b->id);
        return PROTO_FAIL_VERIFY;
    }
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
        snprintf(msg, len, "%.200s: %s", tmp, strerror(errno));
        return PROTO_FAIL_IO;
    }
    rc = client_download(&a->cl, &req, fd, b->length, sha, &got, &status, &err);
    if (rc == RF_ERR_TOO_LARGE)
        snprintf(msg, len, "tuf: target %s is larger than its signed %lld bytes (answer cut off)",
                 target, (long long)b->length);
    else if (rc != RF_OK) {
        snprintf(msg, len, "tuf: target %.100s: %.150s", target, err.message);
        r = PROTO_FAIL_IO;
    } else if (rf_tuf_target_check(&t, target, got, sha, &err) != RF_OK)
        snprintf(msg, len, "%s", err.message);
    else if (fsync(fd) != 0) {
        snprintf(msg, len, "fsync %.200s: %s", tmp, strerror(errno));
        r = PROTO_FAIL_IO;
    } else
        r = PROTO_OK;
    close(fd);
    return r;
}

void agent_do_download(agent *a, const proto_action *act, proto_event *ev)
{
    const proto_channel *c = &a->p.ch[act->channel];
    const proto_bundle *b = act->bundle;
    char tmp[SLOTS_PATH_MAX], msg[320] = "";
    rf_error err = {0};
    proto_result r;

    ev->kind = PROTO_EV_DOWNLOADED;
    ev->channel = act->channel;
    ev->bundle_id = b->id;
    if (slots_prepare(a->data, c->name, &err) != RF_OK ||
        slots_download_path(a->data, c->name, tmp, sizeof(tmp)) != RF_OK) {
        fail_err(a, ev, PROTO_FAIL_IO, "channel dir", &err);
        return;
    }
    r = fetch_content(a, c->name, b, tmp, msg, sizeof(msg));
    if (r != PROTO_OK) {
        unlink(tmp);
        agent_fail(a, ev, r, msg);
    }
}
