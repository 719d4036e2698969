/*
 * libacme: the blocking RFC 8555 client.
 *
 * An acme_client talks to one ACME server (one directory URL) over one
 * reused HTTPS connection, with one account key.  Every call blocks until
 * it is done, failed, or cancelled; none needs an event loop.
 *
 * Thread safety: MT-Safe per object: one thread at a time may use a
 * client (and the orders and authorizations made with it), except
 * acme_client_cancel(), which any thread may call at any time.  Use one
 * client per thread for parallel work.
 */
#ifndef ACME_CLIENT_H
#define ACME_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <acme/common.h>
#include <acme/error.h>
#include <acme/log.h>
#include <acme/crypto.h>
#include <acme/responder.h>

ACME_BEGIN_DECLS

typedef struct acme_client acme_client;
typedef struct acme_directory acme_directory;
typedef struct acme_order acme_order;
typedef struct acme_authorization acme_authorization;
typedef struct acme_challenge acme_challenge;
typedef struct acme_renewal_info acme_renewal_info;
/* acme_responder comes from <acme/responder.h>: C99 forbids a second typedef. */

/* ------------------------------------------------------------------ */
/* Client                                                               */
/* ------------------------------------------------------------------ */

#define ACME_CLIENT_OPTIONS_VERSION 1

/**
 * Options for acme_client_new().  Initialise with ACME_CLIENT_OPTIONS_INIT;
 * zero means "the default" for every member.
 */
typedef struct acme_client_options {
    unsigned int version;          /**< ACME_CLIENT_OPTIONS_VERSION */
    const char *directory_url;     /**< required: the CA's directory URL */
    const acme_key *account_key;   /**< required: copied (reference counted) */
    const char *ca_file;           /**< PEM bundle to trust instead of the system store */
    const char *proxy;             /**< proxy URL; NULL: libcurl's environment rules */
    const char *user_agent;        /**< appended to "libacme/VERSION" */
    long connect_timeout_ms;       /**< default 30000 */
    long request_timeout_ms;       /**< per HTTP request; default 60000 */
    size_t max_response_size;      /**< bytes; default 1 MiB */
    unsigned int badnonce_retries; /**< default ACME_BADNONCE_RETRIES */
    acme_log_fn *log;              /**< NULL: silent */
    void *log_userdata;
    acme_log_level log_level;      /**< 0: ACME_LOG_INFO */
} acme_client_options;

#define ACME_CLIENT_OPTIONS_INIT { ACME_CLIENT_OPTIONS_VERSION, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }

/**
 * How many times a request rejected with badNonce is sent again with the
 * fresh nonce that came with the rejection.  A server that rejects a
 * fraction p of good nonces fails a request for good with p^(N+1).
 * Pebble's test setting p = 0.5 over 100 certificates of ~8 requests
 * (800 requests) needs 800 * 0.5^(N+1) << 1: N = 20 gives 4e-4.  Real CAs
 * almost never reject a fresh nonce, so the bound costs nothing there.
 */
#define ACME_BADNONCE_RETRIES 20

/**
 * Make a client.  No network traffic happens until the first call.
 *
 * @return ACME_OK; ACME_E_INVALID for missing or bad options.
 * Ownership: the caller frees *out with acme_client_free().
 */
ACME_EXTERN int acme_client_new(acme_client **out, const acme_client_options *opts,
                                acme_error **err);

/** Free a client (NULL-safe).  Not while another thread uses it. */
ACME_EXTERN void acme_client_free(acme_client *client);

/**
 * Cancel the call in progress (its HTTP transfer stops within ~100 ms and
 * it returns ACME_E_CANCELLED), and every later call until
 * acme_client_reset_cancel().
 *
 * Thread safety: MT-Safe; async-signal-unsafe.
 */
ACME_EXTERN void acme_client_cancel(acme_client *client);

/** Clear the cancelled state. */
ACME_EXTERN void acme_client_reset_cancel(acme_client *client);

/**
 * Counters for benchmarks and tests: HTTP requests made, and badNonce
 * answers retried, since the client was made.
 */
ACME_EXTERN void acme_client_stats(const acme_client *client, uint64_t *requests,
                                   uint64_t *badnonce_retries);

/* ------------------------------------------------------------------ */
/* Directory (RFC 8555 §7.1.1)                                          */
/* ------------------------------------------------------------------ */

/**
 * The CA's directory, fetched on first use and kept.
 *
 * @return ACME_OK; ACME_E_NETWORK/ACME_E_TLS; ACME_E_PROTOCOL when the
 *         directory lacks newNonce, newAccount or newOrder.
 * Ownership: *out is borrowed until the client is freed.
 */
