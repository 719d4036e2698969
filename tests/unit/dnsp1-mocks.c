/*
 * tests/unit/dnsp1: the provider API mocks (see dnsp1.h): the store, the
 * helpers every mock uses, Cloudflare and DigitalOcean (the others are in
 * dnsp1-mocks-b.c).  Facts about
 * each API come from the research notes (dns-providers.md §2.1, 2.2, 2.4,
 * 2.6, 2.8); where they are inferred, the mock answers the documented
 * shape and the providers accept any 2xx.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <json-c/json.h>

#include "dnsp1.h"

/* ---- the store ---- */

static void zone_free(gpointer p)
{
    mzone *z = p;

    g_free(z->id);
    g_free(z->name);
    g_free(z);
}

static void rec_free(gpointer p)
{
    mrec *r = p;

    g_free(r->fqdn);
    g_free(r->value);
    g_free(r);
}

mock *mock_new(mockhttp_handler *handler)
{
    mock *mk = g_new0(mock, 1);

    g_mutex_init(&mk->lock);
    mk->zones = g_ptr_array_new_with_free_func(zone_free);
    mk->recs = g_ptr_array_new_with_free_func(rec_free);
    mk->actions = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    mk->next_id = 1000;
    mk->next_action = 1;
    mk->page_size = 2;
    mk->m = mockhttp_new();
    mockhttp_set_handler(mk->m, handler, mk);
    return mk;
}

void mock_free(mock *mk)
{
    mockhttp_free(mk->m);
    g_hash_table_destroy(mk->actions);
    g_ptr_array_free(mk->recs, TRUE);
    g_ptr_array_free(mk->zones, TRUE);
    g_mutex_clear(&mk->lock);
    g_free(mk);
}

mzone *mock_zone_add(mock *mk, const char *id, const char *name, unsigned int min_ttl)
{
    mzone *z = g_new0(mzone, 1);

    z->id = g_strdup(id);
    z->name = g_strdup(name);
    z->min_ttl = min_ttl;
    g_mutex_lock(&mk->lock);
    g_ptr_array_add(mk->zones, z);
    g_mutex_unlock(&mk->lock);
    return z;
}

void mock_fault(mock *mk, unsigned int n, unsigned int status, const char *headers,
                const char *body)
{
    g_mutex_lock(&mk->lock);
    mk->fault_n = n;
    mk->fault_skip = 0;
    memset(&mk->fault, 0, sizeof(mk->fault));
    mk->fault.status = status;
    mk->fault.content_type = "application/json";
    mk->fault.headers = headers;
    mk->fault.body = body;
    g_mutex_unlock(&mk->lock);
}

static gint cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char *mock_values(mock *mk, const char *fqdn)
{
    GPtrArray *v = g_ptr_array_new();
    char *s;

    g_mutex_lock(&mk->lock);
    for (size_t i = 0; i < mk->recs->len; i++) {
        mrec *r = mk->recs->pdata[i];

        if (strcmp(r->fqdn, fqdn) == 0)
            g_ptr_array_add(v, r->value);
    }
    g_ptr_array_sort(v, cmp_str);
    g_ptr_array_add(v, NULL);
    s = g_strjoinv(",", (char **)v->pdata);
    g_mutex_unlock(&mk->lock);
    g_ptr_array_free(v, TRUE);
    return s;
}

unsigned int mock_count(mock *mk, const char *fqdn, unsigned int *ttl)
{
    unsigned int n = 0;

    g_mutex_lock(&mk->lock);
    for (size_t i = 0; i < mk->recs->len; i++) {
        mrec *r = mk->recs->pdata[i];

        if (strcmp(r->fqdn, fqdn) == 0 && n++ == 0 && ttl)
            *ttl = r->ttl;
    }
    g_mutex_unlock(&mk->lock);
    return n;
}

unsigned int mock_requests(mock *mk, const char *method, const char *prefix)
{
    unsigned int n = 0;

    for (size_t i = 0; i < mockhttp_request_count(mk->m); i++) {
        const mockhttp_request *r = mockhttp_request_get(mk->m, i);

        n += strcmp(r->method, method) == 0 && g_str_has_prefix(r->path, prefix);
    }
    return n;
}

