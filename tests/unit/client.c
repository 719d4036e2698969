/*
 * Unit tests: the RFC 8555 client (lib/client/) against a fake CA served
 * by the in-process mock HTTP server (tests/support/mockhttp).
 *
 * The fake CA below is a small state machine: one account, one order with
 * one or two authorizations, challenges that turn valid (or invalid) when
 * answered, finalize, a certificate with an alternate chain, revocation
 * and ARI.  Knobs in `ca` make it misbehave the ways the client must
 * survive.  Requests are decoded (JWS protected header and payload) so
 * that tests check what the client sent, not only what it returned.
 */
#include "config.h"

#include <glib.h>
#include <gnutls/crypto.h>
#include <stdio.h>
#include <string.h>

#include <acme/acme.h>
#include <acme/sys/error.h>
#include <acme/sys/responder.h>

#include "support/mockhttp.h"
#include "util/json.h"
#include "util/util.h"

#define URN "urn:ietf:params:acme:error:"

/* ------------------------------------------------------------------ */
/* Test material: a leaf issued by "Test Int", and "Test Int" issued by  */
/* "Root A" (the default chain) or by "Root B" (the alternate).         */
/* ------------------------------------------------------------------ */

static const char leaf_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBvTCCAWKgAwIBAgIUMnlXp4yqCYpXfEFOK4z4DVhslkgwCgYIKoZIzj0EAwIw\n"
    "EzERMA8GA1UEAxMIVGVzdCBJbnQwIBcNMjYxMTIzMTYyMzAyWhgPMjEyNjEwMzAx\n"
    "NjIzMDJaMBYxFDASBgNVBAMTC2V4YW1wbGUub3JnMFkwEwYHKoZIzj0CAQYIKoZI\n"
    "zj0DAQcDQgAEOzFcOvw/GQt4Bh0eu9qwhI/hR3U17JElVJkRuRD1K/Y4RzOt/yFD\n"
    "v66DyI8mA2EfhLYfOIPKuRq6zXvfJbAYU6OBjjCBizAMBgNVHRMBAf8EAjAAMBYG\n"
    "A1UdEQQPMA2CC2V4YW1wbGUub3JnMBMGA1UdJQQMMAoGCCsGAQUFBwMBMA4GA1Ud\n"
    "DwEB/wQEAwIHgDAdBgNVHQ4EFgQUExhLG340KrV8Ea3pIOFpRTMCv+UwHwYDVR0j\n"
    "BBgwFoAUb8zNSQEo4tUMiUd59dSxXn1dyrAwCgYIKoZIzj0EAwIDSQAwRgIhAKze\n"
    "GE+hNuM1DO/VGTT/SKrkJ+V7UQPhAtxDN/0TYRaAAiEA7cFdT1WbR95/Te9DU5zA\n"
    "8cfS+X25bl6NjSI+ubAjseU=\n"
    "-----END CERTIFICATE-----\n";

static const char int_a_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBijCCATGgAwIBAgIUMq0/2Md9nobuZHE46MoBg42lymEwCgYIKoZIzj0EAwIw\n"
    "ETEPMA0GA1UEAxMGUm9vdCBBMCAXDTI2MTEyMzE2MjMwMloYDzIxMjYxMDMwMTYy\n"
    "MzAyWjATMREwDwYDVQQDEwhUZXN0IEludDBZMBMGByqGSM49AgEGCCqGSM49AwEH\n"
    "A0IABMYgxgNHiqRQBU85GuLeUC+BcGE/U6f5gGW7N9Rw4N28p8qJHihnAdRGVwlL\n"
    "gATD7Rhh1XtfZYgTRWjMn/QcGI+jYzBhMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0P\n"
    "AQH/BAQDAgIEMB0GA1UdDgQWBBRvzM1JASji1QyJR3n11LFefV3KsDAfBgNVHSME\n"
    "GDAWgBRWHbzSrvFVZr0JXnT2c0StqzCGgzAKBggqhkjOPQQDAgNHADBEAiA3eJcg\n"
    "udSlfJhy2pJ/XBEtirS8Z0crzNfjd8fX1o5iQAIgEI7EbkEn1ERn3BuB/E9UzCjb\n"
    "TKpsMra1IsH3GQKuYVY=\n"
    "-----END CERTIFICATE-----\n";

static const char int_b_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBjDCCATGgAwIBAgIUZrQrtOUotnzqJmGdkCdMoDi0RDowCgYIKoZIzj0EAwIw\n"
    "ETEPMA0GA1UEAxMGUm9vdCBCMCAXDTI2MTEyMzE2MjMwMloYDzIxMjYxMDMwMTYy\n"
    "MzAyWjATMREwDwYDVQQDEwhUZXN0IEludDBZMBMGByqGSM49AgEGCCqGSM49AwEH\n"
    "A0IABMYgxgNHiqRQBU85GuLeUC+BcGE/U6f5gGW7N9Rw4N28p8qJHihnAdRGVwlL\n"
    "gATD7Rhh1XtfZYgTRWjMn/QcGI+jYzBhMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0P\n"
    "AQH/BAQDAgIEMB0GA1UdDgQWBBRvzM1JASji1QyJR3n11LFefV3KsDAfBgNVHSME\n"
    "GDAWgBR6hHRi0sFsNvWuBVvT8Uli465rXDAKBggqhkjOPQQDAgNJADBGAiEAvEzb\n"
    "j0eLomDF8uQE/wjCoWz5ImGftCS0GkTBFIhbMucCIQCPJnnO650LXSnCUUK4DFkV\n"
    "uvs4XwEXIy8HaszJElvEIw==\n"
    "-----END CERTIFICATE-----\n";

/* The leaf's private key (for revocation signed by it). */
static const char leaf_key_pem[] =
    "-----BEGIN EC PRIVATE KEY-----\n"
    "MHgCAQEEIQCApflKtEQJ2wFuGdlyO3ODmRXxQ7keLHhVOug/lKurPaAKBggqhkjO\n"
    "PQMBB6FEA0IABDsxXDr8PxkLeAYdHrvasISP4Ud1NeyRJVSZEbkQ9Sv2OEczrf8h\n"
    "Q7+ug8iPJgNhH4S2HziDyrkaus173yWwGFM=\n"
    "-----END EC PRIVATE KEY-----\n";

/* ------------------------------------------------------------------ */
/* The fake CA                                                          */
/* ------------------------------------------------------------------ */

typedef struct ca {
    mockhttp *m;
    GMutex lock;
    char *base;                 /* "http://127.0.0.1:PORT" */

    /* knobs, set by the test before the client talks */
    const char *dir_body;       /* the directory as is, instead of the built one */
    bool dir_renewal_info;
    bool dir_profiles;
    bool require_eab;
    int forget_account;         /* answer kid requests accountDoesNotExist this often */
    int not_ready;              /* answer finalize orderNotReady this often */
    const char *order_body;     /* newOrder answered with this body as is */
    const char *new_order_problem; /* newOrder answered with this problem document */
    int already_replaced;       /* answer newOrder with "replaces" alreadyReplaced */
    const char *bad_token;      /* token of challenge 0 */
    int nauthz;                 /* 1 or 2 */
    bool authz0_valid;          /* authorization 0 valid from the start (reuse) */
    bool challenge_fails;
    bool valid_lists_one;       /* a valid authorization lists only http-01, as Pebble does */
    bool wildcard;
    const char *ari_body;
    bool key_change_fails;      /* answer keyChange with serverInternal, as Pebble does */
    bool lookup_finds_none;     /* onlyReturnExisting finds no account */

    /* state */
    bool account;               /* registered */
    int accounts_made;
    bool responded[2];
    int finalize_state;         /* 0 not yet, 1 processing, 2 valid */
    unsigned int nonce;
} ca;

static const char *ca_nonce(ca *c)
{
    return mockhttp_strdup(c->m, "Replay-Nonce: nonce%u", ++c->nonce);
}

static void reply_json(ca *c, mockhttp_response *out, unsigned int status, const char *body,
                       const char *extra_headers)
{
    out->status = status;
    out->content_type = "application/json";
    out->body = mockhttp_strdup(c->m, "%s", body);
    out->headers = mockhttp_strdup(c->m, "%s%s%s", ca_nonce(c), extra_headers ? "\n" : "",
                                   extra_headers ? extra_headers : "");
}

static void reply_problem(ca *c, mockhttp_response *out, unsigned int status, const char *type,
                          const char *detail, const char *extra_headers)
{
    out->status = status;
    out->content_type = "application/problem+json";
    out->body = type ? mockhttp_strdup(c->m, "{\"type\":\"%s%s\",\"detail\":\"%s\"}", URN, type,
                                       detail)
                     : mockhttp_strdup(c->m, "{\"detail\":\"%s\"}", detail);
    out->headers = mockhttp_strdup(c->m, "%s%s%s", ca_nonce(c), extra_headers ? "\n" : "",
                                   extra_headers ? extra_headers : "");
}

/* The JWS of a request, decoded: protected header and payload (NULL for
 * POST-as-GET).  The caller puts both. */
static bool jws_decode(const char *body, json_object **prot, json_object **payload)
{
    json_object *o = NULL;
    const char *p, *pl;
    unsigned char *raw;
    size_t n;

    *prot = *payload = NULL;
    if (acme__json_parse(&o, body, strlen(body), "jws", NULL) < 0)
        return false;
    p = acme__json_str(o, "protected");
    pl = acme__json_str(o, "payload");
    if (!p || !pl || !acme__json_str(o, "signature")) {
        json_object_put(o);
        return false;
    }
    raw = acme__b64url_decode(p, strlen(p), &n);
    if (!raw || acme__json_parse(prot, (char *)raw, n, "header", NULL) < 0) {
        free(raw);
        json_object_put(o);
        return false;
    }
    free(raw);
    if (*pl) {
        raw = acme__b64url_decode(pl, strlen(pl), &n);
        if (!raw || acme__json_parse(payload, (char *)raw, n, "payload", NULL) < 0) {
            free(raw);
            json_object_put(o);
            json_object_put(*prot);
            *prot = NULL;
            return false;
        }
        free(raw);
    }
    json_object_put(o);
    return true;
}

static bool authz_valid(ca *c, int i)
{
    return (i == 0 && c->authz0_valid) || (c->responded[i] && !c->challenge_fails);
}

static bool all_valid(ca *c)
{
    for (int i = 0; i < c->nauthz; i++)
        if (!authz_valid(c, i))
            return false;
    return true;
}

static const char *order_json(ca *c)
{
    const char *status;
    const char *authz = c->nauthz == 2
        ? mockhttp_strdup(c->m, "\"%s/authz/0\",\"%s/authz/1\"", c->base, c->base)
        : mockhttp_strdup(c->m, "\"%s/authz/0\"", c->base);

    if (c->finalize_state == 2)
        status = "valid";
    else if (c->finalize_state == 1)
        status = "processing";
    else if (c->challenge_fails && (c->responded[0] || c->responded[1]))
        status = "invalid";
    else
        status = all_valid(c) ? "ready" : "pending";
    return mockhttp_strdup(
        c->m,
        "{\"status\":\"%s\",\"expires\":\"2030-01-01T00:00:00Z\","
        "\"identifiers\":[{\"type\":\"dns\",\"value\":\"example.org\"},"
        "{\"type\":\"ip\",\"value\":\"192.0.2.1\"}],"
        "\"authorizations\":[%s],\"finalize\":\"%s/order/1/finalize\"%s%s%s}",
        status, authz, c->base, c->finalize_state == 2 ? ",\"certificate\":\"" : "",
        c->finalize_state == 2 ? mockhttp_strdup(c->m, "%s/cert/1", c->base) : "",
        c->finalize_state == 2 ? "\"" : "");
}

