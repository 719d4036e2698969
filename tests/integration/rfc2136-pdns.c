/*
 * tests/integration: the RFC 2136 + TSIG DNS provider against a real
 * PowerDNS Authoritative server (tests/integration/pdns.c, started with
 * dynamic updates on, research notes section 3.4): TSIG keys created
 * through PowerDNS's API and allowed on the zone with
 * TSIG-ALLOW-DNSUPDATE metadata.
 *
 * /rfc2136/pdns/...: two TXT values at one name, one deleted and the
 * other still served (checked with DNS queries); zones found by SOA
 * lookups and from a `zones` list; a wrong secret and an unknown key
 * (ACME_E_AUTH); a key the zone does not allow; hmac-sha512 over TCP; a
 * tsig-keygen key file.
 *
 * /rfc2136/pebble/wildcard-apex: end to end.  Pebble validates dns-01 by
 * asking that PowerDNS (its -dnsserver) while the dns-01 responder writes
 * the records with signed updates: one order for example.test and
 * *.example.test, whose two TXT values must exist at once, and be gone
 * after.
 *
 * Set LIBACME_TEST_LOG=1 to see the library's debug log on stderr.
 */
#include "config.h"

#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <json-c/json.h>

#include <acme/acme.h>
#include <acme/dns.h>
#include <acme/sys/responder.h>

#include "client/client-internal.h"
#include "dns/dns.h"
#include "pdns.h"
#include "pebble.h"

#define KEY "acme-key"

static void assert_ok_at(int rc, acme_error **errp, const char *what, const char *file, int line)
{
    acme_error *err = *errp;

    if (rc != ACME_OK) {
        g_printerr("%s:%d: %s failed: %s (%s)\n", file, line, what,
                   acme_status_name(rc) ? acme_status_name(rc) : "?",
                   err ? acme_error_message(err) : "no error object");
        g_assert_cmpstr(acme_status_name(rc), ==, "ACME_OK");
    }
    g_assert_null(err);
}
#define ASSERT_OK(call, err, what) assert_ok_at((call), &(err), (what), __FILE__, __LINE__)

/* Expect @p code with an error object of that code; then free it. */
static void expect_fail(int rc, acme_error **err, int code)
{
    if (rc != code)
        g_printerr("got %s: %s\n", acme_status_name(rc) ? acme_status_name(rc) : "?",
                   *err ? acme_error_message(*err) : "-");
    g_assert_cmpstr(acme_status_name(rc), ==, acme_status_name(code));
    g_assert_nonnull(*err);
    g_assert_cmpint(acme_error_code_get(*err), ==, code);
    g_test_message("expected failure: %s", acme_error_message(*err));
}

static void test_log(void *userdata, acme_log_level level, const char *msg,
                     const acme_log_field *fields, size_t nfields)
{
    (void)userdata;
    (void)fields;
    (void)nfields;
    g_printerr("libacme %d: %s\n", (int)level, msg);
}

/*
 * Create TSIG key @p name (@p alg) through the API and return its secret
 * (g_free); allow it to update @p zone when @p zone is not NULL.
 */
static char *make_key(const pdns_server *s, const char *name, const char *alg, const char *zone)
{
    char *body = g_strdup_printf("{\"name\":\"%s\",\"algorithm\":\"%s\"}", name, alg);
    char *resp = NULL, *secret;
    json_object *j, *k;

    g_assert_cmpint(pdns_api(s, "POST", "/tsigkeys", body, &resp), ==, 201);
    j = json_tokener_parse(resp);
    g_assert_nonnull(j);
    g_assert_true(json_object_object_get_ex(j, "key", &k));
    secret = g_strdup(json_object_get_string(k));
    json_object_put(j);
    g_free(resp);
    g_free(body);
    if (zone) {
        char *path = g_strdup_printf("/zones/%s./metadata/TSIG-ALLOW-DNSUPDATE", zone);

        body = g_strdup_printf("{\"kind\":\"TSIG-ALLOW-DNSUPDATE\",\"metadata\":[\"%s\"]}", name);
        g_assert_cmpint(pdns_api(s, "PUT", path, body, NULL), ==, 200);
        g_free(body);
        g_free(path);
    }
    return secret;
}

