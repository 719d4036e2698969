/*
 * tests/integration: the client against a real ACME server (Pebble).
 *
 * Every test talks to a Pebble started by this program (pebble.c), with
 * Pebble's random nonce rejection left on, and answers challenges through
 * pebble-challtestsrv with test responders written against
 * <acme/sys/responder.h>.  Issued certificates are checked for real: SANs,
 * key, and a chain that verifies (GnuTLS) up to Pebble's root from its
 * management API.
 *
 * Set LIBACME_TEST_LOG=1 to see the library's debug log on stderr.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <acme/acme.h>
#include <acme/sys/error.h>
#include <acme/sys/responder.h>

#include "pebble.h"

#define PROBLEM(t) "urn:ietf:params:acme:error:" t

/* The Pebble most tests share (default options, responders on). */
static pebble *shared;
/* Names are unique per program run, so Pebble never reuses an authorization. */
static unsigned int name_seq;

/* ------------------------------------------------------------------ */
/* Helpers                                                              */
/* ------------------------------------------------------------------ */

/*
 * The macros take the error variable by name and read it inside the
 * function: a call's arguments are evaluated in no fixed order, so
 * f(g(&err), err) could read err before g sets it.
 */
static void assert_ok_at(int rc, acme_error **errp, const char *what, const char *file, int line)
{
    acme_error *err = *errp;

    if (rc != ACME_OK) {
        g_printerr("%s:%d: %s failed: %s (%s)\n", file, line, what,
                   acme_status_name(rc) != NULL ? acme_status_name(rc) : "?",
                   err != NULL ? acme_error_message(err) : "no error object");
        if (err != NULL && acme_error_problem_type(err) != NULL)
            g_printerr("  problem %s: %s\n", acme_error_problem_type(err),
                       acme_error_detail(err) != NULL ? acme_error_detail(err) : "");
        g_assert_cmpstr(acme_status_name(rc), ==, "ACME_OK");
    }
    /* The GError rule: *err is set exactly when the call fails. */
    g_assert_null(err);
}
#define ASSERT_OK(call, err, what) assert_ok_at((call), &(err), (what), __FILE__, __LINE__)

/* A failure with @p code; returns the error for more checks (caller frees). */
static acme_error *assert_fails_at(int rc, acme_error **errp, int code, const char *file, int line)
{
    acme_error *err = *errp;

    if (rc != code)
        g_printerr("%s:%d: expected %s, got %s (%s)\n", file, line, acme_status_name(code),
                   acme_status_name(rc) != NULL ? acme_status_name(rc) : "?",
                   err != NULL ? acme_error_message(err) : "no error object");
    g_assert_cmpint(rc, ==, code);
    g_assert_nonnull(err);
    g_assert_cmpint(acme_error_code_get(err), ==, code);
    g_assert_nonnull(acme_error_message(err));
    return err;
}
#define ASSERT_FAILS(call, err, code) assert_fails_at((call), &(err), (code), __FILE__, __LINE__)

static void test_log(void *userdata, acme_log_level level, const char *msg,
                     const acme_log_field *fields, size_t nfields)
{
    size_t i;

    (void)userdata;
    g_printerr("[%.3f] libacme %s: %s", (double)g_get_monotonic_time() / G_USEC_PER_SEC,
               acme_log_level_name(level), msg);
    for (i = 0; i < nfields; i++)
        g_printerr(" %s=%s", fields[i].key, fields[i].value);
    g_printerr("\n");
}

static char *unique_name(const char *label)
{
    return g_strdup_printf("%s-%u.example.com", label, ++name_seq);
}

static acme_key *new_key(void)
{
    acme_key *key = NULL;
    acme_error *err = NULL;

    ASSERT_OK(acme_key_generate(&key, ACME_KEY_EC_P256, &err), err, "acme_key_generate");
    return key;
}

static acme_client *new_client(const pebble *p, const acme_key *key)
{
    acme_client_options o = ACME_CLIENT_OPTIONS_INIT;
    acme_client *c = NULL;
    acme_error *err = NULL;

    o.directory_url = p->directory_url;
    o.account_key = key;
    o.ca_file = p->ca_file;
    o.user_agent = "libacme-tests";
    if (g_getenv("LIBACME_TEST_LOG") != NULL) {
        o.log = test_log;
        o.log_level = ACME_LOG_DEBUG;
    }
    ASSERT_OK(acme_client_new(&c, &o, &err), err, "acme_client_new");
    g_assert_nonnull(c);
    return c;
}

/* A client with a new key and a new account; *key_out (may be NULL) gets the key. */
static acme_client *new_account(const pebble *p, acme_key **key_out)
{
    acme_key *key = new_key();
    acme_client *c = new_client(p, key);
    acme_account_options ao = ACME_ACCOUNT_OPTIONS_INIT;
    const char *contact[] = { "mailto:tests@example.com" };
    acme_error *err = NULL;
    bool created = false;

    ao.contact = contact;
    ao.ncontact = 1;
    ao.terms_agreed = true;
    ASSERT_OK(acme_client_account_register(c, &ao, &created, &err), err, "register");
    g_assert_true(created);
    g_assert_nonnull(acme_client_account_url(c));
    if (key_out != NULL)
        *key_out = key;
    else
        acme_key_free(key);
    return c;
}

static gnutls_x509_crt_t *import_certs(const char *pem, unsigned int *n)
{
    gnutls_x509_crt_t *certs = NULL;
    gnutls_datum_t d = { (unsigned char *)pem, (unsigned int)strlen(pem) };

    g_assert_cmpint(gnutls_x509_crt_list_import2(&certs, n, &d, GNUTLS_X509_FMT_PEM, 0), ==,
                    GNUTLS_E_SUCCESS);
    return certs;
}

