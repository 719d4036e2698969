/*
 * dns/providers: RFC 2136 dynamic update, signed with TSIG (RFC 8945).
 *
 * No HTTP API here: the provider sends DNS UPDATE messages to the zone's
 * primary (the `nameserver` setting) over UDP, again over TCP when the
 * answer comes back truncated (or TCP only with `tcp=yes`).  Adding a
 * value adds one TXT RR (class IN); removing it deletes exactly that RR
 * (class NONE, RFC 2136 §2.5.4), so another value at the same name (the
 * wildcard and apex of one order) survives.  Unlike lego, which deletes
 * the whole RRset before adding, nothing else is touched.  Both are
 * idempotent on the server's side (§3.4.2.2: duplicates are ignored;
 * deleting an absent RR is a no-op).
 *
 * Zones: the `zones` list (DNSUPDATE_ZONES) when given, else the zone
 * apex found by asking the nameserver for the SOA of the name and then of
 * each parent (lego's FindZoneByFqdn, against the primary only).
 *
 * Messages, TSIG and the checks of the answer are in rfc2136-msg.c; the
 * UDP/TCP exchange and the SOA queries are lib/dns/resolve.c's.
 */
#include "config.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <time.h>

#include <acme/sys/error.h>

#include "crypto/crypto.h"
#include "dns/dns.h"
#include "dns/providers/rfc2136.h"
#include "util/error.h"
#include "util/i18n.h"
#include "util/util.h"

#define SERVICE "RFC 2136"
/* RFC 1035 §4.2.1: larger messages go over TCP. */
#define MAX_UDP 512
/* A key file larger than this is not a key file. */
#define MAX_KEYFILE 65536

static int nomem(acme_error **err)
{
    return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
}

typedef struct rfc2136 {
    acme_dns_env *env;
    char *nameserver;        /* as configured: "192.0.2.1:53", "ns1.example.com:5353" */
    acme__dns_server server; /* resolved (numeric) */
    bool resolved;
    bool tcp;
    bool signed_updates;     /* a TSIG key is configured */
    acme__tsig_key key;
    char **zones;            /* the `zones` setting, normalised */
    size_t nzones;
    char *zone_setting;      /* the core `zone` setting, for list_zones without `zones` */
    char **found;            /* zones SOA lookups found, for list_zones */
    size_t nfound;
    int64_t timeout_ms;
} rfc2136;

static const char *const env_nameserver[] = { "DNSUPDATE_NAMESERVER", "RFC2136_NAMESERVER", NULL };
static const char *const env_tsig_key[] = { "DNSUPDATE_TSIG_KEY", "RFC2136_TSIG_KEY", NULL };
static const char *const env_tsig_secret[] = { "DNSUPDATE_TSIG_SECRET", "RFC2136_TSIG_SECRET",
                                               NULL };
static const char *const env_tsig_alg[] = { "DNSUPDATE_TSIG_ALGORITHM",
                                            "RFC2136_TSIG_ALGORITHM", NULL };
static const char *const env_tsig_file[] = { "DNSUPDATE_TSIG_FILE", "RFC2136_TSIG_FILE", NULL };
static const char *const env_zones[] = { "DNSUPDATE_ZONES", "RFC2136_ZONES", NULL };
static const char *const env_dns_timeout[] = { "DNSUPDATE_DNS_TIMEOUT", "RFC2136_DNS_TIMEOUT",
                                               NULL };
static const char *const env_tcp[] = { "DNSUPDATE_TCP", "RFC2136_TCP", NULL };

static const acme_dns_option rfc2136_options[] = {
    { .key = "nameserver", .env = env_nameserver, .flags = ACME_DNS_OPT_REQUIRED,
      .help = "the zone's primary: host or host:port ([v6]:port), port 53 by default" },
    { .key = "tsig_key", .env = env_tsig_key, .help = "the TSIG key name" },
    { .key = "tsig_secret", .env = env_tsig_secret, .flags = ACME_DNS_OPT_SECRET,
      .help = "the TSIG secret, base64" },
    { .key = "tsig_algorithm", .env = env_tsig_alg,
      .help = "hmac-sha256 (default), hmac-sha512, hmac-sha384, hmac-sha224, hmac-sha1" },
    { .key = "tsig_file", .env = env_tsig_file,
      .help = "a tsig-keygen key file (key, algorithm and secret)" },
    { .key = "zones", .env = env_zones,
      .help = "the zones to update, separated by spaces or commas; default: SOA lookups" },
    { .key = "dns_timeout", .env = env_dns_timeout, .default_value = "10",
      .help = "seconds to wait for the server's answer" },
    { .key = "tcp", .env = env_tcp, .default_value = "no", .help = "send over TCP only (yes/no)" },
    { .key = NULL },
};

