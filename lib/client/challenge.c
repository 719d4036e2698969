/*
 * client: answering a challenge (RFC 8555 §7.5.1).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "client/client-internal.h"
#include "util/i18n.h"

/*
 * RFC 8555 §7.5.1: the client tells the CA that the challenge is ready
 * with a POST of the empty object {} (not POST-as-GET) to the challenge
 * URL.  The CA answers with the challenge object; a challenge that already
 * failed carries its problem in "error".
 */
int acme_challenge_respond(acme_client *client, const acme_challenge *ch, acme_error **err)
{
    acme__response resp;
    json_object *o = NULL;
    acme_error *e;
    int rc;

    if (!client || !ch || !ch->url)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    rc = acme__client_post_json(&o, &resp, client, ch->url, "{}", "challenge", err);
    acme__response_clear(&resp);
    if (rc < 0)
        return acme__error_prefix(err, rc, _("cannot answer the %s challenge"), ch->type);
    if (acme__status_parse(acme__json_str(o, "status")) == ACME_STATUS_INVALID) {
        /* Failed at once (e.g. the CA validated synchronously). */
        if ((e = acme__embedded_error(o, ACME_E_REJECTED)))
            acme__error_give(err, e);
        json_object_put(o);
        return acme__error_prefix(err, ACME_E_REJECTED, _("the %s challenge failed"), ch->type);
    }
    json_object_put(o);
    return ACME_OK;
}
