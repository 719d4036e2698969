/*
 * client: orders (RFC 8555 §7.4): newOrder, refresh, polling, finalize
 * and certificate download with alternate chains (§7.4.2).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "client/client-internal.h"
#include "util/i18n.h"

#define NOMEM(err) acme_error_set((err), ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM))

static void order_clear(acme_order *o)
{
    free(o->url);
    free(o->ids);
    acme_free_strv(o->id_values, o->nids);
    acme_free_strv(o->authz, o->nauthz);
    free(o->finalize);
    free(o->certificate);
    acme_error_free(o->error);
    memset(o, 0, sizeof(*o));
}

void acme_order_free(acme_order *order)
{
    if (!order)
        return;
    order_clear(order);
    free(order);
}

static int parse_identifiers(acme_order *o, json_object *arr, acme_error **err)
{
    size_t n = arr ? json_object_array_length(arr) : 0;

    if (n == 0)
        return acme_error_set(err, ACME_E_PROTOCOL, _("the order has no identifiers"));
    if (!(o->ids = calloc(n, sizeof(*o->ids))) || !(o->id_values = calloc(n, sizeof(char *))))
        return NOMEM(err);
    for (size_t i = 0; i < n; i++) {
        json_object *id = json_object_array_get_idx(arr, i);
        const char *type = acme__json_str(id, "type"), *value = acme__json_str(id, "value");

        if (!type || !value)
            return acme_error_set(err, ACME_E_PROTOCOL, _("malformed identifier in the order"));
        if (!(o->id_values[i] = strdup(value)))
            return NOMEM(err);
        o->nids = i + 1;
        /* RFC 8738 adds "ip"; anything else we did not ask for. */
        if (strcmp(type, "dns") == 0)
            o->ids[i].type = ACME_ID_DNS;
        else if (strcmp(type, "ip") == 0)
            o->ids[i].type = ACME_ID_IP;
        else
            return acme_error_set(err, ACME_E_PROTOCOL,
                                  _("unknown identifier type \"%s\" in the order"), type);
        o->ids[i].value = o->id_values[i];
    }
    return ACME_OK;
}

/*
 * RFC 8555 §7.1.3: the order object.  status, identifiers, authorizations
 * and finalize are required; certificate appears once it is valid.
 */
int acme__order_parse(acme_order *o, const acme__response *resp, acme_error **err)
{
    json_object *j;
    const char *s;
    int rc;

    if ((rc = acme__parse_object(&j, resp, "order", err)) < 0)
        return rc;
    o->retry_after = resp->retry_after;
    if ((o->status = acme__status_parse(acme__json_str(j, "status"))) == ACME_STATUS_UNKNOWN) {
        rc = acme_error_set(err, ACME_E_PROTOCOL, _("the order has no valid status"));
        goto out;
    }
    o->expires = acme__json_time(j, "expires");
    if ((rc = parse_identifiers(o, acme__json_arr(j, "identifiers"), err)) < 0)
        goto out;
    if (!acme__json_arr(j, "authorizations")) {
        rc = acme_error_set(err, ACME_E_PROTOCOL, _("the order has no authorizations"));
        goto out;
    }
    if (acme__json_strv(j, "authorizations", &o->authz, &o->nauthz) < 0) {
        rc = NOMEM(err);
        goto out;
    }
    if (!(s = acme__json_str(j, "finalize"))) {
        rc = acme_error_set(err, ACME_E_PROTOCOL, _("the order has no finalize URL"));
        goto out;
    }
    if (!(o->finalize = strdup(s)) ||
        ((s = acme__json_str(j, "certificate")) && !(o->certificate = strdup(s)))) {
        rc = NOMEM(err);
        goto out;
    }
    o->error = acme__embedded_error(j, ACME_E_REJECTED);
    rc = ACME_OK;
out:
    json_object_put(j);
    return rc;
}

/* Replace *order's state with the response's, keeping the old state when
 * the response does not parse (so that a later refresh can recover). */
static int take_order(acme_order *order, const acme__response *resp, const char *url,
                      acme_error **err)
{
    acme_order fresh;
    int rc;

    memset(&fresh, 0, sizeof(fresh));
    if ((rc = acme__order_parse(&fresh, resp, err)) < 0 ||
        (rc = (fresh.url = strdup(url)) ? ACME_OK : NOMEM(err)) < 0) {
        order_clear(&fresh);
        return rc;
    }
    order_clear(order);
    *order = fresh;
    return ACME_OK;
}

