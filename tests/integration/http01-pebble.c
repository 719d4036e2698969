/*
 * tests/integration: the http-01 responders end to end against a real
 * ACME server (Pebble).
 *
 * Pebble is started with challtestsrv's own http-01 server off, so that
 * Pebble's httpPort (a free loopback port the harness picked; challtestsrv
 * resolves every name to 127.0.0.1) is ours:
 *
 * - the standalone listener (libmicrohttpd) answers on it;
 * - the embedded table, served by our listener, answers on it;
 * - the webroot responder writes files that a real web server the test
 *   starts (python3 -m http.server) serves on it;
 * - with nothing listening, validation fails with the CA's problem.
 *
 * Set LIBACME_TEST_LOG=1 to see the library's debug log on stderr.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include <acme/acme.h>

#include "pebble.h"

static pebble *peb;
/* Names are unique per run, so Pebble never reuses an authorization. */
static unsigned int name_seq;

static void test_log(void *userdata, acme_log_level level, const char *msg,
                     const acme_log_field *fields, size_t nfields)
{
    (void)userdata;
    g_printerr("libacme %s: %s", acme_log_level_name(level), msg);
    for (size_t i = 0; i < nfields; i++)
        g_printerr(" %s=%s", fields[i].key, fields[i].value);
    g_printerr("\n");
}

static void check_ok(int rc, acme_error *err, const char *what)
{
    if (rc != ACME_OK) {
        g_printerr("%s failed: %s: %s\n", what, acme_status_name(rc),
                   err ? acme_error_message(err) : "no error object");
        if (err && acme_error_detail(err))
            g_printerr("  detail: %s\n", acme_error_detail(err));
        pebble_print_log_tail(peb, 30);
        g_assert_cmpstr(acme_status_name(rc), ==, "ACME_OK");
    }
    g_assert_null(err);
}

/* A client with a fresh account on the Pebble. */
static acme_client *new_account(void)
{
    acme_client_options o = ACME_CLIENT_OPTIONS_INIT;
    acme_account_options ao = ACME_ACCOUNT_OPTIONS_INIT;
    acme_key *key = NULL;
    acme_client *c = NULL;
    acme_error *err = NULL;

    check_ok(acme_key_generate(&key, ACME_KEY_EC_P256, &err), err, "acme_key_generate");
    o.directory_url = peb->directory_url;
    o.account_key = key;
    o.ca_file = peb->ca_file;
    o.user_agent = "libacme-tests-http01";
    if (g_getenv("LIBACME_TEST_LOG")) {
        o.log = test_log;
        o.log_level = ACME_LOG_DEBUG;
    }
    check_ok(acme_client_new(&c, &o, &err), err, "acme_client_new");
    acme_key_free(key);
    ao.terms_agreed = true;
    check_ok(acme_client_account_register(c, &ao, NULL, &err), err, "register");
    return c;
}

static int cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Issue for @p nnames new names with @p r (several names: several
 * challenges in flight at once) and check the certificate: its names and
 * its key.
 */
/*
 * The issued certificate goes into a directory store (txsni layout) and
 * comes back whole: <name>.pem holds key, certificate and chain.
 */
static void store_round_trip(const char *name, const acme_key *key, const char *chain_pem)
{
    char *dir = g_dir_make_tmp("libacme-http01-store-XXXXXX", NULL);
    acme_store *store = NULL;
    acme_bundle *b = NULL, *back = NULL;
    acme_error *err = NULL;
    char *path, *file = NULL, *want = NULL, *got = NULL;
    gsize len = 0;

    g_assert_nonnull(dir);
    check_ok(acme_store_dir_new(&store, dir, &err), err, "store_dir_new");
    check_ok(acme_bundle_new(&b, key, chain_pem, strlen(chain_pem), &err), err, "bundle_new");
    check_ok(acme_store_put(store, name, b, &err), err, "store_put");
    path = g_strdup_printf("%s/%s.pem", dir, name);
    g_assert_true(g_file_get_contents(path, &file, &len, NULL));
    g_assert_nonnull(strstr(file, "PRIVATE KEY-----"));
    g_assert_nonnull(strstr(file, chain_pem));
    check_ok(acme_store_get(&back, store, name, &err), err, "store_get");
    g_assert_true(acme_key_equal(acme_bundle_key(back), key));
    check_ok(acme_bundle_to_pem(&want, b, &err), err, "bundle_to_pem");
    check_ok(acme_bundle_to_pem(&got, back, &err), err, "bundle_to_pem");
    g_assert_cmpstr(got, ==, want);
    acme_free(want);
    acme_free(got);
    g_unlink(path);
    g_rmdir(dir);
    g_free(path);
    g_free(file);
    g_free(dir);
    acme_bundle_free(b);
    acme_bundle_free(back);
    acme_store_free(store);
}

