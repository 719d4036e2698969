/*
 * tests/unit/dnsp1: the Hetzner (Cloud and legacy), Linode and deSEC API
 * mocks (see dnsp1.h); the store and the helpers are in dnsp1-mocks.c.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <json-c/json.h>

#include "dnsp1.h"

/* ---- Hetzner Cloud API and legacy DNS Console API (§2.4) ---- */

#define HZ "/v1/"
#define HZL "/api/v1/"

static const char *hz_error(mock *mk, const char *code, const char *message)
{
    json_object *o = json_object_new_object(), *e = json_object_new_object();

    json_object_object_add(e, "code", json_object_new_string(code));
    json_object_object_add(e, "message", json_object_new_string(message));
    json_object_object_add(e, "details", json_object_new_object());
    json_object_object_add(o, "error", e);
    return mk_json_out(mk, o);
}

static json_object *hz_action(mock *mk, long long id, const char *status)
{
    json_object *o = json_object_new_object(), *a = json_object_new_object();

    (void)mk;
    json_object_object_add(a, "id", json_object_new_int64(id));
    json_object_object_add(a, "command", json_object_new_string("add_rrset_records"));
    json_object_object_add(a, "status", json_object_new_string(status));
    json_object_object_add(a, "progress", json_object_new_int(strcmp(status, "running") ? 100 : 0));
    json_object_object_add(a, "started", json_object_new_string("2016-01-30T23:55:00+00:00"));
    json_object_object_add(a, "finished", NULL);
    if (strcmp(status, "error") == 0) {
        json_object *e = json_object_new_object();

        json_object_object_add(e, "code", json_object_new_string("action_failed"));
        json_object_object_add(e, "message", json_object_new_string("zone update failed"));
        json_object_object_add(a, "error", e);
    } else {
        json_object_object_add(a, "error", NULL);
    }
    json_object_object_add(o, "action", a);
    return o;
}

/*
 * A new action (lock held): the next mk->action_polls polls say "running",
 * then "success" (or "error" with mk->action_error).  Stored as polls + 1,
 * so that an unknown id (NULL) differs from "no polls left".
 */
static json_object *hz_new_action(mock *mk)
{
    long long *id = g_new(long long, 1), v;

    v = *id = mk->next_action++;
    g_hash_table_insert(mk->actions, id, GUINT_TO_POINTER(mk->action_polls + 1));
    return hz_action(mk, v, mk->action_polls || mk->action_error ? "running" : "success");
}

/* meta.pagination over @p n items; the Cloud API sets next_page, both set last_page. */
static json_object *hz_meta(unsigned int page, unsigned int ps, unsigned int n)
{
    json_object *meta = json_object_new_object(), *pg = json_object_new_object();
    unsigned int last = n ? (n + ps - 1) / ps : 1;

    json_object_object_add(pg, "page", json_object_new_int(page));
    json_object_object_add(pg, "per_page", json_object_new_int(ps));
    json_object_object_add(pg, "previous_page", page > 1 ? json_object_new_int(page - 1) : NULL);
    json_object_object_add(pg, "next_page", page < last ? json_object_new_int(page + 1) : NULL);
    json_object_object_add(pg, "last_page", json_object_new_int(last));
    json_object_object_add(pg, "total_entries", json_object_new_int(n));
    json_object_object_add(meta, "pagination", pg);
    return meta;
}

static void hz_zones(mock *mk, const mockhttp_request *req, mockhttp_response *out, bool legacy)
{
    unsigned int page = mk_arg_uint(req, "page", 1), ps = mk->page_size, n = mk->zones->len;
    json_object *o = json_object_new_object(), *arr = json_object_new_array(), *meta;

    g_assert_cmpuint(mk_arg_uint(req, "per_page", 0), ==, 50);
    for (unsigned int i = (page - 1) * ps; i < n && i < page * ps; i++) {
        mzone *z = mk->zones->pdata[i];
        json_object *zo = json_object_new_object();

        json_object_object_add(zo, "id", legacy ? json_object_new_string(z->id)
                                                : json_object_new_int64(atoll(z->id)));
        json_object_object_add(zo, "name", json_object_new_string(z->name));
        json_object_object_add(zo, "ttl", json_object_new_int(3600));
        json_object_array_add(arr, zo);
    }
    json_object_object_add(o, "zones", arr);
    meta = hz_meta(page, ps, n);
    if (legacy) /* the legacy API has no next_page */
        json_object_object_del(json_object_object_get(meta, "pagination"), "next_page");
    json_object_object_add(o, "meta", meta);
    out->body = mk_json_out(mk, o);
}

