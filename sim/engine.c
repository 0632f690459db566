/* The simulator's event loop: a timer heap of sleeping devices and libcurl
 * multi transfers, driven by curl_multi_socket_action over epoll (a wake-up
 * costs the sockets that are ready, not all of them), over a bounded pool of
 * keep-alive connections shared by all devices (requests beyond it wait in a
 * queue here, not in curl) plus one connection per long-polling device. A
 * finished transfer or an expired timer hands its device to device.c, which
 * steps proto.c. This file decides nothing about the protocol and never
 * blocks except in epoll_wait (and the shared TUF client's rare update cycle). */
#include "engine.h"
#include "rf_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define XFER_RESP_CAP (RF_TUF_ASSIGNMENT_MAX_BYTES)

double sim_rand(sim *s)
{
    /* xorshift64*: reproducible per seed, good enough for coin flips */
    s->rng ^= s->rng >> 12;
    s->rng ^= s->rng << 25;
    s->rng ^= s->rng >> 27;
    return (double)((s->rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/* ---- timers ------------------------------------------------------------- */

static void heap_swap(sim *s, size_t a, size_t b)
{
    sim_timer t = s->heap[a];
    s->heap[a] = s->heap[b];
    s->heap[b] = t;
}

static void heap_push(sim *s, sim_timer t)
{
    size_t i;

    if (s->nheap == s->capheap) {
        size_t cap = s->capheap ? s->capheap * 2 : 1024;
        sim_timer *h = realloc(s->heap, cap * sizeof(*h));
        if (!h) {
            fprintf(stderr, "fleetsim: out of memory for timers\n");
            abort();
        }
        s->heap = h;
        s->capheap = cap;
    }
    s->heap[s->nheap] = t;
    for (i = s->nheap++; i > 0 && s->heap[(i - 1) / 2].at > s->heap[i].at; i = (i - 1) / 2)
        heap_swap(s, i, (i - 1) / 2);
}

void sim_timer_set(sim *s, uint32_t dev, int64_t at)
{
    s->dev[dev].wait = SIM_TIMER;
    heap_push(s, (sim_timer){at, dev, ++s->dev[dev].timer_gen, 0});
}

void sim_crash_timer_set(sim *s, uint32_t dev, int64_t at)
{
    heap_push(s, (sim_timer){at, dev, 0, 1});
}

static sim_timer heap_pop(sim *s)
{
    sim_timer top = s->heap[0];
    size_t i = 0;

    s->heap[0] = s->heap[--s->nheap];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < s->nheap && s->heap[l].at < s->heap[m].at)
            m = l;
        if (r < s->nheap && s->heap[r].at < s->heap[m].at)
            m = r;
        if (m == i)
            break;
        heap_swap(s, i, m);
        i = m;
    }
    return top;
}

/* ---- transfers ---------------------------------------------------------- */

static size_t on_body(char *ptr, size_t size, size_t n, void *arg)
{
    sim_xfer *x = arg;

    if (rf_buf_append(&x->resp, ptr, size * n) != RF_OK)
        return 0; /* over the cap: the transfer fails */
    return size * n;
}

static void xfer_free(sim_xfer *x)
{
    if (!x)
        return;
    curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->hdrs);
    rf_buf_cleanup(&x->resp);
    free(x);
}

static rf_err build_body(sim *s, const sim_xfer *x, char **out)
{
    const sim_dev *d = &s->dev[x->dev];
    json_t *hb;
    char host[32];
    rf_buf b;

    *out = NULL;
    if (x->kind == PROTO_ACT_HEARTBEAT) {
        hb = wire_heartbeat(&d->p, x->seq, (rf_now_ms() - s->st.started_ms) / 1000,
                            RF_VERSION "-sim");
        *out = hb ? json_dumps(hb, JSON_COMPACT) : NULL;
        json_decref(hb);
        return *out ? RF_OK : RF_ERR_NOMEM;
    }
    if (x->kind != PROTO_ACT_ENROLL)
        return RF_OK;
    snprintf(host, sizeof(host), "sim-%u", x->dev);
    rf_buf_init(&b, 64 * 1024);
    if (wire_enroll_request(host, s->sc->rings[d->ring].labels, &b, NULL) != RF_OK) {
        rf_buf_cleanup(&b);
        return RF_ERR_NOMEM;
    }
    size_t len = 0;
    *out = rf_buf_steal(&b, &len);
    return *out ? RF_OK : RF_ERR_NOMEM;
}

