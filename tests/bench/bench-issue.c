/*
 * tests/bench: issuance benchmark (public API only, linked with libacme).
 *
 * Measures libacme obtaining certificates from an ACME server that
 * tests/bench/run.sh started (Pebble), answering http-01 with libacme's own
 * standalone listener on Pebble's httpPort.  Modes:
 *
 *   single   one client, one account, N single-name certificates in a row
 *            (also the cold start: N = 1 in a new process, new account)
 *   service  the issuing service with W workers filling an empty memory
 *            store of N issue requests; the issuer factory either hands out
 *            clients from a pool (the default: what a long-running
 *            application does) or makes a new client per attempt (-F, the
 *            plain acme_issuer_client_new() factory)
 *
 * Prints one line of key=value figures for run.sh: wall time, process CPU
 * (getrusage), HTTP requests counted by the clients themselves
 * (acme_client_stats()), badNonce retries and peak RSS.
 */
#include "config.h"

#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <acme/acme.h>
#include <acme/sys/error.h>
#include <acme/sys/issuer.h>

typedef struct opts {
    const char *mode;
    const char *dir_url;
    const char *ca_file;
    const char *prefix;
    unsigned int http_port;
    unsigned int n;
    unsigned int workers;
    bool fresh_clients;
    bool verbose;
} opts;

/* Request counters over every client, and the pool of idle clients. */
typedef struct bench {
    const opts *o;
    acme_key *account_key;
    pthread_mutex_t mu;
    uint64_t requests, badnonce; /* guarded by mu: clients already done */
    acme_client **pool;          /* guarded by mu: idle registered clients */
    size_t npool, cap;
    unsigned int clients_made;   /* guarded by mu */
    unsigned int failed;         /* guarded by mu */
} bench;

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(long *maxrss_kb)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    if (maxrss_kb)
        *maxrss_kb = ru.ru_maxrss;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void die(const char *what, acme_error *e)
{
    fprintf(stderr, "bench-issue: %s: %s\n", what, e ? acme_error_message(e) : "failed");
    acme_error_free(e);
    exit(1);
}

static acme_client *client_make(bench *b)
{
    acme_client_options co = ACME_CLIENT_OPTIONS_INIT;
    acme_client *c = NULL;
    acme_error *e = NULL;

    co.directory_url = b->o->dir_url;
    co.account_key = b->account_key;
    co.ca_file = b->o->ca_file;
    co.user_agent = "libacme-bench";
    if (b->o->verbose) {
        co.log = acme_log_stderr;
        co.log_level = ACME_LOG_DEBUG;
    }
    if (acme_client_new(&c, &co, &e) < 0)
        die("acme_client_new", e);
    pthread_mutex_lock(&b->mu);
    b->clients_made++;
    pthread_mutex_unlock(&b->mu);
    return c;
}

/* Fold a client's counters into the totals (before it is freed or pooled again). */
static void client_account_stats(bench *b, acme_client *c, uint64_t *seen_req, uint64_t *seen_bn)
{
    uint64_t r = 0, bn = 0;

    acme_client_stats(c, &r, &bn);
    pthread_mutex_lock(&b->mu);
    b->requests += r - *seen_req;
    b->badnonce += bn - *seen_bn;
    pthread_mutex_unlock(&b->mu);
    *seen_req = r;
    *seen_bn = bn;
}

/* ---- the pooled issuer: a registered client reused across attempts ---- */

typedef struct pooled {
    bench *b;
    acme_client *client;
    uint64_t seen_req, seen_bn;
} pooled;

static int pooled_account(void *self, const char *contact_email, acme_error **err)
{
    pooled *p = self;
    acme_account_options ao = ACME_ACCOUNT_OPTIONS_INIT;

    (void)contact_email;
    /* A pooled client registered once already: its kid is known. */
    if (acme_client_account_url(p->client))
        return ACME_OK;
    ao.terms_agreed = true;
    return acme_client_account_register(p->client, &ao, NULL, err);
}

