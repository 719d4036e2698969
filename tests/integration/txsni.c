/*
 * Integration test: the directory store against real peers.
 *
 *  - /store/txsni/serve: our store writes a certificate directory; Debian's
 *    python3-txsni serves TLS from it (`python3 -m twisted web --listen
 *    txsni:DIR:tcp:0:interface=127.0.0.1`); a GnuTLS client connects with
 *    SNI and checks the certificate and chain that come back.
 *  - /store/txacme/read: python3-txacme's own DirectoryStore and
 *    load_or_create_client_key write a directory; our store reads it.
 *  - /store/txacme/reads-ours: txacme's DirectoryStore reads what we wrote.
 *
 * The server listens on port 0 and the test reads the port from its log,
 * so runs never collide.  A missing python3 module is a hard error (99).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <acme/acme.h>

#include "store-certs.h"

#define PYTHON "/usr/bin/python3"

static char *tmpdir;

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

static char *subdir(const char *name)
{
    char *p = g_build_filename(tmpdir, name, NULL);

    g_assert_cmpint(g_mkdir_with_parents(p, 0700), ==, 0);
    return p;
}

static acme_bundle *bundle_of(const tchain *c)
{
    char *pem = g_strconcat(c->leaf.key_pem, c->leaf.cert_pem, c->ca.cert_pem, NULL);
    acme_bundle *b = NULL;
    acme_error *e = NULL;

    if (acme_bundle_from_pem(&b, pem, strlen(pem), &e) < 0)
        g_error("bundle: %s", acme_error_message(e));
    g_free(pem);
    return b;
}

/* Run python3 with a script; its stdout is returned.  Fails the test on a non-zero exit. */
static char *run_python(const char *script, const char *arg)
{
    const char *argv[] = { PYTHON, "-c", script, arg, NULL };
    char *out = NULL, *errs = NULL;
    int status = 0;
    GError *ge = NULL;

    if (!g_spawn_sync(NULL, (char **)argv, NULL, 0, NULL, NULL, &out, &errs, &status, &ge))
        g_error("cannot run %s: %s", PYTHON, ge->message);
    if (!g_spawn_check_wait_status(status, NULL))
        g_error("python3 failed:\n%s", errs);
    g_free(errs);
    return out;
}

/* ------------------------------------------------------------------ */
/* txsni serves what we wrote                                          */
/* ------------------------------------------------------------------ */

typedef struct server {
    GPid pid;
    FILE *log;
    int port;
} server;

static void server_start(server *s, const char *certdir, const char *docroot)
{
    char *listen = g_strdup_printf("txsni:%s:tcp:0:interface=127.0.0.1", certdir);
    const char *argv[] = { PYTHON, "-m", "twisted", "web", "--listen", listen, "--path", docroot,
                           NULL };
    char line[4096];
    GError *ge = NULL;
    int out_fd;

    if (!g_spawn_async_with_pipes(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
                                  NULL, &s->pid, NULL, &out_fd, NULL, &ge))
        g_error("cannot start twisted web: %s", ge->message);
    g_free(listen);
    /* stderr goes to ours; stdout carries the log lines, JSON when not a tty. */
    s->log = fdopen(out_fd, "r");
    s->port = 0;
    while (s->port == 0 && fgets(line, sizeof(line), s->log)) {
        char *at = strstr(line, "starting on ");

        if (at)
            s->port = atoi(at + strlen("starting on "));
    }
    if (s->port <= 0)
        g_error("twisted web with txsni did not start (is python3-txsni installed?)");
}

static void server_stop(server *s)
{
    int status;

    kill(s->pid, SIGTERM);
    g_assert_cmpint(waitpid(s->pid, &status, 0), ==, s->pid);
    g_spawn_close_pid(s->pid);
    fclose(s->log);
}

/*
 * A TLS handshake with SNI @p sni; returns the server's certificates as
 * PEM, leaf first, in a NULL-terminated array.
 */
