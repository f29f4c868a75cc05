// The program every packaging test builds: it uses the library the way a consumer would, through
// the umbrella header, and fails loudly if the build picked up the wrong version.
#include <cstdio>
#include <filesystem>
#include <string>
#include <tempfile/tempfile.hpp>

#ifndef TEMPFILE_EXPECTED_VERSION
#error "build with -DTEMPFILE_EXPECTED_VERSION=\"x.y.z\""
#endif

namespace {

int fail(const char* what) {
  std::fprintf(stderr, "consumer: FAILED: %s\n", what);
  return 1;
}

}  // namespace

int main() {
  if (std::string(TEMPFILE_VERSION_STRING) != TEMPFILE_EXPECTED_VERSION) {
    std::fprintf(stderr, "consumer: TEMPFILE_VERSION_STRING is %s, expected %s\n",
                 TEMPFILE_VERSION_STRING, TEMPFILE_EXPECTED_VERSION);
    return 1;
  }
  const std::string text = "written by a consumer of tempfile\n";
  std::filesystem::path path;
  {
    tempfile::named_temporary_file f({.prefix = "tempfile_consumer_", .suffix = ".txt"});
    path = f.path();
    if (!path.is_absolute() || !std::filesystem::exists(path)) return fail("no file on disk");
    if (path.filename().string().rfind("tempfile_consumer_", 0) != 0) return fail("prefix");
    if (f.write(text) != text.size()) return fail("write");
    f.seek(0);
    if (f.read() != text) return fail("read back");
  }
  if (std::filesystem::exists(path)) return fail("file left behind after destruction");
  std::printf("consumer: ok, tempfile %s\n", TEMPFILE_VERSION_STRING);
  return 0;
}
