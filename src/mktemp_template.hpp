// GNU mktemp templates: the rules of coreutils mktemp(1) for turning a TEMPLATE and its options
// into a name, and the creation of that name through the creation core.
//
// The `tempfile mktemp` command only parses its arguments into a mktemp_request and calls these.
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace tempfile::detail {

/// What `mktemp [OPTION]... [TEMPLATE]` asks for, as the options left it.
struct mktemp_request {
  /// The TEMPLATE operand; nullopt: "tmp.XXXXXXXXXX", which implies use_tmpdir.
  std::optional<std::string> template_arg;
  /// --suffix=SUFF (the template must then end in X).
  std::optional<std::string> suffix;
  /// -p, --tmpdir or -t was given: the template is relative to a directory.
  bool use_tmpdir = false;
  /// The DIR of the last -p DIR / --tmpdir=DIR (a bare --tmpdir resets it to nullopt). Empty or
  /// nullopt: $TMPDIR if set and not empty, else /tmp.
  std::optional<std::string> tmpdir;
  /// -t: the template is a single file name component; $TMPDIR wins over `tmpdir`.
  bool t_option = false;
};

/// A template checked by the rules of GNU mktemp and joined with its directory.
struct mktemp_template {
  /// The whole template, as GNU prints it once its X's are replaced: "/tmp/tmp.XXXXXXXXXX".
  std::string text;
  /// How many X's are replaced: the run of X's that ends where the suffix starts.
  std::size_t x_count = 0;
  /// The length of the suffix that follows those X's at the end of `text`.
  std::size_t suffix_length = 0;
};

/// A template that GNU mktemp refuses; what() is GNU's wording ("too few X's in template 'a'").
class mktemp_template_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// The template GNU mktemp uses when none is given.
inline constexpr const char kDefaultMktempTemplate[] = "tmp.XXXXXXXXXX";

/// Applies GNU mktemp's rules, in GNU's order: --suffix needs a template ending in X, the
/// suffix may not contain a directory separator, at least 3 X's must precede the suffix, -t
/// refuses a template with a '/', --tmpdir (and -p) refuses an absolute template; then joins the
/// template to its directory as GNU's file_name_concat does. `tmpdir_env` is the value of
/// $TMPDIR (nullptr when unset). Touches nothing on disk.
/// Errors: mktemp_template_error with GNU's message.
[[nodiscard]] mktemp_template parse_mktemp_template(const mktemp_request& request,
                                                    const char* tmpdir_env);

/// parse_mktemp_template() with the process's $TMPDIR.
[[nodiscard]] mktemp_template parse_mktemp_template(const mktemp_request& request);

/// What to make of a template.
enum class mktemp_kind {
  file,       ///< a new regular file, u+rw minus the umask (GNU: 0600)
  directory,  ///< a new directory, u+rwx minus the umask (GNU: 0700)
  dry_run,    ///< nothing: a name that lstat(2) did not find (-u)
};

/// Replaces the template's X's with characters from [A-Za-z0-9], as GNU does, and creates what
/// `kind` asks for, retrying other names while the name is taken. The name is relative when the
/// template is, and otherwise exactly the template's text with its X's replaced.
/// Errors: sets `ec` (the errno of the failing call, EEXIST when every name tried was taken) and
/// returns an empty string; nothing is left behind then.
[[nodiscard]] std::string create_from_template(const mktemp_template& tmpl, mktemp_kind kind,
                                               std::error_code& ec);

/// `s` quoted as GNU's quote() does in the C locale: 'text', with backslash escapes.
[[nodiscard]] std::string mktemp_quote(std::string_view s);

/// Removes what create_from_template() made under `name` (a file or an empty directory), as GNU
/// does when it cannot print the name. Errors: sets `ec`.
void remove_created(const std::string& name, mktemp_kind kind, std::error_code& ec);

}  // namespace tempfile::detail
