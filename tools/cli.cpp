#include "cli.hpp"

#include <cerrno>
#include <filesystem>
#include <ostream>
#include <string_view>
#include <system_error>
#include <tempfile/version.hpp>

#include "commands.hpp"

namespace tempfile::cli {

namespace {

constexpr std::string_view kUsage =
    "Usage: tempfile COMMAND [ARG]...\n"
    "Temporary files and directories from the command line.\n"
    "\n"
    "Commands:\n"
    "  mktemp   create a temporary file or directory, safely, and print its name\n"
    "           (a drop-in for GNU coreutils mktemp)\n"
    "  run      run a command with TMPDIR in a private temporary directory that is\n"
    "           removed afterwards, whatever happens\n"
    "  sponge   soak up standard input, then write it to a file atomically\n"
    "           (a drop-in for moreutils sponge)\n"
    "  dir      print the directory where temporary files are created\n"
    "\n"
    "      --help     display this help and exit\n"
    "      --version  output version information and exit\n"
    "\n"
    "Run 'tempfile COMMAND --help' for the options of a command.\n";

// Removes `prefix` from the front of `s` if it is there.
bool strip_prefix(std::string& s, std::string_view prefix) {
  if (s.compare(0, prefix.size(), prefix) != 0) return false;
  s.erase(0, prefix.size());
  return true;
}

// Removes `suffix` from the end of `s` if it is there.
bool strip_suffix(std::string& s, std::string_view suffix) {
  if (s.size() < suffix.size() || s.compare(s.size() - suffix.size(), suffix.size(), suffix) != 0)
    return false;
  s.erase(s.size() - suffix.size());
  return true;
}

}  // namespace

void print_try_help(std::ostream& err, std::string_view name) {
  err << "Try 'tempfile " << name << (name.empty() ? "" : " ") << "--help' for more information.\n";
}

void print_version(std::ostream& out, std::string_view name) {
  out << "tempfile" << (name.empty() ? "" : " ") << name << " (tempfile) "
      << TEMPFILE_VERSION_STRING << "\n";
}

std::string describe(const std::exception& e) {
  std::string text = e.what();
  // libstdc++ words a filesystem_error as "filesystem error: WHAT: ERRNO TEXT [PATH1] [PATH2]";
  // the library's WHAT already names the paths, so the brackets only repeat them.
  if (const auto* fe = dynamic_cast<const std::filesystem::filesystem_error*>(&e)) {
    if (strip_prefix(text, "filesystem error: ")) {
      if (!fe->path2().empty()) strip_suffix(text, " [" + fe->path2().native() + "]");
      if (!fe->path1().empty()) strip_suffix(text, " [" + fe->path1().native() + "]");
    }
  }
  return text;
}

int run(std::span<const std::string> args, std::istream& in, std::ostream& out, std::ostream& err) {
  int status = 1;
  if (args.empty()) {
    err << "tempfile: missing command\n";
    print_try_help(err, "");
  } else {
    const std::string_view command = args.front();
    const auto rest = args.subspan(1);
    if (command == "mktemp") {
      status = mktemp_command(rest, out, err);
    } else if (command == "run") {
      status = run_command(rest, out, err);
    } else if (command == "sponge") {
      status = sponge_command(rest, in, out, err);
    } else if (command == "dir") {
      status = dir_command(rest, out, err);
    } else if (command == "--help" || command == "help") {
      out << kUsage;
      status = 0;
    } else if (command == "--version") {
      print_version(out, "");
      status = 0;
    } else {
      err << "tempfile: unknown command '" << command << "'\n";
      print_try_help(err, "");
    }
  }

  // As GNU's close_stdout(): output that could not be written is an error, even after --help.
  if (out.good()) {
    errno = 0;
    out.flush();
  }
  if (!out.good() && status == 0) {
    const int e = errno;
    err << "tempfile: write error";
    if (e != 0) err << ": " << std::generic_category().message(e);
    err << "\n";
    status = 1;
  }
  return status;
}

}  // namespace tempfile::cli
