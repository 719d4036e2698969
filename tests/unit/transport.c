/*
 * Unit tests: transport (libcurl handle, nonce pool, signed POSTs with
 * badNonce retries, problem documents, Retry-After, limits, Link headers,
 * timeouts, cancellation, connection reuse), against the in-process mock
 * HTTP server in tests/support/mockhttp.c.
 */
#include "config.h"

#include <arpa/inet.h>
#include <glib.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <acme/acme.h>

#include "crypto/crypto.h"
#include "support/mockhttp.h"
#include "transport/internal.h"
#include "transport/link.h"
#include "transport/transport.h"
#include "util/error.h"
#include "util/json.h"
#include "util/util.h"

#define URN "urn:ietf:params:acme:error:"
#define PROBLEM "application/problem+json"

typedef struct {
    mockhttp *mock;
    acme__transport *t;
    acme_key *key;
    acme__transport_options opts;
    acme__logger logger;
    GPtrArray *logs;     /* messages and fields, one string each */
    pthread_mutex_t log_lock;  /* not GMutex: visible to ThreadSanitizer */
} Fixture;

/* ---- helpers ---- */

static void capture_log(void *userdata, acme_log_level level, const char *msg,
                        const acme_log_field *fields, size_t nfields)
{
    Fixture *fx = userdata;
    GString *s = g_string_new(msg);

    (void)level;
    for (size_t i = 0; i < nfields; i++)
        g_string_append_printf(s, " %s=%s", fields[i].key, fields[i].value);
    pthread_mutex_lock(&fx->log_lock);
    g_ptr_array_add(fx->logs, g_string_free(s, FALSE));
    pthread_mutex_unlock(&fx->log_lock);
}

static void setup(Fixture *fx, gconstpointer data)
{
    (void)data;
    memset(fx, 0, sizeof(*fx));
    fx->mock = mockhttp_new();
    fx->logs = g_ptr_array_new_with_free_func(g_free);
    pthread_mutex_init(&fx->log_lock, NULL);
    fx->logger.fn = capture_log;
    fx->logger.userdata = fx;
    fx->logger.level = ACME_LOG_DEBUG;
    fx->opts.log = &fx->logger;
    g_assert_cmpint(acme_key_generate(&fx->key, ACME_KEY_EC_P256, NULL), ==, ACME_OK);
}

/* Make the transport from fx->opts (tests adjust them first). */
static acme__transport *start(Fixture *fx)
{
    acme_error *e = NULL;
    char *nonce_url = mockhttp_url(fx->mock, "/new-nonce");

    g_assert_cmpint(acme__transport_new(&fx->t, &fx->opts, &e), ==, ACME_OK);
    g_assert_null(e);
    g_assert_cmpint(acme__transport_set_nonce_url(fx->t, nonce_url), ==, ACME_OK);
    g_free(nonce_url);
    return fx->t;
}

static void teardown(Fixture *fx, gconstpointer data)
{
    (void)data;
    acme__transport_free(fx->t);
    mockhttp_free(fx->mock);
    acme_key_free(fx->key);
    g_ptr_array_free(fx->logs, TRUE);
    pthread_mutex_destroy(&fx->log_lock);
}

/* The "nonce" in the protected header of the JWS a request carried. */
static char *jws_field(const mockhttp_request *r, const char *field)
{
    json_object *jws = NULL, *hdr = NULL;
    const char *prot;
    unsigned char *raw;
    size_t len;
    char *out;

    g_assert_cmpint(acme__json_parse(&jws, r->body, r->body_len, "jws", NULL), ==, ACME_OK);
    prot = acme__json_str(jws, "protected");
    g_assert_nonnull(prot);
    raw = acme__b64url_decode(prot, strlen(prot), &len);
    g_assert_nonnull(raw);
    g_assert_cmpint(acme__json_parse(&hdr, (const char *)raw, len, "header", NULL), ==, ACME_OK);
    out = g_strdup(acme__json_str(hdr, field));
    json_object_put(hdr);
    json_object_put(jws);
    free(raw);
    return out;
}

static void assert_nonce(const mockhttp_request *r, const char *want)
{
    char *n = jws_field(r, "nonce");

    g_assert_cmpstr(n, ==, want);
    g_free(n);
}

static void push_nonce_head(mockhttp *m, const char *nonce)
{
    char *h = g_strdup_printf("Replay-Nonce: %s", nonce);

    mockhttp_push(m, &(mockhttp_response){ .status = 200, .headers = h });
    g_free(h);
}

static void push_ok(mockhttp *m, const char *nonce, const char *body)
{
    char *h = g_strdup_printf("Replay-Nonce: %s", nonce);

    mockhttp_push(m, &(mockhttp_response){ .status = 200, .content_type = "application/json",
                                           .headers = h, .body = body });
    g_free(h);
}

static void push_badnonce(mockhttp *m, const char *nonce)
{
    char *h = nonce ? g_strdup_printf("Replay-Nonce: %s", nonce) : NULL;

    mockhttp_push(m, &(mockhttp_response){
        .status = 400, .content_type = PROBLEM, .headers = h,
        .body = "{\"type\":\"" URN "badNonce\",\"detail\":\"JWS has an invalid anti-replay nonce\"}" });
    g_free(h);
}

static int post(Fixture *fx, acme__response *resp, const char *path, const char *payload,
                acme_error **err)
{
    char *url = mockhttp_url(fx->mock, path);
    int rc = acme__transport_post(resp, fx->t, url, payload, fx->key, "https://ca/acct/1",
                                  "application/json", err);

    g_free(url);
    return rc;
}

