/*
 * service: the fake CA of <acme/testing.h>: an issuer plus the controller
 * a test drives it with (txacme's FakeClient and FakeClientController).
 * The certificate signing itself is in lib/crypto/fakeca.c, the only place
 * that may use GnuTLS; the manual clock is in clock.c.
 *
 * Lock order: a fake CA's lock, then a manual clock's lock (reading the
 * time).  Neither is held while a clock subscriber runs.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <acme/store.h>
#include <acme/sys/clock.h>
#include <acme/sys/error.h>
#include <acme/sys/issuer.h>
#include <acme/testing.h>

#include "crypto/crypto.h"
#include "crypto/fakeca.h"
#include "service/clock-internal.h"
#include "transport/transport.h"
#include "util/error.h"
#include "util/i18n.h"
#include "util/util.h"

#define ACME_URN "urn:ietf:params:acme:error:"
#define DEFAULT_LIFETIME (90 * 24 * 60 * 60LL)

/* ================================================================== */
/* The fake CA                                                          */
/* ================================================================== */

typedef struct fake_failure {
    struct fake_failure *next;
    acme_error *error;     /* the template; each use hands out a copy */
} fake_failure;

typedef struct failure_queue {
    fake_failure *head, *tail;
} failure_queue;

typedef struct fake_ari {
    struct fake_ari *next;
    char *key;             /* an ARI identifier or a name; NULL: every certificate */
    time_t start, end;
    char *explanation_url;
    int64_t retry_after;
} fake_ari;

/* What the CA remembers of a certificate: enough to answer ARI by name. */
typedef struct fake_cert {
    struct fake_cert *next;
    char *ari_id;
    char **names;
    size_t nnames;
} fake_cert;

struct acme_fake_ca {
    pthread_mutex_t lock;
    pthread_cond_t cond;     /* broadcast on every change a caller may wait for */
    unsigned int refs;       /* guarded by lock */
    acme_clock *clock;       /* borrowed, or own_clock */
    acme_clock *own_clock;
    int64_t lifetime;        /* seconds */
    acme__fakeca *root;

    bool paused;             /* guarded by lock */
    unsigned int pending;    /* guarded by lock */
    unsigned int issued;     /* guarded by lock */
    unsigned int finished;   /* guarded by lock */
    unsigned int accounts;   /* guarded by lock */
    failure_queue issue_failures;    /* guarded by lock */
    failure_queue account_failures;  /* guarded by lock */
    fake_ari *ari;           /* guarded by lock */
    fake_cert *certs;        /* guarded by lock */
    char *contact;           /* guarded by lock */
    char **last_names;       /* guarded by lock */
    size_t nlast_names;      /* guarded by lock */
    char *last_replaces;     /* guarded by lock */
    acme_key_type last_key_type; /* guarded by lock */
};

/* One issuer made from a CA: what it cancels is its own calls. */
typedef struct fake_issuer {
    acme_fake_ca *ca;        /* a reference */
    bool cancelled;          /* guarded by ca->lock */
} fake_issuer;

static void queue_clear(failure_queue *q)
{
    while (q->head) {
        fake_failure *f = q->head;

        q->head = f->next;
        acme_error_free(f->error);
        free(f);
    }
    q->tail = NULL;
}

/* The first failure of @p q, or NULL; the caller owns it. */
static acme_error *queue_pop(failure_queue *q)
{
    fake_failure *f = q->head;
    acme_error *e;

    if (!f)
        return NULL;
    if (!(q->head = f->next))
        q->tail = NULL;
    e = f->error;
    free(f);
    return e;
}

static void fake_ca_destroy(acme_fake_ca *ca)
{
    queue_clear(&ca->issue_failures);
    queue_clear(&ca->account_failures);
    while (ca->ari) {
        fake_ari *a = ca->ari;

        ca->ari = a->next;
        free(a->key);
        free(a->explanation_url);
        free(a);
    }
    while (ca->certs) {
        fake_cert *c = ca->certs;

        ca->certs = c->next;
        free(c->ari_id);
        acme_free_strv(c->names, c->nnames);
        free(c);
    }
    free(ca->contact);
    acme_free_strv(ca->last_names, ca->nlast_names);
    free(ca->last_replaces);
    acme__fakeca_free(ca->root);
    acme_clock_free(ca->own_clock);
    pthread_cond_destroy(&ca->cond);
    pthread_mutex_destroy(&ca->lock);
    free(ca);
}

