/* The heartbeat batcher (see hb_batch.h). The first request to find no batch
 * to gather becomes a leader (at most HB_BATCH_LEADERS at once, each with
 * its own connection): when heartbeats have lately come together it waits
 * HB_BATCH_GATHER_MS, then takes every queued heartbeat (at most
 * HB_BATCH_MAX, oldest first), stores them in one transaction in device
 * order (so concurrent batches lock rows in one order) and wakes their
 * requests; the others sleep on a condition until their own job is done. It never answers a job
 * before the commit, and it never holds the queue lock while talking to the database. */
#include "hb_batch.h"
#include "metrics.h"
#include "rf_util.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HB_ACQUIRE_MS 5000

typedef struct hb_node {
    agent_hb_job job;
    int taken; /* in a batch being stored */
    int done;
    struct hb_node *next;
} hb_node;

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    hb_node *head, *tail;
    int leading; /* batches being gathered or stored now */
    int last_n;  /* the size of the last batch: > 1 means heartbeats come together */
} q = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, 0, 0};

static int by_device(const void *a, const void *b)
{
    const agent_hb_job *x = *(agent_hb_job *const *)a, *y = *(agent_hb_job *const *)b;
    return strcmp(x->device_id, y->device_id);
}

/* Stores the batch (nodes in a list of n) and fills in every job. */
static void run_batch(rf_server *srv, hb_node *list, int n)
{
    agent_hb_job *jobs = calloc((size_t)n, sizeof(*jobs));
    agent_hb_job **order = calloc((size_t)n, sizeof(*order));
    rf_db *db = NULL;
    rf_err rc = jobs && order ? RF_OK : RF_ERR_NOMEM;
    int i = 0;
    for (hb_node *p = list; rc == RF_OK && p != NULL && i < n; p = p->next)
        order[i++] = &p->job;
    if (rc == RF_OK)
        qsort(order, (size_t)n, sizeof(*order), by_device);
    for (i = 0; rc == RF_OK && i < n; i++)
        jobs[i] = *order[i];
    if (rc == RF_OK)
        rc = store_acquire(srv->store, HB_ACQUIRE_MS, &db);
    if (rc == RF_OK)
        store_agent_heartbeats(db, n, jobs);
    store_release(srv->store, db);
    unsigned stored = 0, dup = 0;
    for (i = 0; i < n && order != NULL; i++) {
        if (rc == RF_OK) {
            order[i]->rc = jobs[i].rc;
            order[i]->duplicate = jobs[i].duplicate;
            order[i]->err = jobs[i].err;
        } else {
            order[i]->rc = rc;
            rf_error_set(&order[i]->err, rc, "heartbeat not stored: database unavailable");
        }
        stored += order[i]->rc == RF_OK && !order[i]->duplicate;
        dup += order[i]->rc == RF_OK && order[i]->duplicate;
    }
    if (order == NULL) /* out of memory: fail them all */
        for (hb_node *p = list; p != NULL; p = p->next)
            p->job.rc = RF_ERR_NOMEM;
    if (stored + dup > 0)
        metrics_heartbeat_batch(stored + dup, dup);
    free(jobs);
    free(order);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Takes up to HB_BATCH_MAX queued nodes; returns the list and its length. */
static hb_node *take(int *n)
{
    hb_node *list = q.head, *last = NULL;
    *n = 0;
    for (hb_node *p = q.head; p != NULL && *n < HB_BATCH_MAX; p = p->next) {
        p->taken = 1;
        last = p;
        (*n)++;
    }
    q.head = last ? last->next : NULL;
    if (q.head == NULL)
        q.tail = NULL;
    if (last)
        last->next = NULL;
    return list;
}

rf_err hb_batch_submit(rf_server *srv, const char *device_id, const agent_heartbeat *hb,
                       int *duplicate, rf_error *err)
{
    hb_node self;
    memset(&self, 0, sizeof(self));
    self.job.device_id = device_id;
    self.job.hb = hb;
    pthread_mutex_lock(&q.mu);
    if (q.tail)
        q.tail->next = &self;
    else
        q.head = &self;
    q.tail = &self;
    while (!self.done) {
        if (self.taken || q.leading >= HB_BATCH_LEADERS) {
            pthread_cond_wait(&q.cv, &q.mu);
            continue;
        }
        q.leading++;
        int gather = q.last_n > 1; /* alone, a heartbeat waits for nobody */
        pthread_mutex_unlock(&q.mu);
        if (gather)
            sleep_ms(HB_BATCH_GATHER_MS);
        pthread_mutex_lock(&q.mu);
        int n = 0;
        hb_node *list = take(&n);
        if (n > 0)
            q.last_n = n;
        pthread_mutex_unlock(&q.mu);
        if (n > 0)
            run_batch(srv, list, n);
        pthread_mutex_lock(&q.mu);
        for (hb_node *p = list; p != NULL;) {
            hb_node *next = p->next; /* p may be gone once done is seen */
            p->done = 1;
            p = next;
        }
        q.leading--;
        pthread_cond_broadcast(&q.cv);
    }
    pthread_mutex_unlock(&q.mu);
    *duplicate = self.job.duplicate;
    if (self.job.rc != RF_OK && err != NULL)
        *err = self.job.err;
    return self.job.rc;
}