static int get(Fixture *fx, acme__response *resp, const char *path, const char *accept,
               acme_error **err)
{
    char *url = mockhttp_url(fx->mock, path);
    int rc = acme__transport_get(resp, fx->t, url, accept, err);

    g_free(url);
    return rc;
}

static size_t count_method(mockhttp *m, const char *method)
{
    size_t n = 0;

    for (size_t i = 0; i < mockhttp_request_count(m); i++)
        if (strcmp(mockhttp_request_get(m, i)->method, method) == 0)
            n++;
    return n;
}

/* ---- nonce pool ---- */

/* RFC 8555 §7.2: HEAD newNonce only while the pool is empty; answers refill it. */
static void test_nonce_head_only_when_empty(Fixture *fx, gconstpointer data)
{
    acme__response resp;
    acme_error *e = NULL;
    uint64_t requests, badnonce;

    (void)data;
    start(fx);
    push_nonce_head(fx->mock, "nonce-1");
    push_ok(fx->mock, "nonce-2", "{\"a\":1}");
    push_ok(fx->mock, "nonce-3", "{\"a\":2}");
    g_assert_cmpint(post(fx, &resp, "/acct", "{}", &e), ==, ACME_OK);
    g_assert_null(e);
    g_assert_cmpint(resp.status, ==, 200);
    g_assert_cmpstr(resp.body.data, ==, "{\"a\":1}");
    acme__response_clear(&resp);
    g_assert_cmpint(post(fx, &resp, "/order", NULL, &e), ==, ACME_OK);
    g_assert_cmpstr(resp.body.data, ==, "{\"a\":2}");
    acme__response_clear(&resp);

    g_assert_cmpuint(mockhttp_request_count(fx->mock), ==, 3);
    g_assert_cmpuint(count_method(fx->mock, "HEAD"), ==, 1);
    g_assert_cmpstr(mockhttp_request_get(fx->mock, 0)->method, ==, "HEAD");
    g_assert_cmpstr(mockhttp_request_get(fx->mock, 0)->path, ==, "/new-nonce");
    assert_nonce(mockhttp_request_get(fx->mock, 1), "nonce-1");
    assert_nonce(mockhttp_request_get(fx->mock, 2), "nonce-2");
    acme__transport_stats(fx->t, &requests, &badnonce);
    g_assert_cmpuint(requests, ==, 3);
    g_assert_cmpuint(badnonce, ==, 0);
}

/* The pool: bounded, newest first, base64url only. */
static void test_nonce_pool_policy(Fixture *fx, gconstpointer data)
{
    char *n;
    acme_error *e = NULL;

    (void)data;
    start(fx);
    g_assert_false(acme__nonce_put(fx->t, "has space"));
    g_assert_false(acme__nonce_put(fx->t, "std+b64/="));
    g_assert_false(acme__nonce_put(fx->t, ""));
    for (int i = 0; i < 20; i++) {
        char name[16];

        snprintf(name, sizeof(name), "n%d", i);
        g_assert_true(acme__nonce_put(fx->t, name));
    }
    /* Newest first; only the newest ACME__NONCE_POOL_SIZE are kept. */
    for (int i = 19; i >= 20 - ACME__NONCE_POOL_SIZE; i--) {
        char want[16];

        snprintf(want, sizeof(want), "n%d", i);
        g_assert_cmpint(acme__nonce_take(&n, fx->t, NULL), ==, ACME_OK);
        g_assert_cmpstr(n, ==, want);
        free(n);
    }
    g_assert_cmpuint(mockhttp_request_count(fx->mock), ==, 0);
    /* Empty: the next take asks the server, which sends a bad nonce. */
    mockhttp_push(fx->mock, &(mockhttp_response){ .status = 200, .headers = "Replay-Nonce: a+b" });
    g_assert_cmpint(acme__nonce_take(&n, fx->t, &e), ==, ACME_E_PROTOCOL);
    g_assert_null(n);
    g_assert_nonnull(strstr(acme_error_message(e), "Replay-Nonce"));
    acme_error_free(e);
    g_assert_cmpuint(count_method(fx->mock, "HEAD"), ==, 1);
}

/* ---- badNonce ---- */

static void test_badnonce_retried(Fixture *fx, gconstpointer data)
{
    acme__response resp;
    acme_error *e = NULL;
    uint64_t requests, badnonce;

    (void)data;
    start(fx);
    push_nonce_head(fx->mock, "nonce-1");
    push_badnonce(fx->mock, "nonce-2");
    push_badnonce(fx->mock, NULL);          /* no fresh nonce: HEAD again */
    push_nonce_head(fx->mock, "nonce-3");
    push_ok(fx->mock, "nonce-4", "{}");
    g_assert_cmpint(post(fx, &resp, "/order", "{\"x\":1}", &e), ==, ACME_OK);
    g_assert_null(e);
    g_assert_cmpint(resp.status, ==, 200);
    acme__response_clear(&resp);

    g_assert_cmpuint(mockhttp_request_count(fx->mock), ==, 5);
    assert_nonce(mockhttp_request_get(fx->mock, 1), "nonce-1");
    assert_nonce(mockhttp_request_get(fx->mock, 2), "nonce-2");
    g_assert_cmpstr(mockhttp_request_get(fx->mock, 3)->method, ==, "HEAD");
    assert_nonce(mockhttp_request_get(fx->mock, 4), "nonce-3");
    acme__transport_stats(fx->t, &requests, &badnonce);
    g_assert_cmpuint(requests, ==, 5);
    g_assert_cmpuint(badnonce, ==, 2);
}

