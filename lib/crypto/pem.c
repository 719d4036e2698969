/*
 * crypto: PEM framing (RFC 7468), GnuTLS datum helpers and error text.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/gtls.h"
#include "util/i18n.h"
#include "util/util.h"

#define PEM_BEGIN "-----BEGIN "
#define PEM_END "-----END "
#define PEM_DASHES "-----"

/* Find @p needle (nlen bytes) in hay[0..hlen). */
static const char *find(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
    if (nlen == 0 || hlen < nlen)
        return NULL;
    return memmem(hay, hlen, needle, nlen);
}

int acme__pem_next(const char *text, size_t len, size_t *pos, acme__pem_block *blk)
{
    const size_t blen = strlen(PEM_BEGIN), elen = strlen(PEM_END), dlen = strlen(PEM_DASHES);
    const char *p, *label, *label_end, *end, *stop = text + len;

    for (;;) {
        if (*pos >= len)
            return 0;
        p = find(text + *pos, len - *pos, PEM_BEGIN, blen);
        if (!p)
            return 0;
        /* The marker must start a line. */
        if (p != text && p[-1] != '\n') {
            *pos = (size_t)(p - text) + blen;
            continue;
        }
        break;
    }
    label = p + blen;
    label_end = find(label, (size_t)(stop - label), PEM_DASHES, dlen);
    if (!label_end || memchr(label, '\n', (size_t)(label_end - label)))
        return -1;
    /* The matching END line: "-----END <label>-----". */
    for (const char *q = label_end + dlen;;) {
        end = find(q, (size_t)(stop - q), PEM_END, elen);
        if (!end)
            return -1;
        q = end + elen;
        if ((size_t)(stop - q) >= (size_t)(label_end - label) + dlen &&
            memcmp(q, label, (size_t)(label_end - label)) == 0 &&
            memcmp(q + (label_end - label), PEM_DASHES, dlen) == 0) {
            end = q + (label_end - label) + dlen;
            break;
        }
        /* An END line for another label: this block is damaged. */
        return -1;
    }
    blk->label = label;
    blk->label_len = (size_t)(label_end - label);
    blk->begin = p;
    blk->len = (size_t)(end - p);
    *pos = (size_t)(end - text);
    return 1;
}

bool acme__pem_label_is(const acme__pem_block *blk, const char *label)
{
    return blk->label_len == strlen(label) && memcmp(blk->label, label, blk->label_len) == 0;
}

char *acme__pem_encode(const char *label, const void *der, size_t len)
{
    char *b64 = acme__b64_encode(der, len);
    acme__buf b = ACME__BUF_INIT;
    size_t n;
    int rc;

    if (!b64)
        return NULL;
    n = strlen(b64);
    rc = acme__buf_printf(&b, "-----BEGIN %s-----\n", label);
    for (size_t i = 0; rc == ACME_OK && i < n; i += 64) {
        rc = acme__buf_append(&b, b64 + i, n - i < 64 ? n - i : 64);
        if (rc == ACME_OK)
            rc = acme__buf_puts(&b, "\n");
    }
    if (rc == ACME_OK)
        rc = acme__buf_printf(&b, "-----END %s-----\n", label);
    free(b64);
    if (rc != ACME_OK) {
        acme__buf_clear(&b);
        return NULL;
    }
    return acme__buf_steal(&b);
}

char *acme__datum_strdup(const gnutls_datum_t *d)
{
    char *s = malloc((size_t)d->size + 1);

    if (!s)
        return NULL;
    if (d->size)
        memcpy(s, d->data, d->size);
    s[d->size] = '\0';
    return s;
}

void acme__datum_wipe(gnutls_datum_t *d)
{
    if (d->data) {
        gnutls_memset(d->data, 0, d->size);
        gnutls_free(d->data);
    }
    d->data = NULL;
    d->size = 0;
}

int acme__pubkey_der(gnutls_pubkey_t pub, gnutls_datum_t *out)
{
    out->data = NULL;
    out->size = 0;
    return gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, out);
}

int acme__gnutls_error(acme_error **err, int code, int gnutls_rc, const char *what)
{
    if (gnutls_rc == GNUTLS_E_MEMORY_ERROR)
        code = ACME_E_NOMEM;
    return acme_error_set(err, code, "%s: %s", what, gnutls_strerror(gnutls_rc));
}
