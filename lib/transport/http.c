/*
 * transport: the HTTP side of talking to an ACME CA.  One libcurl easy
 * handle per transport (so connections, TLS sessions and the loaded CA
 * bundle are reused), one request at a time, response headers parsed into
 * an acme__response, size and time limits, cancellation, and libcurl
 * errors turned into acme_error.  RFC 8555 §6.1 (HTTPS requests).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <acme/acme.h>
#include <acme/sys/error.h>

#include "transport/internal.h"
#include "transport/link.h"
#include "util/error.h"
#include "util/i18n.h"
#include "util/init.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 30000L
#define DEFAULT_REQUEST_TIMEOUT_MS 60000L
#define DEFAULT_MAX_RESPONSE_SIZE ((size_t)1 << 20)

/* How long one curl_multi_poll() may wait before we look at the cancel flag again. */
#define POLL_SLICE_MS 500

int acme__transport_global_init(void)
{
    CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);

    if (rc == CURLE_OUT_OF_MEMORY)
        return ACME_E_NOMEM;
    return rc == CURLE_OK ? ACME_OK : ACME_E_NETWORK;
}

void acme__transport_global_cleanup(void)
{
    curl_global_cleanup();
}

void acme__response_clear(acme__response *resp)
{
    if (!resp)
        return;
    free(resp->content_type);
    free(resp->location);
    acme_free_strv(resp->alternates, resp->nalternates);
    free(resp->link_up);
    acme__buf_clear(&resp->body);
    memset(resp, 0, sizeof(*resp));
    resp->retry_after = -1;
}

/* ---- the handle ---- */

static int progress_cb(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    acme__transport *t = userdata;

    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    /* Non-zero aborts the transfer with CURLE_ABORTED_BY_CALLBACK. */
    return atomic_load(&t->cancelled) ? 1 : 0;
}

static size_t header_cb(char *data, size_t size, size_t nmemb, void *userdata);
static size_t write_cb(char *data, size_t size, size_t nmemb, void *userdata);

#define SETOPT(opt, val) \
    do { \
        if (curl_easy_setopt(t->easy, (opt), (val)) != CURLE_OK) \
            goto fail_opt; \
    } while (0)

int acme__transport_new(acme__transport **out, const acme__transport_options *opts,
                        acme_error **err)
{
    acme__transport *t;
    long connect_ms, request_ms;

    static const acme__transport_options defaults;

    *out = NULL;
    if (!opts)
        opts = &defaults;
    if (!(t = calloc(1, sizeof(*t))))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    pthread_mutex_init(&t->lock, NULL);
    {
        /* A monotonic clock for acme__transport_sleep(): wall clock steps must not matter. */
        pthread_condattr_t ca;

        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&t->wake, &ca);
        pthread_condattr_destroy(&ca);
    }
    atomic_init(&t->cancelled, false);
    atomic_init(&t->requests, 0);
    atomic_init(&t->badnonce, 0);
    t->log = opts->log;
    t->max_response_size = opts->max_response_size ? opts->max_response_size
                                                   : DEFAULT_MAX_RESPONSE_SIZE;
    t->badnonce_retries = opts->badnonce_retries ? opts->badnonce_retries
                                                 : ACME_BADNONCE_RETRIES;
    connect_ms = opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms
                                              : DEFAULT_CONNECT_TIMEOUT_MS;
    request_ms = opts->request_timeout_ms > 0 ? opts->request_timeout_ms
                                              : DEFAULT_REQUEST_TIMEOUT_MS;
    t->user_agent = opts->user_agent && *opts->user_agent
                        ? acme__asprintf("libacme/%s %s", PACKAGE_VERSION, opts->user_agent)
                        : acme__asprintf("libacme/%s", PACKAGE_VERSION);
    if (!t->user_agent || !(t->multi = curl_multi_init()) || !(t->easy = curl_easy_init())) {
        acme__transport_free(t);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }

    SETOPT(CURLOPT_NOSIGNAL, 1L);   /* threads: no SIGALRM for DNS timeouts */
    SETOPT(CURLOPT_ERRORBUFFER, t->errbuf);
    /* ACME is https; plain http only for test servers on loopback. */
#if LIBCURL_VERSION_NUM >= 0x075500
    SETOPT(CURLOPT_PROTOCOLS_STR, "https,http");
    SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, "https,http");
#else
    SETOPT(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTPS | CURLPROTO_HTTP));
    SETOPT(CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTPS | CURLPROTO_HTTP));
