/*
 * tests/unit/dnsp3: the DNS providers gandiv5, ovh, acmedns and exec.
 *
 * Each REST provider runs against an in-process mock of its API
 * (tests/support/mockhttp.c, 127.0.0.1 on a free port) that keeps an
 * in-memory zone store and checks every request field by field: method,
 * path, query, headers, credentials, exact JSON bodies, OVH signatures
 * (recomputed here with GLib's SHA-1, independently of lib/crypto).  The
 * providers are driven through the public calls (zone detection, the
 * core's TTL clamping and retries), straight through their vtables
 * (error paths without the core's retries), and through the dns-01
 * responder with the propagation check off.  The exec provider runs small
 * shell scripts written at run time.  Secrets never show up in an error
 * message or a log line.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <json-c/json.h>

#include <acme/acme.h>
#include <acme/dns.h>
#include <acme/sys/dns.h>
#include <acme/sys/error.h>

#include "client/client-internal.h"
#include "crypto/ovhsig.h"
#include "dns/dns.h"
#include "support/dnsmock.h"
#include "support/mockhttp.h"
#include "util/error.h"

#define KA1 "tokenAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.thumbprintAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define KA2 "tokenBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB.thumbprintBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
#define SECRET "s3cr3t-PAT-do-not-print"
/* Two 43-character base64url values (acme-dns checks the length). */
#define V1 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA1"
#define V2 "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB2"
#define V3 "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC3"

/* ---- secrets (the log lines are kept by dnsmock_log) ---- */

/* The error's message and detail, and the log, hold none of @p secrets. */
static void assert_no_secret(const acme_error *err, const dnsmock_log *l, const char *const *secrets)
{
    for (const char *const *s = secrets; *s; s++)
        dnsmock_assert_no_secret(err, l, *s);
}

/* A provider instance from @p spec and "k=v" @p settings, no environment, logging to @p l. */
static int prov_new(acme_dns_provider **p, const char *spec, const char *const *settings,
                    dnsmock_log *l, acme_error **err)
{
    acme_dns_provider_options o = ACME_DNS_PROVIDER_OPTIONS_INIT;

    o.settings = settings;
    o.ignore_environment = true;
    if (l) {
        o.log = dnsmock_log_cb;
        o.log_userdata = l;
        o.log_level = ACME_LOG_DEBUG;
    }
    *p = NULL;
    return acme_dns_provider_new(p, spec, &o, err);
}

/* Call the vtable directly (no core retries, no TTL clamping). */
typedef struct vt {
    acme_dns_zone zone;
    acme_dns_txt txt;
} vt;

static const acme_dns_txt *vt_txt(vt *v, const char *zone_id, const char *zone, const char *fqdn,
                                  const char *rel, const char *value, unsigned int ttl)
{
    v->zone = (acme_dns_zone){ .id = (char *)zone_id, .name = (char *)zone };
    v->txt = (acme_dns_txt){ .fqdn = fqdn, .value = value, .ttl = ttl, .zone = &v->zone,
                             .relative = rel };
    return &v->txt;
}

static int vt_create(acme_dns_provider *p, const acme_dns_txt *txt, acme_error **err)
{
    char *h = NULL;
    int rc = p->ops->create_txt(p->self, txt, &h, err);

    free(h);
    return rc;
}

/* The value of @p key in a raw query "a=1&b=2" (g_free), or NULL. */
static char *query_get(const char *query, const char *key)
{
    char **kv = g_strsplit(query, "&", -1);
    char *v = NULL;

    for (char **p = kv; *p && !v; p++) {
        char *eq = strchr(*p, '=');

        if (eq && (size_t)(eq - *p) == strlen(key) && strncmp(*p, key, strlen(key)) == 0)
            v = g_uri_unescape_string(eq + 1, NULL);
    }
    g_strfreev(kv);
    return v;
}

/* A JSON array of strings as "a,b,c". */
static char *strv_join(GPtrArray *a)
{
    GString *s = g_string_new(NULL);

    for (size_t i = 0; i < a->len; i++)
        g_string_append_printf(s, "%s%s", i ? "," : "", (char *)a->pdata[i]);
    return g_string_free(s, FALSE);
}

/* A scripted failure the mocks answer before their normal work. */
typedef struct failure {
    unsigned int count;        /* answer this many requests with it */
    unsigned int status;
    const char *headers;
    const char *body;
    const char *content_type;  /* NULL: application/json */
} failure;

static bool fail_take(failure *f, mockhttp_response *out)
{
    if (!f->count)
        return false;
    f->count--;
    out->status = f->status;
    out->headers = f->headers;
    out->body = f->body;
    out->content_type = f->content_type ? f->content_type : "application/json";
    return true;
}

/* ================================================================== */
/* OVH signature vectors (research notes 2.10.2, go-ovh's test suite)  */
/* ================================================================== */

static void test_ovh_vectors(void)
{
    static const struct {
        const char *method, *body, *sig;
    } v[] = {
        { "GET", "", "$1$e9556054b6309771395efa467c22e627407461ad" },
        { "POST", "{\"a\":\"b\",\"c\":\"d\"}", "$1$ec2fb5c7a81f64723c77d2e5b609ae6f58a84fc1" },
        { "PUT", "{\"a\":\"b\",\"c\":\"d\"}", "$1$8a75a9e7c8e7296c9dbeda6a2a735eb6bd58ec4b" },
        { "DELETE", "", "$1$a1eecd00b3b02b6cf5708b84b9ff42059a950d85" },
    };
    acme_error *err = NULL;
    char *sig = NULL;

    for (size_t i = 0; i < G_N_ELEMENTS(v); i++) {
        dnsmock_expect(acme__ovh_signature(&sig, "9ufkBmLaTQ9nz5yMUlg79taH0GNnzDjk",
                                   "5mBuy6SUQcRw2ZUxg0cG68BoDKpED4KY", v[i].method,
                                   "https://eu.api.ovh.com/1.0/auth", v[i].body,
                                   strlen(v[i].body), 1457018875, &err),
               &err, ACME_OK);
        g_assert_cmpstr(sig, ==, v[i].sig);
        free(sig);
    }
    /* No body is the empty body. */
    dnsmock_expect(acme__ovh_signature(&sig, "9ufkBmLaTQ9nz5yMUlg79taH0GNnzDjk",
                               "5mBuy6SUQcRw2ZUxg0cG68BoDKpED4KY", "GET",
                               "https://eu.api.ovh.com/1.0/auth", NULL, 0, 1457018875, &err),
           &err, ACME_OK);
    g_assert_cmpstr(sig, ==, v[0].sig);
    free(sig);
    dnsmock_expect(acme__ovh_signature(&sig, NULL, "ck", "GET", "u", NULL, 0, 1, &err), &err,
           ACME_E_INVALID);
    g_assert_null(sig);
    dnsmock_clear(&err);
}

/* ================================================================== */
/* Gandi LiveDNS                                                        */
/* ================================================================== */

typedef struct mgandi {
    mockhttp *m;
    GMutex lock;
    const char *auth;          /* the Authorization header it accepts */
    GPtrArray *zones;          /* names */
    GHashTable *rrsets;        /* "zone/name" -> GPtrArray of values (as stored) */
    GHashTable *ttls;          /* "zone/name" -> ttl */
    bool quote_out;            /* answer values quoted, as LiveDNS is said to */
    bool ignore_paging;        /* answer every zone on every page */
    failure fail;
} mgandi;

static void gandi_json(mockhttp_response *out, unsigned int status, const char *body)
{
    out->status = status;
    out->content_type = "application/json";
    out->body = body;
}

static void mgandi_handler(void *userdata, const mockhttp_request *req, mockhttp_response *out)
{
    mgandi *g = userdata;
    const char *auth = mockhttp_request_header(req, "Authorization");
    char **parts = g_strsplit(req->path, "/", -1); /* "", "domains", zone, "records", name, "TXT" */
    guint np = g_strv_length(parts);

    g_mutex_lock(&g->lock);
    g_assert_cmpstr(mockhttp_request_header(req, "Accept"), ==, "application/json");
    if (!auth || strcmp(auth, g->auth) != 0) {
        gandi_json(out, 401,
                   "{\"code\":401,\"message\":\"The server could not verify that you are "
                   "authorized\",\"object\":\"HTTPUnauthorized\",\"cause\":\"Unauthorized\"}");
    } else if (fail_take(&g->fail, out)) {
    } else if (strcmp(req->method, "GET") == 0 && strcmp(req->path, "/domains") == 0) {
        char *page = query_get(req->query, "page"), *per = query_get(req->query, "per_page");
        size_t pg = page ? strtoul(page, NULL, 10) : 1, pp = per ? strtoul(per, NULL, 10) : 100;
        GString *s = g_string_new("[");
        bool first = true;

        g_assert_cmpuint(pg, >=, 1);
        for (size_t i = 0; i < g->zones->len; i++) {
            if (!g->ignore_paging && (i < (pg - 1) * pp || i >= pg * pp))
                continue;
            g_string_append_printf(s, "%s{\"fqdn\":\"%s\",\"automatic_snapshots\":false}",
                                   first ? "" : ",", (char *)g->zones->pdata[i]);
            first = false;
        }
        g_string_append(s, "]");
        out->body = mockhttp_strdup(g->m, "%s", s->str);
        out->content_type = "application/json";
        out->headers = mockhttp_strdup(g->m, "Total-Count: %u", g->zones->len);
        g_string_free(s, TRUE);
        g_free(page);
        g_free(per);
    } else if (np == 6 && strcmp(parts[1], "domains") == 0 && strcmp(parts[3], "records") == 0 &&
               strcmp(parts[5], "TXT") == 0) {
        bool known = false;
        char *key = g_strdup_printf("%s/%s", parts[2], parts[4]);
        GPtrArray *vals = g_hash_table_lookup(g->rrsets, key);

        for (size_t i = 0; i < g->zones->len; i++)
            known |= strcmp(g->zones->pdata[i], parts[2]) == 0;
        if (!known) {
            gandi_json(out, 404,
                       "{\"code\":404,\"message\":\"Unknown zone\",\"object\":"
                       "\"LocalizedHTTPNotFound\",\"cause\":\"Not Found\"}");
        } else if (strcmp(req->method, "GET") == 0) {
            if (!vals) {
                gandi_json(out, 404,
                           "{\"code\":404,\"message\":\"Record not found\",\"object\":"
                           "\"LocalizedHTTPNotFound\",\"cause\":\"Not Found\"}");
            } else {
                GString *s = g_string_new(NULL);

                g_string_append_printf(s,
                                       "{\"rrset_name\":\"%s\",\"rrset_type\":\"TXT\","
                                       "\"rrset_ttl\":%u,\"rrset_values\":[",
                                       parts[4],
                                       GPOINTER_TO_UINT(g_hash_table_lookup(g->ttls, key)));
                for (size_t i = 0; i < vals->len; i++)
                    g_string_append_printf(s, g->quote_out ? "%s\"\\\"%s\\\"\"" : "%s\"%s\"",
                                           i ? "," : "", (char *)vals->pdata[i]);
                g_string_append_printf(s, "],\"rrset_href\":\"http://x/%s\"}", key);
                out->body = mockhttp_strdup(g->m, "%s", s->str);
                out->content_type = "application/json";
                g_string_free(s, TRUE);
            }
        } else if (strcmp(req->method, "PUT") == 0) {
            json_object *o = json_tokener_parse(req->body), *ttl, *values;

            g_assert_cmpstr(mockhttp_request_header(req, "Content-Type"), ==,
                            "application/json");
            g_assert_nonnull(o);
            /* Exactly rrset_ttl and rrset_values. */
            g_assert_cmpint(json_object_object_length(o), ==, 2);
            g_assert_true(json_object_object_get_ex(o, "rrset_ttl", &ttl));
            g_assert_true(json_object_is_type(ttl, json_type_int));
            g_assert_true(json_object_object_get_ex(o, "rrset_values", &values));
            g_assert_true(json_object_is_type(values, json_type_array));
            if (json_object_get_int(ttl) < 300) {
                gandi_json(out, 400,
                           "{\"code\":400,\"message\":\"Bad Request\",\"cause\":\"Bad Request\","
                           "\"errors\":[{\"location\":\"body\",\"name\":\"rrset_ttl\","
                           "\"description\":\"must be >= 300\"}]}");
            } else {
                GPtrArray *nv = g_ptr_array_new_with_free_func(g_free);

                for (size_t i = 0; i < json_object_array_length(values); i++) {
                    const char *s = json_object_get_string(json_object_array_get_idx(values, i));
                    size_t len = strlen(s);

                    /* Stored unquoted (a quoted value is taken as quoted text). */
                    if (len >= 2 && s[0] == '"' && s[len - 1] == '"')
                        g_ptr_array_add(nv, g_strndup(s + 1, len - 2));
                    else
                        g_ptr_array_add(nv, g_strdup(s));
                }
                g_hash_table_replace(g->rrsets, g_strdup(key), nv);
                g_hash_table_replace(g->ttls, g_strdup(key),
                                     GUINT_TO_POINTER((guint)json_object_get_int(ttl)));
                gandi_json(out, 201, "{\"message\":\"DNS Record Created\"}");
            }
            json_object_put(o);
        } else if (strcmp(req->method, "DELETE") == 0) {
            if (vals) {
                g_hash_table_remove(g->rrsets, key);
                out->status = 204;
            } else {
                gandi_json(out, 404, "{\"code\":404,\"message\":\"Record not found\"}");
            }
        } else {
            gandi_json(out, 405, "{\"code\":405,\"message\":\"Method Not Allowed\"}");
        }
        g_free(key);
    } else {
        gandi_json(out, 404, "{\"code\":404,\"message\":\"Not Found\"}");
    }
    g_mutex_unlock(&g->lock);
    g_strfreev(parts);
}

