// The guardian: a small helper process that removes this process's registered temporary files
// and directories when this process dies in any way, SIGKILL and the OOM killer included.
#pragma once

#include <cstdint>

#include "registry.hpp"

namespace tempfile::detail::guardian {

/// Starts the guardian once and hands it every entry already registered. Later calls do
/// nothing. Errors: filesystem_error when the helper process cannot be started.
void start();

/// Tells the guardian (if one runs for this process) about a new entry. Never throws.
void notify_add(registry::ticket t, const char* path, std::uint32_t kind) noexcept;

/// Tells the guardian (if one runs for this process) to forget an entry. Never throws.
void notify_forget(registry::ticket t) noexcept;

/// The guardian's process id, or -1 when none runs for this process (for tests and diagnostics).
std::int64_t pid() noexcept;

}  // namespace tempfile::detail::guardian
