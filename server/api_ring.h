/* Shared by the ring routes (api_rings.c) and the ring preview
 * (api_ring_preview.c): reading a ring body, the rule that keeps live
 * rollouts' rings still, and counting devices per ring. Only api_ring*.c
 * include it. */
#ifndef RF_API_RING_H
#define RF_API_RING_H

#include "server.h"
#include "ring_index.h"
#include "store_ring.h"

/* Parses and checks a POST/PUT body (or one ring of a preview, whose
 * fields are named under `path`, "" for a plain body) into *g (labels,
 * members and windows: new references). allow_id accepts an "id" field
 * (previews), stored in g->id. */
rf_err api_ring_parse(const json_t *body, const char *path, int allow_id, store_ring *g,
                      rf_error *err);

/* Whether saving the change have → want would be refused now because of a
 * live rollout: have NULL for a new ring, want NULL for a deletion.
 * RF_ERR_CONFLICT with the reason; RF_OK when it may be saved. */
rf_err api_ring_save_check(rf_db *db, const store_ring *have, const store_ring *want,
                           rf_error *err);

/* counts[i] = devices whose first selecting ring is ix->rings.items[i]
 * (counts has ix->rings.n entries); *unassigned: devices no ring selects. */
rf_err api_ring_counts(rf_db *db, const ring_index *ix, long long *counts, long long *unassigned,
                       rf_error *err);

/* The ring object of docs/api.md (new reference); live_rollouts borrowed
 * (NULL: []), now_s for window_open. */
json_t *api_ring_json(const store_ring *g, long long devices, const json_t *live_rollouts,
                      int64_t now_s);

/* POST /v1/rings/preview (role already checked): what a candidate ring set
 * or one ring change would hold, nothing saved. */
void api_ring_preview(rf_req *req, rf_resp *resp, rf_db *db);

#endif
