/*
 * crypto: JWT signing (RFC 7519 §7.1, compact JWS of RFC 7515 §7.1) with
 * the keys of the crypto layer.  Used for Google's service-account
 * "JWT bearer" grant (RFC 7523 §2.1); verification is not needed here.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/gtls.h"
#include "crypto/jwt.h"
#include "util/i18n.h"
#include "util/json.h"
#include "util/util.h"

int acme__jwt_sign(char **out, const acme_key *key, const char *kid, const char *claims_json,
                   acme_error **err)
{
    acme__buf header = ACME__BUF_INIT, input = ACME__BUF_INIT;
    char *qkid = NULL, *h64 = NULL, *c64 = NULL, *s64 = NULL;
    unsigned char *sig = NULL;
    size_t siglen = 0;
    int rc;

    if (out)
        *out = NULL;
    if (!out || !key || !claims_json)
        return acme_error_set(err, ACME_E_INVALID, _("JWT: missing argument"));
    /* RFC 7515 §4.1: "alg" names the algorithm; "typ":"JWT" per RFC 7519 §5.1. */
    if ((kid && !(qkid = acme__json_quote(kid))) ||
        acme__buf_printf(&header, "{\"alg\":\"%s\",\"typ\":\"JWT\"%s%s}", acme_key_jws_alg(key),
                         qkid ? ",\"kid\":" : "", qkid ? qkid : "") < 0 ||
        !(h64 = acme__b64url_encode(header.data, header.len)) ||
        !(c64 = acme__b64url_encode(claims_json, strlen(claims_json))) ||
        acme__buf_printf(&input, "%s.%s", h64, c64) < 0) {
        rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        goto out;
    }
    /* The signing input is the ASCII of the two encoded parts (RFC 7515 §5.1). */
    if ((rc = acme__key_sign_jws(&sig, &siglen, key, input.data, input.len, err)) < 0)
        goto out;
    if (!(s64 = acme__b64url_encode(sig, siglen)) ||
        acme__buf_printf(&input, ".%s", s64) < 0) {
        rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        goto out;
    }
    *out = acme__buf_steal(&input);
    rc = ACME_OK;
out:
    acme__buf_clear(&header);
    acme__buf_clear(&input);
    free(qkid);
    free(h64);
    free(c64);
    free(s64);
    free(sig);
    return rc;
}
