/// @file
/// tempfile::named_temporary_file: a file with a visible, unique name.
#pragma once

#include <filesystem>

#include "tempfile/file.hpp"
#include "tempfile/options.hpp"

namespace tempfile {

/// A read/write file with a unique name in a directory (Python's `NamedTemporaryFile()`).
///
/// Deleted by close() when options::delete_on_close (the default), otherwise by the destructor,
/// unless kept (options::keep or keep()) or persisted. A file that someone else already deleted
/// causes no error. In a fork()ed child, closing or destroying an inherited object closes the
/// descriptor but never deletes the parent's file.
/// Security: created O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC with mode 0600 (or options::mode).
class named_temporary_file : public file {
 public:
  /// Creates the file. Errors: std::invalid_argument for bad options;
  /// std::filesystem::filesystem_error naming the directory otherwise.
  explicit named_temporary_file(const options& opts = {});

  /// The absolute path of the file (still answered after close()); empty when moved from.
  [[nodiscard]] const std::filesystem::path& path() const noexcept;
  /// Disarms deletion and returns the path. Python equivalent: `delete=False` after the fact.
  /// Errors: std::logic_error if the file was already deleted by close() or moved from.
  std::filesystem::path keep();
  /// Renames the file over `target` atomically; path() becomes `target` (made absolute) and the
  /// file is no longer deleted. Errors: filesystem_error naming both paths; on failure the object
  /// is unchanged and still owns (and will delete) its file.
  void persist(const std::filesystem::path& target);
  /// As persist(), but fails with EEXIST instead of replacing an existing `target`.
  void persist_noclobber(const std::filesystem::path& target);
  /// A new, independent read/write handle on the same file, positioned at the start.
  /// Errors: filesystem_error if the path no longer names the same file (device and inode)
  /// (ESTALE) or cannot be opened.
  [[nodiscard]] file reopen() const;
};

}  // namespace tempfile
