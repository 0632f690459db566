/* The sequential test of a stage against its control (see health_stat.h and
 * docs/health.md). Given the failures seen so far, each one is a draw of
 * "stage or control?" with probability q0 = n1 / (n1 + n0) of "stage" when
 * both fail at the same rate, and q(r) = r n1 / (r n1 + n0) when the stage
 * fails r times as often. The mixture of the likelihood ratios over a grid
 * of r >= min_ratio is a non-negative martingale under "same rate", so by
 * Ville's inequality it crosses 1/alpha with probability at most alpha
 * however often it is looked at. Nothing here reads a clock or does I/O. */
#include "health_stat.h"
#include "rf_util.h"

#include <math.h>

static const char *const verdict_names[] = {"continue", "harmful", "backstop", "not_harmful"};

const char *health_verdict_name(health_verdict v)
{
    return (unsigned)v <= HEALTH_VERDICT_NOT_HARMFUL ? verdict_names[v] : "unknown";
}

int health_verdict_halts(health_verdict v)
{
    return v == HEALTH_VERDICT_HARMFUL || v == HEALTH_VERDICT_BACKSTOP;
}

static long long clamp_ll(long long v, long long lo, long long hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* log of the likelihood ratio of ratio r against ratio 1. */
static double log_lr(double r, double n1, double n0, double x1, double x0)
{
    double q0 = n1 / (n1 + n0);
    double q = r * n1 / (r * n1 + n0);
    return x1 * log(q / q0) + x0 * log((1.0 - q) / (1.0 - q0));
}

/* log of the equally weighted mixture over the grid (log-sum-exp). */
static double log_mixture(double min_ratio, double n1, double n0, double x1, double x0)
{
    double l[HEALTH_STAT_GRID], top = -INFINITY, sum = 0.0;
    for (int k = 0; k < HEALTH_STAT_GRID; k++) {
        l[k] = log_lr(min_ratio * pow(2.0, k / 2.0), n1, n0, x1, x0);
        if (l[k] > top)
            top = l[k];
    }
    for (int k = 0; k < HEALTH_STAT_GRID; k++)
        sum += exp(l[k] - top);
    return top + log(sum) - log((double)HEALTH_STAT_GRID);
}

void health_stat_eval(const health_policy *p, long long exposed, long long failed,
                      long long control, long long control_failed, health_stat *out)
{
    out->exposed = exposed < 0 ? 0 : exposed;
    out->failed = clamp_ll(failed, 0, out->exposed);
    out->control = control < 0 ? 0 : control;
    out->control_failed = clamp_ll(control_failed, 0, out->control);
    out->failure_rate = health_failure_rate(out->exposed, out->failed);
    out->control_rate = health_failure_rate(out->control, out->control_failed);
    out->upper = log(1.0 / p->alpha);
    out->safe_threshold = log(1.0 / p->beta);
    out->max_failure_rate = p->max_failure_rate;
    out->min_failed_devices = p->min_failed_devices;
    out->statistic = 0.0;
    out->safe_statistic = 0.0;
    out->verdict = HEALTH_VERDICT_CONTINUE;
    out->control_since_s = 0;
    if (out->exposed > 0 && out->control > 0) {
        double n1 = (double)out->exposed, n0 = (double)out->control;
        double x1 = (double)out->failed, x0 = (double)out->control_failed;
        out->statistic = log_mixture(p->min_ratio, n1, n0, x1, x0);
        out->safe_statistic = -log_lr(p->min_ratio, n1, n0, x1, x0);
    }
    int enough = out->failed >= (long long)p->min_failed_devices && out->failed > 0;
    if (enough && health_should_halt(p, out->exposed, out->failed))
        out->verdict = HEALTH_VERDICT_BACKSTOP;
    else if (enough && out->statistic >= out->upper)
        out->verdict = HEALTH_VERDICT_HARMFUL;
    else if (out->control > 0 && out->safe_statistic >= out->safe_threshold)
        out->verdict = HEALTH_VERDICT_NOT_HARMFUL;
}

json_t *health_stat_to_json(const health_stat *s)
{
    char since[32];
    json_t *j;
    if (s->control_since_s > 0)
        rf_time_iso(s->control_since_s, since);
    j = json_pack("{s:s, s:I, s:I, s:f, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:i}", "verdict",
                  health_verdict_name(s->verdict), "exposed", (json_int_t)s->exposed, "failed",
                  (json_int_t)s->failed, "failure_rate", s->failure_rate, "control_devices",
                  (json_int_t)s->control, "control_failed", (json_int_t)s->control_failed,
                  "control_rate", s->control_rate, "statistic", s->statistic, "statistic_threshold",
                  s->upper, "safe_statistic", s->safe_statistic, "safe_threshold",
                  s->safe_threshold, "max_failure_rate", s->max_failure_rate, "min_failed_devices",
                  s->min_failed_devices);
    if (j != NULL)
        json_object_set_new(j, "control_since",
                            s->control_since_s > 0 ? json_string(since) : json_null());
    return j;
}