static const char *authz_json(ca *c, int i)
{
    const char *status = authz_valid(c, i) ? "valid"
                         : c->responded[i] ? "invalid" : "pending";
    const char *token = i == 0 && c->bad_token ? c->bad_token : "tok_en-0123456789abcdef";
    const char *cherr = c->responded[i] && c->challenge_fails
        ? ",\"error\":{\"type\":\"" URN "connection\",\"detail\":\"connection refused\"}"
        : "";

    return mockhttp_strdup(
        c->m,
        "{\"status\":\"%s\",\"expires\":\"2030-01-01T00:00:00Z\","
        "\"identifier\":{\"type\":\"dns\",\"value\":\"%s\"},%s"
        "\"challenges\":["
        "{\"type\":\"http-01\",\"url\":\"%s/chall/%d/http\",\"status\":\"%s\",\"token\":\"%s\"%s},"
        "{\"type\":\"dns-01\",\"url\":\"%s/chall/%d/dns\",\"status\":\"pending\","
        "\"token\":\"%s\"}]}",
        status, i == 0 ? "example.org" : "www.example.org",
        c->wildcard ? "\"wildcard\":true," : "", c->base, i,
        c->responded[i] ? (c->challenge_fails ? "invalid" : "valid") : "pending", token, cherr,
        c->base, i, token);
}

/* RFC 8555 §7.1.4 lets a valid authorization list only the challenge that
 * passed; Pebble does. */
static const char *authz_json_shrunk(ca *c, int i)
{
    return mockhttp_strdup(
        c->m,
        "{\"status\":\"valid\",\"expires\":\"2030-01-01T00:00:00Z\","
        "\"identifier\":{\"type\":\"dns\",\"value\":\"%s\"},\"challenges\":["
        "{\"type\":\"http-01\",\"url\":\"%s/chall/%d/http\",\"status\":\"valid\","
        "\"token\":\"tok_en-0123456789abcdef\"}]}",
        i == 0 ? "example.org" : "www.example.org", c->base, i);
}

static void ca_directory(ca *c, mockhttp_response *out)
{
    if (c->dir_body) {
        reply_json(c, out, 200, c->dir_body, NULL);
        return;
    }
    reply_json(c, out, 200, mockhttp_strdup(
        c->m,
        "{\"newNonce\":\"%s/nonce\",\"newAccount\":\"%s/new-acct\",\"newOrder\":\"%s/new-order\","
        "\"revokeCert\":\"%s/revoke\",\"keyChange\":\"%s/key-change\"%s%s,"
        "\"meta\":{\"termsOfService\":\"https://ca.example/tos\",\"website\":\"https://ca.example\","
        "\"caaIdentities\":[\"ca.example\",\"ca2.example\"],\"externalAccountRequired\":%s%s}}",
        c->base, c->base, c->base, c->base, c->base,
        c->dir_renewal_info ? ",\"renewalInfo\":" : "",
        c->dir_renewal_info ? mockhttp_strdup(c->m, "\"%s/ari/\"", c->base) : "",
        c->require_eab ? "true" : "false",
        c->dir_profiles ? ",\"profiles\":{\"classic\":\"The usual\",\"shortlived\":\"6 days\"}"
                        : ""), NULL);
}

static const char *account_body(ca *c)
{
    (void)c;
    return "{\"status\":\"valid\",\"contact\":[\"mailto:a@example.org\"]}";
}

static void ca_handle(void *userdata, const mockhttp_request *req, mockhttp_response *out)
{
    ca *c = userdata;
    json_object *prot = NULL, *payload = NULL;
    const char *path = req->path;
    int i;

    g_mutex_lock(&c->lock);
    if (strcmp(path, "/dir") == 0) {
        ca_directory(c, out);
        goto done;
    }
    if (strcmp(path, "/nonce") == 0) {
        out->status = strcmp(req->method, "HEAD") == 0 ? 200 : 204;
        out->headers = ca_nonce(c);
        goto done;
    }
    if (strncmp(path, "/ari/", 5) == 0) {
        out->status = 200;
        out->content_type = "application/json";
        out->body = c->ari_body;
        out->headers = "Retry-After: 21600";
        goto done;
    }
    if (strcmp(req->method, "POST") != 0 || !jws_decode(req->body, &prot, &payload)) {
        reply_problem(c, out, 400, "malformed", "not a JWS", NULL);
        goto done;
    }
    /* kid-signed requests of an account the CA forgot. */
    if (acme__json_str(prot, "kid") && (c->forget_account > 0 || !c->account)) {
        if (c->forget_account > 0)
            c->forget_account--;
        c->account = false;
        reply_problem(c, out, 400, "accountDoesNotExist", "no such account", NULL);
        goto done;
    }
    if (strcmp(path, "/new-acct") == 0) {
        if (acme__json_bool(payload, "onlyReturnExisting", false)) {
            if (!c->account || c->lookup_finds_none)
                reply_problem(c, out, 400, "accountDoesNotExist", "no account for this key",
                              NULL);
            else
                reply_json(c, out, 200, account_body(c),
                           mockhttp_strdup(c->m, "Location: %s/acct/1", c->base));
            goto done;
        }
        if (c->require_eab && !acme__json_obj(payload, "externalAccountBinding")) {
            reply_problem(c, out, 400, "externalAccountRequired", "EAB required", NULL);
            goto done;
        }
        reply_json(c, out, c->account ? 200 : 201, account_body(c),
                   mockhttp_strdup(c->m, "Location: %s/acct/%d", c->base,
                                   c->account ? c->accounts_made : c->accounts_made + 1));
        if (!c->account)
            c->accounts_made++;
        c->account = true;
        goto done;
    }
    if (strncmp(path, "/acct/", 6) == 0) {
        const char *st = acme__json_str(payload, "status");

        reply_json(c, out, 200,
                   st ? "{\"status\":\"deactivated\",\"contact\":[]}"
                      : "{\"status\":\"valid\",\"contact\":[\"mailto:b@example.org\"]}",
                   NULL);
        goto done;
    }
    if (strcmp(path, "/key-change") == 0) {
        if (c->key_change_fails) {
            reply_problem(c, out, 500, "serverInternal",
                          "New public key is already in use by account", NULL);
            goto done;
        }
        reply_json(c, out, 200, account_body(c), NULL);
        goto done;
    }
    if (strcmp(path, "/new-order") == 0) {
        if (c->new_order_problem) {
            out->status = 400;
            out->content_type = "application/problem+json";
            out->body = c->new_order_problem;
            out->headers = ca_nonce(c);
            goto done;
        }
        if (c->already_replaced > 0 && acme__json_str(payload, "replaces")) {
            c->already_replaced--;
            reply_problem(c, out, 409, "alreadyReplaced", "replaced already", NULL);
            goto done;
        }
        reply_json(c, out, 201, c->order_body ? c->order_body : order_json(c),
                   mockhttp_strdup(c->m, "Location: %s/order/1", c->base));
        goto done;
    }
    if (strcmp(path, "/order/1") == 0) {
        reply_json(c, out, 200, c->order_body ? c->order_body : order_json(c), NULL);
        if (c->finalize_state == 1)
            c->finalize_state = 2;
        goto done;
    }
    if (strcmp(path, "/order/1/finalize") == 0) {
        if (c->not_ready > 0 || !all_valid(c)) {
            if (c->not_ready > 0)
                c->not_ready--;
            reply_problem(c, out, 403, "orderNotReady", "not ready", "Retry-After: 0");
            goto done;
        }
        c->finalize_state = 1;
        reply_json(c, out, 200, order_json(c), NULL);
        goto done;
    }
    if (sscanf(path, "/authz/%d", &i) == 1 && i >= 0 && i < 2) {
        if (payload && strcmp(acme__json_str(payload, "status") ? acme__json_str(payload,
                                                                                "status") : "",
                              "deactivated") == 0) {
            reply_json(c, out, 200, "{\"status\":\"deactivated\","
                                    "\"identifier\":{\"type\":\"dns\",\"value\":\"example.org\"},"
                                    "\"challenges\":[]}", NULL);
            goto done;
        }
        reply_json(c, out, 200,
                   c->valid_lists_one && authz_valid(c, i) ? authz_json_shrunk(c, i)
                                                           : authz_json(c, i),
                   NULL);
        goto done;
    }
    if (sscanf(path, "/chall/%d/", &i) == 1 && i >= 0 && i < 2) {
        c->responded[i] = true;
        reply_json(c, out, 200, mockhttp_strdup(c->m, "{\"type\":\"http-01\",\"url\":\"%s%s\","
                                                      "\"status\":\"processing\",\"token\":\"t\"}",
                                                c->base, path), NULL);
        goto done;
    }
    if (strcmp(path, "/cert/1") == 0 || strcmp(path, "/cert/1/alt") == 0) {
        out->status = 200;
        out->content_type = "application/pem-certificate-chain";
        out->body = mockhttp_strdup(c->m, "%s%s", leaf_pem,
                                    strcmp(path, "/cert/1") == 0 ? int_a_pem : int_b_pem);
        out->headers = strcmp(path, "/cert/1") == 0
            ? mockhttp_strdup(c->m, "%s\nLink: <%s/cert/1/alt>;rel=\"alternate\"\n"
                                    "Link: <%s/dir>;rel=\"index\"", ca_nonce(c), c->base, c->base)
            : ca_nonce(c);
        goto done;
    }
    if (strcmp(path, "/revoke") == 0) {
        out->status = 200;
        out->headers = ca_nonce(c);
        goto done;
    }
    reply_problem(c, out, 404, "malformed", "no such resource", NULL);
done:
    json_object_put(prot);
    json_object_put(payload);
    g_mutex_unlock(&c->lock);
}

/* ------------------------------------------------------------------ */
/* Fixture                                                              */
/* ------------------------------------------------------------------ */

typedef struct {
    ca ca;
    acme_key *key;
    acme_client *client;
    char *dir_url;
} Fixture;

static acme_key *shared_key;  /* account key, generated once */

/* Set a knob of the fake CA under its lock (its handler runs on the mock's
 * threads, and ThreadSanitizer cannot see the HTTP round trip). */
#define KNOB(f, field, value) \
    do { \
        g_mutex_lock(&(f)->ca.lock); \
        (f)->ca.field = (value); \
        g_mutex_unlock(&(f)->ca.lock); \
    } while (0)

static void make_client(Fixture *f, size_t max_response)
{
    acme_client_options o = ACME_CLIENT_OPTIONS_INIT;
    acme_error *err = NULL;

    acme_client_free(f->client);
    f->client = NULL;
    o.directory_url = f->dir_url;
    o.account_key = f->key;
    o.max_response_size = max_response;
    o.request_timeout_ms = 10000;
    g_assert_cmpint(acme_client_new(&f->client, &o, &err), ==, ACME_OK);
    g_assert_null(err);
}

