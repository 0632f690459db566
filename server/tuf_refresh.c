/* Keeps the TUF repository fresh: every tick it reads the stored heads,
 * re-signs the chain from the first role that is due (tuf_plan_refresh), and,
 * when a newer root appears, reloads the online keys from the keys directory
 * and swaps them in once they match it. Several servers may run this at once:
 * the repository lock makes one of them do the work. It never stops on a
 * database error (it logs, then tries again), and it stops promptly. */
#include "tuf_refresh.h"
#include "rf_log.h"
#include "rf_util.h"
#include "store_tuf.h"
#include "tuf_keys.h"
#include "tuf_publish.h"
#include "ticker.h"

#include <string.h>

#define REFRESH_TICK_MS 1000
#define REFRESH_ACQUIRE_MS 1000
#define WARN_EVERY_S 3600

static struct refresher {
    ticker tk;
    /* Touched by one thread at a time (the refresher, or main before it starts). */
    char last_error[256];
    int64_t last_error_s;
    int64_t root_warned_s;
} rt = {.tk = TICKER_INIT};

/* Logs a failure, once per distinct message per WARN_EVERY_S. */
static void note_error(const char *what, const rf_error *e, int64_t now_s)
{
    if (strcmp(rt.last_error, e->message) == 0 && now_s - rt.last_error_s < WARN_EVERY_S)
        return;
    memcpy(rt.last_error, e->message, sizeof(rt.last_error));
    rt.last_error_s = now_s;
    rf_log(e->code == RF_ERR_UNAVAILABLE ? RF_LOG_WARN : RF_LOG_ERROR, what, "detail", e->message,
           NULL);
}

/* A newer root may name new online keys: load the key files and install
 * them once they match it; keep the current set while they do not. */
static rf_err follow_root(rf_server *srv, rf_db *db, long long root_version, rf_error *err)
{
    tuf_root root;
    tuf_keyset *cur = tuf_keys_get(srv), *fresh = NULL;
    char v[24];
    int same = cur != NULL && cur->root_version == root_version;
    rf_err rc;

    tuf_keyset_put(cur);
    if (same)
        return RF_OK;
    rc = tuf_publish_latest_root(db, &root, NULL, err);
    if (rc == RF_OK)
        rc = tuf_keyset_load(srv->cfg.keys_dir, &fresh, err);
    if (rc == RF_OK)
        rc = tuf_keyset_check(fresh, &root, err);
    if (rc != RF_OK) {
        tuf_keyset_put(fresh);
        return rc;
    }
    fresh->root_version = root.version;
    tuf_keys_install(srv, fresh);
    /* Answers signed with the old director key must go: cached ones are
     * dropped and long-polls re-read (see assign_cache.h). */
    rf_server_notify(srv);
    rf_snprintf(v, sizeof(v), "%lld", root.version);
    rf_log(RF_LOG_INFO, "tuf: online keys loaded and checked against root", "root_version", v,
           NULL);
    return RF_OK;
}

rf_err tuf_keys_follow(rf_server *srv, rf_db *db, rf_error *err)
{
    tuf_heads h;
    rf_err rc = store_tuf_heads(db, &h, err);

    return rc == RF_OK ? follow_root(srv, db, h.role[TUF_ROOT].version, err) : rc;
}

static void warn_root_expiry(const tuf_heads *h, const tuf_periods *p, int64_t now_s)
{
    char when[32];

    if (h->role[TUF_ROOT].version == 0 ||
        !tuf_root_expiring(h->role[TUF_ROOT].expires_s, p->s[TUF_ROOT], now_s) ||
        now_s - rt.root_warned_s < WARN_EVERY_S)
        return;
    rt.root_warned_s = now_s;
    rf_time_iso(h->role[TUF_ROOT].expires_s, when);
    rf_log(RF_LOG_WARN,
           "tuf: root.json expires soon; hold a root ceremony (ringfenced keys rotate-root)",
           "expires", when, NULL);
}

static rf_err resign(rf_server *srv, rf_db *db, const tuf_periods *p, int64_t now_s, rf_error *err)
{
    tuf_keyset *ks = tuf_keys_get(srv);
    tuf_role what = TUF_NROLES;
    rf_err rc;

    if (ks == NULL)
        return rf_error_set(err, RF_ERR_INTERNAL, "no online keys loaded");
    rc = store_begin(db);
    if (rc == RF_OK)
        rc = tuf_publish_refresh(db, ks, p, now_s, &what, err);
    if (rc == RF_OK)
        rc = store_commit(db);
    else
        store_rollback(db);
    tuf_keyset_put(ks);
    if (rc == RF_OK && what != TUF_NROLES)
        rf_log(RF_LOG_INFO, "tuf: metadata re-signed before expiry", "from", tuf_role_name(what),
               NULL);
    if (rc == RF_ERR_UNAVAILABLE && err != NULL && err->code != rc)
        rf_error_set(err, rc, "database unavailable");
    return rc;
}

rf_err tuf_refresh_once(rf_server *srv, rf_error *err)
{
    int64_t now_s = rf_now_ms() / 1000;
    tuf_periods p;
    tuf_heads h;
    rf_db *db = NULL;
    rf_err rc;

    tuf_periods_of(&srv->cfg, &p);
    if (store_acquire(srv->store, REFRESH_ACQUIRE_MS, &db) != RF_OK)
        return rf_error_set(err, RF_ERR_UNAVAILABLE, "database unavailable");
    rc = store_tuf_heads(db, &h, err);
    if (rc == RF_OK)
        rc = follow_root(srv, db, h.role[TUF_ROOT].version, err);
    if (rc == RF_OK && tuf_plan_refresh(&h, &p, now_s) != TUF_NROLES)
        rc = resign(srv, db, &p, now_s, err);
    if (rc == RF_OK)
        warn_root_expiry(&h, &p, now_s);
    store_release(srv->store, db);
    return rc;
}

static void refresh_tick(void *arg)
{
    rf_error e = {0};

    if (tuf_refresh_once(arg, &e) != RF_OK)
        note_error("tuf: repository refresh failed", &e, rf_now_ms() / 1000);
    else
        rt.last_error[0] = '\0';
}

rf_err tuf_refresh_start(rf_server *srv)
{
    return ticker_start(&rt.tk, REFRESH_TICK_MS, refresh_tick, srv);
}

void tuf_refresh_stop(rf_server *srv)
{
    (void)srv;
    ticker_stop(&rt.tk);
}
