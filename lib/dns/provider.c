/*
 * dns: provider instances.  Builds an instance from a spec string and
 * options (registry lookup, settings, the HTTP client the core lends the
 * provider), serialises every call into the provider with the instance's
 * lock, picks the zone for a name (zone.c), clamps TTLs, keeps the
 * handles create_txt returns for the matching delete_txt, retries rate
 * limits and server errors, and offers cancellable waits.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <acme/sys/error.h>

#include "dns/dns.h"
#include "util/error.h"
#include "util/i18n.h"
#include "util/util.h"

/* Attempts for one provider call that fails with a rate limit or a server error. */
#define MAX_ATTEMPTS 3
/* Longest Retry-After we wait out inside one call; beyond it the error goes up. */
#define MAX_RETRY_WAIT_S 30
/* How long a zone list is reused (many names in one order would re-list). */
#define ZONE_CACHE_S 300

/* ---- the environment lent to providers ---- */

int acme__dns_env_sleep(acme_dns_env *env, int64_t ms, acme_error **err)
{
    struct timespec deadline;
    int rc = 0;

    if (ms < 0)
        ms = 0;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += (time_t)(ms / 1000);
    deadline.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    /* The flag is checked under the lock that cancel broadcasts under: no lost wake-up. */
    pthread_mutex_lock(&env->wait_lock);
    while (!atomic_load(&env->cancelled) && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&env->wake, &env->wait_lock, &deadline);
    pthread_mutex_unlock(&env->wait_lock);
    if (atomic_load(&env->cancelled))
        return acme_error_set(err, ACME_E_CANCELLED, "%s", acme_strerror(ACME_E_CANCELLED));
    return ACME_OK;
}

bool acme__dns_env_cancelled(const acme_dns_env *env)
{
    return env && atomic_load(&((acme_dns_env *)env)->cancelled);
}

acme__rest *acme__dns_env_rest(acme_dns_env *env)
{
    return env->rest;
}

const acme__logger *acme__dns_env_log(const acme_dns_env *env)
{
    return &env->log;
}

/* ---- lifecycle ---- */

static int64_t mono_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

int acme_dns_provider_new(acme_dns_provider **out, const char *spec,
                          const acme_dns_provider_options *opts, acme_error **err)
{
    static const acme_dns_provider_options defaults = ACME_DNS_PROVIDER_OPTIONS_INIT;
    const acme_dns_provider_ops *ops;
    acme_dns_provider *p;
    const char *colon;
    char *name;
    unsigned int http_timeout;
    acme__rest_options ro;
    int rc;

    if (out)
        *out = NULL;
    if (!out || !spec)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    if (!opts)
        opts = &defaults;
    if (opts->version < 1 || opts->version > ACME_DNS_PROVIDER_OPTIONS_VERSION)
        return acme_error_set(err, ACME_E_INVALID, _("unsupported options version %u"),
                              opts->version);
    colon = strchr(spec, ':');
    if (!(name = colon ? acme__strndup(spec, (size_t)(colon - spec)) : acme__strdup(spec)))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    ops = acme_dns_provider_find(name);
    if (!ops) {
        rc = acme_error_set(err, ACME_E_NOTFOUND, _("unknown DNS provider \"%.64s\""), name);
        free(name);
        return rc;
    }
    free(name);
    if ((rc = acme__dns_ops_check(ops, err)) < 0)
        return rc;

    if (!(p = calloc(1, sizeof(*p))))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    p->ops = ops;
    atomic_init(&p->refs, 1);
    atomic_init(&p->env.cancelled, false);
    pthread_mutex_init(&p->lock, NULL);
    pthread_mutex_init(&p->env.wait_lock, NULL);
    {
        pthread_condattr_t ca;

        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&p->env.wake, &ca);
        pthread_condattr_destroy(&ca);
    }
    p->env.log.fn = opts->log;
    p->env.log.userdata = opts->log_userdata;
    p->env.log.level = opts->log_level ? opts->log_level : ACME_LOG_INFO;

    if ((rc = acme__dns_settings_resolve(&p->settings, ops, colon ? colon + 1 : NULL,
                                         opts->settings, opts->environ, opts->ignore_environment,
                                         err)) < 0)
        goto fail;
    if ((rc = acme_dns_settings_get_uint(p->settings, "http_timeout", 30, &http_timeout, err)) <
        0)
        goto fail;
    memset(&ro, 0, sizeof(ro));
    ro.ca_file = opts->ca_file;
    ro.proxy = opts->proxy;
    ro.user_agent = opts->user_agent;
    ro.request_timeout_ms = http_timeout ? (long)http_timeout * 1000L : 0;
    ro.log = &p->env.log;
    if ((rc = acme__rest_new(&p->env.rest, &ro, err)) < 0)
        goto fail;
    if ((rc = ops->open(&p->self, p->settings, &p->env, err)) < 0) {
        p->self = NULL;
        goto fail;
    }
    if (!p->self) {
        rc = acme_error_set(err, ACME_E_INVALID, _("DNS provider %s made no instance"),
                            ops->name);
        goto fail;
    }
    *out = p;
    return ACME_OK;

