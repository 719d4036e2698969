/*
 * acme-issue: a small example of the libacme client API.
 *
 * Issues one certificate for the names given and writes it in the txsni
 * layout: DIR/NAME.pem (key, certificate, chain) and DIR/client.key (the
 * account key, made on first use).  Challenges are answered by a hook
 * program called with uacme's hook arguments:
 *
 *     HOOK begin|done TYPE IDENTIFIER TOKEN KEY_AUTHORIZATION
 *
 * (for dns-01 the last argument is the TXT record value, as uacme does).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <acme/acme.h>
#include <acme/sys/error.h>
#include <acme/sys/responder.h>

extern char **environ;

typedef struct hook {
    const char *program;
    const char *type;
} hook;

static int run_hook(const hook *h, const char *method, const char *name, const acme_challenge *ch,
                    const char *keyauth, acme_error **err)
{
    char *value = NULL;
    const char *arg = keyauth;
    pid_t pid;
    int status, rc;

    if (strcmp(h->type, "dns-01") == 0) {
        if ((rc = acme_dns01_txt_value(&value, keyauth, err)) < 0)
            return rc;
        arg = value;
    }
    char *argv[] = { (char *)h->program, (char *)method, (char *)h->type, (char *)name,
                     (char *)acme_challenge_token(ch), (char *)arg, NULL };
    rc = posix_spawnp(&pid, h->program, NULL, NULL, argv, environ);
    acme_free(value);
    if (rc != 0)
        return acme_error_set(err, ACME_E_IO, "cannot run hook %s: %s", h->program, strerror(rc));
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return acme_error_set(err, ACME_E_IO, "waitpid: %s", strerror(errno));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return acme_error_set(err, ACME_E_IO, "hook %s %s %s failed (status %d)", h->program,
                              method, name, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return ACME_OK;
}

static int hook_start(void *self, const char *name, const acme_challenge *ch, const char *keyauth,
                      acme_error **err)
{
    return run_hook(self, "begin", name, ch, keyauth, err);
}

static void hook_stop(void *self, const char *name, const acme_challenge *ch, const char *keyauth)
{
    acme_error *err = NULL;

    if (run_hook(self, "done", name, ch, keyauth, &err) < 0) {
        fprintf(stderr, "acme-issue: %s\n", acme_error_message(err));
        acme_error_free(err);
    }
}

static const acme_responder_ops hook_http01 = {
    .version = ACME_RESPONDER_OPS_VERSION, .name = "hook", .challenge_type = "http-01",
    .start = hook_start, .stop = hook_stop,
};
static const acme_responder_ops hook_dns01 = {
    .version = ACME_RESPONDER_OPS_VERSION, .name = "hook", .challenge_type = "dns-01",
    .start = hook_start, .stop = hook_stop,
};
static const acme_responder_ops hook_tlsalpn01 = {
    .version = ACME_RESPONDER_OPS_VERSION, .name = "hook", .challenge_type = "tls-alpn-01",
    .start = hook_start, .stop = hook_stop,
};

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n + 1)) && fread(buf, 1, (size_t)n, f) == (size_t)n) {
        buf[n] = '\0';
        *len = (size_t)n;
    } else {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

/* Write a file atomically: a temporary file beside it, fsync, rename. */
static int write_file(const char *path, const char *a, const char *b)
{
    char tmp[4096];
    int fd, ok;

    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
        return -1;
    ok = write(fd, a, strlen(a)) == (ssize_t)strlen(a) &&
         (!b || write(fd, b, strlen(b)) == (ssize_t)strlen(b)) && fsync(fd) == 0;
    if (close(fd) != 0 || !ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int load_or_make_account_key(acme_key **key, const char *dir, acme_error **err)
{
    char path[4096];
    size_t len;
    char *pem;
    int rc;

    snprintf(path, sizeof(path), "%s/client.key", dir);
    if ((pem = read_file(path, &len))) {
        rc = acme_key_load_pem(key, pem, len, err);
        free(pem);
        return rc;
    }
    if ((rc = acme_key_generate(key, ACME_KEY_DEFAULT, err)) < 0 ||
        (rc = acme_key_save_pem(&pem, *key, ACME_KEY_FORMAT_PKCS8, err)) < 0)
        return rc;
    rc = write_file(path, pem, NULL);
    acme_free(pem);
    if (rc < 0)
        return acme_error_set(err, ACME_E_IO, "cannot write %s: %s", path, strerror(errno));
    return ACME_OK;
}

static void usage(FILE *f)
{
    fputs("usage: acme-issue -d DIRECTORY_URL -k HOOK [options] NAME...\n"
          "  -d, --directory URL   the CA's ACME directory\n"
          "  -k, --hook PROGRAM    answers challenges: PROGRAM begin|done TYPE NAME TOKEN AUTH\n"
          "  -t, --type TYPE       challenge type: http-01 (default), dns-01, tls-alpn-01\n"
          "  -o, --out DIR         certificate directory (default .)\n"
          "  -c, --ca-file FILE    trust this CA bundle for the ACME server\n"
          "  -e, --email ADDR      account contact\n"
          "  -v, --verbose         log to stderr\n"
          "  -h, --help\n", f);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "directory", required_argument, NULL, 'd' }, { "hook", required_argument, NULL, 'k' },
        { "type", required_argument, NULL, 't' },      { "out", required_argument, NULL, 'o' },
        { "ca-file", required_argument, NULL, 'c' },   { "email", required_argument, NULL, 'e' },
        { "verbose", no_argument, NULL, 'v' },         { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *directory = NULL, *outdir = ".", *ca_file = NULL, *email = NULL;
    hook h = { NULL, "http-01" };
    acme_client_options copts = ACME_CLIENT_OPTIONS_INIT;
    acme_account_options aopts = ACME_ACCOUNT_OPTIONS_INIT;
    acme_issue_options iopts = ACME_ISSUE_OPTIONS_INIT;
    const acme_responder_ops *ops;
    acme_responder *responder = NULL;
    acme_client *client = NULL;
    acme_key *account_key = NULL;
    acme_error *err = NULL;
    char *key_pem = NULL, *chain_pem = NULL, *contact = NULL, path[4096];
    int opt, verbose = 0, rc;

    while ((opt = getopt_long(argc, argv, "d:k:t:o:c:e:vh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'd': directory = optarg; break;
        case 'k': h.program = optarg; break;
        case 't': h.type = optarg; break;
        case 'o': outdir = optarg; break;
        case 'c': ca_file = optarg; break;
        case 'e': email = optarg; break;
        case 'v': verbose = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!directory || !h.program || optind >= argc) {
        usage(stderr);
        return 2;
    }
    if (strcmp(h.type, "http-01") == 0)
        ops = &hook_http01;
    else if (strcmp(h.type, "dns-01") == 0)
        ops = &hook_dns01;
    else if (strcmp(h.type, "tls-alpn-01") == 0)
        ops = &hook_tlsalpn01;
    else {
        fprintf(stderr, "acme-issue: unknown challenge type %s\n", h.type);
        return 2;
    }
    if (acme_global_init() != ACME_OK) {
        fprintf(stderr, "acme-issue: cannot initialise libacme\n");
        return 1;
    }
    if ((rc = load_or_make_account_key(&account_key, outdir, &err)) < 0)
        goto out;
    copts.directory_url = directory;
    copts.account_key = account_key;
    copts.ca_file = ca_file;
    copts.user_agent = "acme-issue";
    if (verbose) {
        copts.log = acme_log_stderr;
        copts.log_level = ACME_LOG_DEBUG;
    }
    if ((rc = acme_client_new(&client, &copts, &err)) < 0)
        goto out;
    aopts.terms_agreed = true;
    if (email) {
        contact = malloc(strlen(email) + 8);
        if (!contact) {
            rc = acme_error_set(&err, ACME_E_NOMEM, "out of memory");
            goto out;
        }
        sprintf(contact, "mailto:%s", email);
        aopts.contact = (const char *const *)&contact;
        aopts.ncontact = 1;
    }
    if ((rc = acme_client_account_register(client, &aopts, NULL, &err)) < 0)
        goto out;
    if ((rc = acme_responder_new(&responder, ops, &h, &err)) < 0)
        goto out;
    iopts.names = (const char *const *)&argv[optind];
    iopts.nnames = (size_t)(argc - optind);
    iopts.responders = &responder;
    iopts.nresponders = 1;
    if ((rc = acme_client_issue(&key_pem, &chain_pem, client, &iopts, &err)) < 0)
        goto out;
    snprintf(path, sizeof(path), "%s/%s.pem", outdir, argv[optind]);
    if (write_file(path, key_pem, chain_pem) < 0) {
        rc = acme_error_set(&err, ACME_E_IO, "cannot write %s: %s", path, strerror(errno));
        goto out;
    }
    printf("%s\n", path);
out:
    if (rc < 0)
        fprintf(stderr, "acme-issue: %s (%s)\n", err ? acme_error_message(err) : acme_strerror(rc),
                acme_status_name(rc));
    acme_error_free(err);
    if (key_pem)
        memset(key_pem, 0, strlen(key_pem));
    acme_free(key_pem);
    acme_free(chain_pem);
    free(contact);
    acme_responder_free(responder);
    acme_client_free(client);
    acme_key_free(account_key);
    acme_global_cleanup();
    return rc < 0 ? 1 : 0;
}
