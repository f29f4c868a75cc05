// Linux-specific parts of the platform contract: getrandom, O_TMPFILE, linkat of an anonymous
// file and renameat2. Each has a POSIX fallback for kernels or file systems that refuse it.
#include <fcntl.h>
#include <stdio.h>  // renameat2
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "platform/directory.hpp"
#include "platform/fault.hpp"
#include "platform/platform.hpp"
#include "platform/posix_util.hpp"

namespace tempfile::detail::platform {

void random_bytes(void* out, std::size_t size, std::error_code& ec) noexcept {
  auto* p = static_cast<unsigned char*>(out);
  ec.clear();
  while (size > 0) {
    const ssize_t n =
        retry_eintr(fault::call::getrandom, ec, [&] { return ::getrandom(p, size, 0); });
    if (n < 0) {
      if (ec != std::errc::function_not_supported) return;
      // A kernel without getrandom (before 3.17): getentropy reads at most 256 bytes a call.
      const std::size_t chunk = size < 256 ? size : 256;
      if (::getentropy(p, chunk) != 0) {
        ec.assign(errno, std::generic_category());
        return;
      }
      ec.clear();
      p += chunk;
      size -= chunk;
      continue;
    }
    p += n;
    size -= static_cast<std::size_t>(n);
  }
}

handle create_anonymous_file(path_ref dir, unsigned mode, bool linkable,
                             std::error_code& ec) noexcept {
#ifdef O_TMPFILE
  // O_EXCL with O_TMPFILE forbids ever linking the file into a directory.
  const int flags = O_TMPFILE | O_RDWR | O_CLOEXEC | (linkable ? 0 : O_EXCL);
  const int fd = retry_eintr(fault::call::open, ec,
                             [&] { return ::open(dir.c_str(), flags, static_cast<mode_t>(mode)); });
  if (fd >= 0) return fd;
  // EOPNOTSUPP: the file system has no O_TMPFILE; EISDIR or EINVAL: the kernel predates it and
  // took the flags as O_DIRECTORY. All three mean "use a named file instead".
  if (ec == std::errc::operation_not_supported || ec == std::errc::is_a_directory ||
      ec == std::errc::invalid_argument) {
    ec = std::make_error_code(std::errc::operation_not_supported);
  }
  return invalid_handle;
#else
  (void)dir, (void)mode, (void)linkable;
  ec = std::make_error_code(std::errc::operation_not_supported);
  return invalid_handle;
#endif
}

void link_anonymous(handle h, path_ref path, std::error_code& ec) noexcept {
  // AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; the /proc/self/fd link works for everyone else.
  if (retry_eintr(fault::call::link, ec,
                  [&] { return ::linkat(h, "", AT_FDCWD, path.c_str(), AT_EMPTY_PATH); }) == 0) {
    return;
  }
  if (ec != std::errc::no_such_file_or_directory && ec != std::errc::operation_not_permitted) {
    return;
  }
  const std::string proc = "/proc/self/fd/" + std::to_string(h);
  retry_eintr(fault::call::link, ec, [&] {
    return ::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, path.c_str(), AT_SYMLINK_FOLLOW);
  });
}

void link_anonymous_at(handle h, handle dir, const char* name, std::error_code& ec) noexcept {
  if (retry_eintr(fault::call::link, ec,
                  [&] { return ::linkat(h, "", dir, name, AT_EMPTY_PATH); }) == 0) {
    return;
  }
  if (ec != std::errc::no_such_file_or_directory && ec != std::errc::operation_not_permitted) {
    return;
  }
  char proc[32];
  std::snprintf(proc, sizeof proc, "/proc/self/fd/%d", h);
  retry_eintr(fault::call::link, ec,
              [&] { return ::linkat(AT_FDCWD, proc, dir, name, AT_SYMLINK_FOLLOW); });
}

void rename_at(handle from_dir, const char* from, handle to_dir, const char* to,
               std::error_code& ec) noexcept {
  retry_eintr(fault::call::rename, ec, [&] { return ::renameat(from_dir, from, to_dir, to); });
}

void rename(path_ref from, path_ref to, bool replace, std::error_code& ec) noexcept {
  if (replace) {
    retry_eintr(fault::call::rename, ec, [&] { return ::rename(from.c_str(), to.c_str()); });
    return;
  }
  if (retry_eintr(fault::call::rename, ec, [&] {
        return ::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE);
      }) == 0) {
    return;
  }
  // EINVAL: the file system does not support RENAME_NOREPLACE; ENOSYS: the kernel predates
  // renameat2. link() never replaces, so link then unlink gives the same guarantee.
  if (ec != std::errc::invalid_argument && ec != std::errc::function_not_supported) return;
  if (retry_eintr(fault::call::link, ec, [&] { return ::link(from.c_str(), to.c_str()); }) < 0) {
    return;
  }
  if (retry_eintr(fault::call::unlink, ec, [&] { return ::unlink(from.c_str()); }) < 0) {
    // Undo the link so that a failure leaves exactly one name, the original.
    std::error_code ignored;
    retry_eintr(fault::call::unlink, ignored, [&] { return ::unlink(to.c_str()); });
  }
}

}  // namespace tempfile::detail::platform
