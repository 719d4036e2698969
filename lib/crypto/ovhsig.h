/*
 * crypto: the OVHcloud API's request signature (the "application key"
 * scheme), for lib/dns/providers/ovh.c.  Kept in lib/crypto/ because only
 * this layer includes GnuTLS.
 */
#ifndef ACME_CRYPTO_OVHSIG_H
#define ACME_CRYPTO_OVHSIG_H

#include <stddef.h>
#include <stdint.h>

#include <acme/error.h>

/*
 * The value of the X-Ovh-Signature header:
 *
 *     "$1$" + hex(SHA-1(AS "+" CK "+" METHOD "+" URL "+" BODY "+" T))
 *
 * @p url is the full URL of the request (scheme, host, "/1.0" and any
 * query, exactly as sent), @p body the exact body bytes (NULL or empty
 * when none), @p timestamp the server's clock in seconds.  *out is
 * malloc'd (free with free()); it is not secret, but it is never logged.
 * Returns ACME_OK, ACME_E_INVALID for a NULL argument, ACME_E_CRYPTO,
 * ACME_E_NOMEM.
 */
int acme__ovh_signature(char **out, const char *app_secret, const char *consumer_key,
                        const char *method, const char *url, const char *body, size_t body_len,
                        int64_t timestamp, acme_error **err);

#endif
