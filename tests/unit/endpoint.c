/*
 * Unit tests: the TLS SNI server endpoint and endpoint strings.
 *
 * The endpoint is checked with a GnuTLS client written here (SNI,
 * certificates, alerts, ALPN), and with clients that misbehave (garbage,
 * stalls, early disconnects) while descriptors are counted.  Certificates
 * are made with GnuTLS directly (tests/unit/store-certs.c), not with
 * libacme.
 */
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <acme/acme.h>

#include "store-certs.h"

#define OID_ACME_IDENTIFIER "1.3.6.1.5.5.7.1.31"
#define KEYAUTH "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"

size_t acme__endpoint_cache_count(acme_endpoint *ep);

/* ------------------------------------------------------------------ */
/* Endpoint strings                                                     */
/* ------------------------------------------------------------------ */

static char *tmpdir;  /* an existing, writable directory for DIR */

typedef struct good_case {
    const char *s;             /* "%D" stands for tmpdir */
    const char *url;
    const char *sub;           /* canonical */
    acme_endpoint_kind kind;
    unsigned int port;
    const char *iface;
    int backlog;
    const char *path;
} good_case;

static const good_case good_cases[] = {
    { "le:%D:tcp:443", ACME_LE_DIRECTORY_PRODUCTION, "tcp:443", ACME_ENDPOINT_TCP, 443, NULL, 50,
      NULL },
    { "lets:%D:tcp:0", ACME_LE_DIRECTORY_STAGING, "tcp:0", ACME_ENDPOINT_TCP, 0, NULL, 50, NULL },
    { "le:%D:tcp:port=8443:interface=127.0.0.1:backlog=7", ACME_LE_DIRECTORY_PRODUCTION,
      "tcp:8443:interface=127.0.0.1:backlog=7", ACME_ENDPOINT_TCP, 8443, "127.0.0.1", 7, NULL },
    { "le:%D:tcp:interface=127.0.0.1:65535", ACME_LE_DIRECTORY_PRODUCTION,
      "tcp:65535:interface=127.0.0.1", ACME_ENDPOINT_TCP, 65535, "127.0.0.1", 50, NULL },
    { "lets:%D:tcp6:443:interface=\\:\\:1", ACME_LE_DIRECTORY_STAGING, "tcp6:443:interface=\\:\\:1",
      ACME_ENDPOINT_TCP6, 443, "::1", 50, NULL },
    { "le:%D:unix:/run/x.sock", ACME_LE_DIRECTORY_PRODUCTION, "unix:/run/x.sock",
      ACME_ENDPOINT_UNIX, 0, NULL, 50, "/run/x.sock" },
    { "le:%D:unix:address=/run/a\\:b:backlog=3", ACME_LE_DIRECTORY_PRODUCTION,
      "unix:/run/a\\:b:backlog=3", ACME_ENDPOINT_UNIX, 0, NULL, 3, "/run/a:b" },
    /* A path with ".." is a path (the administrator names it). */
    { "le:%D:unix:../up/../x.sock", ACME_LE_DIRECTORY_PRODUCTION, "unix:../up/../x.sock",
      ACME_ENDPOINT_UNIX, 0, NULL, 50, "../up/../x.sock" },
    { "acme:https\\://127.0.0.1\\:14000/dir:%D:tcp:443", "https://127.0.0.1:14000/dir", "tcp:443",
      ACME_ENDPOINT_TCP, 443, NULL, 50, NULL },
    { "acme:https\\://acme.zerossl.com/v2/DV90:%D:tcp6:0", "https://acme.zerossl.com/v2/DV90",
      "tcp6:0", ACME_ENDPOINT_TCP6, 0, NULL, 50, NULL },
};

static char *expand(const char *s)
{
    gchar **parts = g_strsplit(s, "%D", -1);
    char *out = g_strjoinv(tmpdir, parts);

    g_strfreev(parts);
    return out;
}

static void test_string_good(gconstpointer data)
{
    const good_case *c = data;
    char *s = expand(c->s);
    acme_endpoint_spec *spec = NULL, *again = NULL;
    acme_error *err = NULL;

    g_assert_cmpint(acme_endpoint_string_parse(&spec, s, &err), ==, ACME_OK);
    g_assert_null(err);
    g_assert_cmpstr(acme_endpoint_spec_directory_url(spec), ==, c->url);
    g_assert_cmpstr(acme_endpoint_spec_cert_dir(spec), ==, tmpdir);
    g_assert_cmpstr(acme_endpoint_spec_sub_endpoint(spec), ==, c->sub);
    g_assert_cmpint(acme_endpoint_spec_kind(spec), ==, c->kind);
    g_assert_cmpuint(acme_endpoint_spec_port(spec), ==, c->port);
    g_assert_cmpstr(acme_endpoint_spec_interface(spec), ==, c->iface);
    g_assert_cmpint(acme_endpoint_spec_backlog(spec), ==, c->backlog);
    g_assert_cmpstr(acme_endpoint_spec_path(spec), ==, c->path);
    /* The canonical sub-endpoint parses to the same thing. */
    g_assert_cmpint(acme_endpoint_sub_parse(&again, acme_endpoint_spec_sub_endpoint(spec), NULL),
                    ==, ACME_OK);
    g_assert_cmpstr(acme_endpoint_spec_sub_endpoint(again), ==, c->sub);
    g_assert_null(acme_endpoint_spec_cert_dir(again));
    g_assert_null(acme_endpoint_spec_directory_url(again));
    acme_endpoint_spec_free(again);
    acme_endpoint_spec_free(spec);
    g_free(s);
}

typedef struct bad_case {
    const char *s;
    int code;
    const char *msg;  /* a piece of the message */
} bad_case;

