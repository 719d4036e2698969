/*
 * tests/integration: tests of the Pebble harness itself, without the
 * client: Pebble comes up on its own ports, its management API answers,
 * challtestsrv serves what it is told (HTTP and DNS), several Pebbles run
 * at once, and stop cleans up.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <glib.h>
#include <json-c/json.h>

#include "pebble.h"

/* The directory as JSON, checked to name the RFC 8555 §7.1.1 resources. */
static json_object *get_directory(const pebble *p)
{
    long status = 0;
    char *body = pebble_http_get(p->directory_url, p->ca_file, &status);
    json_object *dir;

    g_assert_cmpint(status, ==, 200);
    g_assert_nonnull(body);
    dir = json_tokener_parse(body);
    g_free(body);
    g_assert_nonnull(dir);
    g_assert_true(json_object_object_get_ex(dir, "newAccount", NULL));
    g_assert_true(json_object_object_get_ex(dir, "newNonce", NULL));
    g_assert_true(json_object_object_get_ex(dir, "newOrder", NULL));
    return dir;
}

static void test_start_stop(void)
{
    pebble *p = pebble_start(NULL);
    char *tmpdir = g_strdup(p->tmpdir);
    char *root, *inter;
    json_object *dir;

    dir = get_directory(p);
    json_object_put(dir);
    g_assert_true(g_file_test(p->ca_file, G_FILE_TEST_IS_REGULAR));
    g_assert_cmpuint(p->http_port, !=, p->tls_port);
    g_assert_null(p->eab_kid);

    root = pebble_root_pem(p, 0);
    inter = pebble_intermediate_pem(p, 0);
    g_assert_nonnull(root);
    g_assert_nonnull(inter);
    g_assert_nonnull(strstr(root, "-----BEGIN CERTIFICATE-----"));
    g_assert_nonnull(strstr(inter, "-----BEGIN CERTIFICATE-----"));
    g_assert_cmpstr(root, !=, inter);
    g_free(root);
    g_free(inter);

    /* No such certificate: no status. */
    g_assert_null(pebble_cert_status(p, "0123456789abcdef"));

    pebble_stop(p);
    g_assert_false(g_file_test(tmpdir, G_FILE_TEST_EXISTS));
    g_free(tmpdir);
}

static void test_two_at_once(void)
{
    pebble *a = pebble_start(NULL);
    pebble *b = pebble_start(NULL);
    json_object *da, *db, *na, *nb;

    g_assert_cmpuint(a->listen_port, !=, b->listen_port);
    g_assert_cmpuint(a->http_port, !=, b->http_port);
    g_assert_cmpuint(a->dns_port, !=, b->dns_port);
    g_assert_cmpstr(a->tmpdir, !=, b->tmpdir);
    da = get_directory(a);
    db = get_directory(b);
    g_assert_true(json_object_object_get_ex(da, "newAccount", &na));
    g_assert_true(json_object_object_get_ex(db, "newAccount", &nb));
    g_assert_cmpstr(json_object_get_string(na), !=, json_object_get_string(nb));
    json_object_put(da);
    json_object_put(db);
    pebble_stop(a);
    /* b is untouched by a's stop. */
    db = get_directory(b);
    json_object_put(db);
    pebble_stop(b);
}

static void test_eab_config(void)
{
    pebble_options o = PEBBLE_OPTIONS_INIT;
    pebble *p;
    json_object *dir, *meta, *req;

    o.eab = true;
    p = pebble_start(&o);
    g_assert_nonnull(p->eab_kid);
    g_assert_nonnull(p->eab_hmac_key);
    g_assert_cmpuint(strspn(p->eab_hmac_key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                             "0123456789-_"), ==, strlen(p->eab_hmac_key));
    dir = get_directory(p);
    g_assert_true(json_object_object_get_ex(dir, "meta", &meta));
    g_assert_true(json_object_object_get_ex(meta, "externalAccountRequired", &req));
    g_assert_true(json_object_get_boolean(req));
    json_object_put(dir);
    pebble_stop(p);
}

static void test_http01(void)
{
    pebble *p = pebble_start(NULL);
    char *url = g_strdup_printf("http://127.0.0.1:%u/.well-known/acme-challenge/tok-en_1",
                                p->http_port);
    char *body;
    long status = 0;

    g_assert_true(pebble_cts_add_http01(p, "tok-en_1", "tok-en_1.thumbprint"));
    body = pebble_http_get(url, NULL, &status);
    g_assert_cmpint(status, ==, 200);
    g_assert_cmpstr(body, ==, "tok-en_1.thumbprint");
    g_free(body);
    g_assert_true(pebble_cts_del_http01(p, "tok-en_1"));
    /* challtestsrv answers a removed token with 200 and an empty body. */
    body = pebble_http_get(url, NULL, &status);
    g_assert_cmpint(status, ==, 200);
    g_assert_cmpstr(body, ==, "");
    g_free(body);
    g_free(url);
    pebble_stop(p);
}

