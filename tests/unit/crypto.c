/*
 * Unit tests: crypto (keys, JWK, JWS, CSR, certificates, challenges).
 *
 * Expected values come from RFCs, from certtool (see
 * tests/data/crypto/README) or are recomputed here with GLib and GnuTLS
 * directly, never with the code under test.
 */
#include "config.h"

#include <arpa/inet.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include <acme/acme.h>
#include <acme/crypto.h>

#include "crypto/crypto.h"
#include "crypto/gtls.h"
#include "util/init.h"
#include "util/json.h"
#include "util/util.h"

#define TOKEN "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static char *fixture(const char *name, size_t *len)
{
    char *path = g_test_build_filename(G_TEST_DIST, "data", "crypto", name, NULL);
    char *text = NULL;
    gsize n = 0;
    GError *gerr = NULL;

    if (!g_file_get_contents(path, &text, &n, &gerr))
        g_error("fixture %s: %s", path, gerr->message);
    g_free(path);
    if (len)
        *len = n;
    return text;
}

static acme_key *load_fixture_key(const char *name)
{
    size_t len;
    char *pem = fixture(name, &len);
    acme_key *key = NULL;
    acme_error *err = NULL;
    int rc = acme_key_load_pem(&key, pem, len, &err);

    if (rc != ACME_OK)
        g_error("loading %s: %s", name, acme_error_message(err));
    g_free(pem);
    return key;
}

/* Load a key fixture expecting failure; returns the code, message to *msg. */
static int load_fixture_fails(const char *name, char **msg)
{
    size_t len;
    char *pem = fixture(name, &len);
    acme_key *key = (acme_key *)0x1;
    acme_error *err = NULL;
    int rc = acme_key_load_pem(&key, pem, len, &err);

    g_assert_cmpint(rc, <, 0);
    g_assert_null(key);
    g_assert_nonnull(err);
    g_assert_cmpint(acme_error_code_get(err), ==, rc);
    *msg = g_strdup(acme_error_message(err));
    acme_error_free(err);
    g_free(pem);
    return rc;
}

/* base64url without padding, computed with GLib. */
static char *glib_b64url(const void *data, size_t len)
{
    char *s = g_base64_encode(data, len);

    for (char *p = s; *p; p++) {
        if (*p == '+')
            *p = '-';
        else if (*p == '/')
            *p = '_';
        else if (*p == '=') {
            *p = '\0';
            break;
        }
    }
    return s;
}

static GBytes *glib_b64url_decode(const char *s)
{
    GString *t = g_string_new(s);
    guchar *raw;
    gsize n;

    g_assert_null(strchr(s, '='));
    for (gsize i = 0; i < t->len; i++) {
        if (t->str[i] == '-')
            t->str[i] = '+';
        else if (t->str[i] == '_')
            t->str[i] = '/';
        else
            g_assert_true(g_ascii_isalnum(t->str[i]));
    }
    while (t->len % 4)
        g_string_append_c(t, '=');
    raw = g_base64_decode(t->str, &n);
    g_string_free(t, TRUE);
    return g_bytes_new_take(raw, n);
}

static void glib_sha256(const void *data, size_t len, guint8 out[32])
{
    GChecksum *c = g_checksum_new(G_CHECKSUM_SHA256);
    gsize n = 32;

    g_checksum_update(c, data, len);
    g_checksum_get_digest(c, out, &n);
    g_assert_cmpuint(n, ==, 32);
    g_checksum_free(c);
}

/* A GnuTLS public key read straight from private key PEM (independent of acme_key). */
static gnutls_pubkey_t pubkey_from_pem(const char *pem)
{
    gnutls_x509_privkey_t x = NULL;
    gnutls_privkey_t p = NULL;
    gnutls_pubkey_t pub = NULL;
    gnutls_datum_t d = { (unsigned char *)pem, (unsigned int)strlen(pem) };

    g_assert_cmpint(gnutls_x509_privkey_init(&x), ==, 0);
    g_assert_cmpint(gnutls_x509_privkey_import2(x, &d, GNUTLS_X509_FMT_PEM, NULL, 0), ==, 0);
    g_assert_cmpint(gnutls_privkey_init(&p), ==, 0);
    g_assert_cmpint(gnutls_privkey_import_x509(p, x, GNUTLS_PRIVKEY_IMPORT_COPY), ==, 0);
    g_assert_cmpint(gnutls_pubkey_init(&pub), ==, 0);
    g_assert_cmpint(gnutls_pubkey_import_privkey(pub, p, 0, 0), ==, 0);
    gnutls_privkey_deinit(p);
    gnutls_x509_privkey_deinit(x);
    return pub;
}

static char *save_pem(const acme_key *key, acme_key_format fmt)
{
    char *pem = NULL;
    acme_error *err = NULL;

    g_assert_cmpint(acme_key_save_pem(&pem, key, fmt, &err), ==, ACME_OK);
    g_assert_null(err);
    g_assert_nonnull(pem);
    return pem;
}

/* ------------------------------------------------------------------ */
/* Hashes and randomness                                               */
/* ------------------------------------------------------------------ */

static void test_sha256_random(void)
{
    /* FIPS 180-2 "abc". */
    static const guint8 abc[32] = {
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
        0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
    };
    unsigned char out[32], r1[32], r2[32];

    g_assert_cmpint(acme__sha256(out, "abc", 3), ==, ACME_OK);
    g_assert_cmpmem(out, 32, abc, 32);
    g_assert_cmpint(acme__random(r1, sizeof(r1)), ==, ACME_OK);
    g_assert_cmpint(acme__random(r2, sizeof(r2)), ==, ACME_OK);
    g_assert_true(memcmp(r1, r2, sizeof(r1)) != 0);
}

/* ------------------------------------------------------------------ */
/* Keys                                                                */
/* ------------------------------------------------------------------ */

typedef struct {
    acme_key_type type;
    unsigned int bits;
    const char *alg;
} gen_case;

static void check_generated(const gen_case *c)
{
    acme_key *key = NULL, *back = NULL, *other = NULL;
    acme_error *err = NULL;
    char *pkcs8, *trad;

    g_assert_cmpint(acme_key_generate(&key, c->type, &err), ==, ACME_OK);
    g_assert_null(err);
    g_assert_cmpint(acme_key_get_type(key), ==, c->type);
    g_assert_cmpuint(acme_key_bits(key), ==, c->bits);
    g_assert_cmpstr(acme_key_jws_alg(key), ==, c->alg);

    pkcs8 = save_pem(key, ACME_KEY_FORMAT_PKCS8);
    trad = save_pem(key, ACME_KEY_FORMAT_TRADITIONAL);
    g_assert_true(g_str_has_prefix(pkcs8, "-----BEGIN PRIVATE KEY-----\n"));
    g_assert_true(g_str_has_prefix(trad, c->bits < 1000 ? "-----BEGIN EC PRIVATE KEY-----\n"
                                                         : "-----BEGIN RSA PRIVATE KEY-----\n"));

    g_assert_cmpint(acme_key_load_pem(&back, pkcs8, strlen(pkcs8), &err), ==, ACME_OK);
    g_assert_true(acme_key_equal(key, back));
    g_assert_cmpint(acme_key_get_type(back), ==, c->type);
    acme_key_free(back);
    back = NULL;
    g_assert_cmpint(acme_key_load_pem(&back, trad, strlen(trad), &err), ==, ACME_OK);
    g_assert_true(acme_key_equal(key, back));
    g_assert_cmpuint(acme_key_bits(back), ==, c->bits);

    /* A different key of the same type is not equal. */
    g_assert_cmpint(acme_key_generate(&other, c->type, &err), ==, ACME_OK);
    g_assert_false(acme_key_equal(key, other));
    g_assert_false(acme_key_equal(key, NULL));

    acme__free_secret(pkcs8);
    acme__free_secret(trad);
    acme_key_free(other);
    acme_key_free(back);
    acme_key_free(key);
}

