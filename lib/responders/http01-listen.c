/*
 * responders: the standalone http-01 listener (RFC 8555 §8.3), a small
 * HTTP server over a token table.
 *
 * HTTP parsing is libmicrohttpd's, not ours: it is well kept and handles
 * the slow, malformed and hostile clients that port 80 on the Internet
 * sees.  We only choose the limits and answer each request:
 *
 *   GET/HEAD /.well-known/acme-challenge/<token in flight>  200, the key authorization
 *   GET/HEAD anything else                                  404
 *   any other method                                        405, Allow: GET, HEAD
 *
 * Threads: libmicrohttpd runs one internal thread (epoll or poll, all
 * connections event-driven, so one slow client does not hold up another)
 * or a pool of them; the access handler runs there and only calls
 * acme_http01_lookup(), which takes the table's leaf lock briefly.
 * acme_http01_server_free() stops the daemon, which closes every
 * connection and joins its threads.
 *
 * Without libmicrohttpd (configure found none) the constructors return
 * ACME_E_NOTSUP.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <acme/http01.h>
#include <acme/sys/error.h>

#include "responders/http01-int.h"
#include "util/i18n.h"
#include "util/util.h"

#if HAVE_MHD

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <microhttpd.h>

/* The access handler's return type changed from int in 0.9.71. */
#if MHD_VERSION >= 0x00097002
typedef enum MHD_Result mhd_result;
#else
typedef int mhd_result;
#endif

/* Below this, libmicrohttpd's own read buffer increments do not fit. */
#define MEMORY_MIN 4096

struct acme_http01_server {
    struct MHD_Daemon *daemon;
    acme_http01 *h;                 /* a reference of our own */
    unsigned int port;
    struct MHD_Response *not_found; /* shared by every 404; immutable once made */
    struct MHD_Response *not_allowed;
};

static const char not_found_body[] = "Not Found\n";
static const char not_allowed_body[] = "Method Not Allowed\n";

/*
 * The access handler: answers on the first call, before any request body
 * is read (a challenge request has none; libmicrohttpd then closes a
 * connection whose body it did not read).
 */
static mhd_result handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                         const char *version, const char *upload_data, size_t *upload_data_size,
                         void **req_cls)
{
    acme_http01_server *srv = cls;
    struct MHD_Response *resp;
    char *body = NULL;
    mhd_result ret;

    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    (void)req_cls;

    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return MHD_queue_response(conn, MHD_HTTP_METHOD_NOT_ALLOWED, srv->not_allowed);
    if (acme_http01_lookup(&body, srv->h, url, NULL) != ACME_OK)
        return MHD_queue_response(conn, MHD_HTTP_NOT_FOUND, srv->not_found);

    /*
     * RFC 8555 §8.3: the body is the key authorization, nothing more (the
     * CA tolerates trailing white space but we send none).  For HEAD,
     * libmicrohttpd sends the headers of this response without the body.
     */
    resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_COPY);
    acme_free(body);
    if (!resp)
        return MHD_NO; /* out of memory: drop the connection */
    if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream") != MHD_YES ||
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") != MHD_YES) {
        MHD_destroy_response(resp);
        return MHD_NO;
    }
    ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp); /* the connection holds its own reference */
    return ret;
}

static struct MHD_Response *static_response(const char *body, const char *allow)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);

    if (!r)
        return NULL;
    if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8") != MHD_YES ||
        (allow && MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow) != MHD_YES)) {
        MHD_destroy_response(r);
        return NULL;
    }
    return r;
}

/* The port the daemon's listening socket is bound to. */
static unsigned int bound_port(struct MHD_Daemon *d)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_LISTEN_FD);
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    if (!info || getsockname(info->listen_fd, (struct sockaddr *)&ss, &len) != 0)
        return 0;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return 0;
}

static struct MHD_Daemon *start(acme_http01_server *srv, unsigned int flags, unsigned int port,
                                const struct sockaddr *sa, const acme_http01_server_options *o)
{
    struct MHD_OptionItem items[8];
    size_t n = 0;

    items[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_LIMIT, o->max_connections, NULL };
    items[n++] = (struct MHD_OptionItem){ MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                                          o->max_connections_per_ip, NULL };
    items[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_TIMEOUT, o->timeout_seconds, NULL };
    items[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                                          (intptr_t)o->memory_per_connection, NULL };
    if (o->threads > 1)
        items[n++] = (struct MHD_OptionItem){ MHD_OPTION_THREAD_POOL_SIZE, o->threads, NULL };
    if (sa)
        items[n++] = (struct MHD_OptionItem){ MHD_OPTION_SOCK_ADDR, 0, (void *)sa };
    items[n++] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };

    /*
     * No MHD_USE_ERROR_LOG: libmicrohttpd would print to stderr, which a
     * library must not do.  MHD_USE_ITC lets stop wake the thread at once.
     */
    return MHD_start_daemon(flags | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ITC,
                            (uint16_t)port, NULL, NULL, handle, srv,
                            MHD_OPTION_ARRAY, items, MHD_OPTION_END);
}

