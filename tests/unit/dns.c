/*
 * tests/unit/dns: the dns-01 core without real servers.
 *
 * Settings parsing and precedence (explicit, spec string, environment,
 * <VAR>_FILE, default), the registry (aliases, runtime registration,
 * version checks), zone detection, TXT quoting, the DNS wire format, HTTP
 * error mapping (lib/transport/rest.c), the PowerDNS provider against a
 * mock of its API (tests/support/mockhttp.c), and the responder on a
 * memory provider registered at run time.  Secrets never show up in error
 * messages.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <json-c/json.h>

#include <acme/acme.h>
#include <acme/dns.h>
#include <acme/sys/dns.h>
#include <acme/sys/error.h>

#include "client/client-internal.h"
#include "dns/dns.h"
#include "support/dnsmock.h"
#include "support/mockhttp.h"
#include "transport/rest.h"
#include "util/error.h"

#define KA1 "tokenAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.thumbprintAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define KA2 "tokenBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB.thumbprintBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
#define SECRET "s3cr3t-KEY-do-not-print"

/* ---- key=value strings ---- */

static void test_kv_parse(void)
{
    char **k = NULL, **v = NULL;
    size_t n = 0;
    acme_error *err = NULL;

    dnsmock_expect(acme__dns_kv_parse(&k, &v, &n, "a=1,b=x\\,y,c=p\\=q\\\\r,d=", &err), &err, ACME_OK);
    g_assert_cmpuint(n, ==, 4);
    g_assert_cmpstr(k[0], ==, "a");
    g_assert_cmpstr(v[0], ==, "1");
    g_assert_cmpstr(k[1], ==, "b");
    g_assert_cmpstr(v[1], ==, "x,y");
    g_assert_cmpstr(k[2], ==, "c");
    g_assert_cmpstr(v[2], ==, "p=q\\r");
    g_assert_cmpstr(k[3], ==, "d");
    g_assert_cmpstr(v[3], ==, "");
    acme_free_strv(k, n);
    acme_free_strv(v, n);

    /* A value may hold '=' unescaped: only the first one splits. */
    dnsmock_expect(acme__dns_kv_parse(&k, &v, &n, "url=http://h/?a=b", &err), &err, ACME_OK);
    g_assert_cmpuint(n, ==, 1);
    g_assert_cmpstr(v[0], ==, "http://h/?a=b");
    acme_free_strv(k, n);
    acme_free_strv(v, n);

    dnsmock_expect(acme__dns_kv_parse(&k, &v, &n, "", &err), &err, ACME_OK);
    g_assert_cmpuint(n, ==, 0);

    /* Errors name positions, never the text: it may be a pasted secret. */
    dnsmock_expect(acme__dns_kv_parse(&k, &v, &n, "a=1," SECRET, &err), &err, ACME_E_INVALID);
    g_assert_null(strstr(acme_error_message(err), SECRET));
    g_assert_nonnull(strstr(acme_error_message(err), "item 2"));
    dnsmock_clear(&err);
    dnsmock_expect(acme__dns_kv_parse(&k, &v, &n, "a=" SECRET "\\", &err), &err, ACME_E_INVALID);
    g_assert_null(strstr(acme_error_message(err), SECRET));
    dnsmock_clear(&err);
    dnsmock_expect(acme__dns_kv_parse(&k, &v, &n, "=x", &err), &err, ACME_E_INVALID);
    dnsmock_clear(&err);
    g_assert_null(k);
    g_assert_cmpuint(n, ==, 0);
}

/* ---- settings: precedence, environment, _FILE ---- */

static acme_dns_provider *pdns_new(const char *spec, const char *const *settings,
                                   const char *const *environ, acme_error **err, int *rc)
{
    acme_dns_provider_options o = ACME_DNS_PROVIDER_OPTIONS_INIT;
    acme_dns_provider *p = NULL;

    o.settings = settings;
    o.environ = environ;
    *rc = acme_dns_provider_new(&p, spec, &o, err);
    return p;
}

static void test_settings_precedence(void)
{
    acme_error *err = NULL;
    acme_dns_provider *p;
    int rc;
    const char *env[] = { "PDNS_API_URL=http://env:1", "PDNS_API_KEY=envkey", "PDNS_TTL=30",
                          "PDNS_SERVER_NAME=envserver", "PDNS_ZONE=env.example", NULL };
    const char *arr[] = { "ttl=10", NULL };

    /* Explicit array > spec string > environment > default. */
    p = pdns_new("pdns:ttl=20,server_name=specserver", arr, env, &err, &rc);
    dnsmock_expect(rc, &err, ACME_OK);
    g_assert_cmpstr(acme_dns_provider_name(p), ==, "pdns");
    g_assert_cmpstr(acme_dns_provider_setting(p, "ttl"), ==, "10");
    g_assert_cmpstr(acme_dns_provider_setting(p, "server_name"), ==, "specserver");
    g_assert_cmpstr(acme_dns_provider_setting(p, "api_url"), ==, "http://env:1");
    g_assert_cmpstr(acme_dns_provider_setting(p, "zone"), ==, "env.example");
    g_assert_cmpstr(acme_dns_provider_setting(p, "api_version"), ==, "1"); /* default */
    /* Secrets are never handed out. */
    g_assert_null(acme_dns_provider_setting(p, "api_key"));
    g_assert_cmpstr(acme_dns_settings_get(p->settings, "api_key"), ==, "envkey");
    g_assert_null(acme_dns_provider_setting(p, "settle_delay"));
    g_assert_null(acme_dns_provider_setting(p, "no_such_key"));
    acme_dns_provider_free(p);

    /* Aliases and case: "PowerDNS" is pdns. */
    p = pdns_new("PowerDNS", NULL, env, &err, &rc);
    dnsmock_expect(rc, &err, ACME_OK);
    g_assert_cmpstr(acme_dns_provider_name(p), ==, "pdns");
    g_assert_cmpstr(acme_dns_provider_setting(p, "ttl"), ==, "30");
    acme_dns_provider_free(p);
}

static void test_settings_file(void)
{
    acme_error *err = NULL;
    acme_dns_provider *p;
    char *dir = g_dir_make_tmp("libacme-dns-XXXXXX", NULL);
    char *path = g_build_filename(dir, "key", NULL);
    char *missing = g_build_filename(dir, "missing", NULL);
    char *e_file = g_strdup_printf("PDNS_API_KEY_FILE=%s", path);
    char *e_missing = g_strdup_printf("PDNS_API_KEY_FILE=%s", missing);
    const char *env_file[] = { "PDNS_API_URL=http://h:1", e_file, NULL };
    const char *env_both[] = { "PDNS_API_URL=http://h:1", e_file, "PDNS_API_KEY=plain", NULL };
    const char *env_missing[] = { "PDNS_API_URL=http://h:1", e_missing, NULL };
    int rc;

    g_assert_true(g_file_set_contents(path, "filekey\n", -1, NULL));
    /* <VAR>_FILE: the content less one trailing newline. */
    p = pdns_new("pdns", NULL, env_file, &err, &rc);
    dnsmock_expect(rc, &err, ACME_OK);
    g_assert_cmpstr(acme_dns_settings_get(p->settings, "api_key"), ==, "filekey");
    acme_dns_provider_free(p);
    /* The variable itself wins over its _FILE. */
    p = pdns_new("pdns", NULL, env_both, &err, &rc);
    dnsmock_expect(rc, &err, ACME_OK);
    g_assert_cmpstr(acme_dns_settings_get(p->settings, "api_key"), ==, "plain");
    acme_dns_provider_free(p);
    /* An unreadable file is an I/O error naming the variable. */
    p = pdns_new("pdns", NULL, env_missing, &err, &rc);
    dnsmock_expect(rc, &err, ACME_E_IO);
    g_assert_null(p);
    g_assert_nonnull(strstr(acme_error_message(err), "PDNS_API_KEY_FILE"));
    dnsmock_clear(&err);
    /* Only the line end goes (CRLF too); other white space stays. */
    g_assert_true(g_file_set_contents(path, " two \r\n", -1, NULL));
    p = pdns_new("pdns", NULL, env_file, &err, &rc);
    dnsmock_expect(rc, &err, ACME_OK);
    g_assert_cmpstr(acme_dns_settings_get(p->settings, "api_key"), ==, " two ");
    acme_dns_provider_free(p);

    g_unlink(path);
    g_rmdir(dir);
    g_free(e_file);
    g_free(e_missing);
    g_free(missing);
    g_free(path);
    g_free(dir);
}

