/*
 * libacme: doubles for testing applications that use libacme (txacme's
 * `txacme.testing`).
 *
 * Not included by <acme/acme.h>: include it on purpose, in tests.
 * See libacme-testing(3).
 */
#ifndef ACME_TESTING_H
#define ACME_TESTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <acme/common.h>
#include <acme/error.h>
#include <acme/responder.h>
#include <acme/crypto.h>
#include <acme/clock.h>
#include <acme/issuer.h>

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

/* ================================================================== */
/* Manual clock, fake CA issuer and its controller (issue 4: testing)  */
/* ================================================================== */

/**
 * A clock whose time moves only when the test moves it (a virtual clock,
 * ACME_CLOCK_F_VIRTUAL): the service's waits on it have no real-time
 * timeout, so months of renewals run in milliseconds, with no sleep
 * (txacme's tests used a fake reactor clock for this).
 *
 * @param out       the clock
 * @param start_ms  its time, in milliseconds since the Unix epoch
 * @return ACME_OK; ACME_E_NOMEM.
 * Ownership: the caller frees *out with acme_clock_free(), after every
 * object that uses it.
 * Thread safety: MT-Safe.
 */
ACME_EXTERN int acme_clock_manual_new(acme_clock **out, int64_t start_ms, acme_error **err);

/**
 * Move a manual clock forward by @p ms milliseconds (saturating), then
 * call its subscribers (on this thread, with no lock of the clock held),
 * which wakes whatever waits on the clock.
 *
 * @return ACME_OK; ACME_E_INVALID when @p clock is not a manual clock or
 *         @p ms is negative (the time does not change: advancing never
 *         goes back).
 * Thread safety: MT-Safe.  Do not call it while holding a lock that a
 * subscriber of the clock takes.
 */
ACME_EXTERN int acme_clock_manual_advance(acme_clock *clock, int64_t ms);

/**
 * Set a manual clock to @p now_ms (forward or back: the only way its time
 * goes back), then call its subscribers as acme_clock_manual_advance()
 * does.
 *
 * @return ACME_OK; ACME_E_INVALID when @p clock is not a manual clock.
 * Thread safety: MT-Safe; as acme_clock_manual_advance().
 */
ACME_EXTERN int acme_clock_manual_set(acme_clock *clock, int64_t now_ms);

/**
 * An in-memory certificate authority for tests, with its controller
 * (txacme's FakeClient and FakeClientController).  It signs certificates
 * with a self-signed root made when it is created, validates nothing (no
 * responder is called), and lets a test pause issuing, count calls and
 * inject failures.  Reference counted: each issuer made from it holds a
 * reference.  Opaque.
 */
typedef struct acme_fake_ca acme_fake_ca;

#define ACME_FAKE_CA_OPTIONS_VERSION 1

/** Options for acme_fake_ca_new(); zero means "the default" for every member. */
typedef struct acme_fake_ca_options {
    unsigned int version;           /**< ACME_FAKE_CA_OPTIONS_VERSION */
    /**
     * Whose "now" is a certificate's notBefore; borrowed: it must outlive
     * the CA and every issuer made from it.  NULL: the system clock.
     */
    acme_clock *clock;
    /** Certificate lifetime in seconds; 0: 90 days. */
    int64_t lifetime_seconds;
    /** The root's common name; NULL: "libacme fake CA". */
    const char *name;
} acme_fake_ca_options;

#define ACME_FAKE_CA_OPTIONS_INIT { ACME_FAKE_CA_OPTIONS_VERSION, 0, 0, 0 }

/**
 * Make a fake CA (and its self-signed root, an EC P-256 key).
 *
 * @param opts  NULL: every default
 * @return ACME_OK; ACME_E_INVALID for a bad version or a negative
 *         lifetime; ACME_E_CRYPTO; ACME_E_NOMEM.
 * Ownership: the caller drops its reference with acme_fake_ca_free().
 * Thread safety: MT-Safe.
 */
ACME_EXTERN int acme_fake_ca_new(acme_fake_ca **out, const acme_fake_ca_options *opts,
                                 acme_error **err);

/**
 * Drop the caller's reference (NULL-safe); the CA goes when the last
 * issuer made from it is freed too.  No issue call may be blocked on it
 * (resume it first).
 */
ACME_EXTERN void acme_fake_ca_free(acme_fake_ca *ca);

/**
 * An issuer (for the service's factory) that issues from @p ca.  Each call
 * makes a new issuer object sharing the CA.  Its account step records the
 * contact email; its issue step checks the names (a wildcard "*." in front
 * of a DNS name is allowed) and, unless a failure was injected or it is
 * cancelled, returns a new key (@p opts->cert_key when given, else a new
 * key of @p opts->key_type) and a chain of two PEM certificates: the leaf
 * (SANs = the names, notBefore = the CA's clock now, notAfter = notBefore
 * plus the lifetime, an authority key identifier so acme_cert_ari_id()
 * works) then the root.  acme_issuer_cancel() is sticky: the call in
 * progress and every later call on that issuer return ACME_E_CANCELLED.
 *
 * @return ACME_OK; ACME_E_INVALID; ACME_E_NOMEM.
 * Ownership: the caller frees *out with acme_issuer_free().
 * Thread safety: MT-Safe; issuers from one CA may issue on several
 * threads at once.
 */
ACME_EXTERN int acme_fake_ca_issuer(acme_issuer **out, acme_fake_ca *ca, acme_error **err);

