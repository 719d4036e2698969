/*
 * endpoint: the TLS SNI server endpoint (txacme's AutoTLSEndpoint).
 *
 * One accept thread polls the listening socket, a wake pipe and the new
 * connections whose first TLS record (the ClientHello) has not arrived
 * whole yet; a connection whose record is there goes into a bounded
 * queue, and one that stays silent or incomplete past the handshake
 * timeout is closed there, so stalled clients never take a worker.  A
 * fixed pool of worker threads takes queued connections in order, runs
 * the TLS handshake (blocking I/O with a deadline of its own, from the
 * moment a worker takes it), then the application's handler.  Certificates
 * come from the cache (endpoint/cache.c) through a GnuTLS certificate
 * retrieve function that copies the cached chain and key into each
 * handshake, so nothing is locked across a handshake and a reload never
 * touches one in flight.  tls-alpn-01 validation handshakes (RFC 8737)
 * are answered on the same port and closed.
 *
 * Lock order (no thread holds two of these at once, except as shown):
 *   registry_lock (global, leaf)
 *   ep->lock (queue, worker sockets, state)       -- leaf
 *   ep->od_lock (on-demand issuance state)        -- leaf
 *   cache->lock (in cache.c)                      -- leaf
 * No library lock is held while the handler, the on-demand callbacks, the
 * store or a handshake runs.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>

#include <acme/endpoint.h>
#include <acme/sys/error.h>

#include "endpoint/cache.h"
#include "responders/tlsalpn01.h"
#include "service/service-internal.h"
#include "util/error.h"
#include "util/i18n.h"
#include "util/log.h"
#include "util/util.h"

/* How long accepting pauses after accept() fails for want of resources. */
#define ACCEPT_PAUSE_MS 100
/* How long sending a closing alert or close_notify may block. */
#define BYE_TIMEOUT_MS 1000
/* Non-fatal handshake results (warning alerts) tolerated in a row. */
#define MAX_NONFATAL 8
/* The on-demand rate window. */
#define OD_WINDOW_MS 60000
/* TLS record header; the largest record a ClientHello may come in (RFC 8446 §5.1, with room). */
#define RECORD_HEADER 5
#define RECORD_MAX (16384 + 2048)
#define CONTENT_HANDSHAKE 22
/* With the accept queue full, how often the accept thread looks for room again. */
#define FULL_RECHECK_MS 50
/* A connection whose record is incomplete is looked at no more often than this. */
#define HELLO_QUIET_MS 20

typedef enum ep_state { EP_NEW, EP_LISTENING, EP_CLOSED } ep_state;

typedef struct queued {
    int fd;
    int64_t deadline;  /* waiting for the ClientHello: monotonic ms to give up at */
    int64_t quiet_until; /* waiting, incomplete: not polled before (ms) */
} queued;

struct acme_endpoint_conn {
    acme_endpoint *ep;
    size_t worker;             /* index into ep->active */
    int fd;                    /* -1 once closed */
    gnutls_session_t session;
    char *server_name;
    char *alpn;
};

struct acme_endpoint {
    acme_store *store;         /* borrowed */
    acme_tlsalpn01 *reg;       /* borrowed; may be NULL */
    acme_endpoint_handler_fn *handler;
    void *handler_userdata;
    unsigned int max_conns, nworkers, hs_timeout_ms;
    char *default_name;
    gnutls_datum_t *alpn;      /* application protocols, then "acme-tls/1" */
    unsigned int nalpn;
    gnutls_priority_t prio;
    gnutls_certificate_credentials_t creds;  /* retrieve function: the cache */
    acme__ep_cache *cache;
    acme__logger log;
    struct acme_endpoint *reg_next;          /* guarded by registry_lock */
    acme_service *service;     /* borrowed; may be NULL */
    bool observing;            /* the service's observer is ours (listen/close only) */

    /* On-demand issuance. */
    acme_endpoint_decide_fn *od_decide;
    void *od_userdata;
    acme_endpoint_issue_fn *od_issue;
    void *od_issue_userdata;
    unsigned int od_per_minute;
    pthread_mutex_t od_lock;
    pthread_cond_t od_cond;
    char **od_inflight;        /* guarded by od_lock: names being issued */
    size_t od_ninflight;       /* guarded by od_lock */
    int64_t od_window;         /* guarded by od_lock: start of the minute */
    unsigned int od_count;     /* guarded by od_lock: issuances in it */

    /* The listener. */
    pthread_mutex_t lock;
    pthread_cond_t work_cond;  /* a queued connection, or stopping */
    pthread_cond_t space_cond; /* room below max_conns, or stopping */
    ep_state state;            /* guarded by lock */
    bool stopping;             /* guarded by lock */
    queued *queue;             /* guarded by lock: ring of max_conns */
    size_t qhead, qlen;        /* guarded by lock */
    size_t open;               /* guarded by lock: waiting + queued + being served */
    queued *hello;             /* accept thread only: waiting for their ClientHello */
    size_t nhello;             /* accept thread only */
    struct pollfd *pfd;        /* accept thread only: max_conns + 2 */
    int *active;               /* guarded by lock: each worker's socket, or -1 */
    int lfd;
    int wake[2];
    unsigned int port;
    char *unix_path;           /* the socket file we made, removed on close */
    pthread_t acceptor;
    bool acceptor_started;
    pthread_t *workers;
    size_t nstarted;
};

/* ------------------------------------------------------------------ */
/* Endpoints by credentials                                             */
/* ------------------------------------------------------------------ */

/*
 * GnuTLS hooks get only the session.  Our own sessions could carry the
 * endpoint in their user pointer, but sessions an application prepared
 * keep that pointer for themselves; both carry the endpoint's
 * credentials, so the endpoint is found from those (GnuTLS 3.7 has no
 * user pointer on credentials).  Endpoints are few: a list does.
 */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static acme_endpoint *registry;  /* guarded by registry_lock */

static void registry_add(acme_endpoint *ep)
{
    pthread_mutex_lock(&registry_lock);
    ep->reg_next = registry;
    registry = ep;
    pthread_mutex_unlock(&registry_lock);
}

static void registry_remove(acme_endpoint *ep)
{
    pthread_mutex_lock(&registry_lock);
    for (acme_endpoint **p = &registry; *p; p = &(*p)->reg_next)
        if (*p == ep) {
            *p = ep->reg_next;
            break;
        }
    pthread_mutex_unlock(&registry_lock);
}