/* An rfc2136 provider instance from a spec string and no environment. */
static acme_dns_provider *provider_new(const char *spec)
{
    acme_dns_provider_options o = ACME_DNS_PROVIDER_OPTIONS_INIT;
    acme_dns_provider *p = NULL;
    acme_error *err = NULL;

    o.ignore_environment = true;
    if (g_getenv("LIBACME_TEST_LOG")) {
        o.log = test_log;
        o.log_level = ACME_LOG_DEBUG;
    }
    ASSERT_OK(acme_dns_provider_new(&p, spec, &o, &err), err, "dns_provider_new");
    return p;
}

static acme_dns_provider *provider_for(const pdns_server *s, const char *secret,
                                       const char *extra)
{
    char *spec = g_strdup_printf("rfc2136:nameserver=%s,tsig_key=" KEY ",tsig_secret=%s%s%s",
                                 s->dns_addr, secret, extra ? "," : "", extra ? extra : "");
    acme_dns_provider *p = provider_new(spec);

    g_free(spec);
    return p;
}

static void assert_served(const pdns_server *s, const char *name, const char *want, int rcode)
{
    int got = -1;
    char *txt = pdns_served(s, name, &got);

    g_assert_cmpstr(txt, ==, want);
    if (rcode >= 0)
        g_assert_cmpint(got, ==, rcode);
    g_free(txt);
}

/* ---- the provider against PowerDNS ---- */

static void test_two_values(void)
{
    pdns_server *s = pdns_start_dnsupdate();
    const char *name = "_acme-challenge.example.test";
    acme_dns_provider *p;
    acme_error *err = NULL;
    char *secret;

    g_assert_true(pdns_create_zone(s, "example.test"));
    secret = make_key(s, KEY, "hmac-sha256", "example.test");
    p = provider_for(s, secret, "ttl=60");

    ASSERT_OK(acme_dns_provider_txt_add(p, name, "value-one", 0, &err), err, "txt_add 1");
    ASSERT_OK(acme_dns_provider_txt_add(p, name, "value-two", 0, &err), err, "txt_add 2");
    /* Adding again changes nothing (RFC 2136 §3.4.2.2). */
    ASSERT_OK(acme_dns_provider_txt_add(p, name, "value-two", 0, &err), err, "txt_add 2 again");
    assert_served(s, name, "value-one value-two", 0);

    /* Deleting one RR leaves the other. */
    ASSERT_OK(acme_dns_provider_txt_remove(p, name, "value-one", &err), err, "txt_remove 1");
    assert_served(s, name, "value-two", 0);
    ASSERT_OK(acme_dns_provider_txt_remove(p, name, "value-one", &err), err, "txt_remove again");
    assert_served(s, name, "value-two", 0);

    /* The last one goes, and the name with it. */
    ASSERT_OK(acme_dns_provider_txt_remove(p, name, "value-two", &err), err, "txt_remove 2");
    assert_served(s, name, "", 3);

    /* Secrets are not settings anyone can read back. */
    g_assert_null(acme_dns_provider_setting(p, "tsig_secret"));
    g_assert_cmpstr(acme_dns_provider_setting(p, "tsig_key"), ==, KEY);
    acme_dns_provider_free(p);
    g_free(secret);
    pdns_stop(s);
}

