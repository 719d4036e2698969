/*
 * acmed: the configuration file (acmed.conf(5)) and command-line settings.
 *
 * The file is INI, read with libinih (a small, well-kept parser: no
 * hand-written tokenizer here).  Sections [acmed], [challenge], [hooks]
 * and [serve]; an unknown section or key is an error naming the line,
 * so a typo never silently means "the default".  Command-line options go
 * through acmed_config_set() after the file, so they override it.
 */
#include "acmed.h"

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <acme/sys/error.h>

#define DEFAULT_STATE_DIR "/run/acmed"

char *acmed_strdup(const char *s)
{
    char *d;

    if (!s)
        return NULL;
    if (!(d = strdup(s))) {
        fputs("acmed: out of memory\n", stderr);
        abort();
    }
    return d;
}

char *acmed_printf(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) {
        fputs("acmed: out of memory\n", stderr);
        abort();
    }
    return s;
}

const char *acmed_ca_url(const char *ca)
{
    if (!ca || strcmp(ca, "le") == 0)
        return ACME_LE_DIRECTORY_PRODUCTION;
    if (strcmp(ca, "lets") == 0)
        return ACME_LE_DIRECTORY_STAGING;
    return ca;
}

void acmed_config_init(acmed_config *c)
{
    memset(c, 0, sizeof(*c));
    c->log_level = ACME_LOG_NOTICE;
    c->state_dir = acmed_strdup(DEFAULT_STATE_DIR);
}

void acmed_config_clear(acmed_config *c)
{
    char **strs[] = { &c->ca, &c->ca_file, &c->cert_dir, &c->email, &c->state_dir,
                      &c->http_address, &c->webroot, &c->tls_address, &c->dns_provider,
                      &c->dns_nameserver, &c->hook_deploy, &c->hook_failure, &c->hook_expiring,
                      &c->port, &c->path, &c->backend, &c->default_name };

    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        free(*strs[i]);
    for (size_t i = 0; i < c->ndns_settings; i++)
        free(c->dns_settings[i]);
    free(c->dns_settings);
    memset(c, 0, sizeof(*c));
}

static void set_str(char **dst, const char *v)
{
    free(*dst);
    *dst = *v ? acmed_strdup(v) : NULL;
}

static bool parse_bool(const char *v, bool *out)
{
    if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1") ||
        !strcasecmp(v, "on"))
        *out = true;
    else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0") ||
             !strcasecmp(v, "off"))
        *out = false;
    else
        return false;
    return true;
}

static bool parse_uint(const char *v, unsigned long max, unsigned int *out)
{
    char *end;
    unsigned long n;

    errno = 0;
    if (!*v || *v == '-' || *v == '+')
        return false;
    n = strtoul(v, &end, 10);
    if (errno || *end || n > max)
        return false;
    *out = (unsigned int)n;
    return true;
}

/* A duration: seconds, or a number with s, m, h or d. */
static bool parse_duration(const char *v, int64_t *out)
{
    char *end;
    long long n;
    int64_t mul = 1;

    errno = 0;
    if (!*v || *v == '-' || *v == '+')
        return false;
    n = strtoll(v, &end, 10);
    if (errno || end == v)
        return false;
    if (*end) {
        if (end[1])
            return false;
        switch (*end) {
        case 's': mul = 1; break;
        case 'm': mul = 60; break;
        case 'h': mul = 3600; break;
        case 'd': mul = 86400; break;
        default: return false;
        }
    }
    if (n > INT64_MAX / mul / 1000)
        return false;
    *out = (int64_t)n * mul;
    return true;
}

static bool parse_key_type(const char *v, acme_key_type *out)
{
    static const struct { const char *name; acme_key_type t; } types[] = {
        { "ec256", ACME_KEY_EC_P256 }, { "p256", ACME_KEY_EC_P256 },
        { "ec384", ACME_KEY_EC_P384 }, { "p384", ACME_KEY_EC_P384 },
        { "rsa2048", ACME_KEY_RSA_2048 }, { "rsa3072", ACME_KEY_RSA_3072 },
        { "rsa4096", ACME_KEY_RSA_4096 },
    };

    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcasecmp(v, types[i].name) == 0) {
            *out = types[i].t;
            return true;
        }
    return false;
}