static acme_endpoint *registry_find(gnutls_certificate_credentials_t cred)
{
    acme_endpoint *ep;

    pthread_mutex_lock(&registry_lock);
    for (ep = registry; ep; ep = ep->reg_next)
        if (ep->creds == cred)
            break;
    pthread_mutex_unlock(&registry_lock);
    return ep;
}

static acme_endpoint *session_endpoint(gnutls_session_t session)
{
    void *cred = NULL;

    if (gnutls_credentials_get(session, GNUTLS_CRD_CERTIFICATE, &cred) < 0 || !cred)
        return NULL;
    return registry_find(cred);
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ */
/* Choosing the certificate                                             */
/* ------------------------------------------------------------------ */

/* Time spent issuing on demand during this thread's handshake, which
 * does not count against the handshake deadline. */
static _Thread_local int64_t od_spent_ms;

/*
 * The name a handshake is for: the SNI in canonical form, else the
 * default name.  *out is NULL (and the result ACME_E_NOTFOUND) when there
 * is neither or the SNI is not a valid name.
 */
static int session_name(char **out, const acme_endpoint *ep, gnutls_session_t session)
{
    char sni[256];
    size_t len = sizeof(sni);
    unsigned int type = 0;
    int ret;

    *out = NULL;
    ret = gnutls_server_name_get(session, sni, &len, &type, 0);
    if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
        if (!ep->default_name)
            return ACME_E_NOTFOUND;
        return (*out = acme__strdup(ep->default_name)) ? ACME_OK : ACME_E_NOMEM;
    }
    /* Too long for a host name, not a host name, one with a NUL in it,
     * or not a valid one. */
    if (ret < 0 || type != GNUTLS_NAME_DNS || strlen(sni) != len)
        return ACME_E_NOTFOUND;
    return acme_name_normalize(out, sni, NULL) < 0 ? ACME_E_NOTFOUND : ACME_OK;
}

static bool inflight_has(const acme_endpoint *ep, const char *name)
{
    for (size_t i = 0; i < ep->od_ninflight; i++)
        if (strcmp(ep->od_inflight[i], name) == 0)
            return true;
    return false;
}

/*
 * On-demand issuance for @p name, which the store lacks (Caddy's
 * on-demand TLS): ask the application, respect the rate limit, issue
 * (one issuance per name at a time; other handshakes for it wait for that
 * one), then reload the name.  ACME_OK means "look again".
 */
static int on_demand(acme_endpoint *ep, const char *name)
{
    int64_t start = now_ms();
    acme_error *e = NULL;
    char *copy;
    char **grown;
    int rc;

    if (!ep->od_decide || (!ep->od_issue && !ep->service))
        return ACME_E_NOTFOUND;
    /* The application decides, with no lock of ours held. */
    if (!ep->od_decide(ep->od_userdata, name)) {
        ACME__LOGF(&ep->log, ACME_LOG_INFO, "on-demand issuance refused for %s", name);
        return ACME_E_NOTFOUND;
    }
    pthread_mutex_lock(&ep->od_lock);
    if (inflight_has(ep, name)) {
        while (inflight_has(ep, name))
            pthread_cond_wait(&ep->od_cond, &ep->od_lock);
        pthread_mutex_unlock(&ep->od_lock);
        od_spent_ms += now_ms() - start;
        return ACME_OK;
    }
    if (start - ep->od_window >= OD_WINDOW_MS) {
        ep->od_window = start;
        ep->od_count = 0;
    }
    if (ep->od_count >= ep->od_per_minute) {
        pthread_mutex_unlock(&ep->od_lock);
        ACME__LOGF(&ep->log, ACME_LOG_WARNING, "on-demand issuance for %s rate limited", name);
        return ACME_E_RATELIMITED;
    }
    if (!(copy = acme__strdup(name)) ||
        !(grown = realloc(ep->od_inflight, (ep->od_ninflight + 1) * sizeof(*grown)))) {
        free(copy);
        pthread_mutex_unlock(&ep->od_lock);
        return ACME_E_NOMEM;
    }
    ep->od_inflight = grown;
    ep->od_inflight[ep->od_ninflight++] = copy;
    ep->od_count++;
    pthread_mutex_unlock(&ep->od_lock);

    ACME__LOGF(&ep->log, ACME_LOG_NOTICE, "issuing on demand for %s", name);
    /* Without an issue callback the service issues (and stores) it. */
    rc = ep->od_issue ? ep->od_issue(ep->od_issue_userdata, name, &e)
                      : acme_service_issue_cert(ep->service, name, &e);
    if (rc < 0) {
        ACME__LOGF(&ep->log, ACME_LOG_ERROR, "on-demand issuance for %s failed: %s", name,
                   e ? acme_error_message(e) : acme_strerror(rc));
        acme_error_free(e);
        e = NULL;
    }
    /* Success or not, what the store holds now is what counts. */
    acme__ep_cache_reload(ep->cache, name, NULL);

    pthread_mutex_lock(&ep->od_lock);
    for (size_t i = 0; i < ep->od_ninflight; i++)
        if (ep->od_inflight[i] == copy) {
            ep->od_inflight[i] = ep->od_inflight[--ep->od_ninflight];
            break;
        }
    pthread_cond_broadcast(&ep->od_cond);
    pthread_mutex_unlock(&ep->od_lock);
    free(copy);
    od_spent_ms += now_ms() - start;
    return rc < 0 ? rc : ACME_OK;
}

/* The cached credentials for the handshake's name (on-demand included). */
static int lookup(acme__ep_cert **out, acme_endpoint *ep, const char *name, bool may_issue)
{
    int rc = acme__ep_cache_get(out, ep->cache, name, NULL);

    if (rc == ACME_E_NOTFOUND && may_issue && on_demand(ep, name) == ACME_OK)
        rc = acme__ep_cache_get(out, ep->cache, name, NULL);
    return rc;
}

/*
 * GnuTLS calls this once the ClientHello (SNI, ALPN) is read.  It refuses
 * what it cannot serve with the alert that says why: unrecognized_name
 * for no SNI (without a default name), a malformed SNI, or a name with no
 * certificate.  Loading from the store and on-demand issuance happen
 * here, so the retrieve function below only copies from the cache.
 */
