// The `tempfile` command as a function, so that tests can run it in-process as well as through
// the executable. main() only turns argv into strings and calls run().
#pragma once

#include <iosfwd>
#include <span>
#include <string>

namespace tempfile::cli {

/// Runs `tempfile ARGS...`: `args` are the arguments after the program name ("mktemp", "-d").
/// Standard input is `in`, standard output `out`, diagnostics go to `err`. Returns the exit
/// status. A failure to write to `out` is reported on `err` and turns a status of 0 into 1.
int run(std::span<const std::string> args, std::istream& in, std::ostream& out, std::ostream& err);

}  // namespace tempfile::cli
