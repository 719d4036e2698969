/*
 * dns: a minimal stub resolver for the dns-01 responder's propagation
 * check and CNAME lookup: one question over UDP (TCP when the answer is
 * truncated) to one numeric server, and a parser of the answer section
 * for A, AAAA, NS, CNAME and TXT.  Hand-written (RFC 1035 §4) instead of
 * glibc's res_nsend so that any server and port can be asked (tests run
 * PowerDNS on a loopback port), waits are cancellable, and no resolver
 * state is shared between threads.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <acme/sys/error.h>

#include "dns/dns.h"
#include "util/i18n.h"
#include "util/util.h"

/* EDNS0 (RFC 6891) UDP payload size: the DNS Flag Day 2020 value, no fragmentation. */
#define EDNS_UDP_SIZE 1232
/* How long one poll() waits before looking at the cancel flag again. */
#define SLICE_MS 100
/* RFC 1035 §2.3.4: 255 octets on the wire. */
#define MAX_NAME 256

void acme__dns_answer_clear(acme__dns_answer *a)
{
    if (!a)
        return;
    acme_free_strv(a->rr, a->nrr);
    free(a->cname);
    memset(a, 0, sizeof(*a));
}

int acme__dns_server_parse(acme__dns_server *out, const char *s, acme_error **err)
{
    const char *host = s, *port = NULL, *end;
    size_t hlen;
    unsigned char tmp[16];

    memset(out, 0, sizeof(*out));
    out->port = 53;
    if (!s || !*s)
        return acme_error_set(err, ACME_E_INVALID, _("empty DNS server address"));
    if (*s == '[') {
        if (!(end = strchr(s, ']')))
            goto bad;
        host = s + 1;
        hlen = (size_t)(end - host);
        if (end[1] == ':')
            port = end + 2;
        else if (end[1])
            goto bad;
    } else if ((end = strchr(s, ':')) && !strchr(end + 1, ':')) {
        hlen = (size_t)(end - s);   /* IPv4 with a port */
        port = end + 1;
    } else {
        hlen = strlen(s);           /* IPv4, or IPv6 without brackets */
    }
    if (!hlen || hlen >= sizeof(out->host))
        goto bad;
    memcpy(out->host, host, hlen);
    out->host[hlen] = '\0';
    if (inet_pton(AF_INET, out->host, tmp) != 1 && inet_pton(AF_INET6, out->host, tmp) != 1)
        goto bad;
    if (port) {
        char *e;
        long v = strtol(port, &e, 10);

        if (!*port || *e || v < 1 || v > 65535)
            goto bad;
        out->port = (unsigned short)v;
    }
    return ACME_OK;
bad:
    return acme_error_set(err, ACME_E_INVALID,
                          _("bad DNS server address \"%.80s\" (want 192.0.2.1:53 or [2001:db8::1]:53)"),
                          s);
}

int acme__dns_system_server(acme__dns_server *out, const char *path, acme_error **err)
{
    FILE *f = fopen(path ? path : "/etc/resolv.conf", "r");
    char line[512];

    if (f) {
        while (fgets(line, sizeof(line), f)) {
            char addr[128];

            if (sscanf(line, " nameserver %127s", addr) == 1 &&
                acme__dns_server_parse(out, addr, NULL) == ACME_OK) {
                fclose(f);
                return ACME_OK;
            }
        }
        fclose(f);
    }
    /* resolv.conf(5): without a nameserver line, the local machine is asked. */
    return acme__dns_server_parse(out, "127.0.0.1", err);
}

/* ---- wire format ---- */

static void put16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

static unsigned get16(const unsigned char *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

size_t acme__dns_name_wire(unsigned char *out, const char *name)
{
    size_t n = 0;
    const char *p = name;

    /* Length-prefixed labels, uncompressed (RFC 1035 §3.1). */
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t l = dot ? (size_t)(dot - p) : strlen(p);

        if (l == 0 || l > 63 || n + l + 1 > MAX_NAME - 1)
            return 0;
        out[n++] = (unsigned char)l;
        memcpy(out + n, p, l);
        n += l;
        p += l + (dot ? 1 : 0);
        if (!dot)
            break;
    }
    out[n++] = 0;
    return n;
}

