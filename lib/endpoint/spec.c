/*
 * endpoint: endpoint strings ("le:DIR:SUB", "lets:DIR:SUB",
 * "acme:URL:DIR:SUB") and sub-endpoints ("tcp:443", "tcp6:...",
 * "unix:PATH"), parsed into an immutable acme_endpoint_spec.
 *
 * The grammar follows Twisted's endpoint strings, which txacme's "le:"
 * and "lets:" parsers extended: fields separated by ':', "\:" for a colon
 * inside a field, "\\" for a backslash; a field "key=value" is a keyword
 * argument, any other a positional one.  No GnuTLS here.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <acme/endpoint.h>
#include <acme/letsencrypt.h>
#include <acme/sys/error.h>

#include "util/i18n.h"
#include "util/util.h"

struct acme_endpoint_spec {
    char *url;        /* NULL for a sub-endpoint alone */
    char *dir;        /* likewise */
    char *sub;        /* canonical sub-endpoint string */
    acme_endpoint_kind kind;
    unsigned int port;
    char *iface;      /* NULL: every address */
    int backlog;
    char *path;       /* unix only */
};

/* The longest unix socket path (sun_path holds it with its NUL). */
#define UNIX_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

typedef struct fields {
    char **v;
    size_t n;
} fields;

static void fields_clear(fields *f)
{
    acme_free_strv(f->v, f->n);
    f->v = NULL;
    f->n = 0;
}

static int fields_push(fields *f, acme__buf *b, acme_error **err)
{
    char **v = realloc(f->v, (f->n + 1) * sizeof(*v));
    char *s;

    if (!v)
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    f->v = v;
    s = b->len ? acme__buf_steal(b) : acme__strdup("");
    if (!s)
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    f->v[f->n++] = s;
    return ACME_OK;
}

/*
 * Split @p s at unescaped colons, undoing "\:" and "\\".  Twisted refuses
 * nothing here, but a backslash before anything else is almost always a
 * typing mistake (a Windows path, a forgotten escape), and silently
 * keeping it would name a different directory: refuse it.
 */
static int split_fields(fields *out, const char *s, acme_error **err)
{
    acme__buf b = { 0 };
    int rc;

    out->v = NULL;
    out->n = 0;
    for (const char *p = s;; p++) {
        if (*p == '\\') {
            if (p[1] != ':' && p[1] != '\\') {
                rc = p[1] ? acme_error_set(err, ACME_E_INVALID,
                                           _("bad escape \"\\%c\" at offset %zu of the endpoint "
                                             "string (only \"\\:\" and \"\\\\\" are escapes)"),
                                           p[1], (size_t)(p - s))
                          : acme_error_set(err, ACME_E_INVALID,
                                           _("the endpoint string ends with a lone backslash"));
                goto fail;
            }
            p++;
            if (acme__buf_append(&b, p, 1) < 0)
                goto nomem;
        } else if (*p == ':' || *p == '\0') {
            if ((rc = fields_push(out, &b, err)) < 0)
                goto fail;
            if (!*p)
                break;
        } else if (acme__buf_append(&b, p, 1) < 0) {
            goto nomem;
        }
    }
    acme__buf_clear(&b);
    return ACME_OK;
nomem:
    rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
fail:
    acme__buf_clear(&b);
    fields_clear(out);
    return rc;
}

static bool has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

