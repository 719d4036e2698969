/*
 * dns/providers: exec, a user program that adds and removes the TXT
 * value (for DNS setups no built-in provider covers).  No REST API: each
 * create_txt / delete_txt runs the program once, with posix_spawn (no
 * shell, so nothing in a name or value is ever interpreted), the
 * process's environment passed through, stdin from /dev/null, stdout and
 * stderr captured into the error when it fails, and a timeout.
 *
 * How it is called (setting `mode`):
 *   lego    (default) lego's exec provider:
 *             PROGRAM present _acme-challenge.example.com. VALUE
 *             PROGRAM cleanup _acme-challenge.example.com. VALUE
 *   raw     lego's exec provider with EXEC_MODE=RAW:
 *             PROGRAM present -- IDENT TOKEN KEY_AUTHORIZATION
 *             PROGRAM cleanup -- IDENT TOKEN KEY_AUTHORIZATION
 *           (the program computes the TXT value itself); only through
 *           the dns-01 responder, which knows the key authorization.
 *   uacme   uacme's hook (uacme(1), "-h"):
 *             PROGRAM begin dns-01 IDENT TOKEN AUTH
 *             PROGRAM done dns-01 IDENT TOKEN AUTH
 *           IDENT is the name without "_acme-challenge.", AUTH the TXT
 *           value, TOKEN the challenge's token (the empty string when a
 *           caller added the value directly, without a key authorization).
 *   mod_md  Apache mod_md's MDChallengeDns01 program:
 *             PROGRAM setup DOMAIN TXT_VALUE
 *             PROGRAM teardown DOMAIN
 * raw, uacme and mod_md programs build "_acme-challenge.<name>" themselves,
 * so those modes need the record name to start with it: use them with
 * the responder's no_cname.
 *
 * Zones: the program writes wherever it likes, so the zone only matters
 * to the core's propagation check (which asks the zone's authoritative
 * servers).  It is the longest match in the `zones` setting when that is
 * set; else the closest enclosing name that has NS records, asked of the
 * system resolver; else the name without "_acme-challenge.".
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <acme/sys/error.h>

#include "dns/dns.h"
#include "util/error.h"
#include "util/i18n.h"
#include "util/util.h"

extern char **environ;

#define LABEL ACME_DNS01_LABEL "."
/* Program output kept for the error message. */
#define MAX_OUTPUT 1024
/* How often a running program is checked for exit and cancellation. */
#define POLL_MS 100

typedef enum { MODE_LEGO, MODE_RAW, MODE_UACME, MODE_MODMD } exec_mode;

static const char *const mode_names[] = { "lego", "raw", "uacme", "mod_md" };

typedef struct execp {
    acme_dns_env *env;
    char *program;           /* a path: the setting, or found in PATH at open */
    exec_mode mode;
    unsigned int timeout_s;
    acme_dns_zone_list zones; /* the `zones` setting */
} execp;

static const char *const env_path[] = { "EXEC_PATH", NULL };
static const char *const env_mode[] = { "EXEC_MODE", NULL };
static const char *const env_timeout[] = { "EXEC_TIMEOUT", NULL };
static const char *const env_zones[] = { "EXEC_ZONES", NULL };

static const acme_dns_option exec_options[] = {
    { .key = "program", .env = env_path, .flags = ACME_DNS_OPT_REQUIRED,
      .help = "the program to run (a path, or a name looked up in PATH)" },
    { .key = "mode", .env = env_mode, .default_value = "lego",
      .help = "how to call it: lego, raw (lego EXEC_MODE=RAW), uacme or mod_md" },
    { .key = "timeout", .env = env_timeout, .default_value = "60",
      .help = "seconds one run may take" },
    { .key = "zones", .env = env_zones,
      .help = "zone names, separated by spaces (default: found through DNS)" },
    { .key = NULL },
};

static void exec_destroy(void *self)
{
    execp *x = self;

    if (!x)
        return;
    acme_dns_zone_list_clear(&x->zones);
    free(x->program);
    free(x);
}

/*
 * The program as a path: found in PATH at open when it has no '/', so that
 * a missing one is a configuration error now rather than an exit status
 * 127 later (posix_spawnp may report a failed exec either way).
 */
static char *program_path(const char *program)
{
    const char *path = getenv("PATH");

    if (strchr(program, '/'))
        return access(program, X_OK) == 0 ? acme__strdup(program) : NULL;
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = path; *p;) {
        size_t len = strcspn(p, ":");
        char *cand = len ? acme__asprintf("%.*s/%s", (int)len, p, program)
                         : acme__asprintf("./%s", program);
        struct stat st;

        if (cand && access(cand, X_OK) == 0 && stat(cand, &st) == 0 && S_ISREG(st.st_mode))
            return cand;
        free(cand);
        p += len;
        if (*p == ':')
            p++;
    }
    errno = ENOENT;
    return NULL;
}

