/*
 * libacme: the DNS provider vtable, for implementers of DNS providers
 * (built-in ones in lib/dns/providers/<name>.c, and third parties that add
 * theirs with acme_dns_provider_register()).
 *
 * Not included by <acme/acme.h>.  See libacme-dns(3).
 *
 * Division of labour.  The core (lib/dns/) computes the record name,
 * normalises it, follows CNAMEs, picks the zone (configured, or the
 * longest suffix among list_zones()), clamps the TTL, serialises every
 * call into one instance with its lock, waits (settle delay, propagation
 * check), and turns NOTFOUND on delete into success.  A provider only
 * talks to its API: list zones, add one TXT value, remove one TXT value,
 * and optionally wait for the API to report a change applied.
 */
#ifndef ACME_SYS_DNS_H
#define ACME_SYS_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <acme/common.h>
#include <acme/error.h>
#include <acme/dns.h>

ACME_BEGIN_DECLS

/** The current version of struct acme_dns_provider_ops. */
#define ACME_DNS_PROVIDER_OPS_VERSION 1

/* ---- zones ---- */

/** A zone at the provider. */
typedef struct acme_dns_zone {
    /**
     * The provider's id for the zone: PowerDNS "example.com.", Cloudflare
     * "023e105f...", Route 53 "Z1D633PJN98FT9"; the name when the API has
     * no other id.
     */
    char *id;
    /** The zone's name: lower case, no trailing dot (the core normalises it). */
    char *name;
    /** A private zone (Route 53 private hosted zone, GCP private visibility). */
    bool is_private;
} acme_dns_zone;

/** A growable list of zones, filled by list_zones(). */
typedef struct acme_dns_zone_list {
    acme_dns_zone *v;
    size_t n;
    size_t cap;
} acme_dns_zone_list;

/** An empty list. */
#define ACME_DNS_ZONE_LIST_INIT { NULL, 0, 0 }

/**
 * Append a zone to @p l: @p id and @p name are copied, @p name is
 * normalised (lower case, one trailing dot removed).
 *
 * @return ACME_OK; ACME_E_INVALID when @p name is not a DNS name or an
 *         argument is NULL; ACME_E_NOMEM.
 * Thread safety: MT-Safe per list.
 */
ACME_EXTERN int acme_dns_zone_list_add(acme_dns_zone_list *l, const char *id, const char *name,
                                       bool is_private, acme_error **err);

/** Free the zones of @p l and empty it (NULL-safe). */
ACME_EXTERN void acme_dns_zone_list_clear(acme_dns_zone_list *l);

/* ---- one TXT value, as the core hands it to the provider ---- */

typedef struct acme_dns_txt {
    /** "_acme-challenge.www.example.com": lower case, no trailing dot. */
    const char *fqdn;
    /** The value, unquoted (43 base64url characters for ACME). */
    const char *value;
    /** Seconds, already clamped to the provider's [min_ttl, max_ttl]. */
    unsigned int ttl;
    /** The zone the core picked; borrowed for the call. */
    const acme_dns_zone *zone;
    /** @c fqdn relative to the zone: "_acme-challenge.www"; "" at the apex. */
    const char *relative;
    /**
     * The key authorization @c value was made from ("TOKEN.THUMBPRINT",
     * RFC 8555 §8.1) when the dns-01 responder adds or removes it; NULL
     * when a caller gave only the value (acme_dns_provider_txt_add()).
     * For hooks that want the token (the exec provider's uacme and raw
     * modes); added in libacme 0.1 after the struct's first members, so
     * read it only from an acme_dns_txt the library made.
     */
    const char *key_authorization;
} acme_dns_txt;

/* ---- settings ---- */

/** acme_dns_option.flags: the setting must have a value. */
#define ACME_DNS_OPT_REQUIRED 0x1u
/** acme_dns_option.flags: a credential; never logged, never in errors. */
#define ACME_DNS_OPT_SECRET 0x2u

/** One setting a provider reads (its table ends with a member whose key is NULL). */
typedef struct acme_dns_option {
    const char *key;            /**< "api_key": lower case, [a-z0-9_] */
    /**
     * Environment variables, in priority order, NULL-terminated; NULL:
     * none.  Each is also read as `<NAME>_FILE` (lego's convention).
     */
    const char *const *env;
    const char *default_value;  /**< NULL: none */
    unsigned int flags;         /**< ACME_DNS_OPT_* */
    const char *help;           /**< one line, for help texts */
} acme_dns_option;

/**
 * The resolved settings of one instance (the provider's options and the
 * core's: ttl, propagation_timeout, polling_interval, settle_delay,
 * http_timeout, zone, base_url).  Opaque.
 */
typedef struct acme_dns_settings acme_dns_settings;

/**
 * The value of setting @p key, or NULL when unset.  Borrowed until the
 * instance is destroyed (a provider may keep the pointer in its state).
 * Thread safety: MT-Safe.
 */
ACME_EXTERN const char *acme_dns_settings_get(const acme_dns_settings *s, const char *key);

/**
 * The value of setting @p key as a non-negative integer (seconds, ...).
 *
 * @param out  receives the value; @p def when the setting is unset
 * @return ACME_OK; ACME_E_INVALID when the value is not a decimal number
 *         up to UINT32_MAX (the message names the key, never the value).
 */
