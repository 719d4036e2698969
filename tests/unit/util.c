/*
 * Unit tests: util (base64url, time formats, Retry-After, errors, JSON).
 */
#include "config.h"

#include <glib.h>
#include <string.h>

#include <acme/acme.h>
#include <acme/sys/error.h>

#include "util/error.h"
#include "util/json.h"
#include "util/util.h"

typedef struct {
    const char *raw;
    size_t len;
    const char *b64url;
} b64_vector;

/* RFC 4648 §10 vectors, in the URL-safe alphabet without padding. */
static const b64_vector b64_vectors[] = {
    { "", 0, "" },
    { "f", 1, "Zg" },
    { "fo", 2, "Zm8" },
    { "foo", 3, "Zm9v" },
    { "foob", 4, "Zm9vYg" },
    { "fooba", 5, "Zm9vYmE" },
    { "foobar", 6, "Zm9vYmFy" },
    { "\xfb\xff\xfe", 3, "-__-" },
};

static void test_b64url_vectors(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(b64_vectors); i++) {
        const b64_vector *v = &b64_vectors[i];
        char *enc = acme__b64url_encode(v->raw, v->len);
        size_t n = 99;
        unsigned char *dec = acme__b64url_decode(v->b64url, strlen(v->b64url), &n);

        g_assert_cmpstr(enc, ==, v->b64url);
        g_assert_nonnull(dec);
        g_assert_cmpuint(n, ==, v->len);
        g_assert_cmpmem(dec, n, v->raw, v->len);
        free(enc);
        free(dec);
    }
}

static void test_b64url_rejects(void)
{
    size_t n;

    g_assert_null(acme__b64url_decode("Zm9v+", 5, &n));  /* standard alphabet */
    g_assert_null(acme__b64url_decode("Z", 1, &n));      /* impossible length */
    g_assert_null(acme__b64url_decode("Zh", 2, &n));     /* non-zero trailing bits */
    g_assert_null(acme__b64url_decode("Zm 9v", 5, &n));  /* white space */
    g_assert_true(acme__is_b64url("evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"));
    g_assert_false(acme__is_b64url(""));
    g_assert_false(acme__is_b64url("../etc/passwd"));
    g_assert_false(acme__is_b64url("abc="));
}

static void test_b64_padding(void)
{
    char *s = acme__b64_encode("fo", 2);

    g_assert_cmpstr(s, ==, "Zm8=");
    free(s);
}

static void test_rfc3339(void)
{
    time_t t;
    char buf[32];

    g_assert_cmpint(acme__time_parse_rfc3339("2026-11-23T16:10:00Z", &t), ==, 0);
    g_assert_cmpint(t, ==, 1795450200);
    g_assert_cmpint(acme__time_parse_rfc3339("2026-11-23T16:10:00.123456789Z", &t), ==, 0);
    g_assert_cmpint(t, ==, 1795450200);
    g_assert_cmpint(acme__time_parse_rfc3339("2026-11-23T18:10:00+02:00", &t), ==, 0);
    g_assert_cmpint(t, ==, 1795450200);
    acme__time_format_rfc3339(1795450200, buf, sizeof(buf));
    g_assert_cmpstr(buf, ==, "2026-11-23T16:10:00Z");
    g_assert_cmpint(acme__time_parse_rfc3339("2026-11-23", &t), <, 0);
    g_assert_cmpint(acme__time_parse_rfc3339("2026-13-23T16:10:00Z", &t), <, 0);
    g_assert_cmpint(acme__time_parse_rfc3339("2026-11-23T16:10:00", &t), <, 0);
    g_assert_cmpint(acme__time_parse_rfc3339("2026-11-23T16:10:00Zjunk", &t), <, 0);
}

static void test_retry_after(void)
{
    time_t now = 784111777; /* Sun, 06 Nov 1994 08:49:37 GMT */

    g_assert_cmpint(acme__retry_after_parse("120", now), ==, 120);
    g_assert_cmpint(acme__retry_after_parse(" 7 ", now), ==, 7);
    g_assert_cmpint(acme__retry_after_parse("Sun, 06 Nov 1994 08:50:37 GMT", now), ==, 60);
    g_assert_cmpint(acme__retry_after_parse("Sun, 06 Nov 1994 08:40:37 GMT", now), ==, 0);
    g_assert_cmpint(acme__retry_after_parse("soon", now), ==, -1);
    g_assert_cmpint(acme__retry_after_parse("12abc", now), ==, -1);
    g_assert_cmpint(acme__retry_after_parse("Sun, 06 Nov 1994 08:50:37 UTC", now), ==, -1);
    g_assert_cmpint(acme__retry_after_parse("99999999999999999999", now), >, 0);
}