static void test_key_generate_ec(void)
{
    static const gen_case cases[] = {
        { ACME_KEY_EC_P256, 256, "ES256" },
        { ACME_KEY_EC_P384, 384, "ES384" },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
        check_generated(&cases[i]);
    g_assert_cmpint(ACME_KEY_DEFAULT, ==, ACME_KEY_EC_P256);
}

static void test_key_generate_rsa(void)
{
    static const gen_case cases[] = {
        { ACME_KEY_RSA_2048, 2048, "RS256" },
        { ACME_KEY_RSA_3072, 3072, "RS256" },
        { ACME_KEY_RSA_4096, 4096, "RS256" },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
        check_generated(&cases[i]);
}

static void test_key_generate_bad_type(void)
{
    acme_key *key = (acme_key *)0x1;
    acme_error *err = NULL;

    g_assert_cmpint(acme_key_generate(&key, ACME_KEY_RSA, &err), ==, ACME_E_INVALID);
    g_assert_null(key);
    g_assert_nonnull(err);
    acme_error_free(err);
    err = NULL;
    g_assert_cmpint(acme_key_generate(&key, (acme_key_type)42, &err), ==, ACME_E_INVALID);
    acme_error_free(err);
    g_assert_cmpint(acme_key_generate(&key, (acme_key_type)0, NULL), ==, ACME_E_INVALID);

    /* An unknown save format is refused too. */
    {
        acme_key *k = load_fixture_key("ca-key-p256-sec1.pem");
        char *pem = (char *)0x1;

        g_assert_cmpint(acme_key_save_pem(&pem, k, (acme_key_format)7, NULL), ==, ACME_E_INVALID);
        g_assert_null(pem);
        acme_key_free(k);
    }
}

static void test_key_refcount(void)
{
    acme_key *key = load_fixture_key("ca-key-p256-sec1.pem");
    acme_key *ref = acme__key_ref(key);

    g_assert_true(ref == key);
    acme_key_free(key);
    /* Still usable through the second reference (valgrind/ASan would notice). */
    g_assert_cmpint(acme_key_get_type(ref), ==, ACME_KEY_EC_P256);
    acme_key_free(ref);
    acme_key_free(NULL);
    g_assert_null(acme__key_ref(NULL));
}

typedef struct {
    const char *file;
    acme_key_type type;
    unsigned int bits;
} load_case;

static void test_key_load_fixtures(void)
{
    static const load_case cases[] = {
        { "ca-key-p256-sec1.pem", ACME_KEY_EC_P256, 256 },
        { "ec-p256-short-x.pem", ACME_KEY_EC_P256, 256 },
        { "leaf-key-p384-sec1.pem", ACME_KEY_EC_P384, 384 },  /* text before the PEM */
        { "ec-p384-pkcs8.pem", ACME_KEY_EC_P384, 384 },
        { "int-key-rsa2048-trad.pem", ACME_KEY_RSA_2048, 2048 },
        { "rsa3072-pkcs8.pem", ACME_KEY_RSA_3072, 3072 },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        acme_key *key = load_fixture_key(cases[i].file);

        g_assert_cmpint(acme_key_get_type(key), ==, cases[i].type);
        g_assert_cmpuint(acme_key_bits(key), ==, cases[i].bits);
        acme_key_free(key);
    }
}

static void test_key_load_skips_certificates(void)
{
    size_t n1, n2;
    char *cert = fixture("chain.pem", &n1), *kpem = fixture("leaf-key-p384-sec1.pem", &n2);
    char *both = g_strconcat(cert, kpem, cert, NULL);
    acme_key *key = NULL, *ref = load_fixture_key("leaf-key-p384-sec1.pem");
    acme_error *err = NULL;

    g_assert_cmpint(acme_key_load_pem(&key, both, strlen(both), &err), ==, ACME_OK);
    g_assert_true(acme_key_equal(key, ref));
    acme_key_free(key);
    acme_key_free(ref);
    g_free(both);
    g_free(cert);
    g_free(kpem);
}

static void test_key_load_unsupported(void)
{
    static const struct {
        const char *file;
        const char *named;
    } cases[] = {
        { "ed25519.pem", "Ed25519" },
        { "p521.pem", "P-521" },
        { "rsa1024.pem", "1024" },
        { "dsa.pem", "DSA" },
        { "rsa-pss.pem", "RSA-PSS" },
        { "ec-p256-encrypted.pem", "encrypted" },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *msg = NULL;

        g_assert_cmpint(load_fixture_fails(cases[i].file, &msg), ==, ACME_E_NOTSUP);
        if (!strstr(msg, cases[i].named))
            g_error("%s: message \"%s\" does not name %s", cases[i].file, msg, cases[i].named);
        g_free(msg);
    }
}

static void test_key_load_garbage(void)
{
    static const char *const bad[] = {
        "",
        "hello, world",
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        "-----BEGIN EC PRIVATE KEY-----\n!!!notbase64!!!\n-----END EC PRIVATE KEY-----\n",
        "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n",  /* no END */
        "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n",
    };
    size_t len;
    char *chain = fixture("chain.pem", &len);

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        acme_key *key = NULL;
        acme_error *err = NULL;

        g_assert_cmpint(acme_key_load_pem(&key, bad[i], strlen(bad[i]), &err), ==,
                        ACME_E_INVALID);
        g_assert_null(key);
        g_assert_nonnull(acme_error_message(err));
        acme_error_free(err);
    }
    /* Certificates only: no key. */
    {
        acme_key *key = NULL;
        acme_error *err = NULL;

        g_assert_cmpint(acme_key_load_pem(&key, chain, len, &err), ==, ACME_E_INVALID);
        acme_error_free(err);
        g_assert_cmpint(acme_key_load_pem(&key, NULL, 0, NULL), ==, ACME_E_INVALID);
    }
    /* A damaged byte in the middle of a real key. */
    {
        char *pem = fixture("int-key-rsa2048-trad.pem", &len);
        acme_key *key = NULL;
        acme_error *err = NULL;
        char *mid = pem + len / 2;

        while (*mid == '\n')
            mid++;
        *mid = *mid == 'A' ? 'B' : 'A';
        g_assert_cmpint(acme_key_load_pem(&key, pem, len, &err), ==, ACME_E_INVALID);
        acme_error_free(err);
        g_free(pem);
    }
    g_free(chain);
}

/* ------------------------------------------------------------------ */
/* JWK                                                                 */
/* ------------------------------------------------------------------ */

static void test_rfc7638_thumbprint(void)
{
    /* RFC 7638 §3.1. */
    static const char jwk[] =
        "{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78L"
        "hWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9"
        "yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQ"
        "vRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1"
        "jF44-csFCur-kEgU8awapJzKnqDKgw\"}";
    char *tp = NULL;
    acme_error *err = NULL;

    g_assert_cmpint(acme__jwk_thumbprint_json(&tp, jwk, &err), ==, ACME_OK);
    g_assert_cmpstr(tp, ==, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    free(tp);
    g_assert_cmpint(acme__jwk_thumbprint_json(&tp, "", &err), ==, ACME_E_INVALID);
    acme_error_free(err);
}

static void test_jwk_known_keys(void)
{
    /* Expected JWKs computed from certtool -k output (x, y, modulus, exponent). */
    static const struct {
        const char *file;
        const char *jwk;
        const char *thumbprint;
    } cases[] = {
        { "ec-p256-short-x.pem",
          "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"AC0XPyVzNKySBtRx5btR1IJfW9Hi8AZut9RARuPczOo\","
          "\"y\":\"L-s4w8vAKSPKvJrluKl0P9kECQE5iVUABaie80j8uWQ\"}",
          "-Ff8wI5-kvPyrcHbIPyPaEAYtDkaegZelZ2CkaEqswQ" },
        { "int-key-rsa2048-trad.pem",
          "{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\"2VvMqzcUtVsaYwkTG3VLYBFSNcehgwcUALwFRnOGJDGrZvS2"
          "Wy9nJ48WX3JLYOAnUE6HVNqAmOykxD2rwMrAEKprlzjFFq0sdmgEfLVnb98Q6ffUbFdb_jMkFouJD7_975Cbyty"
          "QWyYIbFG__k88S1uPtW8DH_FSc85ScBxm47mf7OzykFBNOTumabGvWQ26Z-YVPQe7KPSVYs5gJuo67Egg7s0G2A"
          "F0tc8Pwca0iq57uxuHK2mf9tDkcy4paOamg3m7n0NAMlhNFznyaPl1z2XX5yzzkcYn7gXUdLoawuN5wPTcJ8Ph8"
          "W0GJunFgZh0joJNJXGszq-rfeVpkg_Ojw\"}",
          "Vq3QS-5A15UnoqShnuVsnZVxX65cHcMPkmIAsXFjIBE" },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        acme_key *key = load_fixture_key(cases[i].file);
        char *jwk = NULL, *tp = NULL;
        guint8 digest[32];
        char *expect_tp;

        g_assert_cmpint(acme_key_jwk(&jwk, key, NULL), ==, ACME_OK);
        g_assert_cmpstr(jwk, ==, cases[i].jwk);
        g_assert_cmpint(acme_key_thumbprint(&tp, key, NULL), ==, ACME_OK);
        g_assert_cmpstr(tp, ==, cases[i].thumbprint);
        /* And the thumbprint is SHA-256 of exactly that text. */
        glib_sha256(jwk, strlen(jwk), digest);
        expect_tp = glib_b64url(digest, 32);
        g_assert_cmpstr(tp, ==, expect_tp);
        g_free(expect_tp);
        free(jwk);
        free(tp);
        acme_key_free(key);
    }
}

static void test_jwk_generated_shape(void)
{
    static const struct {
        acme_key_type type;
        const char *prefix;
        const char *coord1, *coord2;
        size_t size;
    } cases[] = {
        { ACME_KEY_EC_P256, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"", "x", "y", 32 },
        { ACME_KEY_EC_P384, "{\"crv\":\"P-384\",\"kty\":\"EC\",\"x\":\"", "x", "y", 48 },
        { ACME_KEY_RSA_2048, "{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\"", "n", NULL, 256 },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        acme_key *key = NULL;
        char *jwk = NULL;
        json_object *o = NULL;
        GBytes *b;

        g_assert_cmpint(acme_key_generate(&key, cases[i].type, NULL), ==, ACME_OK);
        g_assert_cmpint(acme_key_jwk(&jwk, key, NULL), ==, ACME_OK);
        g_assert_true(g_str_has_prefix(jwk, cases[i].prefix));
        g_assert_null(strpbrk(jwk, " \n\t"));
        g_assert_cmpint(acme__json_parse(&o, jwk, strlen(jwk), "jwk", NULL), ==, ACME_OK);
        b = glib_b64url_decode(acme__json_str(o, cases[i].coord1));
        g_assert_cmpuint(g_bytes_get_size(b), ==, cases[i].size);
        if (!cases[i].coord2) /* RSA modulus: no leading zero byte */
            g_assert_cmpuint(((const guint8 *)g_bytes_get_data(b, NULL))[0], !=, 0);
        g_bytes_unref(b);
        if (cases[i].coord2) {
            b = glib_b64url_decode(acme__json_str(o, cases[i].coord2));
            g_assert_cmpuint(g_bytes_get_size(b), ==, cases[i].size);
            g_bytes_unref(b);
        }
        json_object_put(o);
        free(jwk);
        acme_key_free(key);
    }
}

/* ------------------------------------------------------------------ */
/* JWS                                                                 */
/* ------------------------------------------------------------------ */

typedef struct {
    char *protected_json;
    char *payload;
    GBytes *signature;
    char *signing_input;
} jws_parts;

static void jws_split(const char *jws, jws_parts *p)
{
    json_object *o = NULL;
    const char *h, *pl, *s;
    GBytes *b;

    g_assert_cmpint(acme__json_parse(&o, jws, strlen(jws), "jws", NULL), ==, ACME_OK);
    g_assert_cmpint(json_object_object_length(o), ==, 3);
    h = acme__json_str(o, "protected");
    pl = acme__json_str(o, "payload");
    s = acme__json_str(o, "signature");
    g_assert_nonnull(h);
    g_assert_nonnull(pl);
    g_assert_nonnull(s);
    p->signing_input = g_strdup_printf("%s.%s", h, pl);
    b = glib_b64url_decode(h);
    p->protected_json = g_strndup(g_bytes_get_data(b, NULL), g_bytes_get_size(b));
    g_bytes_unref(b);
    b = glib_b64url_decode(pl);
    p->payload = g_strndup(g_bytes_get_data(b, NULL), g_bytes_get_size(b));
    g_bytes_unref(b);
    p->signature = glib_b64url_decode(s);
    json_object_put(o);
}

static void jws_parts_clear(jws_parts *p)
{
    g_free(p->protected_json);
    g_free(p->payload);
    g_free(p->signing_input);
    g_bytes_unref(p->signature);
}

/* Verify a JWS signature with GnuTLS; ECDSA r||s is turned back into DER. */
static int verify_jws(gnutls_pubkey_t pub, gnutls_sign_algorithm_t algo, size_t ec_half,
                      const char *input, GBytes *sig)
{
    gnutls_datum_t data = { (unsigned char *)input, (unsigned int)strlen(input) };
    gsize n;
    const guint8 *raw = g_bytes_get_data(sig, &n);
    gnutls_datum_t der = { NULL, 0 };
    int ret;

    if (ec_half) {
        gnutls_datum_t r = { (unsigned char *)raw, (unsigned int)ec_half };
        gnutls_datum_t s = { (unsigned char *)raw + ec_half, (unsigned int)ec_half };

        g_assert_cmpuint(n, ==, 2 * ec_half);
        g_assert_cmpint(gnutls_encode_rs_value(&der, &r, &s), ==, 0);
        ret = gnutls_pubkey_verify_data2(pub, algo, 0, &data, &der);
        gnutls_free(der.data);
        return ret;
    }
    der.data = (unsigned char *)raw;
    der.size = (unsigned int)n;
    return gnutls_pubkey_verify_data2(pub, algo, 0, &data, &der);
}

static void check_jws_for(acme_key_type type, gnutls_sign_algorithm_t algo, size_t half,
                          const char *alg)
{
    acme_key *key = NULL;
    char *pem, *jws = NULL, *jwk = NULL, *expect;
    gnutls_pubkey_t pub;
    jws_parts p;
    acme_error *err = NULL;

    g_assert_cmpint(acme_key_generate(&key, type, NULL), ==, ACME_OK);
    pem = save_pem(key, ACME_KEY_FORMAT_PKCS8);
    pub = pubkey_from_pem(pem);
    g_assert_cmpint(acme_key_jwk(&jwk, key, NULL), ==, ACME_OK);

    /* With kid, nonce and a payload. */
    g_assert_cmpint(acme__jws_sign(&jws, key, "https://ca.test/acct/17", "nonce-1",
                                   "https://ca.test/new-order", "{\"identifiers\":[]}", &err),
                    ==, ACME_OK);
    g_assert_null(err);
    jws_split(jws, &p);
    expect = g_strdup_printf("{\"alg\":\"%s\",\"kid\":\"https://ca.test/acct/17\","
                             "\"nonce\":\"nonce-1\",\"url\":\"https://ca.test/new-order\"}",
                             alg);
    g_assert_cmpstr(p.protected_json, ==, expect);
    g_free(expect);
    g_assert_cmpstr(p.payload, ==, "{\"identifiers\":[]}");
    if (half)
        g_assert_cmpuint(g_bytes_get_size(p.signature), ==, 2 * half);
    g_assert_cmpint(verify_jws(pub, algo, half, p.signing_input, p.signature), >=, 0);
    /* The check can fail: a changed signing input does not verify. */
    p.signing_input[0] ^= 1;
    g_assert_cmpint(verify_jws(pub, algo, half, p.signing_input, p.signature), <, 0);
    jws_parts_clear(&p);
    free(jws);
    jws = NULL;

    /* With the JWK, no nonce, POST-as-GET. */
    g_assert_cmpint(acme__jws_sign(&jws, key, NULL, NULL, "https://ca.test/x", NULL, NULL), ==,
                    ACME_OK);
    jws_split(jws, &p);
    expect = g_strdup_printf("{\"alg\":\"%s\",\"jwk\":%s,\"url\":\"https://ca.test/x\"}", alg,
                             jwk);
    g_assert_cmpstr(p.protected_json, ==, expect);
    g_free(expect);
    g_assert_cmpstr(p.payload, ==, "");
    g_assert_true(strstr(jws, "\"payload\":\"\"") != NULL);
    g_assert_cmpint(verify_jws(pub, algo, half, p.signing_input, p.signature), >=, 0);
    jws_parts_clear(&p);
    free(jws);

    gnutls_pubkey_deinit(pub);
    acme__free_secret(pem);
    free(jwk);
    acme_key_free(key);
}

static void test_jws_es256(void)
{
    check_jws_for(ACME_KEY_EC_P256, GNUTLS_SIGN_ECDSA_SHA256, 32, "ES256");
}

static void test_jws_es384(void)
{
    check_jws_for(ACME_KEY_EC_P384, GNUTLS_SIGN_ECDSA_SHA384, 48, "ES384");
}

static void test_jws_rs256(void)
{
    check_jws_for(ACME_KEY_RSA_2048, GNUTLS_SIGN_RSA_SHA256, 0, "RS256");
}

/* Many ES256 signatures: r or s often has a high bit or a leading zero byte. */
static void test_jws_es256_padding(void)
{
    acme_key *key = load_fixture_key("ec-p256-short-x.pem");
    size_t len;
    char *pem = fixture("ec-p256-short-x.pem", &len);
    gnutls_pubkey_t pub = pubkey_from_pem(pem);

    for (int i = 0; i < 64; i++) {
        char *jws = NULL, *payload = g_strdup_printf("{\"n\":%d}", i);
        jws_parts p;

        g_assert_cmpint(acme__jws_sign(&jws, key, "k", "n", "https://u", payload, NULL), ==,
                        ACME_OK);
        jws_split(jws, &p);
        g_assert_cmpuint(g_bytes_get_size(p.signature), ==, 64);
        g_assert_cmpint(verify_jws(pub, GNUTLS_SIGN_ECDSA_SHA256, 32, p.signing_input,
                                   p.signature), >=, 0);
        jws_parts_clear(&p);
        g_free(payload);
        free(jws);
    }
    gnutls_pubkey_deinit(pub);
    g_free(pem);
    acme_key_free(key);
}

static void test_jws_bad_args(void)
{
    acme_key *key = load_fixture_key("ca-key-p256-sec1.pem");
    char *jws = (char *)0x1;
    acme_error *err = NULL;

    g_assert_cmpint(acme__jws_sign(&jws, NULL, NULL, NULL, "https://u", NULL, &err), ==,
                    ACME_E_INVALID);
    g_assert_null(jws);
    acme_error_free(err);
    err = NULL;
    g_assert_cmpint(acme__jws_sign(&jws, key, NULL, NULL, NULL, NULL, &err), ==, ACME_E_INVALID);
    acme_error_free(err);
    acme_key_free(key);
}

static void check_hmac(const char *alg, GChecksumType ctype, gsize maclen)
{
    static const guchar mac_key[] = "0123456789abcdef0123456789abcdef";
    const char *payload = "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"AAA\",\"y\":\"BBB\"}";
    char *jws = NULL, *header, *h64, *p64, *input, *s64, *expect;
    GHmac *hmac;
    guint8 digest[64];
    gsize n = sizeof(digest);
    acme_error *err = NULL;

    g_assert_cmpint(acme__jws_hmac(&jws, alg, mac_key, 32, "kid-1", "https://ca.test/new-acct",
                                   payload, &err), ==, ACME_OK);
    g_assert_null(err);
    /* Recompute independently. */
    header = g_strdup_printf("{\"alg\":\"%s\",\"kid\":\"kid-1\",\"url\":\"https://ca.test/new-acct\"}",
                             alg);
    h64 = glib_b64url(header, strlen(header));
    p64 = glib_b64url(payload, strlen(payload));
    input = g_strdup_printf("%s.%s", h64, p64);
    hmac = g_hmac_new(ctype, mac_key, 32);
    g_hmac_update(hmac, (const guchar *)input, -1);
    g_hmac_get_digest(hmac, digest, &n);
    g_assert_cmpuint(n, ==, maclen);
    s64 = glib_b64url(digest, n);
    expect = g_strdup_printf("{\"protected\":\"%s\",\"payload\":\"%s\",\"signature\":\"%s\"}", h64,
                             p64, s64);
    g_assert_cmpstr(jws, ==, expect);
    g_hmac_unref(hmac);
    g_free(header);
    g_free(h64);
    g_free(p64);
    g_free(input);
    g_free(s64);
    g_free(expect);
    free(jws);
}

static void test_jws_hmac(void)
{
    char *jws = NULL;
    acme_error *err = NULL;

    check_hmac("HS256", G_CHECKSUM_SHA256, 32);
    check_hmac("HS384", G_CHECKSUM_SHA384, 48);
    check_hmac("HS512", G_CHECKSUM_SHA512, 64);
    g_assert_cmpint(acme__jws_hmac(&jws, "HS1", (const guchar *)"k", 1, "kid", "https://u", "{}",
                                   &err), ==, ACME_E_INVALID);
    g_assert_null(jws);
    acme_error_free(err);
    err = NULL;
    g_assert_cmpint(acme__jws_hmac(&jws, "HS256", (const guchar *)"k", 0, "kid", "https://u",
                                   "{}", &err), ==, ACME_E_INVALID);
    acme_error_free(err);
}

/* GnuTLS and GLib agree on HMAC-SHA-256 (the reference the EAB test relies on). */
static void test_hmac_primitive(void)
{
    guint8 a[32], b[32];
    gsize n = sizeof(b);
    GHmac *h = g_hmac_new(G_CHECKSUM_SHA256, (const guchar *)"key", 3);

    g_assert_cmpint(gnutls_hmac_fast(GNUTLS_MAC_SHA256, "key", 3, "msg", 3, a), ==, 0);
    g_hmac_update(h, (const guchar *)"msg", 3);
    g_hmac_get_digest(h, b, &n);
    g_assert_cmpmem(a, 32, b, n);
    g_hmac_unref(h);
}

/* ------------------------------------------------------------------ */
/* CSR                                                                 */
/* ------------------------------------------------------------------ */

static gnutls_x509_crq_t crq_from_b64url(const char *b64)
{
    GBytes *der = glib_b64url_decode(b64);
    gsize n;
    gnutls_datum_t d;
    gnutls_x509_crq_t crq;

    d.data = (unsigned char *)g_bytes_get_data(der, &n);
    d.size = (unsigned int)n;
    g_assert_cmpint(gnutls_x509_crq_init(&crq), ==, 0);
    g_assert_cmpint(gnutls_x509_crq_import(crq, &d, GNUTLS_X509_FMT_DER), ==, 0);
    g_bytes_unref(der);
    return crq;
}

/* The SANs of a CSR as "DNS:x" / "IP:y" strings, joined with ",". */
static char *crq_sans(gnutls_x509_crq_t crq)
{
    GString *s = g_string_new(NULL);

    for (unsigned int i = 0;; i++) {
        char buf[512];
        size_t size = sizeof(buf) - 1;
        unsigned int type = 0;
        int ret = gnutls_x509_crq_get_subject_alt_name(crq, i, buf, &size, &type, NULL);

        if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
            break;
        g_assert_cmpint(ret, >=, 0);
        if (s->len)
            g_string_append_c(s, ',');
        if (type == GNUTLS_SAN_DNSNAME) {
            buf[size] = '\0';
            g_string_append_printf(s, "DNS:%s", buf);
        } else if (type == GNUTLS_SAN_IPADDRESS) {
            char text[64];

            g_assert_nonnull(inet_ntop(size == 4 ? AF_INET : AF_INET6, buf, text, sizeof(text)));
            g_string_append_printf(s, "IP:%s", text);
        } else {
            g_string_append(s, "OTHER");
        }
    }
    return g_string_free(s, FALSE);
}

static char *crq_cn(gnutls_x509_crq_t crq)
{
    char buf[256];
    size_t size = sizeof(buf);
    int ret = gnutls_x509_crq_get_dn_by_oid(crq, GNUTLS_OID_X520_COMMON_NAME, 0, 0, buf, &size);

    if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
        return NULL;
    g_assert_cmpint(ret, ==, 0);
    return g_strndup(buf, size);
}

static void test_csr(void)
{
    static const char *const names[] = { "www.example.com", "192.0.2.7", "2001:db8::7",
                                         "*.example.com" };
    acme_key *keys[2] = { load_fixture_key("ca-key-p256-sec1.pem"),
                          load_fixture_key("leaf-key-p384-sec1.pem") };

    for (size_t k = 0; k < G_N_ELEMENTS(keys); k++) {
        char *csr = NULL, *sans, *cn;
        gnutls_x509_crq_t crq;
        gnutls_pubkey_t pub;
        gnutls_datum_t a, b;
        char *pem;

        g_assert_cmpint(acme_csr_new(&csr, keys[k], names, G_N_ELEMENTS(names), NULL), ==,
                        ACME_OK);
        g_assert_null(strpbrk(csr, "=+/\n"));
        crq = crq_from_b64url(csr);
        g_assert_cmpint(gnutls_x509_crq_verify(crq, 0), ==, 0);
        g_assert_cmpint(gnutls_x509_crq_get_signature_algorithm(crq), ==,
                        k == 0 ? GNUTLS_SIGN_ECDSA_SHA256 : GNUTLS_SIGN_ECDSA_SHA256);
        sans = crq_sans(crq);
        g_assert_cmpstr(sans, ==,
                        "DNS:www.example.com,IP:192.0.2.7,IP:2001:db8::7,DNS:*.example.com");
        cn = crq_cn(crq);
        g_assert_cmpstr(cn, ==, "www.example.com");
        /* The CSR carries the key's public key. */
        g_assert_cmpint(gnutls_pubkey_init(&pub), ==, 0);
        g_assert_cmpint(gnutls_pubkey_import_x509_crq(pub, crq, 0), ==, 0);
        g_assert_cmpint(gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &a), ==, 0);
        g_assert_cmpint(gnutls_pubkey_export2(keys[k]->pub, GNUTLS_X509_FMT_DER, &b), ==, 0);
        g_assert_cmpmem(a.data, a.size, b.data, b.size);
        gnutls_free(a.data);
        gnutls_free(b.data);
        gnutls_pubkey_deinit(pub);
        gnutls_x509_crq_deinit(crq);
        g_free(sans);
        g_free(cn);

        /* PEM form. */
        g_assert_cmpint(acme_csr_new_pem(&pem, keys[k], names, 1, NULL), ==, ACME_OK);
        g_assert_true(g_str_has_prefix(pem, "-----BEGIN CERTIFICATE REQUEST-----\n"));
        g_assert_true(g_str_has_suffix(pem, "-----END CERTIFICATE REQUEST-----\n"));
        {
            gnutls_datum_t d = { (unsigned char *)pem, (unsigned int)strlen(pem) };

            g_assert_cmpint(gnutls_x509_crq_init(&crq), ==, 0);
            g_assert_cmpint(gnutls_x509_crq_import(crq, &d, GNUTLS_X509_FMT_PEM), ==, 0);
            sans = crq_sans(crq);
            g_assert_cmpstr(sans, ==, "DNS:www.example.com");
            g_free(sans);
            gnutls_x509_crq_deinit(crq);
        }
        free(pem);
        free(csr);
    }
    acme_key_free(keys[0]);
    acme_key_free(keys[1]);
}

static void test_csr_long_cn(void)
{
    char long_name[80];
    const char *names[2];
    acme_key *key = load_fixture_key("ca-key-p256-sec1.pem");
    char *csr = NULL, *cn, *sans, *expect;
    gnutls_x509_crq_t crq;

    /* 70 characters: 62 x "a" + ".example" */
    memset(long_name, 'a', 62);
    strcpy(long_name + 62, ".example");
    g_assert_cmpuint(strlen(long_name), ==, 70);
    names[0] = long_name;
    names[1] = "short.example";
    g_assert_cmpint(acme_csr_new(&csr, key, names, 2, NULL), ==, ACME_OK);
    crq = crq_from_b64url(csr);
    cn = crq_cn(crq);
    g_assert_null(cn);
    sans = crq_sans(crq);
    expect = g_strdup_printf("DNS:%s,DNS:short.example", long_name);
    g_assert_cmpstr(sans, ==, expect);
    g_free(expect);
    g_free(sans);
    gnutls_x509_crq_deinit(crq);
    free(csr);

    /* Exactly 64 characters still fits. */
    long_name[64] = '\0';
    long_name[63] = 'x';
    g_assert_cmpint(acme_csr_new(&csr, key, names, 1, NULL), ==, ACME_OK);
    crq = crq_from_b64url(csr);
    cn = crq_cn(crq);
    g_assert_cmpstr(cn, ==, long_name);
    g_free(cn);
    gnutls_x509_crq_deinit(crq);
    free(csr);
    acme_key_free(key);
}

static void test_csr_refused(void)
{
    acme_key *key = load_fixture_key("ca-key-p256-sec1.pem");
    static const char *const empty_name[] = { "a.example", "" };
    static const char *const null_name[] = { NULL };
    static const char *const spaced[] = { "a example" };
    char *csr = (char *)0x1;
    acme_error *err = NULL;

    g_assert_cmpint(acme_csr_new(&csr, key, NULL, 0, &err), ==, ACME_E_INVALID);
    g_assert_null(csr);
    g_assert_nonnull(err);
    acme_error_free(err);
    err = NULL;
    g_assert_cmpint(acme_csr_new(&csr, key, empty_name, 0, NULL), ==, ACME_E_INVALID);
    g_assert_cmpint(acme_csr_new(&csr, key, empty_name, 2, &err), ==, ACME_E_INVALID);
    acme_error_free(err);
    g_assert_cmpint(acme_csr_new(&csr, key, null_name, 1, NULL), ==, ACME_E_INVALID);
    g_assert_cmpint(acme_csr_new(&csr, key, spaced, 1, NULL), ==, ACME_E_INVALID);
    g_assert_cmpint(acme_csr_new_pem(&csr, key, empty_name, 2, NULL), ==, ACME_E_INVALID);
    g_assert_cmpint(acme_csr_new(&csr, NULL, empty_name, 1, NULL), ==, ACME_E_INVALID);
    acme_key_free(key);
}

/* ------------------------------------------------------------------ */
/* Certificates                                                         */
/* ------------------------------------------------------------------ */

static time_t utc(int y, int mo, int d, int h, int mi, int s)
{
    GDateTime *dt = g_date_time_new_utc(y, mo, d, h, mi, s);
    time_t t = (time_t)g_date_time_to_unix(dt);

    g_date_time_unref(dt);
    return t;
}

/* The text of PEM block @p i of @p text (certtool writes one per file). */
static char *nth_block(const char *text, int i)
{
    const char *p = text;

    for (int k = 0; k < i; k++) {
        p = strstr(p, "-----END CERTIFICATE-----\n");
        g_assert_nonnull(p);
        p += strlen("-----END CERTIFICATE-----\n");
    }
    {
        const char *end = strstr(p, "-----END CERTIFICATE-----\n");

        g_assert_nonnull(end);
        return g_strndup(p, (gsize)(end - p) + strlen("-----END CERTIFICATE-----\n"));
    }
}

static void test_chain_parse(void)
{
    size_t len, n;
    char *text = fixture("chain.pem", &len);
    acme_chain *chain = NULL;
    acme_error *err = NULL;
    const acme_cert *leaf, *inter, *root;
    const char *const *sans;

    g_assert_cmpint(acme_chain_parse(&chain, text, len, &err), ==, ACME_OK);
    g_assert_null(err);
    g_assert_cmpuint(acme_chain_count(chain), ==, 3);
    leaf = acme_chain_get(chain, 0);
    inter = acme_chain_get(chain, 1);
    root = acme_chain_get(chain, 2);
    g_assert_null(acme_chain_get(chain, 3));
    g_assert_nonnull(leaf);

    g_assert_cmpstr(acme_cert_subject(leaf), ==, "CN=www.example.com");
    g_assert_cmpstr(acme_cert_issuer(leaf), ==, "CN=Test Intermediate R1,O=libacme tests,C=US");
    g_assert_cmpstr(acme_cert_issuer_cn(leaf), ==, "Test Intermediate R1");
    g_assert_cmpstr(acme_cert_serial(leaf), ==, "8a1b2c3d4e5f60718293a4b5c6d7e8f9");
    g_assert_cmpint(acme_cert_not_before(leaf), ==, utc(2026, 1, 2, 3, 4, 5));
    g_assert_cmpint(acme_cert_not_after(leaf), ==, utc(2026, 4, 2, 3, 4, 5));
    sans = acme_cert_sans(leaf, &n);
    g_assert_cmpuint(n, ==, 4);
    g_assert_cmpstr(sans[0], ==, "www.example.com");
    g_assert_cmpstr(sans[1], ==, "example.com");
    g_assert_cmpstr(sans[2], ==, "192.0.2.1");
    g_assert_cmpstr(sans[3], ==, "2001:db8::1");

    g_assert_cmpstr(acme_cert_subject(inter), ==, "CN=Test Intermediate R1,O=libacme tests,C=US");
    g_assert_cmpstr(acme_cert_issuer_cn(inter), ==, "Test Root CA");
    g_assert_cmpstr(acme_cert_serial(inter), ==, "02");
    g_assert_cmpstr(acme_cert_issuer(root), ==, "CN=Test Root CA,O=libacme tests,C=US");
    g_assert_cmpstr(acme_cert_serial(root), ==, "01");
    g_assert_cmpint(acme_cert_not_after(root), ==, utc(2045, 1, 1, 0, 0, 0));
    sans = acme_cert_sans(root, &n);
    g_assert_cmpuint(n, ==, 0);
    g_assert_nonnull(sans);

    /* Each certificate's own PEM. */
    for (int i = 0; i < 3; i++) {
        char *block = nth_block(text, i);

        g_assert_cmpstr(acme_cert_pem(acme_chain_get(chain, (size_t)i)), ==, block);
        g_free(block);
    }
    acme_chain_free(chain);
    g_free(text);
}

static void test_chain_split(void)
{
    size_t len;
    char *text = fixture("chain.pem", &len);
    char *leaf = NULL, *rest = NULL, *b0 = nth_block(text, 0), *rest_expect;
    acme_chain *chain = NULL, *one = NULL;

    g_assert_cmpint(acme_chain_parse(&chain, text, len, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_chain_split(&leaf, &rest, chain, NULL), ==, ACME_OK);
    g_assert_cmpstr(leaf, ==, b0);
    rest_expect = g_strdup(text + strlen(b0));
    g_assert_cmpstr(rest, ==, rest_expect);
    free(leaf);
    free(rest);

    /* A single certificate: empty rest. */
    g_assert_cmpint(acme_chain_parse(&one, b0, strlen(b0), NULL), ==, ACME_OK);
    g_assert_cmpuint(acme_chain_count(one), ==, 1);
    g_assert_cmpint(acme_chain_split(&leaf, &rest, one, NULL), ==, ACME_OK);
    g_assert_cmpstr(leaf, ==, b0);
    g_assert_cmpstr(rest, ==, "");
    free(leaf);
    free(rest);

    g_assert_cmpint(acme_chain_split(&leaf, &rest, NULL, NULL), ==, ACME_E_INVALID);
    g_assert_null(leaf);
    g_assert_null(rest);

    acme_chain_free(one);
    acme_chain_free(chain);
    g_free(rest_expect);
    g_free(b0);
    g_free(text);
}

static void test_chain_skips_keys_and_crlf(void)
{
    size_t n1, n2;
    char *key = fixture("ca-key-p256-sec1.pem", &n1), *text = fixture("chain.pem", &n2);
    char *mixed = g_strconcat("leading text\n", key, text, key, NULL);
    GString *crlf = g_string_new(NULL);
    acme_chain *chain = NULL;

    g_assert_cmpint(acme_chain_parse(&chain, mixed, strlen(mixed), NULL), ==, ACME_OK);
    g_assert_cmpuint(acme_chain_count(chain), ==, 3);
    acme_chain_free(chain);
    chain = NULL;
    for (const char *p = text; *p; p++) {
        if (*p == '\n')
            g_string_append_c(crlf, '\r');
        g_string_append_c(crlf, *p);
    }
    g_assert_cmpint(acme_chain_parse(&chain, crlf->str, crlf->len, NULL), ==, ACME_OK);
    g_assert_cmpuint(acme_chain_count(chain), ==, 3);
    g_assert_cmpstr(acme_cert_serial(acme_chain_get(chain, 0)), ==,
                    "8a1b2c3d4e5f60718293a4b5c6d7e8f9");
    acme_chain_free(chain);
    g_string_free(crlf, TRUE);
    g_free(mixed);
    g_free(key);
    g_free(text);
}

static void test_chain_bad(void)
{
    static const char *const bad[] = {
        "",
        "not a certificate",
        "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
        "-----BEGIN CERTIFICATE-----\nAAAAAAAA\n-----END CERTIFICATE-----\n",
        "-----BEGIN CERTIFICATE-----\nMIIBQzCB66ADAgECAgUAh2VDITAKBggqhkjOPQQDAjAVMRMwEQYDVQQDEwpFeGFt\n",
    };
    size_t len;
    char *key = fixture("ca-key-p256-sec1.pem", &len);

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        acme_chain *chain = (acme_chain *)0x1;
        acme_error *err = NULL;

        g_assert_cmpint(acme_chain_parse(&chain, bad[i], strlen(bad[i]), &err), ==,
                        ACME_E_INVALID);
        g_assert_null(chain);
        g_assert_nonnull(err);
        acme_error_free(err);
    }
    {
        acme_chain *chain = NULL;

        g_assert_cmpint(acme_chain_parse(&chain, key, len, NULL), ==, ACME_E_INVALID);
        g_assert_cmpint(acme_chain_parse(&chain, NULL, 0, NULL), ==, ACME_E_INVALID);
    }
    /* A good certificate followed by a damaged one: the whole parse fails. */
    {
        char *text = fixture("chain.pem", &len);
        char *both = g_strconcat(text, bad[3], NULL);
        acme_chain *chain = NULL;

        g_assert_cmpint(acme_chain_parse(&chain, both, strlen(both), NULL), ==, ACME_E_INVALID);
        g_assert_null(chain);
        g_free(both);
        g_free(text);
    }
    g_free(key);
}

static void test_cert_check_key(void)
{
    size_t len;
    char *text = fixture("chain.pem", &len);
    acme_chain *chain = NULL;
    acme_key *leaf_key = load_fixture_key("leaf-key-p384-sec1.pem");
    acme_key *int_key = load_fixture_key("int-key-rsa2048-trad.pem");
    acme_key *other = load_fixture_key("ca-key-p256-sec1.pem");
    acme_error *err = NULL;

    g_assert_cmpint(acme_chain_parse(&chain, text, len, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_cert_check_key(acme_chain_get(chain, 0), leaf_key, &err), ==, ACME_OK);
    g_assert_null(err);
    g_assert_cmpint(acme_cert_check_key(acme_chain_get(chain, 1), int_key, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_cert_check_key(acme_chain_get(chain, 2), other, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_cert_check_key(acme_chain_get(chain, 0), other, &err), ==,
                    ACME_E_INVALID);
    g_assert_nonnull(err);
    g_assert_nonnull(strstr(acme_error_message(err), "does not match"));
    acme_error_free(err);
    g_assert_cmpint(acme_cert_check_key(acme_chain_get(chain, 1), leaf_key, NULL), ==,
                    ACME_E_INVALID);
    acme_key_free(leaf_key);
    acme_key_free(int_key);
    acme_key_free(other);
    acme_chain_free(chain);
    g_free(text);
}

static void test_cert_ari_id(void)
{
    size_t len;
    char *text = fixture("rfc9773-example.pem", &len);
    acme_chain *chain = NULL;
    char *id = NULL;

    /* RFC 9773 Appendix A. */
    g_assert_cmpint(acme_chain_parse(&chain, text, len, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_cert_ari_id(&id, acme_chain_get(chain, 0), NULL), ==, ACME_OK);
    g_assert_cmpstr(id, ==, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
    g_assert_cmpstr(acme_cert_serial(acme_chain_get(chain, 0)), ==, "87654321");
    g_assert_cmpstr(acme_cert_issuer_cn(acme_chain_get(chain, 0)), ==, "Example CA");
    free(id);
    acme_chain_free(chain);
    g_free(text);

    /* Our fixture leaf: AKI and serial from certtool -i, encoded by hand. */
    text = fixture("chain.pem", &len);
    g_assert_cmpint(acme_chain_parse(&chain, text, len, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_cert_ari_id(&id, acme_chain_get(chain, 0), NULL), ==, ACME_OK);
    g_assert_cmpstr(id, ==, "ul0srEmeWtWuOklvqDhexfUINec.AIobLD1OX2BxgpOktcbX6Pk");
    free(id);
    acme_chain_free(chain);
    g_free(text);
}

/* ------------------------------------------------------------------ */
/* Challenges                                                           */
/* ------------------------------------------------------------------ */

static void test_key_authorization(void)
{
    acme_key *key = load_fixture_key("ec-p256-short-x.pem");
    static const char *const bad[] = { "", "abc=", "a/b", "a b", "a.b", "tok\n" };
    char *ka = NULL;
    acme_error *err = NULL;

    g_assert_cmpint(acme_key_authorization(&ka, key, TOKEN, &err), ==, ACME_OK);
    g_assert_cmpstr(ka, ==, TOKEN ".-Ff8wI5-kvPyrcHbIPyPaEAYtDkaegZelZ2CkaEqswQ");
    free(ka);
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        ka = (char *)0x1;
        g_assert_cmpint(acme_key_authorization(&ka, key, bad[i], &err), ==, ACME_E_INVALID);
        g_assert_null(ka);
        acme_error_free(err);
        err = NULL;
    }
    g_assert_cmpint(acme_key_authorization(&ka, key, NULL, NULL), ==, ACME_E_INVALID);
    g_assert_cmpint(acme_key_authorization(&ka, NULL, TOKEN, NULL), ==, ACME_E_INVALID);
    acme_key_free(key);
}

static void test_dns01(void)
{
    const char *ka = TOKEN ".-Ff8wI5-kvPyrcHbIPyPaEAYtDkaegZelZ2CkaEqswQ";
    guint8 digest[32];
    char *expect, *value = NULL;

    glib_sha256(ka, strlen(ka), digest);
    expect = glib_b64url(digest, 32);
    g_assert_cmpint(acme_dns01_txt_value(&value, ka, NULL), ==, ACME_OK);
    g_assert_cmpstr(value, ==, expect);
    g_assert_cmpuint(strlen(value), ==, 43);
    free(value);
    g_free(expect);
    g_assert_cmpint(acme_dns01_txt_value(&value, "", NULL), ==, ACME_E_INVALID);
    g_assert_cmpint(acme_dns01_txt_value(&value, NULL, NULL), ==, ACME_E_INVALID);
}

static void check_tlsalpn(const char *name, bool ip)
{
    const char *ka = TOKEN ".-Ff8wI5-kvPyrcHbIPyPaEAYtDkaegZelZ2CkaEqswQ";
    char *cert_pem = NULL, *key_pem = NULL;
    gnutls_x509_crt_t crt;
    gnutls_datum_t d, ext = { NULL, 0 };
    unsigned int critical = 0, status = 99;
    guint8 expect[34];
    char san[256];
    size_t size = sizeof(san) - 1;
    time_t now = time(NULL), nb, na;
    acme_chain *chain = NULL;
    acme_key *key = NULL;
    char *id = NULL;
    acme_error *err = NULL;
    int type;

    g_assert_cmpint(acme_tlsalpn01_cert(&cert_pem, &key_pem, name, ka, &err), ==, ACME_OK);
    g_assert_null(err);
    d.data = (unsigned char *)cert_pem;
    d.size = (unsigned int)strlen(cert_pem);
    g_assert_cmpint(gnutls_x509_crt_init(&crt), ==, 0);
    g_assert_cmpint(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM), ==, 0);

    /* SAN: exactly the name. */
    type = gnutls_x509_crt_get_subject_alt_name(crt, 0, san, &size, NULL);
    if (ip) {
        char text[64];

        g_assert_cmpint(type, ==, GNUTLS_SAN_IPADDRESS);
        g_assert_nonnull(inet_ntop(size == 4 ? AF_INET : AF_INET6, san, text, sizeof(text)));
        g_assert_cmpstr(text, ==, name);
    } else {
        g_assert_cmpint(type, ==, GNUTLS_SAN_DNSNAME);
        san[size] = '\0';
        g_assert_cmpstr(san, ==, name);
    }
    size = sizeof(san);
    g_assert_cmpint(gnutls_x509_crt_get_subject_alt_name(crt, 1, san, &size, NULL), ==,
                    GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE);

    /* id-pe-acmeIdentifier: critical, OCTET STRING (04 20) of SHA-256(key authorization). */
    g_assert_cmpint(gnutls_x509_crt_get_extension_by_oid2(crt, "1.3.6.1.5.5.7.1.31", 0, &ext,
                                                          &critical), ==, 0);
    g_assert_cmpuint(critical, ==, 1);
    expect[0] = 0x04;
    expect[1] = 0x20;
    glib_sha256(ka, strlen(ka), expect + 2);
    g_assert_cmpmem(ext.data, ext.size, expect, sizeof(expect));
    gnutls_free(ext.data);

    /* Self-signed, short-lived, valid now. */
    g_assert_cmpint(gnutls_x509_crt_verify(crt, &crt, 1, 0, &status), ==, 0);
    g_assert_cmpuint(status, ==, 0);
    nb = gnutls_x509_crt_get_activation_time(crt);
    na = gnutls_x509_crt_get_expiration_time(crt);
    g_assert_cmpint(nb, <=, now);
    g_assert_cmpint(na, >, now);
    g_assert_cmpint(na - nb, <=, 8 * 24 * 3600);
    gnutls_x509_crt_deinit(crt);

    /* The key matches the certificate; it is P-256.  No AKI: no ARI id. */
    g_assert_cmpint(acme_key_load_pem(&key, key_pem, strlen(key_pem), NULL), ==, ACME_OK);
    g_assert_cmpint(acme_key_get_type(key), ==, ACME_KEY_EC_P256);
    g_assert_cmpint(acme_chain_parse(&chain, cert_pem, strlen(cert_pem), NULL), ==, ACME_OK);
    g_assert_cmpint(acme_cert_check_key(acme_chain_get(chain, 0), key, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_cert_ari_id(&id, acme_chain_get(chain, 0), &err), ==, ACME_E_INVALID);
    g_assert_null(id);
    acme_error_free(err);

    acme_chain_free(chain);
    acme_key_free(key);
    acme__free_secret(key_pem);
    free(cert_pem);
}

static void test_tlsalpn01(void)
{
    char *c = NULL, *k = NULL;
    acme_error *err = NULL;

    check_tlsalpn("www.example.org", false);
    check_tlsalpn("192.0.2.5", true);
    check_tlsalpn("2001:db8::5", true);
    g_assert_cmpint(acme_tlsalpn01_cert(&c, &k, "", "a.b", &err), ==, ACME_E_INVALID);
    g_assert_null(c);
    g_assert_null(k);
    acme_error_free(err);
    g_assert_cmpint(acme_tlsalpn01_cert(&c, &k, "a.example", "", NULL), ==, ACME_E_INVALID);
    g_assert_cmpint(acme_tlsalpn01_cert(&c, &k, NULL, "a.b", NULL), ==, ACME_E_INVALID);
}

/* ------------------------------------------------------------------ */
/* Threads: one key shared by several signers                          */
/* ------------------------------------------------------------------ */

static gpointer sign_thread(gpointer data)
{
    acme_key *key = data;

    for (int i = 0; i < 50; i++) {
        char *jws = NULL;
        acme_key *ref = acme__key_ref(key);

        if (acme__jws_sign(&jws, ref, "k", "n", "https://u", "{}", NULL) != ACME_OK)
            return GINT_TO_POINTER(1);
        free(jws);
        acme_key_free(ref);
    }
    return NULL;
}

static void test_threads(void)
{
    acme_key *key = load_fixture_key("ca-key-p256-sec1.pem");
    GThread *t[4];

    for (size_t i = 0; i < G_N_ELEMENTS(t); i++)
        t[i] = g_thread_new("signer", sign_thread, key);
    for (size_t i = 0; i < G_N_ELEMENTS(t); i++)
        g_assert_null(g_thread_join(t[i]));
    acme_key_free(key);
}

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    g_assert_cmpint(acme__crypto_global_init(), ==, ACME_OK);

    g_test_add_func("/crypto/sha256-random", test_sha256_random);
    g_test_add_func("/crypto/key/generate-ec", test_key_generate_ec);
    g_test_add_func("/crypto/key/generate-rsa", test_key_generate_rsa);
    g_test_add_func("/crypto/key/generate-bad-type", test_key_generate_bad_type);
    g_test_add_func("/crypto/key/refcount", test_key_refcount);
    g_test_add_func("/crypto/key/load-fixtures", test_key_load_fixtures);
    g_test_add_func("/crypto/key/load-skips-certificates", test_key_load_skips_certificates);
    g_test_add_func("/crypto/key/load-unsupported", test_key_load_unsupported);
    g_test_add_func("/crypto/key/load-garbage", test_key_load_garbage);
    g_test_add_func("/crypto/jwk/rfc7638-thumbprint", test_rfc7638_thumbprint);
    g_test_add_func("/crypto/jwk/known-keys", test_jwk_known_keys);
    g_test_add_func("/crypto/jwk/generated-shape", test_jwk_generated_shape);
    g_test_add_func("/crypto/jws/es256", test_jws_es256);
    g_test_add_func("/crypto/jws/es384", test_jws_es384);
    g_test_add_func("/crypto/jws/rs256", test_jws_rs256);
    g_test_add_func("/crypto/jws/es256-padding", test_jws_es256_padding);
    g_test_add_func("/crypto/jws/bad-args", test_jws_bad_args);
    g_test_add_func("/crypto/jws/hmac", test_jws_hmac);
    g_test_add_func("/crypto/jws/hmac-primitive", test_hmac_primitive);
    g_test_add_func("/crypto/csr/names", test_csr);
    g_test_add_func("/crypto/csr/long-cn", test_csr_long_cn);
    g_test_add_func("/crypto/csr/refused", test_csr_refused);
    g_test_add_func("/crypto/cert/parse", test_chain_parse);
    g_test_add_func("/crypto/cert/split", test_chain_split);
    g_test_add_func("/crypto/cert/skips-keys-crlf", test_chain_skips_keys_and_crlf);
    g_test_add_func("/crypto/cert/bad", test_chain_bad);
    g_test_add_func("/crypto/cert/check-key", test_cert_check_key);
    g_test_add_func("/crypto/cert/ari-id", test_cert_ari_id);
    g_test_add_func("/crypto/challenge/key-authorization", test_key_authorization);
    g_test_add_func("/crypto/challenge/dns01", test_dns01);
    g_test_add_func("/crypto/challenge/tlsalpn01", test_tlsalpn01);
    g_test_add_func("/crypto/threads", test_threads);

    rc = g_test_run();
    acme__crypto_global_cleanup();
    return rc;
}
