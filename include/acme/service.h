/*
 * libacme: the issuing service (txacme's AcmeIssuingService).
 *
 * A service keeps every certificate of a store fresh: on start and every
 * check interval it examines each name of the store, reissues what is
 * missing, empty or about to expire, retries failures with backoff, calls
 * a panic callback when a certificate inside the panic interval could not
 * be renewed, and follows the CA's ACME Renewal Information (RFC 9773)
 * when the CA offers it.
 *
 * Threads: one scheduler thread and a pool of worker threads, started by
 * acme_service_start() and joined by acme_service_stop().  Callbacks
 * (log, panic, events, job completion, the issuer factory, the key
 * generator) run on those threads, never while the service holds one of
 * its locks, so a callback may call any acme_service_* function except
 * acme_service_stop() and acme_service_free() (which join the thread the
 * callback runs on).  See libacme-service(3).
 */
#ifndef ACME_SERVICE_H
#define ACME_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <acme/common.h>
#include <acme/error.h>
#include <acme/log.h>
#include <acme/crypto.h>
#include <acme/responder.h>
#include <acme/clock.h>
#include <acme/issuer.h>
#include <acme/store.h>

ACME_BEGIN_DECLS

/** An issuing service; opaque. */
typedef struct acme_service acme_service;

/** One caller's handle on an issuing job (acme_service_issue_cert_async()); opaque. */
typedef struct acme_service_job acme_service_job;

/** A snapshot of the service's per-name state (acme_service_status_get()); opaque. */
typedef struct acme_service_status acme_service_status;

/* ------------------------------------------------------------------ */
/* Callbacks                                                           */
/* ------------------------------------------------------------------ */

/** What happened to a name. */
typedef enum acme_service_event_kind {
    /** Issuing started for the name. */
    ACME_EVENT_OBTAINING = 1,
    /** A first certificate was stored (the entry had none, or an unusable one). */
    ACME_EVENT_OBTAINED = 2,
    /** A certificate replaced an existing one. */
    ACME_EVENT_RENEWED = 3,
    /** Issuing failed; `error` says why (with the CA's problem, when there was one). */
    ACME_EVENT_FAILED = 4,
    /**
     * The certificate is missing, expired, or expires within the panic
     * interval, and is about to be reissued (sent before OBTAINING).
     */
    ACME_EVENT_EXPIRING = 5
} acme_service_event_kind;

/** An event; every pointer is borrowed for the callback only. */
typedef struct acme_service_event {
    acme_service_event_kind kind;
    /** The store entry's name. */
    const char *name;
    /**
     * OBTAINED, RENEWED: the new certificate's notAfter.  EXPIRING,
     * OBTAINING, FAILED: the current certificate's notAfter, or 0 when
     * there is none.
     */
    time_t not_after;
    /** FAILED: the error; NULL for the other kinds. */
    const acme_error *error;
} acme_service_event;

/**
 * An event callback.
 *
 * Thread safety: runs on a worker thread, with no service lock held.
 * Calls for different names may overlap (it must be MT-Safe); the events
 * of one issuing attempt arrive in order (EXPIRING, OBTAINING, then
 * OBTAINED, RENEWED or FAILED) from one thread.
 */
typedef void acme_service_event_fn(void *userdata, const acme_service_event *ev);

/**
 * The panic callback: a certificate that is missing, expired or expires
 * within the panic interval could not be reissued.  Use it to page
 * someone.  The default logs the failure at ACME_LOG_CRITICAL.
 *
 * @param name   the store entry's name (borrowed for the call)
 * @param error  why (borrowed for the call; copy it with acme_error_copy())
 * Thread safety: as acme_service_event_fn.
 */
typedef void acme_service_panic_fn(void *userdata, const char *name, const acme_error *error);

/**
 * A key generator for new certificate keys (txacme's generate_key).
 *
 * @param out   the new key, which the service frees
 * @param name  the entry the key is for (borrowed)
 * @return ACME_OK, or a negative ACME_E_* code with *err set (the attempt
 *         then fails with that error).
 * Thread safety: runs on worker threads, possibly several at once.
 */
typedef int acme_service_keygen_fn(void *userdata, acme_key **out, const char *name,
                                   acme_error **err);

/**
 * Completion of an issuing job (acme_service_issue_cert_async()).
 *
 * @param job    the caller's handle (do not free it here)
 * @param name   the name (borrowed for the call)
 * @param rc     ACME_OK, or the negative code the attempt failed with
 *               (ACME_E_CANCELLED after acme_service_job_cancel() or stop)
 * @param error  the error when @p rc is negative, else NULL (borrowed)
 * Thread safety: runs once per handle, on the worker that finished the
 * job, or on the thread calling acme_service_job_cancel() or
 * acme_service_stop(), with no service lock held.
 */
