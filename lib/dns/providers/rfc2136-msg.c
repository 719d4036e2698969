/*
 * dns/providers: the message layer of the RFC 2136 provider (see
 * rfc2136.c): DNS UPDATE messages (RFC 2136 §2), TSIG signing and
 * verification (RFC 8945), the checks of a response and what its RCODE
 * means, and tsig-keygen key files.  Time and message id come in as
 * arguments, so that tests can fix them (tests/unit/rfc2136.c).
 *
 * Names are written with lib/dns/resolve.c's encoder and read with its
 * reader; the HMACs are lib/crypto/tsig.c's.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <acme/sys/error.h>

#include "dns/dns.h"
#include "dns/providers/rfc2136.h"
#include "util/error.h"
#include "util/i18n.h"
#include "util/util.h"

#define SERVICE "RFC 2136"
/* RFC 8945 §5.2: TSIG error codes (in the TSIG RR, not the header). */
#define TSIG_BADSIG 16
#define TSIG_BADKEY 17
#define TSIG_BADTIME 18
#define TSIG_BADTRUNC 22

/* ---- small wire helpers ---- */

static unsigned get16(const unsigned char *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

static int put16(acme__buf *b, unsigned v)
{
    unsigned char p[2] = { (unsigned char)(v >> 8), (unsigned char)v };

    return acme__buf_append(b, p, 2);
}

static int put32(acme__buf *b, uint32_t v)
{
    unsigned char p[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16),
                           (unsigned char)(v >> 8), (unsigned char)v };

    return acme__buf_append(b, p, 4);
}

static int put48(acme__buf *b, uint64_t v)
{
    return put16(b, (unsigned)(v >> 32) & 0xffff) < 0 ? -1 : put32(b, (uint32_t)v);
}

static int put_name(acme__buf *b, const char *name)
{
    unsigned char w[256];
    size_t n = acme__dns_name_wire(w, name);

    return n ? acme__buf_append(b, w, n) : -1;
}

static int nomem(acme_error **err)
{
    return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
}

/* ---- keys ---- */

int acme__tsig_key_init(acme__tsig_key *k, const char *name, const char *alg,
                        const char *secret_b64, acme_error **err)
{
    int rc;

    memset(k, 0, sizeof(*k));
    if ((rc = acme__dns_name_normalize(&k->name, name, NULL)) < 0)
        return acme_error_set(err, ACME_E_INVALID, _("bad TSIG key name \"%.80s\""),
                              name ? name : "");
    if ((rc = acme__tsig_alg_lookup(&k->alg, &k->alg_name, &k->mac_len,
                                    alg && *alg ? alg : "hmac-sha256", err)) < 0 ||
        (rc = acme__tsig_secret_decode(&k->secret, &k->secret_len, secret_b64, err)) < 0) {
        acme__tsig_key_clear(k);
        return rc;
    }
    return ACME_OK;
}

void acme__tsig_key_clear(acme__tsig_key *k)
{
    if (!k)
        return;
    free(k->name);
    acme__tsig_secret_free(k->secret, k->secret_len);
    memset(k, 0, sizeof(*k));
}

/* Next token of named.conf text: a quoted string, a word, or one of "{};". */
static const char *next_token(const char *p, char *tok, size_t cap)
{
    size_t n = 0;

    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            p++;
        if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
            while (*p && *p != '\n')
                p++;
        } else if (p[0] == '/' && p[1] == '*') {
            const char *end = strstr(p + 2, "*/");

            p = end ? end + 2 : p + strlen(p);
        } else {
            break;
        }
    }
    if (!*p)
        return NULL;
    if (*p == '"') {
        for (p++; *p && *p != '"'; p++)
            if (n + 1 < cap)
                tok[n++] = *p;
        if (*p != '"')
            return NULL;
        p++;
    } else if (strchr("{};", *p)) {
        tok[n++] = *p++;
    } else {
        while (*p && !strchr(" \t\r\n{};\"", *p))
            if (n + 1 < cap)
                tok[n++] = *p++;
            else
                p++;
    }
    tok[n] = '\0';
    return p;
}

