/*
 * transport: Link header parsing (RFC 8288), private to lib/transport/.
 */
#ifndef ACME_TRANSPORT_LINK_H
#define ACME_TRANSPORT_LINK_H

#include <stddef.h>

/* The links ACME uses, as they appeared (not yet resolved against the request URL). */
typedef struct acme__link_list {
    char **alternates;   /* rel="alternate" (RFC 8555 §7.4.2), in header order */
    size_t nalternates;
    char *up;            /* the first rel="up" (RFC 8555 §7.5, §7.6), or NULL */
} acme__link_list;

/*
 * Add the links of one Link header value, which may hold several
 * comma-separated links.  Malformed links are skipped (a CA's odd header
 * must not fail the request).  Returns ACME_OK or ACME_E_NOMEM.
 */
int acme__link_parse(acme__link_list *l, const char *value);
void acme__link_list_clear(acme__link_list *l);

#endif
