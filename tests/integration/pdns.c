/*
 * tests/integration: the PowerDNS harness (see pdns.h).
 *
 * Layer: tests only.  Creates the sqlite3 database from the schema that
 * pdns-backend-sqlite3 ships, writes a pdns.conf for loopback ports (the
 * recipe of the dns-providers research notes, section 3), runs
 * pdns_server in the foreground as a child, and talks to its API with
 * libcurl.  GLib is fine here: it is a test-only dependency.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
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

#include <acme/acme.h>
#include <acme/sys/responder.h>

#include "client/client-internal.h"
#include "dns/dns.h"
#include "pdns.h"

#define START_DEADLINE_US (20 * G_USEC_PER_SEC)
#define START_ATTEMPTS 3

static const char *const schema_paths[] = {
    "/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql",
    "/usr/share/doc/pdns-backend-sqlite3/schema.sqlite3.sql",
};

static void child_setup(gpointer data)
{
    (void)data;
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
}

static void rm_rf(const char *path)
{
    GDir *d;
    const char *name;

    if (!path)
        return;
    if ((d = g_dir_open(path, 0, NULL))) {
        while ((name = g_dir_read_name(d))) {
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

static void kill_child(pid_t *pid)
{
    int status;

    if (*pid <= 0)
        return;
    kill(*pid, SIGKILL);
    while (waitpid(*pid, &status, 0) < 0 && errno == EINTR)
        ;
    *pid = 0;
}

static void print_log_tail(const pdns_server *s)
{
    char *text = NULL;
    size_t len = 0;

    if (s && s->log_path && g_file_get_contents(s->log_path, &text, &len, NULL))
        g_printerr("pdns harness: %s:\n%s\n", s->log_path,
                   len > 3000 ? text + len - 3000 : text);
    g_free(text);
}

G_GNUC_NORETURN static void fail(pdns_server *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void fail(pdns_server *s, const char *fmt, ...)
{
    va_list ap;
    char *msg;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_printerr("pdns harness: %s\n", msg);
    g_print("Bail out! pdns harness: %s\n", msg);
    g_free(msg);
    if (s) {
        kill_child(&s->pid);
        print_log_tail(s);
        rm_rf(s->tmpdir);
    }
    exit(99);
}

/*
 * Two free loopback ports: the DNS one free for TCP and UDP both (held
 * while the API one is picked), then released for pdns_server to bind.
 */
