/*
 * dns/providers: helpers shared by the built-in REST providers.  One JSON
 * call (URL, body, acme__rest_send, parse), the check that a name from an
 * API may go into a URL path, and the DELETE where 404 is success.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <acme/sys/error.h>

#include "dns/providers/common.h"
#include "util/error.h"
#include "util/i18n.h"
#include "util/json.h"
#include "util/util.h"

/* The provider's lines, then Accept and Content-Type, and the final NULL. */
#define MAX_HEADERS 8

int acme__dnsp_call_json(const acme__dnsp_call *c, json_object **json_out, acme_error **err)
{
    const char *headers[MAX_HEADERS + 3];
    size_t nh = 0;
    acme__rest_request req = { 0 };
    acme__rest_response resp = ACME__REST_RESPONSE_INIT;
    char *url = c->url ? acme__strdup(c->url) : acme__asprintf("%s%s", c->base, c->path);
    char *text = NULL;
    acme_error *e = NULL;
    int rc;

    if (json_out)
        *json_out = NULL;
    if (c->resp_out)
        *c->resp_out = resp;
    for (size_t i = 0; c->headers && c->headers[i] && nh < MAX_HEADERS; i++)
        headers[nh++] = c->headers[i];
    headers[nh++] = "Accept: application/json";
    if (c->body)
        headers[nh++] = "Content-Type: application/json";
    headers[nh] = NULL;
    if (!url || (c->body && !(text = acme__json_dump(c->body)))) {
        free(url);
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    }
    req.method = c->method;
    req.url = url;
    req.headers = headers;
    req.body = text;
    req.service = c->service;
    rc = acme__rest_send(&resp, acme__dns_env_rest(c->env), &req, &e);
    if (rc < 0 && c->on_error)
        c->on_error(e, &resp);
    if (rc == ACME_OK && json_out && (resp.body.len || !(c->flags & ACME__DNSP_EMPTY_OK))) {
        rc = acme__json_parse(json_out, resp.body.data, resp.body.len, c->service, &e);
        if (rc == ACME_OK && (c->flags & ACME__DNSP_OBJECT) &&
            !json_object_is_type(*json_out, json_type_object)) {
            json_object_put(*json_out);
            *json_out = NULL;
            rc = acme_error_set(&e, ACME_E_PROTOCOL, _("%s: the answer is not a JSON object"),
                                c->service);
        }
    }
    if (c->resp_out)
        *c->resp_out = resp;
    else
        acme__rest_response_clear(&resp);
    free(text);
    free(url);
    return rc < 0 ? (e ? acme__error_give(err, e) : rc) : ACME_OK;
}

bool acme__dnsp_path_safe(const char *s, size_t max)
{
    if (!s || !*s || strlen(s) > max)
        return false;
    for (const char *p = s; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.", *p))
            return false;
    return true;
}

int acme__dnsp_gone_ok(int rc, acme_error *e, acme_error **err)
{
    if (rc == ACME_E_NOTFOUND) {
        acme_error_free(e);
        return ACME_OK;
    }
    return rc < 0 ? acme__error_give(err, e) : ACME_OK;
}
