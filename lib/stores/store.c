/*
 * stores: the store vtable wrapper (acme_store) and bundles (acme_bundle).
 *
 * The wrapper is the one place that checks what crosses the vtable:
 * versions, server names going in, bundles going in, and results coming
 * back, so that the built-in backends and application backends get the
 * same guarantees.  Bundles follow the txsni/txacme rule for a `.pem`
 * file: one private key, the certificate for it, zero or more chain
 * certificates, nothing else.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <acme/crypto.h>
#include <acme/store.h>
#include <acme/sys/error.h>
#include <acme/sys/store.h>

#include "crypto/crypto.h"
#include "stores/store.h"
#include "util/error.h"
#include "util/i18n.h"
#include "util/util.h"

/* ------------------------------------------------------------------ */
/* Bundles                                                             */
/* ------------------------------------------------------------------ */

struct acme_bundle {
    unsigned int refs;  /* atomic: bundles are immutable and shared */
    acme_key *key;      /* NULL for an issue request */
    char *key_pem;      /* the key block as read (a secret), or NULL: save as PKCS#8 */
    acme_chain *chain;  /* leaf first; NULL for an issue request */
    char **names;       /* SANs of the leaf, or the names a request asks for */
    size_t nnames;
};

/* One "-----BEGIN label-----" ... "-----END label-----" block of a PEM text. */
typedef struct pem_block {
    const char *label;
    size_t label_len;
    const char *text;  /* from "-----BEGIN" to the end of the END line */
    size_t len;
} pem_block;

static bool label_is(const pem_block *b, const char *label)
{
    return b->label_len == strlen(label) && memcmp(b->label, label, b->label_len) == 0;
}

/* The next line of @p s from *pos: its start and length without "\r\n". */
static bool next_line(const char *s, size_t len, size_t *pos, const char **line, size_t *n)
{
    const char *nl;

    if (*pos >= len)
        return false;
    *line = s + *pos;
    nl = memchr(*line, '\n', len - *pos);
    *n = nl ? (size_t)(nl - *line) : len - *pos;
    *pos += *n + (nl ? 1 : 0);
    if (*n > 0 && (*line)[*n - 1] == '\r')
        (*n)--;
    return true;
}

static bool is_armor(const char *line, size_t n, const char *kind, size_t *label_off,
                     size_t *label_len)
{
    size_t k = strlen(kind);

    if (n < k + 5 || memcmp(line, kind, k) != 0 || memcmp(line + n - 5, "-----", 5) != 0)
        return false;
    *label_off = k;
    *label_len = n - k - 5;
    return true;
}

/*
 * The next PEM block from *pos (RFC 7468 §2).  Returns 1 with @p blk set,
 * 0 at the end, or a negative code for a block without its END line.
 * Text between blocks is skipped, as every PEM reader does.
 */
static int pem_next(const char *s, size_t len, size_t *pos, pem_block *blk, acme_error **err)
{
    const char *line;
    size_t n, off, llen;

    while (next_line(s, len, pos, &line, &n)) {
        if (!is_armor(line, n, "-----BEGIN ", &off, &llen))
            continue;
        blk->label = line + off;
        blk->label_len = llen;
        blk->text = line;
        while (next_line(s, len, pos, &line, &n)) {
            size_t eoff, elen;

            if (is_armor(line, n, "-----BEGIN ", &eoff, &elen))
                break;
            if (is_armor(line, n, "-----END ", &eoff, &elen)) {
                if (elen != llen || memcmp(line + eoff, blk->label, llen) != 0)
                    break;
                blk->len = (size_t)(line + n - blk->text);
                return 1;
            }
        }
        return acme_error_set(err, ACME_E_INVALID, _("PEM block \"%.*s\" has no matching END line"),
                              (int)llen, blk->label);
    }
    return 0;
}

static acme_bundle *bundle_alloc(void)
{
    acme_bundle *b = calloc(1, sizeof(*b));

    if (b)
        b->refs = 1;
    return b;
}

static void bundle_destroy(acme_bundle *b)
{
    acme_key_free(b->key);
    acme__free_secret(b->key_pem);
    acme_chain_free(b->chain);
    acme_free_strv(b->names, b->nnames);
    free(b);
}

/* Copy the leaf's SANs into the bundle's name list. */
static int bundle_take_sans(acme_bundle *b, acme_error **err)
{
    size_t n = 0;
    const char *const *sans = acme_cert_sans(acme_chain_get(b->chain, 0), &n);

    if (n == 0)
        return ACME_OK;
    b->names = acme__strv_dup(sans, n);
    if (!b->names)
        return acme_error_set(err, ACME_E_NOMEM, _("out of memory"));
    b->nnames = n;
    return ACME_OK;
}