static mgandi *mgandi_new(const char *auth)
{
    mgandi *g = g_new0(mgandi, 1);

    g_mutex_init(&g->lock);
    g->auth = auth;
    g->zones = g_ptr_array_new();
    g_ptr_array_add(g->zones, "example.org");
    g_ptr_array_add(g->zones, "example.com");
    g_ptr_array_add(g->zones, "sub.example.com");
    g->rrsets = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                      (GDestroyNotify)g_ptr_array_unref);
    g->ttls = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g->m = mockhttp_new();
    mockhttp_set_handler(g->m, mgandi_handler, g);
    return g;
}

static void mgandi_free(mgandi *g)
{
    mockhttp_free(g->m);
    g_ptr_array_free(g->zones, TRUE);
    g_hash_table_destroy(g->rrsets);
    g_hash_table_destroy(g->ttls);
    g_mutex_clear(&g->lock);
    g_free(g);
}

static char *mgandi_values(mgandi *g, const char *key)
{
    GPtrArray *v;
    char *s;

    g_mutex_lock(&g->lock);
    v = g_hash_table_lookup(g->rrsets, key);
    s = v ? strv_join(v) : g_strdup("(none)");
    g_mutex_unlock(&g->lock);
    return s;
}

static acme_dns_provider *mgandi_provider(mgandi *g, const char *cred_setting, dnsmock_log *l)
{
    acme_dns_provider *p = NULL;
    acme_error *err = NULL;
    char *url = mockhttp_url(g->m, "/");
    char *s_url = g_strdup_printf("base_url=%s", url);
    const char *settings[] = { s_url, cred_setting, "page_size=1", NULL };

    dnsmock_expect(prov_new(&p, "gandi_live", settings, l, &err), &err, ACME_OK);
    g_assert_cmpstr(acme_dns_provider_name(p), ==, "gandiv5");
    g_free(url);
    g_free(s_url);
    return p;
}

static const mockhttp_request *last_req(mockhttp *m)
{
    return mockhttp_request_get(m, mockhttp_request_count(m) - 1);
}

static void test_gandi(void)
{
    static const char *const secrets[] = { SECRET, NULL };
    mgandi *g = mgandi_new("Bearer " SECRET);
    dnsmock_log *l = dnsmock_log_new();
    acme_dns_provider *p = mgandi_provider(g, "personal_access_token=" SECRET, l);
    acme_error *err = NULL;
    const mockhttp_request *req;
    char *s, *zone = NULL;
    size_t n;
    vt v;

    /* Zones, one per page: three pages and a last empty one is not needed (Total-Count). */
    dnsmock_expect(acme_dns_provider_find_zone(&zone, p, "_acme-challenge.www.sub.example.com", &err),
           &err, ACME_OK);
    g_assert_cmpstr(zone, ==, "sub.example.com");
    acme_free(zone);
    g_assert_cmpuint(mockhttp_request_count(g->m), ==, 3);
    for (size_t i = 0; i < 3; i++) {
        char *want = g_strdup_printf("page=%zu&per_page=1", i + 1);

        req = mockhttp_request_get(g->m, i);
        g_assert_cmpstr(req->method, ==, "GET");
        g_assert_cmpstr(req->path, ==, "/domains");
        g_assert_cmpstr(req->query, ==, want);
        g_assert_cmpstr(mockhttp_request_header(req, "Authorization"), ==, "Bearer " SECRET);
        g_free(want);
    }
    /* Longest zone; label boundary. */
    dnsmock_expect(acme_dns_provider_find_zone(&zone, p, "_acme-challenge.badsub.example.com", &err),
           &err, ACME_OK);
    g_assert_cmpstr(zone, ==, "example.com");
    acme_free(zone);

    /* Two values at one name (wildcard + apex): GET, PUT with all values. */
    dnsmock_expect(acme_dns_provider_txt_add(p, "_acme-challenge.example.com", V1, 0, &err), &err,
           ACME_OK);
    req = last_req(g->m);
    g_assert_cmpstr(req->method, ==, "PUT");
    g_assert_cmpstr(req->path, ==, "/domains/example.com/records/_acme-challenge/TXT");
    g_assert_cmpstr(req->body, ==, "{\"rrset_ttl\":300,\"rrset_values\":[\"" V1 "\"]}");
    req = mockhttp_request_get(g->m, mockhttp_request_count(g->m) - 2);
    g_assert_cmpstr(req->method, ==, "GET");
    g_assert_cmpstr(req->path, ==, "/domains/example.com/records/_acme-challenge/TXT");
    /* A TTL under LiveDNS's minimum is raised to 300 by the core. */
    dnsmock_expect(acme_dns_provider_txt_add(p, "_acme-challenge.example.com", V2, 60, &err), &err,
           ACME_OK);
    g_assert_cmpstr(last_req(g->m)->body, ==,
                    "{\"rrset_ttl\":300,\"rrset_values\":[\"" V1 "\",\"" V2 "\"]}");
    s = mgandi_values(g, "example.com/_acme-challenge");
    g_assert_cmpstr(s, ==, V1 "," V2);
    g_free(s);
    /* Idempotent: nothing written for a value already there. */
    n = mockhttp_request_count(g->m);
    dnsmock_expect(acme_dns_provider_txt_add(p, "_acme-challenge.example.com", V2, 0, &err), &err,
           ACME_OK);
    g_assert_cmpuint(mockhttp_request_count(g->m), ==, n + 1);
    g_assert_cmpstr(last_req(g->m)->method, ==, "GET");
    /* A deeper name: the relative name in the path. */
    dnsmock_expect(acme_dns_provider_txt_add(p, "_acme-challenge.www.sub.example.com", V3, 0, &err), &err,
           ACME_OK);
    g_assert_cmpstr(last_req(g->m)->path, ==,
                    "/domains/sub.example.com/records/_acme-challenge.www/TXT");

    /* Remove one: PUT the other (values come back quoted now: compared unquoted). */
    g->quote_out = true;
    dnsmock_expect(acme_dns_provider_txt_remove(p, "_acme-challenge.example.com", V1, &err), &err,
           ACME_OK);
    req = last_req(g->m);
    g_assert_cmpstr(req->method, ==, "PUT");
    g_assert_cmpstr(req->body, ==, "{\"rrset_ttl\":300,\"rrset_values\":[\"\\\"" V2 "\\\"\"]}");
    s = mgandi_values(g, "example.com/_acme-challenge");
    g_assert_cmpstr(s, ==, V2);
    g_free(s);
    /* Remove the last: DELETE.  Again: absent, success, only a GET. */
    dnsmock_expect(acme_dns_provider_txt_remove(p, "_acme-challenge.example.com", V2, &err), &err,
           ACME_OK);
    g_assert_cmpstr(last_req(g->m)->method, ==, "DELETE");
    g_assert_cmpstr(last_req(g->m)->path, ==, "/domains/example.com/records/_acme-challenge/TXT");
    s = mgandi_values(g, "example.com/_acme-challenge");
    g_assert_cmpstr(s, ==, "(none)");
    g_free(s);
    n = mockhttp_request_count(g->m);
    dnsmock_expect(acme_dns_provider_txt_remove(p, "_acme-challenge.example.com", V2, &err), &err,
           ACME_OK);
    g_assert_cmpuint(mockhttp_request_count(g->m), ==, n + 1);
    g_assert_cmpstr(last_req(g->m)->method, ==, "GET");
    g->quote_out = false;

    /* Outside every zone. */
    dnsmock_expect(acme_dns_provider_txt_add(p, "_acme-challenge.example.net", V1, 0, &err), &err,
           ACME_E_ZONENOTFOUND);
    dnsmock_clear(&err);

    /* Through the vtable: errors without the core's retries. */
    vt_txt(&v, "example.com", "example.com", "_acme-challenge.example.com", "_acme-challenge", V1,
           300);
    g->fail = (failure){ 1, 429, "Retry-After: 7", "{\"code\":429,\"message\":\"Too Many "
                                                    "Requests\"}", NULL };
    dnsmock_expect(vt_create(p, &v.txt, &err), &err, ACME_E_RATELIMITED);
    g_assert_cmpint(acme_error_retry_after(err), ==, 7);
    g_assert_cmpint(acme_error_http_status(err), ==, 429);
    dnsmock_clear(&err);
    g->fail = (failure){ 1, 503, NULL, "<html>Service Unavailable</html>", "text/html" };
    dnsmock_expect(vt_create(p, &v.txt, &err), &err, ACME_E_NETWORK);
    g_assert_cmpint(acme_error_http_status(err), ==, 503);
    dnsmock_clear(&err);
    g->fail = (failure){ 1, 200, NULL, "{\"rrset_values\": [", NULL };
    dnsmock_expect(vt_create(p, &v.txt, &err), &err, ACME_E_PROTOCOL);
    dnsmock_clear(&err);
    g->fail = (failure){ 1, 200, NULL, "{\"rrset_name\": \"x\"}", NULL };
    dnsmock_expect(vt_create(p, &v.txt, &err), &err, ACME_E_PROTOCOL);
    dnsmock_clear(&err);
    g->fail = (failure){ 1, 200, NULL, "{\"not\": \"a list\"}", NULL };
    {
        acme_dns_zone_list zl = ACME_DNS_ZONE_LIST_INIT;

        dnsmock_expect(p->ops->list_zones(p->self, &zl, &err), &err, ACME_E_PROTOCOL);
        dnsmock_clear(&err);
        acme_dns_zone_list_clear(&zl);
    }
    /* The API's own TTL check (the vtable gets what it is given). */
    vt_txt(&v, "example.com", "example.com", "_acme-challenge.example.com", "_acme-challenge", V1,
           60);
    dnsmock_expect(vt_create(p, &v.txt, &err), &err, ACME_E_REJECTED);
    g_assert_cmpint(acme_error_http_status(err), ==, 400);
    dnsmock_clear(&err);
    /* An unknown zone. */
    vt_txt(&v, "nope.test", "nope.test", "_acme-challenge.nope.test", "_acme-challenge", V1, 300);
    dnsmock_expect(vt_create(p, &v.txt, &err), &err, ACME_E_ZONENOTFOUND);
    dnsmock_clear(&err);
    /* Rate limits through the core: a long Retry-After goes up at once. */
    g->fail = (failure){ 1, 429, "Retry-After: 3600", "{\"message\":\"slow down\"}", NULL };
    dnsmock_expect(acme_dns_provider_txt_add(p, "_acme-challenge.example.com", V1, 0, &err), &err,
           ACME_E_RATELIMITED);
    g_assert_cmpint(acme_error_retry_after(err), ==, 3600);
    dnsmock_clear(&err);
    assert_no_secret(NULL, l, secrets);
    acme_dns_provider_free(p);

    /* Wrong token: AUTH, and the token is in no message and no log line. */
    p = mgandi_provider(g, "personal_access_token=wrong-" SECRET, l);
    dnsmock_expect(acme_dns_provider_txt_add(p, "_acme-challenge.example.com", V1, 0, &err), &err,
           ACME_E_AUTH);
    assert_no_secret(err, l, secrets);
    dnsmock_clear(&err);
    acme_dns_provider_free(p);

    /* The deprecated API key: "Apikey". */
    g->auth = "Apikey " SECRET;
    p = mgandi_provider(g, "api_key=" SECRET, l);
    dnsmock_expect(acme_dns_provider_txt_add(p, "_acme-challenge.example.org", V1, 0, &err), &err,
           ACME_OK);
    g_assert_cmpstr(mockhttp_request_header(last_req(g->m), "Authorization"), ==,
                    "Apikey " SECRET);
    s = mgandi_values(g, "example.org/_acme-challenge");
    g_assert_cmpstr(s, ==, V1);
    g_free(s);
    acme_dns_provider_free(p);

    /* A server that ignores paging: the listing stops at the repeated page. */
    g->ignore_paging = true;
    p = mgandi_provider(g, "api_key=" SECRET, l);
    n = mockhttp_request_count(g->m);
    dnsmock_expect(acme_dns_provider_find_zone(&zone, p, "_acme-challenge.sub.example.com", &err), &err,
           ACME_OK);
    g_assert_cmpstr(zone, ==, "sub.example.com");
    acme_free(zone);
    g_assert_cmpuint(mockhttp_request_count(g->m) - n, <=, 2);
    acme_dns_provider_free(p);

    /* Settings checked before any request. */
    {
        const char *none[] = { "base_url=http://127.0.0.1:1/", NULL };
        const char *bad[] = { "api_key=x", "base_url=ftp://h/", NULL };
        const char *page[] = { "api_key=x", "page_size=0", NULL };

        dnsmock_expect(prov_new(&p, "gandiv5", none, NULL, &err), &err, ACME_E_INVALID);
        g_assert_nonnull(strstr(acme_error_message(err), "GANDIV5_PERSONAL_ACCESS_TOKEN"));
        dnsmock_clear(&err);
        dnsmock_expect(prov_new(&p, "gandi", bad, NULL, &err), &err, ACME_E_INVALID);
        dnsmock_clear(&err);
        dnsmock_expect(prov_new(&p, "gandi", page, NULL, &err), &err, ACME_E_INVALID);
        dnsmock_clear(&err);
    }
    assert_no_secret(NULL, l, secrets);
    dnsmock_log_free(l);
    mgandi_free(g);
}

