/*
 * acmed: command line, signals and the main loop.
 *
 *     acmed [OPTIONS]                  run the daemon
 *     acmed [OPTIONS] issue NAME...    issue once and exit (for scripts)
 *     acmed [OPTIONS] status [--json]  the running daemon's status
 *     acmed [OPTIONS] renew NAME       ask the running daemon to issue NAME now
 *
 * Signals are blocked in every thread before the first one starts and
 * read on the main thread through a signalfd: SIGTERM and SIGINT stop
 * cleanly (the service first, cancelling issuing in flight), SIGHUP
 * reads the configuration again and rescans the certificate directory.
 * The main thread also answers the status socket and rewrites
 * status.json when the service reports an event.
 */
#include "acmed.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef SYSCONFDIR
# define SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG SYSCONFDIR "/acmed.conf"
/* status.json is also rewritten this often without events (next checks move). */
#define STATUS_REFRESH_MS 60000

/* A setting given on the command line, applied after the file (again on SIGHUP). */
typedef struct override {
    const char *section, *key, *value;
} override;

typedef struct cli {
    const char *config;
    bool config_given;
    override *ov;
    size_t nov;
    bool json;
} cli;

static void usage(FILE *f)
{
    fprintf(f, _("Usage: acmed [OPTION]...                 run the daemon\n"
                 "       acmed [OPTION]... issue NAME...   issue certificates once\n"
                 "       acmed [OPTION]... status [--json] show the daemon's status\n"
                 "       acmed [OPTION]... renew NAME      make the daemon issue NAME now\n"
                 "\n"
                 "Keeps a directory of TLS certificates (txsni layout: NAME.pem) issued and\n"
                 "renewed by an ACME CA, and serves TLS with it.\n"
                 "\n"
                 "  -c, --config=FILE         configuration file (default %s)\n"
                 "  -p, --port=ENDPOINT       serve TLS: le:DIR:tcp:443, lets:DIR:..., acme:URL:DIR:...\n"
                 "      --path=DIR            serve static files from DIR\n"
                 "      --backend=HOST:PORT   forward decrypted connections to HOST:PORT\n"
                 "  -d, --cert-dir=DIR        certificate directory (renew-only mode)\n"
                 "      --ca=le|lets|URL      ACME CA (renew-only mode; default le)\n"
                 "      --ca-file=FILE        trust FILE for the CA's HTTPS (test CAs)\n"
                 "  -m, --email=ADDRESS       account contact\n"
                 "      --key-type=TYPE       ec256 (default), ec384, rsa2048, rsa3072, rsa4096\n"
                 "      --challenge=TYPE      http-01, tls-alpn-01 or dns-01\n"
                 "      --http-port=N         standalone http-01 port (default 80)\n"
                 "      --webroot=DIR         answer http-01 by writing files under DIR\n"
                 "      --tls-port=N          standalone tls-alpn-01 port (default 443)\n"
                 "      --dns-provider=SPEC   dns-01 provider, e.g. pdns:api_url=...\n"
                 "      --deploy-hook=CMD     run CMD after each new certificate\n"
                 "      --failure-hook=CMD    run CMD when issuing fails\n"
                 "      --expiring-hook=CMD   run CMD when a certificate is missing or expiring\n"
                 "      --state-dir=DIR       status socket and status.json (default /run/acmed)\n"
                 "      --log-level=LEVEL     critical, error, warning, notice (default), info, debug\n"
                 "      --syslog              log to syslog instead of stderr\n"
                 "  -s, --set=SECTION.KEY=VALUE  any setting of acmed.conf(5)\n"
                 "      --json                status: print JSON\n"
                 "  -h, --help                show this help and exit\n"
                 "  -V, --version             show the version and exit\n"
                 "\n"
                 "Exit status: 0 success; 1 a certificate failed (issue) or is inside its panic\n"
                 "window (status); 2 the daemon is not running (status, renew); 64 bad usage;\n"
                 "70 cannot start; 78 bad configuration.  See acmed(8) and acmed.conf(5).\n"),
            DEFAULT_CONFIG);
}

