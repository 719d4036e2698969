/*
 * responders: tls-alpn-01 (RFC 8737): the registry of challenge
 * certificates, the responder that fills it, and the credential choice a
 * TLS server makes from it for a validation handshake.
 *
 * Endpoint-level code: it uses GnuTLS (for the session hook only; the
 * certificates themselves come from lib/crypto/ through
 * acme_tlsalpn01_cert()).
 */
#include "config.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <acme/crypto.h>
#include <acme/store.h>
#include <acme/sys/error.h>
#include <acme/sys/responder.h>
#include <acme/tlsalpn01.h>

#include "responders/tlsalpn01.h"
#include "util/i18n.h"
#include "util/util.h"

/* One challenge certificate. */
typedef struct entry {
    struct entry *next;
    char *key;       /* lower-case DNS name, or an IP literal's reverse name */
    char *keyauth;   /* the key authorization it was made for */
    char *cert_pem;
    char *key_pem;   /* wiped on free */
} entry;

struct acme_tlsalpn01 {
    /* Guards the list.  Held only to copy strings in or out: certificates
     * are made before it is taken, credentials after it is released. */
    pthread_mutex_t lock;
    entry *head;     /* guarded by lock; newest first */
    size_t count;    /* guarded by lock */
};

static void entry_free(entry *e)
{
    if (!e)
        return;
    free(e->key);
    free(e->keyauth);
    free(e->cert_pem);
    acme__free_secret(e->key_pem);
    free(e);
}

/*
 * The key a name is filed under: the SNI a CA sends for it.  Names are
 * first put in the library's one canonical form (acme_name_normalize():
 * lower case, no trailing dot, canonical IP text), which also refuses
 * anything but a DNS name or an IP literal before it is used.  A DNS name
 * is its own key (SNI compares case-insensitively, RFC 6066 §3).  An IP
 * identifier cannot be an SNI, so the CA sends its reverse-mapping name
 * instead (RFC 8738 §6; RFC 1035 §3.5, RFC 3596 §2.5); filing the address
 * under that name lets both spellings find it.
 *
 * @param canon_out  when not NULL, set to the canonical name (free())
 */
