/*
 * libacme: the Let's Encrypt directory URLs, in one place.
 *
 * The endpoint strings "le:" and "lets:" (<acme/endpoint.h>) use them;
 * applications may too.  See libacme-endpoint(3).
 */
#ifndef ACME_LETSENCRYPT_H
#define ACME_LETSENCRYPT_H

/** Let's Encrypt's production ACME directory (the "le:" endpoint string). */
#define ACME_LE_DIRECTORY_PRODUCTION "https://acme-v02.api.letsencrypt.org/directory"

/** Let's Encrypt's staging ACME directory (the "lets:" endpoint string). */
#define ACME_LE_DIRECTORY_STAGING "https://acme-staging-v02.api.letsencrypt.org/directory"

#endif /* ACME_LETSENCRYPT_H */