static void hz_legacy(mock *mk, const mockhttp_request *req, mockhttp_response *out)
{
    gchar **p = mk_path_parts(req, HZL);

    g_assert_nonnull(p);
    if (mk_is(req, "GET") && strcmp(p[0], "zones") == 0 && !p[1]) {
        hz_zones(mk, req, out, true);
    } else if (mk_is(req, "GET") && strcmp(p[0], "records") == 0 && !p[1]) {
        mzone *z = mk_zone_by(mk, mockhttp_request_query(req, "zone_id"));
        json_object *o = json_object_new_object(), *arr = json_object_new_array();

        g_assert_nonnull(z);
        for (size_t i = 0; i < mk->recs->len; i++) {
            mrec *r = mk->recs->pdata[i];
            json_object *ro;
            char *rel;

            if (r->zone != z)
                continue;
            rel = mk_relative(z, r->fqdn);
            ro = json_object_new_object();
            json_object_object_add(ro, "id", json_object_new_string(
                                                 mockhttp_strdup(mk->m, "rec%lld", r->id)));
            json_object_object_add(ro, "type", json_object_new_string("TXT"));
            json_object_object_add(ro, "name", json_object_new_string(*rel ? rel : "@"));
            json_object_object_add(ro, "value", json_object_new_string(r->value));
            json_object_object_add(ro, "zone_id", json_object_new_string(z->id));
            json_object_object_add(ro, "ttl", json_object_new_int(r->ttl));
            json_object_array_add(arr, ro);
            g_free(rel);
        }
        json_object_object_add(o, "records", arr);
        out->body = mk_json_out(mk, o);
    } else if (mk_is(req, "POST") && strcmp(p[0], "records") == 0 && !p[1]) {
        json_object *b = mk_body_obj(req, "name,type,value,ttl,zone_id"), *o, *ro;
        mzone *z = mk_zone_by(mk, mk_jstr(b, "zone_id"));
        char *fqdn;
        mrec *r;

        g_assert_nonnull(z);
        g_assert_cmpstr(mk_jstr(b, "type"), ==, "TXT");
        g_assert_null(strchr(mk_jstr(b, "value"), '"')); /* unquoted */
        fqdn = mk_absolute(z, mk_jstr(b, "name"));
        if (mk_jint(b, "ttl") < 60) {
            out->status = 422;
            out->body = hz_error(mk, "invalid_input", "ttl must be at least 60");
        } else {
            r = mk_rec_add(mk, z, fqdn, mk_jstr(b, "value"), (unsigned)mk_jint(b, "ttl"));
            o = json_object_new_object();
            ro = json_object_new_object();
            json_object_object_add(ro, "id", json_object_new_string(
                                                 mockhttp_strdup(mk->m, "rec%lld", r->id)));
            json_object_object_add(o, "record", ro);
            out->body = mk_json_out(mk, o);
        }
        g_free(fqdn);
        json_object_put(b);
    } else if (mk_is(req, "DELETE") && strcmp(p[0], "records") == 0 && p[1] && !p[2]) {
        mrec *r = g_str_has_prefix(p[1], "rec") ? mk_rec_by_id(mk, atoll(p[1] + 3)) : NULL;

        if (!r) {
            out->status = 404;
            out->body = hz_error(mk, "not_found", "record not found");
        } else {
            g_ptr_array_remove(mk->recs, r);
            out->body = "{}";
        }
    } else {
        g_error("hetzner legacy mock: unexpected %s %s", req->method, req->path);
    }
    g_strfreev(p);
}

