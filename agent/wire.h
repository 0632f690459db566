/* wire: the agent's JSON on the wire, mapped to and from the plain structs of
 * proto.h — enrollment, signed assignments, signed bundle metadata and the
 * heartbeat body (shapes from docs/api.md). Pure functions: no I/O, no clock.
 * Every parser of outside input is strict and bounded, names the offending
 * field in its error, and never trusts an envelope it has not verified with
 * the pinned key. */
#ifndef AGENT_WIRE_H
#define AGENT_WIRE_H

#include "proto.h"
#include "rf_buf.h"
#include "rf_crypto.h"
#include "rf_err.h"
#include <jansson.h>

#define WIRE_TOKEN_MAX 256

/* Signed bundle metadata ("_type": "bundle"). */
typedef struct wire_meta {
    int64_t id;
    int64_t length;
    char channel[PROTO_NAME_MAX + 1];
    char name[PROTO_NAME_MAX + 1];
    char version[PROTO_NAME_MAX + 1];
    char sha256[65];
} wire_meta;

/* Builds the enrollment request body into out. labels (borrowed, may be NULL)
 * is an object of string → string; hostname may be NULL. */
rf_err wire_enroll_request(const char *hostname, const json_t *labels, rf_buf *out, rf_error *err);
/* Parses {"device_id", "token", …}; the token is copied into token. */
rf_err wire_enroll_answer(const char *body, size_t len, char device_id[PROTO_DEVICE_ID_LEN + 1],
                          char token[WIRE_TOKEN_MAX], rf_error *err);

/* Parses body as an envelope, verifies its signature with key and checks that
 * signed._type equals type. On RF_OK *root is a new reference (the caller
 * json_decref()s it) and *signed_obj a reference borrowed from it. A signature
 * that does not verify, or a missing one, is RF_ERR_VERIFY. */
rf_err wire_verify_envelope(const char *body, size_t len, const rf_key *key, const char *type,
                            json_t **root, json_t **signed_obj, rf_error *err);

/* Maps a verified assignment's signed object to out (device, counter, times,
 * channels). Semantic checks (device, counter, expiry) are proto's. */
rf_err wire_assignment_parse(const json_t *signed_obj, proto_assignment *out, rf_error *err);

/* Maps a verified bundle metadata's signed object to out. */
rf_err wire_meta_parse(const json_t *signed_obj, wire_meta *out, rf_error *err);
/* RF_OK when m describes exactly the bundle the assignment named for channel;
 * RF_ERR_VERIFY naming the first field that differs otherwise. */
rf_err wire_meta_check(const wire_meta *m, const char *channel, const proto_bundle *want,
                       rf_error *err);

/* The heartbeat body for seq (a new reference; NULL only on allocation
 * failure). uptime_s is the system's uptime. */
json_t *wire_heartbeat(const proto *p, int64_t seq, int64_t uptime_s, const char *agent_version);

/* Strict checks shared with the configuration: label keys [a-z0-9._-]{1,64},
 * label values of up to 128 printable ASCII characters. */
bool wire_label_key_valid(const char *k);
/* A device token: 1..WIRE_TOKEN_MAX-1 characters of [A-Za-z0-9_-]. */
bool wire_token_valid(const char *t);
bool wire_label_value_valid(const char *v);

#endif
