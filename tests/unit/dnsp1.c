/*
 * tests/unit/dnsp1: the Cloudflare, DigitalOcean, Hetzner, Linode and
 * deSEC providers against local mocks of their APIs (dnsp1-mocks.c, on
 * 127.0.0.1 port 0, one in-memory zone store each).
 *
 * The same cases run for every provider (registry names, settings from
 * lego's environment variables, zone listing in pages of one, the longest
 * zone picked, two values at one name and removing one, deleting what is
 * not there, the dns-01 responder with the propagation check off, refused
 * credentials, 429 with Retry-After, a 5xx, malformed JSON); then each
 * provider's own requests are checked byte for byte.  Every instance logs
 * at debug level, and no message or log line may hold the secret.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <glib.h>

#include <acme/acme.h>
#include <acme/dns.h>
#include <acme/sys/dns.h>
#include <acme/sys/error.h>

#include "client/client-internal.h"
#include "dns/dns.h"
#include "dnsp1.h"

#define KA1 "tokenAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.thumbprintAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define KA2 "tokenBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB.thumbprintBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"

/* ---- helpers ---- */

void expect(int rc, acme_error **err, int code)
{
    if (rc != code)
        g_printerr("got %s: %s\n", acme_status_name(rc) ? acme_status_name(rc) : "?",
                   *err ? acme_error_message(*err) : "-");
    g_assert_cmpstr(acme_status_name(rc), ==, acme_status_name(code));
    if (code == ACME_OK) {
        g_assert_null(*err);
    } else {
        g_assert_nonnull(*err);
        g_assert_cmpint(acme_error_code_get(*err), ==, code);
        /* Credentials never reach a message or a detail. */
        g_assert_null(strstr(acme_error_message(*err), SECRET));
        g_assert_null(strstr(acme_error_message(*err), "s3cr3t"));
        if (acme_error_detail(*err))
            g_assert_null(strstr(acme_error_detail(*err), SECRET));
    }
}

void clear(acme_error **err)
{
    acme_error_free(*err);
    *err = NULL;
}

/* Every log line of every instance, checked for the secret at the end of each test. */
static GMutex log_lock;
static GPtrArray *log_lines;

static void log_cb(void *ud, acme_log_level level, const char *msg, const acme_log_field *f,
                   size_t nf)
{
    GString *s = g_string_new(msg);

    (void)ud, (void)level;
    for (size_t i = 0; i < nf; i++)
        g_string_append_printf(s, " %s=%s", f[i].key, f[i].value);
    g_mutex_lock(&log_lock);
    g_ptr_array_add(log_lines, g_string_free(s, FALSE));
    g_mutex_unlock(&log_lock);
}

void logs_check(void)
{
    g_mutex_lock(&log_lock);
    g_assert_cmpuint(log_lines->len, >, 0); /* debug logging was on */
    for (size_t i = 0; i < log_lines->len; i++)
        if (strstr(log_lines->pdata[i], SECRET))
            g_error("a log line holds the secret: %s", (char *)log_lines->pdata[i]);
    g_ptr_array_set_size(log_lines, 0);
    g_mutex_unlock(&log_lock);
}

/* ---- the providers under test ---- */

/* The zones every mock holds (in this order). */
const char *const zone_names[5] = { "example.com", "sub.example.com", "example.org",
                                           "badexample.com", "b.example.net" };