typedef void acme_service_job_fn(void *userdata, acme_service_job *job, const char *name, int rc,
                                 const acme_error *error);

/**
 * The callback form of acme_service_when_certs_valid().
 *
 * @param rc  ACME_OK when the startup check has attempted every
 *            certificate within the panic interval; ACME_E_CANCELLED when
 *            the service stopped first.
 * Thread safety: runs once, on a service thread, on the registering
 * thread (when the condition already holds) or on the thread stopping
 * the service, with no service lock held.
 */
typedef void acme_service_ready_fn(void *userdata, int rc);

/* ------------------------------------------------------------------ */
/* Options                                                             */
/* ------------------------------------------------------------------ */

#define ACME_SERVICE_OPTIONS_VERSION 1

/** Defaults (seconds). */
#define ACME_SERVICE_CHECK_INTERVAL   (24 * 3600)        /**< 24 hours */
#define ACME_SERVICE_REISSUE_INTERVAL (30 * 24 * 3600)   /**< 30 days */
#define ACME_SERVICE_PANIC_INTERVAL   (15 * 24 * 3600)   /**< 15 days */
#define ACME_SERVICE_RETRY_INITIAL    (10 * 60)          /**< 10 minutes */
#define ACME_SERVICE_RETRY_MAX        (12 * 3600)        /**< 12 hours */
#define ACME_SERVICE_WORKERS          4

/**
 * Options for acme_service_new().  Initialise with
 * ACME_SERVICE_OPTIONS_INIT; zero means "the default" for every member.
 *
 * Intervals.  A certificate is reissued when it expires within the
 * reissue interval, and a failure panics within the panic interval.  For
 * short-lived certificates both shrink: the reissue interval to a third of
 * the lifetime (half for lifetimes of 10 days or less), the panic interval
 * to half of that, so Let's Encrypt's 6-day and 45-day certificates are
 * renewed after 3 and 30 days, never in a loop.
 *
 * Retries.  Retry n (n >= 1) of a failed name waits a random time in
 * [d/2, d] with d = min(retry_max, retry_initial * 2^(n-1)), and never
 * less than the CA's Retry-After (a `rateLimited` problem).  A
 * `userActionRequired` problem stops the retries for that name (its URL is
 * logged and in the status) until acme_service_issue_cert() is called for
 * it or the service is started again.
 */
typedef struct acme_service_options {
    unsigned int version;                 /**< ACME_SERVICE_OPTIONS_VERSION */
    /** Required; borrowed: it must outlive the service. */
    acme_store *store;
    /** Required: makes an issuer for every attempt (and every ARI poll). */
    acme_issuer_factory_fn *issuer_factory;
    void *issuer_factory_userdata;
    /** Borrowed; NULL: the system clock (the service makes its own). */
    acme_clock *clock;
    /** Challenge responders, handed to every order; the array is copied, the responders borrowed. */
    acme_responder *const *responders;
    size_t nresponders;
    /** Account contact ("mailto:" is added); NULL: none.  Copied. */
    const char *email;
    int64_t check_interval;               /**< seconds; 0: ACME_SERVICE_CHECK_INTERVAL */
    int64_t reissue_interval;             /**< seconds; 0: ACME_SERVICE_REISSUE_INTERVAL */
    int64_t panic_interval;               /**< seconds; 0: ACME_SERVICE_PANIC_INTERVAL */
    int64_t retry_initial;                /**< seconds; 0: ACME_SERVICE_RETRY_INITIAL */
    int64_t retry_max;                    /**< seconds; 0: ACME_SERVICE_RETRY_MAX */
    /** NULL: log at ACME_LOG_CRITICAL. */
    acme_service_panic_fn *panic;
    void *panic_userdata;
    /** NULL: acme_key_generate() of key_type. */
    acme_service_keygen_fn *generate_key;
    void *generate_key_userdata;
    /** Type of new certificate keys; 0: ACME_KEY_DEFAULT (EC P-256). */
    acme_key_type key_type;
    /** Worker threads; 0: ACME_SERVICE_WORKERS. */
    unsigned int workers;
    /** NULL: no events. */
    acme_service_event_fn *on_event;
    void *event_userdata;
    /** NULL: silent. */
    acme_log_fn *log;
    void *log_userdata;
    acme_log_level log_level;             /**< 0: ACME_LOG_INFO */
    /** Per order; 0: the issuer's default (300 s). */
    int issue_timeout_seconds;
} acme_service_options;

