/*
 * crypto: AWS Signature Version 4 (the request signing of Route 53 and
 * every other AWS API), on GnuTLS SHA-256 and HMAC-SHA256.  Internal: the
 * Route 53 DNS provider signs with it, and its mock checks with it.
 */
#ifndef ACME_CRYPTO_SIGV4_H
#define ACME_CRYPTO_SIGV4_H

#include <stddef.h>
#include <time.h>

#include <acme/error.h>

/* What to sign.  Every string member is required unless marked otherwise. */
typedef struct acme__sigv4_request {
    const char *method;          /* "GET" */
    const char *path;            /* as sent on the wire (already %-encoded); "" means "/" */
    const char *query;           /* as sent, without '?'; NULL or "": none */
    /*
     * The headers to sign, "Name: value", NULL-terminated.  They must
     * include Host (exactly as sent, with ":port" when not the default)
     * and X-Amz-Date (and X-Amz-Security-Token with temporary
     * credentials).
     */
    const char *const *headers;
    const void *payload;         /* NULL: empty */
    size_t payload_len;
    const char *access_key;      /* "AKIDEXAMPLE" */
    const char *secret_key;      /* a secret: never copied into the result */
    const char *region;          /* "us-east-1" */
    const char *service;         /* "route53" */
    const char *amzdate;         /* "20150830T123600Z", the X-Amz-Date value */
} acme__sigv4_request;

/* The signature and its intermediate steps (the steps for tests and debugging). */
typedef struct acme__sigv4 {
    char *canonical_request;
    char *string_to_sign;
    char *signed_headers;        /* "host;x-amz-date" */
    char canonical_hash[65];     /* hex SHA-256 of canonical_request */
    char signing_key[65];        /* hex kSigning (derived from the secret: keep it private) */
    char signature[65];          /* hex */
    char *authorization;         /* the Authorization header value */
} acme__sigv4;

/*
 * Sign @p req into @p out (zeroed first; release with
 * acme__sigv4_clear() in every case).
 *
 * Steps (AWS General Reference, "Signature Version 4 signing process"):
 * canonical request (method, URI, sorted query, sorted lower-case headers,
 * signed header names, payload hash), string to sign (algorithm, date,
 * scope, hash of the canonical request), signing key (HMAC chain from
 * "AWS4" + secret over date, region, service, "aws4_request"), signature.
 *
 * @return ACME_OK; ACME_E_INVALID for a missing member, a malformed date or
 *         header line; ACME_E_CRYPTO; ACME_E_NOMEM.
 */
int acme__sigv4_sign(acme__sigv4 *out, const acme__sigv4_request *req, acme_error **err);

/* Free the strings of @p s and wipe it. */
void acme__sigv4_clear(acme__sigv4 *s);

/* @p t as an X-Amz-Date value "YYYYMMDDTHHMMSSZ" (UTC) into @p buf. */
void acme__sigv4_amzdate(char buf[17], time_t t);

/*
 * URI-encode @p len bytes the SigV4 way: keep A-Z a-z 0-9 - _ . ~ (and '/'
 * when @p keep_slash), everything else %XX with upper-case hex.  NULL on
 * no memory.
 */
char *acme__sigv4_uri_encode(const char *s, size_t len, int keep_slash);

/* HMAC-SHA256 of @p len bytes under @p key into @p out. */
int acme__hmac_sha256(unsigned char out[32], const void *key, size_t keylen, const void *data,
                      size_t len);

#endif