/* Whether @p chain_pem (leaf first) verifies up to the root @p root_pem alone. */
static bool chain_verifies(const char *chain_pem, const char *root_pem)
{
    gnutls_x509_trust_list_t tl;
    gnutls_x509_crt_t *certs;
    gnutls_datum_t r = { (unsigned char *)root_pem, (unsigned int)strlen(root_pem) };
    unsigned int n = 0, i, voutput = ~0u;

    certs = import_certs(chain_pem, &n);
    g_assert_cmpuint(n, >=, 2);
    g_assert_cmpint(gnutls_x509_trust_list_init(&tl, 0), ==, 0);
    g_assert_cmpint(gnutls_x509_trust_list_add_trust_mem(tl, &r, NULL, GNUTLS_X509_FMT_PEM, 0, 0),
                    ==, 1);
    /*
     * Signatures and trust only: Pebble stamps notBefore with its own
     * second, which may be ahead of ours by a fraction, so GnuTLS's time
     * check would fail now and then.  Validity is checked below with a
     * few seconds' allowance.
     */
    g_assert_cmpint(gnutls_x509_trust_list_verify_crt(tl, certs, n,
                                                      GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
                                                          GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS,
                                                      &voutput, NULL),
                    ==, 0);
    for (i = 0; i < n; i++) {
        time_t now = time(NULL);

        g_assert_cmpint(gnutls_x509_crt_get_activation_time(certs[i]), <=, now + 5);
        g_assert_cmpint(gnutls_x509_crt_get_expiration_time(certs[i]), >, now);
    }
    if (voutput != 0) {
        gnutls_datum_t why = { NULL, 0 };

        gnutls_certificate_verification_status_print(voutput, GNUTLS_CRT_X509, &why, 0);
        g_test_message("chain does not verify (status 0x%x): %s", voutput,
                       why.data ? (const char *)why.data : "?");
        for (i = 0; i < n; i++) {
            gnutls_datum_t info = { NULL, 0 };

            if (gnutls_x509_crt_print(certs[i], GNUTLS_CRT_PRINT_ONELINE, &info) == 0)
                g_test_message("  [%u] %s", i, (const char *)info.data);
            gnutls_free(info.data);
        }
        gnutls_free(why.data);
    }
    gnutls_x509_trust_list_deinit(tl, 1);
    for (i = 0; i < n; i++)
        gnutls_x509_crt_deinit(certs[i]);
    gnutls_free(certs);
    return voutput == 0;
}

static int cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Check an issued certificate for real: it parses, its SANs are exactly
 * @p names, @p key_pem is its key, and the chain verifies up to Pebble's
 * root number @p root.  Returns the parsed chain (caller frees).
 */
static acme_chain *check_issued(const pebble *p, const char *key_pem, const char *chain_pem,
                                const char *const *names, size_t nnames, int root)
{
    acme_chain *chain = NULL;
    acme_key *key = NULL;
    acme_error *err = NULL;
    const acme_cert *leaf;
    const char *const *sans;
    size_t nsans = 0, i;
    GPtrArray *want, *got;
    char *root_pem;

    g_assert_nonnull(key_pem);
    g_assert_nonnull(chain_pem);
    ASSERT_OK(acme_chain_parse(&chain, chain_pem, strlen(chain_pem), &err), err, "chain_parse");
    g_assert_cmpuint(acme_chain_count(chain), >=, 2);
    leaf = acme_chain_get(chain, 0);
    g_assert_nonnull(leaf);

    sans = acme_cert_sans(leaf, &nsans);
    g_assert_cmpuint(nsans, ==, nnames);
    want = g_ptr_array_new();
    got = g_ptr_array_new();
    for (i = 0; i < nnames; i++) {
        g_ptr_array_add(want, (gpointer)names[i]);
        g_ptr_array_add(got, (gpointer)sans[i]);
    }
    g_ptr_array_sort(want, cmp_str);
    g_ptr_array_sort(got, cmp_str);
    for (i = 0; i < nnames; i++)
        g_assert_cmpstr(g_ptr_array_index(got, i), ==, g_ptr_array_index(want, i));
    g_ptr_array_unref(want);
    g_ptr_array_unref(got);

    ASSERT_OK(acme_key_load_pem(&key, key_pem, strlen(key_pem), &err), err, "key_load_pem");
    ASSERT_OK(acme_cert_check_key(leaf, key, &err), err, "cert_check_key");
    acme_key_free(key);

    g_assert_cmpint(acme_cert_not_after(leaf), >, time(NULL));
    g_assert_cmpint(acme_cert_not_before(leaf), <=, time(NULL) + 300);

    root_pem = pebble_root_pem(p, root);
    g_assert_nonnull(root_pem);
    g_assert_true(chain_verifies(chain_pem, root_pem));
    g_free(root_pem);
    return chain;
}

/* acme_client_issue() with the given responders; asserts success. */
static void issue(acme_client *c, const char *const *names, size_t nnames,
                  acme_responder *const *rs, size_t nrs, const char *preferred_issuer,
                  char **key_pem, char **chain_pem)
{
    acme_issue_options io = ACME_ISSUE_OPTIONS_INIT;
    acme_error *err = NULL;

    io.names = names;
    io.nnames = nnames;
    io.responders = rs;
    io.nresponders = nrs;
    io.preferred_issuer = preferred_issuer;
    io.timeout_seconds = 60;
    *key_pem = *chain_pem = NULL;
    ASSERT_OK(acme_client_issue(key_pem, chain_pem, c, &io, &err), err, "acme_client_issue");
}

/* Issue for @p names with one responder of @p type and check the result. */
static void issue_and_check(const pebble *p, acme_client *c, const char *type,
                            const char *const *names, size_t nnames)
{
    acme_responder *r = pebble_responder_new((pebble *)p, type);
    char *key_pem, *chain_pem;
    unsigned int started, stopped;

    g_assert_nonnull(r);
    issue(c, names, nnames, &r, 1, NULL, &key_pem, &chain_pem);
    acme_chain_free(check_issued(p, key_pem, chain_pem, names, nnames, 0));
    /* One challenge per authorization (names are new: no reuse), each stopped again. */
    pebble_responder_counts(r, &started, &stopped);
    g_assert_cmpuint(started, ==, nnames);
    g_assert_cmpuint(stopped, ==, started);
    acme_free(key_pem);
    acme_free(chain_pem);
    acme_responder_free(r);
}

