/*
 * acmed: a static HTTPS file server over the endpoint's connections (what
 * txacme's README ran with `twistd web --path`).
 *
 * One request per connection (HTTP/1.1 with "Connection: close"): GET and
 * HEAD only (405 otherwise), 404 for what is missing or refused, 400 for
 * a malformed request.  The path join is safe: the target is
 * percent-decoded, ".." segments are refused, and the resolved file must
 * lie under the document root's real path, so neither "..", an encoded
 * "%2e%2e" nor a symbolic link leads out of --path.
 */
#include "acmed.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_REQUEST 8192

const char *acmed_content_type(const char *path)
{
    static const struct { const char *ext, *type; } types[] = {
        { "html", "text/html; charset=utf-8" }, { "htm", "text/html; charset=utf-8" },
        { "txt", "text/plain; charset=utf-8" }, { "css", "text/css; charset=utf-8" },
        { "js", "text/javascript; charset=utf-8" }, { "mjs", "text/javascript; charset=utf-8" },
        { "json", "application/json" }, { "xml", "application/xml" },
        { "svg", "image/svg+xml" }, { "png", "image/png" }, { "jpg", "image/jpeg" },
        { "jpeg", "image/jpeg" }, { "gif", "image/gif" }, { "webp", "image/webp" },
        { "ico", "image/vnd.microsoft.icon" }, { "avif", "image/avif" },
        { "woff", "font/woff" }, { "woff2", "font/woff2" }, { "ttf", "font/ttf" },
        { "otf", "font/otf" }, { "pdf", "application/pdf" }, { "wasm", "application/wasm" },
        { "zip", "application/zip" }, { "gz", "application/gzip" },
        { "mp4", "video/mp4" }, { "webm", "video/webm" }, { "mp3", "audio/mpeg" },
        { "md", "text/markdown; charset=utf-8" }, { "pem", "application/x-pem-file" },
    };
    const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');

    if (dot && (!slash || dot > slash + 1))
        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
            if (strcasecmp(dot + 1, types[i].ext) == 0)
                return types[i].type;
    return "application/octet-stream";
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Whether @p path (a realpath) is @p root or under it. */
static bool under(const char *path, const char *root)
{
    size_t n = strlen(root);

    if (strcmp(root, "/") == 0)
        return true;
    return strncmp(path, root, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

int acmed_serve_resolve(char **out, const char *root, const char *target)
{
    char *dec, *joined, *real = NULL, *rel;
    size_t tlen, j = 0, dlen = 0;
    struct stat st;

    *out = NULL;
    if (!target || target[0] != '/')
        return 400;
    tlen = strcspn(target, "?#");
    if (!(dec = malloc(tlen + 1)))
        return 500;
    for (size_t i = 0; i < tlen; i++) {
        char c = target[i];

        if (c == '%') {
            int hi = i + 2 < tlen ? hexval(target[i + 1]) : -1;
            int lo = hi >= 0 ? hexval(target[i + 2]) : -1;

            /* A bad escape, or an encoded NUL. */
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                free(dec);
                return 400;
            }
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if ((unsigned char)c < 0x20 || c == 0x7f || c == '\\') {
            free(dec);
            return 400;
        }
        dec[j++] = c;
    }
    dec[j] = '\0';
    /* Rebuild the path from its segments: "." and empty ones dropped,
     * ".." refused outright (no clamping: a request for it is wrong). */
    if (!(rel = malloc(j + 2))) {
        free(dec);
        return 500;
    }
    rel[0] = '\0';
    for (char *save = NULL, *seg = strtok_r(dec, "/", &save); seg; seg = strtok_r(NULL, "/", &save)) {
        if (strcmp(seg, ".") == 0)
            continue;
        if (strcmp(seg, "..") == 0) {
            free(dec);
            free(rel);
            return 404;
        }
        dlen += (size_t)sprintf(rel + dlen, "/%s", seg);
    }
    free(dec);
    joined = acmed_printf("%s%s", root, rel);
    free(rel);
    if (stat(joined, &st) == 0 && S_ISDIR(st.st_mode)) {
        char *idx = acmed_printf("%s/index.html", joined);

        free(joined);
        joined = idx;
    }
    /* Symbolic links are followed, but only to files under the root. */
    real = realpath(joined, NULL);
    free(joined);
    if (!real || !under(real, root) || stat(real, &st) < 0 || !S_ISREG(st.st_mode)) {
        free(real);
        return 404;
    }
    *out = real;
    return 0;
}

static void send_all(acme_endpoint_conn *conn, const char *buf, size_t len)
{
    acme_error *e = NULL;

    if (acme_endpoint_conn_write(conn, buf, len, &e) < 0)
        acme_error_free(e);
}

static void respond_status(acme_endpoint_conn *conn, int code, bool head)
{
    const char *reason = code == 400 ? "Bad Request" : code == 404 ? "Not Found"
                       : code == 405 ? "Method Not Allowed" : code == 413 ? "Content Too Large"
                       : "Internal Server Error";
    char *body = acmed_printf("%d %s\n", code, reason);
    char *hdr = acmed_printf("HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                             "Content-Length: %zu\r\n%sConnection: close\r\n\r\n",
                             code, reason, strlen(body),
                             code == 405 ? "Allow: GET, HEAD\r\n" : "");

    send_all(conn, hdr, strlen(hdr));
    if (!head)
        send_all(conn, body, strlen(body));
    free(hdr);
    free(body);
}

void acmed_serve_handler(void *userdata, acme_endpoint_conn *conn)
{
    const char *root = userdata;
    char req[MAX_REQUEST + 1], method[16], *target, *sp, *path = NULL;
    size_t len = 0, n;
    acme_error *e = NULL;
    bool head = false;
    int code, fd;
    struct stat st;

    /* Read the request head (the body of a GET or HEAD is not expected). */
    while (len < MAX_REQUEST) {
        if (acme_endpoint_conn_read(&n, conn, req + len, MAX_REQUEST - len, &e) < 0) {
            acme_error_free(e);
            return;
        }
        if (n == 0)
            return;
        len += n;
        req[len] = '\0';
        if (memchr(req, '\0', len)) {
            respond_status(conn, 400, false);
            return;
        }
        if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
            break;
    }
    req[len] = '\0';
    if (len >= MAX_REQUEST && !strstr(req, "\r\n\r\n") && !strstr(req, "\n\n")) {
        respond_status(conn, 413, false);
        return;
    }
    /* The request line: METHOD SP TARGET SP HTTP/1.x */
    sp = strchr(req, ' ');
    if (!sp || (size_t)(sp - req) >= sizeof(method)) {
        respond_status(conn, 400, false);
        return;
    }
    memcpy(method, req, (size_t)(sp - req));
    method[sp - req] = '\0';
    target = sp + 1;
    if (!(sp = strchr(target, ' ')) || strncmp(sp + 1, "HTTP/1.", 7) != 0) {
        respond_status(conn, 400, false);
        return;
    }
    *sp = '\0';
    if (strcmp(method, "HEAD") == 0)
        head = true;
    else if (strcmp(method, "GET") != 0) {
        respond_status(conn, 405, false);
        return;
    }
    if ((code = acmed_serve_resolve(&path, root, target)) != 0) {
        respond_status(conn, code, head);
        return;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0) {
        if (fd >= 0)
            close(fd);
        free(path);
        respond_status(conn, 404, head);
        return;
    }
    {
        char *hdr = acmed_printf("HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %lld\r\n"
                                 "Connection: close\r\n\r\n",
                                 acmed_content_type(path), (long long)st.st_size);

        send_all(conn, hdr, strlen(hdr));
        free(hdr);
    }
    if (!head) {
        char buf[16384];
        ssize_t r;

        while ((r = read(fd, buf, sizeof(buf))) > 0)
            if (acme_endpoint_conn_write(conn, buf, (size_t)r, &e) < 0) {
                acme_error_free(e);
                break;
            }
    }
    close(fd);
    free(path);
    acmed_log(ACME_LOG_DEBUG, "%s %s %s", acme_endpoint_conn_server_name(conn), method, target);
}