static void test_error_rules(void)
{
    acme_error *err = NULL, *copy;
    int rc;

    rc = acme_error_set(&err, ACME_E_IO, "cannot write %s", "/x");
    g_assert_cmpint(rc, ==, ACME_E_IO);
    g_assert_nonnull(err);
    g_assert_cmpstr(acme_error_message(err), ==, "cannot write /x");
    /* The first error wins. */
    rc = acme_error_set(&err, ACME_E_NETWORK, "second");
    g_assert_cmpint(rc, ==, ACME_E_NETWORK);
    g_assert_cmpint(acme_error_code_get(err), ==, ACME_E_IO);
    acme__error_prefix(&err, ACME_E_IO, "saving %s", "a.pem");
    g_assert_cmpstr(acme_error_message(err), ==, "saving a.pem: cannot write /x");
    g_assert_true(acme_error_retryable(err));
    copy = acme_error_copy(err);
    g_assert_cmpstr(acme_error_message(copy), ==, acme_error_message(err));
    acme_error_free(err);
    acme_error_free(copy);
    /* NULL err is allowed. */
    g_assert_cmpint(acme_error_set(NULL, ACME_E_INVALID, "x"), ==, ACME_E_INVALID);
    g_assert_cmpstr(acme_status_name(ACME_E_BADNONCE), ==, "ACME_E_BADNONCE");
    g_assert_cmpstr(acme_status_name(ACME_OK), ==, "ACME_OK");
    g_assert_null(acme_status_name(-999));
    for (int c = ACME_E_LAST; c <= 0; c++) {
        g_assert_nonnull(acme_status_name(c));
        g_assert_cmpstr(acme_strerror(c), !=, acme_strerror(-999));
    }
}

static void test_json_bad_input(void)
{
    static const char *bad[] = {
        "", "{", "{\"a\":", "not json", "{\"a\":1} trailing", "[1,2",
        "{\"a\":\"\\ud800\"", "\x80\x81",
    };
    json_object *o;

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        acme_error *err = NULL;

        g_assert_cmpint(acme__json_parse(&o, bad[i], strlen(bad[i]), "test", &err), ==,
                        ACME_E_PROTOCOL);
        g_assert_null(o);
        g_assert_nonnull(err);
        acme_error_free(err);
    }
    /* Deep nesting is refused, not recursed into. */
    {
        GString *s = g_string_new(NULL);
        acme_error *err = NULL;

        for (int i = 0; i < 10000; i++)
            g_string_append_c(s, '[');
        g_assert_cmpint(acme__json_parse(&o, s->str, s->len, "deep", &err), ==, ACME_E_PROTOCOL);
        acme_error_free(err);
        g_string_free(s, TRUE);
    }
    /* A bare number is a whole document (OVH's /auth/time answers one). */
    g_assert_cmpint(acme__json_parse(&o, "1457018875", 10, "time", NULL), ==, ACME_OK);
    g_assert_true(json_object_is_type(o, json_type_int));
    g_assert_cmpint(json_object_get_int64(o), ==, 1457018875);
    json_object_put(o);
    g_assert_cmpint(acme__json_parse(&o, "true", 4, "literal", NULL), ==, ACME_OK);
    json_object_put(o);
    g_assert_cmpint(acme__json_parse(&o, "{\"a\":\"b\",\"t\":\"2026-11-23T16:10:00Z\"}\n", 37,
                                     "ok", NULL), ==, ACME_OK);
    g_assert_cmpstr(acme__json_str(o, "a"), ==, "b");
    g_assert_null(acme__json_str(o, "missing"));
    g_assert_cmpint(acme__json_time(o, "t"), ==, 1795450200);
    json_object_put(o);
}

static void test_buf(void)
{
    acme__buf b = ACME__BUF_INIT;
    char *s;

    for (int i = 0; i < 1000; i++)
        g_assert_cmpint(acme__buf_printf(&b, "%d,", i), ==, ACME_OK);
    g_assert_cmpuint(b.len, ==, strlen(b.data));
    s = acme__buf_steal(&b);
    g_assert_true(g_str_has_prefix(s, "0,1,2,"));
    g_assert_null(b.data);
    free(s);
    s = acme__buf_steal(&b);
    g_assert_cmpstr(s, ==, "");
    free(s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/util/b64url/vectors", test_b64url_vectors);
    g_test_add_func("/util/b64url/rejects", test_b64url_rejects);
    g_test_add_func("/util/b64/padding", test_b64_padding);
    g_test_add_func("/util/time/rfc3339", test_rfc3339);
    g_test_add_func("/util/time/retry-after", test_retry_after);
    g_test_add_func("/util/error/rules", test_error_rules);
    g_test_add_func("/util/json/bad-input", test_json_bad_input);
    g_test_add_func("/util/buf", test_buf);
    return g_test_run();
}
