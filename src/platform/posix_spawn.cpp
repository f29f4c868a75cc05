// Running a child process (process.hpp): fork + execvpe, with an optional private /tmp in a user
// and mount namespace (Linux), signal forwarding and waiting. Nothing here allocates between
// fork() and exec: everything the child needs is prepared before.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "platform/process.hpp"

extern char** environ;

namespace tempfile::detail::platform {

namespace {

constexpr std::array<int, 6> kForwarded = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

// The child signals are forwarded to; 0 when there is none (a signal is then dropped).
std::atomic<pid_t> g_child{0};
// The dispositions replaced by the forwarding handler, restored by stop_forwarding().
struct saved_disposition {
  struct sigaction action;
  bool replaced = false;
};
std::array<saved_disposition, kForwarded.size()> g_saved;
// The signal mask from before hold_signals() or spawn_child() blocked the forwarded signals.
sigset_t g_original_mask;
bool g_held = false;  // the forwarded signals are blocked, g_original_mask is valid

// Blocks the forwarded signals, remembering the mask from before; idempotent.
void block_forwarded() noexcept {
  if (g_held) return;
  sigset_t forwarded;
  sigemptyset(&forwarded);
  for (const int sig : kForwarded) sigaddset(&forwarded, sig);
  g_held = ::pthread_sigmask(SIG_BLOCK, &forwarded, &g_original_mask) == 0;
}

// Puts the mask from before block_forwarded() back: a signal held meanwhile is delivered now.
void unblock_forwarded() noexcept {
  if (!g_held) return;
  g_held = false;
  ::pthread_sigmask(SIG_SETMASK, &g_original_mask, nullptr);
}

// SIGCHLD, when whoever started us ignored it: the child would then be reaped by the kernel and
// waitpid() could not tell how it ended, so it gets the default disposition meanwhile.
saved_disposition g_saved_sigchld;

void forward_signal(int sig, siginfo_t* info, void*) {
  const int saved_errno = errno;
  const pid_t child = g_child.load(std::memory_order_relaxed);
  // SI_KERNEL: the terminal sent it to the whole foreground process group, the child included.
  if (child > 0 && info->si_code != SI_KERNEL && info->si_pid != child) ::kill(child, sig);
  errno = saved_errno;
}

void install_forwarding() noexcept {
  if (!g_saved_sigchld.replaced && ::sigaction(SIGCHLD, nullptr, &g_saved_sigchld.action) == 0 &&
      g_saved_sigchld.action.sa_handler == SIG_IGN) {
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    g_saved_sigchld.replaced = ::sigaction(SIGCHLD, &dfl, nullptr) == 0;
  }
  for (std::size_t i = 0; i < kForwarded.size(); ++i) {
    saved_disposition& saved = g_saved[i];
    if (saved.replaced) continue;
    if (::sigaction(kForwarded[i], nullptr, &saved.action) != 0) continue;
    if (saved.action.sa_handler == SIG_IGN) continue;  // ignored by whoever started us: stays so
    struct sigaction forward {};
    forward.sa_sigaction = &forward_signal;
    forward.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&forward.sa_mask);
    saved.replaced = ::sigaction(kForwarded[i], &forward, nullptr) == 0;
  }
}

// What the child reports through the close-on-exec pipe when it fails before exec.
struct child_failure {
  int stage;
  int error;
};

[[noreturn]] void child_fail(int fd, spawn_stage stage, int error) noexcept {
  const child_failure report{static_cast<int>(stage), error};
  // A short write is impossible for so few bytes on a pipe; nothing more can be done anyway.
  [[maybe_unused]] const ssize_t n = ::write(fd, &report, sizeof report);
  ::_exit(127);
}

bool write_file(const char* path, const char* text) noexcept {
  const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const std::size_t len = std::strlen(text);
  const bool ok = ::write(fd, text, len) == static_cast<ssize_t>(len);
  const int saved_errno = errno;
  ::close(fd);
  errno = saved_errno;
  return ok;
}

// Everything the child uses, built before fork().
struct prepared {
  std::vector<std::string> strings;
  std::vector<char*> argv;
  std::vector<char*> envp;
  std::string cwd;
  std::string private_tmp;
  bool user_namespace = false;
  char uid_map[64] = {};
  char gid_map[64] = {};
};

void prepare(const spawn_request& request, prepared& p) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string_view entry(*e);
    bool overridden = false;
    for (const auto& [name, value] : request.environment) {
      if (entry.size() > name.size() && entry.substr(0, name.size()) == name &&
          entry[name.size()] == '=') {
        overridden = true;
        break;
      }
    }
    if (!overridden) env.emplace_back(entry);
  }
  for (const auto& [name, value] : request.environment) {
    std::string& entry = env.emplace_back(name);
    entry += '=';
    entry += value;
  }

  p.strings = request.argv;
  const std::size_t argc = p.strings.size();
  p.strings.insert(p.strings.end(), env.begin(), env.end());
  for (std::size_t i = 0; i < p.strings.size(); ++i) {
    (i < argc ? p.argv : p.envp).push_back(p.strings[i].data());
  }
  p.argv.push_back(nullptr);
  p.envp.push_back(nullptr);
  p.cwd = request.working_directory.native();
  p.private_tmp = request.private_tmp.native();
  // Root needs no user namespace, and keeps its identity (and its view of other users' files).
  p.user_namespace = !p.private_tmp.empty() && ::geteuid() != 0;
  std::snprintf(p.uid_map, sizeof p.uid_map, "%lu %lu 1\n", static_cast<unsigned long>(::geteuid()),
                static_cast<unsigned long>(::geteuid()));
  std::snprintf(p.gid_map, sizeof p.gid_map, "%lu %lu 1\n", static_cast<unsigned long>(::getegid()),
                static_cast<unsigned long>(::getegid()));
}

