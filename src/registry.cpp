#include "registry.hpp"

#include <atomic>
#include <bit>
#include <cstring>
#include <new>

#include "guardian.hpp"
#include "platform/platform.hpp"

namespace tempfile::detail::registry {

namespace {

enum : std::uint32_t { kFree = 0, kClaimed = 1, kLive = 2 };

struct slot {
  std::atomic<std::uint32_t> state{kFree};
  std::atomic<std::uint32_t> sequence{0};  // odd while the slot is being written
  std::atomic<std::uint32_t> kind{0};
  std::atomic<std::uint64_t> generation{0};
  // The path's characters, eight to a word, NUL-padded. Atomics, so that a handler (or the
  // guardian hand-over) reading a slot that is being rewritten is a benign, detected race rather
  // than undefined behaviour; words, so that writing a path costs a few stores, not one a byte.
  std::atomic<std::uint64_t> words[kMaxPath / 8];
};

constexpr std::uint32_t kSlotsPerBlock = 64;

struct block {
  slot slots[kSlotsPerBlock];
  std::atomic<block*> next{nullptr};
};

// The first block is static (untouched pages cost nothing); more are chained as needed, never
// freed, so a handler can always walk the chain.
block g_first;
std::atomic<std::uint32_t> g_hint{0};  // where to start looking for a free slot

slot* slot_at(std::uint32_t index) noexcept {
  block* b = &g_first;
  while (index >= kSlotsPerBlock) {
    b = b->next.load(std::memory_order_acquire);
    if (b == nullptr) return nullptr;
    index -= kSlotsPerBlock;
  }
  return &b->slots[index];
}

// Claims a free slot, adding a block when every slot is taken; returns its index or -1.
std::int64_t claim() noexcept {
  const std::uint32_t start = g_hint.load(std::memory_order_relaxed);
  // Usually the slot at the hint is free (the last one freed, or the one after the last claimed).
  if (start < kSlotsPerBlock) {
    std::uint32_t expected = kFree;
    if (g_first.slots[start].state.compare_exchange_strong(expected, kClaimed,
                                                           std::memory_order_acquire)) {
      g_hint.store(start + 1, std::memory_order_relaxed);
      return start;
    }
  }
  for (int pass = 0; pass < 2; ++pass) {
    std::uint32_t index = 0;
    for (block* b = &g_first; b != nullptr; b = b->next.load(std::memory_order_acquire)) {
      for (std::uint32_t i = 0; i < kSlotsPerBlock; ++i, ++index) {
        if (pass == 0 && index < start) continue;
        std::uint32_t expected = kFree;
        if (b->slots[i].state.compare_exchange_strong(expected, kClaimed,
                                                      std::memory_order_acquire)) {
          g_hint.store(index + 1, std::memory_order_relaxed);
          return index;
        }
      }
    }
  }
  // Every slot is live: append a block (another thread may append one first; either is fine).
  block* fresh = new (std::nothrow) block;
  if (fresh == nullptr) return -1;
  fresh->slots[0].state.store(kClaimed, std::memory_order_relaxed);
  std::uint32_t index = 0;
  block* b = &g_first;
  for (;;) {
    index += kSlotsPerBlock;
    block* expected = nullptr;
    if (b->next.compare_exchange_strong(expected, fresh, std::memory_order_acq_rel)) break;
    b = expected;
  }
  g_hint.store(index + 1, std::memory_order_relaxed);
  return index;
}

}  // namespace

ticket add(const std::string& native, kind k) noexcept {
  if (native.size() + 1 > kMaxPath) return 0;
  const std::int64_t claimed = claim();
  if (claimed < 0) return 0;
  const auto index = static_cast<std::uint32_t>(claimed);
  slot& s = *slot_at(index);
  const std::uint32_t seq = s.sequence.load(std::memory_order_relaxed) + 1;  // odd: writing
  s.sequence.store(seq, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  s.kind.store(static_cast<std::uint32_t>(k), std::memory_order_relaxed);
  s.generation.store(platform::fork_generation(), std::memory_order_relaxed);
  const char* const text = native.c_str();
  const std::size_t size = native.size() + 1;  // with the NUL
  std::size_t at = 0;
  std::size_t w = 0;
  for (; at + 8 <= size; at += 8, ++w) {  // whole words: copies of a constant size, no call
    std::uint64_t word = 0;
    std::memcpy(&word, text + at, 8);
    s.words[w].store(word, std::memory_order_relaxed);
  }
  if (at < size) {  // the last few bytes, NUL-padded
    std::uint64_t word = 0;
    if (size >= 8) {
      // The eight bytes that end with the NUL, shifted so that only the last few are kept (the
      // words are little-endian: the later bytes are the higher ones); the shift brings zeros in.
      std::memcpy(&word, text + size - 8, 8);
      if constexpr (std::endian::native == std::endian::little) {
        word >>= 8 * (8 - (size - at));
      } else {
        word <<= 8 * (8 - (size - at));
      }
    } else {
      std::memcpy(&word, text, size);
    }
    s.words[w].store(word, std::memory_order_relaxed);
  }
  s.sequence.store(seq + 1, std::memory_order_release);
  s.state.store(kLive, std::memory_order_seq_cst);
  const ticket t = make_ticket(index, seq + 1);
  guardian::notify_add(t, native.c_str(), static_cast<std::uint32_t>(k));
  return t;
}

void remove(ticket t) noexcept {
  if (t == 0) return;
  const std::uint32_t index = slot_index(t);
  slot* s = slot_at(index);
  if (s == nullptr || s->sequence.load(std::memory_order_relaxed) != sequence_of(t)) return;
  // Free first, then tell the guardian: a hand-over walking the registry concurrently either
  // sees the slot free, or sends its "add" before this "forget" (see guardian::start()).
  s->state.store(kFree, std::memory_order_seq_cst);
  guardian::notify_forget(t);
  // The hint is only where claim() starts looking (it looks at every slot before giving up), so
  // a plain store is enough: losing a race with another thread's store costs nothing but a
  // longer search, where a locked compare-and-swap would cost every removal.
  if (index < g_hint.load(std::memory_order_relaxed))
    g_hint.store(index, std::memory_order_relaxed);
}

void for_each(void (*fn)(const char* path, kind k, ticket t, void* ctx), void* ctx) noexcept {
  const std::uint64_t generation = platform::fork_generation();
  char path[kMaxPath];
  std::uint32_t index = 0;
  for (block* b = &g_first; b != nullptr; b = b->next.load(std::memory_order_acquire)) {
    for (std::uint32_t i = 0; i < kSlotsPerBlock; ++i, ++index) {
      slot& s = b->slots[i];
      if (s.state.load(std::memory_order_acquire) != kLive) continue;
      const std::uint32_t before = s.sequence.load(std::memory_order_acquire);
      if ((before & 1u) != 0) continue;
      const auto k = static_cast<kind>(s.kind.load(std::memory_order_relaxed));
      const std::uint64_t gen = s.generation.load(std::memory_order_relaxed);
      // Word by word up to the one holding a NUL (a torn read is caught by the sequence check).
      for (std::size_t w = 0; w < kMaxPath / 8; ++w) {
        const std::uint64_t word = s.words[w].load(std::memory_order_relaxed);
        std::memcpy(path + w * 8, &word, 8);
        // Has a zero byte (a bit trick: no library call in a signal handler).
        if (((word - 0x0101010101010101u) & ~word & 0x8080808080808080u) != 0) break;
      }
      path[kMaxPath - 1] = '\0';
      std::atomic_thread_fence(std::memory_order_acquire);
      if (s.sequence.load(std::memory_order_relaxed) != before ||
          s.state.load(std::memory_order_relaxed) != kLive || gen != generation) {
        continue;  // rewritten while we read it, or the parent's entry in a fork()ed child
      }
      fn(path, k, make_ticket(index, before), ctx);
    }
  }
}

bool is_live(ticket t) noexcept {
  if (t == 0) return false;
  const slot* s = slot_at(slot_index(t));
  return s != nullptr && s->state.load(std::memory_order_seq_cst) == kLive &&
         s->sequence.load(std::memory_order_relaxed) == sequence_of(t);
}

}  // namespace tempfile::detail::registry
