/*
 * tests/integration: dns-01 against real servers.
 *
 * /dns/pdns/...: the PowerDNS provider against a real PowerDNS
 * Authoritative server (the harness in pdns.c): zones detected by longest
 * suffix, two TXT values at one name, one removed and the other still
 * served (checked with real DNS queries to the server), credentials
 * refused, CNAME delegation through the responder.
 *
 * /dns/pebble/...: end to end.  Pebble validates dns-01 by asking that
 * PowerDNS (its -dnsserver) while the dns-01 responder writes the records
 * through PowerDNS's HTTP API: one order for example.test and
 * *.example.test, whose two TXT values must exist at once, and be gone
 * after.
 *
 * Set LIBACME_TEST_LOG=1 to see the library's debug log on stderr.
 */
#include "config.h"

#include <string.h>

#include <glib.h>

#include <acme/acme.h>
#include <acme/dns.h>
#include <acme/sys/responder.h>

#include "client/client-internal.h"
#include "dns/dns.h"
#include "pdns.h"
#include "pebble.h"

/* Two key authorizations of the right shape (token.thumbprint). */
#define KA1 "tokenAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.thumbprintAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define KA2 "tokenBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB.thumbprintBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"

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
    (void)userdata;
    g_printerr("libacme %d: %s", (int)level, msg);
    for (size_t i = 0; i < nfields; i++)
        g_printerr(" %s=%s", fields[i].key, fields[i].value);
    g_printerr("\n");
}

/* A pdns provider instance for @p s, from a spec string and no environment. */
static acme_dns_provider *provider_for(const pdns_server *s, const char *extra)
{
    acme_dns_provider_options o = ACME_DNS_PROVIDER_OPTIONS_INIT;
    acme_dns_provider *p = NULL;
    acme_error *err = NULL;
    char *spec = g_strdup_printf("pdns:api_url=%s,api_key=%s%s%s", s->api_url, s->api_key,
                                 extra ? "," : "", extra ? extra : "");

    o.ignore_environment = true;
    if (g_getenv("LIBACME_TEST_LOG")) {
        o.log = test_log;
        o.log_level = ACME_LOG_DEBUG;
    }
    ASSERT_OK(acme_dns_provider_new(&p, spec, &o, &err), err, "dns_provider_new");
    g_free(spec);
    return p;
}

/* ---- the provider against PowerDNS ---- */

static void test_pdns_zones(void)
{
    pdns_server *s = pdns_start();
    acme_dns_provider *p;
    acme_error *err = NULL;
    char *zone = NULL;

    g_assert_true(pdns_create_zone(s, "example.test"));
    g_assert_true(pdns_create_zone(s, "sub.example.test"));
    p = provider_for(s, NULL);

    /* Longest suffix on a label boundary. */
    ASSERT_OK(acme_dns_provider_find_zone(&zone, p, "_acme-challenge.x.sub.example.test", &err),
              err, "find_zone");
    g_assert_cmpstr(zone, ==, "sub.example.test");
    acme_free(zone);
    ASSERT_OK(acme_dns_provider_find_zone(&zone, p, "_acme-challenge.Example.Test.", &err), err,
              "find_zone");
    g_assert_cmpstr(zone, ==, "example.test");
    acme_free(zone);
    ASSERT_OK(acme_dns_provider_find_zone(&zone, p, "a.xsub.example.test", &err), err,
              "find_zone");
    g_assert_cmpstr(zone, ==, "example.test");
    acme_free(zone);

    /* ZoneNotFound and NotInZone are distinct. */
    g_assert_cmpint(acme_dns_provider_find_zone(&zone, p, "www.badexample.test", &err), ==,
                    ACME_E_ZONENOTFOUND);
    g_assert_nonnull(strstr(acme_error_message(err), "badexample.test"));
    acme_error_free(err);
    err = NULL;
    acme_dns_provider_free(p);

    p = provider_for(s, "zone=sub.example.test");
    g_assert_cmpint(acme_dns_provider_find_zone(&zone, p, "www.example.test", &err), ==,
                    ACME_E_NOTINZONE);
    acme_error_free(err);
    err = NULL;
    acme_dns_provider_free(p);
    p = provider_for(s, "zone=nothere.test");
    g_assert_cmpint(acme_dns_provider_find_zone(&zone, p, "www.nothere.test", &err), ==,
                    ACME_E_ZONENOTFOUND);
    acme_error_free(err);
    err = NULL;
    acme_dns_provider_free(p);
    pdns_stop(s);
}

