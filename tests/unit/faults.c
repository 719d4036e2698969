/*
 * Unit tests (faults, issue 7): fault injection without a real CA.
 *
 *  - A store whose writes fail (a full disk: an injected write that stops
 *    with ENOSPC, or the real write(2) under RLIMIT_FSIZE): the issuing
 *    service keeps the old certificate whole, reports the error, retries
 *    after its backoff while the disk stays full, and renews once there is
 *    room again.  Fake CA, manual clock, directory store.
 *  - The TLS endpoint under many concurrent connections that send garbage,
 *    stall, disconnect in the middle of the handshake or right after
 *    connect, while valid clients keep being served; descriptors are
 *    counted before and after.
 *  - A misbehaving HTTP server against the client (faults-http.c).
 *
 * SIGPIPE is left at its default on purpose: a library write to a peer
 * that went away must not kill the process.
 */
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <gnutls/gnutls.h>

#include <acme/acme.h>
#include <acme/testing.h>

#include "faults.h"
#include "service/service-internal.h"
#include "store-certs.h"
#include "stores/store.h"

#define T0_MS INT64_C(1767225600000) /* 2026-01-01T00:00:00Z */
#define DAY_MS (86400 * INT64_C(1000))

/* ------------------------------------------------------------------ */
/* A full disk under the issuing service                                */
/* ------------------------------------------------------------------ */

/*
 * The injected write(2): while the disk is "full", a write goes through
 * until the few bytes of room are used up, then fails with ENOSPC, as a
 * nearly full file system does (a short write first, then the error).
 */
static gint disk_full;
static gint disk_room;

static ssize_t full_disk_write(int fd, const void *buf, size_t len)
{
    int room;

    if (!g_atomic_int_get(&disk_full))
        return write(fd, buf, len);
    room = g_atomic_int_get(&disk_room);
    if (room <= 0) {
        errno = ENOSPC;
        return -1;
    }
    if (len > (size_t)room)
        len = (size_t)room;
    g_atomic_int_add(&disk_room, -(int)len);
    return write(fd, buf, len);
}

typedef struct FullFx {
    char *dir;
    acme_clock *clock;
    acme_fake_ca *ca, *seed;
    acme_store *store;
    acme_responder *resp;
    acme_service *svc;
    pthread_mutex_t mu;
    unsigned int failed, renewed;       /* guarded by mu */
    int last_code;                      /* guarded by mu */
    char *last_msg;                     /* guarded by mu */
} FullFx;

static int full_factory(void *ud, acme_issuer **out, acme_error **err)
{
    FullFx *fx = ud;

    return acme_fake_ca_issuer(out, fx->ca, err);
}

static void full_event(void *ud, const acme_service_event *ev)
{
    FullFx *fx = ud;

    pthread_mutex_lock(&fx->mu);
    if (ev->kind == ACME_EVENT_FAILED) {
        fx->failed++;
        fx->last_code = acme_error_code_get(ev->error);
        g_free(fx->last_msg);
        fx->last_msg = g_strdup(acme_error_message(ev->error));
    } else if (ev->kind == ACME_EVENT_RENEWED) {
        fx->renewed++;
    }
    pthread_mutex_unlock(&fx->mu);
}

static char *read_text(const char *dir, const char *file)
{
    char *p = g_build_filename(dir, file, NULL), *t = NULL;

    g_assert_true(g_file_get_contents(p, &t, NULL, NULL));
    g_free(p);
    return t;
}

static unsigned int count_entries(const char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    unsigned int n = 0;

    g_assert_nonnull(d);
    while (g_dir_read_name(d))
        n++;
    g_dir_close(d);
    return n;
}

static char *stored_issuer(FullFx *fx, const char *name)
{
    acme_bundle *b = NULL;
    char *cn;

    g_assert_cmpint(acme_store_get(&b, fx->store, name, NULL), ==, ACME_OK);
    g_assert_nonnull(acme_bundle_cert(b));
    g_assert_cmpint(acme_cert_check_key(acme_bundle_cert(b), acme_bundle_key(b), NULL), ==,
                    ACME_OK);
    cn = g_strdup(acme_cert_issuer_cn(acme_bundle_cert(b)));
    acme_bundle_free(b);
    return cn;
}

#define FULL_NAME "full.example"

