/// @file
/// tempfile::atomic_file: replace a file all at once, so readers see the old content or the new.
#pragma once

#include <filesystem>
#include <memory>

#include "tempfile/file.hpp"
#include "tempfile/options.hpp"

namespace tempfile {

namespace detail {
struct atomic_target;
/// Disposes of an atomic_file's target state as discarding would, then keeps the memory for the
/// next atomic_file this thread makes (see atomic_file.cpp).
struct atomic_target_deleter {
  void operator()(atomic_target* t) const noexcept;
};
}  // namespace detail

/// A file whose content replaces `target` atomically when commit() is called.
///
/// Writes go to a temporary file in the target's directory: an unnamed O_TMPFILE file where the
/// file system supports it, else a named file "." + target name + "." + random + ".tmp", so that a
/// crash leaves an obviously related name. commit() flushes, fsyncs the file, renames it over
/// the target and fsyncs the directory: a reader that opens the target sees either the old
/// content or the new, never a mix, and after a crash the new content is there in full or not at
/// all. discard() or destruction without commit() leave the target and its directory as they
/// were; close() without commit() gives the content up too (what it flushed is never used), and
/// a named temporary is removed at discard() or destruction. While the temporary has a name it is
/// registered for crash cleanup (enable_signal_cleanup(), start_guardian()).
///
/// Permissions: an existing target keeps its mode, and its owner and group where the process may
/// set them (else at least its group, where the process may set that; otherwise the new file
/// belongs to this process). The target is looked at again at commit(), so a change made to it
/// meanwhile is kept. A new target gets 0666 minus the umask, like any file a program creates.
/// options::mode, if set, wins over both and is set exactly, whatever the umask. While it is
/// being written, a named temporary that will replace an existing target, or that has
/// options::mode, is readable by its owner only; an unnamed one has no name to be opened by, and
/// is made with the mode it will have, so that a commit usually needs no fchown or fchmod. A target
/// that is a symbolic link is resolved (the whole chain) and the file it points to is replaced; the
/// link stays a link. Of the options, only random_length and mode are used: the temporary is always
/// made beside the target, and its random part is at most 249 characters, so that its name fits
/// NAME_MAX.
///
/// Errors: std::invalid_argument for bad options; std::filesystem::filesystem_error naming the
/// target when the temporary cannot be made, written or committed. A failed write or commit
/// leaves the target untouched and no stray file; the object can then be discarded (or commit()
/// retried). Only a failure of the final directory fsync comes after the rename: the new content
/// is then in place, the object is finished, and the error says that the directory could not be
/// synced. A directory that may be written but not read (EACCES on opening it) is committed
/// without the directory fsync, and without an error.
///
/// Python equivalent: none in `tempfile`; the pattern of `atomicwrites` and Rust's
/// `tempfile::NamedTempFile::persist`.
class atomic_file : public file {
 public:
  /// Prepares to replace `target` (made absolute; a symbolic link is followed to its final
  /// file). Errors: std::invalid_argument for bad options; filesystem_error naming the target
  /// when its directory cannot be used or it is a directory (EISDIR).
  explicit atomic_file(const std::filesystem::path& target, const options& opts = {});
  /// Takes over `other`; `other` is left closed with an empty target().
  atomic_file(atomic_file&& other) noexcept;
  /// Discards this object's uncommitted content (best effort), then takes over `other`.
  atomic_file& operator=(atomic_file&& other) noexcept;
  /// Discards uncommitted content (best effort, never throws).
  ~atomic_file() override;

  /// Flushes, fsyncs, then renames the content over the target and fsyncs the directory; the file
  /// is closed afterwards. When it returns, the new content is on stable storage (as far as the
  /// device honours fsync). Errors: std::logic_error after commit(), discard() or close(), or
  /// when moved from; filesystem_error naming the target otherwise (target untouched, object
  /// still uncommitted), except a failed directory fsync or close, which come after the rename.
  void commit();
  /// Drops the content: the target and its directory stay as they were; the file is closed.
  /// Bytes still buffered are dropped, not written. Idempotent, and a no-op after commit() or
  /// when moved from. In a fork()ed child it closes the descriptor but leaves a named temporary
  /// to the parent. Errors: filesystem_error if the temporary name cannot be removed (the
  /// descriptor is closed in every case).
  void discard();
  /// The absolute path given at construction (a symbolic link stays as given); empty when moved
  /// from.
  [[nodiscard]] const std::filesystem::path& target() const noexcept;
  /// True once commit() has succeeded.
  [[nodiscard]] bool committed() const noexcept;

 private:
  std::unique_ptr<detail::atomic_target, detail::atomic_target_deleter> target_;
};

}  // namespace tempfile
