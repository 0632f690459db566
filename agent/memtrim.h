/* memtrim: gives back memory the idle agent holds but does not use. Start-up
 * (the dynamic loader binding ~35 libraries, their constructors, OpenSSL and
 * libcurl initialisation) and transient work (a TUF refresh, a download, an
 * install) leave library pages mapped that the idle loop never touches again;
 * memtrim drops this process's page-table entries for clean, never-written
 * file mappings (the pages stay in the page cache, and what is used again is
 * faulted back in from there) and returns free heap pages with malloc_trim.
 * It must never drop a page that holds private data: only private, read-only,
 * file-backed mappings without any anonymous (copy-on-write), swapped or
 * locked page qualify. The smaps parser is pure, for unit tests. */
#ifndef AGENT_MEMTRIM_H
#define AGENT_MEMTRIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MEMTRIM_MAX_RANGES 1024

typedef struct memtrim_range {
    uintptr_t lo, hi; /* [lo, hi) */
} memtrim_range;

/* Reads /proc/PID/smaps text one line at a time and collects the mappings
 * that qualify into out (borrowed, max entries; the rest are left alone). */
typedef struct memtrim_parser {
    memtrim_range *out;
    size_t n, max;
    memtrim_range cur;
    bool in_map;   /* a mapping header was seen */
    bool eligible; /* the header qualifies and no field has disqualified it */
    bool seen_anon, seen_swap;
} memtrim_parser;

void memtrim_parser_init(memtrim_parser *p, memtrim_range *out, size_t max);
/* line: one whole line without its newline; NULL stands for a line that could
 * not be read whole, and disqualifies the mapping it belongs to. */
void memtrim_parser_line(memtrim_parser *p, const char *line);
/* Closes the last mapping; returns the number of ranges in out. */
size_t memtrim_parser_finish(memtrim_parser *p);

/* Best effort, never fails: drops the qualifying mappings' page-table entries
 * (MADV_DONTNEED) and trims the heap. Returns the bytes of address space
 * dropped (resident or not), for the log. Call it only between transfers. */
size_t memtrim_run(void);

#endif
