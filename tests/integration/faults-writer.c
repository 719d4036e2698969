/*
 * tests/integration: a helper for tests/integration/faults (not a test).
 *
 *     faults-writer DIR A1.pem B1.pem [A2.pem B2.pem ...]
 *
 * Writes certificates into the directory store at DIR forever, the way a
 * daemon renewing them would: for each pair, entry <name>.pem (the name is
 * the first SAN of the certificate) alternately gets bundle A and bundle B.
 * It reports its own progress on stdout, one byte per step: 'w' for every
 * chunk handed to write(2) (writes are cut into small chunks, so a kill
 * lands inside a file as often as between files) and 'p' after every
 * completed put.  The test reads a random number of steps and kills it
 * with SIGKILL.  It stops by itself only when stdout goes away.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include <acme/acme.h>

#include "stores/store.h"

/* Bytes per write(2) call; a bundle file is a few kB. */
#define CHUNK 256
/* Bounded even if nobody kills it. */
#define MAX_PUTS 100000

static void progress(char c)
{
    /* stdout gone (the test is over): stop. */
    if (write(STDOUT_FILENO, &c, 1) != 1)
        _exit(3);
}

static ssize_t chunked_write(int fd, const void *buf, size_t len)
{
    ssize_t n = write(fd, buf, len < CHUNK ? len : CHUNK);

    if (n > 0)
        progress('w');
    return n;
}

static acme_bundle *load(const char *path)
{
    char *text = NULL;
    size_t len = 0;
    acme_bundle *b = NULL;
    acme_error *e = NULL;

    if (!g_file_get_contents(path, &text, &len, NULL)) {
        fprintf(stderr, "faults-writer: cannot read %s\n", path);
        exit(2);
    }
    if (acme_bundle_from_pem(&b, text, len, &e) < 0) {
        fprintf(stderr, "faults-writer: %s: %s\n", path, acme_error_message(e));
        exit(2);
    }
    g_free(text);
    return b;
}

int main(int argc, char **argv)
{
    acme_store *store = NULL;
    acme_error *e = NULL;
    acme_bundle **b;
    const char **names;
    int npairs;

    if (argc < 4 || (argc - 2) % 2 != 0) {
        fprintf(stderr, "usage: faults-writer DIR A.pem B.pem [A.pem B.pem ...]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_DFL);
    if (acme_global_init() < 0)
        return 2;
    npairs = (argc - 2) / 2;
    b = calloc((size_t)(2 * npairs), sizeof(*b));
    names = calloc((size_t)npairs, sizeof(*names));
    if (!b || !names)
        return 2;
    for (int i = 0; i < 2 * npairs; i++)
        b[i] = load(argv[2 + i]);
    for (int i = 0; i < npairs; i++) {
        size_t n = 0;
        const char *const *sans = acme_cert_sans(acme_bundle_cert(b[2 * i]), &n);

        if (n < 1)
            return 2;
        names[i] = sans[0];
    }
    if (acme_store_dir_new(&store, argv[1], &e) < 0 ||
        acme__store_dir_set_write_fn(store, chunked_write) < 0) {
        fprintf(stderr, "faults-writer: %s\n", e ? acme_error_message(e) : "no store");
        return 2;
    }
    for (long i = 0; i < MAX_PUTS; i++) {
        int pair = (int)(i % npairs);
        /* A then B then A ...: every put replaces the file with the other version. */
        acme_bundle *next = b[2 * pair + (int)((i / npairs + 1) % 2)];

        if (acme_store_put(store, names[pair], next, &e) < 0) {
            fprintf(stderr, "faults-writer: %s\n", acme_error_message(e));
            return 1;
        }
        progress('p');
    }
    /* Never reached in the test: it kills first. */
    acme_store_free(store);
    for (int i = 0; i < 2 * npairs; i++)
        acme_bundle_free(b[i]);
    free(b);
    free(names);
    acme_global_cleanup();
    return 0;
}