/* The environment: lego's variable names. */
static void test_gandi_env(void)
{
    mgandi *g = mgandi_new("Bearer " SECRET);
    char *url = mockhttp_url(g->m, "");
    char *e_url = g_strdup_printf("GANDIV5_BASE_URL=%s", url);
    const char *env[] = { "GANDIV5_PERSONAL_ACCESS_TOKEN=" SECRET, e_url, "GANDIV5_TTL=900",
                          NULL };
    acme_dns_provider_options o = ACME_DNS_PROVIDER_OPTIONS_INIT;
    acme_dns_provider *p = NULL;
    acme_error *err = NULL;

    o.environ = env;
    dnsmock_expect(acme_dns_provider_new(&p, "gandiv5", &o, &err), &err, ACME_OK);
    g_assert_null(acme_dns_provider_setting(p, "personal_access_token"));
    dnsmock_expect(acme_dns_provider_txt_add(p, "_acme-challenge.example.com", V1, 0, &err), &err,
           ACME_OK);
    g_assert_cmpstr(last_req(g->m)->body, ==, "{\"rrset_ttl\":900,\"rrset_values\":[\"" V1 "\"]}");
    acme_dns_provider_free(p);
    g_free(e_url);
    g_free(url);
    mgandi_free(g);
}

static void test_gandi_responder(void)
{
    mgandi *g = mgandi_new("Bearer " SECRET);
    acme_dns_provider *p = mgandi_provider(g, "personal_access_token=" SECRET, NULL);
    acme_dns01_options o = ACME_DNS01_OPTIONS_INIT;
    acme_responder *r = NULL;
    acme_error *err = NULL;
    char *v1 = NULL, *v2 = NULL, *want, *s;

    o.no_propagation_check = true;
    o.no_cname = true;
    o.settle_delay_ms = ACME_DNS01_NONE;
    dnsmock_expect(acme_responder_dns01_new(&r, p, &o, &err), &err, ACME_OK);
    dnsmock_expect(acme_dns01_txt_value(&v1, KA1, &err), &err, ACME_OK);
    dnsmock_expect(acme_dns01_txt_value(&v2, KA2, &err), &err, ACME_OK);
    dnsmock_expect(r->ops->start(r->self, "example.com", NULL, KA1, &err), &err, ACME_OK);
    dnsmock_expect(r->ops->start(r->self, "*.example.com", NULL, KA2, &err), &err, ACME_OK);
    s = mgandi_values(g, "example.com/_acme-challenge");
    want = g_strdup_printf("%s,%s", v1, v2);
    g_assert_cmpstr(s, ==, want);
    g_free(want);
    g_free(s);
    r->ops->stop(r->self, "example.com", NULL, KA1);
    s = mgandi_values(g, "example.com/_acme-challenge");
    g_assert_cmpstr(s, ==, v2);
    g_free(s);
    r->ops->stop(r->self, "*.example.com", NULL, KA2);
    s = mgandi_values(g, "example.com/_acme-challenge");
    g_assert_cmpstr(s, ==, "(none)");
    g_free(s);
    acme_responder_free(r);
    acme_dns_provider_free(p);
    acme_free(v1);
    acme_free(v2);
    mgandi_free(g);
}

/* ================================================================== */
/* OVHcloud                                                             */
/* ================================================================== */

#define OVH_AK "appkey-1234"
#define OVH_AS "9ufkBmLaTQ9nz5yMUlg79taH0GNnzDjk"
#define OVH_CK "5mBuy6SUQcRw2ZUxg0cG68BoDKpED4KY"
#define OVH_CID "client-id-42"
#define OVH_CSEC "client-SECRET-never-printed"
#define OVH_TOKEN "oauth2-TOKEN-never-printed"
/* The mock's clock runs this far behind the test's: the client must use the server's. */
#define OVH_SKEW 1000

typedef struct ovhrec {
    guint id;
    char *zone, *sub, *target;
    int ttl;
} ovhrec;

typedef struct movh {
    mockhttp *m;
    GMutex lock;
    const char *as;            /* the application secret it checks signatures with */
    GPtrArray *records;        /* of ovhrec */
    GPtrArray *published;      /* "zone sub target" at the last refresh */
    guint next_id;
    unsigned int refreshes, time_calls, token_calls;
    bool bearer;               /* expect Authorization: Bearer OVH_TOKEN instead of signatures */
    bool string_ids;           /* answer ids as strings */
    failure fail;
} movh;

static void ovhrec_free(gpointer p)
{
    ovhrec *r = p;

    g_free(r->zone);
    g_free(r->sub);
    g_free(r->target);
    g_free(r);
}

static void ovh_json(mockhttp_response *out, unsigned int status, const char *body)
{
    out->status = status;
    out->content_type = "application/json; charset=utf-8";
    out->body = body;
}

/* Check the four X-Ovh-* headers: NULL when fine, else the error answer's body. */
static const char *movh_check_sig(movh *o, const mockhttp_request *req)
{
    const char *app = mockhttp_request_header(req, "X-Ovh-Application");
    const char *ck = mockhttp_request_header(req, "X-Ovh-Consumer");
    const char *ts = mockhttp_request_header(req, "X-Ovh-Timestamp");
    const char *sig = mockhttp_request_header(req, "X-Ovh-Signature");
    char *url, *in, *want;
    gint64 t, now = (gint64)time(NULL) - OVH_SKEW;
    bool ok;

    if (!app || !ck || !ts || !sig)
        return "{\"errorCode\":\"NOT_AUTHENTICATED\",\"httpCode\":\"401 Unauthorized\","
               "\"message\":\"You must login first\"}";
    if (strcmp(app, OVH_AK) != 0 || strcmp(ck, OVH_CK) != 0)
        return "{\"errorCode\":\"INVALID_CREDENTIAL\",\"httpCode\":\"403 Forbidden\","
               "\"message\":\"This credential is not valid\"}";
    t = g_ascii_strtoll(ts, NULL, 10);
    /* The server's clock, not the client's (loose: the test may straddle a second). */
    g_assert_cmpint(t, >=, now - 5);
    g_assert_cmpint(t, <=, now + 5);
    url = g_strdup_printf("http://127.0.0.1:%u%s%s%s", mockhttp_port(o->m), req->path,
                          *req->query ? "?" : "", req->query);
    in = g_strdup_printf("%s+%s+%s+%s+%s+%s", o->as, ck, req->method, url, req->body, ts);
    want = g_compute_checksum_for_string(G_CHECKSUM_SHA1, in, -1);
    ok = strncmp(sig, "$1$", 3) == 0 && strcmp(sig + 3, want) == 0;
    g_free(url);
    g_free(in);
    g_free(want);
    return ok ? NULL
              : "{\"errorCode\":\"INVALID_SIGNATURE\",\"httpCode\":\"400 Bad Request\","
                "\"message\":\"Invalid signature\"}";
}

static GString *ovhrec_json(const ovhrec *r, bool string_id)
{
    GString *s = g_string_new(NULL);

    g_string_append_printf(s,
                           string_id ? "{\"id\":\"%u\",\"zone\":\"%s\",\"subDomain\":\"%s\","
                                       "\"fieldType\":\"TXT\",\"target\":\"%s\",\"ttl\":%d}"
                                     : "{\"id\":%u,\"zone\":\"%s\",\"subDomain\":\"%s\","
                                       "\"fieldType\":\"TXT\",\"target\":\"%s\",\"ttl\":%d}",
                           r->id, r->zone, r->sub, r->target, r->ttl);
    return s;
}