static bool profile_listed(const acme_directory *dir, const char *profile)
{
    for (size_t i = 0; i < dir->nprofiles; i++)
        if (strcmp(dir->profiles[i], profile) == 0)
            return true;
    return false;
}

static int build_order_payload(char **out, acme_client *client, const acme_order_options *opts,
                               const acme_directory *dir, acme_error **err)
{
    json_object *p = json_object_new_object(), *ids = json_object_new_array();
    char tbuf[32];
    int rc = ACME_E_NOMEM;

    *out = NULL;
    if (!p || !ids)
        goto out;
    for (size_t i = 0; i < opts->nids; i++) {
        json_object *id = json_object_new_object();

        if (!id || json_object_array_add(ids, id) != 0) {
            json_object_put(id);
            goto out;
        }
        if (json_object_object_add(id, "type", json_object_new_string(
                                       opts->ids[i].type == ACME_ID_IP ? "ip" : "dns")) != 0 ||
            json_object_object_add(id, "value", json_object_new_string(opts->ids[i].value)) != 0)
            goto out;
    }
    if (json_object_object_add(p, "identifiers", ids) != 0)
        goto out;
    ids = NULL;
    if (opts->not_before) {
        acme__time_format_rfc3339(opts->not_before, tbuf, sizeof(tbuf));
        if (json_object_object_add(p, "notBefore", json_object_new_string(tbuf)) != 0)
            goto out;
    }
    if (opts->not_after) {
        acme__time_format_rfc3339(opts->not_after, tbuf, sizeof(tbuf));
        if (json_object_object_add(p, "notAfter", json_object_new_string(tbuf)) != 0)
            goto out;
    }
    if (opts->profile) {
        if (profile_listed(dir, opts->profile)) {
            if (json_object_object_add(p, "profile", json_object_new_string(opts->profile)) != 0)
                goto out;
        } else if (opts->profile_required) {
            rc = acme_error_set(err, ACME_E_NOTSUP,
                                _("the CA does not offer the certificate profile \"%s\""),
                                opts->profile);
            goto out;
        } else {
            ACME__LOGF(&client->log, ACME_LOG_NOTICE,
                       "the CA does not offer profile %s: ordering without it", opts->profile);
        }
    }
    /* RFC 9773 §5: which certificate this order replaces. */
    if (opts->replaces &&
        json_object_object_add(p, "replaces", json_object_new_string(opts->replaces)) != 0)
        goto out;
    if ((*out = acme__json_dump(p)))
        rc = ACME_OK;
out:
    if (rc == ACME_E_NOMEM)
        NOMEM(err);
    json_object_put(ids);
    json_object_put(p);
    return rc;
}

/*
 * RFC 8555 §7.4: newOrder.  The order URL comes back in Location (201),
 * the order object in the body.
 */
int acme_order_new(acme_order **out, acme_client *client, const acme_order_options *opts,
                   acme_error **err)
{
    const acme_directory *dir;
    acme__response resp;
    acme_order *o;
    char *payload = NULL;
    int rc;

    if (out)
        *out = NULL;
    if (!out || !client || !opts)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    if (opts->version < 1 || opts->version > ACME_ORDER_OPTIONS_VERSION)
        return acme_error_set(err, ACME_E_INVALID, _("unsupported order options version %u"),
                              opts->version);
    if (opts->nids == 0 || !opts->ids)
        return acme_error_set(err, ACME_E_INVALID, _("an order needs at least one identifier"));
    for (size_t i = 0; i < opts->nids; i++)
        if (!opts->ids[i].value || !*opts->ids[i].value ||
            (opts->ids[i].type != ACME_ID_DNS && opts->ids[i].type != ACME_ID_IP))
            return acme_error_set(err, ACME_E_INVALID, _("identifier %zu is empty or of an "
                                                         "unknown type"), i);
    if (opts->not_before && opts->not_after && opts->not_after <= opts->not_before)
        return acme_error_set(err, ACME_E_INVALID, _("notAfter is not after notBefore"));
    if ((rc = acme__client_dir(&dir, client, err)) < 0)
        return rc;
    if ((rc = build_order_payload(&payload, client, opts, dir, err)) < 0)
        return rc;
    rc = acme__client_post(&resp, client, dir->urls[ACME_DIR_NEW_ORDER], payload,
                           "application/json", err);
    free(payload);
    if (rc < 0) {
        acme__response_clear(&resp);
        return acme__error_prefix(err, rc, _("cannot create the order"));
    }
    if (!resp.location) {
        acme__response_clear(&resp);
        return acme_error_set(err, ACME_E_PROTOCOL, _("the CA sent no order URL (Location)"));
    }
    if (!(o = calloc(1, sizeof(*o)))) {
        acme__response_clear(&resp);
        return NOMEM(err);
    }
    rc = take_order(o, &resp, resp.location, err);
    acme__response_clear(&resp);
    if (rc < 0) {
        acme_order_free(o);
        return rc;
    }
    ACME__LOGF(&client->log, ACME_LOG_INFO, "order %s created (%s)", o->url,
               acme_status_string(o->status));
    *out = o;
    return ACME_OK;
}

