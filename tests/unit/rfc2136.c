/*
 * tests/unit/rfc2136: the RFC 2136 + TSIG provider without a real DNS
 * server.
 *
 * The UPDATE messages byte for byte (add: class IN and the TTL; delete
 * one RR: class NONE, TTL 0); TSIG signing (RFC 8945) as a known-answer
 * test: the MAC the library puts in the TSIG RR must equal one computed
 * here with GLib's GHmac over the §4.3.3 digest components written out
 * by hand; responses: a correctly signed one passes, and a wrong id, a
 * foreign zone, a cut-short message, a bad MAC, a stale time, another
 * key, TSIG errors and the RCODEs each map to their error; the UDP
 * exchange retries over TCP when the answer comes back truncated (a fake
 * server on loopback); key files, secrets, algorithms, settings and the
 * registry names.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include <acme/acme.h>
#include <acme/dns.h>
#include <acme/sys/dns.h>

#include "crypto/tsig.h"
#include "dns/dns.h"
#include "dns/providers/rfc2136.h"

/* The test key: 32 bytes 0x01..0x20, base64. */
static const guint8 key_bytes[32] = { 1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                      12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                      23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };
#define KEY_B64 "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="
#define NOW 1700000000ull

static void expect(int rc, acme_error **err, int code)
{
    if (rc != code)
        g_printerr("got %s: %s\n", acme_status_name(rc) ? acme_status_name(rc) : "?",
                   *err ? acme_error_message(*err) : "-");
    g_assert_cmpstr(acme_status_name(rc), ==, acme_status_name(code));
    if (code == ACME_OK) {
        g_assert_null(*err);
    } else {
        g_assert_nonnull(*err);
        g_assert_cmpint(acme_error_code_get(*err), ==, code);
        acme_error_free(*err);
        *err = NULL;
    }
}

/* The update of every test: zone example.com, _acme-challenge.example.com TXT "tok". */
static const guint8 zone_wire[] = "\x07" "example" "\x03" "com";      /* + the root's 0 */
static const guint8 fqdn_wire[] = "\x0f" "_acme-challenge" "\x07" "example" "\x03" "com";

static GByteArray *expected_update(guint16 id, gboolean add)
{
    GByteArray *b = g_byte_array_new();
    const guint8 hdr[12] = { id >> 8, id & 0xff, 0x28, 0x00, 0, 1, 0, 0, 0, 1, 0, 0 };
    const guint8 zone_tail[] = { 0, 0, 6, 0, 1 };                /* root, SOA, IN */
    const guint8 add_rr[] = { 0, 0, 16, 0, 1, 0, 0, 0, 60, 0, 4, 3, 't', 'o', 'k' };
    const guint8 del_rr[] = { 0, 0, 16, 0, 254, 0, 0, 0, 0, 0, 4, 3, 't', 'o', 'k' };

    g_byte_array_append(b, hdr, sizeof(hdr));
    g_byte_array_append(b, zone_wire, sizeof(zone_wire) - 1);
    g_byte_array_append(b, zone_tail, sizeof(zone_tail));
    g_byte_array_append(b, fqdn_wire, sizeof(fqdn_wire) - 1);
    g_byte_array_append(b, add ? add_rr : del_rr, sizeof(add_rr));
    return b;
}

static void assert_bytes(const void *got, size_t glen, const GByteArray *want)
{
    if (glen != want->len || memcmp(got, want->data, glen) != 0) {
        char *g = g_base64_encode(got, glen), *w = g_base64_encode(want->data, want->len);

        g_printerr("got  %s\nwant %s\n", g, w);
        g_free(g);
        g_free(w);
    }
    g_assert_cmpmem(got, glen, want->data, want->len);
}

