/*
 * tests/integration: test responders for the Pebble harness (see pebble.h).
 *
 * Layer: tests only.  Responders written the way an application would,
 * through <acme/sys/responder.h> (acme_responder_ops version 1): they answer
 * http-01, dns-01 and tls-alpn-01 by telling pebble-challtestsrv what to
 * serve on Pebble's httpPort / tlsPort / DNS.  Kept apart from pebble.c so
 * the harness itself links without the client.
 */
#include "config.h"

#include <string.h>

#include <glib.h>

#include <acme/sys/error.h>
#include <acme/sys/responder.h>

#include "pebble.h"

typedef struct cts_responder {
    pebble *p;
    /* A pthread mutex, not GMutex: ThreadSanitizer cannot see GLib's futex
     * locks (GLib is not instrumented) and reports false races. */
    pthread_mutex_t lock;
    unsigned int started;       /* guarded by lock */
    unsigned int stopped;       /* guarded by lock */
    /*
     * dns-01: TXT values per record name.  challtestsrv's clear-txt drops
     * every value of a name, but a wildcard and its base name share
     * _acme-challenge.NAME, so stop re-adds the values still in use.
     */
    GHashTable *txt;            /* host -> GPtrArray of values; guarded by lock */
} cts_responder;

static void bump(cts_responder *r, bool start)
{
    pthread_mutex_lock(&r->lock);
    if (start)
        r->started++;
    else
        r->stopped++;
    pthread_mutex_unlock(&r->lock);
}

/* http-01 (RFC 8555 §8.3): challtestsrv serves the key authorization at the token's path. */
static int http01_start(void *self, const char *name, const acme_challenge *ch,
                        const char *key_authorization, acme_error **err)
{
    cts_responder *r = self;

    (void)name;
    if (!pebble_cts_add_http01(r->p, acme_challenge_token(ch), key_authorization))
        return acme_error_set(err, ACME_E_IO, "challtestsrv refused add-http01");
    bump(r, true);
    return ACME_OK;
}

static void http01_stop(void *self, const char *name, const acme_challenge *ch,
                        const char *key_authorization)
{
    cts_responder *r = self;

    (void)name;
    (void)key_authorization;
    pebble_cts_del_http01(r->p, acme_challenge_token(ch));
    bump(r, false);
}

/* tls-alpn-01 (RFC 8737): challtestsrv builds the acmeIdentifier certificate from the key authorization. */
static int tlsalpn01_start(void *self, const char *name, const acme_challenge *ch,
                           const char *key_authorization, acme_error **err)
{
    cts_responder *r = self;

    (void)ch;
    if (!pebble_cts_add_tlsalpn01(r->p, name, key_authorization))
        return acme_error_set(err, ACME_E_IO, "challtestsrv refused add-tlsalpn01");
    bump(r, true);
    return ACME_OK;
}

static void tlsalpn01_stop(void *self, const char *name, const acme_challenge *ch,
                           const char *key_authorization)
{
    cts_responder *r = self;

    (void)ch;
    (void)key_authorization;
    pebble_cts_del_tlsalpn01(r->p, name);
    bump(r, false);
}

/* dns-01 (RFC 8555 §8.4): TXT _acme-challenge.NAME = base64url(SHA-256(key authorization)). */
static int dns01_start(void *self, const char *name, const acme_challenge *ch,
                       const char *key_authorization, acme_error **err)
{
    cts_responder *r = self;
    char *value = NULL, *host;
    GPtrArray *values;
    int rc;

    (void)ch;
    rc = acme_dns01_txt_value(&value, key_authorization, err);
    if (rc != ACME_OK)
        return rc;
    host = g_strdup_printf("_acme-challenge.%s.", name);
    pthread_mutex_lock(&r->lock);
    if (!pebble_cts_set_txt(r->p, host, value)) {
        pthread_mutex_unlock(&r->lock);
        g_free(host);
        acme_free(value);
        return acme_error_set(err, ACME_E_IO, "challtestsrv refused set-txt");
    }
    values = g_hash_table_lookup(r->txt, host);
    if (values == NULL) {
        values = g_ptr_array_new_with_free_func(g_free);
        g_hash_table_insert(r->txt, g_strdup(host), values);
    }
    g_ptr_array_add(values, g_strdup(value));
    r->started++;
    pthread_mutex_unlock(&r->lock);
    g_free(host);
    acme_free(value);
    return ACME_OK;
}