static int bad(acme_error **err, const char *section, const char *key, const char *value)
{
    return acme_error_set(err, ACME_E_INVALID, _("bad value \"%s\" for %s.%s"), value, section,
                          key);
}

int acmed_config_set(acmed_config *c, const char *section, const char *key, const char *value,
                     acme_error **err)
{
    bool b;

    if (!section || !*section)
        section = "acmed";
    if (strcmp(section, "acmed") == 0) {
        if (!strcmp(key, "ca") || !strcmp(key, "directory"))
            set_str(&c->ca, value);
        else if (!strcmp(key, "ca_file"))
            set_str(&c->ca_file, value);
        else if (!strcmp(key, "cert_dir") || !strcmp(key, "certificates"))
            set_str(&c->cert_dir, value);
        else if (!strcmp(key, "email")) {
            if (*value && (!strchr(value, '@') || strchr(value, ':')))
                return bad(err, section, key, value);
            set_str(&c->email, value);
        } else if (!strcmp(key, "key_type")) {
            if (!parse_key_type(value, &c->key_type))
                return bad(err, section, key, value);
        } else if (!strcmp(key, "workers")) {
            if (!parse_uint(value, 64, &c->workers))
                return bad(err, section, key, value);
        } else if (!strcmp(key, "log_level")) {
            if (!acmed_log_level_parse(value, &c->log_level))
                return bad(err, section, key, value);
        } else if (!strcmp(key, "syslog")) {
            if (!parse_bool(value, &b))
                return bad(err, section, key, value);
            c->syslog = b;
        } else if (!strcmp(key, "state_dir")) {
            if (!*value)
                return bad(err, section, key, value);
            set_str(&c->state_dir, value);
        } else if (!strcmp(key, "check_interval")) {
            if (!parse_duration(value, &c->check_interval))
                return bad(err, section, key, value);
        } else if (!strcmp(key, "reissue_interval")) {
            if (!parse_duration(value, &c->reissue_interval))
                return bad(err, section, key, value);
        } else if (!strcmp(key, "panic_interval")) {
            if (!parse_duration(value, &c->panic_interval))
                return bad(err, section, key, value);
        } else
            goto unknown;
    } else if (strcmp(section, "challenge") == 0) {
        if (!strcmp(key, "type")) {
            if (!strcmp(value, "http-01"))
                c->challenge = ACMED_CHALLENGE_HTTP01;
            else if (!strcmp(value, "tls-alpn-01"))
                c->challenge = ACMED_CHALLENGE_TLSALPN01;
            else if (!strcmp(value, "dns-01"))
                c->challenge = ACMED_CHALLENGE_DNS01;
            else
                return bad(err, section, key, value);
        } else if (!strcmp(key, "http_address"))
            set_str(&c->http_address, value);
        else if (!strcmp(key, "http_port")) {
            if (!parse_uint(value, 65535, &c->http_port))
                return bad(err, section, key, value);
        } else if (!strcmp(key, "webroot"))
            set_str(&c->webroot, value);
        else if (!strcmp(key, "tls_address"))
            set_str(&c->tls_address, value);
        else if (!strcmp(key, "tls_port")) {
            if (!parse_uint(value, 65535, &c->tls_port))
                return bad(err, section, key, value);
        } else if (!strcmp(key, "dns_provider"))
            set_str(&c->dns_provider, value);
        else if (!strcmp(key, "dns_nameserver"))
            set_str(&c->dns_nameserver, value);
        else if (!strncmp(key, "dns.", 4) && key[4]) {
            /* A provider setting: "dns.api_key = ..." becomes "api_key=...". */
            char **grown = realloc(c->dns_settings, (c->ndns_settings + 2) * sizeof(*grown));

            if (!grown)
                return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
            c->dns_settings = grown;
            c->dns_settings[c->ndns_settings++] = acmed_printf("%s=%s", key + 4, value);
            c->dns_settings[c->ndns_settings] = NULL;
        } else
            goto unknown;
    } else if (strcmp(section, "hooks") == 0) {
        if (!strcmp(key, "deploy"))
            set_str(&c->hook_deploy, value);
        else if (!strcmp(key, "failure"))
            set_str(&c->hook_failure, value);
        else if (!strcmp(key, "expiring"))
            set_str(&c->hook_expiring, value);
        else if (!strcmp(key, "timeout")) {
            int64_t d;

            if (!parse_duration(value, &d) || d < 1 || d > 86400)
                return bad(err, section, key, value);
            c->hook_timeout = (unsigned int)d;
        } else
            goto unknown;
    } else if (strcmp(section, "serve") == 0) {
        if (!strcmp(key, "port"))
            set_str(&c->port, value);
        else if (!strcmp(key, "path"))
            set_str(&c->path, value);
        else if (!strcmp(key, "backend"))
            set_str(&c->backend, value);
        else if (!strcmp(key, "default_name"))
            set_str(&c->default_name, value);
        else
            goto unknown;
    } else {
        return acme_error_set(err, ACME_E_INVALID, _("unknown section [%s]"), section);
    }
    return ACME_OK;
unknown:
    return acme_error_set(err, ACME_E_INVALID, _("unknown setting %s.%s"), section, key);
}