static void movh_handler(void *userdata, const mockhttp_request *req, mockhttp_response *out)
{
    movh *o = userdata;
    char **parts = g_strsplit(req->path, "/", -1); /* "", "1.0", "domain", "zone", z, ... */
    guint np = g_strv_length(parts);
    const char *bad;

    g_mutex_lock(&o->lock);
    if (strcmp(req->path, "/oauth2/token") == 0) {
        char *basic = g_base64_encode((const guchar *)OVH_CID ":" OVH_CSEC,
                                      strlen(OVH_CID ":" OVH_CSEC));
        char *want = g_strdup_printf("Basic %s", basic);
        const char *auth = mockhttp_request_header(req, "Authorization");

        o->token_calls++;
        g_assert_cmpstr(req->method, ==, "POST");
        g_assert_cmpstr(mockhttp_request_header(req, "Content-Type"), ==,
                        "application/x-www-form-urlencoded");
        g_assert_cmpstr(req->body, ==, "grant_type=client_credentials&scope=all");
        if (auth && strcmp(auth, want) == 0)
            ovh_json(out, 200,
                     "{\"access_token\":\"" OVH_TOKEN "\",\"token_type\":\"Bearer\","
                     "\"expires_in\":3599,\"scope\":\"all\"}");
        else
            ovh_json(out, 401, "{\"error\":\"invalid_client\",\"error_description\":\"bad "
                               "client credentials\"}");
        g_free(basic);
        g_free(want);
        goto out;
    }
    if (np < 2 || strcmp(parts[1], "1.0") != 0) {
        ovh_json(out, 404, "{\"message\":\"Not Found\"}");
        goto out;
    }
    if (strcmp(req->path, "/1.0/auth/time") == 0 && strcmp(req->method, "GET") == 0) {
        o->time_calls++;
        /* Unauthenticated. */
        g_assert_null(mockhttp_request_header(req, "X-Ovh-Signature"));
        out->body = mockhttp_strdup(o->m, "%lld", (long long)time(NULL) - OVH_SKEW);
        out->content_type = "application/json";
        goto out;
    }
    g_assert_cmpstr(mockhttp_request_header(req, "Accept"), ==, "application/json");
    if (*req->body)
        g_assert_cmpstr(mockhttp_request_header(req, "Content-Type"), ==,
                        "application/json;charset=utf-8");
    if (o->bearer) {
        const char *auth = mockhttp_request_header(req, "Authorization");

        g_assert_null(mockhttp_request_header(req, "X-Ovh-Signature"));
        if (!auth || strcmp(auth, "Bearer " OVH_TOKEN) != 0) {
            ovh_json(out, 401, "{\"class\":\"Client::Unauthorized\",\"message\":\"Invalid "
                               "token\"}");
            goto out;
        }
    } else if ((bad = movh_check_sig(o, req))) {
        ovh_json(out, strstr(bad, "400") ? 400 : strstr(bad, "401") ? 401 : 403, bad);
        goto out;
    }
    if (fail_take(&o->fail, out))
        goto out;
    if (strcmp(req->path, "/1.0/domain/zone") == 0 && strcmp(req->method, "GET") == 0) {
        ovh_json(out, 200, "[\"example.org\",\"example.com\",\"sub.example.com\"]");
    } else if (np >= 5 && strcmp(parts[2], "domain") == 0 && strcmp(parts[3], "zone") == 0 &&
               (strcmp(parts[4], "example.com") == 0 || strcmp(parts[4], "sub.example.com") == 0 ||
                strcmp(parts[4], "example.org") == 0)) {
        const char *zone = parts[4];

        if (np == 6 && strcmp(parts[5], "refresh") == 0 && strcmp(req->method, "POST") == 0) {
            g_assert_cmpstr(req->body, ==, "");
            o->refreshes++;
            g_ptr_array_set_size(o->published, 0);
            for (size_t i = 0; i < o->records->len; i++) {
                ovhrec *r = o->records->pdata[i];

                g_ptr_array_add(o->published,
                                g_strdup_printf("%s %s %s", r->zone, r->sub, r->target));
            }
            ovh_json(out, 200, "null");
        } else if (np == 6 && strcmp(parts[5], "record") == 0 && strcmp(req->method, "GET") == 0) {
            char *ft = query_get(req->query, "fieldType"), *sd = query_get(req->query, "subDomain");
            GString *s = g_string_new("[");
            bool first = true;

            /* The client filters by type and name: the query is exactly this. */
            g_assert_cmpstr(ft, ==, "TXT");
            g_assert_nonnull(sd);
            for (size_t i = 0; i < o->records->len; i++) {
                ovhrec *r = o->records->pdata[i];

                if (strcmp(r->zone, zone) != 0 || strcmp(r->sub, sd) != 0)
                    continue;
                g_string_append_printf(s, o->string_ids ? "%s\"%u\"" : "%s%u", first ? "" : ",",
                                       r->id);
                first = false;
            }
            g_string_append(s, "]");
            ovh_json(out, 200, mockhttp_strdup(o->m, "%s", s->str));
            g_string_free(s, TRUE);
            g_free(ft);
            g_free(sd);
        } else if (np == 6 && strcmp(parts[5], "record") == 0 &&
                   strcmp(req->method, "POST") == 0) {
            json_object *b = json_tokener_parse(req->body);
            ovhrec *r = g_new0(ovhrec, 1);
            GString *s;

            g_assert_nonnull(b);
            g_assert_cmpint(json_object_object_length(b), ==, 4);
            g_assert_cmpstr(json_object_get_string(json_object_object_get(b, "fieldType")), ==,
                            "TXT");
            r->id = o->next_id++;
            r->zone = g_strdup(zone);
            r->sub = g_strdup(json_object_get_string(json_object_object_get(b, "subDomain")));
            r->target = g_strdup(json_object_get_string(json_object_object_get(b, "target")));
            r->ttl = json_object_get_int(json_object_object_get(b, "ttl"));
            g_ptr_array_add(o->records, r);
            s = ovhrec_json(r, o->string_ids);
            ovh_json(out, 200, mockhttp_strdup(o->m, "%s", s->str));
            g_string_free(s, TRUE);
            json_object_put(b);
        } else if (np == 7 && strcmp(parts[5], "record") == 0) {
            guint id = (guint)g_ascii_strtoull(parts[6], NULL, 10);
            ovhrec *r = NULL;
            size_t i;

            for (i = 0; i < o->records->len && !r; i++)
                if (((ovhrec *)o->records->pdata[i])->id == id &&
                    strcmp(((ovhrec *)o->records->pdata[i])->zone, zone) == 0)
                    r = o->records->pdata[i];
            if (!r) {
                ovh_json(out, 404, "{\"class\":\"Client::NotFound\",\"message\":\"This service "
                                   "does not exist\"}");
            } else if (strcmp(req->method, "GET") == 0) {
                GString *s = ovhrec_json(r, o->string_ids);

                ovh_json(out, 200, mockhttp_strdup(o->m, "%s", s->str));
                g_string_free(s, TRUE);
            } else if (strcmp(req->method, "DELETE") == 0) {
                g_ptr_array_remove_index(o->records, (guint)(i - 1));
                ovh_json(out, 200, "null");
            } else {
                ovh_json(out, 405, "{\"message\":\"Method not allowed\"}");
            }
        } else if (np == 5 && strcmp(req->method, "GET") == 0) {
            ovh_json(out, 200, mockhttp_strdup(o->m, "{\"name\":\"%s\",\"dnssecSupported\":true}",
                                               zone));
        } else {
            ovh_json(out, 404, "{\"message\":\"Not Found\"}");
        }
    } else {
        ovh_json(out, 404, "{\"class\":\"Client::NotFound\",\"message\":\"This service does not "
                           "exist\"}");
    }
out:
    g_mutex_unlock(&o->lock);
    g_strfreev(parts);
}

static movh *movh_new(void)
{
    movh *o = g_new0(movh, 1);

    g_mutex_init(&o->lock);
    o->as = OVH_AS;
    o->records = g_ptr_array_new_with_free_func(ovhrec_free);
    o->published = g_ptr_array_new_with_free_func(g_free);
    o->next_id = 1000;
    o->m = mockhttp_new();
    mockhttp_set_handler(o->m, movh_handler, o);
    return o;
}

static void movh_free(movh *o)
{
    mockhttp_free(o->m);
    g_ptr_array_free(o->records, TRUE);
    g_ptr_array_free(o->published, TRUE);
    g_mutex_clear(&o->lock);
    g_free(o);
}

static char *movh_published(movh *o)
{
    char *s;

    g_mutex_lock(&o->lock);
    s = strv_join(o->published);
    g_mutex_unlock(&o->lock);
    return s;
}

static acme_dns_provider *movh_provider(movh *o, const char *const *creds, dnsmock_log *l)
{
    acme_dns_provider *p = NULL;
    acme_error *err = NULL;
    char *url = mockhttp_url(o->m, "/1.0/");
    char *s_url = g_strdup_printf("endpoint=%s", url);
    const char *settings[8] = { s_url };
    size_t n = 1;

    for (; *creds && n < 7; creds++)
        settings[n++] = *creds;
    settings[n] = NULL;
    dnsmock_expect(prov_new(&p, "ovh", settings, l, &err), &err, ACME_OK);
    g_free(url);
    g_free(s_url);
    return p;
}

static unsigned int count_method(mockhttp *m, size_t from, const char *method, const char *path)
{
    unsigned int n = 0;

    for (size_t i = from; i < mockhttp_request_count(m); i++) {
        const mockhttp_request *r = mockhttp_request_get(m, i);

        n += strcmp(r->method, method) == 0 && (!path || strcmp(r->path, path) == 0);
    }
    return n;
}

