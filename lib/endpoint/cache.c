/*
 * endpoint: the certificate cache.  Maps a server name to the
 * credentials a handshake needs (DER chain and parsed key), built once
 * from the store's bundle, so that handshakes neither read the store nor
 * parse PEM.
 *
 * A chained hash table (FNV-1a, doubled when it fills), so 10,000 names
 * cost a handshake no more than ten.  The lock guards only the table:
 * lookups take a reference and let go of the lock; store reads and
 * credential building happen unlocked; an entry is replaced in one step
 * under the lock.  The lock is a leaf (nothing else is taken while it is
 * held).
 *
 * Names the store does not have are remembered as missing for a short
 * time (negative entries), so a client repeating an unknown SNI does not
 * hammer the store.  Their number is bounded: past NEG_MAX live ones, new
 * misses are not remembered (an attacker sending random names then costs
 * a store read each, never memory).
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <acme/sys/error.h>

#include "crypto/gtls.h"
#include "endpoint/cache.h"
#include "util/i18n.h"
#include "util/util.h"

/* Negative entries kept at once (see above). */
#define NEG_MAX 4096u
/* Sweeps of expired negative entries at most this often (ms). */
#define SWEEP_EVERY_MS 100

struct acme__ep_cert {
    atomic_uint refs;
    gnutls_datum_t *der;      /* leaf first; each gnutls_malloc'd */
    unsigned int nder;
    gnutls_x509_privkey_t key;
};

typedef struct entry {
    struct entry *next;
    uint32_t hash;
    char *name;
    acme__ep_cert *cert;      /* NULL: a negative entry */
    int64_t expires;          /* negative entries: monotonic ms */
} entry;

struct acme__ep_cache {
    acme_store *store;        /* borrowed */
    unsigned int neg_ttl_ms;
    pthread_mutex_t lock;
    entry **buckets;          /* guarded by lock */
    size_t nbuckets;          /* guarded by lock; a power of two */
    size_t count;             /* guarded by lock */
    size_t nneg;              /* guarded by lock */
    int64_t last_sweep;       /* guarded by lock */
};

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

void acme__ep_cert_unref(acme__ep_cert *cert)
{
    if (!cert || atomic_fetch_sub(&cert->refs, 1) != 1)
        return;
    for (unsigned int i = 0; i < cert->nder; i++)
        gnutls_free(cert->der[i].data);
    free(cert->der);
    if (cert->key)
        gnutls_x509_privkey_deinit(cert->key);
    free(cert);
}

static acme__ep_cert *cert_ref(acme__ep_cert *cert)
{
    atomic_fetch_add(&cert->refs, 1);
    return cert;
}

