/* Loads a fleet simulator scenario file (JSON): the rings with their sizes,
 * enrollment labels and poll periods, the failure mode of each named bundle version, the
 * background failure rate, an offline window and the speed-up (heartbeat and
 * poll periods). Strict: unknown modes and out-of-range numbers are refused
 * with the offending field named. It never touches the network. */
#include "rf_util.h"
#include "sim.h"

#include <string.h>

static double num(const json_t *o, const char *key, double dflt)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : dflt;
}

static rf_err load_rings(const json_t *arr, sim_scenario *s, rf_error *err)
{
    size_t i;
    const json_t *r;

    if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > SIM_MAX_RINGS)
        return rf_error_set(err, RF_ERR_INVALID, "scenario: 'rings' must list 1-%d rings",
                            SIM_MAX_RINGS);
    json_array_foreach(arr, i, r)
    {
        sim_ring *g = &s->rings[i];
        const char *name = json_string_value(json_object_get(r, "name"));
        const json_t *labels = json_object_get(r, "labels");
        double size = num(r, "size", -1);
        const json_t *poll = json_object_get(r, "poll_interval_s");
        if (!name || strlen(name) > PROTO_NAME_MAX || size < 0 || size > 1e6)
            return rf_error_set(err, RF_ERR_INVALID,
                                "scenario: rings[%zu] needs a 'name' and a 'size' 0..1000000", i);
        if (labels && !json_is_object(labels))
            return rf_error_set(err, RF_ERR_INVALID, "scenario: rings[%zu].labels", i);
        if (poll && (!json_is_number(poll) || json_number_value(poll) < 0 ||
                     json_number_value(poll) > 86400))
            return rf_error_set(err, RF_ERR_INVALID,
                                "scenario: rings[%zu].poll_interval_s must be 0..86400", i);
        g->poll_ms = poll ? (int64_t)(json_number_value(poll) * 1000) : -1;
        memcpy(g->name, name, strlen(name) + 1);
        g->size = (int64_t)size;
        g->labels = labels ? json_deep_copy(labels) : json_object();
        s->nrings = (uint32_t)i + 1;
    }
    return RF_OK;
}

static rf_err parse_mode(const char *m, sim_mode *out)
{
    static const char *names[] = {"healthy", "crash_at_boot", "crash_later", "boot_loop",
                                  "hook_fails"};
    for (size_t i = 0; m && i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(m, names[i]) == 0) {
            *out = (sim_mode)i;
            return RF_OK;
        }
    return RF_ERR_INVALID;
}

static rf_err load_bundles(const json_t *arr, sim_scenario *s, rf_error *err)
{
    size_t i;
    const json_t *b;

    if (!arr)
        return RF_OK;
    if (!json_is_array(arr) || json_array_size(arr) > SIM_MAX_BUNDLES)
        return rf_error_set(err, RF_ERR_INVALID, "scenario: 'bundles' must list up to %d bundles",
                            SIM_MAX_BUNDLES);
    json_array_foreach(arr, i, b)
    {
        sim_bundle *x = &s->bundles[i];
        const char *v = json_string_value(json_object_get(b, "version"));
        if (!v || strlen(v) > PROTO_NAME_MAX ||
            parse_mode(json_string_value(json_object_get(b, "mode")), &x->mode) != RF_OK)
            return rf_error_set(err, RF_ERR_INVALID,
                                "scenario: bundles[%zu] needs a 'version' and a 'mode' (healthy, "
                                "crash_at_boot, crash_later, boot_loop, hook_fails)",
                                i);
        memcpy(x->version, v, strlen(v) + 1);
        x->p = num(b, "p", 1.0);
        x->after_ms = (int64_t)(num(b, "after_s", 5) * 1000);
        if (x->p < 0 || x->p > 1 || x->after_ms < 0)
            return rf_error_set(err, RF_ERR_INVALID, "scenario: bundles[%zu]: p 0..1, after_s >= 0",
                                i);
        s->nbundles = (uint32_t)i + 1;
    }
    return RF_OK;
}

static void load_numbers(const json_t *o, sim_scenario *s)
{
    const json_t *off = json_object_get(o, "offline");

    s->heartbeat_ms = (int64_t)(num(o, "heartbeat_interval_s", 30) * 1000);
    s->health_window_ms = (int64_t)(num(o, "health_window_s", 60) * 1000);
    s->poll_ms = (int64_t)(num(o, "poll_interval_s", 0) * 1000);
    s->background_per_hour = num(o, "background_crash_per_hour", 0);
    s->max_connections = (int64_t)num(o, "max_connections", 64);
    s->enroll_per_s = (int64_t)num(o, "enroll_per_s", 500);
    s->seed = (uint64_t)num(o, "seed", 1);
    s->offline_fraction = num(off, "fraction", 0);
    s->offline_at_ms = (int64_t)(num(off, "at_s", 0) * 1000);
    s->offline_ms = (int64_t)(num(off, "duration_s", 0) * 1000);
}

rf_err sim_scenario_load(const char *path, int64_t devices_override, sim_scenario *out,
                         rf_error *err)
{
    json_error_t je;
    json_t *o = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    int64_t others = 0;
    rf_err rc;

    memset(out, 0, sizeof(*out));
    if (!json_is_object(o)) {
        rc = rf_error_set(err, RF_ERR_INVALID, "scenario %s: %s (line %d)", path, je.text, je.line);
        goto out;
    }
    if ((rc = load_rings(json_object_get(o, "rings"), out, err)) != RF_OK ||
        (rc = load_bundles(json_object_get(o, "bundles"), out, err)) != RF_OK)
        goto out;
    load_numbers(o, out);
    for (uint32_t i = 0; i < out->nrings; i++)
        if (out->rings[i].poll_ms < 0)
            out->rings[i].poll_ms = out->poll_ms;
    if (out->heartbeat_ms < 200 || out->health_window_ms < 0 || out->poll_ms < 0 ||
        out->max_connections < 1 || out->max_connections > 10000 || out->enroll_per_s < 1 ||
        out->offline_fraction < 0 || out->offline_fraction > 1 || out->background_per_hour < 0) {
        rc = rf_error_set(err, RF_ERR_INVALID, "scenario %s: a number is out of range", path);
        goto out;
    }
    for (uint32_t i = 0; i + 1 < out->nrings; i++)
        others += out->rings[i].size;
    if (devices_override > 0) /* the last ring takes the rest */
        out->rings[out->nrings - 1].size =
            devices_override > others ? devices_override - others : 0;
    for (uint32_t i = 0; i < out->nrings; i++)
        if (out->rings[i].poll_ms == 0)
            out->long_pollers += out->rings[i].size;
    if (out->long_pollers + out->max_connections > SIM_MAX_CONNECTIONS)
        rc = rf_error_set(err, RF_ERR_INVALID,
                          "scenario %s: %lld long-polling devices and %lld pooled connections: "
                          "one process holds at most %d (poll the other rings instead)",
                          path, (long long)out->long_pollers, (long long)out->max_connections,
                          SIM_MAX_CONNECTIONS);
out:
    json_decref(o);
    if (rc != RF_OK) {
        sim_scenario_cleanup(out);
        out->nrings = 0;
    }
    return rc;
}

void sim_scenario_cleanup(sim_scenario *s)
{
    for (uint32_t i = 0; s && i < s->nrings; i++)
        json_decref(s->rings[i].labels);
}

int sim_bundle_find(const sim_scenario *s, const char *version)
{
    for (uint32_t i = 0; i < s->nbundles; i++)
        if (strcmp(s->bundles[i].version, version) == 0)
            return (int)i;
    return -1;
}
