// POSIX implementation of the platform contract (platform.hpp). Linux-only calls live in
// linux.cpp; everything here works on any POSIX system.
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>

#include "platform/fault.hpp"
#include "platform/platform.hpp"
#include "platform/posix_util.hpp"

namespace tempfile::detail::platform {

namespace {

std::atomic<std::uint64_t> g_fork_generation{1};

void bump_fork_generation() noexcept { g_fork_generation.fetch_add(1, std::memory_order_relaxed); }

// Registered before main() so that even a fork() that precedes the first temporary object is
// seen. pthread_atfork handlers run in the child of fork(), not of a raw clone/vfork; those do not
// run our destructors before exec.
const bool g_atfork_registered = [] {
  return pthread_atfork(nullptr, nullptr, &bump_fork_generation) == 0;
}();

}  // namespace

std::uint64_t fork_generation() noexcept {
  (void)g_atfork_registered;
  return g_fork_generation.load(std::memory_order_relaxed);
}

handle create_file(path_ref path, unsigned mode, std::error_code& ec) noexcept {
  return retry_eintr(fault::call::open, ec, [&] {
    return ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  static_cast<mode_t>(mode));
  });
}

void create_directory(path_ref path, unsigned mode, std::error_code& ec) noexcept {
  retry_eintr(fault::call::mkdir, ec,
              [&] { return ::mkdir(path.c_str(), static_cast<mode_t>(mode)); });
}

handle open_file(path_ref path, std::error_code& ec) noexcept {
  return retry_eintr(fault::call::open, ec,
                     [&] { return ::open(path.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC); });
}

handle open_directory(path_ref path, std::error_code& ec) noexcept {
  return retry_eintr(fault::call::open, ec, [&] {
    return ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  });
}

std::size_t read_at(handle h, void* out, std::size_t size, std::int64_t offset,
                    std::error_code& ec) noexcept {
  if (size > SSIZE_MAX) size = SSIZE_MAX;
  const ssize_t n = retry_eintr(fault::call::read, ec,
                                [&] { return ::pread(h, out, size, static_cast<off_t>(offset)); });
  return n < 0 ? 0 : static_cast<std::size_t>(n);
}

void write_all_at(handle h, const void* data, std::size_t size, std::int64_t offset,
                  std::error_code& ec) noexcept {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const std::size_t chunk = size > SSIZE_MAX ? SSIZE_MAX : size;
    const ssize_t n = retry_eintr(
        fault::call::write, ec, [&] { return ::pwrite(h, p, chunk, static_cast<off_t>(offset)); });
    if (n < 0) return;
    if (n == 0) {  // no progress and no error: treat as a full device rather than spin
      ec = std::make_error_code(std::errc::no_space_on_device);
      return;
    }
    p += n;
    size -= static_cast<std::size_t>(n);
    offset += n;
  }
}

std::int64_t seek(handle h, std::int64_t offset, seek_from from, std::error_code& ec) noexcept {
  int whence = SEEK_SET;
  switch (from) {
    case seek_from::start: whence = SEEK_SET; break;
    case seek_from::current: whence = SEEK_CUR; break;
  }
  const off_t r = retry_eintr(fault::call::lseek, ec,
                              [&] { return ::lseek(h, static_cast<off_t>(offset), whence); });
  return static_cast<std::int64_t>(r);
}

void truncate(handle h, std::int64_t size, std::error_code& ec) noexcept {
  retry_eintr(fault::call::ftruncate, ec, [&] { return ::ftruncate(h, static_cast<off_t>(size)); });
}

void sync(handle h, std::error_code& ec) noexcept {
  retry_eintr(fault::call::fsync, ec, [&] { return ::fsync(h); });
}

void set_mode(handle h, unsigned mode, std::error_code& ec) noexcept {
  retry_eintr(fault::call::fchmod, ec, [&] { return ::fchmod(h, static_cast<mode_t>(mode)); });
}

void set_owner(handle h, std::uint32_t uid, std::uint32_t gid, std::error_code& ec) noexcept {
  retry_eintr(fault::call::fchown, ec, [&] { return ::fchown(h, uid, gid); });
}

file_status status(handle h, std::error_code& ec) noexcept {
  struct stat st {};
  if (retry_eintr(fault::call::fstat, ec, [&] { return ::fstat(h, &st); }) < 0) return {};
  return from_stat(st);
}

file_status status(path_ref path, std::error_code& ec) noexcept {
  struct stat st {};
  if (retry_eintr(fault::call::stat, ec, [&] { return ::lstat(path.c_str(), &st); }) < 0) return {};
  return from_stat(st);
}

std::error_code stale_error() noexcept { return {ESTALE, std::generic_category()}; }

void close(handle h, std::error_code& ec) noexcept {
  ec.clear();
  if (const int injected = TEMPFILE_FAULT(close)) {
    ::close(h);  // the descriptor is released even when an error is reported, as on Linux
    if (injected != EINTR) ec.assign(injected, std::generic_category());
    return;
  }
  // Linux releases the descriptor even when close() reports EINTR; retrying could close a
  // descriptor another thread just opened. EINTR here is therefore not an error.
  if (::close(h) < 0 && errno != EINTR) ec.assign(errno, std::generic_category());
}

void remove_file(path_ref path, std::error_code& ec) noexcept {
  retry_eintr(fault::call::unlink, ec, [&] { return ::unlink(path.c_str()); });
}

void remove_directory(path_ref path, std::error_code& ec) noexcept {
  retry_eintr(fault::call::rmdir, ec, [&] { return ::rmdir(path.c_str()); });
}

}  // namespace tempfile::detail::platform
