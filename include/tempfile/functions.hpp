/// @file
/// Free functions: where temporary files go, and the low-level mkstemp/mkdtemp/mktemp.
#pragma once

#include <filesystem>
#include <string>

#include "tempfile/options.hpp"

namespace tempfile {

/// The directory temporary files are created in when options::dir is empty.
///
/// The first usable of $TMPDIR, $TEMP, $TMP, /tmp, /var/tmp, /usr/tmp and the current directory;
/// a candidate is usable only if a file can really be created, written and removed there (the
/// probe leaves nothing behind). Probed once, then cached; thread-safe. Always absolute.
///
/// Errors: std::filesystem::filesystem_error with ENOENT, listing every candidate, when none works.
/// Python equivalent: `tempfile.gettempdir()`.
[[nodiscard]] std::filesystem::path gettempdir();

/// Overrides gettempdir() for the whole process; an empty path restores the search (and forgets
/// the cached answer, so the environment is read again).
///
/// Python equivalent: `tempfile.tempdir = dir`.
void set_tempdir(const std::filesystem::path& dir);

/// The default prefix of temporary names: "tmp". Python equivalent: `tempfile.gettempprefix()`.
[[nodiscard]] std::string gettempprefix();

/// A file made by mkstemp(): the caller owns both the descriptor and the file.
struct mkstemp_result {
  int fd;                      ///< open for reading and writing, close-on-exec
  std::filesystem::path path;  ///< absolute
};

/// Creates a new file with a unique name and returns its open descriptor and absolute path.
///
/// Opened O_RDWR|O_CREAT|O_EXCL|O_CLOEXEC|O_NOFOLLOW with mode 0600 (or options::mode). Nothing
/// deletes it: the caller closes and removes it.
/// Errors: std::invalid_argument for bad options; std::filesystem::filesystem_error with the errno
/// and the directory otherwise (EEXIST after too many collisions).
/// Python equivalent: `tempfile.mkstemp()`.
[[nodiscard]] mkstemp_result mkstemp(const options& opts = {});

/// Creates a new directory with a unique name, mode 0700 (or options::mode), and returns its
/// absolute path. The caller removes it.
///
/// Errors: as mkstemp(). Python equivalent: `tempfile.mkdtemp()`.
[[nodiscard]] std::filesystem::path mkdtemp(const options& opts = {});

/// Returns an absolute name that did not exist when it was checked; creates nothing.
///
/// Security: another process can take the name before you use it. Use mkstemp() or mkdtemp().
/// Python equivalent: `tempfile.mktemp()`.
[[deprecated("race-prone: use mkstemp")]] [[nodiscard]] std::filesystem::path mktemp(
    const options& opts = {});

}  // namespace tempfile