static void rfc2136_destroy(void *self)
{
    rfc2136 *r = self;

    if (!r)
        return;
    free(r->nameserver);
    acme__tsig_key_clear(&r->key);
    acme_free_strv(r->zones, r->nzones);
    free(r->zone_setting);
    acme_free_strv(r->found, r->nfound);
    free(r);
}

static int read_keyfile(char **text, const char *path, acme_error **err)
{
    FILE *f = fopen(path, "r");
    acme__buf b = ACME__BUF_INIT;
    char chunk[4096];
    size_t got;

    *text = NULL;
    if (!f)
        return acme_error_set(err, ACME_E_IO, _("cannot read the TSIG key file %s"), path);
    while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (b.len + got > MAX_KEYFILE || acme__buf_append(&b, chunk, got) < 0) {
            fclose(f);
            memset(chunk, 0, sizeof(chunk));
            acme__free_secret(acme__buf_steal(&b));
            return acme_error_set(err, ACME_E_INVALID, _("the TSIG key file %s is too large"),
                                  path);
        }
    }
    fclose(f);
    memset(chunk, 0, sizeof(chunk));
    if (!(*text = acme__buf_steal(&b)))
        return nomem(err);
    return ACME_OK;
}

/* The key from the settings, the key file filling in what they leave unset. */
static int key_setup(rfc2136 *r, const acme_dns_settings *s, acme_error **err)
{
    const char *name = acme_dns_settings_get(s, "tsig_key");
    const char *secret = acme_dns_settings_get(s, "tsig_secret");
    const char *alg = acme_dns_settings_get(s, "tsig_algorithm");
    const char *file = acme_dns_settings_get(s, "tsig_file");
    char *text = NULL, *fname = NULL, *falg = NULL, *fsecret = NULL;
    int rc = ACME_OK;

    if (file && *file) {
        if ((rc = read_keyfile(&text, file, err)) < 0)
            return rc;
        rc = acme__rfc2136_parse_keyfile(&fname, &falg, &fsecret, text, err);
        acme__free_secret(text);
        if (rc < 0)
            return acme__error_prefix(err, rc, "%s", file);
        if (!name || !*name)
            name = fname;
        if (!secret || !*secret)
            secret = fsecret;
        if (!alg || !*alg)
            alg = falg;
    }
    if ((name && *name) != (secret && *secret)) {
        rc = acme_error_set(err, ACME_E_INVALID,
                            _("DNS provider rfc2136 needs both tsig_key and tsig_secret (or "
                              "tsig_file), or neither"));
    } else if (name && *name) {
        r->signed_updates = true;
        rc = acme__tsig_key_init(&r->key, name, alg, secret, err);
        if (rc < 0)
            rc = acme__error_prefix(err, rc, "DNS provider rfc2136");
    } else if (alg && *alg) {
        rc = acme_error_set(err, ACME_E_INVALID,
                            _("DNS provider rfc2136: tsig_algorithm without tsig_key"));
    }
    free(fname);
    free(falg);
    acme__free_secret(fsecret);
    return rc;
}

static int zones_setup(rfc2136 *r, const char *list, acme_error **err)
{
    const char *p = list;

    while (p && *p) {
        size_t n = strcspn(p, " ,;\t");
        char *raw, *norm = NULL, **v;
        int rc;

        if (n) {
            if (!(raw = acme__strndup(p, n)))
                return nomem(err);
            rc = acme__dns_name_normalize(&norm, raw, err);
            free(raw);
            if (rc < 0)
                return acme__error_prefix(err, rc, "DNS provider rfc2136: zones");
            if (!(v = realloc(r->zones, (r->nzones + 1) * sizeof(*v)))) {
                free(norm);
                return nomem(err);
            }
            r->zones = v;
            r->zones[r->nzones++] = norm;
        }
        p += n;
        p += strspn(p, " ,;\t");
    }
    return ACME_OK;
}

