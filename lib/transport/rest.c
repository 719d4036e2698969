/*
 * transport: a generic HTTP client for REST APIs other than the CA's (DNS
 * providers).  One libcurl easy handle per client, so connections are
 * reused; size and time limits; cancellation through the progress
 * callback; every header kept; HTTP error statuses turned into errors a
 * person can act on (credentials refused, rate limited until, the API's
 * own validation message).  Header values and query strings never reach
 * logs or messages: they carry API keys.
 */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include <acme/acme.h>
#include <acme/sys/error.h>

#include "transport/rest.h"
#include "util/error.h"
#include "util/i18n.h"
#include "util/json.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 30000L
#define DEFAULT_REQUEST_TIMEOUT_MS 30000L
#define DEFAULT_MAX_RESPONSE_SIZE ((size_t)4 << 20)
/* A provider message longer than this is cut: it goes into one error line. */
#define MAX_MESSAGE 300

struct acme__rest {
    CURL *easy;
    char errbuf[CURL_ERROR_SIZE];
    char *user_agent;
    size_t max_response_size;
    const acme__logger *log;
    atomic_bool cancelled;
};

void acme__rest_response_clear(acme__rest_response *resp)
{
    if (!resp)
        return;
    free(resp->content_type);
    acme_free_strv(resp->header_names, resp->nheaders);
    acme_free_strv(resp->header_values, resp->nheaders);
    acme__buf_clear(&resp->body);
    memset(resp, 0, sizeof(*resp));
    resp->retry_after = -1;
}

const char *acme__rest_response_header(const acme__rest_response *resp, const char *name)
{
    size_t len = strlen(name);

    for (size_t i = 0; resp && i < resp->nheaders; i++)
        if (strlen(resp->header_names[i]) == len &&
            acme__strncaseeq(resp->header_names[i], name, len))
            return resp->header_values[i];
    return NULL;
}

static int progress_cb(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    acme__rest *r = userdata;

    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return atomic_load(&r->cancelled) ? 1 : 0;
}

#define SETOPT(opt, val) \
    do { \
        if (curl_easy_setopt(r->easy, (opt), (val)) != CURLE_OK) \
            goto fail_opt; \
    } while (0)

int acme__rest_new(acme__rest **out, const acme__rest_options *opts, acme_error **err)
{
    static const acme__rest_options defaults;
    acme__rest *r;

    *out = NULL;
    if (!opts)
        opts = &defaults;
    if (!(r = calloc(1, sizeof(*r))))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    atomic_init(&r->cancelled, false);
    r->log = opts->log;
    r->max_response_size = opts->max_response_size ? opts->max_response_size
                                                   : DEFAULT_MAX_RESPONSE_SIZE;
    r->user_agent = opts->user_agent && *opts->user_agent
                        ? acme__asprintf("libacme/%s %s", PACKAGE_VERSION, opts->user_agent)
                        : acme__asprintf("libacme/%s", PACKAGE_VERSION);
    if (!r->user_agent || !(r->easy = curl_easy_init())) {
        acme__rest_free(r);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    SETOPT(CURLOPT_NOSIGNAL, 1L);
    SETOPT(CURLOPT_ERRORBUFFER, r->errbuf);
#if LIBCURL_VERSION_NUM >= 0x075500
    SETOPT(CURLOPT_PROTOCOLS_STR, "https,http");
#else
    SETOPT(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTPS | CURLPROTO_HTTP));
#endif
    /* A redirect could carry the API key elsewhere: never follow one. */
    SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
    SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
    SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
    SETOPT(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
    SETOPT(CURLOPT_USERAGENT, r->user_agent);
    if (opts->ca_file)
        SETOPT(CURLOPT_CAINFO, opts->ca_file);
    if (opts->proxy)
        SETOPT(CURLOPT_PROXY, opts->proxy);
    SETOPT(CURLOPT_CONNECTTIMEOUT_MS,
           opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS);
    SETOPT(CURLOPT_TIMEOUT_MS,
           opts->request_timeout_ms > 0 ? opts->request_timeout_ms : DEFAULT_REQUEST_TIMEOUT_MS);
    SETOPT(CURLOPT_NOPROGRESS, 0L);
    SETOPT(CURLOPT_XFERINFOFUNCTION, progress_cb);
    SETOPT(CURLOPT_XFERINFODATA, r);
    *out = r;
    return ACME_OK;

fail_opt:
    acme__rest_free(r);
    return acme_error_set(err, ACME_E_NOTSUP, _("libcurl lacks a feature libacme needs"));
}

void acme__rest_free(acme__rest *r)
{
    if (!r)
        return;
    if (r->easy)
        curl_easy_cleanup(r->easy);
    free(r->user_agent);
    free(r);
}

void acme__rest_cancel(acme__rest *r)
{
    if (r)
        atomic_store(&r->cancelled, true);
}

void acme__rest_reset_cancel(acme__rest *r)
{
    if (r)
        atomic_store(&r->cancelled, false);
}

bool acme__rest_cancelled(const acme__rest *r)
{
    return r && atomic_load(&((acme__rest *)r)->cancelled);
}

/* ---- one transfer ---- */

typedef struct xfer {
    acme__rest *r;
    acme__rest_response *resp;
    bool too_big, nomem;
} xfer;

static void trim(const char **s, size_t *len)
{
    while (*len && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*len)--;
    }
    while (*len && strchr(" \t\r\n", (*s)[*len - 1]))
        (*len)--;
}

