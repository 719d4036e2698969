/*
 * dns/providers: the message layer of the RFC 2136 provider
 * (rfc2136-msg.c; the provider itself is rfc2136.c),
 * exposed for the unit tests: UPDATE messages, TSIG signing (RFC 8945
 * §4.2) and the checks of a response (id, opcode, zone section, TSIG,
 * RCODE), each with the time and id passed in so that tests can fix them.
 */
#ifndef ACME_DNS_PROVIDERS_RFC2136_H
#define ACME_DNS_PROVIDERS_RFC2136_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <acme/error.h>

#include "crypto/tsig.h"
#include "util/util.h"

/* DNS numbers used here (RFC 1035, RFC 2136, RFC 8945). */
#define ACME__RFC2136_OPCODE_UPDATE 5
#define ACME__RFC2136_T_TSIG 250
#define ACME__RFC2136_C_IN 1
#define ACME__RFC2136_C_NONE 254
#define ACME__RFC2136_C_ANY 255
#define ACME__RFC2136_FUDGE 300

/* A TSIG key: its name, algorithm and decoded secret. */
typedef struct acme__tsig_key {
    char *name;              /* normalised: lower case, no trailing dot */
    acme__tsig_alg alg;
    const char *alg_name;    /* the algorithm's name on the wire, no trailing dot (static) */
    size_t mac_len;
    unsigned char *secret;
    size_t secret_len;
} acme__tsig_key;

/*
 * Fill @p k from a key name, an algorithm name (NULL: hmac-sha256) and a
 * base64 secret.  ACME_E_INVALID (bad name, bad base64), ACME_E_NOTSUP
 * (algorithm).  Clear with acme__tsig_key_clear().
 */
int acme__tsig_key_init(acme__tsig_key *k, const char *name, const char *alg,
                        const char *secret_b64, acme_error **err);
void acme__tsig_key_clear(acme__tsig_key *k);

/*
 * Parse tsig-keygen / named.conf text: the first `key "name" { algorithm
 * a; secret "s"; };` block.  *name, *alg, *secret are malloc'd (*secret
 * with acme__free_secret).  ACME_E_INVALID when no complete block is found.
 */
int acme__rfc2136_parse_keyfile(char **name, char **alg, char **secret, const char *text,
                                acme_error **err);

/*
 * An UPDATE message (RFC 2136 §2) into @p msg: zone section @p zone (SOA,
 * IN), no prerequisites, one update: add the TXT RR (@p fqdn, IN, @p ttl,
 * @p value) when @p add, else delete exactly that RR (class NONE, TTL 0,
 * §2.5.4).  Names normalised (lower case, no trailing dot).
 */
int acme__rfc2136_build_update(acme__buf *msg, uint16_t id, const char *zone, const char *fqdn,
                               const char *value, unsigned int ttl, bool add, acme_error **err);

/*
 * Sign @p msg (RFC 8945 §4.2, §4.3.3): append a TSIG RR for @p key with
 * time signed @p now and fudge 300, and count it in ARCOUNT.  @p mac
 * (ACME__TSIG_MAX_MAC bytes) receives the request MAC, which the
 * response's MAC covers.
 */
int acme__rfc2136_sign(acme__buf *msg, const acme__tsig_key *key, uint64_t now,
                       unsigned char *mac, size_t *mac_len, acme_error **err);

/*
 * Check the response @p resp to the update with @p id for @p zone: a
 * response (QR) with opcode UPDATE and that id, the zone section echoed
 * (when present); with @p key, a TSIG RR last in the additional section,
 * from that key, whose MAC (over @p req_mac, RFC 8945 §4.3.1) verifies and
 * whose time is within its fudge of @p now; then the RCODE:
 * NOERROR: ACME_OK; NOTAUTH, or a TSIG error (BADSIG, BADKEY, BADTIME):
 * ACME_E_AUTH; REFUSED: ACME_E_REJECTED, or ACME_E_AUTH when a signed
 * update was refused with an unsigned answer (the server did not know
 * the key); NOTZONE: ACME_E_NOTINZONE; SERVFAIL: ACME_E_NETWORK
 * (retryable); others ACME_E_REJECTED.  A response that is not one, or
 * fails verification: ACME_E_PROTOCOL.
 */
int acme__rfc2136_check_response(const unsigned char *resp, size_t len, uint16_t id,
                                 const char *zone, const acme__tsig_key *key,
                                 const unsigned char *req_mac, size_t req_mac_len, uint64_t now,
                                 acme_error **err);

#endif
