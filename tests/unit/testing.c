/*
 * Unit tests: clocks (system, manual, acme__clock_wait), the issuer
 * wrapper, and the fake CA of <acme/testing.h> with its controller.
 * Threads meet through mutexes and condition variables, never sleeps.
 */
#include "config.h"

#include <glib.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include <acme/acme.h>
#include <acme/sys/clock.h>
#include <acme/sys/error.h>
#include <acme/sys/issuer.h>
#include <acme/testing.h>

#include "service/clock-internal.h"
#include "transport/transport.h"

#define START_MS 1795450200123LL  /* 2026-11-23T16:10:00.123Z */
#define DAY 86400LL
#define URN "urn:ietf:params:acme:error:"

/* ------------------------------------------------------------------ */
/* Clocks                                                               */
/* ------------------------------------------------------------------ */

static void test_system_now(void)
{
    acme_clock *c = NULL;
    time_t before = time(NULL), t;
    int64_t ms;

    g_assert_cmpint(acme_clock_system_new(&c, NULL), ==, ACME_OK);
    ms = acme_clock_now_ms(c);
    t = acme_clock_now(c);
    g_assert_cmpint(ms / 1000, >=, before);
    g_assert_cmpint(t, >=, before);
    /* Not time(NULL) after: it reads a coarse clock that may lag CLOCK_REALTIME by a tick. */
    {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        g_assert_cmpint(t, <=, ts.tv_sec);
        g_assert_cmpint(ms, <=, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
    }
    g_assert_false(acme__clock_is_virtual(c));
    g_assert_null(acme_clock_self(c));
    /* A system clock has no subscribers: waits on it need none. */
    {
        acme_error *err = NULL;

        g_assert_cmpint(acme__clock_subscribe(c, (acme_clock_notify_fn *)g_free, NULL, &err), ==,
                        ACME_E_NOTSUP);
        g_assert_nonnull(err);
        acme_error_free(err);
    }
    /* The manual clock's setters refuse it. */
    g_assert_cmpint(acme_clock_manual_advance(c, 1), ==, ACME_E_INVALID);
    g_assert_cmpint(acme_clock_manual_set(c, 1), ==, ACME_E_INVALID);
    acme_clock_free(c);
    /* A NULL clock reads as the system clock. */
    g_assert_cmpint(acme_clock_now(NULL), >=, before);
    acme_clock_free(NULL);
}

static int destroyed;
static int64_t fixed_now(void *self)
{
    return 42;
}
static void count_destroy(void *self)
{
    destroyed++;
}
static int no_subscribe(void *self, acme_clock_notify_fn *fn, void *arg, acme_error **err)
{
    return ACME_OK;
}

static void test_clock_new_invalid(void)
{
    acme_clock_ops bad_version = { .version = ACME_CLOCK_OPS_VERSION + 1, .name = "x",
                                   .now_ms = fixed_now, .destroy = count_destroy };
    acme_clock_ops no_now = { .version = ACME_CLOCK_OPS_VERSION, .name = "x",
                              .destroy = count_destroy };
    acme_clock_ops virt_no_unsub = { .version = ACME_CLOCK_OPS_VERSION, .name = "x",
                                     .flags = ACME_CLOCK_F_VIRTUAL, .now_ms = fixed_now,
                                     .subscribe = no_subscribe, .destroy = count_destroy };
    acme_clock_ops good = { .version = ACME_CLOCK_OPS_VERSION, .name = "fixed",
                            .now_ms = fixed_now, .destroy = count_destroy };
    acme_clock *c = (acme_clock *)&c;
    acme_error *err = NULL;
    int self;

    destroyed = 0;
    g_assert_cmpint(acme_clock_new(&c, NULL, &self, &err), ==, ACME_E_INVALID);
    g_assert_null(c);
    g_assert_cmpint(acme_error_code_get(err), ==, ACME_E_INVALID);
    acme_error_free(err);
    err = NULL;
    /* A version newer than ours is refused (its destroy may not be ours to call). */
    g_assert_cmpint(acme_clock_new(&c, &bad_version, &self, NULL), ==, ACME_E_INVALID);
    g_assert_cmpint(destroyed, ==, 0);
    g_assert_cmpint(acme_clock_new(&c, &no_now, &self, NULL), ==, ACME_E_INVALID);
    g_assert_cmpint(destroyed, ==, 1);
    g_assert_cmpint(acme_clock_new(&c, &virt_no_unsub, &self, &err), ==, ACME_E_INVALID);
    g_assert_cmpint(destroyed, ==, 2);
    g_assert_nonnull(strstr(acme_error_message(err), "unsubscribe"));
    acme_error_free(err);
    g_assert_cmpint(acme_clock_new(&c, &good, &self, NULL), ==, ACME_OK);
    g_assert_true(acme_clock_self(c) == &self);
    g_assert_cmpint(acme_clock_now_ms(c), ==, 42);
    g_assert_cmpint(acme_clock_now(c), ==, 0);
    acme_clock_free(c);
    g_assert_cmpint(destroyed, ==, 3);
}

static void test_manual_basic(void)
{
    acme_clock *c = NULL;

    g_assert_cmpint(acme_clock_manual_new(&c, START_MS, NULL), ==, ACME_OK);
    g_assert_true(acme__clock_is_virtual(c));
    g_assert_cmpint(acme_clock_now_ms(c), ==, START_MS);
    g_assert_cmpint(acme_clock_now(c), ==, START_MS / 1000);
    g_assert_cmpint(acme_clock_manual_advance(c, 1877), ==, ACME_OK);
    g_assert_cmpint(acme_clock_now_ms(c), ==, START_MS + 1877);
    g_assert_cmpint(acme_clock_now(c), ==, (START_MS + 1877) / 1000);
    /* Advancing never goes back. */
    g_assert_cmpint(acme_clock_manual_advance(c, -1), ==, ACME_E_INVALID);
    g_assert_cmpint(acme_clock_now_ms(c), ==, START_MS + 1877);
    g_assert_cmpint(acme_clock_manual_advance(c, 0), ==, ACME_OK);
    g_assert_cmpint(acme_clock_now_ms(c), ==, START_MS + 1877);
    /* Setting does, and floors negative times to whole seconds correctly. */
    g_assert_cmpint(acme_clock_manual_set(c, -1), ==, ACME_OK);
    g_assert_cmpint(acme_clock_now_ms(c), ==, -1);
    g_assert_cmpint(acme_clock_now(c), ==, -1);
    g_assert_cmpint(acme_clock_manual_set(c, -1000), ==, ACME_OK);
    g_assert_cmpint(acme_clock_now(c), ==, -1);
    g_assert_cmpint(acme_clock_manual_set(c, -1001), ==, ACME_OK);
    g_assert_cmpint(acme_clock_now(c), ==, -2);
    /* Advancing saturates. */
    g_assert_cmpint(acme_clock_manual_set(c, INT64_MAX - 10), ==, ACME_OK);
    g_assert_cmpint(acme_clock_manual_advance(c, 100), ==, ACME_OK);
    g_assert_cmpint(acme_clock_now_ms(c), ==, INT64_MAX);
    g_assert_cmpint(acme_clock_manual_advance(NULL, 1), ==, ACME_E_INVALID);
    g_assert_cmpint(acme_clock_manual_new(NULL, 0, NULL), ==, ACME_E_INVALID);
    acme_clock_free(c);
}

typedef struct {
    acme_clock *clock;
    int64_t seen[8];
    int n;
} recorder;

static void record_now(void *arg)
{
    recorder *r = arg;

    /* Called after the change: the new time is visible. */
    if (r->n < 8)
        r->seen[r->n++] = acme_clock_now_ms(r->clock);
}

static void test_manual_subscribers(void)
{
    recorder a = { 0 }, b = { 0 };
    acme_clock *c = NULL;

    g_assert_cmpint(acme_clock_manual_new(&c, 1000, NULL), ==, ACME_OK);
    a.clock = b.clock = c;
    g_assert_cmpint(acme__clock_subscribe(c, record_now, &a, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_clock_manual_advance(c, 500), ==, ACME_OK);
    g_assert_cmpint(acme__clock_subscribe(c, record_now, &b, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_clock_manual_set(c, 200), ==, ACME_OK);
    g_assert_cmpint(acme_clock_manual_advance(c, 5), ==, ACME_OK);
    acme__clock_unsubscribe(c, record_now, &a);
    g_assert_cmpint(acme_clock_manual_advance(c, 5), ==, ACME_OK);
    /* A refused change calls nobody. */
    g_assert_cmpint(acme_clock_manual_advance(c, -5), ==, ACME_E_INVALID);
    acme__clock_unsubscribe(c, record_now, &b);
    acme__clock_unsubscribe(c, record_now, &b); /* unknown: nothing */
    g_assert_cmpint(acme_clock_manual_advance(c, 5), ==, ACME_OK);

    g_assert_cmpint(a.n, ==, 3);
    g_assert_cmpint(a.seen[0], ==, 1500);
    g_assert_cmpint(a.seen[1], ==, 200);
    g_assert_cmpint(a.seen[2], ==, 205);
    g_assert_cmpint(b.n, ==, 3);
    g_assert_cmpint(b.seen[0], ==, 200);
    g_assert_cmpint(b.seen[1], ==, 205);
    g_assert_cmpint(b.seen[2], ==, 210);
    acme_clock_free(c);
}

/* A waiter on its own thread, driven step by step by the test. */
typedef struct {
    acme_clock *clock;
    pthread_mutex_t m;
    pthread_cond_t cond;      /* what acme__clock_wait() waits on */
    pthread_cond_t progress;  /* the waiter tells the test it moved */
    acme__clock_watcher w;
    int64_t deadline;
    bool ready;               /* the waiter holds m and is about to wait */
    bool stop;                /* the predicate a signaller sets */
    int early;                /* returns of 1 */
    int last_rc;
    bool done;
    int64_t end_now;
} waiter;

static void waiter_init(waiter *w, acme_clock *clock, int64_t deadline)
{
    memset(w, 0, sizeof(*w));
    w->clock = clock;
    w->deadline = deadline;
    w->last_rc = -1;
    g_assert_cmpint(pthread_mutex_init(&w->m, NULL), ==, 0);
    g_assert_cmpint(acme__cond_init_monotonic(&w->cond, NULL), ==, ACME_OK);
    g_assert_cmpint(pthread_cond_init(&w->progress, NULL), ==, 0);
    g_assert_cmpint(acme__clock_watch(clock, &w->w, &w->m, &w->cond, NULL), ==, ACME_OK);
}

static void waiter_clear(waiter *w)
{
    acme__clock_unwatch(w->clock, &w->w);
    pthread_cond_destroy(&w->progress);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->m);
}

/* The protocol of clock-internal.h: wait in a loop, re-check the predicate. */
static void *waiter_run(void *arg)
{
    waiter *w = arg;

    pthread_mutex_lock(&w->m);
    w->ready = true;
    pthread_cond_broadcast(&w->progress);
    while (!w->stop) {
        w->last_rc = acme__clock_wait(w->clock, &w->cond, &w->m, w->deadline);
        if (w->last_rc == 0)
            break;
        w->early++;
        pthread_cond_broadcast(&w->progress);
    }
    w->end_now = acme_clock_now_ms(w->clock);
    w->done = true;
    pthread_cond_broadcast(&w->progress);
    pthread_mutex_unlock(&w->m);
    return NULL;
}

static void test_manual_wait(void)
{
    acme_clock *c = NULL;
    pthread_t th;
    waiter w;

    g_assert_cmpint(acme_clock_manual_new(&c, 0, NULL), ==, ACME_OK);
    waiter_init(&w, c, 1000);
    g_assert_true(w.w.subscribed);
    g_assert_cmpint(pthread_create(&th, NULL, waiter_run, &w), ==, 0);
    /* Once we hold m after "ready", the waiter is inside pthread_cond_wait(). */
    pthread_mutex_lock(&w.m);
    while (!w.ready)
        pthread_cond_wait(&w.progress, &w.m);
    pthread_mutex_unlock(&w.m);

    /* Half way: the waiter wakes, sees "not yet" (1), and waits again. */
    g_assert_cmpint(acme_clock_manual_advance(c, 500), ==, ACME_OK);
    pthread_mutex_lock(&w.m);
    while (w.early < 1)
        pthread_cond_wait(&w.progress, &w.m);
    g_assert_false(w.done);
    g_assert_cmpint(w.last_rc, ==, 1);
    pthread_mutex_unlock(&w.m);

    /* At the deadline: 0, and the waiter saw the new time. */
    g_assert_cmpint(acme_clock_manual_advance(c, 500), ==, ACME_OK);
    pthread_mutex_lock(&w.m);
    while (!w.done)
        pthread_cond_wait(&w.progress, &w.m);
    pthread_mutex_unlock(&w.m);
    pthread_join(th, NULL);
    g_assert_cmpint(w.last_rc, ==, 0);
    g_assert_cmpint(w.end_now, ==, 1000);
    g_assert_cmpint(w.early, >=, 1);
    waiter_clear(&w);
    g_assert_false(w.w.subscribed);

    /* A deadline already passed returns 0 without waiting. */
    waiter_init(&w, c, 999);
    pthread_mutex_lock(&w.m);
    g_assert_cmpint(acme__clock_wait(c, &w.cond, &w.m, 999), ==, 0);
    pthread_mutex_unlock(&w.m);
    waiter_clear(&w);
    acme_clock_free(c);
}

/* A set back in time while waiting is "not yet"; a set forward past the deadline ends it. */
static void test_manual_wait_set(void)
{
    acme_clock *c = NULL;
    pthread_t th;
    waiter w;

    g_assert_cmpint(acme_clock_manual_new(&c, 5000, NULL), ==, ACME_OK);
    waiter_init(&w, c, 6000);
    g_assert_cmpint(pthread_create(&th, NULL, waiter_run, &w), ==, 0);
    pthread_mutex_lock(&w.m);
    while (!w.ready)
        pthread_cond_wait(&w.progress, &w.m);
    pthread_mutex_unlock(&w.m);
    g_assert_cmpint(acme_clock_manual_set(c, 0), ==, ACME_OK);
    pthread_mutex_lock(&w.m);
    while (w.early < 1)
        pthread_cond_wait(&w.progress, &w.m);
    g_assert_false(w.done);
    pthread_mutex_unlock(&w.m);
    g_assert_cmpint(acme_clock_manual_set(c, 7000), ==, ACME_OK);
    pthread_join(th, NULL);
    g_assert_true(w.done);
    g_assert_cmpint(w.last_rc, ==, 0);
    g_assert_cmpint(w.end_now, ==, 7000);
    waiter_clear(&w);
    acme_clock_free(c);
}

/* Unsubscribe waits for a call in progress (sys/clock.h's promise). */
typedef struct {
    pthread_mutex_t m;
    pthread_cond_t cv;
    bool entered, release, finished;
    acme_clock *clock;
} gate;

static void gate_notify(void *arg)
{
    gate *g = arg;

    pthread_mutex_lock(&g->m);
    g->entered = true;
    pthread_cond_broadcast(&g->cv);
    while (!g->release)
        pthread_cond_wait(&g->cv, &g->m);
    g->finished = true;
    pthread_mutex_unlock(&g->m);
}

static void *advance_run(void *arg)
{
    gate *g = arg;

    acme_clock_manual_advance(g->clock, 1);
    return NULL;
}

static void *unsubscribe_run(void *arg)
{
    gate *g = arg;
    bool finished;

    acme__clock_unsubscribe(g->clock, gate_notify, g);
    pthread_mutex_lock(&g->m);
    finished = g->finished;
    pthread_mutex_unlock(&g->m);
    return GINT_TO_POINTER(finished ? 1 : 2);
}

static void test_manual_unsubscribe_waits(void)
{
    gate g = { .entered = false };
    pthread_t adv, unsub;
    void *res;

    pthread_mutex_init(&g.m, NULL);
    pthread_cond_init(&g.cv, NULL);
    g_assert_cmpint(acme_clock_manual_new(&g.clock, 0, NULL), ==, ACME_OK);
    g_assert_cmpint(acme__clock_subscribe(g.clock, gate_notify, &g, NULL), ==, ACME_OK);
    g_assert_cmpint(pthread_create(&adv, NULL, advance_run, &g), ==, 0);
    pthread_mutex_lock(&g.m);
    while (!g.entered)
        pthread_cond_wait(&g.cv, &g.m);
    pthread_mutex_unlock(&g.m);
    /* The call is running: unsubscribe must not return before it ends. */
    g_assert_cmpint(pthread_create(&unsub, NULL, unsubscribe_run, &g), ==, 0);
    pthread_mutex_lock(&g.m);
    g.release = true;
    pthread_cond_broadcast(&g.cv);
    pthread_mutex_unlock(&g.m);
    pthread_join(unsub, &res);
    pthread_join(adv, NULL);
    g_assert_cmpint(GPOINTER_TO_INT(res), ==, 1);
    /* And no call starts after it returned. */
    g.entered = false;
    g_assert_cmpint(acme_clock_manual_advance(g.clock, 1), ==, ACME_OK);
    g_assert_false(g.entered);
    acme_clock_free(g.clock);
    pthread_cond_destroy(&g.cv);
    pthread_mutex_destroy(&g.m);
}

static void test_system_wait(void)
{
    acme_clock *c = NULL;
    pthread_t th;
    waiter w;
    int64_t deadline;
    int rc;

    g_assert_cmpint(acme_clock_system_new(&c, NULL), ==, ACME_OK);
    /* Real clocks need no subscription. */
    waiter_init(&w, c, 0);
    g_assert_false(w.w.subscribed);

    /* The deadline: 0 only once the clock reads it (however the wait ends). */
    deadline = acme_clock_now_ms(c) + 30;
    pthread_mutex_lock(&w.m);
    while ((rc = acme__clock_wait(c, &w.cond, &w.m, deadline)) != 0)
        g_assert_cmpint(rc, ==, 1);
    pthread_mutex_unlock(&w.m);
    g_assert_cmpint(acme_clock_now_ms(c), >=, deadline);

    /* Already passed: 0 at once. */
    pthread_mutex_lock(&w.m);
    g_assert_cmpint(acme__clock_wait(c, &w.cond, &w.m, deadline), ==, 0);
    pthread_mutex_unlock(&w.m);
    waiter_clear(&w);

    /* Early: a signal an hour before the deadline returns 1. */
    waiter_init(&w, c, acme_clock_now_ms(c) + 3600 * 1000);
    g_assert_cmpint(pthread_create(&th, NULL, waiter_run, &w), ==, 0);
    pthread_mutex_lock(&w.m);
    while (!w.ready)
        pthread_cond_wait(&w.progress, &w.m);
    w.stop = true;
    pthread_cond_signal(&w.cond);
    pthread_mutex_unlock(&w.m);
    pthread_join(th, NULL);
    g_assert_true(w.done);
    g_assert_cmpint(w.last_rc, ==, 1);
    g_assert_cmpint(w.end_now, <, w.deadline);
    waiter_clear(&w);

    /* A deadline too far for one timed wait still works (it is sliced). */
    waiter_init(&w, c, INT64_MAX);
    g_assert_cmpint(pthread_create(&th, NULL, waiter_run, &w), ==, 0);
    pthread_mutex_lock(&w.m);
    while (!w.ready)
        pthread_cond_wait(&w.progress, &w.m);
    w.stop = true;
    pthread_cond_broadcast(&w.cond);
    pthread_mutex_unlock(&w.m);
    pthread_join(th, NULL);
    g_assert_cmpint(w.last_rc, ==, 1);
    waiter_clear(&w);
    acme_clock_free(c);
}

/* ------------------------------------------------------------------ */
/* Issuer wrapper                                                       */
/* ------------------------------------------------------------------ */

static int issuer_destroyed;
static int stub_account(void *self, const char *contact, acme_error **err)
{
    return ACME_OK;
}
static int stub_issue(void *self, char **k, char **c, const acme_issue_options *o,
                      acme_error **err)
{
    return acme_error_set(err, ACME_E_REJECTED, "stub");
}
static void stub_destroy(void *self)
{
    issuer_destroyed++;
}

static void test_issuer_new(void)
{
    acme_issuer_ops no_issue = { .version = ACME_ISSUER_OPS_VERSION, .name = "stub",
                                 .account = stub_account, .destroy = stub_destroy };
    acme_issuer_ops newer = { .version = ACME_ISSUER_OPS_VERSION + 1, .name = "stub",
                              .account = stub_account, .issue = stub_issue,
                              .destroy = stub_destroy };
    acme_issuer_ops minimal = { .version = ACME_ISSUER_OPS_VERSION, .name = "stub",
                                .account = stub_account, .issue = stub_issue,
                                .destroy = stub_destroy };
    acme_issuer *is = NULL;
    acme_renewal_info *ri = (acme_renewal_info *)&is;
    acme_error *err = NULL;
    char *k = (char *)"x", *c = (char *)"x";
    int self;

    issuer_destroyed = 0;
    g_assert_cmpint(acme_issuer_new(&is, NULL, &self, NULL), ==, ACME_E_INVALID);
    g_assert_cmpint(acme_issuer_new(&is, &no_issue, &self, &err), ==, ACME_E_INVALID);
    g_assert_nonnull(err);
    acme_error_free(err);
    err = NULL;
    g_assert_cmpint(issuer_destroyed, ==, 1);
    g_assert_cmpint(acme_issuer_new(&is, &newer, &self, NULL), ==, ACME_E_INVALID);
    g_assert_cmpint(issuer_destroyed, ==, 1);
    g_assert_null(is);

    g_assert_cmpint(acme_issuer_new(&is, &minimal, &self, NULL), ==, ACME_OK);
    g_assert_true(acme_issuer_self(is) == &self);
    g_assert_cmpint(acme_issuer_account(is, NULL, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_issuer_issue(is, &k, &c, NULL, &err), ==, ACME_E_REJECTED);
    g_assert_null(k);
    g_assert_null(c);
    g_assert_cmpstr(acme_error_message(err), ==, "stub");
    acme_error_free(err);
    err = NULL;
    /* No renewal_info member: the CA offers none. */
    g_assert_cmpint(acme_issuer_renewal_info(is, &ri, "a.b", &err), ==, ACME_E_NOTSUP);
    g_assert_null(ri);
    acme_error_free(err);
    acme_issuer_cancel(is); /* no cancel member: nothing */
    acme_issuer_free(is);
    g_assert_cmpint(issuer_destroyed, ==, 2);

    g_assert_cmpint(acme_issuer_account(NULL, NULL, NULL), ==, ACME_E_INVALID);
    g_assert_cmpint(acme_issuer_issue(NULL, &k, &c, NULL, NULL), ==, ACME_E_INVALID);
    acme_issuer_cancel(NULL);
    acme_issuer_free(NULL);
    g_assert_cmpint(acme_issuer_client_new(&is, NULL, NULL), ==, ACME_E_INVALID);
}

/* Bad contact emails are refused before any request (the directory URL is unreachable). */
static void test_issuer_client_bad_email(void)
{
    static const char *const bad[] = { "", "no-at-sign", "@example.com", "a@", "a@b@c",
                                       "a b@example.com", "a,b@example.com",
                                       "a@example.com?subject=x" };
    acme_client_options o = ACME_CLIENT_OPTIONS_INIT;
    acme_client *client = NULL;
    acme_issuer *is = NULL;
    acme_key *key = NULL;

    g_assert_cmpint(acme_key_generate(&key, ACME_KEY_EC_P256, NULL), ==, ACME_OK);
    o.directory_url = "https://127.0.0.1:9/dir";
    o.account_key = key;
    g_assert_cmpint(acme_client_new(&client, &o, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_issuer_client_new(&is, client, NULL), ==, ACME_OK);
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        acme_error *err = NULL;

        g_assert_cmpint(acme_issuer_account(is, bad[i], &err), ==, ACME_E_INVALID);
        g_assert_nonnull(strstr(acme_error_message(err), "email"));
        acme_error_free(err);
    }
    acme_issuer_free(is); /* frees the client */
    acme_key_free(key);
}

static void test_renewal_info_new(void)
{
    acme_renewal_info *ri = NULL;
    acme_error *err = NULL;

    g_assert_cmpint(acme_renewal_info_new(&ri, 100, 200, "https://ca.example/why", 60, NULL), ==,
                    ACME_OK);
    g_assert_cmpint(acme_renewal_info_window_start(ri), ==, 100);
    g_assert_cmpint(acme_renewal_info_window_end(ri), ==, 200);
    g_assert_cmpstr(acme_renewal_info_explanation_url(ri), ==, "https://ca.example/why");
    g_assert_cmpint(acme_renewal_info_retry_after(ri), ==, 60);
    acme_renewal_info_free(ri);
    g_assert_cmpint(acme_renewal_info_new(&ri, 100, 200, NULL, -1, NULL), ==, ACME_OK);
    g_assert_null(acme_renewal_info_explanation_url(ri));
    g_assert_cmpint(acme_renewal_info_retry_after(ri), ==, -1);
    acme_renewal_info_free(ri);
    g_assert_cmpint(acme_renewal_info_new(&ri, 200, 200, NULL, -1, &err), ==, ACME_E_INVALID);
    g_assert_null(ri);
    acme_error_free(err);
    g_assert_cmpint(acme_renewal_info_new(&ri, 100, 200, NULL, -7, NULL), ==, ACME_E_INVALID);
    g_assert_cmpint(acme_renewal_info_new(NULL, 100, 200, NULL, -1, NULL), ==, ACME_E_INVALID);
}

/* ------------------------------------------------------------------ */
/* Fake CA                                                              */
/* ------------------------------------------------------------------ */

typedef struct {
    acme_clock *clock;
    acme_fake_ca *ca;
    acme_issuer *issuer;
} CaFixture;

static void ca_setup(CaFixture *f, gconstpointer data)
{
    acme_fake_ca_options o = ACME_FAKE_CA_OPTIONS_INIT;

    g_assert_cmpint(acme_clock_manual_new(&f->clock, START_MS, NULL), ==, ACME_OK);
    o.clock = f->clock;
    o.lifetime_seconds = data ? GPOINTER_TO_INT(data) : 0;
    g_assert_cmpint(acme_fake_ca_new(&f->ca, &o, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_fake_ca_issuer(&f->issuer, f->ca, NULL), ==, ACME_OK);
}

static void ca_teardown(CaFixture *f, gconstpointer data)
{
    acme_issuer_free(f->issuer);
    acme_fake_ca_free(f->ca);
    acme_clock_free(f->clock);
}

static int issue_names(acme_issuer *is, char **key_pem, char **chain_pem,
                       const char *const *names, size_t n, acme_key_type type, acme_error **err)
{
    acme_issue_options o = ACME_ISSUE_OPTIONS_INIT;

    o.names = names;
    o.nnames = n;
    o.key_type = type;
    return acme_issuer_issue(is, key_pem, chain_pem, &o, err);
}

static bool has_san(const acme_cert *cert, const char *name)
{
    size_t n = 0;
    const char *const *sans = acme_cert_sans(cert, &n);

    for (size_t i = 0; i < n; i++)
        if (strcmp(sans[i], name) == 0)
            return true;
    return false;
}

/* Check a chain from the fake CA; returns the leaf's ARI identifier (g_free). */
static char *check_chain(const char *key_pem, const char *chain_pem, const char *const *names,
                         size_t n, time_t not_before, int64_t lifetime, acme_key_type type)
{
    acme_chain *chain = NULL;
    acme_key *key = NULL;
    const acme_cert *leaf;
    char *id = NULL, *ret;

    g_assert_cmpint(acme_chain_parse(&chain, chain_pem, strlen(chain_pem), NULL), ==, ACME_OK);
    g_assert_cmpuint(acme_chain_count(chain), ==, 2);
    leaf = acme_chain_get(chain, 0);
    for (size_t i = 0; i < n; i++)
        g_assert_true(has_san(leaf, names[i]));
    g_assert_cmpint(acme_cert_not_before(leaf), ==, not_before);
    g_assert_cmpint(acme_cert_not_after(leaf), ==, not_before + lifetime);
    g_assert_cmpstr(acme_cert_issuer_cn(leaf), ==, "libacme fake CA");
    g_assert_nonnull(strstr(acme_cert_subject(acme_chain_get(chain, 1)), "libacme fake CA"));
    g_assert_cmpint(acme_key_load_pem(&key, key_pem, strlen(key_pem), NULL), ==, ACME_OK);
    g_assert_cmpint(acme_key_get_type(key), ==, type);
    g_assert_cmpint(acme_cert_check_key(leaf, key, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_cert_ari_id(&id, leaf, NULL), ==, ACME_OK);
    ret = g_strdup(id);
    acme_free(id);
    acme_key_free(key);
    acme_chain_free(chain);
    return ret;
}

static void test_ca_issue(CaFixture *f, gconstpointer data)
{
    static const char *const names[] = { "example.com", "*.example.org", "192.0.2.1" };
    char *key_pem = NULL, *chain_pem = NULL, *contact, **last, *id1, *id2;
    acme_chain *root = NULL;
    size_t n;

    g_assert_cmpint(acme_fake_ca_issued_count(f->ca), ==, 0);
    g_assert_null(acme_fake_ca_last_names(f->ca, &n));
    g_assert_cmpuint(n, ==, 0);
    g_assert_cmpint(acme_issuer_account(f->issuer, "ops@example.com", NULL), ==, ACME_OK);
    contact = acme_fake_ca_account_contact(f->ca);
    g_assert_cmpstr(contact, ==, "ops@example.com");
    acme_free(contact);
    g_assert_cmpuint(acme_fake_ca_account_count(f->ca), ==, 1);

    g_assert_cmpint(issue_names(f->issuer, &key_pem, &chain_pem, names, 3, 0, NULL), ==, ACME_OK);
    id1 = check_chain(key_pem, chain_pem, names, 3, START_MS / 1000, 90 * DAY, ACME_KEY_EC_P256);
    g_assert_cmpuint(acme_fake_ca_issued_count(f->ca), ==, 1);
    g_assert_cmpuint(acme_fake_ca_finished_count(f->ca), ==, 1);
    last = acme_fake_ca_last_names(f->ca, &n);
    g_assert_cmpuint(n, ==, 3);
    g_assert_cmpstr(last[1], ==, "*.example.org");
    acme_free_strv(last, n);
    g_assert_cmpint(acme_fake_ca_last_key_type(f->ca), ==, ACME_KEY_EC_P256);
    /* The root in the chain is the CA's root. */
    g_assert_nonnull(strstr(chain_pem, acme_fake_ca_root_pem(f->ca)));
    g_assert_cmpint(acme_chain_parse(&root, acme_fake_ca_root_pem(f->ca),
                                     strlen(acme_fake_ca_root_pem(f->ca)), NULL), ==, ACME_OK);
    acme_chain_free(root);
    acme_free(key_pem);
    acme_free(chain_pem);

    /* A month on the manual timeline later: the new certificate starts then. */
    g_assert_cmpint(acme_clock_manual_advance(f->clock, 30 * DAY * 1000), ==, ACME_OK);
    g_assert_cmpint(issue_names(f->issuer, &key_pem, &chain_pem, names, 1, ACME_KEY_EC_P384, NULL),
                    ==, ACME_OK);
    id2 = check_chain(key_pem, chain_pem, names, 1, START_MS / 1000 + 30 * DAY, 90 * DAY,
                      ACME_KEY_EC_P384);
    g_assert_cmpstr(id1, !=, id2);
    g_assert_cmpint(acme_fake_ca_last_key_type(f->ca), ==, ACME_KEY_EC_P384);
    g_assert_cmpuint(acme_fake_ca_issued_count(f->ca), ==, 2);
    acme_free(key_pem);
    acme_free(chain_pem);
    g_free(id1);
    g_free(id2);
}

/* A given key is used, and replaces is recorded; a short lifetime from the options. */
static void test_ca_issue_key(CaFixture *f, gconstpointer data)
{
    static const char *const names[] = { "www.example.com" };
    acme_issue_options o = ACME_ISSUE_OPTIONS_INIT;
    char *key_pem = NULL, *chain_pem = NULL, *given_pem = NULL, *repl, *id;
    acme_key *key = NULL;

    g_assert_cmpint(acme_key_generate(&key, ACME_KEY_EC_P384, NULL), ==, ACME_OK);
    o.names = names;
    o.nnames = 1;
    o.cert_key = key;
    o.key_type = ACME_KEY_EC_P256; /* ignored: the key decides */
    o.replaces = "aaaa.bbbb";
    g_assert_cmpint(acme_issuer_issue(f->issuer, &key_pem, &chain_pem, &o, NULL), ==, ACME_OK);
    id = check_chain(key_pem, chain_pem, names, 1, START_MS / 1000, 7 * DAY, ACME_KEY_EC_P384);
    g_assert_cmpint(acme_key_save_pem(&given_pem, key, ACME_KEY_FORMAT_PKCS8, NULL), ==, ACME_OK);
    g_assert_cmpstr(key_pem, ==, given_pem);
    repl = acme_fake_ca_last_replaces(f->ca);
    g_assert_cmpstr(repl, ==, "aaaa.bbbb");
    acme_free(repl);
    g_assert_cmpint(acme_fake_ca_last_key_type(f->ca), ==, ACME_KEY_EC_P384);
    acme_free(given_pem);
    acme_free(key_pem);
    acme_free(chain_pem);
    acme_key_free(key);
    g_free(id);
}

static void test_ca_bad_input(CaFixture *f, gconstpointer data)
{
    static const char *const bad1[] = { "foo..example.com" };
    static const char *const bad2[] = { "ok.example.com", "has space.example.com" };
    static const char *const bad3[] = { "*.*.example.com" };
    static const char *const good[] = { "example.com" };
    acme_fake_ca_options o = ACME_FAKE_CA_OPTIONS_INIT;
    acme_issue_options io = ACME_ISSUE_OPTIONS_INIT;
    char *k = NULL, *c = NULL;
    acme_fake_ca *ca = NULL;
    acme_issuer *is = NULL;
    acme_error *err = NULL;

    g_assert_cmpint(issue_names(f->issuer, &k, &c, bad1, 1, 0, &err), ==, ACME_E_INVALID);
    g_assert_null(k);
    g_assert_null(c);
    acme_error_free(err);
    err = NULL;
    g_assert_cmpint(issue_names(f->issuer, &k, &c, bad2, 2, 0, NULL), ==, ACME_E_INVALID);
    g_assert_cmpint(issue_names(f->issuer, &k, &c, bad3, 1, 0, NULL), ==, ACME_E_INVALID);
    g_assert_cmpint(issue_names(f->issuer, &k, &c, good, 0, 0, NULL), ==, ACME_E_INVALID);
    g_assert_cmpint(issue_names(f->issuer, &k, &c, NULL, 1, 0, NULL), ==, ACME_E_INVALID);
    g_assert_cmpint(acme_issuer_issue(f->issuer, &k, &c, NULL, NULL), ==, ACME_E_INVALID);
    io.version = 99;
    io.names = good;
    io.nnames = 1;
    g_assert_cmpint(acme_issuer_issue(f->issuer, &k, &c, &io, NULL), ==, ACME_E_INVALID);
    g_assert_cmpint(acme_issuer_issue(f->issuer, NULL, &c, &io, NULL), ==, ACME_E_INVALID);
    g_assert_cmpuint(acme_fake_ca_issued_count(f->ca), ==, 0);

    o.version = 0;
    g_assert_cmpint(acme_fake_ca_new(&ca, &o, &err), ==, ACME_E_INVALID);
    g_assert_null(ca);
    acme_error_free(err);
    o.version = ACME_FAKE_CA_OPTIONS_VERSION;
    o.lifetime_seconds = -1;
    g_assert_cmpint(acme_fake_ca_new(&ca, &o, NULL), ==, ACME_E_INVALID);
    o.lifetime_seconds = 0;
    o.name = "";
    g_assert_cmpint(acme_fake_ca_new(&ca, &o, NULL), ==, ACME_E_INVALID);
    g_assert_cmpint(acme_fake_ca_new(NULL, NULL, NULL), ==, ACME_E_INVALID);
    g_assert_cmpint(acme_fake_ca_issuer(&is, NULL, NULL), ==, ACME_E_INVALID);
    g_assert_null(is);
    g_assert_cmpint(acme_fake_ca_fail_next(NULL, 0, "rateLimited", -1, NULL), ==, ACME_E_INVALID);
    g_assert_cmpint(acme_fake_ca_fail_next(f->ca, 3, NULL, -1, NULL), ==, ACME_E_INVALID);
    g_assert_cmpint(acme_fake_ca_fail_next(f->ca, 0, NULL, -1, NULL), ==, ACME_E_INVALID);
    g_assert_cmpint(acme_fake_ca_fail_next(f->ca, 0, "", -1, NULL), ==, ACME_E_INVALID);
    g_assert_cmpint(acme_fake_ca_fail_next(f->ca, 0, "rateLimited", -3, NULL), ==, ACME_E_INVALID);
    g_assert_cmpint(acme_fake_ca_set_renewal_info(f->ca, NULL, 10, 5, NULL, -1, NULL), ==,
                    ACME_E_INVALID);
    /* The NULL-safe controller calls. */
    acme_fake_ca_pause(NULL);
    acme_fake_ca_resume(NULL);
    acme_fake_ca_wait_pending(NULL, 3);
    g_assert_cmpuint(acme_fake_ca_pending(NULL), ==, 0);
    g_assert_null(acme_fake_ca_account_contact(NULL));
    g_assert_null(acme_fake_ca_root_pem(NULL));
    acme_fake_ca_free(NULL);

    /* The default options: the system clock, 90 days. */
    g_assert_cmpint(acme_fake_ca_new(&ca, NULL, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_fake_ca_issuer(&is, ca, NULL), ==, ACME_OK);
    acme_fake_ca_free(ca); /* the issuer keeps it alive */
    {
        time_t before = time(NULL), nb;
        acme_chain *chain = NULL;

        g_assert_cmpint(issue_names(is, &k, &c, good, 1, 0, NULL), ==, ACME_OK);
        g_assert_cmpint(acme_chain_parse(&chain, c, strlen(c), NULL), ==, ACME_OK);
        nb = acme_cert_not_before(acme_chain_get(chain, 0));
        g_assert_cmpint(nb, >=, before);
        g_assert_cmpint(nb, <=, time(NULL) + 1); /* time() may lag the real-time clock a tick */
        g_assert_cmpint(acme_cert_not_after(acme_chain_get(chain, 0)), ==, nb + 90 * DAY);
        acme_chain_free(chain);
    }
    acme_free(k);
    acme_free(c);
    acme_issuer_free(is);
}

typedef struct {
    acme_issuer *issuer;
    int rc;
    acme_error *err;
    char *key_pem, *chain_pem;
} issue_job;

static void *issue_run(void *arg)
{
    static const char *const names[] = { "paused.example.com" };
    issue_job *j = arg;

    j->rc = issue_names(j->issuer, &j->key_pem, &j->chain_pem, names, 1, 0, &j->err);
    return NULL;
}

static void job_clear(issue_job *j)
{
    acme_free(j->key_pem);
    acme_free(j->chain_pem);
    acme_error_free(j->err);
    acme_issuer_free(j->issuer);
}

static void test_ca_pause_resume(CaFixture *f, gconstpointer data)
{
    issue_job jobs[3];
    pthread_t th[3];

    memset(jobs, 0, sizeof(jobs));
    acme_fake_ca_pause(f->ca);
    for (int i = 0; i < 3; i++) {
        g_assert_cmpint(acme_fake_ca_issuer(&jobs[i].issuer, f->ca, NULL), ==, ACME_OK);
        g_assert_cmpint(pthread_create(&th[i], NULL, issue_run, &jobs[i]), ==, 0);
    }
    acme_fake_ca_wait_pending(f->ca, 3);
    g_assert_cmpuint(acme_fake_ca_pending(f->ca), ==, 3);
    g_assert_cmpuint(acme_fake_ca_issued_count(f->ca), ==, 0);
    g_assert_cmpuint(acme_fake_ca_finished_count(f->ca), ==, 0);
    acme_fake_ca_resume(f->ca);
    acme_fake_ca_wait_finished(f->ca, 3);
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        g_assert_cmpint(jobs[i].rc, ==, ACME_OK);
        g_assert_nonnull(jobs[i].chain_pem);
        job_clear(&jobs[i]);
    }
    g_assert_cmpuint(acme_fake_ca_pending(f->ca), ==, 0);
    g_assert_cmpuint(acme_fake_ca_issued_count(f->ca), ==, 3);
}

static void test_ca_cancel(CaFixture *f, gconstpointer data)
{
    issue_job a = { 0 }, b = { 0 };
    pthread_t ta, tb;

    acme_fake_ca_pause(f->ca);
    g_assert_cmpint(acme_fake_ca_issuer(&a.issuer, f->ca, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_fake_ca_issuer(&b.issuer, f->ca, NULL), ==, ACME_OK);
    g_assert_cmpint(pthread_create(&ta, NULL, issue_run, &a), ==, 0);
    g_assert_cmpint(pthread_create(&tb, NULL, issue_run, &b), ==, 0);
    acme_fake_ca_wait_pending(f->ca, 2);
    /* Cancelling one issuer ends its call only; the CA stays paused. */
    acme_issuer_cancel(a.issuer);
    pthread_join(ta, NULL);
    g_assert_cmpint(a.rc, ==, ACME_E_CANCELLED);
    g_assert_cmpint(acme_error_code_get(a.err), ==, ACME_E_CANCELLED);
    g_assert_null(a.chain_pem);
    g_assert_null(a.key_pem);
    g_assert_cmpuint(acme_fake_ca_pending(f->ca), ==, 1);
    acme_fake_ca_resume(f->ca);
    pthread_join(tb, NULL);
    g_assert_cmpint(b.rc, ==, ACME_OK);
    g_assert_cmpuint(acme_fake_ca_issued_count(f->ca), ==, 1);
    g_assert_cmpuint(acme_fake_ca_finished_count(f->ca), ==, 2);
    /* Cancel is sticky for that issuer: later calls are cancelled too. */
    acme_error_free(a.err);
    a.err = NULL;
    issue_run(&a);
    g_assert_cmpint(a.rc, ==, ACME_E_CANCELLED);
    g_assert_cmpint(acme_issuer_account(a.issuer, NULL, NULL), ==, ACME_E_CANCELLED);
    job_clear(&a);
    job_clear(&b);
}

static void test_ca_failures(CaFixture *f, gconstpointer data)
{
    static const char *const names[] = { "fail.example.com" };
    char *k = NULL, *c = NULL;
    acme_error *err = NULL;

    g_assert_cmpint(acme_fake_ca_fail_next(f->ca, 0, "rateLimited", 3600, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_fake_ca_fail_next_problem(f->ca, 0, "userActionRequired",
                                                   "accept the new terms",
                                                   "https://ca.example/terms", -1, NULL),
                    ==, ACME_OK);
    g_assert_cmpint(acme_fake_ca_fail_next(f->ca, 0, URN "serverInternal", -1, NULL), ==,
                    ACME_OK);
    g_assert_cmpint(acme_fake_ca_fail_next(f->ca, ACME_E_NETWORK, NULL, 5, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_fake_ca_fail_next(f->ca, ACME_E_TIMEOUT, "rateLimited", -1, NULL), ==,
                    ACME_OK);

    /* In the order queued. */
    g_assert_cmpint(issue_names(f->issuer, &k, &c, names, 1, 0, &err), ==, ACME_E_RATELIMITED);
    g_assert_null(k);
    g_assert_cmpstr(acme_error_problem_type(err), ==, URN "rateLimited");
    g_assert_cmpint(acme_error_retry_after(err), ==, 3600);
    g_assert_true(acme_error_retryable(err));
    g_assert_cmpint(acme_error_http_status(err), ==, 429);
    acme_error_free(err);
    err = NULL;

    g_assert_cmpint(issue_names(f->issuer, &k, &c, names, 1, 0, &err), ==, ACME_E_REJECTED);
    g_assert_cmpstr(acme_error_problem_type(err), ==, URN "userActionRequired");
    g_assert_cmpstr(acme_error_instance(err), ==, "https://ca.example/terms");
    g_assert_cmpstr(acme_error_detail(err), ==, "accept the new terms");
    g_assert_cmpint(acme_error_retry_after(err), ==, -1);
    g_assert_false(acme_error_retryable(err));
    acme_error_free(err);
    err = NULL;

    /* Whatever the library's problem table says serverInternal is, the fake says too. */
    {
        static const char doc[] = "{\"type\":\"" URN "serverInternal\"}";
        acme_error *table = acme__problem_from_json(doc, strlen(doc), 500);

        g_assert_nonnull(table);
        g_assert_cmpint(issue_names(f->issuer, &k, &c, names, 1, 0, &err), ==,
                        acme_error_code_get(table));
        g_assert_cmpint(acme_error_retryable(err), ==, acme_error_retryable(table));
        acme_error_free(table);
    }
    g_assert_cmpstr(acme_error_problem_type(err), ==, URN "serverInternal");
    g_assert_true(acme_error_retryable(err));
    g_assert_cmpint(acme_error_http_status(err), ==, 500);
    acme_error_free(err);
    err = NULL;

    g_assert_cmpint(issue_names(f->issuer, &k, &c, names, 1, 0, &err), ==, ACME_E_NETWORK);
    g_assert_null(acme_error_problem_type(err));
    g_assert_cmpint(acme_error_retry_after(err), ==, 5);
    g_assert_true(acme_error_retryable(err));
    acme_error_free(err);
    err = NULL;

    /* The code given wins over the table's; an ACME type keeps its retryability. */
    g_assert_cmpint(issue_names(f->issuer, &k, &c, names, 1, 0, &err), ==, ACME_E_TIMEOUT);
    g_assert_cmpint(acme_error_code_get(err), ==, ACME_E_TIMEOUT);
    g_assert_true(acme_error_retryable(err));
    acme_error_free(err);
    err = NULL;

    /* The queue is empty: success, and failures were not counted as issued. */
    g_assert_cmpint(issue_names(f->issuer, &k, &c, names, 1, 0, NULL), ==, ACME_OK);
    g_assert_cmpuint(acme_fake_ca_issued_count(f->ca), ==, 1);
    g_assert_cmpuint(acme_fake_ca_finished_count(f->ca), ==, 6);
    acme_free(k);
    acme_free(c);
}

static void test_ca_account(CaFixture *f, gconstpointer data)
{
    acme_error *err = NULL;
    char *contact;

    g_assert_cmpint(acme_issuer_account(f->issuer, "first@example.com", NULL), ==, ACME_OK);
    g_assert_cmpint(acme_fake_ca_fail_account(f->ca, 0, "invalidContact", -1, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_issuer_account(f->issuer, "second@example.com", &err), ==,
                    ACME_E_REJECTED);
    g_assert_cmpstr(acme_error_problem_type(err), ==, URN "invalidContact");
    acme_error_free(err);
    /* A failed call changes nothing. */
    contact = acme_fake_ca_account_contact(f->ca);
    g_assert_cmpstr(contact, ==, "first@example.com");
    acme_free(contact);
    /* The account failure did not touch the issue queue. */
    {
        static const char *const names[] = { "example.com" };
        char *k = NULL, *c = NULL;

        g_assert_cmpint(issue_names(f->issuer, &k, &c, names, 1, 0, NULL), ==, ACME_OK);
        acme_free(k);
        acme_free(c);
    }
    g_assert_cmpint(acme_issuer_account(f->issuer, NULL, NULL), ==, ACME_OK);
    g_assert_null(acme_fake_ca_account_contact(f->ca));
    g_assert_cmpuint(acme_fake_ca_account_count(f->ca), ==, 3);
}

static void test_ca_renewal_info(CaFixture *f, gconstpointer data)
{
    static const char *const n1[] = { "one.example.com", "alias.example.com" };
    static const char *const n2[] = { "two.example.com" };
    char *k = NULL, *c = NULL, *id1, *id2;
    acme_renewal_info *ri = NULL;
    acme_error *err = NULL;

    g_assert_cmpint(issue_names(f->issuer, &k, &c, n1, 2, 0, NULL), ==, ACME_OK);
    id1 = check_chain(k, c, n1, 2, START_MS / 1000, 90 * DAY, ACME_KEY_EC_P256);
    acme_free(k);
    acme_free(c);
    g_assert_cmpint(issue_names(f->issuer, &k, &c, n2, 1, 0, NULL), ==, ACME_OK);
    id2 = check_chain(k, c, n2, 1, START_MS / 1000, 90 * DAY, ACME_KEY_EC_P256);
    acme_free(k);
    acme_free(c);

    /* None set: the CA offers none. */
    g_assert_cmpint(acme_issuer_renewal_info(f->issuer, &ri, id1, &err), ==, ACME_E_NOTSUP);
    g_assert_null(ri);
    acme_error_free(err);

    /* By a name of the certificate. */
    g_assert_cmpint(acme_fake_ca_set_renewal_info(f->ca, "alias.example.com", 1000, 2000,
                                                  "https://ca.example/incident", 3600, NULL),
                    ==, ACME_OK);
    g_assert_cmpint(acme_issuer_renewal_info(f->issuer, &ri, id1, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_renewal_info_window_start(ri), ==, 1000);
    g_assert_cmpint(acme_renewal_info_window_end(ri), ==, 2000);
    g_assert_cmpstr(acme_renewal_info_explanation_url(ri), ==, "https://ca.example/incident");
    g_assert_cmpint(acme_renewal_info_retry_after(ri), ==, 3600);
    acme_renewal_info_free(ri);
    g_assert_cmpint(acme_issuer_renewal_info(f->issuer, &ri, id2, NULL), ==, ACME_E_NOTSUP);

    /* An identifier beats a name; a later answer for the same key replaces it. */
    g_assert_cmpint(acme_fake_ca_set_renewal_info(f->ca, id1, 3000, 4000, NULL, -1, NULL), ==,
                    ACME_OK);
    g_assert_cmpint(acme_fake_ca_set_renewal_info(f->ca, id1, 5000, 6000, NULL, -1, NULL), ==,
                    ACME_OK);
    g_assert_cmpint(acme_issuer_renewal_info(f->issuer, &ri, id1, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_renewal_info_window_start(ri), ==, 5000);
    g_assert_null(acme_renewal_info_explanation_url(ri));
    g_assert_cmpint(acme_renewal_info_retry_after(ri), ==, -1);
    acme_renewal_info_free(ri);

    /* NULL: every other certificate. */
    g_assert_cmpint(acme_fake_ca_set_renewal_info(f->ca, NULL, 7000, 8000, NULL, 60, NULL), ==,
                    ACME_OK);
    g_assert_cmpint(acme_issuer_renewal_info(f->issuer, &ri, id2, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_renewal_info_window_start(ri), ==, 7000);
    acme_renewal_info_free(ri);
    g_assert_cmpint(acme_issuer_renewal_info(f->issuer, &ri, "unknown.id", NULL), ==, ACME_OK);
    g_assert_cmpint(acme_renewal_info_window_end(ri), ==, 8000);
    acme_renewal_info_free(ri);
    g_assert_cmpint(acme_issuer_renewal_info(f->issuer, &ri, NULL, NULL), ==, ACME_E_INVALID);
    g_free(id1);
    g_free(id2);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_assert_cmpint(acme_global_init(), ==, ACME_OK);

    g_test_add_func("/clock/system/now", test_system_now);
    g_test_add_func("/clock/new/invalid", test_clock_new_invalid);
    g_test_add_func("/clock/manual/basic", test_manual_basic);
    g_test_add_func("/clock/manual/subscribers", test_manual_subscribers);
    g_test_add_func("/clock/manual/wait-wakes", test_manual_wait);
    g_test_add_func("/clock/manual/wait-set-back", test_manual_wait_set);
    g_test_add_func("/clock/manual/unsubscribe-waits", test_manual_unsubscribe_waits);
    g_test_add_func("/clock/system/wait", test_system_wait);
    g_test_add_func("/issuer/new", test_issuer_new);
    g_test_add_func("/issuer/client/bad-email", test_issuer_client_bad_email);
    g_test_add_func("/issuer/renewal-info-new", test_renewal_info_new);
    g_test_add("/fake-ca/issue", CaFixture, NULL, ca_setup, test_ca_issue, ca_teardown);
    g_test_add("/fake-ca/issue-key-lifetime", CaFixture, GINT_TO_POINTER(7 * DAY), ca_setup,
               test_ca_issue_key, ca_teardown);
    g_test_add("/fake-ca/bad-input", CaFixture, NULL, ca_setup, test_ca_bad_input, ca_teardown);
    g_test_add("/fake-ca/pause-resume", CaFixture, NULL, ca_setup, test_ca_pause_resume,
               ca_teardown);
    g_test_add("/fake-ca/cancel", CaFixture, NULL, ca_setup, test_ca_cancel, ca_teardown);
    g_test_add("/fake-ca/failures", CaFixture, NULL, ca_setup, test_ca_failures, ca_teardown);
    g_test_add("/fake-ca/account", CaFixture, NULL, ca_setup, test_ca_account, ca_teardown);
    g_test_add("/fake-ca/renewal-info", CaFixture, NULL, ca_setup, test_ca_renewal_info,
               ca_teardown);

    {
        int rc = g_test_run();

        acme_global_cleanup();
        return rc;
    }
}