static void test_zones(void)
{
    pdns_server *s = pdns_start_dnsupdate();
    acme_dns_provider *p;
    acme_error *err = NULL;
    char *secret, *zone = NULL, *extra;

    g_assert_true(pdns_create_zone(s, "example.test"));
    g_assert_true(pdns_create_zone(s, "sub.example.test"));
    secret = make_key(s, KEY, "hmac-sha256", "sub.example.test");

    /* SOA lookups: the longest zone, on a label boundary. */
    p = provider_for(s, secret, NULL);
    ASSERT_OK(acme_dns_provider_find_zone(&zone, p, "_acme-challenge.x.sub.example.test", &err),
              err, "find_zone");
    g_assert_cmpstr(zone, ==, "sub.example.test");
    acme_free(zone);
    ASSERT_OK(acme_dns_provider_find_zone(&zone, p, "a.xsub.example.test", &err), err,
              "find_zone");
    g_assert_cmpstr(zone, ==, "example.test");
    acme_free(zone);
    ASSERT_OK(acme_dns_provider_find_zone(&zone, p, "Example.Test.", &err), err, "find_zone");
    g_assert_cmpstr(zone, ==, "example.test");
    acme_free(zone);
    expect_fail(acme_dns_provider_find_zone(&zone, p, "www.nothere.test", &err), &err,
                ACME_E_ZONENOTFOUND);
    g_assert_null(zone);
    acme_error_free(err);
    err = NULL;
    /* An update lands in the zone the lookups found. */
    ASSERT_OK(acme_dns_provider_txt_add(p, "_acme-challenge.www.sub.example.test", "in-sub", 60,
                                        &err),
              err, "txt_add");
    assert_served(s, "_acme-challenge.www.sub.example.test", "in-sub", 0);
    acme_dns_provider_free(p);

    /* A zones list: no lookups, the longest listed zone wins. */
    p = provider_for(s, secret, "zones=example.test sub.example.test");
    ASSERT_OK(acme_dns_provider_find_zone(&zone, p, "_acme-challenge.sub.example.test", &err),
              err, "find_zone");
    g_assert_cmpstr(zone, ==, "sub.example.test");
    acme_free(zone);
    expect_fail(acme_dns_provider_find_zone(&zone, p, "other.test", &err), &err,
                ACME_E_ZONENOTFOUND);
    acme_error_free(err);
    err = NULL;
    acme_dns_provider_free(p);

    /* A zone setting outside the zones list; and a name outside the zone. */
    extra = g_strdup("zones=sub.example.test,zone=sub.example.test");
    p = provider_for(s, secret, extra);
    expect_fail(acme_dns_provider_find_zone(&zone, p, "www.example.test", &err), &err,
                ACME_E_NOTINZONE);
    acme_error_free(err);
    err = NULL;
    acme_dns_provider_free(p);
    g_free(extra);
    g_free(secret);
    pdns_stop(s);
}

static void test_wrong_secret(void)
{
    pdns_server *s = pdns_start_dnsupdate();
    const char *name = "_acme-challenge.example.test";
    acme_dns_provider *p;
    acme_error *err = NULL;
    char *secret;
    /* 32 bytes, base64, not the key's. */
    const char *wrong = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=";

    g_assert_true(pdns_create_zone(s, "example.test"));
    secret = make_key(s, KEY, "hmac-sha256", "example.test");

    p = provider_for(s, wrong, "zone=example.test");
    expect_fail(acme_dns_provider_txt_add(p, name, "value-one", 60, &err), &err, ACME_E_AUTH);
    g_assert_null(strstr(acme_error_message(err), wrong));
    g_assert_nonnull(strstr(acme_error_message(err), KEY));
    acme_error_free(err);
    err = NULL;
    assert_served(s, name, "", 3);
    acme_dns_provider_free(p);

    /* A key the server has never heard of. */
    {
        char *spec = g_strdup_printf("rfc2136:nameserver=%s,tsig_key=nosuchkey,tsig_secret=%s,"
                                     "zone=example.test",
                                     s->dns_addr, secret);

        p = provider_new(spec);
        g_free(spec);
    }
    expect_fail(acme_dns_provider_txt_add(p, name, "value-one", 60, &err), &err, ACME_E_AUTH);
    acme_error_free(err);
    err = NULL;
    acme_dns_provider_free(p);

    /* The right secret works on the same server. */
    p = provider_for(s, secret, "zone=example.test");
    ASSERT_OK(acme_dns_provider_txt_add(p, name, "value-one", 60, &err), err, "txt_add");
    assert_served(s, name, "value-one", 0);
    acme_dns_provider_free(p);
    g_free(secret);
    pdns_stop(s);
}

/* A valid key the zone does not allow: the server refuses (signed), not an auth failure. */
static void test_key_not_allowed(void)
{
    pdns_server *s = pdns_start_dnsupdate();
    const char *name = "_acme-challenge.example.test";
    acme_dns_provider *p;
    acme_error *err = NULL;
    char *allowed, *other;

    g_assert_true(pdns_create_zone(s, "example.test"));
    allowed = make_key(s, "allowed-key", "hmac-sha256", "example.test");
    other = make_key(s, KEY, "hmac-sha256", NULL);
    p = provider_for(s, other, "zone=example.test");
    expect_fail(acme_dns_provider_txt_add(p, name, "value-one", 60, &err), &err,
                ACME_E_REJECTED);
    g_assert_nonnull(strstr(acme_error_message(err), "REFUSED"));
    acme_error_free(err);
    assert_served(s, name, "", 3);
    acme_dns_provider_free(p);
    g_free(allowed);
    g_free(other);
    pdns_stop(s);
}

