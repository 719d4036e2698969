/*
 * Test helper for the store tests: keys and certificates made with GnuTLS
 * directly (not with libacme's crypto), so that the store is checked
 * against material it did not make itself.
 */
#ifndef ACME_TESTS_STORE_CERTS_H
#define ACME_TESTS_STORE_CERTS_H

#include <stdbool.h>

typedef enum { TKEY_EC, TKEY_RSA } tkey_type;

/* A key and the certificate for it, PEM; both g_free'd by tcert_clear(). */
typedef struct tcert {
    char *key_pem;   /* "EC PRIVATE KEY" / "RSA PRIVATE KEY" (traditional) */
    char *key_pkcs8; /* the same key as "PRIVATE KEY" */
    char *cert_pem;
    void *key;       /* gnutls_x509_privkey_t */
    void *crt;       /* gnutls_x509_crt_t */
} tcert;

/*
 * Make a key of @p type and a certificate for @p sans (NULL-terminated,
 * may be NULL for none), signed by @p issuer (NULL: self-signed).  With
 * @p ca the certificate is a CA.
 */
void tcert_make(tcert *out, tkey_type type, const char *const *sans, const tcert *issuer,
                bool ca);
void tcert_clear(tcert *c);

/* A chain for the tests: a CA, and a leaf for @p sans signed by it. */
typedef struct tchain {
    tcert ca;
    tcert leaf;
} tchain;

void tchain_make(tchain *out, tkey_type leaf_type, const char *const *sans);
void tchain_clear(tchain *c);

#endif
