/* PostgreSQL array literals in text form ("{\"a\",NULL,\"b\"}") built from C
 * strings and integers, so that a batch of rows travels as a few array
 * parameters of one statement (unnest($1::text[], …)). Every element is
 * double-quoted with '"' and '\' escaped, so no value can break out of its
 * element; the literal is always passed as a parameter, never spliced into SQL. */
#ifndef RF_PG_ARRAY_H
#define RF_PG_ARRAY_H

#include "rf_buf.h"
#include "rf_err.h"

typedef struct pg_array {
    rf_buf buf;
    int n;      /* elements added */
    int closed; /* the closing brace is in buf */
    rf_err rc;  /* the first failure (the literal is unusable then) */
} pg_array;

/* Starts an empty array whose text may grow to cap bytes. */
void pg_array_init(pg_array *a, size_t cap);
void pg_array_cleanup(pg_array *a);
/* Adds s (copied, escaped); NULL adds a NULL element. */
void pg_array_add(pg_array *a, const char *s);
void pg_array_add_ll(pg_array *a, long long v);
/* Adds v, or a NULL element when v <= 0 (ids where 0 means none). */
void pg_array_add_id(pg_array *a, long long v);
/* The literal (borrowed; valid until cleanup), or NULL when any add failed
 * (the text would exceed cap, or out of memory). */
const char *pg_array_text(pg_array *a);

#endif