static bool parse_bool(const char *v, bool *out)
{
    static const char *const yes[] = { "1", "yes", "true", "on" }, *const no[] = { "0", "no", "false", "off", "" };

    for (size_t i = 0; i < ACME_ARRAY_SIZE(yes); i++)
        if (acme__strncaseeq(v, yes[i], strlen(v) + 1))
            return *out = true, true;
    for (size_t i = 0; i < ACME_ARRAY_SIZE(no); i++)
        if (acme__strncaseeq(v, no[i], strlen(v) + 1))
            return *out = false, true;
    return false;
}

/* Split "host", "host:port", "[v6]:port" or a bare IPv6 address. */
static int split_hostport(char *host, size_t cap, unsigned short *port, const char *s)
{
    const char *end, *ps = NULL;
    size_t hlen;
    unsigned char tmp[16];

    *port = 53;
    if (*s == '[') {
        if (!(end = strchr(s, ']')) || (end[1] && end[1] != ':'))
            return -1;
        s++;
        hlen = (size_t)(end - s);
        ps = end[1] ? end + 2 : NULL;
    } else if ((end = strchr(s, ':')) && !strchr(end + 1, ':')) {
        hlen = (size_t)(end - s);
        ps = end + 1;
    } else {
        hlen = strlen(s);
        if (strchr(s, ':') && (hlen >= cap || inet_pton(AF_INET6, s, tmp) != 1))
            return -1;
    }
    if (!hlen || hlen >= cap)
        return -1;
    memcpy(host, s, hlen);
    host[hlen] = '\0';
    if (ps) {
        char *e;
        long v = strtol(ps, &e, 10);

        if (!*ps || *e || v < 1 || v > 65535)
            return -1;
        *port = (unsigned short)v;
    }
    for (const char *c = host; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '.' || *c == '-' || *c == ':' || *c == '_'))
            return -1;
    return 0;
}

static int rfc2136_open(void **self_out, const acme_dns_settings *s, acme_dns_env *env,
                        acme_error **err)
{
    const char *ns = acme_dns_settings_get(s, "nameserver");
    const char *zones = acme_dns_settings_get(s, "zones");
    const char *zone = acme_dns_settings_get(s, "zone");
    const char *tcp = acme_dns_settings_get(s, "tcp");
    char host[256];
    unsigned short port;
    unsigned int timeout_s = 10;
    rfc2136 *r;
    int rc;

    *self_out = NULL;
    if (!ns || !*ns || split_hostport(host, sizeof(host), &port, ns) < 0)
        return acme_error_set(err, ACME_E_INVALID,
                              _("DNS provider rfc2136 needs the setting nameserver (or "
                                "DNSUPDATE_NAMESERVER) as host, host:port or [address]:port"));
    if ((rc = acme_dns_settings_get_uint(s, "dns_timeout", 10, &timeout_s, err)) < 0)
        return rc;
    if (!(r = calloc(1, sizeof(*r))))
        return nomem(err);
    r->env = env;
    r->timeout_ms = (int64_t)(timeout_s ? timeout_s : 10) * 1000;
    if (tcp && !parse_bool(tcp, &r->tcp)) {
        rc = acme_error_set(err, ACME_E_INVALID, _("DNS provider rfc2136: tcp must be yes or no"));
        goto fail;
    }
    if (!(r->nameserver = acme__strdup(ns)) ||
        (zone && *zone && !(r->zone_setting = acme__strdup(zone)))) {
        rc = nomem(err);
        goto fail;
    }
    /* A numeric address needs no lookup; a host name is resolved at the first update. */
    if (acme__dns_server_parse(&r->server, ns, NULL) == ACME_OK)
        r->resolved = true;
    if ((rc = key_setup(r, s, err)) < 0 || (rc = zones_setup(r, zones, err)) < 0)
        goto fail;
    if (!r->signed_updates)
        ACME__LOGF(acme__dns_env_log(env), ACME_LOG_NOTICE,
                   "DNS provider rfc2136: no TSIG key, updates to %s go unsigned", ns);
    *self_out = r;
    return ACME_OK;
fail:
    rfc2136_destroy(r);
    return rc;
}

