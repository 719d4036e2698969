/*
 * libacme: certificate stores and the bundles they hold.
 *
 * A store maps a server name to a bundle: exactly one private key, the
 * certificate for that key, and zero or more chain certificates (what
 * txacme calls the "PEM objects" of a name).  A bundle may instead be an
 * issue request: no key and no certificate, only the names it asks for
 * (an empty `<name>.pem` in a directory store).
 *
 * Built-in stores: a directory store in the layout txsni and txacme use,
 * and a memory store.  Applications write their own with
 * <acme/sys/store.h>; they are used through the same calls.
 *
 * Server names.  Every call that takes a server name checks it with
 * acme_name_validate() before the backend sees it: a lowercase DNS name
 * (IDN names in their A-label form, "xn--...") or an IP address literal in
 * its canonical text form.  See libacme-store(3).
 */
#ifndef ACME_STORE_H
#define ACME_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <acme/common.h>
#include <acme/error.h>
#include <acme/crypto.h>

ACME_BEGIN_DECLS

/* ------------------------------------------------------------------ */
/* Server names                                                        */
/* ------------------------------------------------------------------ */

/** The longest server name a store accepts (RFC 1035 §2.3.4, without the root dot). */
#define ACME_NAME_MAX 253

/**
 * Check that @p name can be a store key (and so a file name): a DNS name
 * of LDH labels (letters, digits, hyphens; 1 to 63 characters, no hyphen
 * first or last, no "--" in the third and fourth places except in an
 * "xn--" A-label), at most ACME_NAME_MAX characters, all lowercase, no
 * trailing dot; or an IPv4 or IPv6 literal in canonical text form
 * ("192.0.2.1", "2001:db8::1").  This refuses "..", "/", NUL, empty
 * labels, white space, wildcards ("*.") and non-ASCII (U-label) input.
 *
 * @param name  the name (NUL-terminated)
 * @return ACME_OK; ACME_E_INVALID with a message saying what is wrong.
 * Thread safety: MT-Safe.
 */
ACME_EXTERN int acme_name_validate(const char *name, acme_error **err);

/**
 * The canonical form of @p name: an internationalised name (UTF-8
 * U-labels) converted to its A-labels (IDNA2008 with the UTS #46
 * mapping, through GnuTLS and libidn2: "Bücher.example" becomes
 * "xn--bcher-kva.example"), ASCII letters lowercased, a trailing dot
 * dropped, an IP literal rewritten in canonical form; then checked with
 * acme_name_validate().
 *
 * @param out   the canonical name
 * @param name  the name as a person or a TLS client wrote it
 * @return ACME_OK; ACME_E_INVALID (also for bad UTF-8 and names IDNA2008
 *         disallows); ACME_E_NOTSUP when GnuTLS was built without libidn2
 *         and the name is not ASCII; ACME_E_NOMEM.
 * Ownership: the caller frees *out with acme_free().
 * Thread safety: MT-Safe.
 */
ACME_EXTERN int acme_name_normalize(char **out, const char *name, acme_error **err);

/* ------------------------------------------------------------------ */
/* Bundles                                                             */
/* ------------------------------------------------------------------ */

/**
 * What a store holds for one name; opaque and immutable once made, so
 * several threads may read one bundle at the same time.
 *
 * A complete bundle has a key, the certificate for it (the leaf) and the
 * chain.  An issue request has none of them.  Both carry a list of names:
 * for a complete bundle the leaf's subjectAltName entries, for a request
 * the names it asks for.  The issuing service reads that list to know
 * which identifiers an entry wants in its next certificate.
 */
typedef struct acme_bundle acme_bundle;

/**
 * A complete bundle from a key and a PEM chain, leaf first (as RFC 8555
 * §7.4.2 downloads it).
 *
 * @param out        the new bundle
 * @param key        the private key of the leaf
 * @param chain_pem  "CERTIFICATE" blocks, leaf first; other blocks refused
 * @param len        length of @p chain_pem
 * @return ACME_OK; ACME_E_INVALID when there is no certificate, a block
 *         is damaged or is not a certificate, or @p key does not match the
 *         leaf; ACME_E_NOMEM.
 * Ownership: the caller frees *out with acme_bundle_free().  @p key is
 * not taken: the bundle keeps its own reference.
 * Thread safety: MT-Safe.
 */
ACME_EXTERN int acme_bundle_new(acme_bundle **out, const acme_key *key, const char *chain_pem,
                                size_t len, acme_error **err);

/**
 * Parse the contents of a txsni/txacme `<name>.pem` file: exactly one
 * private key block ("PRIVATE KEY", "RSA PRIVATE KEY" or "EC PRIVATE
 * KEY") and one or more "CERTIFICATE" blocks, in any order.  The
 * certificate whose public key matches the key is the leaf; the others
 * form the chain, in file order (as txsni serves them).  Text outside PEM
 * blocks is ignored.
 *
 * @param out  the new bundle
 * @param pem  the file contents
 * @param len  their length
 * @return ACME_OK; ACME_E_INVALID for empty input, no key or two keys, an
 *         encrypted key, no certificate matching the key, any other kind
 *         of block, or a damaged block; ACME_E_NOTSUP for a key type
 *         libacme does not handle; ACME_E_NOMEM.
 * Ownership: the caller frees *out with acme_bundle_free().
 * Thread safety: MT-Safe.
 */
