/*
 * service: one job of the issuing service, run on a worker thread: read
 * the name's entry from the store, poll ACME Renewal Information when it
 * is due, decide whether to issue, issue (a new issuer from the factory,
 * the account, the order), store the result, and plan the next look
 * (renewal time, ARI poll, retry with backoff).  Logs, events, the panic
 * callback and job completions go out from here, never under s->lock
 * (see the lock order in service.c).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <acme/sys/error.h>

#include "service/policy.h"
#include "service/service-internal.h"
#include "stores/store.h"
#include "util/error.h"
#include "util/i18n.h"
#include "util/util.h"

#define MS_PER_S INT64_C(1000)

#define PROBLEM_RATELIMITED "urn:ietf:params:acme:error:rateLimited"
#define PROBLEM_USERACTION "urn:ietf:params:acme:error:userActionRequired"

/* What the store holds for a name, read without the lock. */
typedef struct entry {
    bool exists;        /* the store has an entry for the name */
    bool have_cert;
    time_t not_before, not_after;
    char **names;       /* the order's identifiers */
    size_t nnames;
    char *cert_id;      /* ARI identifier of the certificate, or NULL */
} entry;

static void entry_clear(entry *en)
{
    acme_free_strv(en->names, en->nnames);
    free(en->cert_id);
    memset(en, 0, sizeof(*en));
}

static bool problem_is(const acme_error *e, const char *type)
{
    const char *t = e ? acme_error_problem_type(e) : NULL;

    return t && strcmp(t, type) == 0;
}

/* ------------------------------------------------------------------ */
/* Logs, events, panic                                                 */
/* ------------------------------------------------------------------ */

static void fmt_time(char *buf, size_t len, time_t t)
{
    if (t > 0)
        acme__time_format_rfc3339(t, buf, len);
    else
        snprintf(buf, len, "none");
}

/* Log @p msg about @p name with the fields of @p e (the CA's problem) and the expiry. */
static void log_name(const acme_service *s, acme_log_level level, const char *name,
                     time_t not_after, const acme_error *e, const char *msg)
{
    acme_log_field f[8];
    size_t n = 0;
    char exp[40];

    if (!acme__log_enabled(&s->log, level))
        return;
    f[n++] = (acme_log_field){ "name", name };
    if (not_after > 0) {
        fmt_time(exp, sizeof(exp), not_after);
        f[n++] = (acme_log_field){ "expires", exp };
    }
    if (e) {
        const char *v;

        f[n++] = (acme_log_field){ "error", acme_error_message(e) ? acme_error_message(e) : "" };
        f[n++] = (acme_log_field){ "code", acme_status_name(acme_error_code_get(e))
                                               ? acme_status_name(acme_error_code_get(e)) : "?" };
        if ((v = acme_error_problem_type(e)))
            f[n++] = (acme_log_field){ "problem", v };
        if ((v = acme_error_detail(e)))
            f[n++] = (acme_log_field){ "detail", v };
        if ((v = acme_error_instance(e)))
            f[n++] = (acme_log_field){ "url", v };
    }
    acme__log(&s->log, level, f, n, "%s", msg);
}

static void emit(const acme_service *s, acme_service_event_kind kind, const char *name,
                 time_t not_after, const acme_error *e)
{
    acme_service *ms = (acme_service *)s; /* for the lock only */
    acme_service_event_fn *obs;
    void *obs_userdata;
    acme_service_event ev;

    ev.kind = kind;
    ev.name = name;
    ev.not_after = not_after;
    ev.error = e;
    /* The observer (the endpoint reloading its cache) goes first, so that
     * a deploy hook run from on_event already finds the new certificate
     * served.  It is read under the lock and called without it; it is
     * only cleared once the service has stopped (no event in flight). */
    pthread_mutex_lock(&ms->lock);
    obs = s->observer;
    obs_userdata = s->observer_userdata;
    pthread_mutex_unlock(&ms->lock);
    if (obs)
        obs(obs_userdata, &ev);
    if (s->on_event)
        s->on_event(s->event_userdata, &ev);
}

