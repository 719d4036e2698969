/*
 * dns provider: Google Cloud DNS (API v1), authenticated as a service
 * account: a JWT signed with the account's private key (lib/crypto/jwt.c)
 * is traded for an OAuth2 access token (RFC 7523 §2.1) at the key's
 * token_uri, and the token is reused until shortly before it expires.
 *
 * Cloud DNS keeps the values of one name and type in one resource record
 * set, changed through "changes": {deletions, additions}, where each
 * deletion must match the current set exactly.  So adding a value reads
 * the TXT RRset and sends one atomic change that deletes it as it stands
 * and adds it back with ours appended; removing one deletes the set and
 * adds back the rest (or nothing).  A change is "pending" until Google has
 * sent it to its name servers ("done"); wait_applied polls for that.
 *
 * Facts (research notes, section 2.9): the zone id in paths is the managed
 * zone's "name", its DNS name is "dnsName" with a trailing dot; lists page
 * with pageToken / nextPageToken; rrdatas of TXT sets are quoted
 * character strings; errors are {"error": {"code", "message", "errors":
 * [{"reason"}], "status"}}; quota errors are 429 RESOURCE_EXHAUSTED or 403
 * rateLimitExceeded.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <acme/crypto.h>
#include <acme/sys/error.h>

#include "crypto/jwt.h"
#include "crypto/sigv4.h"
#include "dns/dns.h"
#include "util/error.h"
#include "util/i18n.h"
#include "util/json.h"
#include "util/util.h"

#define SERVICE "Google Cloud DNS"
#define TOKEN_SERVICE "Google OAuth2"
#define SCOPE "https://www.googleapis.com/auth/ndev.clouddns.readwrite"
#define DEFAULT_TOKEN_URI "https://oauth2.googleapis.com/token"
/* A service-account key file is about 2.3 KiB; anything huge is a mistake. */
#define MAX_KEY_FILE (64 * 1024)
#define MAX_PAGES 10000
/* Refresh a token this long before Google says it expires (clock skew, slow requests). */
#define TOKEN_MARGIN_S 60

typedef struct gcloud {
    acme_dns_env *env;
    char *api;               /* <base_url>/dns/v1/projects/<project> */
    acme_key *key;           /* the service account's private key */
    char *client_email;
    char *key_id;            /* private_key_id, the JWT "kid"; may be NULL */
    char *token_uri;
    const char *zone_id;     /* borrowed from the settings */
    bool allow_private;
    unsigned int polling_s;
    char *auth_header;       /* "Authorization: Bearer <token>": a secret; NULL: none yet */
    int64_t token_until;     /* monotonic seconds */
} gcloud;

static const char *const env_project[] = { "GCE_PROJECT", NULL };
static const char *const env_account[] = { "GCE_SERVICE_ACCOUNT", NULL };
static const char *const env_account_file[] = { "GOOGLE_APPLICATION_CREDENTIALS", NULL };
static const char *const env_zone_id[] = { "GCE_ZONE_ID", NULL };
static const char *const env_private[] = { "GCE_ALLOW_PRIVATE_ZONE", NULL };

static const acme_dns_option gcloud_options[] = {
    { .key = "project", .env = env_project,
      .help = "the project id (default: project_id of the service account)" },
    { .key = "service_account", .env = env_account, .flags = ACME_DNS_OPT_SECRET,
      .help = "the service account's JSON key (GCE_SERVICE_ACCOUNT_FILE: its path)" },
    { .key = "service_account_file", .env = env_account_file,
      .help = "path of the service account's JSON key" },
    { .key = "zone_id", .env = env_zone_id,
      .help = "use this managed zone (no managedZones.list permission needed)" },
    { .key = "allow_private_zone", .env = env_private, .default_value = "false",
      .help = "also use private managed zones" },
    { .key = NULL },
};

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int nomem(acme_error **err)
{
    return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
}

/* ---- opening: settings and the service account key ---- */

