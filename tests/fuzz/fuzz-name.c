/*
 * tests/fuzz: server names as a store, a TLS client's SNI or a person
 * writes them: acme_name_validate and acme_name_normalize, whose results
 * become file names.
 */
#include "config.h"

#include <acme/store.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    acme_error *err = NULL;
    char *s, *norm = NULL, *twice = NULL;
    int valid, rc;

    if (!(s = fuzz_cstr(data, size)))
        return 0;
    valid = acme_name_validate(s, &err);
    fuzz_check_result(valid, err);
    err = NULL;
    rc = acme_name_normalize(&norm, s, &err);
    FUZZ_CHECK((rc < 0) == (norm == NULL));
    fuzz_check_result(rc, err);
    /* A valid name is already canonical. */
    if (valid == 0)
        FUZZ_CHECK(rc == 0 && strcmp(norm, s) == 0);
    if (norm) {
        /* The canonical form validates, cannot leave the store's
         * directory, and is a fixed point. */
        FUZZ_CHECK(acme_name_validate(norm, NULL) == 0);
        FUZZ_CHECK(!strchr(norm, '/') && strcmp(norm, "..") != 0 && strcmp(norm, ".") != 0);
        FUZZ_CHECK(strlen(norm) <= ACME_NAME_MAX);
        FUZZ_CHECK(acme_name_normalize(&twice, norm, NULL) == 0 && strcmp(twice, norm) == 0);
        acme_free(twice);
        acme_free(norm);
    }
    free(s);
    return 0;
}
