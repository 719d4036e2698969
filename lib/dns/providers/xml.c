/*
 * dns: the small XML reader of xml.h.  Recursive descent over the
 * document, one node per element; bounded depth; never expands anything
 * but the predefined entities and character references, so an answer
 * cannot make it allocate more than a few times its own size.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <acme/sys/error.h>

#include "dns/providers/xml.h"
#include "util/i18n.h"
#include "util/util.h"

#define MAX_DEPTH 32

typedef struct parser {
    const char *p, *end;
    const char *what;
    const char *why;      /* first failure, untranslated token for the message */
    bool nomem;
} parser;

void acme__xml_free(acme__xml *x)
{
    if (!x)
        return;
    for (size_t i = 0; i < x->nkids; i++)
        acme__xml_free(x->kids[i]);
    free(x->kids);
    free(x->name);
    free(x->text);
    free(x);
}

static bool fail(parser *ps, const char *why)
{
    if (!ps->why)
        ps->why = why;
    return false;
}

static bool starts(const parser *ps, const char *s)
{
    size_t n = strlen(s);

    return (size_t)(ps->end - ps->p) >= n && memcmp(ps->p, s, n) == 0;
}

static void skip_space(parser *ps)
{
    while (ps->p < ps->end && strchr(" \t\r\n", *ps->p) && *ps->p)
        ps->p++;
}

/* Skip past @p term; false when it never comes. */
static bool skip_past(parser *ps, const char *term)
{
    size_t n = strlen(term);

    while ((size_t)(ps->end - ps->p) >= n) {
        if (memcmp(ps->p, term, n) == 0) {
            ps->p += n;
            return true;
        }
        ps->p++;
    }
    return fail(ps, "unterminated markup");
}

/* Comments and processing instructions, between elements or in content. */
static bool skip_misc(parser *ps, bool *skipped)
{
    *skipped = false;
    if (starts(ps, "<!--")) {
        *skipped = true;
        return skip_past(ps, "-->");
    }
    if (starts(ps, "<?")) {
        *skipped = true;
        return skip_past(ps, "?>");
    }
    if (starts(ps, "<!DOCTYPE") || starts(ps, "<!ENTITY"))
        return fail(ps, "DOCTYPE not allowed");
    return true;
}

static bool name_char(char c)
{
    return c && !strchr(" \t\r\n/>=<\"'&", c);
}

