/*
 * libacme: http-01 challenge responders (RFC 8555 §8.3).
 *
 * For an http-01 challenge the CA fetches
 * `http://<name>/.well-known/acme-challenge/<token>` on port 80 and expects
 * status 200 with the key authorization as the body.  libacme offers three
 * ways to answer:
 *
 * 1. Embedded: an application that already runs an HTTP server on port 80
 *    makes a token table (acme_http01_new()), hands the client a responder
 *    that fills it (acme_http01_responder()), and asks the table from its
 *    request handler (acme_http01_lookup()) whether a request path is a
 *    challenge it must answer.
 * 2. Standalone: libacme serves the table itself on an address and port
 *    with libmicrohttpd (acme_http01_listen(), or the one-call
 *    acme_responder_http01_standalone_new()).
 * 3. Webroot: another web server serves a document root, and the responder
 *    writes the challenge file under it
 *    (acme_responder_http01_webroot_new()).
 *
 * See libacme-http01(3).
 */
#ifndef ACME_HTTP01_H
#define ACME_HTTP01_H

#include <acme/common.h>
#include <acme/error.h>
#include <acme/responder.h>

ACME_BEGIN_DECLS

/** The path prefix of every http-01 challenge URL (RFC 8555 §8.3). */
#define ACME_HTTP01_PATH_PREFIX "/.well-known/acme-challenge/"

/** The port the CA connects to (RFC 8555 §8.3). */
#define ACME_HTTP01_PORT 80

/**
 * A table of the http-01 challenges in flight: token -> key authorization.
 * Opaque and reference counted; every call on it is MT-Safe (one mutex
 * inside guards the table, never held while calling out of the library).
 */
typedef struct acme_http01 acme_http01;

/** A running standalone http-01 listener; opaque. */
typedef struct acme_http01_server acme_http01_server;

/**
 * Make an empty token table.
 *
 * @param out  receives the table
 * @param err  receives the error on failure (may be NULL)
 * @return ACME_OK; ACME_E_INVALID when @p out is NULL; ACME_E_NOMEM.
 *
 * Ownership: the caller frees *out with acme_http01_free().  Responders and
 * listeners made from the table hold their own reference, so the caller
 * may free it before them.
 * Thread safety: MT-Safe.
 */
ACME_EXTERN int acme_http01_new(acme_http01 **out, acme_error **err);

/**
 * Drop the caller's reference to a table (NULL-safe).  The table goes
 * away when the last responder or listener using it is freed too.
 *
 * @param h  the table
 *
 * Thread safety: MT-Safe, but not while another thread still uses the
 * caller's reference.
 */
ACME_EXTERN void acme_http01_free(acme_http01 *h);

/**
 * Start answering a challenge: put @p token with its key authorization in
 * the table.  Adding the same pair again counts: it stays until removed as
 * many times (two orders may share one pending authorization).
 *
 * Responders from acme_http01_responder() call this for the client; call
 * it yourself when you drive orders with acme_challenge_respond().
 *
 * @param h                  the table
 * @param token              the challenge token: base64url (RFC 8555 §8.3)
 * @param key_authorization  `<token>.<base64url thumbprint>` (RFC 8555 §8.1)
 * @param err                receives the error on failure (may be NULL)
 * @return ACME_OK; ACME_E_INVALID when the token is not base64url or the
 *         key authorization is not for this token; ACME_E_INVALIDSTATE
 *         when the token is already in the table with another key
 *         authorization; ACME_E_NOMEM.
 *
 * Ownership: the strings are copied.
 * Thread safety: MT-Safe.
 */
ACME_EXTERN int acme_http01_add(acme_http01 *h, const char *token, const char *key_authorization,
                                acme_error **err);

/**
 * Stop answering a challenge: undo one acme_http01_add() of @p token.
 *
 * @param h      the table
 * @param token  the challenge token
 * @return ACME_OK; ACME_E_NOTFOUND when the token is not in the table;
 *         ACME_E_INVALID when an argument is NULL.
 *
 * Thread safety: MT-Safe.
 */
ACME_EXTERN int acme_http01_remove(acme_http01 *h, const char *token);