int acme_http01_listen(acme_http01_server **out, acme_http01 *h, const char *address,
                       unsigned int port, const acme_http01_server_options *opts, acme_error **err)
{
    acme_http01_server_options o = ACME_HTTP01_SERVER_OPTIONS_INIT;
    acme_http01_server *srv;
    struct sockaddr_storage ss;
    const struct sockaddr *sa = NULL;
    unsigned int flags = 0;
    int saved_errno = 0;

    if (!out || !h)
        return acme_error_set(err, ACME_E_INVALID, _("http-01: no token table"));
    *out = NULL;
    if (port > 65535)
        return acme_error_set(err, ACME_E_INVALID, _("http-01: invalid port %u"), port);
    if (opts) {
        if (opts->version < 1 || opts->version > ACME_HTTP01_SERVER_OPTIONS_VERSION)
            return acme_error_set(err, ACME_E_INVALID,
                                  _("http-01: unsupported server options version %u"), opts->version);
        o = *opts;
    }
    if (!o.max_connections)
        o.max_connections = ACME_HTTP01_MAX_CONNECTIONS;
    if (!o.max_connections_per_ip)
        o.max_connections_per_ip = ACME_HTTP01_MAX_CONNECTIONS_PER_IP;
    if (!o.timeout_seconds)
        o.timeout_seconds = ACME_HTTP01_TIMEOUT_SECONDS;
    if (!o.memory_per_connection)
        o.memory_per_connection = ACME_HTTP01_MEMORY_PER_CONNECTION;
    if (o.memory_per_connection < MEMORY_MIN)
        o.memory_per_connection = MEMORY_MIN;

    if (address) {
        /* Numeric only: a listener must not depend on name resolution. */
        struct addrinfo hints, *ai = NULL;

        memset(&hints, 0, sizeof(hints));
        hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
        hints.ai_socktype = SOCK_STREAM;
        if (getaddrinfo(address, NULL, &hints, &ai) != 0 || !ai ||
            ai->ai_addrlen > sizeof(ss) ||
            (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)) {
            if (ai)
                freeaddrinfo(ai);
            return acme_error_set(err, ACME_E_INVALID,
                                  _("http-01: %s is not a numeric IP address"), address);
        }
        memset(&ss, 0, sizeof(ss));
        memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
        if (ai->ai_family == AF_INET6) {
            ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
            flags |= MHD_USE_IPv6;
        } else {
            ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
        }
        freeaddrinfo(ai);
        sa = (const struct sockaddr *)&ss;
    }

    if (!(srv = calloc(1, sizeof(*srv))))
        return acme_error_set(err, ACME_E_NOMEM, _("out of memory"));
    srv->h = acme__http01_ref(h);
    srv->not_found = static_response(not_found_body, NULL);
    srv->not_allowed = static_response(not_allowed_body, "GET, HEAD");
    if (!srv->not_found || !srv->not_allowed) {
        acme_http01_server_free(srv);
        return acme_error_set(err, ACME_E_NOMEM, _("out of memory"));
    }

    errno = 0;
    if (sa) {
        srv->daemon = start(srv, flags, port, sa, &o);
    } else {
        /* Every address: IPv6 with IPv4 mapped where the system has IPv6. */
        srv->daemon = start(srv, MHD_USE_DUAL_STACK, port, NULL, &o);
        if (!srv->daemon)
            srv->daemon = start(srv, 0, port, NULL, &o);
    }
    saved_errno = errno;
    if (!srv->daemon) {
        char buf[128];

        acme_http01_server_free(srv);
        /* libmicrohttpd says nothing more; errno usually holds the reason. */
        return acme_error_set(err, ACME_E_IO, _("http-01: cannot listen on %s port %u: %s"),
                              address ? address : "*", port,
                              saved_errno ? acme__http01_errstr(saved_errno, buf, sizeof(buf))
                                          : _("unknown error"));
    }
    srv->port = bound_port(srv->daemon);
    *out = srv;
    return ACME_OK;
}

unsigned int acme_http01_server_port(const acme_http01_server *srv)
{
    return srv ? srv->port : 0;
}

void acme_http01_server_free(acme_http01_server *srv)
{
    if (!srv)
        return;
    /* Closes the listening socket and every connection, joins the threads. */
    if (srv->daemon)
        MHD_stop_daemon(srv->daemon);
    if (srv->not_found)
        MHD_destroy_response(srv->not_found);
    if (srv->not_allowed)
        MHD_destroy_response(srv->not_allowed);
    acme_http01_free(srv->h);
    free(srv);
}

#else /* !HAVE_MHD */

struct acme_http01_server {
    int unused;
};

int acme_http01_listen(acme_http01_server **out, acme_http01 *h, const char *address,
                       unsigned int port, const acme_http01_server_options *opts, acme_error **err)
{
    (void)h;
    (void)address;
    (void)port;
    (void)opts;
    if (out)
        *out = NULL;
    return acme_error_set(err, ACME_E_NOTSUP,
                          _("http-01: libacme was built without libmicrohttpd, no standalone listener"));
}

unsigned int acme_http01_server_port(const acme_http01_server *srv)
{
    (void)srv;
    return 0;
}

void acme_http01_server_free(acme_http01_server *srv)
{
    (void)srv;
}

#endif /* HAVE_MHD */
