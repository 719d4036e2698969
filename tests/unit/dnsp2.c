/*
 * tests/unit/dnsp2: the Route 53 and Google Cloud DNS providers.
 *
 * The AWS SigV4 signer against every published vector (research notes
 * 2.3.8), the XML reader, the JWT signer (verified with the public key),
 * and each provider against an in-process mock of its API
 * (tests/support/mockhttp.c) with an in-memory zone store.  The mocks
 * check what the provider documents: paths, methods, headers, query
 * arguments, signatures (Route 53 recomputes SigV4 with the test secret;
 * Google verifies the RS256 JWT with the service account's public key and
 * the bearer token), exact bodies.  Credentials must never show up in an
 * error message or a log line.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <json-c/json.h>

#include <acme/acme.h>
#include <acme/dns.h>
#include <acme/sys/dns.h>
#include <acme/sys/error.h>

#include "client/client-internal.h"
#include "crypto/gtls.h"
#include "crypto/jwt.h"
#include "crypto/sigv4.h"
#include "dns/dns.h"
#include "dns/providers/xml.h"
#include "support/dnsmock.h"
#include "support/mockhttp.h"
#include "util/error.h"
#include "util/util.h"

#define KA1 "tokenAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.thumbprintAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define KA2 "tokenBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB.thumbprintBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"

/* ================================================================== */
/* SigV4: research notes 2.3.8, every vector                           */
/* ================================================================== */

#define AK "AKIDEXAMPLE"
#define SK "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define AMZDATE "20150830T123600Z"

/* Vector D's body: 483 bytes, one '\n' after the declaration. */
#define VECTOR_D_BODY \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" \
    "<ChangeResourceRecordSetsRequest xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\">" \
    "<ChangeBatch><Changes><Change><Action>UPSERT</Action><ResourceRecordSet>" \
    "<Name>_acme-challenge.example.com.</Name><Type>TXT</Type><TTL>60</TTL><ResourceRecords>" \
    "<ResourceRecord><Value>\"LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0\"</Value>" \
    "</ResourceRecord></ResourceRecords></ResourceRecordSet></Change></Changes></ChangeBatch>" \
    "</ChangeResourceRecordSetsRequest>"

typedef struct sigv4_case {
    const char *name;
    const char *method, *path, *query, *service;
    const char *headers[4];
    const char *body;
    const char *canonical_request;   /* NULL: not published */
    const char *string_to_sign;      /* NULL: not published */
    const char *canonical_hash;
    const char *signing_key;         /* NULL: not published */
    const char *signature;
    const char *authorization;       /* NULL: not published */
} sigv4_case;

static const sigv4_case sigv4_cases[] = {
    {
        .name = "A-get-vanilla",
        .method = "GET", .path = "/", .service = "service",
        .headers = { "Host: example.amazonaws.com", "X-Amz-Date: " AMZDATE, NULL },
        .canonical_request = "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
                             "host;x-amz-date\n"
                             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        .string_to_sign = "AWS4-HMAC-SHA256\n20150830T123600Z\n"
                          "20150830/us-east-1/service/aws4_request\n"
                          "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
        .canonical_hash = "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
        .signing_key = "938127b5336810ddb6a5d6af445fcac9e371f9ed418ed386b022aed82901be75",
        .signature = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        .authorization = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
                         "aws4_request, SignedHeaders=host;x-amz-date, "
                         "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    },
    {
        .name = "B-iam-listusers",
        .method = "GET", .path = "/", .query = "Action=ListUsers&Version=2010-05-08",
        .service = "iam",
        .headers = { "Content-Type: application/x-www-form-urlencoded; charset=utf-8",
                     "Host: iam.amazonaws.com", "X-Amz-Date: " AMZDATE, NULL },
        .canonical_request = "GET\n/\nAction=ListUsers&Version=2010-05-08\n"
                             "content-type:application/x-www-form-urlencoded; charset=utf-8\n"
                             "host:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
                             "content-type;host;x-amz-date\n"
                             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        .canonical_hash = "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59",
        .signing_key = "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9",
        .signature = "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
    },
    {
        .name = "C-route53-list",
        .method = "GET", .path = "/2013-04-01/hostedzone", .query = "maxitems=100",
        .service = "route53",
        .headers = { "Host: route53.amazonaws.com", "X-Amz-Date: " AMZDATE, NULL },
        .canonical_request = "GET\n/2013-04-01/hostedzone\nmaxitems=100\n"
                             "host:route53.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
                             "host;x-amz-date\n"
                             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        .canonical_hash = "7cfd362b291f48313508240735af583a9c551766f1776390cb497a5c4199231a",
        .signature = "e94a0f3b99c7c0de54141a4bad9971dd000e26f7a9c1aecbf7044b65e1ef21cf",
    },
    {
        .name = "D-route53-post",
        .method = "POST", .path = "/2013-04-01/hostedzone/Z1D633PJN98FT9/rrset/",
        .service = "route53",
        .headers = { "Content-Type: text/xml", "Host: route53.amazonaws.com",
                     "X-Amz-Date: " AMZDATE, NULL },
        .body = VECTOR_D_BODY,
        .canonical_request = "POST\n/2013-04-01/hostedzone/Z1D633PJN98FT9/rrset/\n\n"
                             "content-type:text/xml\nhost:route53.amazonaws.com\n"
                             "x-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n"
                             "30be5837cf1ba8bd6128b995c647607956c5c646933afb5b32b18ea5d98c3568",
        .canonical_hash = "f0a8325c68bdeee5ec9b0702470f1ebcdb1ff1dc988575cf0d73ae003097d73c",
        .signature = "b4325c70456350ac564fd4e80d668464de462dc32869a0ce0a6301ceefe3ff61",
    },
};

static void test_sigv4_vector(gconstpointer data)
{
    const sigv4_case *c = data;
    acme__sigv4_request r = { 0 };
    acme__sigv4 s;
    acme_error *err = NULL;

    r.method = c->method;
    r.path = c->path;
    r.query = c->query;
    r.headers = c->headers;
    r.payload = c->body;
    r.payload_len = c->body ? strlen(c->body) : 0;
    r.access_key = AK;
    r.secret_key = SK;
    r.region = "us-east-1";
    r.service = c->service;
    r.amzdate = AMZDATE;
    if (c->body)
        g_assert_cmpuint(strlen(c->body), ==, 483);
    dnsmock_expect(acme__sigv4_sign(&s, &r, &err), &err, ACME_OK);
    if (c->canonical_request)
        g_assert_cmpstr(s.canonical_request, ==, c->canonical_request);
    if (c->string_to_sign)
        g_assert_cmpstr(s.string_to_sign, ==, c->string_to_sign);
    g_assert_cmpstr(s.canonical_hash, ==, c->canonical_hash);
    if (c->signing_key)
        g_assert_cmpstr(s.signing_key, ==, c->signing_key);
    g_assert_cmpstr(s.signature, ==, c->signature);
    if (c->authorization)
        g_assert_cmpstr(s.authorization, ==, c->authorization);
    acme__sigv4_clear(&s);
}

static void test_sigv4_misc(void)
{
    static const unsigned char want[32] = {
        0xf7, 0xbc, 0x83, 0xf4, 0x30, 0x53, 0x84, 0x24, 0xb1, 0x32, 0x98, 0xe6, 0xaa, 0x6f, 0xb1, 0x43,
        0xef, 0x4d, 0x59, 0xa1, 0x49, 0x46, 0x17, 0x59, 0x97, 0x47, 0x9d, 0xbc, 0x2d, 0x1a, 0x3c, 0xd8,
    };
    unsigned char mac[32];
    const char *hdrs[] = { "Host:  h.example ", "X-Amz-Date: " AMZDATE, "My-Header:  a   b  c ",
                           "my-header: second", NULL };
    acme__sigv4_request r = { 0 };
    acme__sigv4 s;
    acme_error *err = NULL;
    char date[17], *enc;

    /* HMAC sanity (research notes section 6). */
    g_assert_cmpint(acme__hmac_sha256(mac, "key", 3, "The quick brown fox jumps over the lazy dog",
                                      43), ==, ACME_OK);
    g_assert_cmpmem(mac, 32, want, 32);

    acme__sigv4_amzdate(date, 1440938160);
    g_assert_cmpstr(date, ==, AMZDATE);
    enc = acme__sigv4_uri_encode("a b/~*é", strlen("a b/~*é"), 0);
    g_assert_cmpstr(enc, ==, "a%20b%2F~%2A%C3%A9");
    free(enc);
    enc = acme__sigv4_uri_encode("/a b/", 5, 1);
    g_assert_cmpstr(enc, ==, "/a%20b/");
    free(enc);

    /* Query: sorted by name then value, re-encoded (%7e and '~' are one spelling); headers
     * trimmed, inner spaces collapsed, repeated names joined with ','. */
    r.method = "GET";
    r.path = "";
    r.query = "b=2&a=z&a=y&c&d=%7e%20x";
    r.headers = hdrs;
    r.access_key = AK;
    r.secret_key = SK;
    r.region = "us-east-1";
    r.service = "route53";
    r.amzdate = AMZDATE;
    dnsmock_expect(acme__sigv4_sign(&s, &r, &err), &err, ACME_OK);
    g_assert_true(g_str_has_prefix(s.canonical_request,
                                   "GET\n/\na=y&a=z&b=2&c=&d=~%20x\nhost:h.example\n"
                                   "my-header:a b c,second\nx-amz-date:" AMZDATE "\n\n"
                                   "host;my-header;x-amz-date\n"));
    g_assert_null(strstr(s.canonical_request, SK));
    g_assert_null(strstr(s.authorization, SK));
    acme__sigv4_clear(&s);

    /* Bad input: errors, never a crash. */
    r.amzdate = "2015-08-30";
    dnsmock_expect(acme__sigv4_sign(&s, &r, &err), &err, ACME_E_INVALID);
    dnsmock_clear(&err);
    r.amzdate = AMZDATE;
    hdrs[2] = "no colon here";
    dnsmock_expect(acme__sigv4_sign(&s, &r, &err), &err, ACME_E_INVALID);
    dnsmock_clear(&err);
    r.secret_key = NULL;
    dnsmock_expect(acme__sigv4_sign(&s, &r, &err), &err, ACME_E_INVALID);
    dnsmock_clear(&err);
    dnsmock_expect(acme__sigv4_sign(&s, NULL, &err), &err, ACME_E_INVALID);
    dnsmock_clear(&err);
}

/* ================================================================== */
/* the XML reader                                                      */
/* ================================================================== */

static void test_xml(void)
{
    static const char doc[] =
        "\xef\xbb\xbf<?xml version=\"1.0\"?>\n<!-- c -->"
        "<r:Root xmlns:r=\"urn:x\" a='1' b = \"2>\"><A>x &amp; &lt;y&gt; &quot;&apos; &#65;&#x263A;"
        "</A><B/><B><![CDATA[<raw & text>]]></B>  <C><D>deep</D></C><!-- x --></r:Root>\n";
    static const char *const bad[] = {
        "", "   ", "<a>", "<a></b>", "<a>&bogus;</a>", "<a>&#0;</a>", "<a>&#xD800;</a>",
        "<a x=1></a>", "<a></a><b/>", "<!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>", "text",
        "<a><!-- open</a>", "<a><![CDATA[x</a>", "<a>&#12345678901;</a>", "<>", "<a></a",
    };
    acme__xml *x = NULL;
    acme_error *err = NULL;
    GString *deep = g_string_new(NULL);
    char *esc;

    dnsmock_expect(acme__xml_parse(&x, doc, sizeof(doc) - 1, "test", &err), &err, ACME_OK);
    g_assert_cmpstr(x->name, ==, "Root");
    g_assert_cmpuint(x->nkids, ==, 4);
    g_assert_cmpstr(acme__xml_text(x, "A"), ==, "x & <y> \"' A\xe2\x98\xba");
    g_assert_cmpstr(acme__xml_text(x, "B"), ==, "");
    g_assert_cmpstr(x->kids[2]->text, ==, "<raw & text>");
    g_assert_cmpstr(acme__xml_text(x, "C/D"), ==, "deep");
    g_assert_null(acme__xml_text(x, "C/E"));
    g_assert_null(acme__xml_text(NULL, "C"));
    acme__xml_free(x);

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        dnsmock_expect(acme__xml_parse(&x, bad[i], strlen(bad[i]), "test", &err), &err, ACME_E_PROTOCOL);
        g_assert_null(x);
        dnsmock_clear(&err);
    }
    /* Nesting is bounded. */
    for (int i = 0; i < 100; i++)
        g_string_append(deep, "<a>");
    dnsmock_expect(acme__xml_parse(&x, deep->str, deep->len, "test", &err), &err, ACME_E_PROTOCOL);
    dnsmock_clear(&err);
    g_string_free(deep, TRUE);

    esc = acme__xml_escape("\"a\" <&> 'b'");
    g_assert_cmpstr(esc, ==, "\"a\" &lt;&amp;&gt; 'b'");
    free(esc);
}

/* ================================================================== */
/* Route 53: a mock of its REST-XML API                                */
/* ================================================================== */

