/*
 * crypto: certificate signing requests for finalize (RFC 8555 §7.4).
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/gtls.h"
#include "util/i18n.h"
#include "util/util.h"

/* X.520 ub-common-name. */
#define CN_MAX 64

/*
 * Whether @p name is an IP literal; its binary form goes to @p addr
 * (16 bytes) and its length to *alen.
 */
bool acme__ip_literal(const char *name, unsigned char addr[16], size_t *alen)
{
    if (inet_pton(AF_INET, name, addr) == 1) {
        *alen = 4;
        return true;
    }
    if (inet_pton(AF_INET6, name, addr) == 1) {
        *alen = 16;
        return true;
    }
    return false;
}

/* A name must be non-empty printable ASCII without spaces (IDNs come as A-labels). */
static bool name_ok(const char *name)
{
    if (!name || !*name)
        return false;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f)
            return false;
    return true;
}

/* Build and sign the request; *der is gnutls-allocated. */
static int make_csr(gnutls_datum_t *der, const acme_key *key, const char *const *names,
                    size_t nnames, acme_error **err)
{
    gnutls_x509_crq_t crq = NULL;
    int ret;

    der->data = NULL;
    der->size = 0;
    if (!key)
        return acme_error_set(err, ACME_E_INVALID, _("a CSR needs a key"));
    if (!names || nnames == 0)
        return acme_error_set(err, ACME_E_INVALID, _("a CSR needs at least one name"));
    for (size_t i = 0; i < nnames; i++)
        if (!name_ok(names[i]))
            return acme_error_set(err, ACME_E_INVALID,
                                  _("invalid name \"%s\" for a CSR: empty or not printable "
                                    "ASCII"),
                                  names[i] ? names[i] : "");
    if ((ret = gnutls_x509_crq_init(&crq)) < 0)
        return acme__gnutls_error(err, ACME_E_CRYPTO, ret, _("cannot make a CSR"));
    if ((ret = gnutls_x509_crq_set_version(crq, 1)) < 0 ||
        (ret = gnutls_x509_crq_set_pubkey(crq, key->pub)) < 0)
        goto fail;
    if (strlen(names[0]) <= CN_MAX &&
        (ret = gnutls_x509_crq_set_dn_by_oid(crq, GNUTLS_OID_X520_COMMON_NAME, 0, names[0],
                                             (unsigned int)strlen(names[0]))) < 0)
        goto fail;
    for (size_t i = 0; i < nnames; i++) {
        unsigned char addr[16];
        size_t alen;

        if (acme__ip_literal(names[i], addr, &alen))
            ret = gnutls_x509_crq_set_subject_alt_name(crq, GNUTLS_SAN_IPADDRESS, addr,
                                                       (unsigned int)alen, GNUTLS_FSAN_APPEND);
        else
            ret = gnutls_x509_crq_set_subject_alt_name(crq, GNUTLS_SAN_DNSNAME, names[i],
                                                       (unsigned int)strlen(names[i]),
                                                       GNUTLS_FSAN_APPEND);
        if (ret < 0)
            goto fail;
    }
    if ((ret = gnutls_x509_crq_privkey_sign(crq, key->priv, GNUTLS_DIG_SHA256, 0)) < 0 ||
        (ret = gnutls_x509_crq_export2(crq, GNUTLS_X509_FMT_DER, der)) < 0)
        goto fail;
    gnutls_x509_crq_deinit(crq);
    return ACME_OK;
fail:
    gnutls_x509_crq_deinit(crq);
    return acme__gnutls_error(err, ACME_E_CRYPTO, ret, _("cannot make a CSR"));
}

int acme_csr_new(char **out, const acme_key *key, const char *const *names, size_t nnames,
                 acme_error **err)
{
    gnutls_datum_t der;
    int rc;

    if (!out)
        return acme_error_set(err, ACME_E_INVALID, _("no output for the CSR"));
    *out = NULL;
    if ((rc = make_csr(&der, key, names, nnames, err)) < 0)
        return rc;
    *out = acme__b64url_encode(der.data, der.size);
    gnutls_free(der.data);
    if (!*out)
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    return ACME_OK;
}

int acme_csr_new_pem(char **out, const acme_key *key, const char *const *names, size_t nnames,
                     acme_error **err)
{
    gnutls_datum_t der;
    int rc;

    if (!out)
        return acme_error_set(err, ACME_E_INVALID, _("no output for the CSR"));
    *out = NULL;
    if ((rc = make_csr(&der, key, names, nnames, err)) < 0)
        return rc;
    *out = acme__pem_encode("CERTIFICATE REQUEST", der.data, der.size);
    gnutls_free(der.data);
    if (!*out)
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    return ACME_OK;
}