static int on_client_hello(gnutls_session_t session)
{
    acme_endpoint *ep = session_endpoint(session);
    acme__ep_cert *cert = NULL;
    char *name = NULL;
    int rc;

    if (!ep)
        return GNUTLS_E_INTERNAL_ERROR;
    if (ep->reg && acme__tlsalpn01_offered(session)) {
        /* RFC 8737 §3: a validation handshake gets the challenge
         * certificate for its SNI, or nothing. */
        char sni[256];
        size_t len = sizeof(sni);
        unsigned int type = 0;

        if (gnutls_server_name_get(session, sni, &len, &type, 0) < 0 || type != GNUTLS_NAME_DNS ||
            acme_tlsalpn01_lookup_pem(NULL, NULL, ep->reg, sni, NULL) < 0)
            return GNUTLS_E_UNRECOGNIZED_NAME;
        return 0;
    }
    if (session_name(&name, ep, session) < 0)
        return GNUTLS_E_UNRECOGNIZED_NAME;
    rc = lookup(&cert, ep, name, true);
    if (rc < 0)
        ACME__LOGF(&ep->log, ACME_LOG_INFO, "TLS client asked for %s: %s", name,
                   acme_strerror(rc));
    free(name);
    acme__ep_cert_unref(cert);
    return rc == ACME_OK ? 0 : rc == ACME_E_NOMEM ? GNUTLS_E_MEMORY_ERROR
                                                  : GNUTLS_E_UNRECOGNIZED_NAME;
}