static void setup(Fixture *f, gconstpointer data)
{
    (void)data;
    memset(f, 0, sizeof(*f));
    g_mutex_init(&f->ca.lock);
    f->ca.m = mockhttp_new();
    f->ca.base = mockhttp_url(f->ca.m, "");
    f->ca.nauthz = 2;
    mockhttp_set_handler(f->ca.m, ca_handle, &f->ca);
    f->dir_url = mockhttp_url(f->ca.m, "/dir");
    f->key = shared_key;
    make_client(f, 0);
}

static void teardown(Fixture *f, gconstpointer data)
{
    (void)data;
    acme_client_free(f->client);
    mockhttp_free(f->ca.m);
    g_free(f->ca.base);
    g_free(f->dir_url);
    g_mutex_clear(&f->ca.lock);
}

static void registered(Fixture *f)
{
    acme_account_options ao = ACME_ACCOUNT_OPTIONS_INIT;
    acme_error *err = NULL;

    ao.terms_agreed = true;
    g_assert_cmpint(acme_client_account_register(f->client, &ao, NULL, &err), ==, ACME_OK);
    g_assert_null(err);
}

/* How many requests went to @p path (with @p method, or any). */
static size_t count_requests(Fixture *f, const char *method, const char *path)
{
    size_t n = 0, total = mockhttp_request_count(f->ca.m);

    for (size_t i = 0; i < total; i++) {
        const mockhttp_request *r = mockhttp_request_get(f->ca.m, i);

        if (strcmp(r->path, path) == 0 && (!method || strcmp(r->method, method) == 0))
            n++;
    }
    return n;
}

/* The decoded JWS of the last POST to @p path. */
static void last_jws(Fixture *f, const char *path, json_object **prot, json_object **payload)
{
    size_t total = mockhttp_request_count(f->ca.m);

    for (size_t i = total; i-- > 0;) {
        const mockhttp_request *r = mockhttp_request_get(f->ca.m, i);

        if (strcmp(r->path, path) == 0 && strcmp(r->method, "POST") == 0) {
            g_assert_true(jws_decode(r->body, prot, payload));
            return;
        }
    }
    g_assert_not_reached();
}

static void assert_error(acme_error *err, int rc, int code)
{
    g_assert_cmpint(rc, ==, code);
    g_assert_nonnull(err);
    g_assert_cmpint(acme_error_code_get(err), ==, code);
    g_assert_nonnull(acme_error_message(err));
}

/* ------------------------------------------------------------------ */
/* Client and directory                                                 */
/* ------------------------------------------------------------------ */

static void test_new_invalid(void)
{
    acme_client_options o = ACME_CLIENT_OPTIONS_INIT;
    acme_client *c = NULL;
    acme_error *err = NULL;

    assert_error(err, acme_client_new(&c, NULL, &err), ACME_E_INVALID);
    acme_error_free(err), err = NULL;
    o.account_key = shared_key;
    assert_error(err, acme_client_new(&c, &o, &err), ACME_E_INVALID);  /* no URL */
    acme_error_free(err), err = NULL;
    o.directory_url = "ftp://ca.example/dir";
    assert_error(err, acme_client_new(&c, &o, &err), ACME_E_INVALID);
    acme_error_free(err), err = NULL;
    o.directory_url = "https://ca.example/dir";
    o.account_key = NULL;
    assert_error(err, acme_client_new(&c, &o, &err), ACME_E_INVALID);
    acme_error_free(err), err = NULL;
    o.account_key = shared_key;
    o.version = ACME_CLIENT_OPTIONS_VERSION + 1;
    assert_error(err, acme_client_new(&c, &o, &err), ACME_E_INVALID);
    acme_error_free(err), err = NULL;
    g_assert_null(c);
    /* NULL-safe functions. */
    acme_client_free(NULL);
    acme_order_free(NULL);
    acme_authorization_free(NULL);
    acme_renewal_info_free(NULL);
    acme_responder_free(NULL);
    g_assert_cmpstr(acme_status_string(ACME_STATUS_PROCESSING), ==, "processing");
    g_assert_cmpstr(acme_status_string((acme_status)99), ==, "unknown");
}

static void test_directory_meta(Fixture *f, gconstpointer data)
{
    const acme_directory *dir = NULL;
    const char *const *v, *const *desc;
    acme_error *err = NULL;
    size_t n;

    (void)data;
    KNOB(f, dir_profiles, true);
    KNOB(f, dir_renewal_info, true);
    KNOB(f, require_eab, true);
    g_assert_cmpint(acme_client_directory(&dir, f->client, &err), ==, ACME_OK);
    g_assert_null(err);
    g_assert_cmpstr(acme_directory_terms_of_service(dir), ==, "https://ca.example/tos");
    g_assert_cmpstr(acme_directory_website(dir), ==, "https://ca.example");
    g_assert_true(acme_directory_external_account_required(dir));
    v = acme_directory_caa_identities(dir, &n);
    g_assert_cmpuint(n, ==, 2);
    g_assert_cmpstr(v[1], ==, "ca2.example");
    v = acme_directory_profiles(dir, &n, &desc);
    g_assert_cmpuint(n, ==, 2);
    g_assert_cmpstr(v[0], ==, "classic");
    g_assert_cmpstr(desc[0], ==, "The usual");
    g_assert_cmpstr(v[1], ==, "shortlived");
    g_assert_cmpstr(desc[1], ==, "6 days");
    g_assert_true(g_str_has_suffix(acme_directory_url(dir, ACME_DIR_RENEWAL_INFO), "/ari/"));
    g_assert_true(g_str_has_suffix(acme_directory_url(dir, ACME_DIR_NEW_ORDER), "/new-order"));
    g_assert_null(acme_directory_url(dir, ACME_DIR_NEW_AUTHZ));
    /* Fetched once, then kept. */
    g_assert_cmpint(acme_client_directory(&dir, f->client, &err), ==, ACME_OK);
    g_assert_cmpuint(count_requests(f, "GET", "/dir"), ==, 1);
}

static void test_directory_missing_url(Fixture *f, gconstpointer data)
{
    const acme_directory *dir = NULL;
    acme_error *err = NULL;
    int rc;

    (void)data;
    KNOB(f, dir_body, "{\"newNonce\":\"http://127.0.0.1:1/n\",\"newAccount\":\"http://127.0.0.1:1/a\"}");
    rc = acme_client_directory(&dir, f->client, &err);
    assert_error(err, rc, ACME_E_PROTOCOL);
    g_assert_nonnull(strstr(acme_error_message(err), "newOrder"));
    g_assert_null(dir);
    acme_error_free(err), err = NULL;
    /* Nothing half-done: once the CA is fixed, the same client works. */
    KNOB(f, dir_body, NULL);
    g_assert_cmpint(acme_client_directory(&dir, f->client, &err), ==, ACME_OK);
    g_assert_nonnull(dir);
    g_assert_false(acme_directory_external_account_required(dir));
}

typedef struct {
    const char *name;
    const char *body;
} bad_body;

static const bad_body bad_directories[] = {
    { "truncated", "{\"newNonce\":\"http://x/n\",\"newAccount\":" },
    { "not-json", "<html>Service Unavailable</html>" },
    { "array", "[\"newNonce\"]" },
    { "trailing", "{} {}" },
    { "empty", "" },
};

static void test_directory_bad_body(Fixture *f, gconstpointer data)
{
    const acme_directory *dir = NULL;
    acme_error *err = NULL;

    (void)data;
    for (size_t i = 0; i < G_N_ELEMENTS(bad_directories); i++) {
        KNOB(f, dir_body, bad_directories[i].body);
        g_test_message("directory body: %s", bad_directories[i].name);
        assert_error(err, acme_client_directory(&dir, f->client, &err), ACME_E_PROTOCOL);
        acme_error_free(err), err = NULL;
    }
}

static void test_directory_oversized(Fixture *f, gconstpointer data)
{
    const acme_directory *dir = NULL;
    acme_error *err = NULL;
    GString *big = g_string_new("{\"newNonce\":\"http://x/n\",\"pad\":\"");
    int rc;

    (void)data;
    for (int i = 0; i < 4096; i++)
        g_string_append(big, "xxxxxxxx");
    g_string_append(big, "\"}");
    KNOB(f, dir_body, big->str);
    make_client(f, 4096);
    rc = acme_client_directory(&dir, f->client, &err);
    g_assert_cmpint(rc, <, 0);
    g_assert_nonnull(err);
    g_assert_cmpint(acme_error_code_get(err), ==, rc);
    g_assert_null(dir);
    acme_error_free(err);
    KNOB(f, dir_body, NULL);
    g_string_free(big, TRUE);
}

/* ------------------------------------------------------------------ */
/* Account                                                              */
/* ------------------------------------------------------------------ */

static void test_account_register(Fixture *f, gconstpointer data)
{
    acme_account_options ao = ACME_ACCOUNT_OPTIONS_INIT;
    const char *contact[] = { "mailto:a@example.org" };
    json_object *prot, *payload;
    acme_error *err = NULL;
    bool created = false;
    const char *const *cv;
    size_t n;

    (void)data;
    g_assert_null(acme_client_account_url(f->client));
    ao.contact = contact;
    ao.ncontact = 1;
    ao.terms_agreed = true;
    g_assert_cmpint(acme_client_account_register(f->client, &ao, &created, &err), ==, ACME_OK);
    g_assert_true(created);
    g_assert_true(g_str_has_suffix(acme_client_account_url(f->client), "/acct/1"));
    g_assert_cmpstr(acme_client_account_status(f->client), ==, "valid");
    cv = acme_client_account_contact(f->client, &n);
    g_assert_cmpuint(n, ==, 1);
    g_assert_cmpstr(cv[0], ==, "mailto:a@example.org");

    /* RFC 8555 §7.3: signed with the key itself (jwk), nonce from newNonce. */
    last_jws(f, "/new-acct", &prot, &payload);
    g_assert_nonnull(acme__json_obj(prot, "jwk"));
    g_assert_null(acme__json_str(prot, "kid"));
    g_assert_cmpstr(acme__json_str(prot, "nonce"), ==, "nonce1");
    g_assert_true(g_str_has_suffix(acme__json_str(prot, "url"), "/new-acct"));
    g_assert_true(acme__json_bool(payload, "termsOfServiceAgreed", false));
    g_assert_cmpuint(json_object_array_length(acme__json_arr(payload, "contact")), ==, 1);
    json_object_put(prot);
    json_object_put(payload);

    /* The same key again: the existing account (200). */
    g_assert_cmpint(acme_client_account_register(f->client, &ao, &created, &err), ==, ACME_OK);
    g_assert_false(created);
    g_assert_null(err);
}

static void test_account_find(Fixture *f, gconstpointer data)
{
    json_object *prot, *payload;
    acme_error *err = NULL;

    (void)data;
    assert_error(err, acme_client_account_find(f->client, &err), ACME_E_NOTFOUND);
    g_assert_cmpstr(acme_error_problem_type(err), ==, URN "accountDoesNotExist");
    acme_error_free(err), err = NULL;
    g_assert_null(acme_client_account_url(f->client));
    last_jws(f, "/new-acct", &prot, &payload);
    g_assert_true(acme__json_bool(payload, "onlyReturnExisting", false));
    json_object_put(prot);
    json_object_put(payload);

    KNOB(f, account, true);
    g_assert_cmpint(acme_client_account_find(f->client, &err), ==, ACME_OK);
    g_assert_nonnull(acme_client_account_url(f->client));
}

