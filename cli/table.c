/* Aligned text tables for the CLI's human output. Cells are copied in, then
 * rendered into an rf_buf with columns two spaces apart and no trailing
 * blanks. Text that came from the server (hostnames, labels, messages) may
 * hold terminal escape sequences: this file shows every control character
 * as '?' and never writes one to the output. No I/O. */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLI_TABLE_MAX_CELLS (1u << 22)

rf_err cli_text_clean(rf_buf *out, const char *s, size_t maxlen, int ascii_only)
{
    rf_err rc = RF_OK;
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0' && n < maxlen; p++, n++) {
        unsigned char c = *p;
        int bad = c < 0x20 || c == 0x7f || (ascii_only && c >= 0x80);
        rc = rf_buf_append(out, bad ? "?" : (const char *)p, 1);
        if (rc != RF_OK) {
            break;
        }
    }
    return rc;
}

size_t cli_text_width(const char *s)
{
    size_t w = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if ((*p & 0xc0) != 0x80) {
            w++;
        }
    }
    return w;
}

rf_err cli_table_init(cli_table *t, size_t ncols, const char *const *headers)
{
    memset(t, 0, sizeof *t);
    t->ncols = ncols;
    if (ncols == 0 || ncols > 32) {
        return RF_ERR_INVALID;
    }
    if (headers == NULL) {
        return RF_OK;
    }
    t->has_header = 1;
    for (size_t i = 0; i < ncols; i++) {
        rf_err rc = cli_table_add(t, headers[i]);
        if (rc != RF_OK) {
            return rc;
        }
    }
    return RF_OK;
}

void cli_table_cleanup(cli_table *t)
{
    if (t == NULL) {
        return;
    }
    for (size_t i = 0; i < t->ncells; i++) {
        free(t->cells[i]);
    }
    free(t->cells);
    memset(t, 0, sizeof *t);
}

void cli_table_align_right(cli_table *t, size_t col)
{
    if (col < t->ncols) {
        t->right_aligned |= 1u << col;
    }
}

/* Takes ownership of cell (freed on failure). */
static rf_err table_push(cli_table *t, char *cell)
{
    if (cell == NULL) {
        return RF_ERR_NOMEM;
    }
    if (t->ncells == t->alloc) {
        size_t nalloc = t->alloc ? t->alloc * 2 : 64;
        char **cells = NULL;
        if (nalloc > CLI_TABLE_MAX_CELLS ||
            (cells = realloc(t->cells, nalloc * sizeof *cells)) == NULL) {
            free(cell);
            return nalloc > CLI_TABLE_MAX_CELLS ? RF_ERR_TOO_LARGE : RF_ERR_NOMEM;
        }
        t->cells = cells;
        t->alloc = nalloc;
    }
    t->cells[t->ncells++] = cell;
    return RF_OK;
}

rf_err cli_table_add(cli_table *t, const char *s)
{
    rf_buf b;
    rf_buf_init(&b, CLI_MAX_OUTPUT);
    rf_err rc = cli_text_clean(&b, s ? s : "-", (size_t)-1, 0);
    if (rc != RF_OK) {
        rf_buf_cleanup(&b);
        return rc;
    }
    return table_push(t, b.data != NULL ? rf_buf_steal(&b, NULL) : strdup(""));
}

rf_err cli_table_addf(cli_table *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return RF_ERR_INVALID;
    }
    char *s = malloc((size_t)n + 1);
    if (s == NULL) {
        return RF_ERR_NOMEM;
    }
    va_start(ap, fmt);
    (void)vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    rf_err rc = cli_table_add(t, s);
    free(s);
    return rc;
}

static rf_err pad(rf_buf *out, size_t n)
{
    static const char spaces[] = "                                ";
    rf_err rc = RF_OK;
    while (n > 0 && rc == RF_OK) {
        size_t k = n < sizeof spaces - 1 ? n : sizeof spaces - 1;
        rc = rf_buf_append(out, spaces, k);
        n -= k;
    }
    return rc;
}

/* One row; the last column is not padded unless right-aligned, and blanks
 * left by empty cells at the end are trimmed. */
static rf_err render_row(const cli_table *t, size_t row, const size_t *width, rf_buf *out)
{
    size_t start = out->len;
    rf_err rc = RF_OK;
    for (size_t c = 0; c < t->ncols && rc == RF_OK; c++) {
        const char *cell = t->cells[row * t->ncols + c];
        size_t w = cli_text_width(cell);
        unsigned right = (t->right_aligned >> c) & 1u;
        if (c > 0) {
            rc = pad(out, 2);
        }
        if (rc == RF_OK && right) {
            rc = pad(out, width[c] - w);
        }
        if (rc == RF_OK) {
            rc = rf_buf_append_str(out, cell);
        }
        if (rc == RF_OK && !right && c + 1 < t->ncols) {
            rc = pad(out, width[c] - w);
        }
    }
    if (rc != RF_OK) {
        return rc;
    }
    while (out->len > start && out->data[out->len - 1] == ' ') {
        out->data[--out->len] = '\0';
    }
    return rf_buf_append_str(out, "\n");
}

rf_err cli_table_render(const cli_table *t, rf_buf *out)
{
    size_t width[32] = {0};
    if (t->ncols == 0 || t->ncells % t->ncols != 0) {
        return RF_ERR_INTERNAL;
    }
    size_t rows = t->ncells / t->ncols;
    for (size_t i = 0; i < t->ncells; i++) {
        size_t w = cli_text_width(t->cells[i]);
        if (w > width[i % t->ncols]) {
            width[i % t->ncols] = w;
        }
    }
    rf_err rc = RF_OK;
    for (size_t r = 0; r < rows && rc == RF_OK; r++) {
        rc = render_row(t, r, width, out);
    }
    return rc;
}