static void test_settings_errors(void)
{
    acme_error *err = NULL;
    acme_dns_provider *p;
    const char *empty[] = { NULL };
    const char *env_key[] = { "PDNS_API_KEY=" SECRET, NULL };
    const char *bad_arr[] = { SECRET, NULL };
    int rc;

    /* A missing required setting names the setting and its variable. */
    p = pdns_new("pdns:api_url=http://h:1", NULL, empty, &err, &rc);
    dnsmock_expect(rc, &err, ACME_E_INVALID);
    g_assert_null(p);
    g_assert_nonnull(strstr(acme_error_message(err), "api_key"));
    g_assert_nonnull(strstr(acme_error_message(err), "PDNS_API_KEY"));
    dnsmock_clear(&err);
    /* No URL at all. */
    p = pdns_new("pdns", NULL, env_key, &err, &rc);
    dnsmock_expect(rc, &err, ACME_E_INVALID);
    g_assert_nonnull(strstr(acme_error_message(err), "PDNS_API_URL"));
    g_assert_null(strstr(acme_error_message(err), SECRET));
    dnsmock_clear(&err);
    /* Unknown keys, bad numbers (the value is not echoed), bad URLs. */
    p = pdns_new("pdns:api_url=http://h:1,tokn=" SECRET, NULL, env_key, &err, &rc);
    dnsmock_expect(rc, &err, ACME_E_INVALID);
    g_assert_nonnull(strstr(acme_error_message(err), "tokn"));
    g_assert_null(strstr(acme_error_message(err), SECRET));
    dnsmock_clear(&err);
    p = pdns_new("pdns:api_url=http://h:1,ttl=" SECRET, NULL, env_key, &err, &rc);
    dnsmock_expect(rc, &err, ACME_E_INVALID);
    g_assert_nonnull(strstr(acme_error_message(err), "ttl"));
    g_assert_null(strstr(acme_error_message(err), SECRET));
    dnsmock_clear(&err);
    p = pdns_new("pdns:api_url=ftp://h", NULL, env_key, &err, &rc);
    dnsmock_expect(rc, &err, ACME_E_INVALID);
    dnsmock_clear(&err);
    p = pdns_new("pdns", bad_arr, env_key, &err, &rc);
    dnsmock_expect(rc, &err, ACME_E_INVALID);
    g_assert_null(strstr(acme_error_message(err), SECRET));
    dnsmock_clear(&err);
    /* Unknown provider; options version from the future. */
    p = pdns_new("nosuchdns:a=b", NULL, empty, &err, &rc);
    dnsmock_expect(rc, &err, ACME_E_NOTFOUND);
    dnsmock_clear(&err);
    {
        acme_dns_provider_options o = ACME_DNS_PROVIDER_OPTIONS_INIT;

        o.version = 99;
        dnsmock_expect(acme_dns_provider_new(&p, "pdns", &o, &err), &err, ACME_E_INVALID);
        dnsmock_clear(&err);
    }
    dnsmock_expect(acme_dns_provider_new(&p, NULL, NULL, &err), &err, ACME_E_INVALID);
    dnsmock_clear(&err);
    /* ignore_environment: the variables are not read. */
    {
        acme_dns_provider_options o = ACME_DNS_PROVIDER_OPTIONS_INIT;

        o.environ = env_key;
        o.ignore_environment = true;
        dnsmock_expect(acme_dns_provider_new(&p, "pdns:api_url=http://h:1", &o, &err), &err,
               ACME_E_INVALID);
        dnsmock_clear(&err);
    }
}

/* ---- registry ---- */

typedef struct memdns {
    GPtrArray *names;   /* "fqdn value" pairs */
    GPtrArray *zones;   /* zone names */
    unsigned int creates, deletes, fail_auth;
    unsigned int find_fail;   /* find_zone: rate-limited this many times first */
    unsigned int finds;       /* find_zone calls */
    unsigned int create_fail; /* create_txt: a network error this many times first */
    int64_t create_fail_retry_after; /* its Retry-After (-1: none) */
} memdns;

static memdns *mem_current;

static int mem_open(void **self, const acme_dns_settings *s, acme_dns_env *env, acme_error **err)
{
    (void)s, (void)env, (void)err;
    *self = mem_current;
    return ACME_OK;
}

static int mem_list(void *self, acme_dns_zone_list *out, acme_error **err)
{
    memdns *m = self;

    if (m->fail_auth)
        return acme_error_set(err, ACME_E_AUTH, "mem: credentials refused");
    for (size_t i = 0; i < m->zones->len; i++) {
        int rc = acme_dns_zone_list_add(out, NULL, m->zones->pdata[i], false, err);

        if (rc < 0)
            return rc;
    }
    return ACME_OK;
}

static int mem_create(void *self, const acme_dns_txt *txt, char **handle, acme_error **err)
{
    memdns *m = self;
    char *pair;

    m->creates++;
    if (m->create_fail > 0) {
        int rc;

        m->create_fail--;
        rc = acme_error_set(err, ACME_E_NETWORK, "mem: the server failed");
        if (err && *err)
            (*err)->retry_after = m->create_fail_retry_after;
        return rc;
    }
    pair = g_strdup_printf("%s %s", txt->fqdn, txt->value);
    g_assert_nonnull(txt->zone);
    g_assert_true(acme__dns_name_in_zone(txt->fqdn, txt->zone->name));
    for (size_t i = 0; i < m->names->len; i++)
        if (strcmp(m->names->pdata[i], pair) == 0) {
            g_free(pair);
            return ACME_OK;
        }
    g_ptr_array_add(m->names, pair);
    *handle = strdup("handle");
    return ACME_OK;
}

static int mem_delete(void *self, const acme_dns_txt *txt, const char *handle, acme_error **err)
{
    memdns *m = self;
    char *pair = g_strdup_printf("%s %s", txt->fqdn, txt->value);

    (void)err;
    m->deletes++;
    g_assert_cmpstr(handle, ==, "handle");
    for (size_t i = 0; i < m->names->len; i++)
        if (strcmp(m->names->pdata[i], pair) == 0) {
            g_ptr_array_remove_index(m->names, i);
            break;
        }
    g_free(pair);
    return ACME_OK;
}

static void mem_destroy(void *self)
{
    (void)self;
}

static const char *const mem_aliases[] = { "memory-alias", NULL };
static const char *const mem_prefixes[] = { "MEMDNS", NULL };
static const acme_dns_option mem_options[] = { { .key = NULL } };

static const acme_dns_provider_ops mem_ops = {
    .version = ACME_DNS_PROVIDER_OPS_VERSION,
    .size = sizeof(acme_dns_provider_ops),
    .name = "memtest",
    .aliases = mem_aliases,
    .env_prefixes = mem_prefixes,
    .options = mem_options,
    .default_ttl = 60,
    .min_ttl = 30,
    .open = mem_open,
    .list_zones = mem_list,
    .create_txt = mem_create,
    .delete_txt = mem_delete,
    .destroy = mem_destroy,
};

