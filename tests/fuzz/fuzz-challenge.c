/*
 * tests/fuzz: one challenge object (RFC 8555 §7.1.5, §8), placed in an
 * otherwise valid authorization so that every input reaches the challenge
 * parser of acme__authz_parse (token check, embedded problem).
 */
#include "config.h"

#include "fuzz-client.h"

static const char head[] =
    "{\"status\":\"pending\",\"identifier\":{\"type\":\"dns\",\"value\":\"example.com\"},"
    "\"challenges\":[";
static const char tail[] = "]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    acme__response resp;
    acme_authorization *a;
    acme_error *err = NULL;
    int rc;

    memset(&resp, 0, sizeof(resp));
    resp.status = 200;
    resp.retry_after = -1;
    if (acme__buf_puts(&resp.body, head) < 0 || acme__buf_append(&resp.body, data, size) < 0 ||
        acme__buf_puts(&resp.body, tail) < 0 || !(a = calloc(1, sizeof(*a)))) {
        acme__response_clear(&resp);
        return 0;
    }
    rc = acme__authz_parse(a, &resp, &err);
    fuzz_check_result(rc, err);
    for (size_t i = 0; rc == 0 && i < acme_authorization_challenge_count(a); i++) {
        const acme_challenge *ch = acme_authorization_challenge(a, i);
        const acme_error *e = acme_challenge_error(ch);

        FUZZ_CHECK(acme_challenge_type(ch) && acme_challenge_url(ch));
        /* §8.3: the token ends up in file names and DNS labels. */
        if (acme_challenge_token(ch))
            FUZZ_CHECK(acme__is_b64url(acme_challenge_token(ch)));
        if (e) {
            FUZZ_CHECK(acme_error_message(e) != NULL);
            FUZZ_CHECK(acme_error_code_get(e) < 0);
        }
    }
    acme_authorization_free(a);
    acme__response_clear(&resp);
    return 0;
}
