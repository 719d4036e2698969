/*
 * stores: the directory store, in the layout txsni serves from and txacme
 * writes: `<server name>.pem` (key, certificate, chain; empty = "please
 * issue"), `client.key` (the account key), every other name reserved.
 *
 * The directory is opened once and every file is reached relative to that
 * descriptor (openat and friends), so renaming the path under a running
 * store cannot redirect writes.  Names reaching this file have passed
 * acme_name_validate() in the wrapper: they cannot hold '/' or "..".
 *
 * Writes are atomic: a temporary file in the same directory (a dot name,
 * which neither txsni, txacme nor list() takes for an entry) is written,
 * fsync'd and renamed over the target, and then the directory is fsync'd
 * so that the rename itself survives a crash.  A failure at any step
 * removes the temporary file and leaves the old target whole; a writer
 * killed mid-way leaves it behind, and the next acme_store_dir_new()
 * removes it once it is an hour old.
 */
#include "config.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <acme/crypto.h>
#include <acme/store.h>
#include <acme/sys/error.h>
#include <acme/sys/store.h>

#include "crypto/crypto.h"
#include "stores/store.h"
#include "util/error.h"
#include "util/i18n.h"
#include "util/util.h"

/* A certificate file is a few kilobytes; anything this big is not one. */
#define MAX_FILE (1024 * 1024)

/* Temporary files: ".acme-" ... ".tmp"; one this old was left by a writer that died. */
#define TEMP_PREFIX ".acme-"
#define TEMP_SUFFIX ".tmp"
#define TEMP_STALE_SECONDS 3600
#define ACCOUNT_KEY_FILE "client.key"

typedef struct dirstore {
    char *path;                     /* for messages */
    int dirfd;                      /* O_DIRECTORY, kept open */
    acme__store_write_fn *write_fn; /* write(2) unless a test replaced it */
} dirstore;

static const acme_store_ops dir_ops;

static const char *errstr(int e, char *buf, size_t len)
{
    /* GNU strerror_r (config.h defines _GNU_SOURCE): thread-safe, unlike strerror. */
    return strerror_r(e, buf, len);
}

static int io_error(acme_error **err, int code, const dirstore *d, const char *what,
                    const char *file, int e)
{
    char buf[128];

    return acme_error_set(err, code, _("%s %s/%s: %s"), what, d->path, file,
                          errstr(e, buf, sizeof(buf)));
}

/*
 * Read a whole file of the directory.  ACME_E_NOTFOUND when it does not
 * exist.  The buffer is NUL-terminated; it may hold a key, so callers
 * wipe it.
 */
