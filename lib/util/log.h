/*
 * util: the per-object logger every layer writes to.
 */
#ifndef ACME_UTIL_LOG_H
#define ACME_UTIL_LOG_H

#include <stdbool.h>
#include <acme/log.h>

typedef struct acme__logger {
    acme_log_fn *fn;        /* NULL: silent */
    void *userdata;
    acme_log_level level;   /* messages at or above it (numerically <=) are sent */
} acme__logger;

/* Whether a message at @p level would be sent: check before formatting. */
static inline bool acme__log_enabled(const acme__logger *lg, acme_log_level level)
{
    return lg && lg->fn && level <= lg->level;
}

/* Log a printf-formatted message with structured fields (may be NULL, 0). */
void acme__log(const acme__logger *lg, acme_log_level level, const acme_log_field *fields,
               size_t nfields, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#define ACME__LOGF(lg, level, ...) \
    do { \
        if (acme__log_enabled((lg), (level))) \
            acme__log((lg), (level), NULL, 0, __VA_ARGS__); \
    } while (0)

#endif
