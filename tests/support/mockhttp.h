/*
 * Tests: a small in-process HTTP server on libmicrohttpd, for unit tests
 * that need a CA to talk to (transport, client).
 *
 * It listens on 127.0.0.1 on a free port (bound to port 0), runs one
 * thread per connection, answers each request from a script of canned
 * responses (first in, first out) or, when the script is empty, from a
 * handler callback, and records every request for assertions.
 *
 *     mockhttp *m = mockhttp_new();
 *     mockhttp_push(m, &(mockhttp_response){ .status = 200,
 *         .content_type = "application/json", .body = "{}" });
 *     char *url = mockhttp_url(m, "/dir");
 *     ... the code under test talks to url ...
 *     g_assert_cmpstr(mockhttp_request_get(m, 0)->method, ==, "GET");
 *     g_free(url);
 *     mockhttp_free(m);
 *
 * Failures to start are test failures (g_error), never skips.  Plain HTTP
 * only.  Everything is test code: it uses GLib freely.
 */
#ifndef ACME_TESTS_MOCKHTTP_H
#define ACME_TESTS_MOCKHTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <glib.h>

typedef struct mockhttp mockhttp;

/* One canned answer.  Every member may be left zero. */
typedef struct mockhttp_response {
    unsigned int status;       /* 0: 200 */
    const char *content_type;  /* Content-Type, or NULL for none */
    /*
     * More header lines, "Name: value", separated by '\n'.  A name may
     * repeat (several Link headers).  NULL: none.
     */
    const char *headers;
    const char *body;          /* NULL: empty */
    size_t body_len;           /* 0: strlen(body) */
    /*
     * Non-zero: instead of @c body, stream this many bytes ('x') without a
     * Content-Length (chunked), counting what was produced
     * (mockhttp_streamed()); stops when the client goes away.
     */
    size_t stream_len;
    /*
     * Block before answering until mockhttp_release() or mockhttp_free()
     * (for timeouts and cancellation: no timing involved).
     */
    bool hold;
} mockhttp_response;

/* A request as the server saw it.  Borrowed until mockhttp_free(). */
typedef struct mockhttp_request {
    char *method;              /* "GET", "HEAD", "POST" */
    char *path;                /* "/dir" (without the query) */
    char *query;               /* the raw query after '?', as sent; "" when none */
    char *body;                /* NUL-terminated; "" when none */
    size_t body_len;
    char **header_names;       /* as sent */
    char **header_values;
    size_t nheaders;
    unsigned int connection;   /* which connection carried it: 1, 2, ... in accept order */
    char **query_names;        /* query arguments, %-decoded, in order ("" for a bare name) */
    char **query_values;
    size_t nquery;
} mockhttp_request;

/*
 * Answer a request when the script is empty.  Runs on a server thread
 * (one per connection, so calls may overlap).  Fill @p out; its strings
 * must stay valid until the mock has sent the answer: use static strings
 * or mockhttp_strdup().
 */
typedef void mockhttp_handler(void *userdata, const mockhttp_request *req, mockhttp_response *out);

/* Start a server.  Aborts the test when it cannot. */
mockhttp *mockhttp_new(void);
/* Release every held answer, stop the server, free everything. */
void mockhttp_free(mockhttp *m);

unsigned short mockhttp_port(const mockhttp *m);
/* "http://127.0.0.1:PORT" + @p path; g_free() it. */
char *mockhttp_url(const mockhttp *m, const char *path);

/* Append an answer to the script (the mock copies it). */
void mockhttp_push(mockhttp *m, const mockhttp_response *r);
/* Push @p n copies of @p r. */
void mockhttp_push_n(mockhttp *m, const mockhttp_response *r, size_t n);
void mockhttp_set_handler(mockhttp *m, mockhttp_handler *fn, void *userdata);
/* A printf-formatted string that lives as long as the mock (for handlers). */
const char *mockhttp_strdup(mockhttp *m, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* Requests received so far (complete ones: the body has arrived). */
size_t mockhttp_request_count(mockhttp *m);
const mockhttp_request *mockhttp_request_get(mockhttp *m, size_t i);
/* The first header named @p name (case-insensitive), or NULL. */
const char *mockhttp_request_header(const mockhttp_request *r, const char *name);

/* The first query argument named @p name (%-decoded), or NULL. */
const char *mockhttp_request_query(const mockhttp_request *r, const char *name);

/* TCP connections accepted so far. */
unsigned int mockhttp_connection_count(mockhttp *m);
/* Bytes produced so far by stream_len answers. */
size_t mockhttp_streamed(mockhttp *m);

/* Wait until @p n answers in total have started holding. */
void mockhttp_wait_held(mockhttp *m, unsigned int n);
/* Let every answer that holds now go on. */
void mockhttp_release(mockhttp *m);

#endif