static size_t header_cb(char *data, size_t size, size_t nmemb, void *userdata)
{
    xfer *x = userdata;
    acme__rest_response *resp = x->resp;
    size_t n = size * nmemb, nlen, vlen;
    const char *colon, *value;
    char *name, *v, **nn, **nv;

    if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
        /* A new response (after a 1xx): forget what came before. */
        acme_free_strv(resp->header_names, resp->nheaders);
        acme_free_strv(resp->header_values, resp->nheaders);
        resp->header_names = resp->header_values = NULL;
        resp->nheaders = 0;
        free(resp->content_type);
        resp->content_type = NULL;
        resp->retry_after = -1;
        return n;
    }
    if (!(colon = memchr(data, ':', n)))
        return n;
    nlen = (size_t)(colon - data);
    value = colon + 1;
    vlen = n - nlen - 1;
    trim(&value, &vlen);
    name = acme__strndup(data, nlen);
    v = acme__strndup(value, vlen);
    nn = realloc(resp->header_names, (resp->nheaders + 1) * sizeof(char *));
    if (nn)
        resp->header_names = nn;
    nv = nn ? realloc(resp->header_values, (resp->nheaders + 1) * sizeof(char *)) : NULL;
    if (nv)
        resp->header_values = nv;
    if (!name || !v || !nn || !nv) {
        free(name);
        free(v);
        x->nomem = true;
        return 0;
    }
    resp->header_names[resp->nheaders] = name;
    resp->header_values[resp->nheaders++] = v;

    if (nlen == 12 && acme__strncaseeq(name, "Content-Type", 12)) {
        char *ct = acme__strdup(v), *semi;
        size_t l;

        if (!ct) {
            x->nomem = true;
            return 0;
        }
        if ((semi = strchr(ct, ';')))
            *semi = '\0';
        for (char *p = ct; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        l = strlen(ct);
        while (l && (ct[l - 1] == ' ' || ct[l - 1] == '\t'))
            ct[--l] = '\0';
        free(resp->content_type);
        resp->content_type = ct;
    } else if (nlen == 11 && acme__strncaseeq(name, "Retry-After", 11)) {
        resp->retry_after = acme__retry_after_parse(v, time(NULL));
    } else if (nlen == 14 && acme__strncaseeq(name, "Content-Length", 14)) {
        char *end;
        unsigned long long len;

        errno = 0;
        len = strtoull(v, &end, 10);
        if (errno == 0 && *end == '\0' && len > x->r->max_response_size) {
            x->too_big = true;
            return 0;
        }
    }
    return n;
}

static size_t write_cb(char *data, size_t size, size_t nmemb, void *userdata)
{
    xfer *x = userdata;
    size_t n = size * nmemb;

    if (n > x->r->max_response_size - x->resp->body.len) {
        x->too_big = true;
        return 0;
    }
    if (acme__buf_append(&x->resp->body, data, n) < 0) {
        x->nomem = true;
        return 0;
    }
    return n;
}

/*
 * "host/path" of @p url for messages and logs: no scheme, credentials,
 * query or fragment (query strings sometimes carry tokens).
 */
static char *url_safe(const char *url)
{
    CURLU *u = curl_url();
    char *host = NULL, *path = NULL, *port = NULL, *s;

    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK) {
        curl_url_get(u, CURLUPART_HOST, &host, 0);
        curl_url_get(u, CURLUPART_PORT, &port, 0);
        curl_url_get(u, CURLUPART_PATH, &path, 0);
    }
    s = acme__asprintf("%s%s%s%s", host ? host : "?", port ? ":" : "", port ? port : "",
                       path ? path : "");
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_url_cleanup(u);
    return s;
}

static bool is_tls_error(CURLcode rc)
{
    switch (rc) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_USE_SSL_FAILED:
        return true;
    default:
        return false;
    }
}

