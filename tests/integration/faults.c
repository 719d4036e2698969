/*
 * tests/integration: fault injection against real processes (issue 7).
 *
 *  - Pebble killed in the middle of an order (at four points: after the
 *    account, after newOrder, while the challenge is answered, before
 *    finalize), then restarted with its state gone: the issuing service
 *    fails that attempt, leaves the certificate file exactly as it was,
 *    retries after its backoff and issues.  The bare client recovers its
 *    forgotten account (accountDoesNotExist) by registering again.
 *  - Pebble rejecting 50 % of good nonces (PEBBLE_WFE_NONCEREJECT=50):
 *    100 issuances through the service with 8 workers, every one on its
 *    first attempt, with the default badNonce retry bound.
 *  - In faults-kill.c: a writer using the directory store
 *    (tests/integration/faults-writer) killed with SIGKILL at random points
 *    of its own progress, 100 times: every <name>.pem is afterwards the
 *    old or the new complete file, and parses.  The same 100 SIGKILLs
 *    against acmed itself (`acmed issue`, against Pebble), killed at a
 *    random line of its log or the moment it logs a certificate issued,
 *    just before writing it (where acmed is built).
 *
 * Kill points are chosen by the code's own progress (log lines, responder
 * calls, progress bytes from the writer), never by sleeping.  The service
 * runs on a manual clock, so its retry backoff passes without waiting.
 *
 * Set LIBACME_TEST_LOG=1 to see the client's log on stderr.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
# include <sys/prctl.h>
#endif

#include <glib.h>
#include <glib/gstdio.h>
#include <pthread.h>

#include <acme/acme.h>
#include <acme/sys/error.h>
#include <acme/sys/responder.h>
#include <acme/testing.h>

#include "faults.h"
#include "pebble.h"
#include "service/service-internal.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                              */
/* ------------------------------------------------------------------ */

bool faults_test_log(void)
{
    return g_getenv("LIBACME_TEST_LOG") != NULL;
}

void faults_rm_rf(const char *path)
{
    GDir *d = g_dir_open(path, 0, NULL);
    const char *name;

    if (d) {
        while ((name = g_dir_read_name(d))) {
            char *child = g_build_filename(path, name, NULL);

            if (g_file_test(child, G_FILE_TEST_IS_DIR))
                faults_rm_rf(child);
            else
                g_unlink(child);
            g_free(child);
        }
        g_dir_close(d);
    }
    g_rmdir(path);
}

void faults_child_setup(gpointer data)
{
    (void)data;
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
}

/* The names in @p dir, sorted, joined by " " (g_free). */
static char *dir_listing(const char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
    const char *name;
    char *s;

    g_assert_nonnull(d);
    while ((name = g_dir_read_name(d)))
        g_ptr_array_add(a, g_strdup(name));
    g_dir_close(d);
    g_ptr_array_sort(a, (GCompareFunc)g_strcmp0);
    g_ptr_array_add(a, NULL);
    s = g_strjoinv(" ", (char **)a->pdata);
    g_ptr_array_unref(a);
    return s;
}

char *faults_file_text(const char *dir, const char *file)
{
    char *path = g_build_filename(dir, file, NULL), *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        text = NULL;
    g_free(path);
    return text;
}

/*
 * A stored entry that is a whole certificate for @p name: key, leaf with
 * @p name as its only SAN, the key matching the leaf.  Returns its serial.
 */
char *faults_assert_whole_cert(acme_store *store, const char *name)
{
    acme_bundle *b = NULL;
    acme_error *e = NULL;
    const acme_cert *cert;
    const char *const *sans;
    size_t n = 0;
    char *serial;

    if (acme_store_get(&b, store, name, &e) < 0)
        g_error("%s: %s", name, acme_error_message(e));
    cert = acme_bundle_cert(b);
    g_assert_nonnull(cert);
    g_assert_nonnull(acme_bundle_key(b));
    sans = acme_cert_sans(cert, &n);
    g_assert_cmpuint(n, ==, 1);
    g_assert_cmpstr(sans[0], ==, name);
    g_assert_cmpint(acme_cert_check_key(cert, acme_bundle_key(b), NULL), ==, ACME_OK);
    g_assert_cmpuint(acme_chain_count(acme_bundle_chain(b)), >=, 2);
    serial = g_strdup(acme_cert_serial(cert));
    acme_bundle_free(b);
    return serial;
}

