/*
 * client: authorizations (RFC 8555 §7.5): fetch, challenges, polling and
 * deactivation (§7.5.2).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "client/client-internal.h"
#include "util/i18n.h"

#define NOMEM(err) acme_error_set((err), ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM))

static void challenge_clear(acme_challenge *c)
{
    free(c->type);
    free(c->url);
    free(c->token);
    acme_error_free(c->error);
    memset(c, 0, sizeof(*c));
}

static void challenges_free(acme_challenge **v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i])
            challenge_clear(v[i]);
        free(v[i]);
    }
    free(v);
}

static void authz_clear(acme_authorization *a)
{
    free(a->url);
    free(a->id_value);
    challenges_free(a->ch, a->nch);
    challenges_free(a->retired, a->nretired);
    memset(a, 0, sizeof(*a));
}

void acme_authorization_free(acme_authorization *authz)
{
    if (!authz)
        return;
    authz_clear(authz);
    free(authz);
}

/*
 * RFC 8555 §7.1.5 / §8: a challenge object has type, url and status; the
 * token of http-01, dns-01 and tls-alpn-01 must be base64url (§8.3), and
 * since it ends up in file paths and DNS names anything else is refused.
 */
static int parse_challenge(acme_challenge *ch, json_object *j, acme_error **err)
{
    const char *type = acme__json_str(j, "type"), *url = acme__json_str(j, "url");
    const char *token = acme__json_str(j, "token");

    if (!json_object_is_type(j, json_type_object) || !type || !url)
        return acme_error_set(err, ACME_E_PROTOCOL, _("malformed challenge: no type or URL"));
    if (token && !acme__is_b64url(token))
        return acme_error_set(err, ACME_E_PROTOCOL,
                              _("the %s challenge token is not base64url"), type);
    if (!(ch->type = strdup(type)) || !(ch->url = strdup(url)) ||
        (token && !(ch->token = strdup(token))))
        return NOMEM(err);
    ch->status = acme__status_parse(acme__json_str(j, "status"));
    ch->error = acme__embedded_error(j, ACME_E_REJECTED);
    return ACME_OK;
}

/* RFC 8555 §7.1.4: the authorization object. */
int acme__authz_parse(acme_authorization *a, const acme__response *resp, acme_error **err)
{
    json_object *j, *id, *chs;
    const char *type, *value;
    size_t n;
    int rc;

    if ((rc = acme__parse_object(&j, resp, "authorization", err)) < 0)
        return rc;
    a->retry_after = resp->retry_after;
    if ((a->status = acme__status_parse(acme__json_str(j, "status"))) == ACME_STATUS_UNKNOWN) {
        rc = acme_error_set(err, ACME_E_PROTOCOL, _("the authorization has no valid status"));
        goto out;
    }
    id = acme__json_obj(j, "identifier");
    type = acme__json_str(id, "type");
    value = acme__json_str(id, "value");
    if (!type || !value || !*value ||
        (strcmp(type, "dns") != 0 && strcmp(type, "ip") != 0)) {
        rc = acme_error_set(err, ACME_E_PROTOCOL,
                            _("the authorization has no usable identifier"));
        goto out;
    }
    a->id.type = strcmp(type, "ip") == 0 ? ACME_ID_IP : ACME_ID_DNS;
    /* §7.1.4: for a wildcard the identifier is the base name and
     * "wildcard" is true; strip a "*." anyway should a CA leave it in. */
    a->wildcard = acme__json_bool(j, "wildcard", false);
    if (strncmp(value, "*.", 2) == 0) {
        a->wildcard = true;
        value += 2;
    }
    if (!(a->id_value = strdup(value))) {
        rc = NOMEM(err);
        goto out;
    }
    a->id.value = a->id_value;
    a->expires = acme__json_time(j, "expires");
    if (!(chs = acme__json_arr(j, "challenges"))) {
        rc = acme_error_set(err, ACME_E_PROTOCOL, _("the authorization has no challenges"));
        goto out;
    }
    n = json_object_array_length(chs);
    if (n && !(a->ch = calloc(n, sizeof(*a->ch)))) {
        rc = NOMEM(err);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        a->nch = i + 1;
        if (!(a->ch[i] = calloc(1, sizeof(*a->ch[i])))) {
            rc = NOMEM(err);
            goto out;
        }
        if ((rc = parse_challenge(a->ch[i], json_object_array_get_idx(chs, i), err)) < 0)
            goto out;
    }
    rc = ACME_OK;
out:
    json_object_put(j);
    return rc;
}

