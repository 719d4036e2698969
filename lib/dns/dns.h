/*
 * dns: internal contracts between the files of lib/dns/ (registry,
 * configuration, zones, resolver, responder) and the built-in providers
 * in lib/dns/providers/.
 */
#ifndef ACME_DNS_INTERNAL_H
#define ACME_DNS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <acme/dns.h>
#include <acme/sys/dns.h>

#include "transport/rest.h"
#include "util/log.h"

/* ---- registry.c ---- */

/* The built-in providers (each lib/dns/providers/<name>.c defines one). */
extern const acme_dns_provider_ops acme__dns_pdns_ops;
extern const acme_dns_provider_ops acme__dns_cloudflare_ops;
extern const acme_dns_provider_ops acme__dns_digitalocean_ops;
extern const acme_dns_provider_ops acme__dns_hetzner_ops;
extern const acme_dns_provider_ops acme__dns_linode_ops;
extern const acme_dns_provider_ops acme__dns_desec_ops;
extern const acme_dns_provider_ops acme__dns_route53_ops;
extern const acme_dns_provider_ops acme__dns_gcloud_ops;
extern const acme_dns_provider_ops acme__dns_gandiv5_ops;
extern const acme_dns_provider_ops acme__dns_ovh_ops;
extern const acme_dns_provider_ops acme__dns_acmedns_ops;
extern const acme_dns_provider_ops acme__dns_exec_ops;
extern const acme_dns_provider_ops acme__dns_rfc2136_ops;

/*
 * Check a vtable as acme_dns_provider_register() does: version, size,
 * required members.  Returns ACME_OK or ACME_E_INVALID.
 */
int acme__dns_ops_check(const acme_dns_provider_ops *ops, acme_error **err);

/* Member @p m of @p ops, or NULL when the provider was built before it existed. */
#define ACME__DNS_OP(ops, m) \
    ((ops)->size >= offsetof(acme_dns_provider_ops, m) + sizeof((ops)->m) ? (ops)->m : NULL)

/* ---- config.c ---- */

/* The core settings every provider accepts. */
#define ACME__DNS_CORE_KEYS \
    "ttl", "propagation_timeout", "polling_interval", "settle_delay", "http_timeout", "zone", \
        "base_url"

struct acme_dns_settings {
    char **keys;        /* every known key (core + provider), in table order */
    char **values;      /* NULL when unset */
    bool *secret;
    size_t n;
};

/*
 * Split "k=v,k2=v2" (`\` escapes the next character) into @p keys and
 * @p values (malloc'd arrays of malloc'd strings).  Errors: ACME_E_INVALID
 * naming the position, never the text (it may hold a secret).
 */
int acme__dns_kv_parse(char ***keys, char ***values, size_t *n, const char *s, acme_error **err);

/*
 * Resolve the settings of @p ops: @p arr ("k=v" strings, NULL-terminated),
 * then the spec string's pairs, then the environment (@p environ, or
 * getenv() when NULL; none when @p ignore_env), then `<VAR>_FILE`, then
 * defaults.  Unknown keys, missing required settings: ACME_E_INVALID.
 */
int acme__dns_settings_resolve(acme_dns_settings **out, const acme_dns_provider_ops *ops,
                               const char *spec_kv, const char *const *arr,
                               const char *const *environ, bool ignore_env, acme_error **err);
void acme__dns_settings_free(acme_dns_settings *s);
/* Whether @p key is a secret setting. */
bool acme__dns_settings_is_secret(const acme_dns_settings *s, const char *key);

/* ---- zone.c ---- */

/*
 * Normalise a DNS name into *out: ASCII lower case, one trailing dot
 * removed, labels 1..63 of [a-z0-9_-] (and '*' as a whole first label),
 * total at most 253.  ACME_E_INVALID otherwise.
 */
int acme__dns_name_normalize(char **out, const char *name, acme_error **err);

/* Whether @p fqdn equals @p zone or ends in "." + @p zone (both normalised). */
bool acme__dns_name_in_zone(const char *fqdn, const char *zone);

/*
 * The longest zone in @p zones that holds @p fqdn (normalised); index in
 * *idx.  A public zone wins over a private one of the same name.
 * ACME_E_ZONENOTFOUND (message lists the suffixes tried) when none.
 */
int acme__dns_zone_pick(size_t *idx, const acme_dns_zone_list *zones, const char *fqdn,
                        acme_error **err);

/*
 * The configured zone @p want (a name or an id) in @p zones: by id first,
 * then by name.  ACME_E_ZONENOTFOUND when absent; ACME_E_NOTINZONE when
 * @p fqdn is outside it.
 */
int acme__dns_zone_configured(size_t *idx, const acme_dns_zone_list *zones, const char *want,
                              const char *fqdn, acme_error **err);

/* @p fqdn relative to @p zone ("" at the apex); NULL on no memory. */
char *acme__dns_relative(const char *fqdn, const char *zone);

/* TXT presentation: "\"v\"" with '"' and '\' escaped; and back (strings concatenated). */
char *acme__dns_txt_quote(const char *value);
char *acme__dns_txt_unquote(const char *content);

/* ---- the instance (provider.c) ---- */

struct acme_dns_env {
    acme__rest *rest;              /* the HTTP client; used under the instance lock */
    acme__logger log;
    atomic_bool cancelled;
    pthread_mutex_t wait_lock;     /* guards nothing but the wait below */
    pthread_cond_t wake;           /* broadcast on cancel */
};

struct acme_dns_provider {
    const acme_dns_provider_ops *ops;   /* borrowed (static) */
    void *self;                         /* the provider's state; guarded by lock */
    acme_dns_settings *settings;
    acme_dns_env env;
    char *user_agent;
    pthread_mutex_t lock;               /* serialises every call into ops */
    atomic_uint refs;

