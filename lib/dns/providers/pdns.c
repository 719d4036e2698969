/*
 * dns/providers: PowerDNS Authoritative, through its HTTP API
 * (/api/v1/servers/<server>), authenticated with X-API-Key.
 *
 * PowerDNS keeps records as RRsets: a PATCH with changetype REPLACE sets
 * the whole value set of a name and type.  So adding a value reads the
 * RRset, appends the value when absent and writes all of them back;
 * removing one writes the rest back, or deletes the RRset when none is
 * left.  The core holds the instance's lock across each call, so this
 * read-modify-write does not race with itself within one process.
 *
 * Facts (verified against pdns-server 4.7.3, see the research notes):
 * names are FQDNs with a trailing dot (422 "not canonical" without it);
 * TXT content must be quoted (422 otherwise); REPLACE needs a ttl; DELETE
 * of an absent RRset answers 204; changes are served at once, so there is
 * no change status to poll; zones of kind Master/Slave reach secondaries
 * only after a NOTIFY (PUT /zones/<id>/notify), which lego sends too.
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

#define SERVICE "PowerDNS"

typedef struct pdns {
    acme_dns_env *env;
    char *base;        /* <api_url>/api/v<version>/servers/<server> */
    char *key_header;  /* "X-API-Key: <key>": a secret */
} pdns;

static const char *const env_api_url[] = { "PDNS_API_URL", NULL };
static const char *const env_api_key[] = { "PDNS_API_KEY", NULL };
static const char *const env_server[] = { "PDNS_SERVER_NAME", NULL };
static const char *const env_version[] = { "PDNS_API_VERSION", NULL };

static const acme_dns_option pdns_options[] = {
    { .key = "api_url", .env = env_api_url, .help = "the API's URL: http://host:8081" },
    { .key = "api_key", .env = env_api_key, .flags = ACME_DNS_OPT_REQUIRED | ACME_DNS_OPT_SECRET,
      .help = "the API key (api-key in pdns.conf)" },
    { .key = "server_name", .env = env_server, .default_value = "localhost",
      .help = "the server id in the API's paths" },
    { .key = "api_version", .env = env_version, .default_value = "1",
      .help = "the API version (1)" },
    { .key = NULL },
};