static const pdef pdefs[] = {
    { "cloudflare", "cf", "CLOUDFLARE", mock_cloudflare, "/client/v4", "api_token",
      "CLOUDFLARE_DNS_API_TOKEN", "CLOUDFLARE_BASE_URL",
      { "023e105f4ecef8ad9ca31a8372d0c351", "023e105f4ecef8ad9ca31a8372d0c352",
        "023e105f4ecef8ad9ca31a8372d0c353", "023e105f4ecef8ad9ca31a8372d0c354",
        "023e105f4ecef8ad9ca31a8372d0c355" },
      "/client/v4/zones", 120 },
    { "digitalocean", "do", "DO", mock_digitalocean, "", "auth_token", "DO_AUTH_TOKEN",
      "DO_API_URL", { "example.com", "sub.example.com", "example.org", "badexample.com",
                      "b.example.net" },
      "/v2/domains", 30 },
    { "hetzner", NULL, "HETZNER", mock_hetzner, "/v1", "api_token", "HETZNER_API_TOKEN",
      "HETZNER_BASE_URL", { "42", "43", "44", "45", "46" }, "/v1/zones", 120 },
    { "linode", NULL, "LINODE", mock_linode, "/v4", "token", "LINODE_TOKEN", "LINODE_BASE_URL",
      { "1234", "1235", "1236", "1237", "1238" }, "/v4/domains", 300 },
    { "desec", NULL, "DESEC", mock_desec, "/api/v1", "token", "DESEC_TOKEN", "DESEC_BASE_URL",
      { "example.com", "sub.example.com", "example.org", "badexample.com", "b.example.net" },
      "/api/v1/domains/", 3600 },
};

mock *mock_for(const pdef *d)
{
    mock *mk = mock_new(d->handler);

    for (size_t i = 0; i < G_N_ELEMENTS(zone_names); i++)
        mock_zone_add(mk, d->ids[i], zone_names[i], i == 1 ? 7200 : 3600);
    return mk;
}

/*
 * An instance of @p d on @p mk with credential @p cred and @p more
 * settings (NULL-terminated, or NULL); the environment is not read.
 */
acme_dns_provider *prov_new_raw(mock *mk, const pdef *d, const char *const *settings)
{
    acme_dns_provider_options o = ACME_DNS_PROVIDER_OPTIONS_INIT;
    acme_dns_provider *p = NULL;
    acme_error *err = NULL;
    char *url = mockhttp_url(mk->m, d->base);
    GPtrArray *s = g_ptr_array_new_with_free_func(g_free);

    g_ptr_array_add(s, g_strdup_printf("base_url=%s", url));
    for (const char *const *m = settings; m && *m; m++)
        g_ptr_array_add(s, g_strdup(*m));
    g_ptr_array_add(s, NULL);
    o.settings = (const char *const *)s->pdata;
    o.ignore_environment = true;
    o.log = log_cb;
    o.log_level = ACME_LOG_DEBUG;
    expect(acme_dns_provider_new(&p, d->name, &o, &err), &err, ACME_OK);
    g_ptr_array_free(s, TRUE);
    g_free(url);
    return p;
}

acme_dns_provider *prov_new(mock *mk, const pdef *d, const char *cred, const char *const *more)
{
    GPtrArray *s = g_ptr_array_new_with_free_func(g_free);
    acme_dns_provider *p;

    g_ptr_array_add(s, g_strdup_printf("%s=%s", d->cred, cred));
    /* No waits: actions are polled back to back. */
    g_ptr_array_add(s, g_strdup("polling_interval=0"));
    for (const char *const *m = more; m && *m; m++)
        g_ptr_array_add(s, g_strdup(*m));
    g_ptr_array_add(s, NULL);
    p = prov_new_raw(mk, d, (const char *const *)s->pdata);
    g_ptr_array_free(s, TRUE);
    return p;
}

const pdef *pdef_get(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(pdefs); i++)
        if (strcmp(pdefs[i].name, name) == 0)
            return &pdefs[i];
    g_assert_not_reached();
    return NULL;
}

/* A TXT value for the vtable, in zone @p zi of the mock. */
acme_dns_txt txt_in(acme_dns_zone *z, const pdef *d, size_t zi, const char *fqdn,
                    const char *rel, const char *value, unsigned int ttl)
{
    z->id = (char *)d->ids[zi];
    z->name = (char *)zone_names[zi];
    z->is_private = false;
    return (acme_dns_txt){ .fqdn = fqdn, .value = value, .ttl = ttl, .zone = z,
                           .relative = rel };
}

/* ---- the cases every provider runs ---- */