/* ------------------------------------------------------------------ */
/* Accounts (RFC 8555 §7.3)                                             */
/* ------------------------------------------------------------------ */

static void test_account_new_existing(void)
{
    acme_key *key = new_key();
    acme_client *c = new_client(shared, key), *c2;
    acme_account_options ao = ACME_ACCOUNT_OPTIONS_INIT;
    acme_error *err = NULL;
    bool created = false;
    char *url;

    /* §7.3.1: onlyReturnExisting for a key without an account. */
    err = ASSERT_FAILS(acme_client_account_find(c, &err), err, ACME_E_NOTFOUND);
    g_assert_cmpstr(acme_error_problem_type(err), ==, PROBLEM("accountDoesNotExist"));
    acme_error_free(err);
    err = NULL;
    g_assert_null(acme_client_account_url(c));

    ao.terms_agreed = true;
    ASSERT_OK(acme_client_account_register(c, &ao, &created, &err), err, "register");
    g_assert_true(created);
    url = g_strdup(acme_client_account_url(c));
    g_assert_nonnull(url);
    g_assert_true(g_str_has_prefix(url, "https://127.0.0.1:"));
    g_assert_cmpstr(acme_client_account_status(c), ==, "valid");

    /* Registering the same key again finds the same account. */
    created = true;
    ASSERT_OK(acme_client_account_register(c, &ao, &created, &err), err, "register again");
    g_assert_false(created);
    g_assert_cmpstr(acme_client_account_url(c), ==, url);

    /* Another client with the same key: find, then register. */
    c2 = new_client(shared, key);
    ASSERT_OK(acme_client_account_find(c2, &err), err, "find");
    g_assert_cmpstr(acme_client_account_url(c2), ==, url);
    g_assert_cmpstr(acme_client_account_status(c2), ==, "valid");
    created = true;
    ASSERT_OK(acme_client_account_register(c2, &ao, &created, &err), err, "register existing");
    g_assert_false(created);
    g_assert_cmpstr(acme_client_account_url(c2), ==, url);

    acme_client_free(c2);
    acme_client_free(c);
    acme_key_free(key);
    g_free(url);
}

static void assert_contacts(const acme_client *c, const char *const *want, size_t nwant)
{
    size_t n = 99, i;
    const char *const *got = acme_client_account_contact(c, &n);

    g_assert_cmpuint(n, ==, nwant);
    for (i = 0; i < nwant; i++)
        g_assert_cmpstr(got[i], ==, want[i]);
}

static void test_account_contact(void)
{
    acme_key *key = NULL;
    acme_client *c = new_account(shared, &key), *c2;
    const char *first[] = { "mailto:tests@example.com" };
    const char *two[] = { "mailto:a@example.com", "mailto:b@example.com" };
    acme_error *err = NULL;

    assert_contacts(c, first, 1);
    /* §7.3.2: update the contact list. */
    ASSERT_OK(acme_client_account_update_contact(c, two, 2, &err), err, "update_contact");
    assert_contacts(c, two, 2);

    /* The CA kept it: another client finds the new list. */
    c2 = new_client(shared, key);
    ASSERT_OK(acme_client_account_find(c2, &err), err, "find");
    assert_contacts(c2, two, 2);
    acme_client_free(c2);

    /* An empty list removes every contact. */
    ASSERT_OK(acme_client_account_update_contact(c, NULL, 0, &err), err, "clear contact");
    assert_contacts(c, NULL, 0);

    acme_client_free(c);
    acme_key_free(key);
}

/* §7.3.4 external account binding, against Pebble's externalAccountMACKeys. */
static void test_account_eab(void)
{
    pebble_options po = PEBBLE_OPTIONS_INIT;
    pebble *p;
    acme_key *key = new_key();
    acme_client *c;
    acme_account_options ao = ACME_ACCOUNT_OPTIONS_INIT;
    const acme_directory *dir = NULL;
    acme_error *err = NULL;
    bool created = false;
    /* A well-formed key that is not the CA's. */
    static const char wrong_key[] = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W";

    po.eab = true;
    p = pebble_start(&po);
    c = new_client(p, key);
    ASSERT_OK(acme_client_directory(&dir, c, &err), err, "directory");
    g_assert_true(acme_directory_external_account_required(dir));

    /* Without a binding the CA refuses. */
    ao.terms_agreed = true;
    err = ASSERT_FAILS(acme_client_account_register(c, &ao, &created, &err), err,
                       ACME_E_REJECTED);
    g_assert_cmpstr(acme_error_problem_type(err), ==, PROBLEM("externalAccountRequired"));
    acme_error_free(err);
    err = NULL;
    g_assert_null(acme_client_account_url(c));

    /* A binding signed with the wrong MAC key is refused too. */
    ao.eab_kid = p->eab_kid;
    ao.eab_hmac_key = wrong_key;
    err = ASSERT_FAILS(acme_client_account_register(c, &ao, &created, &err), err,
                       ACME_E_REJECTED);
    g_assert_nonnull(acme_error_problem_type(err));
    acme_error_free(err);
    err = NULL;

    /* The right one works. */
    ao.eab_hmac_key = p->eab_hmac_key;
    ASSERT_OK(acme_client_account_register(c, &ao, &created, &err), err, "register with EAB");
    g_assert_true(created);
    g_assert_nonnull(acme_client_account_url(c));
    g_assert_cmpstr(acme_client_account_status(c), ==, "valid");

    /* The bound account can issue. */
    {
        char *name = unique_name("eab");
        const char *names[] = { name };

        issue_and_check(p, c, "http-01", names, 1);
        g_free(name);
    }
    acme_client_free(c);
    acme_key_free(key);
    pebble_stop(p);
}