static int pooled_issue(void *self, char **key_pem, char **chain_pem,
                        const acme_issue_options *io, acme_error **err)
{
    pooled *p = self;

    return acme_client_issue(key_pem, chain_pem, p->client, io, err);
}

static void pooled_cancel(void *self)
{
    acme_client_cancel(((pooled *)self)->client);
}

static void pooled_destroy(void *self)
{
    pooled *p = self;
    bench *b = p->b;

    /* Counters are cumulative per client: add what this attempt made. */
    client_account_stats(b, p->client, &p->seen_req, &p->seen_bn);
    pthread_mutex_lock(&b->mu);
    if (b->npool == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        acme_client **v = realloc(b->pool, cap * sizeof(*v));

        if (!v) {
            pthread_mutex_unlock(&b->mu);
            fprintf(stderr, "bench-issue: out of memory\n");
            exit(1);
        }
        b->pool = v;
        b->cap = cap;
    }
    b->pool[b->npool++] = p->client;
    pthread_mutex_unlock(&b->mu);
    free(p);
}

static const acme_issuer_ops pooled_ops = {
    .version = ACME_ISSUER_OPS_VERSION,
    .name = "bench-pool",
    .flags = 0,
    .account = pooled_account,
    .issue = pooled_issue,
    .renewal_info = NULL,
    .cancel = pooled_cancel,
    .destroy = pooled_destroy,
};

/* ---- the counting wrapper around acme_issuer_client_new() (-F) ---- */

typedef struct fresh {
    bench *b;
    acme_client *client; /* borrowed: owned by inner */
    acme_issuer *inner;
} fresh;

static int fresh_account(void *self, const char *email, acme_error **err)
{
    return acme_issuer_account(((fresh *)self)->inner, email, err);
}

static int fresh_issue(void *self, char **key_pem, char **chain_pem,
                       const acme_issue_options *io, acme_error **err)
{
    return acme_issuer_issue(((fresh *)self)->inner, key_pem, chain_pem, io, err);
}

static void fresh_cancel(void *self)
{
    acme_issuer_cancel(((fresh *)self)->inner);
}

static void fresh_destroy(void *self)
{
    fresh *f = self;
    uint64_t r = 0, bn = 0;

    client_account_stats(f->b, f->client, &r, &bn);
    acme_issuer_free(f->inner);
    free(f);
}

static const acme_issuer_ops fresh_ops = {
    .version = ACME_ISSUER_OPS_VERSION,
    .name = "bench-fresh",
    .flags = 0,
    .account = fresh_account,
    .issue = fresh_issue,
    .renewal_info = NULL,
    .cancel = fresh_cancel,
    .destroy = fresh_destroy,
};

static int factory(void *ud, acme_issuer **out, acme_error **err)
{
    bench *b = ud;
    acme_client *c = NULL;

    if (b->o->fresh_clients) {
        fresh *f = calloc(1, sizeof(*f));
        int rc;

        if (!f)
            return acme_error_set(err, ACME_E_NOMEM, "out of memory");
        f->b = b;
        f->client = c = client_make(b);
        if ((rc = acme_issuer_client_new(&f->inner, c, err)) < 0) {
            free(f);
            return rc;
        }
        return acme_issuer_new(out, &fresh_ops, f, err);
    }
    pthread_mutex_lock(&b->mu);
    if (b->npool > 0)
        c = b->pool[--b->npool];
    pthread_mutex_unlock(&b->mu);
    if (!c)
        c = client_make(b);
    pooled *p = calloc(1, sizeof(*p));

    if (!p) {
        acme_client_free(c);
        return acme_error_set(err, ACME_E_NOMEM, "out of memory");
    }
    p->b = b;
    p->client = c;
    /* Pooled clients keep counting: this attempt starts from their count. */
    acme_client_stats(c, &p->seen_req, &p->seen_bn);
    return acme_issuer_new(out, &pooled_ops, p, err);
}

