/* The web dashboard's files, embedded into ringfenced at build time
 * (embed_web.cmake writes web_embedded.c from server/web and uPlot's npm
 * package), so the binary serves exactly the page it was built with. */
#ifndef RF_WEB_ASSETS_H
#define RF_WEB_ASSETS_H

#include <stddef.h>

typedef struct web_asset {
    const char *path;         /* "/" or "/assets/NAME" */
    const char *content_type; /* static */
    const unsigned char *data;
    size_t len;
    const char *etag; /* "\"<first 32 hex of SHA-256>\"" */
} web_asset;

/* Every asset, ending with an entry whose path is NULL. */
extern const web_asset web_assets[];

#endif
