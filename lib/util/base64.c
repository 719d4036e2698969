/*
 * util: base64url (RFC 4648 §5, no padding, as JOSE and ACME use it) and
 * plain base64.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "util/util.h"

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *encode(const void *data, size_t len, const char *alphabet, bool pad)
{
    const unsigned char *in = data;
    size_t outlen = (len + 2) / 3 * 4 + 1;
    char *out, *p;
    size_t i;

    if (len > (SIZE_MAX - 1) / 4 * 3 - 3)
        return NULL;
    if (!(out = malloc(outlen)))
        return NULL;
    p = out;
    for (i = 0; i + 2 < len; i += 3) {
        *p++ = alphabet[in[i] >> 2];
        *p++ = alphabet[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
        *p++ = alphabet[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
        *p++ = alphabet[in[i + 2] & 63];
    }
    if (i < len) {
        *p++ = alphabet[in[i] >> 2];
        if (i + 1 < len) {
            *p++ = alphabet[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
            *p++ = alphabet[(in[i + 1] & 15) << 2];
        } else {
            *p++ = alphabet[(in[i] & 3) << 4];
            if (pad)
                *p++ = '=';
        }
        if (pad)
            *p++ = '=';
    }
    *p = '\0';
    return out;
}

char *acme__b64url_encode(const void *data, size_t len)
{
    return encode(data, len, b64url_alphabet, false);
}

char *acme__b64_encode(const void *data, size_t len)
{
    return encode(data, len, b64_alphabet, true);
}

static int b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

unsigned char *acme__b64url_decode(const char *s, size_t len, size_t *out_len)
{
    unsigned char *out;
    unsigned int acc = 0;
    int bits = 0;
    size_t n = 0;

    while (len > 0 && s[len - 1] == '=')
        len--;
    if (len % 4 == 1)
        return NULL;
    if (!(out = malloc(len / 4 * 3 + 3)))
        return NULL;
    for (size_t i = 0; i < len; i++) {
        int v = b64url_value((unsigned char)s[i]);

        if (v < 0) {
            free(out);
            return NULL;
        }
        acc = (acc << 6) | (unsigned int)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    /* Leftover bits must be zero (canonical encoding). */
    if (acc != 0) {
        free(out);
        return NULL;
    }
    if (out_len)
        *out_len = n;
    out[n] = 0;
    return out;
}

bool acme__is_b64url(const char *s)
{
    if (!s || !*s)
        return false;
    for (; *s; s++)
        if (b64url_value((unsigned char)*s) < 0)
            return false;
    return true;
}
