#include "tempfile/options.hpp"

#include <stdexcept>
#include <string>
#include <string_view>

namespace tempfile {

namespace {

void check_part(std::string_view what, const std::string& part) {
  // One pass, inline: prefixes and suffixes are a few characters, and this runs for every file.
  bool bad = false;
  for (const char c : part) bad |= c == '/' || c == '\0';
  if (!bad) return;
  std::string msg = "tempfile: the ";
  msg += what;
  msg += " must not contain '/' or a NUL byte: \"";
  for (char c : part) msg += c == '\0' ? std::string_view("\\0") : std::string_view(&c, 1);
  msg += '"';
  throw std::invalid_argument(msg);
}

}  // namespace

void validate(const options& opts) {
  check_part("prefix", opts.prefix);
  check_part("suffix", opts.suffix);
  if (opts.random_length < 6 || opts.random_length > 255) {
    throw std::invalid_argument("tempfile: random_length must be between 6 and 255, not " +
                                std::to_string(opts.random_length));
  }
  if (opts.mode && (static_cast<unsigned>(*opts.mode) & ~07777u) != 0) {
    throw std::invalid_argument("tempfile: mode has bits outside 07777");
  }
}

}  // namespace tempfile
