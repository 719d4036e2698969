/*
 * acmed: the daemon's shared declarations.
 *
 * acmed uses only the public libacme API (the acme/ headers).  Files by
 * responsibility: main.c (command line, signals, main loop), config.c
 * (acmed.conf via libinih), daemon.c (building the service, responders
 * and endpoint from a configuration), serve.c (static files), proxy.c
 * (TLS termination), hooks.c (hook commands), status.c (status socket,
 * status file, `acmed status`), log.c (stderr or syslog).
 */
#ifndef ACMED_H
#define ACMED_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <acme/acme.h>
#include <acme/sys/error.h>

#if ENABLE_NLS
# include <libintl.h>
# define _(s) gettext(s)
#else
# define _(s) (s)
#endif

/* Exit codes, documented in acmed(8). */
#define ACMED_EXIT_OK 0
#define ACMED_EXIT_FAILURE 1     /* issue: a certificate failed; status: a name panics */
#define ACMED_EXIT_NOT_RUNNING 2 /* status: the daemon does not answer */
#define ACMED_EXIT_USAGE 64      /* EX_USAGE: bad command line */
#define ACMED_EXIT_CONFIG 78     /* EX_CONFIG: bad configuration file or setting */
#define ACMED_EXIT_SOFTWARE 70   /* EX_SOFTWARE: could not start (bind, store, ...) */

/* ------------------------------------------------------------------ */
/* Configuration (config.c)                                            */
/* ------------------------------------------------------------------ */

typedef enum acmed_challenge {
    ACMED_CHALLENGE_DEFAULT = 0, /* tls-alpn-01 when serving, else http-01 */
    ACMED_CHALLENGE_HTTP01,
    ACMED_CHALLENGE_TLSALPN01,
    ACMED_CHALLENGE_DNS01
} acmed_challenge;

typedef struct acmed_config {
    /* [acmed] */
    char *ca;                  /* "le", "lets" or a directory URL */
    char *ca_file;             /* PEM bundle to trust for the CA's HTTPS */
    char *cert_dir;            /* the txsni certificate directory */
    char *email;
    acme_key_type key_type;
    unsigned int workers;
    acme_log_level log_level;
    bool syslog;
    char *state_dir;           /* status socket and status.json */
    int64_t check_interval, reissue_interval, panic_interval; /* seconds; 0: default */
    /* [challenge] */
    acmed_challenge challenge;
    char *http_address;        /* standalone http-01 address; NULL: every address */
    unsigned int http_port;    /* standalone http-01 port; 0: 80 */
    char *webroot;             /* http-01 webroot instead of the standalone listener */
    char *tls_address;         /* standalone tls-alpn-01 (renew-only mode) */
    unsigned int tls_port;     /* 0: 443 */
    char *dns_provider;        /* "pdns" */
    char **dns_settings;       /* "key=value", NULL-terminated */
    size_t ndns_settings;
    char *dns_nameserver;      /* propagation check server */
    /* [hooks] */
    char *hook_deploy, *hook_failure, *hook_expiring;
    unsigned int hook_timeout; /* seconds; 0: 60 */
    /* [serve] */
    char *port;                /* endpoint string: le:DIR:tcp:443 */
    char *path;                /* static files */
    char *backend;             /* HOST:PORT for TLS termination */
    char *default_name;        /* certificate for clients without SNI */
} acmed_config;

/* An empty configuration with every default. */
void acmed_config_init(acmed_config *c);
void acmed_config_clear(acmed_config *c);
/* A deep copy of @p src into @p dst (which holds nothing). */
void acmed_config_copy(acmed_config *dst, const acmed_config *src);

/*
 * Read @p path (INI, acmed.conf(5)) into @p c, over what it holds.  A
 * missing file is an error only when @p required.  Returns ACME_OK or a
 * negative code with *err set (the message names the file and line).
 */
int acmed_config_load(acmed_config *c, const char *path, bool required, acme_error **err);

/* Set one "section.key" (or "key" of [acmed]) from the command line. */
int acmed_config_set(acmed_config *c, const char *section, const char *key, const char *value,
                     acme_error **err);

/* Check the whole configuration (modes, required settings). */
int acmed_config_check(const acmed_config *c, acme_error **err);

/* The ACME directory URL of "le", "lets" or a URL. */
const char *acmed_ca_url(const char *ca);

/* ------------------------------------------------------------------ */
/* Logging (log.c)                                                     */
/* ------------------------------------------------------------------ */

/* Log to stderr (default) or syslog, from @p level up.  MT-Safe. */
void acmed_log_setup(bool use_syslog, acme_log_level level);
void acmed_log_set_level(acme_log_level level);
acme_log_level acmed_log_get_level(void);
/* An acme_log_fn: libacme's messages go through here too. */
void acmed_log_fn(void *userdata, acme_log_level level, const char *msg,
                  const acme_log_field *fields, size_t nfields);
