/*
 * acmed: TLS termination.  Each established TLS connection is joined to
 * a new plaintext TCP connection to the backend (HOST:PORT), and bytes
 * are copied both ways until one side closes.
 *
 * Two directions, two threads: the handler's thread copies client ->
 * backend, a helper copies backend -> client.  GnuTLS allows one thread
 * to receive while another sends on the same session.  When the backend
 * closes, the helper shuts down the client socket's read side so the
 * handler's blocking read returns; the handler then sends close_notify.
 * When the client closes, the backend connection is shut down whole.
 */
#include "acmed.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct pump {
    acme_endpoint_conn *conn;
    int backend;
} pump;

/* Connect to "HOST:PORT" ("[v6]:PORT" too); -1 on failure (logged). */
static int connect_backend(const char *spec)
{
    char *host = acmed_strdup(spec), *port = strrchr(host, ':');
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG }, *res = NULL;
    int fd = -1, r;

    *port++ = '\0';
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = '\0';
    }
    if ((r = getaddrinfo(host, port, &hints, &res)) != 0) {
        acmed_log(ACME_LOG_ERROR, "backend %s: %s", spec, gai_strerror(r));
        free(host);
        return -1;
    }
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        close(fd);
        fd = -1;
    }
    if (fd < 0)
        acmed_log(ACME_LOG_ERROR, "backend %s: cannot connect: %s", spec, strerror(errno));
    freeaddrinfo(res);
    free(host);
    return fd;
}

/* Backend -> client. */
static void *backend_to_client(void *arg)
{
    pump *p = arg;
    char buf[16384];
    acme_error *e = NULL;
    ssize_t n;

    for (;;) {
        n = read(p->backend, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (acme_endpoint_conn_write(p->conn, buf, (size_t)n, &e) < 0) {
            acme_error_free(e);
            e = NULL;
            break;
        }
    }
    /* The backend is done: wake the other direction's blocking read. */
    shutdown(acme_endpoint_conn_fd(p->conn), SHUT_RD);
    return NULL;
}

void acmed_proxy_handler(void *userdata, acme_endpoint_conn *conn)
{
    const char *backend = userdata;
    pump p = { conn, -1 };
    pthread_t helper;
    char buf[16384];
    acme_error *e = NULL;
    size_t n;

    if ((p.backend = connect_backend(backend)) < 0)
        return;
    if (pthread_create(&helper, NULL, backend_to_client, &p) != 0) {
        close(p.backend);
        return;
    }
    /* Client -> backend. */
    for (;;) {
        if (acme_endpoint_conn_read(&n, conn, buf, sizeof(buf), &e) < 0) {
            acme_error_free(e);
            e = NULL;
            break;
        }
        if (n == 0)
            break;
        for (size_t off = 0; off < n;) {
            ssize_t w = write(p.backend, buf + off, n - off);

            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                goto done;
            off += (size_t)w;
        }
    }
done:
    /* The client closed (a close_notify almost always means it reads no
     * more either) or failed: end both directions, so a backend that
     * ignores half-closed connections cannot hold this worker. */
    shutdown(p.backend, SHUT_RDWR);
    pthread_join(helper, NULL);
    close(p.backend);
    acme_endpoint_conn_close(conn);
}
