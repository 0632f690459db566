/* The heartbeat journal: pure naming and eviction rules, and the few file
 * operations over DATA/journal. Every write is atomic and durable before it
 * counts; nothing here talks to the network or decides what a report says. */
#include "journal.h"
#include "boothealth.h"
#include "rf_util.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NAME_PREFIX "hb-"
#define NAME_SUFFIX ".json"
#define SEQ_DIGITS 20

rf_err journal_entry_name(int64_t seq, char out[JOURNAL_NAME_MAX])
{
    if (seq < 0)
        return RF_ERR_INVALID;
    return rf_snprintf(out, JOURNAL_NAME_MAX, NAME_PREFIX "%020" PRId64 NAME_SUFFIX, seq);
}

bool journal_parse_name(const char *name, int64_t *seq)
{
    size_t pl = strlen(NAME_PREFIX), sl = strlen(NAME_SUFFIX);
    int64_t v = 0;

    if (strlen(name) != pl + SEQ_DIGITS + sl || strncmp(name, NAME_PREFIX, pl) != 0 ||
        strcmp(name + pl + SEQ_DIGITS, NAME_SUFFIX) != 0)
        return false;
    for (size_t i = 0; i < SEQ_DIGITS; i++) {
        char c = name[pl + i];
        if (c < '0' || c > '9' || v > (INT64_MAX - (c - '0')) / 10)
            return false;
        v = v * 10 + (c - '0');
    }
    *seq = v;
    return true;
}

static int cmp_entry(const void *a, const void *b)
{
    int64_t x = ((const journal_entry *)a)->seq, y = ((const journal_entry *)b)->seq;
    return x < y ? -1 : x > y;
}

void journal_sort(journal_entry *e, size_t n)
{
    if (n > 1)
        qsort(e, n, sizeof(*e), cmp_entry);
}

size_t journal_evict_count(const journal_entry *sorted, size_t n, int64_t add_bytes,
                           size_t max_entries, int64_t max_bytes)
{
    int64_t total = add_bytes;
    size_t drop = 0;

    for (size_t i = 0; i < n; i++)
        total += sorted[i].bytes;
    while (drop < n && (n - drop + 1 > max_entries || total > max_bytes)) {
        total -= sorted[drop].bytes;
        drop++;
    }
    return drop;
}

/* ---- files ---- */

static rf_err entry_path(const journal *j, int64_t seq, char *out, size_t len)
{
    char name[JOURNAL_NAME_MAX];
    rf_err rc = journal_entry_name(seq, name);

    return rc != RF_OK ? rc : rf_snprintf(out, len, "%s/%s", j->dir, name);
}

static rf_err push(journal *j, int64_t seq, int64_t bytes)
{
    if (j->n == j->alloc) {
        size_t na = j->alloc ? j->alloc * 2 : 64;
        journal_entry *g = realloc(j->e, na * sizeof(*g));
        if (!g)
            return RF_ERR_NOMEM;
        j->e = g;
        j->alloc = na;
    }
    j->e[j->n].seq = seq;
    j->e[j->n].bytes = bytes;
    j->n++;
    j->bytes += bytes;
    return RF_OK;
}