/* RFC 8555 §7.4 / §6.3: the order's state, POST-as-GET of its URL. */
int acme_order_refresh(acme_order *order, acme_client *client, acme_error **err)
{
    acme__response resp;
    int rc;

    if (!order || !client || !order->url)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    rc = acme__client_post(&resp, client, order->url, NULL, "application/json", err);
    /* take_order copies the URL before it drops the old state. */
    if (rc >= 0)
        rc = take_order(order, &resp, order->url, err);
    acme__response_clear(&resp);
    return rc;
}

const char *acme_order_url(const acme_order *order)
{
    return order ? order->url : NULL;
}

acme_status acme_order_status(const acme_order *order)
{
    return order ? order->status : ACME_STATUS_UNKNOWN;
}

time_t acme_order_expires(const acme_order *order)
{
    return order ? order->expires : 0;
}

size_t acme_order_identifier_count(const acme_order *order)
{
    return order ? order->nids : 0;
}

const acme_identifier *acme_order_identifier(const acme_order *order, size_t i)
{
    return order && i < order->nids ? &order->ids[i] : NULL;
}

size_t acme_order_authorization_count(const acme_order *order)
{
    return order ? order->nauthz : 0;
}

const char *acme_order_authorization_url(const acme_order *order, size_t i)
{
    return order && i < order->nauthz ? order->authz[i] : NULL;
}

const char *acme_order_finalize_url(const acme_order *order)
{
    return order ? order->finalize : NULL;
}

const char *acme_order_certificate_url(const acme_order *order)
{
    return order && order->status == ACME_STATUS_VALID ? order->certificate : NULL;
}

const acme_error *acme_order_error(const acme_order *order)
{
    return order ? order->error : NULL;
}

/* The order failed for good: ACME_E_REJECTED carrying its problem. */
static int order_failed(acme_order *order, acme_error **err)
{
    if (order->error) {
        acme_error *e = acme_error_copy(order->error);

        if (e) {
            e->code = ACME_E_REJECTED;
            e->retryable = false;
            acme__error_give(err, e);
            return acme__error_prefix(err, ACME_E_REJECTED, _("the order %s is %s"),
                                      order->url, acme_status_string(order->status));
        }
    }
    return acme_error_set(err, ACME_E_REJECTED, _("the order %s is %s"), order->url,
                          acme_status_string(order->status));
}

static bool is_final(acme_status s)
{
    return s == ACME_STATUS_VALID || s == ACME_STATUS_INVALID || s == ACME_STATUS_EXPIRED ||
           s == ACME_STATUS_DEACTIVATED || s == ACME_STATUS_REVOKED;
}

/*
 * RFC 8555 §7.4: the client polls the order while it is in @p waiting
 * (a status that changes without the client: pending while the CA
 * validates, processing while it issues).  Returns with the order in
 * another status; the first poll goes out at once.
 */
static int poll_while(acme_order *order, acme_client *client, acme_status waiting,
                      time_t deadline, acme_error **err)
{
    int rc;

    for (unsigned int attempt = 0; order->status == waiting || attempt == 0; attempt++) {
        if ((rc = acme__poll_wait(client, attempt, attempt ? order->retry_after : -1, deadline,
                                  "order", err)) < 0)
            return rc;
        if ((rc = acme_order_refresh(order, client, err)) < 0)
            return rc;
    }
    return ACME_OK;
}