/* The failure state after an attempt on a full disk. */
static void assert_failed_kept(FullFx *fx, unsigned int attempts, const char *before,
                               const char *why)
{
    acme_service_status *st = NULL;
    const acme_error *le;
    char *now = read_text(fx->dir, FULL_NAME ".pem"), *cn;

    g_assert_cmpuint(acme_fake_ca_issued_count(fx->ca), ==, attempts);
    pthread_mutex_lock(&fx->mu);
    g_assert_cmpuint(fx->failed, ==, attempts);
    g_assert_cmpuint(fx->renewed, ==, 0);
    g_assert_cmpint(fx->last_code, ==, ACME_E_IO);
    /* Reported: what failed, where, and why. */
    if (!strstr(fx->last_msg, why) || !strstr(fx->last_msg, fx->dir) ||
        !strstr(fx->last_msg, FULL_NAME ".pem"))
        g_error("unclear error: %s", fx->last_msg);
    pthread_mutex_unlock(&fx->mu);
    /* The old certificate, byte for byte, and no temporary file. */
    g_assert_cmpstr(now, ==, before);
    g_assert_cmpuint(count_entries(fx->dir), ==, 1);
    cn = stored_issuer(fx, FULL_NAME);
    g_assert_cmpstr(cn, ==, "seed CA");
    g_free(cn);
    /* The service remembers it and plans a retry. */
    g_assert_cmpint(acme_service_status_get(&st, fx->svc, NULL), ==, ACME_OK);
    g_assert_cmpuint(acme_service_status_count(st), ==, 1);
    g_assert_cmpuint(acme_service_status_failures(st, 0), ==, attempts);
    le = acme_service_status_last_error(st, 0);
    g_assert_nonnull(le);
    g_assert_cmpint(acme_error_code_get(le), ==, ACME_E_IO);
    g_assert_cmpint(acme_service_status_next_check(st, 0), >, acme_clock_now(fx->clock));
    g_assert_false(acme_service_status_blocked(st, 0));
    acme_service_status_free(st);
    g_free(now);
}

/*
 * @p data "inject": the store's write function fails; "rlimit": the real
 * write(2) fails under a file size limit (in a subprocess: the limit is
 * per process).
 */
