/*
 * Unit tests: http-01 responders (the token table and its lookup, the
 * table responder, the standalone listener over libmicrohttpd, the
 * webroot responder).
 *
 * Servers listen on 127.0.0.1 port 0 only.  Responder operations are
 * driven the way the client drives them, through the vtable, with
 * challenges built from the client's internal structure.
 */
#include "config.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <acme/acme.h>
#include <acme/sys/responder.h>

#include "client/client-internal.h"

/* A real-looking token (43 base64url characters) and key authorizations. */
#define TOK1 "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"
#define TOK2 "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"
#define THUMB "9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"
#define KA1 TOK1 "." THUMB
#define KA2 TOK2 "." THUMB
#define PREFIX ACME_HTTP01_PATH_PREFIX

/* ------------------------------------------------------------------ */
/* Helpers                                                              */
/* ------------------------------------------------------------------ */

static acme_challenge make_challenge(const char *token)
{
    acme_challenge ch;

    memset(&ch, 0, sizeof(ch));
    ch.type = (char *)"http-01";
    ch.url = (char *)"https://ca.invalid/chall/1";
    ch.token = (char *)token;
    ch.status = ACME_STATUS_PENDING;
    return ch;
}

static int r_start(acme_responder *r, const char *name, const char *token, const char *ka,
                   acme_error **err)
{
    acme_challenge ch = make_challenge(token);

    return r->ops->start(r->self, name, &ch, ka, err);
}

static void r_stop(acme_responder *r, const char *name, const char *token, const char *ka)
{
    acme_challenge ch = make_challenge(token);

    r->ops->stop(r->self, name, &ch, ka);
}

/* The lookup result for @p path: the body (g_free), or NULL; *rc the code. */
static char *lookup(const acme_http01 *h, const char *path, int *rc)
{
    char *body = NULL, *copy;

    *rc = acme_http01_lookup(&body, h, path, NULL);
    copy = g_strdup(body);
    acme_free(body);
    return copy;
}

/* ------------------------------------------------------------------ */
/* Token table and lookup                                               */
/* ------------------------------------------------------------------ */

static void test_table_lookup(void)
{
    acme_http01 *h = NULL;
    acme_error *err = NULL;
    char *body;
    int rc;

    g_assert_cmpint(acme_http01_new(&h, &err), ==, ACME_OK);
    g_assert_null(err);
    g_assert_cmpint(acme_http01_add(h, TOK1, KA1, &err), ==, ACME_OK);
    g_assert_null(err);

    body = lookup(h, PREFIX TOK1, &rc);
    g_assert_cmpint(rc, ==, ACME_OK);
    g_assert_cmpstr(body, ==, KA1);
    g_free(body);

    /* Only asking (no body wanted). */
    g_assert_cmpint(acme_http01_lookup(NULL, h, PREFIX TOK1, NULL), ==, ACME_OK);

    /* A query string is ignored. */
    body = lookup(h, PREFIX TOK1 "?x=1&y=../../etc", &rc);
    g_assert_cmpint(rc, ==, ACME_OK);
    g_assert_cmpstr(body, ==, KA1);
    g_free(body);

    /* The error object is set exactly with a negative return. */
    body = NULL;
    g_assert_cmpint(acme_http01_lookup(&body, h, PREFIX TOK2, &err), ==, ACME_E_NOTFOUND);
    g_assert_null(body);
    g_assert_nonnull(err);
    g_assert_cmpint(acme_error_code_get(err), ==, ACME_E_NOTFOUND);
    acme_error_free(err);
    err = NULL;

    g_assert_cmpint(acme_http01_lookup(&body, NULL, PREFIX TOK1, &err), ==, ACME_E_INVALID);
    g_assert_cmpint(acme_error_code_get(err), ==, ACME_E_INVALID);
    acme_error_free(err);
    err = NULL;
    g_assert_cmpint(acme_http01_lookup(&body, h, NULL, NULL), ==, ACME_E_INVALID);

    acme_http01_free(h);
}

/* Paths that are not a challenge in flight, while TOK1 is. */
static const char *const not_mine[] = {
    "",
    "/",
    "/index.html",
    "/.well-known/acme-challenge",
    PREFIX,                                 /* prefix alone: empty token */
    PREFIX "?" TOK1,                        /* token only in the query */
    PREFIX TOK1 "/",                        /* trailing slash */
    PREFIX TOK1 "/..",
    PREFIX TOK1 "x",                        /* longer token */
    PREFIX "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-o", /* shorter token */
    PREFIX TOK1 "#frag",
    PREFIX TOK1 "%00",
    PREFIX TOK1 " ",
    PREFIX TOK1 ".",
    PREFIX "../" TOK1,
    PREFIX "..%2f" TOK1,
    PREFIX "%2e%2e/" TOK1,
    PREFIX "./" TOK1,
    PREFIX "/" TOK1,                        /* double slash */
    "/x" PREFIX TOK1,                       /* prefix not at the start */
    "/.well-known/acme-challengeX/" TOK1,
    "/.WELL-KNOWN/acme-challenge/" TOK1,    /* paths are case-sensitive */
    "/.well-known/../.well-known/acme-challenge/" TOK1,
    ".well-known/acme-challenge/" TOK1,     /* no leading slash */
    "http://example.com" PREFIX TOK1,       /* absolute form */
    PREFIX "tok!en",                        /* not base64url */
    PREFIX "tok+en",                        /* standard base64, not base64url */
    PREFIX "tok=",
    PREFIX TOK2,                            /* valid, but not in flight */
};