/* ------------------------------------------------------------------ */
/* Pebble killed mid-order                                              */
/* ------------------------------------------------------------------ */

/* Where Pebble dies, in the order they come in an issuing attempt. */
typedef enum kill_point {
    KILL_NONE = -1,
    KILL_AFTER_ACCOUNT = 0,   /* newAccount answered: newOrder fails */
    KILL_AFTER_ORDER = 1,     /* order created: the authorization fetch fails */
    KILL_AT_CHALLENGE = 2,    /* responder started: the challenge POST fails */
    KILL_BEFORE_FINALIZE = 3, /* validated, responder stopped: finalize fails */
    NKILL = 4
} kill_point;

static const char *const kill_names[NKILL] = {
    "after newAccount", "after newOrder", "at the challenge", "before finalize"
};

typedef struct rctx {
    pebble *p;
    /*
     * One account key a round: even with PEBBLE_AUTHZREUSE=0, Pebble now
     * and then (about one order in a hundred) hands out an order that
     * reuses the account's valid authorization, with no challenge to kill
     * at.  A new account has no valid authorization to reuse.
     */
    acme_key *account_keys[NKILL];
    unsigned int account;             /* the index in use; guarded by mu */
    pthread_mutex_t mu;
    kill_point armed;                 /* guarded by mu */
    unsigned int kills;               /* guarded by mu */
    unsigned int obtained, renewed;   /* guarded by mu */
    unsigned int failed;              /* guarded by mu */
    int last_fail_code;               /* guarded by mu */
    char *last_fail_msg;              /* guarded by mu */
    unsigned int recoveries;          /* "does not know account" warnings; guarded by mu */
    unsigned int badnonce;            /* badNonce retries logged; guarded by mu */
    unsigned int worst_badnonce;      /* longest run of retries of one request; guarded by mu */
    unsigned int started, stopped;    /* responder calls; guarded by mu */
} rctx;

static void rctx_init(rctx *c, const pebble_options *po)
{
    memset(c, 0, sizeof(*c));
    pthread_mutex_init(&c->mu, NULL);
    c->armed = KILL_NONE;
    c->p = pebble_start(po);
    for (size_t i = 0; i < NKILL; i++)
        g_assert_cmpint(acme_key_generate(&c->account_keys[i], ACME_KEY_EC_P256, NULL), ==,
                        ACME_OK);
}

static void rctx_clear(rctx *c)
{
    for (size_t i = 0; i < NKILL; i++)
        acme_key_free(c->account_keys[i]);
    pebble_stop(c->p);
    g_free(c->last_fail_msg);
    pthread_mutex_destroy(&c->mu);
}

/* Arm kill point @p k; a round past the first also moves to the next account. */
static void arm(rctx *c, kill_point k)
{
    pthread_mutex_lock(&c->mu);
    c->armed = k;
    if (k > 0 && (unsigned int)k < NKILL)
        c->account = (unsigned int)k;
    pthread_mutex_unlock(&c->mu);
}

/* Kill Pebble when @p k is the armed point (once). */
static void maybe_kill(rctx *c, kill_point k)
{
    bool now = false;

    pthread_mutex_lock(&c->mu);
    if (c->armed == k) {
        c->armed = KILL_NONE;
        c->kills++;
        now = true;
    }
    pthread_mutex_unlock(&c->mu);
    if (now)
        pebble_kill(c->p);
}

/*
 * The client's log: its INFO lines mark the steps of an order, so the
 * kill lands right after newAccount or newOrder was answered.  It also
 * counts badNonce retries and account recoveries.
 */
static void client_log(void *ud, acme_log_level level, const char *msg,
                       const acme_log_field *fields, size_t nfields)
{
    rctx *c = ud;
    unsigned int attempt = 0, bound = 0;
    const char *r;

    if (faults_test_log())
        acme_log_stderr(NULL, level, msg, fields, nfields);
    if (g_str_has_prefix(msg, "account "))
        maybe_kill(c, KILL_AFTER_ACCOUNT);
    else if (g_str_has_prefix(msg, "issuing for "))
        maybe_kill(c, KILL_AFTER_ORDER);
    pthread_mutex_lock(&c->mu);
    if (strstr(msg, "does not know account"))
        c->recoveries++;
    if (g_str_has_prefix(msg, "badNonce from ") && (r = strstr(msg, "retrying (")) &&
        sscanf(r, "retrying (%u of %u)", &attempt, &bound) == 2) {
        c->badnonce++;
        if (attempt > c->worst_badnonce)
            c->worst_badnonce = attempt;
    }
    pthread_mutex_unlock(&c->mu);
}