static void test_encode(void)
{
    acme__buf m = ACME__BUF_INIT;
    acme_error *err = NULL;
    GByteArray *want;

    expect(acme__rfc2136_build_update(&m, 0xbeef, "example.com", "_acme-challenge.example.com",
                                      "tok", 60, true, &err),
           &err, ACME_OK);
    want = expected_update(0xbeef, TRUE);
    assert_bytes(m.data, m.len, want);
    g_byte_array_unref(want);
    acme__buf_clear(&m);

    expect(acme__rfc2136_build_update(&m, 0x0102, "example.com", "_acme-challenge.example.com",
                                      "tok", 60, false, &err),
           &err, ACME_OK);
    want = expected_update(0x0102, FALSE);
    assert_bytes(m.data, m.len, want);
    g_byte_array_unref(want);
    acme__buf_clear(&m);

    /* A 256-byte value does not fit one character-string; a bad name is refused. */
    {
        char big[257];

        memset(big, 'a', 256);
        big[256] = '\0';
        expect(acme__rfc2136_build_update(&m, 1, "example.com", "example.com", big, 60, true,
                                          &err),
               &err, ACME_E_INVALID);
        acme__buf_clear(&m);
    }
    expect(acme__rfc2136_build_update(&m, 1, "example..com", "x.example.com", "v", 60, true, &err),
           &err, ACME_E_INVALID);
    acme__buf_clear(&m);
}

/* ---- TSIG known answers ---- */

typedef struct alg_case {
    const char *name;        /* as configured */
    const char *wire;        /* the algorithm name on the wire */
    GChecksumType sum;
    size_t mac_len;
} alg_case;

static const alg_case alg_cases[] = {
    { "hmac-sha256", "hmac-sha256", G_CHECKSUM_SHA256, 32 },
    { "HMAC-SHA512.", "hmac-sha512", G_CHECKSUM_SHA512, 64 },
    { "sha1", "hmac-sha1", G_CHECKSUM_SHA1, 20 },
    { "hmac-sha384", "hmac-sha384", G_CHECKSUM_SHA384, 48 },
};

static void append16(GByteArray *b, guint v)
{
    guint8 p[2] = { (guint8)(v >> 8), (guint8)v };

    g_byte_array_append(b, p, 2);
}

static void append_name(GByteArray *b, const char *name)
{
    gchar **labels = g_strsplit(name, ".", -1);

    for (gchar **l = labels; *l; l++) {
        guint8 n = (guint8)strlen(*l);

        g_byte_array_append(b, &n, 1);
        g_byte_array_append(b, (const guint8 *)*l, n);
    }
    g_byte_array_append(b, (const guint8 *)"", 1);
    g_strfreev(labels);
}

/*
 * The TSIG variables of RFC 8945 §4.3.3 for key "acme-key": name, class
 * ANY, TTL 0, algorithm, time signed (48 bits), fudge, error, other len.
 */
static void append_tsig_vars(GByteArray *b, const char *alg, guint64 t, guint error)
{
    append_name(b, "acme-key");
    append16(b, 255);
    append16(b, 0);
    append16(b, 0);
    append_name(b, alg);
    append16(b, (guint)(t >> 32));
    append16(b, (guint)(t >> 16) & 0xffff);
    append16(b, (guint)t & 0xffff);
    append16(b, 300);
    append16(b, error);
    append16(b, 0);
}

static void ghmac(guint8 *out, gsize *len, GChecksumType sum, const GByteArray *in)
{
    GHmac *h = g_hmac_new(sum, key_bytes, sizeof(key_bytes));

    g_hmac_update(h, in->data, in->len);
    g_hmac_get_digest(h, out, len);
    g_hmac_unref(h);
}

static void key_for(acme__tsig_key *k, const char *alg)
{
    acme_error *err = NULL;

    expect(acme__tsig_key_init(k, "Acme-Key.", alg, KEY_B64, &err), &err, ACME_OK);
    g_assert_cmpstr(k->name, ==, "acme-key");
    g_assert_cmpmem(k->secret, k->secret_len, key_bytes, sizeof(key_bytes));
}

