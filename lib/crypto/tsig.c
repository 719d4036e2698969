/*
 * crypto: TSIG (RFC 8945) algorithms and MACs for the RFC 2136 DNS
 * provider.  Message layout and the digest input are built by
 * lib/dns/providers/rfc2136.c; this file is the GnuTLS side: HMAC over
 * those bytes, the algorithm names, the shared secret's base64, and a
 * constant-time MAC comparison.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/gtls.h"
#include "crypto/tsig.h"
#include "util/i18n.h"
#include "util/util.h"

static const struct {
    const char *name;            /* RFC 8945 §6 algorithm name, no trailing dot */
    const char *bind_name;       /* BIND's short spelling (tsig-keygen -a) */
    acme__tsig_alg alg;
    gnutls_mac_algorithm_t mac;
    size_t len;
} algs[] = {
    { "hmac-sha256", "sha256", ACME__TSIG_HMAC_SHA256, GNUTLS_MAC_SHA256, 32 },
    { "hmac-sha512", "sha512", ACME__TSIG_HMAC_SHA512, GNUTLS_MAC_SHA512, 64 },
    { "hmac-sha384", "sha384", ACME__TSIG_HMAC_SHA384, GNUTLS_MAC_SHA384, 48 },
    { "hmac-sha224", "sha224", ACME__TSIG_HMAC_SHA224, GNUTLS_MAC_SHA224, 28 },
    { "hmac-sha1", "sha1", ACME__TSIG_HMAC_SHA1, GNUTLS_MAC_SHA1, 20 },
};

static bool name_is(const char *given, size_t len, const char *want)
{
    return len == strlen(want) && acme__strncaseeq(given, want, len);
}

int acme__tsig_alg_lookup(acme__tsig_alg *alg, const char **wire_name, size_t *mac_len,
                          const char *name, acme_error **err)
{
    size_t len = name ? strlen(name) : 0;

    if (len > 1 && name[len - 1] == '.')
        len--;
    for (size_t i = 0; i < ACME_ARRAY_SIZE(algs); i++) {
        if (name_is(name, len, algs[i].name) || name_is(name, len, algs[i].bind_name)) {
            *alg = algs[i].alg;
            if (wire_name)
                *wire_name = algs[i].name;
            if (mac_len)
                *mac_len = algs[i].len;
            return ACME_OK;
        }
    }
    /* RFC 8945 §6: HMAC-MD5 is deprecated for new keys; refuse it rather than weaken updates. */
    if (name_is(name, len, "hmac-md5.sig-alg.reg.int") || name_is(name, len, "hmac-md5") ||
        name_is(name, len, "md5"))
        return acme_error_set(err, ACME_E_NOTSUP,
                              _("the TSIG algorithm hmac-md5 is not supported (use hmac-sha256)"));
    return acme_error_set(err, ACME_E_NOTSUP,
                          _("unknown TSIG algorithm \"%.40s\" (want hmac-sha256, hmac-sha512, "
                            "hmac-sha384, hmac-sha224 or hmac-sha1)"),
                          name ? name : "");
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int acme__tsig_secret_decode(unsigned char **out, size_t *out_len, const char *b64,
                             acme_error **err)
{
    size_t len = b64 ? strlen(b64) : 0, n = 0, pad = 0;
    unsigned char *v;
    unsigned int acc = 0, bits = 0;

    *out = NULL;
    *out_len = 0;
    /* At most 3 bytes per 4 characters; one spare byte so the buffer is never empty. */
    if (!(v = malloc(len / 4 * 3 + 3)))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    for (size_t i = 0; i < len; i++) {
        char c = b64[i];
        int d;

        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        if (c == '=') {
            pad++;
            continue;
        }
        if (pad || (d = b64_value(c)) < 0)
            goto bad; /* data after padding, or not the standard alphabet */
        acc = (acc << 6) | (unsigned int)d;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            v[n++] = (unsigned char)(acc >> bits);
        }
        acc &= (1u << bits) - 1;
    }
    /* Leftover bits must be zero padding of a 2- or 3-character tail (RFC 4648 §3.5). */
    if (bits >= 6 || acc != 0 || pad > 2 || n == 0)
        goto bad;
    *out = v;
    *out_len = n;
    return ACME_OK;
bad:
    acme__tsig_secret_free(v, len / 4 * 3 + 3);
    return acme_error_set(err, ACME_E_INVALID, _("the TSIG secret is not valid base64"));
}

void acme__tsig_secret_free(unsigned char *secret, size_t len)
{
    if (!secret)
        return;
    gnutls_memset(secret, 0, len);
    free(secret);
}

int acme__tsig_hmac(unsigned char *mac, size_t *mac_len, acme__tsig_alg alg,
                    const unsigned char *key, size_t keylen, const void *data, size_t len,
                    acme_error **err)
{
    for (size_t i = 0; i < ACME_ARRAY_SIZE(algs); i++) {
        int ret;

        if (algs[i].alg != alg)
            continue;
        if ((ret = gnutls_hmac_fast(algs[i].mac, key, keylen, data, len, mac)) < 0)
            return acme__gnutls_error(err, ACME_E_CRYPTO, ret, _("cannot compute a TSIG MAC"));
        *mac_len = algs[i].len;
        return ACME_OK;
    }
    return acme_error_set(err, ACME_E_INVALID, _("no TSIG algorithm"));
}

bool acme__tsig_mac_equal(const unsigned char *a, size_t alen, const unsigned char *b,
                          size_t blen)
{
    unsigned char diff = 0;

    /* The lengths are public (the algorithm fixes them); the contents are not. */
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}