static void test_account_register_rejected(Fixture *f, gconstpointer data)
{
    acme_account_options ao = ACME_ACCOUNT_OPTIONS_INIT;
    acme_error *err = NULL;
    acme_order *o = NULL;
    acme_order_options oo = ACME_ORDER_OPTIONS_INIT;
    acme_identifier id = { ACME_ID_DNS, "example.org" };

    (void)data;
    KNOB(f, require_eab, true);
    assert_error(err, acme_client_account_register(f->client, &ao, NULL, &err), ACME_E_REJECTED);
    g_assert_cmpstr(acme_error_problem_type(err), ==, URN "externalAccountRequired");
    acme_error_free(err), err = NULL;
    /* A failed register leaves no account behind. */
    g_assert_null(acme_client_account_url(f->client));
    oo.ids = &id;
    oo.nids = 1;
    assert_error(err, acme_order_new(&o, f->client, &oo, &err), ACME_E_INVALIDSTATE);
    acme_error_free(err);
    g_assert_null(o);
}

static void test_account_eab(Fixture *f, gconstpointer data)
{
    static const unsigned char mac_key[32] = "0123456789abcdef0123456789abcdef";
    acme_account_options ao = ACME_ACCOUNT_OPTIONS_INIT;
    json_object *prot, *payload, *eab, *eprot = NULL;
    const char *p, *pl, *sig;
    char *b64key = acme__b64url_encode(mac_key, sizeof(mac_key)), *signing, *jwk = NULL;
    unsigned char digest[32], *raw;
    char *expect;
    acme_error *err = NULL;
    size_t n;

    (void)data;
    KNOB(f, require_eab, true);
    ao.terms_agreed = true;
    ao.eab_kid = "kid-1";
    ao.eab_hmac_key = b64key;
    g_assert_cmpint(acme_client_account_register(f->client, &ao, NULL, &err), ==, ACME_OK);
    g_assert_null(err);

    /* RFC 8555 §7.3.4: HS256 over the account JWK, kid and newAccount URL. */
    last_jws(f, "/new-acct", &prot, &payload);
    eab = acme__json_obj(payload, "externalAccountBinding");
    g_assert_nonnull(eab);
    p = acme__json_str(eab, "protected");
    pl = acme__json_str(eab, "payload");
    sig = acme__json_str(eab, "signature");
    g_assert_nonnull(p);
    g_assert_nonnull(pl);
    g_assert_nonnull(sig);
    raw = acme__b64url_decode(p, strlen(p), &n);
    g_assert_cmpint(acme__json_parse(&eprot, (char *)raw, n, "eab", NULL), ==, 0);
    free(raw);
    g_assert_cmpstr(acme__json_str(eprot, "alg"), ==, "HS256");
    g_assert_cmpstr(acme__json_str(eprot, "kid"), ==, "kid-1");
    g_assert_cmpstr(acme__json_str(eprot, "url"), ==, acme__json_str(prot, "url"));
    g_assert_null(acme__json_str(eprot, "nonce"));
    raw = acme__b64url_decode(pl, strlen(pl), &n);
    g_assert_cmpint(acme_key_jwk(&jwk, f->key, NULL), ==, 0);
    g_assert_cmpmem(raw, n, jwk, strlen(jwk));
    free(raw);
    signing = g_strdup_printf("%s.%s", p, pl);
    g_assert_cmpint(gnutls_hmac_fast(GNUTLS_MAC_SHA256, mac_key, sizeof(mac_key), signing,
                                     strlen(signing), digest), ==, 0);
    expect = acme__b64url_encode(digest, sizeof(digest));
    g_assert_cmpstr(sig, ==, expect);
    free(expect);
    g_free(signing);
    acme_free(jwk);
    json_object_put(eprot);
    json_object_put(prot);
    json_object_put(payload);

    /* A MAC key that is not base64url is refused before any request. */
    {
        acme_client *c2 = NULL;
        acme_client_options o = ACME_CLIENT_OPTIONS_INIT;
        size_t before = mockhttp_request_count(f->ca.m);

        o.directory_url = f->dir_url;
        o.account_key = f->key;
        g_assert_cmpint(acme_client_new(&c2, &o, NULL), ==, 0);
        g_assert_cmpint(acme_client_directory(&(const acme_directory *){ NULL }, c2, NULL), ==, 0);
        before = mockhttp_request_count(f->ca.m);
        ao.eab_hmac_key = "not base64url!";
        assert_error(err, acme_client_account_register(c2, &ao, NULL, &err), ACME_E_INVALID);
        acme_error_free(err), err = NULL;
        ao.eab_hmac_key = b64key;
        ao.eab_alg = "HS1";
        assert_error(err, acme_client_account_register(c2, &ao, NULL, &err), ACME_E_INVALID);
        acme_error_free(err), err = NULL;
        g_assert_cmpuint(mockhttp_request_count(f->ca.m), ==, before);
        g_assert_null(acme_client_account_url(c2));
        acme_client_free(c2);
    }
    free(b64key);
}

static void test_account_recovery(Fixture *f, gconstpointer data)
{
    acme_order_options oo = ACME_ORDER_OPTIONS_INIT;
    acme_identifier id = { ACME_ID_DNS, "example.org" };
    acme_order *o = NULL;
    acme_error *err = NULL;
    json_object *prot, *payload;

    (void)data;
    registered(f);
    g_assert_true(g_str_has_suffix(acme_client_account_url(f->client), "/acct/1"));
    /* The CA forgets the account once (a restarted test CA). */
    KNOB(f, account, false);
    KNOB(f, forget_account, 1);
    oo.ids = &id;
    oo.nids = 1;
    g_assert_cmpint(acme_order_new(&o, f->client, &oo, &err), ==, ACME_OK);
    g_assert_null(err);
    g_assert_nonnull(o);
    /* Registered again (with the kept options), then the order retried. */
    g_assert_cmpuint(count_requests(f, "POST", "/new-acct"), ==, 2);
    g_assert_cmpuint(count_requests(f, "POST", "/new-order"), ==, 2);
    g_assert_true(g_str_has_suffix(acme_client_account_url(f->client), "/acct/2"));
    last_jws(f, "/new-acct", &prot, &payload);
    g_assert_true(acme__json_bool(payload, "termsOfServiceAgreed", false));
    json_object_put(prot);
    json_object_put(payload);
    last_jws(f, "/new-order", &prot, &payload);
    g_assert_true(g_str_has_suffix(acme__json_str(prot, "kid"), "/acct/2"));
    json_object_put(prot);
    json_object_put(payload);
    acme_order_free(o);
}

static void test_account_updates(Fixture *f, gconstpointer data)
{
    const char *contact[] = { "mailto:b@example.org", "mailto:c@example.org" };
    json_object *prot, *payload;
    acme_error *err = NULL;
    const char *const *cv;
    size_t n;

    (void)data;
    assert_error(err, acme_client_account_agree_terms(f->client, &err), ACME_E_INVALIDSTATE);
    acme_error_free(err), err = NULL;
    registered(f);

    g_assert_cmpint(acme_client_account_update_contact(f->client, contact, 2, &err), ==, 0);
    last_jws(f, "/acct/1", &prot, &payload);
    g_assert_true(g_str_has_suffix(acme__json_str(prot, "kid"), "/acct/1"));
    g_assert_cmpuint(json_object_array_length(acme__json_arr(payload, "contact")), ==, 2);
    json_object_put(prot);
    json_object_put(payload);
    cv = acme_client_account_contact(f->client, &n);
    g_assert_cmpuint(n, ==, 1);  /* as the CA reported it */
    g_assert_cmpstr(cv[0], ==, "mailto:b@example.org");

    g_assert_cmpint(acme_client_account_agree_terms(f->client, &err), ==, 0);
    last_jws(f, "/acct/1", &prot, &payload);
    g_assert_true(acme__json_bool(payload, "termsOfServiceAgreed", false));
    json_object_put(prot);
    json_object_put(payload);

    g_assert_cmpint(acme_client_account_deactivate(f->client, &err), ==, 0);
    last_jws(f, "/acct/1", &prot, &payload);
    g_assert_cmpstr(acme__json_str(payload, "status"), ==, "deactivated");
    json_object_put(prot);
    json_object_put(payload);
    g_assert_cmpstr(acme_client_account_status(f->client), ==, "deactivated");
    g_assert_null(err);
}

static void test_account_key_change(Fixture *f, gconstpointer data)
{
    json_object *prot, *payload, *iprot = NULL, *ipayload = NULL;
    acme_key *new_key = NULL;
    char *old_jwk = NULL, *new_jwk = NULL, *inner;
    acme_error *err = NULL;

    (void)data;
    registered(f);
    g_assert_cmpint(acme_key_generate(&new_key, ACME_KEY_EC_P256, NULL), ==, 0);
    g_assert_cmpint(acme_key_jwk(&old_jwk, f->key, NULL), ==, 0);
    g_assert_cmpint(acme_key_jwk(&new_jwk, new_key, NULL), ==, 0);
    g_assert_cmpint(acme_client_account_key_change(f->client, new_key, &err), ==, ACME_OK);
    g_assert_null(err);

    /* RFC 8555 §7.3.5: outer kid-signed, inner jwk-signed by the new key, no nonce. */
    last_jws(f, "/key-change", &prot, &payload);
    g_assert_nonnull(acme__json_str(prot, "kid"));
    inner = acme__json_dump(payload);
    g_assert_true(jws_decode(inner, &iprot, &ipayload));
    free(inner);
    g_assert_null(acme__json_str(iprot, "nonce"));
    g_assert_null(acme__json_str(iprot, "kid"));
    g_assert_cmpstr(acme__json_str(iprot, "url"), ==, acme__json_str(prot, "url"));
    inner = acme__json_dump(acme__json_obj(iprot, "jwk"));
    g_assert_cmpstr(inner, ==, new_jwk);
    free(inner);
    g_assert_cmpstr(acme__json_str(ipayload, "account"), ==, acme_client_account_url(f->client));
    inner = acme__json_dump(acme__json_obj(ipayload, "oldKey"));
    g_assert_cmpstr(inner, ==, old_jwk);
    free(inner);
    json_object_put(iprot);
    json_object_put(ipayload);
    json_object_put(prot);
    json_object_put(payload);

    /* The account key is now the new one: a second rollover names it as old. */
    g_assert_cmpint(acme_client_account_key_change(f->client, f->key, &err), ==, ACME_OK);
    last_jws(f, "/key-change", &prot, &payload);
    inner = acme__json_dump(payload);
    g_assert_true(jws_decode(inner, &iprot, &ipayload));
    free(inner);
    inner = acme__json_dump(acme__json_obj(ipayload, "oldKey"));
    g_assert_cmpstr(inner, ==, new_jwk);
    free(inner);
    json_object_put(iprot);
    json_object_put(ipayload);
    json_object_put(prot);
    json_object_put(payload);
    acme_free(old_jwk);
    acme_free(new_jwk);
    acme_key_free(new_key);
}

