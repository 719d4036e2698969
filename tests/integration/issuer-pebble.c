/*
 * tests/integration: the issuer over the real client (acme_issuer_client_new())
 * against Pebble.  The account step registers with a contact, and a second
 * issuer with the same account key finds the existing account and updates
 * its contact (RFC 8555 §7.3.2), which a third client then reads back from
 * Pebble.  Issuing goes through the null responder on a Pebble that does
 * not validate (PEBBLE_VA_ALWAYS_VALID=1).
 *
 * Set LIBACME_TEST_LOG=1 to see the library's debug log on stderr.
 */
#include "config.h"

#include <string.h>

#include <glib.h>

#include <acme/acme.h>
#include <acme/issuer.h>
#include <acme/sys/issuer.h>
#include <acme/testing.h>

#include "pebble.h"

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

/* A client for @p p with @p key; no request made yet. */
static acme_client *new_client(const pebble *p, const acme_key *key)
{
    acme_client_options o = ACME_CLIENT_OPTIONS_INIT;
    acme_client *c = NULL;
    acme_error *err = NULL;

    o.directory_url = p->directory_url;
    o.account_key = key;
    o.ca_file = p->ca_file;
    o.user_agent = "libacme-tests";
    if (g_getenv("LIBACME_TEST_LOG")) {
        o.log = test_log;
        o.log_level = ACME_LOG_DEBUG;
    }
    ASSERT_OK(acme_client_new(&c, &o, &err), err, "client_new");
    return c;
}

/* The account's contact is exactly [@p want] as the client last saw it. */
static void assert_contact(acme_client *c, const char *want)
{
    size_t n = 0;
    const char *const *v = acme_client_account_contact(c, &n);

    g_assert_cmpuint(n, ==, 1);
    g_assert_nonnull(v);
    g_assert_cmpstr(v[0], ==, want);
}

static void test_account_contact_and_issue(void)
{
    pebble_options po = PEBBLE_OPTIONS_INIT;
    acme_issue_options io = ACME_ISSUE_OPTIONS_INIT;
    acme_account_options ao = ACME_ACCOUNT_OPTIONS_INIT;
    const char *names[] = { "issuer-pebble.example.com", "www.issuer-pebble.example.com" };
    acme_responder *r = NULL;
    acme_issuer *one = NULL, *two = NULL;
    acme_renewal_info *ri = NULL;
    acme_client *three;
    acme_chain *chain = NULL;
    acme_key *key = NULL, *cert_key = NULL;
    acme_error *err = NULL;
    char *key_pem = NULL, *chain_pem = NULL, *url1, *ari_id = NULL;
    size_t nsans = 0;
    uint64_t req1 = 0, req2 = 0, bn1 = 0, bn2 = 0;
    int rc;

    po.responders = false;  /* nothing answers a challenge: the null responder */
    po.always_valid = true;
    pebble *p = pebble_start(&po);

    ASSERT_OK(acme_key_generate(&key, ACME_KEY_EC_P256, &err), err, "key_generate");

    /* A new account, registered with its contact. */
    ASSERT_OK(acme_issuer_client_new(&one, new_client(p, key), &err), err, "issuer_client_new");
    ASSERT_OK(acme_issuer_account(one, "first@example.com", &err), err, "issuer_account");
    assert_contact(acme_issuer_self(one), "mailto:first@example.com");
    url1 = g_strdup(acme_client_account_url(acme_issuer_self(one)));
    g_assert_nonnull(url1);

    /* Issue through the issuer. */
    ASSERT_OK(acme_responder_null_new(&r, "http-01", &err), err, "null_new");
    io.names = names;
    io.nnames = 2;
    io.responders = &r;
    io.nresponders = 1;
    rc = acme_issuer_issue(one, &key_pem, &chain_pem, &io, &err);
    if (rc != ACME_OK)
        pebble_print_log_tail(p, 40);
    ASSERT_OK(rc, err, "issuer_issue");
    ASSERT_OK(acme_chain_parse(&chain, chain_pem, strlen(chain_pem), &err), err, "chain_parse");
    acme_cert_sans(acme_chain_get(chain, 0), &nsans);
    g_assert_cmpuint(nsans, ==, 2);
    ASSERT_OK(acme_key_load_pem(&cert_key, key_pem, strlen(key_pem), &err), err, "key_load");
    ASSERT_OK(acme_cert_check_key(acme_chain_get(chain, 0), cert_key, &err), err, "check_key");

    /* Pebble 2.4 has no renewalInfo in its directory: ACME_E_NOTSUP. */
    ASSERT_OK(acme_cert_ari_id(&ari_id, acme_chain_get(chain, 0), &err), err, "ari_id");
    g_assert_cmpint(acme_issuer_renewal_info(one, &ri, ari_id, &err), ==, ACME_E_NOTSUP);
    g_assert_null(ri);
    g_assert_cmpint(acme_error_code_get(err), ==, ACME_E_NOTSUP);
    acme_error_free(err);
    err = NULL;

    /* The same key through a new issuer: the account exists; its contact is updated. */
    ASSERT_OK(acme_issuer_client_new(&two, new_client(p, key), &err), err, "issuer_client_new");
    ASSERT_OK(acme_issuer_account(two, "second@example.com", &err), err, "issuer_account 2");
    acme_client_stats(acme_issuer_self(two), &req1, &bn1);
    g_assert_cmpstr(acme_client_account_url(acme_issuer_self(two)), ==, url1);
    assert_contact(acme_issuer_self(two), "mailto:second@example.com");
    /* Asking again with the same address changes nothing and still succeeds. */
    ASSERT_OK(acme_issuer_account(two, "second@example.com", &err), err, "issuer_account 3");
    acme_client_stats(acme_issuer_self(two), &req2, &bn2);
    assert_contact(acme_issuer_self(two), "mailto:second@example.com");
    /* ... and sends no update: one newAccount request (plus any badNonce retries). */
    g_assert_cmpuint((req2 - req1) - (bn2 - bn1), ==, 1);

    /* What Pebble itself now holds, read by a client that sends no contact. */
    three = new_client(p, key);
    ao.terms_agreed = true;
    ASSERT_OK(acme_client_account_register(three, &ao, NULL, &err), err, "account_register");
    g_assert_cmpstr(acme_client_account_url(three), ==, url1);
    assert_contact(three, "mailto:second@example.com");

    /* Cancel is the client's: sticky, so the next call is cancelled. */
    acme_issuer_cancel(two);
    g_assert_cmpint(acme_issuer_account(two, "third@example.com", &err), ==, ACME_E_CANCELLED);
    acme_error_free(err);

    acme_client_free(three);
    acme_issuer_free(one);
    acme_issuer_free(two);
    acme_responder_free(r);
    acme_chain_free(chain);
    acme_key_free(cert_key);
    acme_key_free(key);
    acme_free(key_pem);
    acme_free(chain_pem);
    acme_free(ari_id);
    g_free(url1);
    pebble_stop(p);
}

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    g_assert_cmpint(acme_global_init(), ==, ACME_OK);
    g_test_add_func("/issuer/pebble/account-contact-and-issue", test_account_contact_and_issue);
    rc = g_test_run();
    acme_global_cleanup();
    return rc;
}
