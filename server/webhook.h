/* Webhooks: halts and reverts reach people. Every rollout.halted and
 * rollout.reverted event is POSTed as JSON to each configured URL
 * (RINGFENCE_WEBHOOK_URLS, comma-separated) with an HMAC-SHA256 signature of
 * the body under RINGFENCE_WEBHOOK_SECRET in X-Ringfence-Signature
 * ("sha256=<hex>"); failures are retried with exponential back-off and every
 * attempt is logged in webhook_deliveries (migration 0006). */
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

/* Starts the delivery thread when URLs are configured (otherwise does
 * nothing); stops it. */
rf_err webhook_start(rf_server *srv);
void webhook_stop(rf_server *srv);

/* GET /v1/webhooks/deliveries — admin: the newest 100 deliveries. */
rf_http_result api_webhook_deliveries(rf_server *srv, rf_req *req, rf_resp *resp);

#endif
