/*
 * endpoint: the certificate cache shared by every handshake of an
 * endpoint.  Private to lib/endpoint/ (it speaks GnuTLS).
 */
#ifndef ACME_ENDPOINT_CACHE_H
#define ACME_ENDPOINT_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>

#include <acme/error.h>
#include <acme/store.h>

/*
 * What a handshake needs for one name, built once from the store's
 * bundle: the chain as DER (leaf first) and the parsed private key.
 * Immutable once made; reference counted, so a reload can replace the
 * cache entry while handshakes still hold the old one.
 */
typedef struct acme__ep_cert acme__ep_cert;

/* The cache: name -> acme__ep_cert, or "missing" for a short time. */
typedef struct acme__ep_cache acme__ep_cache;

/* An empty cache over @p store (borrowed); misses stay cached @p neg_ttl_ms. */
int acme__ep_cache_new(acme__ep_cache **out, acme_store *store, unsigned int neg_ttl_ms,
                       acme_error **err);
void acme__ep_cache_free(acme__ep_cache *cache);

/*
 * The credentials for @p name (canonical form): from the cache, or loaded
 * from the store on first use.  The lookup holds the cache lock only to
 * find the entry and take a reference; a store read happens unlocked.
 *
 * @return ACME_OK with a reference in *out (release it with
 *         acme__ep_cert_unref()); ACME_E_NOTFOUND when the store has no
 *         certificate for the name (no entry, or an issue request), also
 *         when that was found less than the negative TTL ago; the store's
 *         error or ACME_E_TLS / ACME_E_NOMEM when building fails (not
 *         cached: the next handshake tries again).
 */
int acme__ep_cache_get(acme__ep_cert **out, acme__ep_cache *cache, const char *name,
                       acme_error **err);

/*
 * Read @p name from the store again and replace its entry at once
 * (handshakes holding the old credentials keep them).  @p name NULL
 * empties the cache.
 */
int acme__ep_cache_reload(acme__ep_cache *cache, const char *name, acme_error **err);

/* How many names the cache holds (certificates and misses); for tests. */
size_t acme__ep_cache_count(acme__ep_cache *cache);

void acme__ep_cert_unref(acme__ep_cert *cert);

/*
 * Copies of @p cert's chain and key for one handshake, as a GnuTLS
 * certificate retrieve function returns them with
 * GNUTLS_CERT_RETR_DEINIT_ALL (GnuTLS frees them with the session).
 */
int acme__ep_cert_copy(const acme__ep_cert *cert, gnutls_pcert_st **pcerts, unsigned int *npcerts,
                       gnutls_privkey_t *key);

#endif
