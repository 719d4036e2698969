/*
 * tests/integration: the Pebble harness.
 *
 * Starts a private Pebble (Let's Encrypt's test ACME server) and its
 * pebble-challtestsrv (mock DNS, and mock http-01 / tls-alpn-01 servers) on
 * free loopback ports, with a throwaway TLS CA, for GLib g_test programs.
 * Several Pebbles may run at once, in one program or in parallel programs:
 * each has its own ports and temporary directory.
 *
 * A missing or broken Pebble is a hard error (exit status 99 for automake),
 * never a skipped test.
 *
 * Also: helpers for challtestsrv's and Pebble's management APIs, and test
 * responders (through <acme/sys/responder.h>) that answer challenges by
 * telling challtestsrv what to serve.
 *
 * Thread safety: pebble_start()/pebble_stop() from the main thread; the
 * management helpers and responders are MT-Safe (each call uses its own
 * HTTP handle).
 */
#ifndef LIBACME_TESTS_PEBBLE_H
#define LIBACME_TESTS_PEBBLE_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

#include <glib.h>

#include <acme/acme.h>

/* Roots pebble_root_pem() caches. */
#define PEBBLE_MAX_ROOTS 4

/* Options for pebble_start().  Initialise with PEBBLE_OPTIONS_INIT. */
typedef struct pebble_options {
    /* externalAccountBindingRequired, with one EAB MAC key (pebble->eab_kid) */
    bool eab;
    /* PEBBLE_WFE_NONCEREJECT; -1: Pebble's default (5 %) */
    int nonce_reject;
    /* PEBBLE_ALTERNATE_ROOTS; -1: not set */
    int alternate_roots;
    /* PEBBLE_CHAIN_LENGTH; -1: not set */
    int chain_length;
    /* PEBBLE_AUTHZREUSE; -1: Pebble's default (50 %) */
    int authz_reuse;
    /* challtestsrv answers http-01 and tls-alpn-01 on Pebble's httpPort and
     * tlsPort (for the test responders); false leaves the ports free */
    bool responders;
    /* PEBBLE_VA_ALWAYS_VALID=1: every challenge is valid without validation */
    bool always_valid;
    /* Pebble's -dnsserver ("127.0.0.1:5300", e.g. a PowerDNS of the test);
     * NULL: challtestsrv's DNS */
    const char *dns_server;
} pebble_options;

#define PEBBLE_OPTIONS_INIT { false, -1, -1, -1, -1, true, false, NULL }

typedef struct pebble {
    char *tmpdir;            /* removed by pebble_stop() */
    char *log_path;          /* both programs' output */
    char *directory_url;     /* https://127.0.0.1:P/dir */
    char *ca_file;           /* PEM of the throwaway CA that signs Pebble's HTTPS certificate */
    char *management_url;    /* https://127.0.0.1:P (Pebble's management API, no trailing /) */
    char *challtestsrv_url;  /* http://127.0.0.1:P (challtestsrv's management API) */
    char *eab_kid;           /* with pebble_options.eab, else NULL */
    char *eab_hmac_key;      /* base64url */
    unsigned int listen_port, management_port, http_port, tls_port, dns_port, cts_port;
    pid_t pebble_pid, cts_pid;
    pebble_options opts;     /* as started (dns_server points at dns_server_copy), for pebble_restart() */
    char *dns_server_copy;
    pthread_mutex_t cache_lock;
    char *root_cache[PEBBLE_MAX_ROOTS]; /* guarded by cache_lock */
} pebble;

/*
 * Start a Pebble and its challtestsrv and wait until the directory answers.
 * On any failure prints why (with the tail of the log) and exits 99.
 */
pebble *pebble_start(const pebble_options *opts);

/* Kill both programs, wait for them, remove the temporary directory (NULL-safe). */
void pebble_stop(pebble *p);

/*
 * Kill Pebble alone with SIGKILL (a crash) and reap it; challtestsrv stays.
 * Pebble keeps every account, order and certificate in memory: they are gone.
 * May run on any thread, but not at the same time as another call on @p p
 * that starts or stops a program.
 */
void pebble_kill(pebble *p);

/*
 * Start Pebble again (after pebble_kill(), or killing it first) on the same
 * ports, configuration, TLS files and environment, and wait until the
 * directory answers.  Its state is new: accounts and orders of the old run
 * are unknown, the issuing roots are new ones.  On failure exits 99.
 */
void pebble_restart(pebble *p);

/* Print the last @p lines of the log to stderr (for failures). */
void pebble_print_log_tail(const pebble *p, int lines);

/* ---- challtestsrv management API (POST JSON); return true on HTTP 200 ---- */

bool pebble_cts_add_http01(const pebble *p, const char *token, const char *content);
bool pebble_cts_del_http01(const pebble *p, const char *token);
/* @p host is the full record name, e.g. "_acme-challenge.example.com." */
bool pebble_cts_set_txt(const pebble *p, const char *host, const char *value);
bool pebble_cts_clear_txt(const pebble *p, const char *host);
bool pebble_cts_add_tlsalpn01(const pebble *p, const char *host, const char *content);
bool pebble_cts_del_tlsalpn01(const pebble *p, const char *host);
bool pebble_cts_add_a(const pebble *p, const char *host, const char *addr);

/* ---- Pebble management API (HTTPS, trusting p->ca_file) ---- */

/* GET any URL (trusting @p ca_file when not NULL); the body (g_free), or NULL when no answer. */
char *pebble_http_get(const char *url, const char *ca_file, long *status);

/* GET management_url + path; returns the body (g_free) or NULL; *status set if not NULL. */
char *pebble_mgmt_get(const pebble *p, const char *path, long *status);
/* /roots/N and /intermediates/N as PEM, or NULL. */
char *pebble_root_pem(const pebble *p, int n);
char *pebble_intermediate_pem(const pebble *p, int n);
/* The "Status" of /cert-status-by-serial/<hex> ("Valid", "Revoked"), or NULL. */
char *pebble_cert_status(const pebble *p, const char *serial_hex);

/* ---- test responders through <acme/sys/responder.h> ---- */

/* Answers @p challenge_type ("http-01", "dns-01", "tls-alpn-01") through challtestsrv. */
acme_responder *pebble_responder_new(pebble *p, const char *challenge_type);

/* How many challenges a responder made by pebble_responder_new() has started and stopped. */
void pebble_responder_counts(const acme_responder *r, unsigned int *started, unsigned int *stopped);

#endif /* LIBACME_TESTS_PEBBLE_H */
