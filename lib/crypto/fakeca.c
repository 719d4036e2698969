/*
 * crypto: certificate signing for the fake CA of <acme/testing.h>: a
 * self-signed root and leaf certificates signed by it, on the fake CA's
 * timeline (any notBefore, any lifetime).  Tests only; it checks nothing
 * about the names it signs (lib/service/testing.c does).
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/fakeca.h"
#include "crypto/gtls.h"
#include "util/i18n.h"
#include "util/util.h"

#define YEAR (365 * 24 * 60 * 60LL)

struct acme__fakeca {
    acme_key *key;               /* the root's key */
    gnutls_x509_crt_t crt;       /* the root */
    unsigned char key_id[64];    /* its subject key identifier */
    size_t key_id_len;
    char *pem;
    /* GnuTLS does not promise that one privkey signs on two threads at once. */
    pthread_mutex_t lock;
};

/* A random positive 16-byte serial (RFC 5280 §4.1.2.2: at most 20 bytes). */
static int random_serial(unsigned char serial[16])
{
    if (acme__random(serial, 16) < 0)
        return -1;
    serial[0] = (unsigned char)((serial[0] & 0x7f) | 0x01);
    return 0;
}

static int export_pem(char **out, gnutls_x509_crt_t crt)
{
    gnutls_datum_t der = { NULL, 0 };
    int ret;

    if ((ret = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der)) < 0)
        return ret;
    *out = acme__pem_encode("CERTIFICATE", der.data, der.size);
    gnutls_free(der.data);
    return *out ? 0 : GNUTLS_E_MEMORY_ERROR;
}

static int set_cn(gnutls_x509_crt_t crt, const char *cn)
{
    size_t len = strlen(cn);

    /* ub-common-name (RFC 5280 Appendix A): a longer name goes in SANs only. */
    if (len == 0 || len > 64)
        return 0;
    return gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
                                         (unsigned int)len);
}

int acme__fakeca_new(acme__fakeca **out, const char *cn, time_t not_before, acme_error **err)
{
    acme__fakeca *ca;
    unsigned char serial[16];
    time_t start;
    int ret, rc;

    if (!out)
        return acme_error_set(err, ACME_E_INVALID, _("no output for the fake CA"));
    *out = NULL;
    if (!cn || !*cn || strlen(cn) > 64)
        return acme_error_set(err, ACME_E_INVALID,
                              _("the fake CA's name must have 1 to 64 characters"));
    if (!(ca = calloc(1, sizeof(*ca))))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    if (pthread_mutex_init(&ca->lock, NULL) != 0) {
        free(ca);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    if ((rc = acme__key_generate(&ca->key, ACME_KEY_EC_P256, err)) < 0)
        goto fail;
    if (random_serial(serial) < 0) {
        rc = acme_error_set(err, ACME_E_CRYPTO, _("no randomness for a serial number"));
        goto fail;
    }
    /* Backdated a year (not before the epoch), so that a test clock set a
     * little back still sees a valid root. */
    start = not_before > YEAR ? not_before - (time_t)YEAR : 0;
    ca->key_id_len = sizeof(ca->key_id);
    if ((ret = gnutls_x509_crt_init(&ca->crt)) < 0)
        goto gnutls_fail;
    if ((ret = gnutls_x509_crt_set_version(ca->crt, 3)) < 0 ||
        (ret = gnutls_x509_crt_set_serial(ca->crt, serial, sizeof(serial))) < 0 ||
        (ret = gnutls_x509_crt_set_activation_time(ca->crt, start)) < 0 ||
        (ret = gnutls_x509_crt_set_expiration_time(ca->crt, start + (time_t)(100 * YEAR))) < 0 ||
        (ret = gnutls_x509_crt_set_pubkey(ca->crt, ca->key->pub)) < 0 ||
        (ret = set_cn(ca->crt, cn)) < 0 ||
        (ret = gnutls_x509_crt_set_basic_constraints(ca->crt, 1, 0)) < 0 ||
        (ret = gnutls_x509_crt_set_key_usage(ca->crt, GNUTLS_KEY_KEY_CERT_SIGN |
                                                          GNUTLS_KEY_CRL_SIGN)) < 0 ||
        (ret = gnutls_pubkey_get_key_id(ca->key->pub, GNUTLS_KEYID_USE_SHA1, ca->key_id,
                                        &ca->key_id_len)) < 0 ||
        (ret = gnutls_x509_crt_set_subject_key_id(ca->crt, ca->key_id, ca->key_id_len)) < 0 ||
        (ret = gnutls_x509_crt_privkey_sign(ca->crt, ca->crt, ca->key->priv, GNUTLS_DIG_SHA256,
                                            0)) < 0 ||
        (ret = export_pem(&ca->pem, ca->crt)) < 0)
        goto gnutls_fail;
    *out = ca;
    return ACME_OK;
gnutls_fail:
    rc = ret == GNUTLS_E_MEMORY_ERROR
             ? acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM))
             : acme__gnutls_error(err, ACME_E_CRYPTO, ret, _("cannot make the fake CA's root"));
