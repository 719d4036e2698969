/*
 * transport: signed requests.  RFC 8555 §6.2 (a JWS over every POST, with
 * a fresh nonce and the request URL in its protected header), §6.3
 * (POST-as-GET: an empty payload) and §6.5 (badNonce: try again with the
 * nonce that came with the rejection).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <acme/client.h>
#include <acme/sys/error.h>

#include "crypto/crypto.h"
#include "transport/internal.h"
#include "util/error.h"
#include "util/i18n.h"

int acme__transport_post(acme__response *resp, acme__transport *t, const char *url,
                         const char *payload, const acme_key *key, const char *kid,
                         const char *accept, acme_error **err)
{
    unsigned int attempt;
    int rc;

    memset(resp, 0, sizeof(*resp));
    resp->retry_after = -1;
    if (!t || !url || !key)
        return acme_error_set(err, ACME_E_INVALID, _("a signed request needs a URL and a key"));

    for (attempt = 0;; attempt++) {
        acme_error *e = NULL;
        char *nonce = NULL, *jws = NULL;

        if ((rc = acme__nonce_take(&nonce, t, err)) < 0)
            return rc;
        /* §6.2: protected header {alg, jwk|kid, nonce, url}; payload "" for POST-as-GET. */
        rc = acme__jws_sign(&jws, key, kid, nonce, url, payload, err);
        free(nonce);
        if (rc < 0)
            return rc;
        rc = acme__http_request(resp, t, "POST", url, jws, accept, &e);
        free(jws);
        if (rc == ACME_OK)
            return ACME_OK;

        /*
         * §6.5: "the client SHOULD retry the request" after badNonce,
         * using the nonce from that error response (now in the pool).
         * Any other failure goes up as it is.
         */
        if (!acme__problem_is(e, "badNonce"))
            return acme__error_give(err, e);
        if (attempt >= t->badnonce_retries) {
            acme__error_prefix(&e, ACME_E_BADNONCE, _("nonce rejected %u times"), attempt + 1);
            return acme__error_give(err, e);
        }
        acme_error_free(e);
        atomic_fetch_add(&t->badnonce, 1);
        ACME__LOGF(t->log, ACME_LOG_DEBUG, "badNonce from %s, retrying (%u of %u)", url,
                   attempt + 1, t->badnonce_retries);
        acme__response_clear(resp);
    }
}
