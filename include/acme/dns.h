/*
 * libacme: dns-01 (RFC 8555 §8.4) through DNS provider APIs.
 *
 * For a dns-01 challenge the CA looks up the TXT record
 * `_acme-challenge.<name>` and expects base64url(SHA-256(key
 * authorization)) among its values.  libacme writes that record through a
 * DNS provider's HTTP API (PowerDNS, Cloudflare, Route 53, ...): the
 * dns-01 responder (acme_responder_dns01_new()) creates the value, waits
 * until the zone's authoritative servers serve it, and deletes exactly
 * that value when the challenge is over.
 *
 * Providers are found by name in a registry (acme_dns_provider_find());
 * the names are lego's provider codes, with libcloud's names as aliases,
 * and an instance reads its settings from a `key=value,...` string, an
 * array, and the environment variables lego uses for the same provider
 * (CLOUDFLARE_DNS_API_TOKEN, PDNS_API_KEY, ...), so lego users keep
 * their configuration.  Applications and third parties add providers
 * through <acme/sys/dns.h>.
 *
 * See libacme-dns(3).
 */
#ifndef ACME_DNS_H
#define ACME_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <acme/common.h>
#include <acme/error.h>
#include <acme/log.h>
#include <acme/responder.h>

ACME_BEGIN_DECLS

/** The challenge type. */
#define ACME_DNS01_CHALLENGE "dns-01"

/** The label in front of the identifier (RFC 8555 §8.4). */
#define ACME_DNS01_LABEL "_acme-challenge"

/**
 * A DNS provider implementation: its vtable (struct acme_dns_provider_ops,
 * defined in <acme/sys/dns.h>).  Opaque here.
 */
typedef struct acme_dns_provider_ops acme_dns_provider_ops;

/**
 * A DNS provider instance: an implementation, its settings (credentials
 * included), an HTTP client, and a lock that serialises calls into it.
 * Opaque and reference counted.
 */
typedef struct acme_dns_provider acme_dns_provider;

/* ------------------------------------------------------------------ */
/* Registry                                                            */
/* ------------------------------------------------------------------ */

/**
 * Look a provider up by name or alias ("pdns", "powerdns"; ASCII
 * case-insensitive): built-in ones first, then those added with
 * acme_dns_provider_register().
 *
 * @param name  the name
 * @return the implementation (static, borrowed for the process), or NULL
 *         when no provider has that name.
 * Thread safety: MT-Safe.
 */
ACME_EXTERN const acme_dns_provider_ops *acme_dns_provider_find(const char *name);

/**
 * The canonical names of every known provider (built-in, then registered),
 * for help texts.
 *
 * @param out  receives up to @p max names (static strings); may be NULL
 * @param max  room in @p out
 * @return how many providers there are (may exceed @p max).
 * Thread safety: MT-Safe.
 */
ACME_EXTERN size_t acme_dns_provider_names(const char **out, size_t max);

/* ------------------------------------------------------------------ */
/* Instances                                                           */
/* ------------------------------------------------------------------ */

/** The current version of acme_dns_provider_options. */
#define ACME_DNS_PROVIDER_OPTIONS_VERSION 1

/**
 * Options for acme_dns_provider_new().  Initialise with
 * ACME_DNS_PROVIDER_OPTIONS_INIT; zero means "the default" for every
 * member.
 */
typedef struct acme_dns_provider_options {
    unsigned int version;       /**< ACME_DNS_PROVIDER_OPTIONS_VERSION */
    /**
     * Settings as an array of "key=value" strings (taken literally: no
     * escapes), terminated by NULL.  They win over the spec string and
     * the environment.  NULL: none.
     */
    const char *const *settings;
    /**
     * The environment to read, as "NAME=value" strings terminated by NULL
     * (tests; daemons that sanitise their environment).  NULL: the
     * process environment (getenv()).
     */
    const char *const *environ;
    bool ignore_environment;    /**< read no environment variable at all */
    const char *ca_file;        /**< PEM bundle for the provider's HTTPS API; NULL: system store */
    const char *proxy;          /**< proxy URL; NULL: libcurl's environment rules */
    const char *user_agent;     /**< appended to "libacme/VERSION" */
    acme_log_fn *log;           /**< NULL: silent */
    void *log_userdata;
    acme_log_level log_level;   /**< 0: ACME_LOG_INFO */
} acme_dns_provider_options;

