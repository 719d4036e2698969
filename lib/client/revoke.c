/*
 * client: certificate revocation (RFC 8555 §7.6).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "client/client-internal.h"
#include "util/i18n.h"

#define NOMEM(err) acme_error_set((err), ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM))

/* The base64url DER of a PEM certificate: the PEM body re-alphabeted
 * (RFC 4648 §5 differs from §4 only in two characters and padding). */
static char *pem_to_b64url(const char *pem)
{
    const char *begin = strstr(pem, "-----BEGIN CERTIFICATE-----"), *end;
    acme__buf b = ACME__BUF_INIT;

    if (!begin || !(begin = strchr(begin + 5, '\n')) ||
        !(end = strstr(begin, "-----END CERTIFICATE-----")))
        return NULL;
    for (const char *p = begin; p < end; p++) {
        char c = *p;

        if (c == '+')
            c = '-';
        else if (c == '/')
            c = '_';
        else if (c == '=' || c == '\n' || c == '\r' || c == ' ' || c == '\t')
            continue;
        if (acme__buf_append(&b, &c, 1) < 0) {
            acme__buf_clear(&b);
            return NULL;
        }
    }
    return b.data && acme__is_b64url(b.data) ? acme__buf_steal(&b) : (acme__buf_clear(&b), NULL);
}

/*
 * RFC 8555 §7.6: POST {"certificate": base64url(DER), "reason": N} to
 * revokeCert, signed either by the account (kid) or by the certificate's
 * own key (jwk), which proves control without an account.
 */
int acme_client_revoke(acme_client *client, const char *cert_pem, const acme_key *cert_key,
                       int reason, acme_error **err)
{
    acme_chain *chain = NULL;
    const char *url;
    char *der = NULL, *payload = NULL;
    json_object *p = NULL;
    acme__response resp;
    int rc;

    memset(&resp, 0, sizeof(resp));
    if (!client || !cert_pem)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    /* RFC 5280 §5.3.1 reason codes run 0..10, 7 is unused. */
    if (reason < -1 || reason > 10 || reason == 7)
        return acme_error_set(err, ACME_E_INVALID, _("invalid revocation reason %d"), reason);
    if ((rc = acme_chain_parse(&chain, cert_pem, strlen(cert_pem), err)) < 0)
        return rc;
    if (!(der = pem_to_b64url(acme_cert_pem(acme_chain_get(chain, 0))))) {
        rc = acme_error_set(err, ACME_E_INVALID, _("cannot encode the certificate"));
        goto out;
    }
    if (cert_key && (rc = acme_cert_check_key(acme_chain_get(chain, 0), cert_key, err)) < 0)
        goto out;
    if ((rc = acme__client_dir_url(&url, client, ACME_DIR_REVOKE_CERT, err)) < 0)
        goto out;
    if (!(p = json_object_new_object()) ||
        json_object_object_add(p, "certificate", json_object_new_string(der)) != 0 ||
        (reason >= 0 && json_object_object_add(p, "reason", json_object_new_int(reason)) != 0) ||
        !(payload = acme__json_dump(p))) {
        rc = NOMEM(err);
        goto out;
    }
    if (cert_key)
        rc = acme__transport_post(&resp, client->transport, url, payload, cert_key, NULL, NULL,
                                  err);
    else
        rc = acme__client_post(&resp, client, url, payload, NULL, err);
    if (rc < 0) {
        rc = acme__error_prefix(err, rc, _("cannot revoke the certificate"));
        goto out;
    }
    ACME__LOGF(&client->log, ACME_LOG_INFO, "certificate revoked");
    rc = ACME_OK;
out:
    json_object_put(p);
    free(payload);
    free(der);
    acme_chain_free(chain);
    acme__response_clear(&resp);
    return rc;
}
