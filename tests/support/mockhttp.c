/*
 * Tests: the in-process mock HTTP server (see mockhttp.h), on
 * libmicrohttpd with one thread per connection so that a held answer
 * blocks only its own connection.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "support/mockhttp.h"

#if MHD_VERSION < 0x00097002
typedef int MHD_RESULT;
#else
typedef enum MHD_Result MHD_RESULT;
#endif

struct mockhttp {
    struct MHD_Daemon *daemon;
    unsigned short port;

    /*
     * pthread primitives, not GMutex/GCond: GLib's futex-based locks are
     * invisible to ThreadSanitizer, which CI runs.
     */
    pthread_mutex_t lock;
    pthread_cond_t cond;         /* signalled on hold, release and stop */
    GQueue script;               /* of mockhttp_response *, guarded by lock */
    GPtrArray *requests;         /* of mockhttp_request *, guarded by lock */
    GPtrArray *strings;          /* mockhttp_strdup(), guarded by lock */
    mockhttp_handler *handler;   /* guarded by lock */
    void *handler_data;
    unsigned int connections;    /* guarded by lock */
    unsigned int held;           /* answers that started holding, guarded by lock */
    unsigned int release_gen;    /* bumped by mockhttp_release(), guarded by lock */
    bool stopping;               /* guarded by lock */
    atomic_size_t streamed;
};

/* A request being received: its record is in m->requests only once complete. */
typedef struct pending {
    mockhttp_request *req;
    GByteArray *body;
    char *uri;                   /* the raw request target (with the query) */
} pending;

typedef struct stream_ctx {
    mockhttp *m;
    size_t left;
} stream_ctx;

static mockhttp_response *response_copy(const mockhttp_response *r)
{
    mockhttp_response *c = g_new0(mockhttp_response, 1);

    *c = *r;
    c->content_type = g_strdup(r->content_type);
    c->headers = g_strdup(r->headers);
    if (r->body) {
        c->body_len = r->body_len ? r->body_len : strlen(r->body);
        c->body = g_malloc(c->body_len + 1);
        memcpy((char *)c->body, r->body, c->body_len);
        ((char *)c->body)[c->body_len] = '\0';
    }
    return c;
}

static void response_free(mockhttp_response *r)
{
    if (!r)
        return;
    g_free((char *)r->content_type);
    g_free((char *)r->headers);
    g_free((char *)r->body);
    g_free(r);
}

static void request_free(gpointer p)
{
    mockhttp_request *r = p;

    g_free(r->method);
    g_free(r->path);
    g_free(r->query);
    g_free(r->body);
    for (size_t i = 0; i < r->nheaders; i++) {
        g_free(r->header_names[i]);
        g_free(r->header_values[i]);
    }
    g_free(r->header_names);
    g_free(r->header_values);
    for (size_t i = 0; i < r->nquery; i++) {
        g_free(r->query_names[i]);
        g_free(r->query_values[i]);
    }
    g_free(r->query_names);
    g_free(r->query_values);
    g_free(r);
}

static MHD_RESULT collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    mockhttp_request *r = cls;

    (void)kind;
    r->header_names = g_renew(char *, r->header_names, r->nheaders + 1);
    r->header_values = g_renew(char *, r->header_values, r->nheaders + 1);
    r->header_names[r->nheaders] = g_strdup(key);
    r->header_values[r->nheaders] = g_strdup(value ? value : "");
    r->nheaders++;
    return MHD_YES;
}

static MHD_RESULT collect_query(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    mockhttp_request *r = cls;

    (void)kind;
    r->query_names = g_renew(char *, r->query_names, r->nquery + 1);
    r->query_values = g_renew(char *, r->query_values, r->nquery + 1);
    r->query_names[r->nquery] = g_strdup(key);
    r->query_values[r->nquery] = g_strdup(value ? value : "");
    r->nquery++;
    return MHD_YES;
}

static void notify_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                              enum MHD_ConnectionNotificationCode toe)
{
    mockhttp *m = cls;

    (void)conn;
    if (toe != MHD_CONNECTION_NOTIFY_STARTED)
        return;
    pthread_mutex_lock(&m->lock);
    *socket_context = GUINT_TO_POINTER(++m->connections);
    pthread_mutex_unlock(&m->lock);
}

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    stream_ctx *s = cls;
    size_t n = s->left < max ? s->left : max;

    (void)pos;
    if (n == 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    memset(buf, 'x', n);
    s->left -= n;
    atomic_fetch_add(&s->m->streamed, n);
    return (ssize_t)n;
}

static struct MHD_Response *build_response(mockhttp *m, const mockhttp_response *r)
{
    struct MHD_Response *resp;

