/*
 * crypto: the certificate signing behind the fake CA of <acme/testing.h>
 * (lib/service/testing.c).  Only lib/crypto/ includes GnuTLS, so the fake
 * CA's root and its signing live here, behind this GnuTLS-free interface.
 * Not for production: nothing here validates anything.
 */
#ifndef ACME_CRYPTO_FAKECA_H
#define ACME_CRYPTO_FAKECA_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <acme/crypto.h>
#include <acme/error.h>

/* A root key and its self-signed certificate.  Opaque. */
typedef struct acme__fakeca acme__fakeca;

/*
 * Make a root: a new EC P-256 key and a self-signed CA certificate with
 * common name @p cn (at most 64 bytes), valid from a year before
 * @p not_before (but not before the epoch) for 100 years.
 * Returns ACME_OK; ACME_E_INVALID; ACME_E_CRYPTO; ACME_E_NOMEM.
 */
int acme__fakeca_new(acme__fakeca **out, const char *cn, time_t not_before, acme_error **err);

/*
 * Sign a leaf certificate for @p key's public half: SANs @p names (DNS
 * names, "*." wildcards, IP literals: as given, already checked), CN the
 * first name when it fits, valid from @p not_before for @p lifetime
 * seconds, a random serial, serverAuth, and the root's key identifier as
 * authority key identifier.  *chain_pem is the leaf then the root, PEM.
 * MT-Safe (signing is serialised).
 * Ownership: *chain_pem is freed with free().
 */
int acme__fakeca_issue(char **chain_pem, acme__fakeca *ca, const acme_key *key,
                       const char *const *names, size_t nnames, time_t not_before,
                       int64_t lifetime, acme_error **err);

/* The root certificate, PEM; borrowed until acme__fakeca_free(). */
const char *acme__fakeca_root_pem(const acme__fakeca *ca);

/* Free a root (NULL-safe). */
void acme__fakeca_free(acme__fakeca *ca);

#endif
