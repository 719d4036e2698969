/*
 * tests/fuzz: http-01 request paths (RFC 8555 §8.3) as
 * acme_http01_lookup matches them against the challenges in flight; the
 * path comes straight from the CA's (or anyone's) HTTP request.
 */
#include "config.h"

#include <acme/http01.h>

#include "fuzz.h"

#define TOKEN "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"
#define KEYAUTH TOKEN ".9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"

/* The table with one challenge in flight, made once. */
static acme_http01 *table(void)
{
    static acme_http01 *h;

    if (!h) {
        FUZZ_CHECK(acme_http01_new(&h, NULL) == 0);
        FUZZ_CHECK(acme_http01_add(h, TOKEN, KEYAUTH, NULL) == 0);
        FUZZ_CHECK(acme_http01_add(h, "tok_-2", "tok_-2.abc", NULL) == 0);
    }
    return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    acme_http01 *h = table();
    acme_error *err = NULL;
    char *path, *body = NULL;
    int rc;

    if (!(path = fuzz_cstr(data, size)))
        return 0;
    rc = acme_http01_lookup(&body, h, path, &err);
    FUZZ_CHECK(rc == 0 || rc == ACME_E_NOTFOUND || rc == ACME_E_NOMEM);
    FUZZ_CHECK((rc == 0) == (body != NULL));
    fuzz_check_result(rc, err);
    if (rc == 0) {
        size_t plen = strlen(ACME_HTTP01_PATH_PREFIX);
        size_t tlen = strcspn(path + plen, "?");

        /* Only "<prefix><token>[?query]" of a token in the table answers,
         * and with that token's key authorization. */
        FUZZ_CHECK(strncmp(path, ACME_HTTP01_PATH_PREFIX, plen) == 0);
        FUZZ_CHECK(strncmp(body, path + plen, tlen) == 0 && body[tlen] == '.');
        acme_free(body);
    }
    free(path);
    return 0;
}
