#include "names.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
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

// Initialised as a constant (all zero: empty), so that using it costs no first-use check.
constinit thread_local random_pool t_pool{};

#ifdef TEMPFILE_FAULT_INJECTION
std::mutex g_test_names_mutex;
std::deque<std::string> g_test_names;

bool pop_test_name(char* out, std::size_t length) {
  std::lock_guard lock(g_test_names_mutex);
  if (g_test_names.empty() || g_test_names.front().size() != length) return false;
  std::memcpy(out, g_test_names.front().data(), length);
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

// What each random byte stands for: chars[b % N] for the bytes below the largest multiple of N
// that fits in a byte (so that every character is equally likely); the others are drawn again.
template <unsigned N>
struct byte_table {
  static constexpr unsigned kRejectFrom = 256 - 256 % N;
  char of[256] = {};
  explicit constexpr byte_table(const char* chars) {
    for (unsigned b = 0; b < kRejectFrom; ++b) of[b] = chars[b % N];
  }
};

constexpr byte_table<sizeof kNameAlphabet - 1> kNameTable{kNameAlphabet};
constexpr byte_table<sizeof kMktempAlphabet - 1> kMktempTable{kMktempAlphabet};

// Fills out[0, length) from `table`, a byte at a time; bytes are taken in runs, the pool refilled
// only when it runs dry. Without a branch per byte: each byte's character is written at out[i],
// and i moves on only if the byte is accepted (a rejected byte's character is overwritten next).
// Each pass takes no more bytes than characters are missing, so i never passes `length` and the
// inner loop has a single bound.
template <unsigned N>
void draw(random_pool& pool, std::uint64_t generation, const byte_table<N>& table, char* out,
          std::size_t length) {
  std::size_t i = 0;
  while (i < length) {
    if (pool.generation != generation || pool.next == sizeof pool.bytes) refill(pool, generation);
    unsigned char* p = pool.bytes + pool.next;
    const std::size_t n = std::min(sizeof pool.bytes - pool.next, length - i);
    for (std::size_t k = 0; k < n; ++k) {
      const unsigned b = p[k];
      p[k] = 0;  // a used byte is never left behind in memory
      out[i] = table.of[b];
      i += b < byte_table<N>::kRejectFrom ? 1 : 0;
    }
    pool.next += n;
  }
}

}  // namespace

void fill_random_name(char* out, std::size_t length, alphabet chars) {
#ifdef TEMPFILE_FAULT_INJECTION
  if (pop_test_name(out, length)) return;
#endif
  random_pool& pool = t_pool;
  // One look at the fork generation per name: a name is drawn within one process.
  const std::uint64_t generation = platform::fork_generation();
  if (chars == alphabet::portable) {
    draw(pool, generation, kNameTable, out, length);
  } else {
    draw(pool, generation, kMktempTable, out, length);
  }
}

void append_random_name(std::string& out, std::size_t length, alphabet chars) {
  const std::size_t start = out.size();
  out.resize(start + length);
  try {
    fill_random_name(out.data() + start, length, chars);
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
