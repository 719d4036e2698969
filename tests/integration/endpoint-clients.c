/*
 * Integration test: the endpoint against TLS clients nobody here wrote,
 * gnutls-cli (gnutls-bin) and openssl s_client (openssl).
 *
 * The endpoint serves a directory store made from an endpoint string
 * ("acme:...:DIR:tcp:0:interface=127.0.0.1"); each client connects with
 * SNI, verifies the chain against the test CA and the host name, and
 * prints what the handler sends.  Unknown names and a missing SNI must
 * end in the unrecognized_name alert (112).  A missing client program is
 * a hard error (exit 99), never a skip.
 */
#include "config.h"

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <acme/acme.h>

#include "store-certs.h"

static char *tmpdir, *cafile;
static char *gnutls_cli, *openssl;

typedef struct Server {
    acme_store *store;
    acme_endpoint *ep;
    acme_endpoint_spec *spec;
    char *port;
} Server;

static void greet(void *userdata, acme_endpoint_conn *conn)
{
    char *hello = g_strdup_printf("hello %s\n", acme_endpoint_conn_server_name(conn));

    (void)userdata;
    acme_endpoint_conn_write(conn, hello, strlen(hello), NULL);
    g_free(hello);
}

static void server_start(Server *s)
{
    static const char *const sans[] = { "a.example", "www.a.example", NULL };
    char *str, *pem;
    tchain ch;
    acme_bundle *b = NULL;
    acme_endpoint_options o = ACME_ENDPOINT_OPTIONS_INIT;
    acme_error *err = NULL;

    memset(s, 0, sizeof(*s));
    /* Pebble's usual address stands in for any CA: nothing contacts it. */
    str = g_strdup_printf("acme:https\\://127.0.0.1\\:14000/dir:%s:tcp:0:interface=127.0.0.1",
                          tmpdir);
    if (acme_endpoint_string_parse(&s->spec, str, &err) < 0)
        g_error("%s: %s", str, acme_error_message(err));
    g_assert_cmpint(acme_endpoint_spec_open(&s->store, NULL, s->spec, NULL), ==, ACME_OK);
    tchain_make(&ch, TKEY_EC, sans);
    pem = g_strconcat(ch.leaf.key_pem, ch.leaf.cert_pem, ch.ca.cert_pem, NULL);
    g_assert_cmpint(acme_bundle_from_pem(&b, pem, strlen(pem), NULL), ==, ACME_OK);
    g_assert_cmpint(acme_store_put(s->store, "a.example", b, NULL), ==, ACME_OK);
    /* Names are store keys (as in txsni): each served name has its entry. */
    g_assert_cmpint(acme_store_put(s->store, "www.a.example", b, NULL), ==, ACME_OK);
    g_assert_true(g_file_set_contents(cafile, ch.ca.cert_pem, -1, NULL));
    o.store = s->store;
    o.handler = greet;
    g_assert_cmpint(acme_endpoint_new(&s->ep, &o, NULL), ==, ACME_OK);
    if (acme_endpoint_listen(s->ep, acme_endpoint_spec_sub_endpoint(s->spec), &err) < 0)
        g_error("listen: %s", acme_error_message(err));
    s->port = g_strdup_printf("%u", acme_endpoint_port(s->ep));
    acme_bundle_free(b);
    g_free(pem);
    g_free(str);
    tchain_clear(&ch);
}

static void server_stop(Server *s)
{
    acme_endpoint_free(s->ep);
    acme_store_free(s->store);
    acme_endpoint_spec_free(s->spec);
    g_free(s->port);
}

/*
 * Run @p argv with its stdin a pipe held open until the client exits, so
 * that the client ends because the server closed, not because its input
 * did; return stdout and stderr together.
 */
