/*
 * dns/providers: deSEC (https://desec.io/api/v1), authenticated with
 * Authorization: Token <token>.  Every endpoint ends with '/'.
 *
 * deSEC finds the zone itself: GET /domains/?owns_qname=<fqdn> answers
 * the one domain responsible for the name (the longest match), so this
 * provider has find_zone and the core never lists zones for it unless a
 * zone is configured.  Records are RRsets: adding a value reads the RRset
 * (GET /domains/{d}/rrsets/{subname}/TXT/, "@" at the apex), then POSTs a
 * new one or PATCHes its "records" with every value; removing PATCHes the
 * rest ("records": [] deletes the RRset).  The core holds the instance's
 * lock across each call, so this read-modify-write does not race with
 * itself within one process.  Values are quoted.
 *
 * TTLs: each domain has a minimum_ttl (3600 by default), and at most
 * 604800; the TTL sent is raised to the domain's minimum, which comes with
 * every domain object and is remembered per domain.
 *
 * Facts: see the research notes (dns-providers.md §2.8).  Writes are
 * throttled per domain (15 per minute): 429 with Retry-After.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <acme/sys/error.h>

#include "dns/dns.h"
#include "dns/providers/common.h"
#include "util/error.h"
#include "util/i18n.h"
#include "util/json.h"
#include "util/util.h"

#define SERVICE "deSEC"
#define DEFAULT_BASE "https://desec.io/api/v1"
#define MAX_TTL 604800u
#define MAX_PAGES 1000

typedef struct ds {
    acme_dns_env *env;
    char *base;   /* no trailing slash */
    char *auth;   /* "Authorization: Token <token>": a secret */
    /* minimum_ttl per domain name, as the API reported it. */
    struct ds_min {
        char *name;
        unsigned int ttl;
    } *mins;
    size_t nmins;
} ds;

static const char *const env_token[] = { "DESEC_TOKEN", NULL };

static const acme_dns_option ds_options[] = {
    { .key = "token", .env = env_token, .flags = ACME_DNS_OPT_REQUIRED | ACME_DNS_OPT_SECRET,
      .help = "deSEC API token" },
    { .key = "base_url", .default_value = DEFAULT_BASE, .help = "API base URL",
      .env = (const char *const[]){ "DESEC_BASE_URL", NULL } },
    { .key = NULL },
};

static void ds_destroy(void *self)
{
    ds *d = self;

    if (!d)
        return;
    for (size_t i = 0; i < d->nmins; i++)
        free(d->mins[i].name);
    free(d->mins);
    free(d->base);
    acme__free_secret(d->auth);
    free(d);
}