static int transfer_error(acme_error **err, acme__rest *r, const xfer *x, CURLcode rc,
                          const acme__rest_request *req)
{
    char *where;
    const char *why = r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc);
    const char *svc;
    int code;

    if (x->nomem || rc == CURLE_OUT_OF_MEMORY)
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    if (!(where = url_safe(req->url)))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    svc = req->service ? req->service : _("the server");
    if (rc == CURLE_ABORTED_BY_CALLBACK || atomic_load(&r->cancelled))
        code = acme_error_set(err, ACME_E_CANCELLED, _("request to %s (%s) cancelled"), svc,
                              where);
    else if (x->too_big)
        code = acme_error_set(err, ACME_E_PROTOCOL,
                              _("response from %s (%s) exceeds the size limit of %zu bytes"),
                              svc, where, r->max_response_size);
    else if (rc == CURLE_OPERATION_TIMEDOUT)
        code = acme_error_set(err, ACME_E_TIMEOUT, _("request to %s (%s) timed out: %s"), svc,
                              where, why);
    else if (is_tls_error(rc))
        code = acme_error_set(err, ACME_E_TLS, _("TLS error with %s (%s): %s"), svc, where, why);
    else if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL)
        code = acme_error_set(err, ACME_E_INVALID, _("cannot use the URL of %s: %s"), svc, why);
    else
        code = acme_error_set(err, ACME_E_NETWORK, _("cannot reach %s (%s): %s"), svc, where, why);
    free(where);
    return code;
}

/* Keep printable ASCII and UTF-8 of a message; cut it at MAX_MESSAGE bytes. */
static char *clean_message(const char *s, size_t len)
{
    char *out;
    size_t j = 0;

    while (len && strchr(" \t\r\n", *s)) {
        s++;
        len--;
    }
    while (len && strchr(" \t\r\n", s[len - 1]))
        len--;
    if (!len)
        return NULL;
    if (len > MAX_MESSAGE)
        len = MAX_MESSAGE;
    if (!(out = malloc(len + 1)))
        return NULL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        out[j++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
    }
    out[j] = '\0';
    return out;
}

static char *json_message(json_object *o)
{
    static const char *const keys[] = { "error", "message", "detail", "error_description" };
    json_object *v, *errs;

    if (json_object_is_type(o, json_type_string))
        return clean_message(json_object_get_string(o), (size_t)json_object_get_string_len(o));
    if (!json_object_is_type(o, json_type_object))
        return NULL;
    for (size_t i = 0; i < ACME_ARRAY_SIZE(keys); i++) {
        if (!json_object_object_get_ex(o, keys[i], &v))
            continue;
        if (json_object_is_type(v, json_type_string))
            return clean_message(json_object_get_string(v),
                                 (size_t)json_object_get_string_len(v));
        if (json_object_is_type(v, json_type_object)) {
            char *m = json_message(v);

            if (m)
                return m;
        }
    }
    /* {"errors": ["..."]} or {"errors": [{"message": "..."}]} (libcloud, Cloudflare). */
    if ((errs = acme__json_arr(o, "errors")) && json_object_array_length(errs) > 0)
        return json_message(json_object_array_get_idx(errs, 0));
    return NULL;
}

char *acme__rest_error_text(const acme__rest_response *resp)
{
    const char *body = resp->body.data;
    size_t len = resp->body.len;
    json_object *o = NULL;
    char *m = NULL;

    if (!body || !len)
        return NULL;
    if (acme__json_parse(&o, body, len, "error", NULL) == ACME_OK) {
        m = json_message(o);
        json_object_put(o);
        return m;
    }
    /* A short plain-text body ("Unauthorized") is the message; HTML is not. */
    if (len <= MAX_MESSAGE && !memchr(body, '<', len) && !memchr(body, '\n', len - 1))
        return clean_message(body, len);
    return NULL;
}

