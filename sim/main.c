/* ringfence-fleetsim: simulates a fleet of devices against a real ringfenced
 * over the real HTTP protocol, each device driven by the agent's own protocol
 * state machine (agent/proto.c) from one event loop, and reports blast radius,
 * time to halt and revert, false halts and the heartbeat rate (see
 * docs/fleetsim.md). It never talks to the database and never needs a
 * privileged token: only the enrollment key and the trusted root. */
#include "engine.h"
#include "rf_log.h"
#include "rf_util.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

typedef struct opts {
    const char *server, *enroll_key, *root, *scenario, *report, *status;
    int64_t devices, duration_s, tuf_max_age_ms, server_pid;
} opts;

static void usage(FILE *f)
{
    fprintf(f, "usage: ringfence-fleetsim --server URL --trusted-root FILE --scenario FILE\n"
               "         [--enroll-key KEY (or RINGFENCE_ENROLL_KEY)] [--devices N]\n"
               "         [--duration S] [--report FILE] [--status-file FILE]\n"
               "         [--server-pid PID] [--tuf-max-age-ms MS]\n"
               "Runs until --duration elapses or SIGTERM/SIGINT, then prints the report\n"
               "(and writes it as JSON to --report).\n");
}

static int parse(int argc, char **argv, opts *o)
{
    static const struct option lo[] = {
        {"server", 1, NULL, 's'},         {"enroll-key", 1, NULL, 'k'},
        {"trusted-root", 1, NULL, 't'},   {"scenario", 1, NULL, 'c'},
        {"report", 1, NULL, 'r'},         {"status-file", 1, NULL, 'S'},
        {"devices", 1, NULL, 'n'},        {"duration", 1, NULL, 'd'},
        {"tuf-max-age-ms", 1, NULL, 'm'}, {"server-pid", 1, NULL, 'p'},
        {"help", 0, NULL, 'h'},           {NULL, 0, NULL, 0}};
    int c;
    long long v;

    o->enroll_key = getenv("RINGFENCE_ENROLL_KEY");
    o->duration_s = 3600;
    o->tuf_max_age_ms = 2000;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        int64_t *num = c == 'n'   ? &o->devices
                       : c == 'd' ? &o->duration_s
                       : c == 'm' ? &o->tuf_max_age_ms
                       : c == 'p' ? &o->server_pid
                                  : NULL;
        if (num) {
            if (rf_parse_ll(optarg, 0, 100000000, &v) != RF_OK) {
                fprintf(stderr, "fleetsim: bad number %s\n", optarg);
                return 2;
            }
            *num = v;
            continue;
        }
        switch (c) {
        case 's':
            o->server = optarg;
            break;
        case 'k':
            o->enroll_key = optarg;
            break;
        case 't':
            o->root = optarg;
            break;
        case 'c':
            o->scenario = optarg;
            break;
        case 'r':
            o->report = optarg;
            break;
        case 'S':
            o->status = optarg;
            break;
        case 'h':
            usage(stdout);
            return 1;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!o->server || !o->root || !o->scenario || !o->enroll_key) {
        usage(stderr);
        return 2;
    }
    return 0;
}

/* One connection per long-polling device: the soft open-file limit goes up
 * to the hard one. */
static void raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static int finish(sim *s, const opts *o, int64_t cpu0)
{
    json_t *r = sim_report(s, rf_now_ms(), (int)o->server_pid, cpu0);
    char *text = r ? json_dumps(r, JSON_INDENT(2)) : NULL;
    rf_error err = {0};
    int status = 0;

    if (!text) {
        fprintf(stderr, "fleetsim: cannot build the report\n");
        status = 1;
    } else {
        sim_report_print(r);
        if (o->report && rf_file_write_atomic(o->report, text, strlen(text), 0644, &err) != RF_OK) {
            fprintf(stderr, "fleetsim: %s\n", err.message);
            status = 1;
        }
    }
    free(text);
    json_decref(r);
    return status;
}

int main(int argc, char **argv)
{
    opts o = {0};
    sim_scenario sc;
    sim *s = NULL;
    rf_error err = {0};
    int status = 1;
    int64_t cpu0;

    if ((status = parse(argc, argv, &o)) != 0)
        return status == 1 ? 0 : status;
    status = 1;
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit();
    rf_log_set_component("fleetsim");
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (sim_scenario_load(o.scenario, o.devices, &sc, &err) != RF_OK) {
        fprintf(stderr, "fleetsim: %s\n", err.message);
        curl_global_cleanup();
        return 2;
    }
    if (!(s = calloc(1, sizeof(*s))))
        goto out;
    s->stop = &g_stop;
    if (sim_open(s, &sc, o.server, o.enroll_key, o.root, o.tuf_max_age_ms, &err) != RF_OK) {
        fprintf(stderr, "fleetsim: %s\n", err.message);
        goto out;
    }
    cpu0 = sim_proc_cpu_ticks((int)o.server_pid);
    sim_run(s, rf_now_ms() + o.duration_s * 1000, o.status);
    status = finish(s, &o, cpu0);
out:
    sim_close(s);
    free(s);
    sim_scenario_cleanup(&sc);
    curl_global_cleanup();
    return status;
}
