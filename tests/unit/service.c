/*
 * Unit tests: the issuing service (txacme's AcmeIssuingServiceTests, ported,
 * plus short-lived certificates, backoff, rate limits, userActionRequired,
 * ARI, multi-name entries, status, events) and its policy functions.
 *
 * Every service test drives a manual clock, issues from the fake CA of
 * <acme/testing.h> and keeps certificates in a memory store.  Nothing
 * sleeps: the tests wait for the service to be idle
 * (acme__service_wait_idle()) or for the fake CA to hold paused calls
 * (acme_fake_ca_wait_pending()).
 */
#include "config.h"

#include <glib.h>
#include <pthread.h>
#include <string.h>

#include <acme/acme.h>
#include <acme/sys/error.h>
#include <acme/sys/store.h>
#include <acme/testing.h>

#include "service/policy.h"
#include "service/service-internal.h"

#define T0_MS INT64_C(1767225600000) /* 2026-01-01T00:00:00Z */
#define T0 ((time_t)(T0_MS / 1000))
#define SEC_MS INT64_C(1000)
#define HOUR_MS (3600 * SEC_MS)
#define DAY_MS (24 * HOUR_MS)
#define DAY ((int64_t)86400)

/* ------------------------------------------------------------------ */
/* Policy                                                              */
/* ------------------------------------------------------------------ */

static void test_policy_intervals(void)
{
    int64_t r, p;

    /* 90-day certificates: the configured 30 and 15 days. */
    acme__policy_intervals(90 * DAY, 30 * DAY, 15 * DAY, &r, &p);
    g_assert_cmpint(r, ==, 30 * DAY);
    g_assert_cmpint(p, ==, 15 * DAY);
    /* Let's Encrypt's 45-day certificates: a third, then half of that. */
    acme__policy_intervals(45 * DAY, 30 * DAY, 15 * DAY, &r, &p);
    g_assert_cmpint(r, ==, 15 * DAY);
    g_assert_cmpint(p, ==, 15 * DAY / 2);
    /* 6-day certificates (10 days or less): half. */
    acme__policy_intervals(6 * DAY, 30 * DAY, 15 * DAY, &r, &p);
    g_assert_cmpint(r, ==, 3 * DAY);
    g_assert_cmpint(p, ==, 3 * DAY / 2);
    acme__policy_intervals(10 * DAY, 30 * DAY, 15 * DAY, &r, &p);
    g_assert_cmpint(r, ==, 5 * DAY);
    acme__policy_intervals(12 * DAY, 30 * DAY, 15 * DAY, &r, &p);
    g_assert_cmpint(r, ==, 4 * DAY);
    g_assert_cmpint(p, ==, 2 * DAY);
    /* Configured values smaller than the shares stay. */
    acme__policy_intervals(90 * DAY, 10 * DAY, 2 * DAY, &r, &p);
    g_assert_cmpint(r, ==, 10 * DAY);
    g_assert_cmpint(p, ==, 2 * DAY);
    /* A broken lifetime changes nothing. */
    acme__policy_intervals(-5, 30 * DAY, 15 * DAY, &r, &p);
    g_assert_cmpint(r, ==, 30 * DAY);
    g_assert_cmpint(p, ==, 15 * DAY);
}

static void test_policy_renew_panic(void)
{
    time_t nb = T0, na = T0 + 90 * DAY;

    g_assert_cmpint(acme__policy_renew_at(nb, na, 30 * DAY, 15 * DAY), ==, T0 + 60 * DAY);
    g_assert_cmpint(acme__policy_panic_at(nb, na, 30 * DAY, 15 * DAY), ==, T0 + 75 * DAY);
    g_assert_false(acme__policy_panics(true, nb, na, T0 + 74 * DAY, 30 * DAY, 15 * DAY));
    g_assert_true(acme__policy_panics(true, nb, na, T0 + 75 * DAY, 30 * DAY, 15 * DAY));
    g_assert_true(acme__policy_panics(true, nb, na, T0 + 91 * DAY, 30 * DAY, 15 * DAY));
    /* No certificate: as expired. */
    g_assert_true(acme__policy_panics(false, 0, 0, T0, 30 * DAY, 15 * DAY));
    /* Short-lived: a fresh 6-day certificate is not due (no loop). */
    na = T0 + 6 * DAY;
    g_assert_cmpint(acme__policy_renew_at(nb, na, 30 * DAY, 15 * DAY), ==, T0 + 3 * DAY);
    g_assert_false(acme__policy_panics(true, nb, na, T0, 30 * DAY, 15 * DAY));
    g_assert_true(acme__policy_panics(true, nb, na, T0 + 5 * DAY, 30 * DAY, 15 * DAY));
}

static void test_policy_backoff(void)
{
    int64_t lo, hi;

    acme__policy_backoff_bounds(1, 600, 43200, &lo, &hi);
    g_assert_cmpint(lo, ==, 300);
    g_assert_cmpint(hi, ==, 600);
    acme__policy_backoff_bounds(3, 600, 43200, &lo, &hi);
    g_assert_cmpint(lo, ==, 1200);
    g_assert_cmpint(hi, ==, 2400);
    /* Capped, and no overflow however many attempts. */
    acme__policy_backoff_bounds(1000, 600, 43200, &lo, &hi);
    g_assert_cmpint(lo, ==, 21600);
    g_assert_cmpint(hi, ==, 43200);
    g_assert_cmpint(acme__policy_backoff(2, 600, 43200, 0), ==, 600);
    g_assert_cmpint(acme__policy_backoff(2, 600, 43200, UINT64_MAX), ==, 1200);
    for (uint64_t r = 0; r < 5000; r += 7) {
        int64_t d = acme__policy_backoff(4, 600, 43200, r * 0x9e3779b97f4a7c15u);

        g_assert_cmpint(d, >=, 2400);
        g_assert_cmpint(d, <=, 4800);
    }
    /* Retry-After is a floor. */
    g_assert_cmpint(acme__policy_retry_delay(1, 600, 43200, 7200, 0), ==, 7200);
    g_assert_cmpint(acme__policy_retry_delay(1, 600, 43200, 10, 0), ==, 300);
    g_assert_cmpint(acme__policy_retry_delay(1, 600, 43200, -1, UINT64_MAX), ==, 600);
}

static void test_policy_ari(void)
{
    /* Future window: inside it. */
    for (uint64_t r = 0; r < 1000; r += 13) {
        time_t t = acme__policy_ari_renew_at(T0 + 100, T0 + 200, T0, r * 0x9e3779b97f4a7c15u);

        g_assert_cmpint(t, >=, T0 + 100);
        g_assert_cmpint(t, <, T0 + 200);
    }
    g_assert_cmpint(acme__policy_ari_renew_at(T0 + 100, T0 + 200, T0, 0), ==, T0 + 100);
    g_assert_cmpint(acme__policy_ari_renew_at(T0 + 100, T0 + 200, T0, 99), ==, T0 + 199);
    /* Begun: from now on. */
    g_assert_cmpint(acme__policy_ari_renew_at(T0 - 100, T0 + 200, T0, 0), ==, T0);
    /* Past (a revocation): now. */
    g_assert_cmpint(acme__policy_ari_renew_at(T0 - 200, T0 - 100, T0, 12345), ==, T0);
    /* Poll: Retry-After within [1 min, 12 h]; 6 h without. */
    g_assert_cmpint(acme__policy_ari_poll_delay(-1), ==, 6 * 3600);
    g_assert_cmpint(acme__policy_ari_poll_delay(5), ==, 60);
    g_assert_cmpint(acme__policy_ari_poll_delay(3600), ==, 3600);
    g_assert_cmpint(acme__policy_ari_poll_delay(7 * 86400), ==, 12 * 3600);
}