static void test_ovh(void)
{
    static const char *const creds[] = { "application_key=" OVH_AK,
                                         "application_secret=" OVH_AS, "consumer_key=" OVH_CK,
                                         NULL };
    static const char *const secrets[] = { OVH_AS, OVH_CK, NULL };
    movh *o = movh_new();
    dnsmock_log *l = dnsmock_log_new();
    acme_dns_provider *p = movh_provider(o, creds, l);
    acme_error *err = NULL;
    const mockhttp_request *req;
    char *s, *zone = NULL;
    size_t n;
    vt v;

    /* Zone list (one array, no pages), longest match. */
    dnsmock_expect(acme_dns_provider_find_zone(&zone, p, "_acme-challenge.www.sub.example.com", &err),
           &err, ACME_OK);
    g_assert_cmpstr(zone, ==, "sub.example.com");
    acme_free(zone);
    g_assert_cmpuint(o->time_calls, ==, 1);
    req = mockhttp_request_get(o->m, 0);
    g_assert_cmpstr(req->path, ==, "/1.0/auth/time");
    req = mockhttp_request_get(o->m, 1);
    g_assert_cmpstr(req->path, ==, "/1.0/domain/zone");
    g_assert_cmpstr(mockhttp_request_header(req, "X-Ovh-Application"), ==, OVH_AK);

    /* Wildcard + apex: two records, each published by a refresh. */
    n = mockhttp_request_count(o->m);
    dnsmock_expect(acme_dns_provider_txt_add(p, "_acme-challenge.example.com", V1, 0, &err), &err,
           ACME_OK);
    req = mockhttp_request_get(o->m, n);
    g_assert_cmpstr(req->method, ==, "GET");
    g_assert_cmpstr(req->path, ==, "/1.0/domain/zone/example.com/record");
    g_assert_cmpstr(req->query, ==, "fieldType=TXT&subDomain=_acme-challenge");
    req = mockhttp_request_get(o->m, n + 1);
    g_assert_cmpstr(req->method, ==, "POST");
    g_assert_cmpstr(req->path, ==, "/1.0/domain/zone/example.com/record");
    g_assert_cmpstr(req->body, ==,
                    "{\"fieldType\":\"TXT\",\"subDomain\":\"_acme-challenge\",\"target\":\"" V1
                    "\",\"ttl\":120}");
    req = mockhttp_request_get(o->m, n + 2);
    g_assert_cmpstr(req->method, ==, "POST");
    g_assert_cmpstr(req->path, ==, "/1.0/domain/zone/example.com/refresh");
    g_assert_cmpstr(req->body, ==, "");
    dnsmock_expect(acme_dns_provider_txt_add(p, "_acme-challenge.example.com", V2, 300, &err), &err,
           ACME_OK);
    g_assert_cmpuint(o->refreshes, ==, 2);
    s = movh_published(o);
    g_assert_cmpstr(s, ==, "example.com _acme-challenge " V1 ",example.com _acme-challenge " V2);
    g_free(s);
    /* Idempotent: the value is found, nothing created. */
    n = mockhttp_request_count(o->m);
    dnsmock_expect(acme_dns_provider_txt_add(p, "_acme-challenge.example.com", V2, 0, &err), &err,
           ACME_OK);
    g_assert_cmpuint(count_method(o->m, n, "POST", NULL), ==, 0);
    g_assert_cmpuint(o->records->len, ==, 2);

    /* Remove one by its id (the handle), then refresh: the other stays. */
    n = mockhttp_request_count(o->m);
    dnsmock_expect(acme_dns_provider_txt_remove(p, "_acme-challenge.example.com", V1, &err), &err,
           ACME_OK);
    req = mockhttp_request_get(o->m, n);
    g_assert_cmpstr(req->method, ==, "DELETE");
    g_assert_cmpstr(req->path, ==, "/1.0/domain/zone/example.com/record/1000");
    g_assert_cmpstr(last_req(o->m)->path, ==, "/1.0/domain/zone/example.com/refresh");
    s = movh_published(o);
    g_assert_cmpstr(s, ==, "example.com _acme-challenge " V2);
    g_free(s);
    /* Absent: success. */
    dnsmock_expect(acme_dns_provider_txt_remove(p, "_acme-challenge.example.com", V1, &err), &err,
           ACME_OK);
    /* The clock offset is asked once per instance. */
    g_assert_cmpuint(o->time_calls, ==, 1);
    acme_dns_provider_free(p);

    /* A new instance has no handles: it finds the record by name and value (ids as strings). */
    o->string_ids = true;
    p = movh_provider(o, creds, l);
    n = mockhttp_request_count(o->m);
    dnsmock_expect(acme_dns_provider_txt_remove(p, "_acme-challenge.example.com", V2, &err), &err,
           ACME_OK);
    g_assert_cmpuint(count_method(o->m, n, "DELETE", "/1.0/domain/zone/example.com/record/1001"),
                     ==, 1);
    g_assert_cmpuint(o->records->len, ==, 0);
    s = movh_published(o);
    g_assert_cmpstr(s, ==, "");
    g_free(s);
    n = mockhttp_request_count(o->m);
    dnsmock_expect(acme_dns_provider_txt_remove(p, "_acme-challenge.example.com", V2, &err), &err,
           ACME_OK);
    g_assert_cmpuint(count_method(o->m, n, "DELETE", NULL), ==, 0);
    o->string_ids = false;

    /* Errors, through the vtable. */
    vt_txt(&v, "example.com", "example.com", "_acme-challenge.example.com", "_acme-challenge", V3,
           120);
    o->fail = (failure){ 1, 429, "Retry-After: 12", "{\"message\":\"Too many requests\"}", NULL };
    dnsmock_expect(vt_create(p, &v.txt, &err), &err, ACME_E_RATELIMITED);
    g_assert_cmpint(acme_error_retry_after(err), ==, 12);
    dnsmock_clear(&err);
    o->fail = (failure){ 1, 500, NULL, "<html><body>Internal error</body></html>", "text/html" };
    dnsmock_expect(vt_create(p, &v.txt, &err), &err, ACME_E_NETWORK);
    dnsmock_clear(&err);
    o->fail = (failure){ 1, 200, NULL, "[1000, ", NULL };
    dnsmock_expect(vt_create(p, &v.txt, &err), &err, ACME_E_PROTOCOL);
    dnsmock_clear(&err);
    o->fail = (failure){ 1, 403, NULL,
                         "{\"class\":\"Client::Forbidden\",\"message\":\"This call has not been "
                         "granted\"}",
                         NULL };
    dnsmock_expect(vt_create(p, &v.txt, &err), &err, ACME_E_AUTH);
    g_assert_cmpstr(acme_error_detail(err), ==, "This call has not been granted");
    dnsmock_clear(&err);
    o->fail = (failure){ 1, 400, NULL,
                         "{\"errorCode\":\"NOT_GRANTED_CALL\",\"httpCode\":\"400\",\"message\":"
                         "\"This call has not been granted\"}",
                         NULL };
    dnsmock_expect(vt_create(p, &v.txt, &err), &err, ACME_E_AUTH);
    dnsmock_clear(&err);
    o->fail = (failure){ 1, 400, NULL, "{\"message\":\"Invalid TTL\"}", NULL };
    dnsmock_expect(vt_create(p, &v.txt, &err), &err, ACME_E_REJECTED);
    dnsmock_clear(&err);
    /* A zone the account does not have. */
    vt_txt(&v, "nope.test", "nope.test", "_acme-challenge.nope.test", "_acme-challenge", V3, 120);
    dnsmock_expect(vt_create(p, &v.txt, &err), &err, ACME_E_NOTFOUND);
    dnsmock_clear(&err);
    assert_no_secret(NULL, l, secrets);
    acme_dns_provider_free(p);

    /* A wrong application secret: INVALID_SIGNATURE is an auth failure. */
    {
        static const char *const wrong[] = { "application_key=" OVH_AK,
                                              "application_secret=wrong-" OVH_AS,
                                              "consumer_key=" OVH_CK, NULL };
        static const char *const wrong_secrets[] = { "wrong-" OVH_AS, OVH_CK, NULL };

        p = movh_provider(o, wrong, l);
        dnsmock_expect(acme_dns_provider_txt_add(p, "_acme-challenge.example.com", V1, 0, &err), &err,
               ACME_E_AUTH);
        g_assert_cmpint(acme_error_http_status(err), ==, 400);
        assert_no_secret(err, l, wrong_secrets);
        dnsmock_clear(&err);
        acme_dns_provider_free(p);
    }
    assert_no_secret(NULL, l, secrets);
    dnsmock_log_free(l);
    movh_free(o);
}

static void test_ovh_oauth2(void)
{
    static const char *const secrets[] = { OVH_CSEC, OVH_TOKEN, NULL };
    movh *o = movh_new();
    dnsmock_log *l = dnsmock_log_new();
    char *turl = mockhttp_url(o->m, "/oauth2/token");
    char *s_turl = g_strdup_printf("token_url=%s", turl);
    const char *creds[] = { "client_id=" OVH_CID, "client_secret=" OVH_CSEC, s_turl, NULL };
    acme_dns_provider *p;
    acme_error *err = NULL;
    char *s;

    o->bearer = true;
    p = movh_provider(o, creds, l);
    dnsmock_expect(acme_dns_provider_txt_add(p, "_acme-challenge.www.example.com", V1, 0, &err), &err,
           ACME_OK);
    dnsmock_expect(acme_dns_provider_txt_add(p, "_acme-challenge.www.example.com", V2, 0, &err), &err,
           ACME_OK);
    /* One token for every call; no clock request in this mode. */
    g_assert_cmpuint(o->token_calls, ==, 1);
    g_assert_cmpuint(o->time_calls, ==, 0);
    g_assert_cmpstr(mockhttp_request_header(last_req(o->m), "Authorization"), ==,
                    "Bearer " OVH_TOKEN);
    s = movh_published(o);
    g_assert_cmpstr(s, ==,
                    "example.com _acme-challenge.www " V1 ",example.com _acme-challenge.www " V2);
    g_free(s);
    dnsmock_expect(acme_dns_provider_txt_remove(p, "_acme-challenge.www.example.com", V1, &err), &err,
           ACME_OK);
    s = movh_published(o);
    g_assert_cmpstr(s, ==, "example.com _acme-challenge.www " V2);
    g_free(s);
    acme_dns_provider_free(p);

    /* A static token. */
    {
        const char *at[] = { "access_token=" OVH_TOKEN, NULL };

        p = movh_provider(o, at, l);
        dnsmock_expect(acme_dns_provider_txt_remove(p, "_acme-challenge.www.example.com", V2, &err), &err,
               ACME_OK);
        g_assert_cmpuint(o->records->len, ==, 0);
        acme_dns_provider_free(p);
    }
    /* Refused client credentials: AUTH, no secret shown. */
    {
        const char *bad[] = { "client_id=" OVH_CID, "client_secret=wrong-" OVH_CSEC, s_turl,
                              NULL };

        p = movh_provider(o, bad, l);
        dnsmock_expect(acme_dns_provider_txt_add(p, "_acme-challenge.www.example.com", V1, 0, &err), &err,
               ACME_E_AUTH);
        assert_no_secret(err, l, secrets);
        dnsmock_clear(&err);
        acme_dns_provider_free(p);
    }
    /* Settings: exactly one way to authenticate. */
    {
        const char *both[] = { "application_key=a", "application_secret=b", "consumer_key=c",
                               "access_token=d", NULL };
        const char *partial[] = { "application_key=a", "consumer_key=c", NULL };
        const char *none[] = { NULL };
        const char *oauth_custom[] = { "endpoint=http://127.0.0.1:1/1.0", "client_id=a",
                                       "client_secret=b", NULL };
        const char *badep[] = { "endpoint=ovh-mars", "access_token=d", NULL };
        const char *known[] = { "endpoint=ovh-ca", "access_token=d", NULL };

        dnsmock_expect(prov_new(&p, "ovh", both, NULL, &err), &err, ACME_E_INVALID);
        dnsmock_clear(&err);
        dnsmock_expect(prov_new(&p, "ovh", partial, NULL, &err), &err, ACME_E_INVALID);
        g_assert_nonnull(strstr(acme_error_message(err), "OVH_APPLICATION_SECRET"));
        dnsmock_clear(&err);
        dnsmock_expect(prov_new(&p, "ovh", none, NULL, &err), &err, ACME_E_INVALID);
        dnsmock_clear(&err);
        dnsmock_expect(prov_new(&p, "ovh", oauth_custom, NULL, &err), &err, ACME_E_INVALID);
        dnsmock_clear(&err);
        dnsmock_expect(prov_new(&p, "ovh", badep, NULL, &err), &err, ACME_E_INVALID);
        dnsmock_clear(&err);
        dnsmock_expect(prov_new(&p, "ovh", known, NULL, &err), &err, ACME_OK);
        acme_dns_provider_free(p);
    }
    assert_no_secret(NULL, l, secrets);
    g_free(turl);
    g_free(s_turl);
    dnsmock_log_free(l);
    movh_free(o);
}

static void test_ovh_responder(void)
{
    static const char *const creds[] = { "application_key=" OVH_AK,
                                         "application_secret=" OVH_AS, "consumer_key=" OVH_CK,
                                         NULL };
    movh *o = movh_new();
    acme_dns_provider *p = movh_provider(o, creds, NULL);
    acme_dns01_options opt = ACME_DNS01_OPTIONS_INIT;
    acme_responder *r = NULL;
    acme_error *err = NULL;
    char *v2 = NULL, *want, *s;

    opt.no_propagation_check = true;
    opt.no_cname = true;
    opt.settle_delay_ms = ACME_DNS01_NONE;
    dnsmock_expect(acme_responder_dns01_new(&r, p, &opt, &err), &err, ACME_OK);
    dnsmock_expect(acme_dns01_txt_value(&v2, KA2, &err), &err, ACME_OK);
    dnsmock_expect(r->ops->start(r->self, "sub.example.com", NULL, KA1, &err), &err, ACME_OK);
    dnsmock_expect(r->ops->start(r->self, "*.sub.example.com", NULL, KA2, &err), &err, ACME_OK);
    g_assert_cmpuint(o->records->len, ==, 2);
    r->ops->stop(r->self, "sub.example.com", NULL, KA1);
    s = movh_published(o);
    want = g_strdup_printf("sub.example.com _acme-challenge %s", v2);
    g_assert_cmpstr(s, ==, want);
    g_free(want);
    g_free(s);
    r->ops->stop(r->self, "*.sub.example.com", NULL, KA2);
    g_assert_cmpuint(o->records->len, ==, 0);
    acme_responder_free(r);
    acme_dns_provider_free(p);
    acme_free(v2);
    movh_free(o);
}

/* ================================================================== */
/* acme-dns                                                             */
/* ================================================================== */

#define AD_USER "c36f50e8-4632-44f0-83fe-e070fef28a10"
#define AD_PASS "htB9mR9DYgcu9bX_afHF62erXaH2TS7bg9KW3F7Z"
#define AD_SUB "8e5700ea-a4bf-41c7-8a77-e990661dcc6a"
#define AD_FULL AD_SUB ".auth.example.org"
#define AD_NEWPASS "NEW-password-never-printed-xxxxxxxxxxxxxx"

typedef struct madns {
    mockhttp *m;
    GMutex lock;
    GHashTable *users;      /* username -> "password subdomain" */
    GHashTable *txt;        /* subdomain -> GPtrArray of at most two values, oldest first */
    unsigned int registers;
    failure fail;
} madns;

