// Processes and signals for crash cleanup: the guardian's process and channel, and the signal
// handlers. Part of the platform contract (platform.hpp, "processes and signals").
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>

#include "platform/platform.hpp"
#include "platform/posix_util.hpp"

namespace tempfile::detail::platform {

namespace {

constexpr int kCleanupSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV,
                                   SIGBUS, SIGFPE,  SIGILL, SIGABRT};
// Signals that a terminal or a process manager sends to a whole process group: the guardian
// must survive them to do its work.
constexpr int kGroupSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

struct sigaction g_previous[NSIG];
std::atomic<void (*)() noexcept> g_cleanup{nullptr};
std::atomic<bool> g_installed{false};

// This process's end of the guardian channel, from the moment it exists. A fork()ed child must
// not keep a copy, or the guardian would not see end-of-file until that child exits too; the
// atfork handler closes it in every child, including one forked by another thread while
// spawn_guardian() is still running (before any caller could have recorded the handle).
std::atomic<int> g_guardian_end{-1};

void close_guardian_end_in_child() noexcept {
  const int fd = g_guardian_end.exchange(-1, std::memory_order_relaxed);
  if (fd >= 0) ::close(fd);
}

void cleanup_handler(int sig) {
  const int saved_errno = errno;
  if (auto* cleanup = g_cleanup.load()) cleanup();
  // Restore what the program had, then re-raise: the signal is blocked while this handler runs,
  // so it is delivered, with the old disposition, as soon as the handler returns. A fault
  // (SIGSEGV...) raised by an instruction also recurs when that instruction runs again.
  ::sigaction(sig, &g_previous[sig], nullptr);
  ::raise(sig);
  errno = saved_errno;
}

// Closes every descriptor from `first` on, without allocating (the process may have been forked
// from a multi-threaded parent).
void close_from(int first) noexcept {
#ifdef SYS_close_range
  if (::syscall(SYS_close_range, static_cast<unsigned>(first), ~0u, 0u) == 0) return;
#endif
  const long max = ::sysconf(_SC_OPEN_MAX);
  for (long fd = first; fd < (max > 0 ? max : 1024); ++fd) ::close(static_cast<int>(fd));
}

}  // namespace

void unlink_path(const char* path) noexcept {
  while (::unlink(path) < 0 && errno == EINTR) {
  }
}

void on_fork_child(void (*fn)()) noexcept { ::pthread_atfork(nullptr, nullptr, fn); }

void install_signal_handlers(void (*cleanup)() noexcept, std::error_code& ec) noexcept {
  ec.clear();
  g_cleanup.store(cleanup);
  if (g_installed.exchange(true)) return;
  for (int sig : kCleanupSignals) {
    struct sigaction current {};
    if (::sigaction(sig, nullptr, &current) < 0) continue;
    // A signal the program ignores (nohup's SIGHUP, say) must stay ignored: it will not kill the
    // process, so there is nothing to clean up, and catching it would change behaviour.
    if (!(current.sa_flags & SA_SIGINFO) && current.sa_handler == SIG_IGN) continue;
    g_previous[sig] = current;
    struct sigaction ours {};
    ours.sa_handler = &cleanup_handler;
    ::sigfillset(&ours.sa_mask);  // no other handled signal interrupts the cleanup
    // SA_ONSTACK: a program that set up an alternate stack for stack overflows (SIGSEGV) gets
    // the cleanup run there too, rather than a second fault on the exhausted stack.
    ours.sa_flags = SA_RESTART | SA_ONSTACK;
    if (::sigaction(sig, &ours, nullptr) < 0) ec.assign(errno, std::generic_category());
  }
}

