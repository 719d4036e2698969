/*
 * dns: provider settings.  Parses `key=value,...` strings (`\` escapes the
 * next character), and resolves every setting of a provider from, in
 * order: explicit "key=value" strings, the spec string, the setting's
 * environment variables (lego's names, so lego users keep their
 * configuration), the same variables with `_FILE` (lego's GetOrFile
 * convention: the file's content, less one trailing newline), then the
 * default.  Values of secret settings never reach a message: errors name
 * keys, variables and positions only.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <acme/sys/error.h>

#include "dns/dns.h"
#include "util/i18n.h"
#include "util/util.h"

/* A _FILE secret larger than this is a mistake (a certificate bundle, a log). */
#define MAX_FILE_SETTING 65536

static const char *const core_keys[] = { ACME__DNS_CORE_KEYS };
/* The numeric core settings, checked when resolved. */
static const char *const core_numeric[] = { "ttl", "propagation_timeout", "polling_interval",
                                            "settle_delay", "http_timeout" };

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        acme__free_secret(v[i]);
    free(v);
}

int acme__dns_kv_parse(char ***keys_out, char ***values_out, size_t *n_out, const char *s,
                       acme_error **err)
{
    char **keys = NULL, **values = NULL;
    size_t n = 0, pos = 0;
    acme__buf cur = ACME__BUF_INIT;
    char *key = NULL;
    int rc;

    *keys_out = *values_out = NULL;
    *n_out = 0;
    if (!s || !*s)
        return ACME_OK;
    for (;; pos++) {
        char c = s[pos];

        if (c == '\\') {
            if (!s[pos + 1]) {
                rc = acme_error_set(err, ACME_E_INVALID,
                                    _("settings: a backslash ends the string (position %zu)"),
                                    pos + 1);
                goto fail;
            }
            pos++;
            if (acme__buf_append(&cur, &s[pos], 1) < 0)
                goto nomem;
            continue;
        }
        if (c == '=' && !key) {
            if (acme__buf_append(&cur, "", 0) < 0)
                goto nomem;
            key = acme__buf_steal(&cur);
            if (!key)
                goto nomem;
            continue;
        }
        if (c == ',' || c == '\0') {
            char **nk, **nv;

            if (!key) {
                /* Position only: the text may be a secret pasted without its key. */
                rc = acme_error_set(err, ACME_E_INVALID,
                                    _("settings: item %zu has no '=' (position %zu)"), n + 1,
                                    pos);
                goto fail;
            }
            if (!*key) {
                rc = acme_error_set(err, ACME_E_INVALID,
                                    _("settings: item %zu has an empty key"), n + 1);
                goto fail;
            }
            if (acme__buf_append(&cur, "", 0) < 0)
                goto nomem;
            if (!(nk = realloc(keys, (n + 1) * sizeof(char *))))
                goto nomem;
            keys = nk;
            if (!(nv = realloc(values, (n + 1) * sizeof(char *))))
                goto nomem;
            values = nv;
            keys[n] = key;
            values[n] = acme__buf_steal(&cur);
            key = NULL;
            n++;
            if (!values[n - 1]) {
                n--;
                free(keys[n]);
                goto nomem;
            }
            if (c == '\0')
                break;
            continue;
        }
        if (acme__buf_append(&cur, &c, 1) < 0)
            goto nomem;
    }
    *keys_out = keys;
    *values_out = values;
    *n_out = n;
    return ACME_OK;

nomem:
    rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
fail:
    if (cur.data)
        memset(cur.data, 0, cur.len);
    acme__buf_clear(&cur);
    free(key);
    strv_free(keys, n);
    strv_free(values, n);
    return rc;
}

/* ---- the environment ---- */

static const char *env_get(const char *const *environ, bool ignore, const char *name)
{
    size_t len = strlen(name);

    if (ignore)
        return NULL;
    if (!environ)
        return getenv(name);
    for (const char *const *p = environ; *p; p++)
        if (strncmp(*p, name, len) == 0 && (*p)[len] == '=')
            return *p + len + 1;
    return NULL;
}

