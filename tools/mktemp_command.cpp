// `tempfile mktemp`: GNU coreutils mktemp(1), option for option. The rules of templates and the
// creation live in the library (src/mktemp_template.hpp); this file only reads the arguments.
#include <cerrno>
#include <ostream>
#include <string_view>
#include <system_error>

#include "commands.hpp"
#include "getopt.hpp"
#include "mktemp_template.hpp"

namespace tempfile::cli {

namespace {

constexpr std::string_view kHelp =
    "Usage: tempfile mktemp [OPTION]... [TEMPLATE]\n"
    "Create a temporary file or directory, safely, and print its name.\n"
    "TEMPLATE must contain at least 3 consecutive 'X's in last component.\n"
    "If TEMPLATE is not specified, use tmp.XXXXXXXXXX, and --tmpdir is implied.\n"
    "Files are created u+rw, and directories u+rwx, minus umask restrictions.\n"
    "\n"
    "  -d, --directory     create a directory, not a file\n"
    "  -u, --dry-run       do not create anything; merely print a name (unsafe)\n"
    "  -q, --quiet         suppress diagnostics about file/dir-creation failure\n"
    "      --suffix=SUFF   append SUFF to TEMPLATE; SUFF must not contain a slash.\n"
    "                        This option is implied if TEMPLATE does not end in X\n"
    "  -p DIR, --tmpdir[=DIR]  interpret TEMPLATE relative to DIR; if DIR is not\n"
    "                        specified, use $TMPDIR if set, else /tmp.  With\n"
    "                        this option, TEMPLATE must not be an absolute name;\n"
    "                        unlike with -t, TEMPLATE may contain slashes, but\n"
    "                        mktemp creates only the final component\n"
    "  -t                  interpret TEMPLATE as a single file name component,\n"
    "                        relative to a directory: $TMPDIR, if set; else the\n"
    "                        directory specified via -p; else /tmp [deprecated]\n"
    "      --help        display this help and exit\n"
    "      --version     output version information and exit\n"
    "\n"
    "X's are replaced by characters from [A-Za-z0-9]. Exit status: 0 on success, 1 on\n"
    "failure, as GNU mktemp.\n";

enum : int { kSuffix = 256, kTmpdir, kHelpOption, kVersionOption };

constexpr long_option kLongOptions[] = {
    {"directory", takes::none, 'd'},
    {"quiet", takes::none, 'q'},
    {"dry-run", takes::none, 'u'},
    {"suffix", takes::required, kSuffix},
    {"tmpdir", takes::optional, kTmpdir},
    {"help", takes::none, kHelpOption},
    {"version", takes::none, kVersionOption},
};

void usage_error(std::ostream& err, std::string_view message) {
  err << "tempfile mktemp: " << message << "\n";
  print_try_help(err, "mktemp");
}

}  // namespace

int mktemp_command(std::span<const std::string> args, std::ostream& out, std::ostream& err) {
  const parsed_args parsed = parse_args(args, "dp:qtuV", kLongOptions);

  detail::mktemp_request request;
  detail::mktemp_kind kind = detail::mktemp_kind::file;
  bool directory = false;
  bool dry_run = false;
  bool quiet = false;
  // Options take effect in order, as with getopt_long: "--help -z" helps, "-z --help" fails.
  for (const parsed_option& opt : parsed.options) {
    switch (opt.id) {
      case 'd': directory = true; break;
      case 'p':
        request.use_tmpdir = true;
        request.tmpdir = opt.value;
        break;
      case 'q': quiet = true; break;
      case 't':
        request.use_tmpdir = true;
        request.t_option = true;
        break;
      case 'u': dry_run = true; break;
      case kTmpdir:
        request.use_tmpdir = true;
        request.tmpdir = opt.value;  // a bare --tmpdir forgets an earlier -p DIR, as in GNU
        break;
      case kSuffix: request.suffix = opt.value; break;
      case kHelpOption: out << kHelp; return 0;
      case 'V':  // GNU's undocumented alias, from Todd Miller's mktemp
      case kVersionOption: print_version(out, "mktemp"); return 0;
      default: break;
    }
  }
  if (!parsed.error.empty()) {
    usage_error(err, parsed.error);
    return 1;
  }
  if (parsed.operands.size() >= 2) {
    usage_error(err, "too many templates");
    return 1;
  }
  if (!parsed.operands.empty()) request.template_arg = parsed.operands.front();
  if (dry_run) {
    kind = detail::mktemp_kind::dry_run;
  } else if (directory) {
    kind = detail::mktemp_kind::directory;
  }

  detail::mktemp_template tmpl;
  try {
    tmpl = detail::parse_mktemp_template(request);
  } catch (const detail::mktemp_template_error& e) {
    err << "tempfile mktemp: " << e.what() << "\n";  // GNU dies here without the "Try" line
    return 1;
  }

  std::error_code ec;
  const std::string name = detail::create_from_template(tmpl, kind, ec);
  if (ec) {
    if (!quiet) {
      err << "tempfile mktemp: failed to create " << (directory ? "directory" : "file")
          << " via template " << detail::mktemp_quote(tmpl.text) << ": " << ec.message() << "\n";
    }
    return 1;
  }

  errno = 0;
  out << name << '\n';
  out.flush();
  if (!out.good()) {
    // A name nobody saw is a leak: remove what was made, as GNU does.
    const int e = errno;
    std::error_code ignored;
    detail::remove_created(name, kind, ignored);
    // -q does not silence this one for -u, where GNU reports it on closing stdout.
    if (!quiet || dry_run) {
      err << "tempfile mktemp: write error";
      if (e != 0) err << ": " << std::generic_category().message(e);
      err << "\n";
    }
    return 1;
  }
  return 0;
}

}  // namespace tempfile::cli
