/*
 * tests/bench: endpoint and http-01 listener benchmark (public API, GnuTLS
 * for the client side and the test certificates).
 *
 * Figures, printed as one key=value line for run.sh:
 *   hs_1, hs_10000   TLS handshakes per second against the endpoint with 1
 *                    and with 10,000 certificates in a directory store
 *                    (SNI names drawn at random, every name loaded once
 *                    before measuring): both endpoints run side by side
 *                    and are measured in ROUNDS alternating windows of
 *                    WINDOW_S seconds (A B, then B A), so that drift on
 *                    a shared machine hits both alike; the medians
 *   hs_ratio         the median of the rounds' hs_10000 / hs_1
 *   hs_gnutls_serv   the same client against gnutls-serv serving one
 *                    certificate (the bound on this machine)
 *   start_s          endpoint start to the first handshake served, over a
 *                    directory of 10,000 certificates
 *   kb_per_cert      RSS growth per certificate held (/proc/self/status)
 *   http01_rps       wrk against the http-01 listener
 *   slow_*           a slow-client attack on the http-01 listener: how many
 *                    stalled connections it holds, and the rate good
 *                    requests still get meanwhile
 *
 * The test certificates come from a throwaway CA made here (EC P-256, one
 * key per certificate) and are cached in the work directory.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <acme/acme.h>

#define NCERTS 10000
#define CLIENTS 2
#define MEASURE_S 3.0
#define ROUNDS 10
#define WINDOW_S 1.0

static const char *workdir = "/tmp/libacme-bench-ep";

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fail(const char *what)
{
    fprintf(stderr, "bench-endpoint: %s\n", what);
    exit(1);
}

static void check_gtls(int rc, const char *what)
{
    if (rc < 0) {
        fprintf(stderr, "bench-endpoint: %s: %s\n", what, gnutls_strerror(rc));
        exit(1);
    }
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;

    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

/* snprintf that refuses to truncate (paths come from the command line). */
#define FMT(buf, ...)                                                     \
    do {                                                                  \
        int n_ = snprintf(buf, sizeof(buf), __VA_ARGS__);                 \
        if (n_ < 0 || (size_t)n_ >= sizeof(buf))                          \
            fail("path too long");                                        \
    } while (0)

static char *name_of(unsigned int i)
{
    static char buf[64];

    snprintf(buf, sizeof(buf), "h%05u.example.com", i);
    return buf;
}

/* ---- test certificates ---- */

static void pem_append(FILE *f, gnutls_datum_t *d)
{
    fwrite(d->data, 1, d->size, f);
    gnutls_free(d->data);
    d->data = NULL;
}