int acme_bundle_new(acme_bundle **out, const acme_key *key, const char *chain_pem, size_t len,
                    acme_error **err)
{
    acme_bundle *b;
    pem_block blk;
    size_t pos = 0;
    int rc, ncerts = 0;

    *out = NULL;
    if (!key || !chain_pem)
        return acme_error_set(err, ACME_E_INVALID, _("a bundle needs a key and a certificate"));
    /* The chain may hold certificates only: a stray key would be a second key. */
    while ((rc = pem_next(chain_pem, len, &pos, &blk, err)) > 0) {
        if (!label_is(&blk, "CERTIFICATE"))
            return acme_error_set(err, ACME_E_INVALID,
                                  _("a certificate chain holds a \"%.*s\" block; only "
                                    "certificates are allowed"),
                                  (int)blk.label_len, blk.label);
        ncerts++;
    }
    if (rc < 0)
        return rc;
    if (ncerts == 0)
        return acme_error_set(err, ACME_E_INVALID, _("the certificate chain is empty"));

    if (!(b = bundle_alloc()))
        return acme_error_set(err, ACME_E_NOMEM, _("out of memory"));
    if ((rc = acme_chain_parse(&b->chain, chain_pem, len, err)) < 0)
        goto fail;
    if ((rc = acme_cert_check_key(acme_chain_get(b->chain, 0), key, err)) < 0) {
        rc = acme__error_prefix(err, rc, _("the key does not match the certificate"));
        goto fail;
    }
    if (!(b->key = acme__key_ref(key))) {
        rc = acme_error_set(err, ACME_E_NOMEM, _("out of memory"));
        goto fail;
    }
    if ((rc = bundle_take_sans(b, err)) < 0)
        goto fail;
    *out = b;
    return ACME_OK;
fail:
    bundle_destroy(b);
    return rc;
}

static bool is_key_label(const pem_block *blk)
{
    return label_is(blk, "PRIVATE KEY") || label_is(blk, "RSA PRIVATE KEY") ||
           label_is(blk, "EC PRIVATE KEY");
}