const mockhttp_request *mock_last(mock *mk, const char *method)
{
    for (size_t i = mockhttp_request_count(mk->m); i > 0; i--) {
        const mockhttp_request *r = mockhttp_request_get(mk->m, i - 1);

        if (strcmp(r->method, method) == 0)
            return r;
    }
    return NULL;
}

mzone *mk_zone_by(mock *mk, const char *id_or_name)
{
    for (size_t i = 0; i < mk->zones->len; i++) {
        mzone *z = mk->zones->pdata[i];

        if (strcmp(z->id, id_or_name) == 0 || strcmp(z->name, id_or_name) == 0)
            return z;
    }
    return NULL;
}

mrec *mk_rec_add(mock *mk, mzone *z, const char *fqdn, const char *value, unsigned int ttl)
{
    mrec *r = g_new0(mrec, 1);

    r->id = mk->next_id++;
    r->zone = z;
    r->fqdn = g_strdup(fqdn);
    r->value = g_strdup(value);
    r->ttl = ttl;
    g_ptr_array_add(mk->recs, r);
    return r;
}

mrec *mk_rec_by_id(mock *mk, long long id)
{
    for (size_t i = 0; i < mk->recs->len; i++)
        if (((mrec *)mk->recs->pdata[i])->id == id)
            return mk->recs->pdata[i];
    return NULL;
}

mrec *mk_rec_find(mock *mk, const char *fqdn, const char *value)
{
    for (size_t i = 0; i < mk->recs->len; i++) {
        mrec *r = mk->recs->pdata[i];

        if (strcmp(r->fqdn, fqdn) == 0 && strcmp(r->value, value) == 0)
            return r;
    }
    return NULL;
}

/* ---- request and answer helpers ---- */

const char *mk_json_out(mock *mk, json_object *o)
{
    const char *s = mockhttp_strdup(
        mk->m, "%s",
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));

    json_object_put(o);
    return s;
}

json_object *mk_jparse(const char *s)
{
    json_object *o = json_tokener_parse(s);

    g_assert_nonnull(o);
    return o;
}

/* The request body as JSON, checking its content type and its exact set of members. */
json_object *mk_body_obj(const mockhttp_request *req, const char *keys)
{
    json_object *o;
    gchar **want = g_strsplit(keys, ",", -1);
    size_t n = 0;

    g_assert_cmpstr(mockhttp_request_header(req, "Content-Type"), ==, "application/json");
    o = mk_jparse(req->body);
    g_assert_true(json_object_is_type(o, json_type_object));
    for (gchar **k = want; *k; k++, n++)
        if (!json_object_object_get_ex(o, *k, NULL))
            g_error("request body %s lacks \"%s\"", req->body, *k);
    g_assert_cmpint(json_object_object_length(o), ==, n);
    g_strfreev(want);
    return o;
}

const char *mk_jstr(json_object *o, const char *key)
{
    json_object *v;

    g_assert_true(json_object_object_get_ex(o, key, &v));
    g_assert_true(json_object_is_type(v, json_type_string));
    return json_object_get_string(v);
}

long long mk_jint(json_object *o, const char *key)
{
    json_object *v;

    g_assert_true(json_object_object_get_ex(o, key, &v));
    g_assert_true(json_object_is_type(v, json_type_int));
    return json_object_get_int64(v);
}

/* "\"v\"" -> "v"; NULL when not one quoted string. */
char *mk_unquote(const char *s)
{
    size_t n = strlen(s);

    if (n < 2 || s[0] != '"' || s[n - 1] != '"' || memchr(s + 1, '"', n - 2))
        return NULL;
    return g_strndup(s + 1, n - 2);
}

/* The path after @p prefix split at '/', or NULL when it does not start so. */
gchar **mk_path_parts(const mockhttp_request *req, const char *prefix)
{
    if (!g_str_has_prefix(req->path, prefix))
        return NULL;
    return g_strsplit(req->path + strlen(prefix), "/", -1);
}