/* badNonce forever: N retries, so exactly N+1 signed requests, then ACME_E_BADNONCE. */
static void check_badnonce_forever(Fixture *fx, unsigned int configured, unsigned int n)
{
    acme__response resp;
    acme_error *e = NULL;
    uint64_t badnonce;

    fx->opts.badnonce_retries = configured;
    start(fx);
    push_nonce_head(fx->mock, "nonce-0");
    for (unsigned int i = 0; i <= n; i++) {
        char nonce[32];

        snprintf(nonce, sizeof(nonce), "nonce-%u", i + 1);
        push_badnonce(fx->mock, nonce);
    }
    push_ok(fx->mock, "never", "{}"); /* must not be reached */
    g_assert_cmpint(post(fx, &resp, "/order", "{}", &e), ==, ACME_E_BADNONCE);
    g_assert_nonnull(e);
    g_assert_cmpint(acme_error_code_get(e), ==, ACME_E_BADNONCE);
    g_assert_cmpstr(acme_error_problem_type(e), ==, URN "badNonce");
    g_assert_cmpint(acme_error_http_status(e), ==, 400);
    g_assert_true(acme_error_retryable(e));
    acme_error_free(e);
    acme__response_clear(&resp);
    g_assert_cmpuint(count_method(fx->mock, "POST"), ==, n + 1);
    g_assert_cmpuint(count_method(fx->mock, "HEAD"), ==, 1);
    acme__transport_stats(fx->t, NULL, &badnonce);
    g_assert_cmpuint(badnonce, ==, n);
}

static void test_badnonce_forever(Fixture *fx, gconstpointer data)
{
    (void)data;
    check_badnonce_forever(fx, 3, 3);
}

static void test_badnonce_default_bound(Fixture *fx, gconstpointer data)
{
    (void)data;
    check_badnonce_forever(fx, 0, ACME_BADNONCE_RETRIES);
}

/* ---- problem documents ---- */

static const char subproblem_doc[] =
    "{\"type\":\"" URN "rejectedIdentifier\","
    "\"detail\":\"Some of the identifiers requested were rejected\","
    "\"instance\":\"https://ca.example/docs/rejected\","
    "\"subproblems\":["
    "{\"type\":\"" URN "malformed\",\"detail\":\"Invalid underscore in DNS name\","
    "\"identifier\":{\"type\":\"dns\",\"value\":\"_example.org\"}},"
    "{\"type\":\"" URN "rejectedIdentifier\",\"detail\":\"This CA will not issue for it\","
    "\"identifier\":{\"type\":\"dns\",\"value\":\"example.net\"}}]}";

static void test_problem_subproblems(Fixture *fx, gconstpointer data)
{
    acme__response resp;
    acme_error *e = NULL;
    const char *type, *detail, *id_type, *id_value;

    (void)data;
    start(fx);
    push_nonce_head(fx->mock, "nonce-1");
    mockhttp_push(fx->mock, &(mockhttp_response){
        .status = 403, .content_type = "application/problem+json; charset=utf-8",
        .headers = "Replay-Nonce: nonce-2", .body = subproblem_doc });
    g_assert_cmpint(post(fx, &resp, "/new-order", "{}", &e), ==, ACME_E_REJECTED);
    g_assert_cmpint(resp.status, ==, 403);
    g_assert_cmpstr(resp.content_type, ==, PROBLEM);
    acme__response_clear(&resp);

    g_assert_cmpint(acme_error_code_get(e), ==, ACME_E_REJECTED);
    g_assert_cmpint(acme_error_http_status(e), ==, 403);
    g_assert_cmpstr(acme_error_problem_type(e), ==, URN "rejectedIdentifier");
    g_assert_cmpstr(acme_error_detail(e), ==, "Some of the identifiers requested were rejected");
    g_assert_cmpstr(acme_error_instance(e), ==, "https://ca.example/docs/rejected");
    g_assert_cmpint(acme_error_retry_after(e), ==, -1);
    g_assert_false(acme_error_retryable(e));
    g_assert_true(acme__problem_is(e, "rejectedIdentifier"));
    g_assert_false(acme__problem_is(e, "badNonce"));
    g_assert_nonnull(strstr(acme_error_message(e), "Some of the identifiers"));
    g_assert_nonnull(strstr(acme_error_message(e), "example.net"));
    g_assert_cmpuint(acme_error_subproblem_count(e), ==, 2);
    g_assert_cmpint(acme_error_subproblem(e, 0, &type, &detail, &id_type, &id_value), ==, ACME_OK);
    g_assert_cmpstr(type, ==, URN "malformed");
    g_assert_cmpstr(detail, ==, "Invalid underscore in DNS name");
    g_assert_cmpstr(id_type, ==, "dns");
    g_assert_cmpstr(id_value, ==, "_example.org");
    g_assert_cmpint(acme_error_subproblem(e, 1, &type, &detail, &id_type, &id_value), ==, ACME_OK);
    g_assert_cmpstr(type, ==, URN "rejectedIdentifier");
    g_assert_cmpstr(detail, ==, "This CA will not issue for it");
    g_assert_cmpstr(id_type, ==, "dns");
    g_assert_cmpstr(id_value, ==, "example.net");
    g_assert_cmpint(acme_error_subproblem(e, 2, NULL, NULL, NULL, NULL), ==, ACME_E_INVALID);
    acme_error_free(e);
    /* The error answer's nonce went into the pool: no second HEAD. */
    g_assert_true(acme__nonce_put(fx->t, "x") && fx->t->nnonces == 2);
}

