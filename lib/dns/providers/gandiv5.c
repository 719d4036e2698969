/*
 * dns/providers: Gandi LiveDNS (API v5, https://api.gandi.net/v5/livedns),
 * authenticated with a personal access token ("Authorization: Bearer")
 * or the deprecated API key ("Authorization: Apikey").
 *
 * LiveDNS keeps records as RRsets addressed by zone, relative name and
 * type: PUT /domains/<zone>/records/<name>/TXT replaces the whole value
 * set.  Adding a value reads the RRset and writes it back with the value
 * appended; removing one writes back the rest, or DELETEs the RRset when
 * none is left.  The core holds the instance's lock across each call, so
 * the read-modify-write does not race with itself within one process
 * (lego's Gandi provider holds a mutex for the same reason).
 *
 * Facts (research notes, section 2.5): zone ids are the zone names
 * ("fqdn"); the apex is "@"; values are sent unquoted and may come back
 * quoted; TTL 300..2592000.  Zone-list pagination (page, per_page, a
 * Total-Count header) is inferred, so the listing tolerates a server that
 * ignores it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <acme/sys/error.h>

#include "dns/dns.h"
#include "dns/providers/common.h"
#include "util/error.h"
#include "util/i18n.h"
#include "util/json.h"
#include "util/util.h"

#define SERVICE "Gandi LiveDNS"
#define DEFAULT_BASE "https://api.gandi.net/v5/livedns"
/* Pages of the zone list read at most (a server that ignores paging stops earlier). */
#define MAX_PAGES 1000

typedef struct gandi {
    acme_dns_env *env;
    char *base;         /* no trailing slash */
    char *auth_header;  /* "Authorization: Bearer <PAT>" or "... Apikey <key>": a secret */
    unsigned int page_size;
} gandi;

static const char *const env_pat[] = { "GANDIV5_PERSONAL_ACCESS_TOKEN", NULL };
static const char *const env_key[] = { "GANDIV5_API_KEY", NULL };
static const char *const env_page[] = { "GANDIV5_PAGE_SIZE", NULL };

static const acme_dns_option gandi_options[] = {
    { .key = "personal_access_token", .env = env_pat, .flags = ACME_DNS_OPT_SECRET,
      .help = "a personal access token (sent as Authorization: Bearer)" },
    { .key = "api_key", .env = env_key, .flags = ACME_DNS_OPT_SECRET,
      .help = "the deprecated API key (sent as Authorization: Apikey)" },
    { .key = "page_size", .env = env_page, .default_value = "100",
      .help = "zones per page when listing zones" },
    { .key = NULL },
};

static void gandi_destroy(void *self)
{
    gandi *g = self;

    if (!g)
        return;
    free(g->base);
    acme__free_secret(g->auth_header);
    free(g);
}