static int exec_open(void **self_out, const acme_dns_settings *s, acme_dns_env *env,
                     acme_error **err)
{
    const char *program = acme_dns_settings_get(s, "program");
    const char *mode = acme_dns_settings_get(s, "mode");
    const char *zones = acme_dns_settings_get(s, "zones");
    const char *zone = acme_dns_settings_get(s, "zone");
    execp *x;
    int rc;

    *self_out = NULL;
    if (!program || !*program)
        return acme_error_set(err, ACME_E_INVALID,
                              _("DNS provider exec needs the setting program (EXEC_PATH)"));
    if (!(x = calloc(1, sizeof(*x))))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    x->env = env;
    if (!(x->program = program_path(program))) {
        rc = errno == ENOMEM ? acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM))
                             : acme_error_set(err, ACME_E_INVALID,
                                              _("DNS provider exec: cannot run %s: %s"), program,
                                              strerror(errno));
        exec_destroy(x);
        return rc;
    }
    if (!mode || strcmp(mode, "lego") == 0) {
        x->mode = MODE_LEGO;
    } else if (strcasecmp(mode, "raw") == 0) {
        x->mode = MODE_RAW;
    } else if (strcmp(mode, "uacme") == 0) {
        x->mode = MODE_UACME;
    } else if (strcmp(mode, "mod_md") == 0 || strcmp(mode, "mod-md") == 0) {
        x->mode = MODE_MODMD;
    } else {
        exec_destroy(x);
        return acme_error_set(err, ACME_E_INVALID,
                              _("DNS provider exec: mode must be lego, raw, uacme or mod_md, "
                                "not \"%.32s\""),
                              mode);
    }
    if ((rc = acme_dns_settings_get_uint(s, "timeout", 60, &x->timeout_s, err)) < 0) {
        exec_destroy(x);
        return rc;
    }
    if (!x->timeout_s)
        x->timeout_s = 60;
    /* Spaces or commas (a comma needs "\," in a spec string). */
    for (const char *p = zones; p && *p;) {
        size_t len;
        char *z;

        p += strspn(p, " \t,");
        if (!(len = strcspn(p, " \t,")))
            break;
        if (!(z = acme__strndup(p, len))) {
            exec_destroy(x);
            return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        }
        rc = acme_dns_zone_list_add(&x->zones, z, z, false, err);
        free(z);
        if (rc < 0) {
            exec_destroy(x);
            return rc;
        }
        p += len;
    }
    /* A configured zone is a zone too (the core looks it up in list_zones). */
    if (zone && *zone && !strchr(zone, ' ') &&
        (rc = acme_dns_zone_list_add(&x->zones, zone, zone, false, err)) < 0) {
        exec_destroy(x);
        return rc;
    }
    *self_out = x;
    return ACME_OK;
}

static int exec_list_zones(void *self, acme_dns_zone_list *out, acme_error **err)
{
    execp *x = self;
    int rc = ACME_OK;

    for (size_t i = 0; i < x->zones.n && rc == ACME_OK; i++)
        rc = acme_dns_zone_list_add(out, x->zones.v[i].id, x->zones.v[i].name, false, err);
    return rc;
}