/* Credentials from a complete bundle. */
static int cert_build(acme__ep_cert **out, const acme_bundle *bundle, const char *name,
                      acme_error **err)
{
    const acme_chain *chain = acme_bundle_chain(bundle);
    const acme_key *key = acme_bundle_key(bundle);
    acme__ep_cert *c;
    size_t n = chain ? acme_chain_count(chain) : 0;
    int ret;

    *out = NULL;
    if (!key || n == 0)
        return acme_error_set(err, ACME_E_NOTFOUND, _("no certificate stored for %.255s"), name);
    if (!(c = calloc(1, sizeof(*c))) || !(c->der = calloc(n, sizeof(*c->der)))) {
        free(c);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    atomic_init(&c->refs, 1);
    for (size_t i = 0; i < n; i++) {
        const char *pem = acme_cert_pem(acme_chain_get(chain, i));
        gnutls_datum_t in = { (unsigned char *)pem, (unsigned int)strlen(pem) };

        if ((ret = gnutls_pem_base64_decode2("CERTIFICATE", &in, &c->der[i])) < 0)
            goto gnutls_fail;
        c->nder++;
    }
    /* A copy of the key: the bundle (and its key) may go once we return. */
    if ((ret = gnutls_x509_privkey_init(&c->key)) < 0) {
        c->key = NULL;
        goto gnutls_fail;
    }
    if ((ret = gnutls_x509_privkey_cpy(c->key, key->x509)) < 0)
        goto gnutls_fail;
    *out = c;
    return ACME_OK;
gnutls_fail:
    acme__ep_cert_unref(c);
    return acme_error_set(err, ret == GNUTLS_E_MEMORY_ERROR ? ACME_E_NOMEM : ACME_E_TLS,
                          _("cannot prepare the certificate of %.255s: %s"), name,
                          gnutls_strerror(ret));
}

int acme__ep_cert_copy(const acme__ep_cert *cert, gnutls_pcert_st **pcerts, unsigned int *npcerts,
                       gnutls_privkey_t *key)
{
    gnutls_pcert_st *p;
    gnutls_privkey_t k = NULL;
    unsigned int done = 0;
    int ret;

    *pcerts = NULL;
    *npcerts = 0;
    *key = NULL;
    if (!(p = gnutls_malloc(cert->nder * sizeof(*p))))
        return GNUTLS_E_MEMORY_ERROR;
    for (; done < cert->nder; done++)
        if ((ret = gnutls_pcert_import_x509_raw(&p[done], &cert->der[done], GNUTLS_X509_FMT_DER,
                                                0)) < 0)
            goto fail;
    if ((ret = gnutls_privkey_init(&k)) < 0) {
        k = NULL;
        goto fail;
    }
    if ((ret = gnutls_privkey_import_x509(k, cert->key, GNUTLS_PRIVKEY_IMPORT_COPY)) < 0)
        goto fail;
    *pcerts = p;
    *npcerts = cert->nder;
    *key = k;
    return 0;
fail:
    while (done > 0)
        gnutls_pcert_deinit(&p[--done]);
    gnutls_free(p);
    if (k)
        gnutls_privkey_deinit(k);
    return ret;
}

int acme__ep_cache_new(acme__ep_cache **out, acme_store *store, unsigned int neg_ttl_ms,
                       acme_error **err)
{
    acme__ep_cache *c = calloc(1, sizeof(*c));

    *out = NULL;
    if (!c || !(c->buckets = calloc(64, sizeof(*c->buckets)))) {
        free(c);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    c->nbuckets = 64;
    c->store = store;
    c->neg_ttl_ms = neg_ttl_ms;
    pthread_mutex_init(&c->lock, NULL);
    *out = c;
    return ACME_OK;
}

static void entry_free(entry *e)
{
    acme__ep_cert_unref(e->cert);
    free(e->name);
    free(e);
}

void acme__ep_cache_free(acme__ep_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nbuckets; i++) {
        entry *e = c->buckets[i], *next;

        for (; e; e = next) {
            next = e->next;
            entry_free(e);
        }
    }
    free(c->buckets);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* The entry for @p name, or NULL; lock held.  *link_out is where it hangs. */
static entry *find(acme__ep_cache *c, const char *name, uint32_t h, entry ***link_out)
{
    entry **link = &c->buckets[h & (c->nbuckets - 1)];

    for (; *link; link = &(*link)->next)
        if ((*link)->hash == h && strcmp((*link)->name, name) == 0)
            break;
    if (link_out)
        *link_out = link;
    return *link;
}

/* Double the table; lock held.  Failing to grow only makes chains longer. */
static void grow(acme__ep_cache *c)
{
    size_t n = c->nbuckets * 2;
    entry **b = calloc(n, sizeof(*b));

    if (!b)
        return;
    for (size_t i = 0; i < c->nbuckets; i++) {
        entry *e = c->buckets[i], *next;

        for (; e; e = next) {
            next = e->next;
            e->next = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
        }
    }
    free(c->buckets);
    c->buckets = b;
    c->nbuckets = n;
}

/* Drop expired negative entries; lock held. */
static void sweep(acme__ep_cache *c, int64_t now)
{
    c->last_sweep = now;
    for (size_t i = 0; i < c->nbuckets; i++) {
        entry **link = &c->buckets[i];

        while (*link) {
            entry *e = *link;

            if (!e->cert && e->expires <= now) {
                *link = e->next;
                entry_free(e);
                c->count--;
                c->nneg--;
            } else {
                link = &e->next;
            }
        }
    }
}

/*
 * Put @p cert (NULL: "missing") for @p name.  With @p replace the entry
 * is replaced whatever it holds (a reload); without, an entry someone
 * else put meanwhile wins, unless it is an expired miss (a first load
 * racing a reload must not undo the reload).  Takes the lock.
 */
static void put(acme__ep_cache *c, const char *name, acme__ep_cert *cert, bool replace)
{
    uint32_t h = fnv1a(name);
    int64_t now = now_ms();
    entry **link, *e;

    pthread_mutex_lock(&c->lock);
    e = find(c, name, h, &link);
    if (e) {
        if (!replace && (e->cert || e->expires > now))
            goto out;
        if (!e->cert)
            c->nneg--;
        acme__ep_cert_unref(e->cert);
        e->cert = NULL;
    } else {
        if (!cert && c->nneg >= NEG_MAX) {
            if (now - c->last_sweep >= SWEEP_EVERY_MS)
                sweep(c, now);
            if (c->nneg >= NEG_MAX)
                goto out;  /* full of live misses: do not remember this one */
        }
        if (!(e = calloc(1, sizeof(*e))) || !(e->name = acme__strdup(name))) {
            free(e);
            goto out;
        }
        e->hash = h;
        e->next = NULL;
        *link = e;
        c->count++;
        if (c->count > c->nbuckets)
            grow(c);
    }
    if (cert)
        e->cert = cert_ref(cert);
    else {
        e->expires = now + c->neg_ttl_ms;
        c->nneg++;
    }
out:
    pthread_mutex_unlock(&c->lock);
}

/* Read @p name from the store and build its credentials (no lock held). */
static int load(acme__ep_cert **out, acme__ep_cache *c, const char *name, acme_error **err)
{
    acme_bundle *b = NULL;
    int rc;

    *out = NULL;
    if ((rc = acme_store_get(&b, c->store, name, err)) < 0)
        return rc;
    if (acme_bundle_wants_issue(b))
        rc = acme_error_set(err, ACME_E_NOTFOUND, _("%.255s is waiting for its first certificate"),
                            name);
    else
        rc = cert_build(out, b, name, err);
    acme_bundle_free(b);
    return rc;
}

int acme__ep_cache_get(acme__ep_cert **out, acme__ep_cache *c, const char *name,
                       acme_error **err)
{
    uint32_t h = fnv1a(name);
    acme__ep_cert *cert = NULL;
    entry *e;
    int rc;

    *out = NULL;
    pthread_mutex_lock(&c->lock);
    e = find(c, name, h, NULL);
    if (e && e->cert)
        cert = cert_ref(e->cert);
    else if (e && e->expires > now_ms()) {
        pthread_mutex_unlock(&c->lock);
        return acme_error_set(err, ACME_E_NOTFOUND, _("no certificate for %.255s"), name);
    }
    pthread_mutex_unlock(&c->lock);
    if (cert) {
        *out = cert;
        return ACME_OK;
    }
    rc = load(&cert, c, name, err);
    if (rc == ACME_E_NOTFOUND) {
        put(c, name, NULL, false);
        return rc;
    }
    if (rc < 0)
        return rc;
    put(c, name, cert, false);
    /* Whatever the table holds now (ours, or a reload's that came first). */
    pthread_mutex_lock(&c->lock);
    e = find(c, name, h, NULL);
    if (e && e->cert && e->cert != cert) {
        acme__ep_cert_unref(cert);
        cert = cert_ref(e->cert);
    }
    pthread_mutex_unlock(&c->lock);
    *out = cert;
    return ACME_OK;
}

int acme__ep_cache_reload(acme__ep_cache *c, const char *name, acme_error **err)
{
    acme__ep_cert *cert = NULL;
    int rc;

    if (!name) {
        pthread_mutex_lock(&c->lock);
        for (size_t i = 0; i < c->nbuckets; i++) {
            entry *e = c->buckets[i], *next;

            for (; e; e = next) {
                next = e->next;
                entry_free(e);
            }
            c->buckets[i] = NULL;
        }
        c->count = c->nneg = 0;
        pthread_mutex_unlock(&c->lock);
        return ACME_OK;
    }
    rc = load(&cert, c, name, err);
    if (rc == ACME_E_NOTFOUND) {
        put(c, name, NULL, true);
        if (err && *err) {
            acme_error_free(*err);
            *err = NULL;
        }
        return ACME_OK;
    }
    if (rc < 0) {
        /* Drop the entry: the next handshake tries the store again. */
        uint32_t h = fnv1a(name);
        entry **link, *e;

        pthread_mutex_lock(&c->lock);
        if ((e = find(c, name, h, &link))) {
            *link = e->next;
            if (!e->cert)
                c->nneg--;
            c->count--;
            entry_free(e);
        }
        pthread_mutex_unlock(&c->lock);
        return rc;
    }
    put(c, name, cert, true);
    acme__ep_cert_unref(cert);
    return ACME_OK;
}

size_t acme__ep_cache_count(acme__ep_cache *c)
{
    size_t n;

    pthread_mutex_lock(&c->lock);
    n = c->count;
    pthread_mutex_unlock(&c->lock);
    return n;
}
