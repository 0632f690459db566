/* Helpers of the web dashboard's routes (dashboard.c) exposed for tests. */
#ifndef RF_DASHBOARD_H
#define RF_DASHBOARD_H

#include "rf_buf.h"
#include "web_assets.h"

/* Appends s to b with &, <, >, " and ' escaped as HTML entities and control
 * characters dropped. */
rf_err dashboard_escape(rf_buf *b, const char *s);

/* The embedded file served at path ("/", "/assets/app.js"), or NULL. */
const web_asset *dashboard_find(const char *path);

#endif
