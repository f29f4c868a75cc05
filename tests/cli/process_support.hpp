// Helpers for the tests that drive the `tempfile` executable: starting it with pipes, reading
// its output, waiting for it and for other processes. Only pipes, waitpid() and pidfds: no
// sleeps.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace tfcli {

namespace fs = std::filesystem;

/// The executable under test.
inline const fs::path kBinary = TEMPFILE_BINARY;

/// A descriptor closed on destruction.
class fd_guard {
 public:
  fd_guard() = default;
  explicit fd_guard(int fd) : fd_(fd) {}
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  fd_guard(fd_guard&& o) noexcept : fd_(o.release()) {}
  fd_guard& operator=(fd_guard&& o) noexcept {
    reset(o.release());
    return *this;
  }
  ~fd_guard() { reset(); }
  [[nodiscard]] int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

/// A started process and our ends of its standard streams.
struct started {
  pid_t pid = -1;
  fd_guard in;   ///< its stdin, when asked for
  fd_guard out;  ///< its stdout
  fd_guard err;  ///< its stderr
};

/// How started() sets up the child.
struct start_options {
  bool pipe_stdin = false;                               ///< else stdin is inherited
  std::vector<std::pair<std::string, std::string>> env;  ///< variables to set
  std::function<void()> in_child;  ///< runs last before exec (may _exit to report a failure)
};

/// Starts `program` with `args`. In the child, before exec: stdout and stderr (and stdin) go to
/// pipes, the signals the tests send get their default disposition and are unblocked (ctest may
/// run us with SIGINT ignored), `env` is set, then `in_child` runs.
started start(const fs::path& program, const std::vector<std::string>& args,
              const start_options& opts = {});

/// Everything until end of file.
std::string read_all(int fd);
/// One line, without its '\n' (what there is at end of file).
std::string read_line(int fd);
/// Writes all of `data`; false on error.
bool write_all(int fd, const std::string& data);

/// waitpid()'s status for `pid`; -1 on error.
int wait_raw(pid_t pid);
/// The shell's view of a waitpid() status: the exit status, or 128+N for signal N.
int shell_status(int raw);
/// shell_status(wait_raw(pid)).
int wait_status(pid_t pid);

/// How a started process ended, and all it wrote.
struct finished {
  int status;  ///< as the shell shows it
  int raw;     ///< as waitpid() gave it
  std::string out;
  std::string err;
};

/// Reads stdout and stderr to their end, then waits for the process.
finished finish(started& s);

/// Runs the executable under test to its end.
finished tempfile_cmd(const std::vector<std::string>& args, const start_options& opts = {});

/// `text` split into lines, without their '\n'.
std::vector<std::string> lines_of(const std::string& text);

/// Waits for a process that is not our child to end (its pidfd becomes readable); false if that
/// takes over a minute, which only bounds a failing test.
bool wait_for_exit_of(pid_t pid);

/// Waits until `path` no longer exists, on inotify events of its parent; false after a minute
/// without any event, which only bounds a failing test.
bool wait_until_gone(const fs::path& path);

/// Writes `text` to the existing file at `path` (for /proc files); false on error.
bool write_file(const char* path, const char* text);

}  // namespace tfcli