static void do_panic(const acme_service *s, const char *name, time_t not_after,
                     const acme_error *e)
{
    if (s->panic) {
        s->panic(s->panic_userdata, name, e);
        return;
    }
    /* txacme's default panic: a CRITICAL log message. */
    log_name(s, ACME_LOG_CRITICAL, name, not_after, e,
             "certificate expires soon (or has expired) and could not be renewed");
}

/* ------------------------------------------------------------------ */
/* The issuer in use, for cancellation                                 */
/* ------------------------------------------------------------------ */

/* Make @p issuer cancellable through @p w; false when @p w is cancelled already. */
static bool issuer_enter(acme_service *s, acme__svc_work *w, acme_issuer *issuer)
{
    bool ok;

    pthread_mutex_lock(&s->lock);
    ok = !w->cancelled;
    if (ok)
        w->issuer = issuer;
    pthread_mutex_unlock(&s->lock);
    return ok;
}

static bool work_cancelled(acme_service *s, acme__svc_work *w)
{
    bool c;

    pthread_mutex_lock(&s->lock);
    c = w->cancelled;
    pthread_mutex_unlock(&s->lock);
    return c;
}

/* Forget the issuer; returns once no canceller is using it, so it can be freed. */
static void issuer_leave(acme_service *s, acme__svc_work *w)
{
    pthread_mutex_lock(&s->lock);
    w->issuer = NULL;
    while (w->cancel_refs > 0)
        pthread_cond_wait(&s->state_cond, &s->lock);
    pthread_mutex_unlock(&s->lock);
}

static int cancelled_error(acme_error **err, const char *name)
{
    return acme_error_set(err, ACME_E_CANCELLED, _("issuing for %s was cancelled"), name);
}

static int make_issuer(acme_service *s, acme_issuer **out, acme_error **err)
{
    int rc;

    *out = NULL;
    rc = s->factory(s->factory_userdata, out, err);
    if (rc >= 0 && !*out)
        rc = acme_error_set(err, ACME_E_INVALID, _("the issuer factory returned no issuer"));
    if (rc < 0 && err && !*err)
        rc = acme_error_set(err, rc, _("the issuer factory failed: %s"), acme_strerror(rc));
    return rc < 0 ? rc : ACME_OK;
}

/* ------------------------------------------------------------------ */
/* Reading the store                                                   */
/* ------------------------------------------------------------------ */

/*
 * The entry of @p name.  A missing entry, an issue request, or an entry
 * that cannot be parsed has no certificate (txacme: it counts as
 * expired).  The order's names are the entry's names; the key name is
 * added in front when none of them covers it.  Returns a negative code
 * only when the store could not be read (try again later).
 */