    if (r->stream_len) {
        stream_ctx *s = g_new0(stream_ctx, 1);

        s->m = m;
        s->left = r->stream_len;
        resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, stream_reader, s,
                                                 g_free);
    } else {
        size_t len = r->body ? (r->body_len ? r->body_len : strlen(r->body)) : 0;

        resp = MHD_create_response_from_buffer(len, (void *)(r->body ? r->body : ""),
                                               MHD_RESPMEM_MUST_COPY);
    }
    g_assert_nonnull(resp);
    if (r->content_type)
        MHD_add_response_header(resp, "Content-Type", r->content_type);
    if (r->headers) {
        char **lines = g_strsplit(r->headers, "\n", -1);

        for (char **l = lines; *l; l++) {
            char *colon = strchr(*l, ':');

            if (!colon)
                continue;
            *colon = '\0';
            g_assert_true(MHD_add_response_header(resp, g_strstrip(*l), g_strstrip(colon + 1)));
        }
        g_strfreev(lines);
    }
    return resp;
}

/* Runs first for each request: keep the raw target, whose query access_cb never sees. */
static void *uri_log(void *cls, const char *uri, struct MHD_Connection *conn)
{
    pending *p = g_new0(pending, 1);

    (void)cls, (void)conn;
    p->uri = g_strdup(uri ? uri : "");
    return p;
}

static MHD_RESULT access_cb(void *cls, struct MHD_Connection *conn, const char *url,
                            const char *method, const char *version, const char *upload_data,
                            size_t *upload_data_size, void **con_cls)
{
    mockhttp *m = cls;
    pending *p = *con_cls;
    mockhttp_response *scripted = NULL, handled = { 0 };
    const mockhttp_response *answer;
    struct MHD_Response *resp;
    const union MHD_ConnectionInfo *ci;
    MHD_RESULT ret;

    (void)version;
    if (!p || !p->req) {
        /* First call: the headers are in. */
        const char *q;

        if (!p)
            p = g_new0(pending, 1);
        q = p->uri ? strchr(p->uri, '?') : NULL;
        p->req = g_new0(mockhttp_request, 1);
        p->req->method = g_strdup(method);
        p->req->path = g_strdup(url);
        p->req->query = g_strdup(q ? q + 1 : "");
        p->body = g_byte_array_new();
        MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, p->req);
        MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_query, p->req);
        ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        p->req->connection = ci ? GPOINTER_TO_UINT(ci->socket_context) : 0;
        *con_cls = p;
        return MHD_YES;
    }
    if (*upload_data_size) {
        g_byte_array_append(p->body, (const guint8 *)upload_data, (guint)*upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }

    /* The whole request is in: record it, then answer. */
    p->req->body_len = p->body->len;
    g_byte_array_append(p->body, (const guint8 *)"", 1);
    p->req->body = (char *)g_byte_array_free(p->body, FALSE);
    p->body = NULL;

    pthread_mutex_lock(&m->lock);
    g_ptr_array_add(m->requests, p->req);
    scripted = g_queue_pop_head(&m->script);
    if (!scripted && m->handler) {
        mockhttp_handler *fn = m->handler;
        void *ud = m->handler_data;

        pthread_mutex_unlock(&m->lock);
        fn(ud, p->req, &handled);
        pthread_mutex_lock(&m->lock);
        answer = &handled;
    } else if (scripted) {
        answer = scripted;
    } else {
        handled.status = 500;
        handled.content_type = "text/plain";
        handled.body = "mockhttp: no scripted answer left\n";
        answer = &handled;
    }
    if (answer->hold && !m->stopping) {
        unsigned int gen = m->release_gen;

        m->held++;
        pthread_cond_broadcast(&m->cond);
        while (gen == m->release_gen && !m->stopping)
            pthread_cond_wait(&m->cond, &m->lock);
    }
    pthread_mutex_unlock(&m->lock);
    g_free(p->uri);
    g_free(p);
    *con_cls = NULL;

    resp = build_response(m, answer);
    ret = MHD_queue_response(conn, answer->status ? answer->status : 200, resp);
    MHD_destroy_response(resp);
    response_free(scripted);
    return ret;
}

/* A request that never completed (the client went away): free what was collected. */
static void request_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                              enum MHD_RequestTerminationCode toe)
{
    pending *p = *con_cls;

    (void)cls, (void)conn, (void)toe;
    if (!p)
        return;
    if (p->req)
        request_free(p->req);
    g_free(p->uri);
    if (p->body)
        g_byte_array_free(p->body, TRUE);
    g_free(p);
    *con_cls = NULL;
}

