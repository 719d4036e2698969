/*
 * acmed: hook commands on the service's events (deploy, failure,
 * expiring), the way certbot's --deploy-hook, lego's --run-hook and
 * uacme's hook reload nginx or page someone.
 *
 * A hook is a program and its arguments, split on blanks: no shell runs,
 * so no value from a certificate or an error message is ever parsed as
 * shell syntax; the event comes in ACMED_* environment variables.  The
 * child gets a clean signal mask (acmed blocks its signals for sigwait),
 * and is killed (SIGTERM, then SIGKILL) when it outlives its timeout.
 */
#include "acmed.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define MAX_ARGS 64
/* How long a hook has after SIGTERM before SIGKILL. */
#define KILL_GRACE_MS 2000

/* Split @p cmd on blanks into @p argv (pointers into @p buf). */
static size_t split(char *buf, char **argv, size_t max)
{
    size_t n = 0;

    for (char *p = strtok(buf, " \t"); p && n + 1 < max; p = strtok(NULL, " \t"))
        argv[n++] = p;
    argv[n] = NULL;
    return n;
}

static void format_time(char *out, size_t len, time_t t)
{
    struct tm tm;

    if (t <= 0 || !gmtime_r(&t, &tm))
        *out = '\0';
    else
        strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Wait for @p pid via its pidfd for at most @p ms; true when it exited. */
static bool wait_exit(int pidfd, pid_t pid, int ms, int *status)
{
    struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
    int r;

    do
        r = poll(&pfd, 1, ms);
    while (r < 0 && errno == EINTR);
    if (r <= 0)
        return false;
    while (waitpid(pid, status, 0) < 0)
        if (errno != EINTR)
            return true;
    return true;
}

int acmed_hook_run(const char *command, const acmed_hook_event *ev, unsigned int timeout_s)
{
    char *buf = acmed_strdup(command), *argv[MAX_ARGS], expires[32];
    char **envp;
    size_t nenv = 0, n;
    posix_spawnattr_t attr;
    sigset_t none, deflt;
    pid_t pid;
    int rc, status = 0, pidfd, result = -1;

    if (split(buf, argv, MAX_ARGS) == 0) {
        free(buf);
        return -1;
    }
    format_time(expires, sizeof(expires), ev->not_after);
    for (char **e = environ; *e; e++)
        nenv++;
    envp = calloc(nenv + 10, sizeof(*envp));
    if (!envp) {
        free(buf);
        return -1;
    }
    n = 0;
    /* The parent's environment, less any stale ACMED_* variable. */
    for (char **e = environ; *e; e++)
        if (strncmp(*e, "ACMED_", 6) != 0)
            envp[n++] = *e;
    size_t first = n;
    envp[n++] = acmed_printf("ACMED_EVENT=%s", ev->event);
    envp[n++] = acmed_printf("ACMED_NAME=%s", ev->name ? ev->name : "");
    envp[n++] = acmed_printf("ACMED_CERT_PATH=%s", ev->cert_path ? ev->cert_path : "");
    /* txsni layout: the key is in the same file as the certificate. */
    envp[n++] = acmed_printf("ACMED_KEY_PATH=%s", ev->cert_path ? ev->cert_path : "");
    envp[n++] = acmed_printf("ACMED_CERT_DIR=%s", ev->cert_dir ? ev->cert_dir : "");
    envp[n++] = acmed_printf("ACMED_EXPIRES=%s", expires);
    envp[n++] = acmed_printf("ACMED_ERROR=%s", ev->error ? acme_error_message(ev->error) : "");
    envp[n++] = acmed_printf("ACMED_PROBLEM_TYPE=%s",
                             ev->error && acme_error_problem_type(ev->error)
                                 ? acme_error_problem_type(ev->error) : "");
    envp[n] = NULL;

    /* acmed blocks SIGTERM, SIGINT and SIGHUP in every thread: unblock them
     * in the child and give them their default action. */
    posix_spawnattr_init(&attr);
    sigemptyset(&none);
    sigemptyset(&deflt);
    sigaddset(&deflt, SIGTERM);
    sigaddset(&deflt, SIGINT);
    sigaddset(&deflt, SIGHUP);
    sigaddset(&deflt, SIGPIPE);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &deflt);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    rc = posix_spawnp(&pid, argv[0], NULL, &attr, argv, envp);
    posix_spawnattr_destroy(&attr);
    for (size_t i = first; i < n; i++)
        free(envp[i]);
    free(envp);
    if (rc != 0) {
        acmed_log(ACME_LOG_ERROR, "%s hook for %s: cannot run %s: %s", ev->event, ev->name,
                  argv[0], strerror(rc));
        free(buf);
        return -1;
    }
    pidfd = pidfd_open(pid, 0);
    if (pidfd < 0) {
        /* No pidfd (old kernel): wait without a timeout. */
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    } else {
        if (!wait_exit(pidfd, pid, (int)(timeout_s ? timeout_s : 60) * 1000, &status)) {
            acmed_log(ACME_LOG_ERROR, "%s hook for %s: %s ran out of time; killing it",
                      ev->event, ev->name, argv[0]);
            kill(pid, SIGTERM);
            if (!wait_exit(pidfd, pid, KILL_GRACE_MS, &status)) {
                kill(pid, SIGKILL);
                while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                    ;
            }
            close(pidfd);
            free(buf);
            return -1;
        }
        close(pidfd);
    }
    if (WIFEXITED(status)) {
        result = WEXITSTATUS(status);
        acmed_log(result ? ACME_LOG_WARNING : ACME_LOG_INFO, "%s hook for %s: %s exited with %d",
                  ev->event, ev->name, argv[0], result);
    } else {
        acmed_log(ACME_LOG_WARNING, "%s hook for %s: %s died of signal %d", ev->event, ev->name,
                  argv[0], WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    }
    free(buf);
    return result;
}
