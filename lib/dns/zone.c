/*
 * dns: names and zones.  Normalising DNS names, choosing the zone that
 * holds a name (the configured one, or the longest zone at the provider
 * that is a suffix on a label boundary, as txacme's libcloud responder and
 * lego do), the two distinct failures ZoneNotFound and NotInZone, and TXT
 * presentation quoting.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <acme/sys/error.h>

#include "dns/dns.h"
#include "util/i18n.h"
#include "util/util.h"

/*
 * RFC 1035 §2.3.4: labels up to 63 octets, names up to 255 octets on the
 * wire, so 253 characters in text without the trailing dot.  We accept
 * letters, digits, '-' and '_' (underscore labels such as
 * "_acme-challenge" are everywhere in DNS, RFC 8552), and '*' as a whole
 * first label.  IDNs arrive as A-labels ("xn--..."), as ACME requires
 * (RFC 8555 §7.1.4).
 */
int acme__dns_name_normalize(char **out, const char *name, acme_error **err)
{
    size_t len, label = 0;
    char *s;

    *out = NULL;
    if (!name || !*name)
        return acme_error_set(err, ACME_E_INVALID, _("empty DNS name"));
    len = strlen(name);
    if (len > 1 && name[len - 1] == '.')
        len--;
    if (len > 253)
        return acme_error_set(err, ACME_E_INVALID, _("DNS name too long (%zu characters)"), len);
    if (!(s = acme__strndup(name, len)))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    for (size_t i = 0; i <= len; i++) {
        char c = s[i];

        if (c >= 'A' && c <= 'Z')
            s[i] = c = (char)(c - 'A' + 'a');
        if (c == '.' || c == '\0') {
            if (label == 0 || label > 63)
                goto bad;
            label = 0;
            continue;
        }
        if (c == '*') {
            /* Only "*" as the whole first label. */
            if (i != 0 || (s[1] != '.' && s[1] != '\0'))
                goto bad;
        } else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
            goto bad;
        }
        label++;
    }
    *out = s;
    return ACME_OK;

bad:
    free(s);
    return acme_error_set(err, ACME_E_INVALID, _("not a DNS name: \"%.80s\""), name);
}

bool acme__dns_name_in_zone(const char *fqdn, const char *zone)
{
    size_t fl = strlen(fqdn), zl = strlen(zone);

    if (fl == zl)
        return strcmp(fqdn, zone) == 0;
    /* A label boundary: "badexample.com" is not in "example.com". */
    return fl > zl && fqdn[fl - zl - 1] == '.' && strcmp(fqdn + fl - zl, zone) == 0;
}

char *acme__dns_relative(const char *fqdn, const char *zone)
{
    size_t fl = strlen(fqdn), zl = strlen(zone);

    if (!acme__dns_name_in_zone(fqdn, zone))
        return NULL;
    if (fl == zl)
        return acme__strdup("");
    return acme__strndup(fqdn, fl - zl - 1);
}

int acme__dns_zone_pick(size_t *idx, const acme_dns_zone_list *zones, const char *fqdn,
                        acme_error **err)
{
    size_t best = (size_t)-1, best_len = 0;
    acme__buf tried = ACME__BUF_INIT;
    int rc;

    for (size_t i = 0; i < zones->n; i++) {
        const acme_dns_zone *z = &zones->v[i];
        size_t zl = strlen(z->name);

        if (!acme__dns_name_in_zone(fqdn, z->name))
            continue;
        /*
         * Longest wins; at equal length (the same name twice) a public zone
         * wins over a private one: the CA resolves through public DNS
         * (lego prefers public zones for Route 53 and Google the same way).
         */
        if (best == (size_t)-1 || zl > best_len ||
            (zl == best_len && zones->v[best].is_private && !z->is_private)) {
            best = i;
            best_len = zl;
        }
    }
    if (best != (size_t)-1) {
        *idx = best;
        return ACME_OK;
    }
    /* The message lists every suffix tried, so the user sees which zone to create. */
    for (const char *p = fqdn; p; p = strchr(p, '.') ? strchr(p, '.') + 1 : NULL) {
        if (acme__buf_printf(&tried, "%s%s", tried.len ? ", " : "", p) < 0) {
            acme__buf_clear(&tried);
            return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        }
    }
    rc = acme_error_set(err, ACME_E_ZONENOTFOUND,
                        _("no zone at the DNS provider holds %s (tried %s)"), fqdn,
                        tried.data ? tried.data : fqdn);
    acme__buf_clear(&tried);
    return rc;
}