#endif
    /* RFC 8555 never redirects; a redirect would also carry a nonce away. */
    SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
    SETOPT(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    SETOPT(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
    SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
    SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
    SETOPT(CURLOPT_USERAGENT, t->user_agent);
    /*
     * Set once on the one handle: libcurl-gnutls reads the CA file (or the
     * system store) for each new connection, so a handle per request would
     * reload it every time.
     */
    if (opts->ca_file) {
        SETOPT(CURLOPT_CAINFO, opts->ca_file);
        /* "Instead of the system store" (acme_client_options.ca_file):
         * Debian's libcurl also has a default CA path (/etc/ssl/certs),
         * which it would parse for every connection on top of the file
         * (~140 roots: CPU, and ~7 MB of malloc arena per thread). */
        SETOPT(CURLOPT_CAPATH, NULL);
    }
    if (opts->proxy)
        SETOPT(CURLOPT_PROXY, opts->proxy);
    SETOPT(CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    SETOPT(CURLOPT_TIMEOUT_MS, request_ms);
    SETOPT(CURLOPT_NOPROGRESS, 0L);
    SETOPT(CURLOPT_XFERINFOFUNCTION, progress_cb);
    SETOPT(CURLOPT_XFERINFODATA, t);
    SETOPT(CURLOPT_HEADERFUNCTION, header_cb);
    SETOPT(CURLOPT_WRITEFUNCTION, write_cb);
    *out = t;
    return ACME_OK;

fail_opt:
    acme__transport_free(t);
    return acme_error_set(err, ACME_E_NOTSUP, _("libcurl lacks a feature libacme needs"));
}

void acme__transport_free(acme__transport *t)
{
    if (!t)
        return;
    if (t->easy)
        curl_easy_cleanup(t->easy);
    if (t->multi)
        curl_multi_cleanup(t->multi);
    acme__nonce_clear(t);
    free(t->nonce_url);
    free(t->user_agent);
    pthread_cond_destroy(&t->wake);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

int acme__transport_set_nonce_url(acme__transport *t, const char *url)
{
    char *copy;

    if (!t || !url)
        return ACME_E_INVALID;
    if (!(copy = acme__strdup(url)))
        return ACME_E_NOMEM;
    free(t->nonce_url);
    t->nonce_url = copy;
    return ACME_OK;
}

/* ---- one transfer ---- */

typedef struct xfer {
    acme__transport *t;
    acme__response *resp;
    bool head;           /* a HEAD request: no body expected */
    bool too_big;        /* aborted: headers or body exceed max_response_size */
    size_t header_bytes; /* header lines received so far, interim responses included */
    bool nomem;          /* aborted: out of memory */
    acme__link_list links;
} xfer;

/* Trim ASCII white space (and the CRLF libcurl leaves) from both ends. */
static void trim(const char **s, size_t *len)
{
    while (*len && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*len)--;
    }
    while (*len && strchr(" \t\r\n", (*s)[*len - 1]))
        (*len)--;
}

static bool header_is(const char *name, size_t nlen, const char *want)
{
    return nlen == strlen(want) && acme__strncaseeq(name, want, nlen);
}

/* Start of a new response (an interim 1xx, or after a proxy CONNECT): forget headers. */
static void reset_headers(xfer *x)
{
    acme__response *r = x->resp;

    free(r->content_type);
    free(r->location);
    r->content_type = r->location = NULL;
    r->retry_after = -1;
    acme__link_list_clear(&x->links);
}

static size_t header_cb(char *data, size_t size, size_t nmemb, void *userdata)
{
    xfer *x = userdata;
    size_t n = size * nmemb, nlen, vlen;
    const char *colon, *value;
    char *v;

    /*
     * The size limit covers the headers too: a server sending header
     * lines without end (each Link kept) must not grow memory up to
     * whatever bound this libcurl may or may not have.
     */
    if (n > x->t->max_response_size - x->header_bytes) {
        x->too_big = true;
        return 0;
    }
    x->header_bytes += n;
    if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
        reset_headers(x);
        return n;
    }
    if (!(colon = memchr(data, ':', n)))
        return n; /* the blank line ending the headers, or junk */
    nlen = (size_t)(colon - data);
    value = colon + 1;
    vlen = n - nlen - 1;
    trim(&value, &vlen);
    if (!(v = acme__strndup(value, vlen))) {
        x->nomem = true;
        return 0;
    }

    if (header_is(data, nlen, "Replay-Nonce")) {
        /* RFC 8555 §6.5: every response may carry a fresh nonce, errors too. */
        if (!acme__nonce_put(x->t, v))
            ACME__LOGF(x->t->log, ACME_LOG_DEBUG, "ignoring a Replay-Nonce that is not base64url");
    } else if (header_is(data, nlen, "Content-Type")) {
        /* Media type only, lowercased: "application/json; charset=utf-8" -> "application/json". */
        char *semi = strchr(v, ';');

        if (semi)
            *semi = '\0';
        for (char *p = v; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        vlen = strlen(v);
        while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
            v[--vlen] = '\0';
        free(x->resp->content_type);
        x->resp->content_type = v;
        v = NULL;
    } else if (header_is(data, nlen, "Location")) {
        free(x->resp->location);
        x->resp->location = v;
        v = NULL;
    } else if (header_is(data, nlen, "Retry-After")) {
        /* RFC 9110 §10.2.3: seconds or an HTTP-date, counted from now. */
        x->resp->retry_after = acme__retry_after_parse(v, time(NULL));
    } else if (header_is(data, nlen, "Link")) {
        /* RFC 8288; RFC 8555 §7.4.2 (alternate chains), §7.5 and §7.6 (up). */
        if (acme__link_parse(&x->links, v) < 0) {
            free(v);
            x->nomem = true;
            return 0;
        }
    } else if (header_is(data, nlen, "Content-Length") && !x->head) {
        /* Refuse an oversized body before the first byte of it arrives. */
        char *end;
        unsigned long long len;

        errno = 0;
        len = strtoull(v, &end, 10);
        if (errno == 0 && *end == '\0' && len > x->t->max_response_size) {
            free(v);
            x->too_big = true;
            return 0;
        }
    }
    free(v);
    return n;
}

static size_t write_cb(char *data, size_t size, size_t nmemb, void *userdata)
{
    xfer *x = userdata;
    size_t n = size * nmemb;

    /* Stop reading as soon as the limit is passed: never buffer the whole thing. */
    if (n > x->t->max_response_size - x->resp->body.len) {
        x->too_big = true;
        return 0;
    }
    if (acme__buf_append(&x->resp->body, data, n) < 0) {
        x->nomem = true;
        return 0;
    }
    return n;
}

/* The host part of @p url, for messages (never the path or the query). */
static char *url_host(const char *url)
{
    CURLU *u = curl_url();
    char *host = NULL, *copy;

    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK)
        curl_url_get(u, CURLUPART_HOST, &host, 0);
    curl_url_cleanup(u);
    copy = acme__strdup(host ? host : "?");
    curl_free(host);
    return copy;
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
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_USE_SSL_FAILED:
        return true;
    default:
        return false;
    }
}

