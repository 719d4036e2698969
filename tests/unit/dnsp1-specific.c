/*
 * tests/unit/dnsp1: each provider's own requests, byte for byte (paths,
 * query arguments, headers, exact JSON bodies), and its quirks: Cloudflare
 * envelopes and codes, DigitalOcean links, Hetzner actions and the legacy
 * API, Linode's TTL set and X-Filter, deSEC's owns_qname and minimum_ttl.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include <acme/acme.h>
#include <acme/dns.h>
#include <acme/sys/dns.h>

#include "dns/dns.h"
#include "dnsp1.h"

/* The last request with @p method, which must exist and go to @p path. */
static const mockhttp_request *last_to(mock *mk, const char *method, const char *path)
{
    const mockhttp_request *r = mock_last(mk, method);

    g_assert_nonnull(r);
    g_assert_cmpstr(r->path, ==, path);
    return r;
}

static void assert_json_headers(const mockhttp_request *r, const char *authz)
{
    g_assert_cmpstr(mockhttp_request_header(r, "Authorization"), ==, authz);
    g_assert_cmpstr(mockhttp_request_header(r, "Accept"), ==, "application/json");
    g_assert_cmpstr(mockhttp_request_header(r, "Content-Type"), ==, "application/json");
    g_assert_true(g_str_has_prefix(mockhttp_request_header(r, "User-Agent"), "libacme/"));
}

/* ---- Cloudflare ---- */

#define CF_Z0 "/client/v4/zones/023e105f4ecef8ad9ca31a8372d0c351/dns_records"
#define CF_VALUE "ADw2sEd82DUgXcQ9hNBZThJs7zVJkR5v9JeSbAb9mZY"

