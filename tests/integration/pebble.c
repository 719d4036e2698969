/*
 * tests/integration: the Pebble harness (see pebble.h).
 *
 * Layer: tests only.  Runs Pebble and pebble-challtestsrv as child
 * processes on free loopback ports, talks to their management APIs with
 * libcurl.  The test responders are in pebble-responder.c.
 * GLib is fine here: it is a test-only dependency.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
# include <sys/prctl.h>
#endif
#include <arpa/inet.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <curl/curl.h>
#include <json-c/json.h>

#include "pebble.h"

/*
 * How long Pebble may take to answer its directory after it is started:
 * 20 s, or $PEBBLE_START_TIMEOUT seconds (for slow runs, e.g. valgrind).
 */
#define START_DEADLINE_S 20
/*
 * Timeout of one management request.  Generous: the servers are local, so
 * it only matters when something hangs, and a TLS handshake under valgrind
 * on a busy machine can take seconds.
 */
#define REQUEST_TIMEOUT_MS 60000
/* Ports each start needs: listen, management, httpPort, tlsPort, dns01, cts management. */
#define NPORTS 6
/* A start is tried again with new ports when one was taken in between. */
#define START_ATTEMPTS 3

/* ------------------------------------------------------------------ */
/* Small helpers                                                        */
/* ------------------------------------------------------------------ */

/* The program to run: $VAR when set and not empty, else @p name; NULL when not executable. */
static char *find_program(const char *envvar, const char *name)
{
    const char *v = g_getenv(envvar);

    if (v != NULL && *v != '\0')
        return g_find_program_in_path(v);
    return g_find_program_in_path(name);
}

/*
 * Free loopback ports: bind 127.0.0.1:0 for each while holding all of them,
 * so the ports of one Pebble are distinct, then close them for the children
 * to bind.  Another process could take one in between; pebble_start()
 * retries with new ports when a child fails to bind.
 */
static bool pick_ports(unsigned int *ports, size_t n)
{
    int fds[NPORTS];
    size_t i, opened = 0;
    bool ok = true;

    g_assert(n <= NPORTS);
    for (i = 0; i < n && ok; i++) {
        struct sockaddr_in sa;
        socklen_t len = sizeof(sa);

        fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fds[i] < 0) {
            ok = false;
            break;
        }
        opened++;
        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sa.sin_port = 0;
        if (bind(fds[i], (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
            getsockname(fds[i], (struct sockaddr *)&sa, &len) != 0)
            ok = false;
        else
            ports[i] = ntohs(sa.sin_port);
    }
    for (i = 0; i < opened; i++)
        close(fds[i]);
    return ok;
}

/* The child dies with the test program, even when the program crashes. */
static void child_setup(gpointer data)
{
    (void)data;
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
}

/* Run a program to completion; true when it exited 0.  Output goes to log_fd. */
static bool run_sync(char **argv, int log_fd, GError **error)
{
    GPid pid;
    int status;

    if (!g_spawn_async_with_fds(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                                child_setup, NULL, &pid, -1, log_fd, log_fd, error))
        return false;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        g_set_error(error, G_SPAWN_EXIT_ERROR, 1, "%s failed (status %d)", argv[0], status);
        return false;
    }
    return true;
}

/* Whether something accepts TCP connections on 127.0.0.1:@p port. */
static bool port_open(unsigned int port)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool open_ = false;

    if (fd < 0)
        return false;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)port);
    open_ = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    close(fd);
    return open_;
}

/* Whether child @p pid has exited (and reap it); *pid is then set to 0. */
static bool child_exited(pid_t *pid)
{
    int status;

    if (*pid <= 0)
        return true;
    if (waitpid(*pid, &status, WNOHANG) == *pid) {
        *pid = 0;
        return true;
    }
    return false;
}

static void kill_child(pid_t *pid)
{
    int status;

    if (*pid <= 0)
        return;
    /* SIGKILL: nothing of theirs needs a clean shutdown, and it cannot hang. */
    kill(*pid, SIGKILL);
    while (waitpid(*pid, &status, 0) < 0 && errno == EINTR)
        ;
    *pid = 0;
}

