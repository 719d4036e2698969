/*
 * dns/providers: Linode (Akamai), through its API v4
 * (https://api.linode.com/v4), authenticated with a personal access token
 * (Authorization: Bearer).
 *
 * Linode keeps one record per TXT value with an integer id; a domain
 * (zone) has an integer id too.  Records are named relative to the domain
 * ("" at the apex) and their values ("target") are unquoted.  Lists are
 * paginated ({"data", "page", "pages"}) and filtered with the X-Filter
 * header (a JSON object).  create_txt returns the record id as the handle.
 * The API stores duplicates, so create looks for the value first.
 *
 * TTLs: ttl_sec takes a fixed set of values and "any other value will be
 * rounded to the nearest valid value"; we round ourselves so the record
 * holds what we sent.  Linode's name servers load changes on a cycle of
 * about 15 minutes (lego waits for the next quarter hour plus 7 minutes),
 * so this provider's default propagation timeout is 22 minutes and its
 * polling interval 15 s.
 *
 * Facts: see the research notes (dns-providers.md §2.6).  Errors come as
 * {"errors": [{"reason": "...", "field": "..."}]}.
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

#define SERVICE "Linode"
#define DEFAULT_BASE "https://api.linode.com/v4"
#define PAGE_SIZE 100
#define MAX_PAGES 1000

typedef struct ln {
    acme_dns_env *env;
    char *base;   /* no trailing slash */
    char *auth;   /* "Authorization: Bearer <token>": a secret */
} ln;

static const char *const env_token[] = { "LINODE_TOKEN", NULL };
static const char *const env_timeout[] = { "LINODE_PROPAGATION_TIMEOUT", NULL };
static const char *const env_interval[] = { "LINODE_POLLING_INTERVAL", NULL };

static const acme_dns_option ln_options[] = {
    { .key = "token", .env = env_token, .flags = ACME_DNS_OPT_REQUIRED | ACME_DNS_OPT_SECRET,
      .help = "personal access token with domains:read_write" },
    { .key = "base_url", .default_value = DEFAULT_BASE, .help = "API base URL",
      .env = (const char *const[]){ "LINODE_BASE_URL", NULL } },
    /* Core settings with Linode's own defaults (its name servers' reload cycle). */
    { .key = "propagation_timeout", .env = env_timeout, .default_value = "1320",
      .help = "seconds to wait for the name servers (default: 22 minutes)" },
    { .key = "polling_interval", .env = env_interval, .default_value = "15",
      .help = "seconds between two propagation checks" },
    { .key = NULL },
};

/* The TTLs Linode stores (0 is "the domain's default"). */
static const unsigned int valid_ttls[] = { 300,    3600,   7200,    14400,   28800,  57600,
                                           86400,  172800, 345600,  604800,  1209600, 2419200 };

/* The valid TTL nearest to @p ttl (the larger one on a tie). */
static unsigned int round_ttl(unsigned int ttl)
{
    unsigned int best = valid_ttls[0];

    for (size_t i = 0; i < ACME_ARRAY_SIZE(valid_ttls); i++) {
        unsigned int v = valid_ttls[i];
        unsigned int d = v > ttl ? v - ttl : ttl - v, bd = best > ttl ? best - ttl : ttl - best;

        if (d <= bd)
            best = v;
    }
    return best;
}

static void ln_destroy(void *self)
{
    ln *l = self;

    if (!l)
        return;
    free(l->base);
    acme__free_secret(l->auth);
    free(l);
}