int acme_bundle_from_pem(acme_bundle **out, const char *pem, size_t len, acme_error **err)
{
    pem_block blk, key_blk = { 0 }, *certs = NULL;
    size_t pos = 0, ncerts = 0, nkeys = 0, leaf = 0, nleaf = 0;
    acme__buf ordered = ACME__BUF_INIT;
    acme_key *key = NULL;
    acme_bundle *b = NULL;
    int rc;

    *out = NULL;
    if (!pem)
        return acme_error_set(err, ACME_E_INVALID, _("no PEM data"));
    /* First pass: sort the blocks into the key and the certificates. */
    while ((rc = pem_next(pem, len, &pos, &blk, err)) > 0) {
        if (label_is(&blk, "CERTIFICATE")) {
            pem_block *v = realloc(certs, (ncerts + 1) * sizeof(*v));

            if (!v) {
                rc = acme_error_set(err, ACME_E_NOMEM, _("out of memory"));
                goto out;
            }
            certs = v;
            certs[ncerts++] = blk;
        } else if (is_key_label(&blk)) {
            key_blk = blk;
            nkeys++;
        } else if (label_is(&blk, "ENCRYPTED PRIVATE KEY")) {
            rc = acme_error_set(err, ACME_E_INVALID,
                                _("the private key is encrypted; store it unencrypted"));
            goto out;
        } else {
            rc = acme_error_set(err, ACME_E_INVALID,
                                _("unexpected PEM block \"%.*s\": a bundle holds one private key "
                                  "and certificates"),
                                (int)blk.label_len, blk.label);
            goto out;
        }
    }
    if (rc < 0)
        goto out;
    if (nkeys == 0 && ncerts == 0) {
        rc = acme_error_set(err, ACME_E_INVALID, _("no PEM data"));
        goto out;
    }
    if (nkeys != 1) {
        rc = acme_error_set(err, ACME_E_INVALID,
                            _("a bundle holds exactly one private key, not %zu"), nkeys);
        goto out;
    }
    if (ncerts == 0) {
        rc = acme_error_set(err, ACME_E_INVALID, _("the bundle has no certificate"));
        goto out;
    }
    if ((rc = acme_key_load_pem(&key, key_blk.text, key_blk.len, err)) < 0)
        goto out;

    /*
     * The leaf is the certificate for the key, wherever it stands (txsni
     * picks it the same way); the others keep their order as the chain.
     */
    for (size_t i = 0; i < ncerts; i++) {
        acme_chain *one = NULL;

        if ((rc = acme_chain_parse(&one, certs[i].text, certs[i].len, err)) < 0)
            goto out;
        if (acme_cert_check_key(acme_chain_get(one, 0), key, NULL) == ACME_OK) {
            leaf = i;
            nleaf++;
        }
        acme_chain_free(one);
    }
    if (nleaf != 1) {
        rc = acme_error_set(err, ACME_E_INVALID,
                            nleaf == 0 ? _("no certificate matches the private key")
                                       : _("more than one certificate matches the private key"));
        goto out;
    }
    rc = acme__buf_append(&ordered, certs[leaf].text, certs[leaf].len);
    rc = rc < 0 ? rc : acme__buf_puts(&ordered, "\n");
    for (size_t i = 0; i < ncerts && rc >= 0; i++) {
        if (i == leaf)
            continue;
        rc = acme__buf_append(&ordered, certs[i].text, certs[i].len);
        rc = rc < 0 ? rc : acme__buf_puts(&ordered, "\n");
    }
    if (rc < 0 || !(b = bundle_alloc())) {
        rc = acme_error_set(err, ACME_E_NOMEM, _("out of memory"));
        goto out;
    }
    if ((rc = acme_chain_parse(&b->chain, ordered.data, ordered.len, err)) < 0)
        goto out;
    /*
     * Keep the key block as it was, so a txacme "RSA PRIVATE KEY" is
     * written back unchanged; but not a SEC1 "EC PRIVATE KEY": txacme's
     * PEM parser (python pem) does not know that label and silently drops
     * the key, so it is written as PKCS#8, which every reader knows.
     */
    if (!label_is(&key_blk, "EC PRIVATE KEY") &&
        !(b->key_pem = acme__asprintf("%.*s\n", (int)key_blk.len, key_blk.text))) {
        rc = acme_error_set(err, ACME_E_NOMEM, _("out of memory"));
        goto out;
    }
    if ((rc = bundle_take_sans(b, err)) < 0)
        goto out;
    b->key = key;
    key = NULL;
    *out = b;
    b = NULL;
    rc = ACME_OK;
out:
    if (b)
        bundle_destroy(b);
    acme_key_free(key);
    acme__buf_clear(&ordered);
    free(certs);
    return rc;
}

int acme_bundle_new_request(acme_bundle **out, const char *const *names, size_t nnames,
                            acme_error **err)
{
    acme_bundle *b;
    int rc;

    *out = NULL;
    if (!names || nnames == 0)
        return acme_error_set(err, ACME_E_INVALID, _("an issue request needs at least one name"));
    for (size_t i = 0; i < nnames; i++) {
        if ((rc = acme_name_validate(names[i], err)) < 0)
            return rc;
        for (size_t j = 0; j < i; j++)
            if (strcmp(names[i], names[j]) == 0)
                return acme_error_set(err, ACME_E_INVALID,
                                      _("server name \"%s\" appears twice"), names[i]);
    }
    if (!(b = bundle_alloc()) || !(b->names = acme__strv_dup(names, nnames))) {
        free(b);
        return acme_error_set(err, ACME_E_NOMEM, _("out of memory"));
    }
    b->nnames = nnames;
    *out = b;
    return ACME_OK;
}

int acme_bundle_to_pem(char **out, const acme_bundle *bundle, acme_error **err)
{
    acme__buf buf = ACME__BUF_INIT;
    char *key_pem = NULL;
    int rc;

    *out = NULL;
    if (!bundle)
        return acme_error_set(err, ACME_E_INVALID, _("no bundle"));
    if (!bundle->key) {
        /* An issue request is an empty file. */
        if (!(*out = acme__strdup("")))
            return acme_error_set(err, ACME_E_NOMEM, _("out of memory"));
        return ACME_OK;
    }
    if (bundle->key_pem)
        rc = acme__buf_puts(&buf, bundle->key_pem);
    else if ((rc = acme_key_save_pem(&key_pem, bundle->key, ACME_KEY_FORMAT_PKCS8, err)) == 0)
        rc = acme__buf_puts(&buf, key_pem);
    else
        return rc;
    acme__free_secret(key_pem);
    for (size_t i = 0; i < acme_chain_count(bundle->chain) && rc >= 0; i++) {
        const char *pem = acme_cert_pem(acme_chain_get(bundle->chain, i));
        size_t n = strlen(pem);

        rc = acme__buf_append(&buf, pem, n);
        if (rc >= 0 && (n == 0 || pem[n - 1] != '\n'))
            rc = acme__buf_puts(&buf, "\n");
    }
    if (rc < 0) {
        if (buf.data)
            acme__free_secret(acme__buf_steal(&buf));
        return acme_error_set(err, ACME_E_NOMEM, _("out of memory"));
    }
    *out = acme__buf_steal(&buf);
    return ACME_OK;
}