static int make_client(rctx *c, acme_client **out, acme_log_level level, acme_error **err)
{
    acme_client_options o = ACME_CLIENT_OPTIONS_INIT;

    o.directory_url = c->p->directory_url;
    pthread_mutex_lock(&c->mu);
    o.account_key = c->account_keys[c->account];
    pthread_mutex_unlock(&c->mu);
    o.ca_file = c->p->ca_file;
    o.user_agent = "libacme-fault-tests";
    /* badnonce_retries left 0: the default bound is what is under test. */
    o.log = client_log;
    o.log_userdata = c;
    o.log_level = faults_test_log() ? ACME_LOG_DEBUG : level;
    return acme_client_new(out, &o, err);
}

static int factory(void *ud, acme_issuer **out, acme_error **err)
{
    rctx *c = ud;
    acme_client *client = NULL;
    int rc;

    if ((rc = make_client(c, &client, ACME_LOG_DEBUG, err)) < 0)
        return rc;
    return acme_issuer_client_new(out, client, err);
}

/* An http-01 responder over challtestsrv that can kill Pebble on start or stop. */
static int kr_start(void *self, const char *name, const acme_challenge *ch,
                    const char *key_authorization, acme_error **err)
{
    rctx *c = self;

    (void)name;
    maybe_kill(c, KILL_AT_CHALLENGE);
    if (!pebble_cts_add_http01(c->p, acme_challenge_token(ch), key_authorization))
        return acme_error_set(err, ACME_E_IO, "challtestsrv refused add-http01");
    pthread_mutex_lock(&c->mu);
    c->started++;
    pthread_mutex_unlock(&c->mu);
    return ACME_OK;
}

static void kr_stop(void *self, const char *name, const acme_challenge *ch,
                    const char *key_authorization)
{
    rctx *c = self;

    (void)name;
    (void)key_authorization;
    pebble_cts_del_http01(c->p, acme_challenge_token(ch));
    pthread_mutex_lock(&c->mu);
    c->stopped++;
    pthread_mutex_unlock(&c->mu);
    /* The issuing code stops responders once validated, before finalize. */
    maybe_kill(c, KILL_BEFORE_FINALIZE);
}

static const acme_responder_ops kill_responder_ops = {
    .version = ACME_RESPONDER_OPS_VERSION,
    .name = "fault-http01",
    .challenge_type = "http-01",
    .start = kr_start,
    .stop = kr_stop,
};

static void on_event(void *ud, const acme_service_event *ev)
{
    rctx *c = ud;

    pthread_mutex_lock(&c->mu);
    if (ev->kind == ACME_EVENT_OBTAINED)
        c->obtained++;
    else if (ev->kind == ACME_EVENT_RENEWED)
        c->renewed++;
    else if (ev->kind == ACME_EVENT_FAILED) {
        c->failed++;
        c->last_fail_code = acme_error_code_get(ev->error);
        g_free(c->last_fail_msg);
        c->last_fail_msg = g_strdup(acme_error_message(ev->error));
        if (faults_test_log())
            g_printerr("# %s failed: %s\n", ev->name, acme_error_message(ev->error));
    }
    pthread_mutex_unlock(&c->mu);
}

#define RESTART_NAME "restart.example.com"
#define RESTART_FILE RESTART_NAME ".pem"

/*
 * The service with a directory store, one entry: each round arms a kill
 * point and makes the entry due (first issue, then renewals), lets the
 * attempt fail, checks the file, restarts Pebble, lets the backoff pass
 * and checks the new certificate.
 */