static void test_tsig_sign(gconstpointer data)
{
    const alg_case *c = data;
    acme__tsig_key k;
    acme__buf m = ACME__BUF_INIT;
    acme_error *err = NULL;
    unsigned char mac[ACME__TSIG_MAX_MAC];
    size_t mac_len = 0;
    GByteArray *unsigned_msg = expected_update(0x4242, TRUE), *digest = g_byte_array_new(),
               *rr = g_byte_array_new();
    guint8 want[64];
    gsize want_len = sizeof(want);

    key_for(&k, c->name);
    g_assert_cmpstr(k.alg_name, ==, c->wire);
    expect(acme__rfc2136_build_update(&m, 0x4242, "example.com", "_acme-challenge.example.com",
                                      "tok", 60, true, &err),
           &err, ACME_OK);
    expect(acme__rfc2136_sign(&m, &k, NOW, mac, &mac_len, &err), &err, ACME_OK);

    /* The MAC over the unsigned message and the TSIG variables, computed here. */
    g_byte_array_append(digest, unsigned_msg->data, unsigned_msg->len);
    append_tsig_vars(digest, c->wire, NOW, 0);
    ghmac(want, &want_len, c->sum, digest);
    g_assert_cmpuint(want_len, ==, c->mac_len);
    g_assert_cmpmem(mac, mac_len, want, want_len);

    /*
     * The signed message: the update with ARCOUNT 1, then the TSIG RR
     * (RFC 8945 §4.2): key name, TSIG, ANY, TTL 0, rdlength; algorithm,
     * time, fudge, MAC size, MAC, original id, error 0, other len 0.
     */
    unsigned_msg->data[11] = 1;
    append_name(rr, "acme-key");
    append16(rr, 250);
    append16(rr, 255);
    append16(rr, 0);
    append16(rr, 0);
    append16(rr, (guint)(strlen(c->wire) + 2 + 16 + want_len));
    append_name(rr, c->wire);
    append16(rr, (guint)(NOW >> 32));
    append16(rr, (guint)(NOW >> 16) & 0xffff);
    append16(rr, (guint)NOW & 0xffff);
    append16(rr, 300);
    append16(rr, (guint)want_len);
    g_byte_array_append(rr, want, (guint)want_len);
    append16(rr, 0x4242);
    append16(rr, 0);
    append16(rr, 0);
    g_byte_array_append(unsigned_msg, rr->data, rr->len);
    assert_bytes(m.data, m.len, unsigned_msg);

    g_byte_array_unref(unsigned_msg);
    g_byte_array_unref(digest);
    g_byte_array_unref(rr);
    acme__buf_clear(&m);
    acme__tsig_key_clear(&k);
}

/* ---- responses ---- */

typedef struct resp_spec {
    guint16 id;
    guint8 flags;            /* byte 2: QR | opcode << 3 */
    guint8 rcode;
    const char *zone;        /* NULL: no zone section */
    gboolean sign;
    const guint8 *req_mac;   /* the request MAC the response MAC covers */
    gsize req_mac_len;
    guint64 time;
    guint tsig_error;
    gboolean empty_mac;      /* BADSIG / BADKEY style: MAC size 0 */
    gboolean flip_mac;       /* corrupt one MAC byte */
    const char *key_name;    /* NULL: acme-key */
    guint16 orig_id;         /* 0: id */
} resp_spec;