bool mk_is(const mockhttp_request *req, const char *method)
{
    return strcmp(req->method, method) == 0;
}

unsigned int mk_arg_uint(const mockhttp_request *req, const char *name, unsigned int def)
{
    const char *v = mockhttp_request_query(req, name);

    return v ? (unsigned int)strtoul(v, NULL, 10) : def;
}

/* Take a fault when one is armed (lock held). */
bool mk_fault(mock *mk, mockhttp_response *out)
{
    if (!mk->fault_n)
        return false;
    if (mk->fault_skip) {
        mk->fault_skip--;
        return false;
    }
    mk->fault_n--;
    *out = mk->fault;
    return true;
}

/* "<rel>" for @p fqdn in zone @p z: "" at the apex. */
char *mk_relative(const mzone *z, const char *fqdn)
{
    size_t lf = strlen(fqdn), lz = strlen(z->name);

    if (strcmp(fqdn, z->name) == 0)
        return g_strdup("");
    g_assert_true(lf > lz + 1 && fqdn[lf - lz - 1] == '.' && strcmp(fqdn + lf - lz, z->name) == 0);
    return g_strndup(fqdn, lf - lz - 1);
}

char *mk_absolute(const mzone *z, const char *rel)
{
    return *rel && strcmp(rel, "@") != 0 ? g_strdup_printf("%s.%s", rel, z->name)
                                         : g_strdup(z->name);
}

/* ---- Cloudflare (§2.1) ---- */

#define CF "/client/v4/"

static json_object *cf_envelope(json_object *result, long code, const char *message)
{
    json_object *o = json_object_new_object(), *errs = json_object_new_array();

    json_object_object_add(o, "success", json_object_new_boolean(code == 0));
    if (code) {
        json_object *e = json_object_new_object();

        json_object_object_add(e, "code", json_object_new_int64(code));
        json_object_object_add(e, "message", json_object_new_string(message));
        json_object_array_add(errs, e);
    }
    json_object_object_add(o, "errors", errs);
    json_object_object_add(o, "messages", json_object_new_array());
    json_object_object_add(o, "result", result);
    return o;
}

static json_object *cf_record(const mrec *r)
{
    json_object *o = json_object_new_object();
    char id[40];

    snprintf(id, sizeof(id), "%032llx", r->id);
    json_object_object_add(o, "id", json_object_new_string(id));
    return o;
}

/* A page of @p all (json array) into an envelope with result_info. */
static json_object *cf_page(mock *mk, const mockhttp_request *req, json_object *all,
                            unsigned int per_page_want)
{
    unsigned int page = mk_arg_uint(req, "page", 1), n = (unsigned int)json_object_array_length(all);
    unsigned int ps = mk->page_size, pages = n ? (n + ps - 1) / ps : 1;
    json_object *res = json_object_new_array(), *info = json_object_new_object(), *o;

    g_assert_cmpuint(mk_arg_uint(req, "per_page", 0), ==, per_page_want);
    for (unsigned int i = (page - 1) * ps; i < n && i < page * ps; i++)
        json_object_array_add(res, json_object_get(json_object_array_get_idx(all, i)));
    json_object_put(all);
    json_object_object_add(info, "page", json_object_new_int(page));
    json_object_object_add(info, "per_page", json_object_new_int(ps));
    json_object_object_add(info, "count", json_object_new_int(json_object_array_length(res)));
    json_object_object_add(info, "total_count", json_object_new_int(n));
    json_object_object_add(info, "total_pages", json_object_new_int(pages));
    o = cf_envelope(res, 0, NULL);
    json_object_object_add(o, "result_info", info);
    return o;
}

static json_object *cf_rec_json(const mrec *r)
{
    json_object *o = json_object_new_object();
    char *id = g_strdup_printf("%032llx", r->id), *q = g_strdup_printf("\"%s\"", r->value);

    json_object_object_add(o, "id", json_object_new_string(id));
    json_object_object_add(o, "zone_id", json_object_new_string(r->zone->id));
    json_object_object_add(o, "name", json_object_new_string(r->fqdn));
    json_object_object_add(o, "type", json_object_new_string("TXT"));
    json_object_object_add(o, "content", json_object_new_string(q));
    json_object_object_add(o, "ttl", json_object_new_int(r->ttl));
    g_free(id);
    g_free(q);
    return o;
}