/* The challenge certificate of a validation handshake, as copies. */
static int retrieve_challenge(acme_endpoint *ep, gnutls_session_t session,
                              gnutls_pcert_st **pcert, unsigned int *npcert,
                              gnutls_privkey_t *pkey)
{
    char sni[256], *cert_pem = NULL, *key_pem = NULL;
    size_t len = sizeof(sni);
    unsigned int type = 0;
    gnutls_datum_t dc, dk;
    gnutls_pcert_st *p = NULL;
    gnutls_privkey_t k = NULL;
    int ret = GNUTLS_E_UNRECOGNIZED_NAME;

    if (gnutls_server_name_get(session, sni, &len, &type, 0) < 0 || type != GNUTLS_NAME_DNS ||
        acme_tlsalpn01_lookup_pem(&cert_pem, &key_pem, ep->reg, sni, NULL) < 0)
        goto done;
    dc = (gnutls_datum_t){ (unsigned char *)cert_pem, (unsigned int)strlen(cert_pem) };
    dk = (gnutls_datum_t){ (unsigned char *)key_pem, (unsigned int)strlen(key_pem) };
    ret = GNUTLS_E_MEMORY_ERROR;
    if (!(p = gnutls_malloc(sizeof(*p))))
        goto done;
    if ((ret = gnutls_pcert_import_x509_raw(p, &dc, GNUTLS_X509_FMT_PEM, 0)) < 0) {
        gnutls_free(p);
        p = NULL;
        goto done;
    }
    if ((ret = gnutls_privkey_init(&k)) < 0 ||
        (ret = gnutls_privkey_import_x509_raw(k, &dk, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
        if (k)
            gnutls_privkey_deinit(k);
        gnutls_pcert_deinit(p);
        gnutls_free(p);
        goto done;
    }
    *pcert = p;
    *npcert = 1;
    *pkey = k;
    ret = 0;
done:
    free(cert_pem);
    acme__free_secret(key_pem);
    return ret;
}

/*
 * The certificate retrieve function of the endpoint's credentials: copies
 * of what the cache holds for the name (or of the challenge certificate),
 * which GnuTLS frees with the session (GNUTLS_CERT_RETR_DEINIT_ALL).
 */
static int retrieve(gnutls_session_t session, const struct gnutls_cert_retr_st *info,
                    gnutls_pcert_st **pcert, unsigned int *npcert, gnutls_ocsp_data_st **ocsp,
                    unsigned int *nocsp, gnutls_privkey_t *pkey, unsigned int *flags)
{
    acme_endpoint *ep = registry_find(info->cred);
    acme__ep_cert *cert = NULL;
    char *name = NULL;
    int ret;

    *pcert = NULL;
    *npcert = 0;
    *ocsp = NULL;
    *nocsp = 0;
    *pkey = NULL;
    *flags = GNUTLS_CERT_RETR_DEINIT_ALL;
    if (!ep)
        return -1;
    if (ep->reg && acme__tlsalpn01_offered(session))
        return retrieve_challenge(ep, session, pcert, npcert, pkey) < 0 ? -1 : 0;
    if (session_name(&name, ep, session) < 0)
        return -1;
    /* The hook loaded it: no issuing here. */
    ret = lookup(&cert, ep, name, false);
    free(name);
    if (ret < 0)
        return -1;
    ret = acme__ep_cert_copy(cert, pcert, npcert, pkey);
    acme__ep_cert_unref(cert);
    return ret < 0 ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* Sessions                                                             */
/* ------------------------------------------------------------------ */

static int session_setup(acme_endpoint *ep, gnutls_session_t session, acme_error **err)
{
    int ret;

    if ((ret = gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, ep->creds)) < 0 ||
        (ep->nalpn &&
         (ret = gnutls_alpn_set_protocols(session, ep->alpn, ep->nalpn,
                                          GNUTLS_ALPN_SERVER_PRECEDENCE)) < 0))
        return acme_error_set(err, ret == GNUTLS_E_MEMORY_ERROR ? ACME_E_NOMEM : ACME_E_TLS,
                              _("cannot set up the TLS session: %s"), gnutls_strerror(ret));
    gnutls_handshake_set_post_client_hello_function(session, on_client_hello);
    return ACME_OK;
}

int acme_endpoint_session_prepare(acme_endpoint *ep, void *session, acme_error **err)
{
    if (!ep || !session)
        return acme_error_set(err, ACME_E_INVALID, _("no endpoint or no session"));
    return session_setup(ep, session, err);
}

bool acme_endpoint_session_is_validation(void *session)
{
    return session && acme__tlsalpn01_offered(session);
}

/* ------------------------------------------------------------------ */
/* Connections                                                          */
/* ------------------------------------------------------------------ */

static void set_timeouts(int fd, int64_t ms)
{
    struct timeval tv = { 0, 0 };

    if (ms > 0) {
        tv.tv_sec = (time_t)(ms / 1000);
        tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Close the socket; the slot is cleared first, so that close() never
 * shuts down a descriptor number some other open has reused. */
static void conn_drop_fd(acme_endpoint_conn *c)
{
    if (c->fd < 0)
        return;
    pthread_mutex_lock(&c->ep->lock);
    c->ep->active[c->worker] = -1;
    pthread_mutex_unlock(&c->ep->lock);
    close(c->fd);
    c->fd = -1;
}

int acme_endpoint_conn_fd(const acme_endpoint_conn *conn)
{
    return conn ? conn->fd : -1;
}

void *acme_endpoint_conn_session(acme_endpoint_conn *conn)
{
    return conn ? conn->session : NULL;
}

const char *acme_endpoint_conn_server_name(const acme_endpoint_conn *conn)
{
    return conn ? conn->server_name : NULL;
}

const char *acme_endpoint_conn_alpn(const acme_endpoint_conn *conn)
{
    return conn ? conn->alpn : NULL;
}

static int io_error(acme_error **err, int ret)
{
    if (ret == GNUTLS_E_PUSH_ERROR || ret == GNUTLS_E_PULL_ERROR ||
        ret == GNUTLS_E_PREMATURE_TERMINATION)
        return acme_error_set(err, ACME_E_NETWORK, _("connection failed: %s"),
                              gnutls_strerror(ret));
    return acme_error_set(err, ACME_E_TLS, _("TLS error: %s"), gnutls_strerror(ret));
}

int acme_endpoint_conn_read(size_t *nread, acme_endpoint_conn *conn, void *buf, size_t len,
                            acme_error **err)
{
    ssize_t n;

    if (nread)
        *nread = 0;
    if (!conn || !nread || (!buf && len))
        return acme_error_set(err, ACME_E_INVALID, _("bad arguments"));
    if (conn->fd < 0)
        return acme_error_set(err, ACME_E_INVALIDSTATE, _("the connection is closed"));
    do
        n = gnutls_record_recv(conn->session, buf, len);
    while (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED ||
           n == GNUTLS_E_REHANDSHAKE);  /* TLS 1.2 renegotiation: not offered, ignored */
    /* A peer that closes without close_notify has still closed. */
    if (n == GNUTLS_E_PREMATURE_TERMINATION)
        n = 0;
    if (n < 0)
        return io_error(err, (int)n);
    *nread = (size_t)n;
    return ACME_OK;
}

int acme_endpoint_conn_write(acme_endpoint_conn *conn, const void *buf, size_t len,
                             acme_error **err)
{
    const unsigned char *p = buf;

    if (!conn || (!buf && len))
        return acme_error_set(err, ACME_E_INVALID, _("bad arguments"));
    if (conn->fd < 0)
        return acme_error_set(err, ACME_E_INVALIDSTATE, _("the connection is closed"));
    while (len > 0) {
        ssize_t n = gnutls_record_send(conn->session, p, len);

        if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
            /* GnuTLS keeps the record: the retry passes no new data. */
            n = gnutls_record_send(conn->session, NULL, 0);
            if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
                continue;
        }
        if (n < 0)
            return io_error(err, (int)n);
        p += n;
        len -= (size_t)n;
    }
    return ACME_OK;
}

void acme_endpoint_conn_close(acme_endpoint_conn *conn)
{
    if (!conn || conn->fd < 0)
        return;
    set_timeouts(conn->fd, BYE_TIMEOUT_MS);
    gnutls_bye(conn->session, GNUTLS_SHUT_WR);
    conn_drop_fd(conn);
}

/* The handshake, with the deadline set when a worker took the connection. */
static int handshake(acme_endpoint_conn *c, int64_t deadline)
{
    int ret, nonfatal = 0;

    od_spent_ms = 0;
    for (;;) {
        int64_t left = deadline + od_spent_ms - now_ms();

        if (left <= 0)
            return GNUTLS_E_TIMEDOUT;
        set_timeouts(c->fd, left);
        ret = gnutls_handshake(c->session);
        if (ret == 0)
            return 0;
        if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED)
            continue;
        if (gnutls_error_is_fatal(ret) || ++nonfatal >= MAX_NONFATAL)
            return ret;
    }
}

static void serve(acme_endpoint *ep, size_t worker, int fd, int64_t deadline)
{
    acme_endpoint_conn c = { .ep = ep, .worker = worker, .fd = fd };
    gnutls_datum_t proto = { NULL, 0 };
    int ret;

    /* No tickets: a resumed session skips the SNI choice we make. */
    if (gnutls_init(&c.session, GNUTLS_SERVER | GNUTLS_NO_SIGNAL | GNUTLS_NO_TICKETS) < 0) {
        conn_drop_fd(&c);
        return;
    }
    if (gnutls_priority_set(c.session, ep->prio) < 0 || session_setup(ep, c.session, NULL) < 0)
        goto out;
    gnutls_transport_set_int(c.session, fd);
    ret = handshake(&c, deadline);
    if (ret < 0) {
        ACME__LOGF(&ep->log, ACME_LOG_DEBUG, "TLS handshake failed: %s", gnutls_strerror(ret));
        /* Tell the client why (unrecognized_name...), best effort. */
        if (ret != GNUTLS_E_TIMEDOUT && ret != GNUTLS_E_PREMATURE_TERMINATION &&
            ret != GNUTLS_E_PULL_ERROR && ret != GNUTLS_E_PUSH_ERROR) {
            set_timeouts(fd, BYE_TIMEOUT_MS);
            gnutls_alert_send_appropriate(c.session, ret);
        }
        goto out;
    }
    if (acme__tlsalpn01_offered(c.session)) {
        /* RFC 8737 §3: the validation handshake is all there is. */
        acme_endpoint_conn_close(&c);
        goto out;
    }
    if (session_name(&c.server_name, ep, c.session) < 0)
        goto out;
    if (gnutls_alpn_get_selected_protocol(c.session, &proto) == 0 &&
        !(c.alpn = acme__strndup((const char *)proto.data, proto.size)))
        goto out;
    /* The handler sets its own timeouts, if it wants any. */
    set_timeouts(fd, 0);
    ep->handler(ep->handler_userdata, &c);
    acme_endpoint_conn_close(&c);
out:
    conn_drop_fd(&c);
    gnutls_deinit(c.session);
    free(c.server_name);
    free(c.alpn);
}

/* ------------------------------------------------------------------ */
/* Threads                                                              */
/* ------------------------------------------------------------------ */

typedef struct worker_arg {
    acme_endpoint *ep;
    size_t index;
} worker_arg;

static void *worker_main(void *arg)
{
    acme_endpoint *ep = ((worker_arg *)arg)->ep;
    size_t index = ((worker_arg *)arg)->index;

    free(arg);
    for (;;) {
        queued q;

        pthread_mutex_lock(&ep->lock);
        while (!ep->stopping && ep->qlen == 0)
            pthread_cond_wait(&ep->work_cond, &ep->lock);
        if (ep->stopping) {
            pthread_mutex_unlock(&ep->lock);
            break;
        }
        q = ep->queue[ep->qhead];
        ep->qhead = (ep->qhead + 1) % ep->max_conns;
        ep->qlen--;
        ep->active[index] = q.fd;
        pthread_mutex_unlock(&ep->lock);

        serve(ep, index, q.fd, now_ms() + ep->hs_timeout_ms);

        pthread_mutex_lock(&ep->lock);
        ep->open--;
        pthread_cond_signal(&ep->space_cond);
        pthread_mutex_unlock(&ep->lock);
    }
    return NULL;
}

typedef enum hello_state { HELLO_WAIT, HELLO_READY, HELLO_GONE } hello_state;

/*
 * Has the first TLS record arrived whole?  Peeked, never read: the bytes
 * stay for GnuTLS.  Anything that is not a handshake record of a sane
 * size is READY too: the worker's handshake refuses it at once, with an
 * alert.  While waiting, SO_RCVLOWAT asks poll() to report the socket
 * only once the missing bytes are there (Linux honours it for TCP).
 */
static hello_state hello_check(int fd)
{
    unsigned char h[RECORD_HEADER];
    ssize_t n;
    int avail = 0, need;

    n = recv(fd, h, sizeof(h), MSG_PEEK | MSG_DONTWAIT);
    if (n == 0)
        return HELLO_GONE;
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? HELLO_WAIT
                                                                          : HELLO_GONE;
    if (h[0] != CONTENT_HANDSHAKE)
        return HELLO_READY;
    need = RECORD_HEADER;
    if (n == RECORD_HEADER) {
        need += (h[3] << 8) | h[4];
        if (need - RECORD_HEADER > RECORD_MAX)
            return HELLO_READY;
        if (ioctl(fd, FIONREAD, &avail) < 0)
            return HELLO_READY; /* cannot tell: let the handshake decide */
        if (avail >= need)
            return HELLO_READY;
    }
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &need, sizeof(need));
    return HELLO_WAIT;
}

/* Hand @p fd to the workers (its slot in open is already counted). */
static void enqueue(acme_endpoint *ep, int fd)
{
    int one = 1;

    /* Back to normal reads for GnuTLS. */
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof(one));
    pthread_mutex_lock(&ep->lock);
    ep->queue[(ep->qhead + ep->qlen) % ep->max_conns] = (queued){ .fd = fd };
    ep->qlen++;
    pthread_cond_signal(&ep->work_cond);
    pthread_mutex_unlock(&ep->lock);
}