/* §7.3.5 key rollover: the old key no longer finds the account, the new key does. */
static void test_account_key_rollover(void)
{
    acme_key *old_key = NULL, *new_k = new_key();
    acme_client *c = new_account(shared, &old_key), *c_old, *c_new;
    const char *two[] = { "mailto:rolled@example.com" };
    acme_error *err = NULL;
    char *url = g_strdup(acme_client_account_url(c));

    ASSERT_OK(acme_client_account_key_change(c, new_k, &err), err, "key_change");
    g_assert_cmpstr(acme_client_account_url(c), ==, url);
    /* The client signs with the new key from now on. */
    ASSERT_OK(acme_client_account_update_contact(c, two, 1, &err), err, "update after rollover");

    c_old = new_client(shared, old_key);
    err = ASSERT_FAILS(acme_client_account_find(c_old, &err), err, ACME_E_NOTFOUND);
    g_assert_cmpstr(acme_error_problem_type(err), ==, PROBLEM("accountDoesNotExist"));
    acme_error_free(err);
    err = NULL;

    c_new = new_client(shared, new_k);
    ASSERT_OK(acme_client_account_find(c_new, &err), err, "find with new key");
    g_assert_cmpstr(acme_client_account_url(c_new), ==, url);
    assert_contacts(c_new, two, 1);

    /* Rolling over to a key that already has an account is refused. */
    {
        acme_key *taken = NULL;
        acme_client *other = new_account(shared, &taken);

        int rc = acme_client_account_key_change(c, taken, &err);

        /*
         * RFC 8555 §7.3.5 asks for 409 Conflict; Pebble 2.4 answers 500
         * serverInternal "New public key is already in use by account ...".
         * Either way the call fails with the CA's detail, and the account
         * keeps its current key.
         */
        g_assert_cmpint(rc, <, 0);
        g_assert_nonnull(err);
        g_assert_nonnull(acme_error_detail(err));
        g_assert_nonnull(strstr(acme_error_detail(err), "already in use"));
        g_assert_true(acme_error_http_status(err) == 409 || acme_error_http_status(err) == 500);
        acme_error_free(err);
        err = NULL;
        ASSERT_OK(acme_client_account_update_contact(c, two, 1, &err), err,
                  "update after refused rollover");
        acme_client_free(other);
        acme_key_free(taken);
    }

    acme_client_free(c_old);
    acme_client_free(c_new);
    acme_client_free(c);
    acme_key_free(old_key);
    acme_key_free(new_k);
    g_free(url);
}

/* §7.3.6 deactivation: afterwards the CA answers unauthorized. */
static void test_account_deactivate(void)
{
    acme_client *c = new_account(shared, NULL);
    const char *contact[] = { "mailto:gone@example.com" };
    acme_order_options oo = ACME_ORDER_OPTIONS_INIT;
    acme_identifier id = { ACME_ID_DNS, "deactivated.example.com" };
    acme_order *order = NULL;
    acme_error *err = NULL;

    ASSERT_OK(acme_client_account_deactivate(c, &err), err, "deactivate");
    g_assert_cmpstr(acme_client_account_status(c), ==, "deactivated");

    oo.ids = &id;
    oo.nids = 1;
    err = ASSERT_FAILS(acme_order_new(&order, c, &oo, &err), err, ACME_E_REJECTED);
    g_assert_null(order);
    g_assert_cmpstr(acme_error_problem_type(err), ==, PROBLEM("unauthorized"));
    g_assert_cmpint(acme_error_http_status(err), ==, 403);
    acme_error_free(err);
    err = NULL;

    err = ASSERT_FAILS(acme_client_account_update_contact(c, contact, 1, &err), err,
                       ACME_E_REJECTED);
    g_assert_cmpstr(acme_error_problem_type(err), ==, PROBLEM("unauthorized"));
    acme_error_free(err);
    acme_client_free(c);
}

/* ------------------------------------------------------------------ */
/* Issuance (RFC 8555 §7.4, §8)                                         */
/* ------------------------------------------------------------------ */

typedef struct issue_case {
    const char *type;
    size_t nnames;
} issue_case;

static const issue_case issue_cases[] = {
    { "http-01", 1 }, { "http-01", 5 },
    { "dns-01", 1 }, { "dns-01", 5 },
    { "tls-alpn-01", 1 }, { "tls-alpn-01", 5 },
};

static void test_issue_type(gconstpointer data)
{
    const issue_case *ic = data;
    acme_client *c = new_account(shared, NULL);
    char *names[5];
    size_t i;

    for (i = 0; i < ic->nnames; i++)
        names[i] = unique_name(ic->type);
    issue_and_check(shared, c, ic->type, (const char *const *)names, ic->nnames);
    for (i = 0; i < ic->nnames; i++)
        g_free(names[i]);
    acme_client_free(c);
}

/* HTTP requests per single-name issuance, printed for the record. */
static void test_issue_request_count(void)
{
    acme_client *c = new_account(shared, NULL);
    acme_responder *r = pebble_responder_new(shared, "http-01");
    char *name = unique_name("count");
    const char *names[] = { name };
    uint64_t req0 = 0, bad0 = 0, req1 = 0, bad1 = 0;
    char *key_pem, *chain_pem;

    acme_client_stats(c, &req0, &bad0);
    g_assert_cmpuint(req0, >, 0); /* the directory and newAccount at least */
    issue(c, names, 1, &r, 1, NULL, &key_pem, &chain_pem);
    acme_client_stats(c, &req1, &bad1);
    acme_chain_free(check_issued(shared, key_pem, chain_pem, names, 1, 0));
    /* newOrder, authz, challenge, finalize, certificate at the very least. */
    g_assert_cmpuint(req1 - req0, >=, 5);
    g_test_message("HTTP requests for one single-name issuance (http-01): %" G_GUINT64_FORMAT
                   " (of which %" G_GUINT64_FORMAT " badNonce retries)",
                   req1 - req0, bad1 - bad0);
    acme_free(key_pem);
    acme_free(chain_pem);
    acme_responder_free(r);
    g_free(name);
    acme_client_free(c);
}