static void test_cloudflare(void)
{
    const pdef *d = pdef_get("cloudflare");
    mock *mk = mock_for(d);
    acme_dns_provider *p = prov_new(mk, d, SECRET, NULL);
    const mockhttp_request *r;
    acme_error *err = NULL;
    acme_dns_zone z;
    acme_dns_txt t = txt_in(&z, d, 0, NAME, "_acme-challenge", "dup", 120);
    char *h1 = NULL, *h2 = NULL, *path;

    expect(acme_dns_provider_txt_add(p, NAME, CF_VALUE, 0, &err), &err, ACME_OK);
    r = mockhttp_request_get(mk->m, 0);
    g_assert_cmpstr(r->method, ==, "GET");
    g_assert_cmpstr(r->path, ==, "/client/v4/zones");
    g_assert_cmpstr(mockhttp_request_query(r, "page"), ==, "1");
    g_assert_cmpstr(mockhttp_request_query(r, "per_page"), ==, "50");
    g_assert_cmpstr(mockhttp_request_header(r, "Authorization"), ==, "Bearer " SECRET);
    /* lego's fixture create_record-request.json: FQDN, quoted content. */
    r = last_to(mk, "POST", CF_Z0);
    assert_json_headers(r, "Bearer " SECRET);
    g_assert_cmpstr(r->body, ==,
                    "{\"type\":\"TXT\",\"name\":\"_acme-challenge.example.com\","
                    "\"content\":\"\\\"" CF_VALUE "\\\"\",\"ttl\":120}");
    /* Removal deletes the record id create returned, without a search. */
    expect(acme_dns_provider_txt_remove(p, NAME, CF_VALUE, &err), &err, ACME_OK);
    path = g_strdup_printf(CF_Z0 "/%032llx", 1000LL);
    r = last_to(mk, "DELETE", path);
    g_free(path);
    g_assert_cmpuint(mock_requests(mk, "GET", CF_Z0), ==, 0);
    g_assert_cmpuint(mk->recs->len, ==, 0);

    /* TTLs are clamped to 120..86400 (lego refuses less than 120). */
    expect(acme_dns_provider_txt_add(p, NAME, "short", 30, &err), &err, ACME_OK);
    g_assert_nonnull(strstr(mock_last(mk, "POST")->body, "\"ttl\":120}"));
    expect(acme_dns_provider_txt_add(p, NAME, "long", 100000, &err), &err, ACME_OK);
    g_assert_nonnull(strstr(mock_last(mk, "POST")->body, "\"ttl\":86400}"));

    /* An identical record (81058): the value is there; its id is the handle. */
    expect(p->ops->create_txt(p->self, &t, &h1, &err), &err, ACME_OK);
    expect(p->ops->create_txt(p->self, &t, &h2, &err), &err, ACME_OK);
    g_assert_nonnull(h1);
    g_assert_cmpstr(h1, ==, h2);
    g_assert_cmpuint(mock_count(mk, NAME, NULL), ==, 3);
    r = last_to(mk, "GET", CF_Z0);
    g_assert_cmpstr(mockhttp_request_query(r, "type"), ==, "TXT");
    g_assert_cmpstr(mockhttp_request_query(r, "name"), ==, NAME);
    g_assert_cmpstr(mockhttp_request_query(r, "per_page"), ==, "100");
    free(h1);
    free(h2);
    h1 = h2 = NULL;

    /* The API's own TTL check (9021), a refusal with the provider's message. */
    t.ttl = 30;
    t.value = "ttl-too-short";
    expect(p->ops->create_txt(p->self, &t, &h1, &err), &err, ACME_E_REJECTED);
    g_assert_nonnull(strstr(acme_error_detail(err), "TTL must be between"));
    clear(&err);
    t.ttl = 120;
    /* "success": false in a 200 is an error. */
    mock_fault(mk, 1, 200, NULL,
               "{\"success\":false,\"errors\":[{\"code\":1004,\"message\":\"DNS Validation "
               "Error\"}],\"messages\":[],\"result\":null}");
    expect(p->ops->create_txt(p->self, &t, &h1, &err), &err, ACME_E_REJECTED);
    g_assert_nonnull(strstr(acme_error_message(err), "DNS Validation Error"));
    g_assert_nonnull(strstr(acme_error_message(err), "1004"));
    g_assert_null(h1);
    clear(&err);
    /* Auth codes arrive with HTTP 400 too (lego's fixture error.json). */
    mock_fault(mk, 1, 400, NULL,
               "{\"success\":false,\"errors\":[{\"code\":6003,\"message\":\"Invalid request "
               "headers\",\"error_chain\":[{\"code\":6103,\"message\":\"Invalid format for "
               "X-Auth-Key header\"}]}],\"messages\":[],\"result\":null}");
    {
        acme_dns_zone_list l = ACME_DNS_ZONE_LIST_INIT;

        expect(p->ops->list_zones(p->self, &l, &err), &err, ACME_E_AUTH);
        g_assert_cmpint(acme_error_http_status(err), ==, 400);
        g_assert_false(acme_error_retryable(err));
        clear(&err);
        acme_dns_zone_list_clear(&l);
    }
    /* 403 with code 10000, from the mock's auth check. */
    acme_dns_provider_free(p);
    p = prov_new(mk, d, "bad-" SECRET, NULL);
    expect(acme_dns_provider_txt_add(p, NAME, "x", 0, &err), &err, ACME_E_AUTH);
    g_assert_cmpstr(acme_error_detail(err), ==, "Authentication error");
    clear(&err);
    acme_dns_provider_free(p);
    mock_free(mk);
    logs_check();
}

