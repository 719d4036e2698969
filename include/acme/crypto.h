/*
 * libacme: keys, certificates, CSRs and challenge material.
 *
 * Built on GnuTLS inside the library; no GnuTLS type appears here.
 */
#ifndef ACME_CRYPTO_H
#define ACME_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <acme/common.h>
#include <acme/error.h>

ACME_BEGIN_DECLS

/* ------------------------------------------------------------------ */
/* Keys                                                                */
/* ------------------------------------------------------------------ */

/** Key types.  EC P-256 is the default everywhere. */
typedef enum acme_key_type {
    ACME_KEY_EC_P256  = 1,  /**< ECDSA P-256, JWS ES256 */
    ACME_KEY_EC_P384  = 2,  /**< ECDSA P-384, JWS ES384 */
    ACME_KEY_RSA_2048 = 3,  /**< RSA 2048, JWS RS256 */
    ACME_KEY_RSA_3072 = 4,
    ACME_KEY_RSA_4096 = 5,
    ACME_KEY_RSA      = 6   /**< a loaded RSA key of another size (>= 2048 bits) */
} acme_key_type;

/** The default key type: ACME_KEY_EC_P256. */
#define ACME_KEY_DEFAULT ACME_KEY_EC_P256

/** PEM forms for acme_key_save_pem(). */
typedef enum acme_key_format {
    ACME_KEY_FORMAT_PKCS8 = 0,      /**< "BEGIN PRIVATE KEY" (default) */
    ACME_KEY_FORMAT_TRADITIONAL = 1 /**< "BEGIN EC PRIVATE KEY" / "BEGIN RSA PRIVATE KEY" */
} acme_key_format;

/** A private key (and its public half); opaque, immutable once made. */
typedef struct acme_key acme_key;

/**
 * Generate a new private key.
 *
 * @param out   the new key
 * @param type  one of ACME_KEY_EC_P256, EC_P384, RSA_2048, RSA_3072, RSA_4096
 * @return ACME_OK; ACME_E_INVALID for ACME_KEY_RSA or an unknown type;
 *         ACME_E_CRYPTO when GnuTLS fails.
 * Ownership: the caller frees *out with acme_key_free().
 * Thread safety: MT-Safe.
 */
ACME_EXTERN int acme_key_generate(acme_key **out, acme_key_type type, acme_error **err);

/**
 * Load a private key from PEM: PKCS#8 ("PRIVATE KEY"), traditional RSA
 * ("RSA PRIVATE KEY") or SEC1 EC ("EC PRIVATE KEY").  The first private key
 * in @p pem is used; certificates around it are skipped.
 *
 * @return ACME_OK; ACME_E_INVALID when no key is found or the PEM is
 *         damaged; ACME_E_NOTSUP for a key type other than RSA (>= 2048
 *         bits), P-256 or P-384.
 * Ownership: the caller frees *out with acme_key_free().
 * Thread safety: MT-Safe.
 */
ACME_EXTERN int acme_key_load_pem(acme_key **out, const char *pem, size_t len, acme_error **err);

/**
 * Save a private key as PEM.
 *
 * @return ACME_OK or ACME_E_CRYPTO.
 * Ownership: the caller frees *out with acme_free().  It holds a secret:
 * callers should wipe it.
 */
ACME_EXTERN int acme_key_save_pem(char **out, const acme_key *key, acme_key_format format,
                                  acme_error **err);

/** The key's type.  Thread safety: MT-Safe. */
ACME_EXTERN acme_key_type acme_key_get_type(const acme_key *key);

/** The key's size in bits (256, 384, 2048, ...). */
ACME_EXTERN unsigned int acme_key_bits(const acme_key *key);

/** The JWS algorithm for this key: "ES256", "ES384" or "RS256" (static string). */
ACME_EXTERN const char *acme_key_jws_alg(const acme_key *key);

/**
 * The public key as a JWK (RFC 7517), members in the lexicographic order
 * of RFC 7638 with no white space: {"crv":..,"kty":"EC","x":..,"y":..} or
 * {"e":..,"kty":"RSA","n":..}.
 *
 * Ownership: the caller frees *out with acme_free().
 */
ACME_EXTERN int acme_key_jwk(char **out, const acme_key *key, acme_error **err);

/**
 * The RFC 7638 JWK thumbprint (SHA-256), base64url without padding.
 * Ownership: the caller frees *out with acme_free().
 */
ACME_EXTERN int acme_key_thumbprint(char **out, const acme_key *key, acme_error **err);

/**
 * Whether two keys have the same public key.
 */
ACME_EXTERN bool acme_key_equal(const acme_key *a, const acme_key *b);

/** Free a key (NULL-safe). */
ACME_EXTERN void acme_key_free(acme_key *key);

/* ------------------------------------------------------------------ */
/* Certificate signing requests                                        */
/* ------------------------------------------------------------------ */

/**
 * A CSR for @p names, signed by @p key, as base64url DER (the `csr` member
 * of RFC 8555 §7.4 finalize).
 *
 * Every name goes into subjectAltName: IPv4/IPv6 literals as iPAddress,
 * everything else as dNSName.  The first name is also the subject CN when
 * it fits the 64 characters X.520 allows.
 *
 * @return ACME_OK; ACME_E_INVALID for an empty list or an empty name.
 * Ownership: the caller frees *out with acme_free().
 */