static char **tls_fetch(int port, const char *sni)
{
    gnutls_certificate_credentials_t cred;
    gnutls_session_t sess;
    const gnutls_datum_t *certs;
    unsigned int n = 0;
    struct sockaddr_in sa;
    char **out;
    int fd, rc;

    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(fd, >=, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    g_assert_cmpint(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);

    g_assert_cmpint(gnutls_certificate_allocate_credentials(&cred), ==, 0);
    g_assert_cmpint(gnutls_init(&sess, GNUTLS_CLIENT), ==, 0);
    g_assert_cmpint(gnutls_set_default_priority(sess), ==, 0);
    g_assert_cmpint(gnutls_credentials_set(sess, GNUTLS_CRD_CERTIFICATE, cred), ==, 0);
    g_assert_cmpint(gnutls_server_name_set(sess, GNUTLS_NAME_DNS, sni, strlen(sni)), ==, 0);
    gnutls_transport_set_int(sess, fd);
    gnutls_handshake_set_timeout(sess, GNUTLS_DEFAULT_HANDSHAKE_TIMEOUT);
    do
        rc = gnutls_handshake(sess);
    while (rc < 0 && !gnutls_error_is_fatal(rc));
    if (rc < 0)
        g_error("TLS handshake with txsni for %s: %s", sni, gnutls_strerror(rc));

    certs = gnutls_certificate_get_peers(sess, &n);
    g_assert_nonnull(certs);
    out = g_new0(char *, n + 1);
    for (unsigned int i = 0; i < n; i++) {
        gnutls_x509_crt_t crt;
        gnutls_datum_t pem;

        g_assert_cmpint(gnutls_x509_crt_init(&crt), ==, 0);
        g_assert_cmpint(gnutls_x509_crt_import(crt, &certs[i], GNUTLS_X509_FMT_DER), ==, 0);
        g_assert_cmpint(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &pem), ==, 0);
        out[i] = g_strndup((const char *)pem.data, pem.size);
        gnutls_free(pem.data);
        gnutls_x509_crt_deinit(crt);
    }
    gnutls_bye(sess, GNUTLS_SHUT_WR);
    gnutls_deinit(sess);
    gnutls_certificate_free_credentials(cred);
    close(fd);
    return out;
}

static void check_served(int port, const char *sni, const tchain *expect)
{
    char **got = tls_fetch(port, sni);
    acme_chain *chain = NULL;
    const char *const *sans;
    size_t n;
    bool found = false;

    /* The leaf for this SNI name, and the chain certificate after it. */
    g_assert_cmpuint(g_strv_length(got), ==, 2);
    g_assert_cmpstr(got[0], ==, expect->leaf.cert_pem);
    g_assert_cmpstr(got[1], ==, expect->ca.cert_pem);
    g_assert_cmpint(acme_chain_parse(&chain, got[0], strlen(got[0]), NULL), ==, ACME_OK);
    sans = acme_cert_sans(acme_chain_get(chain, 0), &n);
    for (size_t i = 0; i < n; i++)
        found = found || strcmp(sans[i], sni) == 0;
    g_assert_true(found);
    acme_chain_free(chain);
    g_strfreev(got);
}