static void test_cloudflare_key(void)
{
    const pdef *d = pdef_get("cloudflare");
    mock *mk = mock_for(d);
    const char *key_settings[] = { "email=" EMAIL, "api_key=" SECRET, NULL };
    const char *split[] = { "zone_token=" SECRET, "api_token=other-" SECRET, NULL };
    acme_dns_provider *p = prov_new_raw(mk, d, key_settings);
    acme_dns_provider_options o = ACME_DNS_PROVIDER_OPTIONS_INIT;
    const mockhttp_request *r;
    acme_error *err = NULL;

    /* The global key: X-Auth-Email and X-Auth-Key, no Authorization. */
    expect(acme_dns_provider_txt_add(p, NAME, "v", 0, &err), &err, ACME_OK);
    expect(acme_dns_provider_txt_remove(p, NAME, "v", &err), &err, ACME_OK);
    r = mock_last(mk, "POST");
    g_assert_cmpstr(mockhttp_request_header(r, "X-Auth-Email"), ==, EMAIL);
    g_assert_cmpstr(mockhttp_request_header(r, "X-Auth-Key"), ==, SECRET);
    g_assert_null(mockhttp_request_header(r, "Authorization"));
    acme_dns_provider_free(p);

    /* Two tokens: the zone token lists zones, the DNS token writes records. */
    p = prov_new_raw(mk, d, split);
    expect(acme_dns_provider_txt_add(p, NAME, "v", 0, &err), &err, ACME_E_AUTH);
    clear(&err);
    r = mock_last(mk, "GET");
    g_assert_cmpstr(r->path, ==, "/client/v4/zones");
    g_assert_cmpstr(mockhttp_request_header(r, "Authorization"), ==, "Bearer " SECRET);
    g_assert_cmpstr(mockhttp_request_header(mock_last(mk, "POST"), "Authorization"), ==,
                    "Bearer other-" SECRET);
    acme_dns_provider_free(p);

    /* An email without a key; lego's CF_ aliases. */
    {
        const char *env[] = { "CF_API_EMAIL=" EMAIL, NULL };
        const char *env2[] = { "CF_DNS_API_TOKEN=" SECRET, NULL };

        o.environ = env;
        expect(acme_dns_provider_new(&p, "cloudflare", &o, &err), &err, ACME_E_INVALID);
        g_assert_nonnull(strstr(acme_error_message(err), "CLOUDFLARE_API_KEY"));
        clear(&err);
        o.environ = env2;
        expect(acme_dns_provider_new(&p, "cf", &o, &err), &err, ACME_OK);
        acme_dns_provider_free(p);
    }
    mock_free(mk);
    logs_check();
}

/* ---- DigitalOcean ---- */

#define DO_R "/v2/domains/example.com/records"
#define DO_VALUE "w6uP8Tcg6K2QR905Rms8iXTlksL6OD1KOWBxTK7wxPI"

static void test_digitalocean(void)
{
    const pdef *d = pdef_get("digitalocean");
    mock *mk = mock_for(d);
    acme_dns_provider *p = prov_new(mk, d, SECRET, NULL);
    const mockhttp_request *r;
    acme_error *err = NULL;
    acme_dns_zone z;
    acme_dns_txt t = txt_in(&z, d, 0, NAME, "_acme-challenge", "v3", 30);
    char *h = NULL;

    expect(acme_dns_provider_txt_add(p, NAME, DO_VALUE, 0, &err), &err, ACME_OK);
    /* First a search for the value (the API keeps duplicates), then the record. */
    r = last_to(mk, "GET", DO_R);
    g_assert_cmpstr(mockhttp_request_query(r, "type"), ==, "TXT");
    g_assert_cmpstr(mockhttp_request_query(r, "name"), ==, NAME);
    g_assert_cmpstr(mockhttp_request_query(r, "page"), ==, "1");
    g_assert_cmpstr(mockhttp_request_query(r, "per_page"), ==, "200");
    r = last_to(mk, "POST", DO_R);
    assert_json_headers(r, "Bearer " SECRET);
    g_assert_cmpstr(r->body, ==,
                    "{\"type\":\"TXT\",\"name\":\"_acme-challenge\",\"data\":\"" DO_VALUE "\","
                    "\"ttl\":30}");
    /* Removal deletes by id: 204. */
    expect(acme_dns_provider_txt_remove(p, NAME, DO_VALUE, &err), &err, ACME_OK);
    last_to(mk, "DELETE", DO_R "/1000");
    /* The apex is "@"; TTLs below 30 become 30. */
    expect(acme_dns_provider_txt_add(p, "example.com", "apex", 5, &err), &err, ACME_OK);
    g_assert_cmpstr(mock_last(mk, "POST")->body, ==,
                    "{\"type\":\"TXT\",\"name\":\"@\",\"data\":\"apex\",\"ttl\":30}");
    expect(acme_dns_provider_txt_remove(p, "example.com", "apex", &err), &err, ACME_OK);

    /* Record lists in pages: the value on page 3 is found through links.pages.next. */
    mk->page_size = 1;
    expect(acme_dns_provider_txt_add(p, NAME, "v1", 0, &err), &err, ACME_OK);
    expect(acme_dns_provider_txt_add(p, NAME, "v2", 0, &err), &err, ACME_OK);
    expect(p->ops->create_txt(p->self, &t, &h, &err), &err, ACME_OK);
    free(h);
    h = NULL;
    expect(p->ops->delete_txt(p->self, &t, NULL, &err), &err, ACME_OK);
    r = last_to(mk, "GET", DO_R);
    g_assert_cmpstr(mockhttp_request_query(r, "page"), ==, "3");
    g_assert_cmpstr(mockhttp_request_query(r, "name"), ==, NAME);
    {
        char *s = mock_values(mk, NAME);

        g_assert_cmpstr(s, ==, "v1,v2");
        g_free(s);
    }
    /* The API's 422 comes with its message. */
    t.ttl = 10;
    t.value = "short";
    expect(p->ops->create_txt(p->self, &t, &h, &err), &err, ACME_E_REJECTED);
    g_assert_cmpstr(acme_error_detail(err), ==, "TTL must be at least 30");
    clear(&err);
    acme_dns_provider_free(p);
    mock_free(mk);
    logs_check();
}

