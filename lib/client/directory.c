/*
 * client: the CA's directory (RFC 8555 §7.1.1), fetched once per client,
 * and its getters.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "client/client-internal.h"
#include "util/i18n.h"

/* Member names, indexed by acme_directory_resource. */
static const char *const resource_names[ACME__DIR_NRES] = {
    [ACME_DIR_NEW_NONCE] = "newNonce",
    [ACME_DIR_NEW_ACCOUNT] = "newAccount",
    [ACME_DIR_NEW_ORDER] = "newOrder",
    [ACME_DIR_NEW_AUTHZ] = "newAuthz",
    [ACME_DIR_REVOKE_CERT] = "revokeCert",
    [ACME_DIR_KEY_CHANGE] = "keyChange",
    [ACME_DIR_RENEWAL_INFO] = "renewalInfo",  /* RFC 9773 §3 */
};

void acme__directory_free(acme_directory *dir)
{
    if (!dir)
        return;
    for (size_t i = 0; i < ACME__DIR_NRES; i++)
        free(dir->urls[i]);
    free(dir->terms_of_service);
    free(dir->website);
    acme_free_strv(dir->caa, dir->ncaa);
    acme_free_strv(dir->profiles, dir->nprofiles);
    acme_free_strv(dir->profile_desc, dir->nprofiles);
    free(dir);
}

static int dup_opt(char **dst, const char *src)
{
    if (!src)
        return ACME_OK;
    return (*dst = strdup(src)) ? ACME_OK : ACME_E_NOMEM;
}

/* meta.profiles (draft-aaron-acme-profiles): an object name -> description. */
static int parse_profiles(acme_directory *dir, json_object *meta)
{
    json_object *p = acme__json_obj(meta, "profiles");
    size_t n, i = 0;

    if (!p || (n = (size_t)json_object_object_length(p)) == 0)
        return ACME_OK;
    if (!(dir->profiles = calloc(n, sizeof(char *))) ||
        !(dir->profile_desc = calloc(n, sizeof(char *))))
        return ACME_E_NOMEM;
    json_object_object_foreach(p, key, val) {
        if (i >= n)
            break;
        if (!(dir->profiles[i] = strdup(key)))
            return ACME_E_NOMEM;
        if (json_object_is_type(val, json_type_string) &&
            !(dir->profile_desc[i] = strdup(json_object_get_string(val)))) {
            i++;
            dir->nprofiles = i;
            return ACME_E_NOMEM;
        }
        i++;
        dir->nprofiles = i;
    }
    return ACME_OK;
}

int acme__directory_parse(acme_directory **out, const acme__response *resp, acme_error **err)
{
    acme_directory *dir;
    json_object *o, *meta;
    int rc;

    *out = NULL;
    if ((rc = acme__parse_object(&o, resp, "directory", err)) < 0)
        return rc;
    if (!(dir = calloc(1, sizeof(*dir)))) {
        json_object_put(o);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    for (size_t i = 0; i < ACME__DIR_NRES; i++)
        if ((rc = dup_opt(&dir->urls[i], acme__json_str(o, resource_names[i]))) < 0)
            goto nomem;
    /* Without these three no order can be made (§7.1.1 lists them as
     * required of every server; newAuthz and the others are optional). */
    for (size_t i = 0; i <= ACME_DIR_NEW_ORDER; i++)
        if (!dir->urls[i]) {
            rc = acme_error_set(err, ACME_E_PROTOCOL,
                                _("the directory lacks the required \"%s\" URL"),
                                resource_names[i]);
            goto fail;
        }
    if ((meta = acme__json_obj(o, "meta"))) {
        if (dup_opt(&dir->terms_of_service, acme__json_str(meta, "termsOfService")) < 0 ||
            dup_opt(&dir->website, acme__json_str(meta, "website")) < 0 ||
            acme__json_strv(meta, "caaIdentities", &dir->caa, &dir->ncaa) < 0 ||
            parse_profiles(dir, meta) < 0)
            goto nomem;
        dir->eab_required = acme__json_bool(meta, "externalAccountRequired", false);
    }
    json_object_put(o);
    *out = dir;
    return ACME_OK;
nomem:
    rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
fail:
    json_object_put(o);
    acme__directory_free(dir);
    return rc;
}

/*
 * RFC 8555 §7.1.1: the directory is a plain GET of the URL the
 * application configured; it is the only resource the client is told
 * about, all others come from it.  It is fetched once and kept.
 */
int acme__client_dir(const acme_directory **out, acme_client *client, acme_error **err)
{
    acme__response resp;
    acme_directory *dir;
    int rc;

    if (client->dir) {
        *out = client->dir;
        return ACME_OK;
    }
    memset(&resp, 0, sizeof(resp));
    rc = acme__transport_get(&resp, client->transport, client->directory_url,
                             "application/json", err);
    if (rc < 0) {
        acme__response_clear(&resp);
        return acme__error_prefix(err, rc, _("cannot fetch the directory %s"),
                                  client->directory_url);
    }
    rc = acme__directory_parse(&dir, &resp, err);
    acme__response_clear(&resp);
    if (rc < 0)
        return rc;
    if (acme__transport_set_nonce_url(client->transport, dir->urls[ACME_DIR_NEW_NONCE]) < 0) {
        acme__directory_free(dir);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    client->dir = dir;
    ACME__LOGF(&client->log, ACME_LOG_DEBUG, "directory %s fetched", client->directory_url);
    *out = dir;
    return ACME_OK;
}

int acme__client_dir_url(const char **out, acme_client *client, acme_directory_resource r,
                         acme_error **err)
{
    const acme_directory *dir;
    int rc;

    if ((rc = acme__client_dir(&dir, client, err)) < 0)
        return rc;
    if ((unsigned int)r >= ACME__DIR_NRES || !dir->urls[r])
        return acme_error_set(err, ACME_E_NOTSUP, _("the CA does not offer \"%s\""),
                              (unsigned int)r < ACME__DIR_NRES ? resource_names[r] : "?");
    *out = dir->urls[r];
    return ACME_OK;
}

int acme_client_directory(const acme_directory **out, acme_client *client, acme_error **err)
{
    if (!out || !client)
        return acme_error_set(err, ACME_E_INVALID, _("missing argument"));
    *out = NULL;
    return acme__client_dir(out, client, err);
}

const char *acme_directory_url(const acme_directory *dir, acme_directory_resource r)
{
    if (!dir || (unsigned int)r >= ACME__DIR_NRES)
        return NULL;
    return dir->urls[r];
}

const char *acme_directory_terms_of_service(const acme_directory *dir)
{
    return dir ? dir->terms_of_service : NULL;
}

const char *acme_directory_website(const acme_directory *dir)
{
    return dir ? dir->website : NULL;
}

const char *const *acme_directory_caa_identities(const acme_directory *dir, size_t *n)
{
    if (n)
        *n = dir ? dir->ncaa : 0;
    return dir && dir->ncaa ? (const char *const *)dir->caa : NULL;
}

bool acme_directory_external_account_required(const acme_directory *dir)
{
    return dir ? dir->eab_required : false;
}

const char *const *acme_directory_profiles(const acme_directory *dir, size_t *n,
                                           const char *const **descriptions)
{
    bool any = dir && dir->nprofiles;

    if (n)
        *n = dir ? dir->nprofiles : 0;
    if (descriptions)
        *descriptions = any ? (const char *const *)dir->profile_desc : NULL;
    return any ? (const char *const *)dir->profiles : NULL;
}
