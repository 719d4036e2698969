/*
 * responders: the tls-alpn-01 pieces a TLS server inside the library
 * needs (the standalone listener here, the TLS endpoint later).  This is
 * endpoint-level code: it speaks GnuTLS, so it stays out of the public
 * headers.
 */
#ifndef ACME_RESPONDERS_TLSALPN01_H
#define ACME_RESPONDERS_TLSALPN01_H

#include <stdbool.h>
#include <gnutls/gnutls.h>

#include <acme/tlsalpn01.h>

/* How long the standalone listener gives one handshake. */
#define ACME__TLSALPN01_HANDSHAKE_TIMEOUT_MS 10000u

/*
 * Whether the client of server session @p session offered ALPN
 * "acme-tls/1" and it was selected.  Valid once the ClientHello has been
 * read (in a post-client-hello hook and after).  The server must have
 * listed "acme-tls/1" with gnutls_alpn_set_protocols().
 */
bool acme__tlsalpn01_offered(gnutls_session_t session);

/*
 * Pick the challenge credentials for a validation handshake (RFC 8737
 * §3).  Call it from the hook set with
 * gnutls_handshake_set_post_client_hello_function(): when the client
 * offered "acme-tls/1" and an SNI the registry holds, new certificate
 * credentials with just that name's challenge certificate are made and
 * set on @p session.
 *
 * @param creds_out  set to the credentials: the caller frees them with
 *                   gnutls_certificate_free_credentials() after
 *                   gnutls_deinit(session)
 * @return ACME_OK; ACME_E_NOTSUP when the client did not offer
 *         "acme-tls/1"; ACME_E_NOTFOUND when it sent no SNI or one the
 *         registry does not hold; ACME_E_TLS; ACME_E_NOMEM.
 *         acme__tlsalpn01_hook_result() turns the code into what the hook
 *         returns.
 */
int acme__tlsalpn01_session_select(gnutls_certificate_credentials_t *creds_out,
                                   gnutls_session_t session, const acme_tlsalpn01 *reg,
                                   acme_error **err);

/*
 * What a post-client-hello hook returns for a result of
 * acme__tlsalpn01_session_select(): 0, or the GnuTLS error whose alert
 * (gnutls_alert_send_appropriate()) tells the client why: no_application_protocol
 * for ACME_E_NOTSUP, unrecognized_name for ACME_E_NOTFOUND.
 */
int acme__tlsalpn01_hook_result(int code);

/*
 * acme_tlsalpn01_listen() with a handshake timeout other than
 * ACME__TLSALPN01_HANDSHAKE_TIMEOUT_MS (tests use it).
 */
int acme__tlsalpn01_listen_timeout(acme_tlsalpn01_server **out, acme_tlsalpn01 *reg,
                                   const char *address, unsigned int port,
                                   unsigned int timeout_ms, acme_error **err);

#endif
