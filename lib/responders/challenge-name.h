/*
 * responders: checking the identifier a responder is asked to answer for,
 * before it reaches a certificate, a registry key, a file name or a URL.
 */
#ifndef ACME_RESPONDERS_CHALLENGE_NAME_H
#define ACME_RESPONDERS_CHALLENGE_NAME_H

#include <stdbool.h>
#include <acme/error.h>

/* What acme__responder_name_check() found. */
typedef enum acme__name_kind {
    ACME__NAME_DNS = 1,   /* a host name: LDH labels */
    ACME__NAME_IPV4 = 2,  /* a dotted-quad IPv4 literal */
    ACME__NAME_IPV6 = 3   /* an IPv6 literal (no zone, no brackets) */
} acme__name_kind;

/*
 * Whether @p name is a DNS host name (labels of letters, digits and
 * inner hyphens, 1-63 bytes each, at most 253 in all, no trailing dot, a
 * last label that is not all digits) or an IPv4 or IPv6 literal.  A
 * wildcard ("*.") is not a name: responders get the base name.
 *
 * @return the kind (> 0), or ACME_E_INVALID with a message in *err.
 */
int acme__responder_name_check(const char *name, acme_error **err);

#endif
