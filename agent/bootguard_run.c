/* `ringfence-agent bootguard`: the early-boot oneshot. Once per boot, before
 * the content consumer loads, it counts a boot attempt of every bundle on
 * trial (DATA/bootguard.json, saved durably first) and, where
 * bootguard_decide() says so, runs the hook with RF_ACTION=revert, switches
 * the channel back to its previous slot and records a local rollback in
 * state.json, which the agent reports as rolled_back once the network is
 * back. It never talks to the network and never decides anything itself. */
#include "agent.h"
#include "boot.h"
#include "boothealth.h"
#include "bootguard.h"
#include "hook.h"
#include "rf_log.h"
#include "rf_util.h"
#include "slots.h"
#include "state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BOOTGUARD_MAX_BYTES (64 * 1024)

typedef struct guard {
    const agent_config *cfg;
    char data[4096];
    char state_path[4096 + 16];
    char rec_path[4096 + 32];
    char boot_id[PROTO_BOOT_ID_MAX + 1];
    proto p;
    boot_crashset known, seen; /* the agent's last snapshot; what is on disk now */
    bootguard_record rec;
    int64_t new_crashes; /* crash records on disk the agent has not seen */
    int lock_fd;         /* DATA/lock: never alongside a running agent */
    bool prev_clean;
} guard;

static void note_cb(void *arg, rf_log_level lvl, const char *what, const char *channel,
                    const char *detail)
{
    (void)arg;
    rf_log(lvl, what, "channel", channel ? channel : "-", "detail", detail, NULL);
}

static rf_err load_record(guard *g, rf_error *err)
{
    json_error_t jerr;
    json_t *root;
    rf_buf b;
    rf_err rc;

    memset(&g->rec, 0, sizeof(g->rec));
    if (access(g->rec_path, F_OK) != 0 && errno == ENOENT)
        return RF_OK; /* first run: an empty record */
    rf_buf_init(&b, BOOTGUARD_MAX_BYTES);
    if ((rc = rf_file_read(g->rec_path, &b, err)) != RF_OK) {
        rf_buf_cleanup(&b);
        return rc;
    }
    root = json_loadb(b.data ? b.data : "", b.len, JSON_REJECT_DUPLICATES, &jerr);
    rf_buf_cleanup(&b);
    if (!root)
        return rf_error_set(err, RF_ERR_INVALID, "%s: %s", g->rec_path, jerr.text);
    rc = bootguard_decode(root, &g->rec, err);
    json_decref(root);
    return rc;
}

static rf_err save_record(guard *g, rf_error *err)
{
    json_t *root = bootguard_encode(&g->rec);
    char *text = root ? json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    rf_err rc = RF_ERR_NOMEM;

    if (text)
        rc = rf_file_write_atomic(g->rec_path, text, strlen(text), 0600, err);
    else
        rf_error_set(err, rc, "out of memory");
    free(text);
    json_decref(root);
    return rc;
}

static rf_err guard_open(guard *g, rf_error *err)
{
    char mark[PROTO_BOOT_ID_MAX + 1], warn[256];
    const char *last;
    bool have_mark = false;
    rf_err rc;

    if (!realpath(g->cfg->data_dir, g->data))
        return rf_error_set(err, RF_ERR_NOT_FOUND, "data dir %s: %s", g->cfg->data_dir,
                            strerror(errno));
    if (rf_snprintf(g->state_path, sizeof(g->state_path), "%s/state.json", g->data) != RF_OK ||
        rf_snprintf(g->rec_path, sizeof(g->rec_path), "%s/%s", g->data, BOOTGUARD_FILE) != RF_OK)
        return rf_error_set(err, RF_ERR_TOO_LARGE, "data dir path too long");
    if ((rc = boothealth_lock(g->data, &g->lock_fd, err)) != RF_OK ||
        (rc = state_load(g->state_path, &g->p, &g->known, err)) != RF_OK ||
        (rc = boothealth_read_boot_id(g->cfg->boot_id_file, g->boot_id, err)) != RF_OK ||
        (rc = boothealth_peek_mark(g->data, mark, &have_mark, err)) != RF_OK ||
        (rc = load_record(g, err)) != RF_OK)
        return rc;
    /* The boot that ended is the last one this guard saw, or else the agent's. */
    last = g->rec.boot_id[0] ? g->rec.boot_id : g->p.boot_id;
    g->prev_clean = have_mark && strcmp(mark, last) == 0;
    boothealth_scan(g->cfg->crash_dirs, g->cfg->ncrash_dirs, &g->seen, warn, sizeof(warn));
    if (warn[0])
        rf_log(RF_LOG_WARN, "crash dirs", "detail", warn, NULL);
    g->new_crashes = (int64_t)boot_crashset_count_new(&g->known, &g->seen);
    return RF_OK;
}

