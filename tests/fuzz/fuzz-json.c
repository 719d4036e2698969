/*
 * tests/fuzz: the JSON reader every CA response goes through
 * (acme__json_parse: strictness, depth bound, trailing data) and the
 * member accessors the client layer uses on what it returns.
 */
#include "config.h"

#include "fuzz.h"
#include "util/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_object *o = NULL, *again = NULL;
    acme_error *err = NULL;
    char **v = NULL, *dump;
    size_t n = 0;
    int rc;

    /* The raw buffer, not a copy: the parser must honour the length. */
    rc = acme__json_parse(&o, (const char *)data, size, "fuzz", &err);
    FUZZ_CHECK((rc < 0) == (o == NULL));
    fuzz_check_result(rc, err);
    if (rc < 0)
        return 0;
    /* The accessors must take any JSON value, not only objects. */
    (void)acme__json_str(o, "status");
    (void)acme__json_bool(o, "wildcard", false);
    (void)acme__json_obj(o, "meta");
    (void)acme__json_arr(o, "challenges");
    (void)acme__json_time(o, "expires");
    if (acme__json_strv(o, "contact", &v, &n) == 0) {
        for (size_t i = 0; i < n; i++)
            FUZZ_CHECK(v[i] != NULL);
        acme_free_strv(v, n);
    }
    /* What the client serialises of a response (an embedded problem) is
     * read again by the same parser. */
    if ((dump = acme__json_dump(o))) {
        err = NULL;
        rc = acme__json_parse(&again, dump, strlen(dump), "fuzz", &err);
        fuzz_check_result(rc, err);
        json_object_put(again);
        free(dump);
    }
    json_object_put(o);
    return 0;
}
