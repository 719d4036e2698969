/*
 * tests/support: scaffolding shared by the DNS provider unit tests
 * (tests/unit/dns.c, dnsp2.c, dnsp3.c): the check of a call's status and
 * error, and a log sink that keeps every line to look for secrets in.
 */
#ifndef LIBACME_TESTS_DNSMOCK_H
#define LIBACME_TESTS_DNSMOCK_H

#include <stddef.h>

#include <glib.h>

#include <acme/acme.h>

/*
 * Assert that @p rc is @p code and that *err is set exactly when it is an
 * error, with that code (printing the message on a mismatch).
 */
void dnsmock_expect(int rc, acme_error **err, int code);

/* Free *err and set it to NULL. */
void dnsmock_clear(acme_error **err);

/* Every log line (message and fields), under a mutex: the library logs from any thread. */
typedef struct dnsmock_log {
    GMutex lock;
    GString *text;
    unsigned int lines;
} dnsmock_log;

dnsmock_log *dnsmock_log_new(void);
void dnsmock_log_free(dnsmock_log *l);
/* An acme_log_fn: @p userdata is a dnsmock_log. */
void dnsmock_log_cb(void *userdata, acme_log_level level, const char *msg,
                    const acme_log_field *fields, size_t nfields);

/* Neither the error (message, detail) nor the log (each may be NULL) mention @p secret. */
void dnsmock_assert_no_secret(const acme_error *err, const dnsmock_log *l, const char *secret);

#endif /* LIBACME_TESTS_DNSMOCK_H */