/* ------------------------------------------------------------------ */
/* Fixture                                                             */
/* ------------------------------------------------------------------ */

typedef struct {
    acme_clock *clock;
    acme_fake_ca *ca;       /* the service's CA */
    acme_fake_ca *seed;     /* makes the certificates a store starts with */
    acme_store *store;
    acme_service *svc;
    acme_service_options opts;
    acme_responder *resp;
    pthread_mutex_t mu;
    GPtrArray *events;      /* "KIND name" */
    GPtrArray *logs;        /* "level|message|k=v k=v" */
    GPtrArray *panics;      /* "name|problem type" */
    gint keygens;
    gint list_fails;        /* for the failing store */
    acme_store *inner;      /* the failing store's memory store */
} Fx;

static int factory(void *ud, acme_issuer **out, acme_error **err)
{
    Fx *fx = ud;

    return acme_fake_ca_issuer(out, fx->ca, err);
}

static const char *kind_name(acme_service_event_kind k)
{
    switch (k) {
    case ACME_EVENT_OBTAINING: return "OBTAINING";
    case ACME_EVENT_OBTAINED: return "OBTAINED";
    case ACME_EVENT_RENEWED: return "RENEWED";
    case ACME_EVENT_FAILED: return "FAILED";
    case ACME_EVENT_EXPIRING: return "EXPIRING";
    }
    return "?";
}

static void on_event(void *ud, const acme_service_event *ev)
{
    Fx *fx = ud;

    g_assert_nonnull(ev->name);
    if (ev->kind == ACME_EVENT_FAILED)
        g_assert_nonnull(ev->error);
    else
        g_assert_null(ev->error);
    if (ev->kind == ACME_EVENT_OBTAINED || ev->kind == ACME_EVENT_RENEWED)
        g_assert_cmpint(ev->not_after, >, 0);
    pthread_mutex_lock(&fx->mu);
    g_ptr_array_add(fx->events, g_strdup_printf("%s %s", kind_name(ev->kind), ev->name));
    pthread_mutex_unlock(&fx->mu);
}

static void on_log(void *ud, acme_log_level level, const char *msg, const acme_log_field *f,
                   size_t n)
{
    Fx *fx = ud;
    GString *s = g_string_new(NULL);

    g_string_append_printf(s, "%s|%s|", acme_log_level_name(level), msg);
    for (size_t i = 0; i < n; i++)
        g_string_append_printf(s, "%s=%s ", f[i].key, f[i].value);
    pthread_mutex_lock(&fx->mu);
    g_ptr_array_add(fx->logs, g_string_free(s, FALSE));
    pthread_mutex_unlock(&fx->mu);
}

static void on_panic(void *ud, const char *name, const acme_error *e)
{
    Fx *fx = ud;

    g_assert_nonnull(e);
    pthread_mutex_lock(&fx->mu);
    g_ptr_array_add(fx->panics, g_strdup_printf("%s|%s", name,
                                                acme_error_problem_type(e)
                                                    ? acme_error_problem_type(e) : ""));
    pthread_mutex_unlock(&fx->mu);
}

