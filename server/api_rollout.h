/* The rollout object of docs/api.md as JSON (api_rollout_json.c), shared by
 * the rollout routes. Only api_*.c include it. */
#ifndef RF_API_ROLLOUT_H
#define RF_API_ROLLOUT_H

#include "store_rollout.h"

/* The rollout object (new reference): its fields, stages with their plan and
 * figures, the gates of the current stage, the sentence "next", and holds
 * (borrowed: {"pins": [...], "exclusions": [...]}; NULL shows null, as lists
 * do). */
json_t *api_rollout_json(const store_rollout *r, const json_t *holds);

/* The health answer (new reference); failures is stolen. */
json_t *api_rollout_health_json(const store_rollout *r, json_t *failures);
/* Adds to each stage of a health object (from api_rollout_health_json) the
 * sequential test against the stage's control as r->info[] holds it
 * (store_series_control): "statistics", and "would_halt" from it; and its
 * time series ("series": the stage's points from points, an object stage
 * index → array, borrowed; NULL for none). */
void api_rollout_health_add_stats(json_t *health, const store_rollout *r, json_t *points);

/* The rollout object of r (read with its figures) with the holds of its
 * channel, read now; NULL on any failure. New reference. */
json_t *api_rollout_with_holds(rf_db *db, const store_rollout *r);

/* Reads rollout id with its figures and holds into a new JSON object;
 * NULL on any failure (for the "current" of a conflict). */
json_t *api_rollout_current(rf_db *db, long long id);

#endif
