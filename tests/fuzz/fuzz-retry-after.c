/*
 * tests/fuzz: Retry-After header values (RFC 9110 §10.2.3): delay-seconds
 * or an IMF-fixdate, as acme__retry_after_parse reads them.
 */
#include "config.h"

#include "fuzz.h"
#include "util/util.h"

/* A fixed "now" keeps the target deterministic: 2026-01-01T00:00:00Z. */
#define NOW ((time_t)1767225600)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s;
    int64_t v;

    if (!(s = fuzz_cstr(data, size)))
        return 0;
    v = acme__retry_after_parse(s, NOW);
    /* -1 for neither form; a delay is never negative. */
    FUZZ_CHECK(v >= -1);
    free(s);
    return 0;
}