int acme__dns_build_query(unsigned char *buf, size_t cap, uint16_t id, const char *name, int type,
                          bool recurse)
{
    size_t n = 12, l;

    if (cap < 12 + MAX_NAME + 4 + 11)
        return -1;
    memset(buf, 0, 12);
    put16(buf, id);
    buf[2] = recurse ? 0x01 : 0x00; /* RD */
    put16(buf + 4, 1);              /* QDCOUNT */
    put16(buf + 10, 1);             /* ARCOUNT: the OPT record */
    if (!(l = acme__dns_name_wire(buf + n, name)))
        return -1;
    n += l;
    put16(buf + n, (unsigned)type);
    put16(buf + n + 2, 1); /* class IN */
    n += 4;
    /* OPT (RFC 6891 §6.1.2): root name, type 41, class = UDP size, TTL 0, no data. */
    buf[n++] = 0;
    put16(buf + n, 41);
    put16(buf + n + 2, EDNS_UDP_SIZE);
    memset(buf + n + 4, 0, 6);
    n += 10;
    return (int)n;
}

/*
 * Read a (possibly compressed, RFC 1035 §4.1.4) name at *off into @p out
 * (lower case, no trailing dot, "" for the root); advance *off past it.
 */
int acme__dns_read_name(const unsigned char *msg, size_t len, size_t *off, char *out)
{
    size_t pos = *off, o = 0;
    bool jumped = false;
    int jumps = 0;

    for (;;) {
        unsigned l;

        if (pos >= len)
            return -1;
        l = msg[pos];
        if ((l & 0xc0) == 0xc0) {
            if (pos + 1 >= len || ++jumps > 64)
                return -1;
            if (!jumped)
                *off = pos + 2;
            jumped = true;
            pos = (size_t)((l & 0x3f) << 8 | msg[pos + 1]);
            continue;
        }
        if (l & 0xc0)
            return -1;
        pos++;
        if (l == 0)
            break;
        if (pos + l > len || o + l + 2 > MAX_NAME)
            return -1;
        if (o)
            out[o++] = '.';
        for (unsigned i = 0; i < l; i++) {
            char c = (char)msg[pos + i];

            out[o++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
        }
        pos += l;
    }
    out[o] = '\0';
    if (!jumped)
        *off = pos;
    return 0;
}

static int push(acme__dns_answer *a, char *s)
{
    char **v;

    if (!s || !(v = realloc(a->rr, (a->nrr + 1) * sizeof(char *)))) {
        free(s);
        return -1;
    }
    a->rr = v;
    a->rr[a->nrr++] = s;
    return 0;
}

int acme__dns_parse_answer(acme__dns_answer *out, const unsigned char *msg, size_t len,
                           uint16_t id, const char *name, int type, acme_error **err)
{
    char owner[MAX_NAME], cur[MAX_NAME];
    unsigned qd, an;
    size_t off = 12;

    memset(out, 0, sizeof(*out));
    if (len < 12 || get16(msg) != id || !(msg[2] & 0x80))
        return acme_error_set(err, ACME_E_PROTOCOL, _("malformed DNS answer"));
    out->authoritative = (msg[2] & 0x04) != 0;
    out->rcode = msg[3] & 0x0f;
    qd = get16(msg + 4);
    an = get16(msg + 6);
    snprintf(cur, sizeof(cur), "%s", name);
    for (unsigned i = 0; i < qd; i++) {
        if (acme__dns_read_name(msg, len, &off, owner) < 0 || off + 4 > len)
            goto bad;
        /* The question must be ours (a stray answer to another query is not). */
        if (i == 0 && (strcmp(owner, name) != 0 || get16(msg + off) != (unsigned)type))
            goto bad;
        off += 4;
    }
    for (unsigned i = 0; i < an; i++) {
        unsigned rtype, rdlen;
        size_t rd;

        if (acme__dns_read_name(msg, len, &off, owner) < 0 || off + 10 > len)
            goto bad;
        rtype = get16(msg + off);
        rdlen = get16(msg + off + 8);
        rd = off + 10;
        if (rd + rdlen > len)
            goto bad;
        off = rd + rdlen;
        if (strcmp(owner, cur) != 0)
            continue;
        if (rtype == ACME__DNS_T_CNAME && type != ACME__DNS_T_CNAME) {
            /* The chain continues at the target within the same answer. */
            size_t t = rd;
            char target[MAX_NAME];

            if (acme__dns_read_name(msg, len, &t, target) < 0)
                goto bad;
            if (!out->cname && !(out->cname = acme__strdup(target)))
                goto nomem;
            snprintf(cur, sizeof(cur), "%s", target);
            continue;
        }
        if (rtype != (unsigned)type)
            continue;
        if (rtype == ACME__DNS_T_TXT) {
            acme__buf b = ACME__BUF_INIT;

            /* RFC 1035 §3.3.14: one or more <character-string>s, concatenated. */
            for (size_t p = rd; p < rd + rdlen;) {
                size_t l = msg[p];

                if (p + 1 + l > rd + rdlen || acme__buf_append(&b, msg + p + 1, l) < 0) {
                    acme__buf_clear(&b);
                    goto bad;
                }
                p += 1 + l;
            }
            if (acme__buf_append(&b, "", 0) < 0 || push(out, acme__buf_steal(&b)) < 0)
                goto nomem;
        } else if (rtype == ACME__DNS_T_NS || rtype == ACME__DNS_T_CNAME) {
            size_t t = rd;
            char target[MAX_NAME];

            if (acme__dns_read_name(msg, len, &t, target) < 0)
                goto bad;
            if (rtype == ACME__DNS_T_CNAME && !out->cname && !(out->cname = acme__strdup(target)))
                goto nomem;
            if (push(out, acme__strdup(target)) < 0)
                goto nomem;
        } else if (rtype == ACME__DNS_T_SOA) {
            /* The primary's name (MNAME): a SOA at the name marks a zone apex. */
            size_t t = rd;
            char mname[MAX_NAME];

            if (acme__dns_read_name(msg, len, &t, mname) < 0)
                goto bad;
            if (push(out, acme__strdup(mname)) < 0)
                goto nomem;
        } else if (rtype == ACME__DNS_T_A || rtype == ACME__DNS_T_AAAA) {
            char addr[INET6_ADDRSTRLEN];

            if (rdlen != (rtype == ACME__DNS_T_A ? 4u : 16u) ||
                !inet_ntop(rtype == ACME__DNS_T_A ? AF_INET : AF_INET6, msg + rd, addr,
                           sizeof(addr)))
                goto bad;
            if (push(out, acme__strdup(addr)) < 0)
                goto nomem;
        }
    }
    return ACME_OK;
bad:
    acme__dns_answer_clear(out);
    return acme_error_set(err, ACME_E_PROTOCOL, _("malformed DNS answer for %s"), name);
nomem:
    acme__dns_answer_clear(out);
    return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
}

/* ---- the exchange ---- */

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for @p events on @p fd until @p deadline (monotonic ms), watching the cancel flag. */
static int wait_fd(int fd, short events, int64_t deadline, acme_dns_env *env)
{
    for (;;) {
        struct pollfd pfd = { fd, events, 0 };
        int64_t left = deadline - now_ms();
        int r;

        if (env && acme__dns_env_cancelled(env))
            return ACME_E_CANCELLED;
        if (left <= 0)
            return ACME_E_TIMEOUT;
        r = poll(&pfd, 1, (int)(left < SLICE_MS ? left : SLICE_MS));
        if (r > 0)
            return ACME_OK;
        if (r < 0 && errno != EINTR)
            return ACME_E_NETWORK;
    }
}

static int server_addr(struct sockaddr_storage *ss, socklen_t *sl, const acme__dns_server *s)
{
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

    memset(ss, 0, sizeof(*ss));
    if (inet_pton(AF_INET, s->host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons(s->port);
        *sl = sizeof(*a4);
        return AF_INET;
    }
    if (inet_pton(AF_INET6, s->host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(s->port);
        *sl = sizeof(*a6);
        return AF_INET6;
    }
    return -1;
}

/* Read exactly @p n bytes from a stream socket before the deadline. */
static int read_full(int fd, unsigned char *buf, size_t n, int64_t deadline, acme_dns_env *env)
{
    size_t got = 0;

    while (got < n) {
        int rc = wait_fd(fd, POLLIN, deadline, env);
        ssize_t r;

        if (rc < 0)
            return rc;
        r = recv(fd, buf + got, n - got, 0);
        if (r == 0)
            return ACME_E_NETWORK;
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return ACME_E_NETWORK;
        }
        got += (size_t)r;
    }
    return ACME_OK;
}

/* One exchange over TCP (RFC 1035 §4.2.2: two-byte length prefix). */
static int exchange_tcp(unsigned char **resp, size_t *rlen, const acme__dns_server *s,
                        const unsigned char *q, size_t qlen, int64_t deadline, acme_dns_env *env)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    int family = server_addr(&ss, &sl, s), fd, rc;
    unsigned char hdr[2], *msg = NULL, *out;
    size_t n;

    if (family < 0 || (fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
        return ACME_E_NETWORK;
    if (connect(fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
        close(fd);
        return ACME_E_NETWORK;
    }
    if ((rc = wait_fd(fd, POLLOUT, deadline, env)) < 0)
        goto out;
    if (!(msg = malloc(qlen + 2))) {
        rc = ACME_E_NOMEM;
        goto out;
    }
    put16(msg, (unsigned)qlen);
    memcpy(msg + 2, q, qlen);
    if (send(fd, msg, qlen + 2, MSG_NOSIGNAL) != (ssize_t)(qlen + 2)) {
        rc = ACME_E_NETWORK;
        goto out;
    }
    if ((rc = read_full(fd, hdr, 2, deadline, env)) < 0)
        goto out;
    n = get16(hdr);
    if (!(out = malloc(n ? n : 1))) {
        rc = ACME_E_NOMEM;
        goto out;
    }
    if ((rc = read_full(fd, out, n, deadline, env)) < 0) {
        free(out);
        goto out;
    }
    *resp = out;
    *rlen = n;
out:
    free(msg);
    close(fd);
    return rc;
}

int acme__dns_query(acme__dns_answer *out, const acme__dns_server *server, const char *name,
                    int type, bool recurse, int64_t timeout_ms, acme_dns_env *env,
                    acme_error **err)
{
    unsigned char q[512], r[65536];
    struct sockaddr_storage ss;
    socklen_t sl;
    uint16_t id;
    int qlen, family, fd, rc;
    int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : ACME_DNS01_QUERY_TIMEOUT_MS);
    char what[320];

    memset(out, 0, sizeof(*out));
    snprintf(what, sizeof(what), "%s:%u", server->host, server->port);
    /* A random id (RFC 5452 §9.2): off-path spoofed answers must guess it. */
    if (getrandom(&id, sizeof(id), 0) != (ssize_t)sizeof(id))
        id = (uint16_t)(now_ms() ^ getpid());
    if ((qlen = acme__dns_build_query(q, sizeof(q), id, name, type, recurse)) < 0)
        return acme_error_set(err, ACME_E_INVALID, _("cannot ask DNS about \"%.80s\""), name);
    if ((family = server_addr(&ss, &sl, server)) < 0)
        return acme_error_set(err, ACME_E_INVALID, _("bad DNS server address %s"), what);
    if ((fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
        return acme_error_set(err, ACME_E_NETWORK, _("cannot open a socket: %s"), strerror(errno));
    /* connect(): the kernel drops datagrams from any other address or port. */
    if (connect(fd, (struct sockaddr *)&ss, sl) < 0 || send(fd, q, (size_t)qlen, 0) != qlen) {
        rc = acme_error_set(err, ACME_E_NETWORK, _("cannot send a DNS query to %s: %s"), what,
                            strerror(errno));
        close(fd);
        return rc;
    }
    for (;;) {
        ssize_t n;
        acme_error *e = NULL;

        if ((rc = wait_fd(fd, POLLIN, deadline, env)) < 0)
            break;
        n = recv(fd, r, sizeof(r), 0);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            /* ECONNREFUSED: nothing listens there. */
            rc = acme_error_set(err, ACME_E_NETWORK, _("DNS server %s: %s"), what,
                                strerror(errno));
            close(fd);
            return rc;
        }
        if (n >= 3 && (r[2] & 0x02)) {
            /* TC: the answer did not fit; ask again over TCP (RFC 7766). */
            unsigned char *big = NULL;
            size_t blen = 0;

            close(fd);
            if ((rc = exchange_tcp(&big, &blen, server, q, (size_t)qlen, deadline, env)) < 0)
                goto failed;
            rc = acme__dns_parse_answer(out, big, blen, id, name, type, err);
            free(big);
            return rc;
        }
        if (acme__dns_parse_answer(out, r, (size_t)n, id, name, type, &e) == ACME_OK) {
            close(fd);
            return ACME_OK;
        }
        /* Not an answer to this query (or garbage): keep waiting for the real one. */
        acme_error_free(e);
    }
    close(fd);
failed:
    if (rc == ACME_E_CANCELLED)
        return acme_error_set(err, rc, "%s", acme_strerror(rc));
    if (rc == ACME_E_TIMEOUT)
        return acme_error_set(err, rc, _("DNS server %s did not answer about %s"), what, name);
    if (rc == ACME_E_NOMEM)
        return acme_error_set(err, rc, "%s", acme_strerror(rc));
    return acme_error_set(err, ACME_E_NETWORK, _("DNS server %s failed to answer about %s"),
                          what, name);
}

int acme__dns_exchange(unsigned char **resp, size_t *rlen, const acme__dns_server *server,
                       const unsigned char *msg, size_t len, bool tcp, int64_t timeout_ms,
                       acme_dns_env *env, acme_error **err)
{
    unsigned char r[65536];
    struct sockaddr_storage ss;
    socklen_t sl;
    int family, fd, rc;
    int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : ACME_DNS01_QUERY_TIMEOUT_MS);
    char what[320];

    *resp = NULL;
    *rlen = 0;
    snprintf(what, sizeof(what), "%s:%u", server->host, server->port);
    if (len < 12 || len > 65535)
        return acme_error_set(err, ACME_E_INVALID, _("bad DNS message size %zu"), len);
    if ((family = server_addr(&ss, &sl, server)) < 0)
        return acme_error_set(err, ACME_E_INVALID, _("bad DNS server address %s"), what);
    if (tcp) {
        rc = exchange_tcp(resp, rlen, server, msg, len, deadline, env);
        goto done;
    }
    if ((fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
        return acme_error_set(err, ACME_E_NETWORK, _("cannot open a socket: %s"), strerror(errno));
    if (connect(fd, (struct sockaddr *)&ss, sl) < 0 || send(fd, msg, len, 0) != (ssize_t)len) {
        rc = acme_error_set(err, ACME_E_NETWORK, _("cannot send a DNS message to %s: %s"), what,
                            strerror(errno));
        close(fd);
        return rc;
    }
    for (;;) {
        ssize_t n;

        if ((rc = wait_fd(fd, POLLIN, deadline, env)) < 0)
            break;
        n = recv(fd, r, sizeof(r), 0);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            rc = acme_error_set(err, ACME_E_NETWORK, _("DNS server %s: %s"), what,
                                strerror(errno));
            close(fd);
            return rc;
        }
        /* Only a response (QR) with our id; anything else is not for us. */
        if (n < 12 || get16(r) != get16(msg) || !(r[2] & 0x80))
            continue;
        close(fd);
        if (r[2] & 0x02) {
            /* TC: the answer did not fit; ask again over TCP (RFC 7766). */
            rc = exchange_tcp(resp, rlen, server, msg, len, deadline, env);
            goto done;
        }
        if (!(*resp = malloc((size_t)n)))
            return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        memcpy(*resp, r, (size_t)n);
        *rlen = (size_t)n;
        return ACME_OK;
    }
    close(fd);
done:
    if (rc == ACME_OK)
        return ACME_OK;
    if (rc == ACME_E_CANCELLED || rc == ACME_E_NOMEM)
        return acme_error_set(err, rc, "%s", acme_strerror(rc));
    if (rc == ACME_E_TIMEOUT)
        return acme_error_set(err, rc, _("DNS server %s did not answer"), what);
    return acme_error_set(err, ACME_E_NETWORK, _("DNS server %s failed to answer"), what);
}