/* The same provider with a find_zone of its own (the zone of a name, asked each time). */
static int mem_find(void *self, const char *fqdn, acme_dns_zone *out, acme_error **err)
{
    memdns *m = self;

    m->finds++;
    if (m->find_fail > 0) {
        int rc;

        m->find_fail--;
        rc = acme_error_set(err, ACME_E_RATELIMITED, "mem: slow down");
        if (err && *err)
            (*err)->retry_after = 0;
        return rc;
    }
    for (size_t i = 0; i < m->zones->len; i++)
        if (acme__dns_name_in_zone(fqdn, m->zones->pdata[i])) {
            out->id = strdup(m->zones->pdata[i]);
            out->name = strdup(m->zones->pdata[i]);
            return ACME_OK;
        }
    return acme_error_set(err, ACME_E_NOTFOUND, "mem: no zone holds %s", fqdn);
}

static const char *const memfind_aliases[] = { NULL };
static const char *const memfind_prefixes[] = { "MEMFIND", NULL };
static acme_dns_provider_ops memfind_ops; /* mem_ops with mem_find: set up by the test */

static void register_mem_once(void)
{
    static gsize done;

    if (g_once_init_enter(&done)) {
        acme_error *err = NULL;

        dnsmock_expect(acme_dns_provider_register(&mem_ops, &err), &err, ACME_OK);
        g_once_init_leave(&done, 1);
    }
}

static void test_registry(void)
{
    const char *names[64]; /* room for every built-in provider */
    size_t n;
    acme_error *err = NULL;
    acme_dns_provider_ops bad = mem_ops;
    bool has_pdns = false, has_mem = false;

    g_assert_true(acme_dns_provider_find("pdns") == &acme__dns_pdns_ops);
    g_assert_true(acme_dns_provider_find("powerdns") == &acme__dns_pdns_ops);
    g_assert_true(acme_dns_provider_find("PDNS") == &acme__dns_pdns_ops);
    g_assert_null(acme_dns_provider_find("pdns2"));
    g_assert_null(acme_dns_provider_find(""));
    g_assert_null(acme_dns_provider_find(NULL));

    register_mem_once();
    g_assert_true(acme_dns_provider_find("MemTest") == &mem_ops);
    g_assert_true(acme_dns_provider_find("memory-alias") == &mem_ops);
    n = acme_dns_provider_names(names, G_N_ELEMENTS(names));
    g_assert_cmpuint(n, >=, 2);
    for (size_t i = 0; i < n && i < G_N_ELEMENTS(names); i++) {
        has_pdns = has_pdns || strcmp(names[i], "pdns") == 0;
        has_mem = has_mem || strcmp(names[i], "memtest") == 0;
    }
    g_assert_true(has_pdns && has_mem);
    g_assert_cmpuint(acme_dns_provider_names(NULL, 0), ==, n);

    /* Taken names and aliases; versions from the future; missing members. */
    dnsmock_expect(acme_dns_provider_register(&mem_ops, &err), &err, ACME_E_INVALIDSTATE);
    dnsmock_clear(&err);
    bad.name = "other";
    bad.aliases = (const char *const[]){ "PowerDNS", NULL };
    dnsmock_expect(acme_dns_provider_register(&bad, &err), &err, ACME_E_INVALIDSTATE);
    g_assert_nonnull(strstr(acme_error_message(err), "PowerDNS"));
    dnsmock_clear(&err);
    bad.aliases = NULL;
    bad.version = ACME_DNS_PROVIDER_OPS_VERSION + 1;
    dnsmock_expect(acme_dns_provider_register(&bad, &err), &err, ACME_E_INVALID);
    dnsmock_clear(&err);
    bad.version = ACME_DNS_PROVIDER_OPS_VERSION;
    bad.size = offsetof(acme_dns_provider_ops, destroy);
    dnsmock_expect(acme_dns_provider_register(&bad, &err), &err, ACME_E_INVALID);
    dnsmock_clear(&err);
    bad.size = sizeof(bad);
    bad.create_txt = NULL;
    dnsmock_expect(acme_dns_provider_register(&bad, &err), &err, ACME_E_INVALID);
    dnsmock_clear(&err);
    dnsmock_expect(acme_dns_provider_register(NULL, &err), &err, ACME_E_INVALID);
    dnsmock_clear(&err);
    g_assert_null(acme_dns_provider_find("other"));
}

/* ---- zones ---- */

typedef struct zone_case {
    const char *fqdn;
    const char *configured; /* NULL: auto-detection */
    int code;
    const char *zone;
} zone_case;

static const char *const zone_names[] = { "example.com", "sub.example.com", "example.org",
                                          "com.example.net" };

static const zone_case zone_cases[] = {
    { "_acme-challenge.example.com", NULL, ACME_OK, "example.com" },
    { "example.com", NULL, ACME_OK, "example.com" },
    { "_acme-challenge.www.sub.example.com", NULL, ACME_OK, "sub.example.com" },
    { "sub.example.com", NULL, ACME_OK, "sub.example.com" },
    { "xsub.example.com", NULL, ACME_OK, "example.com" },
    { "badexample.com", NULL, ACME_E_ZONENOTFOUND, NULL },
    { "example.net", NULL, ACME_E_ZONENOTFOUND, NULL },
    { "com", NULL, ACME_E_ZONENOTFOUND, NULL },
    { "a.com.example.net", NULL, ACME_OK, "com.example.net" },
    { "www.example.com", "example.com", ACME_OK, "example.com" },
    { "www.sub.example.com", "example.com", ACME_OK, "example.com" },
    { "www.example.com", "Example.COM.", ACME_OK, "example.com" },
    { "www.example.com", "id-example.com.", ACME_OK, "example.com" },
    { "www.example.org", "example.com", ACME_E_NOTINZONE, NULL },
    { "badexample.com", "example.com", ACME_E_NOTINZONE, NULL },
    { "www.example.com", "sub.example.com", ACME_E_NOTINZONE, NULL },
    { "www.example.com", "missing.com", ACME_E_ZONENOTFOUND, NULL },
};

static void test_zone_case(gconstpointer data)
{
    const zone_case *c = data;
    acme_dns_zone_list l = ACME_DNS_ZONE_LIST_INIT;
    acme_error *err = NULL;
    size_t idx = 99;
    int rc;

    for (size_t i = 0; i < G_N_ELEMENTS(zone_names); i++) {
        char *id = g_strdup_printf("id-%s.", zone_names[i]);

        dnsmock_expect(acme_dns_zone_list_add(&l, id, zone_names[i], false, &err), &err, ACME_OK);
        g_free(id);
    }
    rc = c->configured ? acme__dns_zone_configured(&idx, &l, c->configured, c->fqdn, &err)
                       : acme__dns_zone_pick(&idx, &l, c->fqdn, &err);
    dnsmock_expect(rc, &err, c->code);
    if (c->zone)
        g_assert_cmpstr(l.v[idx].name, ==, c->zone);
    else
        dnsmock_clear(&err);
    acme_dns_zone_list_clear(&l);
}