static bool is_http_url(const char *url)
{
    return acme__strncaseeq(url, "http://", 7) || acme__strncaseeq(url, "https://", 8);
}

/* Turn a failed transfer into an error naming the host (not the full URL: it may hold tokens). */
static int transfer_error(acme_error **err, acme__transport *t, const xfer *x, CURLcode rc,
                          const char *url)
{
    char *host;
    const char *why = t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc);
    int code;

    if (x->nomem || rc == CURLE_OUT_OF_MEMORY)
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    if (!(host = url_host(url)))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    if (rc == CURLE_ABORTED_BY_CALLBACK || atomic_load(&t->cancelled)) {
        code = acme_error_set(err, ACME_E_CANCELLED, _("request to %s cancelled"), host);
    } else if (x->too_big) {
        code = acme_error_set(err, ACME_E_PROTOCOL,
                              _("response from %s exceeds the size limit of %zu bytes"), host,
                              t->max_response_size);
    } else if (rc == CURLE_OPERATION_TIMEDOUT) {
        code = acme_error_set(err, ACME_E_TIMEOUT, _("request to %s timed out: %s"), host, why);
    } else if (is_tls_error(rc)) {
        code = acme_error_set(err, ACME_E_TLS, _("TLS error with %s: %s"), host, why);
    } else if (rc == CURLE_WEIRD_SERVER_REPLY ||
               (rc == CURLE_UNSUPPORTED_PROTOCOL && is_http_url(url))) {
        /*
         * Not HTTP: for an http(s) URL, "unsupported protocol" is libcurl
         * refusing an answer without a status line (HTTP/0.9), which is
         * the server's fault, not the caller's URL.
         */
        code = acme_error_set(err, ACME_E_PROTOCOL, _("malformed HTTP answer from %s: %s"), host,
                              why);
    } else if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL) {
        code = acme_error_set(err, ACME_E_INVALID, _("cannot use URL for %s: %s"), host, why);
    } else if (rc == CURLE_PARTIAL_FILE || rc == CURLE_GOT_NOTHING || rc == CURLE_RECV_ERROR ||
               rc == CURLE_SEND_ERROR) {
        /* The server was reached: "cannot reach" would send one looking in the wrong place. */
        code = acme_error_set(err, ACME_E_NETWORK, _("connection to %s broke off: %s"), host,
                              why);
    } else {
        code = acme_error_set(err, ACME_E_NETWORK, _("cannot reach %s: %s"), host, why);
    }
    free(host);
    return code;
}