/** The root certificate, PEM; borrowed until the CA goes.  MT-Safe. */
ACME_EXTERN const char *acme_fake_ca_root_pem(const acme_fake_ca *ca);

/**
 * Pause issuing: from now on each issue call blocks (counted by
 * acme_fake_ca_pending()) until acme_fake_ca_resume() or until its issuer
 * is cancelled (it then returns ACME_E_CANCELLED at once).  MT-Safe.
 */
ACME_EXTERN void acme_fake_ca_pause(acme_fake_ca *ca);

/** Let blocked and later issue calls go on.  MT-Safe. */
ACME_EXTERN void acme_fake_ca_resume(acme_fake_ca *ca);

/** How many issue calls are blocked by a pause right now.  MT-Safe. */
ACME_EXTERN unsigned int acme_fake_ca_pending(acme_fake_ca *ca);

/**
 * Block until at least @p n issue calls are blocked by a pause (tests use
 * this instead of sleeping).  There is no timeout.  MT-Safe.
 */
ACME_EXTERN void acme_fake_ca_wait_pending(acme_fake_ca *ca, unsigned int n);

/** How many certificates the CA has issued (successful issue calls).  MT-Safe. */
ACME_EXTERN unsigned int acme_fake_ca_issued_count(acme_fake_ca *ca);

/** How many issue calls have returned, successful or not.  MT-Safe. */
ACME_EXTERN unsigned int acme_fake_ca_finished_count(acme_fake_ca *ca);

/**
 * Block until at least @p n issue calls have returned (see
 * acme_fake_ca_finished_count()).  There is no timeout.  MT-Safe.
 */
ACME_EXTERN void acme_fake_ca_wait_finished(acme_fake_ca *ca, unsigned int n);

/**
 * Make the next issue call that gets past a pause fail (failures queue up:
 * each call takes one).  The error is built as if the CA had answered a
 * problem document: @p problem_type ("rateLimited" or a full
 * "urn:ietf:params:acme:error:rateLimited", or NULL for none) gives the
 * code and retryability of the library's problem table; @p code, when not
 * 0, overrides the code.
 *
 * @param retry_after  seconds, for acme_error_retry_after(); -1: none
 * @return ACME_OK; ACME_E_INVALID (a code that is not negative and not 0,
 *         nor a problem type); ACME_E_NOMEM.
 * Thread safety: MT-Safe.
 */
ACME_EXTERN int acme_fake_ca_fail_next(acme_fake_ca *ca, int code, const char *problem_type,
                                       int64_t retry_after, acme_error **err);

/**
 * As acme_fake_ca_fail_next(), with the problem's @p detail and
 * @p instance (e.g. the URL of a userActionRequired problem), each may be
 * NULL.
 */
ACME_EXTERN int acme_fake_ca_fail_next_problem(acme_fake_ca *ca, int code,
                                               const char *problem_type, const char *detail,
                                               const char *instance, int64_t retry_after,
                                               acme_error **err);

/** As acme_fake_ca_fail_next(), for the next account call. */
ACME_EXTERN int acme_fake_ca_fail_account(acme_fake_ca *ca, int code, const char *problem_type,
                                          int64_t retry_after, acme_error **err);

/**
 * Answer renewal information (ARI) for @p key: an ARI certificate
 * identifier (acme_cert_ari_id()), or a name, matching every certificate
 * this CA issued with that name among its SANs; NULL matches every
 * identifier.  A later call for the same key replaces the answer.
 * Without a matching answer, acme_issuer_renewal_info() returns
 * ACME_E_NOTSUP (the CA offers no ARI).  An identifier matches before a
 * name, a name before NULL.
 *
 * @param explanation_url  may be NULL
 * @param retry_after      seconds; -1: none
 * @return ACME_OK; ACME_E_INVALID when the window ends before it starts;
 *         ACME_E_NOMEM.
 * Thread safety: MT-Safe.
 */
ACME_EXTERN int acme_fake_ca_set_renewal_info(acme_fake_ca *ca, const char *key,
                                              time_t window_start, time_t window_end,
                                              const char *explanation_url, int64_t retry_after,
                                              acme_error **err);

/**
 * The contact email of the last account call (NULL when none was given
 * or no call was made).
 * Ownership: the caller frees it with acme_free().  MT-Safe.
 */
ACME_EXTERN char *acme_fake_ca_account_contact(acme_fake_ca *ca);

/** How many account calls were made.  MT-Safe. */
ACME_EXTERN unsigned int acme_fake_ca_account_count(acme_fake_ca *ca);

/**
 * The names of the last issue call (as given), or NULL (and *n 0) before
 * any.  Recorded when the call starts, before any pause or failure.
 * Ownership: the caller frees them with acme_free_strv(names, *n).
 * MT-Safe.
 */
ACME_EXTERN char **acme_fake_ca_last_names(acme_fake_ca *ca, size_t *n);

/**
 * The "replaces" ARI identifier of the last issue call, or NULL.
 * Ownership: the caller frees it with acme_free().  MT-Safe.
 */
ACME_EXTERN char *acme_fake_ca_last_replaces(acme_fake_ca *ca);

/**
 * The key type of the last issue call: the type of its cert_key when one
 * was given, else its key_type (0 given means ACME_KEY_DEFAULT).  MT-Safe.
 */
ACME_EXTERN acme_key_type acme_fake_ca_last_key_type(acme_fake_ca *ca);

ACME_END_DECLS

#endif /* ACME_TESTING_H */