static void test_account_key_change_taken(Fixture *f, gconstpointer data)
{
    acme_key *taken = NULL;
    acme_error *err = NULL;
    json_object *prot, *payload;

    (void)data;
    registered(f);
    g_assert_cmpint(acme_key_generate(&taken, ACME_KEY_EC_P256, NULL), ==, 0);
    KNOB(f, key_change_fails, true);
    /* The CA says serverInternal; asking shows the new key has an account. */
    assert_error(err, acme_client_account_key_change(f->client, taken, &err), ACME_E_REJECTED);
    g_assert_false(acme_error_retryable(err));
    g_assert_cmpstr(acme_error_problem_type(err), ==, URN "serverInternal");
    g_assert_nonnull(strstr(acme_error_message(err), "already has an account"));
    acme_error_free(err), err = NULL;
    last_jws(f, "/new-acct", &prot, &payload);
    g_assert_true(acme__json_bool(payload, "onlyReturnExisting", false));
    g_assert_nonnull(acme__json_obj(prot, "jwk"));
    json_object_put(prot);
    json_object_put(payload);
    /* Real server trouble stays what it is. */
    KNOB(f, lookup_finds_none, true);
    assert_error(err, acme_client_account_key_change(f->client, taken, &err), ACME_E_PROTOCOL);
    g_assert_true(acme_error_retryable(err));
    acme_error_free(err);
    acme_key_free(taken);
}

/* ------------------------------------------------------------------ */
/* Orders                                                               */
/* ------------------------------------------------------------------ */

static acme_order *new_order(Fixture *f, const acme_order_options *oo_in, int expect,
                             acme_error **err)
{
    acme_order_options oo = ACME_ORDER_OPTIONS_INIT;
    acme_identifier ids[] = { { ACME_ID_DNS, "example.org" }, { ACME_ID_IP, "192.0.2.1" } };
    acme_order *o = NULL;

    if (oo_in)
        oo = *oo_in;
    if (!oo.ids) {
        oo.ids = ids;
        oo.nids = 2;
    }
    g_assert_cmpint(acme_order_new(&o, f->client, &oo, err), ==, expect);
    return o;
}

static void test_order_new(Fixture *f, gconstpointer data)
{
    acme_order_options oo = ACME_ORDER_OPTIONS_INIT;
    json_object *prot, *payload, *ids;
    acme_error *err = NULL;
    acme_order *o;

    (void)data;
    registered(f);
    oo.not_before = 1795450200;  /* 2026-11-23T16:10:00Z */
    oo.not_after = 1795450200 + 86400;
    oo.replaces = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE";
    o = new_order(f, &oo, ACME_OK, &err);
    g_assert_null(err);
    g_assert_true(g_str_has_suffix(acme_order_url(o), "/order/1"));
    g_assert_cmpint(acme_order_status(o), ==, ACME_STATUS_PENDING);
    g_assert_cmpint(acme_order_expires(o), ==, 1893456000);
    g_assert_cmpuint(acme_order_identifier_count(o), ==, 2);
    g_assert_cmpint(acme_order_identifier(o, 1)->type, ==, ACME_ID_IP);
    g_assert_cmpstr(acme_order_identifier(o, 1)->value, ==, "192.0.2.1");
    g_assert_null(acme_order_identifier(o, 2));
    g_assert_cmpuint(acme_order_authorization_count(o), ==, 2);
    g_assert_true(g_str_has_suffix(acme_order_authorization_url(o, 1), "/authz/1"));
    g_assert_true(g_str_has_suffix(acme_order_finalize_url(o), "/order/1/finalize"));
    g_assert_null(acme_order_certificate_url(o));
    g_assert_null(acme_order_error(o));

    last_jws(f, "/new-order", &prot, &payload);
    g_assert_true(g_str_has_suffix(acme__json_str(prot, "kid"), "/acct/1"));
    ids = acme__json_arr(payload, "identifiers");
    g_assert_cmpuint(json_object_array_length(ids), ==, 2);
    g_assert_cmpstr(acme__json_str(json_object_array_get_idx(ids, 0), "type"), ==, "dns");
    g_assert_cmpstr(acme__json_str(json_object_array_get_idx(ids, 1), "type"), ==, "ip");
    g_assert_cmpstr(acme__json_str(payload, "notBefore"), ==, "2026-11-23T16:10:00Z");
    g_assert_cmpstr(acme__json_str(payload, "notAfter"), ==, "2026-11-24T16:10:00Z");
    g_assert_cmpstr(acme__json_str(payload, "replaces"), ==, oo.replaces);
    g_assert_null(acme__json_str(payload, "profile"));
    json_object_put(prot);
    json_object_put(payload);

    /* Refresh: POST-as-GET (empty payload). */
    g_assert_cmpint(acme_order_refresh(o, f->client, &err), ==, ACME_OK);
    last_jws(f, "/order/1", &prot, &payload);
    g_assert_null(payload);
    json_object_put(prot);
    acme_order_free(o);
}

static void test_order_profile(Fixture *f, gconstpointer data)
{
    acme_order_options oo = ACME_ORDER_OPTIONS_INIT;
    json_object *prot, *payload;
    acme_error *err = NULL;
    acme_order *o;

    (void)data;
    registered(f);
    /* Preferred, and the CA lists no profiles: dropped. */
    oo.profile = "shortlived";
    o = new_order(f, &oo, ACME_OK, &err);
    last_jws(f, "/new-order", &prot, &payload);
    g_assert_null(acme__json_str(payload, "profile"));
    json_object_put(prot);
    json_object_put(payload);
    acme_order_free(o);

    /* Required: ACME_E_NOTSUP, and no newOrder sent. */
    oo.profile_required = true;
    g_assert_null(new_order(f, &oo, ACME_E_NOTSUP, &err));
    g_assert_nonnull(strstr(acme_error_message(err), "shortlived"));
    acme_error_free(err), err = NULL;
    g_assert_cmpuint(count_requests(f, "POST", "/new-order"), ==, 1);
}

static void test_order_profile_listed(Fixture *f, gconstpointer data)
{
    acme_order_options oo = ACME_ORDER_OPTIONS_INIT;
    json_object *prot, *payload;
    acme_order *o;

    (void)data;
    KNOB(f, dir_profiles, true);
    registered(f);
    oo.profile = "shortlived";
    oo.profile_required = true;
    o = new_order(f, &oo, ACME_OK, NULL);
    last_jws(f, "/new-order", &prot, &payload);
    g_assert_cmpstr(acme__json_str(payload, "profile"), ==, "shortlived");
    json_object_put(prot);
    json_object_put(payload);
    acme_order_free(o);
}

static const bad_body bad_orders[] = {
    { "missing-finalize",
      "{\"status\":\"pending\",\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.example\"}],"
      "\"authorizations\":[\"http://127.0.0.1:1/authz/0\"]}" },
    { "missing-authorizations",
      "{\"status\":\"pending\",\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.example\"}],"
      "\"finalize\":\"http://127.0.0.1:1/f\"}" },
    { "bad-status",
      "{\"status\":\"sleeping\",\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.example\"}],"
      "\"authorizations\":[],\"finalize\":\"http://127.0.0.1:1/f\"}" },
    { "truncated", "{\"status\":\"pending\",\"identifiers\":[{\"type\":\"dns\",\"val" },
    { "not-json", "Internal Server Error" },
};

static void test_order_bad_body(Fixture *f, gconstpointer data)
{
    acme_error *err = NULL;

    (void)data;
    registered(f);
    for (size_t i = 0; i < G_N_ELEMENTS(bad_orders); i++) {
        g_test_message("order body: %s", bad_orders[i].name);
        KNOB(f, order_body, bad_orders[i].body);
        g_assert_null(new_order(f, NULL, ACME_E_PROTOCOL, &err));
        g_assert_nonnull(err);
        g_assert_cmpint(acme_error_code_get(err), ==, ACME_E_PROTOCOL);
        acme_error_free(err), err = NULL;
    }
    g_assert_nonnull(strstr(bad_orders[0].name, "finalize"));
}

static void test_order_problem(Fixture *f, gconstpointer data)
{
    acme_error *err = NULL;
    const char *type, *detail, *idv;

    (void)data;
    registered(f);
    /* A problem document without a type: the CA broke the protocol. */
    KNOB(f, new_order_problem, "{\"detail\":\"something broke\",\"status\":400}");
    g_assert_null(new_order(f, NULL, ACME_E_PROTOCOL, &err));
    g_assert_null(acme_error_problem_type(err));
    g_assert_cmpstr(acme_error_detail(err), ==, "something broke");
    g_assert_cmpint(acme_error_http_status(err), ==, 400);
    acme_error_free(err), err = NULL;

    /* A typed problem with subproblems: rejected, each identifier named. */
    KNOB(f, new_order_problem,
         "{\"type\":\"" URN "rejectedIdentifier\",\"detail\":\"policy forbids\","
         "\"subproblems\":[{\"type\":\"" URN "rejectedIdentifier\",\"detail\":\"no IPs\","
         "\"identifier\":{\"type\":\"ip\",\"value\":\"192.0.2.1\"}}]}");
    g_assert_null(new_order(f, NULL, ACME_E_REJECTED, &err));
    g_assert_cmpstr(acme_error_problem_type(err), ==, URN "rejectedIdentifier");
    g_assert_cmpuint(acme_error_subproblem_count(err), ==, 1);
    g_assert_cmpint(acme_error_subproblem(err, 0, &type, &detail, NULL, &idv), ==, 0);
    g_assert_cmpstr(idv, ==, "192.0.2.1");
    g_assert_cmpstr(detail, ==, "no IPs");
    acme_error_free(err);
}

static void test_order_invalid_args(Fixture *f, gconstpointer data)
{
    acme_order_options oo = ACME_ORDER_OPTIONS_INIT;
    acme_identifier bad = { ACME_ID_DNS, "" };
    acme_error *err = NULL;
    acme_order *o = NULL;

    (void)data;
    registered(f);
    assert_error(err, acme_order_new(&o, f->client, &oo, &err), ACME_E_INVALID);  /* no ids */
    acme_error_free(err), err = NULL;
    oo.ids = &bad;
    oo.nids = 1;
    assert_error(err, acme_order_new(&o, f->client, &oo, &err), ACME_E_INVALID);
    acme_error_free(err), err = NULL;
    g_assert_null(o);
    g_assert_cmpuint(count_requests(f, "POST", "/new-order"), ==, 0);
}

/* ------------------------------------------------------------------ */
/* Authorizations and challenges                                        */
/* ------------------------------------------------------------------ */

static acme_authorization *get_authz(Fixture *f, int i, int expect, acme_error **err)
{
    char *url = g_strdup_printf("%s/authz/%d", f->ca.base, i);
    acme_authorization *a = NULL;

    g_assert_cmpint(acme_authorization_get(&a, f->client, url, err), ==, expect);
    g_free(url);
    return a;
}

