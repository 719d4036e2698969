/*
 * tests/integration: the PowerDNS harness.
 *
 * Starts a private PowerDNS Authoritative server (Debian pdns-server +
 * pdns-backend-sqlite3) with a fresh sqlite3 database in a temporary
 * directory, answering DNS on 127.0.0.1:<free port> (UDP and TCP) and its
 * HTTP API on 127.0.0.1:<free port>, with a random API key.  Several may
 * run at once.  A missing pdns_server or sqlite3 is a hard error (exit
 * status 99 for automake), never a skipped test.
 *
 * Thread safety: pdns_start()/pdns_stop() from the main thread; the API
 * helpers are MT-Safe (each call has its own HTTP handle).
 */
#ifndef LIBACME_TESTS_PDNS_H
#define LIBACME_TESTS_PDNS_H

#include <stdbool.h>
#include <sys/types.h>

#include <glib.h>

#include <acme/sys/responder.h>

typedef struct pdns_server {
    char *tmpdir;        /* removed by pdns_stop() */
    char *log_path;
    char *api_url;       /* http://127.0.0.1:P (the server root, as PDNS_API_URL) */
    char *api_key;       /* random */
    char *dns_addr;      /* 127.0.0.1:P, for -dnsserver and the nameserver option */
    unsigned int dns_port, api_port;
    pid_t pid;
} pdns_server;

/* Start a server and wait until its API answers; on failure print why and exit 99. */
pdns_server *pdns_start(void);

/*
 * Like pdns_start(), with RFC 2136 dynamic updates accepted from loopback
 * (dnsupdate=yes, allow-dnsupdate-from=127.0.0.0/8; research notes,
 * section 3.4).  A zone whose TSIG-ALLOW-DNSUPDATE metadata names a key
 * takes only updates signed with it.
 */
pdns_server *pdns_start_dnsupdate(void);

/* Kill the server, wait for it, remove the directory (NULL-safe). */
void pdns_stop(pdns_server *s);

/*
 * One API call: @p path below /api/v1/servers/localhost, @p body JSON or
 * NULL.  Returns the HTTP status (0: no answer); *resp (may be NULL)
 * receives the body (g_free).
 */
long pdns_api(const pdns_server *s, const char *method, const char *path, const char *body,
              char **resp);

/* Create the Native zone @p zone ("example.test", no dot) with NS ns1.<zone>; true on 201. */
bool pdns_create_zone(const pdns_server *s, const char *zone);

/* Put a CNAME @p name -> @p target (names without dots) in @p zone; true on 204. */
bool pdns_set_cname(const pdns_server *s, const char *zone, const char *name, const char *target);

/*
 * The TXT values @p s serves at @p name (a real DNS query to it), sorted
 * and joined by ' ', "" for none; *rcode (may be NULL) receives the
 * answer's RCODE.  A failed query fails the test.  Free with g_free().
 */
char *pdns_served(const pdns_server *s, const char *name, int *rcode);

/*
 * A responder that passes every call to @p inner and, after each start,
 * counts the TXT values @p s serves at the name (to see that two values
 * exist at once).  The test owns the spy: pdns_spy_ops.destroy does
 * nothing.
 */
typedef struct pdns_spy {
    acme_responder *inner;
    const pdns_server *s;
    unsigned int max_values, starts, stops;
    GMutex lock;
} pdns_spy;

extern const acme_responder_ops pdns_spy_ops;

#endif /* LIBACME_TESTS_PDNS_H */