static void dns01_stop(void *self, const char *name, const acme_challenge *ch,
                       const char *key_authorization)
{
    cts_responder *r = self;
    char *value = NULL, *host = g_strdup_printf("_acme-challenge.%s.", name);
    GPtrArray *values;
    guint i;

    (void)ch;
    acme_dns01_txt_value(&value, key_authorization, NULL);
    pthread_mutex_lock(&r->lock);
    values = g_hash_table_lookup(r->txt, host);
    if (values != NULL && value != NULL) {
        for (i = 0; i < values->len; i++) {
            if (strcmp(g_ptr_array_index(values, i), value) == 0) {
                g_ptr_array_remove_index(values, i);
                break;
            }
        }
    }
    pebble_cts_clear_txt(r->p, host);
    for (i = 0; values != NULL && i < values->len; i++)
        pebble_cts_set_txt(r->p, host, g_ptr_array_index(values, i));
    if (values != NULL && values->len == 0)
        g_hash_table_remove(r->txt, host);
    r->stopped++;
    pthread_mutex_unlock(&r->lock);
    g_free(host);
    acme_free(value);
}

static void cts_destroy(void *self)
{
    cts_responder *r = self;

    g_hash_table_unref(r->txt);
    pthread_mutex_destroy(&r->lock);
    g_free(r);
}

static const acme_responder_ops http01_ops = {
    .version = ACME_RESPONDER_OPS_VERSION,
    .name = "pebble-challtestsrv http-01",
    .challenge_type = "http-01",
    .start = http01_start,
    .stop = http01_stop,
    .destroy = cts_destroy,
};

static const acme_responder_ops dns01_ops = {
    .version = ACME_RESPONDER_OPS_VERSION,
    .name = "pebble-challtestsrv dns-01",
    .challenge_type = "dns-01",
    .start = dns01_start,
    .stop = dns01_stop,
    .destroy = cts_destroy,
};

static const acme_responder_ops tlsalpn01_ops = {
    .version = ACME_RESPONDER_OPS_VERSION,
    .name = "pebble-challtestsrv tls-alpn-01",
    .challenge_type = "tls-alpn-01",
    .start = tlsalpn01_start,
    .stop = tlsalpn01_stop,
    .destroy = cts_destroy,
};

acme_responder *pebble_responder_new(pebble *p, const char *challenge_type)
{
    const acme_responder_ops *ops;
    cts_responder *r;
    acme_responder *out = NULL;
    acme_error *err = NULL;

    if (strcmp(challenge_type, "http-01") == 0)
        ops = &http01_ops;
    else if (strcmp(challenge_type, "dns-01") == 0)
        ops = &dns01_ops;
    else if (strcmp(challenge_type, "tls-alpn-01") == 0)
        ops = &tlsalpn01_ops;
    else
        return NULL;
    r = g_new0(cts_responder, 1);
    r->p = p;
    pthread_mutex_init(&r->lock, NULL);
    r->txt = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                   (GDestroyNotify)g_ptr_array_unref);
    if (acme_responder_new(&out, ops, r, &err) != ACME_OK) {
        g_printerr("pebble harness: acme_responder_new: %s\n",
                   err != NULL ? acme_error_message(err) : "?");
        acme_error_free(err);
        return NULL;
    }
    return out;
}

void pebble_responder_counts(const acme_responder *r, unsigned int *started, unsigned int *stopped)
{
    cts_responder *cr = acme_responder_self(r);

    pthread_mutex_lock(&cr->lock);
    if (started != NULL)
        *started = cr->started;
    if (stopped != NULL)
        *stopped = cr->stopped;
    pthread_mutex_unlock(&cr->lock);
}
