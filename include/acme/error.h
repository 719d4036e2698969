/*
 * libacme: errors.
 *
 * Every fallible call returns ACME_OK (0) or a negative ACME_E_* code, and
 * takes a last parameter `acme_error **err`.  `err` may be NULL; when it is
 * not, `*err` must be NULL on entry and is set exactly when the call returns
 * a negative code.  The caller frees it with acme_error_free().
 *
 * An acme_error carries the code, a translated message, and, when the CA
 * answered with an RFC 7807 problem document, the HTTP status, the problem
 * type URN, the CA's own `detail` text, its subproblems (RFC 8555 §6.7.1)
 * and Retry-After.
 */
#ifndef ACME_ERROR_H
#define ACME_ERROR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <acme/common.h>

ACME_BEGIN_DECLS

/** Error codes. Few and actionable; the problem type carries the detail. */
typedef enum acme_error_code {
    ACME_E_INVALID      = -1,  /**< bad argument or bad input data */
    ACME_E_NOTSUP       = -2,  /**< not supported (by us, the CA or a backend) */
    ACME_E_IO           = -3,  /**< file system or other local I/O */
    ACME_E_NETWORK      = -4,  /**< connection, DNS resolution, transfer */
    ACME_E_TLS          = -5,  /**< TLS handshake or certificate verification */
    ACME_E_PROTOCOL     = -6,  /**< the server broke the protocol (bad JSON, content type, size) */
    ACME_E_REJECTED     = -7,  /**< the CA (or a DNS provider) refused the request (see the problem type) */
    ACME_E_RATELIMITED  = -8,  /**< rate limited by the CA or a DNS provider: wait for Retry-After */
    ACME_E_CANCELLED    = -9,  /**< cancelled by the application or by stop */
    ACME_E_TIMEOUT      = -10, /**< a deadline passed */
    ACME_E_NOMEM        = -11, /**< out of memory */
    ACME_E_BADNONCE     = -12, /**< badNonce persisted after every retry */
    ACME_E_NOTFOUND     = -13, /**< no such account, name, file or object */
    ACME_E_CRYPTO       = -14, /**< key, signature or certificate operation failed */
    ACME_E_INVALIDSTATE = -15, /**< the object is not in a state that allows this call */
    ACME_E_ZONENOTFOUND = -16, /**< dns-01: no zone at the DNS provider holds the name, or the configured zone does not exist there */
    ACME_E_NOTINZONE    = -17, /**< dns-01: the name is outside the configured zone */
    ACME_E_AUTH         = -18  /**< a server (a DNS provider's API) refused the credentials */
} acme_error_code;

/** The lowest code; codes run from ACME_E_LAST to ACME_E_INVALID. */
#define ACME_E_LAST ACME_E_AUTH

/** An error; opaque. */
typedef struct acme_error acme_error;

/**
 * A short translated description of @p code ("invalid argument").
 *
 * @return a static string; "unknown error" for an unknown code.
 * Thread safety: MT-Safe.
 */
ACME_EXTERN const char *acme_strerror(int code);

/**
 * The symbolic name of @p code ("ACME_E_BADNONCE", "ACME_OK").
 *
 * @return a static string, or NULL for an unknown code.
 * Thread safety: MT-Safe.
 */
ACME_EXTERN const char *acme_status_name(int code);

/** The error's code (a negative ACME_E_* value). Thread safety: MT-Safe. */
ACME_EXTERN int acme_error_code_get(const acme_error *e);

/**
 * The error's message: translated, for people.  For a CA problem it
 * includes the CA's detail.
 *
 * @return borrowed until acme_error_free().
 */
ACME_EXTERN const char *acme_error_message(const acme_error *e);

/** HTTP status of the response that caused the error, or 0. */
ACME_EXTERN int acme_error_http_status(const acme_error *e);

/**
 * The RFC 7807 problem type ("urn:ietf:params:acme:error:rateLimited"),
 * or NULL when the error did not come from a problem document.
 */
ACME_EXTERN const char *acme_error_problem_type(const acme_error *e);

/** The problem's `detail`, as the CA wrote it (untranslated), or NULL. */
ACME_EXTERN const char *acme_error_detail(const acme_error *e);

/**
 * The problem's `instance` URL, or NULL.  For userActionRequired it is
 * the page where a person must act (RFC 8555 §7.3.3).
 */
ACME_EXTERN const char *acme_error_instance(const acme_error *e);

/**
 * Seconds to wait before trying again, from Retry-After (either form,
 * RFC 9110 §10.2.3), counted from when the response arrived; -1 when the
 * server sent none.
 */
ACME_EXTERN int64_t acme_error_retry_after(const acme_error *e);

/**
 * Whether trying again later may succeed (network trouble, rate limits,
 * server errors, badNonce), as opposed to needing a configuration change.
 */
ACME_EXTERN bool acme_error_retryable(const acme_error *e);

/** How many subproblems (RFC 8555 §6.7.1) the problem had. */
ACME_EXTERN size_t acme_error_subproblem_count(const acme_error *e);

/**
 * One subproblem.  Any out-pointer may be NULL.  Strings are borrowed until
 * acme_error_free(); a missing field gives NULL.
 *
 * @param e          the error
 * @param i          index, below acme_error_subproblem_count()
 * @param type       the subproblem's type URN
 * @param detail     its detail
 * @param id_type    its identifier's type ("dns", "ip")
 * @param id_value   its identifier's value
 * @return ACME_OK, or ACME_E_INVALID when @p i is out of range.
 */
ACME_EXTERN int acme_error_subproblem(const acme_error *e, size_t i,
                                      const char **type, const char **detail,
                                      const char **id_type, const char **id_value);

/**
 * A deep copy of @p e, for handing an error to another thread.
 *
 * @return the copy, or NULL when out of memory (or @p e is NULL).
 * Ownership: the caller frees the copy with acme_error_free().
 */
ACME_EXTERN acme_error *acme_error_copy(const acme_error *e);

/** Free an error (NULL-safe). */
ACME_EXTERN void acme_error_free(acme_error *e);

ACME_END_DECLS

#endif /* ACME_ERROR_H */
