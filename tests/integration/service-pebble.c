/*
 * tests/integration: the issuing service against a real ACME server (Pebble).
 *
 * A memory store with 50 issue requests is filled from empty by the service
 * with 8 workers: real clients (one per attempt, through the factory),
 * http-01 answered through pebble-challtestsrv, Pebble's random nonce
 * rejection left on.  Then the service's manual clock is moved past the
 * reissue point of every certificate, and every certificate is replaced.
 *
 * The clock is manual so that the renewal round needs no waiting; HTTP
 * and Pebble run on real time, which the manual clock starts at.
 *
 * Set LIBACME_TEST_LOG=1 to see the service's log on stderr.
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include <glib.h>
#include <pthread.h>

#include <acme/acme.h>
#include <acme/testing.h>

#include "pebble.h"
#include "service/service-internal.h"

#define NNAMES 50
#define WORKERS 8

typedef struct ctx {
    pebble *p;
    acme_key *account_key;
    pthread_mutex_t mu;
    unsigned int obtained, renewed, failed; /* guarded by mu */
    unsigned int factory_calls;             /* guarded by mu */
} ctx;

static int factory(void *ud, acme_issuer **out, acme_error **err)
{
    ctx *c = ud;
    acme_client_options o = ACME_CLIENT_OPTIONS_INIT;
    acme_client *client = NULL;
    int rc;

    pthread_mutex_lock(&c->mu);
    c->factory_calls++;
    pthread_mutex_unlock(&c->mu);
    o.directory_url = c->p->directory_url;
    o.account_key = c->account_key;
    o.ca_file = c->p->ca_file;
    o.user_agent = "libacme-service-tests";
    if (g_getenv("LIBACME_TEST_LOG") != NULL) {
        o.log = acme_log_stderr;
        o.log_level = ACME_LOG_DEBUG;
    }
    if ((rc = acme_client_new(&client, &o, err)) < 0)
        return rc;
    return acme_issuer_client_new(out, client, err);
}

static void on_event(void *ud, const acme_service_event *ev)
{
    ctx *c = ud;

    pthread_mutex_lock(&c->mu);
    if (ev->kind == ACME_EVENT_OBTAINED)
        c->obtained++;
    else if (ev->kind == ACME_EVENT_RENEWED)
        c->renewed++;
    else if (ev->kind == ACME_EVENT_FAILED) {
        c->failed++;
        g_printerr("# %s failed: %s\n", ev->name, acme_error_message(ev->error));
    }
    pthread_mutex_unlock(&c->mu);
}

/* The stored certificate's serial and expiry (NULL when there is none). */
static char *stored_serial(acme_store *store, const char *name, time_t *not_after)
{
    acme_bundle *b = NULL;
    char *serial = NULL;

    *not_after = 0;
    if (acme_store_get(&b, store, name, NULL) < 0)
        return NULL;
    if (acme_bundle_cert(b)) {
        size_t n = 0;
        const char *const *sans = acme_cert_sans(acme_bundle_cert(b), &n);

        g_assert_cmpuint(n, ==, 1);
        g_assert_cmpstr(sans[0], ==, name);
        serial = g_strdup(acme_cert_serial(acme_bundle_cert(b)));
        *not_after = acme_cert_not_after(acme_bundle_cert(b));
    }
    acme_bundle_free(b);
    return serial;
}

/* Settle; names a transient error left without a certificate are retried by moving 12 h on. */
static unsigned int settle_all(acme_service *svc, acme_clock *clock, acme_store *store,
                               char **names, char **old_serials)
{
    unsigned int missing = NNAMES;

    for (int round = 0; round < 5 && missing > 0; round++) {
        if (round > 0)
            g_assert_cmpint(acme_clock_manual_advance(clock, 12 * 3600 * INT64_C(1000)), ==,
                            ACME_OK);
        acme__service_wait_idle(svc);
        missing = 0;
        for (int i = 0; i < NNAMES; i++) {
            time_t na;
            char *serial = stored_serial(store, names[i], &na);

            if (!serial || (old_serials && strcmp(serial, old_serials[i]) == 0))
                missing++;
            g_free(serial);
        }
    }
    return missing;
}

