/* Webhooks: rollout events reach people. Two kinds of receivers, both
 * delivered by one thread per instance with the same JSON payload, retries
 * and delivery log (webhook_deliveries, migrations 0006 and 0008):
 * - environment URLs (RINGFENCE_WEBHOOK_URLS, comma-separated) get every
 *   rollout.halted and rollout.reverted event, signed under
 *   RINGFENCE_WEBHOOK_SECRET;
 * - webhooks made through the API (/v1/webhooks, api_webhooks.c) get the
 *   event kinds they chose, signed under their own secret, derived from the
 *   webhook master key (webhook_key.h).
 * The HMAC-SHA256 signature of the body is in X-Ringfence-Signature
 * ("sha256=<hex>"); failures are retried with exponential back-off. */
#ifndef RF_WEBHOOK_H
#define RF_WEBHOOK_H

#include "http.h"
#include "server.h"

#define WEBHOOK_MAX_URLS 8
#define WEBHOOK_MAX_ATTEMPTS 8
#define WEBHOOK_BACKOFF_MAX_S 300

/* The signature header's value for body under secret: "sha256=" and 64 hex
 * digits. Pure. */
void webhook_sign(const char *secret, const char *body, size_t len, char out[72]);
/* Seconds to wait after the attempts-th failed attempt: 2^(attempts-1),
 * at most WEBHOOK_BACKOFF_MAX_S. Pure. */
int webhook_backoff_s(int attempts);

/* Starts the delivery thread (webhooks may be created through the API at any
 * time, so it runs with or without environment URLs); stops it and wipes the
 * secret and the key it held. */
rf_err webhook_start(rf_server *srv);
void webhook_stop(rf_server *srv);
/* Makes the delivery thread look for due deliveries now (after a test
 * delivery was queued). Safe from any thread, and when it is not running. */
void webhook_wake(void);

/* api_webhooks.c — every /v1/webhooks route, admin only: GET|POST
 * /v1/webhooks, GET /v1/webhooks/deliveries, GET|PATCH|DELETE
 * /v1/webhooks/ID, GET /v1/webhooks/ID/deliveries, POST
 * /v1/webhooks/ID/test and POST /v1/webhooks/ID/rotate-secret. */
rf_http_result api_webhooks(rf_server *srv, rf_req *req, rf_resp *resp);

#endif
