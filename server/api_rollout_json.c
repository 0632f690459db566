/* The rollout as JSON: every field of the rollout object in docs/api.md,
 * the gates of the current stage with what each waits for, the one sentence
 * that says what happens next, and the holds of its channel. It reads the
 * database only in api_rollout_current; it decides nothing (plan.c does). */
#include "api_rollout.h"
#include "stage_series.h"
#include "store_hold.h"
#include "rf_util.h"

#include <stdlib.h>
#include <string.h>

static json_t *time_or_null(int64_t s)
{
    char iso[32];
    if (s <= 0)
        return json_null();
    rf_time_iso(s, iso);
    return json_string(iso);
}

static json_t *id_or_null(long long id)
{
    return id > 0 ? json_integer(id) : json_null();
}

static json_t *stage_json(const store_rollout *r, int i)
{
    const rollout_stage *s = &r->sm.stages[i];
    const store_stage_info *in = &r->info[i];
    json_t *j = json_pack(
        "{s:i, s:I, s:s, s:s, s:o, s:i, s:i, s:i, s:f, s:b, s:b, s:o, s:o}", "index", i, "ring_id",
        (json_int_t)s->ring_id, "ring", in->ring_name, "state", stage_state_name(s->state),
        "started", time_or_null(s->started_s), "percent", s->percent > 0 ? s->percent : 100,
        "bake_s", s->bake_s, "min_healthy", s->min_healthy, "max_failure_rate",
        plan_stage_max_failure_rate(s, r->policy.max_failure_rate), "auto_promote", s->auto_promote,
        "require_approval", s->require_approval, "approved_by",
        in->approved_by[0] ? json_string(in->approved_by) : json_null(), "approved_at",
        time_or_null(in->approved_s));
    if (j == NULL)
        return NULL;
    json_object_set_new(j, "window_open",
                        in->devices >= 0 ? json_boolean(in->window_open) : json_null());
    json_object_set_new(j, "exposed", json_integer(in->counts.exposed));
    json_object_set_new(j, "healthy", json_integer(in->counts.healthy));
    json_object_set_new(j, "failed", json_integer(in->counts.failed));
    json_object_set_new(j, "silent", json_integer(in->counts.silent));
    json_object_set_new(j, "devices", json_integer(in->devices > 0 ? in->devices : 0));
    return j;
}

/* The one sentence of "next". */
static void next_sentence(const store_rollout *r, int pass, char *buf, size_t n)
{
    int s = r->sm.stage, last = s + 1 >= r->sm.nstages;
    const char *nring = !last && s >= 0 ? r->info[s + 1].ring_name : "";
    switch (r->sm.state) {
    case ROLLOUT_DRAFT:
        rf_snprintf(buf, n, "draft: start it to reach stage 0 (ring '%s')",
                    r->sm.nstages > 0 ? r->info[0].ring_name : "");
        return;
    case ROLLOUT_PAUSED:
        rf_snprintf(buf, n, "paused: resume to continue (halts still apply)");
        return;
    case ROLLOUT_HALTED:
        rf_snprintf(buf, n, "halted: revert (abort) to send exposed devices back");
        return;
    case ROLLOUT_REVERTED:
    case ROLLOUT_COMPLETED:
        rf_snprintf(buf, n, "nothing: the rollout is %s", rollout_state_name(r->sm.state));
        return;
    case ROLLOUT_ACTIVE:
        break;
    }
    const rollout_stage *cur = s >= 0 && s < r->sm.nstages ? &r->sm.stages[s] : NULL;
    char target[100];
    if (last)
        rf_snprintf(target, sizeof(target), "completion");
    else
        rf_snprintf(target, sizeof(target), "stage %d (ring '%s')", s + 1, nring);
    if (cur != NULL && cur->auto_promote)
        rf_snprintf(buf, n, "%s %s", pass ? "about to promote to" : "promotes itself to", target);
    else if (cur != NULL && cur->require_approval && !cur->approved)
        rf_snprintf(buf, n, "waiting for an approval, then for a release engineer to promote to %s",
                    target);
    else
        rf_snprintf(buf, n, "waiting for a release engineer to promote to %s%s", target,
                    pass ? " (every gate passes)" : "");
    if (cur != NULL && cur->auto_promote && !pass) {
        size_t len = strlen(buf);
        rf_snprintf(buf + len, n - len, " once every gate passes");
    }
}

