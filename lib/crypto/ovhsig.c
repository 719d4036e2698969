/*
 * crypto: the OVHcloud API request signature (SHA-1 over the '+'-joined
 * secret, consumer key, method, URL, body and timestamp), computed with
 * GnuTLS.  SHA-1 is what the API defines ("$1$" names the scheme); it is
 * a keyed digest here, not a certificate signature.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include <acme/sys/error.h>

#include "crypto/ovhsig.h"
#include "util/i18n.h"
#include "util/util.h"

int acme__ovh_signature(char **out, const char *app_secret, const char *consumer_key,
                        const char *method, const char *url, const char *body, size_t body_len,
                        int64_t timestamp, acme_error **err)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char digest[20];
    acme__buf in = ACME__BUF_INIT;
    char *sig;
    int rc;

    if (out)
        *out = NULL;
    if (!out || !app_secret || !consumer_key || !method || !url)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    if (!body)
        body_len = 0;
    /* The body goes in as raw bytes: it may hold anything, even NULs. */
    if (acme__buf_printf(&in, "%s+%s+%s+%s+", app_secret, consumer_key, method, url) < 0 ||
        (body_len && acme__buf_append(&in, body, body_len) < 0) ||
        acme__buf_printf(&in, "+%lld", (long long)timestamp) < 0) {
        acme__buf_clear(&in);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    rc = gnutls_hash_fast(GNUTLS_DIG_SHA1, in.data, in.len, digest);
    /* The input holds the application secret. */
    memset(in.data, 0, in.len);
    acme__buf_clear(&in);
    if (rc < 0)
        return acme_error_set(err, ACME_E_CRYPTO, _("SHA-1 failed: %s"), gnutls_strerror(rc));
    if (!(sig = malloc(3 + 2 * sizeof(digest) + 1)))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    memcpy(sig, "$1$", 3);
    for (size_t i = 0; i < sizeof(digest); i++) {
        sig[3 + 2 * i] = hex[digest[i] >> 4];
        sig[3 + 2 * i + 1] = hex[digest[i] & 0xf];
    }
    sig[3 + 2 * sizeof(digest)] = '\0';
    *out = sig;
    return ACME_OK;
}
