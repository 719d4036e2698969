/*
 * Unit tests: stores (server names, bundles, memory store, directory
 * store: layout, atomic writes, failed writes, account key).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include <acme/acme.h>
#include <acme/sys/error.h>
#include <acme/sys/store.h>

#include "stores/store.h"
#include "store-certs.h"

#define NAME "shop.example.com"
static const char *const SANS[] = { NAME, "www.example.com", NULL };

/* Material made once per run: RSA keys are slow to generate. */
static tchain ec_chain;   /* EC leaf for NAME and www.example.com, signed by a CA */
static tchain rsa_chain;  /* RSA leaf, same names */
static tcert other;       /* an unrelated self-signed certificate and key */

static void assert_error(acme_error *e, int code, const char *fragment)
{
    g_assert_nonnull(e);
    g_assert_cmpint(acme_error_code_get(e), ==, code);
    if (fragment && !strstr(acme_error_message(e), fragment))
        g_error("message \"%s\" lacks \"%s\"", acme_error_message(e), fragment);
}

static char *concat(const char *a, const char *b, const char *c)
{
    return g_strconcat(a, b ? b : "", c ? c : "", NULL);
}

/* ------------------------------------------------------------------ */
/* Names                                                               */
/* ------------------------------------------------------------------ */

typedef struct {
    const char *name;
    bool ok;
    const char *why; /* a fragment of the message */
} name_case;

static const name_case name_cases[] = {
    { "example.com", true, NULL },
    { "a.b-c.example", true, NULL },
    { "localhost", true, NULL },
    { "xn--bcher-kva.example", true, NULL },
    { "192.0.2.1", true, NULL },
    { "2001:db8::1", true, NULL },
    { "", false, "empty" },
    { "..", false, "empty label" },
    { "../etc/passwd", false, "empty label" },
    { "a/b.example", false, "not a letter" },
    { "a\\b.example", false, "not a letter" },
    { "example.com.", false, "ends with a dot" },
    { ".example.com", false, "empty label" },
    { "a..example", false, "empty label" },
    { "Example.com", false, "uppercase" },
    { "EXAMPLE.COM", false, "uppercase" },
    { "-a.example", false, "hyphen" },
    { "a-.example", false, "hyphen" },
    { "ab--cd.example", false, "A-label" },
    { "*.example.com", false, "wildcard" },
    { "b\xc3\xbc" "cher.example", false, "not ASCII" },
    { "a b.example", false, "not a letter" },
    { "a_b.example", false, "not a letter" },
    { "2001:DB8::1", false, "canonical" },
    { "2001:db8:0:0::1", false, "canonical" },
    { "::g", false, "neither" },
    { "client.key/..", false, "not a letter" },
};

static void test_name_case(gconstpointer data)
{
    const name_case *c = data;
    acme_error *e = NULL;
    int rc = acme_name_validate(c->name, &e);

    if (c->ok) {
        g_assert_cmpint(rc, ==, ACME_OK);
        g_assert_null(e);
    } else {
        g_assert_cmpint(rc, ==, ACME_E_INVALID);
        assert_error(e, ACME_E_INVALID, c->why);
        acme_error_free(e);
    }
}

