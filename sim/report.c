/* The simulator's report: fleet and ring sizes, per rollout the blast radius
 * (devices that installed a failing bundle before the halt was seen, by ring),
 * the time from first install to halt and from halt until every reachable
 * exposed device ran something else again, false halts of healthy bundles,
 * the heartbeat rate and the server's CPU and peak memory from /proc. Built
 * as JSON and printed as a table; it only reads the counters. */
#include "engine.h"
#include "rf_util.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

int64_t sim_proc_cpu_ticks(int pid)
{
    char path[64], buf[1024];
    unsigned long long ut = 0, st = 0;
    FILE *f;
    char *p;

    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    if (pid <= 0 || !(f = fopen(path, "r")))
        return -1;
    buf[0] = '\0';
    if (!fgets(buf, sizeof(buf), f))
        buf[0] = '\0';
    fclose(f);
    if (!(p = strrchr(buf, ')')) ||
        sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (int64_t)(ut + st);
}

static int64_t proc_hwm_kib(int pid)
{
    char path[64], line[256];
    long long kib = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    if (pid <= 0 || !(f = fopen(path, "r")))
        return -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmHWM: %lld", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

static double secs(int64_t a, int64_t b)
{
    return a && b ? (double)(b - a) / 1000.0 : -1.0;
}

/* Revert figures of rollout r: exposed, reachable, back, last back time. */
static json_t *exposure(const sim *s, int b, int64_t halt_ms)
{
    int64_t exposed = 0, reachable = 0, back = 0, silent = 0, last = 0;
    int64_t now = rf_now_ms();

    for (uint32_t i = 0; i < s->ndev; i++) {
        const sim_dev *d = &s->dev[i];
        if (d->bad_version != b)
            continue;
        exposed++;
        if (d->wait == SIM_SILENT) {
            silent++;
            continue;
        }
        if (dev_offline(s, d, now))
            continue;
        reachable++;
        if (d->back_ms) {
            back++;
            if (d->back_ms > last)
                last = d->back_ms;
        }
    }
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:f}", "exposed", (json_int_t)exposed, "silent",
                     (json_int_t)silent, "reachable", (json_int_t)reachable, "reverted",
                     (json_int_t)back, "not_reverted", (json_int_t)(reachable - back),
                     "halt_to_all_reverted_s",
                     back == reachable && halt_ms && last ? secs(halt_ms, last) : -1.0);
}

static json_t *rollout_json(const sim *s, const sim_rollout_seen *ro, int64_t *false_halt,
                            int64_t *healthy)
{
    const sim_scenario *sc = s->sc;
    const sim_bundle *b = ro->bundle >= 0 ? &sc->bundles[ro->bundle] : NULL;
    bool failing = b && b->mode != SIM_HEALTHY;
    json_t *rings = json_object(), *o;
    int64_t before = 0, outside = 0;

    for (uint32_t r = 0; r < sc->nrings; r++) {
        json_object_set_new(rings, sc->rings[r].name,
                            json_pack("{s:I, s:I}", "installed", (json_int_t)ro->installs[r],
                                      "before_halt", (json_int_t)ro->installs_before_halt[r]));
        before += ro->installs_before_halt[r];
        if (r > 0)
            outside += ro->installs[r];
    }
    if (!failing) {
        (*healthy)++;
        if (ro->halt_seen_ms)
            (*false_halt)++;
    }
    o = json_pack("{s:I, s:s, s:s, s:b, s:o, s:I, s:f, s:I, s:f, s:f, s:f}", "rollout_id",
                  (json_int_t)ro->rollout_id, "version", ro->version, "mode",
                  b ? (const char *[]){"healthy", "crash_at_boot", "crash_later", "boot_loop",
                                       "hook_fails"}[b->mode]
                    : "healthy",
                  "halted", ro->halt_seen_ms != 0, "rings", rings, "blast_radius",
                  (json_int_t)(failing ? before : 0), "blast_radius_share",
                  failing ? (double)before / (double)s->ndev : 0.0, "installed_outside_first_ring",
                  (json_int_t)outside, "first_install_to_halt_s",
                  secs(ro->first_install_ms, ro->halt_seen_ms), "first_crash_to_halt_s",
                  secs(ro->first_crash_ms, ro->halt_seen_ms), "first_install_s",
                  secs(s->st.started_ms, ro->first_install_ms));
    if (o && failing)
        json_object_set_new(o, "exposure", exposure(s, ro->bundle, ro->halt_seen_ms));
    return o;
}

