/*
 * transport: problem documents (RFC 7807, as RFC 8555 §6.7 uses them)
 * turned into acme_error, and the one table that says what each ACME
 * problem type means for the caller: its error code and whether trying
 * again later may succeed.  Retry decisions read only this table.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <acme/sys/error.h>

#include "transport/transport.h"
#include "util/error.h"
#include "util/i18n.h"
#include "util/json.h"

#define ACME_URN "urn:ietf:params:acme:error:"

typedef struct problem_kind {
    const char *name;   /* after "urn:ietf:params:acme:error:" */
    int code;
    bool retryable;
} problem_kind;

/*
 * RFC 8555 §6.7 (the registry of ACME error types) plus RFC 9773
 * (alreadyReplaced).  "retryable" means the same request may succeed
 * later without any change: the CA's own trouble, rate limits, a stale
 * nonce.  Validation failures (connection, dns, tls, caa,
 * incorrectResponse, unauthorized) are not: they need the responder or
 * the DNS fixed first.
 */
static const problem_kind problems[] = {
    { "accountDoesNotExist",     ACME_E_REJECTED,     false },
    { "alreadyReplaced",         ACME_E_REJECTED,     false },
    { "alreadyRevoked",          ACME_E_REJECTED,     false },
    { "badCSR",                  ACME_E_REJECTED,     false },
    { "badNonce",                ACME_E_BADNONCE,     true  },
    { "badPublicKey",            ACME_E_REJECTED,     false },
    { "badRevocationReason",     ACME_E_REJECTED,     false },
    { "badSignatureAlgorithm",   ACME_E_NOTSUP,       false },
    { "caa",                     ACME_E_REJECTED,     false },
    { "compound",                ACME_E_REJECTED,     false },
    { "connection",              ACME_E_REJECTED,     false },
    { "dns",                     ACME_E_REJECTED,     false },
    { "externalAccountRequired", ACME_E_REJECTED,     false },
    { "incorrectResponse",       ACME_E_REJECTED,     false },
    { "invalidContact",          ACME_E_REJECTED,     false },
    { "malformed",               ACME_E_PROTOCOL,     false },
    { "orderNotReady",           ACME_E_INVALIDSTATE, false },
    { "rateLimited",             ACME_E_RATELIMITED,  true  },
    { "rejectedIdentifier",      ACME_E_REJECTED,     false },
    { "serverInternal",          ACME_E_PROTOCOL,     true  },
    { "tls",                     ACME_E_REJECTED,     false },
    { "unauthorized",            ACME_E_REJECTED,     false },
    { "unsupportedContact",      ACME_E_REJECTED,     false },
    { "unsupportedIdentifier",   ACME_E_NOTSUP,       false },
    { "userActionRequired",      ACME_E_REJECTED,     false },
};

/*
 * Responses that are not ACME problems: a problem without a type (RFC 7807
 * §4.2 "about:blank"), a type from outside the ACME namespace, or no
 * problem document at all (a proxy's HTML page).  Only the status says
 * anything then: 5xx and 429 are worth another try later.
 */
static bool status_retryable(int status)
{
    return status >= 500 || status == 429;
}

static const problem_kind *lookup(const char *type)
{
    size_t plen = strlen(ACME_URN);

    if (!type || strncmp(type, ACME_URN, plen) != 0)
        return NULL;
    for (size_t i = 0; i < ACME_ARRAY_SIZE(problems); i++)
        if (strcmp(type + plen, problems[i].name) == 0)
            return &problems[i];
    return NULL;
}

bool acme__problem_is(const acme_error *e, const char *name)
{
    size_t plen = strlen(ACME_URN);

    return e && e->type && name && strncmp(e->type, ACME_URN, plen) == 0 &&
           strcmp(e->type + plen, name) == 0;
}

static bool dup_opt(char **dst, const char *src)
{
    return !src || (*dst = acme__strdup(src)) != NULL;
}

/* RFC 8555 §6.7.1: subproblems, each naming the identifier it is about. */
static int add_subproblems(acme_error *e, json_object *subs)
{
    size_t n = subs ? json_object_array_length(subs) : 0;

    if (n == 0)
        return ACME_OK;
    if (!(e->sub = calloc(n, sizeof(*e->sub))))
        return ACME_E_NOMEM;
    for (size_t i = 0; i < n; i++) {
        json_object *s = json_object_array_get_idx(subs, i);
        json_object *id;
        acme__subproblem *sp;

        if (!json_object_is_type(s, json_type_object))
            continue;
        sp = &e->sub[e->nsub++];
        id = acme__json_obj(s, "identifier");
        if (!dup_opt(&sp->type, acme__json_str(s, "type")) ||
            !dup_opt(&sp->detail, acme__json_str(s, "detail")) ||
            !dup_opt(&sp->id_type, id ? acme__json_str(id, "type") : NULL) ||
            !dup_opt(&sp->id_value, id ? acme__json_str(id, "value") : NULL))
            return ACME_E_NOMEM;
    }
    return ACME_OK;
}