static void add_override(cli *c, const char *section, const char *key, const char *value)
{
    override *g = realloc(c->ov, (c->nov + 1) * sizeof(*g));

    if (!g) {
        fputs("acmed: out of memory\n", stderr);
        exit(ACMED_EXIT_SOFTWARE);
    }
    c->ov = g;
    c->ov[c->nov++] = (override){ section, key, value };
}

/* Read the file, then the command line over it. */
static int load_config(acmed_config *cfg, const cli *c, acme_error **err)
{
    int rc;

    acmed_config_init(cfg);
    if ((rc = acmed_config_load(cfg, c->config, c->config_given, err)) < 0)
        return rc;
    for (size_t i = 0; i < c->nov; i++) {
        const override *o = &c->ov[i];
        char *sec = NULL, *key = NULL;

        if (!o->section) {
            /* --set SECTION.KEY=VALUE */
            const char *dot = strchr(o->key, '.'), *eq = strchr(o->key, '=');

            if (!dot || !eq || dot > eq)
                return acme_error_set(err, ACME_E_INVALID,
                                      _("--set wants SECTION.KEY=VALUE, not \"%s\""), o->key);
            sec = strndup(o->key, (size_t)(dot - o->key));
            key = strndup(dot + 1, (size_t)(eq - dot - 1));
            rc = acmed_config_set(cfg, sec, key, eq + 1, err);
            free(sec);
            free(key);
        } else {
            rc = acmed_config_set(cfg, o->section, o->key, o->value, err);
        }
        if (rc < 0)
            return rc;
    }
    return ACME_OK;
}

/* systemd's readiness protocol (sd_notify(3)), without libsystemd. */
static void notify_systemd(const char *msg)
{
    const char *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    socklen_t len;
    int fd;

    if (!path || (path[0] != '/' && path[0] != '@') || strlen(path) >= sizeof(sun.sun_path))
        return;
    memcpy(sun.sun_path, path, strlen(path));
    if (path[0] == '@')
        sun.sun_path[0] = '\0'; /* abstract namespace */
    len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
    if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
        return;
    sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sun, len);
    close(fd);
}

