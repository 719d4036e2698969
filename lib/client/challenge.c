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
    int rc;

    if (!client || !ch || !ch->url)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    rc = acme__client_post_json(&o, &resp, client, ch->url, "{}", "challenge", err);
    acme__response_clear(&resp);
    if (rc < 0)
        return acme__error_prefix(err, rc, _("cannot answer the %s challenge"), ch->type);
    /*
     * A CA may validate at once and answer with the challenge already
     * invalid (Pebble does, now and then).  The verdict is still left to
     * acme_authorization_poll(), so that callers meet a failed validation
     * in one place whatever the timing.
     */
    json_object_put(o);
    return ACME_OK;
}
