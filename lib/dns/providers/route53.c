/*
 * dns provider: Amazon Route 53 (REST-XML API 2013-04-01, AWS Signature
 * Version 4 from lib/crypto/sigv4.c, XML from xml.c).
 *
 * Route 53 keeps all values of one name and type in one resource record
 * set, so adding a value reads the TXT RRset and UPSERTs it with every
 * value (the old ones byte for byte, plus ours); removing one UPSERTs the
 * rest, or DELETEs the RRset exactly as it stands when ours was the last
 * (a DELETE must match the current set, so a concurrent change fails the
 * batch instead of being lost).  Each change returns an id, polled with
 * GetChange until INSYNC (every Route 53 server has it) in wait_applied.
 *
 * Facts (research notes, section 2.3): names are FQDNs with a trailing
 * dot; TXT values are quoted character strings; zone ids come as
 * "/hostedzone/<id>"; listings page with marker / NextMarker while
 * IsTruncated is true; errors are <ErrorResponse><Error><Code>, and
 * throttling is HTTP 400 with Code Throttling or PriorRequestNotComplete
 * and no Retry-After.  The global endpoint signs for us-east-1.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <acme/sys/error.h>

#include "crypto/sigv4.h"
#include "dns/dns.h"
#include "dns/providers/xml.h"
#include "util/error.h"
#include "util/i18n.h"
#include "util/util.h"

#define SERVICE "Route 53"
#define API "/2013-04-01"
#define XMLNS "https://route53.amazonaws.com/doc/2013-04-01/"
/* Stop a listing that never ends (a server repeating its marker). */
#define MAX_PAGES 10000

typedef struct r53 {
    acme_dns_env *env;
    char *base;             /* "https://route53.amazonaws.com" (+ a path prefix, no '/' at the end) */
    char *prefix;           /* the base's path ("" usually), for signing */
    char *host;             /* the Host header, as signed */
    const char *access_key; /* borrowed from the settings (valid until destroy) */
    const char *secret_key;
    const char *session_token;
    const char *signing_region;
    const char *hosted_zone_id;
    bool private_zone;
    bool wait_changes;
    unsigned int polling_s;
} r53;

static const char *const env_access[] = { "AWS_ACCESS_KEY_ID", NULL };
static const char *const env_secret[] = { "AWS_SECRET_ACCESS_KEY", NULL };
static const char *const env_session[] = { "AWS_SESSION_TOKEN", NULL };
static const char *const env_region[] = { "AWS_REGION", NULL };
static const char *const env_zone_id[] = { "AWS_HOSTED_ZONE_ID", NULL };
static const char *const env_private[] = { "AWS_PRIVATE_ZONE", NULL };
static const char *const env_wait[] = { "AWS_WAIT_FOR_RECORD_SETS_CHANGED", NULL };

static const acme_dns_option r53_options[] = {
    { .key = "access_key_id", .env = env_access,
      .flags = ACME_DNS_OPT_REQUIRED | ACME_DNS_OPT_SECRET, .help = "the AWS access key id" },
    { .key = "secret_access_key", .env = env_secret,
      .flags = ACME_DNS_OPT_REQUIRED | ACME_DNS_OPT_SECRET, .help = "the AWS secret access key" },
    { .key = "session_token", .env = env_session, .flags = ACME_DNS_OPT_SECRET,
      .help = "the session token of temporary credentials" },
    { .key = "region", .env = env_region, .default_value = "us-east-1",
      .help = "the AWS region: picks the partition (aws, aws-cn, aws-us-gov)" },
    { .key = "hosted_zone_id", .env = env_zone_id,
      .help = "use this hosted zone (no ListHostedZones permission needed)" },
    { .key = "private_zone", .env = env_private, .default_value = "false",
      .help = "use private hosted zones instead of public ones" },
    { .key = "wait_for_changes", .env = env_wait, .default_value = "true",
      .help = "wait until a change is INSYNC" },
    { .key = NULL },
};

/* ---- settings ---- */

static int parse_bool(bool *out, const acme_dns_settings *s, const char *key, acme_error **err)
{
    const char *v = acme_dns_settings_get(s, key);

    if (!v || !*v || !strcmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no") ||
        !strcasecmp(v, "off")) {
        *out = false;
        return ACME_OK;
    }
    if (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") ||
        !strcasecmp(v, "on")) {
        *out = true;
        return ACME_OK;
    }
    return acme_error_set(err, ACME_E_INVALID,
                          _("DNS provider route53: the setting %s must be true or false"), key);
}

