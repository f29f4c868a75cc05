// `tempfile run`: a command in a private temporary directory that is removed afterwards,
// whatever happens. The command in tools/ only parses its arguments and calls run_command().
#pragma once

#include <exception>
#include <filesystem>
#include <functional>
#include <string>
#include <system_error>
#include <vector>

namespace tempfile::detail {

/// What `tempfile run [--keep] [--cd] [--private-tmp] [--prefix P] [--dir DIR] -- COMMAND...`
/// asks for.
struct run_request {
  std::vector<std::string> command;      ///< COMMAND and its arguments; not empty
  bool keep = false;                     ///< leave the directory on disk
  bool cd = false;                       ///< run COMMAND inside the directory
  bool private_tmp = false;              ///< COMMAND sees the directory mounted on /tmp
  std::string prefix = "tempfile-run.";  ///< the directory's name prefix
  std::filesystem::path dir;             ///< where the directory is made; empty: gettempdir()
};

/// What went wrong before COMMAND could run; COMMAND did not run at all then.
enum class run_failure {
  none,
  not_found,          ///< COMMAND was not found (status 127)
  not_executable,     ///< COMMAND was found but could not be executed (status 126)
  namespaces,         ///< --private-tmp: no user or mount namespace, or no bind mount (125)
  working_directory,  ///< --cd: could not enter the directory (125)
  spawn,              ///< fork() or its preparation failed (125)
  wait,               ///< the child could not be waited for (125)
};

/// How a run ended.
struct run_outcome {
  /// The exit status for `tempfile run`: COMMAND's own, 128+N if it died of signal N, 127 or
  /// 126 as in the shell, 125 for a failure of `tempfile run` itself.
  int status = 0;
  run_failure failure = run_failure::none;
  std::error_code error;  ///< with `failure`: the errno of the failing call
  /// The removal of the directory failed (the exception cleanup() threw). With status 0, the
  /// status becomes 125.
  std::exception_ptr cleanup_error;
  /// The guardian could not be started (what start_guardian() threw); the command ran anyway,
  /// and only a SIGKILL of this process would leave the directory behind.
  std::exception_ptr guardian_error;
};

/// The status `tempfile run` uses for its own failures, as GNU env, nice and timeout do.
inline constexpr int kRunOwnFailure = 125;

/// Makes a temporary_directory (prefix and dir from `request`), calls `created` with its path,
/// runs COMMAND with TMPDIR, TMP and TEMP set to it (/tmp with private_tmp), forwarding SIGINT,
/// SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 (COMMAND is sent SIGKILL if this process dies
/// without waiting for it), waits for it, then removes the directory unless `keep`. Where the
/// guardian is available it is started first, so that the directory is removed even if this process
/// is killed outright. Errors: std::invalid_argument for a bad prefix, filesystem_error when the
/// directory cannot be made (nothing ran then); everything after that is reported in the outcome.
[[nodiscard]] run_outcome run_command(
    const run_request& request, const std::function<void(const std::filesystem::path&)>& created);

}  // namespace tempfile::detail
