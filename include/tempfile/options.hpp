/// @file
/// The options shared by every kind of temporary file and directory.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

namespace tempfile {

/// How a temporary file or directory is named, where it is made and what happens when it dies.
///
/// Used with designated initialisers:
/// `tempfile::named_temporary_file f({.prefix = "my_", .suffix = ".txt", .dir = "/tmp"});`
///
/// Python equivalent: the `prefix`, `suffix`, `dir`, `delete`, `delete_on_close`,
/// `ignore_cleanup_errors` and `max_size` arguments of `tempfile`'s functions and classes.
/// New fields are only ever added at the end, so designated initialisers keep compiling.
struct options {
  /// Text before the random part of the name. Must not contain '/' or a NUL byte.
  std::string prefix = "tmp";
  /// Text after the random part of the name. Must not contain '/' or a NUL byte.
  std::string suffix = "";
  /// Directory to create in; empty means gettempdir(). A relative directory is made absolute at
  /// creation, so a later chdir() cannot redirect cleanup.
  std::filesystem::path dir = {};
  /// Named file or directory: leave it on disk when the object dies (Python's `delete=False`).
  /// A kept object is never registered for crash cleanup either.
  bool keep = false;
  /// Named file: close() deletes it (Python 3.12's `delete_on_close`); false: only destruction
  /// does.
  bool delete_on_close = true;
  /// Directory: cleanup() removes what it can and throws nothing.
  bool ignore_cleanup_errors = false;
  /// Spooled file: bytes held in memory before rolling over to disk; 0 never rolls over on size.
  std::size_t max_size = 0;
  /// Number of random characters between prefix and suffix; from 6 to 255.
  std::size_t random_length = 8;
  /// Permission bits (at most 07777); default 0600 for files and 0700 for directories. As with
  /// open(2) and mkdir(2), the umask can narrow them but never widen them. atomic_file is the
  /// exception: it sets this mode exactly (fchmod) at commit(), whatever the umask.
  std::optional<std::filesystem::perms> mode = {};
};

/// Checks `opts` without touching the disk.
///
/// Every constructor and creating function calls it first, so bad options fail before anything
/// touches the disk.
///
/// Errors: std::invalid_argument when the prefix or suffix contains '/' or a NUL byte, when
/// random_length is below 6 or above 255, or when mode has bits outside 07777.
void validate(const options& opts);

}  // namespace tempfile