ACME_EXTERN int acme_dns_settings_get_uint(const acme_dns_settings *s, const char *key,
                                           unsigned int def, unsigned int *out, acme_error **err);

/**
 * What the core lends a provider instance: the HTTP client built-in
 * providers use (lib/transport/rest.h), the logger, cancellation.  Opaque;
 * valid until the instance's destroy returns.
 */
typedef struct acme_dns_env acme_dns_env;

/* ---- the vtable ---- */

/**
 * A DNS provider.  Keep it `static const`: the library borrows it for the
 * life of the process.  Members are only ever appended; a provider built
 * against an older version leaves the newer ones out (the library reads
 * members past @c size as NULL / 0).
 *
 * Every function returns ACME_OK or a negative ACME_E_* with *err set,
 * with these codes: ACME_E_AUTH (credentials refused: 401, 403),
 * ACME_E_RATELIMITED (429, with Retry-After in the error),
 * ACME_E_REJECTED (the API refused the request: 400, 409, 422, with the
 * provider's message), ACME_E_NOTFOUND (no such zone or record),
 * ACME_E_NETWORK (transport trouble, 5xx), ACME_E_PROTOCOL (unparseable
 * answer), ACME_E_TIMEOUT, ACME_E_CANCELLED, ACME_E_NOMEM.  Messages
 * never contain a secret.
 *
 * Threads: the core calls one instance from one thread at a time (its
 * lock is held across each call), on the thread that runs the order; the
 * calls block.  Different instances run in parallel.
 */
struct acme_dns_provider_ops {
    unsigned int version;          /**< ACME_DNS_PROVIDER_OPS_VERSION; always first */
    size_t size;                   /**< sizeof(struct acme_dns_provider_ops) at build time */
    const char *name;              /**< registry key, lower case: lego's code ("pdns") */
    const char *const *aliases;    /**< NULL-terminated, or NULL: {"powerdns", NULL} */
    /**
     * Prefixes of the core settings' environment variables, in priority
     * order, NULL-terminated ({"PDNS", NULL} gives PDNS_TTL, ...).
     */
    const char *const *env_prefixes;
    const acme_dns_option *options;   /**< the provider's own settings; ends with {NULL} */
    unsigned int flags;            /**< none defined yet: 0 */
    unsigned int default_ttl;      /**< seconds */
    unsigned int min_ttl;          /**< seconds; 0: no minimum */
    unsigned int max_ttl;          /**< seconds; 0: no maximum */
    unsigned int default_settle_s; /**< suggested settle delay after a change */

    /**
     * Make an instance from the resolved settings.  Check them here
     * (missing credentials, bad URL): ACME_E_INVALID before any request.
     * @p s and @p env stay valid until destroy.
     */
    int (*open)(void **self_out, const acme_dns_settings *s, acme_dns_env *env,
                acme_error **err);

    /** Every zone the credentials can see (all pages), into @p out. */
    int (*list_zones)(void *self, acme_dns_zone_list *out, acme_error **err);

    /**
     * Optional (NULL: the core resolves the configured zone, or lists
     * zones and picks the longest suffix): the zone for @p fqdn by the
     * API's by-name lookups.  ACME_E_NOTFOUND when there is none.
     */
    int (*find_zone)(void *self, const char *fqdn, acme_dns_zone *out, acme_error **err);

    /**
     * Add one value at txt->fqdn, keeping the others; idempotent.
     * @p handle_out may receive a malloc'd string (a record id, a change
     * id) that the core passes back to delete_txt and wait_applied and
     * frees with free(); leave it NULL when there is none.
     */
    int (*create_txt)(void *self, const acme_dns_txt *txt, char **handle_out, acme_error **err);

    /**
     * Remove exactly this value; other values at the name stay.  @p handle
     * is what create_txt gave, or NULL (find the value by name and
     * content).  A value that is already gone is success.
     */
    int (*delete_txt)(void *self, const acme_dns_txt *txt, const char *handle,
                      acme_error **err);

    /**
     * Optional: wait until the API reports the change of @p handle applied
     * (Route 53 INSYNC, Google "done"), for at most @p timeout_ms:
     * ACME_E_TIMEOUT after that.
     */
    int (*wait_applied)(void *self, const char *handle, int64_t timeout_ms, acme_error **err);

    /** Release @p self (called once). */
    void (*destroy)(void *self);
};

/**
 * Add a provider to the registry, for acme_dns_provider_find() and
 * acme_dns_provider_new().
 *
 * @param ops  the vtable; borrowed for the life of the process
 * @return ACME_OK; ACME_E_INVALID when @p ops lacks a name, open,
 *         list_zones, create_txt, delete_txt or destroy, or its version is
 *         newer than this library's, or its size too small;
 *         ACME_E_INVALIDSTATE when the name or an alias is taken;
 *         ACME_E_NOMEM.
 * Thread safety: MT-Safe.
 */
ACME_EXTERN int acme_dns_provider_register(const acme_dns_provider_ops *ops, acme_error **err);

ACME_END_DECLS

#endif /* ACME_SYS_DNS_H */
