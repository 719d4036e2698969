/*
 * Unit tests: an application-provided store, written from scratch through
 * the public headers only (<acme/acme.h>, <acme/sys/store.h>,
 * <acme/sys/error.h>) and linked with the public libacme, as an
 * application would.  It keeps each entry as the text of a txsni .pem
 * file, and has locks.
 */
#include <glib.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <acme/acme.h>
#include <acme/sys/error.h>
#include <acme/sys/store.h>

/* ------------------------------------------------------------------ */
/* The application's store                                             */
/* ------------------------------------------------------------------ */

typedef struct app_store {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    GHashTable *pem;     /* name -> .pem text; guarded by mu */
    GHashTable *locked;  /* names locked; guarded by mu */
    int gets, puts, lists, locks, unlocks;  /* guarded by mu */
    int inside, max_inside;                 /* calls running at once; guarded by mu */
    int *destroyed;      /* set when destroy runs */
    bool misbehave;      /* get returns ACME_OK without a bundle, list returns junk */
} app_store;

static void enter(app_store *a, int *counter)
{
    pthread_mutex_lock(&a->mu);
    (*counter)++;
    if (++a->inside > a->max_inside)
        a->max_inside = a->inside;
    pthread_mutex_unlock(&a->mu);
}

static void leave(app_store *a)
{
    pthread_mutex_lock(&a->mu);
    a->inside--;
    pthread_mutex_unlock(&a->mu);
}

static int app_get(void *self, const char *name, acme_bundle **out, acme_error **err)
{
    app_store *a = self;
    char *text;
    int rc;

    enter(a, &a->gets);
    if (a->misbehave) {
        leave(a);
        return ACME_OK; /* and no bundle: the library must catch it */
    }
    pthread_mutex_lock(&a->mu);
    text = g_strdup(g_hash_table_lookup(a->pem, name));
    pthread_mutex_unlock(&a->mu);
    if (!text)
        rc = acme_error_set(err, ACME_E_NOTFOUND, "app store: no %s", name);
    else if (*text == '\0')
        rc = acme_bundle_new_request(out, &name, 1, err);
    else
        rc = acme_bundle_from_pem(out, text, strlen(text), err);
    g_free(text);
    leave(a);
    return rc;
}

static int app_put(void *self, const char *name, const acme_bundle *bundle, acme_error **err)
{
    app_store *a = self;
    char *text = NULL;
    int rc;

    enter(a, &a->puts);
    if ((rc = acme_bundle_to_pem(&text, bundle, err)) == ACME_OK) {
        pthread_mutex_lock(&a->mu);
        g_hash_table_replace(a->pem, g_strdup(name), g_strdup(text));
        pthread_mutex_unlock(&a->mu);
    }
    acme_free(text);
    leave(a);
    return rc;
}

static int app_list(void *self, char ***names, size_t *n, acme_error **err)
{
    app_store *a = self;
    GHashTableIter it;
    gpointer key;
    size_t i = 0;
    char **v;

    enter(a, &a->lists);
    pthread_mutex_lock(&a->mu);
    /* malloc, as the vtable asks: the caller frees with acme_free_strv(). */
    v = calloc(g_hash_table_size(a->pem) + 3, sizeof(*v));
    g_hash_table_iter_init(&it, a->pem);
    while (g_hash_table_iter_next(&it, &key, NULL))
        v[i++] = strdup(key);
    if (a->misbehave) {
        char *dup = strdup(i > 0 ? v[0] : "z.example");

        v[i++] = strdup("../escape");
        v[i++] = dup;
    }
    pthread_mutex_unlock(&a->mu);
    *names = v;
    *n = i;
    leave(a);
    (void)err;
    return ACME_OK;
}

static int app_lock(void *self, const char *name, acme_error **err)
{
    app_store *a = self;

    pthread_mutex_lock(&a->mu);
    a->locks++;
    while (g_hash_table_contains(a->locked, name))
        pthread_cond_wait(&a->cv, &a->mu);
    g_hash_table_add(a->locked, g_strdup(name));
    pthread_mutex_unlock(&a->mu);
    (void)err;
    return ACME_OK;
}

static void app_unlock(void *self, const char *name)
{
    app_store *a = self;

    pthread_mutex_lock(&a->mu);
    a->unlocks++;
    g_hash_table_remove(a->locked, name);
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
}

