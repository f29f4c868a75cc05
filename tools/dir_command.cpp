// `tempfile dir`: where temporary files go, as gettempdir() finds it.
#include <exception>
#include <ostream>
#include <string_view>
#include <tempfile/functions.hpp>

#include "commands.hpp"
#include "getopt.hpp"

namespace tempfile::cli {

namespace {

constexpr std::string_view kHelp =
    "Usage: tempfile dir\n"
    "Print the directory where temporary files are created: the first usable of\n"
    "$TMPDIR, $TEMP, $TMP, /tmp, /var/tmp, /usr/tmp and the current directory.\n"
    "\n"
    "      --help     display this help and exit\n"
    "      --version  output version information and exit\n";

enum : int { kHelpOption = 256, kVersionOption };
constexpr long_option kLongOptions[] = {{"help", takes::none, kHelpOption},
                                        {"version", takes::none, kVersionOption}};

}  // namespace

int dir_command(std::span<const std::string> args, std::ostream& out, std::ostream& err) {
  const parsed_args parsed = parse_args(args, "", kLongOptions);
  for (const parsed_option& opt : parsed.options) {
    if (opt.id == kHelpOption) {
      out << kHelp;
      return 0;
    }
    if (opt.id == kVersionOption) {
      print_version(out, "dir");
      return 0;
    }
  }
  if (!parsed.error.empty() || !parsed.operands.empty()) {
    err << "tempfile dir: "
        << (parsed.error.empty() ? "extra operand '" + parsed.operands.front() + "'" : parsed.error)
        << "\n";
    print_try_help(err, "dir");
    return 1;
  }
  try {
    out << tempfile::gettempdir().native() << '\n';
  } catch (const std::exception& e) {
    err << "tempfile dir: " << describe(e) << "\n";
    return 1;
  }
  return 0;
}

}  // namespace tempfile::cli