static void hz_cloud(mock *mk, const mockhttp_request *req, mockhttp_response *out)
{
    gchar **p = mk_path_parts(req, HZ);
    guint n;

    g_assert_nonnull(p);
    n = g_strv_length(p);
    if (mk_is(req, "GET") && strcmp(p[0], "zones") == 0 && n == 1) {
        hz_zones(mk, req, out, false);
    } else if (mk_is(req, "GET") && strcmp(p[0], "actions") == 0 && n == 2) {
        long long id = atoll(p[1]);
        gpointer left = g_hash_table_lookup(mk->actions, &id);
        unsigned int l = GPOINTER_TO_UINT(left);

        if (!left) {
            out->status = 404;
            out->body = hz_error(mk, "not_found", "action not found");
        } else {
            const char *st = l > 1 ? "running" : mk->action_error ? "error" : "success";

            if (l > 1)
                g_hash_table_insert(mk->actions, g_memdup2(&id, sizeof(id)),
                                    GUINT_TO_POINTER(l - 1));
            out->body = mk_json_out(mk, hz_action(mk, id, st));
        }
    } else if (strcmp(p[0], "zones") == 0 && n >= 5 && strcmp(p[2], "rrsets") == 0 &&
               strcmp(p[4], "TXT") == 0) {
        mzone *z = mk_zone_by(mk, p[1]);
        char *fqdn;

        g_assert_nonnull(z);
        g_assert_cmpstr(p[1], ==, z->id);
        /* Relative names, "@" at the apex. */
        g_assert_cmpstr(p[3], !=, "");
        fqdn = mk_absolute(z, p[3]);
        if (mk_is(req, "GET") && n == 5) {
            json_object *o = json_object_new_object(), *rs = json_object_new_object(),
                        *recs = json_object_new_array();

            for (size_t i = 0; i < mk->recs->len; i++) {
                mrec *r = mk->recs->pdata[i];
                json_object *ro = json_object_new_object();

                if (strcmp(r->fqdn, fqdn) != 0) {
                    json_object_put(ro);
                    continue;
                }
                json_object_object_add(ro, "value", json_object_new_string(
                                                        mockhttp_strdup(mk->m, "\"%s\"", r->value)));
                json_object_object_add(ro, "comment", json_object_new_string(""));
                json_object_array_add(recs, ro);
            }
            if (!json_object_array_length(recs)) {
                json_object_put(recs);
                json_object_put(rs);
                json_object_put(o);
                out->status = 404;
                out->body = hz_error(mk, "not_found", "rrset not found");
            } else {
                json_object_object_add(rs, "name", json_object_new_string(p[3]));
                json_object_object_add(rs, "type", json_object_new_string("TXT"));
                json_object_object_add(rs, "records", recs);
                json_object_object_add(o, "rrset", rs);
                out->body = mk_json_out(mk, o);
            }
        } else if (mk_is(req, "POST") && n == 7 && strcmp(p[5], "actions") == 0) {
            bool add = strcmp(p[6], "add_records") == 0;
            json_object *b = mk_body_obj(req, add ? "ttl,records" : "records"), *recs, *r0;
            char *v;

            g_assert_true(add || strcmp(p[6], "remove_records") == 0);
            recs = json_object_object_get(b, "records");
            g_assert_cmpuint(json_object_array_length(recs), ==, 1);
            r0 = json_object_array_get_idx(recs, 0);
            g_assert_cmpint(json_object_object_length(r0), ==, 1);
            if (!(v = mk_unquote(mk_jstr(r0, "value")))) {
                out->status = 422;
                out->body = hz_error(mk, "invalid_input", "TXT values must be quoted");
            } else if (add && mk_rec_find(mk, fqdn, v)) {
                out->status = 422; /* [I]: a repeated value is refused */
                out->body = hz_error(mk, "invalid_input", "record already exists");
            } else if (add) {
                mk_rec_add(mk, z, fqdn, v, (unsigned)mk_jint(b, "ttl"));
                out->status = 201;
                out->body = mk_json_out(mk, hz_new_action(mk));
            } else if (!mk_rec_find(mk, fqdn, v)) {
                bool any = false;

                for (size_t i = 0; i < mk->recs->len; i++)
                    any = any || strcmp(((mrec *)mk->recs->pdata[i])->fqdn, fqdn) == 0;
                out->status = any ? 422 : 404;
                out->body = any ? hz_error(mk, "invalid_input", "record not found in rrset")
                                : hz_error(mk, "not_found", "rrset not found");
            } else {
                g_ptr_array_remove(mk->recs, mk_rec_find(mk, fqdn, v));
                out->status = 201;
                out->body = mk_json_out(mk, hz_new_action(mk));
            }
            g_free(v);
            json_object_put(b);
        } else {
            g_error("hetzner mock: unexpected %s %s", req->method, req->path);
        }
        g_free(fqdn);
    } else {
        g_error("hetzner mock: unexpected %s %s", req->method, req->path);
    }
    g_strfreev(p);
}