int acme__rest_status_error(acme_error **err, const acme__rest_request *req,
                            const acme__rest_response *resp)
{
    char *where = url_safe(req->url), *text = acme__rest_error_text(resp), *msg;
    const char *svc = req->service ? req->service : _("the server");
    long st = resp->status;
    int code;
    acme_error *e;

    if (st == 401 || st == 403) {
        code = ACME_E_AUTH;
        msg = acme__asprintf(_("%s refused the credentials (HTTP %ld on %s %s)%s%s"), svc, st,
                             req->method, where ? where : "?", text ? ": " : "",
                             text ? text : "");
    } else if (st == 429) {
        code = ACME_E_RATELIMITED;
        if (resp->retry_after >= 0)
            msg = acme__asprintf(_("%s rate limited %s %s; retry after %lld seconds%s%s"), svc,
                                 req->method, where ? where : "?", (long long)resp->retry_after,
                                 text ? ": " : "", text ? text : "");
        else
            msg = acme__asprintf(_("%s rate limited %s %s%s%s"), svc, req->method,
                                 where ? where : "?", text ? ": " : "", text ? text : "");
    } else if (st == 404) {
        code = ACME_E_NOTFOUND;
        msg = acme__asprintf(_("%s: %s %s not found (HTTP 404)%s%s"), svc, req->method,
                             where ? where : "?", text ? ": " : "", text ? text : "");
    } else if (st >= 400 && st < 500) {
        code = ACME_E_REJECTED;
        msg = acme__asprintf(_("%s refused %s %s (HTTP %ld): %s"), svc, req->method,
                             where ? where : "?", st, text ? text : _("no reason given"));
    } else if (st >= 500 && st < 600) {
        code = ACME_E_NETWORK;
        msg = acme__asprintf(_("%s failed on %s %s (HTTP %ld)%s%s"), svc, req->method,
                             where ? where : "?", st, text ? ": " : "", text ? text : "");
    } else {
        code = ACME_E_PROTOCOL;
        msg = acme__asprintf(_("unexpected HTTP status %ld from %s on %s %s"), st, svc,
                             req->method, where ? where : "?");
    }
    free(where);
    if (!msg || !(e = acme__error_new(code, msg))) {
        free(msg);
        free(text);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    free(msg);
    e->http_status = (int)st;
    e->retry_after = resp->retry_after;
    e->detail = text;
    e->retryable = code == ACME_E_RATELIMITED || code == ACME_E_NETWORK;
    return acme__error_give(err, e);
}

int acme__rest_send(acme__rest_response *resp, acme__rest *r, const acme__rest_request *req,
                       acme_error **err)
{
    struct curl_slist *headers = NULL, *h;
    xfer x = { r, resp, false, false };
    CURLcode rc;
    long status = 0;
    int ret;

    memset(resp, 0, sizeof(*resp));
    resp->retry_after = -1;
    if (!r || !req || !req->url || !req->method)
        return acme_error_set(err, ACME_E_INVALID, _("incomplete HTTP request"));
    if (atomic_load(&r->cancelled))
        return acme_error_set(err, ACME_E_CANCELLED, "%s", acme_strerror(ACME_E_CANCELLED));

    /* No "Expect: 100-continue" round trip for bodies. */
    if (!(h = curl_slist_append(headers, "Expect:")))
        goto nomem;
    headers = h;
    for (const char *const *p = req->headers; p && *p; p++) {
        if (!(h = curl_slist_append(headers, *p)))
            goto nomem;
        headers = h;
    }

    r->errbuf[0] = '\0';
    curl_easy_setopt(r->easy, CURLOPT_URL, req->url);
    curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(r->easy, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(r->easy, CURLOPT_HEADERDATA, &x);
    curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, &x);
    /* Reset the method state the previous request left. */
    curl_easy_setopt(r->easy, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(r->easy, CURLOPT_CUSTOMREQUEST, NULL);
    if (req->body || strcmp(req->method, "POST") == 0 || strcmp(req->method, "PUT") == 0 ||
        strcmp(req->method, "PATCH") == 0) {
        /* A body, possibly empty (then Content-Length: 0, as proxies want). */
        const char *body = req->body ? req->body : "";

        curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)(req->body_len ? req->body_len : strlen(body)));
        curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, body);
    }
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "POST") != 0)
        curl_easy_setopt(r->easy, CURLOPT_CUSTOMREQUEST, req->method);

    rc = curl_easy_perform(r->easy);
    curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, NULL);
    curl_slist_free_all(headers);
    headers = NULL;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    resp->status = status;

    if (acme__log_enabled(r->log, ACME_LOG_DEBUG)) {
        char st[24], *where = url_safe(req->url);
        acme_log_field f[3] = {
            { "method", req->method }, { "url", where ? where : "?" }, { "status", st },
        };

        snprintf(st, sizeof(st), "%ld", status);
        acme__log(r->log, ACME_LOG_DEBUG, f, 3, "HTTP %s %s: %s", req->method,
                  where ? where : "?", rc == CURLE_OK ? st : curl_easy_strerror(rc));
        free(where);
    }
    if (rc != CURLE_OK || x.too_big || x.nomem)
        return transfer_error(err, r, &x, rc, req);
    if (acme__buf_append(&resp->body, "", 0) < 0)
        goto nomem;
    if (status < 200 || status > 299) {
        ret = acme__rest_status_error(err, req, resp);
        return ret;
    }
    return ACME_OK;

nomem:
    curl_slist_free_all(headers);
    return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
}