static void madns_handler(void *userdata, const mockhttp_request *req, mockhttp_response *out)
{
    madns *d = userdata;

    g_mutex_lock(&d->lock);
    out->content_type = "application/json";
    if (fail_take(&d->fail, out))
        goto out;
    if (strcmp(req->path, "/register") == 0 && strcmp(req->method, "POST") == 0) {
        char *sub = g_strdup_printf("a1b2c3d4-0000-4000-8000-%012u", ++d->registers);
        char *user = g_strdup_printf("user-%u", d->registers);

        g_hash_table_replace(d->users, user, g_strdup_printf("%s %s", AD_NEWPASS, sub));
        out->status = 201;
        out->body = mockhttp_strdup(d->m,
                                    "{\"username\":\"%s\",\"password\":\"%s\",\"fulldomain\":"
                                    "\"%s.auth.example.org\",\"subdomain\":\"%s\","
                                    "\"allowfrom\":[]}",
                                    user, AD_NEWPASS, sub, sub);
        g_free(sub);
    } else if (strcmp(req->path, "/update") == 0 && strcmp(req->method, "POST") == 0) {
        const char *user = mockhttp_request_header(req, "X-Api-User");
        const char *key = mockhttp_request_header(req, "X-Api-Key");
        const char *rec = user ? g_hash_table_lookup(d->users, user) : NULL;
        json_object *b = json_tokener_parse(req->body);
        const char *sub = json_object_get_string(json_object_object_get(b, "subdomain"));
        const char *txt = json_object_get_string(json_object_object_get(b, "txt"));
        char *want = rec && sub ? g_strdup_printf("%s %s", key ? key : "", sub) : NULL;

        g_assert_cmpstr(mockhttp_request_header(req, "Content-Type"), ==, "application/json");
        g_assert_nonnull(b);
        g_assert_cmpint(json_object_object_length(b), ==, 2);
        if (!want || strcmp(want, rec) != 0) {
            out->status = 401;
            out->body = "{\"error\": \"forbidden\"}";
        } else if (!txt || strlen(txt) != 43) {
            out->status = 400;
            out->body = "{\"error\": \"bad_txt\"}";
        } else {
            GPtrArray *v = g_hash_table_lookup(d->txt, sub);

            if (!v) {
                v = g_ptr_array_new_with_free_func(g_free);
                g_hash_table_insert(d->txt, g_strdup(sub), v);
            }
            /* acme-dns keeps two values: an update replaces the older. */
            if (v->len == 2)
                g_ptr_array_remove_index(v, 0);
            g_ptr_array_add(v, g_strdup(txt));
            out->body = mockhttp_strdup(d->m, "{\"txt\": \"%s\"}", txt);
        }
        g_free(want);
        json_object_put(b);
    } else {
        out->status = 404;
        out->body = "{\"error\": \"not_found\"}";
    }
out:
    g_mutex_unlock(&d->lock);
}

static madns *madns_new(void)
{
    madns *d = g_new0(madns, 1);

    g_mutex_init(&d->lock);
    d->users = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    d->txt = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                   (GDestroyNotify)g_ptr_array_unref);
    g_hash_table_insert(d->users, g_strdup(AD_USER), g_strdup(AD_PASS " " AD_SUB));
    d->m = mockhttp_new();
    mockhttp_set_handler(d->m, madns_handler, d);
    return d;
}

static void madns_free(madns *d)
{
    mockhttp_free(d->m);
    g_hash_table_destroy(d->users);
    g_hash_table_destroy(d->txt);
    g_mutex_clear(&d->lock);
    g_free(d);
}

static char *madns_values(madns *d, const char *sub)
{
    GPtrArray *v;
    char *s;

    g_mutex_lock(&d->lock);
    v = g_hash_table_lookup(d->txt, sub);
    s = v ? strv_join(v) : g_strdup("(none)");
    g_mutex_unlock(&d->lock);
    return s;
}

static acme_dns_provider *madns_provider(madns *d, const char *const *extra, dnsmock_log *l)
{
    acme_dns_provider *p = NULL;
    acme_error *err = NULL;
    char *url = mockhttp_url(d->m, "");
    char *s_url = g_strdup_printf("api_base=%s", url);
    const char *settings[8] = { s_url };
    size_t n = 1;

    for (; *extra && n < 7; extra++)
        settings[n++] = *extra;
    settings[n] = NULL;
    dnsmock_expect(prov_new(&p, "acme-dns", settings, l, &err), &err, ACME_OK);
    g_assert_cmpstr(acme_dns_provider_name(p), ==, "acmedns");
    g_free(url);
    g_free(s_url);
    return p;
}

static void test_acmedns(void)
{
    static const char *const one[] = { "username=" AD_USER, "password=" AD_PASS,
                                       "subdomain=" AD_SUB, "fulldomain=" AD_FULL, NULL };
    static const char *const secrets[] = { AD_PASS, AD_NEWPASS, NULL };
    madns *d = madns_new();
    dnsmock_log *l = dnsmock_log_new();
    acme_dns_provider *p = madns_provider(d, one, l);
    acme_error *err = NULL;
    const mockhttp_request *req;
    char *s, *zone = NULL;
    size_t n;
    vt v;

    /* The CNAME target: the zone is the acme-dns server's. */
    dnsmock_expect(acme_dns_provider_find_zone(&zone, p, AD_FULL, &err), &err, ACME_OK);
    g_assert_cmpstr(zone, ==, "auth.example.org");
    acme_free(zone);
    g_assert_cmpuint(mockhttp_request_count(d->m), ==, 0);
    /* Both values of a wildcard + apex order, at the CNAME target. */
    dnsmock_expect(acme_dns_provider_txt_add(p, AD_FULL ".", V1, 0, &err), &err, ACME_OK);
    req = last_req(d->m);
    g_assert_cmpstr(req->method, ==, "POST");
    g_assert_cmpstr(req->path, ==, "/update");
    g_assert_cmpstr(mockhttp_request_header(req, "X-Api-User"), ==, AD_USER);
    g_assert_cmpstr(mockhttp_request_header(req, "X-Api-Key"), ==, AD_PASS);
    g_assert_cmpstr(mockhttp_request_header(req, "Accept"), ==, "application/json");
    g_assert_cmpstr(req->body, ==, "{\"subdomain\":\"" AD_SUB "\",\"txt\":\"" V1 "\"}");
    dnsmock_expect(acme_dns_provider_txt_add(p, AD_FULL, V2, 0, &err), &err, ACME_OK);
    s = madns_values(d, AD_SUB);
    g_assert_cmpstr(s, ==, V1 "," V2);
    g_free(s);
    /* Posting V1 again would push V2 out: the provider knows V1 is there. */
    n = mockhttp_request_count(d->m);
    dnsmock_expect(acme_dns_provider_txt_add(p, AD_FULL, V1, 0, &err), &err, ACME_OK);
    g_assert_cmpuint(mockhttp_request_count(d->m), ==, n);
    s = madns_values(d, AD_SUB);
    g_assert_cmpstr(s, ==, V1 "," V2);
    g_free(s);
    /* No delete in the API: success without a request; both values stay until replaced. */
    dnsmock_expect(acme_dns_provider_txt_remove(p, AD_FULL, V1, &err), &err, ACME_OK);
    g_assert_cmpuint(mockhttp_request_count(d->m), ==, n);
    /* A third value replaces the oldest. */
    dnsmock_expect(acme_dns_provider_txt_add(p, AD_FULL, V3, 0, &err), &err, ACME_OK);
    s = madns_values(d, AD_SUB);
    g_assert_cmpstr(s, ==, V2 "," V3);
    g_free(s);

    /* Errors through the vtable. */
    vt_txt(&v, "auth.example.org", "auth.example.org", AD_FULL, AD_SUB, V1, 120);
    d->fail = (failure){ 1, 429, "Retry-After: 5", "{\"error\": \"too_many_requests\"}", NULL };
    dnsmock_expect(vt_create(p, &v.txt, &err), &err, ACME_E_RATELIMITED);
    g_assert_cmpint(acme_error_retry_after(err), ==, 5);
    dnsmock_clear(&err);
    d->fail = (failure){ 1, 500, NULL, "{\"error\": \"db_error\"}", NULL };
    dnsmock_expect(vt_create(p, &v.txt, &err), &err, ACME_E_NETWORK);
    g_assert_cmpstr(acme_error_detail(err), ==, "db_error");
    dnsmock_clear(&err);
    d->fail = (failure){ 1, 200, NULL, "{\"txt\": ", NULL };
    dnsmock_expect(vt_create(p, &v.txt, &err), &err, ACME_E_PROTOCOL);
    dnsmock_clear(&err);
    /* The server's own check: a value that is not 43 characters. */
    vt_txt(&v, "auth.example.org", "auth.example.org", AD_FULL, AD_SUB, "short", 120);
    dnsmock_expect(vt_create(p, &v.txt, &err), &err, ACME_E_REJECTED);
    g_assert_cmpstr(acme_error_detail(err), ==, "bad_txt");
    dnsmock_clear(&err);
    /* Delete is a no-op even for a value never added. */
    dnsmock_expect(p->ops->delete_txt(p->self, &v.txt, NULL, &err), &err, ACME_OK);
    {
        acme_dns_zone_list zl = ACME_DNS_ZONE_LIST_INIT;

        dnsmock_expect(p->ops->list_zones(p->self, &zl, &err), &err, ACME_OK);
        g_assert_cmpuint(zl.n, ==, 1);
        g_assert_cmpstr(zl.v[0].name, ==, "auth.example.org");
        acme_dns_zone_list_clear(&zl);
    }
    acme_dns_provider_free(p);

    /* Wrong password: AUTH; neither password anywhere. */
    {
        static const char *const bad[] = { "username=" AD_USER, "password=x" AD_PASS,
                                           "subdomain=" AD_SUB, NULL };

        p = madns_provider(d, bad, l);
        dnsmock_expect(acme_dns_provider_txt_add(p, "_acme-challenge.example.com", V1, 0, &err), &err,
               ACME_E_AUTH);
        g_assert_cmpint(acme_error_http_status(err), ==, 401);
        assert_no_secret(err, l, secrets);
        dnsmock_clear(&err);
        acme_dns_provider_free(p);
    }
    /* Settings. */
    {
        const char *none[] = { "api_base=http://127.0.0.1:1", NULL };
        const char *nourl[] = { "username=a", "password=b", "subdomain=c", NULL };
        const char *partial[] = { "api_base=http://127.0.0.1:1", "username=a", NULL };

        dnsmock_expect(prov_new(&p, "acmedns", none, NULL, &err), &err, ACME_E_INVALID);
        dnsmock_clear(&err);
        dnsmock_expect(prov_new(&p, "acmedns", nourl, NULL, &err), &err, ACME_E_INVALID);
        g_assert_nonnull(strstr(acme_error_message(err), "ACME_DNS_API_BASE"));
        dnsmock_clear(&err);
        dnsmock_expect(prov_new(&p, "acmedns", partial, NULL, &err), &err, ACME_E_INVALID);
        dnsmock_clear(&err);
    }
    assert_no_secret(NULL, l, secrets);
    dnsmock_log_free(l);
    madns_free(d);
}

