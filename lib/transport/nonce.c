/*
 * transport: the nonce pool (RFC 8555 §7.2, §6.5).  Every response's
 * Replay-Nonce goes into the pool, error responses included; a signed
 * request takes one, and only when the pool is empty does the transport
 * ask the CA's newNonce resource with a HEAD.
 *
 * Policy: a bounded stack (ACME__NONCE_POOL_SIZE), newest used first, the
 * oldest dropped when full; internal.h says why.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <acme/sys/error.h>

#include "transport/internal.h"
#include "util/i18n.h"

/* RFC 8555 §6.5.1: a nonce is base64url; a sane one is far below this. */
#define MAX_NONCE_LEN 512

bool acme__nonce_put(acme__transport *t, const char *nonce)
{
    char *copy;

    /* §6.5.1: "The value of the Replay-Nonce header field MUST be an octet
     * string encoded according to the base64url encoding"; clients reject others. */
    if (!nonce || strlen(nonce) > MAX_NONCE_LEN || !acme__is_b64url(nonce))
        return false;
    if (!(copy = acme__strdup(nonce)))
        return false;
    if (t->nnonces == ACME__NONCE_POOL_SIZE) {
        /* Full: drop the oldest (the bottom of the stack). */
        free(t->nonces[0]);
        memmove(&t->nonces[0], &t->nonces[1], (ACME__NONCE_POOL_SIZE - 1) * sizeof(char *));
        t->nnonces--;
    }
    t->nonces[t->nnonces++] = copy;
    return true;
}

int acme__nonce_take(char **out, acme__transport *t, acme_error **err)
{
    acme__response resp;
    int rc;

    *out = NULL;
    if (t->nnonces == 0) {
        /* RFC 8555 §7.2: HEAD newNonce; the answer's Replay-Nonce fills the pool. */
        if (!t->nonce_url)
            return acme_error_set(err, ACME_E_INVALID, _("no newNonce URL is known"));
        rc = acme__http_request(&resp, t, "HEAD", t->nonce_url, NULL, NULL, err);
        acme__response_clear(&resp);
        if (rc < 0)
            return rc;
        if (t->nnonces == 0)
            return acme_error_set(err, ACME_E_PROTOCOL,
                                  _("the newNonce response carried no valid Replay-Nonce"));
    }
    *out = t->nonces[--t->nnonces];
    t->nonces[t->nnonces] = NULL;
    return ACME_OK;
}

void acme__nonce_clear(acme__transport *t)
{
    for (size_t i = 0; i < t->nnonces; i++)
        free(t->nonces[i]);
    t->nnonces = 0;
}