void mock_hetzner(void *ud, const mockhttp_request *req, mockhttp_response *out)
{
    mock *mk = ud;
    bool legacy = g_str_has_prefix(req->path, HZL);
    const char *authz = mockhttp_request_header(req, "Authorization");
    const char *token = mockhttp_request_header(req, "Auth-API-Token");

    g_mutex_lock(&mk->lock);
    out->content_type = "application/json";
    out->headers = "RateLimit-Limit: 3600\nRateLimit-Remaining: 3599\nRateLimit-Reset: 1731000000";
    g_assert_cmpstr(mockhttp_request_header(req, "Accept"), ==, "application/json");
    if (legacy ? (!token || strcmp(token, SECRET) != 0 || authz)
               : (!authz || strcmp(authz, "Bearer " SECRET) != 0 || token)) {
        out->status = 401;
        out->body = hz_error(mk, "unauthorized", "unable to authenticate");
    } else if (!mk_fault(mk, out)) {
        if (legacy)
            hz_legacy(mk, req, out);
        else
            hz_cloud(mk, req, out);
    }
    g_mutex_unlock(&mk->lock);
}

/* ---- Linode (§2.6) ---- */

#define LN "/v4/"

static const char *ln_error(mock *mk, const char *reason, const char *field)
{
    json_object *o = json_object_new_object(), *errs = json_object_new_array(),
                *e = json_object_new_object();

    json_object_object_add(e, "reason", json_object_new_string(reason));
    if (field)
        json_object_object_add(e, "field", json_object_new_string(field));
    json_object_array_add(errs, e);
    json_object_object_add(o, "errors", errs);
    return mk_json_out(mk, o);
}

static json_object *ln_page(mock *mk, const mockhttp_request *req, json_object *all)
{
    unsigned int page = mk_arg_uint(req, "page", 1), n = (unsigned int)json_object_array_length(all);
    unsigned int ps = mk->page_size;
    json_object *o = json_object_new_object(), *data = json_object_new_array();

    g_assert_cmpuint(mk_arg_uint(req, "page_size", 0), ==, 100);
    for (unsigned int i = (page - 1) * ps; i < n && i < page * ps; i++)
        json_object_array_add(data, json_object_get(json_object_array_get_idx(all, i)));
    json_object_put(all);
    json_object_object_add(o, "data", data);
    json_object_object_add(o, "page", json_object_new_int(page));
    json_object_object_add(o, "pages", json_object_new_int(n ? (n + ps - 1) / ps : 1));
    json_object_object_add(o, "results", json_object_new_int(n));
    return o;
}

static json_object *ln_rec_json(const mrec *r)
{
    json_object *o = json_object_new_object();
    char *rel = mk_relative(r->zone, r->fqdn);

    json_object_object_add(o, "id", json_object_new_int64(r->id));
    json_object_object_add(o, "type", json_object_new_string("TXT"));
    json_object_object_add(o, "name", json_object_new_string(rel));
    json_object_object_add(o, "target", json_object_new_string(r->value));
    json_object_object_add(o, "ttl_sec", json_object_new_int(r->ttl));
    json_object_object_add(o, "priority", json_object_new_int(0));
    json_object_object_add(o, "service", NULL);
    g_free(rel);
    return o;
}