static int gandi_open(void **self_out, const acme_dns_settings *s, acme_dns_env *env,
                      acme_error **err)
{
    const char *pat = acme_dns_settings_get(s, "personal_access_token");
    const char *key = acme_dns_settings_get(s, "api_key");
    const char *url = acme_dns_settings_get(s, "base_url");
    unsigned int page = 0;
    size_t len;
    gandi *g;
    int rc;

    *self_out = NULL;
    if (!url || !*url)
        url = DEFAULT_BASE;
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        return acme_error_set(err, ACME_E_INVALID,
                              _("DNS provider gandiv5: base_url must start with http:// or "
                                "https://"));
    if ((!pat || !*pat) && (!key || !*key))
        return acme_error_set(err, ACME_E_INVALID,
                              _("DNS provider gandiv5 needs the setting personal_access_token "
                                "(GANDIV5_PERSONAL_ACCESS_TOKEN) or api_key (GANDIV5_API_KEY)"));
    if ((pat && strpbrk(pat, "\r\n")) || (key && strpbrk(key, "\r\n")))
        return acme_error_set(err, ACME_E_INVALID,
                              _("DNS provider gandiv5: the credential is malformed"));
    if ((rc = acme_dns_settings_get_uint(s, "page_size", 100, &page, err)) < 0)
        return rc;
    if (!page || page > 1000)
        return acme_error_set(err, ACME_E_INVALID,
                              _("DNS provider gandiv5: page_size must be 1 to 1000"));
    if (!(g = calloc(1, sizeof(*g))))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    g->env = env;
    g->page_size = page;
    len = strlen(url);
    while (len && url[len - 1] == '/')
        len--;
    g->base = acme__strndup(url, len);
    /* The token wins when both are set: the API key is deprecated. */
    g->auth_header = pat && *pat ? acme__asprintf("Authorization: Bearer %s", pat)
                                 : acme__asprintf("Authorization: Apikey %s", key);
    if (!g->base || !g->auth_header) {
        gandi_destroy(g);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    *self_out = g;
    return ACME_OK;
}

/*
 * One API call.  @p json_out (may be NULL) receives the parsed 2xx body;
 * @p resp_out (may be NULL) the response, for its headers.
 */
static int call(gandi *g, const char *method, const char *path, json_object *body,
                json_object **json_out, acme__rest_response *resp_out, acme_error **err)
{
    const char *headers[] = { g->auth_header, NULL };
    acme__dnsp_call c = { .env = g->env, .service = SERVICE, .method = method,
                          .base = g->base, .path = path, .headers = headers, .body = body,
                          .resp_out = resp_out };

    return acme__dnsp_call_json(&c, json_out, err);
}

/* GET /domains, page by page (tiny pages in tests), until a short page or the total. */
static int gandi_list_zones(void *self, acme_dns_zone_list *out, acme_error **err)
{
    gandi *g = self;
    char *first = NULL; /* the first zone of the previous page: a server ignoring paging repeats it */
    int rc = ACME_OK;

    for (unsigned int page = 1; page <= MAX_PAGES && rc == ACME_OK; page++) {
        acme__rest_response resp = ACME__REST_RESPONSE_INIT;
        json_object *arr = NULL;
        char *path = acme__asprintf("/domains?page=%u&per_page=%u", page, g->page_size);
        const char *total;
        size_t n;
        bool repeat = false;

        if (!path)
            return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        rc = call(g, "GET", path, NULL, &arr, &resp, err);
        free(path);
        if (rc < 0) {
            acme__rest_response_clear(&resp);
            break;
        }
        if (!json_object_is_type(arr, json_type_array)) {
            json_object_put(arr);
            acme__rest_response_clear(&resp);
            rc = acme_error_set(err, ACME_E_PROTOCOL, _("%s: the zone list is not an array"),
                                SERVICE);
            break;
        }
        n = json_object_array_length(arr);
        for (size_t i = 0; i < n && rc == ACME_OK; i++) {
            const char *fqdn = acme__json_str(json_object_array_get_idx(arr, i), "fqdn");

            if (!fqdn)
                continue;
            if (i == 0) {
                repeat = first && strcmp(first, fqdn) == 0;
                free(first);
                if (!(first = acme__strdup(fqdn)))
                    rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
                if (repeat)
                    break;
            }
            if (rc == ACME_OK)
                rc = acme_dns_zone_list_add(out, fqdn, fqdn, false, err);
        }
        total = acme__rest_response_header(&resp, "Total-Count");
        json_object_put(arr);
        if (rc == ACME_OK &&
            (repeat || n < g->page_size || (total && out->n >= strtoull(total, NULL, 10)))) {
            acme__rest_response_clear(&resp);
            break;
        }
        acme__rest_response_clear(&resp);
    }
    free(first);
    return rc;
}

/* "/domains/<zone>/records/<name>/TXT"; the apex is "@". */
static char *rrset_path(const acme_dns_txt *txt)
{
    return acme__asprintf("/domains/%s/records/%s/TXT", txt->zone->id,
                          *txt->relative ? txt->relative : "@");
}

/* The RRset's values as returned (array of strings, owned) and TTL; an empty array when absent. */
static int rrset_get(json_object **values, unsigned int *ttl, gandi *g, const acme_dns_txt *txt,
                     acme_error **err)
{
    char *path = rrset_path(txt);
    json_object *o = NULL, *v, *t;
    acme_error *e = NULL;
    int rc;

    *values = NULL;
    *ttl = txt->ttl;
    if (!path)
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    rc = call(g, "GET", path, NULL, &o, NULL, &e);
    free(path);
    if (rc == ACME_E_NOTFOUND) { /* no RRset (lego treats a 404 here as empty) */
        acme_error_free(e);
        if (!(*values = json_object_new_array()))
            return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        return ACME_OK;
    }
    if (rc < 0)
        return acme__error_give(err, e);
    v = acme__json_arr(o, "rrset_values");
    if (!json_object_is_type(o, json_type_object) || !v) {
        json_object_put(o);
        return acme_error_set(err, ACME_E_PROTOCOL, _("%s: the TXT record set has no values"),
                              SERVICE);
    }
    if (json_object_object_get_ex(o, "rrset_ttl", &t) && json_object_get_int64(t) > 0)
        *ttl = (unsigned int)json_object_get_int64(t);
    *values = json_object_get(v);
    json_object_put(o);
    return ACME_OK;
}

/* Whether a stored value (quoted or not) is @p value. */
static bool value_is(json_object *stored, const char *value)
{
    const char *s = json_object_get_string(stored);
    char *plain;
    bool same;

    if (!json_object_is_type(stored, json_type_string) || !s)
        return false;
    if (s[0] != '"')
        return strcmp(s, value) == 0;
    plain = acme__dns_txt_unquote(s);
    same = plain && strcmp(plain, value) == 0;
    free(plain);
    return same;
}

/* PUT the RRset with @p values (strings, sent as they are). */
static int rrset_put(gandi *g, const acme_dns_txt *txt, json_object *values, unsigned int ttl,
                     acme_error **err)
{
    json_object *body = json_object_new_object();
    char *path = rrset_path(txt);
    acme_error *e = NULL;
    int rc;

    if (!body || !path) {
        json_object_put(body);
        free(path);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    json_object_object_add(body, "rrset_ttl", json_object_new_int64(ttl));
    json_object_object_add(body, "rrset_values", json_object_get(values));
    rc = call(g, "PUT", path, body, NULL, NULL, &e);
    json_object_put(body);
    free(path);
    if (rc == ACME_E_NOTFOUND) {
        /* A PUT creates the RRset: a 404 is the zone ("Unknown zone"). */
        acme_error_free(e);
        return acme_error_set(err, ACME_E_ZONENOTFOUND, _("%s has no zone %s"), SERVICE,
                              txt->zone->id);
    }
    return rc < 0 ? acme__error_give(err, e) : rc;
}

static int gandi_create_txt(void *self, const acme_dns_txt *txt, char **handle_out,
                            acme_error **err)
{
    gandi *g = self;
    json_object *values;
    unsigned int ttl;
    int rc;

    *handle_out = NULL; /* RRsets are addressed by name */
    if ((rc = rrset_get(&values, &ttl, g, txt, err)) < 0)
        return rc;
    for (size_t i = 0; i < json_object_array_length(values); i++)
        if (value_is(json_object_array_get_idx(values, i), txt->value)) {
            json_object_put(values); /* already there: idempotent */
            return ACME_OK;
        }
    /* Every value already there stays (the other half of a wildcard + apex order). */
    json_object_array_add(values, json_object_new_string(txt->value));
    rc = rrset_put(g, txt, values, txt->ttl, err);
    json_object_put(values);
    return rc;
}

static int gandi_delete_txt(void *self, const acme_dns_txt *txt, const char *handle,
                            acme_error **err)
{
    gandi *g = self;
    json_object *values, *rest;
    unsigned int ttl;
    bool found = false;
    int rc;

    (void)handle;
    if ((rc = rrset_get(&values, &ttl, g, txt, err)) < 0)
        return rc;
    if (!(rest = json_object_new_array())) {
        json_object_put(values);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    for (size_t i = 0; i < json_object_array_length(values); i++) {
        json_object *v = json_object_array_get_idx(values, i);

        if (value_is(v, txt->value))
            found = true;
        else
            json_object_array_add(rest, json_object_get(v));
    }
    if (!found) {
        rc = ACME_OK; /* already gone */
    } else if (json_object_array_length(rest)) {
        /* The other values stay, at the RRset's own TTL. */
        rc = rrset_put(g, txt, rest, ttl, err);
    } else {
        char *path = rrset_path(txt);

        rc = path ? call(g, "DELETE", path, NULL, NULL, NULL, err)
                  : acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        free(path);
    }
    json_object_put(rest);
    json_object_put(values);
    return rc;
}

static const char *const gandi_aliases[] = { "gandi", "gandi_live", NULL };
static const char *const gandi_prefixes[] = { "GANDIV5", NULL };

const acme_dns_provider_ops acme__dns_gandiv5_ops = {
    .version = ACME_DNS_PROVIDER_OPS_VERSION,
    .size = sizeof(acme_dns_provider_ops),
    .name = "gandiv5",
    .aliases = gandi_aliases,
    .env_prefixes = gandi_prefixes,
    .options = gandi_options,
    .flags = 0,
    .default_ttl = 300,
    .min_ttl = 300,
    .max_ttl = 2592000,
    /* Edges lag (lego polls up to 20 min): the propagation check waits, not a fixed delay. */
    .default_settle_s = 0,
    .open = gandi_open,
    .list_zones = gandi_list_zones,
    .find_zone = NULL,
    .create_txt = gandi_create_txt,
    .delete_txt = gandi_delete_txt,
    .wait_applied = NULL,
    .destroy = gandi_destroy,
};