#define ACME_DNS_PROVIDER_OPTIONS_INIT { ACME_DNS_PROVIDER_OPTIONS_VERSION, 0, 0, 0, 0, 0, 0, 0, 0, 0 }

/**
 * Make a provider instance from a spec string:
 *
 *     "pdns"
 *     "pdns:api_url=http://127.0.0.1:8081,api_key=secret,ttl=60"
 *
 * The name (or alias) comes before the first ':', settings after it:
 * `key=value` pairs separated by ',', where `\` escapes the next character
 * (`\,` `\=` `\\`).  Each setting is looked up in this order, first hit
 * wins: opts->settings, the spec string, the setting's environment
 * variables in order (lego's names first), the same variables with
 * `_FILE` appended (their value names a file; its content, less one
 * trailing newline, is the value), and the provider's default.
 *
 * Settings every provider accepts (the core handles them):
 * `ttl` (seconds), `propagation_timeout` (seconds), `polling_interval`
 * (seconds), `settle_delay` (seconds), `http_timeout` (seconds), `zone`
 * (a zone name or provider zone id: no auto-detection), `base_url` (the
 * API's base URL, for private endpoints and mocks).  Their environment
 * variables are `<PREFIX>_TTL`, `<PREFIX>_PROPAGATION_TIMEOUT`, ... with
 * the provider's prefix (PDNS, CLOUDFLARE, ...).
 *
 * Settings marked secret (API keys, tokens) never appear in logs or error
 * messages.  Missing required settings, unknown keys and malformed values
 * are reported here, before any network traffic.
 *
 * @param out   receives the instance
 * @param spec  "name" or "name:settings"
 * @param opts  options (NULL: every default)
 * @param err   receives the error on failure (may be NULL)
 * @return ACME_OK; ACME_E_NOTFOUND for an unknown provider name;
 *         ACME_E_INVALID for a bad spec, an unknown or malformed setting,
 *         a missing required one, or an options version newer than this
 *         library's; ACME_E_IO when a `_FILE` variable names an unreadable
 *         file; ACME_E_NOMEM.
 * Ownership: the caller frees *out with acme_dns_provider_free().
 * Thread safety: MT-Safe.
 */
ACME_EXTERN int acme_dns_provider_new(acme_dns_provider **out, const char *spec,
                                      const acme_dns_provider_options *opts, acme_error **err);

/**
 * Drop the caller's reference (NULL-safe).  The instance goes away (its
 * `destroy` runs) when the last responder using it is freed too.
 *
 * Thread safety: not while another thread uses the caller's reference.
 */
ACME_EXTERN void acme_dns_provider_free(acme_dns_provider *p);

/** The provider's canonical name ("pdns"); borrowed.  MT-Safe. */
ACME_EXTERN const char *acme_dns_provider_name(const acme_dns_provider *p);

/**
 * A resolved setting of the instance, for diagnostics.
 *
 * @return the value (borrowed until the instance is freed); NULL when the
 *         setting is unset, unknown, or secret (secrets are never
 *         returned).
 * Thread safety: MT-Safe.
 */
ACME_EXTERN const char *acme_dns_provider_setting(const acme_dns_provider *p, const char *key);

