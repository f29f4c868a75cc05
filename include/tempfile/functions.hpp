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
/// probe leaves nothing behind). Probed once, then cached; thread-safe. Always absolute and
/// lexically normal. A directory given to set_tempdir() is returned as it was set, unprobed.
///
/// Errors: std::filesystem::filesystem_error with ENOENT, listing every candidate, when none works.
///
/// Python equivalent: `tempfile.gettempdir()`.
[[nodiscard]] std::filesystem::path gettempdir();

/// Overrides gettempdir() for the whole process; an empty path restores the search (and forgets
/// the cached answer, so the environment is read again).
///
/// A relative `dir` is made absolute now, against the current directory. The directory is not
/// checked: one that does not exist makes later creations fail. It applies to what is created
/// from then on (a spooled_temporary_file looks for its directory when it rolls over).
/// Thread-safe.
///
/// Errors: std::filesystem::filesystem_error if `dir` cannot be made absolute.
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
/// deletes it: the caller closes and removes it. options::keep, delete_on_close,
/// ignore_cleanup_errors and max_size do not apply.
///
/// Errors: std::invalid_argument for bad options; std::filesystem::filesystem_error with the errno
/// and the directory otherwise (EEXIST when 1000 random names in a row were taken).
///
/// Security: the name is unpredictable and the file is created exclusively, so neither an
/// existing file nor a planted symbolic link is ever opened. Crash cleanup
/// (enable_signal_cleanup(), start_guardian()) does not know about it.
///
/// Python equivalent: `tempfile.mkstemp()`.
[[nodiscard]] mkstemp_result mkstemp(const options& opts = {});

/// Creates a new directory with a unique name, mode 0700 (or options::mode), and returns its
/// absolute path. The caller removes it.
///
/// Crash cleanup does not know about it.
///
/// Errors: as mkstemp(). Python equivalent: `tempfile.mkdtemp()`.
[[nodiscard]] std::filesystem::path mkdtemp(const options& opts = {});

/// Returns an absolute name that did not exist when it was checked; creates nothing.
///
/// @deprecated Race-prone: use mkstemp() or mkdtemp(), which create the entry they name.
///
/// The check is an lstat(2) of the candidate name, so a dangling symbolic link counts as taken.
///
/// Errors: std::invalid_argument for bad options; std::filesystem::filesystem_error naming the
/// directory when it is not a directory (ENOTDIR) or cannot be examined, or EEXIST when 1000
/// names in a row were taken.
///
/// Security: another process can take the name before you use it. Use mkstemp() or mkdtemp().
///
/// Python equivalent: `tempfile.mktemp()`.
[[deprecated("race-prone: use mkstemp")]] [[nodiscard]] std::filesystem::path mktemp(
    const options& opts = {});

}  // namespace tempfile