/*
 * Split @p url ("https://host[:port][/prefix]") into the base without a
 * trailing slash, the host[:port] for the Host header, and the prefix.
 */
static int split_url(r53 *r, const char *url, acme_error **err)
{
    const char *h = strstr(url, "://"), *slash;
    size_t len = strlen(url);

    if ((strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0) || !h)
        return acme_error_set(err, ACME_E_INVALID,
                              _("DNS provider route53: base_url must start with http:// or "
                                "https://"));
    h += 3;
    slash = strchr(h, '/');
    while (len && url[len - 1] == '/')
        len--;
    if (slash == h || strcspn(h, "@?# \t\r\n") < strlen(h))
        return acme_error_set(err, ACME_E_INVALID, _("DNS provider route53: bad base_url"));
    r->base = acme__strndup(url, len);
    r->host = slash ? acme__strndup(h, (size_t)(slash - h)) : acme__strdup(h);
    r->prefix = slash && (size_t)(slash - url) < len
                    ? acme__strndup(slash, len - (size_t)(slash - url))
                    : acme__strdup("");
    if (!r->base || !r->host || !r->prefix)
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    return ACME_OK;
}

static void r53_destroy(void *self)
{
    r53 *r = self;

    free(r->base);
    free(r->prefix);
    free(r->host);
    free(r);
}

static int r53_open(void **self_out, const acme_dns_settings *s, acme_dns_env *env,
                    acme_error **err)
{
    const char *region = acme_dns_settings_get(s, "region");
    const char *url = acme_dns_settings_get(s, "base_url");
    const char *zid = acme_dns_settings_get(s, "hosted_zone_id");
    const char *endpoint = "https://route53.amazonaws.com";
    r53 *r;
    int rc;

    *self_out = NULL;
    if (!(r = calloc(1, sizeof(*r))))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    r->env = env;
    r->access_key = acme_dns_settings_get(s, "access_key_id");
    r->secret_key = acme_dns_settings_get(s, "secret_access_key");
    r->session_token = acme_dns_settings_get(s, "session_token");
    if (r->session_token && !*r->session_token)
        r->session_token = NULL;
    r->hosted_zone_id = zid && *zid ? zid : NULL;
    /*
     * Route 53 is a global service: one endpoint per partition, signed
     * for that partition's first region whatever AWS_REGION says (many
     * environments set AWS_REGION for other services).
     */
    r->signing_region = "us-east-1";
    if (region && strncmp(region, "cn-", 3) == 0) {
        endpoint = "https://route53.amazonaws.com.cn";
        r->signing_region = "cn-northwest-1";
    } else if (region && strncmp(region, "us-gov-", 7) == 0) {
        endpoint = "https://route53.us-gov.amazonaws.com";
        r->signing_region = "us-gov-west-1";
    }
    if (!r->access_key || !*r->access_key || strpbrk(r->access_key, "\r\n/, ") ||
        !r->secret_key || !*r->secret_key || strpbrk(r->secret_key, "\r\n") ||
        (r->session_token && strpbrk(r->session_token, "\r\n"))) {
        rc = acme_error_set(err, ACME_E_INVALID,
                            _("DNS provider route53: access_key_id, secret_access_key or "
                              "session_token is empty or malformed"));
        goto fail;
    }
    if (r->hosted_zone_id && strcspn(r->hosted_zone_id, "/?#%& ") < strlen(r->hosted_zone_id) &&
        strncmp(r->hosted_zone_id, "/hostedzone/", 12) != 0) {
        rc = acme_error_set(err, ACME_E_INVALID,
                            _("DNS provider route53: malformed hosted_zone_id"));
        goto fail;
    }
    if (r->hosted_zone_id && strncmp(r->hosted_zone_id, "/hostedzone/", 12) == 0)
        r->hosted_zone_id += 12;
    if ((rc = parse_bool(&r->private_zone, s, "private_zone", err)) < 0 ||
        (rc = parse_bool(&r->wait_changes, s, "wait_for_changes", err)) < 0 ||
        (rc = acme_dns_settings_get_uint(s, "polling_interval", 4, &r->polling_s, err)) < 0 ||
        (rc = split_url(r, url && *url ? url : endpoint, err)) < 0)
        goto fail;
    *self_out = r;
    return ACME_OK;
fail:
    r53_destroy(r);
    return rc;
}

