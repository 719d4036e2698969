/*
 * tests/integration: fault injection, part 2 (see faults.c): writers of
 * certificates killed with SIGKILL at random points of their own
 * progress, 100 times each: tests/integration/faults-writer (the
 * directory store alone) and acmed itself (where it is built).  Every
 * <name>.pem is afterwards the old or the new complete file, and parses.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include <acme/acme.h>
#include <acme/testing.h>

#include "faults.h"
#include "pebble.h"

/* ------------------------------------------------------------------ */
/* SIGKILL while writing certificates                                   */
/* ------------------------------------------------------------------ */

#define KILL_ROUNDS 100
#define WRITER_NAMES 2

static const char *const writer_names[WRITER_NAMES] = { "one.example.com", "two.example.com" };

/* A whole bundle file (key + chain) for @p name from the fake CA, as PEM. */
static char *fake_bundle_pem(acme_fake_ca *ca, const char *name)
{
    acme_issue_options io = ACME_ISSUE_OPTIONS_INIT;
    acme_issuer *iss = NULL;
    char *key = NULL, *chain = NULL, *pem;

    g_assert_cmpint(acme_fake_ca_issuer(&iss, ca, NULL), ==, ACME_OK);
    io.names = &name;
    io.nnames = 1;
    g_assert_cmpint(acme_issuer_issue(iss, &key, &chain, &io, NULL), ==, ACME_OK);
    pem = g_strconcat(key, chain, NULL);
    acme_free(key);
    acme_free(chain);
    acme_issuer_free(iss);
    return pem;
}

/* What the directory store writes for @p pem (its own serialisation). */
static char *store_form(const char *pem)
{
    acme_bundle *b = NULL;
    char *out = NULL, *copy;

    g_assert_cmpint(acme_bundle_from_pem(&b, pem, strlen(pem), NULL), ==, ACME_OK);
    g_assert_cmpint(acme_bundle_to_pem(&out, b, NULL), ==, ACME_OK);
    copy = g_strdup(out);
    acme_free(out);
    acme_bundle_free(b);
    return copy;
}


static char *writer_path(void)
{
    const char *b = g_getenv("G_TEST_BUILDDIR");

    /* Under make check G_TEST_BUILDDIR is tests/; by hand, next to this program. */
    if (b && *b)
        return g_build_filename(b, "integration", "faults-writer", NULL);
    return g_build_filename(".", "tests", "integration", "faults-writer", NULL);
}

/*
 * 100 rounds: start the writer, let it run for a random number of its
 * own progress steps (each put, and each chunk of each write, reports
 * one byte), SIGKILL it, and look at every file.
 */