/**
 * The zone that holds @p fqdn: the configured `zone` setting, or the
 * longest zone at the provider that equals @p fqdn or is a suffix of it
 * on a label boundary (`badexample.com` is not in `example.com`).
 *
 * @param zone_out  receives the zone's name (lower case, no trailing dot)
 * @param p         the instance
 * @param fqdn      a DNS name (trailing dot and case do not matter)
 * @param err       receives the error on failure (may be NULL)
 * @return ACME_OK; ACME_E_ZONENOTFOUND when no zone at the provider covers
 *         @p fqdn, or the configured zone does not exist there;
 *         ACME_E_NOTINZONE when @p fqdn is outside the configured zone;
 *         ACME_E_AUTH, ACME_E_RATELIMITED, ACME_E_REJECTED, ACME_E_NETWORK,
 *         ACME_E_TLS, ACME_E_TIMEOUT, ACME_E_CANCELLED from the API;
 *         ACME_E_INVALID for a bad name.
 * Ownership: the caller frees *zone_out with acme_free().
 * Thread safety: MT-Safe (calls into the provider are serialised).
 */
ACME_EXTERN int acme_dns_provider_find_zone(char **zone_out, acme_dns_provider *p,
                                            const char *fqdn, acme_error **err);

/**
 * Add one TXT value at @p fqdn (in the zone acme_dns_provider_find_zone()
 * picks), keeping any other values there.  Adding a value that is
 * already there succeeds.
 *
 * @param p      the instance
 * @param fqdn   the record name, e.g. "_acme-challenge.example.com"
 * @param value  the value, unquoted (at most 255 bytes)
 * @param ttl    seconds; 0: the `ttl` setting or the provider's default
 * @param err    receives the error on failure (may be NULL)
 * @return ACME_OK; errors as acme_dns_provider_find_zone().
 * Thread safety: MT-Safe (calls into the provider are serialised).
 */
ACME_EXTERN int acme_dns_provider_txt_add(acme_dns_provider *p, const char *fqdn,
                                          const char *value, unsigned int ttl, acme_error **err);

/**
 * Remove exactly this TXT value at @p fqdn; other values at the name
 * stay.  A value that is not there counts as removed.
 *
 * @return ACME_OK; errors as acme_dns_provider_find_zone().
 * Thread safety: MT-Safe (calls into the provider are serialised).
 */
ACME_EXTERN int acme_dns_provider_txt_remove(acme_dns_provider *p, const char *fqdn,
                                             const char *value, acme_error **err);

/**
 * Cancel what the instance is doing (an HTTP request, a settle delay, a
 * propagation check): it returns ACME_E_CANCELLED soon, as does every
 * later call until acme_dns_provider_reset_cancel().
 *
 * Thread safety: MT-Safe; async-signal-unsafe.
 */
ACME_EXTERN void acme_dns_provider_cancel(acme_dns_provider *p);

/** Clear the cancelled state.  MT-Safe. */
ACME_EXTERN void acme_dns_provider_reset_cancel(acme_dns_provider *p);

/* ------------------------------------------------------------------ */
/* The dns-01 responder                                                */
/* ------------------------------------------------------------------ */

/** The current version of acme_dns01_options. */
#define ACME_DNS01_OPTIONS_VERSION 1

/**
 * For the millisecond members of acme_dns01_options: no wait at all
 * (zero means "the default").
 */
#define ACME_DNS01_NONE (-1L)

/** Default propagation timeout, when neither the options nor the settings give one. */
#define ACME_DNS01_PROPAGATION_TIMEOUT_MS 120000L
/** Default polling interval of the propagation check. */
#define ACME_DNS01_POLLING_INTERVAL_MS 2000L
/** Timeout of one DNS query of the propagation check or CNAME lookup. */
#define ACME_DNS01_QUERY_TIMEOUT_MS 3000L

/**
 * Options for acme_responder_dns01_new().  Initialise with
 * ACME_DNS01_OPTIONS_INIT; zero means "the default" for every member.
 */
