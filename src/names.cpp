#include "names.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <deque>
#include <mutex>

#include "error.hpp"
#include "platform/platform.hpp"

namespace tempfile::detail {

namespace {

constexpr char kMktempAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

// 4 KiB: one getrandom per 500 names of eight characters, so that creating a file costs no more
// system calls than doing it by hand with a counter for a name.
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

[[gnu::noinline, gnu::cold]] void refill(random_pool& pool, std::uint64_t generation) {
  std::error_code ec;
  platform::random_bytes(pool.bytes, sizeof pool.bytes, ec);
  if (ec) throw_error("read random bytes for a temporary name", {}, ec);
  pool.generation = generation;
  pool.next = 0;
}

// Random characters are taken eight at a time from one 64-bit word of random bytes, as the word's
// last eight digits in base N. A word is used only if it is below the largest multiple of N^8
// that a word can hold: then its last eight digits are exactly uniform, every character equally
// likely and independent of the others. So few words are turned away (about 2 in 10 million for
// N = 37, 1 in 100,000 for N = 62) that a name costs one word and a few multiplications (the
// division by a constant N is one), with no branch per character.
template <unsigned N>
struct digits {
  static constexpr std::uint64_t power(unsigned k) {
    std::uint64_t p = 1;
    for (unsigned i = 0; i < k; ++i) p *= N;
    return p;
  }
  // The words to keep for k digits (k = 1..8): below the largest multiple of N^k, and 0 for k = 0.
  static constexpr std::uint64_t keep_below(unsigned k) {
    const std::uint64_t p = power(k);
    return UINT64_MAX - (UINT64_MAX % p + 1) % p;  // floor(2^64 / p) * p - 1, as the last kept
  }
  static constexpr std::array<std::uint64_t, 9> kLast = [] {
    std::array<std::uint64_t, 9> last{};
    for (unsigned k = 1; k < last.size(); ++k) last[k] = keep_below(k);
    return last;
  }();
};

// Takes the next random word from the pool (refilled when it runs dry), wiping it there: a used
// byte is never left behind in memory.
inline std::uint64_t next_word(random_pool& pool, std::uint64_t generation) {
  if (pool.generation != generation || pool.next == sizeof pool.bytes) [[unlikely]] {
    refill(pool, generation);
  }
  std::uint64_t word = 0;
  std::memcpy(&word, pool.bytes + pool.next, sizeof word);
  std::memset(pool.bytes + pool.next, 0, sizeof word);
  pool.next += sizeof word;
  return word;
}

// A word whose last k digits in base N are exactly uniform (see digits).
template <unsigned N>
inline std::uint64_t uniform_word(random_pool& pool, std::uint64_t generation, unsigned k) {
  std::uint64_t word = next_word(pool, generation);
  while (word > digits<N>::kLast[k]) [[unlikely]] word = next_word(pool, generation);
  return word;
}

// Two characters at once: of[v] is the pair of base-N digits of v < N * N.
template <unsigned N>
struct pair_table {
  char of[N * N][2] = {};
  explicit constexpr pair_table(const char* chars) {
    for (unsigned v = 0; v < N * N; ++v) {
      of[v][0] = chars[v % N];
      of[v][1] = chars[v / N];
    }
  }
};

constexpr pair_table<sizeof kNameAlphabet - 1> kNamePairs{kNameAlphabet};
constexpr pair_table<sizeof kMktempAlphabet - 1> kMktempPairs{kMktempAlphabet};

template <unsigned N>
void draw(random_pool& pool, std::uint64_t generation, const pair_table<N>& pairs,
          const char* chars, char* out, std::size_t length) {
  constexpr std::uint64_t kTwo = digits<N>::power(2);
  constexpr std::uint64_t kFour = digits<N>::power(4);
  std::size_t at = 0;
  for (; at + 8 <= length; at += 8) {
    // Split into four pairs of digits through two halves of four, so that what is divided is
    // at most 32 bits wide (cheaper to divide than 64), and each pair is one table lookup.
    const std::uint64_t eight = uniform_word<N>(pool, generation, 8) % (kFour * kFour);
    const auto low = static_cast<std::uint32_t>(eight % kFour);
    const auto high = static_cast<std::uint32_t>(eight / kFour);
    std::memcpy(out + at, pairs.of[low % kTwo], 2);
    std::memcpy(out + at + 2, pairs.of[low / kTwo], 2);
    std::memcpy(out + at + 4, pairs.of[high % kTwo], 2);
    std::memcpy(out + at + 6, pairs.of[high / kTwo], 2);
  }
  if (at < length) {
    const auto k = static_cast<unsigned>(length - at);
    std::uint64_t word = uniform_word<N>(pool, generation, k);
    for (unsigned i = 0; i < k; ++i, word /= N) out[at + i] = chars[word % N];
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
    draw(pool, generation, kNamePairs, kNameAlphabet, out, length);
  } else {
    draw(pool, generation, kMktempPairs, kMktempAlphabet, out, length);
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