rf_err journal_open(journal *j, const char *data_dir, rf_error *err)
{
    char path[sizeof(j->dir) + JOURNAL_NAME_MAX + 64];
    struct dirent *de;
    struct stat st;
    rf_err rc = RF_OK;
    DIR *d;

    memset(j, 0, sizeof(*j));
    j->max_entries = JOURNAL_MAX_ENTRIES;
    j->max_bytes = JOURNAL_MAX_BYTES;
    if (rf_snprintf(j->dir, sizeof(j->dir), "%s/%s", data_dir, JOURNAL_DIR) != RF_OK)
        return rf_error_set(err, RF_ERR_TOO_LARGE, "data dir path too long");
    if ((rc = rf_mkdirs(j->dir, 0700, err)) != RF_OK ||
        (rc = boothealth_fsync_dir(data_dir, err)) != RF_OK)
        return rc;
    if (!(d = opendir(j->dir)))
        return rf_error_set(err, RF_ERR_IO, "%s: %s", j->dir, strerror(errno));
    while ((de = readdir(d)) != NULL && rc == RF_OK) {
        int64_t seq;
        if (rf_snprintf(path, sizeof(path), "%s/%s", j->dir, de->d_name) != RF_OK)
            continue;
        if (strncmp(de->d_name, "." NAME_PREFIX, strlen(NAME_PREFIX) + 1) == 0) {
            unlink(path); /* a write a power cut interrupted: it never counted */
            continue;
        }
        if (!journal_parse_name(de->d_name, &seq) || stat(path, &st) != 0)
            continue;
        if ((rc = push(j, seq, (int64_t)st.st_size)) != RF_OK)
            rf_error_set(err, rc, "out of memory");
    }
    closedir(d);
    journal_sort(j->e, j->n);
    return rc;
}

void journal_close(journal *j)
{
    if (!j)
        return;
    free(j->e);
    memset(j, 0, sizeof(*j));
}

bool journal_has(const journal *j, int64_t seq)
{
    journal_entry key = {seq, 0};
    return j->n && bsearch(&key, j->e, j->n, sizeof(key), cmp_entry) != NULL;
}

static void forget(journal *j, int64_t seq)
{
    for (size_t i = 0; i < j->n; i++) {
        if (j->e[i].seq != seq)
            continue;
        j->bytes -= j->e[i].bytes;
        memmove(&j->e[i], &j->e[i + 1], (j->n - i - 1) * sizeof(j->e[0]));
        j->n--;
        return;
    }
}

rf_err journal_remove(journal *j, int64_t seq, rf_error *err)
{
    char path[sizeof(j->dir) + JOURNAL_NAME_MAX + 2];
    rf_err rc = entry_path(j, seq, path, sizeof(path));

    if (rc != RF_OK)
        return rf_error_set(err, rc, "journal entry name");
    forget(j, seq);
    if (unlink(path) != 0 && errno != ENOENT)
        return rf_error_set(err, RF_ERR_IO, "%s: %s", path, strerror(errno));
    return RF_OK;
}

rf_err journal_append(journal *j, int64_t seq, const char *body, size_t len, size_t *evicted,
                      rf_error *err)
{
    char path[sizeof(j->dir) + JOURNAL_NAME_MAX + 2];
    size_t drop;
    rf_err rc;

    *evicted = 0;
    if (journal_has(j, seq))
        return RF_OK;
    if (len > JOURNAL_ENTRY_MAX)
        return rf_error_set(err, RF_ERR_TOO_LARGE, "heartbeat of %zu bytes is over %d", len,
                            JOURNAL_ENTRY_MAX);
    if ((rc = entry_path(j, seq, path, sizeof(path))) != RF_OK)
        return rf_error_set(err, rc, "journal entry name");
    drop = journal_evict_count(j->e, j->n, (int64_t)len, j->max_entries, j->max_bytes);
    for (size_t i = 0; i < drop; i++)
        if ((rc = journal_remove(j, j->e[0].seq, err)) != RF_OK)
            return rc;
    j->dropped += (int64_t)drop;
    *evicted = drop;
    if ((rc = rf_file_write_atomic(path, body, len, 0600, err)) != RF_OK ||
        (rc = push(j, seq, (int64_t)len)) != RF_OK)
        return rc;
    journal_sort(j->e, j->n);
    return RF_OK;
}

rf_err journal_read(const journal *j, int64_t seq, rf_buf *out, rf_error *err)
{
    char path[sizeof(j->dir) + JOURNAL_NAME_MAX + 2];
    rf_err rc = entry_path(j, seq, path, sizeof(path));

    if (rc != RF_OK)
        return rf_error_set(err, rc, "journal entry name");
    return rf_file_read(path, out, err);
}