/* Close a connection that never became a handshake. */
static void drop(acme_endpoint *ep, int fd)
{
    close(fd);
    pthread_mutex_lock(&ep->lock);
    ep->open--;
    pthread_cond_signal(&ep->space_cond);
    pthread_mutex_unlock(&ep->lock);
}

static void hello_remove(acme_endpoint *ep, size_t i)
{
    ep->hello[i] = ep->hello[--ep->nhello];
}

/* A new connection: queued now if its ClientHello is there, else it waits. */
static void hello_add(acme_endpoint *ep, int fd, int64_t now)
{
    switch (hello_check(fd)) {
    case HELLO_READY:
        enqueue(ep, fd);
        break;
    case HELLO_GONE:
        drop(ep, fd);
        break;
    case HELLO_WAIT:
        ep->hello[ep->nhello++] =
            (queued){ .fd = fd, .deadline = now + ep->hs_timeout_ms, .quiet_until = 0 };
        break;
    }
}

/* Look at the waiting connections poll() reported (pfd[base + i]) and those past their deadline. */
static void hello_scan(acme_endpoint *ep, size_t base, size_t npolled, int64_t now)
{
    /* Backwards: removal moves the last entry, already looked at, into i. */
    for (size_t i = ep->nhello; i-- > 0;) {
        queued *q = &ep->hello[i];
        bool polled = i < npolled && ep->pfd[base + i].fd == q->fd;
        hello_state st = HELLO_WAIT;

        if (polled && ep->pfd[base + i].revents) {
            st = hello_check(q->fd);
            /* Reported but still short (no SO_RCVLOWAT): do not spin on it. */
            if (st == HELLO_WAIT)
                q->quiet_until = now + HELLO_QUIET_MS;
        }
        if (st == HELLO_WAIT && now >= q->deadline)
            st = HELLO_GONE;
        if (st == HELLO_READY)
            enqueue(ep, q->fd);
        else if (st == HELLO_GONE)
            drop(ep, q->fd);
        if (st != HELLO_WAIT)
            hello_remove(ep, i);
    }
}

