// The subcommands of `tempfile`, one file each; cli.cpp dispatches to them.
#pragma once

#include <iosfwd>
#include <span>
#include <string>
#include <string_view>

namespace tempfile::cli {

/// `tempfile mktemp`: GNU coreutils mktemp(1). Exit status 0 or 1, as GNU's.
int mktemp_command(std::span<const std::string> args, std::ostream& out, std::ostream& err);
/// `tempfile run`: a command in a private temporary directory. Its status, or 125 for errors.
int run_command(std::span<const std::string> args, std::ostream& out, std::ostream& err);
/// `tempfile sponge`: moreutils sponge(1), atomic. 0 or 1.
int sponge_command(std::span<const std::string> args, std::istream& in, std::ostream& out,
                   std::ostream& err);
/// `tempfile dir`: prints gettempdir(). 0 or 1.
int dir_command(std::span<const std::string> args, std::ostream& out, std::ostream& err);

/// "Try 'tempfile NAME --help' for more information.", the line after a usage error.
void print_try_help(std::ostream& err, std::string_view name);

/// "tempfile NAME (tempfile) VERSION", what every --version prints.
void print_version(std::ostream& out, std::string_view name);

/// The text of an exception for a diagnostic: filesystem_error's own what() names the call and
/// the path already.
std::string describe(const std::exception& e);

}  // namespace tempfile::cli
