/*
 * util: strings and growable buffers.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <acme/common.h>

#include "util/util.h"

void acme_free(void *p)
{
    free(p);
}

void acme_free_strv(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

char *acme__strdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

char *acme__strndup(const char *s, size_t n)
{
    return s ? strndup(s, n) : NULL;
}

char *acme__vasprintf(const char *fmt, va_list ap)
{
    char *out = NULL;

    if (vasprintf(&out, fmt, ap) < 0)
        return NULL;
    return out;
}

char *acme__asprintf(const char *fmt, ...)
{
    va_list ap;
    char *out;

    va_start(ap, fmt);
    out = acme__vasprintf(fmt, ap);
    va_end(ap);
    return out;
}

bool acme__strncaseeq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ca = (unsigned char)a[i], cb = (unsigned char)b[i];

        if (ca >= 'A' && ca <= 'Z')
            ca += 'a' - 'A';
        if (cb >= 'A' && cb <= 'Z')
            cb += 'a' - 'A';
        if (ca != cb)
            return false;
        if (ca == '\0')
            return true;
    }
    return true;
}

void acme__free_secret(char *s)
{
    if (!s)
        return;
    /* volatile so that the compiler cannot drop the wipe before free(). */
    for (volatile char *p = s; *p; p++)
        *p = 0;
    free(s);
}

char **acme__strv_dup(const char *const *v, size_t n)
{
    char **out = calloc(n ? n : 1, sizeof(*out));

    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (!(out[i] = strdup(v[i] ? v[i] : ""))) {
            while (i--)
                free(out[i]);
            free(out);
            return NULL;
        }
    }
    return out;
}

int acme__buf_reserve(acme__buf *b, size_t extra)
{
    size_t need, cap;
    char *p;

    if (extra > SIZE_MAX - b->len - 1)
        return ACME_E_NOMEM;
    need = b->len + extra + 1;
    if (need <= b->cap)
        return ACME_OK;
    cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (!(p = realloc(b->data, cap)))
        return ACME_E_NOMEM;
    b->data = p;
    b->cap = cap;
    return ACME_OK;
}

int acme__buf_append(acme__buf *b, const void *data, size_t len)
{
    int rc = acme__buf_reserve(b, len);

    if (rc < 0)
        return rc;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return ACME_OK;
}

int acme__buf_puts(acme__buf *b, const char *s)
{
    return acme__buf_append(b, s, strlen(s));
}

int acme__buf_printf(acme__buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || acme__buf_reserve(b, (size_t)n) < 0)
        return ACME_E_NOMEM;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return ACME_OK;
}

char *acme__buf_steal(acme__buf *b)
{
    char *p = b->data;

    if (!p)
        p = strdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

void acme__buf_clear(acme__buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
