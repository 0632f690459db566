/* The real agent's loop: start-up (trusted root, identity, state, boot observation),
 * then proto_step → execute the one action with blocking calls → feed its
 * result, until a signal asks for a shutdown; then the state is saved and the
 * clean-shutdown mark written. Local actions (boot, persist, health, install,
 * revert, sleep) are here; server calls are in agent_net.c. Going idle after
 * start-up or transient work, it gives back the memory that work left behind.
 * This file never decides anything the state machine decides: it only
 * executes and reports. */
#include "agent.h"
#include "agent_internal.h"
#include "boothealth.h"
#include "hook.h"
#include "memtrim.h"
#include "rf_log.h"
#include "rf_util.h"
#include "slots.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static void install_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: sleeps wake up */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static void note_cb(void *arg, rf_log_level lvl, const char *what, const char *channel,
                    const char *detail)
{
    (void)arg;
    if (channel)
        rf_log(lvl, what, "channel", channel, "detail", detail, NULL);
    else
        rf_log(lvl, what, "detail", detail, NULL);
}

int64_t agent_scan_crashes(agent *a)
{
    boot_crashset now;
    char warn[256];
    int64_t fresh;

    boot_crashset_init(&now);
    boothealth_scan(a->cfg->crash_dirs, a->cfg->ncrash_dirs, &now, warn, sizeof(warn));
    if (strcmp(warn, a->crash_warn) != 0) {
        if (warn[0])
            rf_log(RF_LOG_WARN, "crash dirs", "detail", warn, NULL);
        memcpy(a->crash_warn, warn, sizeof(warn));
    }
    fresh = a->baseline ? 0 : (int64_t)boot_crashset_count_new(&a->known, &now);
    a->baseline = false;
    boot_crashset_move(&a->known, &now);
    return fresh;
}

/* ---- start-up ----------------------------------------------------------- */

static rf_err open_paths(agent *a, const agent_config *cfg, rf_error *err)
{
    rf_err rc;

    if ((rc = rf_mkdirs(cfg->data_dir, 0700, err)) != RF_OK)
        return rc;
    if (!realpath(cfg->data_dir, a->data))
        return rf_error_set(err, RF_ERR_IO, "data dir %s: %s", cfg->data_dir, strerror(errno));
    if (rf_snprintf(a->state_path, sizeof(a->state_path), "%s/state.json", a->data) != RF_OK ||
        rf_snprintf(a->identity_path, sizeof(a->identity_path), "%s/identity.json", a->data) !=
            RF_OK)
        return rf_error_set(err, RF_ERR_TOO_LARGE, "data dir path too long");
    if (!cfg->install_hook)
        return RF_OK;
    if (!realpath(cfg->install_hook, a->hook) || access(a->hook, X_OK) != 0)
        return rf_error_set(err, RF_ERR_INVALID, "install hook %s: %s", cfg->install_hook,
                            strerror(errno));
    return RF_OK;
}

static rf_err open_identity_and_state(agent *a, rf_error *err)
{
    rf_err rc = state_identity_load(a->identity_path, &a->id, err);

    if (rc == RF_ERR_NOT_FOUND) {
        if (!a->cfg->enroll_key)
            return rf_error_set(err, RF_ERR_INVALID,
                                "not enrolled yet and no --enroll-key (or RINGFENCE_ENROLL_KEY)");
    } else if (rc != RF_OK) {
        return rc;
    }
    rc = state_load(a->state_path, &a->p, &a->known, err);
    if (rc == RF_ERR_NOT_FOUND) {
        a->baseline = true;
        return RF_OK;
    }
    if (rc != RF_OK && err) {
        char msg[sizeof(err->message)];
        memcpy(msg, err->message, sizeof(msg));
        rf_error_set(err, rc, "%s (move it away to start over: the device then re-installs)", msg);
    }
    return rc;
}