/*
 * Applications hold challenge pointers while they poll (a responder is
 * given one and stopped with it later), and CAs list fewer challenges once
 * an authorization is valid (Pebble and Boulder keep only the one that
 * passed).  So a challenge the CA lists again keeps its object, with the
 * fresh contents, and one it no longer lists is retired, not freed, until
 * the authorization is freed.
 */
static int keep_challenges(acme_authorization *old, acme_authorization *fresh)
{
    acme_challenge **ret;
    size_t cap = old->nretired + old->nch;

    if (!(ret = realloc(old->retired, (cap ? cap : 1) * sizeof(*ret))))
        return ACME_E_NOMEM;
    old->retired = ret;
    for (size_t i = 0; i < fresh->nch; i++)
        for (size_t j = 0; j < old->nch; j++) {
            acme_challenge *keep = old->ch[j];

            if (!keep || strcmp(keep->url, fresh->ch[i]->url) != 0)
                continue;
            challenge_clear(keep);
            *keep = *fresh->ch[i];
            free(fresh->ch[i]);
            fresh->ch[i] = keep;
            old->ch[j] = NULL;
            break;
        }
    for (size_t j = 0; j < old->nch; j++)
        if (old->ch[j]) {
            old->retired[old->nretired++] = old->ch[j];
            old->ch[j] = NULL;
        }
    fresh->retired = old->retired;
    fresh->nretired = old->nretired;
    old->retired = NULL;
    old->nretired = 0;
    return ACME_OK;
}

static int take_authz(acme_authorization *a, const acme__response *resp, const char *url,
                      acme_error **err)
{
    acme_authorization fresh;
    int rc;

    memset(&fresh, 0, sizeof(fresh));
    if ((rc = acme__authz_parse(&fresh, resp, err)) < 0 ||
        (rc = (fresh.url = strdup(url)) ? ACME_OK : NOMEM(err)) < 0) {
        authz_clear(&fresh);
        return rc;
    }
    if (keep_challenges(a, &fresh) < 0) {
        authz_clear(&fresh);
        return NOMEM(err);
    }
    authz_clear(a);
    *a = fresh;
    return ACME_OK;
}

/* RFC 8555 §7.5: fetch the authorization with POST-as-GET. */
static int authz_fetch(acme_authorization *a, acme_client *client, const char *url,
                       acme_error **err)
{
    acme__response resp;
    int rc;

    rc = acme__client_post(&resp, client, url, NULL, "application/json", err);
    if (rc >= 0)
        rc = take_authz(a, &resp, url, err);
    acme__response_clear(&resp);
    return rc;
}

int acme_authorization_get(acme_authorization **out, acme_client *client, const char *url,
                           acme_error **err)
{
    acme_authorization *a;
    int rc;

    if (out)
        *out = NULL;
    if (!out || !client || !url)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    if (!(a = calloc(1, sizeof(*a))))
        return NOMEM(err);
    if ((rc = authz_fetch(a, client, url, err)) < 0) {
        acme_authorization_free(a);
        return acme__error_prefix(err, rc, _("cannot fetch the authorization %s"), url);
    }
    *out = a;
    return ACME_OK;
}

const char *acme_authorization_url(const acme_authorization *authz)
{
    return authz ? authz->url : NULL;
}

acme_status acme_authorization_status(const acme_authorization *authz)
{
    return authz ? authz->status : ACME_STATUS_UNKNOWN;
}

const acme_identifier *acme_authorization_identifier(const acme_authorization *authz)
{
    return authz ? &authz->id : NULL;
}

bool acme_authorization_wildcard(const acme_authorization *authz)
{
    return authz ? authz->wildcard : false;
}

time_t acme_authorization_expires(const acme_authorization *authz)
{
    return authz ? authz->expires : 0;
}

