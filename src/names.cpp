#include "names.hpp"

#include <cstdint>
#include <deque>
#include <mutex>

#include "error.hpp"
#include "platform/platform.hpp"

namespace tempfile::detail {

namespace {

constexpr char kMktempAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

struct alphabet_table {
  const char* chars;
  unsigned size;
  unsigned reject_from;  // bytes at or above this are skipped so every character is equally likely
};

constexpr alphabet_table make_table(const char* chars, unsigned size) {
  return {chars, size, 256 - 256 % size};
}

constexpr alphabet_table kTables[] = {
    make_table(kNameAlphabet, sizeof(kNameAlphabet) - 1),     // 37 characters, bytes < 222
    make_table(kMktempAlphabet, sizeof(kMktempAlphabet) - 1)  // 62 characters, bytes < 248
};

struct random_pool {
  std::uint64_t generation = 0;  // platform::fork_generation() when filled; 0: empty
  std::size_t next = 0;
  unsigned char bytes[512];
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

unsigned char next_byte() {
  random_pool& pool = t_pool;
  const std::uint64_t generation = platform::fork_generation();
  if (pool.generation != generation || pool.next == sizeof pool.bytes) {
    std::error_code ec;
    platform::random_bytes(pool.bytes, sizeof pool.bytes, ec);
    if (ec) throw_error("read random bytes for a temporary name", {}, ec);
    pool.generation = generation;
    pool.next = 0;
  }
  const unsigned char b = pool.bytes[pool.next];
  pool.bytes[pool.next++] = 0;  // a used byte is never left behind in memory
  return b;
}

}  // namespace

void append_random_name(std::string& out, std::size_t length, alphabet chars) {
#ifdef TEMPFILE_FAULT_INJECTION
  if (pop_test_name(out, length)) return;
#endif
  const alphabet_table& table = kTables[static_cast<int>(chars)];
  for (std::size_t i = 0; i < length;) {
    const unsigned b = next_byte();
    if (b >= table.reject_from) continue;
    out += table.chars[b % table.size];
    ++i;
  }
}

#ifdef TEMPFILE_FAULT_INJECTION
void push_test_names(std::initializer_list<std::string> names) {
  std::lock_guard lock(g_test_names_mutex);
  for (const auto& n : names) g_test_names.push_back(n);
}
#endif

}  // namespace tempfile::detail
