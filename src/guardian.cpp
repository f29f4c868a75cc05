#include "guardian.hpp"

#include <atomic>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <utility>

#include "error.hpp"
#include "platform/platform.hpp"
#include "remove_tree.hpp"

namespace tempfile::detail::guardian {

namespace {

enum : std::uint32_t { kAdd = 1, kForget = 2 };

// One message per send; a SOCK_SEQPACKET channel keeps their boundaries.
struct header {
  std::uint32_t op;
  std::uint32_t kind;
  std::uint64_t ticket;
};

std::mutex g_start_mutex;
std::atomic<platform::handle> g_channel{platform::invalid_handle};
std::atomic<std::uint64_t> g_generation{0};  // fork generation of the process the guardian serves
std::atomic<std::int64_t> g_pid{-1};

// A fork()ed child's own objects are not the guardian's business. Its copy of the channel is
// already closed by the platform layer, which does that from the moment the channel exists (a
// copy kept would delay the guardian's end-of-file until the child exits).
void forget_in_child() noexcept {
  g_channel.store(platform::invalid_handle);
  g_pid.store(-1);
}

platform::handle active_channel() noexcept {
  const platform::handle h = g_channel.load(std::memory_order_seq_cst);
  if (h == platform::invalid_handle) return h;
  if (g_generation.load(std::memory_order_relaxed) != platform::fork_generation()) {
    return platform::invalid_handle;
  }
  return h;
}

void send_add(platform::handle h, registry::ticket t, const char* path,
              std::uint32_t kind) noexcept {
  char message[sizeof(header) + registry::kMaxPath];
  const header hd{kAdd, kind, t};
  const std::size_t len = std::strlen(path);
  std::memcpy(message, &hd, sizeof hd);
  std::memcpy(message + sizeof hd, path, len);
  platform::send_message(h, message, sizeof hd + len);
}

// What the guardian watches: for each registry slot (a ticket's low half is its index + 1), the
// newest ticket heard of there, with its kind and path. The guardian is forked from a process
// whose other threads may be running, so it never calls malloc: an allocator lock that another
// thread held at the fork would stay locked here for ever (AddressSanitizer's allocator does
// that; glibc's resets its locks at fork). The records live in memory from the kernel, and trees
// are removed with remove_tree_signal_safe()'s arena.
struct record {
  std::uint64_t ticket;  // 0: nothing watched here
  std::uint32_t kind;
  char path[registry::kMaxPath];
};

class record_table {
 public:
  record_table() = default;
  record_table(const record_table&) = delete;
  record_table& operator=(const record_table&) = delete;

  // The record of `ticket`'s slot, growing the table as needed; null if memory cannot be had.
  record* slot_of(registry::ticket ticket) noexcept {
    const std::size_t index = registry::slot_index(ticket);
    if (index >= count_) {
      std::size_t count = count_ == 0 ? 64 : count_;
      while (count <= index) count *= 2;
      void* grown =
          platform::grow_memory(records_, count_ * sizeof(record), count * sizeof(record));
      if (grown == nullptr) return nullptr;
      records_ = static_cast<record*>(grown);
      count_ = count;
    }
    return &records_[index];
  }
  [[nodiscard]] std::size_t size() const noexcept { return count_; }
  record& operator[](std::size_t i) noexcept { return records_[i]; }

 private:
  record* records_ = nullptr;
  std::size_t count_ = 0;
};

// A slot's tickets grow with each reuse (the high half is the slot's sequence number), so an
// "add" that arrives after a newer one (a hand-over resending an entry that has since been
// replaced) is recognised as old.
bool newer_or_same(registry::ticket ticket, registry::ticket than) noexcept {
  return static_cast<std::int32_t>(registry::sequence_of(ticket) - registry::sequence_of(than)) >=
         0;
}

// The guardian process: collect entries until the parent's end of the channel closes, then
// remove whatever is still registered.
void guardian_main(platform::handle channel) noexcept {
  reset_signal_safe_arena();  // this process has one thread: no walk of the parent's goes on here
  record_table records;
  char message[sizeof(header) + registry::kMaxPath];
  for (;;) {
    const std::ptrdiff_t n = platform::receive_message(channel, message, sizeof message);
    if (n <= 0) break;  // end of file: the parent died (or closed the channel on exit)
    if (static_cast<std::size_t>(n) < sizeof(header)) continue;
    header hd;
    std::memcpy(&hd, message, sizeof hd);
    if (registry::slot_index(hd.ticket) == UINT32_MAX) continue;  // names no slot (0, or corrupt)
    if (hd.op == kAdd) {
      const auto length = static_cast<std::size_t>(n) - sizeof hd;
      record* r = records.slot_of(hd.ticket);
      if (r == nullptr || length >= registry::kMaxPath) continue;  // this one goes unguarded
      if (r->ticket != 0 && !newer_or_same(hd.ticket, r->ticket)) continue;
      r->ticket = hd.ticket;
      r->kind = hd.kind;
      std::memcpy(r->path, message + sizeof hd, length);
      r->path[length] = '\0';
    } else if (hd.op == kForget) {
      const std::size_t index = registry::slot_index(hd.ticket);
      if (index < records.size() && records[index].ticket == hd.ticket) records[index].ticket = 0;
    }
  }
  for (std::size_t i = 0; i < records.size(); ++i) {
    const record& r = records[i];
    if (r.ticket == 0) continue;
    if (r.kind == static_cast<std::uint32_t>(registry::kind::directory)) {
      remove_tree_signal_safe(r.path);
    } else {
      platform::unlink_path(r.path);
    }
  }
}

struct handover {
  platform::handle channel;
};

void hand_over(const char* path, registry::kind k, registry::ticket t, void* ctx) {
  const auto* h = static_cast<handover*>(ctx);
  send_add(h->channel, t, path, static_cast<std::uint32_t>(k));
  // If the entry went away while we sent it, its own "forget" may have gone out first: repeat it.
  if (!registry::is_live(t)) notify_forget(t);
}

}  // namespace

void start() {
  std::lock_guard lock(g_start_mutex);
  if (active_channel() != platform::invalid_handle) return;
  static const bool registered = [] {
    platform::on_fork_child(&forget_in_child);
    return true;
  }();
  (void)registered;
  std::error_code ec;
  std::int64_t pid = -1;
  const platform::handle channel = platform::spawn_guardian(&guardian_main, pid, ec);
  if (ec) throw_error("start the guardian process", {}, ec);
  g_generation.store(platform::fork_generation(), std::memory_order_relaxed);
  g_pid.store(pid);
  g_channel.store(channel, std::memory_order_seq_cst);
  // Entries made before now: hand them over. Entries made from now on notify by themselves.
  // registry::add() publishes an entry (seq_cst) before it looks at the channel (seq_cst); this
  // fence orders the store above before the walk's loads, so an entry is either seen here or
  // its add() sees the channel (or both: a repeated "add" is harmless).
  std::atomic_thread_fence(std::memory_order_seq_cst);
  handover h{channel};
  registry::for_each(&hand_over, &h);
}

void notify_add(registry::ticket t, const char* path, std::uint32_t kind) noexcept {
  const platform::handle h = active_channel();
  if (h != platform::invalid_handle) send_add(h, t, path, kind);
}

void notify_forget(registry::ticket t) noexcept {
  const platform::handle h = active_channel();
  if (h == platform::invalid_handle) return;
  const header hd{kForget, 0, t};
  platform::send_message(h, &hd, sizeof hd);
}

std::int64_t pid() noexcept {
  return active_channel() != platform::invalid_handle ? g_pid.load() : -1;
}

}  // namespace tempfile::detail::guardian