static void test_full_disk(gconstpointer data)
{
    bool rlimit = strcmp(data, "rlimit") == 0;
    acme_fake_ca_options co = ACME_FAKE_CA_OPTIONS_INIT;
    acme_service_options o = ACME_SERVICE_OPTIONS_INIT;
    acme_issue_options io = ACME_ISSUE_OPTIONS_INIT;
    const char *name = FULL_NAME;
    FullFx fx;
    acme_issuer *iss = NULL;
    acme_key *k = NULL;
    acme_bundle *b = NULL;
    char *kp = NULL, *cp = NULL, *before, *after, *cn;
    struct rlimit saved;
    const char *why = rlimit ? "File too large" : "No space left";

    if (rlimit && !g_test_subprocess()) {
        g_test_trap_subprocess(NULL, 0, 0);
        g_test_trap_assert_passed();
        return;
    }
    memset(&fx, 0, sizeof(fx));
    pthread_mutex_init(&fx.mu, NULL);
    fx.dir = g_dir_make_tmp("libacme-faults-XXXXXX", NULL);
    g_assert_nonnull(fx.dir);
    g_assert_cmpint(acme_clock_manual_new(&fx.clock, T0_MS - 70 * DAY_MS, NULL), ==, ACME_OK);
    co.clock = fx.clock;
    g_assert_cmpint(acme_fake_ca_new(&fx.ca, &co, NULL), ==, ACME_OK);
    co.name = "seed CA";
    g_assert_cmpint(acme_fake_ca_new(&fx.seed, &co, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_store_dir_new(&fx.store, fx.dir, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_responder_null_new(&fx.resp, "http-01", NULL), ==, ACME_OK);

    /* A 90-day certificate issued 70 days ago: due for renewal, not yet urgent. */
    g_assert_cmpint(acme_fake_ca_issuer(&iss, fx.seed, NULL), ==, ACME_OK);
    io.names = &name;
    io.nnames = 1;
    g_assert_cmpint(acme_issuer_issue(iss, &kp, &cp, &io, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_key_load_pem(&k, kp, strlen(kp), NULL), ==, ACME_OK);
    g_assert_cmpint(acme_bundle_new(&b, k, cp, strlen(cp), NULL), ==, ACME_OK);
    g_assert_cmpint(acme_store_put(fx.store, name, b, NULL), ==, ACME_OK);
    acme_bundle_free(b);
    acme_key_free(k);
    acme_free(kp);
    acme_free(cp);
    acme_issuer_free(iss);
    g_assert_cmpint(acme_clock_manual_set(fx.clock, T0_MS), ==, ACME_OK);
    before = read_text(fx.dir, FULL_NAME ".pem");
    g_assert_cmpuint(strlen(before), >, 1024);

    /* The disk fills up. */
    if (rlimit) {
        struct rlimit rl;

        g_assert_cmpint(getrlimit(RLIMIT_FSIZE, &saved), ==, 0);
        rl = saved;
        rl.rlim_cur = 512;
        /* Past the limit write(2) fails with EFBIG instead of raising SIGXFSZ. */
        signal(SIGXFSZ, SIG_IGN);
        g_assert_cmpint(setrlimit(RLIMIT_FSIZE, &rl), ==, 0);
    } else {
        g_atomic_int_set(&disk_room, 700);
        g_atomic_int_set(&disk_full, 1);
        g_assert_cmpint(acme__store_dir_set_write_fn(fx.store, full_disk_write), ==, ACME_OK);
    }

    o.store = fx.store;
    o.issuer_factory = full_factory;
    o.issuer_factory_userdata = &fx;
    o.clock = fx.clock;
    o.responders = &fx.resp;
    o.nresponders = 1;
    o.on_event = full_event;
    o.event_userdata = &fx;
    o.workers = 2;
    g_assert_cmpint(acme_service_new(&fx.svc, &o, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_service_start(fx.svc, NULL), ==, ACME_OK);
    acme__service_wait_idle(fx.svc);
    /* The CA issued; storing failed; the old certificate stays. */
    assert_failed_kept(&fx, 1, before, why);

    /* Still full at the retry: the same again, and the retries go on. */
    g_assert_cmpint(acme_clock_manual_advance(fx.clock, ACME_SERVICE_RETRY_MAX * INT64_C(1000)),
                    ==, ACME_OK);
    acme__service_wait_idle(fx.svc);
    assert_failed_kept(&fx, 2, before, why);

    /* Room again: the next retry stores the new certificate. */
    if (rlimit)
        g_assert_cmpint(setrlimit(RLIMIT_FSIZE, &saved), ==, 0);
    else
        g_atomic_int_set(&disk_full, 0);
    g_assert_cmpint(acme_clock_manual_advance(fx.clock, ACME_SERVICE_RETRY_MAX * INT64_C(1000)),
                    ==, ACME_OK);
    acme__service_wait_idle(fx.svc);
    g_assert_cmpuint(acme_fake_ca_issued_count(fx.ca), ==, 3);
    pthread_mutex_lock(&fx.mu);
    g_assert_cmpuint(fx.renewed, ==, 1);
    g_assert_cmpuint(fx.failed, ==, 2);
    pthread_mutex_unlock(&fx.mu);
    after = read_text(fx.dir, FULL_NAME ".pem");
    g_assert_cmpstr(after, !=, before);
    g_assert_cmpuint(count_entries(fx.dir), ==, 1);
    cn = stored_issuer(&fx, FULL_NAME);
    g_assert_cmpstr(cn, ==, "libacme fake CA");
    g_free(cn);
    {
        acme_service_status *st = NULL;

        g_assert_cmpint(acme_service_status_get(&st, fx.svc, NULL), ==, ACME_OK);
        g_assert_cmpuint(acme_service_status_failures(st, 0), ==, 0);
        g_assert_null(acme_service_status_last_error(st, 0));
        acme_service_status_free(st);
    }

    acme_service_free(fx.svc);
    acme_responder_free(fx.resp);
    acme_store_free(fx.store);
    acme_fake_ca_free(fx.ca);
    acme_fake_ca_free(fx.seed);
    acme_clock_free(fx.clock);
    {
        char *p = g_build_filename(fx.dir, FULL_NAME ".pem", NULL);

        g_unlink(p);
        g_free(p);
    }
    g_rmdir(fx.dir);
    g_free(fx.dir);
    g_free(fx.last_msg);
    g_free(before);
    g_free(after);
    pthread_mutex_destroy(&fx.mu);
}

/* ------------------------------------------------------------------ */
/* The endpoint under a crowd of bad clients                            */
/* ------------------------------------------------------------------ */

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    g_assert_nonnull(d);
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory stream's own */
}

static int tcp_connect(unsigned int port)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    /* A safety net only: a broken endpoint fails the test rather than hanging it. */
    struct timeval tv = { .tv_sec = 30 };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_assert_cmpint(fd, >=, 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    g_assert_cmpint(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    g_assert_cmpint(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), ==, 0);
    g_assert_cmpint(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), ==, 0);
    return fd;
}

/* Close with a reset instead of a FIN (a client that vanishes). */
static void close_rst(int fd)
{
    struct linger l = { .l_onoff = 1, .l_linger = 0 };

    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    close(fd);
}

/* Read until the server closes; true when it did (rather than the safety timeout). */
static bool wait_closed(int fd)
{
    char buf[1024];

    for (;;) {
        ssize_t n = recv(fd, buf, sizeof(buf), 0);

        if (n == 0 || (n < 0 && (errno == ECONNRESET || errno == EPIPE)))
            return true;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return false;
    }
}

/* The application: echo one message after "echo:". */
static void echo_handler(void *userdata, acme_endpoint_conn *conn)
{
    char buf[64];
    size_t n = 0;

    (void)userdata;
    if (acme_endpoint_conn_read(&n, conn, buf, sizeof(buf), NULL) == ACME_OK && n > 0 &&
        acme_endpoint_conn_write(conn, "echo:", 5, NULL) == ACME_OK)
        acme_endpoint_conn_write(conn, buf, n, NULL);
}

/* A valid client: handshake with SNI, "ping", the echo until the end. */
static bool good_client(unsigned int port, const char *sni)
{
    gnutls_certificate_credentials_t creds;
    gnutls_session_t s;
    GString *reply = g_string_new(NULL);
    int fd = tcp_connect(port), ret;
    bool ok = false;

    g_assert_cmpint(gnutls_certificate_allocate_credentials(&creds), ==, 0);
    g_assert_cmpint(gnutls_init(&s, GNUTLS_CLIENT), ==, 0);
    g_assert_cmpint(gnutls_set_default_priority(s), ==, 0);
    g_assert_cmpint(gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, creds), ==, 0);
    g_assert_cmpint(gnutls_server_name_set(s, GNUTLS_NAME_DNS, sni, strlen(sni)), ==, 0);
    gnutls_transport_set_int(s, fd);
    gnutls_handshake_set_timeout(s, 30000);
    do
        ret = gnutls_handshake(s);
    while (ret < 0 && !gnutls_error_is_fatal(ret));
    if (ret == 0) {
        char buf[128];
        ssize_t got;

        do
            got = gnutls_record_send(s, "ping", 4);
        while (got == GNUTLS_E_AGAIN || got == GNUTLS_E_INTERRUPTED);
        for (;;) {
            got = gnutls_record_recv(s, buf, sizeof(buf));
            if (got == GNUTLS_E_AGAIN || got == GNUTLS_E_INTERRUPTED)
                continue;
            if (got <= 0)
                break;
            g_string_append_len(reply, buf, got);
        }
        ok = strcmp(reply->str, "echo:ping") == 0;
    }
    if (!ok)
        g_test_message("valid client for %s: handshake %s, reply \"%s\"", sni,
                       gnutls_strerror(ret), reply->str);
    gnutls_deinit(s);
    gnutls_certificate_free_credentials(creds);
    close(fd);
    g_string_free(reply, TRUE);
    return ok;
}

/*
 * Half a handshake: send a real ClientHello (GnuTLS over a non-blocking
 * socket stops with E_AGAIN once it waits for the answer); @p read_some:
 * wait for the first bytes of the server's answer; then vanish, with a
 * reset or a FIN.
 */
static void half_handshake(unsigned int port, bool read_some, bool rst)
{
    gnutls_certificate_credentials_t creds;
    gnutls_session_t s;
    int fd = tcp_connect(port), ret;

    g_assert_cmpint(gnutls_certificate_allocate_credentials(&creds), ==, 0);
    g_assert_cmpint(gnutls_init(&s, GNUTLS_CLIENT | GNUTLS_NONBLOCK), ==, 0);
    g_assert_cmpint(gnutls_set_default_priority(s), ==, 0);
    g_assert_cmpint(gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, creds), ==, 0);
    g_assert_cmpint(gnutls_server_name_set(s, GNUTLS_NAME_DNS, "a.example", 9), ==, 0);
    g_assert_cmpint(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), ==, 0);
    gnutls_transport_set_int(s, fd);
    ret = gnutls_handshake(s);
    /*
     * Done already when the server answered before this call looked for
     * its answer (TLS 1.3 needs one round trip): then the answer has been
     * read, and there is nothing more to wait for.
     */
    if (ret != 0)
        g_assert_cmpint(ret, ==, GNUTLS_E_AGAIN);
    if (read_some && ret != 0) {
        struct pollfd p = { .fd = fd, .events = POLLIN };

        /* The server answers a good ClientHello (bounded: a safety net). */
        g_assert_cmpint(poll(&p, 1, 30000), ==, 1);
    }
    gnutls_deinit(s);
    gnutls_certificate_free_credentials(creds);
    if (rst)
        close_rst(fd);
    else
        close(fd);
}

