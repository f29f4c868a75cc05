// The creation core: every temporary file and directory of the library is made here.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <system_error>

#include "names.hpp"
#include "platform/platform.hpp"
#include "tempfile/detail/lazy_path.hpp"
#include "tempfile/options.hpp"

namespace tempfile::detail {

enum class entry_kind { file, directory, name_only };

struct created_entry {
  platform::handle fd = platform::invalid_handle;  // files only
  std::string path;  // absolute, as text: a std::filesystem::path is made only where needed
};

/// Undoes a creation that cannot be handed over (e.g. memory ran out after it): closes the
/// descriptor and removes the entry. Best effort, never throws.
void discard_entry(const created_entry& entry, entry_kind kind) noexcept;

/// How many names are tried before giving up with EEXIST.
inline constexpr unsigned kMaxAttempts = 1000;

/// opts.mode, or 0600 for files and 0700 for directories.
unsigned entry_mode(const options& opts, entry_kind kind) noexcept;

/// The absolute directory `opts` asks for: opts.dir itself when it is absolute (not copied), else
/// gettempdir() or opts.dir made absolute, kept in `storage` (so that the usual case constructs
/// no path at all).
const std::filesystem::path& resolve_directory(const options& opts,
                                               std::optional<std::filesystem::path>& storage);

/// What a new name looks like: prefix + `length` random characters + suffix.
struct name_pattern {
  std::string_view prefix;
  std::string_view suffix;
  std::size_t length = 8;
  alphabet chars = alphabet::portable;
};

/// Puts dir + "/" + pattern's name in `text` (reusing its memory), with the random part left
/// blank for fill_random_name(): its pattern.length characters start at `random_at`. At most one
/// allocation; the directory is not parsed.
void lay_out_name(std::string_view dir, const name_pattern& pattern, std::size_t& random_at,
                  std::string& text);

/// Makes a new entry named after `pattern` in the absolute directory `dir` with permission bits
/// `mode` (the umask applies, as with open(2)), retrying with new names on EEXIST, up to
/// kMaxAttempts. name_only checks only that the name is free (lstat reports ENOENT). Returns the
/// descriptor (files) and leaves the path in `path`, reusing its memory. On failure sets `ec`
/// (EEXIST when every attempt collided), empties `path` and returns invalid_handle.
platform::handle create_in(const std::filesystem::path& dir, const name_pattern& pattern,
                           entry_kind kind, unsigned mode, std::error_code& ec, std::string& path);

/// The same, returning both (an empty entry on failure).
created_entry create_in(const std::filesystem::path& dir, const name_pattern& pattern,
                        entry_kind kind, unsigned mode, std::error_code& ec);

/// create_in() with the name and mode that `opts` asks for. Does not validate `opts`.
created_entry create_in(const std::filesystem::path& dir, const options& opts, entry_kind kind,
                        std::error_code& ec);

/// validate(opts), resolve_directory(opts), create_in() with the name and mode `opts` asks for,
/// the path left in `path`; throws filesystem_error naming the directory ("cannot create
/// temporary file in '<dir>'").
platform::handle create_entry(const options& opts, entry_kind kind, std::string& path);

/// The same, returning both.
created_entry create_entry(const options& opts, entry_kind kind);

/// An open file with no name in the directory of `opts`: O_TMPFILE, or, where the file system
/// refuses it, a named file unlinked at once. `linkable` keeps the O_TMPFILE file linkable.
/// Returns the descriptor; `dir_out` receives the absolute directory. Throws like create_entry().
platform::handle create_unnamed(const options& opts, bool linkable, lazy_path& dir_out);

}  // namespace tempfile::detail
