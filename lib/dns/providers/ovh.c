/*
 * dns/providers: OVHcloud (API 1.0: https://eu.api.ovh.com/1.0 and the
 * other endpoints), per-record TXT values in /domain/zone/<zone>/record.
 *
 * Authentication, one of three (never two at once, as lego insists):
 *  - the application key scheme: X-Ovh-Application, X-Ovh-Consumer,
 *    X-Ovh-Timestamp and X-Ovh-Signature = "$1$" + hex SHA-1 over
 *    AS+CK+METHOD+URL+BODY+T (lib/crypto/ovhsig.c), where T is the
 *    server's clock: GET /auth/time once, keep the offset;
 *  - OAuth2 client credentials (client_id, client_secret): a bearer token
 *    from the endpoint's token URL, renewed before it expires;
 *  - a static bearer access_token.
 *
 * Records are one value each with an integer id: create POSTs one record,
 * delete DELETEs one id, so the two values of a wildcard + apex order
 * never touch each other.  A zone serves changes only after
 * POST /domain/zone/<zone>/refresh, sent after every change.
 *
 * Facts: research notes section 2.10; list shapes and error statuses are
 * partly inferred, so answers are read tolerantly (ids as numbers or
 * strings, targets quoted or not).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <acme/sys/error.h>

#include "crypto/ovhsig.h"
#include "dns/dns.h"
#include "util/error.h"
#include "util/i18n.h"
#include "util/json.h"
#include "util/util.h"

#define SERVICE "OVH"

/* Renew an OAuth2 token this long before it expires. */
#define TOKEN_MARGIN_S 60

typedef enum { AUTH_SIGNATURE, AUTH_OAUTH2, AUTH_TOKEN } auth_mode;

typedef struct ovh {
    acme_dns_env *env;
    char *base;              /* ".../1.0", no trailing slash */
    auth_mode mode;
    const char *app_key;     /* borrowed from the settings */
    const char *app_secret;  /* secret; borrowed */
    const char *consumer_key;/* secret; borrowed */
    const char *client_id;
    const char *client_secret; /* secret; borrowed */
    char *token_url;
    char *bearer;            /* "Authorization: Bearer <token>": a secret */
    time_t bearer_until;     /* 0: never expires (a static token) */
    bool have_delta;
    int64_t delta;           /* local clock - server clock, seconds */
} ovh;

static const struct {
    const char *name, *url, *token_url;
} endpoints[] = {
    { "ovh-eu", "https://eu.api.ovh.com/1.0", "https://www.ovh.com/auth/oauth2/token" },
    { "ovh-ca", "https://ca.api.ovh.com/1.0", "https://ca.ovh.com/auth/oauth2/token" },
    { "ovh-us", "https://api.us.ovhcloud.com/1.0", "https://us.ovhcloud.com/auth/oauth2/token" },
    { "kimsufi-eu", "https://eu.api.kimsufi.com/1.0", "https://www.ovh.com/auth/oauth2/token" },
    { "kimsufi-ca", "https://ca.api.kimsufi.com/1.0", "https://ca.ovh.com/auth/oauth2/token" },
    { "soyoustart-eu", "https://eu.api.soyoustart.com/1.0",
      "https://www.ovh.com/auth/oauth2/token" },
    { "soyoustart-ca", "https://ca.api.soyoustart.com/1.0",
      "https://ca.ovh.com/auth/oauth2/token" },
};

static const char *const env_endpoint[] = { "OVH_ENDPOINT", NULL };
static const char *const env_ak[] = { "OVH_APPLICATION_KEY", NULL };
static const char *const env_as[] = { "OVH_APPLICATION_SECRET", NULL };
static const char *const env_ck[] = { "OVH_CONSUMER_KEY", NULL };
static const char *const env_cid[] = { "OVH_CLIENT_ID", NULL };
static const char *const env_csec[] = { "OVH_CLIENT_SECRET", NULL };
static const char *const env_at[] = { "OVH_ACCESS_TOKEN", NULL };
static const char *const env_turl[] = { "OVH_TOKEN_URL", NULL };

