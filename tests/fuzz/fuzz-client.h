/*
 * tests/fuzz: a CA response as the client layer's parsers receive it.
 */
#ifndef ACME_TESTS_FUZZ_CLIENT_H
#define ACME_TESTS_FUZZ_CLIENT_H

#include "fuzz.h"
#include "client/client-internal.h"

/* A 200 response whose body is the input; false when out of memory. */
static inline bool fuzz_response(acme__response *resp, const uint8_t *data, size_t size)
{
    memset(resp, 0, sizeof(*resp));
    resp->status = 200;
    resp->retry_after = -1;
    return acme__buf_append(&resp->body, data, size) == 0;
}

#endif
