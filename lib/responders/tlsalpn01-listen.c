/*
 * responders: the standalone tls-alpn-01 listener (RFC 8737 §3).
 *
 * One thread answers every validation handshake: it polls the listening
 * socket and each connection, and drives non-blocking GnuTLS sessions, so
 * a client that stalls or sends garbage costs one slot and at most its
 * handshake timeout, never the CA's turn.  Each connection completes one
 * handshake with the challenge certificate the registry holds for its SNI,
 * sends close_notify and is closed; no application data is exchanged.
 *
 * Endpoint-level code: it uses GnuTLS.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <acme/sys/error.h>
#include <acme/tlsalpn01.h>

#include "responders/tlsalpn01.h"
#include "util/i18n.h"
#include "util/util.h"

/* Connections handled at once; more wait in the kernel's backlog. */
#define MAX_CONNS 64

/* How long accepting pauses after accept() fails for want of resources
 * (EMFILE, ENOBUFS...), so a listening socket that stays readable does not
 * spin the thread. */
#define ACCEPT_PAUSE_MS 100

/* Non-fatal handshake results (warning alerts) tolerated in a row. */
#define MAX_NONFATAL 8

/*
 * TLS 1.2 or later only: RFC 8737 §4 has the CA refuse anything older,
 * so offering it would only help clients that are not the CA.
 */
#define PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

typedef enum conn_state {
    CONN_HANDSHAKE,  /* reading the ClientHello, answering it */
    CONN_BYE         /* handshake done: sending close_notify */
} conn_state;

typedef struct conn {
    int fd;
    gnutls_session_t session;
    gnutls_certificate_credentials_t creds;  /* set by the hook; NULL before */
    const acme_tlsalpn01 *reg;
    conn_state state;
    int64_t deadline;  /* monotonic ms */
} conn;

struct acme_tlsalpn01_server {
    acme_tlsalpn01 *reg;  /* borrowed */
    int lfd;
    int wake[2];          /* a byte on wake[1] asks the thread to stop */
    unsigned int port;
    unsigned int timeout_ms;
    gnutls_priority_t prio;
    pthread_t thread;
    /* Only the listener's thread touches these. */
    conn *conns[MAX_CONNS];
    size_t nconns;
    int64_t accept_resume;  /* monotonic ms; accepting waits until then */
};

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void conn_free(conn *c)
{
    if (!c)
        return;
    /* The session refers to the credentials: it goes first. */
    if (c->session)
        gnutls_deinit(c->session);
    if (c->creds)
        gnutls_certificate_free_credentials(c->creds);
    if (c->fd >= 0)
        close(c->fd);
    free(c);
}

/*
 * GnuTLS calls this once the ClientHello (with its SNI and ALPN) is read,
 * before it picks a certificate: the place to choose the challenge
 * certificate, or to refuse with the alert that says why.
 */
static int on_client_hello(gnutls_session_t session)
{
    conn *c = gnutls_session_get_ptr(session);

    if (c->creds)  /* a second ClientHello (HelloRetryRequest): keep the choice */
        return 0;
    return acme__tlsalpn01_hook_result(
        acme__tlsalpn01_session_select(&c->creds, session, c->reg, NULL));
}

static conn *conn_new(acme_tlsalpn01_server *srv, int fd)
{
    static const gnutls_datum_t alpn = { (unsigned char *)ACME_TLSALPN01_ALPN,
                                         sizeof(ACME_TLSALPN01_ALPN) - 1 };
    conn *c = calloc(1, sizeof(*c));

    if (!c) {
        close(fd);
        return NULL;
    }
    c->fd = fd;
    c->reg = srv->reg;
    c->state = CONN_HANDSHAKE;
    c->deadline = now_ms() + srv->timeout_ms;
    /* No session tickets: a validation connection is never resumed. */
    if (gnutls_init(&c->session, GNUTLS_SERVER | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL |
                                     GNUTLS_NO_TICKETS) < 0) {
        c->session = NULL;
        conn_free(c);
        return NULL;
    }
    /* RFC 8737 §3 and §6.2: "acme-tls/1" is the only protocol, and it is
     * mandatory: a client that does not offer it is not validating. */
    if (gnutls_priority_set(c->session, srv->prio) < 0 ||
        gnutls_alpn_set_protocols(c->session, &alpn, 1, GNUTLS_ALPN_MANDATORY) < 0) {
        conn_free(c);
        return NULL;
    }
    gnutls_session_set_ptr(c->session, c);
    gnutls_handshake_set_post_client_hello_function(c->session, on_client_hello);
    /* The deadline is ours (the poll loop enforces it). */
    gnutls_handshake_set_timeout(c->session, GNUTLS_INDEFINITE_TIMEOUT);
    gnutls_transport_set_int(c->session, fd);
    return c;
}

/*
 * Move a connection on as far as it goes without blocking.  Returns true
 * while it has more to do, false when it is finished (or failed) and
 * should be closed.
 */
