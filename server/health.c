/* Exposure classification, silence and the halt decision (see health.h), and
 * the rollout policy that parameterises them. The rules are written once here
 * and used by heartbeat ingest and the evaluator alike. Nothing in this file
 * reads a clock or does I/O, and a failed device never becomes unfailed. */
#include "health.h"

#include <math.h>
#include <string.h>

static const char *const dev_state_names[HEALTH_DEV_NSTATES] = {
    "idle", "installing", "trial", "committed", "install_failed", "rolled_back", "verify_failed",
};
static const char *const failure_names[HEALTH_FAIL_N] = {
    "", "install_failed", "verify_failed", "rolled_back", "unclean_boot", "crash", "silent",
};

const char *health_dev_state_name(health_dev_state s)
{
    return (unsigned)s < HEALTH_DEV_NSTATES ? dev_state_names[s] : "unknown";
}

int health_dev_state_parse(const char *s, health_dev_state *out)
{
    for (int i = 0; s != NULL && i < HEALTH_DEV_NSTATES; i++)
        if (strcmp(dev_state_names[i], s) == 0) {
            *out = (health_dev_state)i;
            return 0;
        }
    return -1;
}

const char *health_failure_name(health_failure f)
{
    return (unsigned)f < HEALTH_FAIL_N ? failure_names[f] : "unknown";
}

int health_failure_parse(const char *s, health_failure *out)
{
    for (int i = 1; s != NULL && i < HEALTH_FAIL_N; i++)
        if (strcmp(failure_names[i], s) == 0) {
            *out = (health_failure)i;
            return 0;
        }
    return -1;
}

const char *health_on_halt_name(health_on_halt h)
{
    if (h == HEALTH_ON_HALT_PAUSE)
        return "pause";
    return h == HEALTH_ON_HALT_REVERT_STAGE ? "revert_stage" : "revert";
}

void health_policy_default(health_policy *p)
{
    p->max_failure_rate = 0.5;
    p->min_failed_devices = 1;
    p->on_halt = HEALTH_ON_HALT_REVERT;
    p->health_window_s = 30;
    p->silence_intervals = 3;
    p->alpha = 0.01;
    p->beta = 0.05;
    p->min_ratio = 2.0;
    p->require_not_harmful = 0;
}

static rf_err num_field(const json_t *v, const char *path, const char *key, double lo, double hi,
                        double *out, rf_error *err)
{
    double x = json_is_number(v) ? json_number_value(v) : -1.0;
    if (!json_is_number(v) || !isfinite(x) || x <= lo || x > hi)
        return rf_error_set(err, RF_ERR_INVALID,
                            "field '%s%s%s': must be a number greater than %g and at most %g", path,
                            *path ? "." : "", key, lo, hi);
    *out = x;
    return RF_OK;
}

static rf_err int_field(const json_t *v, const char *path, const char *key, long long lo,
                        long long hi, int *out, rf_error *err)
{
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return rf_error_set(err, RF_ERR_INVALID,
                            "field '%s%s%s': must be an integer from %lld to %lld", path,
                            *path ? "." : "", key, lo, hi);
    *out = (int)json_integer_value(v);
    return RF_OK;
}

