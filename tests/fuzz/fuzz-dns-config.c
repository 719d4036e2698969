/*
 * tests/fuzz: the DNS settings a configuration gives: provider setting
 * strings ("k=v,k2=v\,2", acme__dns_kv_parse) and resolver addresses
 * ("[::1]:5300", acme__dns_server_parse).
 */
#include "config.h"

#include "fuzz.h"
#include "dns/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    acme__dns_server srv;
    acme_error *err = NULL;
    char *s, **keys = NULL, **values = NULL;
    size_t n = 0;
    int rc;

    if (!(s = fuzz_cstr(data, size)))
        return 0;
    rc = acme__dns_kv_parse(&keys, &values, &n, s, &err);
    fuzz_check_result(rc, err);
    FUZZ_CHECK(rc == 0 || (!keys && !values && n == 0));
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK(keys[i] && *keys[i] && values[i]);
    acme_free_strv(keys, n);
    acme_free_strv(values, n);
    err = NULL;
    rc = acme__dns_server_parse(&srv, s, &err);
    fuzz_check_result(rc, err);
    if (rc == 0)
        FUZZ_CHECK(memchr(srv.host, '\0', sizeof(srv.host)) != NULL);
    free(s);
    return 0;
}
