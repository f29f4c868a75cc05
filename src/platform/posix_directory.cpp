// POSIX implementation of the tree-walking contract (directory.hpp). Listing uses Linux's
// getdents64, which fills a large caller buffer per call; the rest is plain POSIX *at calls.
#include <dirent.h>  // DT_*
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <type_traits>

#include "platform/directory.hpp"
#include "platform/fault.hpp"
#include "platform/posix_util.hpp"

#if !defined(__linux__) || !defined(SYS_getdents64)
#error "tempfile: read_directory() is implemented with getdents64 (Linux) only"
#endif

namespace tempfile::detail::platform {

namespace {

// The fixed head of a record written by getdents64 (struct linux_dirent64), then the name.
constexpr std::size_t kOffReclen = 16;  // after d_ino (u64) and d_off (s64)
constexpr std::size_t kOffType = 18;
constexpr std::size_t kOffName = 19;

entry_type type_of(unsigned char d_type) noexcept {
  switch (d_type) {
    case DT_DIR: return entry_type::directory;
    case DT_LNK: return entry_type::symlink;
    case DT_UNKNOWN: return entry_type::unknown;
    default: return entry_type::other;
  }
}

}  // namespace

handle open_directory_at(handle dir, const char* name, std::error_code& ec) noexcept {
  return retry_eintr(fault::call::openat, ec, [&] {
    return ::openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  });
}

std::size_t read_directory(handle dir, void* buffer, std::size_t size,
                           std::error_code& ec) noexcept {
  const long n = retry_eintr(fault::call::getdents, ec,
                             [&] { return ::syscall(SYS_getdents64, dir, buffer, size); });
  return n < 0 ? 0 : static_cast<std::size_t>(n);
}

bool next_entry(const void* batch, std::size_t size, std::size_t& offset,
                directory_entry& out) noexcept {
  const auto* bytes = static_cast<const unsigned char*>(batch);
  while (offset + kOffName < size) {
    const unsigned char* record = bytes + offset;
    unsigned short reclen = 0;
    std::memcpy(&reclen, record + kOffReclen, sizeof reclen);
    if (reclen <= kOffName || reclen > size - offset) return false;  // a malformed batch
    offset += reclen;
    const char* name = reinterpret_cast<const char*>(record + kOffName);
    if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))) continue;
    out.name = name;
    out.type = type_of(record[kOffType]);
    return true;
  }
  return false;
}

std::int64_t tell_directory(handle dir, std::error_code& ec) noexcept {
  return static_cast<std::int64_t>(
      retry_eintr(fault::call::lseek, ec, [&] { return ::lseek(dir, 0, SEEK_CUR); }));
}

void seek_directory(handle dir, std::int64_t position, std::error_code& ec) noexcept {
  retry_eintr(fault::call::lseek, ec,
              [&] { return ::lseek(dir, static_cast<off_t>(position), SEEK_SET); });
}

void remove_at(handle dir, const char* name, bool directory, std::error_code& ec) noexcept {
  retry_eintr(fault::call::unlinkat, ec,
              [&] { return ::unlinkat(dir, name, directory ? AT_REMOVEDIR : 0); });
}

void set_mode_at(handle dir, const char* name, unsigned mode, std::error_code& ec) noexcept {
  // glibc (2.32+) and musl carry out AT_SYMLINK_NOFOLLOW without a window in which a swapped-in
  // symbolic link would be followed (fchmodat2, or O_PATH|O_NOFOLLOW then /proc/self/fd).
  retry_eintr(fault::call::fchmodat, ec, [&] {
    return ::fchmodat(dir, name, static_cast<mode_t>(mode), AT_SYMLINK_NOFOLLOW);
  });
}

file_status status_at(handle dir, const char* name, std::error_code& ec) noexcept {
  struct stat st {};
  if (retry_eintr(fault::call::fstatat, ec,
                  [&] { return ::fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW); }) < 0) {
    return {};
  }
  return from_stat(st);
}

unsigned available_processors() noexcept {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return static_cast<unsigned>(n);
  }
  const long online = ::sysconf(_SC_NPROCESSORS_ONLN);
  return online > 0 ? static_cast<unsigned>(online) : 1u;
}

namespace {

static_assert(std::is_integral_v<pthread_t> && sizeof(pthread_t) <= sizeof(thread_id),
              "thread_id holds a pthread_t");

struct thread_start {
  void (*body)(void*) noexcept;
  void* context;
};

void* thread_main(void* start) noexcept {
  const thread_start s = *static_cast<thread_start*>(start);
  delete static_cast<thread_start*>(start);
  s.body(s.context);
  return nullptr;
}

}  // namespace

bool start_thread(void (*body)(void*) noexcept, void* context, thread_id& id) noexcept {
  auto* start = new (std::nothrow) thread_start{body, context};
  if (start == nullptr) return false;
  // The new thread inherits the signal mask of the one that creates it: block everything around
  // the creation, so that no signal can reach the helper even before its first instruction.
  sigset_t all;
  sigset_t old;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_t thread{};
  const int error = ::pthread_create(&thread, nullptr, &thread_main, start);
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (error != 0) {
    delete start;
    return false;
  }
  id = static_cast<thread_id>(thread);
  return true;
}

void join_thread(thread_id id) noexcept { ::pthread_join(static_cast<pthread_t>(id), nullptr); }

}  // namespace tempfile::detail::platform