#define ACME_SERVICE_OPTIONS_INIT \
    { ACME_SERVICE_OPTIONS_VERSION, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, \
      0, 0, 0, 0, 0, 0 }

/* ------------------------------------------------------------------ */
/* Life cycle                                                          */
/* ------------------------------------------------------------------ */

/**
 * Make a service.  No thread runs until acme_service_start().
 *
 * @param out   the new service
 * @param opts  options (copied; the store, clock and responders borrowed)
 * @return ACME_OK; ACME_E_INVALID for a missing store or factory, a
 *         negative interval, or a newer options version; ACME_E_NOMEM.
 * Ownership: the caller frees *out with acme_service_free().
 * Thread safety: MT-Safe.
 */
ACME_EXTERN int acme_service_new(acme_service **out, const acme_service_options *opts,
                                 acme_error **err);

/**
 * Start the scheduler and the workers; the first check of every name
 * begins at once.  A stopped service may be started again.
 *
 * @return ACME_OK; ACME_E_INVALIDSTATE when already running;
 *         ACME_E_NOMEM or ACME_E_IO when a thread cannot be made (nothing
 *         is left running).
 * Thread safety: MT-Safe per object (not together with acme_service_stop()).
 */
ACME_EXTERN int acme_service_start(acme_service *service, acme_error **err);

/**
 * Stop: cancel every job (in-flight HTTP transfers included, through
 * acme_issuer_cancel()), wait for the workers and the scheduler and join
 * them.  Jobs and when-valid waiters still pending complete with
 * ACME_E_CANCELLED.  Responders started for an order are stopped by the
 * order; the store is only ever written whole, so it stays consistent.
 * Idempotent; NULL-safe.
 *
 * Thread safety: MT-Safe per object; never from a service callback.
 */
ACME_EXTERN void acme_service_stop(acme_service *service);

/**
 * Stop (see acme_service_stop()) and free the service (NULL-safe).  Job
 * handles still held stay valid (completed) until acme_service_job_free().
 * Thread safety: MT-Safe per object; never from a service callback.
 */
ACME_EXTERN void acme_service_free(acme_service *service);

/* ------------------------------------------------------------------ */
/* Issuing on demand                                                   */
/* ------------------------------------------------------------------ */

/**
 * Issue a certificate for @p name now, even if the current one is fresh,
 * and wait.  When issuing is already in flight for @p name, no second
 * process starts: this call waits for the one in flight.  The entry's
 * names (acme_bundle_names()) are the order's identifiers; an unknown
 * name gets a certificate for itself alone.
 *
 * @param name  a server name (acme_name_validate())
 * @return ACME_OK; ACME_E_INVALID for a bad name; ACME_E_INVALIDSTATE
 *         when the service is not running; ACME_E_CANCELLED when the
 *         service stopped; or the attempt's error (ACME_E_REJECTED with
 *         the CA's problem, ACME_E_RATELIMITED, ACME_E_NETWORK, ...).
 * Thread safety: MT-Safe.
 */
ACME_EXTERN int acme_service_issue_cert(acme_service *service, const char *name,
                                        acme_error **err);

/**
 * The asynchronous form of acme_service_issue_cert(): returns at once
 * with a handle.  @p cb (may be NULL) runs once when the job completes.
 *
 * @param out   the caller's handle
 * @param cb    completion callback, or NULL
 * @return ACME_OK; ACME_E_INVALID; ACME_E_INVALIDSTATE when the service
 *         is not running; ACME_E_NOMEM.
 * Ownership: the caller frees *out with acme_service_job_free().
 * Thread safety: MT-Safe.
 */
ACME_EXTERN int acme_service_issue_cert_async(acme_service_job **out, acme_service *service,
                                              const char *name, acme_service_job_fn *cb,
                                              void *userdata, acme_error **err);

/**
 * Wait for a job to complete.
 *
 * @param timeout_ms  how long to wait, in milliseconds of the service's
 *                    clock (a manual clock must be advanced); negative:
 *                    no limit
 * @return the job's result (ACME_OK or its negative code, with *err a
 *         copy of its error); ACME_E_TIMEOUT when @p timeout_ms passed
 *         first.
 * Thread safety: MT-Safe.
 */
ACME_EXTERN int acme_service_job_wait(acme_service_job *job, int64_t timeout_ms,
                                      acme_error **err);

/**
 * Whether the job has completed (acme_service_job_wait() would not block).
 * Thread safety: MT-Safe.
 */
ACME_EXTERN bool acme_service_job_done(acme_service_job *job);

