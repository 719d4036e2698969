/*
 * crypto: GnuTLS global initialisation, hashing and randomness.
 */
#include "config.h"

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "crypto/gtls.h"
#include "util/init.h"

int acme__crypto_global_init(void)
{
    /* GnuTLS reference counts its own global state. */
    if (gnutls_global_init() < 0)
        return ACME_E_TLS;
    return ACME_OK;
}

void acme__crypto_global_cleanup(void)
{
    gnutls_global_deinit();
}

int acme__sha256(unsigned char out[32], const void *data, size_t len)
{
    if (gnutls_hash_fast(GNUTLS_DIG_SHA256, data, len, out) < 0)
        return ACME_E_CRYPTO;
    return ACME_OK;
}

int acme__random(void *out, size_t len)
{
    if (len == 0)
        return ACME_OK;
    if (gnutls_rnd(GNUTLS_RND_NONCE, out, len) < 0)
        return ACME_E_CRYPTO;
    return ACME_OK;
}
