/*
 * libacme: the TLS SNI server endpoint, and endpoint strings.
 *
 * An endpoint is txacme's AutoTLSEndpoint in C: it listens on a
 * sub-endpoint ("tcp:443", "tcp6:443:interface=\:\:1", "unix:/run/x"),
 * completes each TLS handshake with the certificate the store holds for
 * the client's SNI name, and hands the established session to the
 * application's handler on a library thread.  On the same port it answers
 * tls-alpn-01 validation handshakes (RFC 8737, ALPN "acme-tls/1") from a
 * tls-alpn-01 registry, and closes them after the handshake.
 *
 * Certificates are cached in memory (DER chain and parsed key per name,
 * in a hash table) and copied into each handshake, so a reload never
 * changes a handshake in flight and no lock is held across one.
 *
 * Endpoint strings name a whole endpoint in one line, as txacme's
 * "le:" and "lets:" parsers did:
 *
 *     le:/srv/certs:tcp:443           Let's Encrypt production
 *     lets:/srv/certs:tcp:443         Let's Encrypt staging
 *     acme:https\://127.0.0.1\:14000/dir:/srv/certs:tcp:443   any CA
 *
 * A colon inside a field is written "\:", a backslash "\\" (Twisted's
 * escaping).
 *
 * No GnuTLS type appears here: a session is passed as `void *`, which is
 * a gnutls_session_t.  See libacme-endpoint(3).
 *
 * With an issuing service (<acme/service.h>, the option `service`), the
 * endpoint is txacme's AutoTLSEndpoint whole:
 *  - acme_endpoint_listen() starts the service once the socket listens
 *    (so tls-alpn-01 validations reach it) and returns when the service's
 *    "certificates valid" point is reached (txacme's listen);
 *  - acme_endpoint_close() stops the service first (cancelling issuing
 *    in flight), then the listener;
 *  - every certificate the service stores reloads that name in the cache
 *    (acme_endpoint_certificate_changed());
 *  - on-demand issuance uses acme_service_issue_cert() when the `issue`
 *    callback is NULL.
 */
#ifndef ACME_ENDPOINT_H
#define ACME_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <acme/common.h>
#include <acme/error.h>
#include <acme/log.h>
#include <acme/service.h>
#include <acme/store.h>
#include <acme/tlsalpn01.h>

ACME_BEGIN_DECLS

/* ------------------------------------------------------------------ */
/* Connections                                                          */
/* ------------------------------------------------------------------ */

/** One established TLS connection, handed to the handler; opaque. */
typedef struct acme_endpoint_conn acme_endpoint_conn;

/**
 * The application's connection handler.
 *
 * Called once per established connection (never for a tls-alpn-01
 * validation handshake), on one of the endpoint's worker threads; calls
 * for different connections overlap (up to the number of workers).  The
 * handler owns the connection until it returns; the endpoint then closes
 * it (sends close_notify, closes the socket) if the handler has not.  It
 * may call any library function except acme_endpoint_close() and
 * acme_endpoint_free() of its own endpoint.  While it runs, the worker
 * serves no other connection: a long-lived handler ties up one worker.
 *
 * When the endpoint closes, the sockets of running handlers are shut
 * down, so their reads and writes fail; the handler must then return.
 *
 * @param userdata  acme_endpoint_options.handler_userdata
 * @param conn      the connection; valid until the handler returns
 */
typedef void acme_endpoint_handler_fn(void *userdata, acme_endpoint_conn *conn);

/**
 * The socket of @p conn (-1 once closed).  Read and write through the
 * session (or the helpers below), never the socket directly.
 * Thread safety: MT-Safe per object (the handler's thread).
 */
ACME_EXTERN int acme_endpoint_conn_fd(const acme_endpoint_conn *conn);

/**
 * The TLS session of @p conn: a gnutls_session_t, handshake done.
 * Ownership: borrowed; the endpoint deinitialises it after the handler.
 * Thread safety: MT-Safe per object.
 */
ACME_EXTERN void *acme_endpoint_conn_session(acme_endpoint_conn *conn);

/**
 * The server name the certificate was chosen by: the client's SNI in
 * canonical form (acme_name_normalize()), or the default name when the
 * client sent none.
 * Ownership: borrowed until the handler returns.  Thread safety: MT-Safe.
 */
ACME_EXTERN const char *acme_endpoint_conn_server_name(const acme_endpoint_conn *conn);