bool acme_bundle_wants_issue(const acme_bundle *bundle)
{
    return bundle && !bundle->key;
}

const acme_key *acme_bundle_key(const acme_bundle *bundle)
{
    return bundle ? bundle->key : NULL;
}

const acme_cert *acme_bundle_cert(const acme_bundle *bundle)
{
    return bundle && bundle->chain ? acme_chain_get(bundle->chain, 0) : NULL;
}

const acme_chain *acme_bundle_chain(const acme_bundle *bundle)
{
    return bundle ? bundle->chain : NULL;
}

const char *const *acme_bundle_names(const acme_bundle *bundle, size_t *n)
{
    *n = bundle ? bundle->nnames : 0;
    return bundle ? (const char *const *)bundle->names : NULL;
}

acme_bundle *acme_bundle_dup(const acme_bundle *bundle)
{
    acme_bundle *b = (acme_bundle *)bundle;

    /* The count is the one mutable member; it is only touched atomically. */
    if (b)
        __atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED);
    return b;
}

void acme_bundle_free(acme_bundle *bundle)
{
    if (bundle && __atomic_sub_fetch(&bundle->refs, 1, __ATOMIC_ACQ_REL) == 0)
        bundle_destroy(bundle);
}

/* ------------------------------------------------------------------ */
/* The vtable wrapper                                                  */
/* ------------------------------------------------------------------ */

struct acme_store {
    const acme_store_ops *ops;  /* borrowed, static const in the backend */
    void *self;
    bool serialize;             /* ACME_OPS_F_SERIALIZE: take lock around get/put/list */
    pthread_mutex_t lock;
};

int acme_store_new(acme_store **out, const acme_store_ops *ops, void *self, acme_error **err)
{
    acme_store *s;
    const char *why = NULL;

    *out = NULL;
    /* Versions 1..current are understood; a newer table has members we would ignore. */
    if (!ops)
        why = _("no store ops");
    else if (ops->version == 0 || ops->version > ACME_STORE_OPS_VERSION)
        why = _("unsupported acme_store_ops version");
    else if (!ops->get || !ops->put || !ops->list)
        why = _("store ops lack get, put or list");
    else if (!ops->lock != !ops->unlock)
        why = _("store ops set only one of lock and unlock");
    if (why || !(s = calloc(1, sizeof(*s)))) {
        /* We own self from the call on, also on failure. */
        if (ops && ops->destroy)
            ops->destroy(self);
        if (why)
            return acme_error_set(err, ACME_E_INVALID, "%s (%s, version %u, this library %d)",
                                  why, ops && ops->name ? ops->name : "?",
                                  ops ? ops->version : 0u, ACME_STORE_OPS_VERSION);
        return acme_error_set(err, ACME_E_NOMEM, _("out of memory"));
    }
    s->ops = ops;
    s->self = self;
    s->serialize = (ops->flags & ACME_OPS_F_SERIALIZE) != 0;
    pthread_mutex_init(&s->lock, NULL);
    *out = s;
    return ACME_OK;
}

void *acme_store_self(const acme_store *store)
{
    return store ? store->self : NULL;
}

const acme_store_ops *acme__store_ops(const acme_store *store)
{
    return store ? store->ops : NULL;
}

const char *acme_store_backend(const acme_store *store)
{
    return store && store->ops->name ? store->ops->name : "store";
}

static void enter(acme_store *s)
{
    if (s->serialize)
        pthread_mutex_lock(&s->lock);
}

static void leave(acme_store *s)
{
    if (s->serialize)
        pthread_mutex_unlock(&s->lock);
}

/*
 * Turn what a backend returned into a result that keeps the error rule
 * (set exactly when negative), whatever the backend did.
 */
static int backend_result(acme_store *s, int rc, acme_error *e, acme_error **err)
{
    if (rc >= 0) {
        acme_error_free(e);
        return ACME_OK;
    }
    if (e)
        return acme__error_give(err, e);
    return acme_error_set(err, rc, _("store \"%s\": %s"), acme_store_backend(s),
                          acme_strerror(rc));
}

