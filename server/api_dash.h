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
    API_PAGE_WEBHOOKS,    /* key "id" ascending */
    API_PAGE_DELIVERIES,  /* webhook deliveries: key "id" descending; filter state */
} api_page_kind;

#define API_PAGE_KEY_MAX 64

/* The filters and the page a list request asks for (see docs/api.md "Lists:
 * pagination and filters"), checked, for the handler to pass to its store
 * query: the handler reads one page (limit + 1 rows after the cursor) and
 * does its per-item work for that page only. */
typedef struct api_page_query {
    const char *channel, *state, *ring, *version; /* borrowed from the request; NULL: any */
    long long bundle_id;                          /* 0: any */
    long long ring_id;                            /* `ring` read as an id; 0 when it is not one */
    int online;                                   /* -1: any; else 0 or 1 */
    char *labels;                  /* malloc'd JSON object the labels must contain; NULL: any */
    int match_none;                /* the filters contradict each other: the page is empty */
    long long limit;               /* 0: the whole list */
    char cursor[API_PAGE_KEY_MAX]; /* key of the last item already shown; "": none */
    long long cursor_id;           /* cursor as an id (rollouts, bundles); 0: none */
} api_page_query;

/* Parses and checks the list parameters of req for a list of kind into *q
 * (cleaned up with api_page_query_cleanup, also on failure). RF_ERR_INVALID
 * names a bad parameter. */
rf_err api_page_parse(const rf_req *req, api_page_kind kind, api_page_query *q, rf_error *err);
void api_page_query_cleanup(api_page_query *q); /* NULL-safe */

/* 1 when a device's ring now (name, may be NULL; id, 0 for none) matches
 * q's ring filter (or there is none). Pure. */
int api_page_ring_matches(const api_page_query *q, const char *ring, long long ring_id);

/* Answers 200 with {"<name>": page, "next": cursor}: page (stolen) is the
 * page, last_key the key of its last item when another page follows (NULL:
 * this is the last page). */
void api_page_reply(rf_resp *resp, api_page_kind kind, const char *name, json_t *page,
                    const char *last_key);

#endif
