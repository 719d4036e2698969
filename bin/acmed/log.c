/*
 * acmed: logging to stderr or syslog, with a level.
 *
 * libacme logs through a callback (acme_log_fn) with key=value fields;
 * acmed's own messages go the same way, so both read alike.  On stderr
 * each line is "acmed: LEVEL: message key=value ..." (journald adds the
 * time); with syslog the level maps to the syslog priority of the same
 * number (libacme's levels are syslog's).
 */
#include "acmed.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static bool log_syslog;                       /* guarded by log_lock */
static acme_log_level log_level = ACME_LOG_NOTICE; /* guarded by log_lock */

void acmed_log_setup(bool use_syslog, acme_log_level level)
{
    pthread_mutex_lock(&log_lock);
    if (use_syslog && !log_syslog)
        openlog("acmed", LOG_PID, LOG_DAEMON);
    else if (!use_syslog && log_syslog)
        closelog();
    log_syslog = use_syslog;
    log_level = level;
    pthread_mutex_unlock(&log_lock);
}

void acmed_log_set_level(acme_log_level level)
{
    pthread_mutex_lock(&log_lock);
    log_level = level;
    pthread_mutex_unlock(&log_lock);
}

acme_log_level acmed_log_get_level(void)
{
    acme_log_level l;

    pthread_mutex_lock(&log_lock);
    l = log_level;
    pthread_mutex_unlock(&log_lock);
    return l;
}

bool acmed_log_level_parse(const char *s, acme_log_level *out)
{
    static const struct { const char *name; acme_log_level l; } levels[] = {
        { "critical", ACME_LOG_CRITICAL }, { "crit", ACME_LOG_CRITICAL },
        { "error", ACME_LOG_ERROR },       { "err", ACME_LOG_ERROR },
        { "warning", ACME_LOG_WARNING },   { "warn", ACME_LOG_WARNING },
        { "notice", ACME_LOG_NOTICE },     { "info", ACME_LOG_INFO },
        { "debug", ACME_LOG_DEBUG },
    };

    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
        if (strcasecmp(s, levels[i].name) == 0) {
            *out = levels[i].l;
            return true;
        }
    return false;
}

void acmed_log_fn(void *userdata, acme_log_level level, const char *msg,
                  const acme_log_field *fields, size_t nfields)
{
    char line[2048];
    size_t len;

    (void)userdata;
    if (level > acmed_log_get_level())
        return;
    len = (size_t)snprintf(line, sizeof(line), "%s", msg);
    for (size_t i = 0; i < nfields && len < sizeof(line); i++) {
        const char *v = fields[i].value ? fields[i].value : "";
        /* Quote values with blanks so that lines stay machine-readable. */
        bool quote = strpbrk(v, " \t\"") != NULL || !*v;

        len += (size_t)snprintf(line + len, sizeof(line) - len, quote ? " %s=\"%s\"" : " %s=%s",
                                fields[i].key, v);
    }
    pthread_mutex_lock(&log_lock);
    if (log_syslog)
        syslog((int)level, "%s", line);
    else
        fprintf(stderr, "acmed: %s: %s\n", acme_log_level_name(level), line);
    pthread_mutex_unlock(&log_lock);
}

void acmed_log(acme_log_level level, const char *fmt, ...)
{
    char msg[1536];
    va_list ap;

    if (level > acmed_log_get_level())
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    acmed_log_fn(NULL, level, msg, NULL, 0);
}