int acme__dns_zone_configured(size_t *idx, const acme_dns_zone_list *zones, const char *want,
                              const char *fqdn, acme_error **err)
{
    char *norm = NULL;
    size_t found = (size_t)-1;

    /* An id first (Route 53 "Z1D633PJN98FT9", PowerDNS "example.com."), as given. */
    for (size_t i = 0; i < zones->n && found == (size_t)-1; i++)
        if (zones->v[i].id && strcmp(zones->v[i].id, want) == 0)
            found = i;
    if (found == (size_t)-1 && acme__dns_name_normalize(&norm, want, NULL) == ACME_OK) {
        for (size_t i = 0; i < zones->n; i++) {
            if (strcmp(zones->v[i].name, norm) != 0)
                continue;
            if (found == (size_t)-1 || (zones->v[found].is_private && !zones->v[i].is_private))
                found = i;
        }
    }
    free(norm);
    if (found == (size_t)-1)
        return acme_error_set(err, ACME_E_ZONENOTFOUND,
                              _("the configured zone %.255s does not exist at the DNS provider"),
                              want);
    if (!acme__dns_name_in_zone(fqdn, zones->v[found].name))
        return acme_error_set(err, ACME_E_NOTINZONE, _("%s is not in the configured zone %s"),
                              fqdn, zones->v[found].name);
    *idx = found;
    return ACME_OK;
}

/* ---- zone lists (public, <acme/sys/dns.h>) ---- */

int acme_dns_zone_list_add(acme_dns_zone_list *l, const char *id, const char *name,
                           bool is_private, acme_error **err)
{
    char *norm = NULL, *idc;
    int rc;

    if (!l || !name)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    if ((rc = acme__dns_name_normalize(&norm, name, err)) < 0)
        return rc;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        acme_dns_zone *v = realloc(l->v, cap * sizeof(*v));

        if (!v) {
            free(norm);
            return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        }
        l->v = v;
        l->cap = cap;
    }
    if (!(idc = acme__strdup(id ? id : name))) {
        free(norm);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    l->v[l->n].id = idc;
    l->v[l->n].name = norm;
    l->v[l->n].is_private = is_private;
    l->n++;
    return ACME_OK;
}

void acme_dns_zone_list_clear(acme_dns_zone_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].id);
        free(l->v[i].name);
    }
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

/* ---- TXT presentation format (RFC 1035 §5.1) ---- */

char *acme__dns_txt_quote(const char *value)
{
    acme__buf b = ACME__BUF_INIT;

    if (acme__buf_puts(&b, "\"") < 0)
        return NULL;
    for (const char *p = value; *p; p++) {
        if ((*p == '"' || *p == '\\') && acme__buf_puts(&b, "\\") < 0)
            goto fail;
        if (acme__buf_append(&b, p, 1) < 0)
            goto fail;
    }
    if (acme__buf_puts(&b, "\"") < 0)
        goto fail;
    return acme__buf_steal(&b);
fail:
    acme__buf_clear(&b);
    return NULL;
}

/*
 * Undo quoting: "\"a\" \"b\"" -> "ab" (several strings concatenate),
 * `\"`, `\\` and `\DDD` escapes resolved; an unquoted value is returned as
 * it is (DigitalOcean, Linode answer unquoted).
 */
char *acme__dns_txt_unquote(const char *content)
{
    acme__buf b = ACME__BUF_INIT;
    const char *p = content;

    while (*p == ' ' || *p == '\t')
        p++;
    if (*p != '"')
        return acme__strdup(content);
    while (*p) {
        if (*p == ' ' || *p == '\t') {
            p++;
            continue;
        }
        if (*p != '"') /* junk between strings: keep it literally */
            goto literal;
        for (p++; *p && *p != '"'; p++) {
            char c = *p;

            if (c == '\\' && p[1]) {
                p++;
                if (p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9' && p[2] >= '0' &&
                    p[2] <= '9') {
                    c = (char)((p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0'));
                    p += 2;
                } else {
                    c = *p;
                }
            }
            if (acme__buf_append(&b, &c, 1) < 0)
                goto fail;
        }
        if (*p == '"')
            p++;
    }
    if (acme__buf_append(&b, "", 0) < 0)
        goto fail;
    return acme__buf_steal(&b);
literal:
    acme__buf_clear(&b);
    return acme__strdup(content);
fail:
    acme__buf_clear(&b);
    return NULL;
}