/* ---- requests ---- */

/* @p text with every occurrence of a credential replaced (messages come from the server). */
static char *scrub(const r53 *r, const char *text)
{
    const char *secrets[] = { r->secret_key, r->session_token, r->access_key };
    char *s = acme__strdup(text);

    for (size_t i = 0; s && i < ACME_ARRAY_SIZE(secrets); i++) {
        const char *k = secrets[i];
        char *hit;

        if (!k || strlen(k) < 4)
            continue;
        while (s && (hit = strstr(s, k))) {
            char *n = acme__asprintf("%.*s[redacted]%s", (int)(hit - s), s, hit + strlen(k));

            free(s);
            s = n;
        }
    }
    return s;
}

/*
 * An error answer (REST-XML): <ErrorResponse><Error><Code>..<Message>..,
 * or a root element named after the code with <Messages><Message>.
 */
static int api_error(const r53 *r, acme_error **err, const char *method, const char *path,
                     const acme__rest_response *resp, acme_error *rest_err)
{
    acme__xml *x = NULL;
    const char *code_s = NULL, *msg = NULL;
    char *detail = NULL, *text;
    long st = resp->status;
    int code;
    acme_error *e;

    if (acme__xml_parse(&x, resp->body.data, resp->body.len, "error", NULL) == ACME_OK) {
        code_s = acme__xml_text(x, "Error/Code");
        msg = acme__xml_text(x, "Error/Message");
        if (!code_s && strcmp(x->name, "ErrorResponse") != 0)
            code_s = x->name;
        if (!msg)
            msg = acme__xml_text(x, "Messages/Message");
        if (!msg)
            msg = acme__xml_text(x, "Message");
    }
    if (!code_s && !msg) {
        /* No XML error: the transport's own error says it well enough. */
        acme__xml_free(x);
        return acme__error_give(err, rest_err);
    }
    acme_error_free(rest_err);
    code_s = code_s ? code_s : "";
    if (!strcmp(code_s, "Throttling") || !strcmp(code_s, "ThrottlingException") ||
        !strcmp(code_s, "PriorRequestNotComplete") || st == 429)
        code = ACME_E_RATELIMITED;
    else if (st == 401 || st == 403 || !strcmp(code_s, "SignatureDoesNotMatch") ||
             !strcmp(code_s, "InvalidClientTokenId") || !strcmp(code_s, "AccessDenied") ||
             !strcmp(code_s, "IncompleteSignature") || !strcmp(code_s, "ExpiredToken") ||
             !strcmp(code_s, "MissingAuthenticationToken"))
        code = ACME_E_AUTH;
    else if (!strcmp(code_s, "NoSuchHostedZone"))
        code = ACME_E_ZONENOTFOUND;
    else if (st == 404 || !strcmp(code_s, "NoSuchChange"))
        code = ACME_E_NOTFOUND;
    else if (st >= 500)
        code = ACME_E_NETWORK;
    else
        code = ACME_E_REJECTED;
    text = acme__asprintf("%s%s%s", code_s, *code_s && msg ? ": " : "", msg ? msg : "");
    detail = text ? scrub(r, text) : NULL;
    free(text);
    acme__xml_free(x);
    if (!detail)
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    switch (code) {
    case ACME_E_AUTH:
        text = acme__asprintf(_("%s refused the credentials (HTTP %ld on %s %s): %s"), SERVICE,
                              st, method, path, detail);
        break;
    case ACME_E_RATELIMITED:
        text = acme__asprintf(_("%s rate limited %s %s (HTTP %ld): %s"), SERVICE, method, path,
                              st, detail);
        break;
    default:
        text = acme__asprintf(_("%s refused %s %s (HTTP %ld): %s"), SERVICE, method, path, st,
                              detail);
        break;
    }
    if (!text || !(e = acme__error_new(code, text))) {
        free(text);
        free(detail);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    free(text);
    e->http_status = (int)st;
    e->retry_after = resp->retry_after;
    e->detail = detail;
    e->retryable = code == ACME_E_RATELIMITED || code == ACME_E_NETWORK;
    return acme__error_give(err, e);
}

/*
 * One signed call: @p path below /2013-04-01, @p query already encoded
 * (or NULL), @p body XML (or NULL).  @p out (may be NULL) receives the
 * parsed answer.
 */
static int call(r53 *r, const char *method, const char *path, const char *query,
                const char *body, acme__xml **out, acme_error **err)
{
    char amzdate[17], *full = NULL, *url = NULL, *h_host = NULL, *h_date = NULL, *h_auth = NULL,
                      *h_token = NULL;
    const char *sign_headers[5], *send_headers[7];
    size_t ns = 0, nh = 0;
    acme__sigv4 sig;
    acme__sigv4_request sr = { 0 };
    acme__rest_request req = { 0 };
    acme__rest_response resp = ACME__REST_RESPONSE_INIT;
    acme_error *e = NULL;
    int rc;

    if (out)
        *out = NULL;
    memset(&sig, 0, sizeof(sig));
    acme__sigv4_amzdate(amzdate, time(NULL));
    full = acme__asprintf("%s" API "%s", r->prefix, path);
    url = acme__asprintf("%s" API "%s%s%s", r->base, path, query ? "?" : "", query ? query : "");
    h_host = acme__asprintf("Host: %s", r->host);
    h_date = acme__asprintf("X-Amz-Date: %s", amzdate);
    h_token = r->session_token ? acme__asprintf("X-Amz-Security-Token: %s", r->session_token)
                               : NULL;
    if (!full || !url || !h_host || !h_date || (r->session_token && !h_token)) {
        rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        goto out;
    }
    /* SigV4 task 1 needs Host and X-Amz-Date; the body's type and a session token are signed too. */
    sign_headers[ns++] = h_host;
    sign_headers[ns++] = h_date;
    if (body)
        sign_headers[ns++] = "Content-Type: text/xml";
    if (h_token)
        sign_headers[ns++] = h_token;
    sign_headers[ns] = NULL;
    sr.method = method;
    sr.path = full;
    sr.query = query;
    sr.headers = sign_headers;
    sr.payload = body;
    sr.payload_len = body ? strlen(body) : 0;
    sr.access_key = r->access_key;
    sr.secret_key = r->secret_key;
    sr.region = r->signing_region;
    sr.service = "route53";
    sr.amzdate = amzdate;
    if ((rc = acme__sigv4_sign(&sig, &sr, err)) < 0)
        goto out;
    if (!(h_auth = acme__asprintf("Authorization: %s", sig.authorization))) {
        rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        goto out;
    }
    for (size_t i = 0; i < ns; i++)
        send_headers[nh++] = sign_headers[i];
    send_headers[nh++] = h_auth;
    send_headers[nh] = NULL;
    req.method = method;
    req.url = url;
    req.headers = send_headers;
    req.body = body;
    req.service = SERVICE;
    rc = acme__rest_send(&resp, acme__dns_env_rest(r->env), &req, &e);
    if (rc < 0 && resp.status >= 400)
        rc = api_error(r, err, method, full, &resp, e);
    else if (rc < 0)
        rc = acme__error_give(err, e);
    else if (out)
        rc = acme__xml_parse(out, resp.body.data, resp.body.len, _("Route 53 answer"), err);
out:
    acme__rest_response_clear(&resp);
    acme__sigv4_clear(&sig);
    free(full);
    free(url);
    free(h_host);
    free(h_date);
    acme__free_secret(h_auth);
    acme__free_secret(h_token);
    return rc;
}

/* "/hostedzone/Z1D6" or "Z1D6" -> "Z1D6" (a copy, URI-encoded to be safe in a path). */
static char *short_id(const char *id, const char *prefix)
{
    size_t n = strlen(prefix);

    if (strncmp(id, prefix, n) == 0)
        id += n;
    return acme__sigv4_uri_encode(id, strlen(id), 0);
}

static int add_zone(r53 *r, acme_dns_zone_list *out, const acme__xml *z, acme_error **err)
{
    const char *id = acme__xml_text(z, "Id"), *name = acme__xml_text(z, "Name");
    const char *priv = acme__xml_text(z, "Config/PrivateZone");
    bool is_private = priv && strcmp(priv, "true") == 0;
    char *sid;
    int rc;

    if (!id || !name)
        return acme_error_set(err, ACME_E_PROTOCOL, _("%s: a hosted zone without Id or Name"),
                              SERVICE);
    /* lego's AWS_PRIVATE_ZONE: private zones only when asked, public ones otherwise. */
    if (is_private != r->private_zone)
        return ACME_OK;
    if (!(sid = short_id(id, "/hostedzone/")))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    rc = acme_dns_zone_list_add(out, sid, name, is_private, NULL);
    if (rc == ACME_E_NOMEM)
        rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    else if (rc < 0) /* a name we cannot use (escaped characters): not ours */
        rc = ACME_OK;
    free(sid);
    return rc;
}

static int r53_list_zones(void *self, acme_dns_zone_list *out, acme_error **err)
{
    r53 *r = self;
    char *marker = NULL;
    int rc = ACME_OK;

    if (r->hosted_zone_id) {
        /* GetHostedZone: least-privilege credentials may not list zones. */
        char *path = acme__asprintf("/hostedzone/%s", r->hosted_zone_id);
        acme__xml *x = NULL;

        if (!path)
            return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        rc = call(r, "GET", path, NULL, NULL, &x, err);
        free(path);
        if (rc == ACME_OK) {
            const acme__xml *z = acme__xml_child(x, "HostedZone");

            rc = z ? add_zone(r, out, z, err)
                   : acme_error_set(err, ACME_E_PROTOCOL, _("%s: no HostedZone in the answer"),
                                    SERVICE);
        }
        acme__xml_free(x);
        return rc;
    }
    /* ListHostedZones, 100 per page, following NextMarker while IsTruncated. */
    for (int page = 0; rc == ACME_OK; page++) {
        char *query = NULL, *m = marker ? acme__sigv4_uri_encode(marker, strlen(marker), 0) : NULL;
        const acme__xml *zones;
        const char *trunc, *next;
        acme__xml *x = NULL;

        if (page >= MAX_PAGES) {
            rc = acme_error_set(err, ACME_E_PROTOCOL, _("%s: the zone list does not end"),
                                SERVICE);
            break;
        }
        query = m ? acme__asprintf("marker=%s&maxitems=100", m) : acme__strdup("maxitems=100");
        free(m);
        if (!query) {
            rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
            break;
        }
        rc = call(r, "GET", "/hostedzone", query, NULL, &x, err);
        free(query);
        if (rc < 0)
            break;
        if (!(zones = acme__xml_child(x, "HostedZones"))) {
            acme__xml_free(x);
            rc = acme_error_set(err, ACME_E_PROTOCOL, _("%s: no HostedZones in the answer"),
                                SERVICE);
            break;
        }
        for (size_t i = 0; i < zones->nkids && rc == ACME_OK; i++)
            if (strcmp(zones->kids[i]->name, "HostedZone") == 0)
                rc = add_zone(r, out, zones->kids[i], err);
        trunc = acme__xml_text(x, "IsTruncated");
        next = acme__xml_text(x, "NextMarker");
        if (rc == ACME_OK && trunc && strcmp(trunc, "true") == 0) {
            if (!next || !*next || (marker && strcmp(next, marker) == 0)) {
                rc = acme_error_set(err, ACME_E_PROTOCOL,
                                    _("%s: a truncated zone list without a new NextMarker"),
                                    SERVICE);
            } else {
                free(marker);
                if (!(marker = acme__strdup(next)))
                    rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
            }
            acme__xml_free(x);
            continue;
        }
        acme__xml_free(x);
        break;
    }
    free(marker);
    return rc;
}

/* ---- the TXT RRset ---- */

typedef struct rrset {
    bool found;
    unsigned long ttl;
    char **values;      /* as stored (quoted), XML-decoded */
    size_t n;
} rrset;

static void rrset_clear(rrset *rs)
{
    acme_free_strv(rs->values, rs->n);
    memset(rs, 0, sizeof(*rs));
}

/* ListResourceRecordSets starting at (fqdn., TXT); keep the set only if it is that one. */
static int rrset_get(rrset *out, r53 *r, const acme_dns_txt *txt, acme_error **err)
{
    char *zid = short_id(txt->zone->id, "/hostedzone/"), *dotted = acme__asprintf("%s.", txt->fqdn);
    char *name = dotted ? acme__sigv4_uri_encode(dotted, strlen(dotted), 0) : NULL;
    char *path = zid ? acme__asprintf("/hostedzone/%s/rrset", zid) : NULL;
    char *query = name ? acme__asprintf("maxitems=1&name=%s&type=TXT", name) : NULL;
    const acme__xml *sets;
    acme__xml *x = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!path || !query) {
        rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        goto out;
    }
    if ((rc = call(r, "GET", path, query, NULL, &x, err)) < 0)
        goto out;
    sets = acme__xml_child(x, "ResourceRecordSets");
    for (size_t i = 0; sets && i < sets->nkids && !out->found; i++) {
        const acme__xml *s = sets->kids[i], *recs = acme__xml_child(s, "ResourceRecords");
        const char *n = acme__xml_text(s, "Name"), *type = acme__xml_text(s, "Type");
        const char *ttl = acme__xml_text(s, "TTL");
        char *norm = NULL;

        /* The list starts at the name: the next RRset in order may come instead. */
        if (!n || !type || strcmp(type, "TXT") != 0 || acme__dns_name_normalize(&norm, n, NULL) < 0)
            continue;
        if (strcmp(norm, txt->fqdn) == 0) {
            out->found = true;
            out->ttl = ttl ? strtoul(ttl, NULL, 10) : txt->ttl;
            for (size_t j = 0; recs && j < recs->nkids; j++) {
                const char *v = acme__xml_text(recs->kids[j], "Value");
                char **nv;

                if (!v)
                    continue;
                if (!(nv = realloc(out->values, (out->n + 1) * sizeof(*nv))) ||
                    !(nv[out->n] = acme__strdup(v))) {
                    if (nv)
                        out->values = nv;
                    free(norm);
                    rrset_clear(out);
                    rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
                    goto out;
                }
                out->values = nv;
                out->n++;
            }
        }
        free(norm);
    }
out:
    acme__xml_free(x);
    free(zid);
    free(dotted);
    free(name);
    free(path);
    free(query);
    return rc;
}

