/*
 * libacme: the clock vtable, for implementers of clocks.
 * Not included by <acme/acme.h>.  See libacme-backends(3).
 */
#ifndef ACME_SYS_CLOCK_H
#define ACME_SYS_CLOCK_H

#include <stdint.h>
#include <acme/common.h>
#include <acme/error.h>
#include <acme/clock.h>

ACME_BEGIN_DECLS

#define ACME_CLOCK_OPS_VERSION 1

/**
 * The clock's time moves only when it is told to (a manual clock): waits
 * on it have no real-time timeout and end only when the time changes (the
 * clock calls its subscribers) or the waiter is woken otherwise.
 */
#define ACME_CLOCK_F_VIRTUAL 0x1u

/** Called after the clock's time changed. */
typedef void acme_clock_notify_fn(void *arg);

typedef struct acme_clock_ops {
    unsigned int version;   /**< ACME_CLOCK_OPS_VERSION; always first */
    const char *name;       /**< "system", "manual" */
    unsigned int flags;     /**< ACME_CLOCK_F_* */

    /** Milliseconds since the Unix epoch.  MT-Safe. */
    int64_t (*now_ms)(void *self);

    /**
     * Call @p fn(@p arg) after every change of time, on the thread that
     * changed it, with no lock of the clock held.  Required for
     * ACME_CLOCK_F_VIRTUAL clocks; may be NULL for real ones.  MT-Safe.
     */
    int (*subscribe)(void *self, acme_clock_notify_fn *fn, void *arg, acme_error **err);

    /**
     * Stop calling @p fn(@p arg).  When it returns, no call of it is in
     * progress or will start.  MT-Safe.
     */
    void (*unsubscribe)(void *self, acme_clock_notify_fn *fn, void *arg);

    /** Release @p self; called once by acme_clock_free().  May be NULL. */
    void (*destroy)(void *self);
} acme_clock_ops;

/**
 * Wrap @p ops and @p self into a clock.
 *
 * @return ACME_OK; ACME_E_INVALID when @p ops is NULL, lacks now_ms, is a
 *         virtual clock without subscribe/unsubscribe, or its version is
 *         newer than this library's.
 * Ownership: *out owns @p self (destroy is called on free), also when this
 * call fails.
 */
ACME_EXTERN int acme_clock_new(acme_clock **out, const acme_clock_ops *ops, void *self,
                               acme_error **err);

/** The state passed to acme_clock_new(); borrowed. */
ACME_EXTERN void *acme_clock_self(const acme_clock *clock);

ACME_END_DECLS

#endif /* ACME_SYS_CLOCK_H */