static rf_err policy_field(const char *path, const char *key, const json_t *v, health_policy *p,
                           rf_error *err)
{
    const char *dot = *path ? "." : "";
    if (strcmp(key, "max_failure_rate") == 0) {
        double x = json_is_number(v) ? json_number_value(v) : -1.0;
        if (!json_is_number(v) || !isfinite(x) || x <= 0.0 || x > 1.0)
            return rf_error_set(err, RF_ERR_INVALID,
                                "field '%s%s%s': must be a number greater than 0 and at most 1",
                                path, dot, key);
        p->max_failure_rate = x;
        return RF_OK;
    }
    if (strcmp(key, "alpha") == 0)
        return num_field(v, path, key, 0.0, 0.5, &p->alpha, err);
    if (strcmp(key, "beta") == 0)
        return num_field(v, path, key, 0.0, 0.5, &p->beta, err);
    if (strcmp(key, "min_ratio") == 0)
        return num_field(v, path, key, 1.0, 100.0, &p->min_ratio, err);
    if (strcmp(key, "require_not_harmful") == 0) {
        if (!json_is_boolean(v))
            return rf_error_set(err, RF_ERR_INVALID, "field '%s%s%s': must be true or false", path,
                                dot, key);
        p->require_not_harmful = json_is_true(v);
        return RF_OK;
    }
    if (strcmp(key, "min_failed_devices") == 0)
        return int_field(v, path, key, 1, HEALTH_MAX_MIN_FAILED, &p->min_failed_devices, err);
    if (strcmp(key, "health_window_s") == 0)
        return int_field(v, path, key, 0, HEALTH_MAX_WINDOW_S, &p->health_window_s, err);
    if (strcmp(key, "silence_intervals") == 0)
        return int_field(v, path, key, 1, HEALTH_MAX_SILENCE_INTERVALS, &p->silence_intervals, err);
    if (strcmp(key, "on_halt") == 0) {
        const char *s = json_string_value(v);
        if (s != NULL && strcmp(s, "revert") == 0)
            p->on_halt = HEALTH_ON_HALT_REVERT;
        else if (s != NULL && strcmp(s, "pause") == 0)
            p->on_halt = HEALTH_ON_HALT_PAUSE;
        else if (s != NULL && strcmp(s, "revert_stage") == 0)
            p->on_halt = HEALTH_ON_HALT_REVERT_STAGE;
        else
            return rf_error_set(err, RF_ERR_INVALID,
                                "field '%s%s%s': must be \"revert\", \"revert_stage\" or "
                                "\"pause\"",
                                path, dot, key);
        return RF_OK;
    }
    return rf_error_set(err, RF_ERR_INVALID, "field '%s%s%.64s': unknown field", path, dot, key);
}

rf_err health_policy_parse(const json_t *obj, const char *path, health_policy *p, rf_error *err)
{
    if (path == NULL)
        path = "";
    if (obj == NULL || json_is_null(obj))
        return RF_OK;
    if (!json_is_object(obj))
        return rf_error_set(err, RF_ERR_INVALID, "field '%s': must be an object",
                            *path ? path : "policy");
    health_policy next = *p;
    const char *key;
    const json_t *v;
    /* jansson's iteration macro takes a non-const object; nothing is modified. */
    json_object_foreach((json_t *)obj, key, v)
    {
        rf_err rc = policy_field(path, key, v, &next, err);
        if (rc != RF_OK)
            return rc;
    }
    *p = next;
    return RF_OK;
}

json_t *health_policy_to_json(const health_policy *p)
{
    return json_pack("{s:f, s:i, s:s, s:i, s:i, s:f, s:f, s:f, s:b}", "max_failure_rate",
                     p->max_failure_rate, "min_failed_devices", p->min_failed_devices, "on_halt",
                     health_on_halt_name(p->on_halt), "health_window_s", p->health_window_s,
                     "silence_intervals", p->silence_intervals, "alpha", p->alpha, "beta", p->beta,
                     "min_ratio", p->min_ratio, "require_not_harmful", p->require_not_harmful != 0);
}

static int targets(long long bundle_id, const health_report *rep)
{
    return bundle_id > 0 && rep->target_bundle_id == bundle_id;
}

static int runs(long long bundle_id, const health_report *rep)
{
    return bundle_id > 0 && rep->bundle_id == bundle_id;
}