void mock_linode(void *ud, const mockhttp_request *req, mockhttp_response *out)
{
    static const unsigned int valid[] = { 0,      300,    3600,   7200,    14400,   28800, 57600,
                                          86400,  172800, 345600, 604800,  1209600, 2419200 };
    mock *mk = ud;
    const char *authz = mockhttp_request_header(req, "Authorization");
    const char *filter = mockhttp_request_header(req, "X-Filter");
    gchar **p;
    mzone *z;

    g_mutex_lock(&mk->lock);
    out->content_type = "application/json";
    g_assert_cmpstr(mockhttp_request_header(req, "Accept"), ==, "application/json");
    if (!authz || strcmp(authz, "Bearer " SECRET) != 0) {
        out->status = 401;
        out->body = ln_error(mk, "Invalid Token", NULL);
        goto out;
    }
    if (mk_fault(mk, out))
        goto out;
    p = mk_path_parts(req, LN);
    g_assert_nonnull(p);
    g_assert_cmpstr(p[0], ==, "domains");
    z = p[1] ? mk_zone_by(mk, p[1]) : NULL;
    if (mk_is(req, "GET") && !p[1]) {
        json_object *all = json_object_new_array();

        g_assert_null(filter);
        for (size_t i = 0; i < mk->zones->len; i++) {
            mzone *zz = mk->zones->pdata[i];
            json_object *o = json_object_new_object();

            json_object_object_add(o, "id", json_object_new_int64(atoll(zz->id)));
            json_object_object_add(o, "domain", json_object_new_string(zz->name));
            json_object_object_add(o, "type", json_object_new_string("master"));
            json_object_object_add(o, "status", json_object_new_string("active"));
            json_object_array_add(all, o);
        }
        out->body = mk_json_out(mk, ln_page(mk, req, all));
    } else if (!z || strcmp(z->id, p[1]) != 0 || !p[2] || strcmp(p[2], "records") != 0) {
        out->status = 404;
        out->body = ln_error(mk, "Not found", NULL);
    } else if (mk_is(req, "GET") && !p[3]) {
        json_object *all = json_object_new_array(), *f;
        const char *fname;

        /* X-Filter: {"name": "<relative>", "type": "TXT"} */
        g_assert_nonnull(filter);
        f = mk_jparse(filter);
        g_assert_cmpint(json_object_object_length(f), ==, 2);
        g_assert_cmpstr(mk_jstr(f, "type"), ==, "TXT");
        fname = mk_jstr(f, "name");
        for (size_t i = 0; i < mk->recs->len; i++) {
            mrec *r = mk->recs->pdata[i];
            char *rel = mk_relative(r->zone, r->fqdn);

            if (r->zone == z && strcmp(rel, fname) == 0)
                json_object_array_add(all, ln_rec_json(r));
            g_free(rel);
        }
        json_object_put(f);
        out->body = mk_json_out(mk, ln_page(mk, req, all));
    } else if (mk_is(req, "POST") && !p[3]) {
        json_object *b = mk_body_obj(req, "type,name,target,ttl_sec");
        long long ttl = mk_jint(b, "ttl_sec");
        bool ok = false;
        char *fqdn;

        g_assert_null(filter);
        g_assert_cmpstr(mk_jstr(b, "type"), ==, "TXT");
        g_assert_null(strchr(mk_jstr(b, "target"), '"')); /* unquoted */
        for (size_t i = 0; i < G_N_ELEMENTS(valid); i++)
            ok = ok || ttl == valid[i];
        /* The API would round; the provider rounds itself, so an odd value is a bug here. */
        g_assert_true(ok);
        if (!*mk_jstr(b, "target")) {
            out->status = 400;
            out->body = ln_error(mk, "Failed to create domain resource", "target");
        } else {
            fqdn = mk_absolute(z, mk_jstr(b, "name"));
            out->body = mk_json_out(mk, ln_rec_json(mk_rec_add(mk, z, fqdn, mk_jstr(b, "target"),
                                                         (unsigned)ttl)));
            g_free(fqdn);
        }
        json_object_put(b);
    } else if (mk_is(req, "DELETE") && p[3] && !p[4]) {
        mrec *r = mk_rec_by_id(mk, atoll(p[3]));

        if (!r || r->zone != z) {
            out->status = 404;
            out->body = ln_error(mk, "Not found", NULL);
        } else {
            g_ptr_array_remove(mk->recs, r);
            out->body = "{}";
        }
    } else {
        g_error("linode mock: unexpected %s %s", req->method, req->path);
    }
    g_strfreev(p);
out:
    g_mutex_unlock(&mk->lock);
}

/* ---- deSEC (§2.8) ---- */

#define DS "/api/v1/"

static json_object *ds_domain(const mzone *z)
{
    json_object *o = json_object_new_object();

    json_object_object_add(o, "name", json_object_new_string(z->name));
    json_object_object_add(o, "minimum_ttl", json_object_new_int(z->min_ttl));
    json_object_object_add(o, "created", json_object_new_string("2024-01-01T00:00:00Z"));
    return o;
}

