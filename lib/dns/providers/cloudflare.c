/*
 * dns/providers: Cloudflare, through its API v4
 * (https://api.cloudflare.com/client/v4), authenticated with an API token
 * (Authorization: Bearer) or the legacy global key (X-Auth-Email and
 * X-Auth-Key).
 *
 * Cloudflare keeps one record per TXT value, each with its own id, so a
 * wildcard and its base name are two records at one name: create_txt
 * returns the new record's id as the handle and delete_txt deletes that id
 * (or, without a handle, the records at the name whose unquoted content is
 * the value).  Every answer is an envelope {"success", "errors" [{code,
 * message}], "result", "result_info"}; a 2xx with "success": false is an
 * error too.  TXT content is sent quoted ("\"v\""): the API no longer
 * quotes it and the dashboard warns about unquoted values.
 *
 * Facts: see the research notes (dns-providers.md §2.1).  Error codes that
 * mean "credentials refused" arrive with HTTP 400 as well (6003), and an
 * identical record answers 81058 (also 81053, 81057): the value is there,
 * so create looks its id up and succeeds.
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

#define SERVICE "Cloudflare"
#define DEFAULT_BASE "https://api.cloudflare.com/client/v4"
/* Zones per page (Cloudflare allows 5..50) and records per page. */
#define ZONES_PER_PAGE 50
#define RECORDS_PER_PAGE 100
/* A bound on pages, against a server that never says "last page". */
#define MAX_PAGES 1000

typedef struct cf {
    acme_dns_env *env;
    char *base;            /* no trailing slash */
    /* Header lines ("Authorization: Bearer ..."), NULL-terminated: secrets. */
    char *dns_auth[3];     /* for records */
    char *zone_auth[3];    /* for listing zones (CLOUDFLARE_ZONE_API_TOKEN) */
} cf;

static const char *const env_token[] = { "CLOUDFLARE_DNS_API_TOKEN", "CF_DNS_API_TOKEN", NULL };
static const char *const env_zone_token[] = { "CLOUDFLARE_ZONE_API_TOKEN", "CF_ZONE_API_TOKEN",
                                              NULL };
static const char *const env_email[] = { "CLOUDFLARE_EMAIL", "CF_API_EMAIL", NULL };
static const char *const env_key[] = { "CLOUDFLARE_API_KEY", "CF_API_KEY", NULL };
static const char *const env_base[] = { "CLOUDFLARE_BASE_URL", "CF_BASE_URL", NULL };

static const acme_dns_option cf_options[] = {
    { .key = "api_token", .env = env_token, .flags = ACME_DNS_OPT_SECRET,
      .help = "API token with Zone:Read and DNS:Edit (or email + api_key)" },
    { .key = "zone_token", .env = env_zone_token, .flags = ACME_DNS_OPT_SECRET,
      .help = "API token used to list zones (default: api_token)" },
    { .key = "email", .env = env_email, .help = "account email, with the global api_key" },
    { .key = "api_key", .env = env_key, .flags = ACME_DNS_OPT_SECRET,
      .help = "global API key (legacy), with email" },
    { .key = "base_url", .env = env_base, .default_value = DEFAULT_BASE,
      .help = "API base URL" },
    { .key = NULL },
};

/* Whether a token or key can go into a header line as it is. */
static bool header_safe(const char *s)
{
    return s && *s && !strpbrk(s, "\r\n");
}

static void cf_destroy(void *self)
{
    cf *c = self;

    if (!c)
        return;
    free(c->base);
    for (size_t i = 0; i < 3; i++) {
        acme__free_secret(c->dns_auth[i]);
        acme__free_secret(c->zone_auth[i]);
    }
    free(c);
}