int acme__rfc2136_parse_keyfile(char **name, char **alg, char **secret, const char *text,
                                acme_error **err)
{
    char tok[1024], kname[1024] = "", kalg[1024] = "", ksecret[1024] = "";
    const char *p = text;
    bool in_key = false;
    int depth = 0;

    *name = *alg = *secret = NULL;
    /* key "<name>" { algorithm <alg>; secret "<base64>"; }; (BIND 9 ARM, "key" statement) */
    while (p && (p = next_token(p, tok, sizeof(tok)))) {
        if (!in_key) {
            if (strcmp(tok, "key") == 0 && (p = next_token(p, tok, sizeof(tok)))) {
                snprintf(kname, sizeof(kname), "%s", tok);
                if ((p = next_token(p, tok, sizeof(tok))) && strcmp(tok, "{") == 0) {
                    in_key = true;
                    depth = 1;
                }
            }
            continue;
        }
        if (strcmp(tok, "{") == 0) {
            depth++;
        } else if (strcmp(tok, "}") == 0) {
            if (--depth == 0)
                break;
        } else if (depth == 1 && strcmp(tok, "algorithm") == 0) {
            if ((p = next_token(p, tok, sizeof(tok))))
                snprintf(kalg, sizeof(kalg), "%s", tok);
        } else if (depth == 1 && strcmp(tok, "secret") == 0) {
            if ((p = next_token(p, tok, sizeof(tok))))
                snprintf(ksecret, sizeof(ksecret), "%s", tok);
        }
    }
    if (!in_key || depth != 0 || !*kname || !*ksecret) {
        memset(tok, 0, sizeof(tok));
        memset(ksecret, 0, sizeof(ksecret));
        return acme_error_set(err, ACME_E_INVALID,
                              _("no complete key { algorithm ...; secret ...; } block in the "
                                "TSIG key file"));
    }
    *name = acme__strdup(kname);
    *alg = acme__strdup(*kalg ? kalg : "hmac-sha256");
    *secret = acme__strdup(ksecret);
    memset(tok, 0, sizeof(tok));
    memset(ksecret, 0, sizeof(ksecret));
    if (!*name || !*alg || !*secret) {
        free(*name);
        free(*alg);
        acme__free_secret(*secret);
        *name = *alg = *secret = NULL;
        return nomem(err);
    }
    return ACME_OK;
}

/* ---- messages ---- */

int acme__rfc2136_build_update(acme__buf *msg, uint16_t id, const char *zone, const char *fqdn,
                               const char *value, unsigned int ttl, bool add, acme_error **err)
{
    size_t vlen = strlen(value);
    unsigned char hdr[12] = { 0 }, slen = (unsigned char)vlen;

    if (vlen > 255)
        return acme_error_set(err, ACME_E_INVALID, _("a TXT value must have 1 to 255 bytes"));
    /* RFC 2136 §2.2: header with opcode UPDATE; ZOCOUNT 1, PRCOUNT 0, UPCOUNT 1, ADCOUNT 0. */
    hdr[0] = (unsigned char)(id >> 8);
    hdr[1] = (unsigned char)id;
    hdr[2] = ACME__RFC2136_OPCODE_UPDATE << 3;
    hdr[5] = 1;
    hdr[9] = 1;
    if (acme__buf_append(msg, hdr, sizeof(hdr)) < 0)
        return nomem(err);
    /* §2.3: the zone section names the zone, type SOA, class IN. */
    if (put_name(msg, zone) < 0)
        return acme_error_set(err, ACME_E_INVALID, _("bad zone name %s"), zone);
    if (put16(msg, ACME__DNS_T_SOA) < 0 || put16(msg, ACME__RFC2136_C_IN) < 0)
        return nomem(err);
    /*
     * §2.5.1 add to an RRset: class IN, the TTL, the rdata.
     * §2.5.4 delete an RR from an RRset: class NONE, TTL 0, the same rdata,
     * so only this value goes.
     */
    if (put_name(msg, fqdn) < 0)
        return acme_error_set(err, ACME_E_INVALID, _("bad DNS name %s"), fqdn);
    if (put16(msg, ACME__DNS_T_TXT) < 0 ||
        put16(msg, add ? ACME__RFC2136_C_IN : ACME__RFC2136_C_NONE) < 0 ||
        put32(msg, add ? ttl : 0) < 0)
        return nomem(err);
    /* TXT rdata (RFC 1035 §3.3.14): one <character-string> of up to 255 bytes. */
    if (put16(msg, (unsigned)(vlen + 1)) < 0 || acme__buf_append(msg, &slen, 1) < 0 ||
        acme__buf_append(msg, value, vlen) < 0)
        return nomem(err);
    return ACME_OK;
}

/*
 * The TSIG variables of RFC 8945 §4.3.3, in the order the MAC covers
 * them: key name (canonical), class, TTL, algorithm name (canonical),
 * time signed, fudge, error, other length, other data.
 */