/* The RRset at @p fqdn as deSEC shows it, or NULL when it has no value. */
static json_object *ds_rrset(mock *mk, const mzone *z, const char *fqdn)
{
    json_object *o = NULL, *recs = json_object_new_array();
    unsigned int ttl = 0;
    char *rel;

    for (size_t i = 0; i < mk->recs->len; i++) {
        mrec *r = mk->recs->pdata[i];

        if (strcmp(r->fqdn, fqdn) != 0)
            continue;
        ttl = r->ttl;
        json_object_array_add(recs, json_object_new_string(
                                        mockhttp_strdup(mk->m, "\"%s\"", r->value)));
    }
    if (!json_object_array_length(recs)) {
        json_object_put(recs);
        return NULL;
    }
    rel = mk_relative(z, fqdn);
    o = json_object_new_object();
    json_object_object_add(o, "domain", json_object_new_string(z->name));
    json_object_object_add(o, "subname", json_object_new_string(rel));
    json_object_object_add(o, "name", json_object_new_string(
                                          mockhttp_strdup(mk->m, "%s.", fqdn)));
    json_object_object_add(o, "type", json_object_new_string("TXT"));
    json_object_object_add(o, "records", recs);
    json_object_object_add(o, "ttl", json_object_new_int(ttl));
    g_free(rel);
    return o;
}

/* Replace the values at @p fqdn with @p records (quoted strings); false when one is not. */
static bool ds_store(mock *mk, mzone *z, const char *fqdn, json_object *records,
                     unsigned int ttl)
{
    for (size_t i = 0; i < json_object_array_length(records); i++) {
        char *v = mk_unquote(json_object_get_string(json_object_array_get_idx(records, i)));

        if (!v)
            return false;
        g_free(v);
    }
    for (size_t i = mk->recs->len; i > 0; i--)
        if (strcmp(((mrec *)mk->recs->pdata[i - 1])->fqdn, fqdn) == 0)
            g_ptr_array_remove_index(mk->recs, i - 1);
    for (size_t i = 0; i < json_object_array_length(records); i++) {
        char *v = mk_unquote(json_object_get_string(json_object_array_get_idx(records, i)));

        mk_rec_add(mk, z, fqdn, v, ttl);
        g_free(v);
    }
    return true;
}

