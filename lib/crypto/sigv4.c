/*
 * crypto: AWS Signature Version 4 request signing (see sigv4.h), written
 * from the AWS General Reference description and checked against its
 * published test vectors (tests/unit/dnsp2.c).  Only the hashing and the
 * HMAC come from GnuTLS; the canonical forms are built here.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/gtls.h"
#include "crypto/sigv4.h"
#include "util/i18n.h"
#include "util/util.h"

#define ALGORITHM "AWS4-HMAC-SHA256"

int acme__hmac_sha256(unsigned char out[32], const void *key, size_t keylen, const void *data,
                      size_t len)
{
    return gnutls_hmac_fast(GNUTLS_MAC_SHA256, key, keylen, data, len, out) < 0 ? ACME_E_CRYPTO
                                                                                : ACME_OK;
}

static void hex(char *out, const unsigned char *in, size_t len)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

void acme__sigv4_amzdate(char buf[17], time_t t)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(buf, 17, "%Y%m%dT%H%M%SZ", &tm);
}

static bool unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == '~';
}

char *acme__sigv4_uri_encode(const char *s, size_t len, int keep_slash)
{
    static const char digits[] = "0123456789ABCDEF";
    acme__buf b = ACME__BUF_INIT;

    if (acme__buf_reserve(&b, len + 1) < 0)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char enc[3] = { '%', digits[c >> 4], digits[c & 15] };

        if ((unreserved(c) || (keep_slash && c == '/')) ? acme__buf_append(&b, &s[i], 1) < 0
                                                        : acme__buf_append(&b, enc, 3) < 0) {
            acme__buf_clear(&b);
            return NULL;
        }
    }
    if (acme__buf_append(&b, "", 0) < 0) {
        acme__buf_clear(&b);
        return NULL;
    }
    return acme__buf_steal(&b);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* %XX-decode @p len bytes, then encode them the SigV4 way (one canonical spelling). */
static char *requote(const char *s, size_t len)
{
    char *plain = malloc(len + 1), *out;
    size_t j = 0;

    if (!plain)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            plain[j++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            plain[j++] = s[i];
        }
    }
    out = acme__sigv4_uri_encode(plain, j, 0);
    free(plain);
    return out;
}

typedef struct pair {
    char *name, *value;
} pair;

static int pair_cmp(const void *a, const void *b)
{
    const pair *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    return c ? c : strcmp(x->value, y->value);
}

static void pairs_free(pair *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].value);
    }
    free(v);
}

/* CanonicalQueryString: every parameter re-encoded, sorted by name then value. */
static int canonical_query(acme__buf *b, const char *query)
{
    pair *v = NULL;
    size_t n = 0, cap = 0;
    const char *p = query;
    int rc = ACME_OK;

    while (p && *p) {
        const char *amp = strchr(p, '&'), *end = amp ? amp : p + strlen(p), *eq;

        if (end > p) {
            if (n == cap) {
                pair *nv = realloc(v, (cap = cap ? 2 * cap : 8) * sizeof(*v));

                if (!nv) {
                    rc = ACME_E_NOMEM;
                    goto out;
                }
                v = nv;
            }
            eq = memchr(p, '=', (size_t)(end - p));
            v[n].name = requote(p, (size_t)((eq ? eq : end) - p));
            v[n].value = eq ? requote(eq + 1, (size_t)(end - eq - 1)) : acme__strdup("");
            n++;
            if (!v[n - 1].name || !v[n - 1].value) {
                rc = ACME_E_NOMEM;
                goto out;
            }
        }
        p = amp ? amp + 1 : NULL;
    }
    if (n)
        qsort(v, n, sizeof(*v), pair_cmp);
    for (size_t i = 0; i < n && rc == ACME_OK; i++)
        rc = acme__buf_printf(b, "%s%s=%s", i ? "&" : "", v[i].name, v[i].value) < 0
                 ? ACME_E_NOMEM
                 : ACME_OK;
out:
    pairs_free(v, n);
    return rc;
}