static int put_tsig_vars(acme__buf *b, const char *key_name, unsigned klass, uint32_t ttl,
                         const char *alg_name, uint64_t time_signed, unsigned fudge,
                         unsigned error, const unsigned char *other, size_t other_len)
{
    if (put_name(b, key_name) < 0 || put16(b, klass) < 0 || put32(b, ttl) < 0 ||
        put_name(b, alg_name) < 0 || put48(b, time_signed) < 0 || put16(b, fudge) < 0 ||
        put16(b, error) < 0 || put16(b, (unsigned)other_len) < 0 ||
        (other_len && acme__buf_append(b, other, other_len) < 0))
        return -1;
    return 0;
}

int acme__rfc2136_sign(acme__buf *msg, const acme__tsig_key *key, uint64_t now,
                       unsigned char *mac, size_t *mac_len, acme_error **err)
{
    acme__buf in = ACME__BUF_INIT, rr = ACME__BUF_INIT;
    unsigned ar;
    int rc;

    if (msg->len < 12)
        return acme_error_set(err, ACME_E_INVALID, _("DNS message too short"));
    /* RFC 8945 §4.3.3: the MAC covers the message as it is, then the TSIG variables. */
    if (acme__buf_append(&in, msg->data, msg->len) < 0 ||
        put_tsig_vars(&in, key->name, ACME__RFC2136_C_ANY, 0, key->alg_name, now,
                      ACME__RFC2136_FUDGE, 0, NULL, 0) < 0) {
        rc = nomem(err);
        goto out;
    }
    if ((rc = acme__tsig_hmac(mac, mac_len, key->alg, key->secret, key->secret_len, in.data,
                              in.len, err)) < 0)
        goto out;
    /*
     * §4.2: the TSIG RR, last in the additional section: owner the key
     * name, type TSIG, class ANY, TTL 0; rdata algorithm, time signed,
     * fudge, MAC size, MAC, original id, error, other length.
     */
    if (put_name(&rr, key->alg_name) < 0 || put48(&rr, now) < 0 ||
        put16(&rr, ACME__RFC2136_FUDGE) < 0 || put16(&rr, (unsigned)*mac_len) < 0 ||
        acme__buf_append(&rr, mac, *mac_len) < 0 || put16(&rr, get16((unsigned char *)msg->data)) < 0 ||
        put16(&rr, 0) < 0 || put16(&rr, 0) < 0 || put_name(msg, key->name) < 0 ||
        put16(msg, ACME__RFC2136_T_TSIG) < 0 || put16(msg, ACME__RFC2136_C_ANY) < 0 ||
        put32(msg, 0) < 0 || put16(msg, (unsigned)rr.len) < 0 ||
        acme__buf_append(msg, rr.data, rr.len) < 0) {
        rc = nomem(err);
        goto out;
    }
    ar = get16((unsigned char *)msg->data + 10) + 1;
    msg->data[10] = (char)(ar >> 8);
    msg->data[11] = (char)ar;
    rc = ACME_OK;
out:
    acme__buf_clear(&in);
    acme__buf_clear(&rr);
    return rc;
}

/* Skip one resource record at *off; its type and the start of its rdata out. */
static int skip_rr(const unsigned char *m, size_t len, size_t *off, char *owner, unsigned *type,
                   size_t *rd, unsigned *rdlen)
{
    if (acme__dns_read_name(m, len, off, owner) < 0 || *off + 10 > len)
        return -1;
    *type = get16(m + *off);
    *rdlen = get16(m + *off + 8);
    *rd = *off + 10;
    if (*rd + *rdlen > len)
        return -1;
    *off = *rd + *rdlen;
    return 0;
}

static const char *rcode_name(unsigned rcode)
{
    static const char *const names[] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                         "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET",
                                         "NXRRSET", "NOTAUTH", "NOTZONE" };

    return rcode < ACME_ARRAY_SIZE(names) ? names[rcode] : "RCODE?";
}

static const char *tsig_error_name(unsigned e)
{
    switch (e) {
    case TSIG_BADSIG: return "BADSIG";
    case TSIG_BADKEY: return "BADKEY";
    case TSIG_BADTIME: return "BADTIME";
    case TSIG_BADTRUNC: return "BADTRUNC";
    default: return rcode_name(e);
    }
}

/* The parsed TSIG RR of a response. */
typedef struct tsig_rr {
    char key[256], alg[256];
    unsigned klass;
    uint32_t ttl;
    uint64_t time_signed;
    unsigned fudge, orig_id, error;
    const unsigned char *mac, *other;
    size_t mac_len, other_len;
} tsig_rr;