static void test_pdns_two_values(void)
{
    pdns_server *s = pdns_start();
    acme_dns_provider *p;
    acme_error *err = NULL;
    const char *name = "_acme-challenge.example.test";
    char *txt;
    int rcode = -1;

    g_assert_true(pdns_create_zone(s, "example.test"));
    p = provider_for(s, "ttl=60");

    ASSERT_OK(acme_dns_provider_txt_add(p, name, "value-one", 0, &err), err, "txt_add 1");
    ASSERT_OK(acme_dns_provider_txt_add(p, name, "value-two", 0, &err), err, "txt_add 2");
    /* Adding again changes nothing. */
    ASSERT_OK(acme_dns_provider_txt_add(p, name, "value-two", 0, &err), err, "txt_add 2 again");
    txt = pdns_served(s, name, &rcode);
    g_assert_cmpint(rcode, ==, 0);
    g_assert_cmpstr(txt, ==, "value-one value-two");
    g_free(txt);

    /* Removing one leaves the other. */
    ASSERT_OK(acme_dns_provider_txt_remove(p, name, "value-one", &err), err, "txt_remove 1");
    txt = pdns_served(s, name, NULL);
    g_assert_cmpstr(txt, ==, "value-two");
    g_free(txt);
    ASSERT_OK(acme_dns_provider_txt_remove(p, name, "value-one", &err), err, "txt_remove 1 again");
    txt = pdns_served(s, name, NULL);
    g_assert_cmpstr(txt, ==, "value-two");
    g_free(txt);

    /* The last one takes the RRset with it. */
    ASSERT_OK(acme_dns_provider_txt_remove(p, name, "value-two", &err), err, "txt_remove 2");
    txt = pdns_served(s, name, &rcode);
    g_assert_cmpstr(txt, ==, "");
    g_assert_cmpint(rcode, ==, 3); /* NXDOMAIN */
    g_free(txt);
    acme_dns_provider_free(p);
    pdns_stop(s);
}

static void test_pdns_bad_key(void)
{
    pdns_server *s = pdns_start();
    acme_dns_provider_options o = ACME_DNS_PROVIDER_OPTIONS_INIT;
    acme_dns_provider *p = NULL;
    acme_error *err = NULL;
    char *spec = g_strdup_printf("pdns:api_url=%s,api_key=wrong-secret-4711", s->api_url);
    char *zone = NULL;

    g_assert_true(pdns_create_zone(s, "example.test"));
    o.ignore_environment = true;
    ASSERT_OK(acme_dns_provider_new(&p, spec, &o, &err), err, "dns_provider_new");
    g_assert_cmpint(acme_dns_provider_find_zone(&zone, p, "example.test", &err), ==, ACME_E_AUTH);
    g_assert_cmpint(acme_error_http_status(err), ==, 401);
    g_assert_null(strstr(acme_error_message(err), "wrong-secret-4711"));
    g_assert_nonnull(strstr(acme_error_message(err), "PowerDNS"));
    acme_error_free(err);
    err = NULL;
    g_assert_null(acme_dns_provider_setting(p, "api_key"));
    g_assert_cmpstr(acme_dns_provider_setting(p, "api_url"), ==, s->api_url);
    acme_dns_provider_free(p);
    g_free(spec);
    pdns_stop(s);
}

/* ---- the responder against PowerDNS (no CA) ---- */

