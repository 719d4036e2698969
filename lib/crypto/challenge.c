/*
 * crypto: challenge material: key authorizations (RFC 8555 §8.1), the
 * dns-01 TXT value (§8.4) and the tls-alpn-01 certificate (RFC 8737 §3).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/gtls.h"
#include "util/i18n.h"
#include "util/util.h"

/* id-pe-acmeIdentifier (RFC 8737 §6.1). */
#define OID_ACME_IDENTIFIER "1.3.6.1.5.5.7.1.31"

/* The tls-alpn-01 certificate is only shown to the CA during validation. */
#define TLSALPN_BACKDATE (60 * 60)
#define TLSALPN_LIFETIME (7 * 24 * 60 * 60)

int acme_key_authorization(char **out, const acme_key *account_key, const char *token,
                           acme_error **err)
{
    char *thumb = NULL;
    int rc;

    if (!out)
        return acme_error_set(err, ACME_E_INVALID, _("no output for the key authorization"));
    *out = NULL;
    if (!account_key)
        return acme_error_set(err, ACME_E_INVALID, _("no account key"));
    if (!acme__is_b64url(token))
        return acme_error_set(err, ACME_E_INVALID,
                              _("challenge token \"%s\" is not base64url"), token ? token : "");
    if ((rc = acme_key_thumbprint(&thumb, account_key, err)) < 0)
        return rc;
    *out = acme__asprintf("%s.%s", token, thumb);
    free(thumb);
    if (!*out)
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    return ACME_OK;
}

int acme_dns01_txt_value(char **out, const char *key_authorization, acme_error **err)
{
    unsigned char digest[32];

    if (!out)
        return acme_error_set(err, ACME_E_INVALID, _("no output for the TXT value"));
    *out = NULL;
    if (!key_authorization || !*key_authorization)
        return acme_error_set(err, ACME_E_INVALID, _("empty key authorization"));
    if (acme__sha256(digest, key_authorization, strlen(key_authorization)) < 0)
        return acme_error_set(err, ACME_E_CRYPTO, _("SHA-256 failed"));
    if (!(*out = acme__b64url_encode(digest, sizeof(digest))))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    return ACME_OK;
}

/* Build and self-sign the certificate; *der is gnutls-allocated. */
static int make_cert(gnutls_datum_t *der, const acme_key *key, const char *name,
                     const unsigned char ext[34], acme_error **err)
{
    gnutls_x509_crt_t crt = NULL;
    gnutls_datum_t ext_value = { (unsigned char *)ext, 34 };
    unsigned char serial[16], addr[16];
    size_t alen;
    time_t now = time(NULL);
    int ret;

    if (acme__random(serial, sizeof(serial)) < 0)
        return acme_error_set(err, ACME_E_CRYPTO, _("no randomness for a serial number"));
    serial[0] = (unsigned char)((serial[0] & 0x7f) | 0x01); /* positive, 16 bytes */
    if ((ret = gnutls_x509_crt_init(&crt)) < 0)
        return acme__gnutls_error(err, ACME_E_CRYPTO, ret, _("cannot make a certificate"));
    if ((ret = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
        (ret = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial))) < 0 ||
        (ret = gnutls_x509_crt_set_activation_time(crt, now - TLSALPN_BACKDATE)) < 0 ||
        (ret = gnutls_x509_crt_set_expiration_time(crt, now + TLSALPN_LIFETIME)) < 0 ||
        (ret = gnutls_x509_crt_set_pubkey(crt, key->pub)) < 0)
        goto fail;
    if (strlen(name) <= 64 &&
        (ret = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, name,
                                             (unsigned int)strlen(name))) < 0)
        goto fail;
    /* An IP identifier (RFC 8738 §6) is an iPAddress SAN; a DNS name a dNSName. */
    if (acme__ip_literal(name, addr, &alen))
        ret = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, addr,
                                                   (unsigned int)alen, GNUTLS_FSAN_SET);
    else
        ret = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, name,
                                                   (unsigned int)strlen(name), GNUTLS_FSAN_SET);
    if (ret < 0)
        goto fail;
    if ((ret = gnutls_x509_crt_set_extension_by_oid(crt, OID_ACME_IDENTIFIER, ext_value.data,
                                                     ext_value.size, 1)) < 0 ||
        (ret = gnutls_x509_crt_privkey_sign(crt, crt, key->priv, GNUTLS_DIG_SHA256, 0)) < 0 ||
        (ret = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, der)) < 0)
        goto fail;
    gnutls_x509_crt_deinit(crt);
    return ACME_OK;
fail:
    gnutls_x509_crt_deinit(crt);
    return acme__gnutls_error(err, ACME_E_CRYPTO, ret, _("cannot make the tls-alpn-01 certificate"));
}

int acme_tlsalpn01_cert(char **cert_pem, char **key_pem, const char *name,
                        const char *key_authorization, acme_error **err)
{
    unsigned char ext[34];
    gnutls_datum_t der = { NULL, 0 };
    acme_key *key = NULL;
    char *cert = NULL, *kpem = NULL;
    int rc;

    if (!cert_pem || !key_pem)
        return acme_error_set(err, ACME_E_INVALID, _("no output for the certificate"));
    *cert_pem = *key_pem = NULL;
    if (!name || !*name)
        return acme_error_set(err, ACME_E_INVALID, _("no name for the tls-alpn-01 certificate"));
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f)
            return acme_error_set(err, ACME_E_INVALID,
                                  _("invalid name \"%s\" for a tls-alpn-01 certificate"), name);
    if (!key_authorization || !*key_authorization)
        return acme_error_set(err, ACME_E_INVALID, _("empty key authorization"));
    /* The extension value: DER OCTET STRING of SHA-256(key authorization). */
    ext[0] = 0x04;
    ext[1] = 0x20;
    if (acme__sha256(ext + 2, key_authorization, strlen(key_authorization)) < 0)
        return acme_error_set(err, ACME_E_CRYPTO, _("SHA-256 failed"));
    if ((rc = acme__key_generate(&key, ACME_KEY_EC_P256, err)) < 0)
        return rc;
    if ((rc = make_cert(&der, key, name, ext, err)) < 0)
        goto done;
    if (!(cert = acme__pem_encode("CERTIFICATE", der.data, der.size))) {
        rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        goto done;
    }
    if ((rc = acme_key_save_pem(&kpem, key, ACME_KEY_FORMAT_PKCS8, err)) < 0)
        goto done;
    *cert_pem = cert;
    *key_pem = kpem;
    cert = NULL;
    rc = ACME_OK;
done:
    gnutls_free(der.data);
    free(cert);
    acme_key_free(key);
    return rc;
}