static void issue_with(acme_responder *r, size_t nnames, const char *label)
{
    acme_client *c = new_account();
    acme_issue_options io = ACME_ISSUE_OPTIONS_INIT;
    char **names = g_new0(char *, nnames + 1);
    char *key_pem = NULL, *chain_pem = NULL;
    acme_error *err = NULL;
    acme_chain *chain = NULL;
    acme_key *key = NULL;
    const acme_cert *leaf;
    const char *const *sans;
    size_t nsans = 0;
    GPtrArray *want = g_ptr_array_new(), *got = g_ptr_array_new();

    for (size_t i = 0; i < nnames; i++)
        names[i] = g_strdup_printf("%s-%u.example.com", label, ++name_seq);
    io.names = (const char *const *)names;
    io.nnames = nnames;
    io.responders = &r;
    io.nresponders = 1;
    io.timeout_seconds = 120;
    check_ok(acme_client_issue(&key_pem, &chain_pem, c, &io, &err), err, "acme_client_issue");

    check_ok(acme_chain_parse(&chain, chain_pem, strlen(chain_pem), &err), err, "chain_parse");
    leaf = acme_chain_get(chain, 0);
    g_assert_nonnull(leaf);
    sans = acme_cert_sans(leaf, &nsans);
    g_assert_cmpuint(nsans, ==, nnames);
    for (size_t i = 0; i < nnames; i++) {
        g_ptr_array_add(want, names[i]);
        g_ptr_array_add(got, (gpointer)sans[i]);
    }
    g_ptr_array_sort(want, cmp_str);
    g_ptr_array_sort(got, cmp_str);
    for (size_t i = 0; i < nnames; i++)
        g_assert_cmpstr(g_ptr_array_index(got, i), ==, g_ptr_array_index(want, i));
    check_ok(acme_key_load_pem(&key, key_pem, strlen(key_pem), &err), err, "key_load_pem");
    check_ok(acme_cert_check_key(leaf, key, &err), err, "cert_check_key");
    store_round_trip(names[0], key, chain_pem);

    g_ptr_array_unref(want);
    g_ptr_array_unref(got);
    acme_key_free(key);
    acme_chain_free(chain);
    acme_free(key_pem);
    acme_free(chain_pem);
    g_strfreev(names);
    acme_client_free(c);
}

/* The one-call standalone responder on Pebble's httpPort. */
static void test_standalone(void)
{
    acme_responder *r = NULL;
    acme_error *err = NULL;

    check_ok(acme_responder_http01_standalone_new(&r, "127.0.0.1", peb->http_port, NULL, &err), err,
             "standalone_new");
    issue_with(r, 1, "standalone");
    issue_with(r, 3, "standalone-multi");
    acme_responder_free(r);
}

/* The embedded table, served by a listener made separately, left empty after. */
static void test_embedded(void)
{
    acme_http01 *h = NULL;
    acme_http01_server *srv = NULL;
    acme_responder *r = NULL;
    acme_error *err = NULL;

    check_ok(acme_http01_new(&h, &err), err, "http01_new");
    check_ok(acme_http01_listen(&srv, h, "127.0.0.1", peb->http_port, NULL, &err), err, "listen");
    g_assert_cmpuint(acme_http01_server_port(srv), ==, peb->http_port);
    check_ok(acme_http01_responder(&r, h, &err), err, "http01_responder");
    issue_with(r, 2, "embedded");
    acme_responder_free(r);
    acme_http01_server_free(srv);
    acme_http01_free(h);
}

/* A python3 -m http.server serving @p root on 127.0.0.1:@p port. */
typedef struct {
    GPid pid;
} web_server;

