/*
 * transport: Link header parsing (RFC 8288 §3).  ACME uses rel="alternate"
 * for alternate certificate chains (RFC 8555 §7.4.2) and rel="up" for the
 * issuer chain and the parent of an authorization (RFC 8555 §7.5, §7.6).
 * A header value may hold several links separated by commas, and several
 * Link headers may come in one response.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <acme/error.h>

#include "transport/link.h"
#include "util/util.h"

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Past the rest of a malformed link: to the next comma outside a quoted string. */
static const char *skip_link(const char *p)
{
    bool quoted = false;

    for (; *p; p++) {
        if (quoted && *p == '\\' && p[1])
            p++;
        else if (*p == '"')
            quoted = !quoted;
        else if (*p == ',' && !quoted)
            break;
    }
    return p;
}

static bool is_token_char(char c)
{
    return c && !strchr(" \t;,=\"<>", c);
}

/*
 * One parameter value: a token or a quoted-string (RFC 9110 §5.6.4, with
 * its backslash escapes).  Returns a copy and moves *pp past it.
 */
static char *param_value(const char **pp)
{
    const char *p = *pp;
    acme__buf b = ACME__BUF_INIT;

    if (*p == '"') {
        for (p++; *p && *p != '"'; p++) {
            if (*p == '\\' && p[1])
                p++;
            if (acme__buf_append(&b, p, 1) < 0)
                goto nomem;
        }
        if (*p == '"')
            p++;
    } else {
        const char *start = p;

        while (is_token_char(*p))
            p++;
        if (acme__buf_append(&b, start, (size_t)(p - start)) < 0)
            goto nomem;
    }
    *pp = p;
    return acme__buf_steal(&b);
nomem:
    acme__buf_clear(&b);
    return NULL;
}

/* Whether the space-separated relation types in @p rels include @p want (case-insensitively). */
static bool has_rel(const char *rels, const char *want)
{
    size_t wlen = strlen(want);

    for (const char *p = rels; *p;) {
        size_t n;

        p = skip_ws(p);
        n = strcspn(p, " \t");
        if (n == wlen && acme__strncaseeq(p, want, n))
            return true;
        p += n;
    }
    return false;
}

static int add_link(acme__link_list *l, const char *target, size_t tlen, const char *rel)
{
    if (has_rel(rel, "alternate")) {
        char **v = realloc(l->alternates, (l->nalternates + 1) * sizeof(*v));

        if (!v)
            return ACME_E_NOMEM;
        l->alternates = v;
        if (!(v[l->nalternates] = acme__strndup(target, tlen)))
            return ACME_E_NOMEM;
        l->nalternates++;
    }
    if (has_rel(rel, "up") && !l->up && !(l->up = acme__strndup(target, tlen)))
        return ACME_E_NOMEM;
    return ACME_OK;
}

int acme__link_parse(acme__link_list *l, const char *value)
{
    const char *p = value;

    while (p && *p) {
        const char *target, *end;
        char *rel = NULL;
        int rc;

        p = skip_ws(p);
        if (*p == ',') {
            p++;
            continue;
        }
        if (!*p)
            break;
        /* link-value = "<" URI-Reference ">" *( OWS ";" OWS link-param ) */
        if (*p != '<' || !(end = strchr(p + 1, '>'))) {
            p = skip_link(p);
            continue;
        }
        target = p + 1;
        p = end + 1;
        for (;;) {
            const char *name;
            size_t nlen;
            char *val = NULL;

            p = skip_ws(p);
            if (*p != ';')
                break;
            p = skip_ws(p + 1);
            name = p;
            while (is_token_char(*p))
                p++;
            nlen = (size_t)(p - name);
            p = skip_ws(p);
            if (*p == '=') {
                p = skip_ws(p + 1);
                if (!(val = param_value(&p))) {
                    free(rel);
                    return ACME_E_NOMEM;
                }
            }
            /* RFC 8288 §3.3: only the first "rel" counts. */
            if (nlen == 3 && acme__strncaseeq(name, "rel", 3) && !rel && val) {
                rel = val;
                val = NULL;
            }
            free(val);
        }
        rc = rel ? add_link(l, target, (size_t)(end - target), rel) : ACME_OK;
        free(rel);
        if (rc < 0)
            return rc;
        if (*p && *p != ',')
            p = skip_link(p);
    }
    return ACME_OK;
}

void acme__link_list_clear(acme__link_list *l)
{
    for (size_t i = 0; i < l->nalternates; i++)
        free(l->alternates[i]);
    free(l->alternates);
    free(l->up);
    memset(l, 0, sizeof(*l));
}