/* The server's address: numeric from the start, or the first address of its host name. */
static int server_get(rfc2136 *r, acme_error **err)
{
    struct addrinfo hints, *res = NULL;
    char host[256], port[8], addr[INET6_ADDRSTRLEN];
    unsigned short p;
    int gai;

    if (r->resolved)
        return ACME_OK;
    if (split_hostport(host, sizeof(host), &p, r->nameserver) < 0)
        return acme_error_set(err, ACME_E_INVALID, _("bad nameserver %s"), r->nameserver);
    snprintf(port, sizeof(port), "%u", p);
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICSERV;
    if ((gai = getaddrinfo(host, port, &hints, &res)) != 0 || !res)
        return acme_error_set(err, ACME_E_NETWORK, _("cannot resolve the nameserver %s: %s"),
                              host, gai_strerror(gai));
    if (res->ai_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, addr, sizeof(addr));
    else
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)res->ai_addr)->sin6_addr, addr,
                  sizeof(addr));
    freeaddrinfo(res);
    snprintf(r->server.host, sizeof(r->server.host), "%s", addr);
    r->server.port = p;
    r->resolved = true;
    return ACME_OK;
}

static int rfc2136_list_zones(void *self, acme_dns_zone_list *out, acme_error **err)
{
    rfc2136 *r = self;
    int rc = ACME_OK;

    /*
     * DNS has no "list my zones": the configured ones are the list, else
     * the `zone` setting and the zones SOA lookups found so far (the
     * responder removes a value naming the zone its add went into).
     */
    for (size_t i = 0; i < r->nzones && rc == ACME_OK; i++)
        rc = acme_dns_zone_list_add(out, r->zones[i], r->zones[i], false, err);
    if (r->nzones)
        return rc;
    if (!r->zone_setting && !r->nfound)
        return acme_error_set(err, ACME_E_NOTSUP,
                              _("DNS provider rfc2136 cannot list zones: set zones (or "
                                "DNSUPDATE_ZONES), or leave zone unset to find zones by SOA"));
    if (r->zone_setting)
        rc = acme_dns_zone_list_add(out, r->zone_setting, r->zone_setting, false, err);
    for (size_t i = 0; i < r->nfound && rc == ACME_OK; i++)
        rc = acme_dns_zone_list_add(out, r->found[i], r->found[i], false, err);
    return rc;
}

/* Note a zone SOA lookups found (best effort: a miss only costs list_zones). */
static void remember(rfc2136 *r, const char *zone)
{
    char **v;

    for (size_t i = 0; i < r->nfound; i++)
        if (strcmp(r->found[i], zone) == 0)
            return;
    if (!(v = realloc(r->found, (r->nfound + 1) * sizeof(*v))))
        return;
    r->found = v;
    if ((r->found[r->nfound] = acme__strdup(zone)))
        r->nfound++;
}

/*
 * The zone of @p fqdn: the longest of the `zones` list, else the first
 * of the name and its parents for which the nameserver answers a SOA
 * record at exactly that name (the zone apex).
 */
static int rfc2136_find_zone(void *self, const char *fqdn, acme_dns_zone *out, acme_error **err)
{
    rfc2136 *r = self;
    const char *name = fqdn;
    int rc;

    if (r->nzones) {
        acme_dns_zone_list l = { NULL, 0, 0 };
        size_t idx;

        /* A borrowed view of the list, for the core's longest-suffix rule. */
        l.v = calloc(r->nzones, sizeof(*l.v));
        if (!l.v)
            return nomem(err);
        for (size_t i = 0; i < r->nzones; i++)
            l.v[i].id = l.v[i].name = r->zones[i];
        l.n = l.cap = r->nzones;
        rc = acme__dns_zone_pick(&idx, &l, fqdn, NULL);
        if (rc == ACME_OK) {
            out->id = acme__strdup(r->zones[idx]);
            out->name = acme__strdup(r->zones[idx]);
        }
        free(l.v);
        if (rc < 0)
            return acme_error_set(err, ACME_E_NOTFOUND, _("no zone in zones holds %s"), fqdn);
        if (!out->id || !out->name) {
            free(out->id);
            free(out->name);
            out->id = out->name = NULL;
            return nomem(err);
        }
        return ACME_OK;
    }
    if ((rc = server_get(r, err)) < 0)
        return rc;
    for (;;) {
        acme__dns_answer a;
        acme_error *e = NULL;

        /* RFC 1035 §3.3.13: a SOA marks the top of a zone; below it the SOA comes as authority. */
        rc = acme__dns_query(&a, &r->server, name, ACME__DNS_T_SOA, false, r->timeout_ms,
                             r->env, &e);
        if (rc < 0)
            return acme__error_give(err, e);
        if (a.rcode == 0 && a.nrr > 0 && !a.cname) {
            acme__dns_answer_clear(&a);
            out->id = acme__strdup(name);
            out->name = acme__strdup(name);
            if (!out->id || !out->name) {
                free(out->id);
                free(out->name);
                out->id = out->name = NULL;
                return nomem(err);
            }
            remember(r, name);
            return ACME_OK;
        }
        acme__dns_answer_clear(&a);
        if (!(name = strchr(name, '.')))
            break;
        name++;
    }
    return acme_error_set(err, ACME_E_NOTFOUND, _("%s at %s: no SOA for %s or a parent"),
                          SERVICE, r->nameserver, fqdn);
}

