#include "error.hpp"

#include <stdexcept>

namespace tempfile::detail {

void throw_error(std::string_view verb, const std::filesystem::path& path, std::error_code ec) {
  std::string what = "cannot ";
  what += verb;
  if (!path.empty()) {
    what += " '";
    what += path.native();
    what += '\'';
  }
  throw std::filesystem::filesystem_error(what, path, ec);
}

void throw_error(std::string_view verb, const std::filesystem::path& from,
                 const std::filesystem::path& to, std::error_code ec) {
  std::string what = "cannot ";
  what += verb;
  what += " '";
  what += from.native();
  what += "' to '";
  what += to.native();
  what += '\'';
  throw std::filesystem::filesystem_error(what, from, to, ec);
}

void throw_closed(std::string_view operation) {
  std::string what = "tempfile: ";
  what += operation;
  what += " on a closed file";
  throw std::logic_error(what);
}

}  // namespace tempfile::detail
