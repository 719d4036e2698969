/*
 * tests/fuzz: txsni/txacme bundle files (one key, certificates in any
 * order) as acme_bundle_from_pem reads them from a store directory.
 */
#include "config.h"

#include <acme/store.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    acme_bundle *b = NULL, *again = NULL, *dup;
    acme_error *err = NULL;
    const char *const *names;
    char *pem = NULL;
    size_t n, n2;
    int rc;

    /* The raw buffer, not a copy: the reader must honour the length. */
    rc = acme_bundle_from_pem(&b, (const char *)data, size, &err);
    FUZZ_CHECK((rc < 0) == (b == NULL));
    fuzz_check_result(rc, err);
    if (!b)
        return 0;
    FUZZ_CHECK(acme_bundle_key(b) && acme_bundle_cert(b) && acme_bundle_chain(b));
    FUZZ_CHECK(!acme_bundle_wants_issue(b));
    names = acme_bundle_names(b, &n);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK(names[i] != NULL);
    /* What a store writes back it reads again, with the same names. */
    err = NULL;
    rc = acme_bundle_to_pem(&pem, b, &err);
    fuzz_check_result(rc, err);
    if (rc == 0) {
        err = NULL;
        rc = acme_bundle_from_pem(&again, pem, strlen(pem), &err);
        FUZZ_CHECK(rc == 0);
        fuzz_check_result(rc, err);
        (void)acme_bundle_names(again, &n2);
        FUZZ_CHECK(n2 == n);
        acme_bundle_free(again);
        acme_free(pem);
    }
    if ((dup = acme_bundle_dup(b)))
        acme_bundle_free(dup);
    acme_bundle_free(b);
    return 0;
}