static void test_responders_off(void)
{
    pebble_options o = PEBBLE_OPTIONS_INIT;
    pebble *p;
    char *url, *body;
    long status = -1;

    o.responders = false;
    p = pebble_start(&o);
    url = g_strdup_printf("http://127.0.0.1:%u/.well-known/acme-challenge/x", p->http_port);
    body = pebble_http_get(url, NULL, &status);
    /* Nobody listens on httpPort: the port is the application's. */
    g_assert_cmpint(status, ==, 0);
    g_assert_null(body);
    g_free(url);
    pebble_stop(p);
}

/*
 * Ask challtestsrv's DNS for the records of @p qtype (16 TXT, 1 A) of
 * @p name over UDP (a minimal RFC 1035 query) and say whether the @p vlen
 * bytes of @p value appear among the answers.
 */
static bool dns_has(const pebble *p, const char *name, unsigned int qtype, const void *value,
                    size_t vlen)
{
    guint8 q[512], r[1500];
    size_t n = 0;
    const char *label = name;
    struct sockaddr_in sa;
    struct timeval tv = { 5, 0 };
    ssize_t got;
    int fd;
    bool found = false;

    /* Header: id, flags RD, 1 question. */
    memcpy(q, "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", 12);
    n = 12;
    while (*label != '\0') {
        const char *dot = strchr(label, '.');
        size_t len = dot != NULL ? (size_t)(dot - label) : strlen(label);

        g_assert_cmpuint(len, <, 64);
        q[n++] = (guint8)len;
        memcpy(q + n, label, len);
        n += len;
        label += len;
        if (*label == '.')
            label++;
    }
    q[n++] = 0;
    q[n++] = (guint8)(qtype >> 8);
    q[n++] = (guint8)(qtype & 0xff);
    q[n++] = 0;
    q[n++] = 1; /* IN */

    fd = socket(AF_INET, SOCK_DGRAM, 0);
    g_assert_cmpint(fd, >=, 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)p->dns_port);
    g_assert_cmpint(sendto(fd, q, n, 0, (struct sockaddr *)&sa, sizeof(sa)), ==, (ssize_t)n);
    got = recv(fd, r, sizeof(r), 0);
    close(fd);
    g_assert_cmpint(got, >=, 12);
    g_assert_cmpint(r[0], ==, 0x12);
    g_assert_cmpint(r[1], ==, 0x34);
    /* TXT character-strings hold the value verbatim, A records the 4 bytes. */
    if (((r[6] << 8) | r[7]) > 0)
        found = memmem(r + n, (size_t)got - n, value, vlen) != NULL;
    return found;
}

static bool dns_txt_has(const pebble *p, const char *name, const char *value)
{
    return dns_has(p, name, 16, value, strlen(value));
}

static void test_dns_txt(void)
{
    pebble *p = pebble_start(NULL);

    g_assert_false(dns_txt_has(p, "_acme-challenge.harness.example", "value-one"));
    g_assert_true(pebble_cts_set_txt(p, "_acme-challenge.harness.example.", "value-one"));
    g_assert_true(pebble_cts_set_txt(p, "_acme-challenge.harness.example.", "value-two"));
    g_assert_true(dns_txt_has(p, "_acme-challenge.harness.example", "value-one"));
    g_assert_true(dns_txt_has(p, "_acme-challenge.harness.example", "value-two"));
    g_assert_true(pebble_cts_clear_txt(p, "_acme-challenge.harness.example."));
    g_assert_false(dns_txt_has(p, "_acme-challenge.harness.example", "value-one"));
    g_assert_false(dns_txt_has(p, "_acme-challenge.harness.example", "value-two"));
    pebble_stop(p);
}

static void test_dns_a(void)
{
    pebble *p = pebble_start(NULL);
    static const guint8 addr[4] = { 10, 1, 2, 3 };
    static const guint8 loopback[4] = { 127, 0, 0, 1 };

    /* -defaultIPv4 answers every name with 127.0.0.1 ... */
    g_assert_true(dns_has(p, "a.harness.example", 1, loopback, 4));
    g_assert_false(dns_has(p, "a.harness.example", 1, addr, 4));
    /* ... until add-a sets the name's own address. */
    g_assert_true(pebble_cts_add_a(p, "a.harness.example.", "10.1.2.3"));
    g_assert_true(dns_has(p, "a.harness.example", 1, addr, 4));
    g_assert_true(dns_has(p, "b.harness.example", 1, loopback, 4));
    pebble_stop(p);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pebble/harness/start-stop", test_start_stop);
    g_test_add_func("/pebble/harness/two-at-once", test_two_at_once);
    g_test_add_func("/pebble/harness/eab-config", test_eab_config);
    g_test_add_func("/pebble/harness/challtestsrv-http01", test_http01);
    g_test_add_func("/pebble/harness/responders-off", test_responders_off);
    g_test_add_func("/pebble/harness/challtestsrv-dns-txt", test_dns_txt);
    g_test_add_func("/pebble/harness/challtestsrv-dns-a", test_dns_a);
    return g_test_run();
}