static void test_registry(gconstpointer data)
{
    const pdef *d = data;
    const acme_dns_provider_ops *ops = acme_dns_provider_find(d->name);
    char *upper = g_ascii_strup(d->name, -1);
    const char *names[64];
    size_t n = acme_dns_provider_names(names, G_N_ELEMENTS(names));
    bool listed = false;

    g_assert_nonnull(ops);
    g_assert_cmpstr(ops->name, ==, d->name);
    g_assert_true(acme_dns_provider_find(upper) == ops);
    if (d->alias)
        g_assert_true(acme_dns_provider_find(d->alias) == ops);
    g_assert_cmpuint(ops->default_ttl, ==, d->default_ttl);
    for (size_t i = 0; i < n && i < G_N_ELEMENTS(names); i++)
        listed = listed || strcmp(names[i], d->name) == 0;
    g_assert_true(listed);
    g_free(upper);
}

static void test_settings(gconstpointer data)
{
    const pdef *d = data;
    mock *mk = mock_for(d);
    acme_dns_provider_options o = ACME_DNS_PROVIDER_OPTIONS_INIT;
    acme_dns_provider *p = NULL;
    acme_error *err = NULL;
    char *url = mockhttp_url(mk->m, d->base);
    char *e_cred = g_strdup_printf("%s=%s", d->cred_env, SECRET);
    char *e_base = g_strdup_printf("%s=%s", d->base_env, url);
    char *e_ttl = g_strdup_printf("%s_TTL=3700", d->prefix);
    const char *env[] = { e_cred, e_base, e_ttl, NULL };
    const char *env_none[] = { e_base, NULL };
    char *zone = NULL;

    /* lego's variables: the credential, the base URL, <PREFIX>_TTL. */
    o.environ = env;
    expect(acme_dns_provider_new(&p, d->name, &o, &err), &err, ACME_OK);
    g_assert_null(acme_dns_provider_setting(p, d->cred)); /* secret */
    g_assert_cmpstr(acme_dns_provider_setting(p, "ttl"), ==, "3700");
    g_assert_cmpstr(acme_dns_provider_setting(p, "base_url"), ==, url);
    expect(acme_dns_provider_find_zone(&zone, p, "_acme-challenge.www.example.com", &err), &err,
           ACME_OK);
    g_assert_cmpstr(zone, ==, "example.com");
    acme_free(zone);
    acme_dns_provider_free(p);

    /* No credential: ACME_E_INVALID before any request, naming the variable. */
    o.environ = env_none;
    {
        size_t before = mockhttp_request_count(mk->m);

        expect(acme_dns_provider_new(&p, d->name, &o, &err), &err, ACME_E_INVALID);
        g_assert_nonnull(strstr(acme_error_message(err), d->cred_env));
        g_assert_cmpuint(mockhttp_request_count(mk->m), ==, before);
        clear(&err);
    }
    /* A base URL that is not HTTP(S). */
    {
        const char *bad[] = { "base_url=ftp://127.0.0.1/", NULL };

        o.environ = env;
        o.settings = bad;
        expect(acme_dns_provider_new(&p, d->name, &o, &err), &err, ACME_E_INVALID);
        clear(&err);
    }
    g_free(url);
    g_free(e_cred);
    g_free(e_base);
    g_free(e_ttl);
    mock_free(mk);
}

static void test_zones(gconstpointer data)
{
    const pdef *d = data;
    mock *mk = mock_for(d);
    acme_dns_provider *p = prov_new(mk, d, SECRET, NULL);
    acme_dns_zone_list l = ACME_DNS_ZONE_LIST_INIT;
    acme_error *err = NULL;
    unsigned int lists;

    /* Pages of one zone: every page is fetched. */
    mk->page_size = 1;
    expect(p->ops->list_zones(p->self, &l, &err), &err, ACME_OK);
    g_assert_cmpuint(l.n, ==, G_N_ELEMENTS(zone_names));
    for (size_t i = 0; i < l.n; i++) {
        g_assert_cmpstr(l.v[i].id, ==, d->ids[i]);
        g_assert_cmpstr(l.v[i].name, ==, zone_names[i]);
        g_assert_false(l.v[i].is_private);
    }
    acme_dns_zone_list_clear(&l);
    lists = mock_requests(mk, "GET", d->list_path);
    g_assert_cmpuint(lists, ==, G_N_ELEMENTS(zone_names));
    /* Pages in order (deSEC follows its Link cursors instead of page numbers). */
    for (size_t i = 0, page = 1; i < mockhttp_request_count(mk->m); i++) {
        const mockhttp_request *r = mockhttp_request_get(mk->m, i);
        const char *pg = mockhttp_request_query(r, strcmp(d->name, "desec") ? "page" : "cursor");
        char want[16];

        if (strcmp(r->path, d->list_path) != 0)
            continue;
        if (strcmp(d->name, "desec") == 0)
            snprintf(want, sizeof(want), "%zu", page - 1);
        else
            snprintf(want, sizeof(want), "%zu", page);
        if (page > 1 || strcmp(d->name, "desec") != 0)
            g_assert_cmpstr(pg, ==, want);
        page++;
    }
    /* Pages of two: the last one is short. */
    mk->page_size = 2;
    expect(p->ops->list_zones(p->self, &l, &err), &err, ACME_OK);
    g_assert_cmpuint(l.n, ==, G_N_ELEMENTS(zone_names));
    acme_dns_zone_list_clear(&l);
    g_assert_cmpuint(mock_requests(mk, "GET", d->list_path), ==, lists + 3);
    acme_dns_provider_free(p);
    mock_free(mk);
    logs_check();
}