static char *run(char **argv)
{
    GPid pid;
    int in, out, status;
    GString *s = g_string_new(NULL);
    char buf[4096];
    ssize_t n;
    GError *gerr = NULL;

    if (!g_spawn_async_with_pipes(NULL, argv, NULL,
                                  G_SPAWN_DO_NOT_REAP_CHILD,
                                  NULL, NULL, &pid, &in, &out, NULL, &gerr))
        g_error("%s: %s", argv[0], gerr->message);
    while ((n = read(out, buf, sizeof(buf))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        g_assert_cmpint(n, >, 0);
        g_string_append_len(s, buf, n);
    }
    close(out);
    close(in);
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_spawn_close_pid(pid);
    g_test_message("%s:\n%s", argv[0], s->str);
    return g_string_free(s, FALSE);
}

static char *run_gnutls_cli(const Server *s, const char *sni)
{
    /* gnutls-cli prints to stdout and stderr: sh merges them. */
    char *cmd = g_strdup_printf("exec %s --x509cafile=%s %s%s --verify-hostname=%s -p %s "
                                "127.0.0.1 2>&1",
                                gnutls_cli, cafile, sni ? "--sni-hostname=" : "--disable-sni",
                                sni ? sni : "", sni ? sni : "a.example", s->port);
    char *sh[] = { "/bin/sh", "-c", cmd, NULL };
    char *out = run(sh);

    g_free(cmd);
    return out;
}

static char *run_openssl(const Server *s, const char *sni)
{
    char *cmd = g_strdup_printf("exec %s s_client -connect 127.0.0.1:%s %s%s -CAfile %s "
                                "-verify_hostname %s -verify_return_error 2>&1",
                                openssl, s->port, sni ? "-servername " : "-noservername",
                                sni ? sni : "", cafile, sni ? sni : "a.example");
    char *sh[] = { "/bin/sh", "-c", cmd, NULL };
    char *out = run(sh);

    g_free(cmd);
    return out;
}

static void assert_has(const char *out, const char *what)
{
    if (!strstr(out, what))
        g_error("output lacks \"%s\":\n%s", what, out);
}

static void assert_lacks(const char *out, const char *what)
{
    if (strstr(out, what))
        g_error("output has \"%s\":\n%s", what, out);
}

static void test_gnutls_cli(void)
{
    Server s;
    char *out;

    server_start(&s);
    out = run_gnutls_cli(&s, "a.example");
    assert_has(out, "Handshake was completed");
    assert_has(out, "The certificate is trusted");
    assert_has(out, "hello a.example");
    g_free(out);
    out = run_gnutls_cli(&s, "WWW.A.Example");
    assert_has(out, "The certificate is trusted");
    assert_has(out, "hello www.a.example");
    g_free(out);
    out = run_gnutls_cli(&s, "nothere.example");
    assert_lacks(out, "Handshake was completed");
    assert_has(out, "112");  /* "Received alert [112]: The server name sent was not recognized" */
    g_free(out);
    out = run_gnutls_cli(&s, NULL);
    assert_lacks(out, "Handshake was completed");
    assert_has(out, "112");
    g_free(out);
    server_stop(&s);
}

static void test_openssl(void)
{
    Server s;
    char *out;

    server_start(&s);
    out = run_openssl(&s, "a.example");
    assert_has(out, "Verify return code: 0 (ok)");
    assert_has(out, "hello a.example");
    g_free(out);
    out = run_openssl(&s, "nothere.example");
    assert_lacks(out, "hello");
    assert_has(out, "alert number 112");
    g_free(out);
    out = run_openssl(&s, NULL);
    assert_lacks(out, "hello");
    assert_has(out, "alert number 112");
    g_free(out);
    server_stop(&s);
}

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    signal(SIGPIPE, SIG_IGN);
    gnutls_cli = g_find_program_in_path("gnutls-cli");
    openssl = g_find_program_in_path("openssl");
    if (!gnutls_cli || !openssl) {
        /* A hard error: scripts/deps.sh installs both. */
        g_printerr("endpoint-clients: gnutls-cli or openssl is missing (scripts/deps.sh)\n");
        return 99;
    }
    g_assert_cmpint(acme_global_init(), ==, ACME_OK);
    tmpdir = g_dir_make_tmp("acme-endpoint-clients-XXXXXX", NULL);
    cafile = g_build_filename(tmpdir, "ca.crt", NULL);
    g_test_add_func("/endpoint/clients/gnutls-cli", test_gnutls_cli);
    g_test_add_func("/endpoint/clients/openssl", test_openssl);
    rc = g_test_run();
    {
        GDir *d = g_dir_open(tmpdir, 0, NULL);
        const char *n;

        while (d && (n = g_dir_read_name(d))) {
            char *p = g_build_filename(tmpdir, n, NULL);

            g_unlink(p);
            g_free(p);
        }
        if (d)
            g_dir_close(d);
        g_rmdir(tmpdir);
    }
    g_free(cafile);
    g_free(tmpdir);
    g_free(gnutls_cli);
    g_free(openssl);
    acme_global_cleanup();
    return rc;
}
