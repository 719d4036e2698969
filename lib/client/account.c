/*
 * client: the account (RFC 8555 §7.3): newAccount, lookup, contact and
 * terms updates, external account binding, key rollover, deactivation;
 * and the kid-signed request helper that recovers from a CA that forgot
 * the account.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "client/client-internal.h"
#include "util/i18n.h"

#define NOMEM(err) acme_error_set((err), ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM))

void acme__reg_options_clear(acme__reg_options *o)
{
    acme_free_strv(o->contact, o->ncontact);
    free(o->eab_kid);
    acme__free_secret(o->eab_hmac_key);
    free(o->eab_alg);
    memset(o, 0, sizeof(*o));
}

/* Update the account fields the CA reported (status, contact). */
static int take_account(acme_client *client, json_object *o)
{
    const char *status = acme__json_str(o, "status");
    char **contact = NULL, *st = NULL;
    size_t n = 0;

    if (acme__json_strv(o, "contact", &contact, &n) < 0)
        return ACME_E_NOMEM;
    if (status && !(st = strdup(status))) {
        acme_free_strv(contact, n);
        return ACME_E_NOMEM;
    }
    if (st) {
        free(client->account_status);
        client->account_status = st;
    }
    acme_free_strv(client->contact, client->ncontact);
    client->contact = contact;
    client->ncontact = n;
    return ACME_OK;
}

/* Parse a response that should hold the account object (lenient about an
 * empty body, which some servers send for updates). */
int acme__account_parse(acme_client *client, const acme__response *resp, acme_error **err)
{
    json_object *o;
    int rc;

    if (!resp->body.data || resp->body.len == 0)
        return ACME_OK;
    if ((rc = acme__parse_object(&o, resp, "account", err)) < 0)
        return rc;
    rc = take_account(client, o);
    json_object_put(o);
    return rc < 0 ? NOMEM(err) : ACME_OK;
}

static int add_string(json_object *o, const char *key, const char *value)
{
    json_object *s = json_object_new_string(value);

    if (!s || json_object_object_add(o, key, s) != 0) {
        json_object_put(s);
        return ACME_E_NOMEM;
    }
    return ACME_OK;
}

static int add_bool(json_object *o, const char *key, bool value)
{
    json_object *b = json_object_new_boolean(value);

    if (!b || json_object_object_add(o, key, b) != 0) {
        json_object_put(b);
        return ACME_E_NOMEM;
    }
    return ACME_OK;
}

static int add_contact(json_object *o, const char *const *contact, size_t n)
{
    json_object *a = json_object_new_array();

    if (!a)
        return ACME_E_NOMEM;
    for (size_t i = 0; i < n; i++) {
        json_object *s = json_object_new_string(contact[i] ? contact[i] : "");

        if (!s || json_object_array_add(a, s) != 0) {
            json_object_put(s);
            json_object_put(a);
            return ACME_E_NOMEM;
        }
    }
    if (json_object_object_add(o, "contact", a) != 0) {
        json_object_put(a);
        return ACME_E_NOMEM;
    }
    return ACME_OK;
}

/*
 * RFC 8555 §7.3.4: external account binding.  An HMAC JWS, keyed with the
 * MAC key the CA handed out (base64url), over the account key's JWK, with
 * the newAccount URL and the CA's key id in its protected header.
 */
static int add_eab(json_object *payload, acme_client *client, const char *url,
                   const acme__reg_options *o, acme_error **err)
{
    const char *alg = o->eab_alg ? o->eab_alg : "HS256";
    unsigned char *mac = NULL;
    size_t maclen = 0;
    char *jwk = NULL, *jws = NULL;
    json_object *eab = NULL;
    int rc;

    if (strcmp(alg, "HS256") != 0 && strcmp(alg, "HS384") != 0 && strcmp(alg, "HS512") != 0)
        return acme_error_set(err, ACME_E_INVALID,
                              _("unsupported external account binding algorithm %s"), alg);
    if (!o->eab_hmac_key ||
        !(mac = acme__b64url_decode(o->eab_hmac_key, strlen(o->eab_hmac_key), &maclen)) ||
        maclen == 0) {
        free(mac);
        return acme_error_set(err, ACME_E_INVALID,
                              _("the external account MAC key is not base64url"));
    }
    if ((rc = acme_key_jwk(&jwk, client->key, err)) < 0)
        goto out;
    if ((rc = acme__jws_hmac(&jws, alg, mac, maclen, o->eab_kid, url, jwk, err)) < 0)
        goto out;
    if ((rc = acme__json_parse(&eab, jws, strlen(jws), "external account binding", err)) < 0)
        goto out;
    if (json_object_object_add(payload, "externalAccountBinding", eab) != 0) {
        json_object_put(eab);
        rc = NOMEM(err);
    }
out:
    if (mac) {
        memset(mac, 0, maclen);
        free(mac);
    }
    free(jwk);
    free(jws);
    return rc;
}

