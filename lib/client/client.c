/*
 * client: the acme_client object: options, the account key, the logger,
 * the transport underneath, cancellation and counters.  The protocol steps
 * live in the other files of lib/client/.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "client/client-internal.h"
#include "util/i18n.h"

static bool url_ok(const char *url)
{
    /* http:// is accepted for test CAs on loopback (and mock servers);
     * RFC 8555 §6.1 requires HTTPS of real servers, which is the CA's
     * business to offer, not ours to refuse. */
    return url && (strncmp(url, "https://", 8) == 0 || strncmp(url, "http://", 7) == 0) &&
           strlen(url) > 8;
}

int acme_client_new(acme_client **out, const acme_client_options *opts, acme_error **err)
{
    acme__transport_options topts;
    acme_client *c;
    int rc;

    if (!out)
        return acme_error_set(err, ACME_E_INVALID, _("no place for the client"));
    *out = NULL;
    if (!opts)
        return acme_error_set(err, ACME_E_INVALID, _("no client options"));
    if (opts->version < 1 || opts->version > ACME_CLIENT_OPTIONS_VERSION)
        return acme_error_set(err, ACME_E_INVALID, _("unsupported client options version %u"),
                              opts->version);
    if (!url_ok(opts->directory_url))
        return acme_error_set(err, ACME_E_INVALID, _("the directory URL must be an http(s) URL"));
    if (!opts->account_key)
        return acme_error_set(err, ACME_E_INVALID, _("an account key is required"));
    if (opts->connect_timeout_ms < 0 || opts->request_timeout_ms < 0)
        return acme_error_set(err, ACME_E_INVALID, _("negative timeout"));

    if (!(c = calloc(1, sizeof(*c))))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    c->log.fn = opts->log;
    c->log.userdata = opts->log_userdata;
    c->log.level = opts->log_level ? opts->log_level : ACME_LOG_INFO;
    if (!(c->directory_url = strdup(opts->directory_url))) {
        free(c);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    c->key = acme__key_ref(opts->account_key);

    memset(&topts, 0, sizeof(topts));
    topts.ca_file = opts->ca_file;
    topts.proxy = opts->proxy;
    topts.user_agent = opts->user_agent;
    topts.connect_timeout_ms = opts->connect_timeout_ms;
    topts.request_timeout_ms = opts->request_timeout_ms;
    topts.max_response_size = opts->max_response_size;
    topts.badnonce_retries = opts->badnonce_retries ? opts->badnonce_retries
                                                    : ACME_BADNONCE_RETRIES;
    topts.log = &c->log;  /* lives as long as the client, which owns the transport */
    if ((rc = acme__transport_new(&c->transport, &topts, err)) < 0) {
        acme_client_free(c);
        return rc;
    }
    *out = c;
    return ACME_OK;
}

void acme_client_free(acme_client *client)
{
    if (!client)
        return;
    acme__transport_free(client->transport);
    acme__directory_free(client->dir);
    acme_key_free(client->key);
    free(client->directory_url);
    free(client->kid);
    free(client->account_status);
    acme_free_strv(client->contact, client->ncontact);
    acme__reg_options_clear(&client->reg);
    free(client);
}

void acme_client_cancel(acme_client *client)
{
    if (client && client->transport)
        acme__transport_cancel(client->transport);
}

void acme_client_reset_cancel(acme_client *client)
{
    if (client && client->transport)
        acme__transport_reset_cancel(client->transport);
}

void acme_client_stats(const acme_client *client, uint64_t *requests, uint64_t *badnonce_retries)
{
    uint64_t r = 0, b = 0;

    if (client && client->transport)
        acme__transport_stats(client->transport, &r, &b);
    if (requests)
        *requests = r;
    if (badnonce_retries)
        *badnonce_retries = b;
}

const char *acme_status_string(acme_status status)
{
    switch (status) {
    case ACME_STATUS_PENDING: return "pending";
    case ACME_STATUS_READY: return "ready";
    case ACME_STATUS_PROCESSING: return "processing";
    case ACME_STATUS_VALID: return "valid";
    case ACME_STATUS_INVALID: return "invalid";
    case ACME_STATUS_EXPIRED: return "expired";
    case ACME_STATUS_DEACTIVATED: return "deactivated";
    case ACME_STATUS_REVOKED: return "revoked";
    case ACME_STATUS_UNKNOWN: break;
    }
    return "unknown";
}

acme_status acme__status_parse(const char *s)
{
    static const acme_status all[] = {
        ACME_STATUS_PENDING, ACME_STATUS_READY, ACME_STATUS_PROCESSING,
        ACME_STATUS_VALID, ACME_STATUS_INVALID, ACME_STATUS_EXPIRED,
        ACME_STATUS_DEACTIVATED, ACME_STATUS_REVOKED,
    };

    if (!s)
        return ACME_STATUS_UNKNOWN;
    for (size_t i = 0; i < ACME_ARRAY_SIZE(all); i++)
        if (strcmp(s, acme_status_string(all[i])) == 0)
            return all[i];
    return ACME_STATUS_UNKNOWN;
}

time_t acme__deadline(time_t deadline)
{
    return deadline ? deadline : time(NULL) + 300;
}

int acme__parse_object(json_object **out, const acme__response *resp, const char *what,
                       acme_error **err)
{
    json_object *o;
    int rc;

    *out = NULL;
    if ((rc = acme__json_parse(&o, resp->body.data, resp->body.len, what, err)) < 0)
        return rc;
    if (!json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        return acme_error_set(err, ACME_E_PROTOCOL, _("the %s is not a JSON object"), what);
    }
    *out = o;
    return ACME_OK;
}

acme_error *acme__embedded_error(json_object *o, int code)
{
    json_object *p = acme__json_obj(o, "error");
    acme_error *e;
    char *s;

    if (!p)
        return NULL;
    if (!(s = acme__json_dump(p)))
        return NULL;
    e = acme__problem_from_json(s, strlen(s), 0);
    free(s);
    if (!e)
        e = acme__error_new(code, _("the server reported an error without a problem document"));
    else if (code < 0)
        e->code = code;
    return e;
}

/*
 * Polling schedule.  Pebble validates within milliseconds and sends no
 * Retry-After, so the first poll goes out at once and the next ones back
 * off from 100 ms, doubling up to 2 s; a Retry-After from the server
 * always wins (RFC 8555 §7.5.1 asks clients to honour it).
 */
#define POLL_FIRST_MS 100
#define POLL_MAX_MS 2000

int64_t acme__poll_delay_ms(unsigned int attempt, int64_t retry_after)
{
    int64_t d = POLL_FIRST_MS;

    if (attempt == 0)
        return 0;
    if (retry_after >= 0)
        return retry_after * 1000;
    for (unsigned int i = 1; i < attempt && d < POLL_MAX_MS; i++)
        d *= 2;
    return d < POLL_MAX_MS ? d : POLL_MAX_MS;
}

int acme__poll_wait(acme_client *client, unsigned int attempt, int64_t retry_after,
                    time_t deadline, const char *what, acme_error **err)
{
    return acme__poll_sleep(client, acme__poll_delay_ms(attempt, retry_after), deadline, what,
                            err);
}

int acme__poll_sleep(acme_client *client, int64_t ms, time_t deadline, const char *what,
                     acme_error **err)
{
    time_t now = time(NULL);

    if (acme__transport_cancelled(client->transport))
        return acme_error_set(err, ACME_E_CANCELLED, "%s", acme_strerror(ACME_E_CANCELLED));
    if (now >= deadline || now + (ms + 999) / 1000 > deadline)
        return acme_error_set(err, ACME_E_TIMEOUT, _("timed out waiting for the %s"), what);
    if (ms == 0)
        return ACME_OK;
    return acme__transport_sleep(client->transport, ms, err);
}