static int read_key_file(char **out, const char *path, acme_error **err)
{
    FILE *f = fopen(path, "rb");
    acme__buf b = ACME__BUF_INIT;
    char chunk[4096];
    size_t n;

    *out = NULL;
    if (!f)
        return acme_error_set(err, ACME_E_IO,
                              _("DNS provider gcloud: cannot read service_account_file %s: %s"),
                              path, strerror(errno));
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (b.len + n > MAX_KEY_FILE || acme__buf_append(&b, chunk, n) < 0) {
            fclose(f);
            acme__free_secret(acme__buf_steal(&b));
            return b.len + n > MAX_KEY_FILE
                       ? acme_error_set(err, ACME_E_INVALID,
                                        _("DNS provider gcloud: %s is too large for a service "
                                          "account key"),
                                        path)
                       : nomem(err);
        }
    }
    fclose(f);
    if (acme__buf_append(&b, "", 0) < 0)
        return nomem(err);
    *out = acme__buf_steal(&b);
    return ACME_OK;
}

/* Take what we need from the service account's JSON key. */
static int load_account(gcloud *g, const char *json, const char **project_out,
                        json_object **keep, acme_error **err)
{
    json_object *o = NULL;
    const char *type, *pem, *email, *uri, *kid;
    int rc;

    if (acme__json_parse(&o, json, strlen(json), "service account", NULL) < 0 ||
        !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        /* No detail: the text is a private key. */
        return acme_error_set(err, ACME_E_INVALID,
                              _("DNS provider gcloud: the service account key is not JSON"));
    }
    type = acme__json_str(o, "type");
    pem = acme__json_str(o, "private_key");
    email = acme__json_str(o, "client_email");
    uri = acme__json_str(o, "token_uri");
    kid = acme__json_str(o, "private_key_id");
    if ((type && strcmp(type, "service_account") != 0) || !pem || !email || !*email) {
        json_object_put(o);
        return acme_error_set(err, ACME_E_INVALID,
                              _("DNS provider gcloud: not a service account key (type "
                                "service_account with private_key and client_email)"));
    }
    if (!uri || !*uri)
        uri = DEFAULT_TOKEN_URI;
    if (strncmp(uri, "https://", 8) != 0 && strncmp(uri, "http://", 7) != 0) {
        json_object_put(o);
        return acme_error_set(err, ACME_E_INVALID,
                              _("DNS provider gcloud: the key's token_uri is not an HTTP URL"));
    }
    if ((rc = acme_key_load_pem(&g->key, pem, strlen(pem), NULL)) < 0) {
        json_object_put(o);
        return acme_error_set(err, rc == ACME_E_NOMEM ? ACME_E_NOMEM : ACME_E_INVALID,
                              _("DNS provider gcloud: the service account's private_key is not "
                                "a usable PEM private key"));
    }
    g->client_email = acme__strdup(email);
    g->token_uri = acme__strdup(uri);
    g->key_id = kid && *kid ? acme__strdup(kid) : NULL;
    if (!g->client_email || !g->token_uri || (kid && *kid && !g->key_id)) {
        json_object_put(o);
        return nomem(err);
    }
    *project_out = acme__json_str(o, "project_id");
    *keep = o; /* owns *project_out */
    return ACME_OK;
}

static void gcloud_destroy(void *self)
{
    gcloud *g = self;

    free(g->api);
    acme_key_free(g->key);
    free(g->client_email);
    free(g->key_id);
    free(g->token_uri);
    acme__free_secret(g->auth_header);
    free(g);
}