static bool pick_ports(unsigned int *dns, unsigned int *api)
{
    int t = socket(AF_INET, SOCK_STREAM, 0), u = socket(AF_INET, SOCK_DGRAM, 0);
    int a = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    bool ok = false;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (t < 0 || u < 0 || a < 0 || bind(t, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        getsockname(t, (struct sockaddr *)&sa, &len) != 0)
        goto out;
    *dns = ntohs(sa.sin_port);
    if (bind(u, (struct sockaddr *)&sa, sizeof(sa)) != 0)
        goto out;
    sa.sin_port = 0;
    len = sizeof(sa);
    if (bind(a, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        getsockname(a, (struct sockaddr *)&sa, &len) != 0)
        goto out;
    *api = ntohs(sa.sin_port);
    ok = true;
out:
    if (t >= 0)
        close(t);
    if (u >= 0)
        close(u);
    if (a >= 0)
        close(a);
    return ok;
}

static size_t collect(char *data, size_t size, size_t nmemb, void *userdata)
{
    g_string_append_len(userdata, data, (gssize)(size * nmemb));
    return size * nmemb;
}

static long http(const char *url, const char *method, const char *key, const char *body,
                 char **resp)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    GString *out = g_string_new(NULL);
    char *hk = g_strdup_printf("X-API-Key: %s", key);
    long status = 0;

    h = curl_slist_append(h, hk);
    h = curl_slist_append(h, "Accept: application/json");
    h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    g_free(hk);
    if (resp)
        *resp = g_string_free(out, FALSE);
    else
        g_string_free(out, TRUE);
    return status;
}

long pdns_api(const pdns_server *s, const char *method, const char *path, const char *body,
              char **resp)
{
    char *url = g_strdup_printf("%s/api/v1/servers/localhost%s", s->api_url, path);
    long st = http(url, method, s->api_key, body, resp);

    g_free(url);
    return st;
}

bool pdns_create_zone(const pdns_server *s, const char *zone)
{
    char *body = g_strdup_printf("{\"name\":\"%s.\",\"kind\":\"Native\","
                                 "\"nameservers\":[\"ns1.%s.\"]}",
                                 zone, zone);
    long st = pdns_api(s, "POST", "/zones", body, NULL);

    g_free(body);
    return st == 201;
}

bool pdns_set_cname(const pdns_server *s, const char *zone, const char *name, const char *target)
{
    char *body = g_strdup_printf("{\"rrsets\":[{\"name\":\"%s.\",\"type\":\"CNAME\",\"ttl\":60,"
                                 "\"changetype\":\"REPLACE\",\"records\":[{\"content\":\"%s.\","
                                 "\"disabled\":false}]}]}",
                                 name, target);
    char *path = g_strdup_printf("/zones/%s.", zone);
    long st = pdns_api(s, "PATCH", path, body, NULL);

    g_free(body);
    g_free(path);
    return st == 204;
}

static bool log_says_port_taken(const pdns_server *s)
{
    char *text = NULL;
    bool taken = false;

    if (g_file_get_contents(s->log_path, &text, NULL, NULL))
        taken = strstr(text, "in use") != NULL || strstr(text, "Unable to bind") != NULL;
    g_free(text);
    return taken;
}

static bool start_once(pdns_server *s, const char *bin, int log_fd, bool dnsupdate)
{
    char *conf, *conf_path = g_build_filename(s->tmpdir, "pdns.conf", NULL);
    char *db = g_build_filename(s->tmpdir, "pdns.sqlite3", NULL);
    char *confdir_arg = g_strdup_printf("--config-dir=%s", s->tmpdir);
    char *argv[] = { (char *)bin, confdir_arg, NULL };
    GError *error = NULL;
    GPid pid;
    gint64 deadline;
    bool ok = false;

    if (!pick_ports(&s->dns_port, &s->api_port))
        fail(s, "cannot pick free loopback ports: %s", g_strerror(errno));
    g_free(s->api_url);
    g_free(s->dns_addr);
    s->api_url = g_strdup_printf("http://127.0.0.1:%u", s->api_port);
    s->dns_addr = g_strdup_printf("127.0.0.1:%u", s->dns_port);
    /*
     * daemon/guardian off: the child is the server (its pid is ours to
     * kill); socket-dir: the default /var/run/pdns may not exist;
     * security-poll-suffix empty: no query to the internet at start.
     */
    conf = g_strdup_printf("launch=gsqlite3\n"
                           "gsqlite3-database=%s\n"
                           "local-address=127.0.0.1\n"
                           "local-port=%u\n"
                           "api=yes\n"
                           "api-key=%s\n"
                           "webserver=yes\n"
                           "webserver-address=127.0.0.1\n"
                           "webserver-port=%u\n"
                           "webserver-allow-from=127.0.0.1/32\n"
                           "socket-dir=%s\n"
                           "daemon=no\n"
                           "guardian=no\n"
                           "disable-syslog=yes\n"
                           "security-poll-suffix=\n"
                           "loglevel=4\n"
                           "%s",
                           db, s->dns_port, s->api_key, s->api_port, s->tmpdir,
                           /* RFC 2136 from loopback; a zone's TSIG-ALLOW-DNSUPDATE names its keys. */
                           dnsupdate ? "dnsupdate=yes\nallow-dnsupdate-from=127.0.0.0/8\n" : "");
    if (!g_file_set_contents(conf_path, conf, -1, &error))
        fail(s, "cannot write %s: %s", conf_path, error->message);
    if (!g_spawn_async_with_fds(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, child_setup, NULL,
                                &pid, -1, log_fd, log_fd, &error))
        fail(s, "cannot start %s: %s", bin, error->message);
    s->pid = pid;
    deadline = g_get_monotonic_time() + START_DEADLINE_US;
    while (g_get_monotonic_time() < deadline) {
        int status;
        char *url;

        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            s->pid = 0;
            break;
        }
        url = g_strdup_printf("%s/api/v1/servers", s->api_url);
        ok = http(url, "GET", s->api_key, NULL, NULL) == 200;
        g_free(url);
        if (ok)
            break;
        g_usleep(20 * 1000); /* readiness poll, not timing */
    }
    g_free(conf);
    g_free(conf_path);
    g_free(db);
    g_free(confdir_arg);
    if (ok)
        return true;
    kill_child(&s->pid);
    if (log_says_port_taken(s))
        return false;
    fail(s, "pdns_server did not come up within %d s", (int)(START_DEADLINE_US / G_USEC_PER_SEC));
}