static const bad_case bad_cases[] = {
    { "", ACME_E_INVALID, "unknown endpoint type" },
    { "xx:%D:tcp:443", ACME_E_INVALID, "unknown endpoint type" },
    { "le", ACME_E_INVALID, "needs a certificate directory" },
    { "le:%D", ACME_E_INVALID, "needs a certificate directory" },
    { "le:%D:", ACME_E_INVALID, "no sub-endpoint" },
    { "le::tcp:443", ACME_E_INVALID, "directory is empty" },
    { "le:%D/missing:tcp:443", ACME_E_NOTFOUND, "missing" },
    { "le:/etc/passwd:tcp:443", ACME_E_IO, "not a directory" },
    { "le:/etc/passwd/x:tcp:443", ACME_E_NOTFOUND, "passwd" },
    { "le:%D/../no/such/../dir:tcp:443", ACME_E_NOTFOUND, "no/such" },
    { "le:%D/a\tb:tcp:443", ACME_E_INVALID, "control character" },
    { "le:%D:udp:53", ACME_E_INVALID, "unknown sub-endpoint type" },
    { "le:%D:tcp", ACME_E_INVALID, "needs a port" },
    { "le:%D:tcp:", ACME_E_INVALID, "needs a port" },
    { "le:%D:tcp:65536", ACME_E_INVALID, "bad port" },
    { "le:%D:tcp:-1", ACME_E_INVALID, "bad port" },
    { "le:%D:tcp:44x", ACME_E_INVALID, "bad port" },
    { "le:%D:tcp: 443", ACME_E_INVALID, "bad port" },
    { "le:%D:tcp:99999999999", ACME_E_INVALID, "bad port" },
    { "le:%D:tcp:443:color=blue", ACME_E_INVALID, "unknown key \"color\"" },
    { "le:%D:tcp:443:address=/x", ACME_E_INVALID, "unknown key \"address\"" },
    { "le:%D:unix:/x:interface=127.0.0.1", ACME_E_INVALID, "unknown key \"interface\"" },
    { "le:%D:tcp:443:444", ACME_E_INVALID, "unexpected argument" },
    { "le:%D:tcp:443:port=444", ACME_E_INVALID, "twice" },
    { "le:%D:tcp:443:backlog=1:backlog=2", ACME_E_INVALID, "given twice" },
    { "le:%D:tcp:443:backlog=0", ACME_E_INVALID, "bad backlog" },
    { "le:%D:tcp:443:backlog=", ACME_E_INVALID, "bad backlog" },
    { "le:%D:tcp:443:interface=::1", ACME_E_INVALID, "unexpected argument" },
    { "le:%D:tcp:443:interface=\\:\\:1", ACME_E_INVALID, "IPv4" },
    { "le:%D:tcp6:443:interface=127.0.0.1", ACME_E_INVALID, "IPv6" },
    { "le:%D:tcp:443:interface=localhost", ACME_E_INVALID, "bad interface" },
    { "le:%D:unix:", ACME_E_INVALID, "needs a path" },
    { "le:%D:unix:/a\nb", ACME_E_INVALID, "control character" },
    { "le:%D:unix:/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", ACME_E_INVALID, "too long" },
    { "le:%D\\n:tcp:443", ACME_E_INVALID, "bad escape \"\\n\"" },
    { "le:%D:tcp:443\\", ACME_E_INVALID, "lone backslash" },
    { "le:C\\Users:tcp:443", ACME_E_INVALID, "bad escape" },
    { "acme:%D:tcp:443", ACME_E_INVALID, "not an https:// URL" },
    { "acme:https://127.0.0.1:14000/dir:%D:tcp:443", ACME_E_INVALID, "not an https:// URL" },
    { "acme:https\\://:%D:tcp:443", ACME_E_INVALID, "has no host" },
    { "acme:https\\://a b:%D:tcp:443", ACME_E_INVALID, "white space" },
    { "acme", ACME_E_INVALID, "needs a directory URL" },
    { "acme:https\\://ca.example/dir:%D", ACME_E_INVALID, "needs a certificate directory" },
};

static void test_string_bad(gconstpointer data)
{
    const bad_case *c = data;
    char *s = expand(c->s);
    acme_endpoint_spec *spec = (acme_endpoint_spec *)&spec;
    acme_error *err = NULL;

    g_assert_cmpint(acme_endpoint_string_parse(&spec, s, &err), ==, c->code);
    g_assert_null(spec);
    g_assert_nonnull(err);
    g_assert_cmpint(acme_error_code_get(err), ==, c->code);
    if (!strstr(acme_error_message(err), c->msg))
        g_error("\"%s\": message \"%s\" lacks \"%s\"", s, acme_error_message(err), c->msg);
    acme_error_free(err);
    g_free(s);
}

static void test_string_unwritable(void)
{
    char *ro = g_build_filename(tmpdir, "ro", NULL), *file = g_build_filename(tmpdir, "f", NULL);
    char *s;
    acme_endpoint_spec *spec = NULL;
    acme_error *err = NULL;

    /* root writes anywhere: a file (not a directory) is the check that holds for everyone. */
    g_assert_true(g_file_set_contents(file, "x", 1, NULL));
    s = g_strdup_printf("le:%s:tcp:443", file);
    g_assert_cmpint(acme_endpoint_string_parse(&spec, s, &err), ==, ACME_E_IO);
    g_assert_nonnull(strstr(acme_error_message(err), "not a directory"));
    acme_error_free(err);
    err = NULL;
    g_free(s);
    if (geteuid() != 0) {
        g_assert_cmpint(g_mkdir(ro, 0500), ==, 0);
        s = g_strdup_printf("le:%s:tcp:443", ro);
        g_assert_cmpint(acme_endpoint_string_parse(&spec, s, &err), ==, ACME_E_IO);
        g_assert_nonnull(strstr(acme_error_message(err), "not writable"));
        acme_error_free(err);
        g_free(s);
        g_rmdir(ro);
    }
    g_unlink(file);
    g_free(ro);
    g_free(file);
}

/* The spec opens the directory store and makes client.key, then loads it. */
static void test_string_open(void)
{
    char *dir = g_build_filename(tmpdir, "open", NULL), *s, *keyfile;
    acme_endpoint_spec *spec = NULL;
    acme_store *store = NULL;
    acme_key *k1 = NULL, *k2 = NULL;

    g_assert_cmpint(g_mkdir(dir, 0700), ==, 0);
    s = g_strdup_printf("lets:%s:tcp:0", dir);
    keyfile = g_build_filename(dir, "client.key", NULL);
    g_assert_cmpint(acme_endpoint_string_parse(&spec, s, NULL), ==, ACME_OK);
    g_assert_false(g_file_test(keyfile, G_FILE_TEST_EXISTS));
    g_assert_cmpint(acme_endpoint_spec_open(&store, &k1, spec, NULL), ==, ACME_OK);
    g_assert_true(g_file_test(keyfile, G_FILE_TEST_EXISTS));
    g_assert_cmpstr(acme_store_backend(store), ==, "dir");
    acme_store_free(store);
    g_assert_cmpint(acme_endpoint_spec_open(NULL, &k2, spec, NULL), ==, ACME_OK);
    g_assert_true(acme_key_equal(k1, k2));
    acme_key_free(k1);
    acme_key_free(k2);
    acme_endpoint_spec_free(spec);
    /* A sub-endpoint alone names no directory. */
    g_assert_cmpint(acme_endpoint_sub_parse(&spec, "tcp:0", NULL), ==, ACME_OK);
    g_assert_cmpint(acme_endpoint_spec_open(&store, NULL, spec, NULL), ==, ACME_E_INVALID);
    acme_endpoint_spec_free(spec);
    g_unlink(keyfile);
    g_rmdir(dir);
    g_free(keyfile);
    g_free(s);
    g_free(dir);
}

/* ------------------------------------------------------------------ */
/* Helpers                                                              */
/* ------------------------------------------------------------------ */

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    g_assert_nonnull(d);
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1;  /* the directory stream's own */
}

/* Put a fresh chain for @p sans under @p name; returns the leaf PEM (g_free). */
static char *store_put_chain(acme_store *store, const char *name, const char *const *sans)
{
    tchain ch;
    char *pem, *leaf;
    acme_bundle *b = NULL;
    acme_error *err = NULL;

    tchain_make(&ch, TKEY_EC, sans);
    pem = g_strconcat(ch.leaf.key_pem, ch.leaf.cert_pem, ch.ca.cert_pem, NULL);
    if (acme_bundle_from_pem(&b, pem, strlen(pem), &err) < 0)
        g_error("bundle: %s", acme_error_message(err));
    g_assert_cmpint(acme_store_put(store, name, b, NULL), ==, ACME_OK);
    leaf = g_strdup(ch.leaf.cert_pem);
    acme_bundle_free(b);
    g_free(pem);
    tchain_clear(&ch);
    return leaf;
}