static int zone_set(acme_dns_zone *out, const char *name, acme_error **err)
{
    out->id = acme__strdup(name);
    out->name = acme__strdup(name);
    out->is_private = false;
    if (!out->id || !out->name) {
        free(out->id);
        free(out->name);
        out->id = out->name = NULL;
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    return ACME_OK;
}

/* The name after "_acme-challenge.", or NULL. */
static const char *challenged(const char *fqdn)
{
    return strncmp(fqdn, LABEL, strlen(LABEL)) == 0 && fqdn[strlen(LABEL)]
               ? fqdn + strlen(LABEL)
               : NULL;
}

static int exec_find_zone(void *self, const char *fqdn, acme_dns_zone *out, acme_error **err)
{
    execp *x = self;
    acme__dns_server srv;
    size_t idx;

    if (x->zones.n) {
        acme_error *e = NULL;

        if (acme__dns_zone_pick(&idx, &x->zones, fqdn, &e) < 0) {
            acme_error_free(e);
            return acme_error_set(err, ACME_E_NOTFOUND, _("no zone in the setting zones holds %s"),
                                  fqdn);
        }
        return zone_set(out, x->zones.v[idx].name, err);
    }
    /* The zone cut: the closest enclosing name with NS records (what lego finds with SOA). */
    if (acme__dns_system_server(&srv, NULL, NULL) == ACME_OK)
        for (const char *n = strchr(fqdn, '.'); n && n[1]; n = strchr(n + 1, '.')) {
            acme__dns_answer a = { 0 };
            bool apex;

            if (acme__dns_query(&a, &srv, n + 1, ACME__DNS_T_NS, true,
                                ACME_DNS01_QUERY_TIMEOUT_MS, x->env, NULL) < 0) {
                acme__dns_answer_clear(&a);
                break;
            }
            apex = a.rcode == 0 && a.nrr > 0 && !a.cname;
            acme__dns_answer_clear(&a);
            if (apex)
                return zone_set(out, n + 1, err);
        }
    if (acme__dns_env_cancelled(x->env))
        return acme_error_set(err, ACME_E_CANCELLED, "%s", acme_strerror(ACME_E_CANCELLED));
    return zone_set(out, challenged(fqdn) ? challenged(fqdn) : fqdn, err);
}

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The captured output on one line: control characters become spaces, trailing ones go. */
static void output_clean(char *s)
{
    size_t len = strlen(s);

    for (char *c = s; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = ' ';
    while (len && s[len - 1] == ' ')
        s[--len] = '\0';
}

static const int default_signals[] = { SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGHUP,
                                       SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM };

/* Run the program with @p argv (argv[0] is the program); what for messages: "present". */
static int run(execp *x, char *const argv[], const char *what, acme_error **err)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none, dfl;
    char out[MAX_OUTPUT + 1];
    size_t outlen = 0;
    int pfd[2], status = 0, rc, src;
    pid_t pid;
    bool exited = false, timed_out = false, cancelled = false, eof = false;
    int64_t deadline = mono_ms() + (int64_t)x->timeout_s * 1000;

    if (pipe2(pfd, O_CLOEXEC) < 0)
        return acme_error_set(err, ACME_E_IO, _("cannot make a pipe: %s"), strerror(errno));
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    /* stdin from /dev/null; stdout and stderr into the pipe (the dup2 copies lose O_CLOEXEC). */
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    /* The application's other descriptors (sockets, keys) are none of the program's business. */
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
    /* A daemon may block or ignore signals; the program starts with the defaults. */
    sigemptyset(&none);
    sigemptyset(&dfl);
    for (size_t i = 0; i < ACME_ARRAY_SIZE(default_signals); i++)
        sigaddset(&dfl, default_signals[i]);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &dfl);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    src = posix_spawn(&pid, x->program, &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(pfd[1]);
    if (src != 0) {
        close(pfd[0]);
        return acme_error_set(err, ACME_E_IO, _("cannot run %s: %s"), x->program, strerror(src));
    }

    /* Read its output until it exits (a child it left behind may hold the pipe open). */
    while (!exited) {
        struct pollfd p = { .fd = pfd[0], .events = POLLIN };
        int64_t now = mono_ms();
        pid_t w;

        if (now >= deadline) {
            timed_out = true;
            break;
        }
        if (acme__dns_env_cancelled(x->env)) {
            cancelled = true;
            break;
        }
        if (!eof && poll(&p, 1, POLL_MS) > 0) {
            char buf[512];
            ssize_t n = read(pfd[0], buf, sizeof(buf));

            if (n > 0) {
                size_t keep = MAX_OUTPUT - outlen < (size_t)n ? MAX_OUTPUT - outlen : (size_t)n;

                memcpy(out + outlen, buf, keep);
                outlen += keep;
            } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                eof = true;
            }
        } else if (eof) {
            struct timespec ts = { 0, POLL_MS * 1000000L };

            nanosleep(&ts, NULL);
        }
        while ((w = waitpid(pid, &status, WNOHANG)) < 0 && errno == EINTR)
            ;
        exited = w == pid;
    }
    if (!exited) {
        kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    } else {
        /* What it wrote just before exiting. */
        struct pollfd p = { .fd = pfd[0], .events = POLLIN };
        char buf[512];
        ssize_t n;

        while (!eof && poll(&p, 1, 0) > 0 && (n = read(pfd[0], buf, sizeof(buf))) > 0) {
            size_t keep = MAX_OUTPUT - outlen < (size_t)n ? MAX_OUTPUT - outlen : (size_t)n;

            memcpy(out + outlen, buf, keep);
            outlen += keep;
        }
    }
    close(pfd[0]);
    out[outlen] = '\0';
    output_clean(out);

    if (cancelled)
        return acme_error_set(err, ACME_E_CANCELLED, "%s", acme_strerror(ACME_E_CANCELLED));
    if (timed_out)
        rc = acme_error_set(err, ACME_E_TIMEOUT, _("%s %s did not finish within %u s%s%s"),
                            x->program, what, x->timeout_s, *out ? ": " : "", out);
    else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        rc = ACME_OK;
    else if (WIFEXITED(status))
        rc = acme_error_set(err, ACME_E_REJECTED, _("%s %s failed with exit status %d%s%s"),
                            x->program, what, WEXITSTATUS(status), *out ? ": " : "", out);
    else
        rc = acme_error_set(err, ACME_E_REJECTED, _("%s %s was killed by signal %d%s%s"),
                            x->program, what, WIFSIGNALED(status) ? WTERMSIG(status) : 0,
                            *out ? ": " : "", out);
    if (rc == ACME_OK)
        ACME__LOGF(acme__dns_env_log(x->env), ACME_LOG_DEBUG, "exec: %s %s: ok%s%s", x->program,
                   what, *out ? ": " : "", out);
    return rc;
}

