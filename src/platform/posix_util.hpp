// Helpers shared by the POSIX platform files. Included only by src/platform/*.cpp.
#pragma once

#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

#include "platform/fault.hpp"
#include "platform/platform.hpp"

namespace tempfile::detail::platform {

// Runs `fn` (a system call returning -1 and setting errno on failure) until it does not fail with
// EINTR, consulting the fault seam before each attempt. Sets `ec` from errno on failure and clears
// it on success; returns what the call returned (-1 on failure).
template <class Fn>
auto retry_eintr([[maybe_unused]] fault::call c, std::error_code& ec, Fn&& fn) noexcept
    -> decltype(fn()) {
  for (;;) {
#ifdef TEMPFILE_FAULT_INJECTION
    if (const int injected = fault::check(c)) {
      if (injected == EINTR) continue;
      ec.assign(injected, std::generic_category());
      return static_cast<decltype(fn())>(-1);
    }
#endif
    const auto r = fn();
    if (r < 0) {
      if (errno == EINTR) continue;
      ec.assign(errno, std::generic_category());
      return r;
    }
    ec.clear();
    return r;
  }
}

/// What the library keeps of a struct stat.
inline file_status from_stat(const struct stat& st) noexcept {
  file_status s;
  s.id = {static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
  s.size = static_cast<std::int64_t>(st.st_size);
  s.mode = static_cast<unsigned>(st.st_mode & 07777);
  s.is_directory = S_ISDIR(st.st_mode);
  s.is_regular = S_ISREG(st.st_mode);
  s.is_symlink = S_ISLNK(st.st_mode);
  s.uid = st.st_uid;
  s.gid = st.st_gid;
  return s;
}

}  // namespace tempfile::detail::platform
