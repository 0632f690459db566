/* Plan stages to and from JSON (see plan_json.h). Only shapes and ranges are
 * checked here; whether a plan visits every ring is plan_validate's call,
 * once the rings are known. */
#include "plan_json.h"
#include "rf_util.h"
#include "validate.h"

#include <string.h>

#define MAX_ID 9007199254740992LL

static const char *const stage_fields[] = {
    "ring_id",          "ring",         "percent",          "bake_s", "min_healthy",
    "max_failure_rate", "auto_promote", "require_approval", NULL};

static rf_err opt_bool(const json_t *v, int i, const char *name, int *out, rf_error *err)
{
    const json_t *b = json_object_get(v, name);
    if (b == NULL)
        return RF_OK;
    if (!json_is_boolean(b))
        return rf_error_set(err, RF_ERR_INVALID, "field 'stages[%d].%s': must be true or false", i,
                            name);
    *out = json_is_true(b);
    return RF_OK;
}

static rf_err opt_int(const json_t *v, int i, const char *name, long long lo, long long hi,
                      int *out, rf_error *err)
{
    char f[64];
    long long x = 0;
    const json_t *n = json_object_get(v, name);
    if (n == NULL)
        return RF_OK;
    rf_snprintf(f, sizeof(f), "stages[%d].%s", i, name);
    rf_err rc = validate_int(f, n, lo, hi, &x, err);
    if (rc == RF_OK)
        *out = (int)x;
    return rc;
}

static rf_err ring_ref(const json_t *v, int i, plan_stage *out, rf_error *err)
{
    const json_t *id = json_object_get(v, "ring_id"), *name = json_object_get(v, "ring");
    char f[64];
    if (json_is_null(id))
        id = NULL;
    if (json_is_null(name))
        name = NULL;
    if (id == NULL && name == NULL)
        return rf_error_set(err, RF_ERR_INVALID,
                            "field 'stages[%d]': give the ring as 'ring_id' or as 'ring' (its "
                            "name)",
                            i);
    if (id != NULL) {
        rf_snprintf(f, sizeof(f), "stages[%d].ring_id", i);
        rf_err rc = validate_int(f, id, 1, MAX_ID, &out->ring_id, err);
        if (rc != RF_OK || name == NULL)
            return rc;
    }
    rf_snprintf(f, sizeof(f), "stages[%d].ring", i);
    if (!json_is_string(name))
        return rf_error_set(err, RF_ERR_INVALID, "field '%s': must be a ring name", f);
    rf_err rc = validate_slug(f, json_string_value(name), err);
    if (rc == RF_OK)
        rf_snprintf(out->ring_name, sizeof(out->ring_name), "%s", json_string_value(name));
    return rc;
}

rf_err plan_stage_from_json(const json_t *v, int i, plan_stage *out, rf_error *err)
{
    const char *key;
    json_t *val;
    plan_stage_default(out);
    if (!json_is_object(v))
        return rf_error_set(err, RF_ERR_INVALID, "field 'stages[%d]': must be an object", i);
    json_object_foreach((json_t *)v, key, val)
    {
        int known = 0;
        (void)val;
        for (int k = 0; stage_fields[k] != NULL; k++)
            known |= strcmp(key, stage_fields[k]) == 0;
        if (!known)
            return rf_error_set(err, RF_ERR_INVALID, "field 'stages[%d].%.64s': unknown field", i,
                                key);
    }
    rf_err rc = ring_ref(v, i, out, err);
    if (rc == RF_OK)
        rc = opt_int(v, i, "percent", 1, 100, &out->percent, err);
    if (rc == RF_OK)
        rc = opt_int(v, i, "bake_s", 0, ROLLOUT_MAX_BAKE_S, &out->bake_s, err);
    if (rc == RF_OK)
        rc = opt_int(v, i, "min_healthy", 0, PLAN_MAX_MIN_HEALTHY, &out->min_healthy, err);
    if (rc == RF_OK)
        rc = opt_bool(v, i, "auto_promote", &out->auto_promote, err);
    if (rc == RF_OK)
        rc = opt_bool(v, i, "require_approval", &out->require_approval, err);
    const json_t *m = json_object_get(v, "max_failure_rate");
    if (rc == RF_OK && m != NULL && !json_is_null(m)) {
        double x = json_is_number(m) ? json_number_value(m) : -1.0;
        if (!(x > 0.0 && x <= 1.0))
            return rf_error_set(err, RF_ERR_INVALID,
                                "field 'stages[%d].max_failure_rate': must be a number in (0, 1] "
                                "or null",
                                i);
        out->max_failure_rate = x;
    }
    return rc;
}

rf_err plan_stages_from_json(const json_t *arr, plan_stage *out, int *n, rf_error *err)
{
    *n = 0;
    if (!json_is_array(arr) || json_array_size(arr) == 0 ||
        json_array_size(arr) > ROLLOUT_MAX_STAGES)
        return rf_error_set(err, RF_ERR_INVALID, "field 'stages': must be a list of 1-%d stages",
                            ROLLOUT_MAX_STAGES);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        rf_err rc = plan_stage_from_json(json_array_get(arr, i), (int)i, &out[i], err);
        if (rc != RF_OK)
            return rc;
    }
    *n = (int)json_array_size(arr);
    return RF_OK;
}

json_t *plan_stage_to_json(const plan_stage *s)
{
    return json_pack("{s:I, s:o, s:i, s:i, s:i, s:o, s:b, s:b}", "ring_id", (json_int_t)s->ring_id,
                     "ring", s->ring_name[0] ? json_string(s->ring_name) : json_null(), "percent",
                     s->percent, "bake_s", s->bake_s, "min_healthy", s->min_healthy,
                     "max_failure_rate",
                     s->max_failure_rate > 0.0 ? json_real(s->max_failure_rate) : json_null(),
                     "auto_promote", s->auto_promote, "require_approval", s->require_approval);
}

json_t *plan_stages_to_json(const plan_stage *s, int n)
{
    json_t *arr = json_array();
    for (int i = 0; arr != NULL && i < n; i++)
        if (json_array_append_new(arr, plan_stage_to_json(&s[i])) != 0) {
            json_decref(arr);
            return NULL;
        }
    return arr;
}
