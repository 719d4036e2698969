/*
 * crypto: private definitions shared by the files of lib/crypto/ (and by
 * the unit tests, which reach into them).  Only lib/crypto/ includes
 * GnuTLS headers.
 */
#ifndef ACME_CRYPTO_GTLS_H
#define ACME_CRYPTO_GTLS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include <acme/crypto.h>
#include <acme/sys/error.h>

#include "crypto/crypto.h"

/* A private key: immutable after creation, shared by reference count. */
struct acme_key {
    atomic_uint refs;
    acme_key_type type;
    unsigned int bits;       /* 256, 384, 2048, ... */
    gnutls_pk_algorithm_t pk;
    gnutls_x509_privkey_t x509; /* owns the key material (for export) */
    gnutls_privkey_t priv;   /* refers to x509, for signing */
    gnutls_pubkey_t pub;     /* the public half */
};

/* One PEM block found in a text (RFC 7468). */
typedef struct acme__pem_block {
    const char *label;   /* points into the text; not NUL-terminated */
    size_t label_len;
    const char *begin;   /* the "-----BEGIN" line */
    size_t len;          /* through the end of the "-----END ...-----" marker */
} acme__pem_block;

/*
 * Find the next PEM block in @p text (@p len bytes) from *@p pos on.
 * Returns 1 and advances *pos past the block when one was found, 0 at the
 * end, -1 when a block starts but is damaged (no matching END line).
 */
int acme__pem_next(const char *text, size_t len, size_t *pos, acme__pem_block *blk);

/* Whether @p blk's label is exactly @p label. */
bool acme__pem_label_is(const acme__pem_block *blk, const char *label);

/* PEM text ("-----BEGIN @p label-----", 64-column base64) for DER; NULL on no memory. */
char *acme__pem_encode(const char *label, const void *der, size_t len);

/* A malloc'd, NUL-terminated copy of a GnuTLS datum; NULL on no memory. */
char *acme__datum_strdup(const gnutls_datum_t *d);

/* Overwrite and release a GnuTLS datum that held a secret. */
void acme__datum_wipe(gnutls_datum_t *d);

/* The public key of @p pub as DER SubjectPublicKeyInfo (gnutls_free the datum). */
int acme__pubkey_der(gnutls_pubkey_t pub, gnutls_datum_t *out);

/* Set *err to ACME_E_CRYPTO (or @p code) with "what: GnuTLS message". */
int acme__gnutls_error(acme_error **err, int code, int gnutls_rc, const char *what);

/* Generate a new key (used by acme_key_generate() and tls-alpn-01). */
int acme__key_generate(acme_key **out, acme_key_type type, acme_error **err);

/* Whether @p name is an IPv4/IPv6 literal; the address goes to @p addr, its length to *alen. */
bool acme__ip_literal(const char *name, unsigned char addr[16], size_t *alen);

/* SHA-256 JWK thumbprint of the JWK JSON text @p jwk_json, base64url. */
int acme__jwk_thumbprint_json(char **out, const char *jwk_json, acme_error **err);

/* The digest for a key's JWS algorithm (SHA-256 for ES256/RS256, SHA-384 for ES384). */
gnutls_digest_algorithm_t acme__key_digest(const acme_key *key);

/*
 * Sign @p len bytes with @p key in the JWS form: raw r||s (each half padded
 * to the curve size) for ECDSA, PKCS#1 v1.5 for RSA.  *sig is malloc'd.
 */
int acme__key_sign_jws(unsigned char **sig, size_t *siglen, const acme_key *key,
                       const void *data, size_t len, acme_error **err);

#endif
