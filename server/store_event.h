/* Reading the event timeline (store_event.c); appending is store_event_add in
 * store.h. */
#ifndef RF_STORE_EVENT_H
#define RF_STORE_EVENT_H

#include "store.h"

/* Events with id > after, oldest first, at most limit; only those of
 * rollout_id when it is > 0. *out is a new reference to an array of
 * {"id", "at", "kind", "actor", "rollout_id", "device_id", "data"}. */
rf_err store_event_list(rf_db *db, long long after, int limit, long long rollout_id, json_t **out,
                        rf_error *err);

#endif
