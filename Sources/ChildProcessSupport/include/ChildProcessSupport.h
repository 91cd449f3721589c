#ifndef CNNC_CHILD_PROCESS_SUPPORT_H
#define CNNC_CHILD_PROCESS_SUPPORT_H

#include <sys/types.h>

/// Starts `path` with `argv` (NULL-terminated) and the caller's environment, in a process group
/// of its own, with an empty signal mask and every signal at its default action, stdin from
/// `input_fd` and stdout and stderr to `output_fd`, in `directory` when it is not NULL. On Linux
/// the child gets SIGKILL when the calling thread dies (PR_SET_PDEATHSIG), so a compiler never
/// outlives a cnnc that was killed outright. Returns 0 and sets `*pid`, or an errno value (from
/// fork, chdir or exec).
int cnnc_spawn(const char *path, char *const argv[], const char *directory,
               int input_fd, int output_fd, pid_t *pid);

/// pipe() with both ends close-on-exec from the start, so a child started by another thread at
/// the same moment cannot inherit them (and hold a pipe open). 0, or -1 and errno.
int cnnc_pipe_cloexec(int fds[2]);

/// 1 when `pid` has ended, 0 while it runs, -1 on error. It is not reaped, so while it is a
/// zombie neither its pid nor its process group can be reused: signalling the group is safe.
int cnnc_child_ended(pid_t pid);

/// Reaps `pid` (which has ended): its exit status in `*code`, or the signal that ended it in
/// `*signal` (0 for a normal exit). 0, or -1 and errno.
int cnnc_reap(pid_t pid, int *code, int *signal);

#endif