static rf_err agent_open(agent *a, const agent_config *cfg, rf_error *err)
{
    proto_config pc = {cfg->heartbeat_interval_s * 1000, cfg->health_window_s * 1000};
    char mark[PROTO_BOOT_ID_MAX + 1];
    bool have_mark = false;
    rf_err rc;

    a->cfg = cfg;
    proto_init(&a->p, &pc);
    a->p.note = note_cb;
    boot_crashset_init(&a->known);
    if ((rc = open_paths(a, cfg, err)) != RF_OK ||
        (rc = boothealth_lock(a->data, &a->lock_fd, err)) != RF_OK ||
        (rc = agent_tuf_open(a, err)) != RF_OK || (rc = open_identity_and_state(a, err)) != RF_OK ||
        (rc = boothealth_read_boot_id(cfg->boot_id_file, a->boot_id, err)) != RF_OK ||
        (rc = boothealth_take_mark(a->data, mark, &have_mark, err)) != RF_OK ||
        (rc = journal_open(&a->jr, a->data, err)) != RF_OK ||
        (rc = client_init(&a->cl, cfg->server, &g_stop, err)) != RF_OK)
        return rc;
    if (a->jr.n) {
        char n[32];
        snprintf(n, sizeof(n), "%zu", a->jr.n);
        rf_log(RF_LOG_INFO, "journal holds unsent heartbeats", "count", n, NULL);
    }
    a->boot_class = boot_classify(a->p.boot_id, a->boot_id, have_mark ? mark : NULL);
    return RF_OK;
}

static void agent_close(agent *a)
{
    client_cleanup(&a->cl);
    journal_close(&a->jr);
    if (a->lock_fd >= 0)
        close(a->lock_fd);
    rf_tuf_client_cleanup(&a->tuf);
    state_identity_wipe(&a->id);
    boot_crashset_cleanup(&a->known);
    proto_cleanup(&a->p);
}

/* ---- local actions ------------------------------------------------------ */

void agent_fail(agent *a, proto_event *ev, proto_result r, const char *msg)
{
    ev->result = r;
    snprintf(a->ev_error, sizeof(a->ev_error), "%s", msg);
    ev->error = a->ev_error;
}

static void do_boot(agent *a, proto_event *ev)
{
    rf_error err = {0};

    ev->kind = PROTO_EV_BOOT;
    ev->boot_id = a->boot_id;
    ev->boot_class = a->boot_class;
    ev->new_crashes = agent_scan_crashes(a);
    for (uint32_t i = 0; i < a->p.nch && i < PROTO_MAX_CHANNELS; i++) {
        if (slots_current(a->data, a->p.ch[i].name, &a->actual[i], &err) != RF_OK) {
            rf_log(RF_LOG_WARN, "slot link unreadable", "channel", a->p.ch[i].name, "detail",
                   err.message, NULL);
            a->actual[i] = PROTO_SLOT_NONE;
        }
    }
    ev->actual_slots = a->actual;
}

static void do_persist(agent *a, proto_event *ev)
{
    rf_error err = {0};

    ev->kind = PROTO_EV_PERSISTED;
    if (state_save(a->state_path, &a->p, &a->known, &err) != RF_OK)
        agent_fail(a, ev, PROTO_FAIL_IO, err.message);
}

static rf_err run_hook(agent *a, const char *action, const char *ch, proto_slot slot,
                       const proto_bundle *b, rf_error *err)
{
    char path[SLOTS_PATH_MAX] = "", id[32] = "";
    hook_env env;

    if (!a->hook[0])
        return RF_OK;
    if (b->id) {
        slots_bundle_path(a->data, ch, slot, path, sizeof(path));
        snprintf(id, sizeof(id), "%lld", (long long)b->id);
    }
    env.action = action;
    env.bundle_path = path;
    env.channel = ch;
    env.version = b->id ? b->version : "";
    env.bundle_id = id;
    env.sha256 = b->id ? b->sha256 : "";
    rf_log(RF_LOG_INFO, "running hook", "channel", ch, "action", action, "bundle_id", id, NULL);
    return hook_run(a->hook, &env, (int)a->cfg->hook_timeout_s, err);
}

