/*
 * responders: the http-01 webroot responder (RFC 8555 §8.3): another web
 * server serves a document root, and we put each challenge there as
 * `<root>/.well-known/acme-challenge/<token>` for as long as it is in
 * flight.
 *
 * Nothing may land outside the root, whatever the token or the state of
 * the tree: the token is checked to be base64url (no "/", no ".."), and the
 * two directories are created and opened relative to a descriptor of the
 * root with O_NOFOLLOW, so a symbolic link planted at .well-known or
 * acme-challenge (say, by a less trusted user of the web server) is
 * refused rather than followed.  The file is made under a temporary name
 * with O_EXCL|O_NOFOLLOW and renamed over the token's name, which
 * replaces a link there instead of writing through it.
 *
 * Lock: webroot.lock guards the entries and the record of what we made;
 * it is held across the file system calls so that a start and a stop of
 * the same token (or two first starts) cannot interleave.  It is a leaf
 * lock, and no callback runs under it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <acme/client.h>
#include <acme/http01.h>
#include <acme/sys/error.h>
#include <acme/sys/responder.h>

#include "responders/http01-int.h"
#include "util/i18n.h"
#include "util/util.h"

static const char dir1[] = ".well-known";
static const char dir2[] = "acme-challenge";

typedef struct webroot {
    pthread_mutex_t lock;
    char *root;           /* immutable */
    acme__http01_set set; /* guarded by lock: the tokens we wrote, counted */
    bool made_dir1;       /* guarded by lock: we created <root>/.well-known */
    bool made_dir2;       /* guarded by lock: we created .../acme-challenge */
} webroot;

static int io_error(acme_error **err, int errnum, const char *what, const char *root, const char *rest)
{
    char buf[128];

    return acme_error_set(err, ACME_E_IO, _("http-01 webroot: cannot %s %s/%s: %s"), what, root,
                          rest, acme__http01_errstr(errnum, buf, sizeof(buf)));
}

/*
 * Open directory @p name under @p parent without following a link;
 * create it (0755) first when @p create is set, recording in *made that
 * we did.  Returns the descriptor, or -1 with errno set.
 */
static int open_dir(int parent, const char *name, bool create, bool *made)
{
    int fd;

    if (create) {
        if (mkdirat(parent, name, 0755) == 0)
            *made = true;
        else if (errno != EEXIST)
            return -1;
    }
    /* ELOOP (or ENOTDIR) when name is a symbolic link: refused, not followed. */
    fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0 && create && *made) {
        /* mkdirat's mode went through the umask; the web server must read it. */
        (void)fchmod(fd, 0755);
    }
    return fd;
}

/*
 * The descriptor of <root>/.well-known/acme-challenge, or -1 with *err
 * set.  With @p create, missing directories are made.
 */
