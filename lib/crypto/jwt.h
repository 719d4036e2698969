/*
 * crypto: JSON Web Tokens (RFC 7519) in the compact serialization, signed
 * with a private key; the Google Cloud DNS provider trades one for an
 * OAuth2 access token (RFC 7523 §2.1).
 */
#ifndef ACME_CRYPTO_JWT_H
#define ACME_CRYPTO_JWT_H

#include <acme/crypto.h>
#include <acme/error.h>

/*
 * Sign the claims @p claims_json (a JSON object's text, used byte for
 * byte) with @p key: BASE64URL(header) "." BASE64URL(claims) "."
 * BASE64URL(signature), without padding (RFC 7515 §7.1).  The header is
 * {"alg":A,"typ":"JWT"} plus "kid":@p kid when @p kid is not NULL; A is
 * the key's JWS algorithm (RS256 for RSA keys: RSASSA-PKCS1-v1_5 with
 * SHA-256, RFC 7518 §3.3; ES256/ES384 for EC keys).
 *
 * @return ACME_OK; ACME_E_INVALID for a missing argument; ACME_E_CRYPTO;
 *         ACME_E_NOMEM.
 * Ownership: *out is freed with free().
 */
int acme__jwt_sign(char **out, const acme_key *key, const char *kid, const char *claims_json,
                   acme_error **err);

#endif
