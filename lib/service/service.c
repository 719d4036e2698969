/*
 * service: the issuing service's life cycle, scheduler, worker pool, job
 * handles and readiness (txacme's AcmeIssuingService).  What one job does
 * is in work.c; the policy numbers in policy.c.
 *
 * Threads.  One scheduler thread keeps a min-heap of names keyed by the
 * time each is next due (renewal time, ARI poll, retry), plus the time of
 * the next full check; it waits with acme__clock_wait() until the earliest
 * and then queues jobs.  N worker threads take jobs from a FIFO queue.  A
 * name has at most one job (name->work): acme_service_issue_cert() on a
 * name with a job joins that job instead of starting another.
 *
 * Lock order.  There is one service lock, s->lock; nothing else of the
 * service is a lock.  It is the innermost lock of the service: no other
 * lock is taken while it is held, except inside acme_clock_now_ms() (the
 * clock's own lock, a leaf).  It is never held while calling out: store
 * ops (get, put, list), the issuer factory and issuer ops (cancel
 * included), the key generator, the log, panic, event, job and ready
 * callbacks, and clock subscribe/unsubscribe.  The clock's notify callback
 * (on_clock_change) takes s->lock: clocks call it with none of their
 * locks held.  So a callback may call back into the service.
 *
 * Condition variables (all with s->lock): sched_cond wakes the scheduler
 * (new due time, clock change, stop); queue_cond wakes workers (new job,
 * stop); state_cond wakes everyone else (job done, ready, idle, a canceller
 * finished with an issuer).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <acme/sys/error.h>

#include "service/clock-internal.h"
#include "service/policy.h"
#include "service/service-internal.h"
#include "util/error.h"
#include "util/i18n.h"
#include "util/util.h"

#define MS_PER_S INT64_C(1000)

uint64_t acme__svc_random(void)
{
    uint64_t v = 0;

    /* Jitter needs no secrecy, only spread; getrandom never blocks after boot. */
    if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != (ssize_t)sizeof(v)) {
        static uint64_t x = 0x9e3779b97f4a7c15u;

        v = __atomic_add_fetch(&x, 0x9e3779b97f4a7c15u, __ATOMIC_RELAXED);
        v ^= v >> 31;
        v *= 0xbf58476d1ce4e5b9u;
        v ^= v >> 27;
    }
    return v;
}

static int64_t now_ms(const acme_service *s)
{
    return acme_clock_now_ms(s->clock);
}

/* Wait on @p cond until @p deadline_ms of the service's clock (INT64_MAX: none). */
static void svc_wait(acme_service *s, pthread_cond_t *cond, int64_t deadline_ms)
{
    if (deadline_ms == INT64_MAX)
        pthread_cond_wait(cond, &s->lock);
    else
        acme__clock_wait(s->clock, cond, &s->lock, deadline_ms);
}

/* ------------------------------------------------------------------ */
/* The heap of due names                                               */
/* ------------------------------------------------------------------ */

static void heap_swap(acme_service *s, size_t a, size_t b)
{
    acme__svc_name *t = s->heap[a];

    s->heap[a] = s->heap[b];
    s->heap[b] = t;
    s->heap[a]->heap_idx = a;
    s->heap[b]->heap_idx = b;
}

static void heap_up(acme_service *s, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;

        if (s->heap[p]->next_ms <= s->heap[i]->next_ms)
            break;
        heap_swap(s, p, i);
        i = p;
    }
}

static void heap_down(acme_service *s, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;

        if (l < s->nheap && s->heap[l]->next_ms < s->heap[m]->next_ms)
            m = l;
        if (r < s->nheap && s->heap[r]->next_ms < s->heap[m]->next_ms)
            m = r;
        if (m == i)
            break;
        heap_swap(s, i, m);
        i = m;
    }
}

static void heap_remove(acme_service *s, acme__svc_name *ns)
{
    size_t i = ns->heap_idx;

    if (i == SIZE_MAX)
        return;
    s->nheap--;
    if (i != s->nheap) {
        s->heap[i] = s->heap[s->nheap];
        s->heap[i]->heap_idx = i;
        heap_down(s, i);
        heap_up(s, i);
    }
    ns->heap_idx = SIZE_MAX;
    ns->next_ms = INT64_MAX;
}