static void test_zone_misc(void)
{
    acme_dns_zone_list l = ACME_DNS_ZONE_LIST_INIT;
    acme_error *err = NULL;
    size_t idx = 0;
    char *s = NULL;

    /* Private and public zones of one name: the public one. */
    dnsmock_expect(acme_dns_zone_list_add(&l, "priv", "Example.com.", true, &err), &err, ACME_OK);
    dnsmock_expect(acme_dns_zone_list_add(&l, "pub", "example.com", false, &err), &err, ACME_OK);
    g_assert_cmpstr(l.v[0].name, ==, "example.com");
    dnsmock_expect(acme__dns_zone_pick(&idx, &l, "www.example.com", &err), &err, ACME_OK);
    g_assert_cmpstr(l.v[idx].id, ==, "pub");
    dnsmock_expect(acme_dns_zone_list_add(&l, "x", "bad name", false, &err), &err, ACME_E_INVALID);
    dnsmock_clear(&err);
    acme_dns_zone_list_clear(&l);
    g_assert_cmpuint(l.n, ==, 0);

    /* ZoneNotFound lists the suffixes tried. */
    dnsmock_expect(acme__dns_zone_pick(&idx, &l, "a.b.example", &err), &err, ACME_E_ZONENOTFOUND);
    g_assert_nonnull(strstr(acme_error_message(err), "a.b.example, b.example, example"));
    dnsmock_clear(&err);

    s = acme__dns_relative("_acme-challenge.www.example.com", "example.com");
    g_assert_cmpstr(s, ==, "_acme-challenge.www");
    g_free(s);
    s = acme__dns_relative("example.com", "example.com");
    g_assert_cmpstr(s, ==, "");
    g_free(s);
    g_assert_null(acme__dns_relative("badexample.com", "example.com"));

    /* Names: case, one trailing dot, label rules. */
    dnsmock_expect(acme__dns_name_normalize(&s, "_ACME-Challenge.Example.COM.", &err), &err, ACME_OK);
    g_assert_cmpstr(s, ==, "_acme-challenge.example.com");
    g_free(s);
    dnsmock_expect(acme__dns_name_normalize(&s, "*.example.com", &err), &err, ACME_OK);
    g_free(s);
    {
        static const char *const bad[] = { "", ".", "a..b", "a.*.b", "a b.com", "ex*.com",
                                           "a.com..", "x/y.com" };

        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
            dnsmock_expect(acme__dns_name_normalize(&s, bad[i], &err), &err, ACME_E_INVALID);
            dnsmock_clear(&err);
        }
    }
    {
        char label[70], *longname;

        memset(label, 'a', 64);
        label[64] = '\0';
        longname = g_strdup_printf("%s.com", label);
        dnsmock_expect(acme__dns_name_normalize(&s, longname, &err), &err, ACME_E_INVALID);
        dnsmock_clear(&err);
        g_free(longname);
        label[63] = '\0';
        longname = g_strdup_printf("%s.%s.%s.%s.com", label, label, label, label);
        dnsmock_expect(acme__dns_name_normalize(&s, longname, &err), &err, ACME_E_INVALID);
        dnsmock_clear(&err);
        g_free(longname);
    }
}

/* ---- TXT quoting ---- */

static void test_txt_quoting(void)
{
    static const struct {
        const char *in, *out;
    } unq[] = {
        { "\"abc\"", "abc" },
        { "abc", "abc" },
        { "\"a\" \"b\"", "ab" },
        { "\"with \\\"quote\\\" and \\\\\"", "with \"quote\" and \\" },
        { "\"\\065BC\"", "ABC" },
        { "\"\"", "" },
        { "\"x\" junk", "\"x\" junk" },
    };
    char *s;

    for (size_t i = 0; i < G_N_ELEMENTS(unq); i++) {
        s = acme__dns_txt_unquote(unq[i].in);
        g_assert_cmpstr(s, ==, unq[i].out);
        g_free(s);
    }
    s = acme__dns_txt_quote("ADw2sEd82DUgXcQ9hNBZThJs7zVJkR5v9JeSbAb9mZY");
    g_assert_cmpstr(s, ==, "\"ADw2sEd82DUgXcQ9hNBZThJs7zVJkR5v9JeSbAb9mZY\"");
    g_free(s);
    s = acme__dns_txt_quote("a\"b\\c");
    g_assert_cmpstr(s, ==, "\"a\\\"b\\\\c\"");
    {
        char *back = acme__dns_txt_unquote(s);

        g_assert_cmpstr(back, ==, "a\"b\\c");
        g_free(back);
    }
    g_free(s);
}

/* ---- DNS wire format ---- */

static void test_wire(void)
{
    unsigned char q[600];
    int n = acme__dns_build_query(q, sizeof(q), 0x1234, "_acme-challenge.example.com",
                                  ACME__DNS_T_TXT, false);
    /* An answer: header, the question, a CNAME to target (compressed), TXT of two strings. */
    static const unsigned char ans[] = {
        0x12, 0x34, 0x84, 0x00, 0x00, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00,
        /* @12: _acme-challenge.example.com */
        15, '_', 'a', 'c', 'm', 'e', '-', 'c', 'h', 'a', 'l', 'l', 'e', 'n', 'g', 'e',
        7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0x00, 0x10, 0x00, 0x01,
        /* CNAME: owner ptr 12, rdata "t" + ptr to example.com (@28) */
        0xc0, 12, 0x00, 0x05, 0x00, 0x01, 0, 0, 0, 60, 0x00, 0x04, 1, 't', 0xc0, 28,
        /* TXT at t.example.com (ptr to the CNAME rdata, @57): "ab" "cd" */
        0xc0, 57, 0x00, 0x10, 0x00, 0x01, 0, 0, 0, 60, 0x00, 0x06, 2, 'a', 'b', 2, 'c', 'd',
        /* a TXT at another name: ignored */
        0xc0, 28, 0x00, 0x10, 0x00, 0x01, 0, 0, 0, 60, 0x00, 0x02, 1, 'z',
    };
    acme__dns_answer a;
    acme_error *err = NULL;

    g_assert_cmpint(n, ==, 12 + 29 + 4 + 11);
    g_assert_cmpint(q[0], ==, 0x12);
    g_assert_cmpint(q[1], ==, 0x34);
    g_assert_cmpint(q[2] & 0x01, ==, 0);         /* no recursion asked */
    g_assert_cmpint(q[12], ==, 15);
    g_assert_cmpint(memcmp(q + 12, ans + 12, 29 + 4), ==, 0);
    g_assert_cmpint(acme__dns_build_query(q, sizeof(q), 1, "a..b", 1, true), ==, -1);

    dnsmock_expect(acme__dns_parse_answer(&a, ans, sizeof(ans), 0x1234, "_acme-challenge.example.com",
                                  ACME__DNS_T_TXT, &err),
           &err, ACME_OK);
    g_assert_true(a.authoritative);
    g_assert_cmpint(a.rcode, ==, 0);
    g_assert_cmpstr(a.cname, ==, "t.example.com");
    g_assert_cmpuint(a.nrr, ==, 1);
    g_assert_cmpstr(a.rr[0], ==, "abcd");
    acme__dns_answer_clear(&a);

    /* Another id, another question, truncations, a pointer loop: refused. */
    dnsmock_expect(acme__dns_parse_answer(&a, ans, sizeof(ans), 0x9999, "_acme-challenge.example.com",
                                  ACME__DNS_T_TXT, &err),
           &err, ACME_E_PROTOCOL);
    dnsmock_clear(&err);
    dnsmock_expect(acme__dns_parse_answer(&a, ans, sizeof(ans), 0x1234, "other.example.com",
                                  ACME__DNS_T_TXT, &err),
           &err, ACME_E_PROTOCOL);
    dnsmock_clear(&err);
    for (size_t cut = 0; cut < sizeof(ans); cut += 7) {
        if (acme__dns_parse_answer(&a, ans, cut, 0x1234, "_acme-challenge.example.com",
                                   ACME__DNS_T_TXT, &err) == ACME_OK)
            acme__dns_answer_clear(&a);
        dnsmock_clear(&err);
    }
    {
        unsigned char loop[sizeof(ans)];

        memcpy(loop, ans, sizeof(ans));
        loop[57] = 0xc0; /* the CNAME target points at itself */
        loop[58] = 57;
        dnsmock_expect(acme__dns_parse_answer(&a, loop, sizeof(loop), 0x1234,
                                      "_acme-challenge.example.com", ACME__DNS_T_TXT, &err),
               &err, ACME_E_PROTOCOL);
        dnsmock_clear(&err);
    }
}