/* Read a `<VAR>_FILE` file: the value less one trailing newline. */
static int read_setting_file(char **out, const char *var, const char *path, acme_error **err)
{
    FILE *f = fopen(path, "rb");
    acme__buf b = ACME__BUF_INIT;
    char chunk[4096];
    size_t got;

    *out = NULL;
    if (!f)
        return acme_error_set(err, ACME_E_IO, _("cannot read %s_FILE (%s): %s"), var, path,
                              strerror(errno));
    while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (b.len + got > MAX_FILE_SETTING) {
            fclose(f);
            acme__buf_clear(&b);
            return acme_error_set(err, ACME_E_INVALID, _("%s_FILE (%s) is larger than %d bytes"),
                                  var, path, MAX_FILE_SETTING);
        }
        if (acme__buf_append(&b, chunk, got) < 0) {
            fclose(f);
            acme__buf_clear(&b);
            return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        }
    }
    memset(chunk, 0, sizeof(chunk));
    fclose(f);
    if (acme__buf_append(&b, "", 0) < 0)
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    if (b.len && b.data[b.len - 1] == '\n') {
        b.data[--b.len] = '\0';
        if (b.len && b.data[b.len - 1] == '\r')
            b.data[--b.len] = '\0';
    }
    *out = acme__buf_steal(&b);
    return *out ? ACME_OK : acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
}

/* The environment variable names of one setting: a NULL-terminated malloc'd list. */
static char **env_names(const acme_dns_provider_ops *ops, const acme_dns_option *opt,
                        const char *core_key)
{
    size_t n = 0, cap = 4;
    char **v = calloc(cap + 1, sizeof(char *));

    if (!v)
        return NULL;
    if (opt) {
        for (const char *const *e = opt->env; e && *e; e++) {
            if (n == cap) {
                char **nv = realloc(v, (cap * 2 + 1) * sizeof(char *));
                if (!nv)
                    goto fail;
                v = nv;
                cap *= 2;
            }
            if (!(v[n++] = acme__strdup(*e)))
                goto fail;
            v[n] = NULL;
        }
        return v;
    }
    /* Core settings: <PREFIX>_<KEY IN UPPER CASE> for each prefix. */
    for (const char *const *p = ops->env_prefixes; p && *p; p++) {
        char *name;

        if (n == cap) {
            char **nv = realloc(v, (cap * 2 + 1) * sizeof(char *));
            if (!nv)
                goto fail;
            v = nv;
            cap *= 2;
        }
        if (!(name = acme__asprintf("%s_%s", *p, core_key)))
            goto fail;
        for (char *c = name + strlen(*p); *c; c++)
            if (*c >= 'a' && *c <= 'z')
                *c = (char)(*c - 'a' + 'A');
        v[n++] = name;
        v[n] = NULL;
    }
    return v;
fail:
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
    return NULL;
}

static void names_free(char **v)
{
    for (char **p = v; p && *p; p++)
        free(*p);
    free(v);
}

/* ---- resolving ---- */

static int find_key(const acme_dns_settings *s, const char *key)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->keys[i], key) == 0)
            return (int)i;
    return -1;
}

void acme__dns_settings_free(acme_dns_settings *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->keys[i]);
        acme__free_secret(s->values[i]);
    }
    free(s->keys);
    free(s->values);
    free(s->secret);
    free(s);
}

bool acme__dns_settings_is_secret(const acme_dns_settings *s, const char *key)
{
    int i = s ? find_key(s, key) : -1;

    return i >= 0 && s->secret[i];
}

static int parse_uint(const char *v, unsigned int *out)
{
    unsigned long long x = 0;

    if (!v || !*v)
        return -1;
    for (const char *p = v; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        x = x * 10 + (unsigned)(*p - '0');
        if (x > 0xffffffffULL)
            return -1;
    }
    *out = (unsigned int)x;
    return 0;
}