static uint64_t now_s(void)
{
    return (uint64_t)time(NULL);
}

/* Send one update for @p txt (add or delete) and check the answer. */
static int update(rfc2136 *r, const acme_dns_txt *txt, bool add, acme_error **err)
{
    acme__buf msg = ACME__BUF_INIT;
    unsigned char mac[ACME__TSIG_MAX_MAC], *resp = NULL;
    size_t mac_len = 0, rlen = 0;
    uint16_t id;
    int rc;

    if ((rc = server_get(r, err)) < 0)
        return rc;
    /* A random id (RFC 5452 §9.2), though TSIG is what authenticates the answer. */
    if (acme__random(&id, sizeof(id)) < 0)
        id = (uint16_t)(now_s() ^ (uintptr_t)r);
    if ((rc = acme__rfc2136_build_update(&msg, id, txt->zone->name, txt->fqdn, txt->value,
                                         txt->ttl, add, err)) < 0)
        goto out;
    if (r->signed_updates &&
        (rc = acme__rfc2136_sign(&msg, &r->key, now_s(), mac, &mac_len, err)) < 0)
        goto out;
    ACME__LOGF(acme__dns_env_log(r->env), ACME_LOG_DEBUG,
               "DNS provider rfc2136: UPDATE zone %s: %s TXT at %s via %s:%u%s", txt->zone->name,
               add ? "add" : "delete", txt->fqdn, r->server.host, r->server.port,
               r->signed_updates ? " (TSIG)" : "");
    /* RFC 1035 §4.2.1: UDP carries 512 bytes; longer updates go over TCP. */
    if ((rc = acme__dns_exchange(&resp, &rlen, &r->server, (unsigned char *)msg.data, msg.len,
                                 r->tcp || msg.len > MAX_UDP, r->timeout_ms, r->env, err)) < 0)
        goto out;
    rc = acme__rfc2136_check_response(resp, rlen, id, txt->zone->name,
                                      r->signed_updates ? &r->key : NULL, mac, mac_len, now_s(),
                                      err);
out:
    free(resp);
    acme__buf_clear(&msg);
    return rc;
}

static int rfc2136_create_txt(void *self, const acme_dns_txt *txt, char **handle_out,
                              acme_error **err)
{
    *handle_out = NULL; /* RRs are addressed by their content */
    return update(self, txt, true, err);
}

static int rfc2136_delete_txt(void *self, const acme_dns_txt *txt, const char *handle,
                              acme_error **err)
{
    (void)handle;
    return update(self, txt, false, err);
}

static const char *const rfc2136_aliases[] = { "dnsupdate", "nsupdate", NULL };
/* lego reads DNSUPDATE_* first, then the old RFC2136_* names. */
static const char *const rfc2136_prefixes[] = { "DNSUPDATE", "RFC2136", NULL };

const acme_dns_provider_ops acme__dns_rfc2136_ops = {
    .version = ACME_DNS_PROVIDER_OPS_VERSION,
    .size = sizeof(acme_dns_provider_ops),
    .name = "rfc2136",
    .aliases = rfc2136_aliases,
    .env_prefixes = rfc2136_prefixes,
    .options = rfc2136_options,
    .flags = 0,
    .default_ttl = 120,
    .min_ttl = 0,
    .max_ttl = 0,
    /* The primary serves the change at once; secondaries follow its NOTIFY. */
    .default_settle_s = 0,
    .open = rfc2136_open,
    .list_zones = rfc2136_list_zones,
    .find_zone = rfc2136_find_zone,
    .create_txt = rfc2136_create_txt,
    .delete_txt = rfc2136_delete_txt,
    .wait_applied = NULL,
    .destroy = rfc2136_destroy,
};