/* DIR/NAME.pem for names 0..n-1 (key, certificate, CA), plus ca.pem; kept between runs. */
static void make_certs(const char *dir, unsigned int n)
{
    char path[512];
    gnutls_x509_privkey_t cakey;
    gnutls_x509_crt_t ca;
    gnutls_datum_t capem = { NULL, 0 };
    time_t now = time(NULL);
    unsigned char serial[8];

    FMT(path, "%s/%s.pem", dir, name_of(n - 1));
    if (access(path, R_OK) == 0)
        return;
    mkdir(dir, 0700);
    check_gtls(gnutls_x509_privkey_init(&cakey), "key");
    check_gtls(gnutls_x509_privkey_generate(cakey, GNUTLS_PK_ECDSA,
                                            GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
               "key");
    check_gtls(gnutls_x509_crt_init(&ca), "crt");
    gnutls_x509_crt_set_version(ca, 3);
    gnutls_x509_crt_set_key(ca, cakey);
    gnutls_x509_crt_set_dn_by_oid(ca, GNUTLS_OID_X520_COMMON_NAME, 0, "bench CA", 8);
    gnutls_x509_crt_set_activation_time(ca, now - 3600);
    gnutls_x509_crt_set_expiration_time(ca, now + 90 * 86400);
    gnutls_x509_crt_set_basic_constraints(ca, 1, -1);
    gnutls_x509_crt_set_key_usage(ca, GNUTLS_KEY_KEY_CERT_SIGN);
    memset(serial, 0, sizeof(serial));
    serial[0] = 1;
    gnutls_x509_crt_set_serial(ca, serial, sizeof(serial));
    check_gtls(gnutls_x509_crt_sign2(ca, ca, cakey, GNUTLS_DIG_SHA256, 0), "sign CA");
    check_gtls(gnutls_x509_crt_export2(ca, GNUTLS_X509_FMT_PEM, &capem), "export");
    for (unsigned int i = 0; i < n; i++) {
        gnutls_x509_privkey_t k;
        gnutls_x509_crt_t c;
        gnutls_datum_t kp, cp;
        const char *name = name_of(i);
        FILE *f;
        char tmp[512];

        check_gtls(gnutls_x509_privkey_init(&k), "key");
        check_gtls(gnutls_x509_privkey_generate(
                       k, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
                   "key");
        check_gtls(gnutls_x509_crt_init(&c), "crt");
        gnutls_x509_crt_set_version(c, 3);
        gnutls_x509_crt_set_key(c, k);
        gnutls_x509_crt_set_dn_by_oid(c, GNUTLS_OID_X520_COMMON_NAME, 0, name, strlen(name));
        gnutls_x509_crt_set_subject_alt_name(c, GNUTLS_SAN_DNSNAME, name, strlen(name),
                                             GNUTLS_FSAN_SET);
        gnutls_x509_crt_set_activation_time(c, now - 3600);
        gnutls_x509_crt_set_expiration_time(c, now + 60 * 86400);
        gnutls_x509_crt_set_key_usage(c, GNUTLS_KEY_DIGITAL_SIGNATURE);
        serial[0] = 2;
        memcpy(serial + 4, &i, 4);
        gnutls_x509_crt_set_serial(c, serial, sizeof(serial));
        check_gtls(gnutls_x509_crt_sign2(c, ca, cakey, GNUTLS_DIG_SHA256, 0), "sign");
        check_gtls(gnutls_x509_privkey_export2_pkcs8(k, GNUTLS_X509_FMT_PEM, NULL,
                                                     GNUTLS_PKCS_PLAIN, &kp),
                   "export key");
        check_gtls(gnutls_x509_crt_export2(c, GNUTLS_X509_FMT_PEM, &cp), "export");
        FMT(tmp, "%s/.%s.tmp", dir, name);
        FMT(path, "%s/%s.pem", dir, name);
        if (!(f = fopen(tmp, "w")))
            fail("cannot write a test certificate");
        pem_append(f, &kp);
        pem_append(f, &cp);
        fwrite(capem.data, 1, capem.size, f);
        if (fclose(f) != 0 || rename(tmp, path) != 0)
            fail("cannot write a test certificate");
        gnutls_x509_crt_deinit(c);
        gnutls_x509_privkey_deinit(k);
    }
    gnutls_free(capem.data);
    gnutls_x509_crt_deinit(ca);
    gnutls_x509_privkey_deinit(cakey);
}

/* ---- the TLS client ---- */

typedef struct load {
    unsigned int port;
    unsigned int nnames;   /* SNI drawn from names 0..nnames-1 */
    double until;          /* measure until this time */
    unsigned int seed;
    unsigned long done, failed;
} load;

static int tcp_connect(unsigned int port, const char *src)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    if (src) {
        memset(&a, 0, sizeof(a));
        a.sin_family = AF_INET;
        inet_pton(AF_INET, src, &a.sin_addr);
        if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
            close(fd);
            return -1;
        }
    }
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* One full handshake (new session, no resumption) for @p name; true on success. */
static bool handshake(gnutls_certificate_credentials_t cred, unsigned int port, const char *name)
{
    gnutls_session_t s;
    int fd = tcp_connect(port, NULL), rc;

    if (fd < 0)
        return false;
    gnutls_init(&s, GNUTLS_CLIENT);
    gnutls_set_default_priority(s);
    gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
    gnutls_server_name_set(s, GNUTLS_NAME_DNS, name, strlen(name));
    gnutls_transport_set_int(s, fd);
    do
        rc = gnutls_handshake(s);
    while (rc < 0 && !gnutls_error_is_fatal(rc));
    if (rc == 0)
        gnutls_bye(s, GNUTLS_SHUT_WR);
    gnutls_deinit(s);
    close(fd);
    return rc == 0;
}

static void *load_thread(void *arg)
{
    load *l = arg;
    gnutls_certificate_credentials_t cred;

    gnutls_certificate_allocate_credentials(&cred);
    while (now_s() < l->until) {
        unsigned int i = l->nnames > 1 ? (unsigned int)rand_r(&l->seed) % l->nnames : 0;

        if (handshake(cred, l->port, name_of(i)))
            l->done++;
        else
            l->failed++;
    }
    gnutls_certificate_free_credentials(cred);
    return NULL;
}

/* Handshakes per second with CLIENTS threads for @p seconds. */
static double measure(unsigned int port, unsigned int nnames, double seconds)
{
    pthread_t t[CLIENTS];
    load l[CLIENTS];
    double t0 = now_s();
    unsigned long done = 0, failed = 0;

    for (int i = 0; i < CLIENTS; i++) {
        memset(&l[i], 0, sizeof(l[i]));
        l[i].port = port;
        l[i].nnames = nnames;
        l[i].until = t0 + seconds;
        l[i].seed = (unsigned int)(i + 1) * 7919u;
        pthread_create(&t[i], NULL, load_thread, &l[i]);
    }
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(t[i], NULL);
        done += l[i].done;
        failed += l[i].failed;
    }
    if (failed > 0)
        fprintf(stderr, "bench-endpoint: %lu handshakes failed\n", failed);
    return (double)done / (now_s() - t0);
}

