/*
 * acmed: the running daemon, built from a configuration.
 *
 * Serving mode ([serve] port = le:DIR:tcp:443 with path or backend): a
 * directory store at DIR, an issuing service over it, and a TLS SNI
 * endpoint with the service wired in (the endpoint starts it, waits for
 * its first attempts, reloads what it stores, stops it on close).  The
 * default challenge there is tls-alpn-01, answered on the served port.
 *
 * Renew-only mode (no port): the store at cert_dir and the service, with
 * an http-01 (standalone or webroot), tls-alpn-01 (standalone) or dns-01
 * responder.
 *
 * Both modes run hooks and keep the status from the service's events.
 */
#include "acmed.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <acme/sys/error.h>

struct acmed {
    acmed_config cfg;          /* a copy; hooks guarded by lock */
    pthread_mutex_t lock;
    char *dir_url;
    char *cert_dir;
    acme_endpoint_spec *spec;  /* serving mode */
    acme_store *store;
    acme_key *account_key;
    acme_tlsalpn01 *alpn_reg;
    acme_tlsalpn01_server *alpn_srv;
    acme_dns_provider *dns;
    acme_responder *resp;
    acme_service *svc;
    acme_endpoint *ep;
    char *root;                /* serving files: the document root's real path */
    int notify_fd;             /* a byte here: the status changed; -1: none */
    acme_service_job **jobs;   /* guarded by lock: rescans' and renew's jobs */
    size_t njobs;              /* guarded by lock */
};

/* ------------------------------------------------------------------ */
/* Issuers and events                                                   */
/* ------------------------------------------------------------------ */

/* The service's issuer factory: a new client per attempt (txacme's client creator). */
static int make_issuer(void *userdata, acme_issuer **out, acme_error **err)
{
    acmed *d = userdata;
    acme_client_options o = ACME_CLIENT_OPTIONS_INIT;
    acme_client *client = NULL;
    int rc;

    o.directory_url = d->dir_url;
    o.account_key = d->account_key;
    o.ca_file = d->cfg.ca_file;
    o.user_agent = "acmed/" PACKAGE_VERSION;
    o.log = acmed_log_fn;
    o.log_level = acmed_log_get_level();
    if ((rc = acme_client_new(&client, &o, err)) < 0)
        return rc;
    return acme_issuer_client_new(out, client, err);
}

static void notify(acmed *d)
{
    ssize_t w;

    if (d->notify_fd >= 0)
        do
            w = write(d->notify_fd, "e", 1);
        while (w < 0 && errno == EINTR);
}

/* Service events: hooks (on the worker that issued, with a timeout) and status. */
static void on_event(void *userdata, const acme_service_event *ev)
{
    acmed *d = userdata;
    acmed_hook_event he = { 0 };
    char *cmd = NULL, *cert_path;
    unsigned int timeout;

    switch (ev->kind) {
    case ACME_EVENT_OBTAINED:
    case ACME_EVENT_RENEWED:
        acmed_log(ACME_LOG_NOTICE, "%s: new certificate stored", ev->name);
        he.event = "deploy";
        break;
    case ACME_EVENT_FAILED:
        acmed_log(ACME_LOG_ERROR, "%s: issuing failed: %s", ev->name,
                  ev->error ? acme_error_message(ev->error) : "?");
        he.event = "failure";
        break;
    case ACME_EVENT_EXPIRING:
        acmed_log(ACME_LOG_WARNING, "%s: certificate missing or expiring", ev->name);
        he.event = "expiring";
        break;
    default:
        notify(d);
        return;
    }
    pthread_mutex_lock(&d->lock);
    cmd = acmed_strdup(ev->kind == ACME_EVENT_FAILED     ? d->cfg.hook_failure
                       : ev->kind == ACME_EVENT_EXPIRING ? d->cfg.hook_expiring
                                                         : d->cfg.hook_deploy);
    timeout = d->cfg.hook_timeout;
    pthread_mutex_unlock(&d->lock);
    notify(d);
    if (!cmd)
        return;
    cert_path = acmed_printf("%s/%s.pem", d->cert_dir, ev->name);
    he.name = ev->name;
    he.cert_path = cert_path;
    he.cert_dir = d->cert_dir;
    he.not_after = ev->not_after;
    he.error = ev->error;
    acmed_hook_run(cmd, &he, timeout);
    free(cert_path);
    free(cmd);
}