void acme__svc_heap_set_locked(acme_service *s, acme__svc_name *ns, int64_t next_ms)
{
    heap_remove(s, ns);
    if (next_ms == INT64_MAX)
        return;
    if (s->nheap == s->heap_cap) {
        size_t cap = s->heap_cap ? s->heap_cap * 2 : 16;
        acme__svc_name **h = realloc(s->heap, cap * sizeof(*h));

        /* Out of memory: the name is still looked at by the next full check. */
        if (!h)
            return;
        s->heap = h;
        s->heap_cap = cap;
    }
    ns->next_ms = next_ms;
    ns->heap_idx = s->nheap;
    s->heap[s->nheap++] = ns;
    heap_up(s, ns->heap_idx);
    /* The scheduler's deadline may have moved earlier. */
    s->sched_idle = false;
    pthread_cond_signal(&s->sched_cond);
}

/* ------------------------------------------------------------------ */
/* Names and the queue                                                 */
/* ------------------------------------------------------------------ */

static acme__svc_name *name_find(acme_service *s, const char *name)
{
    /* Linear: a service manages tens to a few thousand names, looked up once per job. */
    for (size_t i = 0; i < s->nnames; i++)
        if (strcmp(s->names[i]->name, name) == 0)
            return s->names[i];
    return NULL;
}

static acme__svc_name *name_get(acme_service *s, const char *name)
{
    acme__svc_name *ns = name_find(s, name);

    if (ns)
        return ns;
    if (s->nnames == s->names_cap) {
        size_t cap = s->names_cap ? s->names_cap * 2 : 16;
        acme__svc_name **v = realloc(s->names, cap * sizeof(*v));

        if (!v)
            return NULL;
        s->names = v;
        s->names_cap = cap;
    }
    if (!(ns = calloc(1, sizeof(*ns))) || !(ns->name = acme__strdup(name))) {
        free(ns);
        return NULL;
    }
    ns->next_ms = INT64_MAX;
    ns->heap_idx = SIZE_MAX;
    s->names[s->nnames++] = ns;
    return ns;
}

static void name_free(acme__svc_name *ns)
{
    if (!ns)
        return;
    acme_error_free(ns->last_error);
    free(ns->ari_cert_id);
    free(ns->name);
    free(ns);
}

static void name_drop_locked(acme_service *s, size_t i)
{
    acme__svc_name *ns = s->names[i];

    heap_remove(s, ns);
    s->names[i] = s->names[--s->nnames];
    name_free(ns);
}

static void enqueue_locked(acme_service *s, acme__svc_work *w)
{
    w->qnext = NULL;
    w->queued = true;
    if (s->qtail)
        s->qtail->qnext = w;
    else
        s->qhead = w;
    s->qtail = w;
    pthread_cond_signal(&s->queue_cond);
}

static void dequeue_locked(acme_service *s, acme__svc_work *w)
{
    acme__svc_work **pp = &s->qhead, *prev = NULL;

    for (; *pp; prev = *pp, pp = &(*pp)->qnext) {
        if (*pp == w) {
            *pp = w->qnext;
            if (s->qtail == w)
                s->qtail = prev;
            w->queued = false;
            w->qnext = NULL;
            return;
        }
    }
}

/* A new job for @p ns (lock held; ns has none).  NULL when out of memory. */
static acme__svc_work *work_new_locked(acme_service *s, acme__svc_name *ns, bool force,
                                       bool scheduled)
{
    acme__svc_work *w = calloc(1, sizeof(*w));

    if (!w)
        return NULL;
    w->ns = ns;
    w->force = force;
    w->scheduled = scheduled;
    ns->work = w;
    heap_remove(s, ns);
    enqueue_locked(s, w);
    return w;
}

/* ------------------------------------------------------------------ */
/* Readiness (when_certs_valid)                                        */
/* ------------------------------------------------------------------ */

static void ready_check_locked(acme_service *s)
{
    /* Attempts cut short by stop do not count: the check did not finish. */
    if (!s->ready && !s->stopping && s->startup_listed && s->startup_pending == 0) {
        s->ready = true;
        pthread_cond_broadcast(&s->state_cond);
    }
}

void acme__svc_startup_done_locked(acme_service *s, acme__svc_name *ns)
{
    if (!ns->startup)
        return;
    ns->startup = false;
    if (s->startup_pending > 0)
        s->startup_pending--;
    ready_check_locked(s);
}

/* Take the waiting ready callbacks when they should run (lock held). */
static acme__svc_ready *ready_take_locked(acme_service *s)
{
    acme__svc_ready *l = NULL;

    if (s->ready || !s->running || s->stopping) {
        l = s->ready_cbs;
        s->ready_cbs = NULL;
        if (l)
            s->ndelivering++;
    }
    return l;
}

