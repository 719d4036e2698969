/*
 * crypto: what the other layers need beyond the public <acme/crypto.h>.
 * Only lib/crypto/ (and later lib/endpoint/) include GnuTLS headers.
 */
#ifndef ACME_CRYPTO_INTERNAL_H
#define ACME_CRYPTO_INTERNAL_H

#include <stddef.h>
#include <acme/crypto.h>

/*
 * A JWS in the flattened JSON serialization (RFC 7515 §7.2.2) as ACME
 * requests use it (RFC 8555 §6.2):
 *   {"protected":B64(header),"payload":B64(payload),"signature":B64(sig)}
 * The protected header holds "alg" (from the key), then "kid" when @p kid
 * is set, else "jwk" (the key's public JWK); "nonce" when @p nonce is set;
 * and "url".  @p payload NULL means POST-as-GET: an empty payload ("").
 * ECDSA signatures are the raw r||s form (RFC 7518 §3.4), each half
 * padded to the curve size.
 *
 * Ownership: *out is freed with free().
 */
int acme__jws_sign(char **out, const acme_key *key, const char *kid, const char *nonce,
                   const char *url, const char *payload, acme_error **err);

/*
 * An HMAC-signed JWS for external account binding (RFC 8555 §7.3.4):
 * protected {"alg":@p alg,"kid":@p kid,"url":@p url}, payload @p payload
 * (the account key's JWK), MAC with @p mac_key.  @p alg is "HS256",
 * "HS384" or "HS512".
 */
int acme__jws_hmac(char **out, const char *alg, const unsigned char *mac_key, size_t keylen,
                   const char *kid, const char *url, const char *payload, acme_error **err);

/* Another reference to @p key (keys are immutable and reference counted). */
acme_key *acme__key_ref(const acme_key *key);

/* SHA-256 of @p len bytes into @p out (32 bytes). */
int acme__sha256(unsigned char out[32], const void *data, size_t len);

/* Fill @p out with @p len random bytes (nonce-level randomness). */
int acme__random(void *out, size_t len);

#endif
