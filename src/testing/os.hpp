// The operating-system calls of tmp_path() (GoogleTest and Catch2 helpers), kept in one file
// as src/platform/ keeps the library's: noexcept, failures reported through std::error_code.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

namespace tempfile::testing::detail::os {

/// An open directory: a descriptor on POSIX.
using handle = int;
inline constexpr handle invalid_handle = -1;

/// What tmp_path() needs to know of a directory entry (a symbolic link is not followed).
struct entry_status {
  bool is_directory = false;
  bool is_symlink = false;
  std::uint32_t uid = 0;
  unsigned mode = 0;  // permission bits only
};

/// The effective user id.
std::uint32_t effective_uid() noexcept;
/// The login name of the effective user, or "uid<N>" when it has none.
std::string user_name();
/// The short name of the running executable ("test" when the OS does not tell).
std::string program_name();
/// The id of this process, which differs in a fork()ed child.
std::int64_t process_id() noexcept;

/// Creates the directory `path` with `mode` (the umask applies). EEXIST if the name is taken.
void make_directory(const std::filesystem::path& path, unsigned mode, std::error_code& ec) noexcept;
/// Creates the directory `name` in the open directory `dir`. EEXIST if the name is taken.
void make_directory_at(handle dir, const std::string& name, unsigned mode,
                       std::error_code& ec) noexcept;

/// Opens a directory, close-on-exec; ELOOP if `path` is a symbolic link, ENOTDIR if it is no
/// directory.
handle open_directory(const std::filesystem::path& path, std::error_code& ec) noexcept;
/// Opens the directory `name` in `dir`, as open_directory() (so ENOTDIR or ELOOP for a link).
handle open_directory_at(handle dir, const std::string& name, std::error_code& ec) noexcept;
void close(handle h) noexcept;

entry_status status(handle h, std::error_code& ec) noexcept;
/// The status of `path` itself, not following a symbolic link.
entry_status status(const std::filesystem::path& path, std::error_code& ec) noexcept;
void set_mode(handle h, unsigned mode, std::error_code& ec) noexcept;

/// An advisory lock on an open file, released when every descriptor sharing it is closed (so in
/// any case when the processes holding it die). Without `wait`, a lock held elsewhere is reported
/// as std::errc::resource_unavailable_try_again (EWOULDBLOCK).
void lock(handle h, bool exclusive, bool wait, std::error_code& ec) noexcept;

/// A handle closed on destruction.
class unique_handle {
 public:
  unique_handle() = default;
  explicit unique_handle(handle h) noexcept : h_(h) {}
  unique_handle(unique_handle&& o) noexcept : h_(std::exchange(o.h_, invalid_handle)) {}
  unique_handle& operator=(unique_handle&& o) noexcept {
    if (this != &o) {
      reset();
      h_ = std::exchange(o.h_, invalid_handle);
    }
    return *this;
  }
  unique_handle(const unique_handle&) = delete;
  unique_handle& operator=(const unique_handle&) = delete;
  ~unique_handle() { reset(); }
  [[nodiscard]] handle get() const noexcept { return h_; }
  explicit operator bool() const noexcept { return h_ != invalid_handle; }
  void reset() noexcept {
    if (h_ != invalid_handle) close(std::exchange(h_, invalid_handle));
  }

 private:
  handle h_ = invalid_handle;
};

}  // namespace tempfile::testing::detail::os
