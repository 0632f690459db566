/* Webhooks in the database (store_webhook.c; tables webhooks and
 * webhook_deliveries of migrations 0006 and 0008): the admin routes' named
 * queries. Every change runs in one transaction with its audit event
 * (webhook.created|updated|deleted|secret_rotated, actor, data.before and
 * data.after with the URL shown as webhook_url_redact shows it), under a row
 * lock with the version checked. No secret is ever stored or returned here. */
#ifndef RF_STORE_WEBHOOK_H
#define RF_STORE_WEBHOOK_H

#include "store.h"
#include "webhook_spec.h"

/* Webhook object (new reference): {"id", "url", "events", "description",
 * "enabled", "secret_generation", "version", "created", "created_by",
 * "updated", "updated_by"}. */

/* Creates a webhook from spec (defaults filled) whose secret key_id's master
 * key derives; *out gets the object, *id its id. RF_ERR_CONFLICT when the URL
 * has a webhook already or WEBHOOK_MAX_HOOKS exist. */
rf_err store_webhook_create(rf_db *db, const webhook_spec *spec, const char *key_id,
                            const char *actor, json_t **out, long long *id, rf_error *err);

/* One webhook; RF_ERR_NOT_FOUND naming it. */
rf_err store_webhook_get(rf_db *db, long long id, json_t **out, rf_error *err);

/* Webhooks with id > after_id, oldest first, at most limit (0: all);
 * *more tells whether more follow. *out is a new array. */
rf_err store_webhook_list(rf_db *db, long long after_id, int limit, json_t **out, int *more,
                          rf_error *err);

/* Applies the fields spec has (has_*) to webhook id at expect_version (-1:
 * any). Disabling cancels its pending deliveries; enabling again starts
 * from the events recorded after that moment. RF_ERR_CONFLICT for a moved
 * version (*current gets the webhook as it is, else NULL) or a URL another
 * webhook has. */
rf_err store_webhook_update(rf_db *db, long long id, const webhook_spec *spec, int expect_version,
                            const char *actor, json_t **out, json_t **current, rf_error *err);

/* Deletes webhook id at expect_version and cancels its pending deliveries
 * (the log keeps them); *out gets the object as it was. */
rf_err store_webhook_delete(rf_db *db, long long id, int expect_version, const char *actor,
                            json_t **out, json_t **current, rf_error *err);

/* Bumps webhook id's secret generation and binds it to the master key
 * key_id; *generation gets the new generation. */
rf_err store_webhook_rotate(rf_db *db, long long id, const char *key_id, int expect_version,
                            const char *actor, json_t **out, int *generation, json_t **current,
                            rf_error *err);

/* Records a webhook.test event by actor and queues its delivery to webhook
 * id only; *out gets the delivery object. RF_ERR_CONFLICT when the webhook is
 * disabled. */
rf_err store_webhook_test(rf_db *db, long long id, const char *actor, json_t **out, rf_error *err);

/* The delivery log, newest first: deliveries of webhook_id (0: every
 * delivery, environment URLs' too), in state (NULL: any) with id <
 * before_id (0: from the newest), at most limit; *more tells whether more
 * follow. Delivery object: {"id", "webhook_id", "url", "event_id", "kind",
 * "state", "attempts", "last_status", "last_error", "created_at",
 * "delivered_at", "next_attempt_at"}. */
rf_err store_webhook_deliveries(rf_db *db, long long webhook_id, const char *state,
                                long long before_id, int limit, json_t **out, int *more,
                                rf_error *err);

#endif
