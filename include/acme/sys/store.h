/*
 * libacme: the store vtable, for implementers of certificate stores.
 *
 * Not included by <acme/acme.h>.  See libacme-store(3).
 *
 * A store backend is a `static const acme_store_ops` table plus a state
 * pointer (`self`) that belongs to the backend.  acme_store_new() wraps
 * them into an acme_store, which applications use through <acme/store.h>
 * exactly like the built-in directory and memory stores.
 *
 * What the library does before calling a backend, so that backends need
 * not: it checks every server name with acme_name_validate() (a backend
 * may use the name in a path or a query as it is), checks that a bundle
 * given to put is complete and covers the name or is an issue request,
 * and checks the backend's results (a get that returns ACME_OK with no
 * bundle, or an error code with no error object, is turned into a clear
 * error).
 *
 * Threads.  The ops are called on the thread that makes the matching
 * acme_store_* call: application threads, and later the issuing service's
 * scheduler and worker threads and the TLS endpoint's handshake threads.
 * Calls overlap unless the table sets ACME_OPS_F_SERIALIZE, in which case
 * the library holds one mutex per store around every get, put and list.
 * lock and unlock are never serialised (lock blocks until another thread
 * or process unlocks), so they must be MT-Safe themselves.  A backend
 * must not call acme_store_* on its own store from inside an op.
 *
 * Errors.  An op returns ACME_OK or a negative ACME_E_* code and sets
 * *err with acme_error_set() (<acme/sys/error.h>).  Meanings the library
 * relies on: ACME_E_NOTFOUND from get means "no entry for this name" (the
 * service then treats the name as unknown, not as broken); ACME_E_INVALID
 * means the stored data is unusable; ACME_E_IO and ACME_E_NETWORK mean
 * "try again later".
 */
#ifndef ACME_SYS_STORE_H
#define ACME_SYS_STORE_H

#include <stddef.h>
#include <acme/common.h>
#include <acme/error.h>
#include <acme/store.h>

ACME_BEGIN_DECLS

/** The current version of acme_store_ops. */
#define ACME_STORE_OPS_VERSION 1

/** Flag: the library serialises get, put and list of the backend (one mutex per store). */
#define ACME_OPS_F_SERIALIZE (1u << 0)

/**
 * What a store implements.  Keep it `static const` and use designated
 * initialisers; the library borrows it for the store's lifetime.  Members
 * are only ever appended, and `version` says which ones the table has.
 */
typedef struct acme_store_ops {
    unsigned int version;  /**< ACME_STORE_OPS_VERSION; always the first member */
    const char *name;      /**< "dir", "memory", ...: used in logs and errors */
    unsigned int flags;    /**< ACME_OPS_F_SERIALIZE or 0 */

    /**
     * Look @p name up.  Required.
     *
     * On ACME_OK set *out to a bundle the caller will own: one made with
     * the acme_bundle_* constructors, or acme_bundle_dup() of one the
     * backend keeps.  An entry that asks for issuance is returned as an
     * issue request (acme_bundle_new_request()).  Return ACME_E_NOTFOUND
     * when there is no entry.
     *
     * @p name is valid and borrowed for the call.
     */
    int (*get)(void *self, const char *name, acme_bundle **out, acme_error **err);

    /**
     * Store @p bundle for @p name, replacing any entry.  Required.
     *
     * @p bundle is borrowed for the call: keep acme_bundle_dup() of it or
     * a serialised copy (acme_bundle_to_pem()).  It is complete and covers
     * @p name, or it is an issue request.  A failed put must leave the
     * previous entry as it was.
     */
    int (*put)(void *self, const char *name, const acme_bundle *bundle, acme_error **err);

    /**
     * Every name with an entry.  Required.
     *
     * Set *names to an array of *n strings allocated with malloc() (the
     * caller frees them with acme_free_strv()), or NULL and 0.  The
     * library sorts the result and drops names that fail
     * acme_name_validate() and duplicates.
     */
    int (*list)(void *self, char ***names, size_t *n, acme_error **err);

    /**
     * Take the lock for @p name, blocking until it is held.  Optional
     * (NULL: acme_store_lock() returns ACME_E_NOTSUP); lock and unlock are
     * both set or both NULL.
     */
    int (*lock)(void *self, const char *name, acme_error **err);

    /** Release the lock taken by lock.  Optional, see lock. */
    void (*unlock)(void *self, const char *name);

    /** Release @p self.  Optional; called once, by acme_store_free(). */
    void (*destroy)(void *self);
} acme_store_ops;

/**
 * Wrap @p ops and @p self into a store.
 *
 * @param out   the new store
 * @param ops   the vtable; borrowed for the store's lifetime
 * @param self  the backend's state, handed to every op
 * @return ACME_OK; ACME_E_INVALID when @p ops is NULL, lacks get, put or
 *         list, sets only one of lock and unlock, has version 0, or a
 *         version newer than ACME_STORE_OPS_VERSION of this library;
 *         ACME_E_NOMEM.
 * Ownership: *out owns @p self from here on (destroy is called by
 * acme_store_free()), also when this call fails.
 * Thread safety: MT-Safe.
 */
ACME_EXTERN int acme_store_new(acme_store **out, const acme_store_ops *ops, void *self,
                               acme_error **err);

/** The state passed to acme_store_new(); borrowed.  Thread safety: MT-Safe. */
ACME_EXTERN void *acme_store_self(const acme_store *store);

ACME_END_DECLS

#endif /* ACME_SYS_STORE_H */