static void test_server_parse(void)
{
    static const struct {
        const char *in, *host;
        unsigned short port;
    } good[] = {
        { "127.0.0.1", "127.0.0.1", 53 },
        { "127.0.0.1:5300", "127.0.0.1", 5300 },
        { "[::1]:5353", "::1", 5353 },
        { "::1", "::1", 53 },
        { "[2001:db8::1]", "2001:db8::1", 53 },
    };
    static const char *const bad[] = { "", "localhost", "1.2.3.4:0", "1.2.3.4:70000", "[::1",
                                       "[::1]x", "1.2.3.4:", "999.1.1.1" };
    acme__dns_server s;
    acme_error *err = NULL;

    for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
        dnsmock_expect(acme__dns_server_parse(&s, good[i].in, &err), &err, ACME_OK);
        g_assert_cmpstr(s.host, ==, good[i].host);
        g_assert_cmpuint(s.port, ==, good[i].port);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        dnsmock_expect(acme__dns_server_parse(&s, bad[i], &err), &err, ACME_E_INVALID);
        dnsmock_clear(&err);
    }
    {
        char *dir = g_dir_make_tmp("libacme-dns-XXXXXX", NULL);
        char *path = g_build_filename(dir, "resolv.conf", NULL);

        g_assert_true(g_file_set_contents(path, "# c\nsearch x\nnameserver 192.0.2.7\n"
                                                "nameserver 192.0.2.8\n", -1, NULL));
        dnsmock_expect(acme__dns_system_server(&s, path, &err), &err, ACME_OK);
        g_assert_cmpstr(s.host, ==, "192.0.2.7");
        g_unlink(path);
        dnsmock_expect(acme__dns_system_server(&s, path, &err), &err, ACME_OK);
        g_assert_cmpstr(s.host, ==, "127.0.0.1");
        g_rmdir(dir);
        g_free(path);
        g_free(dir);
    }
}

/* ---- HTTP error mapping ---- */

typedef struct status_case {
    unsigned int status;
    const char *content_type, *headers, *body;
    int code;
    const char *in_message;   /* must appear in the message */
    const char *detail;       /* the provider's message, or NULL */
    int64_t retry_after;
    bool retryable;
} status_case;

static const status_case status_cases[] = {
    { 401, "application/json", NULL, "{\"error\": \"Unauthorized\"}", ACME_E_AUTH,
      "refused the credentials", "Unauthorized", -1, false },
    { 403, "text/plain", NULL, "Forbidden", ACME_E_AUTH, "HTTP 403", "Forbidden", -1, false },
    { 429, "application/json", "Retry-After: 7", "{\"message\": \"slow down\"}",
      ACME_E_RATELIMITED, "retry after 7 seconds", "slow down", 7, true },
    { 422, "application/json", NULL,
      "{\"error\": \"Record x./TXT 'abc': Data field in DNS should start with quote\"}",
      ACME_E_REJECTED, "should start with quote",
      "Record x./TXT 'abc': Data field in DNS should start with quote", -1, false },
    { 400, "application/json", NULL, "{\"success\":false,\"errors\":[{\"code\":9021,"
                                     "\"message\":\"TTL must be between 30 and 86400\"}]}",
      ACME_E_REJECTED, "TTL must be between", "TTL must be between 30 and 86400", -1, false },
    { 404, "application/json", NULL, "{\"error\": \"Not Found\"}", ACME_E_NOTFOUND, "not found",
      "Not Found", -1, false },
    { 503, "text/html", NULL, "<html>busy</html>", ACME_E_NETWORK, "HTTP 503", NULL, -1, true },
    { 302, NULL, "Location: http://elsewhere/", NULL, ACME_E_PROTOCOL, "302", NULL, -1, false },
};

static void test_status_case(gconstpointer data)
{
    const status_case *c = data;
    mockhttp *m = mockhttp_new();
    acme__rest *r = NULL;
    acme__rest_response resp;
    acme__rest_request req = { 0 };
    acme_error *err = NULL;
    char *url = mockhttp_url(m, "/api/zones?token=" SECRET);
    const char *headers[] = { "X-API-Key: " SECRET, NULL };

    mockhttp_push(m, &(mockhttp_response){ .status = c->status, .content_type = c->content_type,
                                           .headers = c->headers, .body = c->body });
    dnsmock_expect(acme__rest_new(&r, NULL, &err), &err, ACME_OK);
    req.method = "GET";
    req.url = url;
    req.headers = headers;
    req.service = "TestDNS";
    dnsmock_expect(acme__rest_send(&resp, r, &req, &err), &err, c->code);
    g_assert_cmpint(resp.status, ==, c->status);
    g_assert_cmpint(acme_error_http_status(err), ==, c->status);
    g_assert_nonnull(strstr(acme_error_message(err), c->in_message));
    g_assert_nonnull(strstr(acme_error_message(err), "TestDNS"));
    g_assert_nonnull(strstr(acme_error_message(err), "/api/zones"));
    /* Neither the query string nor a header value reaches the message. */
    g_assert_null(strstr(acme_error_message(err), SECRET));
    g_assert_null(strstr(acme_error_message(err), "token"));
    g_assert_cmpstr(acme_error_detail(err), ==, c->detail);
    g_assert_cmpint(acme_error_retry_after(err), ==, c->retry_after);
    g_assert_cmpint(acme_error_retryable(err), ==, c->retryable);
    /* The header was sent. */
    g_assert_cmpstr(mockhttp_request_header(mockhttp_request_get(m, 0), "X-API-Key"), ==, SECRET);
    dnsmock_clear(&err);
    acme__rest_response_clear(&resp);
    acme__rest_free(r);
    g_free(url);
    mockhttp_free(m);
}

static void test_rest_methods(void)
{
    mockhttp *m = mockhttp_new();
    acme__rest *r = NULL;
    acme__rest_response resp;
    acme__rest_request req = { 0 };
    acme_error *err = NULL;
    char *url = mockhttp_url(m, "/x");
    static const char *const methods[] = { "GET", "POST", "PUT", "PATCH", "DELETE", "GET" };

    dnsmock_expect(acme__rest_new(&r, NULL, &err), &err, ACME_OK);
    for (size_t i = 0; i < G_N_ELEMENTS(methods); i++) {
        bool body = i == 1 || i == 3;
        const mockhttp_request *got;

        mockhttp_push(m, &(mockhttp_response){ .status = i == 3 ? 204 : 200,
                                               .content_type = "application/json",
                                               .headers = "X-Custom: v1",
                                               .body = i == 3 ? NULL : "{\"ok\":true}" });
        req.method = methods[i];
        req.url = url;
        req.body = body ? "{\"a\":1}" : NULL;
        dnsmock_expect(acme__rest_send(&resp, r, &req, &err), &err, ACME_OK);
        got = mockhttp_request_get(m, i);
        g_assert_cmpstr(got->method, ==, methods[i]);
        g_assert_cmpstr(got->body, ==, body ? "{\"a\":1}" : "");
        g_assert_cmpstr(acme__rest_response_header(&resp, "x-custom"), ==, "v1");
        g_assert_cmpstr(resp.content_type, ==, "application/json");
        acme__rest_response_clear(&resp);
    }
    /* Cancelled: nothing is sent. */
    acme__rest_cancel(r);
    g_assert_true(acme__rest_cancelled(r));
    dnsmock_expect(acme__rest_send(&resp, r, &req, &err), &err, ACME_E_CANCELLED);
    dnsmock_clear(&err);
    acme__rest_response_clear(&resp);
    g_assert_cmpuint(mockhttp_request_count(m), ==, G_N_ELEMENTS(methods));
    acme__rest_reset_cancel(r);
    /* Nobody listening. */
    req.url = "http://127.0.0.1:1/";
    req.method = "GET";
    req.body = NULL;
    dnsmock_expect(acme__rest_send(&resp, r, &req, &err), &err, ACME_E_NETWORK);
    dnsmock_clear(&err);
    acme__rest_response_clear(&resp);
    acme__rest_free(r);
    g_free(url);
    mockhttp_free(m);
}

