/*
 * service: clocks.  The acme_clock wrapper around a versioned vtable, the
 * system clock, and acme__clock_wait(), the one place where the service
 * turns "until this time" into a condition-variable wait (see the protocol
 * in clock-internal.h), and the manual clock of <acme/testing.h>, whose
 * subscribers are what makes its waits end.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include <acme/sys/error.h>
#include <acme/testing.h>

#include "service/clock-internal.h"
#include "util/i18n.h"

struct acme_clock {
    const acme_clock_ops *ops;  /* borrowed: static const in practice */
    void *self;
};

/*
 * A real-clock wait is cut into slices of at most a day: it keeps the
 * timespec arithmetic far from overflow, and a caller whose deadline is
 * far away just loops (acme__clock_wait() returns 1, "re-check").
 */
#define MAX_SLICE_MS (24 * 60 * 60 * 1000LL)

int acme_clock_new(acme_clock **out, const acme_clock_ops *ops, void *self, acme_error **err)
{
    acme_clock *c;
    const char *why = NULL;

    if (out)
        *out = NULL;
    if (!ops)
        why = _("no clock operations");
    else if (ops->version < 1 || ops->version > ACME_CLOCK_OPS_VERSION)
        why = _("unsupported clock operations version");
    else if (!ops->now_ms)
        why = _("the clock has no now_ms");
    else if ((ops->flags & ACME_CLOCK_F_VIRTUAL) && (!ops->subscribe || !ops->unsubscribe))
        why = _("a virtual clock needs subscribe and unsubscribe");
    else if (!out)
        why = _("no output for the clock");
    if (why) {
        /* Ownership of self passed to us: release it even on failure. */
        if (ops && ops->version >= 1 && ops->version <= ACME_CLOCK_OPS_VERSION && ops->destroy)
            ops->destroy(self);
        return acme_error_set(err, ACME_E_INVALID, "%s", why);
    }
    if (!(c = calloc(1, sizeof(*c)))) {
        if (ops->destroy)
            ops->destroy(self);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    c->ops = ops;
    c->self = self;
    *out = c;
    return ACME_OK;
}

void acme_clock_free(acme_clock *clock)
{
    if (!clock)
        return;
    if (clock->ops->destroy)
        clock->ops->destroy(clock->self);
    free(clock);
}

void *acme_clock_self(const acme_clock *clock)
{
    return clock ? clock->self : NULL;
}

static int64_t realtime_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A NULL clock reads as the system clock: code that takes an optional clock needs no branch. */
int64_t acme_clock_now_ms(const acme_clock *clock)
{
    if (!clock)
        return realtime_ms();
    return clock->ops->now_ms(clock->self);
}

time_t acme_clock_now(const acme_clock *clock)
{
    int64_t ms = acme_clock_now_ms(clock);

    /* Floor, not truncation: -1 ms is in second -1 (a manual clock may start anywhere). */
    return (time_t)(ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000));
}

/* ---- the system clock ---- */

static int64_t system_now_ms(void *self)
{
    (void)self;
    return realtime_ms();
}

static const acme_clock_ops system_ops = {
    .version = ACME_CLOCK_OPS_VERSION,
    .name = "system",
    .flags = 0,
    .now_ms = system_now_ms,
};

int acme_clock_system_new(acme_clock **out, acme_error **err)
{
    return acme_clock_new(out, &system_ops, NULL, err);
}

/* ---- waiting (clock-internal.h) ---- */

const acme_clock_ops *acme__clock_ops(const acme_clock *c)
{
    return c ? c->ops : NULL;
}

bool acme__clock_is_virtual(const acme_clock *c)
{
    return c && (c->ops->flags & ACME_CLOCK_F_VIRTUAL);
}

int acme__cond_init_monotonic(pthread_cond_t *cond, acme_error **err)
{
    pthread_condattr_t attr;
    int ok;

    if (!cond)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    if (pthread_condattr_init(&attr) != 0)
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    ok = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
         pthread_cond_init(cond, &attr) == 0;
    pthread_condattr_destroy(&attr);
    if (!ok)
        return acme_error_set(err, ACME_E_NOMEM,
                              _("cannot make a condition variable on the monotonic clock"));
    return ACME_OK;
}

