/*
 * libacme: the responder vtable, for implementers of challenge responders.
 *
 * Not included by <acme/acme.h>.  See libacme-backends(3).
 */
#ifndef ACME_SYS_RESPONDER_H
#define ACME_SYS_RESPONDER_H

#include <acme/common.h>
#include <acme/error.h>
#include <acme/responder.h>
#include <acme/client.h>

ACME_BEGIN_DECLS

/** The current version of acme_responder_ops. */
#define ACME_RESPONDER_OPS_VERSION 1

/**
 * What a responder implements.  Keep it `static const`; the library borrows
 * it for the responder's lifetime.  Members are only ever appended.
 */
typedef struct acme_responder_ops {
    unsigned int version;        /**< ACME_RESPONDER_OPS_VERSION; always first */
    const char *name;            /**< for logs and errors */
    const char *challenge_type;  /**< "http-01", "dns-01", "tls-alpn-01" */
    unsigned int flags;          /**< none defined yet: 0 */

    /**
     * Start answering @p ch for identifier @p name (a DNS name without any
     * "*." prefix, or an IP address).  Return once the answer is in place.
     *
     * Called on the thread that runs the order (an application thread or
     * a service worker); calls for different challenges may overlap, so it
     * must be MT-Safe.
     */
    int (*start)(void *self, const char *name, const acme_challenge *ch,
                 const char *key_authorization, acme_error **err);

    /**
     * Stop answering.  Called exactly once after every successful start,
     * also when the order fails or is cancelled.
     */
    void (*stop)(void *self, const char *name, const acme_challenge *ch,
                 const char *key_authorization);

    /** Release @p self.  Called once, by acme_responder_free(). */
    void (*destroy)(void *self);
} acme_responder_ops;

/**
 * Wrap @p ops and @p self into a responder.
 *
 * @return ACME_OK; ACME_E_INVALID when @p ops is NULL, lacks start/stop or
 *         a challenge type, or its version is newer than this library's.
 * Ownership: *out owns @p self from here on (destroy is called on free),
 * also when this call fails.
 */
ACME_EXTERN int acme_responder_new(acme_responder **out, const acme_responder_ops *ops,
                                   void *self, acme_error **err);

/** The state passed to acme_responder_new(); borrowed. */
ACME_EXTERN void *acme_responder_self(const acme_responder *r);

ACME_END_DECLS

#endif /* ACME_SYS_RESPONDER_H */