/* Resolve a URL from a header against the request URL (RFC 3986 §5). */
static char *resolve(const char *base, const char *ref)
{
    CURLU *u = curl_url();
    char *abs = NULL, *copy = NULL;

    if (!u)
        return NULL;
    if (curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_URL, ref, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_URL, &abs, 0) == CURLUE_OK)
        copy = acme__strdup(abs);
    curl_free(abs);
    curl_url_cleanup(u);
    return copy;
}

/* Fill the URL fields of the response from the collected headers. */
static int finish_links(acme__response *r, xfer *x, const char *url)
{
    char *abs;

    if (r->location) {
        if ((abs = resolve(url, r->location))) {
            free(r->location);
            r->location = abs;
        }
    }
    if (x->links.nalternates) {
        if (!(r->alternates = calloc(x->links.nalternates, sizeof(char *))))
            return ACME_E_NOMEM;
        for (size_t i = 0; i < x->links.nalternates; i++)
            if ((abs = resolve(url, x->links.alternates[i])))
                r->alternates[r->nalternates++] = abs;
            else
                ACME__LOGF(x->t->log, ACME_LOG_DEBUG, "ignoring an unusable alternate link");
    }
    if (x->links.up)
        r->link_up = resolve(url, x->links.up);
    return ACME_OK;
}

/* Run the easy handle on the multi handle until done or cancelled. */
static CURLcode run(acme__transport *t)
{
    CURLcode result = CURLE_OK;
    CURLMcode mc;
    CURLMsg *msg;
    int running = 1, left;
    bool done = false;

    if (curl_multi_add_handle(t->multi, t->easy) != CURLM_OK)
        return CURLE_OUT_OF_MEMORY;
    while (!done) {
        if (atomic_load(&t->cancelled)) {
            result = CURLE_ABORTED_BY_CALLBACK;
            break;
        }
        if ((mc = curl_multi_perform(t->multi, &running)) != CURLM_OK) {
            result = mc == CURLM_OUT_OF_MEMORY ? CURLE_OUT_OF_MEMORY : CURLE_FAILED_INIT;
            break;
        }
        while ((msg = curl_multi_info_read(t->multi, &left)))
            if (msg->msg == CURLMSG_DONE) {
                result = msg->data.result;
                done = true;
            }
        if (done || !running)
            break;
        /* Woken early by curl_multi_wakeup() from acme__transport_cancel(). */
        if ((mc = curl_multi_poll(t->multi, NULL, 0, POLL_SLICE_MS, NULL)) != CURLM_OK) {
            result = CURLE_FAILED_INIT;
            break;
        }
    }
    /* Removing an unfinished transfer aborts it (and closes its connection). */
    curl_multi_remove_handle(t->multi, t->easy);
    return result;
}

