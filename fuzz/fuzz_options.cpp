// libFuzzer target: tempfile::validate() on any prefix, suffix, random_length and mode.
//
// Every input is either accepted or refused with std::invalid_argument, exactly as the contract
// says (a '/' or NUL in the prefix or suffix, random_length outside 6..255, mode bits outside
// 07777). An accepted one must really create a file or a directory in a scratch directory, named
// prefix + random_length characters of [a-z0-9_] + suffix (or fail with ENAMETOOLONG when that
// name is longer than NAME_MAX), and leave nothing behind once the object is gone. Anything else
// (another exception, a wrong verdict, a sanitizer report) is a crash.
//
// Input: flags (1 byte: bit 0 a mode is given, bit 1 a directory, bit 2 a huge random_length),
// random_length (2 bytes, little-endian), mode (2 bytes), prefix length (1 byte), prefix, and the
// rest is the suffix.

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tempfile/tempfile.hpp>

#include "fuzz_scratch.hpp"

const char* const fuzz_scratch::kTarget = "fuzz_options";

namespace {

namespace fs = std::filesystem;

using fuzz_scratch::fail;

struct input {
  const std::uint8_t* data;
  std::size_t size;
  std::uint8_t byte() {
    if (size == 0) return 0;
    --size;
    return *data++;
  }
  std::string take(std::size_t n) {
    n = n < size ? n : size;
    std::string s(reinterpret_cast<const char*>(data), n);
    data += n;
    size -= n;
    return s;
  }
};

bool valid_part(const std::string& s) {
  return s.find('/') == std::string::npos && s.find('\0') == std::string::npos;
}

// The name made from `o` is prefix + random part + suffix, the random part from [a-z0-9_].
void check_name(const tempfile::options& o, const fs::path& made) {
  if (made.parent_path() != fuzz_scratch::directory())
    fail("made outside the directory asked for:", made);
  const std::string name = made.filename().string();
  if (name.size() != o.prefix.size() + o.random_length + o.suffix.size() ||
      name.compare(0, o.prefix.size(), o.prefix) != 0 ||
      name.compare(name.size() - o.suffix.size(), o.suffix.size(), o.suffix) != 0) {
    fail("the name does not follow prefix + random + suffix:", name);
  }
  for (std::size_t i = o.prefix.size(); i < o.prefix.size() + o.random_length; ++i) {
    const char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
      fail("a random character outside [a-z0-9_]:", name);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz_scratch::make();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  input in{data, size};
  const std::uint8_t flags = in.byte();
  std::size_t length = in.byte();
  length |= static_cast<std::size_t>(in.byte()) << 8;
  if ((flags & 4) != 0) length = std::numeric_limits<std::size_t>::max() - length;
  unsigned mode = in.byte();
  mode |= static_cast<unsigned>(in.byte()) << 8;
  const std::size_t prefix_length = in.byte();

  tempfile::options o;
  o.prefix = in.take(prefix_length);
  o.suffix = in.take(in.size);
  o.dir = fuzz_scratch::directory();
  o.random_length = length;
  if ((flags & 1) != 0) o.mode = static_cast<fs::perms>(mode);
  const bool want_valid = valid_part(o.prefix) && valid_part(o.suffix) && length >= 6 &&
                          length <= 255 && ((flags & 1) == 0 || (mode & ~07777u) == 0);

  bool valid = true;
  try {
    tempfile::validate(o);
  } catch (const std::invalid_argument&) {
    valid = false;
  }
  if (valid != want_valid) fail(valid ? "accepted invalid options" : "refused valid options");
  if (!valid) return 0;

  const bool too_long = o.prefix.size() + o.random_length + o.suffix.size() > 255;
  try {
    if ((flags & 2) != 0) {
      tempfile::temporary_directory d(o);
      check_name(o, d.path());
      if (!fs::is_directory(fs::symlink_status(d.path()))) fail("no directory made");
    } else {
      tempfile::named_temporary_file f(o);
      check_name(o, f.path());
      if (!fs::is_regular_file(fs::symlink_status(f.path()))) fail("no file made");
      f.write("x");
      f.close();
    }
    if (too_long) fail("made a name longer than NAME_MAX");
  } catch (const fs::filesystem_error& e) {
    if (!too_long || e.code() != std::errc::filename_too_long) fail("creation failed:", e.what());
  }
  if (!fuzz_scratch::is_empty()) fail("something was left in the scratch directory");
  return 0;
}