static void test_sigkill_writer(void)
{
    acme_fake_ca *ca = NULL;
    acme_store *store = NULL;
    char *dir = g_dir_make_tmp("libacme-faults-XXXXXX", NULL);
    char *writer = writer_path();
    char *pem_path[WRITER_NAMES][2], *form[WRITER_NAMES][2];
    unsigned int seen[WRITER_NAMES][2] = { { 0 } };
    unsigned int leftovers = 0, total_steps = 0;

    g_assert_nonnull(dir);
    if (!g_file_test(writer, G_FILE_TEST_IS_EXECUTABLE))
        g_error("%s is missing (make check builds it)", writer);
    g_assert_cmpint(acme_fake_ca_new(&ca, NULL, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_store_dir_new(&store, dir, NULL), ==, ACME_OK);
    for (int n = 0; n < WRITER_NAMES; n++) {
        for (int v = 0; v < 2; v++) {
            char *pem = fake_bundle_pem(ca, writer_names[n]);
            char *file = g_strdup_printf("%s.%c.in", writer_names[n], 'a' + v);

            /* Inputs live outside the store's directory. */
            pem_path[n][v] = g_strconcat(dir, "-", file, NULL);
            g_assert_true(g_file_set_contents(pem_path[n][v], pem, -1, NULL));
            form[n][v] = store_form(pem);
            g_free(file);
            g_free(pem);
        }
        g_assert_cmpstr(form[n][0], !=, form[n][1]);
        /* The old file: version a. */
        {
            acme_bundle *b = NULL;

            g_assert_cmpint(acme_bundle_from_pem(&b, form[n][0], strlen(form[n][0]), NULL), ==,
                            ACME_OK);
            g_assert_cmpint(acme_store_put(store, writer_names[n], b, NULL), ==, ACME_OK);
            acme_bundle_free(b);
        }
    }

    for (int round = 0; round < KILL_ROUNDS; round++) {
        char *argv[4 + 2 * WRITER_NAMES];
        GError *error = NULL;
        GPid pid;
        int out_fd, status, target = g_test_rand_int_range(1, 80), got = 0;
        GDir *d;
        const char *entry;

        argv[0] = writer;
        argv[1] = dir;
        for (int n = 0; n < WRITER_NAMES; n++) {
            argv[2 + 2 * n] = pem_path[n][0];
            argv[3 + 2 * n] = pem_path[n][1];
        }
        argv[2 + 2 * WRITER_NAMES] = NULL;
        if (!g_spawn_async_with_pipes(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, faults_child_setup,
                                      NULL, &pid, NULL, &out_fd, NULL, &error))
            g_error("cannot start %s: %s", writer, error->message);
        /* Wait for @target steps of the writer's own progress, then kill. */
        while (got < target) {
            char buf[64];
            ssize_t n = read(out_fd, buf, MIN(sizeof(buf), (size_t)(target - got)));

            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            for (ssize_t i = 0; i < n; i++)
                g_assert_true(buf[i] == 'w' || buf[i] == 'p');
            got += (int)n;
        }
        kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        close(out_fd);
        /* It was running (it never stops by itself) when the signal came. */
        g_assert_cmpint(got, ==, target);
        g_assert_true(WIFSIGNALED(status));
        g_assert_cmpint(WTERMSIG(status), ==, SIGKILL);
        total_steps += (unsigned int)got;

        for (int n = 0; n < WRITER_NAMES; n++) {
            char *file = g_strdup_printf("%s.pem", writer_names[n]);
            char *text = faults_file_text(dir, file);
            char *s;
            int v;

            g_assert_nonnull(text);
            if (strcmp(text, form[n][0]) == 0)
                v = 0;
            else if (strcmp(text, form[n][1]) == 0)
                v = 1;
            else
                g_error("round %d: %s is neither the old nor the new file (%zu bytes)", round,
                        file, strlen(text));
            seen[n][v]++;
            /* And it parses as a whole certificate for the name. */
            s = faults_assert_whole_cert(store, writer_names[n]);
            g_free(s);
            g_free(text);
            g_free(file);
        }
        /* A temporary file of a killed write may stay; it is never an entry. */
        d = g_dir_open(dir, 0, NULL);
        g_assert_nonnull(d);
        while ((entry = g_dir_read_name(d))) {
            bool known = false;

            for (int n = 0; n < WRITER_NAMES; n++) {
                char *file = g_strdup_printf("%s.pem", writer_names[n]);

                known = known || strcmp(entry, file) == 0;
                g_free(file);
            }
            if (known)
                continue;
            g_assert_true(entry[0] == '.' && g_str_has_suffix(entry, ".tmp"));
            leftovers++;
            {
                char *p = g_build_filename(dir, entry, NULL);

                g_unlink(p);
                g_free(p);
            }
        }
        g_dir_close(d);
        {
            char **names = NULL;
            size_t n = 0;

            g_assert_cmpint(acme_store_list(&names, &n, store, NULL), ==, ACME_OK);
            g_assert_cmpuint(n, ==, WRITER_NAMES);
            acme_free_strv(names, n);
        }
    }
    g_printerr("# %u progress steps; name 1: old %u new %u; name 2: old %u new %u; "
               "%u temporary files left by killed writes\n", total_steps, seen[0][0], seen[0][1],
               seen[1][0], seen[1][1], leftovers);
    /* The kills landed at different points: both versions were seen. */
    for (int n = 0; n < WRITER_NAMES; n++) {
        g_assert_cmpuint(seen[n][0], >, 0);
        g_assert_cmpuint(seen[n][1], >, 0);
    }

    for (int n = 0; n < WRITER_NAMES; n++)
        for (int v = 0; v < 2; v++) {
            g_unlink(pem_path[n][v]);
            g_free(pem_path[n][v]);
            g_free(form[n][v]);
        }
    acme_store_free(store);
    acme_fake_ca_free(ca);
    faults_rm_rf(dir);
    g_free(dir);
    g_free(writer);
}

#ifdef FAULTS_ACMED
/* ------------------------------------------------------------------ */
/* SIGKILL acmed while it writes certificates                           */
/* ------------------------------------------------------------------ */

#define ACMED_NAMES 2

static const char *const acmed_names[ACMED_NAMES] = { "k1.example.com", "k2.example.com" };

static char *acmed_path(void)
{
    const char *b = g_getenv("top_builddir");

    return g_build_filename(b && *b ? b : ".", "bin", "acmed", "acmed", NULL);
}

typedef struct acmed_run {
    GPid pid;
    FILE *err;        /* its log (stderr), a line per step */
} acmed_run;

static void acmed_start(acmed_run *run, pebble *p, const char *dir, const char *state)
{
    char *bin = acmed_path();
    char *http_port = g_strdup_printf("%u", p->http_port);
    char *argv[24];
    int n = 0, err_fd;
    GError *error = NULL;

    if (!g_file_test(bin, G_FILE_TEST_IS_EXECUTABLE))
        g_error("%s is missing (make builds it)", bin);
    argv[n++] = bin;
    argv[n++] = "-c";
    argv[n++] = "/dev/null";
    argv[n++] = "--state-dir";
    argv[n++] = (char *)state;
    argv[n++] = "--cert-dir";
    argv[n++] = (char *)dir;
    argv[n++] = "--ca";
    argv[n++] = p->directory_url;
    argv[n++] = "--ca-file";
    argv[n++] = p->ca_file;
    argv[n++] = "--challenge";
    argv[n++] = "http-01";
    argv[n++] = "--http-port";
    argv[n++] = http_port;
    argv[n++] = "--log-level";
    argv[n++] = "debug";
    argv[n++] = "issue";
    for (int i = 0; i < ACMED_NAMES; i++)
        argv[n++] = (char *)acmed_names[i];
    argv[n] = NULL;
    if (!g_spawn_async_with_pipes(NULL, argv, NULL,
                                  G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL,
                                  faults_child_setup, NULL, &run->pid, NULL, NULL, &err_fd, &error))
        g_error("cannot start %s: %s", bin, error->message);
    run->err = fdopen(err_fd, "r");
    g_assert_nonnull(run->err);
    g_free(http_port);
    g_free(bin);
}

/* Reap it; its wait status. */
static int acmed_wait(acmed_run *run)
{
    int status;

    while (waitpid(run->pid, &status, 0) < 0 && errno == EINTR)
        ;
    fclose(run->err);
    return status;
}

/* The next log line (g_free), or NULL at the end; echoed with LIBACME_TEST_LOG. */
static char *acmed_line(acmed_run *run)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, run->err);
    char *copy;

    if (n < 0) {
        free(line);
        return NULL;
    }
    if (faults_test_log())
        g_printerr("acmed: %s", line);
    copy = g_strdup(line);
    free(line);
    return copy;
}