#define R53_AK "AKIDMOCKACCESS01"
#define R53_SK "r53-SECRET-key/never+printed"

typedef struct r53zone {
    const char *id, *name;
    bool is_private;
} r53zone;

static const r53zone r53_zones[] = {
    { "Z1D633PJN98FT9", "example.com.", false },
    { "ZPRIVATE000001", "example.com.", true },
    { "ZSUB0000000001", "sub.example.com.", false },
    { "ZORG0000000001", "example.org.", false },
};

typedef struct r53rrset {
    char *zone, *name;   /* zone id, "_acme-challenge.example.com." */
    unsigned long ttl;
    GPtrArray *values;   /* stored form: quoted */
} r53rrset;

typedef struct mockr53 {
    mockhttp *m;
    GMutex lock;
    GPtrArray *sets;            /* of r53rrset * */
    GHashTable *changes;        /* change id -> polls left before INSYNC (GUINT) */
    unsigned int next_change;
    unsigned int pending_polls; /* a new change stays PENDING for this many GetChange */
    /* Fault switches, for the next request only when set. */
    unsigned int fault_status;
    const char *fault_body;
    const char *fault_headers;
    unsigned int bad_signatures; /* requests whose signature did not verify */
    GString *problems;           /* request checks that failed (reported by the test) */
} mockr53;

static void r53rrset_free(gpointer p)
{
    r53rrset *s = p;

    g_free(s->zone);
    g_free(s->name);
    g_ptr_array_free(s->values, TRUE);
    g_free(s);
}

static r53rrset *r53_find(mockr53 *mr, const char *zone, const char *name)
{
    for (size_t i = 0; i < mr->sets->len; i++) {
        r53rrset *s = mr->sets->pdata[i];

        if (strcmp(s->zone, zone) == 0 && g_ascii_strcasecmp(s->name, name) == 0)
            return s;
    }
    return NULL;
}