/**
 * The answer for a request path, for an HTTP server that embeds the
 * responder: call it for each request on port 80 (methods GET and HEAD) and
 * answer 200 with *body_out as the body (content type
 * `application/octet-stream`, nothing appended) when it returns ACME_OK;
 * on ACME_E_NOTFOUND the request is not a challenge in flight, so handle it
 * as usual (or answer 404).
 *
 * @p path is the request target's path: exactly
 * ACME_HTTP01_PATH_PREFIX followed by a token.  A query string ("?...") is
 * ignored.  Anything else (another prefix, an empty, unknown or non
 * base64url token, a trailing "/", "..", percent-encoding) is not a
 * challenge.
 *
 * @param body_out  receives the key authorization (may be NULL to only ask)
 * @param h         the table
 * @param path      the request path, e.g. "/.well-known/acme-challenge/abc"
 * @param err       receives the error on failure (may be NULL; pass NULL
 *                  on hot paths: ACME_E_NOTFOUND is the usual answer)
 * @return ACME_OK; ACME_E_NOTFOUND when the path is not a challenge in
 *         flight; ACME_E_INVALID when @p h or @p path is NULL;
 *         ACME_E_NOMEM.
 *
 * Ownership: the caller frees *body_out with acme_free().
 * Thread safety: MT-Safe: any number of server threads may look up while
 * responders add and remove.
 */
ACME_EXTERN int acme_http01_lookup(char **body_out, const acme_http01 *h, const char *path,
                                   acme_error **err);

/**
 * A responder (challenge type "http-01") that answers by adding the
 * challenge to @p h on start and removing it on stop.
 *
 * @param out  receives the responder
 * @param h    the table to fill
 * @param err  receives the error on failure (may be NULL)
 * @return ACME_OK; ACME_E_INVALID when an argument is NULL; ACME_E_NOMEM.
 *
 * Ownership: the caller frees *out with acme_responder_free(); the
 * responder holds a reference to @p h.
 * Thread safety: MT-Safe.  The responder's start and stop are MT-Safe.
 */
ACME_EXTERN int acme_http01_responder(acme_responder **out, acme_http01 *h, acme_error **err);

/** The current version of acme_http01_server_options. */
#define ACME_HTTP01_SERVER_OPTIONS_VERSION 1

/** Default of acme_http01_server_options.max_connections. */
#define ACME_HTTP01_MAX_CONNECTIONS 512
/** Default of acme_http01_server_options.max_connections_per_ip. */
#define ACME_HTTP01_MAX_CONNECTIONS_PER_IP 16
/** Default of acme_http01_server_options.timeout_seconds. */
#define ACME_HTTP01_TIMEOUT_SECONDS 5
/** Default of acme_http01_server_options.memory_per_connection (bytes). */
#define ACME_HTTP01_MEMORY_PER_CONNECTION 8192

/**
 * Limits of a standalone listener.  Initialise with
 * ACME_HTTP01_SERVER_OPTIONS_INIT; zero means "the default" for every
 * member.  The defaults let a CA's several validation servers in and
 * keep a slow or hostile client from holding the listener: a client that
 * trickles bytes holds one connection (never the thread) for at most
 * about memory_per_connection * timeout_seconds seconds, and one address
 * at most max_connections_per_ip of them, so it takes max_connections /
 * max_connections_per_ip addresses (32 by default) to fill the listener.
 * See libacme-http01(3).
 */
typedef struct acme_http01_server_options {
    unsigned int version;              /**< ACME_HTTP01_SERVER_OPTIONS_VERSION */
    unsigned int max_connections;      /**< open at once; more are refused; default 512 */
    unsigned int max_connections_per_ip; /**< open at once from one address; default 16 */
    unsigned int timeout_seconds;      /**< an idle connection is closed after it; default 5 */
    size_t memory_per_connection;      /**< request line and headers must fit; default 8 KiB */
    unsigned int threads;              /**< 0 or 1: one event-driven thread; more: a pool */
} acme_http01_server_options;

#define ACME_HTTP01_SERVER_OPTIONS_INIT { ACME_HTTP01_SERVER_OPTIONS_VERSION, 0, 0, 0, 0, 0 }

