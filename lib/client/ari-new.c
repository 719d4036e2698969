/*
 * client: making an acme_renewal_info by hand (<acme/sys/issuer.h>), for
 * issuers that are not the real client, such as the fake CA of
 * <acme/testing.h>.  Kept apart from ari.c, which fetches one from a CA.
 */
#include "config.h"

#include <stdlib.h>

#include <acme/sys/issuer.h>

#include "client/client-internal.h"
#include "util/i18n.h"

int acme_renewal_info_new(acme_renewal_info **out, time_t window_start, time_t window_end,
                          const char *explanation_url, int64_t retry_after, acme_error **err)
{
    acme_renewal_info *ri;

    if (!out)
        return acme_error_set(err, ACME_E_INVALID, _("no output for the renewal information"));
    *out = NULL;
    /* The same rule as for a CA's answer (RFC 9773 §4.2). */
    if (window_end <= window_start)
        return acme_error_set(err, ACME_E_INVALID, _("the renewal window ends before it starts"));
    if (retry_after < -1)
        return acme_error_set(err, ACME_E_INVALID, _("negative Retry-After"));
    if (!(ri = calloc(1, sizeof(*ri))) ||
        (explanation_url && !(ri->explanation_url = acme__strdup(explanation_url)))) {
        free(ri);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    ri->start = window_start;
    ri->end = window_end;
    ri->retry_after = retry_after;
    *out = ri;
    return ACME_OK;
}
