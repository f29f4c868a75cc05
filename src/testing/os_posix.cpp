// The operating-system calls of tmp_path() on POSIX (os.hpp).
#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

#include "testing/os.hpp"

#if defined(__GLIBC__)
#include <errno.h>  // program_invocation_short_name
#endif

namespace tempfile::testing::detail::os {

namespace {

void set_errno(std::error_code& ec) noexcept { ec.assign(errno, std::generic_category()); }

entry_status to_status(const struct stat& st) noexcept {
  entry_status s;
  s.is_directory = S_ISDIR(st.st_mode);
  s.is_symlink = S_ISLNK(st.st_mode);
  s.uid = static_cast<std::uint32_t>(st.st_uid);
  s.mode = static_cast<unsigned>(st.st_mode & 07777);
  return s;
}

constexpr int kDirectoryFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

entry_status status_at(handle dir, const std::string& name, std::error_code& ec) noexcept {
  ec.clear();
  struct stat st {};
  if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    set_errno(ec);
    return {};
  }
  return to_status(st);
}

}  // namespace

std::uint32_t effective_uid() noexcept { return static_cast<std::uint32_t>(::geteuid()); }

std::string user_name() {
  const uid_t uid = ::geteuid();
  long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buffer(size > 0 ? static_cast<std::size_t>(size) : 4096);
  passwd entry{};
  passwd* found = nullptr;
  for (;;) {
    const int rc = ::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found);
    if (rc == ERANGE && buffer.size() < (1U << 20)) {
      buffer.resize(buffer.size() * 2);
      continue;
    }
    break;
  }
  if (found != nullptr && found->pw_name != nullptr && found->pw_name[0] != '\0') {
    return found->pw_name;
  }
  return "uid" + std::to_string(uid);
}

std::string program_name() {
#if defined(__GLIBC__)
  if (program_invocation_short_name != nullptr && program_invocation_short_name[0] != '\0') {
    return program_invocation_short_name;
  }
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__)
  if (const char* name = ::getprogname(); name != nullptr && name[0] != '\0') return name;
#endif
  return "test";
}

std::int64_t process_id() noexcept { return static_cast<std::int64_t>(::getpid()); }

void make_directory(const std::filesystem::path& path, unsigned mode,
                    std::error_code& ec) noexcept {
  ec.clear();
  if (::mkdir(path.c_str(), static_cast<mode_t>(mode)) != 0) set_errno(ec);
}

void make_directory_at(handle dir, const std::string& name, unsigned mode,
                       std::error_code& ec) noexcept {
  ec.clear();
  if (::mkdirat(dir, name.c_str(), static_cast<mode_t>(mode)) != 0) set_errno(ec);
}

handle open_directory(const std::filesystem::path& path, std::error_code& ec) noexcept {
  ec.clear();
  int fd;
  do {
    fd = ::open(path.c_str(), kDirectoryFlags);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) set_errno(ec);
  return fd < 0 ? invalid_handle : fd;
}

handle open_directory_at(handle dir, const std::string& name, std::error_code& ec) noexcept {
  ec.clear();
  int fd;
  do {
    fd = ::openat(dir, name.c_str(), kDirectoryFlags);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) set_errno(ec);
  return fd < 0 ? invalid_handle : fd;
}

void close(handle h) noexcept { ::close(h); }

entry_status status(handle h, std::error_code& ec) noexcept {
  ec.clear();
  struct stat st {};
  if (::fstat(h, &st) != 0) {
    set_errno(ec);
    return {};
  }
  return to_status(st);
}

entry_status status(const std::filesystem::path& path, std::error_code& ec) noexcept {
  return status_at(AT_FDCWD, path.string(), ec);
}

void set_mode(handle h, unsigned mode, std::error_code& ec) noexcept {
  ec.clear();
  if (::fchmod(h, static_cast<mode_t>(mode)) != 0) set_errno(ec);
}

void lock(handle h, bool exclusive, bool wait, std::error_code& ec) noexcept {
  ec.clear();
  const int operation = (exclusive ? LOCK_EX : LOCK_SH) | (wait ? 0 : LOCK_NB);
  int rc;
  do {
    rc = ::flock(h, operation);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    if (errno == EWOULDBLOCK) {
      ec = std::make_error_code(std::errc::resource_unavailable_try_again);
    } else {
      set_errno(ec);
    }
  }
}

}  // namespace tempfile::testing::detail::os
