/*
 * libacme: issuers.
 *
 * An issuer is what the issuing service asks for certificates: normally
 * the real RFC 8555 client (acme_issuer_client_new()), in tests the fake CA
 * of <acme/testing.h>.  The service makes a new issuer for every issuing
 * attempt through a factory, so that a new directory URL, account key or
 * CA bundle takes effect without a restart (txacme's client creator).
 */
#ifndef ACME_ISSUER_H
#define ACME_ISSUER_H

#include <acme/common.h>
#include <acme/error.h>
#include <acme/client.h>

ACME_BEGIN_DECLS

/** An issuer: a versioned vtable plus its state; opaque. */
typedef struct acme_issuer acme_issuer;

/**
 * Make an issuer from a client.
 *
 * @param client  taken: freed with the issuer (also when this call fails)
 * Ownership: the caller frees *out with acme_issuer_free().
 * Thread safety: MT-Safe per object (the client's rule), except
 * acme_issuer_cancel().
 */
ACME_EXTERN int acme_issuer_client_new(acme_issuer **out, acme_client *client, acme_error **err);

/**
 * Make sure the account exists: register it (agreeing to the terms) or find
 * it; when @p contact_email is set, the account's contact becomes
 * "mailto:" that address (an existing account is updated).
 */
ACME_EXTERN int acme_issuer_account(acme_issuer *issuer, const char *contact_email,
                                    acme_error **err);

/** Run a whole order; as acme_client_issue(). */
ACME_EXTERN int acme_issuer_issue(acme_issuer *issuer, char **key_pem_out, char **chain_pem_out,
                                  const acme_issue_options *opts, acme_error **err);

/**
 * ACME Renewal Information for a certificate identifier.
 * @return ACME_OK; ACME_E_NOTSUP when the CA offers none.
 */
ACME_EXTERN int acme_issuer_renewal_info(acme_issuer *issuer, acme_renewal_info **out,
                                         const char *cert_id, acme_error **err);

/** Cancel the call in progress, from any thread (MT-Safe). */
ACME_EXTERN void acme_issuer_cancel(acme_issuer *issuer);

/** Free an issuer (NULL-safe). */
ACME_EXTERN void acme_issuer_free(acme_issuer *issuer);

/**
 * A factory the service calls once per issuing attempt, on a worker thread
 * (calls may overlap: it must be MT-Safe).
 */
typedef int acme_issuer_factory_fn(void *userdata, acme_issuer **out, acme_error **err);

ACME_END_DECLS

#endif /* ACME_ISSUER_H */
