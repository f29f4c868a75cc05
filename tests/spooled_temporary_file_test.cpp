// Tests of tempfile::spooled_temporary_file (include/tempfile/spooled_temporary_file.hpp), in
// every test root. Ported from CPython's test_tempfile.TestSpooledTemporaryFile where a case
// exists there (named in the comments), plus the C++-specific guarantees: no system call in
// memory, the position kept across rollover, a failed rollover losing nothing.
#include "tempfile/spooled_temporary_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <vector>

#include "platform/fault.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
namespace fault = tempfile::detail::fault;
using tempfile::spooled_temporary_file;
using tempfile::whence;

static_assert(std::is_nothrow_move_constructible_v<spooled_temporary_file>);
static_assert(std::is_nothrow_move_assignable_v<spooled_temporary_file>);
static_assert(!std::is_copy_constructible_v<spooled_temporary_file>);

// Every system call the platform layer has made since the last fault::reset().
std::uint64_t all_calls() {
  std::uint64_t n = 0;
  for (unsigned c = 0; c < static_cast<unsigned>(fault::call::count_); ++c) {
    n += fault::calls(static_cast<fault::call>(c));
  }
  return n;
}

std::string random_bytes(std::size_t n, std::mt19937& rng) {
  std::uniform_int_distribution<int> byte(0, 255);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(byte(rng));
  return s;
}

std::int64_t fd_size(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return -1;
  return static_cast<std::int64_t>(st.st_size);
}

class SpooledFile : public ::testing::TestWithParam<tftest::root> {
 protected:
  void SetUp() override {
    fault::reset();
    scratch_ = std::make_unique<tftest::scratch>(GetParam().path);
  }
  void TearDown() override {
    fault::reset();
    scratch_.reset();
  }
  const fs::path& dir() const { return scratch_->path(); }
  std::vector<std::string> entries() const { return scratch_->entries(); }
  // A spooled file that rolls over into the scratch directory.
  spooled_temporary_file make(std::size_t max_size) const {
    return spooled_temporary_file({.dir = dir(), .max_size = max_size});
  }
  // The whole content, leaving the position where it was.
  static std::string content(spooled_temporary_file& f) {
    const std::int64_t pos = f.tell();
    f.seek(0);
    std::string all = f.read();
    f.seek(pos);
    return all;
  }

  std::unique_ptr<tftest::scratch> scratch_;
};

INSTANTIATE_TEST_SUITE_P(Roots, SpooledFile, ::testing::ValuesIn(tftest::roots()),
                         tftest::root_name<::testing::TestParamInfo<tftest::root>>);

// --- when it rolls over ------------------------------------------------------------------------

TEST_P(SpooledFile, StartsInMemory) {
  auto f = make(30);
  EXPECT_FALSE(f.rolled_over());
  EXPECT_FALSE(f.closed());
  EXPECT_EQ(f.size(), 0);
  EXPECT_EQ(f.tell(), 0);
  EXPECT_EQ(f.read(), "");
  EXPECT_TRUE(entries().empty());
}

// CPython: test_rewrite_small.
TEST_P(SpooledFile, RewriteSmallDoesNotRoll) {
  auto f = make(30);
  for (int i = 0; i < 5; ++i) {
    f.seek(0);
    f.write(std::string(20, 'x'));
  }
  EXPECT_FALSE(f.rolled_over());
  EXPECT_EQ(f.size(), 20);
  EXPECT_EQ(content(f), std::string(20, 'x'));
}

// CPython: test_write_sequential.
TEST_P(SpooledFile, SequentialWritesRollExactlyAfterMaxSize) {
  auto f = make(30);
  EXPECT_FALSE(f.rolled_over());
  f.write(std::string(20, 'x'));
  EXPECT_FALSE(f.rolled_over());
  f.write(std::string(10, 'y'));
  EXPECT_FALSE(f.rolled_over()) << "exactly max_size bytes stay in memory";
  f.write("z");
  EXPECT_TRUE(f.rolled_over());
  EXPECT_EQ(f.tell(), 31);
  EXPECT_EQ(f.size(), 31);
  EXPECT_EQ(content(f), std::string(20, 'x') + std::string(10, 'y') + "z");
}