/* ---- Hetzner ---- */

#define HZ_RR "/v1/zones/42/rrsets/_acme-challenge/TXT"

static void test_hetzner(void)
{
    const pdef *d = pdef_get("hetzner");
    mock *mk = mock_for(d);
    acme_dns_provider *p = prov_new(mk, d, SECRET, NULL);
    const mockhttp_request *r;
    acme_error *err = NULL;
    acme_dns_zone z;
    acme_dns_txt t = txt_in(&z, d, 0, NAME, "_acme-challenge", "v", 120);
    char *h = NULL, *h2 = NULL;

    /* An action that runs for two polls: the add waits for it (wait_applied). */
    mk->action_polls = 2;
    expect(acme_dns_provider_txt_add(p, NAME, "v", 0, &err), &err, ACME_OK);
    r = last_to(mk, "POST", HZ_RR "/actions/add_records");
    assert_json_headers(r, "Bearer " SECRET);
    g_assert_cmpstr(r->body, ==, "{\"ttl\":120,\"records\":[{\"value\":\"\\\"v\\\"\"}]}");
    g_assert_cmpuint(mock_requests(mk, "GET", "/v1/actions/1"), ==, 3);
    /* Removal: remove_records with the value only, and its action polled too. */
    expect(acme_dns_provider_txt_add(p, NAME, "w", 0, &err), &err, ACME_OK);
    expect(acme_dns_provider_txt_remove(p, NAME, "v", &err), &err, ACME_OK);
    r = last_to(mk, "POST", HZ_RR "/actions/remove_records");
    g_assert_cmpstr(r->body, ==, "{\"records\":[{\"value\":\"\\\"v\\\"\"}]}");
    g_assert_cmpuint(mock_requests(mk, "GET", "/v1/actions/3"), ==, 3);
    {
        char *s = mock_values(mk, NAME);

        g_assert_cmpstr(s, ==, "w");
        g_free(s);
    }
    /* The apex is "@". */
    expect(acme_dns_provider_txt_add(p, "example.com", "apex", 0, &err), &err, ACME_OK);
    last_to(mk, "POST", "/v1/zones/42/rrsets/@/TXT/actions/add_records");

    /* Adding a value that is there: the API refuses, the RRset shows it, success. */
    mk->action_polls = 0;
    t.value = "w";
    expect(p->ops->create_txt(p->self, &t, &h, &err), &err, ACME_OK);
    last_to(mk, "GET", HZ_RR);
    g_assert_null(h);
    g_assert_cmpuint(mock_count(mk, NAME, NULL), ==, 1);

    /* An action that fails. */
    mk->action_error = true;
    expect(acme_dns_provider_txt_add(p, NAME, "doomed", 0, &err), &err, ACME_E_REJECTED);
    g_assert_nonnull(strstr(acme_error_message(err), "zone update failed"));
    clear(&err);
    mk->action_error = false;
    /* One that outlasts the deadline: ACME_E_TIMEOUT after one poll, no sleep. */
    mk->action_polls = 5;
    t.value = "slow";
    expect(p->ops->create_txt(p->self, &t, &h2, &err), &err, ACME_OK);
    g_assert_nonnull(h2);
    {
        unsigned int before = mock_requests(mk, "GET", "/v1/actions/");

        expect(p->ops->wait_applied(p->self, h2, 0, &err), &err, ACME_E_TIMEOUT);
        clear(&err);
        g_assert_cmpuint(mock_requests(mk, "GET", "/v1/actions/"), ==, before + 1);
    }
    /* Cancelled: the wait between polls ends at once. */
    {
        /* prov_new sets polling_interval=0 (the first setting wins): build by hand. */
        const char *s[] = { "api_token=" SECRET, "polling_interval=3600", NULL };
        acme_dns_provider *slow;

        slow = prov_new_raw(mk, d, s);
        acme_dns_provider_cancel(slow);
        expect(slow->ops->wait_applied(slow->self, h2, 3600 * 1000, &err), &err,
               ACME_E_CANCELLED);
        clear(&err);
        acme_dns_provider_free(slow);
    }
    free(h2);
    acme_dns_provider_free(p);
    mock_free(mk);
    logs_check();
}

