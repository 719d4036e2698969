/*
 * crypto: the public key as a JWK (RFC 7517) in the canonical form of
 * RFC 7638 §3 (required members only, lexicographic order, no white
 * space), and its SHA-256 thumbprint.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/gtls.h"
#include "util/i18n.h"
#include "util/util.h"

/* base64url of an unsigned integer without leading zero bytes (RFC 7518 §2). */
static char *b64url_uint(const gnutls_datum_t *v)
{
    size_t skip = 0;

    while (skip + 1 < v->size && v->data[skip] == 0)
        skip++;
    return acme__b64url_encode(v->data + skip, v->size - skip);
}

/* base64url of a coordinate left-padded to the field size (RFC 7518 §6.2.1.2). */
static char *b64url_coord(const gnutls_datum_t *v, size_t size)
{
    unsigned char buf[66];
    size_t skip = 0, n;

    while (skip < v->size && v->data[skip] == 0)
        skip++;
    n = v->size - skip;
    if (n > size || size > sizeof(buf))
        return NULL;
    memset(buf, 0, size - n);
    memcpy(buf + size - n, v->data + skip, n);
    return acme__b64url_encode(buf, size);
}

static int jwk_ec(acme__buf *b, const acme_key *key, acme_error **err)
{
    gnutls_datum_t x = { NULL, 0 }, y = { NULL, 0 };
    gnutls_ecc_curve_t curve;
    size_t size = key->bits == 384 ? 48 : 32;
    char *bx = NULL, *by = NULL;
    int ret;

    ret = gnutls_pubkey_export_ecc_raw2(key->pub, &curve, &x, &y, GNUTLS_EXPORT_FLAG_NO_LZ);
    if (ret < 0)
        return acme__gnutls_error(err, ACME_E_CRYPTO, ret, _("cannot export EC public key"));
    bx = b64url_coord(&x, size);
    by = b64url_coord(&y, size);
    gnutls_free(x.data);
    gnutls_free(y.data);
    if (!bx || !by)
        ret = acme_error_set(err, ACME_E_CRYPTO, _("cannot encode EC public key"));
    else
        ret = acme__buf_printf(b, "{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
                               key->bits == 384 ? "P-384" : "P-256", bx, by);
    free(bx);
    free(by);
    return ret;
}

static int jwk_rsa(acme__buf *b, const acme_key *key, acme_error **err)
{
    gnutls_datum_t n = { NULL, 0 }, e = { NULL, 0 };
    char *bn = NULL, *be = NULL;
    int ret;

    ret = gnutls_pubkey_export_rsa_raw2(key->pub, &n, &e, GNUTLS_EXPORT_FLAG_NO_LZ);
    if (ret < 0)
        return acme__gnutls_error(err, ACME_E_CRYPTO, ret, _("cannot export RSA public key"));
    bn = b64url_uint(&n);
    be = b64url_uint(&e);
    gnutls_free(n.data);
    gnutls_free(e.data);
    if (!bn || !be)
        ret = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    else
        ret = acme__buf_printf(b, "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}", be, bn);
    free(bn);
    free(be);
    return ret;
}

int acme_key_jwk(char **out, const acme_key *key, acme_error **err)
{
    acme__buf b = ACME__BUF_INIT;
    int rc;

    if (!out || !key)
        return acme_error_set(err, ACME_E_INVALID, _("no key for the JWK"));
    *out = NULL;
    rc = key->pk == GNUTLS_PK_ECDSA ? jwk_ec(&b, key, err) : jwk_rsa(&b, key, err);
    if (rc < 0) {
        acme__buf_clear(&b);
        if (rc == ACME_E_NOMEM)
            acme_error_set(err, rc, "%s", acme_strerror(rc));
        return rc;
    }
    *out = acme__buf_steal(&b);
    return ACME_OK;
}

int acme__jwk_thumbprint_json(char **out, const char *jwk_json, acme_error **err)
{
    unsigned char digest[32];

    *out = NULL;
    if (!jwk_json || !*jwk_json)
        return acme_error_set(err, ACME_E_INVALID, _("empty JWK"));
    if (acme__sha256(digest, jwk_json, strlen(jwk_json)) < 0)
        return acme_error_set(err, ACME_E_CRYPTO, _("SHA-256 failed"));
    if (!(*out = acme__b64url_encode(digest, sizeof(digest))))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    return ACME_OK;
}

int acme_key_thumbprint(char **out, const acme_key *key, acme_error **err)
{
    char *jwk = NULL;
    int rc;

    if (!out || !key)
        return acme_error_set(err, ACME_E_INVALID, _("no key for the thumbprint"));
    *out = NULL;
    if ((rc = acme_key_jwk(&jwk, key, err)) < 0)
        return rc;
    rc = acme__jwk_thumbprint_json(out, jwk, err);
    free(jwk);
    return rc;
}
