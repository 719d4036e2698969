/*
 * util: json-c helpers.  Only lib/util/json* and lib/client/ see json-c.
 */
#ifndef ACME_UTIL_JSON_H
#define ACME_UTIL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <json-c/json.h>

#include <acme/error.h>

/*
 * Parse @p len bytes of JSON.  The whole input must be one JSON value
 * (trailing garbage is an error); nesting depth is bounded.  Errors are
 * ACME_E_PROTOCOL with @p what ("order", "directory") in the message.
 */
int acme__json_parse(json_object **out, const char *data, size_t len, const char *what,
                     acme_error **err);

/* Member @p key of object @p o as a string, or NULL when absent or not a string. */
const char *acme__json_str(json_object *o, const char *key);
/* Member as a boolean; @p def when absent or not a boolean. */
bool acme__json_bool(json_object *o, const char *key, bool def);
/* Member as an object or array, or NULL. */
json_object *acme__json_obj(json_object *o, const char *key);
json_object *acme__json_arr(json_object *o, const char *key);
/* Member as an RFC 3339 time; 0 when absent or malformed. */
time_t acme__json_time(json_object *o, const char *key);
/* Serialise without spaces; NULL on out of memory.  Free with free(). */
char *acme__json_dump(json_object *o);
/* Copy an array of strings member; non-strings are skipped. */
int acme__json_strv(json_object *o, const char *key, char ***out, size_t *n);
/* Quote a string as a JSON string literal (with the quotes). */
char *acme__json_quote(const char *s);

#endif