/*
 * RFC 8555 §7.3 (newAccount) and §7.3.1 (onlyReturnExisting): a
 * jwk-signed POST; the account URL comes back in Location, 201 for a new
 * account and 200 for an existing one.  Nothing of the client changes
 * unless the whole exchange succeeded, so a failed call can be repeated.
 */
static int new_account(acme_client *client, const acme__reg_options *o, bool only_existing,
                       bool *created, acme_error **err)
{
    const char *url;
    json_object *payload = NULL, *body = NULL;
    acme__response resp;
    char *text = NULL, *kid = NULL;
    int rc;

    memset(&resp, 0, sizeof(resp));
    if ((rc = acme__client_dir_url(&url, client, ACME_DIR_NEW_ACCOUNT, err)) < 0)
        return rc;
    if (!(payload = json_object_new_object()))
        return NOMEM(err);
    if (only_existing) {
        if (add_bool(payload, "onlyReturnExisting", true) < 0)
            goto nomem;
    } else {
        if (o->ncontact && add_contact(payload, (const char *const *)o->contact, o->ncontact) < 0)
            goto nomem;
        if (o->terms_agreed && add_bool(payload, "termsOfServiceAgreed", true) < 0)
            goto nomem;
        if (o->eab_kid && (rc = add_eab(payload, client, url, o, err)) < 0)
            goto out;
    }
    if (!(text = acme__json_dump(payload)))
        goto nomem;
    rc = acme__transport_post(&resp, client->transport, url, text, client->key, NULL,
                              "application/json", err);
    if (rc < 0)
        goto out;
    if (!resp.location) {
        rc = acme_error_set(err, ACME_E_PROTOCOL, _("the CA sent no account URL (Location)"));
        goto out;
    }
    if ((rc = acme__parse_object(&body, &resp, "account", err)) < 0)
        goto out;
    if (!(kid = strdup(resp.location)) || take_account(client, body) < 0)
        goto nomem;
    free(client->kid);
    client->kid = kid;
    kid = NULL;
    if (created)
        *created = resp.status == 201;
    ACME__LOGF(&client->log, ACME_LOG_INFO, "account %s %s", client->kid,
               resp.status == 201 ? "created" : "found");
    rc = ACME_OK;
    goto out;
nomem:
    rc = NOMEM(err);
out:
    free(kid);
    json_object_put(payload);
    json_object_put(body);
    free(text);
    acme__response_clear(&resp);
    return rc;
}

static int keep_options(acme__reg_options *dst, const acme_account_options *o)
{
    acme__reg_options k;

    memset(&k, 0, sizeof(k));
    k.set = true;
    k.terms_agreed = o && o->terms_agreed;
    if (o && o->ncontact) {
        if (!o->contact || !(k.contact = acme__strv_dup(o->contact, o->ncontact)))
            goto fail;
        k.ncontact = o->ncontact;
    }
    if (o && ((o->eab_kid && !(k.eab_kid = strdup(o->eab_kid))) ||
              (o->eab_hmac_key && !(k.eab_hmac_key = strdup(o->eab_hmac_key))) ||
              (o->eab_alg && !(k.eab_alg = strdup(o->eab_alg)))))
        goto fail;
    acme__reg_options_clear(dst);
    *dst = k;
    return ACME_OK;
fail:
    acme__reg_options_clear(&k);
    return ACME_E_NOMEM;
}

int acme_client_account_register(acme_client *client, const acme_account_options *opts,
                                 bool *created, acme_error **err)
{
    acme__reg_options k;
    int rc;

    if (created)
        *created = false;
    if (!client)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    if (opts && (opts->version < 1 || opts->version > ACME_ACCOUNT_OPTIONS_VERSION))
        return acme_error_set(err, ACME_E_INVALID, _("unsupported account options version %u"),
                              opts->version);
    if (opts && opts->ncontact && !opts->contact)
        return acme_error_set(err, ACME_E_INVALID, _("contact count without contacts"));
    if (opts && opts->eab_kid && !opts->eab_hmac_key)
        return acme_error_set(err, ACME_E_INVALID,
                              _("external account binding needs a MAC key"));
    memset(&k, 0, sizeof(k));
    if (keep_options(&k, opts) < 0)
        return NOMEM(err);
    if ((rc = new_account(client, &k, false, created, err)) < 0) {
        acme__reg_options_clear(&k);
        return acme__error_prefix(err, rc, _("cannot register the account"));
    }
    acme__reg_options_clear(&client->reg);
    client->reg = k;
    return ACME_OK;
}

