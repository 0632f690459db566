/* Unit tests for server/assign.c: every rollout state × current stage × ring
 * position × exposure × local failure × on_halt policy × previous bundle,
 * checked against the rules written out independently, and the safety rule
 * (no device outside a started ring is ever assigned the bundle) checked on
 * its own over the same space; then the share of a ring (salted order:
 * fixed vectors, the same in another process, uniform within 1 % over 100k
 * ids, exact cuts that only grow), start windows, ring members, and pins,
 * exclusions and windows applied to the decision, as tables. */
#include "assign.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define B 12
#define PREV 7
#define NST 3

static assign_rollout make(rollout_state s, int stage, int on_halt_revert, long long prev)
{
    assign_rollout r;
    memset(&r, 0, sizeof(r));
    r.state = s;
    r.stage = s == ROLLOUT_DRAFT ? -1 : stage;
    r.nstages = NST;
    for (int i = 0; i < NST; i++)
        r.stage_ring_pos[i] = i; /* the plan visits rings 0, 1, 2 */
    r.on_halt_revert = on_halt_revert;
    r.bundle_id = B;
    r.previous_bundle_id = prev;
    return r;
}

/* The rules, written from the specification rather than from assign.c. */
static assign_result oracle(rollout_state s, int stage, int on_halt_revert, long long prev, int pos,
                            int exposed, int failed)
{
    assign_result none = {ASSIGN_OMIT, 0};
    int in_plan = pos >= 0 && pos < NST;
    int started = in_plan && (s == ROLLOUT_COMPLETED || pos <= stage);
    int keeps = s == ROLLOUT_ACTIVE || s == ROLLOUT_PAUSED || s == ROLLOUT_COMPLETED ||
                (s == ROLLOUT_HALTED && !on_halt_revert);
    if (s == ROLLOUT_DRAFT)
        return none;
    if (keeps && started && !failed) {
        /* paused, or halted under a pause policy: nobody new begins */
        if ((s == ROLLOUT_PAUSED || s == ROLLOUT_HALTED) && !exposed)
            return none;
        return (assign_result){ASSIGN_INSTALL, B};
    }
    int saw_it = started || exposed || failed;
    if (saw_it)
        return (assign_result){ASSIGN_REVERT, prev};
    if (prev > 0)
        return (assign_result){ASSIGN_INSTALL, prev};
    return none;
}

START_TEST(exhaustive_against_rules)
{
    int n = 0;
    for (int s = 0; s < ROLLOUT_NSTATES; s++)
        for (int stage = 0; stage < NST; stage++)
            for (int ohr = 0; ohr <= 1; ohr++)
                for (int pv = 0; pv <= 1; pv++)
                    for (int pos = -1; pos <= NST + 1; pos++)
                        for (int exposed = 0; exposed <= 1; exposed++)
                            for (int failed = 0; failed <= 1; failed++) {
                                long long prev = pv ? PREV : 0;
                                assign_rollout r = make((rollout_state)s, stage, ohr, prev);
                                assign_device d = {
                                    .ring_pos = pos, .exposed = exposed, .failed_itself = failed};
                                assign_result got = assign_decide(&r, &d);
                                assign_result want = oracle((rollout_state)s, stage, ohr, prev, pos,
                                                            exposed, failed);
                                ck_assert_msg(got.action == want.action &&
                                                  got.bundle_id == want.bundle_id,
                                              "%s stage %d ohr %d prev %lld pos %d exp %d "
                                              "fail %d: got %d/%lld want %d/%lld",
                                              rollout_state_name((rollout_state)s), stage, ohr,
                                              prev, pos, exposed, failed, got.action, got.bundle_id,
                                              want.action, want.bundle_id);
                                n++;
                            }
    ck_assert_int_eq(n, ROLLOUT_NSTATES * NST * 2 * 2 * (NST + 3) * 2 * 2);
}
END_TEST

/* The safety rule on its own, over plans whose stages map to rings in any
 * order and any device position: the bundle goes only to a device whose ring
 * is the ring of a stage at or below the current one, in a state that offers
 * it, and never to a device that failed it itself. */