static void test_restart_mid_order(void)
{
    pebble_options po = PEBBLE_OPTIONS_INIT;
    rctx c;
    acme_clock *clock = NULL;
    acme_store *store = NULL;
    acme_responder *r = NULL;
    acme_service *svc = NULL;
    acme_service_options o = ACME_SERVICE_OPTIONS_INIT;
    acme_error *err = NULL;
    acme_bundle *req = NULL;
    const char *name = RESTART_NAME;
    char *dir, *serial = NULL;
    time_t not_after = 0;

    /* No authorization reuse: every order has a challenge to kill at. */
    po.authz_reuse = 0;
    rctx_init(&c, &po);
    dir = g_dir_make_tmp("libacme-faults-XXXXXX", NULL);
    g_assert_nonnull(dir);
    g_assert_cmpint(acme_store_dir_new(&store, dir, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_bundle_new_request(&req, &name, 1, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_store_put(store, name, req, NULL), ==, ACME_OK);
    acme_bundle_free(req);
    g_assert_cmpint(acme_responder_new(&r, &kill_responder_ops, &c, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_clock_manual_new(&clock, g_get_real_time() / 1000, NULL), ==, ACME_OK);

    o.store = store;
    o.issuer_factory = factory;
    o.issuer_factory_userdata = &c;
    o.clock = clock;
    o.responders = &r;
    o.nresponders = 1;
    o.workers = 2;
    o.check_interval = 3600;
    o.retry_initial = 60;
    o.retry_max = 600;
    o.on_event = on_event;
    o.event_userdata = &c;
    if (faults_test_log()) {
        o.log = acme_log_stderr;
        o.log_level = ACME_LOG_DEBUG;
    }
    g_assert_cmpint(acme_service_new(&svc, &o, &err), ==, ACME_OK);

    for (int k = 0; k < NKILL; k++) {
        char *before, *after, *listing, *new_serial;

        before = faults_file_text(dir, RESTART_FILE);
        g_assert_nonnull(before);
        arm(&c, (kill_point)k);
        if (k == 0) {
            /* The entry is an empty file: the first look issues. */
            g_assert_cmpstr(before, ==, "");
            g_assert_cmpint(acme_service_start(svc, &err), ==, ACME_OK);
        } else {
            /*
             * 29 days before expiry the certificate is due for renewal.
             * Pebble's certificates all end about the same time, so the
             * renewal of the previous round may already have been due:
             * the service then waits a check interval (it suspects a
             * clock skew); move past that as well.
             */
            int64_t due = ((int64_t)not_after - 29 * 86400) * 1000;
            int64_t checked = acme_clock_now_ms(clock) + 2 * 3600 * INT64_C(1000);

            g_assert_cmpint(acme_clock_manual_set(clock, MAX(due, checked)), ==, ACME_OK);
        }
        acme__service_wait_idle(svc);

        /* The attempt died with Pebble: reported, and the file untouched. */
        pthread_mutex_lock(&c.mu);
        g_assert_cmpuint(c.kills, ==, (unsigned int)k + 1);
        g_assert_cmpuint(c.failed, ==, (unsigned int)k + 1);
        g_assert_cmpuint(c.obtained + c.renewed, ==, (unsigned int)k);
        if (c.last_fail_code != ACME_E_NETWORK)
            g_error("killed %s: %s (%s)", kill_names[k], acme_status_name(c.last_fail_code),
                    c.last_fail_msg);
        g_assert_cmpuint(c.started, ==, c.stopped);
        pthread_mutex_unlock(&c.mu);
        after = faults_file_text(dir, RESTART_FILE);
        g_assert_cmpstr(after, ==, before);
        listing = dir_listing(dir);
        g_assert_cmpstr(listing, ==, RESTART_FILE);
        g_free(listing);
        g_free(after);
        if (k > 0) {
            char *same = faults_assert_whole_cert(store, name);

            g_assert_cmpstr(same, ==, serial);
            g_free(same);
        }

        /* Pebble back, with no memory of the account or the order. */
        pebble_restart(c.p);
        g_assert_cmpint(acme_clock_manual_advance(clock, 3600 * INT64_C(1000)), ==, ACME_OK);
        acme__service_wait_idle(svc);

        pthread_mutex_lock(&c.mu);
        g_assert_cmpuint(c.failed, ==, (unsigned int)k + 1);
        g_assert_cmpuint(c.obtained, ==, 1);
        g_assert_cmpuint(c.renewed, ==, (unsigned int)k);
        pthread_mutex_unlock(&c.mu);
        new_serial = faults_assert_whole_cert(store, name);
        g_assert_cmpstr(new_serial, !=, serial);
        g_free(serial);
        serial = new_serial;
        listing = dir_listing(dir);
        g_assert_cmpstr(listing, ==, RESTART_FILE);
        g_free(listing);
        {
            acme_bundle *b = NULL;

            g_assert_cmpint(acme_store_get(&b, store, name, NULL), ==, ACME_OK);
            not_after = acme_cert_not_after(acme_bundle_cert(b));
            acme_bundle_free(b);
        }
        g_free(before);
    }
    acme_service_stop(svc);
    pthread_mutex_lock(&c.mu);
    g_assert_cmpuint(c.started, ==, c.stopped);
    pthread_mutex_unlock(&c.mu);

    acme_service_free(svc);
    acme_responder_free(r);
    acme_store_free(store);
    acme_clock_free(clock);
    g_free(serial);
    faults_rm_rf(dir);
    g_free(dir);
    rctx_clear(&c);
}

/* Issue @p name with @p client; returns the code, the chain PEM through @p chain. */
static int client_issue(acme_client *client, acme_responder *r, const char *name, char **chain,
                        acme_error **err)
{
    acme_issue_options io = ACME_ISSUE_OPTIONS_INIT;
    char *key = NULL;
    int rc;

    io.names = &name;
    io.nnames = 1;
    io.responders = &r;
    io.nresponders = 1;
    rc = acme_client_issue(&key, chain, client, &io, err);
    acme_free(key);
    return rc;
}

/*
 * One client across the crash: its order dies with Pebble; after the
 * restart the client still signs with the old account URL, Pebble answers
 * accountDoesNotExist, and the client registers again by itself.
 */
static void test_restart_client_recovers(void)
{
    pebble_options po = PEBBLE_OPTIONS_INIT;
    rctx c;
    acme_client *client = NULL;
    acme_responder *r = NULL;
    acme_account_options ao = ACME_ACCOUNT_OPTIONS_INIT;
    acme_error *e = NULL;
    char *chain = NULL, *kid_before;

    po.authz_reuse = 0;
    rctx_init(&c, &po);
    g_assert_cmpint(acme_responder_new(&r, &kill_responder_ops, &c, NULL), ==, ACME_OK);
    g_assert_cmpint(make_client(&c, &client, ACME_LOG_INFO, NULL), ==, ACME_OK);
    ao.terms_agreed = true;
    g_assert_cmpint(acme_client_account_register(client, &ao, NULL, NULL), ==, ACME_OK);
    kid_before = g_strdup(acme_client_account_url(client));

    arm(&c, KILL_AT_CHALLENGE);
    g_assert_cmpint(client_issue(client, r, "crash.example.com", &chain, &e), ==, ACME_E_NETWORK);
    g_assert_true(acme_error_retryable(e));
    acme_error_free(e);
    e = NULL;
    g_assert_null(chain);

    pebble_restart(c.p);
    if (client_issue(client, r, "crash.example.com", &chain, &e) < 0)
        g_error("after the restart: %s", acme_error_message(e));
    g_assert_nonnull(chain);
    pthread_mutex_lock(&c.mu);
    g_assert_cmpuint(c.recoveries, ==, 1);
    g_assert_cmpuint(c.kills, ==, 1);
    g_assert_cmpuint(c.started, ==, 2);
    g_assert_cmpuint(c.stopped, ==, 2);
    pthread_mutex_unlock(&c.mu);
    /* The account is a new one, and the certificate is for the name. */
    g_assert_nonnull(acme_client_account_url(client));
    {
        acme_chain *ch = NULL;
        size_t n = 0;
        const char *const *sans;

        g_assert_cmpint(acme_chain_parse(&ch, chain, strlen(chain), NULL), ==, ACME_OK);
        sans = acme_cert_sans(acme_chain_get(ch, 0), &n);
        g_assert_cmpuint(n, ==, 1);
        g_assert_cmpstr(sans[0], ==, "crash.example.com");
        acme_chain_free(ch);
    }
    g_free(kid_before);
    acme_free(chain);
    acme_client_free(client);
    acme_responder_free(r);
    rctx_clear(&c);
}

/* ------------------------------------------------------------------ */
/* 50 % nonce rejection                                                 */
/* ------------------------------------------------------------------ */

#define NONCE_NAMES 100
#define NONCE_WORKERS 8

/*
 * PEBBLE_WFE_NONCEREJECT=50 rejects every good nonce with p = 0.5, the
 * retry's fresh nonce too.  A request fails for good only after N + 1
 * rejections in a row (N = ACME_BADNONCE_RETRIES = 20): p^21 = 4.8e-7.
 * One issuance here is about 9 signed requests (newAccount, newOrder,
 * authorization, challenge, authorization poll, finalize, order poll,
 * certificate, maybe one more poll), so 100 issuances send ~900 and the
 * chance that any of them fails is ~900 * 4.8e-7 = 4.3e-4.  A bound of
 * 10 would give 900 * 0.5^11 = 0.44: a coin toss.  So every issuance
 * must succeed on its first attempt: no FAILED event at all.  The longest
 * run of rejections of one request is expected near log2(900) = 10 (runs
 * of 12 were seen), well inside the bound.
 */
static void test_nonce_reject_50(void)
{
    pebble_options po = PEBBLE_OPTIONS_INIT;
    rctx c;
    acme_clock *clock = NULL;
    acme_store *store = NULL;
    acme_responder *r = NULL;
    acme_service *svc = NULL;
    acme_service_options o = ACME_SERVICE_OPTIONS_INIT;
    acme_error *err = NULL;
    char *names[NONCE_NAMES];

    po.nonce_reject = 50;
    rctx_init(&c, &po);
    g_assert_cmpint(acme_store_memory_new(&store, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_responder_new(&r, &kill_responder_ops, &c, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_clock_manual_new(&clock, g_get_real_time() / 1000, NULL), ==, ACME_OK);
    for (int i = 0; i < NONCE_NAMES; i++) {
        acme_bundle *b = NULL;

        names[i] = g_strdup_printf("nonce%03d.example.com", i);
        g_assert_cmpint(acme_bundle_new_request(&b, (const char *const *)&names[i], 1, NULL), ==,
                        ACME_OK);
        g_assert_cmpint(acme_store_put(store, names[i], b, NULL), ==, ACME_OK);
        acme_bundle_free(b);
    }
    o.store = store;
    o.issuer_factory = factory;
    o.issuer_factory_userdata = &c;
    o.clock = clock;
    o.responders = &r;
    o.nresponders = 1;
    o.workers = NONCE_WORKERS;
    o.on_event = on_event;
    o.event_userdata = &c;
    g_assert_cmpint(acme_service_new(&svc, &o, &err), ==, ACME_OK);
    g_assert_cmpint(acme_service_start(svc, &err), ==, ACME_OK);
    /* The manual clock stands still: no retry can hide a failure. */
    acme__service_wait_idle(svc);

    pthread_mutex_lock(&c.mu);
    g_printerr("# %u issued, %u failed, %u badNonce retries, longest run %u\n", c.obtained,
               c.failed, c.badnonce, c.worst_badnonce);
    if (c.failed)
        g_error("%u failed; last: %s", c.failed, c.last_fail_msg);
    g_assert_cmpuint(c.obtained, ==, NONCE_NAMES);
    /* Half of ~900 requests were rejected at least once: the faults happened. */
    g_assert_cmpuint(c.badnonce, >=, 200);
    g_assert_cmpuint(c.worst_badnonce, >=, 2);
    g_assert_cmpuint(c.worst_badnonce, <=, ACME_BADNONCE_RETRIES);
    pthread_mutex_unlock(&c.mu);
    for (int i = 0; i < NONCE_NAMES; i++) {
        char *s = faults_assert_whole_cert(store, names[i]);

        g_free(s);
        g_free(names[i]);
    }
    acme_service_stop(svc);
    acme_service_free(svc);
    acme_responder_free(r);
    acme_store_free(store);
    acme_clock_free(clock);
    rctx_clear(&c);
}

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    /* A writer killed while we read its pipe must not take us with it. */
    signal(SIGPIPE, SIG_IGN);
    g_assert_cmpint(acme_global_init(), ==, ACME_OK);
    g_test_add_func("/faults/pebble/restart-mid-order", test_restart_mid_order);
    g_test_add_func("/faults/pebble/restart-client-recovers", test_restart_client_recovers);
    g_test_add_func("/faults/pebble/nonce-reject-50", test_nonce_reject_50);
    faults_kill_add_tests();
    rc = g_test_run();
    acme_global_cleanup();
    return rc;
}