static void problem(mockr53 *mr, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void problem(mockr53 *mr, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_string_append_vprintf(mr->problems, fmt, ap);
    g_string_append_c(mr->problems, '\n');
    va_end(ap);
}

static void r53_err(mockr53 *mr, mockhttp_response *out, unsigned int status, const char *code,
                    const char *msg)
{
    out->status = status;
    out->content_type = "text/xml";
    out->body = mockhttp_strdup(mr->m,
                                "<?xml version=\"1.0\"?>\n<ErrorResponse xmlns=\"https://route53."
                                "amazonaws.com/doc/2013-04-01/\"><Error><Type>Sender</Type>"
                                "<Code>%s</Code><Message>%s</Message></Error>"
                                "<RequestId>b3d152ee-4c60</RequestId></ErrorResponse>",
                                code, msg);
}

/*
 * Verify the request's SigV4 signature the way AWS does: recompute it
 * from the method, path, query, the headers named in SignedHeaders and
 * the body, with the secret we know.
 */
static bool r53_verify(mockr53 *mr, const mockhttp_request *req)
{
    const char *auth = mockhttp_request_header(req, "Authorization");
    const char *date = mockhttp_request_header(req, "X-Amz-Date");
    char **parts, *cred = NULL, *signed_h = NULL, *sig = NULL, *scope;
    GPtrArray *hdrs = g_ptr_array_new_with_free_func(g_free);
    GString *query = g_string_new(NULL);
    acme__sigv4_request r = { 0 };
    acme__sigv4 s;
    bool ok = false;

    if (!auth || !date || !g_str_has_prefix(auth, "AWS4-HMAC-SHA256 "))
        goto out;
    parts = g_strsplit(auth + strlen("AWS4-HMAC-SHA256 "), ", ", -1);
    for (char **p = parts; *p; p++) {
        if (g_str_has_prefix(*p, "Credential="))
            cred = g_strdup(*p + 11);
        else if (g_str_has_prefix(*p, "SignedHeaders="))
            signed_h = g_strdup(*p + 14);
        else if (g_str_has_prefix(*p, "Signature="))
            sig = g_strdup(*p + 10);
    }
    g_strfreev(parts);
    if (!cred || !signed_h || !sig)
        goto out;
    /* The scope: today's date from X-Amz-Date, us-east-1, route53. */
    scope = g_strdup_printf(R53_AK "/%.8s/us-east-1/route53/aws4_request", date);
    if (strcmp(cred, scope) != 0)
        problem(mr, "credential scope %s, want %s", cred, scope);
    g_free(scope);
    /* Host and X-Amz-Date always signed; Content-Type with a body; a session token. */
    {
        char *want = g_strdup_printf("%shost;x-amz-date%s", req->body_len ? "content-type;" : "",
                                     mockhttp_request_header(req, "X-Amz-Security-Token")
                                         ? ";x-amz-security-token"
                                         : "");

        if (strcmp(signed_h, want) != 0)
            problem(mr, "signed headers %s on %s %s", signed_h, req->method, req->path);
        g_free(want);
    }
    {
        char **names = g_strsplit(signed_h, ";", -1);

        for (char **n = names; *n; n++) {
            const char *v = mockhttp_request_header(req, *n);

            g_ptr_array_add(hdrs, g_strdup_printf("%s: %s", *n, v ? v : ""));
        }
        g_strfreev(names);
    }
    g_ptr_array_add(hdrs, NULL);
    for (size_t i = 0; i < req->nquery; i++) {
        char *n = acme__sigv4_uri_encode(req->query_names[i], strlen(req->query_names[i]), 0);
        char *v = acme__sigv4_uri_encode(req->query_values[i], strlen(req->query_values[i]), 0);

        g_string_append_printf(query, "%s%s=%s", i ? "&" : "", n, v);
        free(n);
        free(v);
    }
    r.method = req->method;
    r.path = req->path;
    r.query = query->str;
    r.headers = (const char *const *)hdrs->pdata;
    r.payload = req->body;
    r.payload_len = req->body_len;
    r.access_key = R53_AK;
    r.secret_key = R53_SK;
    r.region = "us-east-1";
    r.service = "route53";
    r.amzdate = date;
    if (acme__sigv4_sign(&s, &r, NULL) == ACME_OK) {
        ok = strcmp(s.signature, sig) == 0;
        acme__sigv4_clear(&s);
    }
out:
    g_free(cred);
    g_free(signed_h);
    g_free(sig);
    g_ptr_array_free(hdrs, TRUE);
    g_string_free(query, TRUE);
    return ok;
}

static void r53_list_hosted(mockr53 *mr, const mockhttp_request *req, mockhttp_response *out)
{
    const char *marker = mockhttp_request_query(req, "marker");
    const char *maxitems = mockhttp_request_query(req, "maxitems");
    size_t start = 0;
    GString *s = g_string_new("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                              "<ListHostedZonesResponse xmlns=\"https://route53.amazonaws.com/"
                              "doc/2013-04-01/\"><HostedZones>");

    if (g_strcmp0(maxitems, "100") != 0)
        problem(mr, "maxitems=%s", maxitems ? maxitems : "(none)");
    if (marker) {
        while (start < G_N_ELEMENTS(r53_zones) && strcmp(r53_zones[start].id, marker) != 0)
            start++;
        if (start == G_N_ELEMENTS(r53_zones))
            problem(mr, "unknown marker %s", marker);
    }
    /* Tiny pages: one zone each, whatever maxitems says. */
    if (start < G_N_ELEMENTS(r53_zones))
        g_string_append_printf(s,
                               "<HostedZone><Id>/hostedzone/%s</Id><Name>%s</Name>"
                               "<CallerReference>ref</CallerReference><Config><Comment>c</Comment>"
                               "<PrivateZone>%s</PrivateZone></Config>"
                               "<ResourceRecordSetCount>4</ResourceRecordSetCount></HostedZone>",
                               r53_zones[start].id, r53_zones[start].name,
                               r53_zones[start].is_private ? "true" : "false");
    g_string_append(s, "</HostedZones>");
    if (start + 1 < G_N_ELEMENTS(r53_zones))
        g_string_append_printf(s, "<IsTruncated>true</IsTruncated><NextMarker>%s</NextMarker>",
                               r53_zones[start + 1].id);
    else
        g_string_append(s, "<IsTruncated>false</IsTruncated>");
    g_string_append(s, "<MaxItems>1</MaxItems></ListHostedZonesResponse>");
    out->content_type = "text/xml";
    out->body = mockhttp_strdup(mr->m, "%s", s->str);
    g_string_free(s, TRUE);
}

static void r53_list_rrsets(mockr53 *mr, const char *zone, const mockhttp_request *req,
                            mockhttp_response *out)
{
    const char *name = mockhttp_request_query(req, "name");
    const char *type = mockhttp_request_query(req, "type");
    r53rrset *set = name ? r53_find(mr, zone, name) : NULL;
    GString *s = g_string_new("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                              "<ListResourceRecordSetsResponse xmlns=\"https://route53.amazonaws."
                              "com/doc/2013-04-01/\"><ResourceRecordSets>");

    if (!name || g_strcmp0(type, "TXT") != 0 || g_strcmp0(mockhttp_request_query(req, "maxitems"), "1"))
        problem(mr, "rrset list query name=%s type=%s", name ? name : "-", type ? type : "-");
    if (set) {
        g_string_append_printf(s,
                               "<ResourceRecordSet><Name>%s</Name><Type>TXT</Type><TTL>%lu</TTL>"
                               "<ResourceRecords>",
                               set->name, set->ttl);
        for (size_t i = 0; i < set->values->len; i++) {
            char *esc = g_markup_escape_text(set->values->pdata[i], -1);

            g_string_append_printf(s, "<ResourceRecord><Value>%s</Value></ResourceRecord>", esc);
            g_free(esc);
        }
        g_string_append(s, "</ResourceRecords></ResourceRecordSet>");
    } else {
        /* The list starts at the name: with none there, the next RRset in order comes. */
        g_string_append(s, "<ResourceRecordSet><Name>_acme-challenge.zzz.example.com.</Name>"
                           "<Type>TXT</Type><TTL>300</TTL><ResourceRecords><ResourceRecord>"
                           "<Value>\"not-ours\"</Value></ResourceRecord></ResourceRecords>"
                           "</ResourceRecordSet>");
    }
    g_string_append(s, "</ResourceRecordSets><IsTruncated>false</IsTruncated>"
                       "<MaxItems>1</MaxItems></ListResourceRecordSetsResponse>");
    out->content_type = "text/xml";
    out->body = mockhttp_strdup(mr->m, "%s", s->str);
    g_string_free(s, TRUE);
}

/* ChangeResourceRecordSets: validate the whole batch, then apply it. */
static void r53_change(mockr53 *mr, const char *zone, const mockhttp_request *req,
                       mockhttp_response *out)
{
    acme__xml *x = NULL;
    const acme__xml *changes;
    const char *ct = mockhttp_request_header(req, "Content-Type");

    if (g_strcmp0(ct, "text/xml") != 0)
        problem(mr, "POST Content-Type %s", ct ? ct : "(none)");
    if (!g_str_has_prefix(req->body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                                     "<ChangeResourceRecordSetsRequest xmlns=\"https://route53."
                                     "amazonaws.com/doc/2013-04-01/\">"))
        problem(mr, "POST body start: %.80s", req->body);
    if (acme__xml_parse(&x, req->body, req->body_len, "request", NULL) != ACME_OK ||
        strcmp(x->name, "ChangeResourceRecordSetsRequest") != 0 ||
        !(changes = acme__xml_child(acme__xml_child(x, "ChangeBatch"), "Changes"))) {
        acme__xml_free(x);
        r53_err(mr, out, 400, "MalformedInput", "Could not parse the request");
        return;
    }
    for (size_t i = 0; i < changes->nkids; i++) {
        const acme__xml *c = changes->kids[i];
        const char *action = acme__xml_text(c, "Action");
        const char *name = acme__xml_text(c, "ResourceRecordSet/Name");
        const char *type = acme__xml_text(c, "ResourceRecordSet/Type");
        const char *ttl = acme__xml_text(c, "ResourceRecordSet/TTL");
        const acme__xml *recs = acme__xml_child(acme__xml_child(c, "ResourceRecordSet"),
                                                "ResourceRecords");
        r53rrset *set;

        if (!action || !name || g_strcmp0(type, "TXT") != 0 || !ttl || !recs || !recs->nkids) {
            r53_err(mr, out, 400, "InvalidInput", "Invalid XML ; incomplete change");
            break;
        }
        for (size_t j = 0; j < recs->nkids; j++) {
            const char *v = acme__xml_text(recs->kids[j], "Value");

            if (!v || v[0] != '"' || !g_str_has_suffix(v, "\""))
                problem(mr, "unquoted TXT value %s", v ? v : "(none)");
        }
        set = r53_find(mr, zone, name);
        if (strcmp(action, "DELETE") == 0) {
            bool same = set && set->ttl == strtoul(ttl, NULL, 10) &&
                        set->values->len == recs->nkids;

            for (size_t j = 0; same && j < recs->nkids; j++)
                same = strcmp(set->values->pdata[j], acme__xml_text(recs->kids[j], "Value")) == 0;
            if (!set) {
                r53_err(mr, out, 400, "InvalidChangeBatch",
                        "Tried to delete resource record set [name='x', type='TXT'] but it was "
                        "not found");
                break;
            }
            if (!same) {
                r53_err(mr, out, 400, "InvalidChangeBatch",
                        "Tried to delete resource record set but the values provided do not "
                        "match the current values");
                break;
            }
            g_ptr_array_remove(mr->sets, set);
        } else if (strcmp(action, "UPSERT") == 0) {
            if (!set) {
                set = g_new0(r53rrset, 1);
                set->zone = g_strdup(zone);
                set->name = g_strdup(name);
                set->values = g_ptr_array_new_with_free_func(g_free);
                g_ptr_array_add(mr->sets, set);
            }
            set->ttl = strtoul(ttl, NULL, 10);
            g_ptr_array_set_size(set->values, 0);
            for (size_t j = 0; j < recs->nkids; j++)
                g_ptr_array_add(set->values, g_strdup(acme__xml_text(recs->kids[j], "Value")));
        } else {
            r53_err(mr, out, 400, "InvalidInput", "unexpected action");
            break;
        }
    }
    acme__xml_free(x);
    if (out->status)
        return;
    mr->next_change++;
    g_hash_table_insert(mr->changes, g_strdup_printf("C%04u", mr->next_change),
                        GUINT_TO_POINTER(mr->pending_polls));
    out->content_type = "text/xml";
    out->body = mockhttp_strdup(mr->m,
                                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                                "<ChangeResourceRecordSetsResponse xmlns=\"https://route53."
                                "amazonaws.com/doc/2013-04-01/\"><ChangeInfo><Id>/change/C%04u</Id>"
                                "<Status>PENDING</Status><SubmittedAt>2016-02-10T01:36:41.958Z"
                                "</SubmittedAt></ChangeInfo></ChangeResourceRecordSetsResponse>",
                                mr->next_change);
}

static void r53_handler(void *userdata, const mockhttp_request *req, mockhttp_response *out)
{
    mockr53 *mr = userdata;
    const char *host = mockhttp_request_header(req, "Host");
    char **seg;
    size_t n;

    g_mutex_lock(&mr->lock);
    if (!host || !g_str_has_prefix(host, "127.0.0.1:"))
        problem(mr, "Host header %s", host ? host : "(none)");
    if (!r53_verify(mr, req)) {
        mr->bad_signatures++;
        r53_err(mr, out, 403, "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. "
                "Check your AWS Secret Access Key and signing method.");
        goto out;
    }
    if (mr->fault_status) {
        out->status = mr->fault_status;
        out->content_type = "text/xml";
        out->headers = mr->fault_headers;
        out->body = mr->fault_body;
        mr->fault_status = 0;
        goto out;
    }
    if (!g_str_has_prefix(req->path, "/2013-04-01/")) {
        r53_err(mr, out, 404, "UnknownOperationException", "no such path");
        goto out;
    }
    seg = g_strsplit(req->path + strlen("/2013-04-01/"), "/", -1);
    n = g_strv_length(seg);
    if (!strcmp(req->method, "GET") && n == 1 && !strcmp(seg[0], "hostedzone")) {
        r53_list_hosted(mr, req, out);
    } else if (!strcmp(req->method, "GET") && n == 2 && !strcmp(seg[0], "hostedzone")) {
        size_t i = 0;

        while (i < G_N_ELEMENTS(r53_zones) && strcmp(r53_zones[i].id, seg[1]) != 0)
            i++;
        if (i == G_N_ELEMENTS(r53_zones)) {
            r53_err(mr, out, 404, "NoSuchHostedZone", "No hosted zone found with ID");
        } else {
            out->content_type = "text/xml";
            out->body = mockhttp_strdup(
                mr->m,
                "<GetHostedZoneResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\">"
                "<HostedZone><Id>/hostedzone/%s</Id><Name>%s</Name><Config><PrivateZone>%s"
                "</PrivateZone></Config></HostedZone><DelegationSet/></GetHostedZoneResponse>",
                r53_zones[i].id, r53_zones[i].name, r53_zones[i].is_private ? "true" : "false");
        }
    } else if (!strcmp(req->method, "GET") && n == 3 && !strcmp(seg[0], "hostedzone") &&
               !strcmp(seg[2], "rrset")) {
        r53_list_rrsets(mr, seg[1], req, out);
    } else if (!strcmp(req->method, "POST") && n == 4 && !strcmp(seg[0], "hostedzone") &&
               !strcmp(seg[2], "rrset") && !*seg[3]) {
        r53_change(mr, seg[1], req, out);
    } else if (!strcmp(req->method, "GET") && n == 2 && !strcmp(seg[0], "change")) {
        gpointer left;

        if (!g_hash_table_lookup_extended(mr->changes, seg[1], NULL, &left)) {
            r53_err(mr, out, 404, "NoSuchChange", "A change with the specified change ID does "
                                                  "not exist.");
        } else {
            guint l = GPOINTER_TO_UINT(left);

            if (l > 0 && l != G_MAXUINT)
                g_hash_table_insert(mr->changes, g_strdup(seg[1]), GUINT_TO_POINTER(l - 1));
            out->content_type = "text/xml";
            out->body = mockhttp_strdup(
                mr->m,
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<GetChangeResponse xmlns=\"https://"
                "route53.amazonaws.com/doc/2013-04-01/\"><ChangeInfo><Id>/change/%s</Id>"
                "<Status>%s</Status><SubmittedAt>2016-02-10T01:36:41.958Z</SubmittedAt>"
                "</ChangeInfo></GetChangeResponse>",
                seg[1], l ? "PENDING" : "INSYNC");
        }
    } else {
        r53_err(mr, out, 404, "UnknownOperationException", "no such operation");
    }
    g_strfreev(seg);
out:
    g_mutex_unlock(&mr->lock);
}

static mockr53 *mockr53_new(void)
{
    mockr53 *mr = g_new0(mockr53, 1);

    g_mutex_init(&mr->lock);
    mr->sets = g_ptr_array_new_with_free_func(r53rrset_free);
    mr->changes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    mr->problems = g_string_new(NULL);
    mr->m = mockhttp_new();
    mockhttp_set_handler(mr->m, r53_handler, mr);
    return mr;
}

static void mockr53_free(mockr53 *mr)
{
    mockhttp_free(mr->m);
    /* Every request was as documented. */
    g_assert_cmpstr(mr->problems->str, ==, "");
    g_string_free(mr->problems, TRUE);
    g_ptr_array_free(mr->sets, TRUE);
    g_hash_table_destroy(mr->changes);
    g_mutex_clear(&mr->lock);
    g_free(mr);
}

/* The values at @p name in @p zone, unquoted, joined with ','; "" when none. */
static char *r53_values(mockr53 *mr, const char *zone, const char *name)
{
    GString *s = g_string_new(NULL);
    r53rrset *set;

    g_mutex_lock(&mr->lock);
    if ((set = r53_find(mr, zone, name)))
        for (size_t i = 0; i < set->values->len; i++) {
            char *plain = acme__dns_txt_unquote(set->values->pdata[i]);

            g_string_append_printf(s, "%s%s", i ? "," : "", plain);
            free(plain);
        }
    g_mutex_unlock(&mr->lock);
    return g_string_free(s, FALSE);
}

static acme_dns_provider *r53_provider(mockr53 *mr, const char *secret, dnsmock_log *log,
                                       const char *extra)
{
    acme_dns_provider_options o = ACME_DNS_PROVIDER_OPTIONS_INIT;
    acme_dns_provider *p = NULL;
    acme_error *err = NULL;
    char *url = mockhttp_url(mr->m, "");
    char *s_url = g_strdup_printf("base_url=%s", url);
    char *s_secret = g_strdup_printf("secret_access_key=%s", secret);
    const char *settings[] = { s_url, s_secret, "polling_interval=0", extra, NULL };
    const char *env[] = { "AWS_ACCESS_KEY_ID=" R53_AK, "AWS_REGION=eu-west-1", NULL };

    o.settings = settings;
    o.environ = env;
    if (log) {
        o.log = dnsmock_log_cb;
        o.log_userdata = log;
        o.log_level = ACME_LOG_DEBUG;
    }
    dnsmock_expect(acme_dns_provider_new(&p, "aws", &o, &err), &err, ACME_OK);
    g_assert_cmpstr(acme_dns_provider_name(p), ==, "route53");
    g_free(url);
    g_free(s_url);
    g_free(s_secret);
    return p;
}

static const mockhttp_request *last_request(mockhttp *m)
{
    return mockhttp_request_get(m, mockhttp_request_count(m) - 1);
}

static void test_r53_zones(void)
{
    mockr53 *mr = mockr53_new();
    dnsmock_log *log = dnsmock_log_new();
    acme_dns_provider *p = r53_provider(mr, R53_SK, log, NULL);
    acme_dns_zone_list l = ACME_DNS_ZONE_LIST_INIT;
    acme_error *err = NULL;
    char *zone = NULL;

    /* Through the vtable: four pages of one zone, the private one left out. */
    dnsmock_expect(p->ops->list_zones(p->self, &l, &err), &err, ACME_OK);
    g_assert_cmpuint(l.n, ==, 3);
    g_assert_cmpstr(l.v[0].id, ==, "Z1D633PJN98FT9");
    g_assert_cmpstr(l.v[0].name, ==, "example.com");
    g_assert_false(l.v[0].is_private);
    g_assert_cmpstr(l.v[1].id, ==, "ZSUB0000000001");
    g_assert_cmpstr(l.v[1].name, ==, "sub.example.com");
    g_assert_cmpstr(l.v[2].name, ==, "example.org");
    acme_dns_zone_list_clear(&l);
    g_assert_cmpuint(mockhttp_request_count(mr->m), ==, 4);
    g_assert_null(mockhttp_request_query(mockhttp_request_get(mr->m, 0), "marker"));
    g_assert_cmpstr(mockhttp_request_query(mockhttp_request_get(mr->m, 1), "marker"), ==,
                    "ZPRIVATE000001");
    g_assert_cmpstr(mockhttp_request_query(mockhttp_request_get(mr->m, 3), "marker"), ==,
                    "ZORG0000000001");
    g_assert_cmpstr(mockhttp_request_get(mr->m, 0)->path, ==, "/2013-04-01/hostedzone");
    g_assert_cmpstr(mockhttp_request_get(mr->m, 0)->method, ==, "GET");

    /* Auto-detection through the core: the longest zone wins. */
    dnsmock_expect(acme_dns_provider_find_zone(&zone, p, "_acme-challenge.www.sub.example.com", &err),
           &err, ACME_OK);
    g_assert_cmpstr(zone, ==, "sub.example.com");
    acme_free(zone);
    dnsmock_expect(acme_dns_provider_find_zone(&zone, p, "_acme-challenge.badexample.com", &err), &err,
           ACME_E_ZONENOTFOUND);
    dnsmock_clear(&err);
    acme_dns_provider_free(p);

    /* Private zones only, on request. */
    p = r53_provider(mr, R53_SK, log, "private_zone=true");
    dnsmock_expect(p->ops->list_zones(p->self, &l, &err), &err, ACME_OK);
    g_assert_cmpuint(l.n, ==, 1);
    g_assert_cmpstr(l.v[0].id, ==, "ZPRIVATE000001");
    g_assert_true(l.v[0].is_private);
    acme_dns_zone_list_clear(&l);
    acme_dns_provider_free(p);

    /* A configured hosted zone id: GetHostedZone, no listing. */
    p = r53_provider(mr, R53_SK, log, "hosted_zone_id=/hostedzone/ZSUB0000000001");
    dnsmock_expect(p->ops->list_zones(p->self, &l, &err), &err, ACME_OK);
    g_assert_cmpuint(l.n, ==, 1);
    g_assert_cmpstr(l.v[0].name, ==, "sub.example.com");
    g_assert_cmpstr(last_request(mr->m)->path, ==, "/2013-04-01/hostedzone/ZSUB0000000001");
    acme_dns_zone_list_clear(&l);
    acme_dns_provider_free(p);
    p = r53_provider(mr, R53_SK, log, "hosted_zone_id=ZNOSUCHZONE");
    dnsmock_expect(p->ops->list_zones(p->self, &l, &err), &err, ACME_E_ZONENOTFOUND);
    g_assert_cmpint(acme_error_http_status(err), ==, 404);
    dnsmock_clear(&err);
    acme_dns_zone_list_clear(&l);
    acme_dns_provider_free(p);

    g_assert_cmpuint(mr->bad_signatures, ==, 0);
    dnsmock_assert_no_secret(NULL, log, R53_SK);
    dnsmock_assert_no_secret(NULL, log, R53_AK);
    g_assert_cmpuint(log->lines, >, 0);
    dnsmock_log_free(log);
    mockr53_free(mr);
}

#define V1 "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"
#define V2 "second-value-for-the-wildcard-authorizatio"

static void test_r53_txt(void)
{
    mockr53 *mr = mockr53_new();
    dnsmock_log *log = dnsmock_log_new();
    acme_dns_provider *p = r53_provider(mr, R53_SK, log, NULL);
    acme_dns_zone zone = { .id = "Z1D633PJN98FT9", .name = "example.com" };
    acme_dns_txt txt = { .fqdn = "_acme-challenge.example.com", .value = V1, .ttl = 60,
                         .zone = &zone, .relative = "_acme-challenge" };
    acme_error *err = NULL;
    const mockhttp_request *req;
    char *handle = NULL, *s;
    size_t n;

    /* Add one value: read the RRset (the next one comes back: not ours), then UPSERT. */
    dnsmock_expect(p->ops->create_txt(p->self, &txt, &handle, &err), &err, ACME_OK);
    g_assert_cmpstr(handle, ==, "C0001");
    g_assert_cmpuint(mockhttp_request_count(mr->m), ==, 2);
    req = mockhttp_request_get(mr->m, 0);
    g_assert_cmpstr(req->method, ==, "GET");
    g_assert_cmpstr(req->path, ==, "/2013-04-01/hostedzone/Z1D633PJN98FT9/rrset");
    g_assert_cmpstr(mockhttp_request_query(req, "name"), ==, "_acme-challenge.example.com.");
    g_assert_cmpstr(mockhttp_request_query(req, "type"), ==, "TXT");
    req = mockhttp_request_get(mr->m, 1);
    g_assert_cmpstr(req->method, ==, "POST");
    g_assert_cmpstr(req->path, ==, "/2013-04-01/hostedzone/Z1D633PJN98FT9/rrset/");
    g_assert_cmpstr(mockhttp_request_header(req, "Content-Type"), ==, "text/xml");
    /* The body is byte for byte the one of SigV4 vector D. */
    g_assert_cmpstr(req->body, ==, VECTOR_D_BODY);
    s = r53_values(mr, "Z1D633PJN98FT9", "_acme-challenge.example.com.");
    g_assert_cmpstr(s, ==, V1);
    g_free(s);

    /* wait_applied: GetChange while PENDING, until INSYNC. */
    mr->pending_polls = 2;
    n = mockhttp_request_count(mr->m);
    dnsmock_expect(p->ops->wait_applied(p->self, handle, 60000, &err), &err, ACME_OK);
    /* C0001 was made with pending_polls 0: one poll. */
    g_assert_cmpuint(mockhttp_request_count(mr->m), ==, n + 1);
    g_assert_cmpstr(last_request(mr->m)->path, ==, "/2013-04-01/change/C0001");
    free(handle);
    handle = NULL;

    /* The wildcard's value at the same name: UPSERT with both, the first byte for byte. */
    txt.value = V2;
    dnsmock_expect(p->ops->create_txt(p->self, &txt, &handle, &err), &err, ACME_OK);
    g_assert_cmpstr(handle, ==, "C0002");
    req = last_request(mr->m);
    g_assert_nonnull(strstr(req->body, "<TTL>60</TTL><ResourceRecords><ResourceRecord><Value>\""
                                       V1 "\"</Value></ResourceRecord><ResourceRecord><Value>\""
                                       V2 "\"</Value></ResourceRecord></ResourceRecords>"));
    s = r53_values(mr, "Z1D633PJN98FT9", "_acme-challenge.example.com.");
    g_assert_cmpstr(s, ==, V1 "," V2);
    g_free(s);
    n = mockhttp_request_count(mr->m);
    dnsmock_expect(p->ops->wait_applied(p->self, handle, 60000, &err), &err, ACME_OK);
    g_assert_cmpuint(mockhttp_request_count(mr->m), ==, n + 3); /* PENDING, PENDING, INSYNC */
    free(handle);
    handle = NULL;

    /* Idempotent: a value already there changes nothing. */
    n = mockhttp_request_count(mr->m);
    dnsmock_expect(p->ops->create_txt(p->self, &txt, &handle, &err), &err, ACME_OK);
    g_assert_null(handle);
    g_assert_cmpuint(mockhttp_request_count(mr->m), ==, n + 1);

    /* Remove the first: the other stays (UPSERT of the rest). */
    txt.value = V1;
    txt.ttl = 10;
    dnsmock_expect(p->ops->delete_txt(p->self, &txt, NULL, &err), &err, ACME_OK);
    req = last_request(mr->m);
    g_assert_cmpstr(req->method, ==, "POST");
    g_assert_nonnull(strstr(req->body, "<Action>UPSERT</Action>"));
    g_assert_nonnull(strstr(req->body, "<TTL>60</TTL>")); /* the set's TTL, not ours */
    s = r53_values(mr, "Z1D633PJN98FT9", "_acme-challenge.example.com.");
    g_assert_cmpstr(s, ==, V2);
    g_free(s);

    /* Remove the last: DELETE of the exact set. */
    txt.value = V2;
    dnsmock_expect(p->ops->delete_txt(p->self, &txt, NULL, &err), &err, ACME_OK);
    req = last_request(mr->m);
    g_assert_cmpstr(req->body, ==,
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                    "<ChangeResourceRecordSetsRequest xmlns=\"https://route53.amazonaws.com/doc/"
                    "2013-04-01/\"><ChangeBatch><Changes><Change><Action>DELETE</Action>"
                    "<ResourceRecordSet><Name>_acme-challenge.example.com.</Name><Type>TXT</Type>"
                    "<TTL>60</TTL><ResourceRecords><ResourceRecord><Value>\"" V2 "\"</Value>"
                    "</ResourceRecord></ResourceRecords></ResourceRecordSet></Change></Changes>"
                    "</ChangeBatch></ChangeResourceRecordSetsRequest>");
    g_assert_cmpuint(mr->sets->len, ==, 0);

    /* Absent: success, with a read and no change. */
    n = mockhttp_request_count(mr->m);
    dnsmock_expect(p->ops->delete_txt(p->self, &txt, NULL, &err), &err, ACME_OK);
    g_assert_cmpuint(mockhttp_request_count(mr->m), ==, n + 1);
    g_assert_cmpstr(last_request(mr->m)->method, ==, "GET");

    /* A change that never gets INSYNC: ACME_E_TIMEOUT at the deadline (0 here). */
    mr->pending_polls = G_MAXUINT;
    dnsmock_expect(p->ops->create_txt(p->self, &txt, &handle, &err), &err, ACME_OK);
    dnsmock_expect(p->ops->wait_applied(p->self, handle, 0, &err), &err, ACME_E_TIMEOUT);
    dnsmock_clear(&err);
    free(handle);
    handle = NULL;
    /* An unknown change: NOTFOUND. */
    dnsmock_expect(p->ops->wait_applied(p->self, "C9999", 1000, &err), &err, ACME_E_NOTFOUND);
    dnsmock_clear(&err);
    acme_dns_provider_free(p);

    /* wait_for_changes=false: no polling at all. */
    p = r53_provider(mr, R53_SK, log, "wait_for_changes=false");
    n = mockhttp_request_count(mr->m);
    dnsmock_expect(p->ops->wait_applied(p->self, "C0001", 0, &err), &err, ACME_OK);
    g_assert_cmpuint(mockhttp_request_count(mr->m), ==, n);
    acme_dns_provider_free(p);

    g_assert_cmpuint(mr->bad_signatures, ==, 0);
    dnsmock_assert_no_secret(NULL, log, R53_SK);
    dnsmock_log_free(log);
    mockr53_free(mr);
}

typedef struct fault_case {
    const char *name;
    unsigned int status;
    const char *headers;
    const char *body;
    int code;
    int64_t retry_after;
    const char *detail;     /* NULL: not checked */
} fault_case;

static const fault_case r53_faults[] = {
    { "throttling", 400, NULL,
      "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded"
      "</Message></Error></ErrorResponse>",
      ACME_E_RATELIMITED, -1, "Throttling: Rate exceeded" },
    { "prior-request", 400, NULL,
      "<ErrorResponse><Error><Code>PriorRequestNotComplete</Code><Message>busy</Message>"
      "</Error></ErrorResponse>",
      ACME_E_RATELIMITED, -1, "PriorRequestNotComplete: busy" },
    { "429", 429, "Retry-After: 120",
      "<ErrorResponse><Error><Code>TooManyRequests</Code><Message>slow down</Message></Error>"
      "</ErrorResponse>",
      ACME_E_RATELIMITED, 120, NULL },
    { "invalid-change-batch", 400, NULL,
      "<InvalidChangeBatch xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><Messages>"
      "<Message>Tried to create resource record set but it already exists</Message></Messages>"
      "</InvalidChangeBatch>",
      ACME_E_REJECTED, -1,
      "InvalidChangeBatch: Tried to create resource record set but it already exists" },
    { "access-denied", 403, NULL,
      "<ErrorResponse><Error><Code>AccessDenied</Code><Message>User: arn:aws:iam::1:user/x is "
      "not authorized</Message></Error></ErrorResponse>",
      ACME_E_AUTH, -1, NULL },
    { "500", 500, NULL,
      "<ErrorResponse><Error><Code>InternalFailure</Code><Message>oops</Message></Error>"
      "</ErrorResponse>",
      ACME_E_NETWORK, -1, NULL },
    { "502-html", 502, NULL, "<html><body>Bad Gateway", ACME_E_NETWORK, -1, NULL },
    { "malformed-200", 200, NULL, "<ListResourceRecordSetsResponse><ResourceRecordSets>",
      ACME_E_PROTOCOL, -1, NULL },
    { "echoes-secret", 400, NULL,
      "<ErrorResponse><Error><Code>InvalidInput</Code><Message>bad key " R53_SK "</Message>"
      "</Error></ErrorResponse>",
      ACME_E_REJECTED, -1, "InvalidInput: bad key [redacted]" },
};

static void test_r53_fault(gconstpointer data)
{
    const fault_case *c = data;
    mockr53 *mr = mockr53_new();
    dnsmock_log *log = dnsmock_log_new();
    acme_dns_provider *p = r53_provider(mr, R53_SK, log, NULL);
    acme_dns_zone zone = { .id = "Z1D633PJN98FT9", .name = "example.com" };
    acme_dns_txt txt = { .fqdn = "_acme-challenge.example.com", .value = V1, .ttl = 60,
                         .zone = &zone, .relative = "_acme-challenge" };
    acme_error *err = NULL;
    char *handle = NULL;

    mr->fault_status = c->status;
    mr->fault_headers = c->headers;
    mr->fault_body = c->body;
    dnsmock_expect(p->ops->create_txt(p->self, &txt, &handle, &err), &err, c->code);
    g_assert_null(handle);
    if (c->status != 200)
        g_assert_cmpint(acme_error_http_status(err), ==, c->status);
    g_assert_cmpint(acme_error_retry_after(err), ==, c->retry_after);
    if (c->detail)
        g_assert_cmpstr(acme_error_detail(err), ==, c->detail);
    if (c->code == ACME_E_RATELIMITED || c->code == ACME_E_NETWORK)
        g_assert_true(acme_error_retryable(err));
    dnsmock_assert_no_secret(err, log, R53_SK);
    dnsmock_assert_no_secret(err, log, R53_AK);
    dnsmock_clear(&err);
    /* Nothing was written. */
    g_assert_cmpuint(mr->sets->len, ==, 0);
    acme_dns_provider_free(p);
    dnsmock_log_free(log);
    mockr53_free(mr);
}

static void test_r53_auth(void)
{
    mockr53 *mr = mockr53_new();
    dnsmock_log *log = dnsmock_log_new();
    acme_dns_provider *p = r53_provider(mr, "wrong-" R53_SK, log, "session_token=SESSION-tok-123");
    acme_dns_zone_list l = ACME_DNS_ZONE_LIST_INIT;
    acme_error *err = NULL;
    const mockhttp_request *req;

    /* A wrong secret: the mock's signature differs -> 403 SignatureDoesNotMatch -> AUTH. */
    dnsmock_expect(p->ops->list_zones(p->self, &l, &err), &err, ACME_E_AUTH);
    g_assert_cmpint(acme_error_http_status(err), ==, 403);
    g_assert_true(g_str_has_prefix(acme_error_detail(err), "SignatureDoesNotMatch: "));
    g_assert_false(acme_error_retryable(err));
    dnsmock_assert_no_secret(err, log, R53_SK);
    dnsmock_assert_no_secret(err, log, "SESSION-tok-123");
    dnsmock_clear(&err);
    g_assert_cmpuint(mr->bad_signatures, ==, 1);
    /* The session token is sent, and signed. */
    req = last_request(mr->m);
    g_assert_cmpstr(mockhttp_request_header(req, "X-Amz-Security-Token"), ==, "SESSION-tok-123");
    g_assert_nonnull(strstr(mockhttp_request_header(req, "Authorization"),
                            "SignedHeaders=host;x-amz-date;x-amz-security-token,"));
    acme_dns_zone_list_clear(&l);
    /* The same through the core: no retry for AUTH. */
    dnsmock_expect(acme_dns_provider_txt_add(p, "_acme-challenge.example.com", V1, 0, &err), &err,
           ACME_E_AUTH);
    dnsmock_assert_no_secret(err, log, R53_SK);
    dnsmock_clear(&err);
    g_assert_cmpuint(mr->bad_signatures, ==, 2);
    acme_dns_provider_free(p);
    dnsmock_assert_no_secret(NULL, log, R53_SK);
    dnsmock_log_free(log);
    mockr53_free(mr);
}

static void test_r53_settings(void)
{
    acme_dns_provider_options o = ACME_DNS_PROVIDER_OPTIONS_INIT;
    acme_dns_provider *p = NULL;
    acme_error *err = NULL;
    const char *env_ok[] = { "AWS_ACCESS_KEY_ID=AKID", "AWS_SECRET_ACCESS_KEY=" R53_SK,
                             "AWS_HOSTED_ZONE_ID=Z123", "AWS_TTL=42", "AWS_REGION=cn-north-1",
                             NULL };
    const char *env_none[] = { NULL };
    const char *bad_bool[] = { "private_zone=maybe", NULL };

    o.environ = env_ok;
    dnsmock_expect(acme_dns_provider_new(&p, "route53", &o, &err), &err, ACME_OK);
    g_assert_cmpstr(acme_dns_provider_setting(p, "hosted_zone_id"), ==, "Z123");
    g_assert_cmpstr(acme_dns_provider_setting(p, "ttl"), ==, "42");
    g_assert_null(acme_dns_provider_setting(p, "secret_access_key"));
    g_assert_null(acme_dns_provider_setting(p, "access_key_id"));
    g_assert_true(acme_dns_provider_find("AWS") == &acme__dns_route53_ops);
    acme_dns_provider_free(p);

    /* Missing credentials: INVALID before any request; the secret never echoed. */
    o.environ = env_none;
    dnsmock_expect(acme_dns_provider_new(&p, "route53:access_key_id=AKID", &o, &err), &err,
           ACME_E_INVALID);
    g_assert_null(p);
    g_assert_nonnull(strstr(acme_error_message(err), "secret_access_key"));
    dnsmock_clear(&err);
    o.environ = env_ok;
    o.settings = bad_bool;
    dnsmock_expect(acme_dns_provider_new(&p, "route53", &o, &err), &err, ACME_E_INVALID);
    g_assert_nonnull(strstr(acme_error_message(err), "private_zone"));
    dnsmock_clear(&err);
    o.settings = NULL;
    dnsmock_expect(acme_dns_provider_new(&p, "route53:base_url=ftp://x", &o, &err), &err,
           ACME_E_INVALID);
    dnsmock_assert_no_secret(err, NULL, R53_SK);
    dnsmock_clear(&err);
    dnsmock_expect(acme_dns_provider_new(&p, "route53:base_url=https://user@host/", &o, &err), &err,
           ACME_E_INVALID);
    dnsmock_clear(&err);
}

/* The whole way: the dns-01 responder, apex + wildcard, propagation check off. */
static void test_r53_responder(void)
{
    mockr53 *mr = mockr53_new();
    dnsmock_log *log = dnsmock_log_new();
    acme_dns_provider *p = r53_provider(mr, R53_SK, log, NULL);
    acme_dns01_options o = ACME_DNS01_OPTIONS_INIT;
    acme_responder *r = NULL;
    acme_error *err = NULL;
    char *v1 = NULL, *v2 = NULL, *want, *s;
    bool polled = false;

    o.no_propagation_check = true;
    o.no_cname = true;
    o.settle_delay_ms = ACME_DNS01_NONE;
    mr->pending_polls = 1;
    dnsmock_expect(acme_responder_dns01_new(&r, p, &o, &err), &err, ACME_OK);
    g_assert_cmpstr(acme_responder_name(r), ==, "dns-01 route53");
    dnsmock_expect(acme_dns01_txt_value(&v1, KA1, &err), &err, ACME_OK);
    dnsmock_expect(acme_dns01_txt_value(&v2, KA2, &err), &err, ACME_OK);

    dnsmock_expect(r->ops->start(r->self, "www.sub.example.com", NULL, KA1, &err), &err, ACME_OK);
    dnsmock_expect(r->ops->start(r->self, "*.www.sub.example.com", NULL, KA2, &err), &err, ACME_OK);
    s = r53_values(mr, "ZSUB0000000001", "_acme-challenge.www.sub.example.com.");
    want = g_strdup_printf("%s,%s", v1, v2);
    g_assert_cmpstr(s, ==, want);
    g_free(want);
    g_free(s);
    /* The responder waited for INSYNC. */
    for (size_t i = 0; i < mockhttp_request_count(mr->m); i++)
        polled = polled || g_str_has_prefix(mockhttp_request_get(mr->m, i)->path,
                                            "/2013-04-01/change/");
    g_assert_true(polled);

    r->ops->stop(r->self, "www.sub.example.com", NULL, KA1);
    s = r53_values(mr, "ZSUB0000000001", "_acme-challenge.www.sub.example.com.");
    g_assert_cmpstr(s, ==, v2);
    g_free(s);
    r->ops->stop(r->self, "*.www.sub.example.com", NULL, KA2);
    g_assert_cmpuint(mr->sets->len, ==, 0);

    acme_responder_free(r);
    acme_dns_provider_free(p);
    acme_free(v1);
    acme_free(v2);
    g_assert_cmpuint(mr->bad_signatures, ==, 0);
    dnsmock_assert_no_secret(NULL, log, R53_SK);
    dnsmock_log_free(log);
    mockr53_free(mr);
}

/* ================================================================== */
/* JWT (for Google's service-account flow)                             */
/* ================================================================== */

/* One RSA key for every Google test (generating is slow). */
static acme_key *sa_key;
static char *sa_pem;

/* Verify a compact JWS with the public half of @p key; the decoded header and claims out. */
static bool jwt_verify(const char *jwt, const acme_key *key, char **header, char **claims)
{
    char **parts = g_strsplit(jwt, ".", -1);
    unsigned char *h = NULL, *c = NULL, *sig = NULL;
    size_t hl = 0, cl = 0, sl = 0;
    bool ok = false;

    *header = *claims = NULL;
    if (g_strv_length(parts) == 3 && (h = acme__b64url_decode(parts[0], strlen(parts[0]), &hl)) &&
        (c = acme__b64url_decode(parts[1], strlen(parts[1]), &cl)) &&
        (sig = acme__b64url_decode(parts[2], strlen(parts[2]), &sl)) &&
        /* RFC 7515: base64url without padding */
        !strchr(jwt, '=')) {
        char *input = g_strdup_printf("%s.%s", parts[0], parts[1]);
        gnutls_datum_t data = { (unsigned char *)input, (unsigned int)strlen(input) };
        gnutls_datum_t sd = { sig, (unsigned int)sl };

        ok = gnutls_pubkey_verify_data2(key->pub, GNUTLS_SIGN_RSA_SHA256, 0, &data, &sd) >= 0;
        g_free(input);
        *header = g_strndup((const char *)h, hl);
        *claims = g_strndup((const char *)c, cl);
    }
    free(h);
    free(c);
    free(sig);
    g_strfreev(parts);
    return ok;
}

static void test_jwt(void)
{
    acme_key *ec = NULL;
    acme_error *err = NULL;
    char *jwt = NULL, *h, *c, **parts;

    dnsmock_expect(acme__jwt_sign(&jwt, sa_key, "kid-1", "{\"iss\":\"a\",\"n\":1}", &err), &err, ACME_OK);
    g_assert_true(jwt_verify(jwt, sa_key, &h, &c));
    g_assert_cmpstr(h, ==, "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"kid-1\"}");
    g_assert_cmpstr(c, ==, "{\"iss\":\"a\",\"n\":1}");
    g_free(h);
    g_free(c);
    /* A changed claim no longer verifies. */
    parts = g_strsplit(jwt, ".", -1);
    {
        char *forged_claims = acme__b64url_encode("{\"iss\":\"b\",\"n\":1}", 18);
        char *forged = g_strdup_printf("%s.%s.%s", parts[0], forged_claims, parts[2]);

        g_assert_false(jwt_verify(forged, sa_key, &h, &c));
        g_free(h);
        g_free(c);
        g_free(forged);
        free(forged_claims);
    }
    g_strfreev(parts);
    free(jwt);

    /* No kid; a kid that needs JSON escaping. */
    dnsmock_expect(acme__jwt_sign(&jwt, sa_key, NULL, "{}", &err), &err, ACME_OK);
    g_assert_true(jwt_verify(jwt, sa_key, &h, &c));
    g_assert_cmpstr(h, ==, "{\"alg\":\"RS256\",\"typ\":\"JWT\"}");
    g_free(h);
    g_free(c);
    free(jwt);
    dnsmock_expect(acme__jwt_sign(&jwt, sa_key, "a\"b", "{}", &err), &err, ACME_OK);
    g_assert_true(jwt_verify(jwt, sa_key, &h, &c));
    g_assert_cmpstr(h, ==, "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"a\\\"b\"}");
    g_free(h);
    g_free(c);
    free(jwt);

    /* EC keys sign ES256. */
    dnsmock_expect(acme_key_generate(&ec, ACME_KEY_EC_P256, &err), &err, ACME_OK);
    dnsmock_expect(acme__jwt_sign(&jwt, ec, NULL, "{}", &err), &err, ACME_OK);
    parts = g_strsplit(jwt, ".", -1);
    {
        size_t n = 0;
        unsigned char *hd = acme__b64url_decode(parts[0], strlen(parts[0]), &n);

        g_assert_cmpmem(hd, n, "{\"alg\":\"ES256\",\"typ\":\"JWT\"}", 27);
        free(hd);
    }
    g_strfreev(parts);
    free(jwt);
    acme_key_free(ec);

    dnsmock_expect(acme__jwt_sign(&jwt, NULL, NULL, "{}", &err), &err, ACME_E_INVALID);
    dnsmock_clear(&err);
    dnsmock_expect(acme__jwt_sign(&jwt, sa_key, NULL, NULL, &err), &err, ACME_E_INVALID);
    dnsmock_clear(&err);
}

/* ================================================================== */
/* Google Cloud DNS: a mock of the token endpoint and the DNS API     */
/* ================================================================== */

#define GCP_EMAIL "dns-editor@manhattan.iam.gserviceaccount.com"
#define GCP_PROJECT "manhattan"
#define GCP_API "/dns/v1/projects/" GCP_PROJECT
#define GCP_SCOPE "https://www.googleapis.com/auth/ndev.clouddns.readwrite"

typedef struct gcpzone {
    const char *name, *dns_name, *visibility;
} gcpzone;

static const gcpzone gcp_zones[] = {
    { "example-com", "example.com.", "public" },
    { "example-com-private", "example.com.", "private" },
    { "sub-example-com", "sub.example.com.", "public" },
    { "example-org", "example.org.", "public" },
};

typedef struct mockgcp {
    mockhttp *m;
    GMutex lock;
    char *token_uri;
    GHashTable *sets;           /* "zone name" -> json_object rrset (one name per test) */
    GHashTable *changes;        /* "zone/id" -> polls left */
    unsigned int next_change;
    unsigned int pending_polls;
    unsigned int tokens;        /* tokens issued */
    char *token;                /* the valid one */
    bool token_fail;            /* the token endpoint refuses the grant */
    bool revoke;                /* the next API call finds the token revoked */
    bool deny;                  /* every API call answers 401 */
    unsigned int fault_status;
    const char *fault_body, *fault_headers;
    GString *problems;
} mockgcp;

static void gproblem(mockgcp *mg, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void gproblem(mockgcp *mg, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_string_append_vprintf(mg->problems, fmt, ap);
    g_string_append_c(mg->problems, '\n');
    va_end(ap);
}

static void gcp_err(mockgcp *mg, mockhttp_response *out, unsigned int status, const char *reason,
                    const char *st, const char *msg)
{
    out->status = status;
    out->content_type = "application/json; charset=UTF-8";
    out->body = mockhttp_strdup(mg->m,
                                "{\"error\": {\"code\": %u, \"message\": \"%s\", \"errors\": "
                                "[{\"message\": \"%s\", \"domain\": \"global\", \"reason\": "
                                "\"%s\"}], \"status\": \"%s\"}}",
                                status, msg, msg, reason, st);
}

static json_object *json_member(json_object *o, const char *k)
{
    json_object *v = NULL;

    return json_object_object_get_ex(o, k, &v) ? v : NULL;
}

/* The token endpoint: a form with the JWT bearer grant; the JWT verified field by field. */
static void gcp_token(mockgcp *mg, const mockhttp_request *req, mockhttp_response *out)
{
    const char *ct = mockhttp_request_header(req, "Content-Type");
    const char *prefix = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"
                         "&assertion=";
    char *h = NULL, *c = NULL;
    json_object *claims = NULL;
    bool ok;

    if (g_strcmp0(ct, "application/x-www-form-urlencoded") != 0)
        gproblem(mg, "token Content-Type %s", ct ? ct : "(none)");
    if (strcmp(req->method, "POST") != 0 || !g_str_has_prefix(req->body, prefix)) {
        gproblem(mg, "token request %s %.60s", req->method, req->body);
        out->status = 400;
        out->body = "{\"error\":\"unsupported_grant_type\"}";
        return;
    }
    ok = jwt_verify(req->body + strlen(prefix), sa_key, &h, &c);
    if (ok && strcmp(h, "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"kid-0001\"}") != 0)
        gproblem(mg, "JWT header %s", h);
    if (ok && (claims = json_tokener_parse(c))) {
        gint64 now = g_get_real_time() / G_USEC_PER_SEC;
        gint64 iat = json_object_get_int64(json_member(claims, "iat"));
        gint64 exp = json_object_get_int64(json_member(claims, "exp"));

        if (g_strcmp0(json_object_get_string(json_member(claims, "iss")), GCP_EMAIL) ||
            g_strcmp0(json_object_get_string(json_member(claims, "scope")), GCP_SCOPE) ||
            g_strcmp0(json_object_get_string(json_member(claims, "aud")), mg->token_uri) ||
            exp - iat != 3600 || iat < now - 300 || iat > now + 300)
            gproblem(mg, "JWT claims %s", c);
        json_object_put(claims);
    } else if (ok) {
        gproblem(mg, "JWT claims not JSON: %s", c);
    }
    g_free(h);
    g_free(c);
    out->content_type = "application/json";
    if (!ok || mg->token_fail) {
        out->status = 400;
        out->body = "{\"error\":\"invalid_grant\",\"error_description\":\"Invalid JWT Signature.\"}";
        return;
    }
    mg->tokens++;
    g_free(mg->token);
    mg->token = g_strdup_printf("ya29.mock-token-%u", mg->tokens);
    out->body = mockhttp_strdup(mg->m,
                                "{\"access_token\":\"%s\",\"expires_in\":3599,"
                                "\"token_type\":\"Bearer\"}",
                                mg->token);
}

static const gcpzone *gcp_zone(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(gcp_zones); i++)
        if (strcmp(gcp_zones[i].name, name) == 0)
            return &gcp_zones[i];
    return NULL;
}

static char *gcp_zone_json(const gcpzone *z)
{
    return g_strdup_printf("{\"kind\": \"dns#managedZone\", \"name\": \"%s\", \"dnsName\": \"%s\", "
                           "\"id\": \"12345\", \"visibility\": \"%s\", \"nameServers\": "
                           "[\"ns-cloud-a1.googledomains.com.\"]}",
                           z->name, z->dns_name, z->visibility);
}

static void gcp_list_zones(mockgcp *mg, const mockhttp_request *req, mockhttp_response *out)
{
    const char *page = mockhttp_request_query(req, "pageToken");
    size_t i = page ? (size_t)g_ascii_strtoull(page + strlen("page-"), NULL, 10) : 0;
    GString *s = g_string_new("{\"kind\": \"dns#managedZonesListResponse\", \"managedZones\": [");

    if (page && (!g_str_has_prefix(page, "page-") || i >= G_N_ELEMENTS(gcp_zones)))
        gproblem(mg, "pageToken %s", page);
    if (g_strcmp0(mockhttp_request_query(req, "maxResults"), "100") != 0)
        gproblem(mg, "maxResults missing");
    if (i < G_N_ELEMENTS(gcp_zones)) {
        char *z = gcp_zone_json(&gcp_zones[i]);

        g_string_append(s, z);
        g_free(z);
    }
    g_string_append(s, "]");
    /* Tiny pages: one zone each. */
    if (i + 1 < G_N_ELEMENTS(gcp_zones))
        g_string_append_printf(s, ", \"nextPageToken\": \"page-%zu\"", i + 1);
    g_string_append(s, "}");
    out->content_type = "application/json";
    out->body = mockhttp_strdup(mg->m, "%s", s->str);
    g_string_free(s, TRUE);
}

static bool rrset_equal(json_object *a, json_object *b)
{
    return a && b && json_object_equal(json_member(a, "name"), json_member(b, "name")) &&
           json_object_equal(json_member(a, "type"), json_member(b, "type")) &&
           json_object_equal(json_member(a, "ttl"), json_member(b, "ttl")) &&
           json_object_equal(json_member(a, "rrdatas"), json_member(b, "rrdatas"));
}

/* changes.create: deletions must match exactly (412), additions must not collide (409). */
static void gcp_change(mockgcp *mg, const char *zone, const mockhttp_request *req,
                       mockhttp_response *out)
{
    json_object *body = json_tokener_parse(req->body), *dels, *adds;
    json_object *cur = g_hash_table_lookup(mg->sets, zone);
    bool deleted = false;

    if (g_strcmp0(mockhttp_request_header(req, "Content-Type"), "application/json") != 0)
        gproblem(mg, "change Content-Type");
    if (!body) {
        gcp_err(mg, out, 400, "parseError", "INVALID_ARGUMENT", "Parse Error");
        return;
    }
    dels = json_member(body, "deletions");
    adds = json_member(body, "additions");
    for (size_t i = 0; dels && i < json_object_array_length(dels); i++) {
        json_object *d = json_object_array_get_idx(dels, i);

        if (!cur) {
            gcp_err(mg, out, 404, "notFound", "NOT_FOUND",
                    "The 'entity.change.deletions[0]' resource named 'x' does not exist.");
            goto out;
        }
        if (!rrset_equal(d, cur)) {
            gcp_err(mg, out, 412, "conditionNotMet", "FAILED_PRECONDITION",
                    "Precondition not met for 'entity.change.deletions[0]'");
            goto out;
        }
        deleted = true;
    }
    if (adds && cur && !deleted) {
        gcp_err(mg, out, 409, "alreadyExists", "ALREADY_EXISTS",
                "The resource 'entity.change.additions[0]' already exists");
        goto out;
    }
    for (size_t i = 0; adds && i < json_object_array_length(adds); i++) {
        json_object *a = json_object_array_get_idx(adds, i), *d = json_member(a, "rrdatas");

        for (size_t j = 0; d && j < json_object_array_length(d); j++)
            if (json_object_get_string(json_object_array_get_idx(d, j))[0] != '"')
                gproblem(mg, "unquoted rrdata");
    }
    if (deleted)
        g_hash_table_remove(mg->sets, zone);
    if (adds && json_object_array_length(adds))
        g_hash_table_insert(mg->sets, g_strdup(zone),
                            json_object_get(json_object_array_get_idx(adds, 0)));
    mg->next_change++;
    g_hash_table_insert(mg->changes, g_strdup_printf("%s/%u", zone, mg->next_change),
                        GUINT_TO_POINTER(mg->pending_polls));
    out->content_type = "application/json";
    out->body = mockhttp_strdup(mg->m,
                                "{\"kind\": \"dns#change\", \"id\": \"%u\", \"status\": \"%s\", "
                                "\"startTime\": \"2024-01-01T00:00:00.000Z\"}",
                                mg->next_change, mg->pending_polls ? "pending" : "done");
out:
    json_object_put(body);
}

static void gcp_handler(void *userdata, const mockhttp_request *req, mockhttp_response *out)
{
    mockgcp *mg = userdata;
    const char *auth = mockhttp_request_header(req, "Authorization");
    char *want = NULL, **seg = NULL;
    size_t n;

    g_mutex_lock(&mg->lock);
    if (strcmp(req->path, "/token") == 0) {
        gcp_token(mg, req, out);
        goto out;
    }
    want = g_strdup_printf("Bearer %s", mg->token ? mg->token : "-");
    if (g_strcmp0(mockhttp_request_header(req, "Accept"), "application/json") != 0)
        gproblem(mg, "Accept header on %s", req->path);
    if (!auth || strcmp(auth, want) != 0 || mg->revoke || mg->deny) {
        mg->revoke = false;
        g_free(mg->token);
        mg->token = NULL;
        gcp_err(mg, out, 401, "authError", "UNAUTHENTICATED",
                "Request had invalid authentication credentials.");
        goto out;
    }
    if (mg->fault_status) {
        out->status = mg->fault_status;
        out->content_type = "application/json";
        out->headers = mg->fault_headers;
        out->body = mg->fault_body;
        mg->fault_status = 0;
        goto out;
    }
    if (!g_str_has_prefix(req->path, GCP_API "/")) {
        gcp_err(mg, out, 404, "notFound", "NOT_FOUND", "no such project");
        goto out;
    }
    seg = g_strsplit(req->path + strlen(GCP_API "/"), "/", -1);
    n = g_strv_length(seg);
    if (strcmp(seg[0], "managedZones") != 0) {
        gcp_err(mg, out, 404, "notFound", "NOT_FOUND", "no such collection");
    } else if (n == 1 && !strcmp(req->method, "GET")) {
        gcp_list_zones(mg, req, out);
    } else if (n >= 2 && !gcp_zone(seg[1])) {
        gcp_err(mg, out, 404, "notFound", "NOT_FOUND", "The 'parameters.managedZone' resource "
                                                       "named 'x' does not exist.");
    } else if (n == 2 && !strcmp(req->method, "GET")) {
        char *z = gcp_zone_json(gcp_zone(seg[1]));

        out->content_type = "application/json";
        out->body = mockhttp_strdup(mg->m, "%s", z);
        g_free(z);
    } else if (n == 3 && !strcmp(seg[2], "rrsets") && !strcmp(req->method, "GET")) {
        json_object *cur = g_hash_table_lookup(mg->sets, seg[1]);
        const char *name = mockhttp_request_query(req, "name");

        if (!name || g_strcmp0(mockhttp_request_query(req, "type"), "TXT") != 0)
            gproblem(mg, "rrsets query");
        out->content_type = "application/json";
        if (cur && g_ascii_strcasecmp(json_object_get_string(json_member(cur, "name")),
                                      name ? name : "") == 0)
            out->body = mockhttp_strdup(mg->m,
                                        "{\"kind\": \"dns#resourceRecordSetsListResponse\", "
                                        "\"rrsets\": [%s]}",
                                        json_object_to_json_string(cur));
        else
            out->body = "{\"kind\": \"dns#resourceRecordSetsListResponse\", \"rrsets\": []}";
    } else if (n == 3 && !strcmp(seg[2], "changes") && !strcmp(req->method, "POST")) {
        gcp_change(mg, seg[1], req, out);
    } else if (n == 4 && !strcmp(seg[2], "changes") && !strcmp(req->method, "GET")) {
        char *key = g_strdup_printf("%s/%s", seg[1], seg[3]);
        gpointer left;

        if (!g_hash_table_lookup_extended(mg->changes, key, NULL, &left)) {
            gcp_err(mg, out, 404, "notFound", "NOT_FOUND", "no such change");
        } else {
            guint l = GPOINTER_TO_UINT(left);

            if (l > 0 && l != G_MAXUINT)
                g_hash_table_insert(mg->changes, g_strdup(key), GUINT_TO_POINTER(l - 1));
            out->content_type = "application/json";
            out->body = mockhttp_strdup(mg->m, "{\"kind\": \"dns#change\", \"id\": \"%s\", "
                                               "\"status\": \"%s\"}",
                                        seg[3], l ? "pending" : "done");
        }
        g_free(key);
    } else {
        gcp_err(mg, out, 404, "notFound", "NOT_FOUND", "no such operation");
    }
out:
    g_strfreev(seg);
    g_free(want);
    g_mutex_unlock(&mg->lock);
}

static void json_put(gpointer o)
{
    json_object_put(o);
}

static mockgcp *mockgcp_new(void)
{
    mockgcp *mg = g_new0(mockgcp, 1);

    g_mutex_init(&mg->lock);
    mg->sets = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                     json_put);
    mg->changes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    mg->problems = g_string_new(NULL);
    mg->m = mockhttp_new();
    mg->token_uri = mockhttp_url(mg->m, "/token");
    mockhttp_set_handler(mg->m, gcp_handler, mg);
    return mg;
}

