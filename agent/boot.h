/* boot: pure boot-health decisions — how a start relates to the last one
 * (same boot or new, clean or not) and which crash records are new since the
 * last look. No I/O: boothealth.c reads the files and feeds these functions,
 * so the rules can be tested exhaustively. */
#ifndef AGENT_BOOT_H
#define AGENT_BOOT_H

#include "proto.h"
#include "rf_err.h"
#include <stddef.h>

#define BOOT_CRASH_MAX 4096 /* crash-dir entries remembered; more are ignored */
#define BOOT_CRASH_NAME_MAX 1024

/* last: the boot id recorded before ("" or NULL: none); now: this boot's id;
 * mark: the content of the clean-shutdown mark (NULL: no mark). A mark counts
 * only when it names the recorded boot. */
proto_boot_class boot_classify(const char *last, const char *now, const char *mark);

/* A set of crash-record names ("<dir>/<name>"), sorted and unique once
 * boot_crashset_seal() ran. */
typedef struct boot_crashset {
    char **names; /* owned */
    size_t n, alloc;
    bool truncated; /* more than BOOT_CRASH_MAX were offered */
} boot_crashset;

void boot_crashset_init(boot_crashset *s);
void boot_crashset_cleanup(boot_crashset *s); /* NULL-safe */
/* Copies name in. Past BOOT_CRASH_MAX entries the name is dropped and
 * truncated set; a name longer than BOOT_CRASH_NAME_MAX is RF_ERR_TOO_LARGE. */
rf_err boot_crashset_add(boot_crashset *s, const char *name);
/* Sorts and removes duplicates. */
void boot_crashset_seal(boot_crashset *s);
bool boot_crashset_has(const boot_crashset *s, const char *name); /* s sealed */
/* How many names of now (sealed) are not in known (sealed). */
size_t boot_crashset_count_new(const boot_crashset *known, const boot_crashset *now);
/* Moves from into to (to's old content is freed; from is left empty). */
void boot_crashset_move(boot_crashset *to, boot_crashset *from);

/* Trims surrounding white space from a boot id file's content and checks it:
 * 1..PROTO_BOOT_ID_MAX printable characters without spaces. */
rf_err boot_id_normalize(const char *raw, char out[PROTO_BOOT_ID_MAX + 1], rf_error *err);

#endif