static void web_server_start(web_server *ws, const char *root, unsigned int port)
{
    char *python = g_find_program_in_path("python3");
    char *port_s = g_strdup_printf("%u", port);
    char *argv[] = { python, (char *)"-u", (char *)"-m", (char *)"http.server", (char *)"--bind",
                     (char *)"127.0.0.1", (char *)"--directory", (char *)root, port_s, NULL };
    GError *gerr = NULL;
    int out_fd = -1;
    GString *line = g_string_new(NULL);

    if (!python) {
        g_printerr("python3 not found: install it (apt-get install python3)\n");
        exit(99);
    }
    if (!g_spawn_async_with_pipes(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD |
                                  G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &ws->pid, NULL,
                                  &out_fd, NULL, &gerr)) {
        g_printerr("cannot start python3 -m http.server: %s\n", gerr->message);
        exit(99);
    }
    /*
     * It prints "Serving HTTP on ..." once its socket listens: wait for
     * that line (a blocking read, no polling).
     */
    for (;;) {
        char ch;
        ssize_t k = read(out_fd, &ch, 1);

        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            g_printerr("python3 -m http.server exited before listening on port %u\n", port);
            exit(99);
        }
        if (ch == '\n')
            break;
        g_string_append_c(line, ch);
    }
    g_assert_true(g_str_has_prefix(line->str, "Serving HTTP on"));
    /* Its later output (none expected) goes nowhere. */
    close(out_fd);
    g_string_free(line, TRUE);
    g_free(port_s);
    g_free(python);
}

static void web_server_stop(web_server *ws)
{
    int status;

    kill(ws->pid, SIGTERM);
    while (waitpid(ws->pid, &status, 0) < 0 && errno == EINTR)
        ;
    g_spawn_close_pid(ws->pid);
}

/* The webroot responder behind a real web server. */
static void test_webroot(void)
{
    char *base = g_dir_make_tmp("libacme-http01-pebble-XXXXXX", NULL);
    acme_responder *r = NULL;
    acme_error *err = NULL;
    web_server ws;
    GDir *d;

    g_assert_nonnull(base);
    web_server_start(&ws, base, peb->http_port);
    check_ok(acme_responder_http01_webroot_new(&r, base, &err), err, "webroot_new");
    issue_with(r, 2, "webroot");
    acme_responder_free(r);
    web_server_stop(&ws);

    /* Every stop ran: the root is empty again (files and directories gone). */
    d = g_dir_open(base, 0, NULL);
    g_assert_nonnull(d);
    g_assert_null(g_dir_read_name(d));
    g_dir_close(d);
    g_rmdir(base);
    g_free(base);
}

/* Nothing answers on httpPort: the CA's problem comes back. */
static void test_nobody_listens(void)
{
    acme_client *c = new_account();
    acme_http01 *h = NULL;
    acme_responder *r = NULL;
    acme_issue_options io = ACME_ISSUE_OPTIONS_INIT;
    char *name = g_strdup_printf("nobody-%u.example.com", ++name_seq);
    const char *names[] = { name };
    char *key_pem = NULL, *chain_pem = NULL;
    acme_error *err = NULL;
    int rc;

    check_ok(acme_http01_new(&h, &err), err, "http01_new");
    check_ok(acme_http01_responder(&r, h, &err), err, "http01_responder");
    io.names = names;
    io.nnames = 1;
    io.responders = &r;
    io.nresponders = 1;
    io.timeout_seconds = 120;
    rc = acme_client_issue(&key_pem, &chain_pem, c, &io, &err);
    g_assert_cmpint(rc, ==, ACME_E_REJECTED);
    g_assert_nonnull(err);
    g_assert_cmpint(acme_error_code_get(err), ==, ACME_E_REJECTED);
    g_assert_null(key_pem);
    g_assert_null(chain_pem);
    acme_error_free(err);
    acme_responder_free(r);
    acme_http01_free(h);
    g_free(name);
    acme_client_free(c);
}

int main(int argc, char **argv)
{
    pebble_options po = PEBBLE_OPTIONS_INIT;
    int rc;

    g_test_init(&argc, &argv, NULL);
    g_assert_cmpint(acme_global_init(), ==, ACME_OK);
    /* challtestsrv must leave Pebble's httpPort free for our servers. */
    po.responders = false;
    peb = pebble_start(&po);

    g_test_add_func("/http01/pebble/standalone", test_standalone);
    g_test_add_func("/http01/pebble/embedded", test_embedded);
    g_test_add_func("/http01/pebble/webroot", test_webroot);
    g_test_add_func("/http01/pebble/nobody-listens", test_nobody_listens);

    rc = g_test_run();
    pebble_stop(peb);
    acme_global_cleanup();
    return rc;
}