health_failure health_report_failure(long long bundle_id, const health_report *rep)
{
    if (targets(bundle_id, rep)) {
        if (rep->state == HEALTH_DEV_INSTALL_FAILED)
            return HEALTH_FAIL_INSTALL_FAILED;
        if (rep->state == HEALTH_DEV_VERIFY_FAILED)
            return HEALTH_FAIL_VERIFY_FAILED;
        if (rep->state == HEALTH_DEV_ROLLED_BACK)
            return HEALTH_FAIL_ROLLED_BACK;
    }
    if (runs(bundle_id, rep)) {
        if (rep->unclean_shutdowns > 0)
            return HEALTH_FAIL_UNCLEAN_BOOT;
        if (rep->crashes > 0)
            return HEALTH_FAIL_CRASH;
    }
    return HEALTH_FAIL_NONE;
}

int health_report_exposes(long long bundle_id, const health_report *rep)
{
    if (runs(bundle_id, rep))
        return 1;
    if (!targets(bundle_id, rep))
        return 0;
    return rep->state == HEALTH_DEV_INSTALLING ||
           health_report_failure(bundle_id, rep) != HEALTH_FAIL_NONE;
}

static int activates(long long bundle_id, const health_report *rep)
{
    return runs(bundle_id, rep) &&
           (rep->state == HEALTH_DEV_TRIAL || rep->state == HEALTH_DEV_COMMITTED);
}

unsigned health_observe(const health_policy *p, long long bundle_id, const health_report *rep,
                        int64_t now_s, health_exposure *ex)
{
    unsigned chg = 0;
    if (ex->failed_at != 0)
        return 0; /* once failed, stays failed with its first reason */
    if (!ex->exposed) {
        if (!health_report_exposes(bundle_id, rep))
            return 0;
        ex->exposed = 1;
        ex->exposed_at = now_s;
        chg |= HEALTH_CHG_EXPOSED;
    }
    if (ex->activated_at == 0 && activates(bundle_id, rep)) {
        ex->activated_at = now_s;
        chg |= HEALTH_CHG_ACTIVATED;
    }
    health_failure f = health_report_failure(bundle_id, rep);
    if (f != HEALTH_FAIL_NONE) {
        ex->failed_at = now_s;
        ex->failure = f;
        return chg | HEALTH_CHG_FAILED;
    }
    if (ex->healthy_at == 0 && ex->activated_at != 0 && activates(bundle_id, rep) &&
        now_s - ex->activated_at >= (int64_t)p->health_window_s) {
        ex->healthy_at = now_s;
        chg |= HEALTH_CHG_HEALTHY;
    }
    return chg;
}

int health_is_silent(const health_policy *p, const health_exposure *ex, int64_t last_seen_s,
                     int interval_s, int64_t now_s)
{
    if (!ex->exposed || ex->failed_at != 0 || ex->healthy_at != 0)
        return 0;
    int64_t last = last_seen_s > ex->exposed_at ? last_seen_s : ex->exposed_at;
    int64_t allowed = (int64_t)p->silence_intervals * (int64_t)(interval_s < 1 ? 1 : interval_s);
    return now_s - last > allowed;
}

unsigned health_check_silence(const health_policy *p, health_exposure *ex, int64_t last_seen_s,
                              int interval_s, int64_t now_s)
{
    if (!health_is_silent(p, ex, last_seen_s, interval_s, now_s))
        return 0;
    ex->failed_at = now_s;
    ex->failure = HEALTH_FAIL_SILENT;
    return HEALTH_CHG_FAILED;
}

double health_failure_rate(long long exposed, long long failed)
{
    return exposed > 0 ? (double)failed / (double)exposed : 0.0;
}

int health_should_halt(const health_policy *p, long long exposed, long long failed)
{
    if (exposed <= 0 || failed < (long long)p->min_failed_devices)
        return 0;
    return health_failure_rate(exposed, failed) >= p->max_failure_rate;
}

int64_t health_control_since(int64_t stage_started_s, int64_t first_exposed_s, int64_t now_s)
{
    int64_t since = stage_started_s;
    if (stage_started_s <= 0)
        return now_s;
    if (first_exposed_s > since)
        since = first_exposed_s;
    return since < now_s ? since : now_s;
}