    /* Handles create_txt returned, for delete_txt; guarded by lock. */
    struct dns_handle {
        char *fqdn, *value, *handle;
    } *handles;
    size_t nhandles;

    /* The provider's zone list, reused for ZONE_CACHE_S; guarded by lock. */
    acme_dns_zone_list zones;
    int64_t zones_at;                   /* monotonic seconds; 0: never listed */
};

/* Hold and drop references (for responders). */
void acme__dns_provider_ref(acme_dns_provider *p);

/* Sleep @p ms on the instance's cancellable wait (outside its lock). */
int acme__dns_env_sleep(acme_dns_env *env, int64_t ms, acme_error **err);
bool acme__dns_env_cancelled(const acme_dns_env *env);

/* The provider's REST client and logger, for built-in providers. */
acme__rest *acme__dns_env_rest(acme_dns_env *env);
const acme__logger *acme__dns_env_log(const acme_dns_env *env);

/*
 * Add / remove a value (as the public calls, with @p zone_hint overriding
 * the `zone` setting when not NULL), and wait for the provider to apply
 * it when it can (@p apply_timeout_ms; the lock is held while waiting: the
 * provider's own polling).
 */
int acme__dns_txt_add(acme_dns_provider *p, const char *fqdn, const char *value,
                      const char *key_authorization, unsigned int ttl, const char *zone_hint,
                      int64_t apply_timeout_ms, char **zone_out, acme_error **err);
int acme__dns_txt_remove(acme_dns_provider *p, const char *fqdn, const char *value,
                         const char *key_authorization, const char *zone_hint,
                         acme_error **err);

/* ---- resolve.c: a minimal stub resolver over UDP ---- */

#define ACME__DNS_T_A 1
#define ACME__DNS_T_NS 2
#define ACME__DNS_T_CNAME 5
#define ACME__DNS_T_SOA 6
#define ACME__DNS_T_TXT 16
#define ACME__DNS_T_AAAA 28

/* A server address: numeric IPv4/IPv6 and port. */
typedef struct acme__dns_server {
    char host[64];
    unsigned short port;
} acme__dns_server;

/* Parse "1.2.3.4", "1.2.3.4:53", "[::1]:5300", "::1"; port 53 by default. */
int acme__dns_server_parse(acme__dns_server *out, const char *s, acme_error **err);

/* The answer to one query. */
typedef struct acme__dns_answer {
    int rcode;              /* 0 NOERROR, 3 NXDOMAIN, 5 REFUSED, ... */
    bool authoritative;     /* AA */
    /* Records of the asked type in the answer section, as text: TXT
     * strings concatenated; NS / CNAME names normalised; SOA the
     * primary's name (MNAME); A / AAAA addresses. */
    char **rr;
    size_t nrr;
    char *cname;            /* a CNAME for the asked name in the answer, or NULL */
} acme__dns_answer;

void acme__dns_answer_clear(acme__dns_answer *a);

/*
 * Ask @p server for (@p name, @p type) over UDP, with recursion desired
 * when @p recurse.  Waits at most @p timeout_ms; gives up early with
 * ACME_E_CANCELLED when @p env is cancelled (env may be NULL).
 * ACME_E_TIMEOUT when no answer came; ACME_E_PROTOCOL for a malformed one.
 */
int acme__dns_query(acme__dns_answer *out, const acme__dns_server *server, const char *name,
                    int type, bool recurse, int64_t timeout_ms, acme_dns_env *env,
                    acme_error **err);

/* Build a query (exposed for tests): returns its length, or -1. */
int acme__dns_build_query(unsigned char *buf, size_t cap, uint16_t id, const char *name, int type,
                          bool recurse);
/* Parse an answer to (@p id, @p name, @p type) (exposed for tests). */
int acme__dns_parse_answer(acme__dns_answer *out, const unsigned char *msg, size_t len,
                           uint16_t id, const char *name, int type, acme_error **err);

/*
 * A name in uncompressed wire form (RFC 1035 §3.1) into @p out (room for
 * 256 bytes), as given (normalise first for canonical form); "" is the
 * root.  Returns the length, or 0 for a name that does not fit.
 */
size_t acme__dns_name_wire(unsigned char *out, const char *name);

/*
 * Read a (possibly compressed, RFC 1035 §4.1.4) name at *off of @p msg
 * into @p out (256 bytes: lower case, no trailing dot, "" for the root)
 * and advance *off past it.  Returns 0, or -1 for a malformed name.
 */
int acme__dns_read_name(const unsigned char *msg, size_t len, size_t *off, char *out);

/*
 * Send the message @p msg (any opcode; its first two bytes are the id) to
 * @p server and return the first response with that id in *resp
 * (malloc'd, *rlen bytes): over UDP, again over TCP when it comes back
 * truncated (TC), or over TCP only when @p tcp.  Waits at most
 * @p timeout_ms, cancellable through @p env (may be NULL).  The caller
 * checks the rest of the response.  ACME_E_TIMEOUT, ACME_E_NETWORK,
 * ACME_E_CANCELLED, ACME_E_INVALID, ACME_E_NOMEM.
 */
int acme__dns_exchange(unsigned char **resp, size_t *rlen, const acme__dns_server *server,
                       const unsigned char *msg, size_t len, bool tcp, int64_t timeout_ms,
                       acme_dns_env *env, acme_error **err);

/* The first nameserver of /etc/resolv.conf (or @p path), else 127.0.0.1. */
int acme__dns_system_server(acme__dns_server *out, const char *path, acme_error **err);

#endif