/* ------------------------------------------------------------------ */
/* Building                                                             */
/* ------------------------------------------------------------------ */

static int make_responder(acmed *d, bool serving, acme_error **err)
{
    const acmed_config *c = &d->cfg;
    acmed_challenge ch = c->challenge;
    int rc;

    if (ch == ACMED_CHALLENGE_DEFAULT)
        ch = serving ? ACMED_CHALLENGE_TLSALPN01 : ACMED_CHALLENGE_HTTP01;
    switch (ch) {
    case ACMED_CHALLENGE_HTTP01:
        if (c->webroot)
            return acme_responder_http01_webroot_new(&d->resp, c->webroot, err);
        return acme_responder_http01_standalone_new(&d->resp, c->http_address,
                                                    c->http_port ? c->http_port : 80, NULL, err);
    case ACMED_CHALLENGE_TLSALPN01:
        if ((rc = acme_tlsalpn01_new(&d->alpn_reg, err)) < 0 ||
            (rc = acme_tlsalpn01_responder(&d->resp, d->alpn_reg, err)) < 0)
            return rc;
        /* Serving: the endpoint answers validations on its own port. */
        if (!serving)
            return acme_tlsalpn01_listen(&d->alpn_srv, d->alpn_reg, c->tls_address,
                                         c->tls_port ? c->tls_port : 443, err);
        return ACME_OK;
    case ACMED_CHALLENGE_DNS01: {
        acme_dns_provider_options po = ACME_DNS_PROVIDER_OPTIONS_INIT;
        acme_dns01_options dopts = ACME_DNS01_OPTIONS_INIT;

        po.settings = (const char *const *)c->dns_settings;
        po.log = acmed_log_fn;
        po.log_level = acmed_log_get_level();
        if ((rc = acme_dns_provider_new(&d->dns, c->dns_provider, &po, err)) < 0)
            return rc;
        dopts.nameserver = c->dns_nameserver;
        return acme_responder_dns01_new(&d->resp, d->dns, &dopts, err);
    }
    default:
        return acme_error_set(err, ACME_E_INVALID, _("no challenge type"));
    }
}

int acmed_start(acmed **out, const acmed_config *c, int notify_fd, acme_error **err)
{
    acme_service_options so = ACME_SERVICE_OPTIONS_INIT;
    acmed *d;
    bool serving = c->port != NULL;
    int rc;

    *out = NULL;
    if (!(d = calloc(1, sizeof(*d))))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    acmed_config_copy(&d->cfg, c);
    pthread_mutex_init(&d->lock, NULL);
    d->notify_fd = notify_fd;
    if (serving) {
        /* The endpoint string names the CA and the directory (txacme's le:). */
        if ((rc = acme_endpoint_string_parse(&d->spec, c->port, err)) < 0 ||
            (rc = acme_endpoint_spec_open(&d->store, &d->account_key, d->spec, err)) < 0)
            goto fail;
        d->dir_url = acmed_strdup(acme_endpoint_spec_directory_url(d->spec));
        d->cert_dir = acmed_strdup(acme_endpoint_spec_cert_dir(d->spec));
        if (c->path && !(d->root = realpath(c->path, NULL))) {
            rc = acme_error_set(err, ACME_E_NOTFOUND, _("document root %s: %s"), c->path,
                                strerror(errno));
            goto fail;
        }
    } else {
        if ((rc = acme_store_dir_new(&d->store, c->cert_dir, err)) < 0 ||
            (rc = acme_store_dir_account_key(&d->account_key, d->store, err)) < 0)
            goto fail;
        d->dir_url = acmed_strdup(acmed_ca_url(c->ca));
        d->cert_dir = acmed_strdup(c->cert_dir);
    }
    if ((rc = make_responder(d, serving, err)) < 0)
        goto fail;
    so.store = d->store;
    so.issuer_factory = make_issuer;
    so.issuer_factory_userdata = d;
    so.responders = &d->resp;
    so.nresponders = 1;
    so.email = c->email;
    so.check_interval = c->check_interval;
    so.reissue_interval = c->reissue_interval;
    so.panic_interval = c->panic_interval;
    so.key_type = c->key_type;
    so.workers = c->workers;
    so.on_event = on_event;
    so.event_userdata = d;
    so.log = acmed_log_fn;
    so.log_level = acmed_log_get_level();
    if ((rc = acme_service_new(&d->svc, &so, err)) < 0)
        goto fail;
    acmed_log(ACME_LOG_NOTICE, "certificates in %s from %s", d->cert_dir, d->dir_url);
    if (serving) {
        acme_endpoint_options eo = ACME_ENDPOINT_OPTIONS_INIT;
        static const char *const http_alpn[] = { "http/1.1", NULL };

        eo.store = d->store;
        eo.tlsalpn01 = d->alpn_reg;
        eo.handler = c->path ? acmed_serve_handler : acmed_proxy_handler;
        eo.handler_userdata = c->path ? (void *)d->root : (void *)d->cfg.backend;
        eo.alpn = c->path ? http_alpn : NULL;
        eo.default_name = c->default_name;
        eo.service = d->svc;
        eo.log = acmed_log_fn;
        eo.log_level = acmed_log_get_level();
        if ((rc = acme_endpoint_new(&d->ep, &eo, err)) < 0)
            goto fail;
        /* Listens, starts the service, returns after the first attempts. */
        if ((rc = acme_endpoint_listen(d->ep, acme_endpoint_spec_sub_endpoint(d->spec), err)) < 0)
            goto fail;
        acmed_log(ACME_LOG_NOTICE, "serving %s on %s", c->path ? c->path : c->backend,
                  acme_endpoint_spec_sub_endpoint(d->spec));
    } else if ((rc = acme_service_start(d->svc, err)) < 0) {
        goto fail;
    }
    *out = d;
    return ACME_OK;
fail:
    acmed_stop(d);
    return rc;
}

