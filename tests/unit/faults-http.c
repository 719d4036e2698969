/*
 * Unit tests (faults, issue 7): a misbehaving ACME server.
 *
 * A raw-socket HTTP/1.1 server on a thread of its own (not libmicrohttpd:
 * it has to break the protocol) answers the directory, newNonce and
 * newAccount properly, and one chosen resource badly: a body too large
 * (declared, or streamed without end), endless headers, a body cut short
 * (by length, by chunk, in the middle of the JSON), no answer at all, an
 * answer that trickles a byte at a time, an empty reply, or no HTTP.
 * The public client (acme_client_directory(), acme_client_account_register())
 * must come back with a clear error within its configured limits
 * (max_response_size, request_timeout_ms), and the server checks that the
 * client hung up: it stopped because of the client's limit, never because
 * the server ran out of its own bounded patience.
 *
 * Pacing: the trickling answers send a byte per poll() timeout of 10 ms;
 * that paces the server, the test itself waits only for events.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>

#include <acme/acme.h>

#include "faults.h"

typedef enum bad_mode {
    BAD_HUGE_DECLARED,     /* Content-Length: 10 GB, then streams 'x' */
    BAD_HUGE_CHUNKED,      /* chunked, never ends */
    BAD_HUGE_HEADERS,      /* header lines that never end */
    BAD_TRUNCATED_LENGTH,  /* Content-Length: 4096, sends 100 bytes, closes */
    BAD_TRUNCATED_CHUNKED, /* one chunk, then closes without the last chunk */
    BAD_TRUNCATED_JSON,    /* a complete HTTP answer whose JSON is cut */
    BAD_STALL_HEADERS,     /* reads the request, says nothing */
    BAD_STALL_BODY,        /* headers and half the body, then nothing */
    BAD_TRICKLE_BODY,      /* headers, then a byte every 10 ms */
    BAD_TRICKLE_HEADERS,   /* the status line and headers a byte every 10 ms */
    BAD_EMPTY,             /* closes without a byte */
    BAD_GARBAGE            /* not HTTP at all */
} bad_mode;

/* How long the server waits for a client to hang up before it gives up (a failure). */
#define PATIENCE_MS 30000
/* Bytes a streaming answer sends at most: far beyond any limit of the client. */
#define STREAM_BOUND ((size_t)1 << 30)
/* The client's limits in these tests. */
#define MAX_RESPONSE 65536
#define REQUEST_TIMEOUT_MS 300

typedef struct badsrv {
    int lfd;
    int wake[2];
    unsigned short port;
    pthread_t thread;
    bad_mode mode;
    const char *bad_path;     /* "/dir" or "/acct" */
    pthread_mutex_t mu;
    pthread_cond_t cond;
    unsigned int bad_done;    /* bad answers finished; guarded by mu */
    bool client_hung_up;      /* the last bad answer ended by the client; guarded by mu */
    size_t bad_bytes;         /* bytes the last bad answer sent; guarded by mu */
    unsigned int nonces;      /* guarded by mu */
} badsrv;

/* Send all of @p len; false when the peer is gone. */
static bool send_all(int fd, const void *buf, size_t len, size_t *count)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
        if (count)
            *count += (size_t)n;
    }
    return true;
}

/*
 * Wait up to @p ms for the peer to close (or reset); true when it did.
 * Whatever the client sends meanwhile is read and dropped.
 */
static bool peer_closed_within(int fd, int ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    char buf[512];
    int r = poll(&p, 1, ms);

    if (r <= 0)
        return false;
    return recv(fd, buf, sizeof(buf), 0) <= 0;
}

/* Read one request head and its body; false when the connection ended. */
static bool read_request(int fd, char *method, size_t mlen, char *path, size_t plen)
{
    GString *head = g_string_new(NULL);
    size_t body = 0;
    const char *cl;
    char c;

    while (!strstr(head->str, "\r\n\r\n")) {
        ssize_t n = recv(fd, &c, 1, 0);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || head->len > 65536) {
            g_string_free(head, TRUE);
            return false;
        }
        g_string_append_c(head, c);
    }
    if (sscanf(head->str, "%15s %255s", method, path) != 2) {
        g_string_free(head, TRUE);
        return false;
    }
    (void)mlen;
    (void)plen;
    cl = strcasestr(head->str, "\r\nContent-Length:");
    if (cl)
        body = (size_t)g_ascii_strtoull(cl + 17, NULL, 10);
    g_string_free(head, TRUE);
    while (body > 0) {
        char buf[1024];
        ssize_t n = recv(fd, buf, MIN(sizeof(buf), body), 0);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        body -= (size_t)n;
    }
    return true;
}