static bool conn_step(conn *c)
{
    int ret, nonfatal = 0;

    if (c->state == CONN_HANDSHAKE) {
        do
            ret = gnutls_handshake(c->session);
        while (ret < 0 && ret != GNUTLS_E_AGAIN && !gnutls_error_is_fatal(ret) &&
               ++nonfatal < MAX_NONFATAL);
        if (ret < 0 && nonfatal >= MAX_NONFATAL)
            return false;
        if (ret == GNUTLS_E_AGAIN)
            return true;
        if (ret < 0) {
            /* Tell the client why (unrecognized_name for an unknown SNI,
             * no_application_protocol without "acme-tls/1"); best effort:
             * the socket is about to close anyway. */
            gnutls_alert_send_appropriate(c->session, ret);
            return false;
        }
        /* Belt and braces: the hook refused clients without
         * "acme-tls/1" (GnuTLS's GNUTLS_ALPN_MANDATORY alone lets through
         * a client that sends no ALPN extension at all, as the tests
         * showed); a handshake that somehow ended without it must not
         * stand. */
        if (!acme__tlsalpn01_offered(c->session)) {
            gnutls_alert_send(c->session, GNUTLS_AL_FATAL, GNUTLS_A_NO_APPLICATION_PROTOCOL);
            return false;
        }
        /* RFC 8737 §3: once the handshake is done, the connection has
         * served its purpose. */
        c->state = CONN_BYE;
    }
    ret = gnutls_bye(c->session, GNUTLS_SHUT_WR);
    return ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED;
}

static void accept_ready(acme_tlsalpn01_server *srv)
{
    while (srv->nconns < MAX_CONNS) {
        int fd = accept4(srv->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        conn *c;

        if (fd < 0) {
            /* Out of descriptors or buffers: the connection stays queued
             * and the socket readable; pause rather than spin. */
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
                errno != ECONNABORTED)
                srv->accept_resume = now_ms() + ACCEPT_PAUSE_MS;
            return;
        }
        if (!(c = conn_new(srv, fd)))
            continue;
        if (conn_step(c))
            srv->conns[srv->nconns++] = c;
        else
            conn_free(c);
    }
}

static void *listen_thread(void *arg)
{
    acme_tlsalpn01_server *srv = arg;
    struct pollfd pfd[MAX_CONNS + 2];

    for (;;) {
        int64_t now = now_ms(), next = -1;
        /* A full table stops accepting: the backlog holds the rest. */
        bool accepting = srv->nconns < MAX_CONNS && now >= srv->accept_resume;
        nfds_t n = 0;
        int timeout;

        pfd[n++] = (struct pollfd){ .fd = srv->wake[0], .events = POLLIN };
        pfd[n++] = (struct pollfd){ .fd = accepting ? srv->lfd : -1, .events = POLLIN };
        if (!accepting && srv->nconns < MAX_CONNS)
            next = srv->accept_resume;
        for (size_t i = 0; i < srv->nconns; i++) {
            conn *c = srv->conns[i];

            pfd[n++] = (struct pollfd){
                .fd = c->fd,
                .events = gnutls_record_get_direction(c->session) ? POLLOUT : POLLIN,
            };
            if (next < 0 || c->deadline < next)
                next = c->deadline;
        }
        timeout = next < 0 ? -1 : next <= now ? 0 : (int)(next - now);
        if (poll(pfd, n, timeout) < 0 && errno != EINTR)
            break;
        if (pfd[0].revents)
            break;
        now = now_ms();
        /* Step the connections that are ready, drop those done or late;
         * compact the table as we go (pfd[i + 2] belongs to conns[i]). */
        {
            size_t kept = 0;

            for (size_t i = 0; i < srv->nconns; i++) {
                conn *c = srv->conns[i];
                bool alive = true;

                if (pfd[i + 2].revents)
                    alive = conn_step(c);
                if (alive && now >= c->deadline)
                    alive = false;
                if (alive)
                    srv->conns[kept++] = c;
                else
                    conn_free(c);
            }
            srv->nconns = kept;
        }
        if (pfd[1].revents)
            accept_ready(srv);
    }
    for (size_t i = 0; i < srv->nconns; i++)
        conn_free(srv->conns[i]);
    srv->nconns = 0;
    return NULL;
}