static void mockgcp_free(mockgcp *mg)
{
    mockhttp_free(mg->m);
    g_assert_cmpstr(mg->problems->str, ==, "");
    g_string_free(mg->problems, TRUE);
    g_hash_table_destroy(mg->sets);
    g_hash_table_destroy(mg->changes);
    g_free(mg->token_uri);
    g_free(mg->token);
    g_mutex_clear(&mg->lock);
    g_free(mg);
}

/* The service account's JSON key, with token_uri at the mock. */
static char *gcp_account(mockgcp *mg, const char *project)
{
    json_object *o = json_object_new_object();
    char *s;

    json_object_object_add(o, "type", json_object_new_string("service_account"));
    if (project)
        json_object_object_add(o, "project_id", json_object_new_string(project));
    json_object_object_add(o, "private_key_id", json_object_new_string("kid-0001"));
    json_object_object_add(o, "private_key", json_object_new_string(sa_pem));
    json_object_object_add(o, "client_email", json_object_new_string(GCP_EMAIL));
    json_object_object_add(o, "client_id", json_object_new_string("1234567890"));
    json_object_object_add(o, "auth_uri",
                           json_object_new_string("https://accounts.google.com/o/oauth2/auth"));
    json_object_object_add(o, "token_uri", json_object_new_string(mg->token_uri));
    s = g_strdup(json_object_to_json_string(o));
    json_object_put(o);
    return s;
}