typedef struct acme_dns01_options {
    unsigned int version;          /**< ACME_DNS01_OPTIONS_VERSION */
    /**
     * The zone to write into (a name or provider zone id); NULL: the
     * provider's `zone` setting, else auto-detection.
     */
    const char *zone;
    /**
     * Wait after the record is in place (and checked), for providers whose
     * edge servers lag behind their API (txacme's settle_delay).  0: the
     * `settle_delay` setting, else the provider's suggestion (0 for
     * PowerDNS, see libacme-dns(3)); ACME_DNS01_NONE: no wait.
     */
    long settle_delay_ms;
    /** Skip the propagation check (it is on by default). */
    bool no_propagation_check;
    /**
     * How long the propagation check may take before start fails with
     * ACME_E_TIMEOUT.  0: the `propagation_timeout` setting, else
     * ACME_DNS01_PROPAGATION_TIMEOUT_MS.
     */
    long propagation_timeout_ms;
    /**
     * Pause between two rounds of queries.  0: the `polling_interval`
     * setting, else ACME_DNS01_POLLING_INTERVAL_MS.
     */
    long polling_interval_ms;
    /**
     * A DNS server ("127.0.0.1:5300", "[::1]:53", "192.0.2.1") that
     * answers the propagation check and the CNAME lookup instead of the
     * zone's authoritative servers and the system resolver (tests; split
     * horizons).  NULL: the real ones.
     */
    const char *nameserver;
    /** Do not follow a CNAME at `_acme-challenge.<name>`. */
    bool no_cname;
    /** TXT TTL in seconds; 0: the `ttl` setting, else the provider's default. */
    unsigned int ttl;
} acme_dns01_options;

#define ACME_DNS01_OPTIONS_INIT { ACME_DNS01_OPTIONS_VERSION, 0, 0, 0, 0, 0, 0, 0, 0 }

/**
 * A responder (challenge type "dns-01", named "dns-01 <provider>") that
 * answers through @p provider.
 *
 * Its start, for identifier `<name>` (without "*.": a wildcard's
 * authorization carries the base name):
 * 1. computes `_acme-challenge.<name>` and, unless @c no_cname, follows a
 *    CNAME there (to a zone with an API, or an acme-dns server's zone):
 *    the record is written at the target;
 * 2. adds the TXT value base64url(SHA-256(key authorization)), keeping
 *    any other value at the name (a wildcard and its base name in one
 *    order need two at once);
 * 3. waits until the provider reports the change applied, where its API
 *    can;
 * 4. unless @c no_propagation_check, asks each authoritative server of the
 *    zone (or @c nameserver) for the TXT record until every one serves the
 *    value, or fails with ACME_E_TIMEOUT at the deadline;
 * 5. waits the settle delay.
 * Its stop removes exactly that value.
 *
 * @param out       receives the responder
 * @param provider  the provider instance; the responder holds a reference
 * @param opts      options (NULL: every default)
 * @param err       receives the error on failure (may be NULL)
 * @return ACME_OK; ACME_E_INVALID for NULL arguments, a bad nameserver or
 *         an options version newer than this library's; ACME_E_NOMEM.
 *         Its start returns the errors of acme_dns_provider_txt_add(),
 *         ACME_E_TIMEOUT when the propagation check runs out of time and
 *         ACME_E_CANCELLED after acme_dns_provider_cancel().
 * Ownership: the caller frees *out with acme_responder_free(); options
 * are copied.
 * Thread safety: MT-Safe.  Start and stop are MT-Safe: calls into the
 * provider are serialised by its lock, waits happen outside it.  They
 * block (HTTP, DNS, delays) on the thread that runs the order; libacme
 * starts no thread for them.
 */
ACME_EXTERN int acme_responder_dns01_new(acme_responder **out, acme_dns_provider *provider,
                                         const acme_dns01_options *opts, acme_error **err);

ACME_END_DECLS

#endif /* ACME_DNS_H */