static int ln_open(void **self_out, const acme_dns_settings *s, acme_dns_env *env,
                   acme_error **err)
{
    const char *token = acme_dns_settings_get(s, "token");
    const char *base = acme_dns_settings_get(s, "base_url");
    size_t len;
    ln *l;

    *self_out = NULL;
    if (!token || !*token || strpbrk(token, "\r\n"))
        return acme_error_set(err, ACME_E_INVALID,
                              _("DNS provider linode: the setting token is empty or malformed"));
    if (!base || (strncmp(base, "https://", 8) != 0 && strncmp(base, "http://", 7) != 0))
        return acme_error_set(err, ACME_E_INVALID,
                              _("DNS provider linode: base_url must start with https:// or "
                                "http://"));
    if (!(l = calloc(1, sizeof(*l))))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    l->env = env;
    len = strlen(base);
    while (len && base[len - 1] == '/')
        len--;
    l->base = acme__strndup(base, len);
    l->auth = acme__asprintf("Authorization: Bearer %s", token);
    if (!l->base || !l->auth) {
        ln_destroy(l);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    *self_out = l;
    return ACME_OK;
}

/*
 * Linode's error body, {"errors": [{"reason", "field"}]}: the generic
 * mapping knows "message" but not "reason", so put it in the error here.
 */
static void add_reason(acme_error *e, const acme__rest_response *resp)
{
    json_object *o = NULL, *first;
    const char *reason, *field;
    char *msg;

    if (!e || e->detail || !resp->body.len ||
        acme__json_parse(&o, resp->body.data, resp->body.len, SERVICE, NULL) < 0)
        return;
    first = json_object_array_get_idx(acme__json_arr(o, "errors"), 0);
    reason = first ? acme__json_str(first, "reason") : NULL;
    field = first ? acme__json_str(first, "field") : NULL;
    if (reason && (msg = acme__asprintf("%s: %.200s%s%.64s", e->message, reason,
                                        field ? _(", field ") : "", field ? field : ""))) {
        free(e->message);
        e->message = msg;
        e->detail = acme__strndup(reason, 300);
    }
    json_object_put(o);
}

/*
 * One API call; @p filter is an X-Filter JSON text or NULL; @p json_out
 * (may be NULL) receives the parsed 2xx body (an object).
 */
static int call(ln *l, const char *method, const char *path, const char *filter,
                json_object *body, json_object **json_out, acme_error **err)
{
    char *fh = filter ? acme__asprintf("X-Filter: %s", filter) : NULL;
    const char *headers[] = { l->auth, fh, NULL };
    acme__dnsp_call c = { .env = l->env, .service = SERVICE, .method = method,
                          .base = l->base, .path = path, .headers = headers, .body = body,
                          .flags = ACME__DNSP_OBJECT, .on_error = add_reason };
    int rc;

    if (filter && !fh) {
        if (json_out)
            *json_out = NULL;
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    rc = acme__dnsp_call_json(&c, json_out, err);
    free(fh);
    return rc;
}

/*
 * Walk every page of the list at @p path ({"data", "page", "pages"}),
 * calling @p fn on each item; @p fn returns ACME_OK or an error to stop.
 */
static int walk(ln *l, const char *path, const char *filter,
                int (*fn)(void *ud, json_object *item, acme_error **err), void *ud,
                acme_error **err)
{
    int rc = ACME_OK;

    for (int page = 1; page <= MAX_PAGES; page++) {
        char *p = acme__asprintf("%s?page=%d&page_size=%d", path, page, PAGE_SIZE);
        json_object *o, *data, *pages;
        size_t n;
        bool more;

        if (!p)
            return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        rc = call(l, "GET", p, filter, NULL, &o, err);
        free(p);
        if (rc < 0)
            return rc;
        if (!(data = acme__json_arr(o, "data"))) {
            json_object_put(o);
            return acme_error_set(err, ACME_E_PROTOCOL, _("%s: the list has no data"), SERVICE);
        }
        n = json_object_array_length(data);
        for (size_t i = 0; i < n && rc == ACME_OK; i++)
            rc = fn(ud, json_object_array_get_idx(data, i), err);
        more = n > 0 && json_object_object_get_ex(o, "pages", &pages) &&
               json_object_get_int(pages) > page;
        json_object_put(o);
        if (rc < 0 || !more)
            return rc;
    }
    return ACME_OK;
}

static int zone_item(void *ud, json_object *z, acme_error **err)
{
    json_object *id;
    const char *name = acme__json_str(z, "domain");
    char buf[24];

    if (!name || !json_object_object_get_ex(z, "id", &id) || !json_object_is_type(id, json_type_int))
        return ACME_OK;
    snprintf(buf, sizeof(buf), "%lld", (long long)json_object_get_int64(id));
    return acme_dns_zone_list_add(ud, buf, name, false, err);
}

static int ln_list_zones(void *self, acme_dns_zone_list *out, acme_error **err)
{
    return walk(self, "/domains", NULL, zone_item, out, err);
}

/* Whether a zone id is a decimal number (what list_zones gives). */
static bool zone_id_ok(const char *id)
{
    if (!id || !*id || strlen(id) > 20)
        return false;
    for (const char *p = id; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    return true;
}

typedef struct search {
    const acme_dns_txt *txt;
    int64_t *ids;
    size_t n;
} search;

static int record_item(void *ud, json_object *r, acme_error **err)
{
    search *s = ud;
    const char *type = acme__json_str(r, "type"), *name = acme__json_str(r, "name");
    const char *target = acme__json_str(r, "target");
    json_object *id;
    char *norm = NULL, *plain;
    bool same;
    int64_t *v;

    if (!type || strcmp(type, "TXT") != 0 || !name || !target ||
        !json_object_object_get_ex(r, "id", &id) || !json_object_is_type(id, json_type_int))
        return ACME_OK;
    /* Stored relative; lego matches the FQDN form too. */
    same = strcmp(name, s->txt->relative) == 0;
    if (!same && *name && acme__dns_name_normalize(&norm, name, NULL) == ACME_OK)
        same = strcmp(norm, s->txt->fqdn) == 0;
    free(norm);
    if (!same)
        return ACME_OK;
    if (!(plain = acme__dns_txt_unquote(target)))
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
static int find_records(ln *l, const acme_dns_txt *txt, search *s, acme_error **err)
{
    char *path = acme__asprintf("/domains/%s/records", txt->zone->id);
    json_object *f = json_object_new_object();
    char *filter = NULL;
    int rc;

    memset(s, 0, sizeof(*s));
    s->txt = txt;
    if (f) {
        json_object_object_add(f, "name", json_object_new_string(txt->relative));
        json_object_object_add(f, "type", json_object_new_string("TXT"));
        filter = acme__json_dump(f);
        json_object_put(f);
    }
    if (!path || !filter) {
        free(path);
        free(filter);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    /* The server filters by name and type; the match is checked again here. */
    rc = walk(l, path, filter, record_item, s, err);
    free(path);
    free(filter);
    if (rc < 0) {
        free(s->ids);
        s->ids = NULL;
        s->n = 0;
    }
    return rc;
}

static int ln_create_txt(void *self, const acme_dns_txt *txt, char **handle_out,
                         acme_error **err)
{
    ln *l = self;
    json_object *body = NULL, *o = NULL, *id;
    char *path = NULL;
    search s;
    int rc;

    *handle_out = NULL;
    if (!zone_id_ok(txt->zone->id))
        return acme_error_set(err, ACME_E_INVALID, _("%s: malformed zone id"), SERVICE);
    if ((rc = find_records(l, txt, &s, err)) < 0)
        return rc;
    if (s.n) { /* already there: its id is the handle */
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
    json_object_object_add(body, "name", json_object_new_string(txt->relative));
    json_object_object_add(body, "target", json_object_new_string(txt->value));
    json_object_object_add(body, "ttl_sec", json_object_new_int64(round_ttl(txt->ttl)));
    if ((rc = call(l, "POST", path, NULL, body, &o, err)) < 0)
        goto out;
    if (!json_object_object_get_ex(o, "id", &id) || !json_object_is_type(id, json_type_int)) {
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

static int delete_id(ln *l, const acme_dns_txt *txt, long long id, acme_error **err)
{
    char *path = acme__asprintf("/domains/%s/records/%lld", txt->zone->id, id);
    acme_error *e = NULL;
    int rc;

    if (!path)
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    rc = call(l, "DELETE", path, NULL, NULL, NULL, &e);
    free(path);
    return acme__dnsp_gone_ok(rc, e, err); /* a 404: already gone */
}

static int ln_delete_txt(void *self, const acme_dns_txt *txt, const char *handle,
                         acme_error **err)
{
    ln *l = self;
    search s;
    char *end = NULL;
    long long id;
    int rc;

    if (!zone_id_ok(txt->zone->id))
        return acme_error_set(err, ACME_E_INVALID, _("%s: malformed zone id"), SERVICE);
    if (handle && *handle && (id = strtoll(handle, &end, 10)) > 0 && !*end)
        return delete_id(l, txt, id, err);
    if ((rc = find_records(l, txt, &s, err)) < 0)
        return rc;
    for (size_t i = 0; i < s.n && rc == ACME_OK; i++)
        rc = delete_id(l, txt, (long long)s.ids[i], err);
    free(s.ids);
    return rc;
}

static const char *const ln_prefixes[] = { "LINODE", NULL };

const acme_dns_provider_ops acme__dns_linode_ops = {
    .version = ACME_DNS_PROVIDER_OPS_VERSION,
    .size = sizeof(acme_dns_provider_ops),
    .name = "linode",
    .aliases = NULL,
    .env_prefixes = ln_prefixes,
    .options = ln_options,
    .flags = 0,
    .default_ttl = 300,
    .min_ttl = 300,
    .max_ttl = 2419200,
    /* The long wait is the propagation check's (see propagation_timeout above). */
    .default_settle_s = 0,
    .open = ln_open,
    .list_zones = ln_list_zones,
    .find_zone = NULL,
    .create_txt = ln_create_txt,
    .delete_txt = ln_delete_txt,
    .wait_applied = NULL,
    .destroy = ln_destroy,
};
