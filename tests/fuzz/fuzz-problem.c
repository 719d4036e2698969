/*
 * tests/fuzz: problem documents (RFC 7807; RFC 8555 §6.7) as the
 * transport turns an error response into an acme_error
 * (acme__problem_error), and as an order or challenge embeds one
 * (acme__problem_from_json).
 *
 * Input: byte 0 picks the HTTP status, byte 1 the content type and the
 * Retry-After; the rest is the body.
 */
#include "config.h"

#include "fuzz.h"
#include "transport/transport.h"

static const long statuses[] = { 400, 401, 403, 404, 409, 429, 500, 503, 200, 302, 0, 599 };
static const char *const types[] = { "application/problem+json", "application/json",
                                     "text/html", NULL };

static void check_error(const acme_error *e)
{
    size_t n = acme_error_subproblem_count(e);
    acme_error *copy;

    FUZZ_CHECK(acme_error_code_get(e) < 0);
    FUZZ_CHECK(acme_error_message(e) != NULL);
    (void)acme_error_problem_type(e);
    (void)acme_error_detail(e);
    (void)acme_error_instance(e);
    (void)acme_error_retryable(e);
    (void)acme_error_http_status(e);
    for (size_t i = 0; i < n; i++) {
        const char *t, *d, *it, *iv;

        FUZZ_CHECK(acme_error_subproblem(e, i, &t, &d, &it, &iv) == ACME_OK);
    }
    FUZZ_CHECK(acme_error_subproblem(e, n, NULL, NULL, NULL, NULL) == ACME_E_INVALID);
    /* Errors cross threads as copies: the copy must say the same. */
    if ((copy = acme_error_copy(e))) {
        FUZZ_CHECK(acme_error_code_get(copy) == acme_error_code_get(e));
        FUZZ_CHECK(strcmp(acme_error_message(copy), acme_error_message(e)) == 0);
        FUZZ_CHECK(acme_error_subproblem_count(copy) == n);
        acme_error_free(copy);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    acme__response resp;
    acme_error *err = NULL, *e;
    int rc;

    if (size < 2)
        return 0;
    memset(&resp, 0, sizeof(resp));
    resp.status = statuses[data[0] % ACME_ARRAY_SIZE(statuses)];
    resp.retry_after = data[1] & 0x80 ? (int64_t)(data[1] >> 2) : -1;
    if (types[data[1] % ACME_ARRAY_SIZE(types)] &&
        !(resp.content_type = acme__strdup(types[data[1] % ACME_ARRAY_SIZE(types)])))
        return 0;
    if (acme__buf_append(&resp.body, data + 2, size - 2) < 0) {
        acme__response_clear(&resp);
        return 0;
    }
    rc = acme__problem_error(&err, &resp);
    FUZZ_CHECK(rc < 0 && err != NULL);
    FUZZ_CHECK(acme_error_code_get(err) == rc);
    check_error(err);
    acme_error_free(err);
    /* The raw bytes, unterminated: the parser must honour the length. */
    if ((e = acme__problem_from_json((const char *)data + 2, size - 2, 0))) {
        check_error(e);
        acme_error_free(e);
    }
    acme__response_clear(&resp);
    return 0;
}