/* Make the listening socket for @p address (NULL: every address). */
static int open_listener(int *out, unsigned int *port_out, const char *address,
                         unsigned int port, acme_error **err)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    int fd, one = 1, zero = 0, family;

    memset(&ss, 0, sizeof(ss));
    if (!address || inet_pton(AF_INET6, address, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

        family = AF_INET6;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        if (!address)
            s6->sin6_addr = in6addr_any;
        sslen = sizeof(*s6);
    } else if (inet_pton(AF_INET, address, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

        family = AF_INET;
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        sslen = sizeof(*s4);
    } else {
        return acme_error_set(err, ACME_E_INVALID,
                              _("\"%.255s\" is not a numeric IP address to listen on"), address);
    }
    fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 && !address && (errno == EAFNOSUPPORT || errno == EPROTONOSUPPORT)) {
        /* No IPv6 on this host: every IPv4 address instead. */
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

        memset(&ss, 0, sizeof(ss));
        family = AF_INET;
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        s4->sin_addr.s_addr = htonl(INADDR_ANY);
        sslen = sizeof(*s4);
        fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    }
    if (fd < 0)
        return acme_error_set(err, ACME_E_IO, _("cannot make a socket: %s"), strerror(errno));
    /* A restarted listener must not wait for TIME_WAIT to pass. */
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    /* "Every address" means IPv4 too, whatever the system default. */
    if (family == AF_INET6 && !address)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
    if (bind(fd, (struct sockaddr *)&ss, sslen) < 0 || listen(fd, 64) < 0) {
        int e = errno;

        close(fd);
        return acme_error_set(err, ACME_E_IO, _("cannot listen on %s port %u: %s"),
                              address ? address : "*", port, strerror(e));
    }
    sslen = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &sslen) < 0) {
        int e = errno;

        close(fd);
        return acme_error_set(err, ACME_E_IO, _("cannot read the listening address: %s"),
                              strerror(e));
    }
    *port_out = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                         : ((struct sockaddr_in *)&ss)->sin_port);
    *out = fd;
    return ACME_OK;
}

int acme__tlsalpn01_listen_timeout(acme_tlsalpn01_server **out, acme_tlsalpn01 *reg,
                                   const char *address, unsigned int port,
                                   unsigned int timeout_ms, acme_error **err)
{
    acme_tlsalpn01_server *srv;
    int rc, ret;

    if (!out)
        return acme_error_set(err, ACME_E_INVALID, _("no place for the listener"));
    *out = NULL;
    if (!reg)
        return acme_error_set(err, ACME_E_INVALID, _("no tls-alpn-01 registry"));
    if (port > 65535)
        return acme_error_set(err, ACME_E_INVALID, _("port %u is out of range"), port);
    if (timeout_ms == 0 || timeout_ms > INT32_MAX)
        return acme_error_set(err, ACME_E_INVALID, _("bad handshake timeout"));
    if (!(srv = calloc(1, sizeof(*srv))))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    srv->reg = reg;
    srv->timeout_ms = timeout_ms;
    srv->lfd = srv->wake[0] = srv->wake[1] = -1;
    if ((ret = gnutls_priority_init(&srv->prio, PRIORITY, NULL)) < 0) {
        srv->prio = NULL;
        rc = acme_error_set(err, ACME_E_TLS, _("cannot set TLS priorities: %s"),
                            gnutls_strerror(ret));
        goto fail;
    }
    if ((rc = open_listener(&srv->lfd, &srv->port, address, port, err)) < 0)
        goto fail;
    if (pipe2(srv->wake, O_CLOEXEC) < 0) {
        rc = acme_error_set(err, ACME_E_IO, _("cannot make a pipe: %s"), strerror(errno));
        goto fail;
    }
    if ((ret = pthread_create(&srv->thread, NULL, listen_thread, srv)) != 0) {
        rc = acme_error_set(err, ACME_E_NOMEM, _("cannot start the listener thread: %s"),
                            strerror(ret));
        goto fail;
    }
    *out = srv;
    return ACME_OK;
fail:
    if (srv->wake[0] >= 0)
        close(srv->wake[0]);
    if (srv->wake[1] >= 0)
        close(srv->wake[1]);
    if (srv->lfd >= 0)
        close(srv->lfd);
    if (srv->prio)
        gnutls_priority_deinit(srv->prio);
    free(srv);
    return rc;
}

int acme_tlsalpn01_listen(acme_tlsalpn01_server **out, acme_tlsalpn01 *reg, const char *address,
                          unsigned int port, acme_error **err)
{
    return acme__tlsalpn01_listen_timeout(out, reg, address, port,
                                          ACME__TLSALPN01_HANDSHAKE_TIMEOUT_MS, err);
}

unsigned int acme_tlsalpn01_server_port(const acme_tlsalpn01_server *srv)
{
    return srv ? srv->port : 0;
}

void acme_tlsalpn01_server_free(acme_tlsalpn01_server *srv)
{
    ssize_t w;

    if (!srv)
        return;
    /* The thread polls the pipe with everything else, so it sees this at
     * once, whatever its connections are doing. */
    do
        w = write(srv->wake[1], "x", 1);
    while (w < 0 && errno == EINTR);
    pthread_join(srv->thread, NULL);
    close(srv->wake[0]);
    close(srv->wake[1]);
    close(srv->lfd);
    gnutls_priority_deinit(srv->prio);
    free(srv);
}