/**
 * The application protocol negotiated by ALPN ("h2", "http/1.1"), or
 * NULL when none was.
 * Ownership: borrowed until the handler returns.  Thread safety: MT-Safe.
 */
ACME_EXTERN const char *acme_endpoint_conn_alpn(const acme_endpoint_conn *conn);

/**
 * Read up to @p len bytes of application data; blocks until some arrive.
 *
 * @param nread  set to the number of bytes read; 0 when the peer closed
 *               the connection (close_notify or end of stream)
 * @return ACME_OK; ACME_E_TLS for a TLS error (a bad record, a fatal
 *         alert); ACME_E_NETWORK when the socket fails or the endpoint is
 *         closing; ACME_E_INVALIDSTATE after acme_endpoint_conn_close().
 * Thread safety: MT-Safe per object.
 */
ACME_EXTERN int acme_endpoint_conn_read(size_t *nread, acme_endpoint_conn *conn, void *buf,
                                        size_t len, acme_error **err);

/**
 * Write all @p len bytes; blocks until they are sent.
 *
 * @return ACME_OK; ACME_E_TLS; ACME_E_NETWORK; ACME_E_INVALIDSTATE after
 *         acme_endpoint_conn_close().
 * Thread safety: MT-Safe per object.
 */
ACME_EXTERN int acme_endpoint_conn_write(acme_endpoint_conn *conn, const void *buf, size_t len,
                                         acme_error **err);

/**
 * Send close_notify (without waiting for the peer's) and close the
 * socket.  Calling it again does nothing.  The connection object stays
 * valid until the handler returns.
 * Thread safety: MT-Safe per object.
 */
ACME_EXTERN void acme_endpoint_conn_close(acme_endpoint_conn *conn);

/* ------------------------------------------------------------------ */
/* The endpoint                                                         */
/* ------------------------------------------------------------------ */

/** A TLS SNI server endpoint; opaque. */
typedef struct acme_endpoint acme_endpoint;

/**
 * On-demand issuance: may a certificate be requested for @p name, which
 * a client asked for and the store does not hold?  Called on a worker
 * thread, during that client's handshake; calls may overlap.  Answer
 * from your own list (the names you host); never true for everything:
 * anyone can send any SNI.
 */
typedef bool acme_endpoint_decide_fn(void *userdata, const char *name);

/**
 * On-demand issuance: obtain a certificate for @p name and put it in the
 * endpoint's store; block until it is there.  Called on a worker thread
 * during the handshake that asked; one call per name at a time.
 *
 * @return ACME_OK when the store now holds a certificate for @p name; a
 *         negative ACME_E_* otherwise (the handshake then fails).
 */
typedef int acme_endpoint_issue_fn(void *userdata, const char *name, acme_error **err);

/** Connections accepted at once unless acme_endpoint_options says otherwise. */
#define ACME_ENDPOINT_DEFAULT_MAX_CONNECTIONS 256u
/** Worker threads unless acme_endpoint_options says otherwise. */
#define ACME_ENDPOINT_DEFAULT_WORKERS 16u
/** Milliseconds to wait for a ClientHello, and then for the handshake, by default. */
#define ACME_ENDPOINT_DEFAULT_HANDSHAKE_TIMEOUT_MS 10000u
/** Milliseconds a name missing from the store is remembered as missing. */
#define ACME_ENDPOINT_DEFAULT_NEGATIVE_TTL_MS 1000u
/** On-demand issuances started per minute, by default. */
#define ACME_ENDPOINT_DEFAULT_ON_DEMAND_PER_MINUTE 10u

#define ACME_ENDPOINT_OPTIONS_VERSION 2

/**
 * Options of acme_endpoint_new().  Initialise with
 * ACME_ENDPOINT_OPTIONS_INIT; 0 and NULL mean "the default".
 *
 * Connections.  The accept thread accepts while fewer than
 * @c max_connections connections are open (waiting for their
 * ClientHello, queued or being served); past that it stops accepting,
 * so new connections wait in the kernel's listen backlog (and the
 * kernel refuses or drops them once the backlog is full).  A new
 * connection stays with the accept thread until its first TLS record
 * has arrived whole (or @c handshake_timeout_ms passes, and it is
 * closed), so stalled clients never hold a worker.  @c workers threads
 * then take connections in order; each runs one connection's handshake,
 * within @c handshake_timeout_ms of taking it, and then its handler.
 */
