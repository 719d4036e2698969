/*
 * Unit tests: tls-alpn-01 (registry, responder, standalone listener) and
 * the null responder.  The listener is checked with a GnuTLS client
 * written here and once with gnutls-cli.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <acme/acme.h>
#include <acme/sys/responder.h>
#include <acme/testing.h>

#include "client/client-internal.h"
#include "responders/tlsalpn01.h"

#define KEYAUTH_A "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"
#define KEYAUTH_B "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"
#define OID_ACME_IDENTIFIER "1.3.6.1.5.5.7.1.31"
/* Long enough never to pass during a test: only closing ends a stall. */
#define NEVER_MS (3600u * 1000u)

/* ------------------------------------------------------------------ */
/* Helpers                                                              */
/* ------------------------------------------------------------------ */

/* The first SAN of the certificate in @p pem, as text (IP SANs printed). */
static char *pem_first_san(const char *pem)
{
    gnutls_x509_crt_t crt;
    gnutls_datum_t d = { (unsigned char *)pem, (unsigned int)strlen(pem) };
    char buf[256];
    size_t len = sizeof(buf);
    unsigned int critical;
    int type;
    char *out;

    g_assert_cmpint(gnutls_x509_crt_init(&crt), ==, 0);
    g_assert_cmpint(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM), ==, 0);
    type = gnutls_x509_crt_get_subject_alt_name(crt, 0, buf, &len, &critical);
    if (type == GNUTLS_SAN_IPADDRESS) {
        char text[INET6_ADDRSTRLEN];

        g_assert_nonnull(inet_ntop(len == 4 ? AF_INET : AF_INET6, buf, text, sizeof(text)));
        out = g_strdup(text);
    } else {
        g_assert_cmpint(type, ==, GNUTLS_SAN_DNSNAME);
        out = g_strndup(buf, len);
    }
    gnutls_x509_crt_deinit(crt);
    return out;
}

/* The acmeIdentifier value RFC 8737 §3 asks for: DER OCTET STRING of SHA-256. */
static void expected_ext(unsigned char out[34], const char *keyauth)
{
    out[0] = 0x04;
    out[1] = 0x20;
    g_assert_cmpint(gnutls_hash_fast(GNUTLS_DIG_SHA256, keyauth, strlen(keyauth), out + 2), ==, 0);
}

/* Check that @p crt is a challenge certificate for @p name and @p keyauth. */
static void check_challenge_cert(gnutls_x509_crt_t crt, const char *name, const char *keyauth)
{
    unsigned char want[34];
    gnutls_datum_t ext = { NULL, 0 };
    unsigned int critical = 0;
    char san[256];
    size_t len = sizeof(san);

    g_assert_cmpint(gnutls_x509_crt_get_subject_alt_name(crt, 0, san, &len, &critical), ==,
                    GNUTLS_SAN_DNSNAME);
    g_assert_cmpmem(san, len, name, strlen(name));
    /* The only SAN. */
    len = sizeof(san);
    g_assert_cmpint(gnutls_x509_crt_get_subject_alt_name(crt, 1, san, &len, &critical), ==,
                    GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE);
    critical = 0;
    g_assert_cmpint(gnutls_x509_crt_get_extension_by_oid2(crt, OID_ACME_IDENTIFIER, 0, &ext,
                                                          &critical), ==, 0);
    g_assert_cmpuint(critical, ==, 1);
    expected_ext(want, keyauth);
    g_assert_cmpmem(ext.data, ext.size, want, sizeof(want));
    gnutls_free(ext.data);
}

static int tcp_connect(unsigned int port)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    /* Safety net only: a broken listener fails the test instead of hanging it. */
    struct timeval tv = { .tv_sec = 30 };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_assert_cmpint(fd, >=, 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    g_assert_cmpint(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    g_assert_cmpint(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), ==, 0);
    g_assert_cmpint(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), ==, 0);
    return fd;
}

/* Read until the server closes the connection; true when it did. */
static bool wait_closed(int fd)
{
    char buf[512];

    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));

        if (n == 0 || (n < 0 && errno == ECONNRESET))
            return true;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return false;  /* EAGAIN: the 30 s safety net ran out */
    }
}

typedef struct hs_result {
    int ret;                /* gnutls_handshake() */
    int alert;              /* the fatal alert received, or -1 */
    char alpn[32];          /* the negotiated protocol, or "" */
    gnutls_x509_crt_t crt;  /* the server's certificate, or NULL */
    unsigned int ncerts;
    gnutls_protocol_t version;
    bool closed;            /* the server sent close_notify after the handshake */
} hs_result;

/*
 * A TLS client: connect to 127.0.0.1:@p port, offer @p sni and @p alpn
 * (NULL: none), handshake, read until the server closes.
 */