static int run_daemon(const cli *c)
{
    acmed_config cfg;
    acmed *d = NULL;
    acme_error *e = NULL;
    sigset_t mask;
    int sfd, lfd = -1, pipefd[2] = { -1, -1 }, rc = ACMED_EXIT_OK;
    char *sock_path = NULL;
    bool stop = false;

    if (load_config(&cfg, c, &e) < 0 || acmed_config_check(&cfg, &e) < 0) {
        fprintf(stderr, "acmed: %s\n", acme_error_message(e));
        acme_error_free(e);
        acmed_config_clear(&cfg);
        return ACMED_EXIT_CONFIG;
    }
    acmed_log_setup(cfg.syslog, cfg.log_level);
    /* Blocked before any thread starts, so every thread inherits the mask
     * and only the signalfd sees these. */
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    sfd = signalfd(-1, &mask, SFD_CLOEXEC);
    if (sfd < 0 || pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) < 0) {
        acmed_log(ACME_LOG_CRITICAL, "cannot set up signals: %s", strerror(errno));
        rc = ACMED_EXIT_SOFTWARE;
        goto out;
    }
    if ((lfd = acmed_status_listen(cfg.state_dir, &e)) < 0) {
        acmed_log(ACME_LOG_CRITICAL, "%s", acme_error_message(e));
        acme_error_free(e);
        rc = ACMED_EXIT_SOFTWARE;
        goto out;
    }
    sock_path = acmed_status_socket_path(cfg.state_dir);
    if (acmed_start(&d, &cfg, pipefd[1], &e) < 0) {
        acmed_log(ACME_LOG_CRITICAL, "cannot start: %s", acme_error_message(e));
        acme_error_free(e);
        rc = ACMED_EXIT_SOFTWARE;
        goto out;
    }
    acmed_status_write_file(d, cfg.state_dir);
    notify_systemd("READY=1");
    acmed_log(ACME_LOG_NOTICE, "acmed %s ready", PACKAGE_VERSION);

    while (!stop) {
        struct pollfd pfd[3] = {
            { .fd = sfd, .events = POLLIN },
            { .fd = pipefd[0], .events = POLLIN },
            { .fd = lfd, .events = POLLIN },
        };
        int r = poll(pfd, 3, STATUS_REFRESH_MS);

        if (r < 0 && errno != EINTR)
            break;
        if (r == 0)
            acmed_status_write_file(d, cfg.state_dir);
        if (pfd[0].revents & POLLIN) {
            struct signalfd_siginfo si;

            if (read(sfd, &si, sizeof(si)) != sizeof(si))
                continue;
            if (si.ssi_signo == SIGHUP) {
                acmed_config next;

                notify_systemd("RELOADING=1");
                acmed_log(ACME_LOG_NOTICE, "SIGHUP: reloading the configuration");
                if (load_config(&next, c, &e) < 0 || acmed_config_check(&next, &e) < 0) {
                    acmed_log(ACME_LOG_ERROR, "configuration not reloaded: %s",
                              acme_error_message(e));
                    acme_error_free(e);
                    e = NULL;
                    acmed_config_clear(&next);
                } else if (acmed_config_needs_restart(&cfg, &next) &&
                           strcmp(cfg.state_dir, next.state_dir) == 0) {
                    acmed *nd = NULL;

                    acmed_log(ACME_LOG_NOTICE, "configuration changed: restarting");
                    acmed_stop(d);
                    d = NULL;
                    acmed_log_setup(next.syslog, next.log_level);
                    if (acmed_start(&nd, &next, pipefd[1], &e) < 0) {
                        acmed_log(ACME_LOG_CRITICAL, "cannot start: %s", acme_error_message(e));
                        acme_error_free(e);
                        acmed_config_clear(&next);
                        rc = ACMED_EXIT_SOFTWARE;
                        goto out;
                    }
                    d = nd;
                    acmed_config_clear(&cfg);
                    cfg = next;
                } else {
                    if (strcmp(cfg.state_dir, next.state_dir) != 0)
                        acmed_log(ACME_LOG_WARNING, "state_dir changes need a restart");
                    acmed_log_setup(next.syslog, next.log_level);
                    acmed_update(d, &next);
                    acmed_rescan(d);
                    acmed_config_clear(&next);
                }
                acmed_status_write_file(d, cfg.state_dir);
                notify_systemd("READY=1");
            } else {
                acmed_log(ACME_LOG_NOTICE, "%s: stopping", strsignal((int)si.ssi_signo));
                notify_systemd("STOPPING=1");
                stop = true;
            }
        }
        if (pfd[1].revents & POLLIN) {
            char buf[64];

            while (read(pipefd[0], buf, sizeof(buf)) > 0)
                ;
            acmed_status_write_file(d, cfg.state_dir);
        }
        if (!stop && (pfd[2].revents & POLLIN))
            acmed_status_answer(lfd, d);
    }