typedef struct parse_ctx {
    acmed_config *c;
    acme_error *e;             /* the first error */
} parse_ctx;

/* inih's handler: 1 to go on, 0 to report the line as an error. */
static int on_value(void *user, const char *section, const char *name, const char *value)
{
    parse_ctx *p = user;

    if (p->e)
        return 1;
    if (!name) /* a section header alone (INI_CALL_HANDLER_ON_NEW_SECTION) */
        return 1;
    if (acmed_config_set(p->c, section, name, value, &p->e) < 0)
        return 0;
    return 1;
}

int acmed_config_load(acmed_config *c, const char *path, bool required, acme_error **err)
{
    parse_ctx p = { c, NULL };
    FILE *f;
    int ret;

    if (!(f = fopen(path, "r"))) {
        if (errno == ENOENT && !required)
            return ACME_OK;
        return acme_error_set(err, errno == ENOENT ? ACME_E_NOTFOUND : ACME_E_IO,
                              _("cannot read %s: %s"), path, strerror(errno));
    }
    ret = ini_parse_file(f, on_value, &p);
    fclose(f);
    if (p.e) {
        int rc = acme_error_set(err, acme_error_code_get(p.e), _("%s:%d: %s"), path, ret,
                                acme_error_message(p.e));

        acme_error_free(p.e);
        return rc;
    }
    if (ret != 0)
        return acme_error_set(err, ACME_E_INVALID, _("%s:%d: syntax error"), path, ret);
    return ACME_OK;
}

int acmed_config_check(const acmed_config *c, acme_error **err)
{
    if (c->path && c->backend)
        return acme_error_set(err, ACME_E_INVALID,
                              _("serve.path and serve.backend exclude each other"));
    if ((c->path || c->backend) && !c->port)
        return acme_error_set(err, ACME_E_INVALID,
                              _("serving files or a backend needs serve.port (--port)"));
    if (!c->port && !c->cert_dir)
        return acme_error_set(err, ACME_E_INVALID,
                              _("no certificate directory: set cert_dir (--cert-dir) or "
                                "serve.port (--port)"));
    if (c->challenge == ACMED_CHALLENGE_DNS01 && !c->dns_provider)
        return acme_error_set(err, ACME_E_INVALID, _("dns-01 needs challenge.dns_provider"));
    if (c->challenge != ACMED_CHALLENGE_DNS01 && c->dns_provider)
        return acme_error_set(err, ACME_E_INVALID,
                              _("challenge.dns_provider is set but challenge.type is not dns-01"));
    if (c->webroot && c->challenge != ACMED_CHALLENGE_HTTP01 &&
        !(c->challenge == ACMED_CHALLENGE_DEFAULT && !c->port))
        return acme_error_set(err, ACME_E_INVALID,
                              _("challenge.webroot needs challenge.type = http-01"));
    if (c->backend && !strrchr(c->backend, ':'))
        return acme_error_set(err, ACME_E_INVALID, _("serve.backend must be HOST:PORT"));
    if (c->port) {
        /* A bad endpoint string is a configuration error, found before
         * anything starts (the daemon parses it again when it starts). */
        acme_endpoint_spec *spec = NULL;
        acme_error *e = NULL;
        int rc = acme_endpoint_string_parse(&spec, c->port, &e);

        acme_endpoint_spec_free(spec);
        if (rc < 0) {
            rc = acme_error_set(err, rc, _("serve.port: %s"), acme_error_message(e));
            acme_error_free(e);
            return rc;
        }
    }
    if (c->default_name && acme_name_validate(c->default_name, NULL) < 0)
        return acme_error_set(err, ACME_E_INVALID, _("bad serve.default_name \"%s\""),
                              c->default_name);
    return ACME_OK;
}