static void test_authz_get(Fixture *f, gconstpointer data)
{
    const acme_challenge *ch;
    acme_authorization *a;
    acme_error *err = NULL;

    (void)data;
    registered(f);
    KNOB(f, wildcard, true);
    a = get_authz(f, 0, ACME_OK, &err);
    g_assert_true(g_str_has_suffix(acme_authorization_url(a), "/authz/0"));
    g_assert_cmpint(acme_authorization_status(a), ==, ACME_STATUS_PENDING);
    g_assert_cmpint(acme_authorization_identifier(a)->type, ==, ACME_ID_DNS);
    g_assert_cmpstr(acme_authorization_identifier(a)->value, ==, "example.org");
    g_assert_true(acme_authorization_wildcard(a));
    g_assert_cmpint(acme_authorization_expires(a), ==, 1893456000);
    g_assert_cmpuint(acme_authorization_challenge_count(a), ==, 2);
    ch = acme_authorization_find_challenge(a, "dns-01");
    g_assert_true(ch == acme_authorization_challenge(a, 1));
    g_assert_null(acme_authorization_find_challenge(a, "tls-alpn-01"));
    g_assert_null(acme_authorization_challenge(a, 2));
    g_assert_cmpstr(acme_challenge_type(ch), ==, "dns-01");
    g_assert_cmpstr(acme_challenge_token(ch), ==, "tok_en-0123456789abcdef");
    g_assert_true(g_str_has_suffix(acme_challenge_url(ch), "/chall/0/dns"));
    g_assert_cmpint(acme_challenge_status(ch), ==, ACME_STATUS_PENDING);
    g_assert_null(acme_challenge_error(ch));

    /* Respond: POST {} (§7.5.1), then poll until valid. */
    ch = acme_authorization_find_challenge(a, "http-01");
    g_assert_cmpint(acme_challenge_respond(f->client, ch, &err), ==, ACME_OK);
    {
        json_object *prot, *payload;

        last_jws(f, "/chall/0/http", &prot, &payload);
        g_assert_nonnull(payload);
        g_assert_cmpint(json_object_object_length(payload), ==, 0);
        json_object_put(prot);
        json_object_put(payload);
    }
    g_assert_cmpint(acme_authorization_poll(a, f->client, 0, &err), ==, ACME_OK);
    g_assert_cmpint(acme_authorization_status(a), ==, ACME_STATUS_VALID);
    /* The challenge pointer taken before the poll is still good, and current. */
    g_assert_true(ch == acme_authorization_find_challenge(a, "http-01"));
    g_assert_cmpint(acme_challenge_status(ch), ==, ACME_STATUS_VALID);

    g_assert_cmpint(acme_authorization_deactivate(a, f->client, &err), ==, ACME_OK);
    g_assert_cmpint(acme_authorization_status(a), ==, ACME_STATUS_DEACTIVATED);
    g_assert_null(err);
    acme_authorization_free(a);
}

/* Challenge pointers stay valid when a poll returns a shorter list. */
static void test_authz_poll_shrinks(Fixture *f, gconstpointer data)
{
    const acme_challenge *http, *dns;
    acme_authorization *a;
    acme_error *err = NULL;

    (void)data;
    registered(f);
    KNOB(f, valid_lists_one, true);
    a = get_authz(f, 0, ACME_OK, &err);
    http = acme_authorization_find_challenge(a, "http-01");
    dns = acme_authorization_find_challenge(a, "dns-01");
    g_assert_nonnull(http);
    g_assert_nonnull(dns);
    g_assert_cmpint(acme_challenge_respond(f->client, http, &err), ==, ACME_OK);
    g_assert_cmpint(acme_authorization_poll(a, f->client, 0, &err), ==, ACME_OK);
    g_assert_cmpint(acme_authorization_status(a), ==, ACME_STATUS_VALID);
    /* The authorization shows what the CA listed now ... */
    g_assert_cmpuint(acme_authorization_challenge_count(a), ==, 1);
    g_assert_null(acme_authorization_find_challenge(a, "dns-01"));
    /* ... and the old pointers still read, with the news where there is some. */
    g_assert_cmpint(acme_challenge_status(http), ==, ACME_STATUS_VALID);
    g_assert_cmpstr(acme_challenge_token(http), ==, "tok_en-0123456789abcdef");
    g_assert_cmpstr(acme_challenge_type(dns), ==, "dns-01");
    g_assert_cmpint(acme_challenge_status(dns), ==, ACME_STATUS_PENDING);
    /* The challenge still listed keeps its object, so it stays current. */
    g_assert_true(http == acme_authorization_find_challenge(a, "http-01"));
    /* A second poll retires nothing twice. */
    g_assert_cmpint(acme_authorization_poll(a, f->client, 0, &err), ==, ACME_OK);
    g_assert_cmpstr(acme_challenge_url(http), !=, NULL);
    g_assert_true(http == acme_authorization_find_challenge(a, "http-01"));
    g_assert_null(err);
    acme_authorization_free(a);
}

static void test_authz_bad_token(Fixture *f, gconstpointer data)
{
    static const char *const tokens[] = { "../../etc/passwd", "abc=", "a b", "" };
    acme_error *err = NULL;

    (void)data;
    registered(f);
    for (size_t i = 0; i < G_N_ELEMENTS(tokens); i++) {
        KNOB(f, bad_token, tokens[i]);
        g_assert_null(get_authz(f, 0, ACME_E_PROTOCOL, &err));
        g_assert_nonnull(strstr(acme_error_message(err), "base64url"));
        acme_error_free(err), err = NULL;
    }
}

static void test_authz_invalid(Fixture *f, gconstpointer data)
{
    acme_authorization *a;
    acme_error *err = NULL;

    (void)data;
    registered(f);
    KNOB(f, challenge_fails, true);
    a = get_authz(f, 0, ACME_OK, NULL);
    g_assert_cmpint(acme_challenge_respond(f->client, acme_authorization_challenge(a, 0), &err),
                    ==, ACME_OK);
    assert_error(err, acme_authorization_poll(a, f->client, 0, &err), ACME_E_REJECTED);
    /* The failed challenge's problem, with type and detail. */
    g_assert_cmpstr(acme_error_problem_type(err), ==, URN "connection");
    g_assert_cmpstr(acme_error_detail(err), ==, "connection refused");
    g_assert_nonnull(strstr(acme_error_message(err), "example.org"));
    g_assert_cmpint(acme_authorization_status(a), ==, ACME_STATUS_INVALID);
    g_assert_nonnull(acme_challenge_error(acme_authorization_challenge(a, 0)));
    g_assert_cmpstr(acme_error_detail(acme_challenge_error(acme_authorization_challenge(a, 0))),
                    ==, "connection refused");
    acme_error_free(err);
    acme_authorization_free(a);
}

/* ------------------------------------------------------------------ */
/* Finalize and download                                                */
/* ------------------------------------------------------------------ */

static void validate_all(Fixture *f)
{
    g_mutex_lock(&f->ca.lock);
    f->ca.responded[0] = f->ca.responded[1] = true;
    g_mutex_unlock(&f->ca.lock);
}

static void test_finalize_not_ready(Fixture *f, gconstpointer data)
{
    acme_error *err = NULL;
    acme_order *o;
    json_object *prot, *payload;

    (void)data;
    registered(f);
    o = new_order(f, NULL, ACME_OK, NULL);
    /* Ready locally once the CA validated, but the CA says orderNotReady once. */
    validate_all(f);
    KNOB(f, not_ready, 1);
    g_assert_cmpint(acme_order_finalize(o, f->client, "MIIBCSR", 0, &err), ==, ACME_OK);
    g_assert_null(err);
    g_assert_cmpint(acme_order_status(o), ==, ACME_STATUS_VALID);
    g_assert_true(g_str_has_suffix(acme_order_certificate_url(o), "/cert/1"));
    g_assert_cmpuint(count_requests(f, "POST", "/order/1/finalize"), ==, 2);
    last_jws(f, "/order/1/finalize", &prot, &payload);
    g_assert_cmpstr(acme__json_str(payload, "csr"), ==, "MIIBCSR");
    json_object_put(prot);
    json_object_put(payload);
    /* Finalizing a valid order again is a no-op. */
    g_assert_cmpint(acme_order_finalize(o, f->client, "MIIBCSR", 0, &err), ==, ACME_OK);
    g_assert_cmpuint(count_requests(f, "POST", "/order/1/finalize"), ==, 2);
    acme_order_free(o);
}

static void test_order_poll_states(Fixture *f, gconstpointer data)
{
    acme_error *err = NULL;
    acme_order *o;

    (void)data;
    registered(f);
    o = new_order(f, NULL, ACME_OK, NULL);
    /* A deadline already past: ACME_E_TIMEOUT before any request. */
    assert_error(err, acme_order_poll(o, f->client, time(NULL) - 1, &err), ACME_E_TIMEOUT);
    acme_error_free(err), err = NULL;
    assert_error(err, acme_authorization_poll(NULL, f->client, 0, &err),
                 ACME_E_INVALID);
    acme_error_free(err), err = NULL;
    g_assert_cmpuint(count_requests(f, "POST", "/order/1"), ==, 0);
    /* Ready: only finalize moves it on, so polling says so at once. */
    validate_all(f);
    assert_error(err, acme_order_poll(o, f->client, 0, &err), ACME_E_INVALIDSTATE);
    g_assert_cmpint(acme_order_status(o), ==, ACME_STATUS_READY);
    g_assert_cmpuint(count_requests(f, "POST", "/order/1"), ==, 1);
    acme_error_free(err);
    acme_order_free(o);
}

static void test_finalize_invalid_order(Fixture *f, gconstpointer data)
{
    acme_error *err = NULL;
    acme_order *o;

    (void)data;
    registered(f);
    KNOB(f, challenge_fails, true);
    o = new_order(f, NULL, ACME_OK, NULL);
    validate_all(f);
    /* The CA keeps saying orderNotReady while the order goes invalid. */
    assert_error(err, acme_order_finalize(o, f->client, "MIIBCSR", 0, &err), ACME_E_REJECTED);
    g_assert_cmpint(acme_order_status(o), ==, ACME_STATUS_INVALID);
    acme_error_free(err), err = NULL;
    assert_error(err, acme_order_finalize(o, f->client, "not b64!", 0, &err), ACME_E_INVALID);
    acme_error_free(err), err = NULL;
    assert_error(err, acme_order_poll(o, f->client, 0, &err), ACME_E_REJECTED);
    acme_error_free(err);
    acme_order_free(o);
}