static rf_err set_request(sim *s, sim_xfer *x, char *body)
{
    const sim_dev *d = &s->dev[x->dev];
    char url[1200], auth[WIRE_TOKEN_MAX + 32];
    const char *token = x->kind == PROTO_ACT_ENROLL ? s->enroll_key : d->token;
    const char *path = x->kind == PROTO_ACT_ENROLL      ? "/v1/agent/enroll"
                       : x->kind == PROTO_ACT_HEARTBEAT ? "/v1/agent/heartbeat"
                                                        : NULL;
    int n;

    if (path)
        n = snprintf(url, sizeof(url), "%s%s", s->base, path);
    else
        n = snprintf(url, sizeof(url), "%s/v1/agent/assignment?wait=%d&known=%lld", s->base,
                     x->wait_s, (long long)x->known);
    if (n < 0 || (size_t)n >= sizeof(url) ||
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token) >= (int)sizeof(auth))
        return RF_ERR_TOO_LARGE;
    x->hdrs = curl_slist_append(x->hdrs, auth);
    explicit_bzero(auth, sizeof(auth));
    x->hdrs = curl_slist_append(x->hdrs, "Expect:");
    if (body)
        x->hdrs = curl_slist_append(x->hdrs, "Content-Type: application/json");
    curl_easy_setopt(x->easy, CURLOPT_URL, url);
    curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->hdrs);
    curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
    curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(x->easy, CURLOPT_TIMEOUT, (long)x->wait_s + 60L);
    curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    if (body)
        curl_easy_setopt(x->easy, CURLOPT_COPYPOSTFIELDS, body);
    return RF_OK;
}

/* Hands a queued transfer to curl: its request is built now (the device
 * waits for the answer meanwhile, so its state is what it was when queued). */
static rf_err xfer_launch(sim *s, sim_xfer *x)
{
    char *body = NULL;
    rf_err rc = RF_ERR_NOMEM;

    if (!(x->easy = curl_easy_init()))
        goto out;
    if ((rc = build_body(s, x, &body)) != RF_OK || (rc = set_request(s, x, body)) != RF_OK)
        goto out;
    if (curl_multi_add_handle(s->multi, x->easy) != CURLM_OK) {
        rc = RF_ERR_IO;
        goto out;
    }
    if (x->wait_s > 0)
        s->longpolls++;
    else
        s->inflight++;
    x->prev = NULL;
    x->next = s->xfers;
    if (s->xfers)
        s->xfers->prev = x;
    s->xfers = x;
out:
    free(body);
    return rc;
}

rf_err sim_http_start(sim *s, uint32_t dev, const proto_action *act, int wait_s)
{
    sim_xfer *x = calloc(1, sizeof(*x));

    if (!x)
        return RF_ERR_NOMEM;
    x->dev = dev;
    x->kind = act->kind;
    x->seq = act->seq;
    x->known = act->known;
    x->wait_s = wait_s;
    x->started_ms = rf_now_ms();
    rf_buf_init(&x->resp, XFER_RESP_CAP);
    s->dev[dev].wait = SIM_HTTP;
    if (wait_s > 0) {
        rf_err rc = xfer_launch(s, x);
        if (rc != RF_OK)
            xfer_free(x);
        return rc;
    }
    if (s->queue_tail)
        s->queue_tail->next = x;
    else
        s->queue = x;
    s->queue_tail = x;
    s->queued++;
    return RF_OK;
}

/* Launches queued transfers while a pooled connection is free. A transfer
 * that cannot be built fails its device as a transport error would. */
static void launch_queued(sim *s)
{
    while (s->queue && s->inflight < s->sc->max_connections) {
        sim_xfer *x = s->queue;
        s->queue = x->next;
        if (!s->queue)
            s->queue_tail = NULL;
        s->queued--;
        x->next = NULL;
        if (xfer_launch(s, x) != RF_OK) {
            dev_http_done(s, x, CURLE_OUT_OF_MEMORY);
            xfer_free(x);
        }
    }
}