// CPython: test_writelines_sequential, for a range of sizes around the growth steps.
TEST_P(SpooledFile, ByteByByteAndChunkedWritesRollOnTheByteAfterMaxSize) {
  for (std::size_t max : {1u, 2u, 7u, 255u, 256u, 257u, 4096u, 65535u, 65536u, 65537u, 200000u}) {
    for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, max}) {
      SCOPED_TRACE("max_size " + std::to_string(max) + ", chunk " + std::to_string(chunk));
      auto f = make(max);
      std::string expected;
      while (expected.size() < max) {
        const std::string piece(std::min(chunk, max - expected.size()),
                                static_cast<char>('a' + expected.size() % 26));
        f.write(piece);
        expected += piece;
      }
      ASSERT_FALSE(f.rolled_over());
      ASSERT_EQ(f.size(), static_cast<std::int64_t>(max));
      f.write("!");
      expected += '!';
      ASSERT_TRUE(f.rolled_over());
      ASSERT_EQ(content(f), expected);
    }
  }
}

TEST_P(SpooledFile, OneWriteCrossingMaxSizeRolls) {
  auto f = make(30);
  f.write(std::string(25, 'a'));
  EXPECT_FALSE(f.rolled_over());
  f.write(std::string(10, 'b'));
  EXPECT_TRUE(f.rolled_over());
  EXPECT_EQ(content(f), std::string(25, 'a') + std::string(10, 'b'));

  auto g = make(30);
  g.write(std::string(31, 'c'));
  EXPECT_TRUE(g.rolled_over());
  EXPECT_EQ(content(g), std::string(31, 'c'));
}

TEST_P(SpooledFile, OverwriteInsideMaxSizeDoesNotRoll) {
  auto f = make(30);
  f.write(std::string(30, 'a'));
  f.seek(10);
  f.write(std::string(20, 'b'));  // ends exactly at max_size
  EXPECT_FALSE(f.rolled_over());
  f.seek(29);
  f.write("cc");  // ends one past it
  EXPECT_TRUE(f.rolled_over());
  EXPECT_EQ(content(f), std::string(10, 'a') + std::string(19, 'b') + "cc");
}

TEST_P(SpooledFile, MaxSizeZeroNeverRollsOnSize) {
  auto f = make(0);
  f.write(std::string(3 * 1024 * 1024, 'x'));
  EXPECT_FALSE(f.rolled_over());
  f.truncate(5 * 1024 * 1024);
  EXPECT_FALSE(f.rolled_over());
  f.seek(7 * 1024 * 1024);
  f.write("y");
  EXPECT_FALSE(f.rolled_over());
  EXPECT_EQ(f.size(), 7 * 1024 * 1024 + 1);
  f.seek(5 * 1024 * 1024 - 1);
  EXPECT_EQ(f.read(2), std::string("\0\0", 2)) << "truncate's extension reads as zeros";
  f.seek(3 * 1024 * 1024 - 1);
  EXPECT_EQ(f.read(2), std::string("x\0", 2));
  EXPECT_TRUE(entries().empty());
}

// CPython: test_sparse.
TEST_P(SpooledFile, SeekPastTheEndDoesNotRollTheNextWriteDoes) {
  auto f = make(30);
  EXPECT_EQ(f.seek(100), 100);
  EXPECT_FALSE(f.rolled_over());
  EXPECT_EQ(f.tell(), 100);
  EXPECT_EQ(f.size(), 0);
  EXPECT_EQ(f.read(), "") << "nothing to read past the end";
  EXPECT_FALSE(f.rolled_over());
  f.write("x");
  EXPECT_TRUE(f.rolled_over());
  EXPECT_EQ(f.size(), 101);
  EXPECT_EQ(f.tell(), 101);
  EXPECT_EQ(content(f), std::string(100, '\0') + "x");
}

TEST_P(SpooledFile, SparseWriteInMemoryReadsZeros) {
  auto f = make(200);
  f.write("ab");
  f.seek(100);
  f.write("x");
  EXPECT_FALSE(f.rolled_over());
  EXPECT_EQ(content(f), "ab" + std::string(98, '\0') + "x");
  f.seek(50, whence::end);
  EXPECT_EQ(f.tell(), 151);
  f.write("y");
  EXPECT_FALSE(f.rolled_over());
  EXPECT_EQ(f.size(), 152);
  f.seek(-2, whence::cur);
  EXPECT_EQ(f.read(), std::string(1, '\0') + "y");
}

