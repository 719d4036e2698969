/*
 * tests/fuzz: private keys in PEM (PKCS#8, traditional RSA, SEC1 EC) as
 * acme_key_load_pem reads them from key files and stores.
 */
#include "config.h"

#include <acme/crypto.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    acme_key *key = NULL, *again = NULL;
    acme_error *err = NULL;
    char *pem = NULL, *jwk = NULL;
    int rc;

    /* The raw buffer, not a copy: the reader must honour the length. */
    rc = acme_key_load_pem(&key, (const char *)data, size, &err);
    FUZZ_CHECK((rc < 0) == (key == NULL));
    fuzz_check_result(rc, err);
    if (!key)
        return 0;
    FUZZ_CHECK(acme_key_jws_alg(key) != NULL);
    (void)acme_key_get_type(key);
    (void)acme_key_bits(key);
    err = NULL;
    rc = acme_key_jwk(&jwk, key, &err);
    fuzz_check_result(rc, err);
    /* A key we accepted we can save, and what we save we read back. */
    err = NULL;
    rc = acme_key_save_pem(&pem, key, ACME_KEY_FORMAT_PKCS8, &err);
    fuzz_check_result(rc, err);
    if (rc == 0) {
        err = NULL;
        rc = acme_key_load_pem(&again, pem, strlen(pem), &err);
        FUZZ_CHECK(rc == 0);
        fuzz_check_result(rc, err);
        FUZZ_CHECK(acme_key_equal(key, again));
        acme_key_free(again);
        acme_free(pem);
    }
    acme_free(jwk);
    acme_key_free(key);
    return 0;
}
