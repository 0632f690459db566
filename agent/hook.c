/* Running the install hook. The child gets its own process group (so a
 * timeout kills everything it started), default signal dispositions, stdin
 * from /dev/null, and an environment built before fork() from PATH and the
 * RF_* variables only — never the agent's own environment, which may hold the
 * enrollment key. No shell is involved. */
#include "hook.h"
#include "rf_util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HOOK_ENV_MAX 8
#define HOOK_VAR_MAX 4200

typedef struct hook_envp {
    char vars[HOOK_ENV_MAX][HOOK_VAR_MAX];
    char *ptrs[HOOK_ENV_MAX + 1];
} hook_envp;

static rf_err build_env(const hook_env *e, hook_envp *out)
{
    const char *path = getenv("PATH");
    const char *names[] = {"PATH",       "RF_ACTION",    "RF_BUNDLE_PATH", "RF_CHANNEL",
                           "RF_VERSION", "RF_BUNDLE_ID", "RF_SHA256"};
    const char *values[] = {path && path[0] ? path : "/usr/sbin:/usr/bin:/sbin:/bin",
                            e->action,
                            e->bundle_path,
                            e->channel,
                            e->version,
                            e->bundle_id,
                            e->sha256};
    size_t n = sizeof(names) / sizeof(names[0]);

    for (size_t i = 0; i < n; i++) {
        if (rf_snprintf(out->vars[i], HOOK_VAR_MAX, "%s=%s", names[i],
                        values[i] ? values[i] : "") != RF_OK)
            return RF_ERR_TOO_LARGE;
        out->ptrs[i] = out->vars[i];
    }
    out->ptrs[n] = NULL;
    return RF_OK;
}

static void child(const char *path, char *const *envp)
{
    char *argv[] = {(char *)path, NULL};
    sigset_t none;
    int fd;

    setpgid(0, 0);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    fd = open("/dev/null", O_RDONLY);
    if (fd >= 0 && fd != STDIN_FILENO) {
        dup2(fd, STDIN_FILENO);
        close(fd);
    }
    close_range(3, ~0U, 0); /* sockets, state files: none of the hook's business */
    execve(path, argv, envp);
    _exit(127);
}

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits for pid up to timeout_s; kills its group when the time is up. */
static rf_err wait_hook(pid_t pid, const char *path, int timeout_s, rf_error *err)
{
    int64_t deadline = rf_monotonic_ms() + (int64_t)timeout_s * 1000;
    long pause = 10;
    int status = 0;

    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR)
            return rf_error_set(err, RF_ERR_IO, "waitpid for hook: %s", strerror(errno));
        if (rf_monotonic_ms() >= deadline) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
            return rf_error_set(err, RF_ERR_IO, "hook %s timed out after %d s and was killed", path,
                                timeout_s);
        }
        nap_ms(pause);
        if (pause < 200)
            pause *= 2;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return RF_OK;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        return rf_error_set(err, RF_ERR_IO, "hook %s could not be executed (status 127)", path);
    if (WIFEXITED(status))
        return rf_error_set(err, RF_ERR_IO, "hook %s exited with status %d", path,
                            WEXITSTATUS(status));
    return rf_error_set(err, RF_ERR_IO, "hook %s was killed by signal %d", path,
                        WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

rf_err hook_run(const char *path, const hook_env *env, int timeout_s, rf_error *err)
{
    hook_envp *envp = calloc(1, sizeof(*envp));
    rf_err rc;
    pid_t pid;

    if (!envp)
        return rf_error_set(err, RF_ERR_NOMEM, "out of memory");
    if (build_env(env, envp) != RF_OK) {
        rc = rf_error_set(err, RF_ERR_TOO_LARGE, "hook environment too large");
        goto out;
    }
    pid = fork();
    if (pid < 0) {
        rc = rf_error_set(err, RF_ERR_IO, "fork: %s", strerror(errno));
        goto out;
    }
    if (pid == 0)
        child(path, envp->ptrs);
    setpgid(pid, pid); /* also here, so kill(-pid) works whoever runs first */
    rc = wait_hook(pid, path, timeout_s, err);
out:
    free(envp);
    return rc;
}