static void ready_run(acme_service *s, acme__svc_ready *l, int rc)
{
    if (!l)
        return;
    while (l) {
        acme__svc_ready *n = l->next;

        l->cb(l->userdata, rc);
        free(l);
        l = n;
    }
    pthread_mutex_lock(&s->lock);
    s->ndelivering--;
    pthread_cond_broadcast(&s->state_cond);
    pthread_mutex_unlock(&s->lock);
}

void acme__svc_deliver_ready(acme_service *s)
{
    acme__svc_ready *l;
    int rc;

    pthread_mutex_lock(&s->lock);
    l = ready_take_locked(s);
    rc = s->ready ? ACME_OK : ACME_E_CANCELLED;
    pthread_mutex_unlock(&s->lock);
    ready_run(s, l, rc);
}

/* ------------------------------------------------------------------ */
/* The scheduler                                                       */
/* ------------------------------------------------------------------ */

/*
 * A full check (on start and every check interval): list the store and
 * queue a job for every name that has none.  Called without the lock.
 */
static void full_check(acme_service *s)
{
    char **names = NULL;
    size_t n = 0;
    acme_error *e = NULL;
    int rc;
    bool startup;
    int64_t now = now_ms(s), delay;

    ACME__LOGF(&s->log, ACME_LOG_INFO, "starting scheduled check of certificates");
    rc = acme_store_list(&names, &n, s->store, &e);
    pthread_mutex_lock(&s->lock);
    if (s->stopping) {
        /* Stop came while the store was listed: queue nothing more. */
        pthread_mutex_unlock(&s->lock);
        acme_free_strv(names, n);
        acme_error_free(e);
        return;
    }
    startup = !s->startup_listed;
    if (rc < 0) {
        /* A failing check is logged; the schedule goes on, sooner than usual. */
        s->check_failures++;
        delay = acme__policy_backoff(s->check_failures, s->retry_initial, s->check_interval,
                                     acme__svc_random());
        s->check_due_ms = now + delay * MS_PER_S;
        pthread_mutex_unlock(&s->lock);
        if (acme__log_enabled(&s->log, ACME_LOG_ERROR)) {
            char retry[32];
            acme_log_field f[2] = { { "error", e ? acme_error_message(e) : "?" },
                                    { "retry_in", retry } };

            snprintf(retry, sizeof(retry), "%llds", (long long)delay);
            acme__log(&s->log, ACME_LOG_ERROR, f, 2, "certificate check failed: cannot list "
                      "the store");
        }
        acme_error_free(e);
        return;
    }
    s->check_failures = 0;
    s->check_due_ms = now + s->check_interval * MS_PER_S;
    for (size_t i = 0; i < s->nnames; i++)
        s->names[i]->in_store = false;
    for (size_t i = 0; i < n; i++) {
        acme__svc_name *ns = name_get(s, names[i]);

        if (!ns)
            continue;
        ns->in_store = true;
        if (startup && !ns->startup) {
            ns->startup = true;
            s->startup_pending++;
        }
        if (!ns->work)
            work_new_locked(s, ns, false, true);
        else
            ns->work->scheduled = true;
    }
    /* Names gone from the store, with no job, are forgotten. */
    for (size_t i = s->nnames; i-- > 0;) {
        acme__svc_name *ns = s->names[i];

        if (!ns->in_store && !ns->work)
            name_drop_locked(s, i);
    }
    if (startup) {
        s->startup_listed = true;
        ready_check_locked(s);
    }
    pthread_mutex_unlock(&s->lock);
    if (acme__log_enabled(&s->log, ACME_LOG_DEBUG)) {
        char count[32];
        acme_log_field f[1] = { { "names", count } };

        snprintf(count, sizeof(count), "%zu", n);
        acme__log(&s->log, ACME_LOG_DEBUG, f, 1, "check queued every name of the store");
    }
    acme_free_strv(names, n);
    if (startup)
        acme__svc_deliver_ready(s);
}

