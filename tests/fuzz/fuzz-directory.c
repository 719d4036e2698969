/*
 * tests/fuzz: the directory object (RFC 8555 §7.1.1), as
 * acme__directory_parse reads it, and the getters on the result.
 */
#include "config.h"

#include "fuzz-client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    acme__response resp;
    acme_directory *dir = NULL;
    acme_error *err = NULL;
    int rc;

    if (!fuzz_response(&resp, data, size))
        return 0;
    rc = acme__directory_parse(&dir, &resp, &err);
    FUZZ_CHECK((rc < 0) == (dir == NULL));
    fuzz_check_result(rc, err);
    if (dir) {
        const char *const *v;
        const char *const *desc;
        size_t n;

        /* §7.1.1: the three URLs every order needs are there. */
        FUZZ_CHECK(acme_directory_url(dir, ACME_DIR_NEW_NONCE) != NULL);
        FUZZ_CHECK(acme_directory_url(dir, ACME_DIR_NEW_ACCOUNT) != NULL);
        FUZZ_CHECK(acme_directory_url(dir, ACME_DIR_NEW_ORDER) != NULL);
        (void)acme_directory_terms_of_service(dir);
        (void)acme_directory_website(dir);
        (void)acme_directory_external_account_required(dir);
        v = acme_directory_caa_identities(dir, &n);
        for (size_t i = 0; i < n; i++)
            FUZZ_CHECK(v[i] != NULL);
        v = acme_directory_profiles(dir, &n, &desc);
        for (size_t i = 0; i < n; i++)
            FUZZ_CHECK(v[i] != NULL);
        acme__directory_free(dir);
    }
    acme__response_clear(&resp);
    return 0;
}
