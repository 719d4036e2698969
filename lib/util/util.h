/*
 * util: small helpers every layer uses: strings, growable buffers,
 * base64url, time formats.
 */
#ifndef ACME_UTIL_UTIL_H
#define ACME_UTIL_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <acme/error.h>

#define ACME_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Strings.  Each returns NULL only when out of memory (or s is NULL). */
char *acme__strdup(const char *s);
char *acme__strndup(const char *s, size_t n);
char *acme__asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *acme__vasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
/* Case-insensitive ASCII comparison of the first n bytes (HTTP headers). */
bool acme__strncaseeq(const char *a, const char *b, size_t n);
/* Overwrite then free a secret string. */
void acme__free_secret(char *s);
/* Duplicate an array of n strings; NULL on out of memory. */
char **acme__strv_dup(const char *const *v, size_t n);

/* A growable byte buffer, always NUL-terminated when data is not NULL. */
typedef struct acme__buf {
    char *data;
    size_t len;
    size_t cap;
} acme__buf;

#define ACME__BUF_INIT { NULL, 0, 0 }

int acme__buf_reserve(acme__buf *b, size_t extra);
int acme__buf_append(acme__buf *b, const void *data, size_t len);
int acme__buf_puts(acme__buf *b, const char *s);
int acme__buf_printf(acme__buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hand over the data (never NULL on success: "" for an empty buffer). */
char *acme__buf_steal(acme__buf *b);
void acme__buf_clear(acme__buf *b);

/* base64url (RFC 4648 §5) without padding. */
char *acme__b64url_encode(const void *data, size_t len);
/* Decodes with or without padding; NULL on bad input (or no memory). *out_len is set. */
unsigned char *acme__b64url_decode(const char *s, size_t len, size_t *out_len);
/* Standard base64 with padding (PEM bodies, HTTP Basic auth). */
char *acme__b64_encode(const void *data, size_t len);
/* True when s is non-empty and only [A-Za-z0-9_-] (an ACME token). */
bool acme__is_b64url(const char *s);

/* Time. */
/* RFC 3339 ("2026-11-23T16:10:00Z", fractions and offsets allowed); -1 on error. */
int acme__time_parse_rfc3339(const char *s, time_t *out);
/* "2026-11-23T16:10:00Z" into buf (at least 21 bytes). */
void acme__time_format_rfc3339(time_t t, char *buf, size_t len);
/*
 * Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP-date.  Returns
 * the delay in seconds from @p now (0 for a date in the past), or -1 when
 * the value is neither form.
 */
int64_t acme__retry_after_parse(const char *value, time_t now);

#endif
