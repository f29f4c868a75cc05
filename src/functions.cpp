// gettempdir(), set_tempdir(), gettempprefix(), mkstemp(), mkdtemp() and mktemp().
#include "tempfile/functions.hpp"

#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "create.hpp"
#include "error.hpp"
#include "platform/platform.hpp"

namespace tempfile {

namespace {

std::mutex g_tempdir_mutex;
std::optional<std::filesystem::path> g_tempdir;  // the override, or the cached search result

// A directory counts only if a file can really be created, written and removed in it.
bool usable(const std::filesystem::path& dir) {
  options probe;
  std::error_code ec;
  detail::created_entry entry = detail::create_in(dir, probe, detail::entry_kind::file, ec);
  if (ec) return false;
  static constexpr char kBlat[] = "blat";
  detail::platform::write_all_at(entry.fd, kBlat, sizeof kBlat - 1, 0, ec);
  const bool wrote = !ec;
  detail::platform::close(entry.fd, ec);
  const bool closed = !ec;
  detail::platform::remove_file(entry.path, ec);
  return wrote && closed && !ec;
}

std::filesystem::path search_tempdir() {
  std::vector<std::filesystem::path> candidates;
  for (const char* var : {"TMPDIR", "TEMP", "TMP"}) {
    if (const char* value = std::getenv(var); value != nullptr && *value != '\0') {
      candidates.emplace_back(value);
    }
  }
  for (const char* dir : {"/tmp", "/var/tmp", "/usr/tmp"}) candidates.emplace_back(dir);
  std::error_code ec;
  std::filesystem::path cwd = std::filesystem::current_path(ec);
  if (!ec) candidates.push_back(cwd);

  std::string tried;
  for (auto& candidate : candidates) {
    std::filesystem::path dir = std::filesystem::absolute(candidate, ec);
    if (ec) continue;
    dir = dir.lexically_normal();
    if (dir.has_relative_path() && !dir.has_filename()) dir = dir.parent_path();
    if (usable(dir)) return dir;
    if (!tried.empty()) tried += ", ";
    tried += dir.native();
  }
  throw std::filesystem::filesystem_error(
      "cannot find a usable temporary directory (tried: " + tried + ")",
      std::make_error_code(std::errc::no_such_file_or_directory));
}

}  // namespace

std::filesystem::path gettempdir() {
  std::lock_guard lock(g_tempdir_mutex);
  if (!g_tempdir) g_tempdir = search_tempdir();
  return *g_tempdir;
}

void set_tempdir(const std::filesystem::path& dir) {
  std::filesystem::path value;
  if (!dir.empty()) {
    std::error_code ec;
    value = std::filesystem::absolute(dir, ec);
    if (ec) detail::throw_error("make absolute", dir, ec);
  }
  std::lock_guard lock(g_tempdir_mutex);
  if (value.empty()) {
    g_tempdir.reset();
  } else {
    g_tempdir = std::move(value);
  }
}

std::string gettempprefix() { return "tmp"; }

mkstemp_result mkstemp(const options& opts) {
  const detail::created_entry entry = detail::create_entry(opts, detail::entry_kind::file);
  try {
    return {entry.fd, std::filesystem::path(entry.path)};
  } catch (...) {  // std::bad_alloc: nothing is left behind
    detail::discard_entry(entry, detail::entry_kind::file);
    throw;
  }
}

std::filesystem::path mkdtemp(const options& opts) {
  const detail::created_entry entry = detail::create_entry(opts, detail::entry_kind::directory);
  try {
    return std::filesystem::path(entry.path);
  } catch (...) {  // std::bad_alloc: nothing is left behind
    detail::discard_entry(entry, detail::entry_kind::directory);
    throw;
  }
}

std::filesystem::path mktemp(const options& opts) {
  return detail::create_entry(opts, detail::entry_kind::name_only).path;
}

}  // namespace tempfile
