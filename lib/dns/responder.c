/*
 * dns: the dns-01 responder (RFC 8555 §8.4).  On start it writes the TXT
 * value for `_acme-challenge.<name>` through a DNS provider instance
 * (following a CNAME there first), waits for the provider to apply it,
 * checks that the zone's authoritative servers serve it, and waits the
 * settle delay; on stop it removes exactly that value.  Everything runs on
 * the caller's thread (a service worker or the application's): the calls
 * block by design and no thread is started.
 */
#include "config.h"

#include <netdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <acme/crypto.h>
#include <acme/sys/error.h>
#include <acme/sys/responder.h>

#include "dns/dns.h"
#include "util/error.h"
#include "util/i18n.h"
#include "util/util.h"

/* CNAME hops followed at most (a loop ends here too). */
#define MAX_CNAME_HOPS 8

/* One challenge in flight: where its value went, for stop. */
typedef struct inflight {
    char *name;        /* the identifier */
    char *keyauth;
    char *target;      /* the record name written (after CNAMEs) */
    char *value;
    char *zone;        /* the zone it went into */
} inflight;

typedef struct dns01 {
    acme_responder_ops ops;
    char *ops_name;            /* "dns-01 <provider>" */
    acme_dns_provider *p;      /* a reference */
    char *zone;                /* NULL: the provider's setting, else auto-detected */
    long settle_ms, timeout_ms, poll_ms;
    bool check, follow_cname, has_ns;
    acme__dns_server ns;
    unsigned int ttl;

    pthread_mutex_t lock;      /* guards the in-flight list */
    inflight *v;               /* guarded by lock */
    size_t n;                  /* guarded by lock */
} dns01;

static void inflight_free(inflight *f)
{
    free(f->name);
    free(f->keyauth);
    free(f->target);
    free(f->value);
    free(f->zone);
}

/* ---- CNAME (RFC 1034 §3.6.2): the record is written where the name points ---- */

static char *follow_cname(dns01 *d, const char *fqdn)
{
    const acme__logger *log = acme__dns_env_log(&d->p->env);
    acme__dns_server srv;
    char *cur = acme__strdup(fqdn);

    if (!cur)
        return NULL;
    if (d->has_ns)
        srv = d->ns;
    else if (acme__dns_system_server(&srv, NULL, NULL) < 0)
        return cur;
    for (int hop = 0; hop < MAX_CNAME_HOPS; hop++) {
        acme__dns_answer a;
        acme_error *e = NULL;
        char *next;

        /*
         * A failed lookup leaves the name as it is: without a resolver the
         * record goes where it would without CNAME support.
         */
        if (acme__dns_query(&a, &srv, cur, ACME__DNS_T_CNAME, !d->has_ns,
                            ACME_DNS01_QUERY_TIMEOUT_MS, &d->p->env, &e) < 0) {
            ACME__LOGF(log, ACME_LOG_WARNING, "dns-01: cannot look up a CNAME at %s: %s", cur,
                       acme_error_message(e));
            acme_error_free(e);
            return cur;
        }
        if (a.rcode != 0 || !a.cname || acme__dns_name_normalize(&next, a.cname, NULL) < 0) {
            acme__dns_answer_clear(&a);
            return cur;
        }
        acme__dns_answer_clear(&a);
        ACME__LOGF(log, ACME_LOG_INFO, "dns-01: %s is a CNAME to %s", cur, next);
        free(cur);
        cur = next;
    }
    return cur;
}

/* ---- propagation: ask the zone's authoritative servers ---- */

typedef struct server_list {
    acme__dns_server *v;
    bool *ok;
    size_t n;
} server_list;

static void servers_clear(server_list *l)
{
    free(l->v);
    free(l->ok);
    memset(l, 0, sizeof(*l));
}

static int servers_add(server_list *l, const acme__dns_server *s)
{
    acme__dns_server *v;
    bool *ok;

    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].host, s->host) == 0 && l->v[i].port == s->port)
            return 0;
    if (!(v = realloc(l->v, (l->n + 1) * sizeof(*v))))
        return -1;
    l->v = v;
    if (!(ok = realloc(l->ok, (l->n + 1) * sizeof(*ok))))
        return -1;
    l->ok = ok;
    l->v[l->n] = *s;
    l->ok[l->n++] = false;
    return 0;
}