static int open_challenge_dir(webroot *w, bool create, acme_error **err)
{
    int rootfd, fd1, fd2, e;
    bool made1 = false, made2 = false;

    /* The root itself is the administrator's choice and may be a link. */
    if ((rootfd = open(w->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return io_error(err, errno, _("open"), w->root, ""), -1;
    fd1 = open_dir(rootfd, dir1, create, &made1);
    e = errno;
    close(rootfd);
    if (fd1 < 0)
        return io_error(err, e, _("open directory"), w->root, dir1), -1;
    if (made1)
        w->made_dir1 = true;
    fd2 = open_dir(fd1, dir2, create, &made2);
    e = errno;
    close(fd1);
    if (fd2 < 0)
        return io_error(err, e, _("open directory"), w->root, ".well-known/acme-challenge"), -1;
    if (made2)
        w->made_dir2 = true;
    return fd2;
}

/* Write @p body to <dir>/<token> through a temporary file and a rename. */
static int write_token(webroot *w, int dirfd, const char *token, const char *body, acme_error **err)
{
    char *tmp = acme__asprintf(".%s.tmp", token);
    char *rel = acme__asprintf(".well-known/acme-challenge/%s", token);
    size_t len = strlen(body), off = 0;
    int fd = -1, rc = ACME_OK;

    if (!tmp || !rel) {
        rc = acme_error_set(err, ACME_E_NOMEM, _("out of memory"));
        goto out;
    }
    /* A temporary file left by a crash: remove it (a link is removed, not followed). */
    (void)unlinkat(dirfd, tmp, 0);
    fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = io_error(err, errno, _("create"), w->root, rel);
        goto out;
    }
    while (off < len) {
        ssize_t k = write(fd, body + off, len - off);

        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            rc = io_error(err, k < 0 ? errno : EIO, _("write"), w->root, rel);
            goto out;
        }
        off += (size_t)k;
    }
    /*
     * The umask may have narrowed 0644; the web server (often another
     * user) must read the file.  No fsync: a challenge outlives no crash.
     */
    if (fchmod(fd, 0644) != 0) {
        rc = io_error(err, errno, _("chmod"), w->root, rel);
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        rc = io_error(err, errno, _("write"), w->root, rel);
        goto out;
    }
    fd = -1;
    /* Atomic: the web server sees no file or the whole key authorization. */
    if (renameat(dirfd, tmp, dirfd, token) != 0)
        rc = io_error(err, errno, _("rename into"), w->root, rel);
out:
    if (fd >= 0)
        close(fd);
    if (rc != ACME_OK && tmp)
        (void)unlinkat(dirfd, tmp, 0);
    free(tmp);
    free(rel);
    return rc;
}

/* Remove the directories start made, once they are empty.  Lock held. */
static void remove_made_dirs(webroot *w)
{
    int rootfd, fd1;

    if (!w->made_dir1 && !w->made_dir2)
        return;
    if ((rootfd = open(w->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return;
    fd1 = openat(rootfd, dir1, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    /* Not empty (someone else put files there): left alone, and forgotten. */
    if (fd1 >= 0 && w->made_dir2)
        (void)unlinkat(fd1, dir2, AT_REMOVEDIR);
    w->made_dir2 = false;
    if (fd1 >= 0)
        close(fd1);
    if (w->made_dir1)
        (void)unlinkat(rootfd, dir1, AT_REMOVEDIR);
    w->made_dir1 = false;
    close(rootfd);
}


static int webroot_start(void *self, const char *name, const acme_challenge *ch,
                         const char *key_authorization, acme_error **err)
{
    webroot *w = self;
    const char *token = ch ? acme_challenge_token(ch) : NULL;
    bool added = false;
    int rc = ACME_OK, dirfd;

    if (!acme__http01_name_ok(name))
        return acme_error_set(err, ACME_E_INVALID, _("http-01: invalid identifier"));
    /* The token names a file: checked before it comes near a path. */
    if ((rc = acme__http01_check(token, key_authorization, err)) != ACME_OK)
        return rc;

    pthread_mutex_lock(&w->lock);
    /* A token already in flight is only counted: its file is there. */
    if ((rc = acme__http01_set_add(&w->set, token, key_authorization, &added, err)) != ACME_OK ||
        !added)
        goto out;
    if ((dirfd = open_challenge_dir(w, true, err)) < 0) {
        rc = ACME_E_IO;
    } else {
        rc = write_token(w, dirfd, token, key_authorization, err);
        close(dirfd);
    }
    if (rc != ACME_OK) {
        (void)acme__http01_set_remove(&w->set, token); /* its only start */
        if (w->set.n == 0)
            remove_made_dirs(w);
    }
out:
    pthread_mutex_unlock(&w->lock);
    return rc;
}

static void webroot_stop(void *self, const char *name, const acme_challenge *ch,
                         const char *key_authorization)
{
    webroot *w = self;
    const char *token = ch ? acme_challenge_token(ch) : NULL;
    int dirfd;

    (void)name;
    (void)key_authorization;
    if (!token)
        return;
    pthread_mutex_lock(&w->lock);
    if (acme__http01_set_remove(&w->set, token) != 1)
        goto out; /* unknown, or still started elsewhere */
    /* Only a token we started reaches here, so it was checked to be base64url. */
    if ((dirfd = open_challenge_dir(w, false, NULL)) >= 0) {
        (void)unlinkat(dirfd, token, 0);
        close(dirfd);
    }
    if (w->set.n == 0)
        remove_made_dirs(w);
out:
    pthread_mutex_unlock(&w->lock);
}

static void webroot_destroy(void *self)
{
    webroot *w = self;

    if (!w)
        return;
    /*
     * Every start has had its stop by now (the client guarantees it), so
     * no file is left; free what remains in case a caller broke that.
     */
    acme__http01_set_clear(&w->set);
    free(w->root);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

static const acme_responder_ops webroot_ops = {
    .version = ACME_RESPONDER_OPS_VERSION,
    .name = "http-01 webroot",
    .challenge_type = "http-01",
    .flags = 0,
    .start = webroot_start,
    .stop = webroot_stop,
    .destroy = webroot_destroy,
};

int acme_responder_http01_webroot_new(acme_responder **out, const char *root, acme_error **err)
{
    webroot *w;
    struct stat st;

    if (out)
        *out = NULL;
    if (!out || !root || !*root)
        return acme_error_set(err, ACME_E_INVALID, _("http-01 webroot: no document root"));
    if (stat(root, &st) != 0 || !S_ISDIR(st.st_mode))
        return acme_error_set(err, ACME_E_NOTFOUND, _("http-01 webroot: %s is not a directory"), root);
    if (!(w = calloc(1, sizeof(*w))))
        return acme_error_set(err, ACME_E_NOMEM, _("out of memory"));
    if (pthread_mutex_init(&w->lock, NULL) != 0) {
        free(w);
        return acme_error_set(err, ACME_E_NOMEM, _("http-01: cannot make a mutex"));
    }
    if (!(w->root = acme__strdup(root))) {
        webroot_destroy(w);
        return acme_error_set(err, ACME_E_NOMEM, _("out of memory"));
    }
    return acme_responder_new(out, &webroot_ops, w, err);
}
