/*
 * stores: server name validation and normalisation.
 *
 * A server name becomes a file name in the directory store
 * (`<name>.pem`), so it is checked before it touches a path: only LDH
 * DNS names (RFC 1035 §2.3.1 as relaxed by RFC 1123 §2.1), lowercase,
 * and IP literals in canonical form pass.  That alone rules out "..",
 * "/", NUL, white space and every other byte a path could be abused with.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include <acme/store.h>
#include <acme/sys/error.h>

#include "stores/store.h"
#include "util/i18n.h"
#include "util/util.h"

#define LABEL_MAX 63

static bool is_lower_ldh(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/*
 * An IP literal, only in the form inet_ntop() writes, so that one address
 * has one file name.  Sets *canonical (when not NULL) to that form.
 */
static bool ip_literal(const char *name, char *canonical, size_t len)
{
    unsigned char addr[16];
    char text[INET6_ADDRSTRLEN];
    int af;

    if (inet_pton(AF_INET, name, addr) == 1)
        af = AF_INET;
    else if (inet_pton(AF_INET6, name, addr) == 1)
        af = AF_INET6;
    else
        return false;
    if (!inet_ntop(af, addr, text, sizeof(text)))
        return false;
    if (canonical)
        snprintf(canonical, len, "%s", text);
    return true;
}

int acme_name_validate(const char *name, acme_error **err)
{
    size_t len, label = 0;
    const char *start;

    if (!name || !*name)
        return acme_error_set(err, ACME_E_INVALID, _("server name is empty"));
    len = strnlen(name, ACME_NAME_MAX + 1);
    if (len > ACME_NAME_MAX)
        return acme_error_set(err, ACME_E_INVALID,
                              _("server name is longer than %d characters"), ACME_NAME_MAX);

    /* IPv6 literals hold ':' and are checked whole, before the DNS rules. */
    if (strchr(name, ':')) {
        char canon[INET6_ADDRSTRLEN];

        if (!ip_literal(name, canon, sizeof(canon)))
            return acme_error_set(err, ACME_E_INVALID,
                                  _("server name \"%s\" is neither a DNS name nor an IP address"),
                                  name);
        if (strcmp(canon, name) != 0)
            return acme_error_set(err, ACME_E_INVALID,
                                  _("IP address \"%s\" is not in canonical form (use \"%s\")"),
                                  name, canon);
        return ACME_OK;
    }

    start = name;
    for (const char *p = name;; p++) {
        unsigned char c = (unsigned char)*p;

        if (c == '.' || c == '\0') {
            if (label == 0)
                return acme_error_set(err, ACME_E_INVALID,
                                      c == '\0' && p > name
                                          ? _("server name \"%s\" ends with a dot")
                                          : _("server name \"%s\" has an empty label"),
                                      name);
            if (start[0] == '-' || p[-1] == '-')
                return acme_error_set(err, ACME_E_INVALID,
                                      _("a label of server name \"%s\" starts or ends with a "
                                        "hyphen"),
                                      name);
            /*
             * IDNA2008 (RFC 5891 §4.2.3.1): "--" in the third and fourth
             * places is reserved, except for the "xn--" of A-labels.
             */
            if (label >= 4 && start[2] == '-' && start[3] == '-' &&
                !(start[0] == 'x' && start[1] == 'n'))
                return acme_error_set(err, ACME_E_INVALID,
                                      _("a label of server name \"%s\" has \"--\" in the third "
                                        "and fourth places but is not an A-label (xn--)"),
                                      name);
            if (c == '\0')
                break;
            start = p + 1;
            label = 0;
            continue;
        }
        if (++label > LABEL_MAX)
            return acme_error_set(err, ACME_E_INVALID,
                                  _("a label of server name \"%s\" is longer than %d characters"),
                                  name, LABEL_MAX);
        if (c >= 'A' && c <= 'Z')
            return acme_error_set(err, ACME_E_INVALID,
                                  _("server name \"%s\" has uppercase letters; names are "
                                    "stored in lowercase"),
                                  name);
        if (c >= 0x80)
            return acme_error_set(err, ACME_E_INVALID,
                                  _("server name \"%s\" is not ASCII; use its A-label (xn--) "
                                    "form"),
                                  name);
        if (c == '*')
            return acme_error_set(err, ACME_E_INVALID,
                                  _("server name \"%s\" is a wildcard; store it under a name "
                                    "it covers"),
                                  name);
        if (!is_lower_ldh((char)c))
            return acme_error_set(err, ACME_E_INVALID,
                                  _("server name \"%s\" has a character that is not a letter, "
                                    "digit, hyphen or dot"),
                                  name);
    }
    return ACME_OK;
}

/*
 * An internationalised name (UTF-8, U-labels) in its A-label form
 * (RFC 5891, "bücher.example" -> "xn--bcher-kva.example"), through
 * GnuTLS's IDNA mapping: libidn2, IDNA2008 with the UTS #46 mapping
 * (so case and width are folded), never the IDNA2003 fallback.
 */
static int to_alabels(char **out, const char *name, acme_error **err)
{
    gnutls_datum_t d = { NULL, 0 };
    int ret = gnutls_idna_map(name, (unsigned int)strlen(name), &d, GNUTLS_IDNA_FORCE_2008);

    *out = NULL;
    if (ret == GNUTLS_E_UNIMPLEMENTED_FEATURE)
        return acme_error_set(err, ACME_E_NOTSUP,
                              _("server name \"%s\" is not ASCII, and this GnuTLS cannot "
                                "convert U-labels (built without libidn2): give its A-label "
                                "(xn--) form"),
                              name);
    if (ret < 0)
        return acme_error_set(err, ACME_E_INVALID,
                              _("server name \"%s\" is not a valid internationalised name "
                                "(IDNA2008): %s"),
                              name, gnutls_strerror(ret));
    *out = acme__strndup((const char *)d.data, d.size);
    gnutls_free(d.data);
    return *out ? ACME_OK : acme_error_set(err, ACME_E_NOMEM, _("out of memory"));
}

int acme_name_normalize(char **out, const char *name, acme_error **err)
{
    char canon[INET6_ADDRSTRLEN];
    char *s, *ascii = NULL;
    size_t len;
    int rc;

    *out = NULL;
    if (!name || !*name)
        return acme_error_set(err, ACME_E_INVALID, _("server name is empty"));
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p >= 0x80) {
            if ((rc = to_alabels(&ascii, name, err)) < 0)
                return rc;
            name = ascii;
            break;
        }
    if (strchr(name, ':') && ip_literal(name, canon, sizeof(canon)))
        s = acme__strdup(canon);
    else
        s = acme__strdup(name);
    free(ascii);
    if (!s)
        return acme_error_set(err, ACME_E_NOMEM, _("out of memory"));
    for (char *p = s; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    len = strlen(s);
    if (len > 1 && s[len - 1] == '.')
        s[len - 1] = '\0';
    rc = acme_name_validate(s, err);
    if (rc < 0) {
        free(s);
        return rc;
    }
    *out = s;
    return ACME_OK;
}

/* RFC 6125 §6.4.3, restricted as CAs issue: "*." only as the whole first label. */
bool acme__name_covered(const char *name, const char *const *sans, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *san = sans[i];

        if (!san)
            continue;
        if (acme__strncaseeq(san, name, strlen(name) + 1))
            return true;
        if (san[0] == '*' && san[1] == '.') {
            const char *dot = strchr(name, '.');

            if (dot && dot != name && acme__strncaseeq(san + 1, dot, strlen(dot) + 1))
                return true;
        }
    }
    return false;
}
