/*
 * libacme: common definitions shared by every public header.
 *
 * Export macro, C++ guards, memory release and library initialisation.
 */
#ifndef ACME_COMMON_H
#define ACME_COMMON_H

#include <stddef.h>

#ifdef __cplusplus
# define ACME_BEGIN_DECLS extern "C" {
# define ACME_END_DECLS }
#else
# define ACME_BEGIN_DECLS
# define ACME_END_DECLS
#endif

#if defined(__GNUC__) && __GNUC__ >= 4
# define ACME_EXTERN __attribute__((visibility("default")))
#else
# define ACME_EXTERN
#endif

ACME_BEGIN_DECLS

/** Status returned by every fallible call: 0 on success, negative ACME_E_* on failure. */
#define ACME_OK 0

/**
 * Release memory that the library returned as `char *` or `char **` arrays.
 *
 * @param p  what the library returned (NULL is allowed)
 *
 * Ownership: takes @p p.
 * Thread safety: MT-Safe.
 */
ACME_EXTERN void acme_free(void *p);

/**
 * Release an array of strings returned by the library, and each string in it.
 *
 * @param v  the array
 * @param n  how many strings it holds
 *
 * Thread safety: MT-Safe.
 */
ACME_EXTERN void acme_free_strv(char **v, size_t n);

/**
 * Initialise the library: GnuTLS, libcurl and the text domain.
 *
 * Reference counted: each successful call needs one acme_global_cleanup().
 * Every other call of the library may be made only between the two.
 *
 * @return ACME_OK, or ACME_E_TLS / ACME_E_NETWORK / ACME_E_NOMEM when a
 *         dependency fails to initialise.
 *
 * Thread safety: MT-Unsafe init: call it from the main thread before
 * starting threads that use the library (libcurl's global init is not
 * thread-safe on every platform).
 */
ACME_EXTERN int acme_global_init(void);

/**
 * Undo one acme_global_init(); the last call releases global state.
 *
 * Thread safety: MT-Unsafe init.
 */
ACME_EXTERN void acme_global_cleanup(void);

ACME_END_DECLS

#endif /* ACME_COMMON_H */
