#include "create.hpp"

#include <cstring>
#include <string>
#include <string_view>
#include <system_error>

#include "error.hpp"
#include "names.hpp"
#include "tempfile/functions.hpp"

namespace tempfile::detail {

namespace {

const char* verb_for(entry_kind kind) noexcept {
  switch (kind) {
    case entry_kind::file: return "create temporary file in";
    case entry_kind::directory: return "create temporary directory in";
    case entry_kind::name_only: break;
  }
  return "find a free temporary name in";
}

// Copies `part` to `out` (memcpy with an empty view's null data() would be undefined).
void put(char* out, std::string_view part) noexcept {
  if (!part.empty()) std::memcpy(out, part.data(), part.size());
}

}  // namespace

void discard_entry(const created_entry& entry, entry_kind kind) noexcept {
  std::error_code ignored;
  if (entry.fd != platform::invalid_handle) platform::close(entry.fd, ignored);
  if (entry.path.empty()) return;
  if (kind == entry_kind::file) platform::remove_file(entry.path, ignored);
  if (kind == entry_kind::directory) platform::remove_directory(entry.path, ignored);
}

unsigned entry_mode(const options& opts, entry_kind kind) noexcept {
  if (opts.mode) return static_cast<unsigned>(*opts.mode) & 07777u;
  return kind == entry_kind::directory ? 0700u : 0600u;
}

const std::filesystem::path& resolve_directory(const options& opts,
                                               std::optional<std::filesystem::path>& storage) {
  const std::string& text = opts.dir.native();
  if (text.empty()) return storage.emplace(gettempdir());
  if (text.front() == '/') return opts.dir;  // absolute (POSIX): used in place, not copied
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(opts.dir, ec);
  if (ec) throw_error("make absolute", opts.dir, ec);
  return storage.emplace(std::move(absolute));
}

void lay_out_name(std::string_view dir, const name_pattern& pattern, std::size_t& random_at,
                  std::string& text) {
  // Put together as one string, never parsed into components (see lazy_path): `dir / name` would
  // copy `dir` (every component of it) and parse the result. The name has no separator, so this
  // is the same path.
  const std::size_t separator = !dir.empty() && dir.back() != '/' ? 1 : 0;
  random_at = dir.size() + separator + pattern.prefix.size();
  text.assign(random_at + pattern.length + pattern.suffix.size(), '\0');
  char* const out = text.data();
  put(out, dir);
  if (separator != 0) out[dir.size()] = '/';
  put(out + dir.size() + separator, pattern.prefix);
  put(out + random_at + pattern.length, pattern.suffix);
}

platform::handle create_in(const std::filesystem::path& dir, const name_pattern& pattern,
                           entry_kind kind, unsigned mode, std::error_code& ec, std::string& path) {
  std::size_t random_at = 0;
  lay_out_name(dir.native(), pattern, random_at, path);
  for (unsigned attempt = 0; attempt < kMaxAttempts; ++attempt) {
    try {  // a new random part, in place, for each attempt
      fill_random_name(path.data() + random_at, pattern.length, pattern.chars);
    } catch (const std::system_error& e) {
      // The OS's random source failed: an error of this creation, worded with its directory.
      ec = e.code();
      break;
    }
    platform::handle fd = platform::invalid_handle;
    switch (kind) {
      case entry_kind::file: fd = platform::create_file(path, mode, ec); break;
      case entry_kind::directory: platform::create_directory(path, mode, ec); break;
      case entry_kind::name_only: {
        (void)platform::status(path, ec);
        if (!ec) {
          ec = std::make_error_code(std::errc::file_exists);
        } else if (ec == std::errc::no_such_file_or_directory) {
          ec.clear();
        }
        break;
      }
    }
    if (!ec) return fd;
    if (ec != std::errc::file_exists) break;
  }
  path.clear();  // ec says why: EEXIST when every name tried was taken
  return platform::invalid_handle;
}

created_entry create_in(const std::filesystem::path& dir, const name_pattern& pattern,
                        entry_kind kind, unsigned mode, std::error_code& ec) {
  created_entry entry;
  entry.fd = create_in(dir, pattern, kind, mode, ec, entry.path);
  return entry;
}

created_entry create_in(const std::filesystem::path& dir, const options& opts, entry_kind kind,
                        std::error_code& ec) {
  return create_in(dir, name_pattern{opts.prefix, opts.suffix, opts.random_length}, kind,
                   entry_mode(opts, kind), ec);
}

platform::handle create_entry(const options& opts, entry_kind kind, std::string& path) {
  validate(opts);
  std::optional<std::filesystem::path> storage;
  const std::filesystem::path& dir = resolve_directory(opts, storage);
  std::error_code ec;
  if (kind == entry_kind::name_only) {
    // A free name is only worth having in a directory that exists.
    // Follows a symlink: a directory reached through one (/tmp -> /private/tmp) is fine.
    const bool is_dir = std::filesystem::is_directory(dir, ec);
    if (!ec && !is_dir) ec = std::make_error_code(std::errc::not_a_directory);
    if (ec) throw_error(verb_for(kind), dir, ec);
  }
  const platform::handle fd =
      create_in(dir, name_pattern{opts.prefix, opts.suffix, opts.random_length}, kind,
                entry_mode(opts, kind), ec, path);
  if (ec) throw_error(verb_for(kind), dir, ec);
  return fd;
}

created_entry create_entry(const options& opts, entry_kind kind) {
  created_entry entry;
  entry.fd = create_entry(opts, kind, entry.path);
  return entry;
}

platform::handle create_unnamed(const options& opts, bool linkable, lazy_path& dir_out) {
  validate(opts);
  std::optional<std::filesystem::path> storage;
  dir_out.set(resolve_directory(opts, storage).native());  // as text: not parsed again
  std::error_code ec;
  const unsigned mode = entry_mode(opts, entry_kind::file);
  platform::handle fd = platform::create_anonymous_file(dir_out.native(), mode, linkable, ec);
  if (!ec) return fd;
  if (ec != std::errc::operation_not_supported)
    throw_error(verb_for(entry_kind::file), dir_out.get(), ec);
  created_entry entry = create_in(dir_out.get(), opts, entry_kind::file, ec);
  if (ec) throw_error(verb_for(entry_kind::file), dir_out.get(), ec);
  platform::remove_file(entry.path, ec);
  if (ec) {
    std::error_code ignored;
    platform::close(entry.fd, ignored);
    throw_error("unlink temporary file", entry.path, ec);
  }
  return entry.fd;
}

}  // namespace tempfile::detail