int acme__http_request(acme__response *resp, acme__transport *t, const char *method,
                       const char *url, const char *body, const char *accept,
                       acme_error **err)
{
    struct curl_slist *headers = NULL, *h;
    xfer x;
    CURLcode rc;
    long status = 0;
    int ret;
    bool post = strcmp(method, "POST") == 0;

    memset(resp, 0, sizeof(*resp));
    resp->retry_after = -1;
    memset(&x, 0, sizeof(x));
    x.t = t;
    x.resp = resp;
    x.head = strcmp(method, "HEAD") == 0;
    if (!url)
        return acme_error_set(err, ACME_E_INVALID, _("no URL for the request"));
    if (atomic_load(&t->cancelled))
        return acme_error_set(err, ACME_E_CANCELLED, "%s", acme_strerror(ACME_E_CANCELLED));

    /*
     * RFC 8555 §6.2: signed requests are application/jose+json.  "Expect:"
     * stops libcurl from waiting for a 100 Continue on larger bodies.
     */
    if (post) {
        if (!(h = curl_slist_append(headers, "Content-Type: application/jose+json")))
            goto nomem;
        headers = h;
        if (!(h = curl_slist_append(headers, "Expect:")))
            goto nomem;
        headers = h;
    }
    if (accept) {
        char *line = acme__asprintf("Accept: %s", accept);

        h = line ? curl_slist_append(headers, line) : NULL;
        free(line);
        if (!h)
            goto nomem;
        headers = h;
    }

    t->errbuf[0] = '\0';
    curl_easy_setopt(t->easy, CURLOPT_URL, url);
    curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(t->easy, CURLOPT_HEADERDATA, &x);
    curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, &x);
    if (x.head) {
        curl_easy_setopt(t->easy, CURLOPT_NOBODY, 1L);
    } else if (post) {
        curl_easy_setopt(t->easy, CURLOPT_NOBODY, 0L);
        curl_easy_setopt(t->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
        curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, body);
    } else {
        curl_easy_setopt(t->easy, CURLOPT_HTTPGET, 1L);
    }

    atomic_fetch_add(&t->requests, 1);
    rc = run(t);
    curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(headers);
    headers = NULL;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    resp->status = status;

    if (acme__log_enabled(t->log, ACME_LOG_DEBUG)) {
        char st[24];
        acme_log_field f[3] = {
            { "method", method }, { "url", url }, { "status", st },
        };

        snprintf(st, sizeof(st), "%ld", status);
        acme__log(t->log, ACME_LOG_DEBUG, f, 3, "HTTP %s %s: %s", method, url,
                  rc == CURLE_OK ? st : curl_easy_strerror(rc));
    }

    if (rc != CURLE_OK || x.too_big || x.nomem) {
        ret = transfer_error(err, t, &x, rc, url);
        acme__link_list_clear(&x.links);
        return ret;
    }
    if (finish_links(resp, &x, url) < 0 || acme__buf_append(&resp->body, "", 0) < 0)
        goto nomem;
    acme__link_list_clear(&x.links);

    if (status < 200 || status > 299)
        return acme__problem_error(err, resp);
    if (accept && (!resp->content_type || strcmp(resp->content_type, accept) != 0)) {
        char *host = url_host(url);

        ret = acme_error_set(err, ACME_E_PROTOCOL,
                             _("unexpected content type %s from %s (expected %s)"),
                             resp->content_type ? resp->content_type : _("(none)"),
                             host ? host : "?", accept);
        free(host);
        return ret;
    }
    return ACME_OK;

nomem:
    curl_slist_free_all(headers);
    acme__link_list_clear(&x.links);
    return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
}

int acme__transport_get(acme__response *resp, acme__transport *t, const char *url,
                        const char *accept, acme_error **err)
{
    return acme__http_request(resp, t, "GET", url, NULL, accept, err);
}

/* ---- cancellation, sleeping, counters ---- */

void acme__transport_cancel(acme__transport *t)
{
    if (!t)
        return;
    atomic_store(&t->cancelled, true);
    /* Wake a transfer waiting in curl_multi_poll() (documented as callable from any thread). */
    curl_multi_wakeup(t->multi);
    pthread_mutex_lock(&t->lock);
    pthread_cond_broadcast(&t->wake);
    pthread_mutex_unlock(&t->lock);
}

void acme__transport_reset_cancel(acme__transport *t)
{
    if (t)
        atomic_store(&t->cancelled, false);
}

bool acme__transport_cancelled(acme__transport *t)
{
    return t && atomic_load(&t->cancelled);
}

int acme__transport_sleep(acme__transport *t, int64_t ms, acme_error **err)
{
    struct timespec deadline;
    int rc = 0;

    if (ms < 0)
        ms = 0;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += (time_t)(ms / 1000);
    deadline.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    /*
     * Wait on the condition variable that acme__transport_cancel()
     * broadcasts, checking the flag under the lock so a cancel between the
     * check and the wait is not lost.
     */
    pthread_mutex_lock(&t->lock);
    while (!atomic_load(&t->cancelled) && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&t->wake, &t->lock, &deadline);
    pthread_mutex_unlock(&t->lock);
    if (atomic_load(&t->cancelled))
        return acme_error_set(err, ACME_E_CANCELLED, "%s", acme_strerror(ACME_E_CANCELLED));
    return ACME_OK;
}

void acme__transport_stats(const acme__transport *t, uint64_t *requests, uint64_t *badnonce)
{
    if (requests)
        *requests = t ? (uint64_t)atomic_load(&t->requests) : 0;
    if (badnonce)
        *badnonce = t ? (uint64_t)atomic_load(&t->badnonce) : 0;
}
