/*
 * tests/unit/dnsp1: mocks of the Cloudflare, DigitalOcean, Hetzner (Cloud
 * and legacy), Linode and deSEC APIs on tests/support/mockhttp.c, over one
 * in-memory zone store, for the provider tests in dnsp1.c.
 *
 * Each mock checks the requests field by field as the provider documents
 * them (paths, methods, headers, auth, exact JSON bodies) with g_assert,
 * so a wrong request fails the test program, and answers with the
 * provider's own shapes, pagination (mock->page_size items per page) and
 * error bodies.  Fault switches make the next requests fail.
 */
#ifndef ACME_TESTS_DNSP1_H
#define ACME_TESTS_DNSP1_H

#include <stdbool.h>

#include <glib.h>
#include <json-c/json.h>

#include <acme/acme.h>
#include <acme/dns.h>
#include <acme/sys/dns.h>

#include "support/mockhttp.h"

/* The credential every mock accepts; it must never appear in a message or log line. */
#define SECRET "s3cr3t-TOKEN-do-not-print"
#define EMAIL "ops@example.com"

typedef struct mzone {
    char *id;
    char *name;
    unsigned int min_ttl;   /* deSEC minimum_ttl */
} mzone;

typedef struct mrec {
    long long id;
    mzone *zone;
    char *fqdn;             /* "_acme-challenge.example.com" */
    char *value;            /* unquoted */
    unsigned int ttl;
} mrec;

typedef struct mock {
    mockhttp *m;
    GMutex lock;
    GPtrArray *zones;       /* mzone* */
    GPtrArray *recs;        /* mrec* */
    long long next_id;
    unsigned int page_size; /* list items per page */
    /* Fault switch: the next fault_n requests (after the auth check) get this answer. */
    unsigned int fault_n;
    unsigned int fault_skip;   /* requests let through before the fault applies */
    mockhttp_response fault;
    /* Hetzner: polls of an action before it leaves "running"; and whether it then fails. */
    unsigned int action_polls;
    bool action_error;
    GHashTable *actions;    /* action id -> polls left */
    long long next_action;
    /* deSEC: RRset writes allowed before 429 (0: no limit); writes so far. */
    unsigned int write_limit;
    unsigned int writes;
} mock;

mock *mock_new(mockhttp_handler *handler);
void mock_free(mock *mk);
mzone *mock_zone_add(mock *mk, const char *id, const char *name, unsigned int min_ttl);
/* The next @p n requests get @p status with @p headers and @p body (static strings). */
void mock_fault(mock *mk, unsigned int n, unsigned int status, const char *headers,
                const char *body);
/* The values at @p fqdn, sorted, joined with ','; g_free() it. */
char *mock_values(mock *mk, const char *fqdn);
/* How many stored records there are at @p fqdn; the TTL of the first one. */
unsigned int mock_count(mock *mk, const char *fqdn, unsigned int *ttl);
/* Requests so far with this method whose path starts with @p prefix. */
unsigned int mock_requests(mock *mk, const char *method, const char *prefix);
/* The last request with @p method; NULL when none. */
const mockhttp_request *mock_last(mock *mk, const char *method);

/* Helpers of the mocks (dnsp1-mocks.c); the store ones run with mk->lock held. */
mzone *mk_zone_by(mock *mk, const char *id_or_name);
mrec *mk_rec_add(mock *mk, mzone *z, const char *fqdn, const char *value, unsigned int ttl);
mrec *mk_rec_by_id(mock *mk, long long id);
mrec *mk_rec_find(mock *mk, const char *fqdn, const char *value);
/* @p o serialised for an answer (lives as long as the mock); takes @p o. */
const char *mk_json_out(mock *mk, json_object *o);
json_object *mk_jparse(const char *s);
/* The request body: Content-Type checked, exactly the members in @p keys ("a,b"). */
json_object *mk_body_obj(const mockhttp_request *req, const char *keys);
const char *mk_jstr(json_object *o, const char *key);
long long mk_jint(json_object *o, const char *key);
/* "\"v\"" -> "v" (g_free); NULL when not one quoted string. */
char *mk_unquote(const char *s);
/* The path after @p prefix split at '/' (g_strfreev), or NULL. */
gchar **mk_path_parts(const mockhttp_request *req, const char *prefix);
bool mk_is(const mockhttp_request *req, const char *method);
unsigned int mk_arg_uint(const mockhttp_request *req, const char *name, unsigned int def);
/* Take the armed fault into @p out, if any. */
bool mk_fault(mock *mk, mockhttp_response *out);
/* @p fqdn relative to zone @p z ("" at the apex), and back ("" or "@" is the apex). */
char *mk_relative(const mzone *z, const char *fqdn);
char *mk_absolute(const mzone *z, const char *rel);

void mock_cloudflare(void *ud, const mockhttp_request *req, mockhttp_response *out);
void mock_digitalocean(void *ud, const mockhttp_request *req, mockhttp_response *out);
void mock_hetzner(void *ud, const mockhttp_request *req, mockhttp_response *out);
void mock_linode(void *ud, const mockhttp_request *req, mockhttp_response *out);
void mock_desec(void *ud, const mockhttp_request *req, mockhttp_response *out);


/* ---- shared by the test files (dnsp1.c) ---- */

#define NAME "_acme-challenge.example.com"

/* A provider under test and how to reach its mock. */
typedef struct pdef {
    const char *name;          /* registry name */
    const char *alias;         /* an alias, or NULL */
    const char *prefix;        /* env prefix of the core settings */
    mockhttp_handler *handler;
    const char *base;          /* appended to the mock's URL: the base_url setting */
    const char *cred;          /* the credential setting */
    const char *cred_env;      /* its lego variable */
    const char *base_env;      /* a variable for base_url */
    const char *ids[5];        /* the ids of zone_names[], in the provider's format */
    const char *list_path;     /* the zone list */
    unsigned int default_ttl;
} pdef;

/* The zones every mock holds, in this order (sub.example.com: deSEC minimum_ttl 7200). */
extern const char *const zone_names[5];
const pdef *pdef_get(const char *name);

/* rc is @p code, and *err agrees and holds no secret. */
void expect(int rc, acme_error **err, int code);
void clear(acme_error **err);
/* No log line so far held the secret (and there were some); forget them. */
void logs_check(void);
mock *mock_for(const pdef *d);
/* An instance on @p mk with credential @p cred and @p more "k=v" settings (or NULL). */
acme_dns_provider *prov_new(mock *mk, const pdef *d, const char *cred, const char *const *more);
/* An instance from exactly these settings (base_url first: the mock URL + @p d->base). */
acme_dns_provider *prov_new_raw(mock *mk, const pdef *d, const char *const *settings);
/* A TXT value for the vtable in zone_names[@p zi] (@p z receives the zone). */
acme_dns_txt txt_in(acme_dns_zone *z, const pdef *d, size_t zi, const char *fqdn,
                    const char *rel, const char *value, unsigned int ttl);
/* Register the provider-specific cases (dnsp1-specific.c). */
void dnsp1_add_specific_tests(void);

#endif