static void test_hetzner_legacy(void)
{
    const pdef *d = pdef_get("hetzner");
    mock *mk = mock_for(d);
    acme_dns_provider_options o = ACME_DNS_PROVIDER_OPTIONS_INIT;
    const char *env[8];
    char *base = mockhttp_url(mk->m, "/api/v1");
    char *e_base = g_strdup_printf("HETZNER_BASE_URL=%s", base);
    acme_dns_provider *p = NULL;
    acme_dns_zone_list l = ACME_DNS_ZONE_LIST_INIT;
    const mockhttp_request *r;
    acme_error *err = NULL;

    /* Only HETZNER_API_KEY: the legacy DNS Console API. */
    env[0] = "HETZNER_API_KEY=" SECRET;
    env[1] = e_base;
    env[2] = NULL;
    o.environ = env;
    expect(acme_dns_provider_new(&p, "hetzner", &o, &err), &err, ACME_OK);
    mk->page_size = 2;
    expect(p->ops->list_zones(p->self, &l, &err), &err, ACME_OK);
    g_assert_cmpuint(l.n, ==, 5);
    g_assert_cmpstr(l.v[4].id, ==, "46");
    g_assert_cmpstr(l.v[4].name, ==, "b.example.net");
    acme_dns_zone_list_clear(&l);
    g_assert_cmpuint(mock_requests(mk, "GET", "/api/v1/zones"), ==, 3);

    expect(acme_dns_provider_txt_add(p, NAME, "one", 30, &err), &err, ACME_OK);
    g_assert_nonnull(strstr(mock_last(mk, "POST")->body, "\"ttl\":60,")); /* at least 60 */
    expect(acme_dns_provider_txt_add(p, NAME, "two", 0, &err), &err, ACME_OK);
    expect(acme_dns_provider_txt_add(p, NAME, "two", 0, &err), &err, ACME_OK);
    r = last_to(mk, "POST", "/api/v1/records");
    g_assert_cmpstr(mockhttp_request_header(r, "Auth-API-Token"), ==, SECRET);
    g_assert_null(mockhttp_request_header(r, "Authorization"));
    g_assert_cmpstr(r->body, ==,
                    "{\"name\":\"_acme-challenge\",\"type\":\"TXT\",\"value\":\"two\",\"ttl\":120,"
                    "\"zone_id\":\"42\"}");
    g_assert_cmpuint(mock_requests(mk, "POST", "/api/v1/records"), ==, 2);
    r = last_to(mk, "GET", "/api/v1/records");
    g_assert_cmpstr(mockhttp_request_query(r, "zone_id"), ==, "42");
    expect(acme_dns_provider_txt_remove(p, NAME, "one", &err), &err, ACME_OK);
    last_to(mk, "DELETE", "/api/v1/records/rec1000");
    {
        char *s = mock_values(mk, NAME);

        g_assert_cmpstr(s, ==, "two");
        g_free(s);
    }
    g_assert_cmpuint(mock_requests(mk, "GET", "/api/v1/actions"), ==, 0);
    acme_dns_provider_free(p);
    g_free(e_base);
    g_free(base);
    mock_free(mk);
}