/* Take "k=v" strings from @p arr into @p s where unset; unknown keys are errors. */
static int apply_pairs(acme_dns_settings *s, const acme_dns_provider_ops *ops, char **keys,
                       char **values, size_t n, const char *what, acme_error **err)
{
    for (size_t i = 0; i < n; i++) {
        int k = find_key(s, keys[i]);

        if (k < 0)
            return acme_error_set(err, ACME_E_INVALID,
                                  _("%s: unknown setting \"%.64s\" for DNS provider %s"), what,
                                  keys[i], ops->name);
        if (s->values[k])
            continue; /* a source of higher priority set it */
        if (!(s->values[k] = acme__strdup(values[i])))
            return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    return ACME_OK;
}

int acme__dns_settings_resolve(acme_dns_settings **out, const acme_dns_provider_ops *ops,
                               const char *spec_kv, const char *const *arr,
                               const char *const *environ, bool ignore_env, acme_error **err)
{
    acme_dns_settings *s;
    size_t nopts = 0, ncore = ACME_ARRAY_SIZE(core_keys), n;
    char **k = NULL, **v = NULL;
    size_t kn = 0;
    int rc;

    *out = NULL;
    for (const acme_dns_option *o = ops->options; o && o->key; o++)
        nopts++;
    if (!(s = calloc(1, sizeof(*s))))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    n = ncore + nopts;
    s->keys = calloc(n, sizeof(char *));
    s->values = calloc(n, sizeof(char *));
    s->secret = calloc(n, sizeof(bool));
    if (!s->keys || !s->values || !s->secret)
        goto nomem;
    /* Provider options first: a provider may redefine a core key (its own env names). */
    for (const acme_dns_option *o = ops->options; o && o->key; o++) {
        if (find_key(s, o->key) >= 0)
            continue;
        if (!(s->keys[s->n] = acme__strdup(o->key)))
            goto nomem;
        s->secret[s->n++] = (o->flags & ACME_DNS_OPT_SECRET) != 0;
    }
    for (size_t i = 0; i < ncore; i++) {
        if (find_key(s, core_keys[i]) >= 0)
            continue;
        if (!(s->keys[s->n++] = acme__strdup(core_keys[i])))
            goto nomem;
    }

    /* 1. explicit "key=value" strings, taken literally. */
    for (const char *const *p = arr; p && *p; p++) {
        const char *eq = strchr(*p, '=');
        char *key;
        char *val;

        if (!eq || eq == *p) {
            rc = acme_error_set(err, ACME_E_INVALID,
                                _("setting %zu is not of the form key=value"),
                                (size_t)(p - arr) + 1);
            goto fail;
        }
        if (!(key = acme__strndup(*p, (size_t)(eq - *p))))
            goto nomem;
        val = (char *)eq + 1;
        rc = apply_pairs(s, ops, &key, &val, 1, _("settings"), err);
        free(key);
        if (rc < 0)
            goto fail;
    }
    /* 2. the spec string. */
    if ((rc = acme__dns_kv_parse(&k, &v, &kn, spec_kv, err)) < 0)
        goto fail;
    rc = apply_pairs(s, ops, k, v, kn, _("settings"), err);
    strv_free(k, kn);
    strv_free(v, kn);
    if (rc < 0)
        goto fail;

    /* 3. environment variables, 4. <VAR>_FILE, 5. defaults. */
    for (size_t i = 0; i < s->n; i++) {
        const acme_dns_option *opt = NULL;
        char **names;

        if (s->values[i])
            continue;
        for (const acme_dns_option *o = ops->options; o && o->key; o++)
            if (strcmp(o->key, s->keys[i]) == 0)
                opt = o;
        if (!(names = env_names(ops, opt, s->keys[i])))
            goto nomem;
        for (char **e = names; *e && !s->values[i]; e++) {
            const char *ev = env_get(environ, ignore_env, *e);

            if (ev && !(s->values[i] = acme__strdup(ev))) {
                names_free(names);
                goto nomem;
            }
        }
        for (char **e = names; *e && !s->values[i]; e++) {
            char *fv = acme__asprintf("%s_FILE", *e);
            const char *path;

            if (!fv) {
                names_free(names);
                goto nomem;
            }
            path = env_get(environ, ignore_env, fv);
            free(fv);
            if (path && (rc = read_setting_file(&s->values[i], *e, path, err)) < 0) {
                names_free(names);
                goto fail;
            }
        }
        if (!s->values[i] && opt && opt->default_value &&
            !(s->values[i] = acme__strdup(opt->default_value))) {
            names_free(names);
            goto nomem;
        }
        if (!s->values[i] && opt && (opt->flags & ACME_DNS_OPT_REQUIRED)) {
            rc = acme_error_set(err, ACME_E_INVALID,
                                _("DNS provider %s needs the setting %s (or the environment "
                                  "variable %s)"),
                                ops->name, s->keys[i], names[0] ? names[0] : "-");
            names_free(names);
            goto fail;
        }
        names_free(names);
    }

    /* The numeric core settings must be numbers; say which, never echo the value. */
    for (size_t i = 0; i < ACME_ARRAY_SIZE(core_numeric); i++) {
        unsigned int dummy;

        if ((rc = acme_dns_settings_get_uint(s, core_numeric[i], 0, &dummy, err)) < 0)
            goto fail;
    }
    *out = s;
    return ACME_OK;

nomem:
    rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
fail:
    acme__dns_settings_free(s);
    return rc;
}

/* ---- public getters (<acme/sys/dns.h>) ---- */

const char *acme_dns_settings_get(const acme_dns_settings *s, const char *key)
{
    int i;

    if (!s || !key || (i = find_key(s, key)) < 0)
        return NULL;
    return s->values[i];
}

int acme_dns_settings_get_uint(const acme_dns_settings *s, const char *key, unsigned int def,
                               unsigned int *out, acme_error **err)
{
    const char *v = acme_dns_settings_get(s, key);

    if (!out)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    if (!v) {
        *out = def;
        return ACME_OK;
    }
    if (parse_uint(v, out) < 0)
        return acme_error_set(err, ACME_E_INVALID,
                              _("the setting %s must be a whole number of at most %u"), key,
                              0xffffffffu);
    return ACME_OK;
}
