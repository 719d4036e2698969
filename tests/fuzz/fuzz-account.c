/*
 * tests/fuzz: the account object (RFC 8555 §7.1.2) as the client takes
 * its status and contact from an account response (acme__account_parse).
 */
#include "config.h"

#include "fuzz-client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    acme__response resp;
    acme_client client;   /* only the account fields are touched */
    acme_error *err = NULL;
    const char *const *contact;
    size_t n;
    int rc;

    if (!fuzz_response(&resp, data, size))
        return 0;
    memset(&client, 0, sizeof(client));
    rc = acme__account_parse(&client, &resp, &err);
    fuzz_check_result(rc, err);
    contact = acme_client_account_contact(&client, &n);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK(contact[i] != NULL);
    (void)acme_client_account_status(&client);
    free(client.account_status);
    acme_free_strv(client.contact, client.ncontact);
    acme__response_clear(&resp);
    return 0;
}
