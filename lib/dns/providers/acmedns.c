/*
 * dns/providers: acme-dns (github.com/joohoi/acme-dns), a small DNS
 * server with an HTTP API made only for dns-01.
 *
 * An acme-dns account owns one subdomain of the server's zone, its
 * "fulldomain" (<uuid>.auth.example.org).  The name owner points
 * `_acme-challenge.<name>` there with a CNAME once; the core follows that
 * CNAME, so create_txt is called for the fulldomain and answers with
 * POST /update {"subdomain", "txt"} (headers X-Api-User and X-Api-Key).
 * POST /register creates an account: with a storage file (lego's
 * ACME_DNS_STORAGE_PATH format, {"<domain>": {"username", "password",
 * "fulldomain", "subdomain", "server_url"}}) an unknown name gets one,
 * saved there, and the call fails asking for the CNAME, as lego does.
 *
 * acme-dns keeps the last two values of a subdomain (an update replaces
 * the older one): exactly a wildcard and its base name.  It has no delete:
 * delete_txt succeeds without a request and the value ages out.  Posting a
 * value that is already among the two would push out the other one, so
 * the instance remembers the last two values it posted per subdomain.
 *
 * Zones: find_zone answers the fulldomain's parent (the acme-dns server's
 * zone) for a fulldomain, and <domain> for `_acme-challenge.<domain>`
 * (when the CNAME was not followed).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <acme/sys/error.h>

#include "dns/dns.h"
#include "util/error.h"
#include "util/i18n.h"
#include "util/json.h"
#include "util/util.h"

#define SERVICE "acme-dns"
#define LABEL ACME_DNS01_LABEL "."

typedef struct account {
    char *domain;      /* the storage key, normalised, without "*."; NULL for the settings' */
    char *username, *password, *subdomain, *fulldomain; /* fulldomain normalised, may be NULL */
    char *posted[2];   /* the last two values this instance posted, newest first */
} account;

typedef struct acmedns {
    acme_dns_env *env;
    char *base;                /* no trailing slash */
    const char *storage;       /* borrowed; NULL: no storage file */
    account *v;
    size_t n;
} acmedns;

static const char *const env_api[] = { "ACME_DNS_API_BASE", "ACMEDNS_BASE_URL", NULL };
static const char *const env_storage[] = { "ACME_DNS_STORAGE_PATH", NULL };
static const char *const env_user[] = { "ACMEDNS_USERNAME", NULL };
static const char *const env_pass[] = { "ACMEDNS_PASSWORD", NULL };
static const char *const env_sub[] = { "ACMEDNS_SUBDOMAIN", NULL };
static const char *const env_full[] = { "ACMEDNS_FULLDOMAIN", NULL };

static const acme_dns_option acmedns_options[] = {
    { .key = "api_base", .env = env_api, .help = "the acme-dns server's URL" },
    { .key = "storage_path", .env = env_storage,
      .help = "a JSON file of accounts by domain (lego's format); new ones are registered" },
    { .key = "username", .env = env_user, .help = "one account's username (X-Api-User)" },
    { .key = "password", .env = env_pass, .flags = ACME_DNS_OPT_SECRET,
      .help = "one account's password (X-Api-Key)" },
    { .key = "subdomain", .env = env_sub, .help = "one account's subdomain" },
    { .key = "fulldomain", .env = env_full, .help = "one account's fulldomain" },
    { .key = NULL },
};

static void account_clear(account *a)
{
    free(a->domain);
    free(a->username);
    acme__free_secret(a->password);
    free(a->subdomain);
    free(a->fulldomain);
    free(a->posted[0]);
    free(a->posted[1]);
    memset(a, 0, sizeof(*a));
}

static void acmedns_destroy(void *self)
{
    acmedns *d = self;

    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++)
        account_clear(&d->v[i]);
    free(d->v);
    free(d->base);
    free(d);
}

/* Whether @p s may go into a header line and a JSON string as it is. */
static bool plain_token(const char *s)
{
    return s && *s && !strpbrk(s, "\r\n\"\\");
}

