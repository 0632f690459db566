/* Boot classification and crash-record set arithmetic, pure and bounded. The
 * rules: a changed boot id is a new boot, clean only if the clean-shutdown mark
 * names the boot that ended; the same boot id without the mark means the agent
 * itself died. This file must never touch the file system. */
#include "boot.h"

#include <stdlib.h>
#include <string.h>

proto_boot_class boot_classify(const char *last, const char *now, const char *mark)
{
    bool clean;

    if (!last || !last[0])
        return PROTO_BOOT_FIRST;
    clean = mark && strcmp(mark, last) == 0;
    if (!now || strcmp(now, last) != 0)
        return clean ? PROTO_BOOT_NEW_CLEAN : PROTO_BOOT_NEW_UNCLEAN;
    return clean ? PROTO_BOOT_SAME_CLEAN : PROTO_BOOT_AGENT_RESTART;
}

void boot_crashset_init(boot_crashset *s)
{
    memset(s, 0, sizeof(*s));
}

void boot_crashset_cleanup(boot_crashset *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        free(s->names[i]);
    free(s->names);
    memset(s, 0, sizeof(*s));
}

rf_err boot_crashset_add(boot_crashset *s, const char *name)
{
    size_t len = strnlen(name, BOOT_CRASH_NAME_MAX + 1);
    char *copy;

    if (len > BOOT_CRASH_NAME_MAX)
        return RF_ERR_TOO_LARGE;
    if (s->n >= BOOT_CRASH_MAX) {
        s->truncated = true;
        return RF_OK;
    }
    if (s->n == s->alloc) {
        size_t na = s->alloc ? s->alloc * 2 : 16;
        char **grown = realloc(s->names, na * sizeof(*grown));
        if (!grown)
            return RF_ERR_NOMEM;
        s->names = grown;
        s->alloc = na;
    }
    copy = malloc(len + 1);
    if (!copy)
        return RF_ERR_NOMEM;
    memcpy(copy, name, len + 1);
    s->names[s->n++] = copy;
    return RF_OK;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void boot_crashset_seal(boot_crashset *s)
{
    size_t w = 0;

    if (s->n == 0)
        return;
    qsort(s->names, s->n, sizeof(s->names[0]), cmp_names);
    for (size_t r = 0; r < s->n; r++) {
        if (w > 0 && strcmp(s->names[w - 1], s->names[r]) == 0) {
            free(s->names[r]);
            continue;
        }
        s->names[w++] = s->names[r];
    }
    s->n = w;
}

bool boot_crashset_has(const boot_crashset *s, const char *name)
{
    return s->n && bsearch(&name, s->names, s->n, sizeof(s->names[0]), cmp_names) != NULL;
}

size_t boot_crashset_count_new(const boot_crashset *known, const boot_crashset *now)
{
    size_t fresh = 0;

    for (size_t i = 0; i < now->n; i++)
        if (!boot_crashset_has(known, now->names[i]))
            fresh++;
    return fresh;
}

void boot_crashset_move(boot_crashset *to, boot_crashset *from)
{
    boot_crashset_cleanup(to);
    *to = *from;
    memset(from, 0, sizeof(*from));
}

rf_err boot_id_normalize(const char *raw, char out[PROTO_BOOT_ID_MAX + 1], rf_error *err)
{
    const char *s = raw;
    size_t n;

    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    if (n == 0 || n > PROTO_BOOT_ID_MAX)
        return rf_error_set(err, RF_ERR_INVALID, "boot id must be 1-%d characters",
                            PROTO_BOOT_ID_MAX);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f || s[i] == '"' ||
            s[i] == '\\')
            return rf_error_set(err, RF_ERR_INVALID, "boot id holds a character outside [!-~]");
    memcpy(out, s, n);
    out[n] = '\0';
    return RF_OK;
}