ACME_EXTERN int acme_client_directory(const acme_directory **out, acme_client *client,
                                      acme_error **err);

/** Resource URLs of a directory; NULL when the CA does not offer one. */
typedef enum acme_directory_resource {
    ACME_DIR_NEW_NONCE,
    ACME_DIR_NEW_ACCOUNT,
    ACME_DIR_NEW_ORDER,
    ACME_DIR_NEW_AUTHZ,
    ACME_DIR_REVOKE_CERT,
    ACME_DIR_KEY_CHANGE,
    ACME_DIR_RENEWAL_INFO
} acme_directory_resource;

ACME_EXTERN const char *acme_directory_url(const acme_directory *dir, acme_directory_resource r);
/** meta.termsOfService, or NULL. */
ACME_EXTERN const char *acme_directory_terms_of_service(const acme_directory *dir);
/** meta.website, or NULL. */
ACME_EXTERN const char *acme_directory_website(const acme_directory *dir);
/** meta.caaIdentities; *n set to the count. */
ACME_EXTERN const char *const *acme_directory_caa_identities(const acme_directory *dir, size_t *n);
/** meta.externalAccountRequired. */
ACME_EXTERN bool acme_directory_external_account_required(const acme_directory *dir);
/**
 * meta.profiles: profile names (and descriptions, parallel array, may be
 * NULL entries).  *n set to the count.
 */
ACME_EXTERN const char *const *acme_directory_profiles(const acme_directory *dir, size_t *n,
                                                       const char *const **descriptions);

/* ------------------------------------------------------------------ */
/* Account (RFC 8555 §7.3)                                              */
/* ------------------------------------------------------------------ */

#define ACME_ACCOUNT_OPTIONS_VERSION 1

/** Options for acme_client_account_register(). */
typedef struct acme_account_options {
    unsigned int version;            /**< ACME_ACCOUNT_OPTIONS_VERSION */
    const char *const *contact;      /**< "mailto:..." URLs */
    size_t ncontact;
    bool terms_agreed;               /**< termsOfServiceAgreed */
    const char *eab_kid;             /**< external account binding key id (RFC 8555 §7.3.4) */
    const char *eab_hmac_key;        /**< its MAC key, base64url as CAs hand it out */
    const char *eab_alg;             /**< "HS256" (default), "HS384" or "HS512" */
} acme_account_options;

#define ACME_ACCOUNT_OPTIONS_INIT { ACME_ACCOUNT_OPTIONS_VERSION, 0, 0, 0, 0, 0, 0 }

/**
 * Register the account key (newAccount), or find the account it already
 * has: the CA answers an existing key with that account.  The options are
 * kept, so that an `accountDoesNotExist` answer later (the CA forgot the
 * account) is recovered by registering again and retrying once.
 *
 * @param created  set to true when a new account was made (may be NULL)
 * @return ACME_OK; ACME_E_REJECTED (e.g. externalAccountRequired,
 *         invalidContact); network and protocol errors.
 */
ACME_EXTERN int acme_client_account_register(acme_client *client, const acme_account_options *opts,
                                             bool *created, acme_error **err);

/**
 * Look up the account for the key without creating one
 * (onlyReturnExisting).
 *
 * @return ACME_OK; ACME_E_NOTFOUND when the key has no account.
 */
ACME_EXTERN int acme_client_account_find(acme_client *client, acme_error **err);

/** The account URL (the JWS "kid"), or NULL before register/find. Borrowed. */
ACME_EXTERN const char *acme_client_account_url(const acme_client *client);

/** The account status ("valid", "deactivated", "revoked"), or NULL. Borrowed. */
ACME_EXTERN const char *acme_client_account_status(const acme_client *client);

/** The account's contact URLs as the CA last reported them. Borrowed. */
ACME_EXTERN const char *const *acme_client_account_contact(const acme_client *client, size_t *n);

/** Replace the account's contact URLs (an empty list removes them). */
ACME_EXTERN int acme_client_account_update_contact(acme_client *client, const char *const *contact,
                                                   size_t ncontact, acme_error **err);

/** Agree to the CA's current terms of service on an existing account. */
ACME_EXTERN int acme_client_account_agree_terms(acme_client *client, acme_error **err);

/**
 * Account key rollover (RFC 8555 §7.3.5): from now on the account (and
 * this client) uses @p new_key.
 *
 * @return ACME_OK; ACME_E_REJECTED when the CA refuses (e.g. the new key
 *         already has an account).
 */
