/* journal: the agent's bounded, durable outbox of heartbeats in DATA/journal/.
 * Each report is written (temp file, fsync, rename, fsync of the dir) as
 * hb-<seq>.json before it is first sent, replayed oldest first while the
 * server is away, and removed only once the server acknowledged it (the server
 * de-duplicates by device and seq, so a resend after a power cut is harmless).
 * When full (JOURNAL_MAX_ENTRIES or JOURNAL_MAX_BYTES) the oldest reports are
 * dropped first — each is a full snapshot, so the newest state always survives
 * — and the drop is logged. The name and eviction rules are pure (no I/O). */
#ifndef AGENT_JOURNAL_H
#define AGENT_JOURNAL_H

#include "rf_buf.h"
#include "rf_err.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JOURNAL_DIR "journal"
#define JOURNAL_MAX_ENTRIES 2048
#define JOURNAL_MAX_BYTES (16LL * 1024 * 1024)
#define JOURNAL_ENTRY_MAX (512 * 1024) /* one heartbeat body */
#define JOURNAL_NAME_MAX 32

typedef struct journal_entry {
    int64_t seq;
    int64_t bytes;
} journal_entry;

/* ---- pure ---- */

/* "hb-<seq, 20 digits>.json"; seq must be >= 0. */
rf_err journal_entry_name(int64_t seq, char out[JOURNAL_NAME_MAX]);
/* The seq of a journal file name; false for any other name. */
bool journal_parse_name(const char *name, int64_t *seq);
/* Sorts by seq, ascending (replay order). */
void journal_sort(journal_entry *e, size_t n);
/* How many of the oldest entries (sorted) must go so that one more entry of
 * add_bytes fits within max_entries and max_bytes (the new one always fits). */
size_t journal_evict_count(const journal_entry *sorted, size_t n, int64_t add_bytes,
                           size_t max_entries, int64_t max_bytes);

/* ---- files ---- */

typedef struct journal {
    char dir[4096 + 16];
    journal_entry *e; /* owned, sorted */
    size_t n, alloc;
    int64_t bytes;
    int64_t dropped;    /* evicted since open */
    size_t max_entries; /* JOURNAL_MAX_ENTRIES after open (tests may lower them) */
    int64_t max_bytes;  /* JOURNAL_MAX_BYTES after open */
} journal;

/* Creates DATA/journal (0700) when missing, removes leftover temp files and
 * lists the entries. */
rf_err journal_open(journal *j, const char *data_dir, rf_error *err);
void journal_close(journal *j); /* NULL-safe */
bool journal_has(const journal *j, int64_t seq);
/* Durably writes the entry for seq (a seq already present is kept as it is),
 * evicting the oldest first when full; *evicted says how many went. */
rf_err journal_append(journal *j, int64_t seq, const char *body, size_t len, size_t *evicted,
                      rf_error *err);
rf_err journal_read(const journal *j, int64_t seq, rf_buf *out, rf_error *err);
/* Removes the entry (acknowledged); a missing one is fine. */
rf_err journal_remove(journal *j, int64_t seq, rf_error *err);

#endif
