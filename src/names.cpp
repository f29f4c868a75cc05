#include "names.hpp"

#include <cstdint>
#include <deque>
#include <mutex>

#include "error.hpp"
#include "platform/platform.hpp"

namespace tempfile::detail {

namespace {

constexpr char kMktempAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

// 4 KiB: one getrandom per 400 or so names, so that creating a file costs no more system calls
// than doing it by hand with a counter for a name.
struct random_pool {
  std::uint64_t generation = 0;  // platform::fork_generation() when filled; 0: empty
  std::size_t next = 0;
  unsigned char bytes[4096];
};

thread_local random_pool t_pool;

#ifdef TEMPFILE_FAULT_INJECTION
std::mutex g_test_names_mutex;
std::deque<std::string> g_test_names;

bool pop_test_name(std::string& out, std::size_t length) {
  std::lock_guard lock(g_test_names_mutex);
  if (g_test_names.empty() || g_test_names.front().size() != length) return false;
  out += g_test_names.front();
  g_test_names.pop_front();
  return true;
}
#endif

void refill(random_pool& pool, std::uint64_t generation) {
  std::error_code ec;
  platform::random_bytes(pool.bytes, sizeof pool.bytes, ec);
  if (ec) throw_error("read random bytes for a temporary name", {}, ec);
  pool.generation = generation;
  pool.next = 0;
}

// Fills out[0, length) from `chars` (N of them). The size is a constant, so `b % N` is a multiply,
// not a division; bytes are taken in runs, the pool refilled only when it runs dry.
template <unsigned N>
void draw(random_pool& pool, std::uint64_t generation, const char* chars, char* out,
          std::size_t length) {
  constexpr unsigned kRejectFrom = 256 - 256 % N;  // so that every character is equally likely
  std::size_t i = 0;
  while (i < length) {
    if (pool.generation != generation || pool.next == sizeof pool.bytes) refill(pool, generation);
    unsigned char* p = pool.bytes + pool.next;
    unsigned char* const end = pool.bytes + sizeof pool.bytes;
    for (; i < length && p != end; ++p) {
      const unsigned b = *p;
      *p = 0;  // a used byte is never left behind in memory
      if (b < kRejectFrom) out[i++] = chars[b % N];
    }
    pool.next = static_cast<std::size_t>(p - pool.bytes);
  }
}

}  // namespace

void append_random_name(std::string& out, std::size_t length, alphabet chars) {
#ifdef TEMPFILE_FAULT_INJECTION
  if (pop_test_name(out, length)) return;
#endif
  random_pool& pool = t_pool;
  // One look at the fork generation per name: a name is drawn within one process.
  const std::uint64_t generation = platform::fork_generation();
  const std::size_t start = out.size();
  out.resize(start + length);
  try {
    if (chars == alphabet::portable) {
      draw<sizeof kNameAlphabet - 1>(pool, generation, kNameAlphabet, out.data() + start, length);
    } else {
      draw<sizeof kMktempAlphabet - 1>(pool, generation, kMktempAlphabet, out.data() + start,
                                       length);
    }
  } catch (...) {
    out.resize(start);
    throw;
  }
}

#ifdef TEMPFILE_FAULT_INJECTION
void push_test_names(std::initializer_list<std::string> names) {
  std::lock_guard lock(g_test_names_mutex);
  for (const auto& n : names) g_test_names.push_back(n);
}
#endif

}  // namespace tempfile::detail