ACME_EXTERN int acme_client_account_key_change(acme_client *client, const acme_key *new_key,
                                               acme_error **err);

/** Deactivate the account (RFC 8555 §7.3.6).  It cannot be undone. */
ACME_EXTERN int acme_client_account_deactivate(acme_client *client, acme_error **err);

/* ------------------------------------------------------------------ */
/* Identifiers, orders, authorizations, challenges (RFC 8555 §7.4-7.5)  */
/* ------------------------------------------------------------------ */

typedef enum acme_identifier_type {
    ACME_ID_DNS = 0,  /**< "dns" */
    ACME_ID_IP  = 1   /**< "ip" (RFC 8738) */
} acme_identifier_type;

typedef struct acme_identifier {
    acme_identifier_type type;
    const char *value;  /**< "example.com", "*.example.com", "192.0.2.1" */
} acme_identifier;

/** Status of an order, authorization or challenge (RFC 8555 §7.1.6). */
typedef enum acme_status {
    ACME_STATUS_UNKNOWN = 0,
    ACME_STATUS_PENDING,
    ACME_STATUS_READY,
    ACME_STATUS_PROCESSING,
    ACME_STATUS_VALID,
    ACME_STATUS_INVALID,
    ACME_STATUS_EXPIRED,
    ACME_STATUS_DEACTIVATED,
    ACME_STATUS_REVOKED
} acme_status;

/** "pending", "valid", ... (static). */
ACME_EXTERN const char *acme_status_string(acme_status status);

#define ACME_ORDER_OPTIONS_VERSION 1

typedef struct acme_order_options {
    unsigned int version;            /**< ACME_ORDER_OPTIONS_VERSION */
    const acme_identifier *ids;      /**< at least one */
    size_t nids;
    time_t not_before;               /**< 0: not sent */
    time_t not_after;                /**< 0: not sent */
    const char *profile;             /**< a name from meta.profiles, or NULL */
    bool profile_required;           /**< false: drop the profile when the CA lacks it */
    const char *replaces;            /**< ARI certificate identifier (RFC 9773 §5), or NULL */
} acme_order_options;

#define ACME_ORDER_OPTIONS_INIT { ACME_ORDER_OPTIONS_VERSION, 0, 0, 0, 0, 0, 0, 0 }

/**
 * Make a new order (newOrder).
 *
 * @return ACME_OK; ACME_E_NOTSUP when @p opts->profile is required and the
 *         CA does not list it; ACME_E_REJECTED (rejectedIdentifier, ...).
 * Ownership: the caller frees *out with acme_order_free().
 */
ACME_EXTERN int acme_order_new(acme_order **out, acme_client *client, const acme_order_options *opts,
                               acme_error **err);

/** Fetch the order again (POST-as-GET) to update its state. */
ACME_EXTERN int acme_order_refresh(acme_order *order, acme_client *client, acme_error **err);

ACME_EXTERN const char *acme_order_url(const acme_order *order);
ACME_EXTERN acme_status acme_order_status(const acme_order *order);
ACME_EXTERN time_t acme_order_expires(const acme_order *order);
ACME_EXTERN size_t acme_order_identifier_count(const acme_order *order);
ACME_EXTERN const acme_identifier *acme_order_identifier(const acme_order *order, size_t i);
ACME_EXTERN size_t acme_order_authorization_count(const acme_order *order);
ACME_EXTERN const char *acme_order_authorization_url(const acme_order *order, size_t i);
ACME_EXTERN const char *acme_order_finalize_url(const acme_order *order);
/** The certificate URL once the order is valid, else NULL. */
ACME_EXTERN const char *acme_order_certificate_url(const acme_order *order);
/** The order's error (an invalid order), or NULL. Borrowed. */
ACME_EXTERN const acme_error *acme_order_error(const acme_order *order);

/**
 * Poll the order until it is valid or invalid (or @p deadline passes),
 * honouring Retry-After.
 *
 * @param deadline  absolute time (time(NULL) clock); 0: 5 minutes from now
 * @return ACME_OK when valid; ACME_E_REJECTED when invalid (the error
 *         carries the order's problem); ACME_E_INVALIDSTATE when the order
 *         is "ready" (only finalize moves it on); ACME_E_TIMEOUT.
 */
ACME_EXTERN int acme_order_poll(acme_order *order, acme_client *client, time_t deadline,
                                acme_error **err);