static int gcloud_open(void **self_out, const acme_dns_settings *s, acme_dns_env *env,
                       acme_error **err)
{
    const char *json = acme_dns_settings_get(s, "service_account");
    const char *path = acme_dns_settings_get(s, "service_account_file");
    const char *project = acme_dns_settings_get(s, "project");
    const char *url = acme_dns_settings_get(s, "base_url");
    const char *priv = acme_dns_settings_get(s, "allow_private_zone");
    const char *zid = acme_dns_settings_get(s, "zone_id");
    const char *key_project = NULL;
    json_object *account = NULL;
    char *text = NULL, *proj = NULL;
    size_t len;
    gcloud *g;
    int rc;

    *self_out = NULL;
    if (!(g = calloc(1, sizeof(*g))))
        return nomem(err);
    g->env = env;
    g->zone_id = zid && *zid ? zid : NULL;
    if (!json || !*json) {
        if (!path || !*path) {
            rc = acme_error_set(err, ACME_E_INVALID,
                                _("DNS provider gcloud needs a service account key: the setting "
                                  "service_account (GCE_SERVICE_ACCOUNT, GCE_SERVICE_ACCOUNT_FILE) "
                                  "or service_account_file"));
            goto fail;
        }
        if ((rc = read_key_file(&text, path, err)) < 0)
            goto fail;
        json = text;
    }
    if ((rc = load_account(g, json, &key_project, &account, err)) < 0)
        goto fail;
    if (!project || !*project)
        project = key_project;
    if (!project || !*project) {
        rc = acme_error_set(err, ACME_E_INVALID,
                            _("DNS provider gcloud needs the setting project (GCE_PROJECT)"));
        goto fail;
    }
    if (!priv || !*priv || !strcasecmp(priv, "false") || !strcmp(priv, "0") ||
        !strcasecmp(priv, "no")) {
        g->allow_private = false;
    } else if (!strcasecmp(priv, "true") || !strcmp(priv, "1") || !strcasecmp(priv, "yes")) {
        g->allow_private = true;
    } else {
        rc = acme_error_set(err, ACME_E_INVALID,
                            _("DNS provider gcloud: allow_private_zone must be true or false"));
        goto fail;
    }
    if ((rc = acme_dns_settings_get_uint(s, "polling_interval", 5, &g->polling_s, err)) < 0)
        goto fail;
    if (!url || !*url)
        url = "https://dns.googleapis.com";
    if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0) {
        rc = acme_error_set(err, ACME_E_INVALID,
                            _("DNS provider gcloud: base_url must start with http:// or "
                              "https://"));
        goto fail;
    }
    len = strlen(url);
    while (len && url[len - 1] == '/')
        len--;
    /* Domain-scoped project ids ("example.com:proj") hold ':': encode. */
    if (!(proj = acme__sigv4_uri_encode(project, strlen(project), 0)) ||
        !(g->api = acme__asprintf("%.*s/dns/v1/projects/%s", (int)len, url, proj))) {
        rc = nomem(err);
        goto fail;
    }
    free(proj);
    json_object_put(account);
    acme__free_secret(text);
    *self_out = g;
    return ACME_OK;
fail:
    free(proj);
    json_object_put(account);
    acme__free_secret(text);
    gcloud_destroy(g);
    return rc;
}

/* ---- the access token ---- */

/*
 * RFC 7523 §2.1: POST the signed JWT as "assertion" with the grant type
 * urn:ietf:params:oauth:grant-type:jwt-bearer; the answer carries
 * access_token and expires_in (RFC 6749 §5.1).
 */
