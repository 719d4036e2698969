/*
 * dns/providers: DigitalOcean, through its API v2
 * (https://api.digitalocean.com/v2), authenticated with a personal access
 * token (Authorization: Bearer).
 *
 * DigitalOcean keeps one record per TXT value with an integer id, names
 * relative to the domain ("@" at the apex) and values unquoted.  A zone's
 * id is its name.  Lists are paginated with links.pages.next (absent on
 * the last page) and meta.total.  create_txt returns the record id as the
 * handle; delete_txt deletes that id, or without one the records at the
 * name holding the value.  The API keeps duplicate values as separate
 * records, so create first looks for the value: adding twice is one
 * record.
 *
 * Facts: see the research notes (dns-providers.md §2.2); 201 on create,
 * 204 on delete, TTL at least 30 s.
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

#define SERVICE "DigitalOcean"
#define DEFAULT_BASE "https://api.digitalocean.com"
#define PER_PAGE 200
#define MAX_PAGES 1000

typedef struct dio {
    acme_dns_env *env;
    char *base;   /* "<base_url>/v2", no trailing slash */
    char *auth;   /* "Authorization: Bearer <token>": a secret */
} dio;

static const char *const env_token[] = { "DO_AUTH_TOKEN", NULL };
static const char *const env_base[] = { "DO_API_URL", "DO_BASE_URL", NULL };

static const acme_dns_option do_options[] = {
    { .key = "auth_token", .env = env_token,
      .flags = ACME_DNS_OPT_REQUIRED | ACME_DNS_OPT_SECRET,
      .help = "personal access token with domain read/write scopes" },
    { .key = "base_url", .env = env_base, .default_value = DEFAULT_BASE,
      .help = "API base URL (without /v2)" },
    { .key = NULL },
};

static void do_destroy(void *self)
{
    dio *d = self;

    if (!d)
        return;
    free(d->base);
    acme__free_secret(d->auth);
    free(d);
}