typedef struct acme_endpoint_options {
    unsigned int version;             /**< ACME_ENDPOINT_OPTIONS_VERSION */
    acme_store *store;                /**< where certificates come from; borrowed; required */
    acme_tlsalpn01 *tlsalpn01;        /**< challenge certificates; borrowed; NULL: none */
    acme_endpoint_handler_fn *handler; /**< required for acme_endpoint_listen() */
    void *handler_userdata;
    unsigned int max_connections;     /**< 0: ACME_ENDPOINT_DEFAULT_MAX_CONNECTIONS */
    unsigned int workers;             /**< 0: ACME_ENDPOINT_DEFAULT_WORKERS; at most max_connections */
    unsigned int handshake_timeout_ms; /**< 0: ACME_ENDPOINT_DEFAULT_HANDSHAKE_TIMEOUT_MS */
    /** The name whose certificate clients without SNI get; NULL: they
     *  get an unrecognized_name alert. */
    const char *default_name;
    /** Application protocols for ALPN, in preference order, NULL-terminated
     *  (copied); "acme-tls/1" is added for tls-alpn-01.  NULL: none. */
    const char *const *alpn;
    /** GnuTLS priority string for listener sessions; NULL: "NORMAL". */
    const char *priority;
    /** On-demand issuance: off while NULL (the default). */
    acme_endpoint_decide_fn *on_demand;
    void *on_demand_userdata;
    /** How on-demand issuance issues (see acme_endpoint_issue_fn). */
    acme_endpoint_issue_fn *issue;
    void *issue_userdata;
    /** On-demand issuances started per minute, over all names; 0: the default. */
    unsigned int on_demand_per_minute;
    /** How long a name missing from the store stays remembered as missing;
     *  0: ACME_ENDPOINT_DEFAULT_NEGATIVE_TTL_MS. */
    unsigned int negative_ttl_ms;
    acme_log_fn *log;                 /**< NULL: silent */
    void *log_userdata;
    acme_log_level log_level;         /**< 0: ACME_LOG_NOTICE */
    /**
     * (Version 2.)  The issuing service that keeps @c store fresh, or
     * NULL.  Borrowed; it must be made over the same store and outlive
     * the endpoint, and serve one endpoint at a time.  The endpoint
     * starts it in acme_endpoint_listen() (a service already running is
     * fine) and stops it in acme_endpoint_close(); it reloads every name
     * the service stores; on-demand issuance uses it when @c issue is
     * NULL.
     */
    acme_service *service;
} acme_endpoint_options;

#define ACME_ENDPOINT_OPTIONS_INIT \
    { ACME_ENDPOINT_OPTIONS_VERSION, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }

/**
 * Make an endpoint over @p opts->store.  Nothing listens yet.
 *
 * @return ACME_OK; ACME_E_INVALID for a missing store, a bad option (an
 *         invalid default name, an ALPN name longer than 255 bytes, a bad
 *         priority string, on-demand without an issue callback or a
 *         service) or a
 *         newer options version; ACME_E_TLS; ACME_E_NOMEM.
 * Ownership: the caller frees *out with acme_endpoint_free(); the store
 * and registry are borrowed and must outlive the endpoint; strings are
 * copied.
 * Thread safety: MT-Safe.
 */
ACME_EXTERN int acme_endpoint_new(acme_endpoint **out, const acme_endpoint_options *opts,
                                  acme_error **err);

/**
 * Listen on @p sub_endpoint ("tcp:PORT[:interface=ADDR][:backlog=N]",
 * "tcp6:...", "unix:PATH[:backlog=N]"; see acme_endpoint_sub_parse()),
 * start the accept thread and the workers, and return.  An endpoint
 * listens once.  With a service, it then starts the service (unless it
 * runs already) and waits for acme_service_when_certs_valid() before it
 * returns: the first attempt at every missing or expiring certificate
 * has been made (whether or not it succeeded).
 *
 * @return ACME_OK; ACME_E_INVALID for a bad sub-endpoint or no handler;
 *         ACME_E_INVALIDSTATE when already listening or closed, or when
 *         the service serves another endpoint; ACME_E_IO when the address
 *         cannot be bound; ACME_E_NOMEM; ACME_E_CANCELLED when the service
 *         was stopped before it was ready (the listener is then stopped).
 * Thread safety: MT-Safe per object.
 */
ACME_EXTERN int acme_endpoint_listen(acme_endpoint *ep, const char *sub_endpoint,
                                     acme_error **err);

