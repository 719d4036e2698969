/*
 * client: ACME Renewal Information (RFC 9773).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "client/client-internal.h"
#include "util/i18n.h"

void acme_renewal_info_free(acme_renewal_info *ri)
{
    if (!ri)
        return;
    free(ri->explanation_url);
    free(ri);
}

/*
 * RFC 9773 §4.2: the renewalInfo resource is an unauthenticated GET of
 * <renewalInfo>/<certID>; the answer holds suggestedWindow {start, end}
 * (RFC 3339), optionally explanationURL, and a Retry-After header telling
 * when to ask again.  A window whose end is not after its start is invalid
 * (§4.2) and refused.
 */
int acme_client_renewal_info(acme_renewal_info **out, acme_client *client, const char *cert_id,
                             acme_error **err)
{
    const char *base, *s;
    acme__response resp;
    acme_renewal_info *ri = NULL;
    json_object *o = NULL, *w;
    char *url;
    size_t blen;
    int rc;

    if (out)
        *out = NULL;
    if (!out || !client || !cert_id)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    /* The identifier is two base64url parts joined by a dot (§4.1). */
    {
        const char *dot = strchr(cert_id, '.');
        char *a = dot ? acme__strndup(cert_id, (size_t)(dot - cert_id)) : NULL;
        bool ok = a && acme__is_b64url(a) && acme__is_b64url(dot + 1);

        free(a);
        if (!ok)
            return acme_error_set(err, ACME_E_INVALID,
                                  _("\"%s\" is not an ARI certificate identifier"), cert_id);
    }
    if ((rc = acme__client_dir_url(&base, client, ACME_DIR_RENEWAL_INFO, err)) < 0)
        return rc;
    blen = strlen(base);
    if (!(url = acme__asprintf("%s%s%s", base, blen && base[blen - 1] == '/' ? "" : "/",
                               cert_id)))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    memset(&resp, 0, sizeof(resp));
    rc = acme__transport_get(&resp, client->transport, url, "application/json", err);
    if (rc < 0) {
        rc = acme__error_prefix(err, rc, _("cannot fetch the renewal information %s"), url);
        goto out;
    }
    if ((rc = acme__parse_object(&o, &resp, "renewal information", err)) < 0)
        goto out;
    if (!(ri = calloc(1, sizeof(*ri)))) {
        rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        goto out;
    }
    ri->retry_after = resp.retry_after;
    w = acme__json_obj(o, "suggestedWindow");
    if (!w || !(s = acme__json_str(w, "start")) ||
        acme__time_parse_rfc3339(s, &ri->start) < 0 || !(s = acme__json_str(w, "end")) ||
        acme__time_parse_rfc3339(s, &ri->end) < 0) {
        rc = acme_error_set(err, ACME_E_PROTOCOL,
                            _("the renewal information has no valid suggestedWindow"));
        goto out;
    }
    if (ri->end <= ri->start) {
        rc = acme_error_set(err, ACME_E_PROTOCOL,
                            _("the renewal window ends before it starts"));
        goto out;
    }
    if ((s = acme__json_str(o, "explanationURL")) && !(ri->explanation_url = strdup(s))) {
        rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        goto out;
    }
    *out = ri;
    ri = NULL;
    rc = ACME_OK;
out:
    acme_renewal_info_free(ri);
    json_object_put(o);
    acme__response_clear(&resp);
    free(url);
    return rc;
}

time_t acme_renewal_info_window_start(const acme_renewal_info *ri)
{
    return ri ? ri->start : 0;
}

time_t acme_renewal_info_window_end(const acme_renewal_info *ri)
{
    return ri ? ri->end : 0;
}

const char *acme_renewal_info_explanation_url(const acme_renewal_info *ri)
{
    return ri ? ri->explanation_url : NULL;
}

int64_t acme_renewal_info_retry_after(const acme_renewal_info *ri)
{
    return ri ? ri->retry_after : -1;
}
