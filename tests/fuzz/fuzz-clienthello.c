/*
 * tests/fuzz: what the TLS endpoint reads from a ClientHello (SNI, ALPN)
 * and does with it: a GnuTLS server session set up by
 * acme_endpoint_session_prepare() runs its handshake over the input as
 * the client's bytes, so the endpoint's post-ClientHello hook (name
 * normalisation, store lookup, the tls-alpn-01 choice) and certificate
 * retrieval see whatever a client may send.  What the server answers is
 * thrown away; the handshake ends where the input does.
 */
#include "config.h"

#include <sys/types.h>
#include <gnutls/gnutls.h>

#include <acme/crypto.h>
#include <acme/endpoint.h>
#include <acme/store.h>
#include <acme/tlsalpn01.h>

#include "fuzz.h"

typedef struct feed {
    const uint8_t *p;
    size_t left;
} feed;

static ssize_t pull(gnutls_transport_ptr_t ptr, void *buf, size_t len)
{
    feed *f = ptr;

    if (len > f->left)
        len = f->left;
    memcpy(buf, f->p, len);
    f->p += len;
    f->left -= len;
    return (ssize_t)len;  /* 0 at the end: the client closed */
}

static ssize_t push(gnutls_transport_ptr_t ptr, const void *buf, size_t len)
{
    (void)ptr;
    (void)buf;
    return (ssize_t)len;
}

/*
 * An endpoint over a memory store holding "www.example.com", with a
 * tls-alpn-01 registry holding "example.com"; made once.
 */
static acme_endpoint *endpoint(void)
{
    static acme_endpoint *ep;
    static acme_store *store;
    static acme_tlsalpn01 *reg;
    static const char *const alpn[] = { "h2", "http/1.1", NULL };

    if (!ep) {
        acme_endpoint_options o = ACME_ENDPOINT_OPTIONS_INIT;
        char *cert = NULL, *key = NULL;
        acme_key *k = NULL;
        acme_bundle *b = NULL;

        /* A self-signed certificate for the name is all a bundle needs. */
        FUZZ_CHECK(acme_tlsalpn01_cert(&cert, &key, "www.example.com", "t.k", NULL) == 0);
        FUZZ_CHECK(acme_key_load_pem(&k, key, strlen(key), NULL) == 0);
        FUZZ_CHECK(acme_bundle_new(&b, k, cert, strlen(cert), NULL) == 0);
        FUZZ_CHECK(acme_store_memory_new(&store, NULL) == 0);
        FUZZ_CHECK(acme_store_put(store, "www.example.com", b, NULL) == 0);
        FUZZ_CHECK(acme_tlsalpn01_new(&reg, NULL) == 0);
        FUZZ_CHECK(acme_tlsalpn01_add(reg, "example.com", "t.k", NULL) == 0);
        acme_bundle_free(b);
        acme_key_free(k);
        acme_free(cert);
        acme_free(key);
        o.store = store;
        o.tlsalpn01 = reg;
        o.alpn = alpn;
        FUZZ_CHECK(acme_endpoint_new(&ep, &o, NULL) == 0);
    }
    return ep;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    acme_endpoint *ep = endpoint();
    gnutls_session_t s;
    feed f = { data, size };
    int ret;

    FUZZ_CHECK(gnutls_init(&s, GNUTLS_SERVER | GNUTLS_NO_SIGNAL) == 0);
    FUZZ_CHECK(gnutls_set_default_priority(s) == 0);
    FUZZ_CHECK(acme_endpoint_session_prepare(ep, s, NULL) == 0);
    gnutls_transport_set_ptr(s, &f);
    gnutls_transport_set_pull_function(s, pull);
    gnutls_transport_set_push_function(s, push);
    /* Warning alerts are not fatal; the input's end is. */
    for (int i = 0; i < 16; i++) {
        ret = gnutls_handshake(s);
        if (ret == 0 || gnutls_error_is_fatal(ret))
            break;
    }
    if (ret == 0)
        (void)acme_endpoint_session_is_validation(s);
    gnutls_deinit(s);
    return 0;
}
