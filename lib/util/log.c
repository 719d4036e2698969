/*
 * util: logging through the application's callback.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/log.h"
#include "util/util.h"

const char *acme_log_level_name(acme_log_level level)
{
    switch (level) {
    case ACME_LOG_CRITICAL: return "critical";
    case ACME_LOG_ERROR: return "error";
    case ACME_LOG_WARNING: return "warning";
    case ACME_LOG_NOTICE: return "notice";
    case ACME_LOG_INFO: return "info";
    case ACME_LOG_DEBUG: return "debug";
    }
    return "unknown";
}

void acme__log(const acme__logger *lg, acme_log_level level, const acme_log_field *fields,
               size_t nfields, const char *fmt, ...)
{
    va_list ap;
    char *msg;

    if (!acme__log_enabled(lg, level))
        return;
    va_start(ap, fmt);
    msg = acme__vasprintf(fmt, ap);
    va_end(ap);
    if (!msg)
        return;
    lg->fn(lg->userdata, level, msg, fields, fields ? nfields : 0);
    free(msg);
}

void acme_log_stderr(void *userdata, acme_log_level level, const char *msg,
                     const acme_log_field *fields, size_t nfields)
{
    acme__buf b = ACME__BUF_INIT;

    (void)userdata;
    /* One write per line, so that lines of concurrent threads do not mix. */
    acme__buf_printf(&b, "libacme: %s: %s", acme_log_level_name(level), msg);
    for (size_t i = 0; i < nfields; i++)
        acme__buf_printf(&b, " %s=%s", fields[i].key, fields[i].value ? fields[i].value : "");
    acme__buf_puts(&b, "\n");
    if (b.data)
        fputs(b.data, stderr);
    acme__buf_clear(&b);
}