static void test_txsni_serve(void)
{
    const char *a_sans[] = { "a.txsni.test", "www.a.txsni.test", NULL };
    const char *b_sans[] = { "b.txsni.test", NULL };
    char *certs = subdir("serve/certs"), *doc = subdir("serve/doc");
    tchain a, b;
    acme_store *s = NULL;
    acme_bundle *ba, *bb;
    server srv;

    tchain_make(&a, TKEY_EC, a_sans);
    tchain_make(&b, TKEY_RSA, b_sans);
    ba = bundle_of(&a);
    bb = bundle_of(&b);
    g_assert_cmpint(acme_store_dir_new(&s, certs, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_store_put(s, "a.txsni.test", ba, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_store_put(s, "www.a.txsni.test", ba, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_store_put(s, "b.txsni.test", bb, NULL), ==, ACME_OK);

    server_start(&srv, certs, doc);
    check_served(srv.port, "a.txsni.test", &a);
    check_served(srv.port, "www.a.txsni.test", &a);
    check_served(srv.port, "b.txsni.test", &b);
    /* txsni reads the file on each handshake: a renewal is served at once. */
    {
        tchain renewed;
        acme_bundle *br;

        tchain_make(&renewed, TKEY_EC, b_sans);
        br = bundle_of(&renewed);
        g_assert_cmpint(acme_store_put(s, "b.txsni.test", br, NULL), ==, ACME_OK);
        check_served(srv.port, "b.txsni.test", &renewed);
        acme_bundle_free(br);
        tchain_clear(&renewed);
    }
    server_stop(&srv);

    acme_store_free(s);
    acme_bundle_free(ba);
    acme_bundle_free(bb);
    tchain_clear(&a);
    tchain_clear(&b);
    g_free(certs);
    g_free(doc);
}

/* ------------------------------------------------------------------ */
/* txacme and our store read each other's directories                  */
/* ------------------------------------------------------------------ */

/*
 * txacme writes: its DirectoryStore.store() with pem objects, and its
 * client key.  txacme.endpoint does not import on Python 3.10 and later
 * (it uses collections.Mapping), so when load_or_create_client_key cannot
 * be imported its two steps run here: txacme.util.generate_private_key
 * ('rsa') saved as TraditionalOpenSSL PEM, as that function does.
 */
static const char txacme_write[] =
    "import sys, pem\n"
    "from twisted.python.filepath import FilePath\n"
    "from txacme.store import DirectoryStore\n"
    "d = FilePath(sys.argv[1])\n"
    "objs = pem.parse(d.child('input').getContent())\n"
    "DirectoryStore(d).store('txacme.test', objs)\n"
    "DirectoryStore(d).store('pending.txacme.test', [])\n"
    "d.child('input').remove()\n"
    "try:\n"
    "    from txacme.endpoint import load_or_create_client_key\n"
    "    load_or_create_client_key(d)\n"
    "except ImportError:\n"
    "    from cryptography.hazmat.primitives import serialization as s\n"
    "    from txacme.util import generate_private_key\n"
    "    key = generate_private_key('rsa')\n"
    "    d.child('client.key').setContent(key.private_bytes(encoding=s.Encoding.PEM,\n"
    "        format=s.PrivateFormat.TraditionalOpenSSL, encryption_algorithm=s.NoEncryption()))\n"
    "print(len(objs))\n";

/* txacme reads: every entry of a directory, as (name, number of PEM objects). */
static const char txacme_read[] =
    "import sys\n"
    "from twisted.python.filepath import FilePath\n"
    "from txacme.store import DirectoryStore\n"
    "out = []\n"
    "DirectoryStore(FilePath(sys.argv[1])).as_dict().addCallback(out.append)\n"
    "for name, objs in sorted(out[0].items()):\n"
    "    print(name, ','.join(type(o).__name__ for o in objs))\n";

static void test_txacme_read(void)
{
    const char *sans[] = { "txacme.test", NULL };
    char *dir = subdir("txacme-wrote"), *input, *out;
    tchain c;
    acme_store *s = NULL;
    acme_bundle *b = NULL;
    acme_key *k = NULL, *leaf_key = NULL;
    char **names = NULL;
    size_t n = 0;

    tchain_make(&c, TKEY_RSA, sans);
    input = g_build_filename(dir, "input", NULL);
    {
        char *pem = g_strconcat(c.leaf.key_pem, c.leaf.cert_pem, c.ca.cert_pem, NULL);

        g_assert_true(g_file_set_contents(input, pem, -1, NULL));
        g_free(pem);
    }
    out = run_python(txacme_write, dir);
    g_assert_cmpstr(out, ==, "3\n");

    g_assert_cmpint(acme_store_dir_new(&s, dir, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_store_list(&names, &n, s, NULL), ==, ACME_OK);
    g_assert_cmpuint(n, ==, 2);
    g_assert_cmpstr(names[0], ==, "pending.txacme.test");
    g_assert_cmpstr(names[1], ==, "txacme.test");
    acme_free_strv(names, n);

    g_assert_cmpint(acme_store_get(&b, s, "txacme.test", NULL), ==, ACME_OK);
    g_assert_cmpstr(acme_cert_pem(acme_bundle_cert(b)), ==, c.leaf.cert_pem);
    g_assert_cmpuint(acme_chain_count(acme_bundle_chain(b)), ==, 2);
    g_assert_cmpint(acme_key_load_pem(&leaf_key, c.leaf.key_pem, strlen(c.leaf.key_pem), NULL),
                    ==, ACME_OK);
    g_assert_true(acme_key_equal(acme_bundle_key(b), leaf_key));
    acme_bundle_free(b);
    b = NULL;
    g_assert_cmpint(acme_store_get(&b, s, "pending.txacme.test", NULL), ==, ACME_OK);
    g_assert_true(acme_bundle_wants_issue(b));
    acme_bundle_free(b);

    /* txacme's client.key is RSA, traditional PEM: it keeps working. */
    g_assert_cmpint(acme_store_dir_account_key(&k, s, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_key_get_type(k), ==, ACME_KEY_RSA_2048);
    acme_key_free(k);

    acme_key_free(leaf_key);
    acme_store_free(s);
    tchain_clear(&c);
    g_free(out);
    g_free(input);
    g_free(dir);
}

/*
 * The bundle comes from GnuTLS's "EC PRIVATE KEY" (SEC1) form, which
 * txacme's parser would drop: our store must write it as PKCS#8.
 */
static void test_txacme_reads_ours(void)
{
    const char *sans[] = { "ours.test", NULL };
    const char *req_name = "wanted.test";
    char *dir = subdir("we-wrote"), *out;
    tchain c;
    acme_store *s = NULL;
    acme_bundle *b, *req = NULL;
    acme_key *k = NULL;

    tchain_make(&c, TKEY_EC, sans);
    b = bundle_of(&c);
    g_assert_cmpint(acme_store_dir_new(&s, dir, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_store_put(s, "ours.test", b, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_bundle_new_request(&req, &req_name, 1, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_store_put(s, req_name, req, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_store_dir_account_key(&k, s, NULL), ==, ACME_OK);

    out = run_python(txacme_read, dir);
    g_assert_cmpstr(out, ==, "ours.test PrivateKey,Certificate,Certificate\nwanted.test \n");

    acme_key_free(k);
    acme_bundle_free(req);
    acme_bundle_free(b);
    acme_store_free(s);
    tchain_clear(&c);
    g_free(out);
    g_free(dir);
}

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    {
        /* The peers are required: their absence is a hard error, not a skip. */
        const char *check[] = { PYTHON, "-c", "import txsni, txacme.store, pem", NULL };
        int status = -1;

        if (!g_spawn_sync(NULL, (char **)check, NULL, G_SPAWN_STDOUT_TO_DEV_NULL |
                          G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL, &status, NULL) ||
            !g_spawn_check_wait_status(status, NULL)) {
            fprintf(stderr, "txsni: %s cannot import txsni and txacme "
                    "(apt-get install python3-txsni python3-txacme)\n", PYTHON);
            return 99;
        }
    }
    g_assert_cmpint(acme_global_init(), ==, ACME_OK);
    tmpdir = g_dir_make_tmp("acme-txsni-XXXXXX", NULL);
    g_assert_nonnull(tmpdir);
    g_test_add_func("/store/txsni/serve", test_txsni_serve);
    g_test_add_func("/store/txacme/read", test_txacme_read);
    g_test_add_func("/store/txacme/reads-ours", test_txacme_reads_ours);
    rc = g_test_run();
    rm_rf(tmpdir);
    g_free(tmpdir);
    acme_global_cleanup();
    return rc;
}
