#include "create.hpp"

#include <string>

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

}  // namespace

unsigned entry_mode(const options& opts, entry_kind kind) noexcept {
  if (opts.mode) return static_cast<unsigned>(*opts.mode) & 07777u;
  return kind == entry_kind::directory ? 0700u : 0600u;
}

std::filesystem::path resolve_directory(const options& opts) {
  if (opts.dir.empty()) return gettempdir();
  if (opts.dir.is_absolute()) return opts.dir;
  std::error_code ec;
  auto abs = std::filesystem::absolute(opts.dir, ec);
  if (ec) throw_error("make absolute", opts.dir, ec);
  return abs;
}

created_entry create_in(const std::filesystem::path& dir, const options& opts, entry_kind kind,
                        std::error_code& ec) {
  const unsigned mode = entry_mode(opts, kind);
  std::string name;
  name.reserve(opts.prefix.size() + opts.random_length + opts.suffix.size());
  for (unsigned attempt = 0; attempt < kMaxAttempts; ++attempt) {
    name.assign(opts.prefix);
    append_random_name(name, opts.random_length);
    name += opts.suffix;
    created_entry entry;
    entry.path = dir / name;
    switch (kind) {
      case entry_kind::file:
        entry.fd = platform::create_file(entry.path, mode, ec);
        break;
      case entry_kind::directory:
        platform::create_directory(entry.path, mode, ec);
        break;
      case entry_kind::name_only: {
        (void)platform::status(entry.path, ec);
        if (!ec) {
          ec = std::make_error_code(std::errc::file_exists);
        } else if (ec == std::errc::no_such_file_or_directory) {
          // The name is free, but only if its directory exists: check that too.
          auto dir_status = platform::status(dir, ec);
          if (!ec && !dir_status.is_directory) ec = std::make_error_code(std::errc::not_a_directory);
          if (!ec) return entry;
        }
        break;
      }
    }
    if (!ec) return entry;
    if (ec != std::errc::file_exists) return {};
  }
  return {};  // ec is EEXIST: every name tried was taken
}

created_entry create_entry(const options& opts, entry_kind kind) {
  validate(opts);
  std::filesystem::path dir = resolve_directory(opts);
  std::error_code ec;
  created_entry entry = create_in(dir, opts, kind, ec);
  if (ec) throw_error(verb_for(kind), dir, ec);
  return entry;
}

platform::handle create_unnamed(const options& opts, bool linkable,
                                std::filesystem::path& dir_out) {
  validate(opts);
  dir_out = resolve_directory(opts);
  std::error_code ec;
  const unsigned mode = entry_mode(opts, entry_kind::file);
  platform::handle fd = platform::create_anonymous_file(dir_out, mode, linkable, ec);
  if (!ec) return fd;
  if (ec != std::errc::operation_not_supported) throw_error(verb_for(entry_kind::file), dir_out, ec);
  created_entry entry = create_in(dir_out, opts, entry_kind::file, ec);
  if (ec) throw_error(verb_for(entry_kind::file), dir_out, ec);
  platform::remove_file(entry.path, ec);
  if (ec) {
    std::error_code ignored;
    platform::close(entry.fd, ignored);
    throw_error("unlink temporary file", entry.path, ec);
  }
  return entry.fd;
}

}  // namespace tempfile::detail
