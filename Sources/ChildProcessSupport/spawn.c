// fork + exec rather than posix_spawn: posix_spawn cannot ask for PR_SET_PDEATHSIG, and without
// it a compiler whose cnnc was SIGKILLed (the OOM killer, `kill -9`, `timeout -s KILL`) keeps
// running and writing into the cache. Between fork and exec only async-signal-safe calls are made.
#define _GNU_SOURCE
#include "ChildProcessSupport.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/syscall.h>
#endif
#ifdef __linux__
#include <sys/prctl.h>
#endif

extern char **environ;

static void report_and_exit(int report_fd, int code) {
    ssize_t ignored = write(report_fd, &code, sizeof code);
    (void)ignored;
    _exit(127);
}

/// Closes every descriptor from 3 up except `keep`; only async-signal-safe calls.
static void close_other_descriptors(int keep) {
#if defined(__linux__) && defined(SYS_close_range)
    if (keep > 3) syscall(SYS_close_range, 3U, (unsigned)keep - 1, 0U);
    if (syscall(SYS_close_range, (unsigned)keep + 1, ~0U, 0U) == 0) return;
#endif
    long limit = sysconf(_SC_OPEN_MAX);
    if (limit < 0 || limit > 65536) limit = 65536;
    for (int fd = 3; fd < limit; fd++) {
        if (fd != keep) close(fd);
    }
}

int cnnc_pipe_cloexec(int fds[2]) {
#ifdef __linux__
    return pipe2(fds, O_CLOEXEC);
#else
    // No pipe2: a fork on another thread in between could inherit these; cnnc's runner is the
    // only one that forks, and it holds the registry's lock while it does.
    if (pipe(fds) != 0) return -1;
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    return 0;
#endif
}

int cnnc_spawn(const char *path, char *const argv[], const char *directory,
               int input_fd, int output_fd, pid_t *pid) {
    // The child writes its errno here if it cannot start; exec closes it (O_CLOEXEC) on success.
    int report[2];
    if (cnnc_pipe_cloexec(report) != 0) return errno;
    pid_t parent = getpid();
    pid_t child = fork();
    if (child < 0) {
        int code = errno;
        close(report[0]);
        close(report[1]);
        return code;
    }
    if (child == 0) {
        setpgid(0, 0);
#ifdef __linux__
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);  // the parent died before prctl
#else
        (void)parent;
#endif
        // Handlers do not survive exec but ignored signals do (SIGPIPE); reset every one.
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_handler = SIG_DFL;
        sigemptyset(&action.sa_mask);
        for (int sig = 1; sig < NSIG; sig++) {
            if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &action, NULL);
        }
        sigset_t empty;
        sigemptyset(&empty);
        sigprocmask(SIG_SETMASK, &empty, NULL);
        if (dup2(input_fd, 0) < 0 || dup2(output_fd, 1) < 0 || dup2(output_fd, 2) < 0) report_and_exit(report[1], errno);
        if (directory && chdir(directory) != 0) report_and_exit(report[1], errno);
        // Descriptors another thread opened without O_CLOEXEC (a file being written, a pipe)
        // must not live on in the compiler: a script held open for writing cannot be exec'd
        // (ETXTBSY), and a held pipe never reports end of file.
        close_other_descriptors(report[1]);
        execve(path, argv, environ);
        report_and_exit(report[1], errno);
    }
    close(report[1]);
    int code = 0;
    ssize_t got;
    do { got = read(report[0], &code, sizeof code); } while (got < 0 && errno == EINTR);
    close(report[0]);
    if (got == (ssize_t)sizeof code) {
        // It never ran: reap it here so the caller has nothing to wait for.
        int status;
        while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
        return code ? code : ECHILD;
    }
    *pid = child;
    return 0;
}

int cnnc_child_ended(pid_t pid) {
    siginfo_t info;
    memset(&info, 0, sizeof info);
    int result;
    do { result = waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT); } while (result < 0 && errno == EINTR);
    if (result < 0) return -1;
    return info.si_pid == pid ? 1 : 0;
}

int cnnc_reap(pid_t pid, int *code, int *signal) {
    int status = 0;
    pid_t got;
    do { got = waitpid(pid, &status, 0); } while (got < 0 && errno == EINTR);
    if (got < 0) return -1;
    *code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
    *signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    return 0;
}