static void test_find_zone(gconstpointer data)
{
    static const struct {
        const char *fqdn, *zone;
    } cases[] = {
        { "_acme-challenge.www.sub.example.com", "sub.example.com" },
        { "_acme-challenge.sub.example.com", "sub.example.com" },
        { "_acme-challenge.other.example.com", "example.com" },
        { "_acme-challenge.EXAMPLE.com.", "example.com" },
        { "_acme-challenge.badexample.com", "badexample.com" },
        { "_acme-challenge.a.b.example.net", "b.example.net" },
        { "_acme-challenge.example.net", NULL },        /* b.example.net is not a suffix */
        { "_acme-challenge.xbadexample.com", NULL },
        { "_acme-challenge.example.co", NULL },
    };
    const pdef *d = data;
    mock *mk = mock_for(d);
    acme_dns_provider *p = prov_new(mk, d, SECRET, NULL);
    acme_error *err = NULL;

    mk->page_size = 1;
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *zone = NULL;

        expect(acme_dns_provider_find_zone(&zone, p, cases[i].fqdn, &err), &err,
               cases[i].zone ? ACME_OK : ACME_E_ZONENOTFOUND);
        g_assert_cmpstr(zone, ==, cases[i].zone);
        acme_free(zone);
        clear(&err);
    }
    acme_dns_provider_free(p);

    /* A configured zone (by name): the core resolves it from the list. */
    {
        const char *more[] = { "zone=example.com", NULL };
        char *zone = NULL;

        p = prov_new(mk, d, SECRET, more);
        expect(acme_dns_provider_find_zone(&zone, p, "_acme-challenge.www.sub.example.com",
                                           &err),
               &err, ACME_OK);
        g_assert_cmpstr(zone, ==, "example.com");
        acme_free(zone);
        expect(acme_dns_provider_find_zone(&zone, p, "_acme-challenge.example.org", &err), &err,
               ACME_E_NOTINZONE);
        clear(&err);
        acme_dns_provider_free(p);
    }
    mock_free(mk);
    logs_check();
}