/* ---- PowerDNS provider against a mock of its API ---- */

typedef struct mockpdns {
    mockhttp *m;
    GMutex lock;
    GPtrArray *contents;   /* the TXT RRset at _acme-challenge.example.com., quoted */
    unsigned int ratelimit; /* answer this many requests with 429 first */
} mockpdns;

#define MP_BASE "/api/v1/servers/localhost"

static void mockpdns_handler(void *userdata, const mockhttp_request *req, mockhttp_response *out)
{
    mockpdns *mp = userdata;
    const char *key = mockhttp_request_header(req, "X-API-Key");

    g_mutex_lock(&mp->lock);
    out->content_type = "application/json";
    if (!key || strcmp(key, SECRET) != 0) {
        out->status = 401;
        out->body = "{\"error\": \"Unauthorized\"}";
    } else if (mp->ratelimit) {
        mp->ratelimit--;
        out->status = 429;
        out->headers = "Retry-After: 0";
        out->body = "{\"error\": \"Too many requests\"}";
    } else if (strcmp(req->method, "GET") == 0 && strcmp(req->path, MP_BASE "/zones") == 0) {
        out->body = "[{\"id\": \"example.com.\", \"name\": \"example.com.\", \"kind\": \"Native\"},"
                    " {\"id\": \"sub.example.com.\", \"name\": \"sub.example.com.\"}]";
    } else if (strcmp(req->path, MP_BASE "/zones/example.com.") == 0 &&
               strcmp(req->method, "GET") == 0) {
        GString *s = g_string_new("{\"id\": \"example.com.\", \"kind\": \"Native\", \"rrsets\": [");

        if (mp->contents->len) {
            g_string_append(s, "{\"name\": \"_acme-challenge.example.com.\", \"type\": \"TXT\", "
                               "\"ttl\": 77, \"records\": [");
            for (size_t i = 0; i < mp->contents->len; i++) {
                char *q = g_strescape(mp->contents->pdata[i], NULL);

                g_string_append_printf(s, "%s{\"content\": \"%s\", \"disabled\": false}",
                                       i ? ", " : "", q);
                g_free(q);
            }
            g_string_append(s, "]}, ");
        }
        g_string_append(s, "{\"name\": \"example.com.\", \"type\": \"SOA\", \"ttl\": 3600, "
                           "\"records\": [{\"content\": \"a. b. 1 2 3 4 5\"}]}]}");
        out->body = mockhttp_strdup(mp->m, "%s", s->str);
        g_string_free(s, TRUE);
    } else if (strcmp(req->path, MP_BASE "/zones/example.com.") == 0 &&
               strcmp(req->method, "PATCH") == 0) {
        json_object *o = json_tokener_parse(req->body), *set, *recs;

        g_assert_nonnull(o);
        set = json_object_array_get_idx(json_object_object_get(o, "rrsets"), 0);
        g_assert_cmpstr(json_object_get_string(json_object_object_get(set, "name")), ==,
                        "_acme-challenge.example.com.");
        g_ptr_array_set_size(mp->contents, 0);
        if (strcmp(json_object_get_string(json_object_object_get(set, "changetype")),
                   "REPLACE") == 0) {
            recs = json_object_object_get(set, "records");
            for (size_t i = 0; i < json_object_array_length(recs); i++) {
                const char *c = json_object_get_string(
                    json_object_object_get(json_object_array_get_idx(recs, i), "content"));

                /* PowerDNS refuses unquoted TXT content (422). */
                if (c[0] != '"') {
                    out->status = 422;
                    out->body = "{\"error\": \"Data field in DNS should start with quote\"}";
                }
                g_ptr_array_add(mp->contents, g_strdup(c));
            }
        }
        json_object_put(o);
        if (!out->status)
            out->status = 204;
    } else {
        out->status = 404;
        out->body = "{\"error\": \"Not Found\"}";
    }
    g_mutex_unlock(&mp->lock);
}

static acme_dns_provider *mockpdns_provider(mockpdns *mp, const char *key)
{
    acme_dns_provider_options o = ACME_DNS_PROVIDER_OPTIONS_INIT;
    acme_dns_provider *p = NULL;
    acme_error *err = NULL;
    char *url = mockhttp_url(mp->m, "/");
    char *s_url = g_strdup_printf("api_url=%s", url);
    char *s_key = g_strdup_printf("api_key=%s", key);
    const char *settings[] = { s_url, s_key, NULL };

    o.settings = settings;
    o.ignore_environment = true;
    dnsmock_expect(acme_dns_provider_new(&p, "pdns", &o, &err), &err, ACME_OK);
    g_free(url);
    g_free(s_url);
    g_free(s_key);
    return p;
}

static mockpdns *mockpdns_new(void)
{
    mockpdns *mp = g_new0(mockpdns, 1);

    g_mutex_init(&mp->lock);
    mp->contents = g_ptr_array_new_with_free_func(g_free);
    mp->m = mockhttp_new();
    mockhttp_set_handler(mp->m, mockpdns_handler, mp);
    return mp;
}

static void mockpdns_free(mockpdns *mp)
{
    mockhttp_free(mp->m);
    g_ptr_array_free(mp->contents, TRUE);
    g_mutex_clear(&mp->lock);
    g_free(mp);
}

static char *contents_joined(mockpdns *mp)
{
    char *s;

    g_mutex_lock(&mp->lock);
    g_ptr_array_add(mp->contents, NULL);
    s = g_strjoinv(",", (char **)mp->contents->pdata);
    g_ptr_array_remove_index(mp->contents, mp->contents->len - 1);
    g_mutex_unlock(&mp->lock);
    return s;
}