static void test_problem_without_type(Fixture *fx, gconstpointer data)
{
    acme__response resp;
    acme_error *e = NULL;

    (void)data;
    start(fx);
    mockhttp_push(fx->mock, &(mockhttp_response){ .status = 500, .content_type = PROBLEM,
                                                  .body = "{\"detail\":\"database on fire\"}" });
    g_assert_cmpint(get(fx, &resp, "/dir", "application/json", &e), ==, ACME_E_PROTOCOL);
    g_assert_cmpint(resp.status, ==, 500);
    acme__response_clear(&resp);
    g_assert_cmpint(acme_error_http_status(e), ==, 500);
    g_assert_null(acme_error_problem_type(e));
    g_assert_cmpstr(acme_error_detail(e), ==, "database on fire");
    g_assert_true(acme_error_retryable(e));
    g_assert_nonnull(strstr(acme_error_message(e), "500"));
    g_assert_nonnull(strstr(acme_error_message(e), "database on fire"));
    acme_error_free(e);
}

static void test_problem_not_json(Fixture *fx, gconstpointer data)
{
    acme__response resp;
    acme_error *e = NULL;

    (void)data;
    start(fx);
    /* A proxy's HTML page. */
    mockhttp_push(fx->mock, &(mockhttp_response){ .status = 502, .content_type = "text/html",
                                                  .body = "<html>Bad Gateway</html>" });
    /* A truncated problem document. */
    mockhttp_push(fx->mock, &(mockhttp_response){
        .status = 400, .content_type = PROBLEM,
        .body = "{\"type\":\"" URN "malformed\",\"detail\":\"tru" });
    /* A problem document that is not an object. */
    mockhttp_push(fx->mock, &(mockhttp_response){ .status = 404, .content_type = PROBLEM,
                                                  .body = "[1,2]" });

    g_assert_cmpint(get(fx, &resp, "/a", "application/json", &e), ==, ACME_E_PROTOCOL);
    g_assert_cmpint(acme_error_http_status(e), ==, 502);
    g_assert_nonnull(strstr(acme_error_message(e), "502"));
    g_assert_nonnull(strstr(acme_error_message(e), "text/html"));
    g_assert_true(acme_error_retryable(e));
    g_assert_null(acme_error_problem_type(e));
    acme_error_free(e);
    e = NULL;
    acme__response_clear(&resp);

    g_assert_cmpint(get(fx, &resp, "/b", NULL, &e), ==, ACME_E_PROTOCOL);
    g_assert_cmpint(acme_error_http_status(e), ==, 400);
    g_assert_null(acme_error_problem_type(e));
    g_assert_false(acme_error_retryable(e));
    g_assert_nonnull(strstr(acme_error_message(e), "400"));
    acme_error_free(e);
    e = NULL;
    acme__response_clear(&resp);

    g_assert_cmpint(get(fx, &resp, "/c", NULL, &e), ==, ACME_E_PROTOCOL);
    g_assert_cmpint(acme_error_http_status(e), ==, 404);
    acme_error_free(e);
    acme__response_clear(&resp);
}

typedef struct {
    const char *name;
    int code;
    bool retryable;
} problem_case;

/* The table, entry by entry (RFC 8555 §6.7, RFC 9773). */
static const problem_case problem_cases[] = {
    { "accountDoesNotExist", ACME_E_REJECTED, false },
    { "alreadyReplaced", ACME_E_REJECTED, false },
    { "alreadyRevoked", ACME_E_REJECTED, false },
    { "badCSR", ACME_E_REJECTED, false },
    { "badNonce", ACME_E_BADNONCE, true },
    { "badPublicKey", ACME_E_REJECTED, false },
    { "badRevocationReason", ACME_E_REJECTED, false },
    { "badSignatureAlgorithm", ACME_E_NOTSUP, false },
    { "caa", ACME_E_REJECTED, false },
    { "compound", ACME_E_REJECTED, false },
    { "connection", ACME_E_REJECTED, false },
    { "dns", ACME_E_REJECTED, false },
    { "externalAccountRequired", ACME_E_REJECTED, false },
    { "incorrectResponse", ACME_E_REJECTED, false },
    { "invalidContact", ACME_E_REJECTED, false },
    { "malformed", ACME_E_PROTOCOL, false },
    { "orderNotReady", ACME_E_INVALIDSTATE, false },
    { "rateLimited", ACME_E_RATELIMITED, true },
    { "rejectedIdentifier", ACME_E_REJECTED, false },
    { "serverInternal", ACME_E_PROTOCOL, true },
    { "tls", ACME_E_REJECTED, false },
    { "unauthorized", ACME_E_REJECTED, false },
    { "unsupportedContact", ACME_E_REJECTED, false },
    { "unsupportedIdentifier", ACME_E_NOTSUP, false },
    { "userActionRequired", ACME_E_REJECTED, false },
    /* Not in the table: a type the library does not know. */
    { "somethingNew", ACME_E_REJECTED, false },
};

static void test_problem_table(gconstpointer data)
{
    const problem_case *c = data;
    char *json = g_strdup_printf("{\"type\":\"" URN "%s\",\"detail\":\"d\"}", c->name);
    acme_error *e = acme__problem_from_json(json, strlen(json), 403);

    g_assert_nonnull(e);
    g_assert_cmpint(acme_error_code_get(e), ==, c->code);
    g_assert_cmpint(acme_error_retryable(e), ==, c->retryable);
    g_assert_cmpint(acme_error_http_status(e), ==, 403);
    g_assert_true(acme__problem_is(e, c->name));
    g_assert_cmpstr(acme_error_detail(e), ==, "d");
    acme_error_free(e);
    g_free(json);
}