json_t *api_rollout_json(const store_rollout *r, const json_t *holds)
{
    plan_gate g[PLAN_MAX_GATES];
    char next[256];
    int ng = store_rollout_gates(r, g);
    next_sentence(r, plan_gates_pass(g, ng), next, sizeof(next));
    json_t *stages = json_array();
    for (int i = 0; stages != NULL && i < r->sm.nstages; i++)
        json_array_append_new(stages, stage_json(r, i));
    json_t *j = json_pack(
        "{s:I, s:I, s:s, s:s, s:i, s:o, s:o, s:s, s:o, s:o, s:i, s:s, s:o, s:o, s:o}", "id",
        (json_int_t)r->id, "bundle_id", (json_int_t)r->bundle_id, "channel", r->channel, "state",
        rollout_state_name(r->sm.state), "stage", r->sm.stage, "previous_bundle_id",
        id_or_null(r->previous_bundle_id), "created", time_or_null(r->created_s), "created_by",
        r->created_by, "started", time_or_null(r->started_s), "updated", time_or_null(r->updated_s),
        "version", r->version, "salt", r->salt, "policy", health_policy_to_json(&r->policy),
        "stages", stages, "halt", r->halt ? json_incref(r->halt) : json_null());
    if (j == NULL)
        return NULL;
    json_object_set_new(j, "gates", store_rollout_gates_json(g, ng));
    json_object_set_new(j, "next", json_string(next));
    json_object_set_new(j, "holds", holds ? json_deep_copy(holds) : json_null());
    return j;
}

json_t *api_rollout_health_json(const store_rollout *r, json_t *failures)
{
    json_t *stages = json_array();
    for (int i = 0; stages != NULL && i < r->sm.nstages; i++) {
        const health_counts *c = &r->info[i].counts;
        health_policy p = r->policy;
        p.max_failure_rate = plan_stage_max_failure_rate(&r->sm.stages[i], p.max_failure_rate);
        json_array_append_new(
            stages,
            json_pack("{s:i, s:s, s:s, s:I, s:I, s:I, s:I, s:f, s:f, s:i, s:b}", "index", i, "ring",
                      r->info[i].ring_name, "state", stage_state_name(r->sm.stages[i].state),
                      "exposed", (json_int_t)c->exposed, "healthy", (json_int_t)c->healthy,
                      "failed", (json_int_t)c->failed, "silent", (json_int_t)c->silent,
                      "failure_rate", health_failure_rate(c->exposed, c->failed),
                      "max_failure_rate", p.max_failure_rate, "min_failed_devices",
                      p.min_failed_devices, "would_halt",
                      health_should_halt(&p, c->exposed, c->failed)));
    }
    return json_pack("{s:I, s:s, s:i, s:o, s:o, s:o}", "rollout_id", (json_int_t)r->id, "state",
                     rollout_state_name(r->sm.state), "stage", r->sm.stage, "policy",
                     health_policy_to_json(&r->policy), "stages", stages, "failures", failures);
}

void api_rollout_health_add_stats(json_t *health, const store_rollout *r, json_t *points)
{
    json_t *stages = json_object_get(health, "stages");
    for (int i = 0; i < r->sm.nstages && (size_t)i < json_array_size(stages); i++) {
        json_t *stage = json_array_get(stages, (size_t)i);
        json_t *pts;
        char key[12];
        health_stat st;
        stage_series_stat(r, i, r->info[i].control_devices, r->info[i].control_failed, &st);
        json_object_set_new(stage, "statistics", health_stat_to_json(&st));
        json_object_set_new(stage, "would_halt", json_boolean(health_verdict_halts(st.verdict)));
        rf_snprintf(key, sizeof(key), "%d", i);
        pts = json_object_get(points, key);
        json_object_set_new(stage, "series", pts ? json_incref(pts) : json_array());
    }
}

json_t *api_rollout_with_holds(rf_db *db, const store_rollout *r)
{
    json_t *pins = NULL, *excl = NULL, *out = NULL;
    rf_err rc = store_hold_pins(db, r->channel, NULL, 0, &pins, NULL);
    if (rc == RF_OK)
        rc = store_hold_exclusions(db, NULL, &excl, NULL);
    if (rc == RF_OK) {
        json_t *holds = json_pack("{s:o, s:o}", "pins", pins, "exclusions", excl);
        pins = excl = NULL;
        out = api_rollout_json(r, holds);
        json_decref(holds);
    }
    json_decref(pins);
    json_decref(excl);
    return out;
}

json_t *api_rollout_current(rf_db *db, long long id)
{
    store_rollout *r = calloc(1, sizeof(*r));
    json_t *out = NULL;
    rf_err rc = r ? store_rollout_get(db, id, 0, r, NULL) : RF_ERR_NOMEM;
    if (rc == RF_OK)
        rc = store_rollout_fill_counts(db, r, 1, 1, NULL);
    if (rc == RF_OK)
        out = api_rollout_with_holds(db, r);
    store_rollout_cleanup(r);
    free(r);
    return out;
}