/**
 * The TCP port listened on (the one the system picked for "tcp:0"), or 0
 * when not listening on TCP.
 * Thread safety: MT-Safe.
 */
ACME_EXTERN unsigned int acme_endpoint_port(const acme_endpoint *ep);

/**
 * Stop the service, when there is one (acme_service_stop(): issuing in
 * flight is cancelled), then stop listening: close the listening socket (removing a unix socket
 * file it made), close queued connections, shut down the sockets of
 * connections in progress, and join the accept thread and every worker
 * (so it waits for running handlers to return).  Idempotent.
 *
 * Thread safety: from any thread but the endpoint's own (not from a
 * handler or callback).
 */
ACME_EXTERN void acme_endpoint_close(acme_endpoint *ep);

/**
 * Close (acme_endpoint_close()) and free the endpoint (NULL-safe).  No
 * session prepared with acme_endpoint_session_prepare() may be in use.
 * Thread safety: once, not from the endpoint's threads.
 */
ACME_EXTERN void acme_endpoint_free(acme_endpoint *ep);

/**
 * Reload @p name from the store: the next handshakes for it use what the
 * store holds now (handshakes in flight keep what they have).  With
 * @p name NULL every cached name is dropped, to be loaded again on use.
 * This is what the issuing service's "certificate stored" event calls.
 *
 * @return ACME_OK (also when the store has no entry: the name is then
 *         remembered as missing); ACME_E_INVALID for a bad name; the
 *         store's error, in which case the name is dropped from the
 *         cache.
 * Thread safety: MT-Safe.
 */
ACME_EXTERN int acme_endpoint_certificate_changed(acme_endpoint *ep, const char *name,
                                                  acme_error **err);

/**
 * For applications with their own accept loop: set up @p session (a
 * gnutls_session_t made with GNUTLS_SERVER) to behave as the endpoint's
 * own sessions: certificate credentials that choose by SNI from the
 * store, a hook that refuses unknown names with unrecognized_name, ALPN
 * with the endpoint's protocols plus "acme-tls/1", and the tls-alpn-01
 * answer.  The application sets the priorities and the transport, runs
 * the handshake, and sends the alert for a failed one
 * (gnutls_alert_send_appropriate()).  After the handshake, a session for
 * which acme_endpoint_session_is_validation() is true must be closed
 * without exchanging data.
 *
 * @return ACME_OK; ACME_E_INVALID for a NULL session; ACME_E_TLS;
 *         ACME_E_NOMEM.
 * Ownership: the session stays the caller's; it must not outlive @p ep.
 * Thread safety: MT-Safe (a session is used by one thread at a time).
 */
ACME_EXTERN int acme_endpoint_session_prepare(acme_endpoint *ep, void *session,
                                              acme_error **err);

/**
 * Whether the handshake of @p session (a gnutls_session_t) was a
 * tls-alpn-01 validation ("acme-tls/1" negotiated): such a connection is
 * closed right after the handshake (RFC 8737 §3).
 * Thread safety: MT-Safe per session.
 */
ACME_EXTERN bool acme_endpoint_session_is_validation(void *session);

/* ------------------------------------------------------------------ */
/* Endpoint strings                                                     */
/* ------------------------------------------------------------------ */

/** What a sub-endpoint listens on. */
typedef enum acme_endpoint_kind {
    ACME_ENDPOINT_TCP = 1,   /**< "tcp:": IPv4 (every address unless interface=) */
    ACME_ENDPOINT_TCP6 = 2,  /**< "tcp6:": IPv6 (every address unless interface=) */
    ACME_ENDPOINT_UNIX = 3   /**< "unix:": a unix domain socket */
} acme_endpoint_kind;

/** A parsed endpoint string (or sub-endpoint); opaque and immutable. */
typedef struct acme_endpoint_spec acme_endpoint_spec;

/** The listen backlog when a sub-endpoint gives none (Twisted's). */
#define ACME_ENDPOINT_DEFAULT_BACKLOG 50

