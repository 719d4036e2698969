/*
 * util: json-c helpers.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/i18n.h"
#include "util/json.h"
#include "util/util.h"

/* ACME objects are shallow; anything deeper than this is hostile. */
#define JSON_MAX_DEPTH 32

int acme__json_parse(json_object **out, const char *data, size_t len, const char *what,
                     acme_error **err)
{
    json_tokener *tok;
    json_object *o;
    enum json_tokener_error jerr;

    *out = NULL;
    if (!data || len == 0)
        return acme_error_set(err, ACME_E_PROTOCOL, _("empty %s document"), what);
    if (len > INT32_MAX)
        return acme_error_set(err, ACME_E_PROTOCOL, _("%s document too large"), what);
    if (!(tok = json_tokener_new_ex(JSON_MAX_DEPTH)))
        return acme_error_set(err, ACME_E_NOMEM, "%s", acme_strerror(ACME_E_NOMEM));
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    bool ended_early;

    o = json_tokener_parse_ex(tok, data, (int)len);
    jerr = json_tokener_get_error(tok);
    ended_early = jerr == json_tokener_success && json_tokener_get_parse_end(tok) < len;
    if (jerr == json_tokener_continue) {
        /* A bare number or literal ("1457018875") ends only at a delimiter:
         * the end of the input is one.  Anything unfinished stays so. */
        o = json_tokener_parse_ex(tok, " ", 1);
        jerr = json_tokener_get_error(tok);
    }
    if (ended_early) {
        /* Only white space may follow the value. */
        for (size_t i = json_tokener_get_parse_end(tok); i < len; i++)
            if (!strchr(" \t\r\n", data[i])) {
                json_object_put(o);
                json_tokener_free(tok);
                return acme_error_set(err, ACME_E_PROTOCOL,
                                      _("malformed %s document: trailing data"), what);
            }
    }
    if (jerr != json_tokener_success || !o) {
        const char *why = jerr == json_tokener_continue ? _("truncated")
                                                         : json_tokener_error_desc(jerr);

        json_object_put(o);
        json_tokener_free(tok);
        return acme_error_set(err, ACME_E_PROTOCOL, _("malformed %s document: %s"), what, why);
    }
    json_tokener_free(tok);
    *out = o;
    return ACME_OK;
}

const char *acme__json_str(json_object *o, const char *key)
{
    json_object *v;

    if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

bool acme__json_bool(json_object *o, const char *key, bool def)
{
    json_object *v;

    if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_boolean))
        return def;
    return json_object_get_boolean(v);
}

json_object *acme__json_obj(json_object *o, const char *key)
{
    json_object *v;

    if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_object))
        return NULL;
    return v;
}

json_object *acme__json_arr(json_object *o, const char *key)
{
    json_object *v;

    if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_array))
        return NULL;
    return v;
}

time_t acme__json_time(json_object *o, const char *key)
{
    const char *s = acme__json_str(o, key);
    time_t t;

    if (!s || acme__time_parse_rfc3339(s, &t) < 0)
        return 0;
    return t;
}

char *acme__json_dump(json_object *o)
{
    const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                          JSON_C_TO_STRING_NOSLASHESCAPE);

    return s ? strdup(s) : NULL;
}

int acme__json_strv(json_object *o, const char *key, char ***out, size_t *n)
{
    json_object *a = acme__json_arr(o, key);
    size_t len, k = 0;
    char **v;

    *out = NULL;
    *n = 0;
    if (!a)
        return ACME_OK;
    len = json_object_array_length(a);
    if (!(v = calloc(len ? len : 1, sizeof(*v))))
        return ACME_E_NOMEM;
    for (size_t i = 0; i < len; i++) {
        json_object *e = json_object_array_get_idx(a, i);

        if (!json_object_is_type(e, json_type_string))
            continue;
        if (!(v[k] = strdup(json_object_get_string(e)))) {
            acme_free_strv(v, k);
            return ACME_E_NOMEM;
        }
        k++;
    }
    *out = v;
    *n = k;
    return ACME_OK;
}

char *acme__json_quote(const char *s)
{
    json_object *o = json_object_new_string(s);
    char *out;

    if (!o)
        return NULL;
    out = acme__json_dump(o);
    json_object_put(o);
    return out;
}