TEST_P(SpooledFile, SeekIsRelativeAndRefusesNegativePositions) {
  auto f = make(30);
  f.write("0123456789");
  EXPECT_EQ(f.seek(-3, whence::end), 7);
  EXPECT_EQ(f.read(), "789");
  EXPECT_EQ(f.seek(-5, whence::cur), 5);
  EXPECT_EQ(f.read(2), "56");
  EXPECT_THROW(f.seek(-1), fs::filesystem_error);
  EXPECT_THROW(f.seek(-11, whence::end), fs::filesystem_error);
  EXPECT_EQ(f.tell(), 7) << "a refused seek does not move";
  EXPECT_FALSE(f.rolled_over());
}

// CPython: test_truncate_with_size_parameter.
TEST_P(SpooledFile, TruncateRollsOnlyPastMaxSize) {
  {
    auto f = make(10);
    f.write("abcdefg\n");
    f.seek(0);
    f.truncate(0);
    EXPECT_FALSE(f.rolled_over());
    EXPECT_EQ(f.size(), 0);
    EXPECT_EQ(f.read(), "");
  }
  {
    auto f = make(10);
    f.write("abcdefg\n");
    f.truncate(4);
    EXPECT_FALSE(f.rolled_over());
    EXPECT_EQ(f.tell(), 8) << "truncate keeps the position";
    EXPECT_EQ(content(f), "abcd");
  }
  {
    auto f = make(10);
    f.write("abcdefg\n");
    f.truncate(10);
    EXPECT_FALSE(f.rolled_over()) << "max_size itself stays in memory";
    EXPECT_EQ(content(f), std::string("abcdefg\n\0\0", 10));
  }
  {
    auto f = make(10);
    f.write("abcdefg\n");
    f.truncate(20);
    EXPECT_TRUE(f.rolled_over());
    EXPECT_EQ(f.size(), 20);
    EXPECT_EQ(f.tell(), 8);
    EXPECT_EQ(fd_size(f.native_handle()), 20);
    EXPECT_EQ(content(f), "abcdefg\n" + std::string(12, '\0'));
  }
}

TEST_P(SpooledFile, TruncateKeepsPositionAndExtendsWithZeros) {
  for (std::size_t max : {std::size_t{0}, std::size_t{100}}) {
    SCOPED_TRACE("max_size " + std::to_string(max));
    auto f = make(max);
    f.write("abcdef");
    f.seek(2);
    f.truncate(3);
    EXPECT_EQ(f.tell(), 2);
    EXPECT_EQ(f.read(), "c");
    f.seek(1);
    f.truncate(8);
    EXPECT_EQ(f.tell(), 1);
    EXPECT_EQ(f.read(), std::string("bc\0\0\0\0\0", 7)) << "old bytes past the cut are gone";
    f.truncate(2);
    EXPECT_EQ(f.tell(), 8) << "a position past the new end stays";
    EXPECT_EQ(f.read(), "");
    f.write("z");
    EXPECT_EQ(content(f), std::string("ab\0\0\0\0\0\0z", 9));
    EXPECT_FALSE(f.rolled_over());
    EXPECT_THROW(f.truncate(-1), fs::filesystem_error);
  }
}

TEST_P(SpooledFile, TruncateWhileWritingAndReading) {
  auto f = make(64);
  f.write("0123456789");
  f.truncate(5);  // with bytes just written in the put area
  EXPECT_EQ(f.size(), 5);
  f.seek(0);
  EXPECT_EQ(f.read(2), "01");
  f.truncate(3);  // in the middle of reading
  EXPECT_EQ(f.tell(), 2);
  EXPECT_EQ(f.read(), "2");
  EXPECT_FALSE(f.rolled_over());
}

// CPython: test_fileno.
TEST_P(SpooledFile, NativeHandleForcesRollover) {
  auto f = make(30);
  f.write("abc");
  EXPECT_FALSE(f.rolled_over());
  const int fd = f.native_handle();
  EXPECT_TRUE(f.rolled_over());
  EXPECT_GE(fd, 0);
  EXPECT_EQ(fd_size(fd), 3);
  EXPECT_EQ(::lseek(fd, 0, SEEK_CUR), 3) << "the descriptor is at the file's position";
  EXPECT_EQ(f.native_handle(), fd) << "the same descriptor every time";
  EXPECT_TRUE(entries().empty());
}

TEST_P(SpooledFile, ExplicitRollover) {
  auto f = make(0);
  f.write("hello world");
  f.seek(4);
  EXPECT_FALSE(f.rolled_over());
  f.rollover();
  EXPECT_TRUE(f.rolled_over());
  EXPECT_EQ(f.tell(), 4);
  EXPECT_EQ(f.read(), "o world");
  f.rollover();  // no-op once on disk
  EXPECT_TRUE(f.rolled_over());
  EXPECT_EQ(content(f), "hello world");
  EXPECT_NO_THROW(f.sync());
  EXPECT_TRUE(entries().empty());
}