static void do_install(agent *a, const proto_action *act, proto_event *ev)
{
    const proto_channel *c = &a->p.ch[act->channel];
    const char *action = act->hook_revert ? "revert" : "install";
    rf_error err = {0};

    ev->kind = PROTO_EV_INSTALLED;
    ev->channel = act->channel;
    ev->bundle_id = act->bundle->id;
    ev->new_crashes = agent_scan_crashes(a);
    if (slots_install(a->data, c->name, act->slot, act->bundle, &err) != RF_OK)
        agent_fail(a, ev, PROTO_FAIL_IO, err.message);
    else if (run_hook(a, action, c->name, act->slot, act->bundle, &err) != RF_OK)
        agent_fail(a, ev, PROTO_FAIL_HOOK, err.message);
    else if (slots_switch(a->data, c->name, act->slot, &err) != RF_OK)
        agent_fail(a, ev, PROTO_FAIL_IO, err.message);
}

static void do_revert(agent *a, const proto_action *act, proto_event *ev)
{
    const proto_channel *c = &a->p.ch[act->channel];
    rf_error err = {0};
    rf_err rc;

    ev->kind = PROTO_EV_REVERTED;
    ev->channel = act->channel;
    ev->bundle_id = act->bundle->id;
    ev->new_crashes = agent_scan_crashes(a);
    if (act->bundle->id &&
        (rc = slots_verify(a->data, c->name, act->slot, act->bundle, &err)) != RF_OK)
        agent_fail(a, ev, rc == RF_ERR_VERIFY ? PROTO_FAIL_VERIFY : PROTO_FAIL_IO, err.message);
    else if (run_hook(a, "revert", c->name, act->slot, act->bundle, &err) != RF_OK)
        agent_fail(a, ev, PROTO_FAIL_HOOK, err.message);
    else if (slots_switch(a->data, c->name, act->slot, &err) != RF_OK)
        agent_fail(a, ev, PROTO_FAIL_IO, err.message);
}

static void do_sleep(int64_t until_ms)
{
    while (!g_stop) {
        int64_t left = until_ms - rf_now_ms();
        struct timespec ts;
        if (left <= 0)
            return;
        if (left > 1000)
            left = 1000; /* bounds the wake-up delay of a signal racing the check */
        ts.tv_sec = left / 1000;
        ts.tv_nsec = (left % 1000) * 1000000L;
        nanosleep(&ts, NULL);
    }
}

/* Start-up and transient work (enrolment, a TUF refresh, a download, an
 * install or revert) leave library pages mapped and heap allocated that the
 * idle loop does not use; they are given back (memtrim.c) when the agent next
 * goes idle, before a sleep or a long poll. The idle loop's own actions do
 * not ask for it: unmapping what every cycle maps again would only trade
 * page faults, and the kernel's view of what the agent uses, for a smaller
 * resident figure. */
static void trim_when_idle(agent *a, const proto_action *act)
{
    char kib[32];

    switch (act->kind) {
    case PROTO_ACT_SLEEP:
    case PROTO_ACT_POLL:
        if (!a->trim_due || (act->kind == PROTO_ACT_POLL && act->wait_s == 0))
            return;
        a->trim_due = false;
        snprintf(kib, sizeof(kib), "%zu", memtrim_run() / 1024);
        rf_log(RF_LOG_DEBUG, "idle: library mappings trimmed", "kib", kib, NULL);
        return;
    case PROTO_ACT_CHECK_HEALTH:
    case PROTO_ACT_HEARTBEAT:
    case PROTO_ACT_PERSIST:
        return; /* the idle loop's own work */
    default:
        a->trim_due = true;
        return;
    }
}