int acme_fake_ca_new(acme_fake_ca **out, const acme_fake_ca_options *opts, acme_error **err)
{
    acme_fake_ca_options defaults = ACME_FAKE_CA_OPTIONS_INIT;
    acme_fake_ca *ca;
    int rc;

    if (out)
        *out = NULL;
    if (!out)
        return acme_error_set(err, ACME_E_INVALID, _("no output for the fake CA"));
    if (!opts)
        opts = &defaults;
    if (opts->version < 1 || opts->version > ACME_FAKE_CA_OPTIONS_VERSION)
        return acme_error_set(err, ACME_E_INVALID, _("unsupported fake CA options version %u"),
                              opts->version);
    if (opts->lifetime_seconds < 0)
        return acme_error_set(err, ACME_E_INVALID, _("negative certificate lifetime"));
    if (!(ca = calloc(1, sizeof(*ca))))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    if (pthread_mutex_init(&ca->lock, NULL) != 0) {
        free(ca);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    if (pthread_cond_init(&ca->cond, NULL) != 0) {
        pthread_mutex_destroy(&ca->lock);
        free(ca);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    ca->refs = 1;
    ca->lifetime = opts->lifetime_seconds ? opts->lifetime_seconds : DEFAULT_LIFETIME;
    ca->clock = opts->clock;
    if (!ca->clock) {
        if ((rc = acme_clock_system_new(&ca->own_clock, err)) < 0)
            goto fail;
        ca->clock = ca->own_clock;
    }
    if ((rc = acme__fakeca_new(&ca->root, opts->name ? opts->name : "libacme fake CA",
                               acme_clock_now(ca->clock), err)) < 0)
        goto fail;
    *out = ca;
    return ACME_OK;
fail:
    fake_ca_destroy(ca);
    return rc;
}

static acme_fake_ca *fake_ca_ref(acme_fake_ca *ca)
{
    pthread_mutex_lock(&ca->lock);
    ca->refs++;
    pthread_mutex_unlock(&ca->lock);
    return ca;
}

void acme_fake_ca_free(acme_fake_ca *ca)
{
    bool last;

    if (!ca)
        return;
    pthread_mutex_lock(&ca->lock);
    last = --ca->refs == 0;
    pthread_mutex_unlock(&ca->lock);
    if (last)
        fake_ca_destroy(ca);
}

const char *acme_fake_ca_root_pem(const acme_fake_ca *ca)
{
    return ca ? acme__fakeca_root_pem(ca->root) : NULL;
}

/* ---- the controller ---- */

void acme_fake_ca_pause(acme_fake_ca *ca)
{
    if (!ca)
        return;
    pthread_mutex_lock(&ca->lock);
    ca->paused = true;
    pthread_mutex_unlock(&ca->lock);
}

void acme_fake_ca_resume(acme_fake_ca *ca)
{
    if (!ca)
        return;
    pthread_mutex_lock(&ca->lock);
    ca->paused = false;
    pthread_cond_broadcast(&ca->cond);
    pthread_mutex_unlock(&ca->lock);
}

/* Read one counter under the lock. */
static unsigned int read_count(acme_fake_ca *ca, const unsigned int *counter)
{
    unsigned int v;

    pthread_mutex_lock(&ca->lock);
    v = *counter;
    pthread_mutex_unlock(&ca->lock);
    return v;
}

/* Wait until a counter reaches @p n; every change of a counter broadcasts cond. */
static void wait_count(acme_fake_ca *ca, const unsigned int *counter, unsigned int n)
{
    pthread_mutex_lock(&ca->lock);
    while (*counter < n)
        pthread_cond_wait(&ca->cond, &ca->lock);
    pthread_mutex_unlock(&ca->lock);
}

unsigned int acme_fake_ca_pending(acme_fake_ca *ca)
{
    return ca ? read_count(ca, &ca->pending) : 0;
}

void acme_fake_ca_wait_pending(acme_fake_ca *ca, unsigned int n)
{
    if (ca)
        wait_count(ca, &ca->pending, n);
}

unsigned int acme_fake_ca_issued_count(acme_fake_ca *ca)
{
    return ca ? read_count(ca, &ca->issued) : 0;
}

unsigned int acme_fake_ca_finished_count(acme_fake_ca *ca)
{
    return ca ? read_count(ca, &ca->finished) : 0;
}

void acme_fake_ca_wait_finished(acme_fake_ca *ca, unsigned int n)
{
    if (ca)
        wait_count(ca, &ca->finished, n);
}

unsigned int acme_fake_ca_account_count(acme_fake_ca *ca)
{
    return ca ? read_count(ca, &ca->accounts) : 0;
}

/* @p s as a JSON string (quotes included); NULL on no memory. */
static char *json_quote(const char *s)
{
    acme__buf b = ACME__BUF_INIT;
    int rc = acme__buf_puts(&b, "\"");

    for (const unsigned char *p = (const unsigned char *)s; *p && rc == 0; p++) {
        if (*p == '"' || *p == '\\')
            rc = acme__buf_printf(&b, "\\%c", *p);
        else if (*p < 0x20)
            rc = acme__buf_printf(&b, "\\u%04x", *p);
        else
            rc = acme__buf_append(&b, p, 1);
    }
    if (rc == 0)
        rc = acme__buf_puts(&b, "\"");
    if (rc != 0) {
        acme__buf_clear(&b);
        return NULL;
    }
    return acme__buf_steal(&b);
}

/*
 * Build the error a real CA's problem document would give, through the
 * transport's own problem parser, so that code and retryability come from
 * the library's one problem table (RFC 8555 §6.7).
 */
static int make_failure(acme_error **out, int code, const char *problem_type, const char *detail,
                        const char *instance, int64_t retry_after, acme_error **err)
{
    acme__buf json = ACME__BUF_INIT;
    char *type = NULL, *qt = NULL, *qd = NULL, *qi = NULL;
    acme_error *e = NULL;
    bool acme_urn;
    int rc = 0;

    *out = NULL;
    if (code > 0 || code < ACME_E_LAST)
        return acme_error_set(err, ACME_E_INVALID, _("%d is not an error code"), code);
    if (code == 0 && !problem_type)
        return acme_error_set(err, ACME_E_INVALID, _("a failure needs a code or a problem type"));
    if (retry_after < -1)
        return acme_error_set(err, ACME_E_INVALID, _("negative Retry-After"));
    if (problem_type && !*problem_type)
        return acme_error_set(err, ACME_E_INVALID, _("empty problem type"));
    /* A short name ("rateLimited") is an ACME problem; anything with ':' is a full URI. */
    if (problem_type)
        type = strchr(problem_type, ':') ? acme__strdup(problem_type)
                                         : acme__asprintf(ACME_URN "%s", problem_type);
    if ((problem_type && !type) || (type && !(qt = json_quote(type))) ||
        (detail && !(qd = json_quote(detail))) || (instance && !(qi = json_quote(instance))))
        goto nomem;
    rc |= acme__buf_puts(&json, "{");
    if (qt)
        rc |= acme__buf_printf(&json, "\"type\":%s,", qt);
    if (qd)
        rc |= acme__buf_printf(&json, "\"detail\":%s,", qd);
    if (qi)
        rc |= acme__buf_printf(&json, "\"instance\":%s,", qi);
    /* The status a CA would send: 429 for rate limits (RFC 8555 §6.6), else 400 or 500. */
    rc |= acme__buf_printf(&json, "\"status\":%d}",
                           code == ACME_E_RATELIMITED ||
                                   (type && strcmp(type, ACME_URN "rateLimited") == 0)
                               ? 429
                           : type && strcmp(type, ACME_URN "serverInternal") == 0 ? 500
                                                                                  : 400);
    if (rc != 0 || !(e = acme__problem_from_json(json.data, json.len, 0)))
        goto nomem;
    acme_urn = type && strncmp(type, ACME_URN, strlen(ACME_URN)) == 0;
    if (code != 0) {
        /* The caller's code wins; an ACME type keeps the table's retryability. */
        e->code = code;
        if (!acme_urn)
            e->retryable = acme__code_retryable(code);
    }
    e->retry_after = retry_after;
    *out = e;
    e = NULL;
    rc = ACME_OK;
    goto done;
nomem:
    rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
done:
    acme_error_free(e);
    acme__buf_clear(&json);
    free(type);
    free(qt);
    free(qd);
    free(qi);
    return rc;
}

static int queue_failure(acme_fake_ca *ca, failure_queue *q, int code, const char *problem_type,
                         const char *detail, const char *instance, int64_t retry_after,
                         acme_error **err)
{
    fake_failure *f;
    acme_error *e;
    int rc;

    if (!ca)
        return acme_error_set(err, ACME_E_INVALID, _("no fake CA"));
    if ((rc = make_failure(&e, code, problem_type, detail, instance, retry_after, err)) < 0)
        return rc;
    if (!(f = calloc(1, sizeof(*f)))) {
        acme_error_free(e);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    f->error = e;
    pthread_mutex_lock(&ca->lock);
    if (q->tail)
        q->tail->next = f;
    else
        q->head = f;
    q->tail = f;
    pthread_mutex_unlock(&ca->lock);
    return ACME_OK;
}

int acme_fake_ca_fail_next(acme_fake_ca *ca, int code, const char *problem_type,
                           int64_t retry_after, acme_error **err)
{
    return queue_failure(ca, ca ? &ca->issue_failures : NULL, code, problem_type, NULL, NULL,
                         retry_after, err);
}

int acme_fake_ca_fail_next_problem(acme_fake_ca *ca, int code, const char *problem_type,
                                   const char *detail, const char *instance, int64_t retry_after,
                                   acme_error **err)
{
    return queue_failure(ca, ca ? &ca->issue_failures : NULL, code, problem_type, detail,
                         instance, retry_after, err);
}

int acme_fake_ca_fail_account(acme_fake_ca *ca, int code, const char *problem_type,
                              int64_t retry_after, acme_error **err)
{
    return queue_failure(ca, ca ? &ca->account_failures : NULL, code, problem_type, NULL, NULL,
                         retry_after, err);
}

int acme_fake_ca_set_renewal_info(acme_fake_ca *ca, const char *key, time_t window_start,
                                  time_t window_end, const char *explanation_url,
                                  int64_t retry_after, acme_error **err)
{
    fake_ari *a, **pp;

    if (!ca)
        return acme_error_set(err, ACME_E_INVALID, _("no fake CA"));
    /* RFC 9773 §4.2: a window whose end is not after its start is invalid. */
    if (window_end <= window_start)
        return acme_error_set(err, ACME_E_INVALID, _("the renewal window ends before it starts"));
    if (retry_after < -1)
        return acme_error_set(err, ACME_E_INVALID, _("negative Retry-After"));
    if (!(a = calloc(1, sizeof(*a))) || (key && !(a->key = acme__strdup(key))) ||
        (explanation_url && !(a->explanation_url = acme__strdup(explanation_url)))) {
        if (a) {
            free(a->key);
            free(a);
        }
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    a->start = window_start;
    a->end = window_end;
    a->retry_after = retry_after;
    pthread_mutex_lock(&ca->lock);
    /* Replace an answer for the same key. */
    for (pp = &ca->ari; *pp; pp = &(*pp)->next) {
        fake_ari *old = *pp;

        if ((!old->key && !key) || (old->key && key && strcmp(old->key, key) == 0)) {
            *pp = old->next;
            free(old->key);
            free(old->explanation_url);
            free(old);
            break;
        }
    }
    a->next = ca->ari;
    ca->ari = a;
    pthread_mutex_unlock(&ca->lock);
    return ACME_OK;
}

char *acme_fake_ca_account_contact(acme_fake_ca *ca)
{
    char *s;

    if (!ca)
        return NULL;
    pthread_mutex_lock(&ca->lock);
    s = acme__strdup(ca->contact);
    pthread_mutex_unlock(&ca->lock);
    return s;
}

char **acme_fake_ca_last_names(acme_fake_ca *ca, size_t *n)
{
    char **v = NULL;

    if (n)
        *n = 0;
    if (!ca || !n)
        return NULL;
    pthread_mutex_lock(&ca->lock);
    if (ca->last_names && (v = acme__strv_dup((const char *const *)ca->last_names,
                                              ca->nlast_names)))
        *n = ca->nlast_names;
    pthread_mutex_unlock(&ca->lock);
    return v;
}

char *acme_fake_ca_last_replaces(acme_fake_ca *ca)
{
    char *s;

    if (!ca)
        return NULL;
    pthread_mutex_lock(&ca->lock);
    s = acme__strdup(ca->last_replaces);
    pthread_mutex_unlock(&ca->lock);
    return s;
}

acme_key_type acme_fake_ca_last_key_type(acme_fake_ca *ca)
{
    acme_key_type t;

    if (!ca)
        return (acme_key_type)0;
    pthread_mutex_lock(&ca->lock);
    t = ca->last_key_type;
    pthread_mutex_unlock(&ca->lock);
    return t;
}

/* ---- the issuer ---- */

static int fake_account(void *self, const char *contact_email, acme_error **err)
{
    fake_issuer *fi = self;
    acme_fake_ca *ca = fi->ca;
    acme_error *e;
    char *copy = NULL;

    if (contact_email && !(copy = acme__strdup(contact_email)))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    pthread_mutex_lock(&ca->lock);
    ca->accounts++;
    if (fi->cancelled) {
        pthread_mutex_unlock(&ca->lock);
        free(copy);
        return acme_error_set(err, ACME_E_CANCELLED, "%s", acme_strerror(ACME_E_CANCELLED));
    }
    if ((e = queue_pop(&ca->account_failures))) {
        pthread_mutex_unlock(&ca->lock);
        free(copy);
        return acme__error_give(err, e);
    }
    /* RFC 8555 §7.3.2: the account's contact becomes the one given. */
    free(ca->contact);
    ca->contact = copy;
    pthread_mutex_unlock(&ca->lock);
    return ACME_OK;
}

/*
 * The names as a CA would check them (RFC 8555 §7.1.4): each a DNS name
 * (optionally with one leading "*." label), or an IP literal; canonical
 * forms go into the certificate.
 */
static int check_names(char ***out, const char *const *names, size_t n, acme_error **err)
{
    char **v;
    int rc = ACME_OK;

    if (!names || n == 0)
        return acme_error_set(err, ACME_E_INVALID, _("no names to issue for"));
    if (!(v = calloc(n, sizeof(*v))))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    for (size_t i = 0; i < n && rc == ACME_OK; i++) {
        const char *name = names[i];
        bool wild = name && strncmp(name, "*.", 2) == 0;
        char *canon = NULL;

        if (!name) {
            rc = acme_error_set(err, ACME_E_INVALID, _("name %zu is missing"), i + 1);
            break;
        }
        if ((rc = acme_name_normalize(&canon, wild ? name + 2 : name, err)) < 0)
            break;
        if (wild) {
            v[i] = acme__asprintf("*.%s", canon);
            free(canon);
            if (!v[i])
                rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        } else {
            v[i] = canon;
        }
    }
    if (rc < 0) {
        acme_free_strv(v, n);
        return rc;
    }
    *out = v;
    return ACME_OK;
}

/* Record what the call asked for (acme_fake_ca_last_*); with ca->lock held. */
static int record_call(acme_fake_ca *ca, const acme_issue_options *opts)
{
    char **names = NULL, *replaces = NULL;

    if (opts->names && opts->nnames) {
        for (size_t i = 0; i < opts->nnames; i++)
            if (!opts->names[i])
                return ACME_OK; /* check_names() reports it */
        if (!(names = acme__strv_dup(opts->names, opts->nnames)))
            return ACME_E_NOMEM;
    }
    if (opts->replaces && !(replaces = acme__strdup(opts->replaces))) {
        acme_free_strv(names, opts->nnames);
        return ACME_E_NOMEM;
    }
    acme_free_strv(ca->last_names, ca->nlast_names);
    free(ca->last_replaces);
    ca->last_names = names;
    ca->nlast_names = names ? opts->nnames : 0;
    ca->last_replaces = replaces;
    ca->last_key_type = opts->cert_key ? acme_key_get_type(opts->cert_key)
                        : opts->key_type ? opts->key_type
                                         : ACME_KEY_DEFAULT;
    return ACME_OK;
}

/* Remember the certificate's ARI identifier and names, for ARI by name. */
static int remember_cert(acme_fake_ca *ca, const char *chain_pem, char **names, size_t n,
                         acme_error **err)
{
    acme_chain *chain = NULL;
    fake_cert *c;
    int rc;

    if (!(c = calloc(1, sizeof(*c))))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    if ((rc = acme_chain_parse(&chain, chain_pem, strlen(chain_pem), err)) < 0 ||
        (rc = acme_cert_ari_id(&c->ari_id, acme_chain_get(chain, 0), err)) < 0) {
        acme_chain_free(chain);
        free(c);
        return rc;
    }
    acme_chain_free(chain);
    c->names = names;
    c->nnames = n;
    pthread_mutex_lock(&ca->lock);
    c->next = ca->certs;
    ca->certs = c;
    pthread_mutex_unlock(&ca->lock);
    return ACME_OK;
}

/* Make the key and the chain; no lock held (key generation and signing take time). */
static int sign(acme_fake_ca *ca, char **key_pem, char **chain_pem, const acme_issue_options *opts,
                char **names, time_t not_before, acme_error **err)
{
    acme_key *key = NULL;
    int rc;

    if (opts->cert_key)
        key = acme__key_ref(opts->cert_key);
    else if ((rc = acme_key_generate(&key, opts->key_type ? opts->key_type : ACME_KEY_DEFAULT,
                                     err)) < 0)
        return rc;
    if ((rc = acme_key_save_pem(key_pem, key, ACME_KEY_FORMAT_PKCS8, err)) < 0)
        goto done;
    if ((rc = acme__fakeca_issue(chain_pem, ca->root, key, (const char *const *)names,
                                 opts->nnames, not_before, ca->lifetime, err)) < 0) {
        acme__free_secret(*key_pem);
        *key_pem = NULL;
    }
done:
    acme_key_free(key);
    return rc;
}

static int fake_issue(void *self, char **key_pem_out, char **chain_pem_out,
                      const acme_issue_options *opts, acme_error **err)
{
    fake_issuer *fi = self;
    acme_fake_ca *ca = fi->ca;
    char **names = NULL, *key_pem = NULL, *chain_pem = NULL;
    acme_error *e = NULL;
    bool cancelled;
    int rc;

    if (key_pem_out)
        *key_pem_out = NULL;
    if (chain_pem_out)
        *chain_pem_out = NULL;
    if (!key_pem_out || !chain_pem_out || !opts)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    if (opts->version < 1 || opts->version > ACME_ISSUE_OPTIONS_VERSION)
        return acme_error_set(err, ACME_E_INVALID, _("unsupported issue options version %u"),
                              opts->version);

    pthread_mutex_lock(&ca->lock);
    rc = record_call(ca, opts);
    pthread_mutex_unlock(&ca->lock);
    if (rc < 0) {
        rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        goto finish;
    }
    if ((rc = check_names(&names, opts->names, opts->nnames, err)) < 0)
        goto finish;

    /* The controller's pause: block until resumed, or until cancelled. */
    pthread_mutex_lock(&ca->lock);
    if (ca->paused && !fi->cancelled) {
        ca->pending++;
        pthread_cond_broadcast(&ca->cond);
        while (ca->paused && !fi->cancelled)
            pthread_cond_wait(&ca->cond, &ca->lock);
        ca->pending--;
        pthread_cond_broadcast(&ca->cond);
    }
    cancelled = fi->cancelled;
    if (!cancelled)
        e = queue_pop(&ca->issue_failures);
    pthread_mutex_unlock(&ca->lock);
    if (cancelled) {
        rc = acme_error_set(err, ACME_E_CANCELLED, "%s", acme_strerror(ACME_E_CANCELLED));
        goto finish;
    }
    if (e) {
        rc = acme__error_give(err, e);
        goto finish;
    }

    /* The certificate starts now on the CA's clock, so it expires on that timeline. */
    if ((rc = sign(ca, &key_pem, &chain_pem, opts, names, acme_clock_now(ca->clock), err)) < 0)
        goto finish;
    if ((rc = remember_cert(ca, chain_pem, names, opts->nnames, err)) < 0)
        goto finish;
    names = NULL; /* kept by remember_cert() */
    *key_pem_out = key_pem;
    *chain_pem_out = chain_pem;
    key_pem = chain_pem = NULL;
    rc = ACME_OK;
finish:
    acme_free_strv(names, opts->nnames);
    acme__free_secret(key_pem);
    free(chain_pem);
    pthread_mutex_lock(&ca->lock);
    if (rc == ACME_OK)
        ca->issued++;
    ca->finished++;
    pthread_cond_broadcast(&ca->cond);
    pthread_mutex_unlock(&ca->lock);
    return rc;
}

/* The answer for @p cert_id: by identifier, then by a name of that certificate, then NULL. */
static const fake_ari *find_ari(acme_fake_ca *ca, const char *cert_id)
{
    const fake_cert *c;
    const fake_ari *a;

    for (a = ca->ari; a; a = a->next)
        if (a->key && strcmp(a->key, cert_id) == 0)
            return a;
    for (c = ca->certs; c; c = c->next) {
        if (strcmp(c->ari_id, cert_id) != 0)
            continue;
        for (size_t i = 0; i < c->nnames; i++)
            for (a = ca->ari; a; a = a->next)
                if (a->key && strcmp(a->key, c->names[i]) == 0)
                    return a;
    }
    for (a = ca->ari; a; a = a->next)
        if (!a->key)
            return a;
    return NULL;
}

/* RFC 9773 §4.2, as the CA would answer it (no network: the CA's own table). */
static int fake_renewal_info(void *self, acme_renewal_info **out, const char *cert_id,
                             acme_error **err)
{
    fake_issuer *fi = self;
    acme_fake_ca *ca = fi->ca;
    const fake_ari *a;
    time_t start = 0, end = 0;
    int64_t retry_after = -1;
    char *url = NULL;
    bool found, cancelled, want_url = false;
    int rc;

    if (out)
        *out = NULL;
    if (!out || !cert_id)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    pthread_mutex_lock(&ca->lock);
    cancelled = fi->cancelled;
    a = cancelled ? NULL : find_ari(ca, cert_id);
    found = a != NULL;
    if (a) {
        start = a->start;
        end = a->end;
        retry_after = a->retry_after;
        want_url = a->explanation_url != NULL;
        url = acme__strdup(a->explanation_url);
    }
    pthread_mutex_unlock(&ca->lock);
    if (cancelled)
        return acme_error_set(err, ACME_E_CANCELLED, "%s", acme_strerror(ACME_E_CANCELLED));
    if (!found)
        return acme_error_set(err, ACME_E_NOTSUP,
                              _("the fake CA has no renewal information for %s"), cert_id);
    if (want_url && !url)
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    rc = acme_renewal_info_new(out, start, end, url, retry_after, err);
    free(url);
    return rc;
}

static void fake_cancel(void *self)
{
    fake_issuer *fi = self;

    pthread_mutex_lock(&fi->ca->lock);
    fi->cancelled = true;
    pthread_cond_broadcast(&fi->ca->cond);
    pthread_mutex_unlock(&fi->ca->lock);
}

static void fake_destroy(void *self)
{
    fake_issuer *fi = self;

    acme_fake_ca_free(fi->ca);
    free(fi);
}

static const acme_issuer_ops fake_ops = {
    .version = ACME_ISSUER_OPS_VERSION,
    .name = "fake",
    .flags = 0,
    .account = fake_account,
    .issue = fake_issue,
    .renewal_info = fake_renewal_info,
    .cancel = fake_cancel,
    .destroy = fake_destroy,
};

int acme_fake_ca_issuer(acme_issuer **out, acme_fake_ca *ca, acme_error **err)
{
    fake_issuer *fi;

    if (out)
        *out = NULL;
    if (!out || !ca)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    if (!(fi = calloc(1, sizeof(*fi))))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    fi->ca = fake_ca_ref(ca);
    return acme_issuer_new(out, &fake_ops, fi, err);
}
