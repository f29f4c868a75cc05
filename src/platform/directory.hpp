// The OS side of walking and removing directory trees: everything relative to an open directory,
// never following a symbolic link. The other half of the platform contract (platform.hpp).
//
// A name passed with a directory handle is one path component, resolved inside that directory;
// an absolute name ignores the handle (as the POSIX *at calls do), which is how a walk opens its
// root. Everything is noexcept, retries EINTR and reports failure through `ec`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <system_error>

#include "platform/platform.hpp"

namespace tempfile::detail::platform {

/// What a directory listing says an entry is. `unknown`: the file system did not say (ask
/// status_at()).
enum class entry_type : unsigned char { unknown, directory, symlink, other };

/// One entry of a batch read by read_directory(); `name` points into the caller's buffer.
struct directory_entry {
  const char* name = nullptr;
  entry_type type = entry_type::unknown;
};

/// A size for read_directory() buffers that lists a few thousand entries per system call.
inline constexpr std::size_t kDirectoryBufferSize = 128 * 1024;

/// Opens the directory `name` of `dir` for listing and as the base of *at calls
/// (O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC). ELOOP or ENOTDIR when `name` is a symbolic link
/// or not a directory; ".." opens the parent.
handle open_directory_at(handle dir, const char* name, std::error_code& ec) noexcept;

/// Reads the next batch of entries of `dir` into `buffer` (getdents64); returns the number of
/// bytes filled, 0 at the end of the directory. Walk the batch with next_entry().
std::size_t read_directory(handle dir, void* buffer, std::size_t size,
                           std::error_code& ec) noexcept;

/// The entry of a batch at `offset` (start at 0), skipping "." and ".."; advances `offset`.
/// False at the end of the batch.
bool next_entry(const void* batch, std::size_t size, std::size_t& offset,
                directory_entry& out) noexcept;

/// Where the next read_directory() of `dir` starts, to resume on another handle of the same
/// directory with seek_directory(). 0 is the start.
std::int64_t tell_directory(handle dir, std::error_code& ec) noexcept;
void seek_directory(handle dir, std::int64_t position, std::error_code& ec) noexcept;

/// Removes the entry `name` of `dir`: an empty directory when `directory`, otherwise anything
/// but a directory (a symbolic link itself, never its target).
void remove_at(handle dir, const char* name, bool directory, std::error_code& ec) noexcept;

/// Sets the permission bits of `name` in `dir` without following a symbolic link (a symbolic
/// link fails with EOPNOTSUPP).
void set_mode_at(handle dir, const char* name, unsigned mode, std::error_code& ec) noexcept;

/// The status of `name` in `dir` itself (a symbolic link is not followed).
file_status status_at(handle dir, const char* name, std::error_code& ec) noexcept;

/// Renames `from` in `from_dir` to `to` in `to_dir`, replacing `to` (renameat).
void rename_at(handle from_dir, const char* from, handle to_dir, const char* to,
               std::error_code& ec) noexcept;

/// Gives the anonymous (linkable) file `h` the name `name` in `dir`; EEXIST if it is taken. As
/// link_anonymous() (platform.hpp): AT_EMPTY_PATH, or /proc/self/fd where that is refused.
void link_anonymous_at(handle h, handle dir, const char* name, std::error_code& ec) noexcept;

// --- helper threads: independent subtrees removed at once ---------------------------------------

/// How many processors this process may run on (its affinity mask; at least 1).
unsigned available_processors() noexcept;

/// An OS thread started by start_thread().
using thread_id = std::uint64_t;

/// Runs `body(context)` on a new thread that blocks every signal, so that signals keep going to
/// the program's own threads (and its signal cleanup never runs on a helper). False if no thread
/// could be started. Every started thread must be waited for with join_thread().
bool start_thread(void (*body)(void*) noexcept, void* context, thread_id& id) noexcept;
void join_thread(thread_id id) noexcept;

}  // namespace tempfile::detail::platform