static int fetch_token(gcloud *g, acme_error **err)
{
    const char *headers[] = { "Content-Type: application/x-www-form-urlencoded",
                              "Accept: application/json", NULL };
    acme__rest_request req = { 0 };
    acme__rest_response resp = ACME__REST_RESPONSE_INIT;
    char *claims = NULL, *qe = NULL, *qa = NULL, *jwt = NULL, *body = NULL;
    json_object *o = NULL, *v;
    const char *token, *type;
    acme_error *e = NULL;
    int64_t expires = 3600;
    time_t now = time(NULL);
    int rc;

    acme__free_secret(g->auth_header);
    g->auth_header = NULL;
    /* Claims (Google's service-account flow): iss, scope, aud = token_uri, iat, exp <= 1 h. */
    if (!(qe = acme__json_quote(g->client_email)) || !(qa = acme__json_quote(g->token_uri)) ||
        !(claims = acme__asprintf("{\"iss\":%s,\"scope\":\"" SCOPE "\",\"aud\":%s,\"iat\":%lld,"
                                  "\"exp\":%lld}",
                                  qe, qa, (long long)now, (long long)now + 3600))) {
        rc = nomem(err);
        goto out;
    }
    if ((rc = acme__jwt_sign(&jwt, g->key, g->key_id, claims, err)) < 0)
        goto out;
    /* A JWT is base64url and dots only: nothing to encode in the form. */
    if (!(body = acme__asprintf("grant_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Agrant-type%%3A"
                                "jwt-bearer&assertion=%s",
                                jwt))) {
        rc = nomem(err);
        goto out;
    }
    req.method = "POST";
    req.url = g->token_uri;
    req.headers = headers;
    req.body = body;
    req.service = TOKEN_SERVICE;
    rc = acme__rest_send(&resp, acme__dns_env_rest(g->env), &req, &e);
    if (rc < 0 && resp.status >= 400 && resp.status < 500 && resp.status != 429) {
        /* invalid_grant (a revoked key, a bad signature, clock skew), invalid_client, ... */
        const char *detail = acme_error_detail(e);

        rc = acme_error_set(err, ACME_E_AUTH,
                            _("%s refused the service account %s (HTTP %ld)%s%s"), TOKEN_SERVICE,
                            g->client_email, resp.status, detail ? ": " : "",
                            detail ? detail : "");
        acme_error_free(e);
        goto out;
    }
    if (rc < 0) {
        rc = acme__error_give(err, e);
        goto out;
    }
    if ((rc = acme__json_parse(&o, resp.body.data ? resp.body.data : "", resp.body.len,
                               TOKEN_SERVICE, err)) < 0)
        goto out;
    token = acme__json_str(o, "access_token");
    type = acme__json_str(o, "token_type");
    if (!token || !*token || strpbrk(token, "\r\n") || (type && strcasecmp(type, "Bearer") != 0)) {
        rc = acme_error_set(err, ACME_E_PROTOCOL, _("%s: no bearer access_token in the answer"),
                            TOKEN_SERVICE);
        goto out;
    }
    if (json_object_object_get_ex(o, "expires_in", &v) && json_object_is_type(v, json_type_int))
        expires = json_object_get_int64(v);
    if (!(g->auth_header = acme__asprintf("Authorization: Bearer %s", token))) {
        rc = nomem(err);
        goto out;
    }
    g->token_until = mono_ms() / 1000 + (expires > TOKEN_MARGIN_S ? expires - TOKEN_MARGIN_S : 0);
    rc = ACME_OK;
out:
    json_object_put(o);
    acme__rest_response_clear(&resp);
    free(claims);
    free(qe);
    free(qa);
    acme__free_secret(jwt);
    acme__free_secret(body);
    return rc;
}

/* ---- API calls ---- */

/* Google's quota errors come as 403 with reason rateLimitExceeded, too. */
static bool quota_error(const acme__rest_response *resp)
{
    json_object *o = NULL, *errs;
    bool quota = false;

    if (acme__json_parse(&o, resp->body.data ? resp->body.data : "", resp->body.len, "error",
                         NULL) < 0)
        return false;
    {
        json_object *e = acme__json_obj(o, "error");
        const char *status = acme__json_str(e, "status");

        quota = status && strcmp(status, "RESOURCE_EXHAUSTED") == 0;
        errs = acme__json_arr(e, "errors");
        for (size_t i = 0; errs && i < json_object_array_length(errs) && !quota; i++) {
            const char *reason = acme__json_str(json_object_array_get_idx(errs, i), "reason");

            quota = reason && (strcmp(reason, "rateLimitExceeded") == 0 ||
                               strcmp(reason, "userRateLimitExceeded") == 0 ||
                               strcmp(reason, "quotaExceeded") == 0);
        }
    }
    json_object_put(o);
    return quota;
}

/*
 * One call to the DNS API: @p path below the project, @p query encoded or
 * NULL, @p body JSON or NULL; @p out (may be NULL) receives the answer.
 * A 401 (an expired or revoked token) gets one new token and one retry.
 */