static pdns_server *start(bool dnsupdate)
{
    pdns_server *s = g_new0(pdns_server, 1);
    const char *env = g_getenv("PDNS_SERVER");
    char *bin, *sqlite, *schema = NULL, *db;
    GError *error = NULL;
    int log_fd, attempt;
    guint8 rnd[16];

    bin = env && *env ? g_strdup(env) : g_find_program_in_path("pdns_server");
    if (!bin && g_file_test("/usr/sbin/pdns_server", G_FILE_TEST_IS_EXECUTABLE))
        bin = g_strdup("/usr/sbin/pdns_server");
    sqlite = g_find_program_in_path("sqlite3");
    for (size_t i = 0; i < G_N_ELEMENTS(schema_paths) && !schema; i++)
        if (g_file_test(schema_paths[i], G_FILE_TEST_EXISTS))
            schema = g_strdup(schema_paths[i]);
    if (!bin || !schema)
        fail(NULL, "pdns_server or its sqlite3 schema not found (Debian: apt-get install "
                   "pdns-server pdns-backend-sqlite3)");
    if (!sqlite)
        fail(NULL, "sqlite3 not found (Debian: apt-get install sqlite3)");
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        fail(NULL, "curl_global_init failed");
    for (size_t i = 0; i < sizeof(rnd); i++)
        rnd[i] = (guint8)g_random_int_range(0, 256);
    s->api_key = g_compute_checksum_for_data(G_CHECKSUM_SHA256, rnd, sizeof(rnd));
    if (!(s->tmpdir = g_dir_make_tmp("libacme-pdns-XXXXXX", &error)))
        fail(NULL, "cannot make a temporary directory: %s", error->message);
    s->log_path = g_build_filename(s->tmpdir, "pdns.log", NULL);
    if ((log_fd = open(s->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) < 0)
        fail(s, "cannot open %s: %s", s->log_path, g_strerror(errno));

    /* The database: the schema the package ships, loaded by the sqlite3 shell. */
    db = g_build_filename(s->tmpdir, "pdns.sqlite3", NULL);
    {
        char *cmd = g_strdup_printf(".read %s", schema);
        char *argv[] = { sqlite, db, cmd, NULL };
        int status = 0;

        if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, &status,
                          &error) ||
            !g_spawn_check_wait_status(status, &error))
            fail(s, "cannot create the database: %s", error->message);
        g_free(cmd);
    }
    g_free(db);
    for (attempt = 0; attempt < START_ATTEMPTS; attempt++)
        if (start_once(s, bin, log_fd, dnsupdate))
            break;
    if (attempt == START_ATTEMPTS)
        fail(s, "ports kept being taken by other processes");
    close(log_fd);
    g_free(bin);
    g_free(sqlite);
    g_free(schema);
    return s;
}

pdns_server *pdns_start(void)
{
    return start(false);
}

pdns_server *pdns_start_dnsupdate(void)
{
    return start(true);
}

void pdns_stop(pdns_server *s)
{
    if (!s)
        return;
    kill_child(&s->pid);
    rm_rf(s->tmpdir);
    g_free(s->tmpdir);
    g_free(s->log_path);
    g_free(s->api_url);
    g_free(s->api_key);
    g_free(s->dns_addr);
    g_free(s);
    curl_global_cleanup();
}

/* ---- what the server serves, and a responder that watches it ---- */

static void served_ok(int rc, acme_error *err, const char *what)
{
    if (rc != ACME_OK)
        g_printerr("%s failed: %s (%s)\n", what, acme_status_name(rc) ? acme_status_name(rc) : "?",
                   err ? acme_error_message(err) : "no error object");
    g_assert_cmpstr(acme_status_name(rc), ==, "ACME_OK");
    g_assert_null(err);
}

static int cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char *pdns_served(const pdns_server *s, const char *name, int *rcode)
{
    acme__dns_server srv;
    acme__dns_answer a;
    acme_error *err = NULL;
    GPtrArray *v = g_ptr_array_new();
    char *joined;

    served_ok(acme__dns_server_parse(&srv, s->dns_addr, &err), err, "server_parse");
    served_ok(acme__dns_query(&a, &srv, name, ACME__DNS_T_TXT, false, 3000, NULL, &err), err,
              "dns query");
    if (rcode)
        *rcode = a.rcode;
    for (size_t i = 0; i < a.nrr; i++)
        g_ptr_array_add(v, a.rr[i]);
    g_ptr_array_sort(v, cmp_str);
    g_ptr_array_add(v, NULL);
    joined = g_strjoinv(" ", (char **)v->pdata);
    g_ptr_array_free(v, TRUE);
    acme__dns_answer_clear(&a);
    return joined;
}

static int spy_start(void *self, const char *name, const acme_challenge *ch, const char *ka,
                     acme_error **err)
{
    pdns_spy *sp = self;
    int rc = sp->inner->ops->start(sp->inner->self, name, ch, ka, err);

    if (rc == ACME_OK) {
        char *fqdn = g_strdup_printf("_acme-challenge.%s", name);
        char *txt = pdns_served(sp->s, fqdn, NULL);
        char **parts = g_strsplit(txt, " ", -1);

        g_mutex_lock(&sp->lock);
        sp->starts++;
        if (*txt && g_strv_length(parts) > sp->max_values)
            sp->max_values = g_strv_length(parts);
        g_mutex_unlock(&sp->lock);
        g_strfreev(parts);
        g_free(txt);
        g_free(fqdn);
    }
    return rc;
}

static void spy_stop(void *self, const char *name, const acme_challenge *ch, const char *ka)
{
    pdns_spy *sp = self;

    sp->inner->ops->stop(sp->inner->self, name, ch, ka);
    g_mutex_lock(&sp->lock);
    sp->stops++;
    g_mutex_unlock(&sp->lock);
}

static void spy_destroy(void *self)
{
    (void)self; /* the test owns the spy */
}

const acme_responder_ops pdns_spy_ops = {
    .version = ACME_RESPONDER_OPS_VERSION,
    .name = "spy",
    .challenge_type = "dns-01",
    .start = spy_start,
    .stop = spy_stop,
    .destroy = spy_destroy,
};