static void test_two_values(gconstpointer data)
{
    const pdef *d = data;
    mock *mk = mock_for(d);
    acme_dns_provider *p = prov_new(mk, d, SECRET, NULL);
    acme_error *err = NULL;
    unsigned int ttl = 0;
    char *s;

    /* Wildcard + apex: two values at one name, at once. */
    expect(acme_dns_provider_txt_add(p, NAME, "value-one", 0, &err), &err, ACME_OK);
    expect(acme_dns_provider_txt_add(p, NAME ".", "value-two", 0, &err), &err, ACME_OK);
    s = mock_values(mk, NAME);
    g_assert_cmpstr(s, ==, "value-one,value-two");
    g_free(s);
    g_assert_cmpuint(mock_count(mk, NAME, &ttl), ==, 2);
    g_assert_cmpuint(ttl, ==, d->default_ttl);
    /* Adding again is one value still. */
    expect(acme_dns_provider_txt_add(p, NAME, "value-one", 0, &err), &err, ACME_OK);
    g_assert_cmpuint(mock_count(mk, NAME, NULL), ==, 2);
    /* A name in the longer zone. */
    expect(acme_dns_provider_txt_add(p, "_acme-challenge.www.sub.example.com", "deep", 0, &err),
           &err, ACME_OK);
    s = mock_values(mk, "_acme-challenge.www.sub.example.com");
    g_assert_cmpstr(s, ==, "deep");
    g_free(s);

    /* Removing one leaves the other. */
    expect(acme_dns_provider_txt_remove(p, NAME, "value-one", &err), &err, ACME_OK);
    s = mock_values(mk, NAME);
    g_assert_cmpstr(s, ==, "value-two");
    g_free(s);
    /* Removing it again, or a value never added: success, nothing else touched. */
    expect(acme_dns_provider_txt_remove(p, NAME, "value-one", &err), &err, ACME_OK);
    expect(acme_dns_provider_txt_remove(p, NAME, "never-added", &err), &err, ACME_OK);
    expect(acme_dns_provider_txt_remove(p, "_acme-challenge.nothing.example.org", "x", &err),
           &err, ACME_OK);
    s = mock_values(mk, NAME);
    g_assert_cmpstr(s, ==, "value-two");
    g_free(s);
    expect(acme_dns_provider_txt_remove(p, NAME, "value-two", &err), &err, ACME_OK);
    expect(acme_dns_provider_txt_remove(p, "_acme-challenge.www.sub.example.com", "deep", &err),
           &err, ACME_OK);
    g_assert_cmpuint(mock_count(mk, NAME, NULL), ==, 0);
    g_assert_cmpuint(mk->recs->len, ==, 0);

    /* Through the vtable: delete without a handle finds the value by name and content. */
    {
        acme_dns_zone z;
        acme_dns_txt t = txt_in(&z, d, 0, NAME, "_acme-challenge", "by-value", 3600);
        acme_dns_txt t2 = txt_in(&z, d, 0, NAME, "_acme-challenge", "other", 3600);
        char *h = NULL, *h2 = NULL;

        expect(p->ops->create_txt(p->self, &t, &h, &err), &err, ACME_OK);
        expect(p->ops->create_txt(p->self, &t2, &h2, &err), &err, ACME_OK);
        if (h && p->ops->wait_applied)
            expect(p->ops->wait_applied(p->self, h, 10000, &err), &err, ACME_OK);
        expect(p->ops->delete_txt(p->self, &t, NULL, &err), &err, ACME_OK);
        s = mock_values(mk, NAME);
        g_assert_cmpstr(s, ==, "other");
        g_free(s);
        /* An absent value, with a stale handle: success. */
        expect(p->ops->delete_txt(p->self, &t, h, &err), &err, ACME_OK);
        expect(p->ops->delete_txt(p->self, &t2, h2, &err), &err, ACME_OK);
        expect(p->ops->delete_txt(p->self, &t2, h2, &err), &err, ACME_OK);
        g_assert_cmpuint(mk->recs->len, ==, 0);
        free(h);
        free(h2);
    }
    acme_dns_provider_free(p);
    mock_free(mk);
    logs_check();
}

