/*
 * responders: checking the identifier a responder is asked to answer for.
 *
 * A name that comes from a CA or a configuration file ends up in
 * certificates, registry keys, and (for other responders) paths and URLs,
 * so every responder refuses anything but a plain DNS host name or an IP
 * literal before it uses it.
 */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include <acme/sys/error.h>

#include "responders/challenge-name.h"
#include "util/i18n.h"

static bool is_ldh(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

/* RFC 1123 §2.1 host names, with the RFC 3696 §2 rule that the top-level
 * label is not all digits (so "1.2.3.999" is neither name nor address). */
static bool dns_name_ok(const char *name)
{
    size_t total = strlen(name);
    const char *label = name;

    if (total == 0 || total > 253)
        return false;
    for (;;) {
        size_t len = strcspn(label, ".");
        bool digits = true;

        if (len == 0 || len > 63 || label[0] == '-' || label[len - 1] == '-')
            return false;
        for (size_t i = 0; i < len; i++) {
            if (!is_ldh(label[i]))
                return false;
            if (label[i] < '0' || label[i] > '9')
                digits = false;
        }
        if (label[len] == '\0')
            return !digits;
        label += len + 1;
    }
}

int acme__responder_name_check(const char *name, acme_error **err)
{
    unsigned char addr[16];

    if (!name || !*name)
        return acme_error_set(err, ACME_E_INVALID, _("empty identifier name"));
    if (inet_pton(AF_INET, name, addr) == 1)
        return ACME__NAME_IPV4;
    if (inet_pton(AF_INET6, name, addr) == 1)
        return ACME__NAME_IPV6;
    if (dns_name_ok(name))
        return ACME__NAME_DNS;
    return acme_error_set(err, ACME_E_INVALID,
                          _("\"%.255s\" is neither a DNS name nor an IP address"), name);
}
