/* Internal seams of the TUF client core, shared by tuf_doc.c (envelopes,
 * keys, signature thresholds) and tuf.c (the update workflow). Pure code: no
 * I/O, no clock. No file outside common/tuf*.c may include this header. */
#ifndef RF_TUF_INTERNAL_H
#define RF_TUF_INTERNAL_H

#include "rf_buf.h"
#include "rf_tuf.h"

/* A parsed envelope {"signed": {...}, "signatures": [...]}. */
typedef struct tuf_doc {
    json_t *root;       /* owned */
    json_t *signed_obj; /* borrowed from root */
    json_t *sigs;       /* borrowed from root */
    rf_buf canon;       /* canonical JSON of signed_obj: the signed bytes */
    int64_t version;    /* tuf_doc_header only */
    int64_t expires_s;  /* tuf_doc_header only */
} tuf_doc;

/* Parses data (at most cap bytes) as an envelope whose signed._type is type;
 * what names it in errors ("timestamp"). d must be cleaned up either way. */
rf_err tuf_doc_parse(const void *data, size_t len, size_t cap, const char *type, const char *what,
                     tuf_doc *d, rf_error *err);
/* The common metadata fields: spec_version 1.x, version >= 1, expires. */
rf_err tuf_doc_header(tuf_doc *d, const char *what, rf_error *err);
void tuf_doc_cleanup(tuf_doc *d);

/* RF_OK when at least ks->threshold distinct keys of ks signed d. what names
 * the document, by the key set ("root version 2's root"); the error says how
 * many valid signatures there were and why the first one that did not count
 * was ignored. */
rf_err tuf_doc_verify(const tuf_doc *d, const rf_tuf_keyset *ks, const char *what, const char *by,
                      rf_error *err);

/* Parses a root's signed object (after its envelope) into out. */
rf_err tuf_root_parse(const tuf_doc *d, rf_tuf_root *out, rf_error *err);

/* A METAFILES entry (signed.meta[name]); cap bounds its length. */
rf_err tuf_meta_parse(const json_t *meta, const char *name, const char *what, int64_t cap,
                      rf_tuf_meta *out, rf_error *err);

/* A target entry {"length", "hashes": {"sha256", ...}, "custom"?}. */
rf_err tuf_target_parse(const json_t *v, const char *path, rf_tuf_target *out, rf_error *err);

bool tuf_hex64(const char *s);
/* True when both key sets hold the same keys and threshold. */
bool tuf_keyset_equal(const rf_tuf_keyset *a, const rf_tuf_keyset *b);

#endif
