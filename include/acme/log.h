/*
 * libacme: logging.
 *
 * Logging is per object (client, service, ...), never process-global.
 * Messages are plain English (not translated) plus structured key=value
 * fields.  The library never logs private keys, JWS payloads or secrets.
 */
#ifndef ACME_LOG_H
#define ACME_LOG_H

#include <stddef.h>
#include <acme/common.h>

ACME_BEGIN_DECLS

/** Levels, in syslog's order of importance. */
typedef enum acme_log_level {
    ACME_LOG_CRITICAL = 2,
    ACME_LOG_ERROR    = 3,
    ACME_LOG_WARNING  = 4,
    ACME_LOG_NOTICE   = 5,
    ACME_LOG_INFO     = 6,
    ACME_LOG_DEBUG    = 7
} acme_log_level;

/** One structured field of a log message. */
typedef struct acme_log_field {
    const char *key;    /**< "name", "url", "status", ... */
    const char *value;  /**< never NULL */
} acme_log_field;

/**
 * A log callback.
 *
 * @param userdata  what the application registered with it
 * @param level     the message's level; the library calls only for levels
 *                  at or above the configured one
 * @param msg       the message (borrowed for the call)
 * @param fields    structured fields (borrowed for the call)
 * @param nfields   how many
 *
 * Thread safety: called from whichever library thread logs, possibly from
 * several at once: it must be MT-Safe.  It must not call back into the
 * object that logs.
 */
typedef void acme_log_fn(void *userdata, acme_log_level level, const char *msg,
                         const acme_log_field *fields, size_t nfields);

/**
 * The name of a level ("debug", "critical").
 * @return a static string.  Thread safety: MT-Safe.
 */
ACME_EXTERN const char *acme_log_level_name(acme_log_level level);

/**
 * A ready-made callback that writes one line per message to stderr:
 * `libacme: LEVEL: message key=value ...`.  @p userdata is ignored.
 * Thread safety: MT-Safe.
 */
ACME_EXTERN void acme_log_stderr(void *userdata, acme_log_level level, const char *msg,
                                 const acme_log_field *fields, size_t nfields);

ACME_END_DECLS

#endif /* ACME_LOG_H */
