/* The simulator's engine: one event loop over libcurl multi (a bounded pool
 * of connections shared by every simulated device), a timer heap and the
 * per-device driver that feeds agent/proto.c its answers. device.c executes
 * proto's actions for one device; engine.c runs the loop and the transfers;
 * report.c turns the counters into the JSON and table report. */
#ifndef SIM_ENGINE_H
#define SIM_ENGINE_H

#include "sim.h"
#include "sim_tuf.h"
#include <curl/curl.h>
#include <signal.h>

typedef struct sim_timer {
    int64_t at;
    uint32_t dev;
    uint32_t gen;   /* the device's timer_gen when set (wake-ups only) */
    uint32_t crash; /* a crash due while the device long-polls */
} sim_timer;

typedef struct sim_xfer {
    CURL *easy; /* NULL while queued */
    uint32_t dev;
    proto_act_kind kind;
    int64_t seq;   /* HEARTBEAT */
    int64_t known; /* POLL */
    int wait_s;    /* POLL */
    int64_t started_ms;
    struct curl_slist *hdrs;
    rf_buf resp;
    struct sim_xfer *prev, *next; /* the list of transfers in flight, or the queue */
} sim_xfer;

typedef struct sim {
    const sim_scenario *sc;
    const char *base;       /* server URL, borrowed */
    const char *enroll_key; /* borrowed */
    uint32_t ndev;
    sim_dev *dev; /* owned */
    CURLM *multi;
    int epfd;            /* the sockets curl asks us to watch (socket_action) */
    int64_t curl_due_ms; /* when curl wants its timeout handled; -1: never */
    sim_tuf tuf;
    sim_timer *heap;
    size_t nheap, capheap;
    uint64_t rng;
    int64_t inflight;             /* pooled transfers handed to curl */
    int64_t longpolls;            /* long-polls handed to curl, a connection each */
    sim_xfer *xfers;              /* in flight (handed to curl), owned */
    sim_xfer *queue, *queue_tail; /* waiting for a connection, oldest first, owned */
    int64_t queued;
    proto_assignment asg; /* scratch: the assignment being fed */
    proto_target target;  /* scratch: the REFRESH answer being fed */
    sim_stats st;
    volatile sig_atomic_t *stop;
} sim;

/* engine.c */
rf_err sim_open(sim *s, const sim_scenario *sc, const char *base, const char *enroll_key,
                const char *trusted_root, int64_t tuf_max_age_ms, rf_error *err);
void sim_close(sim *s);
void sim_timer_set(sim *s, uint32_t dev, int64_t at);
/* A crash of a long-polling device at `at`: the machine goes down with its
 * connection, so the long-poll in flight is dropped and the device restarts
 * (a sleeping device's wake-up already covers its crash). */
void sim_crash_timer_set(sim *s, uint32_t dev, int64_t at);
/* Starts the transfer for act (ENROLL, HEARTBEAT or POLL with wait_s). A
 * long-poll (wait_s > 0) gets a connection of its own at once; any other
 * request waits in the simulator's queue while every pooled connection is
 * busy, so that curl never holds more transfers than connections. */
rf_err sim_http_start(sim *s, uint32_t dev, const proto_action *act, int wait_s);
/* Runs until *s->stop or end_ms; status_path (may be NULL) gets a progress
 * snapshot every second. */
void sim_run(sim *s, int64_t end_ms, const char *status_path);
double sim_rand(sim *s); /* [0, 1) */

/* device.c */
void dev_start(sim *s, uint32_t i, int64_t now);
/* Feeds ev (NULL: nothing) to device i and executes actions until it waits. */
void dev_run(sim *s, uint32_t i, const proto_event *ev);
void dev_http_done(sim *s, sim_xfer *x, CURLcode cc);
bool dev_offline(const sim *s, const sim_dev *d, int64_t now);
/* Index of rollout_id in s->st.rollouts (added when absent, -1 when full). */
int sim_rollout_slot(sim *s, int64_t rollout_id, int bundle);

/* report.c */
json_t *sim_report(const sim *s, int64_t now, int server_pid, int64_t cpu0_ticks);
void sim_report_print(const json_t *r);
int64_t sim_proc_cpu_ticks(int pid);

#endif