typedef enum crowd_kind {
    CROWD_GOOD,        /* valid clients: every one must be served */
    CROWD_GARBAGE,     /* random bytes instead of a ClientHello */
    CROWD_STALL,       /* nothing, or half a record, until the server gives up */
    CROWD_HALF,        /* a ClientHello, then gone */
    CROWD_CONNECT      /* connect and vanish at once */
} crowd_kind;

typedef struct crowd {
    crowd_kind kind;
    unsigned int port;
    int rounds;
    guint32 seed;
    int served;        /* CROWD_GOOD: handshakes and echoes that worked */
    int closed;        /* the server closed on us (garbage, stalls) */
} crowd;

static void *crowd_main(void *p)
{
    crowd *c = p;
    GRand *rnd = g_rand_new_with_seed(c->seed);

    for (int i = 0; i < c->rounds; i++) {
        switch (c->kind) {
        case CROWD_GOOD:
            if (good_client(c->port, i % 2 ? "a.example" : "b.example"))
                c->served++;
            break;
        case CROWD_GARBAGE: {
            guint8 junk[4096];
            /*
             * Whole junk, so that the server can refuse it at once: at
             * least a record header, and for TLS-looking junk the whole
             * 512-byte record it announces (a shorter one is a stall).
             */
            size_t len = (size_t)g_rand_int_range(rnd, i % 2 ? 5 + 512 : 5, sizeof(junk));
            int fd = tcp_connect(c->port);

            for (size_t j = 0; j < len; j++)
                junk[j] = (guint8)g_rand_int_range(rnd, 0, 256);
            if (i % 2)
                /*
                 * A handshake record holding a ClientHello of noise whose
                 * length fits the record exactly (one that claims more
                 * would make the server wait: a stall, not garbage).
                 */
                memcpy(junk, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc", 9);
            else
                /* Not a TLS content type at all (plain text, say). */
                junk[0] = (guint8)g_rand_int_range(rnd, 'A', 'Z' + 1);
            if (send(fd, junk, len, MSG_NOSIGNAL) < 0)
                g_assert_true(errno == ECONNRESET || errno == EPIPE);
            if (wait_closed(fd))
                c->closed++;
            close(fd);
            break;
        }
        case CROWD_STALL: {
            static const unsigned char partial[] = { 0x16, 0x03, 0x01, 0x40, 0x00, 0x01 };
            int fd = tcp_connect(c->port);

            if (i % 2)
                g_assert_cmpint(send(fd, partial, sizeof(partial), MSG_NOSIGNAL), ==,
                                sizeof(partial));
            if (wait_closed(fd))
                c->closed++;
            close(fd);
            break;
        }
        case CROWD_HALF:
            half_handshake(c->port, i % 3 != 0, i % 2 == 0);
            break;
        case CROWD_CONNECT: {
            int fd = tcp_connect(c->port);

            if (i % 2)
                close_rst(fd);
            else
                close(fd);
            break;
        }
        }
    }
    g_rand_free(rnd);
    return NULL;
}

static void test_endpoint_crowd(void)
{
    static const char *const sans_a[] = { "a.example", NULL };
    static const char *const sans_b[] = { "b.example", NULL };
    static const struct {
        crowd_kind kind;
        int threads, rounds;
    } plan[] = {
        { CROWD_GOOD, 4, 15 },  { CROWD_GARBAGE, 8, 25 }, { CROWD_STALL, 4, 3 },
        { CROWD_HALF, 6, 20 },  { CROWD_CONNECT, 2, 60 },
    };
    enum { MAXT = 32 };
    acme_endpoint_options o = ACME_ENDPOINT_OPTIONS_INIT;
    acme_endpoint *ep = NULL;
    acme_store *store = NULL;
    acme_error *err = NULL;
    pthread_t t[MAXT];
    crowd c[MAXT];
    int nt = 0, before, during, settled = -1;
    unsigned int port;

    before = count_fds();
    g_assert_cmpint(acme_store_memory_new(&store, NULL), ==, ACME_OK);
    for (int i = 0; i < 2; i++) {
        tchain ch;
        acme_bundle *b = NULL;
        char *pem;

        tchain_make(&ch, TKEY_EC, i ? sans_b : sans_a);
        pem = g_strconcat(ch.leaf.key_pem, ch.leaf.cert_pem, ch.ca.cert_pem, NULL);
        g_assert_cmpint(acme_bundle_from_pem(&b, pem, strlen(pem), NULL), ==, ACME_OK);
        g_assert_cmpint(acme_store_put(store, i ? "b.example" : "a.example", b, NULL), ==,
                        ACME_OK);
        acme_bundle_free(b);
        g_free(pem);
        tchain_clear(&ch);
    }
    o.store = store;
    o.handler = echo_handler;
    o.workers = 8;
    o.max_connections = 32;
    /*
     * Stalled clients wait for their ClientHello in the accept thread and
     * are closed 1.5 s after accept; the half handshakes (a ClientHello,
     * then gone) do reach workers, for at most that long each.
     */
    o.handshake_timeout_ms = 1500;
    g_assert_cmpint(acme_endpoint_new(&ep, &o, NULL), ==, ACME_OK);
    if (acme_endpoint_listen(ep, "tcp:0:interface=127.0.0.1:backlog=512", &err) < 0)
        g_error("listen: %s", acme_error_message(err));
    port = acme_endpoint_port(ep);
    during = count_fds();

    /* Everyone at once. */
    for (size_t k = 0; k < G_N_ELEMENTS(plan); k++)
        for (int i = 0; i < plan[k].threads; i++, nt++) {
            g_assert_cmpint(nt, <, MAXT);
            c[nt] = (crowd){ .kind = plan[k].kind, .port = port, .rounds = plan[k].rounds,
                             .seed = g_test_rand_int() };
            g_assert_cmpint(pthread_create(&t[nt], NULL, crowd_main, &c[nt]), ==, 0);
        }
    for (int i = 0; i < nt; i++) {
        pthread_join(t[i], NULL);
        /* Every valid client was served, in the middle of it all. */
        if (c[i].kind == CROWD_GOOD)
            g_assert_cmpint(c[i].served, ==, c[i].rounds);
        /* Every garbage and stalled client was shown the door. */
        if (c[i].kind == CROWD_GARBAGE || c[i].kind == CROWD_STALL)
            g_assert_cmpint(c[i].closed, ==, c[i].rounds);
    }

    /*
     * No descriptor leaks while it runs: the server lets go of every
     * connection (those that vanished are noticed at their next read or
     * at the handshake deadline).  Bounded wait for that, not a timing.
     */
    for (int i = 0; i < 3000 && (settled = count_fds()) != during; i++)
        g_usleep(10 * 1000);
    g_assert_cmpint(settled, ==, during);
    /* Still serving. */
    g_assert_true(good_client(port, "a.example"));

    acme_endpoint_free(ep);
    acme_store_free(store);
    g_assert_cmpint(count_fds(), ==, before);
}

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    g_assert_cmpint(acme_global_init(), ==, ACME_OK);
    g_test_add_data_func("/faults/store/full-disk/injected", "inject", test_full_disk);
    g_test_add_data_func("/faults/store/full-disk/rlimit-fsize", "rlimit", test_full_disk);
    g_test_add_func("/faults/endpoint/crowd", test_endpoint_crowd);
    faults_http_add_tests();
    rc = g_test_run();
    acme_global_cleanup();
    return rc;
}
