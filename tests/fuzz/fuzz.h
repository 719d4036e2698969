/*
 * tests/fuzz: what the fuzz targets share.  Each fuzz-<name>.c defines
 * LLVMFuzzerTestOneInput(); it is linked either with libFuzzer (make fuzz,
 * clang only) or with replay.c, which feeds it the seed corpus and the
 * regression inputs in a plain `make check`.
 *
 * A target must be deterministic, keep no state between inputs other than
 * fixtures it builds once, free everything it allocates (leaks are
 * crashes to libFuzzer), and read the input only through @p data and
 * @p size: the buffer is exactly @p size bytes with no terminating NUL,
 * so that AddressSanitizer sees any read past its end.
 */
#ifndef ACME_TESTS_FUZZ_H
#define ACME_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <acme/error.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * An invariant the code under test promises (an error is set exactly when
 * a call fails, a normalised name validates, ...).  Breaking one is a bug
 * like a crash, so it aborts, which libFuzzer reports as a crash.
 */
#define FUZZ_CHECK(cond)                                                           \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__,   \
                    #cond);                                                        \
            abort();                                                               \
        }                                                                          \
    } while (0)

/*
 * The error contract of every fallible call (STYLE.md §5): ACME_OK or a
 * negative code, and an error object exactly when negative, carrying that
 * code and a message.  Frees @p err.
 */
static inline void fuzz_check_result(int rc, acme_error *err)
{
    FUZZ_CHECK(rc <= 0);
    FUZZ_CHECK((rc < 0) == (err != NULL));
    if (err) {
        FUZZ_CHECK(acme_error_code_get(err) == rc);
        FUZZ_CHECK(acme_error_message(err) != NULL);
    }
    acme_error_free(err);
}

/* The input as a NUL-terminated string (embedded NULs cut it short, as
 * they would a header line or a path); NULL when out of memory. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    if (s) {
        if (size)
            memcpy(s, data, size);
        s[size] = '\0';
    }
    return s;
}

#endif