out:
    acmed_stop(d);
    if (lfd >= 0) {
        close(lfd);
        unlink(sock_path);
    }
    free(sock_path);
    if (sfd >= 0)
        close(sfd);
    for (int i = 0; i < 2; i++)
        if (pipefd[i] >= 0)
            close(pipefd[i]);
    acmed_config_clear(&cfg);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' },
        { "port", required_argument, NULL, 'p' },
        { "path", required_argument, NULL, 1 },
        { "backend", required_argument, NULL, 2 },
        { "cert-dir", required_argument, NULL, 'd' },
        { "ca", required_argument, NULL, 3 },
        { "ca-file", required_argument, NULL, 4 },
        { "email", required_argument, NULL, 'm' },
        { "key-type", required_argument, NULL, 5 },
        { "challenge", required_argument, NULL, 6 },
        { "http-port", required_argument, NULL, 7 },
        { "webroot", required_argument, NULL, 8 },
        { "tls-port", required_argument, NULL, 9 },
        { "dns-provider", required_argument, NULL, 10 },
        { "deploy-hook", required_argument, NULL, 11 },
        { "failure-hook", required_argument, NULL, 12 },
        { "expiring-hook", required_argument, NULL, 13 },
        { "state-dir", required_argument, NULL, 14 },
        { "log-level", required_argument, NULL, 15 },
        { "syslog", no_argument, NULL, 16 },
        { "json", no_argument, NULL, 17 },
        { "set", required_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    cli c = { .config = DEFAULT_CONFIG };
    const char *cmd;
    int opt, rc;

    setlocale(LC_ALL, "");
#if ENABLE_NLS
    bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    textdomain(GETTEXT_PACKAGE);
#endif
    while ((opt = getopt_long(argc, argv, "c:p:d:m:s:hV", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c': c.config = optarg; c.config_given = true; break;
        case 'p': add_override(&c, "serve", "port", optarg); break;
        case 1: add_override(&c, "serve", "path", optarg); break;
        case 2: add_override(&c, "serve", "backend", optarg); break;
        case 'd': add_override(&c, "acmed", "cert_dir", optarg); break;
        case 3: add_override(&c, "acmed", "ca", optarg); break;
        case 4: add_override(&c, "acmed", "ca_file", optarg); break;
        case 'm': add_override(&c, "acmed", "email", optarg); break;
        case 5: add_override(&c, "acmed", "key_type", optarg); break;
        case 6: add_override(&c, "challenge", "type", optarg); break;
        case 7: add_override(&c, "challenge", "http_port", optarg); break;
        case 8: add_override(&c, "challenge", "webroot", optarg); break;
        case 9: add_override(&c, "challenge", "tls_port", optarg); break;
        case 10: add_override(&c, "challenge", "dns_provider", optarg); break;
        case 11: add_override(&c, "hooks", "deploy", optarg); break;
        case 12: add_override(&c, "hooks", "failure", optarg); break;
        case 13: add_override(&c, "hooks", "expiring", optarg); break;
        case 14: add_override(&c, "acmed", "state_dir", optarg); break;
        case 15: add_override(&c, "acmed", "log_level", optarg); break;
        case 16: add_override(&c, "acmed", "syslog", "yes"); break;
        case 17: c.json = true; break;
        case 's': add_override(&c, NULL, optarg, NULL); break;
        case 'h':
            usage(stdout);
            free(c.ov);
            return ACMED_EXIT_OK;
        case 'V':
            printf("acmed (libacme) %s\n", acme_version());
            free(c.ov);
            return ACMED_EXIT_OK;
        default:
            usage(stderr);
            free(c.ov);
            return ACMED_EXIT_USAGE;
        }
    }
    cmd = optind < argc ? argv[optind++] : "run";
    if (acme_global_init() < 0) {
        fputs("acmed: cannot initialise libacme\n", stderr);
        free(c.ov);
        return ACMED_EXIT_SOFTWARE;
    }
    if (strcmp(cmd, "run") == 0 && optind == argc) {
        rc = run_daemon(&c);
    } else if (strcmp(cmd, "issue") == 0 && optind < argc) {
        acmed_config cfg;
        acme_error *e = NULL;

        if (load_config(&cfg, &c, &e) < 0 || acmed_config_check(&cfg, &e) < 0) {
            fprintf(stderr, "acmed: %s\n", acme_error_message(e));
            acme_error_free(e);
            rc = ACMED_EXIT_CONFIG;
        } else {
            acmed_log_setup(cfg.syslog, cfg.log_level);
            rc = acmed_issue_once(&cfg, argv + optind, (size_t)(argc - optind));
        }
        acmed_config_clear(&cfg);
    } else if ((strcmp(cmd, "status") == 0 && optind == argc) ||
               (strcmp(cmd, "renew") == 0 && optind + 1 == argc)) {
        acmed_config cfg;
        acme_error *e = NULL;

        /* Only the state directory matters here. */
        if (load_config(&cfg, &c, &e) < 0) {
            fprintf(stderr, "acmed: %s\n", acme_error_message(e));
            acme_error_free(e);
            rc = ACMED_EXIT_CONFIG;
        } else if (cmd[0] == 's') {
            rc = acmed_status_client(cfg.state_dir, c.json);
        } else {
            rc = acmed_status_renew_client(cfg.state_dir, argv[optind]);
        }
        acmed_config_clear(&cfg);
    } else {
        usage(stderr);
        rc = ACMED_EXIT_USAGE;
    }
    acme_global_cleanup();
    free(c.ov);
    return rc;
}