size_t acme_authorization_challenge_count(const acme_authorization *authz)
{
    return authz ? authz->nch : 0;
}

const acme_challenge *acme_authorization_challenge(const acme_authorization *authz, size_t i)
{
    return authz && i < authz->nch ? authz->ch[i] : NULL;
}

const acme_challenge *acme_authorization_find_challenge(const acme_authorization *authz,
                                                       const char *type)
{
    if (!authz || !type)
        return NULL;
    for (size_t i = 0; i < authz->nch; i++)
        if (strcmp(authz->ch[i]->type, type) == 0)
            return authz->ch[i];
    return NULL;
}

/* An authorization that ended badly: the failed challenge's problem
 * (RFC 8555 §7.1.6: the challenge carries the error, the authorization
 * only its status). */
static int authz_failed(const acme_authorization *a, acme_error **err)
{
    for (size_t i = 0; i < a->nch; i++) {
        acme_error *e;

        if (!a->ch[i]->error || !(e = acme_error_copy(a->ch[i]->error)))
            continue;
        e->code = ACME_E_REJECTED;
        e->retryable = false;
        acme__error_give(err, e);
        return acme__error_prefix(err, ACME_E_REJECTED, _("authorization for %s%s is %s (%s)"),
                                  a->wildcard ? "*." : "", a->id.value,
                                  acme_status_string(a->status), a->ch[i]->type);
    }
    return acme_error_set(err, ACME_E_REJECTED, _("authorization for %s%s is %s"),
                          a->wildcard ? "*." : "", a->id.value, acme_status_string(a->status));
}

/*
 * RFC 8555 §7.5.1: after responding, the client polls the authorization
 * until it is no longer pending, honouring Retry-After.  A pending one is
 * first looked at after ACME__POLL_AUTHZ_FIRST_MS, then on the schedule of
 * acme__poll_delay_ms().
 */
int acme_authorization_poll(acme_authorization *authz, acme_client *client, time_t deadline,
                            acme_error **err)
{
    int rc;

    if (!authz || !client || !authz->url)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    deadline = acme__deadline(deadline);
    for (unsigned int attempt = 0;; attempt++) {
        if (attempt == 0 && authz->status == ACME_STATUS_PENDING)
            rc = acme__poll_sleep(client, ACME__POLL_AUTHZ_FIRST_MS, deadline, "authorization",
                                  err);
        else
            rc = acme__poll_wait(client, attempt, attempt ? authz->retry_after : -1, deadline,
                                 "authorization", err);
        if (rc < 0)
            return rc;
        if ((rc = authz_fetch(authz, client, authz->url, err)) < 0)
            return rc;
        if (authz->status == ACME_STATUS_VALID)
            return ACME_OK;
        if (authz->status != ACME_STATUS_PENDING)
            return authz_failed(authz, err);
    }
}

/* RFC 8555 §7.5.2: deactivation, POST {"status":"deactivated"}. */
int acme_authorization_deactivate(acme_authorization *authz, acme_client *client,
                                  acme_error **err)
{
    acme__response resp;
    int rc;

    if (!authz || !client || !authz->url)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    rc = acme__client_post(&resp, client, authz->url, "{\"status\":\"deactivated\"}",
                           "application/json", err);
    if (rc >= 0)
        rc = take_authz(authz, &resp, authz->url, err);
    acme__response_clear(&resp);
    if (rc < 0)
        return acme__error_prefix(err, rc, _("cannot deactivate the authorization"));
    return ACME_OK;
}

const char *acme_challenge_type(const acme_challenge *ch)
{
    return ch ? ch->type : NULL;
}

const char *acme_challenge_url(const acme_challenge *ch)
{
    return ch ? ch->url : NULL;
}

const char *acme_challenge_token(const acme_challenge *ch)
{
    return ch ? ch->token : NULL;
}

acme_status acme_challenge_status(const acme_challenge *ch)
{
    return ch ? ch->status : ACME_STATUS_UNKNOWN;
}

const acme_error *acme_challenge_error(const acme_challenge *ch)
{
    return ch ? ch->error : NULL;
}