/* A response as a server would send it, signed here with GHmac (RFC 8945 §4.3.1). */
static GByteArray *make_response(const resp_spec *s)
{
    GByteArray *b = g_byte_array_new(), *digest = g_byte_array_new();
    guint8 hdr[12] = { s->id >> 8, s->id & 0xff, s->flags, s->rcode, 0, s->zone ? 1 : 0,
                       0, 0, 0, 0, 0, 0 };
    guint8 mac[64];
    gsize mac_len = sizeof(mac);
    guint16 orig = s->orig_id ? s->orig_id : s->id;

    g_byte_array_append(b, hdr, sizeof(hdr));
    if (s->zone) {
        append_name(b, s->zone);
        append16(b, 6);
        append16(b, 1);
    }
    if (!s->sign) {
        g_byte_array_unref(digest);
        return b;
    }
    append16(digest, (guint)s->req_mac_len);
    g_byte_array_append(digest, s->req_mac, (guint)s->req_mac_len);
    /* The MAC covers the message with the original id and without the TSIG RR. */
    g_byte_array_append(digest, b->data, b->len);
    digest->data[2 + s->req_mac_len] = orig >> 8;
    digest->data[2 + s->req_mac_len + 1] = orig & 0xff;
    {
        GByteArray *vars = g_byte_array_new();

        append_name(vars, s->key_name ? s->key_name : "acme-key");
        append16(vars, 255);
        append16(vars, 0);
        append16(vars, 0);
        append_name(vars, "hmac-sha256");
        append16(vars, (guint)(s->time >> 32));
        append16(vars, (guint)(s->time >> 16) & 0xffff);
        append16(vars, (guint)s->time & 0xffff);
        append16(vars, 300);
        append16(vars, s->tsig_error);
        append16(vars, 0);
        g_byte_array_append(digest, vars->data, vars->len);
        g_byte_array_unref(vars);
    }
    ghmac(mac, &mac_len, G_CHECKSUM_SHA256, digest);
    if (s->empty_mac)
        mac_len = 0;
    if (s->flip_mac)
        mac[5] ^= 0x40;
    b->data[11] = 1; /* ARCOUNT */
    append_name(b, s->key_name ? s->key_name : "acme-key");
    append16(b, 250);
    append16(b, 255);
    append16(b, 0);
    append16(b, 0);
    append16(b, (guint)(13 + 16 + mac_len));
    append_name(b, "hmac-sha256");
    append16(b, (guint)(s->time >> 32));
    append16(b, (guint)(s->time >> 16) & 0xffff);
    append16(b, (guint)s->time & 0xffff);
    append16(b, 300);
    append16(b, (guint)mac_len);
    g_byte_array_append(b, mac, (guint)mac_len);
    append16(b, orig);
    append16(b, s->tsig_error);
    append16(b, 0);
    g_byte_array_unref(digest);
    return b;
}

static const guint8 req_mac[32] = "request-mac-request-mac-request";

static int check(const resp_spec *s, const acme__tsig_key *k, acme_error **err)
{
    GByteArray *r = make_response(s);
    int rc = acme__rfc2136_check_response(r->data, r->len, 0x1234, "example.com", k, req_mac,
                                          sizeof(req_mac), NOW, err);

    g_byte_array_unref(r);
    return rc;
}

static resp_spec good(void)
{
    return (resp_spec){ .id = 0x1234, .flags = 0xa8, .rcode = 0, .zone = "example.com",
                        .sign = TRUE, .req_mac = req_mac, .req_mac_len = sizeof(req_mac),
                        .time = NOW + 5 };
}