// In the child: the namespaces, then /tmp. Returns false with errno set on failure.
bool enter_private_tmp(const prepared& p) noexcept {
  if (p.user_namespace) {
    if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) return false;
    // setgroups must be denied before an unprivileged process may write its gid_map.
    if (!write_file("/proc/self/setgroups", "deny") ||
        !write_file("/proc/self/uid_map", p.uid_map) ||
        !write_file("/proc/self/gid_map", p.gid_map)) {
      return false;
    }
  } else if (::unshare(CLONE_NEWNS) != 0) {
    return false;
  }
  // Nothing mounted from now on may propagate back to the parent's namespace.
  if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return false;
  return ::mount(p.private_tmp.c_str(), "/tmp", nullptr, MS_BIND, nullptr) == 0;
}

[[noreturn]] void run_child(const prepared& p, int report_fd, const sigset_t& original_mask,
                            pid_t parent) {
  // The forwarding handler belongs to the parent; the command starts with default dispositions
  // (or ignored, where the parent's were ignored) and the parent's original mask.
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  sigemptyset(&default_action.sa_mask);
  for (std::size_t i = 0; i < kForwarded.size(); ++i) {
    if (g_saved[i].replaced) ::sigaction(kForwarded[i], &default_action, nullptr);
  }
  if (g_saved_sigchld.replaced) ::sigaction(SIGCHLD, &g_saved_sigchld.action, nullptr);
  ::sigprocmask(SIG_SETMASK, &original_mask, nullptr);
  if (!p.private_tmp.empty() && !enter_private_tmp(p)) {
    child_fail(report_fd, spawn_stage::namespaces, errno);
  }
  if (!p.cwd.empty() && ::chdir(p.cwd.c_str()) != 0) {
    child_fail(report_fd, spawn_stage::working_directory, errno);
  }
  // If the parent is killed outright (SIGKILL), the command dies with it rather than go on
  // working in a directory that the guardian removes. (Set last: a change of credentials, as
  // in entering a user namespace, may clear it.)
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) child_fail(report_fd, spawn_stage::prepare, errno);
  if (::getppid() != parent) ::_exit(127);  // the parent died before prctl()
  ::execvpe(p.argv[0], p.argv.data(), p.envp.data());
  child_fail(report_fd, spawn_stage::exec, errno);
}

pid_t wait_for(pid_t pid, int& status) noexcept {
  for (;;) {
    const pid_t r = ::waitpid(pid, &status, 0);
    if (r >= 0 || errno != EINTR) return r;
  }
}

}  // namespace

std::int64_t spawn_child(const spawn_request& request, spawn_stage& stage,
                         std::error_code& ec) noexcept {
  stage = spawn_stage::prepare;
  block_forwarded();  // a no-op after hold_signals()
  if (request.argv.empty()) {
    ec = std::make_error_code(std::errc::invalid_argument);
    return -1;
  }
  prepared p;
  try {
    prepare(request, p);
  } catch (const std::bad_alloc&) {
    ec = std::make_error_code(std::errc::not_enough_memory);
    return -1;
  }

  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) {
    ec.assign(errno, std::generic_category());
    return -1;
  }
  // Blocked across fork(): a signal that comes now waits until the parent knows the child's pid
  // (it is forwarded then) and the child has dropped the forwarding handler.
  install_forwarding();
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) run_child(p, report[1], g_original_mask, parent);
  const int fork_errno = errno;
  if (pid > 0) g_child.store(pid, std::memory_order_relaxed);
  if (pid > 0) unblock_forwarded();  // else stop_forwarding() does it
  ::close(report[1]);
  if (pid < 0) {
    ::close(report[0]);
    ec.assign(fork_errno, std::generic_category());
    return -1;
  }

  child_failure failure{};
  ssize_t n;
  do {
    n = ::read(report[0], &failure, sizeof failure);
  } while (n < 0 && errno == EINTR);
  ::close(report[0]);
  if (n == 0) {  // end of file: the exec closed the pipe
    stage = spawn_stage::none;
    ec.clear();
    return pid;
  }
  int status = 0;
  wait_for(pid, status);
  g_child.store(0, std::memory_order_relaxed);
  if (n == static_cast<ssize_t>(sizeof failure)) {
    stage = static_cast<spawn_stage>(failure.stage);
    ec.assign(failure.error, std::generic_category());
  } else {
    stage = spawn_stage::prepare;
    ec = std::make_error_code(std::errc::io_error);
  }
  return -1;
}

child_exit wait_child(std::int64_t pid, std::error_code& ec) noexcept {
  int status = 0;
  const pid_t r = wait_for(static_cast<pid_t>(pid), status);
  const int wait_errno = errno;
  g_child.store(0, std::memory_order_relaxed);
  if (r < 0) {
    ec.assign(wait_errno, std::generic_category());
    return {};
  }
  ec.clear();
  if (WIFSIGNALED(status)) return {true, WTERMSIG(status)};
  return {false, WEXITSTATUS(status)};
}

void hold_signals() noexcept { block_forwarded(); }

void stop_forwarding() noexcept {
  g_child.store(0, std::memory_order_relaxed);
  if (g_saved_sigchld.replaced) {
    ::sigaction(SIGCHLD, &g_saved_sigchld.action, nullptr);
    g_saved_sigchld.replaced = false;
  }
  for (std::size_t i = 0; i < kForwarded.size(); ++i) {
    if (!g_saved[i].replaced) continue;
    ::sigaction(kForwarded[i], &g_saved[i].action, nullptr);
    g_saved[i].replaced = false;
  }
  unblock_forwarded();
}

}  // namespace tempfile::detail::platform