handle spawn_guardian(void (*body)(handle channel) noexcept, std::int64_t& pid,
                      std::error_code& ec) noexcept {
  ec.clear();
  static const bool atfork_registered =
      ::pthread_atfork(nullptr, nullptr, &close_guardian_end_in_child) == 0;
  if (!atfork_registered) {
    ec = std::make_error_code(std::errc::not_enough_memory);  // pthread_atfork's only failure
    return invalid_handle;
  }
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0) {
    ec.assign(errno, std::generic_category());
    return invalid_handle;
  }
  g_guardian_end.store(fds[0], std::memory_order_relaxed);
  // A pipe on which the guardian reports its pid once it is ready: deaf to the group signals and
  // holding none of this process's descriptors.
  int report[2];
  if (::pipe2(report, O_CLOEXEC) < 0) {
    ec.assign(errno, std::generic_category());
    g_guardian_end.store(-1, std::memory_order_relaxed);
    ::close(fds[0]);
    ::close(fds[1]);
    return invalid_handle;
  }
  // Block the group signals across the forks so that there is no moment in which the guardian
  // exists but has not yet ignored them.
  sigset_t group, old_mask;
  ::sigemptyset(&group);
  for (int sig : kGroupSignals) ::sigaddset(&group, sig);
  ::pthread_sigmask(SIG_BLOCK, &group, &old_mask);

  const pid_t middle = ::fork();
  if (middle == 0) {
    // The middle process only forks the guardian and exits, so the guardian is nobody's child
    // to reap: no zombie for the program to collect unexpectedly. (The atfork handler has closed
    // this process's end of the channel here already, or the guardian would never see
    // end-of-file.)
    const pid_t guardian = ::fork();
    if (guardian != 0) ::_exit(guardian < 0 ? 1 : 0);
    // Out of the way of 0, 1 and 2, which are about to become /dev/null; 3 and 4 below.
    const int channel = ::fcntl(fds[1], F_DUPFD_CLOEXEC, 10);
    const int reporter = ::fcntl(report[1], F_DUPFD_CLOEXEC, 10);
    if (channel < 0 || reporter < 0) ::_exit(1);  // the parent sees end-of-file: an error
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    for (int sig : kGroupSignals) ::sigaction(sig, &ignore, nullptr);
    for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGPIPE}) {
      struct sigaction dfl {};
      dfl.sa_handler = sig == SIGPIPE ? SIG_IGN : SIG_DFL;
      ::sigaction(sig, &dfl, nullptr);
    }
    ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
    ::sigprocmask(SIG_UNBLOCK, &group, nullptr);
    // Nothing of the parent's stays open here: not its pipes (or a reader of the parent's output
    // would wait for the guardian too), nor anything else. Done before the pid is reported, so
    // that when start_guardian() returns the guardian holds only /dev/null and its channel.
    const int devnull = ::open("/dev/null", O_RDWR);
    if (devnull >= 0) {
      ::dup2(devnull, 0);
      ::dup2(devnull, 1);
      ::dup2(devnull, 2);
      if (devnull > 2) ::close(devnull);
    }
    ::dup2(channel, 3);
    ::dup2(reporter, 4);
    close_from(5);
    if (::chdir("/") < 0) {
      // Staying in the old directory only pins it; the cleanup uses absolute paths anyway.
    }
    const pid_t self = ::getpid();
    while (::write(4, &self, sizeof self) < 0 && errno == EINTR) {
    }
    ::close(4);
    // Then "ready" on the channel: the parent waits for it, so that when start_guardian()
    // returns the report pipe is closed here too. (Waiting for the pipe's end-of-file instead
    // could wait for ever: a child another thread forks meanwhile inherits the pipe's write end.)
    const char ready = 'r';
    while (::send(3, &ready, 1, MSG_NOSIGNAL) < 0 && errno == EINTR) {
    }
    body(3);
    ::_exit(0);
  }
  const int fork_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  ::close(fds[1]);
  ::close(report[1]);
  if (middle < 0) {
    ec.assign(fork_errno, std::generic_category());
    g_guardian_end.store(-1, std::memory_order_relaxed);
    ::close(fds[0]);
    ::close(report[0]);
    return invalid_handle;
  }
  int status = 0;
  while (::waitpid(middle, &status, 0) < 0 && errno == EINTR) {
  }
  pid_t guardian = -1;
  ssize_t got;
  while ((got = ::read(report[0], &guardian, sizeof guardian)) < 0 && errno == EINTR) {
  }
  // Then its "ready" on the channel: it has closed its end of the report pipe, so that from here
  // on it holds nothing but /dev/null and its channel.
  if (got == static_cast<ssize_t>(sizeof guardian)) {
    char ready = 0;
    while (::recv(fds[0], &ready, 1, 0) < 0 && errno == EINTR) {
    }
  }
  ::close(report[0]);
  if (got != static_cast<ssize_t>(sizeof guardian)) {
    ec = std::make_error_code(std::errc::resource_unavailable_try_again);
    g_guardian_end.store(-1, std::memory_order_relaxed);
    ::close(fds[0]);
    return invalid_handle;
  }
  pid = guardian;
  return fds[0];
}

bool send_message(handle h, const void* data, std::size_t size) noexcept {
  for (;;) {
    // MSG_NOSIGNAL: a guardian that died must not kill this process with SIGPIPE.
    if (::send(h, data, size, MSG_NOSIGNAL) >= 0) return true;
    if (errno != EINTR) return false;
  }
}

std::ptrdiff_t receive_message(handle h, void* out, std::size_t size) noexcept {
  for (;;) {
    const ssize_t n = ::recv(h, out, size, 0);
    if (n >= 0 || errno != EINTR) return n;
  }
}

void* grow_memory(void* memory, std::size_t old_size, std::size_t new_size) noexcept {
  void* p = memory == nullptr ? ::mmap(nullptr, new_size, PROT_READ | PROT_WRITE,
                                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
                              : ::mremap(memory, old_size, new_size, MREMAP_MAYMOVE);
  return p == MAP_FAILED ? nullptr : p;
}

}  // namespace tempfile::detail::platform
