/*
 * crypto: certificate chains: parsing, getters, splitting, key check and
 * the ARI certificate identifier (RFC 9773 §4.1).
 *
 * Every field is extracted when the chain is parsed, so the getters only
 * read immutable memory and are MT-Safe.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/gtls.h"
#include "util/i18n.h"
#include "util/util.h"

struct acme_cert {
    gnutls_x509_crt_t crt;
    char *pem;
    char *issuer;
    char *issuer_cn;   /* NULL when the issuer has no CN */
    char *subject;
    char *serial;      /* lowercase hex */
    char **sans;
    size_t nsans;
    time_t not_before;
    time_t not_after;
};

struct acme_chain {
    acme_cert **certs;
    size_t n;
};

static void cert_free(acme_cert *c)
{
    if (!c)
        return;
    if (c->crt)
        gnutls_x509_crt_deinit(c->crt);
    free(c->pem);
    free(c->issuer);
    free(c->issuer_cn);
    free(c->subject);
    free(c->serial);
    acme_free_strv(c->sans, c->nsans);
    free(c);
}

void acme_chain_free(acme_chain *chain)
{
    if (!chain)
        return;
    for (size_t i = 0; i < chain->n; i++)
        cert_free(chain->certs[i]);
    free(chain->certs);
    free(chain);
}

/* The issuer's CN as a string, NULL when absent; *ret < 0 on a real error. */
static char *issuer_cn(gnutls_x509_crt_t crt, int *ret)
{
    size_t size = 0;
    char *s;

    *ret = gnutls_x509_crt_get_issuer_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, NULL,
                                                &size);
    if (*ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
        *ret = 0;
        return NULL;
    }
    if (*ret != GNUTLS_E_SHORT_MEMORY_BUFFER)
        return NULL;
    if (!(s = malloc(size + 1))) {
        *ret = GNUTLS_E_MEMORY_ERROR;
        return NULL;
    }
    *ret = gnutls_x509_crt_get_issuer_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, s,
                                                &size);
    if (*ret < 0) {
        free(s);
        return NULL;
    }
    s[size] = '\0';
    return s;
}

/* The serial number's DER content octets, as stored (a leading 0x00 kept). */
static int serial_raw(gnutls_x509_crt_t crt, unsigned char *buf, size_t *size)
{
    return gnutls_x509_crt_get_serial(crt, buf, size);
}

static int collect_sans(acme_cert *c)
{
    size_t cap = 0;

    for (unsigned int i = 0;; i++) {
        unsigned char buf[1024];
        size_t size = sizeof(buf) - 1;
        char text[INET6_ADDRSTRLEN];
        const char *value = NULL;
        int type;

        type = gnutls_x509_crt_get_subject_alt_name(c->crt, i, buf, &size, NULL);
        if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
            return 0;
        if (type == GNUTLS_E_SHORT_MEMORY_BUFFER)
            continue; /* absurdly long entry: not a DNS name we could use */
        if (type < 0)
            return type;
        if (type == GNUTLS_SAN_DNSNAME) {
            buf[size] = '\0';
            value = (const char *)buf;
        } else if (type == GNUTLS_SAN_IPADDRESS && (size == 4 || size == 16)) {
            if (!inet_ntop(size == 4 ? AF_INET : AF_INET6, buf, text, sizeof(text)))
                continue;
            value = text;
        } else {
            continue;
        }
        if (c->nsans == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            char **v = realloc(c->sans, ncap * sizeof(*v));

            if (!v)
                return GNUTLS_E_MEMORY_ERROR;
            c->sans = v;
            cap = ncap;
        }
        if (!(c->sans[c->nsans] = strdup(value)))
            return GNUTLS_E_MEMORY_ERROR;
        c->nsans++;
    }
}