ACME_EXTERN int acme_csr_new(char **out, const acme_key *key, const char *const *names,
                             size_t nnames, acme_error **err);

/**
 * The same CSR as PEM ("CERTIFICATE REQUEST").
 */
ACME_EXTERN int acme_csr_new_pem(char **out, const acme_key *key, const char *const *names,
                                 size_t nnames, acme_error **err);

/* ------------------------------------------------------------------ */
/* Certificates                                                         */
/* ------------------------------------------------------------------ */

/** One parsed X.509 certificate; opaque, immutable. */
typedef struct acme_cert acme_cert;

/** A certificate chain: leaf first, then the certificates that sign it. */
typedef struct acme_chain acme_chain;

/**
 * Parse every "CERTIFICATE" block of @p pem, in order; other PEM blocks
 * (keys) are skipped.
 *
 * @return ACME_OK; ACME_E_INVALID when there is no certificate or one is
 *         damaged.
 * Ownership: the caller frees *out with acme_chain_free().
 */
ACME_EXTERN int acme_chain_parse(acme_chain **out, const char *pem, size_t len, acme_error **err);

/** How many certificates the chain holds (at least 1). */
ACME_EXTERN size_t acme_chain_count(const acme_chain *chain);

/** Certificate @p i (0 is the leaf); NULL when out of range.  Borrowed from the chain. */
ACME_EXTERN const acme_cert *acme_chain_get(const acme_chain *chain, size_t i);

/**
 * The leaf alone and the rest of the chain, each as PEM.
 * @p rest_pem is set to an empty string for a one-certificate chain.
 * Ownership: the caller frees both with acme_free().
 */
ACME_EXTERN int acme_chain_split(char **leaf_pem, char **rest_pem, const acme_chain *chain,
                                 acme_error **err);

/** Free a chain and every certificate in it (NULL-safe). */
ACME_EXTERN void acme_chain_free(acme_chain *chain);

/** notBefore, as seconds since the epoch. */
ACME_EXTERN time_t acme_cert_not_before(const acme_cert *cert);
/** notAfter, as seconds since the epoch. */
ACME_EXTERN time_t acme_cert_not_after(const acme_cert *cert);

/**
 * The subjectAltName entries: DNS names as they are, IP addresses in their
 * text form ("192.0.2.1", "2001:db8::1").
 *
 * @param n  set to the count
 * @return borrowed array, valid until the chain is freed.
 */
ACME_EXTERN const char *const *acme_cert_sans(const acme_cert *cert, size_t *n);

/** The issuer DN as RFC 4514 text ("CN=R3,O=Let's Encrypt,C=US"); borrowed. */
ACME_EXTERN const char *acme_cert_issuer(const acme_cert *cert);

/** The issuer's commonName alone, or NULL; borrowed. */
ACME_EXTERN const char *acme_cert_issuer_cn(const acme_cert *cert);

/** The subject DN as RFC 4514 text; borrowed. */
ACME_EXTERN const char *acme_cert_subject(const acme_cert *cert);

/** The serial number as lowercase hex without separators; borrowed. */
ACME_EXTERN const char *acme_cert_serial(const acme_cert *cert);

/** This certificate as PEM; borrowed. */
ACME_EXTERN const char *acme_cert_pem(const acme_cert *cert);

/**
 * Whether @p key is the private key for @p cert's public key.
 * @return ACME_OK when it is; ACME_E_INVALID (with a message) when not.
 */
ACME_EXTERN int acme_cert_check_key(const acme_cert *cert, const acme_key *key, acme_error **err);

/**
 * The ACME Renewal Information certificate identifier (RFC 9773 §4.1):
 * base64url(authorityKeyIdentifier keyIdentifier) "." base64url(serial DER
 * content bytes).
 *
 * @return ACME_OK; ACME_E_INVALID when the certificate has no AKI.
 * Ownership: the caller frees *out with acme_free().
 */
ACME_EXTERN int acme_cert_ari_id(char **out, const acme_cert *cert, acme_error **err);

/* ------------------------------------------------------------------ */
/* Challenge material                                                   */
/* ------------------------------------------------------------------ */

/**
 * The key authorization for a challenge token (RFC 8555 §8.1):
 * token "." base64url(JWK thumbprint of the account key).
 *
 * @return ACME_OK; ACME_E_INVALID when @p token is not base64url.
 * Ownership: the caller frees *out with acme_free().
 */
ACME_EXTERN int acme_key_authorization(char **out, const acme_key *account_key, const char *token,
                                       acme_error **err);

/**
 * The dns-01 TXT record value (RFC 8555 §8.4): base64url(SHA-256(key
 * authorization)).
 * Ownership: the caller frees *out with acme_free().
 */
ACME_EXTERN int acme_dns01_txt_value(char **out, const char *key_authorization, acme_error **err);

/**
 * A tls-alpn-01 challenge certificate (RFC 8737 §3): self-signed, SAN =
 * @p name, with the critical id-pe-acmeIdentifier extension holding the
 * SHA-256 of @p key_authorization.  A fresh EC P-256 key is made for it.
 *
 * Ownership: the caller frees *cert_pem and *key_pem with acme_free().
 */
ACME_EXTERN int acme_tlsalpn01_cert(char **cert_pem, char **key_pem, const char *name,
                                    const char *key_authorization, acme_error **err);

ACME_END_DECLS

#endif /* ACME_CRYPTO_H */