int acme_client_account_find(acme_client *client, acme_error **err)
{
    acme_error *e = NULL;
    int rc;

    if (!client)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    if ((rc = new_account(client, NULL, true, NULL, &e)) < 0) {
        if (acme__problem_is(e, "accountDoesNotExist")) {
            e->code = ACME_E_NOTFOUND;
            e->retryable = false;
            acme__error_prefix(&e, ACME_E_NOTFOUND, _("the key has no account"));
        }
        return acme__error_give(err, e);
    }
    return ACME_OK;
}

const char *acme_client_account_url(const acme_client *client)
{
    return client ? client->kid : NULL;
}

const char *acme_client_account_status(const acme_client *client)
{
    return client ? client->account_status : NULL;
}

const char *const *acme_client_account_contact(const acme_client *client, size_t *n)
{
    if (n)
        *n = client ? client->ncontact : 0;
    return client && client->ncontact ? (const char *const *)client->contact : NULL;
}

/*
 * Every request after newAccount is signed with the account URL as "kid"
 * (RFC 8555 §6.2).  When the CA answers accountDoesNotExist (it lost its
 * database, or a test CA restarted) the account is registered again with
 * the options of the last register call and the request sent once more.
 */
int acme__client_post(acme__response *resp, acme_client *client, const char *url,
                      const char *payload, const char *accept, acme_error **err)
{
    acme_error *e = NULL;
    int rc;

    memset(resp, 0, sizeof(*resp));
    if (!client->kid)
        return acme_error_set(err, ACME_E_INVALIDSTATE,
                              _("no account: register or find the account first"));
    rc = acme__transport_post(resp, client->transport, url, payload, client->key, client->kid,
                              accept, &e);
    if (rc >= 0)
        return rc;
    if (!acme__problem_is(e, "accountDoesNotExist") || !client->reg.set || client->recovering)
        return acme__error_give(err, e);

    ACME__LOGF(&client->log, ACME_LOG_WARNING,
               "the CA does not know account %s: registering again", client->kid);
    acme_error_free(e);
    e = NULL;
    acme__response_clear(resp);
    memset(resp, 0, sizeof(*resp));
    /* No stale kid survives a failed recovery. */
    free(client->kid);
    client->kid = NULL;
    client->recovering = true;
    rc = new_account(client, &client->reg, false, NULL, err);
    client->recovering = false;
    if (rc < 0)
        return acme__error_prefix(err, rc, _("cannot register the account again"));
    return acme__transport_post(resp, client->transport, url, payload, client->key, client->kid,
                                accept, err);
}

int acme__client_post_json(json_object **out, acme__response *resp, acme_client *client,
                           const char *url, const char *payload, const char *what,
                           acme_error **err)
{
    int rc;

    *out = NULL;
    if ((rc = acme__client_post(resp, client, url, payload, "application/json", err)) < 0)
        return rc;
    return acme__parse_object(out, resp, what, err);
}

/* RFC 8555 §7.3.2: account update, a POST of the changed fields to the
 * account URL. */
static int account_update(acme_client *client, json_object *payload, acme_error **err)
{
    acme__response resp;
    char *text;
    int rc;

    memset(&resp, 0, sizeof(resp));
    if (!(text = acme__json_dump(payload)))
        return NOMEM(err);
    if (!client->kid) {
        free(text);
        return acme_error_set(err, ACME_E_INVALIDSTATE,
                              _("no account: register or find the account first"));
    }
    rc = acme__client_post(&resp, client, client->kid, text, "application/json", err);
    free(text);
    if (rc >= 0)
        rc = acme__account_parse(client, &resp, err);
    acme__response_clear(&resp);
    return rc;
}

int acme_client_account_update_contact(acme_client *client, const char *const *contact,
                                       size_t ncontact, acme_error **err)
{
    json_object *p;
    int rc;

    if (!client || (ncontact && !contact))
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    if (!(p = json_object_new_object()) || add_contact(p, contact, ncontact) < 0) {
        json_object_put(p);
        return NOMEM(err);
    }
    rc = account_update(client, p, err);
    json_object_put(p);
    if (rc < 0)
        return acme__error_prefix(err, rc, _("cannot update the account's contacts"));
    /* A later recovery registers with the new contacts. */
    if (client->reg.set) {
        char **dup = ncontact ? acme__strv_dup(contact, ncontact) : NULL;

        if (!ncontact || dup) {
            acme_free_strv(client->reg.contact, client->reg.ncontact);
            client->reg.contact = dup;
            client->reg.ncontact = ncontact;
        }
    }
    return ACME_OK;
}

/* RFC 8555 §7.3.3: agreeing to changed terms is an update with
 * termsOfServiceAgreed. */
