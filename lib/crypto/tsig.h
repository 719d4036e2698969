/*
 * crypto: the HMACs of TSIG (RFC 8945), for the RFC 2136 DNS provider in
 * lib/dns/providers/rfc2136.c.  That file builds the messages and the
 * digest input; this one knows the algorithms, decodes the shared secret
 * and computes and compares MACs, so that GnuTLS stays inside lib/crypto/.
 */
#ifndef ACME_CRYPTO_TSIG_H
#define ACME_CRYPTO_TSIG_H

#include <stdbool.h>
#include <stddef.h>

#include <acme/error.h>

/* The longest MAC of a supported algorithm (HMAC-SHA512). */
#define ACME__TSIG_MAX_MAC 64

/* A TSIG algorithm (RFC 8945 §6); values are private to tsig.c. */
typedef enum acme__tsig_alg {
    ACME__TSIG_NONE = 0,
    ACME__TSIG_HMAC_SHA1,
    ACME__TSIG_HMAC_SHA224,
    ACME__TSIG_HMAC_SHA256,
    ACME__TSIG_HMAC_SHA384,
    ACME__TSIG_HMAC_SHA512,
} acme__tsig_alg;

/*
 * The algorithm called @p name: "hmac-sha256", "HMAC-SHA256.", and BIND's
 * short forms ("sha256").  *wire_name receives the name the algorithm has
 * in the TSIG record ("hmac-sha256", no trailing dot; static), *mac_len
 * its MAC length.  ACME_E_NOTSUP for HMAC-MD5 (RFC 8945 §6: must not be
 * used for new keys) and for unknown names.
 */
int acme__tsig_alg_lookup(acme__tsig_alg *alg, const char **wire_name, size_t *mac_len,
                          const char *name, acme_error **err);

/*
 * Decode the base64 (RFC 4648 §4, padding optional, whitespace ignored)
 * shared secret @p b64 into *out (malloc'd; free with acme__tsig_secret_free).
 * ACME_E_INVALID for bad base64 or an empty secret; the message never
 * shows the secret.
 */
int acme__tsig_secret_decode(unsigned char **out, size_t *out_len, const char *b64,
                             acme_error **err);

/* Overwrite and free a decoded secret (NULL-safe). */
void acme__tsig_secret_free(unsigned char *secret, size_t len);

/*
 * HMAC of @p len bytes of @p data with @p key under @p alg, into @p mac
 * (ACME__TSIG_MAX_MAC bytes of room); *mac_len receives its length.
 */
int acme__tsig_hmac(unsigned char *mac, size_t *mac_len, acme__tsig_alg alg,
                    const unsigned char *key, size_t keylen, const void *data, size_t len,
                    acme_error **err);

/* Compare two MACs in time independent of where they differ. */
bool acme__tsig_mac_equal(const unsigned char *a, size_t alen, const unsigned char *b,
                          size_t blen);

#endif
