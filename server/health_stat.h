/* The statistics behind an automatic halt: an always-valid sequential test
 * (a mixture SPRT) of a stage's failure rate against its control group, a
 * reverse SPRT that says "not harmful", an absolute failure-rate backstop
 * and a minimum number of distinct failing devices. Pure: figures in,
 * verdict and the figures behind it out; no SQL, no clock, no randomness.
 * It must never halt on fewer distinct failed devices than the policy asks. */
#ifndef RF_HEALTH_STAT_H
#define RF_HEALTH_STAT_H

#include "health.h"

/* Ratios of the mixture: min_ratio × 2^(k/2), k = 0 … HEALTH_STAT_GRID-1. */
#define HEALTH_STAT_GRID 8

typedef enum health_verdict {
    HEALTH_VERDICT_CONTINUE = 0, /* not enough evidence either way */
    HEALTH_VERDICT_HARMFUL,      /* the sequential test crossed log(1/alpha) */
    HEALTH_VERDICT_BACKSTOP,     /* the absolute failure rate reached max_failure_rate */
    HEALTH_VERDICT_NOT_HARMFUL,  /* the reverse test crossed log(1/beta) */
} health_verdict;

/* One evaluation of one stage. */
typedef struct health_stat {
    long long exposed, failed;         /* the stage: distinct devices */
    long long control, control_failed; /* the control group: distinct devices */
    double failure_rate, control_rate;
    double statistic;      /* log of the mixture likelihood ratio "harmful" : "same rate" */
    double upper;          /* log(1/alpha): harmful at or above */
    double safe_statistic; /* log likelihood ratio "same rate" : "min_ratio × control" */
    double safe_threshold; /* log(1/beta): not harmful at or above */
    double max_failure_rate;
    int min_failed_devices;
    health_verdict verdict;
    /* The start of the control's window (health_control_since), seconds
     * since the epoch; 0: not known. The caller sets it after the evaluation
     * (health_stat_eval leaves it 0); it is shown as "control_since". */
    int64_t control_since_s;
} health_stat;

const char *health_verdict_name(health_verdict v); /* "continue", "harmful", … */
/* 1 for HARMFUL and BACKSTOP. */
int health_verdict_halts(health_verdict v);

/* Evaluates a stage (exposed, failed) against its control (control,
 * control_failed) under p's alpha, beta, min_ratio, max_failure_rate (the
 * stage's own limit, already resolved by the caller) and min_failed_devices.
 * Counts are clamped to be consistent (0 <= failed <= exposed). With no
 * control devices the sequential tests stay at 0 and only the backstop
 * applies. The verdict is HARMFUL or BACKSTOP only with failed >=
 * min_failed_devices. */
void health_stat_eval(const health_policy *p, long long exposed, long long failed,
                      long long control, long long control_failed, health_stat *out);

/* The figures of *s as a new JSON object (for events and the API), with
 * "control_since" an ISO 8601 time, or null when not known. */
json_t *health_stat_to_json(const health_stat *s);

#endif
