/*
 * tests/fuzz: TXT record contents as DNS provider APIs return them
 * (PowerDNS: quoted presentation format, RFC 1035 §5.1; others unquoted),
 * read by acme__dns_txt_unquote to find the value a challenge put there.
 */
#include "config.h"

#include "fuzz.h"
#include "dns/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s, *plain, *quoted;

    if (!(s = fuzz_cstr(data, size)))
        return 0;
    free(acme__dns_txt_unquote(s));
    /* What the provider is sent it reads back unchanged. */
    if ((quoted = acme__dns_txt_quote(s))) {
        plain = acme__dns_txt_unquote(quoted);
        FUZZ_CHECK(!plain || strcmp(plain, s) == 0);
        free(plain);
        free(quoted);
    }
    free(s);
    return 0;
}
