/*
 * stores: the memory store (txacme's testing MemoryStore).
 *
 * Entries live in an array under one mutex.  Bundles are immutable and
 * reference counted, so get hands out another handle and put keeps one:
 * nothing is copied and nothing is freed while the mutex is held.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <acme/store.h>
#include <acme/sys/error.h>
#include <acme/sys/store.h>

#include "util/i18n.h"
#include "util/util.h"

typedef struct entry {
    char *name;
    acme_bundle *bundle;
} entry;

typedef struct memstore {
    pthread_mutex_t lock;
    entry *v;     /* guarded by lock */
    size_t n;     /* guarded by lock */
    size_t cap;   /* guarded by lock */
} memstore;

static entry *find(memstore *m, const char *name)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->v[i].name, name) == 0)
            return &m->v[i];
    return NULL;
}

static int mem_get(void *self, const char *name, acme_bundle **out, acme_error **err)
{
    memstore *m = self;
    entry *e;

    pthread_mutex_lock(&m->lock);
    e = find(m, name);
    *out = e ? acme_bundle_dup(e->bundle) : NULL;
    pthread_mutex_unlock(&m->lock);
    if (!*out)
        return acme_error_set(err, ACME_E_NOTFOUND, _("no entry for \"%s\""), name);
    return ACME_OK;
}

/* Make room for one more entry; called with the lock held. */
static int grow(memstore *m)
{
    entry *v;
    size_t cap = m->cap ? m->cap * 2 : 8;

    if (m->n < m->cap)
        return ACME_OK;
    if (!(v = realloc(m->v, cap * sizeof(*v))))
        return ACME_E_NOMEM;
    m->v = v;
    m->cap = cap;
    return ACME_OK;
}

static int mem_put(void *self, const char *name, const acme_bundle *bundle, acme_error **err)
{
    memstore *m = self;
    acme_bundle *mine = acme_bundle_dup(bundle), *old = NULL;
    char *copy = acme__strdup(name);
    entry *e;
    int rc = copy ? ACME_OK : ACME_E_NOMEM;

    pthread_mutex_lock(&m->lock);
    if ((e = find(m, name))) {
        old = e->bundle;
        e->bundle = mine;
        mine = NULL;
        rc = ACME_OK;  /* the name copy was not needed */
    } else if (rc == ACME_OK && (rc = grow(m)) == ACME_OK) {
        m->v[m->n].name = copy;
        m->v[m->n].bundle = mine;
        m->n++;
        copy = NULL;
        mine = NULL;
    }
    pthread_mutex_unlock(&m->lock);
    /* Drop handles outside the lock: the last one frees the bundle. */
    acme_bundle_free(old);
    acme_bundle_free(mine);
    free(copy);
    if (rc < 0)
        return acme_error_set(err, rc, _("out of memory"));
    return ACME_OK;
}

static int mem_list(void *self, char ***names, size_t *n, acme_error **err)
{
    memstore *m = self;
    char **v = NULL;
    size_t count;
    int rc = ACME_OK;

    pthread_mutex_lock(&m->lock);
    count = m->n;
    if (count > 0 && (v = calloc(count, sizeof(*v)))) {
        for (size_t i = 0; i < count; i++)
            if (!(v[i] = acme__strdup(m->v[i].name)))
                rc = ACME_E_NOMEM;
    } else if (count > 0) {
        rc = ACME_E_NOMEM;
    }
    pthread_mutex_unlock(&m->lock);
    if (rc < 0) {
        acme_free_strv(v, v ? count : 0);
        return acme_error_set(err, rc, _("out of memory"));
    }
    *names = v;
    *n = count;
    return ACME_OK;
}

static void mem_destroy(void *self)
{
    memstore *m = self;

    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++) {
        free(m->v[i].name);
        acme_bundle_free(m->v[i].bundle);
    }
    free(m->v);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

/* MT-Safe on its own (one mutex), so no ACME_OPS_F_SERIALIZE. */
static const acme_store_ops memory_ops = {
    .version = ACME_STORE_OPS_VERSION,
    .name = "memory",
    .flags = 0,
    .get = mem_get,
    .put = mem_put,
    .list = mem_list,
    .destroy = mem_destroy,
};

int acme_store_memory_new(acme_store **out, acme_error **err)
{
    memstore *m = calloc(1, sizeof(*m));

    *out = NULL;
    if (!m)
        return acme_error_set(err, ACME_E_NOMEM, _("out of memory"));
    pthread_mutex_init(&m->lock, NULL);
    return acme_store_new(out, &memory_ops, m, err);
}