static void test_table_not_mine(void)
{
    acme_http01 *h = NULL;

    g_assert_cmpint(acme_http01_new(&h, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_http01_add(h, TOK1, KA1, NULL), ==, ACME_OK);
    for (size_t i = 0; i < G_N_ELEMENTS(not_mine); i++) {
        int rc;
        char *body = lookup(h, not_mine[i], &rc);

        if (rc != ACME_E_NOTFOUND)
            g_error("path \"%s\": got %d, expected ACME_E_NOTFOUND", not_mine[i], rc);
        g_assert_null(body);
    }
    acme_http01_free(h);
}

static void test_table_add_rejects(void)
{
    acme_http01 *h = NULL;
    acme_error *err = NULL;
    int rc;
    char *body;
    static const char *const bad_tokens[] = {
        "", "../../etc/passwd", "a/b", "a.b", "tok en", "tok=", "tok+/", "%2e%2e",
    };

    g_assert_cmpint(acme_http01_new(&h, NULL), ==, ACME_OK);
    for (size_t i = 0; i < G_N_ELEMENTS(bad_tokens); i++) {
        char *ka = g_strconcat(bad_tokens[i], ".", THUMB, NULL);

        g_assert_cmpint(acme_http01_add(h, bad_tokens[i], ka, &err), ==, ACME_E_INVALID);
        g_assert_cmpint(acme_error_code_get(err), ==, ACME_E_INVALID);
        acme_error_free(err);
        err = NULL;
        g_free(ka);
    }
    g_assert_cmpint(acme_http01_add(h, NULL, KA1, NULL), ==, ACME_E_INVALID);
    g_assert_cmpint(acme_http01_add(NULL, TOK1, KA1, NULL), ==, ACME_E_INVALID);
    /* The key authorization must be this token's. */
    g_assert_cmpint(acme_http01_add(h, TOK1, KA2, NULL), ==, ACME_E_INVALID);
    g_assert_cmpint(acme_http01_add(h, TOK1, TOK1, NULL), ==, ACME_E_INVALID);
    g_assert_cmpint(acme_http01_add(h, TOK1, TOK1 ".", NULL), ==, ACME_E_INVALID);
    g_assert_cmpint(acme_http01_add(h, TOK1, TOK1 "." THUMB "\n", NULL), ==, ACME_E_INVALID);
    g_assert_cmpint(acme_http01_add(h, TOK1, TOK1 "x." THUMB, NULL), ==, ACME_E_INVALID);
    g_assert_cmpint(acme_http01_add(h, TOK1, NULL, NULL), ==, ACME_E_INVALID);
    /* Nothing got in. */
    body = lookup(h, PREFIX TOK1, &rc);
    g_assert_cmpint(rc, ==, ACME_E_NOTFOUND);
    g_assert_null(body);
    acme_http01_free(h);
}

static void test_table_counts(void)
{
    acme_http01 *h = NULL;
    acme_error *err = NULL;
    int rc;
    char *body;

    g_assert_cmpint(acme_http01_new(&h, NULL), ==, ACME_OK);
    /* Two challenges at once. */
    g_assert_cmpint(acme_http01_add(h, TOK1, KA1, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_http01_add(h, TOK2, KA2, NULL), ==, ACME_OK);
    /* The same challenge twice: counted. */
    g_assert_cmpint(acme_http01_add(h, TOK1, KA1, NULL), ==, ACME_OK);
    /* Another key authorization for a token in flight: refused. */
    g_assert_cmpint(acme_http01_add(h, TOK1, TOK1 ".other", &err), ==, ACME_E_INVALIDSTATE);
    g_assert_cmpint(acme_error_code_get(err), ==, ACME_E_INVALIDSTATE);
    acme_error_free(err);

    body = lookup(h, PREFIX TOK2, &rc);
    g_assert_cmpstr(body, ==, KA2);
    g_free(body);

    g_assert_cmpint(acme_http01_remove(h, TOK1), ==, ACME_OK);
    body = lookup(h, PREFIX TOK1, &rc); /* one add left */
    g_assert_cmpstr(body, ==, KA1);
    g_free(body);
    g_assert_cmpint(acme_http01_remove(h, TOK1), ==, ACME_OK);
    body = lookup(h, PREFIX TOK1, &rc);
    g_assert_cmpint(rc, ==, ACME_E_NOTFOUND);
    g_assert_null(body);
    g_assert_cmpint(acme_http01_remove(h, TOK1), ==, ACME_E_NOTFOUND);
    g_assert_cmpint(acme_http01_remove(h, NULL), ==, ACME_E_INVALID);

    /* Removing one left the other. */
    body = lookup(h, PREFIX TOK2, &rc);
    g_assert_cmpstr(body, ==, KA2);
    g_free(body);
    g_assert_cmpint(acme_http01_remove(h, TOK2), ==, ACME_OK);
    g_assert_cmpint(acme_http01_lookup(NULL, h, PREFIX TOK2, NULL), ==, ACME_E_NOTFOUND);

    /* Many tokens (the table grows). */
    for (int i = 0; i < 100; i++) {
        char *tok = g_strdup_printf("token-%03d", i);
        char *ka = g_strdup_printf("%s.%s", tok, THUMB);

        g_assert_cmpint(acme_http01_add(h, tok, ka, NULL), ==, ACME_OK);
        g_free(tok);
        g_free(ka);
    }
    for (int i = 0; i < 100; i += 2) {
        char *tok = g_strdup_printf("token-%03d", i);

        g_assert_cmpint(acme_http01_remove(h, tok), ==, ACME_OK);
        g_free(tok);
    }
    for (int i = 0; i < 100; i++) {
        char *path = g_strdup_printf(PREFIX "token-%03d", i);
        char *want = g_strdup_printf("token-%03d.%s", i, THUMB);

        body = lookup(h, path, &rc);
        if (i % 2)
            g_assert_cmpstr(body, ==, want);
        else
            g_assert_null(body);
        g_free(body);
        g_free(path);
        g_free(want);
    }
    /* Freed with entries still in it: no leak (valgrind checks). */
    acme_http01_free(h);
}

typedef struct {
    acme_http01 *h;
    int id;
    int failures;
} worker_arg;

/* Adds and removes its own tokens while looking up a token that stays. */
static void *worker(void *p)
{
    worker_arg *a = p;

    for (int i = 0; i < 200; i++) {
        char tok[32], ka[96];
        char *body = NULL;

        g_snprintf(tok, sizeof(tok), "w%d-%d", a->id, i);
        g_snprintf(ka, sizeof(ka), "%s.%s", tok, THUMB);
        if (acme_http01_add(a->h, tok, ka, NULL) != ACME_OK)
            a->failures++;
        if (acme_http01_lookup(&body, a->h, PREFIX TOK1, NULL) != ACME_OK || strcmp(body, KA1) != 0)
            a->failures++;
        acme_free(body);
        if (acme_http01_remove(a->h, tok) != ACME_OK)
            a->failures++;
    }
    return NULL;
}

static void test_table_threads(void)
{
    acme_http01 *h = NULL;
    pthread_t t[4];
    worker_arg a[4];

    g_assert_cmpint(acme_http01_new(&h, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_http01_add(h, TOK1, KA1, NULL), ==, ACME_OK);
    for (int i = 0; i < 4; i++) {
        a[i] = (worker_arg){ h, i, 0 };
        g_assert_cmpint(pthread_create(&t[i], NULL, worker, &a[i]), ==, 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        g_assert_cmpint(a[i].failures, ==, 0);
    }
    acme_http01_free(h);
}

/* ------------------------------------------------------------------ */
/* The table responder                                                  */
/* ------------------------------------------------------------------ */

static void test_responder_table(void)
{
    acme_http01 *h = NULL;
    acme_responder *r = NULL;
    acme_error *err = NULL;

    g_assert_cmpint(acme_http01_new(&h, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_http01_responder(&r, h, &err), ==, ACME_OK);
    g_assert_null(err);
    g_assert_cmpstr(acme_responder_challenge_type(r), ==, "http-01");
    g_assert_cmpstr(acme_responder_name(r), ==, "http-01");
    /* The responder holds its own reference to the table. */
    acme_http01_free(h);
    h = acme_responder_self(r);

    g_assert_cmpint(r_start(r, "a.example.com", TOK1, KA1, &err), ==, ACME_OK);
    g_assert_cmpint(r_start(r, "b.example.com", TOK2, KA2, &err), ==, ACME_OK);
    g_assert_cmpint(acme_http01_lookup(NULL, h, PREFIX TOK1, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_http01_lookup(NULL, h, PREFIX TOK2, NULL), ==, ACME_OK);
    r_stop(r, "a.example.com", TOK1, KA1);
    g_assert_cmpint(acme_http01_lookup(NULL, h, PREFIX TOK1, NULL), ==, ACME_E_NOTFOUND);
    g_assert_cmpint(acme_http01_lookup(NULL, h, PREFIX TOK2, NULL), ==, ACME_OK);
    r_stop(r, "b.example.com", TOK2, KA2);
    g_assert_cmpint(acme_http01_lookup(NULL, h, PREFIX TOK2, NULL), ==, ACME_E_NOTFOUND);

    /* Bad input from the CA or caller: refused, nothing added. */
    g_assert_cmpint(r_start(r, "a.example.com", "../x", "../x." THUMB, &err), ==, ACME_E_INVALID);
    g_assert_cmpint(acme_error_code_get(err), ==, ACME_E_INVALID);
    acme_error_free(err);
    err = NULL;
    g_assert_cmpint(r_start(r, "a.example.com", TOK1, KA2, NULL), ==, ACME_E_INVALID);
    g_assert_cmpint(r_start(r, "a/../b", TOK1, KA1, NULL), ==, ACME_E_INVALID);
    g_assert_cmpint(r_start(r, NULL, TOK1, KA1, NULL), ==, ACME_E_INVALID);
    g_assert_cmpint(r_start(r, "a.example.com", NULL, KA1, NULL), ==, ACME_E_INVALID);
    g_assert_cmpint(acme_http01_lookup(NULL, h, PREFIX TOK1, NULL), ==, ACME_E_NOTFOUND);

    acme_responder_free(r);
    g_assert_cmpint(acme_http01_responder(&r, NULL, NULL), ==, ACME_E_INVALID);
    g_assert_null(r);
}

/* ------------------------------------------------------------------ */
/* Standalone listener                                                  */
/* ------------------------------------------------------------------ */

#if HAVE_MHD

typedef struct {
    long status;
    GString *body;
    char *content_type;
    char *allow;
    curl_off_t content_length;
} http_result;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    g_string_append_len(((http_result *)ud)->body, p, (gssize)(size * n));
    return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    http_result *res = ud;
    size_t len = size * n;

    if (len > 6 && g_ascii_strncasecmp(p, "Allow:", 6) == 0) {
        g_free(res->allow);
        res->allow = g_strstrip(g_strndup(p + 6, len - 6));
    }
    return len;
}

/* One request with libcurl; asserts the transfer itself worked. */
static void http_request(http_result *res, unsigned int port, const char *method, const char *path)
{
    CURL *c = curl_easy_init();
    char *url = g_strdup_printf("http://127.0.0.1:%u%s", port, path);
    char *ct = NULL;
    CURLcode cc;

    memset(res, 0, sizeof(*res));
    res->body = g_string_new(NULL);
    g_assert_nonnull(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, res);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, res);
    /* A safety net against a hung server, not a timing assertion. */
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    else if (strcmp(method, "GET") != 0)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    cc = curl_easy_perform(c);
    if (cc != CURLE_OK)
        g_error("%s %s: %s", method, url, curl_easy_strerror(cc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->status);
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
    res->content_type = g_strdup(ct);
    curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &res->content_length);
    curl_easy_cleanup(c);
    g_free(url);
}

static void http_result_clear(http_result *res)
{
    g_string_free(res->body, TRUE);
    g_free(res->content_type);
    g_free(res->allow);
}

typedef struct {
    acme_http01 *h;
    acme_http01_server *srv;
    unsigned int port;
} ListenFixture;

static void listen_setup(ListenFixture *f, gconstpointer data)
{
    const acme_http01_server_options *opts = data;
    acme_error *err = NULL;

    g_assert_cmpint(acme_http01_new(&f->h, NULL), ==, ACME_OK);
    if (acme_http01_listen(&f->srv, f->h, "127.0.0.1", 0, opts, &err) != ACME_OK)
        g_error("listen: %s", acme_error_message(err));
    f->port = acme_http01_server_port(f->srv);
    g_assert_cmpuint(f->port, >, 0);
    g_assert_cmpint(acme_http01_add(f->h, TOK1, KA1, NULL), ==, ACME_OK);
}

static void listen_teardown(ListenFixture *f, gconstpointer data)
{
    (void)data;
    acme_http01_server_free(f->srv);
    acme_http01_free(f->h);
}

static void test_listen_get(ListenFixture *f, gconstpointer data)
{
    http_result res;

    (void)data;
    http_request(&res, f->port, "GET", PREFIX TOK1);
    g_assert_cmpint(res.status, ==, 200);
    g_assert_cmpstr(res.body->str, ==, KA1);      /* exactly: nothing appended */
    g_assert_cmpuint(res.body->len, ==, strlen(KA1));
    g_assert_cmpstr(res.content_type, ==, "application/octet-stream");
    http_result_clear(&res);

    /* Two challenges at once. */
    g_assert_cmpint(acme_http01_add(f->h, TOK2, KA2, NULL), ==, ACME_OK);
    http_request(&res, f->port, "GET", PREFIX TOK2);
    g_assert_cmpint(res.status, ==, 200);
    g_assert_cmpstr(res.body->str, ==, KA2);
    http_result_clear(&res);
    http_request(&res, f->port, "GET", PREFIX TOK1 "?cache=bust");
    g_assert_cmpint(res.status, ==, 200);
    g_assert_cmpstr(res.body->str, ==, KA1);
    http_result_clear(&res);

    /* Removed: no longer answered. */
    g_assert_cmpint(acme_http01_remove(f->h, TOK1), ==, ACME_OK);
    http_request(&res, f->port, "GET", PREFIX TOK1);
    g_assert_cmpint(res.status, ==, 404);
    g_assert_cmpstr(res.body->str, !=, KA1);
    http_result_clear(&res);
}

static void test_listen_not_found(ListenFixture *f, gconstpointer data)
{
    static const char *const paths[] = {
        "/", "/index.html", PREFIX, PREFIX TOK2, PREFIX TOK1 "/", PREFIX TOK1 "x",
        "/.well-known/acme-challenge/..%2f" TOK1, "/x" PREFIX TOK1, PREFIX "%2e%2e",
    };

    (void)data;
    for (size_t i = 0; i < G_N_ELEMENTS(paths); i++) {
        http_result res;

        http_request(&res, f->port, "GET", paths[i]);
        if (res.status != 404)
            g_error("GET %s: status %ld, expected 404", paths[i], res.status);
        g_assert_null(strstr(res.body->str, THUMB));
        http_result_clear(&res);
    }
}

static void test_listen_methods(ListenFixture *f, gconstpointer data)
{
    static const char *const methods[] = { "POST", "PUT", "DELETE", "OPTIONS", "PATCH" };
    http_result res;

    (void)data;
    for (size_t i = 0; i < G_N_ELEMENTS(methods); i++) {
        http_request(&res, f->port, methods[i], PREFIX TOK1);
        if (res.status != 405)
            g_error("%s: status %ld, expected 405", methods[i], res.status);
        g_assert_cmpstr(res.allow, ==, "GET, HEAD");
        g_assert_null(strstr(res.body->str, THUMB));
        http_result_clear(&res);
    }

    /* HEAD: the headers of the GET, no body. */
    http_request(&res, f->port, "HEAD", PREFIX TOK1);
    g_assert_cmpint(res.status, ==, 200);
    g_assert_cmpstr(res.content_type, ==, "application/octet-stream");
    g_assert_cmpint(res.content_length, ==, (curl_off_t)strlen(KA1));
    g_assert_cmpuint(res.body->len, ==, 0);
    http_result_clear(&res);
    http_request(&res, f->port, "HEAD", PREFIX TOK2);
    g_assert_cmpint(res.status, ==, 404);
    http_result_clear(&res);
}

/* A raw loopback connection to the listener. */
static int raw_connect(unsigned int port)
{
    struct sockaddr_in sin;
    struct timeval tv = { 60, 0 }; /* a safety net against a hung server only */
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    g_assert_cmpint(fd, >=, 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    g_assert_cmpint(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), ==, 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

static void raw_send(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t k = send(fd, p, len, MSG_NOSIGNAL);

        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return; /* the server may close early on bad input: fine */
        p += k;
        len -= (size_t)k;
    }
}

/* Everything the server sends until it closes the connection. */
static GString *raw_read_all(int fd)
{
    GString *s = g_string_new(NULL);
    char buf[4096];

    for (;;) {
        ssize_t k = recv(fd, buf, sizeof(buf), 0);

        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            g_error("the listener neither answered nor closed the connection");
        if (k <= 0) /* closed (or reset) */
            break;
        g_string_append_len(s, buf, k);
    }
    return s;
}

/* The listener still answers a good request. */
static void assert_still_serving(unsigned int port)
{
    http_result res;

    http_request(&res, port, "GET", PREFIX TOK1);
    g_assert_cmpint(res.status, ==, 200);
    g_assert_cmpstr(res.body->str, ==, KA1);
    http_result_clear(&res);
}

static void test_listen_garbage(ListenFixture *f, gconstpointer data)
{
    static const char *const garbage[] = {
        "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", /* a TLS ClientHello */
        "GARBAGE\r\n\r\n",
        "GET\r\n\r\n",
        "GET / HTTP/9.9\r\n\r\n",
        "GET " PREFIX TOK1 " HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
        "\r\n\r\n\r\n\r\n",
    };

    (void)data;
    for (size_t i = 0; i < G_N_ELEMENTS(garbage); i++) {
        int fd = raw_connect(f->port);
        GString *out;

        raw_send(fd, garbage[i], strlen(garbage[i]));
        shutdown(fd, SHUT_WR);
        out = raw_read_all(fd);
        g_test_message("garbage %zu: %.*s", i, (int)MIN(out->len, 40), out->str);
        /* Either an error status or a closed connection; never the answer. */
        g_assert_null(strstr(out->str, THUMB));
        if (out->len > 0)
            g_assert_true(g_str_has_prefix(out->str, "HTTP/1.") && strstr(out->str, " 200 ") == NULL);
        g_string_free(out, TRUE);
        close(fd);
        assert_still_serving(f->port);
    }
}

static void test_listen_huge_header(ListenFixture *f, gconstpointer data)
{
    int fd = raw_connect(f->port);
    GString *req = g_string_new("GET " PREFIX TOK1 " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ");
    GString *out;

    (void)data;
    for (int i = 0; i < 256 * 1024; i++)
        g_string_append_c(req, 'a');
    g_string_append(req, "\r\n\r\n");
    raw_send(fd, req->str, req->len);
    shutdown(fd, SHUT_WR);
    out = raw_read_all(fd);
    g_test_message("huge header: %.*s", (int)MIN(out->len, 40), out->str);
    /* Refused (431 or similar) or dropped: never answered with the token. */
    g_assert_null(strstr(out->str, THUMB));
    if (out->len > 0)
        g_assert_true(g_str_has_prefix(out->str, "HTTP/1.1 4"));
    g_string_free(out, TRUE);
    g_string_free(req, TRUE);
    close(fd);
    assert_still_serving(f->port);

    /* A huge request line too. */
    fd = raw_connect(f->port);
    req = g_string_new("GET " PREFIX);
    for (int i = 0; i < 256 * 1024; i++)
        g_string_append_c(req, 'A');
    g_string_append(req, " HTTP/1.1\r\nHost: x\r\n\r\n");
    raw_send(fd, req->str, req->len);
    shutdown(fd, SHUT_WR);
    out = raw_read_all(fd);
    if (out->len > 0)
        g_assert_true(g_str_has_prefix(out->str, "HTTP/1.1 4"));
    g_string_free(out, TRUE);
    g_string_free(req, TRUE);
    close(fd);
    assert_still_serving(f->port);
}

/*
 * Incomplete requests left open do not block other clients, and freeing
 * the listener closes them (it returns with them still open).
 */
static void test_listen_incomplete(ListenFixture *f, gconstpointer data)
{
    static const char partial[] = "GET " PREFIX TOK1 " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
    int fds[4];

    (void)data;
    for (size_t i = 0; i < G_N_ELEMENTS(fds); i++) {
        fds[i] = raw_connect(f->port);
        raw_send(fds[i], partial, i % 2 ? sizeof(partial) - 1 : 5);
    }
    assert_still_serving(f->port);
    assert_still_serving(f->port);

    acme_http01_server_free(f->srv);
    f->srv = NULL;
    for (size_t i = 0; i < G_N_ELEMENTS(fds); i++) {
        GString *out = raw_read_all(fds[i]); /* EOF or reset: the server closed it */

        g_assert_null(strstr(out->str, THUMB));
        g_string_free(out, TRUE);
        close(fds[i]);
    }
}

/* Default limits, but an idle timeout no test run comes near. */
static const acme_http01_server_options slow_opts = {
    .version = ACME_HTTP01_SERVER_OPTIONS_VERSION,
    .timeout_seconds = 600,
};

#define SLOW_ADDRESSES 8

/* A connection to 127.0.0.1:@p port from 127.0.0.@p host. */
static int connect_from(unsigned int host, unsigned int port)
{
    struct sockaddr_in sin;
    struct timeval tv = { 20, 0 }; /* the bound on a request held up behind stalled ones */
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    g_assert_cmpint(fd, >=, 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK + host - 1);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), ==, 0);
    sin.sin_port = htons((uint16_t)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    g_assert_cmpint(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), ==, 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

/*
 * A slow-client attack with the default limits: SLOW_ADDRESSES addresses
 * each open as many connections as one address may and stall in the
 * request line.  That is twice what the old default of 64 connections
 * held, and a good client waited for the idle timeout; now it is
 * answered at once, and every stalled connection is still open (held,
 * not dropped to make room).
 */
static void test_listen_slow_clients(ListenFixture *f, gconstpointer data)
{
    static const char partial[] = "GET " PREFIX;
    static const char req[] = "GET " PREFIX TOK1 " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    enum { N = SLOW_ADDRESSES * ACME_HTTP01_MAX_CONNECTIONS_PER_IP };
    int *fds = g_new(int, N), good;
    GString *out;
    char c;

    (void)data;
    g_assert_cmpuint(N, <=, ACME_HTTP01_MAX_CONNECTIONS);
    for (int i = 0; i < N; i++) {
        fds[i] = connect_from(2 + (unsigned int)i % SLOW_ADDRESSES, f->port);
        raw_send(fds[i], partial, sizeof(partial) - 1);
    }
    good = connect_from(1, f->port);
    raw_send(good, req, sizeof(req) - 1);
    out = raw_read_all(good);
    g_assert_true(g_str_has_prefix(out->str, "HTTP/1.1 200"));
    g_assert_true(g_str_has_suffix(out->str, "\r\n\r\n" KA1));
    g_string_free(out, TRUE);
    close(good);
    for (int i = 0; i < N; i++) {
        ssize_t k = recv(fds[i], &c, 1, MSG_DONTWAIT);

        if (k >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            g_error("stalled connection %d was closed (recv %zd: %s)", i, k, g_strerror(errno));
    }
    for (int i = 0; i < N; i++)
        close(fds[i]);
    g_free(fds);
    assert_still_serving(f->port);
}

static const acme_http01_server_options per_ip_opts = {
    .version = ACME_HTTP01_SERVER_OPTIONS_VERSION,
    .max_connections_per_ip = 2,
};

/*
 * Past the per-address limit, a connection is closed unanswered.  The
 * listener accepts connections in the order they were made, so with a
 * limit of 2, a and b are counted before c arrives.
 */
static void test_listen_per_ip(ListenFixture *f, gconstpointer data)
{
    static const char req[] = "GET " PREFIX TOK1 " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    int a, b, c;
    GString *out;

    (void)data;
    a = raw_connect(f->port);
    b = raw_connect(f->port);
    c = raw_connect(f->port);
    raw_send(c, req, sizeof(req) - 1);
    out = raw_read_all(c);
    g_assert_cmpuint(out->len, ==, 0); /* closed without an answer */
    g_string_free(out, TRUE);
    close(c);

    /* The two within the limit are served. */
    raw_send(a, req, sizeof(req) - 1);
    raw_send(b, req, sizeof(req) - 1);
    out = raw_read_all(a);
    g_assert_true(g_str_has_prefix(out->str, "HTTP/1.1 200"));
    g_assert_true(g_str_has_suffix(out->str, "\r\n\r\n" KA1));
    g_string_free(out, TRUE);
    out = raw_read_all(b);
    g_assert_true(g_str_has_prefix(out->str, "HTTP/1.1 200"));
    g_string_free(out, TRUE);
    close(a);
    close(b);
}

static void test_listen_errors(void)
{
    acme_http01 *h = NULL;
    acme_http01_server *srv = NULL, *srv2 = NULL;
    acme_http01_server_options bad = ACME_HTTP01_SERVER_OPTIONS_INIT;
    acme_error *err = NULL;
    static const char *const bad_addresses[] = {
        "localhost", "example.com", "999.1.1.1", "127.0.0.1:80", "", "::g",
    };

    g_assert_cmpint(acme_http01_new(&h, NULL), ==, ACME_OK);
    for (size_t i = 0; i < G_N_ELEMENTS(bad_addresses); i++) {
        g_assert_cmpint(acme_http01_listen(&srv, h, bad_addresses[i], 0, NULL, &err), ==,
                        ACME_E_INVALID);
        g_assert_null(srv);
        g_assert_cmpint(acme_error_code_get(err), ==, ACME_E_INVALID);
        acme_error_free(err);
        err = NULL;
    }
    g_assert_cmpint(acme_http01_listen(&srv, h, "127.0.0.1", 65536, NULL, NULL), ==, ACME_E_INVALID);
    g_assert_cmpint(acme_http01_listen(&srv, NULL, "127.0.0.1", 0, NULL, NULL), ==, ACME_E_INVALID);
    g_assert_cmpint(acme_http01_listen(NULL, h, "127.0.0.1", 0, NULL, NULL), ==, ACME_E_INVALID);
    bad.version = ACME_HTTP01_SERVER_OPTIONS_VERSION + 1;
    g_assert_cmpint(acme_http01_listen(&srv, h, "127.0.0.1", 0, &bad, NULL), ==, ACME_E_INVALID);
    bad.version = 0;
    g_assert_cmpint(acme_http01_listen(&srv, h, "127.0.0.1", 0, &bad, NULL), ==, ACME_E_INVALID);

    /* A port in use. */
    g_assert_cmpint(acme_http01_listen(&srv, h, "127.0.0.1", 0, NULL, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_http01_listen(&srv2, h, "127.0.0.1", acme_http01_server_port(srv), NULL,
                                       &err),
                    ==, ACME_E_IO);
    g_assert_null(srv2);
    g_assert_cmpint(acme_error_code_get(err), ==, ACME_E_IO);
    g_assert_nonnull(strstr(acme_error_message(err), "127.0.0.1"));
    acme_error_free(err);
    acme_http01_server_free(srv);

    g_assert_cmpuint(acme_http01_server_port(NULL), ==, 0);
    acme_http01_server_free(NULL);
    acme_http01_free(h);
}

/* The one-call responder: start/stop through the vtable, freed with the listener. */
static void test_listen_standalone_responder(void)
{
    acme_responder *r = NULL;
    acme_error *err = NULL;

    if (acme_responder_http01_standalone_new(&r, "127.0.0.1", 0, NULL, &err) != ACME_OK)
        g_error("standalone: %s", acme_error_message(err));
    g_assert_cmpstr(acme_responder_challenge_type(r), ==, "http-01");
    g_assert_cmpstr(acme_responder_name(r), ==, "http-01 standalone");
    g_assert_cmpint(r_start(r, "a.example.com", TOK1, KA1, NULL), ==, ACME_OK);
    g_assert_cmpint(r_start(r, "a.example.com", "bad/token", "bad/token." THUMB, NULL), ==,
                    ACME_E_INVALID);
    r_stop(r, "a.example.com", TOK1, KA1);
    acme_responder_free(r);

    g_assert_cmpint(acme_responder_http01_standalone_new(&r, "no-such-address", 0, NULL, &err), ==,
                    ACME_E_INVALID);
    g_assert_null(r);
    acme_error_free(err);
}

#else /* !HAVE_MHD */

/* Built without libmicrohttpd: the listener is refused, clearly. */
static void test_listen_notsup(void)
{
    acme_http01 *h = NULL;
    acme_http01_server *srv = NULL;
    acme_responder *r = NULL;
    acme_error *err = NULL;

    g_assert_cmpint(acme_http01_new(&h, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_http01_listen(&srv, h, "127.0.0.1", 0, NULL, &err), ==, ACME_E_NOTSUP);
    g_assert_cmpint(acme_error_code_get(err), ==, ACME_E_NOTSUP);
    g_assert_null(srv);
    acme_error_free(err);
    g_assert_cmpint(acme_responder_http01_standalone_new(&r, "127.0.0.1", 0, NULL, NULL), ==,
                    ACME_E_NOTSUP);
    g_assert_null(r);
    acme_http01_free(h);
}

#endif /* HAVE_MHD */

/* ------------------------------------------------------------------ */
/* Webroot                                                              */
/* ------------------------------------------------------------------ */

typedef struct {
    char *root;     /* the document root */
    char *outside;  /* a directory beside it that must stay empty */
    acme_responder *r;
} WebrootFixture;

static void webroot_setup(WebrootFixture *f, gconstpointer data)
{
    char *base = g_dir_make_tmp("libacme-http01-XXXXXX", NULL);

    (void)data;
    g_assert_nonnull(base);
    f->root = g_build_filename(base, "www", NULL);
    f->outside = g_build_filename(base, "outside", NULL);
    g_free(base);
    g_assert_cmpint(g_mkdir(f->root, 0755), ==, 0);
    g_assert_cmpint(g_mkdir(f->outside, 0755), ==, 0);
    g_assert_cmpint(acme_responder_http01_webroot_new(&f->r, f->root, NULL), ==, ACME_OK);
}

static void rm_rf(const char *path)
{
    GDir *d;
    const char *name;

    if (g_file_test(path, G_FILE_TEST_IS_SYMLINK) || !g_file_test(path, G_FILE_TEST_IS_DIR)) {
        g_unlink(path);
        return;
    }
    d = g_dir_open(path, 0, NULL);
    while (d && (name = g_dir_read_name(d))) {
        char *p = g_build_filename(path, name, NULL);

        rm_rf(p);
        g_free(p);
    }
    if (d)
        g_dir_close(d);
    g_rmdir(path);
}

static bool dir_is_empty(const char *path)
{
    GDir *d = g_dir_open(path, 0, NULL);
    bool empty;

    g_assert_nonnull(d);
    empty = g_dir_read_name(d) == NULL;
    g_dir_close(d);
    return empty;
}

static void webroot_teardown(WebrootFixture *f, gconstpointer data)
{
    char *base = g_path_get_dirname(f->root);

    (void)data;
    acme_responder_free(f->r);
    rm_rf(base);
    g_free(base);
    g_free(f->root);
    g_free(f->outside);
}

static char *token_path(const WebrootFixture *f, const char *token)
{
    return g_build_filename(f->root, ".well-known", "acme-challenge", token, NULL);
}

static void assert_mode(const char *path, mode_t mode)
{
    struct stat st;

    g_assert_cmpint(lstat(path, &st), ==, 0);
    g_assert_cmpuint(st.st_mode & 07777, ==, mode);
}

static void test_webroot_start_stop(WebrootFixture *f, gconstpointer data)
{
    char *p1 = token_path(f, TOK1), *p2 = token_path(f, TOK2);
    char *wk = g_build_filename(f->root, ".well-known", NULL);
    char *ac = g_build_filename(wk, "acme-challenge", NULL);
    char *content = NULL;
    gsize len;
    mode_t old = umask(077); /* the modes must not depend on the umask */

    (void)data;
    g_assert_cmpstr(acme_responder_name(f->r), ==, "http-01 webroot");
    g_assert_cmpstr(acme_responder_challenge_type(f->r), ==, "http-01");
    g_assert_cmpint(r_start(f->r, "a.example.com", TOK1, KA1, NULL), ==, ACME_OK);
    g_assert_cmpint(r_start(f->r, "b.example.com", TOK2, KA2, NULL), ==, ACME_OK);
    umask(old);

    g_assert_true(g_file_get_contents(p1, &content, &len, NULL));
    g_assert_cmpmem(content, len, KA1, strlen(KA1));
    g_free(content);
    g_assert_true(g_file_get_contents(p2, &content, &len, NULL));
    g_assert_cmpmem(content, len, KA2, strlen(KA2));
    g_free(content);
    assert_mode(p1, 0644);
    assert_mode(p2, 0644);
    assert_mode(wk, 0755);
    assert_mode(ac, 0755);
    /* Only the two files: no temporary file left behind. */
    {
        GDir *d = g_dir_open(ac, 0, NULL);
        int n = 0;

        while (g_dir_read_name(d))
            n++;
        g_dir_close(d);
        g_assert_cmpint(n, ==, 2);
    }

    /* The same challenge again (a shared authorization): counted. */
    g_assert_cmpint(r_start(f->r, "a.example.com", TOK1, KA1, NULL), ==, ACME_OK);
    r_stop(f->r, "a.example.com", TOK1, KA1);
    g_assert_true(g_file_test(p1, G_FILE_TEST_IS_REGULAR));

    r_stop(f->r, "a.example.com", TOK1, KA1);
    g_assert_false(g_file_test(p1, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_test(p2, G_FILE_TEST_IS_REGULAR));
    r_stop(f->r, "b.example.com", TOK2, KA2);
    g_assert_false(g_file_test(p2, G_FILE_TEST_EXISTS));
    /* Stop removed exactly what start added: the root is as it was. */
    g_assert_false(g_file_test(wk, G_FILE_TEST_EXISTS));
    g_assert_true(dir_is_empty(f->root));
    /* A stop without a start touches nothing. */
    r_stop(f->r, "a.example.com", TOK1, KA1);

    g_free(p1);
    g_free(p2);
    g_free(wk);
    g_free(ac);
}

/* Directories that were there before are left, with what else is in them. */
static void test_webroot_existing_dirs(WebrootFixture *f, gconstpointer data)
{
    char *ac = g_build_filename(f->root, ".well-known", "acme-challenge", NULL);
    char *other = g_build_filename(ac, "other-file", NULL);
    char *p1 = token_path(f, TOK1);

    (void)data;
    g_assert_cmpint(g_mkdir_with_parents(ac, 0750), ==, 0);
    g_assert_true(g_file_set_contents(other, "keep", -1, NULL));
    g_assert_cmpint(r_start(f->r, "a.example.com", TOK1, KA1, NULL), ==, ACME_OK);
    g_assert_true(g_file_test(p1, G_FILE_TEST_IS_REGULAR));
    r_stop(f->r, "a.example.com", TOK1, KA1);
    g_assert_false(g_file_test(p1, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_test(other, G_FILE_TEST_IS_REGULAR));
    assert_mode(ac, 0750); /* not ours: mode untouched */
    g_free(ac);
    g_free(other);
    g_free(p1);
}

static void test_webroot_traversal(WebrootFixture *f, gconstpointer data)
{
    static const char *const bad[] = {
        "../../outside/x", "..", ".", "a/b", "/etc/passwd", "a\\b", "", "tok%2f", "x\ny",
    };
    acme_error *err = NULL;

    (void)data;
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        char *ka = g_strconcat(bad[i], ".", THUMB, NULL);

        g_assert_cmpint(r_start(f->r, "a.example.com", bad[i], ka, &err), ==, ACME_E_INVALID);
        g_assert_cmpint(acme_error_code_get(err), ==, ACME_E_INVALID);
        acme_error_free(err);
        err = NULL;
        g_free(ka);
    }
    /* A key authorization that is not the token's (it becomes the body). */
    g_assert_cmpint(r_start(f->r, "a.example.com", TOK1, "<html>", NULL), ==, ACME_E_INVALID);
    g_assert_cmpint(r_start(f->r, "../..", TOK1, KA1, NULL), ==, ACME_E_INVALID);
    /* Nothing was made, inside or outside. */
    g_assert_true(dir_is_empty(f->root));
    g_assert_true(dir_is_empty(f->outside));
}

/* A symbolic link at .well-known (or acme-challenge) is refused, not followed. */
static void test_webroot_symlink_dir(WebrootFixture *f, gconstpointer data)
{
    char *wk = g_build_filename(f->root, ".well-known", NULL);
    char *ac = g_build_filename(wk, "acme-challenge", NULL);
    acme_error *err = NULL;

    (void)data;
    g_assert_cmpint(symlink(f->outside, wk), ==, 0);
    g_assert_cmpint(r_start(f->r, "a.example.com", TOK1, KA1, &err), ==, ACME_E_IO);
    g_assert_cmpint(acme_error_code_get(err), ==, ACME_E_IO);
    acme_error_free(err);
    err = NULL;
    g_assert_true(dir_is_empty(f->outside));
    g_assert_true(g_file_test(wk, G_FILE_TEST_IS_SYMLINK)); /* left as it was */

    /* One level down. */
    g_assert_cmpint(g_unlink(wk), ==, 0);
    g_assert_cmpint(g_mkdir(wk, 0755), ==, 0);
    g_assert_cmpint(symlink(f->outside, ac), ==, 0);
    g_assert_cmpint(r_start(f->r, "a.example.com", TOK1, KA1, NULL), ==, ACME_E_IO);
    g_assert_true(dir_is_empty(f->outside));

    /* After a refused start, a good one works. */
    g_assert_cmpint(g_unlink(ac), ==, 0);
    g_assert_cmpint(r_start(f->r, "a.example.com", TOK1, KA1, NULL), ==, ACME_OK);
    r_stop(f->r, "a.example.com", TOK1, KA1);
    g_free(wk);
    g_free(ac);
}

/* A link planted at the token's own name is replaced, not written through. */
static void test_webroot_symlink_file(WebrootFixture *f, gconstpointer data)
{
    char *ac = g_build_filename(f->root, ".well-known", "acme-challenge", NULL);
    char *target = g_build_filename(f->outside, "victim", NULL);
    char *p1 = token_path(f, TOK1);
    char *tmp = g_build_filename(ac, "." TOK1 ".tmp", NULL);
    char *content = NULL;

    (void)data;
    g_assert_cmpint(g_mkdir_with_parents(ac, 0755), ==, 0);
    g_assert_true(g_file_set_contents(target, "precious", -1, NULL));
    g_assert_cmpint(symlink(target, p1), ==, 0);
    g_assert_cmpint(symlink(target, tmp), ==, 0); /* and at the temporary name */
    g_assert_cmpint(r_start(f->r, "a.example.com", TOK1, KA1, NULL), ==, ACME_OK);
    g_assert_false(g_file_test(p1, G_FILE_TEST_IS_SYMLINK));
    g_assert_true(g_file_get_contents(target, &content, NULL, NULL));
    g_assert_cmpstr(content, ==, "precious");
    g_free(content);
    r_stop(f->r, "a.example.com", TOK1, KA1);
    g_assert_true(g_file_get_contents(target, &content, NULL, NULL));
    g_assert_cmpstr(content, ==, "precious");
    g_free(content);
    g_free(ac);
    g_free(target);
    g_free(p1);
    g_free(tmp);
}

static void test_webroot_new_errors(void)
{
    acme_responder *r = NULL;
    acme_error *err = NULL;
    char *base = g_dir_make_tmp("libacme-http01-XXXXXX", NULL);
    char *file = g_build_filename(base, "file", NULL);

    g_assert_true(g_file_set_contents(file, "x", -1, NULL));
    g_assert_cmpint(acme_responder_http01_webroot_new(&r, NULL, &err), ==, ACME_E_INVALID);
    g_assert_cmpint(acme_error_code_get(err), ==, ACME_E_INVALID);
    acme_error_free(err);
    err = NULL;
    g_assert_cmpint(acme_responder_http01_webroot_new(&r, "", NULL), ==, ACME_E_INVALID);
    g_assert_cmpint(acme_responder_http01_webroot_new(&r, "/nonexistent/libacme/root", &err), ==,
                    ACME_E_NOTFOUND);
    g_assert_cmpint(acme_error_code_get(err), ==, ACME_E_NOTFOUND);
    acme_error_free(err);
    g_assert_cmpint(acme_responder_http01_webroot_new(&r, file, NULL), ==, ACME_E_NOTFOUND);
    g_assert_null(r);
    g_assert_cmpint(acme_responder_http01_webroot_new(NULL, base, NULL), ==, ACME_E_INVALID);
    g_unlink(file);
    g_rmdir(base);
    g_free(file);
    g_free(base);
}

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    g_assert_cmpint(acme_global_init(), ==, ACME_OK);

    g_test_add_func("/http01/table/lookup", test_table_lookup);
    g_test_add_func("/http01/table/not-mine", test_table_not_mine);
    g_test_add_func("/http01/table/add-rejects", test_table_add_rejects);
    g_test_add_func("/http01/table/counts", test_table_counts);
    g_test_add_func("/http01/table/threads", test_table_threads);
    g_test_add_func("/http01/responder/table", test_responder_table);

#if HAVE_MHD
    g_test_add("/http01/listen/get", ListenFixture, NULL, listen_setup, test_listen_get,
               listen_teardown);
    g_test_add("/http01/listen/not-found", ListenFixture, NULL, listen_setup, test_listen_not_found,
               listen_teardown);
    g_test_add("/http01/listen/methods", ListenFixture, NULL, listen_setup, test_listen_methods,
               listen_teardown);
    g_test_add("/http01/listen/garbage", ListenFixture, NULL, listen_setup, test_listen_garbage,
               listen_teardown);
    g_test_add("/http01/listen/huge-header", ListenFixture, NULL, listen_setup,
               test_listen_huge_header, listen_teardown);
    g_test_add("/http01/listen/incomplete", ListenFixture, NULL, listen_setup,
               test_listen_incomplete, listen_teardown);
    g_test_add("/http01/listen/per-ip", ListenFixture, &per_ip_opts, listen_setup,
               test_listen_per_ip, listen_teardown);
    g_test_add("/http01/listen/slow-clients", ListenFixture, &slow_opts, listen_setup,
               test_listen_slow_clients, listen_teardown);
    g_test_add_func("/http01/listen/errors", test_listen_errors);
    g_test_add_func("/http01/listen/standalone-responder", test_listen_standalone_responder);
#else
    g_test_add_func("/http01/listen/notsup", test_listen_notsup);
#endif

    g_test_add("/http01/webroot/start-stop", WebrootFixture, NULL, webroot_setup,
               test_webroot_start_stop, webroot_teardown);
    g_test_add("/http01/webroot/existing-dirs", WebrootFixture, NULL, webroot_setup,
               test_webroot_existing_dirs, webroot_teardown);
    g_test_add("/http01/webroot/traversal", WebrootFixture, NULL, webroot_setup,
               test_webroot_traversal, webroot_teardown);
    g_test_add("/http01/webroot/symlink-dir", WebrootFixture, NULL, webroot_setup,
               test_webroot_symlink_dir, webroot_teardown);
    g_test_add("/http01/webroot/symlink-file", WebrootFixture, NULL, webroot_setup,
               test_webroot_symlink_file, webroot_teardown);
    g_test_add_func("/http01/webroot/new-errors", test_webroot_new_errors);

    rc = g_test_run();
    acme_global_cleanup();
    return rc;
}
