/*
 * client: the responder object, a checked vtable plus its state
 * (<acme/sys/responder.h>).
 */
#include "config.h"

#include <stdlib.h>

#include "client/client-internal.h"
#include "util/i18n.h"

/* Takes @p self also on failure, as the header promises. */
static int reject(const acme_responder_ops *ops, void *self, acme_error **err, const char *why)
{
    if (ops && ops->version >= 1 && ops->destroy)
        ops->destroy(self);
    return acme_error_set(err, ACME_E_INVALID, _("bad responder: %s"), why);
}

int acme_responder_new(acme_responder **out, const acme_responder_ops *ops, void *self,
                       acme_error **err)
{
    acme_responder *r;

    if (!out)
        return reject(ops, self, err, _("no place for the responder"));
    *out = NULL;
    if (!ops)
        return reject(ops, self, err, _("no operations"));
    /* Versions 1 up to ours are understood; a newer table may rely on
     * members we would never call, so it is refused.  Members are only
     * appended, so its destroy is still where ours is. */
    if (ops->version < 1 || ops->version > ACME_RESPONDER_OPS_VERSION)
        return reject(ops, self, err, _("unsupported operations version"));
    if (!ops->challenge_type || !*ops->challenge_type)
        return reject(ops, self, err, _("no challenge type"));
    if (!ops->start || !ops->stop)
        return reject(ops, self, err, _("start and stop are required"));
    if (!(r = calloc(1, sizeof(*r)))) {
        if (ops->destroy)
            ops->destroy(self);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    r->ops = ops;
    r->self = self;
    *out = r;
    return ACME_OK;
}

void acme_responder_free(acme_responder *r)
{
    if (!r)
        return;
    if (r->ops->destroy)
        r->ops->destroy(r->self);
    free(r);
}

const char *acme_responder_challenge_type(const acme_responder *r)
{
    return r ? r->ops->challenge_type : NULL;
}

const char *acme_responder_name(const acme_responder *r)
{
    if (!r)
        return NULL;
    return r->ops->name ? r->ops->name : r->ops->challenge_type;
}

void *acme_responder_self(const acme_responder *r)
{
    return r ? r->self : NULL;
}
