/*
 * util: error objects, acme_strerror() and acme_status_name().
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/i18n.h"
#include "util/util.h"

static const struct {
    int code;
    const char *name;
    const char *text;
} codes[] = {
    { ACME_OK, "ACME_OK", N_("success") },
    { ACME_E_INVALID, "ACME_E_INVALID", N_("invalid argument or input") },
    { ACME_E_NOTSUP, "ACME_E_NOTSUP", N_("operation not supported") },
    { ACME_E_IO, "ACME_E_IO", N_("input/output error") },
    { ACME_E_NETWORK, "ACME_E_NETWORK", N_("network error") },
    { ACME_E_TLS, "ACME_E_TLS", N_("TLS error") },
    { ACME_E_PROTOCOL, "ACME_E_PROTOCOL", N_("ACME protocol error") },
    { ACME_E_REJECTED, "ACME_E_REJECTED", N_("request rejected by the server") },
    { ACME_E_RATELIMITED, "ACME_E_RATELIMITED", N_("rate limited by the server") },
    { ACME_E_CANCELLED, "ACME_E_CANCELLED", N_("operation cancelled") },
    { ACME_E_TIMEOUT, "ACME_E_TIMEOUT", N_("operation timed out") },
    { ACME_E_NOMEM, "ACME_E_NOMEM", N_("out of memory") },
    { ACME_E_BADNONCE, "ACME_E_BADNONCE", N_("the server kept rejecting nonces") },
    { ACME_E_NOTFOUND, "ACME_E_NOTFOUND", N_("not found") },
    { ACME_E_CRYPTO, "ACME_E_CRYPTO", N_("cryptographic operation failed") },
    { ACME_E_INVALIDSTATE, "ACME_E_INVALIDSTATE", N_("object is in the wrong state") },
    { ACME_E_ZONENOTFOUND, "ACME_E_ZONENOTFOUND", N_("no such DNS zone at the provider") },
    { ACME_E_NOTINZONE, "ACME_E_NOTINZONE", N_("name outside the DNS zone") },
    { ACME_E_AUTH, "ACME_E_AUTH", N_("credentials refused") },
};

const char *acme_strerror(int code)
{
    for (size_t i = 0; i < ACME_ARRAY_SIZE(codes); i++)
        if (codes[i].code == code)
            return _(codes[i].text);
    return _("unknown error");
}

const char *acme_status_name(int code)
{
    for (size_t i = 0; i < ACME_ARRAY_SIZE(codes); i++)
        if (codes[i].code == code)
            return codes[i].name;
    return NULL;
}

bool acme__code_retryable(int code)
{
    switch (code) {
    case ACME_E_NETWORK:
    case ACME_E_TIMEOUT:
    case ACME_E_RATELIMITED:
    case ACME_E_BADNONCE:
    case ACME_E_IO:
        return true;
    default:
        return false;
    }
}

acme_error *acme__error_new(int code, const char *message)
{
    acme_error *e = calloc(1, sizeof(*e));

    if (!e)
        return NULL;
    e->code = code < 0 ? code : ACME_E_INVALID;
    e->retry_after = -1;
    e->retryable = acme__code_retryable(e->code);
    if (!(e->message = strdup(message ? message : acme_strerror(e->code)))) {
        free(e);
        return NULL;
    }
    return e;
}

int acme__error_give(acme_error **err, acme_error *e)
{
    int code;

    if (!e)
        return ACME_E_NOMEM;
    code = e->code;
    if (err && !*err)
        *err = e;
    else
        acme_error_free(e);
    return code;
}

int acme_error_set(acme_error **err, int code, const char *fmt, ...)
{
    va_list ap;
    char *msg;

    if (code >= 0)
        code = ACME_E_INVALID;
    if (!err || *err)
        return code;
    va_start(ap, fmt);
    msg = acme__vasprintf(fmt, ap);
    va_end(ap);
    if (!msg) {
        /* Out of memory while reporting: still report the code. */
        *err = acme__error_new(code, acme_strerror(code));
        return code;
    }
    *err = acme__error_new(code, msg);
    free(msg);
    return code;
}

int acme__error_prefix(acme_error **err, int code, const char *fmt, ...)
{
    va_list ap;
    char *prefix, *msg;

    if (!err || !*err)
        return code;
    va_start(ap, fmt);
    prefix = acme__vasprintf(fmt, ap);
    va_end(ap);
    if (prefix && (msg = acme__asprintf("%s: %s", prefix, (*err)->message))) {
        free((*err)->message);
        (*err)->message = msg;
    }
    free(prefix);
    return (*err)->code;
}

int acme_error_code_get(const acme_error *e)
{
    return e ? e->code : ACME_OK;
}

const char *acme_error_message(const acme_error *e)
{
    return e ? e->message : NULL;
}

int acme_error_http_status(const acme_error *e)
{
    return e ? e->http_status : 0;
}

const char *acme_error_problem_type(const acme_error *e)
{
    return e ? e->type : NULL;
}

const char *acme_error_detail(const acme_error *e)
{
    return e ? e->detail : NULL;
}

const char *acme_error_instance(const acme_error *e)
{
    return e ? e->instance : NULL;
}

int64_t acme_error_retry_after(const acme_error *e)
{
    return e ? e->retry_after : -1;
}

bool acme_error_retryable(const acme_error *e)
{
    return e ? e->retryable : false;
}

size_t acme_error_subproblem_count(const acme_error *e)
{
    return e ? e->nsub : 0;
}

int acme_error_subproblem(const acme_error *e, size_t i, const char **type, const char **detail,
                          const char **id_type, const char **id_value)
{
    if (!e || i >= e->nsub)
        return ACME_E_INVALID;
    if (type)
        *type = e->sub[i].type;
    if (detail)
        *detail = e->sub[i].detail;
    if (id_type)
        *id_type = e->sub[i].id_type;
    if (id_value)
        *id_value = e->sub[i].id_value;
    return ACME_OK;
}

static bool dup_field(char **dst, const char *src)
{
    if (!src) {
        *dst = NULL;
        return true;
    }
    return (*dst = strdup(src)) != NULL;
}

acme_error *acme_error_copy(const acme_error *e)
{
    acme_error *c;

    if (!e || !(c = calloc(1, sizeof(*c))))
        return NULL;
    c->code = e->code;
    c->http_status = e->http_status;
    c->retry_after = e->retry_after;
    c->retryable = e->retryable;
    if (!dup_field(&c->message, e->message) || !dup_field(&c->type, e->type) ||
        !dup_field(&c->detail, e->detail) || !dup_field(&c->instance, e->instance))
        goto fail;
    if (e->nsub) {
        if (!(c->sub = calloc(e->nsub, sizeof(*c->sub))))
            goto fail;
        c->nsub = e->nsub;
        for (size_t i = 0; i < e->nsub; i++)
            if (!dup_field(&c->sub[i].type, e->sub[i].type) ||
                !dup_field(&c->sub[i].detail, e->sub[i].detail) ||
                !dup_field(&c->sub[i].id_type, e->sub[i].id_type) ||
                !dup_field(&c->sub[i].id_value, e->sub[i].id_value))
                goto fail;
    }
    return c;
fail:
    acme_error_free(c);
    return NULL;
}

void acme_error_free(acme_error *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->nsub; i++) {
        free(e->sub[i].type);
        free(e->sub[i].detail);
        free(e->sub[i].id_type);
        free(e->sub[i].id_value);
    }
    free(e->sub);
    free(e->message);
    free(e->type);
    free(e->detail);
    free(e->instance);
    free(e);
}