static int call(gcloud *g, const char *method, const char *path, const char *query,
                json_object *body, json_object **out, acme_error **err)
{
    char *url = acme__asprintf("%s%s%s%s", g->api, path, query ? "?" : "", query ? query : "");
    char *text = body ? acme__json_dump(body) : NULL;
    int rc = ACME_OK;

    if (out)
        *out = NULL;
    if (!url || (body && !text)) {
        free(url);
        free(text);
        return nomem(err);
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        const char *headers[4];
        acme__rest_request req = { 0 };
        acme__rest_response resp = ACME__REST_RESPONSE_INIT;
        acme_error *e = NULL;
        size_t nh = 0;

        if ((!g->auth_header || mono_ms() / 1000 >= g->token_until) &&
            (rc = fetch_token(g, err)) < 0)
            break;
        headers[nh++] = g->auth_header;
        headers[nh++] = "Accept: application/json";
        if (text)
            headers[nh++] = "Content-Type: application/json";
        headers[nh] = NULL;
        req.method = method;
        req.url = url;
        req.headers = headers;
        req.body = text;
        req.service = SERVICE;
        rc = acme__rest_send(&resp, acme__dns_env_rest(g->env), &req, &e);
        if (rc == ACME_E_AUTH && resp.status == 401 && attempt == 0) {
            acme_error_free(e);
            acme__rest_response_clear(&resp);
            acme__free_secret(g->auth_header);
            g->auth_header = NULL;
            continue;
        }
        if (rc == ACME_E_AUTH && resp.status == 403 && quota_error(&resp)) {
            /* Not the credentials: a quota.  Same status and detail, the right code. */
            acme_error *q = acme__error_new(ACME_E_RATELIMITED, NULL);
            char *msg = acme__asprintf(_("%s rate limited %s %s (HTTP 403)%s%s"), SERVICE,
                                       method, path, e->detail ? ": " : "",
                                       e->detail ? e->detail : "");

            if (!q || !msg) {
                acme_error_free(q);
                free(msg);
                acme_error_free(e);
                rc = nomem(err);
                acme__rest_response_clear(&resp);
                break;
            }
            free(q->message);
            q->message = msg;
            q->http_status = 403;
            q->retry_after = e->retry_after;
            q->detail = e->detail;
            e->detail = NULL;
            q->retryable = true;
            acme_error_free(e);
            e = q;
            rc = ACME_E_RATELIMITED;
        }
        if (rc < 0)
            rc = acme__error_give(err, e);
        else if (out)
            rc = acme__json_parse(out, resp.body.data ? resp.body.data : "", resp.body.len,
                                  SERVICE, err);
        acme__rest_response_clear(&resp);
        break;
    }
    free(url);
    free(text);
    return rc;
}

static int add_zone(gcloud *g, acme_dns_zone_list *out, json_object *z, bool configured,
                    acme_error **err)
{
    const char *id = acme__json_str(z, "name"), *name = acme__json_str(z, "dnsName");
    const char *vis = acme__json_str(z, "visibility");
    bool is_private = vis && strcmp(vis, "private") == 0;
    int rc;

    if (!id || !name)
        return acme_error_set(err, ACME_E_PROTOCOL, _("%s: a managed zone without name or dnsName"),
                              SERVICE);
    /* lego's GCE_ALLOW_PRIVATE_ZONE; a zone named in zone_id is used as it is. */
    if (is_private && !g->allow_private && !configured)
        return ACME_OK;
    rc = acme_dns_zone_list_add(out, id, name, is_private, NULL);
    if (rc == ACME_E_NOMEM)
        return nomem(err);
    return ACME_OK; /* a name we cannot use is not ours */
}