static void test_name_limits(void)
{
    GString *s = g_string_new(NULL);
    acme_error *e = NULL;

    /* 63 characters is the longest label; 64 is refused. */
    g_string_append(s, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example");
    g_assert_cmpint(acme_name_validate(s->str, NULL), ==, ACME_OK);
    g_string_prepend_c(s, 'a');
    g_assert_cmpint(acme_name_validate(s->str, &e), ==, ACME_E_INVALID);
    assert_error(e, ACME_E_INVALID, "longer than 63");
    acme_error_free(e);
    e = NULL;

    /* 253 characters in all is the longest name. */
    g_string_truncate(s, 0);
    while (s->len < 253)
        g_string_append(s, "abcdefghi.");
    g_string_truncate(s, 253);
    g_assert_cmpint(acme_name_validate(s->str, NULL), ==, ACME_OK);
    g_string_append_c(s, 'x');
    g_assert_cmpint(acme_name_validate(s->str, &e), ==, ACME_E_INVALID);
    assert_error(e, ACME_E_INVALID, "longer than 253");
    acme_error_free(e);
    g_string_free(s, TRUE);
    g_assert_cmpint(acme_name_validate(NULL, NULL), ==, ACME_E_INVALID);
}

static void test_name_normalize(void)
{
    char *s = NULL;
    acme_error *e = NULL;

    g_assert_cmpint(acme_name_normalize(&s, "WWW.Example.COM.", NULL), ==, ACME_OK);
    g_assert_cmpstr(s, ==, "www.example.com");
    acme_free(s);
    g_assert_cmpint(acme_name_normalize(&s, "2001:DB8:0:0::1", NULL), ==, ACME_OK);
    g_assert_cmpstr(s, ==, "2001:db8::1");
    acme_free(s);
    /* U-labels become A-labels (RFC 3492's punycode), case folded. */
    g_assert_cmpint(acme_name_normalize(&s, "b\xc3\xbc" "cher.example", NULL), ==, ACME_OK);
    g_assert_cmpstr(s, ==, "xn--bcher-kva.example");
    acme_free(s);
    g_assert_cmpint(acme_name_normalize(&s, "B\xc3\x9c" "CHER.Example.", NULL), ==, ACME_OK);
    g_assert_cmpstr(s, ==, "xn--bcher-kva.example");
    acme_free(s);
    g_assert_cmpint(acme_name_normalize(&s, "\xe4\xbe\x8b\xe3\x81\x88.\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88", NULL), ==, ACME_OK);
    g_assert_cmpstr(s, ==, "xn--r8jz45g.xn--zckzah"); /* 例え.テスト */
    acme_free(s);
    /* Not UTF-8; a character IDNA2008 disallows (U+2603 SNOWMAN). */
    g_assert_cmpint(acme_name_normalize(&s, "b\xfc" "cher.example", &e), ==, ACME_E_INVALID);
    g_assert_null(s);
    assert_error(e, ACME_E_INVALID, "internationalised");
    acme_error_free(e);
    e = NULL;
    g_assert_cmpint(acme_name_normalize(&s, "snow\xe2\x98\x83.example", &e), ==, ACME_E_INVALID);
    g_assert_null(s);
    acme_error_free(e);
    e = NULL;
    g_assert_cmpint(acme_name_normalize(&s, "../x", &e), ==, ACME_E_INVALID);
    g_assert_null(s);
    acme_error_free(e);
}

static void test_name_covered(void)
{
    const char *sans[] = { "Example.com", "*.shop.example" };

    g_assert_true(acme__name_covered("example.com", sans, 2));
    g_assert_true(acme__name_covered("a.shop.example", sans, 2));
    g_assert_false(acme__name_covered("shop.example", sans, 2));
    g_assert_false(acme__name_covered("a.b.shop.example", sans, 2));
    g_assert_false(acme__name_covered("www.example.com", sans, 2));
}

/* ------------------------------------------------------------------ */
/* Bundles                                                             */
/* ------------------------------------------------------------------ */

static acme_bundle *parse_ok(const char *pem)
{
    acme_bundle *b = NULL;
    acme_error *e = NULL;

    if (acme_bundle_from_pem(&b, pem, strlen(pem), &e) < 0)
        g_error("acme_bundle_from_pem: %s", acme_error_message(e));
    g_assert_null(e);
    return b;
}

static void parse_fails(const char *pem, int code, const char *why)
{
    acme_bundle *b = NULL;
    acme_error *e = NULL;

    g_assert_cmpint(acme_bundle_from_pem(&b, pem, strlen(pem), &e), ==, code);
    g_assert_null(b);
    assert_error(e, code, why);
    acme_error_free(e);
}

static void check_bundle(const acme_bundle *b, const tchain *c)
{
    const char *const *names;
    size_t n;

    g_assert_false(acme_bundle_wants_issue(b));
    g_assert_nonnull(acme_bundle_key(b));
    g_assert_cmpuint(acme_chain_count(acme_bundle_chain(b)), ==, 2);
    g_assert_cmpstr(acme_cert_pem(acme_bundle_cert(b)), ==, c->leaf.cert_pem);
    g_assert_cmpstr(acme_cert_pem(acme_chain_get(acme_bundle_chain(b), 1)), ==, c->ca.cert_pem);
    g_assert_cmpint(acme_cert_check_key(acme_bundle_cert(b), acme_bundle_key(b), NULL), ==,
                    ACME_OK);
    names = acme_bundle_names(b, &n);
    g_assert_cmpuint(n, ==, 2);
    g_assert_cmpstr(names[0], ==, NAME);
    g_assert_cmpstr(names[1], ==, "www.example.com");
}

static void test_bundle_from_pem(void)
{
    /* txacme order (key, leaf, chain) and any other order give the same bundle. */
    const char *orders[][3] = {
        { ec_chain.leaf.key_pem, ec_chain.leaf.cert_pem, ec_chain.ca.cert_pem },
        { ec_chain.ca.cert_pem, ec_chain.leaf.key_pkcs8, ec_chain.leaf.cert_pem },
        { ec_chain.leaf.cert_pem, ec_chain.ca.cert_pem, ec_chain.leaf.key_pem },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(orders); i++) {
        char *pem = concat(orders[i][0], orders[i][1], orders[i][2]);
        acme_bundle *b = parse_ok(pem);
        char *out = NULL;

        check_bundle(b, &ec_chain);
        /*
         * Written back in txsni order.  A PKCS#8 key as it was read; an
         * "EC PRIVATE KEY" as PKCS#8, since txacme's parser drops SEC1.
         */
        g_assert_cmpint(acme_bundle_to_pem(&out, b, NULL), ==, ACME_OK);
        if (i == 1)
            g_assert_true(g_str_has_prefix(out, ec_chain.leaf.key_pkcs8));
        else
            g_assert_true(g_str_has_prefix(out, "-----BEGIN PRIVATE KEY-----\n"));
        {
            acme_bundle *again = parse_ok(out);

            check_bundle(again, &ec_chain);
            g_assert_true(acme_key_equal(acme_bundle_key(again), acme_bundle_key(b)));
            acme_bundle_free(again);
        }
        g_assert_true(g_str_has_suffix(out, ec_chain.ca.cert_pem));
        g_assert_nonnull(strstr(out, ec_chain.leaf.cert_pem));
        acme_free(out);
        acme_bundle_free(b);
        g_free(pem);
    }
}

static void test_bundle_from_pem_crlf_and_text(void)
{
    char *pem = concat("# comment before\n", ec_chain.leaf.key_pem, ec_chain.leaf.cert_pem);
    char **lines = g_strsplit(pem, "\n", -1);
    char *crlf = g_strjoinv("\r\n", lines);
    acme_bundle *b = parse_ok(crlf);

    g_assert_cmpuint(acme_chain_count(acme_bundle_chain(b)), ==, 1);
    acme_bundle_free(b);
    g_free(crlf);
    g_strfreev(lines);
    g_free(pem);
}

static void test_bundle_rsa_traditional(void)
{
    char *pem = concat(rsa_chain.leaf.key_pem, rsa_chain.leaf.cert_pem, rsa_chain.ca.cert_pem);
    acme_bundle *b = parse_ok(pem);
    char *out = NULL;

    g_assert_true(g_str_has_prefix(rsa_chain.leaf.key_pem, "-----BEGIN RSA PRIVATE KEY-----"));
    check_bundle(b, &rsa_chain);
    g_assert_cmpint(acme_key_get_type(acme_bundle_key(b)), ==, ACME_KEY_RSA_2048);
    g_assert_cmpint(acme_bundle_to_pem(&out, b, NULL), ==, ACME_OK);
    g_assert_cmpstr(out, ==, pem);
    acme_free(out);
    acme_bundle_free(b);
    g_free(pem);
}

static void test_bundle_refused(void)
{
    char *pem;
    const char *stray = "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n";

    parse_fails("", ACME_E_INVALID, "no PEM data");
    parse_fails("just text\n", ACME_E_INVALID, "no PEM data");

    /* Two keys. */
    pem = concat(ec_chain.leaf.key_pem, other.key_pem, ec_chain.leaf.cert_pem);
    parse_fails(pem, ACME_E_INVALID, "exactly one private key");
    g_free(pem);
    /* The same key twice is still two keys. */
    pem = concat(ec_chain.leaf.key_pem, ec_chain.leaf.key_pkcs8, ec_chain.leaf.cert_pem);
    parse_fails(pem, ACME_E_INVALID, "exactly one private key");
    g_free(pem);
    /* No key. */
    pem = concat(ec_chain.leaf.cert_pem, ec_chain.ca.cert_pem, NULL);
    parse_fails(pem, ACME_E_INVALID, "not 0");
    g_free(pem);
    /* No certificate. */
    parse_fails(ec_chain.leaf.key_pem, ACME_E_INVALID, "no certificate");
    /* A key that matches none of the certificates. */
    pem = concat(other.key_pem, ec_chain.leaf.cert_pem, ec_chain.ca.cert_pem);
    parse_fails(pem, ACME_E_INVALID, "no certificate matches");
    g_free(pem);
    /* Anything else. */
    pem = concat(ec_chain.leaf.key_pem, ec_chain.leaf.cert_pem, stray);
    parse_fails(pem, ACME_E_INVALID, "X509 CRL");
    g_free(pem);
    pem = concat("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
                 ec_chain.leaf.cert_pem, NULL);
    parse_fails(pem, ACME_E_INVALID, "encrypted");
    g_free(pem);
    /* A block cut short. */
    pem = g_strndup(ec_chain.leaf.cert_pem, strlen(ec_chain.leaf.cert_pem) - 20);
    parse_fails(pem, ACME_E_INVALID, "no matching END");
    g_free(pem);
    /* A damaged certificate body. */
    pem = concat(ec_chain.leaf.key_pem,
                 "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n",
                 NULL);
    parse_fails(pem, ACME_E_INVALID, NULL);
    g_free(pem);
}

static void test_bundle_new(void)
{
    acme_key *key = NULL, *wrong = NULL;
    acme_bundle *b = NULL;
    acme_error *e = NULL;
    char *chain = concat(ec_chain.leaf.cert_pem, ec_chain.ca.cert_pem, NULL);
    char *with_key = concat(chain, other.key_pem, NULL);
    char *out = NULL;

    g_assert_cmpint(acme_key_load_pem(&key, ec_chain.leaf.key_pem, strlen(ec_chain.leaf.key_pem),
                                      NULL), ==, ACME_OK);
    g_assert_cmpint(acme_key_load_pem(&wrong, other.key_pem, strlen(other.key_pem), NULL), ==,
                    ACME_OK);

    g_assert_cmpint(acme_bundle_new(&b, key, chain, strlen(chain), &e), ==, ACME_OK);
    g_assert_null(e);
    acme_key_free(key); /* the bundle keeps its own reference */
    check_bundle(b, &ec_chain);
    /* Made from an acme_key, the key is written as PKCS#8. */
    g_assert_cmpint(acme_bundle_to_pem(&out, b, NULL), ==, ACME_OK);
    g_assert_true(g_str_has_prefix(out, "-----BEGIN PRIVATE KEY-----"));
    acme_free(out);
    acme_bundle_free(b);
    b = NULL;

    /* The key of another certificate. */
    g_assert_cmpint(acme_bundle_new(&b, wrong, chain, strlen(chain), &e), ==, ACME_E_INVALID);
    g_assert_null(b);
    assert_error(e, ACME_E_INVALID, "does not match");
    acme_error_free(e);
    e = NULL;
    /* A key hidden in the chain would be a second key. */
    g_assert_cmpint(acme_bundle_new(&b, wrong, with_key, strlen(with_key), &e), ==,
                    ACME_E_INVALID);
    assert_error(e, ACME_E_INVALID, "only certificates");
    acme_error_free(e);
    e = NULL;
    g_assert_cmpint(acme_bundle_new(&b, wrong, "", 0, &e), ==, ACME_E_INVALID);
    assert_error(e, ACME_E_INVALID, "empty");
    acme_error_free(e);
    acme_key_free(wrong);
    g_free(chain);
    g_free(with_key);
}

static void test_bundle_request(void)
{
    const char *names[] = { "a.example", "b.example", "a.example" };
    const char *bad[] = { "a.example", "../x" };
    acme_bundle *b = NULL, *d;
    acme_error *e = NULL;
    const char *const *got;
    size_t n;
    char *pem = NULL;

    g_assert_cmpint(acme_bundle_new_request(&b, names, 2, NULL), ==, ACME_OK);
    g_assert_true(acme_bundle_wants_issue(b));
    g_assert_null(acme_bundle_key(b));
    g_assert_null(acme_bundle_cert(b));
    g_assert_null(acme_bundle_chain(b));
    got = acme_bundle_names(b, &n);
    g_assert_cmpuint(n, ==, 2);
    g_assert_cmpstr(got[1], ==, "b.example");
    g_assert_cmpint(acme_bundle_to_pem(&pem, b, NULL), ==, ACME_OK);
    g_assert_cmpstr(pem, ==, "");
    acme_free(pem);
    d = acme_bundle_dup(b);
    g_assert_true(d == b);
    acme_bundle_free(b);
    g_assert_cmpuint((acme_bundle_names(d, &n), n), ==, 2); /* still alive */
    acme_bundle_free(d);
    b = NULL;

    g_assert_cmpint(acme_bundle_new_request(&b, names, 3, &e), ==, ACME_E_INVALID);
    assert_error(e, ACME_E_INVALID, "twice");
    acme_error_free(e);
    e = NULL;
    g_assert_cmpint(acme_bundle_new_request(&b, bad, 2, &e), ==, ACME_E_INVALID);
    acme_error_free(e);
    e = NULL;
    g_assert_cmpint(acme_bundle_new_request(&b, names, 0, &e), ==, ACME_E_INVALID);
    acme_error_free(e);
    g_assert_null(b);
}

/* ------------------------------------------------------------------ */
/* Both built-in stores through the same calls                         */
/* ------------------------------------------------------------------ */

/* A bundle as txacme would hold it: PKCS#8 for EC, traditional for RSA. */
static acme_bundle *full_bundle(const tchain *c)
{
    const char *key = g_str_has_prefix(c->leaf.key_pem, "-----BEGIN EC") ? c->leaf.key_pkcs8
                                                                          : c->leaf.key_pem;
    char *pem = concat(key, c->leaf.cert_pem, c->ca.cert_pem);
    acme_bundle *b = parse_ok(pem);

    g_free(pem);
    return b;
}

static void exercise_store(acme_store *s)
{
    acme_bundle *b = full_bundle(&ec_chain), *got = NULL, *req = NULL;
    acme_error *e = NULL;
    char **names = NULL;
    size_t n = 99;
    const char *r = "new.example";

    g_assert_cmpint(acme_store_list(&names, &n, s, NULL), ==, ACME_OK);
    g_assert_cmpuint(n, ==, 0);
    g_assert_null(names);

    g_assert_cmpint(acme_store_get(&got, s, NAME, &e), ==, ACME_E_NOTFOUND);
    g_assert_null(got);
    assert_error(e, ACME_E_NOTFOUND, NULL);
    acme_error_free(e);
    e = NULL;

    g_assert_cmpint(acme_store_put(s, NAME, b, &e), ==, ACME_OK);
    g_assert_null(e);
    g_assert_cmpint(acme_store_put(s, "www.example.com", b, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_store_get(&got, s, NAME, NULL), ==, ACME_OK);
    check_bundle(got, &ec_chain);
    acme_bundle_free(got);
    got = NULL;

    /* A certificate is only stored under a name it covers. */
    g_assert_cmpint(acme_store_put(s, "other.example", b, &e), ==, ACME_E_INVALID);
    assert_error(e, ACME_E_INVALID, "does not cover");
    acme_error_free(e);
    e = NULL;
    /* Names that would escape a directory never reach the backend. */
    g_assert_cmpint(acme_store_put(s, "../" NAME, b, &e), ==, ACME_E_INVALID);
    acme_error_free(e);
    e = NULL;
    g_assert_cmpint(acme_store_get(&got, s, "/etc/passwd", &e), ==, ACME_E_INVALID);
    acme_error_free(e);
    e = NULL;
    g_assert_cmpint(acme_store_get(&got, s, "SHOP.example.com", &e), ==, ACME_E_INVALID);
    assert_error(e, ACME_E_INVALID, "uppercase");
    acme_error_free(e);
    e = NULL;

    /* An issue request is an entry too. */
    g_assert_cmpint(acme_bundle_new_request(&req, &r, 1, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_store_put(s, r, req, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_store_get(&got, s, r, NULL), ==, ACME_OK);
    g_assert_true(acme_bundle_wants_issue(got));
    acme_bundle_free(got);

    g_assert_cmpint(acme_store_list(&names, &n, s, NULL), ==, ACME_OK);
    g_assert_cmpuint(n, ==, 3);
    g_assert_cmpstr(names[0], ==, "new.example");
    g_assert_cmpstr(names[1], ==, NAME);
    g_assert_cmpstr(names[2], ==, "www.example.com");
    acme_free_strv(names, n);

    /* No locks in the built-in stores. */
    g_assert_cmpint(acme_store_lock(s, NAME, &e), ==, ACME_E_NOTSUP);
    assert_error(e, ACME_E_NOTSUP, "no locks");
    acme_error_free(e);
    acme_store_unlock(s, NAME);

    acme_bundle_free(req);
    acme_bundle_free(b);
}

static void test_memory_store(void)
{
    acme_store *s = NULL;
    acme_key *k = NULL;
    acme_error *e = NULL;

    g_assert_cmpint(acme_store_memory_new(&s, NULL), ==, ACME_OK);
    g_assert_cmpstr(acme_store_backend(s), ==, "memory");
    exercise_store(s);
    g_assert_cmpint(acme_store_dir_account_key(&k, s, &e), ==, ACME_E_NOTSUP);
    acme_error_free(e);
    acme_store_free(s);
    acme_store_free(NULL);
}

/* ------------------------------------------------------------------ */
/* Directory store                                                     */
/* ------------------------------------------------------------------ */

typedef struct {
    char *dir;
    acme_store *store;
} DirFixture;

static char *path_in(const DirFixture *f, const char *file)
{
    return g_build_filename(f->dir, file, NULL);
}

static void dir_setup(DirFixture *f, gconstpointer data)
{
    acme_error *e = NULL;

    f->dir = g_dir_make_tmp("acme-store-XXXXXX", NULL);
    g_assert_nonnull(f->dir);
    if (acme_store_dir_new(&f->store, f->dir, &e) < 0)
        g_error("acme_store_dir_new: %s", acme_error_message(e));
}

static void rm_rf(const char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *n;

    while (d && (n = g_dir_read_name(d))) {
        char *p = g_build_filename(dir, n, NULL);

        if (g_file_test(p, G_FILE_TEST_IS_DIR) && !g_file_test(p, G_FILE_TEST_IS_SYMLINK))
            rm_rf(p);
        else
            g_unlink(p);
        g_free(p);
    }
    if (d)
        g_dir_close(d);
    g_rmdir(dir);
}

static void dir_teardown(DirFixture *f, gconstpointer data)
{
    acme_store_free(f->store);
    rm_rf(f->dir);
    g_free(f->dir);
}

static void write_file(const DirFixture *f, const char *file, const char *text)
{
    char *p = path_in(f, file);

    g_assert_true(g_file_set_contents(p, text, -1, NULL));
    g_free(p);
}

static char *read_file(const DirFixture *f, const char *file)
{
    char *p = path_in(f, file), *text = NULL;

    if (!g_file_get_contents(p, &text, NULL, NULL))
        text = NULL;
    g_free(p);
    return text;
}

static guint count_files(const DirFixture *f)
{
    GDir *d = g_dir_open(f->dir, 0, NULL);
    guint n = 0;

    while (g_dir_read_name(d))
        n++;
    g_dir_close(d);
    return n;
}

static void test_dir_roundtrip(DirFixture *f, gconstpointer data)
{
    exercise_store(f->store);
}

static void test_dir_layout(DirFixture *f, gconstpointer data)
{
    acme_bundle *b = full_bundle(&ec_chain);
    char *text, *expect, *p;
    struct stat st;

    g_assert_cmpstr(acme_store_backend(f->store), ==, "dir");
    g_assert_cmpint(acme_store_put(f->store, NAME, b, NULL), ==, ACME_OK);
    /* txsni layout: <name>.pem = key, leaf, chain; nothing else left behind. */
    text = read_file(f, NAME ".pem");
    expect = concat(ec_chain.leaf.key_pkcs8, ec_chain.leaf.cert_pem, ec_chain.ca.cert_pem);
    g_assert_cmpstr(text, ==, expect);
    g_assert_cmpuint(count_files(f), ==, 1);
    p = path_in(f, NAME ".pem");
    g_assert_cmpint(stat(p, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 07777, ==, 0600);
    g_free(p);
    g_free(text);
    g_free(expect);
    acme_bundle_free(b);
}

static void test_dir_mode_despite_umask(DirFixture *f, gconstpointer data)
{
    acme_bundle *b = full_bundle(&ec_chain);
    mode_t old = umask(0);
    char *p = path_in(f, NAME ".pem");
    struct stat st;

    /* An old file with loose permissions is replaced by a 0600 one. */
    write_file(f, NAME ".pem", "");
    g_assert_cmpint(chmod(p, 0644), ==, 0);
    g_assert_cmpint(acme_store_put(f->store, NAME, b, NULL), ==, ACME_OK);
    umask(old);
    g_assert_cmpint(stat(p, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 07777, ==, 0600);
    g_free(p);
    acme_bundle_free(b);
}

/*
 * A writer killed between write and rename leaves its temporary file;
 * the next open removes those an hour old and leaves younger ones (a
 * live writer's) and everything else alone.
 */
static void test_dir_sweep_temp(DirFixture *f, gconstpointer data)
{
    static const char *const stale[] = { ".acme-1-1-0000000000000000.tmp", ".acme-x.tmp" };
    static const char *const kept[] = {
        ".acme-2-1-0000000000000000.tmp", /* fresh */
        ".acme-old-but-not.tmp.pem",      /* not a temporary name */
        ".other-1.tmp",
        "old.example.pem",
    };
    struct utimbuf old = { 0, 0 };
    acme_store *again = NULL;

    (void)data;
    old.actime = old.modtime = time(NULL) - 2 * 3600;
    for (size_t i = 0; i < G_N_ELEMENTS(stale); i++) {
        char *p = path_in(f, stale[i]);

        write_file(f, stale[i], "half a certificate");
        g_assert_cmpint(g_utime(p, &old), ==, 0);
        g_free(p);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(kept); i++) {
        char *p = path_in(f, kept[i]);

        write_file(f, kept[i], "");
        if (i > 0)
            g_assert_cmpint(g_utime(p, &old), ==, 0);
        g_free(p);
    }
    g_assert_cmpint(acme_store_dir_new(&again, f->dir, NULL), ==, ACME_OK);
    for (size_t i = 0; i < G_N_ELEMENTS(stale); i++) {
        char *p = path_in(f, stale[i]);

        if (g_file_test(p, G_FILE_TEST_EXISTS))
            g_error("%s was not removed", stale[i]);
        g_free(p);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(kept); i++) {
        char *p = path_in(f, kept[i]);

        if (!g_file_test(p, G_FILE_TEST_EXISTS))
            g_error("%s was removed", kept[i]);
        g_free(p);
    }
    acme_store_free(again);
}

static void test_dir_list_and_empty(DirFixture *f, gconstpointer data)
{
    char *pem = concat(ec_chain.leaf.key_pem, ec_chain.leaf.cert_pem, NULL);
    char **names = NULL;
    size_t n = 0;
    acme_bundle *b = NULL;
    acme_error *e = NULL;
    const char *const *req;

    write_file(f, NAME ".pem", pem);
    write_file(f, "empty.example.pem", "");
    write_file(f, "blank.example.pem", "\n  \n");
    write_file(f, "client.key", other.key_pem);
    write_file(f, "DEFAULT.pem", pem);
    write_file(f, "Upper.example.pem", pem);
    write_file(f, ".acme-1-1-0000000000000000.tmp", "half");
    write_file(f, "notes.txt", "hello");
    write_file(f, "under_score.pem", pem);
    write_file(f, ".pem", pem);

    g_assert_cmpint(acme_store_list(&names, &n, f->store, NULL), ==, ACME_OK);
    g_assert_cmpuint(n, ==, 3);
    g_assert_cmpstr(names[0], ==, "blank.example");
    g_assert_cmpstr(names[1], ==, "empty.example");
    g_assert_cmpstr(names[2], ==, NAME);
    acme_free_strv(names, n);

    /* An empty file means "please issue", for that name. */
    g_assert_cmpint(acme_store_get(&b, f->store, "empty.example", NULL), ==, ACME_OK);
    g_assert_true(acme_bundle_wants_issue(b));
    req = acme_bundle_names(b, &n);
    g_assert_cmpuint(n, ==, 1);
    g_assert_cmpstr(req[0], ==, "empty.example");
    acme_bundle_free(b);
    b = NULL;

    /* A damaged file is an error that names the file. */
    write_file(f, "bad.example.pem", ec_chain.leaf.cert_pem);
    g_assert_cmpint(acme_store_get(&b, f->store, "bad.example", &e), ==, ACME_E_INVALID);
    assert_error(e, ACME_E_INVALID, "bad.example.pem");
    acme_error_free(e);
    g_assert_null(b);
    g_free(pem);
}

static void test_dir_not_regular(DirFixture *f, gconstpointer data)
{
    char *sub = path_in(f, "adir.example.pem");
    char **names = NULL;
    size_t n = 0;
    acme_bundle *b = NULL;
    acme_error *e = NULL;

    g_assert_cmpint(g_mkdir(sub, 0700), ==, 0);
    g_assert_cmpint(acme_store_get(&b, f->store, "adir.example", &e), ==, ACME_E_INVALID);
    assert_error(e, ACME_E_INVALID, "not a regular file");
    acme_error_free(e);
    g_assert_cmpint(acme_store_list(&names, &n, f->store, NULL), ==, ACME_OK);
    g_assert_cmpuint(n, ==, 0);
    g_free(sub);
}

/*
 * The injected write: the first call writes half of what it is given,
 * the next fails as a full disk does.
 */
static int fail_calls;

static ssize_t half_then_enospc(int fd, const void *buf, size_t len)
{
    if (fail_calls++ == 0)
        return write(fd, buf, len / 2);
    errno = ENOSPC;
    return -1;
}

static void test_dir_failed_write(DirFixture *f, gconstpointer data)
{
    acme_bundle *old = full_bundle(&ec_chain), *new = full_bundle(&rsa_chain), *got = NULL;
    acme_error *e = NULL;
    char *before, *after;

    g_assert_cmpint(acme_store_put(f->store, NAME, old, NULL), ==, ACME_OK);
    before = read_file(f, NAME ".pem");
    g_assert_cmpint(acme__store_dir_set_write_fn(f->store, half_then_enospc), ==, ACME_OK);
    fail_calls = 0;
    g_assert_cmpint(acme_store_put(f->store, NAME, new, &e), ==, ACME_E_IO);
    g_assert_cmpint(fail_calls, ==, 2);
    assert_error(e, ACME_E_IO, "No space left");
    acme_error_free(e);

    /* The old file is whole and no temporary file is left. */
    after = read_file(f, NAME ".pem");
    g_assert_cmpstr(after, ==, before);
    g_assert_cmpuint(count_files(f), ==, 1);
    g_assert_cmpint(acme_store_get(&got, f->store, NAME, NULL), ==, ACME_OK);
    check_bundle(got, &ec_chain);
    acme_bundle_free(got);

    /* Put back write(2): the next put goes through. */
    g_assert_cmpint(acme__store_dir_set_write_fn(f->store, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_store_put(f->store, NAME, new, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_store_get(&got, f->store, NAME, NULL), ==, ACME_OK);
    check_bundle(got, &rsa_chain);
    acme_bundle_free(got);
    g_assert_cmpint(acme__store_dir_set_write_fn(NULL, NULL), ==, ACME_E_INVALID);
    g_free(before);
    g_free(after);
    acme_bundle_free(old);
    acme_bundle_free(new);
}

/*
 * The same with the real write(2) failing: a file size limit below the
 * size of the new file (RLIMIT_FSIZE, with SIGXFSZ ignored so that write
 * returns EFBIG).  Runs in a subprocess because the limit is per process.
 */
static void test_dir_fsize_limit(DirFixture *f, gconstpointer data)
{
    acme_bundle *old, *new;
    struct rlimit rl = { 512, 512 };
    acme_error *e = NULL;
    char *before, *after;

    if (!g_test_subprocess()) {
        g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
        g_test_trap_assert_passed();
        return;
    }
    /* In the child, with its own fixture directory. */
    old = full_bundle(&ec_chain);
    new = full_bundle(&rsa_chain);
    g_assert_cmpint(acme_store_put(f->store, NAME, old, NULL), ==, ACME_OK);
    before = read_file(f, NAME ".pem");
    g_assert_cmpuint(strlen(before), >, 512);
    signal(SIGXFSZ, SIG_IGN);
    g_assert_cmpint(setrlimit(RLIMIT_FSIZE, &rl), ==, 0);
    g_assert_cmpint(acme_store_put(f->store, NAME, new, &e), ==, ACME_E_IO);
    assert_error(e, ACME_E_IO, "File too large");
    acme_error_free(e);
    after = read_file(f, NAME ".pem");
    g_assert_cmpstr(after, ==, before);
    g_assert_cmpuint(count_files(f), ==, 1);
    g_free(before);
    g_free(after);
    acme_bundle_free(old);
    acme_bundle_free(new);
}

static void test_dir_account_key(DirFixture *f, gconstpointer data)
{
    acme_key *k1 = NULL, *k2 = NULL;
    char *p = path_in(f, "client.key"), *text;
    struct stat st;

    g_assert_cmpint(acme_store_dir_account_key(&k1, f->store, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_key_get_type(k1), ==, ACME_KEY_EC_P256);
    g_assert_cmpint(stat(p, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 07777, ==, 0600);
    text = read_file(f, "client.key");
    g_assert_true(g_str_has_prefix(text, "-----BEGIN PRIVATE KEY-----"));
    /* The second call loads the same key; it is not an entry. */
    g_assert_cmpint(acme_store_dir_account_key(&k2, f->store, NULL), ==, ACME_OK);
    g_assert_true(acme_key_equal(k1, k2));
    g_assert_cmpuint(count_files(f), ==, 1);
    acme_key_free(k1);
    acme_key_free(k2);
    g_free(text);
    g_free(p);
}

static void test_dir_account_key_txacme_rsa(DirFixture *f, gconstpointer data)
{
    acme_key *k = NULL, *expect = NULL;
    acme_error *e = NULL;
    char *text;

    /* txacme's load_or_create_client_key writes traditional RSA PEM. */
    write_file(f, "client.key", rsa_chain.leaf.key_pem);
    g_assert_cmpint(acme_store_dir_account_key(&k, f->store, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_key_get_type(k), ==, ACME_KEY_RSA_2048);
    g_assert_cmpint(acme_key_load_pem(&expect, rsa_chain.leaf.key_pem,
                                      strlen(rsa_chain.leaf.key_pem), NULL), ==, ACME_OK);
    g_assert_true(acme_key_equal(k, expect));
    acme_key_free(k);
    acme_key_free(expect);
    k = NULL;

    /* An empty or damaged client.key is an error, never overwritten. */
    write_file(f, "client.key", "");
    g_assert_cmpint(acme_store_dir_account_key(&k, f->store, &e), ==, ACME_E_INVALID);
    assert_error(e, ACME_E_INVALID, "client.key is empty");
    acme_error_free(e);
    g_assert_null(k);
    text = read_file(f, "client.key");
    g_assert_cmpstr(text, ==, "");
    g_free(text);
}

static void test_dir_new_errors(void)
{
    acme_store *s = NULL;
    acme_error *e = NULL;
    char *dir = g_dir_make_tmp("acme-store-XXXXXX", NULL);
    char *file = g_build_filename(dir, "plain", NULL);
    char *deep = g_build_filename(dir, "missing", "sub", NULL);
    char *fresh = g_build_filename(dir, "fresh", NULL);
    struct stat st;

    g_assert_true(g_file_set_contents(file, "x", -1, NULL));
    g_assert_cmpint(acme_store_dir_new(&s, file, &e), ==, ACME_E_IO);
    assert_error(e, ACME_E_IO, "plain");
    acme_error_free(e);
    e = NULL;
    g_assert_cmpint(acme_store_dir_new(&s, deep, &e), ==, ACME_E_NOTFOUND);
    acme_error_free(e);
    e = NULL;
    g_assert_cmpint(acme_store_dir_new(&s, "", &e), ==, ACME_E_INVALID);
    acme_error_free(e);
    g_assert_null(s);
    /* A missing last component is created, private. */
    g_assert_cmpint(acme_store_dir_new(&s, fresh, NULL), ==, ACME_OK);
    g_assert_cmpint(stat(fresh, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 0777, ==, 0700);
    acme_store_free(s);
    g_rmdir(fresh);
    g_unlink(file);
    g_rmdir(dir);
    g_free(fresh);
    g_free(deep);
    g_free(file);
    g_free(dir);
}

int main(int argc, char **argv)
{
    const char *other_sans[] = { "other.example", NULL };
    int rc;

    g_test_init(&argc, &argv, NULL);
    g_assert_cmpint(acme_global_init(), ==, ACME_OK);
    tchain_make(&ec_chain, TKEY_EC, SANS);
    tchain_make(&rsa_chain, TKEY_RSA, SANS);
    tcert_make(&other, TKEY_EC, other_sans, NULL, false);

    for (size_t i = 0; i < G_N_ELEMENTS(name_cases); i++) {
        char *path = g_strdup_printf("/store/name/%s/%zu", name_cases[i].ok ? "valid" : "invalid",
                                     i);

        g_test_add_data_func(path, &name_cases[i], test_name_case);
        g_free(path);
    }
    g_test_add_func("/store/name/limits", test_name_limits);
    g_test_add_func("/store/name/normalize", test_name_normalize);
    g_test_add_func("/store/name/covered", test_name_covered);
    g_test_add_func("/store/bundle/from-pem", test_bundle_from_pem);
    g_test_add_func("/store/bundle/from-pem-crlf", test_bundle_from_pem_crlf_and_text);
    g_test_add_func("/store/bundle/rsa-traditional", test_bundle_rsa_traditional);
    g_test_add_func("/store/bundle/refused", test_bundle_refused);
    g_test_add_func("/store/bundle/new", test_bundle_new);
    g_test_add_func("/store/bundle/request", test_bundle_request);
    g_test_add_func("/store/memory/basic", test_memory_store);
    g_test_add_func("/store/dir/new-errors", test_dir_new_errors);
#define DIR_TEST(path, fn) g_test_add(path, DirFixture, NULL, dir_setup, fn, dir_teardown)
    DIR_TEST("/store/dir/roundtrip", test_dir_roundtrip);
    DIR_TEST("/store/dir/layout", test_dir_layout);
    DIR_TEST("/store/dir/mode-despite-umask", test_dir_mode_despite_umask);
    DIR_TEST("/store/dir/list-and-empty", test_dir_list_and_empty);
    DIR_TEST("/store/dir/sweep-temp", test_dir_sweep_temp);
    DIR_TEST("/store/dir/not-regular", test_dir_not_regular);
    DIR_TEST("/store/dir/failed-write-keeps-old", test_dir_failed_write);
    DIR_TEST("/store/dir/fsize-limit-keeps-old", test_dir_fsize_limit);
    DIR_TEST("/store/dir/account-key", test_dir_account_key);
    DIR_TEST("/store/dir/account-key-txacme-rsa", test_dir_account_key_txacme_rsa);
    rc = g_test_run();
    tchain_clear(&ec_chain);
    tchain_clear(&rsa_chain);
    tcert_clear(&other);
    acme_global_cleanup();
    return rc;
}