/*
 * A file after a kill: the old one byte for byte (0), or a new complete
 * one (1): key, a certificate for @p name matching it, the whole chain,
 * nothing cut off.
 */
static int old_or_new(acme_store *store, const char *dir, const char *name, const char *old,
                      int round)
{
    char *file = g_strdup_printf("%s.pem", name);
    char *text = faults_file_text(dir, file), *serial;
    int v = 1;

    g_assert_nonnull(text);
    if (strcmp(text, old) == 0) {
        v = 0;
    } else {
        acme_bundle *b = NULL;
        acme_error *e = NULL;

        if (!g_str_has_suffix(text, "-----END CERTIFICATE-----\n"))
            g_error("round %d: %s ends in the middle (%zu bytes)", round, file, strlen(text));
        if (acme_store_get(&b, store, name, &e) < 0)
            g_error("round %d: %s: %s", round, file, acme_error_message(e));
        /* Leaf and Pebble's intermediate at least: no chain was cut short. */
        g_assert_cmpuint(acme_chain_count(acme_bundle_chain(b)), >=, 2);
        acme_bundle_free(b);
    }
    serial = faults_assert_whole_cert(store, name);
    g_free(serial);
    g_free(text);
    g_free(file);
    return v;
}

/*
 * acmed issues two names per run; each run is killed with SIGKILL,
 * half of them at a random line of its log (anywhere in the run), half
 * the moment it logs that one of the certificates was issued (it is
 * about to write it).  100 runs; every file is the old or a new whole one.
 */