/**
 * Finalize the order with a CSR (base64url DER, see acme_csr_new()).  An
 * `orderNotReady` answer is polled and finalize retried (honouring
 * Retry-After) until @p deadline; a "processing" result is polled until
 * the order is valid.
 *
 * @return ACME_OK when the order is valid; ACME_E_INVALIDSTATE;
 *         ACME_E_REJECTED (badCSR, ...); ACME_E_TIMEOUT.
 */
ACME_EXTERN int acme_order_finalize(acme_order *order, acme_client *client, const char *csr_b64url,
                                    time_t deadline, acme_error **err);

/**
 * Download the certificate chain of a valid order, as PEM.  When
 * @p preferred_issuer is set and the default chain's topmost issuer CN is
 * not it, the alternate chains (Link rel="alternate") are fetched and the
 * first whose topmost issuer CN matches is returned; with no match, the
 * default chain.
 *
 * Ownership: the caller frees *out with acme_free().
 */
ACME_EXTERN int acme_order_download(char **out, acme_client *client, const acme_order *order,
                                    const char *preferred_issuer, acme_error **err);

/**
 * Every chain the CA offers for a certificate URL: the default first, then
 * the alternates, each as PEM.
 *
 * Ownership: the caller frees *out with acme_free_strv(*out, *n).
 */
ACME_EXTERN int acme_client_certificate_chains(char ***out, size_t *n, acme_client *client,
                                               const char *certificate_url, acme_error **err);

/** Free an order (NULL-safe). */
ACME_EXTERN void acme_order_free(acme_order *order);

/**
 * Fetch an authorization (POST-as-GET).
 * Ownership: the caller frees *out with acme_authorization_free().
 */
ACME_EXTERN int acme_authorization_get(acme_authorization **out, acme_client *client,
                                       const char *url, acme_error **err);

ACME_EXTERN const char *acme_authorization_url(const acme_authorization *authz);
ACME_EXTERN acme_status acme_authorization_status(const acme_authorization *authz);
/** The identifier; for a wildcard, without "*." (wildcard() says so). */
ACME_EXTERN const acme_identifier *acme_authorization_identifier(const acme_authorization *authz);
ACME_EXTERN bool acme_authorization_wildcard(const acme_authorization *authz);
ACME_EXTERN time_t acme_authorization_expires(const acme_authorization *authz);
ACME_EXTERN size_t acme_authorization_challenge_count(const acme_authorization *authz);
/**
 * Challenge @p i; borrowed from the authorization until
 * acme_authorization_free().  It stays valid across
 * acme_authorization_poll() and acme_authorization_deactivate(): it shows
 * the new state while the CA lists it, its last state once the CA drops it
 * (CAs list only the passed challenge of a valid authorization).
 */
ACME_EXTERN const acme_challenge *acme_authorization_challenge(const acme_authorization *authz,
                                                              size_t i);
/** The first challenge of @p type ("http-01"), or NULL. */
ACME_EXTERN const acme_challenge *acme_authorization_find_challenge(const acme_authorization *authz,
                                                                   const char *type);

/**
 * Poll the authorization until it leaves "pending" (or @p deadline),
 * honouring Retry-After.  A pending authorization is first looked at
 * after 50 ms, then 100 ms later, doubling up to 2 s.
 *
 * @return ACME_OK when valid; ACME_E_REJECTED when invalid: the error is
 *         the failed challenge's problem (e.g. "connection refused"), with
 *         its type and detail; ACME_E_TIMEOUT.
 */
ACME_EXTERN int acme_authorization_poll(acme_authorization *authz, acme_client *client,
                                        time_t deadline, acme_error **err);

/** Deactivate an authorization (RFC 8555 §7.5.2). */
ACME_EXTERN int acme_authorization_deactivate(acme_authorization *authz, acme_client *client,
                                              acme_error **err);

/** Free an authorization and its challenges (NULL-safe). */
ACME_EXTERN void acme_authorization_free(acme_authorization *authz);

ACME_EXTERN const char *acme_challenge_type(const acme_challenge *ch);
ACME_EXTERN const char *acme_challenge_url(const acme_challenge *ch);
/** The token (checked to be base64url when the challenge was parsed). */
ACME_EXTERN const char *acme_challenge_token(const acme_challenge *ch);
ACME_EXTERN acme_status acme_challenge_status(const acme_challenge *ch);
/** The challenge's error, or NULL. Borrowed. */
ACME_EXTERN const acme_error *acme_challenge_error(const acme_challenge *ch);