static void tls_connect(hs_result *r, unsigned int port, const char *sni, const char *alpn,
                        const char *priority)
{
    gnutls_certificate_credentials_t creds;
    gnutls_session_t s;
    int fd = tcp_connect(port);

    memset(r, 0, sizeof(*r));
    r->alert = -1;
    g_assert_cmpint(gnutls_certificate_allocate_credentials(&creds), ==, 0);
    g_assert_cmpint(gnutls_init(&s, GNUTLS_CLIENT), ==, 0);
    if (priority)
        g_assert_cmpint(gnutls_priority_set_direct(s, priority, NULL), ==, 0);
    else
        g_assert_cmpint(gnutls_set_default_priority(s), ==, 0);
    g_assert_cmpint(gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, creds), ==, 0);
    if (sni)
        g_assert_cmpint(gnutls_server_name_set(s, GNUTLS_NAME_DNS, sni, strlen(sni)), ==, 0);
    if (alpn) {
        gnutls_datum_t p = { (unsigned char *)alpn, (unsigned int)strlen(alpn) };

        g_assert_cmpint(gnutls_alpn_set_protocols(s, &p, 1, 0), ==, 0);
    }
    gnutls_transport_set_int(s, fd);
    gnutls_handshake_set_timeout(s, 30000);
    do
        r->ret = gnutls_handshake(s);
    while (r->ret < 0 && !gnutls_error_is_fatal(r->ret));
    if (r->ret == GNUTLS_E_FATAL_ALERT_RECEIVED)
        r->alert = (int)gnutls_alert_get(s);
    if (r->ret == 0) {
        gnutls_datum_t proto;
        const gnutls_datum_t *certs = gnutls_certificate_get_peers(s, &r->ncerts);
        char buf[64];
        ssize_t n;

        if (gnutls_alpn_get_selected_protocol(s, &proto) == 0 && proto.size < sizeof(r->alpn))
            memcpy(r->alpn, proto.data, proto.size);
        r->version = gnutls_protocol_get_version(s);
        g_assert_nonnull(certs);
        g_assert_cmpint(gnutls_x509_crt_init(&r->crt), ==, 0);
        g_assert_cmpint(gnutls_x509_crt_import(r->crt, &certs[0], GNUTLS_X509_FMT_DER), ==, 0);
        /* RFC 8737 §3: no application data; the server closes. */
        do
            n = gnutls_record_recv(s, buf, sizeof(buf));
        while (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED);
        r->closed = n == 0;
    }
    gnutls_deinit(s);
    gnutls_certificate_free_credentials(creds);
    close(fd);
}

static void hs_clear(hs_result *r)
{
    if (r->crt)
        gnutls_x509_crt_deinit(r->crt);
    r->crt = NULL;
}

/* A registry with example.com in it and a listener on 127.0.0.1:0. */
typedef struct {
    acme_tlsalpn01 *reg;
    acme_tlsalpn01_server *srv;
    unsigned int port;
} Fixture;

static void fixture_open(Fixture *f, unsigned int timeout_ms)
{
    acme_error *err = NULL;

    g_assert_cmpint(acme_tlsalpn01_new(&f->reg, &err), ==, ACME_OK);
    g_assert_cmpint(acme_tlsalpn01_add(f->reg, "example.com", KEYAUTH_A, &err), ==, ACME_OK);
    g_assert_cmpint(acme__tlsalpn01_listen_timeout(&f->srv, f->reg, "127.0.0.1", 0, timeout_ms,
                                                   &err), ==, ACME_OK);
    g_assert_null(err);
    f->port = acme_tlsalpn01_server_port(f->srv);
    g_assert_cmpuint(f->port, >, 0);
    g_assert_cmpuint(f->port, <, 65536);
}

static void setup(Fixture *f, gconstpointer data)
{
    fixture_open(f, NEVER_MS);
}

static void teardown(Fixture *f, gconstpointer data)
{
    acme_tlsalpn01_server_free(f->srv);
    acme_tlsalpn01_free(f->reg);
}

/* ------------------------------------------------------------------ */
/* Registry                                                             */
/* ------------------------------------------------------------------ */

static void test_registry_add_remove(void)
{
    acme_tlsalpn01 *reg;
    acme_error *err = NULL;
    char *cert = NULL, *key = NULL, *san;
    acme_key *k = NULL;
    acme_chain *chain = NULL;

    g_assert_cmpint(acme_tlsalpn01_new(&reg, &err), ==, ACME_OK);
    g_assert_cmpuint(acme_tlsalpn01_count(reg), ==, 0);
    g_assert_cmpint(acme_tlsalpn01_lookup_pem(&cert, &key, reg, "example.com", &err), ==,
                    ACME_E_NOTFOUND);
    g_assert_nonnull(err);
    g_assert_cmpint(acme_error_code_get(err), ==, ACME_E_NOTFOUND);
    g_assert_null(cert);
    acme_error_free(err);
    err = NULL;

    g_assert_cmpint(acme_tlsalpn01_add(reg, "example.com", KEYAUTH_A, &err), ==, ACME_OK);
    g_assert_null(err);
    g_assert_cmpuint(acme_tlsalpn01_count(reg), ==, 1);
    g_assert_cmpint(acme_tlsalpn01_lookup_pem(&cert, &key, reg, "example.com", &err), ==, ACME_OK);
    g_assert_nonnull(strstr(cert, "-----BEGIN CERTIFICATE-----"));
    san = pem_first_san(cert);
    g_assert_cmpstr(san, ==, "example.com");
    g_free(san);
    /* The key is the certificate's. */
    g_assert_cmpint(acme_key_load_pem(&k, key, strlen(key), &err), ==, ACME_OK);
    g_assert_cmpint(acme_chain_parse(&chain, cert, strlen(cert), &err), ==, ACME_OK);
    g_assert_cmpint(acme_cert_check_key(acme_chain_get(chain, 0), k, &err), ==, ACME_OK);
    acme_chain_free(chain);
    acme_key_free(k);
    acme_free(cert);
    acme_free(key);

    /* Either output may be skipped. */
    g_assert_cmpint(acme_tlsalpn01_lookup_pem(&cert, NULL, reg, "example.com", &err), ==, ACME_OK);
    acme_free(cert);

    g_assert_cmpint(acme_tlsalpn01_remove(reg, "example.com", KEYAUTH_A, &err), ==, ACME_OK);
    g_assert_cmpuint(acme_tlsalpn01_count(reg), ==, 0);
    g_assert_cmpint(acme_tlsalpn01_lookup_pem(&cert, &key, reg, "example.com", NULL), ==,
                    ACME_E_NOTFOUND);
    g_assert_cmpint(acme_tlsalpn01_remove(reg, "example.com", KEYAUTH_A, &err), ==,
                    ACME_E_NOTFOUND);
    acme_error_free(err);
    acme_tlsalpn01_free(reg);
}