static void test_problem_from_json(void)
{
    /* An embedded problem (a challenge's "error"): its "status" stands in for the response's. */
    static const char chall_err[] =
        "{\"type\":\"" URN "incorrectResponse\",\"detail\":\"wrong key authorization\","
        "\"status\":403}";
    acme_error *e = acme__problem_from_json(chall_err, strlen(chall_err), 0);

    g_assert_nonnull(e);
    g_assert_cmpint(acme_error_code_get(e), ==, ACME_E_REJECTED);
    g_assert_cmpint(acme_error_http_status(e), ==, 403);
    g_assert_cmpint(acme_error_retry_after(e), ==, -1);
    g_assert_true(acme__problem_is(e, "incorrectResponse"));
    acme_error_free(e);

    g_assert_null(acme__problem_from_json("[]", 2, 0));
    g_assert_null(acme__problem_from_json("{\"type\":", 8, 0));
    g_assert_null(acme__problem_from_json("", 0, 0));
    g_assert_false(acme__problem_is(NULL, "badNonce"));
}

/* ---- Retry-After ---- */

static void test_retry_after_seconds(Fixture *fx, gconstpointer data)
{
    acme__response resp;
    acme_error *e = NULL;

    (void)data;
    start(fx);
    push_nonce_head(fx->mock, "nonce-1");
    mockhttp_push(fx->mock, &(mockhttp_response){
        .status = 429, .content_type = PROBLEM, .headers = "Retry-After: 120\nReplay-Nonce: n2",
        .body = "{\"type\":\"" URN "rateLimited\",\"detail\":\"too many new orders\"}" });
    g_assert_cmpint(post(fx, &resp, "/new-order", "{}", &e), ==, ACME_E_RATELIMITED);
    g_assert_cmpint(resp.retry_after, ==, 120);
    acme__response_clear(&resp);
    g_assert_cmpint(acme_error_retry_after(e), ==, 120);
    g_assert_true(acme_error_retryable(e));
    g_assert_cmpint(acme_error_http_status(e), ==, 429);
    acme_error_free(e);
}