static int tcp_connect(unsigned int port)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    /* Safety net only: a broken endpoint fails the test instead of hanging it. */
    struct timeval tv = { .tv_sec = 30 };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_assert_cmpint(fd, >=, 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    g_assert_cmpint(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    g_assert_cmpint(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), ==, 0);
    g_assert_cmpint(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), ==, 0);
    return fd;
}

/* Read until the server closes; true when it did. */
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
            return false;
    }
}

typedef struct hs_result {
    int ret;               /* gnutls_handshake() */
    int alert;             /* the fatal alert received, or -1 */
    char *leaf_pem;        /* the server's certificate, PEM */
    char *san;             /* its first DNS SAN */
    bool challenge;        /* it carries id-pe-acmeIdentifier */
    char *reply;           /* what the handler sent back */
} hs_result;

static void hs_clear(hs_result *r)
{
    g_free(r->leaf_pem);
    g_free(r->san);
    g_free(r->reply);
    memset(r, 0, sizeof(*r));
}

/*
 * A TLS client on @p fd: offer @p sni and @p alpn (NULL: none), handshake,
 * send "ping", read what comes back until the server closes.
 */
static void tls_client_fd(hs_result *r, int fd, const char *sni, const char *alpn)
{
    gnutls_certificate_credentials_t creds;
    gnutls_session_t s;

    memset(r, 0, sizeof(*r));
    r->alert = -1;
    g_assert_cmpint(gnutls_certificate_allocate_credentials(&creds), ==, 0);
    g_assert_cmpint(gnutls_init(&s, GNUTLS_CLIENT), ==, 0);
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
        unsigned int n = 0;
        const gnutls_datum_t *certs = gnutls_certificate_get_peers(s, &n);
        gnutls_x509_crt_t crt;
        gnutls_datum_t pem = { NULL, 0 }, ext = { NULL, 0 };
        char san[256];
        size_t len = sizeof(san);
        unsigned int critical = 0;
        GString *reply = g_string_new(NULL);
        char buf[256];
        ssize_t got;

        g_assert_nonnull(certs);
        g_assert_cmpint(gnutls_x509_crt_init(&crt), ==, 0);
        g_assert_cmpint(gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER), ==, 0);
        g_assert_cmpint(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &pem), ==, 0);
        r->leaf_pem = g_strndup((char *)pem.data, pem.size);
        gnutls_free(pem.data);
        if (gnutls_x509_crt_get_subject_alt_name(crt, 0, san, &len, &critical) ==
            GNUTLS_SAN_DNSNAME)
            r->san = g_strndup(san, len);
        r->challenge = gnutls_x509_crt_get_extension_by_oid2(crt, OID_ACME_IDENTIFIER, 0, &ext,
                                                             &critical) == 0;
        gnutls_free(ext.data);
        gnutls_x509_crt_deinit(crt);
        if (!r->challenge) {
            do
                got = gnutls_record_send(s, "ping", 4);
            while (got == GNUTLS_E_AGAIN || got == GNUTLS_E_INTERRUPTED);
        }
        for (;;) {
            got = gnutls_record_recv(s, buf, sizeof(buf));
            if (got == GNUTLS_E_AGAIN || got == GNUTLS_E_INTERRUPTED)
                continue;
            if (got <= 0)
                break;
            g_string_append_len(reply, buf, got);
        }
        r->reply = g_string_free(reply, FALSE);
    }
    gnutls_deinit(s);
    gnutls_certificate_free_credentials(creds);
}

static void tls_client(hs_result *r, unsigned int port, const char *sni, const char *alpn)
{
    int fd = tcp_connect(port);

    tls_client_fd(r, fd, sni, alpn);
    close(fd);
}

/*
 * The handler: greets with the server name and ALPN, reads one message
 * and echoes it, returns (the endpoint closes).
 */
static void echo_handler(void *userdata, acme_endpoint_conn *conn)
{
    char buf[64];
    size_t n = 0;
    char *hello = g_strdup_printf("hello %s %s\n", acme_endpoint_conn_server_name(conn),
                                  acme_endpoint_conn_alpn(conn) ? acme_endpoint_conn_alpn(conn)
                                                                : "-");

    (void)userdata;
    g_assert_nonnull(acme_endpoint_conn_session(conn));
    g_assert_cmpint(acme_endpoint_conn_fd(conn), >=, 0);
    if (acme_endpoint_conn_write(conn, hello, strlen(hello), NULL) == ACME_OK &&
        acme_endpoint_conn_read(&n, conn, buf, sizeof(buf), NULL) == ACME_OK && n > 0) {
        acme_endpoint_conn_write(conn, "echo:", 5, NULL);
        acme_endpoint_conn_write(conn, buf, n, NULL);
    }
    if (userdata) {  /* closing early, as a handler may */
        acme_endpoint_conn_close(conn);
        g_assert_cmpint(acme_endpoint_conn_fd(conn), ==, -1);
        g_assert_cmpint(acme_endpoint_conn_write(conn, "x", 1, NULL), ==, ACME_E_INVALIDSTATE);
        acme_endpoint_conn_close(conn);
    }
    g_free(hello);
}