void mock_cloudflare(void *ud, const mockhttp_request *req, mockhttp_response *out)
{
    mock *mk = ud;
    const char *authz = mockhttp_request_header(req, "Authorization");
    const char *email = mockhttp_request_header(req, "X-Auth-Email");
    const char *key = mockhttp_request_header(req, "X-Auth-Key");
    gchar **p;

    g_mutex_lock(&mk->lock);
    out->content_type = "application/json";
    g_assert_cmpstr(mockhttp_request_header(req, "Accept"), ==, "application/json");
    if (!((authz && strcmp(authz, "Bearer " SECRET) == 0 && !email && !key) ||
          (!authz && email && key && strcmp(email, EMAIL) == 0 && strcmp(key, SECRET) == 0))) {
        out->status = 403;
        out->body = mk_json_out(mk, cf_envelope(json_object_new_null(), 10000,
                                             "Authentication error"));
        goto out;
    }
    if (mk_fault(mk, out))
        goto out;
    p = mk_path_parts(req, CF);
    g_assert_nonnull(p);
    if (mk_is(req, "GET") && g_strv_length(p) == 1 && strcmp(p[0], "zones") == 0) {
        json_object *all = json_object_new_array();

        for (size_t i = 0; i < mk->zones->len; i++) {
            mzone *z = mk->zones->pdata[i];
            json_object *o = json_object_new_object();

            json_object_object_add(o, "id", json_object_new_string(z->id));
            json_object_object_add(o, "name", json_object_new_string(z->name));
            json_object_object_add(o, "status", json_object_new_string("active"));
            json_object_array_add(all, o);
        }
        out->body = mk_json_out(mk, cf_page(mk, req, all, 50));
    } else if (g_strv_length(p) >= 3 && strcmp(p[0], "zones") == 0 &&
               strcmp(p[2], "dns_records") == 0) {
        mzone *z = mk_zone_by(mk, p[1]);

        if (!z || strcmp(z->id, p[1]) != 0) {
            out->status = 404;
            out->body = mk_json_out(mk, cf_envelope(json_object_new_null(), 1001,
                                                 "Invalid zone identifier"));
        } else if (mk_is(req, "GET") && !p[3]) {
            json_object *all = json_object_new_array();
            const char *name = mockhttp_request_query(req, "name");

            g_assert_cmpstr(mockhttp_request_query(req, "type"), ==, "TXT");
            g_assert_nonnull(name);
            for (size_t i = 0; i < mk->recs->len; i++) {
                mrec *r = mk->recs->pdata[i];

                if (r->zone == z && strcmp(r->fqdn, name) == 0)
                    json_object_array_add(all, cf_rec_json(r));
            }
            out->body = mk_json_out(mk, cf_page(mk, req, all, 100));
        } else if (mk_is(req, "POST") && !p[3]) {
            json_object *b = mk_body_obj(req, "type,name,content,ttl");
            const char *name = mk_jstr(b, "name");
            char *v = mk_unquote(mk_jstr(b, "content"));
            long long ttl = mk_jint(b, "ttl");

            g_assert_cmpstr(mk_jstr(b, "type"), ==, "TXT");
            /* FQDN without the trailing dot; content quoted (the API no longer quotes). */
            g_assert_false(g_str_has_suffix(name, "."));
            g_assert_nonnull(v);
            if (ttl != 1 && (ttl < 60 || ttl > 86400)) {
                out->status = 400;
                out->body = mk_json_out(mk, cf_envelope(json_object_new_null(), 9021,
                                                     "TTL must be between 60 and 86400 seconds, "
                                                     "or 1 for Automatic"));
            } else if (mk_rec_find(mk, name, v)) {
                out->status = 400;
                out->body = mk_json_out(mk, cf_envelope(json_object_new_null(), 81058,
                                                     "An identical record already exists."));
            } else {
                out->body = mk_json_out(
                    mk, cf_envelope(cf_rec_json(mk_rec_add(mk, z, name, v, (unsigned)ttl)), 0, NULL));
            }
            g_free(v);
            json_object_put(b);
        } else if (mk_is(req, "DELETE") && p[3] && !p[4]) {
            long long id = g_ascii_strtoll(p[3], NULL, 16);
            mrec *r = mk_rec_by_id(mk, id);

            g_assert_cmpstr(req->body, ==, "");
            if (!r || r->zone != z) {
                out->status = 404;
                out->body = mk_json_out(mk, cf_envelope(json_object_new_null(), 81044,
                                                     "Record does not exist."));
            } else {
                out->body = mk_json_out(mk, cf_envelope(cf_record(r), 0, NULL));
                g_ptr_array_remove(mk->recs, r);
            }
        } else {
            g_error("cloudflare mock: unexpected %s %s", req->method, req->path);
        }
    } else {
        g_error("cloudflare mock: unexpected %s %s", req->method, req->path);
    }
    g_strfreev(p);
out:
    g_mutex_unlock(&mk->lock);
}