static int header_cmp(const void *a, const void *b)
{
    /* Stable for equal names: the index breaks ties (values of a repeated header keep order). */
    const pair *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    return c ? c : (x < y ? -1 : x > y);
}

/*
 * CanonicalHeaders and SignedHeaders: names lower-cased, values trimmed
 * with inner runs of spaces collapsed, sorted by name, a repeated header's
 * values joined with ','.
 */
static int canonical_headers(acme__buf *canon, acme__buf *signed_names,
                             const char *const *headers, acme_error **err)
{
    size_t n = 0, k = 0;
    pair *v;
    int rc = ACME_OK;

    while (headers && headers[n])
        n++;
    if (!n)
        return acme_error_set(err, ACME_E_INVALID, _("SigV4: no headers to sign"));
    if (!(v = calloc(n, sizeof(*v))))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    for (; k < n; k++) {
        const char *h = headers[k], *colon = strchr(h, ':'), *val;
        size_t nlen, j = 0;
        bool space = false;

        if (!colon || colon == h) {
            pairs_free(v, k);
            return acme_error_set(err, ACME_E_INVALID, _("SigV4: malformed header line"));
        }
        nlen = (size_t)(colon - h);
        v[k].name = acme__strndup(h, nlen);
        v[k].value = malloc(strlen(colon + 1) + 1);
        if (!v[k].name || !v[k].value) {
            pairs_free(v, k + 1);
            return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        }
        for (size_t i = 0; i < nlen; i++)
            if (v[k].name[i] >= 'A' && v[k].name[i] <= 'Z')
                v[k].name[i] = (char)(v[k].name[i] - 'A' + 'a');
        for (val = colon + 1; *val; val++) {
            if (*val == ' ' || *val == '\t') {
                space = j > 0;
                continue;
            }
            if (space)
                v[k].value[j++] = ' ';
            space = false;
            v[k].value[j++] = *val;
        }
        v[k].value[j] = '\0';
    }
    qsort(v, n, sizeof(*v), header_cmp);
    for (size_t i = 0; i < n && rc == ACME_OK; i++) {
        bool same = i > 0 && strcmp(v[i].name, v[i - 1].name) == 0;
        bool last = i + 1 == n || strcmp(v[i].name, v[i + 1].name) != 0;

        if (same)
            rc = acme__buf_printf(canon, ",%s", v[i].value);
        else
            rc = acme__buf_printf(canon, "%s:%s", v[i].name, v[i].value) < 0 ||
                         acme__buf_printf(signed_names, "%s%s", i ? ";" : "", v[i].name) < 0
                     ? -1
                     : 0;
        if (rc == 0 && last)
            rc = acme__buf_puts(canon, "\n");
        rc = rc < 0 ? ACME_E_NOMEM : ACME_OK;
    }
    pairs_free(v, n);
    if (rc < 0)
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    return ACME_OK;
}

void acme__sigv4_clear(acme__sigv4 *s)
{
    if (!s)
        return;
    free(s->canonical_request);
    free(s->string_to_sign);
    free(s->signed_headers);
    free(s->authorization);
    memset(s, 0, sizeof(*s));
}

static bool amzdate_ok(const char *d)
{
    if (strlen(d) != 16 || d[8] != 'T' || d[15] != 'Z')
        return false;
    for (int i = 0; i < 15; i++)
        if (i != 8 && (d[i] < '0' || d[i] > '9'))
            return false;
    return true;
}

