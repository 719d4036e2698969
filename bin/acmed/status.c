/*
 * acmed: status.  The daemon keeps a unix socket, <state_dir>/acmed.sock,
 * and a file, <state_dir>/status.json (rewritten atomically after every
 * event), both describing each name: expiry, next check, failures and
 * the last error.  `acmed status [--json]` asks the socket, prints what
 * it gets, and exits 1 when a name is inside its panic window, 2 when no
 * daemon answers.
 *
 * The socket protocol is one line each way: the client sends "text",
 * "json" or "renew NAME", the daemon answers "<exit code>\n" and the
 * body, then closes.  The daemon does the formatting, so the client
 * parses nothing.
 */
#include "acmed.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define SOCKET_NAME "acmed.sock"
#define STATUS_FILE "status.json"
/* How long the daemon waits for a status client's request line. */
#define CLIENT_TIMEOUT_MS 1000

/* A growable string. */
typedef struct sbuf {
    char *s;
    size_t len, cap;
} sbuf;

static void sb_add(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (b->len + (size_t)n + 1 > b->cap) {
        size_t cap = (b->cap ? b->cap * 2 : 256) + (size_t)n;
        char *g = realloc(b->s, cap);

        if (!g) {
            fputs("acmed: out of memory\n", stderr);
            abort();
        }
        b->s = g;
        b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* A JSON string literal (RFC 8259 §7), or null. */
static void sb_json_str(sbuf *b, const char *s)
{
    if (!s) {
        sb_add(b, "null");
        return;
    }
    sb_add(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            sb_add(b, "\\%c", *p);
        else if (*p == '\n')
            sb_add(b, "\\n");
        else if (*p < 0x20 || *p == 0x7f)
            sb_add(b, "\\u%04x", *p);
        else
            sb_add(b, "%c", *p);
    }
    sb_add(b, "\"");
}

static void fmt_time(char *out, size_t len, time_t t)
{
    struct tm tm;

    if (t <= 0 || !gmtime_r(&t, &tm))
        snprintf(out, len, "-");
    else
        strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

char *acmed_status_format(const acmed_status_entry *e, size_t n, bool json, time_t now,
                          int64_t panic_interval, bool *panicking)
{
    sbuf b = { 0 };
    bool any = false;
    char t1[32], t2[32];

    if (panic_interval <= 0)
        panic_interval = ACME_SERVICE_PANIC_INTERVAL;
    if (json)
        sb_add(&b, "{\"names\":[");
    else if (n == 0)
        sb_add(&b, "no names in the certificate directory\n");
    else
        sb_add(&b, "%-32s %-21s %-21s %s\n", "NAME", "EXPIRES", "NEXT CHECK", "STATE");
    for (size_t i = 0; i < n; i++) {
        /* Inside the panic window: no certificate, expired, or too close. */
        bool panic = e[i].not_after == 0 || e[i].not_after - now <= panic_interval;

        any |= panic;
        fmt_time(t1, sizeof(t1), e[i].not_after);
        fmt_time(t2, sizeof(t2), e[i].next_check);
        if (json) {
            sb_add(&b, "%s{\"name\":", i ? "," : "");
            sb_json_str(&b, e[i].name);
            sb_add(&b, ",\"not_after\":");
            sb_json_str(&b, e[i].not_after ? t1 : NULL);
            sb_add(&b, ",\"next_check\":");
            sb_json_str(&b, e[i].next_check ? t2 : NULL);
            sb_add(&b, ",\"failures\":%u,\"in_flight\":%s,\"issuing\":%s,\"blocked\":%s,"
                       "\"panic\":%s,\"last_error\":",
                   e[i].failures, e[i].in_flight ? "true" : "false",
                   e[i].issuing ? "true" : "false",
                   e[i].blocked ? "true" : "false", panic ? "true" : "false");
            if (e[i].error) {
                sb_add(&b, "{\"message\":");
                sb_json_str(&b, e[i].error);
                sb_add(&b, ",\"problem_type\":");
                sb_json_str(&b, e[i].problem);
                sb_add(&b, "}");
            } else {
                sb_add(&b, "null");
            }
            sb_add(&b, "}");
        } else {
            /* A queued check says nothing yet: the certificate's own state shows. */
            const char *state = e[i].issuing ? "issuing"
                              : e[i].blocked ? "blocked (user action required)"
                              : e[i].not_after == 0 ? "no certificate"
                              : e[i].not_after <= now ? "EXPIRED"
                              : panic ? "PANIC (expires soon)" : "ok";

            sb_add(&b, "%-32s %-21s %-21s %s", e[i].name, t1, t2, state);
            if (e[i].failures)
                sb_add(&b, "; %u failure%s", e[i].failures, e[i].failures == 1 ? "" : "s");
            if (e[i].error)
                sb_add(&b, "; last error: %s", e[i].error);
            sb_add(&b, "\n");
        }
    }
    if (json)
        sb_add(&b, "],\"panicking\":%s}\n", any ? "true" : "false");
    *panicking = any;
    return b.s;
}

char *acmed_status_socket_path(const char *state_dir)
{
    return acmed_printf("%s/%s", state_dir, SOCKET_NAME);
}

int acmed_status_listen(const char *state_dir, acme_error **err)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    char *path = acmed_status_socket_path(state_dir);
    struct stat st;
    int fd;

    if (strlen(path) >= sizeof(sun.sun_path)) {
        acme_error_set(err, ACME_E_INVALID, _("state directory path too long: %s"), state_dir);
        free(path);
        return -1;
    }
    /* The state directory is ours: make it when missing (0755: status is public). */
    if (mkdir(state_dir, 0755) < 0 && errno != EEXIST) {
        acme_error_set(err, ACME_E_IO, _("cannot make %s: %s"), state_dir, strerror(errno));
        free(path);
        return -1;
    }
    memcpy(sun.sun_path, path, strlen(path) + 1);
    /* A socket left by a run that died is replaced; anything else stays. */
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, 8) < 0) {
        acme_error_set(err, ACME_E_IO, _("cannot listen on %s: %s"), path, strerror(errno));
        if (fd >= 0)
            close(fd);
        free(path);
        return -1;
    }
    free(path);
    return fd;
}