void acmed_stop(acmed *d)
{
    if (!d)
        return;
    /* The endpoint stops the service first; in renew-only mode stop it here. */
    acme_endpoint_free(d->ep);
    acme_service_stop(d->svc);
    for (size_t i = 0; i < d->njobs; i++)
        acme_service_job_free(d->jobs[i]);
    free(d->jobs);
    acme_service_free(d->svc);
    acme_tlsalpn01_server_free(d->alpn_srv);
    acme_responder_free(d->resp);
    acme_tlsalpn01_free(d->alpn_reg);
    acme_dns_provider_free(d->dns);
    acme_key_free(d->account_key);
    acme_store_free(d->store);
    acme_endpoint_spec_free(d->spec);
    free(d->dir_url);
    free(d->cert_dir);
    free(d->root);
    acmed_config_clear(&d->cfg);
    pthread_mutex_destroy(&d->lock);
    free(d);
}

unsigned int acmed_port(const acmed *d)
{
    return d && d->ep ? acme_endpoint_port(d->ep) : 0;
}

void acmed_update(acmed *d, const acmed_config *c)
{
    pthread_mutex_lock(&d->lock);
    free(d->cfg.hook_deploy);
    free(d->cfg.hook_failure);
    free(d->cfg.hook_expiring);
    d->cfg.hook_deploy = acmed_strdup(c->hook_deploy);
    d->cfg.hook_failure = acmed_strdup(c->hook_failure);
    d->cfg.hook_expiring = acmed_strdup(c->hook_expiring);
    d->cfg.hook_timeout = c->hook_timeout;
    d->cfg.log_level = c->log_level;
    d->cfg.syslog = c->syslog;
    pthread_mutex_unlock(&d->lock);
}