static void app_destroy(void *self)
{
    app_store *a = self;

    (*a->destroyed)++;
    g_hash_table_destroy(a->pem);
    g_hash_table_destroy(a->locked);
    pthread_cond_destroy(&a->cv);
    pthread_mutex_destroy(&a->mu);
    g_free(a);
}

static const acme_store_ops app_ops = {
    .version = ACME_STORE_OPS_VERSION,
    .name = "app",
    .flags = 0,
    .get = app_get,
    .put = app_put,
    .list = app_list,
    .lock = app_lock,
    .unlock = app_unlock,
    .destroy = app_destroy,
};

static const acme_store_ops app_ops_serial = {
    .version = ACME_STORE_OPS_VERSION,
    .name = "app-serial",
    .flags = ACME_OPS_F_SERIALIZE,
    .get = app_get,
    .put = app_put,
    .list = app_list,
    .destroy = app_destroy,
};

static app_store *app_new(int *destroyed)
{
    app_store *a = g_new0(app_store, 1);

    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cv, NULL);
    a->pem = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    a->locked = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    a->destroyed = destroyed;
    return a;
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

static void test_app_roundtrip(void)
{
    int destroyed = 0;
    app_store *a = app_new(&destroyed);
    acme_store *s = NULL;
    acme_bundle *req = NULL, *got = NULL;
    acme_error *e = NULL;
    const char *names[] = { "b.example", "a.example" };
    char **list = NULL;
    size_t n = 0;

    g_assert_cmpint(acme_store_new(&s, &app_ops, a, NULL), ==, ACME_OK);
    g_assert_true(acme_store_self(s) == a);
    g_assert_cmpstr(acme_store_backend(s), ==, "app");

    g_assert_cmpint(acme_store_get(&got, s, "a.example", &e), ==, ACME_E_NOTFOUND);
    g_assert_cmpstr(acme_error_message(e), ==, "app store: no a.example");
    acme_error_free(e);
    e = NULL;

    g_assert_cmpint(acme_bundle_new_request(&req, names, 1, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_store_put(s, "b.example", req, NULL), ==, ACME_OK);
    acme_bundle_free(req);
    g_assert_cmpint(acme_bundle_new_request(&req, names + 1, 1, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_store_put(s, "a.example", req, NULL), ==, ACME_OK);
    acme_bundle_free(req);
    g_assert_cmpint(acme_store_get(&got, s, "b.example", NULL), ==, ACME_OK);
    g_assert_true(acme_bundle_wants_issue(got));
    acme_bundle_free(got);
    got = NULL;

    g_assert_cmpint(acme_store_list(&list, &n, s, NULL), ==, ACME_OK);
    g_assert_cmpuint(n, ==, 2);
    g_assert_cmpstr(list[0], ==, "a.example"); /* sorted by the library */
    g_assert_cmpstr(list[1], ==, "b.example");
    acme_free_strv(list, n);

    /* Bad names never reach the backend. */
    g_assert_cmpint(acme_store_get(&got, s, "../../etc/shadow", &e), ==, ACME_E_INVALID);
    acme_error_free(e);
    e = NULL;
    g_assert_cmpint(acme_store_lock(s, "a/b", &e), ==, ACME_E_INVALID);
    acme_error_free(e);
    g_assert_cmpint(a->gets, ==, 2);
    g_assert_cmpint(a->locks, ==, 0);

    /* Locks go through to the backend. */
    g_assert_cmpint(acme_store_lock(s, "a.example", NULL), ==, ACME_OK);
    g_assert_true(g_hash_table_contains(a->locked, "a.example"));
    acme_store_unlock(s, "a.example");
    g_assert_false(g_hash_table_contains(a->locked, "a.example"));
    g_assert_cmpint(a->locks, ==, 1);
    g_assert_cmpint(a->unlocks, ==, 1);

    acme_store_free(s);
    g_assert_cmpint(destroyed, ==, 1);
}

static void test_app_versions(void)
{
    acme_store_ops newer = app_ops, zero = app_ops, no_get = app_ops, half_lock = app_ops;
    const acme_store_ops *bad[] = { &newer, &zero, &no_get, &half_lock };
    const char *why[] = { "version", "version", "lack", "one of lock" };
    int destroyed = 0;

    newer.version = ACME_STORE_OPS_VERSION + 1;
    zero.version = 0;
    no_get.get = NULL;
    half_lock.unlock = NULL;
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        acme_store *s = NULL;
        acme_error *e = NULL;

        g_assert_cmpint(acme_store_new(&s, bad[i], app_new(&destroyed), &e), ==, ACME_E_INVALID);
        g_assert_null(s);
        g_assert_nonnull(strstr(acme_error_message(e), why[i]));
        acme_error_free(e);
        /* The store owned self from the call on: it was destroyed. */
        g_assert_cmpint(destroyed, ==, (int)i + 1);
    }
    {
        acme_store *s = NULL;
        acme_error *e = NULL;

        g_assert_cmpint(acme_store_new(&s, NULL, NULL, &e), ==, ACME_E_INVALID);
        acme_error_free(e);
    }
}

static void test_app_no_locks(void)
{
    int destroyed = 0;
    acme_store *s = NULL;
    acme_error *e = NULL;

    g_assert_cmpint(acme_store_new(&s, &app_ops_serial, app_new(&destroyed), NULL), ==, ACME_OK);
    g_assert_cmpint(acme_store_lock(s, "a.example", &e), ==, ACME_E_NOTSUP);
    g_assert_cmpint(acme_error_code_get(e), ==, ACME_E_NOTSUP);
    acme_error_free(e);
    acme_store_unlock(s, "a.example"); /* does nothing */
    acme_store_free(s);
    g_assert_cmpint(destroyed, ==, 1);
}

static void test_app_misbehaving(void)
{
    int destroyed = 0;
    app_store *a = app_new(&destroyed);
    acme_store *s = NULL;
    acme_bundle *got = NULL, *req = NULL;
    acme_error *e = NULL;
    const char *name = "m.example";
    char **list = NULL;
    size_t n = 0;

    g_assert_cmpint(acme_store_new(&s, &app_ops, a, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_bundle_new_request(&req, &name, 1, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_store_put(s, name, req, NULL), ==, ACME_OK);
    acme_bundle_free(req);
    a->misbehave = true;
    g_assert_cmpint(acme_store_get(&got, s, name, &e), ==, ACME_E_INVALID);
    g_assert_null(got);
    g_assert_nonnull(strstr(acme_error_message(e), "returned no bundle"));
    acme_error_free(e);
    /* Junk and duplicates in a list are dropped. */
    g_assert_cmpint(acme_store_list(&list, &n, s, NULL), ==, ACME_OK);
    g_assert_cmpuint(n, ==, 1);
    g_assert_cmpstr(list[0], ==, name);
    acme_free_strv(list, n);
    acme_store_free(s);
}

typedef struct {
    acme_store *s;
    int rounds;
} worker_arg;

static gpointer worker(gpointer data)
{
    worker_arg *w = data;

    for (int i = 0; i < w->rounds; i++) {
        acme_bundle *b = NULL;

        g_assert_cmpint(acme_store_get(&b, w->s, "w.example", NULL), ==, ACME_OK);
        acme_bundle_free(b);
    }
    return NULL;
}

static void test_app_serialize(void)
{
    int destroyed = 0;
    app_store *a = app_new(&destroyed);
    acme_store *s = NULL;
    acme_bundle *req = NULL;
    const char *name = "w.example";
    GThread *t[8];
    worker_arg w;

    g_assert_cmpint(acme_store_new(&s, &app_ops_serial, a, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_bundle_new_request(&req, &name, 1, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_store_put(s, name, req, NULL), ==, ACME_OK);
    acme_bundle_free(req);
    w.s = s;
    w.rounds = 300;
    for (size_t i = 0; i < G_N_ELEMENTS(t); i++)
        t[i] = g_thread_new("store-worker", worker, &w);
    for (size_t i = 0; i < G_N_ELEMENTS(t); i++)
        g_thread_join(t[i]);
    g_assert_cmpint(a->gets, ==, 8 * 300);
    /* ACME_OPS_F_SERIALIZE: never two calls in the backend at once. */
    g_assert_cmpint(a->max_inside, ==, 1);
    acme_store_free(s);
}

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    g_assert_cmpint(acme_global_init(), ==, ACME_OK);
    g_test_add_func("/store/app/roundtrip", test_app_roundtrip);
    g_test_add_func("/store/app/versions", test_app_versions);
    g_test_add_func("/store/app/no-locks", test_app_no_locks);
    g_test_add_func("/store/app/misbehaving", test_app_misbehaving);
    g_test_add_func("/store/app/serialize", test_app_serialize);
    rc = g_test_run();
    acme_global_cleanup();
    return rc;
}