static void test_retry_after_date(Fixture *fx, gconstpointer data)
{
    acme__response resp;
    acme_error *e = NULL;
    char date[64], hdr[96];
    time_t when = time(NULL) + 3600;
    struct tm tm;

    (void)data;
    start(fx);
    gmtime_r(&when, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    snprintf(hdr, sizeof(hdr), "Retry-After: %s", date);
    mockhttp_push(fx->mock, &(mockhttp_response){ .status = 503, .content_type = "text/plain",
                                                  .headers = hdr, .body = "maintenance" });
    /* A date in the past means "now". */
    mockhttp_push(fx->mock, &(mockhttp_response){
        .status = 200, .content_type = "application/json", .body = "{}",
        .headers = "Retry-After: Sun, 06 Nov 1994 08:49:37 GMT" });
    /* Neither form: ignored. */
    mockhttp_push(fx->mock, &(mockhttp_response){
        .status = 200, .content_type = "application/json", .body = "{}",
        .headers = "Retry-After: soon" });

    g_assert_cmpint(get(fx, &resp, "/dir", "application/json", &e), ==, ACME_E_PROTOCOL);
    /* Counted from when the answer came: an hour, give or take the test's own run time. */
    g_assert_cmpint(acme_error_retry_after(e), <=, 3600);
    g_assert_cmpint(acme_error_retry_after(e), >, 3000);
    g_assert_cmpint(acme_error_http_status(e), ==, 503);
    g_assert_true(acme_error_retryable(e));
    acme_error_free(e);
    e = NULL;
    acme__response_clear(&resp);

    g_assert_cmpint(get(fx, &resp, "/dir", "application/json", &e), ==, ACME_OK);
    g_assert_cmpint(resp.retry_after, ==, 0);
    acme__response_clear(&resp);
    g_assert_cmpint(get(fx, &resp, "/dir", "application/json", &e), ==, ACME_OK);
    g_assert_cmpint(resp.retry_after, ==, -1);
    acme__response_clear(&resp);
}

/* ---- limits and content types ---- */

/* A body without Content-Length that never ends: aborted at the limit, not buffered whole. */
static void test_oversized_streamed(Fixture *fx, gconstpointer data)
{
    acme__response resp;
    acme_error *e = NULL;
    const size_t total = (size_t)256 << 20;

    (void)data;
    fx->opts.max_response_size = 64 * 1024;
    start(fx);
    mockhttp_push(fx->mock, &(mockhttp_response){ .status = 200,
                                                  .content_type = "application/json",
                                                  .stream_len = total });
    g_assert_cmpint(get(fx, &resp, "/big", "application/json", &e), ==, ACME_E_PROTOCOL);
    g_assert_nonnull(strstr(acme_error_message(e), "65536"));
    g_assert_nonnull(strstr(acme_error_message(e), "127.0.0.1"));
    g_assert_cmpuint(resp.body.len, <=, 64 * 1024);
    acme_error_free(e);
    acme__response_clear(&resp);
    g_assert_cmpuint(mockhttp_streamed(fx->mock), <, total);
}

/* A declared Content-Length over the limit: refused before the body. */
static void test_oversized_declared(Fixture *fx, gconstpointer data)
{
    acme__response resp;
    acme_error *e = NULL;
    char *body = g_malloc(200 * 1024 + 1);

    (void)data;
    memset(body, ' ', 200 * 1024);
    body[200 * 1024] = '\0';
    fx->opts.max_response_size = 1024;
    start(fx);
    mockhttp_push(fx->mock, &(mockhttp_response){ .status = 200,
                                                  .content_type = "application/json",
                                                  .body = body });
    g_free(body);
    g_assert_cmpint(get(fx, &resp, "/big", "application/json", &e), ==, ACME_E_PROTOCOL);
    g_assert_cmpuint(resp.body.len, ==, 0);
    g_assert_nonnull(strstr(acme_error_message(e), "1024"));
    acme_error_free(e);
    acme__response_clear(&resp);
}

static void test_content_type(Fixture *fx, gconstpointer data)
{
    acme__response resp;
    acme_error *e = NULL;

    (void)data;
    start(fx);
    mockhttp_push(fx->mock, &(mockhttp_response){ .status = 200, .content_type = "text/html",
                                                  .body = "<html></html>" });
    mockhttp_push(fx->mock, &(mockhttp_response){ .status = 200, .body = "{}" });
    mockhttp_push(fx->mock, &(mockhttp_response){
        .status = 200, .content_type = "Application/JSON; charset=utf-8", .body = "{}" });

    g_assert_cmpint(get(fx, &resp, "/dir", "application/json", &e), ==, ACME_E_PROTOCOL);
    g_assert_nonnull(strstr(acme_error_message(e), "text/html"));
    g_assert_nonnull(strstr(acme_error_message(e), "application/json"));
    acme_error_free(e);
    e = NULL;
    acme__response_clear(&resp);
    /* No Content-Type at all. */
    g_assert_cmpint(get(fx, &resp, "/dir", "application/json", &e), ==, ACME_E_PROTOCOL);
    g_assert_nonnull(strstr(acme_error_message(e), "application/json"));
    acme_error_free(e);
    e = NULL;
    acme__response_clear(&resp);
    /* Parameters and case do not matter. */
    g_assert_cmpint(get(fx, &resp, "/dir", "application/json", &e), ==, ACME_OK);
    g_assert_cmpstr(resp.content_type, ==, "application/json");
    g_assert_cmpstr(mockhttp_request_header(mockhttp_request_get(fx->mock, 2), "Accept"), ==,
                    "application/json");
    acme__response_clear(&resp);
}

/* ---- Link headers ---- */

static void test_link_alternates(Fixture *fx, gconstpointer data)
{
    acme__response resp;
    acme_error *e = NULL;
    char *want;

    (void)data;
    start(fx);
    push_nonce_head(fx->mock, "nonce-1");
    mockhttp_push(fx->mock, &(mockhttp_response){
        .status = 200, .content_type = "application/pem-certificate-chain",
        .body = "-----BEGIN CERTIFICATE-----\n",
        .headers = "Replay-Nonce: nonce-2\n"
                   "Link: <https://ca.example/cert/1/alt/1>;rel=\"alternate\"\n"
                   "Link: </cert/1/alt/2>; rel=alternate, <alt/3>;rel=\"alternate\", "
                   "<https://ca.example/dir>;rel=\"index\"\n"
                   "Link: </issuer>;title=\"a, b\";rel=\"up\"\n"
                   "Location: /cert/1" });
    g_assert_cmpint(acme__transport_post(&resp, fx->t,
                                         mockhttp_strdup(fx->mock, "http://127.0.0.1:%u/cert/1",
                                                         mockhttp_port(fx->mock)),
                                         NULL, fx->key, "kid", "application/pem-certificate-chain",
                                         &e),
                    ==, ACME_OK);
    g_assert_cmpuint(resp.nalternates, ==, 3);
    g_assert_cmpstr(resp.alternates[0], ==, "https://ca.example/cert/1/alt/1");
    want = mockhttp_url(fx->mock, "/cert/1/alt/2");
    g_assert_cmpstr(resp.alternates[1], ==, want);
    g_free(want);
    want = mockhttp_url(fx->mock, "/cert/alt/3");
    g_assert_cmpstr(resp.alternates[2], ==, want);
    g_free(want);
    want = mockhttp_url(fx->mock, "/issuer");
    g_assert_cmpstr(resp.link_up, ==, want);
    g_free(want);
    want = mockhttp_url(fx->mock, "/cert/1");
    g_assert_cmpstr(resp.location, ==, want);
    g_free(want);
    acme__response_clear(&resp);
    g_assert_null(resp.alternates);
    g_assert_cmpint(resp.retry_after, ==, -1);
}

static void test_link_parse(void)
{
    acme__link_list l = { 0 };

    g_assert_cmpint(acme__link_parse(&l, "<a>;rel=\"alternate up\", junk, <b> ; REL = Alternate ;"
                                         " rel=up, <c>;rel=\"next\", <d>;title=\"x,<e>\";rel=alternate,"
                                         " <f>"), ==, ACME_OK);
    g_assert_cmpint(acme__link_parse(&l, "<g>;rel=alternate;rel=up"), ==, ACME_OK);
    g_assert_cmpint(acme__link_parse(&l, ""), ==, ACME_OK);
    g_assert_cmpint(acme__link_parse(&l, "<unterminated;rel=alternate"), ==, ACME_OK);
    g_assert_cmpuint(l.nalternates, ==, 4);
    g_assert_cmpstr(l.alternates[0], ==, "a");
    g_assert_cmpstr(l.alternates[1], ==, "b");
    g_assert_cmpstr(l.alternates[2], ==, "d");
    g_assert_cmpstr(l.alternates[3], ==, "g");
    g_assert_cmpstr(l.up, ==, "a");
    acme__link_list_clear(&l);
    g_assert_null(l.up);
}

/* ---- timeouts, cancellation, errors ---- */

static void test_timeout(Fixture *fx, gconstpointer data)
{
    acme__response resp;
    acme_error *e = NULL;

    (void)data;
    fx->opts.request_timeout_ms = 200;
    start(fx);
    mockhttp_push(fx->mock, &(mockhttp_response){ .status = 200, .hold = true });
    g_assert_cmpint(get(fx, &resp, "/slow", NULL, &e), ==, ACME_E_TIMEOUT);
    g_assert_nonnull(strstr(acme_error_message(e), "127.0.0.1"));
    g_assert_true(acme_error_retryable(e));
    acme_error_free(e);
    acme__response_clear(&resp);
}

typedef struct {
    Fixture *fx;
    int rc;
    acme_error *err;
} cancel_job;

static void *slow_get(void *arg)
{
    cancel_job *j = arg;
    acme__response resp;

    j->rc = get(j->fx, &resp, "/slow", NULL, &j->err);
    acme__response_clear(&resp);
    return NULL;
}

static void *sleep_long(void *arg)
{
    cancel_job *j = arg;

    j->rc = acme__transport_sleep(j->fx->t, 3600 * 1000, &j->err);
    return NULL;
}

/*
 * Cancel from another thread while the server holds its answer: the call
 * returns ACME_E_CANCELLED while the answer is still held (so promptly,
 * without any clock in the test).
 */
static void test_cancel(Fixture *fx, gconstpointer data)
{
    cancel_job j = { fx, 0, NULL };
    pthread_t th;
    acme__response resp;
    acme_error *e = NULL;

    (void)data;
    start(fx);
    mockhttp_push(fx->mock, &(mockhttp_response){ .status = 200, .hold = true });
    g_assert_cmpint(pthread_create(&th, NULL, slow_get, &j), ==, 0);
    mockhttp_wait_held(fx->mock, 1);
    g_assert_false(acme__transport_cancelled(fx->t));
    acme__transport_cancel(fx->t);
    pthread_join(th, NULL);
    g_assert_cmpint(j.rc, ==, ACME_E_CANCELLED);
    g_assert_cmpint(acme_error_code_get(j.err), ==, ACME_E_CANCELLED);
    acme_error_free(j.err);
    g_assert_true(acme__transport_cancelled(fx->t));

    /* Later calls fail at once, sleeping too, until the flag is reset. */
    g_assert_cmpint(get(fx, &resp, "/x", NULL, &e), ==, ACME_E_CANCELLED);
    acme_error_free(e);
    e = NULL;
    acme__response_clear(&resp);
    g_assert_cmpint(acme__transport_sleep(fx->t, 3600 * 1000, &e), ==, ACME_E_CANCELLED);
    acme_error_free(e);
    e = NULL;
    g_assert_cmpuint(mockhttp_request_count(fx->mock), ==, 1);

    acme__transport_reset_cancel(fx->t);
    mockhttp_release(fx->mock);
    mockhttp_push(fx->mock, &(mockhttp_response){ .status = 200, .body = "ok" });
    g_assert_cmpint(get(fx, &resp, "/x", NULL, &e), ==, ACME_OK);
    g_assert_cmpstr(resp.body.data, ==, "ok");
    acme__response_clear(&resp);
    g_assert_cmpint(acme__transport_sleep(fx->t, 0, &e), ==, ACME_OK);
    g_assert_cmpint(acme__transport_sleep(fx->t, 5, &e), ==, ACME_OK);
    g_assert_null(e);
}

/* A long sleep ends when another thread cancels. */
static void test_cancel_sleep(Fixture *fx, gconstpointer data)
{
    cancel_job j = { fx, 0, NULL };
    pthread_t th;

    (void)data;
    start(fx);
    g_assert_cmpint(pthread_create(&th, NULL, sleep_long, &j), ==, 0);
    acme__transport_cancel(fx->t);
    pthread_join(th, NULL);
    g_assert_cmpint(j.rc, ==, ACME_E_CANCELLED);
    acme_error_free(j.err);
}

static void test_network_error(Fixture *fx, gconstpointer data)
{
    acme__response resp;
    acme_error *e = NULL;
    char *url;

    struct sockaddr_in sin;
    socklen_t slen = sizeof(sin);
    int fd;

    (void)data;
    start(fx);
    /*
     * A loopback port that is bound but not listening (and stays bound
     * for the test, so nobody else takes it): connecting is refused.
     */
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), ==, 0);
    g_assert_cmpint(getsockname(fd, (struct sockaddr *)&sin, &slen), ==, 0);
    url = g_strdup_printf("http://127.0.0.1:%u/dir", (unsigned int)ntohs(sin.sin_port));
    g_assert_cmpint(acme__transport_get(&resp, fx->t, url, NULL, &e), ==, ACME_E_NETWORK);
    g_assert_nonnull(strstr(acme_error_message(e), "127.0.0.1"));
    g_assert_true(acme_error_retryable(e));
    acme_error_free(e);
    acme__response_clear(&resp);
    g_free(url);
    close(fd);
}

