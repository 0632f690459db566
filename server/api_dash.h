/* Helpers the dashboard work adds to existing list and fleet handlers
 * (api_fleet.c, api_page.c), kept apart so the handlers change by one call. */
#ifndef RF_API_DASH_H
#define RF_API_DASH_H

#include "server.h"

/* ---- the fleet summary (api_fleet.c) ---- */

/* A device's health on one channel from what it reports: "failed" (a failed
 * or rolled-back install, or crashes, unclean shutdowns or local rollbacks
 * since its bundle was activated), "installing", "trial" (activated, within
 * its health window), "healthy" (committed), or "none" (no bundle). Pure. */
const char *fleet_health_of(const char *state, long long bundle_id, long long crashes,
                            long long unclean_shutdowns, long long local_rollbacks);

/* Adds to the GET /v1/fleet answer `fleet` (borrowed, changed): "offline"
 * (devices - online) and "groups", devices counted per ring × channel ×
 * bundle × health, online and offline:
 * [{"ring", "ring_id", "channel", "bundle_id", "version", "health", "devices",
 *   "online", "offline"}], ordered by ring order, channel, bundle, health. */
rf_err api_fleet_add_groups(rf_db *db, json_t *fleet, rf_error *err);

/* ---- list pagination and filters (api_page.c); rings are few and are not
 * paged ---- */

typedef enum api_page_kind {
    API_PAGE_DEVICES = 0, /* key "id" ascending */
    API_PAGE_ROLLOUTS,    /* key "id" descending (newest first) */
    API_PAGE_BUNDLES,     /* key "id" descending */
} api_page_kind;

/* Filters and pages a list answer in place. items (borrowed) is the full
 * list the handler built, in its order; the query parameters of req select
 * from it (filters per kind, see docs/api.md "Lists: pagination and
 * filters") and `limit` / `cursor` cut one page. On RF_OK *out is a new
 * reference to the page (an array) and *next a malloc'd cursor for the next
 * page, or NULL on the last page. RF_ERR_INVALID names a bad parameter. The
 * db is used only to resolve `version` to bundle ids. */
rf_err api_page_apply(rf_db *db, const rf_req *req, api_page_kind kind, json_t *items, json_t **out,
                      char **next, rf_error *err);

/* Convenience for handlers: answers 200 with {"<name>": page, "next": cursor}
 * from the full list items (stolen), or the error. */
void api_page_answer(rf_db *db, const rf_req *req, rf_resp *resp, api_page_kind kind,
                     const char *name, json_t *items);

#endif