mockhttp *mockhttp_new(void)
{
    mockhttp *m = g_new0(mockhttp, 1);
    struct sockaddr_in sin;
    const union MHD_DaemonInfo *di;

    pthread_mutex_init(&m->lock, NULL);
    pthread_cond_init(&m->cond, NULL);
    g_queue_init(&m->script);
    m->requests = g_ptr_array_new_with_free_func(request_free);
    m->strings = g_ptr_array_new_with_free_func(g_free);

    /* Loopback only, port 0: the kernel picks a free port, so tests can run in parallel. */
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = 0;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    m->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
                                 0, NULL, NULL, access_cb, m,
                                 MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
                                 MHD_OPTION_NOTIFY_CONNECTION, notify_connection, m,
                                 MHD_OPTION_NOTIFY_COMPLETED, request_completed, m,
                                 MHD_OPTION_URI_LOG_CALLBACK, uri_log, m,
                                 MHD_OPTION_END);
    if (!m->daemon)
        g_error("mockhttp: cannot start libmicrohttpd on 127.0.0.1");
    di = MHD_get_daemon_info(m->daemon, MHD_DAEMON_INFO_BIND_PORT);
    if (!di || !di->port)
        g_error("mockhttp: cannot learn the listening port");
    m->port = di->port;
    return m;
}

void mockhttp_free(mockhttp *m)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->lock);
    m->stopping = true;
    pthread_cond_broadcast(&m->cond);
    pthread_mutex_unlock(&m->lock);
    MHD_stop_daemon(m->daemon);
    g_queue_clear_full(&m->script, (GDestroyNotify)response_free);
    g_ptr_array_free(m->requests, TRUE);
    g_ptr_array_free(m->strings, TRUE);
    pthread_cond_destroy(&m->cond);
    pthread_mutex_destroy(&m->lock);
    g_free(m);
}

unsigned short mockhttp_port(const mockhttp *m)
{
    return m->port;
}

char *mockhttp_url(const mockhttp *m, const char *path)
{
    return g_strdup_printf("http://127.0.0.1:%u%s", (unsigned int)m->port, path ? path : "");
}

void mockhttp_push(mockhttp *m, const mockhttp_response *r)
{
    mockhttp_response *c = response_copy(r);

    pthread_mutex_lock(&m->lock);
    g_queue_push_tail(&m->script, c);
    pthread_mutex_unlock(&m->lock);
}

void mockhttp_push_n(mockhttp *m, const mockhttp_response *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        mockhttp_push(m, r);
}

void mockhttp_set_handler(mockhttp *m, mockhttp_handler *fn, void *userdata)
{
    pthread_mutex_lock(&m->lock);
    m->handler = fn;
    m->handler_data = userdata;
    pthread_mutex_unlock(&m->lock);
}

const char *mockhttp_strdup(mockhttp *m, const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    s = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&m->lock);
    g_ptr_array_add(m->strings, s);
    pthread_mutex_unlock(&m->lock);
    return s;
}

size_t mockhttp_request_count(mockhttp *m)
{
    size_t n;

    pthread_mutex_lock(&m->lock);
    n = m->requests->len;
    pthread_mutex_unlock(&m->lock);
    return n;
}

const mockhttp_request *mockhttp_request_get(mockhttp *m, size_t i)
{
    const mockhttp_request *r;

    pthread_mutex_lock(&m->lock);
    g_assert_cmpuint(i, <, m->requests->len);
    r = g_ptr_array_index(m->requests, i);
    pthread_mutex_unlock(&m->lock);
    return r;
}

const char *mockhttp_request_header(const mockhttp_request *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (g_ascii_strcasecmp(r->header_names[i], name) == 0)
            return r->header_values[i];
    return NULL;
}

const char *mockhttp_request_query(const mockhttp_request *r, const char *name)
{
    for (size_t i = 0; i < r->nquery; i++)
        if (strcmp(r->query_names[i], name) == 0)
            return r->query_values[i];
    return NULL;
}

unsigned int mockhttp_connection_count(mockhttp *m)
{
    unsigned int n;

    pthread_mutex_lock(&m->lock);
    n = m->connections;
    pthread_mutex_unlock(&m->lock);
    return n;
}

size_t mockhttp_streamed(mockhttp *m)
{
    return atomic_load(&m->streamed);
}

void mockhttp_wait_held(mockhttp *m, unsigned int n)
{
    pthread_mutex_lock(&m->lock);
    while (m->held < n)
        pthread_cond_wait(&m->cond, &m->lock);
    pthread_mutex_unlock(&m->lock);
}

void mockhttp_release(mockhttp *m)
{
    pthread_mutex_lock(&m->lock);
    m->release_gen++;
    pthread_cond_broadcast(&m->cond);
    pthread_mutex_unlock(&m->lock);
}
