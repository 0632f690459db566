/* Plan validation, built-in channel plans, stage gates and the two-person
 * rule (see plan.h). Every message names the stage or gate it is about, since
 * release engineers read them in a terminal. This file must never read a
 * clock, touch the database, or let a plan skip a ring. */
#include "plan.h"
#include "rf_util.h"

#include <stdio.h>
#include <string.h>

#define RULE "a plan must visit every ring in order, starting with the canary ring"

void plan_stage_default(plan_stage *s)
{
    memset(s, 0, sizeof(*s));
    s->percent = 100;
    s->min_healthy = 1;
}

static int ring_index(const rollout_ring *rings, int nrings, long long id)
{
    for (int i = 0; i < nrings; i++)
        if (rings[i].id == id)
            return i;
    return -1;
}

static rf_err check_numbers(const plan_stage *s, int i, rf_error *err)
{
    if (s->percent < 1 || s->percent > 100)
        return rf_error_set(err, RF_ERR_INVALID, "field 'stages[%d].percent': must be 1-100", i);
    if (s->bake_s < 0 || s->bake_s > ROLLOUT_MAX_BAKE_S)
        return rf_error_set(err, RF_ERR_INVALID, "field 'stages[%d].bake_s': must be 0-%d", i,
                            ROLLOUT_MAX_BAKE_S);
    if (s->min_healthy < 0 || s->min_healthy > PLAN_MAX_MIN_HEALTHY)
        return rf_error_set(err, RF_ERR_INVALID, "field 'stages[%d].min_healthy': must be 0-%d", i,
                            PLAN_MAX_MIN_HEALTHY);
    if (!(s->max_failure_rate >= 0.0 && s->max_failure_rate <= 1.0))
        return rf_error_set(err, RF_ERR_INVALID,
                            "field 'stages[%d].max_failure_rate': must be a number in (0, 1]", i);
    return RF_OK;
}

/* Where stage i enters ring `at` while the plan expects rings[expect]. */
static rf_err wrong_ring(const plan_stage *st, int i, int at, int expect, const rollout_ring *rings,
                         rf_error *err)
{
    if (at < expect) {
        int j = 0;
        while (j < i && st[j].ring_id != st[i].ring_id)
            j++;
        return rf_error_set(err, RF_ERR_INVALID,
                            "field 'stages[%d].ring_id': ring '%s' is already stage %d; " RULE, i,
                            rings[at].name, j);
    }
    if (i == 0)
        return rf_error_set(err, RF_ERR_INVALID,
                            "field 'stages[0].ring_id': a plan must start with the lowest ring "
                            "'%s' (order %d), not '%s' (order %d)",
                            rings[0].name, rings[0].order, rings[at].name, rings[at].order);
    return rf_error_set(err, RF_ERR_INVALID,
                        "field 'stages[%d].ring_id': ring '%s' (order %d) skips ring '%s' "
                        "(order %d); " RULE,
                        i, rings[at].name, rings[at].order, rings[expect].name,
                        rings[expect].order);
}

static rf_err short_ring(int i, const rollout_ring *g, int percent, rf_error *err)
{
    return rf_error_set(err, RF_ERR_INVALID,
                        "field 'stages[%d].percent': ring '%s' ends at %d %%; the last stage of a "
                        "ring must reach 100 %%",
                        i, g->name, percent);
}

rf_err plan_validate(const plan_stage *st, int n, const rollout_ring *rings, int nrings,
                     rf_error *err)
{
    if (nrings <= 0)
        return rf_error_set(err, RF_ERR_CONFLICT,
                            "no rings are defined: create rings before a rollout");
    if (n <= 0)
        return rf_error_set(err, RF_ERR_INVALID, "field 'stages': a plan needs at least one stage");
    if (n > ROLLOUT_MAX_STAGES)
        return rf_error_set(err, RF_ERR_INVALID, "field 'stages': at most %d stages",
                            ROLLOUT_MAX_STAGES);
    int cur = -1; /* index into rings of the ring the previous stage reached */
    for (int i = 0; i < n; i++) {
        rf_err rc = check_numbers(&st[i], i, err);
        if (rc != RF_OK)
            return rc;
        int at = ring_index(rings, nrings, st[i].ring_id);
        if (at < 0)
            return rf_error_set(err, RF_ERR_INVALID, "field 'stages[%d].ring_id': no ring %lld", i,
                                st[i].ring_id);
        if (i > 0 && at == cur) {
            if (st[i].percent <= st[i - 1].percent)
                return rf_error_set(err, RF_ERR_INVALID,
                                    "field 'stages[%d].percent': ring '%s' is already at %d %% in "
                                    "stage %d; the stages of a ring must grow in percent",
                                    i, rings[at].name, st[i - 1].percent, i - 1);
            continue;
        }
        if (i > 0 && st[i - 1].percent != 100)
            return short_ring(i - 1, &rings[cur], st[i - 1].percent, err);
        if (at != cur + 1)
            return wrong_ring(st, i, at, cur + 1, rings, err);
        cur = at;
    }
    if (st[n - 1].percent != 100)
        return short_ring(n - 1, &rings[cur], st[n - 1].percent, err);
    if (cur + 1 < nrings)
        return rf_error_set(err, RF_ERR_INVALID,
                            "field 'stages': the plan ends before ring '%s' (order %d); " RULE,
                            rings[cur + 1].name, rings[cur + 1].order);
    return RF_OK;
}