static void on_event(void *ud, const acme_service_event *ev)
{
    bench *b = ud;

    if (ev->kind != ACME_EVENT_FAILED)
        return;
    pthread_mutex_lock(&b->mu);
    b->failed++;
    pthread_mutex_unlock(&b->mu);
    fprintf(stderr, "bench-issue: %s failed: %s\n", ev->name, acme_error_message(ev->error));
}

static char *name_of(const opts *o, unsigned int i)
{
    char *s = NULL;

    if (asprintf(&s, "%s-%u.example.com", o->prefix, i) < 0) {
        fprintf(stderr, "bench-issue: out of memory\n");
        exit(1);
    }
    return s;
}

/* N certificates in a row with one client; the first one registers the account. */
static void run_single(bench *b, acme_responder *resp)
{
    const opts *o = b->o;
    acme_client *c = client_make(b);
    acme_account_options ao = ACME_ACCOUNT_OPTIONS_INIT;
    acme_error *e = NULL;
    uint64_t req_first = 0, req = 0, bn = 0;
    double t0 = now_s(), c0 = cpu_s(NULL), t_first = 0;
    long rss = 0;

    ao.terms_agreed = true;
    if (acme_client_account_register(c, &ao, NULL, &e) < 0)
        die("newAccount", e);
    for (unsigned int i = 0; i < o->n; i++) {
        acme_issue_options io = ACME_ISSUE_OPTIONS_INIT;
        acme_responder *rs[1] = { resp };
        char *name = name_of(o, i), *key = NULL, *chain = NULL;
        const char *names[1] = { name };

        io.names = names;
        io.nnames = 1;
        io.responders = rs;
        io.nresponders = 1;
        if (acme_client_issue(&key, &chain, c, &io, &e) < 0)
            die(name, e);
        acme_free(key);
        acme_free(chain);
        free(name);
        if (i == 0) {
            acme_client_stats(c, &req_first, NULL);
            t_first = now_s() - t0;
        }
    }
    double wall = now_s() - t0, cpu = cpu_s(&rss) - c0;

    acme_client_stats(c, &req, &bn);
    printf("mode=single n=%u ok=%u wall_s=%.3f cpu_s=%.3f first_s=%.3f requests=%llu "
           "requests_first=%llu requests_per_cert_after_first=%.2f badnonce=%llu "
           "maxrss_kb=%ld certs_per_s=%.2f cpu_ms_per_cert=%.2f\n",
           o->n, o->n, wall, cpu, t_first, (unsigned long long)req,
           (unsigned long long)req_first,
           o->n > 1 ? (double)(req - req_first) / (o->n - 1) : 0.0, (unsigned long long)bn,
           rss, o->n / wall, cpu * 1000.0 / o->n);
    acme_client_free(c);
}