/* A decimal number from @p lo to @p hi, digits only (no sign, no spaces). */
static bool parse_uint(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
    unsigned long v = 0;

    if (!*s || strlen(s) > 10)
        return false;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (unsigned long)(*p - '0');
    }
    if (v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* Append @p s to @p b with ':' and '\' escaped, for the canonical string. */
static int buf_escaped(acme__buf *b, const char *s)
{
    for (; *s; s++) {
        if ((*s == ':' || *s == '\\') && acme__buf_append(b, "\\", 1) < 0)
            return -1;
        if (acme__buf_append(b, s, 1) < 0)
            return -1;
    }
    return 0;
}

void acme_endpoint_spec_free(acme_endpoint_spec *spec)
{
    if (!spec)
        return;
    free(spec->url);
    free(spec->dir);
    free(spec->sub);
    free(spec->iface);
    free(spec->path);
    free(spec);
}

/* Parse the sub-endpoint in fields @p v[0..n) into @p spec. */
static int parse_sub(acme_endpoint_spec *spec, char **v, size_t n, acme_error **err)
{
    const char *kind, *positional = NULL, *port = NULL, *iface = NULL, *backlog = NULL,
                      *path = NULL;
    unsigned long num;
    acme__buf b = { 0 };

    if (n == 0 || !*v[0])
        return acme_error_set(err, ACME_E_INVALID,
                              _("no sub-endpoint (expected tcp:PORT, tcp6:PORT or unix:PATH)"));
    kind = v[0];
    if (strcmp(kind, "tcp") == 0)
        spec->kind = ACME_ENDPOINT_TCP;
    else if (strcmp(kind, "tcp6") == 0)
        spec->kind = ACME_ENDPOINT_TCP6;
    else if (strcmp(kind, "unix") == 0)
        spec->kind = ACME_ENDPOINT_UNIX;
    else
        return acme_error_set(err, ACME_E_INVALID,
                              _("unknown sub-endpoint type \"%.64s\" (expected tcp, tcp6 or unix)"),
                              kind);
    for (size_t i = 1; i < n; i++) {
        const char *f = v[i], *eq = strchr(f, '=');
        const char **slot;

        if (!eq) {
            if (positional)
                return acme_error_set(err, ACME_E_INVALID,
                                      _("unexpected argument \"%.64s\" in the %s sub-endpoint"),
                                      f, kind);
            positional = f;
            continue;
        }
        if (spec->kind != ACME_ENDPOINT_UNIX && strncmp(f, "port=", 5) == 0)
            slot = &port;
        else if (spec->kind != ACME_ENDPOINT_UNIX && strncmp(f, "interface=", 10) == 0)
            slot = &iface;
        else if (spec->kind == ACME_ENDPOINT_UNIX && strncmp(f, "address=", 8) == 0)
            slot = &path;
        else if (strncmp(f, "backlog=", 8) == 0)
            slot = &backlog;
        else
            return acme_error_set(err, ACME_E_INVALID,
                                  _("unknown key \"%.*s\" in the %s sub-endpoint"),
                                  (int)(eq - f > 64 ? 64 : eq - f), f, kind);
        if (*slot)
            return acme_error_set(err, ACME_E_INVALID,
                                  _("key \"%.*s\" given twice in the %s sub-endpoint"),
                                  (int)(eq - f), f, kind);
        *slot = eq + 1;
    }
    if (positional) {
        const char **slot = spec->kind == ACME_ENDPOINT_UNIX ? &path : &port;

        if (*slot)
            return acme_error_set(err, ACME_E_INVALID,
                                  _("the %s sub-endpoint names its %s twice"), kind,
                                  spec->kind == ACME_ENDPOINT_UNIX ? "path" : "port");
        *slot = positional;
    }
    spec->backlog = ACME_ENDPOINT_DEFAULT_BACKLOG;
    if (backlog) {
        if (!parse_uint(backlog, 1, 65535, &num))
            return acme_error_set(err, ACME_E_INVALID,
                                  _("bad backlog \"%.64s\" (expected 1 to 65535)"), backlog);
        spec->backlog = (int)num;
    }
    if (spec->kind == ACME_ENDPOINT_UNIX) {
        if (!path || !*path)
            return acme_error_set(err, ACME_E_INVALID, _("the unix sub-endpoint needs a path"));
        if (strlen(path) > UNIX_PATH_MAX)
            return acme_error_set(err, ACME_E_INVALID,
                                  _("unix socket path too long (%zu bytes; at most %zu)"),
                                  strlen(path), (size_t)UNIX_PATH_MAX);
        if (has_control(path))
            return acme_error_set(err, ACME_E_INVALID,
                                  _("control character in the unix socket path"));
        if (!(spec->path = acme__strdup(path)))
            goto nomem;
    } else {
        unsigned char addr[16];

        if (!port || !*port)
            return acme_error_set(err, ACME_E_INVALID, _("the %s sub-endpoint needs a port"), kind);
        if (!parse_uint(port, 0, 65535, &num))
            return acme_error_set(err, ACME_E_INVALID,
                                  _("bad port \"%.64s\" (expected 0 to 65535)"), port);
        spec->port = (unsigned int)num;
        if (iface) {
            int af = spec->kind == ACME_ENDPOINT_TCP ? AF_INET : AF_INET6;

            if (inet_pton(af, iface, addr) != 1)
                return acme_error_set(err, ACME_E_INVALID,
                                      _("bad interface \"%.64s\" (expected a numeric %s address)"),
                                      iface, af == AF_INET ? "IPv4" : "IPv6");
            if (!(spec->iface = acme__strdup(iface)))
                goto nomem;
        }
    }
    /* The canonical form: what acme_endpoint_listen() is handed. */
    if (acme__buf_puts(&b, kind) < 0 || acme__buf_puts(&b, ":") < 0)
        goto nomem;
    if (spec->kind == ACME_ENDPOINT_UNIX) {
        /* A path with '=' in it would read back as a key=value field:
         * name it by its key then (found by tests/fuzz). */
        if (strchr(spec->path, '=') && acme__buf_puts(&b, "address=") < 0)
            goto nomem;
        if (buf_escaped(&b, spec->path) < 0)
            goto nomem;
    } else {
        if (acme__buf_printf(&b, "%u", spec->port) < 0)
            goto nomem;
        if (spec->iface &&
            (acme__buf_puts(&b, ":interface=") < 0 || buf_escaped(&b, spec->iface) < 0))
            goto nomem;
    }
    if (spec->backlog != ACME_ENDPOINT_DEFAULT_BACKLOG &&
        acme__buf_printf(&b, ":backlog=%d", spec->backlog) < 0)
        goto nomem;
    if (!(spec->sub = acme__buf_steal(&b)))
        goto nomem;
    return ACME_OK;
nomem:
    acme__buf_clear(&b);
    return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
}

int acme_endpoint_sub_parse(acme_endpoint_spec **out, const char *sub, acme_error **err)
{
    acme_endpoint_spec *spec;
    fields f;
    int rc;

    if (!out)
        return acme_error_set(err, ACME_E_INVALID, _("no place for the endpoint"));
    *out = NULL;
    if (!sub)
        return acme_error_set(err, ACME_E_INVALID, _("no sub-endpoint string"));
    if ((rc = split_fields(&f, sub, err)) < 0)
        return rc;
    if (!(spec = calloc(1, sizeof(*spec)))) {
        fields_clear(&f);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    rc = parse_sub(spec, f.v, f.n, err);
    fields_clear(&f);
    if (rc < 0) {
        acme_endpoint_spec_free(spec);
        return rc;
    }
    *out = spec;
    return ACME_OK;
}

/* An ACME directory URL: "https://HOST..." (or "http://" for test CAs). */
static int check_url(const char *url, acme_error **err)
{
    const char *host;

    if (strncmp(url, "https://", 8) == 0)
        host = url + 8;
    else if (strncmp(url, "http://", 7) == 0)
        host = url + 7;
    else
        return acme_error_set(err, ACME_E_INVALID,
                              _("the ACME directory URL \"%.128s\" is not an https:// URL "
                                "(escape its colons as \\:)"),
                              url);
    if (!*host || *host == '/')
        return acme_error_set(err, ACME_E_INVALID, _("the ACME directory URL has no host"));
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return acme_error_set(err, ACME_E_INVALID,
                                  _("white space or a control character in the ACME directory URL"));
    return ACME_OK;
}

/*
 * The certificate directory must exist and be writable (the store writes
 * certificates and client.key there).  It is used as written: a ".." is a
 * path like any other, since whoever writes the endpoint string chooses
 * the directory anyway; what cannot be a sane path (control characters)
 * is refused.
 */
static int check_dir(const char *dir, acme_error **err)
{
    struct stat st;

    if (!*dir)
        return acme_error_set(err, ACME_E_INVALID, _("the certificate directory is empty"));
    if (has_control(dir))
        return acme_error_set(err, ACME_E_INVALID,
                              _("control character in the certificate directory name"));
    if (stat(dir, &st) < 0) {
        int e = errno;

        return acme_error_set(err, e == ENOENT || e == ENOTDIR ? ACME_E_NOTFOUND : ACME_E_IO,
                              _("certificate directory %.255s: %s"), dir, strerror(e));
    }
    if (!S_ISDIR(st.st_mode))
        return acme_error_set(err, ACME_E_IO, _("certificate directory %.255s is not a directory"),
                              dir);
    if (access(dir, W_OK | X_OK) < 0)
        return acme_error_set(err, ACME_E_IO,
                              _("certificate directory %.255s is not writable: %s"), dir,
                              strerror(errno));
    return ACME_OK;
}

int acme_endpoint_string_parse(acme_endpoint_spec **out, const char *s, acme_error **err)
{
    acme_endpoint_spec *spec = NULL;
    const char *url;
    size_t first;  /* index of DIR */
    fields f = { 0 };
    int rc;

    if (!out)
        return acme_error_set(err, ACME_E_INVALID, _("no place for the endpoint"));
    *out = NULL;
    if (!s)
        return acme_error_set(err, ACME_E_INVALID, _("no endpoint string"));
    if ((rc = split_fields(&f, s, err)) < 0)
        return rc;
    if (strcmp(f.v[0], "le") == 0) {
        url = ACME_LE_DIRECTORY_PRODUCTION;
        first = 1;
    } else if (strcmp(f.v[0], "lets") == 0) {
        url = ACME_LE_DIRECTORY_STAGING;
        first = 1;
    } else if (strcmp(f.v[0], "acme") == 0) {
        if (f.n < 2) {
            rc = acme_error_set(err, ACME_E_INVALID, _("acme: needs a directory URL"));
            goto fail;
        }
        url = f.v[1];
        first = 2;
        if ((rc = check_url(url, err)) < 0)
            goto fail;
    } else {
        rc = acme_error_set(err, ACME_E_INVALID,
                            _("unknown endpoint type \"%.64s\" (expected le, lets or acme)"),
                            f.v[0]);
        goto fail;
    }
    if (f.n < first + 2) {
        rc = acme_error_set(err, ACME_E_INVALID,
                            _("the %s: endpoint needs a certificate directory and a sub-endpoint "
                              "(%s:%sDIR:tcp:443)"),
                            f.v[0], f.v[0], first == 2 ? "URL:" : "");
        goto fail;
    }
    if ((rc = check_dir(f.v[first], err)) < 0)
        goto fail;
    if (!(spec = calloc(1, sizeof(*spec))) || !(spec->url = acme__strdup(url)) ||
        !(spec->dir = acme__strdup(f.v[first]))) {
        rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        goto fail;
    }
    if ((rc = parse_sub(spec, f.v + first + 1, f.n - first - 1, err)) < 0)
        goto fail;
    fields_clear(&f);
    *out = spec;
    return ACME_OK;
fail:
    fields_clear(&f);
    acme_endpoint_spec_free(spec);
    return rc;
}

const char *acme_endpoint_spec_directory_url(const acme_endpoint_spec *spec)
{
    return spec ? spec->url : NULL;
}

const char *acme_endpoint_spec_cert_dir(const acme_endpoint_spec *spec)
{
    return spec ? spec->dir : NULL;
}

const char *acme_endpoint_spec_sub_endpoint(const acme_endpoint_spec *spec)
{
    return spec ? spec->sub : NULL;
}

acme_endpoint_kind acme_endpoint_spec_kind(const acme_endpoint_spec *spec)
{
    return spec ? spec->kind : ACME_ENDPOINT_TCP;
}

unsigned int acme_endpoint_spec_port(const acme_endpoint_spec *spec)
{
    return spec ? spec->port : 0;
}

const char *acme_endpoint_spec_interface(const acme_endpoint_spec *spec)
{
    return spec ? spec->iface : NULL;
}

int acme_endpoint_spec_backlog(const acme_endpoint_spec *spec)
{
    return spec ? spec->backlog : ACME_ENDPOINT_DEFAULT_BACKLOG;
}

const char *acme_endpoint_spec_path(const acme_endpoint_spec *spec)
{
    return spec ? spec->path : NULL;
}

int acme_endpoint_spec_open(acme_store **store, acme_key **account_key,
                            const acme_endpoint_spec *spec, acme_error **err)
{
    acme_store *st = NULL;
    acme_key *key = NULL;
    int rc;

    if (store)
        *store = NULL;
    if (account_key)
        *account_key = NULL;
    if (!spec || !spec->dir)
        return acme_error_set(err, ACME_E_INVALID,
                              _("a sub-endpoint alone names no certificate directory"));
    if ((rc = acme_store_dir_new(&st, spec->dir, err)) < 0)
        return rc;
    if (account_key && (rc = acme_store_dir_account_key(&key, st, err)) < 0) {
        acme_store_free(st);
        return rc;
    }
    if (account_key)
        *account_key = key;
    if (store)
        *store = st;
    else
        acme_store_free(st);
    return ACME_OK;
}
