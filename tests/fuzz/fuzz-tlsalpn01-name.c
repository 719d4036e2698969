/*
 * tests/fuzz: the server name a validation handshake asks for (SNI, RFC
 * 8737 §3; an IP identifier's reverse name, RFC 8738 §6) as
 * acme_tlsalpn01_lookup_pem and acme_tlsalpn01_remove match it against
 * the registry.
 */
#include "config.h"

#include <acme/tlsalpn01.h>

#include "fuzz.h"

/* A registry with a DNS name and both kinds of IP literal, made once
 * (each entry costs a key generation). */
static acme_tlsalpn01 *registry(void)
{
    static acme_tlsalpn01 *reg;

    if (!reg) {
        FUZZ_CHECK(acme_tlsalpn01_new(&reg, NULL) == 0);
        FUZZ_CHECK(acme_tlsalpn01_add(reg, "example.com", "tok.thumb", NULL) == 0);
        FUZZ_CHECK(acme_tlsalpn01_add(reg, "192.0.2.1", "tok.thumb", NULL) == 0);
        FUZZ_CHECK(acme_tlsalpn01_add(reg, "2001:db8::1", "tok.thumb", NULL) == 0);
    }
    return reg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    acme_tlsalpn01 *reg = registry();
    acme_error *err = NULL;
    char *name, *cert = NULL;
    int rc;

    if (!(name = fuzz_cstr(data, size)))
        return 0;
    /* Only the certificate: the key's PEM costs as much and says no more. */
    rc = acme_tlsalpn01_lookup_pem(&cert, NULL, reg, name, &err);
    FUZZ_CHECK((rc == 0) == (cert != NULL));
    fuzz_check_result(rc, err);
    acme_free(cert);
    /* Another key authorization than the registry's: never removes. */
    err = NULL;
    rc = acme_tlsalpn01_remove(reg, name, "other.thumb", &err);
    FUZZ_CHECK(rc != 0);
    fuzz_check_result(rc, err);
    FUZZ_CHECK(acme_tlsalpn01_count(reg) == 3);
    free(name);
    return 0;
}
