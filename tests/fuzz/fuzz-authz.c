/*
 * tests/fuzz: the authorization object (RFC 8555 §7.1.4) as
 * acme__authz_parse reads it, challenges included, and the getters.
 */
#include "config.h"

#include "fuzz-client.h"

/* What a parsed authorization promises its users. */
static void check_authz(const acme_authorization *a)
{
    const acme_identifier *id = acme_authorization_identifier(a);
    size_t n = acme_authorization_challenge_count(a);

    FUZZ_CHECK(acme_authorization_status(a) != ACME_STATUS_UNKNOWN);
    FUZZ_CHECK(id && id->value && *id->value);
    (void)acme_authorization_expires(a);
    for (size_t i = 0; i < n; i++) {
        const acme_challenge *ch = acme_authorization_challenge(a, i);
        const acme_error *e;

        FUZZ_CHECK(ch && acme_challenge_type(ch) && acme_challenge_url(ch));
        /* §8.3: the token ends up in file names and DNS labels. */
        if (acme_challenge_token(ch))
            FUZZ_CHECK(acme__is_b64url(acme_challenge_token(ch)));
        FUZZ_CHECK(acme_authorization_find_challenge(a, acme_challenge_type(ch)) != NULL);
        (void)acme_challenge_status(ch);
        if ((e = acme_challenge_error(ch)))
            FUZZ_CHECK(acme_error_message(e) != NULL);
    }
    FUZZ_CHECK(acme_authorization_challenge(a, n) == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    acme__response resp;
    acme_authorization *a;
    acme_error *err = NULL;
    int rc;

    if (!fuzz_response(&resp, data, size))
        return 0;
    if (!(a = calloc(1, sizeof(*a)))) {
        acme__response_clear(&resp);
        return 0;
    }
    rc = acme__authz_parse(a, &resp, &err);
    fuzz_check_result(rc, err);
    if (rc == 0)
        check_authz(a);
    acme_authorization_free(a);
    acme__response_clear(&resp);
    return 0;
}