static void test_download_chains(Fixture *f, gconstpointer data)
{
    acme_error *err = NULL;
    acme_order *o;
    char *pem = NULL, **chains = NULL;
    size_t n = 0;

    (void)data;
    registered(f);
    o = new_order(f, NULL, ACME_OK, NULL);
    assert_error(err, acme_order_download(&pem, f->client, o, NULL, &err), ACME_E_INVALIDSTATE);
    acme_error_free(err), err = NULL;
    validate_all(f);
    g_assert_cmpint(acme_order_finalize(o, f->client, "MIIBCSR", 0, &err), ==, ACME_OK);

    /* Default chain: topmost issuer Root A. */
    g_assert_cmpint(acme_order_download(&pem, f->client, o, NULL, &err), ==, ACME_OK);
    g_assert_nonnull(strstr(pem, int_a_pem));
    acme_free(pem);
    g_assert_cmpuint(count_requests(f, "POST", "/cert/1/alt"), ==, 0);
    /* Preferred issuer matching the default: no alternate fetched. */
    g_assert_cmpint(acme_order_download(&pem, f->client, o, "Root A", &err), ==, ACME_OK);
    g_assert_nonnull(strstr(pem, int_a_pem));
    acme_free(pem);
    g_assert_cmpuint(count_requests(f, "POST", "/cert/1/alt"), ==, 0);
    /* Preferred Root B: the alternate. */
    g_assert_cmpint(acme_order_download(&pem, f->client, o, "Root B", &err), ==, ACME_OK);
    g_assert_nonnull(strstr(pem, int_b_pem));
    g_assert_true(g_str_has_prefix(pem, leaf_pem));
    acme_free(pem);
    /* No match: the default. */
    g_assert_cmpint(acme_order_download(&pem, f->client, o, "Root Z", &err), ==, ACME_OK);
    g_assert_nonnull(strstr(pem, int_a_pem));
    acme_free(pem);

    g_assert_cmpint(acme_client_certificate_chains(&chains, &n, f->client,
                                                   acme_order_certificate_url(o), &err), ==, 0);
    g_assert_cmpuint(n, ==, 2);
    g_assert_nonnull(strstr(chains[0], int_a_pem));
    g_assert_nonnull(strstr(chains[1], int_b_pem));
    acme_free_strv(chains, n);
    g_assert_null(err);
    acme_order_free(o);
}

/* ------------------------------------------------------------------ */
/* Revocation and ARI                                                   */
/* ------------------------------------------------------------------ */

static void test_revoke(Fixture *f, gconstpointer data)
{
    json_object *prot, *payload;
    acme_key *cert_key = NULL;
    acme_error *err = NULL;
    const char *der;

    (void)data;
    registered(f);
    g_assert_cmpint(acme_client_revoke(f->client, leaf_pem, NULL, 4, &err), ==, ACME_OK);
    last_jws(f, "/revoke", &prot, &payload);
    g_assert_nonnull(acme__json_str(prot, "kid"));
    der = acme__json_str(payload, "certificate");
    g_assert_true(acme__is_b64url(der));
    /* The first bytes of the leaf's DER, as the PEM shows them. */
    g_assert_true(g_str_has_prefix(der, "MIIBvTCCAWKgAwIBAgIUMnlXp4yqCYpXfEFOK4z4DVhslkgwCgYIKoZIzj0EAwIw"));
    g_assert_cmpint(json_object_get_int(json_object_object_get(payload, "reason")), ==, 4);
    json_object_put(prot);
    json_object_put(payload);

    /* Signed by the certificate's key (jwk), no reason. */
    g_assert_cmpint(acme_key_load_pem(&cert_key, leaf_key_pem, strlen(leaf_key_pem), NULL), ==, 0);
    g_assert_cmpint(acme_client_revoke(f->client, leaf_pem, cert_key, -1, &err), ==, ACME_OK);
    last_jws(f, "/revoke", &prot, &payload);
    g_assert_null(acme__json_str(prot, "kid"));
    g_assert_nonnull(acme__json_obj(prot, "jwk"));
    g_assert_false(json_object_object_get_ex(payload, "reason", NULL));
    json_object_put(prot);
    json_object_put(payload);

    /* The wrong key for the certificate, a bad reason, no certificate. */
    assert_error(err, acme_client_revoke(f->client, leaf_pem, f->key, 0, &err), ACME_E_INVALID);
    acme_error_free(err), err = NULL;
    assert_error(err, acme_client_revoke(f->client, leaf_pem, NULL, 7, &err), ACME_E_INVALID);
    acme_error_free(err), err = NULL;
    assert_error(err, acme_client_revoke(f->client, "junk", NULL, 0, &err), ACME_E_INVALID);
    acme_error_free(err);
    acme_key_free(cert_key);
}

static void test_ari(Fixture *f, gconstpointer data)
{
    acme_renewal_info *ri = NULL;
    acme_error *err = NULL;
    const char *id = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE";
    char *path;

    (void)data;
    KNOB(f, dir_renewal_info, true);
    KNOB(f, ari_body, "{\"suggestedWindow\":{\"start\":\"2026-11-23T16:10:00Z\","
                     "\"end\":\"2026-11-25T16:10:00.5Z\"},"
                     "\"explanationURL\":\"https://ca.example/why\"}");
    g_assert_cmpint(acme_client_renewal_info(&ri, f->client, id, &err), ==, ACME_OK);
    g_assert_null(err);
    g_assert_cmpint(acme_renewal_info_window_start(ri), ==, 1795450200);
    g_assert_cmpint(acme_renewal_info_window_end(ri), ==, 1795450200 + 2 * 86400);
    g_assert_cmpstr(acme_renewal_info_explanation_url(ri), ==, "https://ca.example/why");
    g_assert_cmpint(acme_renewal_info_retry_after(ri), ==, 21600);
    acme_renewal_info_free(ri), ri = NULL;
    /* A plain GET of renewalInfo/<id> (RFC 9773 §4.2). */
    path = g_strdup_printf("/ari/%s", id);
    g_assert_cmpuint(count_requests(f, "GET", path), ==, 1);
    g_free(path);

    /* No explanation: NULL. */
    KNOB(f, ari_body, "{\"suggestedWindow\":{\"start\":\"2026-11-23T16:10:00Z\","
                     "\"end\":\"2026-11-24T16:10:00Z\"}}");
    g_assert_cmpint(acme_client_renewal_info(&ri, f->client, id, &err), ==, ACME_OK);
    g_assert_null(acme_renewal_info_explanation_url(ri));
    acme_renewal_info_free(ri), ri = NULL;

    /* Bad windows. */
    KNOB(f, ari_body, "{\"suggestedWindow\":{\"start\":\"2026-11-25T16:10:00Z\","
                     "\"end\":\"2026-11-24T16:10:00Z\"}}");
    assert_error(err, acme_client_renewal_info(&ri, f->client, id, &err), ACME_E_PROTOCOL);
    acme_error_free(err), err = NULL;
    KNOB(f, ari_body, "{\"suggestedWindow\":{\"start\":\"yesterday\",\"end\":\"today\"}}");
    assert_error(err, acme_client_renewal_info(&ri, f->client, id, &err), ACME_E_PROTOCOL);
    acme_error_free(err), err = NULL;
    KNOB(f, ari_body, "{\"suggestedWindow\":{\"start\":\"2026-11-23T16:10:00Z\",");
    assert_error(err, acme_client_renewal_info(&ri, f->client, id, &err), ACME_E_PROTOCOL);
    acme_error_free(err), err = NULL;
    /* A bad identifier never reaches the CA. */
    assert_error(err, acme_client_renewal_info(&ri, f->client, "../x", &err), ACME_E_INVALID);
    acme_error_free(err), err = NULL;
    g_assert_null(ri);
}

static void test_ari_unsupported(Fixture *f, gconstpointer data)
{
    acme_renewal_info *ri = NULL;
    acme_error *err = NULL;

    (void)data;
    assert_error(err, acme_client_renewal_info(&ri, f->client, "aYhb.AIdl", &err),
                 ACME_E_NOTSUP);
    g_assert_null(ri);
    acme_error_free(err);
}

/* ------------------------------------------------------------------ */
/* Responders and the whole flow                                        */
/* ------------------------------------------------------------------ */

/* A responder that counts, per challenge, how often it was started and
 * stopped, and can fail or cancel on a given start. */
typedef struct counter {
    int starts, stops, destroys;
    int fail_on_start;          /* 1-based start number that fails; 0: none */
    acme_client *cancel_client; /* cancel this client during start */
    GHashTable *live;           /* token -> started and not stopped */
    bool double_stop;
    char last_name[64];
    char last_ka[256];
} counter;

static int counter_start(void *self, const char *name, const acme_challenge *ch,
                         const char *key_authorization, acme_error **err)
{
    counter *c = self;

    c->starts++;
    g_strlcpy(c->last_name, name, sizeof(c->last_name));
    g_strlcpy(c->last_ka, key_authorization, sizeof(c->last_ka));
    if (c->fail_on_start == c->starts)
        return acme_error_set(err, ACME_E_IO, "cannot write the token file");
    if (c->cancel_client)
        acme_client_cancel(c->cancel_client);
    g_hash_table_insert(c->live, g_strdup(acme_challenge_url(ch)), NULL);
    return ACME_OK;
}

static void counter_stop(void *self, const char *name, const acme_challenge *ch,
                         const char *key_authorization)
{
    counter *c = self;

    (void)name;
    (void)key_authorization;
    c->stops++;
    if (!g_hash_table_remove(c->live, acme_challenge_url(ch)))
        c->double_stop = true;
}

static void counter_destroy(void *self)
{
    counter *c = self;

    c->destroys++;
}

static const acme_responder_ops counter_http_ops = {
    .version = ACME_RESPONDER_OPS_VERSION,
    .name = "counter",
    .challenge_type = "http-01",
    .start = counter_start,
    .stop = counter_stop,
    .destroy = counter_destroy,
};

static const acme_responder_ops counter_alpn_ops = {
    .version = ACME_RESPONDER_OPS_VERSION,
    .challenge_type = "tls-alpn-01",
    .start = counter_start,
    .stop = counter_stop,
    .destroy = counter_destroy,
};

