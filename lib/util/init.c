/*
 * util: library initialisation, version, and memory release.
 *
 * acme_global_init() is reference counted; the first call initialises
 * GnuTLS (through the crypto layer), libcurl (through the transport layer)
 * and binds the library's text domain.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>

#include <acme/common.h>
#include <acme/error.h>
#include <acme/version.h>

#include "util/i18n.h"
#include "util/init.h"

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned int init_count; /* guarded by init_lock */

const char *acme_version(void)
{
    return PACKAGE_VERSION;
}

int acme_global_init(void)
{
    int rc = ACME_OK;

    pthread_mutex_lock(&init_lock);
    if (init_count == 0) {
#if ENABLE_NLS
        bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
        bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
#endif
        if ((rc = acme__crypto_global_init()) == ACME_OK &&
            (rc = acme__transport_global_init()) != ACME_OK)
            acme__crypto_global_cleanup();
    }
    if (rc == ACME_OK)
        init_count++;
    pthread_mutex_unlock(&init_lock);
    return rc;
}

void acme_global_cleanup(void)
{
    pthread_mutex_lock(&init_lock);
    if (init_count > 0 && --init_count == 0) {
        acme__transport_global_cleanup();
        acme__crypto_global_cleanup();
    }
    pthread_mutex_unlock(&init_lock);
}
