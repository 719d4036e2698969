/*
 * util: the structure behind acme_error, for the layers that fill it
 * (transport turns problem documents into errors).
 */
#ifndef ACME_UTIL_ERROR_H
#define ACME_UTIL_ERROR_H

#include <stdbool.h>
#include <stdint.h>

#include <acme/error.h>
#include <acme/sys/error.h>

typedef struct acme__subproblem {
    char *type;
    char *detail;
    char *id_type;
    char *id_value;
} acme__subproblem;

struct acme_error {
    int code;
    char *message;       /* translated, for people */
    int http_status;     /* 0: none */
    char *type;          /* problem type URN, or NULL */
    char *detail;        /* the CA's detail, or NULL */
    char *instance;      /* problem instance URL, or NULL */
    int64_t retry_after; /* seconds, -1: none */
    bool retryable;
    size_t nsub;
    acme__subproblem *sub;
};

/* A new error with a copy of @p message; NULL on out of memory. */
acme_error *acme__error_new(int code, const char *message);

/*
 * Hand @p e to the caller through @p err (when err is set and *err is
 * NULL), else free it.  Returns e's code, or ACME_E_NOMEM when e is NULL.
 */
int acme__error_give(acme_error **err, acme_error *e);

/*
 * Put "@p prefix: " (printf-formatted) in front of the message of *err,
 * when there is one.  Keeps code and problem fields.  Returns the code of
 * *err, or @p code when err is NULL or empty.
 */
int acme__error_prefix(acme_error **err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Default retryability of a code (network, timeout, rate limit, badNonce). */
bool acme__code_retryable(int code);

#endif
