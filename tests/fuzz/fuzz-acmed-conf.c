/*
 * tests/fuzz: the acmed configuration file (acmed.conf(5), INI read with
 * libinih) as acmed_config_load reads it, then the checks acmed runs on
 * it.  The input is handed over as a file without touching the disk: a
 * memfd, opened by its /proc/self/fd path.
 */
#include "config.h"

#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "../../bin/acmed/acmed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    acmed_config c, copy;
    acme_error *err = NULL;
    char path[64];
    int fd, rc;

    if ((fd = memfd_create("acmed.conf", MFD_CLOEXEC)) < 0)
        return 0;
    if (size && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    acmed_config_init(&c);
    rc = acmed_config_load(&c, path, true, &err);
    close(fd);
    fuzz_check_result(rc, err);
    if (rc == 0) {
        err = NULL;
        rc = acmed_config_check(&c, &err);
        fuzz_check_result(rc, err);
        /* A reload with the same file changes nothing that needs a restart. */
        acmed_config_copy(&copy, &c);
        FUZZ_CHECK(!acmed_config_needs_restart(&c, &copy));
        acmed_config_clear(&copy);
    }
    acmed_config_clear(&c);
    return 0;
}