static void *accept_main(void *arg)
{
    acme_endpoint *ep = arg;

    for (;;) {
        int64_t now = now_ms(), wake_at = INT64_MAX;
        size_t n = 0, base, npolled = 0;
        int fd, timeout, lfd_at = -1;
        bool room;

        pthread_mutex_lock(&ep->lock);
        /* Full and nobody waiting here: leave new connections in the kernel backlog. */
        while (!ep->stopping && ep->open >= ep->max_conns && ep->nhello == 0)
            pthread_cond_wait(&ep->space_cond, &ep->lock);
        if (ep->stopping) {
            pthread_mutex_unlock(&ep->lock);
            break;
        }
        room = ep->open < ep->max_conns;
        pthread_mutex_unlock(&ep->lock);

        ep->pfd[n++] = (struct pollfd){ .fd = ep->wake[0], .events = POLLIN };
        if (room) {
            lfd_at = (int)n;
            ep->pfd[n++] = (struct pollfd){ .fd = ep->lfd, .events = POLLIN };
        } else {
            wake_at = now + FULL_RECHECK_MS;
        }
        base = n;
        for (size_t i = 0; i < ep->nhello; i++) {
            const queued *q = &ep->hello[i];

            if (q->deadline < wake_at)
                wake_at = q->deadline;
            if (q->quiet_until > now) {
                if (q->quiet_until < wake_at)
                    wake_at = q->quiet_until;
                /* Keeps its place (the index) but asks for nothing. */
                ep->pfd[n++] = (struct pollfd){ .fd = q->fd, .events = 0 };
            } else {
                ep->pfd[n++] = (struct pollfd){ .fd = q->fd, .events = POLLIN };
            }
        }
        npolled = n - base;
        timeout = wake_at == INT64_MAX ? -1
                  : wake_at <= now       ? 0
                  : wake_at - now > 60000 ? 60000
                                          : (int)(wake_at - now);
        if (poll(ep->pfd, (nfds_t)n, timeout) < 0 && errno != EINTR)
            break;
        if (ep->pfd[0].revents)
            break;
        now = now_ms();
        hello_scan(ep, base, npolled, now);
        if (lfd_at < 0 || !ep->pfd[lfd_at].revents)
            continue;
        fd = accept4(ep->lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            /* Out of descriptors or buffers: the connection stays queued
             * in the kernel and the socket readable; pause, not spin. */
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
                errno != ECONNABORTED)
                poll(ep->pfd, 1, ACCEPT_PAUSE_MS);
            continue;
        }
        pthread_mutex_lock(&ep->lock);
        if (ep->stopping) {
            pthread_mutex_unlock(&ep->lock);
            close(fd);
            break;
        }
        ep->open++;
        pthread_mutex_unlock(&ep->lock);
        hello_add(ep, fd, now);
    }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Listening                                                            */
/* ------------------------------------------------------------------ */

static int open_listener(acme_endpoint *ep, const acme_endpoint_spec *spec, acme_error **err)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    acme_endpoint_kind kind = acme_endpoint_spec_kind(spec);
    const char *iface = acme_endpoint_spec_interface(spec);
    int fd, one = 1, family;

    memset(&ss, 0, sizeof(ss));
    if (kind == ACME_ENDPOINT_UNIX) {
        struct sockaddr_un *su = (struct sockaddr_un *)&ss;
        const char *path = acme_endpoint_spec_path(spec);
        struct stat st;

        family = AF_UNIX;
        su->sun_family = AF_UNIX;
        memcpy(su->sun_path, path, strlen(path) + 1);
        sslen = sizeof(*su);
        /* A socket left by an earlier run is replaced; anything else at
         * the path is left alone (bind then fails). */
        if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
            unlink(path);
    } else if (kind == ACME_ENDPOINT_TCP6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

        family = AF_INET6;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)acme_endpoint_spec_port(spec));
        s6->sin6_addr = in6addr_any;
        if (iface)
            inet_pton(AF_INET6, iface, &s6->sin6_addr);
        sslen = sizeof(*s6);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

        family = AF_INET;
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)acme_endpoint_spec_port(spec));
        s4->sin_addr.s_addr = htonl(INADDR_ANY);
        if (iface)
            inet_pton(AF_INET, iface, &s4->sin_addr);
        sslen = sizeof(*s4);
    }
    fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return acme_error_set(err, ACME_E_IO, _("cannot make a socket: %s"), strerror(errno));
    if (family != AF_UNIX)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (family == AF_INET6)  /* tcp6 is IPv6 only, as Twisted's */
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, sslen) < 0 ||
        listen(fd, acme_endpoint_spec_backlog(spec)) < 0) {
        int e = errno;

        close(fd);
        return acme_error_set(err, ACME_E_IO, _("cannot listen on %s: %s"),
                              acme_endpoint_spec_sub_endpoint(spec), strerror(e));
    }
    if (family == AF_UNIX) {
        if (!(ep->unix_path = acme__strdup(acme_endpoint_spec_path(spec)))) {
            close(fd);
            return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        }
    } else {
        sslen = sizeof(ss);
        if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == 0)
            ep->port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                : ((struct sockaddr_in *)&ss)->sin_port);
    }
    ep->lfd = fd;
    return ACME_OK;
}

static void stop_threads(acme_endpoint *ep)
{
    ssize_t w;

    pthread_mutex_lock(&ep->lock);
    ep->stopping = true;
    /* Connections in progress: their reads and writes fail at once. */
    for (size_t i = 0; i < ep->nworkers; i++)
        if (ep->active[i] >= 0)
            shutdown(ep->active[i], SHUT_RDWR);
    pthread_cond_broadcast(&ep->work_cond);
    pthread_cond_broadcast(&ep->space_cond);
    pthread_mutex_unlock(&ep->lock);
    do
        w = write(ep->wake[1], "x", 1);
    while (w < 0 && errno == EINTR);
    if (ep->acceptor_started)
        pthread_join(ep->acceptor, NULL);
    ep->acceptor_started = false;
    for (size_t i = 0; i < ep->nstarted; i++)
        pthread_join(ep->workers[i], NULL);
    ep->nstarted = 0;
    /* Nobody took these: close them unserved. */
    while (ep->nhello > 0) {
        close(ep->hello[--ep->nhello].fd);
        ep->open--;
    }
    while (ep->qlen > 0) {
        close(ep->queue[ep->qhead].fd);
        ep->qhead = (ep->qhead + 1) % ep->max_conns;
        ep->qlen--;
        ep->open--;
    }
}

/* ------------------------------------------------------------------ */
/* The issuing service                                                  */
/* ------------------------------------------------------------------ */

/* The service's observer: a stored certificate reloads its name. */
static void on_service_event(void *userdata, const acme_service_event *ev)
{
    acme_endpoint *ep = userdata;
    acme_error *e = NULL;

    if (ev->kind != ACME_EVENT_OBTAINED && ev->kind != ACME_EVENT_RENEWED)
        return;
    if (acme_endpoint_certificate_changed(ep, ev->name, &e) < 0) {
        ACME__LOGF(&ep->log, ACME_LOG_WARNING, "cannot reload %s: %s", ev->name,
                   acme_error_message(e));
        acme_error_free(e);
    }
}

