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
/// causes no error. While it is to be deleted it is registered for crash cleanup
/// (enable_signal_cleanup(), start_guardian()). In a fork()ed child, closing or destroying an
/// inherited object closes the descriptor but never deletes the parent's file.
///
/// Security: created O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC with mode 0600 (or options::mode). The
/// name stays visible, so deletion is by path: whoever may remove entries of the directory (in
/// a sticky directory such as /tmp: its owner, the file's owner and root) can replace the file
/// meanwhile (reopen() checks for that). Prefer temporary_file when no name is needed.
class named_temporary_file : public file {
 public:
  /// Creates the file in options::dir (default gettempdir()). Errors: std::invalid_argument for
  /// bad options; std::filesystem::filesystem_error naming the directory otherwise.
  explicit named_temporary_file(const options& opts = {});

  /// The absolute path of the file (still answered after close()); empty when moved from.
  [[nodiscard]] const std::filesystem::path& path() const noexcept;
  /// Disarms deletion and returns the path. Python equivalent: `delete=False` after the fact.
  ///
  /// Errors: std::logic_error if the file was already deleted by close() or moved from.
  std::filesystem::path keep();
  /// Renames the file over `target` atomically; path() becomes `target` (made absolute) and the
  /// file is no longer deleted. Buffered bytes are flushed first; nothing is fsynced (call sync()
  /// before, or use atomic_file, for durability). Works after close() if the file is still there.
  ///
  /// Errors: std::logic_error when moved from or deleted by close(); filesystem_error naming both
  /// paths (EXDEV when `target` is on another file system); on failure the object is unchanged
  /// and still owns (and will delete) its file.
  ///
  /// Python equivalent: none; Rust's `NamedTempFile::persist`.
  void persist(const std::filesystem::path& target);
  /// As persist(), but fails with EEXIST instead of replacing an existing `target`
  /// (renameat2(RENAME_NOREPLACE), or link then unlink where the file system lacks it).
  void persist_noclobber(const std::filesystem::path& target);
  /// A new, independent read/write handle on the same file, positioned at the start.
  ///
  /// The handle has its own buffer and position and never deletes the file. Works after close()
  /// when the file was left on disk.
  ///
  /// Errors: std::logic_error when moved from or deleted by close(); filesystem_error with ESTALE
  /// if the path no longer names the same file (device and inode), or with the errno of open(2)
  /// (ELOOP for a symbolic link, which is never followed).
  [[nodiscard]] file reopen() const;
};

}  // namespace tempfile
