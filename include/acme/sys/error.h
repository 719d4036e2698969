/*
 * libacme: making errors, for implementers of backends (stores,
 * responders, DNS providers, clocks).  Not included by <acme/acme.h>.
 */
#ifndef ACME_SYS_ERROR_H
#define ACME_SYS_ERROR_H

#include <acme/common.h>
#include <acme/error.h>

ACME_BEGIN_DECLS

/**
 * Set *err (when @p err is not NULL and *err is NULL) to a new error with
 * @p code and a printf-formatted message, and return @p code.
 *
 *     return acme_error_set(err, ACME_E_IO, "cannot write %s", path);
 *
 * If *err is already set it is left alone (the first error wins).
 */
ACME_EXTERN int acme_error_set(acme_error **err, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

ACME_END_DECLS

#endif /* ACME_SYS_ERROR_H */