static int ds_open(void **self_out, const acme_dns_settings *s, acme_dns_env *env,
                   acme_error **err)
{
    const char *token = acme_dns_settings_get(s, "token");
    const char *base = acme_dns_settings_get(s, "base_url");
    size_t len;
    ds *d;

    *self_out = NULL;
    if (!token || !*token || strpbrk(token, "\r\n"))
        return acme_error_set(err, ACME_E_INVALID,
                              _("DNS provider desec: the setting token is empty or malformed"));
    if (!base || (strncmp(base, "https://", 8) != 0 && strncmp(base, "http://", 7) != 0))
        return acme_error_set(err, ACME_E_INVALID,
                              _("DNS provider desec: base_url must start with https:// or "
                                "http://"));
    if (!(d = calloc(1, sizeof(*d))))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    d->env = env;
    len = strlen(base);
    while (len && base[len - 1] == '/')
        len--;
    d->base = acme__strndup(base, len);
    d->auth = acme__asprintf("Authorization: Token %s", token);
    if (!d->base || !d->auth) {
        ds_destroy(d);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    *self_out = d;
    return ACME_OK;
}

/*
 * deSEC's validation errors are Django REST framework bodies keyed by
 * field ({"ttl": ["Ensure this value is greater than or equal to 3600."]})
 * or, for bulk requests, a list of them: name the first field and message.
 */
static void add_field_error(acme_error *e, const acme__rest_response *resp)
{
    json_object *o = NULL, *obj;
    char *msg;

    if (!e || e->detail || !resp->body.len ||
        acme__json_parse(&o, resp->body.data, resp->body.len, SERVICE, NULL) < 0)
        return;
    obj = json_object_is_type(o, json_type_array) ? json_object_array_get_idx(o, 0) : o;
    if (json_object_is_type(obj, json_type_object)) {
        json_object_object_foreach(obj, key, val)
        {
            json_object *first = json_object_is_type(val, json_type_array)
                                     ? json_object_array_get_idx(val, 0)
                                     : val;
            const char *text = json_object_is_type(first, json_type_string)
                                   ? json_object_get_string(first)
                                   : NULL;

            if (!text)
                continue;
            if ((msg = acme__asprintf("%s: %.64s: %.200s", e->message, key, text))) {
                free(e->message);
                e->message = msg;
                e->detail = acme__strndup(text, 300);
            }
            break;
        }
    }
    json_object_put(o);
}

/*
 * One API call to @p path under the base, or to the absolute @p url_abs.
 * @p json_out (may be NULL) receives the parsed 2xx body; @p link_next
 * (may be NULL) the URL of a Link: <...>; rel="next" header.
 */
static int call(ds *d, const char *method, const char *path, const char *url_abs,
                json_object *body, json_object **json_out, char **link_next, acme_error **err)
{
    const char *headers[] = { d->auth, NULL };
    acme__rest_response resp = ACME__REST_RESPONSE_INIT;
    acme__dnsp_call c = { .env = d->env, .service = SERVICE, .method = method,
                          .base = d->base, .path = path, .url = url_abs, .headers = headers,
                          .body = body, .flags = ACME__DNSP_EMPTY_OK,
                          .on_error = add_field_error, .resp_out = &resp };
    int rc;

    if (link_next)
        *link_next = NULL;
    rc = acme__dnsp_call_json(&c, json_out, err);
    if (rc == ACME_OK && link_next) {
        /* Link: <https://desec.io/api/v1/domains/?cursor=x>; rel="next", <...>; rel="prev" */
        for (size_t i = 0; i < resp.nheaders; i++) {
            const char *v = resp.header_values[i], *lt, *gt;

            if (!acme__strncaseeq(resp.header_names[i], "link", 5) ||
                strlen(resp.header_names[i]) != 4)
                continue;
            for (lt = strchr(v, '<'); lt; lt = strchr(gt, '<')) {
                const char *end;

                if (!(gt = strchr(lt, '>')))
                    break;
                end = strchr(gt, ',');
                if (strstr(gt, "rel=\"next\"") &&
                    (!end || strstr(gt, "rel=\"next\"") < end)) {
                    *link_next = acme__strndup(lt + 1, (size_t)(gt - lt - 1));
                    break;
                }
            }
        }
    }
    acme__rest_response_clear(&resp);
    return rc;
}

/* Remember the minimum_ttl of a domain object. */
static void remember_min(ds *d, json_object *dom)
{
    const char *name = acme__json_str(dom, "name");
    json_object *v;
    struct ds_min *m;
    char *norm = NULL;

    if (!name || !json_object_object_get_ex(dom, "minimum_ttl", &v) ||
        acme__dns_name_normalize(&norm, name, NULL) < 0)
        return;
    for (size_t i = 0; i < d->nmins; i++)
        if (strcmp(d->mins[i].name, norm) == 0) {
            d->mins[i].ttl = (unsigned int)json_object_get_int64(v);
            free(norm);
            return;
        }
    if (!(m = realloc(d->mins, (d->nmins + 1) * sizeof(*m)))) {
        free(norm);
        return;
    }
    d->mins = m;
    d->mins[d->nmins].name = norm;
    d->mins[d->nmins++].ttl = (unsigned int)json_object_get_int64(v);
}

/* Whether a domain name from the API is safe in a URL path. */
static bool name_ok(const char *s)
{
    return acme__dnsp_path_safe(s, 253);
}

static int ds_list_zones(void *self, acme_dns_zone_list *out, acme_error **err)
{
    ds *d = self;
    char *next = NULL;
    int rc = ACME_OK;

    /* Long lists come in pages linked by Link: rel="next" (cursor pagination). */
    for (int page = 0; page < MAX_PAGES; page++) {
        char *cur = next;
        json_object *arr;

        next = NULL;
        rc = call(d, "GET", cur ? NULL : "/domains/", cur, NULL, &arr, &next, err);
        free(cur);
        if (rc < 0)
            return rc;
        if (!json_object_is_type(arr, json_type_array)) {
            json_object_put(arr);
            free(next);
            return acme_error_set(err, ACME_E_PROTOCOL, _("%s: the domain list is not an array"),
                                  SERVICE);
        }
        for (size_t i = 0; i < json_object_array_length(arr) && rc == ACME_OK; i++) {
            json_object *dom = json_object_array_get_idx(arr, i);
            const char *name = acme__json_str(dom, "name");

            if (!name_ok(name))
                continue;
            remember_min(d, dom);
            rc = acme_dns_zone_list_add(out, name, name, false, err);
        }
        json_object_put(arr);
        /* Follow the link only into our own base URL: the token goes nowhere else. */
        if (rc < 0 || !next || strncmp(next, d->base, strlen(d->base)) != 0 ||
            next[strlen(d->base)] != '/')
            break;
    }
    free(next);
    return rc;
}

/* §1.2 of the notes: deSEC answers the responsible domain for a name itself. */
static int ds_find_zone(void *self, const char *fqdn, acme_dns_zone *out, acme_error **err)
{
    ds *d = self;
    char *path = acme__asprintf("/domains/?owns_qname=%s", fqdn);
    json_object *arr = NULL, *dom;
    const char *name;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!path)
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    rc = call(d, "GET", path, NULL, NULL, &arr, NULL, err);
    free(path);
    if (rc < 0)
        return rc;
    if (!json_object_is_type(arr, json_type_array)) {
        json_object_put(arr);
        return acme_error_set(err, ACME_E_PROTOCOL, _("%s: the domain list is not an array"),
                              SERVICE);
    }
    dom = json_object_array_length(arr) ? json_object_array_get_idx(arr, 0) : NULL;
    name = dom ? acme__json_str(dom, "name") : NULL;
    if (!name_ok(name)) {
        json_object_put(arr);
        return acme_error_set(err, ACME_E_NOTFOUND, _("%s: no domain of this account holds %s"),
                              SERVICE, fqdn);
    }
    remember_min(d, dom);
    out->id = acme__strdup(name);
    out->name = acme__strdup(name);
    json_object_put(arr);
    if (!out->id || !out->name) {
        free(out->id);
        free(out->name);
        memset(out, 0, sizeof(*out));
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    return ACME_OK;
}

/* The TTL to send: at least the domain's minimum_ttl (asked for once), at most 604800. */
static unsigned int ttl_for(ds *d, const acme_dns_txt *txt)
{
    unsigned int ttl = txt->ttl;
    size_t i;

    for (i = 0; i < d->nmins; i++)
        if (strcmp(d->mins[i].name, txt->zone->name) == 0)
            break;
    if (i == d->nmins) {
        /* A configured zone: nothing listed it.  Without an answer the minimum stays unknown. */
        char *path = acme__asprintf("/domains/%s/", txt->zone->id);
        json_object *dom = NULL;

        if (path && call(d, "GET", path, NULL, NULL, &dom, NULL, NULL) == ACME_OK)
            remember_min(d, dom);
        json_object_put(dom);
        free(path);
    }
    for (i = 0; i < d->nmins; i++)
        if (strcmp(d->mins[i].name, txt->zone->name) == 0 && ttl < d->mins[i].ttl)
            ttl = d->mins[i].ttl;
    return ttl > MAX_TTL ? MAX_TTL : ttl;
}

/* "/domains/{d}/rrsets/" or "/domains/{d}/rrsets/{subname|@}/TXT/". */
static char *rrset_path(const acme_dns_txt *txt, bool one)
{
    if (!one)
        return acme__asprintf("/domains/%s/rrsets/", txt->zone->id);
    return acme__asprintf("/domains/%s/rrsets/%s/TXT/", txt->zone->id,
                          *txt->relative ? txt->relative : "@");
}

/*
 * The RRset's records (quoted strings) into *records (a new array; NULL
 * when there is no RRset), and whether one of them is txt->value.
 */
static int rrset_get(json_object **records, bool *has, ds *d, const acme_dns_txt *txt,
                     acme_error **err)
{
    char *path = rrset_path(txt, true);
    json_object *o = NULL, *recs;
    acme_error *e = NULL;
    int rc;

    *records = NULL;
    *has = false;
    if (!path)
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    rc = call(d, "GET", path, NULL, NULL, &o, NULL, &e);
    free(path);
    if (rc == ACME_E_NOTFOUND) {
        acme_error_free(e);
        return ACME_OK;
    }
    if (rc < 0)
        return acme__error_give(err, e);
    if (!(*records = json_object_new_array())) {
        json_object_put(o);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    recs = acme__json_arr(o, "records");
    for (size_t i = 0; recs && i < json_object_array_length(recs); i++) {
        json_object *r = json_object_array_get_idx(recs, i);
        const char *c = json_object_is_type(r, json_type_string) ? json_object_get_string(r)
                                                                 : NULL;
        char *plain = c ? acme__dns_txt_unquote(c) : NULL;

        if (plain && strcmp(plain, txt->value) == 0)
            *has = true;
        else if (c)
            json_object_array_add(*records, json_object_new_string(c));
        free(plain);
    }
    json_object_put(o);
    return ACME_OK;
}

static int ds_create_txt(void *self, const acme_dns_txt *txt, char **handle_out,
                         acme_error **err)
{
    ds *d = self;
    json_object *records = NULL, *body = NULL;
    char *quoted = NULL, *path = NULL;
    bool has;
    int rc;

    *handle_out = NULL; /* no ids: RRsets are addressed by name */
    if (!name_ok(txt->zone->id))
        return acme_error_set(err, ACME_E_INVALID, _("%s: malformed zone id"), SERVICE);
    if ((rc = rrset_get(&records, &has, d, txt, err)) < 0)
        return rc;
    if (has)
        goto out; /* already there: idempotent */
    if (!(body = json_object_new_object()) || !(quoted = acme__dns_txt_quote(txt->value)) ||
        (!records && !(records = json_object_new_array())) ||
        !(path = rrset_path(txt, false))) {
        rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        goto out;
    }
    /* Keep every value already there (the other half of a wildcard + apex order). */
    json_object_array_add(records, json_object_new_string(quoted));
    if (json_object_array_length(records) == 1) {
        /* No RRset yet: create it. */
        json_object_object_add(body, "subname", json_object_new_string(txt->relative));
        json_object_object_add(body, "type", json_object_new_string("TXT"));
        json_object_object_add(body, "ttl", json_object_new_int64(ttl_for(d, txt)));
        json_object_object_add(body, "records", json_object_get(records));
        rc = call(d, "POST", path, NULL, body, NULL, NULL, err);
    } else {
        free(path);
        if (!(path = rrset_path(txt, true))) {
            rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
            goto out;
        }
        json_object_object_add(body, "records", json_object_get(records));
        rc = call(d, "PATCH", path, NULL, body, NULL, NULL, err);
    }
out:
    json_object_put(records);
    json_object_put(body);
    free(quoted);
    free(path);
    return rc;
}

static int ds_delete_txt(void *self, const acme_dns_txt *txt, const char *handle,
                         acme_error **err)
{
    ds *d = self;
    json_object *rest = NULL, *body = NULL;
    char *path = NULL;
    bool has;
    int rc;

    (void)handle;
    if (!name_ok(txt->zone->id))
        return acme_error_set(err, ACME_E_INVALID, _("%s: malformed zone id"), SERVICE);
    if ((rc = rrset_get(&rest, &has, d, txt, err)) < 0)
        return rc;
    if (!has)
        goto out; /* already gone */
    if (!(body = json_object_new_object()) || !(path = rrset_path(txt, true))) {
        rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        goto out;
    }
    /* The other values stay; an empty list deletes the RRset. */
    json_object_object_add(body, "records", json_object_get(rest));
    rc = call(d, "PATCH", path, NULL, body, NULL, NULL, err);
out:
    json_object_put(rest);
    json_object_put(body);
    free(path);
    return rc;
}

static const char *const ds_prefixes[] = { "DESEC", NULL };

const acme_dns_provider_ops acme__dns_desec_ops = {
    .version = ACME_DNS_PROVIDER_OPS_VERSION,
    .size = sizeof(acme_dns_provider_ops),
    .name = "desec",
    .aliases = NULL,
    .env_prefixes = ds_prefixes,
    .options = ds_options,
    .flags = 0,
    .default_ttl = 3600,
    /* The floor is per domain (minimum_ttl); create_txt raises the TTL to it. */
    .min_ttl = 0,
    .max_ttl = MAX_TTL,
    .default_settle_s = 0,
    .open = ds_open,
    .list_zones = ds_list_zones,
    .find_zone = ds_find_zone,
    .create_txt = ds_create_txt,
    .delete_txt = ds_delete_txt,
    .wait_applied = NULL,
    .destroy = ds_destroy,
};