static void test_fill_and_renew(void)
{
    ctx c;
    acme_clock *clock = NULL;
    acme_store *store = NULL;
    acme_responder *r;
    acme_service *svc = NULL;
    acme_service_options o = ACME_SERVICE_OPTIONS_INIT;
    acme_error *err = NULL;
    char *names[NNAMES], *serials[NNAMES];
    time_t max_na = 0;
    int64_t t0 = g_get_real_time() / 1000;

    memset(&c, 0, sizeof(c));
    pthread_mutex_init(&c.mu, NULL);
    c.p = pebble_start(NULL);
    g_assert_cmpint(acme_key_generate(&c.account_key, ACME_KEY_EC_P256, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_clock_manual_new(&clock, t0, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_store_memory_new(&store, NULL), ==, ACME_OK);
    r = pebble_responder_new(c.p, "http-01");
    for (int i = 0; i < NNAMES; i++) {
        acme_bundle *b = NULL;

        names[i] = g_strdup_printf("svc%02d.example.com", i);
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
    o.email = "service-tests@example.com";
    o.workers = WORKERS;
    o.on_event = on_event;
    o.event_userdata = &c;
    if (g_getenv("LIBACME_TEST_LOG") != NULL) {
        o.log = acme_log_stderr;
        o.log_level = ACME_LOG_DEBUG;
    }
    g_assert_cmpint(acme_service_new(&svc, &o, &err), ==, ACME_OK);
    g_assert_cmpint(acme_service_start(svc, &err), ==, ACME_OK);

    /* Filled from empty. */
    g_assert_cmpint(acme_service_when_certs_valid(svc, -1, NULL), ==, ACME_OK);
    g_assert_cmpuint(settle_all(svc, clock, store, names, NULL), ==, 0);
    for (int i = 0; i < NNAMES; i++) {
        time_t na;

        serials[i] = stored_serial(store, names[i], &na);
        g_assert_nonnull(serials[i]);
        if (na > max_na)
            max_na = na;
    }
    pthread_mutex_lock(&c.mu);
    g_assert_cmpuint(c.obtained, ==, NNAMES);
    pthread_mutex_unlock(&c.mu);

    /* A renewal round: 29 days before the last expiry every certificate is due. */
    g_assert_cmpint(acme_clock_manual_set(clock, ((int64_t)max_na - 29 * 86400) * 1000), ==,
                    ACME_OK);
    g_assert_cmpuint(settle_all(svc, clock, store, names, serials), ==, 0);
    pthread_mutex_lock(&c.mu);
    g_assert_cmpuint(c.renewed, >=, NNAMES);
    g_printerr("# %u obtained, %u renewed, %u failed attempts, %u issuers made\n", c.obtained,
               c.renewed, c.failed, c.factory_calls);
    pthread_mutex_unlock(&c.mu);
    {
        unsigned int started = 0, stopped = 0;

        acme_service_stop(svc);
        pebble_responder_counts(r, &started, &stopped);
        g_assert_cmpuint(started, ==, stopped);
        g_assert_cmpuint(started, >=, NNAMES);
    }

    acme_service_free(svc);
    for (int i = 0; i < NNAMES; i++) {
        g_free(names[i]);
        g_free(serials[i]);
    }
    acme_responder_free(r);
    acme_store_free(store);
    acme_clock_free(clock);
    acme_key_free(c.account_key);
    pebble_stop(c.p);
    pthread_mutex_destroy(&c.mu);
}

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    g_assert_cmpint(acme_global_init(), ==, ACME_OK);
    g_test_add_func("/service/pebble/fill-50-and-renew", test_fill_and_renew);
    rc = g_test_run();
    acme_global_cleanup();
    return rc;
}