static void test_responder_cname(void)
{
    pdns_server *s = pdns_start();
    acme_dns_provider *p;
    acme_dns01_options o = ACME_DNS01_OPTIONS_INIT;
    acme_responder *r = NULL;
    acme_error *err = NULL;
    char *v1 = NULL, *txt;

    g_assert_true(pdns_create_zone(s, "example.test"));
    g_assert_true(pdns_create_zone(s, "validation.test"));
    /* _acme-challenge.www.example.test is delegated to a zone of its own (acme-dns style). */
    g_assert_true(pdns_set_cname(s, "example.test", "_acme-challenge.www.example.test",
                                 "www.validation.test"));
    p = provider_for(s, NULL);
    o.nameserver = s->dns_addr;
    o.settle_delay_ms = ACME_DNS01_NONE;
    o.polling_interval_ms = 50;
    ASSERT_OK(acme_responder_dns01_new(&r, p, &o, &err), err, "responder_dns01_new");
    acme_dns_provider_free(p); /* the responder holds its own reference */
    g_assert_cmpstr(acme_responder_challenge_type(r), ==, "dns-01");
    g_assert_cmpstr(acme_responder_name(r), ==, "dns-01 pdns");

    ASSERT_OK(r->ops->start(r->self, "www.example.test", NULL, KA1, &err), err, "start");
    ASSERT_OK(acme_dns01_txt_value(&v1, KA1, &err), err, "txt_value");
    txt = pdns_served(s, "www.validation.test", NULL);
    g_assert_cmpstr(txt, ==, v1);
    g_free(txt);
    r->ops->stop(r->self, "www.example.test", NULL, KA1);
    txt = pdns_served(s, "www.validation.test", NULL);
    g_assert_cmpstr(txt, ==, "");
    g_free(txt);
    acme_free(v1);
    acme_responder_free(r);
    pdns_stop(s);
}

/* The propagation check against a server that does not serve the zone: a timeout. */
static void test_responder_propagation_timeout(void)
{
    pdns_server *s = pdns_start();
    pdns_server *other = pdns_start();
    acme_dns_provider *p;
    acme_dns01_options o = ACME_DNS01_OPTIONS_INIT;
    acme_responder *r = NULL;
    acme_error *err = NULL;
    char *txt;

    g_assert_true(pdns_create_zone(s, "example.test"));
    p = provider_for(s, NULL);
    /* Ask a second PowerDNS that never hears of the record. */
    o.nameserver = other->dns_addr;
    o.no_cname = true;
    o.propagation_timeout_ms = 300;
    o.polling_interval_ms = 50;
    ASSERT_OK(acme_responder_dns01_new(&r, p, &o, &err), err, "responder_dns01_new");
    g_assert_cmpint(r->ops->start(r->self, "example.test", NULL, KA1, &err), ==, ACME_E_TIMEOUT);
    g_assert_nonnull(strstr(acme_error_message(err), "_acme-challenge.example.test"));
    acme_error_free(err);
    /* A failed start takes its value away again. */
    txt = pdns_served(s, "_acme-challenge.example.test", NULL);
    g_assert_cmpstr(txt, ==, "");
    g_free(txt);
    acme_responder_free(r);
    acme_dns_provider_free(p);
    pdns_stop(other);
    pdns_stop(s);
}

/* ---- end to end with Pebble ---- */