/* Registration into a storage file (lego's format), then use of the stored account. */
static void test_acmedns_register(void)
{
    static const char *const secrets[] = { AD_NEWPASS, NULL };
    madns *d = madns_new();
    dnsmock_log *l = dnsmock_log_new();
    char *dir = g_dir_make_tmp("dnsp3-XXXXXX", NULL);
    char *path = g_build_filename(dir, "acme-dns.json", NULL);
    char *s_path = g_strdup_printf("storage_path=%s", path);
    const char *st[] = { s_path, NULL };
    acme_dns_provider *p = madns_provider(d, st, l);
    acme_error *err = NULL;
    json_object *o, *a;
    char *text = NULL, *full, *sub, *vals;
    struct stat sb;

    /* No account for the name: register one, save it, and ask for the CNAME. */
    dnsmock_expect(acme_dns_provider_txt_add(p, "_acme-challenge.new.example.com", V1, 0, &err), &err,
           ACME_E_INVALIDSTATE);
    g_assert_cmpuint(d->registers, ==, 1);
    g_assert_cmpstr(last_req(d->m)->path, ==, "/register");
    g_assert_nonnull(strstr(acme_error_message(err), "_acme-challenge.new.example.com"));
    g_assert_nonnull(strstr(acme_error_message(err), ".auth.example.org"));
    assert_no_secret(err, l, secrets);
    dnsmock_clear(&err);
    g_assert_cmpint(g_stat(path, &sb), ==, 0);
    g_assert_cmpint(sb.st_mode & 0777, ==, 0600);
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    o = json_tokener_parse(text);
    g_assert_nonnull(o);
    a = json_object_object_get(o, "new.example.com");
    g_assert_nonnull(a);
    g_assert_cmpstr(json_object_get_string(json_object_object_get(a, "password")), ==,
                    AD_NEWPASS);
    full = g_strdup(json_object_get_string(json_object_object_get(a, "fulldomain")));
    sub = g_strdup(json_object_get_string(json_object_object_get(a, "subdomain")));
    g_assert_nonnull(json_object_get_string(json_object_object_get(a, "username")));
    json_object_put(o);
    g_free(text);
    /* The same instance now knows the account (at the CNAME target). */
    dnsmock_expect(acme_dns_provider_txt_add(p, full, V1, 0, &err), &err, ACME_OK);
    acme_dns_provider_free(p);

    /* A new instance reads it back: by CNAME target, and by name when not followed. */
    p = madns_provider(d, st, l);
    dnsmock_expect(acme_dns_provider_txt_add(p, full, V2, 0, &err), &err, ACME_OK);
    g_assert_cmpstr(mockhttp_request_header(last_req(d->m), "X-Api-User"), ==, "user-1");
    dnsmock_expect(acme_dns_provider_txt_add(p, "_acme-challenge.new.example.com", V3, 0, &err), &err,
           ACME_OK);
    vals = madns_values(d, sub);
    g_assert_cmpstr(vals, ==, V2 "," V3);
    g_free(vals);
    g_assert_cmpuint(d->registers, ==, 1);
    /* Names it cannot register for (not _acme-challenge.*) have no zone. */
    dnsmock_expect(acme_dns_provider_txt_add(p, "other.example.net", V1, 0, &err), &err,
           ACME_E_ZONENOTFOUND);
    dnsmock_clear(&err);
    acme_dns_provider_free(p);

    /* Through the responder (CNAME not followed: the account by name). */
    {
        acme_dns01_options opt = ACME_DNS01_OPTIONS_INIT;
        acme_responder *r = NULL;
        char *v1 = NULL, *v2 = NULL, *want;

        p = madns_provider(d, st, l);
        opt.no_propagation_check = true;
        opt.no_cname = true;
        opt.settle_delay_ms = ACME_DNS01_NONE;
        dnsmock_expect(acme_responder_dns01_new(&r, p, &opt, &err), &err, ACME_OK);
        dnsmock_expect(acme_dns01_txt_value(&v1, KA1, &err), &err, ACME_OK);
        dnsmock_expect(acme_dns01_txt_value(&v2, KA2, &err), &err, ACME_OK);
        dnsmock_expect(r->ops->start(r->self, "new.example.com", NULL, KA1, &err), &err, ACME_OK);
        dnsmock_expect(r->ops->start(r->self, "*.new.example.com", NULL, KA2, &err), &err, ACME_OK);
        vals = madns_values(d, sub);
        want = g_strdup_printf("%s,%s", v1, v2);
        g_assert_cmpstr(vals, ==, want);
        g_free(want);
        g_free(vals);
        r->ops->stop(r->self, "new.example.com", NULL, KA1);
        r->ops->stop(r->self, "*.new.example.com", NULL, KA2);
        acme_responder_free(r);
        acme_dns_provider_free(p);
        acme_free(v1);
        acme_free(v2);
    }

    /* A storage file that is not an object of accounts. */
    g_assert_true(g_file_set_contents(path, "[1, 2]", -1, NULL));
    {
        char *url = mockhttp_url(d->m, "");
        char *s_url = g_strdup_printf("api_base=%s", url);
        const char *bad[] = { s_url, s_path, NULL };

        dnsmock_expect(prov_new(&p, "acmedns", bad, NULL, &err), &err, ACME_E_INVALID);
        dnsmock_clear(&err);
        g_assert_true(g_file_set_contents(path, "{\"x.com\": {\"username\": \"u\"}}", -1, NULL));
        dnsmock_expect(prov_new(&p, "acmedns", bad, NULL, &err), &err, ACME_E_INVALID);
        dnsmock_clear(&err);
        g_free(url);
        g_free(s_url);
    }
    assert_no_secret(NULL, l, secrets);
    g_unlink(path);
    g_rmdir(dir);
    g_free(full);
    g_free(sub);
    g_free(s_path);
    g_free(path);
    g_free(dir);
    dnsmock_log_free(l);
    madns_free(d);
}

/* ================================================================== */
/* exec                                                                 */
/* ================================================================== */

typedef struct execfx {
    char *dir;
    char *log;        /* what the scripts write */
    char *ok;         /* records its arguments, '|'-separated, one call per line */
} execfx;

static char *write_script(const char *dir, const char *name, const char *body)
{
    char *path = g_build_filename(dir, name, NULL);

    g_assert_true(g_file_set_contents(path, body, -1, NULL));
    g_assert_cmpint(g_chmod(path, 0700), ==, 0);
    return path;
}

static void execfx_init(execfx *f)
{
    char *body;

    f->dir = g_dir_make_tmp("dnsp3-exec-XXXXXX", NULL);
    g_assert_nonnull(f->dir);
    f->log = g_build_filename(f->dir, "calls.log", NULL);
    body = g_strdup_printf("#!/bin/sh\n"
                           "for a in \"$@\"; do printf '%%s|' \"$a\"; done >> '%s'\n"
                           "printf '%%s\\n' \"$DNSP3_PASSED\" >> '%s'\n"
                           "echo \"this output is not an error\"\n"
                           "exit 0\n",
                           f->log, f->log);
    f->ok = write_script(f->dir, "ok.sh", body);
    g_free(body);
}

static void execfx_clear(execfx *f)
{
    GDir *d = g_dir_open(f->dir, 0, NULL);
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        char *p = g_build_filename(f->dir, name, NULL);

        g_unlink(p);
        g_free(p);
    }
    if (d)
        g_dir_close(d);
    g_rmdir(f->dir);
    g_free(f->dir);
    g_free(f->log);
    g_free(f->ok);
}

/* The calls logged so far, then forget them. */
static char *calls_take(execfx *f)
{
    char *text = NULL;

    if (!g_file_get_contents(f->log, &text, NULL, NULL))
        text = g_strdup("");
    g_unlink(f->log);
    return text;
}

static acme_dns_provider *exec_provider(const char *program, const char *const *extra,
                                        acme_error **err, int *rc)
{
    char *s_prog = g_strdup_printf("program=%s", program);
    const char *settings[8] = { s_prog };
    acme_dns_provider *p = NULL;
    size_t n = 1;

    for (; extra && *extra && n < 7; extra++)
        settings[n++] = *extra;
    settings[n] = NULL;
    *rc = prov_new(&p, "exec", settings, NULL, err);
    g_free(s_prog);
    return p;
}

static void test_exec_modes(void)
{
    execfx f;
    acme_dns_provider *p;
    acme_error *err = NULL;
    char *calls, *zone = NULL;
    int rc;

    execfx_init(&f);
    /* The environment goes through. */
    g_setenv("DNSP3_PASSED", "env-ok", TRUE);

    /* lego (default): present / cleanup FQDN. VALUE. */
    {
        const char *z[] = { "zones=example.com sub.example.com", NULL };

        p = exec_provider(f.ok, z, &err, &rc);
        dnsmock_expect(rc, &err, ACME_OK);
    }
    dnsmock_expect(acme_dns_provider_find_zone(&zone, p, "_acme-challenge.www.sub.example.com", &err),
           &err, ACME_OK);
    g_assert_cmpstr(zone, ==, "sub.example.com");
    acme_free(zone);
    dnsmock_expect(acme_dns_provider_txt_add(p, "_acme-challenge.www.example.com", V1, 0, &err), &err,
           ACME_OK);
    dnsmock_expect(acme_dns_provider_txt_add(p, "_acme-challenge.www.example.com", V2, 0, &err), &err,
           ACME_OK);
    dnsmock_expect(acme_dns_provider_txt_remove(p, "_acme-challenge.www.example.com", V1, &err), &err,
           ACME_OK);
    calls = calls_take(&f);
    g_assert_cmpstr(calls, ==,
                    "present|_acme-challenge.www.example.com.|" V1 "|env-ok\n"
                    "present|_acme-challenge.www.example.com.|" V2 "|env-ok\n"
                    "cleanup|_acme-challenge.www.example.com.|" V1 "|env-ok\n");
    g_free(calls);
    /* Outside the configured zones. */
    dnsmock_expect(acme_dns_provider_txt_add(p, "_acme-challenge.example.net", V1, 0, &err), &err,
           ACME_E_ZONENOTFOUND);
    dnsmock_clear(&err);
    acme_dns_provider_free(p);

    /* uacme: begin / done dns-01 IDENT TOKEN AUTH (TOKEN empty for a bare value). */
    {
        const char *m[] = { "mode=uacme", "zones=example.com", NULL };

        p = exec_provider(f.ok, m, &err, &rc);
        dnsmock_expect(rc, &err, ACME_OK);
    }
    dnsmock_expect(acme_dns_provider_txt_add(p, "_acme-challenge.example.com", V1, 0, &err), &err,
           ACME_OK);
    dnsmock_expect(acme_dns_provider_txt_remove(p, "_acme-challenge.example.com", V1, &err), &err,
           ACME_OK);
    calls = calls_take(&f);
    g_assert_cmpstr(calls, ==,
                    "begin|dns-01|example.com||" V1 "|env-ok\n"
                    "done|dns-01|example.com||" V1 "|env-ok\n");
    g_free(calls);
    /* Through the responder, the token comes with the value. */
    {
        acme_dns01_options opt = ACME_DNS01_OPTIONS_INIT;
        acme_responder *r = NULL;
        char *v1 = NULL, *want;

        opt.no_propagation_check = true;
        opt.no_cname = true;
        opt.settle_delay_ms = ACME_DNS01_NONE;
        dnsmock_expect(acme_responder_dns01_new(&r, p, &opt, &err), &err, ACME_OK);
        dnsmock_expect(acme_dns01_txt_value(&v1, KA1, &err), &err, ACME_OK);
        dnsmock_expect(r->ops->start(r->self, "www.example.com", NULL, KA1, &err), &err, ACME_OK);
        r->ops->stop(r->self, "www.example.com", NULL, KA1);
        calls = calls_take(&f);
        want = g_strdup_printf("begin|dns-01|www.example.com|%.*s|%s|env-ok\n"
                               "done|dns-01|www.example.com|%.*s|%s|env-ok\n",
                               (int)(strchr(KA1, '.') - KA1), KA1, v1,
                               (int)(strchr(KA1, '.') - KA1), KA1, v1);
        g_assert_cmpstr(calls, ==, want);
        g_free(want);
        g_free(calls);
        acme_free(v1);
        acme_responder_free(r);
    }
    /* A name that does not start with _acme-challenge (a followed CNAME) cannot be passed on. */
    dnsmock_expect(acme_dns_provider_txt_add(p, "elsewhere.example.com", V1, 0, &err), &err,
           ACME_E_INVALID);
    g_assert_nonnull(strstr(acme_error_message(err), "no_cname"));
    dnsmock_clear(&err);
    acme_dns_provider_free(p);

    /* raw (lego EXEC_MODE=RAW): present / cleanup -- IDENT TOKEN KEY_AUTHORIZATION. */
    {
        const char *m[] = { "mode=RAW", "zones=example.com", NULL };
        acme_dns01_options opt = ACME_DNS01_OPTIONS_INIT;
        acme_responder *r = NULL;
        char *want;

        p = exec_provider(f.ok, m, &err, &rc);
        dnsmock_expect(rc, &err, ACME_OK);
        /* A bare value cannot be passed: the program wants the key authorization. */
        dnsmock_expect(acme_dns_provider_txt_add(p, "_acme-challenge.example.com", V1, 0, &err),
                       &err, ACME_E_INVALID);
        g_assert_nonnull(strstr(acme_error_message(err), "key authorization"));
        dnsmock_clear(&err);
        opt.no_propagation_check = true;
        opt.no_cname = true;
        opt.settle_delay_ms = ACME_DNS01_NONE;
        dnsmock_expect(acme_responder_dns01_new(&r, p, &opt, &err), &err, ACME_OK);
        dnsmock_expect(r->ops->start(r->self, "*.example.com", NULL, KA2, &err), &err, ACME_OK);
        r->ops->stop(r->self, "*.example.com", NULL, KA2);
        calls = calls_take(&f);
        want = g_strdup_printf("present|--|example.com|%.*s|%s|env-ok\n"
                               "cleanup|--|example.com|%.*s|%s|env-ok\n",
                               (int)(strchr(KA2, '.') - KA2), KA2, KA2,
                               (int)(strchr(KA2, '.') - KA2), KA2, KA2);
        g_assert_cmpstr(calls, ==, want);
        g_free(want);
        g_free(calls);
        acme_responder_free(r);
        acme_dns_provider_free(p);
    }

    /* mod_md: setup DOMAIN VALUE / teardown DOMAIN; through the responder. */
    {
        const char *m[] = { "mode=mod_md", "zone=example.com", NULL };
        acme_dns01_options opt = ACME_DNS01_OPTIONS_INIT;
        acme_responder *r = NULL;
        char *v1 = NULL, *v2 = NULL, *want;

        p = exec_provider(f.ok, m, &err, &rc);
        dnsmock_expect(rc, &err, ACME_OK);
        opt.no_propagation_check = true;
        opt.no_cname = true;
        opt.settle_delay_ms = ACME_DNS01_NONE;
        dnsmock_expect(acme_responder_dns01_new(&r, p, &opt, &err), &err, ACME_OK);
        dnsmock_expect(acme_dns01_txt_value(&v1, KA1, &err), &err, ACME_OK);
        dnsmock_expect(acme_dns01_txt_value(&v2, KA2, &err), &err, ACME_OK);
        dnsmock_expect(r->ops->start(r->self, "www.example.com", NULL, KA1, &err), &err, ACME_OK);
        dnsmock_expect(r->ops->start(r->self, "*.www.example.com", NULL, KA2, &err), &err, ACME_OK);
        r->ops->stop(r->self, "www.example.com", NULL, KA1);
        calls = calls_take(&f);
        want = g_strdup_printf("setup|www.example.com|%s|env-ok\n"
                               "setup|www.example.com|%s|env-ok\n"
                               "teardown|www.example.com|env-ok\n",
                               v1, v2);
        g_assert_cmpstr(calls, ==, want);
        g_free(want);
        g_free(calls);
        r->ops->stop(r->self, "*.www.example.com", NULL, KA2);
        g_free(calls_take(&f));
        acme_responder_free(r);
        acme_dns_provider_free(p);
        acme_free(v1);
        acme_free(v2);
    }
    g_unsetenv("DNSP3_PASSED");
    execfx_clear(&f);
}