static int fill_cert(acme_cert *c, const gnutls_datum_t *der)
{
    gnutls_datum_t d = { NULL, 0 };
    unsigned char serial[64];
    size_t size = sizeof(serial), skip = 0;
    int ret;

    if ((ret = gnutls_x509_crt_init(&c->crt)) < 0 ||
        (ret = gnutls_x509_crt_import(c->crt, der, GNUTLS_X509_FMT_DER)) < 0)
        return ret;
    if ((ret = gnutls_x509_crt_get_issuer_dn3(c->crt, &d, 0)) < 0)
        return ret;
    c->issuer = acme__datum_strdup(&d);
    gnutls_free(d.data);
    if ((ret = gnutls_x509_crt_get_dn3(c->crt, &d, 0)) < 0)
        return ret;
    c->subject = acme__datum_strdup(&d);
    gnutls_free(d.data);
    if (!c->issuer || !c->subject)
        return GNUTLS_E_MEMORY_ERROR;
    c->issuer_cn = issuer_cn(c->crt, &ret);
    if (ret < 0)
        return ret;
    if ((ret = serial_raw(c->crt, serial, &size)) < 0)
        return ret;
    /* Hex of the number: leading zero bytes dropped, at least one byte kept. */
    while (skip + 1 < size && serial[skip] == 0)
        skip++;
    if (!(c->serial = malloc((size - skip) * 2 + 1)))
        return GNUTLS_E_MEMORY_ERROR;
    for (size_t i = skip; i < size; i++)
        snprintf(c->serial + (i - skip) * 2, 3, "%02x", serial[i]);
    c->serial[(size - skip) * 2] = '\0';
    c->not_before = gnutls_x509_crt_get_activation_time(c->crt);
    c->not_after = gnutls_x509_crt_get_expiration_time(c->crt);
    if ((ret = collect_sans(c)) < 0)
        return ret;
    if (!(c->pem = acme__pem_encode("CERTIFICATE", der->data, der->size)))
        return GNUTLS_E_MEMORY_ERROR;
    return 0;
}

int acme_chain_parse(acme_chain **out, const char *pem, size_t len, acme_error **err)
{
    acme__pem_block blk;
    acme_chain *chain;
    size_t pos = 0, cap = 0;
    int found, rc = ACME_OK;

    if (!out)
        return acme_error_set(err, ACME_E_INVALID, _("no output for the chain"));
    *out = NULL;
    if (!pem)
        return acme_error_set(err, ACME_E_INVALID, _("no certificate given"));
    if (!(chain = calloc(1, sizeof(*chain))))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    while ((found = acme__pem_next(pem, len, &pos, &blk)) == 1) {
        gnutls_datum_t in = { (unsigned char *)blk.begin, (unsigned int)blk.len };
        gnutls_datum_t der = { NULL, 0 };
        acme_cert *c;
        int ret;

        if (!acme__pem_label_is(&blk, "CERTIFICATE"))
            continue;
        if (chain->n == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            acme_cert **v = realloc(chain->certs, ncap * sizeof(*v));

            if (!v) {
                rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
                goto fail;
            }
            chain->certs = v;
            cap = ncap;
        }
        if (blk.len > UINT32_MAX ||
            (ret = gnutls_pem_base64_decode2("CERTIFICATE", &in, &der)) < 0) {
            rc = acme_error_set(err, ACME_E_INVALID,
                                _("damaged certificate %zu in PEM: bad base64"), chain->n + 1);
            goto fail;
        }
        if (!(c = calloc(1, sizeof(*c)))) {
            gnutls_free(der.data);
            rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
            goto fail;
        }
        chain->certs[chain->n++] = c;
        ret = fill_cert(c, &der);
        gnutls_free(der.data);
        if (ret < 0) {
            if (ret == GNUTLS_E_MEMORY_ERROR)
                rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
            else
                rc = acme_error_set(err, ACME_E_INVALID, _("damaged certificate %zu: %s"),
                                    chain->n, gnutls_strerror(ret));
            goto fail;
        }
    }
    if (found < 0) {
        rc = acme_error_set(err, ACME_E_INVALID, _("damaged PEM: a block has no end line"));
        goto fail;
    }
    if (chain->n == 0) {
        rc = acme_error_set(err, ACME_E_INVALID, _("no PEM certificate found"));
        goto fail;
    }
    *out = chain;
    return ACME_OK;
fail:
    acme_chain_free(chain);
    return rc;
}

size_t acme_chain_count(const acme_chain *chain)
{
    return chain ? chain->n : 0;
}

const acme_cert *acme_chain_get(const acme_chain *chain, size_t i)
{
    return chain && i < chain->n ? chain->certs[i] : NULL;
}