void acmed_config_copy(acmed_config *dst, const acmed_config *src)
{
    *dst = *src;
    dst->ca = acmed_strdup(src->ca);
    dst->ca_file = acmed_strdup(src->ca_file);
    dst->cert_dir = acmed_strdup(src->cert_dir);
    dst->email = acmed_strdup(src->email);
    dst->state_dir = acmed_strdup(src->state_dir);
    dst->http_address = acmed_strdup(src->http_address);
    dst->webroot = acmed_strdup(src->webroot);
    dst->tls_address = acmed_strdup(src->tls_address);
    dst->dns_provider = acmed_strdup(src->dns_provider);
    dst->dns_nameserver = acmed_strdup(src->dns_nameserver);
    dst->hook_deploy = acmed_strdup(src->hook_deploy);
    dst->hook_failure = acmed_strdup(src->hook_failure);
    dst->hook_expiring = acmed_strdup(src->hook_expiring);
    dst->port = acmed_strdup(src->port);
    dst->path = acmed_strdup(src->path);
    dst->backend = acmed_strdup(src->backend);
    dst->default_name = acmed_strdup(src->default_name);
    dst->dns_settings = NULL;
    if (src->ndns_settings) {
        if (!(dst->dns_settings = calloc(src->ndns_settings + 1, sizeof(char *)))) {
            fputs("acmed: out of memory\n", stderr);
            abort();
        }
        for (size_t i = 0; i < src->ndns_settings; i++)
            dst->dns_settings[i] = acmed_strdup(src->dns_settings[i]);
    }
}

static bool str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

bool acmed_config_needs_restart(const acmed_config *a, const acmed_config *b)
{
    if (!str_eq(a->ca, b->ca) || !str_eq(a->ca_file, b->ca_file) ||
        !str_eq(a->cert_dir, b->cert_dir) || !str_eq(a->email, b->email) ||
        !str_eq(a->state_dir, b->state_dir) || !str_eq(a->http_address, b->http_address) ||
        !str_eq(a->webroot, b->webroot) || !str_eq(a->tls_address, b->tls_address) ||
        !str_eq(a->dns_provider, b->dns_provider) ||
        !str_eq(a->dns_nameserver, b->dns_nameserver) || !str_eq(a->port, b->port) ||
        !str_eq(a->path, b->path) || !str_eq(a->backend, b->backend) ||
        !str_eq(a->default_name, b->default_name))
        return true;
    if (a->key_type != b->key_type || a->workers != b->workers ||
        a->challenge != b->challenge || a->http_port != b->http_port ||
        a->tls_port != b->tls_port || a->check_interval != b->check_interval ||
        a->reissue_interval != b->reissue_interval || a->panic_interval != b->panic_interval ||
        a->ndns_settings != b->ndns_settings)
        return true;
    for (size_t i = 0; i < a->ndns_settings; i++)
        if (strcmp(a->dns_settings[i], b->dns_settings[i]) != 0)
            return true;
    return false;
}
