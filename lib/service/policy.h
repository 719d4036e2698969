/*
 * service: the renewal policy as pure functions (no clock, no locks, no
 * randomness of their own), so that the unit tests can check the numbers.
 *
 * Times are seconds since the Unix epoch (time_t, as certificates carry
 * them); durations are seconds (int64_t).  Random inputs are taken as a
 * 64-bit value the caller draws, so a test can pass 0 and UINT64_MAX for
 * the two ends of every range.
 */
#ifndef ACME_SERVICE_POLICY_H
#define ACME_SERVICE_POLICY_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define ACME__DAY ((int64_t)86400)

/* Lifetimes up to this renew at half their lifetime, longer ones at a third. */
#define ACME__POLICY_SHORT_LIFETIME (10 * ACME__DAY)

/*
 * The reissue and panic intervals that apply to one certificate.
 *
 * The configured intervals suit 90-day certificates.  A shorter lifetime
 * shrinks them, so that a 6-day or 45-day certificate is neither renewed
 * at once after it is issued (a loop) nor left to expire: renew when a
 * third of the lifetime is left (half for lifetimes of 10 days or less),
 * and panic at half of that.  The configured values stay the upper bounds.
 * A lifetime of 0 or less (a broken certificate) leaves them as they are.
 */
void acme__policy_intervals(int64_t lifetime, int64_t reissue, int64_t panic,
                            int64_t *eff_reissue, int64_t *eff_panic);

/*
 * When a certificate valid from @p not_before to @p not_after is due for
 * renewal under the interval policy: not_after minus the effective
 * reissue interval.
 */
time_t acme__policy_renew_at(time_t not_before, time_t not_after, int64_t reissue,
                             int64_t panic);

/* The time from which a failure to renew panics: not_after minus the effective panic interval. */
time_t acme__policy_panic_at(time_t not_before, time_t not_after, int64_t reissue,
                             int64_t panic);

/*
 * Whether a failed renewal at @p now calls the panic callback: when there
 * is no usable certificate (@p have_cert false: missing, empty, or not
 * parseable) or it expires within the effective panic interval.
 */
bool acme__policy_panics(bool have_cert, time_t not_before, time_t not_after, time_t now,
                         int64_t reissue, int64_t panic);

/*
 * The delay before retry number @p attempt (1 for the first retry after
 * one failure): d = min(@p cap, @p base * 2^(attempt-1)), then "equal
 * jitter": a value in [d/2, d], picked by @p rnd (0 gives d/2, UINT64_MAX
 * gives d).  The jitter spreads the retries of many names that failed
 * together (a CA outage) so they do not return in one burst.
 */
int64_t acme__policy_backoff(unsigned int attempt, int64_t base, int64_t cap, uint64_t rnd);

/* The bounds acme__policy_backoff() picks from, for tests and documentation. */
void acme__policy_backoff_bounds(unsigned int attempt, int64_t base, int64_t cap, int64_t *lo,
                                 int64_t *hi);

/*
 * The delay before retrying after a failure: the backoff, but never less
 * than the CA's Retry-After (@p retry_after seconds, -1 when none), so a
 * rateLimited answer is never retried before the CA allows.
 */
int64_t acme__policy_retry_delay(unsigned int attempt, int64_t base, int64_t cap,
                                 int64_t retry_after, uint64_t rnd);

/*
 * RFC 9773 §4.2: renew at a uniformly random time inside the suggested
 * window [@p start, @p end).  A window that has already begun is narrowed
 * to [@p now, @p end); a window that has ended (end <= now) means "now":
 * that is how a CA signals a revocation.
 */
time_t acme__policy_ari_renew_at(time_t start, time_t end, time_t now, uint64_t rnd);

/* The longest time between two renewalInfo polls: twice a day (RFC 9773 §4.3). */
#define ACME__ARI_POLL_MAX (12 * 3600)
/* The shortest (a Retry-After below it is raised to it). */
#define ACME__ARI_POLL_MIN 60

/*
 * The delay before the next renewalInfo poll: the CA's Retry-After
 * (@p retry_after seconds, -1 when none) within [ACME__ARI_POLL_MIN,
 * ACME__ARI_POLL_MAX]; ACME__ARI_POLL_MAX / 2 when the CA sent none.
 */
int64_t acme__policy_ari_poll_delay(int64_t retry_after);

#endif