/* hmac-sha512, every message over TCP, and the key from a tsig-keygen file. */
static void test_sha512_tcp_keyfile(void)
{
    pdns_server *s = pdns_start_dnsupdate();
    const char *name = "_acme-challenge.example.test";
    acme_dns_provider *p;
    acme_error *err = NULL;
    char *secret, *path, *text, *spec;

    g_assert_true(pdns_create_zone(s, "example.test"));
    secret = make_key(s, KEY, "hmac-sha512", "example.test");
    p = provider_for(s, secret, "tsig_algorithm=hmac-sha512,tcp=yes");
    ASSERT_OK(acme_dns_provider_txt_add(p, name, "over-tcp", 60, &err), err, "txt_add");
    ASSERT_OK(acme_dns_provider_txt_add(p, name, "over-tcp-2", 60, &err), err, "txt_add");
    assert_served(s, name, "over-tcp over-tcp-2", 0);
    ASSERT_OK(acme_dns_provider_txt_remove(p, name, "over-tcp", &err), err, "txt_remove");
    assert_served(s, name, "over-tcp-2", 0);
    acme_dns_provider_free(p);

    /* The same key as tsig-keygen writes it (with comments), over UDP. */
    path = g_build_filename(s->tmpdir, "acme.key", NULL);
    text = g_strdup_printf("# made by tsig-keygen -a hmac-sha512 " KEY "\n"
                           "key \"" KEY "\" {\n\talgorithm hmac-sha512;\n"
                           "\tsecret \"%s\";\n};\n",
                           secret);
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
    spec = g_strdup_printf("dnsupdate:nameserver=%s,tsig_file=%s", s->dns_addr, path);
    p = provider_new(spec);
    ASSERT_OK(acme_dns_provider_txt_remove(p, name, "over-tcp-2", &err), err, "txt_remove");
    assert_served(s, name, "", 3);
    acme_dns_provider_free(p);
    g_free(spec);
    g_free(text);
    g_free(path);
    g_free(secret);
    pdns_stop(s);
}

/* ---- end to end with Pebble ---- */

static void test_pebble_wildcard_apex(void)
{
    pdns_server *s = pdns_start_dnsupdate();
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
    char *key_pem = NULL, *chain_pem = NULL, *secret;
    const char *names[] = { "example.test", "*.example.test" };
    const char *const *sans;
    size_t nsans = 0;

    g_assert_true(pdns_create_zone(s, "example.test"));
    secret = make_key(s, KEY, "hmac-sha256", "example.test");
    po.dns_server = s->dns_addr;
    po.responders = false;
    pb = pebble_start(&po);

    p = provider_for(s, secret, NULL);
    o.nameserver = s->dns_addr; /* the propagation check asks the server Pebble asks */
    o.settle_delay_ms = ACME_DNS01_NONE;
    o.polling_interval_ms = 50;
    ASSERT_OK(acme_responder_dns01_new(&dns, p, &o, &err), err, "responder_dns01_new");
    acme_dns_provider_free(p);
    g_assert_cmpstr(acme_responder_name(dns), ==, "dns-01 rfc2136");
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
    assert_served(s, "_acme-challenge.example.test", "", 3);

    acme_chain_free(chain);
    acme_free(key_pem);
    acme_free(chain_pem);
    acme_client_free(c);
    acme_key_free(key);
    acme_responder_free(rs);
    acme_responder_free(dns);
    g_mutex_clear(&sp.lock);
    g_free(secret);
    pebble_stop(pb);
    pdns_stop(s);
}

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    if (acme_global_init() != ACME_OK)
        return 99;
    g_test_add_func("/rfc2136/pdns/two-values", test_two_values);
    g_test_add_func("/rfc2136/pdns/zones", test_zones);
    g_test_add_func("/rfc2136/pdns/wrong-secret", test_wrong_secret);
    g_test_add_func("/rfc2136/pdns/key-not-allowed", test_key_not_allowed);
    g_test_add_func("/rfc2136/pdns/sha512-tcp-keyfile", test_sha512_tcp_keyfile);
    g_test_add_func("/rfc2136/pebble/wildcard-apex", test_pebble_wildcard_apex);
    rc = g_test_run();
    acme_global_cleanup();
    return rc;
}
