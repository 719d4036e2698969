/*
 * tests/fuzz: Link header values (RFC 8288 §3) as acme__link_parse reads
 * them for alternate chains and "up" links (RFC 8555 §7.4.2, §7.5).
 * Each input line is one Link header of the same response.
 */
#include "config.h"

#include "fuzz.h"
#include "transport/link.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    acme__link_list l;
    char *s, *line, *next;

    if (!(s = fuzz_cstr(data, size)))
        return 0;
    memset(&l, 0, sizeof(l));
    for (line = s; line; line = next) {
        if ((next = strchr(line, '\n')))
            *next++ = '\0';
        if (acme__link_parse(&l, line) < 0)
            break;
    }
    /* A target is what stood between "<" and the first ">". */
    for (size_t i = 0; i < l.nalternates; i++)
        FUZZ_CHECK(l.alternates[i] && !strchr(l.alternates[i], '>'));
    FUZZ_CHECK(!l.up || !strchr(l.up, '>'));
    acme__link_list_clear(&l);
    FUZZ_CHECK(l.nalternates == 0 && !l.alternates && !l.up);
    free(s);
    return 0;
}