/* Append an account (takes nothing: copies).  @p domain may be NULL. */
static int account_add(acmedns *d, const char *domain, const char *user, const char *pass,
                       const char *sub, const char *full, acme_error **err)
{
    account a = { 0 }, *v;

    if (!plain_token(user) || !plain_token(pass) || !plain_token(sub))
        return acme_error_set(err, ACME_E_INVALID,
                              _("DNS provider acmedns: the account for %s lacks its username, "
                                "password or subdomain, or one is malformed"),
                              domain ? domain : _("every name"));
    if (domain) {
        if (strncmp(domain, "*.", 2) == 0)
            domain += 2;
        if (acme__dns_name_normalize(&a.domain, domain, err) < 0)
            return ACME_E_INVALID;
    }
    if (full && *full && acme__dns_name_normalize(&a.fulldomain, full, err) < 0) {
        account_clear(&a);
        return ACME_E_INVALID;
    }
    a.username = acme__strdup(user);
    a.password = acme__strdup(pass);
    a.subdomain = acme__strdup(sub);
    if (!a.username || !a.password || !a.subdomain ||
        !(v = realloc(d->v, (d->n + 1) * sizeof(*v)))) {
        account_clear(&a);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    d->v = v;
    d->v[d->n++] = a;
    return ACME_OK;
}

/* Read the storage file into *out (an empty object when it does not exist yet). */
static int storage_read(json_object **out, const char *path, acme_error **err)
{
    FILE *f = fopen(path, "re");
    acme__buf b = ACME__BUF_INIT;
    char chunk[4096];
    size_t n;
    int rc;

    *out = NULL;
    if (!f) {
        if (errno == ENOENT)
            return (*out = json_object_new_object())
                       ? ACME_OK
                       : acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        return acme_error_set(err, ACME_E_IO, _("cannot read %s: %s"), path, strerror(errno));
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (acme__buf_append(&b, chunk, n) < 0) {
            fclose(f);
            acme__buf_clear(&b);
            return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        }
    rc = ferror(f) ? acme_error_set(err, ACME_E_IO, _("cannot read %s"), path) : ACME_OK;
    fclose(f);
    if (rc == ACME_OK)
        rc = acme__json_parse(out, b.data ? b.data : "", b.len, "acme-dns storage", err);
    if (b.data)
        memset(b.data, 0, b.len); /* it holds passwords */
    acme__buf_clear(&b);
    if (rc == ACME_OK && !json_object_is_type(*out, json_type_object)) {
        json_object_put(*out);
        *out = NULL;
        rc = acme_error_set(err, ACME_E_INVALID, _("%s is not a JSON object of accounts"), path);
    }
    return rc;
}

static int storage_load(acmedns *d, acme_error **err)
{
    json_object *o;
    int rc;

    if ((rc = storage_read(&o, d->storage, err)) < 0)
        return rc;
    json_object_object_foreach(o, key, a)
    {
        if ((rc = account_add(d, key, acme__json_str(a, "username"), acme__json_str(a, "password"),
                              acme__json_str(a, "subdomain"), acme__json_str(a, "fulldomain"),
                              err)) < 0)
            break;
    }
    json_object_put(o);
    return rc;
}

/* Add one account to the storage file: write a private copy beside it, then rename. */
static int storage_save(acmedns *d, const char *domain, json_object *acct, acme_error **err)
{
    json_object *o;
    char *tmp = NULL, *text = NULL;
    int rc, fd;
    size_t len;

    if ((rc = storage_read(&o, d->storage, err)) < 0)
        return rc;
    json_object_object_add(o, domain, json_object_get(acct));
    text = acme__json_dump(o);
    json_object_put(o);
    if (!text || !(tmp = acme__asprintf("%s.tmp%ld", d->storage, (long)getpid()))) {
        acme__free_secret(text);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    len = strlen(text);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) < 0 || close(fd) < 0 ||
        rename(tmp, d->storage) < 0) {
        rc = acme_error_set(err, ACME_E_IO, _("cannot write %s: %s"), d->storage,
                            strerror(errno));
        if (fd >= 0)
            close(fd);
        unlink(tmp);
    }
    acme__free_secret(text);
    free(tmp);
    return rc;
}

static int acmedns_open(void **self_out, const acme_dns_settings *s, acme_dns_env *env,
                        acme_error **err)
{
    const char *url = acme_dns_settings_get(s, "api_base");
    const char *storage = acme_dns_settings_get(s, "storage_path");
    const char *user = acme_dns_settings_get(s, "username");
    const char *pass = acme_dns_settings_get(s, "password");
    const char *sub = acme_dns_settings_get(s, "subdomain");
    const char *full = acme_dns_settings_get(s, "fulldomain");
    bool one = (user && *user) || (pass && *pass) || (sub && *sub);
    acmedns *d;
    size_t len;
    int rc;

    *self_out = NULL;
    if (!url || !*url)
        url = acme_dns_settings_get(s, "base_url");
    if (!url || !*url)
        return acme_error_set(err, ACME_E_INVALID,
                              _("DNS provider acmedns needs the setting api_base (or the "
                                "environment variable ACME_DNS_API_BASE)"));
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        return acme_error_set(err, ACME_E_INVALID,
                              _("DNS provider acmedns: api_base must start with http:// or "
                                "https://"));
    if (!one && (!storage || !*storage))
        return acme_error_set(err, ACME_E_INVALID,
                              _("DNS provider acmedns needs an account (username, password, "
                                "subdomain) or a storage_path (ACME_DNS_STORAGE_PATH)"));
    if (!(d = calloc(1, sizeof(*d))))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    d->env = env;
    d->storage = storage && *storage ? storage : NULL;
    len = strlen(url);
    while (len && url[len - 1] == '/')
        len--;
    if (!(d->base = acme__strndup(url, len))) {
        acmedns_destroy(d);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    if ((one && (rc = account_add(d, NULL, user, pass, sub, full, err)) < 0) ||
        (d->storage && (rc = storage_load(d, err)) < 0)) {
        acmedns_destroy(d);
        return rc;
    }
    *self_out = d;
    return ACME_OK;
}

/* The name after "_acme-challenge.", or NULL. */
static const char *challenged(const char *fqdn)
{
    return strncmp(fqdn, LABEL, strlen(LABEL)) == 0 && fqdn[strlen(LABEL)]
               ? fqdn + strlen(LABEL)
               : NULL;
}

/* The account that writes @p fqdn: by fulldomain, by domain, else the settings' one. */
static account *account_for(acmedns *d, const char *fqdn)
{
    const char *name = challenged(fqdn);

    for (size_t i = 0; i < d->n; i++)
        if (d->v[i].fulldomain && strcmp(d->v[i].fulldomain, fqdn) == 0)
            return &d->v[i];
    for (size_t i = 0; name && i < d->n; i++)
        if (d->v[i].domain && strcmp(d->v[i].domain, name) == 0)
            return &d->v[i];
    for (size_t i = 0; i < d->n; i++)
        if (!d->v[i].domain)
            return &d->v[i];
    return NULL;
}

/* @p name without its first label (itself at one label). */
static const char *parent(const char *name)
{
    const char *dot = strchr(name, '.');

    return dot && dot[1] ? dot + 1 : name;
}

static int acmedns_list_zones(void *self, acme_dns_zone_list *out, acme_error **err)
{
    acmedns *d = self;
    int rc = ACME_OK;

    /* What find_zone can answer: the server's zone(s) and the domains of stored accounts. */
    for (size_t i = 0; i < d->n && rc == ACME_OK; i++) {
        if (d->v[i].fulldomain)
            rc = acme_dns_zone_list_add(out, parent(d->v[i].fulldomain),
                                        parent(d->v[i].fulldomain), false, err);
        if (rc == ACME_OK && d->v[i].domain)
            rc = acme_dns_zone_list_add(out, d->v[i].domain, d->v[i].domain, false, err);
    }
    return rc;
}

static int acmedns_find_zone(void *self, const char *fqdn, acme_dns_zone *out, acme_error **err)
{
    acmedns *d = self;
    account *a = account_for(d, fqdn);
    const char *zone;

    if (a && a->fulldomain && strcmp(a->fulldomain, fqdn) == 0)
        zone = parent(fqdn);
    else if (a || (d->storage && challenged(fqdn)))
        zone = challenged(fqdn) ? challenged(fqdn) : parent(fqdn);
    else
        return acme_error_set(err, ACME_E_NOTFOUND, _("no acme-dns account for %s"), fqdn);
    out->id = acme__strdup(zone);
    out->name = acme__strdup(zone);
    out->is_private = false;
    if (!out->id || !out->name) {
        free(out->id);
        free(out->name);
        out->id = out->name = NULL;
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    return ACME_OK;
}

static int post(acmedns *d, const char *path, const char *const *headers, const char *body,
                json_object **json_out, acme_error **err)
{
    acme__rest_request req = { 0 };
    acme__rest_response resp = ACME__REST_RESPONSE_INIT;
    char *url = acme__asprintf("%s%s", d->base, path);
    int rc;

    *json_out = NULL;
    if (!url)
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    req.method = "POST";
    req.url = url;
    req.headers = headers;
    req.body = body;
    req.service = SERVICE;
    rc = acme__rest_send(&resp, acme__dns_env_rest(d->env), &req, err);
    if (rc == ACME_OK)
        rc = acme__json_parse(json_out, resp.body.data ? resp.body.data : "", resp.body.len,
                              SERVICE, err);
    if (resp.body.data)
        memset(resp.body.data, 0, resp.body.len); /* a registration holds a password */
    acme__rest_response_clear(&resp);
    free(url);
    return rc;
}

/*
 * POST /register: a new account for `_acme-challenge.<domain>`, saved in
 * the storage file.  It cannot work before the name owner adds the
 * CNAME, so this ends in an error that says which.
 */
static int register_account(acmedns *d, const char *domain, acme_error **err)
{
    const char *headers[] = { "Accept: application/json", NULL };
    json_object *r = NULL;
    const char *full;
    int rc;

    if ((rc = post(d, "/register", headers, NULL, &r, err)) < 0)
        return rc;
    full = acme__json_str(r, "fulldomain");
    if (!full || !acme__json_str(r, "username") || !acme__json_str(r, "password") ||
        !acme__json_str(r, "subdomain")) {
        json_object_put(r);
        return acme_error_set(err, ACME_E_PROTOCOL, _("%s: the registration lacks a field"),
                              SERVICE);
    }
    json_object_object_add(r, "server_url", json_object_new_string(d->base));
    if ((rc = storage_save(d, domain, r, err)) == ACME_OK &&
        (rc = account_add(d, domain, acme__json_str(r, "username"), acme__json_str(r, "password"),
                          acme__json_str(r, "subdomain"), full, err)) == ACME_OK)
        rc = acme_error_set(err, ACME_E_INVALIDSTATE,
                            _("acme-dns: registered an account for %s (saved in %s); add the DNS "
                              "record \"_acme-challenge.%s. CNAME %s.\" and try again"),
                            domain, d->storage, domain, full);
    json_object_put(r);
    return rc;
}

static int acmedns_create_txt(void *self, const acme_dns_txt *txt, char **handle_out,
                              acme_error **err)
{
    acmedns *d = self;
    account *a = account_for(d, txt->fqdn);
    json_object *body, *r = NULL;
    char *text, *h_user, *h_key;
    int rc;

    *handle_out = NULL;
    if (!a && d->storage && challenged(txt->fqdn))
        return register_account(d, challenged(txt->fqdn), err);
    if (!a)
        return acme_error_set(err, ACME_E_NOTFOUND, _("no acme-dns account for %s"), txt->fqdn);
    /* Posting a value the server still holds would push out the other one. */
    if ((a->posted[0] && strcmp(a->posted[0], txt->value) == 0) ||
        (a->posted[1] && strcmp(a->posted[1], txt->value) == 0))
        return ACME_OK;
    if (a->fulldomain && strcmp(a->fulldomain, txt->fqdn) != 0)
        ACME__LOGF(acme__dns_env_log(d->env), ACME_LOG_NOTICE,
                   "acme-dns: %s is not a CNAME to %s; the CA will not see the value there",
                   txt->fqdn, a->fulldomain);
    if (!(body = json_object_new_object()))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    json_object_object_add(body, "subdomain", json_object_new_string(a->subdomain));
    json_object_object_add(body, "txt", json_object_new_string(txt->value));
    text = acme__json_dump(body);
    json_object_put(body);
    h_user = acme__asprintf("X-Api-User: %s", a->username);
    h_key = acme__asprintf("X-Api-Key: %s", a->password);
    if (!text || !h_user || !h_key) {
        rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    } else {
        const char *headers[] = { h_user, h_key, "Accept: application/json",
                                  "Content-Type: application/json", NULL };

        rc = post(d, "/update", headers, text, &r, err);
    }
    json_object_put(r);
    if (rc == ACME_OK) {
        char *v = acme__strdup(txt->value);

        if (v) {
            free(a->posted[1]);
            a->posted[1] = a->posted[0];
            a->posted[0] = v;
        }
    }
    free(text);
    free(h_user);
    acme__free_secret(h_key);
    return rc;
}

static int acmedns_delete_txt(void *self, const acme_dns_txt *txt, const char *handle,
                              acme_error **err)
{
    acmedns *d = self;

    (void)handle, (void)err;
    /* No delete in the API: the next update replaces the older value. */
    ACME__LOGF(acme__dns_env_log(d->env), ACME_LOG_DEBUG,
               "acme-dns: no delete; the value at %s stays until replaced", txt->fqdn);
    return ACME_OK;
}

static const char *const acmedns_aliases[] = { "acme-dns", NULL };
static const char *const acmedns_prefixes[] = { "ACME_DNS", NULL };

const acme_dns_provider_ops acme__dns_acmedns_ops = {
    .version = ACME_DNS_PROVIDER_OPS_VERSION,
    .size = sizeof(acme_dns_provider_ops),
    .name = "acmedns",
    .aliases = acmedns_aliases,
    .env_prefixes = acmedns_prefixes,
    .options = acmedns_options,
    .flags = 0,
    /* acme-dns serves its own fixed TTL; the value is not sent. */
    .default_ttl = 120,
    .min_ttl = 0,
    .max_ttl = 0,
    .default_settle_s = 0,
    .open = acmedns_open,
    .list_zones = acmedns_list_zones,
    .find_zone = acmedns_find_zone,
    .create_txt = acmedns_create_txt,
    .delete_txt = acmedns_delete_txt,
    .wait_applied = NULL,
    .destroy = acmedns_destroy,
};