/* Whether a stored (quoted) value is @p value. */
static bool value_is(const char *stored, const char *value)
{
    char *plain = acme__dns_txt_unquote(stored);
    bool same = plain && strcmp(plain, value) == 0;

    free(plain);
    return same;
}

/*
 * ChangeResourceRecordSets with one change: @p action ("UPSERT",
 * "DELETE") of the TXT RRset with @p values (stored form).  *change_id
 * receives the change's id ("C2682N5HXP0BZ4").
 */
static int change(r53 *r, const acme_dns_txt *txt, const char *action, unsigned long ttl,
                  const char *const *values, size_t n, char **change_id, acme_error **err)
{
    acme__buf b = ACME__BUF_INIT;
    char *zid = short_id(txt->zone->id, "/hostedzone/"), *path = NULL;
    acme__xml *x = NULL;
    const char *id;
    int rc = ACME_E_NOMEM;

    *change_id = NULL;
    /* No Comment: the body is exactly the one of the SigV4 vector D. */
    if (!zid || !(path = acme__asprintf("/hostedzone/%s/rrset/", zid)) ||
        acme__buf_printf(&b,
                         "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                         "<ChangeResourceRecordSetsRequest xmlns=\"" XMLNS "\">"
                         "<ChangeBatch><Changes><Change><Action>%s</Action>"
                         "<ResourceRecordSet><Name>%s.</Name><Type>TXT</Type><TTL>%lu</TTL>"
                         "<ResourceRecords>",
                         action, txt->fqdn, ttl) < 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        char *esc = acme__xml_escape(values[i]);

        if (!esc || acme__buf_printf(&b, "<ResourceRecord><Value>%s</Value></ResourceRecord>",
                                     esc) < 0) {
            free(esc);
            goto out;
        }
        free(esc);
    }
    if (acme__buf_puts(&b, "</ResourceRecords></ResourceRecordSet></Change></Changes>"
                           "</ChangeBatch></ChangeResourceRecordSetsRequest>") < 0)
        goto out;
    if ((rc = call(r, "POST", path, NULL, b.data, &x, err)) < 0)
        goto done;
    if (!(id = acme__xml_text(x, "ChangeInfo/Id")) || !*id) {
        rc = acme_error_set(err, ACME_E_PROTOCOL, _("%s: a change without ChangeInfo/Id"),
                            SERVICE);
        goto done;
    }
    if (!(*change_id = short_id(id, "/change/")))
        goto out;
    rc = ACME_OK;
    goto done;
out:
    rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
done:
    acme__xml_free(x);
    acme__buf_clear(&b);
    free(zid);
    free(path);
    return rc;
}

