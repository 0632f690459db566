/* Plan stages as JSON (plan_json.c): reading a stage a client sent or a
 * channel plan stored in the database, and writing one back. Shared by the
 * route files and the store, which keeps channel plans as JSON. Every
 * refusal names the field ("field 'stages[2].percent': …"). */
#ifndef RF_PLAN_JSON_H
#define RF_PLAN_JSON_H

#include "plan.h"

#include <jansson.h>

/* Reads stages[i] (borrowed v) into *out, starting from plan_stage_default.
 * The ring is "ring_id" (an integer) or "ring" (a name), or both (they must
 * then agree: store_plan_resolve checks); other fields are those of
 * docs/api.md; max_failure_rate may be null (the policy's). */
rf_err plan_stage_from_json(const json_t *v, int i, plan_stage *out, rf_error *err);
/* Reads a "stages" array of 1..ROLLOUT_MAX_STAGES stages into out[]. */
rf_err plan_stages_from_json(const json_t *arr, plan_stage *out, int *n, rf_error *err);
/* A stage as JSON (new reference): ring_id, ring (ring_name, or null when
 * empty), percent, bake_s, min_healthy, max_failure_rate (null when 0),
 * auto_promote, require_approval. */
json_t *plan_stage_to_json(const plan_stage *s);
json_t *plan_stages_to_json(const plan_stage *s, int n); /* new reference */

#endif