static void test_pebble_wildcard_apex(void)
{
    pdns_server *s = pdns_start();
    pebble_options po = PEBBLE_OPTIONS_INIT;
    pebble *pb;
    acme_client_options co = ACME_CLIENT_OPTIONS_INIT;
    acme_account_options ao = ACME_ACCOUNT_OPTIONS_INIT;
    acme_issue_options io = ACME_ISSUE_OPTIONS_INIT;
    acme_dns01_options o = ACME_DNS01_OPTIONS_INIT;
    acme_dns_provider *p;
    acme_responder *dns = NULL, *rs = NULL;
    acme_client *c = NULL;
    acme_key *key = NULL;
    acme_chain *chain = NULL;
    acme_error *err = NULL;
    pdns_spy sp = { 0 };
    char *key_pem = NULL, *chain_pem = NULL, *txt;
    const char *names[] = { "example.test", "*.example.test" };
    const char *const *sans;
    size_t nsans = 0;
    int rcode = -1;

    g_assert_true(pdns_create_zone(s, "example.test"));
    po.dns_server = s->dns_addr;
    po.responders = false;
    pb = pebble_start(&po);

    p = provider_for(s, NULL);
    o.nameserver = s->dns_addr; /* the propagation check asks the same server Pebble asks */
    o.settle_delay_ms = ACME_DNS01_NONE;
    o.polling_interval_ms = 50;
    ASSERT_OK(acme_responder_dns01_new(&dns, p, &o, &err), err, "responder_dns01_new");
    acme_dns_provider_free(p);
    sp.inner = dns;
    sp.s = s;
    g_mutex_init(&sp.lock);
    ASSERT_OK(acme_responder_new(&rs, &pdns_spy_ops, &sp, &err), err, "responder_new");

    ASSERT_OK(acme_key_generate(&key, ACME_KEY_EC_P256, &err), err, "key_generate");
    co.directory_url = pb->directory_url;
    co.account_key = key;
    co.ca_file = pb->ca_file;
    if (g_getenv("LIBACME_TEST_LOG")) {
        co.log = test_log;
        co.log_level = ACME_LOG_DEBUG;
    }
    ASSERT_OK(acme_client_new(&c, &co, &err), err, "client_new");
    ao.terms_agreed = true;
    ASSERT_OK(acme_client_account_register(c, &ao, NULL, &err), err, "account_register");
    io.names = names;
    io.nnames = 2;
    io.responders = &rs;
    io.nresponders = 1;
    io.timeout_seconds = 60;
    ASSERT_OK(acme_client_issue(&key_pem, &chain_pem, c, &io, &err), err, "issue");

    /* Both names in the certificate. */
    ASSERT_OK(acme_chain_parse(&chain, chain_pem, strlen(chain_pem), &err), err, "chain_parse");
    sans = acme_cert_sans(acme_chain_get(chain, 0), &nsans);
    g_assert_cmpuint(nsans, ==, 2);
    g_assert_true((g_strcmp0(sans[0], "example.test") == 0 &&
                   g_strcmp0(sans[1], "*.example.test") == 0) ||
                  (g_strcmp0(sans[1], "example.test") == 0 &&
                   g_strcmp0(sans[0], "*.example.test") == 0));
    /* Two authorizations, two values at one name at once, all gone after. */
    g_assert_cmpuint(sp.starts, ==, 2);
    g_assert_cmpuint(sp.stops, ==, 2);
    g_assert_cmpuint(sp.max_values, ==, 2);
    txt = pdns_served(s, "_acme-challenge.example.test", &rcode);
    g_assert_cmpstr(txt, ==, "");
    g_assert_cmpint(rcode, ==, 3);
    g_free(txt);

    acme_chain_free(chain);
    acme_free(key_pem);
    acme_free(chain_pem);
    acme_client_free(c);
    acme_key_free(key);
    acme_responder_free(rs);
    acme_responder_free(dns);
    g_mutex_clear(&sp.lock);
    pebble_stop(pb);
    pdns_stop(s);
}

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    if (acme_global_init() != ACME_OK)
        return 99;
    g_test_add_func("/dns/pdns/zones", test_pdns_zones);
    g_test_add_func("/dns/pdns/two-values", test_pdns_two_values);
    g_test_add_func("/dns/pdns/bad-key", test_pdns_bad_key);
    g_test_add_func("/dns/responder/cname", test_responder_cname);
    g_test_add_func("/dns/responder/propagation-timeout", test_responder_propagation_timeout);
    g_test_add_func("/dns/pebble/wildcard-apex", test_pebble_wildcard_apex);
    rc = g_test_run();
    acme_global_cleanup();
    return rc;
}