static int cmp_double(const void *x, const void *y)
{
    double p = *(const double *)x, q = *(const double *)y;

    return (p > q) - (p < q);
}

/* The median of @p n values (sorts them). */
static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- the endpoint ---- */

static void handler(void *ud, acme_endpoint_conn *conn)
{
    (void)ud;
    acme_endpoint_conn_close(conn);
}

typedef struct ep {
    acme_store *store;
    acme_endpoint *endpoint;
} ep;

static void ep_start(ep *e, const char *dir)
{
    acme_endpoint_options o = ACME_ENDPOINT_OPTIONS_INIT;
    acme_error *err = NULL;

    if (acme_store_dir_new(&e->store, dir, &err) < 0)
        fail(acme_error_message(err));
    o.store = e->store;
    o.handler = handler;
    if (acme_endpoint_new(&e->endpoint, &o, &err) < 0 ||
        acme_endpoint_listen(e->endpoint, "tcp:0:interface=127.0.0.1", &err) < 0)
        fail(acme_error_message(err));
}

static void ep_stop(ep *e)
{
    acme_endpoint_free(e->endpoint);
    acme_store_free(e->store);
}

/* Every name once, so that the cache holds them all. */
static void touch_all(unsigned int port, unsigned int n)
{
    gnutls_certificate_credentials_t cred;

    gnutls_certificate_allocate_credentials(&cred);
    for (unsigned int i = 0; i < n; i++)
        if (!handshake(cred, port, name_of(i)))
            fail("a handshake failed while loading every name");
    gnutls_certificate_free_credentials(cred);
}

/* ---- gnutls-serv ---- */