/* ---- Linode ---- */

#define LN_R "/v4/domains/1234/records"

static void test_linode(void)
{
    static const struct {
        unsigned int in, out;
    } ttls[] = { { 300, 300 },       { 1000, 300 },     { 2000, 3600 },  { 5000, 3600 },
                 { 100000, 86400 },  { 5000000, 2419200 }, { 7200, 7200 } };
    const pdef *d = pdef_get("linode");
    mock *mk = mock_for(d);
    acme_dns_provider *p = prov_new(mk, d, SECRET, NULL);
    const mockhttp_request *r;
    acme_error *err = NULL;
    acme_dns_zone z;
    acme_dns_txt t = txt_in(&z, d, 0, NAME, "_acme-challenge", "v", 300);
    char *h = NULL;

    expect(acme_dns_provider_txt_add(p, NAME, "v", 0, &err), &err, ACME_OK);
    r = last_to(mk, "GET", LN_R);
    g_assert_cmpstr(mockhttp_request_header(r, "X-Filter"), ==,
                    "{\"name\":\"_acme-challenge\",\"type\":\"TXT\"}");
    g_assert_cmpstr(mockhttp_request_query(r, "page"), ==, "1");
    g_assert_cmpstr(mockhttp_request_query(r, "page_size"), ==, "100");
    r = last_to(mk, "POST", LN_R);
    assert_json_headers(r, "Bearer " SECRET);
    g_assert_null(mockhttp_request_header(r, "X-Filter"));
    g_assert_cmpstr(r->body, ==,
                    "{\"type\":\"TXT\",\"name\":\"_acme-challenge\",\"target\":\"v\","
                    "\"ttl_sec\":300}");
    expect(acme_dns_provider_txt_remove(p, NAME, "v", &err), &err, ACME_OK);
    last_to(mk, "DELETE", LN_R "/1000");
    /* The apex is "". */
    expect(acme_dns_provider_txt_add(p, "example.com", "apex", 0, &err), &err, ACME_OK);
    g_assert_cmpstr(mockhttp_request_header(mock_last(mk, "GET"), "X-Filter"), ==,
                    "{\"name\":\"\",\"type\":\"TXT\"}");
    g_assert_nonnull(strstr(mock_last(mk, "POST")->body, "\"name\":\"\""));

    /* TTLs are rounded to the nearest value Linode stores. */
    for (size_t i = 0; i < G_N_ELEMENTS(ttls); i++) {
        char *want = g_strdup_printf("\"ttl_sec\":%u}", ttls[i].out);
        char *value = g_strdup_printf("ttl%zu", i);

        t.ttl = ttls[i].in;
        t.value = value;
        expect(p->ops->create_txt(p->self, &t, &h, &err), &err, ACME_OK);
        g_assert_nonnull(strstr(mock_last(mk, "POST")->body, want));
        expect(p->ops->delete_txt(p->self, &t, h, &err), &err, ACME_OK);
        free(h);
        h = NULL;
        g_free(want);
        g_free(value);
    }
    /* Errors are {"errors": [{"reason", "field"}]}. */
    t.value = "";
    t.ttl = 300;
    expect(p->ops->create_txt(p->self, &t, &h, &err), &err, ACME_E_REJECTED);
    g_assert_cmpstr(acme_error_detail(err), ==, "Failed to create domain resource");
    g_assert_nonnull(strstr(acme_error_message(err), "target"));
    clear(&err);
    /* Linode's own defaults for the core's waits. */
    g_assert_cmpstr(acme_dns_provider_setting(p, "polling_interval"), ==, "0");
    acme_dns_provider_free(p);
    {
        const char *s[] = { "token=" SECRET, NULL };

        p = prov_new_raw(mk, d, s);
        g_assert_cmpstr(acme_dns_provider_setting(p, "propagation_timeout"), ==, "1320");
        g_assert_cmpstr(acme_dns_provider_setting(p, "polling_interval"), ==, "15");
        acme_dns_provider_free(p);
    }
    p = prov_new(mk, d, "nope-" SECRET, NULL);
    expect(acme_dns_provider_txt_add(p, NAME, "v", 0, &err), &err, ACME_E_AUTH);
    g_assert_cmpstr(acme_error_detail(err), ==, "Invalid Token");
    clear(&err);
    acme_dns_provider_free(p);
    mock_free(mk);
    logs_check();
}