/* A wildcard and its base name: both dns-01, sharing one TXT record name. */
static void test_issue_wildcard(void)
{
    acme_client *c = new_account(shared, NULL);
    char *base = unique_name("wild");
    char *wild = g_strdup_printf("*.%s", base);
    const char *names[] = { wild, base };
    acme_responder *http = pebble_responder_new(shared, "http-01");
    acme_issue_options io = ACME_ISSUE_OPTIONS_INIT;
    char *key_pem = NULL, *chain_pem = NULL;
    acme_error *err = NULL;
    const char *only_wild[] = { wild };

    issue_and_check(shared, c, "dns-01", names, 2);

    /* Pebble offers only dns-01 for a wildcard: an http-01 responder cannot answer. */
    g_free(wild);
    g_free(base);
    base = unique_name("wild-http");
    wild = g_strdup_printf("*.%s", base);
    only_wild[0] = wild;
    io.names = only_wild;
    io.nnames = 1;
    io.responders = &http;
    io.nresponders = 1;
    io.timeout_seconds = 30;
    err = ASSERT_FAILS(acme_client_issue(&key_pem, &chain_pem, c, &io, &err), err, ACME_E_NOTSUP);
    g_assert_null(key_pem);
    g_assert_null(chain_pem);
    acme_error_free(err);

    acme_responder_free(http);
    g_free(wild);
    g_free(base);
    acme_client_free(c);
}

/* RFC 8738: an IP identifier, validated by http-01 at 127.0.0.1. */
static void test_issue_ip(void)
{
    acme_client *c = new_account(shared, NULL);
    const char *names[] = { "127.0.0.1" };

    issue_and_check(shared, c, "http-01", names, 1);
    acme_client_free(c);
}

/* A responder that claims to be ready but puts nothing in place. */
static int null_start(void *self, const char *name, const acme_challenge *ch,
                      const char *key_authorization, acme_error **err)
{
    (*(unsigned int *)self)++;
    return ACME_OK;
}

static void null_stop(void *self, const char *name, const acme_challenge *ch,
                      const char *key_authorization)
{
    (*(unsigned int *)self)++;
}

static void null_destroy(void *self)
{
    (void)self;
}

static const acme_responder_ops null_dns01_ops = {
    .version = ACME_RESPONDER_OPS_VERSION,
    .name = "null dns-01",
    .challenge_type = "dns-01",
    .start = null_start,
    .stop = null_stop,
    .destroy = null_destroy,
};

/* A failed validation: the error carries Pebble's problem type and detail. */
static void test_issue_failed_validation(void)
{
    acme_client *c = new_account(shared, NULL);
    unsigned int calls = 0;
    acme_responder *r = NULL;
    char *name = unique_name("fail");
    const char *names[] = { name };
    acme_issue_options io = ACME_ISSUE_OPTIONS_INIT;
    char *key_pem = NULL, *chain_pem = NULL;
    acme_error *err = NULL;
    const char *detail;

    ASSERT_OK(acme_responder_new(&r, &null_dns01_ops, &calls, &err), err, "responder_new");
    io.names = names;
    io.nnames = 1;
    io.responders = &r;
    io.nresponders = 1;
    io.timeout_seconds = 60;
    err = ASSERT_FAILS(acme_client_issue(&key_pem, &chain_pem, c, &io, &err), err,
                       ACME_E_REJECTED);
    g_assert_null(key_pem);
    g_assert_null(chain_pem);
    g_test_message("failed validation: %s", acme_error_message(err));
    /* Pebble's VA finds no TXT record at _acme-challenge.NAME. */
    g_assert_cmpstr(acme_error_problem_type(err), ==, PROBLEM("unauthorized"));
    detail = acme_error_detail(err);
    g_assert_nonnull(detail);
    g_assert_nonnull(strstr(detail, "TXT"));
    g_assert_false(acme_error_retryable(err));
    /* The message shows the CA's detail to people. */
    g_assert_nonnull(strstr(acme_error_message(err), detail));
    acme_error_free(err);
    /* Started once, stopped once. */
    g_assert_cmpuint(calls, ==, 2);

    acme_responder_free(r);
    g_free(name);
    acme_client_free(c);
}

/*
 * The same failure step by step with the lower-level calls: order,
 * authorization, challenge, respond, poll.
 */
