/*
 * Unit tests: the endpoint wired to the issuing service (the seams of
 * <acme/endpoint.h>): listen starts the service and returns once its
 * startup check is done, a certificate the service stores is served by
 * the next handshake without any reload call, on-demand issuance falls
 * back to the service, and close stops the service.
 *
 * The service issues from the fake CA of <acme/testing.h> into a memory
 * store; a GnuTLS client written here reads the served certificate.
 */
#include "config.h"

#include <arpa/inet.h>
#include <glib.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <acme/acme.h>
#include <acme/testing.h>

typedef struct Fx {
    acme_fake_ca *ca;
    acme_store *store;
    acme_responder *resp;
    acme_service *svc;
    acme_endpoint *ep;
    gint issued_events;     /* OBTAINED + RENEWED seen by the application */
} Fx;

static int factory(void *ud, acme_issuer **out, acme_error **err)
{
    Fx *fx = ud;

    return acme_fake_ca_issuer(out, fx->ca, err);
}

/* The application's own event callback still runs (the endpoint observes beside it). */
static void on_event(void *ud, const acme_service_event *ev)
{
    Fx *fx = ud;

    if (ev->kind == ACME_EVENT_OBTAINED || ev->kind == ACME_EVENT_RENEWED)
        g_atomic_int_inc(&fx->issued_events);
}

static void handler(void *ud, acme_endpoint_conn *conn)
{
    (void)ud;
    acme_endpoint_conn_close(conn);
}

static bool decide_b(void *ud, const char *name)
{
    (void)ud;
    return strcmp(name, "b.example") == 0;
}

