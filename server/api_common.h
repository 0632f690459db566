/* Small helpers the route files share (api_common.c): answering an error,
 * answering a conflict together with the object as it is now, reading
 * If-Match and setting ETag. Only api_*.c use them. */
#ifndef RF_API_COMMON_H
#define RF_API_COMMON_H

#include "http.h"

/* Answers rc with e's message when e carries that code; returns RF_HTTP_DONE. */
rf_http_result api_fail(rf_resp *resp, rf_err rc, const rf_error *e);

/* Like api_fail; when rc is RF_ERR_CONFLICT and current is not NULL, the
 * answer also carries "current": current. Steals current either way. */
rf_http_result api_fail_current(rf_resp *resp, rf_err rc, const rf_error *e, json_t *current);

/* If-Match: "3", W/"3", 3 → *version; "*" or no header → -1. RF_ERR_INVALID
 * for anything else. */
rf_err api_if_match(const rf_req *req, int *version);

/* ETag: "<version>". */
void api_etag(rf_resp *resp, int version);

#endif