static int parse_tsig(tsig_rr *t, const unsigned char *m, size_t len, size_t at, size_t rd,
                      unsigned rdlen)
{
    size_t off = at, end = rd + rdlen;

    memset(t, 0, sizeof(*t));
    if (acme__dns_read_name(m, len, &off, t->key) < 0)
        return -1;
    t->klass = get16(m + off + 2);
    t->ttl = (uint32_t)get16(m + off + 4) << 16 | get16(m + off + 6);
    off = rd;
    if (acme__dns_read_name(m, end, &off, t->alg) < 0 || off + 10 > end)
        return -1;
    t->time_signed = (uint64_t)get16(m + off) << 32 | (uint64_t)get16(m + off + 2) << 16 |
                     get16(m + off + 4);
    t->fudge = get16(m + off + 6);
    t->mac_len = get16(m + off + 8);
    off += 10;
    if (off + t->mac_len + 6 > end)
        return -1;
    t->mac = m + off;
    off += t->mac_len;
    t->orig_id = get16(m + off);
    t->error = get16(m + off + 2);
    t->other_len = get16(m + off + 4);
    off += 6;
    if (off + t->other_len != end)
        return -1;
    t->other = m + off;
    return 0;
}

/* RFC 8945 §5.3: verify a response's TSIG (whose RR starts at @p at) against the request MAC. */
static int verify_tsig(const tsig_rr *t, const unsigned char *m, size_t at,
                       const acme__tsig_key *key, const unsigned char *req_mac,
                       size_t req_mac_len, uint64_t now, acme_error **err)
{
    acme__buf in = ACME__BUF_INIT;
    unsigned char mac[ACME__TSIG_MAX_MAC], hdr[12];
    size_t mac_len = 0, min_len;
    unsigned ar = get16(m + 10) - 1;
    int rc;

    if (strcmp(t->key, key->name) != 0 || strcmp(t->alg, key->alg_name) != 0)
        return acme_error_set(err, ACME_E_PROTOCOL,
                              _("%s: the response is signed with another TSIG key"), SERVICE);
    /* §5.2.2.1: a truncated MAC keeps at least 10 bytes and half the length. */
    min_len = key->mac_len / 2 > 10 ? key->mac_len / 2 : 10;
    if (t->mac_len < min_len || t->mac_len > key->mac_len)
        return acme_error_set(err, ACME_E_PROTOCOL, _("%s: the response's TSIG MAC has %zu bytes"),
                              SERVICE, t->mac_len);
    /*
     * §4.3.1, §4.3.3: the request MAC (size, then MAC), the response
     * without its TSIG RR (ARCOUNT one less, the original id), then the
     * TSIG variables.
     */
    memcpy(hdr, m, 12);
    hdr[0] = (unsigned char)(t->orig_id >> 8);
    hdr[1] = (unsigned char)t->orig_id;
    hdr[10] = (unsigned char)(ar >> 8);
    hdr[11] = (unsigned char)ar;
    if (put16(&in, (unsigned)req_mac_len) < 0 || acme__buf_append(&in, req_mac, req_mac_len) < 0 ||
        acme__buf_append(&in, hdr, 12) < 0 || acme__buf_append(&in, m + 12, at - 12) < 0 ||
        put_tsig_vars(&in, t->key, t->klass, t->ttl, t->alg, t->time_signed, t->fudge, t->error,
                      t->other, t->other_len) < 0) {
        acme__buf_clear(&in);
        return nomem(err);
    }
    rc = acme__tsig_hmac(mac, &mac_len, key->alg, key->secret, key->secret_len, in.data, in.len,
                         err);
    acme__buf_clear(&in);
    if (rc < 0)
        return rc;
    if (!acme__tsig_mac_equal(mac, t->mac_len, t->mac, t->mac_len))
        return acme_error_set(err, ACME_E_PROTOCOL,
                              _("%s: the TSIG of the response does not verify"), SERVICE);
    /* §5.2.3: the time check comes after the MAC (an unverified time says nothing). */
    if ((now > t->time_signed ? now - t->time_signed : t->time_signed - now) > t->fudge)
        return acme_error_set(err, ACME_E_PROTOCOL,
                              _("%s: the response was signed %lld s away from our clock (fudge "
                                "%u s): are the clocks set?"),
                              SERVICE, (long long)now - (long long)t->time_signed, t->fudge);
    return ACME_OK;
}

