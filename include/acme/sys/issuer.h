/*
 * libacme: the issuer vtable, for implementers of issuers (fake CAs,
 * proxies to another process).  Not included by <acme/acme.h>.
 */
#ifndef ACME_SYS_ISSUER_H
#define ACME_SYS_ISSUER_H

#include <stdint.h>
#include <time.h>
#include <acme/common.h>
#include <acme/error.h>
#include <acme/issuer.h>

ACME_BEGIN_DECLS

#define ACME_ISSUER_OPS_VERSION 1

typedef struct acme_issuer_ops {
    unsigned int version;   /**< ACME_ISSUER_OPS_VERSION; always first */
    const char *name;       /**< "acme", "fake" */
    unsigned int flags;     /**< none defined yet: 0 */

    /** See acme_issuer_account().  Required. */
    int (*account)(void *self, const char *contact_email, acme_error **err);
    /** See acme_issuer_issue().  Required. */
    int (*issue)(void *self, char **key_pem_out, char **chain_pem_out,
                 const acme_issue_options *opts, acme_error **err);
    /** See acme_issuer_renewal_info().  NULL: ACME_E_NOTSUP. */
    int (*renewal_info)(void *self, acme_renewal_info **out, const char *cert_id,
                        acme_error **err);
    /** Cancel the call in progress; any thread.  NULL: not cancellable. */
    void (*cancel)(void *self);
    /** Release @p self; called once.  May be NULL. */
    void (*destroy)(void *self);
} acme_issuer_ops;

/**
 * Wrap @p ops and @p self into an issuer.
 * @return ACME_OK; ACME_E_INVALID for missing members or a newer version.
 * Ownership: *out owns @p self, also when this call fails.
 */
ACME_EXTERN int acme_issuer_new(acme_issuer **out, const acme_issuer_ops *ops, void *self,
                                acme_error **err);

/** The state passed to acme_issuer_new(); borrowed. */
ACME_EXTERN void *acme_issuer_self(const acme_issuer *issuer);

/**
 * Make a renewal information object (for issuers that are not the real
 * client).  @p explanation_url may be NULL; @p retry_after -1 for none.
 * Ownership: the caller frees *out with acme_renewal_info_free().
 */
ACME_EXTERN int acme_renewal_info_new(acme_renewal_info **out, time_t window_start,
                                      time_t window_end, const char *explanation_url,
                                      int64_t retry_after, acme_error **err);

ACME_END_DECLS

#endif /* ACME_SYS_ISSUER_H */
