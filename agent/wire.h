/* wire: the agent's JSON on the wire, mapped to and from the plain structs of
 * proto.h — enrollment, signed assignments, TUF target paths and the heartbeat
 * body (shapes from docs/api.md). Pure functions: no I/O, no clock. Every
 * parser of outside input is strict and bounded and names the offending field
 * in its error; assignments are parsed only after rf_tuf_assignment_verify
 * checked them against the director keys of the trusted root. */
#ifndef AGENT_WIRE_H
#define AGENT_WIRE_H

#include "proto.h"
#include "rf_buf.h"
#include "rf_err.h"
#include <jansson.h>

#define WIRE_TOKEN_MAX 256

/* A TUF target path "<channel>/<name>-<version>" fits in this many bytes. */
#define WIRE_TARGET_PATH_MAX (3 * PROTO_NAME_MAX + 3)

/* Builds the enrollment request body into out. labels (borrowed, may be NULL)
 * is an object of string → string; hostname may be NULL. */
rf_err wire_enroll_request(const char *hostname, const json_t *labels, rf_buf *out, rf_error *err);
/* Parses {"device_id", "token", …}; the token is copied into token. */
rf_err wire_enroll_answer(const char *body, size_t len, char device_id[PROTO_DEVICE_ID_LEN + 1],
                          char token[WIRE_TOKEN_MAX], rf_error *err);

/* Maps a verified assignment's signed object to out (device, counter, times,
 * channels). A channel naming a bundle must carry its "target", equal to
 * wire_target_path of its channel, name and version. Semantic checks (device,
 * counter, expiry) are proto's. */
rf_err wire_assignment_parse(const json_t *signed_obj, proto_assignment *out, rf_error *err);

/* The TUF target path of bundle b on channel: "<channel>/<name>-<version>". */
rf_err wire_target_path(const char *channel, const proto_bundle *b, char *out, size_t len);

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