/* Hook (RF_ACTION=revert) and slot switch for c's rollback target. A failing
 * hook is logged: the trial bundle must not be used either way. */
static rf_err switch_back(guard *g, const proto_channel *c, const proto_bundle *to, rf_error *err)
{
    char path[SLOTS_PATH_MAX] = "", id[32] = "";
    hook_env env = {
        "revert", path, c->name, to->id ? to->version : "", id, to->id ? to->sha256 : ""};
    rf_error herr = {0};

    if (to->id) {
        slots_bundle_path(g->data, c->name, to->slot, path, sizeof(path));
        snprintf(id, sizeof(id), "%lld", (long long)to->id);
    }
    if (g->cfg->install_hook &&
        hook_run(g->cfg->install_hook, &env, (int)g->cfg->hook_timeout_s, &herr) != RF_OK)
        rf_log(RF_LOG_ERROR, "bootguard revert hook failed", "channel", c->name, "detail",
               herr.message, NULL);
    return slots_switch(g->data, c->name, to->slot, err);
}

/* One channel's verdict against the record of the boot that ended (old). */
static bootguard_verdict judge(const guard *g, const bootguard_record *old, const proto_channel *c,
                               int64_t *attempts, char *why, size_t len)
{
    const bootguard_chan *r = bootguard_find(old, c->name);
    /* A bundle that a local rollback restored ran before: it is not guarded again. */
    bootguard_input in = {c->run == PROTO_RUN_TRIAL && c->current.id != 0 &&
                              c->op != PROTO_OP_ROLLED_BACK,
                          c->current.id,
                          r ? r->bundle_id : 0,
                          r ? r->attempts : 0,
                          strcmp(old->boot_id, g->boot_id) != 0,
                          g->prev_clean,
                          c->crashes + g->new_crashes,
                          g->cfg->boot_limit};

    return bootguard_decide(&in, attempts, why, len);
}

static rf_err roll_back(guard *g, proto_channel *c, const char *why, rf_error *err)
{
    proto_bundle to = {0};
    rf_error verr = {0};
    rf_err rc;

    if (c->previous.id && c->previous.slot != PROTO_SLOT_NONE)
        to = c->previous;
    for (uint32_t i = 0; i < c->nfailed && i < PROTO_MAX_FAILED; i++)
        if (to.id && c->failed[i].bundle_id == to.id)
            memset(&to, 0, sizeof(to)); /* never back to a bundle that failed here */
    if (to.id && slots_verify(g->data, c->name, to.slot, &to, &verr) != RF_OK) {
        rf_log(RF_LOG_ERROR, "bootguard: the previous slot is damaged; running nothing", "channel",
               c->name, "detail", verr.message, NULL);
        memset(&to, 0, sizeof(to));
    }
    if (!to.id)
        memset(&c->previous, 0, sizeof(c->previous));
    rf_log(RF_LOG_ERROR, "bootguard: rolling back", "channel", c->name, "detail", why, NULL);
    if ((rc = switch_back(g, c, &to, err)) != RF_OK)
        return rc;
    proto_local_rollback(&g->p, c, rf_now_ms(), why);
    return RF_OK;
}

/* Counts and decides every channel, saves the counts durably (a power cut
 * from here on decides the same again next boot), then rolls back. */
