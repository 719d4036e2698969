/*
 * service: the renewal policy (when to renew, when a failure panics, how
 * long to back off, where to renew inside an ARI window).  Pure functions:
 * the service passes the time and the random numbers in.
 */
#include "config.h"

#include "service/policy.h"

void acme__policy_intervals(int64_t lifetime, int64_t reissue, int64_t panic,
                            int64_t *eff_reissue, int64_t *eff_panic)
{
    int64_t r = reissue, p = panic;

    if (lifetime > 0) {
        /*
         * A 90-day certificate gives 30 days, the configured default.  A
         * 45-day one gives 15 days, so it is not renewed the moment it is
         * issued (45 <= 30 + a check would loop forever with fixed
         * intervals); a 6-day one gives 3 days.
         */
        int64_t share = lifetime <= ACME__POLICY_SHORT_LIFETIME ? lifetime / 2 : lifetime / 3;

        if (share < r)
            r = share;
        if (r / 2 < p)
            p = r / 2;
    }
    if (eff_reissue)
        *eff_reissue = r;
    if (eff_panic)
        *eff_panic = p;
}

time_t acme__policy_renew_at(time_t not_before, time_t not_after, int64_t reissue,
                             int64_t panic)
{
    int64_t r;

    acme__policy_intervals((int64_t)not_after - (int64_t)not_before, reissue, panic, &r, NULL);
    return (time_t)((int64_t)not_after - r);
}

time_t acme__policy_panic_at(time_t not_before, time_t not_after, int64_t reissue,
                             int64_t panic)
{
    int64_t p;

    acme__policy_intervals((int64_t)not_after - (int64_t)not_before, reissue, panic, NULL, &p);
    return (time_t)((int64_t)not_after - p);
}

bool acme__policy_panics(bool have_cert, time_t not_before, time_t not_after, time_t now,
                         int64_t reissue, int64_t panic)
{
    /* txacme: a missing or empty certificate counts as expired. */
    if (!have_cert)
        return true;
    return now >= acme__policy_panic_at(not_before, not_after, reissue, panic);
}

void acme__policy_backoff_bounds(unsigned int attempt, int64_t base, int64_t cap, int64_t *lo,
                                 int64_t *hi)
{
    int64_t d = base > 0 ? base : 1;

    if (cap < d)
        cap = d;
    /* Double until the cap; stop early so the shift cannot overflow. */
    for (unsigned int i = 1; i < attempt && d < cap; i++)
        d = d > cap / 2 ? cap : d * 2;
    if (d > cap)
        d = cap;
    if (lo)
        *lo = d / 2;
    if (hi)
        *hi = d;
}

int64_t acme__policy_backoff(unsigned int attempt, int64_t base, int64_t cap, uint64_t rnd)
{
    int64_t lo, hi;
    uint64_t span;

    acme__policy_backoff_bounds(attempt, base, cap, &lo, &hi);
    span = (uint64_t)(hi - lo);
    if (span == 0)
        return lo;
    /* rnd == UINT64_MAX must reach hi: scale over span + 1 values. */
    if (rnd == UINT64_MAX)
        return hi;
    return lo + (int64_t)(rnd % (span + 1));
}

int64_t acme__policy_retry_delay(unsigned int attempt, int64_t base, int64_t cap,
                                 int64_t retry_after, uint64_t rnd)
{
    int64_t d = acme__policy_backoff(attempt, base, cap, rnd);

    /* The CA's Retry-After is a floor: never ask again sooner (RFC 8555 §6.6). */
    if (retry_after > d)
        d = retry_after;
    return d;
}

time_t acme__policy_ari_renew_at(time_t start, time_t end, time_t now, uint64_t rnd)
{
    uint64_t span;

    if (end <= now || end <= start)
        return now;
    if (start < now)
        start = now;
    span = (uint64_t)((int64_t)end - (int64_t)start);
    /* Uniform in [start, end): the window's end is exclusive. */
    return (time_t)((int64_t)start + (int64_t)(rnd % span));
}

int64_t acme__policy_ari_poll_delay(int64_t retry_after)
{
    if (retry_after < 0)
        return ACME__ARI_POLL_MAX / 2;
    if (retry_after < ACME__ARI_POLL_MIN)
        return ACME__ARI_POLL_MIN;
    if (retry_after > ACME__ARI_POLL_MAX)
        return ACME__ARI_POLL_MAX;
    return retry_after;
}