static int read_entry(acme_service *s, const char *name, entry *en, acme_error **err)
{
    acme_bundle *b = NULL;
    acme_error *e = NULL;
    const char *const *names = NULL;
    size_t n = 0;
    int rc;

    memset(en, 0, sizeof(*en));
    rc = acme_store_get(&b, s->store, name, &e);
    if (rc == ACME_E_INVALID) {
        log_name(s, ACME_LOG_WARNING, name, 0, e, "stored entry is unusable; issuing a new one");
        acme_error_free(e);
    } else if (rc < 0 && rc != ACME_E_NOTFOUND) {
        acme__error_give(err, e);
        return rc;
    } else {
        acme_error_free(e);
    }
    en->exists = rc != ACME_E_NOTFOUND;
    if (b) {
        const acme_cert *c = acme_bundle_cert(b);

        names = acme_bundle_names(b, &n);
        if (c && !acme_bundle_wants_issue(b)) {
            en->have_cert = true;
            en->not_before = acme_cert_not_before(c);
            en->not_after = acme_cert_not_after(c);
            /* No ARI identifier (no AKI extension): the interval policy applies. */
            if (acme_cert_ari_id(&en->cert_id, c, NULL) < 0)
                en->cert_id = NULL;
        }
    }
    if (n > 0 && acme__name_covered(name, names, n)) {
        en->names = acme__strv_dup(names, n);
        en->nnames = n;
    } else {
        en->names = calloc(n + 1, sizeof(char *));
        if (en->names && (en->names[0] = acme__strdup(name))) {
            en->nnames = 1;
            for (size_t i = 0; i < n; i++) {
                if (strcmp(names[i], name) == 0)
                    continue;
                if (!(en->names[en->nnames] = acme__strdup(names[i])))
                    break;
                en->nnames++;
            }
        }
    }
    acme_bundle_free(b);
    if (!en->names || en->nnames == 0) {
        entry_clear(en);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    return ACME_OK;
}

/* ------------------------------------------------------------------ */
/* ACME Renewal Information (RFC 9773)                                 */
/* ------------------------------------------------------------------ */

/*
 * RFC 9773 §4.2-4.3: fetch the renewalInfo of the certificate, pick a
 * random time inside the suggested window (kept while the window stays
 * the same), and plan the next poll from Retry-After.  ACME_E_NOTSUP:
 * the CA offers none, the interval policy applies (asked again at the
 * next full check, in case the CA starts offering it).
 */
static void ari_poll(acme_service *s, acme__svc_work *w, const char *cert_id, int64_t now)
{
    acme__svc_name *ns = w->ns;
    acme_issuer *issuer = NULL;
    acme_renewal_info *ri = NULL;
    acme_error *e = NULL;
    time_t start = 0, end = 0;
    int64_t ra = -1;
    bool changed = false;
    char *url = NULL;
    int rc;

    if ((rc = make_issuer(s, &issuer, &e)) == ACME_OK) {
        if (issuer_enter(s, w, issuer)) {
            rc = acme_issuer_renewal_info(issuer, &ri, cert_id, &e);
            issuer_leave(s, w);
        } else {
            rc = cancelled_error(&e, ns->name);
        }
        acme_issuer_free(issuer);
    }
    if (rc == ACME_OK) {
        start = acme_renewal_info_window_start(ri);
        end = acme_renewal_info_window_end(ri);
        ra = acme_renewal_info_retry_after(ri);
        if (acme_renewal_info_explanation_url(ri))
            url = acme__strdup(acme_renewal_info_explanation_url(ri));
        acme_renewal_info_free(ri);
        /* §4.2: an empty or inverted window is treated as no answer. */
        if (end <= start)
            rc = acme_error_set(&e, ACME_E_PROTOCOL, _("invalid renewal window"));
    }
    pthread_mutex_lock(&s->lock);
    if (rc == ACME_OK) {
        ns->ari = ARI_YES;
        if (start != ns->ari_start || end != ns->ari_end) {
            ns->ari_start = start;
            ns->ari_end = end;
            ns->ari_renew_at = acme__policy_ari_renew_at(start, end, (time_t)(now / MS_PER_S),
                                                         acme__svc_random());
            changed = true;
        }
        ns->ari_poll_ms = now + acme__policy_ari_poll_delay(ra) * MS_PER_S;
    } else if (rc == ACME_E_NOTSUP) {
        ns->ari = ARI_NO;
        ns->ari_poll_ms = now + s->check_interval * MS_PER_S;
    } else {
        ns->ari_poll_ms = now + acme__policy_ari_poll_delay(-1) * MS_PER_S;
    }
    pthread_mutex_unlock(&s->lock);

    if (rc == ACME_OK && changed && acme__log_enabled(&s->log, ACME_LOG_INFO)) {
        char a[40], b[40];
        acme_log_field f[4] = { { "name", ns->name }, { "window_start", a }, { "window_end", b },
                                { "url", url ? url : "" } };

        fmt_time(a, sizeof(a), start);
        fmt_time(b, sizeof(b), end);
        acme__log(&s->log, ACME_LOG_INFO, f, url ? 4 : 3, "CA suggests a renewal window");
    } else if (rc < 0 && rc != ACME_E_NOTSUP && rc != ACME_E_CANCELLED) {
        log_name(s, ACME_LOG_WARNING, ns->name, 0, e, "cannot fetch renewal information");
    }
    free(url);
    acme_error_free(e);
}

/* ------------------------------------------------------------------ */
/* Issuing                                                             */
/* ------------------------------------------------------------------ */

typedef struct result {
    time_t not_before, not_after;
    char *cert_id;
} result;

/*
 * One issuing attempt: a new issuer (so a changed directory, account key
 * or CA takes effect), the account (RFC 8555 §7.3, with the contact), the
 * order (RFC 8555 §7.4, with `replaces` when the CA does ARI, RFC 9773
 * §5), then the store.  The store gets the whole bundle or nothing.
 */
static int attempt(acme_service *s, acme__svc_work *w, const entry *en, const char *replaces,
                   result *res, acme_error **err)
{
    const char *name = w->ns->name;
    acme_issue_options io = ACME_ISSUE_OPTIONS_INIT;
    acme_issuer *issuer = NULL;
    acme_key *key = NULL, *key2 = NULL;
    acme_bundle *b = NULL;
    char *key_pem = NULL, *chain_pem = NULL;
    int rc;

    memset(res, 0, sizeof(*res));
    if (s->keygen) {
        rc = s->keygen(s->keygen_userdata, &key, name, err);
        if (rc >= 0 && !key)
            rc = acme_error_set(err, ACME_E_CRYPTO, _("the key generator returned no key"));
        if (rc < 0 && err && !*err)
            rc = acme_error_set(err, rc, _("the key generator failed: %s"), acme_strerror(rc));
    } else {
        rc = acme_key_generate(&key, s->key_type, err);
    }
    if (rc < 0)
        goto out;
    if ((rc = make_issuer(s, &issuer, err)) < 0)
        goto out;
    if (!issuer_enter(s, w, issuer)) {
        rc = cancelled_error(err, name);
        goto out;
    }
    rc = acme_issuer_account(issuer, s->email, err);
    if (rc == ACME_OK && work_cancelled(s, w))
        rc = cancelled_error(err, name);
    if (rc == ACME_OK) {
        io.names = (const char *const *)en->names;
        io.nnames = en->nnames;
        io.responders = s->responders;
        io.nresponders = s->nresponders;
        io.cert_key = key;
        io.key_type = s->key_type;
        io.replaces = replaces;
        io.timeout_seconds = s->issue_timeout;
        rc = acme_issuer_issue(issuer, &key_pem, &chain_pem, &io, err);
    }
    issuer_leave(s, w);
    if (rc < 0)
        goto out;
    /* The issuer returns the key it used (ours, or its own when it ignores cert_key). */
    if ((rc = acme_key_load_pem(&key2, key_pem, strlen(key_pem), err)) < 0 ||
        (rc = acme_bundle_new(&b, key2, chain_pem, strlen(chain_pem), err)) < 0)
        goto out;
    if ((rc = acme_store_put(s->store, name, b, err)) < 0)
        goto out;
    res->not_before = acme_cert_not_before(acme_bundle_cert(b));
    res->not_after = acme_cert_not_after(acme_bundle_cert(b));
    if (acme_cert_ari_id(&res->cert_id, acme_bundle_cert(b), NULL) < 0)
        res->cert_id = NULL;
out:
    acme_bundle_free(b);
    acme_key_free(key2);
    acme_key_free(key);
    acme_issuer_free(issuer);
    acme__free_secret(key_pem);
    acme_free(chain_pem);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Planning                                                            */
/* ------------------------------------------------------------------ */

/* When the name's certificate is due (lock held): ARI's pick, else the interval policy. */
static int64_t renew_at_ms_locked(const acme_service *s, const acme__svc_name *ns)
{
    time_t t = acme__policy_renew_at(ns->not_before, ns->not_after, s->reissue_interval,
                                     s->panic_interval);

    if (ns->ari == ARI_YES && ns->ari_end > 0) {
        /* ARI decides, but never past the panic point of the interval policy. */
        time_t p = acme__policy_panic_at(ns->not_before, ns->not_after, s->reissue_interval,
                                         s->panic_interval);

        t = ns->ari_renew_at < p ? ns->ari_renew_at : p;
    }
    return (int64_t)t * MS_PER_S;
}

/* The next time the scheduler should look at the name (lock held). */
static int64_t next_look_locked(const acme_service *s, const acme__svc_name *ns, int64_t now)
{
    int64_t t;

    /* Blocked (userActionRequired): only full checks look, and only to log. */
    if (ns->blocked)
        return INT64_MAX;
    t = ns->have_cert ? renew_at_ms_locked(s, ns) : now;
    if (ns->retry_at_ms > t)
        t = ns->retry_at_ms;
    if (ns->have_cert && ns->ari_cert_id && ns->ari != ARI_NO && ns->ari_poll_ms < t &&
        now < (int64_t)ns->not_after * MS_PER_S)
        t = ns->ari_poll_ms > now ? ns->ari_poll_ms : now;
    return t;
}

/* ------------------------------------------------------------------ */
/* The job                                                             */
/* ------------------------------------------------------------------ */

acme_service_job *acme__svc_complete_locked(acme_service *s, acme__svc_work *w, int rc,
                                            const acme_error *error)
{
    acme_service_job *list = NULL;

    if (w->ns->work == w)
        w->ns->work = NULL;
    for (acme_service_job *j = w->jobs, *n; j; j = n) {
        n = j->wnext;
        j->wnext = NULL;
        j->work = NULL;
        j->done = true;
        j->rc = rc;
        if (rc < 0) {
            j->error = error ? acme_error_copy(error) : NULL;
            if (!j->error)
                j->error = acme__error_new(rc, acme_strerror(rc));
        }
        if (j->cb) {
            j->delivering = true;
            s->ndelivering++;
            j->dnext = list;
            list = j;
        }
    }
    w->jobs = NULL;
    pthread_cond_broadcast(&s->state_cond);
    free(w);
    return list;
}

void acme__svc_deliver_jobs(acme_service *s, acme_service_job *list)
{
    while (list) {
        acme_service_job *n = list->dnext;

        list->cb(list->userdata, list, list->name, list->rc, list->error);
        pthread_mutex_lock(&s->lock);
        list->delivering = false;
        s->ndelivering--;
        pthread_cond_broadcast(&s->state_cond);
        pthread_mutex_unlock(&s->lock);
        list = n;
    }
}

void acme__svc_run_work(acme_service *s, acme__svc_work *w)
{
    acme__svc_name *ns = w->ns;
    const char *name = ns->name;
    entry en;
    result res = { 0, 0, NULL };
    acme_error *e = NULL, *blocked_err = NULL;
    acme_service_job *deliver;
    char *replaces = NULL;
    bool issue = false, panicking = false, blocked_due = false, forced, cancelled = false;
    bool skewed = false;
    int64_t now, next;
    time_t now_s;
    int rc;

    now = acme_clock_now_ms(s->clock);
    now_s = (time_t)(now / MS_PER_S);
    if ((rc = read_entry(s, name, &en, &e)) < 0) {
        /* The store could not be read: try again later; the entry is not touched. */
        log_name(s, ACME_LOG_ERROR, name, 0, e, "cannot read the store");
        en.exists = true; /* as far as we know */
        pthread_mutex_lock(&s->lock);
        ns->retry_at_ms = now + acme__policy_backoff(ns->failures + 1, s->retry_initial,
                                                     s->retry_max, acme__svc_random()) *
                                    MS_PER_S;
        goto finish_locked;
    }

    /* A new certificate (or none) starts a new ARI history. */
    pthread_mutex_lock(&s->lock);
    if (!en.cert_id || !ns->ari_cert_id || strcmp(en.cert_id, ns->ari_cert_id) != 0) {
        free(ns->ari_cert_id);
        ns->ari_cert_id = en.cert_id ? acme__strdup(en.cert_id) : NULL;
        ns->ari_start = ns->ari_end = ns->ari_renew_at = 0;
        /* ns->ari is about the CA and stays; the new certificate is asked about now. */
        if (ns->ari != ARI_NO)
            ns->ari_poll_ms = 0;
    }
    ns->have_cert = en.have_cert;
    ns->not_before = en.not_before;
    ns->not_after = en.not_after;
    {
        bool poll = en.have_cert && en.cert_id && !w->force && !w->cancelled &&
                    now >= ns->ari_poll_ms && now_s < en.not_after;

        pthread_mutex_unlock(&s->lock);
        if (poll)
            ari_poll(s, w, en.cert_id, now);
    }

    /* Decide. */
    pthread_mutex_lock(&s->lock);
    {
        bool due = !en.have_cert || now >= renew_at_ms_locked(s, ns);

        panicking = acme__policy_panics(en.have_cert, en.not_before, en.not_after, now_s,
                                        s->reissue_interval, s->panic_interval);
        forced = w->force;
        cancelled = w->cancelled || s->stopping;
        /* A name gone from the store is issued only on request. */
        issue = !cancelled &&
                (forced || (due && en.exists && !ns->blocked && now >= ns->retry_at_ms));
        if (issue && now < ns->ratelimit_until_ms) {
            /* Never ask before the CA's Retry-After, not even when forced. */
            issue = false;
            if (forced)
                rc = acme_error_set(&e, ACME_E_RATELIMITED,
                                    _("the CA rate-limited issuing for %s; retry in %lld s"),
                                    name, (long long)((ns->ratelimit_until_ms - now) / 1000));
        }
        blocked_due = due && ns->blocked && !forced;
        if (blocked_due && ns->last_error)
            blocked_err = acme_error_copy(ns->last_error);
        if (issue && ns->ari == ARI_YES && en.cert_id)
            replaces = acme__strdup(en.cert_id);
        w->decided = true;
        w->issuing = issue;
        /* Only names that panic keep when_certs_valid waiting until their attempt ends. */
        if (!(issue && panicking))
            acme__svc_startup_done_locked(s, ns);
    }
    pthread_mutex_unlock(&s->lock);
    acme__svc_deliver_ready(s);

    if (blocked_due) {
        log_name(s, ACME_LOG_ERROR, name, en.not_after, blocked_err,
                 "certificate is due but the CA requires user action; not retrying");
        if (panicking)
            do_panic(s, name, en.not_after, blocked_err);
        acme_error_free(blocked_err);
    }
    if (cancelled && forced)
        rc = cancelled_error(&e, name);
    if (!issue) {
        pthread_mutex_lock(&s->lock);
        goto finish_locked;
    }

    /* Issue. */
    if (panicking)
        emit(s, ACME_EVENT_EXPIRING, name, en.not_after, NULL);
    log_name(s, ACME_LOG_INFO, name, en.not_after, NULL,
             forced ? "issuing certificate on request"
                    : en.have_cert ? "certificate is due for renewal; issuing"
                                   : "no certificate; issuing");
    emit(s, ACME_EVENT_OBTAINING, name, en.not_after, NULL);
    rc = attempt(s, w, &en, replaces, &res, &e);

    pthread_mutex_lock(&s->lock);
    if (rc == ACME_OK) {
        ns->failures = 0;
        acme_error_free(ns->last_error);
        ns->last_error = NULL;
        ns->retry_at_ms = 0;
        ns->ratelimit_until_ms = 0;
        ns->blocked = false;
        ns->have_cert = true;
        ns->not_before = res.not_before;
        ns->not_after = res.not_after;
        /* The new certificate's renewal information: asked after a while, not in a loop. */
        free(ns->ari_cert_id);
        ns->ari_cert_id = res.cert_id;
        res.cert_id = NULL;
        ns->ari_start = ns->ari_end = ns->ari_renew_at = 0;
        if (ns->ari == ARI_YES)
            ns->ari_poll_ms = now + acme__policy_ari_poll_delay(-1) * MS_PER_S;
        /*
         * A certificate due the moment it is issued means our clock runs
         * ahead of the CA's (or the CA issues shorter than we think): do
         * not loop on the CA, look again a check interval later.
         */
        if (renew_at_ms_locked(s, ns) <= now) {
            skewed = true;
            ns->retry_at_ms = now + s->check_interval * MS_PER_S;
        }
    } else if (rc == ACME_E_CANCELLED && w->cancelled) {
        /* Cancelled on purpose: not a failure of the name. */
    } else {
        int64_t ra = acme_error_retry_after(e);

        ns->failures++;
        acme_error_free(ns->last_error);
        ns->last_error = acme_error_copy(e);
        ns->retry_at_ms = now + acme__policy_retry_delay(ns->failures, s->retry_initial,
                                                         s->retry_max, ra,
                                                         acme__svc_random()) * MS_PER_S;
        if (problem_is(e, PROBLEM_RATELIMITED) || rc == ACME_E_RATELIMITED)
            ns->ratelimit_until_ms = ra > 0 ? now + ra * MS_PER_S : ns->retry_at_ms;
        if (problem_is(e, PROBLEM_USERACTION))
            ns->blocked = true;
    }
    pthread_mutex_unlock(&s->lock);

    if (rc == ACME_OK) {
        log_name(s, ACME_LOG_INFO, name, res.not_after, NULL, "certificate issued");
        if (skewed)
            log_name(s, ACME_LOG_WARNING, name, res.not_after, NULL,
                     "the new certificate is already due for renewal: is the clock ahead of "
                     "the CA's? Not renewing it before the next check");
        emit(s, en.have_cert ? ACME_EVENT_RENEWED : ACME_EVENT_OBTAINED, name, res.not_after,
             NULL);
    } else if (rc == ACME_E_CANCELLED && work_cancelled(s, w)) {
        log_name(s, ACME_LOG_INFO, name, en.not_after, NULL, "issuing cancelled");
        emit(s, ACME_EVENT_FAILED, name, en.not_after, e);
    } else {
        log_name(s, panicking ? ACME_LOG_ERROR : ACME_LOG_WARNING, name, en.not_after, e,
                 problem_is(e, PROBLEM_USERACTION)
                     ? "issuing failed: the CA requires user action; not retrying"
                     : "issuing failed");
        emit(s, ACME_EVENT_FAILED, name, en.not_after, e);
        if (panicking)
            do_panic(s, name, en.not_after, e);
    }
    pthread_mutex_lock(&s->lock);
    acme__svc_startup_done_locked(s, ns);

finish_locked:
    /* issue_cert arrived after a decision not to issue: run again, forced. */
    if (w->again && !w->cancelled && !s->stopping) {
        w->again = false;
        w->force = true;
        w->decided = false;
        w->issuing = false;
        w->running = false;
        ns->work = w;
        /* running is cleared; the worker loop counts it as done and a worker takes it again */
        w->qnext = NULL;
        w->queued = true;
        if (s->qtail)
            s->qtail->qnext = w;
        else
            s->qhead = w;
        s->qtail = w;
        pthread_cond_signal(&s->queue_cond);
        pthread_mutex_unlock(&s->lock);
        acme__svc_deliver_ready(s);
        goto out;
    }
    /* A name the store does not hold is looked at again only if a full check finds it. */
    next = en.exists || ns->have_cert ? next_look_locked(s, ns, acme_clock_now_ms(s->clock))
                                      : INT64_MAX;
    acme__svc_heap_set_locked(s, ns, next);
    /* A job that ends without an attempt (store unreadable) still counts as looked at. */
    acme__svc_startup_done_locked(s, ns);
    deliver = acme__svc_complete_locked(s, w, rc, e);
    pthread_mutex_unlock(&s->lock);
    acme__svc_deliver_ready(s);
    acme__svc_deliver_jobs(s, deliver);
out:
    free(replaces);
    free(res.cert_id);
    entry_clear(&en);
    acme_error_free(e);
}