static double gnutls_serv_rate(const char *prog, const char *dir)
{
    char pem[512], portbuf[16];
    unsigned int port = 0;
    pid_t pid;
    double rate = 0;

    FMT(pem, "%s/%s.pem", dir, name_of(0));
    for (int attempt = 0; attempt < 20 && rate == 0; attempt++) {
        port = 20000 + (unsigned int)(now_s() * 1000) % 20000;
        FMT(portbuf, "%u", port);
        if ((pid = fork()) == 0) {
            int nul = open("/dev/null", O_WRONLY);

            dup2(nul, 1);
            dup2(nul, 2);
            execl(prog, prog, "-q", "--x509certfile", pem, "--x509keyfile", pem, "-p", portbuf,
                  (char *)NULL);
            _exit(127);
        }
        /* Wait until it accepts (it prints nothing useful when quiet). */
        for (int i = 0; i < 200; i++) {
            int fd = tcp_connect(port, NULL);

            if (fd >= 0) {
                close(fd);
                rate = measure(port, 1, MEASURE_S);
                break;
            }
            struct timespec ts = { 0, 20 * 1000 * 1000 };
            nanosleep(&ts, NULL);
        }
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
    return rate;
}

/* ---- http-01 listener ---- */

static double wrk_rate(const char *wrk, unsigned int port, const char *token, int conns)
{
    char cmd[1024], line[512];
    double rps = 0;
    FILE *p;

    snprintf(cmd, sizeof(cmd),
             "%s -t1 -c%d -d3s http://127.0.0.1:%u" ACME_HTTP01_PATH_PREFIX "%s 2>&1", wrk,
             conns, port, token);
    if (!(p = popen(cmd, "r")))
        return 0;
    while (fgets(line, sizeof(line), p))
        if (sscanf(line, "Requests/sec: %lf", &rps) == 1)
            break;
    pclose(p);
    return rps;
}

static void http01_bench(const char *wrk, double *rps, unsigned int *held, unsigned int *tried,
                         double *rps_under_attack)
{
    acme_http01 *h = NULL;
    acme_http01_server *srv = NULL;
    acme_error *err = NULL;
    const char *token = "bench_token_0123456789abcdefghijklmnopqrstu";
    int fds[256];
    unsigned int port;

    if (acme_http01_new(&h, &err) < 0 ||
        acme_http01_add(h, token, "bench_token_0123456789abcdefghijklmnopqrstu.thumbprint",
                        &err) < 0 ||
        acme_http01_listen(&srv, h, "127.0.0.1", 0, NULL, &err) < 0)
        fail(acme_error_message(err));
    port = acme_http01_server_port(srv);
    *rps = wrk_rate(wrk, port, token, 16);

    /* Slow clients from other loopback addresses: each sends a partial
     * request line and stalls. */
    *tried = 256;
    for (unsigned int i = 0; i < *tried; i++) {
        char src[32];

        FMT(src, "127.0.%u.%u", 1 + i / 16, 2 + i % 16);
        fds[i] = tcp_connect(port, src);
        if (fds[i] >= 0 && write(fds[i], "GET /.well-known/acme-chal", 26) < 0) {
            close(fds[i]);
            fds[i] = -1;
        }
    }
    *rps_under_attack = wrk_rate(wrk, port, token, 16);
    *held = 0;
    for (unsigned int i = 0; i < *tried; i++) {
        char c;

        if (fds[i] < 0)
            continue;
        ssize_t r = recv(fds[i], &c, 1, MSG_DONTWAIT);

        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            (*held)++;
        close(fds[i]);
    }
    acme_http01_server_free(srv);
    acme_http01_free(h);
}

int main(int argc, char **argv)
{
    const char *gnutls_serv = NULL, *wrk = NULL;
    char one[512], many[512], cmd[1024];
    int ch;

    while ((ch = getopt(argc, argv, "m:w:g:k:")) != -1) {
        switch (ch) {
        case 'm': break; /* "all": the only mode */
        case 'w': workdir = optarg; break;
        case 'g': gnutls_serv = optarg; break;
        case 'k': wrk = optarg; break;
        default:
            fprintf(stderr, "usage: bench-endpoint [-w WORKDIR] [-g GNUTLS_SERV] [-k WRK]\n");
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    gnutls_global_init();
    mkdir(workdir, 0700);
    FMT(many, "%s/many", workdir);
    FMT(one, "%s/one", workdir);
    make_certs(many, NCERTS);
    mkdir(one, 0700);
    FMT(cmd, "cp %s/%s.pem %s/", many, name_of(0), one);
    if (system(cmd) != 0)
        fail("cannot copy a certificate");

    /* 1 certificate. */
    ep e1, en;

    ep_start(&e1, one);
    unsigned int port1 = acme_endpoint_port(e1.endpoint);

    touch_all(port1, 1);
    long rss1 = rss_kb();

    /* 10,000 certificates: start to the first handshake served. */
    double t0 = now_s();

    ep_start(&en, many);
    unsigned int portn = acme_endpoint_port(en.endpoint);

    touch_all(portn, 1);
    double start_s = now_s() - t0;

    touch_all(portn, NCERTS);
    long rss_many = rss_kb();

    /* Alternating windows, A B then B A. */
    double a[ROUNDS], b[ROUNDS], r[ROUNDS];

    for (int i = 0; i < ROUNDS; i++) {
        if (i % 2 == 0) {
            a[i] = measure(port1, 1, WINDOW_S);
            b[i] = measure(portn, NCERTS, WINDOW_S);
        } else {
            b[i] = measure(portn, NCERTS, WINDOW_S);
            a[i] = measure(port1, 1, WINDOW_S);
        }
        r[i] = a[i] > 0 ? b[i] / a[i] : 0;
    }
    double hs1 = median(a, ROUNDS), hsn = median(b, ROUNDS), ratio = median(r, ROUNDS);

    ep_stop(&en);
    ep_stop(&e1);

    double hsg = gnutls_serv ? gnutls_serv_rate(gnutls_serv, many) : 0;
    double rps = 0, rps_attack = 0;
    unsigned int held = 0, tried = 0;

    if (wrk)
        http01_bench(wrk, &rps, &held, &tried, &rps_attack);

    printf("clients=%d hs_1=%.0f hs_10000=%.0f hs_ratio=%.3f hs_gnutls_serv=%.0f start_s=%.4f "
           "kb_per_cert=%.2f rss_1_kb=%ld rss_10000_kb=%ld http01_rps=%.0f slow_tried=%u "
           "slow_held=%u slow_ok_rps=%.0f\n",
           CLIENTS, hs1, hsn, ratio, hsg, start_s, (double)(rss_many - rss1) / (NCERTS - 1), rss1,
           rss_many, rps, tried, held, rps_attack);
    gnutls_global_deinit();
    return 0;
}