/* ---- DigitalOcean (§2.2) ---- */

#define DO "/v2/"

/* A page of @p all under member @p member, with links.pages and meta.total. */
static json_object *do_page(mock *mk, const mockhttp_request *req, json_object *all,
                            const char *member)
{
    unsigned int page = mk_arg_uint(req, "page", 1), n = (unsigned int)json_object_array_length(all);
    unsigned int ps = mk->page_size;
    json_object *res = json_object_new_array(), *o = json_object_new_object(),
                *links = json_object_new_object(), *meta = json_object_new_object();

    g_assert_cmpuint(mk_arg_uint(req, "per_page", 0), ==, 200);
    for (unsigned int i = (page - 1) * ps; i < n && i < page * ps; i++)
        json_object_array_add(res, json_object_get(json_object_array_get_idx(all, i)));
    json_object_put(all);
    if (n > ps) {
        json_object *pages = json_object_new_object();
        /* The next URL as DigitalOcean writes it: absolute, every query argument. */
        GString *q = g_string_new(NULL);
        char *url;

        for (size_t i = 0; i < req->nquery; i++)
            if (strcmp(req->query_names[i], "page") != 0)
                g_string_append_printf(q, "&%s=%s", req->query_names[i], req->query_values[i]);
        if (page * ps < n) {
            url = mockhttp_url(mk->m, req->path);
            json_object_object_add(pages, "next", json_object_new_string(
                                                      mockhttp_strdup(mk->m, "%s?page=%u%s", url,
                                                                      page + 1, q->str)));
            json_object_object_add(pages, "last", json_object_new_string(
                                                      mockhttp_strdup(mk->m, "%s?page=%u%s", url,
                                                                      (n + ps - 1) / ps, q->str)));
            g_free(url);
        }
        json_object_object_add(links, "pages", pages);
        g_string_free(q, TRUE);
    }
    json_object_object_add(o, member, res);
    json_object_object_add(o, "links", links);
    json_object_object_add(meta, "total", json_object_new_int(n));
    json_object_object_add(o, "meta", meta);
    return o;
}

static json_object *do_rec_json(const mrec *r)
{
    json_object *o = json_object_new_object();
    char *rel = mk_relative(r->zone, r->fqdn);

    json_object_object_add(o, "id", json_object_new_int64(r->id));
    json_object_object_add(o, "type", json_object_new_string("TXT"));
    json_object_object_add(o, "name", json_object_new_string(*rel ? rel : "@"));
    json_object_object_add(o, "data", json_object_new_string(r->value));
    json_object_object_add(o, "priority", NULL);
    json_object_object_add(o, "ttl", json_object_new_int(r->ttl));
    g_free(rel);
    return o;
}

static const char *do_error(mock *mk, const char *id, const char *message)
{
    json_object *o = json_object_new_object();

    json_object_object_add(o, "id", json_object_new_string(id));
    json_object_object_add(o, "message", json_object_new_string(message));
    json_object_object_add(o, "request_id", json_object_new_string("4d9d8375-3c56"));
    return mk_json_out(mk, o);
}

