/*
 * tests/fuzz: DNS answers (RFC 1035 §4.1 wire format: compression
 * pointers, character-strings) as the dns-01 propagation check's stub
 * resolver reads them off the network (acme__dns_parse_answer).  The
 * first two bytes are the query id, so every input gets past the id
 * check; each input is parsed as the answer to each record type asked.
 */
#include "config.h"

#include "fuzz.h"
#include "dns/dns.h"

#define QNAME "_acme-challenge.example.com"

static const int types[] = { ACME__DNS_T_TXT, ACME__DNS_T_CNAME, ACME__DNS_T_NS,
                             ACME__DNS_T_A, ACME__DNS_T_AAAA };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint16_t id = size >= 2 ? (uint16_t)(data[0] << 8 | data[1]) : 0;

    for (size_t t = 0; t < ACME_ARRAY_SIZE(types); t++) {
        acme__dns_answer a;
        acme_error *err = NULL;
        int rc;

        /* The raw buffer: the parser must stay inside @p size bytes. */
        rc = acme__dns_parse_answer(&a, data, size, id, QNAME, types[t], &err);
        fuzz_check_result(rc, err);
        if (rc == 0) {
            FUZZ_CHECK(a.rcode >= 0 && a.rcode <= 15);
            for (size_t i = 0; i < a.nrr; i++)
                FUZZ_CHECK(a.rr[i] != NULL);
        } else {
            FUZZ_CHECK(a.nrr == 0 && !a.rr && !a.cname);
        }
        acme__dns_answer_clear(&a);
    }
    return 0;
}
