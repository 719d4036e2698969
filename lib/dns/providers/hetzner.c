/*
 * dns/providers: Hetzner DNS, through either of its two APIs.
 *
 * The current one is the Hetzner Cloud API (https://api.hetzner.cloud/v1,
 * Authorization: Bearer <project token>), where a zone holds RRsets and
 * values are added and removed one at a time by actions:
 * POST /zones/{zone}/rrsets/{name}/TXT/actions/add_records (creates the
 * RRset when missing) and .../remove_records (removing the last value
 * removes the RRset).  Actions run asynchronously: the answer carries
 * {"action": {"id", "status": "running"}} and GET /actions/{id} reports
 * "success" or "error" later.  create_txt returns the action id as the
 * handle, and wait_applied polls it; delete_txt polls its own action, as
 * nothing else would.  Values are sent quoted; names are relative ("@" at
 * the apex).  No read-modify-write is needed: the actions touch single
 * values, so a wildcard and its base name never overwrite each other.
 *
 * The legacy DNS Console API (https://dns.hetzner.com/api/v1,
 * Auth-API-Token: <key>), deprecated, is used when only `api_key` is set:
 * one record per value with a string id (GET /records?zone_id=,
 * POST /records, DELETE /records/{id}), values unquoted, TTL at least 60.
 *
 * Facts: see the research notes (dns-providers.md §2.4).  Answer statuses
 * of actions (201) and of the legacy API are inferred there: any 2xx is
 * success here.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <acme/sys/error.h>

#include "dns/dns.h"
#include "dns/providers/common.h"
#include "util/error.h"
#include "util/i18n.h"
#include "util/json.h"
#include "util/util.h"

#define SERVICE "Hetzner"
#define CLOUD_BASE "https://api.hetzner.cloud/v1"
#define LEGACY_BASE "https://dns.hetzner.com/api/v1"
#define PER_PAGE 50
#define MAX_PAGES 1000

typedef struct hz {
    acme_dns_env *env;
    const acme_dns_settings *s;
    bool legacy;       /* the DNS Console API */
    char *base;        /* no trailing slash */
    char *auth;        /* the credential header line: a secret */
} hz;

static const char *const env_token[] = { "HETZNER_API_TOKEN", NULL };
static const char *const env_key[] = { "HETZNER_API_KEY", NULL };

static const acme_dns_option hz_options[] = {
    { .key = "api_token", .env = env_token, .flags = ACME_DNS_OPT_SECRET,
      .help = "Hetzner Cloud API token (current API)" },
    { .key = "api_key", .env = env_key, .flags = ACME_DNS_OPT_SECRET,
      .help = "DNS Console API token (legacy API, deprecated)" },
    { .key = NULL },
};

static void hz_destroy(void *self)
{
    hz *h = self;

    if (!h)
        return;
    free(h->base);
    acme__free_secret(h->auth);
    free(h);
}