static int gcloud_list_zones(void *self, acme_dns_zone_list *out, acme_error **err)
{
    gcloud *g = self;
    char *token = NULL;
    int rc = ACME_OK;

    if (g->zone_id) {
        char *id = acme__sigv4_uri_encode(g->zone_id, strlen(g->zone_id), 0);
        char *path = id ? acme__asprintf("/managedZones/%s", id) : NULL;
        json_object *z = NULL;

        free(id);
        if (!path)
            return nomem(err);
        rc = call(g, "GET", path, NULL, NULL, &z, err);
        free(path);
        if (rc == ACME_OK)
            rc = add_zone(g, out, z, true, err);
        json_object_put(z);
        return rc;
    }
    /* managedZones.list, following nextPageToken. */
    for (int page = 0;; page++) {
        char *enc = token ? acme__sigv4_uri_encode(token, strlen(token), 0) : NULL;
        char *query = enc ? acme__asprintf("maxResults=100&pageToken=%s", enc)
                          : acme__strdup("maxResults=100");
        json_object *o = NULL, *zones;
        const char *next;

        free(enc);
        if (!query) {
            rc = nomem(err);
            break;
        }
        if (page >= MAX_PAGES) {
            free(query);
            rc = acme_error_set(err, ACME_E_PROTOCOL, _("%s: the zone list does not end"),
                                SERVICE);
            break;
        }
        rc = call(g, "GET", "/managedZones", query, NULL, &o, err);
        free(query);
        if (rc < 0)
            break;
        zones = acme__json_arr(o, "managedZones");
        for (size_t i = 0; zones && i < json_object_array_length(zones) && rc == ACME_OK; i++)
            rc = add_zone(g, out, json_object_array_get_idx(zones, i), false, err);
        next = acme__json_str(o, "nextPageToken");
        if (rc == ACME_OK && next && *next) {
            if (token && strcmp(token, next) == 0) {
                rc = acme_error_set(err, ACME_E_PROTOCOL,
                                    _("%s: the zone list repeats its page token"), SERVICE);
            } else {
                free(token);
                if (!(token = acme__strdup(next)))
                    rc = nomem(err);
            }
            json_object_put(o);
            if (rc < 0)
                break;
            continue;
        }
        json_object_put(o);
        break;
    }
    free(token);
    return rc;
}

/* ---- the TXT RRset ---- */

static char *zone_path(const acme_dns_zone *z, const char *suffix)
{
    char *id = acme__sigv4_uri_encode(z->id, strlen(z->id), 0);
    char *p = id ? acme__asprintf("/managedZones/%s%s", id, suffix) : NULL;

    free(id);
    return p;
}

/* The current TXT RRset at txt->fqdn (a new reference), or NULL in *out when there is none. */
static int rrset_get(json_object **out, gcloud *g, const acme_dns_txt *txt, acme_error **err)
{
    char *path = zone_path(txt->zone, "/rrsets"), *dotted = acme__asprintf("%s.", txt->fqdn);
    char *name = dotted ? acme__sigv4_uri_encode(dotted, strlen(dotted), 0) : NULL;
    char *query = name ? acme__asprintf("name=%s&type=TXT", name) : NULL;
    json_object *o = NULL, *sets;
    int rc;

    *out = NULL;
    if (!path || !query) {
        rc = nomem(err);
        goto out;
    }
    if ((rc = call(g, "GET", path, query, NULL, &o, err)) < 0)
        goto out;
    sets = acme__json_arr(o, "rrsets");
    for (size_t i = 0; sets && i < json_object_array_length(sets) && !*out; i++) {
        json_object *s = json_object_array_get_idx(sets, i);
        const char *n = acme__json_str(s, "name"), *type = acme__json_str(s, "type");
        char *norm = NULL;

        /* A server that ignores the filter answers with other sets too. */
        if (n && type && strcmp(type, "TXT") == 0 &&
            acme__dns_name_normalize(&norm, n, NULL) == ACME_OK && strcmp(norm, txt->fqdn) == 0 &&
            acme__json_arr(s, "rrdatas"))
            *out = json_object_get(s);
        free(norm);
    }
out:
    json_object_put(o);
    free(path);
    free(dotted);
    free(name);
    free(query);
    return rc;
}

static bool rrdata_is(json_object *d, const char *value)
{
    const char *s = json_object_get_string(d);
    char *plain = s ? acme__dns_txt_unquote(s) : NULL;
    bool same = plain && strcmp(plain, value) == 0;

    free(plain);
    return same;
}

