// The platform contract for running a child process: spawning it (optionally with a private
// /tmp in a user and mount namespace), forwarding this process's termination signals to it,
// and waiting for it. Implemented in posix_spawn.cpp; used by `tempfile run` (src/run.cpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace tempfile::detail::platform {

/// What to start.
struct spawn_request {
  /// The command and its arguments; argv[0] is searched in $PATH as execvp(3) does.
  std::vector<std::string> argv;
  /// Variables set (or replaced) in the child's environment, which is otherwise this process's.
  std::vector<std::pair<std::string, std::string>> environment;
  /// The child's working directory (as seen inside its namespace); empty: this process's.
  std::filesystem::path working_directory;
  /// Non-empty: the child runs in a new mount namespace (and, unless this process is root, a
  /// new user namespace mapping only its own uid and gid) where this directory is bind-mounted
  /// on /tmp.
  std::filesystem::path private_tmp;
};

/// The step at which a spawn failed; nothing of the command ran in any case.
enum class spawn_stage {
  none,               ///< it did not fail
  prepare,            ///< fork(), pipe() or signal set-up in this process
  namespaces,         ///< unshare(), the uid/gid maps or the bind mount on /tmp
  working_directory,  ///< chdir()
  exec,               ///< execvp(): ENOENT when the command was not found
};

/// How a child ended.
struct child_exit {
  bool signaled = false;  ///< killed by a signal (`value` is the signal number)
  int value = 0;          ///< the exit status, or the signal number
};

/// Blocks the signals spawn_child() forwards, so that one that arrives while the child is being
/// prepared is not lost: it is forwarded to the child once spawn_child() has one, or, if none is
/// started, delivered as usual by stop_forwarding(). Optional; idempotent.
void hold_signals() noexcept;

/// Starts `request` and waits until it is running the command (its exec succeeded) or failed.
/// One child at a time per process, started from a single-threaded process (the signal mask
/// that closes the race with fork() is per thread).
///
/// From this call on, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 sent to this process
/// are forwarded to the child while it runs, and dropped once it has ended, until
/// stop_forwarding() (those this process ignores stay ignored, in the child too). Signals that
/// the terminal sends to the whole foreground process group reach the child directly and are
/// not sent a second time. The child starts with the dispositions this process had (default
/// where it had a handler) and its signal mask. Should this process die without waiting for it
/// (SIGKILL), the child is sent SIGKILL. Returns the child's pid, or -1 with `stage` and `ec`
/// saying what failed (the child, if any, has been reaped then). Either way, call
/// stop_forwarding() when done, after any cleanup that a signal must not interrupt.
std::int64_t spawn_child(const spawn_request& request, spawn_stage& stage,
                         std::error_code& ec) noexcept;

/// Waits for the child started by spawn_child() to end (retrying EINTR). The forwarding handlers
/// stay installed, with nobody to forward to, so that a late signal cannot interrupt the
/// cleanup that follows. Errors: sets `ec` and returns {}.
child_exit wait_child(std::int64_t pid, std::error_code& ec) noexcept;

/// Puts back the dispositions spawn_child() replaced and the signal mask hold_signals() or
/// spawn_child() changed (a signal held until then is delivered now). Idempotent.
void stop_forwarding() noexcept;

}  // namespace tempfile::detail::platform