json_t *sim_report(const sim *s, int64_t now, int server_pid, int64_t cpu0_ticks)
{
    json_t *rings = json_array(), *rollouts = json_array(), *o;
    int64_t false_halts = 0, healthy = 0, ticks = sim_proc_cpu_ticks(server_pid);
    double elapsed = (double)(now - s->st.started_ms) / 1000.0;
    double hz = (double)sysconf(_SC_CLK_TCK);
    struct rusage ru;

    for (uint32_t r = 0; r < s->sc->nrings; r++)
        json_array_append_new(rings, json_pack("{s:s, s:I}", "name", s->sc->rings[r].name, "size",
                                               (json_int_t)s->sc->rings[r].size));
    for (uint32_t i = 0; i < s->st.nrollouts; i++)
        json_array_append_new(rollouts,
                              rollout_json(s, &s->st.rollouts[i], &false_halts, &healthy));
    o = json_pack("{s:I, s:o, s:f, s:I, s:I, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:I, "
                  "s:I}",
                  "devices", (json_int_t)s->ndev, "rings", rings, "elapsed_s", elapsed, "enrolled",
                  (json_int_t)s->st.enrolled, "heartbeats_ok", (json_int_t)s->st.heartbeats_ok,
                  "heartbeats_per_s", elapsed > 0 ? (double)s->st.heartbeats_ok / elapsed : 0.0,
                  "heartbeats_failed", (json_int_t)s->st.heartbeats_failed, "polls",
                  (json_int_t)s->st.polls, "polls_failed", (json_int_t)s->st.polls_failed,
                  "transport_errors", (json_int_t)s->st.http_errors, "tuf_update_cycles",
                  (json_int_t)s->tuf.cycles, "refreshes", (json_int_t)s->st.refreshes,
                  "crashes_injected", (json_int_t)s->st.crashes_injected, "rollouts", rollouts,
                  "healthy_rollouts", (json_int_t)healthy, "false_halts", (json_int_t)false_halts);
    if (o && getrusage(RUSAGE_SELF, &ru) == 0) {
        json_object_set_new(o, "simulator_cpu_s",
                            json_real((double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                                      (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6));
        json_object_set_new(o, "simulator_peak_rss_kib", json_integer((json_int_t)ru.ru_maxrss));
    }
    if (o) {
        json_object_set_new(
            o, "heartbeat_latency_ms_avg",
            json_real(s->st.hb_done ? (double)s->st.hb_latency_ms / (double)s->st.hb_done : 0.0));
        json_object_set_new(o, "poll_latency_ms_avg",
                            json_real(s->st.poll_done
                                          ? (double)s->st.poll_latency_ms / (double)s->st.poll_done
                                          : 0.0));
    }
    if (o && server_pid > 0 && ticks >= 0 && cpu0_ticks >= 0)
        json_object_set_new(
            o, "server",
            json_pack("{s:i, s:f, s:f, s:I}", "pid", server_pid, "cpu_s",
                      (double)(ticks - cpu0_ticks) / hz, "cpu_cores",
                      elapsed > 0 ? (double)(ticks - cpu0_ticks) / hz / elapsed : 0.0,
                      "peak_rss_kib", (json_int_t)proc_hwm_kib(server_pid)));
    return o;
}

static double fnum(const json_t *o, const char *k)
{
    return json_number_value(json_object_get(o, k));
}

void sim_report_print(const json_t *r)
{
    const json_t *ro, *ring, *srv = json_object_get(r, "server");
    size_t i;

    printf("fleet: %lld devices in %zu rings (", (long long)fnum(r, "devices"),
           json_array_size(json_object_get(r, "rings")));
    json_array_foreach(json_object_get(r, "rings"), i, ring)
        printf("%s%s %lld", i ? ", " : "", json_string_value(json_object_get(ring, "name")),
               (long long)fnum(ring, "size"));
    printf("); %.1f s; %.0f heartbeats/s; %lld polls; %lld transport errors\n",
           fnum(r, "elapsed_s"), fnum(r, "heartbeats_per_s"), (long long)fnum(r, "polls"),
           (long long)fnum(r, "transport_errors"));
    if (srv)
        printf("server: %.1f s CPU (%.2f cores), peak RSS %.1f MiB\n", fnum(srv, "cpu_s"),
               fnum(srv, "cpu_cores"), fnum(srv, "peak_rss_kib") / 1024.0);
    printf("simulator: %.1f s CPU, peak RSS %.1f MiB; mean latency (queueing included): "
           "heartbeat %.0f ms, poll %.0f ms\n",
           fnum(r, "simulator_cpu_s"), fnum(r, "simulator_peak_rss_kib") / 1024.0,
           fnum(r, "heartbeat_latency_ms_avg"), fnum(r, "poll_latency_ms_avg"));
    printf("%-8s %-8s %-13s %-6s %-7s %-8s %-8s %-8s %-8s %-8s %-9s\n", "rollout", "version",
           "mode", "halted", "blast", "share", "outside", "to_halt", "crash_to", "exposed",
           "to_revert");
    json_array_foreach(json_object_get(r, "rollouts"), i, ro)
    {
        const json_t *e = json_object_get(ro, "exposure");
        printf("%-8lld %-8s %-13s %-6s %-7lld %-8.4f %-8lld %-8.2f %-8.2f %-8lld %-9.2f\n",
               (long long)fnum(ro, "rollout_id"), json_string_value(json_object_get(ro, "version")),
               json_string_value(json_object_get(ro, "mode")),
               json_is_true(json_object_get(ro, "halted")) ? "yes" : "no",
               (long long)fnum(ro, "blast_radius"), fnum(ro, "blast_radius_share"),
               (long long)fnum(ro, "installed_outside_first_ring"),
               fnum(ro, "first_install_to_halt_s"), fnum(ro, "first_crash_to_halt_s"),
               e ? (long long)fnum(e, "exposed") : 0LL,
               e ? fnum(e, "halt_to_all_reverted_s") : -1.0);
    }
    printf("healthy rollouts %lld, false halts %lld\n", (long long)fnum(r, "healthy_rollouts"),
           (long long)fnum(r, "false_halts"));
}