static void rm_rf(const char *path)
{
    GDir *d;
    const char *name;

    if (path == NULL)
        return;
    d = g_dir_open(path, 0, NULL);
    if (d != NULL) {
        while ((name = g_dir_read_name(d)) != NULL) {
            char *child = g_build_filename(path, name, NULL);

            if (g_file_test(child, G_FILE_TEST_IS_DIR) &&
                !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
                rm_rf(child);
            else
                g_unlink(child);
            g_free(child);
        }
        g_dir_close(d);
    }
    g_rmdir(path);
}

void pebble_print_log_tail(const pebble *p, int lines)
{
    char *text = NULL;
    size_t len = 0;
    const char *start;
    int seen = 0;

    if (p == NULL || p->log_path == NULL ||
        !g_file_get_contents(p->log_path, &text, &len, NULL)) {
        g_printerr("pebble harness: no log\n");
        return;
    }
    start = text + len;
    while (start > text) {
        if (start[-1] == '\n' && start != text + len && ++seen > lines)
            break;
        start--;
    }
    g_printerr("pebble harness: last lines of %s:\n%s\n", p->log_path, start);
    g_free(text);
}

static void pebble_free_fields(pebble *p)
{
    size_t i;

    for (i = 0; i < PEBBLE_MAX_ROOTS; i++)
        g_free(p->root_cache[i]);
    pthread_mutex_destroy(&p->cache_lock);
    g_free(p->tmpdir);
    g_free(p->log_path);
    g_free(p->directory_url);
    g_free(p->ca_file);
    g_free(p->management_url);
    g_free(p->challtestsrv_url);
    g_free(p->eab_kid);
    g_free(p->eab_hmac_key);
    g_free(p->dns_server_copy);
}

/* A hard error: tell why, show the log, clean up, exit 99 (automake: ERROR). */
G_GNUC_NORETURN static void fail(pebble *p, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void fail(pebble *p, const char *fmt, ...)
{
    va_list ap;
    char *msg;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_printerr("pebble harness: %s\n", msg);
    g_print("Bail out! pebble harness: %s\n", msg);
    g_free(msg);
    if (p != NULL) {
        kill_child(&p->pebble_pid);
        kill_child(&p->cts_pid);
        pebble_print_log_tail(p, 30);
        rm_rf(p->tmpdir);
    }
    exit(99);
}

/*
 * A failed g_assert aborts the test program without pebble_stop(): the
 * abort handler kills the children and prints the tail of each live
 * Pebble's log (with async-signal-safe calls only), and keeps the
 * temporary directory for a look.
 */
#define MAX_LIVE 16
static pebble *volatile live[MAX_LIVE];

static void write_str(const char *s)
{
    ssize_t r = write(STDERR_FILENO, s, strlen(s));

    (void)r;
}

static void on_abort(int sig)
{
    static char buf[4096];
    size_t i;

    for (i = 0; i < MAX_LIVE; i++) {
        pebble *p = live[i];
        ssize_t n;
        int fd;

        if (p == NULL)
            continue;
        if (p->pebble_pid > 0)
            kill(p->pebble_pid, SIGKILL);
        if (p->cts_pid > 0)
            kill(p->cts_pid, SIGKILL);
        write_str("pebble harness: test aborted; end of ");
        write_str(p->log_path);
        write_str(" (directory kept):\n");
        fd = open(p->log_path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        if (lseek(fd, -(off_t)sizeof(buf), SEEK_END) < 0)
            lseek(fd, 0, SEEK_SET);
        n = read(fd, buf, sizeof(buf));
        if (n > 0) {
            ssize_t w = write(STDERR_FILENO, buf, (size_t)n);

            (void)w;
        }
        close(fd);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static void set_live(pebble *p, bool on)
{
    static bool installed;
    size_t i;

    if (!installed) {
        struct sigaction sa;

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_abort;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGABRT, &sa, NULL);
        installed = true;
    }
    for (i = 0; i < MAX_LIVE; i++) {
        if (on && live[i] == NULL) {
            live[i] = p;
            return;
        }
        if (!on && live[i] == p) {
            live[i] = NULL;
            return;
        }
    }
}

/* ------------------------------------------------------------------ */
/* HTTP with libcurl                                                    */
/* ------------------------------------------------------------------ */

static size_t collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    g_string_append_len(userdata, ptr, (gssize)(size * nmemb));
    return size * nmemb;
}

/*
 * One HTTP request.  @p body NULL: GET; else POST with a JSON body.
 * Returns the HTTP status (0 when the request failed) and the body.
 */
static long http_request(const char *url, const char *body, const char *ca_file,
                         long timeout_ms, char **out)
{
    CURL *h = curl_easy_init();
    GString *resp = g_string_new(NULL);
    struct curl_slist *hdrs = NULL;
    long status = 0;

    if (h == NULL) {
        g_string_free(resp, TRUE);
        if (out != NULL)
            *out = NULL;
        return 0;
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
    if (ca_file != NULL)
        curl_easy_setopt(h, CURLOPT_CAINFO, ca_file);
    if (body != NULL) {
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    }
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    if (out != NULL)
        *out = g_string_free(resp, FALSE);
    else
        g_string_free(resp, TRUE);
    return status;
}

/* POST a JSON object of string members (NULL-terminated key, value pairs) to challtestsrv. */
static bool cts_post(const pebble *p, const char *endpoint, ...)
{
    json_object *o = json_object_new_object();
    const char *k, *v;
    char *url;
    long status;
    va_list ap;

    va_start(ap, endpoint);
    while ((k = va_arg(ap, const char *)) != NULL) {
        v = va_arg(ap, const char *);
        json_object_object_add(o, k, json_object_new_string(v));
    }
    va_end(ap);
    url = g_strdup_printf("%s/%s", p->challtestsrv_url, endpoint);
    status = http_request(url, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
                          NULL, REQUEST_TIMEOUT_MS, NULL);
    if (status != 200)
        g_printerr("pebble harness: POST %s answered %ld\n", url, status);
    g_free(url);
    json_object_put(o);
    return status == 200;
}

bool pebble_cts_add_http01(const pebble *p, const char *token, const char *content)
{
    return cts_post(p, "add-http01", "token", token, "content", content, NULL);
}

bool pebble_cts_del_http01(const pebble *p, const char *token)
{
    return cts_post(p, "del-http01", "token", token, NULL);
}

bool pebble_cts_set_txt(const pebble *p, const char *host, const char *value)
{
    return cts_post(p, "set-txt", "host", host, "value", value, NULL);
}

bool pebble_cts_clear_txt(const pebble *p, const char *host)
{
    return cts_post(p, "clear-txt", "host", host, NULL);
}

bool pebble_cts_add_tlsalpn01(const pebble *p, const char *host, const char *content)
{
    return cts_post(p, "add-tlsalpn01", "host", host, "content", content, NULL);
}

bool pebble_cts_del_tlsalpn01(const pebble *p, const char *host)
{
    return cts_post(p, "del-tlsalpn01", "host", host, NULL);
}

bool pebble_cts_add_a(const pebble *p, const char *host, const char *addr)
{
    json_object *o = json_object_new_object();
    json_object *addrs = json_object_new_array();
    char *url;
    long status;

    /* add-a takes a list of addresses, not one string. */
    json_object_array_add(addrs, json_object_new_string(addr));
    json_object_object_add(o, "host", json_object_new_string(host));
    json_object_object_add(o, "addresses", addrs);
    url = g_strdup_printf("%s/add-a", p->challtestsrv_url);
    status = http_request(url, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
                          NULL, REQUEST_TIMEOUT_MS, NULL);
    g_free(url);
    json_object_put(o);
    return status == 200;
}

char *pebble_http_get(const char *url, const char *ca_file, long *status)
{
    char *body = NULL;
    long st = http_request(url, NULL, ca_file, REQUEST_TIMEOUT_MS, &body);

    if (status != NULL)
        *status = st;
    if (st == 0) {
        g_free(body);
        return NULL;
    }
    return body;
}

char *pebble_mgmt_get(const pebble *p, const char *path, long *status)
{
    char *url = g_strdup_printf("%s%s", p->management_url, path);
    char *body = NULL;
    long st = http_request(url, NULL, p->ca_file, REQUEST_TIMEOUT_MS, &body);

    g_free(url);
    if (status != NULL)
        *status = st;
    if (st != 200) {
        g_free(body);
        return NULL;
    }
    return body;
}

char *pebble_root_pem(const pebble *p, int n)
{
    pebble *mp = (pebble *)p; /* the cache is not part of p's observable state */
    char *path, *pem;

    /* Roots never change while Pebble runs: fetch each once. */
    if (n >= 0 && n < PEBBLE_MAX_ROOTS) {
        pthread_mutex_lock(&mp->cache_lock);
        pem = g_strdup(mp->root_cache[n]);
        pthread_mutex_unlock(&mp->cache_lock);
        if (pem != NULL)
            return pem;
    }
    path = g_strdup_printf("/roots/%d", n);
    pem = pebble_mgmt_get(p, path, NULL);
    g_free(path);
    if (pem != NULL && n >= 0 && n < PEBBLE_MAX_ROOTS) {
        pthread_mutex_lock(&mp->cache_lock);
        if (mp->root_cache[n] == NULL)
            mp->root_cache[n] = g_strdup(pem);
        pthread_mutex_unlock(&mp->cache_lock);
    }
    return pem;
}

char *pebble_intermediate_pem(const pebble *p, int n)
{
    char *path = g_strdup_printf("/intermediates/%d", n);
    char *pem = pebble_mgmt_get(p, path, NULL);

    g_free(path);
    return pem;
}

char *pebble_cert_status(const pebble *p, const char *serial_hex)
{
    char *path = g_strdup_printf("/cert-status-by-serial/%s", serial_hex);
    char *body = pebble_mgmt_get(p, path, NULL);
    json_object *o, *st;
    char *status = NULL;

    g_free(path);
    if (body == NULL)
        return NULL;
    o = json_tokener_parse(body);
    if (o != NULL && json_object_object_get_ex(o, "Status", &st) &&
        json_object_is_type(st, json_type_string))
        status = g_strdup(json_object_get_string(st));
    json_object_put(o);
    g_free(body);
    return status;
}

/* ------------------------------------------------------------------ */
/* Start and stop                                                       */
/* ------------------------------------------------------------------ */

/*
 * The throwaway CA and Pebble's localhost / 127.0.0.1 certificate, with
 * certtool: Debian's package lacks upstream's test certificates.
 */
static void make_tls_files(pebble *p, const char *certtool)
{
    char *log_path = g_build_filename(p->tmpdir, "certtool.log", NULL);
    int log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

    if (log_fd < 0)
        fail(p, "cannot open %s: %s", log_path, g_strerror(errno));
    char *ca_key = g_build_filename(p->tmpdir, "ca-key.pem", NULL);
    char *ca_tmpl = g_build_filename(p->tmpdir, "ca.tmpl", NULL);
    char *srv_key = g_build_filename(p->tmpdir, "key.pem", NULL);
    char *srv_tmpl = g_build_filename(p->tmpdir, "srv.tmpl", NULL);
    char *srv_cert = g_build_filename(p->tmpdir, "cert.pem", NULL);
    GError *error = NULL;

    p->ca_file = g_build_filename(p->tmpdir, "ca.pem", NULL);
    if (!g_file_set_contents(ca_tmpl,
                             "cn = \"libacme test harness CA\"\n"
                             "ca\ncert_signing_key\ncrl_signing_key\n"
                             "expiration_days = 7\n", -1, &error) ||
        !g_file_set_contents(srv_tmpl,
                             "cn = \"localhost\"\n"
                             "dns_name = \"localhost\"\n"
                             "ip_address = \"127.0.0.1\"\n"
                             "tls_www_server\nsigning_key\n"
                             "expiration_days = 7\n", -1, &error))
        fail(p, "cannot write templates: %s", error->message);
    {
        char *a1[] = { (char *)certtool, "--generate-privkey", "--key-type=ecdsa",
                       "--no-text", "--outfile", ca_key, NULL };
        char *a2[] = { (char *)certtool, "--generate-self-signed", "--load-privkey", ca_key,
                       "--template", ca_tmpl, "--no-text", "--outfile", p->ca_file, NULL };
        char *a3[] = { (char *)certtool, "--generate-privkey", "--key-type=ecdsa",
                       "--no-text", "--outfile", srv_key, NULL };
        char *a4[] = { (char *)certtool, "--generate-certificate", "--load-privkey", srv_key,
                       "--load-ca-certificate", p->ca_file, "--load-ca-privkey", ca_key,
                       "--template", srv_tmpl, "--no-text", "--outfile", srv_cert, NULL };

        if (!run_sync(a1, log_fd, &error) || !run_sync(a2, log_fd, &error) ||
            !run_sync(a3, log_fd, &error) || !run_sync(a4, log_fd, &error)) {
            char *text = NULL;

            g_file_get_contents(log_path, &text, NULL, NULL);
            g_printerr("%s\n", text != NULL ? text : "");
            g_free(text);
            fail(p, "certtool (%s): %s", certtool, error->message);
        }
    }
    close(log_fd);
    g_free(log_path);
    g_free(ca_key);
    g_free(ca_tmpl);
    g_free(srv_key);
    g_free(srv_tmpl);
    g_free(srv_cert);
}

/* 32 random bytes, base64url without padding: an EAB MAC key as CAs hand them out. */
static char *random_b64url(void)
{
    guint8 raw[32];
    char *b64, *c;
    size_t i;

    for (i = 0; i < sizeof(raw); i++)
        raw[i] = (guint8)g_random_int_range(0, 256);
    b64 = g_base64_encode(raw, sizeof(raw));
    for (c = b64; *c != '\0'; c++) {
        if (*c == '+')
            *c = '-';
        else if (*c == '/')
            *c = '_';
        else if (*c == '=')
            *c = '\0';
    }
    return b64;
}

static void write_config(pebble *p, const pebble_options *o, const char *path)
{
    json_object *root = json_object_new_object();
    json_object *pb = json_object_new_object();
    char *addr;
    GError *error = NULL;

    addr = g_strdup_printf("127.0.0.1:%u", p->listen_port);
    json_object_object_add(pb, "listenAddress", json_object_new_string(addr));
    g_free(addr);
    addr = g_strdup_printf("127.0.0.1:%u", p->management_port);
    json_object_object_add(pb, "managementListenAddress", json_object_new_string(addr));
    g_free(addr);
    addr = g_build_filename(p->tmpdir, "cert.pem", NULL);
    json_object_object_add(pb, "certificate", json_object_new_string(addr));
    g_free(addr);
    addr = g_build_filename(p->tmpdir, "key.pem", NULL);
    json_object_object_add(pb, "privateKey", json_object_new_string(addr));
    g_free(addr);
    json_object_object_add(pb, "httpPort", json_object_new_int((int)p->http_port));
    json_object_object_add(pb, "tlsPort", json_object_new_int((int)p->tls_port));
    json_object_object_add(pb, "ocspResponderURL", json_object_new_string(""));
    json_object_object_add(pb, "externalAccountBindingRequired", json_object_new_boolean(o->eab));
    if (o->eab) {
        json_object *keys = json_object_new_object();

        p->eab_kid = g_strdup("kid-libacme-1");
        p->eab_hmac_key = random_b64url();
        json_object_object_add(keys, p->eab_kid, json_object_new_string(p->eab_hmac_key));
        json_object_object_add(pb, "externalAccountMACKeys", keys);
    }
    json_object_object_add(root, "pebble", pb);
    if (!g_file_set_contents(path, json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY),
                             -1, &error))
        fail(p, "cannot write %s: %s", path, error->message);
    json_object_put(root);
}

/* Environment for Pebble: ours only, whatever the caller's shell exported. */
static char **pebble_env(const pebble_options *o)
{
    char **env = g_get_environ();
    static const char *const ours[] = {
        "PEBBLE_VA_NOSLEEP", "PEBBLE_VA_SLEEPTIME", "PEBBLE_VA_ALWAYS_VALID",
        "PEBBLE_WFE_NONCEREJECT", "PEBBLE_ALTERNATE_ROOTS", "PEBBLE_CHAIN_LENGTH",
        "PEBBLE_AUTHZREUSE", "PEBBLE_WFE_ORDERS_PER_PAGE",
    };
    char num[32];
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(ours); i++)
        env = g_environ_unsetenv(env, ours[i]);
    /* Validation without Pebble's random 0-15 s sleep. */
    env = g_environ_setenv(env, "PEBBLE_VA_NOSLEEP", "1", TRUE);
    if (o->always_valid)
        env = g_environ_setenv(env, "PEBBLE_VA_ALWAYS_VALID", "1", TRUE);
    if (o->nonce_reject >= 0) {
        g_snprintf(num, sizeof(num), "%d", o->nonce_reject);
        env = g_environ_setenv(env, "PEBBLE_WFE_NONCEREJECT", num, TRUE);
    }
    if (o->alternate_roots >= 0) {
        g_snprintf(num, sizeof(num), "%d", o->alternate_roots);
        env = g_environ_setenv(env, "PEBBLE_ALTERNATE_ROOTS", num, TRUE);
    }
    if (o->chain_length >= 0) {
        g_snprintf(num, sizeof(num), "%d", o->chain_length);
        env = g_environ_setenv(env, "PEBBLE_CHAIN_LENGTH", num, TRUE);
    }
    if (o->authz_reuse >= 0) {
        g_snprintf(num, sizeof(num), "%d", o->authz_reuse);
        env = g_environ_setenv(env, "PEBBLE_AUTHZREUSE", num, TRUE);
    }
    return env;
}

static pid_t spawn(pebble *p, char **argv, char **env, int log_fd)
{
    GPid pid;
    GError *error = NULL;

    if (!g_spawn_async_with_fds(NULL, argv, env, G_SPAWN_DO_NOT_REAP_CHILD, child_setup, NULL,
                                &pid, -1, log_fd, log_fd, &error))
        fail(p, "cannot start %s: %s", argv[0], error->message);
    return pid;
}

/* Whether the log says a port was taken (by another process, since we picked it). */
static bool log_says_port_taken(const pebble *p)
{
    char *text = NULL;
    bool taken = false;

    if (g_file_get_contents(p->log_path, &text, NULL, NULL))
        taken = strstr(text, "address already in use") != NULL;
    g_free(text);
    return taken;
}

/*
 * One attempt: both children up and the directory answering.  Returns
 * false (children reaped) when a port was taken; other failures exit 99.
 */
static bool start_once(pebble *p, const pebble_options *o, const char *pebble_bin,
                       const char *cts_bin, int log_fd)
{
    unsigned int ports[NPORTS];
    char *config = g_build_filename(p->tmpdir, "pebble-config.json", NULL);
    char *a_dns, *a_mgmt, *a_http, *a_tls, *a_dnsserver;
    char **env;
    const char *exited = NULL;
    const char *env_timeout = g_getenv("PEBBLE_START_TIMEOUT");
    int start_timeout = env_timeout != NULL && atoi(env_timeout) > 0 ? atoi(env_timeout)
                                                                       : START_DEADLINE_S;
    gint64 deadline;
    bool ok = false;

    if (!pick_ports(ports, NPORTS))
        fail(p, "cannot pick free loopback ports: %s", g_strerror(errno));
    p->listen_port = ports[0];
    p->management_port = ports[1];
    p->http_port = ports[2];
    p->tls_port = ports[3];
    p->dns_port = ports[4];
    p->cts_port = ports[5];
    g_free(p->eab_kid);
    g_free(p->eab_hmac_key);
    p->eab_kid = p->eab_hmac_key = NULL;
    write_config(p, o, config);

    g_free(p->directory_url);
    g_free(p->management_url);
    g_free(p->challtestsrv_url);
    p->directory_url = g_strdup_printf("https://127.0.0.1:%u/dir", p->listen_port);
    p->management_url = g_strdup_printf("https://127.0.0.1:%u", p->management_port);
    p->challtestsrv_url = g_strdup_printf("http://127.0.0.1:%u", p->cts_port);

    a_dns = g_strdup_printf("127.0.0.1:%u", p->dns_port);
    a_mgmt = g_strdup_printf("127.0.0.1:%u", p->cts_port);
    a_http = o->responders ? g_strdup_printf("127.0.0.1:%u", p->http_port) : g_strdup("");
    a_tls = o->responders ? g_strdup_printf("127.0.0.1:%u", p->tls_port) : g_strdup("");
    a_dnsserver = o->dns_server ? g_strdup(o->dns_server)
                                : g_strdup_printf("127.0.0.1:%u", p->dns_port);
    {
        /* pebble-challtestsrv 2.4 has no -doh flag; -https01 is always off. */
        char *cts_argv[] = { (char *)cts_bin, "-dns01", a_dns, "-http01", a_http,
                             "-https01", "", "-tlsalpn01", a_tls, "-management", a_mgmt,
                             "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "", NULL };
        char *pb_argv[] = { (char *)pebble_bin, "-config", config, "-dnsserver", a_dnsserver,
                            "-strict=false", NULL };

        env = pebble_env(o);
        p->cts_pid = spawn(p, cts_argv, NULL, log_fd);
        p->pebble_pid = spawn(p, pb_argv, env, log_fd);
        g_strfreev(env);
    }

    /*
     * Wait until both answer: Pebble's directory over HTTPS (trusting our
     * CA) and challtestsrv's management port (any HTTP status).  Bounded.
     */
    deadline = g_get_monotonic_time() + (gint64)start_timeout * G_USEC_PER_SEC;
    {
        char *cts_probe = g_strdup_printf("%s/", p->challtestsrv_url);
        bool dir_ok = false, cts_ok = false;

        while (g_get_monotonic_time() < deadline) {
            if (child_exited(&p->pebble_pid)) {
                exited = pebble_bin;
                break;
            }
            if (child_exited(&p->cts_pid)) {
                exited = cts_bin;
                break;
            }
            /*
             * A plain connect() first: cheap, where an HTTPS probe costs a
             * TLS handshake (slow under valgrind).
             */
            if (!dir_ok && port_open(p->listen_port))
                dir_ok = http_request(p->directory_url, NULL, p->ca_file, REQUEST_TIMEOUT_MS, NULL) == 200;
            if (!cts_ok && port_open(p->cts_port))
                cts_ok = http_request(cts_probe, NULL, NULL, REQUEST_TIMEOUT_MS, NULL) != 0;
            if (dir_ok && cts_ok) {
                ok = true;
                break;
            }
            g_usleep(20 * 1000); /* readiness poll, not timing */
        }
        g_free(cts_probe);
    }
    g_free(a_dns);
    g_free(a_mgmt);
    g_free(a_http);
    g_free(a_tls);
    g_free(a_dnsserver);
    g_free(config);
    if (ok)
        return true;
    kill_child(&p->pebble_pid);
    kill_child(&p->cts_pid);
    if (log_says_port_taken(p))
        return false;
    if (exited != NULL)
        fail(p, "%s exited during start", exited);
    fail(p, "Pebble did not come up (directory %s) within %d s", p->directory_url, start_timeout);
}

pebble *pebble_start(const pebble_options *opts)
{
    pebble_options defaults = PEBBLE_OPTIONS_INIT;
    const pebble_options *o = opts != NULL ? opts : &defaults;
    pebble *p = g_new0(pebble, 1);
    char *pebble_bin, *cts_bin, *certtool;
    GError *error = NULL;
    int log_fd, attempt;

    pebble_bin = find_program("PEBBLE", "pebble");
    cts_bin = find_program("PEBBLE_CHALLTESTSRV", "pebble-challtestsrv");
    certtool = find_program("CERTTOOL", "certtool");
    if (pebble_bin == NULL || cts_bin == NULL)
        fail(NULL, "pebble or pebble-challtestsrv not found (Debian: apt-get install pebble)");
    if (certtool == NULL)
        fail(NULL, "certtool not found (Debian: apt-get install gnutls-bin)");
    /* libcurl's global init is reference counted; pebble_stop() undoes it. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        fail(NULL, "curl_global_init failed");

    pthread_mutex_init(&p->cache_lock, NULL);
    p->opts = *o;
    p->dns_server_copy = g_strdup(o->dns_server);
    p->opts.dns_server = p->dns_server_copy;
    p->tmpdir = g_dir_make_tmp("libacme-pebble-XXXXXX", &error);
    if (p->tmpdir == NULL)
        fail(NULL, "cannot make a temporary directory: %s", error->message);
    p->log_path = g_build_filename(p->tmpdir, "pebble.log", NULL);
    log_fd = open(p->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (log_fd < 0)
        fail(p, "cannot open %s: %s", p->log_path, g_strerror(errno));

    make_tls_files(p, certtool);
    for (attempt = 0; attempt < START_ATTEMPTS; attempt++) {
        if (start_once(p, o, pebble_bin, cts_bin, log_fd))
            break;
    }
    if (attempt == START_ATTEMPTS)
        fail(p, "ports kept being taken by other processes");
    close(log_fd);
    set_live(p, true);
    g_free(pebble_bin);
    g_free(cts_bin);
    g_free(certtool);
    return p;
}

void pebble_kill(pebble *p)
{
    kill_child(&p->pebble_pid);
}

void pebble_restart(pebble *p)
{
    char *pebble_bin = find_program("PEBBLE", "pebble");
    char *config = g_build_filename(p->tmpdir, "pebble-config.json", NULL);
    char *a_dnsserver = p->opts.dns_server ? g_strdup(p->opts.dns_server)
                                           : g_strdup_printf("127.0.0.1:%u", p->dns_port);
    char *pb_argv[] = { pebble_bin, "-config", config, "-dnsserver", a_dnsserver,
                        "-strict=false", NULL };
    const char *env_timeout = g_getenv("PEBBLE_START_TIMEOUT");
    int start_timeout = env_timeout != NULL && atoi(env_timeout) > 0 ? atoi(env_timeout)
                                                                       : START_DEADLINE_S;
    gint64 deadline;
    char **env;
    int log_fd;
    bool ok = false;

    if (pebble_bin == NULL)
        fail(p, "pebble not found for a restart");
    kill_child(&p->pebble_pid);
    log_fd = open(p->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (log_fd < 0)
        fail(p, "cannot open %s: %s", p->log_path, g_strerror(errno));
    /*
     * The same configuration file and environment: the ports were ours
     * and Go listens with SO_REUSEADDR, so they are free again at once.
     */
    env = pebble_env(&p->opts);
    p->pebble_pid = spawn(p, pb_argv, env, log_fd);
    g_strfreev(env);
    close(log_fd);
    deadline = g_get_monotonic_time() + (gint64)start_timeout * G_USEC_PER_SEC;
    while (g_get_monotonic_time() < deadline) {
        if (child_exited(&p->pebble_pid))
            break;
        if (port_open(p->listen_port) &&
            http_request(p->directory_url, NULL, p->ca_file, REQUEST_TIMEOUT_MS, NULL) == 200) {
            ok = true;
            break;
        }
        g_usleep(20 * 1000); /* readiness poll, not timing */
    }
    /* The roots are new: forget the cached ones. */
    pthread_mutex_lock(&p->cache_lock);
    for (size_t i = 0; i < PEBBLE_MAX_ROOTS; i++) {
        g_free(p->root_cache[i]);
        p->root_cache[i] = NULL;
    }
    pthread_mutex_unlock(&p->cache_lock);
    g_free(pebble_bin);
    g_free(config);
    g_free(a_dnsserver);
    if (!ok)
        fail(p, "Pebble did not come back (directory %s)", p->directory_url);
}

void pebble_stop(pebble *p)
{
    if (p == NULL)
        return;
    set_live(p, false);
    kill_child(&p->pebble_pid);
    kill_child(&p->cts_pid);
    rm_rf(p->tmpdir);
    pebble_free_fields(p);
    g_free(p);
    curl_global_cleanup();
}
