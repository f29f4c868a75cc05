// `tempfile sponge`: soak up a stream into a spooled temporary file, then put it in place
// atomically. The command in tools/ only parses its arguments and calls these.
#pragma once

#include <cstddef>
#include <filesystem>
#include <iosfwd>

#include "tempfile/spooled_temporary_file.hpp"

namespace tempfile::detail {

/// How much of the input stays in memory before it is spilled to an unnamed file.
inline constexpr std::size_t kSpongeMemoryLimit = std::size_t{8} << 20;

/// Reads all of `in` into a spooled_temporary_file: in memory up to `memory_limit` bytes, past
/// that in an unnamed file in gettempdir() (nothing left behind however the process dies).
/// The file is returned positioned at its start.
/// Errors: std::runtime_error if `in` fails (badbit); filesystem_error if the spill fails.
[[nodiscard]] spooled_temporary_file soak(std::istream& in,
                                          std::size_t memory_limit = kSpongeMemoryLimit);

/// Replaces `target` with `content` (from its start) through an atomic_file: readers see the
/// old content or the new; an existing target keeps its mode (and owner where possible), a new
/// one gets 0666 minus the umask. With `append`, the new content is the target's old content
/// followed by `content` (a missing target counts as empty).
/// Errors: filesystem_error naming the target; the target is then untouched.
void sponge_to_file(spooled_temporary_file& content, const std::filesystem::path& target,
                    bool append);

/// Writes `content` (from its start) to `out`. Errors: std::runtime_error if `out` fails.
void copy_to_stream(spooled_temporary_file& content, std::ostream& out);

}  // namespace tempfile::detail
