// libFuzzer target: the GNU mktemp template rules behind `tempfile mktemp`
// (src/mktemp_template.hpp).
//
// Any request either parses or is refused with mktemp_template_error (a std::invalid_argument);
// nothing else may escape, and the sanitizers see no undefined behaviour. A parsed template keeps
// its promises: at least 3 X's, replaced only where it says, followed by the suffix, which holds
// no directory separator (but trailing ones, as in GNU); the template is at the end of the text
// unchanged. mktemp_quote() of anything is a single-quoted string without raw control characters.
// A template without '/' is also created, as a file or a directory, in a scratch directory: the
// name is the template with each replaced X now one of [A-Za-z0-9], and removing it leaves the
// directory empty.
//
// Input: flags (1 byte: bit 0 a TEMPLATE, bit 1 --suffix, bit 2 --tmpdir, bit 3 its DIR, bit 4
// -t (which implies --tmpdir, as in the command), bit 5 $TMPDIR set, bit 6 create in the scratch
// directory, bit 7 a directory), then the strings TEMPLATE, SUFFIX, DIR and $TMPDIR separated by
// NUL bytes (command-line arguments and environment values cannot hold one).

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "fuzz_scratch.hpp"
#include "mktemp_template.hpp"

const char* const fuzz_scratch::kTarget = "fuzz_mktemp_template";

namespace {

namespace fs = std::filesystem;
using tempfile::detail::mktemp_kind;
using tempfile::detail::mktemp_request;
using tempfile::detail::mktemp_template;
using tempfile::detail::mktemp_template_error;

using fuzz_scratch::fail;

std::vector<std::string> split_on_nul(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> parts(1);
  for (std::size_t i = 0; i < size; ++i) {
    if (data[i] == 0) {
      parts.emplace_back();
    } else {
      parts.back() += static_cast<char>(data[i]);
    }
  }
  parts.resize(4);
  return parts;
}

// A '/' with something other than '/' after it: more than one file name component. (Trailing
// slashes belong to the last component, as in GNU's last_component().)
bool separates_components(const std::string& s) {
  const std::size_t slash = s.find('/');
  return slash != std::string::npos && s.find_first_not_of('/', slash) != std::string::npos;
}

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

void check_quote(const std::string& s) {
  const std::string q = tempfile::detail::mktemp_quote(s);
  if (q.size() < 2 || q.front() != '\'' || q.back() != '\'') fail("a quote without quotes", q);
  for (const char c : q) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) fail("a raw control character in a quote", q);
  }
}

// What parse_mktemp_template() promised about `t`, for the request `r`.
void check_parsed(const mktemp_request& r, const mktemp_template& t) {
  const std::string& text = t.text;
  if (t.x_count < 3) fail("fewer than 3 X's", text);
  if (t.x_count + t.suffix_length > text.size()) fail("counts beyond the text", text);
  const std::size_t x_end = text.size() - t.suffix_length;
  for (std::size_t i = x_end - t.x_count; i < x_end; ++i) {
    if (text[i] != 'X') fail("a replaced character that is not an X", text);
  }
  const std::string suffix = text.substr(x_end);
  if (separates_components(suffix)) fail("a directory separator inside the suffix", text);
  if (r.suffix && suffix != *r.suffix) fail("the suffix is not --suffix", text);
  const std::string given =
      (r.template_arg ? *r.template_arg : std::string(tempfile::detail::kDefaultMktempTemplate)) +
      (r.suffix ? *r.suffix : "");
  if (text.size() < given.size() || text.compare(text.size() - given.size(), given.size(), given)) {
    fail("the template is not at the end of the text", text);
  }
  if (r.t_option && r.template_arg && separates_components(*r.template_arg)) {
    fail("-t accepted a template with a '/'", text);
  }
  if (!r.template_arg && !r.use_tmpdir && text == given) fail("no directory for the default");
}

void create_in_scratch(const mktemp_template& t, mktemp_kind kind) {
  std::error_code ec;
  const std::string made = tempfile::detail::create_from_template(t, kind, ec);
  if (!ec) {
    if (made.size() != t.text.size()) fail("the name is not as long as the template", made);
    const std::size_t x_end = t.text.size() - t.suffix_length;
    for (std::size_t i = 0; i < made.size(); ++i) {
      const bool replaced = i >= x_end - t.x_count && i < x_end;
      if (replaced ? !is_alnum(made[i]) : made[i] != t.text[i]) {
        fail("the name is not the template with its X's replaced", made);
      }
    }
    std::error_code exists_ec;
    const fs::file_status st = fs::symlink_status(made, exists_ec);
    if (kind == mktemp_kind::directory ? !fs::is_directory(st) : !fs::is_regular_file(st)) {
      fail("nothing of the right kind made", made);
    }
    tempfile::detail::remove_created(made, kind, ec);
    if (ec) fail("cannot remove what was made:", ec.message());
  }
  // A failure (a name too long, a trailing '/' on a file...) must leave nothing either.
  if (!fuzz_scratch::is_empty()) fail("something was left in the scratch directory", t.text);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz_scratch::make();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t flags = data[0];
  std::vector<std::string> s = split_on_nul(data + 1, size - 1);
  mktemp_request r;
  if ((flags & 1) != 0) r.template_arg = s[0];
  if ((flags & 2) != 0) r.suffix = s[1];
  r.t_option = (flags & 16) != 0;
  r.use_tmpdir = (flags & 4) != 0 || r.t_option;  // as the command sets it: -t implies it
  if ((flags & 8) != 0) r.tmpdir = s[2];
  const char* env = (flags & 32) != 0 ? s[3].c_str() : nullptr;
  for (const std::string& part : s) check_quote(part);

  mktemp_template t;
  try {
    t = tempfile::detail::parse_mktemp_template(r, env);
  } catch (const mktemp_template_error& e) {
    check_quote(e.what());
    return 0;
  }
  check_parsed(r, t);
  // -u: only looks (lstat), wherever the template points.
  std::error_code ec;
  (void)tempfile::detail::create_from_template(t, mktemp_kind::dry_run, ec);

  if ((flags & 64) != 0 && r.template_arg && r.template_arg->find('/') == std::string::npos) {
    mktemp_request in_scratch = r;
    in_scratch.use_tmpdir = true;
    in_scratch.t_option = false;
    in_scratch.tmpdir = fuzz_scratch::directory().string();
    const mktemp_template st = tempfile::detail::parse_mktemp_template(in_scratch, nullptr);
    check_parsed(in_scratch, st);
    create_in_scratch(st, (flags & 128) != 0 ? mktemp_kind::directory : mktemp_kind::file);
  }
  return 0;
}
