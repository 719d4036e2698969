/*
 * libacme: doubles for testing applications that use libacme (txacme's
 * `txacme.testing`).
 *
 * Not included by <acme/acme.h>: include it on purpose, in tests.
 * See libacme-testing(3).
 */
#ifndef ACME_TESTING_H
#define ACME_TESTING_H

#include <acme/common.h>
#include <acme/error.h>
#include <acme/responder.h>

ACME_BEGIN_DECLS

/**
 * A responder that accepts start and stop for @p challenge_type and does
 * nothing else (txacme's NullResponder).  It suits a CA that does not
 * validate, such as Pebble with PEBBLE_VA_ALWAYS_VALID=1, and tests of
 * code that only passes responders around.  Start still refuses a name
 * that is not a DNS name or an IP literal (acme_name_normalize()), as
 * every responder does.
 *
 * @param out             the responder
 * @param challenge_type  the type it claims to answer ("http-01",
 *                        "dns-01", "tls-alpn-01", or any other token)
 * @return ACME_OK; ACME_E_INVALID for a NULL or empty type, or one with
 *         characters outside [A-Za-z0-9._-]; ACME_E_NOMEM.
 * Ownership: the caller frees *out with acme_responder_free().  The type
 * is copied.
 * Thread safety: MT-Safe; its start and stop may run on any threads at
 * once.
 */
ACME_EXTERN int acme_responder_null_new(acme_responder **out, const char *challenge_type,
                                        acme_error **err);

ACME_END_DECLS

#endif /* ACME_TESTING_H */