static void test_response(void)
{
    acme__tsig_key k;
    acme_error *err = NULL;
    resp_spec s;

    key_for(&k, NULL);
    s = good();
    expect(check(&s, &k, &err), &err, ACME_OK);
    /* The response MAC covers the request MAC: another request's does not verify. */
    {
        GByteArray *r = make_response(&s);
        guint8 other[32] = { 0 };

        expect(acme__rfc2136_check_response(r->data, r->len, 0x1234, "example.com", &k, other,
                                            sizeof(other), NOW, &err),
               &err, ACME_E_PROTOCOL);
        /* Cut short anywhere: refused, never read past the end. */
        for (guint len = 0; len < r->len; len++)
            expect(acme__rfc2136_check_response(r->data, len, 0x1234, "example.com", &k,
                                                req_mac, sizeof(req_mac), NOW, &err),
                   &err, ACME_E_PROTOCOL);
        g_byte_array_unref(r);
    }
    s = good();
    s.id = 0x1235;
    expect(check(&s, &k, &err), &err, ACME_E_PROTOCOL);            /* wrong id */
    s = good();
    s.flags = 0x28;
    expect(check(&s, &k, &err), &err, ACME_E_PROTOCOL);            /* a query, not a response */
    s = good();
    s.flags = 0x80;
    expect(check(&s, &k, &err), &err, ACME_E_PROTOCOL);            /* opcode QUERY */
    s = good();
    s.zone = "example.org";
    expect(check(&s, &k, &err), &err, ACME_E_PROTOCOL);            /* another zone */
    s = good();
    s.flip_mac = TRUE;
    expect(check(&s, &k, &err), &err, ACME_E_PROTOCOL);            /* bad TSIG */
    s = good();
    s.key_name = "other-key";
    expect(check(&s, &k, &err), &err, ACME_E_PROTOCOL);            /* another key */
    s = good();
    s.time = NOW - 301;
    expect(check(&s, &k, &err), &err, ACME_E_PROTOCOL);            /* outside the fudge */
    s = good();
    s.time = NOW - 300;
    expect(check(&s, &k, &err), &err, ACME_OK);                    /* at its edge */
    s = good();
    s.sign = FALSE;
    expect(check(&s, &k, &err), &err, ACME_E_PROTOCOL);            /* unsigned success */
    s = good();
    s.zone = NULL;
    expect(check(&s, &k, &err), &err, ACME_OK);                    /* no zone echoed */

    /* The server could not verify us: TSIG errors, unsigned refusals. */
    s = good();
    s.rcode = 9;
    s.tsig_error = 16;
    s.empty_mac = TRUE;
    expect(check(&s, &k, &err), &err, ACME_E_AUTH);                /* NOTAUTH BADSIG */
    s.tsig_error = 17;
    expect(check(&s, &k, &err), &err, ACME_E_AUTH);                /* BADKEY */
    s = good();
    s.rcode = 9;
    s.tsig_error = 18;
    s.time = NOW + 1000;
    expect(check(&s, &k, &err), &err, ACME_E_AUTH);                /* BADTIME (signed) */
    s = good();
    s.rcode = 5;
    s.sign = FALSE;
    expect(check(&s, &k, &err), &err, ACME_E_AUTH);                /* REFUSED, unsigned */

    /* RCODEs of signed answers. */
    {
        static const struct {
            guint8 rcode;
            int code;
        } map[] = { { 5, ACME_E_REJECTED }, { 9, ACME_E_AUTH },     { 2, ACME_E_NETWORK },
                    { 10, ACME_E_NOTINZONE }, { 1, ACME_E_PROTOCOL }, { 8, ACME_E_REJECTED },
                    { 4, ACME_E_REJECTED } };

        for (size_t i = 0; i < G_N_ELEMENTS(map); i++) {
            s = good();
            s.rcode = map[i].rcode;
            expect(check(&s, &k, &err), &err, map[i].code);
            /* Without a key, unsigned answers map the same way. */
            s.sign = FALSE;
            expect(check(&s, NULL, &err), &err, map[i].code);
        }
        s = good();
        s.sign = FALSE;
        expect(check(&s, NULL, &err), &err, ACME_OK);
        /* SERVFAIL is worth another try. */
        s.rcode = 2;
        g_assert_cmpint(check(&s, NULL, &err), ==, ACME_E_NETWORK);
        g_assert_true(acme_error_retryable(err));
        g_assert_cmpint(acme_error_retry_after(err), ==, 1); /* the core retries it */
        acme_error_free(err);
        err = NULL;
    }
    acme__tsig_key_clear(&k);
}

/* ---- the exchange: truncated over UDP, again over TCP ---- */

typedef struct fake_server {
    int udp, tcp;
    unsigned short port;
    guint8 tcp_answer_rcode;
    int udp_seen, tcp_seen;
} fake_server;

