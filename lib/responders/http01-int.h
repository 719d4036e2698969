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