/* Observe the service, start it (unless it runs), wait until it is ready. */
static int service_start(acme_endpoint *ep, acme_error **err)
{
    acme_error *e = NULL;
    int rc;

    if ((rc = acme__service_set_observer(ep->service, on_service_event, ep, err)) < 0)
        return rc;
    ep->observing = true;
    rc = acme_service_start(ep->service, &e);
    if (rc == ACME_E_INVALIDSTATE) {
        /* Started by the application already: it is ours to wait for. */
        acme_error_free(e);
        e = NULL;
        rc = ACME_OK;
    }
    if (rc < 0)
        return acme__error_give(err, e);
    /* txacme's listen: ready once every missing or expiring certificate
     * had its first attempt. */
    return acme_service_when_certs_valid(ep->service, -1, err);
}

/* Stop the service (issuing in flight is cancelled) and stop observing it. */
static void service_stop(acme_endpoint *ep)
{
    if (!ep->service || !ep->observing)
        return;
    acme_service_stop(ep->service);
    acme__service_set_observer(ep->service, NULL, NULL, NULL);
    ep->observing = false;
}

int acme_endpoint_listen(acme_endpoint *ep, const char *sub_endpoint, acme_error **err)
{
    acme_endpoint_spec *spec = NULL;
    int rc, ret;

    if (!ep)
        return acme_error_set(err, ACME_E_INVALID, _("no endpoint"));
    if (!ep->handler)
        return acme_error_set(err, ACME_E_INVALID, _("the endpoint has no connection handler"));
    pthread_mutex_lock(&ep->lock);
    if (ep->state != EP_NEW) {
        pthread_mutex_unlock(&ep->lock);
        return acme_error_set(err, ACME_E_INVALIDSTATE,
                              _("the endpoint is already listening or closed"));
    }
    ep->state = EP_LISTENING;
    pthread_mutex_unlock(&ep->lock);
    if ((rc = acme_endpoint_sub_parse(&spec, sub_endpoint, err)) < 0)
        goto fail;
    if ((rc = open_listener(ep, spec, err)) < 0)
        goto fail;
    if (pipe2(ep->wake, O_CLOEXEC) < 0) {
        ep->wake[0] = ep->wake[1] = -1;
        rc = acme_error_set(err, ACME_E_IO, _("cannot make a pipe: %s"), strerror(errno));
        goto fail;
    }
    for (size_t i = 0; i < ep->nworkers; i++) {
        worker_arg *wa = malloc(sizeof(*wa));

        if (!wa) {
            rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
            goto fail_threads;
        }
        *wa = (worker_arg){ ep, i };
        if ((ret = pthread_create(&ep->workers[i], NULL, worker_main, wa)) != 0) {
            free(wa);
            rc = acme_error_set(err, ACME_E_NOMEM, _("cannot start a worker thread: %s"),
                                strerror(ret));
            goto fail_threads;
        }
        ep->nstarted++;
    }
    if ((ret = pthread_create(&ep->acceptor, NULL, accept_main, ep)) != 0) {
        rc = acme_error_set(err, ACME_E_NOMEM, _("cannot start the accept thread: %s"),
                            strerror(ret));
        goto fail_threads;
    }
    ep->acceptor_started = true;
    ACME__LOGF(&ep->log, ACME_LOG_NOTICE, "listening on %s",
               acme_endpoint_spec_sub_endpoint(spec));
    /* The service starts only now, so that tls-alpn-01 validations of
     * its first orders find the port open (txacme's listen order). */
    if (ep->service && (rc = service_start(ep, err)) < 0)
        goto fail_threads;
    acme_endpoint_spec_free(spec);
    return ACME_OK;
fail_threads:
    service_stop(ep);
    stop_threads(ep);
fail:
    acme_endpoint_spec_free(spec);
    /* Stays "listening" in name only: closing cleans up what was made. */
    return rc;
}

unsigned int acme_endpoint_port(const acme_endpoint *ep)
{
    return ep ? ep->port : 0;
}

void acme_endpoint_close(acme_endpoint *ep)
{
    if (!ep)
        return;
    pthread_mutex_lock(&ep->lock);
    if (ep->state == EP_CLOSED) {
        pthread_mutex_unlock(&ep->lock);
        return;
    }
    ep->state = EP_CLOSED;
    pthread_mutex_unlock(&ep->lock);
    /* The service first: issuing in flight is cancelled rather than
     * waited for, and no reload races the listener's shutdown. */
    service_stop(ep);
    if (ep->wake[1] >= 0)
        stop_threads(ep);
    if (ep->lfd >= 0) {
        close(ep->lfd);
        ep->lfd = -1;
    }
    if (ep->unix_path) {
        unlink(ep->unix_path);
        free(ep->unix_path);
        ep->unix_path = NULL;
    }
    for (int i = 0; i < 2; i++)
        if (ep->wake[i] >= 0) {
            close(ep->wake[i]);
            ep->wake[i] = -1;
        }
}

/* ------------------------------------------------------------------ */
/* Making and freeing                                                   */
/* ------------------------------------------------------------------ */

void acme_endpoint_free(acme_endpoint *ep)
{
    if (!ep)
        return;
    acme_endpoint_close(ep);
    registry_remove(ep);
    if (ep->creds)
        gnutls_certificate_free_credentials(ep->creds);
    if (ep->prio)
        gnutls_priority_deinit(ep->prio);
    acme__ep_cache_free(ep->cache);
    for (unsigned int i = 0; i < ep->nalpn; i++)
        free(ep->alpn[i].data);
    free(ep->alpn);
    free(ep->default_name);
    free(ep->queue);
    free(ep->hello);
    free(ep->pfd);
    free(ep->active);
    free(ep->workers);
    free(ep->od_inflight);
    pthread_mutex_destroy(&ep->lock);
    pthread_cond_destroy(&ep->work_cond);
    pthread_cond_destroy(&ep->space_cond);
    pthread_mutex_destroy(&ep->od_lock);
    pthread_cond_destroy(&ep->od_cond);
    free(ep);
}