/* ---- deSEC ---- */

#define DS_D "/api/v1/domains/"
#define DS_RR DS_D "example.com/rrsets/"

static void test_desec(void)
{
    const pdef *d = pdef_get("desec");
    mock *mk = mock_for(d);
    acme_dns_provider *p = prov_new(mk, d, SECRET, NULL);
    const mockhttp_request *r;
    acme_error *err = NULL;
    acme_dns_zone z;
    acme_dns_txt t = txt_in(&z, d, 0, NAME, "_acme-challenge", "v", 3600);
    char *h = NULL;

    expect(acme_dns_provider_txt_add(p, NAME, "v1", 0, &err), &err, ACME_OK);
    /* The zone by owns_qname; the RRset read (404), then created. */
    r = mockhttp_request_get(mk->m, 0);
    g_assert_cmpstr(r->path, ==, DS_D);
    g_assert_cmpstr(mockhttp_request_query(r, "owns_qname"), ==, NAME);
    g_assert_cmpstr(mockhttp_request_header(r, "Authorization"), ==, "Token " SECRET);
    r = mockhttp_request_get(mk->m, 1);
    g_assert_cmpstr(r->method, ==, "GET");
    g_assert_cmpstr(r->path, ==, DS_RR "_acme-challenge/TXT/");
    r = last_to(mk, "POST", DS_RR);
    assert_json_headers(r, "Token " SECRET);
    g_assert_cmpstr(r->body, ==,
                    "{\"subname\":\"_acme-challenge\",\"type\":\"TXT\",\"ttl\":3600,"
                    "\"records\":[\"\\\"v1\\\"\"]}");
    /* The second value: PATCH with both. */
    expect(acme_dns_provider_txt_add(p, NAME, "v2", 0, &err), &err, ACME_OK);
    r = last_to(mk, "PATCH", DS_RR "_acme-challenge/TXT/");
    g_assert_cmpstr(r->body, ==, "{\"records\":[\"\\\"v1\\\"\",\"\\\"v2\\\"\"]}");
    /* Removal: PATCH the rest; the last one goes with "records": [] (204). */
    expect(acme_dns_provider_txt_remove(p, NAME, "v1", &err), &err, ACME_OK);
    g_assert_cmpstr(mock_last(mk, "PATCH")->body, ==, "{\"records\":[\"\\\"v2\\\"\"]}");
    expect(acme_dns_provider_txt_remove(p, NAME, "v2", &err), &err, ACME_OK);
    g_assert_cmpstr(mock_last(mk, "PATCH")->body, ==, "{\"records\":[]}");
    g_assert_cmpuint(mock_count(mk, NAME, NULL), ==, 0);
    /* The zone list itself was never needed. */
    for (size_t i = 0; i < mockhttp_request_count(mk->m); i++) {
        r = mockhttp_request_get(mk->m, i);
        if (strcmp(r->path, DS_D) == 0)
            g_assert_nonnull(mockhttp_request_query(r, "owns_qname"));
    }

    /* minimum_ttl of sub.example.com is 7200; the apex is "@" in paths, "" in bodies. */
    expect(acme_dns_provider_txt_add(p, "sub.example.com", "apex", 0, &err), &err, ACME_OK);
    r = last_to(mk, "POST", DS_D "sub.example.com/rrsets/");
    g_assert_cmpstr(r->body, ==,
                    "{\"subname\":\"\",\"type\":\"TXT\",\"ttl\":7200,"
                    "\"records\":[\"\\\"apex\\\"\"]}");
    g_assert_cmpuint(mock_requests(mk, "GET", DS_D "sub.example.com/rrsets/@/TXT/"), ==, 1);
    /* At most 604800. */
    expect(acme_dns_provider_txt_add(p, NAME, "long", 1000000, &err), &err, ACME_OK);
    g_assert_nonnull(strstr(mock_last(mk, "POST")->body, "\"ttl\":604800"));
    expect(acme_dns_provider_txt_remove(p, NAME, "long", &err), &err, ACME_OK);

    /* Validation errors name the field. */
    mock_fault(mk, 1, 400, NULL, "{\"ttl\": [\"Ensure this value is greater than or equal to 3600.\"]}");
    mk->fault_skip = 1; /* the RRset read goes through */
    expect(p->ops->create_txt(p->self, &t, &h, &err), &err, ACME_E_REJECTED);
    g_assert_cmpstr(acme_error_detail(err), ==,
                    "Ensure this value is greater than or equal to 3600.");
    g_assert_nonnull(strstr(acme_error_message(err), "ttl"));
    clear(&err);
    g_assert_null(h);
    /* Per-domain write throttling: 429 with Retry-After. */
    mk->write_limit = 1;
    mk->writes = 0;
    expect(acme_dns_provider_txt_add(p, NAME, "w1", 0, &err), &err, ACME_OK);
    expect(acme_dns_provider_txt_add(p, NAME, "w2", 0, &err), &err, ACME_E_RATELIMITED);
    g_assert_cmpint(acme_error_retry_after(err), ==, 60);
    g_assert_nonnull(strstr(acme_error_detail(err), "throttled"));
    clear(&err);
    mk->write_limit = 0;
    acme_dns_provider_free(p);

    /* A configured zone: the domains are listed (cursor pages), minimum_ttl taken from there. */
    {
        const char *more[] = { "zone=sub.example.com", NULL };

        mk->page_size = 1;
        p = prov_new(mk, d, SECRET, more);
        expect(acme_dns_provider_txt_add(p, "_acme-challenge.www.sub.example.com", "c", 0, &err),
               &err, ACME_OK);
        g_assert_nonnull(strstr(mock_last(mk, "POST")->body, "\"ttl\":7200"));
        r = last_to(mk, "GET", DS_D "sub.example.com/rrsets/_acme-challenge.www/TXT/");
        acme_dns_provider_free(p);
    }
    mock_free(mk);
    logs_check();
}

void dnsp1_add_specific_tests(void)
{
    g_test_add_func("/dnsp1/cloudflare/requests", test_cloudflare);
    g_test_add_func("/dnsp1/cloudflare/key-and-tokens", test_cloudflare_key);
    g_test_add_func("/dnsp1/digitalocean/requests", test_digitalocean);
    g_test_add_func("/dnsp1/hetzner/requests", test_hetzner);
    g_test_add_func("/dnsp1/hetzner/legacy", test_hetzner_legacy);
    g_test_add_func("/dnsp1/linode/requests", test_linode);
    g_test_add_func("/dnsp1/desec/requests", test_desec);
}