static void *scheduler_main(void *arg)
{
    acme_service *s = arg;

    pthread_mutex_lock(&s->lock);
    while (!s->stopping) {
        int64_t now = now_ms(s), deadline;

        if (now >= s->check_due_ms) {
            s->check_due_ms = INT64_MAX;
            pthread_mutex_unlock(&s->lock);
            full_check(s);
            pthread_mutex_lock(&s->lock);
            continue;
        }
        while (s->nheap > 0 && s->heap[0]->next_ms <= now) {
            acme__svc_name *ns = s->heap[0];

            heap_remove(s, ns);
            if (!ns->work)
                work_new_locked(s, ns, false, true);
        }
        deadline = s->check_due_ms;
        if (s->nheap > 0 && s->heap[0]->next_ms < deadline)
            deadline = s->heap[0]->next_ms;
        s->sched_idle = true;
        pthread_cond_broadcast(&s->state_cond);
        svc_wait(s, &s->sched_cond, deadline);
        s->sched_idle = false;
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* The clock's time changed (manual clocks): the scheduler must look again. */
static void on_clock_change(void *arg)
{
    acme_service *s = arg;

    pthread_mutex_lock(&s->lock);
    s->sched_idle = false;
    pthread_cond_broadcast(&s->sched_cond);
    pthread_cond_broadcast(&s->state_cond);
    pthread_mutex_unlock(&s->lock);
}

/* ------------------------------------------------------------------ */
/* Workers                                                             */
/* ------------------------------------------------------------------ */

static void *worker_main(void *arg)
{
    acme_service *s = arg;

    pthread_mutex_lock(&s->lock);
    for (;;) {
        acme__svc_work *w;

        while (!s->qhead && !s->stopping)
            pthread_cond_wait(&s->queue_cond, &s->lock);
        if (s->stopping)
            break;
        w = s->qhead;
        dequeue_locked(s, w);
        w->running = true;
        s->nrunning++;
        pthread_mutex_unlock(&s->lock);
        acme__svc_run_work(s, w);
        pthread_mutex_lock(&s->lock);
        s->nrunning--;
        pthread_cond_broadcast(&s->state_cond);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                          */
/* ------------------------------------------------------------------ */

int acme_service_new(acme_service **out, const acme_service_options *opts, acme_error **err)
{
    acme_service *s;
    int rc;

    if (out)
        *out = NULL;
    if (!out || !opts)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    if (opts->version < 1 || opts->version > ACME_SERVICE_OPTIONS_VERSION)
        return acme_error_set(err, ACME_E_INVALID,
                              _("service options version %u is not supported"), opts->version);
    if (!opts->store)
        return acme_error_set(err, ACME_E_INVALID, _("the service needs a store"));
    if (!opts->issuer_factory)
        return acme_error_set(err, ACME_E_INVALID, _("the service needs an issuer factory"));
    if (opts->check_interval < 0 || opts->reissue_interval < 0 || opts->panic_interval < 0 ||
        opts->retry_initial < 0 || opts->retry_max < 0 || opts->issue_timeout_seconds < 0)
        return acme_error_set(err, ACME_E_INVALID, _("service intervals cannot be negative"));
    if (opts->nresponders && !opts->responders)
        return acme_error_set(err, ACME_E_INVALID, _("responder count without responders"));
    if (opts->email && (!*opts->email || strchr(opts->email, ':') || !strchr(opts->email, '@')))
        return acme_error_set(err, ACME_E_INVALID, _("\"%s\" is not an email address"),
                              opts->email);
    if (!(s = calloc(1, sizeof(*s))))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    s->store = opts->store;
    s->factory = opts->issuer_factory;
    s->factory_userdata = opts->issuer_factory_userdata;
    s->check_interval = opts->check_interval ? opts->check_interval : ACME_SERVICE_CHECK_INTERVAL;
    s->reissue_interval = opts->reissue_interval ? opts->reissue_interval
                                                 : ACME_SERVICE_REISSUE_INTERVAL;
    s->panic_interval = opts->panic_interval ? opts->panic_interval : ACME_SERVICE_PANIC_INTERVAL;
    s->retry_initial = opts->retry_initial ? opts->retry_initial : ACME_SERVICE_RETRY_INITIAL;
    s->retry_max = opts->retry_max ? opts->retry_max : ACME_SERVICE_RETRY_MAX;
    if (s->retry_max < s->retry_initial)
        s->retry_max = s->retry_initial;
    s->panic = opts->panic;
    s->panic_userdata = opts->panic_userdata;
    s->keygen = opts->generate_key;
    s->keygen_userdata = opts->generate_key_userdata;
    s->key_type = opts->key_type ? opts->key_type : ACME_KEY_DEFAULT;
    s->nworkers = opts->workers ? opts->workers : ACME_SERVICE_WORKERS;
    s->on_event = opts->on_event;
    s->event_userdata = opts->event_userdata;
    s->log.fn = opts->log;
    s->log.userdata = opts->log_userdata;
    s->log.level = opts->log_level ? opts->log_level : ACME_LOG_INFO;
    s->issue_timeout = opts->issue_timeout_seconds;
    s->check_due_ms = INT64_MAX;
    if (opts->email && !(s->email = acme__strdup(opts->email)))
        goto nomem;
    if (opts->nresponders) {
        if (!(s->responders = calloc(opts->nresponders, sizeof(*s->responders))))
            goto nomem;
        memcpy(s->responders, opts->responders, opts->nresponders * sizeof(*s->responders));
        s->nresponders = opts->nresponders;
    }
    if (opts->clock) {
        s->clock = opts->clock;
    } else {
        if ((rc = acme_clock_system_new(&s->clock, err)) < 0) {
            free(s->responders);
            free(s->email);
            free(s);
            return rc;
        }
        s->own_clock = true;
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->queue_cond, NULL);
    if ((rc = acme__cond_init_monotonic(&s->sched_cond, err)) < 0)
        goto fail_cond;
    if ((rc = acme__cond_init_monotonic(&s->state_cond, err)) < 0) {
        pthread_cond_destroy(&s->sched_cond);
        goto fail_cond;
    }
    *out = s;
    return ACME_OK;
nomem:
    free(s->responders);
    free(s->email);
    free(s);
    return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
fail_cond:
    pthread_cond_destroy(&s->queue_cond);
    pthread_mutex_destroy(&s->lock);
    if (s->own_clock)
        acme_clock_free(s->clock);
    free(s->responders);
    free(s->email);
    free(s);
    return rc;
}

int acme_service_start(acme_service *s, acme_error **err)
{
    int rc, e;

    if (!s)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    pthread_mutex_lock(&s->lock);
    if (s->running) {
        pthread_mutex_unlock(&s->lock);
        return acme_error_set(err, ACME_E_INVALIDSTATE, _("the service is running already"));
    }
    pthread_mutex_unlock(&s->lock);
    /*
     * Manual clocks end waits only through this notification (step 2 of
     * the wait protocol in clock-internal.h); real clocks need none.
     */
    {
        acme_error *se = NULL;

        rc = acme__clock_subscribe(s->clock, on_clock_change, s, &se);
        if (rc < 0 && rc != ACME_E_NOTSUP)
            return acme__error_give(err, se);
        acme_error_free(se);
    }
    if (!(s->workers = calloc(s->nworkers, sizeof(*s->workers)))) {
        acme__clock_unsubscribe(s->clock, on_clock_change, s);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    pthread_mutex_lock(&s->lock);
    s->running = true;
    s->stopping = false;
    s->ever_started = true;
    s->subscribed = true;
    s->ready = false;
    s->startup_listed = false;
    s->startup_pending = 0;
    s->check_failures = 0;
    s->check_due_ms = now_ms(s);
    /* A restart is a configuration change: blocked names get another chance. */
    for (size_t i = 0; i < s->nnames; i++) {
        s->names[i]->blocked = false;
        s->names[i]->startup = false;
    }
    pthread_mutex_unlock(&s->lock);
    s->nstarted = 0;
    if ((e = pthread_create(&s->scheduler, NULL, scheduler_main, s)) != 0)
        goto fail;
    for (unsigned int i = 0; i < s->nworkers; i++) {
        if ((e = pthread_create(&s->workers[i], NULL, worker_main, s)) != 0)
            goto fail;
        s->nstarted++;
    }
    ACME__LOGF(&s->log, ACME_LOG_INFO, "issuing service started with %u workers", s->nworkers);
    return ACME_OK;
fail:
    if (s->nstarted || e != 0) {
        /* Undo: stop joins what was started (the scheduler first, when it was). */
        bool sched = s->nstarted > 0 || e == 0;

        pthread_mutex_lock(&s->lock);
        s->stopping = true;
        pthread_cond_broadcast(&s->sched_cond);
        pthread_cond_broadcast(&s->queue_cond);
        pthread_mutex_unlock(&s->lock);
        if (sched)
            pthread_join(s->scheduler, NULL);
        for (unsigned int i = 0; i < s->nstarted; i++)
            pthread_join(s->workers[i], NULL);
    }
    pthread_mutex_lock(&s->lock);
    s->running = false;
    s->stopping = false;
    s->subscribed = false;
    pthread_mutex_unlock(&s->lock);
    acme__clock_unsubscribe(s->clock, on_clock_change, s);
    free(s->workers);
    s->workers = NULL;
    return acme_error_set(err, e == ENOMEM || e == EAGAIN ? ACME_E_NOMEM : ACME_E_IO,
                          _("cannot start a service thread: %s"), strerror(e));
}

/* Cancel a running job's issuer call (lock held; released and taken again). */
static void cancel_running_locked(acme_service *s, acme__svc_work *w)
{
    acme_issuer *issuer;

    w->cancelled = true;
    if (!(issuer = w->issuer))
        return;
    /* The worker frees the issuer only once cancel_refs is back to 0. */
    w->cancel_refs++;
    pthread_mutex_unlock(&s->lock);
    acme_issuer_cancel(issuer);
    pthread_mutex_lock(&s->lock);
    w->cancel_refs--;
    pthread_cond_broadcast(&s->state_cond);
}

void acme_service_stop(acme_service *s)
{
    acme_service_job *deliver = NULL;
    acme__svc_ready *ready;
    bool again;

    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    if (!s->running || s->stopping) {
        /* Another thread is stopping: wait for it, so that stop always returns joined. */
        while (s->stopping)
            pthread_cond_wait(&s->state_cond, &s->lock);
        pthread_mutex_unlock(&s->lock);
        return;
    }
    s->stopping = true;
    pthread_cond_broadcast(&s->sched_cond);
    pthread_cond_broadcast(&s->queue_cond);
    /* Queued jobs never run. */
    while (s->qhead) {
        acme__svc_work *w = s->qhead;
        acme_service_job *l;

        dequeue_locked(s, w);
        l = acme__svc_complete_locked(s, w, ACME_E_CANCELLED, NULL);
        while (l) {
            acme_service_job *n = l->dnext;

            l->dnext = deliver;
            deliver = l;
            l = n;
        }
    }
    /* Running jobs are cancelled, their HTTP transfers included. */
    do {
        again = false;
        for (size_t i = 0; i < s->nnames; i++) {
            acme__svc_work *w = s->names[i]->work;

            if (w && w->running && !w->cancelled) {
                cancel_running_locked(s, w);
                again = true; /* the list may have changed while unlocked */
                break;
            }
        }
    } while (again);
    ready = ready_take_locked(s);
    pthread_mutex_unlock(&s->lock);

    ACME__LOGF(&s->log, ACME_LOG_INFO, "stopping the issuing service");
    acme__svc_deliver_jobs(s, deliver);
    ready_run(s, ready, ACME_E_CANCELLED);
    pthread_join(s->scheduler, NULL);
    for (unsigned int i = 0; i < s->nstarted; i++)
        pthread_join(s->workers[i], NULL);
    acme__clock_unsubscribe(s->clock, on_clock_change, s);

    pthread_mutex_lock(&s->lock);
    free(s->workers);
    s->workers = NULL;
    s->nstarted = 0;
    s->running = false;
    s->stopping = false;
    s->subscribed = false;
    /* Waiters on a never-ready service give up. */
    pthread_cond_broadcast(&s->state_cond);
    while (s->ndelivering > 0)
        pthread_cond_wait(&s->state_cond, &s->lock);
    pthread_mutex_unlock(&s->lock);
}

void acme_service_free(acme_service *s)
{
    if (!s)
        return;
    acme_service_stop(s);
    pthread_mutex_lock(&s->lock);
    /* Handles outlive the service: they are complete and need no lock from now on. */
    for (acme_service_job *j = s->handles; j; j = j->hnext)
        j->service = NULL;
    s->handles = NULL;
    pthread_mutex_unlock(&s->lock);
    for (size_t i = 0; i < s->nnames; i++) {
        /* Stop completed every job; a job left here would be a bug, not a leak to hide. */
        free(s->names[i]->work);
        name_free(s->names[i]);
    }
    while (s->ready_cbs) {
        acme__svc_ready *n = s->ready_cbs->next;

        free(s->ready_cbs);
        s->ready_cbs = n;
    }
    free(s->names);
    free(s->heap);
    free(s->responders);
    free(s->email);
    if (s->own_clock)
        acme_clock_free(s->clock);
    pthread_cond_destroy(&s->sched_cond);
    pthread_cond_destroy(&s->queue_cond);
    pthread_cond_destroy(&s->state_cond);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

int acme__service_set_observer(acme_service *s, acme_service_event_fn *fn, void *userdata,
                               acme_error **err)
{
    int rc = ACME_OK;

    if (!s)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    pthread_mutex_lock(&s->lock);
    if (fn && s->observer && (s->observer != fn || s->observer_userdata != userdata))
        rc = ACME_E_INVALIDSTATE;
    else {
        s->observer = fn;
        s->observer_userdata = fn ? userdata : NULL;
    }
    pthread_mutex_unlock(&s->lock);
    if (rc < 0)
        return acme_error_set(err, rc, _("the service already serves another endpoint"));
    return ACME_OK;
}

/* ------------------------------------------------------------------ */
/* Jobs on demand                                                      */
/* ------------------------------------------------------------------ */

int acme_service_issue_cert_async(acme_service_job **out, acme_service *s, const char *name,
                                  acme_service_job_fn *cb, void *userdata, acme_error **err)
{
    acme_service_job *job;
    acme__svc_name *ns;
    acme__svc_work *w;
    int rc;

    if (out)
        *out = NULL;
    if (!out || !s || !name)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    if ((rc = acme_name_validate(name, err)) < 0)
        return rc;
    if (!(job = calloc(1, sizeof(*job))) || !(job->name = acme__strdup(name))) {
        free(job);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    job->cb = cb;
    job->userdata = userdata;
    pthread_mutex_lock(&s->lock);
    if (!s->running || s->stopping) {
        pthread_mutex_unlock(&s->lock);
        free(job->name);
        free(job);
        return acme_error_set(err, ACME_E_INVALIDSTATE, _("the issuing service is not running"));
    }
    if (!(ns = name_get(s, name)))
        goto nomem;
    /* An explicit request is a configuration change: retry a blocked name. */
    ns->blocked = false;
    if (!(w = ns->work)) {
        if (!(w = work_new_locked(s, ns, true, false)))
            goto nomem;
    } else if (!w->decided) {
        w->force = true;
    } else if (!w->issuing) {
        /* The job decided the certificate was fresh: run it again, forced. */
        w->again = true;
    }
    /* else: issuing is in flight: wait for it, start nothing. */
    job->service = s;
    job->work = w;
    job->wnext = w->jobs;
    w->jobs = job;
    job->hnext = s->handles;
    if (s->handles)
        s->handles->hprev = job;
    s->handles = job;
    pthread_mutex_unlock(&s->lock);
    *out = job;
    return ACME_OK;
nomem:
    pthread_mutex_unlock(&s->lock);
    free(job->name);
    free(job);
    return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
}

int acme_service_job_wait(acme_service_job *job, int64_t timeout_ms, acme_error **err)
{
    acme_service *s;
    int rc;

    if (!job)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    if (!(s = job->service)) {
        /* The service is gone: the job completed before it went. */
        rc = job->rc;
    } else {
        int64_t deadline = INT64_MAX;

        pthread_mutex_lock(&s->lock);
        if (timeout_ms >= 0)
            deadline = now_ms(s) + timeout_ms;
        while (!job->done) {
            if (deadline != INT64_MAX && now_ms(s) >= deadline)
                break;
            svc_wait(s, &s->state_cond, deadline);
        }
        if (!job->done) {
            pthread_mutex_unlock(&s->lock);
            return acme_error_set(err, ACME_E_TIMEOUT, _("the job for %s is still running"),
                                  job->name);
        }
        rc = job->rc;
        pthread_mutex_unlock(&s->lock);
    }
    if (rc < 0) {
        if (err && !*err)
            *err = acme_error_copy(job->error);
        if (err && !*err)
            return acme_error_set(err, rc, "%s", acme_strerror(rc));
    }
    return rc;
}

bool acme_service_job_done(acme_service_job *job)
{
    acme_service *s;
    bool done;

    if (!job)
        return true;
    if (!(s = job->service))
        return true;
    pthread_mutex_lock(&s->lock);
    done = job->done;
    pthread_mutex_unlock(&s->lock);
    return done;
}

void acme_service_job_cancel(acme_service_job *job)
{
    acme_service *s;
    acme__svc_work *w;
    acme_service_job *deliver = NULL;

    if (!job || !(s = job->service))
        return;
    pthread_mutex_lock(&s->lock);
    if (job->done || !(w = job->work)) {
        pthread_mutex_unlock(&s->lock);
        return;
    }
    /* Detach this caller. */
    for (acme_service_job **pp = &w->jobs; *pp; pp = &(*pp)->wnext) {
        if (*pp == job) {
            *pp = job->wnext;
            break;
        }
    }
    job->work = NULL;
    job->wnext = NULL;
    job->done = true;
    job->rc = ACME_E_CANCELLED;
    job->error = acme__error_new(ACME_E_CANCELLED, _("issuing was cancelled"));
    if (job->cb) {
        job->delivering = true;
        s->ndelivering++;
        job->dnext = NULL;
        deliver = job;
    }
    /* Nobody else wants the job: stop it. */
    if (!w->jobs && !w->scheduled) {
        if (w->queued) {
            acme_service_job *l;

            acme__svc_name *ns = w->ns;

            dequeue_locked(s, w);
            l = acme__svc_complete_locked(s, w, ACME_E_CANCELLED, NULL);
            (void)l; /* no handles left */
            /* The name keeps its place in the schedule: look at it again soon. */
            if (ns->in_store)
                acme__svc_heap_set_locked(s, ns, now_ms(s));
        } else if (w->running && !w->cancelled) {
            cancel_running_locked(s, w);
        }
    }
    pthread_cond_broadcast(&s->state_cond);
    pthread_mutex_unlock(&s->lock);
    if (deliver)
        acme__svc_deliver_jobs(s, deliver);
}

void acme_service_job_free(acme_service_job *job)
{
    acme_service *s;

    if (!job)
        return;
    acme_service_job_cancel(job);
    if ((s = job->service)) {
        pthread_mutex_lock(&s->lock);
        while (job->delivering)
            pthread_cond_wait(&s->state_cond, &s->lock);
        if (job->hprev)
            job->hprev->hnext = job->hnext;
        else if (s->handles == job)
            s->handles = job->hnext;
        if (job->hnext)
            job->hnext->hprev = job->hprev;
        pthread_mutex_unlock(&s->lock);
    }
    acme_error_free(job->error);
    free(job->name);
    free(job);
}

int acme_service_issue_cert(acme_service *s, const char *name, acme_error **err)
{
    acme_service_job *job;
    int rc;

    if ((rc = acme_service_issue_cert_async(&job, s, name, NULL, NULL, err)) < 0)
        return rc;
    rc = acme_service_job_wait(job, -1, err);
    acme_service_job_free(job);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Readiness                                                           */
/* ------------------------------------------------------------------ */

int acme_service_when_certs_valid(acme_service *s, int64_t timeout_ms, acme_error **err)
{
    int64_t deadline = INT64_MAX;
    int rc = ACME_OK;

    if (!s)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    pthread_mutex_lock(&s->lock);
    if (!s->ever_started) {
        pthread_mutex_unlock(&s->lock);
        return acme_error_set(err, ACME_E_INVALIDSTATE, _("the issuing service was never started"));
    }
    if (timeout_ms >= 0)
        deadline = now_ms(s) + timeout_ms;
    while (!s->ready) {
        if (!s->running || s->stopping) {
            rc = ACME_E_CANCELLED;
            break;
        }
        if (deadline != INT64_MAX && now_ms(s) >= deadline) {
            rc = ACME_E_TIMEOUT;
            break;
        }
        svc_wait(s, &s->state_cond, deadline);
    }
    pthread_mutex_unlock(&s->lock);
    if (rc == ACME_E_CANCELLED)
        return acme_error_set(err, rc, _("the issuing service stopped"));
    if (rc == ACME_E_TIMEOUT)
        return acme_error_set(err, rc, _("certificates are not valid yet"));
    return ACME_OK;
}

int acme_service_when_certs_valid_cb(acme_service *s, acme_service_ready_fn *cb, void *userdata,
                                     acme_error **err)
{
    acme__svc_ready *r;
    int rc = 1;

    if (!s || !cb)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    if (!(r = calloc(1, sizeof(*r))))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    r->cb = cb;
    r->userdata = userdata;
    pthread_mutex_lock(&s->lock);
    if (s->ready)
        rc = ACME_OK;
    else if (!s->running && s->ever_started)
        rc = ACME_E_CANCELLED;
    else {
        r->next = s->ready_cbs;
        s->ready_cbs = r;
    }
    pthread_mutex_unlock(&s->lock);
    if (rc <= 0) {
        cb(userdata, rc);
        free(r);
    }
    return ACME_OK;
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

void acme__service_wait_idle(acme_service *s)
{
    pthread_mutex_lock(&s->lock);
    while (s->running &&
           !(s->sched_idle && !s->qhead && s->nrunning == 0 && s->ndelivering == 0))
        pthread_cond_wait(&s->state_cond, &s->lock);
    pthread_mutex_unlock(&s->lock);
}
