// What both fuzz targets share: a scratch directory made at start-up and removed at exit, a check
// that an input left nothing in it, and the crash that reports a broken promise.
#pragma once

#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace fuzz_scratch {

/// The target's name, for messages and for the scratch directory's name (set by the target).
extern const char* const kTarget;

inline std::filesystem::path& directory() {
  static std::filesystem::path dir;
  return dir;
}

/// Reports `what` (and `detail`) and crashes, so libFuzzer keeps the input.
[[noreturn]] inline void fail(const char* what, const std::string& detail = {}) {
  std::fprintf(stderr, "%s: %s %s\n", kTarget, what, detail.c_str());
  std::abort();
}

/// Makes the scratch directory in the system's temporary directory; removed at exit.
inline void make() {
  std::string tmpl = (std::filesystem::temp_directory_path() / kTarget).string() + ".XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) fail("mkdtemp failed");
  directory() = tmpl;
  std::atexit(+[] {
    std::error_code ec;
    std::filesystem::remove_all(directory(), ec);
  });
}

/// True if nothing is left in the scratch directory.
inline bool is_empty() {
  DIR* d = ::opendir(directory().c_str());
  if (d == nullptr) fail("cannot list the scratch directory");
  bool empty = true;
  while (const dirent* e = ::readdir(d)) {
    const std::string_view name = e->d_name;
    if (name != "." && name != "..") empty = false;
  }
  ::closedir(d);
  return empty;
}

}  // namespace fuzz_scratch
