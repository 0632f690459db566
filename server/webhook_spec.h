/* What an admin may say about a webhook (webhook_spec.c): the body of
 * POST /v1/webhooks and PATCH /v1/webhooks/ID checked field by field, the
 * URL rules, the event kinds a webhook may subscribe to, and the URL as the
 * audit trail shows it (without its path and query, which often carry a
 * receiver's own secret). Pure: no I/O. Every refusal is RF_ERR_INVALID with a
 * message naming the field and saying why. */
#ifndef RF_WEBHOOK_SPEC_H
#define RF_WEBHOOK_SPEC_H

#include "rf_err.h"
#include <jansson.h>

#define WEBHOOK_URL_MAX 512         /* bytes */
#define WEBHOOK_DESCRIPTION_MAX 200 /* bytes of printable UTF-8 */
#define WEBHOOK_MAX_EVENTS 16       /* kinds in one filter */
#define WEBHOOK_MAX_HOOKS 64        /* webhooks in all */
#define WEBHOOK_REDACTED_MAX (WEBHOOK_URL_MAX + 8)

/* What a body sets. For a PATCH, has_* say which fields it carries; a POST
 * gets the defaults for the others (events: rollout.halted and
 * rollout.reverted; description ""; enabled true). */
typedef struct webhook_spec {
    int has_url, has_events, has_description, has_enabled;
    char url[WEBHOOK_URL_MAX + 1];
    const char *events[WEBHOOK_MAX_EVENTS]; /* static strings, sorted, distinct */
    int nevents;
    char description[WEBHOOK_DESCRIPTION_MAX + 1];
    int enabled;
} webhook_spec;

/* The kinds a webhook may subscribe to (NULL-terminated, static). */
extern const char *const webhook_event_kinds[];

/* Checks one URL: http:// or https://, 1-512 bytes of visible ASCII, a host
 * (name, IPv4 or [IPv6]) and optional port 1-65535, no user or password, no
 * fragment. */
rf_err webhook_url_check(const char *field, const char *url, rf_error *err);

/* Parses body (borrowed; a JSON object) into *out. create: "url" is required
 * and defaults fill the rest; otherwise (a PATCH) at least one field must be
 * present. Unknown fields, wrong types and bad values are refused. */
rf_err webhook_spec_parse(const json_t *body, int create, webhook_spec *out, rf_error *err);

/* The events of spec as a PostgreSQL text[] literal ("{a,b}") into out. */
void webhook_spec_events_literal(const webhook_spec *spec, char *out, size_t n);

/* The URL as events show it: scheme, host and port, then "/…" when the URL
 * has a path or query beyond "/". out must hold WEBHOOK_REDACTED_MAX bytes. */
void webhook_url_redact(const char *url, char *out, size_t n);

#endif