static int do_open(void **self_out, const acme_dns_settings *s, acme_dns_env *env,
                   acme_error **err)
{
    const char *token = acme_dns_settings_get(s, "auth_token");
    const char *base = acme_dns_settings_get(s, "base_url");
    size_t len;
    dio *d;

    *self_out = NULL;
    if (!token || !*token || strpbrk(token, "\r\n"))
        return acme_error_set(err, ACME_E_INVALID,
                              _("DNS provider digitalocean: the setting auth_token is empty or "
                                "malformed"));
    if (!base || (strncmp(base, "https://", 8) != 0 && strncmp(base, "http://", 7) != 0))
        return acme_error_set(err, ACME_E_INVALID,
                              _("DNS provider digitalocean: base_url must start with https:// or "
                                "http://"));
    if (!(d = calloc(1, sizeof(*d))))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    d->env = env;
    len = strlen(base);
    while (len && base[len - 1] == '/')
        len--;
    /* lego's DO_API_URL is the host; accept one that already ends in /v2. */
    if (len >= 3 && strncmp(base + len - 3, "/v2", 3) == 0)
        len -= 3;
    d->base = acme__asprintf("%.*s/v2", (int)len, base);
    d->auth = acme__asprintf("Authorization: Bearer %s", token);
    if (!d->base || !d->auth) {
        do_destroy(d);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    *self_out = d;
    return ACME_OK;
}

/*
 * One API call to @p url (absolute) or @p path (under the base).
 * @p json_out (may be NULL) receives the parsed body of a 2xx answer.
 */
static int call(dio *d, const char *method, const char *path, const char *url_abs,
                json_object *body, json_object **json_out, acme_error **err)
{
    const char *headers[] = { d->auth, NULL };
    acme__dnsp_call c = { .env = d->env, .service = SERVICE, .method = method,
                          .base = d->base, .path = path, .url = url_abs, .headers = headers,
                          .body = body, .flags = ACME__DNSP_OBJECT };

    return acme__dnsp_call_json(&c, json_out, err);
}

/* Whether a domain name from the API is safe in a URL path. */
static bool name_ok(const char *s)
{
    return acme__dnsp_path_safe(s, 253);
}

/*
 * The next page of a list: links.pages.next when it points into our base
 * URL (the token goes only where the user sent it), else page + 1 while
 * meta.total says there are more.  NULL and *more false on the last page.
 */
static char *next_page(dio *d, json_object *o, const char *first_path, int page, size_t got,
                       bool *more)
{
    json_object *links = acme__json_obj(o, "links"), *meta = acme__json_obj(o, "meta"), *tot;
    const char *next = acme__json_str(acme__json_obj(links, "pages"), "next");

    *more = false;
    if (next && strncmp(next, d->base, strlen(d->base)) == 0 &&
        next[strlen(d->base)] == '/') {
        *more = true;
        return acme__strdup(next);
    }
    if (got == 0)
        return NULL;
    if (next || (meta && json_object_object_get_ex(meta, "total", &tot) &&
                 (int64_t)page * PER_PAGE < json_object_get_int64(tot))) {
        *more = true;
        return acme__asprintf("%s%s%cpage=%d&per_page=%d", d->base, first_path,
                              strchr(first_path, '?') ? '&' : '?', page + 1, PER_PAGE);
    }
    return NULL;
}

/*
 * Walk every page of the list at @p path, calling @p fn on each element of
 * member @p member.  @p fn returns ACME_OK, or an error to stop.
 */
static int walk(dio *d, const char *path, const char *member,
                int (*fn)(void *ud, json_object *item, acme_error **err), void *ud,
                acme_error **err)
{
    char *url = acme__asprintf("%s%s%cpage=1&per_page=%d", d->base, path,
                               strchr(path, '?') ? '&' : '?', PER_PAGE);
    int rc = ACME_OK;

    for (int page = 1; url && page <= MAX_PAGES; page++) {
        json_object *o, *arr;
        bool more = false;
        size_t n;

        rc = call(d, "GET", NULL, url, NULL, &o, err);
        free(url);
        url = NULL;
        if (rc < 0)
            return rc;
        if (!(arr = acme__json_arr(o, member))) {
            json_object_put(o);
            return acme_error_set(err, ACME_E_PROTOCOL, _("%s: the answer lacks \"%s\""),
                                  SERVICE, member);
        }
        n = json_object_array_length(arr);
        for (size_t i = 0; i < n && rc == ACME_OK; i++)
            rc = fn(ud, json_object_array_get_idx(arr, i), err);
        url = rc == ACME_OK ? next_page(d, o, path, page, n, &more) : NULL;
        json_object_put(o);
        if (rc < 0)
            return rc;
        if (!url && more)
            return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    free(url); /* MAX_PAGES reached: what was seen is the answer */
    return rc;
}

static int zone_item(void *ud, json_object *z, acme_error **err)
{
    const char *name = acme__json_str(z, "name");

    /* The domain's name is its id. */
    return name_ok(name) ? acme_dns_zone_list_add(ud, name, name, false, err) : ACME_OK;
}

static int do_list_zones(void *self, acme_dns_zone_list *out, acme_error **err)
{
    return walk(self, "/domains", "domains", zone_item, out, err);
}

/* A search for the records at one name that hold one value. */
typedef struct search {
    const acme_dns_txt *txt;
    int64_t *ids;
    size_t n;
} search;

/* Whether a record's (relative or absolute) name is txt->fqdn. */
static bool name_is(const char *name, const acme_dns_txt *txt)
{
    char *norm = NULL;
    bool same;

    if (!name)
        return false;
    if (strcmp(name, "@") == 0)
        return !*txt->relative;
    if (strcmp(name, txt->relative) == 0)
        return true;
    /* lego sends FQDNs with a dot and DigitalOcean may echo them. */
    if (acme__dns_name_normalize(&norm, name, NULL) < 0)
        return false;
    same = strcmp(norm, txt->fqdn) == 0;
    free(norm);
    return same;
}

static int record_item(void *ud, json_object *r, acme_error **err)
{
    search *s = ud;
    const char *type = acme__json_str(r, "type"), *data = acme__json_str(r, "data");
    json_object *id;
    char *plain;
    bool same;
    int64_t *v;

    if (!type || strcmp(type, "TXT") != 0 || !data || !name_is(acme__json_str(r, "name"), s->txt))
        return ACME_OK;
    if (!json_object_object_get_ex(r, "id", &id) || !json_object_is_type(id, json_type_int))
        return ACME_OK;
    /* Values come back as sent (unquoted); tolerate quoted ones. */
    if (!(plain = acme__dns_txt_unquote(data)))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    same = strcmp(plain, s->txt->value) == 0;
    free(plain);
    if (!same)
        return ACME_OK;
    if (!(v = realloc(s->ids, (s->n + 1) * sizeof(*v))))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    s->ids = v;
    s->ids[s->n++] = json_object_get_int64(id);
    return ACME_OK;
}

/* The ids of the TXT records at txt->fqdn holding txt->value. */
static int find_records(dio *d, const acme_dns_txt *txt, search *s, acme_error **err)
{
    /* "name" filters by the fully qualified name; the match is checked again here. */
    char *path = acme__asprintf("/domains/%s/records?type=TXT&name=%s", txt->zone->id, txt->fqdn);
    int rc;

    memset(s, 0, sizeof(*s));
    s->txt = txt;
    if (!path)
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    rc = walk(d, path, "domain_records", record_item, s, err);
    free(path);
    if (rc < 0) {
        free(s->ids);
        s->ids = NULL;
        s->n = 0;
    }
    return rc;
}

static int do_create_txt(void *self, const acme_dns_txt *txt, char **handle_out,
                         acme_error **err)
{
    dio *d = self;
    json_object *body = NULL, *o = NULL, *id;
    char *path = NULL;
    search s;
    int rc;

    *handle_out = NULL;
    if (!name_ok(txt->zone->id))
        return acme_error_set(err, ACME_E_INVALID, _("%s: malformed zone id"), SERVICE);
    /* Already there: its id is the handle (the API would store a duplicate). */
    if ((rc = find_records(d, txt, &s, err)) < 0)
        return rc;
    if (s.n) {
        *handle_out = acme__asprintf("%lld", (long long)s.ids[0]);
        free(s.ids);
        return *handle_out ? ACME_OK
                           : acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    free(s.ids);
    if (!(body = json_object_new_object()) ||
        !(path = acme__asprintf("/domains/%s/records", txt->zone->id))) {
        rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        goto out;
    }
    json_object_object_add(body, "type", json_object_new_string("TXT"));
    json_object_object_add(body, "name", json_object_new_string(*txt->relative ? txt->relative
                                                                                 : "@"));
    json_object_object_add(body, "data", json_object_new_string(txt->value));
    json_object_object_add(body, "ttl", json_object_new_int64(txt->ttl));
    if ((rc = call(d, "POST", path, NULL, body, &o, err)) < 0)
        goto out;
    if (!json_object_object_get_ex(acme__json_obj(o, "domain_record"), "id", &id) ||
        !json_object_is_type(id, json_type_int)) {
        rc = acme_error_set(err, ACME_E_PROTOCOL, _("%s: the new record has no id"), SERVICE);
        goto out;
    }
    if (!(*handle_out = acme__asprintf("%lld", (long long)json_object_get_int64(id))))
        rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
out:
    json_object_put(o);
    json_object_put(body);
    free(path);
    return rc;
}

static int delete_id(dio *d, const acme_dns_txt *txt, long long id, acme_error **err)
{
    char *path = acme__asprintf("/domains/%s/records/%lld", txt->zone->id, id);
    acme_error *e = NULL;
    int rc;

    if (!path)
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    rc = call(d, "DELETE", path, NULL, NULL, NULL, &e);
    free(path);
    return acme__dnsp_gone_ok(rc, e, err); /* a 404: already gone */
}

static int do_delete_txt(void *self, const acme_dns_txt *txt, const char *handle,
                         acme_error **err)
{
    dio *d = self;
    search s;
    char *end = NULL;
    long long id;
    int rc;

    if (!name_ok(txt->zone->id))
        return acme_error_set(err, ACME_E_INVALID, _("%s: malformed zone id"), SERVICE);
    if (handle && *handle && (id = strtoll(handle, &end, 10)) > 0 && !*end)
        return delete_id(d, txt, id, err);
    if ((rc = find_records(d, txt, &s, err)) < 0)
        return rc;
    for (size_t i = 0; i < s.n && rc == ACME_OK; i++)
        rc = delete_id(d, txt, (long long)s.ids[i], err);
    free(s.ids);
    return rc;
}

static const char *const do_aliases[] = { "do", NULL };
static const char *const do_prefixes[] = { "DO", NULL };

const acme_dns_provider_ops acme__dns_digitalocean_ops = {
    .version = ACME_DNS_PROVIDER_OPS_VERSION,
    .size = sizeof(acme_dns_provider_ops),
    .name = "digitalocean",
    .aliases = do_aliases,
    .env_prefixes = do_prefixes,
    .options = do_options,
    .flags = 0,
    .default_ttl = 30,
    .min_ttl = 30, /* "minimum TTL 30 s for all DNS records" */
    .max_ttl = 0,
    .default_settle_s = 0,
    .open = do_open,
    .list_zones = do_list_zones,
    .find_zone = NULL,
    .create_txt = do_create_txt,
    .delete_txt = do_delete_txt,
    .wait_applied = NULL,
    .destroy = do_destroy,
};