static const acme_dns_option ovh_options[] = {
    { .key = "endpoint", .env = env_endpoint, .default_value = "ovh-eu",
      .help = "ovh-eu, ovh-ca, ovh-us, kimsufi-eu/-ca, soyoustart-eu/-ca, or a URL" },
    { .key = "application_key", .env = env_ak, .help = "the application key (AK)" },
    { .key = "application_secret", .env = env_as, .flags = ACME_DNS_OPT_SECRET,
      .help = "the application secret (AS)" },
    { .key = "consumer_key", .env = env_ck, .flags = ACME_DNS_OPT_SECRET,
      .help = "the consumer key (CK)" },
    { .key = "client_id", .env = env_cid, .help = "OAuth2 client id" },
    { .key = "client_secret", .env = env_csec, .flags = ACME_DNS_OPT_SECRET,
      .help = "OAuth2 client secret" },
    { .key = "access_token", .env = env_at, .flags = ACME_DNS_OPT_SECRET,
      .help = "a static OAuth2 access token" },
    { .key = "token_url", .env = env_turl,
      .help = "the OAuth2 token URL (default: the endpoint's)" },
    { .key = NULL },
};

static bool set(const char *s)
{
    return s && *s;
}

static void ovh_destroy(void *self)
{
    ovh *o = self;

    if (!o)
        return;
    free(o->base);
    free(o->token_url);
    acme__free_secret(o->bearer);
    free(o);
}