int acme_chain_split(char **leaf_pem, char **rest_pem, const acme_chain *chain, acme_error **err)
{
    acme__buf rest = ACME__BUF_INIT;
    char *leaf;

    if (!leaf_pem || !rest_pem)
        return acme_error_set(err, ACME_E_INVALID, _("no output for the split chain"));
    *leaf_pem = *rest_pem = NULL;
    if (!chain || chain->n == 0)
        return acme_error_set(err, ACME_E_INVALID, _("no chain to split"));
    for (size_t i = 1; i < chain->n; i++)
        if (acme__buf_puts(&rest, chain->certs[i]->pem) < 0) {
            acme__buf_clear(&rest);
            return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        }
    if (!(leaf = strdup(chain->certs[0]->pem)) || !(*rest_pem = acme__buf_steal(&rest))) {
        free(leaf);
        acme__buf_clear(&rest);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    *leaf_pem = leaf;
    return ACME_OK;
}

time_t acme_cert_not_before(const acme_cert *cert)
{
    return cert ? cert->not_before : (time_t)-1;
}

time_t acme_cert_not_after(const acme_cert *cert)
{
    return cert ? cert->not_after : (time_t)-1;
}

const char *const *acme_cert_sans(const acme_cert *cert, size_t *n)
{
    static const char *const none[] = { NULL };

    if (n)
        *n = cert ? cert->nsans : 0;
    if (!cert || !cert->sans)
        return none;
    return (const char *const *)cert->sans;
}

const char *acme_cert_issuer(const acme_cert *cert)
{
    return cert ? cert->issuer : NULL;
}

const char *acme_cert_issuer_cn(const acme_cert *cert)
{
    return cert ? cert->issuer_cn : NULL;
}

const char *acme_cert_subject(const acme_cert *cert)
{
    return cert ? cert->subject : NULL;
}

const char *acme_cert_serial(const acme_cert *cert)
{
    return cert ? cert->serial : NULL;
}

const char *acme_cert_pem(const acme_cert *cert)
{
    return cert ? cert->pem : NULL;
}

int acme_cert_check_key(const acme_cert *cert, const acme_key *key, acme_error **err)
{
    gnutls_pubkey_t pub = NULL;
    gnutls_datum_t a = { NULL, 0 }, b = { NULL, 0 };
    bool same;
    int ret;

    if (!cert || !key)
        return acme_error_set(err, ACME_E_INVALID, _("no certificate or key to compare"));
    if ((ret = gnutls_pubkey_init(&pub)) < 0 ||
        (ret = gnutls_pubkey_import_x509(pub, cert->crt, 0)) < 0 ||
        (ret = acme__pubkey_der(pub, &a)) < 0 || (ret = acme__pubkey_der(key->pub, &b)) < 0) {
        if (pub)
            gnutls_pubkey_deinit(pub);
        gnutls_free(a.data);
        gnutls_free(b.data);
        return acme__gnutls_error(err, ACME_E_CRYPTO, ret,
                                  _("cannot read the certificate's public key"));
    }
    same = a.size == b.size && memcmp(a.data, b.data, a.size) == 0;
    gnutls_pubkey_deinit(pub);
    gnutls_free(a.data);
    gnutls_free(b.data);
    if (!same)
        return acme_error_set(err, ACME_E_INVALID,
                              _("the private key does not match the certificate (subject %s)"),
                              cert->subject);
    return ACME_OK;
}

int acme_cert_ari_id(char **out, const acme_cert *cert, acme_error **err)
{
    unsigned char aki[128], serial[64];
    size_t akilen = sizeof(aki), slen = sizeof(serial);
    char *a64, *s64;
    int ret;

    if (!out)
        return acme_error_set(err, ACME_E_INVALID, _("no output for the ARI identifier"));
    *out = NULL;
    if (!cert)
        return acme_error_set(err, ACME_E_INVALID, _("no certificate for the ARI identifier"));
    ret = gnutls_x509_crt_get_authority_key_id(cert->crt, aki, &akilen, NULL);
    if (ret < 0 || akilen == 0)
        return acme_error_set(err, ACME_E_INVALID,
                              _("the certificate has no authority key identifier"));
    if ((ret = serial_raw(cert->crt, serial, &slen)) < 0 || slen == 0)
        return acme_error_set(err, ACME_E_INVALID, _("the certificate has no serial number"));
    a64 = acme__b64url_encode(aki, akilen);
    s64 = acme__b64url_encode(serial, slen);
    if (a64 && s64)
        *out = acme__asprintf("%s.%s", a64, s64);
    free(a64);
    free(s64);
    if (!*out)
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    return ACME_OK;
}