/* A line from the middle of the private key: it must never be printed. */
static char *key_fragment(void)
{
    char **lines = g_strsplit(sa_pem, "\n", -1);
    char *f = g_strdup(lines[5]);

    g_strfreev(lines);
    g_assert_cmpuint(strlen(f), ==, 64);
    return f;
}

static void assert_gcp_clean(const acme_error *err, const dnsmock_log *log, mockgcp *mg)
{
    char *frag = key_fragment();

    dnsmock_assert_no_secret(err, log, frag);
    dnsmock_assert_no_secret(err, log, "ya29.mock-token");
    dnsmock_assert_no_secret(err, log, "BEGIN PRIVATE KEY");
    if (mg && mg->token)
        dnsmock_assert_no_secret(err, log, mg->token);
    g_free(frag);
}

static acme_dns_provider *gcp_provider(mockgcp *mg, dnsmock_log *log, const char *extra)
{
    acme_dns_provider_options o = ACME_DNS_PROVIDER_OPTIONS_INIT;
    acme_dns_provider *p = NULL;
    acme_error *err = NULL;
    char *url = mockhttp_url(mg->m, "");
    char *account = gcp_account(mg, GCP_PROJECT);
    char *s_url = g_strdup_printf("base_url=%s", url);
    char *s_acc = g_strdup_printf("service_account=%s", account);
    const char *settings[] = { s_url, s_acc, "polling_interval=0", extra, NULL };

    o.settings = settings;
    o.ignore_environment = true;
    if (log) {
        o.log = dnsmock_log_cb;
        o.log_userdata = log;
        o.log_level = ACME_LOG_DEBUG;
    }
    dnsmock_expect(acme_dns_provider_new(&p, "google", &o, &err), &err, ACME_OK);
    g_assert_cmpstr(acme_dns_provider_name(p), ==, "gcloud");
    g_free(url);
    g_free(s_url);
    acme__free_secret(s_acc);
    acme__free_secret(account);
    return p;
}