static void fx_setup(Fx *fx, gconstpointer data)
{
    acme_fake_ca_options co = ACME_FAKE_CA_OPTIONS_INIT;
    acme_service_options o = ACME_SERVICE_OPTIONS_INIT;
    int64_t lifetime = data ? *(const int64_t *)data : 0;

    memset(fx, 0, sizeof(*fx));
    pthread_mutex_init(&fx->mu, NULL);
    fx->events = g_ptr_array_new_with_free_func(g_free);
    fx->logs = g_ptr_array_new_with_free_func(g_free);
    fx->panics = g_ptr_array_new_with_free_func(g_free);
    g_assert_cmpint(acme_clock_manual_new(&fx->clock, T0_MS, NULL), ==, ACME_OK);
    co.clock = fx->clock;
    co.lifetime_seconds = lifetime;
    g_assert_cmpint(acme_fake_ca_new(&fx->ca, &co, NULL), ==, ACME_OK);
    co.lifetime_seconds = 0;
    co.name = "seed CA";
    g_assert_cmpint(acme_fake_ca_new(&fx->seed, &co, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_store_memory_new(&fx->store, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_responder_null_new(&fx->resp, "http-01", NULL), ==, ACME_OK);
    o.store = fx->store;
    o.issuer_factory = factory;
    o.issuer_factory_userdata = fx;
    o.clock = fx->clock;
    o.responders = &fx->resp;
    o.nresponders = 1;
    o.panic = on_panic;
    o.panic_userdata = fx;
    o.on_event = on_event;
    o.event_userdata = fx;
    o.log = on_log;
    o.log_userdata = fx;
    o.log_level = ACME_LOG_DEBUG;
    o.workers = 3;
    fx->opts = o;
}

static void fx_teardown(Fx *fx, gconstpointer data)
{
    (void)data;
    acme_service_free(fx->svc);
    acme_fake_ca_resume(fx->ca);
    acme_store_free(fx->store);
    acme_store_free(fx->inner);
    acme_responder_free(fx->resp);
    acme_fake_ca_free(fx->ca);
    acme_fake_ca_free(fx->seed);
    acme_clock_free(fx->clock);
    g_ptr_array_unref(fx->events);
    g_ptr_array_unref(fx->logs);
    g_ptr_array_unref(fx->panics);
    pthread_mutex_destroy(&fx->mu);
}

static void fx_new(Fx *fx)
{
    acme_error *e = NULL;

    if (acme_service_new(&fx->svc, &fx->opts, &e) < 0)
        g_error("acme_service_new: %s", acme_error_message(e));
}

static void fx_start(Fx *fx)
{
    acme_error *e = NULL;

    if (!fx->svc)
        fx_new(fx);
    if (acme_service_start(fx->svc, &e) < 0)
        g_error("acme_service_start: %s", acme_error_message(e));
}

static void settle(Fx *fx)
{
    acme__service_wait_idle(fx->svc);
}

static void advance(Fx *fx, int64_t ms)
{
    g_assert_cmpint(acme_clock_manual_advance(fx->clock, ms), ==, ACME_OK);
    settle(fx);
}

/* Store a certificate for @p names[0] that the seed CA issued @p age_ms ago (90 days). */
static void seed_cert(Fx *fx, const char *const *names, size_t n, int64_t age_ms)
{
    acme_issue_options io = ACME_ISSUE_OPTIONS_INIT;
    acme_issuer *iss = NULL;
    acme_key *k = NULL;
    acme_bundle *b = NULL;
    char *kp = NULL, *cp = NULL;
    int64_t now = acme_clock_now_ms(fx->clock);

    g_assert_null(fx->svc); /* the clock goes back: only before the service exists */
    g_assert_cmpint(acme_clock_manual_set(fx->clock, now - age_ms), ==, ACME_OK);
    g_assert_cmpint(acme_fake_ca_issuer(&iss, fx->seed, NULL), ==, ACME_OK);
    io.names = names;
    io.nnames = n;
    g_assert_cmpint(acme_issuer_issue(iss, &kp, &cp, &io, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_key_load_pem(&k, kp, strlen(kp), NULL), ==, ACME_OK);
    g_assert_cmpint(acme_bundle_new(&b, k, cp, strlen(cp), NULL), ==, ACME_OK);
    g_assert_cmpint(acme_store_put(fx->store, names[0], b, NULL), ==, ACME_OK);
    acme_bundle_free(b);
    acme_key_free(k);
    acme_free(kp);
    acme_free(cp);
    acme_issuer_free(iss);
    g_assert_cmpint(acme_clock_manual_set(fx->clock, now), ==, ACME_OK);
}

static void seed1(Fx *fx, const char *name, int64_t age_ms)
{
    const char *names[] = { name };

    seed_cert(fx, names, 1, age_ms);
}

static void seed_request(Fx *fx, const char *const *names, size_t n)
{
    acme_bundle *b = NULL;

    g_assert_cmpint(acme_bundle_new_request(&b, names, n, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_store_put(fx->store, names[0], b, NULL), ==, ACME_OK);
    acme_bundle_free(b);
}

static void seed_blank(Fx *fx, const char *name)
{
    const char *names[] = { name };

    seed_request(fx, names, 1);
}

/* The stored certificate's notAfter (0: none); its issuer CN through @p issuer_cn. */
static time_t stored_not_after(Fx *fx, const char *name, char **issuer_cn)
{
    acme_bundle *b = NULL;
    time_t t = 0;

    if (issuer_cn)
        *issuer_cn = NULL;
    if (acme_store_get(&b, fx->store, name, NULL) < 0)
        return 0;
    if (acme_bundle_cert(b)) {
        t = acme_cert_not_after(acme_bundle_cert(b));
        if (issuer_cn)
            *issuer_cn = g_strdup(acme_cert_issuer_cn(acme_bundle_cert(b)));
    }
    acme_bundle_free(b);
    return t;
}

static char *stored_ari_id(Fx *fx, const char *name)
{
    acme_bundle *b = NULL;
    char *id = NULL;

    g_assert_cmpint(acme_store_get(&b, fx->store, name, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_cert_ari_id(&id, acme_bundle_cert(b), NULL), ==, ACME_OK);
    acme_bundle_free(b);
    return id;
}

static bool has_line(Fx *fx, GPtrArray *a, const char *frag1, const char *frag2)
{
    bool found = false;

    pthread_mutex_lock(&fx->mu);
    for (guint i = 0; i < a->len && !found; i++) {
        const char *l = g_ptr_array_index(a, i);

        found = strstr(l, frag1) && (!frag2 || strstr(l, frag2));
    }
    pthread_mutex_unlock(&fx->mu);
    return found;
}

static guint count_lines(Fx *fx, GPtrArray *a, const char *frag)
{
    guint n = 0;

    pthread_mutex_lock(&fx->mu);
    for (guint i = 0; i < a->len; i++)
        if (strstr(g_ptr_array_index(a, i), frag))
            n++;
    pthread_mutex_unlock(&fx->mu);
    return n;
}

/* The events so far, joined by ", ". */
static char *events_str(Fx *fx)
{
    GString *s = g_string_new(NULL);

    pthread_mutex_lock(&fx->mu);
    for (guint i = 0; i < fx->events->len; i++)
        g_string_append_printf(s, "%s%s", i ? ", " : "",
                               (const char *)g_ptr_array_index(fx->events, i));
    pthread_mutex_unlock(&fx->mu);
    return g_string_free(s, FALSE);
}

/* The status entry of @p name (asserting it exists). */
static size_t status_find(const acme_service_status *st, const char *name)
{
    for (size_t i = 0; i < acme_service_status_count(st); i++)
        if (strcmp(acme_service_status_name(st, i), name) == 0)
            return i;
    g_error("no status for %s", name);
    return 0;
}

static time_t next_check_of(Fx *fx, const char *name)
{
    acme_service_status *st = NULL;
    time_t t;

    g_assert_cmpint(acme_service_status_get(&st, fx->svc, NULL), ==, ACME_OK);
    t = acme_service_status_next_check(st, status_find(st, name));
    acme_service_status_free(st);
    return t;
}

static time_t clock_now(Fx *fx)
{
    return acme_clock_now(fx->clock);
}

/* ------------------------------------------------------------------ */
/* txacme's AcmeIssuingServiceTests                                    */
/* ------------------------------------------------------------------ */

/* test_blank_cert: an empty entry is treated like an expired certificate. */
static void test_blank_cert(Fx *fx, gconstpointer d)
{
    char *cn = NULL;

    (void)d;
    seed_blank(fx, "blank.example");
    fx_start(fx);
    settle(fx);
    g_assert_cmpuint(acme_fake_ca_issued_count(fx->ca), ==, 1);
    g_assert_cmpint(stored_not_after(fx, "blank.example", &cn), ==, T0 + 90 * DAY);
    g_assert_cmpstr(cn, ==, "libacme fake CA");
    g_free(cn);
    g_assert_true(has_line(fx, fx->logs, "certificate issued", "name=blank.example"));
}

/* test_cancellation: cancelling issue_cert cancels the issuing itself. */
static void test_cancellation(Fx *fx, gconstpointer d)
{
    acme_service_job *job = NULL;
    acme_error *e = NULL;

    (void)d;
    fx_start(fx);
    settle(fx);
    acme_fake_ca_pause(fx->ca);
    g_assert_cmpint(acme_service_issue_cert_async(&job, fx->svc, "c.example", NULL, NULL, NULL),
                    ==, ACME_OK);
    acme_fake_ca_wait_pending(fx->ca, 1);
    g_assert_false(acme_service_job_done(job));
    acme_service_job_cancel(job);
    g_assert_true(acme_service_job_done(job));
    g_assert_cmpint(acme_service_job_wait(job, -1, &e), ==, ACME_E_CANCELLED);
    g_assert_cmpint(acme_error_code_get(e), ==, ACME_E_CANCELLED);
    acme_error_free(e);
    /* The fake CA's paused call ended through acme_issuer_cancel(), not a resume. */
    acme_fake_ca_wait_finished(fx->ca, 1);
    g_assert_cmpuint(acme_fake_ca_pending(fx->ca), ==, 0);
    settle(fx);
    acme_fake_ca_resume(fx->ca);
    g_assert_cmpuint(acme_fake_ca_issued_count(fx->ca), ==, 0);
    g_assert_cmpint(stored_not_after(fx, "c.example", NULL), ==, 0);
    /* A cancel is not a failure: no panic, no failure count. */
    g_assert_cmpuint(fx->panics->len, ==, 0);
    acme_service_job_free(job);
}

static void test_default_panic(Fx *fx, gconstpointer d)
{
    (void)d;
    fx->opts.panic = NULL;
    seed_blank(fx, "panic.example");
    g_assert_cmpint(acme_fake_ca_fail_next(fx->ca, 0, "serverInternal", -1, NULL), ==, ACME_OK);
    fx_start(fx);
    settle(fx);
    g_assert_true(has_line(fx, fx->logs, "critical|", "name=panic.example"));
    g_assert_true(has_line(fx, fx->logs, "critical|", "problem=urn:ietf:params:acme:error:"
                                                      "serverInternal"));
}

/* test_errors: a failure inside the panic interval panics; outside, it is logged. */
static void test_errors(Fx *fx, gconstpointer d)
{
    (void)d;
    seed1(fx, "panicky.example", 80 * DAY_MS);  /* expires in 10 days */
    seed1(fx, "expiring.example", 70 * DAY_MS); /* expires in 20 days */
    g_assert_cmpint(acme_fake_ca_fail_next(fx->ca, 0, "serverInternal", -1, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_fake_ca_fail_next(fx->ca, 0, "serverInternal", -1, NULL), ==, ACME_OK);
    fx_start(fx);
    settle(fx);
    g_assert_cmpuint(acme_fake_ca_finished_count(fx->ca), ==, 2);
    g_assert_cmpuint(fx->panics->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(fx->panics, 0), ==,
                    "panicky.example|urn:ietf:params:acme:error:serverInternal");
    g_assert_true(has_line(fx, fx->logs, "issuing failed", "name=expiring.example"));
    g_assert_true(has_line(fx, fx->logs, "warning|issuing failed", "name=expiring.example"));
    g_assert_true(has_line(fx, fx->logs, "error|issuing failed", "name=panicky.example"));
}

/* test_issue_concurrently: two callers, one issuing process. */
static void test_issue_concurrently(Fx *fx, gconstpointer d)
{
    acme_service_job *a = NULL, *b = NULL;

    (void)d;
    fx_start(fx);
    settle(fx);
    acme_fake_ca_pause(fx->ca);
    g_assert_cmpint(acme_service_issue_cert_async(&a, fx->svc, "dup.example", NULL, NULL, NULL),
                    ==, ACME_OK);
    acme_fake_ca_wait_pending(fx->ca, 1);
    g_assert_cmpint(acme_service_issue_cert_async(&b, fx->svc, "dup.example", NULL, NULL, NULL),
                    ==, ACME_OK);
    g_assert_cmpuint(acme_fake_ca_pending(fx->ca), ==, 1);
    acme_fake_ca_resume(fx->ca);
    g_assert_cmpint(acme_service_job_wait(a, -1, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_service_job_wait(b, -1, NULL), ==, ACME_OK);
    settle(fx);
    g_assert_cmpuint(acme_fake_ca_issued_count(fx->ca), ==, 1);
    acme_service_job_free(a);
    acme_service_job_free(b);
}

/* test_issue_one_cert: issue_cert reissues even a fresh certificate. */
static void test_issue_one_cert(Fx *fx, gconstpointer d)
{
    char *cn = NULL;

    (void)d;
    seed1(fx, "one.example", 0);
    fx_start(fx);
    settle(fx);
    g_assert_cmpuint(acme_fake_ca_issued_count(fx->ca), ==, 0);
    g_assert_cmpint(acme_service_issue_cert(fx->svc, "one.example", NULL), ==, ACME_OK);
    g_assert_cmpuint(acme_fake_ca_issued_count(fx->ca), ==, 1);
    stored_not_after(fx, "one.example", &cn);
    g_assert_cmpstr(cn, ==, "libacme fake CA");
    g_free(cn);
    settle(fx);
    g_assert_cmpuint(acme_fake_ca_issued_count(fx->ca), ==, 1);
}

static void test_registration_email(Fx *fx, gconstpointer d)
{
    char *contact;

    (void)d;
    fx->opts.email = "admin@example.org";
    seed_blank(fx, "mail.example");
    fx_start(fx);
    settle(fx);
    contact = acme_fake_ca_account_contact(fx->ca);
    g_assert_cmpstr(contact, ==, "admin@example.org");
    acme_free(contact);
    g_assert_cmpuint(acme_fake_ca_account_count(fx->ca), >=, 1);
}

static void test_bad_email(Fx *fx, gconstpointer d)
{
    acme_error *e = NULL;

    (void)d;
    fx->opts.email = "mailto:x@example.org";
    g_assert_cmpint(acme_service_new(&fx->svc, &fx->opts, &e), ==, ACME_E_INVALID);
    g_assert_null(fx->svc);
    acme_error_free(e);
}

static void ready_cb(void *ud, int rc)
{
    int *p = ud;

    g_atomic_int_set(p, rc == ACME_OK ? 1 : rc);
}

/* test_starting_stopping_cancellation */
static void test_starting_stopping(Fx *fx, gconstpointer d)
{
    int ready = 0;
    acme_error *e = NULL;

    (void)d;
    seed_blank(fx, "ss.example");
    acme_fake_ca_pause(fx->ca);
    fx_start(fx);
    g_assert_cmpint(acme_service_start(fx->svc, &e), ==, ACME_E_INVALIDSTATE);
    acme_error_free(e);
    e = NULL;
    acme_fake_ca_wait_pending(fx->ca, 1);
    g_assert_cmpint(acme_service_when_certs_valid_cb(fx->svc, ready_cb, &ready, NULL), ==,
                    ACME_OK);
    g_assert_cmpint(g_atomic_int_get(&ready), ==, 0);
    /* Stop cancels the paused issuing and joins (the CA is still paused). */
    acme_service_stop(fx->svc);
    g_assert_cmpuint(acme_fake_ca_pending(fx->ca), ==, 0);
    g_assert_cmpuint(acme_fake_ca_issued_count(fx->ca), ==, 0);
    g_assert_cmpint(g_atomic_int_get(&ready), ==, ACME_E_CANCELLED);
    g_assert_cmpint(acme_service_when_certs_valid(fx->svc, -1, &e), ==, ACME_E_CANCELLED);
    acme_error_free(e);
    e = NULL;
    g_assert_cmpint(acme_service_issue_cert(fx->svc, "ss.example", &e), ==, ACME_E_INVALIDSTATE);
    acme_error_free(e);
    /* The store is untouched and consistent: still the request. */
    g_assert_cmpint(stored_not_after(fx, "ss.example", NULL), ==, 0);
    acme_service_stop(fx->svc); /* idempotent */
    g_assert_cmpuint(fx->panics->len, ==, 0);

    /* Start again: the startup check runs again. */
    acme_fake_ca_resume(fx->ca);
    fx_start(fx);
    g_assert_cmpint(acme_service_when_certs_valid(fx->svc, -1, NULL), ==, ACME_OK);
    g_assert_cmpuint(acme_fake_ca_issued_count(fx->ca), ==, 1);
    acme_service_stop(fx->svc);
}

/* test_time_marches_on: certificates that reach the reissue interval are reissued. */
static void test_time_marches_on(Fx *fx, gconstpointer d)
{
    (void)d;
    seed1(fx, "fresh.example", 0);            /* expires T0+90d, due T0+60d */
    seed1(fx, "older.example", 50 * DAY_MS);  /* expires T0+40d, due T0+10d */
    fx_start(fx);
    settle(fx);
    g_assert_cmpuint(acme_fake_ca_issued_count(fx->ca), ==, 0);
    advance(fx, 9 * DAY_MS);
    g_assert_cmpuint(acme_fake_ca_issued_count(fx->ca), ==, 0);
    advance(fx, 2 * DAY_MS);
    g_assert_cmpuint(acme_fake_ca_issued_count(fx->ca), ==, 1);
    g_assert_cmpint(stored_not_after(fx, "older.example", NULL), ==, T0 + 101 * DAY);
    /* 60 days on: fresh.example is due (older.example's new certificate is not). */
    advance(fx, 50 * DAY_MS);
    g_assert_cmpuint(acme_fake_ca_issued_count(fx->ca), ==, 2);
    g_assert_cmpint(stored_not_after(fx, "fresh.example", NULL), ==, T0 + 151 * DAY);
    g_assert_true(has_line(fx, fx->logs, "due for renewal", "name=fresh.example"));
    g_assert_cmpuint(fx->panics->len, ==, 0);
}

/* A failing store list (and a failing registration) is logged; the schedule goes on. */
static int fail_get(void *self, const char *name, acme_bundle **out, acme_error **err)
{
    Fx *fx = self;

    return acme_store_get(out, fx->inner, name, err);
}

static int fail_put(void *self, const char *name, const acme_bundle *b, acme_error **err)
{
    Fx *fx = self;

    return acme_store_put(fx->inner, name, b, err);
}

static int fail_list(void *self, char ***names, size_t *n, acme_error **err)
{
    Fx *fx = self;

    if (g_atomic_int_get(&fx->list_fails))
        return acme_error_set(err, ACME_E_IO, "injected list failure");
    return acme_store_list(names, n, fx->inner, err);
}

static const acme_store_ops fail_ops = {
    .version = ACME_STORE_OPS_VERSION,
    .name = "failing",
    .get = fail_get,
    .put = fail_put,
    .list = fail_list,
};

static void test_timer_errors(Fx *fx, gconstpointer d)
{
    acme_error *e = NULL;

    (void)d;
    fx->inner = fx->store;
    g_assert_cmpint(acme_store_new(&fx->store, &fail_ops, fx, NULL), ==, ACME_OK);
    fx->opts.store = fx->store;
    seed_blank(fx, "timer.example");
    fx->list_fails = 1;
    fx_start(fx);
    settle(fx);
    g_assert_true(has_line(fx, fx->logs, "error|certificate check failed",
                           "injected list failure"));
    g_assert_cmpint(acme_service_when_certs_valid(fx->svc, 0, &e), ==, ACME_E_TIMEOUT);
    acme_error_free(e);
    e = NULL;
    /* Registration fails next. */
    g_atomic_int_set(&fx->list_fails, 0);
    g_assert_cmpint(acme_fake_ca_fail_account(fx->ca, 0, "serverInternal", -1, NULL), ==,
                    ACME_OK);
    advance(fx, 10 * 60 * SEC_MS); /* the check's first retry is within 10 minutes */
    g_assert_true(has_line(fx, fx->logs, "issuing failed", "name=timer.example"));
    g_assert_cmpint(acme_service_when_certs_valid(fx->svc, 0, NULL), ==, ACME_OK);
    g_assert_cmpuint(acme_fake_ca_issued_count(fx->ca), ==, 0);
    /* And the next attempt works. */
    advance(fx, 10 * 60 * SEC_MS);
    g_assert_cmpuint(acme_fake_ca_issued_count(fx->ca), ==, 1);
    g_assert_cmpint(stored_not_after(fx, "timer.example", NULL), >, 0);
}

static void test_when_valid_all_valid(Fx *fx, gconstpointer d)
{
    int ready = 0;

    (void)d;
    seed1(fx, "v1.example", 0);
    seed1(fx, "v2.example", 10 * DAY_MS);
    fx_start(fx);
    g_assert_cmpint(acme_service_when_certs_valid(fx->svc, -1, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_service_when_certs_valid_cb(fx->svc, ready_cb, &ready, NULL), ==,
                    ACME_OK);
    g_assert_cmpint(ready, ==, 1); /* at once, on this thread */
    settle(fx);
    g_assert_cmpuint(acme_fake_ca_issued_count(fx->ca), ==, 0);
}

static void test_when_valid_expired(Fx *fx, gconstpointer d)
{
    int ready = 0;
    acme_error *e = NULL;

    (void)d;
    seed_blank(fx, "blank.example");
    seed1(fx, "old.example", 85 * DAY_MS); /* in the panic interval */
    seed1(fx, "ok.example", 0);
    acme_fake_ca_pause(fx->ca);
    fx_new(fx);
    g_assert_cmpint(acme_service_when_certs_valid(fx->svc, -1, &e), ==, ACME_E_INVALIDSTATE);
    acme_error_free(e);
    e = NULL;
    g_assert_cmpint(acme_service_when_certs_valid_cb(fx->svc, ready_cb, &ready, NULL), ==,
                    ACME_OK);
    fx_start(fx);
    acme_fake_ca_wait_pending(fx->ca, 2);
    g_assert_cmpint(g_atomic_int_get(&ready), ==, 0);
    g_assert_cmpint(acme_service_when_certs_valid(fx->svc, 0, &e), ==, ACME_E_TIMEOUT);
    acme_error_free(e);
    acme_fake_ca_resume(fx->ca);
    g_assert_cmpint(acme_service_when_certs_valid(fx->svc, -1, NULL), ==, ACME_OK);
    settle(fx);
    g_assert_cmpint(g_atomic_int_get(&ready), ==, 1);
    g_assert_cmpuint(acme_fake_ca_issued_count(fx->ca), ==, 2);
    g_assert_cmpint(stored_not_after(fx, "old.example", NULL), ==, T0 + 90 * DAY);
}

static void test_when_valid_no_certs(Fx *fx, gconstpointer d)
{
    (void)d;
    fx_start(fx);
    g_assert_cmpint(acme_service_when_certs_valid(fx->svc, -1, NULL), ==, ACME_OK);
    settle(fx);
    g_assert_cmpuint(acme_fake_ca_finished_count(fx->ca), ==, 0);
}

/* ------------------------------------------------------------------ */
/* Beyond txacme                                                       */
/* ------------------------------------------------------------------ */

static const int64_t LIFE_6D = 6 * 86400;
static const int64_t LIFE_45D = 45 * 86400;

/* Let's Encrypt's 6-day certificates: renewed every 3 days, never expired, no loop. */
static void test_short_6d(Fx *fx, gconstpointer d)
{
    (void)d;
    seed_blank(fx, "short.example");
    fx_start(fx);
    settle(fx);
    g_assert_cmpuint(acme_fake_ca_issued_count(fx->ca), ==, 1);
    for (int step = 1; step <= 60; step++) {
        advance(fx, 12 * HOUR_MS);
        g_assert_cmpint(stored_not_after(fx, "short.example", NULL), >, clock_now(fx) + DAY);
    }
    /* 30 days: a renewal every 3 days, 10 of them. */
    g_assert_cmpuint(acme_fake_ca_issued_count(fx->ca), ==, 11);
    g_assert_cmpuint(fx->panics->len, ==, 0);
}

static void test_short_45d(Fx *fx, gconstpointer d)
{
    (void)d;
    seed_blank(fx, "mid.example");
    fx_start(fx);
    settle(fx);
    for (int day = 1; day <= 90; day++) {
        advance(fx, DAY_MS);
        g_assert_cmpint(stored_not_after(fx, "mid.example", NULL), >, clock_now(fx) + 14 * DAY);
    }
    /* Renewed at day 30, 60 and 90 (15 days before each expiry). */
    g_assert_cmpuint(acme_fake_ca_issued_count(fx->ca), ==, 4);
}

/* 60 days of renewals of many names in one go. */
static void test_sixty_days(Fx *fx, gconstpointer d)
{
    char name[64];

    (void)d;
    for (int i = 0; i < 20; i++) {
        g_snprintf(name, sizeof(name), "n%d.example", i);
        seed1(fx, name, (int64_t)i * 3 * DAY_MS);
    }
    fx_start(fx);
    settle(fx);
    for (int day = 1; day <= 60; day++)
        advance(fx, DAY_MS);
    for (int i = 0; i < 20; i++) {
        g_snprintf(name, sizeof(name), "n%d.example", i);
        g_assert_cmpint(stored_not_after(fx, name, NULL), >=, clock_now(fx) + 30 * DAY);
    }
    g_assert_cmpuint(fx->panics->len, ==, 0);
    g_assert_cmpuint(acme_fake_ca_issued_count(fx->ca), >=, 20);
}

/* rateLimited: nothing is asked before Retry-After. */
static void test_rate_limited(Fx *fx, gconstpointer d)
{
    acme_service_status *st = NULL;
    acme_error *e = NULL;
    size_t i;

    (void)d;
    seed_blank(fx, "rl.example");
    g_assert_cmpint(acme_fake_ca_fail_next(fx->ca, 0, "rateLimited", 7200, NULL), ==, ACME_OK);
    fx_start(fx);
    settle(fx);
    g_assert_cmpuint(acme_fake_ca_finished_count(fx->ca), ==, 1);
    g_assert_cmpint(next_check_of(fx, "rl.example"), ==, T0 + 7200);
    g_assert_cmpint(acme_service_status_get(&st, fx->svc, NULL), ==, ACME_OK);
    i = status_find(st, "rl.example");
    g_assert_cmpuint(acme_service_status_failures(st, i), ==, 1);
    g_assert_cmpstr(acme_error_problem_type(acme_service_status_last_error(st, i)), ==,
                    "urn:ietf:params:acme:error:rateLimited");
    acme_service_status_free(st);
    /* Even a request by hand waits for the CA. */
    g_assert_cmpint(acme_service_issue_cert(fx->svc, "rl.example", &e), ==, ACME_E_RATELIMITED);
    acme_error_free(e);
    advance(fx, 7199 * SEC_MS);
    g_assert_cmpuint(acme_fake_ca_finished_count(fx->ca), ==, 1);
    advance(fx, 1 * SEC_MS);
    g_assert_cmpuint(acme_fake_ca_issued_count(fx->ca), ==, 1);
}

/* Exponential backoff with jitter, within the documented bounds. */
static void test_backoff(Fx *fx, gconstpointer d)
{
    acme_service_status *st = NULL;

    (void)d;
    seed_blank(fx, "bo.example");
    for (int i = 0; i < 3; i++)
        g_assert_cmpint(acme_fake_ca_fail_next(fx->ca, 0, "serverInternal", -1, NULL), ==,
                        ACME_OK);
    fx_start(fx);
    settle(fx);
    for (unsigned int n = 1; n <= 3; n++) {
        time_t now = clock_now(fx), next = next_check_of(fx, "bo.example");
        int64_t lo, hi;

        acme__policy_backoff_bounds(n, ACME_SERVICE_RETRY_INITIAL, ACME_SERVICE_RETRY_MAX, &lo,
                                    &hi);
        g_assert_cmpuint(acme_fake_ca_finished_count(fx->ca), ==, n);
        g_assert_cmpint(next - now, >=, lo);
        g_assert_cmpint(next - now, <=, hi);
        g_assert_cmpint(acme_service_status_get(&st, fx->svc, NULL), ==, ACME_OK);
        g_assert_cmpuint(acme_service_status_failures(st, 0), ==, n);
        acme_service_status_free(st);
        /* Just before the retry: nothing. */
        advance(fx, (next - now) * SEC_MS - 1);
        g_assert_cmpuint(acme_fake_ca_finished_count(fx->ca), ==, n);
        advance(fx, 1);
    }
    g_assert_cmpuint(acme_fake_ca_issued_count(fx->ca), ==, 1);
    g_assert_cmpint(acme_service_status_get(&st, fx->svc, NULL), ==, ACME_OK);
    g_assert_cmpuint(acme_service_status_failures(st, 0), ==, 0);
    g_assert_null(acme_service_status_last_error(st, 0));
    acme_service_status_free(st);
}

/* userActionRequired: the URL surfaces, retries stop until asked by hand. */
static void test_user_action(Fx *fx, gconstpointer d)
{
    acme_service_status *st = NULL;
    size_t i;

    (void)d;
    seed_blank(fx, "ua.example");
    g_assert_cmpint(acme_fake_ca_fail_next_problem(fx->ca, 0, "userActionRequired",
                                                   "accept the new terms",
                                                   "https://ca.example/tos", -1, NULL),
                    ==, ACME_OK);
    fx_start(fx);
    settle(fx);
    g_assert_cmpint(acme_service_status_get(&st, fx->svc, NULL), ==, ACME_OK);
    i = status_find(st, "ua.example");
    g_assert_true(acme_service_status_blocked(st, i));
    g_assert_cmpstr(acme_error_instance(acme_service_status_last_error(st, i)), ==,
                    "https://ca.example/tos");
    g_assert_cmpint(acme_service_status_next_check(st, i), >, T0);
    acme_service_status_free(st);
    g_assert_true(has_line(fx, fx->logs, "user action", "url=https://ca.example/tos"));
    /* Two days of checks: no attempt, but it is not silent. */
    advance(fx, DAY_MS);
    advance(fx, DAY_MS);
    g_assert_cmpuint(acme_fake_ca_finished_count(fx->ca), ==, 1);
    g_assert_cmpuint(count_lines(fx, fx->logs, "is due but the CA requires user action"), ==, 2);
    g_assert_cmpuint(fx->panics->len, ==, 3);
    /* The operator acted: an explicit request issues. */
    g_assert_cmpint(acme_service_issue_cert(fx->svc, "ua.example", NULL), ==, ACME_OK);
    g_assert_cmpuint(acme_fake_ca_issued_count(fx->ca), ==, 1);
}

/* ARI: a window in the future is followed (not the interval policy), with replaces. */
static void test_ari_future(Fx *fx, gconstpointer d)
{
    char *old_id, *rep;
    time_t next;

    (void)d;
    seed1(fx, "ari.example", 0); /* interval policy: due at T0+60d */
    old_id = stored_ari_id(fx, "ari.example");
    /* The service's CA answers for the seed CA's certificate by its identifier. */
    g_assert_cmpint(acme_fake_ca_set_renewal_info(fx->ca, old_id, T0 + 20 * DAY, T0 + 21 * DAY,
                                                  "https://ca.example/why", -1, NULL), ==,
                    ACME_OK);
    fx_start(fx);
    settle(fx);
    g_assert_cmpuint(acme_fake_ca_issued_count(fx->ca), ==, 0);
    g_assert_true(has_line(fx, fx->logs, "renewal window", "url=https://ca.example/why"));
    /* Next look: the next poll, 6 hours on (no Retry-After). */
    g_assert_cmpint(next_check_of(fx, "ari.example"), ==, T0 + 6 * 3600);
    for (int i = 0; i < 19 * 4; i++)
        advance(fx, 6 * HOUR_MS);
    g_assert_cmpuint(acme_fake_ca_issued_count(fx->ca), ==, 0);
    next = next_check_of(fx, "ari.example");
    g_assert_cmpint(next, <=, T0 + 21 * DAY);
    for (int i = 0; i < 8; i++)
        advance(fx, 6 * HOUR_MS);
    g_assert_cmpuint(acme_fake_ca_issued_count(fx->ca), ==, 1);
    rep = acme_fake_ca_last_replaces(fx->ca);
    g_assert_cmpstr(rep, ==, old_id);
    acme_free(rep);
    acme_free(old_id);
}

/* ARI: a window in the past (revocation) means now. */
static void test_ari_past(Fx *fx, gconstpointer d)
{
    char *old_id, *rep, *new_id;

    (void)d;
    seed1(fx, "rev.example", 0);
    old_id = stored_ari_id(fx, "rev.example");
    g_assert_cmpint(acme_fake_ca_set_renewal_info(fx->ca, old_id, T0 - 2 * DAY, T0 - DAY, NULL,
                                                  -1, NULL), ==, ACME_OK);
    fx_start(fx);
    settle(fx);
    g_assert_cmpuint(acme_fake_ca_issued_count(fx->ca), ==, 1);
    rep = acme_fake_ca_last_replaces(fx->ca);
    g_assert_cmpstr(rep, ==, old_id);
    new_id = stored_ari_id(fx, "rev.example");
    g_assert_cmpstr(new_id, !=, old_id);
    /* The new certificate has no window: no loop, the interval policy again. */
    advance(fx, DAY_MS);
    g_assert_cmpuint(acme_fake_ca_issued_count(fx->ca), ==, 1);
    acme_free(rep);
    acme_free(old_id);
    acme_free(new_id);
}

/* ARI: Retry-After sets the next poll; without ARI no replaces is sent. */
static void test_ari_retry_after(Fx *fx, gconstpointer d)
{
    char *rep, *id;

    (void)d;
    seed1(fx, "ra.example", 0);
    seed1(fx, "noari.example", 70 * DAY_MS); /* due now; the CA has no ARI for it */
    id = stored_ari_id(fx, "ra.example");
    g_assert_cmpint(acme_fake_ca_set_renewal_info(fx->ca, id, T0 + 50 * DAY,
                                                  T0 + 51 * DAY, NULL, 3600, NULL), ==, ACME_OK);
    fx_start(fx);
    settle(fx);
    g_assert_cmpint(next_check_of(fx, "ra.example"), ==, T0 + 3600);
    advance(fx, HOUR_MS);
    g_assert_cmpint(next_check_of(fx, "ra.example"), ==, T0 + 7200);
    /* A huge Retry-After is cut to 12 hours: polled at least twice a day. */
    g_assert_cmpint(acme_fake_ca_set_renewal_info(fx->ca, id, T0 + 50 * DAY,
                                                  T0 + 51 * DAY, NULL, 5 * 86400, NULL), ==,
                    ACME_OK);
    advance(fx, HOUR_MS);
    g_assert_cmpint(next_check_of(fx, "ra.example"), ==, T0 + 7200 + 12 * 3600);
    g_assert_cmpuint(acme_fake_ca_issued_count(fx->ca), ==, 1);
    rep = acme_fake_ca_last_replaces(fx->ca);
    g_assert_null(rep);
    acme_free(id);
}

/* A store entry that asks for several names gets one certificate for all. */
static void test_multi_name(Fx *fx, gconstpointer d)
{
    const char *names[] = { "multi.example", "www.multi.example", "api.multi.example" };
    acme_bundle *b = NULL;
    const char *const *got;
    char **last;
    size_t n = 0, nl = 0;

    (void)d;
    seed_request(fx, names, 3);
    fx_start(fx);
    settle(fx);
    last = acme_fake_ca_last_names(fx->ca, &nl);
    g_assert_cmpuint(nl, ==, 3);
    g_assert_cmpstr(last[0], ==, "multi.example");
    g_assert_cmpstr(last[1], ==, "www.multi.example");
    g_assert_cmpstr(last[2], ==, "api.multi.example");
    acme_free_strv(last, nl);
    g_assert_cmpint(acme_store_get(&b, fx->store, "multi.example", NULL), ==, ACME_OK);
    got = acme_bundle_names(b, &n);
    g_assert_cmpuint(n, ==, 3);
    g_assert_nonnull(got);
    acme_bundle_free(b);
    /* The renewal keeps every name (they come from the certificate now). */
    g_assert_cmpint(acme_service_issue_cert(fx->svc, "multi.example", NULL), ==, ACME_OK);
    last = acme_fake_ca_last_names(fx->ca, &nl);
    g_assert_cmpuint(nl, ==, 3);
    acme_free_strv(last, nl);
}

static void test_status(Fx *fx, gconstpointer d)
{
    acme_service_status *st = NULL;
    size_t i;

    (void)d;
    seed1(fx, "b.example", 0);
    seed_blank(fx, "a.example");
    fx_start(fx);
    settle(fx);
    acme_fake_ca_pause(fx->ca);
    g_assert_cmpint(acme_service_issue_cert_async(NULL, fx->svc, "b.example", NULL, NULL, NULL),
                    ==, ACME_E_INVALID);
    {
        acme_service_job *job = NULL;

        g_assert_cmpint(acme_service_issue_cert_async(&job, fx->svc, "b.example", NULL, NULL,
                                                      NULL), ==, ACME_OK);
        acme_fake_ca_wait_pending(fx->ca, 1);
        g_assert_cmpint(acme_service_status_get(&st, fx->svc, NULL), ==, ACME_OK);
        g_assert_cmpuint(acme_service_status_count(st), ==, 2);
        g_assert_cmpstr(acme_service_status_name(st, 0), ==, "a.example");
        g_assert_cmpstr(acme_service_status_name(st, 1), ==, "b.example");
        g_assert_null(acme_service_status_name(st, 2));
        g_assert_false(acme_service_status_in_flight(st, 0));
        g_assert_true(acme_service_status_in_flight(st, 1));
        /* The order for b.example is under way at the fake CA. */
        g_assert_false(acme_service_status_issuing(st, 0));
        g_assert_true(acme_service_status_issuing(st, 1));
        g_assert_false(acme_service_status_issuing(st, 2));
        g_assert_cmpint(acme_service_status_not_after(st, 0), ==, T0 + 90 * DAY);
        g_assert_cmpint(acme_service_status_next_check(st, 0), ==, T0 + 60 * DAY);
        g_assert_null(acme_service_status_last_error(st, 0));
        acme_service_status_free(st);
        acme_fake_ca_resume(fx->ca);
        g_assert_cmpint(acme_service_job_wait(job, -1, NULL), ==, ACME_OK);
        acme_service_job_free(job);
    }
    settle(fx);
    g_assert_cmpint(acme_service_status_get(&st, fx->svc, NULL), ==, ACME_OK);
    i = status_find(st, "b.example");
    g_assert_false(acme_service_status_in_flight(st, i));
    g_assert_false(acme_service_status_issuing(st, i));
    g_assert_cmpint(acme_service_status_not_after(st, i), ==, T0 + 90 * DAY);
    g_assert_cmpuint(acme_service_status_failures(st, i), ==, 0);
    g_assert_false(acme_service_status_blocked(st, i));
    acme_service_status_free(st);
}

static void test_events_order(Fx *fx, gconstpointer d)
{
    char *s;

    (void)d;
    seed_blank(fx, "new.example");
    fx_start(fx);
    settle(fx);
    s = events_str(fx);
    g_assert_cmpstr(s, ==, "EXPIRING new.example, OBTAINING new.example, OBTAINED new.example");
    g_free(s);
    g_ptr_array_set_size(fx->events, 0);
    /* A renewal inside the reissue interval, then a failure. */
    advance(fx, 61 * DAY_MS);
    s = events_str(fx);
    g_assert_cmpstr(s, ==, "OBTAINING new.example, RENEWED new.example");
    g_free(s);
    g_ptr_array_set_size(fx->events, 0);
    g_assert_cmpint(acme_fake_ca_fail_next(fx->ca, 0, "badCSR", -1, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_service_issue_cert(fx->svc, "new.example", NULL), ==, ACME_E_REJECTED);
    settle(fx);
    s = events_str(fx);
    g_assert_cmpstr(s, ==, "OBTAINING new.example, FAILED new.example");
    g_free(s);
}

/* Stop while an issue is paused: cancelled, joined, the waiter told. */
static void job_cb(void *ud, acme_service_job *job, const char *name, int rc,
                   const acme_error *e)
{
    int *p = ud;

    g_assert_nonnull(job);
    g_assert_cmpstr(name, ==, "stop.example");
    g_assert_true(rc == ACME_OK || e != NULL);
    g_atomic_int_set(p, rc == ACME_OK ? 1 : rc);
}

static void test_stop_cancels(Fx *fx, gconstpointer d)
{
    acme_service_job *job = NULL;
    int got = 0;

    (void)d;
    fx_start(fx);
    settle(fx);
    acme_fake_ca_pause(fx->ca);
    g_assert_cmpint(acme_service_issue_cert_async(&job, fx->svc, "stop.example", job_cb, &got,
                                                  NULL), ==, ACME_OK);
    acme_fake_ca_wait_pending(fx->ca, 1);
    acme_service_stop(fx->svc);
    g_assert_cmpint(g_atomic_int_get(&got), ==, ACME_E_CANCELLED);
    g_assert_true(acme_service_job_done(job));
    g_assert_cmpint(acme_service_job_wait(job, -1, NULL), ==, ACME_E_CANCELLED);
    /* The handle outlives the service. */
    acme_service_free(fx->svc);
    fx->svc = NULL;
    g_assert_cmpint(acme_service_job_wait(job, -1, NULL), ==, ACME_E_CANCELLED);
    acme_service_job_free(job);
}

/* A CA whose clock is behind ours: its certificates are due when issued; no loop. */
static void test_clock_skew(Fx *fx, gconstpointer d)
{
    acme_fake_ca_options co = ACME_FAKE_CA_OPTIONS_INIT;
    acme_clock *ca_clock = NULL;

    (void)d;
    g_assert_cmpint(acme_clock_manual_new(&ca_clock, T0_MS - 80 * DAY_MS, NULL), ==, ACME_OK);
    co.clock = ca_clock;
    acme_fake_ca_free(fx->ca);
    g_assert_cmpint(acme_fake_ca_new(&fx->ca, &co, NULL), ==, ACME_OK);
    seed_blank(fx, "skew.example");
    fx_start(fx);
    settle(fx);
    g_assert_cmpuint(acme_fake_ca_issued_count(fx->ca), ==, 1);
    g_assert_true(has_line(fx, fx->logs, "warning|the new certificate is already due",
                           "name=skew.example"));
    g_assert_cmpint(next_check_of(fx, "skew.example"), ==, T0 + DAY);
    advance(fx, DAY_MS - 1);
    g_assert_cmpuint(acme_fake_ca_issued_count(fx->ca), ==, 1);
    advance(fx, 1);
    g_assert_cmpuint(acme_fake_ca_issued_count(fx->ca), ==, 2);
    acme_service_free(fx->svc);
    fx->svc = NULL;
    acme_fake_ca_free(fx->ca);
    fx->ca = NULL;
    acme_clock_free(ca_clock);
}

static int keygen(void *ud, acme_key **out, const char *name, acme_error **err)
{
    Fx *fx = ud;

    g_assert_cmpstr(name, ==, "kg.example");
    g_atomic_int_inc(&fx->keygens);
    return acme_key_generate(out, ACME_KEY_EC_P384, err);
}

static void test_key_generator(Fx *fx, gconstpointer d)
{
    (void)d;
    fx->opts.generate_key = keygen;
    fx->opts.generate_key_userdata = fx;
    seed_blank(fx, "kg.example");
    fx_start(fx);
    settle(fx);
    g_assert_cmpint(g_atomic_int_get(&fx->keygens), ==, 1);
    g_assert_cmpint(acme_fake_ca_last_key_type(fx->ca), ==, ACME_KEY_EC_P384);
}

static void test_key_type_rsa(Fx *fx, gconstpointer d)
{
    (void)d;
    fx->opts.key_type = ACME_KEY_RSA_2048;
    seed_blank(fx, "rsa.example");
    fx_start(fx);
    settle(fx);
    g_assert_cmpint(acme_fake_ca_last_key_type(fx->ca), ==, ACME_KEY_RSA_2048);
    g_assert_cmpuint(acme_fake_ca_issued_count(fx->ca), ==, 1);
}

static void test_default_key_type(Fx *fx, gconstpointer d)
{
    (void)d;
    seed_blank(fx, "ec.example");
    fx_start(fx);
    settle(fx);
    g_assert_cmpint(acme_fake_ca_last_key_type(fx->ca), ==, ACME_KEY_EC_P256);
}

static void test_bad_args(Fx *fx, gconstpointer d)
{
    acme_service_options o = fx->opts;
    acme_error *e = NULL;
    acme_service_job *job = NULL;

    (void)d;
    g_assert_cmpint(acme_service_new(NULL, &o, NULL), ==, ACME_E_INVALID);
    o.store = NULL;
    g_assert_cmpint(acme_service_new(&fx->svc, &o, &e), ==, ACME_E_INVALID);
    acme_error_free(e);
    e = NULL;
    o = fx->opts;
    o.issuer_factory = NULL;
    g_assert_cmpint(acme_service_new(&fx->svc, &o, NULL), ==, ACME_E_INVALID);
    o = fx->opts;
    o.panic_interval = -1;
    g_assert_cmpint(acme_service_new(&fx->svc, &o, NULL), ==, ACME_E_INVALID);
    o = fx->opts;
    o.version = 99;
    g_assert_cmpint(acme_service_new(&fx->svc, &o, NULL), ==, ACME_E_INVALID);
    g_assert_null(fx->svc);
    fx_new(fx);
    /* Not running. */
    g_assert_cmpint(acme_service_issue_cert(fx->svc, "x.example", &e), ==, ACME_E_INVALIDSTATE);
    acme_error_free(e);
    e = NULL;
    fx_start(fx);
    g_assert_cmpint(acme_service_issue_cert(fx->svc, "../etc", &e), ==, ACME_E_INVALID);
    acme_error_free(e);
    g_assert_cmpint(acme_service_issue_cert_async(&job, fx->svc, NULL, NULL, NULL, NULL), ==,
                    ACME_E_INVALID);
    g_assert_null(job);
    g_assert_cmpint(acme_service_when_certs_valid_cb(fx->svc, NULL, NULL, NULL), ==,
                    ACME_E_INVALID);
    acme_service_stop(NULL);
    acme_service_free(NULL);
    acme_service_job_free(NULL);
    acme_service_status_free(NULL);
    g_assert_cmpuint(acme_service_status_count(NULL), ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_assert_cmpint(acme_global_init(), ==, ACME_OK);

    g_test_add_func("/service/policy/intervals", test_policy_intervals);
    g_test_add_func("/service/policy/renew-panic", test_policy_renew_panic);
    g_test_add_func("/service/policy/backoff", test_policy_backoff);
    g_test_add_func("/service/policy/ari", test_policy_ari);

#define ADD(path, fn, data) g_test_add(path, Fx, data, fx_setup, fn, fx_teardown)
    ADD("/service/txacme/blank-cert", test_blank_cert, NULL);
    ADD("/service/txacme/cancellation", test_cancellation, NULL);
    ADD("/service/txacme/default-panic", test_default_panic, NULL);
    ADD("/service/txacme/errors", test_errors, NULL);
    ADD("/service/txacme/issue-concurrently", test_issue_concurrently, NULL);
    ADD("/service/txacme/issue-one-cert", test_issue_one_cert, NULL);
    ADD("/service/txacme/registration-email", test_registration_email, NULL);
    ADD("/service/txacme/starting-stopping-cancellation", test_starting_stopping, NULL);
    ADD("/service/txacme/time-marches-on", test_time_marches_on, NULL);
    ADD("/service/txacme/timer-errors", test_timer_errors, NULL);
    ADD("/service/txacme/when-certs-valid-all-valid", test_when_valid_all_valid, NULL);
    ADD("/service/txacme/when-certs-valid-certs-expired", test_when_valid_expired, NULL);
    ADD("/service/txacme/when-certs-valid-no-certs", test_when_valid_no_certs, NULL);
    ADD("/service/short-lived/6-days", test_short_6d, &LIFE_6D);
    ADD("/service/short-lived/45-days", test_short_45d, &LIFE_45D);
    ADD("/service/sixty-days", test_sixty_days, NULL);
    ADD("/service/retry/rate-limited", test_rate_limited, NULL);
    ADD("/service/retry/backoff", test_backoff, NULL);
    ADD("/service/retry/user-action-required", test_user_action, NULL);
    ADD("/service/ari/window-future", test_ari_future, NULL);
    ADD("/service/ari/window-past", test_ari_past, NULL);
    ADD("/service/ari/retry-after", test_ari_retry_after, NULL);
    ADD("/service/multi-name", test_multi_name, NULL);
    ADD("/service/status", test_status, NULL);
    ADD("/service/events-order", test_events_order, NULL);
    ADD("/service/stop-cancels-paused-issue", test_stop_cancels, NULL);
    ADD("/service/clock-skew-no-loop", test_clock_skew, NULL);
    ADD("/service/key/generator", test_key_generator, NULL);
    ADD("/service/key/rsa", test_key_type_rsa, NULL);
    ADD("/service/key/default", test_default_key_type, NULL);
    ADD("/service/bad-email", test_bad_email, NULL);
    ADD("/service/bad-args", test_bad_args, NULL);
#undef ADD

    int rc = g_test_run();
    acme_global_cleanup();
    return rc;
}
