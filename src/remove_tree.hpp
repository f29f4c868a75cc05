// Removing a directory tree without ever following a symbolic link: the walk behind
// temporary_directory::cleanup(), kept free of exceptions so that signal cleanup can reuse it,
// and built on "empty this open directory" so that a subtree can be handed to another thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <system_error>

#include "platform/platform.hpp"

namespace tempfile::detail {

/// Removes the directory at the absolute `path` and everything in it.
///
/// An empty directory costs one rmdir. Otherwise the tree is walked relative to open directories
/// (O_NOFOLLOW on every open, unlinkat of symbolic links themselves), iteratively, with at most
/// 64 descriptors open and memory for the path being worked on (each level's name, plus the
/// not-yet-emptied subdirectories of its current listing batch), never for the whole tree. Entries
/// that cannot be removed for want of permission get owner rwx on their parent (never on the
/// directory holding `path`) and are retried. Entries that vanish meanwhile are not errors.
///
/// A tree found to be large (over a thousand entries) is removed by several threads, one per
/// available processor (at most 4): a walk hands subdirectories it has opened to idle threads,
/// each of which empties its subdirectory with the same walk, and removes them by name once they
/// are empty. The 64 descriptors are shared out between the walks. The threads block every
/// signal and end before this returns.
///
/// Removes all it can; `first_error` receives the first failure, or is cleared. When
/// `failed_entry` is given it receives the absolute path of the entry that failed first.
void remove_tree(const std::filesystem::path& path, std::error_code& first_error,
                 std::filesystem::path* failed_entry = nullptr) noexcept;

/// remove_tree() for a path given as characters, with no failed entry to report.
void remove_tree(const char* path, std::error_code& first_error) noexcept;

/// remove_tree() for signal handlers: async-signal-safe (no allocation: memory comes from a
/// static arena, enough for trees tens of thousands of levels deep), reports nothing. One call
/// runs at a time; a concurrent call returns at once.
void remove_tree_signal_safe(const char* path) noexcept;

/// For a process just forked from a multi-threaded one (the guardian): forgets a signal-safe
/// walk that another thread of the parent was in the middle of at the fork, which would
/// otherwise keep every later remove_tree_signal_safe() here from running.
void reset_signal_safe_arena() noexcept;

/// Removes everything inside the open directory `dir`, which stays (and stays open, though it may
/// be given owner rwx). One pass: entries created meanwhile may survive. This is the unit a
/// subtree can be handed off as (open it, empty it, then unlinkat it from its parent).
/// `first_error` as for remove_tree().
void remove_contents(platform::handle dir, std::error_code& first_error) noexcept;

#ifdef TEMPFILE_FAULT_INJECTION
/// Test seam: a function called before each subdirectory is opened (open_child: `name` of `dir`)
/// and before a parent is reopened from its child (open_parent: `dir` is the child, `name` "..").
namespace remove_tree_seam {
enum class event { open_child, open_parent };
using hook = void (*)(event, platform::handle dir, const char* name, void* context) noexcept;
/// Installs `h` (nullptr: none) for the calling process; not thread-aware, like the fault seam.
/// A parallel removal calls it from its helper threads too.
void set_hook(hook h, void* context) noexcept;

/// Makes helper threads start after `after_entries` entries (instead of 1024), and sets their
/// number (-1: one per available processor but the calling one, as in the released library; at
/// most 3). In the test build there are none until a test asks for them, since the seams are
/// not thread-aware.
void set_parallel(std::size_t after_entries, int helpers) noexcept;
/// Back to the test build's defaults: no helper threads.
void reset_parallel() noexcept;

/// What parallel removals did since the process started.
struct parallel_stats {
  std::uint64_t handed_off = 0;       // subdirectories queued for another thread
  std::uint64_t threads_started = 0;  // helper threads
  std::uint64_t taken_back = 0;       // queued subdirectories their walk took back
};
parallel_stats stats() noexcept;
}  // namespace remove_tree_seam
#endif

}  // namespace tempfile::detail
