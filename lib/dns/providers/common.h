/*
 * dns/providers: helpers shared by the built-in REST providers (one JSON
 * call, names safe in URL paths, a DELETE where 404 is success).  Each
 * provider keeps its own quirks (pagination, error bodies, envelopes) in
 * its own file; only what is the same logic lives here.
 */
#ifndef ACME_DNS_PROVIDERS_COMMON_H
#define ACME_DNS_PROVIDERS_COMMON_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include <acme/error.h>

#include "dns/dns.h"

/* The parsed 2xx body must be a JSON object. */
#define ACME__DNSP_OBJECT 0x1u
/* An empty 2xx body is no error: *json_out stays NULL. */
#define ACME__DNSP_EMPTY_OK 0x2u

/* One JSON call to a provider's REST API. */
typedef struct acme__dnsp_call {
    acme_dns_env *env;
    const char *service;           /* the name in messages ("DigitalOcean") */
    const char *method;
    const char *base;              /* with path: the URL is base + path */
    const char *path;
    const char *url;               /* or an absolute URL (a next page); wins over base */
    /* The provider's own header lines (authentication), NULL-terminated or
     * NULL; "Accept" and, with a body, "Content-Type" follow them. */
    const char *const *headers;
    json_object *body;             /* sent as application/json; NULL: none */
    unsigned int flags;            /* ACME__DNSP_* */
    /* May add the provider's own error detail to @p e when the send failed. */
    void (*on_error)(acme_error *e, const acme__rest_response *resp);
    /* NULL, or receives the response for its headers (Link, Total-Count):
     * release it with acme__rest_response_clear() in every case. */
    acme__rest_response *resp_out;
} acme__dnsp_call;

/*
 * Send @p c; @p json_out (may be NULL) receives the parsed body of a 2xx
 * answer.  Errors are acme__rest_send()'s, or ACME_E_PROTOCOL for a body
 * that is not JSON (or not an object with ACME__DNSP_OBJECT).
 */
int acme__dnsp_call_json(const acme__dnsp_call *c, json_object **json_out, acme_error **err);

/*
 * Whether @p s (an id or a domain name from the API) is safe in a URL
 * path: 1 to @p max characters of letters, digits, '-', '_' and '.'.
 */
bool acme__dnsp_path_safe(const char *s, size_t max);

/*
 * Finish a DELETE whose error (if any) went to @p e: ACME_E_NOTFOUND means
 * already gone, which is success; other errors go to @p err.
 */
int acme__dnsp_gone_ok(int rc, acme_error *e, acme_error **err);

#endif
