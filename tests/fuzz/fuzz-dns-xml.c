/*
 * tests/fuzz: the REST-XML answers of a DNS provider API (Route 53) as
 * the small XML reader of lib/dns/providers/xml.c reads them: elements,
 * text, CDATA, entities, character references; DOCTYPEs refused.
 */
#include "config.h"

#include "fuzz.h"
#include "dns/providers/xml.h"
#include "util/util.h"

/* Every element is named and has text; paths built from the tree find it. */
static void walk(const acme__xml *x, int depth)
{
    FUZZ_CHECK(depth <= 33);
    FUZZ_CHECK(x->name && x->text);
    for (size_t i = 0; i < x->nkids; i++) {
        const acme__xml *k = x->kids[i];

        FUZZ_CHECK(acme__xml_child(x, k->name) != NULL);
        if (strlen(k->name) < 64 && !strchr(k->name, '/'))
            FUZZ_CHECK(acme__xml_text(x, k->name) != NULL);
        walk(k, depth + 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    acme__xml *x = NULL;
    acme_error *err = NULL;
    char *s, *esc, *doc;
    int rc;

    /* The raw buffer: the reader must stay inside @p size bytes. */
    rc = acme__xml_parse(&x, (const char *)data, size, "fuzz", &err);
    FUZZ_CHECK((rc < 0) == (x == NULL));
    fuzz_check_result(rc, err);
    if (x) {
        walk(x, 0);
        (void)acme__xml_text(x, "HostedZones/HostedZone/Name");
        acme__xml_free(x);
    }
    /* Text the provider escapes into a request reads back as it was. */
    if (!(s = fuzz_cstr(data, size)))
        return 0;
    if ((esc = acme__xml_escape(s)) && (doc = acme__asprintf("<Value>%s</Value>", esc))) {
        err = NULL;
        rc = acme__xml_parse(&x, doc, strlen(doc), "fuzz", &err);
        if (rc == 0) {
            FUZZ_CHECK(strcmp(x->text, s) == 0);
            acme__xml_free(x);
        }
        /* A refused character reference cannot come from escaping; the
         * only refusal is for bytes XML forbids, none of which we add. */
        fuzz_check_result(rc, err);
        FUZZ_CHECK(rc == 0);
        free(doc);
    }
    free(esc);
    free(s);
    return 0;
}