typedef struct Fixture {
    acme_store *store;
    acme_tlsalpn01 *reg;
    acme_endpoint *ep;
    char *leaf_a;     /* a.example's certificate */
    char *leaf_b;
    int fds_before;
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data)
{
    static const char *const sans_a[] = { "a.example", "www.a.example", NULL };
    static const char *const sans_b[] = { "b.example", NULL };

    (void)data;
    f->fds_before = count_fds();
    g_assert_cmpint(acme_store_memory_new(&f->store, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_tlsalpn01_new(&f->reg, NULL), ==, ACME_OK);
    f->leaf_a = store_put_chain(f->store, "a.example", sans_a);
    f->leaf_b = store_put_chain(f->store, "b.example", sans_b);
}

static void fixture_listen(Fixture *f, acme_endpoint_options *o)
{
    acme_error *err = NULL;

    o->store = f->store;
    o->tlsalpn01 = f->reg;
    if (!o->handler)
        o->handler = echo_handler;
    g_assert_cmpint(acme_endpoint_new(&f->ep, o, &err), ==, ACME_OK);
    if (acme_endpoint_listen(f->ep, "tcp:0:interface=127.0.0.1", &err) < 0)
        g_error("listen: %s", acme_error_message(err));
    g_assert_cmpuint(acme_endpoint_port(f->ep), >, 0);
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    (void)data;
    acme_endpoint_free(f->ep);
    acme_tlsalpn01_free(f->reg);
    acme_store_free(f->store);
    g_free(f->leaf_a);
    g_free(f->leaf_b);
    /* Every socket, pipe and thread's descriptor is gone. */
    g_assert_cmpint(count_fds(), ==, f->fds_before);
}

/* ------------------------------------------------------------------ */
/* SNI                                                                  */
/* ------------------------------------------------------------------ */

static void test_sni_select(Fixture *f, gconstpointer data)
{
    acme_endpoint_options o = ACME_ENDPOINT_OPTIONS_INIT;
    static const char *const alpn[] = { "h2", "http/1.1", NULL };
    hs_result r;

    (void)data;
    o.alpn = alpn;
    fixture_listen(f, &o);
    tls_client(&r, acme_endpoint_port(f->ep), "a.example", NULL);
    g_assert_cmpint(r.ret, ==, 0);
    g_assert_cmpstr(r.leaf_pem, ==, f->leaf_a);
    g_assert_false(r.challenge);
    g_assert_cmpstr(r.reply, ==, "hello a.example -\necho:ping");
    hs_clear(&r);
    tls_client(&r, acme_endpoint_port(f->ep), "b.example", "http/1.1");
    g_assert_cmpint(r.ret, ==, 0);
    g_assert_cmpstr(r.leaf_pem, ==, f->leaf_b);
    g_assert_cmpstr(r.reply, ==, "hello b.example http/1.1\necho:ping");
    hs_clear(&r);
    /* SNI in another case and with a trailing dot is the same name. */
    tls_client(&r, acme_endpoint_port(f->ep), "A.Example", NULL);
    g_assert_cmpint(r.ret, ==, 0);
    g_assert_cmpstr(r.leaf_pem, ==, f->leaf_a);
    g_assert_cmpstr(r.reply, ==, "hello a.example -\necho:ping");
    hs_clear(&r);
}

/*
 * A malformed SNI is refused: by our hook (unrecognized_name) or, for
 * characters GnuTLS itself disallows in a host name, by GnuTLS before the
 * hook runs (illegal_parameter).  Either way no certificate is sent.
 */
static void assert_malformed_refused(const hs_result *r)
{
    g_assert_cmpint(r->ret, ==, GNUTLS_E_FATAL_ALERT_RECEIVED);
    if (r->alert != GNUTLS_A_UNRECOGNIZED_NAME && r->alert != GNUTLS_A_ILLEGAL_PARAMETER)
        g_error("alert %d for a malformed name", r->alert);
}

static void test_sni_unknown(Fixture *f, gconstpointer data)
{
    acme_endpoint_options o = ACME_ENDPOINT_OPTIONS_INIT;
    static const char *const unknown[] = { "c.example", "www.b.example", "a.example.com",
                                           "example" };
    static const char *const malformed[] = { "-bad-.example", "a..example", "under_score.example",
                                             "*.a.example", "a.example/../b", "..", "a b.example",
                                             "xn--.example", "a.example:443" };
    hs_result r;

    (void)data;
    fixture_listen(f, &o);
    for (size_t i = 0; i < G_N_ELEMENTS(unknown); i++) {
        tls_client(&r, acme_endpoint_port(f->ep), unknown[i], NULL);
        g_assert_cmpint(r.ret, ==, GNUTLS_E_FATAL_ALERT_RECEIVED);
        g_assert_cmpint(r.alert, ==, GNUTLS_A_UNRECOGNIZED_NAME);
        hs_clear(&r);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(malformed); i++) {
        tls_client(&r, acme_endpoint_port(f->ep), malformed[i], NULL);
        assert_malformed_refused(&r);
        hs_clear(&r);
    }
    /* No SNI at all, no default name. */
    tls_client(&r, acme_endpoint_port(f->ep), NULL, NULL);
    g_assert_cmpint(r.ret, ==, GNUTLS_E_FATAL_ALERT_RECEIVED);
    g_assert_cmpint(r.alert, ==, GNUTLS_A_UNRECOGNIZED_NAME);
    hs_clear(&r);
    /* An issue request in the store is no certificate either. */
    {
        const char *names1[] = { "req.example" };
        acme_bundle *b = NULL;

        g_assert_cmpint(acme_bundle_new_request(&b, names1, 1, NULL), ==, ACME_OK);
        g_assert_cmpint(acme_store_put(f->store, "req.example", b, NULL), ==, ACME_OK);
        acme_bundle_free(b);
        tls_client(&r, acme_endpoint_port(f->ep), "req.example", NULL);
        g_assert_cmpint(r.alert, ==, GNUTLS_A_UNRECOGNIZED_NAME);
        hs_clear(&r);
    }
    /* And the endpoint still serves known names. */
    tls_client(&r, acme_endpoint_port(f->ep), "a.example", NULL);
    g_assert_cmpint(r.ret, ==, 0);
    hs_clear(&r);
}

static void test_sni_default(Fixture *f, gconstpointer data)
{
    acme_endpoint_options o = ACME_ENDPOINT_OPTIONS_INIT;
    hs_result r;

    (void)data;
    o.default_name = "B.example.";
    fixture_listen(f, &o);
    tls_client(&r, acme_endpoint_port(f->ep), NULL, NULL);
    g_assert_cmpint(r.ret, ==, 0);
    g_assert_cmpstr(r.leaf_pem, ==, f->leaf_b);
    g_assert_cmpstr(r.reply, ==, "hello b.example -\necho:ping");
    hs_clear(&r);
    /* A client that names a host still gets that host. */
    tls_client(&r, acme_endpoint_port(f->ep), "a.example", NULL);
    g_assert_cmpstr(r.leaf_pem, ==, f->leaf_a);
    hs_clear(&r);
}

/* ------------------------------------------------------------------ */
/* tls-alpn-01 on the same port                                         */
/* ------------------------------------------------------------------ */

static void test_tlsalpn01(Fixture *f, gconstpointer data)
{
    acme_endpoint_options o = ACME_ENDPOINT_OPTIONS_INIT;
    hs_result r;

    (void)data;
    fixture_listen(f, &o);
    g_assert_cmpint(acme_tlsalpn01_add(f->reg, "a.example", KEYAUTH, NULL), ==, ACME_OK);
    /* The CA: ALPN acme-tls/1 gets the challenge certificate, then the end. */
    tls_client(&r, acme_endpoint_port(f->ep), "a.example", ACME_TLSALPN01_ALPN);
    g_assert_cmpint(r.ret, ==, 0);
    g_assert_true(r.challenge);
    g_assert_cmpstr(r.san, ==, "a.example");
    g_assert_cmpstr(r.reply, ==, "");  /* closed: the handler never ran */
    hs_clear(&r);
    /* A normal client for the same name: the real certificate. */
    tls_client(&r, acme_endpoint_port(f->ep), "a.example", "http/1.1");
    g_assert_cmpint(r.ret, ==, 0);
    g_assert_false(r.challenge);
    g_assert_cmpstr(r.leaf_pem, ==, f->leaf_a);
    g_assert_cmpstr(r.reply, ==, "hello a.example -\necho:ping");
    hs_clear(&r);
    /* acme-tls/1 for a name without a challenge: refused, not served. */
    tls_client(&r, acme_endpoint_port(f->ep), "b.example", ACME_TLSALPN01_ALPN);
    g_assert_cmpint(r.alert, ==, GNUTLS_A_UNRECOGNIZED_NAME);
    hs_clear(&r);
    /* A validation for a name the store does not hold (the first issue). */
    g_assert_cmpint(acme_tlsalpn01_add(f->reg, "new.example", KEYAUTH, NULL), ==, ACME_OK);
    tls_client(&r, acme_endpoint_port(f->ep), "new.example", ACME_TLSALPN01_ALPN);
    g_assert_cmpint(r.ret, ==, 0);
    g_assert_true(r.challenge);
    g_assert_cmpstr(r.san, ==, "new.example");
    hs_clear(&r);
    tls_client(&r, acme_endpoint_port(f->ep), "new.example", NULL);
    g_assert_cmpint(r.alert, ==, GNUTLS_A_UNRECOGNIZED_NAME);
    hs_clear(&r);
}

/* ------------------------------------------------------------------ */
/* Certificate changes                                                  */
/* ------------------------------------------------------------------ */

static void test_certificate_changed(Fixture *f, gconstpointer data)
{
    static const char *const sans_a[] = { "a.example", NULL };
    acme_endpoint_options o = ACME_ENDPOINT_OPTIONS_INIT;
    acme_error *err = NULL;
    char *renewed, *again;
    hs_result r;

    (void)data;
    fixture_listen(f, &o);
    tls_client(&r, acme_endpoint_port(f->ep), "a.example", NULL);
    g_assert_cmpstr(r.leaf_pem, ==, f->leaf_a);
    hs_clear(&r);
    /* The store changes; the cache keeps serving what it has... */
    renewed = store_put_chain(f->store, "a.example", sans_a);
    tls_client(&r, acme_endpoint_port(f->ep), "a.example", NULL);
    g_assert_cmpstr(r.leaf_pem, ==, f->leaf_a);
    hs_clear(&r);
    /* ...until told, and then the next handshake has the new one. */
    g_assert_cmpint(acme_endpoint_certificate_changed(f->ep, "A.example", NULL), ==, ACME_OK);
    tls_client(&r, acme_endpoint_port(f->ep), "a.example", NULL);
    g_assert_cmpstr(r.leaf_pem, ==, renewed);
    hs_clear(&r);
    /* A name first seen missing, then stored, then announced. */
    tls_client(&r, acme_endpoint_port(f->ep), "c.example", NULL);
    g_assert_cmpint(r.alert, ==, GNUTLS_A_UNRECOGNIZED_NAME);
    hs_clear(&r);
    {
        static const char *const sans_c[] = { "c.example", NULL };

        again = store_put_chain(f->store, "c.example", sans_c);
    }
    g_assert_cmpint(acme_endpoint_certificate_changed(f->ep, "c.example", NULL), ==, ACME_OK);
    tls_client(&r, acme_endpoint_port(f->ep), "c.example", NULL);
    g_assert_cmpint(r.ret, ==, 0);
    g_assert_cmpstr(r.leaf_pem, ==, again);
    hs_clear(&r);
    /* NULL drops everything; it is all loaded again on use. */
    g_assert_cmpint(acme_endpoint_certificate_changed(f->ep, NULL, NULL), ==, ACME_OK);
    g_assert_cmpuint(acme__endpoint_cache_count(f->ep), ==, 0);
    tls_client(&r, acme_endpoint_port(f->ep), "b.example", NULL);
    g_assert_cmpstr(r.leaf_pem, ==, f->leaf_b);
    hs_clear(&r);
    g_assert_cmpuint(acme__endpoint_cache_count(f->ep), ==, 1);
    /* A bad name is an error, not a crash. */
    g_assert_cmpint(acme_endpoint_certificate_changed(f->ep, "../etc", &err), ==, ACME_E_INVALID);
    acme_error_free(err);
    g_free(renewed);
    g_free(again);
}

/* Handshakes from several threads while the certificate keeps changing. */
typedef struct race_arg {
    unsigned int port;
    const char *one, *two;
    int served;
} race_arg;

static void *race_client(void *p)
{
    race_arg *a = p;

    for (int i = 0; i < 15; i++) {
        hs_result r;

        tls_client(&r, a->port, "a.example", NULL);
        if (r.ret == 0 && r.leaf_pem &&
            (strcmp(r.leaf_pem, a->one) == 0 || strcmp(r.leaf_pem, a->two) == 0))
            a->served++;
        hs_clear(&r);
    }
    return NULL;
}

static void test_certificate_race(Fixture *f, gconstpointer data)
{
    static const char *const sans_a[] = { "a.example", NULL };
    acme_endpoint_options o = ACME_ENDPOINT_OPTIONS_INIT;
    char *two;
    acme_bundle *b1 = NULL, *b2 = NULL;
    pthread_t t[4];
    race_arg a[4];

    (void)data;
    o.workers = 4;
    fixture_listen(f, &o);
    g_assert_cmpint(acme_store_get(&b1, f->store, "a.example", NULL), ==, ACME_OK);
    two = store_put_chain(f->store, "a.example", sans_a);
    g_assert_cmpint(acme_store_get(&b2, f->store, "a.example", NULL), ==, ACME_OK);
    for (int i = 0; i < 4; i++) {
        a[i] = (race_arg){ acme_endpoint_port(f->ep), f->leaf_a, two, 0 };
        g_assert_cmpint(pthread_create(&t[i], NULL, race_client, &a[i]), ==, 0);
    }
    for (int i = 0; i < 200; i++) {
        g_assert_cmpint(acme_store_put(f->store, "a.example", i % 2 ? b1 : b2, NULL), ==, ACME_OK);
        g_assert_cmpint(acme_endpoint_certificate_changed(f->ep, "a.example", NULL), ==, ACME_OK);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        g_assert_cmpint(a[i].served, ==, 15);
    }
    acme_bundle_free(b1);
    acme_bundle_free(b2);
    g_free(two);
}

/* ------------------------------------------------------------------ */
/* Bad clients and load                                                 */
/* ------------------------------------------------------------------ */

static void test_bad_clients(Fixture *f, gconstpointer data)
{
    acme_endpoint_options o = ACME_ENDPOINT_OPTIONS_INIT;
    enum { N = 40 };
    int stalled[N], garbage[N];
    int during;
    hs_result r;
    static const char junk[] = "GET / HTTP/1.1\r\nHost: a.example\r\n\r\n";
    /* A TLS record header announcing a handshake of 16 kB, then nothing. */
    static const unsigned char partial[] = { 0x16, 0x03, 0x01, 0x40, 0x00, 0x01, 0x00, 0x3f };

    (void)data;
    o.workers = 8;
    o.handshake_timeout_ms = 300;
    o.store = f->store;
    o.tlsalpn01 = f->reg;
    o.handler = echo_handler;
    g_assert_cmpint(acme_endpoint_new(&f->ep, &o, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_endpoint_listen(f->ep, "tcp:0:interface=127.0.0.1:backlog=256", NULL),
                    ==, ACME_OK);
    during = count_fds();
    for (int i = 0; i < N; i++) {
        int fd;

        /* Stalled: says nothing (or half a record), until the server gives up. */
        stalled[i] = tcp_connect(acme_endpoint_port(f->ep));
        if (i % 2)
            g_assert_cmpint(write(stalled[i], partial, sizeof(partial)), ==, sizeof(partial));
        /* Garbage instead of a ClientHello. */
        garbage[i] = tcp_connect(acme_endpoint_port(f->ep));
        g_assert_cmpint(write(garbage[i], junk, sizeof(junk) - 1), ==, sizeof(junk) - 1);
        /* Gone at once, or after half a record. */
        fd = tcp_connect(acme_endpoint_port(f->ep));
        if (i % 2)
            g_assert_cmpint(write(fd, partial, sizeof(partial)), ==, sizeof(partial));
        close(fd);
    }
    /* The server closes every one of them (garbage at once, stalls at
     * their deadline): the client side sees the end. */
    for (int i = 0; i < N; i++) {
        g_assert_true(wait_closed(garbage[i]));
        g_assert_true(wait_closed(stalled[i]));
        close(garbage[i]);
        close(stalled[i]);
    }
    /* Still serving. */
    tls_client(&r, acme_endpoint_port(f->ep), "a.example", NULL);
    g_assert_cmpint(r.ret, ==, 0);
    g_assert_cmpstr(r.reply, ==, "hello a.example -\necho:ping");
    hs_clear(&r);
    /* Once closed (workers joined), the endpoint holds no descriptor of
     * any client, nor its listening socket and wake pipe. */
    acme_endpoint_close(f->ep);
    g_assert_cmpint(count_fds(), ==, during - 3);
}

/*
 * Stalled clients outnumber the workers five to one, half silent and
 * half with an incomplete record: they wait in the accept thread, not in
 * a worker, so valid clients are served at once, and every stalled
 * connection is still open afterwards (held, not dropped to make room).
 * With the handshake in the workers from accept on, the valid clients
 * waited behind them for the handshake timeout.
 */
static void test_stalled_crowd(Fixture *f, gconstpointer data)
{
    acme_endpoint_options o = ACME_ENDPOINT_OPTIONS_INIT;
    enum { WORKERS = 2, N = 5 * WORKERS };
    static const unsigned char partial[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00 };
    int stalled[N];
    char c;

    (void)data;
    o.workers = WORKERS;
    o.handshake_timeout_ms = 120000; /* far past the test: only the server's choice closes them */
    fixture_listen(f, &o);
    for (int i = 0; i < N; i++) {
        stalled[i] = tcp_connect(acme_endpoint_port(f->ep));
        if (i % 2)
            g_assert_cmpint(write(stalled[i], partial, sizeof(partial)), ==, sizeof(partial));
    }
    for (int i = 0; i < 3; i++) {
        hs_result r;

        tls_client(&r, acme_endpoint_port(f->ep), i % 2 ? "b.example" : "a.example", NULL);
        g_assert_cmpint(r.ret, ==, 0);
        g_assert_true(g_str_has_prefix(r.reply, "hello "));
        hs_clear(&r);
    }
    for (int i = 0; i < N; i++) {
        ssize_t k = recv(stalled[i], &c, 1, MSG_DONTWAIT);

        if (k >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            g_error("stalled connection %d was closed (recv %zd: %s)", i, k, g_strerror(errno));
    }
    /* Closing closes them. */
    acme_endpoint_close(f->ep);
    for (int i = 0; i < N; i++) {
        g_assert_true(wait_closed(stalled[i]));
        close(stalled[i]);
    }
}

/* Many good clients at once from several threads. */
static void *load_client(void *p)
{
    race_arg *a = p;

    for (int i = 0; i < 10; i++) {
        hs_result r;

        tls_client(&r, a->port, i % 2 ? "a.example" : "b.example", NULL);
        if (r.ret == 0 && g_str_has_prefix(r.reply, "hello "))
            a->served++;
        hs_clear(&r);
    }
    return NULL;
}

static void test_load(Fixture *f, gconstpointer data)
{
    acme_endpoint_options o = ACME_ENDPOINT_OPTIONS_INIT;
    enum { T = 16 };
    pthread_t t[T];
    race_arg a[T];

    (void)data;
    o.workers = 4;
    o.max_connections = 8;  /* fewer than the clients: the rest wait in the backlog */
    fixture_listen(f, &o);
    for (int i = 0; i < T; i++) {
        a[i] = (race_arg){ .port = acme_endpoint_port(f->ep) };
        g_assert_cmpint(pthread_create(&t[i], NULL, load_client, &a[i]), ==, 0);
    }
    for (int i = 0; i < T; i++) {
        pthread_join(t[i], NULL);
        g_assert_cmpint(a[i].served, ==, 10);
    }
}

/* Closing while clients stall and handlers block: close returns, all joined. */
static void blocking_handler(void *userdata, acme_endpoint_conn *conn)
{
    char buf[16];
    size_t n = 1;
    int *entered = userdata;

    __atomic_add_fetch(entered, 1, __ATOMIC_SEQ_CST);
    /* Tell the client the handler runs, then read until the endpoint
     * closing shuts the socket down. */
    g_assert_cmpint(acme_endpoint_conn_write(conn, "in", 2, NULL), ==, ACME_OK);
    while (acme_endpoint_conn_read(&n, conn, buf, sizeof(buf), NULL) == ACME_OK && n > 0)
        ;
}

static void test_close_busy(Fixture *f, gconstpointer data)
{
    acme_endpoint_options o = ACME_ENDPOINT_OPTIONS_INIT;
    int entered = 0, stalled[4], fd;
    gnutls_session_t s;
    gnutls_certificate_credentials_t creds;
    int ret;

    (void)data;
    o.handler = blocking_handler;
    o.handler_userdata = &entered;
    o.workers = 2;
    fixture_listen(f, &o);
    /* One established connection parked in the handler... */
    fd = tcp_connect(acme_endpoint_port(f->ep));
    g_assert_cmpint(gnutls_certificate_allocate_credentials(&creds), ==, 0);
    g_assert_cmpint(gnutls_init(&s, GNUTLS_CLIENT), ==, 0);
    g_assert_cmpint(gnutls_set_default_priority(s), ==, 0);
    g_assert_cmpint(gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, creds), ==, 0);
    g_assert_cmpint(gnutls_server_name_set(s, GNUTLS_NAME_DNS, "a.example", 9), ==, 0);
    gnutls_transport_set_int(s, fd);
    do
        ret = gnutls_handshake(s);
    while (ret < 0 && !gnutls_error_is_fatal(ret));
    g_assert_cmpint(ret, ==, 0);
    {
        char buf[8];
        ssize_t n;

        /* The handler has started once it says so. */
        do
            n = gnutls_record_recv(s, buf, sizeof(buf));
        while (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED);
        g_assert_cmpint(n, ==, 2);
    }
    /* ...one stalled in the handshake, the rest queued. */
    for (int i = 0; i < 4; i++)
        stalled[i] = tcp_connect(acme_endpoint_port(f->ep));
    acme_endpoint_close(f->ep);
    g_assert_cmpint(entered, ==, 1);
    for (int i = 0; i < 4; i++) {
        g_assert_true(wait_closed(stalled[i]));
        close(stalled[i]);
    }
    g_assert_true(wait_closed(fd));
    gnutls_deinit(s);
    gnutls_certificate_free_credentials(creds);
    close(fd);
    /* Closing twice is fine; listening after close is not. */
    acme_endpoint_close(f->ep);
    g_assert_cmpint(acme_endpoint_listen(f->ep, "tcp:0", NULL), ==, ACME_E_INVALIDSTATE);
}

/* ------------------------------------------------------------------ */
/* Many names                                                           */
/* ------------------------------------------------------------------ */

static void test_many_names(Fixture *f, gconstpointer data)
{
    static const char *const sans[] = { "*.bulk.example", NULL };
    acme_endpoint_options o = ACME_ENDPOINT_OPTIONS_INIT;
    tchain ch;
    char *pem;
    acme_bundle *b = NULL;
    hs_result r;
    static const char *const probe[] = { "n0.bulk.example", "n4999.bulk.example",
                                         "n9999.bulk.example" };

    (void)data;
    tchain_make(&ch, TKEY_EC, sans);
    pem = g_strconcat(ch.leaf.key_pem, ch.leaf.cert_pem, NULL);
    g_assert_cmpint(acme_bundle_from_pem(&b, pem, strlen(pem), NULL), ==, ACME_OK);
    for (int i = 0; i < 10000; i++) {
        char name[64];

        g_snprintf(name, sizeof(name), "n%d.bulk.example", i);
        g_assert_cmpint(acme_store_put(f->store, name, b, NULL), ==, ACME_OK);
    }
    fixture_listen(f, &o);
    /* Every name in the cache, as after a long day of traffic. */
    for (int i = 0; i < 10000; i++) {
        char name[64];

        g_snprintf(name, sizeof(name), "n%d.bulk.example", i);
        g_assert_cmpint(acme_endpoint_certificate_changed(f->ep, name, NULL), ==, ACME_OK);
    }
    g_assert_cmpuint(acme__endpoint_cache_count(f->ep), ==, 10000);
    for (size_t i = 0; i < G_N_ELEMENTS(probe); i++) {
        char *want = g_strdup_printf("hello %s -\necho:ping", probe[i]);

        tls_client(&r, acme_endpoint_port(f->ep), probe[i], NULL);
        g_assert_cmpint(r.ret, ==, 0);
        g_assert_cmpstr(r.leaf_pem, ==, ch.leaf.cert_pem);
        g_assert_cmpstr(r.reply, ==, want);
        hs_clear(&r);
        g_free(want);
    }
    /* Still known and unknown names apart. */
    tls_client(&r, acme_endpoint_port(f->ep), "n10000.bulk.example", NULL);
    g_assert_cmpint(r.alert, ==, GNUTLS_A_UNRECOGNIZED_NAME);
    hs_clear(&r);
    acme_bundle_free(b);
    g_free(pem);
    tchain_clear(&ch);
}

/* ------------------------------------------------------------------ */
/* On-demand issuance                                                   */
/* ------------------------------------------------------------------ */

typedef struct od_state {
    acme_store *store;
    int decided, issued;
} od_state;

static bool od_decide(void *userdata, const char *name)
{
    od_state *st = userdata;

    __atomic_add_fetch(&st->decided, 1, __ATOMIC_SEQ_CST);
    return g_str_has_suffix(name, ".ok.example");
}

static int od_issue(void *userdata, const char *name, acme_error **err)
{
    od_state *st = userdata;
    const char *sans[] = { name, NULL };
    char *leaf;

    (void)err;
    __atomic_add_fetch(&st->issued, 1, __ATOMIC_SEQ_CST);
    leaf = store_put_chain(st->store, name, sans);
    g_free(leaf);
    return ACME_OK;
}

static void test_on_demand(Fixture *f, gconstpointer data)
{
    acme_endpoint_options o = ACME_ENDPOINT_OPTIONS_INIT;
    od_state st = { .store = f->store };
    acme_error *err = NULL;
    hs_result r;

    (void)data;
    /* Off without an issue callback: refused at creation. */
    o.store = f->store;
    o.on_demand = od_decide;
    g_assert_cmpint(acme_endpoint_new(&f->ep, &o, &err), ==, ACME_E_INVALID);
    g_assert_null(f->ep);
    acme_error_free(err);
    o.on_demand_userdata = &st;
    o.issue = od_issue;
    o.issue_userdata = &st;
    o.on_demand_per_minute = 2;
    o.negative_ttl_ms = 1;
    o.log = acme_log_stderr;
    o.log_level = ACME_LOG_DEBUG;
    fixture_listen(f, &o);
    /* Allowed: issued during the handshake, then served from the store. */
    tls_client(&r, acme_endpoint_port(f->ep), "one.ok.example", NULL);
    g_assert_cmpint(r.ret, ==, 0);
    g_assert_cmpstr(r.san, ==, "one.ok.example");
    g_assert_cmpstr(r.reply, ==, "hello one.ok.example -\necho:ping");
    hs_clear(&r);
    g_assert_cmpint(st.issued, ==, 1);
    tls_client(&r, acme_endpoint_port(f->ep), "one.ok.example", NULL);
    g_assert_cmpint(r.ret, ==, 0);
    hs_clear(&r);
    g_assert_cmpint(st.issued, ==, 1);
    g_assert_cmpint(st.decided, ==, 1);
    /* Refused by the application: no issuance. */
    tls_client(&r, acme_endpoint_port(f->ep), "evil.example", NULL);
    g_assert_cmpint(r.alert, ==, GNUTLS_A_UNRECOGNIZED_NAME);
    hs_clear(&r);
    g_assert_cmpint(st.issued, ==, 1);
    g_assert_cmpint(st.decided, ==, 2);
    /* The rate limit: two per minute. */
    tls_client(&r, acme_endpoint_port(f->ep), "two.ok.example", NULL);
    g_assert_cmpint(r.ret, ==, 0);
    hs_clear(&r);
    tls_client(&r, acme_endpoint_port(f->ep), "three.ok.example", NULL);
    g_assert_cmpint(r.alert, ==, GNUTLS_A_UNRECOGNIZED_NAME);
    hs_clear(&r);
    g_assert_cmpint(st.issued, ==, 2);
    /* Malformed names never reach the decision. */
    tls_client(&r, acme_endpoint_port(f->ep), "bad_name.ok.example", NULL);
    assert_malformed_refused(&r);
    hs_clear(&r);
    g_assert_cmpint(st.decided, ==, 4);
}

/* ------------------------------------------------------------------ */
/* The application's own accept loop                                    */
/* ------------------------------------------------------------------ */

typedef struct app_server {
    acme_endpoint *ep;
    int fd;
    int ret;
    bool validation;
} app_server;

static void *app_server_main(void *p)
{
    app_server *a = p;
    gnutls_session_t s;

    g_assert_cmpint(gnutls_init(&s, GNUTLS_SERVER), ==, 0);
    g_assert_cmpint(gnutls_set_default_priority(s), ==, 0);
    g_assert_cmpint(acme_endpoint_session_prepare(a->ep, s, NULL), ==, ACME_OK);
    gnutls_transport_set_int(s, a->fd);
    do
        a->ret = gnutls_handshake(s);
    while (a->ret < 0 && !gnutls_error_is_fatal(a->ret));
    if (a->ret < 0) {
        gnutls_alert_send_appropriate(s, a->ret);
    } else {
        a->validation = acme_endpoint_session_is_validation(s);
        if (!a->validation) {
            char buf[16];
            ssize_t n;

            do
                n = gnutls_record_recv(s, buf, sizeof(buf));
            while (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED);
            if (n > 0)
                gnutls_record_send(s, "app", 3);
        }
        gnutls_bye(s, GNUTLS_SHUT_WR);
    }
    gnutls_deinit(s);
    shutdown(a->fd, SHUT_RDWR);
    return NULL;
}

static void app_handshake(hs_result *r, app_server *a, const char *sni, const char *alpn)
{
    int sv[2];
    pthread_t t;

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    a->fd = sv[0];
    g_assert_cmpint(pthread_create(&t, NULL, app_server_main, a), ==, 0);
    tls_client_fd(r, sv[1], sni, alpn);
    pthread_join(t, NULL);
    close(sv[0]);
    close(sv[1]);
}

static void test_session_prepare(Fixture *f, gconstpointer data)
{
    acme_endpoint_options o = ACME_ENDPOINT_OPTIONS_INIT;
    app_server a;
    hs_result r;

    (void)data;
    o.store = f->store;
    o.tlsalpn01 = f->reg;
    g_assert_cmpint(acme_endpoint_new(&f->ep, &o, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_endpoint_session_prepare(f->ep, NULL, NULL), ==, ACME_E_INVALID);
    a = (app_server){ .ep = f->ep };
    app_handshake(&r, &a, "b.example", NULL);
    g_assert_cmpint(a.ret, ==, 0);
    g_assert_false(a.validation);
    g_assert_cmpstr(r.leaf_pem, ==, f->leaf_b);
    g_assert_cmpstr(r.reply, ==, "app");
    hs_clear(&r);
    app_handshake(&r, &a, "nope.example", NULL);
    g_assert_cmpint(a.ret, ==, GNUTLS_E_UNRECOGNIZED_NAME);
    g_assert_cmpint(r.alert, ==, GNUTLS_A_UNRECOGNIZED_NAME);
    hs_clear(&r);
    g_assert_cmpint(acme_tlsalpn01_add(f->reg, "b.example", KEYAUTH, NULL), ==, ACME_OK);
    app_handshake(&r, &a, "b.example", ACME_TLSALPN01_ALPN);
    g_assert_cmpint(a.ret, ==, 0);
    g_assert_true(a.validation);
    g_assert_true(r.challenge);
    hs_clear(&r);
}

/* ------------------------------------------------------------------ */
/* Listening                                                            */
/* ------------------------------------------------------------------ */

static void test_listen_unix(Fixture *f, gconstpointer data)
{
    acme_endpoint_options o = ACME_ENDPOINT_OPTIONS_INIT;
    char *path = g_build_filename(tmpdir, "ep.sock", NULL), *sub;
    struct sockaddr_un su = { .sun_family = AF_UNIX };
    int fd;
    hs_result r;

    (void)data;
    o.store = f->store;
    o.handler = echo_handler;
    o.handler_userdata = &o;  /* closes early */
    g_assert_cmpint(acme_endpoint_new(&f->ep, &o, NULL), ==, ACME_OK);
    sub = g_strdup_printf("unix:%s", path);
    g_assert_cmpint(acme_endpoint_listen(f->ep, sub, NULL), ==, ACME_OK);
    g_assert_cmpuint(acme_endpoint_port(f->ep), ==, 0);
    g_assert_cmpint(acme_endpoint_listen(f->ep, sub, NULL), ==, ACME_E_INVALIDSTATE);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_strlcpy(su.sun_path, path, sizeof(su.sun_path));
    g_assert_cmpint(connect(fd, (struct sockaddr *)&su, sizeof(su)), ==, 0);
    tls_client_fd(&r, fd, "a.example", NULL);
    close(fd);
    g_assert_cmpint(r.ret, ==, 0);
    g_assert_cmpstr(r.reply, ==, "hello a.example -\necho:ping");
    hs_clear(&r);
    acme_endpoint_close(f->ep);
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    g_free(sub);
    g_free(path);
}

static void test_listen_errors(Fixture *f, gconstpointer data)
{
    acme_endpoint_options o = ACME_ENDPOINT_OPTIONS_INIT;
    static const char *const bad_alpn[] = { "", NULL };
    acme_endpoint *other = NULL;
    acme_error *err = NULL;
    char *sub;

    (void)data;
    g_assert_cmpint(acme_endpoint_new(&other, &o, &err), ==, ACME_E_INVALID);  /* no store */
    acme_error_free(err);
    err = NULL;
    o.store = f->store;
    o.version = ACME_ENDPOINT_OPTIONS_VERSION + 1;
    g_assert_cmpint(acme_endpoint_new(&other, &o, NULL), ==, ACME_E_INVALID);
    o.version = ACME_ENDPOINT_OPTIONS_VERSION;
    o.default_name = "not a name";
    g_assert_cmpint(acme_endpoint_new(&other, &o, NULL), ==, ACME_E_INVALID);
    o.default_name = NULL;
    o.alpn = bad_alpn;
    g_assert_cmpint(acme_endpoint_new(&other, &o, NULL), ==, ACME_E_INVALID);
    o.alpn = NULL;
    o.priority = "NORMAL:+NO-SUCH-THING";
    g_assert_cmpint(acme_endpoint_new(&other, &o, &err), ==, ACME_E_INVALID);
    acme_error_free(err);
    err = NULL;
    o.priority = NULL;
    /* No handler: cannot listen. */
    g_assert_cmpint(acme_endpoint_new(&other, &o, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_endpoint_listen(other, "tcp:0", NULL), ==, ACME_E_INVALID);
    acme_endpoint_free(other);
    other = NULL;
    /* A bad sub-endpoint, and a port in use. */
    fixture_listen(f, &o);
    o.handler = echo_handler;
    g_assert_cmpint(acme_endpoint_new(&other, &o, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_endpoint_listen(other, "tcp:http", &err), ==, ACME_E_INVALID);
    acme_error_free(err);
    err = NULL;
    acme_endpoint_free(other);
    g_assert_cmpint(acme_endpoint_new(&other, &o, NULL), ==, ACME_OK);
    sub = g_strdup_printf("tcp:%u:interface=127.0.0.1", acme_endpoint_port(f->ep));
    g_assert_cmpint(acme_endpoint_listen(other, sub, &err), ==, ACME_E_IO);
    g_assert_nonnull(strstr(acme_error_message(err), sub));
    acme_error_free(err);
    acme_endpoint_free(other);
    g_free(sub);
    acme_endpoint_free(NULL);
    acme_endpoint_close(NULL);
}

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    signal(SIGPIPE, SIG_IGN);
    g_assert_cmpint(acme_global_init(), ==, ACME_OK);
    tmpdir = g_dir_make_tmp("acme-endpoint-XXXXXX", NULL);
    g_assert_nonnull(tmpdir);

    for (size_t i = 0; i < G_N_ELEMENTS(good_cases); i++) {
        gchar *path = g_strdup_printf("/endpoint/string/good/%zu", i);

        g_test_add_data_func(path, &good_cases[i], test_string_good);
        g_free(path);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
        gchar *path = g_strdup_printf("/endpoint/string/bad/%zu", i);

        g_test_add_data_func(path, &bad_cases[i], test_string_bad);
        g_free(path);
    }
    g_test_add_func("/endpoint/string/unwritable", test_string_unwritable);
    g_test_add_func("/endpoint/string/open", test_string_open);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
    ADD("/endpoint/sni/select", test_sni_select);
    ADD("/endpoint/sni/unknown", test_sni_unknown);
    ADD("/endpoint/sni/default-name", test_sni_default);
    ADD("/endpoint/tlsalpn01/same-port", test_tlsalpn01);
    ADD("/endpoint/cache/certificate-changed", test_certificate_changed);
    ADD("/endpoint/cache/race", test_certificate_race);
    ADD("/endpoint/cache/10000-names", test_many_names);
    ADD("/endpoint/clients/bad", test_bad_clients);
    ADD("/endpoint/clients/stalled-crowd", test_stalled_crowd);
    ADD("/endpoint/clients/load", test_load);
    ADD("/endpoint/close/busy", test_close_busy);
    ADD("/endpoint/on-demand", test_on_demand);
    ADD("/endpoint/session-prepare", test_session_prepare);
    ADD("/endpoint/listen/unix", test_listen_unix);
    ADD("/endpoint/listen/errors", test_listen_errors);
    rc = g_test_run();
    g_rmdir(tmpdir);
    g_free(tmpdir);
    acme_global_cleanup();
    return rc;
}