void mock_desec(void *ud, const mockhttp_request *req, mockhttp_response *out)
{
    mock *mk = ud;
    const char *authz = mockhttp_request_header(req, "Authorization");
    gchar **p;
    guint n;
    mzone *z;

    g_mutex_lock(&mk->lock);
    out->content_type = "application/json";
    g_assert_cmpstr(mockhttp_request_header(req, "Accept"), ==, "application/json");
    if (!authz || strcmp(authz, "Token " SECRET) != 0) {
        out->status = 401;
        out->body = "{\"detail\": \"Invalid token.\"}";
        goto out;
    }
    if (mk_fault(mk, out))
        goto out;
    /* Every endpoint ends with '/'. */
    g_assert_true(g_str_has_suffix(req->path, "/"));
    p = mk_path_parts(req, DS);
    g_assert_nonnull(p);
    n = g_strv_length(p) - 1; /* the empty part after the last '/' */
    g_assert_cmpstr(p[0], ==, "domains");
    z = n >= 2 ? mk_zone_by(mk, p[1]) : NULL;
    if (mk_is(req, "GET") && n == 1) {
        const char *q = mockhttp_request_query(req, "owns_qname");
        json_object *arr = json_object_new_array();

        if (q) {
            /* The responsible domain: the longest one that is q or a suffix of it. */
            mzone *best = NULL;

            for (size_t i = 0; i < mk->zones->len; i++) {
                mzone *c = mk->zones->pdata[i];
                size_t lq = strlen(q), lc = strlen(c->name);

                if ((strcmp(q, c->name) == 0 ||
                     (lq > lc && q[lq - lc - 1] == '.' && strcmp(q + lq - lc, c->name) == 0)) &&
                    (!best || strlen(best->name) < lc))
                    best = c;
            }
            if (best)
                json_object_array_add(arr, ds_domain(best));
        } else {
            /* Cursor pagination: ?cursor=<index>, Link: <next>; rel="next". */
            unsigned int from = mk_arg_uint(req, "cursor", 0), nz = mk->zones->len;

            for (unsigned int i = from; i < nz && i < from + mk->page_size; i++)
                json_object_array_add(arr, ds_domain(mk->zones->pdata[i]));
            if (from + mk->page_size < nz) {
                char *url = mockhttp_url(mk->m, "/api/v1/domains/");

                out->headers = mockhttp_strdup(
                    mk->m, "Link: <%s?cursor=>; rel=\"first\", <%s?cursor=%u>; rel=\"next\"", url,
                    url, from + mk->page_size);
                g_free(url);
            }
        }
        out->body = mk_json_out(mk, arr);
    } else if (!z) {
        out->status = 404;
        out->body = "{\"detail\": \"Not found.\"}";
    } else if (mk_is(req, "GET") && n == 2) {
        out->body = mk_json_out(mk, ds_domain(z));
    } else if (n >= 3 && strcmp(p[2], "rrsets") == 0) {
        char *fqdn = n == 5 ? mk_absolute(z, p[3]) : NULL;
        json_object *rs;

        if (n == 5) {
            g_assert_cmpstr(p[4], ==, "TXT");
            g_assert_cmpstr(p[3], !=, ""); /* "@" at the apex */
        }
        if (!mk_is(req, "GET") && mk->write_limit && ++mk->writes > mk->write_limit) {
            out->status = 429;
            out->headers = "Retry-After: 60";
            out->body = "{\"detail\": \"Request was throttled. Expected available in 60 seconds.\"}";
        } else if (mk_is(req, "GET") && n == 5) {
            if ((rs = ds_rrset(mk, z, fqdn))) {
                out->body = mk_json_out(mk, rs);
            } else {
                out->status = 404;
                out->body = "{\"detail\": \"Not found.\"}";
            }
        } else if (mk_is(req, "POST") && n == 3) {
            json_object *b = mk_body_obj(req, "subname,type,ttl,records");
            char *f = mk_absolute(z, mk_jstr(b, "subname"));

            g_assert_cmpstr(mk_jstr(b, "type"), ==, "TXT");
            if (mk_jint(b, "ttl") < z->min_ttl) {
                out->status = 400;
                out->body = mockhttp_strdup(
                    mk->m, "{\"ttl\": [\"Ensure this value is greater than or equal to %u.\"]}",
                    z->min_ttl);
            } else if ((rs = ds_rrset(mk, z, f))) {
                json_object_put(rs);
                out->status = 400;
                out->body = "{\"non_field_errors\": [\"Another RRset with the same subdomain "
                            "and type exists for this domain.\"]}";
            } else if (!ds_store(mk, z, f, json_object_object_get(b, "records"),
                                 (unsigned)mk_jint(b, "ttl"))) {
                out->status = 400;
                out->body = "{\"records\": [\"The contents of the TXT record must be enclosed "
                            "in double quotes.\"]}";
            } else {
                out->status = 201;
                out->body = mk_json_out(mk, ds_rrset(mk, z, f));
            }
            g_free(f);
            json_object_put(b);
        } else if (mk_is(req, "PATCH") && n == 5) {
            json_object *b = mk_body_obj(req, "records");
            unsigned int ttl = 0;

            for (size_t i = 0; i < mk->recs->len; i++)
                if (strcmp(((mrec *)mk->recs->pdata[i])->fqdn, fqdn) == 0)
                    ttl = ((mrec *)mk->recs->pdata[i])->ttl;
            if (!ttl) {
                out->status = 404;
                out->body = "{\"detail\": \"Not found.\"}";
            } else if (!ds_store(mk, z, fqdn, json_object_object_get(b, "records"), ttl)) {
                out->status = 400;
                out->body = "{\"records\": [\"The contents of the TXT record must be enclosed "
                            "in double quotes.\"]}";
            } else if ((rs = ds_rrset(mk, z, fqdn))) {
                out->body = mk_json_out(mk, rs);
            } else {
                out->status = 204; /* "records": [] deleted the RRset */
                out->content_type = NULL;
            }
            json_object_put(b);
        } else {
            g_error("desec mock: unexpected %s %s", req->method, req->path);
        }
        g_free(fqdn);
    } else {
        g_error("desec mock: unexpected %s %s", req->method, req->path);
    }
    g_strfreev(p);
out:
    g_mutex_unlock(&mk->lock);
}