static void counter_init(counter *c)
{
    memset(c, 0, sizeof(*c));
    c->live = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

static void counter_check(counter *c)
{
    /* Every start that succeeded was stopped, exactly once. */
    g_assert_false(c->double_stop);
    g_assert_cmpuint(g_hash_table_size(c->live), ==, 0);
    g_hash_table_destroy(c->live);
}

static void test_responder_new(void)
{
    acme_responder_ops v0 = counter_http_ops, v2 = counter_http_ops, nostop = counter_http_ops;
    acme_responder_ops notype = counter_http_ops;
    acme_responder *r = NULL;
    acme_error *err = NULL;
    counter c;

    counter_init(&c);
    g_assert_cmpint(acme_responder_new(&r, &counter_http_ops, &c, &err), ==, ACME_OK);
    g_assert_cmpstr(acme_responder_challenge_type(r), ==, "http-01");
    g_assert_cmpstr(acme_responder_name(r), ==, "counter");
    g_assert_true(acme_responder_self(r) == &c);
    acme_responder_free(r);
    g_assert_cmpint(c.destroys, ==, 1);

    g_assert_cmpint(acme_responder_new(&r, &counter_alpn_ops, &c, &err), ==, ACME_OK);
    g_assert_cmpstr(acme_responder_name(r), ==, "tls-alpn-01");  /* no name: the type */
    acme_responder_free(r);
    g_assert_cmpint(c.destroys, ==, 2);

    /* Refused tables; self is still released (the responder owned it). */
    v0.version = 0;
    v2.version = ACME_RESPONDER_OPS_VERSION + 1;
    nostop.stop = NULL;
    notype.challenge_type = NULL;
    assert_error(err, acme_responder_new(&r, &v2, &c, &err), ACME_E_INVALID);
    acme_error_free(err), err = NULL;
    g_assert_cmpint(c.destroys, ==, 3);
    assert_error(err, acme_responder_new(&r, &nostop, &c, &err), ACME_E_INVALID);
    acme_error_free(err), err = NULL;
    assert_error(err, acme_responder_new(&r, &notype, &c, &err), ACME_E_INVALID);
    acme_error_free(err), err = NULL;
    g_assert_cmpint(c.destroys, ==, 5);
    assert_error(err, acme_responder_new(&r, &v0, &c, &err), ACME_E_INVALID);
    acme_error_free(err), err = NULL;
    assert_error(err, acme_responder_new(&r, NULL, &c, &err), ACME_E_INVALID);
    acme_error_free(err), err = NULL;
    g_assert_null(r);
    counter_check(&c);
}

typedef struct {
    counter http, alpn;
    acme_responder *rs[2];
} responders;

static void responders_init(responders *r)
{
    counter_init(&r->http);
    counter_init(&r->alpn);
    /* tls-alpn-01 first: the CA does not offer it, so http-01 answers. */
    g_assert_cmpint(acme_responder_new(&r->rs[0], &counter_alpn_ops, &r->alpn, NULL), ==, 0);
    g_assert_cmpint(acme_responder_new(&r->rs[1], &counter_http_ops, &r->http, NULL), ==, 0);
}

static void responders_done(responders *r)
{
    acme_responder_free(r->rs[0]);
    acme_responder_free(r->rs[1]);
    g_assert_cmpint(r->http.destroys, ==, 1);
    g_assert_cmpint(r->alpn.destroys, ==, 1);
    g_assert_cmpint(r->alpn.starts, ==, 0);
    counter_check(&r->http);
    counter_check(&r->alpn);
}

static int issue(Fixture *f, responders *r, const char *replaces, char **key, char **chain,
                 acme_error **err)
{
    static const char *const names[] = { "example.org", "192.0.2.1" };
    acme_issue_options io = ACME_ISSUE_OPTIONS_INIT;

    io.names = names;
    io.nnames = 2;
    io.responders = r->rs;
    io.nresponders = 2;
    io.replaces = replaces;
    io.preferred_issuer = "Root B";
    io.timeout_seconds = 60;
    return acme_client_issue(key, chain, f->client, &io, err);
}

static void test_issue(Fixture *f, gconstpointer data)
{
    acme_error *err = NULL;
    char *key = NULL, *chain = NULL, *ka = NULL, *thumb = NULL;
    json_object *prot, *payload, *ids;
    acme_key *k = NULL;
    responders r;

    (void)data;
    registered(f);
    f->ca.authz0_valid = true;  /* reused: nothing to answer for it */
    responders_init(&r);
    g_assert_cmpint(issue(f, &r, NULL, &key, &chain, &err), ==, ACME_OK);
    g_assert_null(err);
    g_assert_cmpint(r.http.starts, ==, 1);
    g_assert_cmpint(r.http.stops, ==, 1);
    g_assert_cmpstr(r.http.last_name, ==, "www.example.org");
    /* RFC 8555 §8.1: token "." thumbprint. */
    g_assert_cmpint(acme_key_thumbprint(&thumb, f->key, NULL), ==, 0);
    ka = g_strdup_printf("tok_en-0123456789abcdef.%s", thumb);
    g_assert_cmpstr(r.http.last_ka, ==, ka);
    g_free(ka);
    acme_free(thumb);
    g_assert_cmpuint(count_requests(f, "POST", "/chall/1/http"), ==, 1);
    g_assert_cmpuint(count_requests(f, "POST", "/chall/0/http"), ==, 0);
    /* The preferred chain, and a key that loads. */
    g_assert_nonnull(strstr(chain, int_b_pem));
    g_assert_cmpint(acme_key_load_pem(&k, key, strlen(key), NULL), ==, 0);
    acme_key_free(k);
    /* The IP literal was ordered as an "ip" identifier. */
    last_jws(f, "/new-order", &prot, &payload);
    ids = acme__json_arr(payload, "identifiers");
    g_assert_cmpstr(acme__json_str(json_object_array_get_idx(ids, 1), "type"), ==, "ip");
    json_object_put(prot);
    json_object_put(payload);
    acme_free(key);
    acme_free(chain);
    responders_done(&r);
}

static void test_issue_failure_stops(Fixture *f, gconstpointer data)
{
    acme_error *err = NULL;
    char *key = NULL, *chain = NULL;
    responders r;

    (void)data;
    registered(f);
    KNOB(f, challenge_fails, true);
    responders_init(&r);
    assert_error(err, issue(f, &r, NULL, &key, &chain, &err), ACME_E_REJECTED);
    g_assert_cmpstr(acme_error_problem_type(err), ==, URN "connection");
    acme_error_free(err);
    g_assert_null(key);
    g_assert_null(chain);
    g_assert_cmpint(r.http.starts, ==, 2);
    g_assert_cmpint(r.http.stops, ==, 2);
    responders_done(&r);
}

static void test_issue_start_fails(Fixture *f, gconstpointer data)
{
    acme_error *err = NULL;
    char *key = NULL, *chain = NULL;
    responders r;

    (void)data;
    registered(f);
    responders_init(&r);
    r.http.fail_on_start = 2;
    assert_error(err, issue(f, &r, NULL, &key, &chain, &err), ACME_E_IO);
    g_assert_nonnull(strstr(acme_error_message(err), "token file"));
    acme_error_free(err);
    /* The first one was stopped; the failed one never counted as started. */
    g_assert_cmpint(r.http.starts, ==, 2);
    g_assert_cmpint(r.http.stops, ==, 1);
    g_assert_cmpuint(count_requests(f, "POST", "/chall/0/http"), ==, 0);
    responders_done(&r);
}

static void test_issue_cancel(Fixture *f, gconstpointer data)
{
    acme_error *err = NULL;
    char *key = NULL, *chain = NULL;
    responders r;

    (void)data;
    registered(f);
    responders_init(&r);
    r.http.cancel_client = f->client;
    assert_error(err, issue(f, &r, NULL, &key, &chain, &err), ACME_E_CANCELLED);
    acme_error_free(err), err = NULL;
    g_assert_cmpint(r.http.starts, ==, 1);
    g_assert_cmpint(r.http.stops, ==, 1);
    /* Cancelled until reset. */
    r.http.cancel_client = NULL;
    assert_error(err, issue(f, &r, NULL, &key, &chain, &err), ACME_E_CANCELLED);
    acme_error_free(err), err = NULL;
    acme_client_reset_cancel(f->client);
    g_assert_cmpint(issue(f, &r, NULL, &key, &chain, &err), ==, ACME_OK);
    acme_free(key);
    acme_free(chain);
    g_assert_cmpint(r.http.starts, ==, r.http.stops);
    responders_done(&r);
}

static void test_issue_no_responder(Fixture *f, gconstpointer data)
{
    static const char *const names[] = { "example.org" };
    acme_issue_options io = ACME_ISSUE_OPTIONS_INIT;
    acme_error *err = NULL;
    char *key = NULL, *chain = NULL;
    responders r;

    (void)data;
    registered(f);
    responders_init(&r);
    io.names = names;
    io.nnames = 1;
    io.responders = r.rs;
    io.nresponders = 1;  /* tls-alpn-01 only */
    assert_error(err, acme_client_issue(&key, &chain, f->client, &io, &err), ACME_E_NOTSUP);
    acme_error_free(err), err = NULL;
    g_assert_cmpint(r.alpn.starts, ==, 0);
    io.nnames = 0;
    assert_error(err, acme_client_issue(&key, &chain, f->client, &io, &err), ACME_E_INVALID);
    acme_error_free(err);
    responders_done(&r);
}

static void test_issue_already_replaced(Fixture *f, gconstpointer data)
{
    acme_error *err = NULL;
    char *key = NULL, *chain = NULL;
    json_object *prot, *payload;
    responders r;

    (void)data;
    registered(f);
    KNOB(f, already_replaced, 1);
    responders_init(&r);
    g_assert_cmpint(issue(f, &r, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE", &key, &chain, &err), ==,
                    ACME_OK);
    g_assert_null(err);
    g_assert_cmpuint(count_requests(f, "POST", "/new-order"), ==, 2);
    last_jws(f, "/new-order", &prot, &payload);
    g_assert_null(acme__json_str(payload, "replaces"));
    json_object_put(prot);
    json_object_put(payload);
    acme_free(key);
    acme_free(chain);
    responders_done(&r);
}

static void test_issue_no_account(Fixture *f, gconstpointer data)
{
    acme_error *err = NULL;
    char *key = NULL, *chain = NULL;
    responders r;

    (void)data;
    responders_init(&r);
    assert_error(err, issue(f, &r, NULL, &key, &chain, &err), ACME_E_INVALIDSTATE);
    acme_error_free(err);
    g_assert_cmpuint(mockhttp_request_count(f->ca.m), ==, 0);
    responders_done(&r);
}

/* ------------------------------------------------------------------ */

#define ADD(path, fn) g_test_add(path, Fixture, NULL, setup, fn, teardown)

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    g_assert_cmpint(acme_global_init(), ==, ACME_OK);
    g_assert_cmpint(acme_key_generate(&shared_key, ACME_KEY_EC_P256, NULL), ==, ACME_OK);

    g_test_add_func("/client/new/invalid", test_new_invalid);
    g_test_add_func("/client/responder/new", test_responder_new);
    ADD("/client/directory/meta", test_directory_meta);
    ADD("/client/directory/missing-url", test_directory_missing_url);
    ADD("/client/directory/bad-body", test_directory_bad_body);
    ADD("/client/directory/oversized", test_directory_oversized);
    ADD("/client/account/register", test_account_register);
    ADD("/client/account/find", test_account_find);
    ADD("/client/account/register-rejected", test_account_register_rejected);
    ADD("/client/account/eab", test_account_eab);
    ADD("/client/account/recovery", test_account_recovery);
    ADD("/client/account/updates", test_account_updates);
    ADD("/client/account/key-change", test_account_key_change);
    ADD("/client/account/key-change-taken", test_account_key_change_taken);
    ADD("/client/order/new", test_order_new);
    ADD("/client/order/profile-preferred-required", test_order_profile);
    ADD("/client/order/profile-listed", test_order_profile_listed);
    ADD("/client/order/bad-body", test_order_bad_body);
    ADD("/client/order/problem", test_order_problem);
    ADD("/client/order/invalid-args", test_order_invalid_args);
    ADD("/client/authz/get-respond-poll", test_authz_get);
    ADD("/client/authz/poll-shrinks", test_authz_poll_shrinks);
    ADD("/client/authz/bad-token", test_authz_bad_token);
    ADD("/client/authz/invalid", test_authz_invalid);
    ADD("/client/order/finalize-not-ready", test_finalize_not_ready);
    ADD("/client/order/finalize-invalid", test_finalize_invalid_order);
    ADD("/client/order/poll-states", test_order_poll_states);
    ADD("/client/order/download-chains", test_download_chains);
    ADD("/client/revoke", test_revoke);
    ADD("/client/ari/window", test_ari);
    ADD("/client/ari/unsupported", test_ari_unsupported);
    ADD("/client/issue/success", test_issue);
    ADD("/client/issue/failure-stops-responders", test_issue_failure_stops);
    ADD("/client/issue/start-fails", test_issue_start_fails);
    ADD("/client/issue/cancel", test_issue_cancel);
    ADD("/client/issue/no-responder", test_issue_no_responder);
    ADD("/client/issue/already-replaced", test_issue_already_replaced);
    ADD("/client/issue/no-account", test_issue_no_account);

    rc = g_test_run();
    acme_key_free(shared_key);
    acme_global_cleanup();
    return rc;
}