static size_t count_path(mockhttp *m, const char *path)
{
    size_t n = 0;

    for (size_t i = 0; i < mockhttp_request_count(m); i++)
        n += strcmp(mockhttp_request_get(m, i)->path, path) == 0;
    return n;
}

static void test_gcp_zones(void)
{
    mockgcp *mg = mockgcp_new();
    dnsmock_log *log = dnsmock_log_new();
    acme_dns_provider *p = gcp_provider(mg, log, NULL);
    acme_dns_zone_list l = ACME_DNS_ZONE_LIST_INIT;
    acme_error *err = NULL;
    char *zone = NULL;

    /* Through the vtable: a token first, then four pages; the private zone left out. */
    dnsmock_expect(p->ops->list_zones(p->self, &l, &err), &err, ACME_OK);
    g_assert_cmpuint(l.n, ==, 3);
    g_assert_cmpstr(l.v[0].id, ==, "example-com");
    g_assert_cmpstr(l.v[0].name, ==, "example.com");
    g_assert_cmpstr(l.v[1].id, ==, "sub-example-com");
    g_assert_cmpstr(l.v[2].name, ==, "example.org");
    acme_dns_zone_list_clear(&l);
    g_assert_cmpuint(mockhttp_request_count(mg->m), ==, 5);
    g_assert_cmpstr(mockhttp_request_get(mg->m, 0)->path, ==, "/token");
    g_assert_cmpstr(mockhttp_request_get(mg->m, 1)->path, ==, GCP_API "/managedZones");
    g_assert_null(mockhttp_request_query(mockhttp_request_get(mg->m, 1), "pageToken"));
    g_assert_cmpstr(mockhttp_request_query(mockhttp_request_get(mg->m, 2), "pageToken"), ==,
                    "page-1");
    g_assert_cmpstr(mockhttp_request_query(mockhttp_request_get(mg->m, 4), "pageToken"), ==,
                    "page-3");
    g_assert_cmpuint(mg->tokens, ==, 1);

    /* Auto-detection through the core: the longest zone. */
    dnsmock_expect(acme_dns_provider_find_zone(&zone, p, "_acme-challenge.www.sub.example.com", &err),
           &err, ACME_OK);
    g_assert_cmpstr(zone, ==, "sub.example.com");
    acme_free(zone);
    g_assert_cmpuint(mg->tokens, ==, 1); /* cached */
    acme_dns_provider_free(p);

    p = gcp_provider(mg, log, "allow_private_zone=true");
    dnsmock_expect(p->ops->list_zones(p->self, &l, &err), &err, ACME_OK);
    g_assert_cmpuint(l.n, ==, 4);
    g_assert_true(l.v[1].is_private);
    acme_dns_zone_list_clear(&l);
    acme_dns_provider_free(p);

    /* zone_id (GCE_ZONE_ID): one managedZones.get, no listing. */
    p = gcp_provider(mg, log, "zone_id=sub-example-com");
    dnsmock_expect(p->ops->list_zones(p->self, &l, &err), &err, ACME_OK);
    g_assert_cmpuint(l.n, ==, 1);
    g_assert_cmpstr(l.v[0].name, ==, "sub.example.com");
    g_assert_cmpstr(last_request(mg->m)->path, ==, GCP_API "/managedZones/sub-example-com");
    acme_dns_zone_list_clear(&l);
    acme_dns_provider_free(p);
    p = gcp_provider(mg, log, "zone_id=nope");
    dnsmock_expect(p->ops->list_zones(p->self, &l, &err), &err, ACME_E_NOTFOUND);
    dnsmock_clear(&err);
    acme_dns_provider_free(p);

    assert_gcp_clean(NULL, log, mg);
    dnsmock_log_free(log);
    mockgcp_free(mg);
}

