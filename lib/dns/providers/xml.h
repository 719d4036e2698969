/*
 * dns: a small, strict XML reader for the few REST-XML answers a DNS
 * provider reads (Route 53): elements, text, CDATA, the five predefined
 * entities and character references.  Attributes are skipped, namespace
 * prefixes dropped, DOCTYPEs refused (no entity expansion, ever).
 */
#ifndef ACME_DNS_XML_H
#define ACME_DNS_XML_H

#include <stddef.h>

#include <acme/error.h>

typedef struct acme__xml acme__xml;

struct acme__xml {
    char *name;           /* the local name (prefix dropped) */
    char *text;           /* the element's own text, entities decoded ("" when none) */
    acme__xml **kids;     /* child elements in document order */
    size_t nkids;
};

/*
 * Parse @p len bytes into a tree (the root element).  Malformed input,
 * nesting deeper than 32 and DOCTYPEs: ACME_E_PROTOCOL naming @p what
 * ("Route 53 answer").
 */
int acme__xml_parse(acme__xml **out, const char *data, size_t len, const char *what,
                    acme_error **err);
void acme__xml_free(acme__xml *x);

/* The first child of @p x named @p name, or NULL (x may be NULL). */
const acme__xml *acme__xml_child(const acme__xml *x, const char *name);
/* The text of the element at the '/'-separated @p path below @p x, or NULL. */
const char *acme__xml_text(const acme__xml *x, const char *path);
/* @p s with & < > as entities, for element content (quotes stay as they are); NULL on no memory. */
char *acme__xml_escape(const char *s);

#endif
