/*
 * tests/integration: tls-alpn-01 end to end.  Pebble validates against
 * libacme's standalone listener on its tlsPort (challtestsrv's own
 * tls-alpn-01 responder is off, so the port is ours); and an order
 * completes with the null responder on a Pebble that does not validate
 * (PEBBLE_VA_ALWAYS_VALID=1).
 *
 * Set LIBACME_TEST_LOG=1 to see the library's debug log on stderr.
 */
#include "config.h"

#include <string.h>

#include <glib.h>

#include <acme/acme.h>
#include <acme/testing.h>

#include "pebble.h"

/* Names are unique per run, so Pebble never reuses an authorization. */
static unsigned int name_seq;

static void assert_ok_at(int rc, acme_error **errp, const char *what, const char *file, int line)
{
    acme_error *err = *errp;

    if (rc != ACME_OK) {
        g_printerr("%s:%d: %s failed: %s (%s)\n", file, line, what,
                   acme_status_name(rc) ? acme_status_name(rc) : "?",
                   err ? acme_error_message(err) : "no error object");
        if (err && acme_error_problem_type(err))
            g_printerr("  problem %s: %s\n", acme_error_problem_type(err),
                       acme_error_detail(err) ? acme_error_detail(err) : "");
        g_assert_cmpstr(acme_status_name(rc), ==, "ACME_OK");
    }
    g_assert_null(err);
}
#define ASSERT_OK(call, err, what) assert_ok_at((call), &(err), (what), __FILE__, __LINE__)

static void test_log(void *userdata, acme_log_level level, const char *msg,
                     const acme_log_field *fields, size_t nfields)
{
    g_printerr("libacme %d: %s", (int)level, msg);
    for (size_t i = 0; i < nfields; i++)
        g_printerr(" %s=%s", fields[i].key, fields[i].value);
    g_printerr("\n");
}

/* A client with a new key and a new account on @p p. */
static acme_client *new_account(const pebble *p, acme_key **key_out)
{
    acme_client_options o = ACME_CLIENT_OPTIONS_INIT;
    acme_account_options ao = ACME_ACCOUNT_OPTIONS_INIT;
    acme_client *c = NULL;
    acme_key *key = NULL;
    acme_error *err = NULL;

    ASSERT_OK(acme_key_generate(&key, ACME_KEY_EC_P256, &err), err, "key_generate");
    o.directory_url = p->directory_url;
    o.account_key = key;
    o.ca_file = p->ca_file;
    o.user_agent = "libacme-tests";
    if (g_getenv("LIBACME_TEST_LOG")) {
        o.log = test_log;
        o.log_level = ACME_LOG_DEBUG;
    }
    ASSERT_OK(acme_client_new(&c, &o, &err), err, "client_new");
    ao.terms_agreed = true;
    ASSERT_OK(acme_client_account_register(c, &ao, NULL, &err), err, "account_register");
    *key_out = key;
    return c;
}

/* The issued certificate names exactly @p names (any case) and @p key_pem is its key. */
static void check_issued(const char *key_pem, const char *chain_pem, const char *const *names,
                         size_t nnames)
{
    acme_chain *chain = NULL;
    acme_key *key = NULL;
    acme_error *err = NULL;
    const char *const *sans;
    size_t nsans = 0;

    ASSERT_OK(acme_chain_parse(&chain, chain_pem, strlen(chain_pem), &err), err, "chain_parse");
    g_assert_cmpuint(acme_chain_count(chain), >=, 2);
    sans = acme_cert_sans(acme_chain_get(chain, 0), &nsans);
    g_assert_cmpuint(nsans, ==, nnames);
    for (size_t i = 0; i < nnames; i++) {
        bool found = false;

        for (size_t j = 0; j < nsans; j++)
            found = found || g_ascii_strcasecmp(sans[j], names[i]) == 0;
        g_assert_true(found);
    }
    ASSERT_OK(acme_key_load_pem(&key, key_pem, strlen(key_pem), &err), err, "key_load_pem");
    ASSERT_OK(acme_cert_check_key(acme_chain_get(chain, 0), key, &err), err, "check_key");
    acme_key_free(key);
    acme_chain_free(chain);
}

static int issue(acme_client *c, const char *const *names, size_t nnames, acme_responder *r,
                 char **key_pem, char **chain_pem, acme_error **err)
{
    acme_issue_options io = ACME_ISSUE_OPTIONS_INIT;

    io.names = names;
    io.nnames = nnames;
    io.responders = &r;
    io.nresponders = 1;
    io.timeout_seconds = 60;
    return acme_client_issue(key_pem, chain_pem, c, &io, err);
}