/* A proper answer with a fresh nonce, kept alive. */
static bool answer(badsrv *s, int fd, int status, const char *extra, const char *body)
{
    char *msg, nonce[32];
    bool ok;

    pthread_mutex_lock(&s->mu);
    g_snprintf(nonce, sizeof(nonce), "bm9uY2U%u", ++s->nonces);
    pthread_mutex_unlock(&s->mu);
    msg = g_strdup_printf("HTTP/1.1 %d X\r\nReplay-Nonce: %s\r\n%sContent-Type: "
                          "application/json\r\nContent-Length: %zu\r\n\r\n%s",
                          status, nonce, extra, strlen(body), body);
    ok = send_all(fd, msg, strlen(msg), NULL);
    g_free(msg);
    return ok;
}

/* JSON cut in the middle of a string. */
static const char cut_json[] = "{\"newNonce\": \"http://12";

static const char json_head[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n";

/* Stream @p chunk until the client hangs up (true) or STREAM_BOUND (false). */
static bool stream_until_gone(int fd, const char *chunk, size_t len, size_t *sent)
{
    while (*sent < STREAM_BOUND)
        if (!send_all(fd, chunk, len, sent))
            return true;
    return false;
}

/* Send @p text one byte per 10 ms until the client hangs up (true). */
static bool trickle(int fd, const char *text, size_t *sent, bool repeat_last)
{
    size_t len = strlen(text), i = 0;

    for (int ticks = 0; ticks < PATIENCE_MS / 10; ticks++) {
        if (peer_closed_within(fd, 10))
            return true;
        if (!send_all(fd, &text[i], 1, sent))
            return true;
        if (i + 1 < len)
            i++;
        else if (!repeat_last)
            return false;
    }
    return false;
}

/* The bad answer; true when it ended because the client hung up (or was meant to end). */
static bool misbehave(badsrv *s, int fd, size_t *sent)
{
    char big[16384];
    char *msg;
    bool ok;

    memset(big, 'x', sizeof(big));
    switch (s->mode) {
    case BAD_HUGE_DECLARED:
        msg = g_strdup_printf("%sContent-Length: 10000000000\r\n\r\n{\"x\":\"", json_head);
        ok = send_all(fd, msg, strlen(msg), sent) ? stream_until_gone(fd, big, sizeof(big), sent)
                                                  : true;
        g_free(msg);
        return ok;
    case BAD_HUGE_CHUNKED: {
        char chunk[sizeof(big) + 16];
        int hl = g_snprintf(chunk, sizeof(chunk), "%zx\r\n", sizeof(big));

        memcpy(chunk + hl, big, sizeof(big));
        memcpy(chunk + hl + sizeof(big), "\r\n", 2);
        msg = g_strdup_printf("%sTransfer-Encoding: chunked\r\n\r\n", json_head);
        ok = send_all(fd, msg, strlen(msg), sent)
                 ? stream_until_gone(fd, chunk, (size_t)hl + sizeof(big) + 2, sent)
                 : true;
        g_free(msg);
        return ok;
    }
    case BAD_HUGE_HEADERS: {
        static const char line[] = "X-Junk: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";

        if (!send_all(fd, json_head, strlen(json_head), sent))
            return true;
        return stream_until_gone(fd, line, strlen(line), sent);
    }
    case BAD_TRUNCATED_LENGTH:
        msg = g_strdup_printf("%sContent-Length: 4096\r\n\r\n{\"newNonce\": \"http://127.0.0.1/"
                              "nonce\", \"newAccount\": \"http://127.0.0.1/acct\", \"new",
                              json_head);
        send_all(fd, msg, strlen(msg), sent);
        g_free(msg);
        return true;
    case BAD_TRUNCATED_CHUNKED:
        msg = g_strdup_printf("%sTransfer-Encoding: chunked\r\n\r\n10\r\n{\"newNonce\": \"ht\r\n",
                              json_head);
        send_all(fd, msg, strlen(msg), sent);
        g_free(msg);
        return true;
    case BAD_TRUNCATED_JSON:
        /* For newAccount a proper 201 with the account URL: only the JSON is wrong. */
        msg = g_strdup_printf("HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
                              "Location: http://127.0.0.1:%u/acct/1\r\nReplay-Nonce: bm9uY2Uw\r\n"
                              "Content-Length: %zu\r\n\r\n%s",
                              strcmp(s->bad_path, "/acct") == 0 ? "201 Created" : "200 OK",
                              s->port, strlen(cut_json), cut_json);
        send_all(fd, msg, strlen(msg), sent);
        g_free(msg);
        /* A proper end: the client closes, or keeps it for the next request. */
        peer_closed_within(fd, PATIENCE_MS);
        return true;
    case BAD_STALL_HEADERS:
        return peer_closed_within(fd, PATIENCE_MS);
    case BAD_STALL_BODY:
        msg = g_strdup_printf("%sContent-Length: 200\r\n\r\n{\"newNonce\": ", json_head);
        ok = send_all(fd, msg, strlen(msg), sent) ? peer_closed_within(fd, PATIENCE_MS) : true;
        g_free(msg);
        return ok;
    case BAD_TRICKLE_BODY:
        msg = g_strdup_printf("%sContent-Length: 1000\r\n\r\n", json_head);
        ok = send_all(fd, msg, strlen(msg), sent) ? trickle(fd, " ", sent, true) : true;
        g_free(msg);
        return ok;
    case BAD_TRICKLE_HEADERS:
        /* Each header line arrives whole to nobody: a byte at a time, forever. */
        return trickle(fd, "HTTP/1.1 200 OK\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                       sent, true);
    case BAD_EMPTY:
        return true;
    case BAD_GARBAGE: {
        static const char junk[] = "SSH-2.0-OpenSSH_9.2\r\n\x01\x02\x03 not http\r\n\r\n";

        send_all(fd, junk, sizeof(junk) - 1, sent);
        return true;
    }
    }
    return false;
}

static void serve_conn(badsrv *s, int fd)
{
    char method[16], path[256];

    while (read_request(fd, method, sizeof(method), path, sizeof(path))) {
        if (strcmp(path, s->bad_path) == 0) {
            size_t sent = 0;
            bool gone = misbehave(s, fd, &sent);

            pthread_mutex_lock(&s->mu);
            s->bad_done++;
            s->client_hung_up = gone;
            s->bad_bytes = sent;
            pthread_cond_broadcast(&s->cond);
            pthread_mutex_unlock(&s->mu);
            return;
        }
        if (strcmp(path, "/dir") == 0) {
            char *dir = g_strdup_printf("{\"newNonce\": \"http://127.0.0.1:%u/nonce\", "
                                        "\"newAccount\": \"http://127.0.0.1:%u/acct\", "
                                        "\"newOrder\": \"http://127.0.0.1:%u/order\"}",
                                        s->port, s->port, s->port);
            bool ok = answer(s, fd, 200, "", dir);

            g_free(dir);
            if (!ok)
                return;
        } else if (strcmp(path, "/nonce") == 0) {
            if (!answer(s, fd, strcmp(method, "HEAD") == 0 ? 200 : 204, "", ""))
                return;
        } else {
            if (!answer(s, fd, 404, "", "{}"))
                return;
        }
    }
}

static void *server_main(void *p)
{
    badsrv *s = p;

    for (;;) {
        struct pollfd pf[2] = { { .fd = s->lfd, .events = POLLIN },
                                { .fd = s->wake[0], .events = POLLIN } };
        int fd;

        if (poll(pf, 2, -1) < 0 && errno != EINTR)
            break;
        if (pf[1].revents)
            break;
        if (!(pf[0].revents & POLLIN))
            continue;
        fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        serve_conn(s, fd);
        close(fd);
    }
    return NULL;
}

static badsrv *badsrv_new(bad_mode mode, const char *bad_path)
{
    badsrv *s = g_new0(badsrv, 1);
    struct sockaddr_in sa = { .sin_family = AF_INET };
    socklen_t len = sizeof(sa);

    s->mode = mode;
    s->bad_path = bad_path;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cond, NULL);
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(s->lfd, >=, 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    g_assert_cmpint(bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    g_assert_cmpint(listen(s->lfd, 16), ==, 0);
    g_assert_cmpint(getsockname(s->lfd, (struct sockaddr *)&sa, &len), ==, 0);
    s->port = ntohs(sa.sin_port);
    g_assert_cmpint(pipe2(s->wake, O_CLOEXEC), ==, 0);
    g_assert_cmpint(pthread_create(&s->thread, NULL, server_main, s), ==, 0);
    return s;
}

/* Wait until the bad answer is over (bounded by the server's own patience). */
static void badsrv_wait_bad(badsrv *s)
{
    pthread_mutex_lock(&s->mu);
    while (s->bad_done == 0)
        pthread_cond_wait(&s->cond, &s->mu);
    pthread_mutex_unlock(&s->mu);
}

static void badsrv_free(badsrv *s)
{
    g_assert_cmpint(write(s->wake[1], "x", 1), ==, 1);
    pthread_join(s->thread, NULL);
    close(s->wake[0]);
    close(s->wake[1]);
    close(s->lfd);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cond);
    g_free(s);
}

typedef struct bad_case {
    const char *test;     /* test path */
    bad_mode mode;
    const char *path;     /* which resource misbehaves */
    int code;             /* the error expected */
    const char *fragment; /* in the message, besides the host */
} bad_case;

static const bad_case bad_cases[] = {
    { "/faults/http/dir/huge-declared", BAD_HUGE_DECLARED, "/dir", ACME_E_PROTOCOL, "65536" },
    { "/faults/http/dir/huge-chunked", BAD_HUGE_CHUNKED, "/dir", ACME_E_PROTOCOL, "65536" },
    { "/faults/http/dir/huge-headers", BAD_HUGE_HEADERS, "/dir", ACME_E_PROTOCOL, "65536" },
    { "/faults/http/dir/truncated-length", BAD_TRUNCATED_LENGTH, "/dir", ACME_E_NETWORK,
      "broke off" },
    { "/faults/http/dir/truncated-chunked", BAD_TRUNCATED_CHUNKED, "/dir", ACME_E_NETWORK,
      "broke off" },
    { "/faults/http/dir/truncated-json", BAD_TRUNCATED_JSON, "/dir", ACME_E_PROTOCOL, NULL },
    { "/faults/http/dir/stall-headers", BAD_STALL_HEADERS, "/dir", ACME_E_TIMEOUT, NULL },
    { "/faults/http/dir/stall-body", BAD_STALL_BODY, "/dir", ACME_E_TIMEOUT, NULL },
    { "/faults/http/dir/trickle-body", BAD_TRICKLE_BODY, "/dir", ACME_E_TIMEOUT, NULL },
    { "/faults/http/dir/trickle-headers", BAD_TRICKLE_HEADERS, "/dir", ACME_E_TIMEOUT, NULL },
    { "/faults/http/dir/empty", BAD_EMPTY, "/dir", ACME_E_NETWORK, "broke off" },
    { "/faults/http/dir/garbage", BAD_GARBAGE, "/dir", ACME_E_PROTOCOL, "malformed HTTP" },
    /* The same on a signed POST (newAccount), after a good directory and nonce. */
    { "/faults/http/post/huge-declared", BAD_HUGE_DECLARED, "/acct", ACME_E_PROTOCOL, "65536" },
    { "/faults/http/post/huge-chunked", BAD_HUGE_CHUNKED, "/acct", ACME_E_PROTOCOL, "65536" },
    { "/faults/http/post/huge-headers", BAD_HUGE_HEADERS, "/acct", ACME_E_PROTOCOL, "65536" },
    { "/faults/http/post/truncated-length", BAD_TRUNCATED_LENGTH, "/acct", ACME_E_NETWORK,
      "broke off" },
    { "/faults/http/post/truncated-json", BAD_TRUNCATED_JSON, "/acct", ACME_E_PROTOCOL, NULL },
    { "/faults/http/post/stall-headers", BAD_STALL_HEADERS, "/acct", ACME_E_TIMEOUT, NULL },
    { "/faults/http/post/trickle-body", BAD_TRICKLE_BODY, "/acct", ACME_E_TIMEOUT, NULL },
    { "/faults/http/post/trickle-headers", BAD_TRICKLE_HEADERS, "/acct", ACME_E_TIMEOUT, NULL },
    { "/faults/http/post/empty", BAD_EMPTY, "/acct", ACME_E_NETWORK, "broke off" },
    { "/faults/http/post/garbage", BAD_GARBAGE, "/acct", ACME_E_PROTOCOL, "malformed HTTP" },
};

static void test_bad_server(gconstpointer data)
{
    const bad_case *bc = data;
    badsrv *s = badsrv_new(bc->mode, bc->path);
    acme_client_options o = ACME_CLIENT_OPTIONS_INIT;
    acme_client *client = NULL;
    acme_key *key = NULL;
    acme_error *e = NULL;
    const acme_directory *dir = NULL;
    char *url = g_strdup_printf("http://127.0.0.1:%u/dir", s->port);
    int rc;

    g_assert_cmpint(acme_key_generate(&key, ACME_KEY_EC_P256, NULL), ==, ACME_OK);
    o.directory_url = url;
    o.account_key = key;
    o.max_response_size = MAX_RESPONSE;
    /*
     * The short timeout only where the time limit is under test: elsewhere
     * a slow run (valgrind, a loaded machine) must not hit it first.
     */
    o.request_timeout_ms = bc->code == ACME_E_TIMEOUT ? REQUEST_TIMEOUT_MS : 60000;
    g_assert_cmpint(acme_client_new(&client, &o, NULL), ==, ACME_OK);
    if (strcmp(bc->path, "/dir") == 0) {
        rc = acme_client_directory(&dir, client, &e);
    } else {
        acme_account_options ao = ACME_ACCOUNT_OPTIONS_INIT;

        g_assert_cmpint(acme_client_directory(&dir, client, NULL), ==, ACME_OK);
        ao.terms_agreed = true;
        rc = acme_client_account_register(client, &ao, NULL, &e);
    }
    if (rc != bc->code)
        g_error("%s: %s (%s), expected %s", bc->test, acme_status_name(rc),
                e ? acme_error_message(e) : "no error", acme_status_name(bc->code));
    g_assert_nonnull(e);
    g_assert_cmpint(acme_error_code_get(e), ==, bc->code);
    g_test_message("%s: %s", bc->test, acme_error_message(e));
    /* A clear message: it names the server, and the limit where one was hit. */
    if (bc->code != ACME_E_PROTOCOL || bc->fragment)
        g_assert_nonnull(strstr(acme_error_message(e), "127.0.0.1"));
    if (bc->fragment)
        g_assert_nonnull(strstr(acme_error_message(e), bc->fragment));
    if (bc->code == ACME_E_TIMEOUT || bc->code == ACME_E_NETWORK)
        g_assert_true(acme_error_retryable(e));
    acme_error_free(e);
    /* Hanging up happens at the latest here. */
    acme_client_free(client);

    badsrv_wait_bad(s);
    pthread_mutex_lock(&s->mu);
    /* The answer ended because the client stopped it, within its limits. */
    g_assert_true(s->client_hung_up);
    if (bc->mode == BAD_HUGE_DECLARED || bc->mode == BAD_HUGE_CHUNKED ||
        bc->mode == BAD_HUGE_HEADERS)
        /* Not the gigabyte offered: kernel buffers and the limit at most. */
        g_assert_cmpuint(s->bad_bytes, <, (size_t)64 << 20);
    pthread_mutex_unlock(&s->mu);
    badsrv_free(s);
    acme_key_free(key);
    g_free(url);
}

void faults_http_add_tests(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(bad_cases); i++)
        g_test_add_data_func(bad_cases[i].test, &bad_cases[i], test_bad_server);
}
