#include "process_support.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tfcli {

void fd_guard::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

started start(const fs::path& program, const std::vector<std::string>& args,
              const start_options& opts) {
  std::vector<std::string> strings{program.string()};
  strings.insert(strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  int in[2] = {-1, -1};
  int out[2];
  int err[2];
  if ((opts.pipe_stdin && ::pipe2(in, O_CLOEXEC) != 0) || ::pipe2(out, O_CLOEXEC) != 0 ||
      ::pipe2(err, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe: " << std::strerror(errno);
    return started{};
  }
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (opts.pipe_stdin) ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    for (const int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE}) {
      ::signal(sig, SIG_DFL);
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (const auto& [name, value] : opts.env) ::setenv(name.c_str(), value.c_str(), 1);
    if (opts.in_child) opts.in_child();
    ::execv(argv[0], argv.data());
    ::_exit(99);
  }
  started s;
  s.pid = pid;
  if (opts.pipe_stdin) {
    ::close(in[0]);
    s.in.reset(in[1]);
  }
  ::close(out[1]);
  ::close(err[1]);
  s.out.reset(out[0]);
  s.err.reset(err[0]);
  return s;
}

std::string read_all(int fd) {
  std::string text;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  return text;
}

std::string read_line(int fd) {
  std::string line;
  char c;
  for (;;) {
    const ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || c == '\n') break;
    line += c;
  }
  return line;
}

bool write_all(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

int wait_raw(pid_t pid) {
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid, &status, 0);
  } while (r < 0 && errno == EINTR);
  return r < 0 ? -1 : status;
}

int shell_status(int raw) {
  if (raw == -1) return -1;
  if (WIFSIGNALED(raw)) return 128 + WTERMSIG(raw);
  return WEXITSTATUS(raw);
}

int wait_status(pid_t pid) { return shell_status(wait_raw(pid)); }

finished finish(started& s) {
  s.in.reset();
  finished f;
  f.out = read_all(s.out.get());
  f.err = read_all(s.err.get());
  f.raw = wait_raw(s.pid);
  f.status = shell_status(f.raw);
  return f;
}

finished tempfile_cmd(const std::vector<std::string>& args, const start_options& opts) {
  started s = start(kBinary, args, opts);
  return finish(s);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::string line;
  for (const char c : text) {
    if (c == '\n') {
      lines.push_back(line);
      line.clear();
    } else {
      line += c;
    }
  }
  if (!line.empty()) lines.push_back(line);
  return lines;
}

bool wait_for_exit_of(pid_t pid) {
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return errno == ESRCH;  // gone already
  fd_guard guard(fd);
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 60'000) > 0;
}

bool wait_until_gone(const fs::path& path) {
  fd_guard in(::inotify_init1(IN_CLOEXEC));
  if (in.get() < 0) return false;
  if (::inotify_add_watch(in.get(), path.parent_path().c_str(),
                          IN_DELETE | IN_MOVED_FROM | IN_DELETE_SELF) < 0) {
    return false;
  }
  while (fs::exists(fs::symlink_status(path))) {
    pollfd p{in.get(), POLLIN, 0};
    if (::poll(&p, 1, 60'000) <= 0) return false;
    char buf[4096];
    (void)::read(in.get(), buf, sizeof buf);
  }
  return true;
}

bool write_file(const char* path, const char* text) {
  const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const auto len = static_cast<ssize_t>(std::strlen(text));
  const bool ok = ::write(fd, text, static_cast<std::size_t>(len)) == len;
  ::close(fd);
  return ok;
}

}  // namespace tfcli