ACME_EXTERN int acme_bundle_from_pem(acme_bundle **out, const char *pem, size_t len,
                                     acme_error **err);

/**
 * An issue request for @p names (at least one, each valid by
 * acme_name_validate(), no duplicates).
 *
 * @return ACME_OK; ACME_E_INVALID; ACME_E_NOMEM.
 * Ownership: the caller frees *out with acme_bundle_free(); the names are
 * copied.
 * Thread safety: MT-Safe.
 */
ACME_EXTERN int acme_bundle_new_request(acme_bundle **out, const char *const *names,
                                        size_t nnames, acme_error **err);

/**
 * The bundle as the text of a txsni `<name>.pem` file: key, leaf, then
 * chain, PEM.  An issue request gives "" (an empty file).  A "PRIVATE
 * KEY" or "RSA PRIVATE KEY" block read from PEM is written back as it was
 * read (a txacme RSA key stays one); any other key, an "EC PRIVATE KEY"
 * included, is written as PKCS#8 ("PRIVATE KEY"), because txacme's PEM
 * parser drops "EC PRIVATE KEY" blocks.
 *
 * @return ACME_OK; ACME_E_CRYPTO; ACME_E_NOMEM.
 * Ownership: the caller frees *out with acme_free().  It holds a private
 * key: wipe it before freeing.
 * Thread safety: MT-Safe.
 */
ACME_EXTERN int acme_bundle_to_pem(char **out, const acme_bundle *bundle, acme_error **err);

/**
 * Whether @p bundle is an issue request (no key, no certificate).
 * Thread safety: MT-Safe.
 */
ACME_EXTERN bool acme_bundle_wants_issue(const acme_bundle *bundle);

/**
 * The private key, or NULL for an issue request.
 * Ownership: borrowed until the bundle is freed.  Thread safety: MT-Safe.
 */
ACME_EXTERN const acme_key *acme_bundle_key(const acme_bundle *bundle);

/**
 * The certificate for the key (the leaf), or NULL for an issue request.
 * Ownership: borrowed until the bundle is freed.  Thread safety: MT-Safe.
 */
ACME_EXTERN const acme_cert *acme_bundle_cert(const acme_bundle *bundle);

/**
 * The whole chain, leaf first, or NULL for an issue request.
 * Ownership: borrowed until the bundle is freed.  Thread safety: MT-Safe.
 */
ACME_EXTERN const acme_chain *acme_bundle_chain(const acme_bundle *bundle);

/**
 * The names of the entry: the leaf's subjectAltName entries as the
 * certificate holds them, or the names an issue request asks for.
 *
 * @param n  set to the count (0 for a certificate without SANs)
 * @return borrowed array, valid until the bundle is freed.
 * Thread safety: MT-Safe.
 */
ACME_EXTERN const char *const *acme_bundle_names(const acme_bundle *bundle, size_t *n);

/**
 * Another handle on the same bundle (bundles are immutable and reference
 * counted, so this copies nothing).  A store backend returns one from get
 * when it keeps the bundle itself.
 *
 * @return @p bundle, or NULL when @p bundle is NULL.
 * Ownership: the caller frees the result with acme_bundle_free().
 * Thread safety: MT-Safe.
 */
ACME_EXTERN acme_bundle *acme_bundle_dup(const acme_bundle *bundle);

/** Release one handle on a bundle (NULL-safe).  Thread safety: MT-Safe. */
ACME_EXTERN void acme_bundle_free(acme_bundle *bundle);

/* ------------------------------------------------------------------ */
/* Stores                                                              */
/* ------------------------------------------------------------------ */

/** A certificate store; opaque.  Backends: <acme/sys/store.h>. */
typedef struct acme_store acme_store;

/**
 * Open a directory store at @p path, in the layout of txsni and txacme:
 *
 *  - `<server name>.pem`: key, certificate and chain, PEM;
 *  - an empty (or blank) `<server name>.pem`: "please issue";
 *  - `client.key`: the ACME account key (acme_store_dir_account_key());
 *  - every other name is reserved and ignored (txsni's `DEFAULT.pem`,
 *    temporary files, names that fail acme_name_validate()).
 *
 * The directory is created (mode 0700) when missing; its parent must
 * exist.  Writes go to a temporary file in the same directory, which is
 * written, fsync'd and renamed over the old file, and then the directory
 * is fsync'd: a reader sees the old file or the new one, never a part,
 * and a failed write leaves the old file whole.  Files are mode 0600.
 *
 * @return ACME_OK; ACME_E_NOTFOUND when the parent is missing;
 *         ACME_E_IO when @p path is not a directory or cannot be opened;
 *         ACME_E_NOMEM.
 * Ownership: the caller frees *out with acme_store_free(); @p path is
 * copied (the store keeps the directory open).
 * Thread safety: MT-Safe.  The store is MT-Safe: its calls may overlap.
 */
