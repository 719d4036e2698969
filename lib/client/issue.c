/*
 * client: acme_client_issue(), one whole order (RFC 8555 §7.4 to §7.4.2)
 * with a set of challenge responders.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "client/client-internal.h"
#include "util/i18n.h"

#define NOMEM(err) acme_error_set((err), ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM))

/* One authorization to satisfy and the responder chosen for it. */
typedef struct job {
    acme_authorization *authz;
    /* A copy of the chosen challenge: polling replaces the authorization's
     * own, and stop must see what start saw. */
    acme_challenge ch;
    const acme_responder *r;        /* NULL: already valid, nothing to do */
    char *key_authorization;
    char *name;                     /* the identifier, as start saw it */
    bool started;                   /* start succeeded and stop is still due */
} job;

typedef struct issue_state {
    acme_client *client;
    const acme_issue_options *opts;
    time_t deadline;
    acme_order *order;
    job *jobs;
    size_t njobs;
} issue_state;

static bool is_ip_literal(const char *s)
{
    unsigned char buf[16];

    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* Stop every responder still answering, exactly once each, whatever
 * happened before (the header promises it to responder writers). */
static void stop_all(issue_state *st)
{
    for (size_t i = 0; i < st->njobs; i++) {
        job *j = &st->jobs[i];

        if (!j->started)
            continue;
        j->started = false;
        j->r->ops->stop(j->r->self, j->name, &j->ch, j->key_authorization);
    }
}

static void jobs_free(issue_state *st)
{
    stop_all(st);
    for (size_t i = 0; i < st->njobs; i++) {
        acme__free_secret(st->jobs[i].key_authorization);
        free(st->jobs[i].name);
        free(st->jobs[i].ch.type);
        free(st->jobs[i].ch.url);
        free(st->jobs[i].ch.token);
        acme_authorization_free(st->jobs[i].authz);
    }
    free(st->jobs);
    st->jobs = NULL;
    st->njobs = 0;
}

/*
 * RFC 8555 §7.5: fetch every authorization of the order and choose, for
 * each still pending one, the first responder (in the caller's order)
 * whose challenge type the authorization offers.  Valid ones (a CA may
 * reuse earlier authorizations, Pebble does half the time) need nothing.
 */
static int plan(issue_state *st, acme_error **err)
{
    size_t n = acme_order_authorization_count(st->order);
    int rc;

    if (n == 0)
        return ACME_OK;
    if (!(st->jobs = calloc(n, sizeof(*st->jobs))))
        return NOMEM(err);
    for (size_t i = 0; i < n; i++) {
        job *j = &st->jobs[i];

        st->njobs = i + 1;
        if ((rc = acme_authorization_get(&j->authz, st->client,
                                         acme_order_authorization_url(st->order, i), err)) < 0)
            return rc;
        if (j->authz->status == ACME_STATUS_VALID)
            continue;
        if (j->authz->status != ACME_STATUS_PENDING)
            return acme_error_set(err, ACME_E_REJECTED, _("authorization for %s is %s"),
                                  j->authz->id.value, acme_status_string(j->authz->status));
        for (size_t k = 0; k < st->opts->nresponders && !j->r; k++) {
            const acme_responder *r = st->opts->responders[k];
            const acme_challenge *ch;

            /* No special case for wildcards: the CA offers only dns-01
             * for them (RFC 8555 §7.1.3), so only a dns-01 responder fits. */
            if (r && (ch = acme_authorization_find_challenge(j->authz, r->ops->challenge_type))) {
                j->r = r;
                j->ch.status = ch->status;
                if (!(j->ch.type = acme__strdup(ch->type)) ||
                    !(j->ch.url = acme__strdup(ch->url)) ||
                    (ch->token && !(j->ch.token = acme__strdup(ch->token))) ||
                    !(j->name = acme__strdup(j->authz->id.value)))
                    return NOMEM(err);
            }
        }
        if (!j->r)
            return acme_error_set(err, ACME_E_NOTSUP,
                                  _("no responder answers a challenge the CA offers for %s%s"),
                                  j->authz->wildcard ? "*." : "", j->authz->id.value);
        if (!j->ch.token)
            return acme_error_set(err, ACME_E_PROTOCOL, _("the %s challenge for %s has no token"),
                                  j->ch.type, j->name);
        /* RFC 8555 §8.1: token "." thumbprint of the account key. */
        if ((rc = acme_key_authorization(&j->key_authorization, st->client->key, j->ch.token,
                                         err)) < 0)
            return rc;
    }
    return ACME_OK;
}

/* Start every responder, then answer every challenge (§7.5.1), then poll
 * every authorization: validations run in parallel at the CA. */
static int validate(issue_state *st, acme_error **err)
{
    int rc;

    for (size_t i = 0; i < st->njobs; i++) {
        job *j = &st->jobs[i];

        if (!j->r)
            continue;
        if (acme__transport_cancelled(st->client->transport))
            return acme_error_set(err, ACME_E_CANCELLED, "%s", acme_strerror(ACME_E_CANCELLED));
        ACME__LOGF(&st->client->log, ACME_LOG_DEBUG, "starting %s for %s",
                   acme_responder_name(j->r), j->authz->id.value);
        if ((rc = j->r->ops->start(j->r->self, j->name, &j->ch, j->key_authorization, err)) < 0) {
            if (err && !*err)
                acme_error_set(err, rc, _("the %s responder failed"), acme_responder_name(j->r));
            return acme__error_prefix(err, rc, _("cannot answer for %s"), j->authz->id.value);
        }
        j->started = true;
    }
    for (size_t i = 0; i < st->njobs; i++)
        if (st->jobs[i].r && (rc = acme_challenge_respond(st->client, &st->jobs[i].ch, err)) < 0)
            return rc;
    for (size_t i = 0; i < st->njobs; i++)
        if (st->jobs[i].r &&
            (rc = acme_authorization_poll(st->jobs[i].authz, st->client, st->deadline, err)) < 0)
            return rc;
    return ACME_OK;
}

static int make_order(issue_state *st, const acme_identifier *ids, acme_error **err)
{
    acme_order_options oo = ACME_ORDER_OPTIONS_INIT;
    acme_error *e = NULL;
    int rc;

    oo.ids = ids;
    oo.nids = st->opts->nnames;
    oo.profile = st->opts->profile;
    oo.profile_required = st->opts->profile_required;
    oo.replaces = st->opts->replaces;
    if ((rc = acme_order_new(&st->order, st->client, &oo, &e)) >= 0)
        return rc;
    /* RFC 9773 §5: the certificate was replaced already (by another
     * order): order again, this time as a fresh certificate. */
    if (oo.replaces && acme__problem_is(e, "alreadyReplaced")) {
        ACME__LOGF(&st->client->log, ACME_LOG_NOTICE,
                   "certificate already replaced: ordering without \"replaces\"");
        acme_error_free(e);
        oo.replaces = NULL;
        return acme_order_new(&st->order, st->client, &oo, err);
    }
    return acme__error_give(err, e);
}

static int check_options(const acme_issue_options *opts, acme_error **err)
{
    if (!opts)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    if (opts->version < 1 || opts->version > ACME_ISSUE_OPTIONS_VERSION)
        return acme_error_set(err, ACME_E_INVALID, _("unsupported issue options version %u"),
                              opts->version);
    if (!opts->names || opts->nnames == 0)
        return acme_error_set(err, ACME_E_INVALID, _("at least one name is required"));
    for (size_t i = 0; i < opts->nnames; i++)
        if (!opts->names[i] || !*opts->names[i])
            return acme_error_set(err, ACME_E_INVALID, _("name %zu is empty"), i);
    if (opts->nresponders && !opts->responders)
        return acme_error_set(err, ACME_E_INVALID, _("responder count without responders"));
    if (opts->timeout_seconds < 0)
        return acme_error_set(err, ACME_E_INVALID, _("negative timeout"));
    return ACME_OK;
}

int acme_client_issue(char **key_pem_out, char **chain_pem_out, acme_client *client,
                      const acme_issue_options *opts, acme_error **err)
{
    issue_state st;
    acme_identifier *ids = NULL;
    acme_key *key = NULL;
    char *csr = NULL, *chain = NULL, *key_pem = NULL;
    int rc;

    if (key_pem_out)
        *key_pem_out = NULL;
    if (chain_pem_out)
        *chain_pem_out = NULL;
    if (!key_pem_out || !chain_pem_out || !client)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    if ((rc = check_options(opts, err)) < 0)
        return rc;
    if (!client->kid)
        return acme_error_set(err, ACME_E_INVALIDSTATE,
                              _("no account: register or find the account first"));
    memset(&st, 0, sizeof(st));
    st.client = client;
    st.opts = opts;
    st.deadline = time(NULL) + (opts->timeout_seconds ? opts->timeout_seconds : 300);

    if (!(ids = calloc(opts->nnames, sizeof(*ids))))
        return NOMEM(err);
    for (size_t i = 0; i < opts->nnames; i++) {
        ids[i].type = is_ip_literal(opts->names[i]) ? ACME_ID_IP : ACME_ID_DNS;
        ids[i].value = opts->names[i];
    }
    if (opts->cert_key)
        key = acme__key_ref(opts->cert_key);
    else if ((rc = acme_key_generate(&key, opts->key_type ? opts->key_type : ACME_KEY_DEFAULT,
                                     err)) < 0)
        goto out;

    /* RFC 8555 §7.4: newOrder. */
    if ((rc = make_order(&st, ids, err)) < 0)
        goto out;
    ACME__LOGF(&client->log, ACME_LOG_INFO, "issuing for %s (%zu names): order %s",
               opts->names[0], opts->nnames, acme_order_url(st.order));
    /* RFC 8555 §7.5: authorizations and challenges. */
    if ((rc = plan(&st, err)) < 0 || (rc = validate(&st, err)) < 0)
        goto out;
    stop_all(&st);
    /* RFC 8555 §7.4: finalize with a CSR for exactly the ordered names. */
    if ((rc = acme_csr_new(&csr, key, opts->names, opts->nnames, err)) < 0 ||
        (rc = acme_order_finalize(st.order, client, csr, st.deadline, err)) < 0)
        goto out;
    /* RFC 8555 §7.4.2: download, choosing the chain. */
    if ((rc = acme_order_download(&chain, client, st.order, opts->preferred_issuer, err)) < 0 ||
        (rc = acme_key_save_pem(&key_pem, key, ACME_KEY_FORMAT_PKCS8, err)) < 0)
        goto out;
    ACME__LOGF(&client->log, ACME_LOG_INFO, "issued for %s", opts->names[0]);
    *key_pem_out = key_pem;
    *chain_pem_out = chain;
    key_pem = chain = NULL;
    rc = ACME_OK;
out:
    jobs_free(&st);
    acme_order_free(st.order);
    acme_key_free(key);
    acme__free_secret(key_pem);
    free(chain);
    free(csr);
    free(ids);
    return rc;
}