int acme__clock_wait(acme_clock *c, pthread_cond_t *cond, pthread_mutex_t *mutex,
                     int64_t deadline_ms)
{
    int64_t now = acme_clock_now_ms(c);

    if (now >= deadline_ms)
        return 0;
    if (acme__clock_is_virtual(c)) {
        /* Time moves only when the clock's subscribers are told: no timeout. */
        pthread_cond_wait(cond, mutex);
    } else {
        int64_t slice = deadline_ms - now;
        struct timespec ts;

        if (slice > MAX_SLICE_MS)
            slice = MAX_SLICE_MS;
        /* The remaining wall-clock time, waited on the monotonic clock. */
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += (time_t)(slice / 1000);
        ts.tv_nsec += (long)(slice % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        (void)pthread_cond_timedwait(cond, mutex, &ts);
    }
    /*
     * Whatever woke us (timeout, signal, nothing), only the clock says
     * whether the deadline passed: a timeout with the wall clock set back
     * is "not yet", a spurious wake-up is "not yet".
     */
    return acme_clock_now_ms(c) >= deadline_ms ? 0 : 1;
}

int acme__clock_subscribe(acme_clock *c, acme_clock_notify_fn *fn, void *arg, acme_error **err)
{
    if (!c || !fn)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    if (!c->ops->subscribe)
        return acme_error_set(err, ACME_E_NOTSUP, _("the %s clock has no subscribers"),
                              c->ops->name ? c->ops->name : "?");
    return c->ops->subscribe(c->self, fn, arg, err);
}

void acme__clock_unsubscribe(acme_clock *c, acme_clock_notify_fn *fn, void *arg)
{
    if (c && fn && c->ops->unsubscribe)
        c->ops->unsubscribe(c->self, fn, arg);
}

/* The notifier: take the waiter's mutex so the wake-up cannot fall between its check and its wait. */
static void watch_notify(void *arg)
{
    acme__clock_watcher *w = arg;

    pthread_mutex_lock(w->mutex);
    pthread_cond_broadcast(w->cond);
    pthread_mutex_unlock(w->mutex);
}

int acme__clock_watch(acme_clock *c, acme__clock_watcher *w, pthread_mutex_t *mutex,
                      pthread_cond_t *cond, acme_error **err)
{
    int rc;

    if (!w || !mutex || !cond)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    w->mutex = mutex;
    w->cond = cond;
    w->subscribed = false;
    if (!acme__clock_is_virtual(c))
        return ACME_OK;
    if ((rc = acme__clock_subscribe(c, watch_notify, w, err)) < 0)
        return rc;
    w->subscribed = true;
    return ACME_OK;
}

void acme__clock_unwatch(acme_clock *c, acme__clock_watcher *w)
{
    if (!w || !w->subscribed)
        return;
    acme__clock_unsubscribe(c, watch_notify, w);
    w->subscribed = false;
}

/* ================================================================== */
/* The manual clock                                                     */
/* ================================================================== */

typedef struct manual_sub {
    struct manual_sub *next;
    acme_clock_notify_fn *fn;
    void *arg;
    uint64_t notified;     /* the last change this subscriber was called for; guarded by lock */
    unsigned int calling;  /* calls running now; guarded by lock */
} manual_sub;

typedef struct manual_clock {
    pthread_mutex_t lock;
    pthread_cond_t idle;   /* broadcast when a subscriber call ends */
    int64_t now_ms;        /* guarded by lock */
    uint64_t changes;      /* how many times the time was changed; guarded by lock */
    manual_sub *subs;      /* guarded by lock */
} manual_clock;

static int64_t manual_now_ms(void *self)
{
    manual_clock *mc = self;
    int64_t now;

    pthread_mutex_lock(&mc->lock);
    now = mc->now_ms;
    pthread_mutex_unlock(&mc->lock);
    return now;
}

static int manual_subscribe(void *self, acme_clock_notify_fn *fn, void *arg, acme_error **err)
{
    manual_clock *mc = self;
    manual_sub *s;

    if (!fn)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    if (!(s = calloc(1, sizeof(*s))))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    s->fn = fn;
    s->arg = arg;
    pthread_mutex_lock(&mc->lock);
    /* Only changes after this one concern the new subscriber. */
    s->notified = mc->changes;
    s->next = mc->subs;
    mc->subs = s;
    pthread_mutex_unlock(&mc->lock);
    return ACME_OK;
}

static void manual_unsubscribe(void *self, acme_clock_notify_fn *fn, void *arg)
{
    manual_clock *mc = self;
    manual_sub **pp, *s = NULL;

    pthread_mutex_lock(&mc->lock);
    for (pp = &mc->subs; *pp; pp = &(*pp)->next)
        if ((*pp)->fn == fn && (*pp)->arg == arg) {
            s = *pp;
            *pp = s->next;
            break;
        }
    /* The sys/clock.h promise: when we return, no call of fn is running. */
    while (s && s->calling)
        pthread_cond_wait(&mc->idle, &mc->lock);
    pthread_mutex_unlock(&mc->lock);
    free(s);
}

/*
 * Tell every subscriber about change number @p change, one at a time,
 * with the lock released around each call.  No list snapshot is taken (so
 * no allocation can fail here): each pass finds a subscriber not yet told
 * of this change.  A subscriber that a later change already reached is
 * skipped: that later call happens after this change too.  An entry being
 * called cannot be freed (unsubscribe waits for calling == 0), and after
 * the call the scan restarts from the head, so no stale pointer is used.
 */
static void manual_notify(manual_clock *mc, uint64_t change)
{
    pthread_mutex_lock(&mc->lock);
    for (;;) {
        manual_sub *s;

        for (s = mc->subs; s && s->notified >= change; s = s->next)
            ;
        if (!s)
            break;
        s->notified = change;
        s->calling++;
        pthread_mutex_unlock(&mc->lock);
        s->fn(s->arg);
        pthread_mutex_lock(&mc->lock);
        if (--s->calling == 0)
            pthread_cond_broadcast(&mc->idle);
    }
    pthread_mutex_unlock(&mc->lock);
}

static void manual_destroy(void *self)
{
    manual_clock *mc = self;

    while (mc->subs) {
        manual_sub *s = mc->subs;

        mc->subs = s->next;
        free(s);
    }
    pthread_cond_destroy(&mc->idle);
    pthread_mutex_destroy(&mc->lock);
    free(mc);
}

static const acme_clock_ops manual_ops = {
    .version = ACME_CLOCK_OPS_VERSION,
    .name = "manual",
    .flags = ACME_CLOCK_F_VIRTUAL,
    .now_ms = manual_now_ms,
    .subscribe = manual_subscribe,
    .unsubscribe = manual_unsubscribe,
    .destroy = manual_destroy,
};

int acme_clock_manual_new(acme_clock **out, int64_t start_ms, acme_error **err)
{
    manual_clock *mc;

    if (out)
        *out = NULL;
    if (!out)
        return acme_error_set(err, ACME_E_INVALID, _("no output for the clock"));
    if (!(mc = calloc(1, sizeof(*mc))))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    if (pthread_mutex_init(&mc->lock, NULL) != 0) {
        free(mc);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    if (pthread_cond_init(&mc->idle, NULL) != 0) {
        pthread_mutex_destroy(&mc->lock);
        free(mc);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    mc->now_ms = start_ms;
    return acme_clock_new(out, &manual_ops, mc, err);
}

static manual_clock *as_manual(acme_clock *clock)
{
    return acme__clock_ops(clock) == &manual_ops ? acme_clock_self(clock) : NULL;
}

/* Change the time (the new value from @p to or @p by), then tell the subscribers. */
static int manual_change(acme_clock *clock, bool absolute, int64_t value)
{
    manual_clock *mc = as_manual(clock);
    uint64_t change;

    if (!mc || (!absolute && value < 0))
        return ACME_E_INVALID;
    pthread_mutex_lock(&mc->lock);
    if (absolute)
        mc->now_ms = value;
    else if (mc->now_ms > INT64_MAX - value)
        mc->now_ms = INT64_MAX;
    else
        mc->now_ms += value;
    change = ++mc->changes;
    pthread_mutex_unlock(&mc->lock);
    manual_notify(mc, change);
    return ACME_OK;
}

int acme_clock_manual_advance(acme_clock *clock, int64_t ms)
{
    return manual_change(clock, false, ms);
}

int acme_clock_manual_set(acme_clock *clock, int64_t now_ms)
{
    return manual_change(clock, true, now_ms);
}