static void put_utf8(acme__buf *b, unsigned long cp, bool *ok)
{
    char u[4];
    size_t n;

    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        u[0] = (char)(0xf0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    if (acme__buf_append(b, u, n) < 0)
        *ok = false;
}

/* Text up to the next '<', entities decoded, appended to @p b. */
static bool read_text(parser *ps, acme__buf *b)
{
    static const struct {
        const char *ent;
        char c;
    } ents[] = { { "&lt;", '<' }, { "&gt;", '>' }, { "&amp;", '&' }, { "&quot;", '"' },
                 { "&apos;", '\'' } };
    bool ok = true;

    while (ps->p < ps->end && *ps->p != '<' && ok) {
        if (*ps->p != '&') {
            const char *lt = memchr(ps->p, '<', (size_t)(ps->end - ps->p));
            const char *amp = memchr(ps->p, '&', (size_t)(ps->end - ps->p));
            const char *stop = lt ? lt : ps->end;

            if (amp && amp < stop)
                stop = amp;
            if (acme__buf_append(b, ps->p, (size_t)(stop - ps->p)) < 0)
                ok = false;
            ps->p = stop;
            continue;
        }
        if (starts(ps, "&#")) {
            const char *q = ps->p + 2;
            bool hexa = q < ps->end && (*q == 'x' || *q == 'X');
            unsigned long cp = 0;
            int digits = 0;

            q += hexa;
            for (; q < ps->end && *q != ';' && digits < 8; q++, digits++) {
                int d = (*q >= '0' && *q <= '9') ? *q - '0'
                        : hexa && *q >= 'a' && *q <= 'f' ? *q - 'a' + 10
                        : hexa && *q >= 'A' && *q <= 'F' ? *q - 'A' + 10
                                                           : -1;
                if (d < 0)
                    return fail(ps, "bad character reference");
                cp = cp * (hexa ? 16 : 10) + (unsigned long)d;
            }
            if (q >= ps->end || *q != ';' || !digits || cp == 0 || cp > 0x10ffff ||
                (cp >= 0xd800 && cp <= 0xdfff))
                return fail(ps, "bad character reference");
            put_utf8(b, cp, &ok);
            ps->p = q + 1;
            continue;
        }
        {
            size_t i;

            for (i = 0; i < ACME_ARRAY_SIZE(ents); i++)
                if (starts(ps, ents[i].ent))
                    break;
            if (i == ACME_ARRAY_SIZE(ents))
                return fail(ps, "unknown entity");
            if (acme__buf_append(b, &ents[i].c, 1) < 0)
                ok = false;
            ps->p += strlen(ents[i].ent);
        }
    }
    if (!ok)
        ps->nomem = true;
    return ok;
}

/* Attributes are not needed: skip name="value" pairs up to '>' or "/>". */
static bool skip_attributes(parser *ps)
{
    for (;;) {
        skip_space(ps);
        if (ps->p >= ps->end)
            return fail(ps, "unterminated tag");
        if (*ps->p == '>' || starts(ps, "/>"))
            return true;
        while (ps->p < ps->end && name_char(*ps->p))
            ps->p++;
        skip_space(ps);
        if (ps->p >= ps->end || *ps->p != '=')
            return fail(ps, "malformed attribute");
        ps->p++;
        skip_space(ps);
        if (ps->p >= ps->end || (*ps->p != '"' && *ps->p != '\''))
            return fail(ps, "malformed attribute");
        {
            const char *close = memchr(ps->p + 1, *ps->p, (size_t)(ps->end - ps->p - 1));

            if (!close)
                return fail(ps, "malformed attribute");
            ps->p = close + 1;
        }
    }
}

static acme__xml *element(parser *ps, int depth)
{
    const char *name, *local;
    size_t nlen;
    acme__xml *x;
    acme__buf text = ACME__BUF_INIT;

    if (depth > MAX_DEPTH) {
        fail(ps, "nested too deep");
        return NULL;
    }
    if (!starts(ps, "<")) {
        fail(ps, "element expected");
        return NULL;
    }
    name = ++ps->p;
    while (ps->p < ps->end && name_char(*ps->p))
        ps->p++;
    nlen = (size_t)(ps->p - name);
    if (!nlen) {
        fail(ps, "element name expected");
        return NULL;
    }
    local = memchr(name, ':', nlen);
    local = local ? local + 1 : name;
    if (!(x = calloc(1, sizeof(*x))) ||
        !(x->name = acme__strndup(local, nlen - (size_t)(local - name)))) {
        free(x);
        ps->nomem = true;
        return NULL;
    }
    if (!skip_attributes(ps))
        goto bad;
    if (starts(ps, "/>")) {
        ps->p += 2;
        if (!(x->text = acme__strdup("")))
            goto nomem;
        return x;
    }
    ps->p++; /* '>' */
    for (;;) {
        bool skipped;

        if (!read_text(ps, &text))
            goto bad;
        if (ps->p >= ps->end) {
            fail(ps, "unterminated element");
            goto bad;
        }
        if (starts(ps, "</")) {
            ps->p += 2;
            if ((size_t)(ps->end - ps->p) < nlen || memcmp(ps->p, name, nlen) != 0 ||
                (ps->p + nlen < ps->end && name_char(ps->p[nlen]))) {
                fail(ps, "mismatched end tag");
                goto bad;
            }
            ps->p += nlen;
            skip_space(ps);
            if (ps->p >= ps->end || *ps->p != '>') {
                fail(ps, "malformed end tag");
                goto bad;
            }
            ps->p++;
            break;
        }
        if (starts(ps, "<![CDATA[")) {
            const char *start = ps->p + 9;

            ps->p = start;
            if (!skip_past(ps, "]]>"))
                goto bad;
            if (acme__buf_append(&text, start, (size_t)(ps->p - 3 - start)) < 0)
                goto nomem;
            continue;
        }
        if (!skip_misc(ps, &skipped))
            goto bad;
        if (skipped)
            continue;
        {
            acme__xml *kid = element(ps, depth + 1), **v;

            if (!kid)
                goto bad;
            if (!(v = realloc(x->kids, (x->nkids + 1) * sizeof(*v)))) {
                acme__xml_free(kid);
                goto nomem;
            }
            x->kids = v;
            x->kids[x->nkids++] = kid;
        }
    }
    if (acme__buf_append(&text, "", 0) < 0)
        goto nomem;
    x->text = acme__buf_steal(&text);
    return x;
nomem:
    ps->nomem = true;
bad:
    acme__buf_clear(&text);
    acme__xml_free(x);
    return NULL;
}

int acme__xml_parse(acme__xml **out, const char *data, size_t len, const char *what,
                    acme_error **err)
{
    parser ps = { data, data + len, what, NULL, false };
    acme__xml *root = NULL;
    bool skipped;

    *out = NULL;
    if (!data)
        ps.end = ps.p = "";
    if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
        ps.p += 3; /* a UTF-8 byte order mark */
    do {
        skip_space(&ps);
    } while (skip_misc(&ps, &skipped) && skipped);
    if (!ps.why)
        root = element(&ps, 0);
    while (root) {
        skip_space(&ps);
        if (ps.p >= ps.end)
            break;
        if (!skip_misc(&ps, &skipped) || !skipped) {
            fail(&ps, "content after the root element");
            acme__xml_free(root);
            root = NULL;
        }
    }
    if (!root) {
        if (ps.nomem)
            return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        return acme_error_set(err, ACME_E_PROTOCOL, _("malformed XML in the %s: %s"), what,
                              ps.why ? ps.why : "no root element");
    }
    *out = root;
    return ACME_OK;
}

const acme__xml *acme__xml_child(const acme__xml *x, const char *name)
{
    for (size_t i = 0; x && i < x->nkids; i++)
        if (strcmp(x->kids[i]->name, name) == 0)
            return x->kids[i];
    return NULL;
}

const char *acme__xml_text(const acme__xml *x, const char *path)
{
    char buf[128];
    const char *p = path;

    while (x && *p) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);

        if (n >= sizeof(buf))
            return NULL;
        memcpy(buf, p, n);
        buf[n] = '\0';
        x = acme__xml_child(x, buf);
        p += n + (slash ? 1 : 0);
    }
    return x ? x->text : NULL;
}

char *acme__xml_escape(const char *s)
{
    acme__buf b = ACME__BUF_INIT;
    int rc = acme__buf_append(&b, "", 0);

    for (; *s && rc == 0; s++) {
        switch (*s) {
        case '&': rc = acme__buf_puts(&b, "&amp;"); break;
        case '<': rc = acme__buf_puts(&b, "&lt;"); break;
        case '>': rc = acme__buf_puts(&b, "&gt;"); break;
        default: rc = acme__buf_append(&b, s, 1); break;
        }
    }
    if (rc < 0) {
        acme__buf_clear(&b);
        return NULL;
    }
    return acme__buf_steal(&b);
}