/* Put an empty entry (an issue request) for @p name into the store. */
static void put_request(acme_store *store, const char *name)
{
    acme_bundle *b = NULL;
    const char *names[] = { name };

    g_assert_cmpint(acme_bundle_new_request(&b, names, 1, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_store_put(store, name, b, NULL), ==, ACME_OK);
    acme_bundle_free(b);
}

static void fx_setup(Fx *fx, gconstpointer data)
{
    acme_service_options so = ACME_SERVICE_OPTIONS_INIT;

    (void)data;
    memset(fx, 0, sizeof(*fx));
    g_assert_cmpint(acme_fake_ca_new(&fx->ca, NULL, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_store_memory_new(&fx->store, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_responder_null_new(&fx->resp, "http-01", NULL), ==, ACME_OK);
    so.store = fx->store;
    so.issuer_factory = factory;
    so.issuer_factory_userdata = fx;
    so.responders = &fx->resp;
    so.nresponders = 1;
    so.on_event = on_event;
    so.event_userdata = fx;
    so.workers = 2;
    g_assert_cmpint(acme_service_new(&fx->svc, &so, NULL), ==, ACME_OK);
}

static void fx_teardown(Fx *fx, gconstpointer data)
{
    (void)data;
    acme_endpoint_free(fx->ep);
    acme_service_free(fx->svc);
    acme_responder_free(fx->resp);
    acme_store_free(fx->store);
    acme_fake_ca_free(fx->ca);
}

static void make_endpoint(Fx *fx, bool on_demand)
{
    acme_endpoint_options o = ACME_ENDPOINT_OPTIONS_INIT;
    acme_error *e = NULL;

    o.store = fx->store;
    o.handler = handler;
    o.workers = 2;
    o.service = fx->svc;
    if (on_demand)
        o.on_demand = decide_b;
    g_assert_cmpint(acme_endpoint_new(&fx->ep, &o, &e), ==, ACME_OK);
    g_assert_null(e);
}

/*
 * A TLS client: handshake with SNI @p name on 127.0.0.1:@p port and
 * return the serial of the leaf served (hex, g_free it), or NULL when the
 * handshake failed.
 */
static char *served_serial(unsigned int port, const char *name)
{
    gnutls_certificate_credentials_t cred;
    gnutls_session_t s;
    struct sockaddr_in sin = { .sin_family = AF_INET };
    const gnutls_datum_t *peer;
    unsigned int npeer = 0;
    char *serial = NULL;
    int fd, ret;

    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(fd, >=, 0);
    sin.sin_port = htons((uint16_t)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    g_assert_cmpint(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), ==, 0);
    g_assert_cmpint(gnutls_certificate_allocate_credentials(&cred), ==, 0);
    g_assert_cmpint(gnutls_init(&s, GNUTLS_CLIENT), ==, 0);
    gnutls_set_default_priority(s);
    gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
    gnutls_server_name_set(s, GNUTLS_NAME_DNS, name, strlen(name));
    gnutls_transport_set_int(s, fd);
    do
        ret = gnutls_handshake(s);
    while (ret < 0 && !gnutls_error_is_fatal(ret));
    if (ret == 0 && (peer = gnutls_certificate_get_peers(s, &npeer)) && npeer > 0) {
        gnutls_x509_crt_t crt;
        unsigned char buf[64];
        size_t len = sizeof(buf);

        g_assert_cmpint(gnutls_x509_crt_init(&crt), ==, 0);
        g_assert_cmpint(gnutls_x509_crt_import(crt, &peer[0], GNUTLS_X509_FMT_DER), ==, 0);
        g_assert_cmpint(gnutls_x509_crt_get_serial(crt, buf, &len), ==, 0);
        serial = g_malloc(len * 2 + 1);
        for (size_t i = 0; i < len; i++)
            g_snprintf(serial + 2 * i, 3, "%02x", buf[i]);
        gnutls_x509_crt_deinit(crt);
        gnutls_bye(s, GNUTLS_SHUT_WR);
    }
    gnutls_deinit(s);
    gnutls_certificate_free_credentials(cred);
    close(fd);
    return serial;
}

/* The serial of what the store holds for @p name (hex, g_free it). */
static char *stored_serial(acme_store *store, const char *name)
{
    acme_bundle *b = NULL;
    const acme_cert *c;
    char *s;

    g_assert_cmpint(acme_store_get(&b, store, name, NULL), ==, ACME_OK);
    c = acme_bundle_cert(b);
    g_assert_nonnull(c);
    s = g_ascii_strdown(acme_cert_serial(c), -1);
    acme_bundle_free(b);
    return s;
}

/* Listen returns once the service's startup check has issued the empty entry. */
static void test_listen_issues(Fx *fx, gconstpointer data)
{
    acme_error *e = NULL;
    char *got, *want;

    (void)data;
    put_request(fx->store, "a.example");
    make_endpoint(fx, false);
    g_assert_cmpint(acme_endpoint_listen(fx->ep, "tcp:0:interface=127.0.0.1", &e), ==, ACME_OK);
    g_assert_null(e);
    /* No waiting: listen returned after the first attempt. */
    g_assert_cmpuint(acme_fake_ca_issued_count(fx->ca), ==, 1);
    want = stored_serial(fx->store, "a.example");
    got = served_serial(acme_endpoint_port(fx->ep), "a.example");
    g_assert_nonnull(got);
    g_assert_cmpstr(got, ==, want);
    g_free(got);
    g_free(want);
    g_assert_cmpint(g_atomic_int_get(&fx->issued_events), ==, 1);
}

/* A renewal by the service is served by the next handshake, with no reload call. */
static void test_renewal_reloads(Fx *fx, gconstpointer data)
{
    char *first, *second, *stored;

    (void)data;
    put_request(fx->store, "a.example");
    make_endpoint(fx, false);
    g_assert_cmpint(acme_endpoint_listen(fx->ep, "tcp:0:interface=127.0.0.1", NULL), ==, ACME_OK);
    first = served_serial(acme_endpoint_port(fx->ep), "a.example");
    g_assert_nonnull(first);
    /* The cache holds the first certificate now; the renewal must replace it. */
    g_assert_cmpint(acme_service_issue_cert(fx->svc, "a.example", NULL), ==, ACME_OK);
    stored = stored_serial(fx->store, "a.example");
    g_assert_cmpstr(stored, !=, first);
    second = served_serial(acme_endpoint_port(fx->ep), "a.example");
    g_assert_nonnull(second);
    g_assert_cmpstr(second, ==, stored);
    g_free(first);
    g_free(second);
    g_free(stored);
}

/* On-demand issuance without an issue callback goes through the service. */
static void test_on_demand_service(Fx *fx, gconstpointer data)
{
    char *got, *want;

    (void)data;
    make_endpoint(fx, true);
    g_assert_cmpint(acme_endpoint_listen(fx->ep, "tcp:0:interface=127.0.0.1", NULL), ==, ACME_OK);
    g_assert_cmpuint(acme_fake_ca_issued_count(fx->ca), ==, 0);
    /* Refused by the decide callback: no certificate, no issuance. */
    g_assert_null(served_serial(acme_endpoint_port(fx->ep), "c.example"));
    g_assert_cmpuint(acme_fake_ca_issued_count(fx->ca), ==, 0);
    got = served_serial(acme_endpoint_port(fx->ep), "b.example");
    g_assert_nonnull(got);
    g_assert_cmpuint(acme_fake_ca_issued_count(fx->ca), ==, 1);
    want = stored_serial(fx->store, "b.example");
    g_assert_cmpstr(got, ==, want);
    g_free(got);
    g_free(want);
}

/* Close stops the service: issuing on demand is refused afterwards. */
static void test_close_stops(Fx *fx, gconstpointer data)
{
    acme_error *e = NULL;

    (void)data;
    make_endpoint(fx, false);
    g_assert_cmpint(acme_endpoint_listen(fx->ep, "tcp:0:interface=127.0.0.1", NULL), ==, ACME_OK);
    g_assert_cmpint(acme_service_issue_cert(fx->svc, "d.example", NULL), ==, ACME_OK);
    acme_endpoint_close(fx->ep);
    g_assert_cmpint(acme_service_issue_cert(fx->svc, "d.example", &e), ==, ACME_E_INVALIDSTATE);
    acme_error_free(e);
}

/* A service running before listen is fine; a second endpoint on it is refused. */
static void test_started_and_shared(Fx *fx, gconstpointer data)
{
    acme_endpoint_options o = ACME_ENDPOINT_OPTIONS_INIT;
    acme_endpoint *other = NULL;
    acme_error *e = NULL;

    (void)data;
    put_request(fx->store, "a.example");
    g_assert_cmpint(acme_service_start(fx->svc, NULL), ==, ACME_OK);
    make_endpoint(fx, false);
    g_assert_cmpint(acme_endpoint_listen(fx->ep, "tcp:0:interface=127.0.0.1", NULL), ==, ACME_OK);
    g_assert_cmpuint(acme_fake_ca_issued_count(fx->ca), ==, 1);
    o.store = fx->store;
    o.handler = handler;
    o.workers = 1;
    o.service = fx->svc;
    g_assert_cmpint(acme_endpoint_new(&other, &o, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_endpoint_listen(other, "tcp:0:interface=127.0.0.1", &e), ==,
                    ACME_E_INVALIDSTATE);
    g_assert_nonnull(e);
    acme_error_free(e);
    acme_endpoint_free(other);
    /* The first endpoint still serves, and still owns the service. */
    g_assert_cmpint(acme_service_issue_cert(fx->svc, "a.example", NULL), ==, ACME_OK);
}

/* Version 1 options end before `service`: on-demand still needs `issue`. */
static void test_options_v1(void)
{
    acme_endpoint_options o = ACME_ENDPOINT_OPTIONS_INIT;
    acme_endpoint *ep = NULL;
    acme_store *store = NULL;
    acme_error *e = NULL;

    g_assert_cmpint(acme_store_memory_new(&store, NULL), ==, ACME_OK);
    o.version = 1;
    o.store = store;
    o.handler = handler;
    o.on_demand = decide_b;
    o.service = (acme_service *)&o; /* never read for version 1 */
    g_assert_cmpint(acme_endpoint_new(&ep, &o, &e), ==, ACME_E_INVALID);
    g_assert_null(ep);
    acme_error_free(e);
    acme_store_free(store);
}

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    acme_global_init();
#define ADD(path, fn) g_test_add(path, Fx, NULL, fx_setup, fn, fx_teardown)
    ADD("/endpoint/service/listen-issues", test_listen_issues);
    ADD("/endpoint/service/renewal-reloads", test_renewal_reloads);
    ADD("/endpoint/service/on-demand", test_on_demand_service);
    ADD("/endpoint/service/close-stops", test_close_stops);
    ADD("/endpoint/service/started-and-shared", test_started_and_shared);
#undef ADD
    g_test_add_func("/endpoint/service/options-v1", test_options_v1);
    rc = g_test_run();
    acme_global_cleanup();
    return rc;
}