static void run_service(bench *b, acme_responder *resp)
{
    const opts *o = b->o;
    acme_service_options so = ACME_SERVICE_OPTIONS_INIT;
    acme_service *svc = NULL;
    acme_store *store = NULL;
    acme_responder *rs[1] = { resp };
    acme_error *e = NULL;
    long rss = 0;

    if (acme_store_memory_new(&store, &e) < 0)
        die("memory store", e);
    for (unsigned int i = 0; i < o->n; i++) {
        char *name = name_of(o, i);
        const char *names[1] = { name };
        acme_bundle *req = NULL;

        if (acme_bundle_new_request(&req, names, 1, &e) < 0 ||
            acme_store_put(store, name, req, &e) < 0)
            die(name, e);
        acme_bundle_free(req);
        free(name);
    }
    so.store = store;
    so.issuer_factory = factory;
    so.issuer_factory_userdata = b;
    so.responders = rs;
    so.nresponders = 1;
    so.workers = o->workers;
    so.on_event = on_event;
    so.event_userdata = b;
    if (acme_service_new(&svc, &so, &e) < 0)
        die("acme_service_new", e);

    double t0 = now_s(), c0 = cpu_s(NULL);

    if (acme_service_start(svc, &e) < 0)
        die("acme_service_start", e);
    if (acme_service_when_certs_valid(svc, -1, &e) < 0)
        die("when_certs_valid", e);

    double wall = now_s() - t0, cpu = cpu_s(&rss) - c0;

    acme_service_stop(svc);
    pthread_mutex_lock(&b->mu);
    unsigned int ok = o->n - b->failed;
    uint64_t req = b->requests, bn = b->badnonce;
    unsigned int made = b->clients_made;
    pthread_mutex_unlock(&b->mu);
    printf("mode=service%s n=%u workers=%u ok=%u wall_s=%.3f cpu_s=%.3f requests=%llu "
           "requests_per_cert=%.2f badnonce=%llu clients=%u maxrss_kb=%ld certs_per_s=%.2f "
           "cpu_ms_per_cert=%.2f\n",
           o->fresh_clients ? "-fresh" : "", o->n, o->workers, ok, wall, cpu,
           (unsigned long long)req, ok ? (double)req / ok : 0.0, (unsigned long long)bn, made,
           rss, ok / wall, ok ? cpu * 1000.0 / ok : 0.0);
    acme_service_free(svc);
    acme_store_free(store);
    if (ok < o->n)
        exit(1);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: bench-issue -m single|service -d DIRECTORY_URL -c CA_FILE -p HTTP_PORT\n"
            "                   [-n N] [-w WORKERS] [-P NAME_PREFIX] [-F] [-v]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    opts o = { "single", NULL, NULL, "bench", 0, 1, 8, false, false };
    bench b;
    acme_http01 *h = NULL;
    acme_http01_server *srv = NULL;
    acme_responder *resp = NULL;
    acme_error *e = NULL;
    int ch;

    while ((ch = getopt(argc, argv, "m:d:c:p:n:w:P:Fv")) != -1) {
        switch (ch) {
        case 'm': o.mode = optarg; break;
        case 'd': o.dir_url = optarg; break;
        case 'c': o.ca_file = optarg; break;
        case 'p': o.http_port = (unsigned int)strtoul(optarg, NULL, 10); break;
        case 'n': o.n = (unsigned int)strtoul(optarg, NULL, 10); break;
        case 'w': o.workers = (unsigned int)strtoul(optarg, NULL, 10); break;
        case 'P': o.prefix = optarg; break;
        case 'F': o.fresh_clients = true; break;
        case 'v': o.verbose = true; break;
        default: usage();
        }
    }
    if (!o.dir_url || !o.http_port || o.n == 0 || o.workers == 0 || o.http_port > 65535)
        usage();

    memset(&b, 0, sizeof(b));
    b.o = &o;
    pthread_mutex_init(&b.mu, NULL);
    if (acme_key_generate(&b.account_key, ACME_KEY_DEFAULT, &e) < 0)
        die("account key", e);
    /* One token table and listener for every order: Pebble validates on httpPort. */
    if (acme_http01_new(&h, &e) < 0 || acme_http01_listen(&srv, h, "127.0.0.1", o.http_port,
                                                          NULL, &e) < 0 ||
        acme_http01_responder(&resp, h, &e) < 0)
        die("http-01 listener", e);

    if (strcmp(o.mode, "single") == 0)
        run_single(&b, resp);
    else if (strcmp(o.mode, "service") == 0)
        run_service(&b, resp);
    else
        usage();

    for (size_t i = 0; i < b.npool; i++)
        acme_client_free(b.pool[i]);
    free(b.pool);
    acme_responder_free(resp);
    acme_http01_server_free(srv);
    acme_http01_free(h);
    acme_key_free(b.account_key);
    pthread_mutex_destroy(&b.mu);
    return 0;
}