void acmed_log(acme_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Parse "debug", "info", ... ; false when unknown. */
bool acmed_log_level_parse(const char *s, acme_log_level *out);

/* ------------------------------------------------------------------ */
/* Hooks (hooks.c)                                                     */
/* ------------------------------------------------------------------ */

typedef struct acmed_hook_event {
    const char *event;         /* "deploy", "failure", "expiring" */
    const char *name;
    const char *cert_path;     /* <dir>/<name>.pem */
    const char *cert_dir;
    time_t not_after;          /* 0: none */
    const acme_error *error;   /* failure only */
} acmed_hook_event;

/*
 * Run @p command (split on blanks, no shell) with the ACMED_* variables
 * of @p ev added to the environment; wait at most @p timeout_s seconds,
 * then kill it.  Returns the exit status (0..255), or -1 when it could
 * not run or was killed (logged).
 */
int acmed_hook_run(const char *command, const acmed_hook_event *ev, unsigned int timeout_s);

/* ------------------------------------------------------------------ */
/* Connection handlers (serve.c, proxy.c)                              */
/* ------------------------------------------------------------------ */

/* userdata: the document root (a realpath) */
void acmed_serve_handler(void *userdata, acme_endpoint_conn *conn);
/* userdata: "HOST:PORT" */
void acmed_proxy_handler(void *userdata, acme_endpoint_conn *conn);

/* For tests and serve.c: the content type of a file name. */
const char *acmed_content_type(const char *path);
/*
 * Map a request target to a file under @p root: percent-decoded, "." and
 * ".." refused, "?query" dropped; a directory gets "index.html".  Returns
 * 0 and a malloc'ed path, 404/400 for a missing or refused file.
 */
int acmed_serve_resolve(char **out, const char *root, const char *target);

/* ------------------------------------------------------------------ */
/* The running daemon (daemon.c)                                        */
/* ------------------------------------------------------------------ */

typedef struct acmed acmed;

/* Build everything @p c describes (copied), start it; blocks until the
 * startup issuance is done when serving.  *out is the running daemon. */
int acmed_start(acmed **out, const acmed_config *c, int notify_fd, acme_error **err);
/* Stop (service first, then listeners) and free; NULL-safe. */
void acmed_stop(acmed *d);
/* SIGHUP: rescan the certificate directory and issue what is new or empty. */
void acmed_rescan(acmed *d);
/* Update hooks and log level in place (what needs no restart). */
void acmed_update(acmed *d, const acmed_config *c);
/* Whether @p a and @p b differ in what needs a restart of the service (config.c). */
bool acmed_config_needs_restart(const acmed_config *a, const acmed_config *b);
/* Ask the service to issue @p name now (`acmed renew NAME`). */
int acmed_renew(acmed *d, const char *name, acme_error **err);
/* The status text (@p json false) or JSON; sets *panicking. Caller frees. */
char *acmed_status_render(acmed *d, bool json, bool *panicking);
/* The TCP port served (0 when not serving). */
unsigned int acmed_port(const acmed *d);

/* One-shot issuance of @p names (the `issue` command). */
int acmed_issue_once(const acmed_config *c, char *const *names, size_t n);

/* ------------------------------------------------------------------ */
/* Status (status.c)                                                    */
/* ------------------------------------------------------------------ */

typedef struct acmed_status_entry {
    const char *name;
    time_t not_after;          /* 0: no certificate */
    time_t next_check;         /* 0: none planned */
    unsigned int failures;
    bool in_flight, issuing, blocked;
    const char *error;         /* last error message, or NULL */
    const char *problem;       /* its problem type, or NULL */
} acmed_status_entry;

/* Format entries as text or JSON; malloc'ed.  *panicking: any inside its panic window. */
char *acmed_status_format(const acmed_status_entry *e, size_t n, bool json, time_t now,
                          int64_t panic_interval, bool *panicking);
/* The status socket path in @p state_dir (malloc'ed). */
char *acmed_status_socket_path(const char *state_dir);
/* Listen on the status socket; -1 with *err set on failure. */
int acmed_status_listen(const char *state_dir, acme_error **err);
/* Answer one client of the status socket (main thread). */
void acmed_status_answer(int lfd, acmed *d);
/* Write status.json atomically in @p state_dir. */
void acmed_status_write_file(acmed *d, const char *state_dir);
/* `acmed status [--json]`: ask the daemon; returns the exit code. */
int acmed_status_client(const char *state_dir, bool json);
/* `acmed renew NAME`: ask the daemon to issue NAME now; the exit code. */
int acmed_status_renew_client(const char *state_dir, const char *name);

/* Small helpers (config.c). */
char *acmed_strdup(const char *s);
char *acmed_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
