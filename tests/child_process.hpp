// Child processes for the crash, signal, guardian and fork tests: a fork()ed child running a
// function, pipes both ways, and waits that await an event (a line on a pipe, a pidfd becoming
// readable, inotify) rather than sleep. Every wait has a generous upper bound that only limits
// how long a failing test takes.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "test_support.hpp"  // names_in

namespace tftest {

/// The most a test waits for an event that should take milliseconds.
inline constexpr int kEventTimeoutMs = 10'000;

/// A descriptor closed on destruction.
class unique_fd {
 public:
  unique_fd() = default;
  explicit unique_fd(int fd) : fd_(fd) {}
  unique_fd(unique_fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  unique_fd& operator=(unique_fd&& o) noexcept {
    if (this != &o) reset(std::exchange(o.fd_, -1));
    return *this;
  }
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  ~unique_fd() { reset(); }
  [[nodiscard]] int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

/// A pidfd for any process (not only a child); invalid if the process is already gone.
inline unique_fd pidfd_of(pid_t pid) {
  return unique_fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
}

/// True once the process behind `pidfd` has ended, waiting at most `timeout_ms`.
inline bool wait_pidfd(int pidfd, int timeout_ms = kEventTimeoutMs) {
  pollfd p{pidfd, POLLIN, 0};
  for (;;) {
    const int n = ::poll(&p, 1, timeout_ms);
    if (n >= 0) return n == 1;
    if (errno != EINTR) return false;
  }
}

/// True while `pid` runs (its pidfd is not readable); false for an ended or unknown process.
inline bool is_running(int pidfd) { return pidfd >= 0 && !wait_pidfd(pidfd, 0); }

/// Writes all of `text`; false on error.
inline bool write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

/// One line from `fd`, without its '\n'; what there is at end of file or after `timeout_ms`
/// without data (a failing test's bound). Reads byte by byte so nothing after the line is lost.
inline std::string read_line(int fd, int timeout_ms = kEventTimeoutMs) {
  std::string line;
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    const int r = ::poll(&p, 1, timeout_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return line;
    char c;
    const ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || c == '\n') return line;
    line += c;
  }
}

/// Everything until end of file (or `timeout_ms` without data).
inline std::string read_all(int fd, int timeout_ms = kEventTimeoutMs) {
  std::string out;
  char buf[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    const int r = ::poll(&p, 1, timeout_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return out;
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return out;
    out.append(buf, static_cast<std::size_t>(n));
  }
}

/// Blocks until `fd` has data or reaches end of file: how a child waits to be killed. poll() is
/// where ThreadSanitizer delivers a signal that arrives meanwhile.
inline void block_on(int fd) {
  pollfd p{fd, POLLIN, 0};
  while (::poll(&p, 1, -1) < 0 && errno == EINTR) {
  }
}

/// How a waitpid() status reads: "exit 0", "signal 9 (Killed)", "timeout".
inline std::string describe_status(int status) {
  if (status == -1) return "timeout (killed by the test)";
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return "signal " + std::to_string(WTERMSIG(status)) + " (" + ::strsignal(WTERMSIG(status)) +
           ")";
  }
  return "status " + std::to_string(status);
}

/// A fork()ed child running a function, with a pipe from it (`from`) and one to it (`to`).
struct child {
  pid_t pid = -1;
  unique_fd from;  ///< what the child writes to its `out` descriptor
  unique_fd to;    ///< the child reads this from its `in` descriptor
  unique_fd pidfd;

  /// Waits (at most `timeout_ms`, then SIGKILLs it) and reaps; the waitpid() status, or -1 on
  /// timeout.
  int wait(int timeout_ms = kEventTimeoutMs) {
    if (pid < 0) return -1;
    const bool ended = wait_pidfd(pidfd.get(), timeout_ms);
    if (!ended) ::kill(pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    pid = -1;
    return ended ? status : -1;
  }
  child() = default;
  child(child&& o) noexcept
      : pid(std::exchange(o.pid, -1)),
        from(std::move(o.from)),
        to(std::move(o.to)),
        pidfd(std::move(o.pidfd)) {}
  child& operator=(child&&) = delete;
  child(const child&) = delete;
  child& operator=(const child&) = delete;
  ~child() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      wait();
    }
  }
};

/// The signals a test sends or raises get their default disposition and are unblocked (ctest,
/// or a shell, may start us with some of them ignored), and no core file is written.
inline void reset_child_signals() {
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT,
                  SIGPIPE, SIGCHLD, SIGUSR1}) {
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(sig, &dfl, nullptr);
  }
  sigset_t all;
  ::sigemptyset(&all);
  ::sigprocmask(SIG_SETMASK, &all, nullptr);
  const rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
}

/// Runs `body(out, in)` in a fork()ed child whose exit status is what body returns (an
/// exception is written to `out` as "FAIL: <what>" and gives 99). The child never returns into
/// the test framework: it leaves with _exit(), or dies.
inline child spawn(const std::function<int(int out, int in)>& body) {
  int up[2];
  int down[2];
  if (::pipe2(up, O_CLOEXEC) != 0 || ::pipe2(down, O_CLOEXEC) != 0) return {};
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(up[0]);
    ::close(down[1]);
    reset_child_signals();
    int code = 99;
    try {
      code = body(up[1], down[0]);
    } catch (const std::exception& e) {
      write_all(up[1], std::string("FAIL: ") + e.what() + "\n");
    } catch (...) {
      write_all(up[1], "FAIL: unknown exception\n");
    }
    ::_exit(code);
  }
  ::close(up[1]);
  ::close(down[0]);
  child c;
  c.pid = pid;
  c.from.reset(up[0]);
  c.to.reset(down[1]);
  c.pidfd = pidfd_of(pid);
  return c;
}

/// Makes a small tree under `dir`: files, nested subdirectories, a read-only directory with a
/// file in it, and a symbolic link to `outside` (which a removal must not follow).
inline void populate_tree(const std::filesystem::path& dir, const std::filesystem::path& outside) {
  namespace fs = std::filesystem;
  for (const char* name : {"a.txt", "b.bin"}) {
    FILE* f = std::fopen((dir / name).c_str(), "w");
    if (f == nullptr) throw std::runtime_error("cannot create " + (dir / name).string());
    std::fputs("content\n", f);
    std::fclose(f);
  }
  fs::create_directories(dir / "sub" / "deeper" / "deepest");
  std::fclose(std::fopen((dir / "sub" / "deeper" / "file").c_str(), "w"));
  fs::create_directory(dir / "readonly");
  std::fclose(std::fopen((dir / "readonly" / "locked").c_str(), "w"));
  fs::permissions(dir / "readonly", fs::perms::owner_read | fs::perms::owner_exec);
  fs::create_symlink(outside, dir / "link_out");
}

}  // namespace tftest
