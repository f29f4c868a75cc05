#include "mktemp_template.hpp"

#include <cstdlib>
#include <filesystem>
#include <string_view>

#include "create.hpp"
#include "names.hpp"
#include "platform/platform.hpp"

namespace tempfile::detail {

std::string mktemp_quote(std::string_view s) {
  std::string out = "'";
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\'': out += "\\'"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (u < 0x20 || u == 0x7f) {
          out += '\\';
          out += static_cast<char>('0' + ((u >> 6) & 7));
          out += static_cast<char>('0' + ((u >> 3) & 7));
          out += static_cast<char>('0' + (u & 7));
        } else {
          out += c;
        }
    }
  }
  out += '\'';
  return out;
}

namespace {

// gnulib's last_component(): the offset of the last file name component, trailing slashes
// included ("a/b/" -> "b/", "/" -> "").
std::size_t last_component(std::string_view name) {
  std::size_t base = 0;
  while (base < name.size() && name[base] == '/') ++base;
  bool last_was_slash = false;
  for (std::size_t p = base; p < name.size(); ++p) {
    if (name[p] == '/') {
      last_was_slash = true;
    } else if (last_was_slash) {
      base = p;
      last_was_slash = false;
    }
  }
  return base;
}

// gnulib's base_len(): the length of `name` without trailing slashes, but at least 1.
std::size_t base_len(std::string_view name) {
  std::size_t len = name.size();
  while (len > 1 && name[len - 1] == '/') --len;
  return len;
}

// gnulib's file_name_concat(dir, base): trailing slashes of `dir` collapse to one separator,
// none is added after a root, and "." is put between a root and an absolute `base`.
std::string file_name_concat(std::string_view dir, std::string_view base) {
  const std::size_t dirbase = last_component(dir);
  const std::size_t dirbaselen = base_len(dir.substr(dirbase));
  const std::size_t dirlen = dirbase + dirbaselen;
  std::string out(dir.substr(0, dirlen));
  const bool base_starts_with_slash = !base.empty() && base.front() == '/';
  if (dirbaselen != 0) {
    if (dir[dirlen - 1] != '/' && !base_starts_with_slash) out += '/';
  } else if (base_starts_with_slash) {
    out += '.';
  }
  out += base;
  return out;
}

std::size_t count_trailing_xs(std::string_view s) {
  std::size_t n = 0;
  while (n < s.size() && s[s.size() - 1 - n] == 'X') ++n;
  return n;
}

}  // namespace

mktemp_template parse_mktemp_template(const mktemp_request& request, const char* tmpdir_env) {
  bool use_tmpdir = request.use_tmpdir;
  std::string tmpl;
  if (request.template_arg) {
    tmpl = *request.template_arg;
  } else {
    use_tmpdir = true;
    tmpl = kDefaultMktempTemplate;
  }

  std::size_t suffix_length = 0;
  if (request.suffix) {
    if (tmpl.empty() || tmpl.back() != 'X') {
      throw mktemp_template_error("with --suffix, template " + mktemp_quote(tmpl) +
                                  " must end in X");
    }
    suffix_length = request.suffix->size();
    tmpl += *request.suffix;
  } else {
    // Without --suffix, whatever follows the last X is the suffix.
    const std::size_t last_x = tmpl.rfind('X');
    suffix_length = last_x == std::string::npos ? 0 : tmpl.size() - last_x - 1;
  }
  const std::string_view suffix = std::string_view(tmpl).substr(tmpl.size() - suffix_length);
  if (!suffix.empty() && last_component(suffix) != 0) {
    throw mktemp_template_error("invalid suffix " + mktemp_quote(suffix) +
                                ", contains directory separator");
  }
  const std::size_t x_count =
      count_trailing_xs(std::string_view(tmpl).substr(0, tmpl.size() - suffix_length));
  if (x_count < 3) throw mktemp_template_error("too few X's in template " + mktemp_quote(tmpl));

  if (use_tmpdir) {
    const bool env_set = tmpdir_env != nullptr && *tmpdir_env != '\0';
    const bool arg_set = request.tmpdir && !request.tmpdir->empty();
    std::string dir;
    if (request.t_option) {
      // -t: $TMPDIR first, then -p DIR, then /tmp (GNU keeps this order for compatibility).
      dir = env_set ? tmpdir_env : arg_set ? *request.tmpdir : "/tmp";
      if (last_component(tmpl) != 0) {
        throw mktemp_template_error("invalid template, " + mktemp_quote(tmpl) +
                                    ", contains directory separator");
      }
    } else {
      dir = arg_set ? *request.tmpdir : env_set ? tmpdir_env : "/tmp";
      if (!tmpl.empty() && tmpl.front() == '/') {
        throw mktemp_template_error("invalid template, " + mktemp_quote(tmpl) +
                                    "; with --tmpdir, it may not be absolute");
      }
    }
    tmpl = file_name_concat(dir, tmpl);
  }
  return {std::move(tmpl), x_count, suffix_length};
}

mktemp_template parse_mktemp_template(const mktemp_request& request) {
  return parse_mktemp_template(request, std::getenv("TMPDIR"));
}

std::string create_from_template(const mktemp_template& tmpl, mktemp_kind kind,
                                 std::error_code& ec) {
  ec.clear();
  const std::string_view text = tmpl.text;
  const std::size_t x_end = text.size() - tmpl.suffix_length;
  const std::size_t x_begin = x_end - tmpl.x_count;
  // The directory keeps its own spelling ("a//b/", or "" for the working directory) so that the
  // name printed is the template with its X's replaced, character for character.
  const std::size_t slash = text.substr(0, x_begin).rfind('/');
  const std::size_t name_begin = slash == std::string_view::npos ? 0 : slash + 1;
  const std::filesystem::path dir(text.substr(0, name_begin));
  const name_pattern pattern{text.substr(name_begin, x_begin - name_begin), text.substr(x_end),
                             tmpl.x_count, alphabet::mktemp};

  entry_kind entry = entry_kind::file;
  unsigned mode = 0600;  // GNU: S_IRUSR | S_IWUSR, then the umask
  if (kind == mktemp_kind::directory) {
    entry = entry_kind::directory;
    mode = 0700;  // S_IRWXU, then the umask
  } else if (kind == mktemp_kind::dry_run) {
    entry = entry_kind::name_only;
  }
  created_entry made = create_in(dir, pattern, entry, mode, ec);
  if (ec) return {};
  if (made.fd != platform::invalid_handle) {
    platform::close(made.fd, ec);
    if (ec) {
      // GNU reports a failed close() as a failure to create, and leaves nothing behind.
      std::error_code ignored;
      platform::remove_file(made.path, ignored);
      return {};
    }
  }
  return std::move(made.path);
}

void remove_created(const std::string& name, mktemp_kind kind, std::error_code& ec) {
  ec.clear();
  switch (kind) {
    case mktemp_kind::file: platform::remove_file(name, ec); break;
    case mktemp_kind::directory: platform::remove_directory(name, ec); break;
    case mktemp_kind::dry_run: break;
  }
}

}  // namespace tempfile::detail