int acme_order_poll(acme_order *order, acme_client *client, time_t deadline, acme_error **err)
{
    int rc;

    if (!order || !client)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    deadline = acme__deadline(deadline);
    for (unsigned int attempt = 0;; attempt++) {
        if ((rc = acme__poll_wait(client, attempt, attempt ? order->retry_after : -1, deadline,
                                  "order", err)) < 0)
            return rc;
        if ((rc = acme_order_refresh(order, client, err)) < 0)
            return rc;
        if (order->status == ACME_STATUS_VALID)
            return ACME_OK;
        if (is_final(order->status))
            return order_failed(order, err);
        /* A ready order waits for finalize: polling cannot move it. */
        if (order->status == ACME_STATUS_READY)
            return acme_error_set(err, ACME_E_INVALIDSTATE,
                                  _("the order %s is ready: it waits for finalize"),
                                  order->url);
    }
}

/*
 * RFC 8555 §7.4: finalize.  POST {"csr": ...} to the finalize URL; the
 * answer is the order, "processing" or already "valid".  A CA that has not
 * seen every authorization valid yet answers orderNotReady: then the order
 * is polled until it leaves "pending" and finalize is sent again.
 */
int acme_order_finalize(acme_order *order, acme_client *client, const char *csr_b64url,
                        time_t deadline, acme_error **err)
{
    acme__response resp;
    json_object *p;
    char *payload;
    int rc;

    if (!order || !client || !csr_b64url)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    if (!acme__is_b64url(csr_b64url))
        return acme_error_set(err, ACME_E_INVALID, _("the CSR is not base64url DER"));
    if (order->status == ACME_STATUS_VALID)
        return ACME_OK;
    if (is_final(order->status))
        return acme_error_set(err, ACME_E_INVALIDSTATE, _("the order %s is %s"), order->url,
                              acme_status_string(order->status));
    deadline = acme__deadline(deadline);
    if (!(p = json_object_new_object()) ||
        json_object_object_add(p, "csr", json_object_new_string(csr_b64url)) != 0 ||
        !(payload = acme__json_dump(p))) {
        json_object_put(p);
        return NOMEM(err);
    }
    json_object_put(p);

    for (unsigned int attempt = 0;; attempt++) {
        acme_error *e = NULL;

        rc = acme__client_post(&resp, client, order->finalize, payload, "application/json", &e);
        if (rc >= 0) {
            rc = take_order(order, &resp, order->url, err);
            acme__response_clear(&resp);
            break;
        }
        acme__response_clear(&resp);
        if (!acme__problem_is(e, "orderNotReady")) {
            acme__error_give(err, e);
            rc = acme__error_prefix(err, rc, _("cannot finalize the order"));
            break;
        }
        ACME__LOGF(&client->log, ACME_LOG_DEBUG, "order %s not ready: polling", order->url);
        /* Honour the Retry-After of the refusal before looking again. */
        rc = acme__poll_wait(client, attempt + 1, acme_error_retry_after(e), deadline, "order",
                             err);
        acme_error_free(e);
        if (rc < 0)
            break;
        if ((rc = poll_while(order, client, ACME_STATUS_PENDING, deadline, err)) < 0)
            break;
        if (order->status != ACME_STATUS_READY)
            break;  /* valid, processing or failed: handled below */
    }
    free(payload);
    if (rc < 0)
        return rc;
    if (order->status == ACME_STATUS_PROCESSING &&
        (rc = poll_while(order, client, ACME_STATUS_PROCESSING, deadline, err)) < 0)
        return rc;
    if (order->status == ACME_STATUS_VALID)
        return ACME_OK;
    if (is_final(order->status))
        return order_failed(order, err);
    return acme_error_set(err, ACME_E_INVALIDSTATE, _("the order %s is %s after finalize"),
                          order->url, acme_status_string(order->status));
}

/*
 * RFC 8555 §7.4.2: download the certificate, a POST-as-GET answered with
 * application/pem-certificate-chain; alternate chains are announced in
 * Link: rel="alternate" headers.
 */