int acme_store_get(acme_bundle **out, acme_store *store, const char *name, acme_error **err)
{
    acme_bundle *b = NULL;
    acme_error *e = NULL;
    int rc;

    *out = NULL;
    if (!store)
        return acme_error_set(err, ACME_E_INVALID, _("no store"));
    if ((rc = acme_name_validate(name, err)) < 0)
        return rc;
    enter(store);
    rc = store->ops->get(store->self, name, &b, &e);
    leave(store);
    if (rc > 0)
        rc = acme_error_set(&e, ACME_E_INVALID, _("store \"%s\" returned %d from get"),
                            acme_store_backend(store), rc);
    if (rc == 0 && !b)
        rc = acme_error_set(&e, ACME_E_INVALID, _("store \"%s\" returned no bundle for \"%s\""),
                            acme_store_backend(store), name);
    if (rc < 0) {
        acme_bundle_free(b);
        return backend_result(store, rc, e, err);
    }
    acme_error_free(e);
    *out = b;
    return ACME_OK;
}

int acme_store_put(acme_store *store, const char *name, const acme_bundle *bundle,
                   acme_error **err)
{
    acme_error *e = NULL;
    int rc;

    if (!store || !bundle)
        return acme_error_set(err, ACME_E_INVALID, _("no store or no bundle"));
    if ((rc = acme_name_validate(name, err)) < 0)
        return rc;
    /* A certificate stored under a name it does not cover would be served for it. */
    if (!acme_bundle_wants_issue(bundle) &&
        !acme__name_covered(name, (const char *const *)bundle->names, bundle->nnames))
        return acme_error_set(err, ACME_E_INVALID,
                              _("the certificate does not cover \"%s\": it is not among its "
                                "subjectAltName entries"),
                              name);
    enter(store);
    rc = store->ops->put(store->self, name, bundle, &e);
    leave(store);
    return backend_result(store, rc, e, err);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int acme_store_list(char ***names, size_t *n, acme_store *store, acme_error **err)
{
    char **v = NULL;
    size_t count = 0, kept = 0;
    acme_error *e = NULL;
    int rc;

    *names = NULL;
    *n = 0;
    if (!store)
        return acme_error_set(err, ACME_E_INVALID, _("no store"));
    enter(store);
    rc = store->ops->list(store->self, &v, &count, &e);
    leave(store);
    if (rc >= 0 && !v && count > 0)
        rc = acme_error_set(&e, ACME_E_INVALID, _("store \"%s\" returned a bad name list"),
                            acme_store_backend(store));
    if (rc != 0) {
        if (v)
            acme_free_strv(v, count);
        return backend_result(store, rc < 0 ? rc : ACME_E_INVALID, e, err);
    }
    acme_error_free(e);
    /* Keep only valid names, sorted and unique, whatever the backend sent. */
    for (size_t i = 0; i < count; i++) {
        if (v[i] && acme_name_validate(v[i], NULL) == ACME_OK)
            v[kept++] = v[i];
        else
            free(v[i]);
    }
    if (kept > 1)
        qsort(v, kept, sizeof(*v), cmp_str);
    count = kept;
    kept = 0;
    for (size_t i = 0; i < count; i++) {
        if (kept > 0 && strcmp(v[kept - 1], v[i]) == 0)
            free(v[i]);
        else
            v[kept++] = v[i];
    }
    if (kept == 0) {
        free(v);
        v = NULL;
    }
    *names = v;
    *n = kept;
    return ACME_OK;
}

int acme_store_lock(acme_store *store, const char *name, acme_error **err)
{
    acme_error *e = NULL;
    int rc;

    if (!store)
        return acme_error_set(err, ACME_E_INVALID, _("no store"));
    if ((rc = acme_name_validate(name, err)) < 0)
        return rc;
    if (!store->ops->lock)
        return acme_error_set(err, ACME_E_NOTSUP, _("store \"%s\" has no locks"),
                              acme_store_backend(store));
    /* Not serialised: lock blocks until another holder unlocks. */
    rc = store->ops->lock(store->self, name, &e);
    return backend_result(store, rc, e, err);
}

void acme_store_unlock(acme_store *store, const char *name)
{
    if (store && store->ops->unlock && acme_name_validate(name, NULL) == ACME_OK)
        store->ops->unlock(store->self, name);
}

void acme_store_free(acme_store *store)
{
    if (!store)
        return;
    if (store->ops->destroy)
        store->ops->destroy(store->self);
    pthread_mutex_destroy(&store->lock);
    free(store);
}