static void test_responder(gconstpointer data)
{
    const pdef *d = data;
    mock *mk = mock_for(d);
    acme_dns_provider *p = prov_new(mk, d, SECRET, NULL);
    acme_dns01_options o = ACME_DNS01_OPTIONS_INIT;
    acme_responder *r = NULL;
    acme_error *err = NULL;
    char *v1 = NULL, *v2 = NULL, *want, *s;

    o.no_propagation_check = true;
    o.no_cname = true;
    o.settle_delay_ms = ACME_DNS01_NONE;
    expect(acme_responder_dns01_new(&r, p, &o, &err), &err, ACME_OK);
    expect(acme_dns01_txt_value(&v1, KA1, &err), &err, ACME_OK);
    expect(acme_dns01_txt_value(&v2, KA2, &err), &err, ACME_OK);
    /* One order for example.com and *.example.com: two values at one name. */
    expect(r->ops->start(r->self, "example.com", NULL, KA1, &err), &err, ACME_OK);
    expect(r->ops->start(r->self, "*.example.com", NULL, KA2, &err), &err, ACME_OK);
    s = mock_values(mk, NAME);
    want = strcmp(v1, v2) < 0 ? g_strdup_printf("%s,%s", v1, v2) : g_strdup_printf("%s,%s", v2, v1);
    g_assert_cmpstr(s, ==, want);
    g_free(s);
    g_free(want);
    r->ops->stop(r->self, "example.com", NULL, KA1);
    s = mock_values(mk, NAME);
    g_assert_cmpstr(s, ==, v2);
    g_free(s);
    r->ops->stop(r->self, "*.example.com", NULL, KA2);
    g_assert_cmpuint(mock_count(mk, NAME, NULL), ==, 0);
    /* A name no zone holds. */
    expect(r->ops->start(r->self, "www.example.net", NULL, KA1, &err), &err,
           ACME_E_ZONENOTFOUND);
    clear(&err);
    acme_responder_free(r);
    acme_dns_provider_free(p);
    acme_free(v1);
    acme_free(v2);
    mock_free(mk);
    logs_check();
}

static void test_auth(gconstpointer data)
{
    const pdef *d = data;
    mock *mk = mock_for(d);
    acme_dns_provider *p = prov_new(mk, d, "wrong-" SECRET, NULL);
    acme_error *err = NULL;
    char *zone = NULL;

    expect(acme_dns_provider_txt_add(p, NAME, "v", 0, &err), &err, ACME_E_AUTH);
    g_assert_false(acme_error_retryable(err));
    g_assert_cmpint(acme_error_http_status(err), >=, 401);
    g_assert_cmpint(acme_error_http_status(err), <=, 403);
    clear(&err);
    expect(acme_dns_provider_find_zone(&zone, p, NAME, &err), &err, ACME_E_AUTH);
    clear(&err);
    /* Refused credentials are not retried. */
    g_assert_cmpuint(mockhttp_request_count(mk->m), ==, 2);
    g_assert_cmpuint(mk->recs->len, ==, 0);
    acme_dns_provider_free(p);
    mock_free(mk);
    logs_check();
}

static void test_ratelimit(gconstpointer data)
{
    const pdef *d = data;
    mock *mk = mock_for(d);
    acme_dns_provider *p = prov_new(mk, d, SECRET, NULL);
    acme_error *err = NULL;

    /* Longer than the core waits inside a call: the error goes up with its Retry-After. */
    mock_fault(mk, 10, 429, "Retry-After: 60",
               "{\"message\": \"API rate limit exceeded.\", \"id\": \"too_many_requests\"}");
    expect(acme_dns_provider_txt_add(p, NAME, "v", 0, &err), &err, ACME_E_RATELIMITED);
    g_assert_cmpint(acme_error_retry_after(err), ==, 60);
    g_assert_true(acme_error_retryable(err));
    g_assert_cmpint(acme_error_http_status(err), ==, 429);
    clear(&err);
    g_assert_cmpuint(mockhttp_request_count(mk->m), ==, 1);
    /* Retry-After: 0 is waited out (no wait) and the call goes through. */
    mk->page_size = 10;
    mock_fault(mk, 1, 429, "Retry-After: 0", "{\"message\": \"slow down\"}");
    mk->fault_skip = 1;
    expect(acme_dns_provider_txt_add(p, NAME, "v", 0, &err), &err, ACME_OK);
    g_assert_cmpuint(mock_count(mk, NAME, NULL), ==, 1);
    acme_dns_provider_free(p);
    mock_free(mk);
    logs_check();
}