static int hz_open(void **self_out, const acme_dns_settings *s, acme_dns_env *env,
                   acme_error **err)
{
    const char *token = acme_dns_settings_get(s, "api_token");
    const char *key = acme_dns_settings_get(s, "api_key");
    const char *base = acme_dns_settings_get(s, "base_url");
    const char *cred;
    size_t len;
    hz *h;

    *self_out = NULL;
    if (token && !*token)
        token = NULL;
    if (!token && (!key || !*key))
        return acme_error_set(err, ACME_E_INVALID,
                              _("DNS provider hetzner needs the setting api_token (or the "
                                "environment variable HETZNER_API_TOKEN)"));
    cred = token ? token : key;
    if (strpbrk(cred, "\r\n"))
        return acme_error_set(err, ACME_E_INVALID,
                              _("DNS provider hetzner: a credential setting is malformed"));
    if (!base || !*base)
        base = token ? CLOUD_BASE : LEGACY_BASE;
    if (strncmp(base, "https://", 8) != 0 && strncmp(base, "http://", 7) != 0)
        return acme_error_set(err, ACME_E_INVALID,
                              _("DNS provider hetzner: base_url must start with https:// or "
                                "http://"));
    if (!(h = calloc(1, sizeof(*h))))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    h->env = env;
    h->s = s;
    /* lego too prefers the Cloud API token when both are set. */
    h->legacy = !token;
    len = strlen(base);
    while (len && base[len - 1] == '/')
        len--;
    h->base = acme__strndup(base, len);
    h->auth = token ? acme__asprintf("Authorization: Bearer %s", token)
                    : acme__asprintf("Auth-API-Token: %s", key);
    if (!h->base || !h->auth) {
        hz_destroy(h);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    if (h->legacy)
        ACME__LOGF(acme__dns_env_log(env), ACME_LOG_WARNING,
                   "DNS provider hetzner: api_key selects the deprecated DNS Console API; "
                   "use api_token (Hetzner Cloud API)");
    *self_out = h;
    return ACME_OK;
}

/* One API call; @p json_out (may be NULL) receives the parsed 2xx body (an object). */
static int call(hz *h, const char *method, const char *path, json_object *body,
                json_object **json_out, acme_error **err)
{
    const char *headers[] = { h->auth, NULL };
    acme__dnsp_call c = { .env = h->env, .service = SERVICE, .method = method,
                          .base = h->base, .path = path, .headers = headers, .body = body,
                          .flags = ACME__DNSP_OBJECT };

    return acme__dnsp_call_json(&c, json_out, err);
}

/* Whether an id from the API is safe in a URL path. */
static bool id_ok(const char *id)
{
    return acme__dnsp_path_safe(id, 128);
}

/* An id member that may be a number (Cloud) or a string (legacy), as text. */
static char *id_text(json_object *o, const char *key)
{
    json_object *v;

    if (!json_object_object_get_ex(o, key, &v))
        return NULL;
    if (json_object_is_type(v, json_type_int))
        return acme__asprintf("%lld", (long long)json_object_get_int64(v));
    if (json_object_is_type(v, json_type_string) && id_ok(json_object_get_string(v)))
        return acme__strdup(json_object_get_string(v));
    return NULL;
}

/*
 * Both APIs answer lists with meta.pagination {page, last_page,
 * next_page}: the Cloud API sets next_page (null on the last page), the
 * legacy one last_page.
 */
static bool more_pages(json_object *o, int page, size_t got)
{
    json_object *pg = acme__json_obj(acme__json_obj(o, "meta"), "pagination"), *v;

    if (!pg || got == 0)
        return false;
    if (json_object_object_get_ex(pg, "next_page", &v))
        return json_object_is_type(v, json_type_int) && json_object_get_int(v) > page;
    if (json_object_object_get_ex(pg, "last_page", &v))
        return json_object_get_int(v) > page;
    return false;
}

static int hz_list_zones(void *self, acme_dns_zone_list *out, acme_error **err)
{
    hz *h = self;
    int rc = ACME_OK;

    for (int page = 1; page <= MAX_PAGES; page++) {
        char path[64];
        json_object *o, *zones;
        size_t n;
        bool more;

        snprintf(path, sizeof(path), "/zones?page=%d&per_page=%d", page, PER_PAGE);
        if ((rc = call(h, "GET", path, NULL, &o, err)) < 0)
            return rc;
        if (!(zones = acme__json_arr(o, "zones"))) {
            json_object_put(o);
            return acme_error_set(err, ACME_E_PROTOCOL, _("%s: the zone list has no zones"),
                                  SERVICE);
        }
        n = json_object_array_length(zones);
        for (size_t i = 0; i < n && rc == ACME_OK; i++) {
            json_object *z = json_object_array_get_idx(zones, i);
            const char *name = acme__json_str(z, "name");
            char *id = id_text(z, "id");

            if (id && name)
                rc = acme_dns_zone_list_add(out, id, name, false, err);
            free(id);
        }
        more = more_pages(o, page, n);
        json_object_put(o);
        if (rc < 0 || !more)
            return rc;
    }
    return ACME_OK;
}

/* ---- the Cloud API: RRset actions ---- */

/* "/zones/{zone}/rrsets/{name}/TXT" + @p suffix. */
static char *rrset_path(const acme_dns_txt *txt, const char *suffix)
{
    return acme__asprintf("/zones/%s/rrsets/%s/TXT%s", txt->zone->id,
                          *txt->relative ? txt->relative : "@", suffix);
}

/* {"records": [{"value": "\"v\""}]}, with "ttl" when @p ttl is not 0. */
static json_object *records_body(const char *value, unsigned int ttl)
{
    json_object *body = json_object_new_object(), *recs = json_object_new_array(),
                *r = json_object_new_object();
    char *quoted = acme__dns_txt_quote(value);

    if (!body || !recs || !r || !quoted) {
        json_object_put(body);
        json_object_put(recs);
        json_object_put(r);
        free(quoted);
        return NULL;
    }
    if (ttl)
        json_object_object_add(body, "ttl", json_object_new_int64(ttl));
    json_object_object_add(r, "value", json_object_new_string(quoted));
    json_object_array_add(recs, r);
    json_object_object_add(body, "records", recs);
    free(quoted);
    return body;
}

/* Whether the RRset at txt->fqdn holds txt->value (false when there is none). */
static int rrset_has(bool *has, hz *h, const acme_dns_txt *txt, acme_error **err)
{
    char *path = rrset_path(txt, "");
    json_object *o = NULL, *recs;
    acme_error *e = NULL;
    int rc;

    *has = false;
    if (!path)
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    rc = call(h, "GET", path, NULL, &o, &e);
    free(path);
    if (rc == ACME_E_NOTFOUND) {
        acme_error_free(e);
        return ACME_OK;
    }
    if (rc < 0)
        return acme__error_give(err, e);
    recs = acme__json_arr(acme__json_obj(o, "rrset"), "records");
    for (size_t i = 0; recs && i < json_object_array_length(recs) && !*has; i++) {
        const char *v = acme__json_str(json_object_array_get_idx(recs, i), "value");
        char *plain = v ? acme__dns_txt_unquote(v) : NULL;

        *has = plain && strcmp(plain, txt->value) == 0;
        free(plain);
    }
    json_object_put(o);
    return ACME_OK;
}

/*
 * The action in an answer: its id (as text) when it is still running,
 * NULL when it is done.  ACME_E_REJECTED when it failed.
 */
static int action_state(char **id_out, json_object *o, const char *what, acme_error **err)
{
    json_object *a = acme__json_obj(o, "action");
    const char *status = acme__json_str(a, "status");

    *id_out = NULL;
    if (!a || !status)
        return acme_error_set(err, ACME_E_PROTOCOL, _("%s: %s: the answer has no action"),
                              SERVICE, what);
    if (strcmp(status, "success") == 0)
        return ACME_OK;
    if (strcmp(status, "error") == 0) {
        json_object *e = acme__json_obj(a, "error");
        const char *code = acme__json_str(e, "code"), *msg = acme__json_str(e, "message");

        return acme_error_set(err, ACME_E_REJECTED, _("%s: %s failed: %s%s%.200s"), SERVICE,
                              what, code ? code : "error", msg ? ": " : "", msg ? msg : "");
    }
    if (!(*id_out = id_text(a, "id")))
        return acme_error_set(err, ACME_E_PROTOCOL, _("%s: %s: the action has no id"), SERVICE,
                              what);
    return ACME_OK;
}

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Poll GET /actions/{id} until it leaves "running", at most @p timeout_ms
 * (ACME_E_TIMEOUT after that), pausing `polling_interval` seconds between
 * polls on the instance's cancellable wait.
 */
static int hz_wait_applied(void *self, const char *handle, int64_t timeout_ms, acme_error **err)
{
    hz *h = self;
    unsigned int interval_s = 2;
    int64_t deadline = mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    char path[160];
    int rc;

    if (h->legacy || !handle || !id_ok(handle))
        return ACME_OK; /* nothing to wait for: legacy changes are synchronous */
    if ((rc = acme_dns_settings_get_uint(h->s, "polling_interval", 2, &interval_s, err)) < 0)
        return rc;
    snprintf(path, sizeof(path), "/actions/%s", handle);
    for (;;) {
        json_object *o;
        char *running = NULL;

        if ((rc = call(h, "GET", path, NULL, &o, err)) < 0)
            return rc;
        rc = action_state(&running, o, _("the DNS change"), err);
        json_object_put(o);
        if (rc < 0 || !running)
            return rc;
        free(running);
        if (mono_ms() >= deadline)
            return acme_error_set(err, ACME_E_TIMEOUT,
                                  _("%s: the DNS change (action %s) still runs after %lld ms"),
                                  SERVICE, handle, (long long)timeout_ms);
        if ((rc = acme__dns_env_sleep(h->env, (int64_t)interval_s * 1000, err)) < 0)
            return rc;
    }
}

static int cloud_create(hz *h, const acme_dns_txt *txt, char **handle_out, acme_error **err)
{
    json_object *body = records_body(txt->value, txt->ttl), *o = NULL;
    char *path = rrset_path(txt, "/actions/add_records");
    acme_error *e = NULL;
    bool has = false;
    int rc;

    if (!body || !path) {
        rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        goto out;
    }
    rc = call(h, "POST", path, body, &o, &e);
    if (rc == ACME_E_REJECTED) {
        /* Refused; when the value is there already (a repeated add), that is success. */
        if (rrset_has(&has, h, txt, NULL) == ACME_OK && has) {
            acme_error_free(e);
            e = NULL;
            rc = ACME_OK;
        }
        goto out;
    }
    if (rc == ACME_OK)
        rc = action_state(handle_out, o, _("adding the TXT value"), &e);
out:
    if (rc < 0 && e)
        acme__error_give(err, e);
    else
        acme_error_free(e);
    json_object_put(o);
    json_object_put(body);
    free(path);
    return rc;
}

static int cloud_delete(hz *h, const acme_dns_txt *txt, acme_error **err)
{
    json_object *body = records_body(txt->value, 0), *o = NULL;
    char *path = rrset_path(txt, "/actions/remove_records"), *running = NULL;
    unsigned int timeout_s = 60;
    acme_error *e = NULL;
    bool has = true;
    int rc;

    if (!body || !path) {
        rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        goto out;
    }
    rc = call(h, "POST", path, body, &o, &e);
    if (rc == ACME_E_NOTFOUND ||
        (rc == ACME_E_REJECTED && rrset_has(&has, h, txt, NULL) == ACME_OK && !has)) {
        /* No such RRset, or refused because the value is not in it: already removed. */
        acme_error_free(e);
        e = NULL;
        rc = ACME_OK;
        goto out;
    }
    if (rc == ACME_OK)
        rc = action_state(&running, o, _("removing the TXT value"), &e);
    /* The core waits only for additions; a removal is checked here. */
    if (rc == ACME_OK && running) {
        acme_dns_settings_get_uint(h->s, "propagation_timeout", 60, &timeout_s, NULL);
        rc = hz_wait_applied(h, running, (int64_t)timeout_s * 1000, &e);
    }
out:
    if (rc < 0 && e)
        acme__error_give(err, e);
    else
        acme_error_free(e);
    free(running);
    json_object_put(o);
    json_object_put(body);
    free(path);
    return rc;
}

/* ---- the legacy DNS Console API: one record per value ---- */

/* The id of the legacy record at txt->fqdn holding txt->value, or NULL. */
static int legacy_find(char **id_out, hz *h, const acme_dns_txt *txt, acme_error **err)
{
    char *path = acme__asprintf("/records?zone_id=%s", txt->zone->id);
    json_object *o = NULL, *recs;
    const char *want = *txt->relative ? txt->relative : "@";
    int rc;

    *id_out = NULL;
    if (!path)
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    rc = call(h, "GET", path, NULL, &o, err);
    free(path);
    if (rc < 0)
        return rc;
    recs = acme__json_arr(o, "records");
    for (size_t i = 0; recs && i < json_object_array_length(recs) && !*id_out; i++) {
        json_object *r = json_object_array_get_idx(recs, i);
        const char *type = acme__json_str(r, "type"), *name = acme__json_str(r, "name");
        const char *value = acme__json_str(r, "value");
        char *plain;

        if (!type || strcmp(type, "TXT") != 0 || !name || strcmp(name, want) != 0 || !value)
            continue;
        if ((plain = acme__dns_txt_unquote(value)) && strcmp(plain, txt->value) == 0)
            *id_out = id_text(r, "id");
        free(plain);
    }
    json_object_put(o);
    return ACME_OK;
}

static int legacy_create(hz *h, const acme_dns_txt *txt, char **handle_out, acme_error **err)
{
    json_object *body = NULL, *o = NULL;
    int rc;

    if ((rc = legacy_find(handle_out, h, txt, err)) < 0 || *handle_out)
        return rc; /* an error, or the value is there already */
    if (!(body = json_object_new_object()))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    json_object_object_add(body, "name",
                           json_object_new_string(*txt->relative ? txt->relative : "@"));
    json_object_object_add(body, "type", json_object_new_string("TXT"));
    json_object_object_add(body, "value", json_object_new_string(txt->value));
    json_object_object_add(body, "ttl", json_object_new_int64(txt->ttl));
    json_object_object_add(body, "zone_id", json_object_new_string(txt->zone->id));
    rc = call(h, "POST", "/records", body, &o, err);
    json_object_put(body);
    if (rc < 0)
        return rc;
    if (!(*handle_out = id_text(acme__json_obj(o, "record"), "id")))
        rc = acme_error_set(err, ACME_E_PROTOCOL, _("%s: the new record has no id"), SERVICE);
    json_object_put(o);
    return rc;
}

static int legacy_delete(hz *h, const acme_dns_txt *txt, const char *handle, acme_error **err)
{
    char *id = NULL, *path;
    acme_error *e = NULL;
    int rc;

    if (handle && id_ok(handle)) {
        id = acme__strdup(handle);
    } else {
        if ((rc = legacy_find(&id, h, txt, err)) < 0)
            return rc;
        if (!id)
            return ACME_OK; /* already gone */
    }
    path = id ? acme__asprintf("/records/%s", id) : NULL;
    free(id);
    if (!path)
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    rc = call(h, "DELETE", path, NULL, NULL, &e);
    free(path);
    return acme__dnsp_gone_ok(rc, e, err);
}

static int hz_create_txt(void *self, const acme_dns_txt *txt, char **handle_out,
                         acme_error **err)
{
    hz *h = self;

    *handle_out = NULL;
    if (!id_ok(txt->zone->id))
        return acme_error_set(err, ACME_E_INVALID, _("%s: malformed zone id"), SERVICE);
    return h->legacy ? legacy_create(h, txt, handle_out, err)
                     : cloud_create(h, txt, handle_out, err);
}

static int hz_delete_txt(void *self, const acme_dns_txt *txt, const char *handle,
                         acme_error **err)
{
    hz *h = self;

    if (!id_ok(txt->zone->id))
        return acme_error_set(err, ACME_E_INVALID, _("%s: malformed zone id"), SERVICE);
    /* Cloud handles are action ids, of no use here: values are removed by value. */
    return h->legacy ? legacy_delete(h, txt, handle, err) : cloud_delete(h, txt, err);
}

static const char *const hz_prefixes[] = { "HETZNER", NULL };

const acme_dns_provider_ops acme__dns_hetzner_ops = {
    .version = ACME_DNS_PROVIDER_OPS_VERSION,
    .size = sizeof(acme_dns_provider_ops),
    .name = "hetzner",
    .aliases = NULL,
    .env_prefixes = hz_prefixes,
    .options = hz_options,
    .flags = 0,
    .default_ttl = 120,
    .min_ttl = 60, /* the legacy API's minimum; assumed for the Cloud API too */
    .max_ttl = 0,
    .default_settle_s = 0,
    .open = hz_open,
    .list_zones = hz_list_zones,
    .find_zone = NULL,
    .create_txt = hz_create_txt,
    .delete_txt = hz_delete_txt,
    .wait_applied = hz_wait_applied,
    .destroy = hz_destroy,
};
