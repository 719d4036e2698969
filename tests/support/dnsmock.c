/*
 * tests/support: scaffolding shared by the DNS provider unit tests (see
 * dnsmock.h).  Layer: tests only.
 */
#include "config.h"

#include <string.h>

#include "support/dnsmock.h"

void dnsmock_expect(int rc, acme_error **err, int code)
{
    if (rc != code)
        g_printerr("got %s: %s\n", acme_status_name(rc) ? acme_status_name(rc) : "?",
                   *err ? acme_error_message(*err) : "-");
    g_assert_cmpstr(acme_status_name(rc), ==, acme_status_name(code));
    if (code == ACME_OK) {
        g_assert_null(*err);
    } else {
        g_assert_nonnull(*err);
        g_assert_cmpint(acme_error_code_get(*err), ==, code);
    }
}

void dnsmock_clear(acme_error **err)
{
    acme_error_free(*err);
    *err = NULL;
}

dnsmock_log *dnsmock_log_new(void)
{
    dnsmock_log *l = g_new0(dnsmock_log, 1);

    g_mutex_init(&l->lock);
    l->text = g_string_new(NULL);
    return l;
}

void dnsmock_log_free(dnsmock_log *l)
{
    g_string_free(l->text, TRUE);
    g_mutex_clear(&l->lock);
    g_free(l);
}

void dnsmock_log_cb(void *userdata, acme_log_level level, const char *msg,
                    const acme_log_field *fields, size_t nfields)
{
    dnsmock_log *l = userdata;

    (void)level;
    g_mutex_lock(&l->lock);
    g_string_append(l->text, msg ? msg : "");
    for (size_t i = 0; i < nfields; i++)
        g_string_append_printf(l->text, " %s=%s", fields[i].key ? fields[i].key : "",
                               fields[i].value ? fields[i].value : "");
    g_string_append_c(l->text, '\n');
    l->lines++;
    g_mutex_unlock(&l->lock);
}

void dnsmock_assert_no_secret(const acme_error *err, const dnsmock_log *l, const char *secret)
{
    if (err) {
        g_assert_null(strstr(acme_error_message(err), secret));
        if (acme_error_detail(err))
            g_assert_null(strstr(acme_error_detail(err), secret));
    }
    if (l)
        g_assert_null(strstr(l->text->str, secret));
}
