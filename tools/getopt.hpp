// A re-entrant equivalent of glibc's getopt_long(): the same option syntax, abbreviations,
// permutation and diagnostics, without global state, so run() can be called again and again
// in one process.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tempfile::cli {

/// Whether an option takes an argument (getopt's no_argument, required_argument,
/// optional_argument).
enum class takes { none, required, optional };

/// One long option: "--name", its argument rule and the id it is reported with.
struct long_option {
  std::string_view name;
  takes argument;
  int id;
};

/// One option as it was found.
struct parsed_option {
  int id;                            ///< the short option's character, or long_option::id
  std::optional<std::string> value;  ///< its argument, if it has one
};

/// The options and operands of a command line, or the first error in it.
struct parsed_args {
  std::vector<parsed_option> options;  ///< in command-line order, up to the first error
  std::vector<std::string> operands;   ///< non-options, in order
  std::string error;                   ///< glibc's diagnostic for the first bad option, or empty
};

/// Parses `args` (without the program name) as getopt_long(3) does. `short_options` uses
/// getopt's syntax ("dp:qtuV": a ':' after a letter means a required argument); a leading '+'
/// stops at the first operand, as does a set POSIXLY_CORRECT; otherwise operands and options
/// may be mixed. "--" ends the options. Long options may be abbreviated to any unambiguous
/// prefix; an exact name always wins.
[[nodiscard]] parsed_args parse_args(std::span<const std::string> args,
                                     std::string_view short_options,
                                     std::span<const long_option> long_options);

}  // namespace tempfile::cli