void mock_digitalocean(void *ud, const mockhttp_request *req, mockhttp_response *out)
{
    mock *mk = ud;
    const char *authz = mockhttp_request_header(req, "Authorization");
    gchar **p;
    mzone *z;

    g_mutex_lock(&mk->lock);
    out->content_type = "application/json";
    out->headers = "ratelimit-limit: 5000\nratelimit-remaining: 4999\nratelimit-reset: 1444931833";
    g_assert_cmpstr(mockhttp_request_header(req, "Accept"), ==, "application/json");
    if (!authz || strcmp(authz, "Bearer " SECRET) != 0) {
        out->status = 401;
        out->body = do_error(mk, "unauthorized", "Unable to authenticate you.");
        goto out;
    }
    if (mk_fault(mk, out))
        goto out;
    p = mk_path_parts(req, DO);
    g_assert_nonnull(p);
    g_assert_cmpstr(p[0], ==, "domains");
    z = p[1] ? mk_zone_by(mk, p[1]) : NULL;
    if (mk_is(req, "GET") && !p[1]) {
        json_object *all = json_object_new_array();

        for (size_t i = 0; i < mk->zones->len; i++) {
            json_object *o = json_object_new_object();

            json_object_object_add(o, "name",
                                   json_object_new_string(((mzone *)mk->zones->pdata[i])->name));
            json_object_object_add(o, "ttl", json_object_new_int(1800));
            json_object_object_add(o, "zone_file", json_object_new_string("$ORIGIN x.\n"));
            json_object_array_add(all, o);
        }
        out->body = mk_json_out(mk, do_page(mk, req, all, "domains"));
    } else if (!z || !p[2] || strcmp(p[2], "records") != 0) {
        out->status = 404;
        out->body = do_error(mk, "not_found", "The resource you were accessing could not be found.");
    } else if (mk_is(req, "GET") && !p[3]) {
        json_object *all = json_object_new_array();
        const char *name = mockhttp_request_query(req, "name");

        /* "name" is the fully qualified name. */
        g_assert_cmpstr(mockhttp_request_query(req, "type"), ==, "TXT");
        g_assert_nonnull(name);
        for (size_t i = 0; i < mk->recs->len; i++) {
            mrec *r = mk->recs->pdata[i];

            if (r->zone == z && strcmp(r->fqdn, name) == 0)
                json_object_array_add(all, do_rec_json(r));
        }
        out->body = mk_json_out(mk, do_page(mk, req, all, "domain_records"));
    } else if (mk_is(req, "POST") && !p[3]) {
        json_object *b = mk_body_obj(req, "type,name,data,ttl"), *o;
        const char *data = mk_jstr(b, "data");
        char *fqdn = mk_absolute(z, mk_jstr(b, "name"));

        g_assert_cmpstr(mk_jstr(b, "type"), ==, "TXT");
        g_assert_null(strchr(data, '"')); /* unquoted */
        if (mk_jint(b, "ttl") < 30) {
            out->status = 422;
            out->body = do_error(mk, "unprocessable_entity", "TTL must be at least 30");
        } else {
            o = json_object_new_object();
            json_object_object_add(
                o, "domain_record",
                do_rec_json(mk_rec_add(mk, z, fqdn, data, (unsigned)mk_jint(b, "ttl"))));
            out->status = 201;
            out->body = mk_json_out(mk, o);
        }
        g_free(fqdn);
        json_object_put(b);
    } else if (mk_is(req, "DELETE") && p[3] && !p[4]) {
        mrec *r = mk_rec_by_id(mk, g_ascii_strtoll(p[3], NULL, 10));

        if (!r || r->zone != z) {
            out->status = 404;
            out->body = do_error(mk, "not_found",
                                 "The resource you were accessing could not be found.");
        } else {
            g_ptr_array_remove(mk->recs, r);
            out->status = 204;
            out->content_type = NULL;
        }
    } else {
        g_error("digitalocean mock: unexpected %s %s", req->method, req->path);
    }
    g_strfreev(p);
out:
    g_mutex_unlock(&mk->lock);
}