static void test_registry_case(void)
{
    acme_tlsalpn01 *reg;
    char *cert = NULL, *san;

    g_assert_cmpint(acme_tlsalpn01_new(&reg, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_tlsalpn01_add(reg, "WWW.Example.COM", KEYAUTH_A, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_tlsalpn01_lookup_pem(&cert, NULL, reg, "www.example.com", NULL), ==,
                    ACME_OK);
    san = pem_first_san(cert);
    /* The certificate names the canonical (lower-case) form. */
    g_assert_cmpstr(san, ==, "www.example.com");
    g_free(san);
    acme_free(cert);
    g_assert_cmpint(acme_tlsalpn01_lookup_pem(&cert, NULL, reg, "www.EXAMPLE.com", NULL), ==,
                    ACME_OK);
    acme_free(cert);
    g_assert_cmpint(acme_tlsalpn01_remove(reg, "www.example.COM", NULL, NULL), ==, ACME_OK);
    g_assert_cmpuint(acme_tlsalpn01_count(reg), ==, 0);
    /* A U-label is its A-label (acme_name_normalize()), in the SAN too. */
    g_assert_cmpint(acme_tlsalpn01_add(reg, "\xc3\xa9t\xc3\xa9.example", KEYAUTH_A, NULL), ==,
                    ACME_OK);
    g_assert_cmpint(acme_tlsalpn01_lookup_pem(&cert, NULL, reg, "xn--t-9fab.example", NULL), ==,
                    ACME_OK);
    san = pem_first_san(cert);
    g_assert_cmpstr(san, ==, "xn--t-9fab.example");
    g_free(san);
    acme_free(cert);
    g_assert_cmpint(acme_tlsalpn01_remove(reg, "xn--t-9fab.example", NULL, NULL), ==, ACME_OK);
    /* A trailing dot (an absolute name) is the same name, and not in the SAN. */
    g_assert_cmpint(acme_tlsalpn01_add(reg, "example.com.", KEYAUTH_A, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_tlsalpn01_lookup_pem(&cert, NULL, reg, "example.com", NULL), ==, ACME_OK);
    san = pem_first_san(cert);
    g_assert_cmpstr(san, ==, "example.com");
    g_free(san);
    acme_free(cert);
    acme_tlsalpn01_free(reg);
}

static void test_registry_two_names(void)
{
    acme_tlsalpn01 *reg;
    char *a = NULL, *b = NULL, *san;

    g_assert_cmpint(acme_tlsalpn01_new(&reg, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_tlsalpn01_add(reg, "a.example", KEYAUTH_A, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_tlsalpn01_add(reg, "b.example", KEYAUTH_B, NULL), ==, ACME_OK);
    g_assert_cmpuint(acme_tlsalpn01_count(reg), ==, 2);
    g_assert_cmpint(acme_tlsalpn01_lookup_pem(&a, NULL, reg, "a.example", NULL), ==, ACME_OK);
    g_assert_cmpint(acme_tlsalpn01_lookup_pem(&b, NULL, reg, "b.example", NULL), ==, ACME_OK);
    san = pem_first_san(a);
    g_assert_cmpstr(san, ==, "a.example");
    g_free(san);
    san = pem_first_san(b);
    g_assert_cmpstr(san, ==, "b.example");
    g_free(san);
    acme_free(a);
    acme_free(b);
    /* Removing one leaves the other. */
    g_assert_cmpint(acme_tlsalpn01_remove(reg, "a.example", KEYAUTH_A, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_tlsalpn01_lookup_pem(NULL, NULL, reg, "a.example", NULL), ==,
                    ACME_E_NOTFOUND);
    g_assert_cmpint(acme_tlsalpn01_lookup_pem(NULL, NULL, reg, "b.example", NULL), ==, ACME_OK);
    /* The wrong key authorization removes nothing. */
    g_assert_cmpint(acme_tlsalpn01_remove(reg, "b.example", KEYAUTH_A, NULL), ==,
                    ACME_E_NOTFOUND);
    g_assert_cmpuint(acme_tlsalpn01_count(reg), ==, 1);
    acme_tlsalpn01_free(reg);  /* frees what is left */
}

/* Two challenges for one name: the newest answers until it is stopped. */
static void test_registry_same_name(void)
{
    acme_tlsalpn01 *reg;
    char *cert_a = NULL, *cert_b = NULL, *cert = NULL;

    g_assert_cmpint(acme_tlsalpn01_new(&reg, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_tlsalpn01_add(reg, "example.com", KEYAUTH_A, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_tlsalpn01_lookup_pem(&cert_a, NULL, reg, "example.com", NULL), ==, 0);
    g_assert_cmpint(acme_tlsalpn01_add(reg, "example.com", KEYAUTH_B, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_tlsalpn01_lookup_pem(&cert_b, NULL, reg, "example.com", NULL), ==, 0);
    g_assert_cmpstr(cert_a, !=, cert_b);
    g_assert_cmpint(acme_tlsalpn01_remove(reg, "example.com", KEYAUTH_B, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_tlsalpn01_lookup_pem(&cert, NULL, reg, "example.com", NULL), ==, 0);
    g_assert_cmpstr(cert, ==, cert_a);
    acme_free(cert);
    /* NULL key authorization: every certificate for the name. */
    g_assert_cmpint(acme_tlsalpn01_add(reg, "example.com", KEYAUTH_B, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_tlsalpn01_add(reg, "other.example", KEYAUTH_B, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_tlsalpn01_remove(reg, "example.com", NULL, NULL), ==, ACME_OK);
    g_assert_cmpuint(acme_tlsalpn01_count(reg), ==, 1);
    acme_free(cert_a);
    acme_free(cert_b);
    acme_tlsalpn01_free(reg);
}

/* IP identifiers are found by address and by the reverse name a CA sends. */
static void test_registry_ip(void)
{
    acme_tlsalpn01 *reg;
    char *cert = NULL, *san;

    g_assert_cmpint(acme_tlsalpn01_new(&reg, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_tlsalpn01_add(reg, "192.0.2.1", KEYAUTH_A, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_tlsalpn01_add(reg, "2001:db8::1", KEYAUTH_B, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_tlsalpn01_lookup_pem(&cert, NULL, reg, "1.2.0.192.IN-ADDR.ARPA", NULL),
                    ==, ACME_OK);
    san = pem_first_san(cert);
    g_assert_cmpstr(san, ==, "192.0.2.1");
    g_free(san);
    acme_free(cert);
    g_assert_cmpint(acme_tlsalpn01_lookup_pem(NULL, NULL, reg, "192.0.2.1", NULL), ==, ACME_OK);
    g_assert_cmpint(
        acme_tlsalpn01_lookup_pem(
            &cert, NULL, reg,
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", NULL),
        ==, ACME_OK);
    san = pem_first_san(cert);
    g_assert_cmpstr(san, ==, "2001:db8::1");
    g_free(san);
    acme_free(cert);
    /* Another spelling of the same address. */
    g_assert_cmpint(acme_tlsalpn01_remove(reg, "2001:0db8:0:0::0:1", NULL, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_tlsalpn01_lookup_pem(NULL, NULL, reg, "192.0.2.2", NULL), ==,
                    ACME_E_NOTFOUND);
    acme_tlsalpn01_free(reg);
}

typedef struct bad_name {
    const char *name;
    int code;
} bad_name;

static const bad_name bad_names[] = {
    { "", ACME_E_INVALID },
    { "*.example.com", ACME_E_INVALID },
    { "exa mple.com", ACME_E_INVALID },
    { "-a.example.com", ACME_E_INVALID },
    { "a-.example.com", ACME_E_INVALID },
    { "a..example.com", ACME_E_INVALID },
    { ".example.com", ACME_E_INVALID },
    { "example.com..", ACME_E_INVALID },
    { "a_b.example.com", ACME_E_INVALID },
    { "example.com/../x", ACME_E_INVALID },
    { "example.com\n", ACME_E_INVALID },
    { "fe80::1%eth0", ACME_E_INVALID },
    { "[2001:db8::1]", ACME_E_INVALID },
    { "ab--c.example", ACME_E_INVALID },
    { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example", ACME_E_INVALID },
    /* Not UTF-8 (a Latin-1 "é"). */
    { "\xe9t\xe9.example", ACME_E_INVALID },
};

static void test_registry_invalid_name(gconstpointer data)
{
    const bad_name *b = data;
    acme_tlsalpn01 *reg;
    acme_error *err = NULL;

    g_assert_cmpint(acme_tlsalpn01_new(&reg, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_tlsalpn01_add(reg, b->name, KEYAUTH_A, &err), ==, b->code);
    g_assert_nonnull(err);
    g_assert_cmpint(acme_error_code_get(err), ==, b->code);
    g_assert_nonnull(acme_error_message(err));
    acme_error_free(err);
    err = NULL;
    g_assert_cmpint(acme_tlsalpn01_lookup_pem(NULL, NULL, reg, b->name, &err), ==, b->code);
    acme_error_free(err);
    g_assert_cmpuint(acme_tlsalpn01_count(reg), ==, 0);
    acme_tlsalpn01_free(reg);
}

static void test_registry_long_names(void)
{
    acme_tlsalpn01 *reg;
    GString *name = g_string_new(NULL);

    g_assert_cmpint(acme_tlsalpn01_new(&reg, NULL), ==, ACME_OK);
    /* 63-byte labels are fine; 253 bytes in all is the most. */
    for (int i = 0; i < 3; i++)
        g_string_append(name, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.");
    while (name->len < 253)
        g_string_append_c(name, 'b');
    g_assert_cmpuint(name->len, ==, 253);
    g_assert_cmpint(acme_tlsalpn01_add(reg, name->str, KEYAUTH_A, NULL), ==, ACME_OK);
    g_string_prepend(name, "c.");
    g_assert_cmpint(acme_tlsalpn01_add(reg, name->str, KEYAUTH_A, NULL), ==, ACME_E_INVALID);
    g_assert_cmpint(acme_tlsalpn01_add(reg, "localhost", KEYAUTH_A, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_tlsalpn01_add(reg, "xn--tt-bja.example", KEYAUTH_A, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_tlsalpn01_add(reg, "example.com", "", NULL), ==, ACME_E_INVALID);
    g_assert_cmpint(acme_tlsalpn01_add(reg, "example.com", NULL, NULL), ==, ACME_E_INVALID);
    g_assert_cmpint(acme_tlsalpn01_add(reg, NULL, KEYAUTH_A, NULL), ==, ACME_E_INVALID);
    g_assert_cmpint(acme_tlsalpn01_add(NULL, "example.com", KEYAUTH_A, NULL), ==,
                    ACME_E_INVALID);
    g_assert_cmpuint(acme_tlsalpn01_count(reg), ==, 3);
    g_string_free(name, TRUE);
    acme_tlsalpn01_free(reg);
}

/* Adds, removes and lookups from several threads at once (for TSan). */
typedef struct {
    acme_tlsalpn01 *reg;
    int id;
    int failures;
} worker;

static void *registry_worker(void *arg)
{
    worker *w = arg;
    char name[32];

    g_snprintf(name, sizeof(name), "w%d.example", w->id);
    for (int i = 0; i < 10; i++) {
        char *cert = NULL;

        if (acme_tlsalpn01_add(w->reg, name, KEYAUTH_A, NULL) != ACME_OK ||
            acme_tlsalpn01_lookup_pem(&cert, NULL, w->reg, name, NULL) != ACME_OK ||
            acme_tlsalpn01_lookup_pem(NULL, NULL, w->reg, "shared.example", NULL) != ACME_OK ||
            acme_tlsalpn01_remove(w->reg, name, KEYAUTH_A, NULL) != ACME_OK)
            w->failures++;
        acme_free(cert);
    }
    return NULL;
}

static void test_registry_threads(void)
{
    acme_tlsalpn01 *reg;
    pthread_t t[4];
    worker w[4];

    g_assert_cmpint(acme_tlsalpn01_new(&reg, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_tlsalpn01_add(reg, "shared.example", KEYAUTH_B, NULL), ==, ACME_OK);
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){ reg, i, 0 };
        g_assert_cmpint(pthread_create(&t[i], NULL, registry_worker, &w[i]), ==, 0);
    }
    for (int i = 0; i < 4; i++) {
        g_assert_cmpint(pthread_join(t[i], NULL), ==, 0);
        g_assert_cmpint(w[i].failures, ==, 0);
    }
    g_assert_cmpuint(acme_tlsalpn01_count(reg), ==, 1);
    acme_tlsalpn01_free(reg);
}

/* ------------------------------------------------------------------ */
/* Responders                                                           */
/* ------------------------------------------------------------------ */

static void test_responder_tlsalpn01(void)
{
    acme_tlsalpn01 *reg;
    acme_responder *r = NULL;
    acme_error *err = NULL;

    g_assert_cmpint(acme_tlsalpn01_new(&reg, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_tlsalpn01_responder(&r, NULL, &err), ==, ACME_E_INVALID);
    g_assert_null(r);
    acme_error_free(err);
    err = NULL;
    g_assert_cmpint(acme_tlsalpn01_responder(&r, reg, &err), ==, ACME_OK);
    g_assert_cmpstr(acme_responder_challenge_type(r), ==, "tls-alpn-01");
    g_assert_true(acme_responder_self(r) == reg);

    g_assert_cmpint(r->ops->start(r->self, "example.com", NULL, KEYAUTH_A, &err), ==, ACME_OK);
    g_assert_cmpint(acme_tlsalpn01_lookup_pem(NULL, NULL, reg, "example.com", NULL), ==, ACME_OK);
    r->ops->stop(r->self, "example.com", NULL, KEYAUTH_A);
    g_assert_cmpint(acme_tlsalpn01_lookup_pem(NULL, NULL, reg, "example.com", NULL), ==,
                    ACME_E_NOTFOUND);
    /* Stopping twice is harmless. */
    r->ops->stop(r->self, "example.com", NULL, KEYAUTH_A);
    g_assert_cmpint(r->ops->start(r->self, "*.example.com", NULL, KEYAUTH_A, &err), ==,
                    ACME_E_INVALID);
    g_assert_nonnull(err);
    acme_error_free(err);
    g_assert_cmpuint(acme_tlsalpn01_count(reg), ==, 0);
    acme_responder_free(r);
    acme_tlsalpn01_free(reg);
}

static void test_responder_null(void)
{
    static const char *const types[] = { "http-01", "dns-01", "tls-alpn-01", "x-custom.1" };
    static const char *const bad_types[] = { "", "http 01", "a/b", "dns-01\n" };
    acme_responder *r = NULL;
    acme_error *err = NULL;

    for (size_t i = 0; i < G_N_ELEMENTS(types); i++) {
        g_assert_cmpint(acme_responder_null_new(&r, types[i], &err), ==, ACME_OK);
        g_assert_null(err);
        g_assert_cmpstr(acme_responder_challenge_type(r), ==, types[i]);
        g_assert_cmpstr(acme_responder_name(r), ==, "null");
        g_assert_cmpint(r->ops->start(r->self, "example.com", NULL, KEYAUTH_A, &err), ==,
                        ACME_OK);
        g_assert_cmpint(r->ops->start(r->self, "192.0.2.1", NULL, KEYAUTH_A, &err), ==,
                        ACME_OK);
        r->ops->stop(r->self, "example.com", NULL, KEYAUTH_A);
        g_assert_cmpint(r->ops->start(r->self, "../etc/passwd", NULL, KEYAUTH_A, &err), ==,
                        ACME_E_INVALID);
        g_assert_nonnull(err);
        acme_error_free(err);
        err = NULL;
        acme_responder_free(r);
        r = NULL;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(bad_types); i++) {
        g_assert_cmpint(acme_responder_null_new(&r, bad_types[i], &err), ==, ACME_E_INVALID);
        g_assert_null(r);
        g_assert_nonnull(err);
        acme_error_free(err);
        err = NULL;
    }
    g_assert_cmpint(acme_responder_null_new(&r, NULL, NULL), ==, ACME_E_INVALID);
}

/* ------------------------------------------------------------------ */
/* The standalone listener                                              */
/* ------------------------------------------------------------------ */

static void test_listen_serves(Fixture *f, gconstpointer data)
{
    const char *priority = data;
    hs_result r;

    tls_connect(&r, f->port, "example.com", "acme-tls/1", priority);
    g_assert_cmpint(r.ret, ==, 0);
    g_assert_cmpstr(r.alpn, ==, "acme-tls/1");
    g_assert_cmpuint(r.ncerts, ==, 1);
    check_challenge_cert(r.crt, "example.com", KEYAUTH_A);
    g_assert_true(r.closed);
    if (priority && strstr(priority, "+VERS-TLS1.2") && !strstr(priority, "1.3"))
        g_assert_cmpint(r.version, ==, GNUTLS_TLS1_2);
    hs_clear(&r);
    /* Any case of the SNI. */
    tls_connect(&r, f->port, "EXAMPLE.com", "acme-tls/1", priority);
    g_assert_cmpint(r.ret, ==, 0);
    check_challenge_cert(r.crt, "example.com", KEYAUTH_A);
    hs_clear(&r);
}

static void test_listen_two_names(Fixture *f, gconstpointer data)
{
    hs_result r;

    g_assert_cmpint(acme_tlsalpn01_add(f->reg, "other.example", KEYAUTH_B, NULL), ==, ACME_OK);
    tls_connect(&r, f->port, "other.example", "acme-tls/1", NULL);
    g_assert_cmpint(r.ret, ==, 0);
    check_challenge_cert(r.crt, "other.example", KEYAUTH_B);
    hs_clear(&r);
    tls_connect(&r, f->port, "example.com", "acme-tls/1", NULL);
    g_assert_cmpint(r.ret, ==, 0);
    check_challenge_cert(r.crt, "example.com", KEYAUTH_A);
    hs_clear(&r);
    /* Removed: refused from then on. */
    g_assert_cmpint(acme_tlsalpn01_remove(f->reg, "other.example", NULL, NULL), ==, ACME_OK);
    tls_connect(&r, f->port, "other.example", "acme-tls/1", NULL);
    g_assert_cmpint(r.ret, ==, GNUTLS_E_FATAL_ALERT_RECEIVED);
    g_assert_cmpint(r.alert, ==, GNUTLS_A_UNRECOGNIZED_NAME);
}

static void test_listen_no_alpn(Fixture *f, gconstpointer data)
{
    hs_result r;

    tls_connect(&r, f->port, "example.com", NULL, NULL);
    g_assert_cmpint(r.ret, ==, GNUTLS_E_FATAL_ALERT_RECEIVED);
    g_assert_cmpint(r.alert, ==, GNUTLS_A_NO_APPLICATION_PROTOCOL);
    g_assert_null(r.crt);
    tls_connect(&r, f->port, "example.com", "h2", NULL);
    g_assert_cmpint(r.ret, ==, GNUTLS_E_FATAL_ALERT_RECEIVED);
    g_assert_cmpint(r.alert, ==, GNUTLS_A_NO_APPLICATION_PROTOCOL);
    g_assert_null(r.crt);
}

static void test_listen_unknown_sni(Fixture *f, gconstpointer data)
{
    hs_result r;

    tls_connect(&r, f->port, "unknown.example", "acme-tls/1", NULL);
    g_assert_cmpint(r.ret, ==, GNUTLS_E_FATAL_ALERT_RECEIVED);
    g_assert_cmpint(r.alert, ==, GNUTLS_A_UNRECOGNIZED_NAME);
    g_assert_null(r.crt);
    /* No SNI at all. */
    tls_connect(&r, f->port, NULL, "acme-tls/1", NULL);
    g_assert_cmpint(r.ret, ==, GNUTLS_E_FATAL_ALERT_RECEIVED);
    g_assert_cmpint(r.alert, ==, GNUTLS_A_UNRECOGNIZED_NAME);
    /* Not a host name. */
    tls_connect(&r, f->port, "a..b", "acme-tls/1", NULL);
    g_assert_cmpint(r.ret, ==, GNUTLS_E_FATAL_ALERT_RECEIVED);
    g_assert_cmpint(r.alert, ==, GNUTLS_A_UNRECOGNIZED_NAME);
}

/*
 * Garbage instead of a ClientHello and a client that never speaks do not
 * keep the CA waiting: with a handshake timeout of an hour, a listener
 * that handled one connection at a time would never reach the good one.
 */
static void test_listen_garbage_and_stall(Fixture *f, gconstpointer data)
{
    static const char garbage[] = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";
    int stalled = tcp_connect(f->port);
    int junk = tcp_connect(f->port);
    hs_result r;

    g_assert_cmpint(write(junk, garbage, sizeof(garbage) - 1), ==, (ssize_t)sizeof(garbage) - 1);
    tls_connect(&r, f->port, "example.com", "acme-tls/1", NULL);
    g_assert_cmpint(r.ret, ==, 0);
    check_challenge_cert(r.crt, "example.com", KEYAUTH_A);
    hs_clear(&r);
    /* The garbage got the connection closed, and a half-sent ClientHello
     * (a TLS record header, then nothing) stalls like silence. */
    g_assert_true(wait_closed(junk));
    g_assert_cmpint(write(stalled, "\x16\x03\x01\x02\x00", 5), ==, 5);
    tls_connect(&r, f->port, "example.com", "acme-tls/1", NULL);
    g_assert_cmpint(r.ret, ==, 0);
    hs_clear(&r);
    close(junk);
    close(stalled);
}

/* A stalled client is dropped when its handshake time is up. */
static void test_listen_timeout(void)
{
    Fixture f;
    int stalled;
    hs_result r;

    fixture_open(&f, 100);
    stalled = tcp_connect(f.port);
    g_assert_true(wait_closed(stalled));
    close(stalled);
    tls_connect(&r, f.port, "example.com", "acme-tls/1", NULL);
    g_assert_cmpint(r.ret, ==, 0);
    hs_clear(&r);
    teardown(&f, NULL);
}

/*
 * Free closes connections in progress and joins the thread at once: the
 * stalled client's handshake time (an hour) does not hold it up, and the
 * client sees its connection closed.
 */
static void test_listen_free_joins(void)
{
    Fixture f;
    int stalled;
    hs_result r;

    fixture_open(&f, NEVER_MS);
    stalled = tcp_connect(f.port);
    /* A handshake served after the stalled connect means the listener has
     * accepted the stalled connection too (it accepts in order). */
    tls_connect(&r, f.port, "example.com", "acme-tls/1", NULL);
    g_assert_cmpint(r.ret, ==, 0);
    hs_clear(&r);
    acme_tlsalpn01_server_free(f.srv);
    g_assert_true(wait_closed(stalled));
    close(stalled);
    /* Nobody listens any more. */
    {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)f.port) };
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        g_assert_cmpint(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, -1);
        g_assert_cmpint(errno, ==, ECONNREFUSED);
        close(fd);
    }
    acme_tlsalpn01_free(f.reg);
}

static void test_listen_bad_args(Fixture *f, gconstpointer data)
{
    acme_tlsalpn01_server *srv = NULL;
    acme_error *err = NULL;

    g_assert_cmpint(acme_tlsalpn01_listen(&srv, f->reg, "localhost", 0, &err), ==,
                    ACME_E_INVALID);
    g_assert_null(srv);
    g_assert_cmpint(acme_error_code_get(err), ==, ACME_E_INVALID);
    acme_error_free(err);
    err = NULL;
    g_assert_cmpint(acme_tlsalpn01_listen(&srv, f->reg, "127.0.0.1", 65536, &err), ==,
                    ACME_E_INVALID);
    acme_error_free(err);
    err = NULL;
    g_assert_cmpint(acme_tlsalpn01_listen(&srv, NULL, "127.0.0.1", 0, &err), ==, ACME_E_INVALID);
    acme_error_free(err);
    err = NULL;
    /* The port is taken (by the fixture's listener). */
    g_assert_cmpint(acme_tlsalpn01_listen(&srv, f->reg, "127.0.0.1", f->port, &err), ==,
                    ACME_E_IO);
    g_assert_null(srv);
    g_assert_nonnull(strstr(acme_error_message(err), "listen"));
    acme_error_free(err);
    acme_tlsalpn01_server_free(NULL);
    g_assert_cmpuint(acme_tlsalpn01_server_port(NULL), ==, 0);
}

static void test_listen_ipv6(void)
{
    acme_tlsalpn01 *reg;
    acme_tlsalpn01_server *srv = NULL;
    acme_error *err = NULL;

    g_assert_cmpint(acme_tlsalpn01_new(&reg, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_tlsalpn01_listen(&srv, reg, "::1", 0, &err), ==, ACME_OK);
    g_assert_cmpuint(acme_tlsalpn01_server_port(srv), >, 0);
    acme_tlsalpn01_server_free(srv);
    acme_tlsalpn01_free(reg);
}

/* A real client nobody here wrote. */
static void test_listen_gnutls_cli(Fixture *f, gconstpointer data)
{
    gchar *prog = g_find_program_in_path("gnutls-cli");
    gchar *port = g_strdup_printf("%u", f->port);
    gchar *out = NULL, *errout = NULL;
    gint status = -1;
    GError *error = NULL;

    g_assert_nonnull(prog);  /* Debian: gnutls-bin */
    {
        gchar *argv[] = { prog, "--alpn=acme-tls/1", "--sni-hostname", "example.com",
                          "--insecure", "-p", port, "127.0.0.1", NULL };

        g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &errout,
                                   &status, &error));
    }
    g_assert_no_error(error);
    if (g_test_verbose())
        g_test_message("gnutls-cli: %s\n%s", out, errout);
    /* It printed the challenge certificate and the protocol. */
    g_assert_nonnull(strstr(out, "subject `CN=example.com'"));
    g_assert_nonnull(strstr(out, "Handshake was completed"));
    g_assert_nonnull(strstr(out, "Application protocol: acme-tls/1"));
    /* and the listener closed the connection after the handshake. */
    g_assert_nonnull(strstr(out, "Peer has closed the GnuTLS connection"));
    g_free(out);
    g_free(errout);
    g_free(port);
    g_free(prog);
}

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    /* A server that closes first must not kill the test with SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    g_assert_cmpint(acme_global_init(), ==, ACME_OK);

    g_test_add_func("/tlsalpn01/registry/add-remove", test_registry_add_remove);
    g_test_add_func("/tlsalpn01/registry/case-insensitive", test_registry_case);
    g_test_add_func("/tlsalpn01/registry/two-names", test_registry_two_names);
    g_test_add_func("/tlsalpn01/registry/same-name-twice", test_registry_same_name);
    g_test_add_func("/tlsalpn01/registry/ip", test_registry_ip);
    for (size_t i = 0; i < G_N_ELEMENTS(bad_names); i++) {
        gchar *path = g_strdup_printf("/tlsalpn01/registry/invalid-name/%zu", i);

        g_test_add_data_func(path, &bad_names[i], test_registry_invalid_name);
        g_free(path);
    }
    g_test_add_func("/tlsalpn01/registry/lengths-and-args", test_registry_long_names);
    g_test_add_func("/tlsalpn01/registry/threads", test_registry_threads);
    g_test_add_func("/tlsalpn01/responder/start-stop", test_responder_tlsalpn01);
    g_test_add_func("/testing/null-responder", test_responder_null);
    g_test_add("/tlsalpn01/listen/serves", Fixture, NULL, setup, test_listen_serves, teardown);
    g_test_add("/tlsalpn01/listen/serves-tls12", Fixture, "NORMAL:-VERS-ALL:+VERS-TLS1.2", setup,
               test_listen_serves, teardown);
    g_test_add("/tlsalpn01/listen/serves-tls13", Fixture, "NORMAL:-VERS-ALL:+VERS-TLS1.3", setup,
               test_listen_serves, teardown);
    g_test_add("/tlsalpn01/listen/two-names", Fixture, NULL, setup, test_listen_two_names,
               teardown);
    g_test_add("/tlsalpn01/listen/no-alpn", Fixture, NULL, setup, test_listen_no_alpn, teardown);
    g_test_add("/tlsalpn01/listen/unknown-sni", Fixture, NULL, setup, test_listen_unknown_sni,
               teardown);
    g_test_add("/tlsalpn01/listen/garbage-and-stall", Fixture, NULL, setup,
               test_listen_garbage_and_stall, teardown);
    g_test_add_func("/tlsalpn01/listen/timeout", test_listen_timeout);
    g_test_add_func("/tlsalpn01/listen/free-joins", test_listen_free_joins);
    g_test_add("/tlsalpn01/listen/bad-args", Fixture, NULL, setup, test_listen_bad_args,
               teardown);
    g_test_add_func("/tlsalpn01/listen/ipv6", test_listen_ipv6);
    g_test_add("/tlsalpn01/listen/gnutls-cli", Fixture, NULL, setup, test_listen_gnutls_cli,
               teardown);

    rc = g_test_run();
    acme_global_cleanup();
    return rc;
}