static int cf_open(void **self_out, const acme_dns_settings *s, acme_dns_env *env,
                   acme_error **err)
{
    const char *token = acme_dns_settings_get(s, "api_token");
    const char *ztoken = acme_dns_settings_get(s, "zone_token");
    const char *email = acme_dns_settings_get(s, "email");
    const char *key = acme_dns_settings_get(s, "api_key");
    const char *base = acme_dns_settings_get(s, "base_url");
    size_t len;
    cf *c;

    *self_out = NULL;
    if (token && !*token)
        token = NULL;
    if (ztoken && !*ztoken)
        ztoken = NULL;
    /* lego: one token serves for both when only one is given. */
    if (!token)
        token = ztoken;
    if (!ztoken)
        ztoken = token;
    if (!token && (!email || !*email || !key || !*key))
        return acme_error_set(err, ACME_E_INVALID,
                              _("DNS provider cloudflare needs the setting api_token (or the "
                                "environment variable CLOUDFLARE_DNS_API_TOKEN), or email and "
                                "api_key (CLOUDFLARE_EMAIL, CLOUDFLARE_API_KEY)"));
    if ((token && (!header_safe(token) || !header_safe(ztoken))) ||
        (!token && (!header_safe(email) || !header_safe(key))))
        return acme_error_set(err, ACME_E_INVALID,
                              _("DNS provider cloudflare: a credential setting is malformed"));
    if (!base || (strncmp(base, "https://", 8) != 0 && strncmp(base, "http://", 7) != 0))
        return acme_error_set(err, ACME_E_INVALID,
                              _("DNS provider cloudflare: base_url must start with https:// or "
                                "http://"));
    if (!(c = calloc(1, sizeof(*c))))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    c->env = env;
    len = strlen(base);
    while (len && base[len - 1] == '/')
        len--;
    c->base = acme__strndup(base, len);
    if (token) {
        c->dns_auth[0] = acme__asprintf("Authorization: Bearer %s", token);
        c->zone_auth[0] = acme__asprintf("Authorization: Bearer %s", ztoken);
    } else {
        c->dns_auth[0] = acme__asprintf("X-Auth-Email: %s", email);
        c->dns_auth[1] = acme__asprintf("X-Auth-Key: %s", key);
        c->zone_auth[0] = acme__strdup(c->dns_auth[0]);
        c->zone_auth[1] = acme__strdup(c->dns_auth[1]);
    }
    if (!c->base || !c->dns_auth[0] || !c->zone_auth[0] ||
        (!token && (!c->dns_auth[1] || !c->zone_auth[1]))) {
        cf_destroy(c);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    *self_out = c;
    return ACME_OK;
}

/* The first Cloudflare error code in an envelope, or 0. */
static long envelope_code(json_object *o)
{
    json_object *errs = acme__json_arr(o, "errors"), *code;

    if (!errs || json_object_array_length(errs) == 0)
        return 0;
    if (!json_object_object_get_ex(json_object_array_get_idx(errs, 0), "code", &code))
        return 0;
    return (long)json_object_get_int64(code);
}

/*
 * Codes that mean the credentials were refused, whatever the HTTP status:
 * 6003/6103 (malformed auth headers, HTTP 400), 9103, 9109, 10000.
 */
static bool auth_code(long code)
{
    return code == 6003 || code == 6103 || code == 9103 || code == 9109 || code == 10000;
}

/*
 * One API call.  @p json_out receives the parsed envelope of a successful
 * answer; @p code_out (may be NULL) the first Cloudflare error code of a
 * failed one (so callers can tell "already exists" from other refusals).
 */
static int call(cf *c, bool zone_scope, const char *method, const char *path, json_object *body,
                json_object **json_out, long *code_out, acme_error **err)
{
    char *const *auth = zone_scope ? c->zone_auth : c->dns_auth;
    const char *headers[6];
    size_t nh = 0;
    acme__rest_request req = { 0 };
    acme__rest_response resp = ACME__REST_RESPONSE_INIT;
    char *url = acme__asprintf("%s%s", c->base, path), *text = NULL;
    json_object *o = NULL;
    acme_error *e = NULL;
    long code = 0;
    int rc;

    *json_out = NULL;
    if (code_out)
        *code_out = 0;
    for (size_t i = 0; auth[i]; i++)
        headers[nh++] = auth[i];
    headers[nh++] = "Accept: application/json";
    if (body)
        headers[nh++] = "Content-Type: application/json";
    headers[nh] = NULL;
    if (!url || (body && !(text = acme__json_dump(body)))) {
        free(url);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    req.method = method;
    req.url = url;
    req.headers = headers;
    req.body = text;
    req.service = SERVICE;
    rc = acme__rest_send(&resp, acme__dns_env_rest(c->env), &req, &e);
    if (rc == ACME_OK && !resp.body.len) {
        o = json_object_new_object(); /* tolerate an empty 2xx (a DELETE's 204) */
    } else if (resp.status >= 200 && resp.body.len &&
               acme__json_parse(&o, resp.body.data, resp.body.len, SERVICE,
                                rc == ACME_OK ? &e : NULL) < 0) {
        rc = rc == ACME_OK ? ACME_E_PROTOCOL : rc;
        o = NULL;
    }
    if (o)
        code = envelope_code(o);
    if (rc == ACME_OK && (!o || !json_object_is_type(o, json_type_object))) {
        rc = acme_error_set(&e, ACME_E_PROTOCOL, _("%s: %s %s: the answer is not a JSON object"),
                            SERVICE, method, path);
    } else if (rc == ACME_OK && !acme__json_bool(o, "success", true)) {
        /* A 2xx that says it failed: the status mapping could not see it. */
        char *msg = acme__rest_error_text(&resp);

        rc = acme_error_set(&e, ACME_E_REJECTED, _("%s refused %s %s (code %ld): %s"), SERVICE,
                            method, path, code, msg ? msg : _("no reason given"));
        if (e) {
            e->http_status = (int)resp.status;
            e->detail = msg;
        } else {
            free(msg);
        }
    }
    if (rc < 0 && e && auth_code(code)) {
        e->code = rc = ACME_E_AUTH;
        e->retryable = false;
    } else if (rc < 0 && e && code == 81044) {
        e->code = rc = ACME_E_NOTFOUND; /* "record does not exist" on delete */
    }
    if (rc < 0) {
        if (code_out)
            *code_out = code;
        json_object_put(o);
        o = NULL;
    }
    *json_out = o;
    acme__rest_response_clear(&resp);
    free(text);
    free(url);
    return rc < 0 ? acme__error_give(err, e ? e : acme__error_new(rc, NULL)) : ACME_OK;
}

/* Whether an id from the API is safe in a URL path (hex in practice). */
static bool id_ok(const char *id)
{
    return acme__dnsp_path_safe(id, 128);
}

/*
 * Pagination: "result_info" {page, per_page, total_pages}; the last page
 * is the one whose number reaches total_pages or, without result_info, an
 * empty or short one.
 */
static bool last_page(json_object *o, int page, size_t got, size_t per_page)
{
    json_object *info = acme__json_obj(o, "result_info"), *tp;

    if (got == 0)
        return true;
    if (info && json_object_object_get_ex(info, "total_pages", &tp) &&
        json_object_is_type(tp, json_type_int))
        return page >= json_object_get_int(tp);
    return got < per_page;
}

static int cf_list_zones(void *self, acme_dns_zone_list *out, acme_error **err)
{
    cf *c = self;
    int rc = ACME_OK;

    for (int page = 1; page <= MAX_PAGES; page++) {
        char path[96];
        json_object *o, *res;
        size_t n;
        bool last;

        snprintf(path, sizeof(path), "/zones?page=%d&per_page=%d", page, ZONES_PER_PAGE);
        if ((rc = call(c, true, "GET", path, NULL, &o, NULL, err)) < 0)
            return rc;
        if (!(res = acme__json_arr(o, "result"))) {
            json_object_put(o);
            return acme_error_set(err, ACME_E_PROTOCOL, _("%s: the zone list has no result"),
                                  SERVICE);
        }
        n = json_object_array_length(res);
        for (size_t i = 0; i < n && rc == ACME_OK; i++) {
            json_object *z = json_object_array_get_idx(res, i);
            const char *id = acme__json_str(z, "id"), *name = acme__json_str(z, "name");

            if (id_ok(id) && name)
                rc = acme_dns_zone_list_add(out, id, name, false, err);
        }
        last = last_page(o, page, n, ZONES_PER_PAGE);
        json_object_put(o);
        if (rc < 0 || last)
            return rc;
    }
    return ACME_OK;
}

/* Whether record @p r is a TXT record at @p fqdn holding @p value (quoted or not). */
static bool record_is(json_object *r, const char *fqdn, const char *value)
{
    const char *type = acme__json_str(r, "type"), *name = acme__json_str(r, "name");
    const char *content = acme__json_str(r, "content");
    char *norm = NULL, *plain;
    bool same;

    if (!type || strcmp(type, "TXT") != 0 || !name || !content ||
        acme__dns_name_normalize(&norm, name, NULL) < 0)
        return false;
    same = strcmp(norm, fqdn) == 0;
    free(norm);
    if (!same || !(plain = acme__dns_txt_unquote(content)))
        return false;
    same = strcmp(plain, value) == 0;
    free(plain);
    return same;
}

/*
 * The ids of the TXT records at txt->fqdn holding txt->value (all pages).
 * The API filters by type and name; the filter is checked again here, as
 * its exact semantics are not documented.
 */
static int find_records(cf *c, const acme_dns_txt *txt, char ***ids, size_t *nids,
                        acme_error **err)
{
    int rc = ACME_OK;

    *ids = NULL;
    *nids = 0;
    for (int page = 1; page <= MAX_PAGES; page++) {
        char *path = acme__asprintf("/zones/%s/dns_records?type=TXT&name=%s&page=%d&per_page=%d",
                                    txt->zone->id, txt->fqdn, page, RECORDS_PER_PAGE);
        json_object *o, *res;
        size_t n;
        bool last;

        if (!path) {
            rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
            break;
        }
        rc = call(c, false, "GET", path, NULL, &o, NULL, err);
        free(path);
        if (rc < 0)
            break;
        if (!(res = acme__json_arr(o, "result"))) {
            json_object_put(o);
            rc = acme_error_set(err, ACME_E_PROTOCOL, _("%s: the record list has no result"),
                                SERVICE);
            break;
        }
        n = json_object_array_length(res);
        for (size_t i = 0; i < n && rc == ACME_OK; i++) {
            json_object *r = json_object_array_get_idx(res, i);
            const char *id = acme__json_str(r, "id");
            char **v;

            if (!record_is(r, txt->fqdn, txt->value) || !id_ok(id))
                continue;
            if (!(v = realloc(*ids, (*nids + 1) * sizeof(*v))) || !(v[*nids] = acme__strdup(id))) {
                if (v)
                    *ids = v;
                rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
                break;
            }
            *ids = v;
            (*nids)++;
        }
        last = last_page(o, page, n, RECORDS_PER_PAGE);
        json_object_put(o);
        if (rc < 0 || last)
            break;
    }
    if (rc < 0) {
        acme_free_strv(*ids, *nids);
        *ids = NULL;
        *nids = 0;
    }
    return rc;
}

static int cf_create_txt(void *self, const acme_dns_txt *txt, char **handle_out,
                         acme_error **err)
{
    cf *c = self;
    json_object *body = json_object_new_object(), *o = NULL;
    char *quoted = acme__dns_txt_quote(txt->value);
    char *path = acme__asprintf("/zones/%s/dns_records", txt->zone->id);
    acme_error *e = NULL;
    long code = 0;
    int rc;

    *handle_out = NULL;
    if (!body || !quoted || !path) {
        rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        goto out;
    }
    if (!id_ok(txt->zone->id)) {
        rc = acme_error_set(err, ACME_E_INVALID, _("%s: malformed zone id"), SERVICE);
        goto out;
    }
    json_object_object_add(body, "type", json_object_new_string("TXT"));
    json_object_object_add(body, "name", json_object_new_string(txt->fqdn));
    json_object_object_add(body, "content", json_object_new_string(quoted));
    json_object_object_add(body, "ttl", json_object_new_int64(txt->ttl));
    rc = call(c, false, "POST", path, body, &o, &code, &e);
    if (rc == ACME_OK) {
        const char *id = acme__json_str(acme__json_obj(o, "result"), "id");

        if (!id_ok(id))
            rc = acme_error_set(err, ACME_E_PROTOCOL, _("%s: the new record has no id"),
                                SERVICE);
        else if (!(*handle_out = acme__strdup(id)))
            rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    } else if (code == 81058 || code == 81057 || code == 81053) {
        /* An identical record exists: the value is there; its id is the handle. */
        char **ids;
        size_t n;

        acme_error_free(e);
        e = NULL;
        if ((rc = find_records(c, txt, &ids, &n, err)) == ACME_OK) {
            if (n) {
                *handle_out = ids[0];
                ids[0] = NULL;
            }
            acme_free_strv(ids, n);
        }
    } else {
        rc = acme__error_give(err, e);
        e = NULL;
    }
out:
    acme_error_free(e);
    json_object_put(o);
    json_object_put(body);
    free(quoted);
    free(path);
    return rc;
}

static int delete_id(cf *c, const acme_dns_txt *txt, const char *id, acme_error **err)
{
    char *path = acme__asprintf("/zones/%s/dns_records/%s", txt->zone->id, id);
    json_object *o = NULL;
    acme_error *e = NULL;
    int rc;

    if (!path)
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    rc = call(c, false, "DELETE", path, NULL, &o, NULL, &e);
    free(path);
    json_object_put(o);
    return acme__dnsp_gone_ok(rc, e, err); /* a 404: already gone */
}

static int cf_delete_txt(void *self, const acme_dns_txt *txt, const char *handle,
                         acme_error **err)
{
    cf *c = self;
    char **ids = NULL;
    size_t n = 0;
    int rc;

    if (!id_ok(txt->zone->id))
        return acme_error_set(err, ACME_E_INVALID, _("%s: malformed zone id"), SERVICE);
    if (handle && id_ok(handle))
        return delete_id(c, txt, handle, err);
    /* No handle (another process created it): every record with this value goes. */
    if ((rc = find_records(c, txt, &ids, &n, err)) < 0)
        return rc;
    for (size_t i = 0; i < n && rc == ACME_OK; i++)
        rc = delete_id(c, txt, ids[i], err);
    acme_free_strv(ids, n);
    return rc;
}

static const char *const cf_aliases[] = { "cf", NULL };
static const char *const cf_prefixes[] = { "CLOUDFLARE", "CF", NULL };

const acme_dns_provider_ops acme__dns_cloudflare_ops = {
    .version = ACME_DNS_PROVIDER_OPS_VERSION,
    .size = sizeof(acme_dns_provider_ops),
    .name = "cloudflare",
    .aliases = cf_aliases,
    .env_prefixes = cf_prefixes,
    .options = cf_options,
    .flags = 0,
    .default_ttl = 120,
    /* The API takes 60..86400 (1: automatic); lego refuses less than 120. */
    .min_ttl = 120,
    .max_ttl = 86400,
    /* Edges serve a change within seconds; the propagation check covers the rest. */
    .default_settle_s = 0,
    .open = cf_open,
    .list_zones = cf_list_zones,
    .find_zone = NULL,
    .create_txt = cf_create_txt,
    .delete_txt = cf_delete_txt,
    .wait_applied = NULL,
    .destroy = cf_destroy,
};