static int add_alpn(acme_endpoint *ep, const char *proto, acme_error **err)
{
    size_t len = strlen(proto);
    gnutls_datum_t *grown;

    /* RFC 7301 §3.1: 1 to 255 bytes. */
    if (len == 0 || len > 255)
        return acme_error_set(err, ACME_E_INVALID, _("bad ALPN protocol name \"%.64s\""), proto);
    if (!(grown = realloc(ep->alpn, (ep->nalpn + 1) * sizeof(*grown))))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    ep->alpn = grown;
    if (!(ep->alpn[ep->nalpn].data = (unsigned char *)acme__strdup(proto)))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    ep->alpn[ep->nalpn++].size = (unsigned int)len;
    return ACME_OK;
}

int acme_endpoint_new(acme_endpoint **out, const acme_endpoint_options *opts, acme_error **err)
{
    acme_endpoint *ep;
    const char *errpos = NULL;
    int rc, ret;

    if (!out)
        return acme_error_set(err, ACME_E_INVALID, _("no place for the endpoint"));
    *out = NULL;
    if (!opts || opts->version < 1 || opts->version > ACME_ENDPOINT_OPTIONS_VERSION)
        return acme_error_set(err, ACME_E_INVALID, _("bad endpoint options version"));
    if (!opts->store)
        return acme_error_set(err, ACME_E_INVALID, _("the endpoint needs a store"));
    if (opts->on_demand && !opts->issue && !(opts->version >= 2 && opts->service))
        return acme_error_set(err, ACME_E_INVALID,
                              _("on-demand issuance needs an issue callback (or a service)"));
    if (!(ep = calloc(1, sizeof(*ep))))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    pthread_mutex_init(&ep->lock, NULL);
    pthread_cond_init(&ep->work_cond, NULL);
    pthread_cond_init(&ep->space_cond, NULL);
    pthread_mutex_init(&ep->od_lock, NULL);
    pthread_cond_init(&ep->od_cond, NULL);
    ep->lfd = ep->wake[0] = ep->wake[1] = -1;
    ep->store = opts->store;
    ep->reg = opts->tlsalpn01;
    ep->handler = opts->handler;
    ep->handler_userdata = opts->handler_userdata;
    ep->max_conns = opts->max_connections ? opts->max_connections
                                          : ACME_ENDPOINT_DEFAULT_MAX_CONNECTIONS;
    ep->nworkers = opts->workers ? opts->workers : ACME_ENDPOINT_DEFAULT_WORKERS;
    if (ep->nworkers > ep->max_conns)
        ep->nworkers = ep->max_conns;
    ep->hs_timeout_ms = opts->handshake_timeout_ms ? opts->handshake_timeout_ms
                                                   : ACME_ENDPOINT_DEFAULT_HANDSHAKE_TIMEOUT_MS;
    ep->od_decide = opts->on_demand;
    ep->od_userdata = opts->on_demand_userdata;
    ep->od_issue = opts->issue;
    ep->od_issue_userdata = opts->issue_userdata;
    /* Version 1 options end before the service member. */
    ep->service = opts->version >= 2 ? opts->service : NULL;
    ep->od_per_minute = opts->on_demand_per_minute ? opts->on_demand_per_minute
                                                   : ACME_ENDPOINT_DEFAULT_ON_DEMAND_PER_MINUTE;
    ep->od_window = now_ms();
    ep->log.fn = opts->log;
    ep->log.userdata = opts->log_userdata;
    ep->log.level = opts->log_level ? opts->log_level : ACME_LOG_NOTICE;
    if (opts->default_name &&
        (rc = acme_name_normalize(&ep->default_name, opts->default_name, err)) < 0)
        goto fail;
    for (const char *const *p = opts->alpn; p && *p; p++)
        if ((rc = add_alpn(ep, *p, err)) < 0)
            goto fail;
    if (ep->reg && (rc = add_alpn(ep, ACME_TLSALPN01_ALPN, err)) < 0)
        goto fail;
    if (!(ep->queue = calloc(ep->max_conns, sizeof(*ep->queue))) ||
        !(ep->hello = calloc(ep->max_conns, sizeof(*ep->hello))) ||
        !(ep->pfd = calloc((size_t)ep->max_conns + 2, sizeof(*ep->pfd))) ||
        !(ep->active = malloc(ep->nworkers * sizeof(*ep->active))) ||
        !(ep->workers = calloc(ep->nworkers, sizeof(*ep->workers)))) {
        rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        goto fail;
    }
    for (size_t i = 0; i < ep->nworkers; i++)
        ep->active[i] = -1;
    if ((ret = gnutls_priority_init(&ep->prio, opts->priority ? opts->priority : "NORMAL",
                                    &errpos)) < 0) {
        ep->prio = NULL;
        rc = acme_error_set(err, ACME_E_INVALID, _("bad TLS priority string at \"%.64s\": %s"),
                            errpos ? errpos : "", gnutls_strerror(ret));
        goto fail;
    }
    if ((ret = gnutls_certificate_allocate_credentials(&ep->creds)) < 0) {
        ep->creds = NULL;
        rc = acme_error_set(err, ACME_E_NOMEM, "%s", gnutls_strerror(ret));
        goto fail;
    }
    gnutls_certificate_set_retrieve_function3(ep->creds, retrieve);
    if ((rc = acme__ep_cache_new(&ep->cache, ep->store,
                                 opts->negative_ttl_ms ? opts->negative_ttl_ms
                                                       : ACME_ENDPOINT_DEFAULT_NEGATIVE_TTL_MS,
                                 err)) < 0)
        goto fail;
    registry_add(ep);
    *out = ep;
    return ACME_OK;
fail:
    acme_endpoint_free(ep);
    return rc;
}

int acme_endpoint_certificate_changed(acme_endpoint *ep, const char *name, acme_error **err)
{
    char *canon = NULL;
    int rc;

    if (!ep)
        return acme_error_set(err, ACME_E_INVALID, _("no endpoint"));
    if (!name)
        return acme__ep_cache_reload(ep->cache, NULL, err);
    if ((rc = acme_name_normalize(&canon, name, err)) < 0)
        return rc;
    rc = acme__ep_cache_reload(ep->cache, canon, err);
    free(canon);
    return rc;
}

/* For the unit tests: how many names the cache holds. */
size_t acme__endpoint_cache_count(acme_endpoint *ep);
size_t acme__endpoint_cache_count(acme_endpoint *ep)
{
    return acme__ep_cache_count(ep->cache);
}