static void drain(sim *s)
{
    CURLMsg *m;
    int left;

    while ((m = curl_multi_info_read(s->multi, &left))) {
        sim_xfer *x = NULL;
        if (m->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        curl_multi_remove_handle(s->multi, m->easy_handle);
        if (x->wait_s > 0)
            s->longpolls--;
        else
            s->inflight--;
        if (x->prev)
            x->prev->next = x->next;
        else
            s->xfers = x->next;
        if (x->next)
            x->next->prev = x->prev;
        dev_http_done(s, x, m->data.result);
        xfer_free(x);
    }
    launch_queued(s);
}

/* ---- the loop ----------------------------------------------------------- */

/* curl names a socket to watch (or to forget): epoll follows. */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *arg, void *sockp)
{
    sim *s = arg;
    struct epoll_event ev = {0};

    (void)easy;
    (void)sockp;
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(s->epfd, EPOLL_CTL_DEL, fd, NULL);
        return 0;
    }
    ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
    ev.data.fd = fd;
    if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, fd, &ev) != 0 && errno == ENOENT)
        epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev);
    return 0;
}

/* curl asks to be called again in timeout_ms (-1: no timeout). */
static int on_timer(CURLM *multi, long timeout_ms, void *arg)
{
    sim *s = arg;

    (void)multi;
    s->curl_due_ms = timeout_ms < 0 ? -1 : rf_now_ms() + timeout_ms;
    return 0;
}

