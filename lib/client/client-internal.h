/*
 * client: what the files of lib/client/ share: the structures behind the
 * opaque public types and the signed-request helpers every protocol step
 * goes through.  Only lib/client/ includes this header.
 */
#ifndef ACME_CLIENT_INTERNAL_H
#define ACME_CLIENT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <acme/client.h>
#include <acme/responder.h>
#include <acme/sys/responder.h>

#include "crypto/crypto.h"
#include "transport/transport.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include "util/util.h"

/* How many resources acme_directory_resource names. */
#define ACME__DIR_NRES 7

struct acme_directory {
    char *urls[ACME__DIR_NRES];  /* indexed by acme_directory_resource; NULL: absent */
    char *terms_of_service;
    char *website;
    char **caa;
    size_t ncaa;
    bool eab_required;
    char **profiles;             /* names */
    char **profile_desc;         /* parallel; entries may be NULL */
    size_t nprofiles;
};

/* The options of the last successful acme_client_account_register(), kept
 * so that an accountDoesNotExist answer can be recovered from. */
typedef struct acme__reg_options {
    bool set;
    char **contact;
    size_t ncontact;
    bool terms_agreed;
    char *eab_kid;
    char *eab_hmac_key;          /* a secret: wiped on free */
    char *eab_alg;
} acme__reg_options;

struct acme_client {
    acme__logger log;
    acme__transport *transport;
    char *directory_url;
    acme_key *key;               /* the account key (a reference) */
    acme_directory *dir;         /* NULL until fetched */
    char *kid;                   /* the account URL; NULL: no account yet */
    char *account_status;
    char **contact;
    size_t ncontact;
    acme__reg_options reg;
    bool recovering;             /* inside an accountDoesNotExist recovery */
};

struct acme_order {
    char *url;
    acme_status status;
    time_t expires;
    acme_identifier *ids;        /* each value points into id_values */
    char **id_values;
    size_t nids;
    char **authz;
    size_t nauthz;
    char *finalize;
    char *certificate;
    acme_error *error;
    int64_t retry_after;         /* from the last response, -1: none */
};

struct acme_challenge {
    char *type;
    char *url;
    char *token;                 /* NULL when the type has none */
    acme_status status;
    acme_error *error;
};

struct acme_authorization {
    char *url;
    acme_status status;
    acme_identifier id;          /* value points to id_value */
    char *id_value;
    bool wildcard;
    time_t expires;
    acme_challenge **ch;         /* each allocated alone: pointers outlive refreshes */
    size_t nch;
    acme_challenge **retired;    /* challenges the CA stopped listing, kept until free */
    size_t nretired;
    int64_t retry_after;
};

struct acme_renewal_info {
    time_t start;
    time_t end;
    char *explanation_url;
    int64_t retry_after;
};

struct acme_responder {
    const acme_responder_ops *ops;  /* borrowed, static */
    void *self;
};

/* ---- directory.c ---- */

/* The directory, fetched on first use. */
int acme__client_dir(const acme_directory **out, acme_client *client, acme_error **err);
/* A resource URL the request needs; ACME_E_NOTSUP naming it when absent. */
int acme__client_dir_url(const char **out, acme_client *client, acme_directory_resource r,
                         acme_error **err);
void acme__directory_free(acme_directory *dir);
/* Parse a directory response body (a function of its own for the fuzzer). */
int acme__directory_parse(acme_directory **out, const acme__response *resp, acme_error **err);

/* ---- account.c ---- */

/*
 * A kid-signed POST (RFC 8555 §6.2) with the account key.  Without an
 * account it fails with ACME_E_INVALIDSTATE.  An accountDoesNotExist
 * answer re-registers the account with the kept options and sends the
 * request once more.  @p payload NULL: POST-as-GET.
 */
int acme__client_post(acme__response *resp, acme_client *client, const char *url,
                      const char *payload, const char *accept, acme_error **err);

/* The same, parsing a JSON object body into *out (freed with json_object_put). */
int acme__client_post_json(json_object **out, acme__response *resp, acme_client *client,
                           const char *url, const char *payload, const char *what,
                           acme_error **err);

/* Take status and contact from an account response (an empty body is
 * accepted); a function of its own for the fuzzer. */
int acme__account_parse(acme_client *client, const acme__response *resp, acme_error **err);

/* Free the kept registration options. */
void acme__reg_options_clear(acme__reg_options *o);

/* ---- order.c / authz.c ---- */

/* "pending" -> ACME_STATUS_PENDING; ACME_STATUS_UNKNOWN for anything else. */
acme_status acme__status_parse(const char *s);

/*
 * How long to wait before poll number @p attempt (0: the first, right
 * away), in milliseconds, given the server's Retry-After (-1: none).
 */
int64_t acme__poll_delay_ms(unsigned int attempt, int64_t retry_after);

/*
 * Sleep before the next poll, or fail with ACME_E_TIMEOUT when that would
 * pass @p deadline; ACME_E_CANCELLED when the client is cancelled.
 */
int acme__poll_wait(acme_client *client, unsigned int attempt, int64_t retry_after,
                    time_t deadline, const char *what, acme_error **err);

/* The same for a wait of @p ms milliseconds (0: no wait, only the checks). */
int acme__poll_sleep(acme_client *client, int64_t ms, time_t deadline, const char *what,
                     acme_error **err);

/*
 * The first look at an authorization that is pending after its challenge
 * was answered waits this long: a CA needs at least a few milliseconds
 * to validate (Pebble on loopback about 10), so a look at once only
 * costs a request.
 */
#define ACME__POLL_AUTHZ_FIRST_MS 50

/*
 * Parse an order or authorization response into a zeroed @p o or @p a
 * (freed with acme_order_free() / acme_authorization_free(), or cleared on
 * failure by the caller); functions of their own for the fuzzer.
 */
int acme__order_parse(acme_order *o, const acme__response *resp, acme_error **err);
int acme__authz_parse(acme_authorization *a, const acme__response *resp, acme_error **err);

/* Build an error from an object's "error" member (NULL when absent). */
acme_error *acme__embedded_error(json_object *o, int code);

/* Parse a JSON object from a response body. */
int acme__parse_object(json_object **out, const acme__response *resp, const char *what,
                       acme_error **err);

/* 0 for an absent deadline: 5 minutes from now. */
time_t acme__deadline(time_t deadline);

#endif
