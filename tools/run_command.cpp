// `tempfile run`: parses the options and hands the work to the library (src/run.hpp).
#include <exception>
#include <filesystem>
#include <ostream>
#include <string_view>

#include "commands.hpp"
#include "getopt.hpp"
#include "run.hpp"

namespace tempfile::cli {

namespace {

constexpr std::string_view kHelp =
    "Usage: tempfile run [OPTION]... [--] COMMAND [ARG]...\n"
    "Run COMMAND with TMPDIR, TMP and TEMP set to a new private temporary directory,\n"
    "then remove the directory with everything in it, however COMMAND ends: normally,\n"
    "with an error, killed by a signal, or when 'tempfile' itself is interrupted.\n"
    "SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 are forwarded to COMMAND;\n"
    "if 'tempfile' is killed outright (SIGKILL), COMMAND is killed too.\n"
    "\n"
    "      --keep         do not remove the directory; print its path on stderr\n"
    "      --cd           run COMMAND inside the directory\n"
    "      --private-tmp  run COMMAND in new user and mount namespaces where the\n"
    "                       directory is mounted on /tmp, so that even programs that\n"
    "                       hard-code /tmp write into it (TMPDIR is then /tmp)\n"
    "      --prefix=P     start the directory's name with P (default tempfile-run.)\n"
    "      --dir=DIR      make the directory in DIR (default: 'tempfile dir')\n"
    "      --help         display this help and exit\n"
    "      --version      output version information and exit\n"
    "\n"
    "Options end at the first operand. Exit status: COMMAND's; 128+N if it was killed\n"
    "by signal N; 127 if COMMAND was not found; 126 if it could not be executed;\n"
    "125 if 'tempfile run' itself failed (COMMAND did not run then, or its directory\n"
    "could not be removed).\n";

enum : int { kKeep = 256, kCd, kPrivateTmp, kPrefix, kDir, kHelpOption, kVersionOption };

constexpr long_option kLongOptions[] = {
    {"keep", takes::none, kKeep},
    {"cd", takes::none, kCd},
    {"private-tmp", takes::none, kPrivateTmp},
    {"prefix", takes::required, kPrefix},
    {"dir", takes::required, kDir},
    {"help", takes::none, kHelpOption},
    {"version", takes::none, kVersionOption},
};

}  // namespace

int run_command(std::span<const std::string> args, std::ostream& out, std::ostream& err) {
  // '+': options stop at COMMAND, so that COMMAND's own options are left alone.
  const parsed_args parsed = parse_args(args, "+", kLongOptions);
  detail::run_request request;
  for (const parsed_option& opt : parsed.options) {
    switch (opt.id) {
      case kKeep: request.keep = true; break;
      case kCd: request.cd = true; break;
      case kPrivateTmp: request.private_tmp = true; break;
      case kPrefix: request.prefix = *opt.value; break;
      case kDir: request.dir = *opt.value; break;
      case kHelpOption: out << kHelp; return 0;
      case kVersionOption: print_version(out, "run"); return 0;
      default: break;
    }
  }
  if (!parsed.error.empty() || parsed.operands.empty()) {
    err << "tempfile run: " << (parsed.error.empty() ? "missing command" : parsed.error) << "\n";
    print_try_help(err, "run");
    return detail::kRunOwnFailure;
  }
  request.command = parsed.operands;
  // Whatever was buffered for stdout must not be written twice, by us and by the child.
  out.flush();

  detail::run_outcome outcome;
  try {
    outcome = detail::run_command(request, [&](const std::filesystem::path& dir) {
      if (request.keep) err << dir.native() << "\n" << std::flush;
    });
  } catch (const std::exception& e) {
    err << "tempfile run: " << describe(e) << "\n";
    return detail::kRunOwnFailure;
  }

  const std::string& command = request.command.front();
  switch (outcome.failure) {
    case detail::run_failure::none: break;
    case detail::run_failure::not_found:
    case detail::run_failure::not_executable:
      err << "tempfile run: cannot run '" << command << "': " << outcome.error.message() << "\n";
      break;
    case detail::run_failure::namespaces:
      err << "tempfile run: --private-tmp: cannot mount a private /tmp in new user and mount "
             "namespaces: "
          << outcome.error.message() << "; nothing was run\n";
      break;
    case detail::run_failure::working_directory:
      err << "tempfile run: --cd: cannot enter the directory: " << outcome.error.message() << "\n";
      break;
    case detail::run_failure::spawn:
      err << "tempfile run: cannot start '" << command << "': " << outcome.error.message() << "\n";
      break;
    case detail::run_failure::wait:
      err << "tempfile run: cannot wait for '" << command << "': " << outcome.error.message()
          << "\n";
      break;
  }
  if (outcome.guardian_error) {
    try {
      std::rethrow_exception(outcome.guardian_error);
    } catch (const std::exception& e) {
      err << "tempfile run: warning: no guardian, so a SIGKILL would have left the directory: "
          << describe(e) << "\n";
    }
  }
  if (outcome.cleanup_error) {
    try {
      std::rethrow_exception(outcome.cleanup_error);
    } catch (const std::exception& e) {
      err << "tempfile run: " << describe(e) << "\n";
    }
  }
  return outcome.status;
}

}  // namespace tempfile::cli