static gboolean fake_bind(fake_server *f)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    f->udp = socket(AF_INET, SOCK_DGRAM, 0);
    f->tcp = socket(AF_INET, SOCK_STREAM, 0);
    g_assert_cmpint(f->udp, >=, 0);
    g_assert_cmpint(f->tcp, >=, 0);
    g_assert_cmpint(bind(f->udp, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    g_assert_cmpint(getsockname(f->udp, (struct sockaddr *)&sa, &len), ==, 0);
    f->port = ntohs(sa.sin_port);
    /* The same port for TCP; another program may hold it: the caller tries again. */
    if (bind(f->tcp, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(f->tcp, 1) != 0) {
        close(f->udp);
        close(f->tcp);
        return FALSE;
    }
    return TRUE;
}

/* Answer one datagram with TC set, then one TCP exchange with a full (unsigned) answer. */
static gpointer fake_run(gpointer data)
{
    fake_server *f = data;
    guint8 q[4096], a[12], lenb[2];
    struct sockaddr_storage from;
    socklen_t fl = sizeof(from);
    ssize_t n = recvfrom(f->udp, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
    int c;
    size_t got = 0, want;

    g_assert_cmpint(n, >=, 12);
    f->udp_seen++;
    memcpy(a, q, 12);
    a[2] = 0x80 | (q[2] & 0x78) | 0x02; /* QR, the opcode, TC */
    a[3] = 0;
    memset(a + 4, 0, 8);
    g_assert_cmpint(sendto(f->udp, a, 12, 0, (struct sockaddr *)&from, fl), ==, 12);
    c = accept(f->tcp, NULL, NULL);
    g_assert_cmpint(c, >=, 0);
    while (got < 2 && (n = recv(c, lenb + got, 2 - got, 0)) > 0)
        got += (size_t)n;
    want = (size_t)lenb[0] << 8 | lenb[1];
    g_assert_cmpuint(want, <=, sizeof(q));
    for (got = 0; got < want && (n = recv(c, q + got, want - got, 0)) > 0;)
        got += (size_t)n;
    g_assert_cmpuint(got, ==, want);
    f->tcp_seen++;
    a[2] = 0x80 | (q[2] & 0x78);
    a[3] = f->tcp_answer_rcode;
    lenb[0] = 0;
    lenb[1] = 12;
    g_assert_cmpint(send(c, lenb, 2, 0), ==, 2);
    g_assert_cmpint(send(c, a, 12, 0), ==, 12);
    close(c);
    return NULL;
}

static void test_truncated_retries_tcp(void)
{
    fake_server f = { 0 };
    GThread *t;
    acme_dns_provider_options o = ACME_DNS_PROVIDER_OPTIONS_INIT;
    acme_dns_provider *p = NULL;
    acme_error *err = NULL;
    char *spec;
    int tries = 0;

    while (!fake_bind(&f))
        g_assert_cmpint(++tries, <, 20);
    f.tcp_answer_rcode = 5; /* REFUSED, so the test also sees the answer came from TCP */
    t = g_thread_new("fake-dns", fake_run, &f);
    /* Unsigned updates, a configured zone: exactly one exchange. */
    spec = g_strdup_printf("rfc2136:nameserver=127.0.0.1:%u,zone=example.com", f.port);
    o.ignore_environment = true;
    expect(acme_dns_provider_new(&p, spec, &o, &err), &err, ACME_OK);
    expect(acme_dns_provider_txt_add(p, "_acme-challenge.example.com", "tok", 60, &err), &err,
           ACME_E_REJECTED);
    g_thread_join(t);
    g_assert_cmpint(f.udp_seen, ==, 1);
    g_assert_cmpint(f.tcp_seen, ==, 1);
    acme_dns_provider_free(p);
    g_free(spec);
    close(f.udp);
    close(f.tcp);
}

/* ---- keys, settings, registry ---- */

static void test_keys(void)
{
    acme__tsig_key k;
    acme_error *err = NULL;
    unsigned char *sec = NULL;
    size_t len = 0;
    char *name = NULL, *alg = NULL, *secret = NULL;
    acme__tsig_alg a;

    expect(acme__tsig_secret_decode(&sec, &len, "AQID\nBA==", &err), &err, ACME_OK);
    g_assert_cmpmem(sec, len, key_bytes, 4);
    acme__tsig_secret_free(sec, len);
    expect(acme__tsig_secret_decode(&sec, &len, "AQIDBA", &err), &err, ACME_OK);
    g_assert_cmpuint(len, ==, 4);
    acme__tsig_secret_free(sec, len);
    expect(acme__tsig_secret_decode(&sec, &len, "AQ-_", &err), &err, ACME_E_INVALID);
    expect(acme__tsig_secret_decode(&sec, &len, "AQ==AQ", &err), &err, ACME_E_INVALID);
    expect(acme__tsig_secret_decode(&sec, &len, "A", &err), &err, ACME_E_INVALID);
    expect(acme__tsig_secret_decode(&sec, &len, "", &err), &err, ACME_E_INVALID);
    g_assert_null(sec);

    expect(acme__tsig_alg_lookup(&a, NULL, NULL, "hmac-md5.sig-alg.reg.int.", &err), &err,
           ACME_E_NOTSUP);
    expect(acme__tsig_alg_lookup(&a, NULL, NULL, "hmac-sha3", &err), &err, ACME_E_NOTSUP);
    expect(acme__tsig_key_init(&k, "bad..name", NULL, KEY_B64, &err), &err, ACME_E_INVALID);
    expect(acme__tsig_key_init(&k, "k", NULL, "not base64!", &err), &err, ACME_E_INVALID);
    g_assert_null(k.name);

    /* tsig-keygen output, with comments. */
    expect(acme__rfc2136_parse_keyfile(&name, &alg, &secret,
                                       "# tsig-keygen\nkey \"acme-key\" {\n"
                                       "\talgorithm hmac-sha512; // the algorithm\n"
                                       "\tsecret \"" KEY_B64 "\";\n};\n",
                                       &err),
           &err, ACME_OK);
    g_assert_cmpstr(name, ==, "acme-key");
    g_assert_cmpstr(alg, ==, "hmac-sha512");
    g_assert_cmpstr(secret, ==, KEY_B64);
    g_free(name);
    g_free(alg);
    g_free(secret);
    expect(acme__rfc2136_parse_keyfile(&name, &alg, &secret, "key \"k\" { algorithm x; };", &err),
           &err, ACME_E_INVALID);
    expect(acme__rfc2136_parse_keyfile(&name, &alg, &secret, "key \"k\" { secret \"AQ==\";", &err),
           &err, ACME_E_INVALID);
    expect(acme__rfc2136_parse_keyfile(&name, &alg, &secret, "", &err), &err, ACME_E_INVALID);
    g_assert_null(name);
}

static int provider_new(acme_dns_provider **p, const char *spec, const char *const *environ,
                        acme_error **err)
{
    acme_dns_provider_options o = ACME_DNS_PROVIDER_OPTIONS_INIT;

    o.environ = environ;
    return acme_dns_provider_new(p, spec, &o, err);
}

static void test_settings(void)
{
    static const char *const lego_env[] = { "DNSUPDATE_NAMESERVER=127.0.0.1:5353",
                                            "DNSUPDATE_TSIG_KEY=acme-key",
                                            "RFC2136_TSIG_SECRET=" KEY_B64,
                                            "RFC2136_TTL=77", NULL };
    static const char *const empty_env[] = { NULL };
    acme_dns_provider *p = NULL;
    acme_error *err = NULL;
    char *path, *text;

    g_assert_true(acme_dns_provider_find("rfc2136") == acme_dns_provider_find("DNSUpdate"));
    g_assert_true(acme_dns_provider_find("nsupdate") == acme_dns_provider_find("rfc2136"));
    g_assert_nonnull(acme_dns_provider_find("rfc2136"));

    /* lego's variables, the old RFC2136_ names as a fallback. */
    expect(provider_new(&p, "dnsupdate", lego_env, &err), &err, ACME_OK);
    g_assert_cmpstr(acme_dns_provider_name(p), ==, "rfc2136");
    g_assert_cmpstr(acme_dns_provider_setting(p, "nameserver"), ==, "127.0.0.1:5353");
    g_assert_cmpstr(acme_dns_provider_setting(p, "tsig_key"), ==, "acme-key");
    g_assert_null(acme_dns_provider_setting(p, "tsig_secret"));
    g_assert_cmpstr(acme_dns_provider_setting(p, "ttl"), ==, "77");
    acme_dns_provider_free(p);

    /* Checked before any traffic. */
    expect(provider_new(&p, "rfc2136", empty_env, &err), &err, ACME_E_INVALID);
    expect(provider_new(&p, "rfc2136:nameserver=[::1", empty_env, &err), &err, ACME_E_INVALID);
    expect(provider_new(&p, "rfc2136:nameserver=127.0.0.1:99999", empty_env, &err), &err,
           ACME_E_INVALID);
    expect(provider_new(&p, "rfc2136:nameserver=ns1.example.com:53,tsig_key=k", empty_env, &err),
           &err, ACME_E_INVALID);
    expect(provider_new(&p, "rfc2136:nameserver=::1,tsig_secret=" KEY_B64, empty_env, &err), &err,
           ACME_E_INVALID);
    expect(provider_new(&p, "rfc2136:nameserver=[::1]:53,tsig_key=k,tsig_secret=" KEY_B64
                            ",tsig_algorithm=hmac-md5",
                        empty_env, &err),
           &err, ACME_E_NOTSUP);
    expect(provider_new(&p, "rfc2136:nameserver=127.0.0.1,tsig_key=k,tsig_secret=%%%",
                        empty_env, &err),
           &err, ACME_E_INVALID);
    expect(provider_new(&p, "rfc2136:nameserver=127.0.0.1,tcp=maybe", empty_env, &err), &err,
           ACME_E_INVALID);
    expect(provider_new(&p, "rfc2136:nameserver=127.0.0.1,zones=a.test b..test", empty_env,
                        &err),
           &err, ACME_E_INVALID);
    expect(provider_new(&p, "rfc2136:nameserver=127.0.0.1,tsig_file=/nonexistent/key",
                        empty_env, &err),
           &err, ACME_E_IO);

    /* A bad secret never shows up in the message. */
    g_assert_cmpint(provider_new(&p, "rfc2136:nameserver=127.0.0.1,tsig_key=k,tsig_secret=s3cr3t!",
                                 empty_env, &err),
                    ==, ACME_E_INVALID);
    g_assert_null(strstr(acme_error_message(err), "s3cr3t"));
    acme_error_free(err);
    err = NULL;

    /* A key file; explicit settings win over it. */
    path = g_build_filename(g_get_tmp_dir(), "libacme-rfc2136-XXXXXX", NULL);
    {
        int fd = g_mkstemp(path);

        g_assert_cmpint(fd, >=, 0);
        close(fd);
    }
    g_assert_true(g_file_set_contents(path, "key \"filekey\" { algorithm hmac-sha1; secret \"" KEY_B64 "\"; };", -1, NULL));
    text = g_strdup_printf("rfc2136:nameserver=127.0.0.1,tsig_file=%s", path);
    expect(provider_new(&p, text, empty_env, &err), &err, ACME_OK);
    acme_dns_provider_free(p);
    g_free(text);
    text = g_strdup_printf("rfc2136:nameserver=127.0.0.1,tsig_file=%s,tsig_algorithm=hmac-md5",
                           path);
    expect(provider_new(&p, text, empty_env, &err), &err, ACME_E_NOTSUP);
    g_free(text);
    g_assert_true(g_file_set_contents(path, "garbage", -1, NULL));
    text = g_strdup_printf("rfc2136:nameserver=127.0.0.1,tsig_file=%s", path);
    expect(provider_new(&p, text, empty_env, &err), &err, ACME_E_INVALID);
    g_free(text);
    g_unlink(path);
    g_free(path);

    /* Without zones and without SOA answers, zones cannot be listed. */
    expect(provider_new(&p, "rfc2136:nameserver=127.0.0.1:9,zones=example.com", empty_env, &err),
           &err, ACME_OK);
    {
        char *zone = NULL;

        expect(acme_dns_provider_find_zone(&zone, p, "_acme-challenge.www.example.com", &err),
               &err, ACME_OK);
        g_assert_cmpstr(zone, ==, "example.com");
        acme_free(zone);
        expect(acme_dns_provider_find_zone(&zone, p, "example.org", &err), &err,
               ACME_E_ZONENOTFOUND);
    }
    acme_dns_provider_free(p);
}

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    if (acme_global_init() != ACME_OK)
        return 99;
    g_test_add_func("/rfc2136/encode", test_encode);
    for (size_t i = 0; i < G_N_ELEMENTS(alg_cases); i++) {
        char *path = g_strdup_printf("/rfc2136/tsig/sign/%s", alg_cases[i].wire);

        g_test_add_data_func(path, &alg_cases[i], test_tsig_sign);
        g_free(path);
    }
    g_test_add_func("/rfc2136/response", test_response);
    g_test_add_func("/rfc2136/truncated-retries-tcp", test_truncated_retries_tcp);
    g_test_add_func("/rfc2136/keys", test_keys);
    g_test_add_func("/rfc2136/settings", test_settings);
    rc = g_test_run();
    acme_global_cleanup();
    return rc;
}
