/*
 * service: issuers.  The acme_issuer wrapper around a versioned vtable
 * (<acme/sys/issuer.h>), and the issuer that drives the real RFC 8555
 * client (acme_issuer_client_new()), which the service's factory makes
 * once per issuing attempt.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <acme/sys/error.h>
#include <acme/sys/issuer.h>

#include "util/i18n.h"
#include "util/util.h"

struct acme_issuer {
    const acme_issuer_ops *ops;  /* borrowed: static const in practice */
    void *self;
};

int acme_issuer_new(acme_issuer **out, const acme_issuer_ops *ops, void *self, acme_error **err)
{
    acme_issuer *is;
    const char *why = NULL;

    if (out)
        *out = NULL;
    if (!ops)
        why = _("no issuer operations");
    else if (ops->version < 1 || ops->version > ACME_ISSUER_OPS_VERSION)
        why = _("unsupported issuer operations version");
    else if (!ops->account || !ops->issue)
        why = _("the issuer lacks account or issue");
    else if (!out)
        why = _("no output for the issuer");
    if (why) {
        /* Ownership of self passed to us: release it even on failure. */
        if (ops && ops->version >= 1 && ops->version <= ACME_ISSUER_OPS_VERSION && ops->destroy)
            ops->destroy(self);
        return acme_error_set(err, ACME_E_INVALID, "%s", why);
    }
    if (!(is = calloc(1, sizeof(*is)))) {
        if (ops->destroy)
            ops->destroy(self);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    is->ops = ops;
    is->self = self;
    *out = is;
    return ACME_OK;
}

void *acme_issuer_self(const acme_issuer *issuer)
{
    return issuer ? issuer->self : NULL;
}

void acme_issuer_free(acme_issuer *issuer)
{
    if (!issuer)
        return;
    if (issuer->ops->destroy)
        issuer->ops->destroy(issuer->self);
    free(issuer);
}

int acme_issuer_account(acme_issuer *issuer, const char *contact_email, acme_error **err)
{
    if (!issuer)
        return acme_error_set(err, ACME_E_INVALID, _("no issuer"));
    return issuer->ops->account(issuer->self, contact_email, err);
}

int acme_issuer_issue(acme_issuer *issuer, char **key_pem_out, char **chain_pem_out,
                      const acme_issue_options *opts, acme_error **err)
{
    if (key_pem_out)
        *key_pem_out = NULL;
    if (chain_pem_out)
        *chain_pem_out = NULL;
    if (!issuer)
        return acme_error_set(err, ACME_E_INVALID, _("no issuer"));
    return issuer->ops->issue(issuer->self, key_pem_out, chain_pem_out, opts, err);
}

int acme_issuer_renewal_info(acme_issuer *issuer, acme_renewal_info **out, const char *cert_id,
                             acme_error **err)
{
    if (out)
        *out = NULL;
    if (!issuer)
        return acme_error_set(err, ACME_E_INVALID, _("no issuer"));
    if (!issuer->ops->renewal_info)
        return acme_error_set(err, ACME_E_NOTSUP,
                              _("the %s issuer offers no renewal information"),
                              issuer->ops->name ? issuer->ops->name : "?");
    return issuer->ops->renewal_info(issuer->self, out, cert_id, err);
}

void acme_issuer_cancel(acme_issuer *issuer)
{
    if (issuer && issuer->ops->cancel)
        issuer->ops->cancel(issuer->self);
}

/* ---- the issuer over the real client ---- */

/*
 * An email address as it may go into a "mailto:" contact URL (RFC 8555
 * §7.3 and RFC 6068): one "@" with something on both sides, and none of
 * the characters that would make it a different URL (",", "?", "%") or
 * that no address has (white space, controls, non-ASCII).  The CA has the
 * last word (invalidContact); this only catches mistakes early.
 */
static bool email_ok(const char *s)
{
    const char *at = strchr(s, '@');

    if (!at || at == s || !at[1] || strchr(at + 1, '@') || strlen(s) > 254)
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f || strchr(",?%<>\"\\", *p))
            return false;
    return true;
}

/* Whether the account's contact is exactly ["mailto:" + @p email]. */
static bool contact_is(acme_client *client, const char *mailto)
{
    size_t n = 0;
    const char *const *v = acme_client_account_contact(client, &n);

    return v && n == 1 && v[0] && strcmp(v[0], mailto) == 0;
}

/*
 * RFC 8555 §7.3: newAccount registers the key, or (for a key that has an
 * account) answers with the existing account, ignoring the contact sent;
 * §7.3.2: a contact change is a POST to the account URL.  So: register
 * with the contact, then update when the CA reports another one.
 */
static int client_account(void *self, const char *contact_email, acme_error **err)
{
    acme_client *client = self;
    acme_account_options o = ACME_ACCOUNT_OPTIONS_INIT;
    char *mailto = NULL;
    const char *contact[1];
    int rc;

    if (contact_email) {
        if (!email_ok(contact_email))
            return acme_error_set(err, ACME_E_INVALID, _("\"%s\" is not an email address"),
                                  contact_email);
        if (!(mailto = acme__asprintf("mailto:%s", contact_email)))
            return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        contact[0] = mailto;
        o.contact = contact;
        o.ncontact = 1;
    }
    o.terms_agreed = true;
    rc = acme_client_account_register(client, &o, NULL, err);
    if (rc == ACME_OK && mailto && !contact_is(client, mailto))
        rc = acme_client_account_update_contact(client, contact, 1, err);
    free(mailto);
    return rc;
}

static int client_issue(void *self, char **key_pem_out, char **chain_pem_out,
                        const acme_issue_options *opts, acme_error **err)
{
    return acme_client_issue(key_pem_out, chain_pem_out, self, opts, err);
}

static int client_renewal_info(void *self, acme_renewal_info **out, const char *cert_id,
                               acme_error **err)
{
    return acme_client_renewal_info(out, self, cert_id, err);
}

static void client_cancel(void *self)
{
    acme_client_cancel(self);
}

static void client_destroy(void *self)
{
    acme_client_free(self);
}

static const acme_issuer_ops client_ops = {
    .version = ACME_ISSUER_OPS_VERSION,
    .name = "acme",
    .flags = 0,
    .account = client_account,
    .issue = client_issue,
    .renewal_info = client_renewal_info,
    .cancel = client_cancel,
    .destroy = client_destroy,
};

int acme_issuer_client_new(acme_issuer **out, acme_client *client, acme_error **err)
{
    if (out)
        *out = NULL;
    if (!client) {
        return acme_error_set(err, ACME_E_INVALID, _("no client"));
    }
    return acme_issuer_new(out, &client_ops, client, err);
}