TEST_P(SpooledFile, RolloverOfAnEmptyFile) {
  auto f = make(10);
  f.rollover();
  EXPECT_TRUE(f.rolled_over());
  EXPECT_EQ(f.size(), 0);
  f.write("after");
  EXPECT_EQ(content(f), "after");
}

// CPython: test_multiple_close_before_rollover, test_multiple_close_after_rollover.
TEST_P(SpooledFile, MultipleCloseBeforeRollover) {
  auto f = make(30);
  f.write("abc");
  EXPECT_FALSE(f.rolled_over());
  f.close();
  f.close();
  EXPECT_TRUE(f.closed());
  EXPECT_FALSE(f.rolled_over());
}

TEST_P(SpooledFile, MultipleCloseAfterRollover) {
  auto f = make(1);
  f.write("abc");
  EXPECT_TRUE(f.rolled_over());
  f.close();
  f.close();
  EXPECT_TRUE(f.closed());
  EXPECT_FALSE(f.rolled_over()) << "a closed file is nowhere";
  EXPECT_TRUE(entries().empty());
}

// --- content and position across rollover ------------------------------------------------------

TEST_P(SpooledFile, ContentIdenticalAcrossRollover) {
  std::mt19937 rng(12345);
  const std::string data = random_bytes(300000, rng);
  auto f = make(100000);
  std::uniform_int_distribution<std::size_t> chunk(1, 5000);
  bool saw_memory_after_half = false;
  for (std::size_t at = 0; at < data.size();) {
    const std::size_t n = std::min(chunk(rng), data.size() - at);
    f.write(data.substr(at, n));
    at += n;
    if (at > 50000 && !f.rolled_over()) saw_memory_after_half = true;
    ASSERT_EQ(f.rolled_over(), at > 100000) << "at " << at;
  }
  EXPECT_TRUE(saw_memory_after_half);
  f.seek(0);
  EXPECT_EQ(f.read(), data);
}