int acme_client_account_agree_terms(acme_client *client, acme_error **err)
{
    json_object *p;
    int rc;

    if (!client)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    if (!(p = json_object_new_object()) || add_bool(p, "termsOfServiceAgreed", true) < 0) {
        json_object_put(p);
        return NOMEM(err);
    }
    rc = account_update(client, p, err);
    json_object_put(p);
    if (rc < 0)
        return acme__error_prefix(err, rc, _("cannot agree to the terms of service"));
    if (client->reg.set)
        client->reg.terms_agreed = true;
    return ACME_OK;
}

/* RFC 8555 §7.3.1: whether @p key has an account (onlyReturnExisting,
 * signed by that key).  Any failure counts as "no". */
static bool key_has_account(acme_client *client, const acme_key *key)
{
    acme__response resp;
    const char *url;
    bool found;

    if (acme__client_dir_url(&url, client, ACME_DIR_NEW_ACCOUNT, NULL) < 0)
        return false;
    found = acme__transport_post(&resp, client->transport, url, "{\"onlyReturnExisting\":true}",
                                 key, NULL, "application/json", NULL) >= 0 &&
            resp.location != NULL;
    acme__response_clear(&resp);
    return found;
}

/*
 * RFC 8555 §7.3.5: key rollover.  The inner JWS is signed by the new key,
 * with its "jwk" and the keyChange URL but no nonce, over
 * {"account": <account URL>, "oldKey": <old JWK>}; the outer one is an
 * ordinary kid request signed by the old key.
 */
int acme_client_account_key_change(acme_client *client, const acme_key *new_key,
                                   acme_error **err)
{
    const char *url;
    char *old_jwk = NULL, *inner = NULL, *text = NULL;
    json_object *p = NULL, *jwk = NULL;
    acme__response resp;
    acme_error *e = NULL;
    int rc;

    memset(&resp, 0, sizeof(resp));
    if (!client || !new_key)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    if (!client->kid)
        return acme_error_set(err, ACME_E_INVALIDSTATE,
                              _("no account: register or find the account first"));
    if ((rc = acme__client_dir_url(&url, client, ACME_DIR_KEY_CHANGE, err)) < 0)
        return rc;
    if ((rc = acme_key_jwk(&old_jwk, client->key, err)) < 0)
        goto out;
    if ((rc = acme__json_parse(&jwk, old_jwk, strlen(old_jwk), "JWK", err)) < 0)
        goto out;
    if (!(p = json_object_new_object()) || add_string(p, "account", client->kid) < 0 ||
        json_object_object_add(p, "oldKey", jwk) != 0) {
        rc = NOMEM(err);
        goto out;
    }
    jwk = NULL;  /* owned by p now */
    if (!(text = acme__json_dump(p))) {
        rc = NOMEM(err);
        goto out;
    }
    if ((rc = acme__jws_sign(&inner, new_key, NULL, NULL, url, text, err)) < 0)
        goto out;
    if ((rc = acme__client_post(&resp, client, url, inner, NULL, &e)) < 0) {
        /* RFC 8555 §7.3.5: a new key that has an account of its own is
         * refused with 409 Conflict; Pebble says serverInternal instead.
         * Asking the CA tells the two apart from real server trouble, so
         * that callers see ACME_E_REJECTED from every CA. */
        if (e && e->http_status >= 400 &&
            (e->http_status == 409 || key_has_account(client, new_key))) {
            e->code = rc = ACME_E_REJECTED;
            e->retryable = false;
            acme__error_prefix(&e, rc, _("the new key already has an account"));
        }
        acme__error_give(err, e);
        e = NULL;
        rc = acme__error_prefix(err, rc, _("cannot change the account key"));
        goto out;
    }
    acme_key_free(client->key);
    client->key = acme__key_ref(new_key);
    ACME__LOGF(&client->log, ACME_LOG_INFO, "account %s key changed", client->kid);
    rc = ACME_OK;
out:
    json_object_put(jwk);
    json_object_put(p);
    free(old_jwk);
    free(inner);
    free(text);
    acme__response_clear(&resp);
    return rc;
}

/* RFC 8555 §7.3.6: deactivation, an update with status "deactivated". */
int acme_client_account_deactivate(acme_client *client, acme_error **err)
{
    json_object *p;
    int rc;

    if (!client)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    if (!(p = json_object_new_object()) || add_string(p, "status", "deactivated") < 0) {
        json_object_put(p);
        return NOMEM(err);
    }
    rc = account_update(client, p, err);
    json_object_put(p);
    if (rc < 0)
        return acme__error_prefix(err, rc, _("cannot deactivate the account"));
    if (!client->account_status || strcmp(client->account_status, "deactivated") != 0) {
        char *st = strdup("deactivated");

        if (st) {
            free(client->account_status);
            client->account_status = st;
        }
    }
    /* A deactivated account must not be silently re-created. */
    acme__reg_options_clear(&client->reg);
    ACME__LOGF(&client->log, ACME_LOG_INFO, "account %s deactivated", client->kid);
    return ACME_OK;
}