fail:
    acme_dns_provider_free(p);
    return rc;
}

void acme__dns_provider_ref(acme_dns_provider *p)
{
    atomic_fetch_add(&p->refs, 1);
}

static void zone_cache_clear(acme_dns_provider *p);

void acme_dns_provider_free(acme_dns_provider *p)
{
    if (!p || atomic_fetch_sub(&p->refs, 1) != 1)
        return;
    if (p->self)
        p->ops->destroy(p->self);
    for (size_t i = 0; i < p->nhandles; i++) {
        free(p->handles[i].fqdn);
        free(p->handles[i].value);
        free(p->handles[i].handle);
    }
    free(p->handles);
    zone_cache_clear(p);
    acme__rest_free(p->env.rest);
    acme__dns_settings_free(p->settings);
    pthread_cond_destroy(&p->env.wake);
    pthread_mutex_destroy(&p->env.wait_lock);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

const char *acme_dns_provider_name(const acme_dns_provider *p)
{
    return p ? p->ops->name : NULL;
}

const char *acme_dns_provider_setting(const acme_dns_provider *p, const char *key)
{
    if (!p || !key || acme__dns_settings_is_secret(p->settings, key))
        return NULL;
    return acme_dns_settings_get(p->settings, key);
}

void acme_dns_provider_cancel(acme_dns_provider *p)
{
    if (!p)
        return;
    atomic_store(&p->env.cancelled, true);
    acme__rest_cancel(p->env.rest);
    pthread_mutex_lock(&p->env.wait_lock);
    pthread_cond_broadcast(&p->env.wake);
    pthread_mutex_unlock(&p->env.wait_lock);
}

void acme_dns_provider_reset_cancel(acme_dns_provider *p)
{
    if (!p)
        return;
    atomic_store(&p->env.cancelled, false);
    acme__rest_reset_cancel(p->env.rest);
}

/* ---- retries ---- */

/*
 * Whether to try a failed call again: rate limits, server errors (HTTP
 * 5xx) and network errors that say when to try again (a DNS SERVFAIL),
 * after Retry-After (when short enough) or 1 s, 2 s.  Authentication and
 * validation errors are never retried: the same request fails the same
 * way; nor is an unreachable server, which would only add seconds.
 */
static bool retry_after_error(acme_dns_provider *p, acme_error **e, int attempt)
{
    int code = *e ? acme_error_code_get(*e) : 0;
    int64_t wait_s;

    if (attempt + 1 >= MAX_ATTEMPTS || !*e)
        return false;
    if (code != ACME_E_RATELIMITED &&
        !(code == ACME_E_NETWORK &&
          (acme_error_http_status(*e) >= 500 || acme_error_retry_after(*e) >= 0)))
        return false;
    wait_s = acme_error_retry_after(*e);
    if (wait_s > MAX_RETRY_WAIT_S)
        return false;
    if (wait_s < 0)
        wait_s = (int64_t)1 << attempt;
    ACME__LOGF(&p->env.log, ACME_LOG_NOTICE, "DNS provider %s: %s; retrying in %lld s",
               p->ops->name, acme_error_message(*e), (long long)wait_s);
    acme_error_free(*e);
    *e = NULL;
    return acme__dns_env_sleep(&p->env, wait_s * 1000, NULL) == ACME_OK;
}

/* ---- zones (lock held) ---- */

static void zone_free(acme_dns_zone *z);

static void zone_cache_clear(acme_dns_provider *p)
{
    acme_dns_zone_list_clear(&p->zones);
    p->zones_at = 0;
}

static int list_zones_cached(acme_dns_provider *p, bool refresh, acme_error **err)
{
    acme_error *e = NULL;
    int rc = ACME_OK;

    if (!refresh && p->zones_at && mono_s() - p->zones_at < ZONE_CACHE_S)
        return ACME_OK;
    zone_cache_clear(p);
    for (int attempt = 0;; attempt++) {
        acme_dns_zone_list l = ACME_DNS_ZONE_LIST_INIT;

        rc = p->ops->list_zones(p->self, &l, &e);
        if (rc == ACME_OK) {
            p->zones = l;
            p->zones_at = mono_s();
            return ACME_OK;
        }
        acme_dns_zone_list_clear(&l);
        if (!e)
            e = acme__error_new(rc, NULL);
        if (!retry_after_error(p, &e, attempt))
            break;
    }
    return acme__error_give(err, e);
}

/*
 * The zone for @p fqdn into *zone (a deep copy): through the provider's
 * find_zone when it has one and no zone is configured, else from the
 * (cached) zone list.
 */
static int zone_for(acme_dns_zone *zone, acme_dns_provider *p, const char *fqdn,
                    const char *configured, acme_error **err)
{
    int (*find)(void *, const char *, acme_dns_zone *, acme_error **) =
        ACME__DNS_OP(p->ops, find_zone);
    size_t idx = 0;
    int rc;

    memset(zone, 0, sizeof(*zone));
    if (!configured && find) {
        acme_error *e = NULL;

        for (int attempt = 0;; attempt++) {
            rc = find(p->self, fqdn, zone, &e);
            if (rc == ACME_OK || rc == ACME_E_NOTFOUND)
                break;
            if (!e)
                e = acme__error_new(rc, NULL);
            if (!retry_after_error(p, &e, attempt))
                break;
            zone_free(zone);
        }
        if (rc == ACME_E_NOTFOUND) {
            acme_error_free(e);
            return acme_error_set(err, ACME_E_ZONENOTFOUND,
                                  _("no zone at the DNS provider holds %s"), fqdn);
        }
        if (rc < 0)
            return acme__error_give(err, e ? e : acme__error_new(rc, NULL));
        goto copied;
    }
    for (int pass = 0; pass < 2; pass++) {
        acme_error *e = NULL;

        /* A miss in a cached list lists again once: the zone may be new. */
        if ((rc = list_zones_cached(p, pass == 1, err)) < 0)
            return rc;
        rc = configured ? acme__dns_zone_configured(&idx, &p->zones, configured, fqdn, &e)
                        : acme__dns_zone_pick(&idx, &p->zones, fqdn, &e);
        if (rc == ACME_OK) {
            acme_error_free(e);
            break;
        }
        if (rc != ACME_E_ZONENOTFOUND || pass == 1)
            return acme__error_give(err, e);
        acme_error_free(e);
    }
    zone->id = acme__strdup(p->zones.v[idx].id);
    zone->name = acme__strdup(p->zones.v[idx].name);
    zone->is_private = p->zones.v[idx].is_private;
copied:
    if (!zone->id || !zone->name) {
        free(zone->id);
        free(zone->name);
        memset(zone, 0, sizeof(*zone));
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    if (find && !configured) {
        /* A provider's own lookup answers in its spelling: normalise, and check. */
        char *norm = NULL;

        if ((rc = acme__dns_name_normalize(&norm, zone->name, err)) < 0) {
            free(zone->id);
            free(zone->name);
            memset(zone, 0, sizeof(*zone));
            return rc;
        }
        free(zone->name);
        zone->name = norm;
        if (!acme__dns_name_in_zone(fqdn, zone->name)) {
            rc = acme_error_set(err, ACME_E_NOTINZONE, _("%s is not in the zone %s"), fqdn,
                                zone->name);
            free(zone->id);
            free(zone->name);
            memset(zone, 0, sizeof(*zone));
            return rc;
        }
    }
    return ACME_OK;
}

static void zone_free(acme_dns_zone *z)
{
    free(z->id);
    free(z->name);
    memset(z, 0, sizeof(*z));
}

static const char *configured_zone(acme_dns_provider *p, const char *hint)
{
    const char *z = hint && *hint ? hint : acme_dns_settings_get(p->settings, "zone");

    return z && *z ? z : NULL;
}

int acme_dns_provider_find_zone(char **zone_out, acme_dns_provider *p, const char *fqdn,
                                acme_error **err)
{
    acme_dns_zone z;
    char *norm = NULL;
    int rc;

    if (zone_out)
        *zone_out = NULL;
    if (!zone_out || !p)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    if ((rc = acme__dns_name_normalize(&norm, fqdn, err)) < 0)
        return rc;
    pthread_mutex_lock(&p->lock);
    rc = zone_for(&z, p, norm, configured_zone(p, NULL), err);
    pthread_mutex_unlock(&p->lock);
    free(norm);
    if (rc < 0)
        return rc;
    *zone_out = z.name;
    free(z.id);
    return ACME_OK;
}

/* ---- TXT values ---- */

static int check_value(const char *value, acme_error **err)
{
    size_t len = value ? strlen(value) : 0;

    /* One TXT character-string holds 255 bytes (RFC 1035 §3.3.14). */
    if (!len || len > 255)
        return acme_error_set(err, ACME_E_INVALID, _("a TXT value must have 1 to 255 bytes"));
    for (const char *c = value; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            return acme_error_set(err, ACME_E_INVALID,
                                  _("a TXT value must not hold control characters"));
    return ACME_OK;
}

static unsigned int clamp_ttl(const acme_dns_provider *p, unsigned int ttl)
{
    unsigned int set = 0;

    if (!ttl && acme_dns_settings_get_uint(p->settings, "ttl", 0, &set, NULL) == ACME_OK)
        ttl = set;
    if (!ttl)
        ttl = p->ops->default_ttl ? p->ops->default_ttl : 120;
    if (p->ops->min_ttl && ttl < p->ops->min_ttl)
        ttl = p->ops->min_ttl;
    if (p->ops->max_ttl && ttl > p->ops->max_ttl)
        ttl = p->ops->max_ttl;
    return ttl;
}

static struct dns_handle *handle_find(acme_dns_provider *p, const char *fqdn, const char *value)
{
    for (size_t i = 0; i < p->nhandles; i++)
        if (strcmp(p->handles[i].fqdn, fqdn) == 0 && strcmp(p->handles[i].value, value) == 0)
            return &p->handles[i];
    return NULL;
}

/* Remember create_txt's handle (takes @p handle). */
static void handle_keep(acme_dns_provider *p, const char *fqdn, const char *value, char *handle)
{
    struct dns_handle *h = handle_find(p, fqdn, value), *v;

    if (h) {
        free(h->handle);
        h->handle = handle;
        return;
    }
    if (!handle)
        return;
    if (!(v = realloc(p->handles, (p->nhandles + 1) * sizeof(*v)))) {
        /* Without it delete_txt searches by name and value: slower, still right. */
        free(handle);
        return;
    }
    p->handles = v;
    h = &p->handles[p->nhandles];
    h->fqdn = acme__strdup(fqdn);
    h->value = acme__strdup(value);
    h->handle = handle;
    if (!h->fqdn || !h->value) {
        free(h->fqdn);
        free(h->value);
        free(h->handle);
        return;
    }
    p->nhandles++;
}

static void handle_drop(acme_dns_provider *p, const char *fqdn, const char *value)
{
    struct dns_handle *h = handle_find(p, fqdn, value);

    if (!h)
        return;
    free(h->fqdn);
    free(h->value);
    free(h->handle);
    *h = p->handles[--p->nhandles];
}

int acme__dns_txt_add(acme_dns_provider *p, const char *fqdn, const char *value,
                      const char *key_authorization, unsigned int ttl, const char *zone_hint,
                      int64_t apply_timeout_ms, char **zone_out, acme_error **err)
{
    int (*wait)(void *, const char *, int64_t, acme_error **) = ACME__DNS_OP(p->ops, wait_applied);
    acme_dns_zone zone;
    acme_dns_txt txt;
    char *norm = NULL, *rel = NULL, *handle = NULL;
    acme_error *e = NULL;
    int rc;

    if (zone_out)
        *zone_out = NULL;
    if ((rc = check_value(value, err)) < 0 || (rc = acme__dns_name_normalize(&norm, fqdn, err)) < 0)
        return rc;
    pthread_mutex_lock(&p->lock);
    if ((rc = zone_for(&zone, p, norm, configured_zone(p, zone_hint), err)) < 0)
        goto out;
    if (!(rel = acme__dns_relative(norm, zone.name))) {
        rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        goto out_zone;
    }
    txt = (acme_dns_txt){ .fqdn = norm, .value = value, .ttl = clamp_ttl(p, ttl),
                          .zone = &zone, .relative = rel,
                          .key_authorization = key_authorization };
    for (int attempt = 0;; attempt++) {
        rc = p->ops->create_txt(p->self, &txt, &handle, &e);
        if (rc == ACME_OK || !retry_after_error(p, &e, attempt))
            break;
    }
    if (rc < 0) {
        rc = acme__error_give(err, e ? e : acme__error_new(rc, NULL));
        free(handle);
        goto out_zone;
    }
    ACME__LOGF(&p->env.log, ACME_LOG_INFO, "DNS provider %s: added a TXT value at %s (zone %s)",
               p->ops->name, norm, zone.name);
    /* Provider-side "change is in sync" polling, where the API has it. */
    if (wait && handle && (rc = wait(p->self, handle, apply_timeout_ms, err)) < 0) {
        handle_keep(p, norm, value, handle);
        goto out_zone;
    }
    handle_keep(p, norm, value, handle);
    if (zone_out && !(*zone_out = acme__strdup(zone.name)))
        rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
out_zone:
    zone_free(&zone);
out:
    pthread_mutex_unlock(&p->lock);
    free(rel);
    free(norm);
    return rc;
}

int acme__dns_txt_remove(acme_dns_provider *p, const char *fqdn, const char *value,
                         const char *key_authorization, const char *zone_hint,
                         acme_error **err)
{
    acme_dns_zone zone;
    acme_dns_txt txt;
    struct dns_handle *h;
    char *norm = NULL, *rel = NULL;
    acme_error *e = NULL;
    int rc;

    if ((rc = check_value(value, err)) < 0 || (rc = acme__dns_name_normalize(&norm, fqdn, err)) < 0)
        return rc;
    pthread_mutex_lock(&p->lock);
    if ((rc = zone_for(&zone, p, norm, configured_zone(p, zone_hint), err)) < 0)
        goto out;
    if (!(rel = acme__dns_relative(norm, zone.name))) {
        rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        goto out_zone;
    }
    txt = (acme_dns_txt){ .fqdn = norm, .value = value, .ttl = clamp_ttl(p, 0), .zone = &zone,
                          .relative = rel, .key_authorization = key_authorization };
    h = handle_find(p, norm, value);
    for (int attempt = 0;; attempt++) {
        rc = p->ops->delete_txt(p->self, &txt, h ? h->handle : NULL, &e);
        if (rc == ACME_OK || !retry_after_error(p, &e, attempt))
            break;
    }
    if (rc == ACME_E_NOTFOUND) { /* already gone: what we wanted */
        acme_error_free(e);
        e = NULL;
        rc = ACME_OK;
    }
    if (rc < 0) {
        rc = acme__error_give(err, e ? e : acme__error_new(rc, NULL));
        goto out_zone;
    }
    handle_drop(p, norm, value);
    ACME__LOGF(&p->env.log, ACME_LOG_INFO, "DNS provider %s: removed a TXT value at %s",
               p->ops->name, norm);
out_zone:
    zone_free(&zone);
out:
    pthread_mutex_unlock(&p->lock);
    free(rel);
    free(norm);
    return rc;
}

int acme_dns_provider_txt_add(acme_dns_provider *p, const char *fqdn, const char *value,
                              unsigned int ttl, acme_error **err)
{
    unsigned int timeout_s = 0;

    if (!p || !fqdn || !value)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    acme_dns_settings_get_uint(p->settings, "propagation_timeout", 120, &timeout_s, NULL);
    return acme__dns_txt_add(p, fqdn, value, NULL, ttl, NULL, (int64_t)timeout_s * 1000, NULL,
                             err);
}

int acme_dns_provider_txt_remove(acme_dns_provider *p, const char *fqdn, const char *value,
                                 acme_error **err)
{
    if (!p || !fqdn || !value)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    return acme__dns_txt_remove(p, fqdn, value, NULL, NULL, err);
}