/* Queue issuing of @p name and keep the handle (freeing it would cancel the job). */
static int start_job(acmed *d, const char *name, acme_error **err)
{
    acme_service_job *job = NULL, **grown;
    size_t keep = 0;
    int rc;

    if ((rc = acme_service_issue_cert_async(&job, d->svc, name, NULL, NULL, err)) < 0)
        return rc;
    pthread_mutex_lock(&d->lock);
    /* Drop the handles of finished jobs. */
    for (size_t i = 0; i < d->njobs; i++) {
        if (acme_service_job_done(d->jobs[i]))
            acme_service_job_free(d->jobs[i]);
        else
            d->jobs[keep++] = d->jobs[i];
    }
    d->njobs = keep;
    if (!(grown = realloc(d->jobs, (d->njobs + 1) * sizeof(*grown)))) {
        pthread_mutex_unlock(&d->lock);
        acme_service_job_free(job);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    d->jobs = grown;
    d->jobs[d->njobs++] = job;
    pthread_mutex_unlock(&d->lock);
    return ACME_OK;
}

int acmed_renew(acmed *d, const char *name, acme_error **err)
{
    char *canon = NULL;
    int rc;

    /* As written by a person: any case, a U-label, a trailing dot. */
    if ((rc = acme_name_normalize(&canon, name, err)) < 0)
        return rc;
    acmed_log(ACME_LOG_NOTICE, "%s: renewal requested", canon);
    rc = start_job(d, canon, err);
    acme_free(canon);
    return rc;
}

void acmed_rescan(acmed *d)
{
    acme_service_status *st = NULL;
    char **names = NULL;
    size_t n = 0;
    acme_error *e = NULL;

    /* Files replaced by hand: the endpoint loads every name again. */
    if (d->ep)
        acme_endpoint_certificate_changed(d->ep, NULL, NULL);
    if (acme_store_list(&names, &n, d->store, &e) < 0 ||
        acme_service_status_get(&st, d->svc, &e) < 0) {
        acmed_log(ACME_LOG_ERROR, "rescan of %s failed: %s", d->cert_dir, acme_error_message(e));
        acme_error_free(e);
        acme_free_strv(names, n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        acme_bundle *b = NULL;
        bool known = false, busy = false, wants;

        for (size_t j = 0; j < acme_service_status_count(st); j++)
            if (strcmp(acme_service_status_name(st, j), names[i]) == 0) {
                known = true;
                busy = acme_service_status_in_flight(st, j);
            }
        if (acme_store_get(&b, d->store, names[i], NULL) < 0)
            continue;
        wants = acme_bundle_wants_issue(b);
        acme_bundle_free(b);
        /* New names and empty files are issued now; the rest keep their schedule. */
        if (busy || (known && !wants))
            continue;
        acmed_log(ACME_LOG_NOTICE, "%s: %s; issuing", names[i],
                  known ? "empty certificate file" : "new name");
        if (start_job(d, names[i], &e) < 0) {
            acmed_log(ACME_LOG_ERROR, "%s: %s", names[i], acme_error_message(e));
            acme_error_free(e);
            e = NULL;
        }
    }
    acme_service_status_free(st);
    acme_free_strv(names, n);
}

char *acmed_status_render(acmed *d, bool json, bool *panicking)
{
    acme_service_status *st = NULL;
    acmed_status_entry *ents;
    size_t n;
    char *out;

    *panicking = false;
    if (acme_service_status_get(&st, d->svc, NULL) < 0)
        return NULL;
    n = acme_service_status_count(st);
    if (!(ents = calloc(n ? n : 1, sizeof(*ents)))) {
        acme_service_status_free(st);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        const acme_error *e = acme_service_status_last_error(st, i);

        ents[i].name = acme_service_status_name(st, i);
        ents[i].not_after = acme_service_status_not_after(st, i);
        ents[i].next_check = acme_service_status_next_check(st, i);
        ents[i].failures = acme_service_status_failures(st, i);
        ents[i].in_flight = acme_service_status_in_flight(st, i);
        ents[i].issuing = acme_service_status_issuing(st, i);
        ents[i].blocked = acme_service_status_blocked(st, i);
        ents[i].error = e ? acme_error_message(e) : NULL;
        ents[i].problem = e ? acme_error_problem_type(e) : NULL;
    }
    out = acmed_status_format(ents, n, json, time(NULL), d->cfg.panic_interval, panicking);
    free(ents);
    acme_service_status_free(st);
    return out;
}

/* ------------------------------------------------------------------ */
/* One-shot issuance                                                    */
/* ------------------------------------------------------------------ */

/* Issue one entry: the names of its file when it has some, else @p name alone. */
static int issue_one(acmed *d, const char *name, acme_error **err)
{
    acme_issue_options io = ACME_ISSUE_OPTIONS_INIT;
    acme_issuer *issuer = NULL;
    acme_bundle *old = NULL, *b = NULL;
    acme_key *key = NULL;
    char *key_pem = NULL, *chain_pem = NULL;
    const char *const *names = &name;
    size_t nnames = 1;
    int rc;

    if (acme_store_get(&old, d->store, name, NULL) == ACME_OK) {
        size_t k = 0;
        const char *const *v = acme_bundle_names(old, &k);

        if (v && k) {
            names = v;
            nnames = k;
        }
    }
    io.names = names;
    io.nnames = nnames;
    io.responders = &d->resp;
    io.nresponders = 1;
    io.key_type = d->cfg.key_type;
    if ((rc = make_issuer(d, &issuer, err)) < 0 ||
        (rc = acme_issuer_account(issuer, d->cfg.email, err)) < 0 ||
        (rc = acme_issuer_issue(issuer, &key_pem, &chain_pem, &io, err)) < 0 ||
        (rc = acme_key_load_pem(&key, key_pem, strlen(key_pem), err)) < 0 ||
        (rc = acme_bundle_new(&b, key, chain_pem, strlen(chain_pem), err)) < 0)
        goto done;
    rc = acme_store_put(d->store, name, b, err);
done:
    acme_bundle_free(old);
    acme_bundle_free(b);
    acme_key_free(key);
    acme_free(chain_pem);
    if (key_pem) {
        memset(key_pem, 0, strlen(key_pem));
        acme_free(key_pem);
    }
    acme_issuer_free(issuer);
    return rc;
}

int acmed_issue_once(const acmed_config *c, char *const *names, size_t n)
{
    acmed *d;
    acme_error *e = NULL;
    bool serving;
    int failed = 0;

    if (!(d = calloc(1, sizeof(*d))))
        return ACMED_EXIT_SOFTWARE;
    acmed_config_copy(&d->cfg, c);
    pthread_mutex_init(&d->lock, NULL);
    d->notify_fd = -1;
    serving = c->port != NULL;
    if (serving) {
        if (acme_endpoint_string_parse(&d->spec, c->port, &e) < 0 ||
            acme_endpoint_spec_open(&d->store, &d->account_key, d->spec, &e) < 0)
            goto fail;
        d->dir_url = acmed_strdup(acme_endpoint_spec_directory_url(d->spec));
        d->cert_dir = acmed_strdup(acme_endpoint_spec_cert_dir(d->spec));
    } else {
        if (acme_store_dir_new(&d->store, c->cert_dir, &e) < 0 ||
            acme_store_dir_account_key(&d->account_key, d->store, &e) < 0)
            goto fail;
        d->dir_url = acmed_strdup(acmed_ca_url(c->ca));
        d->cert_dir = acmed_strdup(c->cert_dir);
    }
    /* No endpoint runs here: tls-alpn-01 needs the standalone listener. */
    if (make_responder(d, false, &e) < 0)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        acme_service_event ev = { 0 };
        char *canon = NULL;

        if (acme_name_normalize(&canon, names[i], &e) < 0) {
            fprintf(stderr, "acmed: %s: %s\n", names[i], acme_error_message(e));
            acme_error_free(e);
            e = NULL;
            failed++;
            continue;
        }
        ev.name = canon;
        if (issue_one(d, canon, &e) < 0) {
            fprintf(stderr, "acmed: %s: %s\n", canon, acme_error_message(e));
            ev.kind = ACME_EVENT_FAILED;
            ev.error = e;
            on_event(d, &ev);
            acme_error_free(e);
            e = NULL;
            failed++;
        } else {
            acme_bundle *b = NULL;

            if (acme_store_get(&b, d->store, canon, NULL) == ACME_OK && acme_bundle_cert(b))
                ev.not_after = acme_cert_not_after(acme_bundle_cert(b));
            acme_bundle_free(b);
            ev.kind = ACME_EVENT_OBTAINED;
            on_event(d, &ev);
            printf("%s/%s.pem\n", d->cert_dir, canon);
        }
        acme_free(canon);
    }
    acmed_stop(d);
    return failed ? ACMED_EXIT_FAILURE : ACMED_EXIT_OK;
fail:
    fprintf(stderr, "acmed: %s\n", acme_error_message(e));
    acme_error_free(e);
    acmed_stop(d);
    return ACMED_EXIT_SOFTWARE;
}
