// The `tempfile` executable: hands its arguments and standard streams to tempfile::cli::run().
#include <iostream>
#include <string>
#include <vector>

#include "cli.hpp"

int main(int argc, char** argv) {
  // The C++ streams get their own buffers (and write errors surface on flush, not at exit).
  std::ios::sync_with_stdio(false);
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  return tempfile::cli::run(args, std::cin, std::cout, std::cerr);
}