static void test_failed_validation_manual(void)
{
    acme_client *c = new_account(shared, NULL);
    acme_order_options oo = ACME_ORDER_OPTIONS_INIT;
    char *name = unique_name("manual-fail");
    acme_identifier id = { ACME_ID_DNS, name };
    acme_order *order = NULL;
    acme_authorization *authz = NULL;
    const acme_challenge *ch;
    const acme_error *cherr;
    acme_error *err = NULL;

    oo.ids = &id;
    oo.nids = 1;
    ASSERT_OK(acme_order_new(&order, c, &oo, &err), err, "order_new");
    g_assert_cmpint(acme_order_status(order), ==, ACME_STATUS_PENDING);
    g_assert_cmpuint(acme_order_identifier_count(order), ==, 1);
    g_assert_cmpstr(acme_order_identifier(order, 0)->value, ==, name);
    g_assert_cmpuint(acme_order_authorization_count(order), ==, 1);
    g_assert_nonnull(acme_order_finalize_url(order));
    g_assert_null(acme_order_certificate_url(order));

    ASSERT_OK(acme_authorization_get(&authz, c, acme_order_authorization_url(order, 0), &err),
              err, "authorization_get");
    g_assert_cmpint(acme_authorization_status(authz), ==, ACME_STATUS_PENDING);
    g_assert_cmpstr(acme_authorization_identifier(authz)->value, ==, name);
    g_assert_false(acme_authorization_wildcard(authz));
    g_assert_cmpuint(acme_authorization_challenge_count(authz), >=, 3);
    ch = acme_authorization_find_challenge(authz, "http-01");
    g_assert_nonnull(ch);
    g_assert_nonnull(acme_challenge_token(ch));
    g_assert_cmpint(acme_challenge_status(ch), ==, ACME_STATUS_PENDING);

    /* challtestsrv serves an empty body for an unknown token: a mismatch. */
    ASSERT_OK(acme_challenge_respond(c, ch, &err), err, "challenge_respond");
    err = ASSERT_FAILS(acme_authorization_poll(authz, c, time(NULL) + 30, &err), err,
                       ACME_E_REJECTED);
    g_test_message("failed http-01 validation: %s", acme_error_message(err));
    g_assert_cmpstr(acme_error_problem_type(err), ==, PROBLEM("unauthorized"));
    g_assert_nonnull(acme_error_detail(err));
    g_assert_nonnull(strstr(acme_error_detail(err), "key authorization"));
    acme_error_free(err);
    err = NULL;
    g_assert_cmpint(acme_authorization_status(authz), ==, ACME_STATUS_INVALID);
    ch = acme_authorization_find_challenge(authz, "http-01");
    g_assert_nonnull(ch);
    g_assert_cmpint(acme_challenge_status(ch), ==, ACME_STATUS_INVALID);
    cherr = acme_challenge_error(ch);
    g_assert_nonnull(cherr);
    g_assert_cmpstr(acme_error_problem_type(cherr), ==, PROBLEM("unauthorized"));

    /* The order is invalid now too. */
    err = ASSERT_FAILS(acme_order_poll(order, c, time(NULL) + 30, &err), err, ACME_E_REJECTED);
    acme_error_free(err);
    g_assert_cmpint(acme_order_status(order), ==, ACME_STATUS_INVALID);

    acme_authorization_free(authz);
    acme_order_free(order);
    g_free(name);
    acme_client_free(c);
}

/* ------------------------------------------------------------------ */
/* Alternate chains (Link rel="alternate", RFC 8555 §7.4.2)             */
/* ------------------------------------------------------------------ */

/* The topmost issuer CN of a chain: the issuer of its last certificate. */
static char *top_issuer_cn(const char *chain_pem)
{
    acme_chain *chain = NULL;
    acme_error *err = NULL;
    char *cn;

    ASSERT_OK(acme_chain_parse(&chain, chain_pem, strlen(chain_pem), &err), err, "chain_parse");
    cn = g_strdup(acme_cert_issuer_cn(acme_chain_get(chain, acme_chain_count(chain) - 1)));
    acme_chain_free(chain);
    g_assert_nonnull(cn);
    return cn;
}

/* A self-signed root's CN (its issuer CN is its own). */
static char *root_cn(const pebble *p, int n)
{
    char *pem = pebble_root_pem(p, n);
    char *cn;

    g_assert_nonnull(pem);
    cn = top_issuer_cn(pem);
    g_free(pem);
    return cn;
}

static void test_alternate_chains(void)
{
    pebble_options po = PEBBLE_OPTIONS_INIT;
    pebble *p;
    acme_key *key = NULL;
    acme_client *c;
    acme_responder *r;
    char *name, *cn0, *cn1, *key_pem, *chain_pem, *top;
    const char *names[1];

    po.alternate_roots = 1;
    p = pebble_start(&po);
    c = new_account(p, &key);
    r = pebble_responder_new(p, "http-01");
    cn0 = root_cn(p, 0);
    cn1 = root_cn(p, 1);
    g_assert_cmpstr(cn0, !=, cn1);

    /* Default: the chain up to root 0. */
    name = unique_name("alt-default");
    names[0] = name;
    issue(c, names, 1, &r, 1, NULL, &key_pem, &chain_pem);
    acme_chain_free(check_issued(p, key_pem, chain_pem, names, 1, 0));
    top = top_issuer_cn(chain_pem);
    g_assert_cmpstr(top, ==, cn0);
    g_free(top);
    acme_free(key_pem);
    acme_free(chain_pem);
    g_free(name);

    /* Preferred issuer: the alternate chain up to root 1, and not root 0. */
    name = unique_name("alt-preferred");
    names[0] = name;
    issue(c, names, 1, &r, 1, cn1, &key_pem, &chain_pem);
    acme_chain_free(check_issued(p, key_pem, chain_pem, names, 1, 1));
    top = top_issuer_cn(chain_pem);
    g_assert_cmpstr(top, ==, cn1);
    g_free(top);
    {
        char *root0 = pebble_root_pem(p, 0);

        g_assert_false(chain_verifies(chain_pem, root0));
        g_free(root0);
    }
    acme_free(key_pem);
    acme_free(chain_pem);
    g_free(name);

    /* A preferred issuer nobody offers: the default chain. */
    name = unique_name("alt-nomatch");
    names[0] = name;
    issue(c, names, 1, &r, 1, "No Such Root CA", &key_pem, &chain_pem);
    acme_chain_free(check_issued(p, key_pem, chain_pem, names, 1, 0));
    acme_free(key_pem);
    acme_free(chain_pem);
    g_free(name);

    acme_responder_free(r);
    acme_client_free(c);
    acme_key_free(key);
    g_free(cn0);
    g_free(cn1);
    pebble_stop(p);
}

/*
 * Step by step: answer http-01 through challtestsrv by hand, finalize with
 * our own CSR, then list every chain of the certificate URL.
 */