/* {"name", "type", "ttl", "rrdatas"}: the exact set to delete, or the one to add. */
static json_object *rrset_json(const char *fqdn_dot, int64_t ttl, json_object *rrdatas)
{
    json_object *s = json_object_new_object();

    if (!s)
        return NULL;
    json_object_object_add(s, "name", json_object_new_string(fqdn_dot));
    json_object_object_add(s, "type", json_object_new_string("TXT"));
    json_object_object_add(s, "ttl", json_object_new_int64(ttl));
    json_object_object_add(s, "rrdatas", rrdatas);
    return s;
}

/*
 * POST one change: delete @p old as it stands (when not NULL), add
 * @p rrdatas at @p ttl (when not empty).  *handle_out (may be NULL)
 * receives "<zone>/<change id>".
 */
static int change(gcloud *g, const acme_dns_txt *txt, json_object *old, json_object *rrdatas,
                  int64_t ttl, char **handle_out, acme_error **err)
{
    json_object *body = json_object_new_object(), *answer = NULL;
    char *path = zone_path(txt->zone, "/changes"), *dotted = acme__asprintf("%s.", txt->fqdn);
    const char *id, *status;
    int rc;

    if (handle_out)
        *handle_out = NULL;
    if (!body || !path || !dotted) {
        json_object_put(rrdatas);
        rc = nomem(err);
        goto out;
    }
    if (old) {
        json_object *del = json_object_new_array(), *acopy;
        const char *name = acme__json_str(old, "name");
        json_object *ttl_o;

        acopy = json_object_get(acme__json_arr(old, "rrdatas"));
        json_object_array_add(del, rrset_json(name ? name : dotted,
                                              json_object_object_get_ex(old, "ttl", &ttl_o)
                                                  ? json_object_get_int64(ttl_o)
                                                  : ttl,
                                              acopy));
        json_object_object_add(body, "deletions", del);
    }
    if (json_object_array_length(rrdatas)) {
        json_object *add = json_object_new_array();

        json_object_array_add(add, rrset_json(dotted, ttl, rrdatas));
        json_object_object_add(body, "additions", add);
    } else {
        json_object_put(rrdatas);
    }
    if ((rc = call(g, "POST", path, NULL, body, &answer, err)) < 0)
        goto out;
    id = acme__json_str(answer, "id");
    status = acme__json_str(answer, "status");
    if (!id || !*id || strchr(id, '/')) {
        rc = acme_error_set(err, ACME_E_PROTOCOL, _("%s: a change without an id"), SERVICE);
        goto out;
    }
    /* A change already "done" needs no polling. */
    if (handle_out && !(status && strcmp(status, "done") == 0) &&
        !(*handle_out = acme__asprintf("%s/%s", txt->zone->id, id)))
        rc = nomem(err);
out:
    json_object_put(answer);
    json_object_put(body);
    free(path);
    free(dotted);
    return rc;
}

static int gcloud_create_txt(void *self, const acme_dns_txt *txt, char **handle_out,
                             acme_error **err)
{
    gcloud *g = self;
    json_object *old = NULL, *rrdatas = NULL, *cur;
    char *quoted = NULL;
    int rc;

    *handle_out = NULL;
    if ((rc = rrset_get(&old, g, txt, err)) < 0)
        return rc;
    cur = old ? acme__json_arr(old, "rrdatas") : NULL;
    for (size_t i = 0; cur && i < json_object_array_length(cur); i++)
        if (rrdata_is(json_object_array_get_idx(cur, i), txt->value))
            goto out; /* already there */
    if (!(quoted = acme__dns_txt_quote(txt->value)) || !(rrdatas = json_object_new_array())) {
        rc = nomem(err);
        goto out;
    }
    /* The values already there, as they are (the other half of a wildcard + apex order). */
    for (size_t i = 0; cur && i < json_object_array_length(cur); i++)
        json_object_array_add(rrdatas, json_object_get(json_object_array_get_idx(cur, i)));
    json_object_array_add(rrdatas, json_object_new_string(quoted));
    rc = change(g, txt, old, rrdatas, txt->ttl, handle_out, err);
out:
    free(quoted);
    json_object_put(old);
    return rc;
}

