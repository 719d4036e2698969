/*
 * transport: the state shared by the files of lib/transport/ (http.c,
 * nonce.c, post.c).  Private to this directory: it is the only place
 * besides those files that sees <curl/curl.h>.
 */
#ifndef ACME_TRANSPORT_INTERNAL_H
#define ACME_TRANSPORT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <curl/curl.h>

#include "transport/transport.h"

/*
 * How many nonces the pool keeps.  A client uses one nonce per request and
 * gets one back with each answer, so the pool rarely holds more than one;
 * the bound only matters against a server that hands out many.
 */
#define ACME__NONCE_POOL_SIZE 16

struct acme__transport {
    /*
     * One easy handle inside one multi handle, used by one thread at a
     * time ("MT-Safe per object").  The multi handle keeps the connection
     * cache, so keep-alive connections (and the TLS session, and the CA
     * file GnuTLS loaded) survive from one request to the next; the multi
     * interface is used instead of curl_easy_perform() only so that
     * acme__transport_cancel() can wake a waiting transfer at once with
     * curl_multi_wakeup() rather than at the next progress tick.
     */
    CURLM *multi;
    CURL *easy;
    char errbuf[CURL_ERROR_SIZE];

    char *user_agent;
    char *nonce_url;
    size_t max_response_size;
    unsigned int badnonce_retries;   /* the bound, already defaulted */
    const acme__logger *log;         /* borrowed */

    /*
     * The nonce pool (RFC 8555 §7.2): a stack, newest on top, used newest
     * first.  A CA keeps a bounded window of outstanding nonces (Boulder
     * and Pebble drop the oldest), so the freshest nonce is the one most
     * likely to still be accepted; when the pool is full the oldest is
     * dropped for the same reason.  Only the owning thread touches it.
     */
    char *nonces[ACME__NONCE_POOL_SIZE];
    size_t nnonces;

    /* Counters, read by acme__transport_stats(). */
    atomic_uint_fast64_t requests;
    atomic_uint_fast64_t badnonce;

    /*
     * Cancellation: set from any thread.  The transfer sees it in the
     * progress callback and after each curl_multi_poll() (woken by
     * curl_multi_wakeup()); acme__transport_sleep() waits on @c wake.
     */
    atomic_bool cancelled;
    pthread_mutex_t lock;
    pthread_cond_t wake;             /* signalled under lock on cancel */
};

/* http.c: one request.  @p method is "GET", "HEAD" or "POST". */
int acme__http_request(acme__response *resp, acme__transport *t, const char *method,
                       const char *url, const char *body, const char *accept,
                       acme_error **err);

/* nonce.c */
/* Add a Replay-Nonce value to the pool; returns false when it is not base64url. */
bool acme__nonce_put(acme__transport *t, const char *nonce);
/* Take a nonce: from the pool, or by a HEAD to the newNonce URL when it is empty. */
int acme__nonce_take(char **out, acme__transport *t, acme_error **err);
void acme__nonce_clear(acme__transport *t);

#endif
