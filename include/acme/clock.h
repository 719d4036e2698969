/*
 * libacme: clocks.
 *
 * The service reads time and waits through an acme_clock, so that tests can
 * drive time by hand (acme_clock_manual_new() in <acme/testing.h>): months
 * of renewals run in milliseconds, with no sleep.
 */
#ifndef ACME_CLOCK_H
#define ACME_CLOCK_H

#include <stdint.h>
#include <time.h>
#include <acme/common.h>
#include <acme/error.h>

ACME_BEGIN_DECLS

/** A clock: a versioned vtable plus its state; opaque. */
typedef struct acme_clock acme_clock;

/**
 * The system clock: wall time from CLOCK_REALTIME; waits measured on
 * CLOCK_MONOTONIC, so that setting the system time does not stretch them.
 *
 * Ownership: the caller frees *out with acme_clock_free().
 * Thread safety: MT-Safe.
 */
ACME_EXTERN int acme_clock_system_new(acme_clock **out, acme_error **err);

/**
 * Milliseconds since the Unix epoch.  A NULL @p clock reads as the system
 * clock.  Thread safety: MT-Safe.
 */
ACME_EXTERN int64_t acme_clock_now_ms(const acme_clock *clock);

/** Seconds since the Unix epoch, rounded down.  Thread safety: MT-Safe. */
ACME_EXTERN time_t acme_clock_now(const acme_clock *clock);

/** Free a clock (NULL-safe); not while an object that uses it is alive. */
ACME_EXTERN void acme_clock_free(acme_clock *clock);

ACME_END_DECLS

#endif /* ACME_CLOCK_H */