static void test_gcp_txt(void)
{
    mockgcp *mg = mockgcp_new();
    dnsmock_log *log = dnsmock_log_new();
    acme_dns_provider *p = gcp_provider(mg, log, NULL);
    acme_dns_zone zone = { .id = "example-com", .name = "example.com" };
    acme_dns_txt txt = { .fqdn = "_acme-challenge.example.com", .value = V1, .ttl = 120,
                         .zone = &zone, .relative = "_acme-challenge" };
    acme_error *err = NULL;
    const mockhttp_request *req;
    char *handle = NULL;
    size_t n;

    mg->pending_polls = 2;
    dnsmock_expect(p->ops->create_txt(p->self, &txt, &handle, &err), &err, ACME_OK);
    g_assert_cmpstr(handle, ==, "example-com/1");
    g_assert_cmpuint(mockhttp_request_count(mg->m), ==, 3); /* token, rrsets, changes */
    req = mockhttp_request_get(mg->m, 1);
    g_assert_cmpstr(req->method, ==, "GET");
    g_assert_cmpstr(req->path, ==, GCP_API "/managedZones/example-com/rrsets");
    g_assert_cmpstr(mockhttp_request_query(req, "name"), ==, "_acme-challenge.example.com.");
    g_assert_cmpstr(mockhttp_request_query(req, "type"), ==, "TXT");
    req = mockhttp_request_get(mg->m, 2);
    g_assert_cmpstr(req->method, ==, "POST");
    g_assert_cmpstr(req->path, ==, GCP_API "/managedZones/example-com/changes");
    g_assert_cmpstr(req->body, ==,
                    "{\"additions\":[{\"name\":\"_acme-challenge.example.com.\",\"type\":\"TXT\","
                    "\"ttl\":120,\"rrdatas\":[\"\\\"" V1 "\\\"\"]}]}");
    /* Pending, pending, done. */
    n = mockhttp_request_count(mg->m);
    dnsmock_expect(p->ops->wait_applied(p->self, handle, 60000, &err), &err, ACME_OK);
    g_assert_cmpuint(mockhttp_request_count(mg->m), ==, n + 3);
    g_assert_cmpstr(last_request(mg->m)->path, ==, GCP_API "/managedZones/example-com/changes/1");
    free(handle);
    handle = NULL;

    /* The wildcard's value: one atomic change, the old set deleted exactly, both added. */
    mg->pending_polls = 0;
    txt.value = V2;
    txt.ttl = 300;
    dnsmock_expect(p->ops->create_txt(p->self, &txt, &handle, &err), &err, ACME_OK);
    g_assert_null(handle); /* "done" at once: nothing to wait for */
    g_assert_cmpstr(last_request(mg->m)->body, ==,
                    "{\"deletions\":[{\"name\":\"_acme-challenge.example.com.\",\"type\":\"TXT\","
                    "\"ttl\":120,\"rrdatas\":[\"\\\"" V1 "\\\"\"]}],"
                    "\"additions\":[{\"name\":\"_acme-challenge.example.com.\",\"type\":\"TXT\","
                    "\"ttl\":300,\"rrdatas\":[\"\\\"" V1 "\\\"\",\"\\\"" V2 "\\\"\"]}]}");
    /* Idempotent. */
    n = mockhttp_request_count(mg->m);
    dnsmock_expect(p->ops->create_txt(p->self, &txt, &handle, &err), &err, ACME_OK);
    g_assert_cmpuint(mockhttp_request_count(mg->m), ==, n + 1);

    /* Remove the first: delete the set, add back the other at the set's TTL. */
    txt.value = V1;
    dnsmock_expect(p->ops->delete_txt(p->self, &txt, NULL, &err), &err, ACME_OK);
    g_assert_cmpstr(last_request(mg->m)->body, ==,
                    "{\"deletions\":[{\"name\":\"_acme-challenge.example.com.\",\"type\":\"TXT\","
                    "\"ttl\":300,\"rrdatas\":[\"\\\"" V1 "\\\"\",\"\\\"" V2 "\\\"\"]}],"
                    "\"additions\":[{\"name\":\"_acme-challenge.example.com.\",\"type\":\"TXT\","
                    "\"ttl\":300,\"rrdatas\":[\"\\\"" V2 "\\\"\"]}]}");
    /* Remove the last: deletions only. */
    txt.value = V2;
    dnsmock_expect(p->ops->delete_txt(p->self, &txt, NULL, &err), &err, ACME_OK);
    g_assert_cmpstr(last_request(mg->m)->body, ==,
                    "{\"deletions\":[{\"name\":\"_acme-challenge.example.com.\",\"type\":\"TXT\","
                    "\"ttl\":300,\"rrdatas\":[\"\\\"" V2 "\\\"\"]}]}");
    g_assert_cmpuint(g_hash_table_size(mg->sets), ==, 0);
    /* Absent: success, one read, no change. */
    n = mockhttp_request_count(mg->m);
    dnsmock_expect(p->ops->delete_txt(p->self, &txt, NULL, &err), &err, ACME_OK);
    g_assert_cmpuint(mockhttp_request_count(mg->m), ==, n + 1);
    g_assert_cmpuint(mg->tokens, ==, 1);

    /* Never done: ACME_E_TIMEOUT. */
    mg->pending_polls = G_MAXUINT;
    dnsmock_expect(p->ops->create_txt(p->self, &txt, &handle, &err), &err, ACME_OK);
    dnsmock_expect(p->ops->wait_applied(p->self, handle, 0, &err), &err, ACME_E_TIMEOUT);
    dnsmock_clear(&err);
    free(handle);
    acme_dns_provider_free(p);

    assert_gcp_clean(NULL, log, mg);
    dnsmock_log_free(log);
    mockgcp_free(mg);
}

static void test_gcp_token(void)
{
    mockgcp *mg = mockgcp_new();
    dnsmock_log *log = dnsmock_log_new();
    acme_dns_provider *p = gcp_provider(mg, log, NULL);
    acme_dns_zone_list l = ACME_DNS_ZONE_LIST_INIT;
    acme_error *err = NULL;

    dnsmock_expect(p->ops->list_zones(p->self, &l, &err), &err, ACME_OK);
    acme_dns_zone_list_clear(&l);
    g_assert_cmpuint(mg->tokens, ==, 1);
    /* A revoked token (401): one new token, the call succeeds. */
    mg->revoke = true;
    dnsmock_expect(p->ops->list_zones(p->self, &l, &err), &err, ACME_OK);
    acme_dns_zone_list_clear(&l);
    g_assert_cmpuint(mg->tokens, ==, 2);
    g_assert_cmpuint(count_path(mg->m, "/token"), ==, 2);

    /* 401 even with a new token: AUTH after exactly one refresh. */
    mg->deny = true;
    dnsmock_expect(p->ops->list_zones(p->self, &l, &err), &err, ACME_E_AUTH);
    g_assert_cmpint(acme_error_http_status(err), ==, 401);
    g_assert_cmpstr(acme_error_detail(err), ==, "Request had invalid authentication credentials.");
    assert_gcp_clean(err, log, mg);
    dnsmock_clear(&err);
    acme_dns_zone_list_clear(&l);
    g_assert_cmpuint(mg->tokens, ==, 3);
    mg->deny = false;

    /* The token endpoint refuses the grant: AUTH, and no key, JWT or token in sight. */
    mg->revoke = true;
    mg->token_fail = true;
    dnsmock_expect(p->ops->list_zones(p->self, &l, &err), &err, ACME_E_AUTH);
    g_assert_nonnull(strstr(acme_error_message(err), "invalid_grant"));
    g_assert_false(acme_error_retryable(err));
    assert_gcp_clean(err, log, mg);
    {
        /* Not the JWT either. */
        const mockhttp_request *t = last_request(mg->m);

        g_assert_cmpstr(t->path, ==, "/token");
        dnsmock_assert_no_secret(err, log, strstr(t->body, "assertion=") + strlen("assertion="));
    }
    dnsmock_clear(&err);
    acme_dns_zone_list_clear(&l);
    acme_dns_provider_free(p);
    assert_gcp_clean(NULL, log, mg);
    dnsmock_log_free(log);
    mockgcp_free(mg);
}