fail:
    acme__fakeca_free(ca);
    return rc;
}

/* A name into a SAN: an IP literal as iPAddress (RFC 8738 §6), else dNSName. */
static int add_san(gnutls_x509_crt_t crt, const char *name)
{
    unsigned char addr[16];
    size_t alen;

    if (acme__ip_literal(name, addr, &alen))
        return gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, addr,
                                                    (unsigned int)alen, GNUTLS_FSAN_APPEND);
    return gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, name,
                                                (unsigned int)strlen(name), GNUTLS_FSAN_APPEND);
}

int acme__fakeca_issue(char **chain_pem, acme__fakeca *ca, const acme_key *key,
                       const char *const *names, size_t nnames, time_t not_before,
                       int64_t lifetime, acme_error **err)
{
    gnutls_x509_crt_t crt = NULL;
    unsigned char serial[16];
    unsigned int usage;
    char *leaf = NULL;
    int ret;

    if (!chain_pem)
        return acme_error_set(err, ACME_E_INVALID, _("no output for the certificate"));
    *chain_pem = NULL;
    if (!ca || !key || !names || nnames == 0 || lifetime <= 0)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    if (random_serial(serial) < 0)
        return acme_error_set(err, ACME_E_CRYPTO, _("no randomness for a serial number"));
    /* RFC 5280 §4.2.1.3: ECDSA keys sign; RSA keys may also encipher (TLS 1.2 RSA kx). */
    usage = GNUTLS_KEY_DIGITAL_SIGNATURE;
    if (key->pk == GNUTLS_PK_RSA)
        usage |= GNUTLS_KEY_KEY_ENCIPHERMENT;
    if ((ret = gnutls_x509_crt_init(&crt)) < 0)
        goto fail;
    if ((ret = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
        (ret = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial))) < 0 ||
        (ret = gnutls_x509_crt_set_activation_time(crt, not_before)) < 0 ||
        (ret = gnutls_x509_crt_set_expiration_time(crt, (time_t)(not_before + lifetime))) < 0 ||
        (ret = gnutls_x509_crt_set_pubkey(crt, key->pub)) < 0 ||
        (ret = set_cn(crt, names[0])) < 0 ||
        (ret = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) < 0 ||
        (ret = gnutls_x509_crt_set_key_usage(crt, usage)) < 0 ||
        (ret = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0 ||
        (ret = gnutls_x509_crt_set_authority_key_id(crt, ca->key_id, ca->key_id_len)) < 0)
        goto fail;
    for (size_t i = 0; i < nnames; i++)
        if (!names[i] || (ret = add_san(crt, names[i])) < 0)
            goto fail;
    pthread_mutex_lock(&ca->lock);
    ret = gnutls_x509_crt_privkey_sign(crt, ca->crt, ca->key->priv, GNUTLS_DIG_SHA256, 0);
    pthread_mutex_unlock(&ca->lock);
    if (ret < 0 || (ret = export_pem(&leaf, crt)) < 0)
        goto fail;
    gnutls_x509_crt_deinit(crt);
    if (!(*chain_pem = acme__asprintf("%s%s", leaf, ca->pem))) {
        free(leaf);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    free(leaf);
    return ACME_OK;
fail:
    if (crt)
        gnutls_x509_crt_deinit(crt);
    if (ret == GNUTLS_E_MEMORY_ERROR)
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    if (ret >= 0) /* a NULL name */
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    return acme__gnutls_error(err, ACME_E_CRYPTO, ret, _("cannot sign the certificate"));
}

const char *acme__fakeca_root_pem(const acme__fakeca *ca)
{
    return ca ? ca->pem : NULL;
}

void acme__fakeca_free(acme__fakeca *ca)
{
    if (!ca)
        return;
    if (ca->crt)
        gnutls_x509_crt_deinit(ca->crt);
    acme_key_free(ca->key);
    free(ca->pem);
    pthread_mutex_destroy(&ca->lock);
    free(ca);
}