/**
 * Serve the challenges of @p h over plain HTTP on @p address and @p port
 * with libmicrohttpd, from a thread of its own (or a pool, see the
 * options), until acme_http01_server_free().
 *
 * The listener answers `GET` and `HEAD` of
 * `/.well-known/acme-challenge/<token>` for tokens in @p h with 200, the
 * key authorization as the body and `Content-Type: application/octet-stream`;
 * other paths and unknown tokens get 404; other methods get 405 with
 * `Allow: GET, HEAD`.  Requests whose headers do not fit the memory limit
 * are refused (431) and idle connections closed after the timeout.
 *
 * @param out      receives the listener
 * @param h        the table to serve
 * @param address  a numeric IPv4 or IPv6 address ("127.0.0.1", "::1"),
 *                 or NULL for every address (IPv6 and IPv4 where the
 *                 system allows dual stack, else IPv4)
 * @param port     the TCP port: ACME_HTTP01_PORT for real validation; 0
 *                 for a free port (see acme_http01_server_port())
 * @param opts     limits (NULL: every default)
 * @param err      receives the error on failure (may be NULL)
 * @return ACME_OK; ACME_E_NOTSUP when libacme was built without
 *         libmicrohttpd; ACME_E_INVALID for a bad address, NULL arguments
 *         or an options version newer than this library's; ACME_E_IO when
 *         the port cannot be bound (in use, or privileged).
 *
 * Ownership: the caller frees *out with acme_http01_server_free(); the
 * listener holds a reference to @p h.
 * Thread safety: MT-Safe.
 */
ACME_EXTERN int acme_http01_listen(acme_http01_server **out, acme_http01 *h, const char *address,
                                   unsigned int port, const acme_http01_server_options *opts,
                                   acme_error **err);

/**
 * The port a listener is bound to (the one picked when 0 was asked for).
 *
 * @param srv  the listener
 * @return the port, or 0 when @p srv is NULL.
 * Thread safety: MT-Safe.
 */
ACME_EXTERN unsigned int acme_http01_server_port(const acme_http01_server *srv);

/**
 * Stop a listener: close its socket and every connection, join its
 * threads, drop its reference to the table (NULL-safe).  Returns promptly
 * even while clients hold connections open.
 *
 * @param srv  the listener
 * Thread safety: not from inside the listener; once per listener.
 */
ACME_EXTERN void acme_http01_server_free(acme_http01_server *srv);

/**
 * The one-call standalone responder: a token table, a listener on
 * @p address and @p port, and a responder filling the table, all freed
 * with the responder.
 *
 * @param out      receives the responder ("http-01", named "http-01 standalone")
 * @param address  as for acme_http01_listen() (NULL: every address)
 * @param port     as for acme_http01_listen() (ACME_HTTP01_PORT for a real CA)
 * @param opts     limits (NULL: every default)
 * @param err      receives the error on failure (may be NULL)
 * @return as acme_http01_listen(): ACME_OK; ACME_E_NOTSUP without
 *         libmicrohttpd; ACME_E_INVALID; ACME_E_IO; ACME_E_NOMEM.
 *
 * Ownership: the caller frees *out with acme_responder_free(), which stops
 * the listener.
 * Thread safety: MT-Safe.
 */
ACME_EXTERN int acme_responder_http01_standalone_new(acme_responder **out, const char *address,
                                                     unsigned int port,
                                                     const acme_http01_server_options *opts,
                                                     acme_error **err);

/**
 * A responder that writes each challenge as a file under the document
 * root of another web server:
 * `<root>/.well-known/acme-challenge/<token>`, mode 0644, content exactly
 * the key authorization, written atomically (a temporary name, then
 * rename).  Missing directories are created with mode 0755.  Stop
 * removes the file, and the directories start created once they are
 * empty again.
 *
 * The token is checked to be base64url before it names a file, and the
 * two directories are opened relative to the root without following
 * symbolic links, so nothing is written outside the root.  The root
 * itself may be a symbolic link.
 *
 * @param out   receives the responder ("http-01", named "http-01 webroot")
 * @param root  the web server's document root; must be an existing directory
 * @param err   receives the error on failure (may be NULL)
 * @return ACME_OK; ACME_E_INVALID when an argument is NULL or empty;
 *         ACME_E_NOTFOUND when @p root is not a directory; ACME_E_NOMEM.
 *         Its start returns ACME_E_IO when the file cannot be written
 *         (including a symbolic link in the way) and ACME_E_INVALID for a
 *         bad token or key authorization.
 *
 * Ownership: @p root is copied; the caller frees *out with
 * acme_responder_free().
 * Thread safety: MT-Safe.  The responder's start and stop are MT-Safe.
 */
ACME_EXTERN int acme_responder_http01_webroot_new(acme_responder **out, const char *root,
                                                  acme_error **err);

ACME_END_DECLS

#endif /* ACME_HTTP01_H */