static const fault_case gcp_faults[] = {
    { "429", 429, "Retry-After: 120",
      "{\"error\": {\"code\": 429, \"message\": \"Quota exceeded\", \"status\": "
      "\"RESOURCE_EXHAUSTED\"}}",
      ACME_E_RATELIMITED, 120, "Quota exceeded" },
    { "403-rate", 403, NULL,
      "{\"error\": {\"code\": 403, \"message\": \"Rate Limit Exceeded\", \"errors\": "
      "[{\"reason\": \"rateLimitExceeded\", \"message\": \"Rate Limit Exceeded\"}]}}",
      ACME_E_RATELIMITED, -1, "Rate Limit Exceeded" },
    { "403-forbidden", 403, NULL,
      "{\"error\": {\"code\": 403, \"message\": \"Forbidden\", \"errors\": "
      "[{\"reason\": \"forbidden\"}], \"status\": \"PERMISSION_DENIED\"}}",
      ACME_E_AUTH, -1, "Forbidden" },
    { "412", 412, NULL,
      "{\"error\": {\"code\": 412, \"message\": \"Precondition not met\"}}",
      ACME_E_REJECTED, -1, "Precondition not met" },
    { "500", 500, NULL, "{\"error\": {\"code\": 500, \"message\": \"Internal error\"}}",
      ACME_E_NETWORK, -1, NULL },
    { "503-text", 503, NULL, "Service Unavailable", ACME_E_NETWORK, -1, NULL },
    { "malformed-200", 200, NULL, "{\"rrsets\": [", ACME_E_PROTOCOL, -1, NULL },
};

static void test_gcp_fault(gconstpointer data)
{
    const fault_case *c = data;
    mockgcp *mg = mockgcp_new();
    dnsmock_log *log = dnsmock_log_new();
    acme_dns_provider *p = gcp_provider(mg, log, NULL);
    acme_dns_zone zone = { .id = "example-com", .name = "example.com" };
    acme_dns_txt txt = { .fqdn = "_acme-challenge.example.com", .value = V1, .ttl = 120,
                         .zone = &zone, .relative = "_acme-challenge" };
    acme_error *err = NULL;
    char *handle = NULL;

    mg->fault_status = c->status;
    mg->fault_headers = c->headers;
    mg->fault_body = c->body;
    dnsmock_expect(p->ops->create_txt(p->self, &txt, &handle, &err), &err, c->code);
    g_assert_null(handle);
    if (c->status != 200)
        g_assert_cmpint(acme_error_http_status(err), ==, c->status);
    g_assert_cmpint(acme_error_retry_after(err), ==, c->retry_after);
    if (c->detail)
        g_assert_cmpstr(acme_error_detail(err), ==, c->detail);
    g_assert_cmpint(acme_error_retryable(err), ==,
                    c->code == ACME_E_RATELIMITED || c->code == ACME_E_NETWORK);
    assert_gcp_clean(err, log, mg);
    dnsmock_clear(&err);
    g_assert_cmpuint(g_hash_table_size(mg->sets), ==, 0);
    acme_dns_provider_free(p);
    dnsmock_log_free(log);
    mockgcp_free(mg);
}

static void test_gcp_settings(void)
{
    mockgcp *mg = mockgcp_new();
    acme_dns_provider_options o = ACME_DNS_PROVIDER_OPTIONS_INIT;
    acme_dns_provider *p = NULL;
    acme_error *err = NULL;
    char *dir = g_dir_make_tmp("libacme-dnsp2-XXXXXX", NULL);
    char *path = g_build_filename(dir, "sa.json", NULL);
    char *account = gcp_account(mg, "from-key"), *frag = key_fragment();
    char *e_file = g_strdup_printf("GCE_SERVICE_ACCOUNT_FILE=%s", path);
    char *e_adc = g_strdup_printf("GOOGLE_APPLICATION_CREDENTIALS=%s", path);
    const char *env_file[] = { e_file, "GCE_TTL=33", NULL };
    const char *env_adc[] = { e_adc, "GCE_PROJECT=explicit", NULL };
    const char *env_none[] = { NULL };
    const char *bad_json[] = { "service_account={\"type\": \"service_account\", \"private_key\": "
                               "\"-----BEGIN PRIVATE KEY-----\\nAAAA\\n-----END PRIVATE KEY-----"
                               "\\n\", \"client_email\": \"x@y\", \"project_id\": \"p\"}",
                               NULL };
    const char *not_json[] = { "service_account=not json {", "project=p", NULL };
    const char *user_cred[] = { "service_account={\"type\": \"authorized_user\"}", NULL };

    g_assert_true(g_file_set_contents(path, account, -1, NULL));
    /* GCE_SERVICE_ACCOUNT_FILE (the core's <VAR>_FILE rule); project from the key. */
    o.environ = env_file;
    dnsmock_expect(acme_dns_provider_new(&p, "gcloud", &o, &err), &err, ACME_OK);
    g_assert_cmpstr(acme_dns_provider_setting(p, "ttl"), ==, "33");
    g_assert_null(acme_dns_provider_setting(p, "service_account"));
    acme_dns_provider_free(p);
    /* GOOGLE_APPLICATION_CREDENTIALS; GCE_PROJECT wins over the key's. */
    o.environ = env_adc;
    dnsmock_expect(acme_dns_provider_new(&p, "googlecloud", &o, &err), &err, ACME_OK);
    g_assert_cmpstr(acme_dns_provider_setting(p, "project"), ==, "explicit");
    acme_dns_provider_free(p);

    /* Errors: clear, at creation, without the key. */
    o.environ = env_none;
    dnsmock_expect(acme_dns_provider_new(&p, "gcloud", &o, &err), &err, ACME_E_INVALID);
    g_assert_nonnull(strstr(acme_error_message(err), "service_account"));
    dnsmock_clear(&err);
    o.settings = bad_json;
    dnsmock_expect(acme_dns_provider_new(&p, "gcloud", &o, &err), &err, ACME_E_INVALID);
    g_assert_nonnull(strstr(acme_error_message(err), "private_key"));
    g_assert_null(strstr(acme_error_message(err), "AAAA"));
    dnsmock_clear(&err);
    o.settings = not_json;
    dnsmock_expect(acme_dns_provider_new(&p, "gcloud", &o, &err), &err, ACME_E_INVALID);
    g_assert_null(strstr(acme_error_message(err), "not json"));
    dnsmock_clear(&err);
    o.settings = user_cred;
    dnsmock_expect(acme_dns_provider_new(&p, "gcloud", &o, &err), &err, ACME_E_INVALID);
    dnsmock_clear(&err);
    o.settings = NULL;
    {
        char *missing = g_strdup_printf("gcloud:service_account_file=%s/missing", dir);

        dnsmock_expect(acme_dns_provider_new(&p, missing, &o, &err), &err, ACME_E_IO);
        dnsmock_clear(&err);
        g_free(missing);
    }
    {
        char *s_acc = g_strdup_printf("service_account=%s", account);
        const char *arr[] = { s_acc, "base_url=ftp://x", NULL };

        o.settings = arr;
        dnsmock_expect(acme_dns_provider_new(&p, "gcloud", &o, &err), &err, ACME_E_INVALID);
        dnsmock_assert_no_secret(err, NULL, frag);
        dnsmock_clear(&err);
        g_free(s_acc);
    }

    g_unlink(path);
    g_rmdir(dir);
    g_free(dir);
    g_free(path);
    g_free(e_file);
    g_free(e_adc);
    g_free(frag);
    acme__free_secret(account);
    mockgcp_free(mg);
}

static void test_gcp_responder(void)
{
    mockgcp *mg = mockgcp_new();
    dnsmock_log *log = dnsmock_log_new();
    acme_dns_provider *p = gcp_provider(mg, log, NULL);
    acme_dns01_options o = ACME_DNS01_OPTIONS_INIT;
    acme_responder *r = NULL;
    acme_error *err = NULL;
    char *v1 = NULL, *v2 = NULL, *want;
    json_object *set;

    o.no_propagation_check = true;
    o.no_cname = true;
    o.settle_delay_ms = ACME_DNS01_NONE;
    mg->pending_polls = 1;
    dnsmock_expect(acme_responder_dns01_new(&r, p, &o, &err), &err, ACME_OK);
    g_assert_cmpstr(acme_responder_name(r), ==, "dns-01 gcloud");
    dnsmock_expect(acme_dns01_txt_value(&v1, KA1, &err), &err, ACME_OK);
    dnsmock_expect(acme_dns01_txt_value(&v2, KA2, &err), &err, ACME_OK);

    dnsmock_expect(r->ops->start(r->self, "example.com", NULL, KA1, &err), &err, ACME_OK);
    dnsmock_expect(r->ops->start(r->self, "*.example.com", NULL, KA2, &err), &err, ACME_OK);
    set = g_hash_table_lookup(mg->sets, "example-com");
    g_assert_nonnull(set);
    want = g_strdup_printf("[ \"\\\"%s\\\"\", \"\\\"%s\\\"\" ]", v1, v2);
    g_assert_cmpstr(json_object_to_json_string(json_member(set, "rrdatas")), ==, want);
    g_free(want);
    g_assert_cmpuint(count_path(mg->m, GCP_API "/managedZones/example-com/changes/1"), ==, 2);

    r->ops->stop(r->self, "example.com", NULL, KA1);
    set = g_hash_table_lookup(mg->sets, "example-com");
    want = g_strdup_printf("[ \"\\\"%s\\\"\" ]", v2);
    g_assert_cmpstr(json_object_to_json_string(json_member(set, "rrdatas")), ==, want);
    g_free(want);
    r->ops->stop(r->self, "*.example.com", NULL, KA2);
    g_assert_cmpuint(g_hash_table_size(mg->sets), ==, 0);

    acme_responder_free(r);
    acme_dns_provider_free(p);
    acme_free(v1);
    acme_free(v2);
    assert_gcp_clean(NULL, log, mg);
    dnsmock_log_free(log);
    mockgcp_free(mg);
}

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    if (acme_global_init() != ACME_OK)
        return 99;
    if (acme_key_generate(&sa_key, ACME_KEY_RSA_2048, NULL) != ACME_OK ||
        acme_key_save_pem(&sa_pem, sa_key, ACME_KEY_FORMAT_PKCS8, NULL) != ACME_OK)
        return 99;
    for (size_t i = 0; i < G_N_ELEMENTS(sigv4_cases); i++) {
        char *path = g_strdup_printf("/dnsp2/sigv4/%s", sigv4_cases[i].name);

        g_test_add_data_func(path, &sigv4_cases[i], test_sigv4_vector);
        g_free(path);
    }
    g_test_add_func("/dnsp2/sigv4/misc", test_sigv4_misc);
    g_test_add_func("/dnsp2/xml", test_xml);
    g_test_add_func("/dnsp2/route53/zones", test_r53_zones);
    g_test_add_func("/dnsp2/route53/txt", test_r53_txt);
    for (size_t i = 0; i < G_N_ELEMENTS(r53_faults); i++) {
        char *path = g_strdup_printf("/dnsp2/route53/fault/%s", r53_faults[i].name);

        g_test_add_data_func(path, &r53_faults[i], test_r53_fault);
        g_free(path);
    }
    g_test_add_func("/dnsp2/route53/auth", test_r53_auth);
    g_test_add_func("/dnsp2/route53/settings", test_r53_settings);
    g_test_add_func("/dnsp2/route53/responder", test_r53_responder);
    g_test_add_func("/dnsp2/jwt", test_jwt);
    g_test_add_func("/dnsp2/gcloud/zones", test_gcp_zones);
    g_test_add_func("/dnsp2/gcloud/txt", test_gcp_txt);
    g_test_add_func("/dnsp2/gcloud/token", test_gcp_token);
    for (size_t i = 0; i < G_N_ELEMENTS(gcp_faults); i++) {
        char *path = g_strdup_printf("/dnsp2/gcloud/fault/%s", gcp_faults[i].name);

        g_test_add_data_func(path, &gcp_faults[i], test_gcp_fault);
        g_free(path);
    }
    g_test_add_func("/dnsp2/gcloud/settings", test_gcp_settings);
    g_test_add_func("/dnsp2/gcloud/responder", test_gcp_responder);
    rc = g_test_run();
    acme_key_free(sa_key);
    acme_free(sa_pem);
    acme_global_cleanup();
    return rc;
}