static rf_err guard_all(guard *g, int *rollbacks, rf_error *err)
{
    bootguard_record old = g->rec;
    bootguard_verdict v[PROTO_MAX_CHANNELS];
    char why[PROTO_MAX_CHANNELS][PROTO_ERROR_MAX];
    uint32_t n = g->p.nch < PROTO_MAX_CHANNELS ? g->p.nch : PROTO_MAX_CHANNELS;
    rf_err rc;

    memset(&g->rec, 0, sizeof(g->rec));
    memcpy(g->rec.boot_id, g->boot_id, sizeof(g->rec.boot_id));
    for (uint32_t i = 0; i < n; i++) {
        proto_channel *c = &g->p.ch[i];
        int64_t attempts = 0;
        char num[32];
        v[i] = judge(g, &old, c, &attempts, why[i], sizeof(why[i]));
        if (v[i] != BOOTGUARD_NONE || attempts)
            bootguard_set(&g->rec, c->name, c->current.id, attempts);
        snprintf(num, sizeof(num), "%lld", (long long)attempts);
        if (v[i] == BOOTGUARD_COUNTED && attempts > 0)
            rf_log(RF_LOG_WARN, "bootguard: bundle on trial after an unclean boot", "channel",
                   c->name, "attempts", num, NULL);
    }
    if ((rc = save_record(g, err)) != RF_OK)
        return rc;
    for (uint32_t i = 0; i < n; i++) {
        if (v[i] != BOOTGUARD_ROLLBACK)
            continue;
        if ((rc = roll_back(g, &g->p.ch[i], why[i], err)) != RF_OK)
            return rc;
        ++*rollbacks;
    }
    if (!*rollbacks)
        return RF_OK;
    /* The crash records and the unclean end of the last boot were the rolled-back
     * bundle's, now counted in its rollback: the agent must not blame them on
     * the bundle that runs again, so it finds them known and this boot observed. */
    boot_crashset_move(&g->known, &g->seen);
    memcpy(g->p.boot_id, g->boot_id, sizeof(g->p.boot_id));
    if ((rc = state_save(g->state_path, &g->p, &g->known, err)) != RF_OK)
        return rc;
    return boothealth_write_mark(g->data, g->boot_id, err);
}

int bootguard_run(const agent_config *cfg)
{
    proto_config pc = {cfg->heartbeat_interval_s * 1000, cfg->health_window_s * 1000};
    guard *g = calloc(1, sizeof(*g));
    rf_error err = {0};
    int rollbacks = 0, status = 1;
    rf_err rc;

    if (!g)
        return 1;
    g->cfg = cfg;
    proto_init(&g->p, &pc);
    g->p.note = note_cb;
    boot_crashset_init(&g->known);
    boot_crashset_init(&g->seen);
    g->lock_fd = -1;
    rc = guard_open(g, &err);
    if (rc == RF_ERR_CONFLICT) {
        rf_log(RF_LOG_WARN, "bootguard: the agent is running; the guard only runs before it",
               "detail", err.message, NULL);
        status = 0;
        goto out;
    }
    if (rc == RF_ERR_NOT_FOUND) {
        rf_log(RF_LOG_INFO, "bootguard: nothing installed yet", "detail", err.message, NULL);
        status = 0;
        goto out;
    }
    if (rc != RF_OK || (rc = guard_all(g, &rollbacks, &err)) != RF_OK) {
        rf_log(RF_LOG_ERROR, "bootguard failed", "detail", err.message, NULL);
        goto out;
    }
    if (rollbacks)
        rf_log(RF_LOG_WARN, "bootguard: local rollback recorded; the agent reports it", NULL);
    else
        rf_log(RF_LOG_INFO, "bootguard: nothing to do", "boot_id", g->boot_id, NULL);
    status = 0;
out:
    boot_crashset_cleanup(&g->known);
    boot_crashset_cleanup(&g->seen);
    proto_cleanup(&g->p);
    if (g->lock_fd >= 0)
        close(g->lock_fd);
    free(g);
    return status;
}
