/* memtrim: drops the page-table entries of clean library mappings and trims the
 * heap once the agent goes idle (see memtrim.h). Why it is safe: a private
 * file mapping that was never written holds exactly the file's pages, so
 * MADV_DONTNEED on it only unmaps them, and the next access maps the same
 * pages again from the page cache — what the kernel's own reclaim does to
 * clean file pages at any time. Anything that could hold private data (a
 * writable mapping, a copy-on-write or swapped page, a locked page, a deleted
 * or unnamed file, a line of smaps that could not be read whole) is left alone. */
#include "memtrim.h"

#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define DELETED_SUFFIX " (deleted)"

void memtrim_parser_init(memtrim_parser *p, memtrim_range *out, size_t max)
{
    memset(p, 0, sizeof(*p));
    p->out = out;
    p->max = max;
}

/* Ends the mapping in hand: kept when it still qualifies and every field that
 * could disqualify it was seen. */
static void close_map(memtrim_parser *p)
{
    if (p->in_map && p->eligible && p->seen_anon && p->seen_swap && p->n < p->max)
        p->out[p->n++] = p->cur;
    p->in_map = false;
    p->eligible = false;
}

/* "lo-hi perms offset dev inode [path]"; true when line is a header. */
static bool parse_header(memtrim_parser *p, const char *line)
{
    unsigned long lo, hi, off, inode;
    unsigned int major, minor;
    char perms[5];
    int used = 0;
    const char *path;
    size_t plen, slen = strlen(DELETED_SUFFIX);

    if (sscanf(line, "%lx-%lx %4s %lx %x:%x %lu%n", &lo, &hi, perms, &off, &major, &minor, &inode,
               &used) != 7 ||
        used <= 0 || hi <= lo)
        return false;
    close_map(p);
    p->in_map = true;
    p->seen_anon = p->seen_swap = false;
    p->cur.lo = (uintptr_t)lo;
    p->cur.hi = (uintptr_t)hi;
    path = line + used;
    path += strspn(path, " \t");
    plen = strlen(path);
    p->eligible = (strcmp(perms, "r-xp") == 0 || strcmp(perms, "r--p") == 0) && inode != 0 &&
                  path[0] == '/' &&
                  !(plen >= slen && strcmp(path + plen - slen, DELETED_SUFFIX) == 0);
    return true;
}

static bool key_is(const char *line, size_t klen, const char *key)
{
    return klen == strlen(key) && strncmp(line, key, klen) == 0;
}

void memtrim_parser_line(memtrim_parser *p, const char *line)
{
    const char *colon;
    char *end;
    unsigned long long v;
    size_t klen;

    if (!line) { /* unreadable: the mapping it belongs to is not touched */
        p->eligible = false;
        close_map(p);
        p->in_map = true; /* what follows up to the next header is ignored */
        return;
    }
    if (parse_header(p, line) || !p->in_map || !(colon = strchr(line, ':')))
        return;
    klen = (size_t)(colon - line);
    if (key_is(line, klen, "VmFlags"))
        return;
    v = strtoull(colon + 1, &end, 10);
    if (end == colon + 1) {
        p->eligible = false; /* a size field that does not parse: do not guess */
        return;
    }
    if (key_is(line, klen, "Anonymous")) {
        p->seen_anon = true;
        p->eligible = p->eligible && v == 0;
    } else if (key_is(line, klen, "Swap")) {
        p->seen_swap = true;
        p->eligible = p->eligible && v == 0;
    } else if (key_is(line, klen, "Locked") || key_is(line, klen, "Private_Dirty")) {
        p->eligible = p->eligible && v == 0;
    } else if (key_is(line, klen, "Rss")) {
        p->eligible = p->eligible && v != 0; /* nothing resident: nothing to drop */
    }
}

size_t memtrim_parser_finish(memtrim_parser *p)
{
    close_map(p);
    return p->n;
}

/* Feeds the parser from f; a line longer than the buffer is skipped whole. */
static void read_smaps(FILE *f, memtrim_parser *p)
{
    char line[PATH_MAX + 256];

    while (fgets(line, sizeof(line), f)) {
        size_t n = strlen(line);
        if (n > 0 && line[n - 1] == '\n') {
            line[n - 1] = '\0';
            memtrim_parser_line(p, line);
            continue;
        }
        while (n == 0 || line[n - 1] != '\n') { /* the rest of the cut line */
            if (!fgets(line, sizeof(line), f))
                break;
            n = strlen(line);
        }
        memtrim_parser_line(p, NULL);
    }
}

size_t memtrim_run(void)
{
    memtrim_range *r = malloc(MEMTRIM_MAX_RANGES * sizeof(*r));
    memtrim_parser p;
    size_t n, dropped = 0;
    FILE *f;

    if (!r)
        goto out;
    memtrim_parser_init(&p, r, MEMTRIM_MAX_RANGES);
    if (!(f = fopen("/proc/self/smaps", "re")))
        goto out;
    read_smaps(f, &p);
    n = memtrim_parser_finish(&p);
    if (ferror(f))
        n = 0; /* a partial read may have cut a mapping short: do nothing */
    fclose(f);
    for (size_t i = 0; i < n; i++)
        if (madvise((void *)r[i].lo, r[i].hi - r[i].lo, MADV_DONTNEED) == 0)
            dropped += r[i].hi - r[i].lo;
out:
    free(r);
    malloc_trim(0);
    return dropped;
}
