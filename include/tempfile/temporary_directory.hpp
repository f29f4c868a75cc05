/// @file
/// tempfile::temporary_directory: a directory removed with everything in it.
#pragma once

#include <cstdint>
#include <filesystem>

#include "tempfile/detail/lazy_path.hpp"
#include "tempfile/options.hpp"

namespace tempfile {

/// A new directory with a unique name, removed with everything in it when the object dies
/// (Python's `TemporaryDirectory()`).
///
/// Removal never follows a symbolic link out of the tree: it works relative to open directories
/// (openat with O_NOFOLLOW, unlinkat of the link itself). It copes with read-only files and with
/// directories lacking permissions inside the tree (they get owner rwx), with trees of any depth
/// (no recursion, a bounded number of descriptors) and with entries that vanish meanwhile. It
/// never changes the mode of the directory that holds the temporary directory. Unless
/// options::keep, it is registered for crash cleanup (enable_signal_cleanup(), start_guardian())
/// until it is removed or kept. In a fork()ed child, cleanup() and destruction of an inherited
/// object never remove the parent's directory.
///
/// Threads: one object must not be used by two threads at once; distinct objects may.
///
/// Security: created with mode 0700 (or options::mode; the umask can only narrow it): with 0700
/// other users can neither list it nor reach what is inside.
class temporary_directory {
 public:
  /// Creates the directory in options::dir (default gettempdir()).
  ///
  /// Errors: std::invalid_argument for bad options; std::filesystem::filesystem_error naming the
  /// directory it was to be made in otherwise.
  explicit temporary_directory(const options& opts = {});

  /// Takes over `other`'s directory; `other` is left empty (path() is empty).
  temporary_directory(temporary_directory&& other) noexcept;
  /// Removes this object's directory (best effort, as the destructor does), then takes over
  /// `other`'s; `other` is left empty.
  temporary_directory& operator=(temporary_directory&& other) noexcept;
  /// Not copyable: a directory has one owner.
  temporary_directory(const temporary_directory&) = delete;
  /// Not copyable: a directory has one owner.
  temporary_directory& operator=(const temporary_directory&) = delete;
  /// Removes the directory and everything in it, unless kept (options::keep or keep()) or
  /// removed already; best effort, never throws.
  ~temporary_directory();

  /// The absolute path of the directory (still answered after cleanup()); empty when moved from.
  [[nodiscard]] const std::filesystem::path& path() const noexcept;

  /// Removes the directory and everything in it now. Idempotent: once it succeeded, later calls
  /// (and the destructor) do nothing. Removes the directory even with options::keep (as Python's
  /// `cleanup()` does with `delete=False`), but not after keep(), nor from a fork()ed child.
  ///
  /// Errors: unless options::ignore_cleanup_errors, std::filesystem::filesystem_error
  /// "cannot remove '<path>'" with path1() the directory, path2() the entry that failed first
  /// (when it is inside) and the first error's code, thrown after everything removable was
  /// removed. The object then still owns what is left, and a later cleanup() or the destructor
  /// tries again.
  void cleanup();

  /// Disarms removal for good and returns the path. Python equivalent: `delete=False`.
  ///
  /// Errors: std::logic_error on a moved-from object or after cleanup() removed the directory.
  std::filesystem::path keep();

 private:
  void destroy() noexcept;

  detail::lazy_path path_;
  std::uint64_t generation_ = 0;       // fork generation of the creating process
  bool owned_ = false;                 // ours to remove: not kept(), not removed yet
  bool remove_on_destruction_ = true;  // !options::keep
  bool removed_ = false;               // cleanup() succeeded
  bool ignore_cleanup_errors_ = false;
  std::uint64_t ticket_ = 0;  // registration with crash cleanup, while the destructor would remove
};

}  // namespace tempfile