rf_err sim_open(sim *s, const sim_scenario *sc, const char *base, const char *enroll_key,
                const char *trusted_root, int64_t tuf_max_age_ms, rf_error *err)
{
    int64_t n = 0;
    long conns;
    rf_err rc;

    s->epfd = -1;
    s->curl_due_ms = -1;
    s->sc = sc;
    s->base = base;
    s->enroll_key = enroll_key;
    s->rng = sc->seed ? sc->seed * 0x9E3779B97F4A7C15ULL : 1;
    for (uint32_t r = 0; r < sc->nrings; r++)
        n += sc->rings[r].size;
    if (n < 1 || n > 2000000)
        return rf_error_set(err, RF_ERR_INVALID, "the fleet must have 1..2000000 devices");
    s->ndev = (uint32_t)n;
    if (!(s->dev = calloc(s->ndev, sizeof(*s->dev))))
        return rf_error_set(err, RF_ERR_NOMEM, "out of memory for %u devices", s->ndev);
    if ((rc = sim_tuf_open(&s->tuf, base, trusted_root, tuf_max_age_ms, err)) != RF_OK)
        return rc;
    if ((s->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
        return rf_error_set(err, RF_ERR_IO, "epoll_create1: %s", strerror(errno));
    if (!(s->multi = curl_multi_init()))
        return rf_error_set(err, RF_ERR_NOMEM, "curl_multi_init failed");
    curl_multi_setopt(s->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(s->multi, CURLMOPT_SOCKETDATA, s);
    curl_multi_setopt(s->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(s->multi, CURLMOPT_TIMERDATA, s);
    /* The pool plus one connection per long-polling device (bounded by the
     * scenario's check against SIM_MAX_CONNECTIONS). */
    conns = (long)(sc->max_connections + sc->long_pollers);
    curl_multi_setopt(s->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, conns);
    curl_multi_setopt(s->multi, CURLMOPT_MAX_HOST_CONNECTIONS, conns);
    curl_multi_setopt(s->multi, CURLMOPT_MAXCONNECTS, conns);
    return RF_OK;
}

void sim_close(sim *s)
{
    if (!s)
        return;
    if (s->multi) {
        while (s->xfers) {
            sim_xfer *x = s->xfers;
            s->xfers = x->next;
            curl_multi_remove_handle(s->multi, x->easy);
            xfer_free(x);
        }
        curl_multi_cleanup(s->multi);
    }
    while (s->queue) {
        sim_xfer *x = s->queue;
        s->queue = x->next;
        xfer_free(x);
    }
    if (s->epfd >= 0)
        close(s->epfd);
    sim_tuf_close(&s->tuf);
    for (uint32_t i = 0; s->dev && i < s->ndev; i++)
        proto_cleanup(&s->dev[i].p);
    free(s->dev);
    free(s->heap);
}

static void write_status(sim *s, const char *path, int64_t now)
{
    json_t *running = json_object(), *o;
    char key[32], *text;

    for (uint32_t i = 0; i < s->ndev; i++) {
        const sim_dev *d = &s->dev[i];
        int64_t id = d->p.nch ? d->p.ch[0].current.id : 0;
        json_t *v;
        if (d->wait == SIM_SILENT)
            continue;
        snprintf(key, sizeof(key), "%lld", (long long)id);
        v = json_object_get(running, key);
        json_object_set_new(running, key, json_integer(v ? json_integer_value(v) + 1 : 1));
    }
    o = json_pack("{s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "elapsed_s",
                  (double)(now - s->st.started_ms) / 1000.0, "devices", (json_int_t)s->ndev,
                  "enrolled", (json_int_t)s->st.enrolled, "heartbeats_ok",
                  (json_int_t)s->st.heartbeats_ok, "silent", (json_int_t)s->st.silent, "inflight",
                  (json_int_t)(s->inflight + s->longpolls), "queued", (json_int_t)s->queued,
                  "running", running);
    text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (text)
        rf_file_write_atomic(path, text, strlen(text), 0644, NULL);
    free(text);
    json_decref(o);
}

/* A crash timer: when the device still long-polls and a crash is due, its
 * transfer is dropped and the device runs (dev_run restarts it). Stale
 * timers find nothing to do. */
static void crash_long_poll(sim *s, uint32_t dev, int64_t now)
{
    sim_dev *d = &s->dev[dev];
    sim_xfer *x;

    if (d->wait != SIM_HTTP || (now < d->crash_at_ms && now < d->bg_crash_at_ms))
        return;
    for (x = s->xfers; x && !(x->dev == dev && x->wait_s > 0); x = x->next)
        ;
    if (!x)
        return;
    curl_multi_remove_handle(s->multi, x->easy);
    s->longpolls--;
    if (x->prev)
        x->prev->next = x->next;
    else
        s->xfers = x->next;
    if (x->next)
        x->next->prev = x->prev;
    xfer_free(x);
    d->wait = SIM_READY;
    dev_run(s, dev, NULL);
}

/* Wakes the devices whose timer is due. */
static void fire_timers(sim *s, int64_t now)
{
    while (s->nheap && s->heap[0].at <= now) {
        sim_timer t = heap_pop(s);
        proto_event ev = {.kind = PROTO_EV_TIMER};
        if (t.crash) {
            crash_long_poll(s, t.dev, now);
            continue;
        }
        if (t.gen != s->dev[t.dev].timer_gen || s->dev[t.dev].wait != SIM_TIMER)
            continue;
        s->dev[t.dev].wait = SIM_READY;
        dev_run(s, t.dev, &ev);
    }
}

/* Waits up to timeout_ms for sockets and hands the ready ones to curl. */
static void wait_sockets(sim *s, int timeout_ms)
{
    struct epoll_event evs[512];
    int running = 0, n = epoll_wait(s->epfd, evs, 512, timeout_ms > 0 ? timeout_ms : 0);

    for (int i = 0; i < n; i++) {
        int flags = ((evs[i].events & EPOLLIN) ? CURL_CSELECT_IN : 0) |
                    ((evs[i].events & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
                    ((evs[i].events & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0);
        curl_multi_socket_action(s->multi, evs[i].data.fd, flags, &running);
    }
    if (n > 0)
        drain(s);
}

void sim_run(sim *s, int64_t end_ms, const char *status_path)
{
    int64_t now = rf_now_ms(), next_status = now;
    int running = 0;

    s->st.started_ms = now;
    for (uint32_t i = 0; i < s->ndev; i++)
        dev_start(s, i, now + (int64_t)i * 1000 / s->sc->enroll_per_s);
    while (!*s->stop && (now = rf_now_ms()) < end_ms) {
        int64_t wake = now + 50;
        fire_timers(s, now);
        launch_queued(s);
        if (s->curl_due_ms >= 0 && s->curl_due_ms <= rf_now_ms()) {
            s->curl_due_ms = -1;
            curl_multi_socket_action(s->multi, CURL_SOCKET_TIMEOUT, 0, &running);
            drain(s);
        }
        if (status_path && now >= next_status) {
            write_status(s, status_path, now);
            next_status = now + 1000;
        }
        if (s->nheap && s->heap[0].at < wake)
            wake = s->heap[0].at;
        if (s->curl_due_ms >= 0 && s->curl_due_ms < wake)
            wake = s->curl_due_ms;
        wait_sockets(s, (int)(wake - rf_now_ms()));
    }
    if (status_path)
        write_status(s, status_path, rf_now_ms());
}
