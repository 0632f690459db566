/* The heartbeat batcher (see hb_batch.h): a queue of jobs and
 * HB_BATCH_WRITERS threads. A writer sleeps until there is work; when the
 * last batches came in numbers it waits HB_BATCH_GATHER_MS for more, then
 * takes every queued job (at most HB_BATCH_MAX, oldest first, one per device:
 * a device's later heartbeat waits for the next batch so that its reports are
 * folded in order), stores them in one transaction in device order (so
 * concurrent batches lock rows in one order) and calls each job's done. It
 * never calls done before the commit, and never holds the queue lock while
 * talking to the database. */
#include "hb_batch.h"
#include "assign_cache.h"
#include "metrics.h"
#include "rf_log.h"
#include "rf_util.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HB_ACQUIRE_MS 3000 /* below the HTTP drain time, so no request stays parked */

typedef struct hb_node {
    agent_hb_job *job;
    hb_done_fn done;
    void *ctx;
    struct hb_node *next;
} hb_node;

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    hb_node *head, *tail;
    int running, stop;
    int last_n; /* the size of the last batch: > 1 means heartbeats come together */
    rf_server *srv;
    pthread_t th[HB_BATCH_WRITERS];
    int nth;
} q = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static int by_device(const void *a, const void *b)
{
    const hb_node *x = *(hb_node *const *)a, *y = *(hb_node *const *)b;
    return strcmp(x->job->device_id, y->job->device_id);
}

static void finish(hb_node *list)
{
    while (list != NULL) {
        hb_node *next = list->next;
        list->done(list->ctx); /* the job may be gone after this */
        free(list);
        list = next;
    }
}

/* Stores the batch (n nodes, sorted by device) and fills in every job. */
static void store_batch(hb_node **nodes, int n)
{
    agent_hb_job *jobs = calloc((size_t)n, sizeof(*jobs));
    rf_db *db = NULL;
    rf_err rc = jobs != NULL ? RF_OK : RF_ERR_NOMEM;
    for (int i = 0; rc == RF_OK && i < n; i++)
        jobs[i] = *nodes[i]->job;
    if (rc == RF_OK)
        rc = store_acquire(q.srv->store, HB_ACQUIRE_MS, &db);
    if (rc == RF_OK)
        store_agent_heartbeats(db, n, jobs);
    store_release(q.srv->store, db);
    unsigned stored = 0, dup = 0;
    for (int i = 0; i < n; i++) {
        agent_hb_job *j = nodes[i]->job;
        if (rc == RF_OK) {
            j->rc = jobs[i].rc;
            j->duplicate = jobs[i].duplicate;
            j->changed = jobs[i].changed;
            j->err = jobs[i].err;
            if (j->rc == RF_OK && j->changed)
                assign_cache_forget(q.srv->assign_cache, j->device_id);
        } else {
            j->rc = rc == RF_ERR_NOMEM ? rc : RF_ERR_UNAVAILABLE;
            rf_error_set(&j->err, j->rc, "heartbeat not stored: database unavailable");
        }
        stored += j->rc == RF_OK && !j->duplicate;
        dup += j->rc == RF_OK && j->duplicate;
    }
    if (stored + dup > 0)
        metrics_heartbeat_batch(stored + dup, dup);
    free(jobs);
}

/* Takes up to HB_BATCH_MAX queued nodes, one per device, into nodes[]. */
static int take(hb_node **nodes)
{
    hb_node **link = &q.head, *p;
    int n = 0;
    q.tail = NULL;
    while ((p = *link) != NULL) {
        int seen = 0;
        for (int i = 0; i < n && !seen; i++)
            seen = strcmp(nodes[i]->job->device_id, p->job->device_id) == 0;
        if (n < HB_BATCH_MAX && !seen) {
            *link = p->next;
            p->next = NULL;
            nodes[n++] = p;
            continue;
        }
        q.tail = p;
        link = &p->next;
    }
    return n;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void *writer_main(void *arg)
{
    hb_node **nodes = calloc(HB_BATCH_MAX, sizeof(*nodes));
    (void)arg;
    pthread_mutex_lock(&q.mu);
    while (nodes != NULL) {
        while (q.head == NULL && !q.stop)
            pthread_cond_wait(&q.cv, &q.mu);
        if (q.head == NULL)
            break; /* stopping, and nothing left */
        if (q.last_n > 1 && !q.stop) {
            pthread_mutex_unlock(&q.mu);
            sleep_ms(HB_BATCH_GATHER_MS);
            pthread_mutex_lock(&q.mu);
        }
        int n = take(nodes);
        if (n == 0)
            continue;
        q.last_n = n;
        if (q.head != NULL)
            pthread_cond_signal(&q.cv); /* more for another writer */
        pthread_mutex_unlock(&q.mu);
        qsort(nodes, (size_t)n, sizeof(*nodes), by_device);
        store_batch(nodes, n);
        for (int i = 0; i + 1 < n; i++)
            nodes[i]->next = nodes[i + 1];
        finish(nodes[0]);
        pthread_mutex_lock(&q.mu);
    }
    pthread_mutex_unlock(&q.mu);
    free(nodes);
    return NULL;
}

rf_err hb_batch_start(rf_server *srv)
{
    pthread_mutex_lock(&q.mu);
    q.srv = srv;
    q.stop = 0;
    q.running = 1;
    rf_err rc = RF_OK;
    for (q.nth = 0; q.nth < HB_BATCH_WRITERS; q.nth++)
        if (pthread_create(&q.th[q.nth], NULL, writer_main, NULL) != 0) {
            rc = RF_ERR_INTERNAL;
            break;
        }
    pthread_mutex_unlock(&q.mu);
    if (rc != RF_OK)
        hb_batch_stop();
    return rc;
}

void hb_batch_stop(void)
{
    pthread_mutex_lock(&q.mu);
    int nth = q.nth;
    q.stop = 1;
    q.running = 0;
    pthread_cond_broadcast(&q.cv);
    pthread_mutex_unlock(&q.mu);
    for (int i = 0; i < nth; i++)
        pthread_join(q.th[i], NULL);
    pthread_mutex_lock(&q.mu);
    q.nth = 0;
    pthread_mutex_unlock(&q.mu);
}

void hb_batch_enqueue(agent_hb_job *job, hb_done_fn done, void *ctx)
{
    hb_node *node = calloc(1, sizeof(*node));
    pthread_mutex_lock(&q.mu);
    if (node == NULL || !q.running) {
        pthread_mutex_unlock(&q.mu);
        free(node);
        job->rc = node == NULL ? RF_ERR_NOMEM : RF_ERR_UNAVAILABLE;
        rf_error_set(&job->err, job->rc, "heartbeat not stored: %s",
                     node == NULL ? "out of memory" : "server is shutting down");
        done(ctx);
        return;
    }
    node->job = job;
    node->done = done;
    node->ctx = ctx;
    if (q.tail != NULL)
        q.tail->next = node;
    else
        q.head = node;
    q.tail = node;
    pthread_cond_signal(&q.cv);
    pthread_mutex_unlock(&q.mu);
}
