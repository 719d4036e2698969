/*
 * tests/fuzz: certificate chains in PEM as acme_chain_parse reads the
 * CA's download (RFC 8555 §7.4.2) and stored files, and every getter on
 * the certificates (names, DNs, serial, ARI identifier).
 */
#include "config.h"

#include <acme/crypto.h>

#include "fuzz.h"

static void check_cert(const acme_cert *c)
{
    const char *const *sans;
    acme_error *err = NULL;
    char *id = NULL;
    size_t n;
    int rc;

    FUZZ_CHECK(c != NULL);
    (void)acme_cert_not_before(c);
    (void)acme_cert_not_after(c);
    sans = acme_cert_sans(c, &n);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK(sans[i] != NULL);
    (void)acme_cert_issuer(c);
    (void)acme_cert_issuer_cn(c);
    (void)acme_cert_subject(c);
    (void)acme_cert_serial(c);
    FUZZ_CHECK(acme_cert_pem(c) != NULL);
    rc = acme_cert_ari_id(&id, c, &err);
    fuzz_check_result(rc, err);
    acme_free(id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    acme_chain *chain = NULL;
    acme_error *err = NULL;
    char *leaf = NULL, *rest = NULL;
    size_t n;
    int rc;

    /* The raw buffer, not a copy: the reader must honour the length. */
    rc = acme_chain_parse(&chain, (const char *)data, size, &err);
    FUZZ_CHECK((rc < 0) == (chain == NULL));
    fuzz_check_result(rc, err);
    if (!chain)
        return 0;
    n = acme_chain_count(chain);
    FUZZ_CHECK(n >= 1);
    for (size_t i = 0; i < n; i++)
        check_cert(acme_chain_get(chain, i));
    FUZZ_CHECK(acme_chain_get(chain, n) == NULL);
    err = NULL;
    rc = acme_chain_split(&leaf, &rest, chain, &err);
    fuzz_check_result(rc, err);
    if (rc == 0) {
        acme_chain *again = NULL;

        /* The leaf alone parses again as one certificate. */
        err = NULL;
        rc = acme_chain_parse(&again, leaf, strlen(leaf), &err);
        FUZZ_CHECK(rc == 0);
        fuzz_check_result(rc, err);
        FUZZ_CHECK(acme_chain_count(again) == 1);
        acme_chain_free(again);
        acme_free(leaf);
        acme_free(rest);
    }
    acme_chain_free(chain);
    return 0;
}