static void test_manual_order_chains(void)
{
    pebble_options po = PEBBLE_OPTIONS_INIT;
    pebble *p;
    acme_key *key = NULL, *cert_key;
    acme_client *c;
    acme_order_options oo = ACME_ORDER_OPTIONS_INIT;
    char *name, *csr = NULL, *keyauth = NULL, **chains = NULL, *cn0, *cn1, *top, *pem = NULL;
    char *token;
    acme_identifier id = { ACME_ID_DNS, NULL };
    acme_order *order = NULL;
    acme_authorization *authz = NULL;
    const acme_challenge *ch;
    acme_error *err = NULL;
    size_t nchains = 0, i;
    const char *names[1];

    po.alternate_roots = 1;
    p = pebble_start(&po);
    c = new_account(p, &key);
    name = unique_name("manual");
    names[0] = name;
    id.value = name;
    oo.ids = &id;
    oo.nids = 1;
    ASSERT_OK(acme_order_new(&order, c, &oo, &err), err, "order_new");
    ASSERT_OK(acme_authorization_get(&authz, c, acme_order_authorization_url(order, 0), &err),
              err, "authorization_get");
    ch = acme_authorization_find_challenge(authz, "http-01");
    g_assert_nonnull(ch);
    /* ch is borrowed from authz, which the poll below replaces: keep the token. */
    token = g_strdup(acme_challenge_token(ch));
    ASSERT_OK(acme_key_authorization(&keyauth, key, token, &err), err, "key_authorization");
    g_assert_true(pebble_cts_add_http01(p, token, keyauth));
    ASSERT_OK(acme_challenge_respond(c, ch, &err), err, "challenge_respond");
    ASSERT_OK(acme_authorization_poll(authz, c, time(NULL) + 30, &err), err, "authz_poll");
    g_assert_cmpint(acme_authorization_status(authz), ==, ACME_STATUS_VALID);
    ch = acme_authorization_find_challenge(authz, "http-01");
    g_assert_nonnull(ch);
    g_assert_cmpint(acme_challenge_status(ch), ==, ACME_STATUS_VALID);
    g_assert_cmpstr(acme_challenge_token(ch), ==, token);
    g_assert_true(pebble_cts_del_http01(p, token));
    g_free(token);

    cert_key = new_key();
    ASSERT_OK(acme_csr_new(&csr, cert_key, names, 1, &err), err, "csr_new");
    ASSERT_OK(acme_order_finalize(order, c, csr, time(NULL) + 30, &err), err, "finalize");
    g_assert_cmpint(acme_order_status(order), ==, ACME_STATUS_VALID);
    g_assert_nonnull(acme_order_certificate_url(order));

    ASSERT_OK(acme_client_certificate_chains(&chains, &nchains, c,
                                             acme_order_certificate_url(order), &err),
              err, "certificate_chains");
    g_assert_cmpuint(nchains, ==, 2);
    cn0 = root_cn(p, 0);
    cn1 = root_cn(p, 1);
    for (i = 0; i < nchains; i++) {
        char *root = pebble_root_pem(p, (int)i);

        g_assert_true(chain_verifies(chains[i], root));
        top = top_issuer_cn(chains[i]);
        g_assert_cmpstr(top, ==, i == 0 ? cn0 : cn1);
        g_free(top);
        g_free(root);
    }

    /* acme_order_download picks the same alternate by its topmost issuer CN. */
    ASSERT_OK(acme_order_download(&pem, c, order, cn1, &err), err, "download");
    g_assert_cmpstr(pem, ==, chains[1]);
    acme_free(pem);
    pem = NULL;
    ASSERT_OK(acme_order_download(&pem, c, order, NULL, &err), err, "download default");
    g_assert_cmpstr(pem, ==, chains[0]);
    {
        char *key_pem = NULL;

        ASSERT_OK(acme_key_save_pem(&key_pem, cert_key, ACME_KEY_FORMAT_PKCS8, &err), err,
                  "key_save_pem");
        acme_chain_free(check_issued(p, key_pem, pem, names, 1, 0));
        acme_free(key_pem);
    }
    acme_free(pem);

    acme_free_strv(chains, nchains);
    acme_free(csr);
    acme_free(keyauth);
    acme_key_free(cert_key);
    acme_authorization_free(authz);
    acme_order_free(order);
    acme_client_free(c);
    acme_key_free(key);
    g_free(name);
    g_free(cn0);
    g_free(cn1);
    pebble_stop(p);
}

/* ------------------------------------------------------------------ */
/* Revocation (RFC 8555 §7.6)                                           */
/* ------------------------------------------------------------------ */

static char *leaf_serial(const char *chain_pem)
{
    acme_chain *chain = NULL;
    acme_error *err = NULL;
    char *serial;

    ASSERT_OK(acme_chain_parse(&chain, chain_pem, strlen(chain_pem), &err), err, "chain_parse");
    serial = g_strdup(acme_cert_serial(acme_chain_get(chain, 0)));
    acme_chain_free(chain);
    g_assert_nonnull(serial);
    return serial;
}

static void assert_status(const char *serial, const char *want)
{
    char *status = pebble_cert_status(shared, serial);

    g_assert_cmpstr(status, ==, want);
    g_free(status);
}

static void test_revoke(void)
{
    acme_client *c = new_account(shared, NULL);
    acme_responder *r = pebble_responder_new(shared, "http-01");
    char *n1 = unique_name("revoke"), *n2 = unique_name("revoke-certkey");
    const char *names1[] = { n1 }, *names2[] = { n2 };
    char *key1, *chain1, *key2, *chain2, *s1, *s2;
    acme_key *ck = NULL;
    acme_error *err = NULL;

    issue(c, names1, 1, &r, 1, NULL, &key1, &chain1);
    issue(c, names2, 1, &r, 1, NULL, &key2, &chain2);
    s1 = leaf_serial(chain1);
    s2 = leaf_serial(chain2);
    assert_status(s1, "Valid");
    assert_status(s2, "Valid");

    /* Signed with the account key, reason superseded. */
    ASSERT_OK(acme_client_revoke(c, chain1, NULL, 4, &err), err, "revoke");
    assert_status(s1, "Revoked");
    assert_status(s2, "Valid");
    err = ASSERT_FAILS(acme_client_revoke(c, chain1, NULL, 4, &err), err, ACME_E_REJECTED);
    g_assert_cmpstr(acme_error_problem_type(err), ==, PROBLEM("alreadyRevoked"));
    acme_error_free(err);
    err = NULL;

    /* Signed with the certificate's own key, no reason. */
    ASSERT_OK(acme_key_load_pem(&ck, key2, strlen(key2), &err), err, "key_load_pem");
    ASSERT_OK(acme_client_revoke(c, chain2, ck, -1, &err), err, "revoke with cert key");
    assert_status(s2, "Revoked");

    acme_key_free(ck);
    acme_free(key1);
    acme_free(chain1);
    acme_free(key2);
    acme_free(chain2);
    g_free(s1);
    g_free(s2);
    g_free(n1);
    g_free(n2);
    acme_responder_free(r);
    acme_client_free(c);
}