/* https to a plain-HTTP server: the handshake fails, and that is a TLS error. */
static void test_tls_error(Fixture *fx, gconstpointer data)
{
    acme__response resp;
    acme_error *e = NULL;
    char *url;

    (void)data;
    start(fx);
    url = g_strdup_printf("https://127.0.0.1:%u/dir", mockhttp_port(fx->mock));
    g_assert_cmpint(acme__transport_get(&resp, fx->t, url, NULL, &e), ==, ACME_E_TLS);
    g_assert_nonnull(strstr(acme_error_message(e), "127.0.0.1"));
    acme_error_free(e);
    acme__response_clear(&resp);
    g_free(url);
}

static void test_bad_scheme(Fixture *fx, gconstpointer data)
{
    acme__response resp;
    acme_error *e = NULL;

    (void)data;
    start(fx);
    g_assert_cmpint(acme__transport_get(&resp, fx->t, "file:///etc/passwd", NULL, &e), ==,
                    ACME_E_INVALID);
    acme_error_free(e);
    acme__response_clear(&resp);
}

/* ---- connection reuse, headers, logging ---- */

static void test_connection_reuse(Fixture *fx, gconstpointer data)
{
    acme__response resp;
    acme_error *e = NULL;
    char *ua, *url;
    const mockhttp_request *r;

    (void)data;
    fx->opts.user_agent = "acmed/1.0";
    start(fx);
    mockhttp_push(fx->mock, &(mockhttp_response){ .status = 200, .body = "{}",
                                                  .content_type = "application/json" });
    push_nonce_head(fx->mock, "nonce-1");
    push_ok(fx->mock, "nonce-2", "{}");
    push_ok(fx->mock, "nonce-3", "{}");
    mockhttp_push(fx->mock, &(mockhttp_response){ .status = 200, .body = "{}",
                                                  .content_type = "application/json" });
    g_assert_cmpint(get(fx, &resp, "/dir", "application/json", &e), ==, ACME_OK);
    acme__response_clear(&resp);
    g_assert_cmpint(post(fx, &resp, "/acct", "{\"secret\":\"s3cr3t\"}", &e), ==, ACME_OK);
    acme__response_clear(&resp);
    g_assert_cmpint(post(fx, &resp, "/order", NULL, &e), ==, ACME_OK);
    acme__response_clear(&resp);
    g_assert_cmpint(get(fx, &resp, "/dir", "application/json", &e), ==, ACME_OK);
    acme__response_clear(&resp);
    g_assert_null(e);

    g_assert_cmpuint(mockhttp_request_count(fx->mock), ==, 5);
    g_assert_cmpuint(mockhttp_connection_count(fx->mock), ==, 1);
    ua = g_strdup_printf("libacme/%s acmed/1.0", acme_version());
    for (size_t i = 0; i < 5; i++) {
        r = mockhttp_request_get(fx->mock, i);
        g_assert_cmpuint(r->connection, ==, 1);
        g_assert_cmpstr(mockhttp_request_header(r, "User-Agent"), ==, ua);
    }
    g_free(ua);
    /* RFC 8555 §6.2: the JWS as application/jose+json, naming the URL it is for. */
    r = mockhttp_request_get(fx->mock, 2);
    g_assert_cmpstr(r->method, ==, "POST");
    g_assert_cmpstr(mockhttp_request_header(r, "Content-Type"), ==, "application/jose+json");
    url = jws_field(r, "url");
    g_assert_cmpstr(url, ==, mockhttp_strdup(fx->mock, "http://127.0.0.1:%u/acct",
                                             mockhttp_port(fx->mock)));
    g_free(url);
    url = jws_field(r, "kid");
    g_assert_cmpstr(url, ==, "https://ca/acct/1");
    g_free(url);

    /* Debug logs: one line per request with method, URL and status; never a body. */
    g_assert_cmpuint(fx->logs->len, >=, 5);
    for (size_t i = 0; i < fx->logs->len; i++) {
        const char *line = g_ptr_array_index(fx->logs, i);

        g_assert_null(strstr(line, "s3cr3t"));
        g_assert_null(strstr(line, "protected"));
    }
    g_assert_nonnull(strstr(g_ptr_array_index(fx->logs, 0), "method=GET"));
    g_assert_nonnull(strstr(g_ptr_array_index(fx->logs, 0), "status=200"));
    g_assert_nonnull(strstr(g_ptr_array_index(fx->logs, 0), "/dir"));
}