TEST_P(SpooledFile, RandomOperationsMatchAModel) {
  for (std::uint32_t seed : {1u, 2u, 3u, 4u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    const std::size_t max = 2048u << (seed % 3);
    auto f = make(max);
    std::string model;
    std::size_t pos = 0;
    bool rolled = false;
    int steps_in_memory = 0;
    std::uniform_int_distribution<int> op(0, 9);
    std::uniform_int_distribution<std::size_t> len(0, 200);
    for (int step = 0; step < 3000; ++step) {
      SCOPED_TRACE("step " + std::to_string(step));
      switch (op(rng)) {
        case 0:
        case 1:
        case 2:
        case 3: {  // write
          const std::string bytes = random_bytes(len(rng), rng);
          f.write(bytes);
          if (!bytes.empty()) {
            if (model.size() < pos) model.resize(pos, '\0');
            model.replace(pos, std::min(bytes.size(), model.size() - pos), bytes);
            pos += bytes.size();
            rolled = rolled || pos > max;
          }
          break;
        }
        case 4:
        case 5: {  // read
          const std::size_t n = len(rng);
          const std::string got = f.read(n);
          const std::string want = pos < model.size() ? model.substr(pos, n) : std::string();
          ASSERT_EQ(got, want);
          pos += want.size();
          break;
        }
        case 6: {  // seek, sometimes past the end
          const std::size_t to =
              std::uniform_int_distribution<std::size_t>(0, model.size() + 300)(rng);
          f.seek(static_cast<std::int64_t>(to));
          pos = to;
          break;
        }
        case 7: {  // truncate, rarely past max_size
          const std::size_t to =
              std::uniform_int_distribution<std::size_t>(0, model.size() + max / 8)(rng);
          f.truncate(static_cast<std::int64_t>(to));
          model.resize(to, '\0');
          rolled = rolled || to > max;
          break;
        }
        case 8: {  // through the stream
          const std::string bytes = random_bytes(len(rng) / 8, rng);
          f.stream().write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
          if (!bytes.empty()) {
            if (model.size() < pos) model.resize(pos, '\0');
            model.replace(pos, std::min(bytes.size(), model.size() - pos), bytes);
            pos += bytes.size();
            rolled = rolled || pos > max;
          }
          break;
        }
        case 9: {  // everything, from the start
          f.seek(0);
          ASSERT_EQ(f.read(), model);
          pos = model.size();
          break;
        }
      }
      ASSERT_EQ(f.tell(), static_cast<std::int64_t>(pos));
      ASSERT_EQ(f.size(), static_cast<std::int64_t>(model.size()));
      ASSERT_EQ(f.rolled_over(), rolled);
      if (!rolled) ++steps_in_memory;
    }
    EXPECT_EQ(content(f), model);
    EXPECT_TRUE(rolled) << "the sequence should cross max_size at least once";
    EXPECT_GT(steps_in_memory, 20) << "and spend a while in memory first";
  }
  EXPECT_TRUE(entries().empty());
}

TEST_P(SpooledFile, StreamAndMemberFunctionsMixAcrossRollover) {
  auto f = make(16);
  f.stream() << "abc " << 123 << ' ';
  f.write("defg ");
  EXPECT_FALSE(f.rolled_over());
  EXPECT_EQ(f.tell(), 13);
  f.stream() << 4.5 << " tail";  // crosses max_size through the stream
  EXPECT_TRUE(f.rolled_over());
  f.stream().flush();
  EXPECT_EQ(content(f), "abc 123 defg 4.5 tail");
  f.seek(4);
  int number = 0;
  std::string word;
  double real = 0;
  f.stream() >> number >> word >> real;
  EXPECT_EQ(number, 123);
  EXPECT_EQ(word, "defg");
  EXPECT_EQ(real, 4.5);
  EXPECT_EQ(f.read(), " tail") << "read() continues where the stream stopped";
  f.stream().clear();
  f.stream().seekp(0);
  f.stream() << "ABC";
  EXPECT_EQ(f.read(4), " 123");
}

TEST_P(SpooledFile, StreamInMemory) {
  auto f = make(1000);
  f.stream() << "line one\nline two\n";
  f.seek(0);
  std::string line;
  ASSERT_TRUE(std::getline(f.stream(), line));
  EXPECT_EQ(line, "line one");
  EXPECT_EQ(f.tell(), 9);
  f.write("LINE");
  f.stream().seekg(0, std::ios_base::end);
  EXPECT_EQ(static_cast<std::streamoff>(f.stream().tellg()), 18);
  f.seek(0);
  EXPECT_EQ(f.read(), "line one\nLINE two\n");
  EXPECT_FALSE(f.rolled_over());
}

TEST_P(SpooledFile, PositionKeptAcrossRollover) {
  const std::string data(500, 'q');
  // Idle, in the middle of a read, right after a write, and past the end.
  for (int mode = 0; mode < 4; ++mode) {
    SCOPED_TRACE("mode " + std::to_string(mode));
    auto f = make(1000);
    f.write(data);
    std::int64_t expected = 500;
    if (mode == 0) expected = f.seek(123);
    if (mode == 1) {
      f.seek(100);
      EXPECT_EQ(f.read(10), std::string(10, 'q'));
      expected = 110;
    }
    if (mode == 3) expected = f.seek(700);
    f.rollover();
    EXPECT_TRUE(f.rolled_over());
    EXPECT_EQ(f.tell(), expected);
    EXPECT_EQ(f.size(), 500);
    f.write("!");
    f.seek(0);
    std::string want = data;
    if (static_cast<std::size_t>(expected) > want.size())
      want.resize(static_cast<std::size_t>(expected));
    want.replace(static_cast<std::size_t>(expected), 1, "!");
    EXPECT_EQ(f.read(), want);
  }
}

TEST_P(SpooledFile, ReadIntoAndPartialReads) {
  auto f = make(100);
  f.write("abcdef");
  f.seek(0);
  std::byte buf[4];
  EXPECT_EQ(f.readinto(buf), 4u);
  EXPECT_EQ(static_cast<char>(buf[3]), 'd');
  EXPECT_EQ(f.readinto(buf), 2u);
  EXPECT_EQ(f.readinto(buf), 0u) << "0 at the end";
  f.seek(1);
  EXPECT_EQ(f.read(3), "bcd");
  f.write("X");  // writing after reading continues at the position
  EXPECT_EQ(f.read(), "f");
  EXPECT_EQ(content(f), "abcdXf");
  EXPECT_FALSE(f.rolled_over());
}

// --- costs -------------------------------------------------------------------------------------

TEST_P(SpooledFile, InMemoryMakesNoSystemCall) {
  fault::reset();
  auto f = make(1 << 20);
  const auto before = all_calls();
  const auto opens = fault::calls(fault::call::open);
  for (int i = 0; i < 2000; ++i) {
    f.write("some bytes " + std::to_string(i) + "\n");
    if (i % 7 == 0) {
      f.seek(i, whence::set);
      (void)f.read(5);
      (void)f.tell();
      (void)f.size();
      f.seek(0, whence::end);
    }
    if (i % 100 == 0) {
      f.truncate(f.size() + 10);
      f.seek(0, whence::end);
      f.flush();
      f.sync();
      f.stream() << i << ' ';
      f.stream().flush();
    }
  }
  f.seek(0);
  std::string all = f.read();
  EXPECT_GT(all.size(), 20000u);
  EXPECT_FALSE(f.rolled_over());
  EXPECT_EQ(fault::calls(fault::call::open), opens);
  EXPECT_EQ(fault::calls(fault::call::write), 0u);
  EXPECT_EQ(fault::calls(fault::call::read), 0u);
  EXPECT_EQ(fault::calls(fault::call::lseek), 0u);
  EXPECT_EQ(fault::calls(fault::call::fstat), 0u);
  EXPECT_EQ(all_calls(), before) << "no system call of any kind";
  f.close();
  EXPECT_EQ(all_calls(), before) << "closing a file in memory needs no system call either";
}

TEST_P(SpooledFile, ConstructionMakesNoSystemCall) {
  fault::reset();
  {
    auto f = make(10);
    f.write("0123456789");
  }
  EXPECT_EQ(all_calls(), 0u);
}

// No timing assertion: a quadratic growth would make this take minutes, not fail.
TEST_P(SpooledFile, GeometricGrowthManySmallWrites) {
  constexpr std::uint32_t kWrites = 1000000;
  auto f = make(0);
  char record[32];
  for (std::uint32_t i = 0; i < kWrites; ++i) {
    std::fill(std::begin(record), std::end(record), static_cast<char>('a' + i % 26));
    std::memcpy(record, &i, sizeof i);
    f.write(std::string_view(record, sizeof record));
  }
  EXPECT_FALSE(f.rolled_over());
  ASSERT_EQ(f.size(), std::int64_t{kWrites} * 32);
  f.seek(0);
  const std::string all = f.read();
  ASSERT_EQ(all.size(), std::size_t{kWrites} * 32);
  for (std::uint32_t i = 0; i < kWrites; ++i) {
    std::uint32_t got = 0;
    std::memcpy(&got, all.data() + std::size_t{i} * 32, sizeof got);
    ASSERT_EQ(got, i);
    ASSERT_EQ(all[std::size_t{i} * 32 + 31], static_cast<char>('a' + i % 26));
  }
}

// --- where it goes -----------------------------------------------------------------------------

TEST_P(SpooledFile, RolledOverFileHasNoName) {
  for (bool o_tmpfile : {true, false}) {
    SCOPED_TRACE(o_tmpfile ? "O_TMPFILE" : "create then unlink");
    auto f = make(4);
    f.write("abc");
    if (!o_tmpfile) fault::fail(fault::call::open, 1, EOPNOTSUPP);
    f.write("defgh");
    EXPECT_TRUE(f.rolled_over());
    EXPECT_TRUE(entries().empty());
    EXPECT_EQ(content(f), "abcdefgh");
    fault::reset();
  }
}

TEST_P(SpooledFile, NoDescriptorLeaks) {
  const auto fds = tftest::open_fd_count();
  for (int i = 0; i < 50; ++i) {
    auto f = make(8);
    f.write("small");
    if (i % 2 == 0) f.write("and then larger");
    if (i % 3 == 0) f.close();
    auto moved = std::move(f);
  }
  EXPECT_EQ(tftest::open_fd_count(), fds);
}

// --- failures ----------------------------------------------------------------------------------

struct rollover_fault {
  const char* name;
  fault::call call;
  int error;
};

TEST_P(SpooledFile, FailedRolloverKeepsTheContentInMemory) {
  const rollover_fault faults[] = {
      {"open EACCES", fault::call::open, EACCES},
      {"open ENOSPC", fault::call::open, ENOSPC},
      {"write ENOSPC", fault::call::write, ENOSPC},
      {"write EIO", fault::call::write, EIO},
  };
  // Each way of asking for a rollover, with a failure injected into it.
  enum class trigger { write, rollover, native_handle, truncate, stream };
  const auto fds = tftest::open_fd_count();
  for (const rollover_fault& c : faults) {
    for (trigger how : {trigger::write, trigger::rollover, trigger::native_handle,
                        trigger::truncate, trigger::stream}) {
      SCOPED_TRACE(std::string(c.name) + ", trigger " + std::to_string(static_cast<int>(how)));
      auto f = make(30);
      f.write(std::string(20, 'a'));
      f.seek(5);
      fault::fail(c.call, 1, c.error, 0);  // every attempt fails until reset
      try {
        switch (how) {
          case trigger::write: f.write(std::string(40, 'b')); break;
          case trigger::rollover: f.rollover(); break;
          case trigger::native_handle: (void)f.native_handle(); break;
          case trigger::truncate: f.truncate(100); break;
          case trigger::stream: f.stream() << std::string(40, 'b') << std::flush; break;
        }
        ADD_FAILURE() << "no exception";
      } catch (const fs::filesystem_error& e) {
        EXPECT_EQ(e.code().value(), c.error);
        EXPECT_EQ(e.path1(), dir()) << e.what();
        EXPECT_NE(std::string(e.what()).find(dir().string()), std::string::npos) << e.what();
      }
      if (how == trigger::stream) f.stream().clear();
      EXPECT_FALSE(f.rolled_over());
      EXPECT_EQ(f.tell(), 5) << "the position is kept";
      EXPECT_EQ(f.size(), 20) << "the failed write added nothing";
      EXPECT_EQ(content(f), std::string(20, 'a'));
      // Still usable in memory...
      f.write("ccc");
      EXPECT_EQ(content(f), std::string(5, 'a') + "ccc" + std::string(12, 'a'));
      EXPECT_FALSE(f.rolled_over());
      EXPECT_TRUE(entries().empty());
      // ...and a later rollover, once the disk works again, moves everything.
      fault::reset();
      f.seek(0, whence::end);
      f.write(std::string(20, 'd'));
      EXPECT_TRUE(f.rolled_over());
      EXPECT_EQ(content(f),
                std::string(5, 'a') + "ccc" + std::string(12, 'a') + std::string(20, 'd'));
    }
  }
  EXPECT_EQ(tftest::open_fd_count(), fds);
  EXPECT_TRUE(entries().empty());
}

TEST_P(SpooledFile, FailedRolloverIntoAMissingDirectory) {
  const fs::path missing = dir() / "missing";
  spooled_temporary_file f({.dir = missing, .max_size = 4});
  f.write("abcd");
  try {
    f.write("e");
    ADD_FAILURE() << "no exception";
  } catch (const fs::filesystem_error& e) {
    EXPECT_EQ(e.code(), std::errc::no_such_file_or_directory);
    EXPECT_EQ(e.path1(), missing);
  }
  EXPECT_FALSE(f.rolled_over());
  EXPECT_EQ(content(f), "abcd");
}

// After rollover every OS failure names the directory the file went to (it has no name).
TEST_P(SpooledFile, ErrorsAfterRolloverNameTheDirectory) {
  const rollover_fault faults[] = {
      {"pwrite", fault::call::write, ENOSPC},     {"pread", fault::call::read, EIO},
      {"ftruncate", fault::call::ftruncate, EIO}, {"fstat", fault::call::fstat, EIO},
      {"lseek", fault::call::lseek, EIO},         {"fsync", fault::call::fsync, EIO},
      {"close", fault::call::close, EIO},
  };
  for (const rollover_fault& c : faults) {
    SCOPED_TRACE(c.name);
    auto f = make(4);
    f.write("abcdef");
    ASSERT_TRUE(f.rolled_over());
    f.seek(0);
    fault::fail(c.call, 1, c.error);
    try {
      switch (c.call) {
        case fault::call::write: f.write(std::string(1 << 17, 'w')); break;
        case fault::call::read: (void)f.read(); break;
        case fault::call::ftruncate: f.truncate(2); break;
        case fault::call::fstat: (void)f.size(); break;
        case fault::call::lseek: (void)f.native_handle(); break;
        case fault::call::fsync: f.sync(); break;
        default: f.close(); break;
      }
      ADD_FAILURE() << "no exception";
    } catch (const fs::filesystem_error& e) {
      EXPECT_EQ(e.code().value(), c.error);
      EXPECT_EQ(e.path1(), dir()) << e.what();
      EXPECT_NE(std::string(e.what()).find(dir().string()), std::string::npos) << e.what();
    }
    fault::reset();
  }
}

TEST_P(SpooledFile, ClosedFileOperationsThrowLogicError) {
  for (bool rolled : {false, true}) {
    SCOPED_TRACE(rolled ? "after rollover" : "in memory");
    auto f = make(4);
    f.write(rolled ? "abcdef" : "ab");
    ASSERT_EQ(f.rolled_over(), rolled);
    f.close();
    std::byte buf[4];
    EXPECT_THROW(f.write("x"), std::logic_error);
    EXPECT_THROW(f.readinto(buf), std::logic_error);
    EXPECT_THROW((void)f.read(), std::logic_error);
    EXPECT_THROW(f.seek(0), std::logic_error);
    EXPECT_THROW((void)f.tell(), std::logic_error);
    EXPECT_THROW((void)f.size(), std::logic_error);
    EXPECT_THROW(f.truncate(0), std::logic_error);
    EXPECT_THROW(f.flush(), std::logic_error);
    EXPECT_THROW(f.sync(), std::logic_error);
    EXPECT_THROW(f.stream(), std::logic_error);
    EXPECT_THROW((void)f.native_handle(), std::logic_error);
    EXPECT_THROW(f.rollover(), std::logic_error);
    EXPECT_FALSE(f.rolled_over());
    EXPECT_NO_THROW(f.close());
  }
}

TEST_P(SpooledFile, StreamKeptPastCloseThrowsLogicError) {
  for (bool rolled : {false, true}) {
    SCOPED_TRACE(rolled ? "after rollover" : "in memory");
    auto f = make(4);
    f.write(rolled ? "abcdef" : "ab");
    std::iostream& s = f.stream();
    f.close();
    EXPECT_THROW(s << "x" << std::flush, std::logic_error);
    s.clear();
    std::string word;
    EXPECT_THROW(s >> word, std::logic_error);
  }
}

// read(n) means "up to n bytes": a count far beyond the content must not be allocated up front.
TEST_P(SpooledFile, ReadWithAHugeCountReturnsTheRest) {
  for (bool rolled : {false, true}) {
    SCOPED_TRACE(rolled ? "after rollover" : "in memory");
    auto f = make(4);
    f.write(rolled ? "abcdef" : "abc");
    f.seek(1);
    EXPECT_EQ(f.read(tempfile::file::npos - 1), rolled ? "bcdef" : "bc");
  }
}

TEST_P(SpooledFile, MovedFromIsEmpty) {
  for (bool rolled : {false, true}) {
    SCOPED_TRACE(rolled ? "after rollover" : "in memory");
    auto f = make(4);
    f.write(rolled ? "abcdef" : "ab");
    spooled_temporary_file g(std::move(f));
    EXPECT_FALSE(f.rolled_over());  // NOLINT(bugprone-use-after-move): specified state
    EXPECT_TRUE(f.closed());
    EXPECT_THROW(f.write("x"), std::logic_error);
    EXPECT_THROW(f.rollover(), std::logic_error);
    EXPECT_NO_THROW(f.close());
    EXPECT_EQ(g.rolled_over(), rolled);
    EXPECT_EQ(g.tell(), rolled ? 6 : 2);
    EXPECT_EQ(content(g), rolled ? "abcdef" : "ab");

    auto h = make(100);
    h.write("to be replaced");
    h = std::move(g);
    EXPECT_FALSE(g.rolled_over());  // NOLINT(bugprone-use-after-move): specified state
    EXPECT_EQ(h.rolled_over(), rolled);
    EXPECT_EQ(content(h), rolled ? "abcdef" : "ab");
  }
}

TEST_P(SpooledFile, BadOptionsAreRejectedAtConstruction) {
  EXPECT_THROW(spooled_temporary_file({.dir = dir(), .random_length = 2}), std::invalid_argument);
  EXPECT_THROW(spooled_temporary_file({.prefix = "a/b", .dir = dir()}), std::invalid_argument);
}

TEST_P(SpooledFile, RolledOverFileUsesTheOptionsMode) {
  // The named fallback shows the mode the file was created with before it is unlinked; with
  // O_TMPFILE it is visible through the descriptor.
  spooled_temporary_file f({.dir = dir(), .max_size = 1, .mode = static_cast<fs::perms>(0640)});
  tftest::scoped_umask mask(022);
  f.write("ab");
  ASSERT_TRUE(f.rolled_over());
  struct stat st {};
  ASSERT_EQ(::fstat(f.native_handle(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
}

}  // namespace