static void test_server_error(gconstpointer data)
{
    const pdef *d = data;
    mock *mk = mock_for(d);
    acme_dns_provider *p = prov_new(mk, d, SECRET, NULL);
    acme_dns_zone_list l = ACME_DNS_ZONE_LIST_INIT;
    acme_dns_zone z;
    acme_dns_txt t = txt_in(&z, d, 0, NAME, "_acme-challenge", "v", 3600);
    acme_error *err = NULL;
    char *h = NULL, *zone = NULL;

    /* The vtable does not retry: a 5xx is a retryable network error. */
    mock_fault(mk, 1, 503, NULL, "<html>upstream unavailable</html>");
    expect(p->ops->list_zones(p->self, &l, &err), &err, ACME_E_NETWORK);
    g_assert_true(acme_error_retryable(err));
    g_assert_cmpint(acme_error_http_status(err), ==, 503);
    clear(&err);
    acme_dns_zone_list_clear(&l);
    mock_fault(mk, 1, 500, NULL, "{\"message\": \"internal error\"}");
    expect(p->ops->create_txt(p->self, &t, &h, &err), &err, ACME_E_NETWORK);
    g_assert_null(h);
    clear(&err);
    /*
     * Through the core, with Retry-After: 0, the call inside the add is
     * retried (the first request, finding the zone, is let through)...
     */
    mk->page_size = 10;
    mock_fault(mk, 1, 502, "Retry-After: 0", NULL);
    mk->fault_skip = 1;
    expect(acme_dns_provider_txt_add(p, NAME, "after-502", 0, &err), &err, ACME_OK);
    zone = mock_values(mk, NAME);
    g_assert_cmpstr(zone, ==, "after-502");
    g_free(zone);
    /* ...and so is the provider's zone lookup. */
    expect(acme_dns_provider_txt_remove(p, NAME, "after-502", &err), &err, ACME_OK);
    mock_fault(mk, 1, 503, "Retry-After: 0", NULL);
    mk->fault_skip = 0;
    expect(acme_dns_provider_txt_add(p, NAME, "after-503", 0, &err), &err, ACME_OK);
    zone = mock_values(mk, NAME);
    g_assert_cmpstr(zone, ==, "after-503");
    g_free(zone);
    acme_dns_provider_free(p);
    mock_free(mk);
    logs_check();
}

static void test_malformed(gconstpointer data)
{
    const pdef *d = data;
    mock *mk = mock_for(d);
    acme_dns_provider *p = prov_new(mk, d, SECRET, NULL);
    acme_dns_zone_list l = ACME_DNS_ZONE_LIST_INIT;
    acme_dns_zone z;
    acme_dns_txt t = txt_in(&z, d, 0, NAME, "_acme-challenge", "v", 3600);
    acme_error *err = NULL;
    char *h = NULL;

    mock_fault(mk, 1, 200, NULL, "{\"result\": [ {\"id\": ");
    expect(p->ops->list_zones(p->self, &l, &err), &err, ACME_E_PROTOCOL);
    clear(&err);
    mock_fault(mk, 1, 200, NULL, "{\"unexpected\": true}");
    expect(p->ops->list_zones(p->self, &l, &err), &err, ACME_E_PROTOCOL);
    clear(&err);
    acme_dns_zone_list_clear(&l);
    /* The first answer of an add is garbage too. */
    mock_fault(mk, 1, 200, NULL, "not json at all");
    expect(p->ops->create_txt(p->self, &t, &h, &err), &err, ACME_E_PROTOCOL);
    g_assert_null(h);
    clear(&err);
    acme_dns_provider_free(p);
    mock_free(mk);
    logs_check();
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        GTestDataFunc fn;
    } cases[] = {
        { "registry", test_registry },   { "settings", test_settings },
        { "zones", test_zones },         { "find-zone", test_find_zone },
        { "two-values", test_two_values }, { "responder", test_responder },
        { "auth", test_auth },           { "ratelimit", test_ratelimit },
        { "server-error", test_server_error }, { "malformed", test_malformed },
    };
    int rc;

    g_test_init(&argc, &argv, NULL);
    if (acme_global_init() != ACME_OK)
        return 99;
    log_lines = g_ptr_array_new_with_free_func(g_free);
    for (size_t i = 0; i < G_N_ELEMENTS(pdefs); i++)
        for (size_t j = 0; j < G_N_ELEMENTS(cases); j++) {
            char *path = g_strdup_printf("/dnsp1/%s/%s", pdefs[i].name, cases[j].name);

            g_test_add_data_func(path, &pdefs[i], cases[j].fn);
            g_free(path);
        }
    dnsp1_add_specific_tests();
    rc = g_test_run();
    g_ptr_array_free(log_lines, TRUE);
    acme_global_cleanup();
    return rc;
}