/**
 * Parse an endpoint string: "le:DIR:SUB", "lets:DIR:SUB" or
 * "acme:URL:DIR:SUB" (see acme_endpoint_sub_parse() for SUB).  Fields are
 * separated by ':'; "\:" is a colon inside a field and "\\" a backslash;
 * any other backslash is an error.
 *
 * DIR must name an existing directory this process may write (it becomes
 * a directory store); it is used as written: ".." in it is a path like
 * any other (the string comes from whoever configures the server, who may
 * name any directory), but control characters are refused.  URL must be
 * an "https://" (or "http://") URL.
 *
 * @return ACME_OK; ACME_E_INVALID with a message naming the problem (an
 *         unknown prefix, a missing field, a bad escape, a bad URL, an
 *         unknown key, a bad port or backlog, a bad interface address);
 *         ACME_E_NOTFOUND when DIR does not exist; ACME_E_IO when it is not
 *         a writable directory; ACME_E_NOMEM.
 * Ownership: the caller frees *out with acme_endpoint_spec_free().
 * Thread safety: MT-Safe.
 */
ACME_EXTERN int acme_endpoint_string_parse(acme_endpoint_spec **out, const char *s,
                                           acme_error **err);

/**
 * Parse a sub-endpoint alone:
 *
 *     tcp:PORT[:interface=ADDR][:backlog=N]    (also tcp:port=PORT...)
 *     tcp6:PORT[:interface=ADDR6][:backlog=N]
 *     unix:PATH[:backlog=N]                    (also unix:address=PATH...)
 *
 * PORT is 0 to 65535 (0: the system picks), ADDR a numeric IPv4 address
 * for tcp and IPv6 for tcp6 (escape its colons), N 1 to 65535, PATH at
 * most 107 bytes.  Keys may come in any order, once each.
 *
 * @return ACME_OK; ACME_E_INVALID (the message names the problem);
 *         ACME_E_NOMEM.
 * Ownership: the caller frees *out with acme_endpoint_spec_free(); its
 * directory URL and certificate directory are NULL.
 * Thread safety: MT-Safe.
 */
ACME_EXTERN int acme_endpoint_sub_parse(acme_endpoint_spec **out, const char *sub,
                                        acme_error **err);

/** The ACME directory URL (NULL for a sub-endpoint alone).  Borrowed.  MT-Safe. */
ACME_EXTERN const char *acme_endpoint_spec_directory_url(const acme_endpoint_spec *spec);
/** The certificate directory (NULL for a sub-endpoint alone).  Borrowed.  MT-Safe. */
ACME_EXTERN const char *acme_endpoint_spec_cert_dir(const acme_endpoint_spec *spec);
/** The sub-endpoint in canonical form, for acme_endpoint_listen().  Borrowed.  MT-Safe. */
ACME_EXTERN const char *acme_endpoint_spec_sub_endpoint(const acme_endpoint_spec *spec);
/** What the sub-endpoint listens on.  MT-Safe. */
ACME_EXTERN acme_endpoint_kind acme_endpoint_spec_kind(const acme_endpoint_spec *spec);
/** The TCP port (0 for unix).  MT-Safe. */
ACME_EXTERN unsigned int acme_endpoint_spec_port(const acme_endpoint_spec *spec);
/** The interface address, or NULL for every address (and for unix).  Borrowed.  MT-Safe. */
ACME_EXTERN const char *acme_endpoint_spec_interface(const acme_endpoint_spec *spec);
/** The listen backlog (ACME_ENDPOINT_DEFAULT_BACKLOG unless given).  MT-Safe. */
ACME_EXTERN int acme_endpoint_spec_backlog(const acme_endpoint_spec *spec);
/** The unix socket path, or NULL for TCP.  Borrowed.  MT-Safe. */
ACME_EXTERN const char *acme_endpoint_spec_path(const acme_endpoint_spec *spec);

/**
 * Open what the endpoint string names on disk: the directory store at
 * its certificate directory, and the account key `client.key` in it,
 * loaded or, when missing, created (acme_store_dir_account_key()).
 *
 * @param store        set to the store (may be NULL: not wanted)
 * @param account_key  set to the key (may be NULL: not wanted)
 * @return ACME_OK; ACME_E_INVALID for a sub-endpoint alone; the store's
 *         errors (ACME_E_IO, ACME_E_NOTFOUND, ACME_E_INVALID for a damaged
 *         client.key).
 * Ownership: the caller frees *store with acme_store_free() and
 * *account_key with acme_key_free().
 * Thread safety: MT-Safe.
 */
ACME_EXTERN int acme_endpoint_spec_open(acme_store **store, acme_key **account_key,
                                        const acme_endpoint_spec *spec, acme_error **err);

/** Free a spec (NULL-safe).  Thread safety: MT-Safe per object. */
ACME_EXTERN void acme_endpoint_spec_free(acme_endpoint_spec *spec);

ACME_END_DECLS

#endif /* ACME_ENDPOINT_H */
