/*
 * tests/fuzz: endpoint strings ("le:DIR:tcp:443", "acme:URL:DIR:SUB",
 * sub-endpoints "tcp6:443:interface=\:\:1", "unix:PATH") as
 * acme_endpoint_string_parse and acme_endpoint_sub_parse read them from
 * configuration and command lines.  The directory check only stats and
 * access()es the named path; nothing is created.
 */
#include "config.h"

#include <acme/endpoint.h>

#include "fuzz.h"

static bool same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/*
 * The canonical sub-endpoint is what acme_endpoint_listen() is handed: it
 * must parse again, to the same thing, and be its own canonical form.
 */
static void check_spec(const acme_endpoint_spec *spec)
{
    const char *sub = acme_endpoint_spec_sub_endpoint(spec);
    acme_endpoint_spec *again = NULL;
    acme_error *err = NULL;
    int rc;

    FUZZ_CHECK(sub != NULL);
    rc = acme_endpoint_sub_parse(&again, sub, &err);
    if (rc < 0)
        fprintf(stderr, "canonical \"%s\" does not parse: %s\n", sub, acme_error_message(err));
    FUZZ_CHECK(rc == 0);
    fuzz_check_result(rc, err);
    FUZZ_CHECK(acme_endpoint_spec_kind(again) == acme_endpoint_spec_kind(spec));
    FUZZ_CHECK(acme_endpoint_spec_port(again) == acme_endpoint_spec_port(spec));
    FUZZ_CHECK(acme_endpoint_spec_backlog(again) == acme_endpoint_spec_backlog(spec));
    FUZZ_CHECK(same(acme_endpoint_spec_interface(again), acme_endpoint_spec_interface(spec)));
    FUZZ_CHECK(same(acme_endpoint_spec_path(again), acme_endpoint_spec_path(spec)));
    FUZZ_CHECK(strcmp(acme_endpoint_spec_sub_endpoint(again), sub) == 0);
    acme_endpoint_spec_free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    acme_endpoint_spec *spec = NULL;
    acme_error *err = NULL;
    char *s;
    int rc;

    if (!(s = fuzz_cstr(data, size)))
        return 0;
    rc = acme_endpoint_string_parse(&spec, s, &err);
    FUZZ_CHECK((rc < 0) == (spec == NULL));
    fuzz_check_result(rc, err);
    if (spec) {
        FUZZ_CHECK(acme_endpoint_spec_directory_url(spec) && acme_endpoint_spec_cert_dir(spec));
        check_spec(spec);
        acme_endpoint_spec_free(spec);
        spec = NULL;
    }
    err = NULL;
    rc = acme_endpoint_sub_parse(&spec, s, &err);
    FUZZ_CHECK((rc < 0) == (spec == NULL));
    fuzz_check_result(rc, err);
    if (spec) {
        FUZZ_CHECK(!acme_endpoint_spec_directory_url(spec) && !acme_endpoint_spec_cert_dir(spec));
        check_spec(spec);
        acme_endpoint_spec_free(spec);
    }
    free(s);
    return 0;
}