static int fetch_chain(char **pem, char ***alts, size_t *nalts, acme_client *client,
                       const char *url, acme_error **err)
{
    acme__response resp;
    int rc;

    *pem = NULL;
    if (alts) {
        *alts = NULL;
        *nalts = 0;
    }
    rc = acme__client_post(&resp, client, url, NULL, "application/pem-certificate-chain", err);
    if (rc < 0) {
        acme__response_clear(&resp);
        return acme__error_prefix(err, rc, _("cannot download the certificate %s"), url);
    }
    if (!resp.body.data || resp.body.len == 0 ||
        !strstr(resp.body.data, "-----BEGIN CERTIFICATE-----")) {
        acme__response_clear(&resp);
        return acme_error_set(err, ACME_E_PROTOCOL, _("the certificate %s holds no PEM "
                                                      "certificate"), url);
    }
    if (alts && resp.nalternates) {
        if (!(*alts = acme__strv_dup((const char *const *)resp.alternates, resp.nalternates))) {
            acme__response_clear(&resp);
            return NOMEM(err);
        }
        *nalts = resp.nalternates;
    }
    *pem = acme__buf_steal(&resp.body);
    acme__response_clear(&resp);
    if (!*pem) {
        if (alts)
            acme_free_strv(*alts, *nalts);
        return NOMEM(err);
    }
    return ACME_OK;
}

/* Whether the topmost certificate of @p pem was issued by @p cn. */
static bool chain_issued_by(const char *pem, const char *cn)
{
    acme_chain *chain = NULL;
    const char *issuer;
    bool match;

    if (acme_chain_parse(&chain, pem, strlen(pem), NULL) < 0)
        return false;
    issuer = acme_cert_issuer_cn(acme_chain_get(chain, acme_chain_count(chain) - 1));
    match = issuer && strcmp(issuer, cn) == 0;
    acme_chain_free(chain);
    return match;
}

int acme_order_download(char **out, acme_client *client, const acme_order *order,
                        const char *preferred_issuer, acme_error **err)
{
    char *pem, **alts = NULL;
    size_t nalts = 0;
    int rc;

    if (out)
        *out = NULL;
    if (!out || !client || !order)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    if (order->status != ACME_STATUS_VALID || !order->certificate)
        return acme_error_set(err, ACME_E_INVALIDSTATE,
                              _("the order %s is %s: there is no certificate yet"),
                              order->url ? order->url : "?", acme_status_string(order->status));
    if ((rc = fetch_chain(&pem, preferred_issuer ? &alts : NULL, &nalts, client,
                          order->certificate, err)) < 0)
        return rc;
    if (preferred_issuer && !chain_issued_by(pem, preferred_issuer)) {
        for (size_t i = 0; i < nalts; i++) {
            char *alt;

            if ((rc = fetch_chain(&alt, NULL, NULL, client, alts[i], err)) < 0) {
                acme_free_strv(alts, nalts);
                free(pem);
                return rc;
            }
            if (chain_issued_by(alt, preferred_issuer)) {
                free(pem);
                pem = alt;
                break;
            }
            free(alt);
        }
    }
    acme_free_strv(alts, nalts);
    *out = pem;
    return ACME_OK;
}

int acme_client_certificate_chains(char ***out, size_t *n, acme_client *client,
                                   const char *certificate_url, acme_error **err)
{
    char *pem, **alts, **v;
    size_t nalts;
    int rc;

    if (out)
        *out = NULL;
    if (n)
        *n = 0;
    if (!out || !n || !client || !certificate_url)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    if ((rc = fetch_chain(&pem, &alts, &nalts, client, certificate_url, err)) < 0)
        return rc;
    if (!(v = calloc(nalts + 1, sizeof(*v)))) {
        free(pem);
        acme_free_strv(alts, nalts);
        return NOMEM(err);
    }
    v[0] = pem;
    for (size_t i = 0; i < nalts; i++) {
        if ((rc = fetch_chain(&v[i + 1], NULL, NULL, client, alts[i], err)) < 0) {
            acme_free_strv(v, i + 1);
            acme_free_strv(alts, nalts);
            return rc;
        }
    }
    acme_free_strv(alts, nalts);
    *out = v;
    *n = nalts + 1;
    return ACME_OK;
}