void acmed_status_answer(int lfd, acmed *d)
{
    char req[300] = { 0 }, head[8], *nl;
    struct pollfd pfd;
    size_t len = 0;
    bool panicking = false;
    char *body;
    int fd, code;

    fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return;
    pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
    /* A client that sends nothing gets the text form after the timeout. */
    while (len < sizeof(req) - 1 && !memchr(req, '\n', len) &&
           poll(&pfd, 1, CLIENT_TIMEOUT_MS) > 0) {
        ssize_t n = read(fd, req + len, sizeof(req) - 1 - len);

        if (n <= 0)
            break;
        len += (size_t)n;
    }
    if ((nl = strchr(req, '\n')))
        *nl = '\0';
    if (strncmp(req, "renew ", 6) == 0) {
        acme_error *e = NULL;

        if (acmed_renew(d, req + 6, &e) < 0) {
            body = acmed_printf("%s\n", acme_error_message(e));
            acme_error_free(e);
            code = ACMED_EXIT_FAILURE;
        } else {
            body = acmed_printf(_("issuing %s\n"), req + 6);
            code = ACMED_EXIT_OK;
        }
    } else {
        body = acmed_status_render(d, strcmp(req, "json") == 0, &panicking);
        code = panicking ? ACMED_EXIT_FAILURE : ACMED_EXIT_OK;
    }
    snprintf(head, sizeof(head), "%d\n", code);
    /* MSG_NOSIGNAL: a client gone away must not kill the daemon (SIGPIPE). */
    if (send(fd, head, strlen(head), MSG_NOSIGNAL) > 0 && body)
        send(fd, body, strlen(body), MSG_NOSIGNAL);
    free(body);
    close(fd);
}

void acmed_status_write_file(acmed *d, const char *state_dir)
{
    bool panicking;
    char *body = acmed_status_render(d, true, &panicking);
    char *path = acmed_printf("%s/%s", state_dir, STATUS_FILE);
    char *tmp = acmed_printf("%s/.%s.XXXXXX", state_dir, STATUS_FILE);
    int fd = body ? mkostemp(tmp, O_CLOEXEC) : -1;
    size_t len = body ? strlen(body) : 0, off = 0;

    if (fd >= 0) {
        while (off < len) {
            ssize_t w = write(fd, body + off, len - off);

            if (w <= 0)
                break;
            off += (size_t)w;
        }
        fchmod(fd, 0644);
        /* Whole or not at all: readers see the old file or the new one. */
        if (off == len && fsync(fd) == 0 && close(fd) == 0) {
            if (rename(tmp, path) < 0)
                unlink(tmp);
        } else {
            unlink(tmp);
        }
    }
    free(body);
    free(path);
    free(tmp);
}

/* Send @p request to the daemon, print the body; the daemon's exit code. */
static int ask(const char *state_dir, const char *request)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    char *path = acmed_status_socket_path(state_dir), buf[4096];
    size_t rlen = strlen(request);
    sbuf in = { 0 };
    int fd, code;
    ssize_t n;
    char *nl;

    if (strlen(path) >= sizeof(sun.sun_path)) {
        fprintf(stderr, _("acmed: state directory path too long: %s\n"), state_dir);
        free(path);
        return ACMED_EXIT_NOT_RUNNING;
    }
    memcpy(sun.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        fprintf(stderr, _("acmed: the daemon is not running (no answer on %s: %s)\n"), path,
                strerror(errno));
        if (fd >= 0)
            close(fd);
        free(path);
        return ACMED_EXIT_NOT_RUNNING;
    }
    free(path);
    if (send(fd, request, rlen, MSG_NOSIGNAL) != (ssize_t)rlen) {
        close(fd);
        return ACMED_EXIT_NOT_RUNNING;
    }
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        sb_add(&in, "%.*s", (int)n, buf);
    close(fd);
    if (!in.s || !(nl = strchr(in.s, '\n'))) {
        fprintf(stderr, _("acmed: the daemon sent no status\n"));
        free(in.s);
        return ACMED_EXIT_NOT_RUNNING;
    }
    *nl = '\0';
    code = atoi(in.s);
    fputs(nl + 1, stdout);
    free(in.s);
    return code == ACMED_EXIT_FAILURE ? ACMED_EXIT_FAILURE : ACMED_EXIT_OK;
}

int acmed_status_client(const char *state_dir, bool json)
{
    return ask(state_dir, json ? "json\n" : "text\n");
}

int acmed_status_renew_client(const char *state_dir, const char *name)
{
    char *req;
    int rc;

    if (strchr(name, '\n') || strlen(name) > 253) {
        fprintf(stderr, _("acmed: bad name\n"));
        return ACMED_EXIT_USAGE;
    }
    req = acmed_printf("renew %s\n", name);
    rc = ask(state_dir, req);
    free(req);
    return rc;
}