static bool is_url(const char *s)
{
    return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

static int ovh_open(void **self_out, const acme_dns_settings *s, acme_dns_env *env,
                    acme_error **err)
{
    const char *endpoint = acme_dns_settings_get(s, "endpoint");
    const char *base = acme_dns_settings_get(s, "base_url");
    const char *turl = acme_dns_settings_get(s, "token_url");
    const char *ak = acme_dns_settings_get(s, "application_key");
    const char *as = acme_dns_settings_get(s, "application_secret");
    const char *ck = acme_dns_settings_get(s, "consumer_key");
    const char *cid = acme_dns_settings_get(s, "client_id");
    const char *csec = acme_dns_settings_get(s, "client_secret");
    const char *at = acme_dns_settings_get(s, "access_token");
    const char *def_turl = NULL;
    bool sig = set(ak) || set(as) || set(ck), oauth = set(cid) || set(csec);
    size_t len;
    ovh *o;

    *self_out = NULL;
    if (!set(base)) {
        base = NULL;
        for (size_t i = 0; set(endpoint) && i < ACME_ARRAY_SIZE(endpoints); i++)
            if (strcmp(endpoint, endpoints[i].name) == 0) {
                base = endpoints[i].url;
                def_turl = endpoints[i].token_url;
            }
        if (!base && set(endpoint) && is_url(endpoint))
            base = endpoint;
        if (!base)
            return acme_error_set(err, ACME_E_INVALID,
                                  _("DNS provider ovh: unknown endpoint \"%.64s\""),
                                  endpoint ? endpoint : "");
    }
    if (!is_url(base) || (set(turl) && !is_url(turl)))
        return acme_error_set(err, ACME_E_INVALID,
                              _("DNS provider ovh: URLs must start with http:// or https://"));
    if ((int)sig + (int)oauth + (int)set(at) != 1)
        return acme_error_set(err, ACME_E_INVALID,
                              _("DNS provider ovh needs exactly one way to authenticate: "
                                "application_key + application_secret + consumer_key, or "
                                "client_id + client_secret, or access_token"));
    if (sig && (!set(ak) || !set(as) || !set(ck)))
        return acme_error_set(err, ACME_E_INVALID,
                              _("DNS provider ovh needs application_key, application_secret and "
                                "consumer_key (OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET, "
                                "OVH_CONSUMER_KEY)"));
    if (oauth && (!set(cid) || !set(csec)))
        return acme_error_set(err, ACME_E_INVALID,
                              _("DNS provider ovh needs client_id and client_secret "
                                "(OVH_CLIENT_ID, OVH_CLIENT_SECRET)"));
    if (oauth && !set(turl) && !def_turl)
        return acme_error_set(err, ACME_E_INVALID,
                              _("DNS provider ovh: OAuth2 with a custom endpoint needs the "
                                "setting token_url"));
    /* Every credential ends up in a header line. */
    if ((ak && strpbrk(ak, "\r\n")) || (as && strpbrk(as, "\r\n")) ||
        (ck && strpbrk(ck, "\r\n")) || (at && strpbrk(at, "\r\n")) ||
        (cid && strpbrk(cid, "\r\n")))
        return acme_error_set(err, ACME_E_INVALID,
                              _("DNS provider ovh: a credential is malformed"));
    if (!(o = calloc(1, sizeof(*o))))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    o->env = env;
    o->mode = sig ? AUTH_SIGNATURE : oauth ? AUTH_OAUTH2 : AUTH_TOKEN;
    o->app_key = ak;
    o->app_secret = as;
    o->consumer_key = ck;
    o->client_id = cid;
    o->client_secret = csec;
    len = strlen(base);
    while (len && base[len - 1] == '/')
        len--;
    o->base = acme__strndup(base, len);
    if (oauth)
        o->token_url = acme__strdup(set(turl) ? turl : def_turl);
    if (set(at))
        o->bearer = acme__asprintf("Authorization: Bearer %s", at);
    if (!o->base || (oauth && !o->token_url) || (set(at) && !o->bearer)) {
        ovh_destroy(o);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    *self_out = o;
    return ACME_OK;
}

/*
 * OVH reports refused credentials in 400 and 403 bodies: the newer
 * {"class": "Client::Forbidden", ...} and the older {"errorCode":
 * "INVALID_CREDENTIAL", ...}.  Those become ACME_E_AUTH.
 */
static void auth_errors(acme_error *e, const acme__rest_response *resp)
{
    static const char *const codes[] = { "INVALID_CREDENTIAL", "NOT_CREDENTIAL",
                                         "NOT_GRANTED_CALL", "INVALID_SIGNATURE",
                                         "INVALID_KEY", "NOT_AUTHENTICATED" };
    json_object *o = NULL;
    const char *code, *cls;
    bool auth = false;

    if (!e || e->code != ACME_E_REJECTED || !resp->body.data)
        return;
    if (acme__json_parse(&o, resp->body.data, resp->body.len, SERVICE, NULL) < 0)
        return;
    code = acme__json_str(o, "errorCode");
    cls = acme__json_str(o, "class");
    for (size_t i = 0; code && i < ACME_ARRAY_SIZE(codes); i++)
        auth |= strcmp(code, codes[i]) == 0;
    if (cls && (strcmp(cls, "Client::Forbidden") == 0 || strcmp(cls, "Client::Unauthorized") == 0))
        auth = true;
    json_object_put(o);
    if (auth) {
        e->code = ACME_E_AUTH;
        e->retryable = false;
    }
}

/* One request; @p json_out (may be NULL) receives the parsed 2xx body. */
static int send_parse(ovh *o, const acme__rest_request *req, json_object **json_out,
                      acme_error **err)
{
    acme__rest_response resp = ACME__REST_RESPONSE_INIT;
    acme_error *e = NULL;
    int rc;

    if (json_out)
        *json_out = NULL;
    rc = acme__rest_send(&resp, acme__dns_env_rest(o->env), req, &e);
    if (rc < 0) {
        auth_errors(e, &resp);
        acme__rest_response_clear(&resp);
        return acme__error_give(err, e ? e : acme__error_new(rc, NULL));
    }
    if (json_out)
        rc = acme__json_parse(json_out, resp.body.data ? resp.body.data : "", resp.body.len,
                              SERVICE, err);
    acme__rest_response_clear(&resp);
    return rc;
}

/* GET /auth/time (unauthenticated): the server's clock, as a bare integer. */
static int time_delta(ovh *o, acme_error **err)
{
    const char *headers[] = { "Accept: application/json", NULL };
    acme__rest_request req = { 0 };
    acme__rest_response resp = ACME__REST_RESPONSE_INIT;
    acme_error *e = NULL;
    char *url, *end = NULL;
    long long t = 0;
    int rc;

    if (o->have_delta)
        return ACME_OK;
    if (!(url = acme__asprintf("%s/auth/time", o->base)))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    req.method = "GET";
    req.url = url;
    req.headers = headers;
    req.service = SERVICE;
    rc = acme__rest_send(&resp, acme__dns_env_rest(o->env), &req, &e);
    free(url);
    if (rc < 0) {
        acme__rest_response_clear(&resp);
        return acme__error_give(err, e ? e : acme__error_new(rc, NULL));
    }
    /* A bare number (json-c would want a delimiter after it): read it as text. */
    if (resp.body.data)
        t = strtoll(resp.body.data, &end, 10);
    if (!resp.body.data || end == resp.body.data || t <= 0 || end[strspn(end, " \t\r\n")]) {
        acme__rest_response_clear(&resp);
        return acme_error_set(err, ACME_E_PROTOCOL, _("%s: /auth/time did not answer a time"),
                              SERVICE);
    }
    acme__rest_response_clear(&resp);
    o->delta = (int64_t)time(NULL) - (int64_t)t;
    o->have_delta = true;
    return ACME_OK;
}

/* Percent-encode for application/x-www-form-urlencoded (RFC 6749 §2.3.1 uses it too). */
static char *form_encode(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    acme__buf b = ACME__BUF_INIT;

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        int rc;

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~')
            rc = acme__buf_append(&b, s, 1);
        else
            rc = acme__buf_printf(&b, "%%%c%c", hex[c >> 4], hex[c & 0xf]);
        if (rc < 0) {
            acme__buf_clear(&b);
            return NULL;
        }
    }
    return acme__buf_steal(&b);
}

/*
 * OAuth2 client credentials (RFC 6749 §4.4): POST grant_type=client_credentials
 * and scope=all to the token URL, the client authenticated with HTTP Basic
 * (§2.3.1); keep the bearer token until shortly before expires_in.
 */
static int oauth2_token(ovh *o, acme_error **err)
{
    acme__rest_request req = { 0 };
    json_object *t = NULL, *exp;
    char *id = NULL, *sec = NULL, *pair = NULL, *b64 = NULL, *basic = NULL;
    const char *tok;
    time_t now = time(NULL);
    int rc = ACME_E_NOMEM;

    if (o->bearer && (!o->bearer_until || now + TOKEN_MARGIN_S < o->bearer_until))
        return ACME_OK;
    acme__free_secret(o->bearer);
    o->bearer = NULL;
    if (!(id = form_encode(o->client_id)) || !(sec = form_encode(o->client_secret)) ||
        !(pair = acme__asprintf("%s:%s", id, sec)) ||
        !(b64 = acme__b64_encode(pair, strlen(pair))) ||
        !(basic = acme__asprintf("Authorization: Basic %s", b64)))
        goto out;
    {
        const char *headers[] = { basic, "Accept: application/json",
                                  "Content-Type: application/x-www-form-urlencoded", NULL };

        req.method = "POST";
        req.url = o->token_url;
        req.headers = headers;
        req.body = "grant_type=client_credentials&scope=all";
        req.service = "OVH OAuth2";
        rc = send_parse(o, &req, &t, err);
    }
    if (rc < 0)
        goto out;
    tok = acme__json_str(t, "access_token");
    if (!tok || !*tok || strpbrk(tok, "\r\n")) {
        rc = acme_error_set(err, ACME_E_PROTOCOL, _("%s: the token endpoint gave no token"),
                            SERVICE);
        goto out;
    }
    if (!(o->bearer = acme__asprintf("Authorization: Bearer %s", tok))) {
        rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        goto out;
    }
    o->bearer_until = json_object_object_get_ex(t, "expires_in", &exp) &&
                              json_object_get_int64(exp) > 0
                          ? now + (time_t)json_object_get_int64(exp)
                          : now + 3600;
    rc = ACME_OK;
out:
    if (rc == ACME_E_NOMEM)
        acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    json_object_put(t);
    free(id);
    acme__free_secret(sec);
    acme__free_secret(pair);
    acme__free_secret(b64);
    acme__free_secret(basic);
    return rc;
}

/* One authenticated API call; @p json_out (may be NULL) receives the 2xx body. */
static int call(ovh *o, const char *method, const char *path, json_object *body,
                json_object **json_out, acme_error **err)
{
    acme__rest_request req = { 0 };
    char *url = NULL, *text = NULL, *sig = NULL, *h_app = NULL, *h_ck = NULL, *h_ts = NULL,
         *h_sig = NULL;
    const char *headers[8];
    size_t nh = 0;
    int rc;

    if (json_out)
        *json_out = NULL;
    if (o->mode == AUTH_SIGNATURE && (rc = time_delta(o, err)) < 0)
        return rc;
    if (o->mode == AUTH_OAUTH2 && (rc = oauth2_token(o, err)) < 0)
        return rc;
    if (!(url = acme__asprintf("%s%s", o->base, path)) || (body && !(text = acme__json_dump(body))))
        goto nomem;
    if (o->mode == AUTH_SIGNATURE) {
        int64_t t = (int64_t)time(NULL) - o->delta;

        /* The signature covers the full URL and the exact body bytes sent. */
        if ((rc = acme__ovh_signature(&sig, o->app_secret, o->consumer_key, method, url, text,
                                      text ? strlen(text) : 0, t, err)) < 0)
            goto out;
        if (!(h_app = acme__asprintf("X-Ovh-Application: %s", o->app_key)) ||
            !(h_ck = acme__asprintf("X-Ovh-Consumer: %s", o->consumer_key)) ||
            !(h_ts = acme__asprintf("X-Ovh-Timestamp: %lld", (long long)t)) ||
            !(h_sig = acme__asprintf("X-Ovh-Signature: %s", sig)))
            goto nomem;
        headers[nh++] = h_app;
        headers[nh++] = h_ck;
        headers[nh++] = h_ts;
        headers[nh++] = h_sig;
    } else {
        headers[nh++] = o->bearer;
    }
    headers[nh++] = "Accept: application/json";
    if (text)
        headers[nh++] = "Content-Type: application/json;charset=utf-8";
    headers[nh] = NULL;
    req.method = method;
    req.url = url;
    req.headers = headers;
    req.body = text;
    req.service = SERVICE;
    rc = send_parse(o, &req, json_out, err);
    goto out;
nomem:
    rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
out:
    free(url);
    free(text);
    free(sig);
    free(h_app);
    acme__free_secret(h_ck);
    free(h_ts);
    free(h_sig);
    return rc;
}

static int ovh_list_zones(void *self, acme_dns_zone_list *out, acme_error **err)
{
    ovh *o = self;
    json_object *arr;
    int rc;

    /* One array of names, no pages. */
    if ((rc = call(o, "GET", "/domain/zone", NULL, &arr, err)) < 0)
        return rc;
    if (!json_object_is_type(arr, json_type_array)) {
        json_object_put(arr);
        return acme_error_set(err, ACME_E_PROTOCOL, _("%s: the zone list is not an array"),
                              SERVICE);
    }
    for (size_t i = 0; i < json_object_array_length(arr) && rc == ACME_OK; i++) {
        json_object *z = json_object_array_get_idx(arr, i);

        if (json_object_is_type(z, json_type_string))
            rc = acme_dns_zone_list_add(out, json_object_get_string(z), json_object_get_string(z),
                                        false, err);
    }
    json_object_put(arr);
    return rc;
}

/* An id as the API gives it (a number; a string is tolerated), into @p buf. */
static bool id_text(char *buf, size_t len, json_object *id)
{
    if (json_object_is_type(id, json_type_int)) {
        snprintf(buf, len, "%lld", (long long)json_object_get_int64(id));
        return true;
    }
    if (json_object_is_type(id, json_type_string)) {
        const char *s = json_object_get_string(id);

        if (!*s || strlen(s) >= len || s[strspn(s, "0123456789")])
            return false;
        memcpy(buf, s, strlen(s) + 1);
        return true;
    }
    return false;
}

/* POST /domain/zone/<zone>/refresh: without it the zone does not serve the change. */
static int refresh(ovh *o, const acme_dns_txt *txt, acme_error **err)
{
    char *path = acme__asprintf("/domain/zone/%s/refresh", txt->zone->id);
    int rc;

    if (!path)
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    rc = call(o, "POST", path, NULL, NULL, err);
    free(path);
    return rc;
}

/*
 * The id of the record at txt->relative holding txt->value into @p id
 * ("" when none): list the TXT ids at the name, then read each.
 */
static int find_record(char *id, size_t idlen, ovh *o, const acme_dns_txt *txt, acme_error **err)
{
    json_object *ids = NULL;
    char *path;
    int rc;

    id[0] = '\0';
    /* Relative names are [a-z0-9_.-]: nothing to percent-encode in the query. */
    if (!(path = acme__asprintf("/domain/zone/%s/record?fieldType=TXT&subDomain=%s",
                                txt->zone->id, txt->relative)))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    rc = call(o, "GET", path, NULL, &ids, err);
    free(path);
    if (rc < 0)
        return rc;
    if (!json_object_is_type(ids, json_type_array)) {
        json_object_put(ids);
        return acme_error_set(err, ACME_E_PROTOCOL, _("%s: the record list is not an array"),
                              SERVICE);
    }
    for (size_t i = 0; i < json_object_array_length(ids) && rc == ACME_OK && !id[0]; i++) {
        char buf[32];
        json_object *r = NULL;
        acme_error *e = NULL;

        if (!id_text(buf, sizeof(buf), json_object_array_get_idx(ids, i)))
            continue;
        if (!(path = acme__asprintf("/domain/zone/%s/record/%s", txt->zone->id, buf))) {
            rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
            break;
        }
        rc = call(o, "GET", path, NULL, &r, &e);
        free(path);
        if (rc == ACME_E_NOTFOUND) { /* deleted meanwhile */
            acme_error_free(e);
            rc = ACME_OK;
            continue;
        }
        if (rc < 0) {
            acme__error_give(err, e);
            break;
        }
        {
            const char *target = acme__json_str(r, "target");
            char *plain = target && target[0] == '"' ? acme__dns_txt_unquote(target) : NULL;

            if (target && strcmp(plain ? plain : target, txt->value) == 0 && strlen(buf) < idlen)
                memcpy(id, buf, strlen(buf) + 1);
            free(plain);
        }
        json_object_put(r);
    }
    json_object_put(ids);
    return rc;
}

static int ovh_create_txt(void *self, const acme_dns_txt *txt, char **handle_out,
                          acme_error **err)
{
    ovh *o = self;
    json_object *body, *r = NULL, *idv;
    char id[32], *path;
    int rc;

    *handle_out = NULL;
    /* Idempotent: a value already there keeps its record. */
    if ((rc = find_record(id, sizeof(id), o, txt, err)) < 0)
        return rc;
    if (id[0])
        return (*handle_out = acme__strdup(id))
                   ? ACME_OK
                   : acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    if (!(body = json_object_new_object()) ||
        !(path = acme__asprintf("/domain/zone/%s/record", txt->zone->id))) {
        json_object_put(body);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    json_object_object_add(body, "fieldType", json_object_new_string("TXT"));
    json_object_object_add(body, "subDomain", json_object_new_string(txt->relative));
    json_object_object_add(body, "target", json_object_new_string(txt->value));
    json_object_object_add(body, "ttl", json_object_new_int64(txt->ttl));
    rc = call(o, "POST", path, body, &r, err);
    json_object_put(body);
    free(path);
    if (rc < 0)
        return rc;
    if (!json_object_object_get_ex(r, "id", &idv) || !id_text(id, sizeof(id), idv)) {
        json_object_put(r);
        return acme_error_set(err, ACME_E_PROTOCOL, _("%s: the new record has no id"), SERVICE);
    }
    json_object_put(r);
    if (!(*handle_out = acme__strdup(id)))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    return refresh(o, txt, err);
}

static int ovh_delete_txt(void *self, const acme_dns_txt *txt, const char *handle,
                          acme_error **err)
{
    ovh *o = self;
    char id[32], *path;
    acme_error *e = NULL;
    int rc;

    if (handle && *handle && strlen(handle) < sizeof(id) && !handle[strspn(handle, "0123456789")]) {
        memcpy(id, handle, strlen(handle) + 1);
    } else {
        /* No id (after a restart): find the value by name and content. */
        if ((rc = find_record(id, sizeof(id), o, txt, err)) < 0)
            return rc;
        if (!id[0])
            return ACME_OK; /* already gone */
    }
    if (!(path = acme__asprintf("/domain/zone/%s/record/%s", txt->zone->id, id)))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    rc = call(o, "DELETE", path, NULL, NULL, &e);
    free(path);
    if (rc == ACME_E_NOTFOUND) { /* already gone: nothing to publish */
        acme_error_free(e);
        return ACME_OK;
    }
    if (rc < 0)
        return acme__error_give(err, e);
    return refresh(o, txt, err);
}

static const char *const ovh_prefixes[] = { "OVH", NULL };

const acme_dns_provider_ops acme__dns_ovh_ops = {
    .version = ACME_DNS_PROVIDER_OPS_VERSION,
    .size = sizeof(acme_dns_provider_ops),
    .name = "ovh",
    .aliases = NULL,
    .env_prefixes = ovh_prefixes,
    .options = ovh_options,
    .flags = 0,
    .default_ttl = 120,
    .min_ttl = 60,
    .max_ttl = 0,
    /* The refresh publishes the zone; the propagation check covers the rest. */
    .default_settle_s = 0,
    .open = ovh_open,
    .list_zones = ovh_list_zones,
    .find_zone = NULL,
    .create_txt = ovh_create_txt,
    .delete_txt = ovh_delete_txt,
    .wait_applied = NULL,
    .destroy = ovh_destroy,
};