static int gcloud_delete_txt(void *self, const acme_dns_txt *txt, const char *handle,
                             acme_error **err)
{
    gcloud *g = self;
    json_object *old = NULL, *rest = NULL, *cur, *ttl_o;
    bool found = false;
    int rc;

    (void)handle; /* a change id: the set is addressed by name */
    if ((rc = rrset_get(&old, g, txt, err)) < 0)
        return rc;
    cur = old ? acme__json_arr(old, "rrdatas") : NULL;
    if (!cur)
        goto out; /* no set: already gone */
    if (!(rest = json_object_new_array())) {
        rc = nomem(err);
        goto out;
    }
    for (size_t i = 0; i < json_object_array_length(cur); i++) {
        json_object *d = json_object_array_get_idx(cur, i);

        if (rrdata_is(d, txt->value))
            found = true;
        else
            json_object_array_add(rest, json_object_get(d));
    }
    if (!found) {
        json_object_put(rest);
        goto out;
    }
    /* Delete the set as it stands; add back the others at its TTL (none: it is gone). */
    rc = change(g, txt, old, rest,
                json_object_object_get_ex(old, "ttl", &ttl_o) ? json_object_get_int64(ttl_o)
                                                              : txt->ttl,
                NULL, err);
out:
    json_object_put(old);
    return rc;
}

/* changes.get until "done": Google has sent the change to its name servers. */
static int gcloud_wait_applied(void *self, const char *handle, int64_t timeout_ms,
                               acme_error **err)
{
    gcloud *g = self;
    int64_t deadline = mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    const char *slash = handle ? strchr(handle, '/') : NULL;
    char *zone = NULL, *id = NULL, *path = NULL;
    int rc = ACME_OK;

    if (!slash)
        return ACME_OK; /* not a change of ours */
    zone = acme__sigv4_uri_encode(handle, (size_t)(slash - handle), 0);
    id = acme__sigv4_uri_encode(slash + 1, strlen(slash + 1), 0);
    if (!zone || !id || !(path = acme__asprintf("/managedZones/%s/changes/%s", zone, id))) {
        rc = nomem(err);
        goto out;
    }
    for (;;) {
        json_object *o = NULL;
        const char *status;
        int64_t left;

        if ((rc = call(g, "GET", path, NULL, NULL, &o, err)) < 0)
            break;
        status = acme__json_str(o, "status");
        if (status && strcmp(status, "done") == 0) {
            json_object_put(o);
            break;
        }
        json_object_put(o);
        if ((left = deadline - mono_ms()) <= 0) {
            rc = acme_error_set(err, ACME_E_TIMEOUT, _("%s: change %s not done after %lld ms"),
                                SERVICE, slash + 1, (long long)(timeout_ms > 0 ? timeout_ms : 0));
            break;
        }
        if ((int64_t)g->polling_s * 1000 < left)
            left = (int64_t)g->polling_s * 1000;
        if ((rc = acme__dns_env_sleep(g->env, left, err)) < 0)
            break;
    }
out:
    free(zone);
    free(id);
    free(path);
    return rc;
}

static const char *const gcloud_aliases[] = { "google", "googlecloud", NULL };
static const char *const gcloud_prefixes[] = { "GCE", NULL };

const acme_dns_provider_ops acme__dns_gcloud_ops = {
    .version = ACME_DNS_PROVIDER_OPS_VERSION,
    .size = sizeof(acme_dns_provider_ops),
    .name = "gcloud",
    .aliases = gcloud_aliases,
    .env_prefixes = gcloud_prefixes,
    .options = gcloud_options,
    .flags = 0,
    /* lego's GCE_TTL default. */
    .default_ttl = 120,
    .min_ttl = 0,
    .max_ttl = 0,
    /* "done" means sent to the name servers, not yet served by all of them. */
    .default_settle_s = 0,
    .open = gcloud_open,
    .list_zones = gcloud_list_zones,
    .find_zone = NULL,
    .create_txt = gcloud_create_txt,
    .delete_txt = gcloud_delete_txt,
    .wait_applied = gcloud_wait_applied,
    .destroy = gcloud_destroy,
};
