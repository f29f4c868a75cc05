/// @file
/// tempfile::temporary_file: a file with no name, gone when closed.
#pragma once

#include "tempfile/file.hpp"
#include "tempfile/options.hpp"

namespace tempfile {

/// A read/write file that has no name in any directory (Python's `TemporaryFile()`).
///
/// Made with O_TMPFILE where the file system supports it, else created and unlinked at once, so
/// nothing is left behind even after SIGKILL (in the fallback, only a kill between the two
/// system calls leaves the file). prefix, suffix and random_length only matter for that
/// fallback; the kernel frees the file when its last descriptor closes.
///
/// Errors: std::invalid_argument for bad options; std::filesystem::filesystem_error naming the
/// directory when the file cannot be made.
///
/// Security: mode 0600 (or options::mode); with O_TMPFILE the file can never be linked into a
/// directory, by anyone.
class temporary_file : public file {
 public:
  /// Creates the file in options::dir (default gettempdir()).
  explicit temporary_file(const options& opts = {});
};

}  // namespace tempfile
