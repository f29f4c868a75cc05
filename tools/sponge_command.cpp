// `tempfile sponge`: moreutils sponge(1), written atomically. Parses the options and hands the
// work to the library (src/sponge.hpp).
#include <exception>
#include <ostream>
#include <string_view>

#include "commands.hpp"
#include "getopt.hpp"
#include "sponge.hpp"

// Signal cleanup removes a named temporary (atomic_file's fallback where the file system has no
// O_TMPFILE) on SIGINT/SIGTERM; the unnamed temporaries used wherever O_TMPFILE works leave
// nothing behind anyway.
#include <tempfile/signals.hpp>

namespace tempfile::cli {

namespace {

constexpr std::string_view kHelp =
    "Usage: tempfile sponge [-a] [FILE]\n"
    "Soak up all of standard input, then write it to FILE, atomically: readers of FILE\n"
    "see its old content or the new one, never a mix. The input is held in memory\n"
    "while small and spilled to an unnamed temporary file past 8 MiB, so it may be\n"
    "larger than memory. FILE keeps its permissions; a new FILE gets 0666 minus the\n"
    "umask. With no FILE, the input is copied to standard output.\n"
    "\n"
    "  -a, --append   append to FILE instead of replacing it (still atomically: the\n"
    "                   new FILE is its old content followed by the input)\n"
    "  -h, --help     display this help and exit\n"
    "      --version  output version information and exit\n";

enum : int { kHelpOption = 256, kVersionOption };

constexpr long_option kLongOptions[] = {
    {"append", takes::none, 'a'},
    {"help", takes::none, kHelpOption},
    {"version", takes::none, kVersionOption},
};

}  // namespace

int sponge_command(std::span<const std::string> args, std::istream& in, std::ostream& out,
                   std::ostream& err) {
  const parsed_args parsed = parse_args(args, "ah", kLongOptions);
  bool append = false;
  for (const parsed_option& opt : parsed.options) {
    switch (opt.id) {
      case 'a': append = true; break;
      case 'h':
      case kHelpOption: out << kHelp; return 0;
      case kVersionOption: print_version(out, "sponge"); return 0;
      default: break;
    }
  }
  if (!parsed.error.empty() || parsed.operands.size() > 1) {
    err << "tempfile sponge: "
        << (parsed.error.empty() ? "extra operand '" + parsed.operands[1] + "'" : parsed.error)
        << "\n";
    print_try_help(err, "sponge");
    return 1;
  }

  try {
    tempfile::enable_signal_cleanup();  // SIGNAL CLEANUP CALL SITE
    spooled_temporary_file content = detail::soak(in);
    if (parsed.operands.empty()) {
      detail::copy_to_stream(content, out);
    } else {
      detail::sponge_to_file(content, parsed.operands.front(), append);
    }
  } catch (const std::exception& e) {
    err << "tempfile sponge: " << describe(e) << "\n";
    return 1;
  }
  return 0;
}

}  // namespace tempfile::cli