int acme__sigv4_sign(acme__sigv4 *out, const acme__sigv4_request *req, acme_error **err)
{
    acme__buf canon = ACME__BUF_INIT, names = ACME__BUF_INIT, sts = ACME__BUF_INIT,
              secret = ACME__BUF_INIT;
    unsigned char digest[32], key[32];
    char payload_hash[65], date[9], *path = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!req || !req->method || !req->path || !req->access_key || !req->secret_key ||
        !req->region || !req->service || !req->amzdate)
        return acme_error_set(err, ACME_E_INVALID, _("SigV4: incomplete request"));
    if (!amzdate_ok(req->amzdate))
        return acme_error_set(err, ACME_E_INVALID, _("SigV4: malformed X-Amz-Date"));
    memcpy(date, req->amzdate, 8);
    date[8] = '\0';

    /*
     * Task 1, the canonical request.  The path as sent is encoded once
     * more (every service but S3 signs the double-encoded path); "/" stays.
     */
    if (acme__sha256(digest, req->payload ? req->payload : "", req->payload ? req->payload_len : 0) <
        0)
        return acme_error_set(err, ACME_E_CRYPTO, _("SigV4: SHA-256 failed"));
    hex(payload_hash, digest, 32);
    if (!(path = acme__sigv4_uri_encode(*req->path ? req->path : "/",
                                        *req->path ? strlen(req->path) : 1, 1)) ||
        acme__buf_printf(&canon, "%s\n%s\n", req->method, path) < 0 ||
        canonical_query(&canon, req->query) < 0 || acme__buf_puts(&canon, "\n") < 0) {
        rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        goto out;
    }
    if ((rc = canonical_headers(&canon, &names, req->headers, err)) < 0)
        goto out;
    if (acme__buf_append(&names, "", 0) < 0 ||
        acme__buf_printf(&canon, "\n%s\n%s", names.data, payload_hash) < 0) {
        rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        goto out;
    }

    /* Task 2, the string to sign: algorithm, date, scope, hash of the canonical request. */
    if (acme__sha256(digest, canon.data, canon.len) < 0) {
        rc = acme_error_set(err, ACME_E_CRYPTO, _("SigV4: SHA-256 failed"));
        goto out;
    }
    hex(out->canonical_hash, digest, 32);
    if (acme__buf_printf(&sts, ALGORITHM "\n%s\n%s/%s/%s/aws4_request\n%s", req->amzdate, date,
                         req->region, req->service, out->canonical_hash) < 0) {
        rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        goto out;
    }

    /* Task 3, the signing key: HMAC chain from "AWS4" + secret. */
    if (acme__buf_printf(&secret, "AWS4%s", req->secret_key) < 0) {
        rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        goto out;
    }
    if (acme__hmac_sha256(key, secret.data, secret.len, date, strlen(date)) < 0 ||
        acme__hmac_sha256(key, key, 32, req->region, strlen(req->region)) < 0 ||
        acme__hmac_sha256(key, key, 32, req->service, strlen(req->service)) < 0 ||
        acme__hmac_sha256(key, key, 32, "aws4_request", 12) < 0) {
        rc = acme_error_set(err, ACME_E_CRYPTO, _("SigV4: HMAC-SHA256 failed"));
        goto out;
    }
    hex(out->signing_key, key, 32);

    /* Task 4, the signature and the Authorization header. */
    if (acme__hmac_sha256(digest, key, 32, sts.data, sts.len) < 0) {
        rc = acme_error_set(err, ACME_E_CRYPTO, _("SigV4: HMAC-SHA256 failed"));
        goto out;
    }
    hex(out->signature, digest, 32);
    out->authorization = acme__asprintf(ALGORITHM " Credential=%s/%s/%s/%s/aws4_request, "
                                                  "SignedHeaders=%s, Signature=%s",
                                        req->access_key, date, req->region, req->service,
                                        names.data, out->signature);
    out->canonical_request = acme__buf_steal(&canon);
    out->string_to_sign = acme__buf_steal(&sts);
    out->signed_headers = acme__buf_steal(&names);
    if (!out->authorization || !out->canonical_request || !out->string_to_sign ||
        !out->signed_headers) {
        acme__sigv4_clear(out);
        rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        goto out;
    }
    rc = ACME_OK;
out:
    /* The derived keys are as good as the secret for a day: wipe them. */
    memset(key, 0, sizeof(key));
    if (secret.data)
        memset(secret.data, 0, secret.len);
    acme__buf_clear(&secret);
    acme__buf_clear(&canon);
    acme__buf_clear(&names);
    acme__buf_clear(&sts);
    free(path);
    return rc;
}