static void test_pdns_mock(void)
{
    mockpdns *mp = mockpdns_new();
    acme_dns_provider *p = mockpdns_provider(mp, SECRET);
    acme_error *err = NULL;
    const mockhttp_request *req;
    char *s, *zone = NULL;
    size_t n;

    dnsmock_expect(acme_dns_provider_find_zone(&zone, p, "_acme-challenge.www.sub.example.com", &err),
           &err, ACME_OK);
    g_assert_cmpstr(zone, ==, "sub.example.com");
    acme_free(zone);
    req = mockhttp_request_get(mp->m, 0);
    g_assert_cmpstr(req->path, ==, MP_BASE "/zones");
    g_assert_cmpstr(mockhttp_request_header(req, "Accept"), ==, "application/json");

    dnsmock_expect(acme_dns_provider_txt_add(p, "_acme-challenge.example.com", "one", 0, &err), &err,
           ACME_OK);
    dnsmock_expect(acme_dns_provider_txt_add(p, "_acme-challenge.example.com.", "two", 0, &err), &err,
           ACME_OK);
    s = contents_joined(mp);
    g_assert_cmpstr(s, ==, "\"one\",\"two\"");
    g_free(s);
    /* The second PATCH: both values, quoted, REPLACE, with the default TTL. */
    n = mockhttp_request_count(mp->m);
    req = mockhttp_request_get(mp->m, n - 1);
    g_assert_cmpstr(req->method, ==, "PATCH");
    g_assert_cmpstr(mockhttp_request_header(req, "Content-Type"), ==, "application/json");
    g_assert_cmpstr(req->body, ==,
                    "{\"rrsets\":[{\"name\":\"_acme-challenge.example.com.\",\"type\":\"TXT\","
                    "\"ttl\":120,\"changetype\":\"REPLACE\",\"records\":[{\"content\":\"\\\"one\\\"\","
                    "\"disabled\":false},{\"content\":\"\\\"two\\\"\",\"disabled\":false}]}]}");
    /* The zone list was listed once (cached). */
    {
        unsigned int lists = 0;

        for (size_t i = 0; i < n; i++)
            lists += strcmp(mockhttp_request_get(mp->m, i)->path, MP_BASE "/zones") == 0;
        g_assert_cmpuint(lists, ==, 1);
    }
    /* Idempotent: no PATCH for a value already there. */
    dnsmock_expect(acme_dns_provider_txt_add(p, "_acme-challenge.example.com", "one", 0, &err), &err,
           ACME_OK);
    g_assert_cmpstr(mockhttp_request_get(mp->m, mockhttp_request_count(mp->m) - 1)->method, ==,
                    "GET");

    /* Remove one: REPLACE with the other, at the RRset's TTL. */
    dnsmock_expect(acme_dns_provider_txt_remove(p, "_acme-challenge.example.com", "one", &err), &err,
           ACME_OK);
    s = contents_joined(mp);
    g_assert_cmpstr(s, ==, "\"two\"");
    g_free(s);
    req = mockhttp_request_get(mp->m, mockhttp_request_count(mp->m) - 1);
    g_assert_nonnull(strstr(req->body, "\"ttl\":77"));
    /* Remove the last: DELETE. */
    dnsmock_expect(acme_dns_provider_txt_remove(p, "_acme-challenge.example.com", "two", &err), &err,
           ACME_OK);
    req = mockhttp_request_get(mp->m, mockhttp_request_count(mp->m) - 1);
    g_assert_cmpstr(req->body, ==,
                    "{\"rrsets\":[{\"name\":\"_acme-challenge.example.com.\",\"type\":\"TXT\","
                    "\"changetype\":\"DELETE\"}]}");
    /* Absent: success, and no PATCH. */
    n = mockhttp_request_count(mp->m);
    dnsmock_expect(acme_dns_provider_txt_remove(p, "_acme-challenge.example.com", "two", &err), &err,
           ACME_OK);
    g_assert_cmpstr(mockhttp_request_get(mp->m, n)->method, ==, "GET");
    g_assert_cmpuint(mockhttp_request_count(mp->m), ==, n + 1);

    /* Rate limits are waited out (Retry-After: 0) and retried. */
    mp->ratelimit = 2;
    dnsmock_expect(acme_dns_provider_txt_add(p, "_acme-challenge.example.com", "three", 0, &err), &err,
           ACME_OK);
    s = contents_joined(mp);
    g_assert_cmpstr(s, ==, "\"three\"");
    g_free(s);
    /* Past the attempts the error goes up, with its Retry-After. */
    mp->ratelimit = 10;
    dnsmock_expect(acme_dns_provider_txt_remove(p, "_acme-challenge.example.com", "three", &err), &err,
           ACME_E_RATELIMITED);
    g_assert_cmpint(acme_error_retry_after(err), ==, 0);
    g_assert_true(acme_error_retryable(err));
    dnsmock_clear(&err);
    mp->ratelimit = 0;

    /* Names outside every zone; bad values. */
    dnsmock_expect(acme_dns_provider_txt_add(p, "_acme-challenge.example.net", "x", 0, &err), &err,
           ACME_E_ZONENOTFOUND);
    dnsmock_clear(&err);
    dnsmock_expect(acme_dns_provider_txt_add(p, "_acme-challenge.example.com", "", 0, &err), &err,
           ACME_E_INVALID);
    dnsmock_clear(&err);
    dnsmock_expect(acme_dns_provider_txt_add(p, "_acme-challenge.example.com", "a\nb", 0, &err), &err,
           ACME_E_INVALID);
    dnsmock_clear(&err);
    dnsmock_expect(acme_dns_provider_txt_add(p, "bad name", "x", 0, &err), &err, ACME_E_INVALID);
    dnsmock_clear(&err);
    acme_dns_provider_free(p);

    /* Wrong key: AUTH, and the key is in no message. */
    p = mockpdns_provider(mp, "wrong-" SECRET);
    dnsmock_expect(acme_dns_provider_txt_add(p, "_acme-challenge.example.com", "x", 0, &err), &err,
           ACME_E_AUTH);
    g_assert_null(strstr(acme_error_message(err), SECRET));
    g_assert_cmpstr(acme_error_detail(err), ==, "Unauthorized");
    dnsmock_clear(&err);
    acme_dns_provider_free(p);
    mockpdns_free(mp);
}

/* ---- the responder on a memory provider ---- */

/*
 * What the core retries: a rate-limited find_zone like every other call,
 * and network errors that carry a Retry-After.
 */
static void test_find_zone_retry(void)
{
    memdns m = { 0 };
    acme_dns_provider_options po = ACME_DNS_PROVIDER_OPTIONS_INIT;
    acme_dns_provider *p = NULL;
    acme_error *err = NULL;
    static gsize done;

    if (g_once_init_enter(&done)) {
        memfind_ops = mem_ops;
        memfind_ops.name = "memfind";
        memfind_ops.aliases = memfind_aliases;
        memfind_ops.env_prefixes = memfind_prefixes;
        memfind_ops.find_zone = mem_find;
        dnsmock_expect(acme_dns_provider_register(&memfind_ops, &err), &err, ACME_OK);
        g_once_init_leave(&done, 1);
    }
    m.names = g_ptr_array_new_with_free_func(g_free);
    m.zones = g_ptr_array_new();
    g_ptr_array_add(m.zones, "example.com");
    mem_current = &m;
    po.ignore_environment = true;
    dnsmock_expect(acme_dns_provider_new(&p, "memfind", &po, &err), &err, ACME_OK);
    m.find_fail = 2;
    dnsmock_expect(acme_dns_provider_txt_add(p, "_acme-challenge.www.example.com", "v", 0, &err),
                   &err, ACME_OK);
    g_assert_cmpuint(m.finds, ==, 3);
    g_assert_cmpuint(m.creates, ==, 1);
    /* Past the bound the rate limit comes up, and nothing is created. */
    m.find_fail = 100;
    dnsmock_expect(acme_dns_provider_txt_add(p, "_acme-challenge.x.example.com", "v", 0, &err),
                   &err, ACME_E_RATELIMITED);
    dnsmock_clear(&err);
    g_assert_cmpuint(m.creates, ==, 1);
    /* A name in no zone is not retried. */
    m.find_fail = 0;
    m.finds = 0;
    dnsmock_expect(acme_dns_provider_txt_add(p, "_acme-challenge.example.org", "v", 0, &err),
                   &err, ACME_E_ZONENOTFOUND);
    dnsmock_clear(&err);
    g_assert_cmpuint(m.finds, ==, 1);
    /* A network error that says when to try again (a DNS SERVFAIL) is retried... */
    m.creates = 0;
    m.create_fail = 1;
    m.create_fail_retry_after = 0;
    dnsmock_expect(acme_dns_provider_txt_add(p, "_acme-challenge.y.example.com", "v", 0, &err),
                   &err, ACME_OK);
    g_assert_cmpuint(m.creates, ==, 2);
    /* ...one that does not (an unreachable server) is not. */
    m.creates = 0;
    m.create_fail = 1;
    m.create_fail_retry_after = -1;
    dnsmock_expect(acme_dns_provider_txt_add(p, "_acme-challenge.z.example.com", "v", 0, &err),
                   &err, ACME_E_NETWORK);
    dnsmock_clear(&err);
    g_assert_cmpuint(m.creates, ==, 1);
    acme_dns_provider_free(p);
    g_ptr_array_free(m.names, TRUE);
    g_ptr_array_free(m.zones, TRUE);
}