ACME_EXTERN int acme_store_dir_new(acme_store **out, const char *path, acme_error **err);

/**
 * The account key of a directory store, from its `client.key`.  A missing
 * file is created with a new EC P-256 key (PKCS#8, mode 0600, written
 * atomically; when two processes race, both end up with the key that was
 * written first).  An existing key of any supported type is used as it
 * is: the RSA `client.key` txacme made keeps working.
 *
 * @param out    the key
 * @param store  a store made by acme_store_dir_new()
 * @return ACME_OK; ACME_E_NOTSUP when @p store is not a directory store or
 *         the key type is not supported; ACME_E_INVALID when `client.key`
 *         exists but holds no usable key; ACME_E_IO; ACME_E_CRYPTO.
 * Ownership: the caller frees *out with acme_key_free().
 * Thread safety: MT-Safe.
 */
ACME_EXTERN int acme_store_dir_account_key(acme_key **out, acme_store *store, acme_error **err);

/**
 * A store that keeps bundles in memory (txacme's testing MemoryStore):
 * nothing survives acme_store_free().
 *
 * @return ACME_OK; ACME_E_NOMEM.
 * Ownership: the caller frees *out with acme_store_free().
 * Thread safety: MT-Safe.  The store is MT-Safe: its calls may overlap.
 */
ACME_EXTERN int acme_store_memory_new(acme_store **out, acme_error **err);

/**
 * The bundle stored for @p name.
 *
 * @param out    the bundle (a complete one, or an issue request)
 * @param store  the store
 * @param name   a server name (acme_name_validate())
 * @return ACME_OK; ACME_E_NOTFOUND when the store has no entry for
 *         @p name; ACME_E_INVALID for a bad name or an entry that cannot
 *         be parsed (the message names the file); ACME_E_IO; ACME_E_NOMEM;
 *         or whatever an application backend returns.
 * Ownership: the caller frees *out with acme_bundle_free().
 * Thread safety: MT-Safe.
 */
ACME_EXTERN int acme_store_get(acme_bundle **out, acme_store *store, const char *name,
                               acme_error **err);

/**
 * Store @p bundle for @p name, replacing what was there.
 *
 * Only a complete bundle whose certificate covers @p name (one of its
 * subjectAltName entries equals it, or is a wildcard matching it), or an
 * issue request, is accepted.  For a directory store the write is atomic.
 *
 * @param store   the store
 * @param name    a server name (acme_name_validate())
 * @param bundle  what to store
 * @return ACME_OK; ACME_E_INVALID for a bad name or a bundle that does
 *         not cover it; ACME_E_IO when writing fails (the old entry is
 *         left as it was); ACME_E_NOMEM.
 * Ownership: @p bundle is not taken; stores keep their own handle or copy.
 * Thread safety: MT-Safe.  Two puts for one name at once both succeed;
 * the one that finishes last wins, whole.
 */
ACME_EXTERN int acme_store_put(acme_store *store, const char *name, const acme_bundle *bundle,
                               acme_error **err);

/**
 * Every name the store holds an entry for (issue requests included),
 * sorted in strcmp() order.
 *
 * @param names  set to the array (NULL when there is none)
 * @param n      set to its length
 * @return ACME_OK; ACME_E_IO; ACME_E_NOMEM.
 * Ownership: the caller frees *names with acme_free_strv(*names, *n).
 * Thread safety: MT-Safe.
 */
ACME_EXTERN int acme_store_list(char ***names, size_t *n, acme_store *store, acme_error **err);

/**
 * Take the store's lock for @p name, for stores shared between processes
 * or hosts (so that one of them issues while the others wait).  Blocks
 * until the lock is held.
 *
 * @return ACME_OK; ACME_E_NOTSUP when the backend has no locks (the
 *         built-in stores have none); ACME_E_INVALID for a bad name; or
 *         the backend's error.
 * Thread safety: MT-Safe.
 */
ACME_EXTERN int acme_store_lock(acme_store *store, const char *name, acme_error **err);

/**
 * Release the lock acme_store_lock() took for @p name.  Does nothing for
 * a backend without locks.
 * Thread safety: MT-Safe.
 */
ACME_EXTERN void acme_store_unlock(acme_store *store, const char *name);

/**
 * The backend's name ("dir", "memory", or what an application set).
 * @return a borrowed string.  Thread safety: MT-Safe.
 */
ACME_EXTERN const char *acme_store_backend(const acme_store *store);

/**
 * Free a store: the backend's destroy runs once (NULL-safe).  No other
 * call on @p store may be running or be made afterwards.
 * Thread safety: MT-Safe per object.
 */
ACME_EXTERN void acme_store_free(acme_store *store);

ACME_END_DECLS

#endif /* ACME_STORE_H */
