// How the library words and throws its errors.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace tempfile::detail {

/// Throws std::filesystem::filesystem_error("cannot <verb> '<path>'", path, ec).
[[noreturn]] void throw_error(std::string_view verb, const std::filesystem::path& path,
                              std::error_code ec);
/// The same with two paths: "cannot <verb> '<from>' to '<to>'".
[[noreturn]] void throw_error(std::string_view verb, const std::filesystem::path& from,
                              const std::filesystem::path& to, std::error_code ec);
/// Throws std::logic_error("tempfile: <operation> on a closed file").
[[noreturn]] void throw_closed(std::string_view operation);

}  // namespace tempfile::detail