int plan_builtin_bake_s(const char *channel)
{
    if (channel != NULL && strcmp(channel, "driver") == 0)
        return 86400;
    if (channel != NULL && strcmp(channel, "content") == 0)
        return 600;
    return 3600;
}

int plan_builtin(const char *channel, const rollout_ring *rings, int nrings, plan_stage *out)
{
    int n = nrings < ROLLOUT_MAX_STAGES ? nrings : ROLLOUT_MAX_STAGES;
    for (int i = 0; i < n; i++) {
        plan_stage_default(&out[i]);
        out[i].ring_id = rings[i].id;
        out[i].bake_s = plan_builtin_bake_s(channel);
    }
    return n < 0 ? 0 : n;
}

/* ---- gates ---- */

void plan_duration(int64_t s, char *buf, size_t n)
{
    if (s < 0)
        s = 0;
    if (s < 60)
        rf_snprintf(buf, n, "%llds", (long long)s);
    else if (s < 3600)
        rf_snprintf(buf, n, "%lldm", (long long)(s / 60));
    else if (s < 86400)
        rf_snprintf(buf, n, "%lldh%02lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
    else
        rf_snprintf(buf, n, "%lldd%02lldh", (long long)(s / 86400), (long long)(s % 86400 / 3600));
}

double plan_stage_max_failure_rate(const rollout_stage *s, double policy_rate)
{
    return s->max_failure_rate > 0.0 ? s->max_failure_rate : policy_rate;
}

static void gate(plan_gate *g, const char *name, int ok)
{
    memset(g, 0, sizeof(*g));
    rf_snprintf(g->name, sizeof(g->name), "%s", name);
    g->ok = ok;
}

static void bake_gate(const plan_gate_input *in, plan_gate *g)
{
    const rollout_stage *s = in->stage;
    char bake[32], d[32];
    int64_t ran = s->started_s > 0 ? in->now_s - s->started_s : 0;
    gate(g, "bake", s->started_s > 0 && ran >= s->bake_s);
    plan_duration(s->bake_s, bake, sizeof(bake));
    if (s->started_s <= 0) {
        rf_snprintf(g->detail, sizeof(g->detail), "not started (bake %s)", bake);
    } else if (s->bake_s == 0) {
        rf_snprintf(g->detail, sizeof(g->detail), "no bake time");
    } else if (g->ok) {
        plan_duration(ran, d, sizeof(d));
        rf_snprintf(g->detail, sizeof(g->detail), "baked %s (bake %s)", d, bake);
    } else {
        plan_duration(s->bake_s - ran, d, sizeof(d));
        rf_snprintf(g->detail, sizeof(g->detail), "%s left (bake %s)", d, bake);
    }
}

static void healthy_gate(const plan_gate_input *in, plan_gate *g)
{
    long long h = in->counts.healthy, need = in->stage->min_healthy;
    gate(g, "healthy", h >= need);
    if (in->devices >= 0 && need > in->devices)
        rf_snprintf(g->detail, sizeof(g->detail),
                    "%lld/%lld healthy, need %lld; the stage holds only %lld device%s", h,
                    in->devices, need, in->devices, in->devices == 1 ? "" : "s");
    else if (in->devices >= 0)
        rf_snprintf(g->detail, sizeof(g->detail), "%lld/%lld healthy, need %lld", h, in->devices,
                    need);
    else
        rf_snprintf(g->detail, sizeof(g->detail), "%lld healthy, need %lld", h, need);
}

static void failures_gate(const plan_gate_input *in, plan_gate *g)
{
    const health_counts *c = &in->counts;
    double limit = plan_stage_max_failure_rate(in->stage, in->policy_max_failure_rate);
    double rate = health_failure_rate(c->exposed, c->failed);
    gate(g, "failures", c->failed == 0 || rate < limit);
    rf_snprintf(g->detail, sizeof(g->detail), "%lld/%lld failed (%.1f%%), limit %.1f%%", c->failed,
                c->exposed, rate * 100.0, limit * 100.0);
}

/* The harm gate: passes only on the "not harmful" verdict of the stage's
 * sequential test; the detail gives the evidence either way. */
static void harm_gate(const plan_gate_input *in, plan_gate *g)
{
    const health_stat *st = in->harm;
    gate(g, "harm", st->verdict == HEALTH_VERDICT_NOT_HARMFUL);
    switch (st->verdict) {
    case HEALTH_VERDICT_NOT_HARMFUL:
        rf_snprintf(g->detail, sizeof(g->detail),
                    "not harmful: statistic %.2f reached %.2f (ratio >= %g excluded)",
                    st->safe_statistic, st->safe_threshold, in->min_ratio);
        break;
    case HEALTH_VERDICT_HARMFUL:
        rf_snprintf(g->detail, sizeof(g->detail), "harmful: statistic %.2f reached %.2f",
                    st->statistic, st->upper);
        break;
    case HEALTH_VERDICT_BACKSTOP:
        rf_snprintf(g->detail, sizeof(g->detail), "harmful: %.1f%% failed, backstop %.1f%%",
                    st->failure_rate * 100.0, st->max_failure_rate * 100.0);
        break;
    default:
        if (st->control <= 0)
            rf_snprintf(g->detail, sizeof(g->detail), "not harmful yet: no control devices");
        else
            rf_snprintf(g->detail, sizeof(g->detail),
                        "not harmful yet: statistic %.2f of %.2f needed", st->safe_statistic,
                        st->safe_threshold);
        break;
    }
}

int plan_gates(const plan_gate_input *in, plan_gate out[PLAN_MAX_GATES])
{
    int n = 0;
    bake_gate(in, &out[n++]);
    healthy_gate(in, &out[n++]);
    failures_gate(in, &out[n++]);
    if (in->harm != NULL)
        harm_gate(in, &out[n++]);
    if (in->stage->require_approval) {
        int ok = in->stage->approved || (in->approved_by != NULL && in->approved_by[0] != '\0');
        plan_gate *g = &out[n++];
        gate(g, "approval", ok);
        if (ok)
            rf_snprintf(g->detail, sizeof(g->detail), "approved by %s",
                        in->approved_by && in->approved_by[0] ? in->approved_by : "someone");
        else
            rf_snprintf(g->detail, sizeof(g->detail), "approval pending (by anyone but %s)",
                        in->creator ? in->creator : "the creator");
    }
    return n;
}

int plan_gates_pass(const plan_gate *g, int n)
{
    for (int i = 0; i < n; i++)
        if (!g[i].ok)
            return 0;
    return n > 0;
}

rf_err plan_approve_check(const rollout_sm *r, long long rollout_id, int stage, const char *actor,
                          const char *creator, const char *approved_by, rf_error *err)
{
    if (r->state != ROLLOUT_DRAFT && r->state != ROLLOUT_ACTIVE && r->state != ROLLOUT_PAUSED)
        return rf_error_set(err, RF_ERR_CONFLICT, "cannot approve: rollout is %s",
                            rollout_state_name(r->state));
    if (stage < 0 || stage >= r->nstages)
        return rf_error_set(err, RF_ERR_INVALID, "field 'stage': rollout %lld has stages 0-%d",
                            rollout_id, r->nstages - 1);
    if (actor == NULL || creator == NULL || strcmp(actor, creator) == 0)
        return rf_error_set(err, RF_ERR_FORBIDDEN,
                            "two-person rule: %s created rollout %lld and cannot approve it",
                            creator ? creator : "?", rollout_id);
    const rollout_stage *s = &r->stages[stage];
    if (s->state != STAGE_PENDING && s->state != STAGE_ACTIVE)
        return rf_error_set(err, RF_ERR_CONFLICT, "cannot approve: stage %d is %s", stage,
                            stage_state_name(s->state));
    if (!s->require_approval)
        return rf_error_set(err, RF_ERR_CONFLICT, "cannot approve: stage %d needs no approval",
                            stage);
    if (s->approved)
        return rf_error_set(
            err, RF_ERR_CONFLICT, "cannot approve: stage %d is already approved%s%s", stage,
            approved_by && approved_by[0] ? " by " : "", approved_by ? approved_by : "");
    return RF_OK;
}