static void test_post_needs_nonce_url(Fixture *fx, gconstpointer data)
{
    acme__response resp;
    acme_error *e = NULL;

    (void)data;
    g_assert_cmpint(acme__transport_new(&fx->t, &fx->opts, NULL), ==, ACME_OK);
    g_assert_cmpint(post(fx, &resp, "/acct", "{}", &e), ==, ACME_E_INVALID);
    acme_error_free(e);
    acme__response_clear(&resp);
    g_assert_cmpuint(mockhttp_request_count(fx->mock), ==, 0);
}

#define ADD(path, fn) g_test_add(path, Fixture, NULL, setup, fn, teardown)

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    g_assert_cmpint(acme_global_init(), ==, ACME_OK);
    ADD("/transport/nonce/head-only-when-empty", test_nonce_head_only_when_empty);
    ADD("/transport/nonce/pool-policy", test_nonce_pool_policy);
    ADD("/transport/post/badnonce-retried", test_badnonce_retried);
    ADD("/transport/post/badnonce-forever", test_badnonce_forever);
    ADD("/transport/post/badnonce-default-bound", test_badnonce_default_bound);
    ADD("/transport/post/needs-nonce-url", test_post_needs_nonce_url);
    ADD("/transport/problem/subproblems", test_problem_subproblems);
    ADD("/transport/problem/without-type", test_problem_without_type);
    ADD("/transport/problem/not-json", test_problem_not_json);
    for (size_t i = 0; i < G_N_ELEMENTS(problem_cases); i++) {
        char *path = g_strdup_printf("/transport/problem/table/%s", problem_cases[i].name);

        g_test_add_data_func(path, &problem_cases[i], test_problem_table);
        g_free(path);
    }
    g_test_add_func("/transport/problem/from-json", test_problem_from_json);
    ADD("/transport/retry-after/seconds", test_retry_after_seconds);
    ADD("/transport/retry-after/date", test_retry_after_date);
    ADD("/transport/limits/oversized-streamed", test_oversized_streamed);
    ADD("/transport/limits/oversized-declared", test_oversized_declared);
    ADD("/transport/limits/content-type", test_content_type);
    ADD("/transport/link/alternates", test_link_alternates);
    g_test_add_func("/transport/link/parse", test_link_parse);
    ADD("/transport/errors/timeout", test_timeout);
    ADD("/transport/errors/network", test_network_error);
    ADD("/transport/errors/tls", test_tls_error);
    ADD("/transport/errors/bad-scheme", test_bad_scheme);
    ADD("/transport/cancel/during-transfer", test_cancel);
    ADD("/transport/cancel/sleep", test_cancel_sleep);
    ADD("/transport/connection-reuse", test_connection_reuse);
    rc = g_test_run();
    acme_global_cleanup();
    return rc;
}
