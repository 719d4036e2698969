/*
 * transport: a small generic HTTP client for REST APIs other than the
 * CA's (DNS providers).  One libcurl easy handle per acme__rest (its
 * connections are reused), one request at a time; limits, cancellation,
 * and HTTP error statuses turned into clear errors.  Only lib/transport/
 * sees libcurl: providers call this.
 */
#ifndef ACME_TRANSPORT_REST_H
#define ACME_TRANSPORT_REST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <acme/error.h>

#include "util/log.h"
#include "util/util.h"

typedef struct acme__rest acme__rest;

typedef struct acme__rest_options {
    const char *ca_file;          /* NULL: the system store */
    const char *proxy;            /* NULL: libcurl's environment rules */
    const char *user_agent;       /* appended to "libacme/VERSION", or NULL */
    long connect_timeout_ms;      /* 0: 30000 */
    long request_timeout_ms;      /* 0: 30000 */
    size_t max_response_size;     /* 0: 4 MiB (zone lists can be long) */
    const acme__logger *log;      /* borrowed; may be NULL */
} acme__rest_options;

/* One request.  Header lines are "Name: value"; their values are never logged. */
typedef struct acme__rest_request {
    const char *method;               /* "GET", "POST", "PUT", "PATCH", "DELETE" */
    const char *url;                  /* http:// or https:// */
    const char *const *headers;       /* NULL-terminated, or NULL */
    const char *body;                 /* NULL: no body */
    size_t body_len;                  /* 0 with a body: strlen(body) */
    /* What to call the service in messages ("PowerDNS"); NULL: the host. */
    const char *service;
} acme__rest_request;

typedef struct acme__rest_response {
    long status;                      /* 0 before a response */
    char *content_type;               /* media type, lower case, no parameters; or NULL */
    int64_t retry_after;              /* seconds, -1 when absent */
    char **header_names;              /* every header, as received (names as sent) */
    char **header_values;
    size_t nheaders;
    acme__buf body;                   /* NUL-terminated (data may be NULL when empty) */
} acme__rest_response;

#define ACME__REST_RESPONSE_INIT { 0, NULL, -1, NULL, NULL, 0, ACME__BUF_INIT }

void acme__rest_response_clear(acme__rest_response *resp);
/* The first header named @p name (case-insensitive), or NULL. */
const char *acme__rest_response_header(const acme__rest_response *resp, const char *name);

int acme__rest_new(acme__rest **out, const acme__rest_options *opts, acme_error **err);
void acme__rest_free(acme__rest *r);

/*
 * Send @p req and read the answer into @p resp (initialised by the call;
 * release it with acme__rest_response_clear() in every case).
 *
 * A 2xx answer returns ACME_OK.  Any other status returns an error whose
 * message names the service, method, path (never the query or headers)
 * and the provider's own message (acme__rest_error_text()), with the HTTP
 * status, the provider's message as detail and Retry-After filled in:
 *   401, 403       -> ACME_E_AUTH
 *   429            -> ACME_E_RATELIMITED (retryable, Retry-After)
 *   404            -> ACME_E_NOTFOUND
 *   other 4xx      -> ACME_E_REJECTED ("validation error")
 *   5xx            -> ACME_E_NETWORK (retryable)
 *   1xx, 3xx       -> ACME_E_PROTOCOL
 * Transfer failures: ACME_E_NETWORK, ACME_E_TLS, ACME_E_TIMEOUT,
 * ACME_E_CANCELLED, ACME_E_PROTOCOL (too big), ACME_E_INVALID (bad URL).
 */
int acme__rest_send(acme__rest_response *resp, acme__rest *r, const acme__rest_request *req,
                       acme_error **err);

/*
 * Map an error status to an error as acme__rest_send() does (exposed
 * for tests and for providers that report errors in 2xx bodies).
 */
int acme__rest_status_error(acme_error **err, const acme__rest_request *req,
                            const acme__rest_response *resp);

/*
 * The provider's message in an error body: JSON members "error",
 * "message", "detail", "errors"[0] (a string or an object with
 * "message"), or a short one-line text/plain body.  NULL when none.
 * Free with free().
 */
char *acme__rest_error_text(const acme__rest_response *resp);

/* Cancel the request in progress and every later one (MT-Safe). */
void acme__rest_cancel(acme__rest *r);
void acme__rest_reset_cancel(acme__rest *r);
bool acme__rest_cancelled(const acme__rest *r);

#endif