/* Pebble validates each name against the standalone listener. */
static void test_issue_listener(gconstpointer data)
{
    const char *kind = data;
    pebble_options po = PEBBLE_OPTIONS_INIT;
    pebble *p;
    acme_tlsalpn01 *reg = NULL;
    acme_tlsalpn01_server *srv = NULL;
    acme_responder *r = NULL;
    acme_client *c;
    acme_key *key;
    acme_error *err = NULL;
    char *key_pem = NULL, *chain_pem = NULL;
    char *n1 = g_strdup_printf("alpn-%u.example.com", ++name_seq);
    char *n2 = g_strdup_printf("ALPN-%u.Example.COM", ++name_seq);
    const char *names[2] = { n1, n2 };
    size_t nnames = 2;
    int rc;

    if (strcmp(kind, "ip") == 0) {
        /* RFC 8738 §6: Pebble sends the reverse name as SNI. */
        names[0] = "127.0.0.1";
        nnames = 1;
    } else if (strcmp(kind, "one") == 0) {
        nnames = 1;
    }
    po.responders = false;  /* tlsPort is ours */
    p = pebble_start(&po);
    ASSERT_OK(acme_tlsalpn01_new(&reg, &err), err, "tlsalpn01_new");
    ASSERT_OK(acme_tlsalpn01_listen(&srv, reg, "127.0.0.1", p->tls_port, &err), err, "listen");
    g_assert_cmpuint(acme_tlsalpn01_server_port(srv), ==, p->tls_port);
    ASSERT_OK(acme_tlsalpn01_responder(&r, reg, &err), err, "responder");
    c = new_account(p, &key);

    rc = issue(c, names, nnames, r, &key_pem, &chain_pem, &err);
    if (rc != ACME_OK)
        pebble_print_log_tail(p, 40);
    ASSERT_OK(rc, err, "acme_client_issue");
    check_issued(key_pem, chain_pem, names, nnames);
    /* Every challenge started was stopped. */
    g_assert_cmpuint(acme_tlsalpn01_count(reg), ==, 0);

    acme_free(key_pem);
    acme_free(chain_pem);
    acme_client_free(c);
    acme_key_free(key);
    acme_responder_free(r);
    acme_tlsalpn01_server_free(srv);
    acme_tlsalpn01_free(reg);
    pebble_stop(p);
    g_free(n1);
    g_free(n2);
}

/* Without the listener nobody answers: the order fails, the CA says why. */
static void test_issue_no_listener(void)
{
    pebble_options po = PEBBLE_OPTIONS_INIT;
    pebble *p;
    acme_tlsalpn01 *reg = NULL;
    acme_responder *r = NULL;
    acme_client *c;
    acme_key *key;
    acme_error *err = NULL;
    char *key_pem = NULL, *chain_pem = NULL;
    char *name = g_strdup_printf("nolisten-%u.example.com", ++name_seq);
    const char *names[] = { name };

    po.responders = false;
    p = pebble_start(&po);
    ASSERT_OK(acme_tlsalpn01_new(&reg, &err), err, "tlsalpn01_new");
    ASSERT_OK(acme_tlsalpn01_responder(&r, reg, &err), err, "responder");
    c = new_account(p, &key);
    g_assert_cmpint(issue(c, names, 1, r, &key_pem, &chain_pem, &err), ==, ACME_E_REJECTED);
    g_assert_nonnull(err);
    g_assert_null(key_pem);
    g_assert_cmpuint(acme_tlsalpn01_count(reg), ==, 0);
    acme_error_free(err);
    acme_client_free(c);
    acme_key_free(key);
    acme_responder_free(r);
    acme_tlsalpn01_free(reg);
    pebble_stop(p);
    g_free(name);
}

/* txacme's NullResponder use: a CA that does not validate. */
static void test_issue_null_responder(void)
{
    pebble_options po = PEBBLE_OPTIONS_INIT;
    pebble *p;
    acme_responder *r = NULL;
    acme_client *c;
    acme_key *key;
    acme_error *err = NULL;
    char *key_pem = NULL, *chain_pem = NULL;
    char *name = g_strdup_printf("null-%u.example.com", ++name_seq);
    const char *names[] = { name };
    int rc;

    po.responders = false;  /* nothing answers any challenge */
    po.always_valid = true;
    p = pebble_start(&po);
    ASSERT_OK(acme_responder_null_new(&r, "http-01", &err), err, "null_new");
    c = new_account(p, &key);
    rc = issue(c, names, 1, r, &key_pem, &chain_pem, &err);
    if (rc != ACME_OK)
        pebble_print_log_tail(p, 40);
    ASSERT_OK(rc, err, "acme_client_issue");
    check_issued(key_pem, chain_pem, names, 1);
    acme_free(key_pem);
    acme_free(chain_pem);
    acme_client_free(c);
    acme_key_free(key);
    acme_responder_free(r);
    pebble_stop(p);
    g_free(name);
}

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    g_assert_cmpint(acme_global_init(), ==, ACME_OK);
    g_test_add_data_func("/tlsalpn01/pebble/issue/one-name", "one", test_issue_listener);
    g_test_add_data_func("/tlsalpn01/pebble/issue/two-names", "two", test_issue_listener);
    g_test_add_data_func("/tlsalpn01/pebble/issue/ip", "ip", test_issue_listener);
    g_test_add_func("/tlsalpn01/pebble/issue/no-listener", test_issue_no_listener);
    g_test_add_func("/testing/pebble/null-responder", test_issue_null_responder);
    rc = g_test_run();
    acme_global_cleanup();
    return rc;
}