static void test_sigkill_acmed(void)
{
    pebble_options po = PEBBLE_OPTIONS_INIT;
    pebble *p;
    acme_store *store = NULL;
    acme_key *account = NULL, *account_after = NULL;
    char *dir = g_dir_make_tmp("libacme-faults-acmed-XXXXXX", NULL);
    char *state = g_build_filename(dir, "state", NULL);
    char *certs = g_build_filename(dir, "certs", NULL);
    unsigned int setup_lines = 0, outcome[2] = { 0, 0 }, leftovers = 0;
    acmed_run run;
    char *line;
    int status;

    /*
     * Every challenge valid without validation, no nonce noise, no reused
     * authorization: the runs look alike (a run may still poll once more).
     */
    po.always_valid = true;
    po.responders = false;
    po.nonce_reject = 0;
    po.authz_reuse = 0;
    p = pebble_start(&po);
    g_assert_cmpint(g_mkdir(state, 0700), ==, 0);
    g_assert_cmpint(g_mkdir(certs, 0700), ==, 0);

    /* A first whole run: the old files, and how long a run's log is. */
    acmed_start(&run, p, certs, state);
    while ((line = acmed_line(&run))) {
        setup_lines++;
        g_free(line);
    }
    status = acmed_wait(&run);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        pebble_print_log_tail(p, 20);
        g_error("acmed issue failed: status %d", status);
    }
    g_assert_cmpuint(setup_lines, >=, 10);
    g_assert_cmpint(acme_store_dir_new(&store, certs, NULL), ==, ACME_OK);
    g_assert_cmpint(acme_store_dir_account_key(&account, store, NULL), ==, ACME_OK);

    for (int round = 0; round < KILL_ROUNDS; round++) {
        char *old[ACMED_NAMES];
        bool at_issued = round % 2 == 1;
        int target = at_issued ? g_test_rand_int_range(1, ACMED_NAMES + 1)
                               : g_test_rand_int_range(1, (gint32)setup_lines * 3 / 4);
        int seen = 0;
        bool killed = false;
        GDir *d;
        const char *entry;

        for (int i = 0; i < ACMED_NAMES; i++) {
            char *file = g_strdup_printf("%s.pem", acmed_names[i]);

            old[i] = faults_file_text(certs, file);
            g_assert_nonnull(old[i]);
            g_free(file);
        }
        acmed_start(&run, p, certs, state);
        while ((line = acmed_line(&run))) {
            if (at_issued ? strstr(line, "issued for ") != NULL : true)
                seen++;
            g_free(line);
            if (seen == target) {
                kill(run.pid, SIGKILL);
                killed = true;
                break;
            }
        }
        status = acmed_wait(&run);
        if (!killed)
            g_error("round %d: acmed ended before step %d (status %d)", round, target, status);
        g_assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

        for (int i = 0; i < ACMED_NAMES; i++) {
            outcome[old_or_new(store, certs, acmed_names[i], old[i], round)]++;
            g_free(old[i]);
        }
        /* Leftover temporary files are dot files, never entries; clear them. */
        d = g_dir_open(certs, 0, NULL);
        g_assert_nonnull(d);
        while ((entry = g_dir_read_name(d))) {
            char *path;

            if (entry[0] != '.') {
                bool known = strcmp(entry, "client.key") == 0;

                for (int i = 0; i < ACMED_NAMES; i++)
                    known = known || (g_str_has_prefix(entry, acmed_names[i]) &&
                                      strcmp(entry + strlen(acmed_names[i]), ".pem") == 0);
                if (!known)
                    g_error("round %d: unexpected file %s", round, entry);
                continue;
            }
            g_assert_true(g_str_has_suffix(entry, ".tmp"));
            leftovers++;
            path = g_build_filename(certs, entry, NULL);
            g_unlink(path);
            g_free(path);
        }
        g_dir_close(d);
    }
    g_printerr("# %d kills; files old %u, new %u; %u temporary files left\n", KILL_ROUNDS,
               outcome[0], outcome[1], leftovers);
    g_assert_cmpuint(outcome[0], >, 0);
    g_assert_cmpuint(outcome[1], >, 0);
    /* The account key was never touched. */
    g_assert_cmpint(acme_store_dir_account_key(&account_after, store, NULL), ==, ACME_OK);
    g_assert_true(acme_key_equal(account, account_after));

    acme_key_free(account);
    acme_key_free(account_after);
    acme_store_free(store);
    faults_rm_rf(dir);
    g_free(dir);
    g_free(state);
    g_free(certs);
    pebble_stop(p);
}
#endif /* FAULTS_ACMED */

void faults_kill_add_tests(void)
{
    g_test_add_func("/faults/store/sigkill-writer", test_sigkill_writer);
#ifdef FAULTS_ACMED
    g_test_add_func("/faults/acmed/sigkill", test_sigkill_acmed);
#endif
}
