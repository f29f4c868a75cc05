#include "sponge.hpp"

#include <cerrno>
#include <fstream>
#include <istream>
#include <ostream>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <vector>

#include "error.hpp"
#include "tempfile/atomic_file.hpp"

namespace tempfile::detail {

namespace {

constexpr std::size_t kChunk = std::size_t{1} << 16;

// Appends everything `content` holds, from its start, to `out`.
void copy_content(spooled_temporary_file& content, file& out) {
  std::vector<std::byte> buffer(kChunk);
  content.seek(0);
  for (;;) {
    const std::size_t n = content.readinto(buffer);
    if (n == 0) break;
    out.write(std::span<const std::byte>(buffer.data(), n));
  }
}

// Appends the current content of `target` to `out`; nothing if there is no such file.
void copy_existing(const std::filesystem::path& target, file& out) {
  std::error_code ec;
  (void)std::filesystem::status(target, ec);
  if (ec == std::errc::no_such_file_or_directory) return;
  if (ec) throw_error("read", target, ec);
  errno = 0;
  std::ifstream old(target, std::ios::binary);
  if (!old.is_open()) {
    throw_error("read", target, std::error_code(errno != 0 ? errno : EIO, std::generic_category()));
  }
  std::vector<char> buffer(kChunk);
  while (old) {
    old.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto n = static_cast<std::size_t>(old.gcount());
    if (n == 0) break;
    out.write(std::string_view(buffer.data(), n));
  }
  if (old.bad()) throw_error("read", target, std::make_error_code(std::errc::io_error));
}

}  // namespace

spooled_temporary_file soak(std::istream& in, std::size_t memory_limit) {
  options opts;
  opts.max_size = memory_limit;
  spooled_temporary_file content(opts);
  std::vector<char> buffer(kChunk);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto n = static_cast<std::size_t>(in.gcount());
    if (n == 0) break;
    content.write(std::string_view(buffer.data(), n));
  }
  if (in.bad()) throw std::runtime_error("cannot read standard input");
  content.seek(0);
  return content;
}

void sponge_to_file(spooled_temporary_file& content, const std::filesystem::path& target,
                    bool append) {
  atomic_file out(target);
  if (append) copy_existing(target, out);
  copy_content(content, out);
  out.commit();
}

void copy_to_stream(spooled_temporary_file& content, std::ostream& out) {
  std::vector<std::byte> buffer(kChunk);
  content.seek(0);
  for (;;) {
    const std::size_t n = content.readinto(buffer);
    if (n == 0) break;
    out.write(reinterpret_cast<const char*>(buffer.data()), static_cast<std::streamsize>(n));
    if (!out) throw std::runtime_error("write error");
  }
}

}  // namespace tempfile::detail
