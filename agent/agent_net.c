/* The agent's actions that talk to the server: enroll, heartbeat, poll the
 * signed assignment, download a bundle. Each turns the HTTP outcome into one
 * event: transport trouble and error statuses are PROTO_FAIL_IO (retried);
 * anything that fails a signature, hash, length or field check is
 * PROTO_FAIL_VERIFY (refused). Nothing from the network is believed before
 * the pinned key verified it; tokens are never logged. */
#include "agent_internal.h"
#include "boothealth.h"
#include "rf_log.h"
#include "slots.h"
#include "wire.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define JSON_ANSWER_CAP (1024 * 1024)
#define META_ANSWER_CAP (64 * 1024)
#define SHORT_TIMEOUT_S 15L

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

void agent_do_heartbeat(agent *a, const proto_action *act, proto_event *ev)
{
    json_t *hb = wire_heartbeat(&a->p, act->seq, boothealth_uptime_s(), RF_VERSION);
    char *body = hb ? json_dumps(hb, JSON_COMPACT) : NULL;
    client_req req = {"POST", "/v1/agent/heartbeat",   a->id.token,
                      body,   body ? strlen(body) : 0, SHORT_TIMEOUT_S,
                      false};
    rf_buf resp;
    rf_error err = {0};
    long status = 0;
    char seq[32];

    ev->kind = PROTO_EV_HEARTBEAT;
    ev->seq = act->seq;
    rf_buf_init(&resp, 64 * 1024);
    snprintf(seq, sizeof(seq), "%lld", (long long)act->seq);
    if (!body)
        agent_fail(a, ev, PROTO_FAIL_IO, "cannot build the heartbeat");
    else if (client_call(&a->cl, &req, &status, &resp, &err) != RF_OK)
        fail_err(a, ev, PROTO_FAIL_IO, "heartbeat", &err);
    else if (status / 100 != 2)
        fail_status(a, ev, "heartbeat", status, &resp);
    else
        rf_log(RF_LOG_DEBUG, "heartbeat acknowledged", "seq", seq, NULL);
    rf_buf_cleanup(&resp);
    free(body);
    json_decref(hb);
}

void agent_do_poll(agent *a, const proto_action *act, proto_event *ev)
{
    char path[128];
    client_req req = {"GET", path, a->id.token, NULL, 0, act->wait_s + 10L, true};
    json_t *root = NULL, *signed_obj = NULL;
    rf_buf resp;
    rf_error err = {0};
    long status = 0;

    ev->kind = PROTO_EV_ASSIGNMENT;
    rf_buf_init(&resp, JSON_ANSWER_CAP);
    snprintf(path, sizeof(path), "/v1/agent/assignment?wait=%d&known=%lld", act->wait_s,
             (long long)act->known);
    if (client_call(&a->cl, &req, &status, &resp, &err) != RF_OK)
        fail_err(a, ev, PROTO_FAIL_IO, "assignment", &err);
    else if (status != 200)
        fail_status(a, ev, "assignment", status, &resp);
    else if (wire_verify_envelope(resp.data ? resp.data : "", resp.len, a->key, "assignment", &root,
                                  &signed_obj, &err) != RF_OK)
        fail_err(a, ev, PROTO_FAIL_VERIFY, "assignment not accepted", &err);
    else if (wire_assignment_parse(signed_obj, &a->asg, &err) != RF_OK)
        fail_err(a, ev, PROTO_FAIL_VERIFY, "signed assignment malformed", &err);
    else
        ev->assignment = &a->asg;
    json_decref(root);
    rf_buf_cleanup(&resp);
}

/* Fetches and checks the signed metadata of b for channel ch. */
static proto_result fetch_metadata(agent *a, const char *ch, const proto_bundle *b, char *msg,
                                   size_t len)
{
    char path[96];
    client_req req = {"GET", path, a->id.token, NULL, 0, SHORT_TIMEOUT_S, true};
    json_t *root = NULL, *signed_obj = NULL;
    wire_meta meta;
    rf_buf resp;
    rf_error err = {0};
    proto_result r = PROTO_FAIL_VERIFY;
    long status = 0;

    rf_buf_init(&resp, META_ANSWER_CAP);
    snprintf(path, sizeof(path), "/v1/bundles/%lld/metadata", (long long)b->id);
    if (client_call(&a->cl, &req, &status, &resp, &err) != RF_OK) {
        r = err.code == RF_ERR_TOO_LARGE ? PROTO_FAIL_VERIFY : PROTO_FAIL_IO;
        snprintf(msg, len, "metadata: %s", err.message);
    } else if (status != 200) {
        char text[300];
        client_error_text(status, &resp, text, sizeof(text));
        snprintf(msg, len, "metadata: %s", text);
        r = PROTO_FAIL_IO;
    } else if (wire_verify_envelope(resp.data ? resp.data : "", resp.len, a->key, "bundle", &root,
                                    &signed_obj, &err) != RF_OK ||
               wire_meta_parse(signed_obj, &meta, &err) != RF_OK ||
               wire_meta_check(&meta, ch, b, &err) != RF_OK) {
        snprintf(msg, len, "metadata: %s", err.message);
    } else {
        r = PROTO_OK;
    }
    json_decref(root);
    rf_buf_cleanup(&resp);
    return r;
}

/* Streams the content of b into tmp and checks its length and SHA-256. */
static proto_result fetch_content(agent *a, const proto_bundle *b, const char *tmp, char *msg,
                                  size_t len)
{
    char path[96], sha[65];
    long timeout = 60 + (long)(b->length / (64 * 1024));
    client_req req = {"GET", path, a->id.token, NULL, 0, timeout > 3600 ? 3600 : timeout, true};
    rf_error err = {0};
    int64_t got = 0;
    long status = 0;
    proto_result r = PROTO_FAIL_VERIFY;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    rf_err rc;

    if (fd < 0) {
        snprintf(msg, len, "%.200s: %s", tmp, strerror(errno));
        return PROTO_FAIL_IO;
    }
    snprintf(path, sizeof(path), "/v1/bundles/%lld/content", (long long)b->id);
    rc = client_download(&a->cl, &req, fd, b->length, sha, &got, &status, &err);
    if (rc == RF_ERR_TOO_LARGE)
        snprintf(msg, len, "content: %s", err.message);
    else if (rc != RF_OK) {
        snprintf(msg, len, "content: %s", err.message);
        r = PROTO_FAIL_IO;
    } else if (got != b->length)
        snprintf(msg, len, "content: %lld bytes, the signed length is %lld", (long long)got,
                 (long long)b->length);
    else if (strcmp(sha, b->sha256) != 0)
        snprintf(msg, len, "content: sha256 %.16s… differs from the signed %.16s…", sha, b->sha256);
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
    r = fetch_metadata(a, c->name, b, msg, sizeof(msg));
    if (r == PROTO_OK)
        r = fetch_content(a, b, tmp, msg, sizeof(msg));
    if (r != PROTO_OK) {
        unlink(tmp);
        agent_fail(a, ev, r, msg);
    }
}
