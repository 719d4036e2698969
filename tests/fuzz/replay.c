/*
 * tests/fuzz: a stand-in for libFuzzer's main, so that every fuzz target
 * runs in a plain `make check` (any compiler, no clang needed) over its
 * seed corpus and the inputs of crashes already fixed.
 *
 * Usage: replay-<name> [FILE|DIR]...  With no operand it reads
 * $G_TEST_SRCDIR/fuzz/corpus/<name>/ and .../regressions/<name>/.
 * Options (-k, --tap: what build-aux/tap-test passes) are ignored.
 * Prints TAP, one test per input, and names each input on stderr before
 * running it, so that a crash says which input did it.  Fails when no
 * input was found: a target whose corpus went missing tests nothing.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#ifndef FUZZ_NAME
#error "FUZZ_NAME (the target's name) must be defined"
#endif

/* libFuzzer calls this once when a target defines it; so do we. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

typedef struct inputs {
    char **paths;
    size_t n, cap;
} inputs;

static void add(inputs *in, const char *path)
{
    if (in->n == in->cap) {
        in->cap = in->cap ? 2 * in->cap : 64;
        if (!(in->paths = realloc(in->paths, in->cap * sizeof(*in->paths)))) {
            perror("realloc");
            exit(99);
        }
    }
    if (!(in->paths[in->n++] = strdup(path))) {
        perror("strdup");
        exit(99);
    }
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A file, or every regular file of a directory (sorted: the same order on
 * every run).  A missing directory is fine: not every target has
 * regressions. */
static void collect(inputs *in, const char *path, int must_exist)
{
    struct stat st;
    size_t first = in->n;
    struct dirent *d;
    DIR *dir;

    if (stat(path, &st) < 0) {
        if (must_exist) {
            fprintf(stderr, "%s: %s\n", path, strerror(errno));
            exit(99);
        }
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        add(in, path);
        return;
    }
    if (!(dir = opendir(path))) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        exit(99);
    }
    while ((d = readdir(dir))) {
        char *p;

        if (d->d_name[0] == '.')
            continue;
        if (!(p = malloc(strlen(path) + strlen(d->d_name) + 2))) {
            perror("malloc");
            exit(99);
        }
        sprintf(p, "%s/%s", path, d->d_name);
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
            add(in, p);
        free(p);
    }
    closedir(dir);
    qsort(in->paths + first, in->n - first, sizeof(*in->paths), cmp);
}

/* The whole file in a buffer of exactly its size (no NUL after it), as
 * libFuzzer hands inputs over, so that ASan or valgrind see overreads. */
static uint8_t *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long len;

    if (!f || fseek(f, 0, SEEK_END) < 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        exit(99);
    }
    if (!(buf = malloc(len ? (size_t)len : 1)) ||
        (len && fread(buf, 1, (size_t)len, f) != (size_t)len)) {
        fprintf(stderr, "%s: cannot read\n", path);
        exit(99);
    }
    fclose(f);
    *size = (size_t)len;
    return buf;
}

int main(int argc, char **argv)
{
    inputs in = { NULL, 0, 0 };
    int operands = 0;

    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++)
        if (argv[i][0] != '-') {
            collect(&in, argv[i], 1);
            operands++;
        }
    if (!operands) {
        const char *srcdir = getenv("G_TEST_SRCDIR");
        char path[4096];

        if (!srcdir) {
            fprintf(stderr, "G_TEST_SRCDIR is not set and no input was named\n");
            return 99;
        }
        snprintf(path, sizeof(path), "%s/fuzz/corpus/%s", srcdir, FUZZ_NAME);
        collect(&in, path, 1);
        snprintf(path, sizeof(path), "%s/fuzz/regressions/%s", srcdir, FUZZ_NAME);
        collect(&in, path, 0);
    }
    if (in.n == 0) {
        printf("1..1\nnot ok 1 - no input for fuzz target %s\n", FUZZ_NAME);
        return 1;
    }
    printf("1..%zu\n", in.n);
    fflush(stdout);
    for (size_t i = 0; i < in.n; i++) {
        size_t size;
        uint8_t *data = slurp(in.paths[i], &size);

        fprintf(stderr, "# %s: %s (%zu bytes)\n", FUZZ_NAME, in.paths[i], size);
        fflush(stderr);
        /* libFuzzer ignores the return value (other than -1, "do not add
         * to the corpus"); a bug shows as a crash or an abort. */
        (void)LLVMFuzzerTestOneInput(data, size);
        free(data);
        printf("ok %zu - %s\n", i + 1, in.paths[i]);
        fflush(stdout);
        free(in.paths[i]);
    }
    free(in.paths);
    return 0;
}
