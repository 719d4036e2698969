/*
 * dns: the provider registry.  Built-in providers live in a static table
 * (canonical names are lego's provider codes, aliases libcloud's names);
 * providers registered at run time (third parties, test doubles) go into
 * a mutex-protected array.  Lookups are ASCII case-insensitive.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <acme/sys/error.h>

#include "dns/dns.h"
#include "util/i18n.h"
#include "util/util.h"

/*
 * Built-in providers.  Other providers append a line here and define
 * their ops in lib/dns/providers/<name>.c (see libacme-dns(3)).
 */
static const acme_dns_provider_ops *const builtins[] = {
    &acme__dns_pdns_ops,
    &acme__dns_cloudflare_ops,
    &acme__dns_digitalocean_ops,
    &acme__dns_hetzner_ops,
    &acme__dns_linode_ops,
    &acme__dns_desec_ops,
    &acme__dns_route53_ops,
    &acme__dns_gcloud_ops,
    &acme__dns_gandiv5_ops,
    &acme__dns_ovh_ops,
    &acme__dns_acmedns_ops,
    &acme__dns_exec_ops,
    &acme__dns_rfc2136_ops,
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static const acme_dns_provider_ops **registered; /* guarded by reg_lock */
static size_t nregistered;                       /* guarded by reg_lock */

static bool name_eq(const char *a, const char *b)
{
    size_t la = strlen(a);

    return la == strlen(b) && acme__strncaseeq(a, b, la);
}

static bool ops_has_name(const acme_dns_provider_ops *ops, const char *name)
{
    if (name_eq(ops->name, name))
        return true;
    for (const char *const *a = ops->aliases; a && *a; a++)
        if (name_eq(*a, name))
            return true;
    return false;
}

int acme__dns_ops_check(const acme_dns_provider_ops *ops, acme_error **err)
{
    /* The members every version has, up to and including destroy. */
    size_t min = offsetof(acme_dns_provider_ops, destroy) + sizeof(ops->destroy);

    if (!ops)
        return acme_error_set(err, ACME_E_INVALID, _("no DNS provider ops"));
    if (ops->version < 1 || ops->version > ACME_DNS_PROVIDER_OPS_VERSION)
        return acme_error_set(err, ACME_E_INVALID,
                              _("DNS provider ops version %u is not supported (1 to %u)"),
                              ops->version, (unsigned)ACME_DNS_PROVIDER_OPS_VERSION);
    if (ops->size < min)
        return acme_error_set(err, ACME_E_INVALID, _("DNS provider ops too small (%zu bytes)"),
                              ops->size);
    if (!ops->name || !*ops->name || !ops->open || !ops->list_zones || !ops->create_txt ||
        !ops->delete_txt || !ops->destroy)
        return acme_error_set(err, ACME_E_INVALID,
                              _("DNS provider ops lack a name or a required function"));
    return ACME_OK;
}

const acme_dns_provider_ops *acme_dns_provider_find(const char *name)
{
    const acme_dns_provider_ops *found = NULL;

    if (!name)
        return NULL;
    for (size_t i = 0; i < ACME_ARRAY_SIZE(builtins); i++)
        if (ops_has_name(builtins[i], name))
            return builtins[i];
    pthread_mutex_lock(&reg_lock);
    for (size_t i = 0; i < nregistered && !found; i++)
        if (ops_has_name(registered[i], name))
            found = registered[i];
    pthread_mutex_unlock(&reg_lock);
    return found;
}

size_t acme_dns_provider_names(const char **out, size_t max)
{
    size_t n = 0;

    for (size_t i = 0; i < ACME_ARRAY_SIZE(builtins); i++, n++)
        if (out && n < max)
            out[n] = builtins[i]->name;
    pthread_mutex_lock(&reg_lock);
    for (size_t i = 0; i < nregistered; i++, n++)
        if (out && n < max)
            out[n] = registered[i]->name;
    pthread_mutex_unlock(&reg_lock);
    return n;
}

int acme_dns_provider_register(const acme_dns_provider_ops *ops, acme_error **err)
{
    const acme_dns_provider_ops **v;
    int rc;

    if ((rc = acme__dns_ops_check(ops, err)) < 0)
        return rc;
    /* The name and every alias must be free; checked and added under one lock. */
    pthread_mutex_lock(&reg_lock);
    for (size_t i = 0; i <= ACME_ARRAY_SIZE(builtins) + nregistered; i++) {
        const acme_dns_provider_ops *o;
        const char *taken = NULL;

        if (i == ACME_ARRAY_SIZE(builtins) + nregistered)
            break;
        o = i < ACME_ARRAY_SIZE(builtins) ? builtins[i]
                                          : registered[i - ACME_ARRAY_SIZE(builtins)];
        if (ops_has_name(o, ops->name))
            taken = ops->name;
        for (const char *const *a = ops->aliases; a && *a && !taken; a++)
            if (ops_has_name(o, *a))
                taken = *a;
        if (taken) {
            pthread_mutex_unlock(&reg_lock);
            return acme_error_set(err, ACME_E_INVALIDSTATE,
                                  _("a DNS provider named %s already exists"), taken);
        }
    }
    if (!(v = realloc(registered, (nregistered + 1) * sizeof(*v)))) {
        pthread_mutex_unlock(&reg_lock);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    registered = v;
    registered[nregistered++] = ops;
    pthread_mutex_unlock(&reg_lock);
    return ACME_OK;
}
