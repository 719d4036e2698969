/*
 * stores: internals shared by the store files and their unit tests.
 */
#ifndef ACME_STORES_STORE_H
#define ACME_STORES_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <acme/store.h>
#include <acme/sys/store.h>

/*
 * Whether one of @p sans (a certificate's subjectAltName entries) is
 * @p name, or a "*." wildcard that covers it.  ASCII case-insensitive.
 */
bool acme__name_covered(const char *name, const char *const *sans, size_t n);

/*
 * The write(2) the directory store uses, replaceable per store so that
 * tests can make a write fail half-way (a full disk, an I/O error) and
 * check that the old file survives.  @p fn NULL restores write(2).
 * Returns ACME_E_INVALID when @p store is not a directory store.
 * Not thread-safe: set it before the store is shared.
 */
typedef ssize_t acme__store_write_fn(int fd, const void *buf, size_t len);
int acme__store_dir_set_write_fn(acme_store *store, acme__store_write_fn *fn);

/* The ops table behind a store, to tell the built-in backends apart. */
const acme_store_ops *acme__store_ops(const acme_store *store);

#endif
