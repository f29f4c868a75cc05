/// @file
/// tempfile::spooled_temporary_file: a file kept in memory until it grows past a limit.
#pragma once

#include "tempfile/file.hpp"
#include "tempfile/options.hpp"

namespace tempfile {

/// A read/write file whose bytes live in memory until it grows past options::max_size, then move
/// to an unnamed file in options::dir (Python's `SpooledTemporaryFile()`).
///
/// It rolls over when a write leaves the position past max_size (exactly max_size bytes may stay
/// in memory; max_size 0 never rolls over on size), when truncate(n) is called with
/// n > max_size (max_size non-zero), or on rollover() and native_handle(). Content and position are
/// kept. Seeking past the end does not roll over by itself; the next write does. In memory no
/// system call is made and memory grows geometrically. After rollover it behaves as a
/// temporary_file.
///
/// Errors: std::invalid_argument for bad options (checked at construction); a failed rollover
/// throws std::filesystem::filesystem_error and leaves the content in memory.
class spooled_temporary_file : public file {
 public:
  /// An empty file in memory. Nothing touches the disk until rollover.
  explicit spooled_temporary_file(const options& opts = {});

  /// Moves the content to disk now (no-op if already there). Python equivalent: `rollover()`.
  ///
  /// Errors: std::logic_error when closed; filesystem_error when the file cannot be made or
  /// written (the content stays in memory).
  void rollover();
  /// True once the content lives in a file on disk; false after close() and when moved from.
  [[nodiscard]] bool rolled_over() const noexcept;
};

}  // namespace tempfile