/* The message: what kind of error, which problem, the CA's words, then each subproblem. */
static char *problem_message(int code, const char *type, const char *detail, int status,
                             json_object *subs)
{
    acme__buf b = ACME__BUF_INIT;
    const char *shortname = type;
    size_t n = subs ? json_object_array_length(subs) : 0;

    if (type && strncmp(type, ACME_URN, strlen(ACME_URN)) == 0)
        shortname = type + strlen(ACME_URN);
    if (shortname && status)
        acme__buf_printf(&b, _("%s (%s, HTTP %d)"), acme_strerror(code), shortname, status);
    else if (shortname)
        acme__buf_printf(&b, _("%s (%s)"), acme_strerror(code), shortname);
    else if (status)
        acme__buf_printf(&b, _("%s (HTTP %d)"), acme_strerror(code), status);
    else
        acme__buf_puts(&b, acme_strerror(code));
    if (detail && *detail)
        acme__buf_printf(&b, ": %s", detail);
    for (size_t i = 0; i < n; i++) {
        json_object *s = json_object_array_get_idx(subs, i);
        json_object *id = acme__json_obj(s, "identifier");
        const char *sd = acme__json_str(s, "detail");
        const char *iv = id ? acme__json_str(id, "value") : NULL;

        acme__buf_printf(&b, "; %s: %s", iv ? iv : "?", sd ? sd : "?");
    }
    if (!b.data)
        return NULL;
    return acme__buf_steal(&b);
}

static acme_error *from_object(json_object *o, int status, int64_t retry_after)
{
    const char *type = acme__json_str(o, "type");
    const char *detail = acme__json_str(o, "detail");
    json_object *subs = acme__json_arr(o, "subproblems");
    const problem_kind *kind;
    acme_error *e;
    char *msg;
    int code;
    bool retryable;

    if (type && strcmp(type, "about:blank") == 0)
        type = NULL;
    if ((kind = lookup(type))) {
        code = kind->code;
        retryable = kind->retryable;
    } else if (type) {
        /* A type we do not know (a newer RFC, a CA's own): the CA said no. */
        code = ACME_E_REJECTED;
        retryable = status_retryable(status);
    } else {
        code = ACME_E_PROTOCOL;
        retryable = status_retryable(status);
    }
    if (!(msg = problem_message(code, type, detail, status, subs)))
        return NULL;
    e = acme__error_new(code, msg);
    free(msg);
    if (!e)
        return NULL;
    e->http_status = status;
    e->retry_after = retry_after;
    e->retryable = retryable;
    if (!dup_opt(&e->type, type) || !dup_opt(&e->detail, detail) ||
        !dup_opt(&e->instance, acme__json_str(o, "instance")) ||
        add_subproblems(e, subs) < 0) {
        acme_error_free(e);
        return NULL;
    }
    return e;
}

acme_error *acme__problem_from_json(const char *json, size_t len, int http_status)
{
    json_object *o = NULL;
    acme_error *e;

    if (acme__json_parse(&o, json, len, "problem", NULL) < 0)
        return NULL;
    if (json_object_is_type(o, json_type_object)) {
        json_object *st;

        /* An embedded problem has no response of its own: RFC 7807 §3.1 "status" stands in. */
        if (http_status == 0 && json_object_object_get_ex(o, "status", &st) &&
            json_object_is_type(st, json_type_int)) {
            int v = json_object_get_int(st);

            http_status = v >= 100 && v <= 599 ? v : 0;
        }
        e = from_object(o, http_status, -1);
    } else {
        e = NULL;
    }
    json_object_put(o);
    return e;
}

int acme__problem_error(acme_error **err, const acme__response *resp)
{
    const char *ct = resp->content_type;
    int status = (int)resp->status;
    acme_error *e = NULL;

    /*
     * RFC 8555 §6.7: errors come as application/problem+json.  Some
     * servers label them application/json; the body decides.
     */
    if (ct && (strcmp(ct, "application/problem+json") == 0 ||
               strcmp(ct, "application/json") == 0) && resp->body.len) {
        json_object *o = NULL;

        if (acme__json_parse(&o, resp->body.data, resp->body.len, "problem", NULL) == ACME_OK &&
            json_object_is_type(o, json_type_object)) {
            e = from_object(o, status, resp->retry_after);
            json_object_put(o);
            return acme__error_give(err, e);
        }
        json_object_put(o);
        e = acme__error_new(ACME_E_PROTOCOL, NULL);
        if (e) {
            free(e->message);
            e->message = acme__asprintf(_("malformed problem document with HTTP status %d"),
                                        status);
        }
    } else {
        /* Not a problem document (HTML from a proxy, an empty body): say what came. */
        e = acme__error_new(ACME_E_PROTOCOL, NULL);
        if (e) {
            free(e->message);
            e->message = acme__asprintf(_("unexpected HTTP status %d (content type %s)"),
                                        status, ct ? ct : _("none"));
        }
    }
    if (!e || !e->message) {
        acme_error_free(e);
        return acme__error_give(err, NULL);
    }
    e->http_status = status;
    e->retry_after = resp->retry_after;
    e->retryable = status_retryable(status);
    return acme__error_give(err, e);
}
