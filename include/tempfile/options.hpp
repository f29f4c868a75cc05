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
/// Python equivalent: the `prefix`, `suffix`, `dir` and `delete` arguments of `tempfile`'s
/// functions. New fields are only ever added at the end.
struct options {
  /// Text before the random part of the name. Must not contain '/' or a NUL byte.
  std::string prefix = "tmp";
  /// Text after the random part of the name. Must not contain '/' or a NUL byte.
  std::string suffix = "";
  /// Directory to create in; empty means gettempdir(). A relative directory is made absolute at
  /// creation, so a later chdir() cannot redirect cleanup.
  std::filesystem::path dir = {};
  /// Named file or directory: leave it on disk when the object dies (Python's `delete=False`).
  bool keep = false;
  /// Named file: close() deletes it (Python 3.12's `delete_on_close`); false: only destruction
  /// does.
  bool delete_on_close = true;
  /// Directory: cleanup() removes what it can and throws nothing.
  bool ignore_cleanup_errors = false;
  /// Spooled file: bytes held in memory before rolling over to disk; 0 never rolls over on size.
  std::size_t max_size = 0;
  /// Number of random characters between prefix and suffix; at least 6.
  std::size_t random_length = 8;
  /// Permission bits; default 0600 for files and 0700 for directories. As with open(2) and
  /// mkdir(2), the umask can narrow them but never widen them.
  std::optional<std::filesystem::perms> mode = {};
};

/// Checks `opts` without touching the disk.
///
/// Errors: std::invalid_argument when the prefix or suffix contains '/' or a NUL byte, or when
/// random_length is below 6 (or absurdly large, over 255).
void validate(const options& opts);

}  // namespace tempfile