/* ------------------------------------------------------------------ */
/* Nonce rejection and throughput                                       */
/* ------------------------------------------------------------------ */

/* Pebble rejects half of all good nonces; the client still issues. */
static void test_nonce_reject_50(void)
{
    pebble_options po = PEBBLE_OPTIONS_INIT;
    pebble *p;
    acme_client *c;
    acme_responder *r;
    uint64_t requests = 0, retries = 0;
    int i;

    po.nonce_reject = 50;
    p = pebble_start(&po);
    c = new_account(p, NULL);
    r = pebble_responder_new(p, "dns-01");
    for (i = 0; i < 4; i++) {
        char *name = unique_name("nonce50");
        const char *names[] = { name };
        char *key_pem, *chain_pem;

        issue(c, names, 1, &r, 1, NULL, &key_pem, &chain_pem);
        acme_chain_free(check_issued(p, key_pem, chain_pem, names, 1, 0));
        acme_free(key_pem);
        acme_free(chain_pem);
        g_free(name);
    }
    acme_client_stats(c, &requests, &retries);
    g_test_message("PEBBLE_WFE_NONCEREJECT=50: 4 certificates, %" G_GUINT64_FORMAT
                   " HTTP requests, %" G_GUINT64_FORMAT " badNonce retries",
                   requests, retries);
    /* About half of some 30 signed requests were rejected: the retry path ran. */
    g_assert_cmpuint(retries, >, 0);
    acme_responder_free(r);
    acme_client_free(c);
    pebble_stop(p);
}

/* Twenty single-name certificates in a row with one client; the time is reported, not asserted. */
static void test_twenty_in_a_row(void)
{
    acme_client *c = new_account(shared, NULL);
    acme_responder *r = pebble_responder_new(shared, "http-01");
    uint64_t req0 = 0, req1 = 0, bad0 = 0, bad1 = 0;
    gint64 t0, t1, in_issue = 0;
    int i, ok = 0;

    acme_client_stats(c, &req0, &bad0);
    t0 = g_get_monotonic_time();
    for (i = 0; i < 20; i++) {
        char *name = unique_name("twenty");
        const char *names[] = { name };
        char *key_pem, *chain_pem;
        gint64 s = g_get_monotonic_time();

        issue(c, names, 1, &r, 1, NULL, &key_pem, &chain_pem);
        in_issue += g_get_monotonic_time() - s;
        acme_chain_free(check_issued(shared, key_pem, chain_pem, names, 1, 0));
        ok++;
        acme_free(key_pem);
        acme_free(chain_pem);
        g_free(name);
    }
    t1 = g_get_monotonic_time();
    acme_client_stats(c, &req1, &bad1);
    g_assert_cmpint(ok, ==, 20);
    g_test_message("20 single-name certificates in a row, one client: %.2f s wall in "
                   "acme_client_issue (%.0f ms each; %.2f s with the test's checks), %"
                   G_GUINT64_FORMAT " HTTP requests (%.1f per certificate), %" G_GUINT64_FORMAT
                   " badNonce retries",
                   (double)in_issue / G_USEC_PER_SEC, (double)in_issue / 20 / 1000,
                   (double)(t1 - t0) / G_USEC_PER_SEC, req1 - req0,
                   (double)(req1 - req0) / 20, bad1 - bad0);
    acme_responder_free(r);
    acme_client_free(c);
}

int main(int argc, char **argv)
{
    int rc;
    size_t i;

    g_test_init(&argc, &argv, NULL);
    g_assert_cmpint(acme_global_init(), ==, ACME_OK);
    shared = pebble_start(NULL);

    g_test_add_func("/client/pebble/account/new-and-existing", test_account_new_existing);
    g_test_add_func("/client/pebble/account/contact-update", test_account_contact);
    g_test_add_func("/client/pebble/account/eab", test_account_eab);
    g_test_add_func("/client/pebble/account/key-rollover", test_account_key_rollover);
    g_test_add_func("/client/pebble/account/deactivate", test_account_deactivate);
    for (i = 0; i < G_N_ELEMENTS(issue_cases); i++) {
        char *path = g_strdup_printf("/client/pebble/issue/%s/%zu-name%s", issue_cases[i].type,
                                     issue_cases[i].nnames, issue_cases[i].nnames > 1 ? "s" : "");

        g_test_add_data_func(path, &issue_cases[i], test_issue_type);
        g_free(path);
    }
    g_test_add_func("/client/pebble/issue/request-count", test_issue_request_count);
    g_test_add_func("/client/pebble/issue/wildcard-dns-01", test_issue_wildcard);
    g_test_add_func("/client/pebble/issue/ip-identifier", test_issue_ip);
    g_test_add_func("/client/pebble/issue/failed-validation", test_issue_failed_validation);
    g_test_add_func("/client/pebble/order/failed-validation-steps", test_failed_validation_manual);
    g_test_add_func("/client/pebble/chains/alternate", test_alternate_chains);
    g_test_add_func("/client/pebble/chains/manual-order", test_manual_order_chains);
    g_test_add_func("/client/pebble/revoke", test_revoke);
    g_test_add_func("/client/pebble/nonce-reject-50", test_nonce_reject_50);
    g_test_add_func("/client/pebble/twenty-in-a-row", test_twenty_in_a_row);

    rc = g_test_run();
    pebble_stop(shared);
    acme_global_cleanup();
    return rc;
}
