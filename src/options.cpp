#include "tempfile/options.hpp"

#include <stdexcept>
#include <string>
#include <string_view>

namespace tempfile {

namespace {

[[noreturn, gnu::cold, gnu::noinline]] void reject_part(std::string_view what,
                                                        const std::string& part) {
  std::string msg = "tempfile: the ";
  msg += what;
  msg += " must not contain '/' or a NUL byte: \"";
  for (char c : part) msg += c == '\0' ? std::string_view("\\0") : std::string_view(&c, 1);
  msg += '"';
  throw std::invalid_argument(msg);
}

// True if `part` holds a '/' or a NUL. This runs for every file, on a few characters: one pass
// with no branch per character (a library call costs more than the loop).
bool has_separator_or_nul(const std::string& part) noexcept {
  bool bad = false;
  for (const char c : part) bad |= (c == '/') | (c == '\0');
  return bad;
}

}  // namespace

void validate(const options& opts) {
  if (has_separator_or_nul(opts.prefix)) reject_part("prefix", opts.prefix);
  if (has_separator_or_nul(opts.suffix)) reject_part("suffix", opts.suffix);
  if (opts.random_length < 6 || opts.random_length > 255) {
    throw std::invalid_argument("tempfile: random_length must be between 6 and 255, not " +
                                std::to_string(opts.random_length));
  }
  if (opts.mode && (static_cast<unsigned>(*opts.mode) & ~07777u) != 0) {
    throw std::invalid_argument("tempfile: mode has bits outside 07777");
  }
}

}  // namespace tempfile
