/*
 * Test helper: keys and certificates made with GnuTLS directly.
 */
#include "config.h"

#include <glib.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <string.h>
#include <time.h>

#include "store-certs.h"

#define CHECK(call) g_assert_cmpint((call), >=, 0)

static char *export_key(gnutls_x509_privkey_t key, bool pkcs8)
{
    gnutls_datum_t d = { NULL, 0 };
    char *s;

    if (pkcs8)
        CHECK(gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN,
                                                &d));
    else
        CHECK(gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &d));
    s = g_strndup((const char *)d.data, d.size);
    gnutls_free(d.data);
    return s;
}

void tcert_make(tcert *out, tkey_type type, const char *const *sans, const tcert *issuer,
                bool ca)
{
    gnutls_x509_privkey_t key;
    gnutls_x509_crt_t crt;
    gnutls_datum_t d = { NULL, 0 };
    static unsigned char serial = 1;
    unsigned char ser[2] = { 0x10, 0 };
    time_t now = time(NULL);

    memset(out, 0, sizeof(*out));
    CHECK(gnutls_x509_privkey_init(&key));
    if (type == TKEY_EC)
        CHECK(gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
                                           GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0));
    else
        CHECK(gnutls_x509_privkey_generate(key, GNUTLS_PK_RSA, 2048, 0));
    CHECK(gnutls_x509_crt_init(&crt));
    CHECK(gnutls_x509_crt_set_version(crt, 3));
    ser[1] = serial++;
    CHECK(gnutls_x509_crt_set_serial(crt, ser, sizeof(ser)));
    CHECK(gnutls_x509_crt_set_activation_time(crt, now - 3600));
    CHECK(gnutls_x509_crt_set_expiration_time(crt, now + 90 * 86400));
    CHECK(gnutls_x509_crt_set_key(crt, key));
    if (sans && sans[0])
        CHECK(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, sans[0],
                                            (unsigned)strlen(sans[0])));
    else
        CHECK(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, "Store Test CA",
                                            13));
    for (size_t i = 0; sans && sans[i]; i++)
        CHECK(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, sans[i],
                                                   (unsigned)strlen(sans[i]), GNUTLS_FSAN_APPEND));
    CHECK(gnutls_x509_crt_set_basic_constraints(crt, ca ? 1 : 0, -1));
    CHECK(gnutls_x509_crt_set_key_usage(crt, ca ? GNUTLS_KEY_KEY_CERT_SIGN
                                                : GNUTLS_KEY_DIGITAL_SIGNATURE |
                                                      GNUTLS_KEY_KEY_ENCIPHERMENT));
    if (!ca)
        CHECK(gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0));
    if (issuer)
        CHECK(gnutls_x509_crt_sign2(crt, (gnutls_x509_crt_t)issuer->crt,
                                    (gnutls_x509_privkey_t)issuer->key, GNUTLS_DIG_SHA256, 0));
    else
        CHECK(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0));
    CHECK(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d));
    out->cert_pem = g_strndup((const char *)d.data, d.size);
    gnutls_free(d.data);
    out->key_pem = export_key(key, false);
    out->key_pkcs8 = export_key(key, true);
    out->key = key;
    out->crt = crt;
}

void tcert_clear(tcert *c)
{
    g_free(c->key_pem);
    g_free(c->key_pkcs8);
    g_free(c->cert_pem);
    if (c->key)
        gnutls_x509_privkey_deinit((gnutls_x509_privkey_t)c->key);
    if (c->crt)
        gnutls_x509_crt_deinit((gnutls_x509_crt_t)c->crt);
    memset(c, 0, sizeof(*c));
}

void tchain_make(tchain *out, tkey_type leaf_type, const char *const *sans)
{
    tcert_make(&out->ca, TKEY_EC, NULL, NULL, true);
    tcert_make(&out->leaf, leaf_type, sans, &out->ca, false);
}

void tchain_clear(tchain *c)
{
    tcert_clear(&c->ca);
    tcert_clear(&c->leaf);
}