static int read_file(const dirstore *d, const char *file, char **out, size_t *len,
                     acme_error **err)
{
    acme__buf buf = ACME__BUF_INIT;
    struct stat st;
    int fd, rc = ACME_OK;

    *out = NULL;
    *len = 0;
    if ((fd = openat(d->dirfd, file, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
        return io_error(err, errno == ENOENT ? ACME_E_NOTFOUND : ACME_E_IO, d,
                        _("cannot open"), file, errno);
    if (fstat(fd, &st) < 0) {
        rc = io_error(err, ACME_E_IO, d, _("cannot read"), file, errno);
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = acme_error_set(err, ACME_E_INVALID, _("%s/%s is not a regular file"), d->path, file);
        goto out;
    }
    if (st.st_size > MAX_FILE) {
        rc = acme_error_set(err, ACME_E_INVALID, _("%s/%s is larger than %d bytes"), d->path, file,
                            MAX_FILE);
        goto out;
    }
    if (acme__buf_reserve(&buf, (size_t)st.st_size + 1) < 0) {
        rc = acme_error_set(err, ACME_E_NOMEM, _("out of memory"));
        goto out;
    }
    for (;;) {
        char chunk[4096];
        ssize_t n = read(fd, chunk, sizeof(chunk));

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = io_error(err, ACME_E_IO, d, _("cannot read"), file, errno);
            goto out;
        }
        if (n == 0)
            break;
        if (buf.len + (size_t)n > MAX_FILE) {
            rc = acme_error_set(err, ACME_E_INVALID, _("%s/%s is larger than %d bytes"), d->path,
                                file, MAX_FILE);
            goto out;
        }
        if (acme__buf_append(&buf, chunk, (size_t)n) < 0) {
            rc = acme_error_set(err, ACME_E_NOMEM, _("out of memory"));
            goto out;
        }
        explicit_bzero(chunk, sizeof(chunk));
    }
    /* reserve() does not terminate: an empty file appended nothing. */
    buf.data[buf.len] = '\0';
    *len = buf.len;
    *out = acme__buf_steal(&buf);
    if (!*out)
        rc = acme_error_set(err, ACME_E_NOMEM, _("out of memory"));
out:
    if (buf.data)
        acme__free_secret(acme__buf_steal(&buf));
    close(fd);
    return rc;
}

static int write_all(const dirstore *d, int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = d->write_fn(fd, data, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0) {
            /* No progress and no error: give up rather than spin. */
            errno = EIO;
            return -1;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* A fresh temporary name: a dot file no reader takes for an entry. */
static void temp_name(char *buf, size_t len)
{
    unsigned char r[8];
    static unsigned long counter;
    unsigned long c = __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);

    if (acme__random(r, sizeof(r)) < 0)
        memset(r, 0, sizeof(r));
    snprintf(buf, len, TEMP_PREFIX "%ld-%lu-%02x%02x%02x%02x%02x%02x%02x%02x" TEMP_SUFFIX,
             (long)getpid(), c,
             r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
}

/*
 * Write @p file atomically, mode 0600.  With @p no_replace an existing
 * file is kept and ACME_E_INVALIDSTATE returned (link(2) fails with
 * EEXIST), so that concurrent creators of client.key agree on one key.
 */
static int write_atomic(const dirstore *d, const char *file, const char *data, size_t len,
                        bool no_replace, acme_error **err)
{
    char tmp[96];
    int fd = -1, e;
    const char *what;

    for (int tries = 0; fd < 0 && tries < 16; tries++) {
        temp_name(tmp, sizeof(tmp));
        fd = openat(d->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0)
        return io_error(err, ACME_E_IO, d, _("cannot create a temporary file in"), ".", errno);

    /* The umask may only take bits away; make sure no group or other bit is left either. */
    what = _("cannot write");
    if (fchmod(fd, 0600) < 0 || write_all(d, fd, data, len) < 0)
        goto fail;
    what = _("cannot sync");
    if (fsync(fd) < 0)
        goto fail;
    what = _("cannot write");
    e = close(fd);
    fd = -1;
    if (e < 0)
        goto fail;
    what = _("cannot replace");
    if (no_replace) {
        if (linkat(d->dirfd, tmp, d->dirfd, file, 0) < 0) {
            e = errno;
            unlinkat(d->dirfd, tmp, 0);
            if (e == EEXIST)
                return acme_error_set(err, ACME_E_INVALIDSTATE, _("%s/%s exists already"),
                                      d->path, file);
            return io_error(err, ACME_E_IO, d, what, file, e);
        }
        unlinkat(d->dirfd, tmp, 0);
    } else if (renameat(d->dirfd, tmp, d->dirfd, file) < 0) {
        goto fail;
    }
    /* The rename is only durable once the directory itself is on disk. */
    if (fsync(d->dirfd) < 0)
        return io_error(err, ACME_E_IO, d, _("cannot sync"), ".", errno);
    return ACME_OK;
fail:
    e = errno;
    if (fd >= 0)
        close(fd);
    unlinkat(d->dirfd, tmp, 0);
    return io_error(err, ACME_E_IO, d, what, file, e);
}

static bool blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return false;
    return true;
}

static int dir_get(void *self, const char *name, acme_bundle **out, acme_error **err)
{
    dirstore *d = self;
    char *file, *data = NULL;
    size_t len;
    int rc;

    if (!(file = acme__asprintf("%s.pem", name)))
        return acme_error_set(err, ACME_E_NOMEM, _("out of memory"));
    if ((rc = read_file(d, file, &data, &len, err)) < 0)
        goto out;
    if (blank(data, len)) {
        /* txacme's convention: an empty file asks for a first issue. */
        rc = acme_bundle_new_request(out, &name, 1, err);
    } else if ((rc = acme_bundle_from_pem(out, data, len, err)) < 0) {
        rc = acme__error_prefix(err, rc, "%s/%s", d->path, file);
    }
out:
    acme__free_secret(data);
    free(file);
    return rc;
}

static int dir_put(void *self, const char *name, const acme_bundle *bundle, acme_error **err)
{
    dirstore *d = self;
    char *file, *pem = NULL;
    int rc;

    if (!(file = acme__asprintf("%s.pem", name)))
        return acme_error_set(err, ACME_E_NOMEM, _("out of memory"));
    if ((rc = acme_bundle_to_pem(&pem, bundle, err)) == ACME_OK)
        rc = write_atomic(d, file, pem, strlen(pem), false, err);
    acme__free_secret(pem);
    free(file);
    return rc;
}

static int dir_list(void *self, char ***names, size_t *n, acme_error **err)
{
    dirstore *d = self;
    struct dirent *de;
    char **v = NULL;
    size_t count = 0, cap = 0;
    DIR *dir;
    int fd;

    /* A descriptor of our own: a DIR stream moves the offset it reads from. */
    if ((fd = openat(d->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
        !(dir = fdopendir(fd))) {
        int e = errno;

        if (fd >= 0)
            close(fd);
        return io_error(err, ACME_E_IO, d, _("cannot list"), ".", e);
    }
    while ((errno = 0, de = readdir(dir))) {
        size_t len = strlen(de->d_name);
        char *base;

        if (len <= 4 || strcmp(de->d_name + len - 4, ".pem") != 0)
            continue;
        if (de->d_type != DT_REG && de->d_type != DT_LNK && de->d_type != DT_UNKNOWN)
            continue;
        if (!(base = acme__strndup(de->d_name, len - 4)))
            goto nomem;
        /* Reserved names (txsni's DEFAULT.pem, uppercase, non-DNS) are not entries. */
        if (acme_name_validate(base, NULL) < 0) {
            free(base);
            continue;
        }
        if (count == cap) {
            char **nv = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*nv));

            if (!nv) {
                free(base);
                goto nomem;
            }
            v = nv;
        }
        v[count++] = base;
    }
    if (errno != 0) {
        int e = errno;

        closedir(dir);
        acme_free_strv(v, count);
        return io_error(err, ACME_E_IO, d, _("cannot list"), ".", e);
    }
    closedir(dir);
    *names = v;
    *n = count;
    return ACME_OK;
nomem:
    closedir(dir);
    acme_free_strv(v, count);
    return acme_error_set(err, ACME_E_NOMEM, _("out of memory"));
}

static void dir_destroy(void *self)
{
    dirstore *d = self;

    if (!d)
        return;
    if (d->dirfd >= 0)
        close(d->dirfd);
    free(d->path);
    free(d);
}

/*
 * No ACME_OPS_F_SERIALIZE: get reads one file, put renames one file, and
 * both are safe to overlap.  No locks: a directory shared by hosts needs
 * the shared store of a later issue.
 */
static const acme_store_ops dir_ops = {
    .version = ACME_STORE_OPS_VERSION,
    .name = "dir",
    .flags = 0,
    .get = dir_get,
    .put = dir_put,
    .list = dir_list,
    .destroy = dir_destroy,
};

/*
 * Remove the temporary files a killed writer left (SIGKILL, power loss
 * between write and rename).  Only those untouched for an hour: a live
 * writer, in this process or another sharing the directory, finishes in
 * milliseconds.  Best effort: an unreadable directory is reported later,
 * by the first real operation.
 */
static void sweep_temp_files(const dirstore *d)
{
    int fd = dup(d->dirfd);
    DIR *dir;
    struct dirent *de;
    time_t now = time(NULL);

    if (fd < 0)
        return;
    if (!(dir = fdopendir(fd))) {
        close(fd);
        return;
    }
    while ((de = readdir(dir))) {
        struct stat st;
        size_t n = strlen(de->d_name);

        if (n <= strlen(TEMP_PREFIX) + strlen(TEMP_SUFFIX) ||
            strncmp(de->d_name, TEMP_PREFIX, strlen(TEMP_PREFIX)) != 0 ||
            strcmp(de->d_name + n - strlen(TEMP_SUFFIX), TEMP_SUFFIX) != 0)
            continue;
        if (fstatat(d->dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
            st.st_mtime + TEMP_STALE_SECONDS < now)
            unlinkat(d->dirfd, de->d_name, 0);
    }
    closedir(dir);
}

int acme_store_dir_new(acme_store **out, const char *path, acme_error **err)
{
    dirstore *d;
    char buf[128];

    *out = NULL;
    if (!path || !*path)
        return acme_error_set(err, ACME_E_INVALID, _("no directory given for the store"));
    if (!(d = calloc(1, sizeof(*d))) || !(d->path = acme__strdup(path))) {
        free(d);
        return acme_error_set(err, ACME_E_NOMEM, _("out of memory"));
    }
    d->write_fn = write;
    d->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d->dirfd < 0 && errno == ENOENT) {
        /* Only the last component: a missing parent is more likely a typo. */
        if (mkdir(path, 0700) < 0 && errno != EEXIST) {
            int e = errno;

            dir_destroy(d);
            return acme_error_set(err, e == ENOENT ? ACME_E_NOTFOUND : ACME_E_IO,
                                  _("cannot create directory %s: %s"), path,
                                  errstr(e, buf, sizeof(buf)));
        }
        d->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
    if (d->dirfd < 0) {
        int e = errno;

        dir_destroy(d);
        return acme_error_set(err, ACME_E_IO, _("cannot open directory %s: %s"), path,
                              errstr(e, buf, sizeof(buf)));
    }
    sweep_temp_files(d);
    return acme_store_new(out, &dir_ops, d, err);
}

int acme__store_dir_set_write_fn(acme_store *store, acme__store_write_fn *fn)
{
    dirstore *d;

    if (acme__store_ops(store) != &dir_ops)
        return ACME_E_INVALID;
    d = acme_store_self(store);
    d->write_fn = fn ? fn : write;
    return ACME_OK;
}

static int load_key(acme_key **out, const dirstore *d, const char *data, size_t len,
                    acme_error **err)
{
    int rc;

    if (blank(data, len))
        return acme_error_set(err, ACME_E_INVALID, _("%s/%s is empty"), d->path,
                              ACCOUNT_KEY_FILE);
    if ((rc = acme_key_load_pem(out, data, len, err)) < 0)
        return acme__error_prefix(err, rc, "%s/%s", d->path, ACCOUNT_KEY_FILE);
    return ACME_OK;
}

int acme_store_dir_account_key(acme_key **out, acme_store *store, acme_error **err)
{
    dirstore *d;
    acme_error *e = NULL;
    acme_key *key = NULL;
    char *data = NULL;
    size_t len;
    int rc;

    *out = NULL;
    if (acme__store_ops(store) != &dir_ops)
        return acme_error_set(err, ACME_E_NOTSUP,
                              _("only a directory store has a client.key account key"));
    d = acme_store_self(store);

    rc = read_file(d, ACCOUNT_KEY_FILE, &data, &len, &e);
    if (rc == ACME_OK) {
        acme_error_free(e);
        rc = load_key(out, d, data, len, err);
        acme__free_secret(data);
        return rc;
    }
    if (rc != ACME_E_NOTFOUND)
        return acme__error_give(err, e);
    acme_error_free(e);

    /* Missing: make one.  EC P-256, the library default (txacme made RSA 2048). */
    if ((rc = acme_key_generate(&key, ACME_KEY_EC_P256, err)) < 0)
        return rc;
    if ((rc = acme_key_save_pem(&data, key, ACME_KEY_FORMAT_PKCS8, err)) < 0) {
        acme_key_free(key);
        return rc;
    }
    e = NULL;
    rc = write_atomic(d, ACCOUNT_KEY_FILE, data, strlen(data), true, &e);
    acme__free_secret(data);
    data = NULL;
    if (rc == ACME_OK) {
        acme_error_free(e);
        *out = key;
        return ACME_OK;
    }
    acme_key_free(key);
    if (rc != ACME_E_INVALIDSTATE)
        return acme__error_give(err, e);
    acme_error_free(e);

    /* Another process created it between our read and our link: use theirs. */
    if ((rc = read_file(d, ACCOUNT_KEY_FILE, &data, &len, err)) < 0)
        return rc;
    rc = load_key(out, d, data, len, err);
    acme__free_secret(data);
    return rc;
}
