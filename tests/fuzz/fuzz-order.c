/*
 * tests/fuzz: the order object (RFC 8555 §7.1.3) as acme__order_parse
 * reads it, with its embedded problem ("error") and the getters.
 */
#include "config.h"

#include "fuzz-client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    acme__response resp;
    acme_order *o;
    acme_error *err = NULL;
    int rc;

    if (!fuzz_response(&resp, data, size))
        return 0;
    if (!(o = calloc(1, sizeof(*o)))) {
        acme__response_clear(&resp);
        return 0;
    }
    rc = acme__order_parse(o, &resp, &err);
    fuzz_check_result(rc, err);
    if (rc == 0) {
        const acme_error *e = acme_order_error(o);

        FUZZ_CHECK(acme_order_status(o) != ACME_STATUS_UNKNOWN);
        FUZZ_CHECK(acme_order_identifier_count(o) > 0);
        for (size_t i = 0; i < acme_order_identifier_count(o); i++) {
            const acme_identifier *id = acme_order_identifier(o, i);

            FUZZ_CHECK(id && id->value);
            FUZZ_CHECK(id->type == ACME_ID_DNS || id->type == ACME_ID_IP);
        }
        for (size_t i = 0; i < acme_order_authorization_count(o); i++)
            FUZZ_CHECK(acme_order_authorization_url(o, i) != NULL);
        FUZZ_CHECK(acme_order_identifier(o, acme_order_identifier_count(o)) == NULL);
        FUZZ_CHECK(acme_order_finalize_url(o) != NULL);
        (void)acme_order_certificate_url(o);
        (void)acme_order_expires(o);
        if (e)
            FUZZ_CHECK(acme_error_message(e) != NULL);
    }
    acme_order_free(o);
    acme__response_clear(&resp);
    return 0;
}