static int name_key(char **out, char **canon_out, const char *name, acme_error **err)
{
    unsigned char a[16];
    char *canon = NULL;
    acme__buf b = ACME__BUF_INIT;
    int rc;

    *out = NULL;
    if (canon_out)
        *canon_out = NULL;
    if (!name)
        return acme_error_set(err, ACME_E_INVALID, _("no name"));
    if ((rc = acme_name_normalize(&canon, name, err)) < 0)
        return rc;
    if (inet_pton(AF_INET, canon, a) == 1) {
        *out = acme__asprintf("%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1], a[0]);
    } else if (inet_pton(AF_INET6, canon, a) == 1) {
        for (int i = 15; i >= 0; i--)
            if (acme__buf_printf(&b, "%x.%x.", a[i] & 0x0f, a[i] >> 4) < 0)
                break;
        if (acme__buf_puts(&b, "ip6.arpa") == 0)
            *out = acme__buf_steal(&b);
        acme__buf_clear(&b);
    } else {
        *out = acme__strdup(canon);
    }
    if (!*out) {
        free(canon);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    if (canon_out)
        *canon_out = canon;
    else
        free(canon);
    return ACME_OK;
}

int acme_tlsalpn01_new(acme_tlsalpn01 **out, acme_error **err)
{
    acme_tlsalpn01 *reg;

    if (!out)
        return acme_error_set(err, ACME_E_INVALID, _("no place for the registry"));
    *out = NULL;
    if (!(reg = calloc(1, sizeof(*reg))))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    if (pthread_mutex_init(&reg->lock, NULL) != 0) {
        free(reg);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    *out = reg;
    return ACME_OK;
}

void acme_tlsalpn01_free(acme_tlsalpn01 *reg)
{
    if (!reg)
        return;
    while (reg->head) {
        entry *e = reg->head;

        reg->head = e->next;
        entry_free(e);
    }
    pthread_mutex_destroy(&reg->lock);
    free(reg);
}

int acme_tlsalpn01_add(acme_tlsalpn01 *reg, const char *name, const char *key_authorization,
                       acme_error **err)
{
    entry *e;
    char *canon = NULL;
    int rc;

    if (!reg)
        return acme_error_set(err, ACME_E_INVALID, _("no tls-alpn-01 registry"));
    if (!key_authorization || !*key_authorization)
        return acme_error_set(err, ACME_E_INVALID, _("empty key authorization"));
    if (!(e = calloc(1, sizeof(*e))))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    if ((rc = name_key(&e->key, &canon, name, err)) < 0)
        goto fail;
    if (!(e->keyauth = acme__strdup(key_authorization))) {
        rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        goto fail;
    }
    /* RFC 8737 §3: a self-signed certificate whose only SAN is the name
     * (an iPAddress for an IP identifier), with the critical
     * id-pe-acmeIdentifier extension holding SHA-256(key authorization).
     * Made before the lock is taken: key generation is the slow part. */
    if ((rc = acme_tlsalpn01_cert(&e->cert_pem, &e->key_pem, canon, key_authorization, err)) < 0)
        goto fail;
    free(canon);
    pthread_mutex_lock(&reg->lock);
    e->next = reg->head;
    reg->head = e;
    reg->count++;
    pthread_mutex_unlock(&reg->lock);
    return ACME_OK;
fail:
    free(canon);
    entry_free(e);
    return rc;
}

int acme_tlsalpn01_remove(acme_tlsalpn01 *reg, const char *name, const char *key_authorization,
                          acme_error **err)
{
    entry *gone = NULL;
    char *key;
    int rc;

    if (!reg)
        return acme_error_set(err, ACME_E_INVALID, _("no tls-alpn-01 registry"));
    if ((rc = name_key(&key, NULL, name, err)) < 0)
        return rc;
    pthread_mutex_lock(&reg->lock);
    for (entry **pp = &reg->head; *pp;) {
        entry *e = *pp;

        if (strcmp(e->key, key) == 0 &&
            (!key_authorization || strcmp(e->keyauth, key_authorization) == 0)) {
            *pp = e->next;
            e->next = gone;
            gone = e;
            reg->count--;
            /* With a key authorization, one entry: the same challenge
             * started twice is stopped twice. */
            if (key_authorization)
                break;
        } else {
            pp = &e->next;
        }
    }
    pthread_mutex_unlock(&reg->lock);
    if (!gone) {
        rc = acme_error_set(err, ACME_E_NOTFOUND,
                            _("no tls-alpn-01 certificate for %.255s"), name);
        free(key);
        return rc;
    }
    while (gone) {
        entry *e = gone;

        gone = e->next;
        entry_free(e);
    }
    free(key);
    return ACME_OK;
}

size_t acme_tlsalpn01_count(const acme_tlsalpn01 *reg)
{
    acme_tlsalpn01 *r = (acme_tlsalpn01 *)reg;  /* the lock is not the registry's state */
    size_t n;

    if (!r)
        return 0;
    pthread_mutex_lock(&r->lock);
    n = r->count;
    pthread_mutex_unlock(&r->lock);
    return n;
}

int acme_tlsalpn01_lookup_pem(char **cert_pem, char **key_pem, const acme_tlsalpn01 *reg,
                              const char *name, acme_error **err)
{
    acme_tlsalpn01 *r = (acme_tlsalpn01 *)reg;  /* the lock is not the registry's state */
    char *key, *cert = NULL, *priv = NULL;
    bool found = false, nomem = false;
    int rc;

    if (cert_pem)
        *cert_pem = NULL;
    if (key_pem)
        *key_pem = NULL;
    if (!r)
        return acme_error_set(err, ACME_E_INVALID, _("no tls-alpn-01 registry"));
    if ((rc = name_key(&key, NULL, name, err)) < 0)
        return rc;
    pthread_mutex_lock(&r->lock);
    for (const entry *e = r->head; e; e = e->next) {
        if (strcmp(e->key, key) != 0)
            continue;
        found = true;
        if ((cert_pem && !(cert = acme__strdup(e->cert_pem))) ||
            (key_pem && !(priv = acme__strdup(e->key_pem))))
            nomem = true;
        break;
    }
    pthread_mutex_unlock(&r->lock);
    free(key);
    if (!found)
        return acme_error_set(err, ACME_E_NOTFOUND, _("no tls-alpn-01 certificate for %.255s"),
                              name);
    if (nomem) {
        free(cert);
        acme__free_secret(priv);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    if (cert_pem)
        *cert_pem = cert;
    if (key_pem)
        *key_pem = priv;
    return ACME_OK;
}

/* ------------------------------------------------------------------ */
/* Serving a validation handshake (RFC 8737 §3)                         */
/* ------------------------------------------------------------------ */

bool acme__tlsalpn01_offered(gnutls_session_t session)
{
    gnutls_datum_t proto = { NULL, 0 };

    if (gnutls_alpn_get_selected_protocol(session, &proto) < 0)
        return false;
    return proto.size == strlen(ACME_TLSALPN01_ALPN) &&
           memcmp(proto.data, ACME_TLSALPN01_ALPN, proto.size) == 0;
}

int acme__tlsalpn01_session_select(gnutls_certificate_credentials_t *creds_out,
                                   gnutls_session_t session, const acme_tlsalpn01 *reg,
                                   acme_error **err)
{
    char sni[256];
    size_t len = sizeof(sni);
    unsigned int type = 0;
    char *cert = NULL, *key = NULL;
    gnutls_certificate_credentials_t creds = NULL;
    gnutls_datum_t dc, dk;
    int rc, ret;

    *creds_out = NULL;
    /* RFC 8737 §3: a validation handshake offers "acme-tls/1"; any other
     * client is not the CA and gets no challenge certificate.  This check
     * is needed: GNUTLS_ALPN_MANDATORY does not refuse a ClientHello
     * without any ALPN extension. */
    if (!acme__tlsalpn01_offered(session))
        return acme_error_set(err, ACME_E_NOTSUP, _("the client did not offer ALPN %s"),
                              ACME_TLSALPN01_ALPN);
    /* RFC 8737 §3: the CA "MUST" send the name as SNI (an IP identifier's
     * reverse name, RFC 8738 §6).  A name too long for the buffer is no
     * host name either. */
    ret = gnutls_server_name_get(session, sni, &len, &type, 0);
    if (ret < 0 || type != GNUTLS_NAME_DNS)
        return acme_error_set(err, ACME_E_NOTFOUND, _("the client sent no server name"));
    if (acme_tlsalpn01_lookup_pem(&cert, &key, reg, sni, NULL) < 0)
        return acme_error_set(err, ACME_E_NOTFOUND, _("no tls-alpn-01 certificate for %.255s"),
                              sni);
    dc.data = (unsigned char *)cert;
    dc.size = (unsigned int)strlen(cert);
    dk.data = (unsigned char *)key;
    dk.size = (unsigned int)strlen(key);
    /* Credentials of the session's own, so that nothing the registry does
     * later (a stop, a new challenge for the name) changes the handshake
     * in flight. */
    if ((ret = gnutls_certificate_allocate_credentials(&creds)) < 0 ||
        (ret = gnutls_certificate_set_x509_key_mem2(creds, &dc, &dk, GNUTLS_X509_FMT_PEM,
                                                    NULL, 0)) < 0 ||
        (ret = gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, creds)) < 0) {
        rc = acme_error_set(err, ret == GNUTLS_E_MEMORY_ERROR ? ACME_E_NOMEM : ACME_E_TLS,
                            _("cannot use the tls-alpn-01 certificate for %.255s: %s"), sni,
                            gnutls_strerror(ret));
        if (creds)
            gnutls_certificate_free_credentials(creds);
        goto done;
    }
    *creds_out = creds;
    rc = ACME_OK;
done:
    free(cert);
    acme__free_secret(key);
    return rc;
}

int acme__tlsalpn01_hook_result(int code)
{
    switch (code) {
    case ACME_OK:
        return 0;
    case ACME_E_NOTSUP:
        return GNUTLS_E_NO_APPLICATION_PROTOCOL;
    case ACME_E_NOTFOUND:
        return GNUTLS_E_UNRECOGNIZED_NAME;
    case ACME_E_NOMEM:
        return GNUTLS_E_MEMORY_ERROR;
    default:
        return GNUTLS_E_INTERNAL_ERROR;
    }
}

/* ------------------------------------------------------------------ */
/* The responder                                                        */
/* ------------------------------------------------------------------ */

static int responder_start(void *self, const char *name, const acme_challenge *ch,
                           const char *key_authorization, acme_error **err)
{
    return acme_tlsalpn01_add(self, name, key_authorization, err);
}

static void responder_stop(void *self, const char *name, const acme_challenge *ch,
                           const char *key_authorization)
{
    /* Nothing to report to: stop cannot fail, and a certificate already
     * gone is what stop wants. */
    acme_tlsalpn01_remove(self, name, key_authorization, NULL);
}

/* The registry is borrowed: nothing to release. */
static void responder_destroy(void *self)
{
}

static const acme_responder_ops tlsalpn01_ops = {
    .version = ACME_RESPONDER_OPS_VERSION,
    .name = "tls-alpn-01",
    .challenge_type = ACME_TLSALPN01_CHALLENGE,
    .flags = 0,
    .start = responder_start,
    .stop = responder_stop,
    .destroy = responder_destroy,
};

int acme_tlsalpn01_responder(acme_responder **out, acme_tlsalpn01 *reg, acme_error **err)
{
    if (out)
        *out = NULL;
    if (!reg)
        return acme_error_set(err, ACME_E_INVALID, _("no tls-alpn-01 registry"));
    return acme_responder_new(out, &tlsalpn01_ops, reg, err);
}
