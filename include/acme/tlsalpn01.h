/*
 * libacme: the tls-alpn-01 challenge (RFC 8737).
 *
 * The CA validates a name by opening a TLS connection to it on port 443,
 * offering the ALPN protocol "acme-tls/1" and the name as SNI; the server
 * must answer with a self-signed challenge certificate for that name that
 * carries the SHA-256 of the key authorization in a critical
 * id-pe-acmeIdentifier extension.  (It replaces txacme's tls-sni-01.)
 *
 * Three pieces:
 *  - a registry (acme_tlsalpn01) of the challenge certificates in play,
 *    looked up by name;
 *  - a responder that fills and empties the registry as orders start and
 *    stop challenges (acme_tlsalpn01_responder());
 *  - a standalone TLS listener that answers validation handshakes from
 *    the registry (acme_tlsalpn01_listen()).  A TLS server of your own
 *    (or libacme's endpoint) can serve the same registry instead, through
 *    acme_tlsalpn01_lookup_pem().
 *
 * No GnuTLS type appears here.  See libacme-tlsalpn01(3).
 */
#ifndef ACME_TLSALPN01_H
#define ACME_TLSALPN01_H

#include <stddef.h>
#include <acme/common.h>
#include <acme/error.h>
#include <acme/responder.h>

ACME_BEGIN_DECLS

/** The challenge type: "tls-alpn-01". */
#define ACME_TLSALPN01_CHALLENGE "tls-alpn-01"

/** The ALPN protocol name a validating CA offers (RFC 8737 §6.2). */
#define ACME_TLSALPN01_ALPN "acme-tls/1"

/** The port CAs validate on (RFC 8737 §3): pass it to acme_tlsalpn01_listen(). */
#define ACME_TLSALPN01_PORT 443

/* ------------------------------------------------------------------ */
/* The registry                                                         */
/* ------------------------------------------------------------------ */

/**
 * A set of challenge certificates, each under a name (the SNI a CA
 * sends).  Names compare case-insensitively.  An IP identifier is kept
 * under its reverse-mapping name as well (RFC 8738 §6: "192.0.2.1" is
 * found as "1.2.0.192.in-addr.arpa", the SNI a CA sends for it).
 * Opaque.
 *
 * Thread safety: MT-Safe: every call may be made from any thread at any
 * time (an internal lock guards the set), except acme_tlsalpn01_free().
 */
typedef struct acme_tlsalpn01 acme_tlsalpn01;

/**
 * Make an empty registry.
 *
 * @return ACME_OK or ACME_E_NOMEM.
 * Ownership: the caller frees *out with acme_tlsalpn01_free(), after
 * every responder and listener that uses it.
 * Thread safety: MT-Safe.
 */
ACME_EXTERN int acme_tlsalpn01_new(acme_tlsalpn01 **out, acme_error **err);

/**
 * Free a registry and every certificate in it (NULL-safe).
 *
 * Thread safety: not while a responder or listener still uses it.
 */
ACME_EXTERN void acme_tlsalpn01_free(acme_tlsalpn01 *reg);

/**
 * Make the challenge certificate for @p name and @p key_authorization
 * (see acme_tlsalpn01_cert()) and put it in the registry.
 *
 * When @p name is already present, the new certificate is found first
 * until it is removed; the older one stays behind it (two orders may
 * validate the same name at once).
 *
 * @param reg                the registry
 * @param name               a DNS name (no "*." wildcard; any case, a
 *                           trailing dot allowed) or an IPv4 or IPv6
 *                           literal: put in canonical form as
 *                           acme_name_normalize() does, which is the
 *                           form the certificate names
 * @param key_authorization  the challenge's key authorization
 *                           (acme_key_authorization())
 * @return ACME_OK; ACME_E_INVALID for a name that is not a DNS name or IP
 *         literal (a U-label is converted to its A-label), or an empty key
 *         authorization; ACME_E_NOTSUP for a non-ASCII name when GnuTLS
 *         has no IDNA support; ACME_E_CRYPTO; ACME_E_NOMEM.
 * Ownership: the registry keeps copies.
 * Thread safety: MT-Safe.
 */
ACME_EXTERN int acme_tlsalpn01_add(acme_tlsalpn01 *reg, const char *name,
                                   const char *key_authorization, acme_error **err);

/**
 * Remove the certificate added for @p name and @p key_authorization, or,
 * when @p key_authorization is NULL, every certificate for @p name.
 *
 * @return ACME_OK; ACME_E_NOTFOUND when nothing matched; ACME_E_INVALID
 *         (or ACME_E_NOTSUP) for a bad name, as acme_tlsalpn01_add().
 * Thread safety: MT-Safe.
 */
ACME_EXTERN int acme_tlsalpn01_remove(acme_tlsalpn01 *reg, const char *name,
                                      const char *key_authorization, acme_error **err);

