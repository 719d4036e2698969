/*
 * service: waiting on an acme_clock (internal to the library).
 *
 * The service's scheduler sleeps until the next job is due, or until
 * someone changes its state (a new name, a stop).  With the system clock
 * that is a timed wait on a condition variable; with a manual clock
 * (<acme/testing.h>) time moves only when a test moves it, so the wait has
 * no real-time timeout and the clock wakes the waiter by calling a
 * subscriber.
 *
 * THE WAIT PROTOCOL (both kinds of clock):
 *
 *   1. Initialise the condition variable with acme__cond_init_monotonic()
 *      (a real clock's wait is measured on CLOCK_MONOTONIC, so that
 *      setting the wall clock neither stretches nor cuts it short).
 *   2. Before the first wait, call acme__clock_watch() (or subscribe your
 *      own notifier with acme__clock_subscribe()).  For a virtual clock it
 *      registers a notifier that LOCKS @p mutex, BROADCASTS @p cond and
 *      unlocks; for a real clock it does nothing.  Unwatch before the
 *      mutex, the condition variable or the clock go away.
 *   3. Wait in a loop, with @p mutex held, re-checking your own predicate
 *      after every return:
 *
 *          pthread_mutex_lock(&m);
 *          while (!stopping && !work_ready) {
 *              if (acme__clock_wait(clock, &cond, &m, next_due_ms) == 0)
 *                  run_due_jobs();            (the deadline has passed)
 *          }
 *
 *   Why no wake-up is lost: a time change happens (on the clock's own
 *   lock) before the clock calls its subscribers, and the notifier takes
 *   @p mutex before it broadcasts.  The waiter reads the time with @p mutex
 *   held and atomically releases it inside pthread_cond_wait().  So either
 *   the waiter read the new time (and returns 0 without waiting), or it is
 *   already waiting when the notifier broadcasts.  Anyone else who wakes
 *   the waiter must likewise change the predicate with @p mutex held.
 *
 *   Why spurious wake-ups do no harm: acme__clock_wait() returns 0 only
 *   after it read the clock at or past the deadline; any other return
 *   (a signal, a broadcast, a spurious wake-up, a real-time wait cut into
 *   slices) is 1, "re-check and wait again".
 *
 * Never call acme_clock_manual_advance()/_set() while holding a mutex that
 * a subscriber takes: the subscriber would deadlock.
 */
#ifndef ACME_SERVICE_CLOCK_INTERNAL_H
#define ACME_SERVICE_CLOCK_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <acme/clock.h>
#include <acme/sys/clock.h>

/* The clock's vtable (to recognise a clock kind, as the manual clock does); NULL for NULL. */
const acme_clock_ops *acme__clock_ops(const acme_clock *c);

/* Whether @p c is a virtual clock (ACME_CLOCK_F_VIRTUAL). */
bool acme__clock_is_virtual(const acme_clock *c);

/*
 * Initialise @p cond to measure timed waits on CLOCK_MONOTONIC, as
 * acme__clock_wait() needs.  Returns ACME_OK or ACME_E_NOMEM (pthread
 * failure), setting *err.
 */
int acme__cond_init_monotonic(pthread_cond_t *cond, acme_error **err);

/*
 * With @p mutex held: wait on @p cond until the clock reads @p deadline_ms
 * or later, or until @p cond is signalled.  @p deadline_ms INT64_MAX waits
 * for a signal only.
 *
 * Returns 0 when the clock read at or past the deadline (also when it
 * already did on entry: no wait then); 1 when woken before the deadline
 * (a signal, a broadcast, a spurious wake-up): re-check and call again.
 * @p mutex is held again on return, whichever.
 */
int acme__clock_wait(acme_clock *c, pthread_cond_t *cond, pthread_mutex_t *mutex,
                     int64_t deadline_ms);

/*
 * Call @p fn(@p arg) after every time change of a virtual clock, on the
 * thread that changed it, with no clock lock held.  Returns ACME_OK;
 * ACME_E_NOTSUP for a clock without subscribe (a real clock: it needs
 * none); ACME_E_NOMEM.
 */
int acme__clock_subscribe(acme_clock *c, acme_clock_notify_fn *fn, void *arg, acme_error **err);

/*
 * Stop calling @p fn(@p arg).  When it returns no call of it is running or
 * will start.  Not from inside @p fn itself (it would wait for itself).
 * NULL-safe; a clock without unsubscribe does nothing.
 */
void acme__clock_unsubscribe(acme_clock *c, acme_clock_notify_fn *fn, void *arg);

/* The notifier of acme__clock_watch(): which mutex to take, which cond to wake. */
typedef struct acme__clock_watcher {
    pthread_mutex_t *mutex;
    pthread_cond_t *cond;
    bool subscribed;
} acme__clock_watcher;

/*
 * Step 2 of the protocol: for a virtual clock, subscribe a notifier that
 * locks @p mutex and broadcasts @p cond; for a real clock, nothing.  @p w
 * is caller storage that must stay in place until acme__clock_unwatch().
 * Returns ACME_OK or ACME_E_NOMEM.
 */
int acme__clock_watch(acme_clock *c, acme__clock_watcher *w, pthread_mutex_t *mutex,
                      pthread_cond_t *cond, acme_error **err);

/*
 * Undo acme__clock_watch() (safe when it failed, or on a zeroed @p w).  Not
 * with @p mutex held: it waits for a notifier in progress, which takes it.
 */
void acme__clock_unwatch(acme_clock *c, acme__clock_watcher *w);

#endif