int acme__rfc2136_check_response(const unsigned char *m, size_t len, uint16_t id,
                                 const char *zone, const acme__tsig_key *key,
                                 const unsigned char *req_mac, size_t req_mac_len, uint64_t now,
                                 acme_error **err)
{
    char owner[256];
    unsigned zo, pr, up, ad, rcode, type, rdlen;
    size_t off = 12, rd, tsig_at = 0;
    bool has_tsig = false;
    tsig_rr t;
    int rc;

    /* RFC 2136 §3.8: the response carries our id, QR and opcode UPDATE. */
    if (len < 12 || get16(m) != id || !(m[2] & 0x80) ||
        ((m[2] >> 3) & 0x0f) != ACME__RFC2136_OPCODE_UPDATE)
        return acme_error_set(err, ACME_E_PROTOCOL, _("%s: not a response to our update"),
                              SERVICE);
    rcode = m[3] & 0x0f;
    zo = get16(m + 4);
    pr = get16(m + 6);
    up = get16(m + 8);
    ad = get16(m + 10);
    /* The zone section, when echoed, must be ours. */
    for (unsigned i = 0; i < zo; i++) {
        if (acme__dns_read_name(m, len, &off, owner) < 0 || off + 4 > len)
            goto bad;
        if (i == 0 && (strcmp(owner, zone) != 0 || get16(m + off) != ACME__DNS_T_SOA))
            return acme_error_set(err, ACME_E_PROTOCOL,
                                  _("%s: the response is about another zone"), SERVICE);
        off += 4;
    }
    for (unsigned i = 0; i < pr + up + ad; i++) {
        size_t at = off;

        if (skip_rr(m, len, &off, owner, &type, &rd, &rdlen) < 0)
            goto bad;
        if (type == ACME__RFC2136_T_TSIG) {
            /* §5.1: TSIG is the last record, and only in the additional section. */
            if (i != pr + up + ad - 1 || i < pr + up || off != len)
                goto bad;
            if (parse_tsig(&t, m, len, at, rd, rdlen) < 0)
                goto bad;
            has_tsig = true;
            tsig_at = at;
        }
    }
    if (key) {
        if (has_tsig && t.error)
            /* §5.3.2: the server could not verify us; BADSIG and BADKEY come unsigned. */
            return acme_error_set(err, ACME_E_AUTH,
                                  _("%s: the server refused the TSIG key %s: %s %s"), SERVICE,
                                  key->name, rcode_name(rcode), tsig_error_name(t.error));
        if (!has_tsig) {
            /*
             * §5.3: a server that verified the request signs its response.
             * An unsigned refusal means it did not take our signature (an
             * unknown key, a wrong secret): credentials, not policy.
             */
            if (rcode == 5 || rcode == 9)
                return acme_error_set(err, ACME_E_AUTH,
                                      _("%s: the server did not accept the TSIG key %s (%s, "
                                        "unsigned answer)"),
                                      SERVICE, key->name, rcode_name(rcode));
            if (rcode != 0)
                goto by_rcode; /* FORMERR, SERVFAIL, NOTIMP: the server's own trouble */
            return acme_error_set(err, ACME_E_PROTOCOL,
                                  _("%s: the response to a signed update is not signed"),
                                  SERVICE);
        }
        if ((rc = verify_tsig(&t, m, tsig_at, key, req_mac, req_mac_len, now, err)) < 0)
            return rc;
    }
by_rcode:
    /* RFC 2136 §2.2, RFC 8945 §5.3.2: what each RCODE means for us. */
    switch (rcode) {
    case 0:
        return ACME_OK;
    case 2: { /* SERVFAIL: the server's trouble; worth another try, in a second */
        int code = acme_error_set(err, ACME_E_NETWORK, _("%s: the server failed the update (%s)"),
                                  SERVICE, rcode_name(rcode));

        if (err && *err)
            (*err)->retry_after = 1;
        return code;
    }
    case 9: /* NOTAUTH: not authoritative for the zone, or (with TSIG) not authorised */
        return acme_error_set(err, ACME_E_AUTH,
                              _("%s: the server is not authoritative for %s or refuses our "
                                "credentials (NOTAUTH)"),
                              SERVICE, zone);
    case 10: /* NOTZONE: the name is not in the zone section's zone */
        return acme_error_set(err, ACME_E_NOTINZONE, _("%s: the name is not in the zone %s (NOTZONE)"),
                              SERVICE, zone);
    case 1: /* FORMERR: we sent something it could not parse */
        return acme_error_set(err, ACME_E_PROTOCOL, _("%s: the server could not parse the update (FORMERR)"),
                              SERVICE);
    default: /* REFUSED (policy), NOTIMP, prerequisite failures */
        return acme_error_set(err, ACME_E_REJECTED, _("%s: the server refused the update for zone %s (%s)"),
                              SERVICE, zone, rcode_name(rcode));
    }
bad:
    return acme_error_set(err, ACME_E_PROTOCOL, _("%s: malformed response"), SERVICE);
}