START_TEST(never_outside_started_ring)
{
    int offered = 0;
    for (int s = 0; s < ROLLOUT_NSTATES; s++)
        for (int stage = 0; stage < NST; stage++)
            for (int perm = 0; perm < 6; perm++) {
                static const int perms[6][NST] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
                                                  {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
                for (int ohr = 0; ohr <= 1; ohr++)
                    for (int pos = -1; pos <= NST + 1; pos++)
                        for (int flags = 0; flags < 4; flags++) {
                            assign_rollout r = make((rollout_state)s, stage, ohr, PREV);
                            memcpy(r.stage_ring_pos, perms[perm], sizeof(perms[perm]));
                            assign_device d = {.ring_pos = pos,
                                               .exposed = flags & 1,
                                               .failed_itself = (flags >> 1) & 1};
                            assign_result got = assign_decide(&r, &d);
                            if (got.bundle_id != B)
                                continue;
                            offered++;
                            int dev_stage = -1;
                            for (int i = 0; i < NST; i++)
                                if (perms[perm][i] == pos)
                                    dev_stage = i;
                            ck_assert_int_ge(dev_stage, 0);
                            if (s != ROLLOUT_COMPLETED)
                                ck_assert_int_le(dev_stage, stage);
                            ck_assert(s == ROLLOUT_ACTIVE || s == ROLLOUT_PAUSED ||
                                      s == ROLLOUT_COMPLETED || (s == ROLLOUT_HALTED && !ohr));
                            ck_assert_int_eq(d.failed_itself, 0);
                            ck_assert_int_eq(got.action, ASSIGN_INSTALL);
                            ck_assert_int_eq(assign_in_started_ring(&r, &d), 1);
                        }
            }
    ck_assert_int_gt(offered, 0);
}
END_TEST

START_TEST(no_rollout_omits)
{
    assign_device d = {.ring_pos = 0, .exposed = 1};
    assign_result got = assign_decide(NULL, &d);
    ck_assert_int_eq(got.action, ASSIGN_OMIT);
    assign_rollout r = make(ROLLOUT_ACTIVE, 0, 1, PREV);
    r.bundle_id = 0; /* corrupt: no bundle */
    got = assign_decide(&r, &d);
    ck_assert_int_eq(got.action, ASSIGN_OMIT);
}
END_TEST

/* The scenarios of the integration tests, spelled out. */
START_TEST(named_scenarios)
{
    assign_device canary = {.ring_pos = 0}, broad = {.ring_pos = 1}, none = {.ring_pos = -1};
    /* first rollout of a channel, canary stage: broad gets nothing at all */
    assign_rollout r = make(ROLLOUT_ACTIVE, 0, 1, 0);
    r.nstages = 2;
    assign_result a = assign_decide(&r, &canary);
    ck_assert_int_eq(a.action, ASSIGN_INSTALL);
    ck_assert_int_eq(a.bundle_id, B);
    ck_assert_int_eq(assign_decide(&r, &broad).action, ASSIGN_OMIT);
    ck_assert_int_eq(assign_decide(&r, &none).action, ASSIGN_OMIT);
    /* halted and reverted by the evaluator: canary back to nothing, broad untouched */
    r.state = ROLLOUT_REVERTED;
    a = assign_decide(&r, &canary);
    ck_assert_int_eq(a.action, ASSIGN_REVERT);
    ck_assert_int_eq(a.bundle_id, 0);
    ck_assert_int_eq(assign_decide(&r, &broad).action, ASSIGN_OMIT);
    /* second rollout with a known-good previous bundle */
    r = make(ROLLOUT_ACTIVE, 0, 1, PREV);
    r.nstages = 2;
    a = assign_decide(&r, &broad);
    ck_assert_int_eq(a.action, ASSIGN_INSTALL);
    ck_assert_int_eq(a.bundle_id, PREV);
    r.state = ROLLOUT_REVERTED;
    a = assign_decide(&r, &canary);
    ck_assert_int_eq(a.action, ASSIGN_REVERT);
    ck_assert_int_eq(a.bundle_id, PREV);
    a = assign_decide(&r, &broad);
    ck_assert_int_eq(a.action, ASSIGN_INSTALL); /* unchanged for broad: no wake-up */
    ck_assert_int_eq(a.bundle_id, PREV);
    /* halted under a pause policy: an exposed canary device keeps the bundle,
     * one that has not begun does not begin, nobody else gets it */
    r.state = ROLLOUT_HALTED;
    r.on_halt_revert = 0;
    assign_device canary_on = {.ring_pos = 0, .exposed = 1};
    ck_assert_int_eq(assign_decide(&r, &canary_on).bundle_id, B);
    ck_assert_int_eq(assign_decide(&r, &canary).action, ASSIGN_OMIT);
    ck_assert_int_eq(assign_decide(&r, &broad).bundle_id, PREV);
    /* paused: the same */
    r.state = ROLLOUT_PAUSED;
    ck_assert_int_eq(assign_decide(&r, &canary_on).bundle_id, B);
    ck_assert_int_eq(assign_decide(&r, &canary).action, ASSIGN_OMIT);
    /* a device that rolled back locally is not offered the bundle again */
    assign_device rolled = {.ring_pos = 0, .exposed = 1, .failed_itself = 1};
    r.state = ROLLOUT_ACTIVE;
    a = assign_decide(&r, &rolled);
    ck_assert_int_eq(a.action, ASSIGN_REVERT);
    ck_assert_int_eq(a.bundle_id, PREV);
    /* completed: every ring of the plan; a ring added later is not in the plan */
    r.state = ROLLOUT_COMPLETED;
    r.stage = 1;
    ck_assert_int_eq(assign_decide(&r, &broad).bundle_id, B);
    assign_device later = {.ring_pos = 2};
    a = assign_decide(&r, &later);
    ck_assert_int_eq(a.action, ASSIGN_INSTALL);
    ck_assert_int_eq(a.bundle_id, PREV);
    ck_assert_int_eq(assign_device_stage(&r, 2), -1);
    ck_assert_int_eq(assign_device_stage(&r, 1), 1);
    ck_assert_int_eq(assign_device_stage(&r, -1), -1);
}
END_TEST

/* ---- share of a ring ---- */

/* SHA-256("salt:id"), first 4 bytes big-endian, mod 10000, computed
 * independently of this code base. */
static const struct {
    const char *salt, *id;
    uint32_t want;
} salted_vectors[] = {
    {"3f9c0a1b2c3d4e5f", "00000000000000000000000000000001", 8081},
    {"abc", "9f86d081884c7d659a2feaa0c55ad015", 5635},
    {"", "x", 4660},
    {"rollout-7", "deadbeefdeadbeefdeadbeefdeadbeef", 8284},
};

START_TEST(salted_order_is_stable)
{
    int fds[2];
    for (size_t i = 0; i < sizeof(salted_vectors) / sizeof(salted_vectors[0]); i++) {
        assign_key k;
        assign_key_make(salted_vectors[i].salt, salted_vectors[i].id, &k);
        ck_assert_uint_eq(k.salted, salted_vectors[i].want);
        ck_assert_str_eq(k.id, salted_vectors[i].id);
    }
    /* another process (fresh address space, no shared state) agrees */
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        uint32_t v[4];
        for (int i = 0; i < 4; i++)
            v[i] = rf_bucket_salted(salted_vectors[i].salt, salted_vectors[i].id);
        ssize_t w = write(fds[1], v, sizeof(v));
        _exit(w == (ssize_t)sizeof(v) ? 0 : 1);
    }
    uint32_t got[4];
    ck_assert_int_eq(read(fds[0], got, sizeof(got)), (ssize_t)sizeof(got));
    int status = 0;
    waitpid(pid, &status, 0);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(got[i], salted_vectors[i].want);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

#define NIDS 100000

static void make_id(int i, char out[33])
{
    snprintf(out, 33, "%08x%08x%08x%08x", (unsigned)i * 2654435761u, (unsigned)i, 0x5eedu,
             (unsigned)i ^ 0xabcdefu);
}

/* Over 100k ids, every tenth of the salted buckets and every share a plan
 * may ask for holds its fraction within one percentage point, for two
 * salts; and the two salts order the devices differently. */
START_TEST(salted_order_is_uniform)
{
    static const char *const salts[] = {"0123456789abcdef", "fedcba9876543210"};
    static const int shares[] = {1, 5, 10, 25, 50, 75, 90, 99};
    static uint32_t first[NIDS];
    int same = 0;
    for (int s = 0; s < 2; s++) {
        long long deciles[10] = {0}, below[sizeof(shares) / sizeof(shares[0])] = {0};
        for (int i = 0; i < NIDS; i++) {
            char id[33];
            make_id(i, id);
            uint32_t b = rf_bucket_salted(salts[s], id);
            ck_assert_uint_lt(b, 10000);
            deciles[b / 1000]++;
            for (size_t k = 0; k < sizeof(shares) / sizeof(shares[0]); k++)
                below[k] += b < (uint32_t)shares[k] * 100;
            if (s == 0)
                first[i] = b;
            else
                same += first[i] == b;
        }
        for (int d = 0; d < 10; d++)
            ck_assert_msg(deciles[d] >= NIDS / 10 - NIDS / 100 &&
                              deciles[d] <= NIDS / 10 + NIDS / 100,
                          "salt %d decile %d: %lld", s, d, deciles[d]);
        for (size_t k = 0; k < sizeof(shares) / sizeof(shares[0]); k++) {
            long long want = (long long)NIDS * shares[k] / 100;
            ck_assert_msg(below[k] >= want - NIDS / 100 && below[k] <= want + NIDS / 100,
                          "salt %d share %d%%: %lld", s, shares[k], below[k]);
        }
    }
    ck_assert_int_lt(same, NIDS / 50); /* about 1 in 10000 by chance */
}
END_TEST

/* The cut of a share: exactly ceil(n × p / 100) devices (at least one),
 * stable whatever order the keys come in, and never below the floor. */
START_TEST(share_cut_exact)
{
    static const int ns[] = {1, 2, 3, 7, 10, 100, 1000, NIDS};
    static const int pcts[] = {1, 10, 33, 50, 99};
    static assign_key keys[NIDS], copy[NIDS];
    for (int i = 0; i < NIDS; i++) {
        char id[33];
        make_id(i, id);
        assign_key_make("salt", id, &keys[i]);
    }
    for (size_t a = 0; a < sizeof(ns) / sizeof(ns[0]); a++)
        for (size_t b = 0; b < sizeof(pcts) / sizeof(pcts[0]); b++) {
            int n = ns[a], p = pcts[b];
            assign_key cut;
            memcpy(copy, keys, (size_t)n * sizeof(*keys));
            ck_assert_int_eq(assign_share_cut(copy, (size_t)n, p, NULL, &cut), 1);
            assign_share sh = {p, 1, cut};
            long long in = 0;
            for (int i = 0; i < n; i++)
                in += assign_in_share(&sh, &keys[i]);
            long long want = ((long long)n * p + 99) / 100;
            ck_assert_msg(in == (want < 1 ? 1 : want), "n %d p %d: %lld in", n, p, in);
            /* reversed input gives the same cut */
            for (int i = 0; i < n; i++)
                copy[i] = keys[n - 1 - i];
            assign_key again;
            assign_share_cut(copy, (size_t)n, p, NULL, &again);
            ck_assert_int_eq(assign_key_cmp(&cut, &again), 0);
        }
    /* shares grow: a later, larger share never drops a device, even when
     * the ring shrank meanwhile (the floor keeps the earlier cut) */
    assign_key c10, c50, floor_only;
    memcpy(copy, keys, 1000 * sizeof(*keys));
    assign_share_cut(copy, 1000, 10, NULL, &c10);
    memcpy(copy, keys, 50 * sizeof(*keys));
    assign_share_cut(copy, 50, 20, &c10, &c50);
    ck_assert_int_ge(assign_key_cmp(&c50, &c10), 0);
    ck_assert_int_eq(assign_share_cut(copy, 0, 50, &c10, &floor_only), 1);
    ck_assert_int_eq(assign_key_cmp(&floor_only, &c10), 0);
    ck_assert_int_eq(assign_share_cut(copy, 0, 50, NULL, &floor_only), 0);
    ck_assert_int_eq(assign_share_cut(copy, 10, 100, NULL, &floor_only), 0);
    /* whole rings and cut-less shares */
    assign_share whole = {0, 0, {0, ""}}, hundred = {100, 0, {0, ""}}, half = {50, 0, {0, ""}};
    assign_key lo = {4999, "a"}, hi = {5000, "a"};
    ck_assert(assign_in_share(&whole, &hi) && assign_in_share(&hundred, &hi));
    ck_assert(assign_in_share(&half, &lo) && !assign_in_share(&half, &hi));
}
END_TEST

/* A stage holds the devices of its ring within its share; shares of one
 * ring nest, so the first stage that holds a device is its stage. */
START_TEST(stage_of_device)
{
    assign_rollout r = make(ROLLOUT_ACTIVE, 1, 1, PREV);
    r.nstages = 4;
    int rings4[4] = {0, 1, 1, 2};
    memcpy(r.stage_ring_pos, rings4, sizeof(rings4));
    r.share[1] = (assign_share){10, 1, {1000, "m"}};
    r.share[2] = (assign_share){100, 0, {0, ""}};
    struct {
        int pos;
        uint32_t salted;
        const char *id;
        int want_stage;
        assign_action want;
    } cases[] = {
        {0, 9999, "z", 0, ASSIGN_INSTALL}, {1, 999, "z", 1, ASSIGN_INSTALL},
        {1, 1000, "a", 1, ASSIGN_INSTALL}, {1, 1000, "m", 1, ASSIGN_INSTALL},
        {1, 1000, "n", 2, ASSIGN_INSTALL}, {1, 5000, "a", 2, ASSIGN_INSTALL},
        {2, 0, "a", 3, ASSIGN_INSTALL},    {-1, 0, "a", -1, ASSIGN_INSTALL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assign_device d;
        memset(&d, 0, sizeof(d));
        d.ring_pos = cases[i].pos;
        d.key.salted = cases[i].salted;
        memcpy(d.key.id, cases[i].id, strlen(cases[i].id) + 1);
        ck_assert_msg(assign_stage_of(&r, &d) == cases[i].want_stage, "case %zu", i);
        assign_result a = assign_decide(&r, &d);
        long long want_bundle = cases[i].want_stage >= 0 && cases[i].want_stage <= 1 ? B : PREV;
        ck_assert_msg(a.action == cases[i].want && a.bundle_id == want_bundle, "case %zu: %d/%lld",
                      i, a.action, a.bundle_id);
    }
}
END_TEST

/* ---- start windows ---- */

/* 2024-01-01 was a Monday; T(d, h, m) is that week's day d (0 = Monday)
 * at h:m UTC. */
#define MON 1704067200LL
#define T(d, h, m) (MON + (d)*86400LL + (h)*3600LL + (m)*60LL)

START_TEST(windows)
{
    assign_window weekend_nights[] = {{1u << 5 | 1u << 6, 0, 6}};
    assign_window office[] = {{0x1f, 9, 17}, {1u << 5, 10, 12}};
    struct {
        const assign_window *w;
        int n;
        int64_t t;
        int open;
        int64_t next;
    } cases[] = {
        {NULL, 0, T(2, 3, 0), 1, T(2, 3, 0)},
        {weekend_nights, 1, T(5, 0, 0), 1, T(5, 0, 0)},
        {weekend_nights, 1, T(5, 5, 59), 1, T(5, 5, 59)},
        {weekend_nights, 1, T(5, 6, 0), 0, T(6, 0, 0)},
        {weekend_nights, 1, T(6, 3, 30), 1, T(6, 3, 30)},
        {weekend_nights, 1, T(0, 3, 0), 0, T(5, 0, 0)},
        {weekend_nights, 1, T(4, 23, 59), 0, T(5, 0, 0)},
        {office, 2, T(0, 8, 59), 0, T(0, 9, 0)},
        {office, 2, T(0, 9, 0), 1, T(0, 9, 0)},
        {office, 2, T(4, 17, 0), 0, T(5, 10, 0)},
        {office, 2, T(5, 11, 0), 1, T(5, 11, 0)},
        {office, 2, T(5, 12, 0), 0, T(7, 9, 0)},
        {office, 2, T(6, 12, 0), 0, T(7, 9, 0)},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ck_assert_msg(assign_windows_open(cases[i].w, cases[i].n, cases[i].t) == cases[i].open,
                      "case %zu", i);
        ck_assert_msg(assign_windows_next_open(cases[i].w, cases[i].n, cases[i].t) == cases[i].next,
                      "case %zu: %lld", i,
                      (long long)assign_windows_next_open(cases[i].w, cases[i].n, cases[i].t));
    }
    assign_window never[] = {{0, 0, 24}};
    ck_assert_int_eq(assign_windows_open(never, 1, T(1, 1, 0)), 0);
    ck_assert_int_eq(assign_windows_next_open(never, 1, T(1, 1, 0)), -1);
    for (int d = 0; d < 7; d++)
        ck_assert_int_eq(assign_day_parse(assign_day_name(d)), d);
    ck_assert_int_eq(assign_day_parse("Mon"), -1);
    ck_assert_int_eq(assign_day_parse(NULL), -1);
}
END_TEST

/* ---- ring membership ---- */

START_TEST(ring_members)
{
    const char *m1[] = {"00aa", "11bb", "ffcc"};
    json_t *canary_labels = json_pack("{s:s}", "ring", "canary");
    json_t *any = json_object();
    json_t *dev_canary = json_pack("{s:s}", "ring", "canary"), *dev_plain = json_object();
    assign_ring rings3[3] = {
        {{1, 0, canary_labels, 0, 9999}, m1, 3, 0, NULL, 0}, /* canary: label or member */
        {{2, 5, any, 0, 9999}, m1 + 1, 1, 1, NULL, 0},       /* members only: 11bb */
        {{3, 9, any, 0, 9999}, NULL, 0, 0, NULL, 0},         /* everyone */
    };
    struct {
        const char *id;
        json_t *labels;
        int want;
    } cases[] = {
        {"00aa", dev_plain, 0}, {"11bb", dev_plain, 0}, {"zz", dev_canary, 0},
        {"zz", dev_plain, 2},   {"ffcd", dev_plain, 2}, {NULL, dev_plain, 2},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        ck_assert_msg(assign_ring_of(rings3, 3, cases[i].id, cases[i].labels, 42) == cases[i].want,
                      "case %zu", i);
    /* the members-only ring selects its member and nobody else */
    ck_assert_int_eq(assign_ring_selects(&rings3[1], "11bb", dev_plain, 1), 1);
    ck_assert_int_eq(assign_ring_selects(&rings3[1], "00aa", dev_canary, 1), 0);
    /* order, not position in the array, decides */
    assign_ring swapped[2] = {rings3[2], rings3[1]};
    ck_assert_int_eq(assign_ring_of(swapped, 2, "11bb", dev_plain, 1), 1);
    ck_assert_int_eq(assign_ring_selects(NULL, "x", dev_plain, 1), 0);
    json_decref(canary_labels);
    json_decref(any);
    json_decref(dev_canary);
    json_decref(dev_plain);
}
END_TEST

/* ---- holds and windows in the decision ---- */

#define PIN 5
#define OTHER 9

struct hold_case {
    rollout_state state;
    int pos;     /* device ring position; the rollout is at stage 0 of rings 0,1,2 */
    int exposed; /* and runs the bundle */
    long long pin;
    int excluded;
    int window_open;
    long long current, installing;
    assign_action want;
    long long want_bundle;
};

static const struct hold_case hold_cases[] = {
    /* no holds: the rollout's rule; paused, nobody new begins */
    {ROLLOUT_ACTIVE, 0, 0, 0, 0, 1, PREV, 0, ASSIGN_INSTALL, B},
    {ROLLOUT_PAUSED, 0, 0, 0, 0, 1, PREV, 0, ASSIGN_OMIT, 0},
    {ROLLOUT_PAUSED, 0, 0, 0, 0, 1, B, 0, ASSIGN_INSTALL, B},
    {ROLLOUT_PAUSED, 1, 0, 0, 0, 1, 0, 0, ASSIGN_INSTALL, PREV},
    {ROLLOUT_ACTIVE, 1, 0, 0, 0, 1, PREV, 0, ASSIGN_INSTALL, PREV},
    /* a pin wins, in a started ring or not, whatever the state */
    {ROLLOUT_ACTIVE, 0, 0, PIN, 0, 1, PREV, 0, ASSIGN_INSTALL, PIN},
    {ROLLOUT_ACTIVE, 1, 0, PIN, 0, 1, PREV, 0, ASSIGN_INSTALL, PIN},
    {ROLLOUT_ACTIVE, 0, 1, PIN, 0, 1, B, 0, ASSIGN_REVERT, PIN},
    {ROLLOUT_COMPLETED, 2, 0, PIN, 0, 1, PIN, 0, ASSIGN_INSTALL, PIN},
    {ROLLOUT_REVERTED, 0, 1, PIN, 0, 1, B, 0, ASSIGN_REVERT, PIN},
    {ROLLOUT_ACTIVE, 0, 0, B, 0, 1, PREV, 0, ASSIGN_INSTALL, B},
    /* an excluded device keeps what it runs, unless it holds the bundle */
    {ROLLOUT_ACTIVE, 0, 0, 0, 1, 1, PREV, 0, ASSIGN_OMIT, 0},
    {ROLLOUT_ACTIVE, 1, 0, 0, 1, 1, OTHER, 0, ASSIGN_OMIT, 0},
    {ROLLOUT_COMPLETED, 0, 0, 0, 1, 1, PREV, 0, ASSIGN_OMIT, 0},
    {ROLLOUT_ACTIVE, 0, 1, 0, 1, 1, B, 0, ASSIGN_REVERT, PREV},
    {ROLLOUT_COMPLETED, 0, 0, 0, 1, 1, B, 0, ASSIGN_REVERT, PREV},
    {ROLLOUT_ACTIVE, 0, 0, 0, 1, 1, PREV, B, ASSIGN_REVERT, PREV},
    {ROLLOUT_REVERTED, 0, 1, 0, 1, 1, B, 0, ASSIGN_REVERT, PREV},
    {ROLLOUT_HALTED, 0, 1, 0, 1, 1, B, 0, ASSIGN_REVERT, PREV},
    /* a closed window holds new installs back, never reverts */
    {ROLLOUT_ACTIVE, 0, 0, 0, 0, 0, PREV, 0, ASSIGN_OMIT, 0},
    {ROLLOUT_ACTIVE, 0, 1, 0, 0, 0, B, 0, ASSIGN_INSTALL, B},
    {ROLLOUT_ACTIVE, 0, 1, 0, 0, 0, PREV, B, ASSIGN_INSTALL, B},
    {ROLLOUT_ACTIVE, 1, 0, 0, 0, 0, 0, 0, ASSIGN_OMIT, 0},
    {ROLLOUT_ACTIVE, 1, 0, 0, 0, 0, PREV, 0, ASSIGN_INSTALL, PREV},
    {ROLLOUT_REVERTED, 0, 1, 0, 0, 0, B, 0, ASSIGN_REVERT, PREV},
    {ROLLOUT_ACTIVE, 1, 0, PIN, 0, 0, PREV, 0, ASSIGN_OMIT, 0},
    {ROLLOUT_ACTIVE, 0, 1, PIN, 0, 0, B, 0, ASSIGN_REVERT, PIN},
};

START_TEST(holds_and_windows)
{
    assign_window closed[] = {{0, 0, 24}};
    for (size_t i = 0; i < sizeof(hold_cases) / sizeof(hold_cases[0]); i++) {
        const struct hold_case *c = &hold_cases[i];
        assign_rollout r = make(c->state, c->state == ROLLOUT_COMPLETED ? NST - 1 : 0, 1, PREV);
        assign_device d;
        memset(&d, 0, sizeof(d));
        d.ring_pos = c->pos;
        d.exposed = c->exposed;
        d.pin_bundle_id = c->pin;
        d.excluded = c->excluded;
        d.windows = c->window_open ? NULL : closed;
        d.nwindows = c->window_open ? 0 : 1;
        d.now_s = T(2, 12, 0);
        d.current_bundle_id = c->current;
        d.installing_bundle_id = c->installing;
        assign_result a = assign_decide(&r, &d);
        ck_assert_msg(a.action == c->want &&
                          (c->want == ASSIGN_OMIT || a.bundle_id == c->want_bundle),
                      "case %zu: got %d/%lld, want %d/%lld", i, a.action, a.bundle_id, c->want,
                      c->want_bundle);
        /* the safety rule holds with holds too */
        if (a.bundle_id == B && c->pin != B)
            ck_assert_int_eq(assign_in_started_ring(&r, &d), 1);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("assign");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, exhaustive_against_rules);
    tcase_add_test(tc, never_outside_started_ring);
    tcase_add_test(tc, no_rollout_omits);
    tcase_add_test(tc, named_scenarios);
    tcase_add_test(tc, salted_order_is_stable);
    tcase_add_test(tc, salted_order_is_uniform);
    tcase_add_test(tc, share_cut_exact);
    tcase_add_test(tc, stage_of_device);
    tcase_add_test(tc, windows);
    tcase_add_test(tc, ring_members);
    tcase_add_test(tc, holds_and_windows);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