/**
 * Tell the CA the challenge is ready to be validated (POST {} to its URL).
 *
 * @return ACME_OK when the CA accepted the request.  The outcome of the
 *         validation, even one the CA finished before answering, is
 *         reported by acme_authorization_poll(), so callers handle a
 *         failed validation in one place.
 */
ACME_EXTERN int acme_challenge_respond(acme_client *client, const acme_challenge *ch,
                                       acme_error **err);

/* ------------------------------------------------------------------ */
/* Revocation (RFC 8555 §7.6)                                           */
/* ------------------------------------------------------------------ */

/**
 * Revoke a certificate.
 *
 * @param cert_pem  the certificate (the first in the PEM is used)
 * @param cert_key  sign with the certificate's key instead of the account
 *                  key, or NULL for the account key
 * @param reason    RFC 5280 reason code (0 unspecified, 1 keyCompromise,
 *                  4 superseded, 5 cessationOfOperation, ...); -1: none sent
 * @return ACME_OK; ACME_E_REJECTED (alreadyRevoked, unauthorized, ...).
 */
ACME_EXTERN int acme_client_revoke(acme_client *client, const char *cert_pem, const acme_key *cert_key,
                                   int reason, acme_error **err);

/* ------------------------------------------------------------------ */
/* ACME Renewal Information (RFC 9773)                                  */
/* ------------------------------------------------------------------ */

/**
 * Fetch the renewal information for a certificate identifier (see
 * acme_cert_ari_id()) with a plain GET of renewalInfo.
 *
 * @return ACME_OK; ACME_E_NOTSUP when the directory has no renewalInfo.
 * Ownership: the caller frees *out with acme_renewal_info_free().
 */
ACME_EXTERN int acme_client_renewal_info(acme_renewal_info **out, acme_client *client,
                                         const char *cert_id, acme_error **err);

ACME_EXTERN time_t acme_renewal_info_window_start(const acme_renewal_info *ri);
ACME_EXTERN time_t acme_renewal_info_window_end(const acme_renewal_info *ri);
/** explanationURL, or NULL. */
ACME_EXTERN const char *acme_renewal_info_explanation_url(const acme_renewal_info *ri);
/** Seconds until the CA wants to be asked again (Retry-After), or -1. */
ACME_EXTERN int64_t acme_renewal_info_retry_after(const acme_renewal_info *ri);
ACME_EXTERN void acme_renewal_info_free(acme_renewal_info *ri);

/* ------------------------------------------------------------------ */
/* The whole flow                                                       */
/* ------------------------------------------------------------------ */

#define ACME_ISSUE_OPTIONS_VERSION 1

typedef struct acme_issue_options {
    unsigned int version;              /**< ACME_ISSUE_OPTIONS_VERSION */
    const char *const *names;          /**< DNS names, wildcards, IP literals; at least one */
    size_t nnames;
    acme_responder *const *responders; /**< borrowed; the first that fits a challenge answers it */
    size_t nresponders;
    const acme_key *cert_key;          /**< NULL: a new key of key_type */
    acme_key_type key_type;            /**< 0: ACME_KEY_DEFAULT */
    const char *profile;
    bool profile_required;
    const char *replaces;              /**< ARI identifier of the certificate this replaces */
    const char *preferred_issuer;      /**< preferred chain by topmost issuer CN */
    int timeout_seconds;               /**< whole order; 0: 300 */
} acme_issue_options;

#define ACME_ISSUE_OPTIONS_INIT { ACME_ISSUE_OPTIONS_VERSION, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }

/**
 * Run a whole order: new order, answer one challenge per authorization
 * with the first responder that fits (in the order given), wait for the
 * authorizations, finalize with a CSR for @p opts->names, download the
 * chain.  Every responder started is stopped before return, whatever
 * happens.  The account must be registered or found first.
 *
 * When @p opts->replaces is set and the CA answers `alreadyReplaced`, the
 * order is made again without it.
 *
 * @param key_pem_out    the certificate's private key, PEM (PKCS#8)
 * @param chain_pem_out  the certificate and its chain, PEM
 * @return ACME_OK; ACME_E_NOTSUP when no responder fits an authorization;
 *         ACME_E_REJECTED with the CA's problem; ACME_E_TIMEOUT;
 *         ACME_E_CANCELLED.
 * Ownership: the caller frees both with acme_free().
 */
ACME_EXTERN int acme_client_issue(char **key_pem_out, char **chain_pem_out, acme_client *client,
                                  const acme_issue_options *opts, acme_error **err);

ACME_END_DECLS

#endif /* ACME_CLIENT_H */
