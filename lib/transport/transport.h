/*
 * transport: HTTPS to the CA over one libcurl easy handle, the nonce pool,
 * signed POSTs with badNonce retries, Retry-After and problem documents.
 * Only lib/transport/ includes <curl/curl.h>.
 */
#ifndef ACME_TRANSPORT_H
#define ACME_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <acme/crypto.h>
#include <acme/error.h>

#include "util/log.h"
#include "util/util.h"

/* One HTTP response, as the layers above need it. */
typedef struct acme__response {
    long status;              /* HTTP status, 0 before a response */
    char *content_type;       /* media type, lowercased, without parameters; or NULL */
    char *location;           /* Location header, or NULL */
    int64_t retry_after;      /* Retry-After in seconds, -1 when absent */
    char **alternates;        /* Link: <..>;rel="alternate", absolute URLs */
    size_t nalternates;
    char *link_up;            /* Link: <..>;rel="up", or NULL */
    acme__buf body;           /* the body, NUL-terminated */
} acme__response;

void acme__response_clear(acme__response *resp);

typedef struct acme__transport_options {
    const char *ca_file;          /* NULL: the system store */
    const char *proxy;            /* NULL: libcurl's environment rules */
    const char *user_agent;       /* appended to "libacme/VERSION", or NULL */
    long connect_timeout_ms;      /* 0: 30000 */
    long request_timeout_ms;      /* 0: 60000 */
    size_t max_response_size;     /* 0: 1 MiB */
    unsigned int badnonce_retries;
    const acme__logger *log;      /* borrowed; may be NULL */
} acme__transport_options;

typedef struct acme__transport acme__transport;

int acme__transport_new(acme__transport **out, const acme__transport_options *opts,
                        acme_error **err);
void acme__transport_free(acme__transport *t);

/* Where to HEAD for a nonce when the pool is empty (the directory's newNonce). */
int acme__transport_set_nonce_url(acme__transport *t, const char *url);

/*
 * For acme__transport_get() and acme__transport_post(): *resp is an
 * output, initialised by the call (old contents are not freed), filled in
 * as far as the answer went, and always released with
 * acme__response_clear() (which leaves it empty and reusable).
 *
 * The nonce pool keeps at most 16 nonces, uses the newest first and drops
 * the oldest when full (a CA's window of valid nonces drops its oldest);
 * values that are not base64url are ignored.
 */

/*
 * A plain GET (the directory, renewalInfo).  @p accept is the media type
 * the body must have ("application/json"), or NULL for any.  A non-2xx
 * status becomes an error (from the problem document when there is one)
 * and returns its negative code; *resp is filled in either case.
 */
int acme__transport_get(acme__response *resp, acme__transport *t, const char *url,
                        const char *accept, acme_error **err);

/*
 * A signed POST (RFC 8555 §6.2): JWS with a nonce from the pool, signed by
 * @p key with "kid" @p kid (NULL: "jwk").  @p payload NULL is POST-as-GET
 * (§6.3).  A badNonce answer is retried with the nonce it carried, up to
 * the configured bound.  Every response's Replay-Nonce feeds the pool.
 * @p accept as for acme__transport_get (a problem document is always
 * accepted for an error status).
 */
int acme__transport_post(acme__response *resp, acme__transport *t, const char *url,
                         const char *payload, const acme_key *key, const char *kid,
                         const char *accept, acme_error **err);

/* Cancel the transfer in progress and every later one (MT-Safe). */
void acme__transport_cancel(acme__transport *t);
void acme__transport_reset_cancel(acme__transport *t);
bool acme__transport_cancelled(acme__transport *t);

/*
 * Sleep @p ms milliseconds on a condition variable (monotonic clock) that
 * acme__transport_cancel() signals, returning ACME_E_CANCELLED at once
 * when the transport is (or becomes) cancelled.
 */
int acme__transport_sleep(acme__transport *t, int64_t ms, acme_error **err);

/* Counters: requests sent, badNonce answers retried. */
void acme__transport_stats(const acme__transport *t, uint64_t *requests, uint64_t *badnonce);

/* ---- problem documents (problem.c) ---- */

/*
 * Turn an error response into an error: an RFC 7807 problem document
 * (application/problem+json) gives type, detail, instance, subproblems and
 * the code from the problem table; anything else gives a message with the
 * HTTP status.  Retry-After is copied.  Returns the (negative) code.
 */
int acme__problem_error(acme_error **err, const acme__response *resp);

/*
 * Whether @p e is the ACME problem @p name ("badNonce",
 * "accountDoesNotExist", "orderNotReady", "alreadyReplaced").
 */
bool acme__problem_is(const acme_error *e, const char *name);

/*
 * Build an error from a problem object embedded in another document
 * (an order's or a challenge's "error" member), given as JSON text.
 * Returns NULL when out of memory or not a problem.
 */
acme_error *acme__problem_from_json(const char *json, size_t len, int http_status);

#endif
