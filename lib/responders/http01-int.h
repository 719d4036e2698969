/*
 * responders: what the http-01 files (table, listener, webroot) share.
 * Not installed.
 */
#ifndef ACME_RESPONDERS_HTTP01_INT_H
#define ACME_RESPONDERS_HTTP01_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <acme/error.h>
#include <acme/http01.h>

/*
 * A set of tokens in flight, each with its key authorization and a count
 * of starts not yet stopped: the table behind acme_http01 and the record
 * the webroot responder keeps of its files.  Not locked: its owner's lock
 * guards it.
 */
typedef struct acme__http01_entry {
    char *token;
    char *key_authorization;
    unsigned int count;  /* adds not yet removed */
} acme__http01_entry;

typedef struct acme__http01_set {
    acme__http01_entry *entries;
    size_t n, cap;
} acme__http01_set;

/* The entry for the first @p len bytes of @p token, or NULL. */
acme__http01_entry *acme__http01_set_find(const acme__http01_set *s, const char *token,
                                          size_t len);

/*
 * Count one more start of @p token (checked by the caller).  *added (may
 * be NULL) tells whether the token is new.  The same token with another
 * key authorization is refused (ACME_E_INVALIDSTATE).
 */
int acme__http01_set_add(acme__http01_set *s, const char *token, const char *key_authorization,
                         bool *added, acme_error **err);

/*
 * Count one stop of @p token: ACME_E_NOTFOUND when absent, else 1 when
 * that was its last start (the entry is gone), 0 otherwise.
 */
int acme__http01_set_remove(acme__http01_set *s, const char *token);

/* Free every entry. */
void acme__http01_set_clear(acme__http01_set *s);

/* Take one more reference to a table (each listener and responder holds one). */
acme_http01 *acme__http01_ref(acme_http01 *h);

/*
 * Check a token (base64url, RFC 8555 §8.3) and its key authorization
 * (`token "." thumbprint`, RFC 8555 §8.1) before either reaches a table,
 * a path or a response body.  Sets *err and returns ACME_E_INVALID.
 */
int acme__http01_check(const char *token, const char *key_authorization, acme_error **err);

/*
 * Check an identifier handed to a responder (a DNS name or an IP literal):
 * printable, short, no '/' or '\\'.  It only reaches logs and error
 * messages, but is checked all the same.
 */
bool acme__http01_name_ok(const char *name);

/*
 * strerror() that is safe on any thread: the text for @p errnum, in
 * @p buf (or a static string).  Both strerror_r() flavours are handled.
 */
const char *acme__http01_errstr(int errnum, char *buf, size_t len);

#endif