static int pdns_open(void **self_out, const acme_dns_settings *s, acme_dns_env *env,
                     acme_error **err)
{
    const char *url = acme_dns_settings_get(s, "api_url");
    const char *key = acme_dns_settings_get(s, "api_key");
    const char *server = acme_dns_settings_get(s, "server_name");
    const char *version = acme_dns_settings_get(s, "api_version");
    size_t len;
    pdns *p;

    *self_out = NULL;
    if (!url || !*url)
        url = acme_dns_settings_get(s, "base_url");
    if (!url || !*url)
        return acme_error_set(err, ACME_E_INVALID,
                              _("DNS provider pdns needs the setting api_url (or the environment "
                                "variable PDNS_API_URL)"));
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        return acme_error_set(err, ACME_E_INVALID,
                              _("DNS provider pdns: api_url must start with http:// or https://"));
    if (!key || !*key || strpbrk(key, "\r\n"))
        return acme_error_set(err, ACME_E_INVALID,
                              _("DNS provider pdns: the setting api_key is empty or malformed"));
    if (!server || !*server || strpbrk(server, "/?#% ") || !version || strpbrk(version, "/?#% "))
        return acme_error_set(err, ACME_E_INVALID,
                              _("DNS provider pdns: bad server_name or api_version"));
    if (!(p = calloc(1, sizeof(*p))))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    p->env = env;
    len = strlen(url);
    while (len && url[len - 1] == '/')
        len--;
    /* lego's PDNS_API_URL is the server root; accept one that already ends in /api too. */
    if (len >= 4 && strncmp(url + len - 4, "/api", 4) == 0)
        len -= 4;
    p->base = acme__asprintf("%.*s/api/v%s/servers/%s", (int)len, url, version, server);
    p->key_header = acme__asprintf("X-API-Key: %s", key);
    if (!p->base || !p->key_header) {
        free(p->base);
        acme__free_secret(p->key_header);
        free(p);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    *self_out = p;
    return ACME_OK;
}

static void pdns_destroy(void *self)
{
    pdns *p = self;

    free(p->base);
    acme__free_secret(p->key_header);
    free(p);
}

/* One API call; @p json_out (may be NULL) receives the parsed 2xx body. */
static int call(pdns *p, const char *method, const char *path, json_object *body,
                json_object **json_out, acme_error **err)
{
    const char *headers[] = { p->key_header, NULL };
    acme__dnsp_call c = { .env = p->env, .service = SERVICE, .method = method,
                          .base = p->base, .path = path, .headers = headers, .body = body };

    return acme__dnsp_call_json(&c, json_out, err);
}

static int pdns_list_zones(void *self, acme_dns_zone_list *out, acme_error **err)
{
    pdns *p = self;
    json_object *arr;
    int rc;

    if ((rc = call(p, "GET", "/zones", NULL, &arr, err)) < 0)
        return rc;
    if (!json_object_is_type(arr, json_type_array)) {
        json_object_put(arr);
        return acme_error_set(err, ACME_E_PROTOCOL, _("%s: the zone list is not an array"),
                              SERVICE);
    }
    for (size_t i = 0; i < json_object_array_length(arr) && rc == ACME_OK; i++) {
        json_object *z = json_object_array_get_idx(arr, i);
        const char *id = acme__json_str(z, "id"), *name = acme__json_str(z, "name");

        if (id && name)
            rc = acme_dns_zone_list_add(out, id, name, false, err);
    }
    json_object_put(arr);
    return rc;
}

/* The TXT RRset at @p fqdn: its records' contents (as stored: quoted) and ttl. */
typedef struct rrset {
    json_object *zone;     /* the GET answer, owning what follows */
    json_object *records;  /* the RRset's "records", or NULL when there is none */
    unsigned int ttl;
    const char *kind;      /* the zone's kind: "Native", "Master", "Slave" */
} rrset;

static char *zone_path(const acme_dns_zone *z, const char *suffix)
{
    /* PowerDNS ids are the zone name with a dot ("example.com."), URL-safe already. */
    return acme__asprintf("/zones/%s%s", z->id, suffix ? suffix : "");
}

static int rrset_get(rrset *out, pdns *p, const acme_dns_txt *txt, acme_error **err)
{
    char *q = acme__asprintf("?rrset_name=%s.&rrset_type=TXT", txt->fqdn);
    char *path = q ? zone_path(txt->zone, q) : NULL;
    json_object *sets;
    acme_error *e = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    free(q);
    if (!path)
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    rc = call(p, "GET", path, NULL, &out->zone, &e);
    free(path);
    if (rc == ACME_E_NOTFOUND) {
        acme_error_free(e);
        return acme_error_set(err, ACME_E_ZONENOTFOUND, _("%s has no zone %s"), SERVICE,
                              txt->zone->id);
    }
    if (rc < 0)
        return acme__error_give(err, e);
    out->kind = acme__json_str(out->zone, "kind");
    /* Older servers ignore the rrset_name filter: look at every RRset. */
    sets = acme__json_arr(out->zone, "rrsets");
    for (size_t i = 0; sets && i < json_object_array_length(sets); i++) {
        json_object *s = json_object_array_get_idx(sets, i), *ttl;
        const char *name = acme__json_str(s, "name"), *type = acme__json_str(s, "type");
        char *norm = NULL;

        if (!name || !type || strcmp(type, "TXT") != 0 ||
            acme__dns_name_normalize(&norm, name, NULL) < 0)
            continue;
        if (strcmp(norm, txt->fqdn) == 0) {
            out->records = acme__json_arr(s, "records");
            out->ttl = json_object_object_get_ex(s, "ttl", &ttl)
                           ? (unsigned int)json_object_get_int64(ttl)
                           : txt->ttl;
        }
        free(norm);
    }
    return ACME_OK;
}

/* PATCH the RRset: REPLACE with @p contents (quoted strings), or DELETE when NULL. */
static int rrset_put(pdns *p, const acme_dns_txt *txt, json_object *contents, unsigned int ttl,
                     acme_error **err)
{
    json_object *body = json_object_new_object(), *sets = json_object_new_array(),
                *set = json_object_new_object();
    char *name = acme__asprintf("%s.", txt->fqdn), *path = zone_path(txt->zone, NULL);
    int rc = ACME_E_NOMEM;

    if (!body || !sets || !set || !name || !path)
        goto out;
    json_object_object_add(set, "name", json_object_new_string(name));
    json_object_object_add(set, "type", json_object_new_string("TXT"));
    if (contents) {
        json_object *records = json_object_new_array();

        if (!records)
            goto out;
        json_object_object_add(set, "ttl", json_object_new_int64(ttl));
        json_object_object_add(set, "changetype", json_object_new_string("REPLACE"));
        for (size_t i = 0; i < json_object_array_length(contents); i++) {
            json_object *r = json_object_new_object();

            if (!r) {
                json_object_put(records);
                goto out;
            }
            json_object_object_add(
                r, "content", json_object_get(json_object_array_get_idx(contents, i)));
            json_object_object_add(r, "disabled", json_object_new_boolean(0));
            json_object_array_add(records, r);
        }
        json_object_object_add(set, "records", records);
    } else {
        json_object_object_add(set, "changetype", json_object_new_string("DELETE"));
    }
    json_object_array_add(sets, set);
    set = NULL;
    json_object_object_add(body, "rrsets", sets);
    sets = NULL;
    rc = call(p, "PATCH", path, body, NULL, err);
out:
    if (rc == ACME_E_NOMEM)
        acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    json_object_put(set);
    json_object_put(sets);
    json_object_put(body);
    free(name);
    free(path);
    return rc;
}

/*
 * Zones that replicate by AXFR (kinds Master and Slave) tell their
 * secondaries at once; a failed NOTIFY only delays them (their refresh
 * timer still runs), so it is logged, not an error.
 */
static void notify(pdns *p, const acme_dns_txt *txt, const char *kind)
{
    char *path;
    acme_error *e = NULL;

    if (!kind || (strcmp(kind, "Master") != 0 && strcmp(kind, "Slave") != 0))
        return;
    if (!(path = zone_path(txt->zone, "/notify")))
        return;
    if (call(p, "PUT", path, NULL, NULL, &e) < 0)
        ACME__LOGF(acme__dns_env_log(p->env), ACME_LOG_WARNING, "%s: NOTIFY of zone %s failed: %s",
                   SERVICE, txt->zone->name, acme_error_message(e));
    acme_error_free(e);
    free(path);
}

/* Whether a stored (quoted) content holds @p value. */
static bool content_is(json_object *record, const char *value)
{
    const char *c = acme__json_str(record, "content");
    char *plain = c ? acme__dns_txt_unquote(c) : NULL;
    bool same = plain && strcmp(plain, value) == 0;

    free(plain);
    return same;
}

static int pdns_create_txt(void *self, const acme_dns_txt *txt, char **handle_out,
                           acme_error **err)
{
    pdns *p = self;
    rrset rs;
    json_object *contents = NULL;
    char *quoted = NULL;
    int rc;

    *handle_out = NULL; /* no ids: RRsets are addressed by name */
    if ((rc = rrset_get(&rs, p, txt, err)) < 0)
        return rc;
    if (!(contents = json_object_new_array()) || !(quoted = acme__dns_txt_quote(txt->value))) {
        rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        goto out;
    }
    /* Keep every value already there (the other half of a wildcard + apex order). */
    for (size_t i = 0; rs.records && i < json_object_array_length(rs.records); i++) {
        json_object *r = json_object_array_get_idx(rs.records, i);
        const char *c = acme__json_str(r, "content");

        if (content_is(r, txt->value))
            goto out; /* already there: idempotent */
        if (c)
            json_object_array_add(contents, json_object_new_string(c));
    }
    json_object_array_add(contents, json_object_new_string(quoted));
    if ((rc = rrset_put(p, txt, contents, txt->ttl, err)) == ACME_OK)
        notify(p, txt, rs.kind);
out:
    free(quoted);
    json_object_put(contents);
    json_object_put(rs.zone);
    return rc;
}

static int pdns_delete_txt(void *self, const acme_dns_txt *txt, const char *handle,
                           acme_error **err)
{
    pdns *p = self;
    rrset rs;
    json_object *rest = NULL;
    bool found = false;
    int rc;

    (void)handle;
    if ((rc = rrset_get(&rs, p, txt, err)) < 0)
        return rc;
    if (!(rest = json_object_new_array())) {
        rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        goto out;
    }
    for (size_t i = 0; rs.records && i < json_object_array_length(rs.records); i++) {
        json_object *r = json_object_array_get_idx(rs.records, i);
        const char *c = acme__json_str(r, "content");

        if (content_is(r, txt->value))
            found = true;
        else if (c)
            json_object_array_add(rest, json_object_new_string(c));
    }
    if (!found)
        goto out; /* already gone */
    /* The other values stay; with none left the RRset goes. */
    rc = rrset_put(p, txt, json_object_array_length(rest) ? rest : NULL, rs.ttl, err);
    if (rc == ACME_OK)
        notify(p, txt, rs.kind);
out:
    json_object_put(rest);
    json_object_put(rs.zone);
    return rc;
}

static const char *const pdns_aliases[] = { "powerdns", NULL };
static const char *const pdns_prefixes[] = { "PDNS", NULL };

const acme_dns_provider_ops acme__dns_pdns_ops = {
    .version = ACME_DNS_PROVIDER_OPS_VERSION,
    .size = sizeof(acme_dns_provider_ops),
    .name = "pdns",
    .aliases = pdns_aliases,
    .env_prefixes = pdns_prefixes,
    .options = pdns_options,
    .flags = 0,
    .default_ttl = 120,
    .min_ttl = 0,
    .max_ttl = 0,
    /* Changes are served the moment the API answers. */
    .default_settle_s = 0,
    .open = pdns_open,
    .list_zones = pdns_list_zones,
    .find_zone = NULL,
    .create_txt = pdns_create_txt,
    .delete_txt = pdns_delete_txt,
    .wait_applied = NULL,
    .destroy = pdns_destroy,
};