/* The addresses of @p zone's NS hosts, asked of the system resolver. */
static int zone_servers(server_list *out, dns01 *d, const char *zone, acme_error **err)
{
    acme__dns_server sys;
    acme__dns_answer a;
    int rc;

    if ((rc = acme__dns_system_server(&sys, NULL, err)) < 0)
        return rc;
    if ((rc = acme__dns_query(&a, &sys, zone, ACME__DNS_T_NS, true, ACME_DNS01_QUERY_TIMEOUT_MS,
                              &d->p->env, err)) < 0)
        return rc;
    for (size_t i = 0; i < a.nrr; i++) {
        struct addrinfo hints = { 0 }, *res = NULL;

        hints.ai_socktype = SOCK_DGRAM;
        if (getaddrinfo(a.rr[i], "53", &hints, &res) != 0)
            continue;
        for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
            acme__dns_server s = { .port = 53 };
            const void *addr = ai->ai_family == AF_INET
                                   ? (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
                                   : (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;

            if ((ai->ai_family == AF_INET || ai->ai_family == AF_INET6) &&
                inet_ntop(ai->ai_family, addr, s.host, sizeof(s.host)) && servers_add(out, &s) < 0) {
                freeaddrinfo(res);
                acme__dns_answer_clear(&a);
                return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
            }
        }
        freeaddrinfo(res);
    }
    acme__dns_answer_clear(&a);
    if (!out->n)
        return acme_error_set(err, ACME_E_NETWORK,
                              _("cannot find the authoritative servers of the zone %s"), zone);
    return ACME_OK;
}

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Poll every authoritative server (or the configured nameserver) until
 * each one serves @p value at @p fqdn, or the deadline passes.  Queries go
 * without recursion: caches would answer from before the change.
 */
static int check_propagation(dns01 *d, const char *fqdn, const char *zone, const char *value,
                             acme_error **err)
{
    const acme__logger *log = acme__dns_env_log(&d->p->env);
    int64_t deadline = mono_ms() + d->timeout_ms;
    server_list servers = { 0 };
    acme_error *last = NULL;
    int rc;

    for (;;) {
        bool all = true;

        if (!servers.n) {
            acme_error *e = NULL;

            rc = d->has_ns ? (servers_add(&servers, &d->ns) < 0 ? ACME_E_NOMEM : ACME_OK)
                           : zone_servers(&servers, d, zone, &e);
            if (rc == ACME_E_CANCELLED || rc == ACME_E_NOMEM) {
                servers_clear(&servers);
                acme_error_free(last);
                return acme__error_give(err, e ? e : acme__error_new(rc, NULL));
            }
            if (rc < 0) {
                acme_error_free(last);
                last = e;
                all = false;
            }
        }
        for (size_t i = 0; i < servers.n; i++) {
            acme__dns_answer a;
            acme_error *e = NULL;
            bool seen = false;

            if (servers.ok[i])
                continue;
            if (acme__dns_query(&a, &servers.v[i], fqdn, ACME__DNS_T_TXT, false,
                                ACME_DNS01_QUERY_TIMEOUT_MS, &d->p->env, &e) == ACME_OK) {
                for (size_t j = 0; j < a.nrr && !seen; j++)
                    seen = strcmp(a.rr[j], value) == 0;
                acme__dns_answer_clear(&a);
            } else if (acme_error_code_get(e) == ACME_E_CANCELLED) {
                servers_clear(&servers);
                acme_error_free(last);
                return acme__error_give(err, e);
            } else {
                acme_error_free(last);
                last = e;
            }
            servers.ok[i] = seen;
            all = all && seen;
            if (seen)
                ACME__LOGF(log, ACME_LOG_DEBUG, "dns-01: %s:%u serves the TXT value at %s",
                           servers.v[i].host, servers.v[i].port, fqdn);
        }
        if (all && servers.n) {
            servers_clear(&servers);
            acme_error_free(last);
            return ACME_OK;
        }
        if (mono_ms() + d->poll_ms > deadline) {
            const char *who = "?";

            for (size_t i = 0; i < servers.n; i++)
                if (!servers.ok[i])
                    who = servers.v[i].host;
            rc = acme_error_set(err, ACME_E_TIMEOUT,
                                _("the TXT record at %s is not served by %s after %ld s%s%s"),
                                fqdn, who, d->timeout_ms / 1000, last ? ": " : "",
                                last ? acme_error_message(last) : "");
            servers_clear(&servers);
            acme_error_free(last);
            return rc;
        }
        if ((rc = acme__dns_env_sleep(&d->p->env, d->poll_ms, err)) < 0) {
            servers_clear(&servers);
            acme_error_free(last);
            return rc;
        }
    }
}

/* ---- the responder ---- */

/* RFC 8555 §8.1: token "." base64url(JWK thumbprint), both base64url. */
static bool keyauth_ok(const char *ka)
{
    const char *dot = strchr(ka, '.');
    char *token;
    bool ok;

    if (!dot || strchr(dot + 1, '.') || !acme__is_b64url(dot + 1))
        return false;
    if (!(token = acme__strndup(ka, (size_t)(dot - ka))))
        return false;
    ok = acme__is_b64url(token);
    free(token);
    return ok;
}

static int dns01_start(void *self, const char *name, const acme_challenge *ch,
                       const char *key_authorization, acme_error **err)
{
    dns01 *d = self;
    char *norm = NULL, *fqdn = NULL, *target = NULL, *value = NULL, *zone = NULL;
    inflight *v;
    int rc;

    (void)ch;
    if (!name || !key_authorization)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    /* RFC 8555 §8.4: a wildcard's base name; tolerate a caller that kept the "*.". */
    if (strncmp(name, "*.", 2) == 0)
        name += 2;
    if ((rc = acme__dns_name_normalize(&norm, name, err)) < 0)
        return rc;
    if (!keyauth_ok(key_authorization)) {
        rc = acme_error_set(err, ACME_E_INVALID, _("malformed key authorization"));
        goto out;
    }
    if ((rc = acme_dns01_txt_value(&value, key_authorization, err)) < 0)
        goto out;
    if (!(fqdn = acme__asprintf("%s.%s", ACME_DNS01_LABEL, norm)) ||
        !(target = d->follow_cname ? follow_cname(d, fqdn) : acme__strdup(fqdn))) {
        rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        goto out;
    }
    if ((rc = acme__dns_txt_add(d->p, target, value, key_authorization, d->ttl, d->zone,
                                d->timeout_ms, &zone, err)) < 0)
        goto out;
    if (d->check && (rc = check_propagation(d, target, zone, value, err)) < 0)
        goto undo;
    if (d->settle_ms > 0 && (rc = acme__dns_env_sleep(&d->p->env, d->settle_ms, err)) < 0)
        goto undo;

    pthread_mutex_lock(&d->lock);
    if (!(v = realloc(d->v, (d->n + 1) * sizeof(*v)))) {
        pthread_mutex_unlock(&d->lock);
        rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        goto undo;
    }
    d->v = v;
    v[d->n] = (inflight){ .name = norm, .target = target, .value = value, .zone = zone,
                          .keyauth = acme__strdup(key_authorization) };
    if (!v[d->n].keyauth) {
        pthread_mutex_unlock(&d->lock);
        rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        goto undo;
    }
    d->n++;
    pthread_mutex_unlock(&d->lock);
    free(fqdn);
    return ACME_OK;

undo:
    /* stop is not called after a failed start: take the value away here. */
    {
        acme_error *e = NULL;

        if (acme__dns_txt_remove(d->p, target, value, key_authorization, zone, &e) < 0) {
            ACME__LOGF(acme__dns_env_log(&d->p->env), ACME_LOG_WARNING,
                       "dns-01: cannot remove the TXT value at %s: %s", target,
                       acme_error_message(e));
        }
        acme_error_free(e);
    }
out:
    free(norm);
    free(fqdn);
    free(target);
    free(value);
    free(zone);
    return rc;
}

static void dns01_stop(void *self, const char *name, const acme_challenge *ch,
                       const char *key_authorization)
{
    dns01 *d = self;
    char *norm = NULL;
    inflight f;
    bool found = false;
    acme_error *e = NULL;

    (void)ch;
    if (!name || !key_authorization)
        return;
    if (strncmp(name, "*.", 2) == 0)
        name += 2;
    if (acme__dns_name_normalize(&norm, name, NULL) < 0)
        return;
    pthread_mutex_lock(&d->lock);
    for (size_t i = 0; i < d->n; i++) {
        if (strcmp(d->v[i].name, norm) == 0 && strcmp(d->v[i].keyauth, key_authorization) == 0) {
            f = d->v[i];
            d->v[i] = d->v[--d->n];
            found = true;
            break;
        }
    }
    pthread_mutex_unlock(&d->lock);
    free(norm);
    if (!found)
        return;
    /* Exactly this value: the other challenge at the same name keeps its own. */
    if (acme__dns_txt_remove(d->p, f.target, f.value, f.keyauth, f.zone, &e) < 0)
        ACME__LOGF(acme__dns_env_log(&d->p->env), ACME_LOG_WARNING,
                   "dns-01: cannot remove the TXT value at %s: %s", f.target,
                   acme_error_message(e));
    acme_error_free(e);
    inflight_free(&f);
}

static void dns01_destroy(void *self)
{
    dns01 *d = self;

    for (size_t i = 0; i < d->n; i++)
        inflight_free(&d->v[i]);
    free(d->v);
    pthread_mutex_destroy(&d->lock);
    acme_dns_provider_free(d->p);
    free(d->zone);
    free(d->ops_name);
    free(d);
}

/* Milliseconds from an option (0: setting in seconds, else @p def; NONE: 0). */
static long pick_ms(long opt, const acme_dns_provider *p, const char *key, long def)
{
    unsigned int s;

    if (opt == ACME_DNS01_NONE)
        return 0;
    if (opt > 0)
        return opt;
    if (acme_dns_settings_get(p->settings, key) &&
        acme_dns_settings_get_uint(p->settings, key, 0, &s, NULL) == ACME_OK)
        return (long)s * 1000L;
    return def;
}

int acme_responder_dns01_new(acme_responder **out, acme_dns_provider *provider,
                             const acme_dns01_options *opts, acme_error **err)
{
    static const acme_dns01_options defaults = ACME_DNS01_OPTIONS_INIT;
    dns01 *d;
    int rc;

    if (out)
        *out = NULL;
    if (!out || !provider)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    if (!opts)
        opts = &defaults;
    if (opts->version < 1 || opts->version > ACME_DNS01_OPTIONS_VERSION)
        return acme_error_set(err, ACME_E_INVALID, _("unsupported options version %u"),
                              opts->version);
    if (!(d = calloc(1, sizeof(*d))))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    pthread_mutex_init(&d->lock, NULL);
    if (opts->nameserver && (rc = acme__dns_server_parse(&d->ns, opts->nameserver, err)) < 0) {
        pthread_mutex_destroy(&d->lock);
        free(d);
        return rc;
    }
    d->has_ns = opts->nameserver != NULL;
    acme__dns_provider_ref(provider);
    d->p = provider;
    d->check = !opts->no_propagation_check;
    d->follow_cname = !opts->no_cname;
    d->ttl = opts->ttl;
    d->settle_ms = pick_ms(opts->settle_delay_ms, provider, "settle_delay",
                           (long)provider->ops->default_settle_s * 1000L);
    d->timeout_ms = pick_ms(opts->propagation_timeout_ms, provider, "propagation_timeout",
                            ACME_DNS01_PROPAGATION_TIMEOUT_MS);
    d->poll_ms = pick_ms(opts->polling_interval_ms, provider, "polling_interval",
                         ACME_DNS01_POLLING_INTERVAL_MS);
    if (d->poll_ms < 10)
        d->poll_ms = 10;
    d->ops_name = acme__asprintf("dns-01 %s", provider->ops->name);
    d->zone = opts->zone ? acme__strdup(opts->zone) : NULL;
    if (!d->ops_name || (opts->zone && !d->zone)) {
        dns01_destroy(d);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    d->ops = (acme_responder_ops){
        .version = ACME_RESPONDER_OPS_VERSION,
        .name = d->ops_name,
        .challenge_type = ACME_DNS01_CHALLENGE,
        .flags = 0,
        .start = dns01_start,
        .stop = dns01_stop,
        .destroy = dns01_destroy,
    };
    /* On failure acme_responder_new() has called dns01_destroy. */
    return acme_responder_new(out, &d->ops, d, err);
}