static int r53_create_txt(void *self, const acme_dns_txt *txt, char **handle_out,
                          acme_error **err)
{
    r53 *r = self;
    rrset rs;
    const char **all = NULL;
    char *quoted = NULL;
    int rc;

    *handle_out = NULL;
    if ((rc = rrset_get(&rs, r, txt, err)) < 0)
        return rc;
    for (size_t i = 0; i < rs.n; i++)
        if (value_is(rs.values[i], txt->value))
            goto out; /* already there: nothing to change, nothing to wait for */
    if (!(quoted = acme__dns_txt_quote(txt->value)) || !(all = calloc(rs.n + 1, sizeof(*all)))) {
        rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        goto out;
    }
    /* Every value already there, byte for byte (the other half of a wildcard + apex order). */
    for (size_t i = 0; i < rs.n; i++)
        all[i] = rs.values[i];
    all[rs.n] = quoted;
    rc = change(r, txt, "UPSERT", txt->ttl, all, rs.n + 1, handle_out, err);
out:
    free(all);
    free(quoted);
    rrset_clear(&rs);
    return rc;
}

static int r53_delete_txt(void *self, const acme_dns_txt *txt, const char *handle,
                          acme_error **err)
{
    r53 *r = self;
    rrset rs;
    const char **rest = NULL;
    char *change_id = NULL;
    size_t n = 0;
    bool found = false;
    int rc;

    (void)handle; /* a change id: the RRset is addressed by name */
    if ((rc = rrset_get(&rs, r, txt, err)) < 0)
        return rc;
    if (!(rest = calloc(rs.n + 1, sizeof(*rest)))) {
        rc = acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
        goto out;
    }
    for (size_t i = 0; i < rs.n; i++) {
        if (value_is(rs.values[i], txt->value))
            found = true;
        else
            rest[n++] = rs.values[i];
    }
    if (!found)
        goto out; /* already gone */
    /* Others stay (UPSERT them at the set's TTL); ours was the last: DELETE the exact set. */
    if (n)
        rc = change(r, txt, "UPSERT", rs.ttl, rest, n, &change_id, err);
    else
        rc = change(r, txt, "DELETE", rs.ttl, (const char *const *)rs.values, rs.n, &change_id,
                    err);
    free(change_id);
out:
    free(rest);
    rrset_clear(&rs);
    return rc;
}

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* GetChange until INSYNC: every Route 53 name server has the change. */
static int r53_wait_applied(void *self, const char *handle, int64_t timeout_ms, acme_error **err)
{
    r53 *r = self;
    int64_t deadline = mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    char *id, *path;
    int rc = ACME_OK;

    if (!r->wait_changes || !handle)
        return ACME_OK;
    if (!(id = short_id(handle, "/change/")) || !(path = acme__asprintf("/change/%s", id))) {
        free(id);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    for (;;) {
        acme__xml *x = NULL;
        const char *status;
        int64_t left;

        if ((rc = call(r, "GET", path, NULL, NULL, &x, err)) < 0)
            break;
        status = acme__xml_text(x, "ChangeInfo/Status");
        if (status && strcmp(status, "INSYNC") == 0) {
            acme__xml_free(x);
            break;
        }
        acme__xml_free(x);
        if ((left = deadline - mono_ms()) <= 0) {
            rc = acme_error_set(err, ACME_E_TIMEOUT,
                                _("%s: change %s not INSYNC after %lld ms"), SERVICE, id,
                                (long long)(timeout_ms > 0 ? timeout_ms : 0));
            break;
        }
        if ((int64_t)r->polling_s * 1000 < left)
            left = (int64_t)r->polling_s * 1000;
        if ((rc = acme__dns_env_sleep(r->env, left, err)) < 0)
            break;
    }
    free(id);
    free(path);
    return rc;
}

static const char *const r53_aliases[] = { "aws", NULL };
static const char *const r53_prefixes[] = { "AWS", NULL };

const acme_dns_provider_ops acme__dns_route53_ops = {
    .version = ACME_DNS_PROVIDER_OPS_VERSION,
    .size = sizeof(acme_dns_provider_ops),
    .name = "route53",
    .aliases = r53_aliases,
    .env_prefixes = r53_prefixes,
    .options = r53_options,
    .flags = 0,
    /* lego's AWS_TTL default. */
    .default_ttl = 10,
    .min_ttl = 0,
    .max_ttl = 0,
    /* INSYNC means every Route 53 server answers with the change. */
    .default_settle_s = 0,
    .open = r53_open,
    .list_zones = r53_list_zones,
    .find_zone = NULL,
    .create_txt = r53_create_txt,
    .delete_txt = r53_delete_txt,
    .wait_applied = r53_wait_applied,
    .destroy = r53_destroy,
};