static void test_responder_memory(void)
{
    memdns m = { 0 };
    acme_dns_provider_options po = ACME_DNS_PROVIDER_OPTIONS_INIT;
    acme_dns01_options o = ACME_DNS01_OPTIONS_INIT;
    acme_dns_provider *p = NULL;
    acme_responder *r = NULL;
    acme_error *err = NULL;
    char *v1 = NULL, *v2 = NULL, *want;

    register_mem_once();
    m.names = g_ptr_array_new_with_free_func(g_free);
    m.zones = g_ptr_array_new();
    g_ptr_array_add(m.zones, "example.com");
    mem_current = &m;
    po.ignore_environment = true;
    dnsmock_expect(acme_dns_provider_new(&p, "memory-alias:ttl=5", &po, &err), &err, ACME_OK);
    o.no_propagation_check = true;
    o.no_cname = true;
    o.settle_delay_ms = ACME_DNS01_NONE;
    dnsmock_expect(acme_responder_dns01_new(&r, p, &o, &err), &err, ACME_OK);
    g_assert_cmpstr(acme_responder_name(r), ==, "dns-01 memtest");
    dnsmock_expect(acme_dns01_txt_value(&v1, KA1, &err), &err, ACME_OK);
    dnsmock_expect(acme_dns01_txt_value(&v2, KA2, &err), &err, ACME_OK);

    /* Apex and wildcard: one name, two values at once; "*." is dropped. */
    dnsmock_expect(r->ops->start(r->self, "Example.com", NULL, KA1, &err), &err, ACME_OK);
    dnsmock_expect(r->ops->start(r->self, "*.example.com", NULL, KA2, &err), &err, ACME_OK);
    g_assert_cmpuint(m.names->len, ==, 2);
    want = g_strdup_printf("_acme-challenge.example.com %s", v1);
    g_assert_cmpstr(m.names->pdata[0], ==, want);
    g_free(want);
    want = g_strdup_printf("_acme-challenge.example.com %s", v2);
    g_assert_cmpstr(m.names->pdata[1], ==, want);
    g_free(want);
    /* Stopping one removes exactly its value. */
    r->ops->stop(r->self, "example.com", NULL, KA1);
    g_assert_cmpuint(m.names->len, ==, 1);
    want = g_strdup_printf("_acme-challenge.example.com %s", v2);
    g_assert_cmpstr(m.names->pdata[0], ==, want);
    g_free(want);
    /* A stop for something never started does nothing. */
    r->ops->stop(r->self, "other.example.com", NULL, KA1);
    g_assert_cmpuint(m.deletes, ==, 1);
    r->ops->stop(r->self, "example.com", NULL, KA2);
    g_assert_cmpuint(m.names->len, ==, 0);

    /* Errors of the provider come through; nothing left behind. */
    dnsmock_expect(r->ops->start(r->self, "example.org", NULL, KA1, &err), &err, ACME_E_ZONENOTFOUND);
    dnsmock_clear(&err);
    dnsmock_expect(r->ops->start(r->self, "bad..name", NULL, KA1, &err), &err, ACME_E_INVALID);
    dnsmock_clear(&err);
    dnsmock_expect(r->ops->start(r->self, "example.com", NULL, "not a key authorization", &err), &err,
           ACME_E_INVALID);
    dnsmock_clear(&err);
    g_assert_cmpuint(m.names->len, ==, 0);
    /* The zone cache is reused, but a miss lists again: the auth failure shows. */
    m.fail_auth = 1;
    dnsmock_expect(r->ops->start(r->self, "example.net", NULL, KA1, &err), &err, ACME_E_AUTH);
    dnsmock_clear(&err);
    m.fail_auth = 0;

    /* Cancelled: the settle delay ends at once. */
    acme_responder_free(r);
    o.settle_delay_ms = 3600 * 1000L;
    dnsmock_expect(acme_responder_dns01_new(&r, p, &o, &err), &err, ACME_OK);
    acme_dns_provider_cancel(p);
    dnsmock_expect(r->ops->start(r->self, "example.com", NULL, KA1, &err), &err, ACME_E_CANCELLED);
    dnsmock_clear(&err);
    g_assert_cmpuint(m.names->len, ==, 0); /* a failed start removes its value */
    acme_dns_provider_reset_cancel(p);
    acme_responder_free(r);

    /* Bad options. */
    o.nameserver = "not-an-address";
    dnsmock_expect(acme_responder_dns01_new(&r, p, &o, &err), &err, ACME_E_INVALID);
    dnsmock_clear(&err);
    o.nameserver = NULL;
    o.version = 42;
    dnsmock_expect(acme_responder_dns01_new(&r, p, &o, &err), &err, ACME_E_INVALID);
    dnsmock_clear(&err);
    dnsmock_expect(acme_responder_dns01_new(&r, NULL, NULL, &err), &err, ACME_E_INVALID);
    dnsmock_clear(&err);

    acme_dns_provider_free(p);
    acme_free(v1);
    acme_free(v2);
    g_ptr_array_free(m.names, TRUE);
    g_ptr_array_free(m.zones, TRUE);
    mem_current = NULL;
}

static void test_error_codes(void)
{
    g_assert_cmpstr(acme_status_name(ACME_E_ZONENOTFOUND), ==, "ACME_E_ZONENOTFOUND");
    g_assert_cmpstr(acme_status_name(ACME_E_NOTINZONE), ==, "ACME_E_NOTINZONE");
    g_assert_cmpstr(acme_status_name(ACME_E_AUTH), ==, "ACME_E_AUTH");
    g_assert_cmpint(ACME_E_ZONENOTFOUND, !=, ACME_E_NOTINZONE);
    g_assert_cmpstr(acme_strerror(ACME_E_NOTINZONE), !=, acme_strerror(ACME_E_ZONENOTFOUND));
    g_assert_cmpint(ACME_E_LAST, <=, ACME_E_AUTH);
}

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    if (acme_global_init() != ACME_OK)
        return 99;
    g_test_add_func("/dns/kv-parse", test_kv_parse);
    g_test_add_func("/dns/settings/precedence", test_settings_precedence);
    g_test_add_func("/dns/settings/file", test_settings_file);
    g_test_add_func("/dns/settings/errors", test_settings_errors);
    g_test_add_func("/dns/registry", test_registry);
    for (size_t i = 0; i < G_N_ELEMENTS(zone_cases); i++) {
        char *path = g_strdup_printf("/dns/zone/%s/%s", zone_cases[i].configured
                                                             ? zone_cases[i].configured
                                                             : "auto",
                                     zone_cases[i].fqdn);

        g_test_add_data_func(path, &zone_cases[i], test_zone_case);
        g_free(path);
    }
    g_test_add_func("/dns/zone/misc", test_zone_misc);
    g_test_add_func("/dns/txt-quoting", test_txt_quoting);
    g_test_add_func("/dns/wire", test_wire);
    g_test_add_func("/dns/server-parse", test_server_parse);
    for (size_t i = 0; i < G_N_ELEMENTS(status_cases); i++) {
        char *path = g_strdup_printf("/dns/rest/status/%u", status_cases[i].status);

        g_test_add_data_func(path, &status_cases[i], test_status_case);
        g_free(path);
    }
    g_test_add_func("/dns/rest/methods", test_rest_methods);
    g_test_add_func("/dns/pdns/mock", test_pdns_mock);
    g_test_add_func("/dns/responder/memory", test_responder_memory);
    g_test_add_func("/dns/provider/retries", test_find_zone_retry);
    g_test_add_func("/dns/error-codes", test_error_codes);
    rc = g_test_run();
    acme_global_cleanup();
    return rc;
}