/**
 * How many certificates the registry holds.
 * Thread safety: MT-Safe (the answer may be stale at once).
 */
ACME_EXTERN size_t acme_tlsalpn01_count(const acme_tlsalpn01 *reg);

/**
 * The challenge certificate and its private key for @p name, as a TLS
 * server needs them when a client offers ALPN "acme-tls/1" with SNI
 * @p name.  Such a server must use only this certificate for that
 * handshake, and close the connection after it (RFC 8737 §3).
 *
 * @param cert_pem  set to the certificate, PEM (may be NULL: not wanted)
 * @param key_pem   set to its private key, PEM PKCS#8 (may be NULL)
 * @param reg       the registry
 * @param name      the SNI, any case; an IP literal or its reverse name
 * @return ACME_OK; ACME_E_NOTFOUND when no certificate is there;
 *         ACME_E_INVALID (or ACME_E_NOTSUP) for a bad name, as
 *         acme_tlsalpn01_add(); ACME_E_NOMEM.
 * Ownership: the caller frees both with acme_free(); wipe the key first if
 * you care (it protects nothing but this one challenge).
 * Thread safety: MT-Safe.
 */
ACME_EXTERN int acme_tlsalpn01_lookup_pem(char **cert_pem, char **key_pem,
                                          const acme_tlsalpn01 *reg, const char *name,
                                          acme_error **err);

/* ------------------------------------------------------------------ */
/* The responder                                                        */
/* ------------------------------------------------------------------ */

/**
 * A "tls-alpn-01" responder over @p reg: start adds the challenge
 * certificate for the name (acme_tlsalpn01_add()), stop removes it.
 * Something must serve the registry on port 443 of the name: a listener
 * (acme_tlsalpn01_listen()) or your own TLS server.
 *
 * @return ACME_OK; ACME_E_INVALID when @p reg is NULL; ACME_E_NOMEM.
 * Ownership: the caller frees *out with acme_responder_free().  @p reg is
 * borrowed: it must outlive the responder.
 * Thread safety: MT-Safe; the responder's start and stop may run on any
 * threads at once.
 */
ACME_EXTERN int acme_tlsalpn01_responder(acme_responder **out, acme_tlsalpn01 *reg,
                                         acme_error **err);

/* ------------------------------------------------------------------ */
/* The standalone listener                                              */
/* ------------------------------------------------------------------ */

/** A standalone tls-alpn-01 TLS listener; opaque. */
typedef struct acme_tlsalpn01_server acme_tlsalpn01_server;

/**
 * Listen for validation handshakes on @p address and @p port, in a thread
 * of the listener's own.
 *
 * For each connection the listener reads the ClientHello, refuses a client
 * that does not offer ALPN "acme-tls/1" (a no_application_protocol alert),
 * answers an SNI the registry does not hold with an unrecognized_name
 * alert, else completes the handshake (TLS 1.2 or 1.3) with the name's
 * challenge certificate, sends close_notify and closes.  No application
 * data is ever exchanged.  Handshakes run side by side, so a slow or
 * broken client does not hold up the CA's; each has 10 seconds.
 *
 * @param out      the listener
 * @param reg      where the certificates come from; borrowed, it must
 *                 outlive the listener
 * @param address  a numeric IPv4 or IPv6 address ("127.0.0.1", "::"), or
 *                 NULL for every address (IPv6 and IPv4 where possible)
 * @param port     the TCP port, usually ACME_TLSALPN01_PORT; 0 picks a free
 *                 one (see acme_tlsalpn01_server_port())
 * @return ACME_OK; ACME_E_INVALID for a bad address, a port above 65535 or
 *         a NULL registry; ACME_E_IO when the port cannot be bound (in
 *         use, or below 1024 without privilege); ACME_E_TLS; ACME_E_NOMEM.
 * Ownership: the caller frees *out with acme_tlsalpn01_server_free().
 * Thread safety: MT-Safe.
 */
ACME_EXTERN int acme_tlsalpn01_listen(acme_tlsalpn01_server **out, acme_tlsalpn01 *reg,
                                      const char *address, unsigned int port,
                                      acme_error **err);

/**
 * The port the listener is bound to (the one picked when 0 was asked).
 * Thread safety: MT-Safe.
 */
ACME_EXTERN unsigned int acme_tlsalpn01_server_port(const acme_tlsalpn01_server *srv);

/**
 * Stop listening: close every connection in progress, join the thread and
 * free the listener (NULL-safe).  Returns promptly, whatever clients do.
 *
 * Thread safety: once, from any thread but the listener's own.
 */
ACME_EXTERN void acme_tlsalpn01_server_free(acme_tlsalpn01_server *srv);

ACME_END_DECLS

#endif /* ACME_TLSALPN01_H */
