/*
 * crypto: JWS in the flattened JSON serialization (RFC 7515 §7.2.2) as
 * ACME uses it (RFC 8555 §6.2), signed with the account key or, for
 * external account binding (RFC 8555 §7.3.4), with an HMAC key.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/gtls.h"
#include "util/i18n.h"
#include "util/json.h"
#include "util/util.h"

/* Append "," "name":<JSON-quoted value>. */
static int put_member(acme__buf *b, const char *name, const char *value)
{
    char *q = acme__json_quote(value);
    int rc;

    if (!q)
        return ACME_E_NOMEM;
    rc = acme__buf_printf(b, ",\"%s\":%s", name, q);
    free(q);
    return rc;
}

/*
 * Assemble {"protected":..,"payload":..,"signature":..} from the protected
 * header JSON and the payload; @p sign computes the signature over the
 * signing input.
 */
typedef int (*sign_fn)(unsigned char **sig, size_t *siglen, const void *ctx, const char *input,
                       size_t len, acme_error **err);

static int assemble(char **out, const char *header, const char *payload, sign_fn sign,
                    const void *ctx, acme_error **err)
{
    char *h64 = NULL, *p64 = NULL, *s64 = NULL;
    unsigned char *sig = NULL;
    size_t siglen = 0;
    acme__buf in = ACME__BUF_INIT, b = ACME__BUF_INIT;
    int rc;

    h64 = acme__b64url_encode(header, strlen(header));
    p64 = acme__b64url_encode(payload, strlen(payload));
    if (!h64 || !p64 || acme__buf_printf(&in, "%s.%s", h64, p64) < 0) {
        rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        goto done;
    }
    if ((rc = sign(&sig, &siglen, ctx, in.data, in.len, err)) < 0)
        goto done;
    if (!(s64 = acme__b64url_encode(sig, siglen)) ||
        acme__buf_printf(&b, "{\"protected\":\"%s\",\"payload\":\"%s\",\"signature\":\"%s\"}",
                         h64, p64, s64) < 0) {
        rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        goto done;
    }
    *out = acme__buf_steal(&b);
    rc = ACME_OK;
done:
    free(h64);
    free(p64);
    free(s64);
    free(sig);
    acme__buf_clear(&in);
    acme__buf_clear(&b);
    return rc;
}

static int sign_with_key(unsigned char **sig, size_t *siglen, const void *ctx, const char *input,
                         size_t len, acme_error **err)
{
    return acme__key_sign_jws(sig, siglen, ctx, input, len, err);
}

int acme__jws_sign(char **out, const acme_key *key, const char *kid, const char *nonce,
                   const char *url, const char *payload, acme_error **err)
{
    acme__buf h = ACME__BUF_INIT;
    char *jwk = NULL;
    int rc;

    if (!out)
        return acme_error_set(err, ACME_E_INVALID, _("no output for the JWS"));
    *out = NULL;
    if (!key || !url || !*url)
        return acme_error_set(err, ACME_E_INVALID, _("a JWS needs a key and a URL"));
    rc = acme__buf_printf(&h, "{\"alg\":\"%s\"", acme_key_jws_alg(key));
    if (rc == ACME_OK && kid && *kid) {
        rc = put_member(&h, "kid", kid);
    } else if (rc == ACME_OK) {
        if ((rc = acme_key_jwk(&jwk, key, err)) < 0)
            goto done;
        rc = acme__buf_printf(&h, ",\"jwk\":%s", jwk);
    }
    if (rc == ACME_OK && nonce)
        rc = put_member(&h, "nonce", nonce);
    if (rc == ACME_OK)
        rc = put_member(&h, "url", url);
    if (rc == ACME_OK)
        rc = acme__buf_puts(&h, "}");
    if (rc < 0) {
        rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        goto done;
    }
    rc = assemble(out, h.data, payload ? payload : "", sign_with_key, key, err);
done:
    free(jwk);
    acme__buf_clear(&h);
    return rc;
}

struct hmac_ctx {
    gnutls_mac_algorithm_t mac;
    const unsigned char *key;
    size_t keylen;
};

static int sign_with_hmac(unsigned char **sig, size_t *siglen, const void *ctx, const char *input,
                          size_t len, acme_error **err)
{
    const struct hmac_ctx *h = ctx;
    size_t n = gnutls_hmac_get_len(h->mac);
    unsigned char *out = malloc(n ? n : 1);
    int ret;

    if (!out)
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    ret = gnutls_hmac_fast(h->mac, h->key, h->keylen, input, len, out);
    if (ret < 0) {
        free(out);
        return acme__gnutls_error(err, ACME_E_CRYPTO, ret, _("HMAC failed"));
    }
    *sig = out;
    *siglen = n;
    return ACME_OK;
}

int acme__jws_hmac(char **out, const char *alg, const unsigned char *mac_key, size_t keylen,
                   const char *kid, const char *url, const char *payload, acme_error **err)
{
    struct hmac_ctx ctx = { GNUTLS_MAC_UNKNOWN, mac_key, keylen };
    acme__buf h = ACME__BUF_INIT;
    int rc;

    if (!out)
        return acme_error_set(err, ACME_E_INVALID, _("no output for the JWS"));
    *out = NULL;
    if (alg && strcmp(alg, "HS256") == 0)
        ctx.mac = GNUTLS_MAC_SHA256;
    else if (alg && strcmp(alg, "HS384") == 0)
        ctx.mac = GNUTLS_MAC_SHA384;
    else if (alg && strcmp(alg, "HS512") == 0)
        ctx.mac = GNUTLS_MAC_SHA512;
    else
        return acme_error_set(err, ACME_E_INVALID,
                              _("unsupported MAC algorithm \"%s\" (use HS256, HS384 or HS512)"),
                              alg ? alg : "");
    if (!mac_key || keylen == 0)
        return acme_error_set(err, ACME_E_INVALID, _("empty external account MAC key"));
    if (!kid || !*kid || !url || !*url || !payload)
        return acme_error_set(err, ACME_E_INVALID,
                              _("external account binding needs a key id, a URL and a payload"));
    rc = acme__buf_printf(&h, "{\"alg\":\"%s\"", alg);
    if (rc == ACME_OK)
        rc = put_member(&h, "kid", kid);
    if (rc == ACME_OK)
        rc = put_member(&h, "url", url);
    if (rc == ACME_OK)
        rc = acme__buf_puts(&h, "}");
    if (rc < 0)
        rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    else
        rc = assemble(out, h.data, payload, sign_with_hmac, &ctx, err);
    acme__buf_clear(&h);
    return rc;
}
