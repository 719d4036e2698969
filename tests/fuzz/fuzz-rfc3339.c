/*
 * tests/fuzz: RFC 3339 timestamps ("expires", ARI windows) as
 * acme__time_parse_rfc3339 reads them from CA documents.
 */
#include "config.h"

#include "fuzz.h"
#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s, buf[64];
    time_t t, again;

    if (!(s = fuzz_cstr(data, size)))
        return 0;
    if (acme__time_parse_rfc3339(s, &t) == 0 && t >= 0 && t <= (time_t)253402300799) {
        /* What the library writes (years 0 to 9999) it reads back. */
        acme__time_format_rfc3339(t, buf, sizeof(buf));
        FUZZ_CHECK(acme__time_parse_rfc3339(buf, &again) == 0);
        FUZZ_CHECK(again == t);
    }
    free(s);
    return 0;
}
