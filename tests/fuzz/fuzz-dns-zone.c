/*
 * tests/fuzz: a DNS provider's zone list (names as the API spells them)
 * and the choice of the zone that holds a challenge name
 * (acme_dns_zone_list_add, acme__dns_zone_pick, acme__dns_relative).
 * Input: the first line is the record name, each further line a zone.
 */
#include "config.h"

#include "fuzz.h"
#include "dns/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    acme_dns_zone_list zones = ACME_DNS_ZONE_LIST_INIT;
    char *s, *line, *next, *fqdn = NULL;
    acme_error *err = NULL;
    size_t idx;
    int rc;

    if (!(s = fuzz_cstr(data, size)))
        return 0;
    if ((next = strchr(s, '\n')))
        *next++ = '\0';
    rc = acme__dns_name_normalize(&fqdn, s, &err);
    fuzz_check_result(rc, err);
    for (line = next; line; line = next) {
        if ((next = strchr(line, '\n')))
            *next++ = '\0';
        err = NULL;
        rc = acme_dns_zone_list_add(&zones, line, line, zones.n % 2 == 1, &err);
        fuzz_check_result(rc, err);
    }
    if (fqdn) {
        err = NULL;
        rc = acme__dns_zone_pick(&idx, &zones, fqdn, &err);
        FUZZ_CHECK(rc == 0 || rc == ACME_E_ZONENOTFOUND);
        fuzz_check_result(rc, err);
        if (rc == 0) {
            char *rel;

            FUZZ_CHECK(idx < zones.n);
            FUZZ_CHECK(acme__dns_name_in_zone(fqdn, zones.v[idx].name));
            rel = acme__dns_relative(fqdn, zones.v[idx].name);
            FUZZ_CHECK(rel != NULL);
            free(rel);
        }
        free(fqdn);
    }
    acme_dns_zone_list_clear(&zones);
    free(s);
    return 0;
}