/**
 * Cancel this caller's interest in the job: its wait returns
 * ACME_E_CANCELLED and its callback runs with ACME_E_CANCELLED (on this
 * thread) unless the job had completed.  When no other caller waits for
 * the job and the scheduler did not start it, the issuing itself is
 * cancelled (acme_issuer_cancel()).  No-op on a completed job.
 * Thread safety: MT-Safe.
 */
ACME_EXTERN void acme_service_job_cancel(acme_service_job *job);

/**
 * Free a handle (NULL-safe); a pending job is cancelled first
 * (acme_service_job_cancel()).  Not from the job's own callback.
 * Thread safety: MT-Safe per object.
 */
ACME_EXTERN void acme_service_job_free(acme_service_job *job);

/* ------------------------------------------------------------------ */
/* Startup readiness                                                   */
/* ------------------------------------------------------------------ */

/**
 * Wait until the startup check has attempted every certificate that was
 * missing, expired or within the panic interval (the attempts may have
 * failed: the panic callback has then run).  Returns at once when the
 * store is empty or every certificate was valid.
 *
 * @param timeout_ms  milliseconds of the service's clock; negative: no limit
 * @return ACME_OK; ACME_E_TIMEOUT; ACME_E_INVALIDSTATE when the service
 *         was never started; ACME_E_CANCELLED when it stopped first.
 * Thread safety: MT-Safe.
 */
ACME_EXTERN int acme_service_when_certs_valid(acme_service *service, int64_t timeout_ms,
                                              acme_error **err);

/**
 * The callback form of acme_service_when_certs_valid(): @p cb runs once,
 * at once (on this thread) when the condition already holds.
 *
 * @return ACME_OK; ACME_E_INVALID for a NULL @p cb; ACME_E_NOMEM.
 * Thread safety: MT-Safe.
 */
ACME_EXTERN int acme_service_when_certs_valid_cb(acme_service *service, acme_service_ready_fn *cb,
                                                 void *userdata, acme_error **err);

/* ------------------------------------------------------------------ */
/* Status                                                              */
/* ------------------------------------------------------------------ */

/**
 * A snapshot of every name the service knows (those of the store at the
 * last check, and those asked for with acme_service_issue_cert()), sorted
 * by name.  Any thread may take one at any time.
 *
 * @return ACME_OK; ACME_E_NOMEM.
 * Ownership: the caller frees *out with acme_service_status_free().
 * Thread safety: MT-Safe.  The snapshot itself is immutable.
 */
ACME_EXTERN int acme_service_status_get(acme_service_status **out, acme_service *service,
                                        acme_error **err);

/** How many names the snapshot holds. */
ACME_EXTERN size_t acme_service_status_count(const acme_service_status *st);

/**
 * Entry @p i's name, or NULL when @p i is out of range.
 * Ownership: borrowed until acme_service_status_free().
 */
ACME_EXTERN const char *acme_service_status_name(const acme_service_status *st, size_t i);

/** Entry @p i's certificate notAfter; 0 when it has none (or @p i is out of range). */
ACME_EXTERN time_t acme_service_status_not_after(const acme_service_status *st, size_t i);

/** When the service next looks at entry @p i (epoch seconds); 0 when nothing is planned. */
ACME_EXTERN time_t acme_service_status_next_check(const acme_service_status *st, size_t i);

/**
 * The last failure of entry @p i, or NULL (none since its last success).
 * Ownership: borrowed until acme_service_status_free().
 */
ACME_EXTERN const acme_error *acme_service_status_last_error(const acme_service_status *st,
                                                             size_t i);

/** Failed attempts in a row of entry @p i (0 after a success). */
ACME_EXTERN unsigned int acme_service_status_failures(const acme_service_status *st, size_t i);

/** Whether a job (check or issue) for entry @p i is queued or running. */
ACME_EXTERN bool acme_service_status_in_flight(const acme_service_status *st, size_t i);

/**
 * Whether entry @p i is being issued now: its job decided to order a
 * certificate and the order is under way (a subset of in flight: a
 * queued check, or one that finds the certificate fresh, is not).
 */
ACME_EXTERN bool acme_service_status_issuing(const acme_service_status *st, size_t i);

/**
 * Whether retries of entry @p i stopped for a `userActionRequired`
 * problem; its last error's instance (acme_error_instance()) is the URL
 * where a person must act.
 */
ACME_EXTERN bool acme_service_status_blocked(const acme_service_status *st, size_t i);

/** Free a snapshot (NULL-safe).  Thread safety: MT-Safe per object. */
ACME_EXTERN void acme_service_status_free(acme_service_status *st);

ACME_END_DECLS

#endif /* ACME_SERVICE_H */