static void test_exec_errors(void)
{
    static const char *const z[] = { "zones=example.com", NULL };
    execfx f;
    acme_dns_provider *p;
    acme_error *err = NULL;
    char *fail, *slow, *quoted;
    int rc;
    vt v;

    execfx_init(&f);
    /* Exit status and output (stdout and stderr) in the error. */
    fail = write_script(f.dir, "fail.sh",
                        "#!/bin/sh\necho \"on stdout\"\necho \"no such zone: $2\" >&2\nexit 3\n");
    p = exec_provider(fail, z, &err, &rc);
    dnsmock_expect(rc, &err, ACME_OK);
    vt_txt(&v, "example.com", "example.com", "_acme-challenge.example.com", "_acme-challenge", V1,
           120);
    dnsmock_expect(vt_create(p, &v.txt, &err), &err, ACME_E_REJECTED);
    g_assert_nonnull(strstr(acme_error_message(err), "exit status 3"));
    g_assert_nonnull(strstr(acme_error_message(err), "on stdout"));
    g_assert_nonnull(strstr(acme_error_message(err), "no such zone: _acme-challenge.example.com."));
    dnsmock_clear(&err);
    dnsmock_expect(p->ops->delete_txt(p->self, &v.txt, NULL, &err), &err, ACME_E_REJECTED);
    dnsmock_clear(&err);
    acme_dns_provider_free(p);

    /* No shell: a value with shell syntax arrives as one literal argument. */
    quoted = write_script(f.dir, "quoted.sh",
                          "#!/bin/sh\n[ \"$#\" -eq 3 ] && [ \"$3\" = '$(exit 1); `x` \"q\"' ]\n");
    p = exec_provider(quoted, z, &err, &rc);
    dnsmock_expect(rc, &err, ACME_OK);
    vt_txt(&v, "example.com", "example.com", "_acme-challenge.example.com", "_acme-challenge",
           "$(exit 1); `x` \"q\"", 120);
    dnsmock_expect(vt_create(p, &v.txt, &err), &err, ACME_OK);
    acme_dns_provider_free(p);

    /* Killed at the timeout. */
    slow = write_script(f.dir, "slow.sh", "#!/bin/sh\necho started\nexec sleep 600\n");
    {
        const char *t[] = { "zones=example.com", "timeout=1", NULL };

        p = exec_provider(slow, t, &err, &rc);
        dnsmock_expect(rc, &err, ACME_OK);
    }
    dnsmock_expect(vt_create(p, &v.txt, &err), &err, ACME_E_TIMEOUT);
    g_assert_nonnull(strstr(acme_error_message(err), "started"));
    dnsmock_clear(&err);
    acme_dns_provider_free(p);

    /* Settings. */
    {
        const char *bad_mode[] = { "mode=bogus", NULL };
        const char *bad_timeout[] = { "timeout=soon", NULL };
        char *missing = g_build_filename(f.dir, "missing.sh", NULL);

        p = exec_provider(missing, NULL, &err, &rc);
        dnsmock_expect(rc, &err, ACME_E_INVALID);
        dnsmock_clear(&err);
        p = exec_provider(f.ok, bad_mode, &err, &rc);
        dnsmock_expect(rc, &err, ACME_E_INVALID);
        g_assert_nonnull(strstr(acme_error_message(err), "uacme"));
        dnsmock_clear(&err);
        p = exec_provider(f.ok, bad_timeout, &err, &rc);
        dnsmock_expect(rc, &err, ACME_E_INVALID);
        dnsmock_clear(&err);
        dnsmock_expect(prov_new(&p, "exec", NULL, NULL, &err), &err, ACME_E_INVALID);
        dnsmock_clear(&err);
        /* A name is looked up in PATH when the instance is made. */
        p = exec_provider("dnsp3-no-such-program", z, &err, &rc);
        dnsmock_expect(rc, &err, ACME_E_INVALID);
        g_assert_nonnull(strstr(acme_error_message(err), "dnsp3-no-such-program"));
        dnsmock_clear(&err);
        p = exec_provider("true", z, &err, &rc);
        dnsmock_expect(rc, &err, ACME_OK);
        dnsmock_expect(vt_create(p, &v.txt, &err), &err, ACME_OK);
        acme_dns_provider_free(p);
        p = exec_provider("false", z, &err, &rc);
        dnsmock_expect(rc, &err, ACME_OK);
        dnsmock_expect(vt_create(p, &v.txt, &err), &err, ACME_E_REJECTED);
        g_assert_nonnull(strstr(acme_error_message(err), "exit status 1"));
        dnsmock_clear(&err);
        acme_dns_provider_free(p);
        g_free(missing);
    }
    {
        acme_dns_zone_list zl = ACME_DNS_ZONE_LIST_INIT;
        const char *zz[] = { "zones=example.com,\tsub.example.com  example.org", NULL };

        p = exec_provider(f.ok, zz, &err, &rc);
        dnsmock_expect(rc, &err, ACME_OK);
        dnsmock_expect(p->ops->list_zones(p->self, &zl, &err), &err, ACME_OK);
        g_assert_cmpuint(zl.n, ==, 3);
        g_assert_cmpstr(zl.v[2].name, ==, "example.org");
        acme_dns_zone_list_clear(&zl);
        acme_dns_provider_free(p);
    }
    g_free(fail);
    g_free(quoted);
    g_free(slow);
    execfx_clear(&f);
}

/* Cancelled while the program runs: it is killed and the call ends. */
typedef struct cancel_ctx {
    acme_dns_provider *p;
    char *fifo;
} cancel_ctx;

static gpointer cancel_thread(gpointer data)
{
    cancel_ctx *c = data;
    int fd = open(c->fifo, O_RDONLY); /* returns once the script has opened it */
    char buf[16];

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(read(fd, buf, sizeof(buf)), >, 0);
    close(fd);
    acme_dns_provider_cancel(c->p);
    return NULL;
}

static void test_exec_cancel(void)
{
    execfx f;
    cancel_ctx c;
    acme_error *err = NULL;
    GThread *t;
    char *body, *script;
    int rc;
    vt v;

    execfx_init(&f);
    c.fifo = g_build_filename(f.dir, "fifo", NULL);
    g_assert_cmpint(mkfifo(c.fifo, 0600), ==, 0);
    body = g_strdup_printf("#!/bin/sh\necho running > '%s'\nexec sleep 600\n", c.fifo);
    script = write_script(f.dir, "block.sh", body);
    {
        const char *z[] = { "zones=example.com", NULL };

        c.p = exec_provider(script, z, &err, &rc);
        dnsmock_expect(rc, &err, ACME_OK);
    }
    t = g_thread_new("cancel", cancel_thread, &c);
    vt_txt(&v, "example.com", "example.com", "_acme-challenge.example.com", "_acme-challenge", V1,
           120);
    dnsmock_expect(vt_create(c.p, &v.txt, &err), &err, ACME_E_CANCELLED);
    dnsmock_clear(&err);
    g_thread_join(t);
    acme_dns_provider_free(c.p);
    g_free(body);
    g_free(script);
    g_free(c.fifo);
    execfx_clear(&f);
}

/* ---- registry ---- */

static void test_registry(void)
{
    static const struct {
        const char *name, *canonical;
    } names[] = {
        { "gandiv5", "gandiv5" }, { "gandi", "gandiv5" },     { "GANDI_LIVE", "gandiv5" },
        { "ovh", "ovh" },         { "acmedns", "acmedns" },   { "acme-dns", "acmedns" },
        { "exec", "exec" },
    };
    const char *all[64];
    size_t n = acme_dns_provider_names(all, G_N_ELEMENTS(all));
    unsigned int found = 0;

    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        const acme_dns_provider_ops *ops = acme_dns_provider_find(names[i].name);
        acme_error *err = NULL;

        g_assert_nonnull(ops);
        g_assert_cmpstr(ops->name, ==, names[i].canonical);
        dnsmock_expect(acme__dns_ops_check(ops, &err), &err, ACME_OK);
    }
    for (size_t i = 0; i < n && i < G_N_ELEMENTS(all); i++)
        found += strcmp(all[i], "gandiv5") == 0 || strcmp(all[i], "ovh") == 0 ||
                 strcmp(all[i], "acmedns") == 0 || strcmp(all[i], "exec") == 0;
    g_assert_cmpuint(found, ==, 4);
}

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    if (acme_global_init() != ACME_OK)
        return 99;
    g_test_add_func("/dnsp3/registry", test_registry);
    g_test_add_func("/dnsp3/ovh/signature-vectors", test_ovh_vectors);
    g_test_add_func("/dnsp3/gandiv5/mock", test_gandi);
    g_test_add_func("/dnsp3/gandiv5/environment", test_gandi_env);
    g_test_add_func("/dnsp3/gandiv5/responder", test_gandi_responder);
    g_test_add_func("/dnsp3/ovh/mock", test_ovh);
    g_test_add_func("/dnsp3/ovh/oauth2", test_ovh_oauth2);
    g_test_add_func("/dnsp3/ovh/responder", test_ovh_responder);
    g_test_add_func("/dnsp3/acmedns/mock", test_acmedns);
    g_test_add_func("/dnsp3/acmedns/register", test_acmedns_register);
    g_test_add_func("/dnsp3/exec/modes", test_exec_modes);
    g_test_add_func("/dnsp3/exec/errors", test_exec_errors);
    g_test_add_func("/dnsp3/exec/cancel", test_exec_cancel);
    rc = g_test_run();
    acme_global_cleanup();
    return rc;
}
