/* Helpers of the HTML dashboard (dashboard.c) exposed for tests. */
#ifndef RF_DASHBOARD_H
#define RF_DASHBOARD_H

#include "rf_buf.h"

/* Appends s to b with &, <, >, " and ' escaped as HTML entities and control
 * characters dropped. */
rf_err dashboard_escape(rf_buf *b, const char *s);

#endif
