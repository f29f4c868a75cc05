// The registry of live named files and directories, for cleanup by signal handlers and by the
// guardian process.
//
// Every named temporary file and directory that the library will delete registers here at
// creation and leaves when it is deleted, kept or persisted. Signal handlers walk the registry,
// so walking it is async-signal-safe: no locks, no allocation; entries live in preallocated
// slots whose paths are read under a per-slot sequence number (a seqlock), so a slot reused while
// a handler reads it is skipped rather than misread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace tempfile::detail::registry {

enum class kind : std::uint32_t { file = 1, directory = 2 };

/// Identifies one registration; 0 means "not registered". The low half is the slot's index + 1,
/// the high half the slot's sequence number, which grows each time the slot is reused.
using ticket = std::uint64_t;

/// The ticket of slot `index` at `sequence`.
constexpr ticket make_ticket(std::uint32_t index, std::uint32_t sequence) noexcept {
  return (static_cast<std::uint64_t>(sequence) << 32) | (index + 1u);
}
/// The index of `t`'s slot (for a non-zero ticket).
constexpr std::uint32_t slot_index(ticket t) noexcept {
  return static_cast<std::uint32_t>(t & 0xffffffffu) - 1u;
}
/// The sequence number of `t`'s slot when it was registered.
constexpr std::uint32_t sequence_of(ticket t) noexcept {
  return static_cast<std::uint32_t>(t >> 32);
}

/// Longest path that can be registered, terminating NUL included; a longer one is not registered
/// (add() returns 0) and is then cleaned up only by its object.
inline constexpr std::size_t kMaxPath = 4096;

/// Registers `path` (absolute) and tells the guardian, if one runs. Never throws: returns 0 when
/// the path is too long or memory for a new block of slots cannot be had.
ticket add(const std::string& path, kind k) noexcept;

/// Unregisters (and tells the guardian to forget) `t`; 0 is ignored.
void remove(ticket t) noexcept;

/// Calls `fn(path, kind, ticket, ctx)` for every entry registered by this process (not by a
/// process it was fork()ed from). Async-signal-safe.
void for_each(void (*fn)(const char* path, kind k, ticket t, void* ctx), void* ctx) noexcept;

/// True while `t` is registered. Async-signal-safe.
bool is_live(ticket t) noexcept;

}  // namespace tempfile::detail::registry