static void execute(agent *a, const proto_action *act, proto_event *ev)
{
    trim_when_idle(a, act);
    a->ev_error[0] = '\0';
    ev->error = a->ev_error;
    ev->result = PROTO_OK;
    if (act->kind != PROTO_ACT_SLEEP)
        rf_log(RF_LOG_DEBUG, "action", "kind", proto_act_name(act->kind), NULL);
    switch (act->kind) {
    case PROTO_ACT_OBSERVE_BOOT:
        do_boot(a, ev);
        break;
    case PROTO_ACT_PERSIST:
        do_persist(a, ev);
        break;
    case PROTO_ACT_ENROLL:
        agent_do_enroll(a, ev);
        break;
    case PROTO_ACT_CHECK_HEALTH:
        ev->kind = PROTO_EV_HEALTH;
        ev->new_crashes = agent_scan_crashes(a);
        break;
    case PROTO_ACT_HEARTBEAT:
        agent_do_heartbeat(a, act, ev);
        break;
    case PROTO_ACT_POLL:
        agent_do_poll(a, act, ev);
        break;
    case PROTO_ACT_REFRESH:
        agent_do_refresh(a, act, ev);
        break;
    case PROTO_ACT_DOWNLOAD:
        agent_do_download(a, act, ev);
        break;
    case PROTO_ACT_INSTALL:
        do_install(a, act, ev);
        break;
    case PROTO_ACT_REVERT:
        do_revert(a, act, ev);
        break;
    default:
        do_sleep(act->kind == PROTO_ACT_SLEEP ? act->until_ms : rf_now_ms() + 1000);
        ev->kind = PROTO_EV_TIMER;
        break;
    }
}

static void log_start(const agent *a)
{
    char interval[32], root[32];

    snprintf(interval, sizeof(interval), "%lld", (long long)a->cfg->heartbeat_interval_s);
    snprintf(root, sizeof(root), "%lld", (long long)a->tuf.root.version);
    rf_log(RF_LOG_INFO, "agent starting", "version", RF_VERSION, "server", a->cfg->server,
           "data_dir", a->data, "device_id", a->id.device_id[0] ? a->id.device_id : "(enrolling)",
           "boot_id", a->boot_id, "boot", proto_boot_class_name(a->boot_class),
           "heartbeat_interval_s", interval, "trusted_root_version", root, "install_hook",
           a->hook[0] ? a->hook : "(none)", NULL);
}

static void loop(agent *a)
{
    proto_event ev = {.kind = PROTO_EV_START, .device_id = a->id.device_id};
    proto_action act;
    bool shutdown_fed = false;

    for (;;) {
        proto_step(&a->p, rf_now_ms(), &ev, &act);
        memset(&ev, 0, sizeof(ev));
        if (act.kind == PROTO_ACT_DONE)
            return;
        if (g_stop && !shutdown_fed) {
            /* The step in hand is finished; what was asked next is not started. */
            shutdown_fed = true;
            ev.kind = PROTO_EV_SHUTDOWN;
            rf_log(RF_LOG_INFO, "shutdown requested", NULL);
            continue;
        }
        execute(a, &act, &ev);
    }
}

int agent_run(const agent_config *cfg)
{
    agent *a = calloc(1, sizeof(*a));
    rf_error err = {0};
    int status = 1;

    if (!a) {
        rf_log(RF_LOG_ERROR, "out of memory", NULL);
        return 1;
    }
    a->lock_fd = -1;
    install_signals();
    if (agent_open(a, cfg, &err) != RF_OK) {
        rf_log(RF_LOG_ERROR, "cannot start", "detail", err.message, NULL);
        goto out;
    }
    log_start(a);
    loop(a);
    if (boothealth_write_mark(a->data, a->boot_id, &err) != RF_OK) {
        rf_log(RF_LOG_ERROR, "clean-shutdown mark not written", "detail", err.message, NULL);
        goto out;
    }
    rf_log(RF_LOG_INFO, "stopped cleanly", NULL);
    status = 0;
out:
    agent_close(a);
    free(a);
    return status;
}
