// The internal contract between the library and the operating system.
//
// Only src/platform/*.cpp include OS headers. Everything here is noexcept and reports failure
// through a std::error_code, so the callers above decide what is an error and how to word it.
// EINTR is retried and short reads/writes are completed here, once, for the whole library.
// Walking and removing directory trees relative to open directories is the other half of the
// contract, in platform/directory.hpp.
// The contract is OS-neutral: a Windows implementation would sit beside posix.cpp and linux.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>

namespace tempfile::detail::platform {

/// An open file or directory: a descriptor on POSIX.
using handle = int;
inline constexpr handle invalid_handle = -1;

/// What identifies a file on one machine (device and inode on POSIX).
struct file_identity {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  friend bool operator==(const file_identity&, const file_identity&) = default;
};

/// A path as the OS takes it: NUL-terminated characters, borrowed from a std::filesystem::path,
/// a std::string or a C string (no allocation: usable in a signal handler).
class path_ref {
 public:
  // NOLINTBEGIN(google-explicit-constructor): converting is the point
  path_ref(const std::filesystem::path& p) noexcept : text_(p.c_str()) {}
  path_ref(const std::string& s) noexcept : text_(s.c_str()) {}
  path_ref(const char* s) noexcept : text_(s) {}
  // NOLINTEND(google-explicit-constructor)
  [[nodiscard]] const char* c_str() const noexcept { return text_; }

 private:
  const char* text_;
};

struct file_status {
  file_identity id;
  std::int64_t size = 0;
  unsigned mode = 0;  // permission bits only
  bool is_directory = false;
  bool is_regular = false;
  bool is_symlink = false;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
};

// --- process ------------------------------------------------------------------------------------

/// Changes in every fork()ed child (a counter bumped by an atfork handler); costs no system call.
std::uint64_t fork_generation() noexcept;

/// Fills `out` from the OS's cryptographic random source (getrandom, or getentropy).
void random_bytes(void* out, std::size_t size, std::error_code& ec) noexcept;

// --- creation: all exclusive, close-on-exec, never following a final symlink ------------------

/// Creates and opens (read/write) a new regular file. EEXIST if the name is taken.
handle create_file(path_ref path, unsigned mode, std::error_code& ec) noexcept;

/// Opens a new regular file with no name in `dir`. `linkable` allows link_anonymous() later.
/// Fails with std::errc::operation_not_supported where the file system cannot do it.
handle create_anonymous_file(path_ref dir, unsigned mode, bool linkable,
                             std::error_code& ec) noexcept;

/// Creates a new directory. EEXIST if the name is taken.
void create_directory(path_ref path, unsigned mode, std::error_code& ec) noexcept;

/// Opens an existing regular file for reading and writing, not following a final symlink.
handle open_file(path_ref path, std::error_code& ec) noexcept;

/// Opens a directory (for fsync and *at operations), not following a final symlink.
handle open_directory(path_ref path, std::error_code& ec) noexcept;

/// Gives an anonymous (linkable) file the name `path`; EEXIST if it is taken.
void link_anonymous(handle h, path_ref path, std::error_code& ec) noexcept;

// --- I/O ----------------------------------------------------------------------------------------

/// Reads up to `size` bytes at `offset`; returns 0 only at end of file.
std::size_t read_at(handle h, void* out, std::size_t size, std::int64_t offset,
                    std::error_code& ec) noexcept;

/// Writes all `size` bytes at `offset` (short writes are continued).
void write_all_at(handle h, const void* data, std::size_t size, std::int64_t offset,
                  std::error_code& ec) noexcept;

/// Where seek() counts from.
enum class seek_from { start, current };

/// Moves the descriptor's own offset (used only when the descriptor is handed out); returns the
/// new offset.
std::int64_t seek(handle h, std::int64_t offset, seek_from from, std::error_code& ec) noexcept;

void truncate(handle h, std::int64_t size, std::error_code& ec) noexcept;
void sync(handle h, std::error_code& ec) noexcept;
void set_mode(handle h, unsigned mode, std::error_code& ec) noexcept;
/// Sets owner and group (fchown); EPERM where the process may not.
void set_owner(handle h, std::uint32_t uid, std::uint32_t gid, std::error_code& ec) noexcept;
file_status status(handle h, std::error_code& ec) noexcept;
/// The status of `path` itself (a symlink is not followed).
file_status status(path_ref path, std::error_code& ec) noexcept;

/// The error for "this name now belongs to another file" (ESTALE on POSIX).
std::error_code stale_error() noexcept;

/// Closes; the handle is gone even when an error is reported (EINTR is not retried on close).
void close(handle h, std::error_code& ec) noexcept;

// --- names --------------------------------------------------------------------------------------

void remove_file(path_ref path, std::error_code& ec) noexcept;
/// Async-signal-safe.
void remove_directory(path_ref path, std::error_code& ec) noexcept;

/// Renames `from` to `to`. With `replace` false, fails with EEXIST rather than replace `to`
/// (renameat2 RENAME_NOREPLACE, or link then unlink where the file system refuses that).
void rename(path_ref from, path_ref to, bool replace, std::error_code& ec) noexcept;

// --- processes and signals: crash cleanup ---------------------------------------------------

/// Removes the file at `path`, retrying EINTR, ignoring failure. Async-signal-safe.
void unlink_path(const char* path) noexcept;

/// Runs `fn` in the child after every fork() (pthread_atfork).
void on_fork_child(void (*fn)()) noexcept;

/// Installs, once, handlers for SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGFPE,
/// SIGILL and SIGABRT (except those the program ignores) that call `cleanup` (which must be
/// async-signal-safe), restore the previous disposition and re-raise the signal.
void install_signal_handlers(void (*cleanup)() noexcept, std::error_code& ec) noexcept;

/// Starts a helper process that runs `body(channel)` and exits: not a child of this process (no
/// zombie), deaf to SIGINT/SIGTERM/SIGHUP/SIGQUIT, holding no descriptor of this process but its
/// end of a message channel (already so when this returns). Returns this process's end
/// (close-on-exec, and closed in every fork()ed child from the moment it exists, even one forked
/// by another thread during this call); `pid` gets the helper's. `body`'s channel reports
/// end-of-file once every copy of this end is closed.
handle spawn_guardian(void (*body)(handle channel) noexcept, std::int64_t& pid,
                      std::error_code& ec) noexcept;

/// Sends one message on a channel (never raises SIGPIPE); false on failure.
bool send_message(handle channel, const void* data, std::size_t size) noexcept;

/// Receives one message into `out`; its size, 0 at end-of-file, -1 on error.
std::ptrdiff_t receive_message(handle channel, void* out, std::size_t size) noexcept;

/// Grows `memory` (`old_size` bytes from an earlier call, or null and 0) to `new_size` zero-filled
/// bytes straight from the kernel (mmap, mremap), without malloc: for a process forked from a
/// multi-threaded one, where an allocator lock another thread held at the fork stays locked.
/// May move it; null on failure (the old memory is kept).
void* grow_memory(void* memory, std::size_t old_size, std::size_t new_size) noexcept;

}  // namespace tempfile::detail::platform
