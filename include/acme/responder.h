/*
 * libacme: challenge responders, as the client sees them.
 *
 * A responder answers one challenge type ("http-01", "dns-01",
 * "tls-alpn-01").  Applications use built-in responders or write their own
 * through <acme/sys/responder.h>.
 */
#ifndef ACME_RESPONDER_H
#define ACME_RESPONDER_H

#include <acme/common.h>
#include <acme/error.h>

ACME_BEGIN_DECLS

/** A responder: a versioned vtable plus its state; opaque. */
typedef struct acme_responder acme_responder;

/** The challenge type the responder answers; borrowed (static). */
ACME_EXTERN const char *acme_responder_challenge_type(const acme_responder *r);

/** The responder's name, for logs ("http-01 standalone"); borrowed. */
ACME_EXTERN const char *acme_responder_name(const acme_responder *r);

/**
 * Free a responder: calls its `destroy` once (NULL-safe).
 * Thread safety: not while an order is using it.
 */
ACME_EXTERN void acme_responder_free(acme_responder *r);

ACME_END_DECLS

#endif /* ACME_RESPONDER_H */
