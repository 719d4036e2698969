/*
 * responders: the null responder (txacme's testing NullResponder): it
 * claims a challenge type, checks the names it is given, and does nothing.
 * Useful against a CA that does not validate (Pebble with
 * PEBBLE_VA_ALWAYS_VALID=1) and in tests.  Declared in <acme/testing.h>.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <acme/store.h>
#include <acme/sys/error.h>
#include <acme/sys/responder.h>
#include <acme/testing.h>

#include "util/i18n.h"
#include "util/util.h"

/*
 * The challenge type lives in the ops table, and this responder takes any
 * type, so each null responder has a table of its own.  The library
 * borrows the table until destroy, which is the last call it makes.
 */
typedef struct null_responder {
    acme_responder_ops ops;
    char *challenge_type;
} null_responder;

static int null_start(void *self, const char *name, const acme_challenge *ch,
                      const char *key_authorization, acme_error **err)
{
    /* Even a responder that does nothing refuses what no real one would
     * accept, so tests with it catch bad names too. */
    char *canon = NULL;
    int rc = acme_name_normalize(&canon, name, err);

    free(canon);
    return rc;
}

static void null_stop(void *self, const char *name, const acme_challenge *ch,
                      const char *key_authorization)
{
}

static void null_destroy(void *self)
{
    null_responder *n = self;

    free(n->challenge_type);
    free(n);
}

/* A challenge type is an ACME token such as "http-01" (RFC 8555 §9.7.8). */
static bool type_ok(const char *t)
{
    if (!t || !*t || strlen(t) > 64)
        return false;
    for (; *t; t++)
        if (!((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') || (*t >= '0' && *t <= '9') ||
              *t == '-' || *t == '.' || *t == '_'))
            return false;
    return true;
}

int acme_responder_null_new(acme_responder **out, const char *challenge_type, acme_error **err)
{
    null_responder *n;

    if (out)
        *out = NULL;
    if (!type_ok(challenge_type))
        return acme_error_set(err, ACME_E_INVALID, _("bad challenge type \"%.64s\""),
                              challenge_type ? challenge_type : "");
    if (!(n = calloc(1, sizeof(*n))) || !(n->challenge_type = acme__strdup(challenge_type))) {
        free(n);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    n->ops = (acme_responder_ops){
        .version = ACME_RESPONDER_OPS_VERSION,
        .name = "null",
        .challenge_type = n->challenge_type,
        .flags = 0,
        .start = null_start,
        .stop = null_stop,
        .destroy = null_destroy,
    };
    /* On failure acme_responder_new() has already called null_destroy. */
    return acme_responder_new(out, &n->ops, n, err);
}