/* Build argv for adding (@p add) or removing txt's value, and run it. */
static int invoke(execp *x, const acme_dns_txt *txt, bool add, acme_error **err)
{
    const char *ident = challenged(txt->fqdn);
    const char *ka = txt->key_authorization, *dot = ka ? strchr(ka, '.') : NULL;
    char *dotted = NULL, *token = NULL;
    const char *argv[8];
    size_t n = 0;
    int rc;

    argv[n++] = x->program;
    if (x->mode != MODE_LEGO && !ident)
        return acme_error_set(err, ACME_E_INVALID,
                              _("DNS provider exec: in mode %s the record name must start with "
                                "_acme-challenge. (not %s): set the responder's no_cname"),
                              mode_names[x->mode], txt->fqdn);
    if (x->mode == MODE_RAW && !dot)
        return acme_error_set(err, ACME_E_INVALID,
                              _("DNS provider exec: mode raw passes the key authorization, "
                                "which only the dns-01 responder knows; a TXT value alone "
                                "cannot be passed"));
    /* RFC 8555 §8.1: keyAuthorization = token || '.' || thumbprint. */
    if (dot && !(token = acme__strndup(ka, (size_t)(dot - ka))))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    switch (x->mode) {
    case MODE_LEGO:
        /* lego passes the name fully qualified, with the root dot. */
        if (!(dotted = acme__asprintf("%s.", txt->fqdn)))
            return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        argv[n++] = add ? "present" : "cleanup";
        argv[n++] = dotted;
        argv[n++] = txt->value;
        break;
    case MODE_RAW:
        argv[n++] = add ? "present" : "cleanup";
        argv[n++] = "--";
        argv[n++] = ident;
        argv[n++] = token;
        argv[n++] = ka;
        break;
    case MODE_UACME:
        argv[n++] = add ? "begin" : "done";
        argv[n++] = "dns-01";
        argv[n++] = ident;
        argv[n++] = token ? token : "";
        argv[n++] = txt->value;
        break;
    case MODE_MODMD:
        argv[n++] = add ? "setup" : "teardown";
        argv[n++] = ident;
        if (add)
            argv[n++] = txt->value;
        break;
    }
    argv[n] = NULL;
    rc = run(x, (char *const *)argv, argv[1], err);
    free(dotted);
    free(token);
    return rc;
}

static int exec_create_txt(void *self, const acme_dns_txt *txt, char **handle_out,
                           acme_error **err)
{
    *handle_out = NULL;
    return invoke(self, txt, true, err);
}

static int exec_delete_txt(void *self, const acme_dns_txt *txt, const char *handle,
                           acme_error **err)
{
    (void)handle;
    return invoke(self, txt, false, err);
}

static const char *const exec_prefixes[] = { "EXEC", NULL };

const acme_dns_provider_ops acme__dns_exec_ops = {
    .version = ACME_DNS_PROVIDER_OPS_VERSION,
    .size = sizeof(acme_dns_provider_ops),
    .name = "exec",
    .aliases = NULL,
    .env_prefixes = exec_prefixes,
    .options = exec_options,
    .flags = 0,
    .default_ttl = 120,
    .min_ttl = 0,
    .max_ttl = 0,
    .default_settle_s = 0,
    .open = exec_open,
    .list_zones = exec_list_zones,
    .find_zone = exec_find_zone,
    .create_txt = exec_create_txt,
    .delete_txt = exec_delete_txt,
    .wait_applied = NULL,
    .destroy = exec_destroy,
};
