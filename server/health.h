/* Health of one rollout: what one device's reports say about its exposure to
 * the rollout's bundle (exposed, activated, healthy, failed and why), when
 * silence counts as failure, and when a stage's figures call for a halt. Pure:
 * no SQL, no clock reads; time is a parameter (seconds since the epoch). It
 * must never let one device count twice, nor un-fail a failed device. */
#ifndef RF_HEALTH_H
#define RF_HEALTH_H

#include "rf_err.h"
#include <jansson.h>
#include <stdint.h>

/* What an agent reports per channel ("state" in a heartbeat). */
typedef enum health_dev_state {
    HEALTH_DEV_IDLE = 0,
    HEALTH_DEV_INSTALLING,
    HEALTH_DEV_TRIAL,
    HEALTH_DEV_COMMITTED,
    HEALTH_DEV_INSTALL_FAILED,
    HEALTH_DEV_ROLLED_BACK,
    HEALTH_DEV_VERIFY_FAILED,
} health_dev_state;
#define HEALTH_DEV_NSTATES 7

typedef enum health_failure {
    HEALTH_FAIL_NONE = 0,
    HEALTH_FAIL_INSTALL_FAILED,
    HEALTH_FAIL_VERIFY_FAILED,
    HEALTH_FAIL_ROLLED_BACK,
    HEALTH_FAIL_UNCLEAN_BOOT,
    HEALTH_FAIL_CRASH,
    HEALTH_FAIL_SILENT,
} health_failure;
#define HEALTH_FAIL_N 7

const char *health_dev_state_name(health_dev_state s);
int health_dev_state_parse(const char *s, health_dev_state *out); /* 0 or -1 */
const char *health_failure_name(health_failure f);                /* "" for NONE, "crash", … */
int health_failure_parse(const char *s, health_failure *out);     /* 0 or -1 */

/* What a halt does: revert every exposed device (the default), stop where
 * it is, or revert only the devices of the halted stage. */
typedef enum health_on_halt {
    HEALTH_ON_HALT_REVERT = 0,
    HEALTH_ON_HALT_PAUSE,
    HEALTH_ON_HALT_REVERT_STAGE,
} health_on_halt;

typedef struct health_policy {
    double max_failure_rate; /* (0, 1]: halt when failed/exposed reaches it … */
    int min_failed_devices;  /* … with at least this many distinct failed devices */
    health_on_halt on_halt;
    int health_window_s;   /* how long an activated device must stay up to be healthy */
    int silence_intervals; /* heartbeat intervals of silence that count as failure */
    double alpha;          /* (0, 0.5]: the chance of halting a bundle no worse than its control */
    double beta;           /* (0, 0.5]: the chance of calling a min_ratio-times-worse one fine */
    double min_ratio;      /* (1, 100]: the smallest harmful failure-rate ratio to the control */
    /* 1: a stage promotes itself only once the evidence says "not harmful";
     * 0 (default): enough healthy devices after the bake time suffice. (A
     * long long so that the struct has no padding and compares bytewise.) */
    long long require_not_harmful;
} health_policy;

#define HEALTH_MAX_WINDOW_S (7 * 86400)
#define HEALTH_MAX_SILENCE_INTERVALS 1000
#define HEALTH_MAX_MIN_FAILED 1000000

/* The defaults: 0.5, 1, revert, 30 s, 3, alpha 0.01, beta 0.05, min_ratio 2. */
void health_policy_default(health_policy *p);
/* Applies the overrides in obj (borrowed; NULL or an empty object change
 * nothing) to *p. Every field is checked for type and range; an unknown field
 * or a bad value is RF_ERR_INVALID with a message naming it, prefixed with
 * `path` ("policy.max_failure_rate: …"), and *p is left unchanged. */
rf_err health_policy_parse(const json_t *obj, const char *path, health_policy *p, rf_error *err);
/* A new reference to the policy as a JSON object (every field). */
json_t *health_policy_to_json(const health_policy *p);
const char *health_on_halt_name(health_on_halt h);

/* One device's latest report for the rollout's channel. Bundle ids are
 * positive; 0 stands for JSON null (no bundle). */
typedef struct health_report {
    long long bundle_id;
    long long target_bundle_id;
    health_dev_state state;
    long long boots, unclean_shutdowns, crashes, local_rollbacks;
} health_report;

/* One device's exposure to one rollout, as kept in the exposures table.
 * Times are seconds since the epoch; 0 means "not yet". */
typedef struct health_exposure {
    int exposed;
    int64_t exposed_at, activated_at, healthy_at, failed_at;
    health_failure failure;
} health_exposure;

/* What one observation changed (a bit set). */
enum {
    HEALTH_CHG_EXPOSED = 1,
    HEALTH_CHG_ACTIVATED = 2,
    HEALTH_CHG_HEALTHY = 4,
    HEALTH_CHG_FAILED = 8,
};

/* The failure one report shows for bundle_id, or HEALTH_FAIL_NONE:
 * install_failed / verify_failed / rolled_back when that state names the
 * bundle as its target; unclean_boot, then crash, when the device runs the
 * bundle and counts unclean shutdowns, resp. crashes. */
health_failure health_report_failure(long long bundle_id, const health_report *rep);
/* 1 when the report shows the device exposed to bundle_id: installing it,
 * running it, or having failed it. */
int health_report_exposes(long long bundle_id, const health_report *rep);

/* Folds one report, received at now_s, into *ex and returns what changed.
 * A device becomes exposed on its first exposing report; activated when it
 * runs the bundle in trial or committed; failed on the first failing report
 * (and stays failed, with that first reason); healthy when it has been
 * activated for at least the health window, as shown by a report at least
 * that long after activation, without having failed. A device that is not
 * exposed and whose report does not concern the bundle is left alone. */
unsigned health_observe(const health_policy *p, long long bundle_id, const health_report *rep,
                        int64_t now_s, health_exposure *ex);

/* 1 when an exposed device that is neither healthy nor failed has been
 * silent too long: its last report (last_seen_s; 0 = never, then exposed_at
 * counts) is more than silence_intervals × interval_s seconds before now_s.
 * interval_s is clamped to at least 1. */
int health_is_silent(const health_policy *p, const health_exposure *ex, int64_t last_seen_s,
                     int interval_s, int64_t now_s);
/* Marks *ex failed "silent" at now_s when health_is_silent; returns
 * HEALTH_CHG_FAILED then, 0 otherwise. */
unsigned health_check_silence(const health_policy *p, health_exposure *ex, int64_t last_seen_s,
                              int interval_s, int64_t now_s);

/* A stage's figures: distinct devices. */
typedef struct health_counts {
    long long exposed, healthy, failed, silent;
} health_counts;

/* failed/exposed, 0 when nothing is exposed. */
double health_failure_rate(long long exposed, long long failed);
/* The halt decision for one stage: halt when exposed > 0, failed/exposed >=
 * max_failure_rate and failed >= min_failed_devices. */
int health_should_halt(const health_policy *p, long long exposed, long long failed);

/* The start of a stage's control window (seconds since the epoch): the
 * control's failures count only when reported at or after it, so that the
 * stage and its control are watched over the same stretch of time. It is the
 * stage's first exposure (first_exposed_s; 0: none yet), never before the
 * stage started; the stage's start while nothing is exposed; and now_s (an
 * empty window) for a stage that has not started (stage_started_s 0). Never
 * after now_s. */
int64_t health_control_since(int64_t stage_started_s, int64_t first_exposed_s, int64_t now_s);

#endif
